//! `chaos-sim`: a simulator of the Harness Chaos Engineering and LitmusChaos
//! ChaosCenter 3.x APIs for testing and benchmarking `chaos-gate` without a
//! real platform.
//!
//! A [`Scenario`] (TOML) says which experiments exist, which phases their
//! runs go through poll by poll, what score they end with, and which
//! failures to inject (HTTP errors, slow answers, dropped connections,
//! garbage bodies); its `platform` key picks the dialect served (`harness`
//! by default, or `litmus`). A [`Simulator`] serves it on a local port and records
//! every request so a test can assert on what a client really sent.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let scenario = chaos_sim::Scenario::load(std::path::Path::new("scenarios/demo.toml"))
//!     .map_err(std::io::Error::other)?;
//! let sim = chaos_sim::Simulator::start(scenario).await?;
//! println!("endpoint: {}", sim.url());
//! // ... run the client against sim.url() ...
//! assert!(sim.runs().iter().all(|r| !r.stopped));
//! # Ok(()) }
//! ```

mod execution;
mod graphql;
mod harness;
mod litmus;
pub mod scenario;
mod server;
mod state;
mod stored;
mod wire;

pub use scenario::{Platform, Scenario};

/// The GraphQL schemas the simulator validates every document against, as
/// text, so that a client's tests check their documents against the very
/// schema the simulator enforces (no second copy to keep in step).
pub mod schemas {
    /// Harness Chaos Engineering: the subset of its schema the simulator
    /// serves (`schema/harness-chaos-subset.graphql`).
    pub const HARNESS: &str = crate::harness::SCHEMA_SDL;
    /// LitmusChaos ChaosCenter 3.x, as `(file name, text)`, one per file of
    /// `schema/litmus` in name order; only valid together.
    pub const LITMUS: &[(&str, &str)] = crate::litmus::SCHEMA_FILES;
}
pub use server::Simulator;
pub use state::{RecordedRequest, RunSnapshot, TERMINAL_PHASES, is_terminal_phase};
