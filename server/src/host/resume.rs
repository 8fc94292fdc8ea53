//! What a checkpoint (`api/checkpoint.rs`) needs of the host besides inputs: where the
//! execution ids' stream and the start counter stand, and the names of the last evicted
//! executions. Replaying only the inputs of the executions still held skips the starts of
//! the evicted ones; restoring these makes every later id, seed and 404 what a replay from
//! the start gives.

use super::Host;

impl Host {
    /// The next execution's key (its seed's part) and the ids stream's position.
    pub(crate) fn start_position(&self) -> (usize, u128) {
        (self.started, self.ids.position())
    }

    /// Puts the next start where [`Host::start_position`] said it was.
    pub(crate) fn set_start_position(&mut self, started: usize, ids: u128) {
        self.started = started;
        self.ids.set_position(ids);
    }

    /// Whether execution `i` is held and not evicted.
    pub(crate) fn holds(&self, i: usize) -> bool {
        self.executions.get(&i).is_some_and(|e| !e.evicted)
    }

    /// How many executions are held (ended or not; evicted ones until they are freed).
    pub(crate) fn held_count(&self) -> usize {
        self.executions.len()
    }

    /// The names of the last evicted executions, oldest first, and how many were evicted.
    pub(crate) fn evicted_names(&self) -> (Vec<(String, String)>, u64) {
        (
            self.evicted_order.iter().cloned().collect(),
            self.evicted_count,
        )
    }

    /// Restores what [`Host::evicted_names`] returned.
    pub(crate) fn set_evicted_names(&mut self, names: Vec<(String, String)>, count: u64) {
        self.evicted_names = names.iter().cloned().collect();
        self.evicted_order = names.into();
        self.evicted_count = count;
    }
}
