//! Virtual time: the only clock the engine knows.
//!
//! Simulated time starts at `SimTime::ZERO` when the execution starts and advances only when
//! the host says so (SPEC: "every step takes zero simulated time"). The wall clock that
//! workflows see (`sys.now`, `received_time`) is `WallClock::start` plus simulated time.

use std::fmt;
use std::time::Duration;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time: nanoseconds since the execution started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    /// The end of simulated time; a deadline this far never fires in practice.
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(nanos: u64) -> SimTime {
        SimTime(nanos)
    }

    pub const fn from_secs(secs: u64) -> SimTime {
        SimTime(secs.saturating_mul(NANOS_PER_SEC))
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a double, for traces and JSON output.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self + d`, saturating at `SimTime::MAX`: a 12-hour timeout near the end of time
    /// must not wrap around into the past.
    pub fn saturating_add(self, d: Duration) -> SimTime {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        SimTime(self.0.saturating_add(nanos))
    }

    /// The time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for SimTime {
    /// `12.5s`, `0s`, `0.000000001s`: seconds with only the decimals that carry information.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / NANOS_PER_SEC;
        let frac = self.0 % NANOS_PER_SEC;
        if frac == 0 {
            write!(f, "{secs}s")
        } else {
            let digits = format!("{frac:09}");
            write!(f, "{secs}.{}s", digits.trim_end_matches('0'))
        }
    }
}

/// `60s`, `0.5s`: a duration as CB-6's message says it (the interpreter's await timeout,
/// the outbound calls' `TimeoutError`).
pub fn secs_text(d: Duration) -> String {
    let mut text = String::new();
    push_secs_text(&mut text, d);
    text
}

/// [`secs_text`] appended to `out`. A whole number of seconds is written digit by digit,
/// not formatted: every await that times out says its timeout (CB-6), and a retried one
/// again and again.
pub fn push_secs_text(out: &mut String, d: Duration) {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        let mut n = s as u64;
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[i..].iter().map(|&b| char::from(b)));
        out.push('s');
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{s}s");
    }
}

/// Converts a timeout or delay given in seconds by a workflow (int or double) to a
/// `Duration`, or says why it cannot (CB-4: negative is a `ValueError`).
///
/// Sub-nanosecond fractions round to the nearest nanosecond; values beyond what a `Duration`
/// holds saturate, which is far past the one-year execution limit of EX-5.
pub fn duration_from_secs(secs: f64) -> Result<Duration, DurationError> {
    if secs.is_nan() {
        return Err(DurationError::NotANumber);
    }
    if secs < 0.0 {
        return Err(DurationError::Negative(secs));
    }
    Ok(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// [`duration_from_secs`] for what a workflow waits (`sys.sleep`, an await's or a call's
/// timeout), rounded to the nearest microsecond: a workflow's times are doubles of seconds
/// since the epoch (`sys.now()`, `time.parse`), exact today to about 0.24 µs, so `deadline -
/// sys.now()` carries float noise below the microsecond (`7199.700000048`) that would
/// otherwise become simulated time. A microsecond is the finest unit GCP's own timestamps
/// keep (`time.format`). Scenario times and back-off delays stay exact to the nanosecond.
pub fn duration_from_workflow_secs(secs: f64) -> Result<Duration, DurationError> {
    duration_from_secs(secs)?;
    // `as` saturates: beyond u64::MAX microseconds (584,000 years) is u64::MAX.
    Ok(Duration::from_micros((secs * 1e6).round() as u64))
}

/// Why a number of seconds is not a valid duration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DurationError {
    /// `-1`
    Negative(f64),
    /// `NaN` (cannot be written in a workflow, but can be computed).
    NotANumber,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Negative(s) => write!(f, "timeout must not be negative, got {s}"),
            DurationError::NotANumber => write!(f, "timeout must be a number, got NaN"),
        }
    }
}

/// The simulated wall clock: the real-world instant that simulated `t = 0` stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// Nanoseconds since the Unix epoch at `SimTime::ZERO`.
    start_unix_nanos: i128,
}

impl WallClock {
    /// 2024-01-01T00:00:00Z, the start used when a scenario names none. **(decision)**
    pub const DEFAULT: WallClock = WallClock {
        start_unix_nanos: 1_704_067_200 * NANOS_PER_SEC as i128,
    };

    pub const fn from_unix_nanos(start_unix_nanos: i128) -> WallClock {
        WallClock { start_unix_nanos }
    }

    /// Nanoseconds since the Unix epoch at simulated instant `t`.
    pub fn unix_nanos_at(self, t: SimTime) -> i128 {
        self.start_unix_nanos + i128::from(t.as_nanos())
    }

    /// CB-7: `received_time` as Go's `time.Time.String()` prints it for a UTC time with a
    /// monotonic reading, e.g. `2021-06-24 19:49:16.988072651 +0000 UTC m=+742581.005780667`.
    ///
    /// The monotonic part counts from the server's start, which in simulation is `t = 0`.
    /// SPEC asks for nine decimals in both parts, so trailing zeros are kept. **(decision)**
    pub fn go_time_string(self, t: SimTime) -> String {
        let mut buf = GoTime::EMPTY;
        match self.write_go_time(t, &mut buf) {
            Some(text) => text.to_owned(),
            None => self.go_time_formatted(t),
        }
    }

    /// [`WallClock::go_time_string`] as the shared text a workflow value holds: every
    /// awaited callback carries one (CB-7), copied once from the stack, no `String` between.
    pub fn go_time_text(self, t: SimTime) -> std::rc::Rc<str> {
        let mut buf = GoTime::EMPTY;
        match self.write_go_time(t, &mut buf) {
            Some(text) => text.into(),
            None => self.go_time_formatted(t).into(),
        }
    }

    /// The text of [`WallClock::go_time_string`] written into `buf`, digits at fixed places,
    /// in 64-bit arithmetic; `None` for an instant outside `i64` nanoseconds (the years
    /// 1677 to 2262), which `go_time_formatted` prints.
    fn write_go_time(self, t: SimTime, buf: &mut GoTime) -> Option<&str> {
        let nanos = i64::try_from(self.unix_nanos_at(t)).ok()?;
        let secs = nanos.div_euclid(NANOS_PER_SEC as i64);
        let frac = nanos.rem_euclid(NANOS_PER_SEC as i64) as u64;
        let days = secs.div_euclid(86_400);
        let secs_of_day = secs.rem_euclid(86_400) as u64;
        // An `i64` of nanoseconds spans the years 1677 to 2262: always four digits.
        let (year, month, day) = civil_from_days(days);
        let b = &mut buf.0;
        put_digits(&mut b[0..4], year as u64);
        put_digits(&mut b[5..7], u64::from(month));
        put_digits(&mut b[8..10], u64::from(day));
        put_digits(&mut b[11..13], secs_of_day / 3600);
        put_digits(&mut b[14..16], secs_of_day / 60 % 60);
        put_digits(&mut b[17..19], secs_of_day % 60);
        put_digits(&mut b[20..29], frac);
        let mono_secs = t.as_nanos() / NANOS_PER_SEC;
        let width = decimal_width(mono_secs);
        let end = GO_TIME_FIXED + width + 10;
        put_digits(&mut b[GO_TIME_FIXED..GO_TIME_FIXED + width], mono_secs);
        b[end - 10] = b'.';
        // The reading's low nine digits: its nanoseconds.
        put_digits(&mut b[end - 9..end], t.as_nanos());
        // ASCII throughout: never an error.
        std::str::from_utf8(&b[..end]).ok()
    }

    /// [`WallClock::go_time_string`] by `format!`, whose signs and widths a year outside
    /// four digits needs.
    fn go_time_formatted(self, t: SimTime) -> String {
        let nanos = self.unix_nanos_at(t);
        let secs = nanos.div_euclid(NANOS_PER_SEC as i128);
        let frac = nanos.rem_euclid(NANOS_PER_SEC as i128);
        let days = secs.div_euclid(86_400);
        let secs_of_day = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days as i64);
        let mono_secs = t.as_nanos() / NANOS_PER_SEC;
        let mono_frac = t.as_nanos() % NANOS_PER_SEC;
        let (hour, minute, second) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
        format!(
            "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{frac:09} +0000 UTC m=+{mono_secs}.{mono_frac:09}",
        )
    }
}

/// The bytes of `go_time_string`'s text before the monotonic seconds:
/// `2021-06-24 19:49:16.988072651 +0000 UTC m=+`.
const GO_TIME_FIXED: usize = 43;

/// A buffer for `go_time_string`'s text, its separators in place: the fixed part, then at
/// most 20 digits of monotonic seconds, a point and nine decimals.
struct GoTime([u8; GO_TIME_FIXED + 30]);

impl GoTime {
    const EMPTY: GoTime =
        GoTime(*b"0000-00-00 00:00:00.000000000 +0000 UTC m=+000000000000000000000000000000");
}

/// How many decimal digits `n` has (1 for 0).
fn decimal_width(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// `n` in decimal, right-aligned and zero-padded in `out`, its high digits dropped if they
/// do not fit (the monotonic reading's nanoseconds are its low nine; every other caller
/// gives room for all). Two digits a division: a callback's time has 33.
fn put_digits(out: &mut [u8], mut n: u64) {
    let mut pairs = out.rchunks_exact_mut(2);
    for pair in &mut pairs {
        let d = (n % 100) as usize * 2;
        pair.copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
        n /= 100;
    }
    if let [b] = pairs.into_remainder() {
        *b = b'0' + (n % 10) as u8;
    }
}

/// `00`, `01`, … `99`, back to back.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days` (<http://howardhinnant.github.io/date_algorithms.html>):
/// eras of 400 years, each exactly 146,097 days long.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since 1970-01-01; the inverse of `civil_from_days`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix nanoseconds as RFC 3339 in UTC with nine decimals: `2024-01-01T00:00:05.000000000Z`.
pub fn format_rfc3339(unix_nanos: i128) -> String {
    let secs = unix_nanos.div_euclid(NANOS_PER_SEC as i128);
    let frac = unix_nanos.rem_euclid(NANOS_PER_SEC as i128);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400) as i64);
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// RFC 3339 (`2024-01-01T00:00:05Z`, `2024-01-01T02:00:05.5+02:00`) to Unix nanoseconds.
pub fn parse_rfc3339(text: &str) -> Option<i128> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut frac_nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = text.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        let padded = format!("{:0<9}", &digits[..digits.len().min(9)]);
        frac_nanos = padded.parse().ok()?;
    }
    // Bytes, not `str` slices: the text may hold any character where a digit should be.
    let offset_secs: i64 = match &b[i..] {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            let sign = if *sign == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(i128::from(secs) * NANOS_PER_SEC as i128 + frac_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cb_6_timeout_message() {
        assert_eq!(secs_text(Duration::from_secs(60)), "60s");
        assert_eq!(secs_text(Duration::ZERO), "0s");
        assert_eq!(secs_text(Duration::from_secs(43_200)), "43200s");
        assert_eq!(
            secs_text(Duration::from_secs(u64::MAX)),
            format!("{}s", Duration::from_secs(u64::MAX).as_secs_f64() as u64)
        );
        assert_eq!(secs_text(Duration::from_millis(500)), "0.5s");
    }

    #[test]
    fn parse_is_total_on_any_text() {
        for text in [
            "2024-01-01T00:00:00é1234",
            "2024-01-01T00:00:00+é:00",
            "2024-01-01T00:00:00.é",
            "2024-01-01T00:00:00+01:é",
            "éééééééééééééééééééééé",
            "",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
        // Digits past nanoseconds are dropped, however many.
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00.1234567890123456789012345678901234567890Z"),
            Some(1_704_067_200_123_456_789)
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn rfc3339_round_trip() {
        for days in [-1, 0, 59, 11_016, 19_723, 19_782, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let t = WallClock::DEFAULT.unix_nanos_at(SimTime::from_secs(5));
        assert_eq!(format_rfc3339(t), "2024-01-01T00:00:05.000000000Z");
        assert_eq!(parse_rfc3339("2024-01-01T00:00:05Z"), Some(t));
        assert_eq!(
            parse_rfc3339("2024-01-01T02:00:05.5+02:00"),
            Some(t + 500_000_000)
        );
        assert_eq!(parse_rfc3339("2024-13-01T00:00:05Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn cb_7_received_time_matches_the_guide() {
        // The guide's example: 2021-06-24 19:49:16.988072651 +0000 UTC m=+742581.005780667.
        let t = SimTime::from_nanos(742_581_005_780_667);
        let at_unix = 1_624_564_156_988_072_651_i128;
        let clock = WallClock::from_unix_nanos(at_unix - i128::from(t.as_nanos()));
        assert_eq!(
            clock.go_time_string(t),
            "2021-06-24 19:49:16.988072651 +0000 UTC m=+742581.005780667"
        );
    }

    #[test]
    fn cb_7_keeps_nine_decimals() {
        assert_eq!(
            WallClock::DEFAULT.go_time_string(SimTime::from_secs(5)),
            "2024-01-01 00:00:05.000000000 +0000 UTC m=+5.000000000"
        );
    }

    #[test]
    fn cb_7_received_time_is_gos_format_at_every_width() {
        // The digits pushed by hand against `format!`'s, over starts from before the epoch
        // to past year 9999 and instants from 0 to centuries, at odd nanoseconds.
        let reference = |clock: WallClock, t: SimTime| {
            let nanos = clock.unix_nanos_at(t);
            let secs = nanos.div_euclid(NANOS_PER_SEC as i128);
            let frac = nanos.rem_euclid(NANOS_PER_SEC as i128);
            let (year, month, day) = civil_from_days(secs.div_euclid(86_400) as i64);
            let s = secs.rem_euclid(86_400);
            let (ms, mf) = (t.as_nanos() / NANOS_PER_SEC, t.as_nanos() % NANOS_PER_SEC);
            format!(
                "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{frac:09} +0000 UTC m=+{ms}.{mf:09}",
                s / 3600,
                s / 60 % 60,
                s % 60
            )
        };
        let year = 365 * 86_400 * NANOS_PER_SEC as i128;
        for start in [
            -2_100 * year,
            -3 * year,
            0,
            54 * year + 7,
            8_000 * year,
            9_000 * year,
        ] {
            let clock = WallClock::from_unix_nanos(start);
            for t in [
                0,
                1,
                999_999_999,
                1_000_000_000,
                86_399_123_456_789,
                300 * 365 * 86_400 * NANOS_PER_SEC + 5,
            ] {
                let t = SimTime::from_nanos(t);
                assert_eq!(
                    clock.go_time_string(t),
                    reference(clock, t),
                    "{start} {t:?}"
                );
            }
        }
    }

    /// CB-7: the digits written at fixed places equal `format!`'s over seeded instants across
    /// all that fits in `i64` nanoseconds (years 1677 to 2262) and its edges, both as a
    /// `String` and as a value's text.
    #[test]
    fn cb_7_received_time_fast_path_is_format() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            // splitmix64
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let edges = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        for i in 0..20_000 {
            let start = match i % 4 {
                0 => i128::from(next() as i64),
                1 => i128::from(edges[i % edges.len()]) - i128::from(next() % 3),
                _ => i128::from(next() as i64 >> (next() % 64)),
            };
            let t = match i % 3 {
                0 => next(),
                1 => next() >> (next() % 64),
                _ => next() % 100 * NANOS_PER_SEC,
            };
            let (clock, t) = (WallClock::from_unix_nanos(start), SimTime::from_nanos(t));
            let expected = clock.go_time_formatted(t);
            assert_eq!(clock.go_time_string(t), expected, "{start} {t:?}");
            assert_eq!(&*clock.go_time_text(t), expected, "{start} {t:?}");
        }
        for n in [0, 9, 10, 99, 100, u64::MAX / 10, u64::MAX] {
            assert_eq!(decimal_width(n), n.to_string().len());
        }
    }

    #[test]
    fn cb_4_durations() {
        assert_eq!(duration_from_secs(1.5), Ok(Duration::from_millis(1500)));
        assert_eq!(duration_from_secs(0.0), Ok(Duration::ZERO));
        assert_eq!(duration_from_secs(-1.0), Err(DurationError::Negative(-1.0)));
        assert_eq!(duration_from_secs(f64::NAN), Err(DurationError::NotANumber));
        assert_eq!(duration_from_secs(1e300), Ok(Duration::MAX));
        assert_eq!(
            duration_from_secs(1.000000001),
            Ok(Duration::from_nanos(1_000_000_001))
        );
        assert_eq!(
            duration_from_workflow_secs(1.0000005),
            Ok(Duration::from_micros(1_000_001))
        );
        assert_eq!(
            duration_from_workflow_secs(1e300),
            Ok(Duration::from_micros(u64::MAX))
        );
        assert_eq!(
            duration_from_workflow_secs(-1.0),
            Err(DurationError::Negative(-1.0))
        );
    }

    /// The float noise of `deadline - sys.now()` (a double of epoch seconds) rounds away:
    /// 0.3 s after the start, an hour and a half after that is exactly 7199.7 s ahead.
    #[test]
    fn durations_from_epoch_doubles_keep_no_float_noise() {
        let now = |t: SimTime| WallClock::DEFAULT.unix_nanos_at(t) as f64 / 1e9;
        let deadline = now(SimTime::ZERO) + 7200.0;
        let ahead = deadline - now(SimTime::from_nanos(300_000_000));
        assert_ne!(ahead, 7199.7, "the double carries noise");
        let d = duration_from_workflow_secs(ahead).unwrap();
        assert_eq!(d, Duration::from_millis(7_199_700));
        let end = SimTime::from_nanos(300_000_000).saturating_add(d);
        assert_eq!(end.to_string(), "7200s");
        assert_eq!(end.as_secs_f64().to_string(), "7200");
    }

    #[test]
    fn saturating_time() {
        assert_eq!(
            SimTime::MAX.saturating_add(Duration::from_secs(1)),
            SimTime::MAX
        );
        assert_eq!(
            SimTime::from_secs(2).saturating_since(SimTime::from_secs(3)),
            Duration::ZERO
        );
        assert_eq!(SimTime::from_nanos(12_500_000_000).to_string(), "12.5s");
        assert_eq!(SimTime::ZERO.to_string(), "0s");
    }
}
