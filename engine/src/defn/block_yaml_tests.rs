//! The fast path's tests ([`super::block_yaml`]): what it reads, it reads as saphyr does
//! ([`super::tree::parse_with_saphyr`]), on every fixture and on generated documents; and
//! each construct of its subset does take it. Apart from it so that neither reader imports
//! the other.

use std::path::{Path, PathBuf};

use super::block_yaml::{read, read_json};
use super::tree::{Syntax, parse_with_saphyr};

/// Every file under `dir` whose extension is one of `exts`, in name order.
fn files_under(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, exts, out);
        } else if p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
            out.push(p);
        }
    }
}

/// What the fast path reads must be what saphyr reads; `true` if it read it.
fn agrees(text: &str) -> Result<bool, String> {
    match read(text) {
        None => Ok(false),
        // By their Debug text, which tells every value apart (NaN equals itself).
        Some(fast) => match parse_with_saphyr(text, Syntax::Yaml) {
            Ok(slow) if format!("{slow:?}") == format!("{fast:?}") => Ok(true),
            other => Err(format!(
                "the fast path read\n{text}\nas {fast:?}\nsaphyr: {other:?}"
            )),
        },
    }
}

/// What the JSON fast path reads must be what saphyr reads; `true` if it read it.
fn json_agrees(text: &str) -> Result<bool, String> {
    assert!(
        serde_json::from_str::<serde_json::Value>(text).is_ok(),
        "{text}"
    );
    match read_json(text) {
        None => Ok(false),
        Some(fast) => match parse_with_saphyr(text, Syntax::Json) {
            Ok(slow) if format!("{slow:?}") == format!("{fast:?}") => Ok(true),
            other => Err(format!(
                "the JSON fast path read\n{text}\nas {fast:?}\nsaphyr: {other:?}"
            )),
        },
    }
}

#[test]
fn every_json_fixture_reads_as_saphyr_reads_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    files_under(&root, &["json"], &mut files);
    assert!(!files.is_empty());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("a fixture reads");
        if serde_json::from_str::<serde_json::Value>(&text).is_err() {
            continue;
        }
        match json_agrees(&text) {
            Ok(true) => {}
            Ok(false) => panic!("{} left the JSON fast path", f.display()),
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
}

fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::{Value as J, json};
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|i| json!(i)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        prop::sample::select(vec![0.5, -0.0, 1e-7, 2.5e20, 1.0, 3.0e300]).prop_map(|f| json!(f)),
        prop::sample::select(SCALARS.to_vec()).prop_map(|s| J::String(s.to_owned())),
        "[ -~é\u{1F600}\n\t\\\"]{0,12}".prop_map(J::String),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..5)
                .prop_map(|kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// JSON as serde_json writes it, compact and pretty, reads as saphyr reads it.
#[test]
fn generated_json_reads_as_saphyr_reads_it() {
    use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
    let config = Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let read = std::cell::Cell::new(0u32);
    let result = runner.run(&json_value(), |v| {
        if !(v.is_array() || v.is_object()) {
            return Ok(());
        }
        for text in [
            v.to_string(),
            serde_json::to_string_pretty(&v).expect("it prints"),
        ] {
            if json_agrees(&text).map_err(TestCaseError::fail)? {
                read.set(read.get() + 1);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Not vacuous: most collections take the fast path.
    assert!(read.get() > 1000, "{} read", read.get());
}

#[test]
fn every_fixture_reads_as_saphyr_reads_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["fixtures", "docs", "clients", "schema"] {
        files_under(&root.join(dir), &["yaml", "yml"], &mut files);
    }
    let mut read_fast = Vec::new();
    let mut left = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("a fixture reads");
        match agrees(&text) {
            Ok(true) => read_fast.push(f),
            Ok(false) => left.push(f),
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    eprintln!(
        "{} read by the fast path, {} left to saphyr",
        read_fast.len(),
        left.len()
    );
    for f in &left {
        eprintln!("  left: {}", f.display());
    }
    // The guide's scenarios, which the bench times, are all in the subset.
    let scenarios: Vec<_> = files
        .iter()
        .filter(|f| {
            f.parent()
                .is_some_and(|p| p.ends_with("fixtures/scenarios"))
        })
        .collect();
    assert!(!scenarios.is_empty());
    for s in scenarios {
        assert!(read_fast.contains(&s), "{} left the fast path", s.display());
    }
}

/// Scalars as they may be written, the awkward ones included.
const SCALARS: &[&str] = &[
    "x",
    "a b",
    "${x + 1}",
    "${a: 1}",
    "a${f}",
    "http://h:80/p",
    "1",
    "-1",
    "+1",
    "1.5",
    "1e3",
    "0x1F",
    "0o7",
    "1_000",
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "null",
    "Null",
    "true",
    "True",
    "FALSE",
    "yes",
    "é",
    "日本",
    "a #b",
    "a#b",
    "a:b",
    "a: b",
    "- a",
    "-a",
    "?a",
    ":a",
    "#a",
    "&a",
    "*a",
    "!a",
    "|",
    ">",
    "%a",
    "@a",
    "`a",
    "a,b",
    "a]",
    "[a",
    "{a",
    "a}",
    "\"q\"",
    "\"q\\\"r\"",
    "\"\\u00e9\\n\\t\\/\"",
    "\"\\x41\"",
    "\"\\ud800\"",
    "'s'",
    "'it''s'",
    "'a: b'",
    "\"a: b\"",
    "\"\"",
    "''",
    "\"unclosed",
    "'unclosed",
    "[]",
    "{}",
    "[a, b]",
    "[a,b]",
    "[ a , b ]",
    "[a, ]",
    "[a, [b, c]]",
    "[\"x\", 'y', 1]",
    "{a: 1}",
    "{a:1}",
    "{\"a\":1}",
    "{'a': [1, 2]}",
    "{a: 1, a: 2}",
    "{a: {b: c}}",
    "[a: b]",
    "[${x}]",
    "{a}",
    "[a #c]",
    "[a] #c",
    "x #c",
    "\"x\" #c",
    "\"x\"y",
    "x  ",
    "a\tb",
    "x\r",
    "inf",
    "nan",
    "infinity",
    "Infinity",
    "NaN",
    "e5",
    "E",
    "on",
    "Yes",
    "$",
    "${",
    "a:",
    "ab:",
    "x-",
];
const KEYS: &[&str] = &[
    "k", "main", "a b", "1", "true", "\"q\"", "'s'", "\"a\":", "${k}", "a${k}", "k#", "-k", "é",
    "[k]", "{k}", "k,", "?k", "null", "1.5", "k ",
];

#[derive(Clone, Debug)]
enum Doc {
    Scalar(usize),
    Seq(Vec<Doc>),
    Map(Vec<(usize, Doc)>),
}

fn doc() -> impl proptest::strategy::Strategy<Value = Doc> {
    use proptest::prelude::*;
    let leaf = (0..SCALARS.len()).prop_map(Doc::Scalar);
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Doc::Seq),
            proptest::collection::vec((0..KEYS.len(), inner), 1..4).prop_map(Doc::Map),
        ]
    })
}

/// `d` written in block style at `indent`, with `style` choosing among the ways one
/// structure may be written (compact entries, lists at their key's indent, comments).
fn render(d: &Doc, indent: usize, style: &mut impl Iterator<Item = u8>, out: &mut String) {
    let pad = " ".repeat(indent);
    match d {
        Doc::Scalar(i) => {
            out.push_str(&pad);
            out.push_str(SCALARS[*i]);
            out.push('\n');
        }
        Doc::Seq(items) => {
            for item in items {
                let s = style.next().unwrap_or(0);
                match item {
                    Doc::Scalar(i) => {
                        out.push_str(&format!("{pad}- {}\n", SCALARS[*i]));
                    }
                    Doc::Map(entries) if s % 3 == 0 => {
                        // `- key: value` with the map's next keys under the first.
                        let (k, v) = &entries[0];
                        out.push_str(&format!("{pad}- "));
                        let mut first = String::new();
                        render(
                            &Doc::Map(vec![(*k, v.clone())]),
                            indent + 2,
                            style,
                            &mut first,
                        );
                        out.push_str(first.trim_start());
                        for (k, v) in &entries[1..] {
                            render(&Doc::Map(vec![(*k, v.clone())]), indent + 2, style, out);
                        }
                    }
                    _ => {
                        out.push_str(&format!("{pad}-{}\n", if s % 5 == 1 { " # c" } else { "" }));
                        render(item, indent + 2 + usize::from(s % 7 == 2), style, out);
                    }
                }
            }
        }
        Doc::Map(entries) => {
            for (k, v) in entries {
                let s = style.next().unwrap_or(0);
                match v {
                    Doc::Scalar(i) => {
                        let gap = if s % 4 == 0 { "   " } else { " " };
                        out.push_str(&format!("{pad}{}:{gap}{}\n", KEYS[*k], SCALARS[*i]));
                    }
                    Doc::Seq(_) if s % 3 == 0 => {
                        out.push_str(&format!("{pad}{}:\n", KEYS[*k]));
                        render(v, indent, style, out);
                    }
                    _ => {
                        let comment = if s % 5 == 1 { " # c" } else { "" };
                        out.push_str(&format!("{pad}{}:{comment}\n", KEYS[*k]));
                        if s % 6 == 3 {
                            out.push_str("\n# between\n");
                        }
                        render(v, indent + 2 + usize::from(s % 7 == 2), style, out);
                    }
                }
            }
        }
    }
}

/// A document the fast path reads, it reads as saphyr does; with one character
/// changed, too (a space, a dash, a colon, a quote, a tab, a newline, a control or
/// Unicode line character anywhere). The
/// runner's seed is fixed, so a failure replays; a failure shrinks to a small document.
#[test]
fn generated_documents_read_as_saphyr_reads_them() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let config = Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let input = (
        doc(),
        proptest::collection::vec(0u8..210, 0..64),
        proptest::option::of((0usize..4096, 0usize..12)),
    );
    let result = runner.run(&input, |(d, style, edit)| {
        let mut text = String::new();
        render(&d, 0, &mut style.into_iter().cycle(), &mut text);
        if let Some((at, c)) = edit {
            let at = at % (text.len() + 1);
            if text.is_char_boundary(at) {
                let edits = [
                    ' ', '-', ':', '"', '\'', '\t', '\n', '#', '\0', '\r', '\u{85}', '\u{feff}',
                ];
                text.insert(at, edits[c]);
            }
        }
        agrees(&text).map(|_| ()).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The generated documents are not all left to saphyr (which would make the property
/// above hold of nothing): with the runner's fixed seed, most unedited ones are read.
#[test]
fn most_generated_documents_take_the_fast_path() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut fast, n) = (0, 500);
    for _ in 0..n {
        let d = doc().new_tree(&mut runner).expect("a document").current();
        let mut text = String::new();
        render(
            &d,
            0,
            &mut [0u8, 1, 2, 3, 4, 5, 6].into_iter().cycle(),
            &mut text,
        );
        if agrees(&text).expect("it agrees") {
            fast += 1;
        }
    }
    assert!(fast * 4 >= n, "{fast} of {n} took the fast path");
}

/// Each construct of the subset is read by the fast path (so that reading it is not
/// quietly left to saphyr), as saphyr reads it.
#[test]
fn each_construct_of_the_subset_takes_the_fast_path() {
    for text in [
        "k: v\n",
        "# c\nk: v # c\nl: w#x\n",
        "k:\n  - a\n  - b\n",
        "k:\n- a\n- b\nl: 1\n",
        "- a: 1\n  b: 2\n- c\n",
        "-\n  a: 1\n- # c\n  - b\n",
        "\"k\": 'it''s'\n'l': \"m\"\n",
        "k: \"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u00e9\"\n",
        "k: [a, [b, c], {d: 1, 'e': \"f\"}]\n",
        "k: {}\nl: []\nm: [ a , b ]\n",
        "é: ü\nk: 日本 x # c\nl: [é, a, {ü: b}]\n",
        "k: -1\nl: 1.5\nm: true\nn: ~\no: 0x1F\np: inf\nq: ${a + 1}\n",
        "k:\n\n  # between\n  a: 1\n\n",
        "k:   v   \n1: a\ntrue: b\n",
        "k: {\"a\":1}\n",
    ] {
        assert_eq!(agrees(text), Ok(true), "{text}");
    }
    for text in [
        "{\n  \"a\": [\n    1,\n    \"b\"\n  ],\n  \"c\": {}\n}\n",
        "[{\"a\":1}, {\"b\":\"é\\u00fc\"}, -2.5e3, true, null]",
    ] {
        assert_eq!(json_agrees(text), Ok(true), "{text}");
    }
}

#[test]
fn words_that_look_like_numbers_read_as_saphyr_reads_them() {
    for word in [
        "inf", "nan", "infinity", "e5", "Yes", "on", "$", "x1", "null", "~", "0x1F",
    ] {
        let text = format!("k: {word}\nl: [{word}]\n");
        assert_eq!(agrees(&text), Ok(true), "{text}");
    }
}

#[test]
fn what_the_subset_leaves_goes_to_saphyr() {
    for text in [
        "a: |\n  b\n",
        "a: &x 1\nb: *x\n",
        "--- \na: 1\n",
        "a: !!str 1\n",
        "a:\n",
        "a: b\n  c\n",
        "a:\tb\n",
        "a: [1,\n 2]\n",
        "a: 1\na: 2\n",
        "a: '\0'\n",
        "a: \"b\u{7f}\"\n",
        "a: b\u{2028}c\n",
        "a: \u{feff}b\n",
        "a: 1\n...\n",
        "...\na: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n%b\n",
        "x\n",
        "- - a\n",
        "? a\n: b\n",
    ] {
        assert!(read(text).is_none(), "{text:?}");
        // And saphyr's answer is the one given.
        assert_eq!(
            crate::defn::tree::parse(text, Syntax::Yaml),
            parse_with_saphyr(text, Syntax::Yaml)
        );
    }
}
