//! EX-8: step entries, the execution's history as the Executions API lists it: one entry
//! per step begun and per sub-entry (iteration, condition, attempt, except, branch), with
//! its type, state, times and navigation.

mod common;

use common::{exec_config, start_with};
use wfsim_engine::SimTime;
use wfsim_engine::interp::{EntryState, Execution, ExecutionConfig, StepEntry};

fn recorded() -> ExecutionConfig {
    ExecutionConfig {
        step_entries: true,
        ..exec_config()
    }
}

/// Each entry as one line: `id routine.step TYPE STATE parent^ prev< next> [children]`,
/// with its progress and thread when it has them.
fn lines(entries: &[StepEntry]) -> Vec<String> {
    let opt = |o: Option<u64>| o.map_or("-".to_owned(), |n| n.to_string());
    entries
        .iter()
        .map(|e| {
            let mut s = format!(
                "{} {}.{} {} {} ^{} <{} >{} {:?}",
                e.id,
                e.routine,
                e.step,
                e.step_type.as_str(),
                e.state.as_str(),
                opt(e.parent),
                opt(e.previous),
                opt(e.next),
                e.children,
            );
            if let Some((p, n)) = e.progress {
                s += &format!(" {}#{n}", p.as_str());
            }
            if let Some(x) = e.expected_iteration {
                s += &format!("/{x}");
            }
            if let Some(t) = e.thread {
                s += &format!(" thread {t}");
            }
            s
        })
        .collect()
}

fn run(yaml: &str) -> Execution {
    let mut ex = start_with(yaml, recorded());
    // Each instant in turn, so that every entry ends at its own.
    while let Some(t) = ex.poll_timeout().filter(|&t| t <= SimTime::from_secs(100)) {
        ex.handle_timeout(t);
    }
    ex
}

#[test]
fn nothing_is_recorded_unless_asked() {
    let ex = start_with("- a:\n    assign: [{x: 1}]\n", exec_config());
    assert!(ex.step_entries().is_empty());
    assert_eq!(ex.step_entries_count(), (0, 0));
}

#[test]
fn ex_8_steps_subworkflows_loops_and_switches_nest_as_the_api_navigates_them() {
    let ex = run(r#"
main:
  steps:
    - init:
        assign: [{total: 0}]
    - loop:
        for:
          value: v
          in: [1, 2]
          steps:
            - add:
                call: plus
                args:
                  a: ${total}
                  b: ${v}
                result: total
    - pick:
        switch:
          - condition: ${total > 5}
            next: done
          - condition: ${total == 3}
            steps:
              - say:
                  call: sys.log
                  args: {text: "three"}
    - done:
        return: ${total}
plus:
  params: [a, b]
  steps:
    - sum:
        return: ${a + b}
"#);
    assert_eq!(
        lines(&ex.step_entries()),
        [
            "1 main.init STEP_ASSIGN STATE_SUCCEEDED ^- <- >2 []",
            "2 main.loop STEP_FOR STATE_SUCCEEDED ^- <1 >9 [3, 6]",
            "3 main.loop STEP_FOR_ITERATION STATE_SUCCEEDED ^2 <- >6 [4] PROGRESS_TYPE_FOR#1/2",
            "4 main.add STEP_SUBWORKFLOW_CALL STATE_SUCCEEDED ^3 <- >- [5]",
            "5 plus.sum STEP_RETURN STATE_SUCCEEDED ^4 <- >- []",
            "6 main.loop STEP_FOR_ITERATION STATE_SUCCEEDED ^2 <3 >- [7] PROGRESS_TYPE_FOR#2/2",
            "7 main.add STEP_SUBWORKFLOW_CALL STATE_SUCCEEDED ^6 <- >- [8]",
            "8 plus.sum STEP_RETURN STATE_SUCCEEDED ^7 <- >- []",
            "9 main.pick STEP_SWITCH STATE_SUCCEEDED ^- <2 >12 [10]",
            "10 main.pick STEP_CONDITION STATE_SUCCEEDED ^9 <- >- [11] PROGRESS_TYPE_SWITCH#2",
            "11 main.say STEP_STD_LIB_CALL STATE_SUCCEEDED ^10 <- >- []",
            "12 main.done STEP_RETURN STATE_SUCCEEDED ^- <9 >- []",
        ]
    );
    assert_eq!(ex.step_entries_count(), (12, 0));
}

#[test]
fn a_failed_step_fails_its_enclosing_entries_with_the_error_and_a_retry_is_an_entry() {
    let ex = run(r#"
- t:
    try:
      steps:
        - boom:
            raise: {message: "no", tags: ["ValueError"]}
    retry:
      predicate: ${retry.always}
      max_retries: 1
      backoff: {initial_delay: 2, max_delay: 2, multiplier: 1}
    except:
      as: e
      steps:
        - again:
            raise: ${e}
"#);
    let entries = ex.step_entries();
    assert_eq!(
        lines(&entries),
        [
            "1 main.t STEP_TRY_RETRY_EXCEPT STATE_FAILED ^- <- >- [2, 4, 6]",
            "2 main.t STEP_TRY STATE_FAILED ^1 <- >4 [3]",
            "3 main.boom STEP_RAISE STATE_FAILED ^2 <- >- []",
            "4 main.t STEP_RETRY STATE_FAILED ^1 <2 >6 [5] PROGRESS_TYPE_RETRY#1",
            "5 main.boom STEP_RAISE STATE_FAILED ^4 <- >- []",
            "6 main.t STEP_EXCEPT STATE_FAILED ^1 <4 >- [7]",
            "7 main.again STEP_RAISE STATE_FAILED ^6 <- >- []",
        ]
    );
    let error = entries[2].exception.as_ref().expect("the raised value");
    assert_eq!(wfsim_engine::error::message(error).as_deref(), Some("no"));
    // The retry began after the back-off: its entry was created 2 s in.
    assert_eq!(entries[3].created, SimTime::from_secs(2));
    assert_eq!(entries[0].updated, SimTime::from_secs(2));
    assert!(entries.iter().all(|e| e.state == EntryState::Failed));
}

#[test]
fn a_step_in_progress_shows_so_and_a_cancel_cancels_it() {
    let mut ex = start_with(
        "- first:\n    assign: [{x: 1}]\n- nap:\n    call: sys.sleep\n    args: {seconds: 10}\n- after:\n    return: 1\n",
        recorded(),
    );
    ex.settle(SimTime::from_secs(3)).unwrap();
    let e = &ex.step_entries()[1];
    assert_eq!(
        (e.state, e.created, e.updated),
        (EntryState::InProgress, SimTime::ZERO, SimTime::ZERO)
    );
    ex.cancel(SimTime::from_secs(4));
    let entries = ex.step_entries();
    assert_eq!(
        (entries[1].state, entries[1].updated),
        (EntryState::Cancelled, SimTime::from_secs(4))
    );
    assert_eq!(
        (entries[0].state, entries[0].updated),
        (EntryState::Succeeded, SimTime::ZERO),
        "an ended entry stays as it ended"
    );
}

/// EX-5: an execution that fails with no step raising fails the entries still open.
#[test]
fn the_year_limit_fails_the_open_entries() {
    let mut ex = start_with(
        "- nap:\n    call: sys.sleep\n    args: {seconds: 40000000}\n",
        recorded(),
    );
    let year = SimTime::from_secs(wfsim_engine::interp::EXECUTION_SECS_MAX);
    ex.handle_timeout(year);
    assert_eq!(ex.state(), wfsim_engine::ExecutionState::Failed);
    let e = &ex.step_entries()[0];
    assert_eq!(e.updated, year);
    assert_eq!(e.state, EntryState::Failed);
    assert_eq!(e.exception, None, "no step raised");
}

#[test]
fn a_connector_call_is_its_own_type_and_enums_number_as_the_api() {
    use wfsim_engine::interp::{ProgressType, StepType};
    let ex = run(
        "- get:\n    call: googleapis.storage.v1.objects.get\n    args: {bucket: b, object: o}\n",
    );
    assert_eq!(
        lines(&ex.step_entries()),
        ["1 main.get STEP_CONNECTOR_CALL STATE_IN_PROGRESS ^- <- >- []"]
    );
    let numbers: Vec<u32> = EntryState::ALL.iter().map(|s| s.number()).collect();
    assert_eq!(numbers, [1, 2, 3, 4], "STATE_UNSPECIFIED is 0");
    assert_eq!(ProgressType::For.number(), 1);
    assert_eq!(ProgressType::ParallelBranch.number(), 5);
    assert_eq!(StepType::ALL[2], StepType::StdLibCall);
}

/// `wfsim run --json --step-entries`: the report has the entries as the API renders them
/// (less their resource name), and only when the run kept them.
#[test]
fn the_report_renders_entries_as_the_api_does() {
    use std::rc::Rc;
    use wfsim_harness::report;
    use wfsim_harness::runner::{self, RunConfig};
    let yaml = "- loop:\n    for:\n      value: v\n      in: [1]\n      steps:\n        - bad:\n            raise: {message: no}\n";
    let wf = Rc::new(wfsim_engine::defn::load("w.yaml", yaml).unwrap());
    let plain = runner::run(Rc::clone(&wf), "w", &RunConfig::default(), &[]);
    assert!(report::to_json(&plain, &[]).get("step_entries").is_none());
    let config = RunConfig {
        step_entries: true,
        ..RunConfig::default()
    };
    let kept = runner::run(wf, "w", &config, &[]);
    let json = report::to_json(&kept, &[]);
    assert_eq!(json["step_entries_dropped"], 0);
    let payload = r#"{"message":"no"}"#;
    assert_eq!(
        json["step_entries"],
        serde_json::json!([
            {
                "entryId": "1",
                "createTime": "2024-01-01T00:00:00.000000000Z",
                "updateTime": "2024-01-01T00:00:00.000000000Z",
                "routine": "main",
                "step": "loop",
                "stepType": "STEP_FOR",
                "state": "STATE_FAILED",
                "exception": {"payload": payload},
                "navigationInfo": {"children": ["2"]},
                "stepEntryMetadata": {},
            },
            {
                "entryId": "2",
                "createTime": "2024-01-01T00:00:00.000000000Z",
                "updateTime": "2024-01-01T00:00:00.000000000Z",
                "routine": "main",
                "step": "loop",
                "stepType": "STEP_FOR_ITERATION",
                "state": "STATE_FAILED",
                "exception": {"payload": payload},
                "navigationInfo": {"children": ["3"], "parent": "1"},
                "stepEntryMetadata": {
                    "progressType": "PROGRESS_TYPE_FOR",
                    "progressNumber": "1",
                    "expectedIteration": "1",
                },
            },
            {
                "entryId": "3",
                "createTime": "2024-01-01T00:00:00.000000000Z",
                "updateTime": "2024-01-01T00:00:00.000000000Z",
                "routine": "main",
                "step": "bad",
                "stepType": "STEP_RAISE",
                "state": "STATE_FAILED",
                "exception": {"payload": payload},
                "navigationInfo": {"parent": "2"},
                "stepEntryMetadata": {},
            },
        ])
    );
}

#[test]
fn parallel_branches_and_iterations_are_entries_of_their_threads() {
    let ex = run(r#"
- par:
    parallel:
      branches:
        - left:
            steps:
              - l1:
                  assign: [{a: 1}]
        - right:
            steps:
              - r1:
                  assign: [{b: 1}]
- each:
    parallel:
      for:
        value: v
        in: [1]
        steps:
          - one:
              assign: [{c: 1}]
"#);
    // Seed 0's scheduler runs the right branch's step first.
    assert_eq!(
        lines(&ex.step_entries()),
        [
            "1 main.par STEP_PARALLEL_BRANCH STATE_SUCCEEDED ^- <- >6 [2, 3]",
            "2 main.left STEP_PARALLEL_BRANCH_ENTRY STATE_SUCCEEDED ^1 <- >3 [5] PROGRESS_TYPE_PARALLEL_BRANCH#1 thread 1",
            "3 main.right STEP_PARALLEL_BRANCH_ENTRY STATE_SUCCEEDED ^1 <2 >- [4] PROGRESS_TYPE_PARALLEL_BRANCH#2 thread 2",
            "4 main.r1 STEP_ASSIGN STATE_SUCCEEDED ^3 <- >- [] thread 2",
            "5 main.l1 STEP_ASSIGN STATE_SUCCEEDED ^2 <- >- [] thread 1",
            "6 main.each STEP_PARALLEL_FOR STATE_SUCCEEDED ^- <1 >- [7]",
            "7 main.each STEP_FOR_ITERATION STATE_SUCCEEDED ^6 <- >- [8] PROGRESS_TYPE_PARALLEL_FOR#1/1 thread 3",
            "8 main.one STEP_ASSIGN STATE_SUCCEEDED ^7 <- >- [] thread 3",
        ]
    );
}

#[test]
fn stopped_branches_are_cancelled_and_jumps_are_goto_steps() {
    let ex = run(r#"
- par:
    parallel:
      branches:
        - fails:
            steps:
              - bad:
                  raise: "x"
        - sleeps:
            steps:
              - nap:
                  call: sys.sleep
                  args: {seconds: 50}
"#);
    let entries = ex.step_entries();
    let nap = entries.iter().find(|e| e.step == "nap").expect("nap began");
    assert_eq!(nap.state, EntryState::Cancelled);
    let par = &entries[0];
    assert_eq!(par.state, EntryState::Failed);
    let jump = run("- a:\n    next: b\n- b:\n    return: 1\n");
    assert_eq!(
        lines(&jump.step_entries())[0],
        "1 main.a STEP_GOTO STATE_SUCCEEDED ^- <- >2 []"
    );
}

/// The cap: entries past [`STEP_ENTRIES_MAX`] are counted, not kept; those kept still end.
#[test]
fn entries_past_the_cap_are_counted_not_kept() {
    use wfsim_engine::interp::STEP_ENTRIES_MAX;
    let ex = run(
        "- loop:\n    for:\n      value: v\n      range: [1, 60000]\n      steps:\n        - a:\n            assign: [{x: 1}]\n",
    );
    // The loop, then an iteration and a step for each value.
    let all = 1 + 2 * 60_000;
    assert_eq!(
        ex.step_entries_count(),
        (STEP_ENTRIES_MAX, (all - STEP_ENTRIES_MAX) as u64)
    );
    let entries = ex.step_entries();
    assert_eq!(
        entries[0].state,
        EntryState::Succeeded,
        "the loop's entry ended"
    );
    assert_eq!(entries.last().map(|e| e.id), Some(STEP_ENTRIES_MAX as u64));
}

fn detailed() -> ExecutionConfig {
    ExecutionConfig {
        step_variables: true,
        ..recorded()
    }
}

/// Entry `id`'s variables as `name=value` in name order; `None` when it has none.
fn vars(ex: &Execution, id: u64) -> Option<Vec<String>> {
    let shown =
        |(k, v): &(String, wfsim_engine::Value)| format!("{k}={}", wfsim_engine::value::show(v));
    ex.step_variables(id)
        .map(|vs| vs.iter().map(shown).collect())
}

/// EX-8's `variableData`: with a DETAILED history each entry keeps the variables in scope
/// as of its last update: what a step left when it ended, what it began with while in
/// progress or when stopped; a loop's own variables are in its iterations' entries, not
/// in the loop's (their scope ended with it); a branch sees its parent's variables and
/// the shared ones as they are; a subworkflow's steps see its own.
#[test]
fn ex_8_detailed_entries_keep_the_variables_in_scope() {
    let yaml = r#"
main:
  steps:
    - init:
        assign:
          - total: 0
    - loop:
        for:
          value: v
          in: [1, 2]
          steps:
            - add:
                assign:
                  - total: ${total + v}
    - both:
        parallel:
          shared: [total]
          branches:
            - b1:
                steps:
                  - own:
                      assign:
                        - mine: 1
                        - total: ${total + 10}
            - b2:
                steps:
                  - nap:
                      call: sys.sleep
                      args: {seconds: 1000}
    - sub:
        call: twice
        args: {n: "${total}"}
        result: r
twice:
  params: [n]
  steps:
    - ret:
        return: ${n * 2}
"#;
    let mut ex = start_with(yaml, detailed());
    ex.handle_timeout(SimTime::from_secs(5));
    let at = |ex: &Execution, step: &str, n: usize| {
        let e = ex
            .step_entries()
            .into_iter()
            .filter(|e| e.step == step)
            .nth(n)
            .unwrap();
        vars(ex, e.id)
    };
    assert_eq!(at(&ex, "init", 0).unwrap(), ["total=0"]);
    assert_eq!(
        at(&ex, "loop", 0).unwrap(),
        ["total=3"],
        "the loop's scope ended"
    );
    assert_eq!(
        at(&ex, "loop", 1).unwrap(),
        ["total=1", "v=1"],
        "its first iteration"
    );
    assert_eq!(at(&ex, "add", 1).unwrap(), ["total=3", "v=2"]);
    assert_eq!(at(&ex, "own", 0).unwrap(), ["mine=1", "total=13"]);
    assert_eq!(
        at(&ex, "nap", 0).unwrap(),
        ["total=3"],
        "in progress: as it began, the other branch's write not yet made"
    );
    assert!(
        ex.step_entries().iter().all(|e| e.step != "ret"),
        "still asleep"
    );
    ex.cancel(SimTime::from_secs(6));
    let nap = ex
        .step_entries()
        .into_iter()
        .find(|e| e.step == "nap")
        .unwrap();
    assert_eq!(nap.state, EntryState::Cancelled);
    assert_eq!(
        vars(&ex, nap.id).unwrap(),
        ["total=3"],
        "stopped: as it began"
    );
    assert_eq!(ex.step_variables_dropped(), 0);
    assert_eq!(ex.step_variables(0), None, "ids count from 1");
    assert_eq!(ex.step_variables(999), None);

    let basic = run(yaml);
    assert!(!basic.records_step_variables());
    assert_eq!(vars(&basic, 1), None, "a BASIC history keeps none");
    let sub = run(&yaml.replace("seconds: 1000", "seconds: 1"));
    let ret = sub
        .step_entries()
        .into_iter()
        .find(|e| e.step == "ret")
        .unwrap();
    assert_eq!(vars(&sub, ret.id), None, "BASIC");
    let mut sub = start_with(&yaml.replace("seconds: 1000", "seconds: 1"), detailed());
    sub.handle_timeout(SimTime::from_secs(1));
    let ret = sub
        .step_entries()
        .into_iter()
        .find(|e| e.step == "ret")
        .unwrap();
    assert_eq!(
        vars(&sub, ret.id).unwrap(),
        ["n=13"],
        "the subworkflow's own"
    );
}

/// The budget: variable data past [`STEP_VARIABLES_BYTES_MAX`] (counted as a value's
/// size) is left out, entry by entry, and counted; what is kept stays within it, and the
/// execution runs on.
#[test]
fn variable_data_past_its_budget_is_left_out_and_counted() {
    use wfsim_engine::interp::STEP_VARIABLES_BYTES_MAX;
    // A 256 KiB string, then 300 iterations each of whose entries would keep it.
    let ex = start_with(
        r#"
- init:
    assign: [{big: "xxxxxxxx"}]
- grow:
    for:
      value: i
      range: [1, 15]
      steps:
        - double:
            assign: [{big: "${big + big}"}]
- spin:
    for:
      value: i
      range: [1, 300]
      steps:
        - touch:
            assign: [{n: "${i}"}]
- done:
    return: ${len(big)}
"#,
        detailed(),
    );
    assert_eq!(
        ex.outcome(),
        Some(&wfsim_engine::interp::Outcome::Succeeded(
            wfsim_engine::Value::Int(262_144)
        ))
    );
    let entries = ex.step_entries();
    let kept: Vec<u64> = entries
        .iter()
        .map(|e| e.id)
        .filter(|&id| ex.step_variables(id).is_some())
        .collect();
    let dropped = ex.step_variables_dropped();
    assert!(dropped > 0, "over budget");
    assert_eq!(kept.len() as u64 + dropped, entries.len() as u64);
    let bytes: usize = kept
        .iter()
        .flat_map(|&id| ex.step_variables(id).unwrap())
        .map(|(k, v)| k.len() + v.bytes())
        .sum();
    assert!(bytes <= STEP_VARIABLES_BYTES_MAX, "{bytes}");
    assert!(
        bytes > STEP_VARIABLES_BYTES_MAX - 2 * 262_200,
        "the budget is used: {bytes}"
    );
    // SPEC EX-8's bound is 64 MiB: about 256 snapshots of the 256 KiB string.
    assert!(
        (250..300).contains(&kept.len()),
        "64 MiB keeps about 256 snapshots of 256 KiB, not {}",
        kept.len()
    );
    assert!(kept.contains(&1), "the first entries keep theirs");
    assert!(!kept.contains(&(entries.len() as u64)), "the last do not");
}
