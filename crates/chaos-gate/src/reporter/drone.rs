//! Harness CI / Drone: `CHAOS_GATE_*` lines appended to the file named by
//! `DRONE_OUTPUT` or `HARNESS_OUTPUT_FILE` (README "Reports and outputs"), the same keys as
//! GitLab's dotenv report, so later steps read them as output variables.

use std::path::PathBuf;

use super::{Reporter, dotenv_text};
use crate::report::{Event, GateReport, Stamped};
use crate::report_file;

/// The output files named by the environment (either or both).
pub fn output_files(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["DRONE_OUTPUT", "HARNESS_OUTPUT_FILE"]
        .iter()
        .filter_map(|k| env(k))
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from)
        .collect();
    files.dedup();
    files
}

/// Writes the output variables for later steps.
pub struct Drone {
    files: Vec<PathBuf>,
}

impl Drone {
    pub fn new(files: Vec<PathBuf>) -> Drone {
        Drone { files }
    }
}

impl Reporter for Drone {
    fn event(&mut self, stamped: &Stamped<'_>) {
        // Files only, written at the end.
        match stamped.event {
            Event::Started { .. }
            | Event::Triggered { .. }
            | Event::Attached { .. }
            | Event::Listed { .. }
            | Event::PhaseChanged { .. }
            | Event::Heartbeat { .. }
            | Event::Warning { .. }
            | Event::BaselineRead { .. }
            | Event::RunFinished { .. }
            | Event::Checked { .. }
            | Event::Stopping { .. }
            | Event::Stopped { .. }
            | Event::StopConfirmed { .. }
            | Event::Finished { .. }
            | Event::Progress { .. } => {}
        }
    }

    fn finish(&mut self, report: &GateReport) -> anyhow::Result<()> {
        let text = dotenv_text(report);
        let mut result = Ok(());
        for f in &self.files {
            let written = report_file::append(f, "the output variables", text.clone());
            result = result.and(written);
        }
        result
    }
}
