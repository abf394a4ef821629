//! HTTP transport shared by the platform clients: TLS set-up, retries with
//! backoff, capped response bodies, and the classification of every failure
//! into what the gate must do next (README "Failure behaviour").
//!
//! The one question each failure answers is "may the request have taken
//! effect?". Reads are retried whatever the answer; a trigger is retried only
//! when the answer is certainly no (the connection was refused, or 429), and
//! otherwise comes back as [`PlatformError::OutcomeUnknown`] so that the gate can
//! look for the run it may have started instead of starting a second one.
//!
//! Whatever the server says, one call makes at most [`MAX_RETRIES`] retries,
//! each no sooner than the backoff allows: `Retry-After` may lengthen a wait
//! (up to [`MAX_RETRY_AFTER`]), never shorten it, and a retry that would come
//! after the deadline is not made. A TLS certificate the client does not
//! trust is not retried: asking again cannot change it, and the message
//! names `ca_cert`. A trigger is never sent once the deadline has passed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use std::sync::Arc as Shared;

use crate::platform::{PlatformError, Transport};
use crate::text::snippet;

/// Longest a single request may take, whatever time is left overall.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The time a request gets once the gate's deadline has passed: the stops
/// and stop confirmations that follow a timeout bound themselves (README "Failure behaviour"),
/// and a stop cut short by a tiny timeout would leave chaos running.
const AFTER_DEADLINE: Duration = Duration::from_secs(2);
/// Retries after the first attempt of one call.
pub const MAX_RETRIES: usize = 5;
/// The longest wait a `Retry-After` can ask for; a longer one is cut to
/// this (and a wait past the deadline ends the retries).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Requests in flight at once, whatever the number of experiments: triggers,
/// reads and stops of many runs queue for a slot, so the gate holds at most
/// this many connections (kept alive and reused) however large it runs.
pub const MAX_IN_FLIGHT: usize = 8;

/// Whether a request may be repeated when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Safe to repeat: status polls, look-ups, logins.
    Read,
    /// Changes something (a stop): repeated only when it certainly did not
    /// arrive. Sent after the deadline too: stopping is what the gate does
    /// there.
    Write,
    /// Starts a run: like [`Mode::Write`], and never sent once the deadline
    /// has passed (README "Failure behaviour": nothing is triggered, the gate times out).
    Trigger,
}

/// One failed attempt, before the retry policy decides.
#[derive(Debug)]
struct Attempt {
    error: PlatformError,
    retryable: bool,
    /// True when the server may have acted on the request.
    maybe_sent: bool,
    retry_after: Option<Duration>,
    /// The request ran out of time (its own or the deadline's).
    timed_out: bool,
}

/// A configured HTTP client with the gate's overall deadline.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    deadline: Instant,
    /// The last failed attempt, cleared by a success: at the deadline it
    /// tells a platform that stopped answering (exit 3) from a run that was
    /// simply still going (exit 4).
    last_failure: Arc<Mutex<Option<String>>>,
    min_delay: Duration,
    /// One permit per request in flight (see [`MAX_IN_FLIGHT`]).
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl Http {
    /// Builds the client: rustls with the system roots plus `ca_cert`,
    /// proxies from `HTTPS_PROXY` / `NO_PROXY`.
    pub fn new(ca_cert: Option<&[u8]>, deadline: Instant) -> Result<Http, PlatformError> {
        Http::for_endpoint(None, ca_cert, deadline)
    }

    /// [`Http::new`] for requests to `endpoint` only: the system's roots
    /// are not loaded when nothing will need them (plain HTTP, which is
    /// only allowed on loopback, and no HTTPS proxy), so the first request
    /// leaves about 1.5 ms sooner; `ca_cert` is trusted either way.
    pub fn for_endpoint(
        endpoint: Option<&reqwest::Url>,
        ca_cert: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<Http, PlatformError> {
        let ca_cert = match ca_cert {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| PlatformError::unusable_from(format!("ca_cert: {e}"), e))?,
            None => Vec::new(),
        };
        let builder = || {
            reqwest::Client::builder()
                // No redirects: neither API uses them, and a redirect to
                // another host would carry x-api-key along (reqwest strips
                // only the standard credential headers).
                .redirect(reqwest::redirect::Policy::none())
                .use_rustls_tls()
                .user_agent(concat!("chaos-gate/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .pool_idle_timeout(Duration::from_secs(50))
                .pool_max_idle_per_host(MAX_IN_FLIGHT)
                .add_roots(ca_cert.iter().cloned())
        };
        // The system's roots from its one bundle file when there is one;
        // should any of its certificates not load, the native store as a
        // whole, the way reqwest reads it.
        let system = if endpoint.is_some_and(|e| !needs_roots(e)) {
            Some(Vec::new())
        } else {
            system_bundle()
        };
        let client = match system {
            Some(system) => builder()
                .tls_built_in_root_certs(false)
                .add_roots(system)
                .build()
                .or_else(|_| builder().build()),
            None => builder().build(),
        };
        let client = client.map_err(|e| {
            PlatformError::unusable_from(format!("cannot set up the HTTP client: {e}"), e)
        })?;
        Ok(Http {
            client,
            deadline,
            last_failure: Arc::new(Mutex::new(None)),
            min_delay: Duration::from_millis(500),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// The underlying client, for building requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The error of the last attempt if it failed (and nothing succeeded
    /// since).
    pub fn last_failure(&self) -> Option<String> {
        self.last_failure.lock().ok().and_then(|g| g.clone())
    }

    fn record(&self, failure: Option<String>) {
        if let Ok(mut g) = self.last_failure.lock() {
            *g = failure;
        }
    }

    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends a request built by `build` (called again for every attempt) and
    /// returns what `read` makes of the body, which is checked to be JSON
    /// first. `what` names the call in errors, `cap` bounds the body size
    /// read.
    ///
    /// The body is handed to `read` as bytes rather than a parsed `Value`
    /// so that callers deserialise straight into their own types: a 50 MB
    /// `executionData` is then held as the body and its text, not three
    /// times over.
    ///
    /// `read` turns the body into the caller's answer inside each attempt,
    /// so that a body of the wrong shape is retried like one that is not
    /// JSON at all (README "Failure behaviour"), unless `read` says asking again cannot help.
    pub async fn send<T>(
        &self,
        what: &str,
        mode: Mode,
        cap: usize,
        build: impl Fn() -> RequestBuilder,
        read: impl Fn(&[u8]) -> Result<T, Rejected>,
    ) -> Result<T, PlatformError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(MAX_RETRIES)
            .with_jitter();
        // Set when the next retry would come after the deadline: the wait
        // then ends at the deadline (where the gate ends anyway), and the
        // retry is not sent if anything still awaits this call then.
        let past_deadline = AtomicBool::new(false);
        let attempt = || async {
            if mode == Mode::Trigger && self.time_left().is_zero() {
                // Not recorded as a failure: the platform did nothing wrong.
                return Err(Attempt {
                    error: PlatformError::TooLate {
                        message: format!(
                            "{what}: not sent, because the timeout had already passed"
                        ),
                    },
                    retryable: false,
                    maybe_sent: false,
                    retry_after: None,
                    timed_out: false,
                });
            }
            if past_deadline.load(Ordering::Relaxed) && self.time_left().is_zero() {
                let last = self.last_failure().unwrap_or_else(|| what.to_string());
                return Err(Attempt {
                    error: PlatformError::Unreachable {
                        message: format!("{last}; not retried: the timeout came first"),
                        source: None,
                    },
                    retryable: false,
                    maybe_sent: false,
                    retry_after: None,
                    timed_out: false,
                });
            }
            let timeout = REQUEST_TIMEOUT.min(self.time_left()).max(AFTER_DEADLINE);
            // Never closed, so a permit always comes; held until the body
            // is read, not across the wait before a retry.
            let _slot = self.in_flight.acquire().await.ok();
            let mut result = attempt(what, build().timeout(timeout), cap, &read).await;
            if let Err(a) = &mut result {
                if a.timed_out && self.time_left().is_zero() {
                    // The deadline cut this request short (its time is
                    // capped there): the timeout's doing, not the
                    // platform's. Not recorded as the platform failing, and
                    // a read is not retried after the deadline.
                    if mode == Mode::Read {
                        a.error = PlatformError::TooLate {
                            message: a.error.to_string(),
                        };
                        a.retryable = false;
                    }
                    return result;
                }
                let wait = retry_wait(Duration::ZERO, a.retry_after);
                let left = self.time_left();
                if a.retryable && !wait.is_zero() && wait >= left {
                    a.retryable = false;
                    a.error.append(&format!(
                        "; the server asked to wait {} before asking again (Retry-After), \
                         which is past the timeout ({} left)",
                        seconds(wait),
                        seconds(left)
                    ));
                }
            }
            self.record(result.as_ref().err().map(|a| a.error.to_string()));
            result
        };
        let result = attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|a: &Attempt| a.retryable && (mode == Mode::Read || !a.maybe_sent))
            .adjust(|a: &Attempt, backoff| {
                // The backoff decides whether to retry at all (`None` once
                // its retries are spent) and the shortest wait; Retry-After
                // may only lengthen it. A retry that would come after the
                // deadline is not made: the wait ends at the deadline.
                let wait = retry_wait(backoff?, a.retry_after);
                let left = self.time_left();
                if left.is_zero() {
                    None
                } else if wait >= left {
                    past_deadline.store(true, Ordering::Relaxed);
                    Some(left)
                } else {
                    Some(wait)
                }
            })
            .notify(|a: &Attempt, delay| {
                if past_deadline.load(Ordering::Relaxed) {
                    tracing::warn!(
                        "{}; the next retry would come after the timeout ({} left)",
                        a.error,
                        seconds(delay)
                    );
                } else {
                    tracing::warn!("{}; retrying in {}", a.error, seconds(delay));
                }
            })
            .await;
        result.map_err(|a| {
            if mode != Mode::Read && a.maybe_sent && a.retryable {
                PlatformError::OutcomeUnknown(Box::new(a.error))
            } else {
                a.error
            }
        })
    }
}

/// How long to wait before the next attempt: the backoff's delay, or longer
/// when the server's `Retry-After` asks for more (cut to
/// [`MAX_RETRY_AFTER`]). Never shorter than the backoff.
pub fn retry_wait(backoff: Duration, retry_after: Option<Duration>) -> Duration {
    backoff.max(retry_after.map_or(Duration::ZERO, |r| r.min(MAX_RETRY_AFTER)))
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Where Linux distributions keep the system's CA bundle: one file holding
/// every trusted root, the ones an administrator added included
/// (update-ca-certificates, update-ca-trust write them there). The same list
/// as OpenSSL's probe and Go's crypto/x509.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system's roots read from its single bundle file: `SSL_CERT_FILE`, or
/// the distribution's bundle. Reading it is one file instead of the several
/// hundred of /etc/ssl/certs that the native store reads one by one (about
/// 5 ms before the first request). `None` leaves it to the native store:
/// when `SSL_CERT_DIR` names a directory (its files must be read), when no
/// bundle exists, or when the bundle is not PEM.
fn system_bundle() -> Option<Vec<reqwest::Certificate>> {
    let set = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if set("SSL_CERT_DIR").is_some() {
        return None;
    }
    let path = match set("SSL_CERT_FILE") {
        Some(file) => std::path::PathBuf::from(file),
        None => CA_BUNDLES
            .iter()
            .map(std::path::Path::new)
            .find(|p| p.is_file())?
            .to_path_buf(),
    };
    let pem = std::fs::read(path).ok()?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .ok()
        .filter(|c| !c.is_empty())
}

/// Whether requests to `endpoint` may need the system's roots: it is HTTPS,
/// or a proxy is set (an HTTPS proxy needs them even for a plain endpoint).
fn needs_roots(endpoint: &reqwest::Url) -> bool {
    endpoint.scheme() != "http"
        || [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()))
}

/// Adds certificates as roots.
trait AddRoots {
    fn add_roots(self, certs: impl IntoIterator<Item = reqwest::Certificate>) -> Self;
}

impl AddRoots for reqwest::ClientBuilder {
    fn add_roots(self, certs: impl IntoIterator<Item = reqwest::Certificate>) -> Self {
        certs
            .into_iter()
            .fold(self, |b, cert| b.add_root_certificate(cert))
    }
}

/// A body the caller cannot use, and whether asking again may help.
#[derive(Debug)]
pub struct Rejected {
    pub error: PlatformError,
    pub retry: bool,
}

/// One attempt: send, check the status, read at most `cap` bytes, check
/// that the body is JSON, and read it into the caller's answer.
async fn attempt<T>(
    what: &str,
    request: RequestBuilder,
    cap: usize,
    read: &impl Fn(&[u8]) -> Result<T, Rejected>,
) -> Result<T, Attempt> {
    let response = request.send().await.map_err(|e| {
        if e.is_builder() {
            // Nothing was sent: a header value that cannot be sent (settings
            // validation refuses those) or a URL that cannot be used.
            return Attempt {
                error: PlatformError::unusable_from(
                    format!("{what}: cannot build the request ({})", error_chain(&e)),
                    e,
                ),
                retryable: false,
                maybe_sent: false,
                retry_after: None,
                timed_out: false,
            };
        }
        if let Some(problem) = certificate_error(&e) {
            let url = e
                .url()
                .map(|u| {
                    let mut u = u.clone();
                    u.set_query(None);
                    u.to_string()
                })
                .unwrap_or_default();
            return Attempt {
                error: PlatformError::unusable_from(
                    format!(
                        "{what} ({url}): the server's TLS certificate is not trusted ({problem}). \
                         If the platform uses a private or self-signed certificate, set ca_cert \
                         to a PEM file with its CA certificate; otherwise check that endpoint \
                         names the host the certificate is for. Not retried: asking again \
                         cannot change the certificate."
                    ),
                    e,
                ),
                retryable: false,
                maybe_sent: false,
                retry_after: None,
                timed_out: false,
            };
        }
        let maybe_sent = !e.is_connect();
        let detail = if e.is_timeout() {
            "timed out waiting for an answer".to_string()
        } else if e.is_connect() {
            format!("cannot connect ({})", error_chain(&e))
        } else {
            format!("connection failed ({})", error_chain(&e))
        };
        let timed_out = e.is_timeout();
        Attempt {
            error: PlatformError::Unreachable {
                message: format!("{what}: {detail}"),
                source: Some(Transport::Request(Shared::new(e))),
            },
            retryable: true,
            maybe_sent,
            retry_after: None,
            timed_out,
        }
    })?;
    let status = response.status();
    let url = redacted_url(&response);
    let retry_after = retry_after(&response);
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| snippet(v, 200));
    let body = read_capped(response, cap, &format!("{what} ({url}): "))
        .await
        .map_err(|(error, timed_out)| Attempt {
            retryable: !matches!(error, PlatformError::TooLarge { .. }),
            error,
            maybe_sent: true,
            retry_after: None,
            timed_out,
        })?;
    // Before anything reads it: no secret the server quotes back can reach
    // a report, a log or an output.
    let body = crate::secret::redact_answer(body);

    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(Attempt {
            error: PlatformError::Auth {
                message: format!(
                    "{what} ({url}) was refused with HTTP {status}: {}",
                    server_message(&body)
                ),
                hint: None,
            },
            retryable: false,
            maybe_sent: false,
            retry_after: None,
            timed_out: false,
        });
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(Attempt {
            error: PlatformError::Unreachable {
                message: format!("{what} ({url}): HTTP {status}: {}", server_message(&body)),
                source: Some(Transport::Status(status)),
            },
            retryable: true,
            // A 429 was turned away before any work; a 5xx may have been
            // half done.
            maybe_sent: status != StatusCode::TOO_MANY_REQUESTS,
            retry_after,
            timed_out: false,
        });
    }
    if status.is_redirection() {
        let to = location.unwrap_or_else(|| "nowhere".to_string());
        return Err(Attempt {
            error: PlatformError::unusable(format!(
                "{what} ({url}): HTTP {status}, redirected to {to}; chaos-gate does not \
                     follow redirects (they would carry the credentials along): set endpoint \
                     to the platform's own URL"
            )),
            retryable: false,
            maybe_sent: false,
            retry_after: None,
            timed_out: false,
        });
    }
    if !status.is_success() {
        // A GraphQL server answers a document it cannot run with 4xx and an
        // `errors` array: report its words; repeating would not help.
        return Err(Attempt {
            error: PlatformError::unusable(format!(
                "{what} ({url}): HTTP {status}: {}",
                server_message(&body)
            )),
            retryable: false,
            maybe_sent: false,
            retry_after: None,
            timed_out: false,
        });
    }
    // Checked without building anything: `IgnoredAny` skips every value.
    match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        Ok(_) => read(&body).map_err(|r| Attempt {
            error: r.error,
            retryable: r.retry,
            maybe_sent: true,
            retry_after: None,
            timed_out: false,
        }),
        Err(e) => Err(Attempt {
            error: PlatformError::unusable_from(
                format!(
                    "{what} ({url}): the answer is not JSON ({e}); it starts with {}",
                    snippet(&String::from_utf8_lossy(&body), 120)
                ),
                e,
            ),
            retryable: true,
            maybe_sent: true,
            retry_after: None,
            timed_out: false,
        }),
    }
}

/// The URL without its query string (which carries account identifiers but
/// is noise in a message).
fn redacted_url(response: &Response) -> String {
    let mut url = response.url().clone();
    url.set_query(None);
    url.to_string()
}

fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    parse_retry_after(value.as_bytes(), SystemTime::now())
}

/// A `Retry-After` value as the server sent it: seconds, or an HTTP date
/// (a date already past is no wait). Anything else is ignored (`None`).
/// The wait is the server's wish; [`retry_wait`] decides the real one.
pub fn parse_retry_after(value: &[u8], now: SystemTime) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than any u64 is a wait longer than any gate.
        return Some(Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The certificate problem when `e` is a TLS certificate the client does
/// not trust (unknown issuer, expired, another host's name, ...): rustls'
/// error, found anywhere in the error's source chain. I/O errors are looked
/// into as well, since their `source()` skips the error they wrap.
pub fn certificate_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    fn rustls_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
        match e.downcast_ref::<rustls::Error>()? {
            rustls::Error::InvalidCertificate(c) => Some(format!("invalid peer certificate: {c}")),
            rustls::Error::NoCertificatesPresented => {
                Some("the server presented no certificate".to_string())
            }
            _ => None,
        }
    }
    // I/O errors nest (hyper wraps tokio-rustls' I/O error in another), so
    // every error met is looked into both ways.
    let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![e];
    // Bounded: a chain is a handful of errors; a cycle cannot hang the gate.
    for _ in 0..64 {
        let Some(err) = pending.pop() else {
            break;
        };
        if let Some(p) = rustls_problem(err) {
            return Some(p);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            pending.push(inner);
        }
        if let Some(source) = err.source() {
            pending.push(source);
        }
    }
    None
}

/// Reads at most `cap` bytes of the body. An error's message starts with
/// `prefix` (the call and its URL); `true` beside it: the read timed out.
async fn read_capped(
    mut response: Response,
    cap: usize,
    prefix: &str,
) -> Result<Vec<u8>, (PlatformError, bool)> {
    let too_large = |n: u64| {
        let error = PlatformError::TooLarge {
            message: format!(
                "{prefix}the answer is larger than {} MiB ({} bytes announced or read); \
                 stopped reading it",
                cap / (1024 * 1024),
                n
            ),
        };
        (error, false)
    };
    let announced = response.content_length();
    if let Some(len) = announced
        && len > cap as u64
    {
        return Err(too_large(len));
    }
    // Sized up front: a large body is not copied while the vector grows.
    let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(too_large((body.len() + chunk.len()) as u64));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                let timed_out = e.is_timeout();
                let error = PlatformError::Unreachable {
                    message: format!(
                        "{prefix}the connection broke while reading ({})",
                        error_chain(&e)
                    ),
                    source: Some(Transport::Request(Shared::new(e))),
                };
                return Err((error, timed_out));
            }
        }
    }
}

/// What the server said, from a JSON `message`/`error`/`errors` field or the
/// start of the body.
pub fn server_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(errors) = v.get("errors").and_then(Value::as_array) {
            let msgs: Vec<String> = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .map(|m| snippet(m, 300))
                .collect();
            if !msgs.is_empty() {
                return msgs.join("; ");
            }
        }
        for key in ["message", "error", "error_description", "detail"] {
            if let Some(m) = v.get(key).and_then(Value::as_str) {
                return snippet(m, 300);
            }
        }
    }
    if body.is_empty() {
        return "(empty body)".to_string();
    }
    snippet(&String::from_utf8_lossy(body), 200)
}

/// An error with its sources, which is where reqwest keeps the useful part
/// (a refused connection, a certificate problem).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_lengthens_the_backoff_never_shortens_it_and_is_capped() {
        let backoff = Duration::from_millis(500);
        assert_eq!(retry_wait(backoff, None), backoff);
        assert_eq!(retry_wait(backoff, Some(Duration::ZERO)), backoff);
        assert_eq!(retry_wait(backoff, Some(Duration::from_millis(1))), backoff);
        assert_eq!(
            retry_wait(backoff, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            retry_wait(backoff, Some(Duration::from_secs(u64::MAX))),
            MAX_RETRY_AFTER
        );
        assert_eq!(
            retry_wait(Duration::from_secs(90), Some(Duration::from_secs(3600))),
            Duration::from_secs(90)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_the_rest() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(b"0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(b" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(b"99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        // 2023-11-14T22:13:20Z is `now`; ten seconds later:
        assert_eq!(
            parse_retry_after(b"Tue, 14 Nov 2023 22:13:30 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::ZERO)
        );
        for junk in [&b""[..], b"-1", b"1.5", b"soon", b"+5", b"\xff\xfe", b"5 5"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn certificate_errors_are_found_inside_nested_io_errors() {
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls_error,
        ));
        let found = certificate_error(&nested).expect("found");
        assert!(found.contains("UnknownIssuer"), "{found}");
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(certificate_error(&plain), None);
        let other = std::io::Error::other(rustls::Error::HandshakeNotComplete);
        assert_eq!(certificate_error(&other), None);
    }

    #[test]
    fn server_message_prefers_graphql_errors() {
        let body = br#"{"errors":[{"message":"bad id"},{"message":"also"}],"data":null}"#;
        assert_eq!(server_message(body), "bad id; also");
        assert_eq!(
            server_message(br#"{"message":"Token is not valid"}"#),
            "Token is not valid"
        );
        assert_eq!(server_message(b""), "(empty body)");
        assert!(server_message(b"<html><body>502 Bad Gateway</body></html>").contains("502"));
    }
}
