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

use super::node::{Node, NodeKind, has_duplicate};
use crate::pos::Pos;
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
        if !self.scan_line() {
            self.left = true;
        }
        !self.left
    }

    /// Checks the first line, which `next_content` did not enter through a newline.
    fn first_line_ok(&mut self) -> bool {
        self.scan_line() && !self.b.starts_with(b"\xEF\xBB\xBF")
    }

    /// Reads the line that starts at the cursor to its end (its newline, or the text's), in
    /// one pass: where it ends, whether it is ASCII (for columns), and whether it holds
    /// anything this reader leaves to saphyr: control characters (saphyr reads a NUL as
    /// the end of the text), YAML's Unicode line breaks, a document marker or a directive.
    fn scan_line(&mut self) -> bool {
        let (mut end, mut class) = (self.b.len(), 0u8);
        for (n, &c) in self.b[self.i..].iter().enumerate() {
            if c == b'\n' {
                end = self.i + n;
                break;
            }
            class |= BYTE_CLASS[usize::from(c)];
        }
        let line = &self.b[self.i..end];
        self.ascii_line = class & NON_ASCII == 0;
        self.line_end = end;
        !(class & CONTROL != 0
            || (!self.ascii_line && odd_unicode(line))
            || line.starts_with(b"---")
            || line.starts_with(b"...")
            || line.starts_with(b"%"))
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
/// [`Reader::scan_line`]'s classes of a byte, a bit each: one lookup and an `or` a byte.
const CONTROL: u8 = 1;
const NON_ASCII: u8 = 2;
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = if c < 0x20 || c == 0x7f {
            CONTROL
        } else if c >= 0x80 {
            NON_ASCII
        } else {
            0
        };
        c += 1;
    }
    table
};

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
