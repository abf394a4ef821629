//! The JUnit XML report (spec §6), valid against the Jenkins xUnit schema.
//!
//! One `<testsuite name="chaos-gate">`; per experiment a test case whose
//! `<failure>` (a failed verdict, a timeout) or `<error>` (a platform error,
//! a cancellation) carries phase, score and threshold in both the `message`
//! attribute (Jenkins, GitHub report actions) and the body (GitLab shows
//! only the body); per fault a test case with its verdict and probe success
//! percentage. The file is written whole or not at all.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use junit_report::{ReportBuilder, TestCase, TestCaseBuilder, TestSuiteBuilder};

use super::{write_atomically, Reporter};
use crate::platform::execution_data::FaultOutcome;
use crate::platform::Fault;
use crate::report::{ExperimentReport, GateReport};
use crate::verdict::{fmt_score, RunVerdict};

/// Writes the JUnit file at the end of the gate.
pub struct Junit {
    path: PathBuf,
}

impl Junit {
    pub fn new(path: PathBuf) -> Junit {
        Junit { path }
    }
}

impl Reporter for Junit {
    fn finish(&mut self, report: &GateReport) -> anyhow::Result<()> {
        let xml = render(report)?;
        write_atomically(&self.path, &xml).with_context(|| {
            format!(
                "the JUnit report (junit_path) was not written to {}",
                self.path.display()
            )
        })
    }
}

/// Text that XML 1.0 can hold: characters it forbids are replaced, and
/// `]]>` is broken up because junit-report writes bodies as CDATA.
fn xml_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect();
    cleaned.replace("]]>", "]] >")
}

/// Whole milliseconds: the schema allows at most three decimals.
fn junit_time(d: Duration) -> junit_report::Duration {
    junit_report::Duration::milliseconds(d.as_millis().min(i64::MAX as u128) as i64)
}

fn score(s: Option<f64>) -> String {
    s.map(fmt_score).unwrap_or_else(|| "none".to_string())
}

/// The detail lines of an experiment, for failure bodies and system-out.
fn details(e: &ExperimentReport, threshold: f64) -> String {
    let mut lines = vec![
        format!("experiment: {}", e.experiment_id),
        format!("verdict: {}", e.verdict),
        format!("phase: {}", e.phase.as_deref().unwrap_or("none")),
        format!("resilience score: {}", score(e.score)),
        format!("expected resilience score: {}", fmt_score(threshold)),
        format!("reason: {}", e.message),
    ];
    if let Some(n) = &e.notify_id {
        lines.push(format!("notify ID: {n}"));
    }
    if let Some(r) = &e.run_id {
        lines.push(format!("run ID: {r}"));
    }
    if let Some(l) = &e.link {
        lines.push(format!("link: {l}"));
    }
    xml_text(&lines.join("\n"))
}

fn experiment_case(e: &ExperimentReport, threshold: f64) -> TestCase {
    let name = xml_text(&e.experiment_id);
    let time = junit_time(e.duration);
    // The message must say phase, score and threshold whatever the verdict.
    let message = xml_text(&format!(
        "{}: phase {}, resilience score {}, expected {} ({})",
        e.verdict,
        e.phase.as_deref().unwrap_or("none"),
        score(e.score),
        fmt_score(threshold),
        e.message
    ));
    let body = details(e, threshold);
    let mut case = match e.verdict {
        RunVerdict::Pass => {
            let mut b = TestCaseBuilder::success(&name, time);
            b.set_system_out(&body);
            b
        }
        RunVerdict::Fail => {
            let mut b = TestCaseBuilder::failure(&name, time, "chaos-gate.score", &message);
            b.set_trace(&body);
            b
        }
        RunVerdict::Timeout => {
            let mut b = TestCaseBuilder::failure(&name, time, "chaos-gate.timeout", &message);
            b.set_trace(&body);
            b
        }
        RunVerdict::Error => {
            let mut b = TestCaseBuilder::error(&name, time, "chaos-gate.platform-error", &message);
            b.set_trace(&body);
            b
        }
        RunVerdict::Cancelled => {
            let mut b = TestCaseBuilder::error(&name, time, "chaos-gate.cancelled", &message);
            b.set_trace(&body);
            b
        }
    };
    case.set_classname("chaos-gate");
    case.build()
}

fn fault_case(experiment_id: &str, f: &Fault) -> TestCase {
    let name = xml_text(&f.name);
    let time = junit_time(f.duration.unwrap_or_default());
    let verdict = f.verdict.as_deref().unwrap_or("none");
    let probe = f
        .probe_success_percentage
        .as_deref()
        .map(|p| format!("{p}%"))
        .unwrap_or_else(|| "none".to_string());
    let mut text = format!("fault {}: verdict {verdict}, probe success {probe}", f.name);
    if let Some(step) = &f.fail_step {
        text.push_str(&format!(", failed step: {step}"));
    }
    let text = xml_text(&text);
    let mut case = match f.outcome() {
        FaultOutcome::Passed => {
            let mut b = TestCaseBuilder::success(&name, time);
            b.set_system_out(&text);
            b
        }
        FaultOutcome::Failed => {
            let mut b = TestCaseBuilder::failure(&name, time, "chaos-gate.fault", &text);
            b.set_trace(&text);
            b
        }
        FaultOutcome::NotDecided => {
            let mut b = TestCaseBuilder::skipped_with_cause(&name, "chaos-gate.fault", &text);
            b.set_system_out(&text);
            b
        }
    };
    case.set_classname(&xml_text(&format!("chaos-gate.{experiment_id}")));
    case.build()
}

/// The report as JUnit XML bytes.
pub fn render(report: &GateReport) -> anyhow::Result<Vec<u8>> {
    let mut suite = TestSuiteBuilder::new("chaos-gate");
    let started = junit_report::OffsetDateTime::from(report.started_at);
    suite.set_timestamp(started);
    for e in &report.experiments {
        suite.add_testcase(experiment_case(e, report.threshold));
        for f in &e.faults {
            suite.add_testcase(fault_case(&e.experiment_id, f));
        }
    }
    let junit = ReportBuilder::new().add_testsuite(suite.build()).build();
    let mut out = Vec::new();
    junit
        .write_xml(&mut out)
        .context("cannot render the JUnit report")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_drops_what_xml_forbids() {
        assert_eq!(xml_text("a\u{1}b]]>c\n"), "a\u{fffd}b]] >c\n");
    }
}
