//! Reporters: one per output, each reading the report model.
//!
//! A reporter sees every [`Event`] as it happens (for live output such as
//! the console and log sections) and the final [`GateReport`] once (for the
//! files: JUnit, GitHub outputs, dotenv). [`Reporters`] fans events out in
//! order, which is what puts GitHub's `::endgroup::` before the console's
//! final table.

use std::path::PathBuf;

use crate::output::Stdout;
use crate::report::{Event, EventSink, GateReport, Stamped};
use crate::settings::Settings;

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

/// A reporter the CI host asks for, in printing order: what [`for_host`]
/// builds. Each reporter module says when it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The JUnit report: always.
    Junit,
    /// GitHub Actions ([`github::detected`]).
    GitHub,
    /// GitLab CI ([`gitlab::detected`]).
    GitLab,
    /// Harness CI / Drone output files ([`drone::output_files`]), when the
    /// environment names any.
    Drone(Vec<PathBuf>),
    /// The console: always, last.
    Console,
}

/// The outputs the environment asks for, in printing order.
pub fn selected(env: &dyn Fn(&str) -> Option<String>) -> Vec<Output> {
    let mut outputs = vec![Output::Junit];
    if github::detected(env) {
        outputs.push(Output::GitHub);
    }
    if gitlab::detected(env) {
        outputs.push(Output::GitLab);
    }
    let drone_files = drone::output_files(env);
    if !drone_files.is_empty() {
        outputs.push(Output::Drone(drone_files));
    }
    outputs.push(Output::Console);
    outputs
}

/// Builds the reporters the environment asks for, in printing order.
pub fn for_host(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
    stdout: &Stdout,
) -> Reporters {
    let file = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut r = Reporters::default();
    for output in selected(env) {
        match output {
            Output::Junit => r.push(junit::Junit::new(settings.junit_path.clone())),
            Output::GitHub => r.push(github::GitHub::new(
                stdout.clone(),
                file("GITHUB_OUTPUT"),
                file("GITHUB_STEP_SUMMARY"),
                settings.exit_policy(),
                settings.junit_path.clone(),
            )),
            Output::GitLab => r.push(gitlab::GitLab::new(
                stdout.clone(),
                PathBuf::from(gitlab::DOTENV_FILE),
            )),
            Output::Drone(files) => r.push(drone::Drone::new(files)),
            Output::Console => r.push(console::Console::new(
                stdout.clone(),
                settings.log_format,
                settings.junit_path.clone(),
            )),
        }
    }
    r
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

    fn outputs_of(vars: &[(&str, &str)]) -> Vec<Output> {
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        };
        selected(&env)
    }

    #[test]
    fn junit_and_console_always_host_outputs_between() {
        assert_eq!(outputs_of(&[]), [Output::Junit, Output::Console]);
        assert_eq!(
            outputs_of(&[("GITHUB_ACTIONS", "true")]),
            [Output::Junit, Output::GitHub, Output::Console]
        );
        assert_eq!(
            outputs_of(&[("GITHUB_STEP_SUMMARY", "/s")]),
            [Output::Junit, Output::GitHub, Output::Console]
        );
        assert_eq!(
            outputs_of(&[("GITLAB_CI", "true")]),
            [Output::Junit, Output::GitLab, Output::Console]
        );
        assert_eq!(
            outputs_of(&[("GITLAB_CI", "false")]),
            [Output::Junit, Output::Console]
        );
        assert_eq!(
            outputs_of(&[("DRONE_OUTPUT", "/d"), ("HARNESS_OUTPUT_FILE", "/h")]),
            [
                Output::Junit,
                Output::Drone(vec![PathBuf::from("/d"), PathBuf::from("/h")]),
                Output::Console
            ]
        );
        assert_eq!(
            outputs_of(&[("DRONE_OUTPUT", " ")]),
            [Output::Junit, Output::Console]
        );
        assert_eq!(
            outputs_of(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITLAB_CI", "1"),
                ("DRONE_OUTPUT", "/d")
            ]),
            [
                Output::Junit,
                Output::GitHub,
                Output::GitLab,
                Output::Drone(vec![PathBuf::from("/d")]),
                Output::Console
            ]
        );
    }

    #[test]
    fn dotenv_values_stay_on_their_line() {
        assert_eq!(dotenv_value("a\nB=1\r\u{1b}[0K,c"), "a B=1  [0K,c");
        let long = "n".repeat(5000);
        assert!(dotenv_value(&format!("{long},x")).len() < 300);
    }
}
