//! Time on the target: wfsim's clock API when it offers one (`GET /v1/wfsim/clock`, mode
//! `manual` or `auto`; `POST /v1/wfsim/clock:advance`), else the real clock.

use serde_json::{Value as Json, json};
use wfsim_engine::time::parse_rfc3339;

use crate::client::Target;

/// How the judge moves the target's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The target's clock API, in this mode (`manual` or `auto`).
    Driven(String),
    /// No clock API: time passes as it does.
    Real,
}

#[derive(Debug)]
pub struct Clock {
    pub mode: Mode,
    /// Driven: where the target's clock reads, in Unix nanoseconds, as last seen.
    now: i128,
    /// Real: when the judge started, on its own monotonic clock.
    origin: tokio::time::Instant,
}

impl Clock {
    /// Asks the target for its clock API.
    pub async fn probe(target: &Target) -> Result<Clock, String> {
        let res = target.send("GET", "/v1/wfsim/clock", Vec::new()).await?;
        if res.status == 401 || res.status == 403 {
            return Err(format!(
                "the target refused the judge: GET /v1/wfsim/clock answered {} {}; give a token with every permission (--token T)",
                res.status,
                match res.json() {
                    Json::Null => res.text().trim().to_owned(),
                    j => j.to_string(),
                }
            ));
        }
        let j = res.json();
        let mode = j["mode"].as_str().unwrap_or_default().to_owned();
        let mut clock = Clock {
            mode: Mode::Real,
            now: 0,
            origin: tokio::time::Instant::now(),
        };
        if res.status == 200 && (mode == "manual" || mode == "auto") {
            clock.mode = Mode::Driven(mode);
            clock.read(target).await?;
        }
        Ok(clock)
    }

    pub fn driven(&self) -> bool {
        matches!(self.mode, Mode::Driven(_))
    }

    /// Driven: reads the target's clock.
    async fn read(&mut self, target: &Target) -> Result<i128, String> {
        let res = target.send("GET", "/v1/wfsim/clock", Vec::new()).await?;
        let j = res.json();
        let now = j["now"]
            .as_str()
            .and_then(parse_rfc3339)
            .ok_or_else(|| format!("GET /v1/wfsim/clock answered {} {}", res.status, res.text()))?;
        self.now = now;
        Ok(now)
    }

    /// Now: driven, the target's clock in Unix nanoseconds; real, nanoseconds since the
    /// judge started.
    pub async fn now(&mut self, target: &Target) -> Result<i128, String> {
        match self.mode {
            Mode::Driven(_) => self.read(target).await,
            Mode::Real => Ok(self.origin.elapsed().as_nanos() as i128),
        }
    }

    /// The target's next timer (driven only), Unix nanoseconds.
    pub async fn next_deadline(&mut self, target: &Target) -> Result<Option<i128>, String> {
        let res = target.send("GET", "/v1/wfsim/clock", Vec::new()).await?;
        Ok(res.json()["nextDeadline"].as_str().and_then(parse_rfc3339))
    }

    /// Moves time to `to` (never back): driven, by `clock:advance`, checked to land exactly
    /// (seconds travel as a double, so a remainder of a few nanoseconds is sent again);
    /// real, by sleeping. `open`: the instant `to` stays open (`"closeInstant": false`), so
    /// requests sent next come before its timers, as SPEC orders one instant.
    pub async fn advance_to(
        &mut self,
        target: &Target,
        to: i128,
        open: bool,
    ) -> Result<(), String> {
        match self.mode {
            Mode::Real => {
                let at = self.origin + std::time::Duration::from_nanos(to.max(0) as u64);
                tokio::time::sleep_until(at).await;
                Ok(())
            }
            Mode::Driven(_) => {
                for _ in 0..4 {
                    let now = self.read(target).await?;
                    if now >= to {
                        return Ok(());
                    }
                    // A nanosecond short at first: a double's rounding must not overshoot.
                    let delta = to - now;
                    let seconds = if delta > 1 {
                        (delta - 1) as f64 / 1e9
                    } else {
                        delta as f64 / 1e9
                    };
                    let body = if open {
                        json!({"seconds": seconds, "closeInstant": false})
                    } else {
                        json!({"seconds": seconds})
                    };
                    let body = serde_json::to_vec(&body).unwrap_or_default();
                    let res = target.send("POST", "/v1/wfsim/clock:advance", body).await?;
                    if res.status != 200 {
                        return Err(format!(
                            "POST /v1/wfsim/clock:advance answered {} {}",
                            res.status,
                            res.text()
                        ));
                    }
                }
                let now = self.read(target).await?;
                if now == to {
                    Ok(())
                } else {
                    Err(format!(
                        "the target's clock reads {now} ns, not {to} ns, after clock:advance"
                    ))
                }
            }
        }
    }
}
