//! Harness Chaos Engineering: GraphQL at
//! `{endpoint}/gateway/chaos/manager/api/query`, stop through REST v2.
//!
//! Polls ask for the light selection only (no `executionData`, no
//! `workflowManifest`) and carry every notify ID of the gate in one
//! `listWorkflowRun` request, so a poll costs one small request however many
//! experiments the gate runs. `executionData` is asked for once per run,
//! after it finished.

use std::time::SystemTime;

use reqwest::{RequestBuilder, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::execution_data::ExecutionData;
use super::{
    checked_score, past_run, run_id, runs_since, trigger_notify_id, Candidate, ErrorKind,
    ExperimentInfo, Fault, FoundRun, Infra, PastRun, Platform, PlatformError, RunRef, RunStatus,
    TriggerData, EXECUTION_DATA_BODY, SMALL_BODY,
};
use super::{says_not_found, InfraInfo, SaveRequest, StoredExperiment};
use crate::graphql;
use crate::http::{Http, Mode};
use crate::secret::Secret;

/// Trigger a stored experiment ("workflow" in this API).
pub const RUN_CHAOS_EXPERIMENT: &str =
    "mutation RunChaosExperiment($workflowID: String!, $identifiers: IdentifiersRequest!) {
  runChaosExperiment(workflowID: $workflowID, identifiers: $identifiers) { notifyID }
}";

/// The light status poll.
pub const LIST_WORKFLOW_RUN: &str =
    "query ListWorkflowRun($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    totalNoOfWorkflowRuns
    workflowRuns {
      workflowRunID workflowID notifyID phase resiliencyScore
      experimentsPassed experimentsFailed experimentsAwaited
      experimentsStopped experimentsNa totalExperiments errorResponse
    }
  }
}";

/// A finished run's execution data, asked for once.
pub const LIST_WORKFLOW_RUN_EXECUTION_DATA: &str = "query ListWorkflowRunExecutionData($identifiers: IdentifiersRequest!, $request: ListWorkflowRunRequest!) {
  listWorkflowRun(identifiers: $identifiers, request: $request) {
    workflowRuns { workflowRunID notifyID executionData }
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
    LIST_WORKFLOW_RUN_EXECUTION_DATA,
    LIST_RECENT_RUNS,
    LIST_PAST_RUNS,
    LIST_WORKFLOW,
];

/// A Harness chaos client for one account, organization and project.
pub struct Harness {
    http: Http,
    endpoint: Url,
    query_url: Url,
    api_key: Secret,
    account_id: String,
    org_id: String,
    project_id: String,
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
        let mut query_url = base(&endpoint, "query");
        query_url
            .query_pairs_mut()
            .append_pair("accountIdentifier", &account_id);
        Harness {
            http,
            endpoint,
            query_url,
            api_key,
            account_id,
            org_id,
            project_id,
        }
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
}

/// `data` of a `listWorkflowRun` answer.
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

/// The statuses of the runs named by `ids` in a light poll's runs; a score
/// outside 0..100 is an error.
fn statuses(wire: Vec<WireRun>, ids: &[&str]) -> Result<Vec<RunStatus>, PlatformError> {
    let mut out = Vec::new();
    for run in wire {
        let Some(notify_id) = run.notify_id.filter(|n| ids.contains(&n.as_str())) else {
            continue;
        };
        let score = checked_score("listWorkflowRun", &notify_id, run.resiliency_score)?;
        out.push(RunStatus {
            notify_id,
            experiment_id: run.workflow_id,
            run_id: run_id(run.workflow_run_id),
            phase: run.phase.unwrap_or_default(),
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
    statuses(runs_from_data("listWorkflowRun", data)?, ids)
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
    name: Option<String>,
    is_removed: Option<bool>,
    infra: Option<Infra>,
}

/// `data` of a `getInfraDetails` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfraDetailsData {
    get_infra_details: Option<InfraDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfraDetails {
    name: Option<String>,
    #[serde(rename = "environmentID")]
    environment_id: Option<String>,
    is_active: Option<bool>,
    is_removed: Option<bool>,
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

/// `{endpoint}/gateway/chaos/manager/api/{path}`, keeping any path prefix
/// the endpoint has (self-managed installs sit behind one).
fn base(endpoint: &Url, path: &str) -> Url {
    let mut url = endpoint.clone();
    let prefix = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}/gateway/chaos/manager/api/{path}"));
    url.set_query(None);
    url
}

/// Names the settings to check when Harness refuses the credentials.
fn auth_hint(e: PlatformError) -> PlatformError {
    e.hint_auth("api_key (a Harness API key with chaos permissions) and account_id")
}

/// A run as `listWorkflowRun` returns it; every field optional.
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
    error_response: Option<String>,
    execution_data: Option<ExecutionData>,
    created_at: Option<Value>,
}

impl Platform for Harness {
    fn name(&self) -> &'static str {
        "harness"
    }

    async fn trigger(&self, experiment_id: &str) -> Result<String, PlatformError> {
        let what = format!("runChaosExperiment for {experiment_id}");
        let answer = graphql::post_partial::<TriggerData>(
            &self.http,
            &self.query_url,
            &what,
            Mode::Write,
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
        let runs = self
            .list_runs(
                &what,
                LIST_RECENT_RUNS,
                SMALL_BODY,
                json!({ "workflowIDs": [experiment_id] }),
            )
            .await?;
        let candidates = runs.into_iter().map(|r| Candidate {
            experiment_id: r.workflow_id,
            notify_id: r.notify_id,
            run_id: r.workflow_run_id,
            created_at: r.created_at,
        });
        Ok(runs_since(candidates, experiment_id, since))
    }

    async fn poll(&self, runs: &[RunRef]) -> Result<Vec<RunStatus>, PlatformError> {
        let ids: Vec<&str> = runs.iter().map(|r| r.notify_id.as_str()).collect();
        let wire = self
            .list_runs(
                "listWorkflowRun",
                LIST_WORKFLOW_RUN,
                SMALL_BODY,
                json!({ "notifyIDs": ids }),
            )
            .await?;
        statuses(wire, &ids)
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
        let data = wire
            .into_iter()
            .find(|r| r.notify_id.as_deref() == Some(run.notify_id.as_str()))
            .and_then(|r| r.execution_data);
        match data {
            Some(ExecutionData(parsed)) => {
                parsed.map_err(|e| PlatformError::unusable(format!("{what}: {e}")))
            }
            None => Ok(Vec::new()),
        }
    }

    async fn stop(&self, run: &RunRef) -> Result<(), PlatformError> {
        // The published API requires both IDs, and a stop naming no run
        // stops every running run of the experiment: never send one.
        let (Some(run_id), false) = (run.run_id.as_deref(), run.notify_id.is_empty()) else {
            return Err(PlatformError::unusable(format!(
                "stop (REST v2) for {}: the run's experimentRunId is not known yet, and a stop \
                 without it could stop other runs of the experiment",
                run.experiment_id
            )));
        };
        let mut url = base(
            &self.endpoint,
            &format!("rest/v2/experiment/{}/stop", run.experiment_id),
        );
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("accountIdentifier", &self.account_id)
                .append_pair("organizationIdentifier", &self.org_id)
                .append_pair("projectIdentifier", &self.project_id);
            q.append_pair("experimentRunId", run_id)
                .append_pair("notifyId", &run.notify_id);
        }
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
                // Any JSON answer counts; only an explicit `false` is a no.
                |body| {
                    Ok(serde_json::from_slice::<StopAnswer>(body)
                        .ok()
                        .and_then(|a| a.is_stopped))
                },
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
        let runs = self
            .list_runs(
                &what,
                LIST_PAST_RUNS,
                SMALL_BODY,
                json!({ "workflowIDs": [experiment_id], "pagination": { "page": 0, "limit": limit } }),
            )
            .await?;
        Ok(runs
            .into_iter()
            .filter(|r| r.workflow_id.as_deref() == Some(experiment_id))
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
        let what = format!("listWorkflow for {experiment_id}");
        let data: WorkflowsData = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                LIST_WORKFLOW,
                json!({ "identifiers": self.identifiers(), "request": { "workflowIDs": [experiment_id] } }),
            )
            .await?;
        let list = graphql::field(&what, data.list_workflow, "listWorkflow")?;
        let found = list
            .workflows
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .find(|w| w.workflow_id.as_deref() == Some(experiment_id));
        let Some(w) = found else {
            return Err(PlatformError::new(ErrorKind::NotFound, format!(
                "experiment {experiment_id} was not found in project {} (org {}); check experiment_id, project_id and org_id",
                self.project_id, self.org_id
            )));
        };
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
            PlatformError::new(
                ErrorKind::NotFound,
                format!(
                    "infrastructure {infra_id} was not found in project {} (org {}){why}; check infra_id \
                     (the chaos infrastructure's ID) and project_id",
                    self.project_id, self.org_id
                ),
            )
        };
        let data: InfraDetailsData = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                GET_INFRA_DETAILS,
                json!({ "infraID": lookup_id, "identifiers": self.identifiers() }),
            )
            .await
            .map_err(|e| {
                if e.kind == ErrorKind::Rejected && says_not_found(&e.message) {
                    not_found(&format!(" ({})", crate::text::one_line(&e.message)))
                } else {
                    e
                }
            })?;
        let Some(infra) = data.get_infra_details else {
            return Err(not_found(""));
        };
        if infra.is_removed == Some(true) {
            return Err(not_found(" (it has been removed)"));
        }
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
            let mut url = base(&self.endpoint, "rest/v2/experiment");
            url.query_pairs_mut()
                .append_pair("accountIdentifier", &self.account_id)
                .append_pair("organizationIdentifier", &self.org_id)
                .append_pair("projectIdentifier", &self.project_id)
                .append_pair("page", &page.to_string())
                .append_pair("limit", &LIMIT.to_string())
                .append_pair("experimentName", name);
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
        let mut url = base(&self.endpoint, "rest/v2/experiment");
        url.query_pairs_mut()
            .append_pair("accountIdentifier", &self.account_id)
            .append_pair("organizationIdentifier", &self.org_id)
            .append_pair("projectIdentifier", &self.project_id);
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
        let body = body.to_string();
        let answer = self
            .http
            .send(
                &what,
                Mode::Write,
                SMALL_BODY,
                || {
                    self.headers(self.http.client().post(url.clone()))
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                },
                |b| Ok(serde_json::from_slice::<V2SaveAnswer>(b).ok()),
            )
            .await
            .map_err(auth_hint)?;
        Ok(answer
            .and_then(|a| a.data)
            .and_then(|d| d.id)
            .filter(|i| !i.trim().is_empty())
            .unwrap_or(id))
    }

    fn failing(&self) -> Option<String> {
        self.http.last_failure()
    }

    fn run_link(&self, run: &RunRef) -> Option<String> {
        let run_id = run.run_id.as_deref()?;
        let mut url = self.endpoint.clone();
        let prefix = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!(
            "{prefix}/ng/account/{}/module/chaos/orgs/{}/projects/{}/experiments/{}/runs/{}",
            self.account_id, self.org_id, self.project_id, run.experiment_id, run_id
        ));
        Some(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_path_prefix() {
        let e = Url::parse("https://harness.example.com/prefix/").unwrap();
        assert_eq!(
            base(&e, "query").as_str(),
            "https://harness.example.com/prefix/gateway/chaos/manager/api/query"
        );
        let e = Url::parse("https://app.harness.io").unwrap();
        assert_eq!(
            base(&e, "query").as_str(),
            "https://app.harness.io/gateway/chaos/manager/api/query"
        );
    }
}
