//! The paired-mode machine against a scripted KSeF and a scripted Fakturownia on a virtual
//! clock: both modes, recovery actions, webhooks, and thousands of seeded runs with crashes
//! (snapshot → drop → restore) at every step and outages in both channels — after recovery
//! every order has exactly one KSeF invoice and exactly one Fakturownia document carrying its
//! KSeF number.

mod fake_ksef;

use std::collections::HashMap;

use fake_ksef::{invoice, Fake, Fault, T0, TOKEN};
use ksef::http::{Method, Request, Response, TransportError, TransportErrorKind};
use ksef::id::{KsefNumber, Nip};
use ksef::offline::availability::AutoOffline;
use ksef::paired::fakturownia::Account;
use ksef::paired::machine::{Leg, Mode, PairedDocs, PairedMachine, PairedStatus};
use ksef::protocol::{Client, Config, Credentials, FormCode, OnlineSend, Output, SecretString};
use ksef::retry::RetryPolicy;
use serde_json::{json, Value};

const FAKT: &str = "http://fakt";
const FAKT_TOKEN: &str = "fakt-api-token-secret";

/// A scripted Fakturownia: documents with `oid` uniqueness, lookup by `oid`, `gov_id` updates.
struct FakeFakt {
    docs: Vec<Value>,
    calls: HashMap<&'static str, u32>,
    faults: Vec<(&'static str, u32, Fault)>,
    down: bool,
}

impl FakeFakt {
    fn new() -> FakeFakt {
        FakeFakt {
            docs: Vec::new(),
            calls: HashMap::new(),
            faults: Vec::new(),
            down: false,
        }
    }

    fn json(status: u16, v: Value) -> Response {
        Response::new(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            v.to_string().into_bytes(),
        )
    }

    fn handle(&mut self, req: &Request) -> Result<Response, TransportError> {
        let url = req.url.strip_prefix(FAKT).unwrap_or(&req.url);
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let label = match (req.method, path) {
            (Method::Post, "/invoices.json") => "create",
            (Method::Get, "/invoices.json") => "list",
            (Method::Put, _) => "update",
            _ => "other",
        };
        let n = {
            let c = self.calls.entry(label).or_insert(0);
            *c += 1;
            *c
        };
        if self.down {
            return Ok(FakeFakt::json(
                503,
                json!({"status": "error", "message": "down"}),
            ));
        }
        let fault = self
            .faults
            .iter()
            .find(|(l, k, _)| *l == label && *k == n)
            .map(|(_, _, f)| *f);
        match fault {
            Some(Fault::RateLimit(s)) => {
                return Ok(Response::new(
                    429,
                    vec![("Retry-After".into(), s.to_string())],
                    Vec::new(),
                ))
            }
            Some(Fault::Unavailable) => return Ok(FakeFakt::json(503, json!({"status": "error"}))),
            _ => {}
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let token_ok =
            body["api_token"] == FAKT_TOKEN || query.contains(&format!("api_token={FAKT_TOKEN}"));
        let resp = if !token_ok {
            FakeFakt::json(401, json!({"status": "error", "message": "bad api_token"}))
        } else {
            match label {
                "create" => {
                    let inv = body["invoice"].clone();
                    let oid = inv["oid"].as_str().unwrap_or_default().to_string();
                    if self.docs.iter().any(|d| d["oid"] == oid.as_str()) {
                        FakeFakt::json(
                            422,
                            json!({"code": "error", "message": {"oid": ["has already been taken"]}}),
                        )
                    } else {
                        let mut d = inv;
                        d["id"] = json!(self.docs.len() as u64 + 100);
                        self.docs.push(d.clone());
                        FakeFakt::json(201, d)
                    }
                }
                "list" => {
                    let oid = query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("oid="))
                        .unwrap_or_default()
                        .replace("%3A", ":")
                        .replace("%2F", "/");
                    let found: Vec<Value> = self
                        .docs
                        .iter()
                        .filter(|d| d["oid"] == oid.as_str())
                        .cloned()
                        .collect();
                    FakeFakt::json(200, Value::Array(found))
                }
                "update" => {
                    let id: u64 = path
                        .trim_start_matches("/invoices/")
                        .trim_end_matches(".json")
                        .parse()
                        .unwrap_or(0);
                    match self.docs.iter_mut().find(|d| d["id"] == id) {
                        Some(d) => {
                            if let Some(g) = body["invoice"]["gov_id"].as_str() {
                                d["gov_id"] = json!(g);
                            }
                            FakeFakt::json(200, d.clone())
                        }
                        None => {
                            FakeFakt::json(404, json!({"status": "error", "message": "not found"}))
                        }
                    }
                }
                _ => FakeFakt::json(404, json!({"status": "error", "message": "not simulated"})),
            }
        };
        if matches!(fault, Some(Fault::LostAfter)) {
            return Err(TransportError::new(
                TransportErrorKind::Io,
                "connection reset",
            ));
        }
        Ok(resp)
    }
}

fn docs(n: usize) -> PairedDocs {
    let xml = String::from_utf8(invoice(n)).unwrap();
    PairedDocs {
        store: "shop1".into(),
        order_id: format!("order-{n}"),
        number: format!("FV/TEST/{n:05}"),
        correction_of: None,
        xml,
        fakturownia: json!({
            "kind": "vat",
            "buyer_name": "F.H.U. Jan Kowalski",
            "positions": [{"name": "Lodówka", "quantity": 1, "tax": 23, "price_net": "1000.00"}]
        })
        .to_string(),
    }
}

fn client(seed: u8) -> Client {
    let nip = Nip::parse("9999999999").unwrap();
    let cfg = Config::with_base_url("http://fake/v2", nip)
        .retry(RetryPolicy::new(6, 200, 5_000, 600_000))
        .polling(500, 600_000);
    Client::new(cfg, Credentials::ksef_token(TOKEN), [seed; 32])
}

fn account() -> Account {
    Account {
        base_url: FAKT.into(),
        api_token: SecretString::new(FAKT_TOKEN),
    }
}

fn machine(mode: Mode, seed: u8) -> PairedMachine {
    PairedMachine::new(mode, client(seed), account(), [seed; 32])
        .with_retry(RetryPolicy::new(6, 200, 5_000, 600_000))
}

/// Pumps until idle, or until `crash_after` requests went out (then returns `true`).
fn pump(
    m: &mut PairedMachine,
    ksef: &mut Fake,
    fakt: &mut FakeFakt,
    now: &mut u64,
    crash_after: Option<usize>,
    events: &mut Vec<String>,
) -> bool {
    let mut sent = 0;
    for _ in 0..200_000 {
        while let Some(e) = m.poll_event() {
            events.push(format!("{e:?}"));
        }
        if let Some(tx) = m.poll_transmit(*now) {
            if crash_after == Some(sent) {
                return true;
            }
            sent += 1;
            *now += 3;
            let r = if tx.request.url.starts_with(FAKT) {
                fakt.handle(&tx.request)
            } else {
                ksef.handle(*now, &tx.request)
            };
            m.handle_response(*now, tx.id, r);
            continue;
        }
        match m.poll_timeout() {
            Some(t) => *now = (*now).max(t),
            None => break,
        }
    }
    while let Some(e) = m.poll_event() {
        events.push(format!("{e:?}"));
    }
    false
}

fn check_exactly_once(m: &PairedMachine, ksef: &Fake, fakt: &FakeFakt, orders: usize, ctx: &str) {
    assert_eq!(ksef.held.len(), orders, "{ctx}: one KSeF invoice per order");
    assert_eq!(
        fakt.docs.len(),
        orders,
        "{ctx}: one Fakturownia document per order"
    );
    for n in 0..orders {
        let d = docs(n);
        let j = m
            .job(&d.job_id())
            .unwrap_or_else(|| panic!("{ctx}: job {n}"));
        assert_eq!(j.status(), PairedStatus::Completed, "{ctx}: {j:?}");
        let held = &ksef.held[&d.number].1;
        assert_eq!(j.ksef_number.as_deref(), Some(held.as_str()), "{ctx}");
        KsefNumber::parse(held).unwrap();
        let doc = fakt
            .docs
            .iter()
            .find(|x| x["oid"] == d.job_id().as_str())
            .unwrap();
        assert_eq!(
            doc["gov_id"],
            held.as_str(),
            "{ctx}: the document carries the KSeF number"
        );
        assert_eq!(
            doc["number"],
            d.number.as_str(),
            "{ctx}: the same number in both channels"
        );
    }
}

#[test]
fn ksef_first_order_gets_number_then_document_with_gov_id() {
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    let mut m = machine(Mode::KsefFirst, 1);
    m.submit(docs(0), T0).unwrap();
    let mut now = T0;
    let mut events = Vec::new();
    pump(&mut m, &mut ksef, &mut fakt, &mut now, None, &mut events);
    check_exactly_once(&m, &ksef, &fakt, 1, "ksef-first");
    // No backfill needed: the document was created with gov_id.
    assert_eq!(fakt.calls.get("update"), None);
    assert!(events.iter().any(|e| e.starts_with("KsefNumberReceived")));
    assert!(events.iter().any(|e| e.starts_with("FakturowniaCreated")));
    assert!(events.iter().any(|e| e.starts_with("Completed")));
    let j = m.job(&docs(0).job_id()).unwrap();
    assert!(j.upo.as_ref().is_some_and(|u| u.contains("Potwierdzenie")));
}

#[test]
fn simultaneous_mode_backfills_the_ksef_number() {
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    let mut m = machine(Mode::Simultaneous, 2);
    for n in 0..3 {
        m.submit(docs(n), T0).unwrap();
    }
    let mut now = T0;
    pump(
        &mut m,
        &mut ksef,
        &mut fakt,
        &mut now,
        None,
        &mut Vec::new(),
    );
    check_exactly_once(&m, &ksef, &fakt, 3, "simultaneous");
    assert_eq!(fakt.calls["update"], 3, "one backfill per document");
}

#[test]
fn fakturownia_down_is_a_discrepancy_recovered_without_a_second_ksef_submission() {
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    fakt.down = true;
    let mut m = machine(Mode::KsefFirst, 3);
    let id = m.submit(docs(0), T0).unwrap();
    let mut now = T0;
    let mut events = Vec::new();
    pump(&mut m, &mut ksef, &mut fakt, &mut now, None, &mut events);
    assert_eq!(
        m.job(&id).unwrap().status(),
        PairedStatus::KsefOkFakturowniaFailed
    );
    assert!(events
        .iter()
        .any(|e| e.contains("DiscrepancyEntered") && e.contains("KsefOkFakturowniaFailed")));
    fakt.down = false;
    m.retry_fakturownia(&id, now).unwrap();
    pump(&mut m, &mut ksef, &mut fakt, &mut now, None, &mut events);
    check_exactly_once(&m, &ksef, &fakt, 1, "recovered");
    assert_eq!(
        m.job(&id).unwrap().ksef_submissions,
        1,
        "never a new KSeF submission"
    );
    assert!(events.iter().any(|e| e.contains("DiscrepancyLeft")));
    // A recovery that does not fit the state is refused.
    assert!(m.retry_fakturownia(&id, now).is_err());
}

#[test]
fn ksef_refusal_skips_fakturownia_and_fix_and_retry_completes() {
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    let mut m = machine(Mode::KsefFirst, 4);
    let good = docs(0);
    let mut bad = good.clone();
    bad.xml = bad.xml.replace("</P_2>", "</P_2><!-- REJECT-ME -->");
    let id = m.submit(bad, T0).unwrap();
    let mut now = T0;
    let mut events = Vec::new();
    pump(&mut m, &mut ksef, &mut fakt, &mut now, None, &mut events);
    let j = m.job(&id).unwrap();
    assert_eq!(j.status(), PairedStatus::KsefFailedFakturowniaSkipped);
    assert!(
        j.ksef_error.as_deref().unwrap_or_default().contains("450"),
        "{j:?}"
    );
    assert!(
        fakt.docs.is_empty(),
        "no customer document without a KSeF number"
    );
    // Other documents under the same job id are refused; fixed ones are sent again.
    let mut other = good.clone();
    other.order_id = "another".into();
    assert!(m.retry_both(&id, Some(other), now).is_err());
    m.retry_both(&id, Some(good), now).unwrap();
    pump(&mut m, &mut ksef, &mut fakt, &mut now, None, &mut events);
    check_exactly_once(&m, &ksef, &fakt, 1, "fixed");
    assert!(events.iter().any(|e| e.contains("DiscrepancyLeft")));
}

#[test]
fn webhooks_and_pushes_are_checked_before_they_change_anything() {
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    let mut m = machine(Mode::Simultaneous, 5).with_push_secret("push-secret");
    let id = m.submit(docs(0), T0).unwrap();
    let mut now = T0;
    pump(
        &mut m,
        &mut ksef,
        &mut fakt,
        &mut now,
        None,
        &mut Vec::new(),
    );
    let before = m.snapshot_json();
    // Forged webhook (wrong token), malformed body, unknown document: refused, no change.
    let doc = fakt.docs[0].clone();
    let forged =
        json!({"api_token": "nope", "event": "invoice:update", "invoice": doc}).to_string();
    assert!(m
        .apply_fakturownia_webhook(forged.as_bytes(), FAKT_TOKEN, now)
        .is_err());
    assert!(m
        .apply_fakturownia_webhook(b"{not json", FAKT_TOKEN, now)
        .is_err());
    let mut other = doc.clone();
    other["id"] = json!(9999);
    other["oid"] = json!("someone-else");
    let unknown =
        json!({"api_token": FAKT_TOKEN, "event": "invoice:update", "invoice": other}).to_string();
    assert!(m
        .apply_fakturownia_webhook(unknown.as_bytes(), FAKT_TOKEN, now)
        .is_err());
    // Pushes: wrong secret, bad KSeF number, another seller's number.
    for body in [
        json!({"secret": "wrong", "invoiceNumber": "FV/TEST/00000", "ksefNumber": "x"}),
        json!({"secret": "push-secret", "invoiceNumber": "FV/TEST/00000", "ksefNumber": "5265877635-20250626-010080DD2B5E-26"}),
        json!({"secret": "push-secret", "invoiceNumber": "FV/TEST/00000", "ksefNumber": "9999999999-20250626-010080DD2B5E-00"}),
    ] {
        assert!(
            m.apply_ksef_push(body.to_string().as_bytes(), now).is_err(),
            "{body}"
        );
    }
    for body in [&b"[1,2]"[..], b"{\"hello\":1}", b"\xff"] {
        assert!(m.apply_webhook(body, FAKT_TOKEN, now).is_err());
    }
    assert!(m.apply_webhook(forged.as_bytes(), FAKT_TOKEN, now).is_err());
    assert_eq!(m.snapshot_json(), before, "refused input changed nothing");
    // A genuine webhook is applied (and the audit trail says so).
    let genuine =
        json!({"api_token": FAKT_TOKEN, "event": "invoice:update", "invoice": doc}).to_string();
    assert_eq!(
        m.apply_fakturownia_webhook(genuine.as_bytes(), FAKT_TOKEN, now)
            .unwrap(),
        id
    );
    assert!(m.audit().iter().any(|a| a.operation == "webhook"));
}

#[test]
fn snapshots_round_trip_in_cbor_and_json_and_hold_no_secrets() {
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    let mut m = machine(Mode::Simultaneous, 6);
    m.submit(docs(0), T0).unwrap();
    let mut now = T0;
    pump(
        &mut m,
        &mut ksef,
        &mut fakt,
        &mut now,
        Some(4),
        &mut Vec::new(),
    );
    let cbor = m.snapshot_cbor();
    let json = m.snapshot_json();
    assert!(cbor.len() < json.len(), "CBOR is the compact form");
    for s in [
        String::from_utf8_lossy(&cbor).into_owned(),
        json.clone(),
        m.audit_json(),
    ] {
        assert!(!s.contains(TOKEN) && !s.contains(FAKT_TOKEN) && !s.contains("access-"));
    }
    let a = PairedMachine::restore_cbor(&cbor, client(7), account(), [7; 32]).unwrap();
    let b = PairedMachine::restore_json(&json, client(8), account(), [8; 32]).unwrap();
    assert_eq!(a.snapshot_json(), b.snapshot_json());
    assert!(
        PairedMachine::restore_cbor(b"\x01\x02garbage", client(9), account(), [9; 32]).is_err()
    );
    assert!(PairedMachine::restore_json("{}", client(9), account(), [9; 32]).is_err());
}

/// Thousands of seeded runs: crashes after every request count, outages and lost answers
/// in both channels. After recovery: exactly one KSeF invoice and one Fakturownia document
/// per order, with the right KSeF number.
#[test]
fn crash_and_fault_simulation_keeps_exactly_once() {
    simulate(false);
}

/// The same simulation with the automatic switch to offline: KSeF down for a while makes
/// some jobs go offline (the test plays the host: it re-sends their exact bytes with
/// `offlineMode` through `send_offline` and reports each acceptance back); crashes anywhere,
/// also while an offline session is in flight. Every order still ends with exactly one KSeF
/// invoice and one Fakturownia document carrying its number.
#[test]
fn crash_and_fault_simulation_with_auto_offline_keeps_exactly_once() {
    simulate(true);
}

/// Plays the host of offline issuing: sends every job waiting offline in one session with
/// `offlineMode`, then records the results (a 440 of our own number counts as accepted).
fn recover_offline(
    m: &mut PairedMachine,
    ksef: &mut Fake,
    fakt: &mut FakeFakt,
    now: &mut u64,
    events: &mut Vec<String>,
) -> usize {
    let waiting: Vec<(String, Vec<u8>)> = m
        .jobs()
        .filter(|j| j.ksef == Leg::Offline)
        .map(|j| (j.id.clone(), j.docs.xml.clone().into_bytes()))
        .collect();
    if waiting.is_empty() {
        return 0;
    }
    let send = OnlineSend::new(
        FormCode::Fa3,
        waiting.iter().map(|(_, x)| x.clone()).collect(),
    )
    .offline(true);
    m.send_offline(send);
    pump(m, ksef, fakt, now, None, events);
    while let Some((_, result)) = m.poll_offline_result() {
        let Ok(Output::Online(r)) = result else {
            continue; // the session failed: they stay offline and are sent again
        };
        for o in &r.invoices {
            let job = &waiting[o.index].0;
            let number = o.ksef_number.clone().or_else(|| {
                o.status
                    .as_ref()
                    .filter(|s| s.status.code == 440)
                    .and_then(|s| s.original.as_ref().map(|(_, n)| n.clone()))
            });
            if let Some(n) = number {
                m.offline_accepted(job, &n, Some(&r.session), *now).unwrap();
            }
        }
    }
    waiting.len()
}

fn simulate(auto_offline: bool) {
    let mut runs = 0;
    let mut offline_jobs = 0;
    let mut crashes = 0;
    let mut checks = 0;
    // KSEF_PAIRED_RUNS scales the run count (e.g. 1000 with `--release`; figures in the
    // closing notes); the default keeps `make test` quick in debug builds.
    let seeds: u64 = std::env::var("KSEF_PAIRED_RUNS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(|n| n.div_ceil(2))
        .unwrap_or(12);
    for seed in 0..seeds {
        for mode in [Mode::KsefFirst, Mode::Simultaneous] {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut rnd = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
            for label in ["send", "open", "list", "session-status"] {
                for k in 1..6u32 {
                    match rnd() % 8 {
                        0 => ksef.faults.push((label, k, Fault::RateLimit(1))),
                        1 => ksef.faults.push((label, k, Fault::Unavailable)),
                        2 => ksef.faults.push((label, k, Fault::LostAfter)),
                        _ => {}
                    }
                }
            }
            for label in ["create", "list", "update"] {
                for k in 1..6u32 {
                    match rnd() % 6 {
                        0 => fakt.faults.push((label, k, Fault::Unavailable)),
                        1 => fakt.faults.push((label, k, Fault::LostAfter)),
                        2 => fakt.faults.push((label, k, Fault::RateLimit(1))),
                        _ => {}
                    }
                }
            }
            if auto_offline {
                // KSeF down for a while: the first opens fail past the client's retries
                for k in 1..=(6 + (rnd() % 12) as u32) {
                    ksef.faults.push(("open", k, Fault::Unavailable));
                }
            }
            let orders = 3;
            let policy = if auto_offline {
                AutoOffline::default()
            } else {
                AutoOffline::OFF
            };
            let mut m = machine(mode, seed as u8).with_auto_offline(policy);
            for n in 0..orders {
                m.submit(docs(n), T0).unwrap();
            }
            let mut now = T0;
            let mut events = Vec::new();
            let mut rounds = 0;
            // Crash after a random number of requests (1 to 40: every step of a run is hit by
            // some seed), up to 6 times per run, then run to the end.
            loop {
                let crash = (rounds < 6).then(|| 1 + (rnd() % 40) as usize);
                if !pump(&mut m, &mut ksef, &mut fakt, &mut now, crash, &mut events) {
                    break;
                }
                crashes += 1;
                rounds += 1;
                let snap = if rounds % 2 == 0 {
                    m.snapshot_cbor()
                } else {
                    m.snapshot_json().into_bytes()
                };
                drop(m);
                let s = (seed as u8).wrapping_add(rounds as u8);
                m = if rounds % 2 == 0 {
                    PairedMachine::restore_cbor(&snap, client(s), account(), [s; 32]).unwrap()
                } else {
                    PairedMachine::restore_json(
                        std::str::from_utf8(&snap).unwrap(),
                        client(s),
                        account(),
                        [s; 32],
                    )
                    .unwrap()
                };
                m = m
                    .with_retry(RetryPolicy::new(6, 200, 5_000, 600_000))
                    .with_auto_offline(policy);
            }
            // KSeF is back: the host sends what went offline (again after a lost answer).
            if auto_offline {
                offline_jobs += m.jobs().filter(|j| j.ksef == Leg::Offline).count();
                for _ in 0..3 {
                    if recover_offline(&mut m, &mut ksef, &mut fakt, &mut now, &mut events) == 0 {
                        break;
                    }
                }
            }
            // Faults that outlasted the retries leave discrepancies: the recovery actions
            // finish them, never with a second KSeF submission of an accepted invoice.
            for _ in 0..5 {
                let ids: Vec<String> = m.jobs().map(|j| j.id.clone()).collect();
                for id in ids {
                    let j = m.job(&id).unwrap().clone();
                    match (j.ksef, j.fakturownia, j.backfill) {
                        (_, Leg::Failed, _) if j.ksef == Leg::Ok => {
                            m.retry_fakturownia(&id, now).unwrap()
                        }
                        (_, _, Leg::Failed) => m.retry_backfill(&id, now).unwrap(),
                        (Leg::Failed, _, _) => m.retry_both(&id, None, now).unwrap(),
                        _ => {}
                    }
                }
                pump(&mut m, &mut ksef, &mut fakt, &mut now, None, &mut events);
            }
            check_exactly_once(&m, &ksef, &fakt, orders, &format!("seed {seed} {mode:?}"));
            checks += 4 * orders + 2;
            runs += 1;
        }
    }
    eprintln!(
        "paired fault simulation (auto offline: {auto_offline}): {runs} runs, {crashes} \
         crashes, {offline_jobs} jobs issued offline, {checks} invariant checks"
    );
    assert!(runs >= 24 && crashes >= runs);
    if auto_offline {
        assert!(offline_jobs > 0, "the simulation put no job offline");
    }
}

/// A scripted NBP: table A rates on business days of the window asked for.
fn nbp(req: &Request) -> Result<Response, TransportError> {
    use ksef::model::Date;
    let parts: Vec<&str> = req.url.split('/').collect();
    let (code, start, end) = (
        parts[parts.len() - 4],
        parts[parts.len() - 3],
        parts[parts.len() - 2],
    );
    let (start, end): (Date, Date) = (start.parse().unwrap(), end.parse().unwrap());
    let mut rates = Vec::new();
    let mut d = start;
    let mut no = 60;
    while d <= end {
        if d.weekday() <= 5 && !ksef::paired::rules::is_polish_holiday(d) {
            no += 1;
            rates.push(json!({"no": format!("{no:03}/A/NBP/{}", d.year()), "effectiveDate": d.to_string(), "mid": 4.2713}));
        }
        d = d.add_days(1).unwrap();
    }
    let body =
        json!({"table": "A", "currency": "euro", "code": code.to_uppercase(), "rates": rates});
    Ok(Response::new(
        200,
        vec![("Content-Type".into(), "application/json".into())],
        body.to_string().into_bytes(),
    ))
}

/// The engine: an EUR order waits for the NBP rate, fetched over the same transport (the
/// last business day before the tax point: Easter Monday skipped), then both channels run;
/// a second order gets the next number; the snapshot keeps the counters.
#[test]
fn engine_fetches_the_nbp_rate_and_numbers_orders_consecutively() {
    use ksef::paired::engine::{Engine, EngineTransmitId, OrderOutcome};
    use ksef::paired::order::Order;
    use ksef::paired::rules::{RuleConfig, Trigger};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/paired");
    let config =
        RuleConfig::from_json(&std::fs::read_to_string(dir.join("rules.json")).unwrap()).unwrap();
    let eur =
        Order::from_json(&std::fs::read_to_string(dir.join("order-eur.json")).unwrap()).unwrap();
    let b2b =
        Order::from_json(&std::fs::read_to_string(dir.join("order-b2b.json")).unwrap()).unwrap();
    let (mut ksef, mut fakt) = (Fake::new(), FakeFakt::new());
    let mut e = Engine::new(
        config.clone(),
        Mode::KsefFirst,
        client(21),
        account(),
        "http://nbp",
        [21; 32],
    );
    let now0 = T0; // the documents are made in 2027 for an order of 2026-04-07
    let out = e.order(&eur, Trigger::StatusChanged, now0).unwrap();
    assert_eq!(
        out,
        OrderOutcome::WaitingForRate {
            currency: "EUR".into()
        }
    );
    let mut now = now0;
    let mut nbp_calls = 0;
    let mut run = |e: &mut Engine, now: &mut u64, ksef: &mut Fake, fakt: &mut FakeFakt| {
        for _ in 0..100_000 {
            if let Some((id, req)) = e.poll_transmit(*now) {
                *now += 3;
                let r = if matches!(id, EngineTransmitId::Nbp(_)) {
                    nbp_calls += 1;
                    assert!(
                        req.url.contains("/eur/2026-03-24/2026-04-06/"),
                        "{}",
                        req.url
                    );
                    nbp(&req)
                } else if req.url.starts_with(FAKT) {
                    fakt.handle(&req)
                } else {
                    ksef.handle(*now, &req)
                };
                e.handle_response(*now, id, r);
                continue;
            }
            match e.poll_timeout() {
                Some(t) => *now = (*now).max(t),
                None => break,
            }
        }
    };
    run(&mut e, &mut now, &mut ksef, &mut fakt);
    assert!(e.poll_order_error().is_none());
    let job = e.machine().jobs().next().unwrap().clone();
    assert_eq!(job.status(), PairedStatus::Completed, "{job:?}");
    assert!(
        job.docs.xml.contains("<KursWaluty") || job.docs.xml.contains("4.2713"),
        "the rate is on the invoice"
    );
    let first = job.docs.number.clone();
    // The next order, after a snapshot round trip, gets the next number.
    let snap = e.snapshot_json();
    let mut e =
        Engine::restore_json(&snap, config, client(22), account(), "http://nbp", [22; 32]).unwrap();
    match e.order(&b2b, Trigger::StatusChanged, now0).unwrap() {
        OrderOutcome::Submitted(_) => {}
        other => panic!("{other:?}"),
    }
    run(&mut e, &mut now, &mut ksef, &mut fakt);
    let numbers: Vec<String> = e.machine().jobs().map(|j| j.docs.number.clone()).collect();
    assert_eq!(numbers.len(), 2);
    assert!(numbers.contains(&first));
    assert_eq!(ksef.held.len(), 2);
    assert_eq!(fakt.docs.len(), 2);
    assert_eq!(nbp_calls, 1);
    let other = numbers.iter().find(|n| **n != first).unwrap();
    assert_ne!(other, &first, "never the same number twice");
}
