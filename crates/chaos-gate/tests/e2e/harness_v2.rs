//! Harness REST v2 end to end (issue 16): runtime inputs (inline, from a
//! file, over an input set), the dry run's check of declared inputs,
//! experiments named by identity (trigger, poll, stop, link), and probe
//! results in the JUnit report, the step summary and `require_probes`.

use serde_json::{Value, json};

use crate::common::*;

const UUID: &str = "5b1c7e2a-8d4f-4c3b-9a61-0f2e3d4c5b6a";
const UUID2: &str = "7c2d8f3b-9e5a-4d4c-8b72-1a3f4e5d6c7b";
const IDENTITY: &str = "checkout-pod-delete";

/// An experiment with an ID, an identity, declared inputs, an input set and
/// probes on its fault.
fn v2_experiment(id: &str, identity: &str, phases: &[&str], score: f64, probes: &str) -> String {
    let phases: Vec<String> = phases.iter().map(|p| format!("{p:?}")).collect();
    format!(
        r#"[[experiments]]
id = "{id}"
identity = "{identity}"
phases = [{phases}]
resiliency_score = {score:?}

[[experiments.variables]]
name = "TARGET_NAMESPACE"
required = true

[[experiments.variables]]
name = "REPLICAS"
default = "1"

[[experiments.variables]]
name = "CHAOS_DURATION"
task = "pod-delete-0ef"
required = true
default = "30"

[[experiments.input_sets]]
identity = "staging"
values = {{ TARGET_NAMESPACE = "staging", REPLICAS = "2" }}

[[experiments.faults]]
name = "pod-delete-0ef"
verdict = "Pass"
probe_success_percentage = "100"
{probes}
"#,
        phases = phases.join(", ")
    )
}

/// A simulator serving the experiment UUID (identity IDENTITY) with
/// these phases, a score of 100 and these probes.
async fn v2_sim(phases: &[&str], probes: &str) -> chaos_sim::Simulator {
    sim(&v2_experiment(UUID, IDENTITY, phases, 100.0, probes)).await
}

fn probe(name: &str, mode: &str, verdict: &str, description: &str) -> String {
    format!(
        "[[experiments.faults.probes]]\nname = {name:?}\nmode = {mode:?}\nverdict = {verdict:?}\ndescription = {description:?}\n"
    )
}

fn passing_probe() -> String {
    probe("http-ok", "Continuous", "Passed", "200 OK")
}

#[tokio::test]
async fn inline_runtime_inputs_go_with_the_rest_v2_run() {
    let sim = v2_sim(&["Running", "Completed"], &passing_probe()).await;
    let run = Gate::new(&sim, UUID)
        .env(
            "CHAOS_GATE_RUNTIME_INPUTS",
            "TARGET_NAMESPACE: shop\ntasks:\n  pod-delete-0ef:\n    CHAOS_DURATION: \"60\"\n",
        )
        .run()
        .await;
    run.assert_code(0);
    assert_eq!(count(&sim, "runChaosExperiment"), 0, "inputs need REST v2");
    let trigger = only_request(&sim, "runChaosV2Experiment");
    assert_eq!(
        trigger.path,
        format!("/gateway/chaos/manager/api/rest/v2/experiments/{UUID}/run")
    );
    assert_eq!(
        query_param(&trigger, "isIdentity").as_deref(),
        Some("false")
    );
    assert_eq!(
        query_param(&trigger, "isOnboardingRun").as_deref(),
        Some("false")
    );
    assert_eq!(
        query_param(&trigger, "accountIdentifier").as_deref(),
        Some(ACCOUNT)
    );
    assert_eq!(
        request_body(&trigger),
        json!({"runtimeInputs": {
            "experiment": [{"name": "TARGET_NAMESPACE", "value": "shop"}],
            "tasks": {"pod-delete-0ef": [{"name": "CHAOS_DURATION", "value": "60"}]}}})
    );
    let runs = sim.runs();
    assert_eq!(
        runs[0].inputs,
        Some(
            json!({"experiment": {"TARGET_NAMESPACE": "shop"}, "tasks": {"pod-delete-0ef": {"CHAOS_DURATION": "60"}}})
        )
    );
}

#[tokio::test]
async fn runtime_inputs_from_a_file() {
    let sim = v2_sim(&["Completed"], &passing_probe()).await;
    let gate = Gate::new(&sim, UUID);
    let path = gate.path("inputs.json");
    std::fs::write(&path, r#"{"TARGET_NAMESPACE": "from-file", "REPLICAS": 3}"#).unwrap();
    let run = gate
        .env("CHAOS_GATE_RUNTIME_INPUTS", &format!("@{}", path.display()))
        .run()
        .await;
    run.assert_code(0);
    let inputs = sim.runs()[0].inputs.clone().unwrap();
    assert_eq!(inputs["experiment"]["TARGET_NAMESPACE"], "from-file");
    assert_eq!(inputs["experiment"]["REPLICAS"], 3);
}

#[tokio::test]
async fn an_input_set_and_inputs_that_override_it() {
    // The input set alone: sent by its identity.
    let sim1 = v2_sim(&["Completed"], &passing_probe()).await;
    let run = Gate::new(&sim1, UUID)
        .env("CHAOS_GATE_INPUT_SET", "staging")
        .run()
        .await;
    run.assert_code(0);
    let trigger = only_request(&sim1, "runChaosV2Experiment");
    assert_eq!(
        request_body(&trigger),
        json!({"inputsetIdentity": "staging"})
    );
    assert_eq!(
        sim1.runs()[0].inputs.as_ref().unwrap()["experiment"]["TARGET_NAMESPACE"],
        "staging"
    );

    // With an override: Harness ignores the set when runtimeInputs is sent,
    // so the gate reads the set and merges.
    let sim2 = v2_sim(&["Completed"], &passing_probe()).await;
    let run = Gate::new(&sim2, UUID)
        .env("CHAOS_GATE_INPUT_SET", "staging")
        .env("CHAOS_GATE_RUNTIME_INPUTS", "REPLICAS: \"5\"")
        .run()
        .await;
    run.assert_code(0);
    assert_eq!(count(&sim2, "getInputSet"), 1);
    let inputs = sim2.runs()[0].inputs.clone().unwrap();
    assert_eq!(
        inputs["experiment"]["TARGET_NAMESPACE"], "staging",
        "from the set"
    );
    assert_eq!(inputs["experiment"]["REPLICAS"], "5", "overridden");
}

#[tokio::test]
async fn the_dry_run_catches_a_missing_required_input() {
    let sim = v2_sim(&["Completed"], "").await;
    let run = Gate::new(&sim, UUID)
        .env("CHAOS_GATE_DRY_RUN", "true")
        .env("CHAOS_GATE_RUNTIME_INPUTS", "REPLICAS: 2")
        .run()
        .await;
    run.assert_code(2);
    run.assert_output_has("required runtime input TARGET_NAMESPACE has no value");
    assert_eq!(count(&sim, "getChaosV2ExperimentVariables"), 1);
    assert!(sim.runs().is_empty(), "nothing ran");
    // Without the dry run the platform refuses the run the same way.
    let run = Gate::new(&sim, UUID)
        .env("CHAOS_GATE_RUNTIME_INPUTS", "REPLICAS: 2")
        .run()
        .await;
    run.assert_output_has("TARGET_NAMESPACE");
    assert!(sim.runs().is_empty());
}

#[tokio::test]
async fn the_dry_run_names_an_undeclared_input() {
    let sim = v2_sim(&["Completed"], "").await;
    let run = Gate::new(&sim, IDENTITY)
        .env("CHAOS_GATE_DRY_RUN", "true")
        .env(
            "CHAOS_GATE_RUNTIME_INPUTS",
            "TARGET_NAMESPACE: shop\nTARGET_NAMESPCE: typo\ntasks:\n  pod-delete-0ef:\n    FORCE: true\n",
        )
        .run()
        .await;
    run.assert_code(0);
    let out = run.output();
    assert!(
        out.contains("runtime input TARGET_NAMESPCE is not declared"),
        "{out}"
    );
    assert!(
        out.contains("input FORCE of task pod-delete-0ef is not declared"),
        "{out}"
    );
    assert!(!out.contains("TARGET_NAMESPACE is not declared"), "{out}");
    let vars = only_request(&sim, "getChaosV2ExperimentVariables");
    assert_eq!(query_param(&vars, "isIdentity").as_deref(), Some("true"));
}

#[tokio::test]
async fn an_identity_is_triggered_polled_stopped_and_linked_by_the_experiments_id() {
    let sim = v2_sim(&["Running"], "").await;
    let run = Gate::new(&sim, IDENTITY)
        .env("CHAOS_GATE_RUNTIME_INPUTS", "TARGET_NAMESPACE: shop")
        .env("CHAOS_GATE_TIMEOUT", "2")
        .run()
        .await;
    run.assert_code(4);
    let trigger = only_request(&sim, "runChaosV2Experiment");
    assert_eq!(
        trigger.path,
        format!("/gateway/chaos/manager/api/rest/v2/experiments/{IDENTITY}/run")
    );
    assert_eq!(query_param(&trigger, "isIdentity").as_deref(), Some("true"));
    let snapshot = &sim.runs()[0];
    // Polled by notify ID in listWorkflowRun, as for an ID.
    let polls = requests_of(&sim, "listWorkflowRun");
    assert!(!polls.is_empty());
    assert!(
        polls
            .iter()
            .all(|p| p.notify_ids == [snapshot.notify_id.clone()])
    );
    // The stop names the experiment's ID (learnt from the poll), the run ID
    // and the notify ID.
    let stop = only_request(&sim, "stop");
    assert_eq!(
        stop.path,
        format!("/gateway/chaos/manager/api/rest/v2/experiment/{UUID}/stop")
    );
    assert_eq!(
        query_param(&stop, "experimentRunId"),
        Some(snapshot.run_id.clone())
    );
    assert_eq!(
        query_param(&stop, "notifyId"),
        Some(snapshot.notify_id.clone())
    );
    assert_eq!(
        query_param(&stop, "force"),
        None,
        "never a records-only stop"
    );
    assert!(snapshot.stopped && !snapshot.chaos_running);
    assert!(
        run.output()
            .contains(&format!("/experiments/{UUID}/runs/{}", snapshot.run_id)),
        "the link names the ID: {}",
        run.output()
    );
}

#[tokio::test]
async fn plain_ids_without_inputs_keep_the_graphql_trigger() {
    let sim = v2_sim(&["Completed"], &passing_probe()).await;
    let run = Gate::new(&sim, UUID)
        .env("CHAOS_GATE_RUNTIME_INPUTS", "")
        .run()
        .await;
    // The required input has no value: GraphQL runs with the experiment's
    // stored values, which the simulator does not check.
    run.assert_code(0);
    assert_eq!(count(&sim, "runChaosExperiment"), 1);
    assert_eq!(count(&sim, "runChaosV2Experiment"), 0);
}

#[tokio::test]
async fn probe_results_become_test_cases_rows_and_evidence() {
    let probes = [
        probe("http-ok", "Continuous", "Passed", "200 OK"),
        probe("latency-slo", "Edge", "Failed", "p99 1.8s > 500ms <b>"),
        probe(
            "cmd-check",
            "EOT",
            "N/A",
            "Either probe is not executed or not evaluated",
        ),
    ]
    .concat();
    let body = [
        v2_experiment(UUID, IDENTITY, &["Running", "Completed"], 100.0, &probes),
        v2_experiment(
            UUID2,
            "cart-latency",
            &["Running", "Completed"],
            40.0,
            &probes,
        ),
    ]
    .concat();
    let sim = sim(&body).await;
    let gate = Gate::new(&sim, &format!("{IDENTITY},{UUID2}"))
        .env("CHAOS_GATE_RUNTIME_INPUTS", "TARGET_NAMESPACE: shop")
        .env("GITHUB_ACTIONS", "true");
    let summary = gate.path("summary.md");
    let run = gate
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .run()
        .await;
    run.assert_code(1);
    // Several experiments with inputs: one status request per poll for
    // all the runs still going (both, until they finish together).
    let both: Vec<String> = sim.runs().iter().map(|r| r.notify_id.clone()).collect();
    let polls: Vec<_> = requests_of(&sim, "listWorkflowRun")
        .into_iter()
        .filter(|p| !p.body.contains("executionData"))
        .collect();
    assert!(
        !polls.is_empty() && polls.len() <= 3,
        "{} polls",
        polls.len()
    );
    let mut first = polls[0].notify_ids.clone();
    first.sort();
    let mut want = both.clone();
    want.sort();
    assert_eq!(first, want, "one poll names every run");
    // Probe results read once, for both runs.
    let reads = requests_of(&sim, "getProbesInExperiment");
    assert_eq!(reads.len(), 1, "{reads:?}");
    let mut asked: Vec<String> = body_notify_ids(&reads[0]);
    asked.sort();
    let mut want = both.clone();
    want.sort();
    assert_eq!(asked, want);

    let xml = run.junit().expect("junit");
    assert_valid_junit(&xml);
    // Under the passing run the failed probe passes, saying the score
    // tolerated it; under the failing run it is a failure.
    let passing = case(&xml, IDENTITY, "pod-delete-0ef / probe latency-slo");
    assert!(!passing.contains("<failure"), "{passing}");
    assert!(passing.contains("tolerated this probe"), "{passing}");
    assert!(passing.contains("mode Edge"), "{passing}");
    assert!(
        passing.contains("p99 1.8s &gt; 500ms &lt;b&gt;"),
        "{passing}"
    );
    let failing = case(&xml, UUID2, "pod-delete-0ef / probe latency-slo");
    assert!(failing.contains("<failure"), "{failing}");
    let unevaluated = case(&xml, IDENTITY, "pod-delete-0ef / probe cmd-check");
    assert!(unevaluated.contains("<skipped"), "{unevaluated}");
    let ok = case(&xml, IDENTITY, "pod-delete-0ef / probe http-ok");
    assert!(!ok.contains("<failure") && !ok.contains("<skipped"), "{ok}");

    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| Experiment | Fault | Probe | Mode | Verdict | Description |"),
        "{md}"
    );
    assert!(md.contains("| latency-slo | Edge | Failed |"), "{md}");
    // The console's final table shows the probes under their fault.
    run.assert_stdout_has("probe latency-slo");
}

fn body_notify_ids(r: &chaos_sim::RecordedRequest) -> Vec<String> {
    serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null)["notifyIds"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The `<testcase>` element of `name` under experiment `exp`, up to the
/// next test case.
fn case(xml: &str, exp: &str, name: &str) -> String {
    let open = format!("<testcase name=\"{name}\" classname=\"chaos-gate.{exp}\"");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no test case {open}\n{xml}"));
    let rest = &xml[start..];
    let end = rest[1..]
        .find("<testcase")
        .map(|e| e + 1)
        .or_else(|| rest.find("</testsuite>"))
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

#[tokio::test]
async fn require_probes_with_only_unevaluated_probes_is_inconclusive() {
    let probes = [
        probe(
            "http-ok",
            "SOT",
            "N/A",
            "Either probe is not executed or not evaluated",
        ),
        probe("cmd-check", "EOT", "Awaited", ""),
    ]
    .concat();
    let sim = v2_sim(&["Completed"], &probes).await;
    let run = Gate::new(&sim, UUID)
        .env("CHAOS_GATE_REQUIRE_PROBES", "true")
        .run()
        .await;
    run.assert_code(1);
    run.assert_output_has("no probe was evaluated");
    let xml = run.junit().unwrap();
    assert_valid_junit(&xml);
    assert!(xml.contains("chaos-gate.inconclusive"), "{xml}");
}

#[tokio::test]
async fn a_platform_without_probe_results_is_said_so() {
    // No probes declared: the platform's answer holds none for the run.
    let sim = sim(&experiment(
        "a1b2c3d4-0000-4000-8000-000000000001",
        &["Completed"],
        Some(100.0),
    ))
    .await;
    let run = Gate::new(&sim, "a1b2c3d4-0000-4000-8000-000000000001")
        .run()
        .await;
    run.assert_code(0);
    let xml = run.junit().unwrap();
    assert_valid_junit(&xml);
    assert!(
        xml.contains("probes: the platform reported no probe results"),
        "{xml}"
    );
    assert!(!xml.contains("/ probe "), "no probe invented: {xml}");
    run.assert_stdout_has("no probe results from the platform");
}

#[tokio::test]
async fn litmus_probe_statuses_come_from_the_execution_data() {
    let sim = litmus_sim(&format!(
        "[[experiments]]\nid = \"exp\"\nphases = [\"Running\", \"Completed\"]\nresiliency_score = 100.0\n[[experiments.faults]]\nname = \"pod-delete\"\nverdict = \"Pass\"\n{}",
        probe("http-ok", "Continuous", "Passed", "200 OK")
    ))
    .await;
    let run = Gate::litmus(&sim, "exp").run().await;
    run.assert_code(0);
    let xml = run.junit().unwrap();
    assert_valid_junit(&xml);
    assert!(xml.contains("pod-delete / probe http-ok"), "{xml}");
    assert!(xml.contains("mode Continuous, verdict Passed"), "{xml}");
}

#[tokio::test]
async fn runtime_inputs_are_checked_as_settings() {
    let sim = v2_sim(&["Completed"], "").await;
    let run = Gate::new(&sim, UUID)
        .env("CHAOS_GATE_RUNTIME_INPUTS", "A: x\nB: [1, 2\n")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("CHAOS_GATE_RUNTIME_INPUTS");
    run.assert_stderr_has("line ");
    let run = Gate::new(&sim, UUID)
        .env("CHAOS_GATE_RUNTIME_INPUTS", "tasks: {}")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("names no inputs");
    let run = Gate::litmus(&sim, "exp")
        .env("INPUT_INPUT_SET", "staging")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("INPUT_INPUT_SET");
    assert!(sim.requests().is_empty(), "nothing was sent");
}
