//! Harness REST v2 endpoints beyond stop: `runChaosV2Experiment`,
//! `getChaosV2ExperimentVariables`, one input set, and
//! `getProbesInExperiment`, with the shapes of Harness's published swagger
//! (harness-go-sdk `harness/chaos/api/swagger.json`, see
//! docs/platform-fidelity.md H-6 to H-10).
//!
//! What is received is checked as strictly as the GraphQL side checks a
//! document: the scope and required query parameters, booleans that are
//! booleans, and bodies with no unknown field and no wrong type, each
//! refused with 400 and a message.

use serde_json::{Map, Value, json};

use crate::scenario::{Experiment, HarnessConfig};
use crate::server::{HttpRequest, Reply};
use crate::state::State;

fn bad(message: impl Into<String>) -> Reply {
    Reply::json(
        400,
        &json!({ "code": "BAD_REQUEST", "description": "", "message": message.into() }),
    )
}

/// The scope parameters every REST v2 operation requires, and the
/// organization and project the scenario expects.
fn scope(config: &HarnessConfig, req: &HttpRequest) -> Result<Value, Reply> {
    let param = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
    let missing: Vec<&str> = ["organizationIdentifier", "projectIdentifier"]
        .into_iter()
        .filter(|n| param(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "missing required query parameter(s): {}",
            missing.join(", ")
        )));
    }
    let (org, project) = (
        param("organizationIdentifier").unwrap_or_default(),
        param("projectIdentifier").unwrap_or_default(),
    );
    if config.org_id.as_ref().is_some_and(|o| *o != org)
        || config.project_id.as_ref().is_some_and(|p| *p != project)
    {
        return Err(Reply::json(
            404,
            &json!({ "code": "RESOURCE_NOT_FOUND", "message": format!("project {project} not found in organization {org}") }),
        ));
    }
    Ok(json!({
        "accountIdentifier": config.account_id,
        "orgIdentifier": org,
        "projectIdentifier": project,
    }))
}

/// A required boolean query parameter.
fn required_bool(req: &HttpRequest, name: &str) -> Result<bool, Reply> {
    match req.query_param(name).as_deref() {
        None | Some("") => Err(bad(format!("missing required query parameter(s): {name}"))),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(bad(format!(
            "query parameter {name} must be a boolean (true or false), got {other:?}"
        ))),
    }
}

/// The experiment a path names: by identity with `isIdentity=true`, by ID
/// otherwise. A mismatch is "experiment not found", as third-party callers
/// report (reference A1).
fn experiment<'s>(
    state: &'s State,
    req: &HttpRequest,
    path_id: &str,
) -> Result<&'s Experiment, Reply> {
    let by_identity = required_bool(req, "isIdentity")?;
    let found = if by_identity {
        state.scenario.experiment_by_identity(path_id)
    } else {
        state.scenario.experiment(path_id)
    };
    found.filter(|e| !e.removed).ok_or_else(|| {
        bad(format!(
            "experiment not found: {path_id} (isIdentity={by_identity})"
        ))
    })
}

/// A JSON object body with only the `allowed` keys.
fn object_body(req: &HttpRequest, allowed: &[&str]) -> Result<Map<String, Value>, Reply> {
    if req.body.is_empty() {
        return Ok(Map::new());
    }
    let v: Value = serde_json::from_slice(&req.body)
        .map_err(|e| bad(format!("request body is not valid JSON: {e}")))?;
    let Value::Object(m) = v else {
        return Err(bad("request body must be a JSON object"));
    };
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(format!(
            "json: unknown field {k:?} (allowed: {})",
            allowed.join(", ")
        )));
    }
    Ok(m)
}

/// `[{name, value}]` of a `runtimeInputs` list, checked.
fn variable_list(v: &Value, place: &str) -> Result<Vec<(String, Value)>, Reply> {
    let Value::Array(items) = v else {
        return Err(bad(format!("{place} must be an array of {{name, value}}")));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else {
            return Err(bad(format!("{place}[{i}] must be an object")));
        };
        if let Some(k) = m.keys().find(|k| *k != "name" && *k != "value") {
            return Err(bad(format!("json: unknown field {k:?} in {place}[{i}]")));
        }
        let Some(Value::String(name)) = m
            .get("name")
            .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
        else {
            return Err(bad(format!(
                "{place}[{i}].name is required and must be a string"
            )));
        };
        let Some(value) = m.get("value") else {
            return Err(bad(format!("{place}[{i}].value is required")));
        };
        out.push((name.clone(), value.clone()));
    }
    Ok(out)
}

/// Resolved inputs: experiment-level and per task, name to value.
#[derive(Default)]
struct Inputs {
    experiment: Map<String, Value>,
    tasks: Map<String, Value>,
}

impl Inputs {
    fn get(&self, task: Option<&str>, name: &str) -> Option<&Value> {
        match task {
            None => self.experiment.get(name),
            Some(t) => self.tasks.get(t).and_then(|m| m.get(name)),
        }
    }

    fn to_value(&self) -> Value {
        json!({ "experiment": self.experiment, "tasks": self.tasks })
    }
}

fn runtime_inputs(v: &Value) -> Result<Inputs, Reply> {
    let Value::Object(m) = v else {
        return Err(bad("runtimeInputs must be an object"));
    };
    if let Some(k) = m.keys().find(|k| *k != "experiment" && *k != "tasks") {
        return Err(bad(format!("json: unknown field {k:?} in runtimeInputs")));
    }
    let mut out = Inputs::default();
    if let Some(list) = m.get("experiment").filter(|v| !v.is_null()) {
        for (n, v) in variable_list(list, "runtimeInputs.experiment")? {
            out.experiment.insert(n, v);
        }
    }
    if let Some(tasks) = m.get("tasks").filter(|v| !v.is_null()) {
        let Value::Object(tasks) = tasks else {
            return Err(bad(
                "runtimeInputs.tasks must be an object of task names to lists",
            ));
        };
        for (task, list) in tasks {
            let mut values = Map::new();
            for (n, v) in variable_list(list, &format!("runtimeInputs.tasks.{task}"))? {
                values.insert(n, v);
            }
            out.tasks.insert(task.clone(), Value::Object(values));
        }
    }
    Ok(out)
}

fn input_set_inputs(set: &crate::scenario::InputSet) -> Inputs {
    Inputs {
        experiment: set
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        tasks: set
            .tasks
            .iter()
            .map(|(t, m)| {
                (
                    t.clone(),
                    Value::Object(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                )
            })
            .collect(),
    }
}

/// The JSON `spec` of an input set: the run request's `runtimeInputs`.
fn input_set_spec(set: &crate::scenario::InputSet) -> String {
    let list = |m: &std::collections::BTreeMap<String, Value>| -> Vec<Value> {
        m.iter()
            .map(|(k, v)| json!({ "name": k, "value": v }))
            .collect()
    };
    let tasks: Map<String, Value> = set
        .tasks
        .iter()
        .map(|(t, m)| (t.clone(), Value::Array(list(m))))
        .collect();
    json!({ "experiment": list(&set.values), "tasks": tasks }).to_string()
}

/// `POST rest/v2/experiments/{experimentId}/run`: query scope,
/// `isIdentity` and `isOnboardingRun` (both required booleans); body
/// `{inputsetIdentity, runtimeInputs: {experiment: [{name, value}], tasks:
/// {task: [{name, value}]}}}`. With `runtimeInputs` the input set is
/// ignored (reference A1). A required variable without a default that the
/// inputs leave unset is refused (the real message is **uncertain**).
/// Answers `{"notifyID"}`, the swagger's `ReRunChaosWorkflowResponse`.
pub(super) fn run(
    state: &State,
    config: &HarnessConfig,
    req: &HttpRequest,
    path_id: &str,
) -> Reply {
    let ids = match scope(config, req) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    if let Err(r) = required_bool(req, "isOnboardingRun") {
        return r;
    }
    let exp = match experiment(state, req, path_id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let body = match object_body(req, &["inputsetIdentity", "runtimeInputs"]) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let set = match body.get("inputsetIdentity") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return bad("inputsetIdentity must be a string"),
    };
    let inputs = match body.get("runtimeInputs").filter(|v| !v.is_null()) {
        Some(v) => match runtime_inputs(v) {
            Ok(i) => i,
            Err(r) => return r,
        },
        None => match &set {
            Some(set) => match exp.input_sets.iter().find(|s| s.identity == *set) {
                Some(s) => input_set_inputs(s),
                None => {
                    return bad(format!(
                        "input set {set} not found for experiment {}",
                        exp.identity()
                    ));
                }
            },
            None => Inputs::default(),
        },
    };
    if !exp.infra_active {
        return bad("infrastructure is not active");
    }
    let missing: Vec<String> = exp
        .variables
        .iter()
        .filter(|v| v.required && v.default.is_none())
        .filter(|v| {
            inputs
                .get(v.task.as_deref(), &v.name)
                .is_none_or(|x| x.is_null() || x.as_str() == Some(""))
        })
        .map(|v| match &v.task {
            Some(t) => format!("{} (task {t})", v.name),
            None => v.name.clone(),
        })
        .collect();
    if !missing.is_empty() {
        return bad(format!(
            "runtime input(s) required but not provided: {}",
            missing.join(", ")
        ));
    }
    if exp.cron {
        return Reply::json(200, &json!({ "notifyID": "" }));
    }
    let run = state.start_run_with_inputs(exp, ids, inputs.to_value());
    Reply::json(200, &json!({ "notifyID": run.notify_id }))
}

/// `GET rest/v2/experiments/{experimentId}/variables` (`isIdentity`
/// required): `{experiment: [Variable], tasks: {task: [Variable]}}`.
pub(super) fn variables(
    state: &State,
    config: &HarnessConfig,
    req: &HttpRequest,
    path_id: &str,
) -> Reply {
    if let Err(r) = scope(config, req) {
        return r;
    }
    let exp = match experiment(state, req, path_id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let var = |v: &crate::scenario::Variable| {
        json!({
            "name": v.name,
            "value": v.default.clone().unwrap_or(Value::String(String::new())),
            "default": v.default,
            "type": "String",
            "category": if v.task.is_some() { "FaultTunable" } else { "ExperimentTunable" },
            "required": v.required,
            "stringify": false,
            "allowedValues": [],
            "description": "",
            "path": "",
            "tags": [],
        })
    };
    let experiment: Vec<Value> = exp
        .variables
        .iter()
        .filter(|v| v.task.is_none())
        .map(var)
        .collect();
    let mut tasks = Map::new();
    for v in exp.variables.iter().filter(|v| v.task.is_some()) {
        let task = v.task.clone().unwrap_or_default();
        if let Value::Array(list) = tasks.entry(task).or_insert_with(|| json!([])) {
            list.push(var(v));
        }
    }
    Reply::json(200, &json!({ "experiment": experiment, "tasks": tasks }))
}

/// `GET rest/v2/experiments/{experimentId}/inputsets/{inputsetId}`
/// (`isIdentity` required): `{correlationID, data: InputSet}` with `spec`
/// a JSON string.
pub(super) fn input_set(
    state: &State,
    config: &HarnessConfig,
    req: &HttpRequest,
    path_id: &str,
    set: &str,
) -> Reply {
    if let Err(r) = scope(config, req) {
        return r;
    }
    let exp = match experiment(state, req, path_id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Some(s) = exp.input_sets.iter().find(|s| s.identity == set) else {
        return bad(format!(
            "input set {set} not found for experiment {}",
            exp.identity()
        ));
    };
    Reply::json(
        200,
        &json!({
            "correlationID": "chaos-sim",
            "data": {
                "id": format!("{}-{}", exp.id, s.identity),
                "identity": s.identity,
                "name": s.identity,
                "description": "",
                "experimentID": exp.id,
                "accountID": config.account_id,
                "spec": input_set_spec(s),
                "version": 1,
                "isRemoved": false,
                "createdAt": state.started_ms,
                "updatedAt": state.started_ms,
            }
        }),
    )
}

/// `POST rest/v2/probes/experiment-run`, body `{experimentRunIds,
/// notifyIds}`: OR within a list, AND across lists, neither → 400 (Harness
/// MCP server). One entry per probe of each matching run's faults, with
/// `status {verdict, description}`; the verdict is the scenario's once the
/// run finished, `Awaited` before, `N/A` for a stopped run.
pub(super) fn probes(state: &State, config: &HarnessConfig, req: &HttpRequest) -> Reply {
    if let Err(r) = scope(config, req) {
        return r;
    }
    let body = match object_body(req, &["experimentRunIds", "notifyIds"]) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let list = |key: &str| -> Result<Option<Vec<String>>, Reply> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for v in a {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        _ => return Err(bad(format!("{key} must be an array of strings"))),
                    }
                }
                Ok((!out.is_empty()).then_some(out))
            }
            Some(_) => Err(bad(format!("{key} must be an array of strings"))),
        }
    };
    let (run_ids, notify_ids) = match (list("experimentRunIds"), list("notifyIds")) {
        (Ok(r), Ok(n)) => (r, n),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if run_ids.is_none() && notify_ids.is_none() {
        return bad("either experimentRunIds or notifyIds is required");
    }
    let runs = state.with_runs(|runs| runs.clone());
    let mut data = Vec::new();
    for run in &runs {
        let matches = |want: &Option<Vec<String>>, have: &str| {
            want.as_ref().is_none_or(|w| w.iter().any(|x| x == have))
        };
        if !matches(&run_ids, &run.run_id) || !matches(&notify_ids, &run.notify_id) {
            continue;
        }
        let Some(exp) = state.scenario.experiment(&run.experiment_id) else {
            continue;
        };
        let view = run.view(exp);
        for fault in &exp.faults {
            for p in &fault.probes {
                let (verdict, description) = if view.stopped && !run.finished_before_stop {
                    (
                        "N/A".to_string(),
                        "Either probe is not executed or not evaluated".to_string(),
                    )
                } else if view.finished {
                    (
                        p.verdict.clone(),
                        p.description
                            .clone()
                            .unwrap_or_else(|| match p.verdict.as_str() {
                                "Passed" => "Probe passed".to_string(),
                                _ => "Either probe is not executed or not evaluated".to_string(),
                            }),
                    )
                } else {
                    ("Awaited".to_string(), String::new())
                };
                data.push(json!({
                    "experimentId": exp.id,
                    "experimentName": exp.display_name(),
                    "experimentRunId": run.run_id,
                    "notifyId": run.notify_id,
                    "faultName": fault.name,
                    "nodeName": fault.name,
                    "name": p.name,
                    "probeId": p.name,
                    "type": p.r#type,
                    "mode": p.mode,
                    "isExperimentLevelProbe": false,
                    "probeYaml": "",
                    "probeDetails": {
                        "infrastructureType": "Kubernetes",
                        "runProperties": { "attempt": 1, "interval": "1s", "timeout": "10s" },
                    },
                    "status": { "verdict": verdict, "description": description },
                }));
            }
        }
    }
    Reply::json(200, &json!({ "data": data }))
}
