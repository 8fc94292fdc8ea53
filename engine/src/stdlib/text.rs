//! `text.*`: strings by character (not byte) index; regexes in RE2 syntax.
//!
//! `find_all_regex` and `replace_all_regex` take, as GCP's reference says, the leftmost
//! match and, of the matches starting there, the longest; an empty match right after the
//! previous match is skipped (so `""` matches before every character and at the end).

use super::{Args, Effects, int_of, str_of, type_error, value_error};
use crate::error::{Raised, Tag, builtin};
use crate::value::Value;

pub(super) fn decode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("data")? {
        Value::Bytes(b) => String::from_utf8(b.to_vec())
            .map(Value::str)
            .map_err(|_| value_error("text.decode: the bytes are not valid UTF-8")),
        other => Err(type_error(format!(
            "text.decode: needs bytes, got {}",
            other.a_type()
        ))),
    }
}

pub(super) fn encode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("text")?)?;
    Ok(Value::Bytes(s.into_bytes().into()))
}

pub(super) fn find_all(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let sub = str_of(a.name(), &a.required("substr")?)?;
    if sub.is_empty() {
        return Err(value_error("text.find_all: substr must not be empty"));
    }
    // One pass: the character index of each match counts on from the last one, and
    // the list stops growing as soon as it is over the value limit.
    let mut found = crate::value::List::default();
    let (mut chars, mut last) = (0, 0);
    for (i, m) in source.match_indices(sub.as_str()) {
        chars += source[last..i].chars().count();
        last = i;
        found.push(Value::map([
            ("index", Value::Int(chars as i64)),
            ("match", Value::str(m)),
        ]));
        if found.bytes() > crate::limits::VALUE_BYTES_MAX {
            return Err(builtin(
                Tag::ResourceLimitError,
                format!(
                    "text.find_all: the matches would hold over {} bytes (512 KiB)",
                    crate::limits::VALUE_BYTES_MAX
                ),
            ));
        }
    }
    Ok(Value::List(std::rc::Rc::new(found)))
}

pub(super) fn match_regex(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let pattern = str_of(a.name(), &a.required("regex")?)?;
    // The budgeted search of the other regex functions: the `regex` crate alone is linear
    // in text times pattern, which a long pattern over a long text makes minutes.
    let re = Longest::new("text.match_regex", &pattern)?;
    Ok(Value::Bool(
        !re.spans("text.match_regex", &source)?.is_empty(),
    ))
}

pub(super) fn replace_all(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let sub = str_of(a.name(), &a.required("substr")?)?;
    let repl = str_of(a.name(), &a.required("replacement")?)?;
    if sub.is_empty() {
        return Ok(Value::str(source));
    }
    // The result's length is known before it is built: refuse one no variable could hold.
    let n = source.matches(sub.as_str()).count();
    let len = (source.len() - n * sub.len()).saturating_add(n.saturating_mul(repl.len()));
    if crate::value::SCALAR_BYTES.saturating_add(len) > crate::limits::VALUE_BYTES_MAX {
        return Err(builtin(
            Tag::ResourceLimitError,
            format!(
                "text.replace_all: the result would hold {len} bytes; a value may hold at most {} (512 KiB)",
                crate::limits::VALUE_BYTES_MAX
            ),
        ));
    }
    Ok(Value::str(source.replace(&sub, &repl)))
}

pub(super) fn split(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let sep = str_of(a.name(), &a.required("separator")?)?;
    let parts: Vec<Value> = if sep.is_empty() {
        source.chars().map(|c| Value::str(c.to_string())).collect()
    } else {
        source.split(sep.as_str()).map(Value::str).collect()
    };
    Ok(Value::list(parts))
}

pub(super) fn substring(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let (start, end) = (
        int_of(a.name(), &a.required("start")?)?,
        int_of(a.name(), &a.required("end")?)?,
    );
    let n = source.chars().count() as i64;
    let (s, e) = (start.clamp(0, n), end.clamp(0, n));
    Ok(Value::str(if s >= e {
        String::new()
    } else {
        source
            .chars()
            .skip(s as usize)
            .take((e - s) as usize)
            .collect()
    }))
}

pub(super) fn to_lower(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::str(
        str_of(a.name(), &a.required("source")?)?.to_lowercase(),
    ))
}

pub(super) fn to_upper(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::str(
        str_of(a.name(), &a.required("source")?)?.to_uppercase(),
    ))
}

pub(super) fn url_encode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("source")?)?;
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    Ok(Value::str(
        percent_encoding::utf8_percent_encode(&s, SET).to_string(),
    ))
}

/// The value limit, as a `ResourceLimitError` naming `func` and what was too big.
fn too_big(func: &str, what: String) -> Raised {
    builtin(
        Tag::ResourceLimitError,
        format!(
            "{func}: {what}; a value may hold at most {} bytes (512 KiB)",
            crate::limits::VALUE_BYTES_MAX
        ),
    )
}

/// A regex with GCP's match semantics: leftmost, then longest.
///
/// Two lazy DFAs with `MatchKind::All` do the work, stepped here byte by byte so every byte
/// examined is counted against [`crate::limits::REGEX_SCAN_BYTES_MAX`]: a reverse scan of the whole text
/// marks where matches start (once per call), then from each leftmost start an anchored
/// forward scan runs until no match can go on, and its last match is the longest. A DFA
/// that cannot run on a text (a Unicode `\b` next to non-ASCII text makes it stop) hands
/// the call to the NFA path ([`Longest::spans_by_nfa`]): the same answer from one forward
/// simulation of the NFA per match, slower per byte but counted against the same budget,
/// so no pattern and text escape it.
struct Longest {
    /// The `regex` crate's parse is the one that validates (its messages); in tests it is
    /// also the oracle's leftmost start.
    #[cfg_attr(not(test), allow(dead_code))]
    first: regex::Regex,
    /// Its NFA is the NFA path's; in tests it is also the oracle's longest match.
    all: regex_automata::nfa::thompson::pikevm::PikeVM,
    forward: Option<regex_automata::hybrid::dfa::DFA>,
    reverse: Option<regex_automata::hybrid::dfa::DFA>,
}

/// Why a DFA scan stopped short.
enum Stop {
    /// The DFA cannot go on: take the slow path.
    Fallback,
    /// Over [`crate::limits::REGEX_SCAN_BYTES_MAX`].
    Budget,
}

impl Longest {
    fn new(func: &str, pattern: &str) -> Result<Longest, Raised> {
        use regex_automata::hybrid::dfa::DFA;
        use regex_automata::nfa::thompson;
        let invalid = |e: String| value_error(format!("{func}: invalid regex: {e}"));
        let first = regex::Regex::new(pattern).map_err(|e| invalid(e.to_string()))?;
        let all = thompson::pikevm::PikeVM::builder()
            .configure(
                thompson::pikevm::PikeVM::config().match_kind(regex_automata::MatchKind::All),
            )
            .build(pattern)
            .map_err(|e| invalid(e.to_string()))?;
        let config = || {
            DFA::config()
                .match_kind(regex_automata::MatchKind::All)
                .unicode_word_boundary(true)
                // A DFA whose states are built about as fast as bytes are read (a pattern
                // of thousands of states that all stay alive) gives up, and the call
                // takes the NFA path, whose every live thread is counted: otherwise the
                // cost per byte has no bound the byte count sees.
                .minimum_cache_clear_count(Some(3))
                .minimum_bytes_per_state(Some(10))
        };
        // A DFA that cannot be built (too big) leaves the slow path.
        let forward = DFA::builder().configure(config()).build(pattern).ok();
        let reverse = DFA::builder()
            .configure(config())
            .thompson(thompson::Config::new().reverse(true))
            .build(pattern)
            .ok();
        Ok(Longest {
            first,
            all,
            forward,
            reverse,
        })
    }

    /// Every match of `text` as a byte range, left to right, none overlapping; `Err` when
    /// the scans would examine more than [`crate::limits::REGEX_SCAN_BYTES_MAX`] bytes.
    fn spans(&self, func: &str, text: &str) -> Result<Vec<(usize, usize)>, Raised> {
        match self.spans_by_dfa(text) {
            Ok(spans) => Ok(spans),
            Err(Stop::Fallback) => self.spans_by_nfa(text),
            Err(Stop::Budget) => Err(Stop::Budget),
        }
        .map_err(|_| {
            builtin(
                Tag::ResourceLimitError,
                format!(
                    "{func}: the search would examine more than {} bytes \
                     of text (every match of this regex scans far ahead for a longer one)",
                    crate::limits::REGEX_SCAN_BYTES_MAX
                ),
            )
        })
    }

    fn spans_by_dfa(&self, text: &str) -> Result<Vec<(usize, usize)>, Stop> {
        use regex_automata::{Anchored, Input};
        let (Some(fwd), Some(rev)) = (&self.forward, &self.reverse) else {
            return Err(Stop::Fallback);
        };
        let hay = text.as_bytes();
        let mut budget = crate::limits::REGEX_SCAN_BYTES_MAX;
        let mut spend = |n: usize| -> Result<(), Stop> {
            budget = budget.checked_sub(n).ok_or(Stop::Budget)?;
            Ok(())
        };
        // Where matches start: the reverse DFA, unanchored, run from the end; a match
        // state after the byte at i means a match starts at i + 1 (DFAs report one byte
        // late), the end of input means one starts at 0.
        let mut starts = vec![false; hay.len() + 1];
        let mut rcache = rev.create_cache();
        let input = Input::new(hay).anchored(Anchored::No);
        let mut sid = rev
            .start_state_reverse(&mut rcache, &input)
            .map_err(|_| Stop::Fallback)?;
        spend(hay.len())?;
        for i in (0..hay.len()).rev() {
            sid = rev
                .next_state(&mut rcache, sid, hay[i])
                .map_err(|_| Stop::Fallback)?;
            if sid.is_tagged() {
                if sid.is_match() {
                    starts[i + 1] = true;
                } else if sid.is_quit() {
                    return Err(Stop::Fallback);
                }
            }
        }
        sid = rev
            .next_eoi_state(&mut rcache, sid)
            .map_err(|_| Stop::Fallback)?;
        if sid.is_match() {
            starts[0] = true;
        }
        let mut fcache = fwd.create_cache();
        let mut longest_from = |start: usize| -> Result<Option<usize>, Stop> {
            let input = Input::new(hay).range(start..).anchored(Anchored::Yes);
            let mut sid = fwd
                .start_state_forward(&mut fcache, &input)
                .map_err(|_| Stop::Fallback)?;
            let mut end = None;
            for (i, &b) in hay.iter().enumerate().skip(start) {
                spend(1)?;
                sid = fwd
                    .next_state(&mut fcache, sid, b)
                    .map_err(|_| Stop::Fallback)?;
                if sid.is_tagged() {
                    if sid.is_match() {
                        end = Some(i);
                    } else if sid.is_dead() {
                        return Ok(end);
                    } else if sid.is_quit() {
                        return Err(Stop::Fallback);
                    }
                }
            }
            sid = fwd
                .next_eoi_state(&mut fcache, sid)
                .map_err(|_| Stop::Fallback)?;
            Ok(if sid.is_match() { Some(hay.len()) } else { end })
        };
        let next_char = |at: usize| text[at..].chars().next().map(|c| at + c.len_utf8());
        let mut out = Vec::new();
        let mut last_end = None;
        let mut pos = 0;
        while pos <= hay.len() {
            // The leftmost start at or after `pos`, on a character boundary (an empty
            // match may be reported inside a character; it is not a match there).
            let Some(start) = (pos..=hay.len()).find(|&p| starts[p] && text.is_char_boundary(p))
            else {
                break;
            };
            let Some(end) = longest_from(start)? else {
                // Marked, yet no match from here: only an empty match could have been
                // reported between the bytes of a character.
                match next_char(start) {
                    Some(p) => pos = p,
                    None => break,
                }
                continue;
            };
            if end == start && last_end == Some(start) {
                // An empty match where the previous one ended: not a match of its own.
                match next_char(start) {
                    Some(p) => pos = p,
                    None => break,
                }
                continue;
            }
            out.push((start, end));
            last_end = Some(end);
            pos = if end > start {
                end
            } else {
                match next_char(start) {
                    Some(p) => p,
                    None => break,
                }
            };
        }
        Ok(out)
    }

    /// The NFA path: every match as [`Longest::spans_by_dfa`] finds them, by simulating
    /// the NFA forward, one unit of the budget per thread alive at each byte stepped (at
    /// least one per byte). Each search from `pos`
    /// keeps, per NFA state, the thread that started earliest (the leftmost start wins, and
    /// what follows from one state is the same whatever the start), starts a thread at each
    /// character boundary until a match is found, then runs on until no thread that started
    /// at or before the match's start is alive, keeping the longest end. Only `Err(Budget)`.
    fn spans_by_nfa(&self, text: &str) -> Result<Vec<(usize, usize)>, Stop> {
        use regex_automata::nfa::thompson::State;
        use regex_automata::util::primitives::StateID;
        let nfa = self.all.get_nfa();
        let hay = text.as_bytes();
        let mut budget = crate::limits::REGEX_SCAN_BYTES_MAX;
        // `seen[state] == stamp`: the state is already in the list being built.
        let mut seen = vec![0u64; nfa.states().len()];
        let mut stamp = 0u64;
        let mut stack: Vec<StateID> = Vec::new();
        // Adds the epsilon closure of `from` at `at` to `list`, each state with `start`.
        let mut closure = |list: &mut Vec<(StateID, usize)>,
                           from: StateID,
                           at: usize,
                           start: usize,
                           seen: &mut Vec<u64>,
                           stamp: u64| {
            stack.push(from);
            while let Some(sid) = stack.pop() {
                if seen[sid.as_usize()] == stamp {
                    continue;
                }
                seen[sid.as_usize()] = stamp;
                match nfa.state(sid) {
                    State::Look { look, next } => {
                        if nfa.look_matcher().matches(*look, hay, at) {
                            stack.push(*next);
                        }
                    }
                    State::Union { alternates } => stack.extend(alternates.iter().rev()),
                    State::BinaryUnion { alt1, alt2 } => stack.extend([*alt2, *alt1]),
                    State::Capture { next, .. } => stack.push(*next),
                    State::Fail => {}
                    _ => list.push((sid, start)),
                }
            }
        };
        let mut search = |pos: usize| -> Result<Option<(usize, usize)>, Stop> {
            let mut best: Option<(usize, usize)> = None;
            let mut cur: Vec<(StateID, usize)> = Vec::new();
            let mut next: Vec<(StateID, usize)> = Vec::new();
            stamp += 1;
            let mut at = pos;
            loop {
                if best.is_none() && text.is_char_boundary(at) {
                    // The youngest thread goes last: the list stays ordered by start.
                    closure(&mut cur, nfa.start_anchored(), at, at, &mut seen, stamp);
                }
                for &(sid, start) in &cur {
                    if matches!(nfa.state(sid), State::Match { .. })
                        && best.is_none_or(|(s, e)| start < s || (start == s && at > e))
                    {
                        best = Some((start, at));
                    }
                }
                if let Some((s, _)) = best {
                    cur.retain(|&(_, start)| start <= s);
                    if cur.is_empty() {
                        return Ok(best);
                    }
                }
                if at == hay.len() {
                    return Ok(best);
                }
                // A byte costs one per thread alive at it (at least one): a pattern with
                // thousands of states alive at once may not scan a whole text.
                budget = budget.checked_sub(cur.len().max(1)).ok_or(Stop::Budget)?;
                let b = hay[at];
                stamp += 1;
                next.clear();
                for &(sid, start) in &cur {
                    let to = match nfa.state(sid) {
                        State::ByteRange { trans } => trans.matches_byte(b).then_some(trans.next),
                        State::Sparse(t) => t.matches_byte(b),
                        State::Dense(t) => t.matches_byte(b),
                        _ => None,
                    };
                    if let Some(to) = to {
                        closure(&mut next, to, at + 1, start, &mut seen, stamp);
                    }
                }
                std::mem::swap(&mut cur, &mut next);
                at += 1;
            }
        };
        let next_char = |at: usize| text[at..].chars().next().map(|c| at + c.len_utf8());
        let mut out = Vec::new();
        let mut last_end = None;
        let mut pos = 0;
        while pos <= hay.len() {
            let Some((start, end)) = search(pos)? else {
                break;
            };
            if end == start && last_end == Some(start) {
                // An empty match where the previous one ended: not a match of its own.
                match next_char(start) {
                    Some(p) => pos = p,
                    None => break,
                }
                continue;
            }
            out.push((start, end));
            last_end = Some(end);
            pos = if end > start {
                end
            } else {
                match next_char(start) {
                    Some(p) => p,
                    None => break,
                }
            };
        }
        Ok(out)
    }

    /// The oracle of the tests, unbudgeted: the leftmost start from the `regex` crate, the
    /// longest match from it with the PikeVM.
    #[cfg(test)]
    fn spans_slow(&self, text: &str) -> Vec<(usize, usize)> {
        use regex_automata::{Anchored, Input};
        let mut cache = self.all.create_cache();
        let mut out = Vec::new();
        let mut last_end = None;
        let mut pos = 0;
        while pos <= text.len() {
            let Some(m) = self.first.find_at(text, pos) else {
                break;
            };
            let start = m.start();
            let input = Input::new(text).range(start..).anchored(Anchored::Yes);
            let end = self
                .all
                .find(&mut cache, input)
                .map_or(m.end(), |l| l.end().max(m.end()));
            let next_char = || text[start..].chars().next().map(|c| start + c.len_utf8());
            if end == start && last_end == Some(start) {
                // An empty match where the previous one ended: not a match of its own.
                match next_char() {
                    Some(p) => pos = p,
                    None => break,
                }
                continue;
            }
            out.push((start, end));
            last_end = Some(end);
            pos = if end > start {
                end
            } else {
                match next_char() {
                    Some(p) => p,
                    None => break,
                }
            };
        }
        out
    }
}

pub(super) fn find_all_regex(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let pattern = str_of(a.name(), &a.required("regexp")?)?;
    let re = Longest::new(a.name(), &pattern)?;
    let mut found = crate::value::List::default();
    let (mut chars, mut last) = (0, 0);
    for (start, end) in re.spans(a.name(), &source)? {
        chars += source[last..start].chars().count();
        last = start;
        found.push(Value::map([
            ("index", Value::Int(chars as i64)),
            ("match", Value::str(&source[start..end])),
        ]));
        if found.bytes() > crate::limits::VALUE_BYTES_MAX {
            return Err(too_big(a.name(), "the matches would not fit".into()));
        }
    }
    Ok(Value::List(std::rc::Rc::new(found)))
}

pub(super) fn replace_all_regex(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let pattern = str_of(a.name(), &a.required("regexp")?)?;
    // Taken as it is: GCP supports no back-references (`\1`, `$1`) in the replacement.
    let repl = str_of(a.name(), &a.required("repl")?)?;
    let spans = Longest::new(a.name(), &pattern)?.spans(a.name(), &source)?;
    let removed: usize = spans.iter().map(|(s, e)| e - s).sum();
    let len = (source.len() - removed).saturating_add(spans.len().saturating_mul(repl.len()));
    if crate::value::SCALAR_BYTES.saturating_add(len) > crate::limits::VALUE_BYTES_MAX {
        return Err(too_big(
            a.name(),
            format!("the result would hold {len} bytes"),
        ));
    }
    let mut out = String::with_capacity(len);
    let mut last = 0;
    for (start, end) in spans {
        out.push_str(&source[last..start]);
        out.push_str(&repl);
        last = end;
    }
    out.push_str(&source[last..]);
    Ok(Value::str(out))
}

/// `+` is a space and `%xx` a byte; the bytes must be UTF-8.
pub(super) fn url_decode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("source")?)?;
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let pair = bytes
                    .get(i + 1)
                    .copied()
                    .and_then(hex)
                    .zip(bytes.get(i + 2).copied().and_then(hex));
                let Some((hi, lo)) = pair else {
                    return Err(value_error(format!(
                        "{}: '%' at character {} is not followed by two hexadecimal digits",
                        a.name(),
                        s[..i].chars().count()
                    )));
                };
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map(Value::str)
        .map_err(|_| value_error(format!("{}: the decoded bytes are not UTF-8", a.name())))
}

/// Letters, digits and `.-_` stay; a space becomes `+`; every other byte is `%XX`.
pub(super) fn url_encode_plus(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("source")?)?;
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    // `%` itself is encoded (`%25`), so every `%20` of the result was a space.
    let encoded = percent_encoding::utf8_percent_encode(&s, SET).to_string();
    Ok(Value::str(encoded.replace("%20", "+")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LIB-3: the budgeted DFA path finds what the PikeVM path finds.
    #[test]
    fn lib_3_the_dfa_path_agrees_with_the_pikevm_path() {
        let patterns = [
            "",
            "a*",
            "a+?",
            "Hello|HelloWorld",
            "[0-9]+",
            "\\d{2,3}",
            "^a",
            "a$",
            "(?m)^x",
            "(?-u:\\b)foo(?-u:\\b)",
            "é+",
            ".",
            "x*|y",
            "(a|ab)(c|bcd)",
            "b*",
            "\\bw\\w+",
            "\\b",
            "\\B.",
            "\\w+\\b|é",
            "(?i)\\bÉ\\w*",
        ];
        let texts = [
            "",
            "abc",
            "baaac",
            "aaa",
            "abcd",
            "foo bar foofoo",
            "12345 678",
            "x\nx\ny",
            "ééé aé",
            "HelloWorld Hello",
            "héllo wörld",
            "wé wx éw w",
            "ÉÉ é",
        ];
        let (mut compared, mut fallbacks) = (0, 0);
        for p in patterns {
            let re = Longest::new("t", p).unwrap();
            for t in texts {
                let oracle = re.spans_slow(t);
                let Ok(by_nfa) = re.spans_by_nfa(t) else {
                    panic!("/{p}/ on {t:?}: over budget")
                };
                assert_eq!(by_nfa, oracle, "NFA path: /{p}/ on {t:?}");
                match re.spans_by_dfa(t) {
                    Ok(fast) => {
                        assert_eq!(fast, oracle, "/{p}/ on {t:?}");
                        compared += 1;
                    }
                    Err(Stop::Fallback) => fallbacks += 1,
                    Err(Stop::Budget) => panic!("/{p}/ on {t:?}: over budget"),
                }
            }
        }
        assert_eq!(compared + fallbacks, patterns.len() * texts.len());
        assert!(fallbacks > 10, "the NFA path is reached: {fallbacks}");
    }

    /// LIB-3, §7: a Unicode `\b` beside non-ASCII text, where the DFA stops, is held to
    /// the same scan budget: a regex whose every match scans to the end of the text (the
    /// `.*q` alternative never ends) raises `ResourceLimitError` instead of running
    /// quadratically, and an ordinary one over a large text stays well within it.
    #[test]
    fn lib_3_a_unicode_word_boundary_is_held_to_the_scan_budget() {
        let text = "é a".repeat(100_000);
        let re = Longest::new("text.find_all_regex", "\\ba.*q|\\ba").unwrap();
        assert!(matches!(re.spans_by_dfa(&text), Err(Stop::Fallback)));
        let e = re.spans("text.find_all_regex", &text).unwrap_err();
        assert_eq!(crate::error::tags(&e), ["ResourceLimitError"]);
        let m = crate::error::message(&e).unwrap();
        assert!(m.contains("examine more than 16777216 bytes"), "{m}");
        // Linear when matches end soon: 100,000 matches over 400,000 bytes.
        let re = Longest::new("t", "\\ba\\w*").unwrap();
        let spans = re.spans("t", &text).unwrap();
        assert_eq!(spans.len(), 100_000);
        assert_eq!(spans[1], (7, 10), "\"aé\": é is a word character");
    }

    /// A Unicode `\b` beside non-ASCII text stops the DFA: the NFA path answers.
    #[test]
    fn lib_3_a_unicode_word_boundary_falls_back() {
        let re = Longest::new("t", "\\bw\\w+").unwrap();
        let text = "héllo wörld";
        assert!(matches!(re.spans_by_dfa(text), Err(Stop::Fallback)));
        assert_eq!(re.spans("t", text).unwrap(), vec![(7, 13)]);
    }
}
