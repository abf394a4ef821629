//! Harness Chaos Engineering: GraphQL at
//! `{endpoint}/gateway/chaos/manager/api/query`, stop through REST v2.
//!
//! Polls ask for the light selection only (no `executionData`, no
//! `workflowManifest`) and carry every notify ID of the gate in one
//! `listWorkflowRun` request, so a poll costs one small request however many
//! experiments the gate runs. `executionData` is asked for once per run,
//! after it finished, for every run that finished in the same poll in one
//! request (in chunks of [`EXECUTION_DATA_CHUNK`]).

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use reqwest::{RequestBuilder, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::execution_data::ExecutionData;
use super::inputs::RuntimeInputs;
use super::{
    Candidate, EXECUTION_DATA_BODY, ExperimentInfo, Fault, FoundRun, Infra, InputProblem, PastRun,
    Platform, PlatformError, Probe, RunRef, RunStatus, SMALL_BODY, TriggerData, checked_score,
    past_run, run_id, runs_since, trigger_notify_id,
};
use super::{InfraInfo, SaveRequest, StoredExperiment};
use crate::graphql;
use crate::http::{Http, Mode};
use crate::secret::Secret;
use crate::urls::UrlBuilder;

pub mod settings;
pub use settings::HarnessSettings;

/// Trigger a stored experiment ("workflow" in this API).
pub const RUN_CHAOS_EXPERIMENT: &str =
    "mutation RunChaosExperiment($workflowID: String!, $identifiers: IdentifiersRequest!) {
  runChaosExperiment(workflowID: $workflowID, identifiers: $identifiers) { notifyID }
}";

/// The light status poll, sent on every poll for every run, so kept as small
/// as it can be both ways: only the fields the gate reads, no whitespace it
/// does not need, short variable names, and one-letter aliases that shorten
/// every key of the answer (standard GraphQL; the answer is read with the
/// full names too). A poll for one run is under 900 bytes on the wire, both
/// directions, and each further run adds about 130 to the answer.
pub const LIST_WORKFLOW_RUN: &str = "query ListWorkflowRun($i:IdentifiersRequest!,$r:ListWorkflowRunRequest!){l:listWorkflowRun(identifiers:$i,request:$r){r:workflowRuns{i:workflowRunID n:notifyID p:phase s:resiliencyScore e:errorResponse}}}";

/// What Harness asks of an experiment manifest beyond its format: nothing
/// (it takes probes declared inline).
pub const MANIFEST: crate::manifest::Requirements = crate::manifest::Requirements {
    probes_by_reference: false,
};

/// The status poll when a run's experiment is not known (attached by notify
/// ID alone): the same with `workflowID`.
pub const LIST_WORKFLOW_RUN_WITH_EXPERIMENT: &str = "query ListWorkflowRun($i:IdentifiersRequest!,$r:ListWorkflowRunRequest!){l:listWorkflowRun(identifiers:$i,request:$r){r:workflowRuns{i:workflowRunID w:workflowID n:notifyID p:phase s:resiliencyScore e:errorResponse}}}";

/// A finished run's execution data, asked for once.
pub const LIST_WORKFLOW_RUN_EXECUTION_DATA: &str = "query ListWorkflowRunExecutionData($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    workflowRuns { workflowRunID notifyID workflowName executionData }
  }
}";

/// Recent runs of one experiment, to find a run a lost trigger started.
pub const LIST_RECENT_RUNS: &str = "query ListRecentWorkflowRuns($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    workflowRuns { workflowRunID workflowID notifyID createdAt }
  }
}";

/// An experiment's recent runs, newest first (the API's default order),
/// for its baseline.
pub const LIST_PAST_RUNS: &str = "query ListPastWorkflowRuns($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    workflowRuns { workflowRunID workflowID phase resiliencyScore createdAt }
  }
}";

/// Whether an experiment exists (dry run).
pub const LIST_WORKFLOW: &str =
    "query ListWorkflow($identifiers: IdentifiersRequest!, $request: ListWorkflowRequest!) {
  listWorkflow(identifiers: $identifiers, request: $request) {
    totalNoOfWorkflows workflows { workflowID name isRemoved cronSyntax infra { infraID isActive } }
  }
}";

/// Runs whose `executionData` one request asks for: the answer for this
/// many ordinary runs is a few MB; a chunk too large to read is read again
/// one run at a time.
pub const EXECUTION_DATA_CHUNK: usize = 500;
/// Execution-data chunks in flight at once, which bounds the memory they
/// take (a few MB) while overlapping the server's work with ours.
const EXECUTION_DATA_IN_FLIGHT: usize = 4;
/// An experiment's ID (UUID) from its identity.
pub const LIST_WORKFLOW_BY_IDENTITY: &str =
    "query ListWorkflowByIdentity($identifiers: IdentifiersRequest!, $request: ListWorkflowRequest!) {
  listWorkflow(identifiers: $identifiers, request: $request) {
    workflows { workflowID identity name isRemoved infra { infraID isActive } }
  }
}";

/// An infrastructure and whether it is active (the tutorial's
/// `getInfraDetails`).
pub const GET_INFRA_DETAILS: &str =
    "query GetInfraDetails($infraID: String!, $identifiers: IdentifiersRequest!) {
  getInfraDetails(infraID: $infraID, identifiers: $identifiers) { infraID name environmentID isActive isRemoved }
}";

/// Every GraphQL document this client can send, for schema tests.
pub const DOCUMENTS: &[&str] = &[
    GET_INFRA_DETAILS,
    RUN_CHAOS_EXPERIMENT,
    LIST_WORKFLOW_RUN,
    LIST_WORKFLOW_RUN_WITH_EXPERIMENT,
    LIST_WORKFLOW_RUN_EXECUTION_DATA,
    LIST_RECENT_RUNS,
    LIST_PAST_RUNS,
    LIST_WORKFLOW,
    LIST_WORKFLOW_BY_IDENTITY,
];

/// Whether an `experiment_id` entry is an experiment ID (a UUID) rather
/// than an identity (README "Settings": anything that is not a UUID).
pub fn is_uuid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A Harness chaos client for one account, organization and project.
pub struct Harness {
    http: Http,
    endpoint: Url,
    query_url: Url,
    api_key: Secret,
    account_id: String,
    org_id: String,
    project_id: String,
    runtime_inputs: Option<RuntimeInputs>,
    input_set: Option<String>,
    /// Identity → experiment ID (UUID), learnt from trigger answers, polls
    /// (`workflowID`) and look-ups: stops, links and listings need the ID.
    ids: super::Learnt,
    /// Experiments' names, from the execution-data reads.
    names: super::Learnt,
}

impl Harness {
    pub fn new(
        http: Http,
        endpoint: Url,
        api_key: Secret,
        account_id: String,
        org_id: String,
        project_id: String,
    ) -> Harness {
        let query_url = base(&endpoint, "query")
            .query("accountIdentifier", &account_id)
            .build();
        Harness {
            http,
            endpoint,
            query_url,
            api_key,
            account_id,
            org_id,
            project_id,
            runtime_inputs: None,
            input_set: None,
            ids: super::Learnt::default(),
            names: super::Learnt::default(),
        }
    }

    /// Runs every experiment with these runtime inputs and input set.
    pub fn with_inputs(
        mut self,
        runtime_inputs: Option<RuntimeInputs>,
        input_set: Option<String>,
    ) -> Harness {
        self.runtime_inputs = runtime_inputs;
        self.input_set = input_set;
        self
    }

    /// `{endpoint}/gateway/chaos/manager/api/rest/v2/<segments>` with the
    /// scope query parameters; each segment is encoded as one path segment.
    fn rest(&self, segments: &[&str]) -> Result<Url, PlatformError> {
        let mut url = base(&self.endpoint, "rest/v2");
        for segment in segments {
            url = url.id("path segment", segment).map_err(bad_id)?;
        }
        Ok(url
            .query("accountIdentifier", &self.account_id)
            .query("organizationIdentifier", &self.org_id)
            .query("projectIdentifier", &self.project_id)
            .build())
    }

    /// POSTs `body` as JSON to a REST v2 `url` with the credentials, and
    /// reads the answer with `read`; refused credentials name the settings.
    async fn post_json<T>(
        &self,
        what: &str,
        mode: Mode,
        url: &Url,
        body: &Value,
        read: impl Fn(&[u8]) -> Result<T, crate::http::Rejected>,
    ) -> Result<T, PlatformError> {
        let body = serde_json::to_vec(body).unwrap_or_default();
        self.http
            .send(
                what,
                mode,
                SMALL_BODY,
                || {
                    self.headers(self.http.client().post(url.clone()))
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                },
                read,
            )
            .await
            .map_err(auth_hint)
    }

    /// The experiment ID (UUID) of an `experiment_id` entry, where known.
    fn known_id(&self, experiment_id: &str) -> Option<String> {
        if is_uuid(experiment_id) {
            return Some(experiment_id.to_string());
        }
        self.ids.get(experiment_id)
    }

    fn learn_id(&self, identity: &str, id: &str) {
        if !is_uuid(identity) {
            self.ids.learn(identity, Some(id));
        }
    }

    /// The experiment ID of an entry, looking an identity up with
    /// `listWorkflow(identities)` when it is not known yet.
    async fn experiment_uuid(&self, experiment_id: &str) -> Result<String, PlatformError> {
        if let Some(id) = self.known_id(experiment_id) {
            return Ok(id);
        }
        let w = self.workflow_by_identity(experiment_id).await?;
        w.workflow_id.ok_or_else(|| {
            PlatformError::unusable(format!(
                "listWorkflow for identity {experiment_id}: the answer has no workflowID"
            ))
        })
    }

    async fn workflow_by_identity(&self, identity: &str) -> Result<Workflow, PlatformError> {
        let w = self.workflow(identity, true).await?;
        if let Some(id) = &w.workflow_id {
            self.learn_id(identity, id);
        }
        Ok(w)
    }

    /// A stored experiment by its ID, or by its identity (`by_identity`),
    /// from `listWorkflow`; one that is not listed is `NotFound`.
    async fn workflow(&self, key: &str, by_identity: bool) -> Result<Workflow, PlatformError> {
        let (what, document, request) = if by_identity {
            (
                format!("listWorkflow for identity {key}"),
                LIST_WORKFLOW_BY_IDENTITY,
                json!({ "identities": [key] }),
            )
        } else {
            (
                format!("listWorkflow for {key}"),
                LIST_WORKFLOW,
                json!({ "workflowIDs": [key] }),
            )
        };
        let data: WorkflowsData = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                document,
                json!({ "identifiers": self.identifiers(), "request": request }),
            )
            .await?;
        let list = graphql::field(&what, data.list_workflow, "listWorkflow")?;
        let found = list
            .workflows
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .find(|w| {
                let listed = if by_identity {
                    &w.identity
                } else {
                    &w.workflow_id
                };
                listed.as_deref() == Some(key)
            });
        found.ok_or_else(|| {
            let how = if by_identity {
                " (not a UUID, so it was looked up as an experiment identity)"
            } else {
                ""
            };
            PlatformError::not_found(format!(
                    "experiment {key} was not found in project {} (org {}){how}; check experiment_id, project_id and org_id",
                    self.project_id, self.org_id
                ),
            )
        })
    }

    /// Triggers through REST v2 (`runChaosV2Experiment`, reference A1):
    /// for an identity, runtime inputs or an input set.
    async fn trigger_v2(&self, experiment_id: &str) -> Result<String, PlatformError> {
        let identity = !is_uuid(experiment_id);
        let what = format!("run (REST v2) for {experiment_id}");
        let body = match (&self.runtime_inputs, &self.input_set) {
            (Some(inputs), Some(set)) => {
                // Harness ignores inputsetIdentity when runtimeInputs is
                // sent (A1): merge here, so the settings override the set.
                let stored = self.input_set_inputs(experiment_id, set).await?;
                json!({ "runtimeInputs": inputs.over(&stored).to_wire() })
            }
            (Some(inputs), None) => json!({ "runtimeInputs": inputs.to_wire() }),
            (None, Some(set)) => json!({ "inputsetIdentity": set }),
            (None, None) => json!({}),
        };
        let mut url = self.rest(&["experiments", experiment_id, "run"])?;
        url.query_pairs_mut()
            .append_pair("isIdentity", if identity { "true" } else { "false" })
            .append_pair("isOnboardingRun", "false");
        // A trigger: never sent once the deadline has passed (README "Failure behaviour").
        let answer: RunAnswer = self
            .post_json(&what, Mode::Trigger, &url, &body, |b| {
                Ok(RunAnswer::read(b))
            })
            .await?;
        if let Some(id) = answer.experiment_id.as_deref().filter(|i| is_uuid(i)) {
            self.learn_id(experiment_id, id);
        }
        match answer.notify_id {
            Some(n) if !n.trim().is_empty() => Ok(n.trim().to_string()),
            Some(_) => Err(PlatformError::unusable(format!(
                "{what}: Harness returned an empty notify ID. Scheduled (cron) experiments are \
                 started by their schedule and cannot be watched this way; trigger a \
                 non-scheduled experiment."
            ))),
            None => Err(PlatformError::unusable(format!(
                "{what}: the answer has no notifyID"
            ))),
        }
    }

    /// A stored input set's values (`GET .../inputsets/{id}`, A5).
    async fn input_set_inputs(
        &self,
        experiment_id: &str,
        set: &str,
    ) -> Result<RuntimeInputs, PlatformError> {
        let what = format!("input set {set} of {experiment_id}");
        let mut url = self.rest(&["experiments", experiment_id, "inputsets", set])?;
        url.query_pairs_mut().append_pair(
            "isIdentity",
            if is_uuid(experiment_id) {
                "false"
            } else {
                "true"
            },
        );
        let spec: Option<String> = self
            .http
            .send(
                &what,
                Mode::Read,
                SMALL_BODY,
                || self.headers(self.http.client().get(url.clone())),
                |b| {
                    let v: Value = serde_json::from_slice(b).unwrap_or(Value::Null);
                    Ok(get_ci(&v, "data")
                        .and_then(|d| get_ci(d, "spec"))
                        .and_then(Value::as_str)
                        .map(String::from))
                },
            )
            .await
            .map_err(auth_hint)?;
        let spec = spec.ok_or_else(|| {
            PlatformError::unusable(format!("{what}: the answer has no data.spec"))
        })?;
        RuntimeInputs::from_spec(&spec).map_err(|e| PlatformError::unusable(format!("{what}: {e}")))
    }

    fn identifiers(&self) -> Value {
        json!({
            "orgIdentifier": self.org_id,
            "accountIdentifier": self.account_id,
            "projectIdentifier": self.project_id,
        })
    }

    fn headers(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .header("x-api-key", self.api_key.expose())
            .header("Harness-Account", &self.account_id)
    }

    async fn query<T: DeserializeOwned>(
        &self,
        what: &str,
        mode: Mode,
        cap: usize,
        document: &str,
        variables: Value,
    ) -> Result<T, PlatformError> {
        graphql::post(
            &self.http,
            &self.query_url,
            what,
            mode,
            cap,
            document,
            variables,
            |r| self.headers(r),
        )
        .await
        .map_err(auth_hint)
    }

    async fn list_runs(
        &self,
        what: &str,
        document: &str,
        cap: usize,
        request: Value,
    ) -> Result<Vec<WireRun>, PlatformError> {
        let data: RunsData = self
            .query(
                what,
                Mode::Read,
                cap,
                document,
                json!({ "identifiers": self.identifiers(), "request": request }),
            )
            .await?;
        runs_from_data(what, data)
    }

    /// The runs of one experiment (with `limit`, the first page of that
    /// many), and the experiment's ID they were listed by.
    async fn experiment_runs(
        &self,
        what: &str,
        experiment_id: &str,
        document: &str,
        limit: Option<u32>,
    ) -> Result<(String, Vec<WireRun>), PlatformError> {
        let uuid = self.experiment_uuid(experiment_id).await?;
        let mut request = json!({ "workflowIDs": [uuid] });
        if let Some(limit) = limit {
            request["pagination"] = json!({ "page": 0, "limit": limit });
        }
        let runs = self.list_runs(what, document, SMALL_BODY, request).await?;
        Ok((uuid, runs))
    }
}

/// `data` of a `listWorkflowRun` answer (the poll's aliases accepted).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunsData {
    list_workflow_run: Option<RunList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunList {
    workflow_runs: Option<Vec<Option<WireRun>>>,
}

/// The runs in a `listWorkflowRun` answer's `data`.
fn runs_from_data(what: &str, data: RunsData) -> Result<Vec<WireRun>, PlatformError> {
    let list = graphql::field(what, data.list_workflow_run, "listWorkflowRun")?;
    Ok(list
        .workflow_runs
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect())
}

/// `data` of a status poll's answer: only the fields a poll asks for, so
/// that reading 5,000 runs a poll neither matches keys against fields it
/// never gets nor copies structs it does not need (the answer is read with
/// the full names too, for a server that ignores aliases).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollData {
    #[serde(alias = "l")]
    list_workflow_run: Option<PollList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollList {
    #[serde(alias = "r")]
    workflow_runs: Option<Vec<Option<PollRun>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollRun {
    #[serde(rename = "workflowRunID", alias = "i")]
    workflow_run_id: Option<String>,
    #[serde(rename = "workflowID", alias = "w")]
    workflow_id: Option<String>,
    #[serde(rename = "notifyID", alias = "n")]
    notify_id: Option<String>,
    #[serde(alias = "p")]
    phase: Option<String>,
    #[serde(alias = "s")]
    resiliency_score: Option<f64>,
    #[serde(alias = "e")]
    error_response: Option<String>,
}

/// The statuses of the runs named by `ids` in a status poll's answer; a
/// score outside 0..100 is an error. Linear in the number of runs: each
/// answer is matched to its run through a hash set, not a scan.
fn statuses(data: PollData, ids: &[&str]) -> Result<Vec<RunStatus>, PlatformError> {
    let list = graphql::field("listWorkflowRun", data.list_workflow_run, "listWorkflowRun")?;
    let wire = list.workflow_runs.unwrap_or_default();
    let ids: HashSet<&str> = ids.iter().copied().collect();
    let mut out = Vec::with_capacity(wire.len().min(ids.len()));
    for run in wire.into_iter().flatten() {
        let Some(notify_id) = run.notify_id.filter(|n| ids.contains(n.as_str())) else {
            continue;
        };
        let score = checked_score("listWorkflowRun", &notify_id, run.resiliency_score)?;
        let phase = run.phase.unwrap_or_default();
        out.push(RunStatus {
            notify_id,
            experiment_id: run.workflow_id,
            run_id: run_id(run.workflow_run_id),
            // Harness's phases are ChaosCenter's.
            class: super::chaoscenter_phase(&phase),
            phase,
            score,
            error: run.error_response.filter(|e| !e.trim().is_empty()),
        });
    }
    Ok(out)
}

/// Reads a whole status-poll answer body the way a poll does: JSON, the
/// GraphQL `errors` and `data`, the runs, their scores. For the fuzz target
/// and property tests; `poll` runs the same steps on what the transport
/// returns.
pub fn parse_poll_answer(body: &[u8], ids: &[&str]) -> Result<Vec<RunStatus>, PlatformError> {
    let data = graphql::data("listWorkflowRun", body)?;
    statuses(data, ids)
}

impl Harness {
    /// The faults of up to [`EXECUTION_DATA_CHUNK`] runs in one request,
    /// one result per run; an answer too large to read is read again one
    /// run at a time.
    async fn faults_chunk(&self, runs: &[RunRef]) -> Vec<Result<Vec<Fault>, PlatformError>> {
        if let [run] = runs {
            return vec![self.faults(run).await];
        }
        let what = format!("listWorkflowRun (execution data of {} runs)", runs.len());
        let ids: Vec<&str> = runs.iter().map(|r| r.notify_id.as_str()).collect();
        let wire = self
            .list_runs(
                &what,
                LIST_WORKFLOW_RUN_EXECUTION_DATA,
                EXECUTION_DATA_BODY,
                json!({ "notifyIDs": ids }),
            )
            .await;
        let wire = match wire {
            Ok(wire) => wire,
            Err(PlatformError::TooLarge { .. }) => {
                return futures_util::future::join_all(runs.iter().map(|r| self.faults(r))).await;
            }
            Err(e) => return runs.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut data: HashMap<String, WireRun> = wire
            .into_iter()
            .filter_map(|r| Some((r.notify_id.clone()?, r)))
            .collect();
        runs.iter()
            .map(|run| {
                let what = format!("listWorkflowRun (execution data of {})", run.notify_id);
                let answer = data.remove(&run.notify_id);
                if let Some(a) = &answer {
                    self.names
                        .learn(&run.experiment_id, a.workflow_name.as_deref());
                }
                faults_from(&what, answer.and_then(|a| a.execution_data))
            })
            .collect()
    }
}

/// A run's faults from its `executionData`, none when there is none.
fn faults_from(what: &str, data: Option<ExecutionData>) -> Result<Vec<Fault>, PlatformError> {
    match data {
        Some(ExecutionData(parsed)) => {
            parsed.map_err(|e| PlatformError::unusable_from(format!("{what}: {e}"), e))
        }
        None => Ok(Vec::new()),
    }
}

/// `data` of a `listWorkflow` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowsData {
    list_workflow: Option<WorkflowList>,
}

#[derive(Deserialize)]
struct WorkflowList {
    workflows: Option<Vec<Option<Workflow>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Workflow {
    #[serde(rename = "workflowID")]
    workflow_id: Option<String>,
    identity: Option<String>,
    name: Option<String>,
    is_removed: Option<bool>,
    infra: Option<Infra>,
}

/// `data` of a `getInfraDetails` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfraDetailsData {
    get_infra_details: Option<graphql::InfraAnswer>,
}

/// The answer of `GET /rest/v2/experiment` (`listChaosV2Experiment`); keys
/// are matched as the swagger spells them.
#[derive(Deserialize)]
struct V2ExperimentList {
    data: Option<Vec<Option<V2Experiment>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Experiment {
    #[serde(
        rename = "experimentID",
        alias = "experimentId",
        alias = "ExperimentID"
    )]
    experiment_id: Option<String>,
    #[serde(alias = "Name")]
    name: Option<String>,
    #[serde(alias = "Tags")]
    tags: Option<Vec<String>>,
    #[serde(alias = "IsRemoved")]
    is_removed: Option<bool>,
}

/// The answer of `POST /rest/v2/experiment` (`saveChaosV2Experiment`): an
/// echo of the request under `data`.
#[derive(Deserialize)]
struct V2SaveAnswer {
    data: Option<V2SaveEcho>,
}

#[derive(Deserialize)]
struct V2SaveEcho {
    id: Option<String>,
}

/// The answer of the REST stop endpoint.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopAnswer {
    is_stopped: Option<bool>,
}

/// What the REST stop endpoint answered: any JSON answer counts; only an
/// explicit `isStopped: false` is a no.
pub fn parse_stop_answer(body: &[u8]) -> Option<bool> {
    serde_json::from_slice::<StopAnswer>(body)
        .ok()
        .and_then(|a| a.is_stopped)
}

/// A key of a JSON object, matched without regard to case: Harness's own
/// clients decode REST answers case-insensitively, and its sources
/// disagree on `notifyID` / `notifyId` (reference A0, A1).
fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn text_ci(v: &Value, key: &str) -> Option<String> {
    match get_ci(v, key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// The answer of `runChaosV2Experiment`: `notifyID` (swagger) or
/// `notifyId` (Harness's MCP server), and where given the run and the
/// experiment's ID.
struct RunAnswer {
    notify_id: Option<String>,
    experiment_id: Option<String>,
}

impl RunAnswer {
    fn read(body: &[u8]) -> RunAnswer {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        // Some gateways wrap answers in `data`.
        let v = match get_ci(&v, "data") {
            Some(d) if d.is_object() => d,
            _ => &v,
        };
        RunAnswer {
            notify_id: match get_ci(v, "notifyID") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
            experiment_id: text_ci(v, "experimentID"),
        }
    }
}

/// The probes of `getProbesInExperiment` (`POST rest/v2/probes/experiment-run`,
/// reference A3): `{data: [{notifyId, experimentRunId, faultName, name,
/// mode, status: {verdict, description}}]}`.
fn probes_from(body: &[u8]) -> Result<Vec<Probe>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let Some(items) = get_ci(&v, "data").and_then(Value::as_array) else {
        return Err("the answer has no data array".to_string());
    };
    Ok(items
        .iter()
        .filter(|p| p.is_object())
        .map(|p| {
            let status = get_ci(p, "status");
            Probe {
                notify_id: text_ci(p, "notifyId"),
                run_id: text_ci(p, "experimentRunId"),
                fault: text_ci(p, "faultName").unwrap_or_default(),
                name: text_ci(p, "name")
                    .or_else(|| text_ci(p, "probeId"))
                    .unwrap_or_else(|| "(unnamed probe)".to_string()),
                mode: text_ci(p, "mode"),
                verdict: status.and_then(|s| text_ci(s, "verdict")),
                description: status.and_then(|s| text_ci(s, "description")),
            }
        })
        .collect())
}

/// `{endpoint}/gateway/chaos/manager/api/{path}`, keeping any path prefix
/// the endpoint has (self-managed installs sit behind one).
fn base(endpoint: &Url, path: &'static str) -> UrlBuilder {
    UrlBuilder::at(endpoint)
        .route("gateway/chaos/manager/api")
        .route(path)
}

/// An identifier that cannot go into a URL, as a platform error: nothing
/// is sent.
fn bad_id(e: crate::urls::BadIdentifier) -> PlatformError {
    PlatformError::unusable_from(format!("cannot build the request URL: {e}"), e)
}

impl Harness {
    /// `.../rest/v2/experiment/{experimentId}/stop?...`: the experiment ID
    /// (from settings or the platform) is one encoded path segment, the
    /// run's IDs are query values.
    fn stop_url(&self, run: &RunRef, experiment_uuid: &str) -> Result<Url, PlatformError> {
        let mut url = base(&self.endpoint, "rest/v2/experiment")
            .id("experiment ID", experiment_uuid)
            .map_err(bad_id)?
            .route("stop")
            .query("accountIdentifier", &self.account_id)
            .query("organizationIdentifier", &self.org_id)
            .query("projectIdentifier", &self.project_id);
        if let Some(run_id) = &run.run_id {
            url = url
                .query_id("experimentRunId", "run ID", run_id)
                .map_err(bad_id)?;
        }
        Ok(url
            .query_id("notifyId", "notify ID", &run.notify_id)
            .map_err(bad_id)?
            .build())
    }
}

/// Names the settings to check when Harness refuses the credentials.
fn auth_hint(e: PlatformError) -> PlatformError {
    e.hint_auth("api_key (a Harness API key with chaos permissions) and account_id")
}

/// A run as `listWorkflowRun` returns it to the listings and the
/// execution-data reads (polls read [`PollRun`]); every field optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRun {
    #[serde(rename = "workflowRunID")]
    workflow_run_id: Option<String>,
    #[serde(rename = "workflowID")]
    workflow_id: Option<String>,
    #[serde(rename = "notifyID")]
    notify_id: Option<String>,
    phase: Option<String>,
    resiliency_score: Option<f64>,
    workflow_name: Option<String>,
    execution_data: Option<ExecutionData>,
    created_at: Option<Value>,
}

impl Platform for Harness {
    fn name(&self) -> &'static str {
        "harness"
    }

    async fn trigger(&self, experiment_id: &str) -> Result<String, PlatformError> {
        if !is_uuid(experiment_id) || self.runtime_inputs.is_some() || self.input_set.is_some() {
            return self.trigger_v2(experiment_id).await;
        }
        let what = format!("runChaosExperiment for {experiment_id}");
        let answer = graphql::post_partial::<TriggerData>(
            &self.http,
            &self.query_url,
            &what,
            Mode::Trigger,
            SMALL_BODY,
            RUN_CHAOS_EXPERIMENT,
            json!({ "workflowID": experiment_id, "identifiers": self.identifiers() }),
            |r| self.headers(r),
        )
        .await
        .map_err(auth_hint)?;
        trigger_notify_id(answer, &what, "Harness")
    }

    async fn find_runs(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> Result<Vec<FoundRun>, PlatformError> {
        let what = format!("listWorkflowRun (looking for a run of {experiment_id})");
        let (uuid, runs) = self
            .experiment_runs(&what, experiment_id, LIST_RECENT_RUNS, None)
            .await?;
        let candidates = runs.into_iter().map(|r| Candidate {
            experiment_id: r.workflow_id,
            notify_id: r.notify_id,
            run_id: r.workflow_run_id,
            created_at: r.created_at,
        });
        Ok(runs_since(candidates, &uuid, since))
    }

    async fn poll(&self, runs: &[RunRef]) -> Result<Vec<RunStatus>, PlatformError> {
        let ids: Vec<&str> = runs.iter().map(|r| r.notify_id.as_str()).collect();
        // The run's experiment ID is asked for only while some run's is not
        // known: attached without experiment_id, or named by an identity
        // whose ID the polls teach (once; later polls are lean).
        let unknown: Vec<&RunRef> = self
            .ids
            .missing(runs.iter().filter(|r| !is_uuid(&r.experiment_id)), |r| {
                &r.experiment_id
            });
        let document = if unknown.is_empty() {
            LIST_WORKFLOW_RUN
        } else {
            LIST_WORKFLOW_RUN_WITH_EXPERIMENT
        };
        let data: PollData = self
            .query(
                "listWorkflowRun",
                Mode::Read,
                SMALL_BODY,
                document,
                json!({ "i": self.identifiers(), "r": { "notifyIDs": ids } }),
            )
            .await?;
        let statuses = statuses(data, &ids)?;
        if !unknown.is_empty() {
            // By hash: per-poll work stays linear in the number of runs.
            let by_notify: HashMap<&str, &RunStatus> =
                statuses.iter().map(|s| (s.notify_id.as_str(), s)).collect();
            for r in unknown.iter().filter(|r| !r.experiment_id.is_empty()) {
                if let Some(id) = by_notify
                    .get(r.notify_id.as_str())
                    .and_then(|s| s.experiment_id.as_deref())
                {
                    self.learn_id(&r.experiment_id, id);
                }
            }
        }
        Ok(statuses)
    }

    async fn faults_of(&self, runs: &[RunRef]) -> Vec<Result<Vec<Fault>, PlatformError>> {
        use futures_util::StreamExt;
        // A sliding window: the next chunk is asked for as soon as one is
        // read, so reading overlaps the server's work on the others.
        // (Futures do nothing until polled: building them all is free.)
        let chunks: Vec<_> = runs
            .chunks(EXECUTION_DATA_CHUNK)
            .map(|chunk| self.faults_chunk(chunk))
            .collect();
        let reads: Vec<_> = futures_util::stream::iter(chunks)
            .buffered(EXECUTION_DATA_IN_FLIGHT)
            .collect()
            .await;
        reads.into_iter().flatten().collect()
    }

    async fn probes(&self, runs: &[RunRef]) -> Result<Option<Vec<Probe>>, PlatformError> {
        let notify_ids: Vec<&str> = runs
            .iter()
            .map(|r| r.notify_id.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        if notify_ids.is_empty() {
            return Ok(None);
        }
        let what = "probe results (REST v2 getProbesInExperiment)";
        let url = self.rest(&["probes", "experiment-run"])?;
        let body = json!({ "notifyIds": notify_ids });
        let probes = self
            .post_json(what, Mode::Read, &url, &body, |b| {
                probes_from(b).map_err(|e| crate::http::Rejected {
                    error: PlatformError::unusable(format!("{what}: {e}")),
                    retry: true,
                })
            })
            .await?;
        Ok(Some(probes))
    }

    async fn check_inputs(&self, experiment_id: &str) -> Result<Vec<InputProblem>, PlatformError> {
        let what = format!("variables (REST v2) of {experiment_id}");
        let mut url = self.rest(&["experiments", experiment_id, "variables"])?;
        url.query_pairs_mut().append_pair(
            "isIdentity",
            if is_uuid(experiment_id) {
                "false"
            } else {
                "true"
            },
        );
        let declared: Value = self
            .http
            .send(
                &what,
                Mode::Read,
                SMALL_BODY,
                || self.headers(self.http.client().get(url.clone())),
                |b| Ok(serde_json::from_slice(b).unwrap_or(Value::Null)),
            )
            .await
            .map_err(auth_hint)?;
        let mut given = RuntimeInputs::default();
        if let Some(set) = &self.input_set {
            given = self.input_set_inputs(experiment_id, set).await?;
        }
        if let Some(inputs) = &self.runtime_inputs {
            given = inputs.over(&given);
        }
        Ok(input_problems(experiment_id, &declared, &given))
    }

    async fn faults(&self, run: &RunRef) -> Result<Vec<Fault>, PlatformError> {
        let what = format!("listWorkflowRun (execution data of {})", run.notify_id);
        let wire = self
            .list_runs(
                &what,
                LIST_WORKFLOW_RUN_EXECUTION_DATA,
                EXECUTION_DATA_BODY,
                json!({ "notifyIDs": [run.notify_id] }),
            )
            .await?;
        let Some(answer) = wire
            .into_iter()
            .find(|r| r.notify_id.as_deref() == Some(run.notify_id.as_str()))
        else {
            return Ok(Vec::new());
        };
        self.names
            .learn(&run.experiment_id, answer.workflow_name.as_deref());
        faults_from(&what, answer.execution_data)
    }

    async fn stop(&self, run: &RunRef) -> Result<(), PlatformError> {
        // The published API requires both IDs, and a stop naming no run
        // stops every running run of the experiment: never send one.
        if run.run_id.is_none() || run.notify_id.is_empty() {
            return Err(PlatformError::unusable(format!(
                "stop (REST v2) for {}: the run's experimentRunId is not known yet, and a stop \
                 without it could stop other runs of the experiment",
                run.experiment_id
            )));
        }
        // The stop endpoint wants the experiment's ID, never its identity
        // (reference A4): learnt from the trigger or the polls. Never
        // `force=true`: that only marks the run stopped in Harness's records
        // while the chaos goes on (fidelity H-4), which would be reported as
        // a confirmed stop.
        let uuid = match self.known_id(&run.experiment_id) {
            Some(id) => id,
            // No experiment at all (the platform named none): the URL
            // builder refuses it below, naming the empty ID.
            None if run.experiment_id.trim().is_empty() => String::new(),
            None => self.experiment_uuid(&run.experiment_id).await?,
        };
        let url = self.stop_url(run, &uuid)?;
        // `stop` is one attempt: the gate gives all stops together at most
        // two seconds, so a retry would not fit anyway.
        let stopped = self
            .http
            .send(
                "stop (REST v2)",
                Mode::Write,
                SMALL_BODY,
                || {
                    self.headers(self.http.client().post(url.clone()))
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                },
                |body| Ok(parse_stop_answer(body)),
            )
            .await
            .map_err(auth_hint)?;
        match stopped {
            Some(false) => Err(PlatformError::unusable(
                "Harness answered isStopped=false".to_string(),
            )),
            _ => Ok(()),
        }
    }

    async fn recent_runs(
        &self,
        experiment_id: &str,
        limit: u32,
    ) -> Result<Vec<PastRun>, PlatformError> {
        let what = format!("listWorkflowRun (recent runs of {experiment_id})");
        let (uuid, runs) = self
            .experiment_runs(&what, experiment_id, LIST_PAST_RUNS, Some(limit))
            .await?;
        Ok(runs
            .into_iter()
            .filter(|r| r.workflow_id.as_deref() == Some(uuid.as_str()))
            .filter_map(|r| {
                past_run(
                    &what,
                    r.workflow_run_id,
                    r.phase,
                    r.resiliency_score,
                    r.created_at.as_ref(),
                )
            })
            .collect())
    }

    async fn check_experiment(&self, experiment_id: &str) -> Result<ExperimentInfo, PlatformError> {
        if !is_uuid(experiment_id) {
            let w = self.workflow_by_identity(experiment_id).await?;
            return Ok(ExperimentInfo {
                experiment_id: experiment_id.to_string(),
                name: w.name,
                removed: w.is_removed.unwrap_or(false),
                infra_active: w.infra.and_then(|i| i.is_active),
            });
        }
        let w = self.workflow(experiment_id, false).await?;
        Ok(ExperimentInfo {
            experiment_id: experiment_id.to_string(),
            name: w.name,
            removed: w.is_removed.unwrap_or(false),
            infra_active: w.infra.and_then(|i| i.is_active),
        })
    }

    async fn infra(&self, infra_id: &str) -> Result<InfraInfo, PlatformError> {
        // `infra_id` may be given as the REST save names infrastructures,
        // `<environment>/<infrastructure>`; the look-up takes the latter.
        let (given_env, lookup_id) = match infra_id.rsplit_once('/') {
            Some((env, id)) => (Some(env), id),
            None => (None, infra_id),
        };
        let what = format!("getInfraDetails for {infra_id}");
        let not_found = |why: &str| {
            PlatformError::not_found(format!(
                "infrastructure {infra_id} was not found in project {} (org {}){why}; check infra_id \
                     (the chaos infrastructure's ID) and project_id",
                self.project_id, self.org_id
            ))
        };
        let data: Result<InfraDetailsData, _> = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                GET_INFRA_DETAILS,
                json!({ "infraID": lookup_id, "identifiers": self.identifiers() }),
            )
            .await;
        let infra = graphql::infra_found(data.map(|d| d.get_infra_details), not_found)?;
        let environment = given_env
            .map(str::to_string)
            .or(infra.environment_id)
            .filter(|e| !e.trim().is_empty());
        Ok(InfraInfo {
            infra_id: infra_id.to_string(),
            name: infra.name,
            active: infra.is_active.unwrap_or(false),
            save_id: match environment {
                Some(env) => format!("{env}/{lookup_id}"),
                None => lookup_id.to_string(),
            },
        })
    }

    async fn find_experiment(&self, name: &str) -> Result<Option<StoredExperiment>, PlatformError> {
        // The name filter may match parts of names (its rule is not
        // published), so pages are read until the exact name turns up.
        const LIMIT: usize = 50;
        const MAX_PAGES: usize = 20;
        for page in 0..MAX_PAGES {
            let what = format!("listChaosV2Experiment (REST v2) for {name}, page {page}");
            let url = base(&self.endpoint, "rest/v2/experiment")
                .query("accountIdentifier", &self.account_id)
                .query("organizationIdentifier", &self.org_id)
                .query("projectIdentifier", &self.project_id)
                .query("page", &page.to_string())
                .query("limit", &LIMIT.to_string())
                .query("experimentName", name)
                .build();
            let list = self
                .http
                .send(
                    &what,
                    Mode::Read,
                    SMALL_BODY,
                    || self.headers(self.http.client().get(url.clone())),
                    |body| {
                        serde_json::from_slice::<V2ExperimentList>(body).map_err(|e| {
                            crate::http::Rejected {
                                error: PlatformError::unusable(format!(
                                    "{what}: the answer is not an experiment list ({e})"
                                )),
                                retry: true,
                            }
                        })
                    },
                )
                .await
                .map_err(auth_hint)?;
            let items: Vec<V2Experiment> = list
                .data
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect();
            let full = items.len() >= LIMIT;
            let found = items
                .into_iter()
                .filter(|e| e.is_removed != Some(true))
                .find(|e| e.name.as_deref() == Some(name))
                .and_then(|e| {
                    Some(StoredExperiment {
                        experiment_id: e.experiment_id.filter(|i| !i.trim().is_empty())?,
                        name: name.to_string(),
                        tags: e.tags.unwrap_or_default(),
                    })
                });
            if found.is_some() || !full {
                return Ok(found);
            }
        }
        Err(PlatformError::unusable(format!(
            "listChaosV2Experiment (REST v2): more than {} experiments match the name {name} and none is exactly it; rename the experiment in the manifest",
            LIMIT * MAX_PAGES
        )))
    }

    async fn save_experiment(&self, request: &SaveRequest<'_>) -> Result<String, PlatformError> {
        let what = format!(
            "saveChaosV2Experiment (REST v2) for {}{}",
            request.name,
            request
                .existing_id
                .map(|i| format!(" ({i})"))
                .unwrap_or_default()
        );
        let url = base(&self.endpoint, "rest/v2/experiment")
            .query("accountIdentifier", &self.account_id)
            .query("organizationIdentifier", &self.org_id)
            .query("projectIdentifier", &self.project_id)
            .build();
        // An upsert keyed on `id`: the stored experiment's ID updates it, a
        // new one creates it (see the fidelity record, H-6).
        let id = match request.existing_id {
            Some(id) => id.to_string(),
            None => super::new_experiment_id()?,
        };
        let body = json!({
            "id": id,
            "name": request.name,
            "description": request.description,
            "tags": request.tags,
            "manifest": request.manifest,
            "infraId": request.infra_id,
            "infraType": "Kubernetes",
            "experimentType": "Workflow",
            "validateManifest": true,
        });
        let answer = self
            .post_json(&what, Mode::Write, &url, &body, |b| {
                Ok(serde_json::from_slice::<V2SaveAnswer>(b).ok())
            })
            .await?;
        Ok(answer
            .and_then(|a| a.data)
            .and_then(|d| d.id)
            .filter(|i| !i.trim().is_empty())
            .unwrap_or(id))
    }

    fn failing(&self) -> Option<String> {
        self.http.last_failure()
    }

    fn experiment_name(&self, experiment_id: &str) -> Option<String> {
        self.names.get(experiment_id)
    }

    fn run_link(&self, run: &RunRef) -> Option<String> {
        let run_id = run.run_id.as_deref()?;
        // The UI's route names the experiment by its ID, never its identity.
        let experiment = self.known_id(&run.experiment_id)?;
        let url = UrlBuilder::at(&self.endpoint)
            .route("ng/account")
            .id("account_id", &self.account_id)
            .and_then(|u| u.route("module/chaos/orgs").id("org_id", &self.org_id))
            .and_then(|u| u.route("projects").id("project_id", &self.project_id))
            .and_then(|u| u.route("experiments").id("experiment ID", &experiment))
            .and_then(|u| u.route("runs").id("run ID", run_id))
            .ok()?;
        Some(url.build().to_string())
    }
}

/// The answers this client reads, by the operation that asks for them:
/// the names [`parse_answer`] takes (fuzz targets and property tests).
pub const ANSWERS: &[&str] = &[
    "runChaosExperiment",
    "listWorkflowRun",
    "listWorkflowRunExecutionData",
    "listRecentWorkflowRuns",
    "listWorkflow",
    "stop",
];

/// Reads an answer body the way the client reads the answer to
/// `operation` (one of [`ANSWERS`]), through the same types and checks, and
/// returns how many items it found. For the fuzz targets and property
/// tests: nothing a server sends may panic.
pub fn parse_answer(operation: &str, body: &[u8]) -> Result<usize, PlatformError> {
    let what = operation;
    match operation {
        "runChaosExperiment" => {
            let answer = graphql::data_partial::<TriggerData>(what, body)?;
            trigger_notify_id(answer, what, "Harness").map(|_| 1)
        }
        "listWorkflowRun" => parse_poll_answer(body, &["n-1", "n-2"]).map(|r| r.len()),
        "listWorkflowRunExecutionData" => {
            let runs = runs_from_data(what, graphql::data(what, body)?)?;
            let mut faults = 0;
            for run in runs {
                if let Some(ExecutionData(parsed)) = run.execution_data {
                    faults += parsed
                        .map_err(|e| PlatformError::unusable_from(format!("{what}: {e}"), e))?
                        .len();
                }
            }
            Ok(faults)
        }
        "listRecentWorkflowRuns" => {
            let runs = runs_from_data(what, graphql::data(what, body)?)?;
            let candidates = runs.into_iter().map(|r| Candidate {
                experiment_id: r.workflow_id,
                notify_id: r.notify_id,
                run_id: r.workflow_run_id,
                created_at: r.created_at,
            });
            Ok(runs_since(candidates, "exp", SystemTime::UNIX_EPOCH).len())
        }
        "listWorkflow" => {
            let data: WorkflowsData = graphql::data(what, body)?;
            let list = graphql::field(what, data.list_workflow, "listWorkflow")?;
            Ok(list
                .workflows
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .filter(|w| w.workflow_id.as_deref() == Some("exp"))
                .count())
        }
        "stop" => Ok(usize::from(parse_stop_answer(body).is_some())),
        other => Err(PlatformError::unusable(format!(
            "{other} is not an answer the Harness client reads"
        ))),
    }
}

/// What a dry run finds wrong with the inputs given, against the answer of
/// `getChaosV2ExperimentVariables` (`{experiment: [Variable], tasks:
/// {task: [Variable]}}`, reference A5): a required variable with neither a
/// value nor a default that the inputs leave unset, and a given input the
/// experiment does not declare.
/// A declared variable: name, required, and whether it has a value.
type Declared = (String, bool, bool);

fn input_problems(
    experiment_id: &str,
    declared: &Value,
    given: &RuntimeInputs,
) -> Vec<InputProblem> {
    let vars = |v: Option<&Value>| -> Vec<Declared> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|var| {
                        let name = text_ci(var, "name")?;
                        let required =
                            get_ci(var, "required").and_then(Value::as_bool) == Some(true);
                        let set = |k: &str| {
                            get_ci(var, k).is_some_and(|x| match x {
                                Value::Null => false,
                                Value::String(s) => !s.trim().is_empty(),
                                _ => true,
                            })
                        };
                        Some((name, required, set("value") || set("default")))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut places: Vec<(Option<String>, Vec<Declared>)> =
        vec![(None, vars(get_ci(declared, "experiment")))];
    if let Some(tasks) = get_ci(declared, "tasks").and_then(Value::as_object) {
        for (task, list) in tasks {
            places.push((Some(task.clone()), vars(Some(list))));
        }
    }
    let place = |task: &Option<String>, name: &str| match task {
        Some(t) => format!("input {name} of task {t}"),
        None => format!("input {name}"),
    };
    let mut problems = Vec::new();
    for (task, list) in &places {
        for (name, required, has_value) in list {
            let given_here = given
                .names()
                .any(|(t, n)| t == task.as_deref() && n == name);
            if *required && !has_value && !given_here {
                problems.push(InputProblem {
                    missing_required: true,
                    message: format!(
                        "{experiment_id}: required runtime {} has no value; give it in \
                         runtime_inputs (or the input_set)",
                        place(task, name)
                    ),
                });
            }
        }
    }
    for (task, name) in given.names() {
        let declared_here = places
            .iter()
            .any(|(t, list)| t.as_deref() == task && list.iter().any(|(n, _, _)| n == name));
        if !declared_here {
            let task = task.map(String::from);
            problems.push(InputProblem {
                missing_required: false,
                message: format!(
                    "{experiment_id}: runtime {} is not declared by the experiment; check its \
                     spelling in runtime_inputs",
                    place(&task, name)
                ),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(account_id: &str) -> Harness {
        let http = Http::new(None, tokio::time::Instant::now()).expect("client");
        Harness::new(
            http,
            Url::parse("https://h.example/prefix/").unwrap(),
            Secret::new("k"),
            account_id.to_string(),
            "o/../x".to_string(),
            "p?q".to_string(),
        )
    }

    fn run(experiment_id: &str, run_id: Option<&str>, notify_id: &str) -> RunRef {
        RunRef {
            experiment_id: experiment_id.to_string(),
            notify_id: notify_id.to_string(),
            run_id: run_id.map(String::from),
        }
    }

    #[test]
    fn the_stop_url_keeps_every_identifier_in_its_place() {
        let h = client("acc#1");
        let url = h
            .stop_url(&run("../../x?y#z", Some("r/1"), "n&2"), "../../x?y#z")
            .unwrap();
        assert_eq!(
            url.path(),
            "/prefix/gateway/chaos/manager/api/rest/v2/experiment/..%2F..%2Fx%3Fy%23z/stop"
        );
        assert!(url.fragment().is_none());
        let query: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let want = [
            ("accountIdentifier", "acc#1"),
            ("organizationIdentifier", "o/../x"),
            ("projectIdentifier", "p?q"),
            ("experimentRunId", "r/1"),
            ("notifyId", "n&2"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(query, want);
        for bad in ["", ".", ".."] {
            let e = h.stop_url(&run(bad, None, "n"), bad).unwrap_err();
            assert!(e.to_string().contains("experiment ID"), "{}", e.to_string());
            assert_eq!(
                h.stop_url(&run("e", None, bad), "e").is_err(),
                bad.is_empty()
            );
        }
    }

    #[test]
    fn run_links_encode_their_identifiers_or_are_left_out() {
        let h = client("acc");
        // An identity's ID is learnt from the polls; here it is given.
        h.learn_id("e/1", "e/1");
        let link = h.run_link(&run("e/1", Some("r?1"), "n")).unwrap();
        assert_eq!(
            link,
            "https://h.example/prefix/ng/account/acc/module/chaos/orgs/o%2F..%2Fx/projects/p%3Fq/experiments/e%2F1/runs/r%3F1"
        );
        assert!(h.run_link(&run("", Some("r"), "n")).is_none());
    }

    #[test]
    fn uuids_are_ids_anything_else_an_identity() {
        assert!(is_uuid("5b1c7e2a-8d4f-4c3b-9a61-0f2e3d4c5b6a"));
        assert!(is_uuid("5B1C7E2A-8D4F-4C3B-9A61-0F2E3D4C5B6A"));
        assert!(!is_uuid("checkout-pod-delete"));
        assert!(!is_uuid("5b1c7e2a8d4f4c3b9a610f2e3d4c5b6a"));
        assert!(!is_uuid("5b1c7e2a-8d4f-4c3b-9a61-0f2e3d4c5b6g"));
        assert!(!is_uuid(""));
    }

    #[test]
    fn run_answers_are_read_without_regard_to_key_case() {
        let a = RunAnswer::read(br#"{"notifyId": "n-1", "experimentId": "e"}"#);
        assert_eq!(a.notify_id.as_deref(), Some("n-1"));
        assert_eq!(a.experiment_id.as_deref(), Some("e"));
        let a = RunAnswer::read(br#"{"notifyID": "n-2"}"#);
        assert_eq!(a.notify_id.as_deref(), Some("n-2"));
        assert_eq!(RunAnswer::read(br#"{"notifyID": 5}"#).notify_id, None);
    }

    #[test]
    fn probe_results_are_read_leniently() {
        let body = br#"{"data": [
            {"notifyId": "n", "experimentRunId": "r", "faultName": "pod-delete", "name": "http",
             "mode": "SOT", "status": {"verdict": "N/A", "description": "not run"}},
            {"NOTIFYID": "m", "name": "cmd", "status": null},
            7
        ]}"#;
        let p = probes_from(body).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].fault, "pod-delete");
        assert_eq!(p[0].verdict.as_deref(), Some("N/A"));
        assert!(!p[0].evaluated());
        assert_eq!(p[1].notify_id.as_deref(), Some("m"));
        assert_eq!(p[1].verdict, None);
        assert!(probes_from(b"{}").is_err());
    }

    #[test]
    fn input_problems_name_missing_and_undeclared_inputs() {
        let declared = serde_json::json!({
            "experiment": [
                {"name": "NS", "value": "", "required": true},
                {"name": "REPLICAS", "value": "1", "required": true},
            ],
            "tasks": {"t": [{"name": "DURATION", "value": null, "default": null, "required": true}]}
        });
        let given = crate::platform::inputs::parse(
            "REPLICAS: 2
TYPO: x
",
        )
        .unwrap();
        let p = input_problems("exp", &declared, &given);
        let missing: Vec<&str> = p
            .iter()
            .filter(|p| p.missing_required)
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(missing.len(), 2, "{p:?}");
        assert!(missing[0].contains("input NS has no value"));
        assert!(missing[1].contains("input DURATION of task t"));
        assert!(
            p.iter()
                .any(|p| !p.missing_required && p.message.contains("TYPO is not declared"))
        );
    }

    #[test]
    fn rest_paths_keep_identifiers_in_one_segment() {
        let h = Harness::new(
            Http::new(None, tokio::time::Instant::now()).unwrap(),
            Url::parse("https://h.example/prefix").unwrap(),
            Secret::new("k"),
            "acc".into(),
            "org".into(),
            "p&q".into(),
        );
        let url = h.rest(&["experiments", "a/../b?x", "run"]).unwrap();
        assert_eq!(
            url.path(),
            "/prefix/gateway/chaos/manager/api/rest/v2/experiments/a%2F..%2Fb%3Fx/run"
        );
        assert!(url.query().unwrap().contains("projectIdentifier=p%26q"));
    }

    #[test]
    fn urls_keep_a_path_prefix() {
        let e = Url::parse("https://harness.example.com/prefix/").unwrap();
        assert_eq!(
            base(&e, "query").build().as_str(),
            "https://harness.example.com/prefix/gateway/chaos/manager/api/query"
        );
        let e = Url::parse("https://app.harness.io").unwrap();
        assert_eq!(
            base(&e, "query").build().as_str(),
            "https://app.harness.io/gateway/chaos/manager/api/query"
        );
    }
}
