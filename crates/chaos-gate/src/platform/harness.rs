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
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::execution_data::ExecutionData;
use super::{
    checked_score, past_run, run_id, runs_since, trigger_notify_id, Candidate, ErrorKind,
    ExperimentInfo, Fault, FoundRun, Infra, PastRun, Platform, PlatformError, RunRef, RunStatus,
    TriggerData, EXECUTION_DATA_BODY, SMALL_BODY,
};
use crate::graphql;
use crate::http::{Http, Mode};
use crate::secret::Secret;
use crate::urls::UrlBuilder;

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

/// The status poll when a run's experiment is not known (attached by notify
/// ID alone): the same with `workflowID`.
pub const LIST_WORKFLOW_RUN_WITH_EXPERIMENT: &str = "query ListWorkflowRun($i:IdentifiersRequest!,$r:ListWorkflowRunRequest!){l:listWorkflowRun(identifiers:$i,request:$r){r:workflowRuns{i:workflowRunID w:workflowID n:notifyID p:phase s:resiliencyScore e:errorResponse}}}";

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

/// Runs whose `executionData` one request asks for: the answer for this
/// many ordinary runs is a few MB; a chunk too large to read is read again
/// one run at a time.
pub const EXECUTION_DATA_CHUNK: usize = 500;
/// Execution-data chunks in flight at once, which bounds the memory they
/// take (a few MB) while overlapping the server's work with ours.
const EXECUTION_DATA_IN_FLIGHT: usize = 4;

/// Every GraphQL document this client can send, for schema tests.
pub const DOCUMENTS: &[&str] = &[
    RUN_CHAOS_EXPERIMENT,
    LIST_WORKFLOW_RUN,
    LIST_WORKFLOW_RUN_WITH_EXPERIMENT,
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

/// `data` of a `listWorkflowRun` answer (the poll's aliases accepted).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunsData {
    #[serde(alias = "l")]
    list_workflow_run: Option<RunList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunList {
    #[serde(alias = "r")]
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
/// outside 0..100 is an error. Linear in the number of runs: each answer is
/// matched to its run through a hash set, not a scan.
fn statuses(wire: Vec<WireRun>, ids: &[&str]) -> Result<Vec<RunStatus>, PlatformError> {
    let ids: HashSet<&str> = ids.iter().copied().collect();
    let mut out = Vec::with_capacity(wire.len().min(ids.len()));
    for run in wire {
        let Some(notify_id) = run.notify_id.filter(|n| ids.contains(n.as_str())) else {
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
            Err(e) if e.kind == ErrorKind::TooLarge => {
                return futures_util::future::join_all(runs.iter().map(|r| self.faults(r))).await
            }
            Err(e) => return runs.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut data: HashMap<String, Option<ExecutionData>> = wire
            .into_iter()
            .filter_map(|r| Some((r.notify_id?, r.execution_data)))
            .collect();
        runs.iter()
            .map(|run| {
                let what = format!("listWorkflowRun (execution data of {})", run.notify_id);
                faults_from(&what, data.remove(&run.notify_id).flatten())
            })
            .collect()
    }
}

/// A run's faults from its `executionData`, none when there is none.
fn faults_from(what: &str, data: Option<ExecutionData>) -> Result<Vec<Fault>, PlatformError> {
    match data {
        Some(ExecutionData(parsed)) => {
            parsed.map_err(|e| PlatformError::unusable(format!("{what}: {e}")))
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
    name: Option<String>,
    is_removed: Option<bool>,
    infra: Option<Infra>,
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
    PlatformError::unusable(format!("cannot build the request URL: {e}"))
}

impl Harness {
    /// `.../rest/v2/experiment/{experimentId}/stop?...`: the experiment ID
    /// (from settings or the platform) is one encoded path segment, the
    /// run's IDs are query values.
    fn stop_url(&self, run: &RunRef) -> Result<Url, PlatformError> {
        let mut url = base(&self.endpoint, "rest/v2/experiment")
            .id("experiment ID", &run.experiment_id)
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

/// A run as `listWorkflowRun` returns it; every field optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRun {
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
        let document = if runs.iter().any(|r| r.experiment_id.is_empty()) {
            LIST_WORKFLOW_RUN_WITH_EXPERIMENT
        } else {
            LIST_WORKFLOW_RUN
        };
        let data: RunsData = self
            .query(
                "listWorkflowRun",
                Mode::Read,
                SMALL_BODY,
                document,
                json!({ "i": self.identifiers(), "r": { "notifyIDs": ids } }),
            )
            .await?;
        statuses(runs_from_data("listWorkflowRun", data)?, &ids)
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
        faults_from(&what, data)
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
        let url = self.stop_url(run)?;
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

    fn failing(&self) -> Option<String> {
        self.http.last_failure()
    }

    fn run_link(&self, run: &RunRef) -> Option<String> {
        let run_id = run.run_id.as_deref()?;
        let url = UrlBuilder::at(&self.endpoint)
            .route("ng/account")
            .id("account_id", &self.account_id)
            .and_then(|u| u.route("module/chaos/orgs").id("org_id", &self.org_id))
            .and_then(|u| u.route("projects").id("project_id", &self.project_id))
            .and_then(|u| {
                u.route("experiments")
                    .id("experiment ID", &run.experiment_id)
            })
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
                        .map_err(|e| PlatformError::unusable(format!("{what}: {e}")))?
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
        let url = h.stop_url(&run("../../x?y#z", Some("r/1"), "n&2")).unwrap();
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
            let e = h.stop_url(&run(bad, None, "n")).unwrap_err();
            assert!(e.message.contains("experiment ID"), "{}", e.message);
            assert_eq!(h.stop_url(&run("e", None, bad)).is_err(), bad.is_empty());
        }
    }

    #[test]
    fn run_links_encode_their_identifiers_or_are_left_out() {
        let h = client("acc");
        let link = h.run_link(&run("e/1", Some("r?1"), "n")).unwrap();
        assert_eq!(
            link,
            "https://h.example/prefix/ng/account/acc/module/chaos/orgs/o%2F..%2Fx/projects/p%3Fq/experiments/e%2F1/runs/r%3F1"
        );
        assert!(h.run_link(&run("", Some("r"), "n")).is_none());
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
