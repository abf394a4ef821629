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

/// A run's `createdAt`: Unix milliseconds or seconds, as a string or a
/// number (both platforms have sent both).
pub(crate) fn created_at(value: &Value) -> Option<SystemTime> {
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
}
