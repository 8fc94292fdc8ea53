//! Mutations of definition texts: byte flips, line edits, deep nesting of block and flow
//! YAML, huge scalars, anchors and alias bombs, non-ASCII and invalid UTF-8, truncation.
//!
//! Texts are bytes: a mutation may leave invalid UTF-8, which the runner reads as a lenient
//! host would. The structural mutations find a *value* (what follows `: ` or `- ` on a
//! line, up to its end, or in JSON up to the next `,`, `}` or `]`) and replace it, so the
//! result often still parses and reaches the builder and the interpreter.

use crate::rand::Rand;
use crate::synth;

/// One mutation.
#[derive(Clone, Copy, Debug)]
pub struct Mutation {
    pub name: &'static str,
    /// Makes the input big or deep: a failure it leads to is filed under its name, as the
    /// likely cause, when deduplicating.
    pub heavy: bool,
    apply: fn(&mut Rand, &mut Vec<u8>, &Context),
}

/// What a mutation may use besides the text.
#[derive(Debug)]
pub struct Context<'a> {
    /// Another fixture, for splicing.
    pub donor: &'a [u8],
    pub json: bool,
}

/// Deepest nesting a mutation writes.
pub const DEPTH_MAX: u64 = 40_000;
/// Longest scalar a mutation writes, in bytes.
pub const SCALAR_MAX: u64 = 1 << 20;

pub const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "flip-bits",
        heavy: false,
        apply: flip_bits,
    },
    Mutation {
        name: "set-byte",
        heavy: false,
        apply: set_byte,
    },
    Mutation {
        name: "delete-bytes",
        heavy: false,
        apply: delete_bytes,
    },
    Mutation {
        name: "delete-line",
        heavy: false,
        apply: delete_line,
    },
    Mutation {
        name: "duplicate-line",
        heavy: false,
        apply: duplicate_line,
    },
    Mutation {
        name: "swap-lines",
        heavy: false,
        apply: swap_lines,
    },
    Mutation {
        name: "reindent-line",
        heavy: false,
        apply: reindent_line,
    },
    Mutation {
        name: "truncate",
        heavy: false,
        apply: truncate,
    },
    Mutation {
        name: "splice",
        heavy: false,
        apply: splice,
    },
    Mutation {
        name: "edge-token",
        heavy: false,
        apply: edge_token,
    },
    Mutation {
        name: "expression",
        heavy: false,
        apply: expression,
    },
    Mutation {
        name: "non-ascii",
        heavy: false,
        apply: non_ascii,
    },
    Mutation {
        name: "invalid-utf8",
        heavy: false,
        apply: invalid_utf8,
    },
    Mutation {
        name: "anchor-alias",
        heavy: false,
        apply: anchor_alias,
    },
    Mutation {
        name: "alias-bomb",
        heavy: true,
        apply: alias_bomb,
    },
    Mutation {
        name: "deep-block",
        heavy: true,
        apply: deep_block,
    },
    Mutation {
        name: "deep-flow",
        heavy: true,
        apply: deep_flow,
    },
    Mutation {
        name: "huge-scalar",
        heavy: true,
        apply: huge_scalar,
    },
];

impl Mutation {
    pub fn apply(&self, r: &mut Rand, text: &mut Vec<u8>, cx: &Context) {
        (self.apply)(r, text, cx);
    }
}

pub fn by_name(name: &str) -> Option<&'static Mutation> {
    MUTATIONS.iter().find(|m| m.name == name)
}

/// Applies one to four mutations; returns their names in order. Heavy ones are rarer, and
/// at most one per input, so one input does not grow without bound.
pub fn mutate(r: &mut Rand, text: &mut Vec<u8>, cx: &Context) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut heavy_done = false;
    for _ in 0..r.range(1, 4) {
        let m = loop {
            let m = r.pick(MUTATIONS);
            if !m.heavy || (!heavy_done && r.chance(1, 2)) {
                break m;
            }
        };
        heavy_done |= m.heavy;
        m.apply(r, text, cx);
        names.push(m.name);
    }
    names
}

/// Byte ranges of the lines, newline included.
pub fn lines(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Byte ranges of values (see the module doc).
pub fn values(text: &[u8], json: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < text.len() {
        let starts = (text[i] == b':'
            || (text[i] == b'-' && (i == 0 || text[i - 1] == b' ' || text[i - 1] == b'\n')))
            && text[i + 1] == b' ';
        if !starts {
            i += 1;
            continue;
        }
        let start = i + 2;
        let mut end = start;
        if json {
            let mut in_str = false;
            while end < text.len() {
                match text[end] {
                    b'\\' if in_str => end += 1,
                    b'"' => in_str = !in_str,
                    b',' | b'}' | b']' | b'\n' if !in_str => break,
                    _ => {}
                }
                end += 1;
            }
            end = end.min(text.len());
        } else {
            while end < text.len() && text[end] != b'\n' {
                end += 1;
            }
        }
        // A JSON collection's end is not found this way: only its members count.
        let collection = json && matches!(text.get(start), Some(b'{' | b'['));
        if end > start && !collection && !text[start..end].iter().all(u8::is_ascii_whitespace) {
            out.push((start, end));
        }
        i = start;
    }
    out
}

/// Replaces a random value with `with`, or appends it when the text has none.
fn replace_value(r: &mut Rand, text: &mut Vec<u8>, json: bool, with: &[u8]) {
    let vs = values(text, json);
    if vs.is_empty() {
        text.extend_from_slice(with);
        return;
    }
    let (s, e) = *r.pick(&vs);
    text.splice(s..e, with.iter().copied());
}

#[allow(clippy::ptr_arg, reason = "every mutation has the same signature")]
fn flip_bits(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    if t.is_empty() {
        return;
    }
    for _ in 0..r.range(1, 4) {
        let i = r.below(t.len());
        t[i] ^= 1 << r.below(8);
    }
}

const INTERESTING: &[u8] = b":-[]{}\"'&*!|>#$%@`,? \n\t\\\x00\xff\x80\xc3";

fn set_byte(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let b = *r.pick(INTERESTING);
    if t.is_empty() || r.chance(1, 2) {
        let i = r.below(t.len() + 1);
        t.insert(i, b);
    } else {
        let i = r.below(t.len());
        t[i] = b;
    }
}

fn delete_bytes(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    if t.is_empty() {
        return;
    }
    let s = r.below(t.len());
    let e = (s + r.range(1, 16) as usize).min(t.len());
    t.drain(s..e);
}

fn delete_line(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let ls = lines(t);
    if ls.is_empty() {
        return;
    }
    let (s, e) = *r.pick(&ls);
    t.drain(s..e);
}

fn duplicate_line(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let ls = lines(t);
    if ls.is_empty() {
        return;
    }
    let (s, e) = *r.pick(&ls);
    let line = t[s..e].to_vec();
    t.splice(s..s, line);
}

fn swap_lines(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let ls = lines(t);
    if ls.len() < 2 {
        return;
    }
    let a = r.below(ls.len());
    let b = r.below(ls.len());
    let (a, b) = (a.min(b), a.max(b));
    if a == b {
        return;
    }
    let mut out = Vec::with_capacity(t.len() + 1);
    for (i, &(s, e)) in ls.iter().enumerate() {
        let (s, e) = if i == a {
            ls[b]
        } else if i == b {
            ls[a]
        } else {
            (s, e)
        };
        out.extend_from_slice(&t[s..e]);
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
    }
    *t = out;
}

fn reindent_line(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let ls = lines(t);
    if ls.is_empty() {
        return;
    }
    let (s, _) = *r.pick(&ls);
    if r.chance(1, 2) {
        let pad = r.pick::<&[u8]>(&[b"  ", b" ", b"\t"]);
        t.splice(s..s, pad.iter().copied());
    } else {
        let n = t[s..].iter().take(2).take_while(|&&b| b == b' ').count();
        t.drain(s..s + n);
    }
}

fn truncate(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let n = r.below(t.len() + 1);
    t.truncate(n);
}

fn splice(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let donor = lines(cx.donor);
    if donor.is_empty() {
        return;
    }
    let a = r.below(donor.len());
    let b = (a + r.range(1, 8) as usize).min(donor.len()) - 1;
    let piece = cx.donor[donor[a].0..donor[b].1].to_vec();
    let ls = lines(t);
    let at = if ls.is_empty() { 0 } else { r.pick(&ls).0 };
    t.splice(at..at, piece);
}

/// Numbers, YAML's special scalars and tags, and expressions that probe integer edges.
const EDGE_TOKENS: &[&str] = &[
    ".inf",
    "-.inf",
    ".nan",
    "0x7fffffffffffffff",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1e309",
    "-0",
    "0o17",
    "~",
    "null",
    "yes",
    "\"\"",
    "''",
    "[]",
    "{}",
    "!!binary aGk=",
    "!!str 1",
    "!!int \"x\"",
    "!!float",
    "|\n  x",
    ">-\n  x",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "'\u{e9}'",
    "${1/0}",
    "${9223372036854775807 + 1}",
    "${-9223372036854775807 - 2}",
    "${9223372036854775807 * 2}",
    "${-9223372036854775807 // -1}",
    "${(-9223372036854775807 - 1) // -1}",
    "${(-9223372036854775807 - 1) % -1}",
    "${[1][9223372036854775807]}",
    "${[1][-1]}",
    "${\"a\"[0]}",
    "${len(1)}",
    "${1e308 * 10}",
    "${int(1e19)}",
    "${sys.now() * 1e300}",
    "${time.format(1e300)}",
    "${time.format(-1e300)}",
    "${text.substring(\"\u{e9}\", -9223372036854775807, 9223372036854775807)}",
    "${{}}",
    "${",
    "${}",
    "$${x}",
    "${x",
    "\"${x}\"",
    "*a",
    "&a 1",
    "<<: {a: 1}",
];

fn edge_token(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let tok = r.pick(EDGE_TOKENS).as_bytes().to_vec();
    replace_value(r, t, cx.json, &tok);
}

/// Replaces the inside of a `${...}` with a generated expression.
fn expression(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let starts: Vec<usize> = t
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"${")
        .map(|(i, _)| i + 2)
        .collect();
    let e = synth::expression(r, 0);
    let e = if cx.json {
        e.replace('\\', "\\\\").replace('"', "\\\"")
    } else {
        e
    };
    if starts.is_empty() {
        replace_value(r, t, cx.json, synth::quote(&format!("${{{e}}}")).as_bytes());
        return;
    }
    let s = *r.pick(&starts);
    let end = t[s..]
        .iter()
        .position(|&b| b == b'}' || b == b'\n')
        .map_or(t.len(), |p| s + p);
    t.splice(s..end, e.bytes());
}

/// Inserts a non-ASCII character at a character boundary.
fn non_ascii(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    let c = *r.pick(crate::values::ODD_CHARS);
    let mut i = r.below(t.len() + 1);
    while i < t.len() && (t[i] & 0xc0) == 0x80 {
        i += 1;
    }
    t.splice(i..i, c.bytes());
}

/// Inserts bytes that are not UTF-8: a lone continuation, a truncated sequence, an
/// encoded surrogate, an overlong form, a byte never used.
fn invalid_utf8(r: &mut Rand, t: &mut Vec<u8>, _: &Context) {
    const SEQUENCES: &[&[u8]] = &[
        b"\x80",
        b"\xc3",
        b"\xe2\x82",
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xff",
        b"\xf4\x90\x80\x80",
    ];
    let seq = *r.pick(SEQUENCES);
    let i = r.below(t.len() + 1);
    t.splice(i..i, seq.iter().copied());
}

/// Anchors a value and refers to it from another, or from itself.
fn anchor_alias(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let vs = values(t, cx.json);
    if vs.len() < 2 {
        return;
    }
    let a = r.below(vs.len());
    let b = r.below(vs.len());
    let (first, second) = (vs[a.min(b)], vs[a.max(b)]);
    match r.below(3) {
        0 => {
            t.splice(second.0..second.1, b"*anchor".iter().copied());
            t.splice(first.0..first.0, b"&anchor ".iter().copied());
        }
        1 => {
            t.splice(first.0..first.1, b"&anchor [*anchor]".iter().copied());
        }
        _ => {
            t.splice(second.0..second.1, b"*undefined".iter().copied());
        }
    }
}

/// A flow value whose anchors refer to the previous level `width` times, `levels` deep:
/// `width^levels` nodes once expanded (the "billion laughs").
pub fn bomb(width: usize, levels: usize) -> String {
    let mut parts = vec![format!("&l0 [{}]", vec!["\"lol\""; width].join(","))];
    for l in 1..levels {
        parts.push(format!(
            "&l{l} [{}]",
            vec![format!("*l{}", l - 1); width].join(",")
        ));
    }
    format!("[{}]", parts.join(", "))
}

fn alias_bomb(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let b = bomb(r.range(2, 10) as usize, r.range(2, 10) as usize);
    replace_value(r, t, cx.json, b.as_bytes());
}

/// Nested block sequences, `- - - … 1`: under a key at a deeper indent, or as the whole text.
fn deep_block(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let d = r.log_size(DEPTH_MAX) as usize;
    let leaf = *r.pick(&["1", "x", "{a: 1}", "[1]", "- 1"]);
    let vs = values(t, cx.json);
    if vs.is_empty() || r.chance(1, 4) {
        *t = format!("{}{leaf}\n", "- ".repeat(d)).into_bytes();
        return;
    }
    let (s, e) = *r.pick(&vs);
    let line_start = t[..s]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let indent = t[line_start..s]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'-')
        .count();
    let block = format!("\n{}{}{leaf}", " ".repeat(indent + 2), "- ".repeat(d));
    t.splice(s..e, block.bytes());
}

/// Nested flow collections, `[[[…1…]]]` or `{"a": {"a": …}}`, sometimes unclosed.
fn deep_flow(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let d = r.log_size(DEPTH_MAX) as usize;
    let (open, close) = *r.pick(&[("[", "]"), ("{\"a\": ", "}"), ("[{\"a\": ", "}]")]);
    let closing = if r.chance(9, 10) {
        close.repeat(d)
    } else {
        String::new()
    };
    let v = format!("{}1{closing}", open.repeat(d));
    if r.chance(1, 8) {
        *t = v.into_bytes();
    } else {
        replace_value(r, t, cx.json, v.as_bytes());
    }
}

fn huge_scalar(r: &mut Rand, t: &mut Vec<u8>, cx: &Context) {
    let n = r.log_size(SCALAR_MAX) as usize;
    let v = match r.below(7) {
        0 => format!("\"{}\"", "a".repeat(n)),
        1 => "9".repeat(n),
        2 => format!("1e{}", "9".repeat(n.min(4096))),
        3 => synth::quote(&format!("${{{}1}}", "1+".repeat(n / 2))),
        4 => format!("'{}'", "\u{e9}".repeat(n / 2)),
        5 => format!("|\n{}", "  line\n".repeat(n / 7 + 1)),
        _ => synth::quote(&format!("${{\"{}\"}}", "x".repeat(n))),
    };
    replace_value(r, t, cx.json, v.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &[u8] = b"main:\n  steps:\n    - a:\n        assign:\n          - x: ${1 + 2}\n    - b:\n        return: ${x}\n";

    fn cx() -> Context<'static> {
        Context {
            donor: YAML,
            json: false,
        }
    }

    #[test]
    fn values_are_what_follows_a_colon_or_dash() {
        let vs: Vec<&[u8]> = values(YAML, false)
            .into_iter()
            .map(|(s, e)| &YAML[s..e])
            .collect();
        assert_eq!(
            vs,
            [&b"a:"[..], b"x: ${1 + 2}", b"${1 + 2}", b"b:", b"${x}"]
        );
        let json = br#"[{"a": {"call": "x", "args": {"t": "${\"a, b\"}"}}}]"#;
        let vs: Vec<&[u8]> = values(json, true)
            .into_iter()
            .map(|(s, e)| &json[s..e])
            .collect();
        assert_eq!(vs, [&br#""x""#[..], br#""${\"a, b\"}""#]);
    }

    #[test]
    fn line_edits() {
        let mut r = Rand::new(0, 0);
        for _ in 0..50 {
            let mut t = YAML.to_vec();
            delete_line(&mut r, &mut t, &cx());
            assert_eq!(lines(&t).len(), lines(YAML).len() - 1);
            let mut t = YAML.to_vec();
            duplicate_line(&mut r, &mut t, &cx());
            assert_eq!(lines(&t).len(), lines(YAML).len() + 1);
            let mut t = YAML.to_vec();
            swap_lines(&mut r, &mut t, &cx());
            let (mut a, mut b) = (
                lines(&t)
                    .iter()
                    .map(|&(s, e)| t[s..e].to_vec())
                    .collect::<Vec<_>>(),
                lines(YAML)
                    .iter()
                    .map(|&(s, e)| YAML[s..e].to_vec())
                    .collect::<Vec<_>>(),
            );
            a.sort();
            b.sort();
            assert_eq!(a, b, "a swap keeps the lines");
            let mut t = YAML.to_vec();
            truncate(&mut r, &mut t, &cx());
            assert!(YAML.starts_with(&t));
        }
    }

    #[test]
    fn deep_block_nests_as_deep_as_asked_and_stays_yaml() {
        let mut r = Rand::new(4, 0);
        let mut saw_whole = false;
        let mut deepest = 0;
        for _ in 0..100 {
            let mut t = YAML.to_vec();
            deep_block(&mut r, &mut t, &cx());
            let text = String::from_utf8(t).unwrap();
            let line = text
                .lines()
                .max_by_key(|l| l.matches("- ").count())
                .unwrap();
            let dashes = line.matches("- ").count();
            assert!(line.trim_start().starts_with("- "), "{line}");
            assert!(dashes <= DEPTH_MAX as usize + 1);
            deepest = deepest.max(dashes);
            saw_whole |= !text.contains("main:");
        }
        assert!(saw_whole, "the bare `- - - 1` form is never made");
        assert!(deepest > 10_000, "never deeper than {deepest}");
        let mut r = Rand::new(4, 1);
        let depths: Vec<usize> = (0..200)
            .map(|_| {
                let mut t = YAML.to_vec();
                deep_flow(&mut r, &mut t, &cx());
                t.iter().filter(|&&b| b == b'[' || b == b'{').count()
            })
            .collect();
        assert!(depths.iter().any(|&d| d > 10_000), "never deep");
        assert!(depths.iter().all(|&d| d <= 2 * DEPTH_MAX as usize + 10));
    }

    #[test]
    fn bombs_and_aliases() {
        assert_eq!(bomb(2, 2), "[&l0 [\"lol\",\"lol\"], &l1 [*l0,*l0]]");
        let mut r = Rand::new(1, 0);
        let mut t = YAML.to_vec();
        alias_bomb(&mut r, &mut t, &cx());
        assert!(String::from_utf8_lossy(&t).contains("*l0"));
        let mut t = YAML.to_vec();
        anchor_alias(&mut r, &mut t, &cx());
        assert!(
            String::from_utf8_lossy(&t).contains("anchor")
                || String::from_utf8_lossy(&t).contains("*undefined")
        );
    }

    #[test]
    fn encodings() {
        let mut r = Rand::new(2, 0);
        for _ in 0..100 {
            let mut t = YAML.to_vec();
            non_ascii(&mut r, &mut t, &cx());
            assert!(
                std::str::from_utf8(&t).is_ok(),
                "non-ascii keeps UTF-8 valid"
            );
            let mut t = YAML.to_vec();
            invalid_utf8(&mut r, &mut t, &cx());
            assert!(std::str::from_utf8(&t).is_err());
        }
    }

    #[test]
    fn huge_scalars_are_big_and_bounded() {
        let mut r = Rand::new(3, 0);
        let sizes: Vec<usize> = (0..200)
            .map(|_| {
                let mut t = YAML.to_vec();
                huge_scalar(&mut r, &mut t, &cx());
                t.len()
            })
            .collect();
        assert!(sizes.iter().any(|&n| n > 100_000));
        assert!(sizes.iter().all(|&n| n < 3 * SCALAR_MAX as usize));
    }

    #[test]
    fn mutate_is_reproducible_and_names_what_it_did() {
        let run = |seed| {
            let mut r = Rand::new(seed, 0);
            let mut t = YAML.to_vec();
            let names = mutate(&mut r, &mut t, &cx());
            (t, names)
        };
        assert_eq!(run(11), run(11));
        let (_, names) = run(11);
        assert!(!names.is_empty() && names.iter().all(|n| by_name(n).is_some()));
        assert!(names.iter().filter(|n| by_name(n).unwrap().heavy).count() <= 1);
    }
}
