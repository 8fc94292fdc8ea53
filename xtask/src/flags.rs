//! The command line of `cargo xtask`.

pub const USAGE: &str = "usage: cargo xtask <command>

commands:
  test                     run every test of the workspace, and the tidy checks
  conformance [OPTIONS]    every check, one report per rule: the system-level sweep
                           (madsim), the engine against the spec model, scenarios with
                           their snapshots, the corpus
      --cases N            generated sequences (default 4096)
      --seed S             generator seed; a failure prints the one to replay (default 0)
      --exhaustive-len L   check every sequence up to this length (default 7)
      --seeds N            system-level seeds on the madsim build (default 1000)
      --jobs J             threads for those seeds (default: CPUs; same output for any J)
  sim --seed S             replay one system-level seed: its schedule, the server's
                           journal, every client attempt, the verdict
  sim --seeds N            the system-level sweep alone, with its own table
  bench [OPTIONS]          print benchmark figures
      --baseline REV       build REV (cached under target/bench-base/) and run both builds'
                           benches interleaved: every figure side by side, with its ratio
                           (a target set against another revision has its bench built
                           there too, so one run judges every target)
      --rounds N           rounds of that comparison (default 2, at least 2)
      --gate               instructions (valgrind's callgrind) of a fixed set of workloads,
                           here and at .ci/bench-base: more than 3% more fails, unless
                           .ci/bench-accepted accepts the workload's cost
      --base REV           the gate's base instead of .ci/bench-base
      --restart-executions N
                           the restart row: `serve --state-dir` killed after N executions
                           (default 100000, a few minutes; 0 leaves it out)
  mutants [OPTIONS]        mutation testing (cargo-mutants, installed if missing), with a
                           report per file and every survivor at file:line
      --file F             mutate only files matching F (repeatable)
      --in-diff REV        mutate only the lines changed since REV
      --minutes M          stop after M minutes and report what was tested
      --jobs J             mutants built and tested at once
      --shard K/N          every Nth mutant from the Kth: a sample, in 1/N of the time
      --test-package P     judge by package P's tests only, not the workspace's
                           (repeatable; the report says which tests judged)
  fuzz [OPTIONS]           replay fixtures/fuzz-regressions/, then run mutated fixtures
                           and generated library calls in worker processes under a time
                           and memory budget; a failure is saved there (exit 1)
      --seconds N          how long to generate inputs (default 60)
      --seed S             seed of every generated input (default 0)
      --jobs J             worker processes (default: CPUs, at most 4)
      --budget-ms MS       wall time an input may take (default 2000)
      --replay FILE        run one reproducer: does it still fail?
  crash [OPTIONS]          the crash-point test (SIGKILL of `wfsim serve --state-dir` at
                           seeded moments, every answered input checked after restart)
      --points N           kill points (default 1000; `cargo xtask test` runs 50)
      --seed S             seed of the kill moments and the clients (default 1)
  soak [OPTIONS]           executions through `wfsim serve --state-dir` (release build):
                           memory at each 10%, disk, callback latency, restart time
      --executions N       executions (default 1000000)
      --keep-ended K       the server's --keep-ended (default 10000)";

#[derive(Debug, PartialEq, Eq)]
pub enum Cmd {
    Test,
    /// The options are checked by the conformance binary itself.
    Conformance(Vec<String>),
    Bench(BenchArgs),
    /// The options are checked by the sweep binary itself.
    Sim(Vec<String>),
    Mutants(Vec<String>),
    Fuzz(FuzzArgs),
    /// `--points N`, `--seed S`.
    Crash {
        points: u64,
        seed: u64,
    },
    /// `--executions N`, `--keep-ended K`.
    Soak {
        executions: u64,
        keep_ended: u64,
    },
    Help,
}

/// `cargo xtask bench`'s options: none prints today's figures.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BenchArgs {
    pub baseline: Option<String>,
    pub rounds: Option<u32>,
    pub gate: bool,
    pub base: Option<String>,
    /// Executions before the restart-time row of plain `bench` (`None`: 100,000; 0: none).
    pub restart_executions: Option<u64>,
}

impl BenchArgs {
    fn parse(args: &[String]) -> Result<BenchArgs, String> {
        let mut out = BenchArgs::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if flag == "--gate" {
                out.gate = true;
                continue;
            }
            let value = it
                .next()
                .ok_or_else(|| format!("`bench {flag}` needs a value"))?;
            match flag.as_str() {
                "--baseline" => out.baseline = Some(value.clone()),
                "--base" => out.base = Some(value.clone()),
                "--rounds" => match value.parse::<u32>() {
                    Ok(n) if n >= 2 => out.rounds = Some(n),
                    _ => return Err(format!("`bench --rounds`: '{value}' is not 2 or more")),
                },
                "--restart-executions" => match value.parse::<u64>() {
                    Ok(n) => out.restart_executions = Some(n),
                    _ => {
                        return Err(format!(
                            "`bench --restart-executions`: '{value}' is not a count"
                        ));
                    }
                },
                other => return Err(format!("`bench` has no option '{other}'")),
            }
        }
        if out.restart_executions.is_some() && (out.gate || out.baseline.is_some()) {
            return Err(
                "`bench --restart-executions` goes with plain `bench` (the other revision has no such row)"
                    .into(),
            );
        }
        if out.gate && (out.baseline.is_some() || out.rounds.is_some()) {
            return Err("`bench --gate` takes no --baseline or --rounds".into());
        }
        if out.base.is_some() && !out.gate {
            return Err("`bench --base` goes with --gate (the figures' is --baseline)".into());
        }
        if out.rounds.is_some() && out.baseline.is_none() {
            return Err("`bench --rounds` goes with --baseline".into());
        }
        Ok(out)
    }
}

/// `cargo xtask fuzz`'s options, checked here so a typo fails before a release build.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FuzzArgs {
    pub seconds: Option<u64>,
    pub seed: Option<u64>,
    pub jobs: Option<u64>,
    pub budget_ms: Option<u64>,
    pub replay: Option<String>,
}

impl FuzzArgs {
    fn parse(args: &[String]) -> Result<FuzzArgs, String> {
        let mut out = FuzzArgs::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it
                .next()
                .ok_or_else(|| format!("`fuzz {flag}` needs a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("`fuzz {flag}`: '{value}' is not a number"))
            };
            match flag.as_str() {
                "--seconds" => out.seconds = Some(number()?),
                "--seed" => out.seed = Some(number()?),
                "--jobs" if number()? == 0 => return Err("`fuzz --jobs` must be at least 1".into()),
                "--jobs" => out.jobs = Some(number()?),
                "--budget-ms" => out.budget_ms = Some(number()?),
                "--replay" => out.replay = Some(value.clone()),
                other => return Err(format!("`fuzz` has no option '{other}'")),
            }
        }
        Ok(out)
    }

    /// The fuzz binary's arguments; `replay` as given (the caller resolves it).
    pub fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        let flags = [
            ("--seconds", self.seconds),
            ("--seed", self.seed),
            ("--jobs", self.jobs),
        ];
        for (flag, value) in flags {
            if let Some(v) = value {
                out.extend([flag.to_owned(), v.to_string()]);
            }
        }
        if let Some(file) = &self.replay {
            out.extend(["--replay".to_owned(), file.clone()]);
        }
        out
    }
}

impl Cmd {
    pub fn parse(args: &[String]) -> Result<Cmd, String> {
        let Some((cmd, rest)) = args.split_first() else {
            return Err("no command given".into());
        };
        match cmd.as_str() {
            "test" if rest.is_empty() => Ok(Cmd::Test),
            "test" => Err(format!("`test` takes no arguments, got {rest:?}")),
            "conformance" => Ok(Cmd::Conformance(rest.to_vec())),
            "bench" => Ok(Cmd::Bench(BenchArgs::parse(rest)?)),
            "sim" => Ok(Cmd::Sim(rest.to_vec())),
            "mutants" => Ok(Cmd::Mutants(rest.to_vec())),
            "fuzz" => Ok(Cmd::Fuzz(FuzzArgs::parse(rest)?)),
            "crash" => {
                let mut n = numbers(rest, &["--points", "--seed"])?;
                Ok(Cmd::Crash {
                    points: n.remove("--points").unwrap_or(1000),
                    seed: n.remove("--seed").unwrap_or(1),
                })
            }
            "soak" => {
                let mut n = numbers(rest, &["--executions", "--keep-ended"])?;
                Ok(Cmd::Soak {
                    executions: n.remove("--executions").unwrap_or(1_000_000),
                    keep_ended: n.remove("--keep-ended").unwrap_or(10_000),
                })
            }
            "help" | "-h" | "--help" => Ok(Cmd::Help),
            other => Err(format!("unknown command '{other}'")),
        }
    }
}

/// Options that each take a whole number, from `known`: by name.
fn numbers(
    args: &[String],
    known: &[&str],
) -> Result<std::collections::BTreeMap<String, u64>, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if !known.contains(&flag.as_str()) {
            return Err(format!(
                "unknown option '{flag}' (known: {})",
                known.join(", ")
            ));
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a number"))?;
        let n = value
            .parse()
            .map_err(|_| format!("{flag} {value}: not a whole number"))?;
        out.insert(flag.clone(), n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cmd, String> {
        Cmd::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn commands() {
        assert_eq!(parse(&["test"]), Ok(Cmd::Test));
        assert!(parse(&["test", "x"]).is_err());
        assert_eq!(
            parse(&["conformance", "--seed", "3"]),
            Ok(Cmd::Conformance(vec!["--seed".into(), "3".into()]))
        );
        assert!(parse(&[]).is_err());
        assert_eq!(
            parse(&["crash"]),
            Ok(Cmd::Crash {
                points: 1000,
                seed: 1
            })
        );
        assert_eq!(
            parse(&["crash", "--points", "60", "--seed", "4"]),
            Ok(Cmd::Crash {
                points: 60,
                seed: 4
            })
        );
        assert!(parse(&["crash", "--points"]).is_err());
        assert!(parse(&["crash", "--points", "x"]).is_err());
        assert!(parse(&["soak", "--runs", "1"]).is_err());
        assert_eq!(
            parse(&["soak", "--executions", "5000", "--keep-ended", "1000"]),
            Ok(Cmd::Soak {
                executions: 5000,
                keep_ended: 1000
            })
        );
        assert_eq!(parse(&["bench"]), Ok(Cmd::Bench(BenchArgs::default())));
        assert_eq!(
            parse(&["mutants", "--minutes", "8"]),
            Ok(Cmd::Mutants(vec!["--minutes".into(), "8".into()]))
        );
        assert!(parse(&["bench", "x"]).is_err());
        assert!(parse(&["bench", "x", "y"]).is_err());
        assert!(
            parse(&["nope"])
                .unwrap_err()
                .contains("unknown command 'nope'")
        );
    }

    #[test]
    fn bench_options() {
        let want = BenchArgs {
            baseline: Some("6fc352b".into()),
            rounds: Some(3),
            ..BenchArgs::default()
        };
        assert_eq!(
            parse(&["bench", "--baseline", "6fc352b", "--rounds", "3"]),
            Ok(Cmd::Bench(want))
        );
        let gate = BenchArgs {
            gate: true,
            base: Some("abc".into()),
            ..BenchArgs::default()
        };
        assert_eq!(
            parse(&["bench", "--gate", "--base", "abc"]),
            Ok(Cmd::Bench(gate))
        );
        assert!(parse(&["bench", "--baseline"]).is_err());
        assert!(parse(&["bench", "--baseline", "x", "--rounds", "1"]).is_err());
        assert!(parse(&["bench", "--rounds", "3"]).is_err());
        assert!(parse(&["bench", "--gate", "--baseline", "x"]).is_err());
        assert!(parse(&["bench", "--base", "x"]).is_err());
        let restart = BenchArgs {
            restart_executions: Some(0),
            ..BenchArgs::default()
        };
        assert_eq!(
            parse(&["bench", "--restart-executions", "0"]),
            Ok(Cmd::Bench(restart))
        );
        assert!(parse(&["bench", "--restart-executions", "many"]).is_err());
        assert!(parse(&["bench", "--gate", "--restart-executions", "5"]).is_err());
        assert!(parse(&["bench", "--baseline", "x", "--restart-executions", "5"]).is_err());
    }

    #[test]
    fn fuzz_options() {
        assert_eq!(parse(&["fuzz"]), Ok(Cmd::Fuzz(FuzzArgs::default())));
        let all = parse(&[
            "fuzz",
            "--seconds",
            "5",
            "--seed",
            "7",
            "--jobs",
            "2",
            "--budget-ms",
            "900",
            "--replay",
            "f.txt",
        ]);
        let want = FuzzArgs {
            seconds: Some(5),
            seed: Some(7),
            jobs: Some(2),
            budget_ms: Some(900),
            replay: Some("f.txt".into()),
        };
        assert_eq!(all, Ok(Cmd::Fuzz(want)));
        let Ok(Cmd::Fuzz(args)) = parse(&["fuzz", "--seed", "7", "--seconds", "5"]) else {
            panic!("fuzz did not parse");
        };
        assert_eq!(args.to_args(), ["--seconds", "5", "--seed", "7"]);
        assert!(
            parse(&["fuzz", "--seconds"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse(&["fuzz", "--seconds", "ten"])
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse(&["fuzz", "--jobs", "0"]).is_err());
        assert!(
            parse(&["fuzz", "--fast", "1"])
                .unwrap_err()
                .contains("no option '--fast'")
        );
    }
}
