//! Evaluation of expressions (SPEC §6 types and errors).

use std::cmp::Ordering;

use super::parse::{BinOp, Expr, UnOp};
use crate::error::{Raised, Tag, builtin};
use crate::limits::check_bytes;
use crate::value::SCALAR_BYTES;
use crate::value::Value;

/// What an expression can see: variables and functions.
pub trait Context {
    fn var(&self, name: &str) -> Option<Value>;
    /// Calls a non-blocking function; `Err` is a raised error.
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, Raised>;
    /// A string `+` is about to build `bytes`: an execution counts them against
    /// [`crate::limits::CONCAT_BYTES_MAX`]. Other contexts evaluate one expression over
    /// values already made, which no loop repeats, and need not count.
    fn concat(&mut self, bytes: usize) -> Result<(), Raised> {
        let _ = bytes;
        Ok(())
    }
}

pub fn eval(e: &Expr, cx: &mut dyn Context) -> Result<Value, Raised> {
    match e {
        Expr::Lit(v) => Ok(v.clone()),
        Expr::Var(name) => cx.var(name).ok_or_else(|| var_not_found(name)),
        Expr::List(items) => Ok(Value::list(
            items
                .iter()
                .map(|i| eval(i, cx))
                .collect::<Result<_, _>>()?,
        )),
        Expr::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k.clone(), eval(v, cx)?));
            }
            Ok(Value::map(out))
        }
        Expr::Field(base, field) => {
            let base = eval(base, cx)?;
            field_of(&base, field)
        }
        Expr::Index(base, index) => {
            let base = eval(base, cx)?;
            let index = eval(index, cx)?;
            index_of(&base, &index)
        }
        Expr::Call(name, args) => {
            let args = args.iter().map(|a| eval(a, cx)).collect::<Result<_, _>>()?;
            cx.call(name, args)
        }
        Expr::Unary(UnOp::Not, e) => match eval(e, cx)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(type_error(format!(
                "'not' needs a boolean, got {}",
                other.a_type()
            ))),
        },
        Expr::Unary(UnOp::Neg, e) => match eval(e, cx)? {
            Value::Int(i) => i
                .checked_neg()
                .map(Value::Int)
                .ok_or_else(|| builtin(Tag::ValueError, "integer overflow")),
            Value::Double(d) => Ok(Value::Double(-d)),
            other => Err(type_error(format!(
                "'-' needs a number, got {}",
                other.a_type()
            ))),
        },
        Expr::Binary(BinOp::And, a, b) => {
            if truth(eval(a, cx)?, "and")? {
                Ok(Value::Bool(truth(eval(b, cx)?, "and")?))
            } else {
                Ok(Value::Bool(false))
            }
        }
        Expr::Binary(BinOp::Or, a, b) => {
            if truth(eval(a, cx)?, "or")? {
                Ok(Value::Bool(true))
            } else {
                Ok(Value::Bool(truth(eval(b, cx)?, "or")?))
            }
        }
        Expr::Binary(op, a, b) => {
            let a = operand(a, cx)?;
            let b = operand(b, cx)?;
            if let (BinOp::Add, Value::Str(x), Value::Str(y)) = (op, &a, &b) {
                cx.concat(x.len() + y.len())?;
            }
            binary(*op, &a, &b)
        }
    }
}

/// [`eval`] of an operand, a variable's or a literal's read here rather than through a
/// call of `eval`: the commonest operands (`x + i`), and a call each cost more than the
/// read.
#[inline]
fn operand(e: &Expr, cx: &mut dyn Context) -> Result<Value, Raised> {
    match e {
        Expr::Lit(v) => Ok(v.clone()),
        Expr::Var(name) => cx.var(name).ok_or_else(|| var_not_found(name)),
        _ => eval(e, cx),
    }
}

#[cold]
fn var_not_found(name: &str) -> Raised {
    builtin(Tag::KeyError, format!("variable '{name}' not found"))
}

fn type_error(message: String) -> Raised {
    builtin(Tag::TypeError, message)
}

fn truth(v: Value, op: &str) -> Result<bool, Raised> {
    match v {
        Value::Bool(b) => Ok(b),
        other => Err(type_error(format!(
            "'{op}' needs booleans, got {}",
            other.a_type()
        ))),
    }
}

/// `base.field`: a map's field (KeyError when missing).
pub fn field_of(base: &Value, field: &str) -> Result<Value, Raised> {
    match base {
        Value::Map(m) => m
            .get(field)
            .cloned()
            .ok_or_else(|| builtin(Tag::KeyError, format!("key '{field}' not found"))),
        other => Err(type_error(format!(
            "cannot read field '{field}' of {}",
            other.a_type()
        ))),
    }
}

/// `base[index]`: a list element by int (IndexError out of range) or a map field by string.
pub fn index_of(base: &Value, index: &Value) -> Result<Value, Raised> {
    match (base, index) {
        (Value::List(items), Value::Int(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .ok_or_else(|| {
                builtin(
                    Tag::IndexError,
                    format!("list index {i} out of range (length {})", items.len()),
                )
            }),
        (Value::Map(_), Value::Str(k)) => field_of(base, k),
        (Value::List(_), other) => Err(type_error(format!(
            "a list index must be an integer, got {}",
            other.a_type()
        ))),
        (Value::Map(_), other) => Err(type_error(format!(
            "a map key must be a string, got {}",
            other.a_type()
        ))),
        (other, _) => Err(type_error(format!("cannot index {}", other.a_type()))),
    }
}

fn overflow() -> Raised {
    builtin(Tag::ValueError, "integer overflow")
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, Raised> {
    use Value::{Double, Int, List, Str};
    let mismatch = || {
        type_error(format!(
            "unsupported operand types for '{}': {} and {}",
            op.as_str(),
            a.a_type(),
            b.a_type()
        ))
    };
    match op {
        BinOp::Eq => Ok(Value::Bool(equal(a, b))),
        BinOp::Ne => Ok(Value::Bool(!equal(a, b))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = compare(a, b).ok_or_else(mismatch)?;
            Ok(Value::Bool(match op {
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        BinOp::In => match b {
            List(items) => Ok(Value::Bool(items.iter().any(|i| equal(i, a)))),
            Value::Map(m) => match a {
                Str(k) => Ok(Value::Bool(m.contains_key(&**k))),
                _ => Err(mismatch()),
            },
            _ => Err(mismatch()),
        },
        BinOp::Add => match (a, b) {
            (Int(x), Int(y)) => x.checked_add(*y).map(Int).ok_or_else(overflow),
            (Str(x), Str(y)) => {
                // Refused before the allocation: a sum must not build what no variable could hold.
                check_bytes(&"a sum", SCALAR_BYTES + x.len() + y.len())?;
                let mut sum = String::with_capacity(x.len() + y.len());
                sum.push_str(x);
                sum.push_str(y);
                Ok(Value::str(sum))
            }
            (List(x), List(y)) => {
                // One list's worth of the two lists' own cost.
                check_bytes(&"a sum", a.bytes() + b.bytes() - SCALAR_BYTES)?;
                // Shares both lists' structure: O(log n), not a copy (issue #11).
                let mut all = (**x).clone();
                all.append(y);
                Ok(Value::List(std::rc::Rc::new(all)))
            }
            _ => float_op(a, b, |x, y| x + y).ok_or_else(mismatch),
        },
        BinOp::Sub => match (a, b) {
            (Int(x), Int(y)) => x.checked_sub(*y).map(Int).ok_or_else(overflow),
            _ => float_op(a, b, |x, y| x - y).ok_or_else(mismatch),
        },
        BinOp::Mul => match (a, b) {
            (Int(x), Int(y)) => x.checked_mul(*y).map(Int).ok_or_else(overflow),
            _ => float_op(a, b, |x, y| x * y).ok_or_else(mismatch),
        },
        BinOp::Div => {
            let (x, y) = (
                as_f64(a).ok_or_else(mismatch)?,
                as_f64(b).ok_or_else(mismatch)?,
            );
            if y == 0.0 {
                return Err(builtin(Tag::ZeroDivisionError, "division by zero"));
            }
            Ok(Double(x / y))
        }
        // Floor division and its remainder, the sign of which follows the divisor.
        // **(decision)**, as Python does.
        BinOp::FloorDiv | BinOp::Rem => match (a, b) {
            (Int(_), Int(0)) => Err(builtin(Tag::ZeroDivisionError, "division by zero")),
            (Int(x), Int(y)) => {
                let q = x.checked_div_euclid(*y).ok_or_else(overflow)?;
                let r = x.rem_euclid(*y);
                // Euclid keeps r >= 0; floor semantics want r to share y's sign.
                let (q, r) = if r != 0 && *y < 0 {
                    (q + 1, r + y)
                } else {
                    (q, r)
                };
                Ok(Int(if op == BinOp::FloorDiv { q } else { r }))
            }
            _ => {
                let (x, y) = (
                    as_f64(a).ok_or_else(mismatch)?,
                    as_f64(b).ok_or_else(mismatch)?,
                );
                if y == 0.0 {
                    return Err(builtin(Tag::ZeroDivisionError, "division by zero"));
                }
                let q = (x / y).floor();
                Ok(Double(if op == BinOp::FloorDiv { q } else { x - q * y }))
            }
        },
        BinOp::And | BinOp::Or => unreachable!("short-circuit operators are evaluated in eval"),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

fn float_op(a: &Value, b: &Value, f: impl Fn(f64, f64) -> f64) -> Option<Value> {
    Some(Value::Double(f(as_f64(a)?, as_f64(b)?)))
}

/// `==`: numbers compare by value across int and double; lists and maps compare deeply;
/// values of different types are unequal, never an error.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_) | Value::Double(_), Value::Int(_) | Value::Double(_)) => {
            compare(a, b) == Some(Ordering::Equal)
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && equal(va, vb))
        }
        _ => a == b,
    }
}

/// The order of `<`: numbers with numbers, strings with strings; anything else is `None`.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => as_f64(a)?.partial_cmp(&as_f64(b)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tags;
    use crate::expr::parse;

    struct Vars;
    impl Context for Vars {
        fn var(&self, name: &str) -> Option<Value> {
            match name {
                "m" => Some(Value::map([("a", Value::Int(1))])),
                "l" => Some(Value::list(vec![Value::Int(10), Value::Int(20)])),
                _ => None,
            }
        }
        fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, Raised> {
            match name {
                "len" => match &args[0] {
                    Value::List(l) => Ok(Value::Int(l.len() as i64)),
                    _ => Err(builtin(Tag::TypeError, "len")),
                },
                _ => Err(builtin(Tag::KeyError, format!("no {name}"))),
            }
        }
    }

    fn ok(src: &str) -> Value {
        eval(&parse(src).unwrap(), &mut Vars).unwrap_or_else(|e| panic!("{src}: {e:?}"))
    }

    fn err(src: &str) -> Vec<String> {
        tags(&eval(&parse(src).unwrap(), &mut Vars).unwrap_err())
    }

    /// SPEC §7: a string sum is refused before it is built when it would hold more than a
    /// value may (its bytes: a scalar's own and both strings'), and built up to exactly that.
    #[test]
    fn a_string_sum_is_refused_one_byte_over_the_value_limit() {
        struct Strings(usize, usize);
        impl Context for Strings {
            fn var(&self, name: &str) -> Option<Value> {
                let n = if name == "x" { self.0 } else { self.1 };
                Some(Value::str("a".repeat(n)))
            }
            fn call(&mut self, name: &str, _: Vec<Value>) -> Result<Value, Raised> {
                Err(builtin(Tag::KeyError, format!("no {name}")))
            }
        }
        let room = crate::limits::VALUE_BYTES_MAX - SCALAR_BYTES;
        let sum = parse("x + y").unwrap();
        let full = eval(&sum, &mut Strings(room / 2, room - room / 2)).unwrap();
        assert!(matches!(&full, Value::Str(s) if s.len() == room));
        let over = eval(&sum, &mut Strings(room / 2, room - room / 2 + 1)).unwrap_err();
        assert_eq!(tags(&over), ["ResourceLimitError"]);
    }

    #[test]
    fn arithmetic_keeps_int_and_double_apart() {
        assert_eq!(ok("7 + 2"), Value::Int(9));
        assert_eq!(ok("7 / 2"), Value::Double(3.5));
        assert_eq!(ok("6 / 2"), Value::Double(3.0));
        assert_eq!(ok("7 // 2"), Value::Int(3));
        assert_eq!(ok("-7 // 2"), Value::Int(-4));
        assert_eq!(ok("-7 % 2"), Value::Int(1));
        assert_eq!(ok("7 % -2"), Value::Int(-1));
        assert_eq!(ok("7.5 // 2"), Value::Double(3.0));
        assert_eq!(ok("1 + 0.5"), Value::Double(1.5));
        assert_eq!(ok(r#""a" + "b""#), Value::str("ab"));
        assert_eq!(
            ok("[1] + [2]"),
            Value::list(vec![Value::Int(1), Value::Int(2)])
        );
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(ok("1 == 1.0"), Value::Bool(true));
        assert_eq!(ok(r#"1 == "1""#), Value::Bool(false));
        assert_eq!(ok(r#""a" < "b""#), Value::Bool(true));
        assert_eq!(ok("2 >= 2.5"), Value::Bool(false));
        assert_eq!(ok("20 in l"), Value::Bool(true));
        assert_eq!(ok(r#""a" in m"#), Value::Bool(true));
        assert_eq!(ok("not (1 > 2) and true"), Value::Bool(true));
        // Short-circuit: the right side is never evaluated.
        assert_eq!(ok("false and missing"), Value::Bool(false));
        assert_eq!(ok("true or missing"), Value::Bool(true));
    }

    #[test]
    fn access_and_calls() {
        assert_eq!(ok("m.a"), Value::Int(1));
        assert_eq!(ok(r#"m["a"]"#), Value::Int(1));
        assert_eq!(ok("l[1]"), Value::Int(20));
        assert_eq!(ok("len(l)"), Value::Int(2));
        assert_eq!(ok(r#"{"k": l[0]}.k"#), Value::Int(10));
    }

    #[test]
    fn error_tags() {
        assert_eq!(err("m.b"), ["KeyError"]);
        assert_eq!(err("nope"), ["KeyError"]);
        assert_eq!(err("l[2]"), ["IndexError"]);
        assert_eq!(err("l[-1]"), ["IndexError"]);
        assert_eq!(err(r#"1 + "a""#), ["TypeError"]);
        assert_eq!(err("1 < null"), ["TypeError"]);
        assert_eq!(err("1 and true"), ["TypeError"]);
        assert_eq!(err("1 / 0"), ["ZeroDivisionError"]);
        assert_eq!(err("1 // 0"), ["ZeroDivisionError"]);
        assert_eq!(err("9223372036854775807 + 1"), ["ValueError"]);
        assert_eq!(err("l.x"), ["TypeError"]);
    }
}
