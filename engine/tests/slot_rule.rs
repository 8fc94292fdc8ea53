//! SPEC §3 by example: each test is named after the rule it shows.

use std::time::Duration;

use wfsim_engine::callbacks::{AWAIT_TIMEOUT_DEFAULT, BODY_BYTES_MAX};
use wfsim_engine::defect::Defect;
use wfsim_engine::{
    Accepted, Auth, AwaitError, AwaitOutcome, CallbackRequest, Callbacks, EndpointIdx, Event,
    ExecutionName, ExecutionState, Method, Rejection, SimTime, WaiterId, http_status,
};

fn t(secs: u64) -> SimTime {
    SimTime::from_secs(secs)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn name() -> ExecutionName {
    ExecutionName {
        base_url: "http://localhost:8080".into(),
        project: "p".into(),
        location: "l".into(),
        workflow: "w".into(),
        execution_id: "e".into(),
    }
}

/// An execution with one endpoint per method given, created at t = 0.
fn setup(methods: &[Method]) -> (Callbacks, Vec<String>) {
    let mut cbs = Callbacks::new(name(), 0);
    let ids = methods
        .iter()
        .map(|&m| {
            let idx = cbs.create_endpoint(t(0), m).unwrap();
            cbs.endpoint(idx).unwrap().callback_id().to_owned()
        })
        .collect();
    (cbs, ids)
}

fn req(method: &str, body: &str) -> CallbackRequest {
    CallbackRequest {
        method: method.into(),
        body: body.as_bytes().to_vec(),
        ..CallbackRequest::default()
    }
}

fn send(cbs: &mut Callbacks, at: u64, id: &str, method: &str, body: &str) -> u16 {
    http_status(&cbs.deliver(t(at), id, Auth::Granted, req(method, body)))
}

fn body_of(outcome: AwaitOutcome) -> String {
    match outcome {
        AwaitOutcome::Ready(r) => String::from_utf8(r.request.body).unwrap(),
        AwaitOutcome::Blocked(w) => panic!("await blocked as {w:?}"),
    }
}

const EP0: EndpointIdx = EndpointIdx(0);

#[test]
fn spec_3_worked_example() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    let id = &ids[0];
    assert_eq!(send(&mut cbs, 1, id, "POST", "A"), 200);
    assert_eq!(send(&mut cbs, 2, id, "POST", "B"), 429);
    assert_eq!(
        body_of(cbs.await_callback(t(3), EP0, secs(60)).unwrap()),
        "A"
    );
    assert_eq!(send(&mut cbs, 4, id, "POST", "C"), 200);
    let ended = cbs.finish(t(5), ExecutionState::Succeeded).unwrap();
    assert_eq!(ended.dropped.len(), 1);
    assert_eq!(ended.dropped[0].1.request.body, b"C");
    assert_eq!(send(&mut cbs, 6, id, "POST", "D"), 404);
    let counts = cbs.endpoint(EP0).unwrap().counts();
    assert_eq!((counts.accepted, counts.taken, counts.dropped), (2, 1, 1));
    // The clock is the latest input's instant.
    assert_eq!(cbs.now(), t(6));
}

#[test]
fn cb_1_url_and_request_before_await() {
    let (mut cbs, ids) = setup(&[Method::Get]);
    let ep = cbs.endpoint(EP0).unwrap();
    assert_eq!(
        ep.url(),
        format!(
            "http://localhost:8080/v1/projects/p/locations/l/workflows/w/executions/e/callbacks/{}",
            ids[0]
        )
    );
    assert_eq!(ep.method(), Method::Get);
    assert_eq!(ep.created_at(), t(0));
    // Accepted from the moment it exists, before any await.
    assert_eq!(send(&mut cbs, 0, &ids[0], "GET", "early"), 200);
    assert_eq!(cbs.endpoint(EP0).unwrap().buffered().unwrap().at, t(0));
    assert_eq!(cbs.endpoint_by_callback_id(&ids[0]), Some(EP0));
    assert_eq!(cbs.endpoint_by_callback_id("nope"), None);
}

#[test]
fn cb_5_buffered_request_is_taken_at_once() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    assert_eq!(send(&mut cbs, 1, &ids[0], "POST", "A"), 200);
    let out = cbs.await_callback(t(9), EP0, secs(60)).unwrap();
    match &out {
        AwaitOutcome::Ready(r) => assert_eq!(r.at, t(1), "received_time is the arrival"),
        other => panic!("{other:?}"),
    }
    // The slot is free again: one more request is stored, the next refused.
    assert_eq!(send(&mut cbs, 9, &ids[0], "POST", "B"), 200);
    assert_eq!(send(&mut cbs, 9, &ids[0], "POST", "C"), 429);
    assert_eq!(
        cbs.poll_timeout(),
        None,
        "a satisfied await leaves no timer"
    );
}

#[test]
fn cb_6_blocked_await_is_handed_the_request() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    let AwaitOutcome::Blocked(w) = cbs.await_callback(t(0), EP0, secs(60)).unwrap() else {
        panic!("no request yet")
    };
    assert_eq!(cbs.poll_timeout(), Some(t(60)));
    assert_eq!(
        cbs.deliver(t(7), &ids[0], Auth::Granted, req("POST", "A")),
        Ok(Accepted::Taken(w))
    );
    match cbs.poll_event() {
        Some(Event::Resumed {
            waiter,
            endpoint,
            received,
        }) => {
            assert_eq!((waiter, endpoint, received.at), (w, EP0, t(7)));
            assert_eq!(received.request.body, b"A");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(cbs.poll_event(), None);
    assert_eq!(cbs.poll_timeout(), None);
    // Taken, not stored: the slot is still free.
    assert_eq!(send(&mut cbs, 8, &ids[0], "POST", "B"), 200);
}

#[test]
fn cb_6_timeout_fires_at_the_deadline() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    let AwaitOutcome::Blocked(w) = cbs.await_callback(t(2), EP0, secs(60)).unwrap() else {
        panic!()
    };
    cbs.handle_timeout(t(61));
    assert_eq!(cbs.poll_event(), None, "not yet at 61");
    cbs.handle_timeout(t(62));
    assert_eq!(
        cbs.poll_event(),
        Some(Event::TimedOut {
            waiter: w,
            endpoint: EP0,
            at: t(62),
            timeout: secs(60)
        })
    );
    assert_eq!(cbs.endpoint(EP0).unwrap().waiters().len(), 0);
    // With no waiter left, a request is stored, not handed to the timed-out await.
    assert_eq!(
        cbs.deliver(t(63), &ids[0], Auth::Granted, req("POST", "late")),
        Ok(Accepted::Buffered)
    );
}

#[test]
fn cb_6_request_at_the_deadline_is_taken() {
    // SPEC: at one instant, requests are handled before timers.
    let (mut cbs, ids) = setup(&[Method::Post]);
    let AwaitOutcome::Blocked(w) = cbs.await_callback(t(0), EP0, secs(5)).unwrap() else {
        panic!()
    };
    cbs.advance(t(5));
    assert_eq!(
        cbs.poll_event(),
        None,
        "advance leaves the deadline of `now` alone"
    );
    assert_eq!(
        cbs.deliver(t(5), &ids[0], Auth::Granted, req("POST", "just in time")),
        Ok(Accepted::Taken(w))
    );
}

#[test]
fn cb_6_late_host_still_gets_timeouts_first() {
    // A host that never called handle_timeout: the request after the deadline is stored,
    // and the timeout is reported at its own instant, before anything else.
    let (mut cbs, ids) = setup(&[Method::Post]);
    let AwaitOutcome::Blocked(w) = cbs.await_callback(t(0), EP0, secs(5)).unwrap() else {
        panic!()
    };
    assert_eq!(
        cbs.deliver(t(6), &ids[0], Auth::Granted, req("POST", "A")),
        Ok(Accepted::Buffered)
    );
    assert!(matches!(
        cbs.poll_event(),
        Some(Event::TimedOut { waiter, at, .. }) if waiter == w && at == t(5)
    ));
}

#[test]
fn cb_6_zero_timeout_waits_only_for_its_instant() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    assert!(matches!(
        cbs.await_callback(t(3), EP0, Duration::ZERO),
        Ok(AwaitOutcome::Blocked(_))
    ));
    assert_eq!(cbs.poll_timeout(), Some(t(3)));
    cbs.handle_timeout(t(3));
    assert!(matches!(cbs.poll_event(), Some(Event::TimedOut { at, .. }) if at == t(3)));
    assert_eq!(send(&mut cbs, 3, &ids[0], "POST", "A"), 200);
    assert!(cbs.endpoint(EP0).unwrap().buffered().is_some());
}

#[test]
fn cb_4_default_timeout_is_twelve_hours_and_saturates() {
    assert_eq!(AWAIT_TIMEOUT_DEFAULT, secs(43_200));
    let (mut cbs, _) = setup(&[Method::Post]);
    cbs.await_callback(t(0), EP0, AWAIT_TIMEOUT_DEFAULT)
        .unwrap();
    assert_eq!(cbs.poll_timeout(), Some(t(43_200)));
    cbs.await_callback(t(1), EP0, Duration::MAX).unwrap();
    cbs.handle_timeout(t(43_200));
    assert!(matches!(cbs.poll_event(), Some(Event::TimedOut { .. })));
    assert_eq!(cbs.poll_timeout(), Some(SimTime::MAX));
}

#[test]
fn cb_9_refusals_change_nothing() {
    let (mut cbs, ids) = setup(&[Method::Get, Method::Post]);
    assert_eq!(send(&mut cbs, 1, &ids[0], "GET", "A"), 200);
    let big = "x".repeat(BODY_BYTES_MAX + 1);
    let before = cbs.clone();
    let refusals = [
        (ids[0].as_str(), Auth::Granted, req("GET", "B"), 429),
        (ids[0].as_str(), Auth::Granted, req("POST", "B"), 405),
        (ids[0].as_str(), Auth::Unauthenticated, req("GET", "B"), 401),
        (
            ids[0].as_str(),
            Auth::PermissionDenied,
            req("GET", "B"),
            403,
        ),
        (ids[1].as_str(), Auth::Granted, req("POST", &big), 413),
        ("unknown", Auth::Granted, req("GET", "B"), 404),
    ];
    for (id, auth, request, status) in refusals {
        let got = cbs.deliver(t(1), id, auth, request);
        assert_eq!(http_status(&got), status, "{got:?}");
        assert_eq!(cbs, before, "a {status} changed the state");
    }
}

#[test]
fn cb_10_conservation_through_a_busy_life() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    for i in 0..5 {
        send(&mut cbs, i, &ids[0], "POST", "x");
        if i % 2 == 0 {
            cbs.await_callback(t(i), EP0, secs(1)).unwrap();
        }
    }
    let ended = cbs.finish(t(9), ExecutionState::Failed).unwrap();
    let c = cbs.endpoint(EP0).unwrap().counts();
    assert_eq!(c.accepted, c.taken + c.dropped);
    assert_eq!(c.dropped, ended.dropped.len() as u64);
    assert!(c.accepted >= 3);
}

#[test]
fn cb_11_end_drops_abandons_and_refuses() {
    let (mut cbs, ids) = setup(&[Method::Get, Method::Post]);
    assert_eq!(send(&mut cbs, 1, &ids[0], "GET", "kept"), 200);
    let AwaitOutcome::Blocked(w) = cbs.await_callback(t(1), EndpointIdx(1), secs(9)).unwrap()
    else {
        panic!()
    };
    let ended = cbs.finish(t(2), ExecutionState::Cancelled).unwrap();
    assert_eq!(ended.abandoned, vec![w]);
    assert_eq!(ended.dropped.len(), 1);
    assert_eq!(cbs.state(), ExecutionState::Cancelled);
    assert_eq!(cbs.poll_timeout(), None, "abandoned awaits never time out");
    assert_eq!(cbs.finish(t(3), ExecutionState::Failed), None, "ends once");
    assert_eq!(cbs.state(), ExecutionState::Cancelled);
    assert_eq!(
        cbs.deliver(t(3), &ids[1], Auth::Granted, req("POST", "x")),
        Err(Rejection::ExecutionEnded {
            state: ExecutionState::Cancelled
        })
    );
    // 404 comes first: even a bad token or a wrong method is "not found" after the end.
    assert_eq!(
        http_status(&cbs.deliver(t(3), &ids[1], Auth::Unauthenticated, req("GET", ""))),
        404
    );
    assert_eq!(cbs.create_endpoint(t(3), Method::Get), None);
    assert_eq!(
        cbs.await_callback(t(3), EP0, secs(1)),
        Err(AwaitError::NotActive)
    );
}

#[test]
fn cb_12_parallel_waiters_in_await_order() {
    // The guide's ten branches: ten waiters, ten requests taken, the 11th stored, the 12th
    // refused.
    let (mut cbs, ids) = setup(&[Method::Post]);
    let waiters: Vec<WaiterId> = (0..10)
        .map(
            |i| match cbs.await_callback(t(0), EP0, secs(100 - i)).unwrap() {
                AwaitOutcome::Blocked(w) => w,
                other => panic!("{other:?}"),
            },
        )
        .collect();
    for (i, w) in waiters.iter().enumerate() {
        assert_eq!(
            cbs.deliver(t(1), &ids[0], Auth::Granted, req("POST", &i.to_string())),
            Ok(Accepted::Taken(*w)),
            "request {i} goes to the {i}th await to start"
        );
    }
    assert_eq!(send(&mut cbs, 1, &ids[0], "POST", "11th"), 200);
    assert_eq!(send(&mut cbs, 1, &ids[0], "POST", "12th"), 429);
    let resumed: Vec<WaiterId> = std::iter::from_fn(|| cbs.poll_event())
        .map(|e| match e {
            Event::Resumed { waiter, .. } => waiter,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(resumed, waiters);
}

#[test]
fn cb_12_timeouts_tie_in_await_order() {
    let (mut cbs, _) = setup(&[Method::Post, Method::Get]);
    let a = cbs.await_callback(t(0), EndpointIdx(1), secs(5)).unwrap();
    let b = cbs.await_callback(t(0), EP0, secs(5)).unwrap();
    let c = cbs.await_callback(t(0), EP0, secs(4)).unwrap();
    cbs.handle_timeout(t(10));
    let order: Vec<AwaitOutcome> = std::iter::from_fn(|| cbs.poll_event())
        .map(|e| match e {
            Event::TimedOut { waiter, .. } => AwaitOutcome::Blocked(waiter),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(order, vec![c, a, b]);
}

#[test]
fn spec_3_step_order() {
    let (mut cbs, ids) = setup(&[Method::Get]);
    let big = "x".repeat(BODY_BYTES_MAX + 1);
    // 401 before 405 before 413.
    let bad_everything = cbs.deliver(t(0), &ids[0], Auth::Unauthenticated, req("POST", &big));
    assert_eq!(bad_everything, Err(Rejection::Unauthenticated));
    let denied = cbs.deliver(t(0), &ids[0], Auth::PermissionDenied, req("POST", &big));
    assert_eq!(denied, Err(Rejection::PermissionDenied));
    let wrong = cbs.deliver(t(0), &ids[0], Auth::Granted, req("POST", &big));
    assert_eq!(
        wrong,
        Err(Rejection::MethodNotAllowed {
            allow: Method::Get,
            got: "POST".into()
        })
    );
    let at_limit = "x".repeat(BODY_BYTES_MAX);
    assert_eq!(send(&mut cbs, 0, &ids[0], "GET", &at_limit), 200);
    assert_eq!(
        cbs.deliver(t(0), &ids[0], Auth::Granted, req("GET", &big)),
        Err(Rejection::PayloadTooLarge {
            body_bytes: BODY_BYTES_MAX + 1
        })
    );
}

#[test]
fn cb_13_statuses_and_messages() {
    let cases = [
        (
            Rejection::ExecutionEnded {
                state: ExecutionState::Succeeded,
            },
            404,
            "NOT_FOUND",
            "SUCCEEDED",
        ),
        (
            Rejection::NoSuchEndpoint {
                callback_id: "abc".into(),
            },
            404,
            "NOT_FOUND",
            "'abc'",
        ),
        (Rejection::Unauthenticated, 401, "UNAUTHENTICATED", "Bearer"),
        (
            Rejection::PermissionDenied,
            403,
            "PERMISSION_DENIED",
            "workflows.callbacks.send",
        ),
        (
            Rejection::MethodNotAllowed {
                allow: Method::Get,
                got: "PUT".into(),
            },
            405,
            "FAILED_PRECONDITION",
            "accepts GET requests, not PUT",
        ),
        (
            Rejection::PayloadTooLarge {
                body_bytes: 600_000,
            },
            413,
            "INVALID_ARGUMENT",
            "600000 bytes",
        ),
        (Rejection::SlotFull, 429, "RESOURCE_EXHAUSTED", "retry"),
    ];
    for (rejection, status, google, says) in cases {
        assert_eq!(rejection.http_status(), status);
        assert_eq!(rejection.google_status(), google);
        let message = rejection.to_string();
        assert!(
            message.contains(says),
            "{message:?} should mention {says:?}"
        );
    }
}

#[test]
fn time_never_goes_backwards() {
    let res = std::panic::catch_unwind(|| {
        let (mut cbs, _) = setup(&[Method::Get]);
        cbs.advance(t(5));
        cbs.advance(t(4));
    });
    assert!(
        res.is_err(),
        "an input in the past is a host bug and must not pass silently"
    );
}

#[test]
fn cb_12_abandoned_await_leaves_the_queue() {
    let (mut cbs, ids) = setup(&[Method::Post]);
    let AwaitOutcome::Blocked(first) = cbs.await_callback(t(0), EP0, secs(9)).unwrap() else {
        panic!()
    };
    let AwaitOutcome::Blocked(second) = cbs.await_callback(t(0), EP0, secs(9)).unwrap() else {
        panic!()
    };
    assert!(cbs.abandon_await(t(1), first));
    assert!(!cbs.abandon_await(t(1), first), "only once");
    assert_eq!(
        cbs.deliver(t(2), &ids[0], Auth::Granted, req("POST", "A")),
        Ok(Accepted::Taken(second))
    );
    assert_eq!(cbs.poll_timeout(), None);
}

#[test]
fn cb_12_many_abandoned_at_once_leave_their_queues() {
    let (mut cbs, ids) = setup(&[Method::Post, Method::Post]);
    let ep1 = EndpointIdx(1);
    let block = |cbs: &mut Callbacks, ep| match cbs.await_callback(t(0), ep, secs(9)).unwrap() {
        AwaitOutcome::Blocked(w) => w,
        other => panic!("{other:?}"),
    };
    let (a, b, c, d) = (
        block(&mut cbs, EP0),
        block(&mut cbs, EP0),
        block(&mut cbs, EP0),
        block(&mut cbs, ep1),
    );
    // a and c from the first queue, d from the second; b stays.
    let gone = std::collections::BTreeSet::from([a, c, d]);
    assert_eq!(cbs.abandon_awaits(t(1), &gone), 3);
    assert_eq!(cbs.abandon_awaits(t(1), &gone), 0, "only once");
    assert_eq!(
        cbs.endpoint(EP0).unwrap().waiters().collect::<Vec<_>>(),
        [b]
    );
    assert_eq!(
        cbs.deliver(t(2), &ids[0], Auth::Granted, req("POST", "A")),
        Ok(Accepted::Taken(b))
    );
    // Nobody waits on the second endpoint now: its request is stored.
    assert_eq!(
        cbs.deliver(t(2), &ids[1], Auth::Granted, req("POST", "B")),
        Ok(Accepted::Buffered)
    );
    assert_eq!(cbs.poll_timeout(), None);
}

/// A deliberate defect (test-only, `wfsim serve --defect`) breaks its rule once set: with
/// `slot-overwrite` a request to a full slot is taken (200) instead of refused (§3 step 7),
/// and the endpoint counts it accepted and the one it replaced dropped.
#[test]
fn a_defect_set_breaks_its_rule() {
    for (defect, second, counted) in [
        (None, 429, (1, 0)),
        (Some(Defect::SlotOverwrite), 200, (2, 1)),
    ] {
        let (mut cbs, ids) = setup(&[Method::Post]);
        cbs.set_defect(defect);
        assert_eq!(send(&mut cbs, 1, &ids[0], "POST", "A"), 200);
        assert_eq!(
            send(&mut cbs, 2, &ids[0], "POST", "B"),
            second,
            "{defect:?}"
        );
        let counts = cbs.endpoint(EP0).unwrap().counts();
        assert_eq!((counts.accepted, counts.dropped), counted, "{defect:?}");
    }
}
