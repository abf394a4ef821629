//! The report model: the events a gate emits while it runs and the final
//! [`GateReport`]. Every reporter (console, JUnit, GitHub, GitLab, Drone)
//! reads only these types, so a new output is a new reporter and nothing
//! else.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::platform::{Fault, Probe};
use crate::verdict::{Outcome, RunVerdict};

/// What the gate did for one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentReport {
    pub experiment_id: String,
    /// The experiment's name, where the platform gave one (test cases are
    /// named by it, with the ID beside it).
    pub name: Option<String>,
    pub notify_id: Option<String>,
    pub run_id: Option<String>,
    pub link: Option<String>,
    /// The last phase seen; `None` if the run was never listed.
    pub phase: Option<String>,
    pub score: Option<f64>,
    pub verdict: RunVerdict,
    /// Why the verdict is what it is, for people.
    pub message: String,
    pub faults: Vec<Fault>,
    /// The run's probe results: `None` when the platform reported none
    /// (or they could not be read), so reports say so rather than invent.
    pub probes: Option<Vec<Probe>>,
    /// From the trigger to the verdict.
    pub duration: Duration,
    /// The experiment's baseline (§4), when `baseline_runs` is set and
    /// one could be read.
    pub baseline: Option<Baseline>,
    /// `Some(true)`: this gate stopped the run and the platform confirmed
    /// it; `Some(false)`: a stop was sent (or due) but not confirmed, so
    /// the chaos may still be running; `None`: no stop was sent.
    pub stopped: Option<bool>,
}

impl ExperimentReport {
    /// An experiment with no run to show: not started, or only checked.
    pub fn without_run(
        experiment_id: &str,
        notify_id: Option<String>,
        verdict: RunVerdict,
        message: String,
    ) -> ExperimentReport {
        ExperimentReport {
            experiment_id: experiment_id.to_string(),
            name: None,
            notify_id,
            run_id: None,
            link: None,
            phase: None,
            score: None,
            verdict,
            message,
            faults: Vec::new(),
            probes: None,
            duration: Duration::ZERO,
            baseline: None,
            stopped: None,
        }
    }
}

/// An experiment's baseline: the median score of its last finished runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    pub score: f64,
    /// The scores it came from, oldest first.
    pub scores: Vec<f64>,
    /// Their run IDs, where the platform gave them, oldest first.
    pub run_ids: Vec<String>,
}

/// The whole gate, once it is over.
#[derive(Debug, Clone)]
pub struct GateReport {
    pub platform: &'static str,
    pub threshold: f64,
    pub warning_score: Option<f64>,
    pub outcome: Outcome,
    pub experiments: Vec<ExperimentReport>,
    pub started_at: SystemTime,
    pub duration: Duration,
    pub dry_run: bool,
    /// Experiment as code (spec §9): what the create/update step did.
    pub sync: Option<SyncReport>,
}

/// What the gate did with the stored experiment of `experiment_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncAction {
    Created,
    Updated,
    Unchanged,
}

impl SyncAction {
    /// The `experiment_action` output.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncAction::Created => "created",
            SyncAction::Updated => "updated",
            SyncAction::Unchanged => "unchanged",
        }
    }
}

/// The create/update step of experiment as code.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    /// The manifest's experiment name.
    pub name: String,
    /// The manifest file, as given.
    pub file: String,
    pub infra_id: String,
    /// What happened (or, in a dry run, would happen); `None` when the
    /// step failed before deciding.
    pub action: Option<SyncAction>,
    /// The stored experiment's ID, once known.
    pub experiment_id: Option<String>,
    /// Why the step failed; `None` when it succeeded.
    pub error: Option<String>,
    pub duration: Duration,
}

impl SyncReport {
    /// The `experiment_action` output: empty when nothing was done.
    pub fn action_output(&self) -> &'static str {
        match (&self.error, self.action) {
            (None, Some(a)) => a.as_str(),
            _ => "",
        }
    }
}

/// One entry of the `results` output. Platform text is cut to
/// [`crate::text::BOUNDED_MAX`] characters (GitHub keeps 1 MB per output).
#[derive(Serialize)]
struct ResultEntry {
    experiment_id: String,
    notify_id: Option<String>,
    phase: Option<String>,
    resilience_score: Option<f64>,
    verdict: RunVerdict,
    baseline_score: Option<f64>,
    stopped: Option<bool>,
}

impl GateReport {
    /// The lowest score of the runs that reported one.
    pub fn lowest_score(&self) -> Option<f64> {
        self.experiments
            .iter()
            .filter_map(|e| e.score)
            .min_by(f64::total_cmp)
    }

    /// The `resilience_score` output: the lowest score, or empty.
    pub fn score_output(&self) -> String {
        self.lowest_score()
            .map(crate::verdict::fmt_score)
            .unwrap_or_default()
    }

    /// The `notify_ids` output: comma-separated, in experiment order, each
    /// cut to [`crate::text::SHOWN_MAX`] characters (real ones are UUIDs).
    pub fn notify_ids(&self) -> String {
        self.experiments
            .iter()
            .filter_map(|e| e.notify_id.as_deref())
            .map(|n| crate::text::cut(n, crate::text::SHOWN_MAX))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `results` output: a JSON array, one object per experiment.
    pub fn results_json(&self) -> String {
        use crate::text::bounded;
        let entries: Vec<ResultEntry> = self
            .experiments
            .iter()
            .map(|e| ResultEntry {
                experiment_id: bounded(&e.experiment_id),
                notify_id: e.notify_id.as_deref().map(bounded),
                phase: e.phase.as_deref().map(bounded),
                // No negative zero: `-0.0 + 0.0` is `0.0`.
                resilience_score: e.score.map(|s| s + 0.0),
                verdict: e.verdict,
                baseline_score: e.baseline.as_ref().map(|b| b.score),
                stopped: e.stopped,
            })
            .collect();
        serde_json::to_string(&entries).unwrap_or_else(|_| "[]".to_string())
    }
}

/// Something that happened while the gate ran, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Started {
        platform: &'a str,
        endpoint: &'a str,
        experiments: &'a [String],
        /// The notify ID of a run watched without triggering.
        attach: Option<&'a str>,
        threshold: f64,
        timeout: Duration,
        poll_interval: Duration,
        dry_run: bool,
    },
    Triggered {
        experiment_id: &'a str,
        notify_id: &'a str,
        link: Option<&'a str>,
        /// A lost trigger's run, found and watched instead of triggering again.
        adopted: bool,
    },
    Attached {
        experiment_id: &'a str,
        notify_id: &'a str,
    },
    /// The platform listed the run for the first time.
    Listed {
        experiment_id: &'a str,
        run_id: Option<&'a str>,
        link: Option<&'a str>,
    },
    PhaseChanged {
        experiment_id: &'a str,
        from: Option<&'a str>,
        to: &'a str,
        score: Option<f64>,
    },
    Heartbeat {
        elapsed: Duration,
        remaining: Duration,
        /// Experiment and last phase seen (`None`: not listed yet).
        waiting: &'a [(String, Option<String>)],
    },
    Warning {
        message: &'a str,
    },
    /// An experiment's baseline was read (`None`: it has no finished run
    /// to compare with).
    BaselineRead {
        experiment_id: &'a str,
        baseline: Option<&'a Baseline>,
        /// The number of runs asked for (`baseline_runs`).
        wanted: u32,
    },
    RunFinished {
        report: &'a ExperimentReport,
    },
    Checked {
        experiment_id: &'a str,
        name: Option<&'a str>,
        problem: Option<&'a str>,
    },
    Stopping {
        experiment_id: &'a str,
        notify_id: &'a str,
    },
    Stopped {
        experiment_id: &'a str,
        error: Option<&'a str>,
    },
    /// A stopped run showed a finished phase: the stop is confirmed.
    StopConfirmed {
        experiment_id: &'a str,
        phase: &'a str,
    },
    Finished {
        report: &'a GateReport,
    },
    /// A step of experiment as code (spec §9): waiting for the
    /// infrastructure, creating or updating the experiment. `kind` names
    /// the step for machine-readable logs.
    Progress {
        kind: &'static str,
        message: &'a str,
    },
}

/// Where the gate sends its events.
pub trait EventSink {
    fn emit(&mut self, event: &Event<'_>);
}

/// A sink that keeps nothing (for tests and the quiet paths).
pub struct Discard;

impl EventSink for Discard {
    fn emit(&mut self, _: &Event<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(id: &str, score: Option<f64>, verdict: RunVerdict) -> ExperimentReport {
        ExperimentReport {
            experiment_id: id.into(),
            name: None,
            notify_id: Some(format!("n-{id}")),
            run_id: None,
            link: None,
            phase: Some("Completed".into()),
            score,
            verdict,
            message: String::new(),
            faults: vec![],
            probes: None,
            duration: Duration::ZERO,
            baseline: None,
            stopped: None,
        }
    }

    #[test]
    fn outputs_summarise_the_runs() {
        let r = GateReport {
            platform: "harness",
            threshold: 80.0,
            warning_score: None,
            outcome: Outcome::default(),
            experiments: vec![
                exp("a", Some(90.0), RunVerdict::Pass),
                exp("b", Some(70.5), RunVerdict::Fail),
                exp("c", None, RunVerdict::Fail),
            ],
            started_at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            dry_run: false,
            sync: None,
        };
        assert_eq!(r.lowest_score(), Some(70.5));
        assert_eq!(r.score_output(), "70.5");
        assert_eq!(r.notify_ids(), "n-a,n-b,n-c");
        let v: serde_json::Value = serde_json::from_str(&r.results_json()).unwrap();
        assert_eq!(v[1]["verdict"], "fail");
        assert_eq!(v[2]["resilience_score"], serde_json::Value::Null);
        assert_eq!(v[0]["experiment_id"], "a");
        assert_eq!(v[0]["stopped"], serde_json::Value::Null);
    }
}
