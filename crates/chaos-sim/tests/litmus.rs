//! The LitmusChaos ChaosCenter 3.x dialect end to end: a real HTTP client
//! against an in-process simulator.

mod common;

use chaos_sim::{Scenario, Simulator};
use common::{
    DROPPED_TRIGGER_WITH_EFFECT, OFFLINE_AND_GONE, engine_nodes, http, json_200, json_of,
    notify_id, now_unix_ms, operations, request_for, run_of, sorted, sorted_keys, trigger_errors,
};
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
    scenario_with("", extra)
}

/// A scenario with more keys in `[litmus]` (`litmus_keys`) and more
/// experiments or injections after the default one (`extra`).
fn scenario_with(litmus_keys: &str, extra: &str) -> Scenario {
    let cart = common::cart_experiment(
        r#"["Queued", "Pending", "Running", "Completed_With_Probe_Failure"]"#,
        50.0,
        extra,
    );
    common::scenario(&format!(
        r#"
platform = "litmus"

[litmus]
username = "admin"
password = "litmus"
token = "{STATIC_TOKEN}"
project_id = "{PROJECT}"
{litmus_keys}
{cart}"#
    ))
}

/// A simulator serving [`scenario_with`], and a client of it.
async fn start_with(litmus_keys: &str, extra: &str) -> (Simulator, Client) {
    let sim = common::start(scenario_with(litmus_keys, extra)).await;
    let client = Client::new(&sim);
    (sim, client)
}

/// A simulator serving [`scenario`], and a client of it.
async fn start(extra: &str) -> (Simulator, Client) {
    start_with("", extra).await
}

/// The variables of a trigger of `experiment` in the test project.
fn trigger_of(experiment: &str) -> Value {
    json!({ "experimentID": experiment, "projectID": PROJECT })
}

/// The run ID a polled run shows.
fn run_id_in(run: &Value) -> String {
    run["experimentRunID"].as_str().expect("run ID").to_string()
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(sim: &Simulator) -> Client {
        Client {
            http: http(),
            base: sim.url(),
            token: STATIC_TOKEN.into(),
        }
    }

    /// A POST to the GraphQL endpoint, with no header yet.
    fn query(&self) -> reqwest::RequestBuilder {
        self.http.post(format!("{}/api/query", self.base))
    }

    /// A POST to the login endpoint, with no header yet.
    fn login_post(&self) -> reqwest::RequestBuilder {
        self.http.post(format!("{}/auth/login", self.base))
    }

    /// A GraphQL POST with the headers a ChaosCenter client must send.
    fn request(&self, query: &str, variables: Value) -> reqwest::RequestBuilder {
        self.query()
            .header("Origin", &self.base)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
    }

    /// Posts and expects HTTP 200 with a JSON body.
    async fn gql(&self, query: &str, variables: Value) -> Value {
        json_200(
            self.request(query, variables)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.login_post()
            .header("Origin", &self.base)
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    async fn trigger(&self, experiment: &str) -> Value {
        self.gql(RUN, trigger_of(experiment)).await
    }

    async fn trigger_ok(&self, experiment: &str) -> String {
        notify_id(&self.trigger(experiment).await)
    }

    /// One `getExperimentRun` poll that must succeed; returns the run.
    async fn poll(&self, notify: &str) -> Value {
        let body = self
            .gql(POLL, json!({ "projectID": PROJECT, "notifyID": notify }))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["getExperimentRun"].clone()
    }

    /// Polls the run `times` times; returns the last answer.
    async fn poll_times(&self, notify: &str, times: usize) -> Value {
        let mut last = Value::Null;
        for _ in 0..times {
            last = self.poll(notify).await;
        }
        last
    }
}

const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed";

#[tokio::test]
async fn login_hands_out_a_token_that_is_then_accepted() {
    let (sim, mut client) = start("").await;

    let response = client.login("admin", "litmus").await;
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert_eq!(
        body,
        json!({
            "accessToken": "sim-token-1",
            "projectID": PROJECT,
            "projectRole": "Owner",
            "expiresIn": 86400,
            "type": "Bearer",
        })
    );
    client.token = "sim-token-1".into();
    assert!(!client.trigger_ok("cart").await.is_empty());

    let bad = client.login("admin", "wrong").await;
    assert_eq!(bad.status(), 401);
    let body = json_of(bad).await;
    assert_eq!(
        body,
        json!({ "error": "invalid_credentials", "errorDescription": "Invalid Credentials" })
    );
    assert_eq!(client.login("nobody", "litmus").await.status(), 401);

    let post = |body: &'static str| {
        client
            .login_post()
            .header("Origin", &client.base)
            .body(body)
            .send()
    };
    for malformed in [
        "username=admin",
        "[]",
        r#"{"username": "admin", "password": "litmus", "remember": true}"#,
        r#"{"username": "admin", "password": 5}"#,
        r#"{"username": "admin", "password": ""}"#,
        r#"{"username": "  ", "password": "litmus"}"#,
    ] {
        let response = post(malformed).await.expect("send");
        assert_eq!(response.status(), 400, "{malformed}");
        let body = json_of(response).await;
        assert_eq!(
            body,
            json!({ "error": "invalid_request", "errorDescription": INVALID_REQUEST }),
            "{malformed}"
        );
    }
    // Keys of the auth server's user entity are known (and matched without
    // regard to case, as Go decodes JSON).
    let known = post(r#"{"Username": "admin", "password": "litmus", "email": ""}"#)
        .await
        .expect("send");
    assert_eq!(known.status(), 200);

    // The origin is checked on login too.
    for origin in [None, Some("http://evil.example")] {
        let mut request = client
            .login_post()
            .json(&json!({ "username": "admin", "password": "litmus" }));
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), 403, "{origin:?}");
        assert_eq!(
            response.json::<Value>().await.expect("json"),
            json!({ "error": "Invalid origin" })
        );
    }

    let ops = operations(&sim);
    assert_eq!(ops[..4], ["login", "runChaosExperiment", "login", "login"]);
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
    let (sim, client) = start("").await;
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

    // A missing or bad token is not an HTTP error: each resolver refuses
    // it with a GraphQL error, as ChaosCenter's auth server does.
    let denied =
        |reason: &str| format!("permission_denied: rpc error: code = Unknown desc = {reason}");
    let invalid_segments = denied("token contains an invalid number of segments");
    let cases = [
        (None, invalid_segments.clone()),
        (Some("Bearer nope".to_string()), invalid_segments.clone()),
        (
            Some("Bearer sim-token-1".to_string()),
            invalid_segments.clone(),
        ),
        (
            Some(format!("bearer {STATIC_TOKEN}")),
            invalid_segments.clone(),
        ),
        (
            Some("Bearer a.b.c".to_string()),
            denied("signature is invalid"),
        ),
    ];
    for (header, message) in cases {
        let mut request = client
            .http
            .post(&url)
            .header("Origin", &client.base)
            .json(&body);
        if let Some(header) = &header {
            request = request.header("Authorization", header);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), 200, "{header:?}");
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["data"], Value::Null, "{header:?}");
        assert_eq!(
            answer["errors"][0]["message"],
            message.as_str(),
            "{header:?}"
        );
        assert_eq!(answer["errors"][0]["path"], json!(["runChaosExperiment"]));
    }
    assert!(sim.runs().is_empty(), "refused requests start nothing");

    // A bare token (as litmusctl sends it) is accepted.
    let bare = client
        .http
        .post(&url)
        .header("Origin", &client.base)
        .header("Authorization", STATIC_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("send");
    let answer: Value = bare.json().await.expect("json");
    assert!(
        answer["data"]["runChaosExperiment"]["notifyID"].is_string(),
        "{answer}"
    );

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
        .request(RUN, trigger_of("cart"))
        .send()
        .await
        .expect("send");
    assert_eq!(own_url.status(), 403);
    let configured = client
        .query()
        .header("Origin", "https://chaos.example.com")
        .bearer_auth(STATIC_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(configured.status(), 200);
}

#[tokio::test]
async fn a_triggered_run_is_queued_at_once_without_a_run_id() {
    let (sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;
    assert_eq!(notify.len(), 36, "uuid-like: {notify}");

    // Before any poll the run already exists and shows its first phase.
    let runs = sim.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].notify_id.as_str(), runs[0].phase.as_str()),
        (notify.as_str(), "Queued")
    );
    assert!(runs[0].chaos_running && !runs[0].foreign);
    let with_data = "query Q($p: ID!, $n: ID) {
      getExperimentRun(projectID: $p, notifyID: $n) {
        experimentRunID experimentID phase resiliencyScore
        faultsPassed faultsFailed faultsAwaited faultsStopped faultsNa totalFaults
        executionData
      } }";
    let body = client
        .gql(with_data, json!({ "p": PROJECT, "n": notify }))
        .await;
    let mut run = body["data"]["getExperimentRun"].clone();
    let data = run
        .as_object_mut()
        .and_then(|o| o.remove("executionData"))
        .expect("executionData");
    assert_eq!(
        run,
        json!({
            "experimentRunID": "",
            "experimentID": "cart",
            "phase": "Queued",
            "resiliencyScore": 0.0,
            "faultsPassed": null, "faultsFailed": null, "faultsAwaited": null,
            "faultsStopped": null, "faultsNa": null, "totalFaults": null,
        })
    );
    // The trigger's execution data, as ChaosCenter writes it.
    let data: Value = serde_json::from_str(data.as_str().expect("string")).expect("JSON");
    assert_eq!(data["phase"], "Queued");
    assert_eq!(data["nodes"], Value::Null);
    assert_eq!(data["uid"], "");
    // The run cannot be found by the ID it will have yet.
    let by_run_id = "query Q($p: ID!, $r: ID) {
      getExperimentRun(projectID: $p, experimentRunID: $r) { phase experimentRunID } }";
    let body = client
        .gql(by_run_id, json!({ "p": PROJECT, "r": runs[0].run_id }))
        .await;
    assert_eq!(body["errors"][0]["message"], "no matching experiment run");

    // Once it leaves Queued it has its run ID, a score of 0 until it
    // finishes, and counters of 0.
    let run = client.poll(&notify).await;
    assert_eq!(run["phase"], "Pending");
    assert_eq!(run["experimentRunID"], runs[0].run_id.as_str());
    assert_eq!(run["resiliencyScore"], 0.0);
    assert_eq!(
        (&run["faultsPassed"], &run["totalFaults"]),
        (&json!(0), &json!(0))
    );
    let body = client
        .gql(by_run_id, json!({ "p": PROJECT, "r": runs[0].run_id }))
        .await;
    assert_eq!(
        body["data"]["getExperimentRun"]["phase"], "Running",
        "a poll by run ID counts too"
    );
    assert_eq!(sim.runs()[0].polls, 3);
}

#[tokio::test]
async fn phases_follow_the_scenario_and_the_score_comes_last() {
    let (sim, client) = start("").await;
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
            (json!("Queued"), json!(0.0)),
            (json!("Pending"), json!(0.0)),
            (json!("Running"), json!(0.0)),
            (json!("Completed_With_Probe_Failure"), json!(50.0)),
            (json!("Completed_With_Probe_Failure"), json!(50.0)),
        ]
    );
    assert!(!sim.runs()[0].chaos_running, "the run ended by itself");

    // A run whose script ends in a phase that is not terminal never gets
    // its score: ChaosCenter computes it on the completed event only.
    let endless = Simulator::start(scenario(
        "[[experiments]]\nid = \"endless\"\nphases = [\"Queued\", \"Running\"]\nresiliency_score = 80.0\n",
    ))
    .await
    .expect("start");
    let endless_client = Client::new(&endless);
    let notify_endless = endless_client.trigger_ok("endless").await;
    endless_client.poll(&notify_endless).await;
    for _ in 0..3 {
        let run = endless_client.poll(&notify_endless).await;
        assert_eq!(
            (&run["phase"], &run["resiliencyScore"]),
            (&json!("Running"), &json!(0.0))
        );
    }
    assert!(endless.runs()[0].chaos_running);
    let run = client.poll(&notify).await;
    let keys = sorted_keys(&run);
    let expected = sorted(&[
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
    ]);
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
    let mut verdicts: Vec<_> = engine_nodes(&run["executionData"])
        .iter()
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
    let (sim, client) = start(
        r#"
[[experiments]]
id = "lag"
unlisted_polls = 1
phases = ["Queued", "Running", "Completed"]
"#,
    )
    .await;

    let body = client
        .gql(POLL, json!({ "projectID": PROJECT, "notifyID": "nope" }))
        .await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "no matching experiment run");
    assert_eq!(body["errors"][0]["path"], json!(["getExperimentRun"]));

    let body = client.gql(POLL, json!({ "projectID": PROJECT })).await;
    assert_eq!(
        body["errors"][0]["message"], "experimentRunID or notifyID not provided",
        "{body}"
    );

    // unlisted_polls: not found on the first poll, which still counts.
    let notify = client.trigger_ok("lag").await;
    let body = client
        .gql(POLL, json!({ "projectID": PROJECT, "notifyID": notify }))
        .await;
    assert_eq!(body["errors"][0]["message"], "no matching experiment run");
    assert_eq!(client.poll(&notify).await["phase"], "Running");

    // Both given: both must match.
    let both = "query Q($p: ID!, $r: ID, $n: ID) {
      getExperimentRun(projectID: $p, experimentRunID: $r, notifyID: $n) { experimentID } }";
    let run_id = sim.runs()[0].run_id.clone();
    let body = client
        .gql(both, json!({ "p": PROJECT, "r": run_id, "n": "other" }))
        .await;
    assert_eq!(body["errors"][0]["message"], "no matching experiment run");
    let body = client
        .gql(both, json!({ "p": PROJECT, "r": run_id, "n": notify }))
        .await;
    assert_eq!(body["data"]["getExperimentRun"]["experimentID"], "lag");

    // Both empty: nothing narrows the match, and the newest run answers.
    client.trigger_ok("cart").await;
    let body = client
        .gql(both, json!({ "p": PROJECT, "r": "", "n": "" }))
        .await;
    assert_eq!(body["data"]["getExperimentRun"]["experimentID"], "cart");
}

#[tokio::test]
async fn trigger_errors_follow_the_scenario() {
    let (sim, client) = start(&trigger_errors()).await;

    let not_found = "could not get experiment run, error: mongo: no documents in result";
    let body = client.trigger("nope").await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], not_found);
    assert_eq!(body["errors"][0]["path"], json!(["runChaosExperiment"]));
    assert_eq!(
        client.trigger("gone").await["errors"][0]["message"],
        not_found
    );

    let body = client.trigger("offline").await;
    assert_eq!(
        body["errors"][0]["message"],
        "experiment re-run failed due to inactive infra"
    );
    assert_eq!(client.trigger_ok("nightly").await, "");

    let body = client
        .gql(
            RUN,
            json!({ "experimentID": "cart", "projectID": "other-project" }),
        )
        .await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        body["errors"][0]["message"],
        "permission_denied: rpc error: code = Unknown desc = auth gRPC - Unauthorized"
    );
    assert!(sim.runs().is_empty());
}

const STOP_BY_RUN: &str = "mutation S($p: ID!, $e: String!, $r: String) {
  stopExperimentRuns(projectID: $p, experimentID: $e, experimentRunID: $r) }";

impl Client {
    async fn stop_by_notify(&self, experiment: &str, notify: &str) -> Value {
        self.gql(
            STOP,
            json!({ "projectID": PROJECT, "experimentID": experiment, "notifyID": notify }),
        )
        .await
    }

    async fn stop_by_run(&self, experiment: &str, run_id: &str) -> Value {
        self.gql(
            STOP_BY_RUN,
            json!({ "p": PROJECT, "e": experiment, "r": run_id }),
        )
        .await
    }
}

const STOPPED: &str = r#"{"data":{"stopExperimentRuns":true}}"#;

fn stopped() -> Value {
    serde_json::from_str(STOPPED).expect("JSON")
}

#[tokio::test]
async fn a_stop_by_run_id_reaches_the_cluster() {
    let (sim, client) = start("").await;
    let notify = client.trigger_ok("cart").await;
    let other = client.trigger_ok("cart").await;
    client.poll(&notify).await;
    let run_id = run_id_in(&client.poll(&notify).await);

    assert_eq!(client.stop_by_run("cart", &run_id).await, stopped());
    for _ in 0..3 {
        let run = client.poll(&notify).await;
        assert_eq!(run["phase"], "Stopped");
        assert_eq!(run["resiliencyScore"], 0.0);
        assert_eq!(run["experimentRunID"], run_id.as_str());
    }
    let run = run_of(&sim, &notify);
    assert!(run.stopped && !run.chaos_running);
    let other = run_of(&sim, &other);
    assert!(!other.stopped && other.chaos_running, "only that run");
    let stop = request_for(&sim, "stopExperimentRuns");
    assert!(stop.notify_ids.is_empty());

    // A run ID nobody has stops nothing and is no error.
    assert_eq!(client.stop_by_run("cart", "unknown").await, stopped());
    let body = client.stop_by_run("nope", &run_id).await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        body["errors"][0]["message"],
        "mongo: no documents in result"
    );

    // From 3.29 on the server marks even a completed run Stopped; it keeps
    // its score.
    let done = client.trigger_ok("cart").await;
    let last = client.poll_times(&done, 4).await;
    assert_eq!(last["phase"], "Completed_With_Probe_Failure");
    let done_id = run_id_in(&last);
    assert_eq!(client.stop_by_run("cart", &done_id).await, stopped());
    let run = client.poll(&done).await;
    assert_eq!(
        (&run["phase"], &run["resiliencyScore"]),
        (&json!("Stopped"), &json!(50.0))
    );
}

#[tokio::test]
async fn from_3_31_a_stop_by_notify_id_alone_only_marks_the_database() {
    let (sim, client) = start_with("server_version = \"3.31.0\"", "").await;
    let notify = client.trigger_ok("cart").await;
    client.poll(&notify).await;
    client.poll(&notify).await;

    assert_eq!(client.stop_by_notify("cart", &notify).await, stopped());
    let run = client.poll(&notify).await;
    assert_eq!(run["phase"], "Stopped");
    let snapshot = run_of(&sim, &notify);
    assert!(snapshot.stopped);
    assert!(snapshot.chaos_running, "no stop reached the cluster");
    assert_eq!(client.stop_by_notify("cart", "unknown").await, stopped());

    // No ID at all: every Running, Timeout or Queued run of the
    // experiment, other people's included; a queued one (no run ID yet)
    // only in the database.
    let queued = client.trigger_ok("cart").await;
    let foreign = sim.start_foreign_run("cart").expect("foreign run");
    let all =
        "mutation S($p: ID!, $e: String!) { stopExperimentRuns(projectID: $p, experimentID: $e) }";
    let body = client.gql(all, json!({ "p": PROJECT, "e": "cart" })).await;
    assert_eq!(body, stopped());
    let foreign = run_of(&sim, &foreign.notify_id);
    assert!(foreign.stopped && !foreign.chaos_running);
    let queued = run_of(&sim, &queued);
    assert!(queued.stopped && queued.chaos_running);
    let body = client.gql(all, json!({ "p": PROJECT, "e": "cart" })).await;
    assert_eq!(
        body["errors"][0]["message"],
        "no running, timeout, or queued experiments found"
    );
}

#[tokio::test]
async fn before_3_31_a_stop_without_run_id_stops_every_running_run() {
    let (sim, client) = start_with("server_version = \"3.30.0\"", "").await;
    let body = client
        .gql("{ getServerVersion { key value } }", json!({}))
        .await;
    assert_eq!(
        body,
        json!({ "data": { "getServerVersion": { "key": "version", "value": "3.30.0" } } })
    );

    let mine = client.trigger_ok("cart").await;
    let foreign = sim.start_foreign_run("cart").expect("foreign run");
    // The notify ID is ignored: this stops the other user's run, not mine.
    assert_eq!(client.stop_by_notify("cart", &mine).await, stopped());
    let foreign = run_of(&sim, &foreign.notify_id);
    assert!(foreign.stopped && !foreign.chaos_running);
    let snapshot = run_of(&sim, &mine);
    assert!(!snapshot.stopped && snapshot.chaos_running);
    assert_eq!(client.poll(&mine).await["phase"], "Queued");

    // Mine is not Running yet (Queued, then Pending): nothing to stop.
    let body = client.stop_by_notify("cart", &mine).await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(
        body["errors"][0]["message"],
        "no running or timeout experiments found"
    );
    // An empty run ID names no run and stops nothing.
    assert_eq!(client.stop_by_run("cart", "").await, stopped());
    assert!(!run_of(&sim, &mine).stopped);

    client.poll(&mine).await;
    assert_eq!(client.poll(&mine).await["phase"], "Running");
    assert_eq!(client.stop_by_notify("cart", &mine).await, stopped());
    assert_eq!(client.poll(&mine).await["phase"], "Stopped");
    assert!(!run_of(&sim, &mine).chaos_running);
}

#[tokio::test]
async fn before_3_29_the_phase_follows_a_stop_on_the_next_poll() {
    let (sim, client) = start_with("server_version = \"3.1.0\"", "").await;
    let notify = client.trigger_ok("cart").await;
    client.poll(&notify).await;
    let run_id = run_id_in(&client.poll(&notify).await);
    assert_eq!(client.stop_by_run("cart", &run_id).await, stopped());
    let snapshot = run_of(&sim, &notify);
    assert!(!snapshot.stopped && !snapshot.chaos_running);
    assert_eq!(
        snapshot.phase, "Pending",
        "the cluster has not reported yet"
    );
    let run = client.poll(&notify).await;
    assert_eq!(run["phase"], "Stopped");
    assert_eq!(
        (&run["faultsStopped"], &run["totalFaults"]),
        (&json!(2), &json!(2))
    );

    // A run that had completed stays completed.
    let done = client.trigger_ok("cart").await;
    let last = client.poll_times(&done, 4).await;
    let done_id = run_id_in(&last);
    assert_eq!(client.stop_by_run("cart", &done_id).await, stopped());
    assert_eq!(
        client.poll(&done).await["phase"],
        "Completed_With_Probe_Failure"
    );
}

#[tokio::test]
async fn get_experiment_describes_the_stored_experiment() {
    let (sim, client) = start(OFFLINE_AND_GONE).await;
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
    let gone = get("gone").await;
    assert_eq!(gone["data"], Value::Null);
    assert_eq!(gone["errors"][0]["message"], "no matching experiments");
    assert_eq!(
        get("offline").await["data"]["getExperiment"]["experimentDetails"]["infra"]["isActive"],
        false
    );
    let unknown = get("nope").await;
    assert_eq!(unknown["data"], Value::Null);
    assert_eq!(unknown["errors"][0]["message"], "no matching experiments");

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
    let (sim, client) = start("").await;
    let send = |query: &str, variables: Value| client.request(query, variables).send();

    let unknown_field = "query Q($projectID: ID!, $notifyID: ID) {
      getExperimentRun(projectID: $projectID, notifyID: $notifyID) { phaze } }";
    let response = send(
        unknown_field,
        json!({ "projectID": PROJECT, "notifyID": "x" }),
    )
    .await
    .expect("send");
    common::assert_validation_failed(response, "phaze").await;

    // A Harness document is not a Litmus one.
    let harness = "query L($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
      listWorkflowRun(identifiers: $identifiers, request: $request) { totalNoOfWorkflowRuns } }";
    assert_eq!(send(harness, json!({})).await.expect("send").status(), 422);

    let response = send("query { getExperimentRun(", json!({}))
        .await
        .expect("send");
    assert_eq!(response.status(), 422);
    let body = json_of(response).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );

    // `projectID` is an ID!, so a String! variable does not fit it.
    let wrong_type = "mutation R($experimentID: String!, $projectID: String!) {
      runChaosExperiment(experimentID: $experimentID, projectID: $projectID) { notifyID } }";
    let response = send(wrong_type, trigger_of("cart")).await.expect("send");
    assert_eq!(response.status(), 422);

    // A required variable missing.
    let response = send(RUN, json!({ "experimentID": "cart" }))
        .await
        .expect("send");
    assert_eq!(response.status(), 422);

    let not_json = client
        .query()
        .header("Origin", &client.base)
        .bearer_auth(STATIC_TOKEN)
        .header("content-type", "text/plain")
        .body(RUN)
        .send()
        .await
        .expect("send");
    common::assert_refused_but_recorded(&not_json, &sim, "getExperimentRun");

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
    let (sim, client) = start(
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
    )
    .await;
    let notify = client.trigger_ok("cart").await;

    for _ in 0..2 {
        let response = client
            .request(POLL, json!({ "projectID": PROJECT, "notifyID": notify }))
            .send()
            .await
            .expect("send");
        common::assert_unavailable_for_1s(&response);
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
        .request(RUN, trigger_of("cart"))
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

const LIST: &str = "query L($projectID: ID!, $request: ListExperimentRunRequest!) {
  listExperimentRun(projectID: $projectID, request: $request) {
    totalNoOfExperimentRuns
    experimentRuns { experimentRunID experimentID notifyID phase createdAt runSequence createdBy { username } }
  } }";

#[tokio::test]
async fn a_dropped_trigger_is_found_by_listing_the_runs() {
    let (sim, client) = start(DROPPED_TRIGGER_WITH_EFFECT).await;
    let before = now_unix_ms();
    let error = client
        .request(RUN, trigger_of("cart"))
        .send()
        .await
        .expect_err("the connection is closed without a response");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
    let runs = sim.runs();
    assert_eq!(runs.len(), 1, "the run was created before the drop");

    let second = client.trigger_ok("cart").await;
    let body = client
        .gql(
            LIST,
            json!({ "projectID": PROJECT, "request": { "experimentIDs": ["cart"] } }),
        )
        .await;
    let listed = &body["data"]["listExperimentRun"];
    assert_eq!(listed["totalNoOfExperimentRuns"], 2);
    // Newest first; never a notify ID or a creator in a listing.
    let all = listed["experimentRuns"].as_array().expect("list");
    assert!(
        all.iter()
            .all(|r| r["notifyID"].is_null() && r["createdBy"].is_null())
    );
    assert_eq!(all[1]["runSequence"], 1);
    assert_eq!(all[0]["runSequence"], 2);
    // The lost run is found by its experiment and creation time (Unix ms).
    let created: u64 = all[1]["createdAt"]
        .as_str()
        .expect("string")
        .parse()
        .expect("Unix milliseconds");
    assert!(created >= before, "{created} >= {before}");
    assert_eq!(all[1]["phase"], "Queued");
    assert_eq!(all[1]["experimentRunID"], "", "no run ID while Queued");

    // Listing counts a poll for each run listed, so following a run by
    // listing sees it move on and get its run ID.
    let body = client
        .gql(
            LIST,
            json!({ "projectID": PROJECT, "request": { "experimentIDs": ["cart"] } }),
        )
        .await;
    let lost = &body["data"]["listExperimentRun"]["experimentRuns"][1];
    assert_eq!(lost["phase"], "Pending");
    assert_eq!(lost["experimentRunID"], runs[0].run_id.as_str());
    assert!(sim.runs().iter().all(|r| r.polls == 2));

    let page = client
        .gql(
            LIST,
            json!({ "projectID": PROJECT, "request": {
                "pagination": { "page": 1, "limit": 1 },
                "sort": { "field": "TIME", "ascending": true },
            } }),
        )
        .await;
    let page = &page["data"]["listExperimentRun"];
    assert_eq!(page["totalNoOfExperimentRuns"], 2);
    assert_eq!(page["experimentRuns"].as_array().expect("list").len(), 1);
    assert_eq!(page["experimentRuns"][0]["runSequence"], 2);
    assert_eq!(run_of(&sim, &second).notify_id, second);
}

#[tokio::test]
async fn listings_are_cut_at_15_and_miss_new_runs_for_unlisted_lists() {
    let (sim, client) = start(
        r#"
[[experiments]]
id = "late"
unlisted_lists = 2
"#,
    )
    .await;
    for _ in 0..16 {
        client.trigger_ok("cart").await;
    }
    let body = client
        .gql(LIST, json!({ "projectID": PROJECT, "request": {} }))
        .await;
    let listed = &body["data"]["listExperimentRun"];
    assert_eq!(listed["totalNoOfExperimentRuns"], 16);
    assert_eq!(listed["experimentRuns"].as_array().expect("list").len(), 15);

    let late = client.trigger_ok("late").await;
    let request = json!({ "projectID": PROJECT, "request": { "experimentIDs": ["late"] } });
    for _ in 0..2 {
        let body = client.gql(LIST, request.clone()).await;
        assert_eq!(
            body["data"]["listExperimentRun"]["totalNoOfExperimentRuns"],
            0
        );
    }
    assert_eq!(run_of(&sim, &late).polls, 0, "a hidden run counts no poll");
    // getExperimentRun finds it all along.
    assert_eq!(client.poll(&late).await["experimentID"], "late");
    let body = client.gql(LIST, request).await;
    assert_eq!(
        body["data"]["listExperimentRun"]["totalNoOfExperimentRuns"],
        1
    );
}

#[tokio::test]
async fn tokens_expire_after_their_requests_and_a_login_renews() {
    let (sim, mut client) = start_with(
        "token_valid_requests = 2\nrevoked_tokens = [\"old-token\"]",
        "",
    )
    .await;
    let expired = "permission_denied: rpc error: code = Unknown desc = Token is expired";
    client.trigger_ok("cart").await;
    client.trigger_ok("cart").await;
    let body = client.trigger("cart").await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], expired);

    let login: Value = client
        .login("admin", "litmus")
        .await
        .json()
        .await
        .expect("json");
    client.token = login["accessToken"].as_str().expect("token").to_string();
    client.trigger_ok("cart").await;
    client.trigger_ok("cart").await;
    assert_eq!(
        client.trigger("cart").await["errors"][0]["message"],
        expired
    );
    assert_eq!(sim.runs().len(), 4);

    // getServerVersion needs no token at all.
    client.token = String::new();
    let body = client
        .gql("{ getServerVersion { key value } }", json!({}))
        .await;
    assert_eq!(body["data"]["getServerVersion"]["value"], "3.31.0");

    // A revoked token is the one HTTP 401, in plain text.
    client.token = "old-token".into();
    let response = client
        .request(RUN, trigger_of("cart"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.text().await.expect("text"),
        "Error verifying JWT token: Token is revoked"
    );
}

#[tokio::test]
async fn a_foreign_run_is_running_with_its_run_id_until_stopped() {
    let (sim, client) = start("").await;
    assert!(sim.start_foreign_run("nope").is_none());
    let foreign = sim.start_foreign_run("cart").expect("foreign run");
    assert!(foreign.foreign && foreign.chaos_running);
    for _ in 0..6 {
        let run = client.poll(&foreign.notify_id).await;
        assert_eq!(run["phase"], "Running");
        assert_eq!(run["experimentRunID"], foreign.run_id.as_str());
    }
    assert_eq!(client.stop_by_run("cart", &foreign.run_id).await, stopped());
    let after = run_of(&sim, &foreign.notify_id);
    assert!(after.stopped && !after.chaos_running);
}
