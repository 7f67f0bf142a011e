//! An access token that expires mid-session (the client pumped by hand): the session goes on
//! after a refresh; and when the refresh token is revoked too (the authentication session
//! ended from another client), after a full new authentication.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ksef::http::Transport;
use ksef::protocol::{Client, Event, FormCode, OnlineResult, OnlineSend, Output};
use ksef_e2e::*;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Pumps `c` by hand until idle; `on_event` sees every event first. Returns the online result
/// and every event (as text).
fn pump(
    c: &mut Client,
    t: &mut dyn Transport,
    mut on_event: impl FnMut(&Event),
) -> (OnlineResult, Vec<String>) {
    let mut result = None;
    let mut log = Vec::new();
    loop {
        let idle = c.is_idle();
        while let Some(e) = c.poll_event() {
            on_event(&e);
            log.push(format!("{e:?}"));
            if let Event::Finished { result: r, .. } = e {
                match r {
                    Ok(Output::Online(r)) => result = Some(r),
                    other => panic!("not an online result: {other:?}\n{log:#?}"),
                }
            }
        }
        if let Some(tx) = c.poll_transmit(now_ms()) {
            let r = t.send(&tx.request);
            c.handle_response(now_ms(), tx.id, r);
            continue;
        }
        match c.poll_timeout() {
            Some(at) => {
                let now = now_ms();
                if at > now {
                    std::thread::sleep(Duration::from_millis(at - now));
                }
            }
            None if idle => break,
            None => {}
        }
    }
    (result.expect("the operation finished"), log)
}

fn count(sim: &SimHandle, method: &str, tail: &str, status: Option<u16>) -> usize {
    sim.request_log()
        .iter()
        .filter(|l| l.method == method && l.path.ends_with(tail))
        .filter(|l| status.is_none_or(|s| l.status == s))
        .count()
}

#[test]
fn access_token_expires_mid_session_refresh_and_go_on() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, "expiry-refresh");
    let mut c = token_client(&sim, 41);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..4).map(|n| invoice("EXR", n)).collect(),
    ));
    let mut expired = false;
    let (r, events) = pump(&mut c, &mut t, |e| {
        if let (Event::InvoiceSent { .. }, false) = (e, expired) {
            sim.faults().expire_access_tokens();
            expired = true;
        }
    });
    assert!(expired);
    assert_eq!(r.accepted(), 4, "{:?}", r.invoices);
    assert_eq!(sim.accepted_invoices().len(), 4);
    assert!(
        events
            .iter()
            .any(|e| e.contains("Authenticated") && e.contains("refreshed: true")),
        "{events:#?}"
    );
    assert_eq!(count(&sim, "POST", "/auth/token/refresh", Some(200)), 1);
    assert_eq!(
        count(&sim, "POST", "/auth/challenge", None),
        1,
        "no new authentication"
    );
    assert!(
        count(&sim, "POST", "/invoices", Some(401)) >= 1,
        "a 401 was met"
    );
}

#[test]
fn refresh_token_revoked_too_full_reauthentication() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, "expiry-reauth");
    let mut c = token_client(&sim, 42);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..4).map(|n| invoice("EXA", n)).collect(),
    ));
    let mut other = token_client(&sim, 43);
    let mut t2 = transport(&sim, "expiry-reauth-admin");
    let mut first_ref = None;
    let mut ended = false;
    // The closure cannot borrow `c`: read its authentication reference from the events.
    let (r, events) = pump(&mut c, &mut t, |e| {
        if let Event::Authenticated {
            reference,
            refreshed: false,
        } = e
        {
            first_ref.get_or_insert_with(|| reference.clone());
        }
        if let (Event::InvoiceSent { .. }, false) = (e, ended) {
            ended = true;
            let victim = first_ref.clone().expect("authenticated before sending");
            // Another client of the same context lists the sessions and ends ours...
            let op = other.list_auth_sessions();
            let Output::AuthSessions(list) = try_op(&mut other, op, &mut t2).expect("list") else {
                panic!("not a session list")
            };
            assert!(list.iter().any(|s| s.reference == victim && !s.is_current));
            let op = other.terminate_auth_session(victim);
            try_op(&mut other, op, &mut t2).expect("terminated");
            // ...and the access token dies too.
            sim.faults().expire_access_tokens();
        }
    });
    assert!(ended);
    assert_eq!(r.accepted(), 4, "{:?}", r.invoices);
    assert_eq!(sim.accepted_invoices().len(), 4);
    let full: Vec<&String> = events
        .iter()
        .filter(|e| e.contains("Authenticated") && e.contains("refreshed: false"))
        .collect();
    assert_eq!(full.len(), 2, "authenticated twice: {events:#?}");
    assert!(count(&sim, "POST", "/auth/token/refresh", Some(200)) == 0);
    assert!(
        count(&sim, "POST", "/auth/token/refresh", None) >= 1,
        "a refresh was tried"
    );
    // Ours twice, the other client once.
    assert_eq!(count(&sim, "POST", "/auth/challenge", None), 3);
}
