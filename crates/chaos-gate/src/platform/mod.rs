//! The chaos platforms, behind one trait.
//!
//! The gate only knows [`Platform`]: trigger a stored experiment, poll a set
//! of runs, read a finished run's faults, stop a run, and find a run that a
//! trigger with an unknown outcome may have started. Each platform module
//! turns those into its own API calls; everything it returns is already
//! checked (a score outside 0..100 is an error here, not in the gate).

use crate::verdict::PhaseClass;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

mod any;
mod error;
pub mod execution_data;
pub mod harness;
pub mod inputs;
pub mod litmus;

pub use any::{AnyPlatform, connect};
pub use error::{PlatformError, Source, Transport};
pub use execution_data::Fault;

/// A run the gate is watching.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRef {
    pub experiment_id: String,
    /// Empty for a run adopted from a listing that carries no notify ID
    /// (ChaosCenter's `listExperimentRun`); the first poll by run ID fills
    /// it in.
    pub notify_id: String,
    /// The platform's run ID, once the platform has given one (ChaosCenter
    /// answers `""` until the run leaves `Queued`: that is `None` here).
    pub run_id: Option<String>,
}

impl RunRef {
    /// Whether a poll's answer is about this run: by notify ID when the
    /// gate has one, otherwise by run ID.
    pub fn matches(&self, status: &RunStatus) -> bool {
        if !self.notify_id.is_empty() {
            status.notify_id == self.notify_id
        } else {
            self.run_id.is_some() && status.run_id == self.run_id
        }
    }
}

/// What a platform taught the client about an experiment, by the
/// experiment as the gate was given it: its name (from the execution data),
/// or on Harness an identity's experiment ID (from triggers, polls and
/// look-ups). Shared by the requests in flight, hence the lock.
#[derive(Debug, Default)]
pub(crate) struct Learnt(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl Learnt {
    /// Remembers `value` for `experiment`; a blank value says nothing.
    pub(crate) fn learn(&self, experiment: &str, value: Option<&str>) {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return;
        };
        if let Ok(mut map) = self.0.lock() {
            map.insert(experiment.to_string(), value.to_string());
        }
    }

    pub(crate) fn get(&self, experiment: &str) -> Option<String> {
        self.0.lock().ok()?.get(experiment).cloned()
    }

    /// The items whose experiment nothing was learnt for yet, under one
    /// lock (polls ask this of every run); all of them if the lock is
    /// poisoned.
    pub(crate) fn missing<'a, T>(
        &self,
        items: impl Iterator<Item = &'a T>,
        experiment: impl Fn(&T) -> &str,
    ) -> Vec<&'a T> {
        match self.0.lock() {
            Ok(map) => items.filter(|i| !map.contains_key(experiment(i))).collect(),
            Err(_) => items.collect(),
        }
    }
}

/// A platform's run ID, where `""` (ChaosCenter's "not assigned yet") and
/// whitespace mean none.
pub(crate) fn run_id(raw: Option<String>) -> Option<String> {
    raw.filter(|r| !r.trim().is_empty())
}

/// One run as a poll saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    pub notify_id: String,
    /// The experiment the run belongs to, as the platform says.
    pub experiment_id: Option<String>,
    pub run_id: Option<String>,
    /// The phase string as the server sent it (empty when it sent none).
    pub phase: String,
    /// What the phase means, as the platform maps its own words.
    pub class: PhaseClass,
    /// Checked to be within 0..=100.
    pub score: Option<f64>,
    /// The platform's own error text for the run, if any.
    pub error: Option<String>,
}

/// The phase words of ChaosCenter and the Argo workflows under it, which
/// Harness Chaos Engineering shares: both platforms map their phases with
/// this (a platform with other words maps its own). Matching ignores case:
/// servers have been seen to upper-case phases, and `COMPLETED` meaning
/// anything but `Completed` would surprise everyone.
pub fn chaoscenter_phase(phase: &str) -> PhaseClass {
    const GOING: &[&str] = &["", "queued", "pending", "running", "blocked", "na"];
    const SCORE_DECIDES: &[&str] = &[
        "completed",
        "completed_with_probe_failure",
        "succeeded",
        "completed_with_probe_absent",
        "passed",
    ];
    const FAILS: &[&str] = &[
        "completed_with_error",
        "error",
        "failed",
        "stopped",
        "skipped",
        "timeout",
        "terminated",
        "interrupted",
    ];
    // Compared without a lower-cased copy: polls read every run's phase.
    let p = phase.trim();
    let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(p));
    if is(GOING) {
        PhaseClass::Going
    } else if is(SCORE_DECIDES) {
        PhaseClass::ScoreDecides
    } else if is(FAILS) {
        PhaseClass::Fails
    } else {
        PhaseClass::Unknown
    }
}

/// A run a trigger may have started, found by looking at recent runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRun {
    /// `None` where the listing carries no notify ID (ChaosCenter).
    pub notify_id: Option<String>,
    /// `None` while the platform has not assigned one yet.
    pub run_id: Option<String>,
    pub created_at: SystemTime,
}

/// A past run of an experiment, for its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    pub run_id: Option<String>,
    pub phase: String,
    pub class: PhaseClass,
    /// Checked to be within 0..=100.
    pub score: Option<f64>,
    pub created_at: Option<SystemTime>,
}

/// A stored experiment as a dry run checks it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentInfo {
    pub experiment_id: String,
    pub name: Option<String>,
    pub removed: bool,
    /// `Some(false)` when the platform reports its infrastructure inactive.
    pub infra_active: Option<bool>,
}

/// One probe's result in a finished run, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Probe {
    /// The run it belongs to (for results read for several runs at once).
    pub notify_id: Option<String>,
    pub run_id: Option<String>,
    /// The fault (task) it probes; empty for an experiment-level probe.
    pub fault: String,
    pub name: String,
    /// `SOT`, `EOT`, `Edge`, `Continuous`, `OnChaos`.
    pub mode: Option<String>,
    /// `Passed`, `Failed`, `N/A` (or `NA`), `Awaited`, `Skipped`, or
    /// whatever the platform said.
    pub verdict: Option<String>,
    /// The platform's description of the result (untrusted text).
    pub description: Option<String>,
}

impl Probe {
    /// How the verdict reads for reports: only `Passed` and `Failed` are
    /// evaluated probes.
    pub fn outcome(&self) -> execution_data::FaultOutcome {
        match self
            .verdict
            .as_deref()
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("passed") | Some("pass") => execution_data::FaultOutcome::Passed,
            Some("failed") | Some("fail") => execution_data::FaultOutcome::Failed,
            _ => execution_data::FaultOutcome::NotDecided,
        }
    }

    /// Whether the probe was evaluated (rule 3 of README "Phases and verdicts").
    pub fn evaluated(&self) -> bool {
        self.outcome() != execution_data::FaultOutcome::NotDecided
    }
}

/// Something wrong with the runtime inputs given for an experiment, found
/// by a dry run against the inputs the experiment declares (reference A5).
#[derive(Debug, Clone, PartialEq)]
pub struct InputProblem {
    /// A required input without a value (the run could not start), as
    /// opposed to a given input the experiment does not declare.
    pub missing_required: bool,
    pub message: String,
}

/// A chaos infrastructure, as the gate waits for it (README "Experiment as code").
#[derive(Debug, Clone, PartialEq)]
pub struct InfraInfo {
    pub infra_id: String,
    pub name: Option<String>,
    pub active: bool,
    /// How the platform's save names this infrastructure (Harness's REST
    /// save wants `<environment>/<infrastructure>`).
    pub save_id: String,
}

/// A stored experiment found by its name (README "Experiment as code").
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExperiment {
    pub experiment_id: String,
    pub name: String,
    pub tags: Vec<String>,
}

/// What the gate saves from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveRequest<'a> {
    /// The stored experiment to update; `None` creates one.
    pub existing_id: Option<&'a str>,
    pub name: &'a str,
    pub description: &'a str,
    /// The manifest as compact JSON.
    pub manifest: &'a str,
    pub infra_id: &'a str,
    pub tags: Vec<String>,
}

/// A chaos platform as the gate uses it.
///
/// Methods return `impl Future + Send` rather than using `async fn` so that
/// the gate can run calls for several experiments concurrently.
pub trait Platform: Sync {
    /// Short name for messages and JUnit class names.
    fn name(&self) -> &'static str;

    /// Starts a run of a stored experiment and returns its notify ID. An
    /// [`PlatformError::OutcomeUnknown`] error means a run may have started.
    fn trigger(
        &self,
        experiment_id: &str,
    ) -> impl Future<Output = Result<String, PlatformError>> + Send;

    /// Every run of `experiment_id` created at or after `since` (a trigger
    /// whose answer was lost may have started one of them), newest first.
    /// The gate decides which, if any, is its own.
    fn find_runs(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> impl Future<Output = Result<Vec<FoundRun>, PlatformError>> + Send;

    /// The status of every run in `runs`; a run the platform does not list
    /// yet is left out of the answer.
    fn poll(
        &self,
        runs: &[RunRef],
    ) -> impl Future<Output = Result<Vec<RunStatus>, PlatformError>> + Send;

    /// The faults of a finished run, read once.
    fn faults(
        &self,
        run: &RunRef,
    ) -> impl Future<Output = Result<Vec<Fault>, PlatformError>> + Send;

    /// The faults of several finished runs, one result per run in the
    /// order given. A platform that can read many runs in one request does
    /// so (Harness); the default reads them one by one, all at once, which
    /// the transport's connection bound keeps in check.
    fn faults_of(
        &self,
        runs: &[RunRef],
    ) -> impl Future<Output = Vec<Result<Vec<Fault>, PlatformError>>> + Send {
        futures_util::future::join_all(runs.iter().map(|r| self.faults(r)))
    }

    /// The probe results of finished runs, read once for all of them (one
    /// request where the platform allows). `None`: the platform reports no
    /// probe results this way (the faults' execution data may carry them).
    fn probes(
        &self,
        runs: &[RunRef],
    ) -> impl Future<Output = Result<Option<Vec<Probe>>, PlatformError>> + Send;

    /// A dry run's check of the runtime inputs given against those the
    /// experiment declares: every required input left without a value and
    /// every given input it does not declare. Nothing where the platform
    /// has no runtime inputs.
    fn check_inputs(
        &self,
        _experiment_id: &str,
    ) -> impl Future<Output = Result<Vec<InputProblem>, PlatformError>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Stops a run (one attempt; the gate bounds the time). The run must
    /// have its run ID: a stop that names no run stops other people's runs
    /// or only marks the run stopped (see the fidelity record).
    fn stop(&self, run: &RunRef) -> impl Future<Output = Result<(), PlatformError>> + Send;

    /// The experiment's most recent runs, newest first, at most `limit`,
    /// read in one request (for its baseline).
    fn recent_runs(
        &self,
        experiment_id: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<PastRun>, PlatformError>> + Send;

    /// Checks that an experiment exists (dry run).
    fn check_experiment(
        &self,
        experiment_id: &str,
    ) -> impl Future<Output = Result<ExperimentInfo, PlatformError>> + Send;

    /// The infrastructure `infra_id` and whether it is active. One that
    /// does not exist (or was removed) is [`PlatformError::NotFound`].
    fn infra(
        &self,
        infra_id: &str,
    ) -> impl Future<Output = Result<InfraInfo, PlatformError>> + Send;

    /// The experiment named exactly `name` in the project, if there is one
    /// (removed experiments do not count).
    fn find_experiment(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<StoredExperiment>, PlatformError>> + Send;

    /// Creates or updates an experiment from a manifest and returns its
    /// ID. A manifest the platform refuses is an error carrying the
    /// platform's message.
    fn save_experiment(
        &self,
        request: &SaveRequest<'_>,
    ) -> impl Future<Output = Result<String, PlatformError>> + Send;

    /// A link to the run in the platform's UI, where there is one.
    fn run_link(&self, run: &RunRef) -> Option<String>;

    /// The experiment's name as the platform gave it with a finished run's
    /// execution data (reports name test cases by it, with the ID beside
    /// it); `None` before that or where the platform gave none.
    fn experiment_name(&self, experiment_id: &str) -> Option<String>;

    /// The last request's error while the platform is failing (nothing has
    /// succeeded since): at the deadline it makes the gate's end a platform
    /// error rather than a timeout.
    fn failing(&self) -> Option<String>;
}

/// Status polls and look-ups: small answers.
pub(crate) const SMALL_BODY: usize = 16 * 1024 * 1024;
/// Execution data can be large; a body past this is not a real one.
pub(crate) const EXECUTION_DATA_BODY: usize = 256 * 1024 * 1024;

/// `data` of a `runChaosExperiment` answer, the same on both platforms.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TriggerData {
    run_chaos_experiment: Option<TriggerAnswer>,
}

#[derive(serde::Deserialize)]
struct TriggerAnswer {
    /// Kept loose so that a wrong type reads as "no notify ID".
    #[serde(rename = "notifyID")]
    notify_id: Option<Value>,
}

/// The notify ID of a trigger's answer. An empty one (a scheduled
/// experiment) or none is an error that says so, carrying any `errors`
/// the answer had. A notify ID next to `errors` means a run was started:
/// it is returned, so that the gate watches it (or stops it), and the
/// errors are logged.
pub(crate) fn trigger_notify_id(
    answer: crate::graphql::Partial<TriggerData>,
    what: &str,
    platform: &str,
) -> Result<String, PlatformError> {
    let notify_id = answer
        .data
        .run_chaos_experiment
        .as_ref()
        .and_then(|r| r.notify_id.as_ref());
    match (
        notify_id.and_then(Value::as_str).map(str::trim),
        answer.errors,
    ) {
        (Some(id), errors) if !id.is_empty() => {
            if let Some(e) = errors {
                tracing::warn!(
                    "{what}: the answer names run {id} and also carries errors ({}); watching the run",
                    e
                );
            }
            Ok(id.to_string())
        }
        (_, Some(e)) => Err(e),
        (Some(_), None) => Err(PlatformError::unusable(format!(
            "{what}: {platform} returned an empty notify ID. Scheduled (cron) experiments \
             are started by their schedule and cannot be watched this way; trigger a \
             non-scheduled experiment."
        ))),
        (None, None) => Err(PlatformError::unusable(format!(
            "{what}: the answer has no runChaosExperiment.notifyID"
        ))),
    }
}

/// A new random experiment ID in UUID form (version 4).
pub(crate) fn new_experiment_id() -> Result<String, PlatformError> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| PlatformError::unusable("no random numbers for a new experiment ID"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// The `infra { isActive }` of an experiment, the same on both platforms.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Infra {
    pub is_active: Option<bool>,
}

/// A score as reported, checked to be within 0..100.
pub(crate) fn checked_score(
    what: &str,
    notify_id: &str,
    score: Option<f64>,
) -> Result<Option<f64>, PlatformError> {
    match score {
        Some(s) if !(0.0..=100.0).contains(&s) => Err(PlatformError::unusable(format!(
            "{what}: run {notify_id} reports resiliencyScore {s}, outside 0..100"
        ))),
        s => Ok(s),
    }
}

/// A run listed while looking for the run of a lost trigger.
pub(crate) struct Candidate {
    pub experiment_id: Option<String>,
    pub notify_id: Option<String>,
    pub run_id: Option<String>,
    pub created_at: Option<Value>,
}

/// The runs of `experiment_id` created at or after `since`, newest first.
/// A listing without an experiment ID cannot be the gate's run.
pub(crate) fn runs_since(
    candidates: impl IntoIterator<Item = Candidate>,
    experiment_id: &str,
    since: SystemTime,
) -> Vec<FoundRun> {
    let mut found: Vec<FoundRun> = candidates
        .into_iter()
        .filter(|c| c.experiment_id.as_deref() == Some(experiment_id))
        .filter_map(|c| {
            let at = c.created_at.as_ref().and_then(created_at)?;
            (at >= since).then(|| FoundRun {
                notify_id: c.notify_id.filter(|n| !n.trim().is_empty()),
                run_id: run_id(c.run_id),
                created_at: at,
            })
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.created_at));
    found
}

/// A past run from a listing, with its score checked.
pub(crate) fn past_run(
    what: &str,
    run_id_raw: Option<String>,
    phase: Option<String>,
    score: Option<f64>,
    created: Option<&Value>,
) -> Option<PastRun> {
    let run_id = run_id(run_id_raw);
    // A listing is read for context: a run with an impossible score is left
    // out rather than failing the gate.
    let score = checked_score(what, run_id.as_deref().unwrap_or("?"), score).ok()?;
    let phase = phase.unwrap_or_default();
    Some(PastRun {
        run_id,
        class: chaoscenter_phase(&phase),
        phase,
        score,
        created_at: created.and_then(created_at),
    })
}

/// A run's `createdAt`: Unix milliseconds or seconds, as a string or a
/// number (both platforms have sent both).
fn created_at(value: &Value) -> Option<SystemTime> {
    let n = match value {
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    // Milliseconds since 1973 are larger than any plausible seconds value.
    let secs = if n > 1e11 { n / 1000.0 } else { n };
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phases_follow_the_table() {
        for p in ["Queued", "Pending", "Running", "Blocked", "NA", ""] {
            assert_eq!(chaoscenter_phase(p), PhaseClass::Going, "{p}");
        }
        for p in [
            "Completed",
            "Completed_With_Probe_Failure",
            "Succeeded",
            "COMPLETED",
            "Completed_With_Probe_Absent",
            "Passed",
        ] {
            assert_eq!(chaoscenter_phase(p), PhaseClass::ScoreDecides, "{p}");
        }
        for p in [
            "Completed_With_Error",
            "Error",
            "Failed",
            "Stopped",
            "Skipped",
            "Timeout",
            "Terminated",
            "Interrupted",
        ] {
            assert_eq!(chaoscenter_phase(p), PhaseClass::Fails, "{p}");
        }
        assert_eq!(chaoscenter_phase("Paused"), PhaseClass::Unknown);
    }

    #[test]
    fn created_at_reads_millis_and_seconds() {
        let t = created_at(&json!("1700000000000")).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_700_000_000
        );
        let t = created_at(&json!(1700000000)).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_700_000_000
        );
        assert!(created_at(&json!("soon")).is_none());
        assert!(created_at(&json!(-5)).is_none());
    }

    #[test]
    fn runs_since_are_the_experiments_newest_first() {
        let c = |e: &str, n: &str, at: &str| Candidate {
            experiment_id: Some(e.to_string()),
            notify_id: Some(n.to_string()),
            run_id: Some(String::new()),
            created_at: Some(json!(at)),
        };
        let since = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let found = runs_since(
            [
                c("exp", "old", "1699999999000"),
                c("exp", "new", "1700000005000"),
                c("exp", "", "1700000009000"),
                c("other", "x", "1700000010000"),
            ],
            "exp",
            since,
        );
        let ids: Vec<Option<&str>> = found.iter().map(|f| f.notify_id.as_deref()).collect();
        assert_eq!(ids, [None, Some("new")]);
        assert!(
            found.iter().all(|f| f.run_id.is_none()),
            "\"\" is no run ID"
        );
        assert!(runs_since([c("exp", "old", "1")], "exp", since).is_empty());
    }

    #[test]
    fn scores_outside_0_to_100_are_refused() {
        assert_eq!(checked_score("op", "n", Some(100.0)).unwrap(), Some(100.0));
        assert_eq!(checked_score("op", "n", None).unwrap(), None);
        assert!(checked_score("op", "n", Some(100.5)).is_err());
        assert!(checked_score("op", "n", Some(-0.1)).is_err());
    }
}
