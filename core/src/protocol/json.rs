//! The JSON forms of the client, shared by every binding (C, PHP, Python, Node) so that
//! none of them maps protocol types again.
//!
//! Out: [`Output::to_json`] (what an operation produced), [`Event::to_json`] (what happened),
//! [`error_json`] (`{code, name, path, message}`), [`headers_to_json`]. In:
//! [`FormCode::from_name`], [`MetadataQuery::from_json`], [`UpoRef::from_json`],
//! [`token_request_from_json`], [`headers_from_json`], [`TransportErrorKind`] by
//! [`transport_error_kind`].
//!
//! Every output object has a `"type"`. XML documents (UPOs, downloaded invoices) are JSON
//! strings (`"xml"`); a document that is not UTF-8 comes as `"xml_base64"` instead.
//! Amounts are decimal strings. Pre-signed download URLs are never part of an output (they
//! are secrets); the one secret an output does carry is the value of a generated KSeF token
//! (`{"type":"token","token":...}`), because handing it over is the point of that
//! operation. Errors never carry secrets.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorCode};
use crate::http::TransportErrorKind;
use crate::model::SchemaVersion;
use crate::paired::reader::{self, Obj};

use super::client::Event;
use super::inbox::{DateType, InvoiceMetadata, MetadataQuery, SubjectType};
use super::onboarding::TokenPermission;
use super::online::{FormCode, InvoiceOutcome, SessionResult};
use super::ops::{InvoiceStatus, Output, SessionStatus, UpoRef};
use super::wire::StatusInfo;

const CODE: ErrorCode = ErrorCode::InvalidValue;

/// An error as `{"code":105,"name":"invalid_value","path":"...","message":"..."}`.
pub fn error_json(e: &Error) -> Value {
    json!({
        "code": e.code().as_u32(),
        "name": e.code().name(),
        "path": e.path(),
        "message": e.message(),
    })
}

/// A KSeF status as `{"code":200,"description":"...","details":[...]}`.
pub fn status_json(s: &StatusInfo) -> Value {
    json!({"code": s.code, "description": s.description, "details": s.details})
}

/// Headers as an array of `[name, value]` pairs, in order (duplicates kept).
///
/// The request headers a sans-IO host must send include `Authorization`: the host needs
/// it, so it is there — never log this form.
pub fn headers_to_json(headers: &[(String, String)]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(n, v)| json!([n, v]))
            .collect::<Vec<_>>(),
    )
}

/// Headers from JSON: an array of `[name, value]` pairs or an object `{"name": "value"}`
/// (a value may also be an array of strings: one header each). Errors name the place.
pub fn headers_from_json(v: &Value) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    let text = |v: &Value, path: &str| -> Result<String, Error> {
        v.as_str()
            .map(String::from)
            .ok_or_else(|| Error::new(CODE, path, "a header name or value must be a string"))
    };
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("headers[{i}]");
                match item.as_array().map(Vec::as_slice) {
                    Some([n, v]) => out.push((text(n, &path)?, text(v, &path)?)),
                    _ => {
                        return Err(Error::new(
                            CODE,
                            path,
                            "expected a pair [name, value] of strings",
                        ))
                    }
                }
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                let path = format!("headers.{k}");
                match v {
                    Value::Array(vs) => {
                        for x in vs {
                            out.push((k.clone(), text(x, &path)?));
                        }
                    }
                    other => out.push((k.clone(), text(other, &path)?)),
                }
            }
        }
        _ => {
            return Err(Error::new(
                CODE,
                "headers",
                "expected an array of [name, value] pairs or an object",
            ))
        }
    }
    Ok(out)
}

/// Headers from JSON text (see [`headers_from_json`]); empty text is no headers.
pub fn headers_from_json_text(text: &str) -> Result<Vec<(String, String)>, Error> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    headers_from_json(&reader::parse(text, "headers")?)
}

/// A transport failure kind by name: `timeout`, `connect`, `io`, `tls`,
/// `response_too_large`, `other`.
pub fn transport_error_kind(name: &str) -> Result<TransportErrorKind, Error> {
    Ok(match name {
        "timeout" => TransportErrorKind::Timeout,
        "connect" => TransportErrorKind::Connect,
        "io" => TransportErrorKind::Io,
        "tls" => TransportErrorKind::Tls,
        "response_too_large" => TransportErrorKind::ResponseTooLarge,
        "other" => TransportErrorKind::Other,
        _ => {
            return Err(Error::new(
                CODE,
                "kind",
                format!(
                    "unknown transport error kind `{name}` (expected timeout, connect, io, \
                     tls, response_too_large or other)"
                ),
            ))
        }
    })
}

fn schema_name(s: SchemaVersion) -> &'static str {
    match s {
        SchemaVersion::Fa2 => "FA(2)",
        SchemaVersion::Fa3 => "FA(3)",
    }
}

impl FormCode {
    /// The form by name: `FA(3)`, `FA (3)`, `FA3` (any case); the same for FA(2).
    pub fn from_name(name: &str) -> Result<FormCode, Error> {
        let squeezed: String = name
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        match squeezed.as_str() {
            "FA(3)" | "FA3" => Ok(FormCode::Fa3),
            "FA(2)" | "FA2" => Ok(FormCode::Fa2),
            _ => Err(Error::new(
                CODE,
                "form",
                format!("unknown form `{name}` (expected FA(3) or FA(2))"),
            )),
        }
    }
}

/// Puts an XML document under `"xml"` (UTF-8 text) or `"xml_base64"`.
fn put_xml(o: &mut Map<String, Value>, bytes: &[u8]) {
    match core::str::from_utf8(bytes) {
        Ok(s) => {
            o.insert("xml".into(), Value::String(s.to_string()));
        }
        Err(_) => {
            o.insert(
                "xml_base64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
            );
        }
    }
}

fn xml_value(bytes: &[u8]) -> Value {
    let mut o = Map::new();
    put_xml(&mut o, bytes);
    o.into_iter().next().map_or(Value::Null, |(_, v)| v)
}

fn opt<T: Into<Value> + Clone>(v: &Option<T>) -> Value {
    v.clone().map_or(Value::Null, Into::into)
}

/// A P-256 private scalar as an unencrypted PKCS#8 PEM (`PRIVATE KEY`), the fixed
/// 67-byte DER of RFC 5915 inside RFC 5208 without the optional public key.
fn p256_pkcs8_pem(scalar: &[u8]) -> Option<String> {
    const HEAD: [u8; 35] = [
        0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
        0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25,
        0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    if scalar.len() != 32 {
        return None;
    }
    let mut der = HEAD.to_vec();
    der.extend_from_slice(scalar);
    pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::LineEnding::LF, &der).ok()
}

/// One invoice's status in a session (no pre-signed UPO URL).
pub fn invoice_status_json(s: &InvoiceStatus) -> Value {
    json!({
        "ordinal_number": s.ordinal_number,
        "reference": s.reference,
        "invoice_number": opt(&s.invoice_number),
        "ksef_number": opt(&s.ksef_number),
        "invoice_hash": s.invoice_hash,
        "invoice_file_name": opt(&s.invoice_file_name),
        "acquisition_date": opt(&s.acquisition_date),
        "status": status_json(&s.status),
        "original": s.original.as_ref().map_or(Value::Null, |(session, n)| json!({
            "session": session,
            "ksef_number": n,
        })),
    })
}

fn session_status_json(s: &SessionStatus) -> Value {
    json!({
        "reference": s.reference,
        "status": status_json(&s.status),
        "invoice_count": opt(&s.invoice_count),
        "successful_invoice_count": opt(&s.successful_invoice_count),
        "failed_invoice_count": opt(&s.failed_invoice_count),
        "upo_pages": s.upo_pages.iter().map(|p| p.reference.clone()).collect::<Vec<_>>(),
    })
}

fn outcome_json(o: &InvoiceOutcome) -> Value {
    let mut m = Map::new();
    m.insert("index".into(), o.index.into());
    m.insert("accepted".into(), o.is_accepted().into());
    m.insert("reference".into(), opt(&o.reference));
    m.insert("ksef_number".into(), opt(&o.ksef_number));
    m.insert(
        "status".into(),
        o.status.as_ref().map_or(Value::Null, invoice_status_json),
    );
    m.insert(
        "error".into(),
        o.error.as_ref().map_or(Value::Null, error_json),
    );
    m.insert("deduplicated".into(), o.deduplicated.into());
    m.insert(
        "upo".into(),
        o.upo.as_deref().map_or(Value::Null, xml_value),
    );
    Value::Object(m)
}

fn session_json(kind: &str, r: &SessionResult) -> Value {
    json!({
        "type": kind,
        "session": r.session,
        "status": session_status_json(&r.status),
        "accepted": r.accepted(),
        "invoices": r.invoices.iter().map(outcome_json).collect::<Vec<_>>(),
        "session_upo": r.session_upo.iter().map(|p| xml_value(p)).collect::<Vec<_>>(),
    })
}

/// Invoice metadata with amounts as decimal strings, plus `raw` (the entry as KSeF sent it).
pub fn metadata_json(m: &InvoiceMetadata) -> Value {
    json!({
        "ksef_number": m.ksef_number,
        "invoice_number": m.invoice_number,
        "issue_date": m.issue_date,
        "invoicing_date": m.invoicing_date,
        "acquisition_date": m.acquisition_date,
        "permanent_storage_date": m.permanent_storage_date,
        "seller": {"nip": m.seller_nip, "name": opt(&m.seller_name)},
        "buyer": {
            "identifier_type": m.buyer_identifier.0,
            "identifier": opt(&m.buyer_identifier.1),
            "name": opt(&m.buyer_name),
        },
        "net_amount": m.net_amount.to_string(),
        "gross_amount": m.gross_amount.to_string(),
        "vat_amount": m.vat_amount.to_string(),
        "currency": m.currency,
        "invoice_type": m.invoice_type,
        "invoicing_mode": m.invoicing_mode,
        "invoice_hash": m.invoice_hash,
        "raw": m.raw,
    })
}

impl Output {
    /// The output as JSON, `{"type": ..., ...}`:
    ///
    /// | type | fields |
    /// |---|---|
    /// | `authenticated` | `reference` |
    /// | `terminated` | — |
    /// | `online`, `batch` | `session`, `status` (session status), `accepted`, `invoices` (per input invoice: `index`, `accepted`, `reference`, `ksef_number`, `status`, `error`, `deduplicated`, `upo`), `session_upo` (XML pages) |
    /// | `session_status` | `reference`, `status` {code, description, details}, `invoice_count`, `successful_invoice_count`, `failed_invoice_count`, `upo_pages` (UPO reference numbers) |
    /// | `invoice_status` | `ordinal_number`, `reference`, `invoice_number`, `ksef_number`, `invoice_hash`, `invoice_file_name`, `acquisition_date`, `status`, `original` |
    /// | `invoices` | `invoices` (invoice statuses) |
    /// | `upo` | `xml` |
    /// | `invoice` | `ksef_number`, `hash`, `xml`, `schema` (`FA(3)`/`FA(2)`, null when unreadable), `parse_error` |
    /// | `metadata` | `invoices` (metadata), `permanent_storage_hwm_date`, `limited` |
    /// | `export` | `reference`, `invoice_count`, `is_truncated`, `invoices` {file_name, xml, metadata}, `metadata` |
    /// | `token` | `reference`, `token` (the secret, shown once), `status` |
    /// | `auth_sessions` | `sessions` {reference, start_date, method, status, is_current, refresh_token_valid_until} |
    /// | `certificate` | `serial_number`, `name`, `certificate_pem`, `private_key_pem` (the new key: a secret) |
    /// | `connection` | `ok`, `summary`, `steps` {step, ok, error}, `auth_reference` |
    pub fn to_json(&self) -> Value {
        match self {
            Output::Authenticated { reference } => {
                json!({"type": "authenticated", "reference": reference})
            }
            Output::Terminated => json!({"type": "terminated"}),
            Output::Online(r) => session_json("online", r),
            Output::Batch(r) => session_json("batch", r),
            Output::SessionStatus(s) => {
                let mut v = session_status_json(s);
                v["type"] = "session_status".into();
                v
            }
            Output::InvoiceStatus(s) => {
                let mut v = invoice_status_json(s);
                v["type"] = "invoice_status".into();
                v
            }
            Output::Invoices(list) => json!({
                "type": "invoices",
                "invoices": list.iter().map(invoice_status_json).collect::<Vec<_>>(),
            }),
            Output::Upo(xml) => {
                let mut m = Map::new();
                m.insert("type".into(), "upo".into());
                put_xml(&mut m, xml);
                Value::Object(m)
            }
            Output::Invoice(d) => {
                let mut m = Map::new();
                m.insert("type".into(), "invoice".into());
                m.insert("ksef_number".into(), d.ksef_number.clone().into());
                m.insert("hash".into(), d.hash.clone().into());
                put_xml(&mut m, &d.xml);
                let (schema, err) = match &d.parsed {
                    Ok(p) => (Value::from(schema_name(p.schema)), Value::Null),
                    Err(e) => (Value::Null, error_json(e)),
                };
                m.insert("schema".into(), schema);
                m.insert("parse_error".into(), err);
                Value::Object(m)
            }
            Output::Metadata(r) => json!({
                "type": "metadata",
                "invoices": r.invoices.iter().map(metadata_json).collect::<Vec<_>>(),
                "permanent_storage_hwm_date": opt(&r.permanent_storage_hwm_date),
                "limited": r.limited,
            }),
            Output::Export(r) => json!({
                "type": "export",
                "reference": r.reference,
                "invoice_count": r.invoice_count,
                "is_truncated": r.is_truncated,
                "invoices": r.invoices.iter().map(|i| {
                    let mut m = Map::new();
                    m.insert("file_name".into(), i.file_name.clone().into());
                    put_xml(&mut m, &i.xml);
                    m.insert("metadata".into(), i.metadata.clone().unwrap_or(Value::Null));
                    Value::Object(m)
                }).collect::<Vec<_>>(),
                "metadata": r.metadata.iter().map(metadata_json).collect::<Vec<_>>(),
            }),
            Output::Token(t) => json!({
                "type": "token",
                "reference": t.reference,
                "token": t.token.expose(),
                "status": t.status,
            }),
            Output::AuthSessions(list) => json!({
                "type": "auth_sessions",
                "sessions": list.iter().map(|s| json!({
                    "reference": s.reference,
                    "start_date": s.start_date,
                    "method": s.method,
                    "status": status_json(&s.status),
                    "is_current": s.is_current,
                    "refresh_token_valid_until": opt(&s.refresh_token_valid_until),
                })).collect::<Vec<_>>(),
            }),
            Output::Certificate(c) => {
                let key = match &c.key {
                    crate::crypto::PrivateKey::EcP256(k) => {
                        p256_pkcs8_pem(&k.to_bytes()).map_or(Value::Null, Value::String)
                    }
                    crate::crypto::PrivateKey::Rsa(_) => Value::Null,
                };
                json!({
                    "type": "certificate",
                    "serial_number": c.serial_number,
                    "name": c.name,
                    "certificate_pem": c.certificate.to_pem(),
                    "private_key_pem": key,
                })
            }
            Output::Connection(v) => json!({
                "type": "connection",
                "ok": v.ok,
                "summary": v.summary(),
                "steps": v.steps.iter().map(|(step, r)| json!({
                    "step": step,
                    "ok": r.is_ok(),
                    "error": r.as_ref().err().map_or(Value::Null, error_json),
                })).collect::<Vec<_>>(),
                "auth_reference": opt(&v.auth_reference),
            }),
        }
    }
}

impl Event {
    /// The event as JSON:
    /// `{"type":"authenticated","reference","refreshed"}`,
    /// `{"type":"retrying","call","attempt","at_ms","reason"}`,
    /// `{"type":"session_opened","op","reference"}`,
    /// `{"type":"invoice_sent","op","index","reference"}`,
    /// `{"type":"finished","op","ok":true,"output":{...}}` or
    /// `{"type":"finished","op","ok":false,"error":{code,name,path,message}}`.
    pub fn to_json(&self) -> Value {
        match self {
            Event::Authenticated {
                reference,
                refreshed,
            } => json!({"type": "authenticated", "reference": reference, "refreshed": refreshed}),
            Event::Retrying {
                call,
                attempt,
                at_ms,
                reason,
            } => json!({
                "type": "retrying",
                "call": call,
                "attempt": attempt,
                "at_ms": at_ms,
                "reason": reason,
            }),
            Event::SessionOpened { op, reference } => {
                json!({"type": "session_opened", "op": op.0, "reference": reference})
            }
            Event::InvoiceSent {
                op,
                index,
                reference,
            } => json!({
                "type": "invoice_sent",
                "op": op.0,
                "index": index,
                "reference": reference,
            }),
            Event::Finished { op, result } => match result {
                Ok(o) => json!({"type": "finished", "op": op.0, "ok": true, "output": o.to_json()}),
                Err(e) => {
                    json!({"type": "finished", "op": op.0, "ok": false, "error": error_json(e)})
                }
            },
        }
    }
}

fn subject(s: &str) -> Option<SubjectType> {
    Some(match s {
        "seller" | "Subject1" => SubjectType::Seller,
        "buyer" | "Subject2" => SubjectType::Buyer,
        "third_party" | "Subject3" => SubjectType::ThirdParty,
        "authorized" | "SubjectAuthorized" => SubjectType::Authorized,
        _ => return None,
    })
}

fn date_type(s: &str) -> Option<DateType> {
    Some(match s {
        "issue" | "Issue" => DateType::Issue,
        "invoicing" | "Invoicing" => DateType::Invoicing,
        "permanent_storage" | "PermanentStorage" => DateType::PermanentStorage,
        _ => return None,
    })
}

impl MetadataQuery {
    /// A query from JSON:
    /// `{"subject":"buyer","date_type":"invoicing","from":"2026-01-01T00:00:00","to":...,
    /// "filters":{"sellerNip":"..."},"descending":false,"limit":100}` — `subject`
    /// (`seller`, `buyer`, `third_party`, `authorized`) and `from` required; `date_type`
    /// (`issue`, `invoicing` (default), `permanent_storage`); `filters` merged into KSeF's
    /// `InvoiceQueryFilters` as they are. Unknown keys are errors naming them.
    pub fn from_json(v: &Value) -> Result<MetadataQuery, Error> {
        let mut o = Obj::new(v, "", CODE)?;
        let s = o.string("subject")?;
        let subject = subject(&s).ok_or_else(|| {
            o.bad(
                "subject",
                format!(
                    "unknown subject `{s}` (expected seller, buyer, third_party or authorized)"
                ),
            )
        })?;
        let dt = match o.opt_string("date_type")? {
            None => DateType::Invoicing,
            Some(d) => date_type(&d).ok_or_else(|| {
                o.bad(
                    "date_type",
                    format!(
                        "unknown date type `{d}` (expected issue, invoicing or permanent_storage)"
                    ),
                )
            })?,
        };
        let from = o.string("from")?;
        let mut q = MetadataQuery::new(subject, dt, from);
        if let Some(t) = o.opt_string("to")? {
            q = q.to(t);
        }
        match o.opt("filters") {
            None => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    q = q.filter(k, v.clone());
                }
            }
            Some(_) => return Err(o.bad("filters", "expected an object")),
        }
        q.descending = o.opt_bool("descending")?.unwrap_or(false);
        if let Some(n) = o.opt_u64("limit")? {
            let n = usize::try_from(n).map_err(|_| o.bad("limit", "too large"))?;
            if n == 0 {
                return Err(o.bad("limit", "must be greater than 0"));
            }
            q = q.limit(n);
        }
        o.finish()?;
        Ok(q)
    }

    /// A query from JSON text (see [`MetadataQuery::from_json`]).
    pub fn from_json_text(text: &str) -> Result<MetadataQuery, Error> {
        MetadataQuery::from_json(&reader::parse(text, "query")?)
    }
}

impl UpoRef {
    /// Which UPO, from JSON: `{"session":"...","ksef_number":"..."}`,
    /// `{"session":"...","invoice":"<invoice reference>"}` or
    /// `{"session":"...","upo":"<session UPO page reference>"}` (exactly one of the three).
    pub fn from_json(v: &Value) -> Result<UpoRef, Error> {
        let mut o = Obj::new(v, "", CODE)?;
        let session = o.string("session")?;
        let k = o.opt_string("ksef_number")?;
        let i = o.opt_string("invoice")?;
        let u = o.opt_string("upo")?;
        o.finish()?;
        match (k, i, u) {
            (Some(ksef_number), None, None) => Ok(UpoRef::KsefNumber {
                session,
                ksef_number,
            }),
            (None, Some(invoice), None) => Ok(UpoRef::Invoice { session, invoice }),
            (None, None, Some(upo)) => Ok(UpoRef::Session { session, upo }),
            _ => Err(Error::new(
                CODE,
                "ksef_number",
                "give exactly one of ksef_number, invoice (reference number) or upo (session \
                 UPO page reference)",
            )),
        }
    }

    /// Which UPO, from JSON text (see [`UpoRef::from_json`]).
    pub fn from_json_text(text: &str) -> Result<UpoRef, Error> {
        UpoRef::from_json(&reader::parse(text, "UPO reference")?)
    }
}

fn permission(s: &str) -> Option<TokenPermission> {
    Some(match s {
        "InvoiceRead" => TokenPermission::InvoiceRead,
        "InvoiceWrite" => TokenPermission::InvoiceWrite,
        "CredentialsRead" => TokenPermission::CredentialsRead,
        "CredentialsManage" => TokenPermission::CredentialsManage,
        "SubunitManage" => TokenPermission::SubunitManage,
        "EnforcementOperations" => TokenPermission::EnforcementOperations,
        "Introspection" => TokenPermission::Introspection,
        _ => return None,
    })
}

/// A token request from JSON text: `{"permissions":["InvoiceRead","InvoiceWrite"],
/// "description":"POS 1"}` (at least one permission, KSeF's names).
pub fn token_request_from_json(text: &str) -> Result<(Vec<TokenPermission>, String), Error> {
    let v = reader::parse(text, "token request")?;
    let mut o = Obj::new(&v, "", CODE)?;
    let names = o.strings("permissions")?;
    let description = o.string("description")?;
    o.finish()?;
    if names.is_empty() {
        return Err(Error::new(
            CODE,
            "permissions",
            "at least one permission is required",
        ));
    }
    let mut perms = Vec::new();
    for (i, n) in names.iter().enumerate() {
        perms.push(permission(n).ok_or_else(|| {
            Error::new(
                CODE,
                format!("permissions[{i}]"),
                format!(
                    "unknown permission `{n}` (expected InvoiceRead, InvoiceWrite, \
                     CredentialsRead, CredentialsManage, SubunitManage, EnforcementOperations \
                     or Introspection)"
                ),
            )
        })?);
    }
    Ok((perms, description))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ConnectionVerdict, GeneratedToken, OpId, SecretString};
    use alloc::vec;

    fn status(code: i64, d: &str) -> StatusInfo {
        StatusInfo {
            code,
            description: d.into(),
            details: vec![],
        }
    }

    fn session_result() -> SessionResult {
        let mut ok = InvoiceOutcome::new(0);
        ok.reference = Some("20260101-EE-1".into());
        ok.ksef_number = Some("9999999999-20260101-0100001AF629-AF".into());
        ok.upo = Some(b"<Potwierdzenie/>".to_vec());
        let mut bad = InvoiceOutcome::new(1);
        bad.reference = Some("20260101-EE-2".into());
        bad.error = Some(Error::new(
            ErrorCode::InvoiceRejected,
            "20260101-EE-2",
            "450 Błąd",
        ));
        SessionResult {
            session: "20260101-SO-1".into(),
            status: SessionStatus {
                reference: "20260101-SO-1".into(),
                status: status(200, "Sesja przetworzona"),
                invoice_count: Some(2),
                successful_invoice_count: Some(1),
                failed_invoice_count: Some(1),
                upo_pages: vec![super::super::UpoPageRef {
                    reference: "UPO-1".into(),
                    download_url: "https://secret.example/signed?sig=abc".into(),
                }],
            },
            invoices: vec![ok, bad],
            session_upo: vec![vec![0xff, 0xfe]],
        }
    }

    #[test]
    fn session_result_has_per_invoice_outcomes_and_no_signed_url() {
        let v = Output::Online(session_result()).to_json();
        assert_eq!(v["type"], "online");
        assert_eq!(v["session"], "20260101-SO-1");
        assert_eq!(v["accepted"], 1);
        assert_eq!(v["status"]["status"]["code"], 200);
        assert_eq!(v["status"]["upo_pages"][0], "UPO-1");
        let i0 = &v["invoices"][0];
        assert_eq!(i0["index"], 0);
        assert_eq!(i0["accepted"], true);
        assert_eq!(i0["ksef_number"], "9999999999-20260101-0100001AF629-AF");
        assert_eq!(i0["upo"], "<Potwierdzenie/>");
        assert!(i0["error"].is_null());
        let i1 = &v["invoices"][1];
        assert_eq!(i1["accepted"], false);
        assert_eq!(i1["error"]["code"], ErrorCode::InvoiceRejected.as_u32());
        assert_eq!(i1["error"]["name"], "invoice_rejected");
        assert_eq!(i1["error"]["path"], "20260101-EE-2");
        assert!(i1["ksef_number"].is_null());
        // a page that is not UTF-8 stays readable as base64
        assert_eq!(v["session_upo"][0], "//4=");
        let text = serde_json::to_string(&v).unwrap();
        assert!(!text.contains("secret.example"), "{text}");
        assert_eq!(Output::Batch(session_result()).to_json()["type"], "batch");
    }

    #[test]
    fn token_output_carries_the_token_and_connection_names_failed_step() {
        let t = Output::Token(GeneratedToken {
            reference: "R1".into(),
            token: SecretString::new("tok-value"),
            status: "Active".into(),
        })
        .to_json();
        assert_eq!(t["type"], "token");
        assert_eq!(t["token"], "tok-value");
        let c = Output::Connection(ConnectionVerdict {
            ok: false,
            steps: vec![
                ("public keys", Ok(())),
                (
                    "authentication",
                    Err(Error::new(
                        ErrorCode::AuthFailed,
                        "POST /auth/ksef-token",
                        "no",
                    )),
                ),
            ],
            auth_reference: None,
        })
        .to_json();
        assert_eq!(c["ok"], false);
        assert_eq!(c["steps"][1]["step"], "authentication");
        assert_eq!(c["steps"][1]["error"]["name"], "auth_failed");
        assert!(c["summary"]
            .as_str()
            .unwrap()
            .contains("authentication failed"));
        assert_eq!(Output::Terminated.to_json(), json!({"type": "terminated"}));
        assert_eq!(Output::Upo(b"<a/>".to_vec()).to_json()["xml"], "<a/>");
    }

    #[test]
    fn events() {
        let e = Event::Finished {
            op: OpId(7),
            result: Err(Error::new(
                ErrorCode::Cancelled,
                "",
                "cancelled by the host",
            )),
        }
        .to_json();
        assert_eq!(e["type"], "finished");
        assert_eq!(e["op"], 7);
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["name"], "cancelled");
        let e = Event::Finished {
            op: OpId(3),
            result: Ok(Output::Authenticated {
                reference: "A".into(),
            }),
        }
        .to_json();
        assert_eq!(e["ok"], true);
        assert_eq!(e["output"]["type"], "authenticated");
        let e = Event::InvoiceSent {
            op: OpId(2),
            index: 4,
            reference: "X".into(),
        }
        .to_json();
        assert_eq!(
            e,
            json!({"type":"invoice_sent","op":2,"index":4,"reference":"X"})
        );
        let e = Event::Retrying {
            call: "POST /sessions/online".into(),
            attempt: 1,
            at_ms: 99,
            reason: "HTTP 503".into(),
        }
        .to_json();
        assert_eq!(e["at_ms"], 99);
        let e = Event::SessionOpened {
            op: OpId(2),
            reference: "S".into(),
        }
        .to_json();
        assert_eq!(e["type"], "session_opened");
        let e = Event::Authenticated {
            reference: String::new(),
            refreshed: true,
        }
        .to_json();
        assert_eq!(e["refreshed"], true);
    }

    #[test]
    fn inputs() {
        assert_eq!(FormCode::from_name("FA (3)").unwrap(), FormCode::Fa3);
        assert_eq!(FormCode::from_name("fa(2)").unwrap(), FormCode::Fa2);
        assert_eq!(FormCode::from_name("FA3").unwrap(), FormCode::Fa3);
        assert_eq!(FormCode::from_name("PEF").unwrap_err().path(), "form");

        let q = MetadataQuery::from_json_text(
            r#"{"subject":"seller","from":"2026-01-01T00:00:00","filters":{"sellerNip":"1"},"limit":5}"#,
        )
        .unwrap();
        assert_eq!(q.subject, SubjectType::Seller);
        assert_eq!(q.date_type, DateType::Invoicing);
        assert_eq!(q.limit, Some(5));
        assert_eq!(q.extra["sellerNip"], "1");
        for (text, path) in [
            (r#"{"from":"x"}"#, "subject"),
            (r#"{"subject":"me","from":"x"}"#, "subject"),
            (r#"{"subject":"buyer"}"#, "from"),
            (
                r#"{"subject":"buyer","from":"x","date_type":"when"}"#,
                "date_type",
            ),
            (r#"{"subject":"buyer","from":"x","limit":0}"#, "limit"),
            (r#"{"subject":"buyer","from":"x","filters":3}"#, "filters"),
            (r#"{"subject":"buyer","from":"x","bogus":1}"#, "bogus"),
        ] {
            let e = MetadataQuery::from_json_text(text).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidValue, "{text}");
            assert_eq!(e.path(), path, "{text}");
        }
        assert_eq!(
            MetadataQuery::from_json_text("{").unwrap_err().code(),
            ErrorCode::JsonSyntax
        );

        assert_eq!(
            UpoRef::from_json_text(r#"{"session":"S","ksef_number":"K"}"#).unwrap(),
            UpoRef::KsefNumber {
                session: "S".into(),
                ksef_number: "K".into()
            }
        );
        assert!(matches!(
            UpoRef::from_json_text(r#"{"session":"S","upo":"U"}"#).unwrap(),
            UpoRef::Session { .. }
        ));
        assert!(UpoRef::from_json_text(r#"{"session":"S"}"#).is_err());
        assert!(UpoRef::from_json_text(r#"{"session":"S","invoice":"I","upo":"U"}"#).is_err());

        let (p, d) = token_request_from_json(
            r#"{"permissions":["InvoiceRead","InvoiceWrite"],"description":"POS"}"#,
        )
        .unwrap();
        assert_eq!(
            p,
            vec![TokenPermission::InvoiceRead, TokenPermission::InvoiceWrite]
        );
        assert_eq!(d, "POS");
        let e =
            token_request_from_json(r#"{"permissions":["All"],"description":"x"}"#).unwrap_err();
        assert_eq!(e.path(), "permissions[0]");
        let e = token_request_from_json(r#"{"permissions":[],"description":"x"}"#).unwrap_err();
        assert_eq!(e.path(), "permissions");
    }

    #[test]
    fn p256_key_pem_reads_back() {
        let scalar = [7u8; 32];
        let pem = p256_pkcs8_pem(&scalar).unwrap();
        let k = crate::crypto::PrivateKey::from_pkcs8_pem(&pem).unwrap();
        let crate::crypto::PrivateKey::EcP256(k) = k else {
            panic!("not P-256")
        };
        assert_eq!(k.to_bytes().as_slice(), &scalar);
        assert!(p256_pkcs8_pem(&[1u8; 31]).is_none());
    }

    #[test]
    fn headers_round_trip() {
        let h = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Accept".to_string(), "a".to_string()),
        ];
        let v = headers_to_json(&h);
        assert_eq!(
            v,
            json!([["Content-Type", "application/json"], ["Accept", "a"]])
        );
        assert_eq!(headers_from_json(&v).unwrap(), h);
        let o = headers_from_json_text(r#"{"x-ms-meta-hash":"abc","Set":["1","2"]}"#).unwrap();
        assert_eq!(o.len(), 3);
        assert!(headers_from_json_text("").unwrap().is_empty());
        assert_eq!(
            headers_from_json_text("[[1,2]]").unwrap_err().path(),
            "headers[0]"
        );
        assert_eq!(
            headers_from_json_text("[[\"a\"]]").unwrap_err().path(),
            "headers[0]"
        );
        assert_eq!(headers_from_json_text("5").unwrap_err().path(), "headers");
        assert_eq!(
            transport_error_kind("timeout").unwrap(),
            TransportErrorKind::Timeout
        );
        assert_eq!(transport_error_kind("boom").unwrap_err().path(), "kind");
    }
}
