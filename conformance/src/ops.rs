//! The steps a checked sequence is made of, and how proptest generates them.
//!
//! Every op is legal in every state (an await on an endpoint that does not exist is simply
//! refused), so a plain `Vec<Op>` strategy shrinks freely: removing any op leaves a valid
//! sequence. That is why this does not need `proptest-state-machine`'s preconditions.

use std::fmt;

use proptest::prelude::*;

use crate::model::Token;

/// The body of a generated request, with what CB-8 says a workflow sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    Empty,
    JsonObject,
    JsonNumber,
    JsonSuffixType,
    BadJsonText,
    BadJsonBytes,
    Text,
    TextBytes,
    Octets,
    /// Exactly 512 KiB: accepted.
    AtLimit,
    /// 512 KiB and one byte: 413.
    OverLimit,
}

impl Body {
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            Body::Empty | Body::Octets => None,
            Body::JsonObject | Body::JsonNumber | Body::BadJsonText | Body::BadJsonBytes => {
                Some("application/json; charset=utf-8")
            }
            Body::JsonSuffixType => Some("application/vnd.wfsim+json"),
            Body::Text | Body::TextBytes => Some("text/plain"),
            Body::AtLimit | Body::OverLimit => Some("application/octet-stream"),
        }
    }

    pub fn bytes(self) -> Vec<u8> {
        match self {
            Body::Empty => Vec::new(),
            Body::JsonObject => br#"{"ok": true, "n": [1, 2.5]}"#.to_vec(),
            Body::JsonNumber => b"42".to_vec(),
            Body::JsonSuffixType => br#""hi""#.to_vec(),
            Body::BadJsonText => b"{not json".to_vec(),
            Body::BadJsonBytes => b"{\xff".to_vec(),
            Body::Text => "h\u{e9}llo".as_bytes().to_vec(),
            Body::TextBytes => b"\xfe\xff".to_vec(),
            Body::Octets => b"\x00\x01".to_vec(),
            Body::AtLimit => vec![b'x'; crate::model::BODY_LIMIT],
            Body::OverLimit => vec![b'x'; crate::model::BODY_LIMIT + 1],
        }
    }
}

/// How an execution ends (CB-11, EX-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Final {
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// `events.create_callback_endpoint(method)`.
    Create {
        method: &'static str,
    },
    /// `events.await_callback` on the endpoint created `endpoint`-th, as one more parallel
    /// branch would.
    Await {
        endpoint: u8,
        timeout_s: f64,
    },
    /// `copies` identical requests at the same instant (a burst, or a client's retries).
    Request {
        endpoint: u8,
        method: &'static str,
        token: Token,
        body: Body,
        /// Repeated headers and a query string, for CB-7.
        extras: bool,
        copies: u8,
    },
    /// Simulated time moves on by this many nanoseconds.
    Advance {
        ns: u64,
    },
    End(Final),
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Create { method } => write!(f, "create endpoint ({method})"),
            Op::Await {
                endpoint,
                timeout_s,
            } => write!(f, "await endpoint {endpoint}, timeout {timeout_s}s"),
            Op::Request {
                endpoint,
                method,
                token,
                body,
                extras,
                copies,
            } => {
                write!(f, "{copies} x {method} endpoint {endpoint} body {body:?}")?;
                if token != Token::Good {
                    write!(f, " token {token:?}")?;
                }
                if extras {
                    write!(f, " +headers +query")?;
                }
                Ok(())
            }
            Op::Advance { ns } => write!(f, "advance {}s", ns as f64 / 1e9),
            Op::End(how) => write!(f, "end {how:?}"),
        }
    }
}

const SECOND: u64 = 1_000_000_000;

fn method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("POST"),
        4 => Just("GET"),
        1 => prop::sample::select(crate::model::METHODS.to_vec()),
    ]
}

fn request_method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => method(),
        1 => Just("TRACE"),
    ]
}

fn endpoint() -> impl Strategy<Value = u8> {
    prop_oneof![6 => 0..2u8, 1 => 2..4u8]
}

fn timeout_s() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![1.0, 2.0, 0.5, 5.0, 0.0, 60.0, 43_200.0, -1.0])
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        30 => Just(Token::Good),
        1 => Just(Token::Bad),
        1 => Just(Token::WithoutPermission),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        8 => Just(Body::Empty),
        4 => Just(Body::JsonObject),
        2 => Just(Body::JsonNumber),
        1 => Just(Body::JsonSuffixType),
        1 => Just(Body::BadJsonText),
        1 => Just(Body::BadJsonBytes),
        2 => Just(Body::Text),
        1 => Just(Body::TextBytes),
        1 => Just(Body::Octets),
        1 => Just(Body::AtLimit),
        1 => Just(Body::OverLimit),
    ]
}

fn advance_ns() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![
        SECOND,
        2 * SECOND,
        SECOND / 2,
        1,
        3 * SECOND,
        60 * SECOND,
        43_200 * SECOND,
    ])
}

fn final_state() -> impl Strategy<Value = Final> {
    prop_oneof![
        Just(Final::Succeeded),
        Just(Final::Failed),
        Just(Final::Cancelled)
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => method().prop_map(|method| Op::Create { method }),
        8 => (endpoint(), timeout_s())
            .prop_map(|(endpoint, timeout_s)| Op::Await { endpoint, timeout_s }),
        16 => (endpoint(), request_method(), token(), body(), any::<bool>(), 1..=3u8).prop_map(
            |(endpoint, method, token, body, extras, copies)| Op::Request {
                endpoint,
                method,
                token,
                body,
                extras,
                copies,
            }
        ),
        6 => advance_ns().prop_map(|ns| Op::Advance { ns }),
        1 => final_state().prop_map(Op::End),
    ]
}

/// Sequences of 1 to `len_max` ops.
pub fn sequence(len_max: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=len_max)
}
