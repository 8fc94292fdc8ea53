//! The two builds `cargo xtask bench --baseline` and `--gate` compare: this checkout, and
//! another revision checked out as a git worktree under `target/bench-base/<sha>/src` with
//! its own target directories beside it, so neither build evicts the other's artifacts and
//! the second run of a comparison rebuilds nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project_root;

/// A source tree and where its release builds go.
#[derive(Debug)]
pub struct Tree {
    /// What tables call it: `HEAD`, or the revision as given.
    pub name: String,
    pub src: PathBuf,
    /// The ordinary build.
    pub target: PathBuf,
    /// The madsim build (`--cfg madsim`), as `cargo xtask test` keeps it apart.
    pub sim_target: PathBuf,
}

/// Runs git in `dir`, returning its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("could not start git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Tree {
    /// This checkout, built where `cargo xtask test` and `conformance` build it.
    pub fn head() -> Tree {
        let root = project_root();
        Tree {
            name: "HEAD".into(),
            target: root.join("target"),
            sim_target: root.join("target/sim"),
            src: root,
        }
    }

    /// `rev` checked out under `target/bench-base/<full sha>/src`, made once and reused.
    pub fn checkout(rev: &str) -> Result<Tree, String> {
        let root = project_root();
        let sha = git(
            &root,
            &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
        )
        .map_err(|_| format!("'{rev}' is not a commit of this repository"))?;
        let dir = root.join("target/bench-base").join(&sha);
        let src = dir.join("src");
        let ready = src.join("Cargo.toml").is_file()
            && git(&src, &["rev-parse", "HEAD"]).is_ok_and(|h| h == sha);
        if !ready {
            // A worktree whose folder was deleted (`cargo clean`) is still registered.
            git(&root, &["worktree", "prune"])?;
            if src.exists() {
                std::fs::remove_dir_all(&src)
                    .map_err(|e| format!("could not remove {}: {e}", src.display()))?;
            }
            eprintln!("$ git worktree add --detach {} {sha}", src.display());
            git(
                &root,
                &[
                    "worktree",
                    "add",
                    "--detach",
                    "--force",
                    &src.to_string_lossy(),
                    &sha,
                ],
            )?;
        }
        Ok(Tree {
            name: rev.to_owned(),
            target: dir.join("target"),
            sim_target: dir.join("target/sim"),
            src,
        })
    }

    /// `cargo <args>` in this tree, into its ordinary or (`sim`) madsim target directory,
    /// with RUSTFLAGS fixed so both trees build alike. Returns cargo's stdout.
    pub fn cargo(&self, args: &[&str], sim: bool) -> Result<String, String> {
        let target = if sim { &self.sim_target } else { &self.target };
        let flags = if sim { "--cfg madsim" } else { "" };
        eprintln!(
            "$ ({}) RUSTFLAGS='{flags}' CARGO_TARGET_DIR={} cargo {}",
            self.name,
            target.display(),
            args.join(" ")
        );
        let out = Command::new(crate::cargo_bin())
            .args(args)
            .current_dir(&self.src)
            .env("CARGO_TARGET_DIR", target)
            .env("RUSTFLAGS", flags)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("could not start cargo: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "({}) `cargo {}` failed ({})",
                self.name,
                args.join(" "),
                out.status
            ))
        }
    }

    /// Builds binary `bin` of `package` with optimizations; its path.
    pub fn build_bin(&self, package: &str, bin: &str, sim: bool) -> Result<PathBuf, String> {
        self.cargo(
            &[
                "build",
                "--release",
                "--locked",
                "--quiet",
                "--package",
                package,
                "--bin",
                bin,
            ],
            sim,
        )?;
        let target = if sim { &self.sim_target } else { &self.target };
        Ok(target.join("release").join(bin))
    }

    /// Builds bench target `bench` of `package` (the bench profile); the executable's path,
    /// which only cargo's JSON messages tell (it carries a hash).
    pub fn build_bench(&self, package: &str, bench: &str) -> Result<PathBuf, String> {
        let out = self.cargo(
            &[
                "bench",
                "--no-run",
                "--locked",
                "--quiet",
                "--message-format=json",
                "--package",
                package,
                "--bench",
                bench,
            ],
            false,
        )?;
        executable_of(&out, bench).ok_or_else(|| {
            format!(
                "({}) cargo named no executable for bench {bench}",
                self.name
            )
        })
    }
}

/// The executable cargo's JSON messages (`--message-format=json`) give for target `name`.
fn executable_of(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_comes_from_cargos_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"hyper"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"live"},"executable":"/t/release/deps/live-0a1b"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_of(messages, "live"),
            Some(PathBuf::from("/t/release/deps/live-0a1b"))
        );
        assert_eq!(executable_of(messages, "other"), None);
    }
}
