//! Call steps, and the calls among them that suspend their thread on the simulated clock or
//! the outside world: `events.await_callback` (CB-3 … CB-7), `sys.sleep`, `sys.sleep_until`.
//! Every other library function runs at once, in [`crate::stdlib`].

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use super::frame::Frame;
use super::run::{Interp, Th, type_error, value_error};
use super::thread::Wake;
use crate::callbacks::{AWAIT_TIMEOUT_DEFAULT, AwaitOutcome};
use crate::defn::Tmpl;
use crate::error::{Raised, Tag, builtin};
use crate::http::{self, Callee, HttpOutcome};
use crate::limits;
use crate::stdlib::Effects;
use crate::stdlib::table::{self, Blocking, Imp};
use crate::time::{SimTime, duration_from_workflow_secs, push_secs_text};
use crate::value::Value;

impl Interp {
    /// A `call` step of a library function: a blocking one, or any other (a subworkflow is
    /// called by `run_call`). The arguments are evaluated in the step's order, each straight
    /// into its parameter's place: no list by name to search and take apart for every call.
    pub(super) async fn call(
        self: &Rc<Self>,
        th: Th,
        frame: &Frame,
        func: &str,
        call_args: &[(String, Tmpl)],
    ) -> Result<Value, Raised> {
        let f = if table::is_connector(func) {
            None
        } else {
            table::lookup(func)
        };
        let Some(f) = f else {
            let mut args = Vec::with_capacity(call_args.len());
            for (k, v) in call_args {
                args.push((k.as_str(), self.eval(frame, v)?));
            }
            if table::is_connector(func) {
                return self.connector(th, func, args).await;
            }
            return Err(builtin(
                Tag::SystemError,
                format!("symbol '{func}' not found"),
            ));
        };
        // The first argument of each parameter's name takes its place (the step's map has
        // no repeats); one that names no parameter is evaluated, and left.
        let mut positional: Vec<Option<Value>> = vec![None; f.params.len()];
        for (k, v) in call_args {
            let v = self.eval(frame, v)?;
            if let Some(i) = f.param_list().position(|(p, _)| p == k) {
                if positional[i].is_none() {
                    positional[i] = Some(v);
                }
            }
        }
        for ((p, required), v) in f.param_list().zip(&positional) {
            if required && v.is_none() {
                return Err(type_error(format!("{func} needs argument '{p}'")));
            }
        }
        match f.imp {
            Imp::Direct(_) => {
                let mut w = self.shared.borrow_mut();
                let v = f.call(positional, &mut *w)?;
                limits::check_value(&format_args!("the result of {func}"), v)
            }
            Imp::Blocking(Blocking::AwaitCallback) => self.await_callback(th, positional).await,
            Imp::Blocking(Blocking::Sleep) => self.sys_sleep(th, positional).await,
            Imp::Blocking(Blocking::SleepUntil) => self.sys_sleep_until(th, positional).await,
            Imp::Blocking(Blocking::Http(method)) => {
                let named = f.param_list().map(|(p, _)| p).zip(positional).collect();
                self.http(th, func, method, named).await
            }
        }
    }

    /// HT-1 … HT-3: `http.get|post|put|patch|delete|request`, with the arguments the
    /// table names.
    async fn http(
        &self,
        th: Th,
        func: &str,
        method: Option<&'static str>,
        mut args: BTreeMap<&'static str, Option<Value>>,
    ) -> Result<Value, Raised> {
        let mut arg = |name: &str| args.remove(name).flatten();
        let method = match method {
            Some(m) => m.to_owned(),
            None => http::method_arg(func, arg("method").as_ref())?,
        };
        let timeout = http::timeout_arg(
            func,
            arg("timeout").as_ref(),
            http::HTTP_TIMEOUT_DEFAULT,
            http::HTTP_TIMEOUT_MAX,
        )?;
        let request = http::build_request(
            func,
            method,
            arg("url").as_ref(),
            arg("headers").as_ref(),
            arg("query").as_ref(),
            arg("body").as_ref(),
        )?;
        // HT-1: a private service (Service Directory) and a CA certificate choose how to
        // reach the host; the host decides that here, so they are checked, not used.
        for name in ["private_service_name", "ca_certificate"] {
            match arg(name) {
                None | Some(Value::Str(_)) => {}
                Some(other) => {
                    return Err(type_error(format!(
                        "{func}: {name} must be a string, got {}",
                        other.a_type()
                    )));
                }
            }
        }
        // Recorded with the call, not enforced (HT-1).
        let auth = arg("auth");
        self.outbound(th, Callee::Http(request), timeout, auth)
            .await
    }

    /// HT-6: a connector call, `call: googleapis.SERVICE.VERSION.…` with any `args`;
    /// `connector_params.timeout` (seconds) bounds the wait, 1800 s when not given.
    async fn connector(
        &self,
        th: Th,
        func: &str,
        args: Vec<(&str, Value)>,
    ) -> Result<Value, Raised> {
        let args = Value::map(args);
        let timeout = match args.get("connector_params") {
            None | Some(Value::Null) => http::CONNECTOR_TIMEOUT_DEFAULT,
            Some(Value::Map(p)) => http::timeout_arg(
                func,
                p.get("timeout"),
                http::CONNECTOR_TIMEOUT_DEFAULT,
                Duration::from_secs(limits::EXECUTION_SECS_MAX),
            )?,
            Some(other) => {
                return Err(type_error(format!(
                    "{func}: connector_params must be a map, got {}",
                    other.a_type()
                )));
            }
        };
        let target = Callee::Connector {
            name: func.to_owned(),
            args,
        };
        self.outbound(th, target, timeout, None).await
    }

    /// HT-4: sends `target` and suspends `th` until the host answers or `timeout` passes.
    async fn outbound(
        &self,
        th: Th,
        target: Callee,
        timeout: Duration,
        auth: Option<Value>,
    ) -> Result<Value, Raised> {
        let id = self
            .shared
            .borrow_mut()
            .send_http(th.tid, target.clone(), timeout, auth);
        let res = match self.suspend(th.tid).await {
            Wake::Http(Ok(outcome)) => {
                let status = match &outcome {
                    HttpOutcome::Response(r) => Some(r.status),
                    _ => None,
                };
                (status, http::outcome_value(&target, &outcome))
            }
            Wake::Http(Err(())) => (None, Err(http::timeout_error(&target, timeout))),
            other => unreachable!("an outbound call is woken by its answer, not {other:?}"),
        };
        let (status, value) = res;
        self.shared
            .borrow_mut()
            .note_http_result(id, status, value.as_ref().err());
        let v = value?;
        limits::check_value(&"the answer of an outbound call", v)
    }

    /// `sys.sleep(seconds)`.
    async fn sys_sleep(&self, th: Th, args: Vec<Option<Value>>) -> Result<Value, Raised> {
        let secs = match &args[0] {
            Some(Value::Int(i)) => *i as f64,
            Some(Value::Double(d)) => *d,
            other => {
                return Err(type_error(format!(
                    "sys.sleep: seconds must be a number, got {}",
                    other.as_ref().map_or("nothing", Value::a_type)
                )));
            }
        };
        let d = duration_from_workflow_secs(secs)
            .map_err(|e| value_error(format!("sys.sleep: {e}")))?;
        let until = self.shared.borrow().now().saturating_add(d);
        self.sleep_until(th, until).await
    }

    /// `sys.sleep_until(time)`: a time already past is the current instant.
    async fn sys_sleep_until(&self, th: Th, args: Vec<Option<Value>>) -> Result<Value, Raised> {
        let text = match &args[0] {
            Some(Value::Str(s)) => s.to_string(),
            other => {
                return Err(type_error(format!(
                    "sys.sleep_until: time must be a string, got {}",
                    other.as_ref().map_or("nothing", Value::a_type)
                )));
            }
        };
        let target = crate::time::parse_rfc3339(&text).ok_or_else(|| {
            value_error(format!("sys.sleep_until: '{text}' is not an RFC 3339 time"))
        })?;
        let until = {
            let w = self.shared.borrow();
            let ahead = (target - w.now_unix_nanos()).max(0);
            w.now().saturating_add(Duration::from_nanos(
                u64::try_from(ahead).unwrap_or(u64::MAX),
            ))
        };
        self.sleep_until(th, until).await
    }

    /// `sys.sleep`, `sys.sleep_until`: suspends `th` until the simulated clock reaches `until`.
    async fn sleep_until(&self, th: Th, until: SimTime) -> Result<Value, Raised> {
        self.shared.borrow_mut().sleep_until(th.tid, until);
        match self.suspend(th.tid).await {
            Wake::Timer => Ok(Value::Null),
            other => unreachable!("a sleep is woken by its timer, not {other:?}"),
        }
    }

    /// CB-3 … CB-7: `events.await_callback(callback, timeout)`.
    async fn await_callback(&self, th: Th, mut args: Vec<Option<Value>>) -> Result<Value, Raised> {
        let callback = args[0].take().unwrap_or(Value::Null);
        let url = match callback.get("url") {
            Some(Value::Str(u)) => Rc::clone(u),
            _ => {
                return Err(type_error(
                    "events.await_callback: callback must be the map from events.create_callback_endpoint",
                ));
            }
        };
        let timeout = match args.get_mut(1).and_then(Option::take) {
            None => AWAIT_TIMEOUT_DEFAULT,
            Some(Value::Int(i)) => duration_from_workflow_secs(i as f64)
                .map_err(|e| value_error(format!("events.await_callback: {e}")))?,
            Some(Value::Double(d)) => duration_from_workflow_secs(d)
                .map_err(|e| value_error(format!("events.await_callback: {e}")))?,
            Some(other) => {
                return Err(type_error(format!(
                    "events.await_callback: timeout must be a number, got {}",
                    other.a_type()
                )));
            }
        };
        let outcome = {
            let mut w = self.shared.borrow_mut();
            // CB-3: only this execution's endpoints.
            let endpoint = w.endpoint_by_url(&url).ok_or_else(|| {
                value_error(format!(
                    "events.await_callback: '{url}' is not an endpoint of this execution"
                ))
            })?;
            w.await_callback(th.tid, endpoint, timeout)
                .map_err(|e| builtin(Tag::SystemError, format!("events.await_callback: {e}")))?
        };
        let received = match outcome {
            AwaitOutcome::Ready(r) => r,
            AwaitOutcome::Blocked(_) => match self.suspend(th.tid).await {
                Wake::Callback(Ok(r)) => r,
                Wake::Callback(Err(timeout)) => {
                    // Not formatted: a retried await times out again and again.
                    let mut message = String::with_capacity(64);
                    message.push_str("timed out waiting for callback after ");
                    push_secs_text(&mut message, timeout);
                    return Err(builtin(Tag::TimeoutError, message));
                }
                other => unreachable!("an await is woken by its callback, not {other:?}"),
            },
        };
        let clock = self.shared.borrow().clock();
        Ok(received.to_value(clock))
    }
}
