//! KSeF down → invoices issued offline with QR codes → a restart → KSeF back → all sent with
//! `offlineMode`, each accepted exactly once, KSeF's invoice hash equal to the hash in KOD I.

use ksef::crypto::session::SessionKey;
use ksef::model::Date;
use ksef::offline::deadline::Mode;
use ksef::offline::queue::{Kod2Signer, OfflineQueue};
use ksef::protocol::batch::{prepare_batch, BatchOptions, MemoryParts};
use ksef::protocol::{BatchSend, Clock, FormCode, OnlineSend, Output, SystemClock};
use ksef::qr::ContextType;
use ksef::retry::RetryPolicy;
use ksef::Environment;
use ksef_e2e::*;
use rand_chacha::rand_core::SeedableRng;

#[test]
fn ksef_down_offline_queue_then_recovery() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, "offline");
    sim.faults().set_unavailable_retry_after(1);
    sim.faults().set_unavailable(true);

    // The online attempt fails: the shop switches to offline.
    let cfg = config(&sim).retry(RetryPolicy::new(1, 10, 50, 500));
    let mut impatient = ksef::protocol::Client::new(
        cfg,
        ksef::protocol::Credentials::ksef_token("test-token-any"),
        [3; 32],
    );
    let op = impatient.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice("OFF", 0)]));
    assert!(try_op(&mut impatient, op, &mut t).is_err());

    let (key, cert) = fixture_cert("ec");
    let serial = cert.serial_hex();
    let signer = Kod2Signer {
        context_type: ContextType::Nip,
        context_value: NIP,
        certificate_serial: &serial,
        key: &key,
    };
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    let issued: Date = "2026-02-15".parse().unwrap();
    let mut q = OfflineQueue::new(Environment::Test);
    for n in 0..5 {
        let inv = q
            .issue(
                &format!("OFF-{n}"),
                &invoice("OFF", n),
                Mode::Offline24 { issued },
                Some(&signer),
                &mut rng,
            )
            .unwrap();
        assert!(inv
            .kod1_url
            .starts_with("https://qr-test.ksef.mf.gov.pl/invoice/9999999999/15-02-2026/"));
        assert!(inv
            .kod2_url
            .as_deref()
            .unwrap()
            .contains(&format!("/{serial}/")));
    }
    assert!(sim.accepted_invoices().is_empty());

    // The host restarts from its snapshot; KSeF is back.
    let mut q = OfflineQueue::restore_cbor(&q.snapshot_cbor()).unwrap();
    sim.faults().set_unavailable(false);
    let plan = q.plan_online(FormCode::Fa3, 100).unwrap();
    let mut c = token_client(&sim, 4);
    let op = c.send_online(plan.send.clone());
    let result = online(&mut c, op, &mut t);
    // `today` is only a fallback: the received day is KSeF's acquisitionDate.
    let report = q.apply_online(&plan, &result, issued).unwrap();
    assert_eq!(report.accepted.len(), 5, "{report:?}");
    // Issued 2026-02-15 in offline24 (deadline 2026-02-16) but received by KSeF now: late.
    let now_s = (SystemClock.now_ms() / 1000) as i64;
    let received = ksef::offline::calendar::warsaw_date(now_s).unwrap();
    assert_eq!(report.missed_deadline.len(), 5, "{report:?}");
    for inv in q.invoices() {
        let r = inv.received.expect("received day recorded");
        assert!(r == received || r.add_days(1) == Some(received), "{r}");
        assert!(inv.missed_deadline());
    }

    let accepted = sim.accepted_invoices();
    assert_eq!(accepted.len(), 5, "each invoice accepted exactly once");
    for inv in q.invoices() {
        let held: Vec<_> = accepted
            .iter()
            .filter(|a| a.invoice_hash == inv.hash)
            .collect();
        assert_eq!(held.len(), 1, "{}", inv.id);
        assert_eq!(inv.ksef_number(), Some(held[0].ksef_number.as_str()));
        let kod1_hash = inv.kod1_url.rsplit('/').next().unwrap();
        let mut b = [0u8; 43];
        assert_eq!(kod1_hash, inv.sha256().base64url_into(&mut b));
    }
    assert!(q.plan_online(FormCode::Fa3, 100).is_none());
}

/// Recovery of many invoices through a batch session (`offlineMode: true`), oldest deadline
/// first, outcomes mapped back to the queue by the file names inside the ZIP.
#[test]
fn offline_queue_recovered_through_a_batch_session() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, "offline-batch");
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
    let issued: Date = "2026-02-15".parse().unwrap();
    let mut q = OfflineQueue::new(Environment::Test);
    for n in 0..30 {
        q.issue(
            &format!("B/{n}"),
            &invoice("OFB", n),
            Mode::Offline24 { issued },
            None,
            &mut rng,
        )
        .unwrap();
    }
    let plan = q.plan_batch(FormCode::Fa3, 20).expect("a batch");
    assert_eq!(plan.ids.len(), 20, "at most `max` invoices per batch");
    assert!(plan
        .names
        .iter()
        .all(|n| n.ends_with(".xml") && !n.contains('/')));
    let key = SessionKey::generate(&mut rng);
    let mut parts = MemoryParts::default();
    let prepared = prepare_batch(plan.entries(), &key, &BatchOptions::default(), &mut parts)
        .expect("prepared");
    let mut send = BatchSend::new(FormCode::Fa3, prepared, key, Box::new(parts));
    send.offline_mode = true;
    let mut c = token_client(&sim, 7);
    let op = c.send_batch(send);
    let Output::Batch(result) = try_op(&mut c, op, &mut t).expect("batch") else {
        panic!("not a batch result")
    };
    let report = q.apply_batch(&plan, &result, issued).unwrap();
    assert_eq!(report.accepted.len(), 20, "{report:?}");
    // the rest in a second batch, then nothing is left
    let plan2 = q.plan_batch(FormCode::Fa3, 20).expect("the rest");
    assert_eq!(plan2.ids.len(), 10);
    assert!(plan2.ids.iter().all(|id| !plan.ids.contains(id)));
    let accepted = sim.accepted_invoices();
    for id in &plan.ids {
        let inv = q.get(id).unwrap();
        let held: Vec<_> = accepted
            .iter()
            .filter(|a| a.invoice_hash == inv.hash)
            .collect();
        assert_eq!(held.len(), 1, "{id}");
        assert_eq!(inv.ksef_number(), Some(held[0].ksef_number.as_str()));
    }
}
