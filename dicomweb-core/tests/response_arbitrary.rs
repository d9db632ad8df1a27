//! Response parsers never panic on arbitrary input, and their text parsers round-trip.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::{Duration, SystemTime};

use dicomweb_core::ReadOptions;
use dicomweb_core::response::{
    RetryAfter, check_status, parse_http_date, parse_retry_after, parse_search, parse_store,
    warnings,
};
use http::header::{CONTENT_TYPE, WARNING};
use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;

fn content_types() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(vec![
        "application/dicom+json",
        "application/dicom+xml",
        r#"multipart/related; type="application/dicom+xml"; boundary=b"#,
        "text/plain",
        "multipart/related",
    ]))
}

proptest! {
    #[test]
    fn parsers_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..512),
        status in prop::sample::select(vec![200u16, 202, 204, 400, 409, 500, 503]),
        content_type in content_types(),
        warning in "[ -~]{0,80}",
        retry in "[ -~]{0,40}",
    ) {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if let Ok(value) = HeaderValue::from_str(&warning) {
            headers.insert(WARNING, value);
        }
        if let Ok(value) = HeaderValue::from_str(&retry) {
            headers.insert("retry-after", value);
        }
        let status = StatusCode::from_u16(status).unwrap();
        let options = ReadOptions::default();
        let _ = parse_search(status, &headers, body.clone(), &options);
        let _ = parse_store(status, &headers, &body, &options);
        let _ = check_status(status, &headers, &body);
        let _ = warnings(&headers);
        let _ = parse_retry_after(&retry);
    }

    #[test]
    fn http_dates_round_trip(seconds in 0u64..4_102_444_800) {
        // Format IMF-fixdate by hand from the civil date, then parse it back.
        let days = seconds / 86_400;
        let (mut year, mut rest) = (1970u64, days);
        loop {
            let len = if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 { 366 } else { 365 };
            if rest < len { break; }
            rest -= len;
            year += 1;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let lengths = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let mut month = 0;
        while rest >= lengths[month] {
            rest -= lengths[month];
            month += 1;
        }
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        let t = seconds % 86_400;
        let text = format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            DAYS[(days % 7) as usize], rest + 1, MONTHS[month], year, t / 3600, t / 60 % 60, t % 60
        );
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        prop_assert_eq!(parse_http_date(&text), Some(expected));
        prop_assert_eq!(parse_retry_after(&text), Some(RetryAfter::At(expected)));
    }
}
