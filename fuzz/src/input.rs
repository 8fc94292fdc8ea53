//! Inputs, and their one encoding: what the parent sends a worker, and the body of a
//! reproducer file.
//!
//! The encoding is a few `key: value` lines, then byte-counted sections for texts, which
//! may hold any bytes (invalid UTF-8 included) and are kept exactly:
//!
//! ```text
//! kind: definition
//! file: retry_loop.yaml
//! argument: {"who": "Ada"}
//! --- scenario 12 bytes ---
//! <12 bytes>
//! --- text 345 bytes ---
//! <345 bytes>
//! ```
//!
//! `kind: stdlib` has `function: time.parse` and `args: ["2024-..."]` (recipes, see
//! [`crate::recipe`]); `kind: probe` has `probe: panic` and exists so that the tests can
//! show the parent recognising every way a worker fails.

use crate::recipe::{self, Recipe};

/// One thing to run.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Definition(Definition),
    Stdlib(StdlibCall),
    Probe(Probe),
}

/// A workflow definition, loaded and, when valid, executed.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// The file name the engine sees: its extension picks JSON or YAML.
    pub file: String,
    pub text: Vec<u8>,
    /// A scenario (`harness/src/scenario.rs`) whose requests drive the execution; without
    /// one, every waiting await gets a request.
    pub scenario: Option<Vec<u8>>,
    /// The execution argument.
    pub argument: Option<Recipe>,
}

/// A standard-library function called with positional arguments; `None` leaves an
/// optional one out.
#[derive(Clone, Debug, PartialEq)]
pub struct StdlibCall {
    pub function: String,
    pub args: Vec<Option<Recipe>>,
}

/// A worker that fails on purpose, one way per variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Panic,
    StackOverflow,
    Memory,
    Hang,
}

impl Probe {
    pub const ALL: [Probe; 4] = [
        Probe::Panic,
        Probe::StackOverflow,
        Probe::Memory,
        Probe::Hang,
    ];

    fn name(self) -> &'static str {
        match self {
            Probe::Panic => "panic",
            Probe::StackOverflow => "stack-overflow",
            Probe::Memory => "memory",
            Probe::Hang => "hang",
        }
    }
}

impl Input {
    /// `definition`, `stdlib` or `probe`.
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Definition(_) => "definition",
            Input::Stdlib(_) => "stdlib",
            Input::Probe(_) => "probe",
        }
    }

    /// A short, file-name-safe description: the function called, or the definition's file.
    pub fn subject(&self) -> String {
        let raw = match self {
            Input::Definition(d) => d.file.clone(),
            Input::Stdlib(c) => c.function.clone(),
            Input::Probe(p) => p.name().to_owned(),
        };
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .take(40)
            .collect()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        field(&mut out, "kind", self.kind());
        match self {
            Input::Definition(d) => {
                field(&mut out, "file", &d.file);
                if let Some(a) = &d.argument {
                    field(&mut out, "argument", &a.to_string());
                }
                if let Some(s) = &d.scenario {
                    section(&mut out, "scenario", s);
                }
                section(&mut out, "text", &d.text);
            }
            Input::Stdlib(c) => {
                field(&mut out, "function", &c.function);
                field(&mut out, "args", &recipe::show_args(&c.args));
            }
            Input::Probe(p) => field(&mut out, "probe", p.name()),
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Input, String> {
        let doc = Doc::read(bytes)?;
        let input = doc.input()?;
        if let Some((k, _)) = doc
            .fields
            .iter()
            .find(|(k, _)| !INPUT_KEYS.contains(&k.as_str()))
        {
            return Err(format!("unknown field '{k}'"));
        }
        Ok(input)
    }

    /// A stable name for the input: FNV-1a of its encoding (std's hasher is seeded per
    /// process, so it could not name a file).
    pub fn hash(&self) -> u64 {
        fnv1a(&self.encode())
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const INPUT_KEYS: &[&str] = &["kind", "file", "argument", "function", "args", "probe"];

/// Whether `key` is a field of an input's encoding (a reproducer adds its own).
pub(crate) fn is_input_key(key: &str) -> bool {
    INPUT_KEYS.contains(&key)
}

/// One line: newlines in `value` would end the field early, so they are spelled out.
fn field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(one_line(value).as_bytes());
    out.push(b'\n');
}

/// `value` on one line: `\n` and `\r` written as `\n` and `\r`.
pub fn one_line(value: &str) -> String {
    value.replace('\r', "\\r").replace('\n', "\\n")
}

fn section(out: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    out.extend_from_slice(format!("--- {name} {} bytes ---\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
    out.push(b'\n');
}

/// A file or message read into its fields and sections, in order.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub fields: Vec<(String, String)>,
    pub sections: Vec<(String, Vec<u8>)>,
}

impl Doc {
    pub fn read(bytes: &[u8]) -> Result<Doc, String> {
        let mut doc = Doc::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or("the last line has no newline")?;
            let line = std::str::from_utf8(&rest[..end])
                .map_err(|_| "a header line is not UTF-8".to_owned())?;
            rest = &rest[end + 1..];
            if let Some(head) = line.strip_prefix("--- ") {
                let (name, len) = head
                    .strip_suffix(" bytes ---")
                    .and_then(|h| h.split_once(' '))
                    .ok_or_else(|| format!("bad section line '{line}'"))?;
                let len: usize = len
                    .parse()
                    .map_err(|_| format!("bad section length in '{line}'"))?;
                if rest.len() < len + 1 || rest[len] != b'\n' {
                    return Err(format!("section '{name}' is not {len} bytes and a newline"));
                }
                doc.sections.push((name.to_owned(), rest[..len].to_vec()));
                rest = &rest[len + 1..];
            } else if !doc.sections.is_empty() {
                return Err(format!("a field after the sections: '{line}'"));
            } else {
                let (k, v) = line
                    .split_once(": ")
                    .ok_or_else(|| format!("bad line '{line}'"))?;
                doc.fields.push((k.to_owned(), v.to_owned()));
            }
        }
        Ok(doc)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn need(&self, key: &str) -> Result<&str, String> {
        self.get(key).ok_or_else(|| format!("no '{key}' field"))
    }

    fn section(&self, name: &str) -> Option<&[u8]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }

    pub fn input(&self) -> Result<Input, String> {
        let input = match self.need("kind")? {
            "definition" => Input::Definition(Definition {
                file: self.need("file")?.to_owned(),
                text: self.section("text").ok_or("no 'text' section")?.to_vec(),
                scenario: self.section("scenario").map(<[u8]>::to_vec),
                argument: self.get("argument").map(Recipe::parse).transpose()?,
            }),
            "stdlib" => Input::Stdlib(StdlibCall {
                function: self.need("function")?.to_owned(),
                args: Recipe::parse_args(self.need("args")?)?,
            }),
            "probe" => {
                let name = self.need("probe")?;
                Input::Probe(
                    *Probe::ALL
                        .iter()
                        .find(|p| p.name() == name)
                        .ok_or_else(|| format!("unknown probe '{name}'"))?,
                )
            }
            other => return Err(format!("unknown kind '{other}'")),
        };
        if let Some((name, _)) = self
            .sections
            .iter()
            .find(|(n, _)| !matches!(n.as_str(), "text" | "scenario"))
        {
            return Err(format!("unknown section '{name}'"));
        }
        Ok(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> Input {
        Input::Definition(Definition {
            file: "a b.yaml".into(),
            text: b"main:\n  steps: []\n\xff\xfe--- text 3 bytes ---\n".to_vec(),
            scenario: Some(b"workflow: x\n".to_vec()),
            argument: Some(Recipe::Map(vec![("who".into(), Recipe::str("Ada"))])),
        })
    }

    #[test]
    fn encoding_round_trips_any_bytes() {
        let stdlib = Input::Stdlib(StdlibCall {
            function: "time.parse".into(),
            args: vec![Some(Recipe::str("2024\u{e9}")), None],
        });
        for input in [definition(), stdlib, Input::Probe(Probe::Hang)] {
            let bytes = input.encode();
            assert_eq!(Input::decode(&bytes), Ok(input.clone()));
        }
        let text = String::from_utf8_lossy(&definition().encode()).into_owned();
        assert!(text.starts_with("kind: definition\nfile: a b.yaml\nargument: {\"who\": \"Ada\"}\n--- scenario 12 bytes ---\n"), "{text}");
    }

    #[test]
    fn damaged_encodings_are_refused() {
        let good = definition().encode();
        let cut = &good[..good.len() - 2];
        assert!(Input::decode(cut).is_err());
        assert!(
            Input::decode(b"kind: nope\n")
                .unwrap_err()
                .contains("unknown kind")
        );
        assert!(
            Input::decode(b"kind: stdlib\nfunction: len\n")
                .unwrap_err()
                .contains("'args'")
        );
        assert!(
            Input::decode(b"kind: probe\nprobe: panic\nextra: 1\n")
                .unwrap_err()
                .contains("extra")
        );
        assert!(
            Input::decode(b"kind: definition\nfile: a\n")
                .unwrap_err()
                .contains("text")
        );
        assert!(Input::decode(b"kind: definition\nfile: a\n--- text 1 bytes ---\nab\n").is_err());
    }

    #[test]
    fn names_are_stable_and_differ_by_content() {
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let a = definition();
        let mut b = definition();
        if let Input::Definition(d) = &mut b {
            d.text.push(b' ');
        }
        assert_eq!(a.hash(), definition().hash());
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.subject(), "a-b.yaml");
    }
}
