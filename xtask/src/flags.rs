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
  sim --seed S             replay one system-level seed: its schedule, the server's
                           journal, every client attempt, the verdict
  sim --seeds N            the system-level sweep alone, with its own table
  bench                    print benchmark figures
  mutants [OPTIONS]        mutation testing (cargo-mutants, installed if missing), with a
                           report per file and every survivor at file:line
      --file F             mutate only files matching F (repeatable)
      --in-diff REV        mutate only the lines changed since REV
      --minutes M          stop after M minutes and report what was tested";

#[derive(Debug, PartialEq, Eq)]
pub enum Cmd {
    Test,
    /// The options are checked by the conformance binary itself.
    Conformance(Vec<String>),
    Bench,
    /// The options are checked by the sweep binary itself.
    Sim(Vec<String>),
    Mutants(Vec<String>),
    Help,
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
            "bench" if rest.is_empty() => Ok(Cmd::Bench),
            "sim" => Ok(Cmd::Sim(rest.to_vec())),
            "mutants" => Ok(Cmd::Mutants(rest.to_vec())),
            "bench" => Err(format!("`bench` takes no arguments, got {rest:?}")),
            "help" | "-h" | "--help" => Ok(Cmd::Help),
            other => Err(format!("unknown command '{other}'")),
        }
    }
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
        assert_eq!(parse(&["bench"]), Ok(Cmd::Bench));
        assert_eq!(
            parse(&["mutants", "--minutes", "8"]),
            Ok(Cmd::Mutants(vec!["--minutes".into(), "8".into()]))
        );
        assert!(parse(&["bench", "x"]).is_err());
        assert!(
            parse(&["nope"])
                .unwrap_err()
                .contains("unknown command 'nope'")
        );
    }
}
