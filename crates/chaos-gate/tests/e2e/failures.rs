//! Exit codes 3 and 4 (README "Exit codes") and failure behaviour (README "Failure behaviour"): refused
//! credentials, GraphQL errors, retries, timeouts that stop runs,
//! `on_platform_error=warn`, lost triggers and signals.

use std::time::Duration;

use crate::common::*;

/// Experiment IDs (UUIDs: anything else is an identity, README "Settings").
const EXP: &str = "00000000-0000-4000-8000-000000000001";
const SLOW: &str = "00000000-0000-4000-8000-000000000002";
const CRON: &str = "00000000-0000-4000-8000-000000000003";

fn with_inject(base: &str, inject: &str) -> String {
    format!("{base}\n[[inject]]\n{inject}\n")
}

#[tokio::test]
async fn refused_credentials_fail_at_once_naming_the_setting() {
    let sim = sim(&experiment(EXP, &["Completed"], Some(100.0))).await;
    let run = Gate::new(&sim, EXP)
        .env("CHAOS_GATE_API_KEY", "wrong-key")
        .run()
        .await;
    run.assert_code(3);
    run.assert_stdout_has("HTTP 401");
    run.assert_stdout_has("Check api_key");
    assert_eq!(sim.requests().len(), 1, "no retry after 401");
    assert!(run.junit().is_some(), "JUnit written on a platform error");
}

#[tokio::test]
async fn a_graphql_error_is_a_platform_error_with_the_servers_message() {
    let sim = sim(&experiment(EXP, &["Completed"], Some(100.0))).await;
    let run = Gate::new(&sim, "00000000-0000-4000-8000-00000000dead")
        .run()
        .await;
    run.assert_code(3);
    run.assert_stdout_has("00000000-0000-4000-8000-00000000dead not found");
}

#[tokio::test]
async fn an_empty_notify_id_from_a_scheduled_experiment_is_explained() {
    let body =
        experiment(CRON, &["Completed"], Some(100.0)).replacen("phases", "cron = true\nphases", 1);
    let sim = sim(&body).await;
    let run = Gate::new(&sim, CRON).run().await;
    run.assert_code(3);
    run.assert_stdout_has("empty notify ID");
}

#[tokio::test]
async fn status_polls_are_retried_on_5xx_and_429() {
    let base = experiment(EXP, &["Running", "Completed"], Some(100.0));
    let sim = sim(&with_inject(
        &with_inject(&base, "operation = \"listWorkflowRun\"\nfirst = 1\nstatus = 429\nretry_after = 1"),
        "operation = \"listWorkflowRun\"\nfirst = 3\nstatus = 502\nbody = \"<html>bad gateway</html>\"",
    ))
    .await;
    let run = Gate::new(&sim, EXP).run().await;
    run.assert_code(0);
    assert!(count(&sim, "listWorkflowRun") >= 5);
    run.assert_stderr_has("retrying");
}

#[tokio::test]
async fn a_platform_that_never_answers_usably_is_an_error_not_a_timeout() {
    let base = experiment(EXP, &["Running", "Completed"], Some(100.0));
    let sim = sim(&with_inject(
        &base,
        "operation = \"listWorkflowRun\"\nstatus = 503",
    ))
    .await;
    let run = Gate::new(&sim, EXP)
        .env("CHAOS_GATE_TIMEOUT", "2")
        .run()
        .await;
    run.assert_code(3);
    run.assert_stdout_has("no usable answer from the platform before the timeout");
    // No poll ever showed the run's ID; a stop without it would stop every
    // running run of the experiment, so none is sent and the run is
    // reported as possibly still running.
    assert!(!sim.runs()[0].stopped, "no stop without the run's ID");
    assert_eq!(count(&sim, "stop"), 0);
    run.assert_stdout_has("the chaos may still be running");
}

#[tokio::test]
async fn a_score_outside_0_to_100_is_a_platform_error() {
    let sim = sim(&experiment(EXP, &["Completed"], Some(150.0))).await;
    let run = Gate::new(&sim, EXP).run().await;
    run.assert_code(3);
    run.assert_stdout_has("resiliencyScore 150, outside 0..100");
}

#[tokio::test]
async fn a_timeout_stops_the_runs_still_going_and_exits_4() {
    let sim = sim(&experiment(SLOW, &["Running"], None)).await;
    let run = Gate::new(&sim, SLOW)
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    run.assert_code(4);
    assert_eq!(count(&sim, "stop"), 1);
    assert!(sim.runs()[0].stopped);
    run.assert_stdout_has(&format!("stopped {SLOW}"));
}

#[tokio::test]
async fn stop_on_abort_false_leaves_runs_alone_and_says_so() {
    let sim = sim(&experiment(SLOW, &["Running"], None)).await;
    let run = Gate::new(&sim, SLOW)
        .env("CHAOS_GATE_TIMEOUT", "1")
        .env("CHAOS_GATE_STOP_ON_ABORT", "false")
        .run()
        .await;
    run.assert_code(4);
    assert_eq!(count(&sim, "stop"), 0);
    run.assert_stdout_has("stop_on_abort=false: leaving 1 run(s) going");
}

#[tokio::test]
async fn on_platform_error_warn_exits_0_but_a_failed_verdict_still_fails() {
    let sim = sim(&format!(
        "{}{}",
        experiment(EXP, &["Completed"], Some(10.0)),
        experiment("other", &["Completed"], Some(100.0))
    ))
    .await;
    let run = Gate::new(&sim, "missing")
        .env("CHAOS_GATE_ON_PLATFORM_ERROR", "warn")
        .env("GITHUB_ACTIONS", "true")
        .run()
        .await;
    run.assert_code(0);
    run.assert_stdout_has("::warning title=chaos-gate platform error::");
    assert!(!run.stdout.contains("::error"), "{}", run.stdout);
    let run = Gate::new(&sim, EXP)
        .env("CHAOS_GATE_ON_PLATFORM_ERROR", "warn")
        .run()
        .await;
    run.assert_code(1);
}

#[tokio::test]
async fn a_lost_trigger_adopts_the_run_it_started_instead_of_starting_another() {
    let base = experiment(EXP, &["Running", "Completed"], Some(100.0));
    let sim = sim(&with_inject(
        &base,
        "operation = \"runChaosExperiment\"\nfirst = 1\ndrop_connection = true\nafter_effect = true",
    ))
    .await;
    let run = Gate::new(&sim, EXP).run().await;
    run.assert_code(0);
    assert_eq!(sim.runs().len(), 1, "exactly one run: {:?}", sim.runs());
    assert_eq!(
        count(&sim, "runChaosExperiment"),
        1,
        "never triggered again"
    );
    run.assert_stdout_has("found the run a lost trigger started");
}

#[tokio::test]
async fn a_lost_trigger_with_no_run_behind_it_is_sent_again() {
    let base = experiment(EXP, &["Running", "Completed"], Some(100.0));
    let sim = sim(&with_inject(
        &base,
        "operation = \"runChaosExperiment\"\nfirst = 1\ndrop_connection = true",
    ))
    .await;
    let run = Gate::new(&sim, EXP).run().await;
    run.assert_code(0);
    assert_eq!(sim.runs().len(), 1, "exactly one run: {:?}", sim.runs());
    assert_eq!(count(&sim, "runChaosExperiment"), 2);
}

async fn cancelled_by(signal: &str, code_expected: i32) {
    let sim = sim(&experiment(SLOW, &["Running"], None)).await;
    let (mut child, dir) = Gate::new(&sim, SLOW).spawn();
    eventually(Duration::from_secs(20), "the run to be polled", || {
        count(&sim, "listWorkflowRun") >= 2
    })
    .await;
    let (code, took) = signal_and_wait(&mut child, signal).await;
    assert_eq!(code, Some(code_expected));
    assert!(
        took < Duration::from_secs(5),
        "exited {took:?} after {signal}"
    );
    assert!(sim.runs()[0].stopped, "the run was stopped");
    let xml =
        std::fs::read_to_string(dir.path().join("chaos-gate-junit.xml")).expect("JUnit written");
    assert_valid_junit(&xml);
    assert!(xml.contains("chaos-gate.cancelled"), "{xml}");
}

#[tokio::test]
async fn sigterm_stops_runs_and_exits_143() {
    cancelled_by("TERM", 143).await;
}

#[tokio::test]
async fn sigint_stops_runs_and_exits_130() {
    cancelled_by("INT", 130).await;
}

#[tokio::test]
async fn sighup_stops_runs_and_exits_129() {
    cancelled_by("HUP", 129).await;
}

#[tokio::test]
async fn a_signal_exits_within_5s_even_when_the_platform_hangs_on_stop() {
    let base = experiment(SLOW, &["Running"], None);
    let sim = sim(&with_inject(
        &base,
        "operation = \"stop\"\ndelay_ms = 30000",
    ))
    .await;
    let (mut child, _dir) = Gate::new(&sim, SLOW).spawn();
    eventually(Duration::from_secs(20), "the run to be polled", || {
        count(&sim, "listWorkflowRun") >= 1
    })
    .await;
    let (code, took) = signal_and_wait(&mut child, "TERM").await;
    assert_eq!(code, Some(143));
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// A gate cancelled by SIGTERM while its trigger is still unanswered: the
/// run the trigger started must be stopped all the same, within 5 s.
async fn cancelled_during_the_trigger(answer_after_ms: u64) {
    let body = with_inject(
        &experiment(EXP, &["Running"], None),
        &format!(
            "operation = \"runChaosExperiment\"\nafter_effect = true\ndelay_ms = {answer_after_ms}"
        ),
    );
    let sim = sim(&body).await;
    let (mut child, _dir) = Gate::new(&sim, EXP).spawn();
    eventually(Duration::from_secs(20), "the trigger to arrive", || {
        count(&sim, "runChaosExperiment") >= 1
    })
    .await;
    let (code, took) = signal_and_wait(&mut child, "TERM").await;
    assert_eq!(code, Some(143));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let runs = sim.runs();
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0].stopped,
        "the run the cut trigger started was stopped"
    );
}

#[tokio::test]
async fn a_signal_during_the_trigger_waits_for_its_answer_and_stops_the_run() {
    cancelled_during_the_trigger(800).await;
}

#[tokio::test]
async fn a_signal_during_a_hanging_trigger_finds_its_run_and_stops_it() {
    cancelled_during_the_trigger(20_000).await;
}

/// Triggers go out at most 8 at a time (the connection bound); a signal
/// while many are still queued sends none of those, and every run the sent
/// ones started is stopped, within 5 s.
#[tokio::test]
async fn a_signal_while_triggers_are_queued_sends_no_more_and_stops_what_started() {
    let ids: Vec<String> = (0..40).map(uuid).collect();
    let mut body: String = ids
        .iter()
        .map(|id| experiment(id, &["Running"], None))
        .collect();
    body.push_str(
        "[[inject]]\noperation = \"runChaosExperiment\"\nafter_effect = true\ndelay_ms = 800\n",
    );
    let sim = sim(&body).await;
    let (mut child, _dir) = Gate::new(&sim, &ids.join(",")).spawn();
    eventually(
        Duration::from_secs(20),
        "the first triggers to arrive",
        || count(&sim, "runChaosExperiment") >= 1,
    )
    .await;
    let (code, took) = signal_and_wait(&mut child, "TERM").await;
    assert_eq!(code, Some(143));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let sent = count(&sim, "runChaosExperiment");
    assert!((1..=8).contains(&sent), "{sent} triggers sent");
    let runs = sim.runs();
    assert_eq!(runs.len(), sent, "one run per trigger sent");
    assert!(runs.iter().all(|r| r.stopped), "every started run stopped");
}
