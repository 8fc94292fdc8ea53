//! Live mode's two clocks: the server's, and each execution's own.
//!
//! Server time counts from the server's epoch and is read in whole ticks of a resolution
//! (1 ns live; the simulated world reads 1 ms ticks so that requests tie). Each execution
//! counts its own time from its start, as the engine does; [`ExecClock`] is the one place
//! that converts between the two.

use std::time::Duration;

use wfsim_engine::SimTime;

/// The resolution the server's clock is read at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolution {
    ns: u64,
}

impl Resolution {
    /// A resolution of `d`, at least one nanosecond.
    pub fn new(d: Duration) -> Resolution {
        Resolution {
            ns: u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1),
        }
    }

    /// One tick, in nanoseconds.
    pub fn tick_ns(self) -> u64 {
        self.ns
    }

    /// The server time `ns` nanoseconds after the epoch reads: the start of its tick.
    pub fn floor(self, ns: u64) -> SimTime {
        SimTime::from_nanos(ns - ns % self.ns)
    }
}

/// Where an execution's clock sits on the server's: its `t = 0` is the server time it
/// started at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecClock {
    started_at: SimTime,
}

impl ExecClock {
    pub fn starting_at(started_at: SimTime) -> ExecClock {
        ExecClock { started_at }
    }

    /// Server time of its start.
    pub fn started_at(self) -> SimTime {
        self.started_at
    }

    /// The execution's time at server time `server` (zero before its start).
    pub fn local(self, server: SimTime) -> SimTime {
        SimTime::from_nanos(server.as_nanos().saturating_sub(self.started_at.as_nanos()))
    }

    /// The server time of the execution's time `local`.
    pub fn server(self, local: SimTime) -> SimTime {
        self.started_at
            .saturating_add(Duration::from_nanos(local.as_nanos()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_reads_in_whole_ticks() {
        let ms = Resolution::new(Duration::from_millis(1));
        assert_eq!(ms.tick_ns(), 1_000_000);
        assert_eq!(ms.floor(2_999_999), SimTime::from_nanos(2_000_000));
        assert_eq!(ms.floor(3_000_000), SimTime::from_nanos(3_000_000));
        assert_eq!(
            Resolution::new(Duration::ZERO).tick_ns(),
            1,
            "at least 1 ns"
        );
    }

    #[test]
    fn an_execution_clock_is_the_server_clock_shifted_to_its_start() {
        let c = ExecClock::starting_at(SimTime::from_secs(5));
        assert_eq!(c.local(SimTime::from_secs(7)), SimTime::from_secs(2));
        assert_eq!(c.local(SimTime::from_secs(4)), SimTime::ZERO);
        assert_eq!(c.server(SimTime::from_secs(2)), SimTime::from_secs(7));
        assert_eq!(c.started_at(), SimTime::from_secs(5));
    }
}
