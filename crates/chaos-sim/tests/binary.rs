//! The `chaos-sim` binary serves the shipped demo scenario and exposes what
//! it recorded to other processes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// Kills the child even when an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_the_demo_scenario() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml");
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_chaos-sim"))
            .args(["--scenario", demo, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chaos-sim"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let url = first
        .trim()
        .strip_prefix("chaos-sim listening on ")
        .expect("announces its URL")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let ids = json!({ "orgIdentifier": "default", "accountIdentifier": "acc-demo", "projectIdentifier": "demo" });
    let run = "mutation R($workflowID: String!, $identifiers: IdentifiersRequest!) { runChaosExperiment(workflowID: $workflowID, identifiers: $identifiers) { notifyID } }";
    let poll = "query P($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) { listWorkflowRun(identifiers: $identifiers, request: $request) { workflowRuns { phase resiliencyScore } } }";
    let post = |query: &str, variables: Value| {
        http.post(format!(
            "{url}/gateway/chaos/manager/api/query?accountIdentifier=acc-demo"
        ))
        .header("x-api-key", "sim-api-key")
        .header("Harness-Account", "acc-demo")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
    };

    let mut finals = Vec::new();
    for experiment in ["checkout-pod-delete", "payment-network-loss"] {
        let body: Value = post(run, json!({ "workflowID": experiment, "identifiers": ids }))
            .await
            .expect("trigger")
            .json()
            .await
            .expect("json");
        let notify = body["data"]["runChaosExperiment"]["notifyID"]
            .as_str()
            .expect("notify ID")
            .to_string();
        let mut phases = Vec::new();
        loop {
            let body: Value = post(
                poll,
                json!({ "identifiers": ids, "request": { "notifyIDs": [notify] } }),
            )
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
            let run = body["data"]["listWorkflowRun"]["workflowRuns"][0].clone();
            phases.push(run["phase"].as_str().expect("phase").to_string());
            if !run["resiliencyScore"].is_null() {
                finals.push((run["phase"].clone(), run["resiliencyScore"].clone()));
                break;
            }
            assert!(phases.len() < 10, "never finished: {phases:?}");
        }
        assert!(
            phases.len() >= 3 && phases[0] == "Queued" && phases.contains(&"Running".to_string()),
            "{phases:?}"
        );
    }
    assert_eq!(
        finals,
        [
            (json!("Completed"), json!(100.0)),
            (json!("Completed_With_Probe_Failure"), json!(50.0))
        ]
    );

    // What the simulator recorded, from its introspection endpoints.
    let recorded = |what: &'static str| {
        let request = http.get(format!("{url}/_sim/{what}"));
        async move {
            let response = request.send().await.expect(what);
            response.json::<Value>().await.expect("json")
        }
    };
    let runs = recorded("runs").await;
    let runs = runs.as_array().expect("array");
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .all(|r| r["terminal_at_unix_ms"].as_u64().is_some()),
        "both runs were served a terminal phase: {runs:?}"
    );
    let requests = recorded("requests").await;
    let requests = requests.as_array().expect("array");
    assert_eq!(requests[0]["operation"], "runChaosExperiment");
    assert!(
        requests
            .iter()
            .all(|r| r["response_bytes"].as_u64() > Some(0) && r["at_unix_ms"].as_u64() > Some(0)),
        "sizes and times are recorded"
    );
    assert!(
        requests.iter().all(|r| r["path"] != "/_sim/runs"),
        "introspection is not recorded"
    );
}

#[test]
fn bad_arguments_print_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_chaos-sim"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown argument `--bogus`") && stderr.contains("usage: chaos-sim"),
        "{stderr}"
    );
}
