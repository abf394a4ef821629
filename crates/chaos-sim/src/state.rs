//! Everything the simulator remembers between requests: the scenario, the
//! runs it started, what it received, and how often each operation was
//! called (which decides whether an `[[inject]]` entry applies).
//!
//! All of it sits behind plain mutexes that are never held across an await,
//! so a handler's critical sections are short and cannot deadlock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::scenario::{Experiment, Inject, Scenario};

/// One request as the simulator received it, for tests to assert on.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query string, without `?`.
    pub query: String,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// GraphQL root field name (e.g. `listWorkflowRun`), or `stop` for the
    /// REST stop endpoint; `None` when the request could not be classified.
    pub operation: Option<String>,
    /// Notify IDs the request named (poll filter or stop target).
    pub notify_ids: Vec<String>,
    /// When the request arrived (its head and body read), in milliseconds
    /// since the Unix epoch.
    pub at_unix_ms: u64,
    /// Size of the response body sent, in bytes (HTTP head not counted);
    /// 0 for a dropped connection or while the answer is still being built.
    /// What a client pays for its selection: benchmarks divide it by polls.
    pub response_bytes: u64,
    /// When the request arrived, in microseconds since the Unix epoch.
    pub at_unix_us: u64,
    /// When its answer was ready to be written, in microseconds since the
    /// Unix epoch (0 while building it, or when none was sent): the time the
    /// simulator took is `answered_at_unix_us - at_unix_us`, which a
    /// benchmark subtracts to get a client's own time.
    pub answered_at_unix_us: u64,
    /// Which TCP connection carried it: connections are numbered from 0 in
    /// the order accepted, so the distinct values count the connections.
    pub connection: u64,
    /// Bytes of the request on the wire: request line, headers, body.
    pub request_wire_bytes: u64,
    /// Bytes of the answer on the wire: status line, headers (those hyper
    /// adds included), body; 0 like `response_bytes` when none was sent.
    pub response_wire_bytes: u64,
}

/// The state of one run, as a test sees it.
#[derive(Clone, Debug, Serialize)]
pub struct RunSnapshot {
    pub experiment_id: String,
    pub notify_id: String,
    pub run_id: String,
    /// The phase the run shows now: the one the last poll returned
    /// (`Stopped` once stopped), or the first phase before any poll.
    pub phase: String,
    pub stopped: bool,
    /// How many polls named this run so far (listed or not).
    pub polls: u32,
    /// When a poll first served the run a terminal phase (see
    /// [`is_terminal_phase`]), in milliseconds since the Unix epoch; the
    /// moment a client could first know the run had finished, from which a
    /// benchmark measures how long the client takes to decide.
    pub terminal_at_unix_ms: Option<u64>,
}

/// Phases after which a run does not change any more, matched without
/// regard to case: those that let the score decide and those that fail
/// whatever the score.
pub const TERMINAL_PHASES: &[&str] = &[
    "Completed",
    "Completed_With_Probe_Failure",
    "Succeeded",
    "Completed_With_Error",
    "Error",
    "Failed",
    "Stopped",
    "Skipped",
    "Timeout",
    "Terminated",
];

/// Whether `phase` is one of [`TERMINAL_PHASES`], ignoring case.
pub fn is_terminal_phase(phase: &str) -> bool {
    TERMINAL_PHASES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(phase))
}

/// A run started by a trigger.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub experiment_id: String,
    pub notify_id: String,
    pub run_id: String,
    /// The `identifiers` the trigger carried, echoed in `listWorkflowRun`
    /// (Harness); the `projectID` (Litmus).
    pub identifiers: serde_json::Value,
    /// 1 for the first run of its experiment, 2 for the second, ...
    /// (Litmus's `runSequence`).
    pub sequence: u32,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// When the run first showed its last phase.
    pub finished_ms: Option<u64>,
    /// When a poll that listed the run first showed it a terminal phase.
    pub terminal_ms: Option<u64>,
    pub polls: u32,
    pub stopped: bool,
    /// Whether the run had already finished when it was stopped, which
    /// keeps its verdicts and score.
    pub finished_before_stop: bool,
}

/// What a run looks like at one moment, derived from its poll count.
#[derive(Clone, Debug)]
pub(crate) struct RunView {
    /// Index into the experiment's phases of the phase shown.
    pub index: usize,
    /// The phase string shown (`Stopped` for a stopped run).
    pub phase: String,
    /// The run shows its last phase (its verdicts and score are final).
    pub finished: bool,
    pub stopped: bool,
}

impl Run {
    /// The phase index shown now: that of the last poll, or 0 before any.
    fn current_index(&self, exp: &Experiment) -> usize {
        (self.polls.saturating_sub(1) as usize).min(exp.phases.len().saturating_sub(1))
    }

    /// How the run looks now, without counting a poll.
    pub fn view(&self, exp: &Experiment) -> RunView {
        let index = self.current_index(exp);
        let last = index + 1 >= exp.phases.len();
        let finished = if self.stopped {
            self.finished_before_stop
        } else {
            last
        };
        let phase = if self.stopped {
            "Stopped".to_string()
        } else {
            exp.phases.get(index).cloned().unwrap_or_default()
        };
        RunView {
            index,
            phase,
            finished,
            stopped: self.stopped,
        }
    }

    /// Counts one poll and returns whether the run is listed on it (it is
    /// not during its first `unlisted_polls` polls).
    pub fn poll(&mut self, exp: &Experiment) -> bool {
        let before = self.current_index(exp);
        let poll_index = self.polls;
        self.polls = self.polls.saturating_add(1);
        let after = self.current_index(exp);
        let now = now_ms();
        if after != before || poll_index == 0 {
            self.updated_ms = now;
        }
        if !self.stopped && after + 1 >= exp.phases.len() && self.finished_ms.is_none() {
            self.finished_ms = Some(now);
        }
        let listed = poll_index >= exp.unlisted_polls;
        if listed && self.terminal_ms.is_none() && is_terminal_phase(&self.view(exp).phase) {
            self.terminal_ms = Some(now);
        }
        listed
    }

    pub fn stop(&mut self, exp: &Experiment) {
        if !self.stopped {
            self.finished_before_stop = self.view(exp).finished;
            self.stopped = true;
            self.updated_ms = now_ms();
        }
    }
}

/// Shared state of one simulator instance.
#[derive(Debug)]
pub(crate) struct State {
    pub scenario: Scenario,
    /// Print one line per request to stderr (the binary does; tests don't).
    pub log_requests: bool,
    /// When the simulator started; stored experiments claim to be older.
    pub started_ms: u64,
    /// The simulator's own base URL (`http://ADDR`), the default origin the
    /// Litmus dialect accepts.
    pub url: String,
    runs: Mutex<Vec<Run>>,
    /// Access tokens handed out by a login (Litmus); accepted afterwards.
    tokens: Mutex<Vec<String>>,
    requests: Mutex<Vec<RecordedRequest>>,
    calls: Mutex<HashMap<String, u32>>,
    seed: AtomicU64,
    /// Connections accepted so far.
    connections: AtomicU64,
}

/// Locks a mutex, ignoring poisoning: a panic in one handler must not turn
/// every later request into a panic too.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl State {
    pub fn new(scenario: Scenario, url: String, log_requests: bool) -> State {
        let seed = now_ms() ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
        State {
            scenario,
            log_requests,
            started_ms: now_ms(),
            url,
            runs: Mutex::new(Vec::new()),
            tokens: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            seed: AtomicU64::new(seed),
            connections: AtomicU64::new(0),
        }
    }

    /// Numbers a newly accepted connection.
    pub fn connection(&self) -> u64 {
        self.connections.fetch_add(1, Ordering::Relaxed)
    }

    /// Records a request and returns its index, for [`State::answered`].
    pub fn record(&self, request: RecordedRequest) -> usize {
        let mut requests = lock(&self.requests);
        requests.push(request);
        requests.len() - 1
    }

    /// Notes the size of the body sent in answer to request `index`.
    pub fn answered(&self, index: usize, response_bytes: u64, response_wire_bytes: u64) {
        if let Some(r) = lock(&self.requests).get_mut(index) {
            r.response_bytes = response_bytes;
            r.response_wire_bytes = response_wire_bytes;
            r.answered_at_unix_us = now_us();
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// Counts a call of `operation` and returns the first `[[inject]]` entry
    /// that applies to it (entries are tried in file order).
    pub fn injection_for(&self, operation: &str) -> Option<Inject> {
        let index = {
            let mut calls = lock(&self.calls);
            let n = calls.entry(operation.to_string()).or_insert(0);
            let index = *n;
            *n = n.saturating_add(1);
            index
        };
        self.scenario
            .inject
            .iter()
            .find(|i| i.operation == operation && i.first.is_none_or(|first| index < first))
            .cloned()
    }

    /// Hands out a new access token, `sim-token-<n>` (n from 1), and
    /// remembers it so that later requests carrying it are accepted.
    pub fn issue_token(&self) -> String {
        let mut tokens = lock(&self.tokens);
        let token = format!("sim-token-{}", tokens.len() + 1);
        tokens.push(token.clone());
        token
    }

    /// Whether `token` was handed out by [`State::issue_token`].
    pub fn token_issued(&self, token: &str) -> bool {
        lock(&self.tokens).iter().any(|t| t == token)
    }

    /// Starts a run of `exp` (a successful trigger) and returns its notify
    /// ID. Shared by the dialects so that runs look alike whichever API
    /// started them.
    pub fn start_run(&self, exp: &Experiment, identifiers: serde_json::Value) -> String {
        let now = now_ms();
        let (notify_id, run_id) = (self.new_id(), self.new_id());
        self.with_runs(|runs| {
            let earlier = runs.iter().filter(|r| r.experiment_id == exp.id).count();
            runs.push(Run {
                experiment_id: exp.id.clone(),
                notify_id: notify_id.clone(),
                run_id,
                identifiers,
                sequence: u32::try_from(earlier).unwrap_or(u32::MAX).saturating_add(1),
                created_ms: now,
                updated_ms: now,
                finished_ms: None,
                terminal_ms: None,
                polls: 0,
                stopped: false,
                finished_before_stop: false,
            });
        });
        notify_id
    }

    /// Stops the runs of `exp` named by notify ID and/or run ID (both must
    /// match when both are given), or every unstopped run of it when
    /// neither is given, and returns how many were named. Stopping a run
    /// again is harmless and counts: the platforms accept it too.
    pub fn stop_runs(
        &self,
        exp: &Experiment,
        notify_id: Option<&str>,
        run_id: Option<&str>,
    ) -> usize {
        self.with_runs(|runs| {
            let mut count = 0;
            for run in runs.iter_mut().filter(|r| r.experiment_id == exp.id) {
                let named = match (notify_id, run_id) {
                    (None, None) => !run.stopped,
                    (n, r) => {
                        n.is_none_or(|n| n == run.notify_id) && r.is_none_or(|r| r == run.run_id)
                    }
                };
                if named {
                    run.stop(exp);
                    count += 1;
                }
            }
            count
        })
    }

    /// Runs the closure with the run list locked.
    pub fn with_runs<R>(&self, f: impl FnOnce(&mut Vec<Run>) -> R) -> R {
        f(&mut lock(&self.runs))
    }

    pub fn snapshots(&self) -> Vec<RunSnapshot> {
        lock(&self.runs)
            .iter()
            .map(|run| {
                let phase = match self.scenario.experiment(&run.experiment_id) {
                    Some(exp) => run.view(exp).phase,
                    None => String::new(),
                };
                RunSnapshot {
                    experiment_id: run.experiment_id.clone(),
                    notify_id: run.notify_id.clone(),
                    run_id: run.run_id.clone(),
                    phase,
                    stopped: run.stopped,
                    polls: run.polls,
                    terminal_at_unix_ms: run.terminal_ms,
                }
            })
            .collect()
    }

    /// A fresh UUID-shaped identifier. Uniqueness within one simulator is all
    /// that matters; the time-and-pid seed only makes IDs differ between
    /// simulator instances so a client cannot confuse runs of two of them.
    pub fn new_id(&self) -> String {
        let a = splitmix(
            self.seed
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed),
        );
        let b = splitmix(a ^ 0xd1b5_4a32_d192_ed03);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(phases: &[&str], unlisted: u32) -> Experiment {
        let toml = format!(
            "[harness]\naccount_id='a'\napi_key='k'\n[[experiments]]\nid='e'\nphases={:?}\nunlisted_polls={unlisted}\n",
            phases
        );
        Scenario::from_toml(&toml)
            .expect("valid")
            .experiments
            .remove(0)
    }

    fn run() -> Run {
        Run {
            experiment_id: "e".into(),
            notify_id: "n".into(),
            run_id: "r".into(),
            identifiers: serde_json::Value::Null,
            sequence: 1,
            created_ms: 0,
            updated_ms: 0,
            finished_ms: None,
            terminal_ms: None,
            polls: 0,
            stopped: false,
            finished_before_stop: false,
        }
    }

    #[test]
    fn phases_advance_per_poll_and_stick_at_the_last() {
        let e = exp(&["Queued", "Running", "Completed"], 0);
        let mut r = run();
        assert_eq!(r.view(&e).phase, "Queued");
        let mut seen = Vec::new();
        for _ in 0..5 {
            assert!(r.poll(&e));
            seen.push(r.view(&e).phase);
        }
        assert_eq!(
            seen,
            ["Queued", "Running", "Completed", "Completed", "Completed"]
        );
        assert!(r.view(&e).finished);
    }

    #[test]
    fn terminal_time_is_set_by_the_first_poll_serving_a_terminal_phase() {
        let e = exp(&["Queued", "Running", "completed_with_error"], 0);
        let mut r = run();
        r.poll(&e);
        r.poll(&e);
        assert_eq!(r.terminal_ms, None);
        r.poll(&e);
        let first = r.terminal_ms.expect("terminal after the third poll");
        std::thread::sleep(std::time::Duration::from_millis(2));
        r.poll(&e);
        assert_eq!(r.terminal_ms, Some(first), "set once");
    }

    #[test]
    fn an_unlisted_poll_serves_no_terminal_phase() {
        let e = exp(&["Completed"], 1);
        let mut r = run();
        assert!(!r.poll(&e));
        assert_eq!(r.terminal_ms, None);
        assert!(r.poll(&e));
        assert!(r.terminal_ms.is_some());
    }

    #[test]
    fn terminal_phases_match_without_case() {
        for p in ["Completed", "STOPPED", "timeout", "Terminated", "Succeeded"] {
            assert!(is_terminal_phase(p), "{p}");
        }
        for p in ["Running", "Queued", "NA", "", "Blocked", "Pending"] {
            assert!(!is_terminal_phase(p), "{p}");
        }
    }

    #[test]
    fn unlisted_polls_still_count() {
        let e = exp(&["Queued", "Running", "Completed"], 2);
        let mut r = run();
        assert!(!r.poll(&e));
        assert!(!r.poll(&e));
        assert!(r.poll(&e));
        assert_eq!(r.view(&e).phase, "Completed");
    }

    #[test]
    fn ids_are_unique_and_uuid_shaped() {
        let s = State::new(
            Scenario::from_toml("[harness]\naccount_id='a'\napi_key='k'\n").expect("valid"),
            "http://127.0.0.1:1".into(),
            false,
        );
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| s.new_id()).collect();
        assert_eq!(ids.len(), 1000);
        let one = s.new_id();
        assert_eq!(one.len(), 36);
        assert_eq!(
            one.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
    }
}
