//! GitHub Actions: step outputs, the step summary, workflow commands
//! (README "Reports and outputs").
//!
//! Outputs go to `$GITHUB_OUTPUT` (multi-line values behind a random
//! delimiter), a Markdown summary to `$GITHUB_STEP_SUMMARY`, and on stdout
//! `::group::` around the polling log and `::error::` annotations for
//! failures. `::add-mask::` lines for the secrets are printed by [`masks`]
//! before anything else, from `main`. Every piece of platform text in a
//! command is escaped so that it cannot end the command or start another.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;

use super::Reporter;
use crate::output::Stdout;
pub use crate::output::{escape_data, escape_property};
use crate::report::{Event, GateReport, Stamped};
use crate::report_file;
use crate::settings::OnPlatformError;
use crate::text::{shown, shown_message};
use crate::verdict::{ExitPolicy, RunVerdict, fmt_score};

/// True when running as a GitHub Actions step.
pub fn detected(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("GITHUB_ACTIONS").is_some_and(|v| v == "true")
        || env("GITHUB_OUTPUT").is_some()
        || env("GITHUB_STEP_SUMMARY").is_some()
}

/// The `::add-mask::` lines for every secret (and each of its lines, since
/// GitHub masks line by line in logs).
pub fn masks(secrets: &[&str]) -> String {
    let mut out = String::new();
    for s in secrets {
        for v in mask_values(s) {
            out.push_str("::add-mask::");
            out.push_str(&escape_data(&v));
            out.push('\n');
        }
    }
    out
}

/// The values to mask for one secret: itself, and each of its lines.
pub fn mask_values(secret: &str) -> Vec<String> {
    let mut values = vec![secret.to_string()];
    if secret.contains(['\n', '\r']) {
        values.extend(
            secret
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    values
}

/// A delimiter for a multi-line output that does not occur in the value.
fn delimiter(value: &str) -> String {
    loop {
        let state = RandomState::new();
        let mut a = state.build_hasher();
        a.write_u64(0x6368_616f_7367_6174);
        let d = format!(
            "ghadelimiter_{:016x}{:016x}",
            a.finish(),
            state.hash_one(value.len())
        );
        if !value.contains(&d) {
            return d;
        }
    }
}

/// One `name=value` output, or the delimiter form for multi-line values.
pub fn output_line(name: &str, value: &str) -> String {
    if value.contains(['\n', '\r']) {
        let d = delimiter(value);
        format!("{name}<<{d}\n{value}\n{d}\n")
    } else {
        format!("{name}={value}\n")
    }
}

/// Platform text in a Markdown table cell: cut like on the console (GitHub
/// keeps 1 MiB of summary per step), then escaped.
fn md(text: &str) -> String {
    md_escape(&shown(text))
}

/// Markdown-safe table cell text.
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' | '\\' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A ten-cell bar for a score out of 100.
pub fn score_bar(score: f64) -> String {
    let filled = ((score / 10.0).round() as usize).min(10);
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled))
}

fn verdict_icon(v: RunVerdict) -> &'static str {
    match v {
        RunVerdict::Pass => "✅",
        RunVerdict::Warn => "⚠️",
        RunVerdict::Fail => "❌",
        RunVerdict::Inconclusive => "❔",
        RunVerdict::Timeout => "⏱️",
        RunVerdict::Error => "⚠️",
        RunVerdict::Cancelled => "🚫",
    }
}

/// An experiment's recent scores and this run's, as bars beside the
/// threshold, the warning score and the baseline: plain Markdown table
/// cells, which every Markdown renderer GitHub uses shows (a step summary
/// does not run scripts or render every diagram kind).
fn recent_scores(
    e: &crate::report::ExperimentReport,
    b: &crate::report::Baseline,
    report: &GateReport,
) -> String {
    let mut s = format!(
        "\n**{}**: recent scores {} beside the expected {}",
        md(&e.experiment_id),
        crate::reporter::console::sparkline(&b.scores),
        fmt_score(report.threshold)
    );
    if let Some(w) = report.warning_score {
        s.push_str(&format!(", warning score {}", fmt_score(w)));
    }
    s.push_str(&format!(" and baseline {}\n\n", fmt_score(b.score)));
    s.push_str("| Run | Score | |\n|---|---|---|\n");
    let n = b.scores.len();
    for (i, score) in b.scores.iter().enumerate() {
        let ago = n - i;
        let run = b
            .run_ids
            .get(i)
            .map(|r| format!("{} ({ago} before)", md(r)))
            .unwrap_or_else(|| format!("{ago} before"));
        s.push_str(&format!(
            "| {run} | {} | {} |\n",
            fmt_score(*score),
            score_bar(*score)
        ));
    }
    match e.score {
        Some(score) => s.push_str(&format!(
            "| **this run** | **{}** | {} {} |\n",
            fmt_score(score),
            score_bar(score),
            verdict_icon(e.verdict)
        )),
        None => s.push_str("| **this run** | none | |\n"),
    }
    s.push_str(&format!(
        "| expected | {} | {} |\n",
        fmt_score(report.threshold),
        score_bar(report.threshold)
    ));
    if let Some(w) = report.warning_score {
        s.push_str(&format!(
            "| warning | {} | {} |\n",
            fmt_score(w),
            score_bar(w)
        ));
    }
    s.push_str(&format!(
        "| baseline | {} | {} |\n",
        fmt_score(b.score),
        score_bar(b.score)
    ));
    s
}

/// Most fault rows in the summary (GitHub keeps 1 MiB per step).
const MAX_FAULT_ROWS: usize = 1000;

/// The Markdown step summary.
pub fn summary_markdown(report: &GateReport) -> String {
    let mut s = String::new();
    let headline = crate::reporter::console::summary(report);
    s.push_str(&format!(
        "### chaos-gate: {}\n\n{}\n\n",
        report.outcome.verdict(),
        md_escape(&shown_message(&headline))
    ));
    s.push_str("| Experiment | Notify ID | Phase | Resilience score | Expected | Verdict |\n");
    s.push_str("|---|---|---|---|---|---|\n");
    for e in &report.experiments {
        let score = match e.score {
            Some(v) => format!("{} {}", score_bar(v), fmt_score(v)),
            None => "none".to_string(),
        };
        let name = match &e.link {
            Some(l) => match md_link(l) {
                Some(l) => format!("[{}]({l})", md(&e.experiment_id)),
                None => md(&e.experiment_id),
            },
            None => md(&e.experiment_id),
        };
        s.push_str(&format!(
            "| {name} | {} | {} | {score} | {} | {} {} |\n",
            md(e.notify_id.as_deref().unwrap_or("-")),
            md(e.phase.as_deref().unwrap_or("-")),
            fmt_score(report.threshold),
            verdict_icon(e.verdict),
            e.verdict
        ));
    }
    for e in &report.experiments {
        if let Some(b) = &e.baseline {
            s.push_str(&recent_scores(e, b, report));
        }
    }
    let faults: Vec<_> = report
        .experiments
        .iter()
        .flat_map(|e| e.faults.iter().map(move |f| (e, f)))
        .collect();
    if !faults.is_empty() {
        s.push_str("\n| Experiment | Fault | Verdict | Probe success | Failed step |\n");
        s.push_str("|---|---|---|---|---|\n");
        for (e, f) in faults.iter().take(MAX_FAULT_ROWS) {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md(&e.experiment_id),
                md(&f.name),
                md(f.verdict.as_deref().unwrap_or("-")),
                f.probe_success_percentage
                    .as_deref()
                    .map(|p| format!("{}%", md(p)))
                    .unwrap_or_else(|| "-".into()),
                md(f.fail_step.as_deref().unwrap_or("")),
            ));
        }
        if faults.len() > MAX_FAULT_ROWS {
            s.push_str(&format!(
                "\n{} more faults are in the JUnit report.\n",
                faults.len() - MAX_FAULT_ROWS
            ));
        }
    }
    s.push_str(&probe_rows(report));
    s.push('\n');
    s
}

/// A link target for Markdown: an http(s) URL only, percent-encoded so
/// that nothing in it can end the link or the table row; `None` otherwise.
fn md_link(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let text = url.as_str();
    if text.chars().count() > crate::text::BOUNDED_MAX {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '|' => out.push_str("%7C"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// The probe table of the summary, and a line for each judged run whose
/// platform reported no probe results.
fn probe_rows(report: &GateReport) -> String {
    let mut s = String::new();
    let probes: Vec<_> = report
        .experiments
        .iter()
        .flat_map(|e| e.probes.iter().flatten().map(move |p| (e, p)))
        .collect();
    if !probes.is_empty() {
        s.push_str("\n| Experiment | Fault | Probe | Mode | Verdict | Description |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for (e, p) in probes.iter().take(MAX_FAULT_ROWS) {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                md(&e.experiment_id),
                md(if p.fault.is_empty() { "-" } else { &p.fault }),
                md(&p.name),
                md(p.mode.as_deref().unwrap_or("-")),
                md(p.verdict.as_deref().unwrap_or("-")),
                md(p.description.as_deref().unwrap_or("")),
            ));
        }
        if probes.len() > MAX_FAULT_ROWS {
            s.push_str(&format!(
                "\n{} more probes are in the JUnit report.\n",
                probes.len() - MAX_FAULT_ROWS
            ));
        }
    }
    // Runs judged without probe results from the platform: said in a table
    // too, so that no platform text stands outside a cell.
    let without: Vec<_> = report
        .experiments
        .iter()
        .filter(|e| {
            e.probes.is_none()
                && e.phase.is_some()
                && matches!(
                    e.verdict,
                    RunVerdict::Pass
                        | RunVerdict::Warn
                        | RunVerdict::Fail
                        | RunVerdict::Inconclusive
                )
        })
        .collect();
    if !without.is_empty() {
        s.push_str("\n| Experiment | Probe results |\n|---|---|\n");
        for e in without.iter().take(MAX_FAULT_ROWS) {
            s.push_str(&format!(
                "| {} | none reported by the platform |\n",
                md(&e.experiment_id)
            ));
        }
    }
    s
}

/// GitHub's outputs, summary and workflow commands.
pub struct GitHub {
    out: Stdout,
    output: Option<PathBuf>,
    summary: Option<PathBuf>,
    policy: ExitPolicy,
    junit_path: PathBuf,
    group_open: bool,
}

impl GitHub {
    pub fn new(
        out: Stdout,
        output: Option<PathBuf>,
        summary: Option<PathBuf>,
        policy: ExitPolicy,
        junit_path: PathBuf,
    ) -> GitHub {
        GitHub {
            out,
            output,
            summary,
            policy,
            junit_path,
            group_open: false,
        }
    }

    /// An annotation; the message is cut like any platform text shown to
    /// people, and escaped by the workflow-command writer.
    fn annotate(&mut self, level: &str, title: &str, message: &str) {
        self.out
            .workflow_command(level, &[("title", title)], &shown_message(message));
    }
}

impl Reporter for GitHub {
    fn event(&mut self, stamped: &Stamped<'_>) {
        match stamped.event {
            Event::Started {
                experiments,
                platform,
                ..
            } => {
                let title = format!(
                    "chaos-gate: {} experiment(s) on {platform}",
                    experiments.len()
                );
                self.out.workflow_command("group", &[], &title);
                self.group_open = true;
            }
            Event::Warning { message } => self.annotate("warning", "chaos-gate", message),
            Event::Finished { report } => {
                if self.group_open {
                    self.out.workflow_command("endgroup", &[], "");
                    self.group_open = false;
                }
                let warn_only = self.policy.on_platform_error == OnPlatformError::Warn;
                if let Some(e) = &report.outcome.platform_error {
                    let level = if warn_only { "warning" } else { "error" };
                    self.annotate(level, "chaos-gate platform error", e);
                }
                // Experiment as code: a step that failed without a platform
                // error (an unknown infrastructure, a timeout) has no
                // experiment row to carry its annotation.
                if let Some((s, err)) = report
                    .sync
                    .as_ref()
                    .and_then(|s| Some((s, s.error.as_ref()?)))
                    .filter(|_| report.outcome.platform_error.is_none())
                {
                    let title = format!("chaos-gate: experiment {}", s.name);
                    self.annotate("error", &title, err);
                }
                let not_enforced = report.outcome.failure_not_enforced(self.policy);
                for e in &report.experiments {
                    let level = match e.verdict {
                        RunVerdict::Pass => continue,
                        RunVerdict::Warn => "warning",
                        RunVerdict::Error if warn_only => "warning",
                        RunVerdict::Fail | RunVerdict::Inconclusive if not_enforced => "warning",
                        _ => "error",
                    };
                    let title = format!("chaos-gate: {} {}", shown(&e.experiment_id), e.verdict);
                    self.annotate(level, &title, &e.message);
                }
            }
            Event::Triggered { .. }
            | Event::Attached { .. }
            | Event::Listed { .. }
            | Event::PhaseChanged { .. }
            | Event::Heartbeat { .. }
            | Event::BaselineRead { .. }
            | Event::RunFinished { .. }
            | Event::Checked { .. }
            | Event::Stopping { .. }
            | Event::Stopped { .. }
            | Event::StopConfirmed { .. }
            | Event::Progress { .. } => {}
        }
    }

    fn finish(&mut self, report: &GateReport) -> anyhow::Result<()> {
        let mut result = Ok(());
        if let Some(path) = &self.output {
            let text: String = super::outputs::written(report, &self.junit_path)
                .into_iter()
                .map(|o| output_line(o.name, &o.value))
                .collect();
            result = report_file::append(path, "the step outputs (GITHUB_OUTPUT)", text);
        }
        if let Some(path) = &self.summary {
            let written = report_file::append(
                path,
                "the step summary (GITHUB_STEP_SUMMARY)",
                summary_markdown(report),
            );
            result = result.and(written);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_text_cannot_become_a_command() {
        let evil = "pod%0A::warning::boom\n::error::x";
        let line = format!(
            "::error title={}::{}",
            escape_property(evil),
            escape_data(evil)
        );
        assert_eq!(line.lines().count(), 1);
        assert!(line.contains("pod%250A%3A%3Awarning"));
        assert!(!line[2..].contains("\n::"));
    }

    #[test]
    fn multi_line_outputs_use_a_delimiter() {
        assert_eq!(output_line("verdict", "pass"), "verdict=pass\n");
        let out = output_line("x", "a\nb");
        let first = out.lines().next().unwrap();
        let d = first.strip_prefix("x<<").unwrap();
        assert!(d.starts_with("ghadelimiter_"));
        assert_eq!(out, format!("x<<{d}\na\nb\n{d}\n"));
    }

    #[test]
    fn masks_cover_each_line() {
        assert_eq!(masks(&["abc"]), "::add-mask::abc\n");
        let m = masks(&["a\nb"]);
        assert!(m.contains("::add-mask::a%0Ab\n"));
        assert!(m.contains("::add-mask::a\n"));
        assert!(m.contains("::add-mask::b\n"));
    }

    #[test]
    fn bars_and_markdown() {
        assert_eq!(score_bar(100.0), "██████████");
        assert_eq!(score_bar(54.0), "█████░░░░░");
        assert_eq!(score_bar(0.0), "░░░░░░░░░░");
        assert_eq!(md("a|b<script>"), "a\\|b&lt;script&gt;");
        assert_eq!(md("a\n| x |"), "a\\\\n\\| x \\|");
        assert!(md(&"x".repeat(100_000)).len() < 300);
        assert_eq!(
            md_link("https://h/a b(c)|<d>").as_deref(),
            Some("https://h/a%20b%28c%29%7C%3Cd%3E")
        );
        assert_eq!(md_link("javascript:alert(1)"), None);
        assert_eq!(
            md_link("https://h/x\n| y |").as_deref(),
            Some("https://h/x%7C%20y%20%7C")
        );
    }
}
