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

/// SPEC rule ids that no test cites yet, each waiting on an issue. FIXME: empty this list.
const NOT_YET_CITED: &[&str] = &[
    // CB-3 (a callback map from another execution) is checked by the interpreter: issue 3.
    "CB-3",
];

#[test]
fn every_callback_rule_is_cited_by_a_test() {
    let spec_path = spec_path();
    let spec = fs::read_to_string(&spec_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); set WFSIM_SPEC to the path of SPEC.md",
            spec_path.display()
        )
    });
    let ids = rule_ids(&spec, "CB-");
    assert!(ids.len() >= 13, "SPEC.md lists only {ids:?}");
    let mut sources = String::new();
    for dir in ["engine", "conformance"] {
        collect_rs(&project_root().join(dir), &mut sources);
    }
    for id in &ids {
        let n = &id["CB-".len()..];
        let cited =
            sources.contains(&format!("fn cb_{n}_")) || sources.contains(&format!("(\"{id}\","));
        if NOT_YET_CITED.contains(&id.as_str()) {
            assert!(!cited, "{id} is cited now: remove it from NOT_YET_CITED");
        } else {
            assert!(
                cited,
                "no test is named `cb_{n}_…` and no conformance rule is {id}"
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

fn collect_rs(dir: &Path, out: &mut String) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

#[test]
fn rule_ids_are_read_from_bold_definitions() {
    let ids = rule_ids("- **CB-1** a\n- **CB-12** b **CB-x** see CB-3", "CB-");
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["CB-1", "CB-12"]);
}
