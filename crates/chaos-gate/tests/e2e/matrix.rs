//! The fault matrix (README "Failure behaviour"): faults injected by the simulator's scenario,
//! one row each, with the exit code, the requests the platform saw, the
//! runs it holds afterwards and whether the JUnit report was written.

use crate::common::*;

/// One row of the matrix.
struct Row {
    name: &'static str,
    /// Scenario lines added after the experiment (`[[inject]]` tables).
    inject: String,
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
    let base = || Row {
        name: "",
        inject: String::new(),
        phases: DONE,
        env: &[],
        code: 0,
        requests: &[],
        runs: 1,
        stopped: false,
        says: "",
    };
    // A fault on the first status poll only: one poll more than without.
    let first_poll = |name, rest: &str| Row {
        name,
        inject: inject("listWorkflowRun", &format!("first = 1\n{rest}")),
        requests: &[("listWorkflowRun", 4, 4)],
        ..base()
    };
    // A fault on the first trigger only, and the triggers it takes.
    let first_trigger = |name, rest: &str, requests| Row {
        name,
        inject: inject("runChaosExperiment", &format!("first = 1\n{rest}")),
        requests,
        ..base()
    };
    vec![
        Row {
            name: "no fault",
            requests: &[
                ("runChaosExperiment", 1, 1),
                ("listWorkflowRun", 3, 3),
                ("stop", 0, 0),
            ],
            ..base()
        },
        Row {
            name: "status polls answer 503 twice",
            inject: inject("listWorkflowRun", "first = 2\nstatus = 503"),
            requests: &[("runChaosExperiment", 1, 1), ("listWorkflowRun", 5, 5)],
            ..base()
        },
        first_poll(
            "a status poll answers 429 with Retry-After",
            "status = 429\nretry_after = 1",
        ),
        first_poll(
            "a status poll answers an HTML page",
            "body = \"<html><body>maintenance</body></html>\"",
        ),
        first_poll(
            "a status poll answers JSON of the wrong shape",
            "body = \"{\\\"data\\\":{\\\"listWorkflowRun\\\":{\\\"workflowRuns\\\":\\\"x\\\"}}}\"",
        ),
        first_poll("a status poll's connection drops", "drop_connection = true"),
        first_trigger(
            "the trigger's connection drops after the run started",
            "drop_connection = true\nafter_effect = true",
            &[("runChaosExperiment", 1, 1)],
        ),
        first_trigger(
            "the trigger answers 503 after the run started",
            "status = 503\nafter_effect = true",
            &[("runChaosExperiment", 1, 1)],
        ),
        first_trigger(
            "the trigger answers 500 and started nothing",
            "status = 500",
            &[("runChaosExperiment", 2, 2)],
        ),
        first_trigger(
            "the trigger is refused with 429 first",
            "status = 429\nretry_after = 1",
            &[("runChaosExperiment", 2, 2)],
        ),
        Row {
            // No poll ever showed the run's ID, and a stop without it would
            // stop every running run of the experiment: none is sent, and
            // the report says the run may still be going.
            name: "status polls always answer 503",
            inject: inject("listWorkflowRun", "status = 503"),
            env: &[("CHAOS_GATE_TIMEOUT", "2")],
            code: 3,
            requests: &[("stop", 0, 0)],
            stopped: false,
            says: "the chaos may still be running",
            ..base()
        },
        Row {
            name: "status polls hang past the timeout",
            inject: inject("listWorkflowRun", "delay_ms = 20000"),
            env: &[("CHAOS_GATE_TIMEOUT", "1")],
            code: 3,
            requests: &[("stop", 0, 0)],
            stopped: false,
            says: "the chaos may still be running",
            ..base()
        },
        Row {
            name: "the run never finishes",
            phases: FOREVER,
            env: &[("CHAOS_GATE_TIMEOUT", "1")],
            code: 4,
            requests: &[("stop", 1, 1)],
            stopped: true,
            says: "confirmed stopped",
            ..base()
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
            ..base()
        },
        Row {
            name: "the stop itself fails",
            phases: FOREVER,
            inject: inject("stop", "status = 500"),
            env: &[("CHAOS_GATE_TIMEOUT", "1")],
            code: 4,
            requests: &[("stop", 1, 1)],
            says: "the chaos may still be running",
            ..base()
        },
        Row {
            name: "the API key is refused",
            env: &[("CHAOS_GATE_API_KEY", "not-the-key")],
            code: 3,
            requests: &[("runChaosExperiment", 1, 1), ("listWorkflowRun", 0, 0)],
            runs: 0,
            ..base()
        },
        Row {
            name: "a status poll answers 400 with a GraphQL error",
            inject: inject(
                "listWorkflowRun",
                "status = 400\nbody = \"{\\\"errors\\\":[{\\\"message\\\":\\\"bad request\\\"}]}\"",
            ),
            code: 3,
            // A platform error ends the gate: the platform is not asked for
            // the run's ID again, so no stop can be sent.
            requests: &[("listWorkflowRun", 1, 1), ("stop", 0, 0)],
            says: "the chaos may still be running",
            ..base()
        },
        Row {
            name: "a platform error with on_platform_error=warn",
            inject: inject("listWorkflowRun", "status = 503"),
            env: &[
                ("CHAOS_GATE_TIMEOUT", "2"),
                ("CHAOS_GATE_ON_PLATFORM_ERROR", "warn"),
            ],
            code: 0,
            requests: &[("stop", 0, 0)],
            stopped: false,
            says: "the chaos may still be running",
            ..base()
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
