//! Experiment as code (README "Experiment as code", README "Experiment as code"): the gate
//! keeps a stored experiment in step with a manifest from the repository,
//! waits for its infrastructure, then gates on it; on both platforms,
//! end to end against the simulator.

use chaos_sim::Simulator;

use crate::common::*;

const INFRA: &str = "infra-boutique";
const NAME: &str = "cart-pod-delete";

/// The example manifest a user copies, for `platform`.
fn example(platform: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/experiments")
        .join(format!("{platform}-cart-pod-delete.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn infras(active_after_polls: u32, active: bool) -> String {
    format!(
        "[[infras]]\nid = \"{INFRA}\"\nname = \"boutique\"\nactive_after_polls = {active_after_polls}\nactive = {active}\n"
    )
}

#[derive(Clone, Copy, PartialEq)]
enum P {
    Harness,
    Litmus,
}

const BOTH: [P; 2] = [P::Harness, P::Litmus];

impl P {
    fn name(self) -> &'static str {
        match self {
            P::Harness => "harness",
            P::Litmus => "litmus",
        }
    }

    async fn sim(self, body: &str) -> Simulator {
        // Top-level keys must come before the tables of the scenario.
        match self {
            P::Harness => sim(body).await,
            P::Litmus => litmus_sim(body).await,
        }
    }

    /// A gate on the manifest `text`, written into its directory.
    fn gate(self, sim: &Simulator, text: &str) -> Gate {
        let g = match self {
            P::Harness => Gate::new(sim, ""),
            P::Litmus => Gate::litmus(sim, ""),
        }
        .without("CHAOS_GATE_EXPERIMENT_ID")
        .env("CHAOS_GATE_EXPERIMENT_FILE", "chaos/experiment.yaml")
        .env("CHAOS_GATE_INFRA_ID", INFRA)
        .env("GITHUB_OUTPUT", "github-output")
        .env("GITLAB_CI", "true")
        .env("DRONE_OUTPUT", "drone-output");
        let file = g.path("chaos/experiment.yaml");
        std::fs::create_dir_all(file.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&file, text).expect("manifest written");
        g
    }

    /// The operations that change something on the platform.
    fn saves(self, sim: &Simulator) -> usize {
        match self {
            P::Harness => count(sim, "saveChaosV2Experiment"),
            P::Litmus => count(sim, "saveChaosExperiment"),
        }
    }

    fn triggers(self, sim: &Simulator) -> usize {
        count(sim, "runChaosExperiment")
    }
}

fn output(run: &Run, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(run.path("github-output")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

fn dotenv(run: &Run, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(run.path("chaos-gate.env")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// The JUnit test case of the create/update step.
fn step_case(run: &Run) -> String {
    let xml = run.junit().expect("a JUnit report");
    assert_valid_junit(&xml);
    let start = xml
        .find(&format!(
            "<testcase name=\"{NAME}\" classname=\"chaos-gate.experiment-file\""
        ))
        .unwrap_or_else(|| panic!("no test case for the step\n{xml}"));
    let rest = &xml[start..];
    let end = rest
        .find("</testcase>")
        .map(|e| e + "</testcase>".len())
        .or_else(|| rest.find("/>").map(|e| e + 2))
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

#[tokio::test]
async fn create_then_unchanged_then_update_on_both_platforms() {
    for p in BOTH {
        let sim = p.sim(&infras(0, true)).await;
        let manifest = example(p.name());

        // 1. First run: created, then triggered and gated as usual.
        let run = p.gate(&sim, &manifest).run().await;
        run.assert_code(0);
        let id = sim
            .experiment_id_named(NAME)
            .unwrap_or_else(|| panic!("{}: experiment created\n{}", p.name(), run.output()));
        assert_eq!(sim.experiment_revisions(&id), 1, "{}", p.name());
        assert_eq!(
            output(&run, "experiment_action").as_deref(),
            Some("created")
        );
        assert_eq!(output(&run, "experiment_id").as_deref(), Some(id.as_str()));
        assert_eq!(
            dotenv(&run, "CHAOS_GATE_EXPERIMENT_ACTION").as_deref(),
            Some("created")
        );
        assert_eq!(
            dotenv(&run, "CHAOS_GATE_EXPERIMENT_ID").as_deref(),
            Some(id.as_str())
        );
        let drone = std::fs::read_to_string(run.path("drone-output")).expect("Drone output");
        assert!(
            drone.contains("CHAOS_GATE_EXPERIMENT_ACTION=created\n"),
            "{drone}"
        );
        assert!(
            drone.contains(&format!("CHAOS_GATE_EXPERIMENT_ID={id}\n")),
            "{drone}"
        );
        run.assert_stdout_has("experiment cart-pod-delete created");
        assert!(
            step_case(&run).contains("action: created"),
            "{}",
            step_case(&run)
        );
        assert_eq!(p.triggers(&sim), 1);
        assert!(sim.runs().iter().all(|r| r.experiment_id == id));
        let saved = sim.saved_manifest(&id).expect("a saved manifest");
        let json: serde_json::Value = serde_json::from_str(&saved).expect("sent as JSON");
        assert_eq!(json["metadata"]["name"], NAME);
        let tags = sim.experiment_tags(&id);
        assert!(
            tags.iter().any(|t| t.starts_with("chaos-gate-digest=")),
            "{tags:?}"
        );

        // 2. The same file again (formatted differently): nothing changes.
        let reformatted = manifest.replace("# ", "#  ");
        let run = p.gate(&sim, &reformatted).run().await;
        run.assert_code(0);
        assert_eq!(
            output(&run, "experiment_action").as_deref(),
            Some("unchanged")
        );
        assert_eq!(output(&run, "experiment_id").as_deref(), Some(id.as_str()));
        assert_eq!(
            sim.experiment_revisions(&id),
            1,
            "{}: no new revision",
            p.name()
        );
        assert_eq!(p.saves(&sim), 1, "{}: no second save", p.name());
        assert_eq!(p.triggers(&sim), 2);

        // 3. An edited file: the same experiment is updated.
        let edited = manifest.replace("value: \"30\"", "value: \"60\"");
        assert_ne!(edited, manifest);
        let run = p.gate(&sim, &edited).run().await;
        run.assert_code(0);
        assert_eq!(
            output(&run, "experiment_action").as_deref(),
            Some("updated")
        );
        assert_eq!(sim.experiment_id_named(NAME).as_deref(), Some(id.as_str()));
        assert_eq!(sim.experiment_revisions(&id), 2, "{}", p.name());
        assert!(sim.saved_manifest(&id).expect("saved").contains("60"));
        assert!(step_case(&run).contains("action: updated"));
    }
}

#[tokio::test]
async fn waits_for_an_infrastructure_that_becomes_active() {
    for p in BOTH {
        let sim = p.sim(&infras(3, true)).await;
        let run = p.gate(&sim, &example(p.name())).run().await;
        run.assert_code(0);
        run.assert_stdout_has(
            "waiting for infrastructure infra-boutique (boutique) to become active",
        );
        assert!(
            run.stdout
                .contains("infrastructure infra-boutique (boutique) is active")
        );
        assert_eq!(
            sim.infra_polls(INFRA),
            4,
            "{}: three inactive looks, one active",
            p.name()
        );
        assert_eq!(
            output(&run, "experiment_action").as_deref(),
            Some("created")
        );
    }
}

#[tokio::test]
async fn an_infrastructure_that_never_becomes_active_times_out_with_nothing_created() {
    for p in BOTH {
        let sim = p.sim(&infras(0, false)).await;
        let run = p
            .gate(&sim, &example(p.name()))
            .env("CHAOS_GATE_TIMEOUT", "1")
            .run()
            .await;
        run.assert_code(4);
        assert_eq!(p.saves(&sim), 0, "{}", p.name());
        assert_eq!(p.triggers(&sim), 0);
        assert!(sim.experiment_id_named(NAME).is_none());
        assert!(sim.infra_polls(INFRA) >= 2);
        let case = step_case(&run);
        assert!(case.contains("<failure"), "a timeout is a failure: {case}");
        assert!(case.contains("timed out"), "{case}");
        assert_eq!(output(&run, "verdict").as_deref(), Some("timeout"));
        run.assert_stdout_has("::error title=chaos-gate%3A experiment cart-pod-delete::timed out");
        assert_eq!(output(&run, "experiment_action").as_deref(), Some(""));
    }
}

#[tokio::test]
async fn an_unknown_infrastructure_is_a_settings_error_naming_infra_id() {
    for p in BOTH {
        let sim = p.sim(&infras(0, true)).await;
        let run = p
            .gate(&sim, &example(p.name()))
            .env("CHAOS_GATE_INFRA_ID", "no-such-infra")
            .run()
            .await;
        run.assert_code(2);
        run.assert_output_has("infra_id");
        assert!(run.output().contains("no-such-infra"));
        assert_eq!(p.saves(&sim), 0);
        assert_eq!(p.triggers(&sim), 0);
    }
}

#[tokio::test]
async fn a_malformed_manifest_is_reported_with_its_place_and_nothing_is_sent() {
    for p in BOTH {
        let sim = p.sim(&infras(0, true)).await;
        let manifest = example(p.name());
        // Broken YAML: a line and column.
        let broken = manifest.replacen("  name: cart-pod-delete", "  name: [cart-pod-delete", 1);
        let run = p.gate(&sim, &broken).run().await;
        run.assert_code(2);
        run.assert_stderr_has("CHAOS_GATE_EXPERIMENT_FILE");
        run.assert_stderr_has("line ");
        // Parses, but a template has no name and a fault has no weight.
        let unnamed = manifest
            .replacen(
                "    - name: cleanup-chaos-resources\n",
                "    - nom: cleanup-chaos-resources\n",
                1,
            )
            .replacen("          weight: \"10\"\n", "          tier: \"1\"\n", 1);
        let run = p.gate(&sim, &unnamed).run().await;
        run.assert_code(2);
        run.assert_stderr_has("spec.templates[3].name: is missing");
        run.assert_stderr_has("metadata.labels.weight");
        assert!(run.junit().is_none(), "settings errors write no report");
        // Not a workflow at all.
        let run = p
            .gate(&sim, "kind: ChaosEngine\nmetadata:\n  name: x\n")
            .run()
            .await;
        run.assert_code(2);
        run.assert_stderr_has("kind: is \"ChaosEngine\"");
        // A file that cannot be read.
        let run = p
            .gate(&sim, &manifest)
            .env("CHAOS_GATE_EXPERIMENT_FILE", "chaos/missing.yaml")
            .run()
            .await;
        run.assert_code(2);
        run.assert_stderr_has("cannot read the file");
        assert!(sim.requests().is_empty(), "{}: nothing sent", p.name());
    }
}

#[tokio::test]
async fn a_manifest_the_platform_refuses_is_a_platform_error_and_nothing_is_triggered() {
    for p in BOTH {
        let (sim, manifest, expected) = match p {
            // Harness's save takes apiVersions ending in /v1alpha1,
            // /v1alpha2 or /v1beta1 only; the gate's own check lets any
            // argoproj.io version through. The refusal is HTTP 500.
            P::Harness => (
                p.sim(&infras(0, true)).await,
                example("harness").replacen(
                    "apiVersion: argoproj.io/v1alpha1\nkind: Workflow",
                    "apiVersion: argoproj.io/v2\nkind: Workflow",
                    1,
                ),
                "unsupported manifest apiVersion",
            ),
            // ChaosCenter refuses a save while the infrastructure is
            // inactive (here: it disconnected after the gate's look), with
            // a GraphQL error.
            P::Litmus => (
                p.sim(&format!(
                    "{}[[inject]]\noperation = \"saveChaosExperiment\"\nstatus = 200\nbody = '{{\"errors\":[{{\"message\":\"experiment scheduling failed due to inactive infra\",\"path\":[\"saveChaosExperiment\"]}}],\"data\":null}}'\n",
                    infras(0, true)
                ))
                .await,
                example("litmus"),
                "experiment scheduling failed due to inactive infra",
            ),
        };
        let run = p.gate(&sim, &manifest).run().await;
        run.assert_code(3);
        assert!(
            run.output().contains(expected),
            "{}: {}",
            p.name(),
            run.output()
        );
        assert_eq!(p.triggers(&sim), 0, "{}: nothing triggered", p.name());
        assert!(sim.experiment_id_named(NAME).is_none());
        let case = step_case(&run);
        assert!(case.contains("<error"), "{case}");
        assert!(case.contains(expected), "{case}");
        assert_eq!(output(&run, "verdict").as_deref(), Some("error"));
        assert_eq!(output(&run, "experiment_action").as_deref(), Some(""));
    }
}

#[tokio::test]
async fn a_dry_run_says_what_it_would_do_and_changes_nothing() {
    for p in BOTH {
        let sim = p.sim(&infras(1, true)).await;
        let manifest = example(p.name());
        let run = p
            .gate(&sim, &manifest)
            .env("CHAOS_GATE_DRY_RUN", "true")
            .run()
            .await;
        run.assert_code(0);
        run.assert_stdout_has("it would be created");
        assert_eq!(
            output(&run, "experiment_action").as_deref(),
            Some("created")
        );
        assert_eq!(p.saves(&sim), 0);
        assert_eq!(p.triggers(&sim), 0);
        assert!(sim.experiment_id_named(NAME).is_none());
        assert!(step_case(&run).contains("would be: created"));

        // Once it exists, an edited file would be updated; still nothing
        // changes.
        p.gate(&sim, &manifest).run().await.assert_code(0);
        let id = sim.experiment_id_named(NAME).expect("created");
        let edited = manifest.replace("value: \"30\"", "value: \"45\"");
        let run = p
            .gate(&sim, &edited)
            .env("CHAOS_GATE_DRY_RUN", "true")
            .run()
            .await;
        run.assert_code(0);
        run.assert_stdout_has("it would be updated");
        assert_eq!(sim.experiment_revisions(&id), 1);
        assert_eq!(p.saves(&sim), 1);
        assert_eq!(p.triggers(&sim), 1, "only the real run triggered");
    }
}

#[tokio::test]
async fn settings_that_rule_each_other_out() {
    let sim = sim(&infras(0, true)).await;
    let run = P::Harness
        .gate(&sim, &example("harness"))
        .without("CHAOS_GATE_INFRA_ID")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("CHAOS_GATE_INFRA_ID");
    let run = P::Harness
        .gate(&sim, &example("harness"))
        .env("CHAOS_GATE_EXPERIMENT_ID", "exp")
        .run()
        .await;
    run.assert_code(2);
    run.assert_stderr_has("not both");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn a_save_whose_answer_is_lost_is_confirmed_by_looking_again() {
    for p in BOTH {
        let op = match p {
            P::Harness => "saveChaosV2Experiment",
            P::Litmus => "saveChaosExperiment",
        };
        let sim = p
            .sim(&format!(
                "{}[[inject]]\noperation = \"{op}\"\nfirst = 1\ndrop_connection = true\nafter_effect = true\n",
                infras(0, true)
            ))
            .await;
        let run = p.gate(&sim, &example(p.name())).run().await;
        run.assert_code(0);
        let id = sim.experiment_id_named(NAME).expect("saved once");
        assert_eq!(sim.experiment_revisions(&id), 1, "{}: saved once", p.name());
        assert_eq!(
            p.saves(&sim),
            1,
            "{}: a save is never repeated blindly",
            p.name()
        );
        assert_eq!(
            output(&run, "experiment_action").as_deref(),
            Some("created")
        );
        assert_eq!(output(&run, "experiment_id").as_deref(), Some(id.as_str()));
        assert_eq!(p.triggers(&sim), 1);
    }
}

/// What the gate sent in its saves (the request bodies).
fn saved_bodies(sim: &Simulator, operation: &str) -> Vec<serde_json::Value> {
    sim.requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some(operation))
        .filter_map(|r| serde_json::from_str(&r.body).ok())
        .collect()
}

#[tokio::test]
async fn harness_saves_name_the_infrastructure_by_environment_and_id() {
    // Given as getInfraDetails takes it, the environment comes from its
    // answer; given as the save takes it, it is used as given.
    for (given, sent) in [
        (INFRA, "chaos-sim-env/infra-boutique"),
        ("staging-env/infra-boutique", "staging-env/infra-boutique"),
    ] {
        let sim = sim(&infras(0, true)).await;
        let run = P::Harness
            .gate(&sim, &example("harness"))
            .env("CHAOS_GATE_INFRA_ID", given)
            .run()
            .await;
        run.assert_code(0);
        let bodies = saved_bodies(&sim, "saveChaosV2Experiment");
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0]["infraId"], sent);
        assert_eq!(bodies[0]["infraType"], "Kubernetes");
        assert_eq!(bodies[0]["name"], NAME);
        let manifest: serde_json::Value =
            serde_json::from_str(bodies[0]["manifest"].as_str().expect("a JSON string"))
                .expect("the manifest is sent as JSON");
        assert_eq!(manifest["kind"], "Workflow");
        let lookups = sim
            .requests()
            .iter()
            .filter(|r| r.operation.as_deref() == Some("getInfraDetails"))
            .count();
        assert_eq!(lookups, 1);
        assert!(
            sim.requests()
                .iter()
                .any(|r| r.operation.as_deref() == Some("getInfraDetails")
                    && r.body.contains("\"infraID\":\"infra-boutique\""))
        );
    }
}

#[tokio::test]
async fn litmus_saves_send_the_manifest_as_json_with_the_experiments_name() {
    let sim = litmus_sim(&infras(0, true)).await;
    P::Litmus
        .gate(&sim, &example("litmus"))
        .run()
        .await
        .assert_code(0);
    let bodies = saved_bodies(&sim, "saveChaosExperiment");
    assert_eq!(bodies.len(), 1);
    let request = &bodies[0]["variables"]["request"];
    assert_eq!(request["name"], NAME);
    assert_eq!(request["infraID"], INFRA);
    assert_eq!(request["type"], "Experiment");
    let manifest: serde_json::Value =
        serde_json::from_str(request["manifest"].as_str().expect("a string"))
            .expect("JSON, not YAML");
    assert_eq!(manifest["metadata"]["name"], NAME);
    assert!(request["tags"].as_array().expect("tags").iter().any(|t| {
        t.as_str()
            .is_some_and(|t| t.starts_with("chaos-gate-digest="))
    }));
    // The name is looked up as an anchored, escaped regular expression.
    assert!(sim.requests().iter().any(|r| {
        r.operation.as_deref() == Some("listExperiment")
            && r.body
                .contains(r#""experimentName":"^cart\\-pod\\-delete$""#)
    }));
}
