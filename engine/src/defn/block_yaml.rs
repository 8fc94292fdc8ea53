//! The block-style YAML that definitions and scenarios are written in, read straight into
//! [`Node`]s: nested `key: value` maps and `- item` lists, one-line scalars (plain, single-
//! or double-quoted), one-line flow lists and maps, comments. saphyr reads a short file at
//! about 140 instructions a byte, most of a short run's time (issue #22); this reads the
//! same text at a tenth of that.
//!
//! It is a fast path, never a second definition of YAML: anything outside that subset (a
//! tab, a block scalar, an anchor, a tag, a multi-line scalar or flow, an empty value, a
//! duplicate key, a second document, nesting past [`DEPTH_MAX`], any doubt) is `None`, and
//! [`super::tree::parse`] reads the file with saphyr as before. What it accepts it must
//! read exactly as saphyr does, positions included: the tests compare both on every
//! fixture and on generated documents. Scalars are typed by saphyr's own resolver.

use std::borrow::Cow;

use saphyr::Scalar;
use saphyr_parser::ScalarStyle;

use super::tree::{Node, NodeKind, Pos};
use crate::value::Value;

/// Deeper documents go to saphyr, which enforces the definition's own depth limit.
const DEPTH_MAX: usize = 64;

/// `text` as a tree, or `None` where it leaves the subset this reads.
pub fn read(text: &str) -> Option<Node> {
    let mut r = Reader::new(text, false);
    if !r.first_line_ok() {
        return None;
    }
    let indent = r.next_content()?;
    // A document of one scalar, or one starting past column 1, is left to saphyr.
    if indent != 0 {
        return None;
    }
    let node = r.block_node(0)?;
    // Everything must have been read (a line left to saphyr stops the cursor before it).
    match r.next_content() {
        None if r.i == r.b.len() => Some(node),
        _ => None,
    }
}

/// JSON text that serde_json has accepted, as saphyr reads it (JSON is YAML 1.2's flow
/// style), or `None` where it leaves the subset: a tab or carriage return, a scalar root,
/// a surrogate pair, a duplicate key.
pub fn read_json(text: &str) -> Option<Node> {
    let mut r = Reader::new(text, true);
    if !r.first_line_ok() {
        return None;
    }
    r.flow_spaces();
    if !matches!(r.peek(), Some(b'[' | b'{')) {
        return None;
    }
    let node = r.flow()?;
    r.flow_spaces();
    (r.i == r.b.len()).then_some(node)
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// 1-based, as saphyr's markers.
    line: u32,
    line_start: usize,
    /// Where the current line's newline (or the text's end) is.
    line_end: usize,
    /// Whether the current line is ASCII so far as checked, so a column is a byte count.
    ascii_line: bool,
    depth: usize,
    /// A line outside the subset was met: every later step says `None`.
    left: bool,
    /// Reading JSON (already checked by serde_json): a flow may span lines, and its plain
    /// scalars (numbers, `true`, `false`, `null`) end at whitespace.
    json: bool,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, json: bool) -> Self {
        Reader {
            s: text,
            b: text.as_bytes(),
            i: 0,
            line: 1,
            line_start: 0,
            line_end: 0,
            ascii_line: true,
            depth: 0,
            left: false,
            json,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    /// The position of byte `i` on the current line: a 1-based column of characters.
    fn pos_at(&self, i: usize) -> Pos {
        let col = if self.ascii_line {
            i - self.line_start
        } else {
            self.s[self.line_start..i].chars().count()
        };
        Pos {
            line: self.line,
            col: col as u32 + 1,
        }
    }

    fn pos(&self) -> Pos {
        self.pos_at(self.i)
    }

    /// Moves past blank and comment lines (and the rest of the current line, which must
    /// hold nothing but spaces and a comment) to the first character of the next line with
    /// content; its indent, or `None` at the end of the text or on a byte this does not
    /// read (a tab, a carriage return).
    fn next_content(&mut self) -> Option<usize> {
        if self.left {
            return None;
        }
        loop {
            // The rest of this line: spaces, then a comment or its end.
            while self.peek() == Some(b' ') {
                self.i += 1;
            }
            match self.peek() {
                None => return None,
                Some(b'#') => {
                    // A comment must follow a space or begin the line.
                    if self.i > self.line_start && self.b[self.i - 1] != b' ' {
                        return None;
                    }
                    // To the line's end, found when the line was entered.
                    self.i = self.line_end;
                    self.peek()?;
                }
                Some(b'\n') => {}
                Some(_) => {
                    // Content: only at the start of a line (after its indent) is it new.
                    if self.b[self.line_start..self.i].iter().all(|&c| c == b' ') {
                        return Some(self.i - self.line_start);
                    }
                    return None;
                }
            }
            // At a newline: the next line.
            if !self.enter_line() {
                return None;
            }
        }
    }

    /// From the newline at the cursor to the start of the next line, read once for what
    /// the columns need (is it ASCII) and for what this leaves to saphyr (tabs, carriage
    /// returns, document markers, directives): `false`, sticky, if it holds one.
    fn enter_line(&mut self) -> bool {
        self.i += 1;
        self.line += 1;
        self.line_start = self.i;
        let (mut ascii, mut odd, mut end) = (true, false, self.b.len());
        for (n, &c) in self.b[self.i..].iter().enumerate() {
            match c {
                b'\n' => {
                    end = self.i + n;
                    break;
                }
                // Control characters (saphyr reads a NUL as the end of the text).
                0..=0x1f | 0x7f => odd = true,
                c if c >= 0x80 => ascii = false,
                _ => {}
            }
        }
        let line = &self.b[self.i..end];
        self.ascii_line = ascii;
        self.line_end = end;
        if odd
            || (!ascii && odd_unicode(line))
            || line.starts_with(b"---")
            || line.starts_with(b"...")
            || line.starts_with(b"%")
        {
            self.left = true;
        }
        !self.left
    }

    /// Checks the first line, which `next_content` did not enter through a newline.
    fn first_line_ok(&mut self) -> bool {
        let end = self
            .b
            .iter()
            .position(|&c| c == b'\n')
            .unwrap_or(self.b.len());
        let line = &self.b[..end];
        self.ascii_line = line.is_ascii();
        self.line_end = end;
        !(line.iter().any(|&c| c < 0x20 || c == 0x7f)
            || (!self.ascii_line && odd_unicode(line))
            || line.starts_with(b"---")
            || line.starts_with(b"...")
            || line.starts_with(b"%")
            || self.b.starts_with(b"\xEF\xBB\xBF"))
    }

    /// The node whose first character is at the cursor, at column `indent` (0-based) of a
    /// line of its own.
    fn block_node(&mut self, indent: usize) -> Option<Node> {
        self.depth += 1;
        if self.depth > DEPTH_MAX {
            return None;
        }
        let node = if self.is_dash() {
            self.block_seq(indent, false)
        } else if self.key_ahead() {
            self.block_map(indent)
        } else {
            None
        };
        self.depth -= 1;
        node
    }

    /// `-` followed by a space or the line's end: a block list's entry.
    fn is_dash(&self) -> bool {
        self.peek() == Some(b'-') && matches!(self.at(1), Some(b' ' | b'\n') | None)
    }

    /// Whether the line from the cursor reads as `key:` (a plain or quoted key, then `:`
    /// and a space or the line's end), without moving or building the key: the scan
    /// [`Self::scalar_key`] makes, which then reads the key itself.
    fn key_ahead(&self) -> bool {
        let mut i = self.i;
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => {
                i += 1;
                loop {
                    match self.b.get(i) {
                        None | Some(b'\n') => return false,
                        Some(b'\\') if q == b'"' => i += 2,
                        Some(&c) if c == q => {
                            // `''` inside single quotes is a quote.
                            if q == b'\'' && self.b.get(i + 1) == Some(&b'\'') {
                                i += 2;
                            } else {
                                break;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                while self.b.get(i) == Some(&b' ') {
                    i += 1;
                }
                self.b.get(i) == Some(&b':')
                    && matches!(self.b.get(i + 1), None | Some(b' ' | b'\n'))
            }
            _ => {
                if !self.plain_may_start() {
                    return false;
                }
                loop {
                    match self.b.get(i) {
                        None | Some(b'\n') => return false,
                        Some(b':') if matches!(self.b.get(i + 1), None | Some(b' ' | b'\n')) => {
                            return true;
                        }
                        Some(b'#') if self.b[i - 1] == b' ' => return false,
                        Some(_) => i += 1,
                    }
                }
            }
        }
    }

    fn block_seq(&mut self, indent: usize, indentless: bool) -> Option<Node> {
        let mut pos = self.pos();
        let mut items = Vec::new();
        loop {
            // At `-`.
            self.i += 1;
            let inline = self.inline_start();
            if indentless && items.is_empty() {
                inline?;
                pos = self.pos();
            }
            let item = match inline {
                // The entry's node is on the lines below, further in.
                None => {
                    let m = self.next_content()?;
                    if m <= indent {
                        return None;
                    }
                    self.block_node(m)?
                }
                Some(c) => {
                    if self.is_dash() {
                        return None;
                    }
                    if self.key_ahead() {
                        self.depth += 1;
                        if self.depth > DEPTH_MAX {
                            return None;
                        }
                        let map = self.block_map(c)?;
                        self.depth -= 1;
                        map
                    } else {
                        self.inline_value_to_eol()?
                    }
                }
            };
            items.push(item);
            match self.next_content() {
                Some(m) if m == indent && self.is_dash() => continue,
                Some(m) if m > indent => return None,
                _ => break,
            }
        }
        Some(Node {
            pos,
            kind: NodeKind::Seq(items),
        })
    }

    /// After an indicator (`-` or `key:`): skips spaces; the column of what follows on this
    /// line, or `None` if nothing but a comment does.
    fn inline_start(&mut self) -> Option<usize> {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        match self.peek() {
            None | Some(b'\n') | Some(b'#') => None,
            Some(_) => Some(self.i - self.line_start),
        }
    }

    fn block_map(&mut self, indent: usize) -> Option<Node> {
        let pos = self.pos();
        let mut entries: Vec<(String, Pos, Node)> = Vec::new();
        let mut kinds: Vec<u8> = Vec::new();
        loop {
            let kpos = self.pos();
            let (key, kind) = self.scalar_key()?;
            let value = match self.inline_start() {
                None => {
                    // The value is on the lines below: further in, or a list at the key's
                    // own indent. Anything else is an empty value, saphyr's to read.
                    let m = self.next_content()?;
                    if m > indent {
                        self.block_node(m)?
                    } else if m == indent && self.is_dash() {
                        self.depth += 1;
                        if self.depth > DEPTH_MAX {
                            return None;
                        }
                        let seq = self.block_seq(m, true)?;
                        self.depth -= 1;
                        seq
                    } else {
                        return None;
                    }
                }
                Some(_) => {
                    if self.is_dash() || self.key_ahead() {
                        return None;
                    }
                    self.inline_value_to_eol()?
                }
            };
            entries.push((key, kpos, value));
            kinds.push(kind);
            match self.next_content() {
                Some(m) if m == indent && !self.is_dash() => continue,
                Some(m) if m > indent => return None,
                _ => break,
            }
        }
        if has_duplicate(&entries, &kinds) {
            return None;
        }
        Some(Node {
            pos,
            kind: NodeKind::Map(entries),
        })
    }

    /// A block map's key and the `:` after it (and the space, if any); the key as read
    /// directly keys it (what it was before it became a string: 0 a string, 1 an integer,
    /// 2 a boolean).
    fn scalar_key(&mut self) -> Option<(String, u8)> {
        let value = match self.peek()? {
            b'"' => self.double_quoted()?,
            b'\'' => self.single_quoted()?,
            _ => {
                let start = self.i;
                if !self.plain_may_start() {
                    return None;
                }
                // To the first `: ` or `:` at the line's end; a comment before it is no key.
                loop {
                    match self.peek() {
                        None | Some(b'\n') => return None,
                        Some(b':') if matches!(self.at(1), None | Some(b' ' | b'\n')) => break,
                        Some(b'#') if self.b[self.i - 1] == b' ' => return None,
                        Some(_) => self.i += 1,
                    }
                }
                let raw = self.s[start..self.i].trim_end_matches(' ');
                // A key past YAML's 1024 characters is saphyr's to judge.
                if raw.len() > 1000 {
                    return None;
                }
                if surely_a_string(raw) {
                    self.key_end()?;
                    return Some((raw.to_owned(), 0));
                }
                typed(raw, ScalarStyle::Plain)?
            }
        };
        self.key_end()?;
        match value {
            Value::Str(s) => Some((s.to_string(), 0)),
            Value::Int(i) => Some((i.to_string(), 1)),
            Value::Bool(b) => Some((b.to_string(), 2)),
            _ => None,
        }
    }

    /// Past a key's `:` (and the spaces before it), which must be followed by a space or
    /// the line's end.
    fn key_end(&mut self) -> Option<()> {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        if self.peek() != Some(b':') || !matches!(self.at(1), None | Some(b' ' | b'\n')) {
            return None;
        }
        self.i += 1;
        Some(())
    }

    /// Whether a plain scalar may begin at the cursor (YAML's ns-plain-first, narrowed to
    /// what this reads: no indicator, except `-` before a non-space).
    fn plain_may_start(&self) -> bool {
        match self.peek() {
            Some(b'-') => !matches!(self.at(1), None | Some(b' ' | b'\n')),
            Some(
                b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
                | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`',
            )
            | None
            | Some(b' ' | b'\n') => false,
            Some(_) => true,
        }
    }

    /// The value that takes the rest of the line: a quoted or plain scalar, or a flow list
    /// or map closed on this line; then only a comment may follow.
    fn inline_value_to_eol(&mut self) -> Option<Node> {
        let pos = self.pos();
        let node = match self.peek()? {
            b'"' => Node {
                pos,
                kind: NodeKind::Scalar(self.double_quoted()?),
            },
            b'\'' => Node {
                pos,
                kind: NodeKind::Scalar(self.single_quoted()?),
            },
            b'[' | b'{' => self.flow()?,
            _ => {
                if !self.plain_may_start() {
                    return None;
                }
                let start = self.i;
                loop {
                    match self.peek() {
                        None | Some(b'\n') => break,
                        // A value holding `: ` is a nested map YAML refuses here.
                        Some(b':') if matches!(self.at(1), None | Some(b' ' | b'\n')) => {
                            return None;
                        }
                        Some(b'#') if self.b[self.i - 1] == b' ' => break,
                        Some(_) => self.i += 1,
                    }
                }
                let raw = self.s[start..self.i].trim_end_matches(' ');
                self.i = start + raw.len();
                Node {
                    pos,
                    kind: NodeKind::Scalar(typed(raw, ScalarStyle::Plain)?),
                }
            }
        };
        // The line must end here, or hold a comment after a space.
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        match self.peek() {
            None | Some(b'\n') => Some(node),
            Some(b'#') if self.b[self.i - 1] == b' ' => Some(node),
            Some(_) => None,
        }
    }

    /// A double-quoted scalar closed on its own line, with the escapes JSON has.
    fn double_quoted(&mut self) -> Option<Value> {
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\n' => return None,
                b'\\' => {
                    out.push_str(&self.s[run..self.i]);
                    let c = match self.at(1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = self.s.get(self.i + 2..self.i + 6)?;
                            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                                return None;
                            }
                            // A surrogate half is saphyr's to judge.
                            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            self.i += 4;
                            c
                        }
                        _ => return None,
                    };
                    out.push(c);
                    self.i += 2;
                    run = self.i;
                }
                _ => self.i += 1,
            }
        }
        out.push_str(&self.s[run..self.i]);
        self.i += 1;
        typed(&out, ScalarStyle::DoubleQuoted)
    }

    /// A single-quoted scalar closed on its own line (`''` is a quote).
    fn single_quoted(&mut self) -> Option<Value> {
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        loop {
            match self.peek()? {
                b'\'' if self.at(1) == Some(b'\'') => {
                    out.push_str(&self.s[run..=self.i]);
                    self.i += 2;
                    run = self.i;
                }
                b'\'' => break,
                b'\n' => return None,
                _ => self.i += 1,
            }
        }
        out.push_str(&self.s[run..self.i]);
        self.i += 1;
        typed(&out, ScalarStyle::SingleQuoted)
    }

    /// A flow list or map opened and closed on this line, each entry a scalar or another
    /// such flow.
    fn flow(&mut self) -> Option<Node> {
        self.depth += 1;
        if self.depth > DEPTH_MAX {
            return None;
        }
        let pos = self.pos();
        let open = self.peek()?;
        let close = if open == b'[' { b']' } else { b'}' };
        self.i += 1;
        let mut items = Vec::new();
        let mut entries: Vec<(String, Pos, Node)> = Vec::new();
        let mut kinds = Vec::new();
        self.flow_spaces();
        if self.peek() == Some(close) {
            self.i += 1;
        } else {
            loop {
                if open == b'[' {
                    items.push(self.flow_node()?);
                } else {
                    let kpos = self.pos();
                    let quoted = matches!(self.peek(), Some(b'"' | b'\''));
                    let key = self.flow_node()?;
                    let NodeKind::Scalar(k) = key.kind else {
                        return None;
                    };
                    self.flow_spaces();
                    if self.peek() != Some(b':') {
                        return None;
                    }
                    self.i += 1;
                    // After a plain key, `:` must be followed by a space; after a quoted
                    // one (JSON's `{"k":1}`) it need not.
                    if !quoted && self.peek() != Some(b' ') {
                        return None;
                    }
                    self.flow_spaces();
                    let value = self.flow_node()?;
                    let (k, kind) = match k {
                        Value::Str(s) => (s.to_string(), 0),
                        Value::Int(i) => (i.to_string(), 1),
                        Value::Bool(b) => (b.to_string(), 2),
                        _ => return None,
                    };
                    entries.push((k, kpos, value));
                    kinds.push(kind);
                }
                self.flow_spaces();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.flow_spaces();
                        // A trailing comma is saphyr's.
                        if self.peek() == Some(close) {
                            return None;
                        }
                    }
                    c if c == close => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let kind = if open == b'[' {
            NodeKind::Seq(items)
        } else {
            if has_duplicate(&entries, &kinds) {
                return None;
            }
            NodeKind::Map(entries)
        };
        Some(Node { pos, kind })
    }

    /// Spaces between a flow's tokens; in JSON, newlines too.
    fn flow_spaces(&mut self) {
        loop {
            match self.peek() {
                Some(b' ') => self.i += 1,
                Some(b'\n') if self.json => {
                    if !self.enter_line() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// An entry of a flow collection: quoted, another flow, or a plain scalar ending at the
    /// flow's punctuation.
    fn flow_node(&mut self) -> Option<Node> {
        let pos = self.pos();
        let value = match self.peek()? {
            b'"' => self.double_quoted()?,
            b'\'' => self.single_quoted()?,
            b'[' | b'{' => return self.flow(),
            _ => {
                if !self.plain_may_start() {
                    return None;
                }
                let start = self.i;
                loop {
                    match self.peek()? {
                        b' ' | b'\n' if self.json => break,
                        b'\n' => return None,
                        b',' | b']' | b'}' => break,
                        b'[' | b'{' | b'#' => return None,
                        b':' => {
                            // `: ` ends a flow map's key; any other `:` is saphyr's.
                            if self.at(1) == Some(b' ') {
                                break;
                            }
                            return None;
                        }
                        _ => self.i += 1,
                    }
                }
                let raw = self.s[start..self.i].trim_end_matches(' ');
                // saphyr refuses a `-` before flow punctuation or a space even inside a
                // flow's plain scalar.
                let dash_before = |w: &[u8]| w[0] == b'-' && b" ,[]{}".contains(&w[1]);
                if raw.is_empty()
                    || raw.ends_with('-')
                    || raw.as_bytes().windows(2).any(dash_before)
                {
                    return None;
                }
                typed(raw, ScalarStyle::Plain)?
            }
        };
        Some(Node {
            pos,
            kind: NodeKind::Scalar(value),
        })
    }
}

/// A scalar as saphyr types it: plain `1` an integer, `true` a boolean, `~` null, quoted
/// always a string.
fn typed(raw: &str, style: ScalarStyle) -> Option<Value> {
    if style == ScalarStyle::Plain && surely_a_string(raw) {
        return Some(Value::str(raw));
    }
    Some(
        match Scalar::parse_from_cow_and_metadata(Cow::Borrowed(raw), style, None)? {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(b),
            Scalar::Integer(i) => Value::Int(i),
            Scalar::FloatingPoint(f) => Value::Double(f.into_inner()),
            Scalar::String(s) => Value::str(&*s),
        },
    )
}

/// Whether a line holds a character YAML gives a meaning of its own (a byte order mark,
/// the next-line and Unicode line and paragraph separators): saphyr's to read.
fn odd_unicode(line: &[u8]) -> bool {
    std::str::from_utf8(line).map_or(true, |l| {
        l.contains(['\u{85}', '\u{2028}', '\u{2029}', '\u{feff}'])
    })
}

/// Whether saphyr's resolver could only make a string of plain `raw`: null, booleans,
/// numbers and `.inf`/`.nan` begin with `~`, `n`, `N`, `t`, `T`, `f`, `F`, a digit, a sign
/// or a dot; a name or an expression (`${...}`) begins otherwise.
fn surely_a_string(raw: &str) -> bool {
    raw.as_bytes()
        .first()
        .is_some_and(|&c| (c.is_ascii_alphabetic() && !b"nNtTfF".contains(&c)) || c == b'$')
}

/// Whether two of a map's keys are the same key as saphyr's loader compares them.
pub(super) fn has_duplicate(entries: &[(String, Pos, Node)], kinds: &[u8]) -> bool {
    let mut keys: Vec<(u8, &str)> = kinds
        .iter()
        .zip(entries)
        .map(|(&kind, (k, _, _))| (kind, k.as_str()))
        .collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::defn::tree::{Syntax, parse_with_saphyr};

    /// Every file under `dir` whose extension is one of `exts`, in name order.
    fn files_under(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                files_under(&p, exts, out);
            } else if p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
                out.push(p);
            }
        }
    }

    /// What the fast path reads must be what saphyr reads; `true` if it read it.
    fn agrees(text: &str) -> Result<bool, String> {
        match read(text) {
            None => Ok(false),
            // By their Debug text, which tells every value apart (NaN equals itself).
            Some(fast) => match parse_with_saphyr(text, Syntax::Yaml) {
                Ok(slow) if format!("{slow:?}") == format!("{fast:?}") => Ok(true),
                other => Err(format!(
                    "the fast path read\n{text}\nas {fast:?}\nsaphyr: {other:?}"
                )),
            },
        }
    }

    /// What the JSON fast path reads must be what saphyr reads; `true` if it read it.
    fn json_agrees(text: &str) -> Result<bool, String> {
        assert!(
            serde_json::from_str::<serde_json::Value>(text).is_ok(),
            "{text}"
        );
        match read_json(text) {
            None => Ok(false),
            Some(fast) => match parse_with_saphyr(text, Syntax::Json) {
                Ok(slow) if format!("{slow:?}") == format!("{fast:?}") => Ok(true),
                other => Err(format!(
                    "the JSON fast path read\n{text}\nas {fast:?}\nsaphyr: {other:?}"
                )),
            },
        }
    }

    #[test]
    fn every_json_fixture_reads_as_saphyr_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut files = Vec::new();
        files_under(&root, &["json"], &mut files);
        assert!(!files.is_empty());
        for f in &files {
            let text = std::fs::read_to_string(f).expect("a fixture reads");
            if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                continue;
            }
            match json_agrees(&text) {
                Ok(true) => {}
                Ok(false) => panic!("{} left the JSON fast path", f.display()),
                Err(e) => panic!("{}: {e}", f.display()),
            }
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::{Value as J, json};
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|i| json!(i)),
            (-1e300f64..1e300).prop_map(|f| json!(f)),
            prop::sample::select(vec![0.5, -0.0, 1e-7, 2.5e20, 1.0, 3.0e300])
                .prop_map(|f| json!(f)),
            prop::sample::select(SCALARS.to_vec()).prop_map(|s| J::String(s.to_owned())),
            "[ -~é\u{1F600}\n\t\\\"]{0,12}".prop_map(J::String),
        ];
        leaf.prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
                prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..5).prop_map(
                    |kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                ),
            ]
        })
    }

    /// JSON as serde_json writes it, compact and pretty, reads as saphyr reads it.
    #[test]
    fn generated_json_reads_as_saphyr_reads_it() {
        use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
        let config = Config {
            cases: 2000,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let read = std::cell::Cell::new(0u32);
        let result = runner.run(&json_value(), |v| {
            if !(v.is_array() || v.is_object()) {
                return Ok(());
            }
            for text in [
                v.to_string(),
                serde_json::to_string_pretty(&v).expect("it prints"),
            ] {
                if json_agrees(&text).map_err(TestCaseError::fail)? {
                    read.set(read.get() + 1);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        // Not vacuous: most collections take the fast path.
        assert!(read.get() > 1000, "{} read", read.get());
    }

    #[test]
    fn every_fixture_reads_as_saphyr_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["fixtures", "docs", "clients", "schema"] {
            files_under(&root.join(dir), &["yaml", "yml"], &mut files);
        }
        let mut read_fast = Vec::new();
        let mut left = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).expect("a fixture reads");
            match agrees(&text) {
                Ok(true) => read_fast.push(f),
                Ok(false) => left.push(f),
                Err(e) => panic!("{}: {e}", f.display()),
            }
        }
        eprintln!(
            "{} read by the fast path, {} left to saphyr",
            read_fast.len(),
            left.len()
        );
        for f in &left {
            eprintln!("  left: {}", f.display());
        }
        // The guide's scenarios, which the bench times, are all in the subset.
        let scenarios: Vec<_> = files
            .iter()
            .filter(|f| {
                f.parent()
                    .is_some_and(|p| p.ends_with("fixtures/scenarios"))
            })
            .collect();
        assert!(!scenarios.is_empty());
        for s in scenarios {
            assert!(read_fast.contains(&s), "{} left the fast path", s.display());
        }
    }

    /// Scalars as they may be written, the awkward ones included.
    const SCALARS: &[&str] = &[
        "x",
        "a b",
        "${x + 1}",
        "${a: 1}",
        "a${f}",
        "http://h:80/p",
        "1",
        "-1",
        "+1",
        "1.5",
        "1e3",
        "0x1F",
        "0o7",
        "1_000",
        ".inf",
        "-.inf",
        ".nan",
        "~",
        "null",
        "Null",
        "true",
        "True",
        "FALSE",
        "yes",
        "é",
        "日本",
        "a #b",
        "a#b",
        "a:b",
        "a: b",
        "- a",
        "-a",
        "?a",
        ":a",
        "#a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "%a",
        "@a",
        "`a",
        "a,b",
        "a]",
        "[a",
        "{a",
        "a}",
        "\"q\"",
        "\"q\\\"r\"",
        "\"\\u00e9\\n\\t\\/\"",
        "\"\\x41\"",
        "\"\\ud800\"",
        "'s'",
        "'it''s'",
        "'a: b'",
        "\"a: b\"",
        "\"\"",
        "''",
        "\"unclosed",
        "'unclosed",
        "[]",
        "{}",
        "[a, b]",
        "[a,b]",
        "[ a , b ]",
        "[a, ]",
        "[a, [b, c]]",
        "[\"x\", 'y', 1]",
        "{a: 1}",
        "{a:1}",
        "{\"a\":1}",
        "{'a': [1, 2]}",
        "{a: 1, a: 2}",
        "{a: {b: c}}",
        "[a: b]",
        "[${x}]",
        "{a}",
        "[a #c]",
        "[a] #c",
        "x #c",
        "\"x\" #c",
        "\"x\"y",
        "x  ",
        "a\tb",
        "x\r",
        "inf",
        "nan",
        "infinity",
        "Infinity",
        "NaN",
        "e5",
        "E",
        "on",
        "Yes",
        "$",
        "${",
        "a:",
        "ab:",
        "x-",
    ];
    const KEYS: &[&str] = &[
        "k", "main", "a b", "1", "true", "\"q\"", "'s'", "\"a\":", "${k}", "a${k}", "k#", "-k",
        "é", "[k]", "{k}", "k,", "?k", "null", "1.5", "k ",
    ];

    #[derive(Clone, Debug)]
    enum Doc {
        Scalar(usize),
        Seq(Vec<Doc>),
        Map(Vec<(usize, Doc)>),
    }

    fn doc() -> impl proptest::strategy::Strategy<Value = Doc> {
        use proptest::prelude::*;
        let leaf = (0..SCALARS.len()).prop_map(Doc::Scalar);
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(Doc::Seq),
                proptest::collection::vec((0..KEYS.len(), inner), 1..4).prop_map(Doc::Map),
            ]
        })
    }

    /// `d` written in block style at `indent`, with `style` choosing among the ways one
    /// structure may be written (compact entries, lists at their key's indent, comments).
    fn render(d: &Doc, indent: usize, style: &mut impl Iterator<Item = u8>, out: &mut String) {
        let pad = " ".repeat(indent);
        match d {
            Doc::Scalar(i) => {
                out.push_str(&pad);
                out.push_str(SCALARS[*i]);
                out.push('\n');
            }
            Doc::Seq(items) => {
                for item in items {
                    let s = style.next().unwrap_or(0);
                    match item {
                        Doc::Scalar(i) => {
                            out.push_str(&format!("{pad}- {}\n", SCALARS[*i]));
                        }
                        Doc::Map(entries) if s % 3 == 0 => {
                            // `- key: value` with the map's next keys under the first.
                            let (k, v) = &entries[0];
                            out.push_str(&format!("{pad}- "));
                            let mut first = String::new();
                            render(
                                &Doc::Map(vec![(*k, v.clone())]),
                                indent + 2,
                                style,
                                &mut first,
                            );
                            out.push_str(first.trim_start());
                            for (k, v) in &entries[1..] {
                                render(&Doc::Map(vec![(*k, v.clone())]), indent + 2, style, out);
                            }
                        }
                        _ => {
                            out.push_str(&format!(
                                "{pad}-{}\n",
                                if s % 5 == 1 { " # c" } else { "" }
                            ));
                            render(item, indent + 2 + usize::from(s % 7 == 2), style, out);
                        }
                    }
                }
            }
            Doc::Map(entries) => {
                for (k, v) in entries {
                    let s = style.next().unwrap_or(0);
                    match v {
                        Doc::Scalar(i) => {
                            let gap = if s % 4 == 0 { "   " } else { " " };
                            out.push_str(&format!("{pad}{}:{gap}{}\n", KEYS[*k], SCALARS[*i]));
                        }
                        Doc::Seq(_) if s % 3 == 0 => {
                            out.push_str(&format!("{pad}{}:\n", KEYS[*k]));
                            render(v, indent, style, out);
                        }
                        _ => {
                            let comment = if s % 5 == 1 { " # c" } else { "" };
                            out.push_str(&format!("{pad}{}:{comment}\n", KEYS[*k]));
                            if s % 6 == 3 {
                                out.push_str("\n# between\n");
                            }
                            render(v, indent + 2 + usize::from(s % 7 == 2), style, out);
                        }
                    }
                }
            }
        }
    }

    /// A document the fast path reads, it reads as saphyr does; with one character
    /// changed, too (a space, a dash, a colon, a quote, a tab, a newline, a control or
    /// Unicode line character anywhere). The
    /// runner's seed is fixed, so a failure replays; a failure shrinks to a small document.
    #[test]
    fn generated_documents_read_as_saphyr_reads_them() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let config = Config {
            cases: 3000,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let input = (
            doc(),
            proptest::collection::vec(0u8..210, 0..64),
            proptest::option::of((0usize..4096, 0usize..12)),
        );
        let result = runner.run(&input, |(d, style, edit)| {
            let mut text = String::new();
            render(&d, 0, &mut style.into_iter().cycle(), &mut text);
            if let Some((at, c)) = edit {
                let at = at % (text.len() + 1);
                if text.is_char_boundary(at) {
                    let edits = [
                        ' ', '-', ':', '"', '\'', '\t', '\n', '#', '\0', '\r', '\u{85}', '\u{feff}',
                    ];
                    text.insert(at, edits[c]);
                }
            }
            agrees(&text).map(|_| ()).map_err(TestCaseError::fail)
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }

    /// The generated documents are not all left to saphyr (which would make the property
    /// above hold of nothing): with the runner's fixed seed, most unedited ones are read.
    #[test]
    fn most_generated_documents_take_the_fast_path() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut fast, n) = (0, 500);
        for _ in 0..n {
            let d = doc().new_tree(&mut runner).expect("a document").current();
            let mut text = String::new();
            render(
                &d,
                0,
                &mut [0u8, 1, 2, 3, 4, 5, 6].into_iter().cycle(),
                &mut text,
            );
            if agrees(&text).expect("it agrees") {
                fast += 1;
            }
        }
        assert!(fast * 4 >= n, "{fast} of {n} took the fast path");
    }

    /// Each construct of the subset is read by the fast path (so that reading it is not
    /// quietly left to saphyr), as saphyr reads it.
    #[test]
    fn each_construct_of_the_subset_takes_the_fast_path() {
        for text in [
            "k: v\n",
            "# c\nk: v # c\nl: w#x\n",
            "k:\n  - a\n  - b\n",
            "k:\n- a\n- b\nl: 1\n",
            "- a: 1\n  b: 2\n- c\n",
            "-\n  a: 1\n- # c\n  - b\n",
            "\"k\": 'it''s'\n'l': \"m\"\n",
            "k: \"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u00e9\"\n",
            "k: [a, [b, c], {d: 1, 'e': \"f\"}]\n",
            "k: {}\nl: []\nm: [ a , b ]\n",
            "é: ü\nk: 日本 x # c\nl: [é, a, {ü: b}]\n",
            "k: -1\nl: 1.5\nm: true\nn: ~\no: 0x1F\np: inf\nq: ${a + 1}\n",
            "k:\n\n  # between\n  a: 1\n\n",
            "k:   v   \n1: a\ntrue: b\n",
            "k: {\"a\":1}\n",
        ] {
            assert_eq!(agrees(text), Ok(true), "{text}");
        }
        for text in [
            "{\n  \"a\": [\n    1,\n    \"b\"\n  ],\n  \"c\": {}\n}\n",
            "[{\"a\":1}, {\"b\":\"é\\u00fc\"}, -2.5e3, true, null]",
        ] {
            assert_eq!(json_agrees(text), Ok(true), "{text}");
        }
    }

    #[test]
    fn words_that_look_like_numbers_read_as_saphyr_reads_them() {
        for word in [
            "inf", "nan", "infinity", "e5", "Yes", "on", "$", "x1", "null", "~", "0x1F",
        ] {
            let text = format!("k: {word}\nl: [{word}]\n");
            assert_eq!(agrees(&text), Ok(true), "{text}");
        }
    }

    #[test]
    fn what_the_subset_leaves_goes_to_saphyr() {
        for text in [
            "a: |\n  b\n",
            "a: &x 1\nb: *x\n",
            "--- \na: 1\n",
            "a: !!str 1\n",
            "a:\n",
            "a: b\n  c\n",
            "a:\tb\n",
            "a: [1,\n 2]\n",
            "a: 1\na: 2\n",
            "a: '\0'\n",
            "a: \"b\u{7f}\"\n",
            "a: b\u{2028}c\n",
            "a: \u{feff}b\n",
            "x\n",
            "- - a\n",
            "? a\n: b\n",
        ] {
            assert!(read(text).is_none(), "{text:?}");
            // And saphyr's answer is the one given.
            assert_eq!(
                crate::defn::tree::parse(text, Syntax::Yaml),
                parse_with_saphyr(text, Syntax::Yaml)
            );
        }
    }
}
