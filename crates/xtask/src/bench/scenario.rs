//! The simulated runs the bench measures, written as chaos-sim scenario
//! files under target/bench/scenarios.
//!
//! The simulator moves a run one phase forward per poll, so a run's phase
//! list is how many status polls it takes: chaos-gate and the baseline see
//! the same run poll for poll, whatever their poll intervals.

use std::fmt::Write as _;
use std::path::Path;

/// What every bench scenario accepts; the gate and the baseline send these.
pub const ACCOUNT: &str = "acc-bench";
pub const API_KEY: &str = "sim-api-key-bench";
pub const PROJECT: &str = "bench";

/// Score every bench run ends with, and the threshold the gates are given:
/// every measured gate passes (exit 0), so a failure is the bench breaking.
pub const SCORE: u32 = 100;
pub const EXPECTED: u32 = 90;

/// Faults commonly run together; a run with `n` faults takes the first `n`
/// (cycling), each a ChaosEngine node in `executionData` and a template in
/// the manifest.
const FAULTS: &[&str] = &[
    "pod-delete",
    "pod-network-latency",
    "pod-cpu-hog",
    "pod-memory-hog",
    "disk-fill",
];

/// One stored experiment and the run a trigger starts.
pub struct Experiment {
    pub id: String,
    phases: Vec<&'static str>,
    faults: usize,
    execution_data_pad_bytes: usize,
    execution_data_nodes_bytes: usize,
}

impl Experiment {
    /// A run seen over exactly `polls` status polls: `Queued`, then
    /// `Running` until the last poll, which shows `Completed` and the score.
    pub fn new(id: impl Into<String>, polls: usize, faults: usize) -> Experiment {
        let phases = match polls {
            0 | 1 => vec!["Completed"],
            n => {
                let mut p = vec!["Queued"];
                p.extend(std::iter::repeat_n("Running", n - 2));
                p.push("Completed");
                p
            }
        };
        Experiment {
            id: id.into(),
            phases,
            faults,
            execution_data_pad_bytes: 0,
            execution_data_nodes_bytes: 0,
        }
    }

    /// Grows the run's `executionData` to about `bytes` with Argo step and
    /// pod nodes (the simulator's `execution_data_nodes_bytes`): the
    /// node-heavy shape of a large real workflow.
    pub fn with_argo_execution_data(mut self, bytes: usize) -> Experiment {
        self.execution_data_nodes_bytes = bytes;
        self
    }

    /// Pads the run's `executionData` to about `bytes` (the simulator's
    /// `execution_data_pad_bytes`).
    pub fn with_execution_data(mut self, bytes: usize) -> Experiment {
        self.execution_data_pad_bytes = bytes;
        self
    }

    fn toml(&self) -> String {
        let mut s = String::new();
        let phases: Vec<String> = self.phases.iter().map(|p| format!("{p:?}")).collect();
        // Writing to a String cannot fail.
        let _ = writeln!(s, "[[experiments]]");
        let _ = writeln!(s, "id = {:?}", self.id);
        let _ = writeln!(s, "phases = [{}]", phases.join(", "));
        let _ = writeln!(s, "resiliency_score = {SCORE}.0");
        if self.execution_data_pad_bytes > 0 {
            let _ = writeln!(
                s,
                "execution_data_pad_bytes = {}",
                self.execution_data_pad_bytes
            );
        }
        if self.execution_data_nodes_bytes > 0 {
            let _ = writeln!(
                s,
                "execution_data_nodes_bytes = {}",
                self.execution_data_nodes_bytes
            );
        }
        for i in 0..self.faults {
            let _ = writeln!(s, "\n[[experiments.faults]]");
            let _ = writeln!(s, "name = {:?}", FAULTS[i % FAULTS.len()]);
        }
        s
    }
}

/// Writes a Harness scenario with these experiments to `path`; the
/// workflow manifest keeps the simulator's default size.
pub fn write(path: &Path, experiments: &[Experiment]) -> Result<(), String> {
    let mut text = format!(
        "# Written by `cargo xtask bench`; rewritten on every run.\n\n[harness]\naccount_id = {ACCOUNT:?}\napi_key = {API_KEY:?}\n"
    );
    for e in experiments {
        text.push('\n');
        text.push_str(&e.toml());
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_take_the_number_of_polls_asked_for() {
        assert_eq!(Experiment::new("e", 1, 1).phases, ["Completed"]);
        assert_eq!(Experiment::new("e", 2, 1).phases, ["Queued", "Completed"]);
        let long = Experiment::new("e", 120, 3).phases;
        assert_eq!(long.len(), 120);
        assert_eq!(
            (long[0], long[1], long[119]),
            ("Queued", "Running", "Completed")
        );
    }
}
