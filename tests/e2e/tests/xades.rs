//! XAdES authentication with the EC and the RSA test certificates, then an online send; a
//! certificate the simulator does not know is refused with `AuthFailed`.

use ksef::error::ErrorCode;
use ksef::protocol::{Client, Credentials, FormCode, OnlineSend};
use ksef_e2e::*;

fn xades_then_send(kind: &str, tag: &str, seed: u8) {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, &format!("xades-{kind}"));
    let mut c = cert_client(&sim, kind, seed);
    let r = send_online(&mut c, &mut t, (0..2).map(|n| invoice(tag, n)).collect());
    assert_eq!(r.accepted(), 2, "{:?}", r.invoices);
    let log = sim.request_log();
    assert!(
        log.iter()
            .any(|l| l.method == "POST" && l.path.ends_with("/auth/xades-signature")),
        "authenticated by XAdES"
    );
    assert!(!log.iter().any(|l| l.path.ends_with("/auth/ksef-token")));
    assert_eq!(sim.accepted_invoices().len(), 2);
}

#[test]
fn xades_with_ec_certificate_then_online_send() {
    xades_then_send("ec", "XEC", 21);
}

#[test]
fn xades_with_rsa_certificate_then_online_send() {
    xades_then_send("rsa", "XRSA", 22);
}

#[test]
fn xades_with_a_certificate_not_allowed_fails_with_auth_failed() {
    let (_, ec) = fixture_cert("ec");
    let fp: String = ec
        .sha256_fingerprint()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let sim = Sim::start(SimConfig::default().with_certificate_fingerprint(&fp)).expect("sim");
    let mut t = transport(&sim, "xades-wrong");
    // The allowed certificate works...
    let mut ok = cert_client(&sim, "ec", 23);
    let op = ok.authenticate();
    try_op(&mut ok, op, &mut t).expect("the allowed certificate authenticates");
    // ...the other one does not, and nothing is sent.
    let (key, cert) = fixture_cert("rsa");
    let mut c = Client::new(config(&sim), Credentials::certificate(key, cert), [24; 32]);
    let op = c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice("XW", 0)]));
    let e = try_op(&mut c, op, &mut t).expect_err("refused");
    assert_eq!(e.code(), ErrorCode::AuthFailed, "{e}");
    assert!(sim.accepted_invoices().is_empty());
    assert!(!sim
        .request_log()
        .iter()
        .any(|l| l.path.ends_with("/sessions/online")));
}
