//! Workflows written from templates, and expressions. Mutating the fixtures rarely makes a
//! loop that doubles a string thirty times or nests a list fifteen thousand deep; these
//! templates make such programs on purpose, with the loop count, the growing expression and
//! what is done with the result drawn at random.

use wfsim_engine::stdlib::table;

use crate::input::Definition;
use crate::rand::Rand;
use crate::values::{INTS, ODD_CHARS};

/// Expressions that make `x` bigger or deeper each time round a loop.
pub const GROW: &[&str] = &[
    "x + x",
    "[x]",
    "[x, x]",
    "{\"k\": x}",
    "list.concat(x, x)",
    "list.prepend(x, i)",
    "text.replace_all(x, \"a\", \"aa\")",
    "x + \"\u{e9}\"",
    "json.encode_to_string(x)",
    "string(x) + string(x)",
    "map.merge(x, {\"k\": x})",
    "map.merge_nested(x, {\"k\": x})",
    "base64.encode(text.encode(x))",
    "text.to_upper(x) + x",
    "x * 2",
    "x + 1",
];

/// Where `x` starts.
const INITS: &[&str] = &[
    "\"ab\"",
    "\"a\"",
    "\"\u{e9}\u{1f600}\"",
    "[1]",
    "[]",
    "{\"k\": 1}",
    "{}",
    "0",
    "1",
    "0.5",
    "null",
    "true",
];

/// What the workflow does with `x` at the end: each hands it to a different part of the
/// engine or the host (results are rendered as JSON and in the timeline).
const FINISH: &[(&str, &str)] = &[
    ("return", "x"),
    ("return", "len(x)"),
    ("return", "json.encode_to_string(x)"),
    ("return", "json.decode(json.encode(x))"),
    ("return", "string(x)"),
    ("return", "text.find_all(x, \"a\")"),
    ("return", "text.split(x, \"a\")"),
    ("return", "x == x"),
    ("raise", "x"),
    ("return", "map.get(x, \"k\")"),
];

/// A workflow with a loop that grows `x`, then does something with it.
pub fn grow(r: &mut Rand) -> (Definition, String) {
    let grow = *r.pick(GROW);
    let init = *r.pick(INITS);
    let (keyword, finish) = *r.pick(FINISH);
    let n = r.log_size(40_000);
    let text = format!(
        "main:\n  steps:\n    - init:\n        assign:\n          - x: {}\n    - grow:\n        for:\n          value: i\n          range: [1, {n}]\n          steps:\n            - step:\n                assign:\n                  - x: {}\n    - done:\n        {keyword}: {}\n",
        quote(&format!("${{{init}}}")),
        quote(&format!("${{{grow}}}")),
        quote(&format!("${{{finish}}}")),
    );
    (definition(text), format!("synth grow x = {grow}"))
}

/// A subworkflow that calls itself `n` times.
pub fn recursion(r: &mut Rand) -> (Definition, String) {
    let n = r.log_size(100_000);
    let text = format!(
        "main:\n  steps:\n    - go:\n        call: rec\n        args:\n          n: {n}\n        result: r\n    - done:\n        return: ${{r}}\nrec:\n  params: [n]\n  steps:\n    - check:\n        switch:\n          - condition: ${{n <= 0}}\n            return: 0\n    - again:\n        call: rec\n        args:\n          n: ${{n - 1}}\n        result: r\n    - out:\n        return: ${{r + 1}}\n"
    );
    (definition(text), "synth recursion".to_owned())
}

/// `n` parallel branches, each awaiting the one endpoint with its own timeout.
pub fn parallel_awaits(r: &mut Rand) -> (Definition, String) {
    let n = r.log_size(64);
    let timeout = r.pick(&[
        "0",
        "1",
        "0.000000001",
        "-1",
        "3600",
        "31536000",
        "1e300",
        "${1/3}",
    ]);
    let limit = if r.chance(1, 2) {
        format!("\n          concurrency_limit: {}", r.range(1, 12))
    } else {
        String::new()
    };
    let text = format!(
        "main:\n  params: [args]\n  steps:\n    - cb:\n        call: events.create_callback_endpoint\n        result: e\n    - fan:\n        parallel:\n          shared: [got]{limit}\n          for:\n            value: i\n            range: [1, {n}]\n            steps:\n              - w:\n                  call: events.await_callback\n                  args:\n                    callback: ${{e}}\n                    timeout: {timeout}\n                  result: got\n    - done:\n        return: ${{got}}\n"
    );
    (definition(text), "synth parallel awaits".to_owned())
}

/// A workflow returning one generated expression of its argument.
pub fn expression_workflow(r: &mut Rand) -> (Definition, String) {
    let e = expression(r, 0);
    let text = format!(
        "main:\n  params: [args]\n  steps:\n    - it:\n        return: {}\n",
        quote(&format!("${{{e}}}"))
    );
    (definition(text), "synth expression".to_owned())
}

fn definition(text: String) -> Definition {
    Definition {
        file: "synth.yaml".into(),
        text: text.into_bytes(),
        scenario: None,
        argument: None,
    }
}

/// A YAML single-quoted scalar.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in",
];

/// An expression of SPEC §6: literals with edge numbers and odd strings, operators, indexing,
/// fields and library calls, up to three levels deep.
pub fn expression(r: &mut Rand, depth: u32) -> String {
    if depth >= 3 || r.chance(1, 3) {
        return atom(r);
    }
    match r.below(7) {
        0 | 1 => format!(
            "{} {} {}",
            expression(r, depth + 1),
            r.pick(OPERATORS),
            expression(r, depth + 1)
        ),
        2 => format!(
            "{}{}",
            r.pick(&["not ", "-", "- -"]),
            expression(r, depth + 1)
        ),
        3 => format!("({})", expression(r, depth + 1)),
        4 => format!("{}[{}]", expression(r, depth + 1), expression(r, depth + 1)),
        5 => format!(
            "{}.{}",
            expression(r, depth + 1),
            r.pick(&["a", "k", "url", "tags", "x"])
        ),
        _ => {
            let f = r.pick(table::FUNCTIONS);
            let n = f.param_list().filter(|(_, req)| *req).count() + r.below(2);
            let args: Vec<String> = (0..n.min(f.params.len()))
                .map(|_| expression(r, depth + 1))
                .collect();
            format!("{}({})", f.name, args.join(", "))
        }
    }
}

fn atom(r: &mut Rand) -> String {
    match r.below(9) {
        0 => r.pick(INTS).to_string(),
        1 => r
            .pick(&[
                "9223372036854775808",
                "-9223372036854775808",
                "1.5",
                "1e308",
                "1e309",
                "0.0",
                "-0.0",
                ".5",
                "1e-400",
            ])
            .to_string(),
        2 => format!(
            "\"{}\"",
            r.pick(ODD_CHARS).replace('\\', "\\\\").replace('"', "\\\"")
        ),
        3 => r
            .pick(&[
                "null",
                "true",
                "false",
                "[]",
                "{}",
                "[1, \"a\"]",
                "{\"a\": 1}",
                "\"\"",
            ])
            .to_string(),
        4 => r
            .pick(&["args", "args.a", "args[0]", "x", "sys", "undefined_var"])
            .to_string(),
        5 => r
            .pick(&[
                "\"2024-01-01T00:00:00Z\"",
                "\"{\\\"a\\\": [1]}\"",
                "\"aGk=\"",
                "\"(a+)+$\"",
            ])
            .to_string(),
        _ => r.range(0, 20).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfsim_engine::defn;

    fn loads(d: &Definition) {
        let text = String::from_utf8(d.text.clone()).unwrap();
        if let Err(e) = defn::load(&d.file, &text) {
            panic!("{text}\n{e:?}");
        }
    }

    #[test]
    fn templates_make_valid_workflows() {
        let mut r = Rand::new(9, 0);
        for _ in 0..200 {
            loads(&grow(&mut r).0);
            loads(&recursion(&mut r).0);
            loads(&parallel_awaits(&mut r).0);
        }
    }

    #[test]
    fn expressions_are_often_valid_and_never_empty() {
        let mut r = Rand::new(2, 0);
        let mut valid = 0;
        for _ in 0..300 {
            let (d, _) = expression_workflow(&mut r);
            let text = String::from_utf8(d.text.clone()).unwrap();
            assert!(!text.contains("${}"));
            valid += usize::from(defn::load("e.yaml", &text).is_ok());
        }
        assert!(valid > 100, "only {valid} of 300 expressions load");
    }
}
