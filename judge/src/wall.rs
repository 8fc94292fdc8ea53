//! Wall-clock times in expected results. A scenario's times count from its start at
//! 2024-01-01T00:00:00Z (`WallClock::DEFAULT`); a live target's execution starts when it
//! starts. Every date-time written in an expected string (`2024-01-01 00:00:02.000000000`,
//! `2024-01-01T00:00:02Z`) is moved by the difference, in its own layout, before comparing:
//! the same instant of the execution, on the target's calendar.

use serde_json::Value as Json;
use wfsim_engine::time::{format_rfc3339, parse_rfc3339};

/// `want` with every date-time in its strings moved by `delta_ns`.
pub fn shift(want: &Json, delta_ns: i128) -> Json {
    match want {
        Json::String(s) => Json::String(shift_text(s, delta_ns)),
        Json::Array(items) => Json::Array(items.iter().map(|v| shift(v, delta_ns)).collect()),
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), shift(v, delta_ns)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_date_time(b: &[u8]) -> bool {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    b.len() >= 19
        && SHAPE.iter().zip(b).all(|(&s, &c)| match s {
            b'd' => c.is_ascii_digit(),
            b'T' => c == b'T' || c == b' ',
            other => c == other,
        })
}

fn shift_text(s: &str, delta_ns: i128) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if !is_date_time(&b[i..]) {
            // Copy one character.
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let sep = b[i + 10] as char;
        let mut end = i + 19;
        let mut decimals = 0;
        if b.get(end) == Some(&b'.') {
            while b.get(end + 1 + decimals).is_some_and(u8::is_ascii_digit) {
                decimals += 1;
            }
            if decimals > 0 {
                end += 1 + decimals;
            }
        }
        let text = format!("{}T{}Z", &s[i..i + 10], &s[i + 11..end]);
        match parse_rfc3339(&text) {
            Some(ns) => {
                let moved = format_rfc3339(ns + delta_ns);
                // `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
                out.push_str(&moved[..10]);
                out.push(sep);
                out.push_str(&moved[11..19]);
                if decimals > 0 {
                    out.push('.');
                    out.push_str(&moved[20..20 + decimals.min(9)]);
                }
            }
            None => out.push_str(&s[i..end]),
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_go_and_rfc3339_times_in_their_layouts() {
        let day = 86_400_000_000_000i128;
        assert_eq!(
            shift_text(
                "2024-01-01 00:00:02.000000000 +0000 UTC m=+2.000000000",
                day + 5
            ),
            "2024-01-02 00:00:02.000000005 +0000 UTC m=+2.000000000"
        );
        assert_eq!(
            shift_text("at 2024-01-01T00:00:00Z!", day),
            "at 2024-01-02T00:00:00Z!"
        );
        assert_eq!(shift_text("no time here", day), "no time here");
    }
}
