//! What the commands that talk to KSeF share: where (`--env` / `--base-url`), in which
//! context (`--nip` / `--context`), with which credentials (a KSeF token from a file, the
//! environment or the command line, or a certificate and key for XAdES), the HTTP timeout,
//! `--verbose`, and running one client operation to completion.
//!
//! Tokens never reach stdout, stderr or error messages: the client keeps them in
//! `SecretString`s, and `--verbose` prints only methods, API paths and statuses (pre-signed
//! URLs are shown as such, never in full).

use std::time::Duration;

use ksef::crypto::{Certificate, PrivateKey};
use ksef::http::{Request, Response, Transport, TransportError};
use ksef::id::Nip;
use ksef::protocol::{run, Client, Clock, Config, Credentials, Event, OpId, Output, SystemClock};
use ksef::transport::UreqTransport;
use ksef::xades::ContextIdentifier;
use ksef::{Environment, Error};
use rand_core::{OsRng, RngCore};

use crate::{read_input, Fail};

/// Options with a value that every networked command accepts.
pub const OPTIONS: &[&str] = &[
    "--env",
    "--base-url",
    "--nip",
    "--context",
    "--token",
    "--token-file",
    "--cert",
    "--key",
    "--timeout",
    "--poll-interval",
];

/// Flags every networked command accepts.
pub const FLAGS: &[&str] = &["--verbose", "--help"];

/// The help text of the shared options.
pub const HELP: &str = "\
connection (every command that talks to KSeF):
  --env test|demo|prod      an official environment, or
  --base-url URL            any API base URL ending in /v2 (the simulator's: see `ksef sim`)
  --nip NIP                 the context: the taxpayer's NIP, or
  --context TYPE:VALUE      Nip|InternalId|NipVatUe|PeppolId, e.g. InternalId:5265877635-12345
credentials (one of):
  --token-file PATH         a KSeF token read from PATH (preferred: keeps it out of shell history)
  KSEF_TOKEN=...            a KSeF token from the environment
  --token TOKEN             a KSeF token on the command line (visible in history and `ps`)
  --cert PEM --key PEM      a certificate and its private key: XAdES-signed authentication
other:
  --timeout SECS            longest HTTP exchange (default 60)
  --poll-interval MS        pause between status polls (default 1000)
  --verbose                 progress on stderr (calls and statuses; never tokens or keys)
exit codes: 0 success, 1 KSeF refused something (see the output), 2 usage, I/O, connection or
authentication error";

/// The shared options as given.
#[derive(Default)]
pub struct ConnOpts {
    env: Option<Environment>,
    base_url: Option<String>,
    nip: Option<String>,
    context: Option<String>,
    token: Option<String>,
    token_file: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    timeout_s: Option<u64>,
    poll_ms: Option<u64>,
    /// `--verbose`.
    pub verbose: bool,
}

fn bad(name: &str, value: &str, why: &str) -> Fail {
    Fail(format!("{name} {value}: {why}"), 2)
}

impl ConnOpts {
    /// No options yet; `--verbose` as given.
    pub fn new(verbose: bool) -> ConnOpts {
        ConnOpts {
            verbose,
            ..ConnOpts::default()
        }
    }

    /// Takes `--name value` if it is a shared option; false when it is not one.
    pub fn take(&mut self, name: &str, v: &str) -> Result<bool, Fail> {
        let number = |what: &str| -> Result<u64, Fail> {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(name, v, &format!("expected {what}")))
        };
        match name {
            "--env" => {
                self.env = Some(v.parse().map_err(|e: Error| bad(name, v, e.message()))?);
            }
            "--base-url" => self.base_url = Some(v.to_string()),
            "--nip" => self.nip = Some(v.to_string()),
            "--context" => self.context = Some(v.to_string()),
            // never echo the token's value in messages
            "--token" => self.token = Some(v.to_string()),
            "--token-file" => self.token_file = Some(v.to_string()),
            "--cert" => self.cert = Some(v.to_string()),
            "--key" => self.key = Some(v.to_string()),
            "--timeout" => self.timeout_s = Some(number("a number of seconds > 0")?),
            "--poll-interval" => self.poll_ms = Some(number("a number of milliseconds > 0")?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Where to connect and in which context when neither was given (paired mode takes them
    /// from the store's configuration).
    pub fn default_target(&mut self, env: Environment, base_url: Option<&str>, nip: &str) {
        if self.env.is_none() && self.base_url.is_none() {
            match base_url {
                Some(u) => self.base_url = Some(u.to_string()),
                None => self.env = Some(env),
            }
        }
        if self.nip.is_none() && self.context.is_none() {
            self.nip = Some(nip.to_string());
        }
    }

    /// The API base URL.
    pub fn base_url(&self) -> Result<String, Fail> {
        match (&self.env, &self.base_url) {
            (Some(e), None) => Ok(e.api_base_url().to_string()),
            (None, Some(u)) => {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(bad("--base-url", u, "expected an http:// or https:// URL"));
                }
                Ok(u.trim_end_matches('/').to_string())
            }
            (Some(_), Some(_)) => Err(Fail("give either --env or --base-url, not both".into(), 2)),
            (None, None) => Err(Fail(
                "where to connect is required: --env test|demo|prod or --base-url URL".into(),
                2,
            )),
        }
    }

    /// The context identifier.
    pub fn context(&self) -> Result<ContextIdentifier, Fail> {
        match (&self.nip, &self.context) {
            (Some(n), None) => Ok(ContextIdentifier::from(
                Nip::parse(n).map_err(|e| bad("--nip", n, &e.to_string()))?,
            )),
            (None, Some(c)) => {
                let (kind, value) = c.split_once(':').ok_or_else(|| {
                    bad("--context", c, "expected TYPE:VALUE, e.g. Nip:5265877635")
                })?;
                ContextIdentifier::parse(kind, value).map_err(|e| bad("--context", c, e.message()))
            }
            (Some(_), Some(_)) => Err(Fail("give either --nip or --context, not both".into(), 2)),
            (None, None) => Err(Fail(
                "the context is required: --nip NIP or --context TYPE:VALUE".into(),
                2,
            )),
        }
    }

    /// The credentials: a certificate and key, or a KSeF token (`--token`, `--token-file`,
    /// then `KSEF_TOKEN`).
    pub fn credentials(&self) -> Result<Credentials, Fail> {
        let token_given = self.token.is_some() || self.token_file.is_some();
        match (&self.cert, &self.key) {
            (Some(_), Some(_)) if token_given => {
                return Err(Fail(
                    "give either a KSeF token or --cert/--key, not both".into(),
                    2,
                ))
            }
            (Some(c), Some(k)) => {
                let key = PrivateKey::from_pem_or_der(&read_input(k)?)
                    .map_err(|e| Fail(format!("--key {k}: {e}"), 2))?;
                let cert = Certificate::from_pem_or_der(&read_input(c)?)
                    .map_err(|e| Fail(format!("--cert {c}: {e}"), 2))?;
                return Ok(Credentials::certificate(key, cert));
            }
            (Some(_), None) => return Err(Fail("--cert needs --key".into(), 2)),
            (None, Some(_)) => return Err(Fail("--key needs --cert".into(), 2)),
            (None, None) => {}
        }
        let token = match (&self.token, &self.token_file) {
            (Some(_), Some(_)) => {
                return Err(Fail(
                    "give either --token or --token-file, not both".into(),
                    2,
                ))
            }
            (Some(t), None) => t.clone(),
            (None, Some(path)) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| Fail(format!("--token-file {path}: cannot read: {e}"), 2))?;
                String::from_utf8(bytes)
                    .map_err(|_| Fail(format!("--token-file {path}: not UTF-8 text"), 2))?
                    .trim()
                    .to_string()
            }
            (None, None) => std::env::var("KSEF_TOKEN")
                .map(|t| t.trim().to_string())
                .unwrap_or_default(),
        };
        if token.is_empty() {
            return Err(Fail(
                "credentials are required: --token-file PATH, the KSEF_TOKEN environment \
                 variable, --token TOKEN, or --cert PEM with --key PEM"
                    .into(),
                2,
            ));
        }
        Ok(Credentials::ksef_token(token))
    }

    /// Checks everything and makes the client and its transport.
    pub fn connect(&self) -> Result<Conn, Fail> {
        let base = self.base_url()?;
        let context = self.context()?;
        let creds = self.credentials()?;
        let poll = self.poll_ms.unwrap_or(1_000);
        let config = Config::with_base_url(&base, context).polling(poll, 10 * 60 * 1_000);
        let mut builder = UreqTransport::builder()
            .timeout(Duration::from_secs(self.timeout_s.unwrap_or(60)))
            .connect_timeout(Duration::from_secs(self.timeout_s.unwrap_or(10).min(10)));
        if is_loopback(&base) {
            // a proxy from the environment must not capture the local simulator
            builder = builder.no_proxy();
        }
        let transport = builder.build().map_err(|e| Fail(error_line(&e), 2))?;
        let client = Client::new(config, creds, seed()?);
        Ok(Conn {
            client,
            transport: Verbose {
                inner: transport,
                base,
                on: self.verbose,
            },
            verbose: self.verbose,
        })
    }
}

use ksef::protocol::settings::is_loopback;

/// 32 bytes from the OS for the client's CSPRNG.
pub fn seed() -> Result<[u8; 32], Fail> {
    let mut seed = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| Fail(format!("cannot read OS randomness: {e}"), 2))?;
    Ok(seed)
}

/// `error [code]: path: message`.
pub fn error_line(e: &Error) -> String {
    format!("error [{}]: {e}", e.code().name())
}

/// The transport, printing each exchange on stderr with `--verbose`.
pub struct Verbose<T> {
    inner: T,
    base: String,
    on: bool,
}

impl<T: Transport> Transport for Verbose<T> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let r = self.inner.send(request);
        if self.on {
            // API paths only: pre-signed URLs carry credentials in their query
            let what = match request.url.strip_prefix(&self.base) {
                Some(p) => p.split('?').next().unwrap_or("").to_string(),
                None => "[pre-signed URL]".to_string(),
            };
            match &r {
                Ok(resp) => eprintln!("  {} {what} -> {}", request.method, resp.status),
                Err(e) => eprintln!("  {} {what} -> {e}", request.method),
            }
        }
        r
    }
}

impl Conn {
    /// A client for a loopback base URL (the embedded simulator), no proxy.
    pub fn loopback(client: Client, base: &str, verbose: bool) -> Result<Conn, Fail> {
        let transport = UreqTransport::builder()
            .no_proxy()
            .build()
            .map_err(|e| Fail(error_line(&e), 2))?;
        Ok(Conn {
            client,
            transport: Verbose {
                inner: transport,
                base: base.to_string(),
                on: verbose,
            },
            verbose,
        })
    }
}

impl Conn {
    /// The client and the transport, for callers that drive the client themselves (paired
    /// mode's engine sends Fakturownia and NBP requests over the same transport; `--verbose`
    /// shows them as `[pre-signed URL]`, never with their query).
    pub fn into_parts(self) -> (Client, Verbose<UreqTransport>) {
        (self.client, self.transport)
    }
}

/// A client ready to run operations.
pub struct Conn {
    /// The client.
    pub client: Client,
    transport: Verbose<UreqTransport>,
    verbose: bool,
}

/// One line about an event, for `--verbose` (no secrets: events carry none).
pub fn describe(e: &Event) -> Option<String> {
    Some(match e {
        Event::Authenticated {
            refreshed: true, ..
        } => "access token refreshed".into(),
        Event::Authenticated { reference, .. } => format!("authenticated ({reference})"),
        Event::Retrying {
            call,
            attempt,
            reason,
            ..
        } => format!("{call}: attempt {attempt} failed ({reason}); retrying"),
        Event::SessionOpened { reference, .. } => format!("session {reference} opened"),
        Event::InvoiceSent {
            index, reference, ..
        } => format!("invoice #{} sent ({reference})", index + 1),
        _ => return None,
    })
}

impl Conn {
    /// Ends the authenticated session, if one was opened (best effort: KSeF ends it anyway
    /// when its tokens expire).
    pub fn close(&mut self) {
        let now = SystemClock.now_ms();
        if self.client.is_authenticated(now) {
            let op = self.client.logout();
            let _ = run(
                &mut self.client,
                op,
                &mut self.transport,
                &mut SystemClock,
                |_| {},
            );
        }
    }

    /// Starts an operation with `start` and runs it to completion; a failure of the whole
    /// operation is exit code 2.
    pub fn run(&mut self, start: impl FnOnce(&mut Client) -> OpId) -> Result<Output, Fail> {
        self.try_run(start).map_err(|e| Fail(error_line(&e), 2))
    }

    /// As [`Conn::run`], with the core's error (to tell unavailability from a refusal).
    pub fn try_run(&mut self, start: impl FnOnce(&mut Client) -> OpId) -> Result<Output, Error> {
        let op = start(&mut self.client);
        let verbose = self.verbose;
        run(
            &mut self.client,
            op,
            &mut self.transport,
            &mut SystemClock,
            |e| {
                if verbose {
                    if let Some(line) = describe(e) {
                        eprintln!("{line}");
                    }
                }
            },
        )
    }

    /// The environment of the connection: an official one by its base URL, else TEST (a
    /// simulator or proxy).
    pub fn environment(&self) -> ksef::Environment {
        ksef::Environment::of_api_base_url(&self.client.config().base_url)
            .unwrap_or(ksef::Environment::Test)
    }
}
