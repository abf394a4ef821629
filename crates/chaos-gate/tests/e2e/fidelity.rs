//! The gate against a simulator that answers as the real servers do
//! (docs/platform-fidelity.md): stops that always name the run, new
//! Harness phases, and what a ChaosCenter really answers.

use std::time::Duration;

use crate::common::*;

/// The query parameter `name` of a recorded request, decoded.
fn query_param(r: &chaos_sim::RecordedRequest, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://x{}?{}", r.path, r.query)).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn each_new_harness_phase_is_judged_not_waited_out() {
    for (phase, code) in [
        ("Completed_With_Probe_Absent", 0),
        ("Passed", 0),
        ("Interrupted", 1),
    ] {
        let sim = sim(&experiment("exp", &["Running", phase], Some(100.0))).await;
        let run = Gate::new(&sim, "exp")
            .env("CHAOS_GATE_TIMEOUT", "20")
            .run()
            .await;
        assert_eq!(
            run.code,
            Some(code),
            "{phase}\n{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(
            !run.output().contains("is not one chaos-gate knows"),
            "{phase} is known: {}",
            run.stdout
        );
    }
}

/// An abort before any poll has shown the run's ID: the gate asks for it,
/// then stops the run naming both the run and its notify ID.
#[tokio::test]
async fn a_harness_stop_before_the_first_poll_carries_both_ids() {
    let body = format!(
        "{}\n[[inject]]\noperation = \"listWorkflowRun\"\nfirst = 1\ndelay_ms = 30000\n",
        experiment("exp", &["Running"], None)
    );
    let sim = sim(&body).await;
    let (mut child, _dir) = Gate::new(&sim, "exp").spawn();
    eventually(Duration::from_secs(20), "the first poll to arrive", || {
        count(&sim, "listWorkflowRun") >= 1
    })
    .await;
    let (code, took) = signal_and_wait(&mut child, "TERM").await;
    assert_eq!(code, Some(143));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let run = &sim.runs()[0];
    assert!(run.stopped, "the run was stopped");
    let stops: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("stop"))
        .collect();
    assert_eq!(stops.len(), 1, "one stop");
    assert_eq!(
        query_param(&stops[0], "experimentRunId").as_deref(),
        Some(run.run_id.as_str())
    );
    assert_eq!(
        query_param(&stops[0], "notifyId").as_deref(),
        Some(run.notify_id.as_str())
    );
}

/// A timeout: the stopped run is polled until it shows a finished phase,
/// and the report says the stop was confirmed.
#[tokio::test]
async fn a_stop_on_timeout_is_confirmed_and_reported() {
    let sim = sim(&experiment("exp", &["Running"], None)).await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .env("GITHUB_OUTPUT", "out.txt")
        .run()
        .await;
    run.assert_code(4);
    assert!(run.stdout.contains("confirmed stopped"), "{}", run.stdout);
    let out = std::fs::read_to_string(run.path("out.txt")).expect("outputs written");
    assert!(out.contains(r#""stopped":true"#), "{out}");
    let xml = run.junit().expect("JUnit written");
    assert_valid_junit(&xml);
    assert!(xml.contains("chaos-gate stopped the run"), "{xml}");
}

/// A stop the platform refuses: the run may still be going, and every
/// output says so, with the run's link on the console.
#[tokio::test]
async fn an_unconfirmed_stop_is_reported_everywhere() {
    let body = format!(
        "{}\n[[inject]]\noperation = \"stop\"\nstatus = 500\n",
        experiment("exp", &["Running"], None)
    );
    let sim = sim(&body).await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .env("GITHUB_OUTPUT", "out.txt")
        .run()
        .await;
    run.assert_code(4);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("the chaos may still be running"))
        .unwrap_or_else(|| panic!("no warning line: {}", run.stdout));
    assert!(
        line.contains("/runs/"),
        "the line has the run's link: {line}"
    );
    let out = std::fs::read_to_string(run.path("out.txt")).expect("outputs written");
    assert!(out.contains(r#""stopped":false"#), "{out}");
    let xml = run.junit().expect("JUnit written");
    assert!(xml.contains("the chaos may still be running"), "{xml}");
}
