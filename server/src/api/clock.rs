//! Server time under `--clock`: where a manual or auto clock stands, what moves it
//! (`POST /v1/wfsim/clock:advance`, the auto clock's jumps), `GET /v1/wfsim/clock`, and
//! closing the instants before a time. Converting to an execution's own clock is
//! `crate::clock`'s.

use serde_json::{Value as Json, json};
use wfsim_engine::SimTime;

use super::State;
use super::body::optional_field;
use crate::config::ClockMode;
use crate::message::ApiResponse;

impl State {
    pub fn clock_mode(&self) -> ClockMode {
        self.config.clock
    }

    /// Server time under a manual or auto clock: where `clock:advance` and the auto clock's
    /// jumps have moved it.
    pub fn clock_now(&self) -> SimTime {
        self.clock_now
    }

    /// Moves a manual or auto clock to `to` (never back) and fires every timer due by then,
    /// `to` included: letting time pass through an instant closes it.
    pub(super) fn move_clock(&mut self, to: SimTime) {
        self.clock_now = self.clock_now.max(to);
        self.host.advance(
            self.clock_now
                .saturating_add(std::time::Duration::from_nanos(1)),
        );
    }

    /// The auto clock's jump: to the next deadline, if there is one and the clock is auto.
    /// Returns where the clock now reads.
    pub fn jump_to_next_deadline(&mut self) -> Option<SimTime> {
        if self.config.clock != ClockMode::Auto {
            return None;
        }
        let next = self.host.next_deadline()?;
        self.move_clock(next);
        self.record_internal(self.clock_now, "jump", String::new(), Vec::new());
        Some(self.clock_now)
    }

    /// Closes every instant before server time `now` (see `Host::advance`).
    pub fn advance(&mut self, now: SimTime) {
        self.host.advance(now);
    }

    /// The earliest server time at which [`State::advance`] has work.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.host.next_deadline()
    }

    /// `GET /v1/wfsim/clock`: the mode, the time, and the next deadline.
    pub(super) fn clock_json(&self, now: SimTime) -> ApiResponse {
        let mut out = serde_json::Map::new();
        out.insert("mode".into(), json!(self.config.clock.as_str()));
        out.insert("now".into(), json!(self.host.wall(now)));
        out.insert("elapsedSeconds".into(), json!(now.as_secs_f64()));
        if let Some(next) = self.host.next_deadline() {
            out.insert("nextDeadline".into(), json!(self.host.wall(next)));
        }
        ApiResponse::json(200, &Json::Object(out))
    }

    /// `POST /v1/wfsim/clock:advance {"seconds": N}`: moves a manual or auto clock N
    /// seconds on, firing every timer due by then at its own instant.
    pub(super) fn advance_clock(
        &mut self,
        now: SimTime,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        if self.config.clock == ClockMode::Real {
            return Err(ApiResponse::error(
                400,
                "FAILED_PRECONDITION",
                "this server runs on the real clock; start it with --clock manual (or auto) to move time by hand",
            ));
        }
        let bad = || {
            ApiResponse::error(
                400,
                "INVALID_ARGUMENT",
                "the body must be JSON like {\"seconds\": 3600}: a number of seconds, 0 or more",
            )
        };
        let seconds = optional_field(body, "seconds", r#"{"seconds": 3600}"#)?
            .and_then(|v| v.as_f64())
            .ok_or_else(bad)?;
        let by = wfsim_engine::time::duration_from_secs(seconds).map_err(|_| bad())?;
        // `"closeInstant": false` leaves the instant reached open: its timers wait for the
        // next advance, so requests sent meanwhile come before them, as at one simulated
        // instant (SPEC: requests before timers). What `wfsim conformance` drives time with.
        let close = match optional_field(body, "closeInstant", r#"{"closeInstant": false}"#)? {
            None => true,
            Some(Json::Bool(b)) => b,
            Some(_) => {
                return Err(ApiResponse::error(
                    400,
                    "INVALID_ARGUMENT",
                    "'closeInstant' must be true or false",
                ));
            }
        };
        let to = now.saturating_add(by);
        if close {
            self.move_clock(to);
        } else {
            self.clock_now = self.clock_now.max(to);
            self.host.advance(self.clock_now);
        }
        Ok(self.clock_json(self.clock_now))
    }
}
