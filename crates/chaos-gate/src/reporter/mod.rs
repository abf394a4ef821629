//! Reporters: one per output, each reading the report model.
//!
//! A reporter sees every [`Event`] as it happens (for live output such as
//! the console and log sections) and the final [`GateReport`] once (for the
//! files: JUnit, GitHub outputs, dotenv). [`Reporters`] fans events out in
//! order, which is what puts GitHub's `::endgroup::` before the console's
//! final table.

use std::io::Write;
use std::path::Path;

use crate::report::{Event, EventSink, GateReport};

pub mod console;
pub mod drone;
pub mod github;
pub mod gitlab;
pub mod junit;

/// One output of the gate.
pub trait Reporter {
    /// Called for every event, in order.
    fn event(&mut self, _event: &Event<'_>) {}

    /// Called once at the end, to write files. An error is printed and does
    /// not change the exit code.
    fn finish(&mut self, _report: &GateReport) -> anyhow::Result<()> {
        Ok(())
    }
}

/// All reporters of a run, in the order they print.
#[derive(Default)]
pub struct Reporters(pub Vec<Box<dyn Reporter>>);

impl Reporters {
    pub fn push(&mut self, r: impl Reporter + 'static) {
        self.0.push(Box::new(r));
    }

    /// Delivers the final report: a `Finished` event, then every `finish`.
    /// Returns the errors, one line each, for the caller to print.
    pub fn finish(&mut self, report: &GateReport) -> Vec<String> {
        self.emit(&Event::Finished { report });
        let mut errors = Vec::new();
        for r in &mut self.0 {
            if let Err(e) = r.finish(report) {
                errors.push(format!("{e:#}"));
            }
        }
        errors
    }
}

impl EventSink for Reporters {
    fn emit(&mut self, event: &Event<'_>) {
        for r in &mut self.0 {
            r.event(event);
        }
    }
}

/// The `CHAOS_GATE_*` keys of GitLab's dotenv report and Drone's output
/// file, one line each. Values are put on one line: neither format has a
/// way to carry a newline.
pub fn dotenv_pairs(report: &GateReport) -> Vec<(&'static str, String)> {
    let clean = |s: String| s.replace(['\r', '\n'], " ");
    let mut pairs = vec![
        ("CHAOS_GATE_VERDICT", report.outcome.verdict().to_string()),
        ("CHAOS_GATE_RESILIENCE_SCORE", report.score_output()),
        ("CHAOS_GATE_NOTIFY_IDS", clean(report.notify_ids())),
    ];
    // Experiment as code (spec §9).
    if let Some(sync) = &report.sync {
        pairs.push((
            "CHAOS_GATE_EXPERIMENT_ACTION",
            sync.action_output().to_string(),
        ));
        pairs.push((
            "CHAOS_GATE_EXPERIMENT_ID",
            clean(sync.experiment_id.clone().unwrap_or_default()),
        ));
    }
    pairs
}

/// Appends `text` to the file at `path` (the CI hosts' output files are
/// shared by every step, so they are appended to, never replaced).
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {} to append outputs", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write outputs to {}", path.display()))
}

/// Writes a whole file or nothing: a temporary file beside it, then a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes)
        .with_context(|| format!("cannot write {}", tmp.display()))
        .and_then(|_| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
