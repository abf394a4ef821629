//! The LitmusChaos settings: each declared with its parser (they take
//! their place in [`crate::settings::SETTINGS`]), and what platform litmus
//! requires of them.

use crate::secret::Secret;
use crate::settings::{Checker, SettingSpec, s, secret};

/// Litmus credentials: a token, or a login that yields one.
#[derive(Debug, Clone)]
pub enum LitmusAuth {
    Token(Secret),
    Login { username: String, password: Secret },
}

/// What the Litmus settings read, before the platform's rules.
#[derive(Debug, Default)]
pub struct LitmusLow {
    token: Option<Secret>,
    username: Option<String>,
    password: Option<Secret>,
}

/// The validated Litmus settings.
#[derive(Debug, Clone)]
pub struct LitmusSettings {
    pub auth: LitmusAuth,
}

pub const TOKEN: SettingSpec = secret("token", "Litmus access token", |v, low| {
    v.header_safe("copy the access token again, without line breaks");
    low.litmus.token = Some(Secret::new(v.text()));
})
.litmus();

pub const USERNAME: SettingSpec = s(
    "username",
    "",
    "Litmus login, used when no token is given",
    |v, low| low.litmus.username = Some(v.text().to_string()),
)
.litmus();

pub const PASSWORD: SettingSpec = secret(
    "password",
    "Litmus password, used when no token is given",
    |v, low| {
        v.header_safe("set the password without line breaks or control characters");
        low.litmus.password = Some(Secret::new(v.text()));
    },
)
.litmus();

impl LitmusSettings {
    /// What platform litmus requires: the ChaosCenter's URL (the default
    /// endpoint is Harness's) and a token or a login; `None` when
    /// something is missing (the errors say what).
    pub(crate) fn validate(low: LitmusLow, c: &mut Checker<'_>) -> Option<LitmusSettings> {
        if c.value("endpoint").is_none() {
            c.missing("endpoint", "for platform litmus (the ChaosCenter URL)");
        }
        let auth = match (low.token, low.username, low.password) {
            (Some(t), _, _) => LitmusAuth::Token(t),
            (None, Some(username), Some(password)) => LitmusAuth::Login { username, password },
            (None, Some(_), None) => {
                c.missing("password", "with username for platform litmus");
                return None;
            }
            (None, None, Some(_)) => {
                c.missing("username", "with password for platform litmus");
                return None;
            }
            (None, None, None) => {
                c.missing("token", "for platform litmus (or username and password)");
                return None;
            }
        };
        Some(LitmusSettings { auth })
    }
}
