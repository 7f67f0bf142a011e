//! Recovery: the offline queue sent through the sans-IO client to the scripted KSeF, oldest
//! deadline first, with `offlineMode: true`; outcomes mapped back and checked by hash.

mod fake_ksef;

use fake_ksef::{invoice, Fake, T0, TOKEN};
use ksef::id::Nip;
use ksef::model::Date;
use ksef::offline::deadline::Mode;
use ksef::offline::queue::{OfflineQueue, Status};
use ksef::protocol::{Client, Config, Credentials, Event, FormCode, Output, SessionResult};
use ksef::retry::RetryPolicy;
use ksef::{Environment, ErrorCode};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn client() -> Client {
    let nip = Nip::parse("9999999999").unwrap();
    let cfg = Config::with_base_url("http://fake/v2", nip)
        .retry(RetryPolicy::new(6, 200, 5_000, 600_000))
        .polling(500, 60_000);
    Client::new(cfg, Credentials::ksef_token(TOKEN), [9; 32])
}

fn finished(client: &mut Client) -> Option<SessionResult> {
    while let Some(e) = client.poll_event() {
        if let Event::Finished { result, .. } = e {
            match result {
                Ok(Output::Online(r)) => return Some(r),
                other => panic!("{other:?}"),
            }
        }
    }
    None
}

/// Pump the client against the fake until the operation finishes.
fn pump(client: &mut Client, fake: &mut Fake) -> SessionResult {
    let mut now = T0;
    for _ in 0..100_000 {
        if let Some(r) = finished(client) {
            return r;
        }
        if let Some(tx) = client.poll_transmit(now) {
            now += 3;
            let r = fake.handle(now, &tx.request);
            client.handle_response(now, tx.id, r);
            continue;
        }
        match client.poll_timeout() {
            Some(t) => now = t.max(now),
            None => break,
        }
    }
    if let Some(r) = finished(client) {
        return r;
    }
    panic!("the operation did not finish");
}

fn rejected_invoice() -> Vec<u8> {
    String::from_utf8(invoice(9))
        .unwrap()
        .replace("<P_2>FV/TEST/00009</P_2>", "<P_2>REJECT-ME</P_2>")
        .into_bytes()
}

fn queue() -> OfflineQueue {
    let mut q = OfflineQueue::new(Environment::Test);
    let mut rng = rand_core::OsRng;
    q.issue(
        "late",
        &invoice(1),
        Mode::Emergency {
            ended: d("2026-04-02"),
        },
        None,
        &mut rng,
    )
    .unwrap(); // → 14 April
    q.issue(
        "early",
        &invoice(2),
        Mode::Offline24 {
            issued: d("2026-04-03"),
        },
        None,
        &mut rng,
    )
    .unwrap(); // → 7 April
    q.issue(
        "bad",
        &rejected_invoice(),
        Mode::Offline24 {
            issued: d("2026-04-08"),
        },
        None,
        &mut rng,
    )
    .unwrap(); // → 9 April
    q.issue("paper", &invoice(3), Mode::TotalFailure, None, &mut rng)
        .unwrap();
    q
}

#[test]
fn recovery_sends_everything_once_in_deadline_order() {
    let mut q = queue();
    let mut fake = Fake::new();
    let mut c = client();
    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    assert_eq!(plan.ids, ["early", "bad", "late", "paper"]);
    assert!(plan.send.offline_mode);
    c.send_online(plan.send.clone());
    let result = pump(&mut c, &mut fake);
    assert_eq!(fake.offline_flags, [true; 4]);

    let report = q.apply_online(&plan, &result, d("2026-04-08")).unwrap();
    let accepted: Vec<&str> = report.accepted.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(accepted, ["early", "late", "paper"]);
    assert_eq!(report.missed_deadline, ["early"]);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].0, "bad");
    assert_eq!(report.rejected[0].1, 450);
    assert!(report.open.is_empty());

    // Each KSeF number is the one KSeF holds for that invoice, and the invoice's KOD I hash
    // is the hash KSeF reported for it.
    for (id, n) in &report.accepted {
        let inv = q.get(id).unwrap();
        assert_eq!(inv.ksef_number(), Some(n.as_str()));
        let p2 = String::from_utf8(inv.xml.clone()).unwrap();
        let p2 = p2
            .split("<P_2>")
            .nth(1)
            .unwrap()
            .split("</P_2>")
            .next()
            .unwrap();
        assert_eq!(fake.held[p2].1, *n);
        let o = &result.invoices[plan.ids.iter().position(|i| i == id).unwrap()];
        assert_eq!(o.status.as_ref().unwrap().invoice_hash, inv.hash);
        assert!(inv
            .kod1_url
            .ends_with(&inv.sha256().base64url_into(&mut [0; 43]).to_string()));
    }
    assert_eq!(fake.held.len(), 3);
    assert!(matches!(
        q.get("bad").unwrap().status,
        Status::Rejected { code: 450, .. }
    ));

    // Nothing is left to send; a restart from the snapshot agrees.
    assert!(q.plan_online(FormCode::Fa3, 100).is_none());
    let q2 = OfflineQueue::restore_cbor(&q.snapshot_cbor()).unwrap();
    assert!(q2.plan_online(FormCode::Fa3, 100).is_none());
    assert!(q2.plan_online(FormCode::Fa2, 100).is_none());
    assert!(q2.overdue(d("2030-01-01")).is_empty());
}

#[test]
fn plan_respects_max_and_skips_corrections() {
    let mut q = queue();
    let plan = q.plan_online(FormCode::Fa3, 2).unwrap();
    assert_eq!(plan.ids, ["early", "bad"]);
    assert_eq!(plan.send.invoices[0], invoice(2), "byte for byte");
    q.mark_rejected("bad", 450, "x").unwrap();
    q.technical_correction("bad", "bad-fix", &invoice(8))
        .unwrap();
    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    assert_eq!(plan.ids, ["early", "late", "paper"]);
}

#[test]
fn a_crash_before_recording_resends_and_duplicates_are_reported() {
    let mut q = queue();
    let mut fake = Fake::new();
    let mut c = client();
    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    c.send_online(plan.send.clone());
    let _lost = pump(&mut c, &mut fake); // the host stops before apply_online

    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    assert_eq!(plan.ids.len(), 4);
    c.send_online(plan.send.clone());
    let result = pump(&mut c, &mut fake);
    let report = q.apply_online(&plan, &result, d("2026-04-08")).unwrap();
    // KSeF holds each invoice once; the resent ones come back as duplicates naming the
    // original KSeF number.
    assert_eq!(fake.held.len(), 3);
    assert!(report.accepted.is_empty());
    let dup = report.rejected.iter().find(|r| r.0 == "early").unwrap();
    assert_eq!(dup.1, 440);
    assert!(dup.2.contains(&fake.held["FV/TEST/00002"].1), "{}", dup.2);
}

#[test]
fn a_hash_that_does_not_match_kod1_changes_nothing() {
    let mut q = queue();
    let mut fake = Fake::new();
    let mut c = client();
    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    c.send_online(plan.send.clone());
    let mut result = pump(&mut c, &mut fake);
    result.invoices[1].status.as_mut().unwrap().invoice_hash = "AAAA".into();
    let before = q.clone();
    let e = q.apply_online(&plan, &result, d("2026-04-08")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::IntegrityCheck);
    assert_eq!(q, before);
    // A result of another plan is refused too.
    let mut short = result.clone();
    short.invoices.pop();
    let e = q.apply_online(&plan, &short, d("2026-04-08")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineState);
    assert_eq!(q, before);
}

/// A rejected offline invoice gets its technical correction: sent alone, offline, with
/// `hashOfCorrectedInvoice` = the rejected file's hash (the hash in its KOD I), accepted.
#[test]
fn a_rejected_invoice_is_sent_again_as_a_technical_correction() {
    let mut q = queue();
    let mut fake = Fake::new();
    let mut c = client();
    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    c.send_online(plan.send.clone());
    let result = pump(&mut c, &mut fake);
    let report = q.apply_online(&plan, &result, d("2026-04-08")).unwrap();
    assert!(
        report.rejected.iter().any(|r| r.0 == "bad" && r.1 == 450),
        "{report:?}"
    );
    // Only a queued correction of a rejected invoice makes a plan.
    assert!(q.plan_correction("bad").is_none());
    assert!(q.plan_correction("early").is_none());
    let fixed = String::from_utf8(invoice(9)).unwrap().into_bytes();
    q.technical_correction("bad", "bad-fix", &fixed).unwrap();
    let plan = q.plan_correction("bad-fix").unwrap();
    assert_eq!(plan.ids, ["bad-fix"]);
    assert_eq!(plan.send.invoices, vec![fixed]);
    assert!(plan.send.offline_mode);
    let before = fake.corrected_hashes.len();
    c.send_online(plan.send.clone());
    let result = pump(&mut c, &mut fake);
    let report = q.apply_online(&plan, &result, d("2026-04-09")).unwrap();
    assert_eq!(report.accepted.len(), 1, "{report:?}");
    let rejected_hash = ksef::crypto::hash::sha256(&rejected_invoice()).to_base64();
    assert_eq!(fake.corrected_hashes[before..], [Some(rejected_hash)]);
    assert_eq!(fake.offline_flags.last(), Some(&true));
    // A correction is sent once: after acceptance there is nothing more to plan.
    assert!(q.plan_correction("bad-fix").is_none());
}
