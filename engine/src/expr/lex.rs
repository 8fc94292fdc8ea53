//! Tokens of the expression language.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Int(i64),
    Double(f64),
    Str(String),
    Ident(String),
    /// One of `( ) [ ] { } , : .`
    Punct(char),
    /// `+ - * / // % == != < <= > >=`
    Op(&'static str),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Int(i) => write!(f, "{i}"),
            Token::Double(d) => write!(f, "{d}"),
            Token::Str(s) => write!(f, "{s:?}"),
            Token::Ident(s) => write!(f, "{s}"),
            Token::Punct(c) => write!(f, "'{c}'"),
            Token::Op(op) => write!(f, "'{op}'"),
        }
    }
}

/// A token and the byte offset where it starts in the expression text.
pub type Spanned = (Token, usize);

/// Why the text is not a sequence of tokens, and where (byte offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub offset: usize,
    pub message: String,
}

/// Splits `src` into tokens.
///
/// Errors: `"abc` (unterminated string), `1 ~ 2` (unexpected character), `"\q"` (unknown
/// escape), `99999999999999999999` (integer out of int64 range).
pub fn lex(src: &str) -> Result<Vec<Spanned>, LexError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset: usize, message: String| LexError { offset, message };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let mut is_double = false;
                if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    is_double = true;
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                    let mut j = i + 1;
                    if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                        j += 1;
                    }
                    if j < bytes.len() && bytes[j].is_ascii_digit() {
                        is_double = true;
                        i = j;
                        while i < bytes.len() && bytes[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let text = &src[start..i];
                let token = if is_double {
                    Token::Double(
                        text.parse()
                            .map_err(|_| err(start, format!("'{text}' is not a number")))?,
                    )
                } else {
                    Token::Int(text.parse().map_err(|_| {
                        err(start, format!("integer {text} is out of the int64 range"))
                    })?)
                };
                out.push((token, start));
            }
            b'"' | b'\'' => {
                let (s, end) = lex_string(src, i).map_err(|(offset, m)| err(offset, m))?;
                out.push((Token::Str(s), start));
                i = end;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((Token::Ident(src[start..i].to_owned()), start));
            }
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b':' | b'.' => {
                out.push((Token::Punct(c as char), start));
                i += 1;
            }
            _ => {
                let two = src.get(i..i + 2).unwrap_or("");
                let op = match two {
                    "//" => Some("//"),
                    "==" => Some("=="),
                    "!=" => Some("!="),
                    "<=" => Some("<="),
                    ">=" => Some(">="),
                    _ => None,
                };
                if let Some(op) = op {
                    out.push((Token::Op(op), start));
                    i += 2;
                    continue;
                }
                let op = match c {
                    b'+' => "+",
                    b'-' => "-",
                    b'*' => "*",
                    b'/' => "/",
                    b'%' => "%",
                    b'<' => "<",
                    b'>' => ">",
                    _ => {
                        let ch = src[i..].chars().next().unwrap_or('?');
                        return Err(err(start, format!("unexpected character '{ch}'")));
                    }
                };
                out.push((Token::Op(op), start));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// A quoted string starting at `start`; returns its value and the offset after it.
fn lex_string(src: &str, start: usize) -> Result<(String, usize), (usize, String)> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        let at = start + 1 + k;
        match c {
            c if c == quote => return Ok((out, at + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    '/' => out.push('/'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).map(|(_, h)| h).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4)
                            .and_then(char::from_u32)
                            .ok_or((at, format!("bad unicode escape '\\u{hex}'")))?;
                        out.push(code);
                    }
                    other => return Err((at, format!("unknown escape '\\{other}'"))),
                }
            }
            c => out.push(c),
        }
    }
    Err((start, "unterminated string".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Token> {
        lex(src).unwrap().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn numbers_strings_and_operators() {
        assert_eq!(
            tokens(r#"a.b[0] // 2.5e1 + "x\"y" <= 'z'"#),
            vec![
                Token::Ident("a".into()),
                Token::Punct('.'),
                Token::Ident("b".into()),
                Token::Punct('['),
                Token::Int(0),
                Token::Punct(']'),
                Token::Op("//"),
                Token::Double(25.0),
                Token::Op("+"),
                Token::Str("x\"y".into()),
                Token::Op("<="),
                Token::Str("z".into()),
            ]
        );
        assert_eq!(tokens(r#""\u00e9\n""#), vec![Token::Str("\u{e9}\n".into())]);
        assert_eq!(tokens("1e3 7"), vec![Token::Double(1000.0), Token::Int(7)]);
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(lex(r#"1 + "abc"#).unwrap_err().offset, 4);
        assert!(lex("1 ~ 2").unwrap_err().message.contains("'~'"));
        assert!(lex(r#""\q""#).unwrap_err().message.contains("\\q"));
        assert!(
            lex("99999999999999999999")
                .unwrap_err()
                .message
                .contains("int64")
        );
    }
}
