//! Deliberate defects, test-only: each breaks one rule of SPEC.md at exactly the point the
//! rule lives, so that a conformance run can be shown to catch it (`wfsim serve --defect
//! NAME`, `wfsim conformance --target`). The default is none, and then nothing changes:
//! each defect is one comparison at its point.

/// One rule broken on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Defect {
    /// §3 step 7: a request to a full slot replaces the buffered one and gets 200, not 429.
    SlotOverwrite,
    /// CB-11: the end does not drop the buffered request; the slot still shows it.
    BufferKeptAfterEnd,
    /// CB-12: the last await to start takes a request, not the first.
    WaitersLifo,
    /// CB-6: an await times out one millisecond (a server clock tick) after its deadline.
    TimerTickLate,
    /// RT-2: the delay before retry k is the one RT-2 gives retry k + 1.
    BackoffOffByOne,
    /// EX-3: cancelling an execution that is already over is answered 200, not 400.
    CancelAfterEnd,
}

impl Defect {
    pub const ALL: [Defect; 6] = [
        Defect::SlotOverwrite,
        Defect::BufferKeptAfterEnd,
        Defect::WaitersLifo,
        Defect::TimerTickLate,
        Defect::BackoffOffByOne,
        Defect::CancelAfterEnd,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Defect::SlotOverwrite => "slot-overwrite",
            Defect::BufferKeptAfterEnd => "buffer-kept-after-end",
            Defect::WaitersLifo => "waiters-lifo",
            Defect::TimerTickLate => "timer-tick-late",
            Defect::BackoffOffByOne => "backoff-off-by-one",
            Defect::CancelAfterEnd => "cancel-after-end",
        }
    }

    /// The id of the rule it breaks, as SPEC.md and the rule catalogue give it.
    pub fn rule(self) -> &'static str {
        match self {
            Defect::SlotOverwrite => "§3.7",
            Defect::BufferKeptAfterEnd => "CB-11",
            Defect::WaitersLifo => "CB-12",
            Defect::TimerTickLate => "CB-6",
            Defect::BackoffOffByOne => "RT-2",
            Defect::CancelAfterEnd => "EX-3",
        }
    }

    pub fn from_name(name: &str) -> Option<Defect> {
        Defect::ALL.into_iter().find(|d| d.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for d in Defect::ALL {
            assert_eq!(Defect::from_name(d.name()), Some(d));
        }
        assert_eq!(Defect::from_name("none"), None);
    }
}
