//! Legal deadlines for sending offline invoices to KSeF (`tryby-offline.md`).
//!
//! | mode | deadline |
//! |------|----------|
//! | [`Mode::Offline24`] (issuer's choice, art. 106nda) | the next business day after the issue date |
//! | [`Mode::Unavailability`] (`offline`, art. 106nh) | the next business day after the unavailability ends |
//! | [`Mode::Emergency`] (`awaryjny`, art. 106nf) | 7 business days after the failure ends |
//! | [`Mode::TotalFailure`] (`awaria całkowita`) | none: no obligation to send |
//!
//! Failures announced later ([`Failure`]) move deadlines: when a KSeF failure is announced
//! while an invoice is still waiting to be sent (on or before its current deadline, and ending
//! no earlier than the invoice's period starts), the deadline becomes 7 business days after
//! the end of the **last** announced failure; each new announcement restarts the count. For
//! [`Mode::Emergency`] this is the "new announcement restarts the count" rule; for
//! `offline24`/`offline` it is the rule of `tryby-offline.md` §"Przykład".
//!
//! ```
//! use ksef::model::Date;
//! use ksef::offline::deadline::{deadline, status, DeadlineStatus, Failure, Mode};
//!
//! let d = |s: &str| s.parse::<Date>().unwrap();
//! // The worked example of the official docs: offline24 invoice, then a failure.
//! let mode = Mode::Offline24 { issued: d("2025-07-08") };
//! assert_eq!(deadline(mode, &[]), Some(d("2025-07-09")));
//! let failure = Failure { announced: d("2025-07-09"), ended: d("2025-07-12") };
//! let due = deadline(mode, &[failure]);
//! assert_eq!(due, Some(d("2025-07-22")));
//! assert_eq!(status(due, d("2025-07-22")), DeadlineStatus::DueToday);
//! ```

use minicbor::{Decode, Encode};
use serde::{Deserialize, Serialize};

use super::calendar::{add_business_days, next_business_day};
use super::codec::{date_cbor, date_serde};
use crate::model::Date;

/// Business days after a failure ends within which pending invoices must be sent.
pub const EMERGENCY_BUSINESS_DAYS: u32 = 7;

/// The offline mode an invoice was issued in, with the date its deadline is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "mode", rename_all = "camelCase", deny_unknown_fields)]
pub enum Mode {
    /// `offline24`: the issuer chose to issue offline; send by the next business day after
    /// the issue date.
    #[n(0)]
    Offline24 {
        /// The issue date (P_1).
        #[n(0)]
        #[serde(with = "date_serde")]
        #[cbor(with = "date_cbor")]
        issued: Date,
    },
    /// `offline`: KSeF unavailability announced by the Ministry; send by the next business
    /// day after it ends.
    #[n(1)]
    Unavailability {
        /// The last day of the announced unavailability.
        #[n(0)]
        #[serde(with = "date_serde")]
        #[cbor(with = "date_cbor")]
        ended: Date,
    },
    /// `awaryjny`: an announced KSeF failure; send within 7 business days after it ends.
    #[n(2)]
    Emergency {
        /// The last day of the failure.
        #[n(0)]
        #[serde(with = "date_serde")]
        #[cbor(with = "date_cbor")]
        ended: Date,
    },
    /// `awaria całkowita`: total failure announced in the mass media; no obligation to send.
    #[n(3)]
    TotalFailure,
}

impl Mode {
    /// The short name used in the CLI and in JSON (`offline24`, `unavailability`,
    /// `emergency`, `totalFailure`).
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Offline24 { .. } => "offline24",
            Mode::Unavailability { .. } => "unavailability",
            Mode::Emergency { .. } => "emergency",
            Mode::TotalFailure => "totalFailure",
        }
    }

    /// The deadline of this mode alone, before any later failure announcement.
    fn base(&self) -> Option<(Date, Date)> {
        match *self {
            Mode::Offline24 { issued } => Some((issued, next_business_day(issued)?)),
            Mode::Unavailability { ended } => Some((ended, next_business_day(ended)?)),
            Mode::Emergency { ended } => {
                Some((ended, add_business_days(ended, EMERGENCY_BUSINESS_DAYS)?))
            }
            Mode::TotalFailure => None,
        }
    }
}

/// A KSeF failure announcement (komunikat o awarii, BIP MF / interface software).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Failure {
    /// The day the failure was announced.
    #[n(0)]
    #[serde(with = "date_serde")]
    #[cbor(with = "date_cbor")]
    pub announced: Date,
    /// The last day of the failure.
    #[n(1)]
    #[serde(with = "date_serde")]
    #[cbor(with = "date_cbor")]
    pub ended: Date,
}

/// The day by which an invoice issued in `mode` must be sent to KSeF, given the failure
/// announcements known so far (any order). `None` when there is no obligation
/// ([`Mode::TotalFailure`]), or when the deadline would fall after 9999-12-31.
///
/// A failure counts when it was announced on or before the deadline in force at that time
/// and did not end before the invoice's period started (the issue date, or the end of the
/// unavailability/failure of the mode); it moves the deadline to 7 business days after its
/// end (never earlier than the deadline in force).
pub fn deadline(mode: Mode, failures: &[Failure]) -> Option<Date> {
    let (start, mut due) = mode.base()?;
    // Announcements in the order they were made; each one may restart the count.
    let mut sorted: alloc::vec::Vec<Failure> = failures.to_vec();
    sorted.sort_by_key(|f| (f.announced, f.ended));
    for f in sorted {
        if f.announced <= due && f.ended >= start {
            let moved = add_business_days(f.ended, EMERGENCY_BUSINESS_DAYS)?;
            due = due.max(moved);
        }
    }
    Some(due)
}

/// Where an invoice stands against its deadline on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeadlineStatus {
    /// No obligation to send (total failure).
    NoObligation,
    /// The deadline is after today.
    Ok,
    /// Today is the last day.
    DueToday,
    /// The deadline has passed.
    Overdue,
}

/// Compare `deadline` (from [`deadline()`]) with `today` (passed in: the core reads no clock).
pub fn status(deadline: Option<Date>, today: Date) -> DeadlineStatus {
    match deadline {
        None => DeadlineStatus::NoObligation,
        Some(d) if today < d => DeadlineStatus::Ok,
        Some(d) if today == d => DeadlineStatus::DueToday,
        Some(_) => DeadlineStatus::Overdue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn off24(s: &str) -> Mode {
        Mode::Offline24 { issued: d(s) }
    }

    #[test]
    fn offline24_around_holidays() {
        for (issued, due) in [
            ("2025-07-08", "2025-07-09"),
            ("2026-04-03", "2026-04-07"), // Good Friday → Easter Monday skipped
            ("2026-04-30", "2026-05-04"), // 1 May Fri, weekend with 3 May
            ("2025-04-30", "2025-05-02"), // 1 May Thu, Fri 2 May is a business day
            ("2026-06-03", "2026-06-05"), // Corpus Christi Thu
            ("2025-12-23", "2025-12-29"), // 24–26 December, weekend
            ("2025-12-31", "2026-01-02"), // New Year
            ("2026-01-05", "2026-01-07"), // Epiphany Tue
            ("2026-11-10", "2026-11-12"), // Independence Day Wed
            ("2026-08-14", "2026-08-17"), // 15 August on Saturday
            ("2026-07-11", "2026-07-13"), // issued on a Saturday
            ("2026-04-05", "2026-04-07"), // issued on Easter Sunday
        ] {
            assert_eq!(deadline(off24(issued), &[]), Some(d(due)), "{issued}");
        }
    }

    #[test]
    fn unavailability_around_holidays() {
        let m = |s: &str| Mode::Unavailability { ended: d(s) };
        assert_eq!(deadline(m("2026-12-23"), &[]), Some(d("2026-12-28")));
        assert_eq!(deadline(m("2026-04-02"), &[]), Some(d("2026-04-03")));
        assert_eq!(deadline(m("2026-04-04"), &[]), Some(d("2026-04-07")));
        assert_eq!(deadline(m("2026-04-30"), &[]), Some(d("2026-05-04")));
    }

    #[test]
    fn emergency_counts_seven_business_days() {
        let m = |s: &str| Mode::Emergency { ended: d(s) };
        assert_eq!(deadline(m("2025-07-12"), &[]), Some(d("2025-07-22")));
        // Ends Wed 2025-12-17: 18,19,22,23, (24–26 holidays), 29,30,31 → Wed 31 December.
        assert_eq!(deadline(m("2025-12-17"), &[]), Some(d("2025-12-31")));
        // Ends Thu 2026-04-02: 3, (6 Easter Monday), 7,8,9,10,13,14 → Tue 14 April.
        assert_eq!(deadline(m("2026-04-02"), &[]), Some(d("2026-04-14")));
        // Ends Wed 2026-04-29: 30, (1 May), 4,5,6,7,8,11 → Mon 11 May.
        assert_eq!(deadline(m("2026-04-29"), &[]), Some(d("2026-05-11")));
        // Ends Tue 2026-06-02: 3, (4 Corpus Christi), 5,8,9,10,11,12 → Fri 12 June.
        assert_eq!(deadline(m("2026-06-02"), &[]), Some(d("2026-06-12")));
    }

    #[test]
    fn new_failure_announcement_restarts_the_count() {
        let m = Mode::Emergency {
            ended: d("2026-03-02"),
        };
        assert_eq!(deadline(m, &[]), Some(d("2026-03-11")));
        let again = Failure {
            announced: d("2026-03-09"),
            ended: d("2026-03-10"),
        };
        assert_eq!(deadline(m, &[again]), Some(d("2026-03-19")));
        // A failure announced after the deadline passed changes nothing.
        let late = Failure {
            announced: d("2026-03-12"),
            ended: d("2026-03-13"),
        };
        assert_eq!(deadline(m, &[late]), Some(d("2026-03-11")));
        // A chain: each announcement inside the moved period restarts it again.
        let third = Failure {
            announced: d("2026-03-18"),
            ended: d("2026-03-20"),
        };
        assert_eq!(deadline(m, &[third, again]), Some(d("2026-03-31")));
    }

    #[test]
    fn official_example_failure_during_offline24() {
        let f = Failure {
            announced: d("2025-07-09"),
            ended: d("2025-07-12"),
        };
        assert_eq!(deadline(off24("2025-07-08"), &[f]), Some(d("2025-07-22")));
        // The same failure does not concern an invoice issued after it ended.
        assert_eq!(deadline(off24("2025-07-14"), &[f]), Some(d("2025-07-15")));
        // Nor one whose deadline passed before it was announced.
        assert_eq!(deadline(off24("2025-07-01"), &[f]), Some(d("2025-07-02")));
    }

    #[test]
    fn failure_during_unavailability_pending_period_over_christmas() {
        let m = Mode::Unavailability {
            ended: d("2025-12-19"),
        };
        assert_eq!(deadline(m, &[]), Some(d("2025-12-22")));
        let f = Failure {
            announced: d("2025-12-22"),
            ended: d("2025-12-23"),
        };
        // 29, 30, 31, (1 Jan), 2, 5, (6 Jan), 7, 8 → Thu 8 January 2026.
        assert_eq!(deadline(m, &[f]), Some(d("2026-01-08")));
    }

    #[test]
    fn total_failure_has_no_deadline() {
        let f = Failure {
            announced: d("2026-01-01"),
            ended: d("2026-01-02"),
        };
        assert_eq!(deadline(Mode::TotalFailure, &[f]), None);
        assert_eq!(
            status(deadline(Mode::TotalFailure, &[]), d("2030-01-01")),
            DeadlineStatus::NoObligation
        );
    }

    #[test]
    fn status_before_on_after() {
        let due = deadline(off24("2026-04-03"), &[]);
        assert_eq!(status(due, d("2026-04-06")), DeadlineStatus::Ok);
        assert_eq!(status(due, d("2026-04-07")), DeadlineStatus::DueToday);
        assert_eq!(status(due, d("2026-04-08")), DeadlineStatus::Overdue);
    }

    #[test]
    fn mode_json_round_trip() {
        let m = Mode::Emergency {
            ended: d("2026-03-02"),
        };
        let j = serde_json::to_string(&m).unwrap();
        assert_eq!(j, r#"{"mode":"emergency","ended":"2026-03-02"}"#);
        assert_eq!(serde_json::from_str::<Mode>(&j).unwrap(), m);
        assert!(serde_json::from_str::<Mode>(r#"{"mode":"offline24"}"#).is_err());
    }
}
