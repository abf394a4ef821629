//! The LitmusChaos ChaosCenter 3.x dialect: `POST /auth/login`, the
//! `Origin` and bearer-token checks of `POST /api/query`, and the resolvers
//! of `runChaosExperiment`, `getExperimentRun`, `stopExperimentRuns` and
//! `getExperiment`, plus `listExperimentRun`, which a client uses to find
//! the run a trigger with a lost answer may have started.
//!
//! Everything Litmus-specific lives here; the HTTP plumbing, injection,
//! recording, GraphQL validation and projection, runs and execution data
//! are shared with the Harness dialect (`server`, `graphql`, `state`,
//! `execution`). The schema is the real ChaosCenter one, so a document a
//! client sends is checked exactly as far as the platform would check it.
//!
//! Everything here follows what ChaosCenter's server code does (see
//! docs/platform-fidelity.md for the files and commits it was read from),
//! including what a client must cope with:
//! - a run exists as soon as the trigger returns, `Queued`, with an empty
//!   `experimentRunID`, a `resiliencyScore` of 0 (not null) and null fault
//!   counters; the run ID appears when the run leaves `Queued`, and the
//!   score means something only at a terminal phase;
//! - `listExperimentRun` never fills `notifyID`;
//! - a bad or expired token is HTTP 200 with a `permission_denied: ...`
//!   GraphQL error; only a revoked token is HTTP 401;
//! - `stopExperimentRuns` differs by `server_version`: before 3.31 it
//!   ignores `notifyID` and, without a run ID, stops every running run of
//!   the experiment, other people's included; from 3.31 a stop by
//!   `notifyID` alone only marks the run `Stopped` in the database;
//! - the run phase is declared as an enum, yet the server returns values
//!   outside it, so phases are passed through verbatim.

use std::sync::OnceLock;

use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use serde_json::{Map, Value, json};

use crate::execution;
use crate::graphql::{self, GqlRequest, RootField};
use crate::scenario::{Experiment, LitmusConfig, Scenario};
use crate::server::{Action as ServerAction, Call, HttpRequest, Reply};
use crate::state::{Run, RunView, State, TokenState, is_terminal_phase};

/// The ChaosCenter schema, one entry per file as the project ships it
/// (see `schema/litmus/README.md`).
pub(crate) const SCHEMA_FILES: &[(&str, &str)] = &[
    (
        "chaos_experiment.graphqls",
        include_str!("../schema/litmus/chaos_experiment.graphqls"),
    ),
    (
        "chaos_experiment_run.graphqls",
        include_str!("../schema/litmus/chaos_experiment_run.graphqls"),
    ),
    (
        "chaos_infrastructure.graphqls",
        include_str!("../schema/litmus/chaos_infrastructure.graphqls"),
    ),
    (
        "chaoshub.graphqls",
        include_str!("../schema/litmus/chaoshub.graphqls"),
    ),
    (
        "common.graphqls",
        include_str!("../schema/litmus/common.graphqls"),
    ),
    (
        "environment.graphqls",
        include_str!("../schema/litmus/environment.graphqls"),
    ),
    (
        "gitops.graphqls",
        include_str!("../schema/litmus/gitops.graphqls"),
    ),
    (
        "image_registry.graphqls",
        include_str!("../schema/litmus/image_registry.graphqls"),
    ),
    (
        "probe.graphqls",
        include_str!("../schema/litmus/probe.graphqls"),
    ),
    (
        "project.graphqls",
        include_str!("../schema/litmus/project.graphqls"),
    ),
];

const LOGIN_PATH: &str = "/auth/login";
const QUERY_PATH: &str = "/api/query";

/// Lifetime the login answer announces, in seconds: ChaosCenter's default
/// `JWT_EXPIRY_MINS` of 1440 times 60. The simulator expires tokens by
/// request count instead (`token_valid_requests`).
const TOKEN_LIFETIME_SECS: u64 = 86_400;

/// The root fields this dialect resolves; any other field of the schema
/// validates but answers a GraphQL error.
const RESOLVED: &[&str] = &[
    "runChaosExperiment",
    "getExperimentRun",
    "stopExperimentRuns",
    "getExperiment",
    "listExperimentRun",
    "getServerVersion",
    "getInfra",
    "listExperiment",
    "saveChaosExperiment",
];

/// The JSON keys `POST /auth/login` decodes: those of the auth server's
/// `entities.User` (with its inline `Audit`). Any other key is refused, as
/// the auth server decodes with unknown fields disallowed. Go matches keys
/// without regard to case, and so does this list.
const LOGIN_FIELDS: &[&str] = &[
    "userID",
    "username",
    "password",
    "salt",
    "email",
    "name",
    "role",
    "deactivatedAt",
    "isInitialLogin",
    "updatedAt",
    "createdAt",
    "createdBy",
    "updatedBy",
    "isRemoved",
];

/// The auth server's description of `invalid_request`.
const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed";

/// The `/query` middleware's answer to a revoked token (plain text).
const REVOKED: &str = "Error verifying JWT token: Token is revoked";

fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| graphql::parse_schema_files(SCHEMA_FILES))
}

/// Parses the embedded schema now rather than on the first request.
pub(crate) fn check_schema() {
    schema();
}

/// The `projectID` a run started by someone else carries.
pub(crate) fn default_identifiers(scenario: &Scenario) -> Value {
    let project = scenario
        .litmus
        .as_ref()
        .map(|c| c.project_id.clone())
        .unwrap_or_default();
    json!({ "projectID": project })
}

/// A Litmus request, decoded far enough to be recorded and injected.
#[allow(
    clippy::large_enum_variant,
    reason = "always boxed inside server::Action, and built once per request"
)]
pub(crate) enum Action {
    Login,
    Graphql(Result<GqlRequest, Reply>),
}

/// Recognises the Litmus routes; `None` for any other path.
pub(crate) fn classify(_state: &State, req: &HttpRequest) -> Option<Call> {
    if req.method != "POST" {
        return None;
    }
    match req.path.as_str() {
        LOGIN_PATH => Some(Call {
            operation: Some("login".into()),
            notify_ids: Vec::new(),
            action: ServerAction::Litmus(Box::new(Action::Login)),
        }),
        QUERY_PATH => Some(
            match graphql::parse_request(schema(), req.header("content-type"), &req.body) {
                Ok(gql) => {
                    // Both the poll and the stop may name their run by notify ID.
                    let notify_ids = gql
                        .root_fields()
                        .iter()
                        .filter_map(|f| id_arg(&f.args, "notifyID"))
                        .collect();
                    Call {
                        operation: gql.operation_name(),
                        notify_ids,
                        action: ServerAction::Litmus(Box::new(Action::Graphql(Ok(gql)))),
                    }
                }
                Err(rejection) => Call {
                    operation: rejection.operation,
                    notify_ids: Vec::new(),
                    action: ServerAction::Litmus(Box::new(Action::Graphql(Err(rejection.reply)))),
                },
            },
        ),
        _ => None,
    }
}

/// Carries out a Litmus call in the order ChaosCenter's servers check a
/// request: the origin (a middleware in front of every route of both the
/// auth and the GraphQL server), then on `/api/query` a revoked token (the
/// only HTTP 401), then the document (gqlgen), and only then, inside each
/// resolver, the token and the project (`permission_denied: ...`, HTTP
/// 200).
pub(crate) fn execute(state: &State, req: &HttpRequest, action: &Action) -> Reply {
    // The server only routes here in a Litmus scenario, which the scenario
    // check guarantees has a `[litmus]` table.
    let Some(config) = state.scenario.litmus.as_ref() else {
        return Reply::not_found();
    };
    if let Some(refusal) = check_origin(state, config, req) {
        return refusal;
    }
    match action {
        Action::Login => login(state, config, req),
        Action::Graphql(parsed) => {
            let token = bearer_token(req);
            if config.revoked_tokens.contains(&token) {
                return Reply {
                    status: 401,
                    content_type: "text/plain; charset=utf-8".into(),
                    headers: Vec::new(),
                    body: REVOKED.into(),
                };
            }
            let auth = check_token(state, config, &token);
            match parsed {
                Err(reply) => reply.clone(),
                Ok(gql) => gql.execute(|root| resolve(state, config, &auth, root)),
            }
        }
    }
}

/// The auth server's error shape: a machine-readable `error` and a
/// human-readable `errorDescription`.
fn auth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": error, "errorDescription": description }),
    )
}

/// `POST /auth/login`: `{"username", "password"}` in, a bearer token out.
/// The body is read as JSON whatever its content type, as the auth server
/// does; unknown keys, a non-object, or a username or password that is
/// missing, empty or not a string are `invalid_request` (400); a wrong
/// username or password is `invalid_credentials` (401).
fn login(state: &State, config: &LitmusConfig, req: &HttpRequest) -> Reply {
    let invalid = || auth_error(400, "invalid_request", INVALID_REQUEST);
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid();
    };
    let known = |key: &str| LOGIN_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(key));
    if !body.keys().all(|k| known(k)) {
        return invalid();
    }
    let field = |name: &str| -> Result<String, ()> {
        let value = body
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        match value {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(()),
        }
    };
    let (Ok(username), Ok(password)) = (field("username"), field("password")) else {
        return invalid();
    };
    let username = username.trim();
    if username.is_empty() || password.is_empty() {
        return invalid();
    }
    let matches = config.username.as_deref() == Some(username)
        && config.password.as_deref() == Some(password.as_str());
    if !matches {
        return auth_error(401, "invalid_credentials", "Invalid Credentials");
    }
    Reply::json(
        200,
        &json!({
            "accessToken": state.issue_token(),
            "projectID": config.project_id,
            "projectRole": "Owner",
            "expiresIn": TOKEN_LIFETIME_SECS,
            "type": "Bearer",
        }),
    )
}

/// The origin both servers accept: the scenario's, or the simulator's own
/// URL.
fn allowed_origin<'a>(state: &'a State, config: &'a LitmusConfig) -> &'a str {
    config.allowed_origin.as_deref().unwrap_or(&state.url)
}

/// ChaosCenter's origin check: 403 `{"error": "Invalid origin"}` unless the
/// `Origin` header is the allowed origin. (The real servers fall back on
/// `Host` when `Origin` is absent and match their allow-list as regular
/// expressions; the simulator demands the header, exactly, so a client that
/// forgets it is caught here rather than by the first strict deployment.)
fn check_origin(state: &State, config: &LitmusConfig, req: &HttpRequest) -> Option<Reply> {
    if req.header("origin") == Some(allowed_origin(state, config)) {
        return None;
    }
    Some(Reply::json(403, &json!({ "error": "Invalid origin" })))
}

/// The token of the `Authorization` header: after `Bearer ` (exactly that
/// prefix) or the whole value (litmusctl sends it bare); empty without the
/// header.
fn bearer_token(req: &HttpRequest) -> String {
    let header = req.header("authorization").unwrap_or("");
    header.strip_prefix("Bearer ").unwrap_or(header).to_string()
}

/// The message a resolver answers when the auth server refuses the token or
/// the project: ChaosCenter wraps the gRPC error it got.
fn permission_denied(reason: &str) -> String {
    format!("permission_denied: rpc error: code = Unknown desc = {reason}")
}

/// Counts one request with `token` and says why resolvers will refuse it,
/// if they will: with the messages the JWT library gives for an expired
/// token, one that is not a JWT at all, and one signed with another key.
fn check_token(state: &State, config: &LitmusConfig, token: &str) -> Result<(), String> {
    match state.use_token(token, config.token.as_deref(), config.token_valid_requests) {
        TokenState::Valid => Ok(()),
        TokenState::Expired => Err(permission_denied("Token is expired")),
        TokenState::Unknown if token.split('.').count() == 3 => {
            Err(permission_denied("signature is invalid"))
        }
        TokenState::Unknown => Err(permission_denied(
            "token contains an invalid number of segments",
        )),
    }
}

/// An `ID` or `String` argument as a string: IDs may arrive as JSON
/// numbers. `None` when absent, null or empty.
fn id_arg(args: &Map<String, Value>, name: &str) -> Option<String> {
    string_arg(args, name).filter(|s| !s.is_empty())
}

/// Like [`id_arg`], but an empty string is `Some("")`: the resolvers of
/// some versions tell null from empty.
fn string_arg(args: &Map<String, Value>, name: &str) -> Option<String> {
    match args.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn resolve(
    state: &State,
    config: &LitmusConfig,
    auth: &Result<(), String>,
    root: &RootField,
) -> Result<Value, String> {
    if root.name == "getServerVersion" {
        // The one resolver without a role check: it needs no token.
        return Ok(json!({ "key": "version", "value": config.server_version }));
    }
    if !RESOLVED.contains(&root.name.as_str()) {
        return Err(format!("{} is not implemented by chaos-sim", root.name));
    }
    auth.clone()?;
    let project = id_arg(&root.args, "projectID").unwrap_or_default();
    if project != config.project_id {
        // The user is not a member of that project.
        return Err(permission_denied("auth gRPC - Unauthorized"));
    }
    match root.name.as_str() {
        "runChaosExperiment" => run_experiment(state, config, root),
        "getExperimentRun" => get_experiment_run(state, config, root),
        "stopExperimentRuns" => stop_runs(state, config, root),
        "listExperimentRun" => Ok(list_experiment_runs(state, config, root)),
        "getInfra" => get_infra(state, config, root),
        "listExperiment" => Ok(list_experiments(state, config, root)),
        "saveChaosExperiment" => save_experiment(state, root),
        _ => get_experiment(state, config, root),
    }
}

/// `runChaosExperiment`: an unknown or removed experiment is the database
/// lookup's error; an inactive infrastructure refuses before anything is
/// created; a scheduled experiment answers an empty notify ID.
fn run_experiment(state: &State, config: &LitmusConfig, root: &RootField) -> Result<Value, String> {
    let id = id_arg(&root.args, "experimentID").unwrap_or_default();
    let exp = state
        .experiment(&id)
        .filter(|e| !e.removed)
        .ok_or("could not get experiment run, error: mongo: no documents in result")?;
    if !exp.infra_active {
        return Err("experiment re-run failed due to inactive infra".into());
    }
    if exp.cron {
        // A scheduled experiment is started by its schedule; ChaosCenter
        // answers an empty notify ID and starts nothing.
        return Ok(json!({ "notifyID": "" }));
    }
    let notify_id = state.start_run(&exp, json!({ "projectID": config.project_id }));
    Ok(json!({ "notifyID": notify_id }))
}

/// The run ID the database holds: empty until the cluster's first event,
/// which is when the run leaves `Queued`.
fn visible_run_id<'a>(run: &'a Run, view: &RunView) -> &'a str {
    if view.left_queued { &run.run_id } else { "" }
}

/// Whether the database marks the run completed (the cluster's final
/// event, or a stop from 3.29 on).
fn completed(view: &RunView) -> bool {
    view.stopped || (view.finished && is_terminal_phase(&view.phase))
}

/// `getExperimentRun`: each of `experimentRunID` and `notifyID` that is
/// given and not empty narrows the match (both must match when both are
/// given); the matching run counts one poll and is returned. Both null is
/// an error; both empty matches every run, and the resolver answers the
/// last one the database returns (the newest). A run that matches nothing
/// (or is still in its `unlisted_polls`) is "no matching experiment run".
/// Note that a run has no `experimentRunID` while `Queued`.
fn get_experiment_run(
    state: &State,
    config: &LitmusConfig,
    root: &RootField,
) -> Result<Value, String> {
    let notify_arg = string_arg(&root.args, "notifyID");
    let run_arg = string_arg(&root.args, "experimentRunID");
    if notify_arg.is_none() && run_arg.is_none() {
        return Err("experimentRunID or notifyID not provided".into());
    }
    let notify_id = notify_arg.filter(|s| !s.is_empty());
    let run_id = run_arg.filter(|s| !s.is_empty());
    // Count the poll under the lock; build the (possibly huge) object after.
    let found = state.with_runs(|runs| {
        let index = runs.iter().rposition(|r| {
            let Some(exp) = state.experiment(&r.experiment_id) else {
                return false;
            };
            notify_id.as_ref().is_none_or(|n| *n == r.notify_id)
                && run_id
                    .as_ref()
                    .is_none_or(|id| *id == visible_run_id(r, &r.view(&exp)))
        })?;
        let run = runs.get_mut(index)?;
        let exp = state.experiment(&run.experiment_id)?;
        run.poll(&exp).then(|| (run.clone(), run.view(&exp)))
    });
    let (run, view) = found.ok_or("no matching experiment run")?;
    let exp = state
        .experiment(&run.experiment_id)
        .ok_or("no matching experiment run")?;
    Ok(experiment_run(
        state, config, &exp, &run, &view, root, false,
    ))
}

/// A list argument of IDs, `None` when absent, null or empty (no filter).
fn id_list(value: Option<&Value>) -> Option<Vec<String>> {
    let items: Vec<String> = value?
        .as_array()?
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    (!items.is_empty()).then_some(items)
}

/// `listExperimentRun`: the runs matching `experimentIDs` and
/// `experimentRunIDs` (all when neither is given), newest first unless
/// `sort` says otherwise, cut to `pagination` (pages count from 0; 15 runs
/// at most without it, as ChaosCenter limits). `totalNoOfExperimentRuns`
/// counts before pagination. Every run it matches counts one poll, so a
/// client that follows a run by listing sees it move along. A run still in
/// its `unlisted_lists` (or `unlisted_polls`) is left out. `notifyID` and
/// `createdBy` are always null here, as in ChaosCenter's list resolver.
/// The `filter` input is accepted and ignored.
fn list_experiment_runs(state: &State, config: &LitmusConfig, root: &RootField) -> Value {
    let request = root.args.get("request");
    let experiment_ids = id_list(request.and_then(|r| r.get("experimentIDs")));
    let run_ids = id_list(request.and_then(|r| r.get("experimentRunIDs")));
    let matches = |want: &Option<Vec<String>>, have: &str| {
        want.as_ref().is_none_or(|w| w.iter().any(|x| x == have))
    };
    let mut listed: Vec<(Run, RunView)> = state.with_runs(|runs| {
        runs.iter_mut()
            .filter_map(|r| {
                let exp = state.experiment(&r.experiment_id)?;
                let before = r.view(&exp);
                if !(matches(&experiment_ids, &r.experiment_id)
                    && matches(&run_ids, visible_run_id(r, &before)))
                {
                    return None;
                }
                let answers = r.list_answers;
                r.list_answers = answers.saturating_add(1);
                if answers < exp.unlisted_lists {
                    return None;
                }
                r.poll(&exp).then(|| (r.clone(), r.view(&exp)))
            })
            .collect()
    });
    let sort = request.and_then(|r| r.get("sort"));
    let ascending = sort
        .and_then(|s| s.get("ascending"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if sort.and_then(|s| s.get("field")).and_then(Value::as_str) == Some("NAME") {
        let name = |run: &Run| {
            state
                .experiment(&run.experiment_id)
                .map(|e| e.display_name().to_string())
                .unwrap_or_default()
        };
        listed.sort_by_cached_key(|(run, _)| name(run));
    }
    // Runs are stored oldest first; sort_by_cached_key is stable, so within
    // one name they stay oldest first too.
    if !ascending {
        listed.reverse();
    }
    let total = listed.len();
    let pagination = request.and_then(|r| r.get("pagination"));
    let page_value = |key: &str| {
        pagination
            .and_then(|p| p.get(key))
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
    };
    let (skip, take) = match (page_value("page"), page_value("limit")) {
        (Some(page), Some(limit)) => (page.saturating_mul(limit), limit),
        _ => (0, 15),
    };
    let runs: Vec<Value> = listed
        .iter()
        .skip(skip)
        .take(take)
        .filter_map(|(run, view)| {
            let exp = state.experiment(&run.experiment_id)?;
            Some(experiment_run(state, config, &exp, run, view, root, true))
        })
        .collect();
    json!({ "totalNoOfExperimentRuns": total, "experimentRuns": runs })
}

/// `stopExperimentRuns`, as the server version in the scenario does it
/// (ChaosCenter's `StopExperimentRuns` and `ProcessExperimentRunStop`).
/// An unknown or removed experiment is the database lookup's error.
fn stop_runs(state: &State, config: &LitmusConfig, root: &RootField) -> Result<Value, String> {
    let experiment_id = id_arg(&root.args, "experimentID").unwrap_or_default();
    let exp = state
        .experiment(&experiment_id)
        .filter(|e| !e.removed)
        .ok_or("mongo: no documents in result")?;
    let run_arg = string_arg(&root.args, "experimentRunID");
    if config.at_least(3, 31) {
        let run_id = run_arg.filter(|s| !s.is_empty());
        let notify_id = id_arg(&root.args, "notifyID");
        match (run_id, notify_id) {
            (Some(run_id), _) => stop_by_run_id(state, config, &exp, &run_id),
            (None, Some(notify_id)) => {
                // Only the database: no stop is sent to the cluster.
                state.with_runs(|runs| {
                    for run in runs
                        .iter_mut()
                        .filter(|r| r.experiment_id == exp.id && r.notify_id == notify_id)
                    {
                        run.mark_stopped(&exp);
                    }
                });
            }
            (None, None) => stop_all(
                state,
                config,
                &exp,
                &["Running", "Timeout", "Queued"],
                "no running, timeout, or queued experiments found",
            )?,
        }
    } else {
        // `notifyID` is dropped by the resolver.
        match run_arg.as_deref() {
            None => stop_all(
                state,
                config,
                &exp,
                &["Running", "Timeout"],
                "no running or timeout experiments found",
            )?,
            // An empty run ID names no run and stops nothing.
            Some("") => {}
            Some(run_id) => stop_by_run_id(state, config, &exp, run_id),
        }
    }
    Ok(Value::Bool(true))
}

/// A stop that reaches the cluster. From 3.29 on the server also marks the
/// run `Stopped` at once (even one that had completed); before, the phase
/// follows when the cluster reports, on the next poll.
fn real_stop(config: &LitmusConfig, exp: &Experiment, run: &mut Run) {
    if config.at_least(3, 29) {
        run.stop(exp);
    } else {
        run.stop_on_cluster();
        if !run.stopped {
            run.stop_pending = true;
        }
    }
}

/// Stops the run of `exp` whose run ID (as the database holds it) is
/// `run_id`; naming no run stops nothing and is no error.
fn stop_by_run_id(state: &State, config: &LitmusConfig, exp: &Experiment, run_id: &str) {
    state.with_runs(|runs| {
        for run in runs.iter_mut().filter(|r| r.experiment_id == exp.id) {
            if visible_run_id(run, &run.view(exp)) == run_id {
                real_stop(config, exp, run);
            }
        }
    });
}

/// Stops every run of `exp` (everybody's) whose phase is one of `phases`
/// and that is not completed; none is `none_error` unless the experiment
/// is scheduled. A run without a run ID yet is stopped by notify ID: only
/// in the database.
fn stop_all(
    state: &State,
    config: &LitmusConfig,
    exp: &Experiment,
    phases: &[&str],
    none_error: &str,
) -> Result<(), String> {
    let count = state.with_runs(|runs| {
        let mut count = 0;
        for run in runs.iter_mut().filter(|r| r.experiment_id == exp.id) {
            let view = run.view(exp);
            if completed(&view) || !phases.contains(&view.phase.as_str()) {
                continue;
            }
            count += 1;
            if visible_run_id(run, &view).is_empty() {
                run.mark_stopped(exp);
            } else {
                real_stop(config, exp, run);
            }
        }
        count
    });
    if count == 0 && !exp.cron {
        return Err(none_error.to_string());
    }
    Ok(())
}

/// `getExperiment`: the stored experiment with its recent runs and the
/// average score of the finished ones; a removed or unknown one is "no
/// matching experiments" (ChaosCenter filters removed experiments out).
/// Reading it counts no poll.
fn get_experiment(state: &State, config: &LitmusConfig, root: &RootField) -> Result<Value, String> {
    let id = id_arg(&root.args, "experimentID").unwrap_or_default();
    let exp = state
        .experiment(&id)
        .filter(|e| !e.removed)
        .ok_or("no matching experiments")?;
    let runs: Vec<(Run, RunView)> = state.with_runs(|runs| {
        runs.iter()
            .filter(|r| r.experiment_id == exp.id)
            .map(|r| (r.clone(), r.view(&exp)))
            .collect()
    });
    let final_score = |run: &Run, view: &RunView| {
        if view.finished {
            run.final_score(&exp)
        } else {
            None
        }
    };
    let scores: Vec<f64> = runs
        .iter()
        .filter_map(|(run, view)| final_score(run, view))
        .collect();
    let average = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    let recent: Vec<Value> = runs
        .iter()
        .rev()
        .take(10)
        .map(|(run, view)| {
            json!({
                "experimentRunID": visible_run_id(run, view),
                "phase": view.phase,
                "resiliencyScore": metrics(&exp, run, view).0,
                "updatedAt": run.updated_ms.to_string(),
                "createdAt": run.created_ms.to_string(),
                "createdBy": user(config),
                "updatedBy": user(config),
                "runSequence": run.sequence,
            })
        })
        .collect();
    let stored = state.started_ms.saturating_sub(86_400_000).to_string();
    let details = json!({
        "projectID": config.project_id,
        "experimentID": exp.id,
        "experimentType": if exp.cron { "CronExperiment" } else { "Experiment" },
        "experimentManifest": if root.wants("experimentManifest") { execution::manifest(&exp) } else { String::new() },
        "cronSyntax": if exp.cron { "*/30 * * * *" } else { "" },
        "name": exp.display_name(),
        "description": exp.description,
        "weightages": weightages(&exp),
        "isCustomExperiment": true,
        "updatedAt": stored,
        "createdAt": stored,
        "infra": infra(state, config, &exp),
        "isRemoved": false,
        "tags": ["chaos-sim"],
        "createdBy": user(config),
        "recentExperimentRunDetails": recent,
        "updatedBy": user(config),
    });
    Ok(json!({ "experimentDetails": details, "averageResiliencyScore": average }))
}

/// `getInfra`: the scenario's `[[infras]]`, each look-up counting toward
/// `active_after_polls`; an unknown one is "no matching infra" (L31
/// `pkg/chaos_infrastructure/service.go` `GetInfra`).
fn get_infra(state: &State, config: &LitmusConfig, root: &RootField) -> Result<Value, String> {
    let id = string_arg(&root.args, "infraID").unwrap_or_default();
    let found = state.infra_lookup(&id).ok_or("no matching infra")?;
    let mut infra = infra_object(state, config, found.active);
    infra["infraID"] = json!(found.id);
    infra["name"] = json!(found.name);
    Ok(infra)
}

/// `listExperiment`: not removed, newest update first; `filter.experimentName`
/// is a regular expression on the server. The sim understands an anchored
/// literal (`^name$`, with `\` escapes) exactly and anything else as a
/// substring.
fn list_experiments(state: &State, config: &LitmusConfig, root: &RootField) -> Value {
    let request = root.args.get("request");
    let pattern = request
        .and_then(|r| r.get("filter"))
        .and_then(|f| f.get("experimentName"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let matches = |name: &str| match pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$')) {
        Some(literal) => {
            let mut unescaped = String::new();
            let mut chars = literal.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        unescaped.push(n);
                    }
                } else {
                    unescaped.push(c);
                }
            }
            unescaped == name
        }
        None => pattern.is_empty() || name.contains(pattern),
    };
    let stored = state.started_ms.saturating_sub(86_400_000).to_string();
    let experiments: Vec<Value> = state
        .experiments()
        .iter()
        .rev()
        .filter(|e| !e.removed && matches(e.display_name()))
        .map(|exp| {
            json!({
                "projectID": config.project_id,
                "experimentID": exp.id,
                "experimentType": if exp.cron { "CronExperiment" } else { "Experiment" },
                "experimentManifest": if root.wants("experimentManifest") { execution::manifest(exp) } else { String::new() },
                "cronSyntax": if exp.cron { "*/30 * * * *" } else { "" },
                "name": exp.display_name(),
                "description": exp.description,
                "weightages": weightages(exp),
                "isCustomExperiment": true,
                "updatedAt": stored,
                "createdAt": stored,
                "infra": infra(state, config, exp),
                "isRemoved": false,
                "tags": if exp.tags.is_empty() { json!(["chaos-sim"]) } else { json!(exp.tags) },
                "createdBy": user(config),
                "updatedBy": user(config),
                "recentExperimentRunDetails": [],
            })
        })
        .collect();
    json!({ "totalNoOfExperiments": experiments.len(), "experiments": experiments })
}

/// `saveChaosExperiment`: an upsert on `request.id` (L31
/// `pkg/chaos_experiment/handler/handler.go` `SaveChaosExperiment`), with
/// the manifest checks of `ops/service.go` `ProcessExperiment`. The answer
/// is a message; the create message carries an empty ID, as the real one.
fn save_experiment(state: &State, root: &RootField) -> Result<Value, String> {
    let request = root.args.get("request").cloned().unwrap_or(Value::Null);
    let text = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let tags = crate::stored::tags(&request);
    let (id, name, description, manifest, infra_id) = (
        text("id"),
        text("name"),
        text("description"),
        text("manifest"),
        text("infraID"),
    );
    let input = crate::stored::SaveInput {
        id: Some(id.as_str()),
        name: &name,
        description: &description,
        manifest: &manifest,
        infra_id: &infra_id,
        tags,
    };
    let saved = crate::stored::save(state, crate::stored::Dialect::Litmus, &input)?;
    Ok(if saved.created {
        json!("experiment saved successfully with ID ")
    } else {
        json!(format!(
            "experiment updated successfully with ID {}",
            saved.id
        ))
    })
}

fn user(config: &LitmusConfig) -> Value {
    let name = config.username.as_deref().unwrap_or("admin");
    json!({ "userID": "chaos-sim-user", "username": name, "email": format!("{name}@example.invalid") })
}

fn weightages(exp: &Experiment) -> Value {
    exp.faults
        .iter()
        .map(|f| json!({ "faultName": f.name, "weightage": 10 }))
        .collect()
}

/// The chaos infrastructure, with every non-null field of `Infra` filled.
fn infra(state: &State, config: &LitmusConfig, exp: &Experiment) -> Value {
    infra_object(state, config, exp.infra_active)
}

fn infra_object(state: &State, config: &LitmusConfig, active: bool) -> Value {
    let connected = state.started_ms.saturating_sub(2 * 86_400_000).to_string();
    let (count, last) =
        state.with_runs(|runs| (runs.len(), runs.iter().map(|r| r.created_ms).max()));
    json!({
        "projectID": config.project_id,
        "infraID": "chaos-sim-infra",
        "name": "chaos-sim-infra",
        "description": "simulated chaos infrastructure",
        "tags": ["chaos-sim"],
        "environmentID": "chaos-sim-env",
        "platformName": "Others",
        "isActive": active,
        "isInfraConfirmed": true,
        "isRemoved": false,
        "updatedAt": connected,
        "createdAt": connected,
        "noOfExperiments": state.experiments().len(),
        "noOfExperimentRuns": count,
        "token": "chaos-sim-infra-token",
        "infraNamespace": execution::NAMESPACE,
        "serviceAccount": "litmus",
        "infraScope": "namespace",
        "infraNsExists": true,
        "infraSaExists": true,
        "lastExperimentTimestamp": last.map(|t| t.to_string()),
        "startTime": connected,
        "version": config.server_version,
        "createdBy": user(config),
        "updatedBy": user(config),
        "infraType": "Kubernetes",
        "updateStatus": "NOT_REQUIRED",
    })
}

/// The score and the fault counters (passed, failed, awaited, stopped, N/A,
/// total) the database holds for a run: written as they are by the trigger
/// (score 0, counters null) until the cluster's first event, 0 from then
/// on, and computed only by the completed event. A run stopped in the
/// database keeps what it had; one the cluster reported stopped (before
/// 3.29) counts its faults as stopped.
fn metrics(exp: &Experiment, run: &Run, view: &RunView) -> (Value, [Value; 6]) {
    let total = exp.faults.len();
    // A script that ends in a phase that is not terminal never completes.
    if view.finished && (view.stopped || is_terminal_phase(&view.phase)) {
        let [p, f, a, s, n] = execution::fault_counts(exp, view);
        return (
            json!(run.final_score(exp)),
            [p, f, a, s, n, total].map(|c| json!(c)),
        );
    }
    if view.stopped && run.stopped_by_cluster {
        return (json!(0.0), [0, 0, 0, total, 0, total].map(|c| json!(c)));
    }
    if !view.left_queued {
        return (json!(0.0), std::array::from_fn(|_| Value::Null));
    }
    (json!(0.0), std::array::from_fn(|_| json!(0)))
}

/// The `executionData` the trigger writes, until the cluster's first event.
fn queued_execution_data(exp: &Experiment, run: &Run) -> String {
    json!({
        "experimentType": "",
        "experimentID": exp.id,
        "eventType": "",
        "revisionID": "",
        "uid": "",
        "namespace": "",
        "name": format!("{}-{}", exp.id, run.created_ms),
        "creationTimestamp": "",
        "phase": "Queued",
        "message": "",
        "startedAt": "",
        "finishedAt": "",
        "nodes": null,
    })
    .to_string()
}

/// The whole `ExperimentRun` object; the GraphQL layer cuts it down to the
/// selection. The two large strings are only built when selected. `phase`
/// is the scenario's string verbatim, inside the schema's enum or not.
/// `listing`: as `listExperimentRun` answers it (no `notifyID`, no
/// `createdBy`).
fn experiment_run(
    state: &State,
    config: &LitmusConfig,
    exp: &Experiment,
    run: &Run,
    view: &RunView,
    root: &RootField,
    listing: bool,
) -> Value {
    let (score, [passed, failed, awaited, stopped, na, total]) = metrics(exp, run, view);
    let execution_data = if !root.wants("executionData") {
        String::new()
    } else if !view.left_queued && exp.execution_data.is_none() {
        queued_execution_data(exp, run)
    } else {
        execution::execution_data(exp, run, view)
    };
    json!({
        "projectID": config.project_id,
        "experimentRunID": visible_run_id(run, view),
        "experimentType": if exp.cron { "CronExperiment" } else { "Experiment" },
        "experimentID": exp.id,
        "weightages": weightages(exp),
        "updatedAt": run.updated_ms.to_string(),
        "createdAt": run.created_ms.to_string(),
        "infra": if root.wants("infra") { infra(state, config, exp) } else { Value::Null },
        "experimentName": exp.display_name(),
        "experimentManifest": if root.wants("experimentManifest") { execution::manifest(exp) } else { String::new() },
        "phase": view.phase,
        "resiliencyScore": score,
        "faultsPassed": passed,
        "faultsFailed": failed,
        "faultsAwaited": awaited,
        "faultsStopped": stopped,
        "faultsNa": na,
        "totalFaults": total,
        "executionData": execution_data,
        "isRemoved": false,
        "updatedBy": user(config),
        "createdBy": if listing { Value::Null } else { user(config) },
        "notifyID": if listing { Value::Null } else { Value::String(run.notify_id.clone()) },
        "runSequence": run.sequence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schema_is_valid() {
        check_schema();
    }

    /// What the reference asks for: the files, concatenated, are one valid
    /// schema as they are (no prelude and no patch needed).
    #[test]
    fn concatenated_files_validate() {
        let all: String = SCHEMA_FILES
            .iter()
            .map(|(_, sdl)| format!("{sdl}\n"))
            .collect();
        if let Err(e) = Schema::parse_and_validate(all, "litmus.graphqls") {
            panic!("{e}");
        }
    }

    #[test]
    fn every_schema_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/litmus");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("schema/litmus")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".graphqls"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<&str> = SCHEMA_FILES.iter().map(|(n, _)| *n).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn resolved_fields_exist_in_the_schema() {
        let s = schema();
        for name in RESOLVED {
            let found = ["Query", "Mutation"]
                .iter()
                .any(|ty| s.type_field(ty, name).is_ok());
            assert!(found, "{name}");
        }
    }
}
