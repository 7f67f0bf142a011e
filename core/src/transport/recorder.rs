//! [`Recorder`]: writes every exchange of a transport to a directory, secrets removed, for
//! the OpenAPI conformance check (`tools/check_openapi.py`, `make openapi-check`).

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::http::{
    is_secret_header, Request, Response, Transport, TransportError, TransportErrorKind,
};

/// What secret strings in a JSON body are replaced with (still a valid `string`).
pub const REDACTED: &str = "[redacted]";
/// What secret `format: byte` strings are replaced with (Base64 of `REDACTED`).
pub const REDACTED_BASE64: &str = "UkVEQUNURUQ=";

/// Wraps a transport and writes each exchange to `dir` as `<prefix>NNNNN.json`:
///
/// ```json
/// {"method":"POST","api":true,"path":"/auth/challenge","query":"",
///  "request":{"headers":[["Accept","application/json"]],"body":{…}},
///  "response":{"status":200,"headers":[…],"body":{…}},"error":null}
/// ```
///
/// `path` is relative to the API base given to [`Recorder::new`] (`/v2` stripped: the
/// OpenAPI path form); a URL outside the base (a pre-signed upload or download URL) is
/// recorded with `"api": false`, its host and path only. Secrets are never written: the
/// values of `Authorization`, cookies and any header whose name has `token` in it become
/// `[redacted]` (the name is kept, so the check can see an `Authorization` header that must
/// not be there); in JSON bodies every `token` string becomes `[redacted]` and every
/// `encryptedToken` the Base64 of `REDACTED`, which keep the shape the OpenAPI schemas ask
/// for. JSON bodies are stored as JSON; any other body as `{"note", "length", "sha256"}`.
/// A failed exchange is written with `"response": null` and the error kind.
///
/// Files are created exclusively, so recorders of parallel tests may share a directory. A
/// file that cannot be written fails the exchange ([`TransportErrorKind::Other`]): a
/// conformance check must not pass on traffic that was silently lost.
pub struct Recorder<T: Transport> {
    inner: T,
    dir: PathBuf,
    api_base: String,
    prefix: String,
    next: u32,
}

impl<T: Transport> Recorder<T> {
    /// Records the exchanges of `inner` into `dir` (created if missing). `api_base` is the
    /// API base URL (`http://127.0.0.1:8080/v2`, [`crate::Environment::api_base_url`]).
    pub fn new(inner: T, dir: impl AsRef<Path>, api_base: &str) -> Recorder<T> {
        Recorder {
            inner,
            dir: dir.as_ref().to_path_buf(),
            api_base: api_base.trim_end_matches('/').to_string(),
            prefix: String::new(),
            next: 0,
        }
    }

    /// Starts file names with `prefix` (a test's name), before the 5-digit number.
    pub fn with_prefix(mut self, prefix: &str) -> Recorder<T> {
        self.prefix = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self
    }

    /// The wrapped transport.
    pub fn inner(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the transport.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The JSON record of one exchange (what is written to the file).
    pub fn record(&self, request: &Request, result: &Result<Response, TransportError>) -> Value {
        let (api, path, query) = split_url(&request.url, &self.api_base);
        let (response, error) = match result {
            Ok(r) => (
                json!({
                    "status": r.status,
                    "headers": headers(&r.headers),
                    "body": body(&r.headers, &r.body),
                }),
                Value::Null,
            ),
            Err(e) => (Value::Null, Value::String(format!("{:?}", e.kind))),
        };
        json!({
            "method": request.method.as_str(),
            "api": api,
            "path": path,
            "query": query,
            "request": {
                "headers": headers(&request.headers),
                "body": body(&request.headers, &request.body),
            },
            "response": response,
            "error": error,
        })
    }

    fn write(&mut self, record: &Value) -> Result<(), TransportError> {
        let fail = |what: &str, e: std::io::Error| {
            TransportError::new(
                TransportErrorKind::Other,
                format!("recorder: cannot {what} {}: {e}", self.dir.display()),
            )
        };
        fs::create_dir_all(&self.dir).map_err(|e| fail("create", e))?;
        let text = serde_json::to_vec_pretty(record).map_err(|e| {
            TransportError::new(TransportErrorKind::Other, format!("recorder: {e}"))
        })?;
        loop {
            let name = format!("{}{:05}.json", self.prefix, self.next);
            self.next += 1;
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.dir.join(&name))
            {
                Ok(mut f) => return f.write_all(&text).map_err(|e| fail("write into", e)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail("create a file in", e)),
            }
        }
    }
}

impl<T: Transport> Transport for Recorder<T> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let result = self.inner.send(request);
        let record = self.record(request, &result);
        self.write(&record)?;
        result
    }
}

impl<T: Transport + fmt::Debug> fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("inner", &self.inner)
            .field("dir", &self.dir)
            .field("next", &self.next)
            .finish()
    }
}

/// `(is_api, path, query)`. API URLs: the path after the base, the query kept (page sizes,
/// filters). Other URLs: `host/path` with the query replaced by `[redacted]` (signatures).
fn split_url(url: &str, base: &str) -> (bool, String, String) {
    let (no_fragment, _) = url.split_once('#').unwrap_or((url, ""));
    let (path, query) = no_fragment.split_once('?').unwrap_or((no_fragment, ""));
    if let Some(rest) = path.strip_prefix(base) {
        if rest.is_empty() || rest.starts_with('/') {
            let rest = if rest.is_empty() { "/" } else { rest };
            return (true, rest.to_string(), query.to_string());
        }
    }
    let host_path = path.split_once("://").map_or(path, |(_, r)| r);
    let host_path = host_path.rsplit_once('@').map_or(host_path, |(_, h)| h);
    let query = if query.is_empty() { "" } else { REDACTED };
    (false, host_path.to_string(), query.to_string())
}

fn headers(h: &[(String, String)]) -> Value {
    Value::Array(
        h.iter()
            .map(|(n, v)| {
                let v = if is_secret_header(n) { REDACTED } else { v };
                json!([n, v])
            })
            .collect(),
    )
}

fn body(headers: &[(String, String)], bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let ct = crate::http::header(headers, "content-type").unwrap_or("");
    let is_json = ct.is_empty() || ct.contains("json");
    if is_json {
        if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
            redact_json(&mut v);
            return json!({ "json": v });
        }
    }
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let note = if is_json {
        "not JSON although the content type says so"
    } else {
        "not JSON: only its length and hash are kept"
    };
    json!({ "note": note, "content_type": ct, "length": bytes.len(), "sha256": hex })
}

/// Replaces secret strings anywhere in a JSON value.
fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => redact_object(map),
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

fn redact_object(map: &mut Map<String, Value>) {
    for (k, v) in map.iter_mut() {
        match (k.as_str(), &*v) {
            ("token", Value::String(_)) => *v = Value::String(REDACTED.into()),
            ("encryptedToken", Value::String(_)) => *v = Value::String(REDACTED_BASE64.into()),
            _ => redact_json(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn urls_split_into_api_paths_and_redacted_foreign_urls() {
        let base = "http://127.0.0.1:9/v2";
        assert_eq!(
            split_url(
                "http://127.0.0.1:9/v2/sessions/X/invoices?pageSize=10",
                base
            ),
            (true, "/sessions/X/invoices".into(), "pageSize=10".into())
        );
        assert_eq!(
            split_url("http://127.0.0.1:9/v2", base),
            (true, "/".into(), "".into())
        );
        // Not under the base: /v2x is not /v2.
        assert!(!split_url("http://127.0.0.1:9/v2x/a", base).0);
        let (api, path, query) = split_url("https://blob.example/u/part1?sig=SECRET&se=2025", base);
        assert!(!api);
        assert_eq!(path, "blob.example/u/part1");
        assert_eq!(query, REDACTED);
    }

    #[test]
    fn tokens_in_bodies_are_redacted_keeping_the_shape() {
        let h = vec![("Content-Type".to_string(), "application/json".to_string())];
        let b = br#"{"accessToken":{"token":"eyJSECRET","validUntil":"2025-01-01T00:00:00Z"},
            "encryptedToken":"c2VjcmV0","continuationToken":"page2","n":[{"token":"x"}]}"#;
        let v = body(&h, b);
        let s = v.to_string();
        assert!(!s.contains("eyJSECRET") && !s.contains("c2VjcmV0"), "{s}");
        assert_eq!(v["json"]["accessToken"]["token"], REDACTED);
        assert_eq!(
            v["json"]["accessToken"]["validUntil"],
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(v["json"]["encryptedToken"], REDACTED_BASE64);
        assert_eq!(v["json"]["continuationToken"], "page2");
        assert_eq!(v["json"]["n"][0]["token"], REDACTED);
    }

    #[test]
    fn non_json_bodies_keep_only_length_and_hash() {
        let h = vec![("Content-Type".to_string(), "application/xml".to_string())];
        let v = body(&h, b"<a/>");
        assert_eq!(v["length"], 4);
        assert_eq!(
            v["sha256"],
            "29114363f749a0226b6988dda3ca2492a954117ab6b5f382706c20300dabc079"
        );
        assert_eq!(v["content_type"], "application/xml");
        assert!(v.get("json").is_none());
    }
}
