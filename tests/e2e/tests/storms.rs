//! 429 and 5xx storms, dropped connections before and after processing, and a stretch of
//! unavailability, on every call of an online session: every invoice ends accepted exactly
//! once (the sim holds each invoice number once; our own lost first attempts come back as
//! `deduplicated`). A duplicate of an invoice from an earlier session stays an error.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ksef::error::ErrorCode;
use ksef::protocol::{
    run, Client, Credentials, Event, FormCode, OnlineResult, OnlineSend, Output, SystemClock,
};
use ksef::retry::RetryPolicy;
use ksef_e2e::*;

const INVOICES: &str = "POST /sessions/online/{ref}/invoices";

/// A client that retries long enough for a storm (attempts, not time, are what a storm
/// eats).
fn storm_client(sim: &SimHandle, seed: u8) -> Client {
    let cfg = config(sim).retry(RetryPolicy::new(12, 20, 200, 60_000));
    Client::new(cfg, Credentials::ksef_token("test-token-any"), [seed; 32])
}

/// Runs an online send, calling `on_event` for each event (faults are set from there).
fn send_with(
    sim: &SimHandle,
    group: &str,
    c: &mut Client,
    tag: &str,
    n: usize,
    mut on_event: impl FnMut(&Event),
) -> OnlineResult {
    let mut t = transport(sim, group);
    let op = c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..n).map(|i| invoice(tag, i)).collect(),
    ));
    match run(c, op, &mut t, &mut SystemClock, |e: &Event| on_event(e)) {
        Ok(Output::Online(r)) => r,
        other => panic!("not an online result: {other:?}"),
    }
}

/// Every invoice accepted, the sim holds each invoice number exactly once, and the client's
/// KSeF numbers are the sim's.
fn accepted_exactly_once(sim: &SimHandle, tag: &str, r: &OnlineResult) {
    assert_eq!(r.accepted(), r.invoices.len(), "{:#?}", r.invoices);
    let mut held: HashMap<String, Vec<String>> = HashMap::new();
    for a in sim.accepted_invoices() {
        held.entry(a.invoice_number)
            .or_default()
            .push(a.ksef_number);
    }
    for (i, out) in r.invoices.iter().enumerate() {
        let nums = held
            .get(&format!("FV/{tag}/{i:05}"))
            .unwrap_or_else(|| panic!("invoice {i} not in the sim"));
        assert_eq!(nums.len(), 1, "invoice {i} accepted {} times", nums.len());
        assert_eq!(
            out.ksef_number.as_deref(),
            Some(nums[0].as_str()),
            "invoice {i}"
        );
        assert!(out.upo.is_some(), "invoice {i} has its UPO");
    }
}

#[test]
fn storm_on_invoice_sends() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let f = sim.faults();
    // Invoice 0: 429, 503 before processing, then 502 AFTER processing (resent: duplicate of
    // our own first attempt).
    f.rate_limit_next(INVOICES, 1, 1);
    f.fail_next(INVOICES, 1, 503);
    f.fail_after_processing(INVOICES, 1);
    let mut c = storm_client(&sim, 31);
    let r = send_with(&sim, "storm-invoices", &mut c, "SI", 6, |e| {
        if let Event::InvoiceSent { index, .. } = e {
            match index {
                // Invoice 2: a connection dropped after processing, then one before.
                1 => {
                    f.drop_after_processing(INVOICES, 1);
                    f.drop_next(INVOICES, 1);
                }
                // Invoice 4: 500 after processing, then the resend dropped after processing.
                3 => {
                    f.fail_after_processing_with(INVOICES, 1, 500);
                    f.drop_after_processing(INVOICES, 1);
                }
                _ => {}
            }
        }
    });
    accepted_exactly_once(&sim, "SI", &r);
    let dedup: Vec<usize> = r
        .invoices
        .iter()
        .filter(|o| o.deduplicated)
        .map(|o| o.index)
        .collect();
    assert_eq!(dedup, vec![0, 2, 4], "our own lost first attempts");
    // Every injected fault was met.
    let log = sim.request_log();
    let sends: Vec<u16> = log
        .iter()
        .filter(|l| l.method == "POST" && l.path.ends_with("/invoices"))
        .map(|l| l.status)
        .collect();
    assert_eq!(sends.iter().filter(|s| **s == 429).count(), 1, "{sends:?}");
    assert_eq!(sends.iter().filter(|s| **s == 0).count(), 3, "{sends:?}");
}

#[test]
fn storm_on_auth_open_close_status_and_list() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let f = sim.faults();
    f.fail_next("POST /auth/challenge", 1, 503);
    f.drop_next("POST /auth/ksef-token", 1);
    f.rate_limit_next("GET /auth/{ref}", 1, 1);
    f.fail_next("POST /sessions/online", 1, 503);
    // Opened, answer lost: the resend opens a second (empty) session.
    f.drop_after_processing("POST /sessions/online", 1);
    f.rate_limit_next("POST /sessions/online/{ref}/close", 1, 1);
    // Closed, answer lost: the resend is refused with 21180, which means closed.
    f.fail_after_processing("POST /sessions/online/{ref}/close", 1);
    f.fail_next("GET /sessions/{ref}", 2, 500);
    f.drop_next("GET /sessions/{ref}", 1);
    f.fail_next("GET /sessions/{ref}/invoices", 1, 503);
    f.drop_after_processing("GET /sessions/{ref}/invoices", 1);
    f.rate_limit_next("GET /sessions/{ref}/invoices", 1, 1);
    let mut c = storm_client(&sim, 32);
    let r = send_with(&sim, "storm-session", &mut c, "SS", 3, |_| {});
    accepted_exactly_once(&sim, "SS", &r);
    assert!(r.invoices.iter().all(|o| !o.deduplicated));
    let log = sim.request_log();
    let opens = log
        .iter()
        .filter(|l| l.method == "POST" && l.path.ends_with("/sessions/online"))
        .count();
    assert_eq!(opens, 3, "503, dropped after processing, then the one used");
    assert_eq!(sim.accepted_invoices().len(), 3);
}

#[test]
fn unavailable_stretch_mid_session() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    sim.faults().set_unavailable_retry_after(1);
    let armed = AtomicBool::new(false);
    let baseline = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let count_503 = |sim: &SimHandle| sim.request_log().iter().filter(|l| l.status == 503).count();
    let mut c = storm_client(&sim, 33);
    let r = std::thread::scope(|s| {
        // KSeF comes back after it answered 503 three times (counted, not timed).
        s.spawn(|| {
            let start = Instant::now();
            while !done.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
                if armed.load(Ordering::SeqCst)
                    && count_503(&sim) >= baseline.load(Ordering::SeqCst) + 3
                {
                    sim.faults().set_unavailable(false);
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let r = send_with(&sim, "storm-unavailable", &mut c, "SU", 4, |e| {
            if let Event::InvoiceSent { index: 1, .. } = e {
                baseline.store(count_503(&sim), Ordering::SeqCst);
                sim.faults().set_unavailable(true);
                armed.store(true, Ordering::SeqCst);
            }
        });
        done.store(true, Ordering::SeqCst);
        r
    });
    accepted_exactly_once(&sim, "SU", &r);
    assert!(count_503(&sim) >= 3, "the stretch happened");
}

#[test]
fn duplicate_of_an_invoice_from_an_earlier_session_stays_duplicate() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut c = storm_client(&sim, 34);
    let first = send_with(&sim, "storm-duplicate", &mut c, "SD", 1, |_| {});
    assert_eq!(first.accepted(), 1);
    let original = first.invoices[0].ksef_number.clone().expect("number");
    // The same invoice again in a new session, resent after a 503 (so "resent" is true:
    // still not ours, since the original is from another session).
    sim.faults().fail_next(INVOICES, 1, 503);
    let second = send_with(&sim, "storm-duplicate", &mut c, "SD", 1, |_| {});
    let out = &second.invoices[0];
    assert!(!out.is_accepted());
    assert!(!out.deduplicated);
    let e = out.error.as_ref().expect("an error");
    assert_eq!(e.code(), ErrorCode::Duplicate, "{e}");
    assert!(e.message().contains(&original), "{e}");
    let st = out.status.as_ref().expect("status");
    assert_eq!(st.original, Some((first.session.clone(), original.clone())));
    assert_eq!(sim.accepted_invoices().len(), 1);
}
