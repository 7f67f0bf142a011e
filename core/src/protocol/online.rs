//! The online (interactive) session: open with a wrapped AES key, send invoices, close,
//! wait for processing, collect KSeF numbers and UPOs.
//!
//! Resending an invoice after a lost answer is allowed, and this is the argument: KSeF
//! refuses a second invoice with the same seller NIP, kind and number (status 440) and names
//! the original in `extensions`. When a resent invoice comes back as a duplicate of an
//! invoice accepted **in this same session**, it was our own first attempt that got through,
//! so the invoice counts as accepted with the original KSeF number — accepted exactly once.
//! A duplicate of an invoice from another session stays an error ([`ErrorCode::Duplicate`]).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{json, Value};

use crate::crypto::session::SessionKey;
use crate::error::{Error, ErrorCode};
use crate::http::{Method, Response};
use crate::model::SchemaVersion;

use super::client::{api_ok, encryption_json, Event};
use super::ops::{check_upo, Call, Cx, InvoiceStatus, Operation, Output, SessionStatus, Step};
use super::session;
use super::wire;

/// The `formCode` of a session: which structure its invoices follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FormCode {
    /// FA (3), schema 1-0E — every environment.
    Fa3,
    /// FA (2), schema 1-0E — the TEST environment only.
    Fa2,
}

impl FormCode {
    /// `systemCode` (note the space: `FA (3)`).
    pub const fn system_code(self) -> &'static str {
        match self {
            FormCode::Fa3 => "FA (3)",
            FormCode::Fa2 => "FA (2)",
        }
    }

    /// `schemaVersion`.
    pub const fn schema_version(self) -> &'static str {
        "1-0E"
    }

    /// `value`.
    pub const fn value(self) -> &'static str {
        "FA"
    }

    /// The form of an invoice schema.
    pub const fn of(schema: SchemaVersion) -> FormCode {
        match schema {
            SchemaVersion::Fa2 => FormCode::Fa2,
            SchemaVersion::Fa3 => FormCode::Fa3,
        }
    }

    /// The `formCode` object.
    pub fn to_json(self) -> Value {
        json!({
            "systemCode": self.system_code(),
            "schemaVersion": self.schema_version(),
            "value": self.value(),
        })
    }
}

/// What to send in one online session.
#[derive(Clone)]
#[non_exhaustive]
pub struct OnlineSend {
    /// The structure of every invoice.
    pub form: FormCode,
    /// The invoices, as the exact XML bytes to send (hashes are taken over these bytes).
    pub invoices: Vec<Vec<u8>>,
    /// Mark them as issued in an offline mode (`offlineMode: true`).
    pub offline_mode: bool,
    /// Download each invoice's UPO and the session UPO.
    pub fetch_upo: bool,
    /// Per invoice (same positions as `invoices`; shorter = none): the SHA-256 of the
    /// rejected offline invoice this one technically corrects (`hashOfCorrectedInvoice`).
    pub corrected_hashes: Vec<Option<[u8; 32]>>,
}

impl fmt::Debug for OnlineSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnlineSend")
            .field("form", &self.form)
            .field("invoices", &self.invoices.len())
            .field("offline_mode", &self.offline_mode)
            .field("fetch_upo", &self.fetch_upo)
            .finish()
    }
}

impl OnlineSend {
    /// Send `invoices` of `form`, fetching UPOs.
    pub fn new(form: FormCode, invoices: Vec<Vec<u8>>) -> OnlineSend {
        OnlineSend {
            form,
            invoices,
            offline_mode: false,
            fetch_upo: true,
            corrected_hashes: Vec::new(),
        }
    }

    /// The technical correction (`korekta techniczna`) of an offline invoice KSeF rejected:
    /// the fixed bytes `xml`, sent alone (one correction at a time, as the docs require) with
    /// `offlineMode: true` and `hashOfCorrectedInvoice` = `corrected_sha256`, the hash of the
    /// rejected file.
    pub fn technical_correction(
        form: FormCode,
        xml: Vec<u8>,
        corrected_sha256: [u8; 32],
    ) -> OnlineSend {
        OnlineSend {
            form,
            invoices: alloc::vec![xml],
            offline_mode: true,
            fetch_upo: true,
            corrected_hashes: alloc::vec![Some(corrected_sha256)],
        }
    }

    /// Marks the invoices as issued offline.
    pub fn offline(mut self, yes: bool) -> OnlineSend {
        self.offline_mode = yes;
        self
    }

    /// Whether to download UPOs.
    pub fn fetch_upo(mut self, yes: bool) -> OnlineSend {
        self.fetch_upo = yes;
        self
    }
}

/// What happened to one invoice of a session.
#[derive(Clone)]
pub struct InvoiceOutcome {
    /// Its position in the input.
    pub index: usize,
    /// The invoice reference number KSeF gave it (none if it was refused on sending).
    pub reference: Option<String>,
    /// The KSeF number, when accepted.
    pub ksef_number: Option<String>,
    /// The last status KSeF reported, when it got that far.
    pub status: Option<InvoiceStatus>,
    /// Why it was not accepted.
    pub error: Option<Error>,
    /// The invoice's UPO XML (UPO v4-3), when asked for and accepted.
    pub upo: Option<Vec<u8>>,
    /// True when the invoice was recognised as our own earlier attempt (a duplicate of an
    /// invoice accepted in this session after a lost answer).
    pub deduplicated: bool,
}

impl fmt::Debug for InvoiceOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceOutcome")
            .field("index", &self.index)
            .field("reference", &self.reference)
            .field("ksef_number", &self.ksef_number)
            .field("error", &self.error)
            .field("upo", &self.upo.as_ref().map(Vec::len))
            .field("deduplicated", &self.deduplicated)
            .finish()
    }
}

impl InvoiceOutcome {
    pub(crate) fn new(index: usize) -> InvoiceOutcome {
        InvoiceOutcome {
            index,
            reference: None,
            ksef_number: None,
            status: None,
            error: None,
            upo: None,
            deduplicated: false,
        }
    }

    /// True when KSeF accepted the invoice.
    pub fn is_accepted(&self) -> bool {
        self.ksef_number.is_some() && self.error.is_none()
    }
}

/// The result of a session: [`super::Client::send_online`] ([`OnlineResult`]) and
/// [`super::Client::send_batch`] ([`super::BatchResult`]).
#[derive(Debug, Clone)]
pub struct SessionResult {
    /// The session reference number.
    pub session: String,
    /// The final session status.
    pub status: SessionStatus,
    /// One outcome per input invoice, in input order.
    pub invoices: Vec<InvoiceOutcome>,
    /// The session UPO pages (UPO v4-3 XML), when asked for.
    pub session_upo: Vec<Vec<u8>>,
}

/// The result of [`super::Client::send_online`].
pub type OnlineResult = SessionResult;

impl SessionResult {
    /// The result of a finished session, taking the outcomes and UPO pages collected.
    pub(crate) fn take(
        session: &str,
        status: &Option<SessionStatus>,
        outcomes: &mut Vec<InvoiceOutcome>,
        session_upo: &mut Vec<Vec<u8>>,
    ) -> Result<SessionResult, Error> {
        Ok(SessionResult {
            session: session.to_string(),
            status: session::final_status(status)?,
            invoices: core::mem::take(outcomes),
            session_upo: core::mem::take(session_upo),
        })
    }

    /// The number of accepted invoices.
    pub fn accepted(&self) -> usize {
        self.invoices.iter().filter(|i| i.is_accepted()).count()
    }
}

enum State {
    Open,
    Send(usize),
    Close,
    Poll {
        deadline: u64,
    },
    List {
        token: Option<String>,
        deadline: u64,
    },
    InvoiceUpo(usize),
    SessionUpo(usize),
    Done,
}

pub(crate) struct OnlineOp {
    send: OnlineSend,
    key: Option<SessionKey>,
    session: String,
    state: State,
    outcomes: Vec<InvoiceOutcome>,
    resent: Vec<bool>,
    status: Option<SessionStatus>,
    /// Statuses of invoices we do not know (our own first attempts after lost answers).
    extra: Vec<InvoiceStatus>,
    session_upo: Vec<Vec<u8>>,
    wait: Option<u64>,
    retried_keys: bool,
    upo_retries: u32,
}

impl OnlineOp {
    pub(crate) fn new(send: OnlineSend) -> OnlineOp {
        let n = send.invoices.len();
        OnlineOp {
            send,
            key: None,
            session: String::new(),
            state: State::Open,
            outcomes: (0..n).map(InvoiceOutcome::new).collect(),
            resent: alloc::vec![false; n],
            status: None,
            extra: Vec::new(),
            session_upo: Vec::new(),
            wait: None,
            retried_keys: false,
            upo_retries: 0,
        }
    }

    fn path(&self, tail: &str) -> String {
        format!("/sessions/{}{tail}", wire::pct(&self.session))
    }

    /// Moves to the UPO downloads or finishes.
    fn after_list(&mut self) {
        self.state = if self.send.fetch_upo {
            State::InvoiceUpo(0)
        } else {
            State::Done
        };
    }

    fn resolve(&mut self) {
        for (i, out) in self.outcomes.iter_mut().enumerate() {
            let Some(st) = &out.status else {
                if out.reference.is_some() && out.error.is_none() {
                    out.error = Some(Error::new(
                        ErrorCode::BadResponse,
                        out.reference.clone().unwrap_or_default(),
                        "KSeF did not list this invoice in its session",
                    ));
                }
                continue;
            };
            if st.status.code == 200 {
                out.ksef_number = st.ksef_number.clone();
                if out.ksef_number.is_none() {
                    out.error = Some(Error::new(
                        ErrorCode::BadResponse,
                        st.reference.as_str(),
                        "status 200 without a KSeF number",
                    ));
                }
                continue;
            }
            if st.status.code == 440 && self.resent[i] {
                if let Some((sess, num)) = &st.original {
                    if sess.is_empty() || *sess == self.session {
                        out.ksef_number = Some(num.clone());
                        out.deduplicated = true;
                        continue;
                    }
                }
            }
            out.error = st.error();
        }
    }
}

impl Operation for OnlineOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(t) = self.wait.take() {
            if t > cx.now_ms {
                self.wait = Some(t);
                return Ok(Step::Wait(t));
            }
        }
        let base = cx.base().to_string();
        match &self.state {
            State::Open => {
                let Some(keys) = cx.keys else {
                    return Ok(Step::NeedKeys);
                };
                let key = SessionKey::generate(cx.rng);
                let encryption = encryption_json(keys, cx.now_ms, &key, cx.rng)?;
                self.key = Some(key);
                let body = json!({
                    "formCode": self.send.form.to_json(),
                    "encryption": encryption,
                });
                // A repeat after a lost answer opens a second, empty session, which KSeF
                // cancels on its own (status 440): harmless.
                Ok(Step::Send(
                    Call::post_json(&base, "/sessions/online", &body, "POST /sessions/online")?
                        .safe(),
                ))
            }
            State::Send(i) => {
                let i = *i;
                if i >= self.send.invoices.len() {
                    self.state = State::Close;
                    return self.poll(cx);
                }
                let key = self
                    .key
                    .as_ref()
                    .ok_or_else(|| Error::new(ErrorCode::BadResponse, "", "no session key"))?;
                let mut req = key.encrypt_invoice(&self.send.invoices[i]);
                if self.send.offline_mode {
                    req = req.offline();
                }
                if let Some(Some(h)) = self.send.corrected_hashes.get(i) {
                    req = req.technical_correction(h);
                }
                let body: Value = serde_json::from_str(&req.to_json())
                    .map_err(|e| Error::new(ErrorCode::JsonSyntax, "", format!("{e}")))?;
                // Safe to repeat: see the module documentation (duplicates are resolved).
                Ok(Step::Send(
                    Call::post_json(
                        &base,
                        &format!("/sessions/online/{}/invoices", wire::pct(&self.session)),
                        &body,
                        "POST /sessions/online/{referenceNumber}/invoices",
                    )?
                    .safe(),
                ))
            }
            State::Close => Ok(Step::Send(session::close_call(
                &base,
                "online",
                &self.session,
                "POST /sessions/online/{referenceNumber}/close",
            ))),
            State::Poll { .. } => Ok(Step::Send(session::status_call(&base, &self.session))),
            State::List { token, .. } => Ok(Step::Send(session::list_call(
                &base,
                &self.session,
                false,
                cx.cfg.page_size,
                token.as_deref(),
            ))),
            State::InvoiceUpo(i) => {
                let i = *i;
                let Some(out) = self.outcomes.get(i) else {
                    self.state = State::SessionUpo(0);
                    return self.poll(cx);
                };
                if !out.is_accepted() {
                    self.state = State::InvoiceUpo(i + 1);
                    return self.poll(cx);
                }
                let st = out.status.as_ref();
                if let (false, Some(url)) = (
                    out.deduplicated,
                    st.and_then(|s| s.upo_download_url.as_deref()),
                ) {
                    return Ok(Step::Send(Call::url(
                        Method::Get,
                        url,
                        "GET upoDownloadUrl",
                    )));
                }
                let num = out.ksef_number.clone().unwrap_or_default();
                Ok(Step::Send(
                    Call::get(
                        &base,
                        &self.path(&format!("/invoices/ksef/{}/upo", wire::pct(&num))),
                        "GET /sessions/{referenceNumber}/invoices/ksef/{ksefNumber}/upo",
                    )
                    .with_header("Accept", "application/xml"),
                ))
            }
            State::SessionUpo(i) => match session::session_upo_call(self.status.as_ref(), *i) {
                Some(call) => Ok(Step::Send(call)),
                None => {
                    self.state = State::Done;
                    self.poll(cx)
                }
            },
            State::Done => Ok(Step::Done(Output::Online(SessionResult::take(
                &self.session,
                &self.status,
                &mut self.outcomes,
                &mut self.session_upo,
            )?))),
        }
    }

    fn on_error(&mut self, cx: &mut Cx<'_>, err: Error) -> Result<(), Error> {
        // Once invoices are in KSeF, a passing failure while waiting for the outcome must not
        // throw their numbers away: keep polling until the deadline.
        let passing = session::is_passing(&err);
        match &self.state {
            State::Poll { deadline } | State::List { deadline, .. } if passing => {
                self.wait = Some(cx.next_poll(*deadline, "session status").map_err(|_| err)?);
                Ok(())
            }
            State::InvoiceUpo(_) | State::SessionUpo(_) if passing && self.upo_retries < 20 => {
                self.upo_retries += 1;
                self.wait = Some(cx.now_ms.saturating_add(cx.cfg.poll_interval_ms));
                Ok(())
            }
            _ => Err(err),
        }
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, resent: bool) -> Result<(), Error> {
        match self.state {
            State::Open => {
                let what = "POST /sessions/online";
                if cx.keys_rotated(&resp, &mut self.retried_keys) {
                    return Ok(());
                }
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                self.session = wire::str_at(&v, "referenceNumber", what)?.to_string();
                cx.emit(Event::SessionOpened {
                    op: cx.op,
                    reference: self.session.clone(),
                });
                self.state = State::Send(0);
            }
            State::Send(i) => {
                let what = "POST /sessions/online/{referenceNumber}/invoices";
                self.resent[i] = resent;
                match api_ok(resp, cx.now_ms, what) {
                    Ok(resp) => {
                        let v = wire::json(&resp, what)?;
                        let r = wire::str_at(&v, "referenceNumber", what)?.to_string();
                        cx.emit(Event::InvoiceSent {
                            op: cx.op,
                            index: i,
                            reference: r.clone(),
                        });
                        self.outcomes[i].reference = Some(r);
                    }
                    // One invoice refused on sending (bad hash, too big…) does not stop the
                    // others; a refused session does.
                    Err(e) if matches!(e.code(), ErrorCode::ApiError) => {
                        self.outcomes[i].error = Some(e.at(format!("invoices[{i}]")));
                    }
                    Err(e) => return Err(e),
                }
                self.state = State::Send(i + 1);
            }
            State::Close => {
                let what = "POST /sessions/online/{referenceNumber}/close";
                session::close_answer(resp, resent, cx.now_ms, what)?;
                self.state = State::Poll {
                    deadline: cx.deadline(),
                };
            }
            State::Poll { deadline } => {
                let what = "GET /sessions/{referenceNumber}";
                let st = session::read_status(resp, cx.now_ms, &self.session)?;
                if session::keep_polling(&st, self.send.fetch_upo) {
                    self.wait = Some(cx.next_poll(deadline, what)?);
                } else {
                    self.state = State::List {
                        token: None,
                        deadline,
                    };
                }
                self.status = Some(st);
            }
            State::List { deadline, .. } => {
                let what = "GET /sessions/{referenceNumber}/invoices";
                let (items, next) = session::read_list(resp, cx.now_ms)?;
                for st in items {
                    match self
                        .outcomes
                        .iter_mut()
                        .find(|o| o.reference.as_deref() == Some(st.reference.as_str()))
                    {
                        Some(o) => o.status = Some(st),
                        None => self.extra.push(st),
                    }
                }
                match next {
                    Some(t) => {
                        self.state = State::List {
                            token: Some(t),
                            deadline,
                        }
                    }
                    None => {
                        let processing = self
                            .outcomes
                            .iter()
                            .any(|o| o.status.as_ref().is_some_and(InvoiceStatus::is_processing));
                        if processing {
                            self.wait = Some(cx.next_poll(deadline, what)?);
                            self.state = State::List {
                                token: None,
                                deadline,
                            };
                        } else {
                            self.resolve();
                            self.after_list();
                        }
                    }
                }
            }
            State::InvoiceUpo(i) => {
                match api_ok(resp, cx.now_ms, "GET invoice UPO").and_then(|r| {
                    check_upo(&r)?;
                    Ok(r.body)
                }) {
                    Ok(x) => self.outcomes[i].upo = Some(x),
                    Err(e) => return Err(e.at(format!("invoices[{i}] UPO"))),
                }
                self.state = State::InvoiceUpo(i + 1);
            }
            State::SessionUpo(i) => {
                let resp = api_ok(resp, cx.now_ms, "GET session UPO")?;
                check_upo(&resp)?;
                self.session_upo.push(resp.body);
                self.state = State::SessionUpo(i + 1);
            }
            State::Done => {}
        }
        Ok(())
    }
}
