//! The sans-IO client against a small scripted KSeF on a virtual clock: deterministic runs
//! with injected faults (429, 5xx before and after processing, dropped answers, expired
//! tokens, a lost redeem), asserting what users depend on — every invoice accepted exactly
//! once, waits honoured, secrets never in `Debug` output. (The full KSeF simulator over real
//! HTTP is exercised by the end-to-end tests in `tests/e2e`.)

mod fake_ksef;

use fake_ksef::{invoice, Fake, Fault, T0, TOKEN};
use ksef::id::{KsefNumber, Nip};
use ksef::protocol::{Client, Config, Credentials, Event, FormCode, OnlineSend, Output};
use ksef::retry::RetryPolicy;

struct Run {
    now: u64,
    events: Vec<String>,
    outputs: Vec<Result<Output, ksef::Error>>,
    waits: Vec<u64>,
}

fn pump(client: &mut Client, fake: &mut Fake, start: u64) -> Run {
    let mut run = Run {
        now: start,
        events: Vec::new(),
        outputs: Vec::new(),
        waits: Vec::new(),
    };
    for _ in 0..100_000 {
        while let Some(e) = client.poll_event() {
            run.events.push(format!("{e:?}"));
            if let Event::Finished { result, .. } = e {
                run.outputs.push(result);
            }
        }
        if let Some(tx) = client.poll_transmit(run.now) {
            run.now += 3;
            let r = fake.handle(run.now, &tx.request);
            client.handle_response(run.now, tx.id, r);
            continue;
        }
        match client.poll_timeout() {
            Some(t) => {
                assert!(t >= run.now, "a deadline in the past would spin");
                run.waits.push(t - run.now);
                run.now = t;
            }
            None => break,
        }
    }
    while let Some(e) = client.poll_event() {
        if let Event::Finished { result, .. } = e {
            run.outputs.push(result);
        }
    }
    run
}

fn client(seed: u8) -> Client {
    let nip = Nip::parse("9999999999").unwrap();
    let cfg = Config::with_base_url("http://fake/v2", nip)
        .retry(RetryPolicy::new(6, 200, 5_000, 600_000))
        .polling(500, 60_000);
    Client::new(cfg, Credentials::ksef_token(TOKEN), [seed; 32])
}

fn online(run: &Run) -> &ksef::protocol::OnlineResult {
    match run.outputs.last() {
        Some(Ok(Output::Online(r))) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_auth_online_session_three_invoices() {
    let mut fake = Fake::new();
    let mut c = client(1);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    let r = online(&run);
    assert_eq!(r.accepted(), 3);
    for o in &r.invoices {
        let n = o.ksef_number.as_deref().unwrap();
        assert!(KsefNumber::parse(n).is_ok(), "{n}");
        assert!(o.upo.as_ref().is_some_and(|u| !u.is_empty()));
        assert!(!o.deduplicated);
    }
    assert_eq!(r.session_upo.len(), 1);
    assert_eq!(fake.held.len(), 3);
    // The auth status was polled once at 100, then the client waited the poll interval.
    assert!(run.waits.contains(&500), "{:?}", run.waits);
    assert!(run.events.iter().any(|e| e.contains("Authenticated")));
}

#[test]
fn rate_limit_waits_for_retry_after_and_sends_once() {
    let mut fake = Fake::new();
    fake.faults.push(("send", 2, Fault::RateLimit(7)));
    let mut c = client(2);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 3);
    assert!(
        run.waits.iter().any(|w| (6_990..=7_000).contains(w)),
        "{:?}",
        run.waits
    );
    assert_eq!(fake.held.len(), 3);
    assert_eq!(fake.calls["send"], 4);
}

#[test]
fn lost_answer_after_processing_is_resolved_as_the_same_invoice() {
    let mut fake = Fake::new();
    fake.faults.push(("send", 1, Fault::LostAfter));
    fake.faults.push(("send", 3, Fault::Unavailable));
    let mut c = client(3);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..2).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    let r = online(&run);
    assert_eq!(r.accepted(), 2, "{:?}", r.invoices);
    assert!(r.invoices[0].deduplicated);
    // The first invoice's number is the one KSeF assigned to the lost first attempt.
    assert_eq!(
        r.invoices[0].ksef_number.as_deref(),
        Some(fake.held["FV/TEST/00000"].1.as_str())
    );
    assert_eq!(fake.held.len(), 2);
}

#[test]
fn duplicate_from_another_session_stays_an_error() {
    let mut fake = Fake::new();
    let mut c = client(4);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1), invoice(2)]));
    let run = pump(&mut c, &mut fake, T0);
    let Some(Ok(Output::Online(second))) = run.outputs.get(1) else {
        panic!("{:?}", run.outputs)
    };
    let e = second.invoices[0].error.as_ref().unwrap();
    assert_eq!(e.code(), ksef::ErrorCode::Duplicate);
    assert!(e.message().contains(&fake.held["FV/TEST/00001"].1));
    assert!(second.invoices[1].is_accepted());
}

#[test]
fn expired_access_token_mid_session_refreshes_and_continues() {
    let mut fake = Fake::new();
    fake.faults.push(("send", 2, Fault::Unauthorized));
    let mut c = client(5);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 3);
    assert_eq!(fake.calls["refresh"], 1);
    assert_eq!(fake.calls["challenge"], 1);
    assert!(run.events.iter().any(|e| e.contains("refreshed: true")));
}

#[test]
fn access_token_lifetime_is_respected_without_a_401() {
    let mut fake = Fake::new();
    fake.access_ttl_ms = 2_000; // shorter than the session: the client refreshes ahead
    fake.processing_polls = 6; // 6 polls × 500 ms of processing after closing
    let mut c = client(6);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 3);
    assert!(fake.calls.get("refresh").copied().unwrap_or(0) >= 1);
    // Refreshed ahead of expiry: no call was refused.
    assert!(!fake.seen.is_empty());
    assert_eq!(fake.calls["challenge"], 1);
}

#[test]
fn lost_redeem_restarts_authentication() {
    let mut fake = Fake::new();
    fake.faults.push(("redeem", 1, Fault::LostAfter));
    let mut c = client(7);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 1);
    assert_eq!(fake.calls["challenge"], 2);
    assert_eq!(fake.calls["redeem"], 2);
}

#[test]
fn wrong_token_fails_with_auth_failed() {
    let mut fake = Fake::new();
    let nip = Nip::parse("9999999999").unwrap();
    let cfg = Config::with_base_url("http://fake/v2", nip).polling(500, 60_000);
    let mut c = Client::new(cfg, Credentials::ksef_token(""), [8; 32]);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    let run = pump(&mut c, &mut fake, T0);
    match run.outputs.last() {
        Some(Err(e)) => assert_eq!(e.code(), ksef::ErrorCode::Encrypt, "{e:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn secrets_never_reach_debug_output() {
    let mut fake = Fake::new();
    let mut c = client(9);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 1);
    let all = format!("{:?} {:?} {:?}", c, run.events, run.outputs);
    for secret in [
        TOKEN,
        "919f7044secret",
        "access-",
        "refresh-",
        "authtok-",
        "sig=secret",
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
    // ...and requests' Debug (what a host would log) never shows tokens either.
    for line in &fake.seen {
        let dbg = line.split(" {").next().unwrap_or("");
        assert!(
            !dbg.contains("access-") && !dbg.contains("authtok-"),
            "{dbg}"
        );
    }
}

/// Many seeds of random faults: every invoice ends accepted exactly once.
#[test]
fn fault_storms_end_with_every_invoice_accepted_exactly_once() {
    for seed in 0..30u64 {
        let mut fake = Fake::new();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for label in [
            "send",
            "open",
            "close",
            "list",
            "session-status",
            "challenge",
            "upo",
        ] {
            for k in 1..12u32 {
                let f = match rnd() % 10 {
                    0 => Some(Fault::RateLimit(1 + rnd() % 3)),
                    1 => Some(Fault::Unavailable),
                    2 => Some(Fault::LostAfter),
                    3 if label == "send" => Some(Fault::Unauthorized),
                    _ => None,
                };
                if let Some(f) = f {
                    fake.faults.push((label, k, f));
                }
            }
        }
        let mut c = client(seed as u8);
        c.send_online(OnlineSend::new(
            FormCode::Fa3,
            (0..5).map(invoice).collect(),
        ));
        let run = pump(&mut c, &mut fake, T0);
        let r = match run.outputs.last() {
            Some(Ok(Output::Online(r))) => r,
            other => panic!("seed {seed}: {other:?}"),
        };
        assert_eq!(r.accepted(), 5, "seed {seed}: {:?}", r.invoices);
        assert_eq!(fake.held.len(), 5, "seed {seed}");
        let mut nums: Vec<&str> = r
            .invoices
            .iter()
            .filter_map(|o| o.ksef_number.as_deref())
            .collect();
        nums.sort();
        nums.dedup();
        assert_eq!(
            nums.len(),
            5,
            "seed {seed}: two invoices share a KSeF number"
        );
    }
}

/// Regression: with KSeF-token credentials the public keys are fetched in the middle of the
/// authentication; an operation that does not ask for the keys itself (`authenticate`, a
/// listing, a download) must not stall waiting for them.
#[test]
fn token_auth_fetches_the_keys_for_operations_that_do_not_need_them() {
    let mut fake = Fake::new();
    let mut c = client(9);
    c.authenticate();
    let run = pump(&mut c, &mut fake, T0);
    match run.outputs.last() {
        Some(Ok(Output::Authenticated { reference })) => assert!(!reference.is_empty()),
        other => panic!("{other:?}\n{:#?}", run.events),
    }
    assert_eq!(fake.calls["keys"], 1);
    assert_eq!(fake.calls["redeem"], 1);
    assert!(c.is_idle());
}

/// Regression: KSeF answering 503 (after the retries) is a failure to reach KSeF, not of the
/// credentials, in the connection test's verdict.
#[test]
fn connection_test_names_reaching_ksef_when_it_answers_503() {
    let mut fake = Fake::new();
    for n in 1..=10 {
        fake.faults.push(("challenge", n, Fault::Unavailable));
    }
    let mut c = client(10);
    c.test_connection();
    let run = pump(&mut c, &mut fake, T0);
    let v = match run.outputs.last() {
        Some(Ok(Output::Connection(v))) => v,
        other => panic!("{other:?}"),
    };
    assert!(!v.ok);
    let (step, err) = v
        .steps
        .iter()
        .find_map(|(s, r)| r.as_ref().err().map(|e| (*s, e)))
        .expect("a failed step");
    assert_eq!(step, "reach KSeF", "{}", v.summary());
    assert_eq!(err.code(), ksef::ErrorCode::ServerError);
}

#[test]
fn session_invoices_and_failed_invoices_are_listed() {
    let mut fake = Fake::new();
    let mut c = client(11);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]).fetch_upo(false));
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1), invoice(2)]).fetch_upo(false));
    let run = pump(&mut c, &mut fake, T0);
    let Some(Ok(Output::Online(second))) = run.outputs.get(1) else {
        panic!("{:?}", run.outputs)
    };
    let session = second.session.clone();
    c.session_invoices(session.clone());
    c.failed_invoices(session);
    let run = pump(&mut c, &mut fake, run.now);
    match (&run.outputs[0], &run.outputs[1]) {
        (Ok(Output::Invoices(all)), Ok(Output::Invoices(failed))) => {
            assert_eq!(all.len(), 2);
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].status.code, 440);
            assert_eq!(
                failed[0].error().map(|e| e.code()),
                Some(ksef::ErrorCode::Duplicate)
            );
        }
        other => panic!("{other:?}"),
    }
}
