//! chaos-gate: gate a deploy on a chaos experiment's resilience score.
//!
//! The crate follows the path of one gate, settings -> plan -> gate ->
//! verdict -> report (the README's "Layout" section says where each kind
//! of change goes):
//!
//! - [`settings`]: every setting in one table, each with its name, meaning,
//!   default, secrecy, platform and parser; read from the CI host's
//!   environment, validated all at once, and turned into a
//!   [`settings::Mode`] (trigger, attach, dry run, experiment file) chosen
//!   once (README "Settings", "Modes");
//! - [`app`]: one gate from validated settings to its exit code: the
//!   deadline and signals, the [`gate::Plan`], the platform client, the
//!   reporters, the exit policy's warnings;
//! - [`platform`]: the chaos platforms behind one trait, each in its own
//!   module with its own settings ([`platform::harness`],
//!   [`platform::litmus`]; [`platform::connect`] is the one place that
//!   chooses), typed errors ([`platform::PlatformError`]), over the shared
//!   [`http`] transport (retry budget, connection bound, redaction),
//!   [`urls`] (the one URL builder) and [`graphql`] (README "Platforms");
//! - [`manifest`]: an experiment manifest from the repository (README
//!   "Experiment as code");
//! - [`gate`]: the state machine that reads baselines, triggers, polls,
//!   judges and stops; the mode is matched in [`gate::run_all`] alone
//!   (README "Phases and verdicts", "Failure behaviour");
//! - [`verdict`]: phases, the judging rules, and exit codes (README "Phases
//!   and verdicts", "Exit codes");
//! - [`report`]: the timestamped events and the final report every reporter
//!   reads (the JSON log is these types, serialised);
//! - [`reporter`]: one module per output (console, JUnit, GitHub, GitLab,
//!   Drone / Harness CI), chosen by [`reporter::for_host`]; the output names
//!   are listed once in [`reporter::outputs`] (README "Reports and
//!   outputs"). They print through [`output`] (stdout and stderr: never a
//!   panic, never a stray workflow command) and write files through
//!   [`report_file`] (whole or appended, never destroying what is there,
//!   never holding the exit); secrets are redacted in [`secret`].
//!
//! `main.rs` only reads the command line and the settings and hands them
//! to [`app::run`].

pub mod app;
pub mod gate;
pub mod graphql;
pub mod http;
pub mod logging;
pub mod manifest;
pub mod output;
pub mod platform;
pub mod report;
pub mod report_file;
pub mod reporter;
pub mod secret;
pub mod settings;
pub mod signals;
pub mod text;
pub mod urls;
pub mod verdict;
