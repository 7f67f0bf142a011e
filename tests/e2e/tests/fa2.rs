//! FA(2) invoices: accepted on TEST, refused on DEMO (FA(3) only) with a typed error when the
//! session is opened, before anything is sent.

use ksef::error::ErrorCode;
use ksef::protocol::{FormCode, OnlineSend, Output};
use ksef_e2e::*;
use ksef_sim::Environment;

/// Official FA(2) sample 01 (seller 9999999999), numbered `FV/FA2/<n>`.
fn fa2(n: usize) -> Vec<u8> {
    let xml = std::fs::read_to_string(spec_dir().join("samples/fa2/FA_2_Przyklad_01.xml"))
        .expect("FA(2) sample 01");
    assert!(xml.contains("<P_2>FV2022/02/150</P_2>"));
    xml.replace(
        "<P_2>FV2022/02/150</P_2>",
        &format!("<P_2>FV/FA2/{n:05}</P_2>"),
    )
    .into_bytes()
}

#[test]
fn fa2_accepted_on_test() {
    let sim = Sim::start(SimConfig::default().with_environment(Environment::Test)).expect("sim");
    let mut t = transport(&sim, "fa2-test");
    let mut c = token_client(&sim, 71);
    let op = c.send_online(OnlineSend::new(FormCode::Fa2, vec![fa2(0), fa2(1)]));
    let r = online(&mut c, op, &mut t);
    assert_eq!(r.accepted(), 2, "{:?}", r.invoices);
    assert_eq!(sim.accepted_invoices().len(), 2);
}

#[test]
fn fa2_refused_on_demo_with_a_typed_error() {
    let sim = Sim::start(SimConfig::default().with_environment(Environment::Demo)).expect("sim");
    let mut t = transport(&sim, "fa2-demo");
    let mut c = token_client(&sim, 72);
    let op = c.send_online(OnlineSend::new(FormCode::Fa2, vec![fa2(0)]));
    let e = try_op(&mut c, op, &mut t).expect_err("FA(2) refused on DEMO");
    assert_eq!(e.code(), ErrorCode::ApiError, "{e}");
    assert!(e.path().contains("POST /sessions/online"), "{e}");
    assert!(e.message().contains("21405"), "{e}");
    assert!(sim.accepted_invoices().is_empty());
    // FA(3) is fine there.
    let op = c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice("FA3DEMO", 0)]));
    let Output::Online(r) = try_op(&mut c, op, &mut t).expect("FA(3) on DEMO") else {
        panic!("not an online result")
    };
    assert_eq!(r.accepted(), 1);
}
