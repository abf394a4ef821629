//! The gate against a simulator that answers as the real servers do
//! (docs/platform-fidelity.md): stops that always name the run, new
//! Harness phases, and what a ChaosCenter really answers.

use std::time::Duration;

use crate::common::*;

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

/// A simulator where the experiment `exp` runs for ever, with `extra`
/// after it.
async fn running_exp(extra: &str) -> chaos_sim::Simulator {
    sim(&format!(
        "{}\n{extra}",
        experiment("exp", &["Running"], None)
    ))
    .await
}

/// A gate on `exp` that times out after a second, writing its GitHub
/// outputs to out.txt.
async fn timed_out_with_outputs(sim: &chaos_sim::Simulator) -> Run {
    Gate::new(sim, "exp")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .env("GITHUB_OUTPUT", "out.txt")
        .run()
        .await
}

/// An abort before any poll has shown the run's ID: the gate asks for it,
/// then stops the run naming both the run and its notify ID.
#[tokio::test]
async fn a_harness_stop_before_the_first_poll_carries_both_ids() {
    let sim = running_exp(&inject("listWorkflowRun", "first = 1\ndelay_ms = 30000")).await;
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
    let stops = requests_of(&sim, "stop");
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
    let run = timed_out_with_outputs(&running_exp("").await).await;
    run.assert_code(4);
    run.assert_stdout_has("confirmed stopped");
    let out = std::fs::read_to_string(run.path("out.txt")).expect("outputs written");
    assert!(out.contains(r#""stopped":true"#), "{out}");
    let xml = run.valid_junit();
    assert!(xml.contains("chaos-gate stopped the run"), "{xml}");
}

/// A stop the platform refuses: the run may still be going, and every
/// output says so, with the run's link on the console.
#[tokio::test]
async fn an_unconfirmed_stop_is_reported_everywhere() {
    let sim = running_exp(&inject("stop", "status = 500")).await;
    let run = timed_out_with_outputs(&sim).await;
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

// ChaosCenter, on both stop dialects: 3.1-3.30 stop every running run of
// the experiment when no run ID is given; 3.31 only marks the run stopped.
const VERSIONS: [&str; 2] = ["3.30.0", "3.31.0"];

/// A Litmus simulator of `version` whose experiment `exp` runs `phases`.
async fn chaoscenter(version: &str, phases: &[&str], extra: &str) -> chaos_sim::Simulator {
    let body = format!(
        "server_version = \"{version}\"\n\n{}{extra}",
        experiment("exp", phases, Some(100.0))
    );
    litmus_sim(&body).await
}

/// What every abort on ChaosCenter must leave behind: the other user's
/// run untouched and still going, and the gate's run really stopped (not
/// only marked) whenever the gate says it stopped it.
fn assert_stops_kept_their_promises(sim: &chaos_sim::Simulator, run: &Run, context: &str) {
    let runs = sim.runs();
    let foreign: Vec<_> = runs.iter().filter(|r| r.foreign).collect();
    let own: Vec<_> = runs.iter().filter(|r| !r.foreign).collect();
    assert_eq!(own.len(), 1, "{context}: one run of the gate: {runs:?}");
    for f in &foreign {
        assert!(
            !f.stopped && f.chaos_running,
            "{context}: another user's run was stopped: {f:?}\n{}",
            run.stdout
        );
    }
    let said_stopped = run
        .stdout
        .lines()
        .any(|l| l.starts_with("stopped exp") || l.contains("confirmed stopped"));
    if said_stopped {
        assert!(
            !own[0].chaos_running,
            "{context}: the gate said it stopped the run, but the chaos is still running: {:?}\n{}",
            own[0], run.stdout
        );
    } else {
        assert!(
            run.stdout.contains("the chaos may still be running"),
            "{context}: a run not stopped is reported\n{}",
            run.stdout
        );
    }
    for r in sim.requests() {
        if r.operation.as_deref() == Some("stopExperimentRuns") {
            assert!(
                r.body
                    .contains(&format!("\"experimentRunID\":\"{}\"", own[0].run_id)),
                "{context}: a stop always names the gate's run: {}",
                r.body
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litmus_timeout_stops_only_the_gates_run_whatever_the_phase() {
    let queued_long: Vec<&str> = std::iter::repeat_n("Queued", 200).collect();
    for version in VERSIONS {
        for (what, phases) in [
            ("Running", &["Queued", "Running"][..]),
            ("Queued", &queued_long[..]),
        ] {
            let context = format!("{version}, timeout while {what}");
            let sim = chaoscenter(version, phases, "").await;
            sim.start_foreign_run("exp").expect("a foreign run");
            let run = Gate::litmus(&sim, "exp")
                .env("CHAOS_GATE_TIMEOUT", "1")
                .run()
                .await;
            assert_eq!(run.code, Some(4), "{context}\n{}", run.stdout);
            assert_stops_kept_their_promises(&sim, &run, &context);
            if what == "Running" {
                assert_eq!(count(&sim, "stopExperimentRuns"), 1, "{context}");
                assert!(
                    run.stdout.contains("confirmed stopped"),
                    "{context}\n{}",
                    run.stdout
                );
            } else {
                // Still Queued: no run ID, so no stop that could hit the
                // other user's run (3.30) or only mark this one (3.31).
                assert_eq!(count(&sim, "stopExperimentRuns"), 0, "{context}");
            }
        }
    }
}

/// Cancels a Litmus gate with SIGTERM once `ready` holds, and checks
/// that its own run was really stopped (not only marked) within 5 s and
/// that the other user's run is untouched.
async fn cancel_stops_only_the_gates_run(
    context: &str,
    sim: &chaos_sim::Simulator,
    gate: Gate,
    ready: impl Fn(&chaos_sim::Simulator) -> bool,
) {
    let (mut child, _dir) = gate.spawn();
    eventually(Duration::from_secs(20), context, || ready(sim)).await;
    let (code, took) = signal_and_wait(&mut child, "TERM").await;
    assert_eq!(code, Some(143), "{context}");
    assert!(took < Duration::from_secs(5), "{context}: took {took:?}");
    let own = sim
        .runs()
        .into_iter()
        .find(|r| !r.foreign)
        .expect("own run");
    assert!(own.stopped && !own.chaos_running, "{context}: {own:?}");
    assert!(
        sim.runs()
            .iter()
            .filter(|r| r.foreign)
            .all(|r| !r.stopped && r.chaos_running),
        "{context}: another user's run was touched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litmus_cancel_stops_only_the_gates_run_while_queued_running_or_just_triggered() {
    let own_polls = |n: u32| {
        move |sim: &chaos_sim::Simulator| sim.runs().iter().any(|r| !r.foreign && r.polls >= n)
    };
    for version in VERSIONS {
        // Queued when the signal comes: the gate polls for the run's ID
        // (it appears once the run leaves Queued) and then stops it.
        let sim = chaoscenter(version, &["Queued", "Queued", "Running"], "").await;
        sim.start_foreign_run("exp").expect("a foreign run");
        let gate = Gate::litmus(&sim, "exp").env("CHAOS_GATE_POLL_INTERVAL", "10");
        cancel_stops_only_the_gates_run(
            &format!("{version}, SIGTERM while Queued"),
            &sim,
            gate,
            own_polls(1),
        )
        .await;

        // Running when the signal comes.
        let sim = chaoscenter(version, &["Running"], "").await;
        sim.start_foreign_run("exp").expect("a foreign run");
        let gate = Gate::litmus(&sim, "exp");
        cancel_stops_only_the_gates_run(
            &format!("{version}, SIGTERM while Running"),
            &sim,
            gate,
            own_polls(2),
        )
        .await;

        // Just triggered: the trigger's answer is still on its way.
        let sim = chaoscenter(
            version,
            &["Queued", "Running"],
            "[[inject]]\noperation = \"runChaosExperiment\"\nafter_effect = true\ndelay_ms = 700\n",
        )
        .await;
        sim.start_foreign_run("exp").expect("a foreign run");
        let gate = Gate::litmus(&sim, "exp");
        cancel_stops_only_the_gates_run(
            &format!("{version}, SIGTERM during the trigger"),
            &sim,
            gate,
            |sim| count(sim, "runChaosExperiment") >= 1,
        )
        .await;
    }
}

const LOST_TRIGGER: &str = "[[inject]]\noperation = \"runChaosExperiment\"\nfirst = 1\ndrop_connection = true\nafter_effect = true\n";

#[tokio::test]
async fn a_lost_litmus_trigger_whose_run_is_listed_late_gives_one_run() {
    for (phases, late) in [
        (&["Running", "Completed"][..], 2),
        (&["Queued", "Running", "Completed"][..], 1),
    ] {
        let phases: Vec<String> = phases.iter().map(|p| format!("{p:?}")).collect();
        let sim = litmus_sim(&format!(
            "[[experiments]]\nid = \"exp\"\nphases = [{}]\nresiliency_score = 100.0\nunlisted_lists = {late}\n\n{LOST_TRIGGER}",
            phases.join(", ")
        ))
        .await;
        let run = Gate::litmus(&sim, "exp").run().await;
        run.assert_code(0);
        assert_eq!(sim.runs().len(), 1, "exactly one run: {:?}", sim.runs());
        assert_eq!(count(&sim, "runChaosExperiment"), 1, "no second trigger");
        assert!(
            count(&sim, "listExperimentRun") > late,
            "looked again after the late listing"
        );
    }
}

#[tokio::test]
async fn two_candidate_runs_are_reported_and_nothing_more_is_triggered() {
    let body = format!(
        "{}\n{LOST_TRIGGER}",
        experiment("exp", &["Running", "Completed"], Some(100.0))
    );
    let sim = litmus_sim(&body).await;
    sim.start_foreign_run("exp").expect("a foreign run");
    let run = Gate::litmus(&sim, "exp").run().await;
    run.assert_code(3);
    run.assert_stdout_has("cannot tell which is its own");
    assert_eq!(
        count(&sim, "runChaosExperiment"),
        1,
        "nothing more triggered"
    );
    assert_eq!(count(&sim, "stopExperimentRuns"), 0, "nobody's run stopped");
    assert!(sim.runs().iter().all(|r| !r.stopped));
}

#[tokio::test]
async fn an_expired_litmus_token_is_renewed_by_a_login_or_named_as_the_setting() {
    let body = format!(
        "token_valid_requests = 3\n\n{}",
        experiment("exp", &["Running", "Completed"], Some(100.0))
    );
    // With username and password: the trigger and two polls use up the
    // first token; the faults read is refused, one new login follows and
    // the read is sent again.
    let sim = litmus_sim(&body).await;
    let run = Gate::litmus(&sim, "exp").run().await;
    run.assert_code(0);
    assert_eq!(count(&sim, "login"), 2, "one login, then one renewal");
    assert_eq!(count(&sim, "runChaosExperiment"), 1);
    // With a token: it cannot be renewed; a refused poll is exit 3 naming
    // the setting.
    let body = body.replace("token_valid_requests = 3", "token_valid_requests = 2");
    let sim = litmus_sim(&body).await;
    let run = Gate::litmus(&sim, "exp")
        .with_token(LITMUS_TOKEN)
        .run()
        .await;
    run.assert_code(3);
    run.assert_stdout_has("Check token");
    run.assert_stdout_has("permission_denied");
    // A dry run with a refused token is an authentication failure, not
    // "experiment not found".
    let sim = litmus_sim(&format!("revoked_tokens = [\"{LITMUS_TOKEN}\"]\n\n{body}")).await;
    let run = Gate::litmus(&sim, "exp")
        .with_token("not-a-jwt")
        .env("CHAOS_GATE_DRY_RUN", "true")
        .run()
        .await;
    run.assert_code(3);
    assert!(!run.stdout.contains("not found"), "{}", run.stdout);
}

/// One trigger refused, another run started: the gate ends with a
/// platform error, and the started run (whose ID no poll has shown yet) is
/// looked up and stopped by its IDs, not left going.
#[tokio::test]
async fn a_refused_trigger_still_stops_the_other_run_by_its_ids() {
    let sim = sim(&experiment("exp", &["Queued", "Running"], None)).await;
    let run = Gate::new(&sim, "exp,missing").run().await;
    run.assert_code(3);
    let runs = sim.runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].stopped, "{}", run.stdout);
    let stop = sim
        .requests()
        .into_iter()
        .find(|r| r.operation.as_deref() == Some("stop"))
        .expect("a stop");
    assert_eq!(
        query_param(&stop, "experimentRunId").as_deref(),
        Some(runs[0].run_id.as_str())
    );
}
