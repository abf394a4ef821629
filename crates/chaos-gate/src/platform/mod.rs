//! The chaos platforms, behind one trait.
//!
//! The gate only knows [`Platform`]: trigger a stored experiment, poll a set
//! of runs, read a finished run's faults, stop a run, and find a run that a
//! trigger with an unknown outcome may have started. Each platform module
//! turns those into its own API calls; everything it returns is already
//! checked (a score outside 0..100 is an error here, not in the gate).

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub mod execution_data;
pub mod harness;
pub mod litmus;

pub use execution_data::Fault;

/// What kind of failure a platform call ended in; decides what the gate does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 401/403: the credentials are wrong; no retry.
    Auth,
    /// No usable answer after retries: connection errors, 5xx, 429.
    Unreachable,
    /// An answer that cannot be used: not JSON, GraphQL errors, missing
    /// fields, impossible values, a 4xx.
    Unusable,
    /// The answer was larger than any real one; reading stopped.
    TooLarge,
    /// A trigger that may or may not have started a run.
    OutcomeUnknown,
}

/// A failed platform call, with a message for people.
#[derive(Debug, Clone)]
pub struct PlatformError {
    pub kind: ErrorKind,
    pub message: String,
}

impl PlatformError {
    /// Adds what to check to a refused-credentials error; other errors pass.
    pub(crate) fn hint_auth(self, check: &str) -> PlatformError {
        if self.kind == ErrorKind::Auth {
            PlatformError::new(ErrorKind::Auth, format!("{}. Check {check}.", self.message))
        } else {
            self
        }
    }

    pub fn new(kind: ErrorKind, message: impl Into<String>) -> PlatformError {
        PlatformError {
            kind,
            message: message.into(),
        }
    }

    pub fn unusable(message: impl Into<String>) -> PlatformError {
        PlatformError::new(ErrorKind::Unusable, message)
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlatformError {}

/// A run the gate is watching.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRef {
    pub experiment_id: String,
    pub notify_id: String,
    /// The platform's run ID, once a poll has shown it.
    pub run_id: Option<String>,
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
    /// Checked to be within 0..=100.
    pub score: Option<f64>,
    /// The platform's own error text for the run, if any.
    pub error: Option<String>,
}

/// A run a trigger may have started, found by looking at recent runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRun {
    pub notify_id: String,
    pub run_id: Option<String>,
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

/// A chaos platform as the gate uses it.
///
/// Methods return `impl Future + Send` rather than using `async fn` so that
/// the gate can run calls for several experiments concurrently.
pub trait Platform: Sync {
    /// Short name for messages and JUnit class names.
    fn name(&self) -> &'static str;

    /// Starts a run of a stored experiment and returns its notify ID. An
    /// [`ErrorKind::OutcomeUnknown`] error means a run may have started.
    fn trigger(
        &self,
        experiment_id: &str,
    ) -> impl Future<Output = Result<String, PlatformError>> + Send;

    /// Looks for a run of `experiment_id` created at or after `since` (a
    /// trigger whose answer was lost may have started it).
    fn find_run(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> impl Future<Output = Result<Option<FoundRun>, PlatformError>> + Send;

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

    /// Stops a run (one attempt; the gate bounds the time).
    fn stop(&self, run: &RunRef) -> impl Future<Output = Result<(), PlatformError>> + Send;

    /// Checks that an experiment exists (dry run).
    fn check_experiment(
        &self,
        experiment_id: &str,
    ) -> impl Future<Output = Result<ExperimentInfo, PlatformError>> + Send;

    /// A link to the run in the platform's UI, where there is one.
    fn run_link(&self, run: &RunRef) -> Option<String>;

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

impl TriggerData {
    /// The notify ID; an empty one (a scheduled experiment) or none is an
    /// error that says so.
    pub(crate) fn notify_id(&self, what: &str, platform: &str) -> Result<String, PlatformError> {
        let notify_id = self
            .run_chaos_experiment
            .as_ref()
            .and_then(|r| r.notify_id.as_ref());
        match notify_id.and_then(Value::as_str).map(str::trim) {
            Some("") => Err(PlatformError::unusable(format!(
                "{what}: {platform} returned an empty notify ID. Scheduled (cron) experiments \
                 are started by their schedule and cannot be watched this way; trigger a \
                 non-scheduled experiment."
            ))),
            Some(id) => Ok(id.to_string()),
            None => Err(PlatformError::unusable(format!(
                "{what}: the answer has no runChaosExperiment.notifyID"
            ))),
        }
    }
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

/// The newest run of `experiment_id` created at or after `since`.
pub(crate) fn newest_since(
    candidates: impl IntoIterator<Item = Candidate>,
    experiment_id: &str,
    since: SystemTime,
) -> Option<FoundRun> {
    candidates
        .into_iter()
        .filter(|c| {
            c.experiment_id
                .as_deref()
                .is_none_or(|e| e == experiment_id)
        })
        .filter_map(|c| {
            let at = c.created_at.as_ref().and_then(created_at)?;
            let notify_id = c.notify_id.filter(|n| !n.is_empty())?;
            (at >= since).then_some((
                at,
                FoundRun {
                    notify_id,
                    run_id: c.run_id,
                },
            ))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, run)| run)
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
    fn the_newest_run_since_wins() {
        let c = |e: &str, n: &str, at: &str| Candidate {
            experiment_id: Some(e.to_string()),
            notify_id: Some(n.to_string()),
            run_id: None,
            created_at: Some(json!(at)),
        };
        let since = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let found = newest_since(
            [
                c("exp", "old", "1699999999000"),
                c("exp", "new", "1700000005000"),
                c("exp", "newer", "1700000009000"),
                c("other", "x", "1700000010000"),
            ],
            "exp",
            since,
        );
        assert_eq!(found.map(|f| f.notify_id).as_deref(), Some("newer"));
        assert!(newest_since([c("exp", "old", "1")], "exp", since).is_none());
    }

    #[test]
    fn scores_outside_0_to_100_are_refused() {
        assert_eq!(checked_score("op", "n", Some(100.0)).unwrap(), Some(100.0));
        assert_eq!(checked_score("op", "n", None).unwrap(), None);
        assert!(checked_score("op", "n", Some(100.5)).is_err());
        assert!(checked_score("op", "n", Some(-0.1)).is_err());
    }
}
