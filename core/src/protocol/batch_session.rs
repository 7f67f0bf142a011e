//! The batch session: open with the part list of a [`PreparedBatch`], upload each encrypted
//! part to its pre-signed URL, close, wait for processing, and map KSeF's per-invoice results
//! (`invoiceFileName`, `invoiceHash`) back to the input.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde_json::{json, Value};

use crate::crypto::session::SessionKey;
use crate::error::{Error, ErrorCode};
use crate::http::{Method, Response};

use super::batch::{PartSource, PreparedBatch};
use super::client::{api_ok, encryption_json, Event};
use super::online::{FormCode, InvoiceOutcome, SessionResult};
use super::ops::{check_upo, Call, Cx, InvoiceStatus, Operation, Output, SessionStatus, Step};
use super::session;
use super::wire;

/// A prepared batch to send: the package from [`super::batch::prepare_batch`], the key it
/// was encrypted with, and where its parts can be read back from.
pub struct BatchSend {
    /// The structure of every invoice.
    pub form: FormCode,
    /// What `POST /sessions/batch` declares, and the invoices inside.
    pub prepared: PreparedBatch,
    /// The session key the parts were encrypted with.
    pub key: SessionKey,
    /// The encrypted parts (memory or files).
    pub parts: Box<dyn PartSource + Send>,
    /// The invoices were issued in an offline mode (`offlineMode: true`).
    pub offline_mode: bool,
    /// Download the session UPO.
    pub fetch_upo: bool,
}

impl fmt::Debug for BatchSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchSend")
            .field("form", &self.form)
            .field("invoices", &self.prepared.entries.len())
            .field("parts", &self.prepared.parts.len())
            .field("offline_mode", &self.offline_mode)
            .finish()
    }
}

impl BatchSend {
    /// A batch of `form` invoices; the session UPO is fetched.
    pub fn new(
        form: FormCode,
        prepared: PreparedBatch,
        key: SessionKey,
        parts: Box<dyn PartSource + Send>,
    ) -> BatchSend {
        BatchSend {
            form,
            prepared,
            key,
            parts,
            offline_mode: false,
            fetch_upo: true,
        }
    }
}

/// The result of [`super::Client::send_batch`] (`index` of each outcome = position in the
/// batch).
pub type BatchResult = SessionResult;

struct Upload {
    ordinal: u32,
    url: String,
    headers: Vec<(String, String)>,
}

#[derive(Clone)]
enum State {
    Open,
    Upload(usize),
    Close,
    Poll,
    List(Option<String>),
    SessionUpo(usize),
    Done,
}

pub(crate) struct BatchOp {
    send: BatchSend,
    session: String,
    uploads: Vec<Upload>,
    state: State,
    outcomes: Vec<InvoiceOutcome>,
    status: Option<SessionStatus>,
    session_upo: Vec<Vec<u8>>,
    wait: Option<u64>,
    deadline: u64,
    retried_keys: bool,
}

impl BatchOp {
    pub(crate) fn new(send: BatchSend) -> BatchOp {
        let n = send.prepared.entries.len();
        BatchOp {
            send,
            session: String::new(),
            uploads: Vec::new(),
            state: State::Open,
            outcomes: (0..n).map(InvoiceOutcome::new).collect(),
            status: None,
            session_upo: Vec::new(),
            wait: None,
            deadline: 0,
            retried_keys: false,
        }
    }

    fn index_of(&self, st: &InvoiceStatus) -> Option<usize> {
        if let Some(name) = &st.invoice_file_name {
            if let Some(e) = self.send.prepared.entry_by_file_name(name) {
                return Some(e.index);
            }
        }
        self.send
            .prepared
            .entries
            .iter()
            .find(|e| e.invoice_hash.as_deref() == Some(st.invoice_hash.as_str()))
            .map(|e| e.index)
    }

    fn resolve(&mut self) {
        for out in &mut self.outcomes {
            match &out.status {
                None => {
                    out.error = Some(Error::new(
                        ErrorCode::BadResponse,
                        format!("invoices[{}]", out.index),
                        "KSeF did not report this invoice of the batch",
                    ))
                }
                Some(st) if st.status.code == 200 && st.ksef_number.is_some() => {
                    out.ksef_number = st.ksef_number.clone();
                }
                Some(st) => {
                    out.error = st.error().or_else(|| {
                        Some(Error::new(
                            ErrorCode::BadResponse,
                            st.reference.as_str(),
                            "status 200 without a KSeF number",
                        ))
                    })
                }
            }
        }
    }
}

impl Operation for BatchOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(t) = self.wait.take() {
            return Ok(Step::Wait(t));
        }
        let base = cx.base().to_string();
        match &self.state {
            State::Open => {
                let Some(keys) = cx.keys else {
                    return Ok(Step::NeedKeys);
                };
                let encryption = encryption_json(keys, cx.now_ms, &self.send.key, cx.rng)?;
                let body = json!({
                    "formCode": self.send.form.to_json(),
                    "batchFile": self.send.prepared.batch_file_json(),
                    "encryption": encryption,
                    "offlineMode": self.send.offline_mode,
                });
                // A repeat opens a second session that receives no parts and expires:
                // harmless.
                Ok(Step::Send(
                    Call::post_json(&base, "/sessions/batch", &body, "POST /sessions/batch")?
                        .safe(),
                ))
            }
            State::Upload(i) => {
                let Some(u) = self.uploads.get(*i) else {
                    self.state = State::Close;
                    return self.poll(cx);
                };
                let bytes = self.send.parts.part(u.ordinal)?;
                // PUT of the same bytes to the same URL: idempotent. No access token: the URL
                // is pre-signed.
                let mut call = Call::url(Method::Put, &u.url, "PUT part upload URL");
                for (k, v) in &u.headers {
                    call = call.with_header(k, v);
                }
                call.req.body = bytes;
                Ok(Step::Send(call))
            }
            State::Close => Ok(Step::Send(session::close_call(
                &base,
                "batch",
                &self.session,
                "POST /sessions/batch/{referenceNumber}/close",
            ))),
            State::Poll => Ok(Step::Send(session::status_call(&base, &self.session))),
            State::List(token) => Ok(Step::Send(session::list_call(
                &base,
                &self.session,
                false,
                cx.cfg.page_size,
                token.as_deref(),
            ))),
            State::SessionUpo(i) => {
                let call = session::session_upo_call(self.status.as_ref(), *i)
                    .filter(|_| self.send.fetch_upo);
                match call {
                    Some(call) => Ok(Step::Send(call)),
                    None => {
                        self.state = State::Done;
                        self.poll(cx)
                    }
                }
            }
            State::Done => Ok(Step::Done(Output::Batch(SessionResult::take(
                &self.session,
                &self.status,
                &mut self.outcomes,
                &mut self.session_upo,
            )?))),
        }
    }

    fn on_error(&mut self, cx: &mut Cx<'_>, err: Error) -> Result<(), Error> {
        let passing = session::is_passing(&err);
        match self.state {
            State::Poll | State::List(_) | State::SessionUpo(_) if passing => {
                self.wait = Some(
                    cx.next_poll(self.deadline, "batch session status")
                        .map_err(|_| err)?,
                );
                Ok(())
            }
            _ => Err(err),
        }
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, resent: bool) -> Result<(), Error> {
        let state = core::mem::replace(&mut self.state, State::Done);
        let saved = state.clone();
        let r = self.handle(cx, resp, resent, state);
        if r.is_err() {
            // Back to where the failure happened, so `on_error` can decide to keep polling.
            self.state = saved;
        }
        r
    }
}

impl BatchOp {
    fn handle(
        &mut self,
        cx: &mut Cx<'_>,
        resp: Response,
        resent: bool,
        state: State,
    ) -> Result<(), Error> {
        match state {
            State::Open => {
                let what = "POST /sessions/batch";
                if cx.keys_rotated(&resp, &mut self.retried_keys) {
                    self.state = State::Open;
                    return Ok(());
                }
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                self.session = wire::str_at(&v, "referenceNumber", what)?.to_string();
                let mut uploads = Vec::new();
                for (i, u) in wire::array_at(&v, "partUploadRequests").iter().enumerate() {
                    let at = |e: Error| e.at(format!("partUploadRequests[{i}]"));
                    let ordinal = wire::int_at(u, "ordinalNumber", what).map_err(at)?;
                    let headers = match wire::at(u, "headers") {
                        Some(Value::Object(m)) => m
                            .iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                            .collect(),
                        _ => Vec::new(),
                    };
                    uploads.push(Upload {
                        ordinal: u32::try_from(ordinal).unwrap_or(0),
                        url: wire::str_at(u, "url", what).map_err(at)?.to_string(),
                        headers,
                    });
                }
                uploads.sort_by_key(|u| u.ordinal);
                let expected: Vec<u32> =
                    self.send.prepared.parts.iter().map(|p| p.ordinal).collect();
                let got: Vec<u32> = uploads.iter().map(|u| u.ordinal).collect();
                if expected != got {
                    return Err(wire::bad(
                        what,
                        "partUploadRequests",
                        format!("upload URLs for parts {got:?}, the batch has parts {expected:?}"),
                    ));
                }
                self.uploads = uploads;
                cx.emit(Event::SessionOpened {
                    op: cx.op,
                    reference: self.session.clone(),
                });
                self.state = State::Upload(0);
            }
            State::Upload(i) => {
                api_ok(resp, cx.now_ms, "PUT part upload URL")
                    .map_err(|e| e.at(format!("part {}", i + 1)))?;
                self.state = State::Upload(i + 1);
            }
            State::Close => {
                let what = "POST /sessions/batch/{referenceNumber}/close";
                session::close_answer(resp, resent, cx.now_ms, what)?;
                self.deadline = cx.deadline();
                self.state = State::Poll;
            }
            State::Poll => {
                let what = "GET /sessions/{referenceNumber}";
                let st = session::read_status(resp, cx.now_ms, &self.session)?;
                if session::keep_polling(&st, self.send.fetch_upo) {
                    self.wait = Some(cx.next_poll(self.deadline, what)?);
                    self.state = State::Poll;
                } else if st.status.code != 200 && st.invoice_count.unwrap_or(0) == 0 {
                    // The package itself failed (decryption, decompression, part checks).
                    return Err(Error::new(
                        ErrorCode::SessionFailed,
                        what,
                        format!(
                            "batch session {} failed: {}",
                            self.session,
                            st.status.summary()
                        ),
                    ));
                } else {
                    self.state = State::List(None);
                }
                self.status = Some(st);
            }
            State::List(_) => {
                let what = "GET /sessions/{referenceNumber}/invoices";
                let (items, next) = session::read_list(resp, cx.now_ms)?;
                for st in items {
                    if let Some(i) = self.index_of(&st) {
                        self.outcomes[i].reference = Some(st.reference.clone());
                        self.outcomes[i].status = Some(st);
                    }
                }
                match next {
                    Some(t) => self.state = State::List(Some(t)),
                    None => {
                        let processing = self
                            .outcomes
                            .iter()
                            .any(|o| o.status.as_ref().is_some_and(InvoiceStatus::is_processing));
                        if processing {
                            self.wait = Some(cx.next_poll(self.deadline, what)?);
                            self.state = State::List(None);
                        } else {
                            self.resolve();
                            self.state = State::SessionUpo(0);
                        }
                    }
                }
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
