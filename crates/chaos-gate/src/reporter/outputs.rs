//! The gate's outputs, named once: what each is and how it is computed
//! from the [`GateReport`]. GitHub's step outputs, the dotenv report of
//! GitLab and the output file of Drone / Harness CI (`CHAOS_GATE_<NAME>`)
//! all write from this list, and the settings reader ignores these names
//! when it meets them as variables (a later job sees them).

use std::path::Path;

use crate::report::GateReport;

/// One output of the gate.
pub struct Output {
    /// The name (GitHub) and, upper-cased after `CHAOS_GATE_`, the dotenv
    /// key (GitLab, Drone).
    pub name: &'static str,
    /// Whether the dotenv hosts get it too (not the JUnit path, which is a
    /// file of this job, nor the JSON results, which a `KEY=VALUE` line
    /// cannot carry).
    pub dotenv: bool,
    /// Its value; `None`: not written for this gate.
    pub value: fn(&GateReport, &Path) -> Option<String>,
}

/// Every output, in the order written.
pub const OUTPUTS: [Output; 7] = [
    Output {
        name: "verdict",
        dotenv: true,
        value: |r, _| Some(r.outcome.verdict().to_string()),
    },
    Output {
        name: "resilience_score",
        dotenv: true,
        value: |r, _| Some(r.score_output()),
    },
    Output {
        name: "notify_ids",
        dotenv: true,
        value: |r, _| Some(r.notify_ids()),
    },
    Output {
        name: "junit_path",
        dotenv: false,
        value: |_, junit| Some(junit.display().to_string()),
    },
    Output {
        name: "results",
        dotenv: false,
        value: |r, _| Some(r.results_json()),
    },
    // Experiment as code (README "Experiment as code"): only when the gate read a manifest.
    Output {
        name: "experiment_action",
        dotenv: true,
        value: |r, _| r.sync.as_ref().map(|s| s.action_output().to_string()),
    },
    Output {
        name: "experiment_id",
        dotenv: true,
        value: |r, _| {
            r.sync
                .as_ref()
                .map(|s| s.experiment_id.clone().unwrap_or_default())
        },
    },
];

/// The outputs' names.
pub const NAMES: [&str; OUTPUTS.len()] = {
    let mut names = [""; OUTPUTS.len()];
    let mut i = 0;
    while i < OUTPUTS.len() {
        names[i] = OUTPUTS[i].name;
        i += 1;
    }
    names
};

/// An output written for this gate.
pub struct Written {
    pub name: &'static str,
    pub dotenv: bool,
    pub value: String,
}

/// The outputs written for this gate, in order.
pub fn written(report: &GateReport, junit_path: &Path) -> Vec<Written> {
    OUTPUTS
        .into_iter()
        .filter_map(|o| {
            Some(Written {
                name: o.name,
                dotenv: o.dotenv,
                value: (o.value)(report, junit_path)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_snake_case() {
        for (i, n) in NAMES.iter().enumerate() {
            assert!(!NAMES[..i].contains(n), "{n} twice");
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
    }
}
