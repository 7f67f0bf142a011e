//! The Polish business-day calendar used by every offline deadline.
//!
//! A business day (dzień roboczy) is Monday–Friday that is not a public holiday under the Act
//! on public holidays (ustawa o dniach wolnych od pracy): 1 January, 6 January, Easter Sunday
//! and Monday, 1 May, 3 May, Pentecost Sunday, Corpus Christi, 15 August, 1 November,
//! 11 November, 24 December (from 2025), 25 and 26 December. The movable ones follow Easter
//! (anonymous Gregorian algorithm). Saturdays are never business days, even when a holiday
//! falls on them (the deadline rules count business days, not working-time compensation).
//!
//! ```
//! use ksef::model::Date;
//! use ksef::offline::calendar::{add_business_days, is_business_day, next_business_day};
//!
//! let d = |s: &str| s.parse::<Date>().unwrap();
//! assert!(!is_business_day(d("2026-04-06"))); // Easter Monday
//! assert_eq!(next_business_day(d("2026-04-03")), Some(d("2026-04-07")));
//! assert_eq!(add_business_days(d("2025-07-12"), 7), Some(d("2025-07-22")));
//! ```

use crate::model::Date;

/// Easter Sunday of `year` (anonymous Gregorian algorithm); `None` only outside years
/// 1..=9999.
pub fn easter_sunday(year: u16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as u8, day as u8)
}

/// `true` for a Polish public holiday (ustawa o dniach wolnych od pracy; 24 December from
/// 2025).
pub fn is_polish_holiday(d: Date) -> bool {
    let fixed = matches!(
        (d.month(), d.day()),
        (1, 1) | (1, 6) | (5, 1) | (5, 3) | (8, 15) | (11, 1) | (11, 11) | (12, 25) | (12, 26)
    );
    if fixed || (d.year() >= 2025 && d.month() == 12 && d.day() == 24) {
        return true;
    }
    let Some(e) = easter_sunday(d.year()) else {
        return false;
    };
    let delta = d.days_since_epoch() - e.days_since_epoch();
    // Easter Sunday, Easter Monday, Pentecost Sunday (+49), Corpus Christi (+60).
    matches!(delta, 0 | 1 | 49 | 60)
}

/// `true` for Monday–Friday that is not a Polish public holiday.
pub fn is_business_day(d: Date) -> bool {
    d.weekday() <= 5 && !is_polish_holiday(d)
}

/// The first business day strictly after `d`; `None` past 9999-12-31.
pub fn next_business_day(d: Date) -> Option<Date> {
    let mut d = d.add_days(1)?;
    while !is_business_day(d) {
        d = d.add_days(1)?;
    }
    Some(d)
}

/// The last business day strictly before `date`: e.g. the day whose NBP table A rate
/// converts the tax of a foreign-currency invoice (art. 31a); `None` before 0001-01-01.
pub fn business_day_before(date: Date) -> Option<Date> {
    let mut d = date.add_days(-1)?;
    while !is_business_day(d) {
        d = d.add_days(-1)?;
    }
    Some(d)
}

/// The `n`-th business day after `d` (`d` itself is not counted, whether or not it is a
/// business day); `n == 0` gives `d`. `None` past 9999-12-31.
pub fn add_business_days(d: Date, n: u32) -> Option<Date> {
    let mut d = d;
    for _ in 0..n {
        d = next_business_day(d)?;
    }
    Some(d)
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: u16, month: u8) -> Option<Date> {
    let last = Date::new(year, month, 31)?;
    // weekday: 1 = Monday .. 7 = Sunday
    last.add_days(-i64::from(last.weekday() % 7))
}

/// The offset of Polish time (Europe/Warsaw) from UTC at the instant `unix_seconds`, in
/// seconds: 7200 (CEST) from the last Sunday of March 01:00 UTC to the last Sunday of
/// October 01:00 UTC, 3600 (CET) otherwise — the EU summer-time rule Poland follows.
/// `None` outside years 1..=9999.
pub fn warsaw_offset_seconds(unix_seconds: i64) -> Option<i64> {
    let day = Date::new(1970, 1, 1)?.add_days(unix_seconds.div_euclid(86_400))?;
    let start = last_sunday(day.year(), 3)?.days_since_epoch() * 86_400 + 3_600;
    let end = last_sunday(day.year(), 10)?.days_since_epoch() * 86_400 + 3_600;
    Some(if (start..end).contains(&unix_seconds) {
        7_200
    } else {
        3_600
    })
}

/// The calendar day in Poland at the instant `unix_seconds` (what counts for a legal
/// deadline: an invoice received by KSeF at 23:30 UTC on 31 March was received on 1 April).
pub fn warsaw_date(unix_seconds: i64) -> Option<Date> {
    let local = unix_seconds.checked_add(warsaw_offset_seconds(unix_seconds)?)?;
    Date::new(1970, 1, 1)?.add_days(local.div_euclid(86_400))
}

/// [`warsaw_date`] of an ISO-8601 date-time as KSeF writes it (`acquisitionDate`:
/// `2025-07-08T10:15:00.123+00:00`; no offset is read as UTC). `None` when it does not parse.
pub fn warsaw_date_of(date_time: &str) -> Option<Date> {
    let t: crate::model::DateTime = date_time.parse().ok()?;
    warsaw_date(t.unix_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn polish_local_dates() {
        // CET in winter: 23:30 UTC is 00:30 the next day.
        assert_eq!(
            warsaw_date_of("2026-01-14T23:30:00Z"),
            Some(d("2026-01-15"))
        );
        assert_eq!(
            warsaw_date_of("2026-01-14T22:59:59Z"),
            Some(d("2026-01-14"))
        );
        // CEST in summer: 22:00 UTC is midnight.
        assert_eq!(
            warsaw_date_of("2025-07-08T21:59:59+00:00"),
            Some(d("2025-07-08"))
        );
        assert_eq!(
            warsaw_date_of("2025-07-08T22:00:00.5+00:00"),
            Some(d("2025-07-09"))
        );
        // Offsets are honoured.
        assert_eq!(
            warsaw_date_of("2025-07-09T01:00:00+02:00"),
            Some(d("2025-07-09"))
        );
        // The switch days: 2026-03-29 01:00 UTC and 2026-10-25 01:00 UTC.
        let t = |s: &str| s.parse::<crate::model::DateTime>().unwrap().unix_seconds();
        assert_eq!(
            warsaw_offset_seconds(t("2026-03-29T00:59:59Z")),
            Some(3_600)
        );
        assert_eq!(
            warsaw_offset_seconds(t("2026-03-29T01:00:00Z")),
            Some(7_200)
        );
        assert_eq!(
            warsaw_offset_seconds(t("2026-10-25T00:59:59Z")),
            Some(7_200)
        );
        assert_eq!(
            warsaw_offset_seconds(t("2026-10-25T01:00:00Z")),
            Some(3_600)
        );
        assert_eq!(warsaw_date_of("not a date"), None);
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn easter_dates() {
        for (y, e) in [
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(y), Some(d(e)), "{y}");
        }
    }

    #[test]
    fn every_holiday_of_2026() {
        let holidays = [
            "2026-01-01",
            "2026-01-06",
            "2026-04-05",
            "2026-04-06",
            "2026-05-01",
            "2026-05-03",
            "2026-05-24",
            "2026-06-04",
            "2026-08-15",
            "2026-11-01",
            "2026-11-11",
            "2026-12-24",
            "2026-12-25",
            "2026-12-26",
        ];
        let mut count = 0;
        let mut day = d("2026-01-01");
        while day.year() == 2026 {
            if is_polish_holiday(day) {
                count += 1;
                assert!(holidays.contains(&day.to_string().as_str()), "{day}");
            }
            day = day.add_days(1).unwrap();
        }
        assert_eq!(count, holidays.len());
    }

    #[test]
    fn christmas_eve_only_from_2025() {
        assert!(!is_polish_holiday(d("2024-12-24")));
        assert!(is_business_day(d("2024-12-24")));
        assert!(is_polish_holiday(d("2025-12-24")));
        assert!(!is_business_day(d("2025-12-24")));
    }

    #[test]
    fn around_christmas_and_new_year() {
        // Tue 2025-12-23 → Wed 24, Thu 25, Fri 26 holidays, weekend → Mon 29.
        assert_eq!(next_business_day(d("2025-12-23")), Some(d("2025-12-29")));
        // Wed 2025-12-31 → Thu 1 Jan holiday → Fri 2 Jan.
        assert_eq!(next_business_day(d("2025-12-31")), Some(d("2026-01-02")));
        // Fri 2026-01-02 → weekend → Mon 5 → Tue 6 (Epiphany) skipped.
        assert_eq!(add_business_days(d("2026-01-02"), 2), Some(d("2026-01-07")));
        // 2024: 24 December was still a business day.
        assert_eq!(next_business_day(d("2024-12-23")), Some(d("2024-12-24")));
        assert_eq!(next_business_day(d("2024-12-24")), Some(d("2024-12-27")));
    }

    #[test]
    fn around_easter() {
        // Good Friday is a business day; Easter Monday is not.
        assert!(is_business_day(d("2026-04-03")));
        assert_eq!(next_business_day(d("2026-04-03")), Some(d("2026-04-07")));
        assert_eq!(business_day_before(d("2026-04-07")), Some(d("2026-04-03")));
        assert_eq!(next_business_day(d("2025-04-18")), Some(d("2025-04-22")));
    }

    #[test]
    fn may_long_weekend() {
        // 2026: Fri 1 May, Sun 3 May → Thu 30 April → Mon 4 May.
        assert_eq!(next_business_day(d("2026-04-30")), Some(d("2026-05-04")));
        // 2025: Thu 1 May, Sat 3 May → Wed 30 April → Fri 2 May (a business day).
        assert_eq!(next_business_day(d("2025-04-30")), Some(d("2025-05-02")));
        // 2027: Mon 3 May → Fri 30 April → Tue 4 May.
        assert_eq!(next_business_day(d("2027-04-30")), Some(d("2027-05-04")));
    }

    #[test]
    fn corpus_christi() {
        assert!(is_polish_holiday(d("2025-06-19")));
        assert!(is_polish_holiday(d("2026-06-04")));
        assert_eq!(next_business_day(d("2026-06-03")), Some(d("2026-06-05")));
        // Pentecost is always a Sunday; the Monday after it is a business day.
        assert!(is_polish_holiday(d("2026-05-24")));
        assert!(is_business_day(d("2026-05-25")));
    }

    #[test]
    fn november_long_weekend() {
        // 2026: Wed 11 November.
        assert_eq!(add_business_days(d("2026-11-10"), 1), Some(d("2026-11-12")));
        // 2025: Sat 1 November (no extra day off for the deadline), Tue 11 November.
        assert_eq!(next_business_day(d("2025-10-31")), Some(d("2025-11-03")));
        assert_eq!(next_business_day(d("2025-11-10")), Some(d("2025-11-12")));
    }

    #[test]
    fn invariants_over_six_years() {
        let mut day = d("2024-12-20");
        while day < d("2031-01-01") {
            let next = next_business_day(day).unwrap();
            assert!(next > day && is_business_day(next), "{day}");
            let mut between = day.add_days(1).unwrap();
            while between < next {
                assert!(!is_business_day(between), "{day}: {between}");
                between = between.add_days(1).unwrap();
            }
            let before = business_day_before(next).unwrap();
            assert!(before <= day, "{day}");
            for n in 0..10u32 {
                let r = add_business_days(day, n).unwrap();
                let mut count = 0;
                let mut x = day;
                while x < r {
                    x = x.add_days(1).unwrap();
                    if is_business_day(x) {
                        count += 1;
                    }
                }
                assert_eq!(count, n, "{day} + {n}");
                assert!(n == 0 || is_business_day(r));
            }
            day = day.add_days(1).unwrap();
        }
    }

    #[test]
    fn add_counts_only_business_days() {
        assert_eq!(add_business_days(d("2025-07-12"), 0), Some(d("2025-07-12")));
        assert_eq!(add_business_days(d("2025-07-12"), 7), Some(d("2025-07-22")));
        // 15 August 2025 was a Friday.
        assert_eq!(add_business_days(d("2025-08-13"), 2), Some(d("2025-08-18")));
        assert_eq!(next_business_day(d("9999-12-31")), None);
        assert_eq!(business_day_before(d("0001-01-01")), None);
    }
}
