//! RT-1 … RT-3: retrying a `try` step: the policy (predicate, `max_retries`, back-off), and
//! the loop that asks the predicate about each error and waits out the back-off on the
//! simulated clock.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use super::entries::Kind;
use super::frame::Frame;
use super::run::{Flow, Interp, Th, type_error, value_error};
use super::thread::Wake;
use super::unwind::Unwind;
use crate::defn::{Action, Backoff, Predicate, Retry, Tmpl};
use crate::error::Raised;
use crate::stdlib::table::{self, Func};
use crate::stdlib::{self, DEFAULT_BACKOFF};
use crate::time::duration_from_secs;
use crate::value::Value;

impl Interp {
    /// RT-1 … RT-3: runs `body`; on an error, asks the predicate, waits the back-off on the
    /// simulated clock, and runs it again, up to `max_retries` times.
    pub(super) async fn run_retrying(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        body: &Action,
        retry: Option<&Retry>,
        retry_cover: u32,
    ) -> Result<Flow, Unwind> {
        let Some(retry) = retry else {
            return self.attempt(th, frame, body, 0).await;
        };
        let (predicate, max_retries, backoff) = self.retry_policy(frame, retry)?;
        let mut retries: u32 = 0;
        loop {
            let e = match self.attempt(th, frame, body, retries).await {
                Ok(flow) => return Ok(flow),
                Err(e) => e,
            };
            // RT-3: the predicate sees every error, the one after the last retry too.
            let again = match &predicate {
                PredicateFn::Sub(name) => {
                    let sub =
                        Rc::clone(self.workflow.subworkflow(name).expect("checked at deploy"));
                    let mut args = BTreeMap::new();
                    if let Some(p) = sub.params.first() {
                        args.insert(p.name.clone(), e.error().clone());
                    }
                    self.call_sub(th, sub, args).await?
                }
                PredicateFn::Builtin(_, Some(f)) => {
                    let mut w = self.shared.borrow_mut();
                    f.call(vec![Some(e.error().clone())], &mut *w)?
                }
                // Not in the library: `stdlib::call` says so.
                PredicateFn::Builtin(name, None) => {
                    let mut w = self.shared.borrow_mut();
                    stdlib::call(name, vec![Some(e.error().clone())], &mut *w)?
                }
            };
            let again = match again {
                Value::Bool(b) => b,
                other => {
                    return Err(type_error(format!(
                        "a retry predicate must return a boolean, got {}",
                        other.a_type()
                    ))
                    .into());
                }
            };
            if !again || i64::from(retries) >= max_retries {
                return Err(e);
            }
            // A retry is a step: however many `max_retries` allows, the step limit ends them
            // (and keeps the counter far below `u32::MAX`).
            self.shared.borrow_mut().count_step()?;
            retries = retries.saturating_add(1);
            let off_by_one =
                self.shared.borrow().defect == Some(crate::defect::Defect::BackoffOffByOne);
            let delay = backoff.delay(retries + u32::from(off_by_one));
            {
                let mut w = self.shared.borrow_mut();
                w.cover_retry(retry_cover, retries);
                w.back_off(th.tid, retries, delay);
            }
            match self.suspend(th.tid).await {
                Wake::Timer => {}
                other => unreachable!("a back-off is woken by its timer, not {other:?}"),
            }
        }
    }

    /// One run of a `try` body: the first (`retry` 0) or retry number `retry`, each a step
    /// entry of its own under the `try` step's (EX-8).
    async fn attempt(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        body: &Action,
        retry: u32,
    ) -> Result<Flow, Unwind> {
        let entry = {
            let mut w = self.shared.borrow_mut();
            let step = w.entry_cover(th.entry);
            let kind = if retry == 0 { Kind::Try } else { Kind::Retry };
            w.begin_entry(th.tid, th.entry, step, kind, retry, 0, frame)
        };
        let ran = self.run_action(Th { entry, ..th }, frame, body).await;
        self.end_entry(entry, frame, &ran);
        ran
    }

    /// The predicate, `max_retries` and back-off of `retry`, evaluated when the step starts.
    fn retry_policy(
        &self,
        frame: &Frame,
        retry: &Retry,
    ) -> Result<(PredicateFn, i64, BackoffPolicy), Raised> {
        match retry {
            Retry::Expr(t) => {
                let name = match t {
                    Tmpl::Expr(e, _) => e.dotted_name().unwrap_or_default(),
                    _ => String::new(),
                };
                let predicate = match name.as_str() {
                    "http.default_retry" => "http.default_retry_predicate",
                    "http.default_retry_non_idempotent" => {
                        "http.default_retry_predicate_non_idempotent"
                    }
                    other => return Err(value_error(format!("'{other}' is not a retry policy"))),
                };
                Ok((
                    PredicateFn::builtin(predicate.into()),
                    5,
                    BackoffPolicy::DEFAULT,
                ))
            }
            Retry::Policy {
                predicate,
                max_retries,
                backoff,
            } => {
                let predicate = match predicate {
                    Predicate::Subworkflow(s) => PredicateFn::Sub(s.clone()),
                    Predicate::Builtin(b) => PredicateFn::builtin(b.clone()),
                };
                let max = match self.eval(frame, max_retries)? {
                    Value::Int(n) if n >= 0 => n,
                    other => {
                        return Err(value_error(format!(
                            "max_retries must be a non-negative integer, got {}",
                            crate::value::show(&other)
                        )));
                    }
                };
                let backoff = match backoff {
                    None => BackoffPolicy::DEFAULT,
                    Some(b) => self.backoff(frame, b)?,
                };
                Ok((predicate, max, backoff))
            }
        }
    }

    /// A `backoff` map's values, each a non-negative number.
    fn backoff(&self, frame: &Frame, b: &Backoff) -> Result<BackoffPolicy, Raised> {
        let num = |t: &Tmpl, what: &str| -> Result<f64, Raised> {
            match self.eval(frame, t)? {
                Value::Int(i) if i >= 0 => Ok(i as f64),
                Value::Double(d) if d >= 0.0 => Ok(d),
                other => Err(value_error(format!(
                    "backoff {what} must be a non-negative number, got {}",
                    crate::value::show(&other)
                ))),
            }
        };
        Ok(BackoffPolicy {
            initial_delay: num(&b.initial_delay, "initial_delay")?,
            max_delay: num(&b.max_delay, "max_delay")?,
            multiplier: num(&b.multiplier, "multiplier")?,
        })
    }
}

/// Who decides whether an error is retried: a subworkflow, or a library function.
enum PredicateFn {
    Sub(String),
    /// The function's name, and the function, looked up once for all the errors the step
    /// asks about.
    Builtin(String, Option<&'static Func>),
}

impl PredicateFn {
    fn builtin(name: String) -> PredicateFn {
        let f = table::lookup(&name);
        PredicateFn::Builtin(name, f)
    }
}

/// RT-2: the delay before retry k is `min(initial_delay × multiplier^(k−1), max_delay)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffPolicy {
    pub initial_delay: f64,
    pub max_delay: f64,
    pub multiplier: f64,
}

impl BackoffPolicy {
    /// RT-1: `retry.default_backoff`, from the library's statement of it.
    pub const DEFAULT: BackoffPolicy = BackoffPolicy {
        initial_delay: DEFAULT_BACKOFF.initial_delay as f64,
        max_delay: DEFAULT_BACKOFF.max_delay as f64,
        multiplier: DEFAULT_BACKOFF.multiplier,
    };

    /// The delay before retry `k` (1-based).
    pub fn delay(&self, k: u32) -> Duration {
        let exp = i32::try_from(k.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = (self.initial_delay * self.multiplier.powi(exp)).min(self.max_delay);
        duration_from_secs(secs).unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_2_backoff_delays() {
        let guide = BackoffPolicy {
            initial_delay: 1.0,
            max_delay: 10.0,
            multiplier: 2.0,
        };
        let delays: Vec<u64> = (1..=5).map(|k| guide.delay(k).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 10]);
        let default = BackoffPolicy {
            initial_delay: 1.0,
            max_delay: 60.0,
            multiplier: 1.25,
        };
        assert_eq!(BackoffPolicy::DEFAULT, default);
        assert_eq!(BackoffPolicy::DEFAULT.delay(2), Duration::from_millis(1250));
        assert_eq!(BackoffPolicy::DEFAULT.delay(100), Duration::from_secs(60));
    }
}
