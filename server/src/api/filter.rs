//! The query grammar every listing shares: AIP-160's `filter` (comparisons joined by AND,
//! OR, NOT and parentheses) and AIP-132's `orderBy` (fields, each `asc` or `desc`). A
//! listing supplies only its fields ([`Fields`]): what each name means, how a value is read
//! for it, and how a row compares; `list.rs` (executions) and `entries.rs` (step entries)
//! are the two.

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Has,
}

/// `a op b`; `:` (has) on a plain value is equality.
pub(super) fn compare<T: Ord + ?Sized>(a: &T, op: Op, b: &T) -> bool {
    let o = a.cmp(b);
    match op {
        Op::Eq | Op::Has => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
    }
}

/// What one listing's `filter` can name and compare.
pub(super) trait Fields: Sized {
    /// What a name resolves to.
    type Field;
    /// What a comparison reads of one item.
    type Row<'a>;
    /// The names, for the message that refuses another: "a, b and c".
    const NAMES: &'static str;
    fn field(name: &str) -> Option<Self::Field>;
    /// `field op raw`, `raw` read as `field` compares it (a time, a number, a name), or why
    /// it cannot be.
    fn comparison(field: Self::Field, op: Op, raw: String) -> Result<Self, String>;
    fn holds(&self, row: &Self::Row<'_>) -> bool;
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr<C> {
    And(Vec<Expr<C>>),
    Or(Vec<Expr<C>>),
    Not(Box<Expr<C>>),
    Cmp(C),
}

impl<C: Fields> Expr<C> {
    fn matches(&self, row: &C::Row<'_>) -> bool {
        match self {
            Expr::And(all) => all.iter().all(|x| x.matches(row)),
            Expr::Or(any) => any.iter().any(|x| x.matches(row)),
            Expr::Not(x) => !x.matches(row),
            Expr::Cmp(c) => c.holds(row),
        }
    }
}

/// A parsed `filter` over the fields `C`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Filter<C>(pub(super) Expr<C>);

impl<C: Fields> Filter<C> {
    pub(crate) fn parse(text: &str) -> Result<Filter<C>, String> {
        let mut p = Parser {
            tokens: tokens(text)?,
            at: 0,
            fields: std::marker::PhantomData,
        };
        let e = p.expression()?;
        match p.peek() {
            None => Ok(Filter(e)),
            Some(t) => Err(format!("unexpected {t:?} after a whole filter").replace("Token::", "")),
        }
    }

    pub(crate) fn matches(&self, row: &C::Row<'_>) -> bool {
        self.0.matches(row)
    }
}

/// A parsed `orderBy`: fields, each ascending unless `desc`, in the order written; empty
/// when none is (each listing has its own default). `field` resolves a name; `names` lists
/// them for the message that refuses another.
pub(super) fn order_keys<F>(
    text: &str,
    field: impl Fn(&str) -> Option<F>,
    names: &str,
) -> Result<Vec<(F, bool)>, String> {
    let mut keys = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or_default();
        let f = field(name)
            .ok_or_else(|| format!("'{name}' cannot be ordered by; the fields are {names}"))?;
        let desc = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(format!("'{other}' is not asc or desc")),
        };
        if let Some(extra) = words.next() {
            return Err(format!("unexpected '{extra}' in orderBy"));
        }
        keys.push((f, desc));
    }
    Ok(keys)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Op(Op),
    Open,
    Close,
    Minus,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            // After a comparison a '-' begins the value; anywhere else it is NOT.
            '-' if out.last().is_none_or(|t| !matches!(t, Token::Op(_))) => {
                out.push(Token::Minus);
                i += 1;
            }
            '=' => {
                out.push(Token::Op(Op::Eq));
                i += 1;
            }
            ':' => {
                out.push(Token::Op(Op::Has));
                i += 1;
            }
            '!' if next == Some('=') => {
                out.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let eq = next == Some('=');
                out.push(Token::Op(match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
                i += 1 + usize::from(eq);
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a quoted value is not closed".into()),
                        Some('"') => break,
                        Some('\\') if i + 1 < chars.len() => {
                            s.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token::Text(s));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '=' | ':' | '!' | '<' | '>' | '"')
                {
                    i += 1;
                }
                if start == i {
                    return Err(format!("unexpected '{c}'"));
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser<C> {
    tokens: Vec<Token>,
    at: usize,
    fields: std::marker::PhantomData<C>,
}

impl<C: Fields> Parser<C> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == k)
    }

    /// expression = factor {AND factor}; factors side by side are joined by AND too.
    fn expression(&mut self) -> Result<Expr<C>, String> {
        let mut all = vec![self.factor()?];
        loop {
            if self.keyword("AND") {
                self.at += 1;
            } else if !matches!(
                self.peek(),
                Some(Token::Word(_) | Token::Text(_) | Token::Open | Token::Minus)
            ) || self.keyword("OR")
            {
                break;
            }
            all.push(self.factor()?);
        }
        Ok(one_or(all, Expr::And))
    }

    /// factor = term {OR term}: OR binds tighter than AND (AIP-160).
    fn factor(&mut self) -> Result<Expr<C>, String> {
        let mut any = vec![self.term()?];
        while self.keyword("OR") {
            self.at += 1;
            any.push(self.term()?);
        }
        Ok(one_or(any, Expr::Or))
    }

    fn term(&mut self) -> Result<Expr<C>, String> {
        if self.keyword("NOT") || self.peek() == Some(&Token::Minus) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.simple()?)));
        }
        self.simple()
    }

    fn simple(&mut self) -> Result<Expr<C>, String> {
        let token = self.peek().cloned();
        self.at += 1;
        match token {
            Some(Token::Open) => {
                let x = self.expression()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a '(' is not closed".into());
                }
                self.at += 1;
                Ok(x)
            }
            Some(Token::Word(name)) => {
                let field = C::field(&name).ok_or_else(|| {
                    format!(
                        "'{name}' cannot be filtered on; the fields are {}",
                        C::NAMES
                    )
                })?;
                let Some(Token::Op(op)) = self.peek().cloned() else {
                    return Err(format!("'{name}' needs a comparison, like {name}=\"…\""));
                };
                self.at += 1;
                let raw = match self.peek().cloned() {
                    Some(Token::Word(w) | Token::Text(w)) => w,
                    _ => return Err(format!("'{name}' is compared with nothing")),
                };
                self.at += 1;
                Ok(Expr::Cmp(C::comparison(field, op, raw)?))
            }
            Some(t) => Err(format!("unexpected {t:?}").replace("Token::", "")),
            None => Err("the filter ends too soon".into()),
        }
    }
}

fn one_or<C>(mut xs: Vec<Expr<C>>, many: fn(Vec<Expr<C>>) -> Expr<C>) -> Expr<C> {
    if xs.len() == 1 {
        xs.remove(0)
    } else {
        many(xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of one text field, `f`, to see the grammar alone.
    #[derive(Debug, PartialEq)]
    struct F(Op, String);

    impl Fields for F {
        type Field = ();
        type Row<'a> = &'a str;
        const NAMES: &'static str = "f";
        fn field(name: &str) -> Option<()> {
            (name == "f").then_some(())
        }
        fn comparison((): (), op: Op, raw: String) -> Result<F, String> {
            if raw == "bad" {
                return Err("'bad' is not a value".into());
            }
            Ok(F(op, raw))
        }
        fn holds(&self, row: &&str) -> bool {
            compare(*row, self.0, self.1.as_str())
        }
    }

    /// AIP-160's precedence: OR binds tighter than AND, juxtaposition is AND, NOT and `-`
    /// negate one term; the listing's own reading of values and names is called.
    #[test]
    fn one_grammar_for_every_listing() {
        let m = |f: &str, row: &str| Filter::<F>::parse(f).unwrap().matches(&row);
        assert!(m("f=a OR f=b f=b", "b"));
        assert!(!m("f=a OR f=b f=b", "a"));
        assert!(m("(f=a OR f=b) AND NOT f=b", "a"));
        assert!(m("-f=a", "b"));
        assert!(m("f>=-1", "-1"), "a '-' after a comparison is the value's");
        assert!(m(r#"f="a \"b\"""#, r#"a "b""#));
        for (f, why) in [
            ("g=1", "'g' cannot be filtered on; the fields are f"),
            ("f=bad", "'bad' is not a value"),
            ("f", "needs a comparison"),
            ("f=", "compared with nothing"),
            ("(f=a", "not closed"),
            ("f=a)", "after a whole filter"),
            ("", "ends too soon"),
            ("f!a", "unexpected '!'"),
        ] {
            let e = Filter::<F>::parse(f).unwrap_err();
            assert!(e.contains(why), "{f}: {e}");
        }
    }

    #[test]
    fn order_keys_read_as_aip_132() {
        let f = |n: &str| (n == "a" || n == "b").then(|| n.to_owned());
        assert_eq!(
            order_keys("a desc, b", f, "a and b").unwrap(),
            [("a".to_owned(), true), ("b".to_owned(), false)]
        );
        assert!(order_keys("", f, "").unwrap().is_empty());
        for (text, why) in [
            ("c", "'c' cannot be ordered by; the fields are a and b"),
            ("a sideways", "not asc or desc"),
            ("a asc extra", "unexpected 'extra'"),
        ] {
            let e = order_keys(text, f, "a and b").unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
