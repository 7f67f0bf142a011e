//! The operation interface the [`super::Client`] runs, the calls operations make, what they
//! produce, and the small operations (status, downloads, auth sessions).

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use rand_chacha::ChaCha20Rng;
use serde_json::Value;

use crate::crypto::public_keys::PublicKeyCertificates;
use crate::error::{Error, ErrorCode};
use crate::http::{Method, Request, Response};

use super::client::{api_ok, Config, Event, OpId};
use super::wire::{self, StatusInfo};

/// One HTTP call an operation wants made.
#[derive(Clone)]
pub(crate) struct Call {
    pub(crate) req: Request,
    /// Add the access token (and authenticate first if there is none).
    pub(crate) bearer: bool,
    /// A KSeF API call (gets `X-Error-Format`); false for pre-signed URLs.
    pub(crate) api: bool,
    /// Harmless to repeat after a lost answer (the reason is at each call site).
    pub(crate) safe: bool,
    /// The call as the OpenAPI names it (`GET /sessions/{referenceNumber}`).
    pub(crate) label: &'static str,
}

impl Call {
    pub(crate) fn from_request(req: Request, label: &'static str) -> Call {
        Call {
            req,
            bearer: true,
            api: true,
            safe: false,
            label,
        }
    }

    pub(crate) fn get(base: &str, path: &str, label: &'static str) -> Call {
        Call::from_request(Request::api(Method::Get, base, path), label)
    }

    pub(crate) fn delete(base: &str, path: &str, label: &'static str) -> Call {
        Call::from_request(Request::api(Method::Delete, base, path), label)
    }

    pub(crate) fn post_empty(base: &str, path: &str, label: &'static str) -> Call {
        Call::from_request(Request::api(Method::Post, base, path), label)
    }

    pub(crate) fn post_json(
        base: &str,
        path: &str,
        body: &Value,
        label: &'static str,
    ) -> Result<Call, Error> {
        Ok(Call::from_request(
            Request::json(Method::Post, base, path, body)?,
            label,
        ))
    }

    /// A plain request to an absolute (pre-signed) URL: no token, no KSeF headers.
    pub(crate) fn url(method: Method, url: &str, label: &'static str) -> Call {
        Call {
            req: Request::new(method, url),
            bearer: false,
            api: false,
            safe: true,
            label,
        }
    }

    pub(crate) fn no_auth(mut self) -> Call {
        self.bearer = false;
        self
    }

    pub(crate) fn safe(mut self) -> Call {
        self.safe = true;
        self
    }

    pub(crate) fn with_token(mut self, token: &str) -> Call {
        self.req = self.req.with_bearer(token);
        self
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Call {
        self.req = self.req.with_header(name, value);
        self
    }
}

/// What an operation's `poll` asks for next.
// Transient (returned and consumed at once).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    Send(Call),
    Wait(u64),
    NeedKeys,
    NeedAuth { fresh: bool },
    Done(Output),
}

/// What an operation sees of the client while it runs.
pub(crate) struct Cx<'a> {
    pub(crate) now_ms: u64,
    pub(crate) rng: &'a mut ChaCha20Rng,
    pub(crate) cfg: &'a Config,
    pub(crate) keys: Option<&'a PublicKeyCertificates>,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) op: OpId,
    pub(crate) authenticated: bool,
    pub(crate) refresh_keys: &'a mut bool,
    pub(crate) clear_tokens: &'a mut bool,
    pub(crate) auth_reference: Option<&'a str>,
}

impl Cx<'_> {
    pub(crate) fn base(&self) -> &str {
        &self.cfg.base_url
    }

    pub(crate) fn emit(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// `now + poll interval`, or `NotReady` once `deadline` has passed.
    pub(crate) fn next_poll(&self, deadline: u64, what: &str) -> Result<u64, Error> {
        if self.now_ms >= deadline {
            return Err(Error::new(
                ErrorCode::NotReady,
                what,
                format!(
                    "not ready after {} s of polling",
                    self.cfg.max_wait_ms / 1000
                ),
            ));
        }
        Ok(self.now_ms.saturating_add(self.cfg.poll_interval_ms))
    }

    /// A `400/21470` answer (the `publicKeyId` we wrapped a key with was rotated out): asks
    /// the client to fetch the keys again, once per operation (`retried` remembers). True
    /// when the operation should simply poll again (and wrap its key anew).
    pub(crate) fn keys_rotated(&mut self, resp: &Response, retried: &mut bool) -> bool {
        if *retried || !super::client::unknown_public_key(resp, self.now_ms) {
            return false;
        }
        *retried = true;
        *self.refresh_keys = true;
        true
    }

    pub(crate) fn deadline(&self) -> u64 {
        self.now_ms.saturating_add(self.cfg.max_wait_ms)
    }
}

/// A unit of work the client runs (an online session, a query…).
pub(crate) trait Operation {
    /// The next thing to do.
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error>;
    /// The response to the last `Step::Send` (any status: retries and 401 are handled by
    /// the client). `resent`: the request went out more than once.
    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, resent: bool) -> Result<(), Error>;
    /// A failure below the operation (transport, authentication, keys). `Ok` absorbs it
    /// (the operation is polled again), `Err` ends the operation.
    fn on_error(&mut self, _cx: &mut Cx<'_>, err: Error) -> Result<(), Error> {
        Err(err)
    }
}

/// What a finished operation produced.
#[derive(Debug)]
#[non_exhaustive]
// Produced once per operation and moved to the host: not worth boxing every variant.
#[allow(clippy::large_enum_variant)]
pub enum Output {
    /// [`super::Client::authenticate`]: the authentication reference number.
    Authenticated {
        /// The reference number of the authentication operation.
        reference: String,
    },
    /// [`super::Client::logout`] or [`super::Client::terminate_auth_session`].
    Terminated,
    /// [`super::Client::send_online`].
    Online(super::online::OnlineResult),
    /// [`super::Client::send_batch`].
    Batch(super::batch_session::BatchResult),
    /// [`super::Client::session_status`].
    SessionStatus(SessionStatus),
    /// [`super::Client::invoice_status`].
    InvoiceStatus(InvoiceStatus),
    /// [`super::Client::session_invoices`], [`super::Client::failed_invoices`]: all pages.
    Invoices(Vec<InvoiceStatus>),
    /// [`super::Client::download_upo`]: the UPO XML.
    Upo(Vec<u8>),
    /// [`super::Client::download_invoice`].
    Invoice(alloc::boxed::Box<super::inbox::DownloadedInvoice>),
    /// [`super::Client::query_metadata`].
    Metadata(super::inbox::MetadataResult),
    /// [`super::Client::export_invoices`].
    Export(super::inbox::ExportResult),
    /// [`super::Client::generate_token`].
    Token(super::onboarding::GeneratedToken),
    /// [`super::Client::list_auth_sessions`].
    AuthSessions(Vec<super::onboarding::AuthSession>),
    /// [`super::Client::enroll_certificate`].
    Certificate(super::onboarding::EnrolledCertificate),
    /// [`super::Client::test_connection`].
    Connection(super::onboarding::ConnectionVerdict),
}

/// A session's status (`GET /sessions/{referenceNumber}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// The session reference number.
    pub reference: String,
    /// `status`: 100 open, 150 processing (batch), 170 closed, 200 processed, 4xx failed.
    pub status: StatusInfo,
    /// `invoiceCount`.
    pub invoice_count: Option<i64>,
    /// `successfulInvoiceCount`.
    pub successful_invoice_count: Option<i64>,
    /// `failedInvoiceCount`.
    pub failed_invoice_count: Option<i64>,
    /// The session UPO pages: (UPO reference number, download URL).
    pub upo_pages: Vec<UpoPageRef>,
}

/// A page of a session UPO, to download.
#[derive(Clone, PartialEq, Eq)]
pub struct UpoPageRef {
    /// `referenceNumber` of the page.
    pub reference: String,
    /// `downloadUrl` (pre-signed: no token needed; hidden in `Debug`).
    pub download_url: String,
}

impl fmt::Debug for UpoPageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpoPageRef")
            .field("reference", &self.reference)
            .field("download_url", &"[pre-signed]")
            .finish()
    }
}

impl SessionStatus {
    pub(crate) fn read(reference: &str, v: &Value) -> Result<SessionStatus, Error> {
        let what = "GET /sessions/{referenceNumber}";
        let mut upo_pages = Vec::new();
        for (i, p) in wire::array_at(v, "upo.pages").iter().enumerate() {
            upo_pages.push(UpoPageRef {
                reference: wire::str_at(p, "referenceNumber", what)
                    .map_err(|e| e.at(format!("upo.pages[{i}]")))?
                    .to_string(),
                download_url: wire::str_at(p, "downloadUrl", what)
                    .map_err(|e| e.at(format!("upo.pages[{i}]")))?
                    .to_string(),
            });
        }
        Ok(SessionStatus {
            reference: reference.to_string(),
            status: StatusInfo::read(v, "status", what)?,
            invoice_count: wire::at(v, "invoiceCount").and_then(Value::as_i64),
            successful_invoice_count: wire::at(v, "successfulInvoiceCount").and_then(Value::as_i64),
            failed_invoice_count: wire::at(v, "failedInvoiceCount").and_then(Value::as_i64),
            upo_pages,
        })
    }

    /// True once KSeF has finished with the session (any status but 100, 150 and 170).
    pub fn is_final(&self) -> bool {
        !matches!(self.status.code, 100 | 150 | 170)
    }
}

/// One invoice's status in a session (`SessionInvoiceStatusResponse`).
#[derive(Clone, PartialEq, Eq)]
pub struct InvoiceStatus {
    /// `ordinalNumber`.
    pub ordinal_number: i64,
    /// `referenceNumber` of the invoice.
    pub reference: String,
    /// `invoiceNumber` (P_2), once read by KSeF.
    pub invoice_number: Option<String>,
    /// `ksefNumber`, once assigned.
    pub ksef_number: Option<String>,
    /// `invoiceHash` (base64 SHA-256 of the invoice).
    pub invoice_hash: String,
    /// `invoiceFileName` (batch sessions: the name inside the ZIP).
    pub invoice_file_name: Option<String>,
    /// `acquisitionDate`: when KSeF assigned the number (the legal receipt date).
    pub acquisition_date: Option<String>,
    /// `status`: 100/150 processing, 200 success, 4xx failures (440 duplicate…).
    pub status: StatusInfo,
    /// For a duplicate (440): the session and KSeF number of the invoice already held.
    pub original: Option<(String, String)>,
    /// `upoDownloadUrl` (pre-signed; hidden in `Debug`).
    pub upo_download_url: Option<String>,
}

impl fmt::Debug for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceStatus")
            .field("ordinal_number", &self.ordinal_number)
            .field("reference", &self.reference)
            .field("invoice_number", &self.invoice_number)
            .field("ksef_number", &self.ksef_number)
            .field("invoice_hash", &self.invoice_hash)
            .field("invoice_file_name", &self.invoice_file_name)
            .field("status", &self.status)
            .field("original", &self.original)
            .finish_non_exhaustive()
    }
}

impl InvoiceStatus {
    pub(crate) fn read(v: &Value, what: &str) -> Result<InvoiceStatus, Error> {
        let s = |k: &str| wire::opt_str(v, k).map(String::from);
        let original = match (
            wire::opt_str(v, "status.extensions.originalSessionReferenceNumber"),
            wire::opt_str(v, "status.extensions.originalKsefNumber"),
        ) {
            (Some(a), Some(b)) => Some((a.to_string(), b.to_string())),
            (None, Some(b)) => Some((String::new(), b.to_string())),
            _ => None,
        };
        Ok(InvoiceStatus {
            ordinal_number: wire::int_at(v, "ordinalNumber", what)?,
            reference: wire::str_at(v, "referenceNumber", what)?.to_string(),
            invoice_number: s("invoiceNumber"),
            ksef_number: s("ksefNumber"),
            invoice_hash: wire::str_at(v, "invoiceHash", what)?.to_string(),
            invoice_file_name: s("invoiceFileName"),
            acquisition_date: s("acquisitionDate"),
            status: StatusInfo::read(v, "status", what)?,
            original,
            upo_download_url: s("upoDownloadUrl"),
        })
    }

    /// True while KSeF is still working on it (100, 150).
    pub fn is_processing(&self) -> bool {
        matches!(self.status.code, 100 | 150)
    }

    /// The failure as an error (duplicate → [`ErrorCode::Duplicate`], other 4xx/5xx →
    /// [`ErrorCode::InvoiceRejected`]); `None` for success or still processing.
    pub fn error(&self) -> Option<Error> {
        match self.status.code {
            100 | 150 | 200 => None,
            440 => Some(Error::new(
                ErrorCode::Duplicate,
                self.reference.as_str(),
                match &self.original {
                    Some((_, n)) => format!(
                        "duplicate of the invoice with KSeF number {n}: {}",
                        self.status.summary()
                    ),
                    None => format!("duplicate: {}", self.status.summary()),
                },
            )),
            _ => Some(Error::new(
                ErrorCode::InvoiceRejected,
                self.reference.as_str(),
                self.status.summary(),
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Small operations

/// Authenticate (or check the tokens), nothing else.
pub(crate) struct Authenticate {
    pub(crate) fresh: bool,
}

impl Operation for Authenticate {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if self.fresh {
            self.fresh = false;
            return Ok(Step::NeedAuth { fresh: true });
        }
        if !cx.authenticated {
            return Ok(Step::NeedAuth { fresh: false });
        }
        Ok(Step::Done(Output::Authenticated {
            reference: cx.auth_reference.unwrap_or_default().to_string(),
        }))
    }

    fn on_response(&mut self, _: &mut Cx<'_>, _: Response, _: bool) -> Result<(), Error> {
        Ok(())
    }
}

/// `DELETE /auth/sessions/current` or `/auth/sessions/{ref}`.
pub(crate) struct Terminate {
    pub(crate) reference: Option<String>,
    pub(crate) done: bool,
}

impl Operation for Terminate {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if self.done {
            return Ok(Step::Done(Output::Terminated));
        }
        // Repeating a DELETE is harmless (idempotent).
        Ok(Step::Send(match &self.reference {
            None => Call::delete(
                cx.base(),
                "/auth/sessions/current",
                "DELETE /auth/sessions/current",
            ),
            Some(r) => Call::delete(
                cx.base(),
                &format!("/auth/sessions/{}", wire::pct(r)),
                "DELETE /auth/sessions/{referenceNumber}",
            ),
        }))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        api_ok(resp, cx.now_ms, "DELETE /auth/sessions")?;
        if self.reference.is_none() || cx.auth_reference == self.reference.as_deref() {
            *cx.clear_tokens = true;
        }
        self.done = true;
        Ok(())
    }
}

/// `GET /sessions/{ref}`.
pub(crate) struct GetSessionStatus {
    pub(crate) reference: String,
    pub(crate) result: Option<SessionStatus>,
}

impl Operation for GetSessionStatus {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(s) = self.result.take() {
            return Ok(Step::Done(Output::SessionStatus(s)));
        }
        Ok(Step::Send(Call::get(
            cx.base(),
            &format!("/sessions/{}", wire::pct(&self.reference)),
            "GET /sessions/{referenceNumber}",
        )))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let resp = api_ok(resp, cx.now_ms, "GET /sessions/{referenceNumber}")?;
        let v = wire::json(&resp, "GET /sessions/{referenceNumber}")?;
        self.result = Some(SessionStatus::read(&self.reference, &v)?);
        Ok(())
    }
}

/// `GET /sessions/{ref}/invoices/{invoiceRef}`.
pub(crate) struct GetInvoiceStatus {
    pub(crate) session: String,
    pub(crate) invoice: String,
    pub(crate) result: Option<InvoiceStatus>,
}

impl Operation for GetInvoiceStatus {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(s) = self.result.take() {
            return Ok(Step::Done(Output::InvoiceStatus(s)));
        }
        Ok(Step::Send(Call::get(
            cx.base(),
            &format!(
                "/sessions/{}/invoices/{}",
                wire::pct(&self.session),
                wire::pct(&self.invoice)
            ),
            "GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}",
        )))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let what = "GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}";
        let resp = api_ok(resp, cx.now_ms, what)?;
        let v = wire::json(&resp, what)?;
        self.result = Some(InvoiceStatus::read(&v, what)?);
        Ok(())
    }
}

/// `GET /sessions/{ref}/invoices` or `…/invoices/failed`, every page.
pub(crate) struct ListInvoices {
    pub(crate) session: String,
    pub(crate) failed: bool,
    pub(crate) token: Option<String>,
    pub(crate) items: Vec<InvoiceStatus>,
    pub(crate) done: bool,
}

impl Operation for ListInvoices {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if self.done {
            return Ok(Step::Done(Output::Invoices(core::mem::take(
                &mut self.items,
            ))));
        }
        Ok(Step::Send(super::session::list_call(
            cx.base(),
            &self.session,
            self.failed,
            cx.cfg.page_size,
            self.token.as_deref(),
        )))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let (items, next) = super::session::read_list(resp, cx.now_ms)?;
        self.items.extend(items);
        match next {
            Some(t) => self.token = Some(t),
            None => self.done = true,
        }
        Ok(())
    }
}

/// Which UPO to download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpoRef {
    /// One invoice's UPO by its invoice reference number.
    Invoice {
        /// The session.
        session: String,
        /// The invoice reference number.
        invoice: String,
    },
    /// One invoice's UPO by its KSeF number.
    KsefNumber {
        /// The session.
        session: String,
        /// The KSeF number.
        ksef_number: String,
    },
    /// A session UPO page by its UPO reference number.
    Session {
        /// The session.
        session: String,
        /// The UPO page reference number.
        upo: String,
    },
}

/// Downloads a UPO and checks it reads as UPO v4-3.
pub(crate) struct DownloadUpo {
    pub(crate) which: UpoRef,
    pub(crate) result: Option<Vec<u8>>,
}

impl Operation for DownloadUpo {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(x) = self.result.take() {
            return Ok(Step::Done(Output::Upo(x)));
        }
        let (path, label) = match &self.which {
            UpoRef::Invoice { session, invoice } => (
                format!(
                    "/sessions/{}/invoices/{}/upo",
                    wire::pct(session),
                    wire::pct(invoice)
                ),
                "GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}/upo",
            ),
            UpoRef::KsefNumber {
                session,
                ksef_number,
            } => (
                format!(
                    "/sessions/{}/invoices/ksef/{}/upo",
                    wire::pct(session),
                    wire::pct(ksef_number)
                ),
                "GET /sessions/{referenceNumber}/invoices/ksef/{ksefNumber}/upo",
            ),
            UpoRef::Session { session, upo } => (
                format!("/sessions/{}/upo/{}", wire::pct(session), wire::pct(upo)),
                "GET /sessions/{referenceNumber}/upo/{upoReferenceNumber}",
            ),
        };
        Ok(Step::Send(
            Call::get(cx.base(), &path, label).with_header("Accept", "application/xml"),
        ))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let resp = api_ok(resp, cx.now_ms, "GET UPO")?;
        check_upo(&resp)?;
        self.result = Some(resp.body);
        Ok(())
    }
}

/// Checks a downloaded UPO: the `x-ms-meta-hash` header (when sent) matches, and the
/// document reads as UPO v4-3.
pub(crate) fn check_upo(resp: &Response) -> Result<super::upo::Upo, Error> {
    if let Some(h) = resp.header("x-ms-meta-hash") {
        let ours = crate::crypto::hash::sha256(&resp.body).to_base64();
        if h.trim() != ours {
            return Err(Error::new(
                ErrorCode::IntegrityCheck,
                "UPO",
                format!("the UPO does not match its x-ms-meta-hash ({h} ≠ {ours})"),
            ));
        }
    }
    super::upo::Upo::parse(&resp.body)
}
