//! Every row of the table in README "Phases and verdicts", and exit codes 0 and 1 (README "Exit codes").

use crate::common::*;

/// A run that goes through `phases` and ends with `score`, against an
/// expected score of 80.
async fn gate(phases: &[&str], score: Option<f64>) -> Run {
    let sim = sim(&experiment("exp", phases, score)).await;
    Gate::new(&sim, "exp")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "80")
        .run()
        .await
}

/// For each phase, a run that goes Running -> phase and ends with `score`:
/// exit `code`, and stdout says `says`.
async fn each_ends(phases: &[&str], score: Option<f64>, code: i32, says: &str) {
    for phase in phases {
        let run = gate(&["Running", phase], score).await;
        run.assert_code(code);
        assert!(run.stdout.contains(says), "{phase}: {}", run.stdout);
    }
}

#[tokio::test]
async fn phases_where_the_score_decides_pass_at_or_above_the_threshold() {
    each_ends(
        &["Completed", "Completed_With_Probe_Failure", "Succeeded"],
        Some(80.0),
        0,
        "Gate passed",
    )
    .await;
}

#[tokio::test]
async fn phases_where_the_score_decides_fail_below_the_threshold() {
    each_ends(
        &["Completed", "Completed_With_Probe_Failure", "Succeeded"],
        Some(79.5),
        1,
        "79.5 is below the expected 80",
    )
    .await;
}

#[tokio::test]
async fn a_finished_run_without_a_score_fails_and_says_so() {
    let run = gate(&["Running", "Completed"], None).await;
    run.assert_code(1);
    run.assert_stdout_has("reported no resilience score");
}

#[tokio::test]
async fn failing_phases_fail_whatever_the_score() {
    each_ends(
        &[
            "Completed_With_Error",
            "Error",
            "Failed",
            "Stopped",
            "Skipped",
            "Timeout",
            "Terminated",
        ],
        Some(100.0),
        1,
        "fails the gate whatever the score",
    )
    .await;
}

#[tokio::test]
async fn going_phases_keep_the_gate_waiting() {
    let run = gate(
        &[
            "Queued",
            "Pending",
            "Running",
            "Blocked",
            "NA",
            "",
            "Completed",
        ],
        Some(100.0),
    )
    .await;
    run.assert_code(0);
    for p in ["Queued", "Pending", "Running", "Blocked", "NA", "(empty)"] {
        assert!(
            run.stdout.contains(&format!("-> {p}")) || run.stdout.contains(&format!("phase {p}")),
            "{p}: {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn a_run_not_listed_yet_is_still_going() {
    let body = experiment("exp", &["Running", "Completed"], Some(100.0)).replacen(
        "phases",
        "unlisted_polls = 3\nphases",
        1,
    );
    let sim = sim(&body).await;
    let run = Gate::new(&sim, "exp").run().await;
    run.assert_code(0);
    assert!(count(&sim, "listWorkflowRun") >= 4, "polled while unlisted");
}

#[tokio::test]
async fn an_unknown_phase_is_still_going_with_one_warning() {
    let run = gate(&["Paused", "Paused", "Paused", "Completed"], Some(90.0)).await;
    run.assert_code(0);
    let warnings = run
        .stdout
        .matches("\"Paused\" is not one chaos-gate knows")
        .count();
    assert_eq!(warnings, 1, "{}", run.stdout);
}

#[tokio::test]
async fn the_threshold_is_inclusive_and_may_be_fractional() {
    let sim = sim(&experiment("exp", &["Completed"], Some(72.25))).await;
    let pass = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "72.25")
        .run()
        .await;
    pass.assert_code(0);
    let fail = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "72.26")
        .run()
        .await;
    fail.assert_code(1);
}

#[tokio::test]
async fn every_experiment_must_pass() {
    let body = format!(
        "{}{}",
        experiment("good", &["Running", "Completed"], Some(100.0)),
        experiment("bad", &["Running", "Running", "Completed"], Some(40.0))
    );
    let sim = sim(&body).await;
    let run = Gate::new(&sim, "good,bad").run().await;
    run.assert_code(1);
    run.assert_stdout_has("1 of 2 run(s)");
}
