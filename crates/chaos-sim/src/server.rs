//! The HTTP side shared by every dialect: accept connections, read the
//! request, record it, decide whether an `[[inject]]` entry applies, and
//! write (or withhold) the answer.
//!
//! The server runs on its own thread with its own tokio runtime. That keeps
//! it answering even when the test that started it blocks its own runtime,
//! for instance by waiting on a `std::process::Command` running the client
//! binary inside a single-threaded `#[tokio::test]`.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::scenario::{Inject, Platform, Scenario};
use crate::state::{RecordedRequest, RunSnapshot, State, now_ms, now_us};
use crate::{harness, litmus, wire};

/// Largest request body accepted; a client never needs more, and the cap
/// keeps a runaway test from exhausting memory.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// An answer, before it becomes a hyper response.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn json(status: u16, value: &impl Serialize) -> Reply {
        // Serializing a serde_json::Value or a derived struct cannot fail.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Reply {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn message(status: u16, message: &str) -> Reply {
        Reply::json(status, &serde_json::json!({ "message": message }))
    }

    pub fn not_found() -> Reply {
        Reply::message(404, "not found")
    }
}

/// A request as the dialects see it: fully read, headers lower-cased.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl HttpRequest {
    /// The first value of a header (names are matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find_map(|(k, v)| (percent_decode(k) == name).then(|| percent_decode(v)))
    }
}

/// Decodes `%XX` escapes and `+` (form encoding); malformed escapes are
/// kept literally rather than rejected, as lenient servers do.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a request is, decided before anything happens, so it can be
/// recorded and matched against `[[inject]]` entries.
pub(crate) struct Call {
    /// Operation name for recording and injection.
    pub operation: Option<String>,
    pub notify_ids: Vec<String>,
    pub action: Action,
}

/// The work a call would do; one variant per dialect.
pub(crate) enum Action {
    Harness(Box<harness::Action>),
    Litmus(Box<litmus::Action>),
    NotFound,
}

/// Routes a request to the scenario's dialect only: the other dialect's
/// paths answer 404 as on the real platform, so a client configured for the
/// wrong platform fails the way it would in production.
fn classify(state: &State, req: &HttpRequest) -> Call {
    let call = match state.scenario.platform {
        Platform::Harness => harness::classify(state, req),
        Platform::Litmus => litmus::classify(state, req),
    };
    if let Some(call) = call {
        return call;
    }
    Call {
        operation: None,
        notify_ids: Vec::new(),
        action: Action::NotFound,
    }
}

fn execute(state: &State, req: &HttpRequest, action: &Action) -> Reply {
    match action {
        Action::Harness(a) => harness::execute(state, req, a),
        Action::Litmus(a) => litmus::execute(state, req, a),
        Action::NotFound => Reply::not_found(),
    }
}

/// Returned by the service to make hyper close the connection without
/// writing a response, which is how `drop_connection` is simulated.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an [[inject]] entry")
    }
}

impl std::error::Error for DropConnection {}

/// What to do with a call: the real answer, or an injected one.
async fn answer(
    state: Arc<State>,
    req: Arc<HttpRequest>,
    action: Arc<Action>,
    inject: Option<Inject>,
) -> Option<Reply> {
    let Some(inject) = inject else {
        return Some(execute(&state, &req, &action));
    };
    let real = inject.after_effect.then(|| execute(&state, &req, &action));
    if let Some(ms) = inject.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if inject.drop_connection {
        return None;
    }
    let mut reply = if let Some(body) = &inject.body {
        let content_type = inject.content_type.clone().unwrap_or_else(|| {
            if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
                "application/json".into()
            } else {
                "text/html; charset=utf-8".into()
            }
        });
        Reply {
            status: inject.status.unwrap_or(200),
            content_type,
            headers: Vec::new(),
            body: Bytes::from(body.clone()),
        }
    } else if let Some(status) = inject.status {
        let mut reply = Reply::message(status, &format!("simulated HTTP {status} from chaos-sim"));
        if let Some(ct) = &inject.content_type {
            reply.content_type = ct.clone();
        }
        reply
    } else {
        // Only a delay (or a Retry-After): the real answer, late. Without
        // `after_effect` the effect happens after the delay.
        real.unwrap_or_else(|| execute(&state, &req, &action))
    };
    if let Some(retry_after) = &inject.retry_after {
        reply
            .headers
            .push(("retry-after".into(), retry_after.header_value()));
    }
    Some(reply)
}

async fn handle(
    state: Arc<State>,
    connection: u64,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let (parts, body) = request.into_parts();
    let head_bytes = wire::request_head(&parts);
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(to_response(Reply::message(
                413,
                "request body too large or unreadable",
            )));
        }
    };
    let req = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };

    // The simulator's own endpoints, for tools in other processes; not
    // recorded, so they never disturb what a test asserts on.
    if req.method == "GET" {
        match req.path.as_str() {
            "/_sim/requests" => return Ok(to_response(Reply::json(200, &state.requests()))),
            "/_sim/runs" => return Ok(to_response(Reply::json(200, &state.snapshots()))),
            _ => {}
        }
    }

    let call = classify(&state, &req);
    let recorded = state.record(RecordedRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        operation: call.operation.clone(),
        notify_ids: call.notify_ids.clone(),
        at_unix_ms: now_ms(),
        response_bytes: 0,
        at_unix_us: now_us(),
        answered_at_unix_us: 0,
        connection,
        request_wire_bytes: head_bytes + req.body.len() as u64,
        response_wire_bytes: 0,
    });
    let inject = call
        .operation
        .as_deref()
        .and_then(|op| state.injection_for(op));
    let injected = inject.is_some();

    // The work runs in its own task so that it completes (a run is created,
    // a poll counted) even if the client gives up and hyper drops this
    // future; what a test observes then does not depend on timing.
    let req = Arc::new(req);
    let task = tokio::spawn(answer(
        state.clone(),
        req.clone(),
        Arc::new(call.action),
        inject,
    ));
    let reply = task
        .await
        .unwrap_or_else(|_| Some(Reply::message(500, "chaos-sim handler failed")));

    if state.log_requests {
        let op = call.operation.as_deref().unwrap_or("-");
        let outcome = match &reply {
            Some(r) => format!("{} ({} B)", r.status, r.body.len()),
            None => "connection dropped".to_string(),
        };
        let mark = if injected { " [injected]" } else { "" };
        eprintln!(
            "chaos-sim: {} {} {op} -> {outcome}{mark}",
            req.method, req.path
        );
    }
    match reply {
        Some(reply) => {
            let body = reply.body.len() as u64;
            let response = to_response(reply);
            state.answered(recorded, body, wire::response(&response, body));
            Ok(response)
        }
        None => Err(DropConnection),
    }
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&reply.content_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    response
}

/// A running simulator. Dropping it (or calling [`Simulator::shutdown`])
/// stops the server and closes its connections.
pub struct Simulator {
    state: Arc<State>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts a simulator on `127.0.0.1` with a free port, not logging.
    pub async fn start(scenario: Scenario) -> io::Result<Simulator> {
        Simulator::start_with(scenario, SocketAddr::from(([127, 0, 0, 1], 0)), false).await
    }

    /// Starts a simulator on `listen`, optionally logging one line per
    /// request to stderr.
    pub async fn start_with(
        scenario: Scenario,
        listen: SocketAddr,
        log_requests: bool,
    ) -> io::Result<Simulator> {
        // Fail here, not on the first request, if an embedded schema is bad.
        // Only the dialect served is parsed: the Litmus schema is large.
        match scenario.platform {
            Platform::Harness => harness::check_schema(),
            Platform::Litmus => litmus::check_schema(),
        }
        let listener = StdTcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(scenario, format!("http://{addr}"), log_requests));
        let identifiers = match state.scenario.platform {
            Platform::Harness => harness::default_identifiers(&state.scenario),
            Platform::Litmus => litmus::default_identifiers(&state.scenario),
        };
        state.add_history(&identifiers);
        let (ready_tx, ready_rx) = oneshot::channel::<io::Result<()>>();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("chaos-sim".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(serve(thread_state, listener, ready_tx, shutdown_rx));
                // Dropping the runtime here cancels every connection task.
            })?;
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(io::Error::other(
                    "chaos-sim server thread exited during start",
                ));
            }
        }
        Ok(Simulator {
            state,
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// The base URL a client uses as its `endpoint`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far (except the `/_sim/` ones), in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// Every run started so far, in order, as it looks now.
    pub fn runs(&self) -> Vec<RunSnapshot> {
        self.state.snapshots()
    }

    /// Starts a run of `experiment_id` as another user of the platform
    /// would: already past `Queued` (phase `Running`, with a run ID), and
    /// staying `Running` until something stops it (polls do not move it
    /// along). It is marked [`RunSnapshot::foreign`]. `None` when the
    /// scenario has no such experiment or it is removed.
    pub fn start_foreign_run(&self, experiment_id: &str) -> Option<RunSnapshot> {
        let exp = self
            .state
            .experiment(experiment_id)
            .filter(|e| !e.removed)?;
        let identifiers = match self.state.scenario.platform {
            Platform::Harness => harness::default_identifiers(&self.state.scenario),
            Platform::Litmus => litmus::default_identifiers(&self.state.scenario),
        };
        let run = self.state.start_foreign_run(&exp, identifiers);
        Some(self.state.snapshot(&run))
    }

    /// How many revisions the stored experiment `id` has: 1 for a
    /// scenario's experiment, one more for each save through the API, 0
    /// when there is no such experiment.
    pub fn experiment_revisions(&self, id: &str) -> u32 {
        self.state.revisions(id)
    }

    /// The ID of the stored experiment named `name` (not removed), if any.
    pub fn experiment_id_named(&self, name: &str) -> Option<String> {
        self.state
            .experiments()
            .iter()
            .find(|e| !e.removed && e.display_name() == name)
            .map(|e| e.id.clone())
    }

    /// The tags of the stored experiment `id`.
    pub fn experiment_tags(&self, id: &str) -> Vec<String> {
        self.state
            .experiment(id)
            .map(|e| e.tags.clone())
            .unwrap_or_default()
    }

    /// The manifest the last save of experiment `id` stored, if it was
    /// saved through the API.
    pub fn saved_manifest(&self, id: &str) -> Option<String> {
        crate::state::lock(&self.state.saved)
            .get(id)
            .map(|s| s.manifest.clone())
            .filter(|m| !m.is_empty())
    }

    /// How often the infrastructure `id` was looked up.
    pub fn infra_polls(&self, id: &str) -> u32 {
        self.state.infra_polls(id)
    }

    /// Stops the server and waits until its thread has finished.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    state: Arc<State>,
    listener: StdTcpListener,
    ready: oneshot::Sender<io::Result<()>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let state = state.clone();
                let connection = state.connection();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), connection, req));
                    // An error here is a client going away or an injected
                    // drop; either way the connection is simply closed.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            path: "/".into(),
            query: query.into(),
            headers: vec![("x-api-key".into(), "k".into())],
            body: Bytes::new(),
        }
    }

    #[test]
    fn query_parameters_are_decoded() {
        let req = request("a=1&notifyId=n%2D1+x&flag&bad=%zz%4");
        assert_eq!(req.query_param("a").as_deref(), Some("1"));
        assert_eq!(req.query_param("notifyId").as_deref(), Some("n-1 x"));
        assert_eq!(req.query_param("flag").as_deref(), Some(""));
        assert_eq!(req.query_param("bad").as_deref(), Some("%zz%4"));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(req.header("X-API-Key"), Some("k"));
    }
}
