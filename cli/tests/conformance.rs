//! `wfsim conformance --target` judges: against `wfsim serve --clock manual` every rule it
//! checks over the wire holds; against each `--defect` the run fails on the rule that
//! defect breaks, names it, and prints the requests that show it. Each run: the scenarios,
//! the corpus and 20 generated op sequences.

// The one-minute budget of the issue is wall time, measured here only.
#![allow(clippy::disallowed_methods)]

mod common;

use std::process::Command;
use std::time::Instant;

use common::Server;
use wfsim_engine::defect::Defect;

/// `wfsim conformance --target BASE`: exit code and stdout.
fn judge(base: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["conformance", "--target", base, "--cases", "20"])
        .output()
        .expect("wfsim conformance runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn manual_server(extra: &[&str]) -> Server {
    let mut args = vec!["--clock", "manual", "--no-auth", "--seed", "1"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// The result column of `rule`'s row.
fn result_of(report: &str, rule: &str) -> String {
    let row = report
        .lines()
        .find(|l| l.split_whitespace().next() == Some(rule))
        .unwrap_or_else(|| panic!("no row for {rule}:\n{report}"));
    // rule, checks, skipped, result…
    row.split_whitespace().nth(3).unwrap_or_default().to_owned()
}

#[test]
fn a_healthy_server_passes_every_rule_it_is_judged_on() {
    let server = manual_server(&[]);
    let started = Instant::now();
    let (code, report) = judge(&server.base);
    assert_eq!(code, 0, "{report}");
    assert!(!report.contains("FAIL"), "{report}");
    assert!(report.contains("the target's clock API"), "{report}");
    // The rules the suite reaches over the wire have checks and pass.
    for rule in [
        "CB-1", "CB-4", "CB-5", "CB-6", "CB-7", "CB-8", "CB-9", "CB-10", "CB-11", "CB-12", "CB-13",
        "§3.1", "§3.3", "§3.5", "§3.6", "§3.7", "EX-1", "EX-2", "EX-3", "EX-5", "EX-6", "EX-7",
        "RT-1", "RT-2", "RT-3",
    ] {
        assert_eq!(result_of(&report, rule), "pass", "{rule}:\n{report}");
    }
    // What cannot run over an API is skipped, with the reason.
    let skip = report
        .lines()
        .find(|l| l.contains("seeded_ids.yaml"))
        .unwrap_or_default();
    assert!(
        skip.contains("it expects the callback ids its seed draws (CB-2)"),
        "{report}"
    );
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn each_defect_fails_its_rule_and_shows_the_requests() {
    for defect in Defect::ALL {
        let server = manual_server(&["--defect", defect.name()]);
        assert!(server.line("defect: ").contains(defect.name()));
        let started = Instant::now();
        let (code, report) = judge(&server.base);
        assert_eq!(code, 1, "{}:\n{report}", defect.name());
        assert_eq!(
            result_of(&report, defect.rule()),
            "FAIL",
            "{}:\n{report}",
            defect.name()
        );
        let failure = report
            .split("\nFAIL ")
            .find(|s| s.starts_with(&format!("{} (", defect.rule())))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no FAIL section for {}:\n{report}",
                    defect.name(),
                    defect.rule()
                )
            });
        let shown: Vec<&str> = failure
            .lines()
            .skip_while(|l| !l.contains("the requests that show it:"))
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .collect();
        assert!(
            shown.iter().any(|l| l.contains("/executions")),
            "{}: no request sequence:\n{failure}",
            defect.name()
        );
        assert!(
            started.elapsed().as_secs() < 60,
            "{}: {:?}",
            defect.name(),
            started.elapsed()
        );
        server.kill();
    }
}

#[test]
fn a_target_that_refuses_the_judge_is_told_in_a_sentence() {
    let server = Server::start(&["--clock", "manual", "--seed", "1", "--token", "sesame"]);
    let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["conformance", "--target", &server.base])
        .output()
        .expect("wfsim conformance runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("answered 401") && stderr.contains("--token T"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["conformance", "--target", "https://example.com"])
        .output()
        .expect("wfsim conformance runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https is not supported yet"));
}
