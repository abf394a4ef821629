//! The LitmusChaos 3.x platform (README "Platforms"): login or token, the Origin
//! header, the documented operations, phases outside the schema's enum.

use apollo_compiler::{ExecutableDocument, Schema};

use crate::common::*;

fn schema() -> apollo_compiler::validation::Valid<Schema> {
    let mut builder = Schema::builder();
    for (name, text) in chaos_sim::schemas::LITMUS {
        builder = builder.parse(*text, *name);
    }
    builder
        .build()
        .expect("the Litmus schema builds")
        .validate()
        .expect("the Litmus schema validates")
}

#[test]
fn every_document_the_litmus_client_sends_validates_against_the_schema() {
    let schema = schema();
    let polls: Vec<String> = [1, 3]
        .map(chaos_gate::platform::litmus::poll_document)
        .into_iter()
        .chain([1, 3].map(chaos_gate::platform::litmus::execution_data_document))
        .collect();
    let docs = chaos_gate::platform::litmus::DOCUMENTS
        .iter()
        .copied()
        .chain(polls.iter().map(String::as_str));
    for doc in docs {
        if let Err(e) = ExecutableDocument::parse_and_validate(&schema, doc, "doc.graphql") {
            panic!("{doc}\ndoes not validate: {e}");
        }
    }
    // A stop always names the run (README "Platforms"): the document passes it on.
    let stop = chaos_gate::platform::litmus::STOP_EXPERIMENT_RUNS;
    assert!(stop.contains("experimentRunID: $experimentRunID"), "{stop}");
}

#[tokio::test]
async fn a_login_gate_passes_with_origin_and_bearer_on_every_query() {
    let sim = litmus_sim(&experiment(
        "exp",
        &["Queued", "Running", "Completed"],
        Some(100.0),
    ))
    .await;
    let run = Gate::litmus(&sim, "exp").run().await;
    run.assert_code(0);
    let requests = sim.requests();
    assert_eq!(requests[0].operation.as_deref(), Some("login"));
    assert_eq!(requests[0].path, "/auth/login");
    let body: serde_json::Value = serde_json::from_str(&requests[0].body).expect("JSON");
    assert_eq!(body["username"], LITMUS_USER);
    for r in requests.iter().skip(1) {
        assert_eq!(r.path, "/api/query");
        assert_eq!(header(r, "origin"), Some(sim.url().as_str()), "{r:?}");
        let auth = header(r, "authorization").unwrap_or_default();
        assert!(auth.starts_with("Bearer ") && auth.len() > 7, "{auth}");
    }
    assert_eq!(count(&sim, "login"), 1, "one login for the whole gate");
    assert_eq!(count(&sim, "runChaosExperiment"), 1);
    assert!(count(&sim, "getExperimentRun") >= 3);
    assert!(!run.output().contains(LITMUS_PASSWORD));
}

#[tokio::test]
async fn a_token_needs_no_login() {
    let sim = litmus_sim(&experiment("exp", &["Running", "Completed"], Some(90.0))).await;
    let run = Gate::litmus(&sim, "exp")
        .with_token(LITMUS_TOKEN)
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "85")
        .run()
        .await;
    run.assert_code(0);
    assert_eq!(count(&sim, "login"), 0);
    let auth = sim
        .requests()
        .iter()
        .find_map(|r| header(r, "authorization").map(String::from));
    assert_eq!(
        auth.as_deref(),
        Some(format!("Bearer {LITMUS_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_refused_login_names_the_settings() {
    let sim = litmus_sim(&experiment("exp", &["Completed"], Some(100.0))).await;
    let run = Gate::litmus(&sim, "exp")
        .env("CHAOS_GATE_PASSWORD", "wrong")
        .run()
        .await;
    run.assert_code(3);
    run.assert_stdout_has("Check username and password");
    assert_eq!(count(&sim, "runChaosExperiment"), 0);
}

#[tokio::test]
async fn a_wrong_origin_is_explained() {
    let body = experiment("exp", &["Completed"], Some(100.0));
    let mut scenario = litmus_scenario(&body);
    scenario
        .litmus
        .as_mut()
        .expect("litmus config")
        .allowed_origin = Some("https://chaos.example.com".to_string());
    let sim = chaos_sim::Simulator::start(scenario).await.expect("sim");
    let run = Gate::litmus(&sim, "exp").run().await;
    run.assert_code(3);
    run.assert_stdout_has("Invalid origin");
    run.assert_stdout_has("allows as an origin");
}

#[tokio::test]
async fn litmus_phases_outside_the_enum_and_from_2x() {
    for (phase, code) in [
        ("Completed_With_Probe_Failure", 0),
        ("Succeeded", 0),
        ("Failed", 1),
        ("Terminated", 1),
        ("Completed_With_Error", 1),
    ] {
        let sim = litmus_sim(&experiment(
            "exp",
            &["Pending", "Running", phase],
            Some(100.0),
        ))
        .await;
        let run = Gate::litmus(&sim, "exp").run().await;
        run.assert_code(code);
        assert!(
            run.stdout.contains("phase Pending"),
            "{phase}: {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn a_failing_litmus_run_exits_1_with_junit() {
    let sim = litmus_sim(&experiment("exp", &["Running", "Completed"], Some(40.0))).await;
    let run = Gate::litmus(&sim, "exp")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "60")
        .run()
        .await;
    run.assert_code(1);
    let xml = run.junit().expect("JUnit");
    assert_valid_junit(&xml);
    assert!(
        xml.contains("resilience score 40 is below the expected 60"),
        "{xml}"
    );
}

#[tokio::test]
async fn a_litmus_timeout_stops_the_run() {
    let sim = litmus_sim(&experiment("slow", &["Running"], None)).await;
    let run = Gate::litmus(&sim, "slow")
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    run.assert_code(4);
    assert_eq!(count(&sim, "stopExperimentRuns"), 1);
    assert!(sim.runs()[0].stopped);
}

#[tokio::test]
async fn a_lost_litmus_trigger_adopts_its_run() {
    let body = format!(
        "{}\n[[inject]]\noperation = \"runChaosExperiment\"\nfirst = 1\ndrop_connection = true\nafter_effect = true\n",
        experiment("exp", &["Running", "Completed"], Some(100.0))
    );
    let sim = litmus_sim(&body).await;
    let run = Gate::litmus(&sim, "exp").run().await;
    run.assert_code(0);
    assert_eq!(sim.runs().len(), 1);
    assert_eq!(count(&sim, "runChaosExperiment"), 1);
}

#[tokio::test]
async fn a_litmus_run_answered_as_null_is_not_listed_yet() {
    use wiremock::MockServer;
    use wiremock::matchers::header;
    let server = MockServer::start().await;
    let query = |needle: &'static str| {
        litmus_query(needle).and(header(
            "authorization",
            format!("Bearer {LITMUS_TOKEN}").as_str(),
        ))
    };
    query("RunChaosExperiment(")
        .respond_with(trigger_answer("n-1"))
        .mount(&server)
        .await;
    query("PollExperimentRuns(")
        .respond_with(json_answer(serde_json::json!({"data": {"r0": null}})))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    query("PollExperimentRuns(")
        .respond_with(json_answer(serde_json::json!({"data": {
            "r0": {"experimentRunID": "r-1", "experimentID": "exp", "notifyID": "n-1",
                   "phase": "Completed", "resiliencyScore": 100}}})))
        .with_priority(2)
        .mount(&server)
        .await;
    query("GetExperimentRunExecutionData(")
        .respond_with(json_answer(serde_json::json!({"data": {
            "getExperimentRun": {"experimentRunID": "r-1", "executionData": ""}}})))
        .mount(&server)
        .await;
    let run = Gate::litmus_at(&server.uri(), "exp")
        .with_token(LITMUS_TOKEN)
        .run()
        .await;
    run.assert_code(0);
    let polls = received_with(&server, "PollExperimentRuns(").await;
    assert_eq!(polls, 3, "two unlisted polls, then the finished run");
}

#[tokio::test]
async fn an_expired_login_token_is_renewed_once_and_the_request_repeated() {
    use wiremock::matchers::{body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer};
    let server = MockServer::start().await;
    // The first login's token is refused (expired); the second one works.
    Mock::given(method("POST"))
        .and(path("/auth/login"))
        .respond_with(json_answer(
            serde_json::json!({"accessToken": "expired-t0ken"}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/auth/login"))
        .respond_with(json_answer(
            serde_json::json!({"accessToken": "fresh-t0ken"}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    // As ChaosCenter answers an expired token: HTTP 200 and a GraphQL
    // error (401 is only for a revoked one).
    Mock::given(method("POST"))
        .and(path("/api/query"))
        .and(header("authorization", "Bearer expired-t0ken"))
        .respond_with(json_answer(serde_json::json!({
            "errors": [{"message": "permission_denied: rpc error: code = Unknown desc = token is expired", "path": ["runChaosExperiment"]}],
            "data": null
        })))
        .mount(&server)
        .await;
    let fresh = |needle: &'static str, body: serde_json::Value| {
        Mock::given(method("POST"))
            .and(path("/api/query"))
            .and(header("authorization", "Bearer fresh-t0ken"))
            .and(body_string_contains(needle))
            .respond_with(json_answer(body))
    };
    fresh(
        "RunChaosExperiment(",
        serde_json::json!({"data": {"runChaosExperiment": {"notifyID": "n-1"}}}),
    )
    .mount(&server)
    .await;
    fresh("PollExperimentRuns(", serde_json::json!({"data": {"r0": {
        "experimentRunID": "r-1", "experimentID": "exp", "notifyID": "n-1", "phase": "Completed", "resiliencyScore": 100}}}))
        .mount(&server)
        .await;
    fresh(
        "GetExperimentRunExecutionData(",
        serde_json::json!({"data": {"getExperimentRun": {"executionData": ""}}}),
    )
    .mount(&server)
    .await;
    let run = Gate::litmus_at(&server.uri(), "exp").run().await;
    run.assert_code(0);
    let requests = server.received_requests().await.unwrap_or_default();
    let logins = requests
        .iter()
        .filter(|r| r.url.path() == "/auth/login")
        .count();
    let triggers = requests
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("RunChaosExperiment("))
        .count();
    assert_eq!(logins, 2, "one login, then one renewal");
    assert_eq!(
        triggers, 2,
        "the refused trigger was sent again with the new token"
    );
}

/// README "Performance" on ChaosCenter: every run of the gate in one status request per
/// poll (aliases of getExperimentRun), and the execution data of runs that
/// finished together in one request.
#[tokio::test]
async fn litmus_polls_all_runs_in_one_request_and_reads_execution_data_together() {
    const N: usize = 30;
    let body: String = (0..N)
        .map(|i| experiment(&format!("exp-{i}"), &["Running", "Completed"], Some(100.0)))
        .collect();
    let sim = litmus_sim(&body).await;
    let ids: Vec<String> = (0..N).map(|i| format!("exp-{i}")).collect();
    let run = Gate::litmus(&sim, &ids.join(",")).run().await;
    run.assert_code(0);
    let requests = sim.requests();
    let polls: Vec<_> = requests
        .iter()
        .filter(|r| r.body.contains("PollExperimentRuns("))
        .collect();
    assert_eq!(polls.len(), 2, "Running, then Completed: two polls");
    for p in &polls {
        assert_eq!(
            p.body.matches("getExperimentRun(").count(),
            N,
            "every run in the one request"
        );
    }
    let reads = requests
        .iter()
        .filter(|r| r.body.contains("GetExperimentRunsExecutionData("))
        .count();
    assert_eq!(
        reads, 1,
        "the execution data of all {N} runs in one request"
    );
    assert_eq!(count(&sim, "runChaosExperiment"), N);
}

/// One run the server cannot answer nulls the whole aliased answer
/// (`getExperimentRun` is non-null in the schema): the poll then asks each
/// run on its own, and the runs it can answer are still judged.
#[tokio::test]
async fn a_batched_poll_that_errors_falls_back_to_one_request_per_run() {
    use wiremock::MockServer;
    use wiremock::matchers::body_string_contains;
    let server = MockServer::start().await;
    litmus_query("RunChaosExperiment(")
        .and(body_string_contains("\"a\""))
        .respond_with(trigger_answer("n-a"))
        .mount(&server)
        .await;
    litmus_query("RunChaosExperiment(")
        .and(body_string_contains("\"b\""))
        .respond_with(trigger_answer("n-b"))
        .mount(&server)
        .await;
    litmus_query("PollExperimentRuns(")
        .respond_with(json_answer(serde_json::json!({
            "errors": [{"message": "no matching experiment run", "path": ["r1"]}],
            "data": null
        })))
        .mount(&server)
        .await;
    for (notify, exp) in [("n-a", "a"), ("n-b", "b")] {
        litmus_query("GetExperimentRun(")
            .and(body_string_contains(notify))
            .respond_with(
                json_answer(serde_json::json!({"data": {
                "getExperimentRun": {"experimentRunID": format!("r-{exp}"), "experimentID": exp,
                                     "notifyID": notify, "phase": "Completed", "resiliencyScore": 100}}})),
            )
            .mount(&server)
            .await;
    }
    litmus_query("GetExperimentRunsExecutionData(")
        .respond_with(json_answer(serde_json::json!({"data": {
            "r0": {"experimentRunID": "r-a", "executionData": ""},
            "r1": {"experimentRunID": "r-b", "executionData": ""}}})))
        .mount(&server)
        .await;
    let run = Gate::litmus_at(&server.uri(), "a,b")
        .with_token(LITMUS_TOKEN)
        .run()
        .await;
    run.assert_code(0);
    let requests = server.received_requests().await.unwrap_or_default();
    let count = |needle: &str| {
        requests
            .iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains(needle))
            .count()
    };
    assert_eq!(count("PollExperimentRuns("), 1);
    assert_eq!(count("query GetExperimentRun("), 2, "each run alone");
}
