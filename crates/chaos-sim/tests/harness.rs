//! The Harness dialect end to end: a real HTTP client against an in-process
//! simulator.

use std::time::Duration;

mod common;

use chaos_sim::{Scenario, Simulator};
use common::{
    DROPPED_TRIGGER_WITH_EFFECT, engine_nodes, http, json_200, json_of, notify_id, now_unix_ms,
    operations, request_for, run_of, sorted, sorted_keys, trigger_errors,
};
use serde_json::{Value, json};

const ACCOUNT: &str = "acc-test";
const KEY: &str = "key-test";

const RUN: &str =
    "mutation RunChaosExperiment($workflowID: String!, $identifiers: IdentifiersRequest!) {
  runChaosExperiment(workflowID: $workflowID, identifiers: $identifiers) { notifyID }
}";

const LIGHT_POLL: &str =
    "query ListWorkflowRun($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    totalNoOfWorkflowRuns
    workflowRuns {
      workflowRunID workflowID notifyID phase resiliencyScore
      experimentsPassed experimentsFailed experimentsAwaited
      experimentsStopped experimentsNa totalExperiments errorResponse
    }
  }
}";

const HEAVY_POLL: &str =
    "query ListWorkflowRun($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    totalNoOfWorkflowRuns
    workflowRuns { notifyID phase resiliencyScore executionData workflowManifest }
  }
}";

fn scenario(extra: &str) -> Scenario {
    let cart = common::cart_experiment(r#"["Queued", "Running", "Completed"]"#, 90.0, extra);
    common::scenario(&format!(
        r#"
[harness]
account_id = "{ACCOUNT}"
api_key = "{KEY}"
{cart}"#
    ))
}

/// A simulator serving the test scenario with `extra`, and a client of it.
async fn start(extra: &str) -> (Simulator, Client) {
    let sim = common::start(scenario(extra)).await;
    let client = Client::new(&sim);
    (sim, client)
}

fn identifiers() -> Value {
    json!({ "orgIdentifier": "default", "accountIdentifier": ACCOUNT, "projectIdentifier": "proj" })
}

/// The variables of a `listWorkflowRun` poll of one run.
fn poll_of(notify: &str) -> Value {
    json!({ "identifiers": identifiers(), "request": { "notifyIDs": [notify] } })
}

/// The variables of a trigger of `workflow`.
fn trigger_of(workflow: &str) -> Value {
    json!({ "workflowID": workflow, "identifiers": identifiers() })
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(sim: &Simulator) -> Client {
        Client {
            http: http(),
            base: sim.url(),
        }
    }

    fn query_url(&self) -> String {
        format!(
            "{}/gateway/chaos/manager/api/query?accountIdentifier={ACCOUNT}",
            self.base
        )
    }

    /// A POST to `url` with the account's credentials.
    fn authed(&self, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.http
            .post(url)
            .header("x-api-key", KEY)
            .header("Harness-Account", ACCOUNT)
    }

    async fn post(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.authed(self.query_url())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
    }

    /// Posts and expects HTTP 200 with a JSON body.
    async fn gql(&self, query: &str, variables: Value) -> Value {
        json_200(self.post(query, variables).await.expect("request")).await
    }

    async fn trigger(&self, workflow: &str) -> Value {
        self.gql(RUN, trigger_of(workflow)).await
    }

    async fn trigger_ok(&self, workflow: &str) -> String {
        notify_id(&self.trigger(workflow).await)
    }

    /// A light poll of the run with this notify ID.
    async fn poll_run(&self, notify: &str) -> Value {
        self.poll(LIGHT_POLL, json!({ "notifyIDs": [notify] }))
            .await
    }

    async fn poll(&self, query: &str, request: Value) -> Value {
        let body = self
            .gql(
                query,
                json!({ "identifiers": identifiers(), "request": request }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["listWorkflowRun"].clone()
    }

    async fn stop(&self, experiment: &str, params: &str) -> reqwest::Response {
        self.authed(format!(
                "{}/gateway/chaos/manager/api/rest/v2/experiment/{experiment}/stop?accountIdentifier={ACCOUNT}&organizationIdentifier=default&projectIdentifier=proj&{params}",
                self.base
            ))
            .send()
            .await
            .expect("stop request")
    }
}

#[tokio::test]
async fn trigger_then_poll_through_the_phases() {
    let (sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;
    assert_eq!(notify.len(), 36, "uuid-like: {notify}");

    let mut seen = Vec::new();
    for _ in 0..4 {
        let list = client.poll_run(&notify).await;
        assert_eq!(list["totalNoOfWorkflowRuns"], 1);
        let run = &list["workflowRuns"][0];
        assert_eq!(run["notifyID"], notify.as_str());
        assert_eq!(run["workflowID"], "cart");
        seen.push((run["phase"].clone(), run["resiliencyScore"].clone()));
    }
    assert_eq!(
        seen,
        [
            (json!("Queued"), Value::Null),
            (json!("Running"), Value::Null),
            (json!("Completed"), json!(90.0)),
            (json!("Completed"), json!(90.0)),
        ]
    );
    let last = client.poll_run(&notify).await;
    let run = &last["workflowRuns"][0];
    assert_eq!(
        (
            run["experimentsPassed"].clone(),
            run["experimentsFailed"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(run["totalExperiments"], 2);

    let runs = sim.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (
            runs[0].notify_id.as_str(),
            runs[0].phase.as_str(),
            runs[0].polls
        ),
        (notify.as_str(), "Completed", 5)
    );
    assert!(
        !runs[0].chaos_running && !runs[0].foreign,
        "the run ended by itself"
    );
    let requests = sim.requests();
    let ops = operations(&sim);
    assert_eq!(ops[0], "runChaosExperiment");
    assert!(ops[1..].iter().all(|o| o == "listWorkflowRun"));
    assert_eq!(requests[1].notify_ids, vec![notify.clone()]);
    assert!(
        requests[0]
            .headers
            .iter()
            .any(|(k, v)| k == "x-api-key" && v == KEY)
    );
    assert_eq!(requests[0].query, format!("accountIdentifier={ACCOUNT}"));
}

/// What a benchmark reads: the size of each answer, when each request came,
/// and when a run was first served a terminal phase.
#[tokio::test]
async fn response_sizes_and_terminal_time_are_recorded() {
    let (sim, client) = start("").await;
    let before = now_unix_ms();
    let notify = client.trigger_ok("cart").await;
    let mut sizes = Vec::new();
    for _ in 0..2 {
        let response = client
            .post(LIGHT_POLL, poll_of(&notify))
            .await
            .expect("poll");
        sizes.push(response.bytes().await.expect("body").len() as u64);
    }
    assert_eq!(sim.runs()[0].terminal_at_unix_ms, None, "still Running");
    let response = client
        .post(HEAVY_POLL, poll_of(&notify))
        .await
        .expect("poll");
    sizes.push(response.bytes().await.expect("body").len() as u64);

    let requests = sim.requests();
    let recorded: Vec<u64> = requests[1..].iter().map(|r| r.response_bytes).collect();
    assert_eq!(recorded, sizes, "the body sizes the client received");
    assert!(
        sizes[2] > 6000,
        "the manifest alone is 6000 bytes: {sizes:?}"
    );
    assert!(requests[0].response_bytes > 0);
    assert!(
        requests
            .windows(2)
            .all(|w| w[0].at_unix_ms <= w[1].at_unix_ms)
    );
    assert!(requests[0].at_unix_ms >= before);

    let terminal = sim.runs()[0].terminal_at_unix_ms.expect("served Completed");
    assert!(terminal >= requests[3].at_unix_ms, "set by the third poll");
    client.poll_run(&notify).await;
    assert_eq!(
        sim.runs()[0].terminal_at_unix_ms,
        Some(terminal),
        "the first time only"
    );
}

#[tokio::test]
async fn responses_carry_only_the_selected_fields() {
    let (_sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;

    let light = client.post(LIGHT_POLL, poll_of(&notify));
    let light_text = light.await.expect("poll").text().await.expect("body");
    let light: Value = serde_json::from_str(&light_text).expect("json");
    let keys = sorted_keys(&light["data"]["listWorkflowRun"]["workflowRuns"][0]);
    let expected = sorted(&[
        "workflowRunID",
        "workflowID",
        "notifyID",
        "phase",
        "resiliencyScore",
        "experimentsPassed",
        "experimentsFailed",
        "experimentsAwaited",
        "experimentsStopped",
        "experimentsNa",
        "totalExperiments",
        "errorResponse",
    ]);
    assert_eq!(keys, expected);

    let heavy = client.post(HEAVY_POLL, poll_of(&notify));
    let heavy_text = heavy.await.expect("poll").text().await.expect("body");
    assert!(
        heavy_text.len() > light_text.len() + 6000,
        "{} vs {}",
        heavy_text.len(),
        light_text.len()
    );
    let heavy: Value = serde_json::from_str(&heavy_text).expect("json");
    let run = &heavy["data"]["listWorkflowRun"]["workflowRuns"][0];
    let engines = engine_nodes(&run["executionData"]);
    assert_eq!(engines.len(), 2);
    assert!(
        engines
            .iter()
            .all(|n| n["chaosData"]["experimentVerdict"] == "Awaited"),
        "still running"
    );
    assert!(run["workflowManifest"].as_str().expect("manifest").len() >= 6000);

    // Aliases, nested selections, __typename, fragments, @skip, literals.
    let fancy = format!(
        r#"query {{
          runs: listWorkflowRun(
            identifiers: {{orgIdentifier: "default", accountIdentifier: "{ACCOUNT}", projectIdentifier: "proj"}},
            request: {{notifyIDs: ["{notify}"]}}
          ) {{
            __typename
            workflowRuns {{ state: phase ...Ids infra {{ infraID }} infra {{ isActive }} notifyID @skip(if: true) }}
          }}
        }}
        fragment Ids on WorkflowRun {{ workflowRunID weightages {{ experimentName }} }}"#
    );
    let body = client.gql(&fancy, json!({})).await;
    let runs = &body["data"]["runs"];
    assert_eq!(runs["__typename"], "ListWorkflowRunResponse");
    let run = runs["workflowRuns"][0].as_object().expect("run");
    let mut keys: Vec<_> = run.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["infra", "state", "weightages", "workflowRunID"]);
    assert_eq!(
        run["infra"],
        json!({ "infraID": "chaos-sim-infra", "isActive": true })
    );
    assert_eq!(
        run["weightages"],
        json!([{ "experimentName": "pod-delete" }, { "experimentName": "net-loss" }])
    );
}

#[tokio::test]
async fn invalid_documents_and_bodies_are_refused_like_gqlgen() {
    let (sim, client) = start("").await;

    let unknown_field =
        "query Q($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
        listWorkflowRun(identifiers: $identifiers, request: $request) { workflowRuns { phaze } } }";
    let response = client
        .post(
            unknown_field,
            json!({ "identifiers": identifiers(), "request": {} }),
        )
        .await
        .expect("send");
    common::assert_validation_failed(response, "phaze").await;

    let response = client
        .post("query { listWorkflowRun(", json!({}))
        .await
        .expect("send");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );

    // A required variable missing is a validation failure too.
    let response = client
        .post(RUN, json!({ "workflowID": "cart" }))
        .await
        .expect("send");
    assert_eq!(response.status(), 422);

    let response = client
        .authed(client.query_url())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    // The invalid request was still recorded under the field it was after.
    common::assert_refused_but_recorded(&response, &sim, "listWorkflowRun");
}

#[tokio::test]
async fn credentials_are_checked() {
    let (sim, client) = start("").await;
    let body = json!({ "query": RUN, "variables": trigger_of("cart") });

    let bad_key = client
        .http
        .post(client.query_url())
        .header("x-api-key", "wrong")
        .header("Harness-Account", ACCOUNT)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(bad_key.status(), 401);
    let error = json_of(bad_key).await;
    assert_eq!(error["code"], "INVALID_TOKEN");

    let no_key = client
        .http
        .post(client.query_url())
        .header("Harness-Account", ACCOUNT)
        .json(&body)
        .send();
    assert_eq!(no_key.await.expect("send").status(), 401);

    let wrong_account = client
        .http
        .post(format!(
            "{}/gateway/chaos/manager/api/query?accountIdentifier=other",
            client.base
        ))
        .header("x-api-key", KEY)
        .header("Harness-Account", "other")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_account.status(), 403);
    assert!(sim.runs().is_empty(), "refused requests start nothing");

    // identifiers naming another account is a GraphQL error.
    let mut ids = identifiers();
    ids["accountIdentifier"] = json!("other");
    let body = client
        .gql(RUN, json!({ "workflowID": "cart", "identifiers": ids }))
        .await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["path"], json!(["runChaosExperiment"]));
}

#[tokio::test]
async fn trigger_errors_follow_the_scenario() {
    let (sim, client) = start(&trigger_errors()).await;

    let body = client.trigger("nope").await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "experiment nope not found");
    assert_eq!(body["errors"][0]["path"], json!(["runChaosExperiment"]));

    assert_eq!(client.trigger_ok("nightly").await, "");
    let body = client.trigger("offline").await;
    assert_eq!(body["errors"][0]["message"], "infrastructure is not active");
    assert!(client.trigger("gone").await["errors"].is_array());
    assert!(sim.runs().is_empty());

    let list = "query L($identifiers: IdentifiersRequest!, $request: ListWorkflowRequest!) {
      listWorkflow(identifiers: $identifiers, request: $request) {
        totalNoOfWorkflows workflows { workflowID name isRemoved cronSyntax infra { infraID isActive } }
      } }";
    let body = client.gql(list, json!({ "identifiers": identifiers(), "request": { "workflowIDs": ["gone", "offline", "nightly"] } })).await;
    let workflows = &body["data"]["listWorkflow"];
    assert_eq!(workflows["totalNoOfWorkflows"], 3);
    let by_id = |id: &str| {
        workflows["workflows"]
            .as_array()
            .expect("list")
            .iter()
            .find(|w| w["workflowID"] == id)
            .cloned()
            .expect("listed")
    };
    assert_eq!(by_id("gone")["isRemoved"], true);
    assert_eq!(by_id("offline")["infra"]["isActive"], false);
    assert_ne!(by_id("nightly")["cronSyntax"], "");
}

/// The run ID the simulator gave the run with this notify ID.
fn run_id_of(sim: &Simulator, notify: &str) -> String {
    run_of(sim, notify).run_id
}

#[tokio::test]
async fn stop_marks_the_run_stopped() {
    let (sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;
    let other = client.trigger_ok("cart").await;
    client.poll_run(&notify).await;
    let run_id = run_id_of(&sim, &notify);

    let response = client
        .stop(
            "cart",
            &format!("experimentRunId={run_id}&notifyId={notify}"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({ "experimentId": "cart", "experimentName": "Cart pod delete", "isStopped": true })
    );

    for _ in 0..3 {
        let list = client.poll_run(&notify).await;
        let run = &list["workflowRuns"][0];
        assert_eq!(run["phase"], "Stopped");
        assert_eq!(run["resiliencyScore"], Value::Null);
    }
    let runs = sim.runs();
    assert!(runs[0].stopped && !runs[0].chaos_running);
    assert_eq!(runs[0].phase, "Stopped");
    assert!(
        !runs[1].stopped && runs[1].chaos_running,
        "only the named run is stopped"
    );
    assert_eq!(runs[1].notify_id, other);
    let stop = request_for(&sim, "stop");
    assert_eq!(stop.notify_ids, [notify]);

    assert_eq!(
        client
            .stop("cart", "experimentRunId=unknown&notifyId=unknown")
            .await
            .status(),
        404
    );
    assert_eq!(
        client
            .stop("nope", "experimentRunId=unknown&notifyId=unknown")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_stop_without_both_run_identifiers_is_refused() {
    let (sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;
    let run_id = run_id_of(&sim, &notify);
    for (params, missing) in [
        (format!("notifyId={notify}"), "experimentRunId"),
        (format!("experimentRunId={run_id}"), "notifyId"),
        (
            format!("experimentRunId=&notifyId={notify}"),
            "experimentRunId",
        ),
        (String::new(), "experimentRunId, notifyId"),
    ] {
        let response = client.stop("cart", &params).await;
        assert_eq!(response.status(), 400, "{params}");
        let body: Value = response.json().await.expect("json");
        let message = body["message"].as_str().expect("message");
        assert!(message.ends_with(missing), "{params}: {message}");
    }
    let runs = sim.runs();
    assert!(!runs[0].stopped && runs[0].chaos_running, "nothing stopped");
}

#[tokio::test]
async fn a_forced_stop_marks_the_run_but_leaves_the_chaos_running() {
    let (sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;
    let run_id = run_id_of(&sim, &notify);
    let response = client
        .stop(
            "cart",
            &format!("experimentRunId={run_id}&notifyId={notify}&force=true"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let list = client.poll_run(&notify).await;
    assert_eq!(list["workflowRuns"][0]["phase"], "Stopped");
    let run = &sim.runs()[0];
    assert!(run.stopped);
    assert!(run.chaos_running, "force only writes the database");

    // force=false is a real stop.
    let second = client.trigger_ok("cart").await;
    let run_id = run_id_of(&sim, &second);
    client
        .stop(
            "cart",
            &format!("experimentRunId={run_id}&notifyId={second}&force=false"),
        )
        .await;
    assert!(!sim.runs()[1].chaos_running);
}

#[tokio::test]
async fn a_foreign_run_is_listed_running_until_stopped() {
    let (sim, client) = start("").await;
    assert!(sim.start_foreign_run("nope").is_none());
    let foreign = sim.start_foreign_run("cart").expect("known experiment");
    assert!(foreign.foreign && foreign.chaos_running && !foreign.stopped);
    assert_eq!(foreign.phase, "Running");
    assert!(!foreign.run_id.is_empty());
    for _ in 0..5 {
        let list = client
            .poll(LIGHT_POLL, json!({ "workflowIDs": ["cart"] }))
            .await;
        assert_eq!(list["workflowRuns"][0]["phase"], "Running");
        assert_eq!(
            list["workflowRuns"][0]["workflowRunID"],
            foreign.run_id.as_str()
        );
    }
    let mine = client.trigger_ok("cart").await;
    assert!(!sim.runs()[1].foreign);
    let run_id = run_id_of(&sim, &mine);
    client
        .stop("cart", &format!("experimentRunId={run_id}&notifyId={mine}"))
        .await;
    let runs = sim.runs();
    assert!(runs[0].chaos_running && !runs[0].stopped, "not mine");
    client
        .stop(
            "cart",
            &format!(
                "experimentRunId={}&notifyId={}",
                foreign.run_id, foreign.notify_id
            ),
        )
        .await;
    assert!(!sim.runs()[0].chaos_running);
}

#[tokio::test]
async fn unlisted_lists_hide_a_new_run_from_lookups_only() {
    let (sim, client) = start(
        r#"
[[experiments]]
id = "late"
unlisted_lists = 2
phases = ["Queued", "Running", "Completed"]
"#,
    )
    .await;
    let notify = client.trigger_ok("late").await;
    for _ in 0..2 {
        let list = client
            .poll(LIGHT_POLL, json!({ "workflowIDs": ["late"] }))
            .await;
        assert_eq!(list["totalNoOfWorkflowRuns"], 0);
    }
    assert_eq!(sim.runs()[0].polls, 0, "a hidden run counts no poll");
    let list = client
        .poll(LIGHT_POLL, json!({ "workflowIDs": ["late"] }))
        .await;
    assert_eq!(list["workflowRuns"][0]["notifyID"], notify.as_str());

    // Polls by notify ID see a new run at once.
    let second = client.trigger_ok("late").await;
    let list = client.poll_run(&second).await;
    assert_eq!(list["totalNoOfWorkflowRuns"], 1);
}

#[tokio::test]
async fn injected_errors_apply_to_the_first_calls_only() {
    let (sim, client) = start(
        r#"
[[inject]]
operation = "listWorkflowRun"
first = 2
status = 503
retry_after = 1
"#,
    )
    .await;
    let notify = client.trigger_ok("cart").await;
    let variables = poll_of(&notify);

    for _ in 0..2 {
        let response = client
            .post(LIGHT_POLL, variables.clone())
            .await
            .expect("send");
        common::assert_unavailable_for_1s(&response);
    }
    assert_eq!(sim.runs()[0].polls, 0, "an injected error has no effect");
    let list = client.poll_run(&notify).await;
    assert_eq!(list["workflowRuns"][0]["phase"], "Queued");
    assert_eq!(sim.requests().len(), 4);
}

#[tokio::test]
async fn injected_bodies_replace_the_answer() {
    let (_sim, client) = start(
        r#"
[[inject]]
operation = "listWorkflowRun"
first = 1
status = 502
body = "<html><body>Bad Gateway</body></html>"

[[inject]]
operation = "listWorkflowRun"
first = 2
body = '{"data": {"listWorkflowRun": '
"#,
    )
    .await;
    let variables = poll_of("x");

    let html = client
        .post(LIGHT_POLL, variables.clone())
        .await
        .expect("send");
    assert_eq!(html.status(), 502);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let truncated = client
        .post(LIGHT_POLL, variables.clone())
        .await
        .expect("send");
    assert_eq!(truncated.status(), 200);
    assert!(truncated.json::<Value>().await.is_err());
    let fine = client.post(LIGHT_POLL, variables).await.expect("send");
    assert_eq!(
        fine.json::<Value>().await.expect("json")["data"]["listWorkflowRun"]["totalNoOfWorkflowRuns"],
        0
    );
}

#[tokio::test]
async fn a_dropped_trigger_may_still_have_started_the_run() {
    let (sim, client) = start(DROPPED_TRIGGER_WITH_EFFECT).await;

    let error = client
        .post(RUN, trigger_of("cart"))
        .await
        .expect_err("the connection is closed without a response");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");

    let runs = sim.runs();
    assert_eq!(runs.len(), 1, "the run was created before the drop");
    // A client that lost the answer finds its run by experiment ID.
    let list = client
        .poll(LIGHT_POLL, json!({ "workflowIDs": ["cart"] }))
        .await;
    assert_eq!(
        list["workflowRuns"][0]["notifyID"],
        runs[0].notify_id.as_str()
    );
}

#[tokio::test]
async fn a_dropped_trigger_without_effect_starts_nothing() {
    let (sim, client) = start(
        r#"
[[inject]]
operation = "runChaosExperiment"
first = 1
drop_connection = true
"#,
    )
    .await;
    assert!(client.post(RUN, trigger_of("cart")).await.is_err());
    assert!(sim.runs().is_empty());
    assert!(!client.trigger_ok("cart").await.is_empty());
    assert_eq!(sim.runs().len(), 1);
}

#[tokio::test]
async fn a_slow_trigger_that_times_out_has_still_started_the_run() {
    let (sim, client) = start(
        r#"
[[inject]]
operation = "runChaosExperiment"
first = 1
delay_ms = 30000
after_effect = true
"#,
    )
    .await;
    let error = client
        .authed(client.query_url())
        .json(&json!({ "query": RUN, "variables": trigger_of("cart") }))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(sim.runs().len(), 1);
}

#[tokio::test]
async fn unlisted_polls_hide_a_new_run_but_count() {
    let (sim, client) = start(
        r#"
[[experiments]]
id = "lag"
unlisted_polls = 2
phases = ["Queued", "Running", "Running", "Completed"]
"#,
    )
    .await;
    let notify = client.trigger_ok("lag").await;
    for _ in 0..2 {
        let list = client.poll_run(&notify).await;
        assert_eq!(
            list,
            json!({ "totalNoOfWorkflowRuns": 0, "workflowRuns": [] })
        );
    }
    let list = client.poll_run(&notify).await;
    assert_eq!(
        list["workflowRuns"][0]["phase"], "Running",
        "the third poll shows phases[2]"
    );
    assert_eq!(sim.runs()[0].polls, 3);
}

#[tokio::test]
async fn hostile_and_huge_execution_data() {
    let (_sim, client) = start(
        r#"
[[experiments]]
id = "hostile"
phases = ["Completed"]
execution_data = '{"nodes": {"a": {"type": "ChaosEngine", "chaosData": {"experimentVerdict": "::error::pwned"}}'

[[experiments]]
id = "huge"
phases = ["Completed"]
execution_data_pad_bytes = 2000000
"#,
    )
    .await;
    let hostile = client.trigger_ok("hostile").await;
    let huge = client.trigger_ok("huge").await;
    let list = client
        .poll(HEAVY_POLL, json!({ "notifyIDs": [hostile, huge] }))
        .await;
    assert_eq!(list["totalNoOfWorkflowRuns"], 2);
    let data = |id: &str| -> String {
        list["workflowRuns"]
            .as_array()
            .expect("runs")
            .iter()
            .find(|r| r["notifyID"] == id)
            .expect("run")["executionData"]
            .as_str()
            .expect("string")
            .to_string()
    };
    assert!(data(&hostile).starts_with("{\"nodes\": {\"a\""));
    let big = data(&huge);
    assert!(
        (1_990_000..=2_010_000).contains(&big.len()),
        "{}",
        big.len()
    );
    serde_json::from_str::<Value>(&big).expect("padded executionData is JSON");
}

#[tokio::test]
async fn answers_while_the_test_runtime_is_blocked() {
    use std::io::{Read, Write};
    let sim = common::start(scenario("")).await;
    // A blocking client on the test's only runtime thread, as when a test
    // waits on the client binary with std::process::Command.
    let mut stream = std::net::TcpStream::connect(sim.addr()).expect("connect");
    stream
        .write_all(b"GET /_sim/runs HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("[]"), "{response}");
}

/// REST v2 (issue 16): the run, probe and variables endpoints refuse what
/// the swagger does not allow, with 400 and a message.
#[tokio::test]
async fn rest_v2_refuses_missing_parameters_unknown_fields_and_wrong_types() {
    let (sim, client) = start(
        "[[experiments.faults.probes]]\nname = \"http-ok\"\nverdict = \"Failed\"\ndescription = \"503\"\n\
         [[experiments.variables]]\nname = \"NS\"\nrequired = true\n",
    )
    .await;
    let base = format!("{}/gateway/chaos/manager/api/rest/v2", sim.url());
    let scope = format!(
        "accountIdentifier={ACCOUNT}&organizationIdentifier=default&projectIdentifier=proj"
    );
    let post = |path: String, body: Value| {
        let request = client.authed(path).json(&body);
        async move {
            let r = request.send().await.expect("answer");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let run = |q: &str| format!("{base}/experiments/cart/run?{scope}{q}");
    let (s, b) = post(run("&isIdentity=true"), json!({})).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("isOnboardingRun"),
        "{b}"
    );
    let (s, b) = post(run("&isIdentity=yes&isOnboardingRun=false"), json!({})).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("boolean"), "{b}");
    let ok = "&isIdentity=true&isOnboardingRun=false";
    let (s, b) = post(
        run(ok),
        json!({"runtimeInputs": {"experiment": [{"name": "NS", "value": "x"}]}, "extra": 1}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"extra\""),
        "{b}"
    );
    let (s, b) = post(
        run(ok),
        json!({"runtimeInputs": {"experiment": [{"name": 5, "value": "x"}]}}),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = post(run(ok), json!({})).await;
    assert_eq!(s, 400);
    assert!(
        b["message"].as_str().unwrap().contains("NS"),
        "a required input: {b}"
    );
    let (s, b) = post(
        run(ok),
        json!({"runtimeInputs": {"experiment": [{"name": "NS", "value": "x"}]}}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let notify = b["notifyID"].as_str().expect("notifyID").to_string();
    assert_eq!(
        sim.runs()[0].inputs,
        Some(json!({"experiment": {"NS": "x"}, "tasks": {}}))
    );

    let probes = format!("{base}/probes/experiment-run?{scope}");
    let (s, _) = post(probes.clone(), json!({})).await;
    assert_eq!(s, 400, "neither list");
    let (s, _) = post(probes.clone(), json!({"notifyIds": [1]})).await;
    assert_eq!(s, 400, "wrong type");
    let (s, b) = post(probes.clone(), json!({"notifyIds": [notify]})).await;
    assert_eq!(s, 200);
    assert_eq!(
        b["data"][0]["status"]["verdict"], "Awaited",
        "not finished: {b}"
    );
    assert_eq!(
        b["data"][0]["faultName"], "net-loss",
        "the probe of the last fault"
    );

    let vars = client
        .http
        .get(format!("{base}/experiments/cart/variables?{scope}"))
        .header("x-api-key", KEY)
        .header("Harness-Account", ACCOUNT)
        .send()
        .await
        .expect("answer");
    assert_eq!(vars.status().as_u16(), 400, "isIdentity is required");
}
