//! The sans-IO KSeF client: one state machine that authenticates, keeps its tokens fresh,
//! retries what may be retried, and runs operations (sessions, queries, downloads) one
//! after another.
//!
//! The host pumps it:
//!
//! 1. [`Client::poll_transmit`]`(now)` → the next HTTP request to send (with an id), or none;
//! 2. send it any way it likes and hand the result back with
//!    [`Client::handle_response`]`(now, id, result)`;
//! 3. when nothing is to be sent, [`Client::poll_timeout`] says when to call again (a
//!    `Retry-After`, a back-off, a status poll), and `None` means idle;
//! 4. [`Client::poll_event`] drains what happened (authenticated, invoice accepted, retry
//!    scheduled, operation finished with its [`Output`]).
//!
//! [`crate::protocol::drive`] does this loop over a [`crate::http::Transport`] for hosts that
//! don't want to. Time is Unix milliseconds passed in; randomness comes from a ChaCha20 RNG
//! seeded by the host at construction.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

use crate::crypto::cert::Certificate;
use crate::crypto::keys::PrivateKey;
use crate::crypto::public_keys::{KeyUsage, PublicKeyCertificates};
use crate::crypto::session::encrypt_ksef_token;
use crate::env::Environment;
use crate::error::{Error, ErrorCode};
use crate::http::{ApiError, Method, Request, Response, TransportError};
use crate::model::DateTime;
use crate::retry::{Decision, Outcome, RetryPolicy};
use crate::xades::{AuthTokenRequest, ContextIdentifier, SubjectIdentifierType};

use super::ops::{Call, Cx, Operation, Output, Step};
use super::wire::{self, SecretString, StatusInfo};

/// Identifies an operation started on a [`Client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u64);

/// Identifies one request handed out by [`Client::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransmitId(pub u64);

/// A request to send, from [`Client::poll_transmit`].
#[derive(Debug)]
pub struct Transmit {
    /// Pass it back to [`Client::handle_response`].
    pub id: TransmitId,
    /// The request (its `Debug` hides secrets).
    pub request: Request,
}

/// How the client proves who it is.
// One per client, long-lived: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Credentials {
    /// A KSeF token (`POST /auth/ksef-token`, RSA-OAEP encrypted with the challenge time).
    KsefToken(SecretString),
    /// A certificate and its private key (`POST /auth/xades-signature`, XAdES-BES).
    Certificate {
        /// The signing key (EC P-256 or RSA ≥ 2048).
        key: PrivateKey,
        /// The certificate that goes into the signature.
        certificate: Certificate,
        /// `certificateSubject` (default) or `certificateFingerprint`.
        subject: SubjectIdentifierType,
    },
}

impl Credentials {
    /// KSeF-token credentials.
    pub fn ksef_token(token: impl Into<SecretString>) -> Credentials {
        Credentials::KsefToken(token.into())
    }

    /// Certificate credentials with subject type `certificateSubject`.
    pub fn certificate(key: PrivateKey, certificate: Certificate) -> Credentials {
        Credentials::Certificate {
            key,
            certificate,
            subject: SubjectIdentifierType::default(),
        }
    }

    fn method(&self) -> &'static str {
        match self {
            Credentials::KsefToken(_) => "KSeF token",
            Credentials::Certificate { .. } => "XAdES signature",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::KsefToken(_) => f.write_str("Credentials::KsefToken([redacted])"),
            Credentials::Certificate { subject, .. } => f
                .debug_struct("Credentials::Certificate")
                .field("key", &"[redacted]")
                .field("subject", subject)
                .finish(),
        }
    }
}

/// Where and how to talk to KSeF.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The API base URL ending in `/v2` (an [`Environment`]'s, or the simulator's).
    pub base_url: String,
    /// The context to authenticate in (usually the seller's NIP).
    pub context: ContextIdentifier,
    /// Retries of one request (429, 5xx, transport failures).
    pub retry: RetryPolicy,
    /// Pause between status polls (auth operation, session processing, UPO), ms.
    pub poll_interval_ms: u64,
    /// How long to keep polling one thing before giving up with [`ErrorCode::NotReady`], ms.
    pub max_wait_ms: u64,
    /// Refresh the access token this long before it expires, ms (capped at half its life).
    pub refresh_margin_ms: u64,
    /// Send `X-Error-Format: problem-details` (RFC 9457 errors).
    pub problem_details: bool,
    /// Page size for listings (`pageSize`), within what each endpoint allows.
    pub page_size: u32,
}

impl Config {
    /// The configuration for an official environment.
    pub fn new(env: Environment, context: impl Into<ContextIdentifier>) -> Config {
        Config::with_base_url(env.api_base_url(), context)
    }

    /// The configuration for any base URL (the simulator prints its own).
    pub fn with_base_url(
        base_url: impl Into<String>,
        context: impl Into<ContextIdentifier>,
    ) -> Config {
        Config {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            context: context.into(),
            retry: RetryPolicy::default(),
            poll_interval_ms: 1_000,
            max_wait_ms: 10 * 60 * 1_000,
            refresh_margin_ms: 60_000,
            problem_details: true,
            page_size: 100,
        }
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Config {
        self.retry = retry;
        self
    }

    /// Sets the status-poll interval and the longest wait.
    pub fn polling(mut self, interval_ms: u64, max_wait_ms: u64) -> Config {
        self.poll_interval_ms = interval_ms;
        self.max_wait_ms = max_wait_ms;
        self
    }
}

/// Something that happened, drained with [`Client::poll_event`].
#[derive(Debug)]
#[non_exhaustive]
// Events are drained one by one; boxing the output would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// Authentication finished: tokens obtained (or refreshed).
    Authenticated {
        /// The authentication operation's reference number (empty after a refresh).
        reference: String,
        /// True when only the access token was refreshed.
        refreshed: bool,
    },
    /// A request failed and will be sent again at `at_ms`.
    Retrying {
        /// What was being done (`POST /sessions/online`).
        call: String,
        /// The attempt that failed (1 = the first).
        attempt: u32,
        /// When the next attempt goes out.
        at_ms: u64,
        /// The failure, in words.
        reason: String,
    },
    /// A session was opened.
    SessionOpened {
        /// The operation.
        op: OpId,
        /// The session reference number.
        reference: String,
    },
    /// KSeF took an invoice for processing.
    InvoiceSent {
        /// The operation.
        op: OpId,
        /// The invoice's position in the operation's input.
        index: usize,
        /// The invoice reference number.
        reference: String,
    },
    /// An operation finished.
    Finished {
        /// The operation.
        op: OpId,
        /// What it produced, or why it failed.
        result: Result<Output, Error>,
    },
}

#[derive(Clone)]
struct Token {
    value: SecretString,
    valid_until_ms: u64,
    obtained_ms: u64,
}

impl Token {
    fn usable(&self, now: u64, margin: u64) -> bool {
        let life = self.valid_until_ms.saturating_sub(self.obtained_ms);
        now.saturating_add(margin.min(life / 2)) < self.valid_until_ms
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    Keys,
    Auth,
    Op,
}

struct Pending {
    origin: Origin,
    call: Call,
    attempt: u32,
    policy: RetryPolicy,
    due_ms: u64,
    in_flight: Option<TransmitId>,
    reauths: u8,
}

enum Flow {
    Refresh,
    Challenge,
    Submit {
        challenge: String,
        timestamp_ms: i64,
    },
    Poll {
        reference: String,
        token: SecretString,
        deadline: u64,
        next_at: u64,
    },
    Redeem {
        reference: String,
        token: SecretString,
    },
    Done,
}

struct AuthFlow {
    state: Flow,
    restarts: u8,
    in_progress: bool,
}

struct OpSlot {
    id: OpId,
    op: Box<dyn Operation + Send>,
}

/// The KSeF client state machine. See the [module documentation](self).
pub struct Client {
    cfg: Config,
    creds: Credentials,
    rng: ChaCha20Rng,
    keys: Option<PublicKeyCertificates>,
    access: Option<Token>,
    refresh: Option<Token>,
    auth_reference: Option<String>,
    flow: Option<AuthFlow>,
    fetch_keys: bool,
    ops: VecDeque<OpSlot>,
    call: Option<Pending>,
    parked: Option<Pending>,
    wait_until: Option<u64>,
    events: VecDeque<Event>,
    next_id: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.cfg.base_url)
            .field("context", &self.cfg.context)
            .field("credentials", &self.creds)
            .field("authenticated", &self.access.is_some())
            .field("operations", &self.ops.len())
            .finish()
    }
}

impl Client {
    /// A client. `seed` (32 bytes from the host's CSPRNG) seeds the generator of session
    /// keys, OAEP padding and retry jitter; the client never reads OS randomness itself.
    pub fn new(config: Config, credentials: Credentials, seed: [u8; 32]) -> Client {
        Client {
            cfg: config,
            creds: credentials,
            rng: ChaCha20Rng::from_seed(seed),
            keys: None,
            access: None,
            refresh: None,
            auth_reference: None,
            flow: None,
            fetch_keys: false,
            ops: VecDeque::new(),
            call: None,
            parked: None,
            wait_until: None,
            events: VecDeque::new(),
            next_id: 1,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// True while an access token is held that is usable at `now_ms`.
    pub fn is_authenticated(&self, now_ms: u64) -> bool {
        self.access
            .as_ref()
            .is_some_and(|t| t.usable(now_ms, self.cfg.refresh_margin_ms))
    }

    /// The reference number of the current authentication operation, once authenticated.
    pub fn auth_reference(&self) -> Option<&str> {
        self.auth_reference.as_deref()
    }

    /// Operations not finished yet (the running one included).
    pub fn pending_operations(&self) -> usize {
        self.ops.len()
    }

    pub(crate) fn start(&mut self, op: Box<dyn Operation + Send>) -> OpId {
        let id = OpId(self.next_id);
        self.next_id += 1;
        self.ops.push_back(OpSlot { id, op });
        id
    }

    /// Abandons an operation: a queued one is dropped, the running one stops after its
    /// request in flight (whose response is then ignored). Its `Finished` event carries
    /// [`ErrorCode::Cancelled`]. False when no such operation is pending.
    pub fn cancel(&mut self, op: OpId) -> bool {
        let Some(pos) = self.ops.iter().position(|s| s.id == op) else {
            return false;
        };
        if pos == 0 {
            self.call = None;
            self.parked = None;
            self.flow = None;
            self.fetch_keys = false;
            self.wait_until = None;
        }
        self.ops.remove(pos);
        self.events.push_back(Event::Finished {
            op,
            result: Err(Error::new(
                ErrorCode::Cancelled,
                "",
                "cancelled by the host",
            )),
        });
        true
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`Client::poll_transmit`] again if it returned `None`: `None` when the
    /// client waits for a response or has nothing to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        if let Some(p) = &self.call {
            return if p.in_flight.is_some() {
                None
            } else {
                Some(p.due_ms)
            };
        }
        if self.ops.is_empty() {
            return None;
        }
        self.wait_until
    }

    /// True when no operation is pending and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.ops.is_empty() && self.call.is_none()
    }

    /// The next request to send at `now_ms`, if one is due.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<Transmit> {
        // Bounded: each round either returns or makes progress (an operation step).
        for _ in 0..10_000 {
            if let Some(p) = &self.call {
                if p.in_flight.is_some() || p.due_ms > now_ms {
                    return None;
                }
                if p.origin == Origin::Op && p.call.bearer && !self.is_authenticated(now_ms) {
                    self.parked = self.call.take();
                    self.begin_auth(now_ms);
                    continue;
                }
                return Some(self.transmit(now_ms));
            }
            if let Some(t) = self.wait_until {
                if t > now_ms {
                    return None;
                }
                self.wait_until = None;
            }
            // Keys first: the token authentication asks for them half-way (and would only
            // ask again, never progressing, if the flow were stepped before fetching them).
            if self.fetch_keys {
                self.set_call(Origin::Keys, self.keys_call(), now_ms);
                continue;
            }
            if self.flow.is_some() {
                self.step_auth(now_ms);
                continue;
            }
            if let Some(p) = self.parked.take() {
                self.call = Some(p);
                continue;
            }
            if !self.step_op(now_ms) {
                return None;
            }
        }
        None
    }

    fn transmit(&mut self, _now_ms: u64) -> Transmit {
        let id = TransmitId(self.next_id);
        self.next_id += 1;
        let access = self.access.as_ref().map(|t| t.value.clone());
        let problem = self.cfg.problem_details;
        let p = self.call.as_mut().expect("checked by the caller");
        let mut request = p.call.req.clone();
        if p.call.bearer {
            if let Some(t) = access {
                request = request.with_bearer(t.expose());
            }
        }
        if problem && p.call.api {
            request = request.with_problem_details();
        }
        p.in_flight = Some(id);
        Transmit { id, request }
    }

    fn set_call(&mut self, origin: Origin, call: Call, now_ms: u64) {
        let mut policy = self.cfg.retry.clone();
        policy.start(now_ms);
        self.call = Some(Pending {
            origin,
            call,
            attempt: 1,
            policy,
            due_ms: now_ms,
            in_flight: None,
            reauths: 0,
        });
    }

    fn keys_call(&self) -> Call {
        Call::get(
            &self.cfg.base_url,
            "/security/public-key-certificates",
            "public key certificates",
        )
        .no_auth()
    }

    /// Feeds the outcome of the request `id` at `now_ms`. Results for unknown or cancelled
    /// requests are ignored.
    pub fn handle_response(
        &mut self,
        now_ms: u64,
        id: TransmitId,
        result: Result<Response, TransportError>,
    ) {
        let matches = self.call.as_ref().is_some_and(|p| p.in_flight == Some(id));
        if !matches {
            return;
        }
        let outcome = Outcome::of_result(&result, now_ms);
        let p = self.call.as_mut().expect("matched above");
        p.in_flight = None;
        // 401 on an authenticated call: the access token is gone (expired, revoked):
        // authenticate again and repeat the call (twice at most).
        if let Ok(r) = &result {
            if r.status == 401 && p.origin == Origin::Op && p.call.bearer && p.reauths < 2 {
                p.reauths += 1;
                p.due_ms = now_ms;
                self.access = None;
                return;
            }
        }
        let retryable = match outcome {
            Outcome::Status { status, .. } => status == 429 || status == 408 || status >= 500,
            Outcome::Transport(_) => true, // the policy gives up on permanent kinds
        };
        if retryable {
            let safe = p.call.safe || p.call.req.is_idempotent();
            match p
                .policy
                .decide(now_ms, p.attempt, &outcome, safe, &mut self.rng)
            {
                Decision::Retry { at_ms } => {
                    let reason = match &result {
                        Ok(r) => format!("HTTP {}", r.status),
                        Err(e) => e.to_string(),
                    };
                    self.events.push_back(Event::Retrying {
                        call: p.call.label.to_string(),
                        attempt: p.attempt,
                        at_ms,
                        reason,
                    });
                    p.attempt += 1;
                    p.due_ms = at_ms;
                    return;
                }
                Decision::GiveUp(_) => {}
            }
        }
        let p = self.call.take().expect("matched above");
        let resent = p.attempt > 1;
        match result {
            Err(e) => {
                let err = Error::from(e).at(p.call.label);
                let redeeming = matches!(
                    self.flow.as_ref().map(|f| &f.state),
                    Some(Flow::Redeem { .. })
                );
                if p.origin == Origin::Auth && redeeming {
                    // The redeem may have happened: its tokens are lost, start over.
                    self.restart_auth(now_ms, err);
                } else {
                    self.fail_current(now_ms, err, p.origin);
                }
            }
            Ok(resp) => match p.origin {
                Origin::Keys => self.on_keys(now_ms, resp),
                Origin::Auth => self.on_auth(now_ms, resp, resent),
                Origin::Op => self.on_op(now_ms, resp, resent),
            },
        }
    }

    fn on_keys(&mut self, now_ms: u64, resp: Response) {
        self.fetch_keys = false;
        let parsed = api_ok(resp, now_ms, "GET /security/public-key-certificates").and_then(|r| {
            let text = core::str::from_utf8(&r.body)
                .map_err(|_| wire::bad("public key certificates", "", "the body is not UTF-8"))?;
            PublicKeyCertificates::from_json(text)
        });
        match parsed {
            Ok(k) => self.keys = Some(k),
            Err(e) => self.fail_current(now_ms, e, Origin::Keys),
        }
    }

    /// Runs `f` on the front operation with its view of the client, then applies what the
    /// operation asked for (fresh keys, dropped tokens). `None` when no operation runs.
    fn with_front<R>(
        &mut self,
        now_ms: u64,
        f: impl FnOnce(&mut (dyn Operation + Send), &mut Cx<'_>) -> R,
    ) -> Option<R> {
        let authenticated = self.is_authenticated(now_ms);
        let slot = self.ops.front_mut()?;
        let mut refresh_keys = false;
        let mut clear = false;
        let mut cx = Cx {
            now_ms,
            rng: &mut self.rng,
            cfg: &self.cfg,
            keys: self.keys.as_ref(),
            events: &mut self.events,
            op: slot.id,
            authenticated,
            refresh_keys: &mut refresh_keys,
            clear_tokens: &mut clear,
            auth_reference: self.auth_reference.as_deref(),
        };
        let r = f(slot.op.as_mut(), &mut cx);
        self.after_op_cx(refresh_keys, clear);
        Some(r)
    }

    /// Gives the failure to the running operation (which may absorb it) or ends it.
    fn fail_current(&mut self, now_ms: u64, err: Error, origin: Origin) {
        if origin != Origin::Op {
            self.flow = None;
            self.fetch_keys = false;
            self.parked = None;
        }
        let Some(absorbed) = self.with_front(now_ms, |op, cx| op.on_error(cx, err)) else {
            return;
        };
        if let Err(e) = absorbed {
            self.finish_front(Err(e));
        }
    }

    fn finish_front(&mut self, result: Result<Output, Error>) {
        if let Some(slot) = self.ops.pop_front() {
            self.call = None;
            self.parked = None;
            self.wait_until = None;
            self.events.push_back(Event::Finished {
                op: slot.id,
                result,
            });
        }
    }

    fn after_op_cx(&mut self, refresh_keys: bool, clear: bool) {
        if refresh_keys {
            self.keys = None;
        }
        if clear {
            self.access = None;
            self.refresh = None;
            self.auth_reference = None;
        }
    }

    /// Runs the front operation one step; false when there is none or it waits.
    fn step_op(&mut self, now_ms: u64) -> bool {
        let Some(step) = self.with_front(now_ms, |op, cx| op.poll(cx)) else {
            return false;
        };
        match step {
            Ok(Step::Send(call)) => {
                self.set_call(Origin::Op, call, now_ms);
                true
            }
            Ok(Step::Wait(at)) => {
                if at <= now_ms {
                    return true;
                }
                self.wait_until = Some(at);
                false
            }
            Ok(Step::NeedKeys) => {
                self.fetch_keys = true;
                true
            }
            Ok(Step::NeedAuth { fresh }) => {
                if fresh {
                    self.access = None;
                    self.refresh = None;
                }
                self.begin_auth(now_ms);
                true
            }
            Ok(Step::Done(out)) => {
                self.finish_front(Ok(out));
                true
            }
            Err(e) => {
                self.finish_front(Err(e));
                true
            }
        }
    }

    fn on_op(&mut self, now_ms: u64, resp: Response, resent: bool) {
        let Some(r) = self.with_front(now_ms, |op, cx| op.on_response(cx, resp, resent)) else {
            return;
        };
        if let Err(e) = r {
            self.fail_current(now_ms, e, Origin::Op);
        }
    }

    // -------------------------------------------------------------------------------
    // Authentication

    fn begin_auth(&mut self, now_ms: u64) {
        if self.flow.is_some() {
            return;
        }
        let state = match &self.refresh {
            Some(t) if t.usable(now_ms, self.cfg.refresh_margin_ms) => Flow::Refresh,
            _ => Flow::Challenge,
        };
        self.flow = Some(AuthFlow {
            state,
            restarts: 0,
            in_progress: false,
        });
    }

    fn step_auth(&mut self, now_ms: u64) {
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        if flow.in_progress {
            return;
        }
        let base = self.cfg.base_url.clone();
        let call = match &mut flow.state {
            Flow::Done => {
                self.flow = None;
                return;
            }
            Flow::Refresh => {
                let Some(rt) = &self.refresh else {
                    flow.state = Flow::Challenge;
                    return;
                };
                Call::post_empty(&base, "/auth/token/refresh", "POST /auth/token/refresh")
                    .no_auth()
                    .with_token(rt.value.expose())
                    .safe()
            }
            Flow::Challenge => Call::post_empty(&base, "/auth/challenge", "POST /auth/challenge")
                .no_auth()
                .safe(),
            Flow::Submit {
                challenge,
                timestamp_ms,
            } => match &self.creds {
                Credentials::KsefToken(token) => {
                    let Some(keys) = &self.keys else {
                        self.fetch_keys = true;
                        return;
                    };
                    let now_s = (now_ms / 1000) as i64;
                    let built = keys
                        .select(KeyUsage::KsefTokenEncryption, now_s)
                        .and_then(|c| {
                            let pk = c.public_key()?;
                            let enc = encrypt_ksef_token(
                                token.expose(),
                                *timestamp_ms,
                                &pk,
                                &mut self.rng,
                            )?;
                            Ok((enc, c.public_key_id.clone()))
                        });
                    let (enc, key_id) = match built {
                        Ok(v) => v,
                        Err(e) => {
                            self.fail_current(now_ms, e, Origin::Auth);
                            return;
                        }
                    };
                    let body = json!({
                        "challenge": challenge,
                        "contextIdentifier": {
                            "type": self.cfg.context.kind(),
                            "value": self.cfg.context.value(),
                        },
                        "encryptedToken": enc,
                        "publicKeyId": key_id,
                    });
                    match Call::post_json(&base, "/auth/ksef-token", &body, "POST /auth/ksef-token")
                    {
                        Ok(c) => c.no_auth().safe(),
                        Err(e) => {
                            self.fail_current(now_ms, e, Origin::Auth);
                            return;
                        }
                    }
                }
                Credentials::Certificate {
                    key,
                    certificate,
                    subject,
                } => {
                    // Signing time a minute back, as the official clients do: a clock a
                    // little ahead of KSeF's must not make the signature "from the future".
                    let secs = (now_ms / 1000) as i64 - 60;
                    let signed = AuthTokenRequest::new(challenge, self.cfg.context.clone())
                        .map(|r| r.subject_type(*subject))
                        .and_then(|r| {
                            let t = DateTime::from_unix_seconds(secs).ok_or_else(|| {
                                Error::new(
                                    ErrorCode::InvalidValue,
                                    "now",
                                    "the clock is out of range",
                                )
                            })?;
                            r.sign(key, certificate, &t)
                        });
                    match signed {
                        Ok(xml) => {
                            let mut req =
                                Request::api(Method::Post, &base, "/auth/xades-signature")
                                    .with_header("Content-Type", "application/xml");
                            req.body = xml;
                            Call::from_request(req, "POST /auth/xades-signature")
                                .no_auth()
                                .safe()
                        }
                        Err(e) => {
                            self.fail_current(now_ms, e, Origin::Auth);
                            return;
                        }
                    }
                }
            },
            Flow::Poll {
                reference,
                token,
                deadline,
                next_at,
            } => {
                if *next_at > now_ms {
                    self.wait_until = Some(*next_at);
                    return;
                }
                if now_ms > *deadline {
                    let e = Error::new(
                        ErrorCode::NotReady,
                        "GET /auth/{referenceNumber}",
                        format!(
                            "authentication {reference} still in progress after the allowed wait"
                        ),
                    );
                    self.fail_current(now_ms, e, Origin::Auth);
                    return;
                }
                let path = format!("/auth/{}", wire::pct(reference));
                Call::get(&base, &path, "GET /auth/{referenceNumber}")
                    .no_auth()
                    .with_token(token.expose())
            }
            Flow::Redeem { token, .. } => {
                // Not safe to repeat: a token can be redeemed once. A lost answer restarts
                // the authentication instead.
                Call::post_empty(&base, "/auth/token/redeem", "POST /auth/token/redeem")
                    .no_auth()
                    .with_token(token.expose())
            }
        };
        flow.in_progress = true;
        self.set_call(Origin::Auth, call, now_ms);
    }

    fn restart_auth(&mut self, now_ms: u64, why: Error) {
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        flow.in_progress = false;
        if flow.restarts >= 2 {
            self.fail_current(now_ms, why, Origin::Auth);
            return;
        }
        flow.restarts += 1;
        flow.state = Flow::Challenge;
    }

    fn on_auth(&mut self, now_ms: u64, resp: Response, _resent: bool) {
        let Some(flow) = self.flow.as_mut() else {
            return;
        };
        flow.in_progress = false;
        let state = core::mem::replace(&mut flow.state, Flow::Done);
        let mut restart: Option<Error> = None;
        let next: Result<Flow, Error> = (|| match state {
            Flow::Refresh => {
                if !resp.is_success() {
                    // The refresh token is revoked or expired: authenticate from scratch.
                    self.refresh = None;
                    return Ok(Flow::Challenge);
                }
                let v = wire::json(&resp, "POST /auth/token/refresh")?;
                let token = read_token(&v, "accessToken", "POST /auth/token/refresh", now_ms)?;
                self.access = Some(token);
                self.events.push_back(Event::Authenticated {
                    reference: String::new(),
                    refreshed: true,
                });
                Ok(Flow::Done)
            }
            Flow::Challenge => {
                let resp = api_ok(resp, now_ms, "POST /auth/challenge")?;
                let v = wire::json(&resp, "POST /auth/challenge")?;
                Ok(Flow::Submit {
                    challenge: wire::str_at(&v, "challenge", "POST /auth/challenge")?.to_string(),
                    timestamp_ms: wire::int_at(&v, "timestampMs", "POST /auth/challenge")?,
                })
            }
            Flow::Submit { .. } => {
                let what = match self.creds {
                    Credentials::KsefToken(_) => "POST /auth/ksef-token",
                    Credentials::Certificate { .. } => "POST /auth/xades-signature",
                };
                if resp.status == 400 {
                    let api = ApiError::from_response(&resp, now_ms);
                    if api.has_code(21470) {
                        // Unknown or revoked publicKeyId: fetch the keys again, new challenge.
                        self.keys = None;
                        return Ok(Flow::Challenge);
                    }
                }
                let resp = api_ok(resp, now_ms, what).map_err(|e| auth_refused(e, &self.creds))?;
                let v = wire::json(&resp, what)?;
                Ok(Flow::Poll {
                    reference: wire::str_at(&v, "referenceNumber", what)?.to_string(),
                    token: SecretString::new(wire::str_at(&v, "authenticationToken.token", what)?),
                    deadline: now_ms.saturating_add(self.cfg.max_wait_ms),
                    next_at: now_ms,
                })
            }
            Flow::Poll {
                reference,
                token,
                deadline,
                ..
            } => {
                let what = "GET /auth/{referenceNumber}";
                let resp = api_ok(resp, now_ms, what)?;
                let v = wire::json(&resp, what)?;
                let status = StatusInfo::read(&v, "status", what)?;
                match status.code {
                    100 => Ok(Flow::Poll {
                        reference,
                        token,
                        deadline,
                        next_at: now_ms.saturating_add(self.cfg.poll_interval_ms),
                    }),
                    200 => Ok(Flow::Redeem { reference, token }),
                    _ => Err(Error::new(
                        ErrorCode::AuthFailed,
                        what,
                        format!(
                            "authentication {reference} by {} failed: {}",
                            self.creds.method(),
                            status.summary()
                        ),
                    )),
                }
            }
            Flow::Redeem { reference, .. } => {
                let what = "POST /auth/token/redeem";
                let resp = match api_ok(resp, now_ms, what) {
                    Ok(r) => r,
                    // Redeemed already (a lost answer we resent) or expired: start over.
                    Err(e) => {
                        restart = Some(e);
                        return Ok(Flow::Done);
                    }
                };
                let v = wire::json(&resp, what)?;
                self.access = Some(read_token(&v, "accessToken", what, now_ms)?);
                self.refresh = Some(read_token(&v, "refreshToken", what, now_ms)?);
                self.auth_reference = Some(reference.clone());
                self.events.push_back(Event::Authenticated {
                    reference,
                    refreshed: false,
                });
                Ok(Flow::Done)
            }
            Flow::Done => Ok(Flow::Done),
        })();
        if let Some(e) = restart {
            self.restart_auth(now_ms, e);
            return;
        }
        match next {
            Ok(Flow::Done) => self.flow = None,
            Ok(state) => {
                if let Some(f) = self.flow.as_mut() {
                    f.state = state;
                }
            }
            Err(e) => self.fail_current(now_ms, e, Origin::Auth),
        }
    }
}

fn auth_refused(e: Error, creds: &Credentials) -> Error {
    if matches!(
        e.code(),
        ErrorCode::ApiError | ErrorCode::Unauthorized | ErrorCode::Forbidden
    ) {
        Error::new(
            ErrorCode::AuthFailed,
            e.path(),
            format!("KSeF refused the {}: {}", creds.method(), e.message()),
        )
    } else {
        e
    }
}

fn read_token(v: &Value, field: &str, what: &str, now_ms: u64) -> Result<Token, Error> {
    let token = wire::str_at(v, &format!("{field}.token"), what)?;
    let until = wire::time_ms_at(v, &format!("{field}.validUntil"), what)?;
    Ok(Token {
        value: SecretString::new(token),
        valid_until_ms: until,
        obtained_ms: now_ms,
    })
}

/// The response if it is a success (2xx), else its [`ApiError`] as an [`Error`] whose path
/// names the call.
pub(crate) fn api_ok(resp: Response, now_ms: u64, what: &str) -> Result<Response, Error> {
    if resp.is_success() {
        Ok(resp)
    } else {
        let e = Error::from(ApiError::from_response(&resp, now_ms));
        Err(e.at(what))
    }
}

/// True for `400` with KSeF code 21470 (unknown or revoked `publicKeyId`).
pub(crate) fn unknown_public_key(resp: &Response, now_ms: u64) -> bool {
    resp.status == 400 && ApiError::from_response(resp, now_ms).has_code(21470)
}

/// The `encryption` object of an open-session or export request: `key` wrapped with the
/// `SymmetricKeyEncryption` certificate valid at `now_ms`, the IV, and that certificate's
/// `publicKeyId`.
pub(crate) fn encryption_json(
    keys: &PublicKeyCertificates,
    now_ms: u64,
    key: &crate::crypto::session::SessionKey,
    rng: &mut ChaCha20Rng,
) -> Result<Value, Error> {
    let (pk, key_id) = symmetric_key(keys, now_ms)?;
    let enc = key.encryption_info(&pk, Some(&key_id), rng)?;
    serde_json::to_value(&enc)
        .map_err(|e| Error::new(ErrorCode::JsonSyntax, "encryption", format!("{e}")))
}

/// The public key certificates' selection, used by operations that wrap a session key.
pub(crate) fn symmetric_key(
    keys: &PublicKeyCertificates,
    now_ms: u64,
) -> Result<(crate::crypto::keys::PublicKey, String), Error> {
    let c = keys.select(KeyUsage::SymmetricKeyEncryption, (now_ms / 1000) as i64)?;
    Ok((c.public_key()?, c.public_key_id.clone()))
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>() {}
    is_send::<Client>();
}
