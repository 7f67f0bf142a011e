//! The sim's clock (the core never reads one) and date-time formatting.

use std::time::{SystemTime, UNIX_EPOCH};

use ksef::model::{Date, DateTime};

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 with milliseconds and an explicit offset (`2026-11-21T03:50:11.123+00:00`), the
/// form the OpenAPI's `date-time` examples use.
pub(crate) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let text = DateTime::from_unix_seconds(secs)
        .map(|d| d.as_str().trim_end_matches('Z').to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00".to_string());
    format!("{text}.{millis:03}+00:00")
}

/// The UTC calendar date of an instant.
pub(crate) fn date_of(ms: i64) -> Date {
    DateTime::from_unix_seconds(ms.div_euclid(1000))
        .map(|d| d.date())
        .unwrap_or_default()
}

/// `YYYYMMDD` of an instant (UTC).
pub(crate) fn yyyymmdd(ms: i64) -> String {
    let d = date_of(ms);
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// Parses an RFC 3339 date-time (or a date, as midnight UTC) to Unix milliseconds.
pub(crate) fn parse_ms(s: &str) -> Option<i64> {
    if let Ok(dt) = s.parse::<DateTime>() {
        return Some(dt.unix_seconds() * 1000);
    }
    if let Ok(d) = s.parse::<Date>() {
        return Some(d.days_since_epoch() * 86_400_000);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_offset() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123+00:00");
        assert_eq!(yyyymmdd(1_700_000_000_123), "20231114");
        assert_eq!(
            parse_ms("2023-11-14T22:13:20+00:00"),
            Some(1_700_000_000_000)
        );
    }
}
