//! What the Harness and the LitmusChaos dialect tests share: the `cart`
//! experiment both scenarios start from, the experiments whose triggers
//! fail, an injected dropped trigger, and readers of the simulator's
//! records and of GraphQL answers. Each dialect keeps its own client.

use chaos_sim::{RunSnapshot, Scenario, Simulator};
use serde_json::Value;

/// The `cart` experiment going through `phases` (a TOML array) to `score`,
/// with a passing fault and a failing one, followed by `extra` (more
/// experiments, injections or keys of the last fault).
pub fn cart_experiment(phases: &str, score: f64, extra: &str) -> String {
    format!(
        r#"
[[experiments]]
id = "cart"
name = "Cart pod delete"
phases = {phases}
resiliency_score = {score:.1}

[[experiments.faults]]
name = "pod-delete"

[[experiments.faults]]
name = "net-loss"
verdict = "Fail"
probe_success_percentage = "0"
fail_step = "probe failed"

{extra}
"#
    )
}

/// Parses a test scenario that must be valid.
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_toml(text).expect("test scenario is valid")
}

/// A simulator serving `scenario` on loopback.
pub async fn start(scenario: Scenario) -> Simulator {
    Simulator::start(scenario).await.expect("start")
}

/// Two stored experiments that cannot run: one whose infrastructure is
/// down, one removed.
pub const OFFLINE_AND_GONE: &str = r#"
[[experiments]]
id = "offline"
infra_active = false

[[experiments]]
id = "gone"
removed = true
"#;

/// Experiments whose triggers fail or start nothing: one on a schedule,
/// and [`OFFLINE_AND_GONE`].
pub fn trigger_errors() -> String {
    format!("\n[[experiments]]\nid = \"nightly\"\ncron = true\n{OFFLINE_AND_GONE}")
}

/// The first trigger's connection is closed without an answer, after the
/// run was created.
pub const DROPPED_TRIGGER_WITH_EFFECT: &str = r#"
[[inject]]
operation = "runChaosExperiment"
first = 1
drop_connection = true
after_effect = true
"#;

/// An HTTP client that ignores proxy settings (the simulator is on
/// loopback).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// Expects HTTP 200 with a JSON body.
pub async fn json_200(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON body")
}

/// The body of an answer expected to be JSON.
pub async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json")
}

/// The notify ID of a `runChaosExperiment` answer.
pub fn notify_id(body: &Value) -> String {
    body["data"]["runChaosExperiment"]["notifyID"]
        .as_str()
        .unwrap_or_else(|| panic!("notify ID in {body}"))
        .to_string()
}

/// The run with this notify ID, as the simulator sees it.
pub fn run_of(sim: &Simulator, notify: &str) -> RunSnapshot {
    sim.runs()
        .into_iter()
        .find(|r| r.notify_id == notify)
        .expect("run")
}

/// The operation of each recorded request, "" where there was none.
pub fn operations(sim: &Simulator) -> Vec<String> {
    sim.requests()
        .iter()
        .map(|r| r.operation.clone().unwrap_or_default())
        .collect()
}

/// The recorded request for `operation`, which must have come.
pub fn request_for(sim: &Simulator, operation: &str) -> chaos_sim::RecordedRequest {
    sim.requests()
        .into_iter()
        .find(|r| r.operation.as_deref() == Some(operation))
        .expect("recorded")
}

/// Now, in milliseconds since the Unix epoch (as the records count).
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// The keys of a JSON object, sorted.
pub fn sorted_keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<_> = object
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// `names`, sorted (to compare with [`sorted_keys`]).
pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<_> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    names
}

/// The ChaosEngine nodes of an `executionData` string.
pub fn engine_nodes(execution_data: &Value) -> Vec<Value> {
    let data: Value = serde_json::from_str(execution_data.as_str().expect("string"))
        .expect("executionData is JSON");
    data["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .filter(|n| n["type"] == "ChaosEngine")
        .cloned()
        .collect()
}

/// A document the schema does not validate: HTTP 422, no data, and an
/// error that names `word`.
pub async fn assert_validation_failed(response: reqwest::Response, word: &str) {
    assert_eq!(response.status(), 422);
    let body = json_of(response).await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let errors = body["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains(word))),
        "{body}"
    );
}

/// An injected 503 that asks to retry after a second.
pub fn assert_unavailable_for_1s(response: &reqwest::Response) {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
}

/// A body that is not JSON: refused with 400, it starts nothing, and is
/// still recorded, under the field it was after (the first request).
pub fn assert_refused_but_recorded(response: &reqwest::Response, sim: &Simulator, operation: &str) {
    assert_eq!(response.status(), 400);
    assert!(sim.runs().is_empty());
    assert_eq!(sim.requests()[0].operation.as_deref(), Some(operation));
}
