//! The two large strings a run carries, built the way the platforms build
//! them: `executionData` (the Argo workflow status with one ChaosEngine node
//! per fault, serialized into a string) and the workflow manifest.
//!
//! Both Harness and LitmusChaos return these same documents, so this module
//! knows nothing about either dialect's GraphQL types.

use serde_json::{Value, json};

use crate::scenario::{Experiment, Fault};
use crate::state::{Run, RunView};

/// Namespace the simulated infrastructure runs faults in.
pub(crate) const NAMESPACE: &str = "hce";

fn secs(ms: u64) -> String {
    (ms / 1000).to_string()
}

/// Serializes `doc` after storing a padding string of the right length at
/// `doc[object][key]`, so the result is `target` bytes long (or as short as
/// it gets without padding, when that is already longer).
fn padded(mut doc: Value, object: &str, key: &str, target: usize) -> String {
    let Some(Value::Object(map)) = doc.pointer_mut(object) else {
        return doc.to_string();
    };
    map.insert(key.to_string(), Value::String(String::new()));
    let unpadded = doc.to_string().len();
    if let Some(Value::Object(map)) = doc.pointer_mut(object) {
        if target > unpadded {
            // ASCII needs no escaping, so each byte of fill adds one byte.
            map.insert(
                key.to_string(),
                Value::String("x".repeat(target - unpadded)),
            );
        } else {
            map.remove(key);
        }
    }
    doc.to_string()
}

/// Where a run is, for the nodes of its execution data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Queued,
    Running,
    Finished,
    Stopped,
}

fn stage(view: &RunView) -> Stage {
    if view.finished {
        Stage::Finished
    } else if view.stopped {
        Stage::Stopped
    } else if view.index == 0 && view.phase == "Queued" {
        Stage::Queued
    } else {
        Stage::Running
    }
}

/// The `chaosData` of one fault node.
fn chaos_data(fault: &Fault, index: usize, run: &Run, stage: Stage) -> Value {
    let (verdict, probe, fail_step, status) = match stage {
        Stage::Finished => (
            fault.verdict.clone(),
            fault.final_probe_success(),
            fault.fail_step.clone(),
            "Completed",
        ),
        Stage::Stopped => (
            "Stopped".into(),
            "0".into(),
            "Experiment stopped by user".into(),
            "Stopped",
        ),
        Stage::Queued | Stage::Running => ("Awaited".into(), "0".into(), String::new(), "Running"),
    };
    let suffix = run.run_id.get(..8).unwrap_or(&run.run_id);
    json!({
        "engineUID": format!("{}-{index:04}", run.run_id),
        "engineContext": "",
        "engineName": format!("{}-{suffix}", fault.name),
        "namespace": NAMESPACE,
        "experimentName": fault.name,
        "experimentStatus": status,
        "lastUpdatedAt": secs(run.updated_ms),
        "experimentVerdict": verdict,
        "experimentPod": format!("{}-{suffix}-helper", fault.name),
        "runnerPod": format!("{}-runner", fault.name),
        "probeSuccessPercentage": probe,
        "failStep": fail_step,
        "chaosResult": chaos_result(fault, stage, status, &verdict, &probe),
    })
}

/// The fault's ChaosResult as the subscriber forwards it (reference B5):
/// only for a fault that declares probes, with `status.probeStatuses`
/// (`verdict` `Passed`/`Failed`/`N/A`/`Awaited`, chaos-operator spelling)
/// and `status.experimentStatus`. `null` otherwise, as before.
fn chaos_result(fault: &Fault, stage: Stage, phase: &str, verdict: &str, probe: &str) -> Value {
    if fault.probes.is_empty() {
        return Value::Null;
    }
    let statuses: Vec<Value> = fault
        .probes
        .iter()
        .map(|p| {
            let (verdict, description) = match stage {
                Stage::Finished => (p.verdict.clone(), p.description.clone().unwrap_or_default()),
                Stage::Stopped => (
                    "N/A".to_string(),
                    "Either probe is not executed or not evaluated".to_string(),
                ),
                Stage::Queued | Stage::Running => ("Awaited".to_string(), String::new()),
            };
            let kind = match p.r#type.as_str() {
                "cmdProbe" => "CmdProbe",
                "k8sProbe" => "K8sProbe",
                "promProbe" => "PromProbe",
                _ => "HttpProbe",
            };
            json!({
                "name": p.name,
                "type": kind,
                "mode": p.mode,
                "status": { "verdict": verdict, "description": description },
            })
        })
        .collect();
    json!({
        "kind": "ChaosResult",
        "apiVersion": "litmuschaos.io/v1alpha1",
        "metadata": { "name": format!("{}-result", fault.name), "namespace": NAMESPACE },
        "spec": { "engine": fault.name, "experiment": fault.name },
        "status": {
            "experimentStatus": { "phase": phase, "verdict": verdict, "probeSuccessPercentage": probe },
            "probeStatuses": statuses,
            "history": { "passedRuns": 0, "failedRuns": 0, "stoppedRuns": 0 },
        },
    })
}

/// The `executionData` string of a run as it looks now: the scenario's raw
/// string when it has one, otherwise a generated Argo workflow status.
pub(crate) fn execution_data(exp: &Experiment, run: &Run, view: &RunView) -> String {
    if let Some(raw) = &exp.execution_data {
        return raw.clone();
    }
    let stage = stage(view);
    let started = secs(run.created_ms);
    let finished = match stage {
        Stage::Finished | Stage::Stopped => secs(run.finished_ms.unwrap_or(run.updated_ms)),
        Stage::Queued | Stage::Running => String::new(),
    };
    let any_failed = exp.faults.iter().any(|f| f.verdict != "Pass");
    let root = format!("{}-{}", exp.id, run.created_ms);
    let node_phase = |queued: &str, running: &str, finished: &str, stopped: &str| -> String {
        match stage {
            Stage::Queued => queued,
            Stage::Running => running,
            Stage::Finished => finished,
            Stage::Stopped => stopped,
        }
        .to_string()
    };
    let node = |name: &str, phase: String, kind: &str, done: bool| {
        json!({
            "name": name,
            "phase": phase,
            "message": "",
            "startedAt": started,
            "finishedAt": if done { finished.clone() } else { String::new() },
            "type": kind,
            "children": [],
        })
    };

    let mut nodes = serde_json::Map::new();
    let mut children = Vec::new();
    let install_id = format!("{root}-1000");
    children.push(Value::String(install_id.clone()));
    nodes.insert(
        install_id,
        node(
            "install-chaos-faults",
            node_phase("Pending", "Succeeded", "Succeeded", "Succeeded"),
            "Pod",
            stage != Stage::Queued,
        ),
    );
    for (i, fault) in exp.faults.iter().enumerate() {
        let id = format!("{root}-{}", 2000 + i);
        let end = if fault.verdict == "Pass" {
            "Succeeded"
        } else {
            "Failed"
        };
        let mut n = node(
            &fault.name,
            node_phase("Pending", "Running", end, "Failed"),
            "ChaosEngine",
            matches!(stage, Stage::Finished | Stage::Stopped),
        );
        if stage == Stage::Stopped {
            n["message"] = json!("Stopped with strategy 'Stop'");
        }
        n["chaosData"] = chaos_data(fault, i, run, stage);
        nodes.insert(id.clone(), n);
        children.push(Value::String(id));
    }
    let cleanup_id = format!("{root}-3000");
    children.push(Value::String(cleanup_id.clone()));
    nodes.insert(
        cleanup_id,
        node(
            "cleanup-chaos-resources",
            node_phase("Pending", "Pending", "Succeeded", "Skipped"),
            "Pod",
            stage == Stage::Finished,
        ),
    );
    let root_phase = node_phase(
        "Pending",
        "Running",
        if any_failed { "Failed" } else { "Succeeded" },
        "Failed",
    );
    let mut root_node = node(
        &root,
        root_phase,
        "Steps",
        matches!(stage, Stage::Finished | Stage::Stopped),
    );
    root_node["children"] = Value::Array(children);
    nodes.insert(root.clone(), root_node);
    filler_nodes(&mut nodes, &root, &started, exp.execution_data_nodes_bytes);

    let message = match stage {
        Stage::Stopped => "Stopped with strategy 'Stop'",
        Stage::Finished if any_failed => "child failed",
        _ => "",
    };
    let doc = json!({
        "experimentType": "cron-less",
        "revisionID": "1",
        "experimentID": exp.id,
        "eventType": "UPDATE",
        "uid": run.run_id,
        "namespace": NAMESPACE,
        "name": root,
        "creationTimestamp": started,
        "phase": view.phase,
        "message": message,
        "startedAt": started,
        "finishedAt": finished,
        "nodes": nodes,
    });
    padded(doc, "", "simPadding", exp.execution_data_pad_bytes)
}

/// Adds Argo step and pod nodes (no `chaosData`) until the nodes take about
/// `target` bytes once serialized.
fn filler_nodes(
    nodes: &mut serde_json::Map<String, Value>,
    root: &str,
    started: &str,
    target: usize,
) {
    let mut size: usize = nodes
        .iter()
        .map(|(k, v)| k.len() + v.to_string().len() + 4)
        .sum();
    let mut i = 0usize;
    while size < target {
        let id = format!("{root}-{}", 10_000 + i);
        let node = json!({
            "id": id,
            "name": format!("{root}[{}].step-{i}", i / 8),
            "displayName": format!("step-{i}"),
            "type": if i.is_multiple_of(2) { "Pod" } else { "StepGroup" },
            "templateName": "run-step",
            "templateScope": "local/",
            "phase": "Succeeded",
            "boundaryID": root,
            "startedAt": started,
            "finishedAt": started,
            "progress": "1/1",
            "resourcesDuration": { "cpu": 3, "memory": 3 },
            "outputs": { "exitCode": "0", "parameters": [{ "name": "result", "value": "ok" }] },
            "children": [format!("{root}-{}", 10_001 + i)],
            "hostNodeName": "worker-1",
        });
        size += id.len() + node.to_string().len() + 4;
        nodes.insert(id, node);
        i += 1;
    }
}

/// How many faults passed, failed, are awaited, were stopped, and are
/// neither (N/A), in that order: Harness's `experimentsPassed` ...
/// `experimentsNa` and Litmus's `faultsPassed` ... `faultsNa`. Until the run
/// finishes every fault is awaited (or stopped, once the run is).
pub(crate) fn fault_counts(exp: &Experiment, view: &RunView) -> [usize; 5] {
    let total = exp.faults.len();
    if !view.finished {
        return if view.stopped {
            [0, 0, 0, total, 0]
        } else {
            [0, 0, total, 0, 0]
        };
    }
    let count = |v: &str| exp.faults.iter().filter(|f| f.verdict == v).count();
    let (pass, fail, awaited, stopped) = (
        count("Pass"),
        count("Fail"),
        count("Awaited"),
        count("Stopped"),
    );
    [
        pass,
        fail,
        awaited,
        stopped,
        total - pass - fail - awaited - stopped,
    ]
}

/// ChaosEngine YAML of one fault, as the manifest embeds it.
fn engine_yaml(fault: &Fault) -> String {
    format!(
        "apiVersion: litmuschaos.io/v1alpha1\nkind: ChaosEngine\nmetadata:\n  namespace: \"{{{{workflow.parameters.adminModeNamespace}}}}\"\n  generateName: {name}\n  labels:\n    workflow_run_id: \"{{{{ workflow.uid }}}}\"\n    workflow_name: {name}\nspec:\n  engineState: active\n  appinfo:\n    appns: default\n    applabel: app=demo\n    appkind: deployment\n  chaosServiceAccount: litmus-admin\n  experiments:\n    - name: {name}\n      spec:\n        components:\n          env:\n            - name: TOTAL_CHAOS_DURATION\n              value: \"30\"\n            - name: CHAOS_INTERVAL\n              value: \"10\"\n            - name: FORCE\n              value: \"false\"\n",
        name = fault.name
    )
}

/// The workflow manifest of an experiment: an Argo Workflow as JSON, padded
/// to `manifest_bytes` so a client that asks for it pays realistically.
pub(crate) fn manifest(exp: &Experiment) -> String {
    let mut templates = vec![json!({
        "name": exp.id,
        "steps": [
            [{ "name": "install-chaos-faults", "template": "install-chaos-faults" }],
            exp.faults.iter().map(|f| json!({ "name": f.name, "template": f.name })).collect::<Vec<_>>(),
            [{ "name": "cleanup-chaos-resources", "template": "cleanup-chaos-resources" }],
        ],
    })];
    for fault in &exp.faults {
        templates.push(json!({
            "name": fault.name,
            "inputs": { "artifacts": [{
                "name": fault.name,
                "path": format!("/tmp/chaosengine-{}.yaml", fault.name),
                "raw": { "data": engine_yaml(fault) },
            }]},
            "container": {
                "name": "",
                "image": "docker.io/harness/chaos-go-runner:main-latest",
                "command": ["/bin/sh", "-c"],
                "args": [format!("kubectl apply -f /tmp/chaosengine-{}.yaml -n {{{{workflow.parameters.adminModeNamespace}}}} && sleep 30", fault.name)],
                "resources": {},
            },
        }));
    }
    let doc = json!({
        "kind": "Workflow",
        "apiVersion": "argoproj.io/v1alpha1",
        "metadata": {
            "name": exp.id,
            "namespace": NAMESPACE,
            "creationTimestamp": null,
            "labels": {
                "subject": exp.id,
                "workflow_id": exp.id,
                "infra_id": "chaos-sim-infra",
                "workflows.argoproj.io/controller-instanceid": "chaos-sim-infra",
            },
            "annotations": {},
        },
        "spec": {
            "templates": templates,
            "entrypoint": exp.id,
            "arguments": { "parameters": [{ "name": "adminModeNamespace", "value": NAMESPACE }] },
            "serviceAccountName": "argo-chaos",
            "podGC": { "strategy": "OnWorkflowCompletion" },
            "securityContext": { "runAsUser": 1000, "runAsNonRoot": true },
        },
        "status": {},
    });
    padded(
        doc,
        "/metadata/annotations",
        "chaos-sim/padding",
        exp.manifest_bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn exp(extra: &str) -> Experiment {
        let toml = format!(
            "[harness]\naccount_id='a'\napi_key='k'\n[[experiments]]\nid='e'\n{extra}\n[[experiments.faults]]\nname='pod-delete'\n[[experiments.faults]]\nname='net-loss'\nverdict='Fail'\nfail_step='probe failed'\n"
        );
        Scenario::from_toml(&toml)
            .expect("valid")
            .experiments
            .remove(0)
    }

    fn run() -> Run {
        let mut r = Run::new(
            &exp(""),
            "n".into(),
            "0123456789abcdef".into(),
            Value::Null,
            1,
            false,
        );
        r.created_ms = 1_700_000_000_000;
        r.updated_ms = 1_700_000_005_000;
        r
    }

    fn chaos_nodes(data: &str) -> Vec<Value> {
        let doc: Value = serde_json::from_str(data).expect("json");
        let nodes = doc["nodes"].as_object().expect("nodes").clone();
        nodes
            .into_values()
            .filter(|n| n["type"] == "ChaosEngine")
            .collect()
    }

    #[test]
    fn faults_are_awaited_until_finished() {
        let e = exp("");
        let mut r = run();
        r.poll(&e);
        r.poll(&e);
        let running = chaos_nodes(&execution_data(&e, &r, &r.view(&e)));
        assert_eq!(running.len(), 2);
        assert!(
            running
                .iter()
                .all(|n| n["chaosData"]["experimentVerdict"] == "Awaited")
        );
        r.poll(&e);
        let done = chaos_nodes(&execution_data(&e, &r, &r.view(&e)));
        let mut verdicts: Vec<_> = done
            .iter()
            .map(|n| n["chaosData"]["experimentVerdict"].clone())
            .collect();
        verdicts.sort_by_key(|v| v.to_string());
        assert_eq!(verdicts, [json!("Fail"), json!("Pass")]);
    }

    #[test]
    fn padding_reaches_about_the_target() {
        let e = exp("execution_data_pad_bytes = 100000\nmanifest_bytes = 20000");
        let r = run();
        let data = execution_data(&e, &r, &r.view(&e));
        assert_eq!(data.len(), 100_000);
        let m = manifest(&e);
        assert_eq!(m.len(), 20_000);
        serde_json::from_str::<Value>(&m).expect("manifest is JSON");
    }

    #[test]
    fn node_filler_reaches_about_the_target_with_many_nodes() {
        let e = exp("execution_data_nodes_bytes = 200000");
        let r = run();
        let data = execution_data(&e, &r, &r.view(&e));
        assert!((200_000..210_000).contains(&data.len()), "{}", data.len());
        let doc: Value = serde_json::from_str(&data).expect("JSON");
        assert!(doc["nodes"].as_object().expect("nodes").len() > 300);
        assert_eq!(chaos_nodes(&data).len(), e.faults.len());
    }

    #[test]
    fn raw_execution_data_is_verbatim() {
        let e = exp("execution_data = '{not json'");
        let r = run();
        assert_eq!(execution_data(&e, &r, &r.view(&e)), "{not json");
    }
}
