//! Reporters: one per output, each reading the report model.
//!
//! A reporter sees every [`Event`] as it happens (for live output such as
//! the console and log sections) and the final [`GateReport`] once (for the
//! files: JUnit, GitHub outputs, dotenv). [`Reporters`] fans events out in
//! order, which is what puts GitHub's `::endgroup::` before the console's
//! final table.

use crate::report::{Event, EventSink, GateReport, Stamped};

pub mod console;
pub mod drone;
pub mod github;
pub mod gitlab;
pub mod junit;
pub mod outputs;

/// One output of the gate.
pub trait Reporter {
    /// Called for every event, in order, with the time it happened. Each
    /// reporter names every kind of event, the ones it ignores included,
    /// so that a new kind is a compile error until each has decided.
    fn event(&mut self, event: &Stamped<'_>);

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
        let stamped = Stamped::now(event);
        for r in &mut self.0 {
            r.event(&stamped);
        }
    }
}

/// The `CHAOS_GATE_*` lines of GitLab's dotenv report and Drone's output
/// file: the [`outputs`] that go there, `KEY=VALUE` each. Values are the
/// one escaping point of the dotenv format: neither it nor Drone's has a
/// way to carry a newline or any other control character, so each becomes
/// a space, and platform text is cut to [`crate::text::SHOWN_MAX`]
/// characters per notify ID.
pub fn dotenv_text(report: &GateReport) -> String {
    // No dotenv output reads the JUnit path.
    outputs::written(report, std::path::Path::new(""))
        .into_iter()
        .filter(|o| o.dotenv)
        .map(|o| {
            format!(
                "CHAOS_GATE_{}={}\n",
                o.name.to_ascii_uppercase(),
                dotenv_value(&o.value)
            )
        })
        .collect()
}

/// A value on one `KEY=VALUE` line.
pub fn dotenv_value(text: &str) -> String {
    text.split(',')
        .map(|id| crate::text::cut(id, crate::text::SHOWN_MAX).into_owned())
        .collect::<Vec<_>>()
        .join(",")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_values_stay_on_their_line() {
        assert_eq!(dotenv_value("a\nB=1\r\u{1b}[0K,c"), "a B=1  [0K,c");
        let long = "n".repeat(5000);
        assert!(dotenv_value(&format!("{long},x")).len() < 300);
    }
}
