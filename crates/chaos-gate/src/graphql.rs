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
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

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
    let body = serde_json::to_vec(&json!({ "query": document, "variables": variables }))
        .map_err(|e| PlatformError::unusable(format!("{what}: cannot encode the request: {e}")))?;
    http.send(
        what,
        mode,
        cap,
        || {
            auth(http.client().post(url.clone()))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        },
        |answer| read(what, answer),
    )
    .await
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

/// Like [`data`], saying whether asking again may help: an `errors` array
/// is the server's considered answer, a body of the wrong shape may be a
/// passing fault (a proxy's page, a half-deployed server).
fn read<T: DeserializeOwned>(what: &str, answer: &[u8]) -> Result<T, Rejected> {
    let start = || {
        snippet(
            &String::from_utf8_lossy(&answer[..answer.len().min(200)]),
            120,
        )
    };
    let shape = |e: serde_json::Error| Rejected {
        error: PlatformError::unusable(format!(
            "{what}: the answer is not the shape expected ({e}); it starts with {}",
            start()
        )),
        retry: true,
    };
    let head: Errors = serde_json::from_slice(answer).map_err(shape)?;
    if let Some(errors) = head.errors.filter(|e| !e.is_empty()) {
        let messages: Vec<String> = errors
            .iter()
            .map(|e| {
                e.get("message")
                    .and_then(Value::as_str)
                    .map(|m| snippet(m, 300))
                    .unwrap_or_else(|| snippet(&e.to_string(), 300))
            })
            .collect();
        return Err(Rejected {
            error: PlatformError::unusable(format!(
                "{what}: the platform answered with an error: {}",
                messages.join("; ")
            )),
            retry: false,
        });
    }
    let data: Data<T> = serde_json::from_slice(answer).map_err(shape)?;
    data.data.ok_or_else(|| Rejected {
        error: PlatformError::unusable(format!(
            "{what}: the answer has no data (it starts with {})",
            start()
        )),
        retry: true,
    })
}

/// A root field of `data` that must be present.
pub fn field<T>(what: &str, value: Option<T>, name: &str) -> Result<T, PlatformError> {
    value.ok_or_else(|| PlatformError::unusable(format!("{what}: the answer has no data.{name}")))
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
        assert!(e.message.contains("no such workflow"), "{}", e.message);
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
