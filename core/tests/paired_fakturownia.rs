//! The Fakturownia channel and NBP rates: request shapes, answers, webhooks.

use ksef::http::{Method, Response};
use ksef::model::Date;
use ksef::paired::fakturownia::{self, Account};
use ksef::paired::nbp;
use ksef::ErrorCode;
use serde_json::{json, Value};

const TOKEN: &str = "tok-9f8e7d6c5b4a/+=";

fn acc() -> Account {
    Account::new("https://sklep.fakturownia.pl/", TOKEN)
}

fn resp(status: u16, body: &str) -> Response {
    Response::new(
        status,
        vec![("Content-Type".into(), "application/json".into())],
        body.as_bytes().to_vec(),
    )
}

fn body(req: &ksef::http::Request) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

fn invoice() -> Value {
    json!({
        "kind": "vat", "number": "FV/2026/11/7", "issue_date": "2026-11-21",
        "buyer_name": "Sklep Testowy sp. z o.o.", "buyer_tax_no": "5265877635", "buyer_company": true,
        "currency": "EUR", "exchange_currency": "PLN", "exchange_kind": "nbp",
        "positions": [{"name": "Kubek", "quantity": 2, "tax": 23, "total_price_gross": "24.60"}]
    })
}

#[test]
fn create_puts_token_and_oid_in_the_body_and_never_asks_fakturownia_to_send_to_ksef() {
    let req = fakturownia::create_invoice(&acc(), &invoice(), "1001").unwrap();
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, "https://sklep.fakturownia.pl/invoices.json");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let mut expected = invoice();
    expected["oid"] = json!("1001");
    expected["oid_unique"] = json!("yes");
    assert_eq!(body(&req), json!({"api_token": TOKEN, "invoice": expected}));
    // Exact bytes: keys in order, nothing else.
    let text = String::from_utf8(req.body.clone()).unwrap();
    assert!(text.starts_with(&format!("{{\"api_token\":\"{TOKEN}\",\"invoice\":{{")));
    assert!(!text.contains("gov_save_and_send"));
    assert!(!format!("{req:?}").contains("tok-9f8e"));
    assert!(!format!("{:?}", acc()).contains("tok-9f8e"));
    assert!(format!("{:?}", acc()).contains("sklep.fakturownia.pl"));
}

#[test]
fn create_refuses_fields_that_would_send_to_ksef_twice_or_break_idempotency() {
    for (field, value) in [
        ("gov_save_and_send", json!(true)),
        ("send_to_ksef", json!("yes")),
        ("api_token", json!("x")),
        ("oid", json!("another-order")),
    ] {
        let mut inv = invoice();
        inv[field] = value;
        let err = fakturownia::create_invoice(&acc(), &inv, "1001").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidValue, "{field}");
        assert_eq!(err.path(), format!("invoice.{field}"));
    }
    // Sending explicitly off is fine (the rule engine writes it); the same oid too.
    let mut inv = invoice();
    inv["gov_save_and_send"] = json!(false);
    let req = fakturownia::create_invoice(&acc(), &inv, "1001").unwrap();
    assert_eq!(body(&req)["invoice"]["gov_save_and_send"], json!(false));
    let mut inv = invoice();
    inv["oid"] = json!("1001");
    assert!(fakturownia::create_invoice(&acc(), &inv, "1001").is_ok());
    for oid in ["", "  ", "a\nb"] {
        let err = fakturownia::create_invoice(&acc(), &invoice(), oid).unwrap_err();
        assert_eq!((err.code(), err.path()), (ErrorCode::InvalidValue, "oid"));
    }
    let long = "x".repeat(fakturownia::MAX_OID_LEN + 1);
    assert!(fakturownia::create_invoice(&acc(), &invoice(), &long).is_err());
    let err = fakturownia::create_invoice(&acc(), &json!([1]), "1").unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        (ErrorCode::InvalidValue, "invoice")
    );
}

#[test]
fn update_backfills_gov_id_with_a_put() {
    let req = fakturownia::update_invoice(
        &acc(),
        42,
        &json!({"gov_id": "5265877635-20261121-0100A0B1C2D3-4E"}),
    )
    .unwrap();
    assert_eq!(req.method, Method::Put);
    assert_eq!(req.url, "https://sklep.fakturownia.pl/invoices/42.json");
    assert_eq!(
        body(&req),
        json!({"api_token": TOKEN, "invoice": {"gov_id": "5265877635-20261121-0100A0B1C2D3-4E"}})
    );
    for f in ["gov_save_and_send", "oid", "oid_unique", "api_token"] {
        let err = fakturownia::update_invoice(&acc(), 42, &json!({ f: "yes" })).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidValue, "{f}");
        assert_eq!(err.path(), format!("fields.{f}"));
    }
}

#[test]
fn gets_carry_the_token_in_the_query_encoded_and_hidden_from_debug() {
    let enc = "tok-9f8e7d6c5b4a%2F%2B%3D";
    let r = fakturownia::get_invoice(&acc(), 42);
    assert_eq!(r.method, Method::Get);
    assert_eq!(
        r.url,
        format!("https://sklep.fakturownia.pl/invoices/42.json?api_token={enc}")
    );
    assert!(r.body.is_empty());
    let r = fakturownia::find_by_oid(&acc(), "zam 1/7&x");
    assert_eq!(
        r.url,
        format!(
            "https://sklep.fakturownia.pl/invoices.json?oid=zam%201%2F7%26x&period=all&api_token={enc}"
        )
    );
    let r = fakturownia::find_by_number(&acc(), "FV/2026/11/7");
    assert_eq!(
        r.url,
        format!(
            "https://sklep.fakturownia.pl/invoices.json?number=FV%2F2026%2F11%2F7&period=all&api_token={enc}"
        )
    );
    let r = fakturownia::get_pdf(&acc(), 42);
    assert_eq!(
        r.url,
        format!("https://sklep.fakturownia.pl/invoices/42.pdf?api_token={enc}")
    );
    assert_eq!(r.header("accept"), Some("application/pdf"));
    for r in [
        fakturownia::get_invoice(&acc(), 1),
        fakturownia::find_by_oid(&acc(), "1"),
        fakturownia::get_pdf(&acc(), 1),
    ] {
        assert!(!format!("{r:?}").contains("tok-9f8e"), "{r:?}");
    }
}

#[test]
fn send_by_email_body_and_limits() {
    let r = fakturownia::send_by_email(&acc(), 42, &["a@b.pl", "c@d.pl"]).unwrap();
    assert_eq!(r.method, Method::Post);
    assert_eq!(
        r.url,
        "https://sklep.fakturownia.pl/invoices/42/send_by_email.json"
    );
    assert_eq!(
        body(&r),
        json!({"api_token": TOKEN, "email_to": "a@b.pl,c@d.pl", "email_pdf": true})
    );
    assert!(fakturownia::send_by_email(&acc(), 42, &[]).is_err());
    assert!(fakturownia::send_by_email(&acc(), 42, &["a@b.pl"; 6]).is_err());
    let err = fakturownia::send_by_email(&acc(), 42, &["a@b.pl", "no-at-sign"]).unwrap_err();
    assert_eq!(err.path(), "email_to[1]");
    assert!(fakturownia::send_by_email(&acc(), 42, &["a@b.pl,x@y.pl"]).is_err());
}

const DOC: &str = r#"{"id":42,"number":"FV/2026/11/7","kind":"vat","gov_id":null,"oid":"1001",
    "token":"AbC123","buyer_name":"Jan","price_gross":"24.60"}"#;

#[test]
fn reads_a_document() {
    let d = fakturownia::read_invoice(&resp(201, DOC)).unwrap();
    assert_eq!(d.id, 42);
    assert_eq!(d.number, "FV/2026/11/7");
    assert_eq!(d.kind, "vat");
    assert_eq!(d.gov_id, None);
    assert_eq!(d.oid.as_deref(), Some("1001"));
    assert_eq!(d.token.as_deref(), Some("AbC123"));
    assert_eq!(d.raw["price_gross"], "24.60");
    let with_gov = DOC.replace(
        "\"gov_id\":null",
        "\"gov_id\":\"5265877635-20261121-0100A0B1C2D3-4E\"",
    );
    let d = fakturownia::read_invoice(&resp(200, &with_gov)).unwrap();
    assert_eq!(
        d.gov_id.as_deref(),
        Some("5265877635-20261121-0100A0B1C2D3-4E")
    );
    let d = fakturownia::read_invoice(&resp(
        200,
        &DOC.replace("\"gov_id\":null", "\"gov_id\":\"\""),
    ))
    .unwrap();
    assert_eq!(d.gov_id, None);
    // Not a document.
    for bad in [
        "[]",
        "{\"number\":\"x\",\"kind\":\"vat\"}",
        "{\"id\":-1,\"number\":\"x\",\"kind\":\"vat\"}",
        "{\"id\":1,\"kind\":\"vat\"}",
        "{\"id\":1,\"number\":\"x\",\"kind\":\"vat\",\"gov_id\":5}",
        "<html>",
    ] {
        let err = fakturownia::read_invoice(&resp(200, bad)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::FakturowniaBadResponse, "{bad}");
    }
    let list = format!(
        "[{DOC},{}]",
        DOC.replace("\"id\":42", "\"id\":43")
            .replace("1001", "1002")
    );
    let docs = fakturownia::read_invoices(&resp(200, &list)).unwrap();
    assert_eq!(docs.iter().map(|d| d.id).collect::<Vec<_>>(), [42, 43]);
    let found = fakturownia::read_found_by_oid(&resp(200, &list), "1002").unwrap();
    assert_eq!(found.map(|d| d.id), Some(43));
    assert_eq!(
        fakturownia::read_found_by_oid(&resp(200, &list), "100").unwrap(),
        None
    );
    assert_eq!(
        fakturownia::read_found_by_oid(&resp(200, "[]"), "1").unwrap(),
        None
    );
    let twice = format!("[{DOC},{}]", DOC.replace("\"id\":42", "\"id\":43"));
    let err = fakturownia::read_found_by_oid(&resp(200, &twice), "1001").unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaDuplicate);
}

#[test]
fn status_error_at_http_200_is_an_error() {
    let r = resp(
        200,
        r#"{"status":"error","message":"Nie można wysłać faktury: brak numeru KSeF"}"#,
    );
    let err = fakturownia::read_status(&r).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaNoKsefNumber);
    assert!(err.message().contains("brak numeru KSeF"));
    assert!(fakturownia::read_invoice(&r).is_err());
    let err = fakturownia::read_invoice(&resp(
        200,
        r#"{"code":"error","message":"coś poszło nie tak"}"#,
    ))
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaError);
    assert!(fakturownia::read_status(&resp(200, r#"{"status":"ok"}"#)).is_ok());
}

#[test]
fn field_errors_of_422_are_typed_with_their_names() {
    let r = resp(
        422,
        r#"{"code":"error","message":{"buyer_tax_no":["jest nieprawidłowy"],"positions":["nie może być puste"]}}"#,
    );
    let e = fakturownia::FakturowniaError::from_response(&r).unwrap();
    assert_eq!(
        e.fields,
        vec![
            (
                "buyer_tax_no".to_string(),
                vec!["jest nieprawidłowy".to_string()]
            ),
            (
                "positions".to_string(),
                vec!["nie może być puste".to_string()]
            ),
        ]
    );
    let err = fakturownia::read_invoice(&r).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaValidation);
    assert_eq!(err.path(), "buyer_tax_no, positions");
    assert!(err.message().contains("buyer_tax_no: jest nieprawidłowy"));
    assert!(!fakturownia::is_duplicate_oid(&err));
    // A bare field map.
    let err =
        fakturownia::read_invoice(&resp(422, r#"{"number":["jest już zajęty"]}"#)).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        (ErrorCode::FakturowniaValidation, "number")
    );
}

#[test]
fn duplicate_oid_is_recognised() {
    let r = resp(
        422,
        r#"{"code":"error","message":{"oid":["Faktura z tym oid już istnieje"]}}"#,
    );
    let err = fakturownia::read_invoice(&r).unwrap_err();
    assert_eq!(err.code(), ErrorCode::FakturowniaDuplicate);
    assert!(fakturownia::is_duplicate_oid(&err));
}

#[test]
fn http_statuses_map_to_codes() {
    for (status, code) in [
        (401, ErrorCode::FakturowniaUnauthorized),
        (403, ErrorCode::FakturowniaUnauthorized),
        (404, ErrorCode::FakturowniaNotFound),
        (429, ErrorCode::FakturowniaUnavailable),
        (500, ErrorCode::FakturowniaUnavailable),
        (503, ErrorCode::FakturowniaUnavailable),
        (400, ErrorCode::FakturowniaError),
    ] {
        let err = fakturownia::read_invoice(&resp(status, "<html>oops</html>")).unwrap_err();
        assert_eq!(err.code(), code, "{status}");
        assert!(err.message().contains(&status.to_string()));
    }
}

#[test]
fn pdf_answers() {
    let ok = Response::new(200, vec![], b"%PDF-1.4\n...".to_vec());
    assert!(fakturownia::read_pdf(&ok).unwrap().starts_with(b"%PDF-"));
    let html = Response::new(200, vec![], b"<html>login</html>".to_vec());
    assert_eq!(
        fakturownia::read_pdf(&html).unwrap_err().code(),
        ErrorCode::FakturowniaBadResponse
    );
    assert_eq!(
        fakturownia::read_pdf(&resp(404, "{}")).unwrap_err().code(),
        ErrorCode::FakturowniaNotFound
    );
}

fn hook(token: &str) -> String {
    format!(r#"{{"api_token":"{token}","event":"invoice:update","invoice":{DOC}}}"#)
}

#[test]
fn webhook_valid() {
    let w = fakturownia::parse_webhook(hook("hook-secret").as_bytes(), "hook-secret").unwrap();
    assert_eq!(w.event, "invoice:update");
    assert_eq!(w.invoice.id, 42);
    assert_eq!(w.invoice.oid.as_deref(), Some("1001"));
    // `kind` names the event too; no event name reads as empty.
    let k = format!(r#"{{"api_token":"s","kind":"invoice:create","invoice":{DOC}}}"#);
    assert_eq!(
        fakturownia::parse_webhook(k.as_bytes(), "s").unwrap().event,
        "invoice:create"
    );
    let n = format!(r#"{{"api_token":"s","invoice":{DOC}}}"#);
    assert_eq!(
        fakturownia::parse_webhook(n.as_bytes(), "s").unwrap().event,
        ""
    );
}

#[test]
fn webhook_forged_is_refused_without_echoing_secrets() {
    for (body, expected) in [
        (hook("wrong-secret"), "hook-secret"),
        (hook("hook-secre"), "hook-secret"),
        (hook(""), "hook-secret"),
        (format!(r#"{{"invoice":{DOC}}}"#), "hook-secret"),
        (hook(""), ""),
    ] {
        let err = fakturownia::parse_webhook(body.as_bytes(), expected).unwrap_err();
        assert_eq!(err.code(), ErrorCode::WebhookForged, "{body}");
        assert_eq!(err.path(), "api_token");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("wrong-secret") && !shown.contains("hook-secret"));
    }
}

#[test]
fn webhook_malformed_is_refused() {
    for body in [
        "not json".to_string(),
        "[1,2]".to_string(),
        r#"{"api_token":"s"}"#.to_string(),
        r#"{"api_token":"s","invoice":{"id":1}}"#.to_string(),
        r#"{"api_token":"s","invoice":[]}"#.to_string(),
        format!(r#"{{"api_token":"s","event":5,"invoice":{DOC}}}"#),
    ] {
        let err = fakturownia::parse_webhook(body.as_bytes(), "s").unwrap_err();
        assert_eq!(err.code(), ErrorCode::WebhookInvalid, "{body}");
    }
    let huge = vec![b' '; fakturownia::MAX_WEBHOOK_BYTES + 1];
    assert_eq!(
        fakturownia::parse_webhook(&huge, "s").unwrap_err().code(),
        ErrorCode::WebhookInvalid
    );
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

const EUR: &str = r#"{"table":"A","currency":"euro","code":"EUR","rates":[
  {"no":"224/A/NBP/2026","effectiveDate":"2026-11-18","mid":4.2301},
  {"no":"225/A/NBP/2026","effectiveDate":"2026-11-19","mid":4.2310},
  {"no":"226/A/NBP/2026","effectiveDate":"2026-11-20","mid":4.23450},
  {"no":"227/A/NBP/2026","effectiveDate":"2026-11-23","mid":4.2400}]}"#;

#[test]
fn nbp_request_shape() {
    let r = nbp::table_a_rate_request("https://api.nbp.pl/", "usd", d("2026-01-02"));
    assert_eq!(r.method, Method::Get);
    assert_eq!(
        r.url,
        "https://api.nbp.pl/api/exchangerates/rates/a/usd/2025-12-19/2026-01-01/?format=json"
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    // Whatever the input, the URL stays one path segment.
    let r = nbp::table_a_rate_request(nbp::NBP_API, "e/r?", d("2026-01-02"));
    assert!(r.url.contains("/a/e%2Fr%3F/"));
}

#[test]
fn nbp_picks_the_last_table_strictly_before_the_tax_point() {
    let ok = resp(200, EUR);
    // Monday 23rd: Friday's table (the 23rd's own table is not "before").
    let r = nbp::read_rate(&ok, "EUR", d("2026-11-23")).unwrap();
    assert_eq!(
        (r.table.as_str(), r.date, r.currency.as_str()),
        ("226/A/NBP/2026", d("2026-11-20"), "EUR")
    );
    // Exact decimal, as written (trailing zero kept, no float rounding).
    assert_eq!(r.rate.to_string(), "4.23450");
    assert_eq!(r.rate, "4.2345".parse().unwrap());
    // Sunday and Saturday: still Friday's.
    assert_eq!(
        nbp::read_rate(&ok, "eur", d("2026-11-22")).unwrap().date,
        d("2026-11-20")
    );
    assert_eq!(
        nbp::read_rate(&ok, "EUR", d("2026-11-21")).unwrap().date,
        d("2026-11-20")
    );
    // Friday: Thursday's.
    let thu = nbp::read_rate(&ok, "EUR", d("2026-11-20")).unwrap();
    assert_eq!(
        (thu.date, thu.rate.to_string()),
        (d("2026-11-19"), "4.2310".to_string())
    );
    // Tuesday: Monday's.
    assert_eq!(
        nbp::read_rate(&ok, "EUR", d("2026-11-24")).unwrap().table,
        "227/A/NBP/2026"
    );
    // Nothing before.
    let err = nbp::read_rate(&ok, "EUR", d("2026-11-18")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NbpNoRate);
}

#[test]
fn nbp_errors() {
    let ok = resp(200, EUR);
    let before = d("2026-11-23");
    assert_eq!(
        nbp::read_rate(&ok, "USD", before).unwrap_err().code(),
        ErrorCode::NbpBadResponse
    );
    assert_eq!(
        nbp::read_rate(&ok, "EU", before).unwrap_err().code(),
        ErrorCode::InvalidValue
    );
    assert_eq!(
        nbp::read_rate(&ok, "PLN", before).unwrap_err().code(),
        ErrorCode::InvalidValue
    );
    let not_found = Response::new(
        404,
        vec![],
        b"404 NotFound - Not Found - Brak danych".to_vec(),
    );
    assert_eq!(
        nbp::read_rate(&not_found, "EUR", before)
            .unwrap_err()
            .code(),
        ErrorCode::NbpNoRate
    );
    assert_eq!(
        nbp::read_rate(&resp(503, ""), "EUR", before)
            .unwrap_err()
            .code(),
        ErrorCode::NbpUnavailable
    );
    assert_eq!(
        nbp::read_rate(&resp(400, ""), "EUR", before)
            .unwrap_err()
            .code(),
        ErrorCode::NbpBadResponse
    );
    for (bad, path) in [
        (EUR.replace("4.2310", "-4.2310"), "rates[1].mid"),
        (EUR.replace("4.2310", "4.2e0"), "rates[1].mid"),
        (EUR.replace("4.2310", "\"x\""), "rates[1].mid"),
        (
            EUR.replace("2026-11-19", "2026-11-31"),
            "rates[1].effectiveDate",
        ),
        (EUR.replace("\"225/A/NBP/2026\"", "\"\""), "rates[1].no"),
        (EUR.replace("\"table\":\"A\"", "\"table\":\"B\""), "table"),
    ] {
        let err = nbp::read_rate(&resp(200, &bad), "EUR", before).unwrap_err();
        assert_eq!(
            (err.code(), err.path()),
            (ErrorCode::NbpBadResponse, path),
            "{bad}"
        );
    }
}
