//! Token auth → online session → 3 invoices → close → KSeF numbers → UPOs, over loopback HTTP.

use ksef::id::KsefNumber;
use ksef::protocol::{upo::Upo, FormCode, OnlineSend, Output};
use ksef_e2e::*;

#[test]
fn token_auth_online_session_three_invoices_with_upos() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, "online");
    let mut c = token_client(&sim, 1);
    let op = c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(|n| invoice("ONL", n)).collect(),
    ));
    let mut events = Vec::new();
    let Output::Online(r) = run_op(&mut c, op, &mut t, &mut events) else {
        panic!("not an online result")
    };
    assert_eq!(r.accepted(), 3, "{:?}", r.invoices);
    for o in &r.invoices {
        let n = KsefNumber::parse(o.ksef_number.as_deref().unwrap()).unwrap();
        let upo = Upo::parse(o.upo.as_ref().unwrap()).unwrap();
        assert!(upo.document(&n).is_some(), "UPO names the invoice");
    }
    assert!(!r.session_upo.is_empty());
    let accepted = sim.accepted_invoices();
    assert_eq!(accepted.len(), 3);
}
