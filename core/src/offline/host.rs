//! What every host binding of offline mode shares (the C ABI now, Python and Node later), so
//! that the bindings only convert: modes by name (as the CLI's `--mode` + `--date`), failure
//! announcements as JSON, the JSON forms of deadlines, queued invoices and recovery reports,
//! the sessions a full recovery sends, and the QR codes of a queued invoice.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{json, Value};

use super::deadline::{self, DeadlineStatus, Failure, Mode};
use super::queue::{OfflineInvoice, OfflineQueue};
use super::recovery::{OnlinePlan, RecoveryReport};
use crate::error::{Error, ErrorCode};
use crate::id::KsefNumber;
use crate::model::Date;
use crate::protocol::FormCode;
use crate::qr::{invoice_label, LABEL_CERTIFICATE};

fn bad(path: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidValue, path, msg)
}

/// A `YYYY-MM-DD` date; `InvalidValue` naming `path` otherwise.
pub fn parse_date(text: &str, path: &str) -> Result<Date, Error> {
    text.parse::<Date>()
        .map_err(|e| bad(path, format!("`{text}`: {e} (expected YYYY-MM-DD)")))
}

impl Mode {
    /// The mode of its name and date, as the CLI's `--mode` and `--date`: `offline24` (the
    /// issue date), `unavailability` or `offline` (the day it ended), `emergency` or
    /// `awaryjny` (the day the failure ended), `total-failure` (no date). `InvalidValue`
    /// naming `mode` or `date` otherwise.
    pub fn from_name(name: &str, date: Option<Date>) -> Result<Mode, Error> {
        let need = |what: &str| {
            date.ok_or_else(|| bad("date", format!("mode {name} needs {what} (YYYY-MM-DD)")))
        };
        Ok(match name {
            "offline24" => Mode::Offline24 {
                issued: need("the issue date")?,
            },
            "unavailability" | "offline" => Mode::Unavailability {
                ended: need("the day the unavailability ended")?,
            },
            "emergency" | "awaryjny" => Mode::Emergency {
                ended: need("the day the failure ended")?,
            },
            "total-failure" | "totalFailure" => Mode::TotalFailure,
            other => {
                return Err(bad(
                    "mode",
                    format!(
                        "`{other}`: expected offline24, unavailability, emergency or \
                         total-failure"
                    ),
                ))
            }
        })
    }
}

impl DeadlineStatus {
    /// The stable name (`no-obligation`, `ok`, `due-today`, `overdue`), as the CLI prints.
    pub const fn name(self) -> &'static str {
        match self {
            DeadlineStatus::NoObligation => "no-obligation",
            DeadlineStatus::Ok => "ok",
            DeadlineStatus::DueToday => "due-today",
            DeadlineStatus::Overdue => "overdue",
        }
    }
}

impl Failure {
    /// A failure announcement, checked: it cannot end before it was announced.
    pub fn new_checked(announced: Date, ended: Date) -> Result<Failure, Error> {
        if ended < announced {
            return Err(bad(
                "ended",
                format!("the failure ends ({ended}) before it was announced ({announced})"),
            ));
        }
        Ok(Failure { announced, ended })
    }
}

/// Failure announcements as JSON: an array of `{"announced": "YYYY-MM-DD", "ended":
/// "YYYY-MM-DD"}` (an empty text is no failure).
pub fn failures_from_json(json: &str) -> Result<Vec<Failure>, Error> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    let v: Value = serde_json::from_str(json).map_err(|e| {
        Error::new(
            ErrorCode::JsonSyntax,
            format!("line {}, column {}", e.line(), e.column()),
            format!("the failures are not valid JSON: {e}"),
        )
    })?;
    let Value::Array(items) = v else {
        return Err(bad("", "expected an array of {\"announced\", \"ended\"}"));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("[{i}]");
        let Value::Object(m) = item else {
            return Err(bad(&path, "expected an object"));
        };
        if let Some(k) = m.keys().find(|k| *k != "announced" && *k != "ended") {
            return Err(bad(&format!("{path}.{k}"), "unknown field"));
        }
        let date = |k: &str| -> Result<Date, Error> {
            let p = format!("{path}.{k}");
            match m.get(k) {
                Some(Value::String(s)) => parse_date(s, &p),
                Some(_) => Err(bad(&p, "expected a date string")),
                None => Err(bad(&p, "required field is missing")),
            }
        };
        out.push(
            Failure::new_checked(date("announced")?, date("ended")?)
                .map_err(|e| bad(&path, e.message()))?,
        );
    }
    Ok(out)
}

/// `ksef offline deadline` as JSON: `{"mode": "offline24", "deadline": "YYYY-MM-DD" | null,
/// "status": "ok" | "due-today" | "overdue" | "no-obligation"}` (`status` only with `today`).
pub fn deadline_json(mode: Mode, failures: &[Failure], today: Option<Date>) -> Value {
    let due = deadline::deadline(mode, failures);
    let mut v = json!({
        "mode": mode.name(),
        "deadline": due.map(|d| d.to_string()),
    });
    if let Some(t) = today {
        v["status"] = deadline::status(due, t).name().into();
    }
    v
}

impl OfflineInvoice {
    /// The invoice as JSON (without its bytes): `id`, `hash`, `seller_nip`, `issue_date`,
    /// `mode`, `deadline`, `deadline_status` (with `today`), `kod1_url`, `kod2_url`, `signed`
    /// (KOD II signed at issue), `status`, `received` (the day KSeF received it), `ksef_number`,
    /// `reference`, `error` (`{code, message}` when rejected), `corrects`, `corrected_by`.
    pub fn to_json_value(&self, today: Option<Date>) -> Value {
        use super::queue::Status;
        let (reference, error) = match &self.status {
            Status::Sent { reference } | Status::Processing { reference } => {
                (Some(reference.clone()), Value::Null)
            }
            Status::Rejected { code, message } => (None, json!({"code": code, "message": message})),
            _ => (None, Value::Null),
        };
        let mut v = json!({
            "id": self.id,
            "hash": self.hash,
            "seller_nip": self.seller_nip,
            "issue_date": self.issue_date.to_string(),
            "mode": self.mode.name(),
            "deadline": self.deadline.map(|d| d.to_string()),
            "kod1_url": self.kod1_url,
            "kod2_url": self.kod2_url,
            // KOD II is signed at issue (with the offline certificate given then)
            "signed": self.kod2_url.is_some(),
            "status": self.status.name(),
            "received": self.received.map(|d| d.to_string()),
            "ksef_number": self.ksef_number(),
            "reference": reference,
            "error": error,
            "corrects": self.corrects,
            "corrected_by": self.corrected_by,
        });
        if let Some(t) = today {
            v["deadline_status"] = self.deadline_status(t).name().into();
        }
        v
    }

    /// The text and label of a QR code of the invoice: KOD I (`kod2 == false`; label: the
    /// KSeF number once accepted, `OFFLINE` before) or KOD II (label `CERTYFIKAT`; `None`
    /// when the invoice was issued without a certificate).
    pub fn qr_code(&self, kod2: bool) -> Option<(&str, String)> {
        if kod2 {
            return self
                .kod2_url
                .as_deref()
                .map(|u| (u, LABEL_CERTIFICATE.to_string()));
        }
        let number = self.ksef_number().and_then(|n| KsefNumber::parse(n).ok());
        Some((
            self.kod1_url.as_str(),
            invoice_label(number.as_ref()).to_string(),
        ))
    }
}

impl RecoveryReport {
    /// Adds another session's report to this one.
    pub fn extend(&mut self, other: RecoveryReport) {
        self.accepted.extend(other.accepted);
        self.rejected.extend(other.rejected);
        self.open.extend(other.open);
        self.not_sent.extend(other.not_sent);
        self.missed_deadline.extend(other.missed_deadline);
        self.duplicates.extend(other.duplicates);
    }

    /// The report as JSON: `{"accepted": [{"id", "ksef_number"}], "rejected": [{"id",
    /// "code", "message"}], "open": [ids], "not_sent": [ids], "missed_deadline": [ids],
    /// "duplicates": [{"id", "ksef_number"}]}` (duplicates: rejected as 440, with the KSeF
    /// number of the invoice KSeF already holds).
    pub fn to_json_value(&self) -> Value {
        let accepted: Vec<Value> = self
            .accepted
            .iter()
            .map(|(id, n)| json!({"id": id, "ksef_number": n}))
            .collect();
        let rejected: Vec<Value> = self
            .rejected
            .iter()
            .map(|(id, c, m)| json!({"id": id, "code": c, "message": m}))
            .collect();
        json!({
            "accepted": accepted,
            "rejected": rejected,
            "open": self.open,
            "not_sent": self.not_sent,
            "missed_deadline": self.missed_deadline,
            "duplicates": self
                .duplicates
                .iter()
                .map(|(id, n)| json!({"id": id, "ksef_number": n}))
                .collect::<Vec<Value>>(),
        })
    }
}

impl OfflineQueue {
    /// The queue as JSON: `{"env", "failures": [{"announced", "ended"}], "invoices": [...]}`
    /// (see [`OfflineInvoice::to_json_value`]).
    pub fn list_json(&self, today: Option<Date>) -> Value {
        let failures: Vec<Value> = self
            .failures()
            .iter()
            .map(|f| json!({"announced": f.announced.to_string(), "ended": f.ended.to_string()}))
            .collect();
        let invoices: Vec<Value> = self
            .invoices()
            .iter()
            .map(|i| i.to_json_value(today))
            .collect();
        json!({"env": self.env().name(), "failures": failures, "invoices": invoices})
    }

    /// The open invoices whose deadline passed before `today`, as a JSON array.
    pub fn overdue_json(&self, today: Date) -> Value {
        Value::Array(
            self.overdue(today)
                .into_iter()
                .map(|i| i.to_json_value(Some(today)))
                .collect(),
        )
    }

    /// Every session a full recovery sends now (what `ksef offline send` does): all pending
    /// FA(3) invoices in one session, all pending FA(2) in another, then each pending
    /// technical correction alone. The plans hold distinct invoices; record each result
    /// with [`OfflineQueue::apply_online`] in turn.
    pub fn recovery_plans(&self) -> Vec<OnlinePlan> {
        let mut plans = Vec::new();
        for form in [FormCode::Fa3, FormCode::Fa2] {
            if let Some(p) = self.plan_online(form, usize::MAX) {
                plans.push(p);
            }
        }
        for inv in self.due_order() {
            if inv.corrects.is_some() {
                if let Some(p) = self.plan_correction(&inv.id) {
                    plans.push(p);
                }
            }
        }
        plans
    }

    /// Records failure announcements and says whose deadline moved, as JSON: `[{"id",
    /// "from", "to"}]` (what `ksef offline failure` prints).
    pub fn announce_failures_json(&mut self, failures: &[Failure]) -> Value {
        let before: Vec<Option<Date>> = self.invoices().iter().map(|i| i.deadline).collect();
        for f in failures {
            self.announce_failure(*f);
        }
        Value::Array(
            self.invoices()
                .iter()
                .zip(before)
                .filter(|(i, old)| i.deadline != *old)
                .map(|(i, old)| {
                    json!({
                        "id": i.id,
                        "from": old.map(|d| d.to_string()),
                        "to": i.deadline.map(|d| d.to_string()),
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_by_name_and_deadline_json() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let m = Mode::from_name("offline24", Some(d("2025-12-23"))).unwrap();
        let v = deadline_json(m, &[], Some(d("2025-12-29")));
        assert_eq!(v["deadline"], "2025-12-29");
        assert_eq!(v["status"], "due-today");
        assert_eq!(
            Mode::from_name("offline24", None).unwrap_err().path(),
            "date"
        );
        assert_eq!(Mode::from_name("x", None).unwrap_err().path(), "mode");
        let v = deadline_json(Mode::from_name("total-failure", None).unwrap(), &[], None);
        assert!(v["deadline"].is_null());
        let f = failures_from_json(r#"[{"announced":"2025-07-09","ended":"2025-07-12"}]"#).unwrap();
        let m = Mode::from_name("offline24", Some(d("2025-07-08"))).unwrap();
        assert_eq!(deadline_json(m, &f, None)["deadline"], "2025-07-22");
        assert_eq!(
            failures_from_json(r#"[{"announced":"2025-07-09","ended":"2025-07-01"}]"#)
                .unwrap_err()
                .path(),
            "[0]"
        );
        assert_eq!(
            failures_from_json(r#"[{"announced":"2025-07-09","end":"x"}]"#)
                .unwrap_err()
                .path(),
            "[0].end"
        );
        assert_eq!(
            failures_from_json("[").unwrap_err().code(),
            ErrorCode::JsonSyntax
        );
    }
}
