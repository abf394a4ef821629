//! GitLab CI: the dotenv report `chaos-gate.env` and a collapsible log
//! section around the polling log (README "Reports and outputs").
//!
//! The dotenv file is what `artifacts: reports: dotenv:` turns into
//! variables of later jobs (`CHAOS_GATE_VERDICT`, ...); chaos-gate ignores
//! those names when it reads its own settings.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Reporter, dotenv_text};
use crate::output::Stdout;
use crate::report::{Event, GateReport, Stamped};
use crate::report_file;

/// True when running in a GitLab CI job.
pub fn detected(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("GITLAB_CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The dotenv file, written in the job's working directory.
pub const DOTENV_FILE: &str = "chaos-gate.env";

const SECTION: &str = "chaos_gate_polling";

/// An event's time as a section marker wants it: Unix seconds.
fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// GitLab's outputs.
pub struct GitLab {
    out: Stdout,
    dotenv: PathBuf,
    open: bool,
}

impl GitLab {
    pub fn new(out: Stdout, dotenv: PathBuf) -> GitLab {
        GitLab {
            out,
            dotenv,
            open: false,
        }
    }
}

impl Reporter for GitLab {
    fn event(&mut self, stamped: &Stamped<'_>) {
        match stamped.event {
            Event::Started { experiments, .. } => {
                let header = format!("chaos-gate: watching {} experiment(s)", experiments.len());
                self.out
                    .gitlab_section_start(unix_seconds(stamped.timestamp), SECTION, &header);
                self.open = true;
            }
            Event::Finished { .. } if self.open => {
                self.out
                    .gitlab_section_end(unix_seconds(stamped.timestamp), SECTION);
                self.open = false;
            }
            Event::Triggered { .. }
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
        report_file::write_whole(
            &self.dotenv,
            "the dotenv report",
            dotenv_text(report).into_bytes(),
        )
    }
}
