//! Reading GraphQL answers: the `errors` array and the `data` object.
//!
//! Both platforms answer with HTTP 200 and an `errors` array when an
//! operation fails, and `data` may then be null. Those messages are the
//! server's words for what went wrong, so they are passed on as they are.

use reqwest::{RequestBuilder, Url};
use serde_json::{json, Value};

use crate::http::{Http, Mode};
use crate::platform::PlatformError;
use crate::text::snippet;

/// Sends one GraphQL operation and returns its `data`. `auth` adds the
/// platform's headers to each attempt; `hint` rewrites an authentication
/// failure to name the settings to check.
#[allow(clippy::too_many_arguments)]
pub async fn post(
    http: &Http,
    url: &Url,
    what: &str,
    mode: Mode,
    cap: usize,
    document: &str,
    variables: Value,
    auth: impl Fn(RequestBuilder) -> RequestBuilder,
) -> Result<Value, PlatformError> {
    let body = serde_json::to_vec(&json!({ "query": document, "variables": variables }))
        .map_err(|e| PlatformError::unusable(format!("{what}: cannot encode the request: {e}")))?;
    let answer = http
        .send_json(what, mode, cap, || {
            auth(http.client().post(url.clone()))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await?;
    data(what, answer)
}

/// The `data` of a GraphQL answer, or a platform error carrying the server's
/// `errors` messages.
pub fn data(what: &str, mut answer: Value) -> Result<Value, PlatformError> {
    if let Some(errors) = answer.get("errors").and_then(Value::as_array) {
        if !errors.is_empty() {
            let messages: Vec<String> = errors
                .iter()
                .map(|e| {
                    e.get("message")
                        .and_then(Value::as_str)
                        .map(|m| snippet(m, 300))
                        .unwrap_or_else(|| snippet(&e.to_string(), 300))
                })
                .collect();
            return Err(PlatformError::unusable(format!(
                "{what}: the platform answered with an error: {}",
                messages.join("; ")
            )));
        }
    }
    match answer.get_mut("data").map(Value::take) {
        Some(data @ Value::Object(_)) => Ok(data),
        _ => Err(PlatformError::unusable(format!(
            "{what}: the answer has no data (it starts with {})",
            snippet(&answer.to_string(), 120)
        ))),
    }
}

/// A non-null field of `data`.
pub fn field<'a>(what: &str, data: &'a Value, name: &str) -> Result<&'a Value, PlatformError> {
    match data.get(name) {
        Some(Value::Null) | None => Err(PlatformError::unusable(format!(
            "{what}: the answer has no data.{name}"
        ))),
        Some(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_array_becomes_the_message() {
        let e = data(
            "op",
            json!({"data": null, "errors": [{"message": "no such workflow"}]}),
        )
        .unwrap_err();
        assert!(e.message.contains("no such workflow"), "{}", e.message);
    }

    #[test]
    fn missing_data_and_fields_are_errors() {
        assert!(data("op", json!({"data": null})).is_err());
        assert!(data("op", json!([1])).is_err());
        let d = data("op", json!({"data": {"a": 1}})).unwrap();
        assert!(field("op", &d, "a").is_ok());
        assert!(field("op", &d, "b").is_err());
    }
}
