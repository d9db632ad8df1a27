//! HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two obsolete forms that
//! recipients must still accept. A pure function: no clock is read.

use std::time::{Duration, SystemTime};

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
/// `Sun Nov  6 08:49:37 1994`. A two-digit year is 20yy below 70 and 19yy otherwise.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use dicomweb_core::response::parse_http_date;
///
/// let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(t, Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784111777)));
/// assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
/// assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), t);
/// assert_eq!(parse_http_date("yesterday"), None);
/// ```
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    let (day, month, year, time) = match tokens.as_slice() {
        // IMF-fixdate
        [weekday, day, month, year, time, "GMT"] if is_weekday(weekday, true) => {
            (number(day, 2)?, *month, number(year, 4)?, *time)
        }
        // RFC 850
        [weekday, date, time, "GMT"] if is_weekday(weekday, true) => {
            let mut parts = date.split('-');
            let day = number(parts.next()?, 2)?;
            let month = parts.next()?;
            let yy = number(parts.next()?, 2)?;
            if parts.next().is_some() {
                return None;
            }
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (day, month, year, *time)
        }
        // asctime
        [weekday, month, day, time, year] if is_weekday(weekday, false) => {
            if day.is_empty() || day.len() > 2 || !day.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (day.parse().ok()?, *month, number(year, 4)?, *time)
        }
        _ => return None,
    };
    let month = month_number(month)?;
    let mut hms = time.split(':');
    let hour = number(hms.next()?, 2)?;
    let minute = number(hms.next()?, 2)?;
    let second = number(hms.next()?, 2)?;
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) || year < 1970 {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second.min(59);
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

fn is_weekday(token: &str, with_comma: bool) -> bool {
    let name = if with_comma {
        match token.strip_suffix(',') {
            Some(name) => name,
            None => return false,
        }
    } else {
        token
    };
    const SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const LONG: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    SHORT.contains(&name) || LONG.contains(&name)
}

/// Exactly `digits` ASCII digits.
fn number(text: &str, digits: usize) -> Option<u64> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.iter().position(|m| *m == name).map(|i| i as u64 + 1)
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date on or after it.
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let mut days = 0;
    for y in 1970..year {
        days += if is_leap(y) { 366 } else { 365 };
    }
    for m in 1..month {
        days += days_in_month(year, m);
    }
    days + day - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
    }

    #[test]
    fn known_moments() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), at(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            at(1_835_481_599)
        );
        assert_eq!(
            parse_http_date("Wed, 09 Jun 2021 10:18:14 GMT"),
            at(1_623_233_894)
        );
        assert_eq!(
            parse_http_date("Wednesday, 09-Jun-21 10:18:14 GMT"),
            at(1_623_233_894)
        );
        assert_eq!(
            parse_http_date("Wed Jun  9 10:18:14 2021"),
            at(1_623_233_894)
        );
    }

    #[test]
    fn refuses_malformed_dates() {
        for text in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 2023 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 94",
            "120",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
        }
    }
}
