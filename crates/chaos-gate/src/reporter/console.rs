//! The console: a line per trigger, per phase change and per heartbeat while
//! the gate runs, and a final table (spec §6). With `log_format=json` each
//! of those is one JSON object per line instead.
//!
//! Every piece of platform text goes through [`one_line`], so it can neither
//! start a new line (and with it a CI workflow command) nor move the cursor.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::Reporter;
use crate::platform::execution_data::FaultOutcome;
use crate::report::{Event, GateReport};
use crate::settings::LogFormat;
use crate::text::one_line;
use crate::verdict::fmt_score;

/// Prints the gate's progress and final table.
pub struct Console {
    out: Box<dyn Write>,
    format: LogFormat,
    junit_path: PathBuf,
}

impl Console {
    pub fn new(out: Box<dyn Write>, format: LogFormat, junit_path: PathBuf) -> Console {
        Console {
            out,
            format,
            junit_path,
        }
    }

    fn line(&mut self, text: &str) {
        // A closed stdout (a CI runner going away) must not stop the gate
        // from stopping its runs and writing its report.
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    fn json(&mut self, value: serde_json::Value) {
        self.line(&value.to_string());
    }
}

fn dur(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

fn score(s: Option<f64>) -> String {
    s.map(fmt_score).unwrap_or_else(|| "-".to_string())
}

impl Reporter for Console {
    fn event(&mut self, event: &Event<'_>) {
        if self.format == LogFormat::Json {
            self.event_json(event);
            return;
        }
        match event {
            Event::BaselineRead {
                experiment_id,
                baseline,
                wanted,
            } => match baseline {
                Some(b) => self.line(&format!(
                    "{}: baseline {} (median of its last {} finished run(s) of {wanted} asked: {} {})",
                    one_line(experiment_id),
                    fmt_score(b.score),
                    b.scores.len(),
                    sparkline(&b.scores),
                    b.scores.iter().map(|s| fmt_score(*s)).collect::<Vec<_>>().join(" ")
                )),
                None => self.line(&format!(
                    "{}: no baseline, the experiment has no finished run with a score to compare with",
                    one_line(experiment_id)
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
                    Some(n) => format!("the run with notify ID {}", one_line(n)),
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
                let link = link
                    .map(|l| format!(" {}", one_line(l)))
                    .unwrap_or_default();
                self.line(&format!(
                    "{how} {}: notify ID {}{link}",
                    one_line(experiment_id),
                    one_line(notify_id)
                ));
            }
            Event::Attached {
                experiment_id,
                notify_id,
            } => {
                let exp = if experiment_id.is_empty() {
                    String::new()
                } else {
                    format!(" of {}", one_line(experiment_id))
                };
                self.line(&format!(
                    "watching the run{exp} with notify ID {} (nothing triggered)",
                    one_line(notify_id)
                ));
            }
            Event::Listed {
                experiment_id,
                run_id,
                link,
            } => {
                let run = run_id
                    .map(|r| format!(" as run {}", one_line(r)))
                    .unwrap_or_default();
                let link = link
                    .map(|l| format!(": {}", one_line(l)))
                    .unwrap_or_default();
                self.line(&format!("{} is listed{run}{link}", one_line(experiment_id)));
            }
            Event::PhaseChanged {
                experiment_id,
                from,
                to,
                score: s,
            } => {
                let to = if to.is_empty() { "(empty)" } else { to };
                let from = from
                    .map(|f| format!("{} -> ", one_line(if f.is_empty() { "(empty)" } else { f })))
                    .unwrap_or_default();
                let s = s
                    .map(|s| format!(" (score {})", fmt_score(s)))
                    .unwrap_or_default();
                self.line(&format!(
                    "{}: phase {from}{}{s}",
                    one_line(experiment_id),
                    one_line(to)
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
                            one_line(e),
                            p.as_deref()
                                .map(one_line)
                                .unwrap_or("not listed yet".into())
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
            Event::Warning { message } => self.line(&format!("warning: {}", one_line(message))),
            Event::Progress { message, .. } => self.line(&one_line(message)),
            Event::RunFinished { report } => {
                self.line(&format!(
                    "{}: {} ({})",
                    one_line(&report.experiment_id),
                    report.verdict,
                    one_line(&report.message)
                ));
            }
            Event::Checked {
                experiment_id,
                name,
                problem,
            } => {
                let name = name
                    .map(|n| format!(" ({})", one_line(n)))
                    .unwrap_or_default();
                match problem {
                    None => self.line(&format!(
                        "{}{name}: exists and can run",
                        one_line(experiment_id)
                    )),
                    Some(p) => self.line(&format!(
                        "{}{name}: {}",
                        one_line(experiment_id),
                        one_line(p)
                    )),
                }
            }
            Event::Stopping {
                experiment_id,
                notify_id,
            } => self.line(&format!(
                "stopping {} (notify ID {})",
                one_line(experiment_id),
                one_line(notify_id)
            )),
            Event::StopConfirmed {
                experiment_id,
                phase,
            } => self.line(&format!(
                "{} is over (phase {}): confirmed stopped",
                one_line(experiment_id),
                one_line(phase)
            )),
            Event::Stopped {
                experiment_id,
                error,
            } => match error {
                None => self.line(&format!("stopped {}", one_line(experiment_id))),
                Some(e) => self.line(&format!(
                    "could not stop {}: {}; stop it in the platform's UI",
                    one_line(experiment_id),
                    one_line(e)
                )),
            },
            Event::Finished { report } => self.table(report),
        }
    }
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
                one_line(&e.experiment_id).into_owned(),
                e.notify_id
                    .as_deref()
                    .map(one_line)
                    .unwrap_or("-".into())
                    .into_owned(),
                e.phase
                    .as_deref()
                    .map(one_line)
                    .unwrap_or("-".into())
                    .into_owned(),
                score(e.score),
                e.verdict.to_string(),
            ]);
            for f in &e.faults {
                let probe = f
                    .probe_success_percentage
                    .as_deref()
                    .map(|p| format!("probe {}%", one_line(p)))
                    .unwrap_or_default();
                let verdict = f.verdict.as_deref().map(one_line).unwrap_or("-".into());
                let mark = match f.outcome() {
                    FaultOutcome::Passed => "pass",
                    FaultOutcome::Failed => "fail",
                    FaultOutcome::NotDecided => "-",
                };
                rows.push([
                    format!("  fault {}", one_line(&f.name)),
                    String::new(),
                    verdict.into_owned(),
                    probe,
                    mark.to_string(),
                ]);
            }
        }
        let mut widths = [0usize; 5];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        self.line("");
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            self.line(cells.join("  ").trim_end());
        }
        self.line("");
        let summary = summary(report);
        self.line(&summary);
        self.line(&format!("JUnit report: {}", self.junit_path.display()));
    }

    fn event_json(&mut self, event: &Event<'_>) {
        let v = match event {
            Event::BaselineRead {
                experiment_id,
                baseline,
                wanted,
            } => json!({"event": "baseline", "experiment_id": experiment_id,
                "baseline": baseline, "wanted": wanted}),
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
                json!({"event": "started", "version": env!("CARGO_PKG_VERSION"), "platform": platform,
                "endpoint": endpoint, "experiments": experiments, "notify_id": attach,
                "expected_resilience_score": threshold,
                "timeout_seconds": timeout.as_secs_f64(), "poll_interval_seconds": poll_interval.as_secs_f64(),
                "dry_run": dry_run})
            }
            Event::Triggered {
                experiment_id,
                notify_id,
                link,
                adopted,
            } => json!({"event": "triggered",
                "experiment_id": experiment_id, "notify_id": notify_id, "link": link, "adopted": adopted}),
            Event::Attached {
                experiment_id,
                notify_id,
            } => json!({"event": "attached",
                "experiment_id": experiment_id, "notify_id": notify_id}),
            Event::Listed {
                experiment_id,
                run_id,
                link,
            } => json!({"event": "listed",
                "experiment_id": experiment_id, "run_id": run_id, "link": link}),
            Event::PhaseChanged {
                experiment_id,
                from,
                to,
                score,
            } => json!({"event": "phase",
                "experiment_id": experiment_id, "from": from, "phase": to, "resilience_score": score}),
            Event::Heartbeat {
                elapsed,
                remaining,
                waiting,
            } => json!({"event": "heartbeat",
                "elapsed_seconds": elapsed.as_secs(), "remaining_seconds": remaining.as_secs(),
                "waiting": waiting.iter().map(|(e, p)| json!({"experiment_id": e, "phase": p})).collect::<Vec<_>>()}),
            Event::Warning { message } => json!({"event": "warning", "message": message}),
            Event::Progress { kind, message } => json!({"event": kind, "message": message}),
            Event::RunFinished { report } => json!({"event": "run_finished",
                "experiment_id": report.experiment_id, "notify_id": report.notify_id, "phase": report.phase,
                "resilience_score": report.score, "verdict": report.verdict, "message": report.message,
                "faults": report.faults}),
            Event::Checked {
                experiment_id,
                name,
                problem,
            } => json!({"event": "checked",
                "experiment_id": experiment_id, "name": name, "problem": problem}),
            Event::Stopping {
                experiment_id,
                notify_id,
            } => json!({"event": "stopping",
                "experiment_id": experiment_id, "notify_id": notify_id}),
            Event::Stopped {
                experiment_id,
                error,
            } => json!({"event": "stopped",
                "experiment_id": experiment_id, "error": error}),
            Event::StopConfirmed {
                experiment_id,
                phase,
            } => json!({"event": "stop_confirmed",
                "experiment_id": experiment_id, "phase": phase}),
            Event::Finished { report } => {
                json!({"event": "finished", "verdict": report.outcome.verdict(),
                "resilience_score": report.lowest_score(), "notify_ids": report.notify_ids(),
                "junit_path": self.junit_path.display().to_string(),
                "error": report.outcome.platform_error, "summary": summary(report),
                "results": serde_json::from_str::<serde_json::Value>(&report.results_json()).unwrap_or_default()})
            }
        };
        self.json(v);
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
        return format!("Dry run failed: {}", one_line(why));
    }
    if let Some(s) = o.cancelled {
        return format!("Gate cancelled by {}.", s.name());
    }
    if let Some(e) = &o.platform_error {
        return format!("Gate error: {}", one_line(e));
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
