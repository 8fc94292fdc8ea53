//! Reading an explore file's fields: errors in the file (`Invalid`, through the harness's
//! kit) and the numbers and ranges the plan and its faults take. Below both, so a fault
//! reads its own key without reaching up into the plan.

use wfsim_engine::SimTime;
use wfsim_engine::defn::tree::Node;
use wfsim_engine::pos::Pos;
use wfsim_engine::time::duration_from_secs;
use wfsim_engine::value::Value;
use wfsim_harness::doc::DocError;

/// Invalid input: `file:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where errors are: the explore file's name.
pub(crate) struct At<'a> {
    file: &'a str,
}

impl<'a> At<'a> {
    pub(crate) fn new(file: &'a str) -> At<'a> {
        At { file }
    }

    pub(crate) fn err<T>(&self, pos: Pos, message: impl std::fmt::Display) -> Result<T, Invalid> {
        self.doc(DocError::new(pos, message.to_string()))
    }

    /// A positioned error of the harness's kit, in this file.
    pub(crate) fn doc<T>(&self, e: DocError) -> Result<T, Invalid> {
        Err(Invalid(e.in_file(self.file).to_string()))
    }
}

pub(crate) fn number(n: &Node) -> Option<f64> {
    match n.to_value() {
        Value::Int(i) => Some(i as f64),
        Value::Double(d) if d.is_finite() => Some(d),
        _ => None,
    }
}

/// A number, or `[lo, hi]` with lo ≤ hi, both ≥ 0.
pub(crate) fn pair(at: &At, n: &Node, what: &str) -> Result<(f64, f64), Invalid> {
    let (lo, hi) = match n.as_seq() {
        Some([a, b]) => match (number(a), number(b)) {
            (Some(a), Some(b)) => (a, b),
            _ => return at.err(n.pos, format!("'{what}' is a number or [lo, hi]")),
        },
        Some(_) => {
            return at.err(
                n.pos,
                format!("'{what}' as a range is [lo, hi]: two numbers"),
            );
        }
        None => match number(n) {
            Some(x) => (x, x),
            None => return at.err(n.pos, format!("'{what}' is a number or [lo, hi]")),
        },
    };
    if lo < 0.0 || lo > hi {
        return at.err(
            n.pos,
            format!("'{what}': [lo, hi] needs 0 ≤ lo ≤ hi, not [{lo}, {hi}]"),
        );
    }
    Ok((lo, hi))
}

fn nanos(at: &At, n: &Node, secs: f64, what: &str) -> Result<u64, Invalid> {
    match duration_from_secs(secs) {
        Ok(d) => Ok(SimTime::ZERO.saturating_add(d).as_nanos()),
        Err(e) => at.err(n.pos, format!("'{what}': {e}")),
    }
}

pub(crate) fn seconds_pair(at: &At, n: &Node, what: &str) -> Result<(u64, u64), Invalid> {
    let (lo, hi) = pair(at, n, what)?;
    Ok((nanos(at, n, lo, what)?, nanos(at, n, hi, what)?))
}

pub(crate) fn whole_pair(at: &At, n: &Node, what: &str, max: u64) -> Result<(u64, u64), Invalid> {
    let (lo, hi) = pair(at, n, what)?;
    if lo.fract() != 0.0 || hi.fract() != 0.0 || hi > max as f64 {
        return at.err(
            n.pos,
            format!("'{what}' is a whole number from 0 to {max}, or [lo, hi] of them"),
        );
    }
    Ok((lo as u64, hi as u64))
}
