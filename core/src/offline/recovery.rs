//! Sending the queue on recovery through the protocol client: an online session
//! ([`OfflineQueue::plan_online`]) or a batch session ([`OfflineQueue::plan_batch`]) with
//! `offlineMode: true`, invoices oldest deadline first, outcomes mapped back by position and
//! checked by invoice hash; technical corrections one at a time
//! ([`OfflineQueue::plan_correction`]).
//!
//! The protocol client stays sans-IO: [`OfflineQueue::plan_online`] gives the
//! [`OnlineSend`] to start with [`crate::protocol::Client::send_online`]; the host pumps the
//! client as usual and hands the finished [`SessionResult`] to
//! [`OfflineQueue::apply_online`], which records KSeF numbers and rejections and reports the
//! invoices that reached KSeF after their deadline. Persist the queue's snapshot after
//! `apply_online`. If the host stops in between, the invoices are still pending and are sent
//! again: KSeF answers 440 (duplicate) for those it already holds, which is recorded as a
//! rejection carrying the KSeF number of the original, for the host to confirm (a duplicate
//! is judged by seller and invoice number, not by bytes).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::calendar::warsaw_date_of;
use super::queue::{OfflineQueue, Status};
use crate::error::{Error, ErrorCode};
use crate::model::{Date, SchemaVersion};
use crate::protocol::{FormCode, OnlineSend, SessionResult};

/// What [`OfflineQueue::plan_online`] chose to send.
#[derive(Debug, Clone)]
pub struct OnlinePlan {
    /// The queue ids, in the order of [`Self::send`]'s invoices.
    pub ids: Vec<String>,
    /// The online session to start (`offlineMode: true`).
    pub send: OnlineSend,
}

/// What [`OfflineQueue::plan_batch`] chose to send in one batch session.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    /// The structure of every invoice of the batch.
    pub form: FormCode,
    /// The queue ids, in batch order.
    pub ids: Vec<String>,
    /// The file name of each invoice inside the ZIP, in batch order.
    pub names: Vec<String>,
    /// The exact bytes of each invoice, in batch order.
    pub invoices: Vec<Vec<u8>>,
}

impl BatchPlan {
    /// `(name, bytes)` pairs for [`crate::protocol::batch::prepare_batch`].
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.invoices.iter().map(Vec::as_slice))
    }
}

impl BatchPlan {
    /// The batch session of this plan packaged in memory: the ZIP of the queued bytes split
    /// into parts encrypted with a new session key from `rng`, `offlineMode` set (for hosts
    /// without a file system at hand; the CLI packages into files).
    pub fn batch_send(
        &self,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<crate::protocol::BatchSend, Error> {
        use crate::protocol::batch::{prepare_batch, BatchOptions, MemoryParts};
        let key = crate::crypto::session::SessionKey::generate(rng);
        let mut parts = MemoryParts::default();
        let prepared = prepare_batch(self.entries(), &key, &BatchOptions::default(), &mut parts)?;
        let mut send = crate::protocol::BatchSend::new(
            self.form,
            prepared,
            key,
            alloc::boxed::Box::new(parts),
        );
        send.offline_mode = true;
        Ok(send)
    }
}

struct SessionIds<'a> {
    ids: &'a [String],
}

/// What one recovery session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Accepted: (id, KSeF number).
    pub accepted: Vec<(String, String)>,
    /// Rejected: (id, KSeF status code, description); code 0 when it was not sent.
    pub rejected: Vec<(String, u32, String)>,
    /// Sent but without a final answer yet (still processing).
    pub open: Vec<String>,
    /// Not sent at all (the session ended before them); still pending.
    pub not_sent: Vec<String>,
    /// Rejected as duplicates (440) of an invoice KSeF already holds: (id, its KSeF
    /// number). Also in `rejected`; a host that knows the original is this very invoice (its
    /// own earlier submission whose answer was lost) confirms it with
    /// [`OfflineQueue::accept_duplicate`].
    pub duplicates: Vec<(String, String)>,
    /// Accepted after their deadline (by KSeF's `acquisitionDate` in Polish time, or
    /// `today` when KSeF did not report one).
    pub missed_deadline: Vec<String>,
}

fn recovery_error(path: &str, msg: String) -> Error {
    Error::new(ErrorCode::OfflineState, path, msg)
}

impl OfflineQueue {
    /// The next online session of the recovery: up to `max` pending invoices of `form`
    /// (`Fa3`/`Fa2`, one structure per session), oldest deadline first, sent byte for byte
    /// with `offlineMode: true`. `None` when nothing of that form is pending.
    pub fn plan_online(&self, form: FormCode, max: usize) -> Option<OnlinePlan> {
        let (ids, invoices) = self.pending_of(form, max);
        if ids.is_empty() {
            return None;
        }
        Some(OnlinePlan {
            ids,
            send: OnlineSend::new(form, invoices).offline(true),
        })
    }

    /// The next batch session of the recovery (for many invoices): up to `max` pending
    /// invoices of `form`, oldest deadline first, with their file names inside the ZIP
    /// (`<id>.xml`, made safe). Package them with [`crate::protocol::batch::prepare_batch`]
    /// (or its parallel form), send a [`crate::protocol::BatchSend`] with `offline_mode =
    /// true`, and record the result with [`OfflineQueue::apply_batch`]. Technical
    /// corrections never go in a batch (KSeF takes them in online sessions only).
    pub fn plan_batch(&self, form: FormCode, max: usize) -> Option<BatchPlan> {
        let (ids, invoices) = self.pending_of(form, max);
        if ids.is_empty() {
            return None;
        }
        let names = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                // the position keeps names unique even when two ids map to one safe name
                format!("{:05}-{}.xml", n + 1, crate::zip::safe_name(id))
            })
            .collect();
        Some(BatchPlan {
            form,
            ids,
            names,
            invoices,
        })
    }

    /// Pending invoices of `form` (not technical corrections), oldest deadline first.
    fn pending_of(&self, form: FormCode, max: usize) -> (Vec<String>, Vec<Vec<u8>>) {
        let want = match form {
            FormCode::Fa3 => SchemaVersion::Fa3,
            FormCode::Fa2 => SchemaVersion::Fa2,
        };
        let mut ids = Vec::new();
        let mut invoices = Vec::new();
        for inv in self.due_order() {
            if ids.len() >= max {
                break;
            }
            if inv.corrects.is_some() || !matches!(inv.status, Status::Pending) {
                continue;
            }
            // The bytes parsed at issue; the schema decides the session's form code.
            match crate::xml::parse(&inv.xml) {
                Ok(p) if p.schema == want => {}
                _ => continue,
            }
            ids.push(inv.id.clone());
            invoices.push(inv.xml.clone());
        }
        (ids, invoices)
    }

    /// The session of a pending technical correction `id` (queued with
    /// [`OfflineQueue::technical_correction`]): the fixed bytes alone, `offlineMode: true`,
    /// `hashOfCorrectedInvoice` = the rejected invoice's hash. Record its result with
    /// [`OfflineQueue::apply_online`] like any plan. `None` when `id` is not a pending
    /// correction.
    pub fn plan_correction(&self, id: &str) -> Option<OnlinePlan> {
        let inv = self.get(id)?;
        if inv.corrects.is_none() || !matches!(inv.status, Status::Pending) {
            return None;
        }
        let hash = self.corrected_hash(id)?;
        let form = match crate::xml::parse(&inv.xml).ok()?.schema {
            SchemaVersion::Fa2 => FormCode::Fa2,
            SchemaVersion::Fa3 => FormCode::Fa3,
        };
        Some(OnlinePlan {
            ids: alloc::vec![String::from(id)],
            send: OnlineSend::technical_correction(form, inv.xml.clone(), *hash.as_bytes()),
        })
    }

    /// Record the result of the session started from `plan`: KSeF numbers, rejections,
    /// invoices still processing. Each outcome is matched to its invoice by position and
    /// checked by hash: when KSeF reports an `invoiceHash`, it must be the hash of the queued
    /// bytes (the hash in KOD I), otherwise nothing is recorded and the error is
    /// `IntegrityCheck`. An accepted invoice's received day is KSeF's `acquisitionDate` (Polish
    /// calendar day), or `today` when KSeF reports none; it decides whether the deadline was
    /// missed.
    pub fn apply_online(
        &mut self,
        plan: &OnlinePlan,
        result: &SessionResult,
        today: Date,
    ) -> Result<RecoveryReport, Error> {
        self.apply_session(&plan.ids, result, today)
    }

    /// Record the result of the batch session made from `plan` (outcomes are matched by
    /// their position in the batch, which the protocol client maps back from
    /// `invoiceFileName`), as [`OfflineQueue::apply_online`] does.
    pub fn apply_batch(
        &mut self,
        plan: &BatchPlan,
        result: &SessionResult,
        today: Date,
    ) -> Result<RecoveryReport, Error> {
        self.apply_session(&plan.ids, result, today)
    }

    fn apply_session(
        &mut self,
        ids: &[String],
        result: &SessionResult,
        today: Date,
    ) -> Result<RecoveryReport, Error> {
        let plan = SessionIds { ids };
        if result.invoices.len() != plan.ids.len() {
            return Err(recovery_error(
                "invoices",
                format!(
                    "the session reports {} invoices, the plan sent {}",
                    result.invoices.len(),
                    plan.ids.len()
                ),
            ));
        }
        // Check everything before changing anything.
        for (n, id) in plan.ids.iter().enumerate() {
            if plan.ids[..n].contains(id) {
                return Err(recovery_error(
                    "ids",
                    format!("invoice {id:?} is twice in the plan"),
                ));
            }
        }
        for o in &result.invoices {
            let id = plan.ids.get(o.index).ok_or_else(|| {
                recovery_error(
                    "index",
                    format!("no planned invoice at position {}", o.index),
                )
            })?;
            let inv = self.get(id).ok_or_else(|| {
                Error::new(
                    ErrorCode::OfflineUnknownInvoice,
                    "id",
                    format!("no offline invoice {id:?} in the queue"),
                )
            })?;
            if !matches!(inv.status, Status::Pending) {
                return Err(recovery_error(
                    "status",
                    format!("invoice {id:?} is {}, not pending", inv.status.name()),
                ));
            }
            if let Some(s) = &o.status {
                if s.invoice_hash != inv.hash {
                    return Err(Error::new(
                        ErrorCode::IntegrityCheck,
                        "invoiceHash",
                        format!(
                            "KSeF reports hash {} for invoice {id:?}, its KOD I hash is {}",
                            s.invoice_hash, inv.hash
                        ),
                    ));
                }
            }
        }
        let mut report = RecoveryReport::default();
        for o in &result.invoices {
            let id = plan.ids[o.index].as_str();
            let reference = o
                .reference
                .clone()
                .or_else(|| o.status.as_ref().map(|s| s.reference.clone()));
            if let Some(r) = &reference {
                self.mark_sent(id, r)?;
            }
            match (&o.ksef_number, &o.error) {
                (Some(n), None) => {
                    if reference.is_none() {
                        self.mark_sent(id, "")?;
                    }
                    self.mark_accepted(id, n)?;
                    // The legal receipt is KSeF's acquisitionDate (Polish calendar day);
                    // `today` only when KSeF did not report it.
                    let received = o
                        .status
                        .as_ref()
                        .and_then(|s| s.acquisition_date.as_deref())
                        .and_then(warsaw_date_of)
                        .unwrap_or(today);
                    let inv = self.get_mut(id)?;
                    inv.received = Some(received);
                    if inv.missed_deadline() {
                        report.missed_deadline.push(id.into());
                    }
                    report.accepted.push((id.into(), n.clone()));
                }
                (_, Some(e)) => {
                    let (code, mut msg) = match &o.status {
                        Some(s) => (
                            u32::try_from(s.status.code).unwrap_or(0),
                            s.status.description.clone(),
                        ),
                        None => (0, String::from(e.message())),
                    };
                    if let Some((_, original)) = o.status.as_ref().and_then(|s| s.original.as_ref())
                    {
                        msg = format!("{msg} (KSeF already holds {original})");
                        report.duplicates.push((id.into(), original.clone()));
                    }
                    self.mark_rejected(id, code, &msg)?;
                    report.rejected.push((id.into(), code, msg));
                }
                (None, None) => {
                    if reference.is_some() {
                        self.mark_processing(id)?;
                        report.open.push(id.into());
                    } else {
                        report.not_sent.push(id.into());
                    }
                }
            }
        }
        Ok(report)
    }
}
