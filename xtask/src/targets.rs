//! The closing table of `cargo xtask bench`: each speed target of issue #22 against the
//! figure that measures it, read back from the bench binaries' text ([`crate::figures`]).
//! A target set against another revision is judged only when `--baseline` built that
//! revision ([`YARDSTICKS`]: `--baseline` builds each one's bench too, beside REV);
//! otherwise its row says which `--baseline REV` it needs rather than guess.
//! Figures are found by their section and name as the binaries print them today; a
//! figure a run did not print makes its row "unknown" with the reason, never "met".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::figures::Figure;

/// The figures of one side, by bench (`BenchBin::key`): medians where there were rounds.
pub type Side = BTreeMap<&'static str, Vec<Figure>>;

/// The base side of a `--baseline` run: the full sha it was built at, and its figures.
pub struct Base<'a> {
    pub sha: &'a str,
    pub figures: &'a Side,
}

/// A row's verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Met,
    NotMet,
    /// Not judged, and why (no such figure, or the revision it needs was not built).
    Unknown(String),
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub target: &'static str,
    /// The figure(s) behind the ratio, as printed.
    pub figure: String,
    pub ratio: Option<f64>,
    pub verdict: Verdict,
}

/// The revisions the issue sets targets against (its "6fc352b" and "466ccc4").
const BEFORE_LOSS: &str = "6fc352b";
const ISSUE_DAY: &str = "466ccc4";

/// Each revision a target is set against, with the bench (`BenchBin::key`) that target
/// reads: `--baseline REV` builds and runs these too when REV is another revision, so one
/// run judges every row (the explore target is set against the issue's day, the others
/// against the revision before the loss).
pub const YARDSTICKS: [(&str, &str); 2] = [(BEFORE_LOSS, "engine"), (ISSUE_DAY, "explore")];

fn find<'a>(side: &'a Side, bench: &str, pred: impl Fn(&Figure) -> bool) -> Option<&'a Figure> {
    side.get(bench)?.iter().find(|f| pred(f))
}

/// The unit in brackets a figure's name ends with (`basic_callback [µs]`).
fn unit(f: &Figure) -> &str {
    f.name
        .rsplit_once(" [")
        .map_or("", |(_, u)| u.trim_end_matches(']'))
}

/// A row whose ratio is judged against `goal`, at most (`at_most`) or at least.
fn judged(target: &'static str, figure: String, ratio: f64, goal: f64, at_most: bool) -> Row {
    let met = if at_most {
        ratio <= goal
    } else {
        ratio >= goal
    };
    Row {
        target,
        figure,
        ratio: Some(ratio),
        verdict: if !ratio.is_finite() {
            Verdict::Unknown("the ratio is not a number".into())
        } else if met {
            Verdict::Met
        } else {
            Verdict::NotMet
        },
    }
}

fn unknown(target: &'static str, why: impl Into<String>) -> Row {
    Row {
        target,
        figure: String::new(),
        ratio: None,
        verdict: Verdict::Unknown(why.into()),
    }
}

/// The base built at `rev` (a sha prefix), else why a row cannot be judged.
fn base_at<'a>(bases: &'a [Base<'a>], rev: &str) -> Result<&'a Side, String> {
    bases
        .iter()
        .find(|b| b.sha.starts_with(rev))
        .map(|b| b.figures)
        .ok_or_else(|| format!("needs --baseline {rev}"))
}

/// Every target's row, in the issue's order.
pub fn rows(head: &Side, bases: &[Base<'_>]) -> Vec<Row> {
    let mut out = vec![
        scenarios(head, bases),
        interpreter(head, bases),
        explore_per_core(head, bases),
        jobs(head),
    ];
    for n in [4, 64] {
        out.push(live(head, n));
    }
    out.push(system(head));
    out.push(memory(head));
    out
}

const SCENARIOS: &str = "scenarios: each <= 0.7x 6fc352b's time";

/// Every fixture scenario both revisions time: the worst ratio is the figure.
fn scenarios(head: &Side, bases: &[Base<'_>]) -> Row {
    let base = match base_at(bases, BEFORE_LOSS) {
        Ok(b) => b,
        Err(why) => return unknown(SCENARIOS, why),
    };
    let is_scenario = |f: &Figure| f.section.ends_with("fixtures/scenarios") && unit(f) == "µs";
    let mut worst: Option<(f64, &str)> = None;
    let mut compared = 0;
    for h in head
        .get("engine")
        .into_iter()
        .flatten()
        .filter(|f| is_scenario(f))
    {
        let Some(b) = find(base, "engine", |b| is_scenario(b) && b.name == h.name) else {
            continue;
        };
        compared += 1;
        let ratio = h.value / b.value;
        if worst.is_none_or(|(w, _)| ratio > w || !ratio.is_finite()) {
            worst = Some((ratio, &h.name));
        }
    }
    match worst {
        None => unknown(SCENARIOS, "no scenario timed by both revisions"),
        Some((ratio, name)) => judged(
            SCENARIOS,
            format!("worst of {compared}: {name}"),
            ratio,
            0.7,
            true,
        ),
    }
}

const INTERPRETER: &str = "interpreter: steps/s >= 1.3x 6fc352b";

fn interpreter(head: &Side, bases: &[Base<'_>]) -> Row {
    let base = match base_at(bases, BEFORE_LOSS) {
        Ok(b) => b,
        Err(why) => return unknown(INTERPRETER, why),
    };
    let steps = |f: &Figure| unit(f) == "M steps/s";
    match (find(head, "engine", steps), find(base, "engine", steps)) {
        (Some(h), Some(b)) => judged(
            INTERPRETER,
            format!("{:.2} vs {:.2} M steps/s", h.value, b.value),
            h.value / b.value,
            1.3,
            false,
        ),
        (None, _) => unknown(INTERPRETER, "HEAD printed no M steps/s"),
        (_, None) => unknown(INTERPRETER, "the base printed no M steps/s"),
    }
}

const EXPLORE: &str = "explore, engine level: seeds per core >= 2x 466ccc4";

/// Seeds per CPU second at `--jobs 1` (1 / CPU per seed), so that load from others does
/// not count; a base that printed no CPU per seed is compared by seeds/s, and says so.
fn explore_per_core(head: &Side, bases: &[Base<'_>]) -> Row {
    let base = match base_at(bases, ISSUE_DAY) {
        Ok(b) => b,
        Err(why) => return unknown(EXPLORE, why),
    };
    let cpu = |f: &Figure| f.name.starts_with("--jobs 1") && unit(f) == "µs CPU per seed";
    let rate = |f: &Figure| f.name.starts_with("--jobs 1") && unit(f) == "seeds/s";
    if let (Some(h), Some(b)) = (find(head, "explore", cpu), find(base, "explore", cpu)) {
        return judged(
            EXPLORE,
            format!("{:.1} vs {:.1} µs CPU per seed, --jobs 1", h.value, b.value),
            b.value / h.value,
            2.0,
            false,
        );
    }
    match (find(head, "explore", rate), find(base, "explore", rate)) {
        (Some(h), Some(b)) => judged(
            EXPLORE,
            format!(
                "{:.0} vs {:.0} seeds/s, --jobs 1 (wall: a side lacks CPU per seed)",
                h.value, b.value
            ),
            h.value / b.value,
            2.0,
            false,
        ),
        _ => unknown(EXPLORE, "a side printed no --jobs 1 explore figure"),
    }
}

const JOBS: &str = "explore: --jobs 2 >= 1.8x --jobs 1";

fn jobs(head: &Side) -> Row {
    let ratio = |f: &Figure| f.name.starts_with("--jobs 2 / --jobs 1") && unit(f) == "×";
    let cores =
        |j: &'static str| move |f: &Figure| f.name.starts_with(j) && unit(f) == "cores used";
    let Some(r) = find(head, "explore", ratio) else {
        return unknown(JOBS, "no --jobs 2 / --jobs 1 figure");
    };
    let used = find(head, "explore", cores("--jobs 2")).map_or(String::new(), |c| {
        format!("; {:.2} cores used at --jobs 2", c.value)
    });
    judged(JOBS, format!("in one run{used}"), r.value, 1.8, false)
}

const LIVE: [&str; 2] = [
    "live: >= 0.8x bare hyper at 4 connections",
    "live: >= 0.8x bare hyper at 64 connections",
];

fn live(head: &Side, connections: usize) -> Row {
    let target = LIVE[usize::from(connections != 4)];
    let prefix = format!("{connections} connections:");
    let of_bare = |f: &Figure| {
        f.name.starts_with(&prefix) && unit(f) == "of bare" && !f.name.contains("--state-dir")
    };
    let cpu_prefix = format!("{connections} connections, server thread CPU");
    let cpu = find(head, "live", |f| {
        f.name.starts_with(&cpu_prefix) && unit(f) == "ratio"
    })
    .map_or(String::new(), |f| {
        format!("; by server CPU per request {:.2}", f.value)
    });
    match find(head, "live", of_bare) {
        Some(f) => judged(
            target,
            format!("wfsim / bare throughput, one run{cpu}"),
            f.value,
            0.8,
            false,
        ),
        None => unknown(target, format!("no {connections}-connection ratio")),
    }
}

const SYSTEM: &str = "system world: >= 0.8x the bare world";

fn system(head: &Side) -> Row {
    let ratio = |f: &Figure| f.name.starts_with("ratio world / bare") && unit(f) == "ratio";
    let cpu = find(head, "system", |f| {
        f.name.starts_with("CPU per seed") && unit(f) == "ratio"
    })
    .map_or(String::new(), |f| {
        format!("; by CPU per seed {:.2}", f.value)
    });
    match find(head, "system", ratio) {
        Some(f) => judged(
            SYSTEM,
            format!("world / bare seeds/s, one run{cpu}"),
            f.value,
            0.8,
            false,
        ),
        None => unknown(SYSTEM, "no world / bare ratio"),
    }
}

const MEMORY: &str = "memory: <= 8 KiB per waiting execution";

/// The resident growth per execution at the largest count printed (the allocator's slack
/// is memory too).
fn memory(head: &Side) -> Row {
    let largest = head
        .get("live")
        .into_iter()
        .flatten()
        .filter(|f| unit(f) == "KiB resident each")
        .max_by(|a, b| leading_number(&a.name).total_cmp(&leading_number(&b.name)));
    let Some(rss) = largest else {
        return unknown(MEMORY, "no KiB resident each figure");
    };
    let count = leading_number(&rss.name);
    let figure = format!("{:.1} KiB resident, {count} executions", rss.value);
    Row {
        target: MEMORY,
        ratio: Some(rss.value / 8.0),
        verdict: if rss.value <= 8.0 {
            Verdict::Met
        } else {
            Verdict::NotMet
        },
        figure,
    }
}

/// The number a name begins with (`100000 executions awaiting…`), or 0.
fn leading_number(name: &str) -> f64 {
    name.split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0.0)
}

/// The table, one line a target.
pub fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.target.len()).max().unwrap_or(0);
    let mut out = String::from("\ntargets (issue #22; ratio = figure / its yardstick)\n");
    for r in rows {
        let ratio = r.ratio.map_or("-".into(), |x| format!("{x:.2}"));
        let verdict = match &r.verdict {
            Verdict::Met => "met".to_owned(),
            Verdict::NotMet => "NOT MET".to_owned(),
            Verdict::Unknown(why) => format!("unknown: {why}"),
        };
        let figure = if r.figure.is_empty() {
            String::new()
        } else {
            format!("  ({})", r.figure)
        };
        let _ = writeln!(out, "  {:<width$} {ratio:>6}  {verdict}{figure}", r.target);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::parse;

    const ENGINE_HEAD: &str = "wall time per run (read, parse, check, run), fixtures/scenarios:
  basic_callback                    60.0 µs  (1970 runs)
  parallel_ten                      100.0 µs  (767 runs)
  only_here                         1.0 µs  (7 runs)

interpreter: a loop of 100000 assign steps (200002 steps in all): 30.0 ms per run, 7.00 M steps/s (22 runs)
";
    const ENGINE_BASE: &str = "wall time per run (read, parse, check, run), fixtures/scenarios:
  basic_callback                    100.0 µs  (1970 runs)
  parallel_ten                      125.0 µs  (767 runs)

interpreter: a loop of 100000 assign steps (200002 steps in all): 40.0 ms per run, 5.00 M steps/s (22 runs)
";
    const EXPLORE_TEXT: &str = "
wfsim explore, engine level: approval.yaml (3 senders), 20000 seeds, median of 5 rounds (2 cores, load average 3.1)
  --jobs 1:     21000 seeds/s, 40.0 µs CPU per seed, 0.99 cores used
  --jobs 2:     39000 seeds/s, 41.0 µs CPU per seed, 1.95 cores used
  --jobs 2 / --jobs 1: 1.86×; CPU per seed ×1.02 (near 1: no work serializes)
";
    const LIVE_TEXT: &str = "wfsim live-mode bench (release build, loopback): callbacks accepted per second
   4 connections: bare hyper   52000/s | wfsim   45000/s, 0.87 of bare (goal >= 0.7) | --state-dir    9000/s, 0.95 of bare (goal >= 0.3; rounds 0.15-0.20)
  64 connections: bare hyper   52000/s | wfsim   17000/s, 0.33 of bare (goal >= 0.7) | --state-dir    9000/s, 0.90 of bare (goal >= 0.3; rounds 0.15-0.20)
  64 connections, server thread CPU per request: bare hyper 10.0 µs | wfsim 20.0 µs | --state-dir 30.0 µs; CPU ratio bare / wfsim: 0.50
  10000 executions awaiting a callback: 7.5 KiB resident each (73.2 MiB in all; goal <= 8 KiB), started in 52 ms
  100000 executions awaiting a callback: 8.5 KiB resident each (830.1 MiB in all; goal <= 8 KiB), started in 520 ms
";
    const SYSTEM_TEXT: &str = "system level (madsim, release), seeds 0..1000; median of 3 rounds:
  ratio world / bare:                    0.59  (goal >= 0.5; rounds ranged 0.55-0.61); both with a thread per run
  CPU per seed, summed over the rounds: world 900 µs | bare 450 µs; CPU ratio bare / world: 0.50
";

    fn side(engine: &str) -> Side {
        let mut s = Side::new();
        s.insert("engine", parse(engine));
        s.insert("explore", parse(EXPLORE_TEXT));
        s.insert("live", parse(LIVE_TEXT));
        s.insert("system", parse(SYSTEM_TEXT));
        s
    }

    fn verdicts(rows: &[Row]) -> Vec<(&str, Option<String>, String)> {
        rows.iter()
            .map(|r| {
                let v = match &r.verdict {
                    Verdict::Met => "met".to_owned(),
                    Verdict::NotMet => "not met".to_owned(),
                    Verdict::Unknown(w) => w.clone(),
                };
                (r.target, r.ratio.map(|x| format!("{x:.3}")), v)
            })
            .collect()
    }

    #[test]
    fn against_6fc352b_every_figure_is_judged_but_explores() {
        let (head, base) = (side(ENGINE_HEAD), side(ENGINE_BASE));
        let sha = "6fc352b36e115aac5bf84213518ae25a5973b0da";
        let rows = rows(
            &head,
            &[Base {
                sha,
                figures: &base,
            }],
        );
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            verdicts(&rows),
            [
                // parallel_ten's 0.8 is the worst; only_here has no base row.
                (SCENARIOS, s("0.800"), "not met".into()),
                (INTERPRETER, s("1.400"), "met".into()),
                (EXPLORE, None, "needs --baseline 466ccc4".into()),
                (JOBS, s("1.860"), "met".into()),
                (LIVE[0], s("0.870"), "met".into()),
                (LIVE[1], s("0.330"), "not met".into()),
                (SYSTEM, s("0.590"), "not met".into()),
                (MEMORY, s("1.062"), "not met".into()),
            ]
        );
        assert_eq!(rows[0].figure, "worst of 2: parallel_ten [µs]");
        assert_eq!(rows[7].figure, "8.5 KiB resident, 100000 executions");
        assert!(rows[3].figure.contains("1.95 cores used"), "{:?}", rows[3]);
        assert!(!rows[4].figure.contains("CPU"), "{:?}", rows[4]);
        assert!(
            rows[6].figure.ends_with("by CPU per seed 0.50"),
            "{:?}",
            rows[6]
        );
        assert!(
            rows[5].figure.ends_with("by server CPU per request 0.50"),
            "{:?}",
            rows[5]
        );
    }

    #[test]
    fn with_both_yardsticks_built_every_row_is_judged() {
        let (head, before) = (side(ENGINE_HEAD), side(ENGINE_BASE));
        let mut issue_day = Side::new();
        issue_day.insert(
            "explore",
            parse(
                "wfsim explore, engine level: x\n  --jobs 1: 9000 seeds/s, 100.0 µs CPU per seed\n",
            ),
        );
        let bases = [
            Base {
                sha: "6fc352b36e115aac5bf84213518ae25a5973b0da",
                figures: &before,
            },
            Base {
                sha: "466ccc4aa5b014b729fadb7864d4be12d5c297af",
                figures: &issue_day,
            },
        ];
        let rows = rows(&head, &bases);
        assert!(
            rows.iter()
                .all(|r| !matches!(r.verdict, Verdict::Unknown(_))),
            "{rows:?}"
        );
        // 100 µs CPU per seed then, 40 now.
        assert_eq!(
            (rows[2].ratio, &rows[2].verdict),
            (Some(2.5), &Verdict::Met)
        );
        // Every revision a row needs is one `--baseline` builds.
        for rev in [BEFORE_LOSS, ISSUE_DAY] {
            assert!(YARDSTICKS.iter().any(|(r, _)| *r == rev));
        }
    }

    #[test]
    fn without_a_base_the_rows_against_a_revision_say_which_they_need() {
        let rows = rows(&side(ENGINE_HEAD), &[]);
        assert_eq!(
            rows[0].verdict,
            Verdict::Unknown("needs --baseline 6fc352b".into())
        );
        assert_eq!(
            rows[1].verdict,
            Verdict::Unknown("needs --baseline 6fc352b".into())
        );
        assert_eq!(
            rows[2].verdict,
            Verdict::Unknown("needs --baseline 466ccc4".into())
        );
        let t = table(&rows);
        assert!(t.contains("needs --baseline 6fc352b"), "{t}");
        assert!(t.contains("NOT MET"), "{t}");
    }

    #[test]
    fn explore_per_core_uses_cpu_time_and_falls_back_to_wall_time_saying_so() {
        let head = side(ENGINE_HEAD);
        let mut base = side(ENGINE_BASE);
        base.insert(
            "explore",
            parse(
                "wfsim explore, engine level: x\n  --jobs 1: 9000 seeds/s, 100.0 µs CPU per seed\n",
            ),
        );
        let b = Base {
            sha: "466ccc4aa5b0",
            figures: &base,
        };
        let row = explore_per_core(&head, &[b]);
        assert_eq!((row.ratio, row.verdict), (Some(2.5), Verdict::Met));
        base.insert(
            "explore",
            parse("wfsim explore, engine level: x\n  --jobs 1: 14000 seeds/s\n"),
        );
        let b = Base {
            sha: "466ccc4aa5b0",
            figures: &base,
        };
        let row = explore_per_core(&head, &[b]);
        assert!(row.figure.contains("wall"), "{row:?}");
        assert_eq!((row.ratio, row.verdict), (Some(1.5), Verdict::NotMet));
    }

    #[test]
    fn a_missing_figure_is_unknown_never_met() {
        let empty = Side::new();
        for row in rows(&empty, &[]) {
            assert!(matches!(row.verdict, Verdict::Unknown(_)), "{row:?}");
        }
        let half = side("nothing here\n");
        let b = Base {
            sha: "6fc352b0",
            figures: &half,
        };
        let rows = rows(&side(ENGINE_HEAD), &[b]);
        assert_eq!(
            rows[0].verdict,
            Verdict::Unknown("no scenario timed by both revisions".into())
        );
        assert_eq!(
            rows[1].verdict,
            Verdict::Unknown("the base printed no M steps/s".into())
        );
    }

    #[test]
    fn goals_are_inclusive_and_a_nan_ratio_is_not_met() {
        assert_eq!(
            judged("t", String::new(), 0.8, 0.8, false).verdict,
            Verdict::Met
        );
        assert_eq!(
            judged("t", String::new(), 0.7, 0.7, true).verdict,
            Verdict::Met
        );
        assert_eq!(
            judged("t", String::new(), 0.71, 0.7, true).verdict,
            Verdict::NotMet
        );
        assert!(matches!(
            judged("t", String::new(), f64::NAN, 0.7, true).verdict,
            Verdict::Unknown(_)
        ));
    }
}
