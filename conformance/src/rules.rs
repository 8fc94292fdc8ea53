//! The rule catalogue: every row the conformance report can have, once. The engine-level
//! checker, the report, the scenario suite and the system-level oracle (`wfsim-sim`) all
//! read it: a rule's id, what its row checks, its SPEC section, its place in the report and
//! which parts check it are said here and nowhere else. Data only.

use std::fmt;

/// What a check is evidence for: a rule of SPEC.md, a step of the slot rule (§3), or what
/// the system level checks beyond SPEC's ids. In report order: `rule as usize` is its
/// row's index in [`CATALOGUE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Cb1,
    Cb2,
    Cb3,
    Cb4,
    Cb5,
    Cb6,
    Cb7,
    Cb8,
    Cb9,
    Cb10,
    Cb11,
    Cb12,
    Cb13,
    Slot1,
    Slot2,
    Slot3,
    Slot4,
    Slot5,
    Slot6,
    Slot7,
    Ex1,
    Ex2,
    Ex3,
    Ex4,
    Ex5,
    Ex6,
    Ex7,
    Ex8,
    Ex9,
    Rt1,
    Rt2,
    Rt3,
    Ht1,
    Ht2,
    Ht3,
    Ht4,
    Ht5,
    Ht6,
    Ht7,
    Ht8,
    Ht9,
    Ht10,
    Ht11,
    Ht12,
    Ht13,
    Lib1,
    Lib2,
    Lib3,
    Lib4,
    Lib5,
    Exp1,
    Exp2,
    Exp3,
    Exp4,
    Exp5,
    Exp6,
    Exp7,
    Ui1,
    Ui2,
    Ui3,
    /// A restarted server replays its input log to the same journal.
    Restart,
    /// A sender's retries wait what its policy says.
    ClientBackoff,
    /// The server's journal never goes back in time.
    Clock,
    /// The simulated world runs to the end.
    Run,
    /// Each seed runs twice the same way.
    Determinism,
    /// An assertion inside the engine failed (it panicked).
    Invariant,
}

/// Which parts of a conformance run check a rule (a row may have several).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedBy {
    /// The engine-level checker: generated and exhaustive op sequences against the model.
    pub engine: bool,
    /// Fixture scenarios: some scenario's `covers:` must name it.
    pub scenarios: bool,
    /// The system level (the madsim sweep and its oracle) claims to check it.
    pub system: bool,
}

/// Checked by tests outside the report only.
const NOBODY: CheckedBy = CheckedBy {
    engine: false,
    scenarios: false,
    system: false,
};
const ENGINE: CheckedBy = CheckedBy {
    engine: true,
    scenarios: false,
    system: false,
};
const SCENARIOS: CheckedBy = CheckedBy {
    engine: false,
    scenarios: true,
    system: false,
};
const SYSTEM: CheckedBy = CheckedBy {
    engine: false,
    scenarios: false,
    system: true,
};
const ENGINE_SCENARIOS: CheckedBy = CheckedBy {
    scenarios: true,
    ..ENGINE
};
const ALL_THREE: CheckedBy = CheckedBy {
    system: true,
    ..ENGINE_SCENARIOS
};
const SCENARIOS_SYSTEM: CheckedBy = CheckedBy {
    system: true,
    ..SCENARIOS
};
const ENGINE_SYSTEM: CheckedBy = CheckedBy {
    system: true,
    ..ENGINE
};

/// One row of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRow {
    pub rule: Rule,
    /// The id SPEC.md gives it (`CB-5`, `§3.7`), or the report's name for it.
    pub id: &'static str,
    /// The section of SPEC.md that states it; `None` for checks of the harness itself.
    pub section: Option<&'static str>,
    /// What its row in the report checks.
    pub what: &'static str,
    pub checked_by: CheckedBy,
}

const fn row(
    rule: Rule,
    id: &'static str,
    section: Option<&'static str>,
    checked_by: CheckedBy,
    what: &'static str,
) -> RuleRow {
    RuleRow {
        rule,
        id,
        section,
        what,
        checked_by,
    }
}

const S1: Option<&str> = Some("§1");
const S2: Option<&str> = Some("§2");
const S3: Option<&str> = Some("§3");
const S4: Option<&str> = Some("§4");
const S5: Option<&str> = Some("§5");
const S6: Option<&str> = Some("§6");
const S8: Option<&str> = Some("§8");
const S9: Option<&str> = Some("§9");
const S10: Option<&str> = Some("§10");

/// Every row, in report order. CB-13 (HTTP responses) belongs to live mode and the system
/// level, so no scenario covers it.
#[rustfmt::skip]
pub const CATALOGUE: [RuleRow; 66] = [
    row(Rule::Cb1, "CB-1", S1, ENGINE_SCENARIOS, "endpoint URLs have the documented shape"),
    row(Rule::Cb2, "CB-2", S1, ENGINE_SCENARIOS, "callback ids are two UUIDs; a seed replays byte for byte"),
    row(Rule::Cb3, "CB-3", S1, SCENARIOS, "an endpoint is awaited only by the execution that made it"),
    row(Rule::Cb4, "CB-4", S2, ALL_THREE, "a negative timeout is refused, others accepted"),
    row(Rule::Cb5, "CB-5", S2, ALL_THREE, "an await takes a buffered request at once"),
    row(Rule::Cb6, "CB-6", S2, ALL_THREE, "an await blocks, then resumes or times out at its deadline"),
    row(Rule::Cb7, "CB-7", S2, ENGINE_SCENARIOS, "what a workflow sees: method, url, headers, query, time"),
    row(Rule::Cb8, "CB-8", S2, ENGINE_SCENARIOS, "body decoding"),
    row(Rule::Cb9, "CB-9", S3, ALL_THREE, "a refused request changes nothing (full state compared)"),
    row(Rule::Cb10, "CB-10", S3, ALL_THREE, "conservation: accepted = taken + dropped + buffered"),
    row(Rule::Cb11, "CB-11", S3, ALL_THREE, "the end drops the buffer, abandons waiters, answers 404"),
    row(Rule::Cb12, "CB-12", S3, ALL_THREE, "several waiters on one endpoint are served in await order"),
    row(Rule::Cb13, "CB-13", S3, SYSTEM, "statuses of §3 only; 200 is {}, errors the Google shape with a message"),
    row(Rule::Slot1, "§3.1", S3, ENGINE_SYSTEM, "404: no such endpoint, or the execution is over"),
    row(Rule::Slot2, "§3.2", S3, ENGINE_SYSTEM, "401 / 403: the token verdicts"),
    row(Rule::Slot3, "§3.3", S3, ENGINE_SYSTEM, "405: method mismatch"),
    row(Rule::Slot4, "§3.4", S3, ENGINE_SYSTEM, "413: body over 512 KiB"),
    row(Rule::Slot5, "§3.5", S3, ENGINE_SYSTEM, "200: handed to the first waiter"),
    row(Rule::Slot6, "§3.6", S3, ENGINE_SYSTEM, "200: stored in the free slot"),
    row(Rule::Slot7, "§3.7", S3, ENGINE_SYSTEM, "429: slot full"),
    row(Rule::Ex1, "EX-1", S4, SCENARIOS_SYSTEM, "every execution ends SUCCEEDED, or CANCELLED when a cancel got 200"),
    row(Rule::Ex2, "EX-2", S4, SCENARIOS, "an execution's result, or the error that failed it"),
    row(Rule::Ex3, "EX-3", S4, SCENARIOS_SYSTEM, "a cancel answered 200 ends it CANCELLED, one answered 400 found it over"),
    row(Rule::Ex4, "EX-4", S4, SCENARIOS, "sys.log records"),
    row(Rule::Ex5, "EX-5", S4, SCENARIOS, "the one-year limit"),
    row(Rule::Ex6, "EX-6", S4, SCENARIOS, "an uncaught error says where: step, routine, line:column, innermost first"),
    row(Rule::Ex7, "EX-7", S4, SCENARIOS, "a caught error raised again is where it is raised again"),
    row(Rule::Ex8, "EX-8", S4, SCENARIOS, "step entries: one per step and sub-entry, with type, state, times, navigation and a DETAILED history's variables (scenarios' `expect.step_entries`; engine, server and client tests)"),
    row(Rule::Ex9, "EX-9", S6, SCENARIOS, "a map key wholly ${...} is an expression"),
    row(Rule::Rt1, "RT-1", S5, SCENARIOS, "retry policies and their standard forms"),
    row(Rule::Rt2, "RT-2", S5, SCENARIOS_SYSTEM, "every back-off lasts what RT-2 says, to the nanosecond"),
    row(Rule::Rt3, "RT-3", S5, SCENARIOS, "the retry predicate sees every error"),
    row(Rule::Ht1, "HT-1", S8, SCENARIOS, "http.* take GCP's arguments and block like sys.sleep"),
    row(Rule::Ht2, "HT-2", S8, SCENARIOS, "the body sent, by its Content-Type"),
    row(Rule::Ht3, "HT-3", S8, SCENARIOS, "answers, HttpError, connection errors, TimeoutError at sent + timeout"),
    row(Rule::Ht4, "HT-4", S8, SCENARIOS, "calls in call order; an answer at the deadline is in time"),
    row(Rule::Ht5, "HT-5", S8, NOBODY, "http.* arguments are checked at deploy time (engine tests: a definition that does not deploy cannot run)"),
    row(Rule::Ht6, "HT-6", S8, SCENARIOS, "connectors: answered like calls, their body the result"),
    row(Rule::Ht7, "HT-7", S8, SCENARIOS, "scripted services answer, in order, and call back"),
    row(Rule::Ht8, "HT-8", S8, SCENARIOS, "reports list every outbound call"),
    row(Rule::Ht9, "HT-9", S8, NOBODY, "live mode: stubs answer as in wfsim run, the rest goes to the network (server tests)"),
    row(Rule::Ht10, "HT-10", S8, NOBODY, "child workflows through the Workflow Executions connector (harness, server and suite tests)"),
    row(Rule::Ht11, "HT-11", S8, NOBODY, "live mode: connectors reach Google's emulators through the discovery table (server and CLI tests, on the emulators)"),
    row(Rule::Ht12, "HT-12", S8, NOBODY, "live mode: an OAuth2 call to this server's callback carries the workflow's service account (server tests)"),
    row(Rule::Ht13, "HT-13", S8, NOBODY, "live mode: events and Pub/Sub triggers start a workflow once per event (server and CLI tests, on the emulators)"),
    row(Rule::Lib1, "LIB-1", S6, SCENARIOS, "time.format: six decimals, Z or the IANA zone's offset"),
    row(Rule::Lib2, "LIB-2", S6, SCENARIOS, "sys.get_env: built-in and user-defined variables"),
    row(Rule::Lib3, "LIB-3", S6, SCENARIOS, "regexes: leftmost, then longest; literal replacement"),
    row(Rule::Lib4, "LIB-4", S6, SCENARIOS, "hash.*: bytes in, bytes out, GCP's algorithms"),
    row(Rule::Lib5, "LIB-5", S6, SCENARIOS, "types named with their article; get_type's names"),
    row(Rule::Exp1, "EXP-1", S9, NOBODY, "explore: a seed draws one schedule; --jobs and --shard change nothing (explore and CLI tests)"),
    row(Rule::Exp2, "EXP-2", S9, SCENARIOS, "properties of a finished run: always, sometimes, expect.holds"),
    row(Rule::Exp3, "EXP-3", S9, NOBODY, "explore's senders retry on 429, 5xx and lost answers (explore tests)"),
    row(Rule::Exp4, "EXP-4", S9, NOBODY, "explore re-checks every seed's run against the spec model (explore tests)"),
    row(Rule::Exp5, "EXP-5", S9, NOBODY, "a broken always is shrunk and written as a scenario that fails (CLI tests)"),
    row(Rule::Exp6, "EXP-6", S9, NOBODY, "explore's report, coverage, lcov and exit codes (CLI tests)"),
    row(Rule::Exp7, "EXP-7", S9, NOBODY, "explore --system: the schedule through the server on the madsim world (sim tests)"),
    row(Rule::Ui1, "UI-1", S10, NOBODY, "the web UI keeps the server's auth: its link's cookie, or 401 saying how to open it (UI and CLI tests, chromium)"),
    row(Rule::Ui2, "UI-2", S10, NOBODY, "a UI form is carried out only with its page's token and this server's Origin (UI tests)"),
    row(Rule::Ui3, "UI-3", S10, NOBODY, "an action from the UI is the API request a client would send (UI and CLI tests, chromium)"),
    row(Rule::Restart, "restart", None, SYSTEM, "a restarted server replays its input log to the same journal"),
    row(Rule::ClientBackoff, "client back-off", None, SYSTEM, "a sender's retries wait what its policy says"),
    row(Rule::Clock, "clock", None, SYSTEM, "the server's journal never goes back in time"),
    row(Rule::Run, "run", None, SYSTEM, "the world runs to the end: no panic, every client finishes"),
    row(Rule::Determinism, "determinism", None, SYSTEM, "each seed runs twice with identical outcomes"),
    row(Rule::Invariant, "assert", None, ENGINE, "the engine's own invariant checks"),
];

impl Rule {
    /// Every rule, in report order.
    pub fn all() -> impl Iterator<Item = Rule> {
        CATALOGUE.iter().map(|r| r.rule)
    }

    /// Its row of the catalogue.
    pub fn row(self) -> &'static RuleRow {
        &CATALOGUE[self as usize]
    }

    /// The id SPEC.md gives it, or the report's name for it.
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// What its row in the report checks.
    pub fn what(self) -> &'static str {
        self.row().what
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        CATALOGUE.iter().find(|r| r.id == id).map(|r| r.rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The rows a part checks, in report order.
pub fn checked_by(part: impl Fn(CheckedBy) -> bool) -> impl Iterator<Item = &'static RuleRow> {
    CATALOGUE.iter().filter(move |r| part(r.checked_by))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_is_its_own_row_and_ids_are_unique() {
        for (i, row) in CATALOGUE.iter().enumerate() {
            assert_eq!(row.rule as usize, i, "{} is out of place", row.id);
            assert_eq!(Rule::from_id(row.id), Some(row.rule));
            assert!(!row.what.is_empty(), "{} says nothing", row.id);
        }
    }

    #[test]
    fn spec_ids_name_their_section() {
        for row in &CATALOGUE {
            let spec = ["CB-", "EX-", "RT-", "HT-", "LIB-", "EXP-", "UI-", "§"]
                .iter()
                .any(|p| row.id.starts_with(p));
            assert_eq!(spec, row.section.is_some(), "{}", row.id);
            if let Some(slot) = row.id.strip_prefix("§3.") {
                assert!(slot.parse::<u8>().is_ok(), "{}", row.id);
                assert_eq!(row.section, Some("§3"));
            }
        }
    }
}
