//! Expressions: the `${...}` language of SPEC §6, lexed, parsed and evaluated in separate
//! stages (`lex`, `parse`, `eval`), in the manner of jaq.

pub mod eval;
pub mod lex;
pub mod parse;

pub use eval::{Context, eval};
pub use parse::{BinOp, Expr, ParseError, UnOp, parse};
