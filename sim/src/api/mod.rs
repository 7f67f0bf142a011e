//! The KSeF 2.0 API service (mounted at `/v2`) and the pre-signed upload/download URLs.

mod auth;
mod certs;
mod inbox;
mod sessions;
mod upo;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine as _;
use ksef::crypto::{Certificate, PrivateKey};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};

use crate::faults::{FaultKind, Faults};
use crate::http::{Outcome, Request, Response, Service};
use crate::limits::{group_of, Limiter};
use crate::time::{now_ms, rfc3339};
use crate::SimConfig;

/// One invoice accepted by the sim (status 200), for test assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedInvoice {
    /// The KSeF number assigned.
    pub ksef_number: String,
    /// The seller's NIP (`Podmiot1`).
    pub seller_nip: String,
    /// The invoice number (`P_2`).
    pub invoice_number: String,
    /// Base64 SHA-256 of the invoice bytes.
    pub invoice_hash: String,
    /// The session it came in.
    pub session_reference_number: String,
}

/// One request seen by the sim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The method.
    pub method: String,
    /// The path (with the mount prefix, without the query).
    pub path: String,
    /// The status answered (0 = connection dropped).
    pub status: u16,
}

/// The sim's keys and certificates (committed fixtures: RSA key generation at start-up
/// would be far too slow in debug builds).
pub(crate) struct Keys {
    pub(crate) token_key: PrivateKey,
    pub(crate) token_cert: Certificate,
    pub(crate) sym_key: PrivateKey,
    pub(crate) sym_cert: Certificate,
    pub(crate) ca_key: p256::ecdsa::SigningKey,
    pub(crate) ca_cert: Certificate,
}

impl Keys {
    fn load() -> std::io::Result<Keys> {
        let bad = |what: &str, e: ksef::Error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("ksef-sim fixture {what}: {e}"),
            )
        };
        let key = |what: &str, pem: &str| PrivateKey::from_pem(pem).map_err(|e| bad(what, e));
        let cert = |what: &str, pem: &str| Certificate::from_pem(pem).map_err(|e| bad(what, e));
        let ca_key = match key(
            "sim-ca-key.pem",
            include_str!("../../fixtures/sim-ca-key.pem"),
        )? {
            PrivateKey::EcP256(k) => k,
            PrivateKey::Rsa(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "ksef-sim fixture sim-ca-key.pem: expected an EC P-256 key",
                ))
            }
        };
        Ok(Keys {
            token_key: key(
                "sim-token-key.pem",
                include_str!("../../fixtures/sim-token-key.pem"),
            )?,
            token_cert: cert(
                "sim-token-cert.pem",
                include_str!("../../fixtures/sim-token-cert.pem"),
            )?,
            sym_key: key(
                "sim-symmetric-key.pem",
                include_str!("../../fixtures/sim-symmetric-key.pem"),
            )?,
            sym_cert: cert(
                "sim-symmetric-cert.pem",
                include_str!("../../fixtures/sim-symmetric-cert.pem"),
            )?,
            ca_key,
            ca_cert: cert(
                "sim-ca-cert.pem",
                include_str!("../../fixtures/sim-ca-cert.pem"),
            )?,
        })
    }
}

/// An error answer of the API.
#[derive(Debug, Clone)]
pub(crate) struct ApiErr {
    pub(crate) status: u16,
    pub(crate) code: u32,
    pub(crate) description: String,
    pub(crate) details: Vec<String>,
    /// 403 `reasonCode`.
    pub(crate) reason: Option<&'static str>,
    /// 429 `Retry-After` seconds.
    pub(crate) retry_after: Option<u64>,
}

impl ApiErr {
    /// A 400 with a KSeF exception code.
    pub(crate) fn bad(code: u32, description: &str, detail: impl Into<String>) -> ApiErr {
        ApiErr {
            status: 400,
            code,
            description: description.to_string(),
            details: vec![detail.into()],
            reason: None,
            retry_after: None,
        }
    }

    /// 21405, input validation.
    pub(crate) fn invalid(detail: impl Into<String>) -> ApiErr {
        ApiErr::bad(21405, "Błąd walidacji danych wejściowych.", detail)
    }

    /// 401.
    pub(crate) fn unauthorized(detail: &str) -> ApiErr {
        ApiErr {
            status: 401,
            code: 0,
            description: "Unauthorized".into(),
            details: vec![detail.into()],
            reason: None,
            retry_after: None,
        }
    }

    /// 403 with a `reasonCode`.
    pub(crate) fn forbidden(reason: &'static str, detail: &str) -> ApiErr {
        ApiErr {
            status: 403,
            code: 0,
            description: "Forbidden".into(),
            details: vec![detail.into()],
            reason: Some(reason),
            retry_after: None,
        }
    }

    /// A status without a KSeF code (5xx, 501, 404).
    pub(crate) fn plain(status: u16, description: &str, detail: impl Into<String>) -> ApiErr {
        ApiErr {
            status,
            code: 0,
            description: description.into(),
            details: vec![detail.into()],
            reason: None,
            retry_after: None,
        }
    }

    /// 429.
    pub(crate) fn too_many(retry_after: u64, group: &str) -> ApiErr {
        ApiErr {
            status: 429,
            code: 429,
            description: "Too Many Requests".into(),
            details: vec![format!(
                "Przekroczono limit żądań dla grupy {group}. Spróbuj ponownie za {retry_after} s."
            )],
            reason: None,
            retry_after: Some(retry_after),
        }
    }

    /// 501: a feature the simulator deliberately does not have.
    pub(crate) fn not_simulated(what: &str) -> ApiErr {
        ApiErr::plain(
            501,
            "Not Implemented",
            format!("ksef-sim does not simulate {what}"),
        )
    }

    /// The response, in the format the request asked for (`X-Error-Format`).
    pub(crate) fn render(&self, req: &Request, path: &str) -> Response {
        let problem = req
            .header("X-Error-Format")
            .is_some_and(|v| v.eq_ignore_ascii_case("problem-details"));
        let now = rfc3339(now_ms());
        let trace = random_hex(16).to_ascii_lowercase();
        let instance = format!("/v2{path}");
        let detail = self.details.join(" ");
        let mut resp = match self.status {
            401 | 410 => Response::json(
                self.status,
                &json!({
                    "title": if self.status == 401 { "Unauthorized" } else { "Gone" },
                    "status": self.status,
                    "detail": detail,
                    "instance": instance,
                    "traceId": trace,
                    "timestamp": now,
                }),
            ),
            403 => Response::json(
                403,
                &json!({
                    "title": "Forbidden",
                    "status": 403,
                    "detail": detail,
                    "instance": instance,
                    "reasonCode": self.reason.unwrap_or("missing-permissions"),
                    "traceId": trace,
                    "timestamp": now,
                }),
            ),
            429 if problem => Response::json(
                429,
                &json!({
                    "title": "Too Many Requests",
                    "status": 429,
                    "instance": instance,
                    "detail": detail,
                    "timestamp": now,
                    "traceId": trace,
                }),
            ),
            429 => Response::json(
                429,
                &json!({"status": {
                    "code": 429,
                    "description": self.description,
                    "details": self.details,
                }}),
            ),
            400 if problem => Response::json(
                400,
                &json!({
                    "title": "Bad Request",
                    "status": 400,
                    "instance": instance,
                    "detail": self.description,
                    "errors": [{
                        "code": self.code,
                        "description": self.description,
                        "details": self.details,
                    }],
                    "timestamp": now,
                    "traceId": trace,
                }),
            ),
            _ => {
                let mut d = json!({
                    "exceptionDescription": self.description,
                    "details": self.details,
                });
                if self.code != 0 {
                    d["exceptionCode"] = json!(self.code);
                }
                Response::json(
                    self.status,
                    &json!({"exception": {
                        "exceptionDetailList": [d],
                        "serviceCode": trace,
                        "serviceCtx": "srvKSEFSIM",
                        "serviceName": "ksef-sim",
                        "timestamp": now,
                    }}),
                )
            }
        };
        if self.status == 401 || self.status == 403 || self.status == 410 || problem {
            if let Some(h) = resp.headers.first_mut() {
                h.1 = "application/problem+json".into();
            }
        }
        if let Some(s) = self.retry_after {
            resp = resp.with_header("Retry-After", s.to_string());
        }
        resp
    }
}

pub(crate) type ApiResult = Result<Response, ApiErr>;

/// The simulator's shared state.
pub(crate) struct Ksef {
    pub(crate) cfg: SimConfig,
    pub(crate) faults: Arc<Faults>,
    pub(crate) keys: Keys,
    limiter: Limiter,
    state: Mutex<State>,
    log: Mutex<Vec<LoggedRequest>>,
}

/// Everything that changes.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) auth: auth::AuthState,
    pub(crate) sessions: sessions::SessionsState,
    pub(crate) inbox: inbox::InboxState,
    pub(crate) certs: certs::CertState,
    /// Pre-signed downloads: token → (content type, body).
    pub(crate) downloads: HashMap<String, (String, Vec<u8>)>,
}

impl Ksef {
    pub(crate) fn new(cfg: SimConfig, faults: Arc<Faults>) -> std::io::Result<Ksef> {
        Ok(Ksef {
            cfg,
            faults,
            keys: Keys::load()?,
            limiter: Limiter::default(),
            state: Mutex::new(State::default()),
            log: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn accepted_invoices(&self) -> Vec<AcceptedInvoice> {
        self.lock().sessions.accepted.clone()
    }

    pub(crate) fn request_log(&self) -> Vec<LoggedRequest> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn record(&self, req: &Request, status: u16) {
        if self.cfg.log_requests {
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(LoggedRequest {
                    method: req.method.clone(),
                    path: req.path.clone(),
                    status,
                });
        }
    }

    /// Stores a body behind a pre-signed-style download URL (no token needed).
    pub(crate) fn publish(
        &self,
        st: &mut State,
        origin: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> String {
        let token = random_hex(24).to_ascii_lowercase();
        st.downloads
            .insert(token.clone(), (content_type.to_string(), body));
        format!("{origin}/download/{token}")
    }

    fn dispatch(&self, path: &str, req: &Request) -> ApiResult {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let m = req.method.as_str();
        match (m, segs.as_slice()) {
            ("GET", ["security", "public-key-certificates"]) => self.public_keys(),
            ("POST", ["auth", ..]) | ("GET", ["auth", ..]) | ("DELETE", ["auth", ..]) => {
                self.auth_routes(m, &segs[1..], req)
            }
            (_, ["tokens", ..]) => self.token_routes(m, &segs[1..], req),
            (_, ["sessions", ..]) => self.session_routes(m, &segs[1..], req),
            (_, ["invoices", ..]) => self.invoice_routes(m, &segs[1..], req),
            (_, ["certificates", ..]) => self.cert_routes(m, &segs[1..], req),
            (_, ["permissions", ..]) => Err(ApiErr::not_simulated("permissions (/permissions)")),
            (_, ["testdata", ..]) => Err(ApiErr::not_simulated("test data (/testdata)")),
            (_, ["limits", ..]) | (_, ["rate-limits"]) => Err(ApiErr::not_simulated(
                "limit queries (/limits, /rate-limits)",
            )),
            (_, ["peppol", ..]) => Err(ApiErr::not_simulated("Peppol (/peppol)")),
            _ => Err(ApiErr::plain(
                404,
                "Not Found",
                format!("no KSeF endpoint {m} /v2{path}"),
            )),
        }
    }

    fn public_keys(&self) -> ApiResult {
        let entry = |cert: &Certificate, usage: &str| -> Result<Value, ApiErr> {
            let pkid = cert
                .public_key_id()
                .map_err(|e| ApiErr::plain(500, "Internal Server Error", e.to_string()))?;
            Ok(json!({
                "certificate": B64.encode(cert.der()),
                "certificateId": B64.encode(cert.sha256_fingerprint()),
                "publicKeyId": B64.encode(pkid),
                "validFrom": rfc3339(cert.not_before() * 1000),
                "validTo": rfc3339(cert.not_after() * 1000),
                "usage": [usage],
            }))
        };
        Ok(Response::json(
            200,
            &json!([
                entry(&self.keys.token_cert, "KsefTokenEncryption")?,
                entry(&self.keys.sym_cert, "SymmetricKeyEncryption")?,
            ]),
        ))
    }

    /// `publicKeyId` (base64 SHA-256 of the SPKI) of a certificate.
    pub(crate) fn public_key_id(cert: &Certificate) -> String {
        cert.public_key_id()
            .map(|id| B64.encode(id))
            .unwrap_or_default()
    }
}

/// The KSeF API, mounted at `/v2`.
pub(crate) struct ApiService(pub(crate) Arc<Ksef>);

impl Service for ApiService {
    fn handle(&self, path: &str, req: &Request) -> Outcome {
        let k = &self.0;
        let outcome = self.handle_inner(path, req);
        let status = match &outcome {
            Outcome::Respond(r) => r.status,
            Outcome::Drop => 0,
        };
        k.record(req, status);
        outcome
    }
}

impl ApiService {
    fn handle_inner(&self, path: &str, req: &Request) -> Outcome {
        let k = &self.0;
        if k.faults.unavailable() {
            return Outcome::Respond(
                ApiErr::plain(
                    503,
                    "Service Unavailable",
                    "KSeF jest niedostępny (symulacja awarii).",
                )
                .render(req, path)
                .with_header(
                    "Retry-After",
                    k.faults.unavailable_retry_after().to_string(),
                ),
            );
        }
        let mut after = None;
        match k.faults.take(&req.method, path) {
            Some(FaultKind::FailBefore(status)) => {
                return Outcome::Respond(
                    ApiErr::plain(status, "Simulated failure", "ksef-sim: injected fault")
                        .render(req, path),
                )
            }
            Some(FaultKind::DropBefore) => return Outcome::Drop,
            Some(FaultKind::RateLimit(secs)) => {
                return Outcome::Respond(ApiErr::too_many(secs, "injected").render(req, path))
            }
            Some(FaultKind::Delay(d)) => std::thread::sleep(d),
            Some(kind) => after = Some(kind),
            None => {}
        }
        if let Some(group) = group_of(&req.method, path) {
            if let Some(limit) = k.cfg.rate_limits.get(group) {
                if let Err(wait) = k.limiter.hit(group, limit) {
                    return Outcome::Respond(ApiErr::too_many(wait, group).render(req, path));
                }
            }
        }
        let resp = match k.dispatch(path, req) {
            Ok(r) => r,
            Err(e) => e.render(req, path),
        };
        match after {
            Some(FaultKind::FailAfter(status)) => Outcome::Respond(
                ApiErr::plain(
                    status,
                    "Simulated failure",
                    "ksef-sim: injected fault after processing",
                )
                .render(req, path),
            ),
            Some(FaultKind::DropAfter) => Outcome::Drop,
            _ => Outcome::Respond(resp),
        }
    }
}

/// `PUT /upload/{token}/{ordinal}`: batch parts (no bearer token, like Azure blob URLs).
pub(crate) struct UploadService(pub(crate) Arc<Ksef>);

impl Service for UploadService {
    fn handle(&self, path: &str, req: &Request) -> Outcome {
        let k = &self.0;
        // Faults on uploads are addressed as `PUT /upload/*` (the blob store fails too).
        let fault = k.faults.take(&req.method, &format!("/upload{path}"));
        match fault {
            Some(FaultKind::FailBefore(status)) => {
                k.record(req, status);
                return Outcome::Respond(Response::new(status, "text/plain", b"injected".to_vec()));
            }
            Some(FaultKind::DropBefore) => return Outcome::Drop,
            Some(FaultKind::RateLimit(secs)) => {
                return Outcome::Respond(
                    Response::new(429, "text/plain", b"injected".to_vec())
                        .with_header("Retry-After", secs.to_string()),
                )
            }
            Some(FaultKind::Delay(d)) => std::thread::sleep(d),
            _ => {}
        }
        let resp = k.upload_part(path, req);
        k.record(req, resp.status);
        match fault {
            Some(FaultKind::FailAfter(status)) => {
                Outcome::Respond(Response::new(status, "text/plain", b"injected".to_vec()))
            }
            Some(FaultKind::DropAfter) => Outcome::Drop,
            _ => Outcome::Respond(resp),
        }
    }
}

/// `GET /download/{token}`: UPOs, export parts (no bearer token, like pre-signed URLs).
pub(crate) struct DownloadService(pub(crate) Arc<Ksef>);

impl Service for DownloadService {
    fn handle(&self, path: &str, req: &Request) -> Outcome {
        let k = &self.0;
        let token = path.trim_start_matches('/');
        let found = k.lock().downloads.get(token).cloned();
        let resp = match (req.method.as_str(), found) {
            ("GET", Some((ct, body))) => {
                let hash = B64.encode(ksef::crypto::hash::sha256(&body).0);
                Response::new(200, &ct, body).with_header("x-ms-meta-hash", hash)
            }
            ("GET", None) => Response::new(
                404,
                "application/xml",
                b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>".to_vec(),
            ),
            _ => Response::new(
                405,
                "text/plain; charset=utf-8",
                b"ksef-sim: download URLs accept GET only".to_vec(),
            ),
        };
        k.record(req, resp.status);
        Outcome::Respond(resp)
    }
}

/// `n` random bytes as upper-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// A reference number `YYYYMMDD-XX-XXXXXXXXXX-XXXXXXXXXX-CC` (CC = CRC-8 of the first 33
/// characters, as the real ones seem to carry).
pub(crate) fn reference_number(kind: &str) -> String {
    let hex = random_hex(10);
    let head = format!(
        "{}-{kind}-{}-{}",
        crate::time::yyyymmdd(now_ms()),
        &hex[..10],
        &hex[10..]
    );
    format!("{head}-{:02X}", ksef::id::crc8(head.as_bytes()))
}

/// A JWT-shaped opaque token (unsigned claims + random tail: clients must treat it as
/// opaque; the sim only looks it up).
pub(crate) fn jwt(claims: &Value) -> String {
    let header = B64URL.encode(br#"{"alg":"none","typ":"JWT","kid":"ksef-sim"}"#);
    let body = B64URL.encode(claims.to_string());
    let mut tail = [0u8; 32];
    OsRng.fill_bytes(&mut tail);
    format!("{header}.{body}.{}", B64URL.encode(tail))
}

/// The bearer token of a request.
pub(crate) fn bearer(req: &Request) -> Option<&str> {
    let h = req.header("Authorization")?;
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then_some(token.trim())
}

/// Parses a JSON body.
pub(crate) fn json_body(req: &Request) -> Result<Value, ApiErr> {
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiErr::invalid(format!("The request body is not valid JSON: {e}")))
}

/// A required string field.
pub(crate) fn str_field<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiErr> {
    let mut cur = v;
    for p in path.split('.') {
        cur = cur.get(p).unwrap_or(&Value::Null);
    }
    cur.as_str()
        .ok_or_else(|| ApiErr::invalid(format!("The field '{path}' is required.")))
}

/// A status object.
pub(crate) fn status_json(code: u32, description: &str, details: &[String]) -> Value {
    let mut v = json!({"code": code, "description": description});
    if !details.is_empty() {
        v["details"] = json!(details);
    }
    v
}

/// Base64 of the SHA-256 of `bytes`.
pub(crate) fn sha256_b64(bytes: &[u8]) -> String {
    B64.encode(ksef::crypto::hash::sha256(bytes).0)
}
