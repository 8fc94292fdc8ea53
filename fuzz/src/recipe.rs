//! Value recipes: how to build a workflow [`Value`], written in a few bytes.
//!
//! Generated arguments can be huge (a 1 MiB string) or deep (a list nested 20,000 times).
//! A reproducer must stay small and readable, and the fuzzer's parent process must never
//! hold such a value (rendering or dropping one may be the very bug), so inputs carry
//! recipes and only the worker builds them.
//!
//! Text form, one line, ASCII only:
//!
//! ```text
//! null  true  false  -12  d:1.5  d:NaN  d:-inf  d:-0.0
//! "t\u{e9}xt\n"  b"\xff\x00ok"  [1, "a"]  {"k": null}
//! repeat("ab", 1000)        "ab" 1000 times (bytes and lists repeat too; anything else
//!                           becomes a list of that many copies)
//! nest(1, 20000)            1 inside 20,000 single-item lists
//! nest(1, 20000, "k")       1 inside 20,000 single-key maps {"k": ...}
//! ```

use std::fmt::{self, Write as _};

use wfsim_engine::Value;

/// A value to build.
#[derive(Clone, Debug, PartialEq)]
pub enum Recipe {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Recipe>),
    Map(Vec<(String, Recipe)>),
    Repeat(Box<Recipe>, u32),
    /// The leaf, the depth, and the key when the levels are maps (lists when `None`).
    Nest(Box<Recipe>, u32, Option<String>),
}

/// The most bytes a recipe may build, roughly: beyond this it is the recipe's fault, not
/// the engine's, that memory runs out.
pub const BUILD_LIMIT: u64 = 64 << 20;

/// Nesting of the recipe text itself (deep values use `nest`): bounds the reader's stack.
const TEXT_DEPTH_MAX: usize = 64;

impl Recipe {
    pub fn str(s: impl Into<String>) -> Recipe {
        Recipe::Str(s.into())
    }

    /// Whether the value nests deeper than a file would: a `nest` of more than 100 levels.
    pub fn is_deep(&self) -> bool {
        match self {
            Recipe::Nest(leaf, depth, _) => *depth > 100 || leaf.is_deep(),
            Recipe::List(items) => items.iter().any(Recipe::is_deep),
            Recipe::Map(entries) => entries.iter().any(|(_, v)| v.is_deep()),
            Recipe::Repeat(unit, _) => unit.is_deep(),
            _ => false,
        }
    }

    /// About how many bytes [`Recipe::build`] allocates, saturating.
    pub fn size(&self) -> u64 {
        const SLOT: u64 = 32;
        match self {
            Recipe::Null | Recipe::Bool(_) | Recipe::Int(_) | Recipe::Double(_) => SLOT,
            Recipe::Str(s) => SLOT + s.len() as u64,
            Recipe::Bytes(b) => SLOT + b.len() as u64,
            Recipe::List(items) => items.iter().fold(SLOT, |n, i| n.saturating_add(i.size())),
            Recipe::Map(entries) => entries.iter().fold(SLOT, |n, (k, v)| {
                n.saturating_add(SLOT + k.len() as u64)
                    .saturating_add(v.size())
            }),
            // A repeated string or bytes is one allocation; anything else, `n` values.
            Recipe::Repeat(unit, n) => match &**unit {
                Recipe::Str(_) | Recipe::Bytes(_) => {
                    SLOT + (unit.size() - SLOT).saturating_mul(u64::from(*n))
                }
                _ => unit.size().saturating_mul(u64::from(*n)),
            },
            Recipe::Nest(leaf, depth, key) => {
                let level = SLOT * 2 + key.as_ref().map_or(0, |k| k.len() as u64);
                leaf.size()
                    .saturating_add(level.saturating_mul(u64::from(*depth)))
            }
        }
    }

    /// The value. Deep nesting is built with a loop; recipes over [`BUILD_LIMIT`] are
    /// refused.
    pub fn build(&self) -> Result<Value, String> {
        if self.size() > BUILD_LIMIT {
            return Err(format!(
                "the recipe would build about {} bytes, over the limit of {BUILD_LIMIT}",
                self.size()
            ));
        }
        Ok(self.build_unchecked())
    }

    fn build_unchecked(&self) -> Value {
        match self {
            Recipe::Null => Value::Null,
            Recipe::Bool(b) => Value::Bool(*b),
            Recipe::Int(i) => Value::Int(*i),
            Recipe::Double(d) => Value::Double(*d),
            Recipe::Str(s) => Value::str(s.as_str()),
            Recipe::Bytes(b) => Value::Bytes(b.as_slice().into()),
            Recipe::List(items) => Value::list(items.iter().map(Recipe::build_unchecked).collect()),
            Recipe::Map(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.build_unchecked())),
            ),
            Recipe::Repeat(unit, n) => {
                let n = *n as usize;
                match unit.build_unchecked() {
                    Value::Str(s) => Value::str(s.repeat(n)),
                    Value::Bytes(b) => Value::Bytes(b.repeat(n).into()),
                    Value::List(items) => Value::list(
                        std::iter::repeat_n(items.iter(), n)
                            .flatten()
                            .cloned()
                            .collect(),
                    ),
                    other => Value::list(vec![other; n]),
                }
            }
            Recipe::Nest(leaf, depth, key) => {
                let mut v = leaf.build_unchecked();
                for _ in 0..*depth {
                    v = match key {
                        None => Value::list(vec![v]),
                        Some(k) => Value::map([(k.as_str(), v)]),
                    };
                }
                v
            }
        }
    }

    /// A recipe for `value`, for values read from fixtures (execution arguments). Values
    /// from files are shallow; deeper than [`TEXT_DEPTH_MAX`] becomes `null`.
    pub fn of_value(value: &Value) -> Recipe {
        Recipe::of_value_at(value, 0)
    }

    fn of_value_at(value: &Value, depth: usize) -> Recipe {
        if depth >= TEXT_DEPTH_MAX {
            return Recipe::Null;
        }
        match value {
            Value::Null => Recipe::Null,
            Value::Bool(b) => Recipe::Bool(*b),
            Value::Int(i) => Recipe::Int(*i),
            Value::Double(d) => Recipe::Double(*d),
            Value::Str(s) => Recipe::str(&**s),
            Value::Bytes(b) => Recipe::Bytes(b.to_vec()),
            Value::List(items) => Recipe::List(
                items
                    .iter()
                    .map(|v| Recipe::of_value_at(v, depth + 1))
                    .collect(),
            ),
            Value::Map(m) => Recipe::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Recipe::of_value_at(v, depth + 1)))
                    .collect(),
            ),
        }
    }

    /// Simpler recipes that may fail the same way, simplest first: what minimising tries.
    pub fn shrink(&self) -> Vec<Recipe> {
        let mut out = Vec::new();
        match self {
            Recipe::Null => return out,
            Recipe::Str(s) if !s.is_empty() => {
                let half: String = s.chars().take(s.chars().count() / 2).collect();
                out.push(Recipe::Str(half));
            }
            Recipe::Bytes(b) if !b.is_empty() => out.push(Recipe::Bytes(b[..b.len() / 2].to_vec())),
            Recipe::List(items) => {
                if items.len() > 1 {
                    out.push(Recipe::List(items[..items.len() / 2].to_vec()));
                }
                for (i, item) in items.iter().enumerate() {
                    let mut fewer = items.clone();
                    fewer.remove(i);
                    out.push(Recipe::List(fewer));
                    for smaller in item.shrink() {
                        let mut v = items.clone();
                        v[i] = smaller;
                        out.push(Recipe::List(v));
                    }
                }
            }
            Recipe::Map(entries) => {
                for i in 0..entries.len() {
                    let mut fewer = entries.clone();
                    fewer.remove(i);
                    out.push(Recipe::Map(fewer));
                }
            }
            Recipe::Repeat(unit, n) => {
                out.push((**unit).clone());
                if *n > 1 {
                    out.push(Recipe::Repeat(unit.clone(), n / 2));
                }
                for smaller in unit.shrink() {
                    out.push(Recipe::Repeat(Box::new(smaller), *n));
                }
            }
            Recipe::Nest(leaf, depth, key) => {
                out.push((**leaf).clone());
                if *depth > 1 {
                    out.push(Recipe::Nest(leaf.clone(), depth / 2, key.clone()));
                    out.push(Recipe::Nest(leaf.clone(), depth - depth / 4, key.clone()));
                }
            }
            _ => {}
        }
        if !matches!(self, Recipe::Null) {
            out.insert(0, Recipe::Null);
        }
        out
    }

    /// Reads the text form (see the module doc).
    pub fn parse(text: &str) -> Result<Recipe, String> {
        let mut r = Reader { s: text, i: 0 };
        let v = r.recipe(0)?;
        r.ws();
        if r.i != text.len() {
            return Err(r.error("unexpected text after the value"));
        }
        Ok(v)
    }

    /// A list of arguments: `[a, _, c]`, `_` for an absent optional argument.
    pub fn parse_args(text: &str) -> Result<Vec<Option<Recipe>>, String> {
        let mut r = Reader { s: text, i: 0 };
        r.ws();
        r.expect("[")?;
        let mut args = Vec::new();
        r.ws();
        if !r.eat("]") {
            loop {
                r.ws();
                if r.eat("_") {
                    args.push(None);
                } else {
                    args.push(Some(r.recipe(1)?));
                }
                r.ws();
                if r.eat("]") {
                    break;
                }
                r.expect(",")?;
            }
        }
        r.ws();
        if r.i != text.len() {
            return Err(r.error("unexpected text after the arguments"));
        }
        Ok(args)
    }
}

/// The text form of an argument list (see [`Recipe::parse_args`]).
pub fn show_args(args: &[Option<Recipe>]) -> String {
    let parts: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().map_or_else(|| "_".to_owned(), Recipe::to_string))
        .collect();
    format!("[{}]", parts.join(", "))
}

impl fmt::Display for Recipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipe::Null => f.write_str("null"),
            Recipe::Bool(b) => write!(f, "{b}"),
            Recipe::Int(i) => write!(f, "{i}"),
            Recipe::Double(d) => write!(f, "d:{d:?}"),
            Recipe::Str(s) => write_str(f, s),
            Recipe::Bytes(b) => {
                f.write_str("b\"")?;
                for &c in b {
                    match c {
                        b'"' | b'\\' => write!(f, "\\{}", c as char)?,
                        0x20..=0x7e => f.write_char(c as char)?,
                        _ => write!(f, "\\x{c:02x}")?,
                    }
                }
                f.write_char('"')
            }
            Recipe::List(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
            Recipe::Map(entries) => {
                f.write_char('{')?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_str(f, k)?;
                    write!(f, ": {v}")?;
                }
                f.write_char('}')
            }
            Recipe::Repeat(unit, n) => write!(f, "repeat({unit}, {n})"),
            Recipe::Nest(leaf, depth, None) => write!(f, "nest({leaf}, {depth})"),
            Recipe::Nest(leaf, depth, Some(k)) => {
                write!(f, "nest({leaf}, {depth}, ")?;
                write_str(f, k)?;
                f.write_char(')')
            }
        }
    }
}

/// A string in double quotes, ASCII only: anything else as `\u{…}`.
fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' | '\\' => write!(f, "\\{c}")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            ' '..='~' => f.write_char(c)?,
            _ => write!(f, "\\u{{{:x}}}", c as u32)?,
        }
    }
    f.write_char('"')
}

struct Reader<'a> {
    s: &'a str,
    i: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> String {
        format!("recipe: {what} at byte {}", self.i)
    }

    fn rest(&self) -> &str {
        &self.s[self.i..]
    }

    fn ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.i = self.s.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{token}'")))
        }
    }

    /// A run of characters that may make up a number (or `NaN`, `inf`).
    fn word(&mut self) -> &str {
        let start = self.i;
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+-._".contains(c)))
            .unwrap_or(self.rest().len());
        self.i += len;
        &self.s[start..self.i]
    }

    fn number<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, String> {
        let at = self.i;
        let w = self.word().to_owned();
        w.parse().map_err(|_| {
            self.i = at;
            self.error(&format!("'{w}' is not {what}"))
        })
    }

    fn recipe(&mut self, depth: usize) -> Result<Recipe, String> {
        if depth > TEXT_DEPTH_MAX {
            return Err(self.error("nested too deep (use nest(...))"));
        }
        self.ws();
        if self.eat("null") {
            Ok(Recipe::Null)
        } else if self.eat("true") {
            Ok(Recipe::Bool(true))
        } else if self.eat("false") {
            Ok(Recipe::Bool(false))
        } else if self.eat("d:") {
            Ok(Recipe::Double(self.number("a double")?))
        } else if self.rest().starts_with('"') {
            Ok(Recipe::Str(self.string()?))
        } else if self.eat("b\"") {
            self.bytes().map(Recipe::Bytes)
        } else if self.eat("[") {
            let items = self.items(depth, "]", |r, d| r.recipe(d))?;
            Ok(Recipe::List(items))
        } else if self.eat("{") {
            let entries = self.items(depth, "}", |r, d| {
                r.ws();
                let k = r.string()?;
                r.ws();
                r.expect(":")?;
                Ok((k, r.recipe(d)?))
            })?;
            Ok(Recipe::Map(entries))
        } else if self.eat("repeat(") {
            let unit = self.recipe(depth + 1)?;
            self.ws();
            self.expect(",")?;
            self.ws();
            let n = self.number("a count")?;
            self.ws();
            self.expect(")")?;
            Ok(Recipe::Repeat(Box::new(unit), n))
        } else if self.eat("nest(") {
            let leaf = self.recipe(depth + 1)?;
            self.ws();
            self.expect(",")?;
            self.ws();
            let n = self.number("a depth")?;
            self.ws();
            let key = if self.eat(",") {
                self.ws();
                Some(self.string()?)
            } else {
                None
            };
            self.ws();
            self.expect(")")?;
            Ok(Recipe::Nest(Box::new(leaf), n, key))
        } else {
            Ok(Recipe::Int(self.number("a value")?))
        }
    }

    fn items<T>(
        &mut self,
        depth: usize,
        close: &str,
        mut item: impl FnMut(&mut Self, usize) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        self.ws();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            out.push(item(self, depth + 1)?);
            self.ws();
            if self.eat(close) {
                return Ok(out);
            }
            self.expect(",")?;
        }
    }

    fn next_char(&mut self, at_end: &str) -> Result<char, String> {
        let c = self
            .rest()
            .chars()
            .next()
            .ok_or_else(|| self.error(at_end))?;
        self.i += c.len_utf8();
        Ok(c)
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect("\"")?;
        let mut out = String::new();
        loop {
            let c = self.next_char("unterminated string")?;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let e = self.next_char("unterminated escape")?;
                    match e {
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        '"' | '\\' => out.push(e),
                        'u' => {
                            self.expect("{")?;
                            let end = self
                                .rest()
                                .find('}')
                                .ok_or_else(|| self.error("unterminated \\u{"))?;
                            let hex = &self.rest()[..end];
                            let ch = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.error("bad \\u{...} escape"))?;
                            out.push(ch);
                            self.i += end + 1;
                        }
                        _ => return Err(self.error("unknown escape")),
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            let b = *self
                .s
                .as_bytes()
                .get(self.i)
                .ok_or_else(|| self.error("unterminated bytes"))?;
            self.i += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => {
                    if self.eat("x") {
                        let hex = self
                            .s
                            .get(self.i..self.i + 2)
                            .ok_or_else(|| self.error("short \\x escape"))?;
                        let v = u8::from_str_radix(hex, 16)
                            .map_err(|_| self.error("bad \\x escape"))?;
                        out.push(v);
                        self.i += 2;
                    } else if self.eat("\"") {
                        out.push(b'"');
                    } else if self.eat("\\") {
                        out.push(b'\\');
                    } else {
                        return Err(self.error("unknown escape in bytes"));
                    }
                }
                0x20..=0x7e => out.push(b),
                _ => return Err(self.error("bytes are written in ASCII")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(r: &Recipe) {
        let text = r.to_string();
        assert!(text.is_ascii(), "{text}");
        let back = Recipe::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back.to_string(), text);
    }

    #[test]
    fn text_form_round_trips() {
        let all = Recipe::List(vec![
            Recipe::Null,
            Recipe::Bool(true),
            Recipe::Int(i64::MIN),
            Recipe::Double(f64::NAN),
            Recipe::Double(f64::NEG_INFINITY),
            Recipe::Double(-0.0),
            Recipe::Double(5e-324),
            Recipe::str("a\"\\\n\u{e9}\u{1f600}\u{0}"),
            Recipe::Bytes(vec![0, 0xff, b'"', b'\\', b'a']),
            Recipe::Map(vec![("k\u{e9}".into(), Recipe::Int(1))]),
            Recipe::Repeat(Box::new(Recipe::str("ab")), 3),
            Recipe::Nest(Box::new(Recipe::Int(1)), 5, None),
            Recipe::Nest(Box::new(Recipe::Null), 2, Some("x".into())),
            Recipe::List(vec![]),
            Recipe::Map(vec![]),
        ]);
        round_trip(&all);
        assert_eq!(
            Recipe::parse(" [ 1 ,d:-0.0, \"x\" ] ").unwrap().to_string(),
            "[1, d:-0.0, \"x\"]"
        );
    }

    #[test]
    fn bad_text_is_refused_with_a_reason() {
        for bad in [
            "",
            "[1,",
            "\"abc",
            "b\"\u{e9}\"",
            "d:x",
            "12x",
            "repeat(1)",
            "{1: 2}",
            "[1] 2",
            "\"\\u{d800}\"",
            "nest(1, -3)",
        ] {
            assert!(Recipe::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(Recipe::parse(&deep).unwrap_err().contains("too deep"));
    }

    #[test]
    fn args_with_absent_ones() {
        let args = Recipe::parse_args("[1, _, \"x\"]").unwrap();
        assert_eq!(
            args,
            vec![Some(Recipe::Int(1)), None, Some(Recipe::str("x"))]
        );
        assert_eq!(show_args(&args), "[1, _, \"x\"]");
        assert_eq!(Recipe::parse_args("[]").unwrap(), vec![]);
        assert!(Recipe::parse_args("[1 2]").is_err());
    }

    #[test]
    fn builds_repeats_and_deep_nesting_without_recursion() {
        let s = Recipe::Repeat(Box::new(Recipe::str("ab")), 3)
            .build()
            .unwrap();
        assert_eq!(s, Value::str("ababab"));
        let l = Recipe::Repeat(
            Box::new(Recipe::List(vec![Recipe::Int(1), Recipe::Null])),
            2,
        )
        .build()
        .unwrap();
        assert_eq!(
            l,
            Value::list(vec![Value::Int(1), Value::Null, Value::Int(1), Value::Null])
        );
        let copies = Recipe::Repeat(Box::new(Recipe::Int(7)), 2).build().unwrap();
        assert_eq!(copies, Value::list(vec![Value::Int(7), Value::Int(7)]));
        let nested = Recipe::Nest(Box::new(Recipe::Int(1)), 2, Some("k".into()))
            .build()
            .unwrap();
        assert_eq!(
            nested.get("k").and_then(|v| v.get("k")),
            Some(&Value::Int(1))
        );
        let too_big = Recipe::Repeat(Box::new(Recipe::str("x".repeat(1 << 20))), 1 << 10);
        assert!(too_big.build().unwrap_err().contains("over the limit"));
    }

    #[test]
    fn shrinking_offers_smaller_recipes() {
        let r = Recipe::Nest(Box::new(Recipe::Int(1)), 100, None);
        let smaller = r.shrink();
        assert_eq!(smaller[0], Recipe::Null);
        assert!(smaller.contains(&Recipe::Nest(Box::new(Recipe::Int(1)), 50, None)));
        assert!(smaller.iter().all(|s| s.size() < r.size()));
        assert!(Recipe::Null.shrink().is_empty());
        let rep = Recipe::Repeat(Box::new(Recipe::str("ab")), 8);
        assert!(
            rep.shrink()
                .contains(&Recipe::Repeat(Box::new(Recipe::str("ab")), 4))
        );
    }
}
