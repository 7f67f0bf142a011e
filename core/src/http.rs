//! HTTP as plain data: requests, responses, the pluggable [`Transport`], and KSeF API errors.
//!
//! The core never opens a socket. A protocol step produces a [`Request`]; the host sends it
//! with any HTTP client (or the built-in transport of the `std` crates) and hands the
//! [`Response`] back. Error responses become an [`ApiError`], which reads every error body
//! KSeF 2.0 sends:
//!
//! - the legacy `ExceptionResponse` (`application/json`, deprecated in the OpenAPI):
//!   `{"exception":{"exceptionDetailList":[{"exceptionCode","exceptionDescription","details"}],
//!   "referenceNumber","serviceCode",…}}`;
//! - RFC 9457 problem details (`application/problem+json`, always for 401/403/410, for
//!   400/429 when the request carries `X-Error-Format: problem-details`):
//!   `{"title","status","detail","errors":[{"code","description","details"}],"reasonCode",
//!   "traceId","timestamp",…}`;
//! - the 429 body `{"status":{"code":429,"description","details":[…]}}`.
//!
//! Secrets stay out of `Debug`: the `Authorization` header and any header whose name
//! contains `token` print as `[redacted]`, the query string of a URL (pre-signed upload and
//! download URLs carry a signature there) prints as `?[redacted]`, and bodies print as their
//! length only (a redeem response or a `/tokens` response carries tokens).
//!
//! ```
//! use ksef::http::{Method, Request, Response, ApiError};
//! use ksef::Environment;
//!
//! let body = serde_json::json!({"challenge": "20250514-CR-226FB7B000-3ACF9BE4C0-10"});
//! let req = Request::json(Method::Post, Environment::Test.api_base_url(), "/auth/ksef-token",
//!     &body)?
//!     .with_bearer("eyJhbGciOi...")
//!     .with_problem_details();
//! assert_eq!(req.url, "https://api-test.ksef.mf.gov.pl/v2/auth/ksef-token");
//! assert_eq!(req.header("content-type"), Some("application/json"));
//! assert!(!format!("{req:?}").contains("eyJhbGciOi"));
//!
//! let resp = Response::new(429, vec![("Retry-After".into(), "30".into())],
//!     br#"{"status":{"code":429,"description":"Too Many Requests","details":[]}}"#.to_vec());
//! let err = ApiError::from_response(&resp, 0);
//! assert_eq!(err.retry_after_ms, Some(30_000));
//! assert_eq!(ksef::Error::from(err).code(), ksef::ErrorCode::RateLimited);
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::Value;

use crate::error::{Error, ErrorCode};
use crate::id::KsefNumber;
use crate::model::{Date, DateTime};

/// The longest excerpt of an unrecognised error body kept in [`ApiError::detail`].
const EXCERPT_CHARS: usize = 300;

/// An HTTP method used by the KSeF API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT` (batch part upload to a pre-signed URL).
    Put,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method name as sent on the wire (`"GET"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Idempotent in the sense of RFC 9110 §9.2.2 (`GET`, `PUT`, `DELETE`): sending it twice
    /// has the effect of sending it once, so it may be repeated after a lost response.
    pub const fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of the first header called `name` (ASCII case-insensitive), if any.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a header's value must never be printed: credentials and tokens.
pub fn is_secret_header(name: &str) -> bool {
    const SECRET: [&str; 4] = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ];
    SECRET.iter().any(|s| name.eq_ignore_ascii_case(s))
        || name.to_ascii_lowercase().contains("token")
}

/// Prints headers with secret values replaced by `[redacted]`.
struct RedactedHeaders<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            if is_secret_header(name) {
                list.entry(&(name, "[redacted]"));
            } else {
                list.entry(&(name, value));
            }
        }
        list.finish()
    }
}

/// Prints a URL without its query string (pre-signed URLs carry a signature there).
struct RedactedUrl<'a>(&'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once('?') {
            Some((path, _)) => write!(f, "\"{path}?[redacted]\""),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// Prints a body as its length only.
struct BodyLen(usize);

impl fmt::Debug for BodyLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// An HTTP request, as data. `Debug` hides credentials, URL queries and the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL (`https://api.ksef.mf.gov.pl/v2/auth/challenge`).
    pub url: String,
    /// Header names and values, in order; names compare case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A request to `base` + `path` (one `/` between them) with `Accept: application/json`.
    pub fn api(method: Method, base: &str, path: &str) -> Request {
        let base = base.trim_end_matches('/');
        let path = path.trim_start_matches('/');
        Request::new(method, format!("{base}/{path}")).with_header("Accept", "application/json")
    }

    /// A request to `base` + `path` with `body` as JSON (`Content-Type: application/json`).
    ///
    /// Fails with [`ErrorCode::JsonSyntax`] if the value cannot be written (it always can for
    /// a `serde_json::Value` built from valid strings).
    pub fn json(method: Method, base: &str, path: &str, body: &Value) -> Result<Request, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::new(
                ErrorCode::JsonSyntax,
                path,
                format!("cannot write the body: {e}"),
            )
        })?;
        let mut req =
            Request::api(method, base, path).with_header("Content-Type", "application/json");
        req.body = bytes;
        Ok(req)
    }

    /// Adds a header (an existing one of the same name is replaced).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        set_header(&mut self.headers, name.into(), value.into());
        self
    }

    /// Adds `Authorization: Bearer <token>` (an authentication, access or refresh token).
    pub fn with_bearer(self, token: &str) -> Request {
        self.with_header("Authorization", format!("Bearer {token}"))
    }

    /// Asks KSeF for RFC 9457 problem details on errors (`X-Error-Format: problem-details`).
    pub fn with_problem_details(self) -> Request {
        self.with_header("X-Error-Format", "problem-details")
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Whether the request may be repeated after a lost response without a second effect:
    /// true for idempotent methods (`GET`, `PUT`, `DELETE`). A `POST` that the caller knows to
    /// be harmless to repeat is passed to [`crate::retry::RetryPolicy::decide`] as such.
    pub fn is_idempotent(&self) -> bool {
        self.method.is_idempotent()
    }
}

fn set_header(headers: &mut Vec<(String, String)>, name: String, value: String) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    headers.push((name, value));
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &RedactedUrl(&self.url))
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &BodyLen(self.body.len()))
            .finish()
    }
}

/// An HTTP response, as data. `Debug` hides credentials and the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names and values, in order; names compare case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response.
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        Response {
            status,
            headers,
            body,
        }
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// How long to wait, in milliseconds, by the `Retry-After` header (delta-seconds or an
    /// HTTP-date, compared with `now_ms`); `None` when absent or unreadable.
    pub fn retry_after_ms(&self, now_ms: u64) -> Option<u64> {
        parse_retry_after(self.header("retry-after")?, now_ms)
    }

    /// `Ok(self)` for a 2xx status, otherwise the body read as an [`ApiError`] and mapped to
    /// an [`Error`].
    pub fn error_for_status(self, now_ms: u64) -> Result<Response, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(ApiError::from_response(&self, now_ms).into())
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &BodyLen(self.body.len()))
            .finish()
    }
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No response in time (connect, write or read).
    Timeout,
    /// The connection could not be established (DNS, refused, unreachable).
    Connect,
    /// The connection broke while sending or receiving.
    Io,
    /// The TLS handshake or a certificate check failed.
    Tls,
    /// The response body is larger than the transport accepts.
    ResponseTooLarge,
    /// Anything else the transport reports.
    Other,
}

/// A failure to exchange a request and a response. The message must not carry secrets
/// (transports should not copy request headers into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// In words, from the transport.
    pub message: String,
}

impl TransportError {
    /// A transport error.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Connect => "cannot connect",
            TransportErrorKind::Io => "connection failed",
            TransportErrorKind::Tls => "TLS failed",
            TransportErrorKind::ResponseTooLarge => "response too large",
            TransportErrorKind::Other => "transport failed",
        };
        if self.message.is_empty() {
            f.write_str(what)
        } else {
            write!(f, "{what}: {}", self.message)
        }
    }
}

impl core::error::Error for TransportError {}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Error {
        let code = match e.kind {
            TransportErrorKind::Timeout => ErrorCode::Timeout,
            _ => ErrorCode::Transport,
        };
        Error::new(code, "", e.to_string())
    }
}

/// Sends one request and returns its response: the seam between the sans-IO protocol and
/// the network. Implementations follow redirects or not as they like, but must return any
/// status (4xx, 5xx included) as a [`Response`], keeping [`TransportError`] for failures
/// below HTTP.
pub trait Transport {
    /// Sends `request` and waits for the whole response.
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        (**self).send(request)
    }
}

/// Reads a `Retry-After` value (RFC 9110 §10.2.3) as a delay in milliseconds from `now_ms`
/// (Unix milliseconds): delta-seconds (`"30"`, what KSeF sends) or an HTTP-date (IMF-fixdate,
/// RFC 850 or asctime form). A date in the past gives 0. `None` when unreadable.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurdly long delays instead of failing; the deadline decides.
        let secs = v
            .bytes()
            .try_fold(0u64, |acc, b| {
                acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
            })
            .unwrap_or(u64::MAX);
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(v)?;
    let at_ms = u64::try_from(at).ok()?.saturating_mul(1000);
    Some(at_ms.saturating_sub(now_ms))
}

/// An HTTP-date (RFC 9110 §5.6.7) as Unix seconds: `Sun, 06 Nov 1994 08:49:37 GMT`,
/// `Sunday, 06-Nov-94 08:49:37 GMT` or `Sun Nov  6 08:49:37 1994`.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let mut parts = s.split_ascii_whitespace();
    let first = parts.next()?;
    let (year, month, day, time) = if let Some(wkday) = first.strip_suffix(',') {
        if !wkday.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let second = parts.next()?;
        if second.contains('-') {
            // RFC 850: 06-Nov-94 08:49:37 GMT
            let mut d = second.split('-');
            let (day, mon, yy) = (d.next()?, d.next()?, d.next()?);
            if d.next().is_some() || yy.len() != 2 {
                return None;
            }
            let yy = number(yy)?;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century;
            // without a clock, read 00-69 as 20xx.
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (year, month_number(mon)?, number(day)?, parts.next()?)
        } else {
            let mon = parts.next()?;
            let year = parts.next()?;
            if year.len() != 4 {
                return None;
            }
            (
                number(year)?,
                month_number(mon)?,
                number(second)?,
                parts.next()?,
            )
        }
    } else {
        // asctime: Sun Nov  6 08:49:37 1994
        if !first.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let mon = parts.next()?;
        let day = parts.next()?;
        let time = parts.next()?;
        let year = parts.next()?;
        if year.len() != 4 || parts.next().is_some() {
            return None;
        }
        return civil(number(year)?, month_number(mon)?, number(day)?, time);
    };
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    civil(year, month, day, time)
}

fn civil(year: u32, month: u8, day: u32, time: &str) -> Option<i64> {
    let date = Date::new(u16::try_from(year).ok()?, month, u8::try_from(day).ok()?)?;
    let t = time.as_bytes();
    if t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (h, m, s) = (
        number(&time[..2])?,
        number(&time[3..5])?,
        number(&time[6..])?,
    );
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(DateTime::utc_seconds_of(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
        i64::from(h),
        i64::from(m),
        i64::from(s),
    ))
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn month_number(s: &str) -> Option<u8> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let i = MONTHS.iter().position(|m| *m == s)?;
    u8::try_from(i + 1).ok()
}

/// Which error body KSeF sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// The legacy `ExceptionResponse` (`{"exception":{"exceptionDetailList":[…]}}`).
    Exception,
    /// RFC 9457 problem details (`application/problem+json`).
    ProblemDetails,
    /// A status object (`{"status":{"code","description","details"}}`, the 429 body).
    Status,
    /// Anything else: empty, not JSON, or an unknown shape (an HTML page from a proxy).
    Unknown,
}

/// One KSeF error: an exception code (`21405`) with its description and details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErrorDetail {
    /// The KSeF exception code (`exceptionCode` / `code`), 0 when absent.
    pub code: u32,
    /// The description of the code (`exceptionDescription` / `description`).
    pub description: String,
    /// Specific messages about this occurrence (`details`).
    pub details: Vec<String>,
}

/// An error response from the KSeF API, read from any of its error body formats.
///
/// `Display` names the HTTP status, each KSeF exception code with its description and
/// details, and the wait asked for by `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Which body format was read.
    pub format: ErrorFormat,
    /// The KSeF errors, in the order sent (may be empty: 401/403/410/429 problem details
    /// carry only `title` and `detail`).
    pub codes: Vec<ApiErrorDetail>,
    /// Problem details `title` (`"Bad Request"`).
    pub title: Option<String>,
    /// Problem details `detail`, or the start of an unrecognised body.
    pub detail: Option<String>,
    /// 403 problem details `reasonCode` (`missing-permissions`, `ip-not-allowed`, …).
    pub reason_code: Option<String>,
    /// `serviceCode` of an `ExceptionResponse` (quote it to KSeF support).
    pub service_code: Option<String>,
    /// `referenceNumber` of an `ExceptionResponse`.
    pub reference_number: Option<String>,
    /// Problem details `traceId` (quote it to KSeF support).
    pub trace_id: Option<String>,
    /// When KSeF says the error happened (`timestamp`), as sent.
    pub timestamp: Option<String>,
    /// The wait asked for by `Retry-After`, in milliseconds.
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    /// Reads an error response; `now_ms` (Unix milliseconds) turns an HTTP-date
    /// `Retry-After` into a delay. Never fails: an unreadable body gives
    /// [`ErrorFormat::Unknown`] with the start of the body in `detail`.
    pub fn from_response(response: &Response, now_ms: u64) -> ApiError {
        let mut e = ApiError::from_body(response.status, &response.body);
        e.retry_after_ms = response.retry_after_ms(now_ms);
        e
    }

    /// Reads an error body for HTTP `status` (without headers: no `retry_after_ms`).
    pub fn from_body(status: u16, body: &[u8]) -> ApiError {
        let mut e = ApiError {
            status,
            format: ErrorFormat::Unknown,
            codes: Vec::new(),
            title: None,
            detail: None,
            reason_code: None,
            service_code: None,
            reference_number: None,
            trace_id: None,
            timestamp: None,
            retry_after_ms: None,
        };
        let value: Option<Value> = serde_json::from_slice(body).ok();
        match value.as_ref().and_then(Value::as_object) {
            Some(obj) if obj.get("exception").is_some_and(Value::is_object) => {
                e.format = ErrorFormat::Exception;
                let ex = &obj["exception"];
                if let Some(list) = ex.get("exceptionDetailList").and_then(Value::as_array) {
                    e.codes = list
                        .iter()
                        .map(|d| detail_of(d, "exceptionCode", "exceptionDescription"))
                        .collect();
                }
                e.service_code = string(ex, "serviceCode");
                e.reference_number = string(ex, "referenceNumber");
                e.timestamp = string(ex, "timestamp");
            }
            Some(obj) if obj.get("status").is_some_and(Value::is_object) => {
                e.format = ErrorFormat::Status;
                e.codes
                    .push(detail_of(&obj["status"], "code", "description"));
            }
            Some(obj)
                if obj.contains_key("title")
                    || obj.contains_key("detail")
                    || obj.contains_key("errors") =>
            {
                e.format = ErrorFormat::ProblemDetails;
                let v = value.as_ref().unwrap_or(&Value::Null);
                if let Some(list) = obj.get("errors").and_then(Value::as_array) {
                    e.codes = list
                        .iter()
                        .map(|d| detail_of(d, "code", "description"))
                        .collect();
                }
                e.title = string(v, "title");
                e.detail = string(v, "detail");
                e.reason_code = string(v, "reasonCode");
                e.trace_id = string(v, "traceId");
                e.timestamp = string(v, "timestamp");
            }
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if !text.is_empty() {
                    e.detail = Some(text.chars().take(EXCERPT_CHARS).collect());
                }
            }
        }
        e
    }

    /// Whether any of the KSeF errors has exception code `code`.
    pub fn has_code(&self, code: u32) -> bool {
        self.codes.iter().any(|d| d.code == code)
    }

    /// The stable error code this response maps to.
    pub fn error_code(&self) -> ErrorCode {
        match self.status {
            429 => ErrorCode::RateLimited,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            408 => ErrorCode::Timeout,
            500..=599 => ErrorCode::ServerError,
            _ => ErrorCode::ApiError,
        }
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(String::from)
}

fn detail_of(v: &Value, code_key: &str, description_key: &str) -> ApiErrorDetail {
    ApiErrorDetail {
        code: v
            .get(code_key)
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(0),
        description: string(v, description_key).unwrap_or_default(),
        details: v
            .get("details")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KSeF API error (HTTP {})", self.status)?;
        let mut sep = ": ";
        for d in &self.codes {
            write!(f, "{sep}{} {}", d.code, d.description)?;
            if !d.details.is_empty() {
                write!(f, " ({})", d.details.join("; "))?;
            }
            sep = "; ";
        }
        if self.codes.is_empty() {
            if let Some(t) = &self.title {
                write!(f, "{sep}{t}")?;
                sep = " — ";
            }
            if let Some(r) = &self.reason_code {
                write!(f, "{sep}[{r}]")?;
                sep = " ";
            }
            if let Some(d) = &self.detail {
                write!(f, "{sep}{d}")?;
            }
        }
        if let Some(ms) = self.retry_after_ms {
            write!(f, "; retry after {} s", ms.div_ceil(1000))?;
        }
        if let Some(s) = self.service_code.as_ref().or(self.trace_id.as_ref()) {
            write!(f, " [trace {s}]")?;
        }
        Ok(())
    }
}

impl core::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::new(e.error_code(), "", e.to_string())
    }
}

/// An invoice that KSeF rejected as a duplicate (invoice status 440, "Duplikat faktury"):
/// the same seller NIP, invoice type and number (`P_2`) is already in KSeF.
///
/// After a resend that followed a lost response this usually means the first send worked:
/// the original KSeF number is then the invoice's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDuplicate {
    /// The KSeF number of the invoice already in KSeF, when KSeF says it.
    pub original_ksef_number: Option<KsefNumber>,
    /// The reference number of the session the original was sent in, when KSeF says it.
    pub original_session_reference_number: Option<String>,
}

impl InvoiceDuplicate {
    /// The invoice status code for a duplicate.
    pub const STATUS_CODE: u64 = 440;

    /// Recognises a duplicate in an invoice `status` object
    /// (`{"code":440,"description":"Duplikat faktury","details":[…],"extensions":{…}}`) from
    /// `GET /sessions/{ref}/invoices/{invoiceRef}` or the failed-invoice list. The original
    /// numbers come from `extensions` (`originalKsefNumber`, `originalSessionReferenceNumber`)
    /// or, for older responses, from the free text of `details`.
    ///
    /// Only for invoice statuses: a *session* status 440 means "cancelled".
    pub fn from_invoice_status(status: &Value) -> Option<InvoiceDuplicate> {
        let code = status.get("code").and_then(Value::as_u64);
        let description = status
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let says_duplicate = description.to_lowercase().contains("duplikat");
        if code != Some(Self::STATUS_CODE) && !(code.is_none() && says_duplicate) {
            return None;
        }
        let ext = status.get("extensions");
        let ext_str = |k: &str| ext.and_then(|e| e.get(k)).and_then(Value::as_str);
        let details: Vec<&str> = status
            .get("details")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let original_ksef_number = ext_str("originalKsefNumber")
            .and_then(|s| KsefNumber::parse(s.trim()).ok())
            .or_else(|| details.iter().find_map(|d| ksef_number_in(d)));
        let original_session_reference_number = ext_str("originalSessionReferenceNumber")
            .map(String::from)
            .or_else(|| details.iter().find_map(|d| reference_number_in(d)));
        Some(InvoiceDuplicate {
            original_ksef_number,
            original_session_reference_number,
        })
    }

    /// As an [`Error`] with code [`ErrorCode::Duplicate`] naming the original.
    pub fn to_error(&self) -> Error {
        let mut msg = String::from("KSeF rejected the invoice as a duplicate (status 440)");
        if let Some(n) = &self.original_ksef_number {
            msg.push_str(&format!(": the original has KSeF number {n}"));
        }
        if let Some(r) = &self.original_session_reference_number {
            msg.push_str(&format!(", sent in session {r}"));
        }
        Error::new(ErrorCode::Duplicate, "", msg)
    }
}

/// Words of free text, split at anything that cannot be part of a KSeF or reference number.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-'))
        .filter(|w| !w.is_empty())
}

/// The first valid KSeF number (checksum included) in free text.
pub fn ksef_number_in(text: &str) -> Option<KsefNumber> {
    words(text)
        .filter(|w| w.len() == KsefNumber::LEN)
        .find_map(|w| KsefNumber::parse(w).ok())
}

/// The first KSeF reference number (`20250626-SO-2F14610000-242991F8C9-B4`) in free text.
pub fn reference_number_in(text: &str) -> Option<String> {
    words(text)
        .find(|w| is_reference_number(w))
        .map(ToString::to_string)
}

/// `\d{8}-[A-Z]{2}-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}`.
fn is_reference_number(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            0..=7 => c.is_ascii_digit(),
            8 | 11 | 22 | 33 => c == b'-',
            9 | 10 => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit() || (b'A'..=b'F').contains(&c),
        })
}
