//! NBP (Narodowy Bank Polski) table A mid rates, for invoices in a foreign currency.
//!
//! VAT on an invoice in a foreign currency is converted to PLN at the NBP average (mid) rate
//! of the last business day before the tax point (art. 31a of the VAT act). NBP publishes
//! table A on business days only; its API answers a date range with the tables published in
//! it:
//!
//! `GET https://api.nbp.pl/api/exchangerates/rates/a/{code}/{startDate}/{endDate}/?format=json`
//! →
//! `{"table":"A","currency":"euro","code":"EUR","rates":[{"no":"226/A/NBP/2026","effectiveDate":"2026-11-20","mid":4.2345}]}`
//!
//! and 404 (`"404 NotFound - Not Found - Brak danych"`) when the range holds no table.
//! [`table_a_rate_request`] asks for a window of [`WINDOW_DAYS`] days ending the day before
//! the tax point (long enough for the longest Polish holiday run plus a weekend), and
//! [`read_rate`] picks the last table strictly before it. Rates are read from the JSON text
//! exactly (the core's JSON keeps numbers as written), never through a float.
//!
//! ```
//! use ksef::model::Date;
//! use ksef::http::Response;
//! use ksef::paired::nbp;
//!
//! let monday = Date::new(2026, 11, 23).unwrap();
//! let req = nbp::table_a_rate_request("https://api.nbp.pl", "EUR", monday);
//! assert_eq!(req.url,
//!     "https://api.nbp.pl/api/exchangerates/rates/a/eur/2026-11-09/2026-11-22/?format=json");
//! let resp = Response::new(200, vec![], br#"{"table":"A","currency":"euro","code":"EUR",
//!   "rates":[{"no":"225/A/NBP/2026","effectiveDate":"2026-11-19","mid":4.2310},
//!            {"no":"226/A/NBP/2026","effectiveDate":"2026-11-20","mid":4.2345}]}"#.to_vec());
//! let rate = nbp::read_rate(&resp, "EUR", monday)?;
//! assert_eq!(rate.table, "226/A/NBP/2026");
//! assert_eq!(rate.date.to_string(), "2026-11-20");
//! assert_eq!(rate.rate.to_string(), "4.2345");
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::Value;

use crate::error::{Error, ErrorCode};
use crate::http::{Method, Request, Response};
use crate::model::{Date, Decimal};

/// The real NBP API.
pub const NBP_API: &str = "https://api.nbp.pl";

/// How many days before the tax point the request covers: the longest run of days without a
/// table A (Christmas Eve to the weekend after, Easter, 1–3 May with a weekend) is 5 days;
/// 14 leaves room and stays far below NBP's 93-day limit.
pub const WINDOW_DAYS: i64 = 14;

/// One NBP table A mid rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NbpRate {
    /// The currency code, upper case (`EUR`).
    pub currency: String,
    /// The table number (`226/A/NBP/2026`), quoted on the invoice.
    pub table: String,
    /// The day the table was published (`effectiveDate`).
    pub date: Date,
    /// The mid rate: PLN for one unit of the currency (for some currencies NBP quotes 100
    /// units, e.g. HUF, JPY: the rate is then per 100, as NBP publishes it).
    pub rate: Decimal,
}

/// `GET {base}/api/exchangerates/rates/a/{code}/{before-14d}/{before-1d}/?format=json`: the
/// table A rates of `currency` in the window ending the day before `before` (the tax point).
///
/// The code is sent in lower case (as in NBP's examples) and percent-encoded, so any input
/// gives a well-formed URL; [`read_rate`] refuses a code that is not three ASCII letters.
pub fn table_a_rate_request(base_url: &str, currency: &str, before: Date) -> Request {
    let end = before.add_days(-1).unwrap_or(before);
    let start = before.add_days(-WINDOW_DAYS).unwrap_or(end);
    let mut code = String::new();
    super::fakturownia::percent_encode_into(&mut code, &currency.to_ascii_lowercase());
    let base = base_url.trim_end_matches('/');
    Request::new(
        Method::Get,
        format!("{base}/api/exchangerates/rates/a/{code}/{start}/{end}/?format=json"),
    )
    .with_header("Accept", "application/json")
}

/// Reads the answer to [`table_a_rate_request`]: the rate of the last table published
/// strictly before `before`.
///
/// Errors: [`ErrorCode::InvalidValue`] for a currency that is not three ASCII letters, or
/// PLN (NBP quotes no rate for it); [`ErrorCode::NbpNoRate`] for 404 or no table before
/// `before` in the answer; [`ErrorCode::NbpUnavailable`] for 5xx/429;
/// [`ErrorCode::NbpBadResponse`] for another status, a body that is not table A of this
/// currency, or a rate that is not a positive decimal.
pub fn read_rate(resp: &Response, currency: &str, before: Date) -> Result<NbpRate, Error> {
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "currency",
            "a currency code is three letters (ISO 4217)",
        ));
    }
    let code = currency.to_ascii_uppercase();
    if code == "PLN" {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "currency",
            "PLN needs no NBP rate",
        ));
    }
    let bad = |path: &str, why: String| Error::new(ErrorCode::NbpBadResponse, path, why);
    match resp.status {
        200 => {}
        404 => {
            return Err(Error::new(
                ErrorCode::NbpNoRate,
                "",
                format!(
                    "NBP has no table A rate of {code} in the {WINDOW_DAYS} days before {before}"
                ),
            ))
        }
        429 | 500..=599 => {
            return Err(Error::new(
                ErrorCode::NbpUnavailable,
                "",
                format!("the NBP API is unavailable (HTTP {})", resp.status),
            ))
        }
        s => return Err(bad("", format!("NBP refused the request (HTTP {s})"))),
    }
    let v: Value = serde_json::from_slice(&resp.body)
        .map_err(|_| bad("", "the NBP answer is not JSON".into()))?;
    if v.get("table").and_then(Value::as_str) != Some("A") {
        return Err(bad("table", "expected table A".into()));
    }
    match v.get("code").and_then(Value::as_str) {
        Some(c) if c.eq_ignore_ascii_case(&code) => {}
        _ => return Err(bad("code", format!("expected the rates of {code}"))),
    }
    let rates = v
        .get("rates")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("rates", "the list of rates is missing".into()))?;
    let mut best: Option<NbpRate> = None;
    for (i, r) in rates.iter().enumerate() {
        let path = |f: &str| format!("rates[{i}].{f}");
        let date: Date = r
            .get("effectiveDate")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(&path("effectiveDate"), "expected a date YYYY-MM-DD".into()))?;
        let table = r
            .get("no")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(&path("no"), "the table number is missing".into()))?;
        let rate = match r.get("mid") {
            Some(Value::Number(n)) => exact_decimal(&n.to_string()),
            Some(Value::String(s)) => exact_decimal(s),
            _ => None,
        }
        .filter(|d| d.is_sign_positive() && !d.is_zero())
        .ok_or_else(|| bad(&path("mid"), "expected a positive decimal rate".into()))?;
        if date < before && best.as_ref().is_none_or(|b| b.date < date) {
            best = Some(NbpRate {
                currency: code.clone(),
                table: table.to_string(),
                date,
                rate,
            });
        }
    }
    best.ok_or_else(|| {
        Error::new(
            ErrorCode::NbpNoRate,
            "rates",
            format!("the NBP answer has no table A rate of {code} before {before}"),
        )
    })
}

/// A plain decimal (`4.2345`), exactly; `None` for exponents or anything else.
fn exact_decimal(s: &str) -> Option<Decimal> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    s.parse::<Decimal>().ok()
}
