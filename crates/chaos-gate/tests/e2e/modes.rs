//! The modes of one gate (README "Settings" to README "Phases and verdicts"), on both platforms: several
//! experiments at once, attaching to a run started elsewhere, and dry runs.

use serde_json::{Value, json};

use crate::common::*;

/// Starts a run behind the gate's back, as a retried job or another tool
/// would, and returns its notify ID.
pub async fn start_elsewhere(sim: &chaos_sim::Simulator, experiment: &str, litmus: bool) -> String {
    let client = reqwest::Client::new();
    let request = if litmus {
        client
            .post(format!("{}/api/query", sim.url()))
            .header("Origin", sim.url())
            .bearer_auth(LITMUS_TOKEN)
            .body(json!({
                "query": "mutation($e: String!, $p: ID!) { runChaosExperiment(experimentID: $e, projectID: $p) { notifyID } }",
                "variables": {"e": experiment, "p": PROJECT}
            }).to_string())
    } else {
        client
            .post(format!("{}/gateway/chaos/manager/api/query?accountIdentifier={ACCOUNT}", sim.url()))
            .header("x-api-key", API_KEY)
            .header("Harness-Account", ACCOUNT)
            .body(json!({
                "query": "mutation($w: String!, $i: IdentifiersRequest!) { runChaosExperiment(workflowID: $w, identifiers: $i) { notifyID } }",
                "variables": {"w": experiment, "i": {"orgIdentifier": "default", "accountIdentifier": ACCOUNT, "projectIdentifier": PROJECT}}
            }).to_string())
    };
    let bytes = request
        .header("Content-Type", "application/json")
        .send()
        .await
        .expect("sent")
        .bytes()
        .await
        .expect("body");
    let answer: Value = serde_json::from_slice(&bytes).expect("JSON");
    answer["data"]["runChaosExperiment"]["notifyID"]
        .as_str()
        .unwrap_or_else(|| panic!("no notify ID: {answer}"))
        .to_string()
}

fn light_polls(sim: &chaos_sim::Simulator) -> Vec<chaos_sim::RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| {
            r.operation.as_deref() == Some("listWorkflowRun") && !r.body.contains("executionData")
        })
        .collect()
}

#[tokio::test]
async fn fifty_harness_experiments_share_one_status_request_per_poll() {
    let ids: Vec<String> = (0..50).map(uuid).collect();
    let body: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let score = if i == 17 { 70.0 } else { 95.0 };
            experiment(
                id,
                &["Queued", "Running", "Running", "Completed"],
                Some(score),
            )
        })
        .collect();
    let sim = sim(&body).await;
    let gate = Gate::new(&sim, &ids.join(","))
        .env("CHAOS_GATE_EXPECTED_RESILIENCE_SCORE", "90")
        .env("CHAOS_GATE_POLL_INTERVAL", "0.2");
    let run = gate.path_env("GITHUB_OUTPUT", "out").run().await;
    run.assert_code(1);
    assert_eq!(count(&sim, "runChaosExperiment"), 50);
    let polls = light_polls(&sim);
    assert!(
        (4..=6).contains(&polls.len()),
        "{} status requests for 4 polls",
        polls.len()
    );
    for p in &polls {
        let body: Value = serde_json::from_str(&p.body).expect("JSON");
        assert_eq!(
            body["variables"]["r"]["notifyIDs"].as_array().map(Vec::len),
            Some(50)
        );
    }
    let xml = run.junit().expect("JUnit");
    assert_valid_junit(&xml);
    assert_eq!(
        xml.matches("<testcase name=\"00000000-0000-4000-8000-")
            .count(),
        50
    );
    let text = run.read("out");
    assert!(
        text.contains("resilience_score=70\n"),
        "the lowest score: {text}"
    );
    let results = text
        .lines()
        .find_map(|l| l.strip_prefix("results="))
        .expect("results");
    let results: Value = serde_json::from_str(results).expect("JSON");
    assert_eq!(results.as_array().map(Vec::len), Some(50));
    assert_eq!(results[17]["verdict"], "fail");
}

#[tokio::test]
async fn litmus_experiments_are_watched_together() {
    let body = format!(
        "{}{}",
        experiment("a", &["Queued", "Running", "Completed"], Some(100.0)),
        experiment("b", &["Queued", "Completed"], Some(100.0))
    );
    let sim = litmus_sim(&body).await;
    let run = Gate::litmus(&sim, "a,b").run().await;
    run.assert_code(0);
    assert_eq!(count(&sim, "runChaosExperiment"), 2);
    assert!(run.stdout.contains("triggered a:") && run.stdout.contains("triggered b:"));
}

#[tokio::test]
async fn attach_watches_a_harness_run_without_triggering() {
    let sim = sim(&experiment(
        "exp",
        &["Running", "Running", "Completed"],
        Some(100.0),
    ))
    .await;
    let notify = start_elsewhere(&sim, "exp", false).await;
    let run = Gate::new(&sim, "exp")
        .env("CHAOS_GATE_NOTIFY_ID", &notify)
        .run()
        .await;
    run.assert_code(0);
    assert_eq!(
        count(&sim, "runChaosExperiment"),
        1,
        "only the run started elsewhere"
    );
    assert!(
        run.stdout
            .contains(&format!("watching the run of exp with notify ID {notify}"))
    );
}

#[tokio::test]
async fn attach_without_experiment_id_learns_it_from_the_platform() {
    let sim = sim(&experiment("exp", &["Running", "Completed"], Some(40.0))).await;
    let notify = start_elsewhere(&sim, "exp", false).await;
    let gate = Gate::new(&sim, "")
        .without("CHAOS_GATE_EXPERIMENT_ID")
        .env("CHAOS_GATE_NOTIFY_ID", &notify);
    let run = gate.path_env("GITHUB_OUTPUT", "out").run().await;
    run.assert_code(1);
    let text = run.read("out");
    assert!(text.contains(&format!("notify_ids={notify}\n")), "{text}");
    assert!(text.contains("\"experiment_id\":\"exp\""), "{text}");
}

#[tokio::test]
async fn an_attached_run_is_stopped_on_timeout() {
    let sim = sim(&experiment("slow", &["Running"], None)).await;
    let notify = start_elsewhere(&sim, "slow", false).await;
    let run = Gate::new(&sim, "")
        .without("CHAOS_GATE_EXPERIMENT_ID")
        .env("CHAOS_GATE_NOTIFY_ID", &notify)
        .env("CHAOS_GATE_TIMEOUT", "1")
        .run()
        .await;
    run.assert_code(4);
    assert!(
        sim.runs()[0].stopped,
        "stopped with the experiment ID the platform named"
    );
}

#[tokio::test]
async fn attach_works_on_litmus() {
    let sim = litmus_sim(&experiment("exp", &["Running", "Completed"], Some(100.0))).await;
    let notify = start_elsewhere(&sim, "exp", true).await;
    let run = Gate::litmus(&sim, "exp")
        .env("CHAOS_GATE_NOTIFY_ID", &notify)
        .run()
        .await;
    run.assert_code(0);
    assert_eq!(count(&sim, "runChaosExperiment"), 1);
}

const DRY: &str = r#"
[[experiments]]
id = "ready"
name = "Ready to run"

[[experiments]]
id = "gone"
removed = true

[[experiments]]
id = "idle"
infra_active = false
"#;

/// The gate, as a dry run.
fn dry(gate: Gate) -> Gate {
    gate.env("CHAOS_GATE_DRY_RUN", "true")
}

fn triggered(sim: &chaos_sim::Simulator) -> usize {
    count(sim, "runChaosExperiment")
}

/// Dry runs that must be refused: one per (experiment, what it says),
/// each with exit 2, made by `gate`; then `wrong_credential`, with exit 3.
/// None of them triggers anything.
async fn refused_dry_runs(
    sim: &chaos_sim::Simulator,
    refusals: [(&str, &str); 3],
    gate: impl Fn(&str) -> Gate,
    wrong_credential: Gate,
) {
    for (exp, says) in refusals {
        let run = dry(gate(exp)).run().await;
        run.assert_code(2);
        assert!(run.stdout.contains(says), "{exp}: {}", run.stdout);
    }
    let refused = dry(wrong_credential).run().await;
    refused.assert_code(3);
    assert_eq!(triggered(sim), 0, "a dry run triggers nothing");
}

#[tokio::test]
async fn a_harness_dry_run_checks_and_triggers_nothing() {
    let sim = sim(DRY).await;
    let ok = dry(Gate::new(&sim, "ready")).run().await;
    ok.assert_code(0);
    ok.assert_stdout_has("ready (Ready to run): exists and can run");
    ok.assert_stdout_has("Dry run passed");
    // These names are identities (not UUIDs): looked up with
    // listWorkflow(identities), which lists removed experiments too.
    refused_dry_runs(
        &sim,
        [
            ("missing", "missing was not found"),
            // Harness's listWorkflow keeps a removed experiment (isRemoved).
            ("gone", "gone has been removed"),
            ("idle", "is not active"),
        ],
        |exp| Gate::new(&sim, &format!("ready,{exp}")),
        Gate::new(&sim, "ready").env("CHAOS_GATE_API_KEY", "wrong"),
    )
    .await;
}

#[tokio::test]
async fn a_litmus_dry_run_checks_and_triggers_nothing() {
    let sim = litmus_sim(DRY).await;
    dry(Gate::litmus(&sim, "ready")).run().await.assert_code(0);
    refused_dry_runs(
        &sim,
        [
            ("missing", "missing was not found"),
            // ChaosCenter filters a removed experiment out: it is not found.
            ("gone", "gone was not found"),
            ("idle", "is not active"),
        ],
        |exp| Gate::litmus(&sim, exp),
        Gate::litmus(&sim, "ready").env("CHAOS_GATE_PASSWORD", "wrong"),
    )
    .await;
}
