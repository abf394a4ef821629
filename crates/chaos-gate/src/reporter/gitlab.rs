//! GitLab CI: the dotenv report `chaos-gate.env` and a collapsible log
//! section around the polling log (spec §6).
//!
//! The dotenv file is what `artifacts: reports: dotenv:` turns into
//! variables of later jobs (`CHAOS_GATE_VERDICT`, ...); chaos-gate ignores
//! those names when it reads its own settings.

use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{dotenv_pairs, write_atomically, Reporter};
use crate::report::{Event, GateReport};

/// True when running in a GitLab CI job.
pub fn detected(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("GITLAB_CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The dotenv file, written in the job's working directory.
pub const DOTENV_FILE: &str = "chaos-gate.env";

const SECTION: &str = "chaos_gate_polling";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// GitLab's outputs.
pub struct GitLab {
    out: Box<dyn Write>,
    dotenv: PathBuf,
    open: bool,
}

impl GitLab {
    pub fn new(out: Box<dyn Write>, dotenv: PathBuf) -> GitLab {
        GitLab {
            out,
            dotenv,
            open: false,
        }
    }

    fn raw(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }
}

impl Reporter for GitLab {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Started { experiments, .. } => {
                let header = format!("chaos-gate: watching {} experiment(s)", experiments.len());
                let line = format!(
                    "\x1b[0Ksection_start:{}:{SECTION}[collapsed=true]\r\x1b[0K{header}",
                    now()
                );
                self.raw(&line);
                self.open = true;
            }
            Event::Finished { .. } if self.open => {
                let line = format!("\x1b[0Ksection_end:{}:{SECTION}\r\x1b[0K", now());
                self.raw(&line);
                self.open = false;
            }
            _ => {}
        }
    }

    fn finish(&mut self, report: &GateReport) -> anyhow::Result<()> {
        let text: String = dotenv_pairs(report)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        write_atomically(&self.dotenv, text.as_bytes())
    }
}
