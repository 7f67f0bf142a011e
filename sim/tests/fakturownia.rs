//! The Fakturownia and NBP simulators over loopback, driven by the core's sans-IO client
//! (`ksef::paired::{fakturownia, nbp}`) and its built-in transport.

use std::time::Duration;

use ksef::http::{Request, Response, Transport};
use ksef::model::Date;
use ksef::paired::fakturownia::{self, Account};
use ksef::paired::nbp;
use ksef::transport::UreqTransport;
use ksef::ErrorCode;
use ksef_sim::{Sim, SimConfig, SimHandle};
use serde_json::json;

const GOV_ID: &str = "5265877635-20261121-0100A0B1C2D3-4E";

fn start() -> (SimHandle, Account, UreqTransport) {
    let sim = Sim::start(SimConfig::default().with_fakturownia_token("fk-token")).unwrap();
    let acc = Account::new(sim.fakturownia_base_url(), "fk-token");
    (sim, acc, UreqTransport::new().unwrap())
}

fn send(t: &mut UreqTransport, req: &Request) -> Response {
    t.send(req).unwrap()
}

fn company_invoice(number: &str) -> serde_json::Value {
    json!({
        "kind": "vat", "number": number, "issue_date": "2026-11-21",
        "seller_name": "Sklep Internetowy sp. z o.o.", "seller_tax_no": "5265877635",
        "buyer_name": "Hurtownia Łódź S.A.", "buyer_tax_no": "7740001454", "buyer_company": true,
        "buyer_email": "faktury@hurtownia.example",
        "positions": [
            {"name": "Kubek ceramiczny", "quantity": 2, "tax": 23, "total_price_gross": "24.60"},
            {"name": "Wysyłka", "quantity": 1, "tax": 23, "price_net": "10.00"}
        ]
    })
}

fn pdf_text(pdf: &[u8]) -> String {
    String::from_utf8_lossy(pdf).into_owned()
}

#[test]
fn the_whole_fakturownia_leg() {
    let (sim, acc, mut t) = start();

    // Create with oid + oid_unique.
    let req =
        fakturownia::create_invoice(&acc, &company_invoice("FV/2026/11/1"), "order-1001").unwrap();
    let resp = send(&mut t, &req);
    assert_eq!(resp.status, 201);
    let doc = fakturownia::read_invoice(&resp).unwrap();
    assert_eq!(doc.number, "FV/2026/11/1");
    assert_eq!(doc.oid.as_deref(), Some("order-1001"));
    assert_eq!(doc.gov_id, None);
    assert_eq!(doc.raw["price_gross"], "36.90");
    assert_eq!(doc.raw["price_net"], "30.00");
    assert_eq!(doc.raw["price_tax"], "6.90");
    assert!(doc.raw.get("api_token").is_none());

    // The same order again: refused as a duplicate oid (even with another number).
    let again =
        fakturownia::create_invoice(&acc, &company_invoice("FV/2026/11/2"), "order-1001").unwrap();
    let err = fakturownia::read_invoice(&send(&mut t, &again)).unwrap_err();
    assert!(fakturownia::is_duplicate_oid(&err), "{err:?}");
    assert_eq!(sim.fakturownia_invoices().len(), 1);

    // Found by oid after a "crash"; other orders are not.
    let found = fakturownia::read_found_by_oid(
        &send(&mut t, &fakturownia::find_by_oid(&acc, "order-1001")),
        "order-1001",
    )
    .unwrap()
    .unwrap();
    assert_eq!(found.id, doc.id);
    let none = send(&mut t, &fakturownia::find_by_oid(&acc, "order-9"));
    assert_eq!(
        fakturownia::read_found_by_oid(&none, "order-9").unwrap(),
        None
    );
    let by_number = fakturownia::read_invoices(&send(
        &mut t,
        &fakturownia::find_by_number(&acc, "FV/2026/11/1"),
    ))
    .unwrap();
    assert_eq!(by_number.iter().map(|d| d.id).collect::<Vec<_>>(), [doc.id]);

    // Company buyer, no KSeF number yet: e-mail refused with HTTP 200 status:error.
    let mail = fakturownia::send_by_email(&acc, doc.id, &["faktury@hurtownia.example"]).unwrap();
    let resp = send(&mut t, &mail);
    assert_eq!(resp.status, 200);
    let err = fakturownia::read_status(&resp).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaNoKsefNumber);

    // The PDF before the backfill says there is no KSeF number.
    let pdf = fakturownia::read_pdf(&send(&mut t, &fakturownia::get_pdf(&acc, doc.id))).unwrap();
    assert!(!pdf_text(&pdf).contains(GOV_ID));
    assert!(pdf_text(&pdf).contains("(Numer KSeF: \\(brak"));

    // Backfill gov_id with a PUT (twice: idempotent).
    for _ in 0..2 {
        let put = fakturownia::update_invoice(&acc, doc.id, &json!({"gov_id": GOV_ID})).unwrap();
        let updated = fakturownia::read_invoice(&send(&mut t, &put)).unwrap();
        assert_eq!(updated.gov_id.as_deref(), Some(GOV_ID));
    }
    let got =
        fakturownia::read_invoice(&send(&mut t, &fakturownia::get_invoice(&acc, doc.id))).unwrap();
    assert_eq!(got.gov_id.as_deref(), Some(GOV_ID));
    // Locked now: another KSeF number or another edit is refused.
    let put = fakturownia::update_invoice(&acc, doc.id, &json!({"gov_id": "x"})).unwrap();
    assert_eq!(
        fakturownia::read_invoice(&send(&mut t, &put))
            .unwrap_err()
            .code(),
        ErrorCode::FakturowniaValidation
    );

    // The PDF shows the KSeF number, the number, the buyer and the totals.
    let pdf = fakturownia::read_pdf(&send(&mut t, &fakturownia::get_pdf(&acc, doc.id))).unwrap();
    let text = pdf_text(&pdf);
    assert!(text.starts_with("%PDF-1.4"));
    assert!(text.trim_end().ends_with("%%EOF"));
    assert!(
        text.contains(&format!("(Numer KSeF: {GOV_ID}) Tj")),
        "{text}"
    );
    assert!(text.contains("Faktura VAT nr FV/2026/11/1"));
    assert!(text.contains("Nabywca: Hurtownia Lodz S.A."));
    assert!(text.contains("Razem brutto: 36.90 PLN"));

    // E-mail works now.
    let resp = send(&mut t, &mail);
    fakturownia::read_status(&resp).unwrap();
    let docs = sim.fakturownia_invoices();
    assert_eq!(docs[0].emails, ["faktury@hurtownia.example"]);
    assert_eq!(docs[0].gov_id.as_deref(), Some(GOV_ID));

    // Correction: must reference an existing document.
    let mut kor = json!({
        "kind": "correction", "number": "KOR/2026/11/1", "correction_reason": "Zwrot towaru",
        "gov_id": "5265877635-20261122-0100A0B1C2D4-11",
        "positions": [{"name": "Kubek ceramiczny", "quantity": -1, "tax": 23,
            "total_price_gross": "-12.30", "kind": "correction"}]
    });
    kor["from_invoice_id"] = json!(999);
    kor["invoice_id"] = json!(999);
    let err = fakturownia::read_invoice(&send(
        &mut t,
        &fakturownia::create_invoice(&acc, &kor, "order-1001-kor-1").unwrap(),
    ))
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaValidation);
    assert_eq!(err.path(), "from_invoice_id");
    kor["from_invoice_id"] = json!(doc.id);
    kor["invoice_id"] = json!(doc.id);
    let resp = send(
        &mut t,
        &fakturownia::create_invoice(&acc, &kor, "order-1001-kor-1").unwrap(),
    );
    let k = fakturownia::read_invoice(&resp).unwrap();
    assert_eq!(k.kind, "correction");
    assert_eq!(k.raw["price_gross"], "-12.30");
    let docs = sim.fakturownia_invoices();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].from_invoice_id, Some(doc.id));
    let pdf = fakturownia::read_pdf(&send(&mut t, &fakturownia::get_pdf(&acc, k.id))).unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains("Faktura korygujaca nr KOR/2026/11/1"));
    assert!(text.contains(&format!("Korekta faktury FV/2026/11/1 \\(KSeF {GOV_ID}\\)")));
}

#[test]
fn consumer_buyers_get_email_without_a_ksef_number() {
    let (sim, acc, mut t) = start();
    let inv = json!({"buyer_first_name": "Jan", "buyer_last_name": "Nowak",
        "buyer_email": "jan@example.com",
        "positions": [{"name": "Kubek", "tax": 23, "total_price_gross": "12.30"}]});
    let doc = fakturownia::read_invoice(&send(
        &mut t,
        &fakturownia::create_invoice(&acc, &inv, "b2c-1").unwrap(),
    ))
    .unwrap();
    // No number given: Fakturownia numbers it itself.
    assert!(doc.number.starts_with("FV 1/"), "{}", doc.number);
    let mail = fakturownia::send_by_email(&acc, doc.id, &["jan@example.com"]).unwrap();
    fakturownia::read_status(&send(&mut t, &mail)).unwrap();
    assert_eq!(sim.fakturownia_invoices()[0].emails, ["jan@example.com"]);
}

#[test]
fn wrong_token_and_refused_fields() {
    let (sim, acc, mut t) = start();
    let wrong = Account::new(sim.fakturownia_base_url(), "not-the-token");
    let req = fakturownia::create_invoice(&wrong, &company_invoice("FV/1"), "o-1").unwrap();
    let err = fakturownia::read_invoice(&send(&mut t, &req)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaUnauthorized);
    let err =
        fakturownia::read_invoice(&send(&mut t, &fakturownia::get_invoice(&wrong, 1))).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaUnauthorized);
    // Missing positions: a 422 naming the field.
    let req = fakturownia::create_invoice(&acc, &json!({"buyer_name": "X"}), "o-2").unwrap();
    let err = fakturownia::read_invoice(&send(&mut t, &req)).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        (ErrorCode::FakturowniaValidation, "positions")
    );
    // A number used twice.
    for (oid, ok) in [("o-3", true), ("o-4", false)] {
        let req = fakturownia::create_invoice(&acc, &company_invoice("FV/9"), oid).unwrap();
        let r = fakturownia::read_invoice(&send(&mut t, &req));
        assert_eq!(r.is_ok(), ok, "{r:?}");
    }
    // Unknown ids.
    let err =
        fakturownia::read_invoice(&send(&mut t, &fakturownia::get_invoice(&acc, 5))).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaNotFound);
    assert_eq!(sim.fakturownia_invoices().len(), 1);
}

#[test]
fn faults_down_5xx_slow_dropped_processed_then_dropped() {
    let (sim, acc, mut t) = start();
    let create = |oid: &str| fakturownia::create_invoice(&acc, &company_invoice(oid), oid).unwrap();

    sim.faults().set_fakturownia_unavailable(true);
    let r = send(&mut t, &create("a"));
    assert_eq!(r.status, 503);
    assert_eq!(
        fakturownia::read_invoice(&r).unwrap_err().code(),
        ErrorCode::FakturowniaUnavailable
    );
    // KSeF is not affected by a Fakturownia outage.
    let ksef = t
        .send(&Request::new(
            ksef::http::Method::Get,
            format!("{}/security/public-key-certificates", sim.base_url()),
        ))
        .unwrap();
    assert_eq!(ksef.status, 200);
    sim.faults().set_fakturownia_unavailable(false);
    assert!(sim.fakturownia_invoices().is_empty());

    sim.faults()
        .fail_next("POST /fakturownia/invoices.json", 1, 500);
    assert_eq!(send(&mut t, &create("a")).status, 500);
    assert!(sim.fakturownia_invoices().is_empty());

    sim.faults().drop_next("POST /fakturownia/invoices.json", 1);
    assert!(t.send(&create("a")).is_err());
    assert!(sim.fakturownia_invoices().is_empty());

    // Processed, then the answer is lost: the resend is refused as a duplicate and the
    // document is found by its oid.
    sim.faults()
        .drop_after_processing("POST /fakturownia/invoices.json", 1);
    assert!(t.send(&create("a")).is_err());
    assert_eq!(sim.fakturownia_invoices().len(), 1);
    let err = fakturownia::read_invoice(&send(&mut t, &create("a"))).unwrap_err();
    assert!(fakturownia::is_duplicate_oid(&err));
    let found = send(&mut t, &fakturownia::find_by_oid(&acc, "a"));
    assert!(fakturownia::read_found_by_oid(&found, "a")
        .unwrap()
        .is_some());

    // Slow: answered, after the delay.
    sim.faults().slow_next(
        "PUT /fakturownia/invoices/{id}.json",
        1,
        Duration::from_millis(300),
    );
    let id = sim.fakturownia_invoices()[0].id;
    let put = fakturownia::update_invoice(&acc, id, &json!({"gov_id": GOV_ID})).unwrap();
    let started = std::time::Instant::now();
    let r = send(&mut t, &put);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        fakturownia::read_invoice(&r).unwrap().gov_id.as_deref(),
        Some(GOV_ID)
    );

    // A timeout on a slow call, with a short client timeout.
    sim.faults().slow_next(
        "GET /fakturownia/invoices/*",
        1,
        Duration::from_millis(1500),
    );
    let mut impatient = UreqTransport::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(impatient.send(&fakturownia::get_invoice(&acc, id)).is_err());
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn nbp_rates_end_to_end() {
    let (sim, _acc, mut t) = start();
    // Monday 2026-11-23: the rate is Friday's.
    let req = nbp::table_a_rate_request(&sim.nbp_base_url(), "EUR", d("2026-11-23"));
    let resp = send(&mut t, &req);
    assert_eq!(resp.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(body["table"], "A");
    assert_eq!(body["currency"], "euro");
    assert_eq!(body["code"], "EUR");
    let rates = body["rates"].as_array().unwrap();
    // 2026-11-09 .. 2026-11-22: 10 weekdays, minus 11 November.
    assert_eq!(rates.len(), 9);
    assert!(rates.iter().all(|r| r["effectiveDate"] != "2026-11-11"));
    let rate = nbp::read_rate(&resp, "EUR", d("2026-11-23")).unwrap();
    assert_eq!(rate.date, d("2026-11-20"));
    assert!(rate.table.ends_with("/A/NBP/2026"));
    assert_eq!(rate.rate.scale(), 4);
    assert!(rate.rate > "4.0".parse().unwrap() && rate.rate < "4.5".parse().unwrap());
    // Deterministic.
    let again = nbp::read_rate(&send(&mut t, &req), "EUR", d("2026-11-23")).unwrap();
    assert_eq!(again, rate);
    // Tuesday after Easter Monday (2026-04-06, no table): Good Friday's (2026-04-03).
    let r = nbp::read_rate(
        &send(
            &mut t,
            &nbp::table_a_rate_request(&sim.nbp_base_url(), "usd", d("2026-04-07")),
        ),
        "USD",
        d("2026-04-07"),
    )
    .unwrap();
    assert_eq!(r.date, d("2026-04-03"));
    // Unknown currency: 404 "Brak danych" → no rate.
    let resp = send(
        &mut t,
        &nbp::table_a_rate_request(&sim.nbp_base_url(), "XYZ", d("2026-11-23")),
    );
    assert_eq!(resp.status, 404);
    assert_eq!(
        nbp::read_rate(&resp, "XYZ", d("2026-11-23"))
            .unwrap_err()
            .code(),
        ErrorCode::NbpNoRate
    );
    // NBP down.
    sim.faults().set_nbp_unavailable(true);
    let resp = send(&mut t, &req);
    assert_eq!(
        nbp::read_rate(&resp, "EUR", d("2026-11-23"))
            .unwrap_err()
            .code(),
        ErrorCode::NbpUnavailable
    );
    sim.faults().set_nbp_unavailable(false);
    sim.faults().fail_next("GET /nbp/api/*", 1, 502);
    assert_eq!(send(&mut t, &req).status, 502);
    assert_eq!(send(&mut t, &req).status, 200);
}
