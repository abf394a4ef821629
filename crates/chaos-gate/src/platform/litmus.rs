//! LitmusChaos ChaosCenter 3.x: GraphQL at `{endpoint}/api/query`, a token
//! from `token` or from `POST {endpoint}/auth/login`.
//!
//! ChaosCenter checks the `Origin` header against its allowed origins and
//! answers 403 "Invalid origin" otherwise, so every request carries the
//! endpoint's origin. There is no batch status query, so a poll asks
//! `getExperimentRun` once per run as aliases of one document: one request
//! per poll. A run that the server cannot answer makes the whole answer's
//! `data` null (the field is non-null in the schema), so then each run is
//! asked on its own for that poll.
//!
//! What the real server does, and this client relies on, is in
//! `docs/platform-fidelity.md`: run IDs are `""` until a run leaves
//! `Queued`, listings carry no notify ID, a stop must name the run ID, and
//! a bad or expired token is an HTTP 200 `permission_denied` error.

use std::collections::HashMap;
use std::time::SystemTime;

use reqwest::{RequestBuilder, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::execution_data::ExecutionData;
use super::{
    Candidate, EXECUTION_DATA_BODY, ExperimentInfo, Fault, FoundRun, Infra, PastRun, Platform,
    PlatformError, Probe, RunRef, RunStatus, SMALL_BODY, TriggerData, checked_score, past_run,
    run_id, runs_since, trigger_notify_id,
};
use super::{InfraInfo, SaveRequest, StoredExperiment};
use crate::graphql::{self, Partial};
use crate::http::{Http, Mode, Rejected};
use crate::secret::Secret;
use crate::verdict::PhaseClass;

pub mod settings;
pub use settings::{LitmusAuth, LitmusSettings};

/// Trigger a stored experiment.
pub const RUN_CHAOS_EXPERIMENT: &str =
    "mutation RunChaosExperiment($experimentID: String!, $projectID: ID!) {
  runChaosExperiment(experimentID: $experimentID, projectID: $projectID) { notifyID }
}";

/// The light status poll of one run, by notify ID or run ID.
pub const GET_EXPERIMENT_RUN: &str =
    "query GetExperimentRun($projectID: ID!, $experimentRunID: ID, $notifyID: ID) {
  getExperimentRun(projectID: $projectID, experimentRunID: $experimentRunID, notifyID: $notifyID) {
    experimentRunID experimentID notifyID phase resiliencyScore
  }
}";

/// The fields a poll reads of each run.
const RUN_FIELDS: &str = "experimentRunID experimentID notifyID phase resiliencyScore";

/// A finished run's execution data, asked for once.
pub const GET_EXPERIMENT_RUN_EXECUTION_DATA: &str = "query GetExperimentRunExecutionData($projectID: ID!, $experimentRunID: ID, $notifyID: ID) {
  getExperimentRun(projectID: $projectID, experimentRunID: $experimentRunID, notifyID: $notifyID) { experimentRunID experimentName executionData }
}";

/// What ChaosCenter asks of an experiment manifest beyond its format:
/// probes referenced by annotation, never declared inline (L-18 and L-19 in
/// docs/platform-fidelity.md).
pub const MANIFEST: crate::manifest::Requirements = crate::manifest::Requirements {
    probes_by_reference: true,
};

/// Stop one run (ChaosCenter 3.1.0 and later). The run ID is always given:
/// without it, 3.1 to 3.30 stop every running run of the experiment and
/// 3.31 only marks the run stopped.
pub const STOP_EXPERIMENT_RUNS: &str = "mutation StopExperimentRuns($projectID: ID!, $experimentID: String!, $experimentRunID: String, $notifyID: String) {
  stopExperimentRuns(projectID: $projectID, experimentID: $experimentID, experimentRunID: $experimentRunID, notifyID: $notifyID)
}";

/// Whether an experiment exists (dry run).
pub const GET_EXPERIMENT: &str = "query GetExperiment($projectID: ID!, $experimentID: String!) {
  getExperiment(projectID: $projectID, experimentID: $experimentID) {
    experimentDetails { experimentID name isRemoved infra { infraID isActive } }
  }
}";

/// Recent runs of one experiment, to find a run a lost trigger started.
pub const LIST_EXPERIMENT_RUN: &str =
    "query ListExperimentRun($projectID: ID!, $request: ListExperimentRunRequest!) {
  listExperimentRun(projectID: $projectID, request: $request) {
    experimentRuns { experimentRunID experimentID createdAt }
  }
}";

/// The poll of `n` runs in one document: aliases `r0`, `r1`, ... of
/// `getExperimentRun`, each with its own `$r<i>` (run ID) and `$n<i>`
/// (notify ID) variables.
pub fn poll_document(n: usize) -> String {
    aliased_runs("PollExperimentRuns", n, RUN_FIELDS)
}

/// The execution data of `n` finished runs in one document, aliased as
/// [`poll_document`] is.
pub fn execution_data_document(n: usize) -> String {
    aliased_runs(
        "GetExperimentRunsExecutionData",
        n,
        "experimentRunID experimentName executionData",
    )
}

/// `n` aliases `r0`, `r1`, ... of `getExperimentRun`, selecting `fields`.
fn aliased_runs(operation: &str, n: usize, fields: &str) -> String {
    use std::fmt::Write;
    let mut vars = String::from("$projectID: ID!");
    let mut selection = String::new();
    for i in 0..n {
        let _ = write!(vars, ", $r{i}: ID, $n{i}: ID");
        let _ = write!(
            selection,
            " r{i}: getExperimentRun(projectID: $projectID, experimentRunID: $r{i}, notifyID: $n{i}) {{ {fields} }}"
        );
    }
    format!("query {operation}({vars}) {{{selection} }}")
}

/// An experiment's recent runs, newest first, for its baseline.
pub const LIST_PAST_RUNS: &str =
    "query ListPastExperimentRuns($projectID: ID!, $request: ListExperimentRunRequest!) {
  listExperimentRun(projectID: $projectID, request: $request) {
    experimentRuns { experimentRunID experimentID phase resiliencyScore createdAt }
  }
}";

/// An infrastructure and whether it is active.
pub const GET_INFRA: &str = "query GetInfra($projectID: ID!, $infraID: String!) {
  getInfra(projectID: $projectID, infraID: $infraID) { infraID name isActive isRemoved }
}";

/// Experiments by name: the server matches `experimentName` as a regular
/// expression, so the gate sends an anchored, escaped one.
pub const LIST_EXPERIMENT: &str =
    "query ListExperiment($projectID: ID!, $request: ListExperimentRequest!) {
  listExperiment(projectID: $projectID, request: $request) {
    totalNoOfExperiments experiments { experimentID name tags isRemoved }
  }
}";

/// Create or update (an upsert on `id`) an experiment from a manifest.
pub const SAVE_CHAOS_EXPERIMENT: &str =
    "mutation SaveChaosExperiment($request: SaveChaosExperimentRequest!, $projectID: ID!) {
  saveChaosExperiment(request: $request, projectID: $projectID)
}";

/// Every GraphQL document this client can send, for schema tests (the poll
/// is [`poll_document`]).
pub const DOCUMENTS: &[&str] = &[
    GET_INFRA,
    LIST_EXPERIMENT,
    SAVE_CHAOS_EXPERIMENT,
    RUN_CHAOS_EXPERIMENT,
    GET_EXPERIMENT_RUN,
    GET_EXPERIMENT_RUN_EXECUTION_DATA,
    STOP_EXPERIMENT_RUNS,
    GET_EXPERIMENT,
    LIST_EXPERIMENT_RUN,
    LIST_PAST_RUNS,
];

/// A ChaosCenter client for one project.
pub struct Litmus {
    http: Http,
    query_url: Url,
    login_url: Url,
    origin: String,
    auth: LitmusAuth,
    /// The token in use; replaced when a login token is refused.
    token: Mutex<Option<Secret>>,
    project_id: String,
    /// Experiments' names, from the execution-data reads.
    names: super::Learnt,
}

/// `{endpoint}/{path}`, keeping any path prefix of the endpoint.
fn under(endpoint: &Url, path: &'static str) -> Url {
    crate::urls::UrlBuilder::at(endpoint).route(path).build()
}

impl Litmus {
    /// The runs `listExperimentRun` lists for `request` (the project is
    /// added).
    async fn experiment_runs(
        &self,
        what: &str,
        document: &str,
        request: Value,
    ) -> Result<Vec<WireRun>, PlatformError> {
        let data: RunsData = self
            .query(
                what,
                Mode::Read,
                SMALL_BODY,
                document,
                json!({ "projectID": self.project_id, "request": request }),
            )
            .await?;
        data.runs(what)
    }

    pub fn new(http: Http, endpoint: &Url, auth: LitmusAuth, project_id: String) -> Litmus {
        Litmus {
            http,
            query_url: under(endpoint, "api/query"),
            login_url: under(endpoint, "auth/login"),
            origin: endpoint.origin().ascii_serialization(),
            auth,
            token: Mutex::new(None),
            project_id,
            names: super::Learnt::default(),
        }
    }

    /// The access token: the `token` setting, or one from a login (made
    /// once, and again only when [`Litmus::relogin`] replaces it).
    async fn token(&self) -> Result<Secret, PlatformError> {
        let mut current = self.token.lock().await;
        if let Some(t) = current.as_ref() {
            return Ok(t.clone());
        }
        let fresh = match &self.auth {
            LitmusAuth::Token(t) => t.clone(),
            LitmusAuth::Login { username, password } => self.login(username, password).await?,
        };
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// A new login after `stale` was refused: a token from a login expires,
    /// and a long gate can outlive it. Runs concurrent polls refused
    /// together share one new login. `None` when the token came from the
    /// `token` setting, which cannot be renewed.
    async fn relogin(&self, stale: &Secret) -> Result<Option<Secret>, PlatformError> {
        let LitmusAuth::Login { username, password } = &self.auth else {
            return Ok(None);
        };
        let mut current = self.token.lock().await;
        if let Some(t) = current.as_ref().filter(|t| *t != stale) {
            return Ok(Some(t.clone()));
        }
        tracing::info!("ChaosCenter refused the login token; logging in again");
        let fresh = self.login(username, password).await?;
        *current = Some(fresh.clone());
        Ok(Some(fresh))
    }

    async fn login(&self, username: &str, password: &Secret) -> Result<Secret, PlatformError> {
        let body =
            serde_json::to_vec(&json!({ "username": username, "password": password.expose() }))
                .map_err(|e| {
                    PlatformError::unusable_from(
                        format!("login: cannot encode the request: {e}"),
                        e,
                    )
                })?;
        self.http
            .send(
                "login",
                Mode::Read,
                SMALL_BODY,
                || {
                    self.http
                        .client()
                        .post(self.login_url.clone())
                        .header("Origin", &self.origin)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                },
                |answer| {
                    parse_login_answer(answer).map_err(|error| Rejected { error, retry: true })
                },
            )
            .await
            .map_err(|e| hint(e, "username and password"))
    }

    fn headers(&self, request: RequestBuilder, token: &Secret) -> RequestBuilder {
        request
            .header("Origin", &self.origin)
            .bearer_auth(token.expose())
    }

    async fn query<T: DeserializeOwned>(
        &self,
        what: &str,
        mode: Mode,
        cap: usize,
        document: &str,
        variables: Value,
    ) -> Result<T, PlatformError> {
        let answer = self
            .query_partial::<T>(what, mode, cap, document, variables)
            .await?;
        match answer.errors {
            Some(e) => Err(e),
            None => Ok(answer.data),
        }
    }

    /// Sends one operation with the current token; a token refused (HTTP
    /// 401/403, or ChaosCenter's HTTP 200 `permission_denied` error) is
    /// renewed by one new login and the request sent once more: a refused
    /// request did nothing, trigger or not.
    async fn query_partial<T: DeserializeOwned>(
        &self,
        what: &str,
        mode: Mode,
        cap: usize,
        document: &str,
        variables: Value,
    ) -> Result<Partial<T>, PlatformError> {
        let check = match self.auth {
            LitmusAuth::Token(_) => "token",
            LitmusAuth::Login { .. } => "username and password",
        };
        let token = self.token().await?;
        let send = |token: Secret, variables: Value| async move {
            graphql::post_partial(
                &self.http,
                &self.query_url,
                what,
                mode,
                cap,
                document,
                variables,
                |r| self.headers(r, &token),
            )
            .await
        };
        let hinted = |mut p: Partial<T>| {
            p.errors = p.errors.map(|e| hint(e, check));
            p
        };
        match send(token.clone(), variables.clone()).await {
            Err(e @ PlatformError::Auth { .. }) => match self.relogin(&token).await? {
                Some(fresh) => send(fresh, variables)
                    .await
                    .map(hinted)
                    .map_err(|e| hint(e, check)),
                None => Err(hint(e, check)),
            },
            other => other.map(hinted).map_err(|e| hint(e, check)),
        }
    }

    /// One run by notify ID or, for a run adopted from a listing, by run ID.
    async fn get_run(
        &self,
        what: &str,
        document: &str,
        cap: usize,
        run: &RunRef,
    ) -> Result<Option<WireRun>, PlatformError> {
        let (run_id, notify_id) = keys(run);
        let data: RunData = self
            .query(
                what,
                Mode::Read,
                cap,
                document,
                json!({ "projectID": self.project_id, "experimentRunID": run_id, "notifyID": notify_id }),
            )
            .await?;
        Ok(data.get_experiment_run)
    }

    /// One poll of every run in one request; when the server cannot answer
    /// one of them (its errors null the whole `data`), each is asked alone.
    async fn poll_runs(&self, runs: &[RunRef]) -> Result<Vec<Option<WireRun>>, PlatformError> {
        self.runs_by_alias(
            runs,
            &poll_document(runs.len()),
            GET_EXPERIMENT_RUN,
            SMALL_BODY,
        )
        .await
    }

    /// `document` (aliases `r0`, `r1`, ... of `getExperimentRun`) for every
    /// run in one request; when the server cannot answer one of them (its
    /// errors null the whole `data`), each is asked alone with `single`.
    async fn runs_by_alias(
        &self,
        runs: &[RunRef],
        document: &str,
        single: &str,
        cap: usize,
    ) -> Result<Vec<Option<WireRun>>, PlatformError> {
        let mut variables = serde_json::Map::new();
        variables.insert("projectID".into(), json!(self.project_id));
        for (i, r) in runs.iter().enumerate() {
            let (run_id, notify_id) = keys(r);
            variables.insert(format!("r{i}"), json!(run_id));
            variables.insert(format!("n{i}"), json!(notify_id));
        }
        let what = format!("getExperimentRun for {} run(s)", runs.len());
        let answer: Result<HashMap<String, Option<WireRun>>, PlatformError> = self
            .query(&what, Mode::Read, cap, document, Value::Object(variables))
            .await;
        match answer {
            Ok(mut by_alias) => Ok((0..runs.len())
                .map(|i| by_alias.remove(&format!("r{i}")).flatten())
                .collect()),
            Err(e @ PlatformError::Rejected { .. }) if runs.len() > 1 => {
                tracing::debug!("{}; asking each run on its own", e.to_string());
                let one = |r| async move {
                    let what = format!("getExperimentRun for {}", describe(r));
                    match self.get_run(&what, single, cap, r).await {
                        // A run the server has no answer for is left out,
                        // as a run not listed yet is (README "Phases and verdicts"); the others are
                        // still judged.
                        Err(e @ PlatformError::Rejected { .. }) => {
                            tracing::warn!("{}", e.to_string());
                            Ok(None)
                        }
                        other => other,
                    }
                };
                futures_util::future::join_all(runs.iter().map(one))
                    .await
                    .into_iter()
                    .collect()
            }
            Err(e) => Err(e),
        }
    }
}

/// The run ID and notify ID to ask for a run by: the notify ID when the gate
/// has one (the run ID is `""` until the run leaves `Queued`), else the run
/// ID of a run adopted from a listing.
fn keys(run: &RunRef) -> (Option<&str>, Option<&str>) {
    if run.notify_id.is_empty() {
        (run.run_id.as_deref(), None)
    } else {
        (None, Some(run.notify_id.as_str()))
    }
}

/// A run for messages: its notify ID, or its run ID.
fn describe(run: &RunRef) -> String {
    if run.notify_id.is_empty() {
        format!("run {}", run.run_id.as_deref().unwrap_or("?"))
    } else {
        run.notify_id.clone()
    }
}

/// The access token in the answer of `POST /auth/login`; an answer without
/// one (or with an empty one) is an error.
pub fn parse_login_answer(answer: &[u8]) -> Result<Secret, PlatformError> {
    let token = serde_json::from_slice::<LoginAnswer>(answer)
        .ok()
        .and_then(|a| a.access_token);
    match token.as_ref().and_then(Value::as_str).map(str::trim) {
        Some(t) if !t.is_empty() => Ok(Secret::new(t)),
        _ => Err(PlatformError::unusable(
            "login: the answer has no accessToken".to_string(),
        )),
    }
}

/// The answer of `POST /auth/login`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginAnswer {
    access_token: Option<Value>,
}

/// `data` of a `getExperimentRun` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunData {
    get_experiment_run: Option<WireRun>,
}

/// `data` of a `listExperimentRun` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunsData {
    list_experiment_run: Option<RunList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunList {
    experiment_runs: Option<Vec<Option<WireRun>>>,
}

impl RunsData {
    /// The runs listed; none where the answer lists none.
    fn runs(self, what: &str) -> Result<Vec<WireRun>, PlatformError> {
        let list = graphql::field(what, self.list_experiment_run, "listExperimentRun")?;
        Ok(list
            .experiment_runs
            .into_iter()
            .flatten()
            .flatten()
            .collect())
    }
}

impl WireRun {
    /// A listed run as a candidate for a lost trigger's run.
    fn candidate(self) -> Candidate {
        Candidate {
            experiment_id: self.experiment_id,
            notify_id: self.notify_id,
            run_id: self.experiment_run_id,
            created_at: self.created_at,
        }
    }
}

/// `data` of a `stopExperimentRuns` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopData {
    stop_experiment_runs: Option<bool>,
}

/// `data` of a `getExperiment` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExperimentData {
    get_experiment: Option<ExperimentAnswer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExperimentAnswer {
    experiment_details: Option<ExperimentDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExperimentDetails {
    name: Option<String>,
    is_removed: Option<bool>,
    infra: Option<Infra>,
}

/// Names the settings to check when ChaosCenter refuses a request. A 403 is
/// often the Origin check, so that is named too.
fn hint(e: PlatformError, check: &str) -> PlatformError {
    e.hint_auth(&format!(
        "{check}, and that endpoint is the ChaosCenter URL its server allows as an origin"
    ))
}

/// A run as `getExperimentRun` returns it; every field optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRun {
    #[serde(rename = "experimentRunID")]
    experiment_run_id: Option<String>,
    #[serde(rename = "experimentID")]
    experiment_id: Option<String>,
    #[serde(rename = "notifyID")]
    notify_id: Option<String>,
    phase: Option<String>,
    resiliency_score: Option<f64>,
    experiment_name: Option<String>,
    execution_data: Option<ExecutionData>,
    created_at: Option<Value>,
}

impl Platform for Litmus {
    fn name(&self) -> &'static str {
        "litmus"
    }

    async fn trigger(&self, experiment_id: &str) -> Result<String, PlatformError> {
        let what = format!("runChaosExperiment for {experiment_id}");
        let answer: Partial<TriggerData> = self
            .query_partial(
                &what,
                Mode::Trigger,
                SMALL_BODY,
                RUN_CHAOS_EXPERIMENT,
                json!({ "experimentID": experiment_id, "projectID": self.project_id }),
            )
            .await?;
        trigger_notify_id(answer, &what, "ChaosCenter")
    }

    async fn find_runs(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> Result<Vec<FoundRun>, PlatformError> {
        let what = format!("listExperimentRun (looking for a run of {experiment_id})");
        let runs = self
            .experiment_runs(
                &what,
                LIST_EXPERIMENT_RUN,
                json!({ "experimentIDs": [experiment_id] }),
            )
            .await?;
        // ChaosCenter never fills notifyID in a listing: runs are told
        // apart by experiment and creation time only.
        let candidates = runs.into_iter().map(WireRun::candidate);
        Ok(runs_since(candidates, experiment_id, since))
    }

    async fn poll(&self, runs: &[RunRef]) -> Result<Vec<RunStatus>, PlatformError> {
        let answers = self.poll_runs(runs).await?;
        let mut statuses = Vec::with_capacity(runs.len());
        for (r, answer) in runs.iter().zip(answers) {
            // A null run (no error) is one not listed yet: still going (README "Phases and verdicts").
            let Some(run) = answer else { continue };
            let key = describe(r);
            let phase = run.phase.unwrap_or_default();
            // ChaosCenter writes a score of 0 at the trigger and computes
            // the real one only when the run completes: a score read before
            // a terminal phase means nothing.
            let class = super::chaoscenter_phase(&phase);
            let score = if class == PhaseClass::Going {
                None
            } else {
                checked_score("getExperimentRun", &key, run.resiliency_score)?
            };
            statuses.push(RunStatus {
                notify_id: run
                    .notify_id
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| r.notify_id.clone()),
                experiment_id: run.experiment_id,
                run_id: run_id(run.experiment_run_id),
                phase,
                class,
                score,
                error: None,
            });
        }
        Ok(statuses)
    }

    async fn faults(&self, run: &RunRef) -> Result<Vec<Fault>, PlatformError> {
        let what = format!("getExperimentRun (execution data of {})", describe(run));
        let wire = self
            .get_run(
                &what,
                GET_EXPERIMENT_RUN_EXECUTION_DATA,
                EXECUTION_DATA_BODY,
                run,
            )
            .await?;
        if let Some(w) = &wire {
            self.names
                .learn(&run.experiment_id, w.experiment_name.as_deref());
        }
        match wire.and_then(|w| w.execution_data) {
            Some(ExecutionData(parsed)) => {
                parsed.map_err(|e| PlatformError::unusable_from(format!("{what}: {e}"), e))
            }
            None => Ok(Vec::new()),
        }
    }

    async fn faults_of(&self, runs: &[RunRef]) -> Vec<Result<Vec<Fault>, PlatformError>> {
        if runs.len() < 2 {
            let mut out = Vec::new();
            for r in runs {
                out.push(self.faults(r).await);
            }
            return out;
        }
        // Every finished run's execution data in one request.
        let answers = self
            .runs_by_alias(
                runs,
                &execution_data_document(runs.len()),
                GET_EXPERIMENT_RUN_EXECUTION_DATA,
                EXECUTION_DATA_BODY,
            )
            .await;
        match answers {
            Ok(wires) => runs
                .iter()
                .zip(wires)
                .map(|(r, wire)| {
                    if let Some(w) = &wire {
                        self.names
                            .learn(&r.experiment_id, w.experiment_name.as_deref());
                    }
                    (r, wire)
                })
                .map(|(r, wire)| match wire.and_then(|w| w.execution_data) {
                    Some(ExecutionData(parsed)) => parsed.map_err(|e| {
                        PlatformError::unusable(format!(
                            "getExperimentRun (execution data of {}): {e}",
                            describe(r)
                        ))
                    }),
                    None => Ok(Vec::new()),
                })
                .collect(),
            Err(e) => runs.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    /// ChaosCenter's probe results are in each fault's `chaosResult` in the
    /// execution data (reference B5), read with the faults.
    async fn probes(&self, _runs: &[RunRef]) -> Result<Option<Vec<Probe>>, PlatformError> {
        Ok(None)
    }

    async fn stop(&self, run: &RunRef) -> Result<(), PlatformError> {
        let what = format!("stopExperimentRuns for {}", run.experiment_id);
        let Some(run_id) = run.run_id.as_deref() else {
            return Err(PlatformError::unusable(format!(
                "{what}: the run has no experimentRunID yet, and a stop without one would stop \
                 other runs of the experiment or only mark this one stopped"
            )));
        };
        let notify_id = Some(run.notify_id.as_str()).filter(|n| !n.is_empty());
        let data: StopData = self
            .query(
                &what,
                Mode::Write,
                SMALL_BODY,
                STOP_EXPERIMENT_RUNS,
                json!({
                    "projectID": self.project_id,
                    "experimentID": run.experiment_id,
                    "experimentRunID": run_id,
                    "notifyID": notify_id,
                }),
            )
            .await?;
        match data.stop_experiment_runs {
            Some(false) => Err(PlatformError::unusable(format!(
                "{what}: ChaosCenter answered false"
            ))),
            _ => Ok(()),
        }
    }

    async fn recent_runs(
        &self,
        experiment_id: &str,
        limit: u32,
    ) -> Result<Vec<PastRun>, PlatformError> {
        let what = format!("listExperimentRun (recent runs of {experiment_id})");
        let runs = self
            .experiment_runs(
                &what,
                LIST_PAST_RUNS,
                json!({
                    "experimentIDs": [experiment_id],
                    "pagination": { "page": 0, "limit": limit },
                    "sort": { "field": "TIME", "ascending": false },
                }),
            )
            .await?;
        Ok(runs
            .into_iter()
            .filter(|r| r.experiment_id.as_deref() == Some(experiment_id))
            .filter_map(|r| {
                past_run(
                    &what,
                    r.experiment_run_id,
                    r.phase,
                    r.resiliency_score,
                    r.created_at.as_ref(),
                )
            })
            .collect())
    }

    async fn check_experiment(&self, experiment_id: &str) -> Result<ExperimentInfo, PlatformError> {
        let what = format!("getExperiment for {experiment_id}");
        let not_found = |why: Option<&str>| {
            let mut message = format!(
                "experiment {experiment_id} was not found in project {}; check experiment_id and project_id",
                self.project_id
            );
            if let Some(why) = why {
                message.push_str(&format!(" ({why})"));
            }
            PlatformError::not_found(message)
        };
        let data: ExperimentData = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                GET_EXPERIMENT,
                json!({ "projectID": self.project_id, "experimentID": experiment_id }),
            )
            .await
            .map_err(|e| {
                // ChaosCenter answers a missing (or removed) experiment with
                // a GraphQL error ("no matching experiments"); refused
                // credentials are an Auth error and pass through.
                if matches!(e, PlatformError::Rejected { .. }) {
                    not_found(Some(&e.to_string()))
                } else {
                    e
                }
            })?;
        let details = graphql::field(&what, data.get_experiment, "getExperiment")?
            .experiment_details
            .ok_or_else(|| not_found(None))?;
        Ok(ExperimentInfo {
            experiment_id: experiment_id.to_string(),
            name: details.name,
            removed: details.is_removed.unwrap_or(false),
            infra_active: details.infra.and_then(|i| i.is_active),
        })
    }

    async fn infra(&self, infra_id: &str) -> Result<InfraInfo, PlatformError> {
        let what = format!("getInfra for {infra_id}");
        let not_found = |why: &str| {
            PlatformError::not_found(format!(
                "infrastructure {infra_id} was not found in project {}{why}; check infra_id \
                     (the chaos infrastructure's ID) and project_id",
                self.project_id
            ))
        };
        let data: Result<InfraData, _> = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                GET_INFRA,
                json!({ "projectID": self.project_id, "infraID": infra_id }),
            )
            .await;
        // ChaosCenter: "no matching infra" for a missing or removed one.
        let infra = graphql::infra_found(data.map(|d| d.get_infra), not_found)?;
        Ok(InfraInfo {
            infra_id: infra_id.to_string(),
            name: infra.name,
            active: infra.is_active.unwrap_or(false),
            save_id: infra_id.to_string(),
        })
    }

    async fn find_experiment(&self, name: &str) -> Result<Option<StoredExperiment>, PlatformError> {
        let what = format!("listExperiment for {name}");
        let pattern = format!("^{}$", regex_escape(name));
        let data: ExperimentListData = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                LIST_EXPERIMENT,
                json!({
                    "projectID": self.project_id,
                    "request": {
                        "filter": { "experimentName": pattern },
                        "pagination": { "page": 0, "limit": 50 },
                    },
                }),
            )
            .await?;
        let list = graphql::field(&what, data.list_experiment, "listExperiment")?;
        Ok(list
            .experiments
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .filter(|e| e.is_removed != Some(true))
            .find(|e| e.name.as_deref() == Some(name))
            .and_then(|e| {
                Some(StoredExperiment {
                    experiment_id: e.experiment_id.filter(|i| !i.trim().is_empty())?,
                    name: name.to_string(),
                    tags: e.tags.unwrap_or_default(),
                })
            }))
    }

    async fn save_experiment(&self, request: &SaveRequest<'_>) -> Result<String, PlatformError> {
        // The client names the experiment: an update names the stored one,
        // a creation a fresh ID (the server's create answer carries none).
        let id = match request.existing_id {
            Some(id) => id.to_string(),
            None => super::new_experiment_id()?,
        };
        let what = format!("saveChaosExperiment for {} ({id})", request.name);
        let _message: String = self
            .query::<SaveData>(
                &what,
                Mode::Write,
                SMALL_BODY,
                SAVE_CHAOS_EXPERIMENT,
                json!({
                    "projectID": self.project_id,
                    "request": {
                        "id": id,
                        "type": "Experiment",
                        "name": request.name,
                        "description": request.description,
                        "manifest": request.manifest,
                        "infraID": request.infra_id,
                        "tags": request.tags,
                    },
                }),
            )
            .await
            .map(|d| d.save_chaos_experiment.unwrap_or_default())?;
        Ok(id)
    }

    fn experiment_name(&self, experiment_id: &str) -> Option<String> {
        self.names.get(experiment_id)
    }

    fn run_link(&self, _run: &RunRef) -> Option<String> {
        // ChaosCenter's UI routes are not a published contract; rather no
        // link than a wrong one.
        None
    }

    fn failing(&self) -> Option<String> {
        self.http.last_failure()
    }
}

/// The answers this client reads, by the operation that asks for them:
/// the names [`parse_answer`] takes (fuzz targets and property tests).
pub const ANSWERS: &[&str] = &[
    "login",
    "runChaosExperiment",
    "getExperimentRun",
    "getExperimentRunExecutionData",
    "listExperimentRun",
    "stopExperimentRuns",
    "getExperiment",
];

/// Reads an answer body the way the client reads the answer to
/// `operation` (one of [`ANSWERS`]), through the same types and checks, and
/// returns how many items it found. For the fuzz targets and property
/// tests: nothing a server sends may panic.
pub fn parse_answer(operation: &str, body: &[u8]) -> Result<usize, PlatformError> {
    let what = operation;
    match operation {
        "login" => parse_login_answer(body).map(|_| 1),
        "runChaosExperiment" => {
            let answer = graphql::data_partial::<TriggerData>(what, body)?;
            trigger_notify_id(answer, what, "ChaosCenter").map(|_| 1)
        }
        "getExperimentRun" => {
            let data: RunData = graphql::data(what, body)?;
            match data.get_experiment_run {
                Some(run) => {
                    checked_score(what, "n-1", run.resiliency_score)?;
                    Ok(1)
                }
                None => Ok(0),
            }
        }
        "getExperimentRunExecutionData" => {
            let data: RunData = graphql::data(what, body)?;
            match data.get_experiment_run.and_then(|w| w.execution_data) {
                Some(ExecutionData(parsed)) => parsed
                    .map(|f| f.len())
                    .map_err(|e| PlatformError::unusable_from(format!("{what}: {e}"), e)),
                None => Ok(0),
            }
        }
        "listExperimentRun" => {
            let data: RunsData = graphql::data(what, body)?;
            let candidates = data.runs(what)?.into_iter().map(WireRun::candidate);
            Ok(runs_since(candidates, "exp", SystemTime::UNIX_EPOCH).len())
        }
        "stopExperimentRuns" => {
            let data: StopData = graphql::data(what, body)?;
            Ok(usize::from(data.stop_experiment_runs.unwrap_or(false)))
        }
        "getExperiment" => {
            let data: ExperimentData = graphql::data(what, body)?;
            let details =
                graphql::field(what, data.get_experiment, "getExperiment")?.experiment_details;
            Ok(usize::from(details.is_some()))
        }
        other => Err(PlatformError::unusable(format!(
            "{other} is not an answer the Litmus client reads"
        ))),
    }
}

/// `data` of a `getInfra` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InfraData {
    get_infra: Option<graphql::InfraAnswer>,
}

/// `data` of a `listExperiment` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExperimentListData {
    list_experiment: Option<ExperimentList>,
}

#[derive(Deserialize)]
struct ExperimentList {
    experiments: Option<Vec<Option<ListedExperiment>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedExperiment {
    #[serde(rename = "experimentID")]
    experiment_id: Option<String>,
    name: Option<String>,
    tags: Option<Vec<String>>,
    is_removed: Option<bool>,
}

/// `data` of a `saveChaosExperiment` answer: a message.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveData {
    save_chaos_experiment: Option<String>,
}

/// `text` as a regular expression that matches only itself.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$-/#&~ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_origin() {
        let e = Url::parse("https://litmus.example.com:9091/chaos/").unwrap();
        assert_eq!(
            under(&e, "api/query").as_str(),
            "https://litmus.example.com:9091/chaos/api/query"
        );
        assert_eq!(
            under(&e, "auth/login").as_str(),
            "https://litmus.example.com:9091/chaos/auth/login"
        );
        assert_eq!(
            e.origin().ascii_serialization(),
            "https://litmus.example.com:9091"
        );
    }
}
