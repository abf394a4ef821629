//! The LitmusChaos ChaosCenter 3.x dialect end to end: a real HTTP client
//! against an in-process simulator.

use chaos_sim::{Scenario, Simulator};
use serde_json::{Value, json};

const PROJECT: &str = "proj-test";
const STATIC_TOKEN: &str = "static-token";

const RUN: &str = "mutation RunChaosExperiment($experimentID: String!, $projectID: ID!) {
  runChaosExperiment(experimentID: $experimentID, projectID: $projectID) { notifyID }
}";

const POLL: &str = "query GetExperimentRun($projectID: ID!, $notifyID: ID) {
  getExperimentRun(projectID: $projectID, notifyID: $notifyID) {
    experimentRunID experimentID phase resiliencyScore
    faultsPassed faultsFailed faultsAwaited faultsStopped faultsNa totalFaults
  }
}";

const STOP: &str =
    "mutation StopExperimentRuns($projectID: ID!, $experimentID: String!, $notifyID: String) {
  stopExperimentRuns(projectID: $projectID, experimentID: $experimentID, notifyID: $notifyID)
}";

const GET_EXPERIMENT: &str = "query GetExperiment($projectID: ID!, $experimentID: String!) {
  getExperiment(projectID: $projectID, experimentID: $experimentID) {
    experimentDetails { experimentID name isRemoved infra { infraID isActive } }
    averageResiliencyScore
  }
}";

fn scenario(extra: &str) -> Scenario {
    let text = format!(
        r#"
platform = "litmus"

[litmus]
username = "admin"
password = "litmus"
token = "{STATIC_TOKEN}"
project_id = "{PROJECT}"

[[experiments]]
id = "cart"
name = "Cart pod delete"
phases = ["Queued", "Pending", "Running", "Completed_With_Probe_Failure"]
resiliency_score = 50.0

[[experiments.faults]]
name = "pod-delete"

[[experiments.faults]]
name = "net-loss"
verdict = "Fail"
probe_success_percentage = "0"
fail_step = "probe failed"

{extra}
"#
    );
    Scenario::from_toml(&text).expect("test scenario is valid")
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(sim: &Simulator) -> Client {
        Client {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            base: sim.url(),
            token: STATIC_TOKEN.into(),
        }
    }

    /// A GraphQL POST with the headers a ChaosCenter client must send.
    fn request(&self, query: &str, variables: Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/api/query", self.base))
            .header("Origin", &self.base)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
    }

    /// Posts and expects HTTP 200 with a JSON body.
    async fn gql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .request(query, variables)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON body")
    }

    async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/auth/login", self.base))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    async fn trigger(&self, experiment: &str) -> Value {
        self.gql(
            RUN,
            json!({ "experimentID": experiment, "projectID": PROJECT }),
        )
        .await
    }

    async fn trigger_ok(&self, experiment: &str) -> String {
        let body = self.trigger(experiment).await;
        body["data"]["runChaosExperiment"]["notifyID"]
            .as_str()
            .unwrap_or_else(|| panic!("notify ID in {body}"))
            .to_string()
    }

    /// One `getExperimentRun` poll that must succeed; returns the run.
    async fn poll(&self, notify: &str) -> Value {
        let body = self
            .gql(POLL, json!({ "projectID": PROJECT, "notifyID": notify }))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["getExperimentRun"].clone()
    }
}

#[tokio::test]
async fn login_hands_out_a_token_that_is_then_accepted() {
    let sim = Simulator::start(scenario("")).await.expect("start");
    let mut client = Client::new(&sim);

    let response = client.login("admin", "litmus").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["projectID"], PROJECT);
    assert_eq!(body["expiresIn"], 86400);
    assert_eq!(body["type"], "Bearer");
    let token = body["accessToken"].as_str().expect("token").to_string();
    assert_eq!(token, "sim-token-1");

    client.token = token;
    assert!(!client.trigger_ok("cart").await.is_empty());

    let bad = client.login("admin", "wrong").await;
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error"], "invalid_credentials");
    assert!(body["errorDescription"].is_string(), "{body}");

    let malformed = client
        .http
        .post(format!("{}/auth/login", client.base))
        .body("username=admin")
        .send()
        .await
        .expect("send");
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");

    let ops: Vec<_> = sim
        .requests()
        .iter()
        .map(|r| r.operation.clone().unwrap_or_default())
        .collect();
    assert_eq!(ops, ["login", "runChaosExperiment", "login", "login"]);
}

#[tokio::test]
async fn a_scenario_without_credentials_refuses_every_login() {
    let sim = Simulator::start(
        Scenario::from_toml("platform = 'litmus'\n[litmus]\nproject_id = 'p'\n").expect("valid"),
    )
    .await
    .expect("start");
    let client = Client::new(&sim);
    assert_eq!(client.login("admin", "litmus").await.status(), 401);
}

#[tokio::test]
async fn origin_is_checked_before_the_token() {
    let sim = Simulator::start(scenario("")).await.expect("start");
    let client = Client::new(&sim);
    let url = format!("{}/api/query", client.base);
    let body =
        json!({ "query": RUN, "variables": { "experimentID": "cart", "projectID": PROJECT } });

    let no_origin = client
        .http
        .post(&url)
        .bearer_auth(STATIC_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(no_origin.status(), 403);
    assert_eq!(
        no_origin.json::<Value>().await.expect("json"),
        json!({ "error": "Invalid origin" })
    );

    // A wrong origin is refused even with a wrong token: origin first.
    let wrong_both = client
        .http
        .post(&url)
        .header("Origin", "http://evil.example")
        .bearer_auth("nope")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_both.status(), 403);

    let no_token = client
        .http
        .post(&url)
        .header("Origin", &client.base)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(no_token.status(), 401);
    let error: Value = no_token.json().await.expect("json");
    assert_eq!(error["error"], "unauthorized");
    assert!(error["errorDescription"].is_string(), "{error}");

    for header in ["Bearer nope", STATIC_TOKEN, "Bearer sim-token-1"] {
        let bad_token = client
            .http
            .post(&url)
            .header("Origin", &client.base)
            .header("Authorization", header)
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(bad_token.status(), 401, "{header}");
    }
    assert!(sim.runs().is_empty(), "refused requests start nothing");

    // The check is on Origin, not on the address the request went to.
    let custom = Simulator::start({
        let mut s = scenario("");
        if let Some(litmus) = s.litmus.as_mut() {
            litmus.allowed_origin = Some("https://chaos.example.com".into());
        }
        s
    })
    .await
    .expect("start");
    let client = Client::new(&custom);
    let own_url = client
        .request(RUN, json!({ "experimentID": "cart", "projectID": PROJECT }))
        .send()
        .await
        .expect("send");
    assert_eq!(own_url.status(), 403);
    let configured = client
        .http
        .post(format!("{}/api/query", client.base))
        .header("Origin", "https://chaos.example.com")
        .bearer_auth(STATIC_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(configured.status(), 200);
}

#[tokio::test]
async fn a_triggered_run_is_queued_at_once() {
    let sim = Simulator::start(scenario("")).await.expect("start");
    let client = Client::new(&sim);
    let notify = client.trigger_ok("cart").await;
    assert_eq!(notify.len(), 36, "uuid-like: {notify}");

    // Before any poll the run already exists and shows its first phase.
    let runs = sim.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].notify_id.as_str(), runs[0].phase.as_str()),
        (notify.as_str(), "Queued")
    );
    let run = client.poll(&notify).await;
    assert_eq!(run["phase"], "Queued");
    assert_eq!(run["experimentID"], "cart");
    assert_eq!(run["resiliencyScore"], Value::Null);
    assert_eq!(run["experimentRunID"], runs[0].run_id.as_str());
}

#[tokio::test]
async fn phases_follow_the_scenario_and_the_score_comes_last() {
    let sim = Simulator::start(scenario("")).await.expect("start");
    let client = Client::new(&sim);
    let notify = client.trigger_ok("cart").await;

    let mut seen = Vec::new();
    for _ in 0..5 {
        let run = client.poll(&notify).await;
        seen.push((run["phase"].clone(), run["resiliencyScore"].clone()));
    }
    // Phases outside the schema's enum come back verbatim.
    assert_eq!(
        seen,
        [
            (json!("Queued"), Value::Null),
            (json!("Pending"), Value::Null),
            (json!("Running"), Value::Null),
            (json!("Completed_With_Probe_Failure"), json!(50.0)),
            (json!("Completed_With_Probe_Failure"), json!(50.0)),
        ]
    );
    let run = client.poll(&notify).await;
    let mut keys: Vec<_> = run.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    let mut expected = [
        "experimentRunID",
        "experimentID",
        "phase",
        "resiliencyScore",
        "faultsPassed",
        "faultsFailed",
        "faultsAwaited",
        "faultsStopped",
        "faultsNa",
        "totalFaults",
    ];
    expected.sort();
    assert_eq!(keys, expected, "only the selected fields");
    assert_eq!(
        [
            &run["faultsPassed"],
            &run["faultsFailed"],
            &run["faultsAwaited"],
            &run["totalFaults"]
        ],
        [&json!(1), &json!(1), &json!(0), &json!(2)]
    );
    assert_eq!(sim.runs()[0].polls, 6);

    let requests = sim.requests();
    assert_eq!(requests[0].operation.as_deref(), Some("runChaosExperiment"));
    assert!(requests[0].notify_ids.is_empty());
    assert!(
        requests[1..]
            .iter()
            .all(|r| r.operation.as_deref() == Some("getExperimentRun")
                && r.notify_ids == [notify.clone()])
    );
    assert!(
        requests[1]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && *v == format!("Bearer {STATIC_TOKEN}"))
    );

    // The heavy fields: execution data as Harness builds it, the manifest,
    // and every non-null field of the nested objects.
    let heavy = "query Heavy($projectID: ID!, $id: ID) {
      getExperimentRun(projectID: $projectID, experimentRunID: $id) {
        __typename projectID notifyID runSequence experimentName experimentType
        weightages { faultName weightage } updatedAt createdAt isRemoved
        infra { infraID name isActive platformName environmentID updateStatus infraType startTime version token }
        createdBy { username } executionData experimentManifest
      }
    }";
    let body = client
        .gql(
            heavy,
            json!({ "projectID": PROJECT, "id": sim.runs()[0].run_id }),
        )
        .await;
    let run = &body["data"]["getExperimentRun"];
    assert_eq!(run["__typename"], "ExperimentRun");
    assert_eq!(run["notifyID"], notify.as_str());
    assert_eq!(run["runSequence"], 1);
    assert_eq!(run["projectID"], PROJECT);
    assert_eq!(run["experimentName"], "Cart pod delete");
    assert_eq!(
        run["weightages"][1],
        json!({ "faultName": "net-loss", "weightage": 10 })
    );
    assert_eq!(run["infra"]["isActive"], true);
    assert!(
        run["infra"]
            .as_object()
            .expect("infra")
            .values()
            .all(|v| !v.is_null()),
        "{run}"
    );
    assert!(run["experimentManifest"].as_str().expect("manifest").len() >= 6000);
    let data: Value = serde_json::from_str(run["executionData"].as_str().expect("string"))
        .expect("executionData is JSON");
    let mut verdicts: Vec<_> = data["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .filter(|n| n["type"] == "ChaosEngine")
        .map(|n| {
            n["chaosData"]["experimentVerdict"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    verdicts.sort();
    assert_eq!(verdicts, ["Fail", "Pass"]);

    // A second run of the same experiment is the next in sequence.
    let second = client.trigger_ok("cart").await;
    let body = client
        .gql(
            "query Q($p: ID!, $n: ID) { getExperimentRun(projectID: $p, notifyID: $n) { runSequence } }",
            json!({ "p": PROJECT, "n": second }),
        )
        .await;
    assert_eq!(body["data"]["getExperimentRun"]["runSequence"], 2);
}

#[tokio::test]
async fn an_unknown_run_is_a_graphql_error() {
    let sim = Simulator::start(scenario(
        r#"
[[experiments]]
id = "lag"
unlisted_polls = 1
phases = ["Queued", "Running", "Completed"]
"#,
    ))
    .await
    .expect("start");
    let client = Client::new(&sim);

    let body = client
        .gql(POLL, json!({ "projectID": PROJECT, "notifyID": "nope" }))
        .await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "experiment run not found");
    assert_eq!(body["errors"][0]["path"], json!(["getExperimentRun"]));

    let body = client.gql(POLL, json!({ "projectID": PROJECT })).await;
    assert!(body["errors"][0]["message"].is_string(), "{body}");

    // unlisted_polls: not found on the first poll, which still counts.
    let notify = client.trigger_ok("lag").await;
    let body = client
        .gql(POLL, json!({ "projectID": PROJECT, "notifyID": notify }))
        .await;
    assert_eq!(body["errors"][0]["message"], "experiment run not found");
    assert_eq!(client.poll(&notify).await["phase"], "Running");
}

#[tokio::test]
async fn trigger_errors_follow_the_scenario() {
    let sim = Simulator::start(scenario(
        r#"
[[experiments]]
id = "nightly"
cron = true

[[experiments]]
id = "offline"
infra_active = false

[[experiments]]
id = "gone"
removed = true
"#,
    ))
    .await
    .expect("start");
    let client = Client::new(&sim);

    let body = client.trigger("nope").await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "experiment nope not found");
    assert_eq!(body["errors"][0]["path"], json!(["runChaosExperiment"]));

    let body = client.trigger("offline").await;
    assert_eq!(body["errors"][0]["message"], "infra is not active");
    assert!(client.trigger("gone").await["errors"].is_array());
    assert_eq!(client.trigger_ok("nightly").await, "");

    let body = client
        .gql(
            RUN,
            json!({ "experimentID": "cart", "projectID": "other-project" }),
        )
        .await;
    assert_eq!(body["data"], Value::Null);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("other-project")),
        "{body}"
    );
    assert!(sim.runs().is_empty());
}

#[tokio::test]
async fn stop_marks_the_run_stopped() {
    let sim = Simulator::start(scenario("")).await.expect("start");
    let client = Client::new(&sim);
    let notify = client.trigger_ok("cart").await;
    client.poll(&notify).await;

    let body = client
        .gql(
            STOP,
            json!({ "projectID": PROJECT, "experimentID": "cart", "notifyID": notify }),
        )
        .await;
    assert_eq!(body, json!({ "data": { "stopExperimentRuns": true } }));
    for _ in 0..3 {
        let run = client.poll(&notify).await;
        assert_eq!(run["phase"], "Stopped");
        assert_eq!(run["resiliencyScore"], Value::Null);
        assert_eq!(run["faultsStopped"], 2);
    }
    let runs = sim.runs();
    assert!(runs[0].stopped);
    assert_eq!(runs[0].phase, "Stopped");
    let stop = sim
        .requests()
        .into_iter()
        .find(|r| r.operation.as_deref() == Some("stopExperimentRuns"))
        .expect("recorded");
    assert_eq!(stop.notify_ids, [notify]);

    // By run ID too.
    let other = client.trigger_ok("cart").await;
    let run_id = sim
        .runs()
        .into_iter()
        .find(|r| r.notify_id == other)
        .expect("run")
        .run_id;
    let by_run_id = "mutation S($p: ID!, $e: String!, $r: String) {
      stopExperimentRuns(projectID: $p, experimentID: $e, experimentRunID: $r) }";
    let body = client
        .gql(by_run_id, json!({ "p": PROJECT, "e": "cart", "r": run_id }))
        .await;
    assert_eq!(body["data"]["stopExperimentRuns"], true);
    assert!(sim.runs().iter().all(|r| r.stopped));

    for variables in [
        json!({ "projectID": PROJECT, "experimentID": "cart", "notifyID": "unknown" }),
        json!({ "projectID": PROJECT, "experimentID": "nope", "notifyID": "unknown" }),
    ] {
        let body = client.gql(STOP, variables).await;
        assert_eq!(body["data"], Value::Null);
        assert!(body["errors"][0]["message"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn get_experiment_describes_the_stored_experiment() {
    let sim = Simulator::start(scenario(
        r#"
[[experiments]]
id = "offline"
infra_active = false

[[experiments]]
id = "gone"
removed = true
"#,
    ))
    .await
    .expect("start");
    let client = Client::new(&sim);
    let get = |id: &str| {
        client.gql(
            GET_EXPERIMENT,
            json!({ "projectID": PROJECT, "experimentID": id }),
        )
    };

    let body = get("cart").await;
    assert_eq!(
        body["data"]["getExperiment"],
        json!({
            "experimentDetails": {
                "experimentID": "cart",
                "name": "Cart pod delete",
                "isRemoved": false,
                "infra": { "infraID": "chaos-sim-infra", "isActive": true },
            },
            "averageResiliencyScore": null,
        })
    );
    assert_eq!(
        get("gone").await["data"]["getExperiment"]["experimentDetails"]["isRemoved"],
        true
    );
    assert_eq!(
        get("offline").await["data"]["getExperiment"]["experimentDetails"]["infra"]["isActive"],
        false
    );
    let unknown = get("nope").await;
    assert_eq!(unknown["data"], Value::Null);
    assert_eq!(unknown["errors"][0]["message"], "experiment nope not found");

    // Reading the experiment counts no poll; a finished run feeds the average.
    let notify = client.trigger_ok("cart").await;
    for _ in 0..4 {
        client.poll(&notify).await;
    }
    let body = get("cart").await;
    assert_eq!(
        body["data"]["getExperiment"]["averageResiliencyScore"],
        50.0
    );
    assert_eq!(sim.runs()[0].polls, 4);
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.operation.as_deref() == Some("getExperiment"))
    );
}

#[tokio::test]
async fn invalid_documents_are_refused_with_422() {
    let sim = Simulator::start(scenario("")).await.expect("start");
    let client = Client::new(&sim);
    let send = |query: &str, variables: Value| client.request(query, variables).send();

    let unknown_field = "query Q($projectID: ID!, $notifyID: ID) {
      getExperimentRun(projectID: $projectID, notifyID: $notifyID) { phaze } }";
    let response = send(
        unknown_field,
        json!({ "projectID": PROJECT, "notifyID": "x" }),
    )
    .await
    .expect("send");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert!(
        body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains("phaze"))),
        "{body}"
    );

    // A Harness document is not a Litmus one.
    let harness = "query L($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
      listWorkflowRun(identifiers: $identifiers, request: $request) { totalNoOfWorkflowRuns } }";
    assert_eq!(send(harness, json!({})).await.expect("send").status(), 422);

    let response = send("query { getExperimentRun(", json!({}))
        .await
        .expect("send");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );

    // `projectID` is an ID!, so a String! variable does not fit it.
    let wrong_type = "mutation R($experimentID: String!, $projectID: String!) {
      runChaosExperiment(experimentID: $experimentID, projectID: $projectID) { notifyID } }";
    let response = send(
        wrong_type,
        json!({ "experimentID": "cart", "projectID": PROJECT }),
    )
    .await
    .expect("send");
    assert_eq!(response.status(), 422);

    // A required variable missing.
    let response = send(RUN, json!({ "experimentID": "cart" }))
        .await
        .expect("send");
    assert_eq!(response.status(), 422);

    let not_json = client
        .http
        .post(format!("{}/api/query", client.base))
        .header("Origin", &client.base)
        .bearer_auth(STATIC_TOKEN)
        .header("content-type", "text/plain")
        .body(RUN)
        .send()
        .await
        .expect("send");
    assert_eq!(not_json.status(), 400);
    assert!(sim.runs().is_empty());
    assert_eq!(
        sim.requests()[0].operation.as_deref(),
        Some("getExperimentRun")
    );

    // Valid but not simulated: an error, not a crash.
    let body = client
        .gql(
            "query S($p: ID!) { getExperimentRunStats(projectID: $p) { totalExperimentRuns } }",
            json!({ "p": PROJECT }),
        )
        .await;
    assert_eq!(body["data"], Value::Null);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not implemented")),
        "{body}"
    );
}

#[tokio::test]
async fn injected_errors_on_polls_apply_to_the_first_calls_only() {
    let sim = Simulator::start(scenario(
        r#"
[[inject]]
operation = "getExperimentRun"
first = 2
status = 503
retry_after = 1

[[inject]]
operation = "login"
first = 1
status = 502
"#,
    ))
    .await
    .expect("start");
    let client = Client::new(&sim);
    let notify = client.trigger_ok("cart").await;

    for _ in 0..2 {
        let response = client
            .request(POLL, json!({ "projectID": PROJECT, "notifyID": notify }))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    assert_eq!(sim.runs()[0].polls, 0, "an injected error has no effect");
    assert_eq!(client.poll(&notify).await["phase"], "Queued");

    assert_eq!(client.login("admin", "litmus").await.status(), 502);
    assert_eq!(client.login("admin", "litmus").await.status(), 200);
    assert_eq!(sim.requests().len(), 6);
}

#[tokio::test]
async fn each_scenario_speaks_one_dialect() {
    let litmus = Simulator::start(scenario("")).await.expect("start");
    let client = Client::new(&litmus);
    let harness_query = client
        .http
        .post(format!(
            "{}/gateway/chaos/manager/api/query?accountIdentifier=a",
            client.base
        ))
        .header("x-api-key", "k")
        .header("Harness-Account", "a")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(harness_query.status(), 404);

    let harness = Simulator::start(
        Scenario::from_toml("[harness]\naccount_id = 'a'\napi_key = 'k'\n").expect("valid"),
    )
    .await
    .expect("start");
    let client = Client::new(&harness);
    assert_eq!(client.login("admin", "litmus").await.status(), 404);
    let query = client
        .request(RUN, json!({ "experimentID": "cart", "projectID": PROJECT }))
        .send()
        .await
        .expect("send");
    assert_eq!(query.status(), 404);
}

#[tokio::test]
async fn the_litmus_demo_scenario_has_a_passing_and_a_failing_experiment() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/litmus-demo.toml");
    let sim = Simulator::start(Scenario::load(std::path::Path::new(demo)).expect("demo loads"))
        .await
        .expect("start");
    let mut client = Client::new(&sim);
    let login = client.login("admin", "sim-password").await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.expect("json");
    assert_eq!(login["projectID"], "demo-project");
    client.token = login["accessToken"].as_str().expect("token").to_string();

    let mut finals = Vec::new();
    for experiment in ["checkout-pod-delete", "payment-network-loss"] {
        let body = client
            .gql(
                RUN,
                json!({ "experimentID": experiment, "projectID": "demo-project" }),
            )
            .await;
        let notify = body["data"]["runChaosExperiment"]["notifyID"]
            .as_str()
            .expect("notify ID")
            .to_string();
        let mut last = Value::Null;
        for _ in 0..10 {
            let body = client
                .gql(
                    POLL,
                    json!({ "projectID": "demo-project", "notifyID": notify }),
                )
                .await;
            last = body["data"]["getExperimentRun"].clone();
        }
        finals.push((last["phase"].clone(), last["resiliencyScore"].clone()));
    }
    assert_eq!(
        finals,
        [
            (json!("Completed"), json!(100.0)),
            (json!("Completed_With_Probe_Failure"), json!(50.0)),
        ]
    );
}

#[tokio::test]
async fn a_dropped_trigger_is_found_by_listing_the_runs() {
    let sim = Simulator::start(scenario(
        r#"
[[inject]]
operation = "runChaosExperiment"
first = 1
drop_connection = true
after_effect = true
"#,
    ))
    .await
    .expect("start");
    let client = Client::new(&sim);
    let error = client
        .request(RUN, json!({ "experimentID": "cart", "projectID": PROJECT }))
        .send()
        .await
        .expect_err("the connection is closed without a response");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
    let runs = sim.runs();
    assert_eq!(runs.len(), 1, "the run was created before the drop");

    let second = client.trigger_ok("cart").await;
    let list = "query L($projectID: ID!, $request: ListExperimentRunRequest!) {
      listExperimentRun(projectID: $projectID, request: $request) {
        totalNoOfExperimentRuns
        experimentRuns { experimentRunID experimentID notifyID createdAt runSequence }
      } }";
    let body = client
        .gql(
            list,
            json!({ "projectID": PROJECT, "request": { "experimentIDs": ["cart"] } }),
        )
        .await;
    let listed = &body["data"]["listExperimentRun"];
    assert_eq!(listed["totalNoOfExperimentRuns"], 2);
    // Newest first.
    assert_eq!(listed["experimentRuns"][0]["notifyID"], second.as_str());
    assert_eq!(
        listed["experimentRuns"][1]["notifyID"],
        runs[0].notify_id.as_str()
    );
    assert_eq!(listed["experimentRuns"][1]["runSequence"], 1);
    let created: u64 = listed["experimentRuns"][1]["createdAt"]
        .as_str()
        .expect("string")
        .parse()
        .expect("Unix milliseconds");
    assert!(created > 1_600_000_000_000);

    let page = client
        .gql(
            list,
            json!({ "projectID": PROJECT, "request": {
                "pagination": { "page": 1, "limit": 1 },
                "sort": { "field": "TIME", "ascending": true },
            } }),
        )
        .await;
    let page = &page["data"]["listExperimentRun"];
    assert_eq!(page["totalNoOfExperimentRuns"], 2);
    assert_eq!(page["experimentRuns"].as_array().expect("list").len(), 1);
    assert_eq!(page["experimentRuns"][0]["notifyID"], second.as_str());
    assert!(
        sim.runs().iter().all(|r| r.polls == 0),
        "listing counts no poll"
    );
}
