//! Experiments saved through the API (experiment as code): the checks the
//! real servers make on a manifest, and the experiments and revisions they
//! keep. Shared by both dialects; each dialect's module turns the outcome
//! into its own answer shape.
//!
//! What is modelled, and from where, is in `docs/platform-fidelity.md`
//! (rows L-17 to L-20 and H-6 to H-8).

use serde_json::{Value, json};

use crate::scenario::Experiment;
use crate::state::{State, lock};

/// The `tags` of a save request, the same field in both dialects: its
/// strings, anything else skipped.
pub(crate) fn tags(request: &Value) -> Vec<String> {
    request
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// A save request, the same for both dialects.
pub(crate) struct SaveInput<'a> {
    /// `None`: the server makes one up (Harness REST without `id`).
    pub id: Option<&'a str>,
    pub name: &'a str,
    pub description: &'a str,
    pub manifest: &'a str,
    pub infra_id: &'a str,
    pub tags: Vec<String>,
}

/// What a save did.
pub(crate) struct Saved {
    pub id: String,
    pub created: bool,
}

/// Which server's rules apply.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Harness,
    Litmus,
}

/// Saves (creates or updates, keyed on the ID) an experiment from a
/// manifest, after the checks the server makes; `Err` is the server's
/// message.
pub(crate) fn save(
    state: &State,
    dialect: Dialect,
    input: &SaveInput<'_>,
) -> Result<Saved, String> {
    // ChaosCenter (ops/service.go ProcessExperiment) reads the
    // infrastructure first: it must exist and be active, even to save.
    // Harness's REST save names an infrastructure
    // `<environmentIdentifier>/<infraIdentity>` for every infra type
    // (Harness's MCP server; uncertain).
    let infra_key = match dialect {
        Dialect::Litmus => input.infra_id,
        Dialect::Harness => match input.infra_id.split_once('/') {
            Some((env, id)) if !env.is_empty() && !id.is_empty() => id,
            _ => {
                return Err(format!(
                    "infraId {:?} must be <environmentIdentifier>/<infraIdentity>",
                    input.infra_id
                ));
            }
        },
    };
    let infra = state.infra_active_now(infra_key);
    match (dialect, infra) {
        (Dialect::Litmus, None) => {
            return Err("failed to get infra details: mongo: no documents in result".into());
        }
        (Dialect::Litmus, Some(false)) => {
            return Err("experiment scheduling failed due to inactive infra".into());
        }
        (Dialect::Harness, None) => {
            return Err(format!("infra {infra_key} not found"));
        }
        _ => {}
    }
    let manifest: Value = serde_json::from_str(input.manifest).map_err(|_| match dialect {
        Dialect::Litmus => "failed to unmarshal workflow manifest1".to_string(),
        Dialect::Harness => "failed to unmarshal the experiment manifest".to_string(),
    })?;
    let kind = manifest.get("kind").and_then(Value::as_str).unwrap_or("");
    match dialect {
        Dialect::Litmus => {
            if !matches!(
                kind,
                "Workflow" | "CronWorkflow" | "ChaosEngine" | "ChaosSchedule"
            ) {
                return Err(
                    "not a valid object, only workflows/cron workflows/chaos engines supported"
                        .into(),
                );
            }
        }
        Dialect::Harness => {
            let api = manifest
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !["/v1alpha1", "/v1alpha2", "/v1beta1"]
                .iter()
                .any(|v| api.ends_with(v))
            {
                return Err(format!("unsupported manifest apiVersion {api:?}"));
            }
        }
    }
    let meta_name = manifest
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if meta_name != input.name {
        return Err(format!("{kind} name doesn't match"));
    }
    if input.name.trim().is_empty() {
        return Err("experiment name is required".into());
    }
    let faults = engines(&manifest);
    if dialect == Dialect::Litmus {
        probes(state, &faults)?;
    }

    let existing = input
        .id
        .and_then(|id| state.experiment(id))
        .filter(|e| !e.removed);
    let duplicate = |state: &State| {
        state
            .experiments()
            .iter()
            .any(|e| !e.removed && e.display_name() == input.name)
    };
    let (id, created) = match existing {
        Some(e) => {
            if e.display_name() != input.name && duplicate(state) {
                return Err(format!(
                    "experiment name should be unique, duplicate experiment found with name: {}",
                    input.name
                ));
            }
            (e.id.clone(), false)
        }
        None => {
            if duplicate(state) {
                return Err(format!(
                    "experiment name should be unique, duplicate experiment found with name: {}",
                    input.name
                ));
            }
            if let Some(id) = input.id {
                // A removed experiment keeps its ID in the collection's
                // unique index.
                if state.experiment(id).is_some() {
                    return Err(format!(
                        "E11000 duplicate key error collection: litmus.chaosExperiments index: experiment_id_1 dup key: {{ experiment_id: \"{id}\" }}"
                    ));
                }
            }
            (
                input.id.map_or_else(|| state.new_id(), str::to_string),
                true,
            )
        }
    };
    let exp: Experiment = serde_json::from_value(json!({
        "id": id,
        "name": input.name,
        "description": input.description,
        "resiliency_score": state.scenario.created_resiliency_score,
        "tags": input.tags,
        "faults": faults.iter().map(|(name, _)| json!({ "name": name })).collect::<Vec<_>>(),
    }))
    .map_err(|e| format!("chaos-sim could not store the experiment: {e}"))?;
    state.store_experiment(exp, input.manifest.to_string(), input.infra_id.to_string());
    Ok(Saved { id, created })
}

/// The ChaosEngines of a Workflow manifest: `(generateName, raw YAML)`.
fn engines(manifest: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let templates = manifest
        .get("spec")
        .and_then(|s| s.get("templates"))
        .and_then(Value::as_array);
    for t in templates.into_iter().flatten() {
        let artifacts = t
            .get("inputs")
            .and_then(|i| i.get("artifacts"))
            .and_then(Value::as_array);
        for a in artifacts.into_iter().flatten() {
            let Some(raw) = a
                .get("raw")
                .and_then(|r| r.get("data"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            if !raw.contains("kind: ChaosEngine") {
                continue;
            }
            let name = yaml_value(raw, "generateName:").unwrap_or_default();
            out.push((name, raw.to_string()));
        }
    }
    out
}

/// The value after `key` on the first line that starts with it (the sim
/// reads the ChaosEngine's YAML by lines, not with a YAML parser).
fn yaml_value(raw: &str, key: &str) -> Option<String> {
    raw.lines().find_map(|l| {
        let v = l.trim().strip_prefix(key)?.trim();
        Some(v.trim_matches(['"', '\'']).to_string())
    })
}

/// ChaosCenter's probe handling on save (ops/service.go
/// processExperimentManifest, probe/handler AddProbe): a ChaosEngine needs
/// a name, and a `probeRef` annotation or inline probes; inline probes are
/// created as project probes, and a probe name that already exists in the
/// project fails the save with "probe already exists".
fn probes(state: &State, engines: &[(String, String)]) -> Result<(), String> {
    for (name, raw) in engines {
        if name.is_empty() {
            return Err("empty chaos experiment name".into());
        }
        if raw.contains("probeRef") {
            continue;
        }
        let inline = inline_probe_names(raw);
        if inline.is_empty() {
            return Err(format!("no probes specified in chaosengine - {name}"));
        }
        let mut known = lock(&state.probes);
        for p in inline {
            if known.contains(&p) {
                return Err("probe already exists".into());
            }
            known.push(p);
        }
    }
    Ok(())
}

/// The `- name:` entries under a `probe:` key.
fn inline_probe_names(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut indent = None;
    for line in raw.lines() {
        let trimmed = line.trim_start();
        let depth = line.len() - trimmed.len();
        if trimmed.trim_end() == "probe:" {
            indent = Some(depth);
            continue;
        }
        let Some(d) = indent else { continue };
        if !trimmed.is_empty() && depth <= d && !trimmed.starts_with('-') {
            indent = None;
            continue;
        }
        if let Some(n) = trimmed.strip_prefix("- name:") {
            out.push(n.trim().trim_matches(['"', '\'']).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn state(platform: &str) -> State {
        let head = match platform {
            "litmus" => "platform = \"litmus\"\n[litmus]\nproject_id = \"p\"\n",
            _ => "[harness]\naccount_id = \"a\"\napi_key = \"k\"\n",
        };
        let scenario = Scenario::from_toml(&format!(
            "{head}[[infras]]\nid = \"i\"\n[[infras]]\nid = \"down\"\nactive = false\n"
        ))
        .expect("valid scenario");
        State::new(scenario, "http://127.0.0.1:1".into(), false)
    }

    fn manifest(name: &str, engine: &str) -> String {
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": { "name": name },
            "spec": { "templates": [ { "name": "f", "inputs": { "artifacts": [ { "raw": { "data": engine } } ] } } ] }
        })
        .to_string()
    }

    const INLINE: &str = "kind: ChaosEngine\nmetadata:\n  generateName: pod-delete-x\nspec:\n  experiments:\n    - name: pod-delete\n      spec:\n        probe:\n          - name: http-cart\n";
    const BY_REF: &str = "kind: ChaosEngine\nmetadata:\n  generateName: pod-delete-x\n  annotations:\n    probeRef: '[{\"name\":\"http-cart\",\"mode\":\"SOT\"}]'\n";

    fn input<'a>(id: &'a str, name: &'a str, manifest: &'a str, infra: &'a str) -> SaveInput<'a> {
        SaveInput {
            id: Some(id),
            name,
            description: "",
            manifest,
            infra_id: infra,
            tags: Vec::new(),
        }
    }

    #[test]
    fn a_second_save_with_inline_probes_fails_on_chaoscenter() {
        let s = state("litmus");
        let m = manifest("exp", INLINE);
        let first = save(&s, Dialect::Litmus, &input("id-1", "exp", &m, "i")).expect("first save");
        assert!(first.created);
        assert_eq!(s.revisions("id-1"), 1);
        let again = save(&s, Dialect::Litmus, &input("id-1", "exp", &m, "i"));
        assert_eq!(again.err().as_deref(), Some("probe already exists"));
        assert_eq!(s.revisions("id-1"), 1, "nothing saved");
        // A probeRef manifest can be saved as often as wanted.
        let r = manifest("exp", BY_REF);
        assert!(
            !save(&s, Dialect::Litmus, &input("id-1", "exp", &r, "i"))
                .unwrap()
                .created
        );
        save(&s, Dialect::Litmus, &input("id-1", "exp", &r, "i")).unwrap();
        assert_eq!(s.revisions("id-1"), 3);
    }

    #[test]
    fn chaoscenter_checks_what_its_server_checks() {
        let s = state("litmus");
        let m = manifest("exp", BY_REF);
        let err = |i: SaveInput<'_>| save(&s, Dialect::Litmus, &i).err().unwrap_or_default();
        assert_eq!(
            err(input("x", "exp", "kind: Workflow", "i")),
            "failed to unmarshal workflow manifest1"
        );
        assert_eq!(
            err(input("x", "other", &m, "i")),
            "Workflow name doesn't match"
        );
        assert_eq!(
            err(input("x", "exp", &m, "down")),
            "experiment scheduling failed due to inactive infra"
        );
        assert!(err(input("x", "exp", &m, "gone")).starts_with("failed to get infra details"));
        let cron = m.replace("\"Workflow\"", "\"Job\"");
        assert!(err(input("x", "exp", &cron, "i")).starts_with("not a valid object"));
        let none = manifest("exp", "kind: ChaosEngine\nmetadata:\n  generateName: e\n");
        assert_eq!(
            err(input("x", "exp", &none, "i")),
            "no probes specified in chaosengine - e"
        );
        save(&s, Dialect::Litmus, &input("a", "exp", &m, "i")).unwrap();
        assert!(
            err(input("b", "exp", &m, "i")).contains("duplicate experiment found with name: exp")
        );
    }

    #[test]
    fn harness_save_is_an_upsert_on_id() {
        let s = state("harness");
        let m = manifest("exp", INLINE);
        let bare = save(
            &s,
            Dialect::Harness,
            &SaveInput {
                id: None,
                ..input("", "exp", &m, "i")
            },
        );
        assert!(bare.is_err_and(|e| e.contains("<environmentIdentifier>/<infraIdentity>")));
        let created = save(
            &s,
            Dialect::Harness,
            &SaveInput {
                id: None,
                ..input("", "exp", &m, "env/i")
            },
        )
        .unwrap();
        assert!(created.created);
        let updated = save(
            &s,
            Dialect::Harness,
            &input(&created.id, "exp", &m, "env/i"),
        )
        .unwrap();
        assert!(!updated.created);
        assert_eq!(s.revisions(&created.id), 2);
        let v2 = m.replace("argoproj.io/v1alpha1", "argoproj.io/v2");
        assert!(
            save(
                &s,
                Dialect::Harness,
                &input(&created.id, "exp", &v2, "env/i")
            )
            .is_err()
        );
    }

    #[test]
    fn inline_probes_are_read_by_lines() {
        let raw = "kind: ChaosEngine\nspec:\n  experiments:\n    - name: pod-delete\n      spec:\n        probe:\n          - name: http-cart\n            type: httpProbe\n          - name: second\n";
        assert_eq!(inline_probe_names(raw), ["http-cart", "second"]);
        assert!(inline_probe_names("kind: ChaosEngine\n").is_empty());
    }
}
