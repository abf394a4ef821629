//! The report model: the events a gate emits while it runs and the final
//! [`GateReport`]. Every reporter (console, JUnit, GitHub, GitLab, Drone)
//! reads only these types, so a new output is a new reporter and nothing
//! else.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::platform::{Fault, Probe};
use crate::verdict::{Outcome, RunVerdict};

/// What the gate did for one experiment.
///
/// Serialised as the JSON log's `run_finished` event shows a run: the
/// fields a log reader needs, the rest skipped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    pub experiment_id: String,
    /// The experiment's name, where the platform gave one (test cases are
    /// named by it, with the ID beside it). In the JSON log as
    /// `experiment_name`, when there is one.
    #[serde(rename = "experiment_name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub notify_id: Option<String>,
    #[serde(skip)]
    pub run_id: Option<String>,
    #[serde(skip)]
    pub link: Option<String>,
    /// The last phase seen; `None` if the run was never listed.
    pub phase: Option<String>,
    /// What that phase means, as the platform mapped it.
    #[serde(skip)]
    pub phase_class: Option<crate::verdict::PhaseClass>,
    #[serde(rename = "resilience_score")]
    pub score: Option<f64>,
    pub verdict: RunVerdict,
    /// Why the verdict is what it is, for people.
    pub message: String,
    pub faults: Vec<Fault>,
    /// The run's probe results: `None` when the platform reported none
    /// (or they could not be read), so reports say so rather than invent.
    pub probes: Option<Vec<Probe>>,
    /// From the trigger to the verdict.
    #[serde(skip)]
    pub duration: Duration,
    /// The experiment's baseline (README "Phases and verdicts"), when `baseline_runs` is set and
    /// one could be read.
    #[serde(skip)]
    pub baseline: Option<Baseline>,
    /// `Some(true)`: this gate stopped the run and the platform confirmed
    /// it; `Some(false)`: a stop was sent (or due) but not confirmed, so
    /// the chaos may still be running; `None`: no stop was sent.
    #[serde(skip)]
    pub stopped: Option<bool>,
}

impl ExperimentReport {
    /// An experiment with no run to show: not started, or only checked;
    /// with `..` the start of every other report.
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
            phase_class: None,
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
    /// Experiment as code (README "Experiment as code"): what the create/update step did.
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
        serde_json::to_string(&self.results()).unwrap_or_else(|_| "[]".to_string())
    }

    /// The entries of the `results` output.
    fn results(&self) -> Vec<ResultEntry> {
        use crate::text::bounded;
        self.experiments
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
            .collect()
    }
}

/// Something that happened while the gate ran, in the order it happened.
///
/// Serialised (inside [`Stamped`]) as one object of the JSON log, its kind
/// under `event`; the field names are that log's.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    Started {
        platform: &'a str,
        endpoint: &'a str,
        experiments: &'a [String],
        /// The notify ID of a run watched without triggering.
        #[serde(rename = "notify_id")]
        attach: Option<&'a str>,
        #[serde(rename = "expected_resilience_score")]
        threshold: f64,
        #[serde(rename = "timeout_seconds", serialize_with = "seconds_f64")]
        timeout: Duration,
        #[serde(rename = "poll_interval_seconds", serialize_with = "seconds_f64")]
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
    #[serde(rename = "phase")]
    PhaseChanged {
        experiment_id: &'a str,
        from: Option<&'a str>,
        #[serde(rename = "phase")]
        to: &'a str,
        #[serde(rename = "resilience_score")]
        score: Option<f64>,
    },
    Heartbeat {
        #[serde(rename = "elapsed_seconds", serialize_with = "whole_seconds")]
        elapsed: Duration,
        #[serde(rename = "remaining_seconds", serialize_with = "whole_seconds")]
        remaining: Duration,
        /// Experiment and last phase seen (`None`: not listed yet).
        #[serde(serialize_with = "waiting_runs")]
        waiting: &'a [(String, Option<String>)],
    },
    Warning {
        message: &'a str,
    },
    /// An experiment's baseline was read (`None`: it has no finished run
    /// to compare with).
    #[serde(rename = "baseline")]
    BaselineRead {
        experiment_id: &'a str,
        baseline: Option<&'a Baseline>,
        /// The number of runs asked for (`baseline_runs`).
        wanted: u32,
    },
    RunFinished {
        #[serde(flatten)]
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
        #[serde(flatten, serialize_with = "finished_fields")]
        report: &'a GateReport,
    },
    /// A step of experiment as code (README "Experiment as code"): waiting for the
    /// infrastructure, creating or updating the experiment. `kind` names
    /// the step for machine-readable logs: it is the JSON log's `event`.
    #[serde(untagged)]
    Progress {
        #[serde(rename = "event")]
        kind: ProgressKind,
        message: &'a str,
    },
}

/// The steps of experiment as code, as the JSON log names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressKind {
    /// The manifest was read and the step begins.
    ExperimentFile,
    /// The step failed.
    ExperimentFileFailed,
    InfraActive,
    InfraWaiting,
    /// The stored experiment was found and compared.
    ExperimentChecked,
    /// The experiment was created or updated.
    ExperimentSaved,
}

/// An event and when it happened: what reporters receive. [`Reporters`]
/// stamps each event as it fans it out.
///
/// [`Reporters`]: crate::reporter::Reporters
#[derive(Debug, Clone, Serialize)]
pub struct Stamped<'a> {
    /// RFC 3339, UTC, to the millisecond.
    #[serde(serialize_with = "rfc3339")]
    pub timestamp: SystemTime,
    #[serde(flatten)]
    pub event: &'a Event<'a>,
}

impl<'a> Stamped<'a> {
    /// The event, stamped now.
    pub fn now(event: &'a Event<'a>) -> Stamped<'a> {
        Stamped {
            timestamp: SystemTime::now(),
            event,
        }
    }
}

fn rfc3339<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_millis(*t))
}

fn seconds_f64<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn whole_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

/// The runs a heartbeat waits for, as `{experiment_id, phase}` objects.
fn waiting_runs<S: serde::Serializer>(
    waiting: &&[(String, Option<String>)],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Waiting<'a> {
        experiment_id: &'a str,
        phase: Option<&'a str>,
    }
    s.collect_seq(waiting.iter().map(|(e, p)| Waiting {
        experiment_id: e,
        phase: p.as_deref(),
    }))
}

/// The gate's end as the JSON log's `finished` event shows it.
fn finished_fields<S: serde::Serializer>(report: &&GateReport, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Finished<'a> {
        verdict: &'static str,
        resilience_score: Option<f64>,
        notify_ids: String,
        error: Option<&'a str>,
        summary: String,
        results: Vec<ResultEntry>,
    }
    Finished {
        verdict: report.outcome.verdict(),
        resilience_score: report.lowest_score(),
        notify_ids: report.notify_ids(),
        error: report.outcome.platform_error.as_deref(),
        summary: crate::reporter::console::summary(report),
        results: report.results(),
    }
    .serialize(s)
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
            phase: Some("Completed".into()),
            score,
            ..ExperimentReport::without_run(id, Some(format!("n-{id}")), verdict, String::new())
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

    /// The JSON log's keys per event, as the hand-written log had them
    /// (the console adds `version` to `started` and `junit_path` to
    /// `finished`), plus the timestamp.
    #[test]
    fn events_serialise_with_the_json_logs_keys() {
        let report = exp("a", Some(90.0), RunVerdict::Pass);
        let gate = GateReport {
            platform: "harness",
            threshold: 80.0,
            warning_score: None,
            outcome: Outcome::default(),
            experiments: vec![report.clone()],
            started_at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            dry_run: false,
            sync: None,
        };
        let baseline = Baseline {
            score: 90.0,
            scores: vec![90.0],
            run_ids: vec![],
        };
        let experiments = vec!["a".to_string()];
        let waiting = vec![("a".to_string(), None)];
        let cases: Vec<(Event<'_>, &str, &[&str])> = vec![
            (
                Event::Started {
                    platform: "harness",
                    endpoint: "https://x/",
                    experiments: &experiments,
                    attach: None,
                    threshold: 90.0,
                    timeout: Duration::from_secs(60),
                    poll_interval: Duration::from_millis(1500),
                    dry_run: false,
                },
                "started",
                &[
                    "platform",
                    "endpoint",
                    "experiments",
                    "notify_id",
                    "expected_resilience_score",
                    "timeout_seconds",
                    "poll_interval_seconds",
                    "dry_run",
                ],
            ),
            (
                Event::BaselineRead {
                    experiment_id: "a",
                    baseline: Some(&baseline),
                    wanted: 3,
                },
                "baseline",
                &["experiment_id", "baseline", "wanted"],
            ),
            (
                Event::PhaseChanged {
                    experiment_id: "a",
                    from: None,
                    to: "Running",
                    score: None,
                },
                "phase",
                &["experiment_id", "from", "phase", "resilience_score"],
            ),
            (
                Event::Heartbeat {
                    elapsed: Duration::from_millis(30_500),
                    remaining: Duration::from_secs(10),
                    waiting: &waiting,
                },
                "heartbeat",
                &["elapsed_seconds", "remaining_seconds", "waiting"],
            ),
            (
                Event::Progress {
                    kind: ProgressKind::InfraWaiting,
                    message: "m",
                },
                "infra_waiting",
                &["message"],
            ),
            (
                Event::RunFinished { report: &report },
                "run_finished",
                &[
                    "experiment_id",
                    "notify_id",
                    "phase",
                    "resilience_score",
                    "verdict",
                    "message",
                    "faults",
                    "probes",
                ],
            ),
            (
                Event::StopConfirmed {
                    experiment_id: "a",
                    phase: "Stopped",
                },
                "stop_confirmed",
                &["experiment_id", "phase"],
            ),
            (
                Event::Finished { report: &gate },
                "finished",
                &[
                    "verdict",
                    "resilience_score",
                    "notify_ids",
                    "error",
                    "summary",
                    "results",
                ],
            ),
        ];
        for (event, tag, keys) in &cases {
            let v = serde_json::to_value(Stamped::now(event)).unwrap();
            let mut got: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            let mut want: Vec<&str> = keys.to_vec();
            want.extend(["event", "timestamp"]);
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{tag}");
            assert_eq!(v["event"], *tag);
        }
        let v = serde_json::to_value(Stamped {
            timestamp: SystemTime::UNIX_EPOCH,
            event: &cases[3].0,
        })
        .unwrap();
        assert_eq!(v["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["elapsed_seconds"], 30);
        assert_eq!(v["waiting"][0]["experiment_id"], "a");
        assert!(v["waiting"][0]["phase"].is_null());
        let v = serde_json::to_value(Stamped::now(&cases[0].0)).unwrap();
        assert_eq!(v["timeout_seconds"], 60.0);
        assert_eq!(v["poll_interval_seconds"], 1.5);
        let v = serde_json::to_value(Stamped::now(&cases[7].0)).unwrap();
        assert_eq!(v["verdict"], "pass");
        assert_eq!(v["results"][0]["experiment_id"], "a");
    }
}
