//! The figures of the bench binaries' text output, read back for `cargo xtask bench
//! --baseline`, and the side-by-side table. An old revision's binaries print only text, so
//! this reads that text rather than a format of today's: a figure is a number followed by
//! a known unit, and its name is the line's other words (parenthesized asides, which hold
//! run counts, goals and load averages, left out) under the last heading line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Which way a figure improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// Units after a number, longest first where one begins another, with the way each
/// improves. A number followed by none of them is part of a name ("4 connections").
const UNITS: &[(&str, Better)] = &[
    ("simulated s per wall s", Better::Higher),
    ("M steps/s", Better::Higher),
    ("seeds/s", Better::Higher),
    ("calls/s", Better::Higher),
    ("/s", Better::Higher),
    ("µs CPU per seed", Better::Lower),
    ("µs", Better::Lower),
    ("ms per run", Better::Lower),
    ("ms", Better::Lower),
    ("KiB resident each", Better::Lower),
    ("cores used", Better::Higher),
    ("of bare", Better::Higher),
    ("×", Better::Higher),
];

/// One figure of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The heading it is under.
    pub section: String,
    /// The line's words before it, other figures' values left out, and its unit.
    pub name: String,
    pub value: f64,
    pub better: Better,
}

/// `text` without parenthesized asides (nested ones too).
fn without_asides(text: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whitespace collapsed, none before a separator (where an aside was), and the separators
/// a name may end with trimmed.
fn tidy(words: &str) -> String {
    let joined = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = joined
        .replace(" :", ":")
        .replace(" ,", ",")
        .replace(" ;", ";");
    joined
        .trim_matches(|c: char| c == ':' || c == ',' || c == ';' || c == '|' || c == ' ')
        .to_owned()
}

/// The figures of one line: each number followed by a unit, or a bare number after the
/// word "ratio" (`ratio world / bare: 0.59`, `ratio 0.70`).
fn line_figures(line: &str) -> Vec<(String, f64, Better)> {
    let line = without_asides(line);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = Vec::new();
    let mut name = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let starts_number = c.is_ascii_digit()
            && (i == 0 || !(chars[i - 1].1.is_alphanumeric() || chars[i - 1].1 == '_'));
        if !starts_number {
            name.push(c);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j].1.is_ascii_digit() {
            j += 1;
        }
        if j + 1 < chars.len() && chars[j].1 == '.' && chars[j + 1].1.is_ascii_digit() {
            j += 1;
            while j < chars.len() && chars[j].1.is_ascii_digit() {
                j += 1;
            }
        }
        let end = chars.get(j).map_or(line.len(), |c| c.0);
        let number = &line[at..end];
        let rest = &line[end..];
        let after = rest.trim_start();
        let unit = UNITS.iter().find(|(u, _)| {
            after.starts_with(u)
                && !after[u.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric())
                && (rest.len() == after.len() || !u.starts_with(['/', '×']))
        });
        let value: f64 = number.parse().unwrap_or(f64::NAN);
        if let Some((unit, better)) = unit {
            out.push((format!("{} [{unit}]", tidy(&name)), value, *better));
            name.push_str(unit);
            let skip = rest.len() - after.len() + unit.len();
            i = chars.partition_point(|c| c.0 < end + skip);
            continue;
        }
        let named = tidy(&name);
        let ratio_named = named.ends_with("ratio")
            || (name.trim_end().ends_with(':') && named.split_whitespace().any(|w| w == "ratio"));
        if ratio_named && !after.starts_with(char::is_alphanumeric) {
            out.push((format!("{named} [ratio]"), value, Better::Higher));
            name.push_str("ratio");
            i = j;
            continue;
        }
        name.push_str(number);
        i = j;
    }
    out
}

/// Every figure of a bench binary's output, in order.
pub fn parse(text: &str) -> Vec<Figure> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let found = line_figures(line);
        if found.is_empty() {
            if !line.trim().is_empty() && !line.starts_with(char::is_whitespace) {
                section = tidy(&without_asides(line));
            }
            continue;
        }
        for (name, value, better) in found {
            out.push(Figure {
                section: section.clone(),
                name,
                value,
                better,
            });
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// A figure's values over the rounds of one side, by (section, name), in first-seen order.
#[derive(Debug, Default)]
struct Series {
    order: Vec<(String, String)>,
    values: BTreeMap<(String, String), (Better, Vec<f64>)>,
}

impl Series {
    fn of(runs: &[Vec<Figure>]) -> Series {
        let mut s = Series::default();
        for run in runs {
            for f in run {
                let key = (f.section.clone(), f.name.clone());
                let entry = s.values.entry(key.clone()).or_insert_with(|| {
                    s.order.push(key);
                    (f.better, Vec::new())
                });
                entry.1.push(f.value);
            }
        }
        s
    }

    fn median(&self, key: &(String, String)) -> Option<f64> {
        self.values.get(key).and_then(|(_, v)| median(v.clone()))
    }
}

/// Each figure's median over `runs`, in first-seen order: one side's figures for the
/// targets table ([`crate::targets`]).
pub fn medians(runs: &[Vec<Figure>]) -> Vec<Figure> {
    let s = Series::of(runs);
    s.order
        .iter()
        .filter_map(|key| {
            let (better, _) = s.values.get(key)?;
            Some(Figure {
                section: key.0.clone(),
                name: key.1.clone(),
                value: s.median(key)?,
                better: *better,
            })
        })
        .collect()
}

/// How `head` compares with `base` for a figure that improves `better`: "better" or
/// "worse" beyond 2% (a run on a shared machine moves more than that), else "same".
pub fn judge(base: f64, head: f64, better: Better) -> &'static str {
    let ratio = head / base;
    if !ratio.is_finite() {
        return "?";
    }
    let improved = match better {
        Better::Higher => ratio > 1.02,
        Better::Lower => ratio < 1.0 / 1.02,
    };
    let worsened = match better {
        Better::Higher => ratio < 1.0 / 1.02,
        Better::Lower => ratio > 1.02,
    };
    if improved {
        "better"
    } else if worsened {
        "worse"
    } else {
        "same"
    }
}

/// The side-by-side table of one bench binary: each figure's median over the rounds of
/// each side, the ratio head / base, which way is better, and the verdict. A figure only
/// one side printed is shown as missing on the other.
pub fn table(
    head_name: &str,
    base_name: &str,
    head: &[Vec<Figure>],
    base: &[Vec<Figure>],
) -> String {
    let (h, b) = (Series::of(head), Series::of(base));
    let mut keys = h.order.clone();
    keys.extend(
        b.order
            .iter()
            .filter(|k| !h.values.contains_key(*k))
            .cloned(),
    );
    let mut out = String::new();
    let width = keys
        .iter()
        .map(|k| k.1.chars().count())
        .max()
        .unwrap_or(0)
        .max(6)
        + 2;
    let mut section = None;
    for key in &keys {
        if section != Some(&key.0) {
            let _ = writeln!(out, "{}", key.0);
            let _ = writeln!(
                out,
                "  {:<width$} {:>12} {:>12} {:>8}  better  verdict",
                "figure", base_name, head_name, "ratio"
            );
            section = Some(&key.0);
        }
        let better = h.values.get(key).or(b.values.get(key)).map(|v| v.0);
        let way = match better {
            Some(Better::Higher) => "higher",
            _ => "lower ",
        };
        let show =
            |v: Option<f64>, missing: &str| v.map_or(missing.to_owned(), |v| format!("{v:.2}"));
        let (hv, bv) = (h.median(key), b.median(key));
        let (ratio, verdict) = match (bv, hv, better) {
            (Some(bv), Some(hv), Some(better)) => {
                (format!("{:.2}", hv / bv), judge(bv, hv, better))
            }
            (None, _, _) => ("-".into(), "not in base"),
            _ => ("-".into(), "not in head"),
        };
        let _ = writeln!(
            out,
            "  {:<width$} {:>12} {:>12} {:>8}  {way}  {verdict}",
            key.1,
            show(bv, "(none)"),
            show(hv, "(none)"),
            ratio,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFORMANCE: &str = "wfsim bench (release build; figures vary with the machine, compare runs on one)

wall time per run (read, parse, check, run), fixtures/scenarios:
  basic_callback                    152.3 µs  (1970 runs)
  parallel_ten                      391.0 µs  (767 runs)

retry scenario: 3600 simulated s per run, 1534123 simulated s per wall s

interpreter: a loop of 100000 assign steps (200002 steps in all): 47.1 ms per run, 4.25 M steps/s (22 runs)

inputs that were once quadratic, now linear (wall time per run):
  text.find_all over 65,536 matches (ResourceLimitError)         12.50 ms  (24 runs)
";

    fn names(figures: &[Figure]) -> Vec<(&str, &str, f64, Better)> {
        figures
            .iter()
            .map(|f| (f.section.as_str(), f.name.as_str(), f.value, f.better))
            .collect()
    }

    #[test]
    fn the_conformance_bench() {
        let scenarios = "wall time per run, fixtures/scenarios";
        let hostile = "inputs that were once quadratic, now linear";
        assert_eq!(
            names(&parse(CONFORMANCE)),
            [
                (scenarios, "basic_callback [µs]", 152.3, Better::Lower),
                (scenarios, "parallel_ten [µs]", 391.0, Better::Lower),
                (
                    scenarios,
                    "retry scenario: 3600 simulated s per run [simulated s per wall s]",
                    1534123.0,
                    Better::Higher
                ),
                (
                    scenarios,
                    "interpreter: a loop of 100000 assign steps [ms per run]",
                    47.1,
                    Better::Lower
                ),
                (
                    scenarios,
                    "interpreter: a loop of 100000 assign steps: ms per run [M steps/s]",
                    4.25,
                    Better::Higher
                ),
                (
                    hostile,
                    "text.find_all over 65,536 matches [ms]",
                    12.5,
                    Better::Lower
                ),
            ]
        );
    }

    #[test]
    fn explore_live_and_system_rows() {
        let text = "
wfsim explore, engine level: approval.yaml (3 senders), 20000 seeds, median of 5 rounds (2 cores, load average 3.1)
  --jobs 1:     21000 seeds/s, 95.2 µs CPU per seed, 0.99 cores used
  --jobs 2 / --jobs 1: 1.54×; CPU per seed ×1.02 (near 1: no work serializes)
wfsim live-mode bench (release build, loopback): callbacks accepted per second
   4 connections: bare hyper   52000/s | wfsim   31000/s, 0.60 of bare (goal >= 0.7) | --state-dir    9000/s, 0.17 of bare (goal >= 0.3; rounds 0.15-0.20)
  gRPC GetExecution (HTTP/2):         21000 calls/s (median of 5 rounds)
  10000 executions awaiting a callback: 10.1 KiB resident each (98.0 MiB in all; goal <= 16 KiB), started in 52 ms
system level (madsim, release), seeds 0..1000; median of 3 rounds:
  ratio world / bare:                    0.59  (goal >= 0.5; rounds ranged 0.55-0.61); both with a thread per run
  bare, all runs on one thread:         900 seeds/s, ratio 0.70 (rounds ranged 0.6-0.8): counted
";
        let explore = "wfsim explore, engine level: approval.yaml, 20000 seeds, median of 5 rounds";
        let live = "wfsim live-mode bench: callbacks accepted per second";
        let system = "system level, seeds 0..1000; median of 3 rounds";
        assert_eq!(
            names(&parse(text)),
            [
                (explore, "--jobs 1 [seeds/s]", 21000.0, Better::Higher),
                (
                    explore,
                    "--jobs 1: seeds/s [µs CPU per seed]",
                    95.2,
                    Better::Lower
                ),
                (
                    explore,
                    "--jobs 1: seeds/s, µs CPU per seed [cores used]",
                    0.99,
                    Better::Higher
                ),
                (explore, "--jobs 2 / --jobs 1 [×]", 1.54, Better::Higher),
                (
                    live,
                    "4 connections: bare hyper [/s]",
                    52000.0,
                    Better::Higher
                ),
                (
                    live,
                    "4 connections: bare hyper /s | wfsim [/s]",
                    31000.0,
                    Better::Higher
                ),
                (
                    live,
                    "4 connections: bare hyper /s | wfsim /s [of bare]",
                    0.6,
                    Better::Higher
                ),
                (
                    live,
                    "4 connections: bare hyper /s | wfsim /s, of bare | --state-dir [/s]",
                    9000.0,
                    Better::Higher
                ),
                (
                    live,
                    "4 connections: bare hyper /s | wfsim /s, of bare | --state-dir /s [of bare]",
                    0.17,
                    Better::Higher
                ),
                (live, "gRPC GetExecution [calls/s]", 21000.0, Better::Higher),
                (
                    live,
                    "10000 executions awaiting a callback [KiB resident each]",
                    10.1,
                    Better::Lower
                ),
                (
                    live,
                    "10000 executions awaiting a callback: KiB resident each, started in [ms]",
                    52.0,
                    Better::Lower
                ),
                (system, "ratio world / bare [ratio]", 0.59, Better::Higher),
                (
                    system,
                    "bare, all runs on one thread [seeds/s]",
                    900.0,
                    Better::Higher
                ),
                (
                    system,
                    "bare, all runs on one thread: seeds/s, ratio [ratio]",
                    0.7,
                    Better::Higher
                ),
            ]
        );
    }

    #[test]
    fn the_table_says_what_is_missing_and_which_way_is_better() {
        let head = parse("s:\n  a 10.0 µs\n  b 5.00 M steps/s\n  new 1.0 ms\n");
        let base = parse("s:\n  a 20.0 µs\n  b 4.00 M steps/s\n  old 1.0 ms\n");
        let t = table("HEAD", "old", &[head.clone(), head], &[base]);
        let lines: Vec<&str> = t.lines().map(str::trim_end).collect();
        assert_eq!(lines[0], "s");
        assert!(
            lines[2].contains("20.00") && lines[2].ends_with("0.50  lower   better"),
            "{t}"
        );
        assert!(lines[3].contains("1.25  higher  better"), "{t}");
        assert!(lines[4].ends_with("not in base"), "{t}");
        assert!(
            lines[5].contains("(none)") && lines[5].ends_with("not in head"),
            "{t}"
        );
        assert_eq!(judge(100.0, 101.0, Better::Lower), "same");
        assert_eq!(judge(100.0, 90.0, Better::Higher), "worse");
    }

    #[test]
    fn medians_take_the_middle_round_of_each_figure() {
        let runs = [
            parse("s:\n  a 3.0 µs\n  b 1.0 M steps/s\n"),
            parse("s:\n  a 1.0 µs\n"),
            parse("s:\n  a 2.0 µs\n  b 5.0 M steps/s\n"),
        ];
        let m = medians(&runs);
        assert_eq!(
            names(&m),
            [
                ("s", "a [µs]", 2.0, Better::Lower),
                // Two rounds: the upper of the two, as `median` takes.
                ("s", "b [M steps/s]", 5.0, Better::Higher),
            ]
        );
    }
}
