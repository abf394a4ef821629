//! `chaos-sim`: a simulator of the Harness Chaos Engineering API for testing
//! and benchmarking `chaos-gate` without a real platform.
//!
//! A [`Scenario`] (TOML) says which experiments exist, which phases their
//! runs go through poll by poll, what score they end with, and which
//! failures to inject (HTTP errors, slow answers, dropped connections,
//! garbage bodies). A [`Simulator`] serves it on a local port and records
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
pub mod scenario;
mod server;
mod state;

pub use scenario::Scenario;
pub use server::Simulator;
pub use state::{RecordedRequest, RunSnapshot};
