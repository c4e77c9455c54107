//! Time as the database and the API hold it: epoch milliseconds in every `*_at`
//! column, RFC 3339 (UTC) on the wire, calendar dates in Asia/Shanghai (UTC+8, no
//! daylight saving), which is where every worker and officer lives.
use chrono::{Datelike, NaiveDate};

/// Milliseconds since the Unix epoch: the unit of every `*_at` column.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 in UTC for an epoch-milliseconds column.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Epoch milliseconds of an RFC 3339 instant (surrounding spaces allowed), or `None`.
pub fn parse_rfc3339_ms(raw: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Today's date in Asia/Shanghai.
pub fn today_shanghai() -> NaiveDate {
    shanghai_date(now_ms())
}

/// The date in Asia/Shanghai at an epoch-ms instant.
pub fn shanghai_date(ms: i64) -> NaiveDate {
    (chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default() + chrono::Duration::hours(8))
        .date_naive()
}

/// Whole years from `birth` to `on` (a Feb 29 birthday falls on Mar 1 in other years).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn age_counts_whole_years_up_to_the_birthday() {
        assert_eq!(age_on(d(2012, 11, 26), d(2026, 11, 26)), 14);
        assert_eq!(age_on(d(2012, 11, 27), d(2026, 11, 26)), 13);
        assert_eq!(age_on(d(1997, 11, 27), d(2026, 11, 26)), 28);
        assert_eq!(age_on(d(1997, 11, 26), d(2026, 11, 26)), 29);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 2, 28)), 17);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 3, 1)), 18);
    }

    #[test]
    fn instants_round_trip_and_dates_are_shanghai() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339_ms(" 1970-01-01T08:00:00+08:00 "), Some(0));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        // 16:00 UTC is midnight in Shanghai: the next day there.
        let ms = parse_rfc3339_ms("2026-12-01T16:00:00Z").unwrap_or_default();
        assert_eq!(
            shanghai_date(ms),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
        );
        assert_eq!(
            shanghai_date(ms - 1),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
        );
    }
}
