//! The built-in HTTP transport (`std`): [`UreqTransport`], a [`Transport`] on
//! [ureq](https://docs.rs/ureq) 3 with TLS by rustls (the `ring` provider), and [`Recorder`],
//! which writes every exchange of any transport to a directory for the OpenAPI conformance
//! check (`tools/check_openapi.py`).
//!
//! Every HTTP status, 4xx and 5xx included, comes back as a [`Response`]; redirects are not
//! followed unless asked for. Failures below HTTP map to [`TransportErrorKind`]s whose
//! messages never carry request headers, bodies or URL query strings (a pre-signed upload
//! URL carries its signature in the query). `Debug` shows the settings, never a proxy's
//! credentials.
//!
//! ```no_run
//! use std::time::Duration;
//! use ksef::http::{Method, Request, Transport};
//! use ksef::transport::UreqTransport;
//!
//! let mut transport = UreqTransport::builder()
//!     .timeout(Duration::from_secs(30))
//!     .platform_roots(true)
//!     .build()?;
//! let response = transport
//!     .send(&Request::api(Method::Get, ksef::Environment::Test.api_base_url(), "/rate-limits"))
//!     .map_err(ksef::Error::from)?;
//! println!("HTTP {}", response.status);
//! # Ok::<(), ksef::Error>(())
//! ```

mod recorder;

pub use recorder::Recorder;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use std::io;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::error::{Error, ErrorCode};
use crate::http::{Method, Request, Response, Transport, TransportError, TransportErrorKind};

/// The `User-Agent` sent unless another is configured: `ksef-rs/<version>`.
pub const USER_AGENT: &str = concat!("ksef-rs/", env!("CARGO_PKG_VERSION"));

/// Where the trusted root certificates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Roots {
    /// Mozilla's roots compiled in (`webpki-roots`): the same everywhere, ignores the
    /// machine's store. The default.
    WebPki,
    /// The operating system's verifier and store (`rustls-platform-verifier`); with extra
    /// CAs, the store's certificates (`rustls-native-certs`) plus the extras.
    Platform,
    /// Only the extra CAs given with [`UreqTransportBuilder::extra_root_pem`].
    ExtraOnly,
}

/// Which proxy to use.
#[derive(Clone, PartialEq, Eq)]
enum ProxySetting {
    /// `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` (either case), honouring `NO_PROXY`.
    FromEnv,
    /// No proxy at all.
    Off,
    /// This proxy URL (`http://user:pass@proxy:3128`, `socks5://…`).
    Url(String),
}

/// The settings of a [`UreqTransport`]; built with [`UreqTransport::builder`].
#[derive(Clone)]
pub struct UreqTransportBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    min_upload_rate: u64,
    max_response_body: u64,
    max_redirects: u32,
    user_agent: String,
    roots: Roots,
    extra_roots: Vec<Certificate<'static>>,
    proxy: ProxySetting,
}

impl Default for UreqTransportBuilder {
    fn default() -> Self {
        UreqTransportBuilder {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            min_upload_rate: 256 * 1024,
            max_response_body: 200 * 1024 * 1024,
            max_redirects: 0,
            user_agent: USER_AGENT.into(),
            roots: Roots::WebPki,
            extra_roots: Vec::new(),
            proxy: ProxySetting::FromEnv,
        }
    }
}

impl UreqTransportBuilder {
    /// How long to wait for a connection (DNS, TCP, proxy and TLS included). Default 10 s.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// How long a whole exchange may take, from connecting to the last byte of the response,
    /// for a request without a body. Default 60 s. A request with a body gets
    /// `body length / min_upload_rate` more (see [`Self::min_upload_rate`]).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The slowest upload, in bytes per second, that still counts as working: each request
    /// body adds `length / rate` to the timeout (a 100 MB batch part at the default 256 KiB/s
    /// gets 400 s more). 0 adds nothing.
    pub fn min_upload_rate(mut self, bytes_per_second: u64) -> Self {
        self.min_upload_rate = bytes_per_second;
        self
    }

    /// The largest response body accepted, in bytes; a larger one fails with
    /// [`TransportErrorKind::ResponseTooLarge`]. Default 200 MiB.
    pub fn max_response_body(mut self, bytes: u64) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// How many redirects to follow (default 0: a 3xx is returned as the response).
    /// Credentials are never sent on to a redirect target.
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// The `User-Agent` header (default [`USER_AGENT`]).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Trust the operating system's roots instead of the compiled-in webpki roots.
    pub fn platform_roots(mut self, yes: bool) -> Self {
        self.roots = if yes { Roots::Platform } else { Roots::WebPki };
        self
    }

    /// Where the trusted roots come from (default [`Roots::WebPki`]).
    pub fn roots(mut self, roots: Roots) -> Self {
        self.roots = roots;
        self
    }

    /// Trusts the CA certificates in `pem` as well (a corporate TLS-inspecting proxy's CA).
    /// Fails with [`ErrorCode::Certificate`] if `pem` holds no certificate or a broken one.
    pub fn extra_root_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let mut found = 0usize;
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(PemItem::Certificate(c)) => {
                    self.extra_roots.push(c);
                    found += 1;
                }
                Ok(_) => {}
                Err(_) => {
                    return Err(Error::new(
                        ErrorCode::Certificate,
                        "",
                        "cannot read the extra root CA: broken PEM",
                    ))
                }
            }
        }
        if found == 0 {
            return Err(Error::new(
                ErrorCode::Certificate,
                "",
                "the extra root CA PEM holds no CERTIFICATE block",
            ));
        }
        Ok(self)
    }

    /// Use this proxy (`http://[user:password@]host:port`, `https://…`, `socks4://…`,
    /// `socks5://…`) for every request, ignoring the environment.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Take the proxy from the environment (the default): `ALL_PROXY`, `HTTPS_PROXY`,
    /// `HTTP_PROXY` (upper or lower case, first found), with `NO_PROXY` exceptions.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySetting::FromEnv;
        self
    }

    /// Never use a proxy, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Off;
        self
    }

    /// Builds the transport. Fails with [`ErrorCode::Transport`] for an unreadable proxy
    /// URL, [`ErrorCode::Certificate`] when the roots cannot be loaded.
    pub fn build(self) -> Result<UreqTransport, Error> {
        let proxy = match &self.proxy {
            ProxySetting::Off => None,
            ProxySetting::FromEnv => ureq::Proxy::try_from_env(),
            ProxySetting::Url(u) => Some(ureq::Proxy::new(u).map_err(|_| {
                Error::new(
                    ErrorCode::Transport,
                    "",
                    "the proxy URL is not valid (expected http://, https://, socks4:// or socks5:// with a host)",
                )
            })?),
        };
        let root_certs = self.root_certs()?;
        let tls = TlsConfig::builder().root_certs(root_certs).build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(self.max_redirects)
            .max_redirects_will_error(false)
            .user_agent(self.user_agent.as_str())
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .proxy(proxy)
            .tls_config(tls)
            .build();
        let proxy_from_env = matches!(self.proxy, ProxySetting::FromEnv);
        let proxy_host = config.proxy().map(|p| format!("{}:{}", p.host(), p.port()));
        Ok(UreqTransport {
            agent: ureq::Agent::new_with_config(config),
            settings: self,
            proxy_host,
            proxy_from_env,
        })
    }

    fn root_certs(&self) -> Result<RootCerts, Error> {
        let extra = &self.extra_roots;
        Ok(match (self.roots, extra.is_empty()) {
            (Roots::WebPki, true) => RootCerts::WebPki,
            (Roots::Platform, true) => RootCerts::PlatformVerifier,
            (Roots::ExtraOnly, true) => {
                return Err(Error::new(
                    ErrorCode::Certificate,
                    "",
                    "Roots::ExtraOnly needs at least one extra root CA (extra_root_pem)",
                ))
            }
            (Roots::WebPki, false) => {
                let mut all: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                all.extend(extra.iter().cloned());
                RootCerts::Specific(Arc::new(all))
            }
            (Roots::Platform, false) => {
                let native = rustls_native_certs::load_native_certs();
                if native.certs.is_empty() {
                    return Err(Error::new(
                        ErrorCode::Certificate,
                        "",
                        "no root certificates found in the platform's store",
                    ));
                }
                let mut all: Vec<Certificate<'static>> = native
                    .certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                all.extend(extra.iter().cloned());
                RootCerts::Specific(Arc::new(all))
            }
            (Roots::ExtraOnly, false) => RootCerts::Specific(Arc::new(extra.clone())),
        })
    }
}

impl fmt::Debug for UreqTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            ProxySetting::FromEnv => "from environment".to_string(),
            ProxySetting::Off => "off".to_string(),
            ProxySetting::Url(u) => redact_proxy_url(u),
        };
        f.debug_struct("UreqTransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("min_upload_rate", &self.min_upload_rate)
            .field("max_response_body", &self.max_response_body)
            .field("max_redirects", &self.max_redirects)
            .field("user_agent", &self.user_agent)
            .field("roots", &self.roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("proxy", &proxy)
            .finish()
    }
}

/// A proxy URL with its credentials and anything after the authority left out.
fn redact_proxy_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let creds = if authority.contains('@') {
        "[redacted]@"
    } else {
        ""
    };
    if scheme.is_empty() {
        format!("{creds}{host}")
    } else {
        format!("{scheme}://{creds}{host}")
    }
}

/// A [`Transport`] over ureq 3 + rustls (ring): blocking, with a connection pool, timeouts,
/// a response size cap, proxies and a choice of root certificates.
pub struct UreqTransport {
    agent: ureq::Agent,
    settings: UreqTransportBuilder,
    proxy_host: Option<String>,
    proxy_from_env: bool,
}

impl UreqTransport {
    /// A transport with the default settings (webpki roots, proxy from the environment,
    /// 10 s to connect, 60 s per exchange plus time for the upload, 200 MiB response cap).
    pub fn new() -> Result<UreqTransport, Error> {
        Self::builder().build()
    }

    /// The settings, to change and [`UreqTransportBuilder::build`].
    pub fn builder() -> UreqTransportBuilder {
        UreqTransportBuilder::default()
    }

    /// The time allowed for exchanging `request`: the timeout plus the upload allowance for
    /// its body.
    pub fn timeout_for(&self, request: &Request) -> Duration {
        let s = &self.settings;
        let body = request.body.len() as u64;
        let extra = body.checked_div(s.min_upload_rate).unwrap_or(0);
        s.timeout.saturating_add(Duration::from_secs(extra))
    }

    fn run<B: ureq::AsSendBody>(
        &self,
        request: ureq::http::Request<B>,
        timeout: Duration,
    ) -> Result<Response, TransportError> {
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .build();
        let mut response = self.agent.run(request).map_err(map_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let cap = self.settings.max_response_body;
        if let Some(len) = response.body().content_length() {
            if len > cap {
                return Err(too_large(cap));
            }
        }
        // ureq's limit fails a body of exactly `limit` bytes (it reads once more to see the
        // end), so allow one byte more and check the length here.
        let body = response
            .body_mut()
            .with_config()
            .limit(cap.saturating_add(1))
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_large(cap),
                e => map_error(e),
            })?;
        if body.len() as u64 > cap {
            return Err(too_large(cap));
        }
        Ok(Response::new(status, headers, body))
    }
}

impl Transport for UreqTransport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let method = match request.method {
            Method::Get => ureq::http::Method::GET,
            Method::Post => ureq::http::Method::POST,
            Method::Put => ureq::http::Method::PUT,
            Method::Delete => ureq::http::Method::DELETE,
        };
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let timeout = self.timeout_for(request);
        let bad = |_| {
            TransportError::new(
                TransportErrorKind::Other,
                "cannot build the request: an invalid URL, header name or header value",
            )
        };
        let body_expected = matches!(request.method, Method::Post | Method::Put);
        if request.body.is_empty() && !body_expected {
            self.run(builder.body(()).map_err(bad)?, timeout)
        } else {
            self.run(builder.body(request.body.as_slice()).map_err(bad)?, timeout)
        }
    }
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match (&self.proxy_host, self.proxy_from_env) {
            (Some(h), true) => format!("{h} (from environment)"),
            (Some(h), false) => h.clone(),
            (None, _) => "none".to_string(),
        };
        let s = &self.settings;
        f.debug_struct("UreqTransport")
            .field("connect_timeout", &s.connect_timeout)
            .field("timeout", &s.timeout)
            .field("min_upload_rate", &s.min_upload_rate)
            .field("max_response_body", &s.max_response_body)
            .field("max_redirects", &s.max_redirects)
            .field("user_agent", &s.user_agent)
            .field("roots", &s.roots)
            .field("extra_roots", &s.extra_roots.len())
            .field("proxy", &proxy)
            .finish()
    }
}

fn too_large(cap: u64) -> TransportError {
    TransportError::new(
        TransportErrorKind::ResponseTooLarge,
        format!("the response body is larger than the limit of {cap} bytes"),
    )
}

/// Maps a ureq error to a transport error. Messages are written here from the error's kind;
/// ureq's own text is used only where it cannot hold a URL or a header value.
fn map_error(e: ureq::Error) -> TransportError {
    use TransportErrorKind as K;
    let (kind, message) = match e {
        ureq::Error::Timeout(t) => (K::Timeout, format!("{t} timeout reached")),
        ureq::Error::HostNotFound => (K::Connect, "host not found".into()),
        ureq::Error::ConnectionFailed => (K::Connect, "connection failed".into()),
        ureq::Error::ConnectProxyFailed(_) => (K::Connect, "the proxy refused CONNECT".into()),
        ureq::Error::InvalidProxyUrl => (K::Connect, "invalid proxy URL".into()),
        ureq::Error::Io(io) => return map_io(&io),
        ureq::Error::Rustls(t) => (K::Tls, t.to_string()),
        ureq::Error::Tls(t) => (K::Tls, t.to_string()),
        ureq::Error::Pem(_) => (K::Tls, "cannot read a PEM certificate".into()),
        ureq::Error::TlsRequired => (K::Tls, "TLS required".into()),
        ureq::Error::BodyExceedsLimit(cap) => return too_large(cap),
        ureq::Error::Protocol(_) => (K::Io, "the peer broke the HTTP/1.1 protocol".into()),
        ureq::Error::LargeResponseHeader(..) => {
            (K::Io, "the response headers are too large".into())
        }
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => (
            K::Other,
            "cannot build the request: an invalid URL, header name or header value".into(),
        ),
        ureq::Error::RequireHttpsOnly(_) => (K::Other, "only https URLs are allowed".into()),
        ureq::Error::TooManyRedirects => (K::Other, "too many redirects".into()),
        ureq::Error::RedirectFailed => (K::Other, "cannot follow the redirect".into()),
        _ => (K::Other, "unexpected HTTP client failure".into()),
    };
    TransportError::new(kind, message)
}

fn map_io(e: &io::Error) -> TransportError {
    use io::ErrorKind as I;
    use TransportErrorKind as K;
    // A rustls failure during the handshake or a read arrives wrapped in an io::Error.
    if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return TransportError::new(K::Tls, t.to_string());
    }
    let kind = match e.kind() {
        I::ConnectionRefused
        | I::NotFound
        | I::AddrNotAvailable
        | I::NetworkUnreachable
        | I::HostUnreachable
        | I::NetworkDown => K::Connect,
        I::TimedOut | I::WouldBlock => K::Timeout,
        // std reports a failed getaddrinfo as an uncategorised error with this text.
        _ if e.to_string().starts_with("failed to lookup address") => K::Connect,
        _ => K::Io,
    };
    // OS error texts ("Connection refused (os error 111)") hold no request data.
    TransportError::new(kind, e.to_string())
}
