//! The parent sees each way a worker can fail, and a worker survives a caught panic.

use std::time::Duration;

use wfsim_fuzz::exec::Ran;
use wfsim_fuzz::input::{Input, Probe, StdlibCall};
use wfsim_fuzz::recipe::Recipe;
use wfsim_fuzz::supervisor::{FailureKind, Verdict, Worker};

fn worker() -> Worker {
    Worker::new(env!("CARGO_BIN_EXE_wfsim-fuzz").as_ref())
}

fn len_call() -> Input {
    Input::Stdlib(StdlibCall {
        function: "len".into(),
        args: vec![Some(Recipe::str("\u{e9}t\u{e9}"))],
    })
}

fn kind_of(v: Verdict) -> FailureKind {
    match v {
        Verdict::Fail(f) => f.kind,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn every_failure_is_recognised_and_the_worker_comes_back() {
    let mut w = worker();
    let budget = Duration::from_secs(20);
    assert_eq!(
        w.run(&len_call(), budget).unwrap(),
        Verdict::Pass(Ran::Accepted)
    );

    let panic = w.run(&Input::Probe(Probe::Panic), budget).unwrap();
    match &panic {
        Verdict::Fail(f) => {
            assert_eq!(f.kind, FailureKind::Panic);
            assert!(f.location.as_deref().unwrap().contains("exec.rs"), "{f}");
            assert!(f.detail.contains("a panic on purpose"), "{f}");
        }
        other => panic!("{other:?}"),
    }
    // A caught panic keeps the worker.
    assert_eq!(
        w.run(&len_call(), budget).unwrap(),
        Verdict::Pass(Ran::Accepted)
    );
    assert_eq!(w.starts, 1);

    let overflow = w.run(&Input::Probe(Probe::StackOverflow), budget).unwrap();
    assert_eq!(kind_of(overflow), FailureKind::StackOverflow);
    let memory = w.run(&Input::Probe(Probe::Memory), budget).unwrap();
    assert_eq!(kind_of(memory), FailureKind::Memory);
    let hang = w
        .run(&Input::Probe(Probe::Hang), Duration::from_millis(300))
        .unwrap();
    assert_eq!(kind_of(hang), FailureKind::Hang);

    // Each death or hang cost a worker; the next input gets a fresh one.
    assert_eq!(
        w.run(&len_call(), budget).unwrap(),
        Verdict::Pass(Ran::Accepted)
    );
    assert_eq!(w.starts, 4);
}

#[test]
fn inputs_the_worker_cannot_build_are_invalid_not_failures() {
    let mut w = worker();
    let call = Input::Stdlib(StdlibCall {
        function: "no.such.function".into(),
        args: vec![],
    });
    assert!(
        matches!(w.run(&call, Duration::from_secs(20)).unwrap(), Verdict::Invalid(why) if why.contains("no function"))
    );
}
