//! Reproducers: the files of `fixtures/fuzz-regressions/`, one failing input each.
//!
//! A file is the header line `wfsim-fuzz reproducer`, what failed and how it was found,
//! then the input's own encoding ([`crate::input`]):
//!
//! ```text
//! wfsim-fuzz reproducer
//! failure: panic
//! location: engine/src/time.rs:233:25
//! detail: byte index 1 is not a char boundary; …
//! signature: panic at engine/src/time.rs:233:25
//! origin: generated call
//! found-by: seed 0, job 1, input 4711
//! replay: cargo xtask fuzz --replay fixtures/fuzz-regressions/stdlib-time.parse-….txt
//! kind: stdlib
//! function: time.parse
//! args: ["2024-01-01T00:00:00\u{e9}1234"]
//! ```
//!
//! The name is `<kind>-<subject>-<FNV-1a of the input>.txt`: the same input always gets
//! the same name. The signature groups failures that are likely one bug (a panic's
//! location; otherwise the kind and the function or the mutation that made the input
//! heavy), so a run saves one reproducer per bug, not one per input.

use std::fs;
use std::path::{Path, PathBuf};

use crate::input::{Doc, Input, one_line};
use crate::mutate;
use crate::recipe::Recipe;
use crate::supervisor::{Failure, FailureKind};

pub const MAGIC: &str = "wfsim-fuzz reproducer";
/// Separates the mutations in an origin: `corpus/cases/a.yaml >> splice >> deep-block`.
pub const STEP: &str = " >> ";
/// Where reproducers live, from the project root.
pub const DIR: &str = "fixtures/fuzz-regressions";

const META_KEYS: &[&str] = &[
    "failure",
    "location",
    "detail",
    "signature",
    "origin",
    "found-by",
    "replay",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Reproducer {
    pub input: Input,
    pub failure: Failure,
    pub signature: String,
    /// How the input was made: the fixture and the mutations applied, or the generator.
    pub origin: String,
    /// The run that found it, `seed S, job J, input N`.
    pub found_by: String,
}

impl Reproducer {
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{:016x}.txt",
            self.input.kind(),
            self.input.subject(),
            self.input.hash()
        )
    }

    /// The path from the project root, as the replay command names it.
    pub fn rel_path(&self) -> String {
        format!("{DIR}/{}", self.file_name())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = format!("{MAGIC}\n").into_bytes();
        let mut field = |k: &str, v: &str| {
            out.extend_from_slice(format!("{k}: {}\n", one_line(v)).as_bytes());
        };
        field("failure", self.failure.kind.name());
        if let Some(at) = &self.failure.location {
            field("location", at);
        }
        field("detail", &self.failure.detail);
        field("signature", &self.signature);
        field("origin", &self.origin);
        field("found-by", &self.found_by);
        field(
            "replay",
            &format!("cargo xtask fuzz --replay {}", self.rel_path()),
        );
        out.extend_from_slice(&self.input.encode());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Reproducer, String> {
        let rest = bytes
            .strip_prefix(MAGIC.as_bytes())
            .and_then(|r| r.strip_prefix(b"\n"))
            .ok_or_else(|| format!("the first line is not '{MAGIC}'"))?;
        let doc = Doc::read(rest)?;
        for (k, _) in &doc.fields {
            if !META_KEYS.contains(&k.as_str()) && !crate::input::is_input_key(k) {
                return Err(format!("unknown field '{k}'"));
            }
        }
        let get = |k: &str| doc.get(k).ok_or_else(|| format!("no '{k}' field"));
        let kind = get("failure")?;
        Ok(Reproducer {
            input: doc.input()?,
            failure: Failure {
                kind: FailureKind::parse(kind)
                    .ok_or_else(|| format!("unknown failure '{kind}'"))?,
                location: doc.get("location").map(str::to_owned),
                detail: get("detail")?.to_owned(),
            },
            signature: get("signature")?.to_owned(),
            origin: get("origin")?.to_owned(),
            found_by: get("found-by")?.to_owned(),
        })
    }

    /// Reads the file at `path`.
    pub fn read(path: &Path) -> Result<Reproducer, String> {
        let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Reproducer::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// What groups failures into one bug: a panic's location; otherwise the kind of failure
/// and what made the input dangerous. A stack overflow on a deeply nested argument is one
/// bug whatever the function (rendering, comparing or dropping the value recurses); other
/// failures of a call belong to the function. A definition's belong to the heavy mutation
/// or the template that made it (every growing loop is one: values without a size limit).
pub fn signature(input: &Input, failure: &Failure, origin: &str) -> String {
    if let Some(at) = &failure.location {
        return format!("panic at {at}");
    }
    let kind = failure.kind.name();
    match input {
        Input::Stdlib(c) => {
            let deep = c.args.iter().flatten().any(Recipe::is_deep);
            if failure.kind == FailureKind::StackOverflow && deep {
                format!("{kind} in a call with a deeply nested argument")
            } else {
                format!("{kind} in {}", c.function)
            }
        }
        Input::Definition(_) => format!("{kind} in definition: {}", cause(origin)),
        Input::Probe(_) => format!("{kind} in {}", input.subject()),
    }
}

/// From an origin `<base> >> <mutation> >> …`: the last heavy mutation, else the
/// template (`synth grow x = [x]` is `synth grow`), else "mutated text".
fn cause(origin: &str) -> String {
    let mut parts = origin.split(STEP);
    let base = parts.next().unwrap_or_default();
    let heavy = parts
        .filter(|m| mutate::by_name(m).is_some_and(|m| m.heavy))
        .last();
    match heavy {
        Some(m) => m.to_owned(),
        None if base.starts_with("synth") => base.split(" x = ").next().unwrap_or(base).to_owned(),
        None => "mutated text".to_owned(),
    }
}

/// The reproducer files of `dir` (`*.txt`), in name order; none if it does not exist.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    Ok(files)
}

/// Writes `rep` under `root/DIR`; returns its path from the root.
pub fn save(root: &Path, rep: &Reproducer) -> Result<String, String> {
    let dir = root.join(DIR);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(rep.file_name());
    fs::write(&path, rep.encode()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(rep.rel_path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Definition, StdlibCall};
    use crate::recipe::Recipe;

    fn time_parse() -> Reproducer {
        let input = Input::Stdlib(StdlibCall {
            function: "time.parse".into(),
            args: vec![Some(Recipe::str("2024-01-01T00:00:00\u{e9}1234"))],
        });
        let failure = Failure {
            kind: FailureKind::Panic,
            location: Some("engine/src/time.rs:233:25".into()),
            detail: "byte index 1 is not a char boundary;\nsecond line".into(),
        };
        Reproducer {
            signature: signature(&input, &failure, "generated call"),
            input,
            failure,
            origin: "generated call".into(),
            found_by: "seed 0, job 1, input 4711".into(),
        }
    }

    #[test]
    fn files_round_trip_and_say_how_to_replay() {
        let rep = time_parse();
        let bytes = rep.encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("wfsim-fuzz reproducer\nfailure: panic\n"),
            "{text}"
        );
        assert!(text.contains("detail: byte index 1 is not a char boundary;\\nsecond line\n"));
        assert!(text.contains(&format!(
            "replay: cargo xtask fuzz --replay {DIR}/stdlib-time.parse-"
        )));
        assert!(
            text.ends_with("args: [\"2024-01-01T00:00:00\\u{e9}1234\"]\n"),
            "{text}"
        );
        let back = Reproducer::decode(&bytes).unwrap();
        assert_eq!(back.input, rep.input);
        assert_eq!(back.signature, "panic at engine/src/time.rs:233:25");
        assert_eq!(back.failure.kind, FailureKind::Panic);
        assert_eq!(back.found_by, rep.found_by);
    }

    #[test]
    fn damaged_files_are_refused() {
        let good = time_parse().encode();
        assert!(
            Reproducer::decode(&good[1..])
                .unwrap_err()
                .contains("first line")
        );
        let text = String::from_utf8(good).unwrap();
        let unknown = text.replace("origin:", "orign:");
        assert!(
            Reproducer::decode(unknown.as_bytes())
                .unwrap_err()
                .contains("orign")
        );
        let no_kind = text.replace("failure: panic", "failure: oops");
        assert!(
            Reproducer::decode(no_kind.as_bytes())
                .unwrap_err()
                .contains("oops")
        );
    }

    #[test]
    fn names_are_stable() {
        let a = time_parse();
        let name = a.file_name();
        assert!(
            name.starts_with("stdlib-time.parse-") && name.ends_with(".txt"),
            "{name}"
        );
        assert_eq!(name, time_parse().file_name());
        assert_eq!(name.len(), "stdlib-time.parse-".len() + 16 + 4);
    }

    #[test]
    fn signatures_group_by_cause() {
        let def = Input::Definition(Definition {
            file: "x.yaml".into(),
            text: b"- 1\n".to_vec(),
            scenario: None,
            argument: None,
        });
        let overflow = Failure {
            kind: FailureKind::StackOverflow,
            location: None,
            detail: String::new(),
        };
        assert_eq!(
            signature(
                &def,
                &overflow,
                "workflows/a.yaml >> flip-bits >> deep-block >> truncate"
            ),
            "stack-overflow in definition: deep-block"
        );
        assert_eq!(
            signature(&def, &overflow, "workflows/a.yaml >> flip-bits"),
            "stack-overflow in definition: mutated text"
        );
        assert_eq!(
            signature(&def, &overflow, "synth grow x = x + x >> splice"),
            "stack-overflow in definition: synth grow"
        );
        assert_eq!(
            signature(&time_parse().input, &overflow, "generated call"),
            "stack-overflow in time.parse"
        );
        let deep = Input::Stdlib(StdlibCall {
            function: "default".into(),
            args: vec![Some(Recipe::Nest(Box::new(Recipe::Null), 9000, None)), None],
        });
        assert_eq!(
            signature(&deep, &overflow, "generated call"),
            "stack-overflow in a call with a deeply nested argument"
        );
    }

    #[test]
    fn listing_is_sorted_and_tolerates_a_missing_directory() {
        assert_eq!(list(Path::new("/nonexistent/wfsim-fuzz")), Ok(vec![]));
        let dir = std::env::temp_dir().join(format!("wfsim-fuzz-list-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for name in ["b.txt", "a.txt", "README.md"] {
            fs::write(dir.join(name), "x").unwrap();
        }
        let names: Vec<String> = list(&dir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, ["a.txt", "b.txt"]);
    }
}
