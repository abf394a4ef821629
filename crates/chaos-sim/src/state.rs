//! Everything the simulator remembers between requests: the scenario, the
//! runs it started, what it received, and how often each operation was
//! called (which decides whether an `[[inject]]` entry applies).
//!
//! All of it sits behind plain mutexes that are never held across an await,
//! so a handler's critical sections are short and cannot deadlock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
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
    /// The ID the platform gives the run. Litmus shows it only once the run
    /// has left `Queued` (an empty `experimentRunID` before that); this is
    /// the ID it has or will have.
    pub run_id: String,
    /// The phase the run shows now: the one the last poll returned
    /// (`Stopped` once stopped), or the first phase before any poll.
    pub phase: String,
    /// The platform's database says `Stopped`. Whether the chaos really
    /// stopped is [`RunSnapshot::chaos_running`].
    pub stopped: bool,
    /// Whether the chaos is really still running on the cluster, whatever
    /// phase is shown: true from the trigger until the run finishes by
    /// itself (its script reaches a terminal last phase) or a stop reaches
    /// the cluster. A stop that only marks the run `Stopped` in the database
    /// (Litmus 3.31 by `notifyID` alone or of a still-queued run, Harness
    /// `force=true`) leaves it true.
    pub chaos_running: bool,
    /// Started by someone else ([`crate::Simulator::start_foreign_run`]),
    /// not by a trigger this simulator received.
    pub foreign: bool,
    /// A run declared in the scenario's `history`, finished before the
    /// simulator started.
    pub past: bool,
    /// The runtime inputs the run was started with (Harness REST v2).
    pub inputs: Option<serde_json::Value>,
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
/// whatever the score. Every phase Harness documents (its
/// `WorkflowRunStatus` and `ChaosStepStatus` enums) and Litmus writes is
/// either here or one of the phases of a run still going: `Queued`,
/// `Pending`, `Running`, `Blocked` and `NA` (see
/// docs/platform-fidelity.md). `Succeeded` and `Terminated` are
/// LitmusChaos 2.x spellings.
pub const TERMINAL_PHASES: &[&str] = &[
    "Completed",
    "Completed_With_Probe_Failure",
    "Completed_With_Probe_Absent",
    "Completed_With_Error",
    "Succeeded",
    "Passed",
    "Error",
    "Failed",
    "Stopped",
    "Skipped",
    "Timeout",
    "Terminated",
    "Interrupted",
];

/// Whether `phase` is one of [`TERMINAL_PHASES`], ignoring case.
pub fn is_terminal_phase(phase: &str) -> bool {
    TERMINAL_PHASES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(phase))
}

/// A run started by a trigger (or by someone else, `foreign`).
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
    /// The database says `Stopped` (what every poll shows from now on).
    pub stopped: bool,
    /// The phase index shown when the run was stopped: what the database
    /// held then (Litmus discards the cluster's later events of a run it
    /// marked completed).
    pub stopped_index: usize,
    /// Whether the run had already finished when it was stopped, which
    /// keeps its verdicts and score.
    pub finished_before_stop: bool,
    /// A stop reached the cluster: the chaos ends.
    pub cluster_stopped: bool,
    /// LitmusChaos before 3.29: the stop reached the cluster, and the
    /// cluster reports the run `Stopped` on the next poll.
    pub stop_pending: bool,
    /// The run became `Stopped` by the cluster's report (LitmusChaos before
    /// 3.29), which counts its faults as stopped.
    pub stopped_by_cluster: bool,
    /// Started by another user: shows `Running` (already past `Queued`)
    /// until stopped, whatever the polls.
    pub foreign: bool,
    /// Listing answers that matched the run so far (for `unlisted_lists`).
    pub list_answers: u32,
    /// A run that finished before the simulator started: its final phase
    /// and score, whatever the experiment's script says.
    pub past: Option<crate::scenario::PastRun>,
    /// The runtime inputs the run was started with (Harness REST v2), as
    /// the platform resolved them: `{experiment: {name: value}, tasks:
    /// {task: {name: value}}}`.
    pub inputs: Option<serde_json::Value>,
}

/// What a run looks like at one moment, derived from its poll count.
#[derive(Clone, Debug)]
pub(crate) struct RunView {
    /// Index into the experiment's phases of the phase shown (for a
    /// stopped run, the one shown when it was stopped).
    pub index: usize,
    /// The phase string shown (`Stopped` for a stopped run).
    pub phase: String,
    /// The run shows its last phase (its verdicts and score are final).
    pub finished: bool,
    pub stopped: bool,
    /// The run has been picked up by the cluster: some phase up to `index`
    /// is not `Queued` (Litmus gives it its run ID then).
    pub left_queued: bool,
}

impl Run {
    /// A new run of `exp`, not yet polled.
    pub fn new(
        exp: &Experiment,
        notify_id: String,
        run_id: String,
        identifiers: serde_json::Value,
        sequence: u32,
        foreign: bool,
    ) -> Run {
        let now = now_ms();
        Run {
            experiment_id: exp.id.clone(),
            notify_id,
            run_id,
            identifiers,
            sequence,
            created_ms: now,
            updated_ms: now,
            finished_ms: None,
            terminal_ms: None,
            polls: 0,
            stopped: false,
            stopped_index: 0,
            finished_before_stop: false,
            cluster_stopped: false,
            stop_pending: false,
            stopped_by_cluster: false,
            foreign,
            list_answers: 0,
            inputs: None,
            past: None,
        }
    }

    /// The score the database holds once the run completed: the
    /// experiment's, or a past run's own.
    pub fn final_score(&self, exp: &Experiment) -> Option<f64> {
        match &self.past {
            Some(p) => p.resiliency_score,
            None => exp.resiliency_score,
        }
    }

    /// The phase index the polls have reached: that of the last poll, or 0
    /// before any. It goes on counting after a stop that did not reach the
    /// cluster, since the chaos goes on there.
    fn current_index(&self, exp: &Experiment) -> usize {
        (self.polls.saturating_sub(1) as usize).min(exp.phases.len().saturating_sub(1))
    }

    /// Whether the run's script has reached a terminal last phase (the
    /// chaos ended by itself). A foreign run never ends by itself.
    fn ended_by_itself(&self, exp: &Experiment) -> bool {
        if self.past.is_some() {
            return true;
        }
        if self.foreign {
            return false;
        }
        let index = self.current_index(exp);
        index + 1 >= exp.phases.len() && exp.phases.get(index).is_some_and(|p| is_terminal_phase(p))
    }

    /// Whether the chaos is still running on the cluster.
    pub fn chaos_running(&self, exp: &Experiment) -> bool {
        !self.cluster_stopped && !self.ended_by_itself(exp)
    }

    /// How the run looks now, without counting a poll.
    pub fn view(&self, exp: &Experiment) -> RunView {
        if let Some(p) = &self.past {
            return RunView {
                index: exp.phases.len().saturating_sub(1),
                phase: p.phase.clone(),
                finished: true,
                stopped: false,
                left_queued: true,
            };
        }
        if self.foreign {
            return RunView {
                index: 0,
                phase: if self.stopped { "Stopped" } else { "Running" }.to_string(),
                finished: false,
                stopped: self.stopped,
                left_queued: true,
            };
        }
        let index = if self.stopped {
            self.stopped_index
        } else {
            self.current_index(exp)
        };
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
        let left_queued = exp
            .phases
            .iter()
            .take(index + 1)
            .any(|p| !p.eq_ignore_ascii_case("Queued"));
        RunView {
            index,
            phase,
            finished,
            stopped: self.stopped,
            left_queued,
        }
    }

    /// Counts one poll and returns whether the run is listed on it (it is
    /// not during its first `unlisted_polls` polls).
    pub fn poll(&mut self, exp: &Experiment) -> bool {
        if self.stop_pending {
            // The cluster reports the stop it received; a run that had
            // already finished is not changed any more.
            self.stop_pending = false;
            if !self.view(exp).finished {
                self.mark_stopped(exp);
                self.stopped_by_cluster = true;
            }
        }
        let before = self.current_index(exp);
        let poll_index = self.polls;
        self.polls = self.polls.saturating_add(1);
        let after = self.current_index(exp);
        let now = now_ms();
        if !self.stopped && (after != before || poll_index == 0) {
            self.updated_ms = now;
        }
        if !self.stopped
            && !self.foreign
            && after + 1 >= exp.phases.len()
            && self.finished_ms.is_none()
        {
            self.finished_ms = Some(now);
        }
        let listed = poll_index >= exp.unlisted_polls;
        if listed && self.terminal_ms.is_none() && is_terminal_phase(&self.view(exp).phase) {
            self.terminal_ms = Some(now);
        }
        listed
    }

    /// Marks the run `Stopped` in the database (the phase every poll shows
    /// from now on). Whether the chaos stops too is up to the caller
    /// ([`Run::stop_on_cluster`]).
    pub fn mark_stopped(&mut self, exp: &Experiment) {
        if !self.stopped {
            let view = self.view(exp);
            self.finished_before_stop = view.finished;
            self.stopped_index = view.index;
            self.stopped = true;
            self.updated_ms = now_ms();
        }
    }

    /// The stop reaches the cluster: the chaos ends (if it had not yet).
    pub fn stop_on_cluster(&mut self) {
        self.cluster_stopped = true;
    }

    /// A complete stop: marked `Stopped` and the chaos ended.
    pub fn stop(&mut self, exp: &Experiment) {
        self.mark_stopped(exp);
        self.stop_on_cluster();
    }
}

/// What the server makes of a token (Litmus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenState {
    Valid,
    /// Known, but used up its `token_valid_requests`.
    Expired,
    /// Neither the static token nor one a login handed out.
    Unknown,
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
    /// Access tokens handed out by a login (Litmus), in order, with the
    /// number of GraphQL requests that carried each.
    tokens: Mutex<Vec<(String, u32)>>,
    /// GraphQL requests that carried the scenario's static token (Litmus).
    static_token_uses: Mutex<u32>,
    requests: Mutex<Vec<RecordedRequest>>,
    calls: Mutex<HashMap<String, u32>>,
    seed: AtomicU64,
    /// Connections accepted so far.
    connections: AtomicU64,
    /// Stored experiments: the scenario's, then those created through the
    /// API (experiment as code). Never held while taking another lock.
    experiments: Mutex<Vec<Arc<Experiment>>>,
    /// Per experiment ID: how many revisions it has (the scenario's start
    /// with one), and what the last save stored.
    pub(crate) saved: Mutex<HashMap<String, Saved>>,
    /// Look-ups of each infrastructure so far.
    infra_polls: Mutex<HashMap<String, u32>>,
    /// Project probes by name (ChaosCenter creates them from inline probes).
    pub(crate) probes: Mutex<Vec<String>>,
}

/// What a save through the API stored for an experiment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Saved {
    pub revisions: u32,
    pub manifest: String,
    pub infra_id: String,
}

/// An infrastructure as a look-up sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InfraView {
    pub id: String,
    pub name: String,
    pub active: bool,
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
        let scenario_experiments = scenario.experiments.clone();
        let seed = now_ms() ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
        State {
            scenario,
            log_requests,
            started_ms: now_ms(),
            url,
            runs: Mutex::new(Vec::new()),
            tokens: Mutex::new(Vec::new()),
            static_token_uses: Mutex::new(0),
            requests: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            seed: AtomicU64::new(seed),
            experiments: Mutex::new(scenario_experiments.iter().cloned().map(Arc::new).collect()),
            saved: Mutex::new(
                scenario_experiments
                    .iter()
                    .map(|e| {
                        (
                            e.id.clone(),
                            Saved {
                                revisions: 1,
                                ..Saved::default()
                            },
                        )
                    })
                    .collect(),
            ),
            infra_polls: Mutex::new(HashMap::new()),
            probes: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
        }
    }

    /// A stored experiment by ID (removed ones included).
    pub fn experiment(&self, id: &str) -> Option<Arc<Experiment>> {
        lock(&self.experiments).iter().find(|e| e.id == id).cloned()
    }

    /// Every stored experiment, in the order they were stored.
    pub fn experiments(&self) -> Vec<Arc<Experiment>> {
        lock(&self.experiments).clone()
    }

    /// Stores a new experiment or replaces the one with the same ID, and
    /// counts a revision; returns the revision count.
    pub fn store_experiment(&self, exp: Experiment, manifest: String, infra_id: String) -> u32 {
        let id = exp.id.clone();
        {
            let mut all = lock(&self.experiments);
            match all.iter_mut().find(|e| e.id == id) {
                Some(e) => *e = Arc::new(exp),
                None => all.push(Arc::new(exp)),
            }
        }
        let mut saved = lock(&self.saved);
        let entry = saved.entry(id).or_default();
        entry.revisions = entry.revisions.saturating_add(1);
        entry.manifest = manifest;
        entry.infra_id = infra_id;
        entry.revisions
    }

    /// The number of revisions of an experiment (0: no such experiment).
    pub fn revisions(&self, id: &str) -> u32 {
        lock(&self.saved).get(id).map_or(0, |s| s.revisions)
    }

    /// Looks an infrastructure up, counting the look-up; `None` when the
    /// scenario has none with that ID.
    pub fn infra_lookup(&self, id: &str) -> Option<InfraView> {
        let spec = self.scenario.infras.iter().find(|i| i.id == id)?;
        let mut polls = lock(&self.infra_polls);
        let seen = polls.entry(id.to_string()).or_insert(0);
        let active = spec.active && *seen >= spec.active_after_polls;
        *seen = seen.saturating_add(1);
        Some(InfraView {
            id: spec.id.clone(),
            name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
            active,
        })
    }

    /// Whether an infrastructure is active now, without counting a look-up.
    pub fn infra_active_now(&self, id: &str) -> Option<bool> {
        let spec = self.scenario.infras.iter().find(|i| i.id == id)?;
        let seen = lock(&self.infra_polls).get(id).copied().unwrap_or(0);
        Some(spec.active && seen >= spec.active_after_polls)
    }

    /// How often an infrastructure was looked up.
    pub fn infra_polls(&self, id: &str) -> u32 {
        lock(&self.infra_polls).get(id).copied().unwrap_or(0)
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
        tokens.push((token.clone(), 0));
        token
    }

    /// Counts one GraphQL request carrying `token` and says what the server
    /// makes of it: `budget` is how many requests a token is good for.
    pub fn use_token(
        &self,
        token: &str,
        static_token: Option<&str>,
        budget: Option<u32>,
    ) -> TokenState {
        let count = |uses: &mut u32| {
            let before = *uses;
            *uses = uses.saturating_add(1);
            if budget.is_none_or(|b| before < b) {
                TokenState::Valid
            } else {
                TokenState::Expired
            }
        };
        if token.is_empty() {
            return TokenState::Unknown;
        }
        if static_token == Some(token) {
            return count(&mut lock(&self.static_token_uses));
        }
        let mut tokens = lock(&self.tokens);
        match tokens.iter_mut().find(|(t, _)| t == token) {
            Some((_, uses)) => count(uses),
            None => TokenState::Unknown,
        }
    }

    /// Starts a run of `exp` (a successful trigger) and returns its notify
    /// ID. Shared by the dialects so that runs look alike whichever API
    /// started them.
    pub fn start_run(&self, exp: &Experiment, identifiers: serde_json::Value) -> String {
        self.add_run(exp, identifiers, false).notify_id
    }

    /// Starts a run with the runtime inputs it resolved; returns the run.
    pub fn start_run_with_inputs(
        &self,
        exp: &Experiment,
        identifiers: serde_json::Value,
        inputs: serde_json::Value,
    ) -> Run {
        let mut run = self.add_run(exp, identifiers, false);
        run.inputs = Some(inputs);
        self.with_runs(|runs| {
            if let Some(r) = runs.iter_mut().find(|r| r.notify_id == run.notify_id) {
                r.inputs.clone_from(&run.inputs);
            }
        });
        run
    }

    /// Starts a run of `exp` as another user would, already past `Queued`.
    pub fn start_foreign_run(&self, exp: &Experiment, identifiers: serde_json::Value) -> Run {
        self.add_run(exp, identifiers, true)
    }

    /// Adds the experiments' `history` runs, created before now and
    /// already finished, oldest first.
    pub fn add_history(&self, identifiers: &serde_json::Value) {
        let now = now_ms();
        for exp in &self.scenario.experiments {
            for (place, past) in exp.history.iter().enumerate().rev() {
                let minutes = past.minutes_ago.unwrap_or(60 * (place as u64 + 1));
                let mut run = self.add_run(exp, identifiers.clone(), false);
                run.past = Some(past.clone());
                run.created_ms = now.saturating_sub(minutes.saturating_mul(60_000));
                run.updated_ms = run.created_ms;
                run.polls = 1;
                self.with_runs(|runs| {
                    if let Some(r) = runs.iter_mut().find(|r| r.run_id == run.run_id) {
                        *r = run;
                    }
                });
            }
        }
    }

    fn add_run(&self, exp: &Experiment, identifiers: serde_json::Value, foreign: bool) -> Run {
        let (notify_id, run_id) = (self.new_id(), self.new_id());
        self.with_runs(|runs| {
            let earlier = runs.iter().filter(|r| r.experiment_id == exp.id).count();
            let sequence = u32::try_from(earlier).unwrap_or(u32::MAX).saturating_add(1);
            let run = Run::new(exp, notify_id, run_id, identifiers, sequence, foreign);
            runs.push(run.clone());
            run
        })
    }

    /// Runs the closure with the run list locked.
    pub fn with_runs<R>(&self, f: impl FnOnce(&mut Vec<Run>) -> R) -> R {
        f(&mut lock(&self.runs))
    }

    pub fn snapshots(&self) -> Vec<RunSnapshot> {
        lock(&self.runs)
            .iter()
            .map(|run| self.snapshot(run))
            .collect()
    }

    /// One run as a test sees it.
    pub fn snapshot(&self, run: &Run) -> RunSnapshot {
        let exp = self.experiment(&run.experiment_id);
        RunSnapshot {
            experiment_id: run.experiment_id.clone(),
            notify_id: run.notify_id.clone(),
            run_id: run.run_id.clone(),
            phase: exp.as_ref().map(|e| run.view(e).phase).unwrap_or_default(),
            stopped: run.stopped,
            chaos_running: exp.as_ref().is_some_and(|e| run.chaos_running(e)),
            foreign: run.foreign,
            past: run.past.is_some(),
            inputs: run.inputs.clone(),
            polls: run.polls,
            terminal_at_unix_ms: run.terminal_ms,
        }
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
        let e = exp(&["Queued"], 0);
        Run::new(
            &e,
            "n".into(),
            "r".into(),
            serde_json::Value::Null,
            1,
            false,
        )
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
        for p in [
            "Completed",
            "STOPPED",
            "timeout",
            "Terminated",
            "Succeeded",
            "Completed_With_Probe_Absent",
            "Passed",
            "Failed",
            "Interrupted",
            "Completed_With_Error",
            "Skipped",
            "Error",
        ] {
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

    #[test]
    fn chaos_runs_until_the_script_ends_or_a_stop_reaches_the_cluster() {
        let e = exp(&["Queued", "Running", "Completed"], 0);
        let mut r = run();
        assert!(r.chaos_running(&e));
        r.poll(&e);
        r.poll(&e);
        assert!(r.chaos_running(&e));
        r.poll(&e);
        assert!(!r.chaos_running(&e), "ended by itself");

        let mut db_only = run();
        db_only.poll(&e);
        db_only.mark_stopped(&e);
        assert_eq!(db_only.view(&e).phase, "Stopped");
        assert!(db_only.chaos_running(&e), "only the database says Stopped");
        db_only.poll(&e);
        assert!(db_only.chaos_running(&e));
        assert_eq!(db_only.view(&e).index, 0, "the database keeps what it had");

        let mut real = run();
        real.poll(&e);
        real.stop(&e);
        assert!(!real.chaos_running(&e));

        let endless = exp(&["Queued", "Running"], 0);
        let mut r = run();
        for _ in 0..5 {
            r.poll(&endless);
        }
        assert!(
            r.chaos_running(&endless),
            "a non-terminal last phase goes on"
        );
    }

    #[test]
    fn a_pending_stop_shows_on_the_next_poll_unless_finished() {
        let e = exp(&["Queued", "Running", "Completed"], 0);
        let mut r = run();
        r.poll(&e);
        r.stop_on_cluster();
        r.stop_pending = true;
        assert_eq!(r.view(&e).phase, "Queued", "not yet reported");
        r.poll(&e);
        assert_eq!(r.view(&e).phase, "Stopped");
        assert!(r.stopped_by_cluster);

        let mut done = run();
        for _ in 0..3 {
            done.poll(&e);
        }
        done.stop_on_cluster();
        done.stop_pending = true;
        done.poll(&e);
        assert_eq!(done.view(&e).phase, "Completed");
    }

    #[test]
    fn left_queued_once_a_phase_other_than_queued_was_shown() {
        let e = exp(&["Queued", "Queued", "Pending", "Running"], 0);
        let mut r = run();
        let mut seen = Vec::new();
        for _ in 0..4 {
            r.poll(&e);
            seen.push(r.view(&e).left_queued);
        }
        assert_eq!(seen, [false, false, true, true]);
    }

    #[test]
    fn a_foreign_run_runs_until_stopped() {
        let e = exp(&["Queued", "Completed"], 0);
        let mut r = Run::new(&e, "n".into(), "r".into(), serde_json::Value::Null, 1, true);
        for _ in 0..5 {
            r.poll(&e);
        }
        let v = r.view(&e);
        assert_eq!(
            (v.phase.as_str(), v.finished, v.left_queued),
            ("Running", false, true)
        );
        assert!(r.chaos_running(&e));
        r.stop(&e);
        assert_eq!(r.view(&e).phase, "Stopped");
        assert!(!r.chaos_running(&e));
    }

    #[test]
    fn token_budgets_are_per_token() {
        let s = State::new(
            Scenario::from_toml("platform='litmus'\n[litmus]\nproject_id='p'\n").expect("valid"),
            "http://127.0.0.1:1".into(),
            false,
        );
        let a = s.issue_token();
        assert_eq!(s.use_token(&a, None, Some(2)), TokenState::Valid);
        assert_eq!(s.use_token(&a, None, Some(2)), TokenState::Valid);
        assert_eq!(s.use_token(&a, None, Some(2)), TokenState::Expired);
        let b = s.issue_token();
        assert_eq!(s.use_token(&b, None, Some(2)), TokenState::Valid);
        assert_eq!(s.use_token("st", Some("st"), Some(1)), TokenState::Valid);
        assert_eq!(s.use_token("st", Some("st"), Some(1)), TokenState::Expired);
        assert_eq!(s.use_token("nope", Some("st"), None), TokenState::Unknown);
        assert_eq!(s.use_token("", Some(""), None), TokenState::Unknown);
        assert_eq!(s.use_token(&a, None, None), TokenState::Valid);
    }
}
