//! The faults a case can draw, each in one place: how a seed draws it, its name on the
//! command line (`--without clog`), how the schedule says it, how shrinking ranks it, and
//! what it does to the world when its window opens and closes. A new fault is a new
//! [`FaultKind`] and its arms here; `case`, `run` and the sweep take it from there.

use madsim::net::NetSim;
use madsim::runtime::Handle;
use madsim::task::NodeId;

/// A window of the schedule, in ms after the callbacks start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from_ms: u64,
    pub to_ms: u64,
}

/// What goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The server node is clogged (both ways): answers are held back past the client's
    /// patience, so it sends again.
    Clog,
    /// The callback client and the server cannot reach each other.
    Partition,
    /// The server is killed when the window opens and restarted when it closes:
    /// connections are lost, executions are not (the restarted server replays its input
    /// log).
    Restart,
}

impl FaultKind {
    /// Every fault, in the order a seed draws them (and in which they act when windows
    /// open or close at one instant). A new one goes last, and shifts the draws after it.
    pub const ALL: [FaultKind; 3] = [FaultKind::Clog, FaultKind::Partition, FaultKind::Restart];

    /// Its name as a part of a case (`cargo xtask sim --seed S --without clog`).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Clog => "clog",
            FaultKind::Partition => "partition",
            FaultKind::Restart => "restart",
        }
    }

    /// What the schedule prints when its window opens.
    pub fn describe(self) -> &'static str {
        match self {
            FaultKind::Clog => "server-1 clogged",
            FaultKind::Partition => "client-1 and server-1 partitioned",
            FaultKind::Restart => "server-1 killed, restarted",
        }
    }

    /// How big a change to the run it is: shrinking tries to take the biggest away first.
    pub fn size(self) -> u8 {
        match self {
            FaultKind::Clog => 1,
            FaultKind::Partition => 2,
            FaultKind::Restart => 3,
        }
    }

    /// How a seed draws it: one case in `one_in` has it, for `min_ms + pick(span_ms)`.
    fn odds(self) -> (u64, u64, u64) {
        match self {
            FaultKind::Clog => (3, 6_000, 6_000),
            FaultKind::Partition => (4, 2_000, 8_000),
            FaultKind::Restart => (3, 500, 5_500),
        }
    }

    /// Draws whether a case has it, and if so for how long (ms).
    pub fn draw(self, pick: &mut dyn FnMut(u64) -> u64) -> Option<u64> {
        let (one_in, min_ms, span_ms) = self.odds();
        (pick(one_in) == 0).then(|| min_ms + pick(span_ms))
    }

    /// Its window opens.
    pub fn apply(self, world: &World) {
        match self {
            FaultKind::Clog => world.net.clog_node(world.server),
            FaultKind::Partition => {
                world.net.clog_link(world.server, world.sender);
                world.net.clog_link(world.sender, world.server);
            }
            FaultKind::Restart => world.handle.kill(world.server),
        }
    }

    /// Its window closes.
    pub fn undo(self, world: &World) {
        match self {
            FaultKind::Clog => world.net.unclog_node(world.server),
            FaultKind::Partition => {
                world.net.unclog_link(world.server, world.sender);
                world.net.unclog_link(world.sender, world.server);
            }
            FaultKind::Restart => world.handle.restart(world.server),
        }
    }
}

/// A fault of a case: what, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub window: Window,
}

/// What faults act on: the network, the runtime, `server-1` and `client-1`.
#[allow(missing_debug_implementations, reason = "madsim's NetSim has no Debug")]
pub struct World<'a> {
    pub net: &'a NetSim,
    pub handle: &'a Handle,
    pub server: NodeId,
    /// The callback client.
    pub sender: NodeId,
}

/// Whether a window opens or closes; at one instant, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edge {
    Opens,
    Closes,
}

/// When a fault happened in a run, on the server's clock (ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Happened {
    pub kind: FaultKind,
    pub from_ns: u64,
    /// 0 while the window is still open (the run ended first).
    pub to_ns: u64,
}

/// The faults' edges in the order they act: by time, then by kind, opening first.
pub fn edges(faults: &[Fault]) -> Vec<(u64, FaultKind, Edge)> {
    let mut edges: Vec<(u64, FaultKind, Edge)> = faults
        .iter()
        .flat_map(|f| {
            [
                (f.window.from_ms, f.kind, Edge::Opens),
                (f.window.to_ms, f.kind, Edge::Closes),
            ]
        })
        .collect();
    edges.sort();
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_act_in_time_then_kind_order() {
        let w = |from_ms, to_ms| Window { from_ms, to_ms };
        let faults = [
            Fault {
                kind: FaultKind::Restart,
                window: w(10, 20),
            },
            Fault {
                kind: FaultKind::Clog,
                window: w(10, 10),
            },
        ];
        assert_eq!(
            edges(&faults),
            [
                (10, FaultKind::Clog, Edge::Opens),
                (10, FaultKind::Clog, Edge::Closes),
                (10, FaultKind::Restart, Edge::Opens),
                (20, FaultKind::Restart, Edge::Closes),
            ]
        );
    }

    #[test]
    fn names_are_distinct() {
        for a in FaultKind::ALL {
            for b in FaultKind::ALL {
                assert_eq!(a == b, a.name() == b.name());
                assert_eq!(a == b, a.size() == b.size());
            }
        }
    }
}
