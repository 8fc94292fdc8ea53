//! The expression grammar of SPEC §6, by precedence climbing.
//!
//! Lowest to highest: `or`; `and`; `== != < <= > >= in`; `+ -`; `* / // %`; `not`, unary
//! `-`; then `.field`, `[index]` and calls.

use super::lex::{LexError, Spanned, Token, lex};
use crate::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Rem,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Rem => "%",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Rem => 5,
        }
    }
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `1`, `2.5`, `"s"`, `true`, `null`
    Lit(Value),
    /// `name`
    Var(String),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{"k": v}`
    Map(Vec<(String, Expr)>),
    /// `e.name`
    Field(Box<Expr>, String),
    /// `e[i]`
    Index(Box<Expr>, Box<Expr>),
    /// `sys.now()`, `len(x)`: the dotted name of a function and its arguments.
    Call(String, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Every function this expression calls, in source order, for the deploy-time checks.
    pub fn calls(&self, out: &mut Vec<String>) {
        match self {
            Expr::Lit(_) | Expr::Var(_) => {}
            Expr::List(items) => items.iter().for_each(|e| e.calls(out)),
            Expr::Map(entries) => entries.iter().for_each(|(_, e)| e.calls(out)),
            Expr::Field(e, _) | Expr::Unary(_, e) => e.calls(out),
            Expr::Index(a, b) | Expr::Binary(_, a, b) => {
                a.calls(out);
                b.calls(out);
            }
            Expr::Call(name, args) => {
                out.push(name.clone());
                args.iter().for_each(|e| e.calls(out));
            }
        }
    }

    /// Every variable this expression reads, in source order: a host that makes variables
    /// at a cost makes only these.
    pub fn vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Lit(_) => {}
            Expr::Var(v) => out.push(v),
            Expr::List(items) | Expr::Call(_, items) => items.iter().for_each(|e| e.vars(out)),
            Expr::Map(entries) => entries.iter().for_each(|(_, e)| e.vars(out)),
            Expr::Field(e, _) | Expr::Unary(_, e) => e.vars(out),
            Expr::Index(a, b) | Expr::Binary(_, a, b) => {
                a.vars(out);
                b.vars(out);
            }
        }
    }

    /// The dotted name `a.b.c` this expression spells, if it is only names and fields.
    pub fn dotted_name(&self) -> Option<String> {
        let mut name = String::new();
        self.push_dotted_name(&mut name).then_some(name)
    }

    /// [`Expr::dotted_name`] appended to `out`, whether the expression is one: one string
    /// grown, not one formatted per dot (a `try` step's `retry: ${http.default_retry}` is
    /// read each time the step runs).
    fn push_dotted_name(&self, out: &mut String) -> bool {
        match self {
            Expr::Var(v) => {
                out.push_str(v);
                true
            }
            Expr::Field(e, f) => {
                if !e.push_dotted_name(out) {
                    return false;
                }
                out.push('.');
                out.push_str(f);
                true
            }
            _ => false,
        }
    }
}

/// Why an expression does not parse; `offset` is a byte offset into its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> Self {
        ParseError {
            offset: e.offset,
            message: e.message,
        }
    }
}

/// Parses the text between `${` and `}`.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: src.len(),
        depth: 0,
    };
    let e = p.expr(0)?;
    if let Some((t, at)) = p.tokens.get(p.pos) {
        return Err(ParseError {
            offset: *at,
            message: format!("unexpected {t} after a complete expression"),
        });
    }
    Ok(e)
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    end: usize,
    /// Nesting of `unary` calls now: parentheses, brackets, calls and prefix operators.
    depth: usize,
}

/// Nesting an expression may have. The parser recurses once per level, so a deeper one is
/// refused rather than allowed to exhaust the stack; 400 characters (the expression limit)
/// can nest at most 200 levels anyway.
const NESTING_MAX: usize = 200;

const KEYWORDS: [&str; 4] = ["and", "or", "not", "in"];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(_, at)| *at)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.offset(),
            message: message.into(),
        })
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            match self.peek() {
                Some(t) => self.error(format!("expected '{c}', found {t}")),
                None => self.error(format!("expected '{c}', found the end")),
            }
        }
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.peek()? {
            Token::Ident(k) if k == "or" => BinOp::Or,
            Token::Ident(k) if k == "and" => BinOp::And,
            Token::Ident(k) if k == "in" => BinOp::In,
            Token::Op(op) => match *op {
                "==" => BinOp::Eq,
                "!=" => BinOp::Ne,
                "<" => BinOp::Lt,
                "<=" => BinOp::Le,
                ">" => BinOp::Gt,
                ">=" => BinOp::Ge,
                "+" => BinOp::Add,
                "-" => BinOp::Sub,
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                "//" => BinOp::FloorDiv,
                "%" => BinOp::Rem,
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Operators binding tighter than `min` are taken; all are left-associative.
    fn expr(&mut self, min: u8) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.binop() {
            if op.precedence() <= min {
                break;
            }
            self.pos += 1;
            let rhs = self.expr(op.precedence())?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.depth >= NESTING_MAX {
            return self.error(format!(
                "the expression nests more than {NESTING_MAX} levels deep"
            ));
        }
        self.depth += 1;
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(Token::Ident(k)) if k == "not" => {
                self.pos += 1;
                Ok(Expr::Unary(UnOp::Not, Box::new(self.unary()?)))
            }
            Some(Token::Op("-")) => {
                self.pos += 1;
                Ok(Expr::Unary(UnOp::Neg, Box::new(self.unary()?)))
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        loop {
            if self.eat_punct('.') {
                match self.peek().cloned() {
                    Some(Token::Ident(name)) => {
                        self.pos += 1;
                        e = Expr::Field(Box::new(e), name);
                    }
                    _ => return self.error("expected a field name after '.'"),
                }
            } else if self.eat_punct('[') {
                let index = self.expr(0)?;
                self.expect_punct(']')?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else if self.peek() == Some(&Token::Punct('(')) {
                let Some(name) = e.dotted_name() else {
                    return self.error("only a function name can be called");
                };
                self.pos += 1;
                let args = self.list_until(')')?;
                e = Expr::Call(name, args);
            } else {
                return Ok(e);
            }
        }
    }

    fn list_until(&mut self, close: char) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if self.eat_punct(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr(0)?);
            if self.eat_punct(close) {
                return Ok(items);
            }
            self.expect_punct(',')?;
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.peek().cloned() else {
            return self.error("expected a value, found the end");
        };
        self.pos += 1;
        match token {
            Token::Int(i) => Ok(Expr::Lit(Value::Int(i))),
            Token::Double(d) => Ok(Expr::Lit(Value::Double(d))),
            Token::Str(s) => Ok(Expr::Lit(Value::str(s))),
            Token::Ident(name) => match name.as_str() {
                "true" | "True" | "TRUE" => Ok(Expr::Lit(Value::Bool(true))),
                "false" | "False" | "FALSE" => Ok(Expr::Lit(Value::Bool(false))),
                "null" => Ok(Expr::Lit(Value::Null)),
                k if KEYWORDS.contains(&k) => {
                    self.pos -= 1;
                    self.error(format!("expected a value, found the keyword '{k}'"))
                }
                _ => Ok(Expr::Var(name)),
            },
            Token::Punct('(') => {
                let e = self.expr(0)?;
                self.expect_punct(')')?;
                Ok(e)
            }
            Token::Punct('[') => Ok(Expr::List(self.list_until(']')?)),
            Token::Punct('{') => {
                let mut entries = Vec::new();
                if self.eat_punct('}') {
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let key = match self.peek().cloned() {
                        Some(Token::Str(s)) | Some(Token::Ident(s)) => s,
                        _ => return self.error("expected a map key (a string)"),
                    };
                    self.pos += 1;
                    self.expect_punct(':')?;
                    entries.push((key, self.expr(0)?));
                    if self.eat_punct('}') {
                        return Ok(Expr::Map(entries));
                    }
                    self.expect_punct(',')?;
                }
            }
            other => {
                self.pos -= 1;
                self.error(format!("expected a value, found {other}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a property reads, so explore builds only those variables of a run.
    #[test]
    fn vars_are_every_variable_read_in_source_order() {
        let e = parse(r#"state == "SUCCEEDED" and len(logs) > f(result.a, [x, {"k": -y}])[z]"#)
            .unwrap();
        let mut got = Vec::new();
        e.vars(&mut got);
        assert_eq!(got, ["state", "logs", "result", "x", "y", "z"]);
        let literal = parse("1 + f(2)").unwrap();
        let mut none = Vec::new();
        literal.vars(&mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn nesting_is_bounded_not_a_stack_overflow() {
        for deep in [
            format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000)),
            format!("{}1", "not ".repeat(50_000)),
            format!("{}1", "-".repeat(50_000)),
            format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000)),
            format!("{}1{}", "f(".repeat(50_000), ")".repeat(50_000)),
        ] {
            let e = parse(&deep).unwrap_err();
            assert!(e.message.contains("nests more than 200"), "{e:?}");
        }
        let ok = format!("{}1{}", "(".repeat(150), ")".repeat(150));
        assert!(parse(&ok).is_ok());
    }

    fn show(e: &Expr) -> String {
        match e {
            Expr::Lit(Value::Int(i)) => i.to_string(),
            Expr::Lit(Value::Str(s)) => format!("{s:?}"),
            Expr::Lit(v) => format!("{v:?}"),
            Expr::Var(v) => v.clone(),
            Expr::List(items) => format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            Expr::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", show(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::Field(e, f) => format!("{}.{f}", show(e)),
            Expr::Index(e, i) => format!("{}[{}]", show(e), show(i)),
            Expr::Call(name, args) => {
                format!(
                    "{name}({})",
                    args.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            Expr::Unary(UnOp::Not, e) => format!("(not {})", show(e)),
            Expr::Unary(UnOp::Neg, e) => format!("(-{})", show(e)),
            Expr::Binary(op, a, b) => format!("({} {} {})", show(a), op.as_str(), show(b)),
        }
    }

    fn check(src: &str, want: &str) {
        assert_eq!(show(&parse(src).unwrap()), want, "{src}");
    }

    #[test]
    fn precedence() {
        check("1 + 2 * 3", "(1 + (2 * 3))");
        check("1 - 2 - 3", "((1 - 2) - 3)");
        check("a or b and c", "(a or (b and c))");
        check("not a == b", "((not a) == b)");
        check("-x.y[0]", "(-x.y[0])");
        check("a + b in c", "((a + b) in c)");
        check("10 // 3 % 2", "((10 // 3) % 2)");
        check("(1 + 2) * 3", "((1 + 2) * 3)");
    }

    #[test]
    fn calls_fields_and_literals() {
        check(
            r#""Received " + json.encode_to_string(req.http_request)"#,
            r#"("Received " + json.encode_to_string(req.http_request))"#,
        );
        check(r#"{"a": [1, 2], b: {}}"#, "{a: [1, 2], b: {}}");
        check("m[\"k\"].x", "m[\"k\"].x");
        check("sys.now()", "sys.now()");
        check("True and FALSE", "(Bool(true) and Bool(false))");
        let mut calls = Vec::new();
        parse("len(keys(m)) + sys.now()").unwrap().calls(&mut calls);
        assert_eq!(calls, vec!["len", "keys", "sys.now"]);
    }

    #[test]
    fn errors() {
        let e = parse("1 +").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(e.message.contains("end"), "{e:?}");
        assert!(parse("a b").unwrap_err().message.contains("unexpected"));
        assert!(parse("(1 + 2").unwrap_err().message.contains("')'"));
        assert!(
            parse("f(1)(2)")
                .unwrap_err()
                .message
                .contains("function name")
        );
        assert!(parse("a and or b").unwrap_err().message.contains("'or'"));
        assert!(parse("[1, 2").is_err());
    }
}
