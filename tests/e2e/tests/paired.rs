//! Paired mode over loopback HTTP: the Engine sends each order to the simulator's KSeF (`/v2`)
//! and Fakturownia (`/fakturownia`), fetching NBP rates from its `/nbp` — both modes, an EUR
//! order, a return (KOR + Fakturownia correction), a Fakturownia outage with recovery, and
//! crashes (snapshot → drop → restore with a fresh client) after every request.

use std::path::Path;

use ksef::http::Transport;
use ksef::id::{KsefNumber, Nip};
use ksef::paired::engine::{Engine, OrderOutcome};
use ksef::paired::fakturownia::{self, Account};
use ksef::paired::machine::{Mode, PairedEvent, PairedStatus};
use ksef::paired::order::Order;
use ksef::paired::rules::{RuleConfig, Trigger};
use ksef::protocol::{Client, Clock, Config, Credentials, SystemClock};
use ksef::retry::RetryPolicy;
use ksef_e2e::*;

/// The examples' seller (store `pl-main`).
const SELLER: &str = "5265877635";
const FAKT_TOKEN: &str = "e2e-fakturownia-token";

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/paired")
            .join(name),
    )
    .expect("example")
}

fn sim() -> SimHandle {
    Sim::start(SimConfig::default().with_fakturownia_token(FAKT_TOKEN)).expect("sim")
}

fn client(sim: &SimHandle, seed: u8) -> Client {
    let cfg = Config::with_base_url(sim.base_url(), Nip::parse(SELLER).expect("NIP"))
        .retry(RetryPolicy::new(8, 50, 1_000, 120_000))
        .polling(50, 60_000);
    Client::new(cfg, Credentials::ksef_token("e2e-ksef-token"), [seed; 32])
}

fn account(sim: &SimHandle) -> Account {
    Account::new(sim.fakturownia_base_url(), FAKT_TOKEN)
}

fn quick() -> RetryPolicy {
    RetryPolicy::new(3, 20, 200, 5_000)
}

fn engine(sim: &SimHandle, mode: Mode, seed: u8) -> Engine {
    let rules = RuleConfig::from_json(&example("rules.json")).expect("rules");
    Engine::new(
        rules,
        mode,
        client(sim, seed),
        account(sim),
        sim.nbp_base_url(),
        [seed; 32],
    )
    .with_retry(quick())
}

fn restore(json: &str, sim: &SimHandle, seed: u8) -> Engine {
    let rules = RuleConfig::from_json(&example("rules.json")).expect("rules");
    Engine::restore_json(
        json,
        rules,
        client(sim, seed),
        account(sim),
        sim.nbp_base_url(),
        [seed; 32],
    )
    .expect("restore")
    .with_retry(quick())
}

fn now() -> u64 {
    SystemClock.now_ms()
}

fn submit(e: &mut Engine, order: &Order) -> OrderOutcome {
    e.order(order, Trigger::StatusChanged, now())
        .expect("order")
}

fn run(e: &mut Engine, t: &mut dyn Transport) -> Vec<String> {
    let mut events = Vec::new();
    e.drive(t, &mut SystemClock, |ev: PairedEvent| {
        events.push(format!("{ev:?}"))
    });
    if let Some((order, err)) = e.poll_order_error() {
        panic!("order {order} failed: {err:?}");
    }
    events
}

fn pdf(sim: &SimHandle, t: &mut dyn Transport, id: u64) -> String {
    let resp = t
        .send(&fakturownia::get_pdf(&account(sim), id))
        .expect("PDF");
    let bytes = fakturownia::read_pdf(&resp).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The one job's KSeF number and Fakturownia id after checking both channels agree: one
/// accepted KSeF invoice and one Fakturownia document per job, same number, `gov_id` = the
/// KSeF number, and the PDF shows it.
fn check_completed(sim: &SimHandle, e: &Engine, t: &mut dyn Transport, job: &str) -> (String, u64) {
    let j = e.machine().job(job).expect("job");
    assert_eq!(j.status(), PairedStatus::Completed, "{j:?}");
    let ksef_number = j.ksef_number.clone().expect("KSeF number");
    KsefNumber::parse(&ksef_number).expect("a valid KSeF number");
    // Also after a crash, when the resent invoice is a KSeF duplicate (440) whose original
    // number is taken: the UPO is fetched from the session that holds the original.
    assert!(
        j.upo.as_deref().is_some_and(|u| u.contains(&ksef_number)),
        "the UPO names the invoice: {j:?}\n{}",
        e.machine().audit_json()
    );
    let accepted: Vec<_> = sim
        .accepted_invoices()
        .into_iter()
        .filter(|a| a.invoice_number == j.docs.number)
        .collect();
    assert_eq!(accepted.len(), 1, "exactly one KSeF invoice: {accepted:?}");
    assert_eq!(accepted[0].ksef_number, ksef_number);
    assert_eq!(accepted[0].seller_nip, SELLER);
    let docs: Vec<_> = sim
        .fakturownia_invoices()
        .into_iter()
        .filter(|d| d.oid.as_deref() == Some(job))
        .collect();
    assert_eq!(docs.len(), 1, "exactly one Fakturownia document: {docs:?}");
    let d = &docs[0];
    assert_eq!(d.gov_id.as_deref(), Some(ksef_number.as_str()));
    assert_eq!(d.number, j.docs.number, "the same number in both channels");
    assert_eq!(j.fakturownia_id, Some(d.id));
    let text = pdf(sim, t, d.id);
    assert!(
        text.contains(&format!("Numer KSeF: {ksef_number}")),
        "the PDF shows the KSeF number"
    );
    (ksef_number, d.id)
}

fn job_of(outcome: OrderOutcome) -> String {
    match outcome {
        OrderOutcome::Submitted(job) => job,
        other => panic!("not submitted: {other:?}"),
    }
}

fn paired_b2b(mode: Mode, group: &str) {
    let sim = sim();
    let mut t = paired_transport(&sim, group);
    let mut e = engine(&sim, mode, 1);
    let order = Order::from_json(&example("order-b2b.json")).expect("order");
    let job = job_of(submit(&mut e, &order));
    let events = run(&mut e, &mut t);
    let (ksef_number, id) = check_completed(&sim, &e, &mut t, &job);
    assert!(events.iter().any(|e| e.starts_with("KsefNumberReceived")
        && e.contains(&ksef_number)
        && e.contains("upo: Some")));
    assert!(events
        .iter()
        .any(|e| e.starts_with("FakturowniaCreated") && e.contains(&id.to_string())));
    assert!(events.iter().any(|e| e.starts_with("Completed")));
    let puts = t.other.iter().filter(|r| r.starts_with("PUT ")).count();
    match mode {
        // the document is created with gov_id: nothing to backfill
        Mode::KsefFirst => assert_eq!(puts, 0, "{:?}", t.other),
        // created at once, the KSeF number written afterwards
        Mode::Simultaneous => assert_eq!(puts, 1, "{:?}", t.other),
    }
    assert!(!e.machine().audit_json().contains(FAKT_TOKEN));
    assert!(!e.snapshot_json().contains(FAKT_TOKEN));
}

#[test]
fn ksef_first_order_gets_ksef_number_upo_and_fakturownia_document_with_gov_id() {
    paired_b2b(Mode::KsefFirst, "paired-ksef-first");
}

#[test]
fn simultaneous_order_backfills_the_ksef_number_into_fakturownia() {
    paired_b2b(Mode::Simultaneous, "paired-simultaneous");
}

#[test]
fn eur_order_fetches_the_nbp_rate_from_the_simulator() {
    let sim = sim();
    let mut t = paired_transport(&sim, "paired-eur");
    let mut e = engine(&sim, Mode::KsefFirst, 2);
    let order = Order::from_json(&example("order-eur.json")).expect("order");
    let outcome = submit(&mut e, &order);
    assert_eq!(
        outcome,
        OrderOutcome::WaitingForRate {
            currency: "EUR".into()
        }
    );
    run(&mut e, &mut t);
    assert!(
        t.other
            .iter()
            .any(|r| r.contains("/nbp/api/exchangerates/rates/a/eur/")
                || r.contains("/nbp/api/exchangerates/rates/a/EUR/")),
        "{:?}",
        t.other
    );
    let job = e.machine().jobs().next().expect("a job").id.clone();
    check_completed(&sim, &e, &mut t, &job);
    // The rate the sim's NBP gives for the day, in both documents.
    let j = e.machine().job(&job).expect("job");
    let doc = sim
        .fakturownia_invoices()
        .into_iter()
        .find(|d| d.oid.as_deref() == Some(job.as_str()))
        .expect("document");
    let rate = doc.json["exchange_currency_rate"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            doc.json["exchange_currency_rate"]
                .as_f64()
                .map(|f| f.to_string())
        })
        .expect("exchange_currency_rate");
    assert_eq!(doc.json["currency"], "EUR");
    assert!(
        j.docs.xml.contains(&format!("<KursWaluty>{rate}")) || j.docs.xml.contains(&rate),
        "the FA(3) XML carries the NBP rate {rate}"
    );
    assert!(j.docs.xml.contains("<KodWaluty>EUR</KodWaluty>"));
}

#[test]
fn a_return_is_a_ksef_correction_and_a_fakturownia_correction_linked_to_the_original() {
    let sim = sim();
    let mut t = paired_transport(&sim, "paired-return");
    let mut e = engine(&sim, Mode::KsefFirst, 3);
    let order = Order::from_json(&example("order-b2b.json")).expect("order");
    let job = job_of(submit(&mut e, &order));
    run(&mut e, &mut t);
    let (original_ksef, original_id) = check_completed(&sim, &e, &mut t, &job);
    let original = e.machine().job(&job).expect("job").clone();
    // The return names the invoice really issued: its number, KSeF number and date.
    let mut ret: serde_json::Value =
        serde_json::from_str(&example("order-return.json")).expect("return");
    let issued = SystemClock.now_ms() / 1000;
    let issue_date = ksef::model::DateTime::from_unix_seconds(issued as i64)
        .expect("now")
        .date()
        .to_string();
    ret["corrects"]["ksef_number"] = original_ksef.clone().into();
    ret["corrects"]["invoice_number"] = original.docs.number.clone().into();
    ret["corrects"]["issue_date"] = issue_date.into();
    let ret = Order::from_json(&ret.to_string()).expect("return order");
    let kor = job_of(submit(&mut e, &ret));
    run(&mut e, &mut t);
    let (kor_ksef, _) = check_completed(&sim, &e, &mut t, &kor);
    assert_ne!(kor_ksef, original_ksef);
    let k = e.machine().job(&kor).expect("job");
    assert_eq!(k.docs.correction_of.as_deref(), Some(job.as_str()));
    assert!(k.docs.xml.contains("<RodzajFaktury>KOR</RodzajFaktury>"));
    assert!(
        k.docs
            .xml
            .contains(&format!("<NrKSeFFaKorygowanej>{original_ksef}")),
        "the KOR references the original KSeF number"
    );
    let doc = sim
        .fakturownia_invoices()
        .into_iter()
        .find(|d| d.oid.as_deref() == Some(kor.as_str()))
        .expect("correction document");
    assert_eq!(doc.kind, "correction");
    assert_eq!(doc.from_invoice_id, Some(original_id));
    assert_eq!(doc.gov_id.as_deref(), Some(kor_ksef.as_str()));
    // the pair is linked
    let o = e.machine().job(&job).expect("job");
    assert!(o.corrections.contains(&kor), "{o:?}");
    assert_eq!(sim.accepted_invoices().len(), 2);
    assert_eq!(sim.fakturownia_invoices().len(), 2);
}

#[test]
fn fakturownia_down_is_recovered_with_the_stored_ksef_number() {
    let sim = sim();
    let mut t = paired_transport(&sim, "paired-fakt-down");
    let mut e = engine(&sim, Mode::KsefFirst, 4);
    sim.faults().set_fakturownia_unavailable(true);
    let order = Order::from_json(&example("order-b2b.json")).expect("order");
    let job = job_of(submit(&mut e, &order));
    let events = run(&mut e, &mut t);
    let j = e.machine().job(&job).expect("job");
    assert_eq!(j.status(), PairedStatus::KsefOkFakturowniaFailed, "{j:?}");
    assert_eq!(j.status().as_str(), "KSEF_OK_FAKTUROWNIA_FAILED");
    assert!(events.iter().any(|e| e.starts_with("DiscrepancyEntered")));
    assert!(sim.fakturownia_invoices().is_empty());
    assert_eq!(sim.accepted_invoices().len(), 1);
    // Fakturownia is back: only its leg runs again, with the stored KSeF number.
    sim.faults().set_fakturownia_unavailable(false);
    let sends_before = sim.request_log().len();
    e.machine_mut()
        .retry_fakturownia(&job, now())
        .expect("retry");
    let events = run(&mut e, &mut t);
    assert!(events.iter().any(|e| e.starts_with("DiscrepancyLeft")));
    check_completed(&sim, &e, &mut t, &job);
    assert_eq!(e.machine().job(&job).expect("job").ksef_submissions, 1);
    assert_eq!(
        sim.request_log().len(),
        sends_before,
        "the recovery did not call KSeF"
    );
    assert_eq!(sim.accepted_invoices().len(), 1, "exactly one KSeF invoice");
}

/// Crashes after every request of a run (the request reached the server, its answer is lost):
/// snapshot → drop → restore with a fresh client → completed, one KSeF invoice, one document.
fn crash_everywhere(mode: Mode, group: &str) -> usize {
    let order = Order::from_json(&example("order-b2b.json")).expect("order");
    let mut k = 1;
    loop {
        let sim = sim();
        let mut t = paired_transport(&sim, group);
        let mut e = engine(&sim, mode, 5);
        let job = job_of(submit(&mut e, &order));
        let mut sent = 0;
        let mut crashed = false;
        loop {
            let now = now();
            if let Some((id, req)) = e.poll_transmit(now) {
                let r = t.send(&req);
                sent += 1;
                if sent == k {
                    crashed = true;
                    break;
                }
                e.handle_response(now, id, r);
                continue;
            }
            if e.is_idle() {
                break;
            }
            match e.poll_timeout() {
                Some(at) => SystemClock.sleep_until(at),
                None => break,
            }
        }
        if !crashed {
            return k - 1;
        }
        let snap = e.snapshot_json();
        drop(e);
        let mut e = restore(&snap, &sim, 100 + k as u8);
        run(&mut e, &mut t);
        // a failed leg after a crash is finished by the recovery actions
        let status = e.machine().job(&job).expect("job").status();
        match status {
            PairedStatus::KsefOkFakturowniaFailed => e
                .machine_mut()
                .retry_fakturownia(&job, now())
                .expect("retry"),
            PairedStatus::KsefIdBackfillFailed => {
                e.machine_mut().retry_backfill(&job, now()).expect("retry")
            }
            _ => {}
        }
        run(&mut e, &mut t);
        check_completed(&sim, &e, &mut t, &job);
        assert_eq!(sim.accepted_invoices().len(), 1, "crash after request {k}");
        assert_eq!(
            sim.fakturownia_invoices().len(),
            1,
            "crash after request {k}"
        );
        k += 1;
    }
}

#[test]
fn crash_after_any_request_resumes_without_duplicates_ksef_first() {
    let requests = crash_everywhere(Mode::KsefFirst, "paired-crash-ksef-first");
    assert!(requests >= 8, "a run has {requests} requests");
}

#[test]
fn crash_after_any_request_resumes_without_duplicates_simultaneous() {
    let requests = crash_everywhere(Mode::Simultaneous, "paired-crash-simultaneous");
    assert!(requests >= 8, "a run has {requests} requests");
}

fn offline_engine(sim: &SimHandle, mode: Mode, seed: u8) -> Engine {
    use ksef::offline::availability::AutoOffline;
    use ksef::paired::engine::OfflineSigner;
    let rules = RuleConfig::from_json(&example("rules.json")).expect("rules");
    // an impatient client: KSeF being down must not take minutes of retries
    let cfg = Config::with_base_url(sim.base_url(), Nip::parse(SELLER).expect("NIP"))
        .retry(RetryPolicy::new(2, 10, 50, 500))
        .polling(50, 60_000);
    let client = Client::new(cfg, Credentials::ksef_token("e2e-ksef-token"), [seed; 32]);
    let mut e = Engine::new(
        rules,
        mode,
        client,
        account(sim),
        sim.nbp_base_url(),
        [seed; 32],
    )
    .with_retry(quick())
    .with_offline(ksef::Environment::Test, AutoOffline::default());
    let (key, cert) = fixture_cert("ec");
    e.set_offline_signer(OfflineSigner {
        context_type: ksef::qr::ContextType::Nip,
        context_value: SELLER.into(),
        certificate_serial: cert.serial_hex(),
        key,
    });
    e
}

/// KSeF down (5xx) in simultaneous mode: the invoice is issued offline with QR codes, the
/// customer's Fakturownia document is made at once; after a restart KSeF is back, the queue
/// is sent with `offlineMode`, and the KSeF number is backfilled into the document.
#[test]
fn ksef_down_simultaneous_issues_offline_then_backfills_the_ksef_number() {
    let sim = sim();
    let mut t = paired_transport(&sim, "paired-offline");
    sim.faults().set_unavailable_retry_after(1);
    sim.faults().set_unavailable(true);
    let mut e = offline_engine(&sim, Mode::Simultaneous, 7);
    let order = Order::from_json(&example("order-b2b.json")).expect("order");
    let job = job_of(submit(&mut e, &order));
    let events = run(&mut e, &mut t);
    let j = e.machine().job(&job).expect("job");
    assert_eq!(j.status(), PairedStatus::FakturowniaOkKsefOffline, "{j:?}");
    assert_eq!(j.status().as_str(), "FAKTUROWNIA_OK_KSEF_OFFLINE");
    assert!(!j.status().is_discrepancy());
    assert!(
        events.iter().any(|e| e.starts_with("KsefOffline")),
        "{events:?}"
    );
    let issued = events
        .iter()
        .find(|e| e.starts_with("OfflineIssued"))
        .expect("issued offline");
    assert!(
        issued.contains("https://qr-test.ksef.mf.gov.pl/invoice/5265877635/"),
        "{issued}"
    );
    assert!(issued.contains("kod2_url: Some(\"https://qr-test.ksef.mf.gov.pl/certificate/"));
    let docs = sim.fakturownia_invoices();
    assert_eq!(docs.len(), 1, "the customer's document exists at once");
    assert_eq!(docs[0].gov_id, None);
    assert!(sim.accepted_invoices().is_empty());
    let q = e.offline_queue().expect("queue");
    assert_eq!(q.invoices().len(), 1);
    assert_eq!(
        q.invoices()[0].xml,
        j.docs.xml.as_bytes(),
        "the exact bytes are queued"
    );

    // Restart (the queue is in the engine's snapshot); KSeF is back.
    let snap = e.snapshot_json();
    drop(e);
    sim.faults().set_unavailable(false);
    let mut e = restore(&snap, &sim, 8).with_offline(
        ksef::Environment::Test,
        ksef::offline::availability::AutoOffline::default(),
    );
    assert_eq!(e.offline_queue().expect("queue").invoices().len(), 1);
    assert_eq!(e.recover_offline(100), 1);
    let events = run(&mut e, &mut t);
    assert!(
        events.iter().any(|e| e.starts_with("Completed")),
        "{events:?}"
    );
    let (ksef_number, _) = check_completed(&sim, &e, &mut t, &job);
    let q = e.offline_queue().expect("queue");
    let inv = &q.invoices()[0];
    assert_eq!(inv.ksef_number(), Some(ksef_number.as_str()));
    // the KSeF number's invoice hash is the hash in KOD I
    let accepted = sim.accepted_invoices();
    assert_eq!(accepted[0].invoice_hash, inv.hash);
    let mut b = [0u8; 43];
    assert_eq!(
        inv.kod1_url.rsplit('/').next(),
        Some(inv.sha256().base64url_into(&mut b))
    );
    assert_eq!(e.recover_offline(100), 0, "nothing left");
}

/// Latarnia announces a failure in KSeF-first mode: no KSeF attempt, the invoice is issued
/// offline, the Fakturownia document waits for the KSeF number and is created with it.
#[test]
fn announced_failure_ksef_first_waits_for_the_number_then_creates_the_document() {
    use ksef::offline::availability::KsefStatus;
    let sim = sim();
    let mut t = paired_transport(&sim, "paired-offline-announced");
    let mut e = offline_engine(&sim, Mode::KsefFirst, 9);
    e.set_ksef_status(KsefStatus::Failure);
    let before = sim.request_log().len();
    let order = Order::from_json(&example("order-b2b.json")).expect("order");
    let job = job_of(submit(&mut e, &order));
    run(&mut e, &mut t);
    let j = e.machine().job(&job).expect("job");
    assert_eq!(j.status(), PairedStatus::KsefOffline, "{j:?}");
    assert_eq!(
        j.ksef_submissions, 0,
        "no KSeF attempt while a failure is announced"
    );
    assert_eq!(sim.request_log().len(), before, "KSeF was not called");
    assert!(
        sim.fakturownia_invoices().is_empty(),
        "KSeF-first: the document waits"
    );
    e.set_ksef_status(KsefStatus::Available);
    assert_eq!(e.recover_offline(100), 1);
    run(&mut e, &mut t);
    check_completed(&sim, &e, &mut t, &job);
}
