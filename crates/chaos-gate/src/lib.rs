//! chaos-gate: gate a deploy on a chaos experiment's resilience score.
//!
//! The crate is laid out along the path of one gate:
//!
//! - [`settings`]: every setting, read from the CI host's environment and
//!   validated (spec §2);
//! - [`platform`]: the chaos platforms behind one trait ([`platform::harness`]),
//!   over the shared [`http`] transport and [`graphql`] answer reading (§3);
//! - [`manifest`]: an experiment manifest from the repository (§9);
//! - [`gate`]: the state machine that triggers, polls, and stops (§4, §7);
//! - [`verdict`]: phases, scores and exit codes (§4, §5);
//! - [`report`]: the events and the final report every reporter reads;
//! - [`reporter`]: one module per output: console, JUnit, GitHub, GitLab,
//!   Drone / Harness CI (§6), printing through [`output`] (stdout and
//!   stderr, never a panic, never a stray workflow command) and writing
//!   files through [`report_file`] (whole or appended, never destroying
//!   what is there, never holding the exit).
//!
//! [`app`] runs one gate from validated settings to its exit code; `main.rs`
//! only reads the command line and the settings and hands them over.

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
