//! What a failed platform call ended in: one variant per case the gate acts
//! on, each carrying what its message needs and, where there is one, the
//! error underneath as its source.
//!
//! The message is the one a person reads in the console, the JUnit report
//! and the outputs; the gate decides on the variant, never on the words.

use std::sync::Arc;

/// An error underneath a platform error (a JSON parser's, a URL's, the
/// HTTP client's), shared so that the platform error stays cheap to clone.
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// A failed platform call, with a message for people.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlatformError {
    /// The experiment, run or infrastructure named does not exist.
    #[error("{message}")]
    NotFound { message: String },
    /// 401/403, or a GraphQL error that says the credentials were refused
    /// (ChaosCenter answers an invalid or expired token with HTTP 200 and
    /// `permission_denied: ...`): no retry. `hint` says what to check.
    #[error("{message}{}", hint.as_deref().map(|h| format!(". Check {h}.")).unwrap_or_default())]
    Auth {
        message: String,
        hint: Option<String>,
    },
    /// The platform's considered answer was a GraphQL error (not about
    /// credentials), with the server's messages; no retry.
    #[error("{what}: the platform answered with an error: {}", messages.join("; "))]
    Rejected { what: String, messages: Vec<String> },
    /// No usable answer after retries: connection errors, 5xx, 429.
    #[error("{message}")]
    Unreachable {
        message: String,
        #[source]
        source: Option<Transport>,
    },
    /// An answer that cannot be used: not JSON, missing fields, impossible
    /// values, a 4xx; or a request that cannot be made.
    #[error("{message}")]
    Unusable {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// The answer was larger than any real one; reading stopped.
    #[error("{message}")]
    TooLarge { message: String },
    /// A trigger that may or may not have started a run: the last
    /// attempt's error.
    #[error(transparent)]
    OutcomeUnknown(Box<PlatformError>),
    /// The deadline came first: a trigger not sent because it had passed
    /// (nothing was started, README "Failure behaviour"), or a read it cut short. The gate
    /// ends as timed out, not as a platform error.
    #[error("{message}")]
    TooLate { message: String },
}

/// What the transport last met on the way to an unreachable platform.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Transport {
    /// The HTTP client's error: no connection, a timeout, a broken body.
    #[error(transparent)]
    Request(Arc<reqwest::Error>),
    /// The server answered, with a status that asks to come back later.
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
}

impl PlatformError {
    /// An unusable answer without an error underneath.
    pub fn unusable(message: impl Into<String>) -> PlatformError {
        PlatformError::Unusable {
            message: message.into(),
            source: None,
        }
    }

    /// An unusable answer, with the error that made it so.
    pub fn unusable_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> PlatformError {
        PlatformError::Unusable {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    pub fn not_found(message: impl Into<String>) -> PlatformError {
        PlatformError::NotFound {
            message: message.into(),
        }
    }

    /// Adds what to check to a refused-credentials error; other errors pass.
    pub(crate) fn hint_auth(self, check: &str) -> PlatformError {
        match self {
            PlatformError::Auth { message, hint } => PlatformError::Auth {
                message: match hint {
                    Some(h) => format!("{message}. Check {h}."),
                    None => message,
                },
                hint: Some(check.to_string()),
            },
            other => other,
        }
    }

    /// Whether the platform's answer was a GraphQL error saying that what
    /// was named does not exist (the servers answer that with an error,
    /// not with an empty answer). Reads the server's messages only.
    pub(crate) fn says_not_found(&self) -> bool {
        let PlatformError::Rejected { messages, .. } = self else {
            return false;
        };
        messages.iter().any(|m| {
            let m = m.to_ascii_lowercase();
            [
                "not found",
                "no matching",
                "no documents",
                "does not exist",
                "doesn't exist",
            ]
            .iter()
            .any(|k| m.contains(k))
        })
    }

    /// Adds to the message (a retry that will not come, and why).
    pub(crate) fn append(&mut self, more: &str) {
        match self {
            PlatformError::NotFound { message }
            | PlatformError::Unreachable { message, .. }
            | PlatformError::Unusable { message, .. }
            | PlatformError::TooLarge { message }
            | PlatformError::TooLate { message } => message.push_str(more),
            PlatformError::Auth { message, hint } => {
                if let Some(h) = hint.take() {
                    message.push_str(&format!(". Check {h}."));
                }
                message.push_str(more);
            }
            PlatformError::OutcomeUnknown(inner) => inner.append(more),
            PlatformError::Rejected { messages, .. } => match messages.last_mut() {
                Some(last) => last.push_str(more),
                None => messages.push(more.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_before() {
        let auth = PlatformError::Auth {
            message: "op (u) was refused with HTTP 401: no".into(),
            hint: None,
        };
        assert_eq!(
            auth.hint_auth("api_key").to_string(),
            "op (u) was refused with HTTP 401: no. Check api_key."
        );
        let mut rejected = PlatformError::Rejected {
            what: "getInfra for i".into(),
            messages: vec!["a".into(), "no matching infra".into()],
        };
        assert_eq!(
            rejected.to_string(),
            "getInfra for i: the platform answered with an error: a; no matching infra"
        );
        assert!(rejected.says_not_found());
        rejected.append("; more");
        assert!(rejected.to_string().ends_with("infra; more"));
        let unknown = PlatformError::OutcomeUnknown(Box::new(PlatformError::unusable("lost")));
        assert_eq!(unknown.to_string(), "lost");
    }

    #[test]
    fn not_found_is_read_from_the_servers_words_only() {
        let named = PlatformError::Rejected {
            what: "getInfra for not-found-infra".into(),
            messages: vec!["internal error".into()],
        };
        assert!(!named.says_not_found());
        assert!(!PlatformError::unusable("experiment not found").says_not_found());
    }

    #[test]
    fn sources_are_kept() {
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        let e = PlatformError::unusable_from(format!("op: {json}"), json);
        assert!(std::error::Error::source(&e).is_some());
        let s = PlatformError::Unreachable {
            message: "op: HTTP 503".into(),
            source: Some(Transport::Status(reqwest::StatusCode::SERVICE_UNAVAILABLE)),
        };
        let source = std::error::Error::source(&s).map(|e| e.to_string());
        assert_eq!(source.as_deref(), Some("HTTP 503 Service Unavailable"));
    }
}
