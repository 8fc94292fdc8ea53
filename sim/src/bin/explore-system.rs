//! `wfsim explore FILE --system`: the explore file's schedules played through the real
//! server on the simulated world (`wfsim_sim::explore`). `wfsim explore --system` runs this
//! binary (built with `--cfg madsim` in `target/sim`) with its options checked, so the
//! options here are the same, and so are the output and the exit codes (SPEC §9).

#[cfg(not(madsim))]
fn main() {
    eprintln!(
        "explore-system runs only in the madsim build: use `wfsim explore --system`, which builds it"
    );
    std::process::exit(2);
}

#[cfg(madsim)]
fn main() -> std::process::ExitCode {
    system::main()
}

#[cfg(madsim)]
mod system {
    use std::path::PathBuf;
    use std::process::ExitCode;

    use wfsim_explore::{Options, progress, report};
    use wfsim_sim::explore::SystemLevel;

    const USAGE: &str = "usage: explore-system FILE [--seeds N] [--seed S] [--jobs J] [--shard K/N] [--json] [--lcov FILE]
       explore-system --bench N   (cargo xtask bench: N seeds of fixtures/explore/approval.yaml, --jobs 1 and 2)";

    fn fail(msg: &str) -> ExitCode {
        eprintln!("{msg}");
        ExitCode::from(2)
    }

    fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        v.as_deref()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag}: a number\n{USAGE}"))
    }

    /// `cargo xtask bench`'s system-level explore rows.
    fn bench(seeds: Option<String>) -> ExitCode {
        let Some(seeds) = seeds.and_then(|n| n.parse::<u64>().ok()).filter(|&n| n > 0) else {
            return fail(USAGE);
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/explore/approval.yaml");
        match wfsim_explore::bench::rows("system level (madsim)", &SystemLevel, &path, seeds, 3) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(&e.0),
        }
    }

    pub fn main() -> ExitCode {
        if std::env::args().nth(1).as_deref() == Some("--bench") {
            return bench(std::env::args().nth(2));
        }
        let mut file: Option<PathBuf> = None;
        let mut options = Options::default();
        let (mut json, mut lcov) = (false, None::<PathBuf>);
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let parsed: Result<(), String> = match a.as_str() {
                "--json" => {
                    json = true;
                    Ok(())
                }
                "--seeds" => number("--seeds", args.next()).map(|n| options.seeds = Some(n)),
                "--seed" => number("--seed", args.next()).map(|n| options.seed = n),
                "--jobs" => number("--jobs", args.next()).map(|n| options.jobs = n),
                "--lcov" => match args.next() {
                    Some(f) => {
                        lcov = Some(PathBuf::from(f));
                        Ok(())
                    }
                    None => Err(format!("--lcov: a file\n{USAGE}")),
                },
                "--shard" => args
                    .next()
                    .and_then(|s| {
                        let (k, n) = s.split_once('/')?;
                        Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?))
                    })
                    .filter(|&(k, n)| k >= 1 && k <= n)
                    .map(|s| options.shard = Some(s))
                    .ok_or_else(|| "--shard: K/N with 1 ≤ K ≤ N, such as 1/4".to_owned()),
                _ if a.starts_with("--") || file.is_some() => Err(format!("{a}?\n{USAGE}")),
                _ => {
                    file = Some(PathBuf::from(a));
                    Ok(())
                }
            };
            if let Err(e) = parsed {
                return fail(&e);
            }
        }
        let Some(file) = file else {
            return fail(USAGE);
        };
        if options.jobs == 0 || options.seeds == Some(0) {
            return fail("--jobs and --seeds: 1 or more");
        }
        options.progress = progress::on_terminal("system level");
        let report = wfsim_explore::explore_with(&SystemLevel, &file, &options);
        progress::clear();
        let report = match report {
            Ok(r) => r,
            Err(e) => return fail(&e.0),
        };
        match report::emit(&report, json, lcov.as_deref()) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => fail(&e),
        }
    }
}
