//! LitmusChaos ChaosCenter 3.x: GraphQL at `{endpoint}/api/query`, a token
//! from `token` or from `POST {endpoint}/auth/login`.
//!
//! ChaosCenter checks the `Origin` header against its allowed origins and
//! answers 403 "Invalid origin" otherwise, so every request carries the
//! endpoint's origin. There is no batch status query: a poll asks
//! `getExperimentRun` once per run, all at once.

use std::time::SystemTime;

use reqwest::{RequestBuilder, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::execution_data::ExecutionData;
use super::{
    checked_score, newest_since, Candidate, ErrorKind, ExperimentInfo, Fault, FoundRun, Infra,
    Platform, PlatformError, RunRef, RunStatus, TriggerData, EXECUTION_DATA_BODY, SMALL_BODY,
};
use crate::graphql;
use crate::http::{Http, Mode, Rejected};
use crate::secret::Secret;
use crate::settings::LitmusAuth;

/// Trigger a stored experiment.
pub const RUN_CHAOS_EXPERIMENT: &str =
    "mutation RunChaosExperiment($experimentID: String!, $projectID: ID!) {
  runChaosExperiment(experimentID: $experimentID, projectID: $projectID) { notifyID }
}";

/// The light status poll of one run.
pub const GET_EXPERIMENT_RUN: &str = "query GetExperimentRun($projectID: ID!, $notifyID: ID) {
  getExperimentRun(projectID: $projectID, notifyID: $notifyID) {
    experimentRunID experimentID phase resiliencyScore
    faultsPassed faultsFailed faultsAwaited faultsStopped faultsNa totalFaults
  }
}";

/// A finished run's execution data, asked for once.
pub const GET_EXPERIMENT_RUN_EXECUTION_DATA: &str =
    "query GetExperimentRunExecutionData($projectID: ID!, $notifyID: ID) {
  getExperimentRun(projectID: $projectID, notifyID: $notifyID) { experimentRunID executionData }
}";

/// Stop the runs of an experiment (ChaosCenter 3.1.0 and later).
pub const STOP_EXPERIMENT_RUNS: &str =
    "mutation StopExperimentRuns($projectID: ID!, $experimentID: String!, $notifyID: String) {
  stopExperimentRuns(projectID: $projectID, experimentID: $experimentID, notifyID: $notifyID)
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
    experimentRuns { experimentRunID experimentID notifyID createdAt }
  }
}";

/// Every GraphQL document this client can send, for schema tests.
pub const DOCUMENTS: &[&str] = &[
    RUN_CHAOS_EXPERIMENT,
    GET_EXPERIMENT_RUN,
    GET_EXPERIMENT_RUN_EXECUTION_DATA,
    STOP_EXPERIMENT_RUNS,
    GET_EXPERIMENT,
    LIST_EXPERIMENT_RUN,
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
}

/// `{endpoint}/{path}`, keeping any path prefix of the endpoint.
fn under(endpoint: &Url, path: &'static str) -> Url {
    crate::urls::UrlBuilder::at(endpoint).route(path).build()
}

impl Litmus {
    pub fn new(http: Http, endpoint: &Url, auth: LitmusAuth, project_id: String) -> Litmus {
        Litmus {
            http,
            query_url: under(endpoint, "api/query"),
            login_url: under(endpoint, "auth/login"),
            origin: endpoint.origin().ascii_serialization(),
            auth,
            token: Mutex::new(None),
            project_id,
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
                    PlatformError::unusable(format!("login: cannot encode the request: {e}"))
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
        let check = match self.auth {
            LitmusAuth::Token(_) => "token",
            LitmusAuth::Login { .. } => "username and password",
        };
        let token = self.token().await?;
        let send = |token: Secret, variables: Value| async move {
            graphql::post(
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
        match send(token.clone(), variables.clone()).await {
            // Refused with 401/403: a request refused did nothing, so after a
            // new login it is sent once more, trigger or not.
            Err(e) if e.kind == ErrorKind::Auth => match self.relogin(&token).await? {
                Some(fresh) => send(fresh, variables).await.map_err(|e| hint(e, check)),
                None => Err(hint(e, check)),
            },
            other => other.map_err(|e| hint(e, check)),
        }
    }

    async fn get_run(
        &self,
        what: &str,
        document: &str,
        cap: usize,
        notify_id: &str,
    ) -> Result<Option<WireRun>, PlatformError> {
        let data: RunData = self
            .query(
                what,
                Mode::Read,
                cap,
                document,
                json!({ "projectID": self.project_id, "notifyID": notify_id }),
            )
            .await?;
        Ok(data.get_experiment_run)
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
    execution_data: Option<ExecutionData>,
    created_at: Option<Value>,
}

impl Platform for Litmus {
    fn name(&self) -> &'static str {
        "litmus"
    }

    async fn trigger(&self, experiment_id: &str) -> Result<String, PlatformError> {
        let what = format!("runChaosExperiment for {experiment_id}");
        let data: TriggerData = self
            .query(
                &what,
                Mode::Trigger,
                SMALL_BODY,
                RUN_CHAOS_EXPERIMENT,
                json!({ "experimentID": experiment_id, "projectID": self.project_id }),
            )
            .await?;
        data.notify_id(&what, "ChaosCenter")
    }

    async fn find_run(
        &self,
        experiment_id: &str,
        since: SystemTime,
    ) -> Result<Option<FoundRun>, PlatformError> {
        let what = format!("listExperimentRun (looking for a run of {experiment_id})");
        let data: RunsData = self
            .query(
                &what,
                Mode::Read,
                SMALL_BODY,
                LIST_EXPERIMENT_RUN,
                json!({ "projectID": self.project_id, "request": { "experimentIDs": [experiment_id] } }),
            )
            .await?;
        let list = graphql::field(&what, data.list_experiment_run, "listExperimentRun")?;
        let runs = list.experiment_runs.unwrap_or_default();
        let candidates = runs.into_iter().flatten().map(|r| Candidate {
            experiment_id: r.experiment_id,
            notify_id: r.notify_id,
            run_id: r.experiment_run_id,
            created_at: r.created_at,
        });
        Ok(newest_since(candidates, experiment_id, since))
    }

    async fn poll(&self, runs: &[RunRef]) -> Result<Vec<RunStatus>, PlatformError> {
        let answers = futures_util::future::join_all(runs.iter().map(|r| async move {
            let what = format!("getExperimentRun for {}", r.notify_id);
            // A null run (no error) is one not listed yet: still going (§4).
            let Some(run) = self
                .get_run(&what, GET_EXPERIMENT_RUN, SMALL_BODY, &r.notify_id)
                .await?
            else {
                return Ok(None);
            };
            let score = checked_score(&what, &r.notify_id, run.resiliency_score)?;
            Ok(Some(RunStatus {
                notify_id: r.notify_id.clone(),
                experiment_id: run.experiment_id,
                run_id: run.experiment_run_id,
                phase: run.phase.unwrap_or_default(),
                score,
                error: None,
            }))
        }))
        .await;
        let listed: Result<Vec<Option<RunStatus>>, PlatformError> = answers.into_iter().collect();
        Ok(listed?.into_iter().flatten().collect())
    }

    async fn faults(&self, run: &RunRef) -> Result<Vec<Fault>, PlatformError> {
        let what = format!("getExperimentRun (execution data of {})", run.notify_id);
        let wire = self
            .get_run(
                &what,
                GET_EXPERIMENT_RUN_EXECUTION_DATA,
                EXECUTION_DATA_BODY,
                &run.notify_id,
            )
            .await?;
        match wire.and_then(|w| w.execution_data) {
            Some(ExecutionData(parsed)) => {
                parsed.map_err(|e| PlatformError::unusable(format!("{what}: {e}")))
            }
            None => Ok(Vec::new()),
        }
    }

    async fn stop(&self, run: &RunRef) -> Result<(), PlatformError> {
        let what = format!("stopExperimentRuns for {}", run.experiment_id);
        let data: StopData = self
            .query(
                &what,
                Mode::Write,
                SMALL_BODY,
                STOP_EXPERIMENT_RUNS,
                json!({ "projectID": self.project_id, "experimentID": run.experiment_id, "notifyID": run.notify_id }),
            )
            .await?;
        match data.stop_experiment_runs {
            Some(false) => Err(PlatformError::unusable(format!(
                "{what}: ChaosCenter answered false"
            ))),
            _ => Ok(()),
        }
    }

    async fn check_experiment(&self, experiment_id: &str) -> Result<ExperimentInfo, PlatformError> {
        let what = format!("getExperiment for {experiment_id}");
        let not_found = || {
            PlatformError::unusable(format!(
                "experiment {experiment_id} was not found in project {}; check experiment_id and project_id",
                self.project_id
            ))
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
                // ChaosCenter reports a missing experiment as a GraphQL error.
                if e.kind == ErrorKind::Unusable
                    && e.message.contains("platform answered with an error")
                {
                    PlatformError::unusable(format!("{} ({})", not_found().message, e.message))
                } else {
                    e
                }
            })?;
        let details = graphql::field(&what, data.get_experiment, "getExperiment")?
            .experiment_details
            .ok_or_else(not_found)?;
        Ok(ExperimentInfo {
            experiment_id: experiment_id.to_string(),
            name: details.name,
            removed: details.is_removed.unwrap_or(false),
            infra_active: details.infra.and_then(|i| i.is_active),
        })
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
            let data: TriggerData = graphql::data(what, body)?;
            data.notify_id(what, "ChaosCenter").map(|_| 1)
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
                    .map_err(|e| PlatformError::unusable(format!("{what}: {e}"))),
                None => Ok(0),
            }
        }
        "listExperimentRun" => {
            let data: RunsData = graphql::data(what, body)?;
            let list = graphql::field(what, data.list_experiment_run, "listExperimentRun")?;
            let candidates = list
                .experiment_runs
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .map(|r| Candidate {
                    experiment_id: r.experiment_id,
                    notify_id: r.notify_id,
                    run_id: r.experiment_run_id,
                    created_at: r.created_at,
                });
            Ok(usize::from(
                newest_since(candidates, "exp", SystemTime::UNIX_EPOCH).is_some(),
            ))
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
