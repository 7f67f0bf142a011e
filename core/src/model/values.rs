//! Value types of the model: exact decimals, calendar dates, date-times, and code lists.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// Exact decimal number (96-bit mantissa, scale up to 28): every amount, quantity, price and
/// rate of the model. Never a float.
pub use rust_decimal::Decimal;

/// A code list of the schema (`P_12` rates, currencies, countries, ...).
pub trait EnumCode: Copy + Sized + 'static {
    /// The official code as written in the XML.
    fn code(self) -> &'static str;
    /// The value for an official code.
    fn from_code(code: &str) -> Option<Self>;
    /// Which schema versions know the value (bit 0: FA(2), bit 1: FA(3)).
    fn schema_mask(self) -> u8;
    /// The codes are numbers in the XSD (JSON accepts them as numbers too).
    const NUMERIC: bool;
}

/// A calendar date (`xsd:date` without time zone), proleptic Gregorian.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

const fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

const fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m as u8, d as u8)
}

impl Date {
    /// A date, if it exists in the calendar (years 1..=9999).
    pub const fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if year == 0 || year > 9999 || month == 0 || month > 12 {
            return None;
        }
        if day == 0 || day > days_in_month(year as i64, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// For constants known to be valid.
    pub(crate) const fn new_unchecked(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    /// Year.
    pub const fn year(self) -> u16 {
        self.year
    }
    /// Month, 1..=12.
    pub const fn month(self) -> u8 {
        self.month
    }
    /// Day of month.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub const fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year as i64, self.month as i64, self.day as i64)
    }

    /// The date `days` after (or before, when negative) this one; `None` outside years 1..=9999.
    pub fn add_days(self, days: i64) -> Option<Date> {
        let (y, m, d) = civil_from_days(self.days_since_epoch().checked_add(days)?);
        if !(1..=9999).contains(&y) {
            return None;
        }
        Date::new(y as u16, m, d)
    }

    /// Day of week, 1 = Monday .. 7 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (4).
        ((self.days_since_epoch() + 3).rem_euclid(7) + 1) as u8
    }

    /// Write `YYYY-MM-DD` into a 10-byte array (allocation-free).
    pub fn to_bytes(self) -> [u8; 10] {
        let mut b = *b"0000-00-00";
        let y = self.year as usize;
        b[0] = b'0' + (y / 1000 % 10) as u8;
        b[1] = b'0' + (y / 100 % 10) as u8;
        b[2] = b'0' + (y / 10 % 10) as u8;
        b[3] = b'0' + (y % 10) as u8;
        b[5] = b'0' + self.month / 10;
        b[6] = b'0' + self.month % 10;
        b[8] = b'0' + self.day / 10;
        b[9] = b'0' + self.day % 10;
        b
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
}

impl FromStr for Date {
    type Err = &'static str;
    /// Parses `YYYY-MM-DD` exactly (the FA schemas forbid time zones on dates).
    fn from_str(s: &str) -> Result<Date, &'static str> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err("expected a date as YYYY-MM-DD");
        }
        let (y, m, d) = match (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])) {
            (Some(y), Some(m), Some(d)) => (y, m, d),
            _ => return Err("expected a date as YYYY-MM-DD"),
        };
        Date::new(y as u16, m as u8, d as u8).ok_or("no such calendar date")
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.to_bytes();
        // The bytes are ASCII digits and dashes.
        f.write_str(core::str::from_utf8(&b).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Default for Date {
    fn default() -> Self {
        Date::new_unchecked(1970, 1, 1)
    }
}

/// An `xsd:dateTime`, kept as written (so it round-trips byte for byte) with its instant.
///
/// Without a zone designator the value is read as UTC for comparisons, as KSeF does.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DateTime {
    text: String,
    utc_seconds: i64,
}

impl DateTime {
    /// Seconds since 1970-01-01T00:00:00Z of a UTC civil time (for constants and comparisons).
    pub const fn utc_seconds_of(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    }

    /// A date-time from a UTC instant (seconds since the Unix epoch), written `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn from_unix_seconds(secs: i64) -> Option<DateTime> {
        let days = secs.div_euclid(86400);
        let rem = secs.rem_euclid(86400);
        let (y, m, d) = civil_from_days(days);
        if !(1..=9999).contains(&y) {
            return None;
        }
        let text = alloc::format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            y,
            m,
            d,
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        Some(DateTime {
            text,
            utc_seconds: secs,
        })
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since the Unix epoch, UTC.
    pub fn unix_seconds(&self) -> i64 {
        self.utc_seconds
    }

    /// The calendar date part as written (local to the value's own offset).
    pub fn date(&self) -> Date {
        // The text was validated on construction.
        self.text[..10].parse().unwrap_or_default()
    }
}

impl FromStr for DateTime {
    type Err = &'static str;
    /// Parses `YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`.
    fn from_str(s: &str) -> Result<DateTime, &'static str> {
        const MSG: &str = "expected a date-time as YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm]";
        let b = s.as_bytes();
        if b.len() < 19 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(MSG);
        }
        let date: Date = s[..10].parse().map_err(|_| MSG)?;
        let (h, mi, sec) = match (digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19])) {
            (Some(h), Some(mi), Some(sec)) => (h, mi, sec),
            _ => return Err(MSG),
        };
        if h > 24 || mi > 59 || sec > 59 || (h == 24 && (mi != 0 || sec != 0)) {
            return Err("time of day out of range");
        }
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(MSG);
            }
            rest = &rest[1 + n..];
        }
        let offset_min: i64 = match rest {
            [] | [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = digits(&[*h1, *h2]).ok_or(MSG)? as i64;
                let om = digits(&[*m1, *m2]).ok_or(MSG)? as i64;
                if oh > 14 || om > 59 {
                    return Err("time zone offset out of range");
                }
                let v = oh * 60 + om;
                if *sign == b'-' {
                    -v
                } else {
                    v
                }
            }
            _ => return Err(MSG),
        };
        let utc_seconds = date.days_since_epoch() * 86400
            + i64::from(h) * 3600
            + i64::from(mi) * 60
            + i64::from(sec)
            - offset_min * 60;
        Ok(DateTime {
            text: String::from(s),
            utc_seconds,
        })
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.utc_seconds
            .cmp(&other.utc_seconds)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl Default for DateTime {
    fn default() -> Self {
        DateTime {
            text: String::from("1970-01-01T00:00:00Z"),
            utc_seconds: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn dates_parse_and_reject() {
        let d: Date = "2026-02-15".parse().unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2026, 2, 15));
        assert_eq!(d.to_string(), "2026-02-15");
        assert!("2026-02-29".parse::<Date>().is_err());
        assert!("2024-02-29".parse::<Date>().is_ok());
        assert!("2026-2-15".parse::<Date>().is_err());
        assert!("2026-02-15Z".parse::<Date>().is_err());
        assert_eq!(d.add_days(14).unwrap().to_string(), "2026-03-01");
        assert_eq!(d.weekday(), 7); // a Sunday
    }

    #[test]
    fn datetimes_keep_text_and_instant() {
        let a: DateTime = "2026-02-01T01:00:00+01:00".parse().unwrap();
        let b: DateTime = "2026-02-01T00:00:00Z".parse().unwrap();
        assert_eq!(a.unix_seconds(), b.unix_seconds());
        assert_eq!(a.as_str(), "2026-02-01T01:00:00+01:00");
        assert!("2026-02-01T00:00:00.123Z".parse::<DateTime>().is_ok());
        assert!("2026-02-01 00:00:00Z".parse::<DateTime>().is_err());
        assert!("2026-02-01T25:00:00Z".parse::<DateTime>().is_err());
        let c = DateTime::from_unix_seconds(b.unix_seconds()).unwrap();
        assert_eq!(c.as_str(), "2026-02-01T00:00:00Z");
    }
}
