//! The JUnit XML report (README "Reports and outputs"), valid against the Jenkins xUnit schema.
//!
//! One `<testsuite name="chaos-gate">`; per experiment a test case whose
//! `<failure>` (a failed verdict, a timeout) or `<error>` (a platform error,
//! a cancellation) carries phase, score and threshold in both the `message`
//! attribute (Jenkins, GitHub report actions) and the body (GitLab shows
//! only the body); per fault a test case with its verdict and probe success
//! percentage. The file is written whole or not at all.
//!
//! Written with quick-xml, which escapes markup; times are formatted here
//! with at most three decimals, as the schema's `SUREFIRE_TIME` requires.

use std::borrow::Cow;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::Reporter;
use crate::platform::Probe;
use crate::platform::execution_data::FaultOutcome;
use crate::report::{self, ExperimentReport, GateReport};
use crate::report_file;
use crate::text::bounded;
use crate::verdict::{RunVerdict, fmt_score};

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
    fn event(&mut self, stamped: &report::Stamped<'_>) {
        // Files only, written at the end.
        match stamped.event {
            report::Event::Started { .. }
            | report::Event::Triggered { .. }
            | report::Event::Attached { .. }
            | report::Event::Listed { .. }
            | report::Event::PhaseChanged { .. }
            | report::Event::Heartbeat { .. }
            | report::Event::Warning { .. }
            | report::Event::BaselineRead { .. }
            | report::Event::RunFinished { .. }
            | report::Event::Checked { .. }
            | report::Event::Stopping { .. }
            | report::Event::Stopped { .. }
            | report::Event::StopConfirmed { .. }
            | report::Event::Finished { .. }
            | report::Event::Progress { .. } => {}
        }
    }

    fn finish(&mut self, report: &GateReport) -> anyhow::Result<()> {
        let xml = render(report).context("cannot render the JUnit report")?;
        report_file::write_whole(&self.path, "the JUnit report (junit_path)", xml).with_context(
            || {
                format!(
                    "the JUnit report (junit_path) was not written to {}",
                    self.path.display()
                )
            },
        )
    }
}

/// Text that XML 1.0 can hold: characters it forbids are replaced (quick-xml
/// escapes markup, but cannot write a control character at all).
fn xml_text(text: &str) -> Cow<'_, str> {
    let forbidden = |c: char| {
        !matches!(c, '\t' | '\n' | '\r')
            && ((c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}')
    };
    if !text.contains(forbidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if forbidden(c) { '\u{fffd}' } else { c })
            .collect(),
    )
}

/// An attribute value on one line: XML readers fold newlines in attributes
/// into spaces anyway.
fn xml_attr(text: &str) -> Cow<'_, str> {
    let text = xml_text(text);
    if text.contains(['\n', '\r', '\t']) {
        Cow::Owned(text.replace(['\n', '\r', '\t'], " "))
    } else {
        text
    }
}

/// Seconds with at most three decimals, as the schema's SUREFIRE_TIME
/// pattern requires (a float's shortest form can have seventeen).
fn junit_time(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Platform text in a name or attribute: short (XML escapes the rest).
fn name(text: &str) -> String {
    crate::secret::redact(&crate::text::cut(text, crate::text::SHOWN_MAX)).into_owned()
}

/// An experiment's test case: its name where the platform gave one, with
/// its ID beside it (`Checkout pod delete (a1b2...)`); its ID otherwise.
fn case_name(e: &ExperimentReport) -> String {
    match e.name.as_deref() {
        Some(n) if n != e.experiment_id => format!("{} ({})", name(n), name(&e.experiment_id)),
        _ => name(&e.experiment_id),
    }
}

fn score(s: Option<f64>) -> String {
    s.map(fmt_score).unwrap_or_else(|| "none".to_string())
}

/// What a test case holds besides its name.
enum Outcome {
    Passed,
    /// `<failure>` or `<error>`, with its type, message and body.
    Problem {
        element: &'static str,
        kind: &'static str,
        message: String,
        body: String,
    },
    Skipped {
        message: String,
    },
}

/// One `<testcase>`.
struct Case {
    name: String,
    classname: String,
    time: Duration,
    outcome: Outcome,
    system_out: Option<String>,
}

/// The detail lines of an experiment, for failure bodies and system-out.
fn details(e: &ExperimentReport, threshold: f64) -> String {
    let mut lines = vec![
        format!("experiment: {}", bounded(&e.experiment_id)),
        format!("verdict: {}", e.verdict),
        format!("phase: {}", bounded(e.phase.as_deref().unwrap_or("none"))),
        format!("resilience score: {}", score(e.score)),
        format!("expected resilience score: {}", fmt_score(threshold)),
        format!("reason: {}", bounded(&e.message)),
    ];
    if let Some(b) = &e.baseline {
        let scores: Vec<String> = b.scores.iter().map(|s| fmt_score(*s)).collect();
        lines.push(format!(
            "baseline: {} (median of {} past run(s), oldest first: {})",
            fmt_score(b.score),
            b.scores.len(),
            scores.join(", ")
        ));
        if !b.run_ids.is_empty() {
            let ids: Vec<String> = b.run_ids.iter().map(|r| bounded(r)).collect();
            lines.push(format!("baseline runs: {}", ids.join(", ")));
        }
    }
    if let Some(n) = &e.notify_id {
        lines.push(format!("notify ID: {}", bounded(n)));
    }
    if let Some(r) = &e.run_id {
        lines.push(format!("run ID: {}", bounded(r)));
    }
    if let Some(l) = &e.link {
        lines.push(format!("link: {}", bounded(l)));
    }
    if e.phase.is_some() {
        lines.push(format!("probes: {}", probe_summary(e)));
    }
    lines.join("\n")
}

/// What the platform said about the run's probes, or that it said nothing.
pub(crate) fn probe_summary(e: &ExperimentReport) -> String {
    match &e.probes {
        None => "the platform reported no probe results for this run".to_string(),
        Some(p) if p.is_empty() => "the platform's probe results hold no probe".to_string(),
        Some(p) => {
            let count = |o: FaultOutcome| p.iter().filter(|x| x.outcome() == o).count();
            format!(
                "{} reported: {} passed, {} failed, {} not evaluated",
                p.len(),
                count(FaultOutcome::Passed),
                count(FaultOutcome::Failed),
                count(FaultOutcome::NotDecided)
            )
        }
    }
}

fn experiment_case(e: &ExperimentReport, threshold: f64) -> Case {
    // The message says phase, score and threshold whatever the verdict; a
    // judged run's own message already does.
    let message = match e.verdict {
        RunVerdict::Pass | RunVerdict::Warn | RunVerdict::Fail | RunVerdict::Inconclusive => {
            bounded(&e.message)
        }
        _ => format!(
            "{}; phase {}, resilience score {}, expected {}",
            bounded(&e.message),
            name(e.phase.as_deref().unwrap_or("none")),
            score(e.score),
            fmt_score(threshold)
        ),
    };
    let body = details(e, threshold);
    let problem = |element, kind| Outcome::Problem {
        element,
        kind,
        message: message.clone(),
        body: body.clone(),
    };
    let (outcome, system_out) = match e.verdict {
        RunVerdict::Pass => (Outcome::Passed, Some(body.clone())),
        // A warning passes the job: a passing test case that says so.
        RunVerdict::Warn => (
            Outcome::Passed,
            Some(format!("warning: {}\n{body}", e.message)),
        ),
        // A phase that fails whatever the score is not a score failure.
        RunVerdict::Fail if e.phase_class == Some(crate::verdict::PhaseClass::Fails) => {
            (problem("failure", "chaos-gate.phase"), None)
        }
        RunVerdict::Fail => (problem("failure", "chaos-gate.score"), None),
        RunVerdict::Inconclusive => (problem("failure", "chaos-gate.inconclusive"), None),
        RunVerdict::Timeout => (problem("failure", "chaos-gate.timeout"), None),
        RunVerdict::Error => (problem("error", "chaos-gate.platform-error"), None),
        RunVerdict::Cancelled => (problem("error", "chaos-gate.cancelled"), None),
    };
    Case {
        name: case_name(e),
        // The same classname as its faults and probes, so that Jenkins puts
        // an experiment and its faults in one package and class.
        classname: format!("chaos-gate.{}", name(&e.experiment_id)),
        time: e.duration,
        outcome,
        system_out,
    }
}

/// A part of a run with its own test case.
#[derive(Clone, Copy)]
enum Part {
    Fault,
    Probe,
}

/// A fault's or a probe's case outcome, and its system-out. One that
/// failed is a `<failure>` only under a run that failed; under a run that
/// passed or warned it passes, and `text` says the score tolerated it. One
/// not decided is skipped. A failure carries the text; the others keep it
/// in system-out.
fn part_outcome(
    part: Part,
    outcome: FaultOutcome,
    run: RunVerdict,
    mut text: String,
) -> (Outcome, Option<String>) {
    let (what, kind) = match part {
        Part::Fault => ("fault", "chaos-gate.fault"),
        Part::Probe => ("probe", "chaos-gate.probe"),
    };
    let run_passed = matches!(run, RunVerdict::Pass | RunVerdict::Warn);
    if run_passed && outcome == FaultOutcome::Failed {
        text.push_str(&format!(
            "; the run's verdict is {run}: its resilience score tolerated this {what}"
        ));
    }
    match outcome {
        FaultOutcome::Passed => (Outcome::Passed, Some(text)),
        FaultOutcome::Failed if run_passed => (Outcome::Passed, Some(text)),
        FaultOutcome::Failed => (
            Outcome::Problem {
                element: "failure",
                kind,
                message: text.clone(),
                body: text,
            },
            None,
        ),
        FaultOutcome::NotDecided => (
            Outcome::Skipped {
                message: text.clone(),
            },
            Some(text),
        ),
    }
}

/// A fault's test case. A fault that did not pass is a `<failure>` only
/// under a run that failed (a critical fault fails its run): under a run
/// that passed or warned it is a passing case that says the score
/// tolerated it, so the report tells the same story as the exit code.
fn fault_case(experiment_id: &str, run: RunVerdict, f: &crate::platform::Fault) -> Case {
    let verdict = name(f.verdict.as_deref().unwrap_or("none"));
    let probe = f
        .probe_success_percentage
        .as_deref()
        .map(|p| format!("{}%", name(p)))
        .unwrap_or_else(|| "none".to_string());
    let mut text = format!(
        "fault {}: verdict {verdict}, probe success {probe}",
        name(&f.name)
    );
    if let Some(step) = &f.fail_step {
        text.push_str(&format!(", failed step: {}", bounded(step)));
    }
    let (outcome, system_out) = part_outcome(Part::Fault, f.outcome(), run, text);
    // A fault ran inside its experiment's time: summed with it, its own
    // duration would count twice in tools that add up case times, so the
    // case takes no time and says how long the fault ran.
    let system_out = match (system_out, f.duration) {
        (Some(text), Some(d)) => Some(format!("{text}; ran {}", junit_time(d))),
        (out, _) => out,
    };
    Case {
        name: name(&f.name),
        classname: format!("chaos-gate.{}", name(experiment_id)),
        time: Duration::ZERO,
        outcome,
        system_out,
    }
}

/// A probe's test case, under its fault: named by fault and probe, with
/// mode, verdict and the platform's description. Like a fault, a probe that
/// failed is a `<failure>` only under a run that failed; a probe that was
/// not evaluated (`N/A`, `Awaited`) is skipped.
fn probe_case(experiment_id: &str, run: RunVerdict, p: &Probe) -> Case {
    let verdict = p.verdict.as_deref().unwrap_or("none");
    let mode = p.mode.as_deref().unwrap_or("unknown");
    let fault = if p.fault.is_empty() {
        "experiment"
    } else {
        p.fault.as_str()
    };
    let mut text = format!(
        "probe {} of {fault}: mode {mode}, verdict {verdict}",
        p.name
    );
    if let Some(d) = &p.description {
        text.push_str(&format!("; the platform says: {d}"));
    }
    let (outcome, system_out) = part_outcome(Part::Probe, p.outcome(), run, text);
    Case {
        name: format!("{fault} / probe {}", p.name),
        classname: format!("chaos-gate.{experiment_id}"),
        time: Duration::ZERO,
        outcome,
        system_out,
    }
}

fn write_case<W: io::Write>(w: &mut Writer<W>, case: &Case) -> io::Result<()> {
    let name = xml_attr(&case.name);
    let classname = xml_attr(&case.classname);
    let time = junit_time(case.time);
    let element = w.create_element("testcase").with_attributes([
        ("name", &*name),
        ("classname", &*classname),
        ("time", time.as_str()),
    ]);
    if matches!(case.outcome, Outcome::Passed) && case.system_out.is_none() {
        element.write_empty()?;
        return Ok(());
    }
    element.write_inner_content(|w| {
        match &case.outcome {
            Outcome::Passed => {}
            Outcome::Problem {
                element,
                kind,
                message,
                body,
            } => {
                let message = xml_attr(message);
                w.create_element(*element)
                    .with_attributes([("type", *kind), ("message", &*message)])
                    .write_text_content(BytesText::new(&xml_text(body)))?;
            }
            // The reason as the attribute and as text: GitLab shows only
            // the text.
            Outcome::Skipped { message } => {
                let attr = xml_attr(message);
                w.create_element("skipped")
                    .with_attribute(("message", &*attr))
                    .write_text_content(BytesText::new(&xml_text(message)))?;
            }
        }
        if let Some(out) = &case.system_out {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&xml_text(out)))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// The create/update step of experiment as code (README "Experiment as code"), named after the
/// manifest's experiment: a `<failure>` when it timed out (waiting for the
/// infrastructure), an `<error>` when it failed otherwise.
fn sync_case(s: &report::SyncReport, dry_run: bool, timed_out: bool) -> Case {
    let action = s.action.map(|a| a.as_str()).unwrap_or("none");
    let mut lines = vec![
        format!("manifest: {}", s.file),
        format!("experiment name: {}", s.name),
        format!("infrastructure: {}", s.infra_id),
        format!("{}: {action}", if dry_run { "would be" } else { "action" }),
    ];
    if let Some(id) = &s.experiment_id {
        lines.push(format!("experiment ID: {id}"));
    }
    let outcome = match &s.error {
        Some(e) => {
            lines.push(format!("error: {e}"));
            Outcome::Problem {
                element: if timed_out { "failure" } else { "error" },
                kind: "experiment-file",
                message: format!("{} could not be created or updated: {e}", s.name),
                body: lines.join("\n"),
            }
        }
        None => Outcome::Passed,
    };
    let system_out = s.error.is_none().then(|| lines.join("\n"));
    Case {
        name: s.name.clone(),
        classname: "chaos-gate.experiment-file".to_string(),
        time: s.duration,
        outcome,
        system_out,
    }
}

/// The report as JUnit XML bytes.
pub fn render(report: &GateReport) -> io::Result<Vec<u8>> {
    let mut cases = Vec::new();
    if let Some(s) = &report.sync {
        cases.push(sync_case(s, report.dry_run, report.outcome.timed_out));
    }
    for e in &report.experiments {
        cases.push(experiment_case(e, report.threshold));
        let probes = e.probes.as_deref().unwrap_or_default();
        for f in &e.faults {
            cases.push(fault_case(&e.experiment_id, e.verdict, f));
            cases.extend(
                probes
                    .iter()
                    .filter(|p| p.fault == f.name)
                    .map(|p| probe_case(&e.experiment_id, e.verdict, p)),
            );
        }
        // Probes of the experiment itself, or of faults not in the
        // execution data.
        cases.extend(
            probes
                .iter()
                .filter(|p| !e.faults.iter().any(|f| f.name == p.fault))
                .map(|p| probe_case(&e.experiment_id, e.verdict, p)),
        );
    }
    let count = |element: &str| {
        cases
            .iter()
            .filter(|c| matches!(&c.outcome, Outcome::Problem { element: e, .. } if *e == element))
            .count()
            .to_string()
    };
    let tests = cases.len().to_string();
    let failures = count("failure");
    let errors = count("error");
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped { .. }))
        .count()
        .to_string();
    let time = junit_time(report.duration);
    let timestamp = humantime::format_rfc3339_seconds(report.started_at).to_string();

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes([
            ("name", "chaos-gate"),
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("time", time.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes([
                    ("name", "chaos-gate"),
                    ("tests", tests.as_str()),
                    ("failures", failures.as_str()),
                    ("errors", errors.as_str()),
                    ("skipped", skipped.as_str()),
                    ("time", time.as_str()),
                    ("timestamp", timestamp.as_str()),
                ])
                .write_inner_content(|w| cases.iter().try_for_each(|c| write_case(w, c)))?;
            Ok(())
        })?;
    let mut xml = w.into_inner();
    xml.push(b'\n');
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_drops_what_xml_forbids() {
        assert_eq!(xml_text("a\u{1}b]]>c\n"), "a\u{fffd}b]]>c\n");
        assert_eq!(xml_attr("a\nb"), "a b");
    }

    #[test]
    fn times_have_at_most_three_decimals() {
        assert_eq!(junit_time(Duration::from_millis(1989)), "1.989");
        assert_eq!(junit_time(Duration::from_nanos(1_988_999_999)), "1.989");
        assert_eq!(junit_time(Duration::ZERO), "0.000");
    }
}
