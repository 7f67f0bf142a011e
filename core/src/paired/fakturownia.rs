//! The Fakturownia.pl channel of paired mode: requests to its REST API, as data, and readers
//! of its answers and webhooks.
//!
//! Sans-IO like the rest of the core: each function builds a [`Request`] for the host's
//! transport, or reads a [`Response`] the host got back. The facts come from Fakturownia's
//! public API documentation (`fakturownia/API`, `README.md` and `KSeF.md`); where it is
//! silent this module says what it assumes and picks the conservative behaviour.
//!
//! **Authentication.** Fakturownia takes the account's API token as `api_token` in the JSON
//! body (`POST`, `PUT`) or as a query parameter (`GET`, the PDF). No header scheme is
//! documented. [`Account`]'s `Debug` never shows the token, and [`Request`]'s `Debug` hides
//! URL queries and bodies, so a logged request does not leak it either.
//!
//! **KSeF.** Our side owns the KSeF submission: the FA(3) invoice goes to KSeF through
//! `ksef::protocol`, and its KSeF number is written into the Fakturownia document's `gov_id`
//! (on create in KSeF-first mode, by [`update_invoice`] afterwards in simultaneous mode). No
//! request built here ever sets `gov_save_and_send` to anything but `false`, and
//! [`create_invoice`] and [`update_invoice`] refuse fields that would make Fakturownia send
//! the document to KSeF itself (any value but `false`), so KSeF never receives an invoice twice. The account setting `gov_auto_send_mode`
//! can only be changed in Fakturownia's UI: it must stay off (null) for accounts used in
//! paired mode; the API documentation offers no per-invoice way to override it.
//!
//! **Idempotency.** Each order's document is created with `oid` (the order id) and
//! `oid_unique: "yes"`, so Fakturownia refuses a second document for the same order. After a
//! crash, [`find_by_oid`] finds the document that a lost response had created; a create that
//! Fakturownia refuses with [`is_duplicate_oid`] means the same.
//!
//! **Errors.** Fakturownia reports some refusals as HTTP 200 with
//! `{"status":"error","message":…}` (sending e-mail before the KSeF number exists); those are
//! errors here. Field validation errors come as HTTP 422; the documentation shows no body,
//! so the reader accepts the Rails shape `{"code":"error","message":{"field":["…"]}}` (the
//! one the simulator sends), a `status`/`code` of `"error"` with a text message, and a plain
//! `{"field":["…"]}` map.
//!
//! ```
//! use ksef::paired::fakturownia::{self, Account};
//! use ksef::http::Method;
//! use serde_json::json;
//!
//! let acc = Account::new("https://sklep.fakturownia.pl", "s3cr3t-token");
//! let invoice = json!({"kind": "vat", "number": "FV/2026/11/1", "buyer_name": "Jan Nowak",
//!     "positions": [{"name": "Kubek", "quantity": 1, "tax": 23, "total_price_gross": "49.20"}]});
//! let req = fakturownia::create_invoice(&acc, &invoice, "order-1001")?;
//! assert_eq!(req.method, Method::Post);
//! assert_eq!(req.url, "https://sklep.fakturownia.pl/invoices.json");
//! let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
//! assert_eq!(body["invoice"]["oid"], "order-1001");
//! assert_eq!(body["invoice"]["oid_unique"], "yes");
//! assert!(body["invoice"].get("gov_save_and_send").is_none());
//! assert!(!format!("{acc:?} {req:?}").contains("s3cr3t-token"));
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode};
use crate::http::{Method, Request, Response};
use crate::protocol::SecretString;

/// Invoice fields that would make Fakturownia submit the document to KSeF itself (or change
/// what it has submitted): refused in what we send, because our side owns the submission.
const KSEF_SENDING_FIELDS: [&str; 2] = ["gov_save_and_send", "send_to_ksef"];

/// The longest `oid` accepted. The documentation gives no limit; order ids are short, and a
/// bound keeps the query string of [`find_by_oid`] reasonable.
pub const MAX_OID_LEN: usize = 255;

/// A Fakturownia account: where its API is and its API token.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// `https://{prefix}.fakturownia.pl` (or the simulator's `http://127.0.0.1:PORT/fakturownia`),
    /// without a trailing `/`.
    pub base_url: String,
    /// The API token ("Kod autoryzacyjny API"); never printed.
    pub api_token: SecretString,
}

impl Account {
    /// An account; a trailing `/` of `base_url` is dropped.
    pub fn new(base_url: impl Into<String>, api_token: impl Into<SecretString>) -> Account {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Account {
            base_url,
            api_token: api_token.into(),
        }
    }

    /// `https://{prefix}.fakturownia.pl` for an account prefix (the subdomain).
    pub fn for_prefix(prefix: &str, api_token: impl Into<SecretString>) -> Account {
        Account::new(format!("https://{prefix}.fakturownia.pl"), api_token)
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("base_url", &self.base_url)
            .field("api_token", &self.api_token)
            .finish()
    }
}

/// `POST /invoices.json`: creates the document of order `oid`.
///
/// The body is `{"api_token": …, "invoice": {…invoice, "oid": oid, "oid_unique": "yes"}}`, so
/// Fakturownia refuses a second document for the same order ([`is_duplicate_oid`]).
/// `invoice` holds Fakturownia's own field names (`kind`, `number`, `buyer_*`, `positions`,
/// `currency`, `exchange_currency`, `gov_id`, `from_invoice_id` for corrections, …).
///
/// Fails with [`ErrorCode::InvalidValue`] when `invoice` is not a JSON object, when `oid` is
/// empty, longer than [`MAX_OID_LEN`] or has control characters, when `invoice` already has
/// another `oid`, an `api_token`, or a field that would make Fakturownia send the document
/// to KSeF (`gov_save_and_send`, `send_to_ksef`, unless `false`: sending explicitly off).
pub fn create_invoice(acc: &Account, invoice: &Value, oid: &str) -> Result<Request, Error> {
    check_oid(oid)?;
    let mut fields = invoice_fields(invoice, "invoice")?;
    match fields.get("oid") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == oid => {}
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "invoice.oid",
                "the invoice already has another oid than the order id it is created for",
            ))
        }
    }
    fields.insert("oid".into(), Value::String(oid.into()));
    fields.insert("oid_unique".into(), Value::String("yes".into()));
    json_request(acc, Method::Post, "/invoices.json", fields)
}

/// `PUT /invoices/{id}.json`: changes some fields of a document, e.g.
/// `{"gov_id": "5265877635-20261121-…"}` to backfill the KSeF number.
///
/// Fails with [`ErrorCode::InvalidValue`] when `fields` is not a JSON object or carries
/// `api_token`, `oid`/`oid_unique` (the order link never changes) or a field that would make
/// Fakturownia send the document to KSeF.
pub fn update_invoice(acc: &Account, id: u64, fields: &Value) -> Result<Request, Error> {
    let fields = invoice_fields(fields, "fields")?;
    for key in ["oid", "oid_unique"] {
        if fields.contains_key(key) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("fields.{key}"),
                "the order id of a document is set when it is created and never changed",
            ));
        }
    }
    json_request(acc, Method::Put, &format!("/invoices/{id}.json"), fields)
}

/// `GET /invoices/{id}.json?api_token=…`.
pub fn get_invoice(acc: &Account, id: u64) -> Request {
    get(acc, &format!("/invoices/{id}.json"), &[])
}

/// Finds the document of an order after a crash: `GET /invoices.json?oid={oid}&period=all`.
///
/// The documentation lists no `oid` filter for the invoice list (it lists `number`,
/// `period`, `date_from`/`date_to`, `kind`, …). We send `oid` (the simulator filters on it)
/// with `period=all` so that the default period (this month) cannot hide an older document.
/// A server that ignores an unknown parameter would answer with a page of other documents:
/// read the answer with [`read_found_by_oid`], which keeps only the documents whose `oid`
/// is exactly the one asked for, and fall back to [`find_by_number`] (we issue the number,
/// so it is known) when it finds none.
pub fn find_by_oid(acc: &Account, oid: &str) -> Request {
    get(acc, "/invoices.json", &[("oid", oid), ("period", "all")])
}

/// `GET /invoices.json?number={number}&period=all`: the documented filter by document
/// number. Read with [`read_invoices`] and compare `number` exactly (the filter may match
/// more loosely).
pub fn find_by_number(acc: &Account, number: &str) -> Request {
    get(
        acc,
        "/invoices.json",
        &[("number", number), ("period", "all")],
    )
}

/// `GET /invoices/{id}.pdf?api_token=…` (the original; Fakturownia's default print option).
pub fn get_pdf(acc: &Account, id: u64) -> Request {
    let mut req = get(acc, &format!("/invoices/{id}.pdf"), &[]);
    req = req.with_header("Accept", "application/pdf");
    req
}

/// `POST /invoices/{id}/send_by_email.json` with `email_to` (1 to 5 addresses, the
/// documented limit) and `email_pdf: true`.
///
/// Fakturownia refuses to e-mail a company buyer's invoice before it has a KSeF number
/// (HTTP 200, `"…brak numeru KSeF"`); [`read_status`] turns that into
/// [`ErrorCode::FakturowniaNoKsefNumber`].
///
/// Fails with [`ErrorCode::InvalidValue`] for no address, more than 5, or an address without
/// `@` or with whitespace or control characters.
pub fn send_by_email(acc: &Account, id: u64, to: &[&str]) -> Result<Request, Error> {
    if to.is_empty() || to.len() > 5 {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "email_to",
            format!(
                "Fakturownia sends to 1 to 5 addresses, {} were given",
                to.len()
            ),
        ));
    }
    for (i, a) in to.iter().enumerate() {
        let ok = a.contains('@')
            && !a.starts_with('@')
            && !a.ends_with('@')
            && !a
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',');
        if !ok {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("email_to[{i}]"),
                "not an e-mail address",
            ));
        }
    }
    let mut body = Map::new();
    body.insert(
        "api_token".into(),
        Value::String(acc.api_token.expose().into()),
    );
    body.insert("email_to".into(), Value::String(to.join(",")));
    body.insert("email_pdf".into(), Value::Bool(true));
    Request::json(
        Method::Post,
        &acc.base_url,
        &format!("/invoices/{id}/send_by_email.json"),
        &Value::Object(body),
    )
}

/// A Fakturownia document, as read from its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct FakturowniaInvoice {
    /// Fakturownia's id of the document.
    pub id: u64,
    /// The document number (the same `P_2` as the KSeF invoice in paired mode).
    pub number: String,
    /// `vat`, `correction`, `receipt`, …
    pub kind: String,
    /// The KSeF number, when the document has one (an empty string reads as `None`).
    pub gov_id: Option<String>,
    /// The external order id the document was created for.
    pub oid: Option<String>,
    /// The token of the document's public link (`/invoice/{token}.pdf`).
    pub token: Option<String>,
    /// The whole JSON object as Fakturownia sent it.
    pub raw: Value,
}

impl FakturowniaInvoice {
    /// Reads a document from its JSON object (what `GET /invoices/{id}.json` answers);
    /// `what` names the place in errors.
    pub fn from_json(v: &Value, what: &str) -> Result<FakturowniaInvoice, Error> {
        let bad = |field: &str, why: &str| {
            Error::new(
                ErrorCode::FakturowniaBadResponse,
                if what.is_empty() {
                    field.to_string()
                } else {
                    format!("{what}.{field}")
                },
                why.to_string(),
            )
        };
        let obj = v
            .as_object()
            .ok_or_else(|| bad("", "a document must be a JSON object"))?;
        let id = match obj.get("id") {
            Some(Value::Number(n)) => n.as_u64(),
            // Some JSON writers quote big ids.
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            _ => None,
        }
        .ok_or_else(|| bad("id", "the document id (a positive number) is missing"))?;
        let number = match obj.get("number") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(bad("number", "the document number is missing")),
        };
        let kind = match obj.get("kind") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(bad("kind", "the document kind is missing")),
        };
        let opt = |field: &str| -> Result<Option<String>, Error> {
            match obj.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) if field == "oid" => Ok(Some(n.to_string())),
                Some(_) => Err(bad(field, "expected text or null")),
            }
        };
        Ok(FakturowniaInvoice {
            id,
            number,
            kind,
            gov_id: opt("gov_id")?,
            oid: opt("oid")?,
            token: opt("token")?,
            raw: v.clone(),
        })
    }
}

/// An error answer of the Fakturownia API, read from any of the shapes it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakturowniaError {
    /// The HTTP status (200 for a `{"status":"error"}` answer).
    pub status: u16,
    /// The message in words (field messages joined when the message was a field map).
    pub message: String,
    /// Field errors: field name and its messages, in the order sent.
    pub fields: Vec<(String, Vec<String>)>,
}

impl FakturowniaError {
    /// Reads an error answer: `None` when `resp` is a success (a 2xx whose body does not say
    /// `"status":"error"` or `"code":"error"`).
    pub fn from_response(resp: &Response) -> Option<FakturowniaError> {
        let value: Option<Value> = serde_json::from_slice(&resp.body).ok();
        let says_error = value.as_ref().is_some_and(|v| {
            ["status", "code"]
                .iter()
                .any(|k| v.get(*k).and_then(Value::as_str) == Some("error"))
        });
        if resp.is_success() && !says_error {
            return None;
        }
        let mut e = FakturowniaError {
            status: resp.status,
            message: String::new(),
            fields: Vec::new(),
        };
        match value.as_ref() {
            Some(Value::Object(obj)) => {
                let message = obj
                    .get("message")
                    .or_else(|| obj.get("errors"))
                    .or_else(|| obj.get("error"));
                match message {
                    Some(Value::String(s)) => e.message = s.clone(),
                    Some(Value::Object(map)) => e.fields = field_errors(map),
                    Some(Value::Array(list)) => e.message = texts(list).join("; "),
                    _ if !says_error => {
                        // A bare field map: {"buyer_tax_no":["…"]}.
                        let map: Map<String, Value> = obj
                            .iter()
                            .filter(|(_, v)| v.is_array())
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        e.fields = field_errors(&map);
                    }
                    _ => {}
                }
            }
            _ => {
                let text = String::from_utf8_lossy(&resp.body);
                e.message = text.trim().chars().take(300).collect();
            }
        }
        if e.message.is_empty() && !e.fields.is_empty() {
            e.message = e
                .fields
                .iter()
                .map(|(f, m)| format!("{f}: {}", m.join(", ")))
                .collect::<Vec<_>>()
                .join("; ");
        }
        Some(e)
    }

    /// Whether Fakturownia refused a field (any of its messages) called `name`.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(f, _)| f == name)
    }

    /// The stable code this answer maps to.
    pub fn error_code(&self) -> ErrorCode {
        if self.has_field("oid") {
            return ErrorCode::FakturowniaDuplicate;
        }
        match self.status {
            401 | 403 => ErrorCode::FakturowniaUnauthorized,
            404 => ErrorCode::FakturowniaNotFound,
            422 => ErrorCode::FakturowniaValidation,
            429 | 500..=599 => ErrorCode::FakturowniaUnavailable,
            _ if !self.fields.is_empty() => ErrorCode::FakturowniaValidation,
            _ if mentions_missing_ksef_number(&self.message) => ErrorCode::FakturowniaNoKsefNumber,
            _ => ErrorCode::FakturowniaError,
        }
    }
}

impl fmt::Display for FakturowniaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fakturownia refused the request (HTTP {})", self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl From<FakturowniaError> for Error {
    fn from(e: FakturowniaError) -> Error {
        let path = e
            .fields
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Error::new(e.error_code(), path, e.to_string())
    }
}

/// Reads one document (`POST /invoices.json`, `GET`/`PUT /invoices/{id}.json`).
///
/// Errors: the answer's [`FakturowniaError`] mapped to its code
/// ([`ErrorCode::FakturowniaDuplicate`] when the `oid` was refused,
/// [`ErrorCode::FakturowniaValidation`] with the field names as the error's path, …), or
/// [`ErrorCode::FakturowniaBadResponse`] when the body is not a document.
pub fn read_invoice(resp: &Response) -> Result<FakturowniaInvoice, Error> {
    let v = read_json(resp)?;
    FakturowniaInvoice::from_json(&v, "")
}

/// Reads a list of documents (`GET /invoices.json`).
pub fn read_invoices(resp: &Response) -> Result<Vec<FakturowniaInvoice>, Error> {
    let v = read_json(resp)?;
    let list = v.as_array().ok_or_else(|| {
        Error::new(
            ErrorCode::FakturowniaBadResponse,
            "",
            "the invoice list must be a JSON array",
        )
    })?;
    list.iter()
        .enumerate()
        .map(|(i, d)| FakturowniaInvoice::from_json(d, &format!("[{i}]")))
        .collect()
}

/// Reads the answer of [`find_by_oid`]: the one document whose `oid` is exactly `oid`, or
/// `None`. Documents with another `oid` are ignored (a server that ignores the filter
/// answers with them); two with this `oid` are an error
/// ([`ErrorCode::FakturowniaDuplicate`]), since `oid_unique` should have prevented it.
pub fn read_found_by_oid(resp: &Response, oid: &str) -> Result<Option<FakturowniaInvoice>, Error> {
    let mut found = read_invoices(resp)?
        .into_iter()
        .filter(|d| d.oid.as_deref() == Some(oid));
    let first = found.next();
    if first.is_some() && found.next().is_some() {
        return Err(Error::new(
            ErrorCode::FakturowniaDuplicate,
            "oid",
            "Fakturownia holds more than one document for this order",
        ));
    }
    Ok(first)
}

/// Reads an answer that only says whether it worked (`send_by_email`): `Ok` for a 2xx
/// that is not `{"status":"error"}`.
pub fn read_status(resp: &Response) -> Result<(), Error> {
    match FakturowniaError::from_response(resp) {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Reads a PDF answer (`GET /invoices/{id}.pdf`): the bytes, checked to start with `%PDF-`.
pub fn read_pdf(resp: &Response) -> Result<Vec<u8>, Error> {
    if let Some(e) = FakturowniaError::from_response(resp) {
        return Err(e.into());
    }
    if !resp.body.starts_with(b"%PDF-") {
        return Err(Error::new(
            ErrorCode::FakturowniaBadResponse,
            "",
            "the answer is not a PDF document",
        ));
    }
    Ok(resp.body.clone())
}

/// Whether `err` says the create was refused because a document with this `oid` exists:
/// the order already has its Fakturownia document (find it with [`find_by_oid`]).
pub fn is_duplicate_oid(err: &Error) -> bool {
    err.code() == ErrorCode::FakturowniaDuplicate
}

/// An inbound Fakturownia webhook, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The document as the payload carries it.
    pub invoice: FakturowniaInvoice,
    /// The event name from the payload's `event` (or `kind`) field, e.g. `invoice:update`;
    /// empty when the payload names none.
    pub event: String,
}

/// The largest webhook body accepted (a document with many positions is well below).
pub const MAX_WEBHOOK_BYTES: usize = 1 << 20;

/// Parses and checks an inbound Fakturownia webhook.
///
/// Fakturownia's documentation defines neither the event names nor the payload of its
/// webhooks (only that updating an invoice with its KSeF number fires the account's
/// standard webhooks). We accept this shape and nothing looser:
///
/// ```json
/// {"api_token": "<the secret>", "event": "invoice:update", "invoice": { …the document as
///  GET /invoices/{id}.json returns it… }}
/// ```
///
/// `api_token` is the secret the host configured for the webhook (the account's API token,
/// or a separate shared secret put into the webhook's URL/body at Fakturownia); it is
/// compared in constant time with `expected_api_token`. `event` (or `kind`) is optional.
///
/// Errors: [`ErrorCode::WebhookForged`] when the secret is missing or wrong, or when
/// `expected_api_token` is empty (a misconfigured host must not accept everything);
/// [`ErrorCode::WebhookInvalid`] when the body is too large, not a JSON object, or has no
/// readable `invoice`. The secret is never echoed in an error.
pub fn parse_webhook(body: &[u8], expected_api_token: &str) -> Result<Webhook, Error> {
    let invalid = |path: &str, why: &str| Error::new(ErrorCode::WebhookInvalid, path, why);
    if body.len() > MAX_WEBHOOK_BYTES {
        return Err(invalid("", "the webhook body is too large"));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|_| invalid("", "the webhook body is not JSON"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("", "the webhook body must be a JSON object"))?;
    if expected_api_token.is_empty() {
        return Err(Error::new(
            ErrorCode::WebhookForged,
            "api_token",
            "no webhook secret is configured: every webhook is refused",
        ));
    }
    let given = obj
        .get("api_token")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::WebhookForged,
                "api_token",
                "the webhook carries no secret",
            )
        })?;
    if !ct_eq(given.as_bytes(), expected_api_token.as_bytes()) {
        return Err(Error::new(
            ErrorCode::WebhookForged,
            "api_token",
            "the webhook secret does not match",
        ));
    }
    let event = match obj.get("event").or_else(|| obj.get("kind")) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("event", "the event name must be text")),
    };
    let doc = obj
        .get("invoice")
        .ok_or_else(|| invalid("invoice", "the webhook carries no invoice"))?;
    let invoice = FakturowniaInvoice::from_json(doc, "invoice")
        .map_err(|e| Error::new(ErrorCode::WebhookInvalid, e.path(), e.message().to_string()))?;
    Ok(Webhook { invoice, event })
}

fn check_oid(oid: &str) -> Result<(), Error> {
    let why = if oid.trim().is_empty() {
        "the order id must not be empty"
    } else if oid.len() > MAX_OID_LEN {
        "the order id is longer than 255 bytes"
    } else if oid.chars().any(char::is_control) {
        "the order id has control characters"
    } else {
        return Ok(());
    };
    Err(Error::new(ErrorCode::InvalidValue, "oid", why))
}

/// The fields of `v` (a JSON object), refusing the ones we never send.
fn invoice_fields(v: &Value, what: &str) -> Result<Map<String, Value>, Error> {
    let obj = v.as_object().ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidValue,
            what,
            "the document fields must be a JSON object",
        )
    })?;
    if obj.contains_key("api_token") {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{what}.api_token"),
            "the API token comes from the account, not from the document",
        ));
    }
    for key in KSEF_SENDING_FIELDS {
        // `false` turns Fakturownia's own sending off explicitly (what the rule engine
        // writes); anything else could make it send.
        if obj.get(key).is_some_and(|v| *v != Value::Bool(false)) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("{what}.{key}"),
                "paired mode sends invoices to KSeF itself: Fakturownia must never send them",
            ));
        }
    }
    Ok(obj.clone())
}

fn json_request(
    acc: &Account,
    method: Method,
    path: &str,
    invoice: Map<String, Value>,
) -> Result<Request, Error> {
    let mut body = Map::new();
    body.insert(
        "api_token".into(),
        Value::String(acc.api_token.expose().into()),
    );
    body.insert("invoice".into(), Value::Object(invoice));
    Request::json(method, &acc.base_url, path, &Value::Object(body))
}

fn get(acc: &Account, path: &str, params: &[(&str, &str)]) -> Request {
    let mut url = format!("{}{path}?", acc.base_url);
    for (k, v) in params {
        url.push_str(k);
        url.push('=');
        percent_encode_into(&mut url, v);
        url.push('&');
    }
    url.push_str("api_token=");
    percent_encode_into(&mut url, acc.api_token.expose());
    Request::new(Method::Get, url).with_header("Accept", "application/json")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

fn read_json(resp: &Response) -> Result<Value, Error> {
    if let Some(e) = FakturowniaError::from_response(resp) {
        return Err(e.into());
    }
    serde_json::from_slice(&resp.body).map_err(|_| {
        Error::new(
            ErrorCode::FakturowniaBadResponse,
            "",
            format!("the answer (HTTP {}) is not JSON", resp.status),
        )
    })
}

fn texts(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|m| match m {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn field_errors(map: &Map<String, Value>) -> Vec<(String, Vec<String>)> {
    map.iter()
        .map(|(k, v)| {
            let msgs = match v {
                Value::Array(list) => texts(list),
                Value::String(s) => alloc::vec![s.clone()],
                other => alloc::vec![other.to_string()],
            };
            (k.clone(), msgs)
        })
        .collect()
}

fn mentions_missing_ksef_number(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("ksef") && (m.contains("brak") || m.contains("missing") || m.contains("no "))
}

/// Equality in time independent of where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
