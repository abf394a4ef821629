//! The fault matrix (spec §7): faults injected by the simulator's scenario,
//! one row each, with the exit code, the requests the platform saw, the
//! runs it holds afterwards and whether the JUnit report was written.

use crate::common::*;

/// One row of the matrix.
struct Row {
    name: &'static str,
    /// Scenario lines added after the experiment (`[[inject]]` tables).
    inject: &'static str,
    /// Phases of the experiment `exp`.
    phases: &'static [&'static str],
    /// Settings that differ from the defaults of `Gate::new`.
    env: &'static [(&'static str, &'static str)],
    code: i32,
    /// Requests per operation: (operation, at least, at most).
    requests: &'static [(&'static str, usize, usize)],
    /// Runs the platform holds afterwards, and whether they were stopped.
    runs: usize,
    stopped: bool,
    /// Text the output must contain.
    says: &'static str,
}

const DONE: &[&str] = &["Running", "Completed"];
const FOREVER: &[&str] = &["Running"];

fn rows() -> Vec<Row> {
    let base = Row {
        name: "",
        inject: "",
        phases: DONE,
        env: &[],
        code: 0,
        requests: &[],
        runs: 1,
        stopped: false,
        says: "",
    };
    vec![
        Row {
            name: "no fault",
            requests: &[
                ("runChaosExperiment", 1, 1),
                ("listWorkflowRun", 3, 3),
                ("stop", 0, 0),
            ],
            ..base
        },
        Row {
            name: "status polls answer 503 twice",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 2\nstatus = 503\n",
            requests: &[("runChaosExperiment", 1, 1), ("listWorkflowRun", 5, 5)],
            ..base
        },
        Row {
            name: "a status poll answers 429 with Retry-After",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 1\nstatus = 429\nretry_after = 1\n",
            requests: &[("listWorkflowRun", 4, 4)],
            ..base
        },
        Row {
            name: "a status poll answers an HTML page",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 1\nbody = \"<html><body>maintenance</body></html>\"\n",
            requests: &[("listWorkflowRun", 4, 4)],
            ..base
        },
        Row {
            name: "a status poll answers JSON of the wrong shape",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 1\nbody = \"{\\\"data\\\":{\\\"listWorkflowRun\\\":{\\\"workflowRuns\\\":\\\"x\\\"}}}\"\n",
            requests: &[("listWorkflowRun", 4, 4)],
            ..base
        },
        Row {
            name: "a status poll's connection drops",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 1\ndrop_connection = true\n",
            requests: &[("listWorkflowRun", 4, 4)],
            ..base
        },
        Row {
            name: "the trigger's connection drops after the run started",
            inject: "[[inject]]\noperation = \"runChaosExperiment\"\nfirst = 1\ndrop_connection = true\nafter_effect = true\n",
            requests: &[("runChaosExperiment", 1, 1)],
            ..base
        },
        Row {
            name: "the trigger answers 503 after the run started",
            inject: "[[inject]]\noperation = \"runChaosExperiment\"\nfirst = 1\nstatus = 503\nafter_effect = true\n",
            requests: &[("runChaosExperiment", 1, 1)],
            ..base
        },
        Row {
            name: "the trigger answers 500 and started nothing",
            inject: "[[inject]]\noperation = \"runChaosExperiment\"\nfirst = 1\nstatus = 500\n",
            requests: &[("runChaosExperiment", 2, 2)],
            ..base
        },
        Row {
            name: "the trigger is refused with 429 first",
            inject: "[[inject]]\noperation = \"runChaosExperiment\"\nfirst = 1\nstatus = 429\nretry_after = 1\n",
            requests: &[("runChaosExperiment", 2, 2)],
            ..base
        },
        Row {
            // No poll ever showed the run's ID, and a stop without it would
            // stop every running run of the experiment: none is sent, and
            // the report says the run may still be going.
            name: "status polls always answer 503",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nstatus = 503\n",
            env: &[("CHAOS_GATE_TIMEOUT", "2")],
            code: 3,
            requests: &[("stop", 0, 0)],
            stopped: false,
            says: "the chaos may still be running",
            ..base
        },
        Row {
            name: "status polls hang past the timeout",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\ndelay_ms = 20000\n",
            env: &[("CHAOS_GATE_TIMEOUT", "1")],
            code: 3,
            requests: &[("stop", 0, 0)],
            stopped: false,
            says: "the chaos may still be running",
            ..base
        },
        Row {
            name: "the run never finishes",
            phases: FOREVER,
            env: &[("CHAOS_GATE_TIMEOUT", "1")],
            code: 4,
            requests: &[("stop", 1, 1)],
            stopped: true,
            says: "confirmed stopped",
            ..base
        },
        Row {
            name: "the run never finishes and stop_on_abort is false",
            phases: FOREVER,
            env: &[
                ("CHAOS_GATE_TIMEOUT", "1"),
                ("CHAOS_GATE_STOP_ON_ABORT", "false"),
            ],
            code: 4,
            requests: &[("stop", 0, 0)],
            ..base
        },
        Row {
            name: "the stop itself fails",
            phases: FOREVER,
            inject: "[[inject]]\noperation = \"stop\"\nstatus = 500\n",
            env: &[("CHAOS_GATE_TIMEOUT", "1")],
            code: 4,
            requests: &[("stop", 1, 1)],
            says: "the chaos may still be running",
            ..base
        },
        Row {
            name: "the API key is refused",
            env: &[("CHAOS_GATE_API_KEY", "not-the-key")],
            code: 3,
            requests: &[("runChaosExperiment", 1, 1), ("listWorkflowRun", 0, 0)],
            runs: 0,
            ..base
        },
        Row {
            name: "a status poll answers 400 with a GraphQL error",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nstatus = 400\nbody = \"{\\\"errors\\\":[{\\\"message\\\":\\\"bad request\\\"}]}\"\n",
            code: 3,
            // A platform error ends the gate: the platform is not asked for
            // the run's ID again, so no stop can be sent.
            requests: &[("listWorkflowRun", 1, 1), ("stop", 0, 0)],
            says: "the chaos may still be running",
            ..base
        },
        Row {
            name: "a platform error with on_platform_error=warn",
            inject: "[[inject]]\noperation = \"listWorkflowRun\"\nstatus = 503\n",
            env: &[
                ("CHAOS_GATE_TIMEOUT", "2"),
                ("CHAOS_GATE_ON_PLATFORM_ERROR", "warn"),
            ],
            code: 0,
            requests: &[("stop", 0, 0)],
            stopped: false,
            says: "the chaos may still be running",
            ..base
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_matrix() {
    let mut failures = Vec::new();
    for row in rows() {
        let exp = uuid(1);
        let body = format!(
            "{}\n{}",
            experiment(&exp, row.phases, Some(100.0)),
            row.inject
        );
        let sim = sim(&body).await;
        let mut gate = Gate::new(&sim, &exp);
        for (k, v) in row.env {
            gate = gate.env(k, v);
        }
        let run = gate.run().await;
        let mut problems = Vec::new();
        if run.code != Some(row.code) {
            problems.push(format!("exit {:?}, expected {}", run.code, row.code));
        }
        for (op, min, max) in row.requests {
            let n = count(&sim, op);
            if n < *min || n > *max {
                problems.push(format!("{n} {op} requests, expected {min}..={max}"));
            }
        }
        let runs = sim.runs();
        if runs.len() != row.runs {
            problems.push(format!(
                "{} runs on the platform, expected {}",
                runs.len(),
                row.runs
            ));
        }
        if runs.iter().any(|r| r.stopped) != row.stopped {
            problems.push(format!("stopped: expected {}", row.stopped));
        }
        if !run.output().contains(row.says) {
            problems.push(format!("output lacks {:?}", row.says));
        }
        problems.extend(run.junit_problem());
        if !problems.is_empty() {
            failures.push(run.row_failure(row.name, &problems));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
