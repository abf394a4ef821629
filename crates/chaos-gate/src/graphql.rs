//! Sending GraphQL operations and reading their answers: the `errors`
//! array, then `data` in the caller's own type.
//!
//! Both platforms answer with HTTP 200 and an `errors` array when an
//! operation fails, and `data` may then be null. Those messages are the
//! server's words for what went wrong, so they are passed on as they are.
//! The answer is read twice from the same bytes: once for `errors` only
//! (skipping `data` without building it), then `data` into the caller's
//! type, so a large answer is never held as a generic `Value`.

use reqwest::{RequestBuilder, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http::{Http, Mode, Rejected};
use crate::platform::PlatformError;
use crate::text::snippet;

/// Sends one GraphQL operation and returns its `data` as `T`. `auth` adds
/// the platform's headers to each attempt.
#[allow(clippy::too_many_arguments)]
pub async fn post<T: DeserializeOwned>(
    http: &Http,
    url: &Url,
    what: &str,
    mode: Mode,
    cap: usize,
    document: &str,
    variables: Value,
    auth: impl Fn(RequestBuilder) -> RequestBuilder,
) -> Result<T, PlatformError> {
    let answer = post_partial(http, url, what, mode, cap, document, variables, auth).await?;
    match answer.errors {
        Some(e) => Err(e),
        None => Ok(answer.data),
    }
}

/// Like [`post`], but an answer that carries `errors` *and* `data` gives
/// both: a trigger answered with a notify ID and errors has started a run
/// that must be watched or stopped, not forgotten.
#[allow(clippy::too_many_arguments)]
pub async fn post_partial<T: DeserializeOwned>(
    http: &Http,
    url: &Url,
    what: &str,
    mode: Mode,
    cap: usize,
    document: &str,
    variables: Value,
    auth: impl Fn(RequestBuilder) -> RequestBuilder,
) -> Result<Partial<T>, PlatformError> {
    let body =
        serde_json::to_vec(&json!({ "query": document, "variables": variables })).map_err(|e| {
            PlatformError::unusable_from(format!("{what}: cannot encode the request: {e}"), e)
        })?;
    http.send(
        what,
        mode,
        cap,
        || {
            auth(http.client().post(url.clone()))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        },
        |answer| read_partial(what, answer),
    )
    .await
}

/// An answer's `data` and the `errors` that came with it, if any.
pub struct Partial<T> {
    pub data: T,
    /// The errors beside the data, as a platform error.
    pub errors: Option<PlatformError>,
}

/// The `errors` of an answer; `data` and anything else are skipped.
#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

/// The `data` of an answer.
#[derive(Deserialize)]
struct Data<T> {
    data: Option<T>,
}

/// Reads an answer: a platform error carrying the server's `errors`
/// messages, or `data` as `T`.
pub fn data<T: DeserializeOwned>(what: &str, answer: &[u8]) -> Result<T, PlatformError> {
    read(what, answer).map_err(|r| r.error)
}

/// Reads an answer that may carry `data` beside `errors` (a trigger's),
/// the way [`post_partial`] does; for fuzz targets and property tests.
pub fn data_partial<T: DeserializeOwned>(
    what: &str,
    answer: &[u8],
) -> Result<Partial<T>, PlatformError> {
    read_partial(what, answer).map_err(|r| r.error)
}

/// Like [`data`], saying whether asking again may help: an `errors` array
/// is the server's considered answer, a body of the wrong shape may be a
/// passing fault (a proxy's page, a half-deployed server).
fn read<T: DeserializeOwned>(what: &str, answer: &[u8]) -> Result<T, Rejected> {
    let partial = read_partial::<T>(what, answer)?;
    match partial.errors {
        Some(error) => Err(Rejected {
            error,
            retry: false,
        }),
        None => Ok(partial.data),
    }
}

/// The first bytes of an answer, for messages.
fn start_of(answer: &[u8]) -> String {
    snippet(
        &String::from_utf8_lossy(&answer[..answer.len().min(200)]),
        120,
    )
}

/// Reads `errors` and `data`. Refused credentials, or errors with no usable
/// `data`, are an error; `data` beside other errors comes back with them.
fn read_partial<T: DeserializeOwned>(what: &str, answer: &[u8]) -> Result<Partial<T>, Rejected> {
    let shape = |e: serde_json::Error| Rejected {
        error: PlatformError::unusable_from(
            format!(
                "{what}: the answer is not the shape expected ({e}); it starts with {}",
                start_of(answer)
            ),
            e,
        ),
        retry: true,
    };
    let head: Errors = serde_json::from_slice(answer).map_err(shape)?;
    let errors = head
        .errors
        .filter(|e| !e.is_empty())
        .map(|errors| rejection(what, &errors));
    match (serde_json::from_slice::<Data<T>>(answer), errors) {
        (Ok(Data { data: Some(data) }), errors)
            if !matches!(errors, Some(PlatformError::Auth { .. })) =>
        {
            Ok(Partial { data, errors })
        }
        (_, Some(error)) => Err(Rejected {
            error,
            retry: false,
        }),
        (Ok(Data { data: _ }), None) => Err(Rejected {
            error: PlatformError::unusable(format!(
                "{what}: the answer has no data (it starts with {})",
                start_of(answer)
            )),
            retry: true,
        }),
        (Err(e), None) => Err(shape(e)),
    }
}

/// The platform error for a GraphQL `errors` array: refused credentials
/// when the server says so (ChaosCenter answers a bad or expired token,
/// and a project the token may not see, with HTTP 200 and
/// `permission_denied: ...`, or `invalid Token`), otherwise a rejection
/// carrying the server's messages.
fn rejection(what: &str, errors: &[Value]) -> PlatformError {
    let messages: Vec<String> = errors
        .iter()
        .map(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .map(|m| snippet(m, 300))
                .unwrap_or_else(|| snippet(&e.to_string(), 300))
        })
        .collect();
    if messages.iter().any(|m| is_auth_message(m)) {
        PlatformError::Auth {
            message: format!(
                "{what}: the platform refused the credentials: {}",
                messages.join("; ")
            ),
            hint: None,
        }
    } else {
        PlatformError::Rejected {
            what: what.to_string(),
            messages,
        }
    }
}

/// Whether a GraphQL error message is a refusal of the credentials.
fn is_auth_message(message: &str) -> bool {
    let m = message.trim_start().to_ascii_lowercase();
    m.starts_with("permission_denied")
        || m.starts_with("invalid token")
        || m.starts_with("unauthorized")
        || m.starts_with("unauthenticated")
}

/// A root field of `data` that must be present.
pub fn field<T>(what: &str, value: Option<T>, name: &str) -> Result<T, PlatformError> {
    value.ok_or_else(|| PlatformError::unusable(format!("{what}: the answer has no data.{name}")))
}

/// An infrastructure as both platforms' look-ups answer it
/// (`getInfraDetails`, `getInfra`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfraAnswer {
    pub name: Option<String>,
    /// Harness only.
    #[serde(rename = "environmentID")]
    pub environment_id: Option<String>,
    pub is_active: Option<bool>,
    pub is_removed: Option<bool>,
}

/// The infrastructure of a look-up: one the server says does not exist
/// (a GraphQL error), one missing from the answer, or one removed is
/// [`PlatformError::NotFound`], made by `not_found` from what to add to its
/// message; other errors pass.
pub fn infra_found(
    answer: Result<Option<InfraAnswer>, PlatformError>,
    not_found: impl Fn(&str) -> PlatformError,
) -> Result<InfraAnswer, PlatformError> {
    let infra = answer.map_err(|e| {
        if e.says_not_found() {
            not_found(&format!(" ({})", crate::text::one_line(&e.to_string())))
        } else {
            e
        }
    })?;
    match infra {
        None => Err(not_found("")),
        Some(i) if i.is_removed == Some(true) => Err(not_found(" (it has been removed)")),
        Some(i) => Ok(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Root {
        a: Option<i64>,
    }

    #[test]
    fn errors_array_becomes_the_message() {
        let e = data::<Root>(
            "op",
            br#"{"data": null, "errors": [{"message": "no such workflow"}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("no such workflow"), "{e}");
    }

    #[test]
    fn permission_denied_is_an_auth_failure() {
        for m in [
            "permission_denied: rpc error: code = Unknown desc = token is expired",
            "invalid Token",
            "Permission_Denied",
        ] {
            let body = json!({"data": null, "errors": [{"message": m}]}).to_string();
            let e = data::<Root>("op", body.as_bytes()).unwrap_err();
            assert!(matches!(e, PlatformError::Auth { .. }), "{m}");
        }
        let e = data::<Root>(
            "op",
            br#"{"errors": [{"message": "no matching experiment run"}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, PlatformError::Rejected { .. }));
    }

    #[test]
    fn data_next_to_errors_is_kept() {
        let p = read_partial::<Root>(
            "op",
            br#"{"data": {"a": 7}, "errors": [{"message": "partly failed"}]}"#,
        )
        .map_err(|r| r.error)
        .unwrap();
        assert_eq!(p.data.a, Some(7));
        assert!(p.errors.unwrap().to_string().contains("partly failed"));
        let e = read_partial::<Root>("op", br#"{"data": 5, "errors": [{"message": "x"}]}"#)
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(e.error, PlatformError::Rejected { .. }));
        assert!(!e.retry);
    }

    #[test]
    fn missing_data_and_wrong_shapes_are_errors() {
        assert!(data::<Root>("op", br#"{"data": null}"#).is_err());
        assert!(data::<Root>("op", b"[1]").is_err());
        assert!(data::<Root>("op", br#"{"data": {"a": "x"}}"#).is_err());
        let d: Root = data("op", br#"{"data": {"a": 1}}"#).unwrap();
        assert_eq!(field("op", d.a, "a").unwrap(), 1);
        assert!(field::<i64>("op", None, "b").is_err());
    }
}
