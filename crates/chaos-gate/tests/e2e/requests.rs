//! README "Platforms" and platform-apis.md: the exact requests the Harness client
//! sends, and every GraphQL document validated against the schema subset.

use apollo_compiler::{ExecutableDocument, Schema};

use crate::common::*;

fn schema() -> apollo_compiler::validation::Valid<Schema> {
    Schema::parse_and_validate(chaos_sim::schemas::HARNESS, "harness.graphql")
        .expect("the Harness schema validates")
}

#[test]
fn every_document_the_client_sends_validates_against_the_schema() {
    let schema = schema();
    for doc in chaos_gate::platform::harness::DOCUMENTS {
        if let Err(e) = ExecutableDocument::parse_and_validate(&schema, *doc, "doc.graphql") {
            panic!("{doc}\ndoes not validate: {e}");
        }
    }
}

#[test]
fn polls_never_ask_for_the_heavy_fields() {
    let poll = chaos_gate::platform::harness::LIST_WORKFLOW_RUN;
    assert!(!poll.contains("executionData"));
    assert!(!poll.contains("workflowManifest"));
}

#[tokio::test]
async fn requests_have_the_documented_url_headers_and_variables() {
    let exp1 = uuid(1);
    let sim = sim(&experiment(&exp1, &["Running", "Completed"], Some(100.0))).await;
    Gate::new(&sim, &exp1)
        .env("CHAOS_GATE_ORG_ID", "org-9")
        .run()
        .await
        .assert_code(0);
    let requests = sim.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(header(r, "x-api-key"), Some(API_KEY), "{r:?}");
        assert_eq!(header(r, "harness-account"), Some(ACCOUNT));
        // GraphQL; REST v2 (stop, probe results) is checked elsewhere.
        if r.path.ends_with("/query") {
            assert_eq!(r.path, "/gateway/chaos/manager/api/query");
            assert_eq!(r.query, format!("accountIdentifier={ACCOUNT}"));
            assert_eq!(header(r, "content-type"), Some("application/json"));
            // The status poll names its variables $i and $r (it is sent
            // on every poll, so every byte counts); the rest in full.
            let vars = &request_body(r)["variables"];
            let ids = vars.get("identifiers").unwrap_or(&vars["i"]);
            assert_eq!(ids["orgIdentifier"], "org-9");
            assert_eq!(ids["accountIdentifier"], ACCOUNT);
            assert_eq!(ids["projectIdentifier"], PROJECT);
        }
    }
    let trigger = &requests[0];
    assert_eq!(trigger.operation.as_deref(), Some("runChaosExperiment"));
    assert_eq!(
        request_body(trigger)["variables"]["workflowID"],
        exp1.as_str()
    );
    let poll = &requests[1];
    assert_eq!(poll.operation.as_deref(), Some("listWorkflowRun"));
    let notify = sim.runs()[0].notify_id.clone();
    assert_eq!(
        request_body(poll)["variables"]["r"]["notifyIDs"],
        serde_json::json!([notify])
    );
}

#[tokio::test]
async fn execution_data_is_asked_for_once_after_the_run_finished() {
    let sim = sim(&experiment(
        "exp",
        &["Queued", "Running", "Running", "Completed"],
        Some(100.0),
    ))
    .await;
    Gate::new(&sim, "exp").run().await.assert_code(0);
    let polls: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("listWorkflowRun"))
        .collect();
    let heavy: Vec<usize> = polls
        .iter()
        .enumerate()
        .filter(|(_, r)| r.body.contains("executionData"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(heavy, vec![polls.len() - 1], "once, last");
    assert!(polls.iter().all(|r| !r.body.contains("workflowManifest")));
}

#[tokio::test]
async fn one_status_request_per_poll_carries_every_notify_id() {
    let ids: Vec<String> = (0..5).map(uuid).collect();
    let body: String = ids
        .iter()
        .map(|id| {
            experiment(
                id,
                &["Queued", "Running", "Running", "Completed"],
                Some(100.0),
            )
        })
        .collect();
    let sim = sim(&body).await;
    Gate::new(&sim, &ids.join(",")).run().await.assert_code(0);
    let light: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.operation.as_deref() == Some("listWorkflowRun") && !r.body.contains("executionData")
        })
        .collect();
    assert!(light.len() >= 4, "polled until the end");
    for r in &light {
        let n = request_body(r)["variables"]["r"]["notifyIDs"]
            .as_array()
            .map(Vec::len);
        assert_eq!(n, Some(5), "every notify ID in the one request: {}", r.body);
    }
    assert_eq!(count(&sim, "runChaosExperiment"), 5);
}

#[tokio::test]
async fn the_trigger_line_names_the_notify_id_and_phase_changes_are_shown() {
    let sim = sim(&experiment(
        "exp",
        &["Queued", "Running", "Completed"],
        Some(95.0),
    ))
    .await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "90")
        .run()
        .await;
    run.assert_code(0);
    let snapshot = sim.runs()[0].clone();
    run.assert_stdout_has(&format!("triggered exp: notify ID {}", snapshot.notify_id));
    assert!(
        run.stdout.contains("/experiments/exp/runs/"),
        "a link to the run: {}",
        run.stdout
    );
    assert!(run.stdout.contains("exp: phase Queued"));
    assert!(run.stdout.contains("exp: phase Queued -> Running"));
    assert!(
        run.stdout
            .contains("exp: phase Running -> Completed (score 95)")
    );
    let table = run
        .stdout
        .split("EXPERIMENT")
        .nth(1)
        .expect("a final table");
    assert!(
        table.contains("exp")
            && table.contains("Completed")
            && table.contains("95")
            && table.contains("pass")
    );
    assert!(
        table.contains("fault pod-delete"),
        "faults in the table: {table}"
    );
}

#[tokio::test]
async fn a_heartbeat_is_printed_while_nothing_changes() {
    let phases = ["Running"; 14];
    let mut phases = phases.to_vec();
    phases.push("Completed");
    let sim = sim(&experiment("exp", &phases, Some(100.0))).await;
    let run = Gate::new(&sim, "exp").run().await;
    run.assert_code(0);
    run.assert_stdout_has("still waiting after");
    run.assert_stdout_has("exp Running");
}

/// README "Performance" with 200 experiments: one status request per poll naming every
/// run, one request for the execution data of all of them, every trigger
/// sent once, and a small fixed number of connections (requests queue for
/// a slot rather than each opening its own).
#[tokio::test]
async fn many_experiments_cost_one_poll_request_one_execution_data_read_and_few_connections() {
    const N: usize = 200;
    let phases = ["Queued", "Running", "Completed"];
    let ids: Vec<String> = (0..N).map(|i| uuid(i as u32)).collect();
    let body: String = ids
        .iter()
        .map(|id| experiment(id, &phases, Some(100.0)))
        .collect();
    let sim = sim(&body).await;
    Gate::new(&sim, &ids.join(",")).run().await.assert_code(0);
    let requests = sim.requests();
    assert_eq!(count(&sim, "runChaosExperiment"), N, "each trigger once");
    let (heavy, light): (Vec<_>, Vec<_>) = requests
        .iter()
        .filter(|r| r.operation.as_deref() == Some("listWorkflowRun"))
        .partition(|r| r.body.contains("executionData"));
    assert_eq!(light.len(), phases.len(), "one status request per poll");
    for r in &light {
        assert_eq!(r.notify_ids.len(), N, "every run in the one poll");
    }
    assert_eq!(heavy.len(), 1, "the execution data of all runs at once");
    assert_eq!(heavy[0].notify_ids.len(), N);
    let connections: std::collections::BTreeSet<u64> =
        requests.iter().map(|r| r.connection).collect();
    assert!(
        connections.len() <= 16,
        "{} connections for {} requests",
        connections.len(),
        requests.len()
    );
    assert!(sim.runs().iter().all(|r| r.phase == "Completed"));
}

/// A status poll for one run, both directions on the wire: under 900
/// bytes (only the fields read are asked for, in compact query text).
#[tokio::test]
async fn a_status_poll_for_one_run_is_under_900_bytes_on_the_wire() {
    // An experiment named by its ID (a UUID): an identity's first polls
    // also ask for the experiment's ID.
    let exp = uuid(1);
    let sim = sim(&experiment(&exp, &["Running", "Completed"], Some(100.0))).await;
    Gate::new(&sim, &exp).run().await.assert_code(0);
    let polls: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.operation.as_deref() == Some("listWorkflowRun") && !r.body.contains("executionData")
        })
        .collect();
    assert!(!polls.is_empty());
    for r in &polls {
        let wire = r.request_wire_bytes + r.response_wire_bytes;
        eprintln!(
            "poll: {} + {} = {wire} B on the wire",
            r.request_wire_bytes, r.response_wire_bytes
        );
        assert!(
            wire <= 900,
            "{wire} B ({} + {}): {r:?}",
            r.request_wire_bytes,
            r.response_wire_bytes
        );
    }
}
