//! A Fakturownia.pl API simulator, mounted at `/fakturownia` (so an account's base URL is
//! `http://127.0.0.1:PORT/fakturownia`), and an NBP table A simulator at `/nbp`.
//!
//! Follows `/work/shared/fakturownia-api.md` (Fakturownia's public API documentation); where
//! the documentation is silent, the choices are listed in `sim/README.md`. Anything not
//! simulated answers 501 — never a fake success.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ksef::model::{Date, Decimal};
use serde_json::{json, Map, Value};

use crate::faults::{FaultKind, Faults};
use crate::http::{Outcome, Request, Response, Service};
use crate::time;

/// A document held by the simulated Fakturownia account (for tests' inspection).
#[derive(Debug, Clone, PartialEq)]
pub struct FakturowniaDocument {
    /// Fakturownia's id.
    pub id: u64,
    /// The document number.
    pub number: String,
    /// `vat`, `correction`, …
    pub kind: String,
    /// The external order id (`oid`), when given.
    pub oid: Option<String>,
    /// The KSeF number, when set.
    pub gov_id: Option<String>,
    /// For corrections: the corrected document's id.
    pub from_invoice_id: Option<u64>,
    /// Every address the document was e-mailed to, in order.
    pub emails: Vec<String>,
    /// The document as `GET /invoices/{id}.json` answers it.
    pub json: Value,
}

#[derive(Default)]
struct Book {
    next_id: u64,
    docs: BTreeMap<u64, FakturowniaDocument>,
    /// Per (kind, year): the last automatic number.
    seq: BTreeMap<(String, u16), u64>,
}

/// The simulated Fakturownia account.
pub(crate) struct Fakturownia {
    token: Option<String>,
    faults: Arc<Faults>,
    book: Mutex<Book>,
}

/// First id handed out (Fakturownia's ids are large numbers).
const FIRST_ID: u64 = 380_000_001;

type Refusal = Response;

fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({"code": "error", "message": message}))
}

fn field_error(field: &str, message: &str) -> Response {
    Response::json(
        422,
        &json!({"code": "error", "message": { field: [message] }}),
    )
}

impl Fakturownia {
    pub(crate) fn new(token: Option<String>, faults: Arc<Faults>) -> Fakturownia {
        Fakturownia {
            token,
            faults,
            book: Mutex::new(Book {
                next_id: FIRST_ID,
                ..Book::default()
            }),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn documents(&self) -> Vec<FakturowniaDocument> {
        self.book().docs.values().cloned().collect()
    }

    fn authorized(&self, req: &Request, body: Option<&Value>) -> bool {
        let given = body
            .and_then(|b| b.get("api_token"))
            .and_then(Value::as_str)
            .or_else(|| req.query("api_token"));
        match (given, &self.token) {
            (None, _) => false,
            (Some(""), _) => false,
            (Some(g), Some(t)) => g == t,
            (Some(_), None) => true,
        }
    }

    fn dispatch(&self, path: &str, req: &Request) -> Response {
        let body: Option<Value> = if req.body.is_empty() {
            None
        } else {
            match serde_json::from_slice(&req.body) {
                Ok(v) => Some(v),
                Err(_) => return error(400, "Nieprawidłowy JSON"),
            }
        };
        if !self.authorized(req, body.as_ref()) {
            return error(401, "Nieprawidłowy lub brakujący api_token");
        }
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let id_of = |s: &str, ext: &str| s.strip_suffix(ext).and_then(|n| n.parse::<u64>().ok());
        let body = body.unwrap_or(Value::Null);
        match (req.method.as_str(), segs.as_slice()) {
            ("POST", ["invoices.json"]) => self.create(&body),
            ("GET", ["invoices.json"]) => self.list(req),
            ("GET", ["invoices", f]) if id_of(f, ".json").is_some() => {
                self.get(id_of(f, ".json").unwrap_or(0))
            }
            ("PUT", ["invoices", f]) if id_of(f, ".json").is_some() => {
                self.update(id_of(f, ".json").unwrap_or(0), &body)
            }
            ("GET", ["invoices", f]) if id_of(f, ".pdf").is_some() => {
                self.pdf(id_of(f, ".pdf").unwrap_or(0))
            }
            ("POST", ["invoices", id, "send_by_email.json"]) if id.parse::<u64>().is_ok() => {
                self.send_by_email(id.parse().unwrap_or(0), &body)
            }
            _ => error(
                501,
                &format!(
                    "ksef-sim: {} /fakturownia{path} is not simulated",
                    req.method
                ),
            ),
        }
    }

    fn create(&self, body: &Value) -> Response {
        let Some(inv) = body.get("invoice").and_then(Value::as_object) else {
            return field_error("invoice", "brak danych faktury");
        };
        if let Some(r) = refuse_ksef_sending(inv) {
            return r;
        }
        let mut book = self.book();
        let oid = text(inv.get("oid"));
        if let Some(oid) = &oid {
            let unique = matches!(inv.get("oid_unique"), Some(Value::String(s)) if s == "yes")
                || inv.get("oid_unique") == Some(&Value::Bool(true));
            if unique && book.docs.values().any(|d| d.oid.as_deref() == Some(oid)) {
                return field_error("oid", "jest już zajęte");
            }
        }
        let kind = text(inv.get("kind")).unwrap_or_else(|| "vat".into());
        let mut from_invoice_id = None;
        if kind == "correction" {
            let from = inv.get("from_invoice_id").and_then(as_id);
            let Some(from) = from.filter(|f| book.docs.contains_key(f)) else {
                return field_error(
                    "from_invoice_id",
                    "musi wskazywać istniejącą fakturę korygowaną",
                );
            };
            if let Some(i) = inv.get("invoice_id") {
                if as_id(i) != Some(from) {
                    return field_error("invoice_id", "musi wskazywać fakturę korygowaną");
                }
            }
            let original = &book.docs[&from].json;
            for f in ["buyer_tax_no", "seller_tax_no"] {
                if let Some(v) = text(inv.get(f)) {
                    if text(original.get(f)).is_some_and(|o| o != v) {
                        return field_error(f, "nie może się zmienić w korekcie");
                    }
                }
            }
            from_invoice_id = Some(from);
        }
        let issue_date = match text(inv.get("issue_date")) {
            None => time::date_of(time::now_ms()),
            Some(s) => match s.parse::<Date>() {
                Ok(d) => d,
                Err(_) => return field_error("issue_date", "nieprawidłowa data"),
            },
        };
        let totals = match totals(inv.get("positions")) {
            Ok(t) => t,
            Err(r) => return r,
        };
        if text(inv.get("buyer_name")).is_none()
            && text(inv.get("buyer_first_name")).is_none()
            && text(inv.get("buyer_last_name")).is_none()
            && kind != "correction"
        {
            return field_error("buyer_name", "nie może być puste");
        }
        let number = match text(inv.get("number")) {
            Some(n) => {
                if book.docs.values().any(|d| d.number == n && d.kind == kind) {
                    return field_error("number", "jest już zajęty");
                }
                n
            }
            None => {
                let prefix = if kind == "correction" { "KOR" } else { "FV" };
                let seq = book
                    .seq
                    .entry((kind.clone(), issue_date.year()))
                    .or_insert(0);
                *seq += 1;
                format!(
                    "{prefix} {}/{:02}/{}",
                    seq,
                    issue_date.month(),
                    issue_date.year()
                )
            }
        };
        let id = book.next_id;
        book.next_id += 1;
        let mut doc: Map<String, Value> = inv.clone();
        doc.remove("oid_unique");
        doc.insert("id".into(), json!(id));
        doc.insert("number".into(), json!(number));
        doc.insert("kind".into(), json!(kind));
        doc.insert("issue_date".into(), json!(issue_date.to_string()));
        if text(doc.get("sell_date")).is_none() {
            doc.insert("sell_date".into(), json!(issue_date.to_string()));
        }
        doc.insert("token".into(), json!(token_of(id)));
        doc.insert("status".into(), json!("issued"));
        doc.insert(
            "currency".into(),
            json!(text(inv.get("currency")).unwrap_or_else(|| "PLN".into())),
        );
        doc.insert(
            "gov_id".into(),
            text(inv.get("gov_id")).map_or(Value::Null, Value::String),
        );
        doc.insert("oid".into(), oid.clone().map_or(Value::Null, Value::String));
        doc.insert("created_at".into(), json!(time::rfc3339(time::now_ms())));
        totals.write(&mut doc);
        let document = FakturowniaDocument {
            id,
            number,
            kind,
            oid,
            gov_id: text(inv.get("gov_id")),
            from_invoice_id,
            emails: Vec::new(),
            json: Value::Object(doc),
        };
        let answer = document.json.clone();
        book.docs.insert(id, document);
        Response::json(201, &answer)
    }

    fn list(&self, req: &Request) -> Response {
        let per_page = req
            .query("per_page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(25)
            .clamp(1, 100);
        let page = req
            .query("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let book = self.book();
        let list: Vec<Value> = book
            .docs
            .values()
            .rev()
            .filter(|d| req.query("oid").is_none_or(|o| d.oid.as_deref() == Some(o)))
            .filter(|d| req.query("number").is_none_or(|n| d.number == n))
            .filter(|d| req.query("kind").is_none_or(|k| d.kind == k))
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|d| d.json.clone())
            .collect();
        Response::json(200, &Value::Array(list))
    }

    fn get(&self, id: u64) -> Response {
        match self.book().docs.get(&id) {
            Some(d) => Response::json(200, &d.json),
            None => error(404, "Nie znaleziono faktury"),
        }
    }

    fn update(&self, id: u64, body: &Value) -> Response {
        let Some(fields) = body.get("invoice").and_then(Value::as_object) else {
            return field_error("invoice", "brak danych faktury");
        };
        if let Some(r) = refuse_ksef_sending(fields) {
            return r;
        }
        let mut book = self.book();
        let Some(doc) = book.docs.get(&id) else {
            return error(404, "Nie znaleziono faktury");
        };
        let mut json = doc.json.as_object().cloned().unwrap_or_default();
        for key in ["id", "oid", "token", "kind"] {
            if let Some(v) = fields.get(key) {
                if json.get(key) != Some(v) {
                    return field_error(key, "nie może być zmienione");
                }
            }
        }
        // A document with a KSeF number is locked: only the same gov_id again (an
        // idempotent backfill) is accepted.
        if let Some(gov) = &doc.gov_id {
            let same = fields
                .iter()
                .all(|(k, v)| json.get(k) == Some(v) || (k == "gov_id" && v.as_str() == Some(gov)));
            if !same {
                return field_error(
                    "base",
                    "Faktura z numerem KSeF nie może być edytowana (tylko korekta)",
                );
            }
        }
        if let Some(n) = text(fields.get("number")) {
            if book
                .docs
                .values()
                .any(|d| d.id != id && d.number == n && d.kind == doc.kind)
            {
                return field_error("number", "jest już zajęty");
            }
        }
        if fields.contains_key("positions") {
            match totals(fields.get("positions")) {
                Ok(t) => t.write(&mut json),
                Err(r) => return r,
            }
        }
        for (k, v) in fields {
            json.insert(k.clone(), v.clone());
        }
        let gov_id = text(json.get("gov_id"));
        let number = text(json.get("number")).unwrap_or_default();
        let Some(doc) = book.docs.get_mut(&id) else {
            return error(404, "Nie znaleziono faktury");
        };
        doc.gov_id = gov_id;
        doc.number = number;
        doc.json = Value::Object(json);
        Response::json(200, &doc.json)
    }

    fn send_by_email(&self, id: u64, body: &Value) -> Response {
        let mut book = self.book();
        let Some(doc) = book.docs.get_mut(&id) else {
            return error(404, "Nie znaleziono faktury");
        };
        let company = match doc.json.get("buyer_company") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "yes"),
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            _ => text(doc.json.get("buyer_tax_no")).is_some(),
        };
        if company && doc.gov_id.is_none() {
            return Response::json(
                200,
                &json!({"status": "error", "message": "Nie można wysłać faktury: brak numeru KSeF"}),
            );
        }
        let to: Vec<String> = text(body.get("email_to"))
            .or_else(|| text(doc.json.get("buyer_email")))
            .map(|s| {
                s.split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if to.is_empty() || to.len() > 5 || to.iter().any(|a| !a.contains('@')) {
            return Response::json(
                200,
                &json!({"status": "error", "message": "Nieprawidłowy adres e-mail (email_to: 1 do 5 adresów)"}),
            );
        }
        doc.emails.extend(to);
        Response::json(200, &json!({"status": "ok"}))
    }

    fn pdf(&self, id: u64) -> Response {
        let book = self.book();
        let Some(doc) = book.docs.get(&id) else {
            return error(404, "Nie znaleziono faktury");
        };
        let j = &doc.json;
        let s = |k: &str| text(j.get(k)).unwrap_or_default();
        let title = if doc.kind == "correction" {
            "Faktura korygujaca"
        } else {
            "Faktura VAT"
        };
        let mut lines = vec![
            format!("{title} nr {}", doc.number),
            format!("Data wystawienia: {}", s("issue_date")),
            format!(
                "Numer KSeF: {}",
                doc.gov_id
                    .as_deref()
                    .unwrap_or("(brak - faktura nie ma jeszcze numeru KSeF)")
            ),
            String::new(),
            format!(
                "Sprzedawca: {} NIP {}",
                s("seller_name"),
                s("seller_tax_no")
            ),
            format!("Nabywca: {}", buyer_of(j)),
        ];
        if let Some(nip) = text(j.get("buyer_tax_no")) {
            lines.push(format!("NIP nabywcy: {nip}"));
        }
        if let Some(from) = doc.from_invoice_id.and_then(|f| book.docs.get(&f)) {
            lines.push(format!(
                "Korekta faktury {} (KSeF {})",
                from.number,
                from.gov_id.as_deref().unwrap_or("-")
            ));
        }
        lines.push(String::new());
        if let Some(list) = j.get("positions").and_then(Value::as_array) {
            for (i, p) in list.iter().enumerate() {
                lines.push(format!(
                    "{}. {} x {}  VAT {}  brutto {}",
                    i + 1,
                    text(p.get("name")).unwrap_or_default(),
                    text(p.get("quantity")).unwrap_or_else(|| "1".into()),
                    text(p.get("tax")).unwrap_or_default(),
                    text(p.get("total_price_gross"))
                        .or_else(|| text(p.get("price_gross")))
                        .unwrap_or_default(),
                ));
            }
        }
        lines.push(String::new());
        let cur = s("currency");
        lines.push(format!("Razem netto: {} {cur}", s("price_net")));
        lines.push(format!("VAT: {} {cur}", s("price_tax")));
        lines.push(format!("Razem brutto: {} {cur}", s("price_gross")));
        if let Some(rate) = text(j.get("exchange_currency_rate")) {
            lines.push(format!(
                "Kurs {} {}: {rate}",
                s("exchange_kind").to_uppercase(),
                s("exchange_currency")
            ));
        }
        Response::new(200, "application/pdf", pdf(&lines))
    }
}

fn buyer_of(j: &Value) -> String {
    text(j.get("buyer_name")).unwrap_or_else(|| {
        format!(
            "{} {}",
            text(j.get("buyer_first_name")).unwrap_or_default(),
            text(j.get("buyer_last_name")).unwrap_or_default()
        )
        .trim()
        .to_string()
    })
}

/// The simulator does not send documents to KSeF for the account (paired mode never asks it
/// to): a request that does is refused rather than silently ignored.
fn refuse_ksef_sending(inv: &Map<String, Value>) -> Option<Refusal> {
    for f in ["gov_save_and_send", "send_to_ksef"] {
        if let Some(v) = inv.get(f) {
            if !matches!(v, Value::Null | Value::Bool(false)) {
                return Some(field_error(
                    f,
                    "ksef-sim: Fakturownia's own KSeF sending is not simulated (paired mode sends to KSeF itself)",
                ));
            }
        }
    }
    None
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn decimal(v: Option<&Value>) -> Option<Decimal> {
    let t = text(v)?;
    t.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&t).ok())
}

/// Totals of a document, from its positions.
struct Totals {
    net: Decimal,
    gross: Decimal,
}

impl Totals {
    fn write(&self, doc: &mut Map<String, Value>) {
        let r = |d: Decimal| d.round_dp(2).to_string();
        doc.insert("price_net".into(), json!(r(self.net)));
        doc.insert("price_gross".into(), json!(r(self.gross)));
        doc.insert("price_tax".into(), json!(r(self.gross - self.net)));
    }
}

fn totals(positions: Option<&Value>) -> Result<Totals, Response> {
    let Some(list) = positions
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return Err(field_error(
            "positions",
            "faktura musi mieć co najmniej jedną pozycję",
        ));
    };
    let hundred = Decimal::from(100);
    let mut t = Totals {
        net: Decimal::ZERO,
        gross: Decimal::ZERO,
    };
    for p in list {
        if text(p.get("name")).is_none() {
            return Err(field_error("positions", "nazwa pozycji nie może być pusta"));
        }
        let rate = match p.get("tax") {
            Some(Value::String(s)) if s == "zw" || s == "np" => Decimal::ZERO,
            v => match decimal(v) {
                Some(d) => d,
                None => return Err(field_error("positions", "nieprawidłowa stawka VAT (tax)")),
            },
        };
        let qty = decimal(p.get("quantity")).unwrap_or(Decimal::ONE);
        let factor = Decimal::ONE + rate / hundred;
        let gross = decimal(p.get("total_price_gross"))
            .or_else(|| decimal(p.get("price_gross")).map(|g| g * qty))
            .or_else(|| {
                decimal(p.get("total_price_net"))
                    .or_else(|| decimal(p.get("price_net")).map(|n| n * qty))
                    .map(|n| (n * factor).round_dp(2))
            });
        let Some(gross) = gross else {
            return Err(field_error("positions", "brak ceny pozycji"));
        };
        let net = decimal(p.get("total_price_net"))
            .or_else(|| decimal(p.get("price_net")).map(|n| n * qty))
            .unwrap_or_else(|| (gross / factor).round_dp(2));
        t.net += net;
        t.gross += gross;
    }
    Ok(t)
}

fn token_of(id: u64) -> String {
    // SplitMix64: a stable, unguessable-looking public-link token per document.
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("{:016x}", z ^ (z >> 31))
}

/// A one-page PDF 1.4 with `lines` of Helvetica text (non-ASCII letters are folded to
/// ASCII: the standard fonts have no Polish glyphs in WinAnsiEncoding). The content
/// stream is not compressed, so the text can be found in the bytes.
pub(crate) fn pdf(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT\n/F1 11 Tf\n14 TL\n50 790 Td\n");
    for l in lines {
        content.push('(');
        for c in fold_ascii(l).chars() {
            if matches!(c, '(' | ')' | '\\') {
                content.push('\\');
            }
            content.push(c);
        }
        content.push_str(") Tj T*\n");
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn fold_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ą' => 'a',
            'ć' => 'c',
            'ę' => 'e',
            'ł' => 'l',
            'ń' => 'n',
            'ó' => 'o',
            'ś' => 's',
            'ź' | 'ż' => 'z',
            'Ą' => 'A',
            'Ć' => 'C',
            'Ę' => 'E',
            'Ł' => 'L',
            'Ń' => 'N',
            'Ó' => 'O',
            'Ś' => 'S',
            'Ź' | 'Ż' => 'Z',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

/// Applies the run-time faults to a request of a service mounted at `prefix`.
fn with_faults(
    faults: &Faults,
    unavailable: bool,
    prefix: &str,
    path: &str,
    req: &Request,
    process: impl FnOnce() -> Response,
) -> Outcome {
    if unavailable {
        return Outcome::Respond(
            Response::new(
                503,
                "text/html; charset=utf-8",
                b"<html><body><h1>503 Service Unavailable</h1></body></html>".to_vec(),
            )
            .with_header("Retry-After", "1"),
        );
    }
    let fault = faults.take(&req.method, &format!("{prefix}{path}"));
    let injected = |status: u16| {
        Outcome::Respond(Response::new(
            status,
            "text/html; charset=utf-8",
            format!("<html><body><h1>{status}</h1>ksef-sim: injected fault</body></html>")
                .into_bytes(),
        ))
    };
    match fault {
        Some(FaultKind::FailBefore(status)) => return injected(status),
        Some(FaultKind::DropBefore) => return Outcome::Drop,
        Some(FaultKind::RateLimit(secs)) => {
            return Outcome::Respond(
                error(429, "Too many requests").with_header("Retry-After", secs.to_string()),
            )
        }
        Some(FaultKind::Delay(d)) => std::thread::sleep(d),
        _ => {}
    }
    let resp = process();
    match fault {
        Some(FaultKind::FailAfter(status)) => injected(status),
        Some(FaultKind::DropAfter) => Outcome::Drop,
        _ => Outcome::Respond(resp),
    }
}

/// The Fakturownia API, mounted at `/fakturownia`.
pub(crate) struct FakturowniaService(pub(crate) Arc<Fakturownia>);

impl Service for FakturowniaService {
    fn handle(&self, path: &str, req: &Request) -> Outcome {
        let f = &self.0;
        with_faults(
            &f.faults,
            f.faults.fakturownia_unavailable(),
            "/fakturownia",
            path,
            req,
            || f.dispatch(path, req),
        )
    }
}

/// NBP's table A, mounted at `/nbp` (so the NBP base URL is `http://127.0.0.1:PORT/nbp`).
pub(crate) struct NbpService(pub(crate) Arc<Faults>);

impl Service for NbpService {
    fn handle(&self, path: &str, req: &Request) -> Outcome {
        with_faults(&self.0, self.0.nbp_unavailable(), "/nbp", path, req, || {
            nbp(path, req)
        })
    }
}

/// Latarnia, KSeF's public status service, mounted at `/latarnia` (`GET /status`,
/// `GET /messages`; no authentication). What it says is set with
/// [`crate::Faults::set_lighthouse`]; by default it follows [`crate::Faults::set_unavailable`].
pub(crate) struct LighthouseService(pub(crate) Arc<Faults>);

impl Service for LighthouseService {
    fn handle(&self, path: &str, req: &Request) -> Outcome {
        if req.method != "GET" {
            return Outcome::Respond(Response::json(405, &json!({"error": "method not allowed"})));
        }
        let (status, messages) = self.0.lighthouse();
        Outcome::Respond(match path.trim_end_matches('/') {
            "/status" => Response::json(200, &json!({"status": status, "messages": messages})),
            "/messages" => Response::json(200, &messages),
            _ => Response::json(404, &json!({"error": "not found"})),
        })
    }
}

/// The currencies the NBP simulator knows: code, NBP's name, a base mid rate in
/// ten-thousandths of PLN.
const CURRENCIES: [(&str, &str, i64); 6] = [
    ("EUR", "euro", 42_450),
    ("USD", "dolar amerykański", 39_620),
    ("GBP", "funt szterling", 49_870),
    ("CHF", "frank szwajcarski", 45_210),
    ("CZK", "korona czeska", 1_712),
    ("SEK", "korona szwedzka", 3_745),
];

fn nbp_text(status: u16, text: &str) -> Response {
    Response::new(
        status,
        "text/plain; charset=utf-8",
        text.as_bytes().to_vec(),
    )
}

/// `GET /api/exchangerates/rates/a/{code}/{startDate}/{endDate}/` and
/// `GET /api/exchangerates/rates/a/{code}/{date}/`.
fn nbp(path: &str, req: &Request) -> Response {
    if req.method != "GET" {
        return nbp_text(405, "405 MethodNotAllowed");
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (code, start, end) = match segs.as_slice() {
        ["api", "exchangerates", "rates", t, code, start, end] if t.eq_ignore_ascii_case("a") => {
            (*code, *start, *end)
        }
        ["api", "exchangerates", "rates", t, code, day] if t.eq_ignore_ascii_case("a") => {
            (*code, *day, *day)
        }
        _ => return nbp_text(404, "404 NotFound"),
    };
    let (Ok(start), Ok(end)) = (start.parse::<Date>(), end.parse::<Date>()) else {
        return nbp_text(
            400,
            "400 BadRequest - Błędny zakres dat / Invalid date range",
        );
    };
    if end < start {
        return nbp_text(
            400,
            "400 BadRequest - Błędny zakres dat / Invalid date range",
        );
    }
    if end.days_since_epoch() - start.days_since_epoch() > 92 {
        return nbp_text(
            400,
            "400 BadRequest - Przekroczony limit 93 dni / Limit of 93 days has been exceeded",
        );
    }
    let Some(&(code, name, base)) = CURRENCIES
        .iter()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
    else {
        return nbp_text(404, "404 NotFound - Not Found - Brak danych");
    };
    let mut rates = Vec::new();
    let mut d = start;
    while d <= end {
        if is_business_day(d) {
            rates.push(format!(
                r#"{{"no":"{:03}/A/NBP/{}","effectiveDate":"{d}","mid":{}}}"#,
                table_number(d),
                d.year(),
                mid_text(base, code, d)
            ));
        }
        match d.add_days(1) {
            Some(n) => d = n,
            None => break,
        }
    }
    if rates.is_empty() {
        return nbp_text(404, "404 NotFound - Not Found - Brak danych");
    }
    let body = format!(
        r#"{{"table":"A","currency":"{name}","code":"{code}","rates":[{}]}}"#,
        rates.join(",")
    );
    Response::new(200, "application/json; charset=utf-8", body.into_bytes())
}

/// A deterministic mid rate: the base ± up to 2 %, varying by day and currency, with 4
/// decimal places as NBP publishes them.
fn mid_text(base: i64, code: &str, d: Date) -> String {
    let mut h = d.days_since_epoch() as u64 ^ 0xA5A5_5A5A;
    for b in code.bytes() {
        h = h.wrapping_mul(0x100_0000_01B3) ^ u64::from(b);
    }
    h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let spread = base / 50; // 2 %
    let delta = (h % (2 * spread as u64 + 1)) as i64 - spread;
    let v = base + delta;
    format!("{}.{:04}", v / 10_000, v % 10_000)
}

/// The number of the day's table A: business days of the year so far.
fn table_number(d: Date) -> u32 {
    let mut n = 0;
    let mut day = Date::new(d.year(), 1, 1).unwrap_or(d);
    while day <= d {
        if is_business_day(day) {
            n += 1;
        }
        match day.add_days(1) {
            Some(x) => day = x,
            None => break,
        }
    }
    n
}

/// Monday to Friday, except Polish public holidays (NBP publishes no table on them); the
/// holiday calendar is the rule engine's.
pub(crate) fn is_business_day(d: Date) -> bool {
    d.weekday() <= 5 && !ksef::paired::rules::is_polish_holiday(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn polish_holidays_and_weekends_have_no_table() {
        assert!(!is_business_day(d("2026-04-06"))); // Easter Monday
        assert!(!is_business_day(d("2026-06-04"))); // Corpus Christi
        assert!(!is_business_day(d("2026-11-11")));
        assert!(!is_business_day(d("2026-11-21"))); // Saturday
        assert!(is_business_day(d("2026-11-20")));
        assert_eq!(table_number(d("2026-01-02")), 1);
    }

    #[test]
    fn rates_are_plausible_and_stable() {
        let a = mid_text(42_450, "EUR", d("2026-11-20"));
        assert_eq!(a, mid_text(42_450, "EUR", d("2026-11-20")));
        let v: f64 = a.parse().unwrap();
        assert!((4.16..=4.33).contains(&v), "{a}");
        assert_eq!(a.split('.').nth(1).map(str::len), Some(4));
        assert_ne!(a, mid_text(42_450, "EUR", d("2026-11-19")));
    }

    #[test]
    fn pdf_is_well_formed() {
        let p = pdf(&["Faktura (1) \\ Łódź".to_string()]);
        let text = String::from_utf8_lossy(&p);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains("(Faktura \\(1\\) \\\\ Lodz) Tj"));
        // startxref points at the xref table.
        let at: usize = text
            .split("startxref\n")
            .nth(1)
            .and_then(|s| s.lines().next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        assert!(p[at..].starts_with(b"xref\n0 6\n"));
        // Each object offset points at its "N 0 obj".
        let table = String::from_utf8_lossy(&p[at..]).into_owned();
        for (i, line) in table.lines().skip(3).take(5).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(p[off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
    }
}
