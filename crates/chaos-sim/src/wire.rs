//! What a request and its answer weigh on the wire (HTTP/1.1, both
//! directions), for benchmarks: computed from what hyper parsed and will
//! write, byte for byte the same lengths as on the socket.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::http::request::Parts;

/// `name: value\r\n` for every header.
fn headers(h: &hyper::HeaderMap) -> u64 {
    h.iter()
        .map(|(k, v)| (k.as_str().len() + 2 + v.as_bytes().len() + 2) as u64)
        .sum()
}

/// Request line, headers and the blank line.
pub(crate) fn request_head(parts: &Parts) -> u64 {
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path().len(), |p| p.as_str().len());
    // METHOD SP target SP HTTP/1.1 CRLF ... CRLF
    let line = parts.method.as_str().len() + 1 + target + 1 + 8 + 2;
    line as u64 + headers(&parts.headers) + 2
}

/// Status line, headers (with the `content-length` and `date` hyper adds),
/// the blank line and the body.
pub(crate) fn response(response: &Response<Full<Bytes>>, body: u64) -> u64 {
    let status = response.status();
    let reason = status.canonical_reason().unwrap_or("");
    // HTTP/1.1 SP code SP reason CRLF
    let line = 8 + 1 + 3 + 1 + reason.len() + 2;
    let mut head = line as u64 + headers(response.headers());
    if !response
        .headers()
        .contains_key(hyper::header::CONTENT_LENGTH)
    {
        head += format!("content-length: {body}\r\n").len() as u64;
    }
    if !response.headers().contains_key(hyper::header::DATE) {
        // date: Tue, 01 Dec 2026 12:00:00 GMT
        head += 6 + 29 + 2;
    }
    head + 2 + body
}
