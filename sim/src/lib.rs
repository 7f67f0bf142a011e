//! `ksef-sim` — a loopback simulator of the KSeF 2.0 API, with real crypto, for tests.
//!
//! One process, one port (random or given), base URL `http://127.0.0.1:PORT/v2`:
//!
//! ```no_run
//! let sim = ksef_sim::Sim::start(ksef_sim::SimConfig::default())?;
//! println!("{}", sim.base_url()); // http://127.0.0.1:PORT/v2
//! sim.faults().fail_next("POST /sessions/online/{ref}/invoices", 1, 503);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! What is simulated (see `sim/README.md` for the details):
//! * `GET /security/public-key-certificates`: the sim's own RSA-2048 certificates
//!   (committed fixtures), `KsefTokenEncryption` and `SymmetricKeyEncryption`;
//! * authentication: challenge, KSeF token (RSA-OAEP decrypted, bound to the challenge
//!   timestamp), XAdES (`ksef::xades::verify`, EC and RSA), status polling, redeem (once),
//!   refresh, auth sessions list/revoke; KSeF tokens (`/tokens`, only after XAdES);
//! * online and batch sessions: key unwrapping, AES-256-CBC decryption, size/hash checks,
//!   FA(3) (and FA(2) on TEST) parsing and validation, duplicates (440), KSeF numbers with
//!   a valid CRC-8, UPO v4-3 per invoice and per session (paged), batch part uploads on
//!   pre-signed-style URLs, ZIP reading with the `zip` crate;
//! * the inbox: metadata queries, invoice download, exports (encrypted ZIP packages);
//! * KSeF certificates for KOD II: limits, enrollment data, enrollment (the CSR signature is
//!   verified), status, retrieval (X.509 issued by the sim's CA key);
//! * rate limits (429 + `Retry-After`) and faults set at run time ([`Faults`]).
//!
//! Errors use the legacy `ExceptionResponse`, or problem details when the request has
//! `X-Error-Format: problem-details`; 401/403/410 are always problem details. Anything not
//! simulated answers 501 with an `ExceptionResponse` that says so — never a fake success.
//!
//! The server is a small hand-written HTTP/1.1 server ([`http`]): requests are routed by
//! path prefix to [`http::Service`]s, KSeF is mounted at `/v2` and the pre-signed URLs at
//! `/upload` and `/download`; the Fakturownia.pl API is mounted at `/fakturownia` and NBP's
//! table A rates at `/nbp` (see [`SimHandle::fakturownia_base_url`], [`SimHandle::nbp_base_url`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod fakturownia;
pub mod faults;
pub mod http;
pub mod limits;
mod time;

use std::sync::Arc;
use std::time::Duration;

pub use ::ksef::Environment;
pub use api::{AcceptedInvoice, LoggedRequest};
pub use fakturownia::FakturowniaDocument;
pub use faults::{Faults, Route};
pub use limits::{Limit, RateLimits};

/// How the simulator behaves. Build it with the `with_*` methods from `Default`.
/// `Debug` does not show the fixed KSeF tokens.
#[derive(Clone)]
pub struct SimConfig {
    /// The port (`None` or `Some(0)`: a free port chosen by the OS).
    pub port: Option<u16>,
    /// TEST (default: FA(2) and FA(3) accepted), DEMO or PRODUCTION (FA(3) only).
    pub environment: Environment,
    /// Lifetime of access tokens (default 900 s).
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens (default 7 days).
    pub refresh_token_ttl: Duration,
    /// How many `GET /auth/{ref}` polls answer 100 before the final status (default 1).
    pub auth_poll_steps: u32,
    /// How many status polls a closed session / a sent invoice stays "processing" before
    /// its final status (default 1).
    pub session_processing_polls: u32,
    /// When non-empty, only these KSeF tokens (NIP, token) authenticate (plus tokens made
    /// with `POST /tokens`); others end with status 450.
    pub ksef_tokens: Vec<(String, String)>,
    /// When non-empty, only certificates with these SHA-256 fingerprints (hex, any case)
    /// authenticate with XAdES; others end with status 460.
    pub certificate_fingerprints: Vec<String>,
    /// The rate limits.
    pub rate_limits: RateLimits,
    /// Record every request (method, path, status) for [`SimHandle::request_log`].
    pub log_requests: bool,
    /// When set, the Fakturownia service accepts only this `api_token` (default: any
    /// non-empty token).
    pub fakturownia_token: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: None,
            environment: Environment::Test,
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(7 * 24 * 3600),
            auth_poll_steps: 1,
            session_processing_polls: 1,
            ksef_tokens: Vec::new(),
            certificate_fingerprints: Vec::new(),
            rate_limits: RateLimits::default(),
            log_requests: true,
            fakturownia_token: None,
        }
    }
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nips: Vec<&str> = self.ksef_tokens.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("SimConfig")
            .field("port", &self.port)
            .field("environment", &self.environment)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("auth_poll_steps", &self.auth_poll_steps)
            .field("session_processing_polls", &self.session_processing_polls)
            .field("ksef_tokens (NIPs only)", &nips)
            .field("certificate_fingerprints", &self.certificate_fingerprints)
            .field("rate_limits", &self.rate_limits)
            .field("log_requests", &self.log_requests)
            .field(
                "fakturownia_token",
                &self.fakturownia_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl SimConfig {
    /// The default configuration.
    pub fn new() -> SimConfig {
        SimConfig::default()
    }

    /// Listen on `port` (0 = random).
    pub fn with_port(mut self, port: u16) -> SimConfig {
        self.port = Some(port);
        self
    }

    /// Behave as this environment.
    pub fn with_environment(mut self, environment: Environment) -> SimConfig {
        self.environment = environment;
        self
    }

    /// Access-token lifetime.
    pub fn with_access_token_ttl(mut self, ttl: Duration) -> SimConfig {
        self.access_token_ttl = ttl;
        self
    }

    /// Refresh-token lifetime.
    pub fn with_refresh_token_ttl(mut self, ttl: Duration) -> SimConfig {
        self.refresh_token_ttl = ttl;
        self
    }

    /// Number of `GET /auth/{ref}` polls that answer 100 before the final status.
    pub fn with_auth_poll_steps(mut self, steps: u32) -> SimConfig {
        self.auth_poll_steps = steps;
        self
    }

    /// Number of polls a closed session / sent invoice stays "processing".
    pub fn with_session_processing_polls(mut self, polls: u32) -> SimConfig {
        self.session_processing_polls = polls;
        self
    }

    /// Accept only fixed KSeF tokens: adds one (context NIP, token).
    pub fn with_ksef_token(mut self, nip: &str, token: &str) -> SimConfig {
        self.ksef_tokens.push((nip.to_string(), token.to_string()));
        self
    }

    /// Accept only fixed certificates for XAdES: adds one SHA-256 fingerprint (hex).
    pub fn with_certificate_fingerprint(mut self, sha256_hex: &str) -> SimConfig {
        self.certificate_fingerprints
            .push(sha256_hex.to_ascii_uppercase());
        self
    }

    /// Use these rate limits.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> SimConfig {
        self.rate_limits = limits;
        self
    }

    /// Accept only this Fakturownia `api_token` (default: any non-empty token, like KSeF
    /// tokens).
    pub fn with_fakturownia_token(mut self, token: &str) -> SimConfig {
        self.fakturownia_token = Some(token.to_string());
        self
    }

    /// The production rate limits (NOTES §7).
    pub fn strict_limits(mut self) -> SimConfig {
        self.rate_limits = RateLimits::strict();
        self
    }
}

/// Starts simulators.
pub struct Sim;

impl Sim {
    /// Binds the port and starts serving on background threads.
    pub fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        let faults = Arc::new(Faults::default());
        let state = Arc::new(api::Ksef::new(config.clone(), Arc::clone(&faults))?);
        let mut router = http::Router::new();
        router.mount("/v2", Arc::new(api::ApiService(Arc::clone(&state))));
        router.mount("/upload", Arc::new(api::UploadService(Arc::clone(&state))));
        router.mount(
            "/download",
            Arc::new(api::DownloadService(Arc::clone(&state))),
        );
        let fakturownia = Arc::new(fakturownia::Fakturownia::new(
            config.fakturownia_token.clone(),
            Arc::clone(&faults),
        ));
        router.mount(
            "/fakturownia",
            Arc::new(fakturownia::FakturowniaService(Arc::clone(&fakturownia))),
        );
        router.mount(
            "/nbp",
            Arc::new(fakturownia::NbpService(Arc::clone(&faults))),
        );
        router.mount(
            "/latarnia",
            Arc::new(fakturownia::LighthouseService(Arc::clone(&faults))),
        );
        let server = http::Server::start(config.port.unwrap_or(0), Arc::new(router))?;
        Ok(SimHandle {
            server,
            faults,
            state,
            fakturownia,
        })
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    server: http::Server,
    faults: Arc<Faults>,
    state: Arc<api::Ksef>,
    fakturownia: Arc<fakturownia::Fakturownia>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT/v2`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.server.port)
    }

    /// `http://127.0.0.1:PORT/fakturownia`: the base URL of the simulated Fakturownia
    /// account (`ksef::paired::fakturownia::Account::base_url`).
    pub fn fakturownia_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/fakturownia", self.server.port)
    }

    /// `http://127.0.0.1:PORT/nbp`: the base URL of the simulated NBP API (in place of
    /// `https://api.nbp.pl`).
    pub fn nbp_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/nbp", self.server.port)
    }

    /// `http://127.0.0.1:PORT/latarnia`: the base URL of the simulated Latarnia (KSeF's
    /// status service; in place of `https://api-latarnia-test.ksef.mf.gov.pl`).
    pub fn lighthouse_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/latarnia", self.server.port)
    }

    /// Every document of the simulated Fakturownia account, by id.
    pub fn fakturownia_invoices(&self) -> Vec<FakturowniaDocument> {
        self.fakturownia.documents()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The run-time fault controls.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every invoice accepted so far (status 200), in order of acceptance.
    pub fn accepted_invoices(&self) -> Vec<AcceptedInvoice> {
        self.state.accepted_invoices()
    }

    /// Every request seen so far (when [`SimConfig::log_requests`]).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.state.request_log()
    }

    /// Stops the server (also done on drop).
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_fixed_tokens() {
        let cfg = SimConfig::default()
            .with_ksef_token("5265877635", "very-secret-token")
            .with_fakturownia_token("fakturownia-secret");
        let text = format!("{cfg:?}");
        assert!(text.contains("5265877635"));
        assert!(!text.contains("very-secret-token"));
        assert!(!text.contains("fakturownia-secret"));
    }
}
