//! CB-7's `received_time`, rendered the slow and obvious way, to check the engine's fast one.

/// Unix seconds of 2024-01-01T00:00:00Z, the engine's default start of the wall clock.
pub const START_UNIX_SECS: u64 = 1_704_067_200;
const START_YEAR: u64 = 2024;

fn is_leap(year: u64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// `YYYY-MM-DD hh:mm:ss.nnnnnnnnn +0000 UTC m=+S.nnnnnnnnn` for `ns` nanoseconds after the
/// start, counting whole years, then whole months, then days from 2024-01-01.
pub fn go_time(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let mut days = secs / 86_400;
    let mut year = START_YEAR;
    loop {
        let in_year = if is_leap(year) { 366 } else { 365 };
        if days < in_year {
            break;
        }
        days -= in_year;
        year += 1;
    }
    let february = if is_leap(year) { 29 } else { 28 };
    let lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 1;
    for length in lengths {
        if days < length {
            break;
        }
        days -= length;
        month += 1;
    }
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{:02} {:02}:{:02}:{:02}.{frac:09} +0000 UTC m=+{secs}.{frac:09}",
        days + 1,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            go_time(0),
            "2024-01-01 00:00:00.000000000 +0000 UTC m=+0.000000000"
        );
        // 2024 is a leap year: day 59 is 29 February, day 366 is 2025-01-01.
        let day = 86_400 * 1_000_000_000;
        assert!(go_time(59 * day).starts_with("2024-02-29 00:00:00"));
        assert!(go_time(366 * day + 1).starts_with("2025-01-01 00:00:00.000000001"));
        assert!(go_time(366 * day - 1).starts_with("2024-12-31 23:59:59.999999999"));
    }
}
