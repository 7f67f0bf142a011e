//! What every host binding of paired mode shares (the C ABI now, Python and Node later), so
//! that the bindings only convert: the host settings of one store's engine (strict JSON), the
//! names of modes and triggers, the recovery action that fits a job (`ksef audit retry`), the
//! JSON forms of jobs, events, statuses and rule decisions, NBP rates given as JSON, and the
//! CBOR form of the engine's snapshot.
//!
//! No secret ever reaches a JSON form here: the Fakturownia API token and the KSeF push
//! secret stay in [`SecretString`]s.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{json, Map, Value};

use super::engine::Engine;
use super::fakturownia::Account;
use super::machine::{Job, Mode, PairedEvent, PairedStatus};
use super::reader::{self, Obj};
use super::rules::{Decision, DocumentKind, RateQuote, RuleConfig, StoreRules, Trigger};
use crate::error::{Error, ErrorCode};
use crate::protocol::{Client, SecretString};

const BAD: ErrorCode = ErrorCode::InvalidValue;

/// The default NBP API base.
pub const NBP_URL: &str = "https://api.nbp.pl";

impl Mode {
    /// The mode of its name: `ksef-first` or `simultaneous` (as the CLI's `--mode`).
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "ksef-first" => Some(Mode::KsefFirst),
            "simultaneous" => Some(Mode::Simultaneous),
            _ => None,
        }
    }

    /// The name (`ksef-first`, `simultaneous`).
    pub const fn name(self) -> &'static str {
        match self {
            Mode::KsefFirst => "ksef-first",
            Mode::Simultaneous => "simultaneous",
        }
    }
}

impl Trigger {
    /// The trigger of its name: `created`, `status`, `captured` or `manual` (as the CLI's
    /// `--trigger`).
    pub fn from_name(name: &str) -> Option<Trigger> {
        match name {
            "created" => Some(Trigger::Created),
            "status" => Some(Trigger::StatusChanged),
            "captured" => Some(Trigger::Captured),
            "manual" => Some(Trigger::Manual),
            _ => None,
        }
    }
}

/// The host settings of one store's engine, besides the rules and the KSeF client:
///
/// ```json
/// { "store": "pl-main", "mode": "ksef-first",
///   "fakturownia_url": "https://sklep.fakturownia.pl", "fakturownia_token": "…",
///   "nbp_url": "https://api.nbp.pl", "push_secret": "…" }
/// ```
///
/// `store` may be left out when the rules have exactly one store; `mode` defaults to
/// `ksef-first` (a restored engine keeps the mode of its snapshot); `fakturownia_url`
/// defaults to the store's `fakturownia.base_url`; `fakturownia_token` is required;
/// `nbp_url` defaults to [`NBP_URL`]; `push_secret` enables KSeF status pushes
/// ([`super::machine::PairedMachine::apply_ksef_push`]).
#[non_exhaustive]
pub struct HostSettings {
    /// The store the engine serves.
    pub store: String,
    /// The mode of a new engine.
    pub mode: Mode,
    /// The Fakturownia account (URL and API token).
    pub account: Account,
    /// The NBP API base (no trailing `/`).
    pub nbp_url: String,
    /// The shared secret of KSeF status pushes.
    pub push_secret: Option<SecretString>,
}

impl fmt::Debug for HostSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostSettings")
            .field("store", &self.store)
            .field("mode", &self.mode)
            .field("account", &self.account)
            .field("nbp_url", &self.nbp_url)
            .finish_non_exhaustive()
    }
}

fn http_url(o: &Obj<'_>, key: &str, url: &str) -> Result<String, Error> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(o.bad(key, format!("`{url}`: expected an http:// or https:// URL")));
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl HostSettings {
    /// Reads the settings (strict: unknown keys are errors naming them) against the rules
    /// (the store must exist in them). Errors never contain the token.
    pub fn from_json(json: &str, config: &RuleConfig) -> Result<HostSettings, Error> {
        let v = reader::parse(json, "the paired settings")?;
        let mut o = Obj::new(&v, "", BAD)?;
        let store = match o.opt_string("store")? {
            Some(s) => {
                if !config.stores.contains_key(&s) {
                    return Err(Error::new(
                        ErrorCode::UnknownStore,
                        "store",
                        format!("the rules have no store `{s}`"),
                    ));
                }
                s
            }
            None => {
                let mut names = config.stores.keys();
                match (names.next(), names.next()) {
                    (Some(only), None) => only.clone(),
                    _ => {
                        return Err(o.bad(
                            "store",
                            "the rules have several stores: say which one this engine serves",
                        ))
                    }
                }
            }
        };
        let mode = match o.opt_string("mode")? {
            None => Mode::KsefFirst,
            Some(m) => Mode::from_name(&m)
                .ok_or_else(|| o.bad("mode", format!("`{m}`: ksef-first or simultaneous")))?,
        };
        let rules: &StoreRules = &config.stores[&store];
        let url = match o.opt_string("fakturownia_url")? {
            Some(u) => http_url(&o, "fakturownia_url", &u)?,
            None => http_url(&o, "fakturownia_url", &rules.fakturownia.base_url)?,
        };
        // Read without echoing the value in any error.
        let token = match o.opt("fakturownia_token") {
            Some(Value::String(t)) if !t.trim().is_empty() => SecretString::new(t.trim()),
            Some(Value::String(_)) => return Err(o.bad("fakturownia_token", "must not be empty")),
            Some(_) => return Err(o.bad("fakturownia_token", "expected a string")),
            None => return Err(o.bad("fakturownia_token", "the Fakturownia API token is required")),
        };
        let nbp_url = match o.opt_string("nbp_url")? {
            Some(u) => http_url(&o, "nbp_url", &u)?,
            None => String::from(NBP_URL),
        };
        let push_secret = match o.opt("push_secret") {
            Some(Value::String(s)) if !s.is_empty() => Some(SecretString::new(s.as_str())),
            Some(_) => return Err(o.bad("push_secret", "expected a non-empty string")),
            None => None,
        };
        o.finish()?;
        Ok(HostSettings {
            store,
            mode,
            account: Account::new(url, token),
            nbp_url,
            push_secret,
        })
    }

    /// A new engine over `client` for these settings.
    pub fn engine(&self, config: RuleConfig, client: Client, seed: [u8; 32]) -> Engine {
        let e = Engine::new(
            config,
            self.mode,
            client,
            self.account.clone(),
            self.nbp_url.clone(),
            seed,
        );
        match &self.push_secret {
            Some(s) => e.with_push_secret(s.clone()),
            None => e,
        }
    }

    /// An engine restored from a snapshot: JSON ([`Engine::snapshot_json`], starting with
    /// `{`) or CBOR ([`snapshot_cbor`]).
    pub fn restore(
        &self,
        snapshot: &[u8],
        config: RuleConfig,
        client: Client,
        seed: [u8; 32],
    ) -> Result<Engine, Error> {
        let json = snapshot_text(snapshot)?;
        let e = Engine::restore_json(
            &json,
            config,
            client,
            self.account.clone(),
            self.nbp_url.clone(),
            seed,
        )?;
        Ok(match &self.push_secret {
            Some(s) => e.with_push_secret(s.clone()),
            None => e,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Recovery

/// The recovery action [`recover`] chose for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recovery {
    /// The Fakturownia leg again, with the stored KSeF number (never a new KSeF submission).
    Fakturownia,
    /// Writing the KSeF number into the Fakturownia document again.
    Backfill,
    /// Both legs again (KSeF refused the invoice).
    Both,
    /// Nothing: the job is complete.
    Nothing,
    /// The job was interrupted mid-way and simply resumes.
    Resume,
}

impl Recovery {
    /// The stable name (`fakturownia`, `backfill`, `both`, `nothing`, `resume`).
    pub const fn name(self) -> &'static str {
        match self {
            Recovery::Fakturownia => "fakturownia",
            Recovery::Backfill => "backfill",
            Recovery::Both => "both",
            Recovery::Nothing => "nothing",
            Recovery::Resume => "resume",
        }
    }
}

/// Starts the recovery that fits the job's state (what `ksef audit retry JOB` does): the
/// Fakturownia leg only for `KSEF_OK_FAKTUROWNIA_FAILED`, the backfill for
/// `KSEF_ID_BACKFILL_FAILED`, both legs for `KSEF_FAILED_*`, nothing for a complete job, a
/// plain resume otherwise. Pump the engine afterwards. `PairedConflict` for an unknown job.
pub fn recover(engine: &mut Engine, job: &str, now_ms: u64) -> Result<Recovery, Error> {
    let status = engine
        .machine()
        .job(job)
        .map(Job::status)
        .ok_or_else(|| Error::new(ErrorCode::PairedConflict, job, "no such job"))?;
    let m = engine.machine_mut();
    match status {
        PairedStatus::KsefOkFakturowniaFailed => {
            m.retry_fakturownia(job, now_ms)?;
            Ok(Recovery::Fakturownia)
        }
        PairedStatus::KsefIdBackfillFailed => {
            m.retry_backfill(job, now_ms)?;
            Ok(Recovery::Backfill)
        }
        PairedStatus::KsefFailedFakturowniaSkipped | PairedStatus::KsefFailedFakturowniaCreated => {
            m.retry_both(job, None, now_ms)?;
            Ok(Recovery::Both)
        }
        PairedStatus::Completed => Ok(Recovery::Nothing),
        _ => Ok(Recovery::Resume),
    }
}

// ---------------------------------------------------------------------------------------
// JSON forms

impl Job {
    /// The job as JSON: ids, status (and whether it is a discrepancy), KSeF number,
    /// Fakturownia id, errors, links to corrections. With `documents`, also the FA(3) XML
    /// (`xml`), the Fakturownia document (`fakturownia_document`) and the UPO (`upo`).
    pub fn to_json_value(&self, documents: bool) -> Value {
        let status = self.status();
        let mut v = json!({
            "job": self.id,
            "store": self.docs.store,
            "order_id": self.docs.order_id,
            "number": self.docs.number,
            "status": status.as_str(),
            "discrepancy": status.is_discrepancy(),
            "ksef_number": self.ksef_number,
            "fakturownia_id": self.fakturownia_id,
            "fakturownia_gov_id": self.fakturownia_gov_id,
            "ksef_submissions": self.ksef_submissions,
            "ksef_error": self.ksef_error,
            "fakturownia_error": self.fakturownia_error,
            "correction_of": self.docs.correction_of,
            "corrections": self.corrections,
            "has_upo": self.upo.is_some(),
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
        });
        if documents {
            v["xml"] = Value::String(self.docs.xml.clone());
            v["fakturownia_document"] =
                serde_json::from_str(&self.docs.fakturownia).unwrap_or(Value::Null);
            v["upo"] = self.upo.clone().map_or(Value::Null, Value::String);
        }
        v
    }
}

impl PairedEvent {
    /// The event as JSON: `{"event": "ksef_number_received" | "fakturownia_created" |
    /// "discrepancy_entered" | "discrepancy_left" | "completed", "job": …, …}`.
    pub fn to_json_value(&self) -> Value {
        match self {
            PairedEvent::KsefNumberReceived {
                job,
                order_id,
                invoice_number,
                ksef_number,
                upo,
            } => json!({
                "event": "ksef_number_received",
                "job": job,
                "order_id": order_id,
                "invoice_number": invoice_number,
                "ksef_number": ksef_number,
                "has_upo": upo.is_some(),
            }),
            PairedEvent::FakturowniaCreated { job, id } => json!({
                "event": "fakturownia_created", "job": job, "fakturownia_id": id,
            }),
            PairedEvent::DiscrepancyEntered { job, status } => json!({
                "event": "discrepancy_entered", "job": job, "status": status.as_str(),
            }),
            PairedEvent::DiscrepancyLeft { job, status } => json!({
                "event": "discrepancy_left", "job": job, "status": status.as_str(),
            }),
            PairedEvent::Completed { job } => json!({"event": "completed", "job": job}),
        }
    }
}

/// The engine's state as JSON: `{"mode", "idle", "discrepancies", "jobs": [...]}` (jobs
/// without their documents, see [`Job::to_json_value`]).
pub fn status_json(engine: &Engine) -> Value {
    let m = engine.machine();
    let jobs: Vec<Value> = m.jobs().map(|j| j.to_json_value(false)).collect();
    json!({
        "mode": m.mode().name(),
        "idle": engine.is_idle(),
        "discrepancies": m.jobs().filter(|j| j.status().is_discrepancy()).count(),
        "jobs": jobs,
    })
}

/// The audit trail as a JSON array of records (no secrets).
pub fn audit_json(engine: &Engine) -> Value {
    serde_json::to_value(engine.machine().audit()).unwrap_or(Value::Array(Vec::new()))
}

impl RateQuote {
    /// The JSON form of [`RateQuote`]'s serialization:
    /// `{"currency": "EUR", "table": "031/A/NBP/2026", "date": "2026-02-13", "rate": "4.2134"}`.
    pub fn from_json_value(v: &Value, path: &str) -> Result<RateQuote, Error> {
        let mut o = Obj::new(v, path, BAD)?;
        let currency = o.string("currency")?;
        let table = o.string("table")?;
        let date = o.date("date")?;
        let rate = o.decimal("rate")?;
        o.finish()?;
        Ok(RateQuote {
            currency,
            table,
            date,
            rate,
        })
    }
}

/// Rates as JSON: one [`RateQuote`] object or an array of them.
pub fn rates_from_json(json: &str) -> Result<Vec<RateQuote>, Error> {
    let v = reader::parse(json, "the rates")?;
    match &v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, r)| RateQuote::from_json_value(r, &format!("[{i}]")))
            .collect(),
        other => Ok(alloc::vec![RateQuote::from_json_value(other, "")?]),
    }
}

impl Decision {
    /// The decision as JSON: `{"decision": "skip", "reason"}`, `{"decision": "need_rate",
    /// "currency", "before"}` or `{"decision": "issue", "store", "order_id", "number",
    /// "kind": "invoice" | "correction", "original_ksef_number"?, "original_number"?,
    /// "currency", "rate", "xml", "fakturownia"}` (the FA(3) XML as text, the Fakturownia
    /// `invoice` object as JSON).
    pub fn to_json_value(&self) -> Result<Value, Error> {
        Ok(match self {
            Decision::Skip { reason } => json!({"decision": "skip", "reason": reason}),
            Decision::NeedRate { currency, before } => json!({
                "decision": "need_rate", "currency": currency, "before": before.to_string(),
            }),
            Decision::Issue(d) => {
                let xml = String::from_utf8(d.xml.clone()).map_err(|_| {
                    Error::new(ErrorCode::Encoding, &d.number, "the FA(3) XML is not UTF-8")
                })?;
                let mut v = json!({
                    "decision": "issue",
                    "store": d.store,
                    "order_id": d.order_id,
                    "number": d.number,
                    "kind": "invoice",
                    "currency": d.currency,
                    "rate": d.rate.as_ref().map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
                    "xml": xml,
                    "fakturownia": d.fakturownia,
                });
                if let DocumentKind::Correction {
                    original_ksef_number,
                    original_number,
                } = &d.kind
                {
                    v["kind"] = "correction".into();
                    v["original_ksef_number"] = original_ksef_number.clone().into();
                    v["original_number"] = original_number.clone().into();
                }
                v
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// The CBOR form of the engine's snapshot

fn snap_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::SnapshotInvalid, "", msg)
}

/// The engine's snapshot ([`Engine::snapshot_json`]) as CBOR: the same document (the
/// machine's part as a nested map, not as text), smaller and binary. No secrets.
pub fn snapshot_cbor(engine: &Engine) -> Vec<u8> {
    let mut v: Value =
        serde_json::from_str(&engine.snapshot_json()).unwrap_or(Value::Object(Map::new()));
    if let Some(m) = v.get("machine").and_then(Value::as_str) {
        let nested = serde_json::from_str::<Value>(m).unwrap_or(Value::Null);
        v["machine"] = nested;
    }
    let mut out = Vec::new();
    let mut enc = minicbor::Encoder::new(&mut out);
    // Writing into a Vec cannot fail.
    let _ = encode(&mut enc, &v);
    out
}

/// The JSON text of a snapshot given as JSON (first byte `{` after white space) or CBOR.
pub fn snapshot_text(snapshot: &[u8]) -> Result<String, Error> {
    let first = snapshot.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return String::from_utf8(snapshot.to_vec())
            .map_err(|_| snap_err("the JSON snapshot is not UTF-8"));
    }
    let mut dec = minicbor::Decoder::new(snapshot);
    let mut v = decode(&mut dec, 0)?;
    if dec.position() != snapshot.len() {
        return Err(snap_err("bytes after the CBOR snapshot"));
    }
    if let Some(m) = v.get("machine").filter(|m| m.is_object()) {
        let text = m.to_string();
        v["machine"] = Value::String(text);
    }
    Ok(v.to_string())
}

type Enc<'a> = minicbor::Encoder<&'a mut Vec<u8>>;

fn encode(
    e: &mut Enc<'_>,
    v: &Value,
) -> Result<(), minicbor::encode::Error<core::convert::Infallible>> {
    match v {
        Value::Null => {
            e.null()?;
        }
        Value::Bool(b) => {
            e.bool(*b)?;
        }
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                e.u64(u)?;
            } else if let Some(i) = n.as_i64() {
                e.i64(i)?;
            } else {
                e.f64(n.as_f64().unwrap_or(0.0))?;
            }
        }
        Value::String(s) => {
            e.str(s)?;
        }
        Value::Array(a) => {
            e.array(a.len() as u64)?;
            for x in a {
                encode(e, x)?;
            }
        }
        Value::Object(m) => {
            e.map(m.len() as u64)?;
            for (k, x) in m {
                e.str(k)?;
                encode(e, x)?;
            }
        }
    }
    Ok(())
}

fn decode(d: &mut minicbor::Decoder<'_>, depth: u32) -> Result<Value, Error> {
    use minicbor::data::Type;
    if depth > 64 {
        return Err(snap_err("the CBOR snapshot is nested too deeply"));
    }
    let bad = |e: minicbor::decode::Error| snap_err(format!("not a paired-mode snapshot: {e}"));
    let t = d.datatype().map_err(bad)?;
    Ok(match t {
        Type::Null => {
            d.null().map_err(bad)?;
            Value::Null
        }
        Type::Bool => Value::Bool(d.bool().map_err(bad)?),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64().map_err(bad)?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::from(d.i64().map_err(bad)?),
        Type::F16 | Type::F32 | Type::F64 => {
            serde_json::Number::from_f64(d.f64().map_err(bad)?).map_or(Value::Null, Value::Number)
        }
        Type::String => Value::String(d.str().map_err(bad)?.to_string()),
        Type::Array => {
            let n = d
                .array()
                .map_err(bad)?
                .ok_or_else(|| snap_err("indefinite CBOR arrays are not used"))?;
            let mut a = Vec::new();
            for _ in 0..n {
                a.push(decode(d, depth + 1)?);
            }
            Value::Array(a)
        }
        Type::Map => {
            let n = d
                .map()
                .map_err(bad)?
                .ok_or_else(|| snap_err("indefinite CBOR maps are not used"))?;
            let mut m = Map::new();
            for _ in 0..n {
                let k = d.str().map_err(bad)?.to_string();
                m.insert(k, decode(d, depth + 1)?);
            }
            Value::Object(m)
        }
        other => return Err(snap_err(format!("unexpected CBOR item {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_form_round_trips_a_json_document() {
        let v = json!({"version": 1, "machine": "{\"jobs\":[],\"n\":-3,\"x\":1.5}", "w": [null, true, "ż"]});
        let mut out = Vec::new();
        let mut nested = v.clone();
        nested["machine"] = serde_json::from_str(v["machine"].as_str().unwrap()).unwrap();
        encode(&mut minicbor::Encoder::new(&mut out), &nested).unwrap();
        let text = snapshot_text(&out).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        let m: Value = serde_json::from_str(back["machine"].as_str().unwrap()).unwrap();
        assert_eq!(m["n"], -3);
        assert_eq!(m["x"], 1.5);
        assert_eq!(back["w"], v["w"]);
        assert!(snapshot_text(&out[..out.len() - 1]).is_err());
        assert!(snapshot_text(&[0xff, 0x00]).is_err());
    }

    #[test]
    fn settings_are_strict_and_never_echo_the_token() {
        let cfg =
            RuleConfig::from_json(include_str!("../../../examples/paired/rules.json")).unwrap();
        let e = HostSettings::from_json(r#"{"fakturownia_token":"sekret"}"#, &cfg).unwrap_err();
        assert_eq!(e.path(), "store");
        let s = HostSettings::from_json(
            r#"{"store":"b2b","fakturownia_token":"sekret","mode":"simultaneous"}"#,
            &cfg,
        )
        .unwrap();
        assert_eq!(s.mode, Mode::Simultaneous);
        assert_eq!(s.account.base_url, "https://zimnotech-hurt.fakturownia.pl");
        assert!(!format!("{s:?}").contains("sekret"));
        let e =
            HostSettings::from_json(r#"{"store":"b2b","fakturownia_token":7}"#, &cfg).unwrap_err();
        assert_eq!(e.path(), "fakturownia_token");
        let e = HostSettings::from_json(
            r#"{"store":"b2b","fakturownia_token":"sekret","extra":1}"#,
            &cfg,
        )
        .unwrap_err();
        assert!(!e.message().contains("sekret"));
        assert_eq!(
            HostSettings::from_json(r#"{"store":"nope","fakturownia_token":"t"}"#, &cfg)
                .unwrap_err()
                .code(),
            ErrorCode::UnknownStore
        );
    }
}
