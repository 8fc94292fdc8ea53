//! The deterministic core of wfsim: the callback contract of Google Cloud Workflows under
//! virtual time, with no I/O, no clock and no randomness but a seeded stream.
//!
//! Hosts (the engine-level runner, the live server, the simulated world) hand it inputs at
//! simulated instants and read back what happened. The rules it implements are in
//! `SPEC.md`; the code cites them by id (CB-1 …).
//!
//! ```
//! use std::time::Duration;
//! use wfsim_engine::{Auth, AwaitOutcome, CallbackRequest, Callbacks, ExecutionName,
//!                    ExecutionState, Method, SimTime, http_status};
//!
//! let name = ExecutionName {
//!     base_url: "http://localhost:8080".into(),
//!     project: "p".into(), location: "l".into(), workflow: "w".into(),
//!     execution_id: "e".into(),
//! };
//! let mut cbs = Callbacks::new(name, 0);
//! let t = SimTime::from_secs;
//! let ep = cbs.create_endpoint(t(0), Method::Post).unwrap();
//! let id = cbs.endpoint(ep).unwrap().callback_id().to_owned();
//! let post = || CallbackRequest { method: "POST".into(), ..Default::default() };
//!
//! // SPEC §3, the worked example.
//! assert_eq!(http_status(&cbs.deliver(t(1), &id, Auth::Granted, post())), 200); // buffered
//! assert_eq!(http_status(&cbs.deliver(t(2), &id, Auth::Granted, post())), 429); // slot full
//! let taken = cbs.await_callback(t(3), ep, Duration::from_secs(60)).unwrap();
//! assert!(matches!(taken, AwaitOutcome::Ready(r) if r.at == t(1)));              // CB-5
//! assert_eq!(http_status(&cbs.deliver(t(4), &id, Auth::Granted, post())), 200); // buffered
//! let ended = cbs.finish(t(5), ExecutionState::Succeeded).unwrap();
//! assert_eq!(ended.dropped.len(), 1);                                            // CB-11
//! assert_eq!(http_status(&cbs.deliver(t(6), &id, Auth::Granted, post())), 404);
//! ```

pub mod callbacks;
pub mod coverage;
pub mod defect;
pub mod defn;
pub mod error;
pub mod expr;
pub mod http;
pub mod ids;
pub mod interp;
pub mod limits;
pub mod pos;
pub mod request;
pub mod stdlib;
pub mod time;
pub mod value;

pub use callbacks::{
    Accepted, Auth, AwaitError, AwaitOutcome, Callbacks, DeliveryResult, Ended, Endpoint,
    EndpointCounts, EndpointIdx, Event, ExecutionName, ExecutionState, Rejection, WaiterId,
    http_status,
};
pub use ids::IdGen;
pub use pos::Pos;
pub use request::{CallbackRequest, Method, Received};
pub use time::{SimTime, WallClock};
pub use value::Value;
