//! Hostile and broken responses (README "Failure behaviour"), as a table: each row serves
//! chosen answers from wiremock and states the exit code, how many requests
//! the server may see, and what the output must say. None may panic.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn trigger_ok() -> ResponseTemplate {
    trigger_answer("n-1")
}

fn run(phase: Value, score: Value) -> ResponseTemplate {
    json_answer(json!({"data": {"listWorkflowRun": {
        "totalNoOfWorkflowRuns": 1,
        "workflowRuns": [{"workflowRunID": "r-1", "workflowID": EXP, "notifyID": "n-1",
                          "phase": phase, "resiliencyScore": score}]}}}))
}

fn execution_data(data: &str) -> ResponseTemplate {
    json_answer(json!({"data": {"listWorkflowRun": {
        "workflowRuns": [{"workflowRunID": "r-1", "notifyID": "n-1", "executionData": data}]}}}))
}

fn body(status: u16, text: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(text.as_bytes().to_vec(), "text/html")
}

/// What each GraphQL operation answers in one row.
struct Row {
    name: &'static str,
    trigger: ResponseTemplate,
    poll: ResponseTemplate,
    exec: ResponseTemplate,
    recent: ResponseTemplate,
    timeout: &'static str,
    code: i32,
    /// Light status polls the server may see, inclusive.
    polls: (usize, usize),
    says: &'static str,
}

fn no_runs() -> ResponseTemplate {
    json_answer(json!({"data": {"listWorkflowRun": {"workflowRuns": []}}}))
}

fn rows() -> Vec<Row> {
    let done = || run(json!("Completed"), json!(100.0));
    let base = || Row {
        name: "",
        trigger: trigger_ok(),
        poll: done(),
        exec: execution_data(r#"{"nodes":{}}"#),
        recent: no_runs(),
        timeout: "20",
        code: 0,
        polls: (1, 1),
        says: "",
    };
    vec![
        Row {
            name: "all well",
            says: "Gate passed",
            ..base()
        },
        Row {
            name: "poll answers malformed JSON until the timeout",
            poll: body(200, "{\"data\": {\"listWorkflowRun\": "),
            timeout: "2",
            code: 3,
            polls: (2, 6),
            says: "the answer is not JSON",
            ..base()
        },
        Row {
            name: "poll answers an HTML error page until the timeout",
            poll: body(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
            timeout: "2",
            code: 3,
            polls: (2, 6),
            says: "502 Bad Gateway",
            ..base()
        },
        Row {
            name: "poll answers a GraphQL error",
            poll: json_answer(
                json!({"data": null, "errors": [{"message": "project proj-test is archived"}]}),
            ),
            code: 3,
            says: "project proj-test is archived",
            ..base()
        },
        Row {
            name: "poll answers no data until the timeout",
            poll: json_answer(json!({})),
            timeout: "2",
            code: 3,
            polls: (2, 8),
            says: "the answer has no data",
            ..base()
        },
        Row {
            name: "poll answers workflowRuns of the wrong type until the timeout",
            poll: json_answer(json!({"data": {"listWorkflowRun": {"workflowRuns": "none"}}})),
            timeout: "2",
            code: 3,
            polls: (2, 8),
            says: "is not the shape expected",
            ..base()
        },
        Row {
            name: "poll answers a phase of the wrong type until the timeout",
            poll: run(json!(7), json!(100.0)),
            timeout: "2",
            code: 3,
            polls: (2, 8),
            says: "is not the shape expected",
            ..base()
        },
        Row {
            name: "poll answers a score above 100",
            poll: run(json!("Completed"), json!(250.0)),
            code: 3,
            says: "resiliencyScore 250, outside 0..100",
            ..base()
        },
        Row {
            name: "poll answers a score below 0",
            poll: run(json!("Completed"), json!(-1)),
            code: 3,
            says: "outside 0..100",
            ..base()
        },
        Row {
            name: "poll answers a body far larger than any real one",
            poll: ResponseTemplate::new(200)
                .set_body_raw(vec![b' '; 17 * 1024 * 1024], "application/json"),
            code: 3,
            says: "larger than 16 MiB",
            ..base()
        },
        Row {
            name: "an unknown phase is waited out",
            poll: run(json!("Exploding"), json!(null)),
            timeout: "1",
            code: 4,
            polls: (2, 40),
            says: "\"Exploding\" is not one chaos-gate knows",
            ..base()
        },
        Row {
            name: "executionData that is not JSON is a warning",
            exec: execution_data("<<not json>>"),
            says: "the run's faults could not be read",
            ..base()
        },
        Row {
            name: "executionData with fields of the wrong type",
            exec: execution_data(
                r#"{"nodes":{"a":{"chaosData":{"experimentName":["x"],"probeSuccessPercentage":{}}},"b":[]}}"#,
            ),
            says: "Gate passed",
            ..base()
        },
        Row {
            name: "the trigger is refused with 403",
            trigger: ResponseTemplate::new(403).set_body_json(json!({"message": "not allowed"})),
            code: 3,
            polls: (0, 0),
            says: "Check api_key",
            ..base()
        },
        Row {
            name: "the trigger answers garbage and no run appears",
            trigger: body(200, "<html>oops</html>"),
            code: 3,
            polls: (0, 0),
            says: "not JSON",
            ..base()
        },
        Row {
            name: "the trigger answers a notify ID of the wrong type",
            trigger: json_answer(json!({"data": {"runChaosExperiment": {"notifyID": 12}}})),
            code: 3,
            polls: (0, 0),
            says: "has no runChaosExperiment.notifyID",
            ..base()
        },
    ]
}

async fn serve(row: &Row) -> MockServer {
    let server = MockServer::start().await;
    for (needle, answer) in [
        ("RunChaosExperiment(", &row.trigger),
        ("ListWorkflowRun(", &row.poll),
        ("ListWorkflowRunExecutionData(", &row.exec),
        ("ListRecentWorkflowRuns(", &row.recent),
    ] {
        on_query(needle, answer.clone()).mount(&server).await;
    }
    stops_answered("/rest/v2/experiment/.*/stop")
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_responses_end_in_a_clear_outcome_never_a_panic() {
    let mut failures = Vec::new();
    for row in rows() {
        let server = serve(&row).await;
        let run = Gate::harness_at(&server.uri(), EXP)
            .env("CHAOS_GATE_TIMEOUT", row.timeout)
            .run()
            .await;
        let polls = received_with(&server, "ListWorkflowRun(").await;
        let mut problems = Vec::new();
        if run.code != Some(row.code) {
            problems.push(format!("exit {:?}, expected {}", run.code, row.code));
        }
        if polls < row.polls.0 || polls > row.polls.1 {
            problems.push(format!("{polls} polls, expected {:?}", row.polls));
        }
        if !run.output().contains(row.says) {
            problems.push(format!("output lacks {:?}", row.says));
        }
        if run.output().contains("panicked") {
            problems.push("panicked".to_string());
        }
        problems.extend(run.junit_problem());
        if !problems.is_empty() {
            failures.push(run.row_failure(row.name, &problems));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn a_slow_server_is_cut_off_by_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(trigger_ok().set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    let run = Gate::harness_at(&server.uri(), EXP)
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    assert!(
        matches!(run.code, Some(3) | Some(4)),
        "{:?}\n{}",
        run.code,
        run.output()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout bounds everything"
    );
    assert!(run.junit().is_some());
}

#[tokio::test]
async fn a_redirect_is_refused_and_the_key_never_follows_it() {
    // The "other host" that a redirect points at: it must see nothing.
    let elsewhere = MockServer::start().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}{QUERY}", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let run = Gate::harness_at(&server.uri(), EXP).run().await;
    run.assert_code(3);
    run.assert_stdout_has("does not follow redirects");
    assert!(
        run.stdout.contains(&elsewhere.uri()),
        "names where it pointed: {}",
        run.stdout
    );
    let leaked = elsewhere.received_requests().await.unwrap_or_default();
    assert!(
        leaked.is_empty(),
        "a request followed the redirect: {leaked:?}"
    );
}

#[tokio::test]
async fn a_server_that_quotes_the_key_back_does_not_get_it_printed() {
    for (status, body) in [
        (
            401,
            json!({"message": format!("token {API_KEY} is not valid")}),
        ),
        (
            200,
            json!({"data": null, "errors": [{"message": format!("key {API_KEY} lacks chaos permissions")}]}),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let run = Gate::harness_at(&server.uri(), EXP)
            .env("RUST_LOG", "trace")
            .run()
            .await;
        run.assert_code(3);
        let junit = run.junit().unwrap_or_default();
        for (name, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("JUnit", &junit),
        ] {
            assert!(!text.contains(API_KEY), "{name} holds the key:\n{text}");
        }
        assert!(
            run.stdout.contains("***"),
            "the message is kept, the key hidden: {}",
            run.stdout
        );
    }
}
