//! Experiment as code (README "Experiment as code"): the manifest in the repository, read and
//! checked before anything is sent.
//!
//! The manifest is the platform's own experiment format: an Argo
//! `Workflow` (`argoproj.io/v1alpha1`) whose fault steps carry a
//! ChaosEngine, as in Harness's "custom chaos experiments using API"
//! tutorial and as ChaosCenter's `saveChaosExperiment` takes it. Both
//! servers want it as JSON, so a YAML file is converted. The checks here are
//! the ones the servers make (and a few they make too late to be useful),
//! each reported with its place in the file: a line and column for a file
//! that does not parse, a path such as `spec.templates[2].name` for one
//! that parses but is not a usable experiment.
//!
//! Whether the stored experiment is up to date is decided by a digest of
//! the normalised manifest (keys sorted, compact JSON) and the settings that
//! go with it, stored as a tag on the experiment (see [`digest_tag`]).

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The tag that carries the digest: `chaos-gate-digest=<hex>`.
pub const DIGEST_TAG_PREFIX: &str = "chaos-gate-digest=";

/// A manifest that was read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file it came from, for messages.
    pub path: String,
    /// `metadata.name`: the experiment's name on the platform.
    pub name: String,
    /// `metadata.annotations.description`, if any (sent as the
    /// experiment's description).
    pub description: String,
    /// The manifest as JSON, keys sorted, no spaces: what is sent.
    pub json: String,
    /// The faults (ChaosEngine `generateName`s) with their weights.
    pub faults: Vec<(String, u32)>,
}

impl Manifest {
    /// The digest of what the gate would save: the normalised manifest,
    /// the infrastructure and the description. Two files that differ only
    /// in formatting, key order or YAML versus JSON have the same digest.
    pub fn digest(&self, infra_id: &str) -> String {
        let input = format!(
            "chaos-gate manifest v1\n{}\n{}\n{}",
            infra_id, self.description, self.json
        );
        let d = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
        d.as_ref()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The tag that marks the stored experiment as saved from this file.
    pub fn digest_tag(&self, infra_id: &str) -> String {
        digest_tag(&self.digest(infra_id))
    }
}

/// `chaos-gate-digest=<digest>`.
pub fn digest_tag(digest: &str) -> String {
    format!("{DIGEST_TAG_PREFIX}{digest}")
}

/// The digest a stored experiment's tags carry, if any.
pub fn stored_digest(tags: &[String]) -> Option<&str> {
    tags.iter()
        .find_map(|t| t.trim().strip_prefix(DIGEST_TAG_PREFIX))
}

/// One problem found in a manifest, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `line 3, column 7` or a path such as `spec.templates[2].name`.
    pub place: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// What the platform the manifest is for asks of it beyond its format;
/// each platform module says (`platform::harness::MANIFEST`,
/// `platform::litmus::MANIFEST`), so this module names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requirements {
    /// Every fault's probes are referenced by the ChaosEngine's `probeRef`
    /// annotation and none is declared inline: ChaosCenter turns inline
    /// probes into project probes on the first save (so every later save
    /// fails) and refuses a fault without probes.
    pub probes_by_reference: bool,
}

/// Reads and checks the manifest at `path`. `Err` holds every problem
/// found (a file that cannot be read or parsed has exactly one).
pub fn load(path: &Path, platform: Requirements) -> Result<Manifest, Vec<Problem>> {
    let text = std::fs::read(path).map_err(|e| {
        vec![Problem {
            place: "file".to_string(),
            message: format!("cannot read the file ({e})"),
        }]
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        vec![Problem {
            place: "file".to_string(),
            message: format!(
                "is not UTF-8 text (byte {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        }]
    })?;
    let value = parse(&text).map_err(|p| vec![p])?;
    check(&path.display().to_string(), value, platform)
}

/// Parses JSON (a document that starts with `{`) or YAML (anything else;
/// one document) into JSON values.
pub fn parse(text: &str) -> Result<Value, Problem> {
    let trimmed = text.trim_start_matches('\u{feff}');
    if trimmed.trim_start().starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| Problem {
            place: format!("line {}, column {}", e.line(), e.column()),
            message: format!("not valid JSON ({})", strip_position(&e.to_string())),
        });
    }
    let docs = YamlLoader::load_from_str(trimmed).map_err(|e| Problem {
        place: format!(
            "line {}, column {}",
            e.marker().line(),
            e.marker().col() + 1
        ),
        message: format!("not valid YAML ({})", e.info()),
    })?;
    let mut docs = docs.into_iter();
    let first = docs.next().ok_or_else(|| Problem {
        place: "file".to_string(),
        message: "is empty; it must hold one experiment manifest".to_string(),
    })?;
    if docs.next().is_some() {
        return Err(Problem {
            place: "file".to_string(),
            message: "holds several YAML documents; it must hold exactly one experiment"
                .to_string(),
        });
    }
    yaml_to_json(first, "").map_err(|(place, message)| Problem { place, message })
}

/// serde_json's messages end in " at line L column C", said separately.
fn strip_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |i| &message[..i])
}

/// A YAML value as JSON. Mapping keys must be scalars.
fn yaml_to_json(y: Yaml, path: &str) -> Result<Value, (String, String)> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::from(i),
        Yaml::Real(r) => match r.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::String(r),
        },
        Yaml::String(s) => Value::String(s),
        Yaml::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| yaml_to_json(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(h) => {
            let mut map = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Null => "null".to_string(),
                    _ => {
                        return Err((
                            place(path),
                            "has a mapping key that is not a plain value".to_string(),
                        ));
                    }
                };
                let child = join(path, &key);
                let v = yaml_to_json(v, &child)?;
                if map.insert(key.clone(), v).is_some() {
                    return Err((child, "appears twice".to_string()));
                }
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err((
                place(path),
                "uses a YAML alias or a value that cannot be read; write the value out".to_string(),
            ));
        }
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn place(path: &str) -> String {
    if path.is_empty() {
        "(top level)".to_string()
    } else {
        path.to_string()
    }
}

/// Compact JSON with every object's keys sorted, whatever the map type
/// serde_json was built with.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(child) = m.get(k) {
                    write_canonical(child, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A Kubernetes object name (DNS-1123 subdomain): what Argo and both
/// platforms accept as a workflow name.
fn is_k8s_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Labels the servers write into a saved manifest: a file copied from a
/// platform's export carries them, and they must not be sent back.
const SERVER_LABELS: &[&str] = &[
    "workflow_id",
    "infra_id",
    "revision_id",
    "workflows.argoproj.io/controller-instanceid",
];

/// Checks a parsed manifest; every problem is collected.
pub fn check(
    path: &str,
    mut value: Value,
    platform: Requirements,
) -> Result<Manifest, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |place: &str, message: String| {
        problems.push(Problem {
            place: place.to_string(),
            message,
        })
    };
    let Some(top) = value.as_object_mut() else {
        return Err(vec![Problem {
            place: "(top level)".to_string(),
            message: "is not a mapping; an experiment manifest is an Argo Workflow object"
                .to_string(),
        }]);
    };
    // A manifest exported from the platform carries the server's own
    // labels and status; the server sets them again on every save.
    if let Some(labels) = top
        .get_mut("metadata")
        .and_then(|m| m.get_mut("labels"))
        .and_then(Value::as_object_mut)
    {
        for l in SERVER_LABELS {
            labels.remove(*l);
        }
    }
    top.remove("status");
    if let Some(meta) = top.get_mut("metadata").and_then(Value::as_object_mut) {
        if meta.get("creationTimestamp").is_some_and(Value::is_null) {
            meta.remove("creationTimestamp");
        }
        if meta
            .get("labels")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            meta.remove("labels");
        }
    }

    match top.get("kind").and_then(Value::as_str) {
        Some("Workflow") => {}
        Some(k @ ("CronWorkflow" | "ChaosSchedule")) => problem(
            "kind",
            format!(
                "is {k}: a scheduled experiment is started by its schedule and cannot be gated; use kind Workflow"
            ),
        ),
        Some(k) => problem(
            "kind",
            format!("is {k:?}; an experiment manifest is an Argo Workflow (kind: Workflow)"),
        ),
        None => problem(
            "kind",
            "is missing; an experiment manifest is an Argo Workflow (kind: Workflow)".to_string(),
        ),
    }
    match top.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v.starts_with("argoproj.io/") => {}
        Some(v) => problem(
            "apiVersion",
            format!("is {v:?}; a Workflow manifest has apiVersion argoproj.io/v1alpha1"),
        ),
        None => problem(
            "apiVersion",
            "is missing; use argoproj.io/v1alpha1".to_string(),
        ),
    }
    let name = top
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match &name {
        None => problem(
            "metadata.name",
            "is missing; the experiment is found and saved by this name".to_string(),
        ),
        Some(n) if !is_k8s_name(n) => problem(
            "metadata.name",
            format!(
                "{n:?} is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit"
            ),
        ),
        Some(_) => {}
    }
    if top
        .get("metadata")
        .and_then(|m| m.get("generateName"))
        .is_some()
        && name.is_none()
    {
        problem(
            "metadata.generateName",
            "is not enough: the servers match the experiment by metadata.name".to_string(),
        );
    }
    let description = top
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();

    let declared: Vec<String> = top
        .get("spec")
        .and_then(|s| s.get("arguments"))
        .and_then(|a| a.get("parameters"))
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter(|p| p.get("value").is_some_and(|v| !v.is_null()))
                .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();

    let mut faults = Vec::new();
    let templates = top
        .get("spec")
        .and_then(|s| s.get("templates"))
        .and_then(Value::as_array);
    match templates {
        None => problem(
            "spec.templates",
            "is missing or not a list; a Workflow needs its templates".to_string(),
        ),
        Some(ts) if ts.is_empty() => problem("spec.templates", "is empty".to_string()),
        Some(ts) => {
            let mut names = Vec::new();
            for (i, t) in ts.iter().enumerate() {
                let at = format!("spec.templates[{i}]");
                match t.get("name").and_then(Value::as_str) {
                    Some(n) if !n.trim().is_empty() => names.push(n.to_string()),
                    _ => problem(&format!("{at}.name"), "is missing".to_string()),
                }
                let artifacts = t
                    .get("inputs")
                    .and_then(|i| i.get("artifacts"))
                    .and_then(Value::as_array);
                for (j, a) in artifacts.into_iter().flatten().enumerate() {
                    let Some(raw) = a
                        .get("raw")
                        .and_then(|r| r.get("data"))
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    let at = format!("{at}.inputs.artifacts[{j}].raw.data");
                    check_engine(raw, &at, t, platform, &mut faults, &mut problem);
                }
            }
            match top
                .get("spec")
                .and_then(|s| s.get("entrypoint"))
                .and_then(Value::as_str)
            {
                None => problem(
                    "spec.entrypoint",
                    "is missing; name the template the workflow starts with".to_string(),
                ),
                Some(e) if !names.iter().any(|n| n == e) => problem(
                    "spec.entrypoint",
                    format!("names {e:?}, which is not one of spec.templates[].name"),
                ),
                Some(_) => {}
            }
        }
    }
    if templates.is_some_and(|t| !t.is_empty()) && faults.is_empty() {
        problem(
            "spec.templates",
            "hold no fault: no template carries a ChaosEngine (inputs.artifacts[].raw.data with kind: ChaosEngine)".to_string(),
        );
    }
    // Every `{{workflow.parameters.X}}` the manifest uses must be declared
    // with a value, or the run fails on the cluster.
    let text = canonical(&value);
    for used in parameters_used(&text) {
        if !declared.contains(&used) {
            problem(
                "spec.arguments.parameters",
                format!(
                    "does not give a value for {used:?}, which the manifest uses as {{{{workflow.parameters.{used}}}}}"
                ),
            );
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Manifest {
        path: path.to_string(),
        name: name.unwrap_or_default(),
        description,
        json: text,
        faults,
    })
}

/// Checks one artifact's raw YAML; a ChaosEngine is a fault.
fn check_engine(
    raw: &str,
    at: &str,
    template: &Value,
    platform: Requirements,
    faults: &mut Vec<(String, u32)>,
    problem: &mut impl FnMut(&str, String),
) {
    let engine = match parse(raw) {
        Ok(v) => v,
        Err(p) => {
            // Only a ChaosEngine matters; other artifacts are the cluster's.
            if raw.contains("kind: ChaosEngine") {
                problem(at, format!("{}: {}", p.place, p.message));
            }
            return;
        }
    };
    if engine.get("kind").and_then(Value::as_str) != Some("ChaosEngine") {
        return;
    }
    let name = engine
        .get("metadata")
        .and_then(|m| m.get("generateName").or_else(|| m.get("name")))
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty());
    let Some(name) = name else {
        problem(
            &format!("{at} (ChaosEngine) metadata.generateName"),
            "is missing; the servers name the fault by it".to_string(),
        );
        return;
    };
    let experiments = engine
        .get("spec")
        .and_then(|s| s.get("experiments"))
        .and_then(Value::as_array);
    if experiments.is_none_or(|e| e.is_empty()) {
        problem(
            &format!("{at} (ChaosEngine {name}) spec.experiments"),
            "is empty; a ChaosEngine runs at least one fault".to_string(),
        );
    }
    let probe_ref = engine
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("probeRef"))
        .is_some();
    let inline = experiments
        .into_iter()
        .flatten()
        .any(|e| e.get("spec").and_then(|s| s.get("probe")).is_some());
    if platform.probes_by_reference {
        if inline {
            problem(
                &format!("{at} (ChaosEngine {name}) spec.experiments[].spec.probe"),
                "declares a probe inline: ChaosCenter turns inline probes into project probes on the first save, and every later save of this file then fails with \"probe already exists\". Create the probe in ChaosCenter and reference it with the probeRef annotation".to_string(),
            );
        } else if !probe_ref {
            problem(
                &format!("{at} (ChaosEngine {name}) metadata.annotations.probeRef"),
                "is missing: ChaosCenter refuses a fault without probes (\"no probes specified in chaosengine\")".to_string(),
            );
        }
    }
    let weight = template
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get("weight"));
    let weight_place = "metadata.labels.weight";
    let tname = template.get("name").and_then(Value::as_str).unwrap_or("?");
    let at_weight = format!(
        "{} (template {tname}) {weight_place}",
        at.split(".inputs").next().unwrap_or(at)
    );
    match weight {
        None => problem(
            &at_weight,
            format!(
                "is missing: give fault {name} a weight from 0 to 10 (the resilience score weighs each fault by it)"
            ),
        ),
        Some(w) => {
            let parsed = match w {
                Value::String(s) => s.trim().parse::<u32>().ok(),
                Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                _ => None,
            };
            match parsed {
                Some(n) if n <= 10 => faults.push((name.to_string(), n)),
                _ => problem(
                    &at_weight,
                    format!("is {w}; use a whole number from 0 to 10"),
                ),
            }
        }
    }
}

/// The names `{{workflow.parameters.NAME}}` refers to, in order, once each.
fn parameters_used(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("workflow.parameters.") {
        let after = &rest[i + "workflow.parameters.".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let before = rest[..i].trim_end();
        if before.ends_with("{{") && !name.is_empty() && !out.contains(&name) {
            out.push(name.clone());
        }
        rest = &after[name.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARNESS: Requirements = crate::platform::harness::MANIFEST;
    const LITMUS: Requirements = crate::platform::litmus::MANIFEST;

    const ENGINE: &str = "apiVersion: litmuschaos.io/v1alpha1\nkind: ChaosEngine\nmetadata:\n  generateName: pod-delete-ji5\n  namespace: \"{{workflow.parameters.adminModeNamespace}}\"\n  annotations:\n    probeRef: '[{\"name\":\"http-cartservice-probe\",\"mode\":\"Continuous\"}]'\nspec:\n  experiments:\n    - name: pod-delete\n";

    fn manifest(weight: &str) -> Value {
        serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": { "name": "cart-pod-delete", "labels": { "workflow_id": "x" } },
            "spec": {
                "entrypoint": "main",
                "arguments": { "parameters": [ { "name": "adminModeNamespace", "value": "hce" } ] },
                "templates": [
                    { "name": "main", "steps": [] },
                    { "name": "pod-delete-ji5",
                      "metadata": { "labels": { "weight": weight } },
                      "inputs": { "artifacts": [ { "name": "e", "raw": { "data": ENGINE } } ] } }
                ]
            },
            "status": {}
        })
    }

    #[test]
    fn a_good_manifest_is_normalised() {
        let m = check("f", manifest("10"), LITMUS).unwrap();
        assert_eq!(m.name, "cart-pod-delete");
        assert_eq!(m.faults, vec![("pod-delete-ji5".to_string(), 10)]);
        assert!(!m.json.contains("workflow_id"), "server labels dropped");
        assert!(!m.json.contains("status"));
        assert!(m.json.starts_with("{\"apiVersion\""));
    }

    #[test]
    fn problems_name_their_place() {
        let mut v = manifest("eleven");
        v["spec"]["templates"][0]["name"] = Value::Null;
        v["metadata"]["name"] = Value::Null;
        v["spec"]["arguments"] = serde_json::json!({});
        let e = check("f", v, HARNESS).unwrap_err();
        let places: Vec<&str> = e.iter().map(|p| p.place.as_str()).collect();
        assert!(places.contains(&"metadata.name"), "{e:?}");
        assert!(places.contains(&"spec.templates[0].name"), "{e:?}");
        assert!(places.contains(&"spec.arguments.parameters"), "{e:?}");
        assert!(
            places.iter().any(|p| p.ends_with("metadata.labels.weight")),
            "{e:?}"
        );
    }

    #[test]
    fn yaml_and_json_have_the_same_digest() {
        let json = serde_json::to_string_pretty(&manifest("10")).unwrap();
        let a = check("a", parse(&json).unwrap(), HARNESS).unwrap();
        let yaml = "kind: Workflow\napiVersion: argoproj.io/v1alpha1\nmetadata: {name: cart-pod-delete}\nspec:\n  entrypoint: main\n  arguments:\n    parameters: [{name: adminModeNamespace, value: hce}]\n  templates:\n    - name: main\n      steps: []\n    - name: pod-delete-ji5\n      metadata: {labels: {weight: '10'}}\n      inputs:\n        artifacts:\n          - name: e\n            raw:\n              data: "
            .to_string()
            + &serde_json::to_string(ENGINE).unwrap()
            + "\n";
        let b = check("b", parse(&yaml).unwrap(), HARNESS).unwrap();
        assert_eq!(a.json, b.json);
        assert_eq!(a.digest("infra"), b.digest("infra"));
        assert_ne!(a.digest("infra"), a.digest("other-infra"));
    }

    #[test]
    fn parse_errors_have_a_line_and_column() {
        let e = parse("kind: Workflow\nmetadata:\n  name: [x\n").unwrap_err();
        assert!(e.place.starts_with("line "), "{e}");
        let e = parse("{\n  \"kind\": }").unwrap_err();
        assert_eq!(e.place, "line 2, column 11");
    }

    #[test]
    fn inline_probes_are_refused_on_litmus_only() {
        let engine = ENGINE.replace("  annotations:\n    probeRef: '[{\"name\":\"http-cartservice-probe\",\"mode\":\"Continuous\"}]'\n", "")
            + "      spec:\n        probe:\n          - name: p\n";
        let mut v = manifest("10");
        v["spec"]["templates"][1]["inputs"]["artifacts"][0]["raw"]["data"] = Value::String(engine);
        assert!(check("f", v.clone(), HARNESS).is_ok());
        let e = check("f", v, LITMUS).unwrap_err();
        assert!(e[0].message.contains("probe already exists"), "{e:?}");
    }

    #[test]
    fn digests_are_found_in_tags() {
        let tags = vec![
            "fault=pod-delete".to_string(),
            "chaos-gate-digest=abc".to_string(),
        ];
        assert_eq!(stored_digest(&tags), Some("abc"));
        assert_eq!(stored_digest(&[]), None);
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;
    use crate::platform::{harness::MANIFEST as HARNESS, litmus::MANIFEST as LITMUS};

    fn example(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/experiments")
            .join(name)
    }

    #[test]
    fn the_examples_pass_their_platforms_checks() {
        let h = load(&example("harness-cart-pod-delete.yaml"), HARNESS).unwrap();
        assert_eq!(h.name, "cart-pod-delete");
        assert_eq!(h.faults, vec![("pod-delete-cart".to_string(), 10)]);
        let l = load(&example("litmus-cart-pod-delete.yaml"), LITMUS).unwrap();
        assert_eq!(l.name, "cart-pod-delete");
        // The Harness example declares its probe inline, which ChaosCenter
        // cannot save twice.
        let e = load(&example("harness-cart-pod-delete.yaml"), LITMUS).unwrap_err();
        assert!(e[0].message.contains("probe already exists"), "{e:?}");
    }
}
