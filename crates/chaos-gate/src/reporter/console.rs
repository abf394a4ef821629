//! The console: a line per trigger, per phase change and per heartbeat while
//! the gate runs, and a final table (README "Reports and outputs"). With `log_format=json` each
//! of those is one JSON object per line instead: the event as serde
//! writes it ([`Stamped`]: its kind under `event`, its `timestamp`).
//!
//! Every piece of platform text goes through [`shown`] (or
//! [`shown_message`] for messages that carry it), so it is short, cannot
//! start a new line (and with it a CI workflow command) nor move the
//! cursor; and every line goes through [`Stdout::line`], which makes sure
//! of the same for the whole line.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::Reporter;
use crate::output::Stdout;
use crate::platform::execution_data::FaultOutcome;
use crate::report::{Event, GateReport, Stamped};
use crate::settings::LogFormat;
use crate::text::{shown, shown_message};
use crate::verdict::fmt_score;

/// Prints the gate's progress and final table.
pub struct Console {
    out: Stdout,
    format: LogFormat,
    junit_path: PathBuf,
}

impl Console {
    pub fn new(out: Stdout, format: LogFormat, junit_path: PathBuf) -> Console {
        Console {
            out,
            format,
            junit_path,
        }
    }

    fn line(&mut self, text: &str) {
        self.out.line(text);
    }

    fn json(&mut self, mut value: serde_json::Value) {
        tidy_json(&mut value);
        self.line(&value.to_string());
    }
}

/// The JSON log's one escaping point: every string cut to
/// [`crate::text::MESSAGE_MAX`] characters (JSON escapes the rest), and no
/// negative zero among the numbers.
fn tidy_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let cut = crate::text::cut(s, crate::text::MESSAGE_MAX);
            let cut = crate::secret::redact(&cut);
            if cut.len() != s.len() || cut != s.as_str() {
                *s = cut.into_owned();
            }
        }
        Value::Number(n) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            *value = json!(0.0)
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_json),
        Value::Object(map) => map.values_mut().for_each(tidy_json),
        _ => {}
    }
}

fn dur(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

fn score(s: Option<f64>) -> String {
    s.map(fmt_score).unwrap_or_else(|| "-".to_string())
}

impl Reporter for Console {
    fn event(&mut self, stamped: &Stamped<'_>) {
        if self.format == LogFormat::Json {
            self.event_json(stamped);
            return;
        }
        match stamped.event {
            Event::BaselineRead {
                experiment_id,
                baseline,
                wanted,
            } => match baseline {
                Some(b) => self.line(&format!(
                    "{}: baseline {} (median of its last {} finished run(s) of {wanted} asked: {} {})",
                    shown(experiment_id),
                    fmt_score(b.score),
                    b.scores.len(),
                    sparkline(&b.scores),
                    b.scores.iter().map(|s| fmt_score(*s)).collect::<Vec<_>>().join(" ")
                )),
                None => self.line(&format!(
                    "{}: no baseline, the experiment has no finished run with a score to compare with",
                    shown(experiment_id)
                )),
            },
            Event::Started {
                platform,
                endpoint,
                experiments,
                attach,
                threshold,
                timeout,
                poll_interval,
                dry_run,
            } => {
                let what = if *dry_run { "dry run" } else { "gate" };
                let on = match attach {
                    Some(n) => format!("the run with notify ID {}", shown(n)),
                    None => format!("{} experiment(s)", experiments.len()),
                };
                self.line(&format!(
                    "chaos-gate {}: {what} on {platform} at {endpoint} for {on}; \
                     expected resilience score {}, timeout {}, polling every {}",
                    env!("CARGO_PKG_VERSION"),
                    fmt_score(*threshold),
                    dur(*timeout),
                    humantime::format_duration(*poll_interval),
                ));
            }
            Event::Triggered {
                experiment_id,
                notify_id,
                link,
                adopted,
            } => {
                let how = if *adopted {
                    "found the run a lost trigger started for"
                } else {
                    "triggered"
                };
                let link = link.map(|l| format!(" {}", shown(l))).unwrap_or_default();
                self.line(&format!(
                    "{how} {}: notify ID {}{link}",
                    shown(experiment_id),
                    shown(notify_id)
                ));
            }
            Event::Attached {
                experiment_id,
                notify_id,
            } => {
                let exp = if experiment_id.is_empty() {
                    String::new()
                } else {
                    format!(" of {}", shown(experiment_id))
                };
                self.line(&format!(
                    "watching the run{exp} with notify ID {} (nothing triggered)",
                    shown(notify_id)
                ));
            }
            Event::Listed {
                experiment_id,
                run_id,
                link,
            } => {
                let run = run_id
                    .map(|r| format!(" as run {}", shown(r)))
                    .unwrap_or_default();
                let link = link.map(|l| format!(": {}", shown(l))).unwrap_or_default();
                self.line(&format!("{} is listed{run}{link}", shown(experiment_id)));
            }
            Event::PhaseChanged {
                experiment_id,
                from,
                to,
                score: s,
            } => {
                let to = if to.is_empty() { "(empty)" } else { to };
                let from = from
                    .map(|f| format!("{} -> ", shown(if f.is_empty() { "(empty)" } else { f })))
                    .unwrap_or_default();
                let s = s
                    .map(|s| format!(" (score {})", fmt_score(s)))
                    .unwrap_or_default();
                self.line(&format!(
                    "{}: phase {from}{}{s}",
                    shown(experiment_id),
                    shown(to)
                ));
            }
            Event::Heartbeat {
                elapsed,
                remaining,
                waiting,
            } => {
                let runs: Vec<String> = waiting
                    .iter()
                    .map(|(e, p)| {
                        format!(
                            "{} {}",
                            shown(e),
                            p.as_deref()
                                .map(shown)
                                .unwrap_or_else(|| "not listed yet".into())
                        )
                    })
                    .collect();
                self.line(&format!(
                    "still waiting after {} ({} left): {}",
                    dur(*elapsed),
                    dur(*remaining),
                    runs.join(", ")
                ));
            }
            Event::Warning { message } => {
                self.line(&format!("warning: {}", shown_message(message)))
            }
            Event::Progress { message, .. } => self.line(&shown_message(message)),
            Event::RunFinished { report } => {
                self.line(&format!(
                    "{}: {} ({})",
                    shown(&report.experiment_id),
                    report.verdict,
                    shown_message(&report.message)
                ));
            }
            Event::Checked {
                experiment_id,
                name,
                problem,
            } => {
                let name = name.map(|n| format!(" ({})", shown(n))).unwrap_or_default();
                match problem {
                    None => self.line(&format!(
                        "{}{name}: exists and can run",
                        shown(experiment_id)
                    )),
                    Some(p) => self.line(&format!(
                        "{}{name}: {}",
                        shown(experiment_id),
                        shown_message(p)
                    )),
                }
            }
            Event::Stopping {
                experiment_id,
                notify_id,
            } => self.line(&format!(
                "stopping {} (notify ID {})",
                shown(experiment_id),
                shown(notify_id)
            )),
            Event::StopConfirmed {
                experiment_id,
                phase,
            } => self.line(&format!(
                "{} is over (phase {}): confirmed stopped",
                shown(experiment_id),
                shown(phase)
            )),
            Event::Stopped {
                experiment_id,
                error,
            } => match error {
                None => self.line(&format!("stopped {}", shown(experiment_id))),
                Some(e) => self.line(&format!(
                    "could not stop {}: {}; stop it in the platform's UI",
                    shown(experiment_id),
                    shown_message(e)
                )),
            },
            Event::Finished { report } => self.table(report),
        }
    }
}

/// Whether a run got a verdict on its results (not a timeout, an error or
/// a cancellation).
fn judged(v: crate::verdict::RunVerdict) -> bool {
    use crate::verdict::RunVerdict as V;
    matches!(v, V::Pass | V::Warn | V::Fail | V::Inconclusive)
}

/// A probe's row of the final table, under its fault.
fn probe_row(p: &crate::platform::Probe) -> [String; 5] {
    let mark = match p.outcome() {
        FaultOutcome::Passed => "pass",
        FaultOutcome::Failed => "fail",
        FaultOutcome::NotDecided => "-",
    };
    let mut verdict = p
        .verdict
        .as_deref()
        .map(shown)
        .unwrap_or_else(|| "-".to_string());
    if let Some(d) = &p.description
        && p.outcome() != FaultOutcome::Passed
    {
        verdict.push_str(&format!(": {}", shown(d)));
    }
    [
        format!("    probe {}", shown(&p.name)),
        String::new(),
        verdict,
        p.mode
            .as_deref()
            .map(|m| format!("mode {}", shown(m)))
            .unwrap_or_default(),
        mark.to_string(),
    ]
}

impl Console {
    fn table(&mut self, report: &GateReport) {
        let mut rows = vec![[
            "EXPERIMENT".to_string(),
            "NOTIFY ID".to_string(),
            "PHASE".to_string(),
            "SCORE".to_string(),
            "VERDICT".to_string(),
        ]];
        for e in &report.experiments {
            rows.push([
                shown(&e.experiment_id),
                e.notify_id
                    .as_deref()
                    .map(shown)
                    .unwrap_or_else(|| "-".into()),
                e.phase.as_deref().map(shown).unwrap_or_else(|| "-".into()),
                score(e.score),
                e.verdict.to_string(),
            ]);
            for f in &e.faults {
                let probe = f
                    .probe_success_percentage
                    .as_deref()
                    .map(|p| format!("probe {}%", shown(p)))
                    .unwrap_or_default();
                let verdict = f
                    .verdict
                    .as_deref()
                    .map(shown)
                    .unwrap_or_else(|| "-".into());
                let mark = match f.outcome() {
                    FaultOutcome::Passed => "pass",
                    FaultOutcome::Failed => "fail",
                    FaultOutcome::NotDecided => "-",
                };
                rows.push([
                    format!("  fault {}", shown(&f.name)),
                    String::new(),
                    verdict,
                    probe,
                    mark.to_string(),
                ]);
                for p in e.probes.iter().flatten().filter(|p| p.fault == f.name) {
                    rows.push(probe_row(p));
                }
            }
            let probes = e.probes.as_deref().unwrap_or_default();
            for p in probes
                .iter()
                .filter(|p| !e.faults.iter().any(|f| f.name == p.fault))
            {
                rows.push(probe_row(p));
            }
            if e.probes.is_none() && e.phase.is_some() && judged(e.verdict) {
                rows.push([
                    "  (no probe results from the platform)".to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
        }
        let mut widths = [0usize; 5];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        // The whole table in one write: a gate of 5,000 runs prints some
        // 10,000 rows, and a write per row is most of its time to exit.
        let mut block = vec![String::new()];
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            block.push(cells.join("  ").trim_end().to_string());
        }
        block.push(String::new());
        block.push(summary(report));
        block.push(format!("JUnit report: {}", self.junit_path.display()));
        self.out.block(&block);
    }

    /// The event as one JSON object: serde's, with what only the console
    /// knows added (the version on `started`, the JUnit path on
    /// `finished`).
    fn event_json(&mut self, stamped: &Stamped<'_>) {
        let mut value = serde_json::to_value(stamped).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            if matches!(stamped.event, Event::Started { .. }) {
                object.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
            }
            if matches!(stamped.event, Event::Finished { .. }) {
                object.insert(
                    "junit_path".into(),
                    json!(self.junit_path.display().to_string()),
                );
            }
        }
        self.json(value);
    }
}

/// Scores 0 to 100 as a one-line chart of block characters, oldest first.
pub fn sparkline(scores: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    scores
        .iter()
        .map(|s| {
            let i = (s.clamp(0.0, 100.0) / 100.0 * 7.0).round() as usize;
            BARS[i.min(7)]
        })
        .collect()
}

/// One sentence on how the gate ended.
pub fn summary(report: &GateReport) -> String {
    let o = &report.outcome;
    let t = fmt_score(report.threshold);
    if let Some(why) = &o.invalid {
        return format!("Dry run failed: {}", shown_message(why));
    }
    if let Some(s) = o.cancelled {
        return format!("Gate cancelled by {}.", s.name());
    }
    if let Some(e) = &o.platform_error {
        return format!("Gate error: {}", shown_message(e));
    }
    if o.timed_out {
        return format!(
            "Gate timed out after {} before every run finished.",
            dur(report.duration)
        );
    }
    if report.dry_run {
        return "Dry run passed: the settings work and every experiment can run; nothing was triggered."
            .to_string();
    }
    let count = |v: crate::verdict::RunVerdict| {
        report.experiments.iter().filter(|e| e.verdict == v).count()
    };
    let total = report.experiments.len();
    if o.failed || o.inconclusive {
        let failed = count(crate::verdict::RunVerdict::Fail);
        let inconclusive = count(crate::verdict::RunVerdict::Inconclusive);
        let mut parts = Vec::new();
        if failed > 0 {
            parts.push(format!("{failed} of {total} run(s) failed"));
        }
        if inconclusive > 0 {
            parts.push(format!(
                "{inconclusive} of {total} run(s) were inconclusive (no probe was evaluated)"
            ));
        }
        return format!(
            "Gate failed: {} (expected resilience score {t}).",
            parts.join("; ")
        );
    }
    if o.warned {
        let w = report
            .warning_score
            .map(|w| format!(", warning score {}", fmt_score(w)))
            .unwrap_or_default();
        return format!(
            "Gate passed with a warning: {} of {total} run(s) scored below the expected resilience score {t}{w}.",
            count(crate::verdict::RunVerdict::Warn)
        );
    }
    format!("Gate passed: every run met the expected resilience score {t}.")
}
