//! Hostile networks and settings (issue 10, README "Settings" and README "Failure behaviour"), the real
//! binary against loopback servers. Every assertion is on counts (requests,
//! connections, runs) and exit codes, never on timings:
//!
//! 1. floods: `Retry-After` cannot make a read retry sooner than the
//!    backoff or more than five times; a `poll_interval` or `timeout` below
//!    the minimum is a bad setting;
//! 2. blame: a secret that cannot go in a header is a bad setting (2); a
//!    deadline that passes before a trigger is sent triggers nothing and is
//!    a timeout (4); an untrusted TLS certificate fails at once (3) naming
//!    `ca_cert`, after one connection;
//! 3. identifiers: an ID from settings or the platform is one encoded path
//!    segment, so the stop reaches exactly the stop route and the key goes
//!    nowhere else; an empty ID is refused.

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request};

use crate::common::*;

const RUNNING: &str =
    "[[experiments]]\nid = \"00000000-0000-4000-8000-0000000000e1\"\nphases = [\"Running\"]\n";
const PASSING: &str = "[[experiments]]\nid = \"00000000-0000-4000-8000-0000000000e1\"\nphases = [\"Running\", \"Completed\"]\nresiliency_score = 100.0\n";
/// The experiment of RUNNING and PASSING.
const E1: &str = "00000000-0000-4000-8000-0000000000e1";
const STOP_ROUTE: &[&str] = &[
    "gateway",
    "chaos",
    "manager",
    "api",
    "rest",
    "v2",
    "experiment",
];

/// The bounds a retried call must keep, whatever the server says: the
/// first attempt and five retries.
const MAX_ATTEMPTS: usize = 6;

/// RUNNING, with an `[[inject]]` table for `operation`.
fn running_with(operation: &str, rest: &str) -> String {
    format!("{RUNNING}\n{}", inject(operation, rest))
}

/// A simulator serving [`running_with`].
async fn running_sim(operation: &str, rest: &str) -> chaos_sim::Simulator {
    sim(&running_with(operation, rest)).await
}

/// A gate on E1 with this timeout.
fn gate_on(sim: &chaos_sim::Simulator, timeout: &str) -> Gate {
    Gate::new(sim, E1).env("CHAOS_GATE_TIMEOUT", timeout)
}

/// The same, that never stops the run (looking up the run's ID for a stop
/// and confirming it would poll again).
fn gate_without_stop(sim: &chaos_sim::Simulator, timeout: &str) -> Gate {
    gate_on(sim, timeout).env("CHAOS_GATE_STOP_ON_ABORT", "false")
}

// ---------------------------------------------------------------- 1. floods

/// Every status poll refused with HTTP `status` and the `retry_after` key,
/// and a gate with this timeout that never stops the run: the simulator,
/// and the gate's run to its end.
async fn polls_refused(
    status: u16,
    retry_after: &str,
    timeout: &str,
) -> (chaos_sim::Simulator, Run) {
    let sim = running_sim(
        "listWorkflowRun",
        &format!("status = {status}\n{retry_after}"),
    )
    .await;
    let run = gate_without_stop(&sim, timeout).run().await;
    (sim, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_zero_on_every_poll_gives_exactly_five_retries() {
    // Before: Retry-After replaced the backoff's "no more retries", so
    // `Retry-After: 0` meant thousands of polls a second until the timeout.
    for status in [503, 429] {
        // No stop: looking up the run's ID for it and confirming it would
        // poll again.
        let (sim, run) = polls_refused(status, "retry_after = 0", "5m").await;
        run.assert_code(3);
        assert_eq!(
            count(&sim, "listWorkflowRun"),
            MAX_ATTEMPTS,
            "HTTP {status} with Retry-After: 0: one poll, five retries\n{}",
            run.output()
        );
        run.assert_output_has(&format!("HTTP {status}"));
        assert_eq!(count(&sim, "runChaosExperiment"), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_values_cannot_make_a_flood_within_the_timeout() {
    // Each row: every status poll refused with this Retry-After, a 3 s
    // timeout. Before, `0` or a date in the past gave thousands of polls.
    let rows: &[(&str, &str)] = &[
        ("zero", "retry_after = 0"),
        (
            "a date in the past",
            "retry_after = \"Wed, 21 Oct 2015 07:28:00 GMT\"",
        ),
        ("garbage", "retry_after = \"soon\""),
        ("negative", "retry_after = \"-1\""),
        ("fractional", "retry_after = \"0.001\""),
        ("empty", "retry_after = \"\""),
    ];
    let mut failures = Vec::new();
    for (name, retry_after) in rows {
        let (sim, run) = polls_refused(429, retry_after, "3").await;
        let polls = count(&sim, "listWorkflowRun");
        if run.code != Some(3) || polls == 0 || polls > MAX_ATTEMPTS {
            failures.push(run.row_failure(
                name,
                &[format!(
                    "exit {:?}, {polls} polls (1..={MAX_ATTEMPTS})",
                    run.code
                )],
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litmus_login_answered_429_retry_after_zero_is_tried_at_most_six_times() {
    let sim = litmus_sim(&running_with("login", "status = 429\nretry_after = 0")).await;
    let run = Gate::litmus(&sim, E1)
        .env("CHAOS_GATE_TIMEOUT", "3")
        .run()
        .await;
    run.assert_code(3);
    let logins = count(&sim, "login");
    assert!(
        (1..=MAX_ATTEMPTS).contains(&logins),
        "{logins} logins\n{}",
        run.output()
    );
    assert_eq!(count(&sim, "runChaosExperiment"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_past_the_timeout_ends_the_retries_at_once() {
    for retry_after in [
        "3600",
        "\"99999999999999999999999999\"",
        "\"Fri, 01 Jan 2100 00:00:00 GMT\"",
    ] {
        let (sim, run) = polls_refused(503, &format!("retry_after = {retry_after}"), "20").await;
        run.assert_code(3);
        assert_eq!(
            count(&sim, "listWorkflowRun"),
            1,
            "Retry-After {retry_after}: no retry can come before the timeout\n{}",
            run.output()
        );
        run.assert_output_has("Retry-After");
    }
}

#[tokio::test]
async fn a_poll_interval_or_timeout_below_the_minimum_is_a_bad_setting() {
    let sim = sim(PASSING).await;
    for (variable, value) in [
        ("CHAOS_GATE_POLL_INTERVAL", "1ns"),
        ("CHAOS_GATE_POLL_INTERVAL", "0.05"),
        ("CHAOS_GATE_POLL_INTERVAL", "99ms"),
        ("CHAOS_GATE_POLL_INTERVAL", "0.0999"),
        ("CHAOS_GATE_TIMEOUT", "1ns"),
        ("CHAOS_GATE_TIMEOUT", "0.5"),
        ("CHAOS_GATE_TIMEOUT", "999ms"),
    ] {
        let gate = Gate::new(&sim, E1).env(variable, value);
        refused(gate, &sim, &[variable], &[]).await;
    }
    // Also under the hosts' prefixes, naming the variable that was read.
    let gate = Gate::new(&sim, E1)
        .without("CHAOS_GATE_POLL_INTERVAL")
        .env("INPUT_POLL-INTERVAL", "10ms");
    refused(gate, &sim, &["INPUT_POLL-INTERVAL"], &[]).await;
    let gate = Gate::new(&sim, E1)
        .without("CHAOS_GATE_TIMEOUT")
        .env("PLUGIN_TIMEOUT", "100ms");
    refused(gate, &sim, &["PLUGIN_TIMEOUT"], &[]).await;
}

#[tokio::test]
async fn the_minimum_poll_interval_and_timeout_are_accepted() {
    let sim = sim(PASSING).await;
    let run = Gate::new(&sim, E1)
        .env("CHAOS_GATE_POLL_INTERVAL", "100ms")
        .env("CHAOS_GATE_TIMEOUT", "1m")
        .run()
        .await;
    run.assert_code(0);
    let run = gate_on(&sim, "1s").run().await;
    assert_ne!(run.code, Some(2), "{}", run.output());
}

// -------------------------------------------------------- 2a. header secrets

#[tokio::test]
async fn a_secret_that_cannot_go_in_a_header_is_a_bad_setting_never_printed() {
    let sim = sim(PASSING).await;
    // Distinctive halves: neither may appear in any output.
    for (value, halves) in [
        ("k3yHalfOne\nk3yHalfTwo", ["k3yHalfOne", "k3yHalfTwo"]),
        ("k3yHalfOne\rk3yHalfTwo", ["k3yHalfOne", "k3yHalfTwo"]),
        ("k3yHalfOne\r\nk3yHalfTwo", ["k3yHalfOne", "k3yHalfTwo"]),
        ("k3yHalfOne\u{7}k3yHalfTwo", ["k3yHalfOne", "k3yHalfTwo"]),
        ("k3yHalfOne\u{7f}k3yHalfTwo", ["k3yHalfOne", "k3yHalfTwo"]),
        (
            "k3yHalfOne\u{1b}[31mk3yHalfTwo",
            ["k3yHalfOne", "k3yHalfTwo"],
        ),
    ] {
        let gate = Gate::new(&sim, E1).env("CHAOS_GATE_API_KEY", value);
        refused(gate, &sim, &["CHAOS_GATE_API_KEY"], &halves).await;
    }
    // GitHub's hyphenated input name is the one named.
    let gate = Gate::new(&sim, E1)
        .without("CHAOS_GATE_API_KEY")
        .env("INPUT_API-KEY", "k3yHalfOne\nk3yHalfTwo");
    refused(
        gate,
        &sim,
        &["INPUT_API-KEY"],
        &["k3yHalfOne", "k3yHalfTwo"],
    )
    .await;
    // account_id goes into the Harness-Account header too.
    let gate = Gate::new(&sim, E1).env("CHAOS_GATE_ACCOUNT_ID", "acc\nother");
    refused(gate, &sim, &["CHAOS_GATE_ACCOUNT_ID"], &[]).await;
    // A trailing line break (a key read from a file) is trimmed, not refused.
    let run = Gate::new(&sim, E1)
        .env("CHAOS_GATE_API_KEY", &format!("{API_KEY}\n"))
        .run()
        .await;
    run.assert_code(0);
}

#[tokio::test]
async fn a_litmus_token_or_password_that_cannot_be_sent_is_a_bad_setting() {
    let sim = litmus_sim(PASSING).await;
    let gate = Gate::litmus(&sim, E1).with_token("t0kenHalfOne\nt0kenHalfTwo");
    refused(
        gate,
        &sim,
        &["CHAOS_GATE_TOKEN"],
        &["t0kenHalfOne", "t0kenHalfTwo"],
    )
    .await;
    let gate = Gate::litmus(&sim, E1).env("CHAOS_GATE_PASSWORD", "pa55HalfOne\npa55HalfTwo");
    refused(
        gate,
        &sim,
        &["CHAOS_GATE_PASSWORD"],
        &["pa55HalfOne", "pa55HalfTwo"],
    )
    .await;
    // An environment cannot carry NUL; a bell stands in for control bytes.
    let gate = Gate::litmus(&sim, E1)
        .without("CHAOS_GATE_PASSWORD")
        .env("PLUGIN_PASSWORD", "pa55HalfOne\u{7}pa55HalfTwo");
    refused(
        gate,
        &sim,
        &["PLUGIN_PASSWORD"],
        &["pa55HalfOne", "pa55HalfTwo"],
    )
    .await;
}

// ----------------------------------------------- 2b. the deadline and triggers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_during_the_litmus_login_triggers_nothing_and_times_out() {
    // The login answers after the 1 s timeout: 1.8 s is within the grace
    // that triggers on the wire get, 5 s is past it. Before, the trigger
    // went out after the login, after the deadline, and the gate blamed the
    // platform (3).
    for delay_ms in [1800, 5000] {
        let sim = litmus_sim(&running_with("login", &format!("delay_ms = {delay_ms}"))).await;
        let run = Gate::litmus(&sim, E1)
            .env("CHAOS_GATE_TIMEOUT", "1")
            .run()
            .await;
        run.assert_code(4);
        assert_eq!(
            count(&sim, "runChaosExperiment"),
            0,
            "login delayed {delay_ms} ms: a trigger was sent after the deadline\n{}",
            run.output()
        );
        assert!(sim.runs().is_empty(), "a run was started: {:?}", sim.runs());
        assert!(run.junit().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_due_again_after_the_deadline_is_not_sent() {
    // The first trigger's connection drops before it arrives; the look for
    // its run (three looks, a second apart) outlasts the 1 s timeout, so the
    // second trigger would go out during the grace after the deadline.
    // Before, it did, and started a run after the gate had timed out.
    let sim = running_sim("runChaosExperiment", "first = 1\ndrop_connection = true").await;
    let run = gate_on(&sim, "1").run().await;
    run.assert_code(4);
    assert_eq!(count(&sim, "runChaosExperiment"), 1, "{}", run.output());
    assert!(sim.runs().is_empty(), "a run was started: {:?}", sim.runs());
    assert!(
        run.junit()
            .is_some_and(|j| j.contains("timed out before it started")),
        "{:?}",
        run.junit()
    );
}

/// The same for a REST v2 trigger (an experiment named by its identity,
/// with an input set): reading the input set outlasts the timeout, and the
/// trigger that would follow is not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_v2_trigger_due_after_the_deadline_is_not_sent() {
    let sim = sim(&format!(
        "[[experiments]]\nid = \"00000000-0000-4000-8000-0000000000e1\"\nidentity = \"cart-pod-delete\"\nphases = [\"Running\"]\n\
         [[experiments.input_sets]]\nidentity = \"prod\"\nvalues = {{ namespace = \"shop\" }}\n\n{}",
        inject("getInputSet", "delay_ms = 1200")
    ))
    .await;
    let run = Gate::new(&sim, "cart-pod-delete")
        .env("CHAOS_GATE_INPUT_SET", "prod")
        .env("CHAOS_GATE_RUNTIME_INPUTS", "namespace: shop-2")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    run.assert_code(4);
    assert_eq!(count(&sim, "getInputSet"), 1, "{}", run.output());
    assert_eq!(count(&sim, "runChaosV2Experiment"), 0, "{}", run.output());
    assert!(sim.runs().is_empty(), "a run was started: {:?}", sim.runs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_shorter_than_the_trigger_stops_its_run_and_is_a_timeout() {
    // The trigger is sent in time but answered after the deadline: its run
    // is stopped and the gate timed out (4); the platform did answer.
    let sim = running_sim("runChaosExperiment", "delay_ms = 1800").await;
    let run = gate_on(&sim, "1").run().await;
    run.assert_code(4);
    assert_eq!(count(&sim, "runChaosExperiment"), 1, "{}", run.output());
    assert_eq!(count(&sim, "stop"), 1, "{}", run.output());
    let runs = sim.runs();
    assert_eq!(runs.len(), 1);
    assert!(runs.iter().all(|r| r.stopped), "{runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_after_the_timeout_is_not_cut_to_the_time_left() {
    // Stops are sent after the deadline; their requests used to be capped
    // at the time left (100 ms at least), so a stop answered in half a
    // second failed. The gate's own 2 s stop budget bounds them.
    let sim = running_sim("stop", "delay_ms = 600").await;
    let run = gate_on(&sim, "1").run().await;
    run.assert_code(4);
    assert_eq!(count(&sim, "stop"), 1, "{}", run.output());
    run.assert_stdout_has("stopped 00000000-0000-4000-8000-0000000000e1");
    assert!(!run.stdout.contains("could not stop"), "{}", run.stdout);
}

// ------------------------------------------------------------ 2c. TLS errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_at_once_naming_ca_cert_after_one_connection() {
    let sim = sim(RUNNING).await;
    // Harness without ca_cert: the self-signed certificate is not trusted.
    let front = TlsFront::start(sim.addr(), &["localhost"]).await;
    let endpoint = front.endpoint();
    let run = gate_on(&sim, "5m")
        .env("CHAOS_GATE_ENDPOINT", &endpoint)
        .run()
        .await;
    run.assert_code(3);
    assert_eq!(front.connections(), 1, "{}", run.output());
    let out = run.output();
    assert!(out.contains("ca_cert"), "{out}");
    assert!(
        out.contains(&format!("{endpoint}{QUERY}")),
        "names the URL: {out}"
    );
    assert!(out.contains("certificate"), "{out}");
    assert!(sim.requests().is_empty(), "nothing got through");

    // Trusted, but made for another host name: the same, naming the URL.
    let front = TlsFront::start(sim.addr(), &["elsewhere.example"]).await;
    let run = gate_on(&sim, "5m")
        .env("CHAOS_GATE_ENDPOINT", &front.endpoint())
        .file_env("CHAOS_GATE_CA_CERT", "ca.pem", &front.pem)
        .run()
        .await;
    run.assert_code(3);
    assert_eq!(front.connections(), 1, "{}", run.output());
    run.assert_output_has("ca_cert");
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_on_the_litmus_login_is_not_retried() {
    let sim = litmus_sim(RUNNING).await;
    let front = TlsFront::start(sim.addr(), &["localhost"]).await;
    let endpoint = front.endpoint();
    let run = Gate::litmus(&sim, E1)
        .env("CHAOS_GATE_ENDPOINT", &endpoint)
        .env("CHAOS_GATE_TIMEOUT", "5m")
        .run()
        .await;
    run.assert_code(3);
    assert_eq!(front.connections(), 1, "{}", run.output());
    let out = run.output();
    assert!(out.contains("ca_cert"), "{out}");
    assert!(out.contains(&format!("{endpoint}/auth/login")), "{out}");
}

// ------------------------------------------------------ 3. identifiers in URLs

/// Percent-decodes a path segment as a server does.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn segments(request: &Request) -> Vec<String> {
    request
        .url
        .path_segments()
        .map(|s| s.map(decode).collect())
        .unwrap_or_default()
}

/// A Harness server whose run never finishes, naming `workflow_id` as the
/// run's experiment (or none); answers any stop.
async fn never_finishing(workflow_id: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    on_query("RunChaosExperiment(", trigger_answer("n-1"))
        .mount(&server)
        .await;
    on_query(
        "ListWorkflowRun(",
        json_answer(json!({"data": {"listWorkflowRun": {
            "totalNoOfWorkflowRuns": 1,
            "workflowRuns": [{"workflowRunID": "r/1", "workflowID": workflow_id,
                              "notifyID": "n-1", "phase": "Running"}]}}})),
    )
    .mount(&server)
    .await;
    stops_answered("/stop$").mount(&server).await;
    // An experiment named by its identity (not a UUID) is run through
    // REST v2.
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex("/run$"))
        .respond_with(json_answer(json!({"notifyID": "n-1"})))
        .mount(&server)
        .await;
    server
}

/// Checks that every request went to the query route, exactly the REST v2
/// run route of `experiment_id` (an identity) or exactly its stop route;
/// returns the stops.
fn only_known_routes(requests: &[Request], experiment_id: &str) -> Vec<Request> {
    let mut stops = Vec::new();
    for r in requests {
        let s = segments(r);
        let mut stop: Vec<String> = STOP_ROUTE.iter().map(|s| s.to_string()).collect();
        stop.push(experiment_id.to_string());
        stop.push("stop".to_string());
        // The REST v2 run of an identity: `.../rest/v2/experiments/{id}/run`.
        let mut run: Vec<String> = STOP_ROUTE[..STOP_ROUTE.len() - 1]
            .iter()
            .map(|s| s.to_string())
            .collect();
        run.extend([
            "experiments".to_string(),
            experiment_id.to_string(),
            "run".to_string(),
        ]);
        if s == stop {
            stops.push(r.clone());
        } else if s == run {
            continue;
        } else {
            assert_eq!(
                r.url.path(),
                QUERY,
                "a request for {experiment_id:?} went elsewhere: {}",
                r.url
            );
        }
    }
    stops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_id_from_settings_is_one_path_segment_of_the_stop() {
    let ids = [
        "../../x",
        "a/b",
        "%2e%2e",
        "a?b#c",
        "..%2f",
        "a b+c",
        "é/..",
        "...",
        "x/../../../query",
    ];
    let runs = ids.iter().map(|id| async move {
        let server = never_finishing(Some(id)).await;
        let run = Gate::harness_at(&server.uri(), id)
            .env("CHAOS_GATE_TIMEOUT", "1")
            .run()
            .await;
        (
            id,
            run,
            server.received_requests().await.unwrap_or_default(),
        )
    });
    for (id, run, requests) in futures_util::future::join_all(runs).await {
        run.assert_code(4);
        let stops = only_known_routes(&requests, id);
        assert_eq!(stops.len(), 1, "{id:?}: one stop\n{}", run.output());
        let stop = &stops[0];
        let query: Vec<(String, String)> = stop
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert!(
            query.contains(&("notifyId".into(), "n-1".into())),
            "{query:?}"
        );
        assert!(
            query.contains(&("experimentRunId".into(), "r/1".into())),
            "{query:?}"
        );
        assert!(
            query.contains(&("accountIdentifier".into(), ACCOUNT.into())),
            "{query:?}"
        );
        for r in &requests {
            assert_eq!(
                r.headers.get("x-api-key").and_then(|v| v.to_str().ok()),
                Some(API_KEY)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_id_from_the_platform_is_one_path_segment_of_the_stop() {
    // Watching a run by notify ID with no experiment_id: the stop names the
    // experiment the platform reported, however hostile.
    for id in ["../../../../admin", "a/b?c#d"] {
        let server = never_finishing(Some(id)).await;
        let run = Gate::harness_at(&server.uri(), "x")
            .without("CHAOS_GATE_EXPERIMENT_ID")
            .env("CHAOS_GATE_NOTIFY_ID", "n-1")
            .env("CHAOS_GATE_TIMEOUT", "1")
            .run()
            .await;
        run.assert_code(4);
        let requests = server.received_requests().await.unwrap_or_default();
        let stops = only_known_routes(&requests, id);
        assert_eq!(stops.len(), 1, "{id:?}\n{}", run.output());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_platform_names_no_experiment_is_not_stopped_at_experiment_slash_slash() {
    let server = never_finishing(None).await;
    let run = Gate::harness_at(&server.uri(), "x")
        .without("CHAOS_GATE_EXPERIMENT_ID")
        .env("CHAOS_GATE_NOTIFY_ID", "n-1")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    run.assert_code(4);
    let requests = server.received_requests().await.unwrap_or_default();
    for r in &requests {
        assert_eq!(r.url.path(), QUERY, "only the query route: {}", r.url);
    }
    run.assert_output_has("experiment ID is empty");
}

#[tokio::test]
async fn empty_or_dot_experiment_ids_are_bad_settings() {
    let sim = sim(PASSING).await;
    for value in [
        "exp,,exp2",
        "exp,",
        ",exp",
        "exp, ,exp2",
        ".",
        "exp,..",
        ",",
    ] {
        let gate = Gate::new(&sim, E1).env("CHAOS_GATE_EXPERIMENT_ID", value);
        refused(gate, &sim, &["CHAOS_GATE_EXPERIMENT_ID"], &[]).await;
    }
}
