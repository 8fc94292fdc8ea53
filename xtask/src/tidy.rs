//! Tidy checks: properties of the code base that no compiler enforces, run as tests.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project_root;

/// Every crate `wfsim-engine` may build on. None of them can read a clock, open a socket
/// or draw from the OS random source; a new dependency must be judged and added here.
const ENGINE_DEPENDENCIES: &[&str] = &[
    // The saphyr YAML parser and its support; hashbrown's foldhash seeds from a stack
    // address only (its `std` feature, which reads the clock, is off) and hashlink keeps
    // insertion order, so no hash seed can reach an output.
    "arraydeque",
    "foldhash",
    "hashbrown",
    "hashlink",
    "num-traits",
    "ordered-float",
    "saphyr",
    "saphyr-parser",
    "thiserror",
    "thiserror-impl",
    // Proc-macro build dependencies of thiserror: they run at compile time only.
    "proc-macro2",
    "quote",
    "syn",
    "unicode-ident",
    // serde_json's `preserve_order` (reports keep their documented key order).
    "equivalent",
    "indexmap",
    // Encodings and text.
    "base64",
    "form_urlencoded",
    "itoa",
    "memchr",
    "percent-encoding",
    "regex",
    "regex-automata",
    "regex-syntax",
    "serde_core",
    "serde_json",
    "zmij",
    // Seeded randomness and UUID formatting, without any OS source.
    "ppv-lite86",
    "rand_chacha",
    "rand_core",
    "uuid",
    "zerocopy",
    "wfsim-engine",
];

#[test]
fn engine_reaches_no_clock_socket_or_os_randomness() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--package", "wfsim-engine", "--edges", "normal"])
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(project_root())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|name| !ENGINE_DEPENDENCIES.contains(&name.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "wfsim-engine now depends on {unexpected:?}: check that none can reach a clock, a \
         socket or OS randomness, then add them to ENGINE_DEPENDENCIES in {}",
        file!()
    );
}

/// SPEC rule ids that nothing cites yet, each waiting on an issue. FIXME: empty this list.
const NOT_YET_CITED: &[&str] = &[];

fn read_spec() -> String {
    let spec_path = spec_path();
    fs::read_to_string(&spec_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); set WFSIM_SPEC to the path of SPEC.md",
            spec_path.display()
        )
    })
}

/// Every rule of SPEC.md (CB, RT, EX) is cited: by a test named `cb_N_…` (`rt_N_…`,
/// `ex_N_…`), by a conformance rule row, or by a scenario's `covers:` list.
#[test]
fn every_spec_rule_is_cited_by_a_test_or_scenario() {
    let spec = read_spec();
    let mut sources = String::new();
    for dir in ["engine", "conformance", "fixtures/scenarios"] {
        collect(&project_root().join(dir), &mut sources);
    }
    let mut total = 0;
    for prefix in ["CB-", "RT-", "EX-"] {
        let ids = rule_ids(&spec, prefix);
        assert!(!ids.is_empty(), "SPEC.md lists no {prefix} rules");
        total += ids.len();
        for id in &ids {
            let n = &id[prefix.len()..];
            let snake = format!("fn {}_{n}_", prefix[..2].to_ascii_lowercase());
            let cited = sources.contains(&snake)
                || sources.contains(&format!("(\"{id}\","))
                || covers_mention(&sources, id);
            if NOT_YET_CITED.contains(&id.as_str()) {
                assert!(!cited, "{id} is cited now: remove it from NOT_YET_CITED");
            } else {
                assert!(
                    cited,
                    "nothing cites {id}: no test `{snake}…`, rule row or scenario"
                );
            }
        }
    }
    assert!(total >= 21, "only {total} rules found in SPEC.md");
}

/// `covers: [CB-1, CB-6]` lines of scenarios.
fn covers_mention(sources: &str, id: &str) -> bool {
    sources.lines().any(|l| {
        l.trim_start().starts_with("covers:")
            && l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| w == id)
    })
}

/// The conformance report's list of rules scenarios must cover is SPEC's, less CB-13
/// (HTTP responses, a live-mode rule).
#[test]
fn scenario_rules_match_spec() {
    let spec = read_spec();
    let text = fs::read_to_string(project_root().join("conformance/src/suite.rs")).unwrap();
    for prefix in ["CB-", "RT-", "EX-"] {
        for id in rule_ids(&spec, prefix) {
            let listed = text.contains(&format!("\"{id}\""));
            assert_eq!(
                listed,
                id != "CB-13",
                "{id} in SCENARIO_RULES of conformance/src/suite.rs"
            );
        }
    }
}

fn spec_path() -> PathBuf {
    match std::env::var_os("WFSIM_SPEC") {
        Some(p) => PathBuf::from(p),
        None => project_root().join("../shared/SPEC.md"),
    }
}

/// Ids like `CB-12` where SPEC.md defines them: `- **CB-12**`.
fn rule_ids(spec: &str, prefix: &str) -> BTreeSet<String> {
    spec.split("**")
        .filter(|s| {
            s.strip_prefix(prefix)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_owned)
        .collect()
}

/// Appends the text of every `.rs` and `.yaml` file under `dir`, in path order.
fn collect(dir: &Path, out: &mut String) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "yaml") {
            out.push_str(&fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

#[test]
fn rule_ids_are_read_from_bold_definitions() {
    let ids = rule_ids("- **CB-1** a\n- **CB-12** b **CB-x** see CB-3", "CB-");
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["CB-1", "CB-12"]);
}
