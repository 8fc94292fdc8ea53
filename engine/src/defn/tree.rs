//! A definition file as a tree of values, each with the position it was written at.
//!
//! YAML is read by `saphyr`, a YAML 1.2 parser that keeps a position for every node (serde_yaml
//! is deprecated upstream and keeps none). JSON is first checked by `serde_json`, so a JSON
//! syntax error is reported as JSON, at its own line and column; a valid JSON document is then
//! read by the same YAML reader (JSON is YAML 1.2) to get the positions.

use saphyr::{MarkedYamlOwned, ScalarOwned, YamlDataOwned, YamlLoader};
use saphyr_parser::{Event, SpannedEventReceiver};

use super::node::has_duplicate;
use crate::limits::DEFINITION_DEPTH_MAX;

pub use super::node::{Node, NodeKind};
pub use crate::pos::Pos;
use crate::value::Value;

/// Why a file is not a tree of values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Which syntax a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Json,
}

impl Syntax {
    /// By the file's extension: `.json` is JSON, anything else YAML.
    pub fn of_path(path: &str) -> Syntax {
        if path.to_ascii_lowercase().ends_with(".json") {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

pub fn parse(text: &str, syntax: Syntax) -> Result<Node, SyntaxError> {
    if syntax == Syntax::Json {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
            return Err(SyntaxError {
                // serde_json counts the column of an error at the end of a line (an empty
                // file, say) as 0; positions here are 1-based.
                pos: Pos {
                    line: (e.line() as u32).max(1),
                    col: (e.column() as u32).max(1),
                },
                message: format!("invalid JSON: {}", json_reason(&e)),
            });
        }
        if let Some(node) = super::block_yaml::read_json(text) {
            return Ok(node);
        }
    }
    if syntax == Syntax::Yaml {
        if let Some(node) = super::block_yaml::read(text) {
            return Ok(node);
        }
    }
    read_direct(text).unwrap_or_else(|| read_loaded(text))
}

/// [`parse`] without its fast paths ([`super::block_yaml`]): what the fast paths' answers
/// are compared with, by the tests and by the fuzzer on every definition it makes.
pub fn parse_with_saphyr(text: &str, syntax: Syntax) -> Result<Node, SyntaxError> {
    if syntax == Syntax::Json && serde_json::from_str::<serde_json::Value>(text).is_err() {
        return parse(text, syntax);
    }
    read_direct(text).unwrap_or_else(|| read_loaded(text))
}

/// A YAML scan error on a line with an unquoted `${...}` gets the likely fix: an expression
/// holding `: `, braces or brackets reads as YAML structure unless quoted whole
/// (`x: ${map.get({"k": 1}, "k")}` is a mapping inside a mapping to YAML).
fn quote_hint(text: &str, mut e: SyntaxError) -> SyntaxError {
    let line = text.lines().nth((e.pos.line as usize).saturating_sub(1));
    let unquoted = line.and_then(|l| l.find("${")).is_some_and(|i| {
        let before = line.unwrap_or_default()[..i].trim_end();
        !(before.ends_with('\'') || before.ends_with('"'))
    });
    if unquoted {
        e.message.push_str(
            "; an expression holding ': ', '{', '}', '[' or ']' must be quoted whole in YAML: '${...}'",
        );
    }
    e
}

/// Any YAML text, through saphyr's loader: the one definition of every case
/// [`read_direct`] leaves to it.
fn read_loaded(text: &str) -> Result<Node, SyntaxError> {
    let docs = load_checked(text)?;
    match docs.len() {
        0 => Err(SyntaxError {
            pos: Pos { line: 1, col: 1 },
            message: "the file is empty; a workflow is a list of steps or a map with 'main'".into(),
        }),
        1 => convert(&docs[0]),
        _ => Err(SyntaxError {
            pos: Pos { line: 1, col: 1 },
            message: "the file holds several YAML documents; a workflow is one".into(),
        }),
    }
}

fn scan_error(e: &saphyr_parser::ScanError) -> SyntaxError {
    SyntaxError {
        pos: Pos {
            line: e.marker().line() as u32,
            col: e.marker().col() as u32 + 1,
        },
        message: format!("invalid YAML: {}", e.info()),
    }
}

/// One pass over the parser's events: nesting deeper than [`DEFINITION_DEPTH_MAX`] and
/// aliases are refused where they start, and every event that passes goes on to saphyr's
/// loader, which builds the documents. The events are read here, in a loop, rather than by
/// `Parser::load`, which recurses once per level; and an alias can stand for a copy of a
/// whole subtree (a few lines of aliases can stand for billions of nodes), so none reaches
/// the loader. One pass, not a check and then a load: parsing is most of the time of a
/// short run. Errors come in the order the two passes gave them: the first of a scan error,
/// a refusal here, in the text's order; then the loader's (a duplicate key).
fn load_checked(text: &str) -> Result<Vec<MarkedYamlOwned>, SyntaxError> {
    let mut loader = YamlLoader::<MarkedYamlOwned>::default();
    let mut depth = 0usize;
    for event in saphyr_parser::Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| quote_hint(text, scan_error(&e)))?;
        let pos = Pos {
            line: span.start.line() as u32,
            col: span.start.col() as u32 + 1,
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > DEFINITION_DEPTH_MAX {
                    return Err(SyntaxError {
                        pos,
                        message: format!(
                            "lists and maps nest more than {DEFINITION_DEPTH_MAX} levels deep here"
                        ),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::Alias(_) => {
                return Err(SyntaxError {
                    pos,
                    message: "unsupported YAML construct (aliases are not allowed)".into(),
                });
            }
            _ => {}
        }
        loader.on_event(event, span);
    }
    if let Some(e) = loader.error() {
        return Err(scan_error(e));
    }
    Ok(loader.into_documents())
}

/// A list or map whose end has not been read yet.
enum Open {
    Seq(Pos, Vec<Node>),
    Map {
        pos: Pos,
        entries: Vec<(String, Pos, Node)>,
        /// What each key was before it became a string: saphyr's loader holds `1` and
        /// `"1"` to be different keys, and so must the duplicate check.
        kinds: Vec<u8>,
        key: Option<(String, Pos, u8)>,
    },
}

/// The common case read straight from the parser's events into [`Node`]s, without saphyr's
/// loader building a document of its own to be converted and dropped (a fifth of reading a
/// short file). Refusals and scan errors are returned where they occur, as
/// [`load_checked`] returns them. Anything rarer is left to `load_checked` and [`convert`],
/// whose answer (an error, most of them) stays the one definition of those cases: `None`
/// for tags, keys that are not strings, integers or booleans, duplicate keys, and any
/// number of documents but one.
fn read_direct(text: &str) -> Option<Result<Node, SyntaxError>> {
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut depth = 0usize;
    for event in saphyr_parser::Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(e) => e,
            Err(e) => return Some(Err(quote_hint(text, scan_error(&e)))),
        };
        let pos = Pos {
            line: span.start.line() as u32,
            col: span.start.col() as u32 + 1,
        };
        let done = match event {
            Event::SequenceStart(_, ref tag) | Event::MappingStart(_, ref tag) => {
                depth += 1;
                if depth > DEFINITION_DEPTH_MAX {
                    return Some(Err(SyntaxError {
                        pos,
                        message: format!(
                            "lists and maps nest more than {DEFINITION_DEPTH_MAX} levels deep here"
                        ),
                    }));
                }
                // A collection as a key is the loader's; a second root cannot come, since a
                // second document is refused at its start.
                let wants_key = matches!(stack.last(), Some(Open::Map { key: None, .. }));
                if tag.is_some() || wants_key {
                    return None;
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Open::Seq(pos, Vec::new())
                } else {
                    Open::Map {
                        pos,
                        entries: Vec::new(),
                        kinds: Vec::new(),
                        key: None,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                match stack.pop()? {
                    Open::Seq(pos, items) => Node {
                        pos,
                        kind: NodeKind::Seq(items),
                    },
                    Open::Map {
                        pos,
                        entries,
                        kinds,
                        key,
                    } => {
                        if key.is_some() || has_duplicate(&entries, &kinds) {
                            return None;
                        }
                        Node {
                            pos,
                            kind: NodeKind::Map(entries),
                        }
                    }
                }
            }
            Event::Scalar(v, style, _, tag) => {
                if tag.is_some() {
                    return None;
                }
                let value = match saphyr::Scalar::parse_from_cow_and_metadata(v, style, None)? {
                    saphyr::Scalar::Null => Value::Null,
                    saphyr::Scalar::Boolean(b) => Value::Bool(b),
                    saphyr::Scalar::Integer(i) => Value::Int(i),
                    saphyr::Scalar::FloatingPoint(f) => Value::Double(f.into_inner()),
                    saphyr::Scalar::String(s) => Value::str(&*s),
                };
                if let Some(Open::Map {
                    key: key @ None, ..
                }) = stack.last_mut()
                {
                    *key = Some(match value {
                        Value::Str(s) => (s.to_string(), pos, 0),
                        Value::Int(i) => (i.to_string(), pos, 1),
                        Value::Bool(b) => (b.to_string(), pos, 2),
                        _ => return None,
                    });
                    continue;
                }
                Node {
                    pos,
                    kind: NodeKind::Scalar(value),
                }
            }
            Event::Alias(_) => {
                return Some(Err(SyntaxError {
                    pos,
                    message: "unsupported YAML construct (aliases are not allowed)".into(),
                }));
            }
            // A second document (even an empty one, which the parser gives a null scalar):
            // load_checked says what is wrong.
            Event::DocumentStart(_) if root.is_some() => return None,
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => continue,
        };
        match stack.last_mut() {
            // The one document's node: a second document was refused at its start.
            None => root = Some(done),
            Some(Open::Seq(_, items)) => items.push(done),
            Some(Open::Map {
                entries,
                kinds,
                key,
                ..
            }) => {
                let (k, kpos, kind) = key.take()?;
                entries.push((k, kpos, done));
                kinds.push(kind);
            }
        }
    }
    root.map(Ok)
}

/// serde_json's message without its own " at line L column C" suffix.
fn json_reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

fn pos_of(node: &MarkedYamlOwned) -> Pos {
    let m = node.span.start;
    Pos {
        line: m.line() as u32,
        col: m.col() as u32 + 1,
    }
}

fn convert(node: &MarkedYamlOwned) -> Result<Node, SyntaxError> {
    let pos = pos_of(node);
    let kind = match &node.data {
        YamlDataOwned::Value(scalar) => NodeKind::Scalar(match scalar {
            ScalarOwned::Null => Value::Null,
            ScalarOwned::Boolean(b) => Value::Bool(*b),
            ScalarOwned::Integer(i) => Value::Int(*i),
            ScalarOwned::FloatingPoint(f) => Value::Double(f.into_inner()),
            ScalarOwned::String(s) => Value::str(s.as_str()),
        }),
        YamlDataOwned::Sequence(items) => {
            NodeKind::Seq(items.iter().map(convert).collect::<Result<_, _>>()?)
        }
        YamlDataOwned::Mapping(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = match &k.data {
                    YamlDataOwned::Value(ScalarOwned::String(s)) => s.clone(),
                    YamlDataOwned::Value(ScalarOwned::Integer(i)) => i.to_string(),
                    YamlDataOwned::Value(ScalarOwned::Boolean(b)) => b.to_string(),
                    _ => {
                        return Err(SyntaxError {
                            pos: pos_of(k),
                            message: "a map key must be a string".into(),
                        });
                    }
                };
                out.push((key, pos_of(k), convert(v)?));
            }
            NodeKind::Map(out)
        }
        YamlDataOwned::Tagged(_, inner) => return convert(inner),
        YamlDataOwned::Alias(_) | YamlDataOwned::BadValue | YamlDataOwned::Representation(..) => {
            return Err(SyntaxError {
                pos,
                message: "unsupported YAML construct (aliases and bad values are not allowed)"
                    .into(),
            });
        }
    };
    Ok(Node { pos, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_positions_and_types() {
        let text = "- a:\n    assign:\n      - x: 1\n      - y: \"1\"\n      - z: 2.5\n";
        let root = parse(text, Syntax::Yaml).unwrap();
        let steps = root.as_seq().unwrap();
        let (name, key_pos, body) = &steps[0].as_map().unwrap()[0];
        assert_eq!(name, "a");
        assert_eq!(*key_pos, Pos { line: 1, col: 3 });
        let assign = &body.as_map().unwrap()[0].2;
        let items = assign.as_seq().unwrap();
        assert_eq!(items[0].pos, Pos { line: 3, col: 9 });
        assert_eq!(items[0].as_map().unwrap()[0].2.to_value(), Value::Int(1));
        assert_eq!(items[1].as_map().unwrap()[0].2.to_value(), Value::str("1"));
        assert_eq!(
            items[2].as_map().unwrap()[0].2.to_value(),
            Value::Double(2.5)
        );
    }

    #[test]
    fn deep_nesting_and_aliases_are_refused_where_they_start() {
        // Block nesting: "- - - … 1", far past any stack.
        let deep = format!("{}1\n", "- ".repeat(12_000));
        let e = parse(&deep, Syntax::Yaml).unwrap_err();
        assert_eq!(e.pos.line, 1);
        assert!(e.message.contains("nest more than 128"), "{e:?}");
        // Flow nesting, in JSON.
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep, Syntax::Json).is_err());
        let ok = format!("{}1\n", "- ".repeat(DEFINITION_DEPTH_MAX));
        assert!(parse(&ok, Syntax::Yaml).is_ok());
        let bomb = "a: &a [1, 1]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        let e = parse(bomb, Syntax::Yaml).unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 8 });
        assert!(e.message.contains("aliases"), "{e:?}");
    }

    /// The direct reading answers as saphyr's loader does wherever it answers at all, and
    /// answers for every fixture (so the comparison covers the files the project reads).
    #[test]
    fn direct_reading_agrees_with_the_loader() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut texts = Vec::new();
        for dir in ["workflows", "scenarios", "explore", "bench"] {
            let mut paths: Vec<_> = std::fs::read_dir(fixtures.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
                .collect();
            paths.sort();
            for p in paths {
                texts.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
        assert!(texts.len() > 50, "{} fixture files", texts.len());
        for (name, text) in &texts {
            if name.ends_with("basic_callback_guide_verbatim.json") {
                continue; // not JSON, and read as YAML it is a scan error either way
            }
            let direct = read_direct(text).unwrap_or_else(|| panic!("{name}: not read directly"));
            assert_eq!(direct, read_loaded(text), "{name}");
        }
        let edge_cases = [
            "",
            "# a comment only\n",
            "---\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n---\n",
            "a: 1\n...\n",
            "a:\n",
            "a: ~\nb: null\nc: \"\"\nd: ''\n",
            "1: a\n\"1\": b\n",
            "1: a\n1: b\n",
            "a: 1\na: 2\n",
            "true: a\n\"true\": b\n",
            "null: a\n",
            "~: a\n",
            "1.5: a\n",
            "[1]: a\n",
            "? [1]\n: a\n",
            "? {a: 1}\n: b\n",
            "{[1]: a, [1]: b}\n",
            "!!str 1: a\n",
            "!foo a: 1\n",
            "a: !foo 1\n",
            "a: !!int x\n",
            "a: !!str 1\n",
            "a: !!map {b: 1}\n",
            "a: !foo [1]\n",
            "a: &x 1\nb: 2\n",
            "a: &x 1\nb: *x\n",
            "- 1\n- 2.5\n- .inf\n- 0x1f\n- 0o17\n- -0\n- 1e3\n- yes\n- 'q'\n- \"d\\n\"\n",
            "{a: [1, {b: c}], 'd': \"e\"}\n",
            "a: [1, 2\n",
            "a: b: c\n",
            "- - - 1\n",
            "a: |\n  text\n  more\nb: >\n  folded\n",
        ];
        for text in edge_cases {
            if let Some(direct) = read_direct(text) {
                assert_eq!(direct, read_loaded(text), "{text:?}");
            }
        }
        assert!(
            read_direct("a: 1\na: 2\n").is_none(),
            "duplicates: the loader's error"
        );
        assert!(
            read_direct("a: !foo 1\n").is_none(),
            "tags: the loader's reading"
        );
    }

    /// What the direct reading takes itself and what it leaves to the loader, as its doc
    /// comment says: keys that are strings, integers or booleans are its own (the common
    /// case, and its speed); tags on any node, duplicate keys and a document after the first,
    /// even an empty one, are the loader's.
    #[test]
    fn direct_reading_takes_the_common_case_and_leaves_the_rest() {
        for text in [
            "a: 1\n",
            "1: a\n\"1\": b\n",
            "true: a\n\"true\": b\n",
            "7: x\nfalse: y\n",
            "{a: [1, {b: c}], 'd': \"e\"}\n",
        ] {
            assert!(
                matches!(read_direct(text), Some(Ok(_))),
                "{text:?} is read directly"
            );
        }
        for text in [
            "a: 1\n---\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\na: 2\n",
            "1: a\n1: b\n",
            "!foo a: 1\n",
            "a: !foo 1\n",
            "a: !!map {b: 1}\n",
            "a: !foo [1]\n",
            "!!map\na: 1\n",
            "1.5: a\n",
            "? [1]\n: a\n",
        ] {
            assert!(
                read_direct(text).is_none(),
                "{text:?} is left to the loader"
            );
        }
    }

    #[test]
    fn json_errors_are_json_positions() {
        let text = "[\n  {\"a\": \"x\\\"\" \"y\"}\n]";
        let e = parse(text, Syntax::Json).unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(e.message.starts_with("invalid JSON"), "{e:?}");
        let ok = parse("[{\"a\": {\"return\": 1}}]", Syntax::Json).unwrap();
        assert_eq!(ok.as_seq().unwrap().len(), 1);
    }

    /// An unquoted `${...}` holding YAML's own characters gets the hint to quote it, once;
    /// a quoted one on the line, or an error on a line without one, does not.
    #[test]
    fn an_unquoted_expression_is_told_to_quote_it() {
        let e = parse(
            "- s:\n    assign:\n      - x: ${map.get({\"k\": 1}, \"k\")}\n",
            Syntax::Yaml,
        )
        .unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 26 });
        assert!(e.message.starts_with("invalid YAML: "), "{e:?}");
        assert_eq!(
            e.message.matches("must be quoted whole").count(),
            1,
            "{e:?}"
        );
        assert!(e.message.ends_with("in YAML: '${...}'"), "{e:?}");
        let plain = parse("a: [1, 2\n", Syntax::Yaml).unwrap_err();
        assert!(!plain.message.contains("quoted"), "{plain:?}");
        let quoted = parse("a: '${x}' b: c\n", Syntax::Yaml).unwrap_err();
        assert!(!quoted.message.contains("quoted whole"), "{quoted:?}");
        let dup = parse("a: ${x}\na: ${y}\n", Syntax::Yaml).unwrap_err();
        assert!(
            !dup.message.contains("quoted whole"),
            "not a YAML syntax error: {dup:?}"
        );
    }

    #[test]
    fn yaml_errors_and_duplicates() {
        let e = parse("a: [1, 2\n", Syntax::Yaml).unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
        assert!(
            parse("a: 1\na: 2\n", Syntax::Yaml).is_err(),
            "duplicate keys"
        );
        assert!(
            parse("", Syntax::Yaml)
                .unwrap_err()
                .message
                .contains("empty")
        );
    }
}
