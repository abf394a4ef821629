//! The one place where request URLs are built (README "Failure behaviour"): identifiers
//! that come from settings or from the platform go in as one encoded path
//! segment or one query value, so that no identifier can change which
//! endpoint a request reaches (and where the credentials it carries go).
//!
//! Only fixed routes written in the code ([`UrlBuilder::route`], which takes
//! `&'static str`) become path text as they are; everything else goes
//! through [`UrlBuilder::id`] or [`UrlBuilder::query`]. An identifier that
//! cannot be one path segment is refused before anything is sent: an empty
//! one (`experiment//stop`), and `.` or `..`, which every URL parser drops
//! or resolves however they are written (`%2e%2e` included), so they could
//! never reach the server as an identifier.

use reqwest::Url;

/// Why an identifier cannot go into a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadIdentifier {
    /// What the identifier is (`experiment ID`, `run ID`).
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for BadIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.message)
    }
}

impl std::error::Error for BadIdentifier {}

/// Checks that `value` can be sent as one path segment or query value:
/// not empty (after trimming), not `.` or `..`. Settings validation uses it
/// too, so a bad `experiment_id` is a settings error (exit 2).
pub fn check_identifier(name: &str, value: &str) -> Result<(), BadIdentifier> {
    let bad = |message: &str| BadIdentifier {
        name: name.to_string(),
        message: message.to_string(),
    };
    match value.trim() {
        "" => Err(bad("is empty")),
        "." | ".." => Err(bad(&format!(
            "{value:?} cannot be sent as an identifier: URL parsers drop or resolve it as a path step"
        ))),
        _ => Ok(()),
    }
}

/// `segment` percent-encoded as one path segment: every byte outside the
/// unreserved set of RFC 3986 (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`, so the
/// result holds no `/`, `?`, `#`, `%`, space or control character that a
/// parser could act on or drop.
pub fn encode_segment(segment: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

/// Builds a URL under an endpoint: `UrlBuilder::at(endpoint).route("a/b")
/// .id("experiment ID", id)?.route("stop").query("k", v).build()`.
#[derive(Debug, Clone)]
pub struct UrlBuilder {
    url: Url,
    /// The path so far, set on `url` once in [`UrlBuilder::build`]: the URL
    /// parser runs once per URL, not once per segment (run links for 5,000
    /// runs at the finish cost 20 ms that way).
    path: String,
}

impl UrlBuilder {
    /// Starts at `endpoint`, keeping its path prefix (self-managed installs
    /// sit behind one) and dropping any query string or fragment.
    pub fn at(endpoint: &Url) -> UrlBuilder {
        let mut url = endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        let path = url.path().trim_end_matches('/').to_string();
        UrlBuilder { url, path }
    }

    /// Appends `segments`, each percent-encoded by [`encode_segment`], so
    /// even a fixed route cannot carry `?` or `#` by mistake.
    ///
    /// Not `Url::path_segments_mut().push()`: the URL parser behind it
    /// silently drops tabs and line breaks and drops `.`/`..` segments, so
    /// an identifier would not always arrive as it was.
    fn push(&mut self, segments: &[&str]) {
        for s in segments {
            self.path.push('/');
            self.path.push_str(&encode_segment(s));
        }
    }

    /// Fixed path segments written in the code, such as
    /// `gateway/chaos/manager/api`. Never pass text read from anywhere.
    pub fn route(mut self, fixed: &'static str) -> UrlBuilder {
        for segment in fixed.split('/').filter(|s| !s.is_empty()) {
            self.push(&[segment]);
        }
        self
    }

    /// One identifier as exactly one path segment: `/`, `?`, `#`, `%` and
    /// everything else outside the unreserved set are percent-encoded.
    pub fn id(mut self, name: &str, value: &str) -> Result<UrlBuilder, BadIdentifier> {
        check_identifier(name, value)?;
        self.push(&[value]);
        Ok(self)
    }

    /// One query parameter; the value is form-encoded.
    pub fn query(mut self, key: &str, value: &str) -> UrlBuilder {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// One identifier as one query value; an empty one is refused (`.` and
    /// `..` are harmless in a query value).
    pub fn query_id(self, key: &str, name: &str, value: &str) -> Result<UrlBuilder, BadIdentifier> {
        if value.trim().is_empty() {
            return Err(BadIdentifier {
                name: name.to_string(),
                message: "is empty".to_string(),
            });
        }
        Ok(self.query(key, value))
    }

    pub fn build(mut self) -> Url {
        // Only when something was appended: a bare endpoint keeps its path
        // as given (a trailing slash included).
        if self.path != self.url.path().trim_end_matches('/') {
            self.url.set_path(&self.path);
        }
        self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path segments, percent-decoded, as a server reads them.
    fn segments(url: &Url) -> Vec<String> {
        url.path_segments()
            .map(|s| s.map(decode).collect())
            .unwrap_or_default()
    }

    fn decode(text: &str) -> String {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    }

    fn stop(endpoint: &str, id: &str) -> Result<Url, BadIdentifier> {
        let e = Url::parse(endpoint).unwrap();
        Ok(UrlBuilder::at(&e)
            .route("gateway/chaos/manager/api/rest/v2/experiment")
            .id("experiment ID", id)?
            .route("stop")
            .query("notifyId", id)
            .build())
    }

    #[test]
    fn an_identifier_is_one_segment_decoded_back_intact() {
        for id in [
            "../../x", "a/b", "%2e%2e", "a?b#c", "é x", ".%2e", "a+b", "..a", "...",
        ] {
            let url = stop("https://h.example/prefix/", id).unwrap();
            assert_eq!(url.host_str(), Some("h.example"));
            let s = segments(&url);
            assert_eq!(
                s,
                [
                    "prefix",
                    "gateway",
                    "chaos",
                    "manager",
                    "api",
                    "rest",
                    "v2",
                    "experiment",
                    id,
                    "stop"
                ],
                "{url}"
            );
            let notify: Vec<_> = url.query_pairs().collect();
            assert_eq!(notify.len(), 1, "{url}");
            assert_eq!(notify[0].1, id, "{url}");
            assert!(url.fragment().is_none(), "{url}");
        }
    }

    #[test]
    fn empty_and_dot_identifiers_are_refused() {
        for id in ["", " ", ".", ".."] {
            let e = stop("https://h.example", id).unwrap_err();
            assert!(e.to_string().starts_with("experiment ID"), "{e}");
        }
    }

    #[test]
    fn the_endpoint_keeps_its_prefix_and_loses_its_query() {
        let e = Url::parse("https://h.example/prefix?x=1#frag").unwrap();
        let url = UrlBuilder::at(&e).route("api/query").build();
        assert_eq!(url.as_str(), "https://h.example/prefix/api/query");
        let e = Url::parse("https://h.example").unwrap();
        let url = UrlBuilder::at(&e).route("/api/query/").build();
        assert_eq!(url.as_str(), "https://h.example/api/query");
    }
}
