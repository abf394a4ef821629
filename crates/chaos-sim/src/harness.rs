//! The Harness Chaos Engineering dialect: its routes, its authentication,
//! and the resolvers of `runChaosExperiment`, `listWorkflowRun` and
//! `listWorkflow`, plus the REST v2 endpoints a gate uses: run
//! (`runChaosV2Experiment`), variables, input sets, probe results and stop.
//!
//! Everything Harness-specific lives here; the HTTP plumbing, injection and
//! GraphQL projection are shared (`server`, `graphql`), so another dialect
//! is another module like this one.

use std::sync::OnceLock;

use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use serde_json::{Value, json};

use crate::execution;
use crate::graphql::{self, GqlRequest, RootField};
use crate::scenario::{Experiment, HarnessConfig, Scenario};
use crate::server::{Action as ServerAction, Call, HttpRequest, Reply};
use crate::state::{Run, RunView, State};

pub(crate) const SCHEMA_SDL: &str = include_str!("../schema/harness-chaos-subset.graphql");
const BASE: &str = "/gateway/chaos/manager/api";
const QUERY_PATH: &str = "/gateway/chaos/manager/api/query";
const REST_V2: &str = "/gateway/chaos/manager/api/rest/v2/";
/// `GET` lists experiments (`listChaosV2Experiment`), `POST` saves one
/// (`saveChaosV2Experiment`).
const EXPERIMENT_PATH: &str = "/gateway/chaos/manager/api/rest/v2/experiment";

fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| graphql::parse_schema(SCHEMA_SDL, "harness-chaos-subset.graphql"))
}

/// Parses the embedded schema now rather than on the first request.
pub(crate) fn check_schema() {
    schema();
}

/// A Harness request, decoded far enough to be recorded and injected.
pub(crate) enum Action {
    Graphql(Result<GqlRequest, Reply>),
    Stop { experiment_id: String },
    Run { experiment: String },
    Variables { experiment: String },
    InputSet { experiment: String, set: String },
    Probes,
    ListV2,
    SaveV2,
}

/// Recognises the Harness routes; `None` for any other path.
pub(crate) fn classify(_state: &State, req: &HttpRequest) -> Option<Call> {
    if req.path == EXPERIMENT_PATH && (req.method == "GET" || req.method == "POST") {
        let (operation, action) = if req.method == "GET" {
            ("listChaosV2Experiment", Action::ListV2)
        } else {
            ("saveChaosV2Experiment", Action::SaveV2)
        };
        return Some(Call {
            operation: Some(operation.into()),
            notify_ids: Vec::new(),
            action: ServerAction::Harness(Box::new(action)),
        });
    }
    if !req.path.starts_with(BASE) {
        return None;
    }
    if req.path == QUERY_PATH && req.method == "POST" {
        return Some(
            match graphql::parse_request(schema(), req.header("content-type"), &req.body) {
                Ok(gql) => {
                    let notify_ids = gql
                        .root_fields()
                        .iter()
                        .filter(|f| f.name == "listWorkflowRun")
                        .flat_map(|f| {
                            string_list(f.args.get("request").and_then(|r| r.get("notifyIDs")))
                                .unwrap_or_default()
                        })
                        .collect();
                    Call {
                        operation: gql.operation_name(),
                        notify_ids,
                        action: ServerAction::Harness(Box::new(Action::Graphql(Ok(gql)))),
                    }
                }
                Err(rejection) => Call {
                    operation: rejection.operation,
                    notify_ids: Vec::new(),
                    action: ServerAction::Harness(Box::new(Action::Graphql(Err(rejection.reply)))),
                },
            },
        );
    }
    // REST v2: every path segment decoded on its own, so an encoded `/`
    // stays inside its segment (and names no experiment).
    let rest = req.path.strip_prefix(REST_V2)?;
    let segs: Vec<String> = rest.split('/').map(crate::server::percent_decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let nonempty = |s: &str| !s.is_empty();
    let (operation, action) = match (req.method.as_str(), segs.as_slice()) {
        ("POST", ["experiment", id, "stop"]) if nonempty(id) => (
            "stop",
            Action::Stop {
                experiment_id: id.to_string(),
            },
        ),
        ("POST", ["experiments", id, "run"]) if nonempty(id) => (
            "runChaosV2Experiment",
            Action::Run {
                experiment: id.to_string(),
            },
        ),
        ("GET", ["experiments", id, "variables"]) if nonempty(id) => (
            "getChaosV2ExperimentVariables",
            Action::Variables {
                experiment: id.to_string(),
            },
        ),
        ("GET", ["experiments", id, "inputsets", set]) if nonempty(id) && nonempty(set) => (
            "getInputSet",
            Action::InputSet {
                experiment: id.to_string(),
                set: set.to_string(),
            },
        ),
        ("POST", ["probes", "experiment-run"]) => ("getProbesInExperiment", Action::Probes),
        _ => return None,
    };
    let notify_ids = match &action {
        Action::Stop { .. } => req
            .query_param("notifyId")
            .filter(|n| !n.is_empty())
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    Some(Call {
        operation: Some(operation.into()),
        notify_ids,
        action: ServerAction::Harness(Box::new(action)),
    })
}

/// Carries out a Harness call: authentication first, as the gateway does,
/// then the GraphQL operation or the stop.
pub(crate) fn execute(state: &State, req: &HttpRequest, action: &Action) -> Reply {
    // The server only routes here in a Harness scenario, which the scenario
    // check guarantees has a `[harness]` table.
    let Some(config) = state.scenario.harness.as_ref() else {
        return Reply::not_found();
    };
    if let Some(refusal) = authenticate(config, req) {
        return refusal;
    }
    match action {
        Action::Graphql(Err(reply)) => reply.clone(),
        Action::Graphql(Ok(gql)) => gql.execute(|root| resolve(state, config, root)),
        Action::Stop { experiment_id } => stop(state, config, req, experiment_id),
        Action::Run { experiment } => rest_v2::run(state, config, req, experiment),
        Action::Variables { experiment } => rest_v2::variables(state, config, req, experiment),
        Action::InputSet { experiment, set } => {
            rest_v2::input_set(state, config, req, experiment, set)
        }
        Action::Probes => rest_v2::probes(state, config, req),
        Action::ListV2 => list_v2(state, config, req),
        Action::SaveV2 => save_v2(state, config, req),
    }
}

/// The gateway's checks: the API key (401), then the account in the query
/// string and the `Harness-Account` header (403).
fn authenticate(config: &HarnessConfig, req: &HttpRequest) -> Option<Reply> {
    if req.header("x-api-key") != Some(config.api_key.as_str()) {
        return Some(Reply::json(
            401,
            &json!({ "status": "ERROR", "code": "INVALID_TOKEN", "message": "Token is not valid" }),
        ));
    }
    let denied = |message: String| {
        Some(Reply::json(
            403,
            &json!({ "status": "ERROR", "code": "ACCESS_DENIED", "message": message }),
        ))
    };
    match req.query_param("accountIdentifier") {
        None => return denied("accountIdentifier query parameter is missing".into()),
        Some(acc) if acc != config.account_id => {
            return denied(format!("the API key does not belong to account {acc}"));
        }
        Some(_) => {}
    }
    match req.header("harness-account") {
        None => denied("Harness-Account header is missing".into()),
        Some(acc) if acc != config.account_id => {
            denied(format!("the API key does not belong to account {acc}"))
        }
        Some(_) => None,
    }
}

/// A list argument of strings, `None` when absent, null or empty (no filter).
fn string_list(value: Option<&Value>) -> Option<Vec<String>> {
    let items: Vec<String> = value?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    (!items.is_empty()).then_some(items)
}

/// Checks the `identifiers` argument against the scenario and returns it.
fn identifiers(
    config: &HarnessConfig,
    args: &serde_json::Map<String, Value>,
) -> Result<Value, String> {
    let ids = args.get("identifiers").cloned().unwrap_or(Value::Null);
    let field = |name: &str| {
        ids.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (account, org, project) = (
        field("accountIdentifier"),
        field("orgIdentifier"),
        field("projectIdentifier"),
    );
    if account.is_empty() || org.is_empty() || project.is_empty() {
        return Err(
            "identifiers must carry accountIdentifier, orgIdentifier and projectIdentifier".into(),
        );
    }
    if account != config.account_id {
        return Err(format!(
            "accountIdentifier {account} does not match the account of the request"
        ));
    }
    if config.org_id.as_ref().is_some_and(|o| *o != org) {
        return Err(format!("organization {org} not found"));
    }
    if config.project_id.as_ref().is_some_and(|p| *p != project) {
        return Err(format!("project {project} not found in organization {org}"));
    }
    Ok(ids)
}

fn resolve(state: &State, config: &HarnessConfig, root: &RootField) -> Result<Value, String> {
    let ids = identifiers(config, &root.args)?;
    match root.name.as_str() {
        "runChaosExperiment" => run_experiment(state, root, ids),
        "listWorkflowRun" => Ok(list_workflow_runs(state, root)),
        "listWorkflow" => Ok(list_workflows(state, root, ids)),
        "getInfraDetails" => infra_details(state, root, ids),
        other => Err(format!("{other} is not implemented by chaos-sim")),
    }
}

fn run_experiment(state: &State, root: &RootField, ids: Value) -> Result<Value, String> {
    let id = root
        .args
        .get("workflowID")
        .and_then(Value::as_str)
        .unwrap_or("");
    let exp = state
        .experiment(id)
        .filter(|e| !e.removed)
        .ok_or_else(|| format!("experiment {id} not found"))?;
    if !exp.infra_active {
        return Err("infrastructure is not active".into());
    }
    if exp.cron {
        // A scheduled experiment is started by its schedule, not by this
        // call; the platform answers an empty notify ID.
        return Ok(json!({ "notifyID": "" }));
    }
    let notify_id = state.start_run(&exp, ids);
    Ok(json!({ "notifyID": notify_id }))
}

fn user() -> Value {
    json!({ "userID": "chaos-sim-user", "username": "chaos-sim", "email": "chaos-sim@example.invalid" })
}

fn weightages(exp: &Experiment) -> Value {
    exp.faults
        .iter()
        .map(|f| json!({ "experimentName": f.name, "weightage": 10 }))
        .collect()
}

fn infra(exp: &Experiment) -> Value {
    json!({
        "infraID": "chaos-sim-infra",
        "name": "chaos-sim-infra",
        "isActive": exp.infra_active,
        "isInfraConfirmed": true,
        "infraNamespace": "hce",
        "infraScope": "namespace",
    })
}

/// The whole WorkflowRun object; the GraphQL layer cuts it down to the
/// selection. The two large strings are only built when selected.
fn workflow_run(exp: &Experiment, run: &Run, view: &RunView, root: &RootField) -> Value {
    let [passed, failed, awaited, stopped, na] = execution::fault_counts(exp, view);
    json!({
        "identifiers": run.identifiers,
        "workflowRunID": run.run_id,
        "workflowType": "CHAOS",
        "workflowID": exp.id,
        "weightages": weightages(exp),
        "updatedAt": run.updated_ms.to_string(),
        "createdAt": run.created_ms.to_string(),
        "cronSyntax": "",
        "infra": infra(exp),
        "workflowName": exp.display_name(),
        "workflowDescription": exp.description,
        "workflowManifest": if root.wants("workflowManifest") { execution::manifest(exp) } else { String::new() },
        "phase": view.phase,
        "resiliencyScore": if view.finished { run.final_score(exp) } else { None },
        "experimentsPassed": passed,
        "experimentsFailed": failed,
        "experimentsAwaited": awaited,
        "experimentsStopped": stopped,
        "experimentsNa": na,
        "totalExperiments": exp.faults.len(),
        "executionData": if root.wants("executionData") { execution::execution_data(exp, run, view) } else { String::new() },
        "isRemoved": false,
        "updatedBy": user(),
        "createdBy": user(),
        "notifyID": run.notify_id,
        "errorResponse": if view.finished { exp.error_response.clone() } else { None },
    })
}

/// `listWorkflowRun`: every run matching all given filters counts one poll
/// and is listed unless it is still in its unlisted period. Newest first,
/// as the platform sorts by default.
fn list_workflow_runs(state: &State, root: &RootField) -> Value {
    let request = root.args.get("request");
    let filter = |key: &str| string_list(request.and_then(|r| r.get(key)));
    let (notify_ids, workflow_ids, run_ids) = (
        filter("notifyIDs"),
        filter("workflowIDs"),
        filter("workflowRunIDs"),
    );
    // Hash sets: a poll naming thousands of runs is matched in linear time.
    let sets = |want: Option<Vec<String>>| {
        want.map(|w| w.into_iter().collect::<std::collections::HashSet<String>>())
    };
    let (notify_ids, workflow_ids, run_ids) = (sets(notify_ids), sets(workflow_ids), sets(run_ids));
    let matches = |want: &Option<std::collections::HashSet<String>>, have: &str| {
        want.as_ref().is_none_or(|w| w.contains(have))
    };

    // A lookup (no notify IDs) does not see a run still in its
    // `unlisted_lists`; a hidden run counts no poll.
    let lookup = notify_ids.is_none();
    // Count polls under the lock; build the (possibly huge) objects after.
    let listed: Vec<(Run, RunView)> = state.with_runs(|runs| {
        runs.iter_mut()
            .filter(|r| {
                matches(&notify_ids, &r.notify_id)
                    && matches(&workflow_ids, &r.experiment_id)
                    && matches(&run_ids, &r.run_id)
            })
            .filter_map(|run| {
                let exp = state.experiment(&run.experiment_id)?;
                if lookup {
                    let answers = run.list_answers;
                    run.list_answers = answers.saturating_add(1);
                    if answers < exp.unlisted_lists {
                        return None;
                    }
                }
                run.poll(&exp).then(|| (run.clone(), run.view(&exp)))
            })
            .collect()
    });
    // Newest first, then cut to `pagination` (pages count from 0); the
    // total counts before the cut.
    let total = listed.len();
    let pagination = request.and_then(|r| r.get("pagination"));
    let limit = pagination
        .and_then(|p| p.get("limit"))
        .and_then(Value::as_u64)
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let page = pagination
        .and_then(|p| p.get("page"))
        .and_then(Value::as_u64)
        .map_or(0, |p| usize::try_from(p).unwrap_or(usize::MAX));
    let runs: Vec<Value> = listed
        .iter()
        .rev()
        .skip(page.saturating_mul(limit))
        .take(limit)
        .filter_map(|(run, view)| {
            let exp = state.experiment(&run.experiment_id)?;
            Some(workflow_run(&exp, run, view, root))
        })
        .collect();
    json!({ "totalNoOfWorkflowRuns": total, "workflowRuns": runs })
}

/// `listWorkflow`: the stored experiments matching `workflowIDs` /
/// `identities` (all when neither is given), removed ones included so a
/// client can tell "removed" from "unknown".
fn list_workflows(state: &State, root: &RootField, ids: Value) -> Value {
    let request = root.args.get("request");
    let workflow_ids = string_list(request.and_then(|r| r.get("workflowIDs")));
    let identities = string_list(request.and_then(|r| r.get("identities")));
    let created = state.started_ms.saturating_sub(86_400_000).to_string();
    let last_run: Vec<(String, u64)> = state.with_runs(|runs| {
        runs.iter()
            .map(|r| (r.experiment_id.clone(), r.created_ms))
            .collect()
    });
    let workflows: Vec<Value> = state
        .experiments()
        .iter()
        .filter(|e| workflow_ids.as_ref().is_none_or(|w| w.contains(&e.id)))
        .filter(|e| {
            identities
                .as_ref()
                .is_none_or(|w| w.iter().any(|i| i == e.identity()))
        })
        .map(|exp| {
            let last = last_run.iter().filter(|(id, _)| *id == exp.id).map(|(_, t)| *t).max();
            json!({
                "identifiers": ids,
                "identity": exp.identity(),
                "workflowID": exp.id,
                "workflowType": "CHAOS",
                "workflowManifest": if root.wants("workflowManifest") { execution::manifest(exp) } else { String::new() },
                "cronSyntax": if exp.cron { "*/30 * * * *" } else { "" },
                "isCronEnabled": exp.cron,
                "name": exp.display_name(),
                "description": exp.description,
                "weightages": weightages(exp),
                "isCustomWorkflow": true,
                "updatedAt": created,
                "createdAt": created,
                "infra": infra(exp),
                "isRemoved": exp.removed,
                "tags": tags(exp),
                "lastExecutedAt": last.map(|t| t.to_string()).unwrap_or_default(),
            })
        })
        .collect();
    json!({ "totalNoOfWorkflows": workflows.len(), "workflows": workflows })
}

fn tags(exp: &Experiment) -> Value {
    if exp.tags.is_empty() {
        json!(["chaos-sim"])
    } else {
        json!(exp.tags)
    }
}

/// `getInfraDetails`: the scenario's `[[infras]]`; each look-up counts
/// toward `active_after_polls`. The real answer for an unknown ID is not
/// published (the sim's message is a guess; see the fidelity record).
fn infra_details(state: &State, root: &RootField, ids: Value) -> Result<Value, String> {
    let id = root
        .args
        .get("infraID")
        .and_then(Value::as_str)
        .unwrap_or("");
    let infra = state
        .infra_lookup(id)
        .ok_or_else(|| format!("infra {id} not found"))?;
    let connected = state.started_ms.saturating_sub(2 * 86_400_000).to_string();
    Ok(json!({
        "identifiers": ids,
        "infraID": infra.id,
        "name": infra.name,
        "description": "simulated chaos infrastructure",
        "tags": ["chaos-sim"],
        "environmentID": "chaos-sim-env",
        "platformName": "Others",
        "isActive": infra.active,
        "isInfraConfirmed": infra.active,
        "isRemoved": false,
        "updatedAt": connected,
        "createdAt": connected,
        "token": "chaos-sim-infra-token",
        "infraNamespace": "hce",
        "infraScope": "namespace",
        "installationType": "MANIFEST",
        "startTime": connected,
        "version": "1.50.0",
        "updateStatus": "NOT_REQUIRED",
        "clusterType": "KUBERNETES",
        "infraType": "Kubernetes",
    }))
}

/// The scope query parameters every REST v2 call needs (the swagger marks
/// them required), checked against the scenario.
fn rest_scope(config: &HarnessConfig, req: &HttpRequest) -> Result<(), Reply> {
    let param = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
    let (Some(org), Some(project)) = (param("organizationIdentifier"), param("projectIdentifier"))
    else {
        return Err(Reply::json(
            400,
            &json!({ "message": "missing required query parameter(s): organizationIdentifier, projectIdentifier" }),
        ));
    };
    if config.org_id.as_ref().is_some_and(|o| *o != org)
        || config.project_id.as_ref().is_some_and(|p| *p != project)
    {
        return Err(not_found(format!(
            "project {project} not found in organization {org}"
        )));
    }
    Ok(())
}

/// `GET /rest/v2/experiment` (`listChaosV2Experiment`): `page` and `limit`
/// are required; `experimentName` matches part of a name (the exact match
/// rule is not published).
fn list_v2(state: &State, config: &HarnessConfig, req: &HttpRequest) -> Reply {
    if let Err(r) = rest_scope(config, req) {
        return r;
    }
    let (Some(page), Some(limit)) = (
        req.query_param("page")
            .and_then(|p| p.parse::<usize>().ok()),
        req.query_param("limit")
            .and_then(|l| l.parse::<usize>().ok()),
    ) else {
        return Reply::json(
            400,
            &json!({ "message": "missing required query parameter(s): page, limit" }),
        );
    };
    let name = req.query_param("experimentName").unwrap_or_default();
    let found: Vec<Value> = state
        .experiments()
        .iter()
        .filter(|e| name.is_empty() || e.display_name().contains(name.as_str()))
        .map(|exp| {
            json!({
                "experimentID": exp.id,
                "workflowID": exp.id,
                "identity": exp.id,
                "name": exp.display_name(),
                "description": exp.description,
                "tags": tags(exp),
                "isRemoved": exp.removed,
                "isCustomWorkflow": true,
                "workflowType": "Workflow",
                "infra": { "identity": "chaos-sim-infra", "name": "chaos-sim-infra" },
            })
        })
        .collect();
    let total = found.len();
    let data: Vec<Value> = found
        .into_iter()
        .skip(page.saturating_mul(limit))
        .take(limit)
        .collect();
    Reply::json(
        200,
        &json!({
            "data": data,
            "pagination": { "index": page, "limit": limit, "totalItems": total,
                            "totalPages": total.div_ceil(limit.max(1)) },
        }),
    )
}

/// `POST /rest/v2/experiment` (`saveChaosV2Experiment`): an upsert keyed on
/// the body's `id`, as Harness's MCP server describes it. A refusal is HTTP
/// 500 with a `RestError`, the only error the swagger lists.
fn save_v2(state: &State, config: &HarnessConfig, req: &HttpRequest) -> Reply {
    if let Err(r) = rest_scope(config, req) {
        return r;
    }
    let refuse = |message: String| {
        Reply::json(
            500,
            &json!({ "code": "PIPELINE_NOT_FOUND", "description": message, "message": message }),
        )
    };
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return Reply::json(400, &json!({ "message": "the body is not JSON" }));
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or("");
    let infra_types = [
        "windows",
        "Windows",
        "Linux",
        "CloudFoundry",
        "Container",
        "Kubernetes",
        "KubernetesV2",
    ];
    if text("infraId").is_empty() || !infra_types.contains(&text("infraType")) {
        return refuse("infra type is not supported".into());
    }
    let tags = crate::stored::tags(&body);
    let input = crate::stored::SaveInput {
        id: Some(text("id")).filter(|i| !i.is_empty()),
        name: text("name"),
        description: text("description"),
        manifest: text("manifest"),
        infra_id: text("infraId"),
        tags,
    };
    match crate::stored::save(state, crate::stored::Dialect::Harness, &input) {
        Ok(saved) => {
            let mut echo = body.clone();
            if let Some(fields) = echo.as_object_mut() {
                fields.insert("id".into(), json!(saved.id));
            }
            Reply::json(
                200,
                &json!({
                    "data": echo,
                    "auditAction": {
                        "auditAction": if saved.created { "create" } else { "update" },
                        "response": "",
                    },
                }),
            )
        }
        Err(message) => refuse(message),
    }
}

fn not_found(message: String) -> Reply {
    Reply::json(
        404,
        &json!({ "status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": message }),
    )
}

/// REST v2 stop (`stopChaosV2Experiment`). Harness's published swagger
/// marks `experimentRunId` and `notifyId` both required; a stop missing
/// either is refused with 400 before anything happens (the real error body
/// is not published: see docs/platform-fidelity.md). Otherwise the run is
/// found by `notifyId` (by `experimentRunId` when no run has that notify
/// ID), as Harness's MCP server describes the lookup, and only that run is
/// stopped; `force=true` marks it `Stopped` in the database without
/// stopping the chaos on the cluster.
fn stop(state: &State, config: &HarnessConfig, req: &HttpRequest, experiment_id: &str) -> Reply {
    let param = |name: &str| req.query_param(name).filter(|v| !v.is_empty());
    let (Some(org), Some(project)) = (param("organizationIdentifier"), param("projectIdentifier"))
    else {
        return Reply::json(
            400,
            &json!({ "status": "ERROR", "code": "INVALID_REQUEST", "message": "organizationIdentifier and projectIdentifier are required" }),
        );
    };
    let (notify_id, run_id) = (param("notifyId"), param("experimentRunId"));
    let missing: Vec<&str> = [("experimentRunId", &run_id), ("notifyId", &notify_id)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        return Reply::json(
            400,
            &json!({ "message": format!("missing required query parameter(s): {}", missing.join(", ")) }),
        );
    }
    if config.org_id.as_ref().is_some_and(|o| *o != org)
        || config.project_id.as_ref().is_some_and(|p| *p != project)
    {
        return not_found(format!("project {project} not found in organization {org}"));
    }
    let Some(exp) = state.experiment(experiment_id) else {
        return not_found(format!("experiment {experiment_id} not found"));
    };
    let force = param("force").is_some_and(|f| f.eq_ignore_ascii_case("true"));
    let stopped = state.with_runs(|runs| {
        let of_exp = |r: &Run| r.experiment_id == exp.id;
        let index = runs
            .iter()
            .position(|r| of_exp(r) && notify_id.as_deref() == Some(r.notify_id.as_str()))
            .or_else(|| {
                runs.iter()
                    .position(|r| of_exp(r) && run_id.as_deref() == Some(r.run_id.as_str()))
            });
        let run = runs.get_mut(index?)?;
        if force {
            run.mark_stopped(&exp);
        } else {
            run.stop(&exp);
        }
        Some(())
    });
    if stopped.is_none() {
        return not_found(format!(
            "no run of experiment {experiment_id} matches notifyId={} experimentRunId={}",
            notify_id.unwrap_or_default(),
            run_id.unwrap_or_default()
        ));
    }
    Reply::json(
        200,
        &json!({ "experimentId": exp.id, "experimentName": exp.display_name(), "isStopped": true }),
    )
}

/// The `identifiers` a run started by someone else carries: the scenario's
/// account, organization and project (`default` when the scenario accepts
/// any).
pub(crate) fn default_identifiers(scenario: &Scenario) -> Value {
    let config = scenario.harness.as_ref();
    json!({
        "accountIdentifier": config.map(|c| c.account_id.clone()).unwrap_or_default(),
        "orgIdentifier": config.and_then(|c| c.org_id.clone()).unwrap_or_else(|| "default".into()),
        "projectIdentifier": config.and_then(|c| c.project_id.clone()).unwrap_or_else(|| "default".into()),
    })
}

#[path = "harness_rest.rs"]
mod rest_v2;

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_schema_is_valid() {
        super::check_schema();
    }
}
