//! Generated values and library calls: every function of the standard library's table with
//! arguments of every type, edge numbers, non-ASCII and adversarial strings for its parsers,
//! huge and deep values.

use wfsim_engine::stdlib::table::{self, Func};

use crate::input::StdlibCall;
use crate::rand::Rand;
use crate::recipe::Recipe;

/// Strings bigger than this are not generated: 1 MiB and a bit is enough to show anything
/// quadratic, and keeps the worker far from its memory budget.
const STRING_MAX: u64 = 1 << 21;
/// Deepest nesting generated: past the depth where the bugs we know of show, short of the
/// depth where merely dropping the value would overflow the worker's stack.
const DEPTH_MAX: u64 = 40_000;
/// Deepest value handed to a library call: the engine keeps every value within
/// `VALUE_DEPTH_MAX`, and one expression (at most 400 characters) can wrap a value in at
/// most 200 more levels before the result is checked. Deeper arguments cannot happen; past
/// this, the fuzzer would only find that a Rust value that deep overflows when dropped.
const ARGUMENT_DEPTH_MAX: u64 = wfsim_engine::limits::VALUE_DEPTH_MAX as u64 + 200;

pub const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    7,
    60,
    86_400,
    1_000_000_000,
    i32::MAX as i64,
    i32::MIN as i64,
    u32::MAX as i64,
    (1 << 53) + 1,
    -(1 << 53) - 1,
    31_536_000,
    31_536_001,
    253_402_300_799,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
];

pub const DOUBLES: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -1.5,
    1e-9,
    0.1,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    5e-324,
    f64::MAX,
    f64::MIN,
    1e300,
    9.2e18,
    9.3e18,
    -9.3e18,
    9_223_372_036_854_775_807.0,
    1.7e10,
    253_402_300_800.0,
    31_536_000.5,
];

/// Characters that break assumptions: multi-byte, combining, zero-width, case mappings
/// that change length, controls, bidi, line separators.
pub const ODD_CHARS: &[&str] = &[
    "\u{e9}",
    "e\u{301}",
    "\u{1f600}",
    "\u{0}",
    "\u{7f}",
    "\u{200b}",
    "\u{feff}",
    "\u{202e}",
    "\u{2028}",
    "\u{85}",
    "\u{df}",
    "\u{130}",
    "\u{1c5}",
    "\u{fb03}",
    "\u{3a3}",
    "\u{fffd}",
    "\u{10ffff}",
    "\r\n",
    "\t",
    "\\",
    "\"",
    "'",
    "%",
    "$",
    "{",
    "}",
    "\u{ff11}",
    "\u{663}",
];

const WORDS: &[&str] = &[
    "",
    "a",
    "ab",
    "abc",
    "Hello, Workflows",
    "true",
    "FALSE",
    "null",
    "0",
    "-1",
    "3.5",
    " 42 ",
    "+5",
    "-0",
    "1e400",
    "1e-400",
    "inf",
    "-Infinity",
    "NaN",
    "0x10",
    "1_000",
    "1.",
    ".5",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "GET",
    "post",
    "a,b",
    ",",
    "%zz",
    "a b/c?d=e&f#g",
    "${x}",
    "\u{e9}t\u{e9}",
];

const TIMES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.5Z",
    "2024-02-29T23:59:60+02:00",
    "2024-01-01t00:00:00z",
    "2024-01-01 00:00:00-23:59",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999999999Z",
    "2024-13-01T00:00:00Z",
    "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00+99:99",
];

const JSONS: &[&str] = &[
    "{\"a\": [1, 2.5, true, null, \"\\u00e9\"]}",
    "[1e400, -1e400, 1e-400]",
    "18446744073709551616",
    "-9223372036854775809",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "[1, 2,]",
    "{\"a\": 1, \"a\": 2}",
    "NaN",
    "",
    " ",
    "{\"\": {}}",
    "\u{feff}[]",
];

const REGEXES: &[&str] = &[
    "^[a-z]+[0-9]+$",
    "(a+)+$",
    "a{1000}{1000}",
    "\\p{Greek}",
    "[[:alpha:]]",
    "(?i)\u{e9}",
    "\\b\\w+\\b",
    "(",
    "[z-a]",
    "\\",
    "(?P<n>x)(?P=n)",
    "a{4294967295}",
    "(?=x)",
    "\\1",
    ".*.*.*=.*",
    "",
    "\u{1f600}+",
    "(?s).",
    "[^\\x00-\\x{10FFFF}]",
];

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "", "CONNECT", "TRACE",
    "FOO", " GET", "G\u{c9}T",
];

const SEVERITIES: &[&str] = &[
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
    "",
    "info",
    "BOGUS",
];

const ERROR_TAGS: &[&str] = &[
    "HttpError",
    "ConnectionError",
    "ConnectionFailedError",
    "TimeoutError",
    "KeyError",
    "TypeError",
    "",
];

/// A string built from words, odd characters and, now and then, a great many repeats.
pub fn string(r: &mut Rand, pool: &[String]) -> Recipe {
    match r.below(10) {
        0 | 1 => Recipe::str(*r.pick(WORDS)),
        2 => Recipe::str(*r.pick(ODD_CHARS)),
        3 if !pool.is_empty() => Recipe::Str(r.pick(pool).clone()),
        4 => huge_string(r, pool),
        5 => Recipe::str(*r.pick(TIMES)),
        _ => {
            let mut s = String::new();
            for _ in 0..r.range(1, 6) {
                s.push_str(if r.chance(1, 2) {
                    r.pick::<&str>(WORDS)
                } else {
                    r.pick::<&str>(ODD_CHARS)
                });
            }
            Recipe::Str(s)
        }
    }
}

/// A unit repeated up to [`STRING_MAX`] bytes in all.
pub fn huge_string(r: &mut Rand, pool: &[String]) -> Recipe {
    let unit = match r.below(4) {
        0 if !pool.is_empty() => r.pick(pool).clone(),
        1 => r.pick(ODD_CHARS).to_string(),
        _ => r
            .pick(&["a", "ab", "a,", "aa", "\u{e9}", "x ", "[", "{\"a\":"])
            .to_string(),
    };
    let unit = if unit.is_empty() {
        "a".to_owned()
    } else {
        unit
    };
    let n = r.log_size(STRING_MAX / unit.len() as u64);
    Recipe::Repeat(Box::new(Recipe::Str(unit)), n as u32)
}

/// Any value: scalars of every type with edge numbers, strings, bytes, small collections,
/// and (rarely) huge or deeply nested ones.
pub fn value(r: &mut Rand, pool: &[String], depth: u32) -> Recipe {
    match r.below(if depth > 2 { 8 } else { 14 }) {
        0 => Recipe::Null,
        1 => Recipe::Bool(r.chance(1, 2)),
        2 => Recipe::Int(if r.chance(1, 2) {
            *r.pick(INTS)
        } else {
            r.u64() as i64
        }),
        3 => Recipe::Double(if r.chance(2, 3) {
            *r.pick(DOUBLES)
        } else {
            f64::from_bits(r.u64())
        }),
        4 | 5 => string(r, pool),
        6 => bytes(r),
        7 => Recipe::Int(r.range(0, 100) as i64 - 50),
        8 | 9 => Recipe::List((0..r.below(5)).map(|_| value(r, pool, depth + 1)).collect()),
        10 | 11 => Recipe::Map(
            (0..r.below(5))
                .map(|_| (key(r), value(r, pool, depth + 1)))
                .collect(),
        ),
        12 => deep(r, pool),
        _ => {
            let unit = value(r, pool, depth + 1);
            let n = r.log_size((STRING_MAX / unit.size().max(1)).max(1));
            Recipe::Repeat(Box::new(unit), n as u32)
        }
    }
}

fn key(r: &mut Rand) -> String {
    if r.chance(1, 4) {
        r.pick(ODD_CHARS).to_string()
    } else {
        r.pick(&[
            "a",
            "b",
            "k",
            "tags",
            "code",
            "message",
            "url",
            "",
            "0",
            "http_request",
        ])
        .to_string()
    }
}

fn bytes(r: &mut Rand) -> Recipe {
    match r.below(5) {
        0 => Recipe::Bytes(Vec::new()),
        1 => Recipe::Bytes(b"\xff\xfe\xc3\x28\xed\xa0\x80\xc0\xaf".to_vec()),
        2 => Recipe::Repeat(
            Box::new(Recipe::Bytes(vec![r.u64() as u8])),
            r.log_size(STRING_MAX) as u32,
        ),
        3 => Recipe::Bytes("h\u{e9}llo".as_bytes().to_vec()),
        _ => Recipe::Bytes((0..r.below(12)).map(|_| r.u64() as u8).collect()),
    }
}

/// A leaf inside thousands of single-item lists or single-key maps.
pub fn deep(r: &mut Rand, pool: &[String]) -> Recipe {
    let leaf = match r.below(3) {
        0 => Recipe::Int(1),
        1 => Recipe::str("x"),
        _ => value(r, pool, 3),
    };
    let depth = r.log_size(ARGUMENT_DEPTH_MAX) as u32;
    let key = if r.chance(1, 2) { None } else { Some(key(r)) };
    Recipe::Nest(Box::new(leaf), depth, key)
}

/// A string in the domain of a parser: times, JSON, base64, regexes, numbers, with
/// characters replaced, inserted or cut.
fn parser_string(r: &mut Rand, base: &[&str]) -> Recipe {
    let mut s: Vec<char> = r.pick(base).chars().collect();
    for _ in 0..r.below(4) {
        let odd: Vec<char> = r.pick(ODD_CHARS).chars().collect();
        let ascii: Vec<char> = r
            .pick(&[
                "0", "9", ":", "+", "-", ".", "Z", "T", "=", "/", "\"", "[", "{",
            ])
            .chars()
            .collect();
        let piece = if r.chance(1, 2) { odd } else { ascii };
        let at = r.below(s.len() + 1);
        match r.below(4) {
            0 if at < s.len() => {
                s.splice(at..at + 1, piece);
            }
            1 => {
                s.splice(at..at, piece);
            }
            2 => s.truncate(at),
            _ => {
                s.extend(piece);
            }
        }
    }
    Recipe::Str(s.into_iter().collect())
}

/// An RFC 3339 time put together from parts, each valid or not: the date, the separator,
/// the time, decimals, and a zone that is often a few random characters, multi-byte ones
/// among them, so that every byte offset a parser might slice at meets a character's
/// middle.
pub fn time_string(r: &mut Rand) -> Recipe {
    let prefix = if r.chance(2, 3) {
        // Well formed up to the zone, so that the zone is what gets parsed.
        r.pick(&[
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.5",
            "2024-02-29t23:59:60.123456789123",
        ])
        .to_string()
    } else {
        let date = *r.pick(&[
            "2024-01-01",
            "0000-12-31",
            "9999-12-31",
            "2024-02-30",
            "2024-1-01",
            "\u{ff12}\u{ff10}\u{ff12}\u{ff14}-01-01",
        ]);
        let sep = *r.pick(&["T", " ", "\u{e9}", "TT"]);
        let time = *r.pick(&["00:00:00", "24:00:00", "00:00", "0\u{e9}:00:00"]);
        let frac = *r.pick(&["", ".", ".\u{e9}", ".99999999999999999999"]);
        format!("{date}{sep}{time}{frac}")
    };
    let zone = if r.chance(1, 3) {
        r.pick(&["Z", "z", "+02:00", "-23:59", "+99:99", "+02:0", "+0200", ""])
            .to_string()
    } else {
        const PARTS: &[&str] = &[
            "+",
            "-",
            ":",
            "0",
            "9",
            "Z",
            "\u{e9}",
            "\u{20ac}",
            "\u{1f600}",
        ];
        (0..r.range(1, 6)).map(|_| *r.pick(PARTS)).collect()
    };
    Recipe::Str(format!("{prefix}{zone}"))
}

/// JSON text nested thousands deep, sometimes left unclosed.
fn deep_json(r: &mut Rand) -> Recipe {
    let d = r.log_size(DEPTH_MAX) as usize;
    let (open, close) = if r.chance(1, 2) {
        ("[", "]")
    } else {
        ("{\"a\":", "}")
    };
    let closing = if r.chance(4, 5) {
        close.repeat(d)
    } else {
        String::new()
    };
    Recipe::Str(format!("{}1{closing}", open.repeat(d)))
}

fn base64_string(r: &mut Rand) -> Recipe {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s: String = (0..r.below(24))
        .map(|_| ALPHABET[r.below(ALPHABET.len())] as char)
        .collect();
    for _ in 0..r.below(3) {
        s.push_str(r.pick::<&str>(&["=", "==", "-", "_", " ", "\n", "\u{e9}", "===="]));
    }
    Recipe::Str(s)
}

/// An error map as `http.default_retry_predicate` gets one, sometimes malformed.
fn error_value(r: &mut Rand, pool: &[String]) -> Recipe {
    let tags = if r.chance(4, 5) {
        Recipe::List(
            (0..r.below(3))
                .map(|_| Recipe::str(*r.pick(ERROR_TAGS)))
                .collect(),
        )
    } else {
        value(r, pool, 2)
    };
    let code = match r.below(4) {
        0 => Recipe::Int(*r.pick(&[429, 500, 502, 503, 504, 200])),
        1 => Recipe::str("503"),
        2 => Recipe::Double(503.0),
        _ => value(r, pool, 2),
    };
    Recipe::Map(vec![("tags".into(), tags), ("code".into(), code)])
}

/// An argument for parameter `param` of `func`: mostly from its domain, sometimes any
/// value at all (type errors are part of the contract too).
fn argument(r: &mut Rand, func: &Func, param: &str, pool: &[String]) -> Recipe {
    if r.chance(1, 5) {
        return value(r, pool, 0);
    }
    let number = |r: &mut Rand| {
        if r.chance(1, 2) {
            Recipe::Int(*r.pick(INTS))
        } else {
            Recipe::Double(*r.pick(DOUBLES))
        }
    };
    match (func.name, param) {
        ("time.parse" | "sys.sleep_until", _) => {
            if r.chance(1, 2) {
                time_string(r)
            } else {
                parser_string(r, TIMES)
            }
        }
        ("json.decode", _) => match r.below(4) {
            0 => deep_json(r),
            1 => bytes(r),
            _ => parser_string(r, JSONS),
        },
        ("base64.decode", _) => base64_string(r),
        ("text.match_regex", "regex")
        | ("text.find_all_regex" | "text.replace_all_regex", "regexp") => parser_string(r, REGEXES),
        ("hash.compute_checksum" | "hash.compute_hmac", "algorithm") => Recipe::str(*r.pick(&[
            "MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "sha256", "",
        ])),
        ("hash.compute_checksum" | "hash.compute_hmac", _) => {
            if r.chance(3, 4) {
                bytes(r)
            } else {
                value(r, pool, 0)
            }
        }
        ("text.url_decode", _) if r.chance(1, 2) => {
            parser_string(r, &["a%2Fb+c", "%", "%4", "%zz", "%C3%A9", "%FF"])
        }
        ("int" | "double" | "bool", _) => match r.below(3) {
            0 => number(r),
            _ => parser_string(r, WORDS),
        },
        ("time.format", "seconds") | ("math.abs" | "math.floor" | "math.max" | "math.min", _) => {
            number(r)
        }
        ("time.format", "timezone") => Recipe::str(*r.pick(&[
            "UTC",
            "Europe/Paris",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "",
            "+02:00",
            "\u{e9}",
            "../../etc/passwd",
        ])),
        ("text.substring", "start" | "end") => Recipe::Int(*r.pick(INTS)),
        ("events.create_callback_endpoint", _) => Recipe::str(*r.pick(METHODS)),
        ("sys.log", "severity") => Recipe::str(*r.pick(SEVERITIES)),
        ("sys.get_env", "name") => Recipe::str(*r.pick(&[
            "GOOGLE_CLOUD_PROJECT_ID",
            "GOOGLE_CLOUD_LOCATION",
            "HOME",
            "",
        ])),
        ("http.default_retry_predicate" | "http.default_retry_predicate_non_idempotent", _)
        | ("retry.always" | "retry.never", _) => error_value(r, pool),
        ("map.get", "keys") => {
            if r.chance(1, 2) {
                Recipe::List((0..r.below(4)).map(|_| Recipe::Str(key(r))).collect())
            } else {
                Recipe::Str(key(r))
            }
        }
        ("map.get" | "map.delete" | "map.merge" | "map.merge_nested" | "keys", _) => {
            if r.chance(1, 3) {
                deep(r, pool)
            } else {
                value(r, pool, 1)
            }
        }
        ("events.await_callback", "callback") => {
            if r.chance(3, 4) {
                Recipe::Null
            } else {
                value(r, pool, 1)
            }
        }
        ("events.await_callback", "timeout") | ("sys.sleep", _) => number(r),
        (name, _) if name.starts_with("text.") => {
            if r.chance(1, 3) {
                huge_string(r, pool)
            } else {
                string(r, pool)
            }
        }
        _ => value(r, pool, 0),
    }
}

/// A call of `func`: required arguments always given (the caller checks the count), each
/// optional one given or left out.
pub fn call(r: &mut Rand, func: &Func) -> StdlibCall {
    let mut pool: Vec<String> = Vec::new();
    let mut args = Vec::new();
    for (name, required) in func.param_list() {
        if !required && r.chance(1, 2) {
            args.push(None);
            continue;
        }
        let a = argument(r, func, name, &pool);
        // Later arguments draw on earlier ones: `text.find_all(s, piece of s)` matches.
        if let Some(s) = unit_text(&a) {
            let chars: Vec<char> = s.chars().collect();
            let from = r.below(chars.len().max(1));
            let to = (from + 1 + r.below(3)).min(chars.len());
            pool.push(chars[from.min(to)..to].iter().collect());
            pool.push(s.to_owned());
        }
        args.push(Some(a));
    }
    // Trailing absent arguments are the same as fewer arguments: drop them.
    while args.last().is_some_and(Option::is_none) {
        args.pop();
    }
    StdlibCall {
        function: func.name.to_owned(),
        args,
    }
}

/// The text a string recipe is made of, when it is short enough to reuse.
fn unit_text(r: &Recipe) -> Option<&str> {
    match r {
        Recipe::Str(s) if s.len() < 256 => Some(s),
        Recipe::Repeat(unit, _) => unit_text(unit),
        _ => None,
    }
}

/// A call of a function drawn from the whole table.
pub fn any_call(r: &mut Rand) -> StdlibCall {
    let f = r.pick(table::FUNCTIONS);
    call(r, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_gets_calls_with_its_required_arguments() {
        let mut r = Rand::new(1, 0);
        for f in table::FUNCTIONS {
            let required = f.param_list().filter(|(_, req)| *req).count();
            for _ in 0..50 {
                let c = call(&mut r, f);
                assert_eq!(c.function, f.name);
                assert!(c.args.len() >= required && c.args.len() <= f.params.len());
                assert!(c.args[..required].iter().all(Option::is_some));
                assert!(
                    c.args
                        .iter()
                        .flatten()
                        .all(|a| a.size() <= crate::recipe::BUILD_LIMIT)
                );
            }
        }
    }

    #[test]
    fn finds_all_gets_huge_sources_with_matching_pieces() {
        let mut r = Rand::new(3, 0);
        let f = table::lookup("text.find_all").unwrap();
        let hits = (0..2000)
            .map(|_| call(&mut r, f))
            .filter(|c| match (&c.args[0], &c.args[1]) {
                (Some(Recipe::Repeat(unit, n)), Some(Recipe::Str(sub))) => {
                    *n > 100_000
                        && !sub.is_empty()
                        && matches!(&**unit, Recipe::Str(u) if u.contains(sub.as_str()))
                }
                _ => false,
            })
            .count();
        assert!(
            hits > 5,
            "only {hits} huge find_all calls with a matching substring"
        );
    }

    #[test]
    fn time_strings_get_non_ascii_characters() {
        let mut r = Rand::new(5, 0);
        let f = table::lookup("time.parse").unwrap();
        let odd = (0..500)
            .filter_map(|_| match call(&mut r, f).args[0].clone() {
                Some(Recipe::Str(s)) => Some(s),
                _ => None,
            })
            .filter(|s| s.len() >= 20 && s.starts_with("20") && !s.is_ascii())
            .count();
        assert!(odd > 20, "{odd}");
    }

    #[test]
    fn time_zones_put_multi_byte_characters_where_a_parser_slices() {
        let mut r = Rand::new(6, 0);
        let hits = (0..1000)
            .filter_map(|_| match time_string(&mut r) {
                Recipe::Str(s) => Some(s),
                _ => None,
            })
            .filter(|s| {
                // The zone after "2024-01-01T00:00:00": six bytes, not cut at 1 or 3.
                s.get(19..).is_some_and(|z| {
                    z.len() == 6
                        && !(z.is_char_boundary(1)
                            && z.is_char_boundary(3)
                            && z.is_char_boundary(4))
                })
            })
            .count();
        assert!(hits > 5, "{hits}");
    }

    #[test]
    fn any_call_covers_the_table() {
        let mut r = Rand::new(0, 0);
        let names: std::collections::BTreeSet<String> =
            (0..3000).map(|_| any_call(&mut r).function).collect();
        assert_eq!(names.len(), table::FUNCTIONS.len());
    }
}
