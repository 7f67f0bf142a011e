//! Is KSeF available? Latarnia (KSeF's public status service) and the rule that switches the
//! issuing flow to offline.
//!
//! Latarnia answers `GET /status` with `{"status": "AVAILABLE" | "MAINTENANCE" | "FAILURE" |
//! "TOTAL_FAILURE", "messages": [...]}` and `GET /messages` with the published messages
//! (`id`, `eventId`, `category`, `type` = `FAILURE_START` | `FAILURE_END` |
//! `MAINTENANCE_ANNOUNCEMENT`, `title`, `text`, `start`, `end`, `version`, `published`).
//! Sans-IO like the rest of the core: [`status_request`] builds the request, the host sends
//! it, [`parse_status`] reads the answer.
//!
//! [`AutoOffline`] is the switch: given why an online submission failed (transport failure,
//! timeout, 5xx) or what Latarnia announced, it says whether to issue offline and in which
//! [`Mode`]. The mode is always one whose deadline is no later than the legal one: `offline24`
//! (next business day after the issue date) unless a total failure is announced (no
//! obligation to send). Announced failures then move pending deadlines through
//! [`super::queue::OfflineQueue::announce_failure`] once their end is known.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::deadline::Mode;
use crate::error::{Error, ErrorCode};
use crate::http::{Method, Request};
use crate::model::Date;
use crate::Environment;

/// What Latarnia says about KSeF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KsefStatus {
    /// `AVAILABLE`.
    Available,
    /// `MAINTENANCE`: planned unavailability (the `offline` mode applies).
    Maintenance,
    /// `FAILURE`: an announced failure (the emergency mode, `awaryjny`, applies).
    Failure,
    /// `TOTAL_FAILURE`: announced in the mass media; no obligation to send invoices later.
    TotalFailure,
}

impl KsefStatus {
    /// Latarnia's name (`AVAILABLE`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            KsefStatus::Available => "AVAILABLE",
            KsefStatus::Maintenance => "MAINTENANCE",
            KsefStatus::Failure => "FAILURE",
            KsefStatus::TotalFailure => "TOTAL_FAILURE",
        }
    }

    /// The status of its Latarnia name (`AVAILABLE`, `MAINTENANCE`, `FAILURE`,
    /// `TOTAL_FAILURE`).
    pub fn from_name(s: &str) -> Option<KsefStatus> {
        Self::parse(s)
    }

    fn parse(s: &str) -> Option<KsefStatus> {
        Some(match s {
            "AVAILABLE" => KsefStatus::Available,
            "MAINTENANCE" => KsefStatus::Maintenance,
            "FAILURE" => KsefStatus::Failure,
            "TOTAL_FAILURE" => KsefStatus::TotalFailure,
            _ => return None,
        })
    }
}

/// One Latarnia message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Announcement {
    /// `id`.
    pub id: String,
    /// `eventId`: the messages of one event share it.
    pub event_id: String,
    /// `type`: `FAILURE_START`, `FAILURE_END`, `MAINTENANCE_ANNOUNCEMENT`, or another.
    pub kind: String,
    /// `title`.
    pub title: String,
    /// `text`.
    pub text: String,
    /// `start` (ISO-8601 date-time), when given.
    pub start: Option<String>,
    /// `end` (ISO-8601 date-time), when given.
    pub end: Option<String>,
    /// `published` (ISO-8601 date-time), when given.
    pub published: Option<String>,
}

impl Announcement {
    /// The failure this message reports, as the deadline rules count it: announced on the
    /// Polish day of `start` (or `published`), ended on the Polish day of `end`. `None`
    /// unless it is a failure with both days known.
    pub fn failure(&self) -> Option<super::deadline::Failure> {
        if !self.kind.starts_with("FAILURE") {
            return None;
        }
        let announced = self
            .start
            .as_deref()
            .or(self.published.as_deref())
            .and_then(super::calendar::warsaw_date_of)?;
        let ended = self
            .end
            .as_deref()
            .and_then(super::calendar::warsaw_date_of)?;
        (ended >= announced).then_some(super::deadline::Failure { announced, ended })
    }
}

/// Latarnia's answer to `GET /status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusReport {
    /// The status.
    pub status: KsefStatus,
    /// The messages about it (none when KSeF is fully available).
    pub messages: Vec<Announcement>,
}

impl StatusReport {
    /// The report as JSON (the form the bindings return): `{"status": "FAILURE", "messages":
    /// [{"id", "event_id", "type", "title", "text", "start", "end", "published"}],
    /// "failures": [{"announced": "YYYY-MM-DD", "ended": "YYYY-MM-DD"}]}` — `failures` are the
    /// messages the deadline rules can use (see [`Announcement::failure`]).
    pub fn to_json_value(&self) -> Value {
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "event_id": m.event_id, "type": m.kind, "title": m.title,
                    "text": m.text, "start": m.start, "end": m.end, "published": m.published,
                })
            })
            .collect();
        let failures: Vec<Value> = self
            .messages
            .iter()
            .filter_map(Announcement::failure)
            .map(|f| {
                serde_json::json!({
                    "announced": f.announced.to_string(), "ended": f.ended.to_string(),
                })
            })
            .collect();
        serde_json::json!({
            "status": self.status.as_str(),
            "messages": messages,
            "failures": failures,
        })
    }
}

/// Latarnia's base URL for an environment (TEST and DEMO share the test instance).
pub fn lighthouse_url(env: Environment) -> &'static str {
    match env {
        Environment::Production => "https://api-latarnia.ksef.mf.gov.pl",
        _ => "https://api-latarnia-test.ksef.mf.gov.pl",
    }
}

/// `GET {base}/status` (no authentication).
pub fn status_request(base: &str) -> Request {
    Request::new(
        Method::Get,
        alloc::format!("{}/status", base.trim_end_matches('/')),
    )
    .with_header("Accept", "application/json")
}

/// `GET {base}/messages` (no authentication).
pub fn messages_request(base: &str) -> Request {
    Request::new(
        Method::Get,
        alloc::format!("{}/messages", base.trim_end_matches('/')),
    )
    .with_header("Accept", "application/json")
}

fn bad(path: &str, why: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadResponse, path, why)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(String::from)
}

fn announcement(v: &Value, path: &str) -> Result<Announcement, Error> {
    if !v.is_object() {
        return Err(bad(path, "expected a message object"));
    }
    let any = |key: &str| -> String {
        match v.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => alloc::format!("{n}"),
            _ => String::new(),
        }
    };
    Ok(Announcement {
        id: any("id"),
        event_id: any("eventId"),
        kind: text(v, "type").ok_or_else(|| bad(path, "the message has no type"))?,
        title: any("title"),
        text: any("text"),
        start: text(v, "start"),
        end: text(v, "end"),
        published: text(v, "published"),
    })
}

fn messages_of(v: Option<&Value>, path: &str) -> Result<Vec<Announcement>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(n, m)| announcement(m, &alloc::format!("{path}[{n}]")))
            .collect(),
        Some(_) => Err(bad(path, "expected an array of messages")),
    }
}

/// Reads Latarnia's `GET /status` answer.
pub fn parse_status(body: &[u8]) -> Result<StatusReport, Error> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| bad("", alloc::format!("Latarnia status is not JSON: {e}")))?;
    let s = v
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("status", "missing"))?;
    let status = KsefStatus::parse(s)
        .ok_or_else(|| bad("status", alloc::format!("unknown status {s:?}")))?;
    Ok(StatusReport {
        status,
        messages: messages_of(v.get("messages"), "messages")?,
    })
}

/// Reads Latarnia's `GET /messages` answer (an array, or an object with `messages`).
pub fn parse_messages(body: &[u8]) -> Result<Vec<Announcement>, Error> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| bad("", alloc::format!("Latarnia messages are not JSON: {e}")))?;
    match &v {
        Value::Array(_) => messages_of(Some(&v), ""),
        _ => messages_of(v.get("messages"), "messages"),
    }
}

/// When the issuing flow switches to offline by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoOffline {
    /// On transport failures (no connection, TLS, dropped answer) and timeouts, after the
    /// client's retries.
    pub on_transport_error: bool,
    /// On HTTP 5xx answers (KSeF failing), after the client's retries.
    pub on_server_error: bool,
    /// When Latarnia announces anything but `AVAILABLE` (no KSeF attempt is made then).
    pub on_announcement: bool,
}

impl Default for AutoOffline {
    /// Every trigger on.
    fn default() -> AutoOffline {
        AutoOffline {
            on_transport_error: true,
            on_server_error: true,
            on_announcement: true,
        }
    }
}

impl AutoOffline {
    /// Never switch by itself.
    pub const OFF: AutoOffline = AutoOffline {
        on_transport_error: false,
        on_server_error: false,
        on_announcement: false,
    };

    /// Does this failure of an online submission switch to offline? Only unavailability
    /// does: transport failures and timeouts, 5xx. A refusal of the invoice (4xx, a
    /// validation error) never does: the invoice must be fixed, not issued offline.
    pub fn on_failure(&self, error: &Error) -> bool {
        match error.code() {
            ErrorCode::Transport | ErrorCode::Timeout => self.on_transport_error,
            ErrorCode::ServerError => self.on_server_error,
            _ => false,
        }
    }

    /// Does Latarnia's status switch to offline before any attempt?
    pub fn on_status(&self, status: KsefStatus) -> bool {
        self.on_announcement && status != KsefStatus::Available
    }
}

/// The offline mode to issue an invoice of `issued` (P_1) in while KSeF is in `status`:
/// `offline24` (deadline: the next business day after the issue date — never later than
/// the deadline of the unavailability or emergency modes, which later failure announcements
/// extend), or the total-failure mode (no obligation to send) when one is announced.
pub fn mode_for(status: KsefStatus, issued: Date) -> Mode {
    match status {
        KsefStatus::TotalFailure => Mode::TotalFailure,
        _ => Mode::Offline24 { issued },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_latarnia() {
        let r = parse_status(
            br#"{"status":"FAILURE","messages":[{"id":"m1","eventId":7,"category":"KSEF","type":"FAILURE_START","title":"Awaria","text":"...","start":"2025-07-09T08:00:00+02:00","end":"2025-07-12T20:00:00+02:00","version":1,"published":"2025-07-09T08:05:00+02:00"}]}"#,
        )
        .unwrap();
        assert_eq!(r.status, KsefStatus::Failure);
        assert_eq!(r.messages[0].event_id, "7");
        let f = r.messages[0].failure().unwrap();
        assert_eq!(f.announced, "2025-07-09".parse().unwrap());
        assert_eq!(f.ended, "2025-07-12".parse().unwrap());
        let ok = parse_status(br#"{"status":"AVAILABLE"}"#).unwrap();
        assert_eq!(ok.status, KsefStatus::Available);
        assert!(ok.messages.is_empty());
        assert_eq!(parse_messages(b"[]").unwrap(), Vec::new());
        for bad in [
            &b"{"[..],
            br#"{"status":"SUNNY"}"#,
            br#"{}"#,
            br#"{"status":"AVAILABLE","messages":{}}"#,
        ] {
            assert_eq!(
                parse_status(bad).unwrap_err().code(),
                ErrorCode::BadResponse
            );
        }
        assert!(status_request("https://x/").url.ends_with("x/status"));
    }

    #[test]
    fn switches_only_on_unavailability() {
        let a = AutoOffline::default();
        let e = |c| Error::new(c, "", "");
        assert!(a.on_failure(&e(ErrorCode::Transport)));
        assert!(a.on_failure(&e(ErrorCode::Timeout)));
        assert!(a.on_failure(&e(ErrorCode::ServerError)));
        for c in [
            ErrorCode::ApiError,
            ErrorCode::InvoiceRejected,
            ErrorCode::Unauthorized,
            ErrorCode::RateLimited,
        ] {
            assert!(!a.on_failure(&e(c)), "{c:?}");
        }
        assert!(!AutoOffline::OFF.on_failure(&e(ErrorCode::Transport)));
        assert!(a.on_status(KsefStatus::Maintenance));
        assert!(!a.on_status(KsefStatus::Available));
        let d: Date = "2026-04-03".parse().unwrap();
        assert_eq!(
            mode_for(KsefStatus::Failure, d),
            Mode::Offline24 { issued: d }
        );
        assert_eq!(mode_for(KsefStatus::TotalFailure, d), Mode::TotalFailure);
    }
}
