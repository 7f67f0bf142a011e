//! Onboarding over loopback HTTP: a KSeF token generated after XAdES authentication
//! authenticates a new client; an `Offline` KSeF certificate carries our key and signs a
//! KOD II link that verifies; authenticated sessions listed and one ended; the connection
//! test (ok, wrong token, KSeF unavailable, KSeF unreachable).

use ksef::crypto::keys::PrivateKey;
use ksef::error::ErrorCode;
use ksef::protocol::{
    CertificateType, Client, ConnectionVerdict, Credentials, Output, TokenPermission,
};
use ksef::qr::{sign, ContextType, InvoiceLink};
use ksef::retry::RetryPolicy;
use ksef::Environment;
use ksef_e2e::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const FIXED_TOKEN: &str = "e2e-fixed-token";

fn verdict(c: &mut Client, t: &mut dyn ksef::http::Transport) -> ConnectionVerdict {
    let op = c.test_connection();
    match try_op(c, op, t) {
        Ok(Output::Connection(v)) => v,
        other => panic!("not a verdict: {other:?}"),
    }
}

fn failed_step(v: &ConnectionVerdict) -> (&'static str, ErrorCode) {
    v.steps
        .iter()
        .find_map(|(s, r)| r.as_ref().err().map(|e| (*s, e.code())))
        .expect("a failed step")
}

#[test]
fn token_certificate_sessions_and_connection_test() {
    // Only the fixed token and tokens made with POST /tokens authenticate.
    let sim = Sim::start(SimConfig::default().with_ksef_token(NIP, FIXED_TOKEN)).expect("sim");
    let mut t = transport(&sim, "onboarding");
    let mut admin = cert_client(&sim, "ec", 61);

    // A KSeF token, after XAdES authentication; a new client logs in with it.
    let op = admin.generate_token(
        vec![TokenPermission::InvoiceWrite, TokenPermission::InvoiceRead],
        "e2e onboarding",
    );
    let Output::Token(g) = try_op(&mut admin, op, &mut t).expect("token") else {
        panic!("not a token")
    };
    assert_eq!(g.status, "Active");
    let mut user = Client::new(
        config(&sim),
        Credentials::ksef_token(g.token.clone()),
        [62; 32],
    );
    let r = send_online(&mut user, &mut t, vec![invoice("ONB", 0)]);
    assert_eq!(r.accepted(), 1);
    let user_session = user.auth_reference().expect("authenticated").to_string();

    // An Offline certificate: our key inside, and it signs KOD II links that verify.
    let op = admin.enroll_certificate("e2e offline", CertificateType::Offline);
    let Output::Certificate(cert) = try_op(&mut admin, op, &mut t).expect("enrolled") else {
        panic!("not a certificate")
    };
    assert!(
        cert.certificate.matches_key(&cert.key),
        "the certificate carries our key"
    );
    assert!(matches!(cert.key, PrivateKey::EcP256(_)));
    let xml = invoice("ONB", 1);
    let link = InvoiceLink::from_invoice_xml(Environment::Test, &xml).expect("KOD I");
    let serial = cert.certificate.serial_hex();
    assert_eq!(
        serial, cert.serial_number,
        "the API's serial is the certificate's"
    );
    assert!(
        serial.len() == 16
            && serial
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "16 uppercase hex digits (the API's pattern): {serial}"
    );
    let kod2 = link
        .certificate_link(ContextType::Nip, NIP, &serial)
        .expect("KOD II");
    let mut rng = ChaCha20Rng::from_seed([63; 32]);
    let signature = sign::sign(&kod2, &cert.key, &mut rng).expect("signed");
    let public = cert.certificate.public_key().expect("public key");
    sign::verify(&kod2, &public, &signature).expect("the KOD II signature verifies");
    let url = kod2.url(&signature).expect("url");
    assert!(url.starts_with("https://qr-test.ksef.mf.gov.pl/certificate/Nip/"));
    // Another key's signature does not verify with this certificate.
    let (other_key, _) = fixture_cert("ec");
    let forged = sign::sign(&kod2, &other_key, &mut rng).expect("signed");
    assert!(sign::verify(&kod2, &public, &forged).is_err());

    // Authenticated sessions: listed, and the token user's one ended.
    let op = admin.list_auth_sessions();
    let Output::AuthSessions(list) = try_op(&mut admin, op, &mut t).expect("list") else {
        panic!("not a list")
    };
    assert!(list.iter().any(|s| s.is_current));
    assert!(list
        .iter()
        .any(|s| s.reference == user_session && !s.is_current));
    let op = admin.terminate_auth_session(user_session.clone());
    try_op(&mut admin, op, &mut t).expect("terminated");
    let op = admin.list_auth_sessions();
    let Output::AuthSessions(after) = try_op(&mut admin, op, &mut t).expect("list") else {
        panic!("not a list")
    };
    assert!(
        !after.iter().any(|s| s.reference == user_session),
        "{after:#?}"
    );

    // The connection test: OK with the generated token...
    let v = verdict(&mut user, &mut t);
    assert!(v.ok, "{}", v.summary());
    assert!(v.auth_reference.is_some());
    // ...not OK with a wrong token, naming the authentication...
    let mut wrong = Client::new(config(&sim), Credentials::ksef_token("wrong"), [64; 32]);
    let v = verdict(&mut wrong, &mut t);
    assert!(!v.ok);
    let (step, code) = failed_step(&v);
    assert!(step.starts_with("authentication"), "{}", v.summary());
    assert_eq!(code, ErrorCode::AuthFailed, "{}", v.summary());

    // ...and naming KSeF itself when it is unavailable (503)...
    sim.faults().set_unavailable_retry_after(1);
    sim.faults().set_unavailable(true);
    let quick = config(&sim).retry(RetryPolicy::new(2, 20, 100, 10_000));
    let mut c = Client::new(
        quick.clone(),
        Credentials::ksef_token(FIXED_TOKEN),
        [65; 32],
    );
    let v = verdict(&mut c, &mut t);
    assert!(!v.ok);
    assert_eq!(failed_step(&v).0, "reach KSeF", "{}", v.summary());
    sim.faults().set_unavailable(false);
    // ...or unreachable.
    let base = sim.base_url();
    drop(sim);
    let mut cfg = quick;
    cfg.base_url = base;
    let mut c = Client::new(cfg, Credentials::ksef_token(FIXED_TOKEN), [66; 32]);
    let v = verdict(&mut c, &mut t);
    assert!(!v.ok);
    assert_eq!(failed_step(&v).0, "reach KSeF", "{}", v.summary());
}
