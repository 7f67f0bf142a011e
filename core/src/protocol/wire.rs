//! Small helpers to read KSeF JSON responses with typed errors, and secret strings.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode};
use crate::http::Response;
use crate::model::DateTime;

/// A secret text (a KSeF token, an access or refresh token): wiped on drop, `Debug` and
/// `Display`-free so it cannot reach a log by accident. Read it with [`SecretString::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> SecretString {
        SecretString(Zeroizing::new(s.into()))
    }

    /// The secret itself (do not log it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for an empty secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> SecretString {
        SecretString::new(s)
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> SecretString {
        SecretString::new(s)
    }
}

/// An error about a response we cannot use (`what` names the call, `path` the field).
pub(crate) fn bad(what: &str, path: &str, why: impl Into<String>) -> Error {
    Error::new(
        ErrorCode::BadResponse,
        path,
        format!("{what}: {}", why.into()),
    )
}

/// The body of a response as JSON.
pub(crate) fn json(resp: &Response, what: &str) -> Result<Value, Error> {
    serde_json::from_slice(&resp.body)
        .map_err(|e| bad(what, "", format!("the body is not JSON: {e}")))
}

/// A string field at `path` (dot-separated).
pub(crate) fn str_at<'a>(v: &'a Value, path: &str, what: &str) -> Result<&'a str, Error> {
    at(v, path)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(what, path, "a text field is missing"))
}

/// An optional string field at `path`.
pub(crate) fn opt_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// An integer field at `path`.
pub(crate) fn int_at(v: &Value, path: &str, what: &str) -> Result<i64, Error> {
    at(v, path)
        .and_then(|x| {
            x.as_i64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| bad(what, path, "a number field is missing"))
}

/// A date-time field at `path`, as Unix milliseconds.
pub(crate) fn time_ms_at(v: &Value, path: &str, what: &str) -> Result<u64, Error> {
    let s = str_at(v, path, what)?;
    let dt: DateTime = s
        .parse()
        .map_err(|e: &str| bad(what, path, format!("`{s}`: {e}")))?;
    Ok(u64::try_from(dt.unix_seconds())
        .unwrap_or(0)
        .saturating_mul(1000))
}

/// The value at a dot-separated path.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// The array at `path` (missing or null → empty).
pub(crate) fn array_at<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A KSeF `StatusInfo` (`{code, description, details}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    /// `code`.
    pub code: i64,
    /// `description`.
    pub description: String,
    /// `details` (may be empty).
    pub details: Vec<String>,
}

impl StatusInfo {
    pub(crate) fn read(v: &Value, path: &str, what: &str) -> Result<StatusInfo, Error> {
        let s = at(v, path).ok_or_else(|| bad(what, path, "the status is missing"))?;
        Ok(StatusInfo {
            code: int_at(s, "code", what)?,
            description: opt_str(s, "description").unwrap_or_default().to_string(),
            details: array_at(s, "details")
                .iter()
                .filter_map(|d| d.as_str().map(String::from))
                .collect(),
        })
    }

    /// `code description (details…)` for messages.
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.code, self.description);
        if !self.details.is_empty() {
            s.push_str(" (");
            s.push_str(&self.details.join("; "));
            s.push(')');
        }
        s
    }
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
pub(crate) fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
