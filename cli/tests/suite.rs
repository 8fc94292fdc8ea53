//! `wfsim test`, `wfsim merge` and `wfsim explore --shard` from outside, on
//! `fixtures/suite/` (a team's repository: 12 scenarios, 3 explore files, and `failing/`
//! with 2 that fail on purpose), each run on a copy in a scratch folder so that paths in
//! the output are relative and reproducers land there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A scratch folder holding `suite/` (a copy of `fixtures/suite`), the one workflow of
/// `fixtures/workflows` it names, and `fixtures/.wfsimignore` (which leaves
/// `suite/failing/` out of a folder's run).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wfsim-suite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&fixtures().join("suite"), &dir.join("suite"));
    std::fs::copy(fixtures().join(".wfsimignore"), dir.join(".wfsimignore")).unwrap();
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    std::fs::copy(
        fixtures().join("workflows/basic_callback.yaml"),
        dir.join("workflows/basic_callback.yaml"),
    )
    .unwrap();
    dir
}

fn wfsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("wfsim runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The text with each wall time (`12 ms`, `1.3 s` at a line's end) replaced by `[time]`:
/// the only part of the output that is not a function of the files.
fn untimed(s: &str) -> String {
    s.lines()
        .map(|l| {
            let trimmed = l.trim_end();
            for unit in [" ms", " s"] {
                if let Some(head) = trimmed.strip_suffix(unit) {
                    if let Some((before, n)) = head.rsplit_once("  ") {
                        if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.') {
                            return format!("{before}  [time]");
                        }
                    }
                }
            }
            trimmed.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_suite_passes_with_a_line_per_file_and_a_summary() {
    let dir = scratch("pass");
    let out = wfsim(&dir, &["test", "suite"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    insta::assert_snapshot!(untimed(&String::from_utf8_lossy(&out.stdout)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The files that fail on purpose: exit 1, each with its first broken expectation at
/// `file:line:column` (a scenario) or `file:line` with the reproducer (an explore file).
#[test]
fn failures_name_the_broken_expectation_and_the_reproducer() {
    let dir = scratch("fail");
    let out = wfsim(&dir, &["test", "suite/failing"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    insta::assert_snapshot!(untimed(&String::from_utf8_lossy(&out.stdout)));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let replay = stdout
        .split("replay: wfsim run ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .expect("a replay command");
    assert!(dir.join(replay).is_file(), "{replay}");
    // A whole-folder run leaves out what .wfsimignore names, and the reproducers under
    // explore-failures/ (written by the run above: they fail by design).
    let ignored = wfsim(&dir, &["test"]);
    assert_eq!(ignored.status.code(), Some(0), "{}", text(&ignored));
    assert!(
        text(&ignored).contains("15 files: 15 passed"),
        "{}",
        text(&ignored)
    );
    std::fs::remove_file(dir.join(".wfsimignore")).unwrap();
    let whole = wfsim(&dir, &["test", "."]);
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole));
    assert!(
        text(&whole).contains("17 files: 15 passed, 2 failed, 0 invalid"),
        "{}",
        text(&whole)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exit 2 names every invalid file, not just the first; the valid ones still run.
#[test]
fn every_invalid_file_is_named_with_its_place() {
    let dir = scratch("invalid");
    std::fs::write(
        dir.join("suite/bad_key.yaml"),
        "workflow: workflows/order.yaml\nrequets: []\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("suite/no_workflow.yaml"),
        "workflow: workflows/nowhere.yaml\n",
    )
    .unwrap();
    std::fs::write(dir.join("suite/broken.yaml"), "workflow: [\n").unwrap();
    let out = wfsim(&dir, &["test", "suite", "--filter", ".yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("suite/bad_key.yaml:2:1: unknown key 'requets' in a scenario"),
        "{t}"
    );
    assert!(
        t.contains(
            "suite/no_workflow.yaml:1:11: cannot read the workflow 'workflows/nowhere.yaml'"
        ),
        "{t}"
    );
    assert!(t.contains("INVALID suite/broken.yaml"), "{t}");
    assert!(t.contains("3 invalid"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--json` is one object with nothing from the wall clock: the same bytes for any
/// `--jobs`; `--filter` and `--seeds` choose what runs.
#[test]
fn json_is_the_same_for_any_jobs_and_options_choose_what_runs() {
    let dir = scratch("json");
    let run = |args: &[&str]| {
        let mut all = vec!["test", "suite", "suite/failing", "--json"];
        all.extend_from_slice(args);
        let out = wfsim(&dir, &all);
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
        out.stdout
    };
    let one = run(&["--jobs", "1"]);
    assert_eq!(one, run(&["--jobs", "3"]));
    let j: serde_json::Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(j["summary"]["files"], 17);
    assert_eq!(j["summary"]["failed"], 2);
    assert_eq!(j["passed"], false);
    let files = |j: &serde_json::Value| -> Vec<String> {
        j["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["file"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut sorted = files(&j);
    sorted.sort();
    assert_eq!(files(&j), sorted, "ordered by path");
    let filtered: serde_json::Value = serde_json::from_slice(&run(&["--filter", "fraud"])).unwrap();
    assert_eq!(
        files(&filtered),
        [
            "suite/fraud_down.yaml",
            "suite/fraud_explore.yaml",
            "suite/fraud_low.yaml"
        ]
    );
    let seeded: serde_json::Value =
        serde_json::from_slice(&run(&["--filter", "explore", "--seeds", "7"])).unwrap();
    for f in seeded["files"].as_array().unwrap() {
        assert_eq!(f["report"]["seeds"]["run"], 7, "{}", f["file"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The JUnit XML has the common schema's structure: `testsuites` > `testsuite` >
/// `testcase` (> `failure` | `error` | `skipped`), each with its required attributes and
/// counts that agree; one case per scenario and per explore property; a failure carries
/// its message and the reproducer's path.
#[test]
fn junit_has_the_common_schema_structure() {
    let dir = scratch("junit");
    let out = wfsim(
        &dir,
        &["test", "suite", "suite/failing", "--junit", "junit.xml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let num = |n: roxmltree::Node, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("{} without {a}", n.tag_name().name()))
            .parse()
            .unwrap()
    };
    let mut cases = Vec::new();
    let (mut tests, mut failures) = (0, 0);
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        for a in ["name", "tests", "failures", "errors", "skipped", "time"] {
            assert!(suite.attribute(a).is_some(), "testsuite without {a}");
        }
        let suite_cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(num(suite, "tests"), suite_cases.len());
        let mut suite_failures = 0;
        for case in suite_cases {
            assert_eq!(case.tag_name().name(), "testcase");
            for a in ["name", "classname", "time"] {
                assert!(case.attribute(a).is_some(), "testcase without {a}");
            }
            for child in case.children().filter(|n| n.is_element()) {
                let kind = child.tag_name().name();
                assert!(["failure", "error", "skipped"].contains(&kind), "{kind}");
                assert!(
                    child.attribute("message").is_some(),
                    "{kind} without message"
                );
                if kind == "failure" {
                    suite_failures += 1;
                    let file = case.attribute("file").expect("a file");
                    let dotted = file.trim_end_matches(".yaml").replace('/', ".");
                    assert_eq!(case.attribute("classname"), Some(dotted.as_str()));
                    assert!(child.attribute("type").is_some());
                    cases.push((
                        case.attribute("name").unwrap().to_owned(),
                        child.attribute("message").unwrap().to_owned(),
                        child.text().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        assert_eq!(num(suite, "failures"), suite_failures);
        tests += num(suite, "tests");
        failures += suite_failures;
    }
    assert_eq!(num(root, "tests"), tests);
    assert_eq!(num(root, "failures"), failures);
    // 12 scenarios, 2 in failing/ (1 scenario, 1 explore with 1 property), the explore
    // files' properties (4, 4 and 3) and each explore file's contract case.
    assert_eq!(tests, 12 + 1 + (4 + 1) + (4 + 1) + (3 + 1) + (1 + 1));
    assert_eq!(failures, 2, "{cases:?}");
    let (_, message, _) = cases
        .iter()
        .find(|(n, _, _)| n.ends_with("order_wrong_result.yaml"))
        .expect("the scenario's case");
    assert!(
        message.starts_with("suite/failing/order_wrong_result.yaml:9:11: result"),
        "{message}"
    );
    let (name, _, body) = cases
        .iter()
        .find(|(n, _, _)| n.starts_with("always"))
        .expect("the property's case");
    assert!(name.contains("result.status == \"approved\""), "{name}");
    assert!(
        body.contains("reproducer: explore-failures/order_always_approved-always1-seed"),
        "{body}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// lcov of every workflow, merged over every scenario and explore seed.
#[test]
fn lcov_merges_step_coverage_of_every_workflow() {
    let dir = scratch("lcov");
    let out = wfsim(
        &dir,
        &[
            "test",
            "suite",
            "suite/failing",
            "--lcov",
            "cov.info",
            "--filter",
            "order_",
        ],
    );
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
    let lcov = std::fs::read_to_string(dir.join("cov.info")).unwrap();
    let records: Vec<&str> = lcov
        .split("end_of_record\n")
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(records.len(), 1, "one workflow: {lcov}");
    assert!(
        records[0].starts_with("TN:wfsim-test\nSF:suite/workflows/order.yaml\n"),
        "{lcov}"
    );
    let hits = |line: u32| -> u64 {
        let tag = format!("DA:{line},");
        lcov.lines()
            .find_map(|l| l.strip_prefix(&tag))
            .unwrap_or_else(|| panic!("no DA for {line}: {lcov}"))
            .parse()
            .unwrap()
    };
    // `create` (line 5) runs once per scenario and once per explore seed: 5 scenarios in
    // suite/, 1 in failing/, 60 and 30 seeds.
    assert_eq!(hits(5), 5 + 1 + 60 + 30);
    // The `rejected` step (line 34): one scenario, and the seeds where a rejection came.
    assert!(hits(34) > 1, "{lcov}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// HT-10: a child workflow's steps are covered in a record of their own, in `--lcov` and
/// `--json`, counted over every scenario and explore seed that started it (a computed name
/// too), and a sharded explore merges to the same.
#[test]
fn children_are_covered_in_their_own_record() {
    let dir = scratch("children-lcov");
    let out = wfsim(
        &dir,
        &[
            "test", "suite", "--filter", "batch_", "--lcov", "cov.info", "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lcov = std::fs::read_to_string(dir.join("cov.info")).unwrap();
    let record = |file: &str| -> String {
        lcov.split("end_of_record\n")
            .find(|r| r.contains(&format!("SF:{file}\n")))
            .unwrap_or_else(|| panic!("no record of {file}: {lcov}"))
            .to_owned()
    };
    let child = record("suite/workflows/approval.yaml");
    record("suite/workflows/batch.yaml");
    record("suite/workflows/batch_async.yaml");
    // `create` (line 6) of the child: 4 scenarios start it (one by a computed name), and
    // each of batch_explore's 20 seeds; `rejected` (line 25) only where a rejection came.
    assert!(child.contains("DA:6,24\n"), "{child}");
    assert!(child.contains("DA:25,"), "{child}");
    assert!(!child.contains("DA:25,0\n"), "{child}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let approved = &j["files"][0];
    assert_eq!(approved["file"], "suite/batch_approved.yaml");
    assert_eq!(
        approved["children"][0]["workflow"],
        "suite/workflows/approval.yaml"
    );
    let points = approved["children"][0]["coverage"].as_array().unwrap();
    let passes = |what: &str| {
        points
            .iter()
            .find(|p| p["what"] == what)
            .unwrap_or_else(|| panic!("no {what}: {points:?}"))["seeds"]
            .clone()
    };
    assert_eq!(passes("step 'wait'"), 1);
    assert_eq!(passes("step 'rejected'"), 0);
    // A workflow that starts no child has no `children`.
    let order = wfsim(&dir, &["test", "suite/order_approved.yaml", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&order.stdout).unwrap();
    assert!(j["files"][0].get("children").is_none(), "{j}");

    let file = "suite/batch_explore.yaml";
    let whole = wfsim(&dir, &["explore", file, "--json", "--lcov", "whole.info"]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole));
    let j: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    let kids = &j["coverage"]["children"];
    assert_eq!(kids[0]["workflow"], "suite/workflows/approval.yaml", "{j}");
    assert_eq!(kids[0]["points"][0]["seeds"], 20, "{j}");
    let info = std::fs::read_to_string(dir.join("whole.info")).unwrap();
    assert!(
        info.contains("SF:suite/workflows/batch.yaml\n")
            && info.contains("SF:suite/workflows/approval.yaml\n"),
        "{info}"
    );
    let names = shards(&dir, &["explore", file], 3, "kid");
    let mut args = vec!["merge", "--json", "--lcov", "merged.info"];
    args.extend(names.iter().map(String::as_str));
    let merged = wfsim(&dir, &args);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged));
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The page without its wall times (`<span class="wall" …>12 ms</span>`), the only part
/// that is not a function of the files.
fn without_wall_times(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(i) = rest.find("<span class=\"wall\"") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("</span>").expect("a closed span") + i + "</span>".len();
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `wfsim test --html OUT` (issue #27): one self-contained page: the summary, each file
/// linked to its report (the run page of a scenario, the explore page of an explore file),
/// nothing fetched, the same for any `--jobs` but its wall times.
#[test]
fn html_is_one_page_linking_each_file_to_its_report() {
    let dir = scratch("html");
    let out = wfsim(
        &dir,
        &[
            "test",
            "suite",
            "suite/failing",
            "--html",
            "out.html",
            "--jobs",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let page = std::fs::read_to_string(dir.join("out.html")).unwrap();
    // Self-contained: no attribute reaches outside the page, and its CSP forbids fetching.
    assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    for attr in ["src=", "href=", "url(", "@import", "action="] {
        for (i, _) in page.match_indices(attr) {
            let after = &page[i + attr.len()..];
            assert!(
                after.starts_with("\"#") || after.starts_with("#"),
                "{attr} reaches outside the page: {}",
                &page[i..(i + 80).min(page.len())]
            );
        }
    }
    // A summary row per file, in the text's order, each linking its report's article.
    let files = [
        "suite/batch_approved.yaml",
        "suite/failing/order_always_approved.yaml",
        "suite/failing/order_wrong_result.yaml",
        "suite/order_twice.yaml",
    ];
    let listed = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("ok") || l.starts_with("FAILED"))
        .count();
    for k in 0..listed {
        assert!(
            page.contains(&format!("href=\"#f{k}\"")),
            "no link to file {k}"
        );
        assert!(
            page.contains(&format!("<article class=\"file\" id=\"f{k}\">")),
            "no report {k}"
        );
    }
    assert!(!page.contains(&format!("id=\"f{listed}\"")));
    let row = |file: &str| -> String {
        let i = page
            .find(&format!(">{file}</a>"))
            .unwrap_or_else(|| panic!("no row of {file}"));
        let start = page[..i].rfind("<tr").unwrap();
        let end = i + page[i..].find("</tr>").unwrap();
        page[start..end].to_owned()
    };
    let wrong = row(files[2]);
    assert!(
        wrong.contains("class=\"broken\"") && wrong.contains("FAILED"),
        "{wrong}"
    );
    // The first failure at its file:line, and the file's run page with the failure.
    assert!(
        wrong.contains("suite/failing/order_wrong_result.yaml:9:11: result.order: 7, expected 8"),
        "{wrong}"
    );
    let explore = row(files[1]);
    assert!(
        explore.contains("suite/failing/order_always_approved.yaml:10: always"),
        "{explore}"
    );
    assert!(row(files[0]).contains("class=\"held\""));
    let article = |file: &str| -> String {
        let id = row(file)
            .split("href=\"#")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let start = page
            .find(&format!("<article class=\"file\" id=\"{id}\">"))
            .unwrap();
        let end = start + page[start..].find("</article>").unwrap();
        page[start..end].to_owned()
    };
    let run = article(files[2]);
    assert!(
        run.contains("Expectations that failed") && run.contains("Timeline"),
        "{run}"
    );
    // Its ids carry the file's prefix, and its links point at them.
    let id = row(files[2])
        .split("href=\"#")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(run.contains(&format!("id=\"{id}-L1\"")), "{run}");
    // A parent's pages show its child (HT-10): the run page a section per child execution,
    // the explore page the child workflow's coverage.
    let parent = article(files[0]);
    assert!(parent.contains("Child 1: approval"), "{parent}");
    let batch = article("suite/batch_explore.yaml");
    assert!(
        batch.contains("Coverage: suite/workflows/approval.yaml (a child workflow)"),
        "{batch}"
    );
    let exp = article(files[1]);
    assert!(
        exp.contains("Properties") && exp.contains("Shrunk schedule"),
        "{exp}"
    );
    // Deterministic but for the wall times, whatever --jobs.
    let again = wfsim(
        &dir,
        &[
            "test",
            "suite",
            "suite/failing",
            "--html",
            "again.html",
            "--jobs",
            "2",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    let second = std::fs::read_to_string(dir.join("again.html")).unwrap();
    assert_eq!(without_wall_times(&second), without_wall_times(&page));
    assert!(page.contains("<span class=\"wall\""));
    // A shard has not run every file: refused with the reason.
    let shard = wfsim(
        &dir,
        &["test", "suite", "--shard", "1/2", "--html", "x.html"],
    );
    assert_eq!(shard.status.code(), Some(2));
    assert!(text(&shard).contains("--html"), "{}", text(&shard));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--update` writes what happened into `expect:`, printing the diff first, keeping
/// comments and layout; the file then passes; a passing file is left alone.
#[test]
fn update_writes_the_observed_outcome_and_keeps_the_layout() {
    let dir = scratch("update");
    let s = dir.join("suite/new.yaml");
    std::fs::write(
        &s,
        "# A manager who answers late, twice.\nworkflow: workflows/order.yaml\nargument: {order: 3}   # the third\nrequests:\n  - at: 3700   # too late\n    endpoint: 0\n  - {at: 10, endpoint: 0, body: '{\"approved\": false}', headers: {Content-Type: application/json}, expect: 500}\nexpect:\n  # a guess\n  state: FAILED\n  result:\n    status: approved\n",
    )
    .unwrap();
    let before_other = std::fs::read_to_string(dir.join("suite/order_late.yaml")).unwrap();
    let out = wfsim(
        &dir,
        &["test", "suite", "--filter", "suite/new", "--update"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    insta::assert_snapshot!(untimed(&String::from_utf8_lossy(&out.stdout)));
    insta::assert_snapshot!("update_file", std::fs::read_to_string(&s).unwrap());
    let again = wfsim(&dir, &["test", "suite", "--update"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        !text(&again).contains("--- suite/new.yaml"),
        "nothing more to write: {}",
        text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("suite/order_late.yaml")).unwrap(),
        before_other
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn shards(dir: &Path, args: &[&str], n: u32, prefix: &str) -> Vec<String> {
    (1..=n)
        .map(|k| {
            let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
            all.extend([
                "--shard".to_owned(),
                format!("{k}/{n}"),
                "--json".to_owned(),
            ]);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            let out = wfsim(dir, &refs);
            assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
            let name = format!("{prefix}{k}.json");
            std::fs::write(dir.join(&name), &out.stdout).unwrap();
            name
        })
        .collect()
}

/// Four shards merged print the unsharded `--json` byte for byte, with its exit code; the
/// text, JUnit and lcov are one machine's too.
#[test]
fn four_shards_merged_are_the_unsharded_run() {
    let dir = scratch("shards");
    let whole = wfsim(
        &dir,
        &[
            "test",
            "suite",
            "suite/failing",
            "--json",
            "--lcov",
            "whole.info",
        ],
    );
    assert_eq!(whole.status.code(), Some(1));
    let names = shards(&dir, &["test", "suite", "suite/failing"], 4, "shard");
    let mut args = vec!["merge", "--lcov", "merged.info", "--json"];
    args.extend(names.iter().map(String::as_str));
    let merged = wfsim(&dir, &args);
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged));
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("merged.info")).unwrap(),
        std::fs::read_to_string(dir.join("whole.info")).unwrap()
    );
    let text_whole = wfsim(&dir, &["test", "suite", "suite/failing"]);
    let mut args = vec!["merge"];
    args.extend(names.iter().map(String::as_str));
    let text_merged = wfsim(&dir, &args);
    assert_eq!(
        untimed(&String::from_utf8_lossy(&text_merged.stdout)),
        untimed(&String::from_utf8_lossy(&text_whole.stdout)).replace("  [time]", "")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A shard does not judge `sometimes` (it may hold only in another shard's seeds); it
/// fails only for what it can judge alone. Merged, `wfsim explore` shards are the whole.
#[test]
fn explore_shards_leave_sometimes_to_the_merge() {
    let dir = scratch("explore-shards");
    let file = "suite/order_explore.yaml";
    let whole = wfsim(&dir, &["explore", file, "--json"]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole));
    // 12 shards of 60 seeds: 5 seeds each, some without an expired order.
    let names = shards(&dir, &["explore", file], 12, "shard");
    let mut unjudged = 0;
    for n in &names {
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(n)).unwrap()).unwrap();
        let sometimes = &j["properties"][3];
        assert_eq!(sometimes["kind"], "sometimes");
        assert_eq!(sometimes["passed"], serde_json::Value::Null, "{n}");
        unjudged += usize::from(sometimes["seeds_true"] == 0);
        assert_eq!(j["passed"], true, "{n}");
    }
    assert!(
        unjudged > 0,
        "a shard where the sometimes never happened (the bug the issue met)"
    );
    let mut args = vec!["merge", "--json"];
    args.extend(names.iter().map(String::as_str));
    let merged = wfsim(&dir, &args);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged));
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Shards that do not make one whole are refused with the reason, exit 2.
#[test]
fn merge_refuses_missing_overlapping_and_foreign_shards() {
    let dir = scratch("refuse");
    let names = shards(&dir, &["test", "suite", "suite/failing"], 3, "shard");
    let refused = |args: &[&str], says: &str| {
        let mut all = vec!["merge"];
        all.extend_from_slice(args);
        let out = wfsim(&dir, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    };
    refused(&[&names[0], &names[1]], "shards missing: 3/3");
    refused(
        &[&names[0], &names[1], &names[2], &names[1]],
        "shard 2/3 is given more than once",
    );
    let two = shards(&dir, &["test", "suite", "suite/failing"], 2, "two");
    refused(
        &[&two[0], &names[1], &names[2]],
        "is of a 3-way split, the first is of a 2-way one",
    );
    std::fs::write(
        dir.join("suite/order_late.yaml"),
        "workflow: workflows/order.yaml\n",
    )
    .unwrap();
    let changed = shards(&dir, &["test", "suite", "suite/failing"], 3, "changed");
    refused(
        &[&names[0], &names[1], &changed[2]],
        "shards of different runs",
    );
    // A workflow changed between shards is a different run too.
    let order = dir.join("suite/workflows/order.yaml");
    let text = std::fs::read_to_string(&order).unwrap();
    std::fs::write(&order, format!("{text}# changed\n")).unwrap();
    let edited = shards(&dir, &["test", "suite", "suite/failing"], 3, "edited");
    refused(
        &[&changed[0], &changed[1], &edited[2]],
        "shards of different runs",
    );
    std::fs::write(dir.join("junk.json"), "{\"wfsim\": \"test\"}").unwrap();
    refused(&["junk.json"], "not a shard's report");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `wfsim check` takes explore files with the rest, so `wfsim check **/*.yaml` checks a
/// repository; a bad explore section is exit 2 at its place.
#[test]
fn check_takes_explore_files() {
    let dir = scratch("check");
    let out = wfsim(
        &dir,
        &[
            "check",
            "suite/order_explore.yaml",
            "suite/order_late.yaml",
            "suite/workflows/order.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(
            "suite/order_explore.yaml: ok (explore file; workflow suite/workflows/order.yaml: ok)"
        ),
        "{}",
        text(&out)
    );
    std::fs::write(
        dir.join("suite/bad.yaml"),
        "workflow: workflows/order.yaml\nexplore:\n  sometime: []\n",
    )
    .unwrap();
    let out = wfsim(
        &dir,
        &["check", "suite/bad.yaml", "suite/order_explore.yaml"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("suite/bad.yaml:3:3: unknown key 'sometime' in 'explore'"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The project's own `fixtures/` pass as a whole: what `.wfsimignore` there keeps out fails
/// on purpose and is run by name above.
#[test]
fn the_project_fixtures_pass() {
    let dir = std::env::temp_dir().join(format!("wfsim-suite-{}-fixtures", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = wfsim(&dir, &["test", &fixtures().display().to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        j["summary"]["files"].as_u64().unwrap() >= 46,
        "{}",
        j["summary"]
    );
    assert!(
        !dir.join("explore-failures").exists(),
        "nothing failed, nothing written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
