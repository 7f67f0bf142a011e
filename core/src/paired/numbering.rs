//! Invoice numbers (`P_2`) from per-store series templates, with counters that only move
//! forward.
//!
//! A template is text with placeholders: `{YYYY}` (year), `{YY}` (two-digit year), `{MM}`
//! (month, 01–12), `{DD}` (day, 01–31), `{seq}` (the counter) or `{seq:N}` (the counter padded
//! with zeros to at least N digits, N ≤ 12). `{seq}` must appear exactly once.
//!
//! **Reset rule.** The counter belongs to the store, the template and the *period* the
//! template names: a template with `{DD}` counts per day, with `{MM}` (and no `{DD}`) per
//! month, with only a year per year, and with no date placeholder never resets. The first
//! number of a period is 1. So that a reset never repeats a number, a template that names a
//! day must also name the month and the year, and one that names the month must name the
//! year (`FV/{MM}/{seq}` is refused: it would give `FV/01/1` again a year later).
//!
//! Counters are plain data (`BTreeMap<String, u64>`, key `store␟template␟period`); the host
//! persists them with the rest of the paired state. A counter is only ever incremented, so a
//! number is never issued twice from one state.
//!
//! ```
//! use ksef::paired::numbering::Numbering;
//! use ksef::model::Date;
//!
//! let mut n = Numbering::new();
//! let feb = Date::new(2026, 2, 14).unwrap();
//! assert_eq!(n.next("pl-main", "FV/{YYYY}/{MM}/{seq}", feb)?, "FV/2026/02/1");
//! assert_eq!(n.next("pl-main", "FV/{YYYY}/{MM}/{seq}", feb)?, "FV/2026/02/2");
//! let mar = Date::new(2026, 3, 1).unwrap();
//! assert_eq!(n.next("pl-main", "FV/{YYYY}/{MM}/{seq}", mar)?, "FV/2026/03/1");
//! assert_eq!(n.next("pl-main", "KOR/{YY}/{seq:4}", mar)?, "KOR/26/0001");
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::model::Date;

/// The counters of every store's series (plain data: serde and minicbor friendly).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    /// Last number issued per `store␟template␟period` (U+241F between the parts).
    pub counters: BTreeMap<String, u64>,
}

/// One part of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part<'a> {
    Text(&'a str),
    Year,
    Year2,
    Month,
    Day,
    Seq(usize),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template<'a> {
    parts: Vec<Part<'a>>,
}

const SEP: char = '\u{241F}';

fn bad(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::NumberingInvalid, path, message)
}

impl<'a> Template<'a> {
    /// Parse and check a template; errors carry `path`.
    pub(crate) fn parse(text: &'a str, path: &str) -> Result<Template<'a>, Error> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| bad(path, format!("`{text}`: a `{{` without its `}}`")))?;
                    let name = &rest[1..end];
                    parts.push(match name {
                        "YYYY" => Part::Year,
                        "YY" => Part::Year2,
                        "MM" => Part::Month,
                        "DD" => Part::Day,
                        "seq" => Part::Seq(0),
                        _ => match name.strip_prefix("seq:").map(str::parse::<usize>) {
                            Some(Ok(w)) if (1..=12).contains(&w) => Part::Seq(w),
                            _ => {
                                return Err(bad(
                                    path,
                                    format!(
                                        "`{text}`: unknown placeholder `{{{name}}}` (use {{YYYY}}, \
                                         {{YY}}, {{MM}}, {{DD}}, {{seq}} or {{seq:N}} with N 1–12)"
                                    ),
                                ))
                            }
                        },
                    });
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    parts.push(Part::Text(&rest[..i]));
                    rest = &rest[i..];
                }
                None => {
                    parts.push(Part::Text(rest));
                    rest = "";
                }
            }
        }
        if text.contains('}')
            && parts
                .iter()
                .any(|p| matches!(p, Part::Text(t) if t.contains('}')))
        {
            return Err(bad(path, format!("`{text}`: a `}}` without its `{{`")));
        }
        let count = |f: fn(&Part<'_>) -> bool| parts.iter().filter(|p| f(p)).count();
        if count(|p| matches!(p, Part::Seq(_))) != 1 {
            return Err(bad(
                path,
                format!("`{text}`: a template needs exactly one {{seq}}"),
            ));
        }
        let year = count(|p| matches!(p, Part::Year | Part::Year2)) > 0;
        let month = count(|p| matches!(p, Part::Month)) > 0;
        let day = count(|p| matches!(p, Part::Day)) > 0;
        if day && !(month && year) {
            return Err(bad(
                path,
                format!("`{text}`: a template with {{DD}} must also have {{MM}} and the year, or numbers repeat"),
            ));
        }
        if month && !year {
            return Err(bad(
                path,
                format!("`{text}`: a template with {{MM}} must also have {{YYYY}} or {{YY}}, or numbers repeat a year later"),
            ));
        }
        if text.contains(SEP) {
            return Err(bad(path, format!("`{text}`: U+241F is reserved")));
        }
        Ok(Template { parts })
    }

    /// The period key of `date` (`2026-02`, `2026`, or empty).
    fn period(&self, date: Date) -> String {
        let has = |f: fn(&Part<'_>) -> bool| self.parts.iter().any(f);
        if has(|p| matches!(p, Part::Day)) {
            format!("{date}")
        } else if has(|p| matches!(p, Part::Month)) {
            format!("{:04}-{:02}", date.year(), date.month())
        } else if has(|p| matches!(p, Part::Year | Part::Year2)) {
            format!("{:04}", date.year())
        } else {
            String::new()
        }
    }

    fn render(&self, date: Date, seq: u64) -> String {
        let mut s = String::new();
        for p in &self.parts {
            // Writing to a String cannot fail.
            let _ = match p {
                Part::Text(t) => s.write_str(t),
                Part::Year => write!(s, "{:04}", date.year()),
                Part::Year2 => write!(s, "{:02}", date.year() % 100),
                Part::Month => write!(s, "{:02}", date.month()),
                Part::Day => write!(s, "{:02}", date.day()),
                Part::Seq(w) => write!(s, "{seq:0w$}", w = *w),
            };
        }
        s
    }
}

/// Check a template (for configuration loading); the error names `path`.
pub fn check_template(template: &str, path: &str) -> Result<(), Error> {
    Template::parse(template, path).map(|_| ())
}

impl Numbering {
    /// No counters yet.
    pub fn new() -> Self {
        Numbering::default()
    }

    /// The number [`Numbering::next`] would issue, without taking it.
    pub fn peek(&self, store: &str, template: &str, date: Date) -> Result<String, Error> {
        let (_, n, t) = self.slot(store, template, date)?;
        Ok(t.render(date, n))
    }

    /// Issue the next number of `store`'s series `template` for a document dated `date`.
    pub fn next(&mut self, store: &str, template: &str, date: Date) -> Result<String, Error> {
        let (key, n, t) = self.slot(store, template, date)?;
        let number = t.render(date, n);
        self.counters.insert(key, n);
        Ok(number)
    }

    /// The last number issued in the period of `date` (0 when none).
    pub fn last(&self, store: &str, template: &str, date: Date) -> Result<u64, Error> {
        let t = Template::parse(template, "template")?;
        Ok(self
            .counters
            .get(&key(store, template, &t.period(date)))
            .copied()
            .unwrap_or(0))
    }

    fn slot<'t>(
        &self,
        store: &str,
        template: &'t str,
        date: Date,
    ) -> Result<(String, u64, Template<'t>), Error> {
        if store.contains(SEP) {
            return Err(bad("store", "U+241F is reserved"));
        }
        let t = Template::parse(template, "template")?;
        let key = key(store, template, &t.period(date));
        let last = self.counters.get(&key).copied().unwrap_or(0);
        let n = last.checked_add(1).ok_or_else(|| {
            bad(
                "template",
                format!("the counter of `{template}` for store `{store}` is exhausted"),
            )
        })?;
        Ok((key, n, t))
    }
}

fn key(store: &str, template: &str, period: &str) -> String {
    format!("{store}{SEP}{template}{SEP}{period}")
}
