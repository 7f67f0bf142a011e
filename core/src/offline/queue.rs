//! The durable queue of offline invoices: what was issued, with which bytes, QR codes and
//! deadline, and where each one stands on its way to KSeF.
//!
//! - The invoice bytes are fixed at [`OfflineQueue::issue`]: KOD I is computed from them and
//!   they are the bytes sent later, byte for byte (`kody-qr.md`: the hash in KOD I is the
//!   SHA-256 of the file sent to KSeF).
//! - KOD II is signed at issue with the key of the issuer's KSeF certificate of type
//!   `Offline` ([`Kod2Signer`]), when one is given.
//! - Statuses: [`Status::Pending`] → [`Status::Sent`] → [`Status::Processing`] →
//!   [`Status::Accepted`] (with the KSeF number) or [`Status::Rejected`] (with KSeF's code and
//!   message). A rejected invoice can be sent again after a transport failure
//!   ([`OfflineQueue::retry`]) or fixed by one technical correction
//!   ([`OfflineQueue::technical_correction`], `offline/korekta-techniczna.md`).
//! - Deadlines ([`super::deadline`]) are stored with each invoice and recomputed when a
//!   failure is announced ([`OfflineQueue::announce_failure`]).
//! - The whole queue snapshots to CBOR and JSON ([`OfflineQueue::snapshot_cbor`],
//!   [`OfflineQueue::snapshot_json`]), so a host persists it after every change and nothing
//!   is lost across restarts.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use minicbor::{Decode, Encode};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

use super::codec::{date_cbor, date_serde, opt_date_cbor, opt_date_serde};
use super::deadline::{self, DeadlineStatus, Failure, Mode};
use crate::crypto::hash::{sha256, Sha256Hash};
use crate::crypto::PrivateKey;
use crate::error::{Error, ErrorCode};
use crate::model::Date;
use crate::qr::{ContextType, InvoiceLink};
use crate::Environment;

/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

fn err(code: ErrorCode, path: &str, msg: impl Into<String>) -> Error {
    Error::new(code, path, msg)
}

/// What signs KOD II: the issuer's login context and its KSeF certificate of type `Offline`
/// (serial in hex, as [`crate::crypto::Certificate::serial_hex`] gives it) with its key.
pub struct Kod2Signer<'a> {
    /// The context the issuer works in (`Nip`, `InternalId`, `NipVatUe`, `PeppolId`).
    pub context_type: ContextType,
    /// The context's identifier.
    pub context_value: &'a str,
    /// The serial number of the `Offline` certificate.
    pub certificate_serial: &'a str,
    /// The certificate's private key (ECDSA P-256 or RSA ≥ 2048 bits).
    pub key: &'a PrivateKey,
}

impl fmt::Debug for Kod2Signer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kod2Signer")
            .field("context_type", &self.context_type)
            .field("context_value", &self.context_value)
            .field("certificate_serial", &self.certificate_serial)
            .finish_non_exhaustive()
    }
}

/// Where an offline invoice stands.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase", deny_unknown_fields)]
pub enum Status {
    /// Issued, not yet sent.
    #[n(0)]
    Pending,
    /// Sent in a session; KSeF gave this element reference number.
    #[n(1)]
    Sent {
        /// The invoice's reference number in the session.
        #[n(0)]
        #[serde(rename = "referenceNumber")]
        reference: String,
    },
    /// KSeF is processing it.
    #[n(2)]
    Processing {
        /// The invoice's reference number in the session.
        #[n(0)]
        #[serde(rename = "referenceNumber")]
        reference: String,
    },
    /// Accepted, with its KSeF number.
    #[n(3)]
    Accepted {
        /// The KSeF number.
        #[n(0)]
        #[serde(rename = "ksefNumber")]
        ksef_number: String,
    },
    /// Rejected (or failed to send), with KSeF's status code and description.
    #[n(4)]
    Rejected {
        /// KSeF's status code (e.g. 450), 0 when the send itself failed.
        #[n(0)]
        code: u32,
        /// The description.
        #[n(1)]
        message: String,
    },
}

impl Status {
    /// The short name (`pending`, `sent`, `processing`, `accepted`, `rejected`).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent { .. } => "sent",
            Status::Processing { .. } => "processing",
            Status::Accepted { .. } => "accepted",
            Status::Rejected { .. } => "rejected",
        }
    }

    /// `true` while the invoice still has to reach KSeF (pending, or sent/processing without
    /// an answer yet).
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            Status::Pending | Status::Sent { .. } | Status::Processing { .. }
        )
    }
}

/// One offline invoice.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfflineInvoice {
    /// The host's id of the invoice (unique in the queue).
    #[n(0)]
    pub id: String,
    /// The exact invoice file bytes fixed at issue (JSON: standard base64).
    #[n(1)]
    #[cbor(with = "minicbor::bytes")]
    #[serde(with = "b64_serde")]
    pub xml: Vec<u8>,
    /// SHA-256 of [`Self::xml`], standard base64 (KSeF's `invoiceHash`).
    #[n(2)]
    pub hash: String,
    /// The seller NIP (`Podmiot1`).
    #[n(3)]
    pub seller_nip: String,
    /// The issue date (`P_1`).
    #[n(4)]
    #[cbor(with = "date_cbor")]
    #[serde(with = "date_serde")]
    pub issue_date: Date,
    /// The offline mode it was issued in.
    #[n(5)]
    pub mode: Mode,
    /// The day it must reach KSeF by; `None`: no obligation (total failure).
    #[n(6)]
    #[cbor(with = "opt_date_cbor")]
    #[serde(with = "opt_date_serde")]
    pub deadline: Option<Date>,
    /// KOD I link (label `OFFLINE` until the KSeF number is known).
    #[n(7)]
    pub kod1_url: String,
    /// KOD II link (label `CERTYFIKAT`), when a certificate was given at issue.
    #[n(8)]
    pub kod2_url: Option<String>,
    /// The status.
    #[n(9)]
    pub status: Status,
    /// For a technical correction: the id of the rejected invoice it corrects.
    #[n(10)]
    pub corrects: Option<String>,
    /// For a rejected invoice: the id of its technical correction.
    #[n(11)]
    pub corrected_by: Option<String>,
    /// For an accepted invoice: the day KSeF received it (its `acquisitionDate`, in Polish
    /// time) — what decides whether the deadline was met.
    #[n(12)]
    #[cbor(with = "opt_date_cbor", has_nil)]
    #[serde(default, with = "opt_date_serde")]
    pub received: Option<Date>,
}

impl fmt::Debug for OfflineInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflineInvoice")
            .field("id", &self.id)
            .field("xml", &self.xml.len())
            .field("hash", &self.hash)
            .field("mode", &self.mode)
            .field("deadline", &self.deadline)
            .field("status", &self.status)
            .field("corrects", &self.corrects)
            .field("corrected_by", &self.corrected_by)
            .finish_non_exhaustive()
    }
}

impl OfflineInvoice {
    /// The SHA-256 of the invoice bytes.
    pub fn sha256(&self) -> Sha256Hash {
        sha256(&self.xml)
    }

    /// The KSeF number once accepted.
    pub fn ksef_number(&self) -> Option<&str> {
        match &self.status {
            Status::Accepted { ksef_number } => Some(ksef_number),
            _ => None,
        }
    }

    /// True when the invoice reached KSeF after its deadline (by its received date).
    pub fn missed_deadline(&self) -> bool {
        matches!((self.received, self.deadline), (Some(r), Some(d)) if r > d)
    }

    /// Where the invoice stands against its deadline on `today`; an invoice no longer open
    /// (accepted or rejected) reports [`DeadlineStatus::NoObligation`].
    pub fn deadline_status(&self, today: Date) -> DeadlineStatus {
        if self.status.is_open() {
            deadline::status(self.deadline, today)
        } else {
            DeadlineStatus::NoObligation
        }
    }
}

/// serde: bytes ⇄ standard base64 text.
mod b64_serde {
    use alloc::string::String;
    use alloc::vec::Vec;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| serde::de::Error::custom("expected standard base64"))
    }
}

#[derive(Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Snapshot {
    #[n(0)]
    version: u32,
    #[n(1)]
    env: String,
    #[n(2)]
    failures: Vec<Failure>,
    #[n(3)]
    invoices: Vec<OfflineInvoice>,
}

/// The queue of offline invoices of one environment (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineQueue {
    env: Environment,
    failures: Vec<Failure>,
    invoices: Vec<OfflineInvoice>,
}

impl OfflineQueue {
    /// An empty queue for invoices of `env` (the QR host follows it).
    pub fn new(env: Environment) -> OfflineQueue {
        OfflineQueue {
            env,
            failures: Vec::new(),
            invoices: Vec::new(),
        }
    }

    /// The environment.
    pub fn env(&self) -> Environment {
        self.env
    }

    /// Every invoice, in the order issued.
    pub fn invoices(&self) -> &[OfflineInvoice] {
        &self.invoices
    }

    /// The failure announcements known to the queue.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The invoice with this id.
    pub fn get(&self, id: &str) -> Option<&OfflineInvoice> {
        self.invoices.iter().find(|i| i.id == id)
    }

    /// The invoice whose bytes have this SHA-256 (how KSeF's answers are mapped back).
    pub fn find_by_hash(&self, hash: &Sha256Hash) -> Option<&OfflineInvoice> {
        let mut b = [0u8; Sha256Hash::BASE64_LEN];
        let h = hash.base64_into(&mut b);
        self.invoices.iter().find(|i| i.hash == h)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Result<&mut OfflineInvoice, Error> {
        self.invoices
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| {
                err(
                    ErrorCode::OfflineUnknownInvoice,
                    "id",
                    format!("no offline invoice {id:?} in the queue"),
                )
            })
    }

    /// Issue an invoice offline: fix its bytes, compute KOD I from them (seller NIP and
    /// `P_1` from the parsed invoice), sign KOD II when `signer` is given (`rng` is used only
    /// by RSA-PSS), compute its deadline in `mode` (with the failures known), and queue it
    /// as [`Status::Pending`].
    ///
    /// Errors: an empty or duplicate `id` or the same bytes already queued
    /// (`OfflineInvalid`), XML that does not parse, a bad KOD II context or key.
    pub fn issue(
        &mut self,
        id: &str,
        xml: &[u8],
        mode: Mode,
        signer: Option<&Kod2Signer<'_>>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<&OfflineInvoice, Error> {
        let inv = self.make(id, xml, mode, signer, rng)?;
        self.invoices.push(inv);
        Ok(&self.invoices[self.invoices.len() - 1])
    }

    fn make(
        &self,
        id: &str,
        xml: &[u8],
        mode: Mode,
        signer: Option<&Kod2Signer<'_>>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<OfflineInvoice, Error> {
        if id.is_empty() {
            return Err(err(
                ErrorCode::OfflineInvalid,
                "id",
                "the invoice id is empty",
            ));
        }
        if self.get(id).is_some() {
            return Err(err(
                ErrorCode::OfflineInvalid,
                "id",
                format!("an invoice {id:?} is already in the queue"),
            ));
        }
        let link = InvoiceLink::from_invoice_xml(self.env, xml)?;
        if let Some(other) = self.find_by_hash(link.hash()) {
            return Err(err(
                ErrorCode::OfflineInvalid,
                "xml",
                format!(
                    "the same invoice bytes are already queued as {:?}",
                    other.id
                ),
            ));
        }
        let kod2_url = match signer {
            None => None,
            Some(s) => Some(
                link.certificate_link(s.context_type, s.context_value, s.certificate_serial)?
                    .signed_url(s.key, rng)?,
            ),
        };
        let mut h = [0u8; Sha256Hash::BASE64_LEN];
        Ok(OfflineInvoice {
            id: id.to_string(),
            xml: xml.to_vec(),
            hash: link.hash().base64_into(&mut h).to_string(),
            seller_nip: link.seller_nip().to_string(),
            issue_date: link.issue_date(),
            mode,
            deadline: deadline::deadline(mode, &self.failures),
            kod1_url: link.url(),
            kod2_url,
            status: Status::Pending,
            corrects: None,
            corrected_by: None,
            received: None,
        })
    }

    /// Record a KSeF failure announcement: the deadlines of open invoices are recomputed
    /// (see [`deadline::deadline`]).
    pub fn announce_failure(&mut self, failure: Failure) {
        self.failures.push(failure);
        for inv in self.invoices.iter_mut().filter(|i| i.status.is_open()) {
            inv.deadline = deadline::deadline(inv.mode, &self.failures);
        }
    }

    /// Open invoices, oldest deadline first (no deadline last; ties in issue order): the
    /// order to send them in on recovery. A technical correction is not listed while the
    /// invoice it corrects is open.
    pub fn due_order(&self) -> Vec<&OfflineInvoice> {
        let mut v: Vec<&OfflineInvoice> = self
            .invoices
            .iter()
            .filter(|i| matches!(i.status, Status::Pending))
            .collect();
        v.sort_by_key(|i| (i.deadline.is_none(), i.deadline));
        v
    }

    /// Open invoices whose deadline passed before `today`.
    pub fn overdue(&self, today: Date) -> Vec<&OfflineInvoice> {
        self.invoices
            .iter()
            .filter(|i| i.deadline_status(today) == DeadlineStatus::Overdue)
            .collect()
    }

    fn transition(
        &mut self,
        id: &str,
        to: Status,
        allowed: fn(&Status) -> bool,
    ) -> Result<(), Error> {
        let inv = self.get_mut(id)?;
        if !allowed(&inv.status) {
            return Err(err(
                ErrorCode::OfflineState,
                "status",
                format!(
                    "invoice {id:?} is {} and cannot become {}",
                    inv.status.name(),
                    to.name()
                ),
            ));
        }
        inv.status = to;
        Ok(())
    }

    /// The invoice was sent in a session (from [`Status::Pending`]).
    pub fn mark_sent(&mut self, id: &str, reference: &str) -> Result<(), Error> {
        let to = Status::Sent {
            reference: reference.to_string(),
        };
        self.transition(id, to, |s| matches!(s, Status::Pending))
    }

    /// KSeF reports it processing (from sent or processing).
    pub fn mark_processing(&mut self, id: &str) -> Result<(), Error> {
        let inv = self.get_mut(id)?;
        let reference = match &inv.status {
            Status::Sent { reference } | Status::Processing { reference } => reference.clone(),
            other => {
                return Err(err(
                    ErrorCode::OfflineState,
                    "status",
                    format!(
                        "invoice {id:?} is {} and cannot become processing",
                        other.name()
                    ),
                ))
            }
        };
        inv.status = Status::Processing { reference };
        Ok(())
    }

    /// KSeF accepted it (from sent or processing). Accepting again with the same number is
    /// a no-op; with another number, an error.
    pub fn mark_accepted(&mut self, id: &str, ksef_number: &str) -> Result<(), Error> {
        if let Some(n) = self.get(id).and_then(OfflineInvoice::ksef_number) {
            if n == ksef_number {
                return Ok(());
            }
        }
        let to = Status::Accepted {
            ksef_number: ksef_number.to_string(),
        };
        self.transition(id, to, |s| {
            matches!(s, Status::Sent { .. } | Status::Processing { .. })
        })
    }

    /// Confirms that a rejection as a duplicate (KSeF status 440) is this invoice itself —
    /// an earlier submission of the same bytes whose answer was lost — so it counts as
    /// accepted with the original's KSeF number. Only from `Rejected` with code 440.
    pub fn accept_duplicate(&mut self, id: &str, ksef_number: &str) -> Result<(), Error> {
        let to = Status::Accepted {
            ksef_number: ksef_number.to_string(),
        };
        self.transition(id, to, |s| matches!(s, Status::Rejected { code: 440, .. }))
    }

    /// KSeF rejected it, or sending failed (from pending, sent or processing).
    pub fn mark_rejected(&mut self, id: &str, code: u32, message: &str) -> Result<(), Error> {
        let to = Status::Rejected {
            code,
            message: message.to_string(),
        };
        self.transition(id, to, Status::is_open)
    }

    /// Put a rejected invoice back to pending to send the same bytes again (after a
    /// transport failure, not a content rejection). Refused once it has a correction.
    pub fn retry(&mut self, id: &str) -> Result<(), Error> {
        if self.get_mut(id)?.corrected_by.is_some() {
            return Err(err(
                ErrorCode::OfflineState,
                "status",
                format!("invoice {id:?} has a technical correction; send that instead"),
            ));
        }
        self.transition(id, Status::Pending, |s| {
            matches!(s, Status::Rejected { .. })
        })
    }

    /// Queue the technical correction (`korekta techniczna`) of a rejected invoice: fixed
    /// bytes `xml` with the same content, sent with `hashOfCorrectedInvoice` = the rejected
    /// file's hash ([`Self::corrected_hash`]). One per invoice; the correction keeps the
    /// original's mode and deadline, and the printed KOD I of the original stays valid
    /// (KSeF redirects it), so no new QR codes are signed.
    pub fn technical_correction(
        &mut self,
        rejected_id: &str,
        id: &str,
        xml: &[u8],
    ) -> Result<&OfflineInvoice, Error> {
        let original = self.get(rejected_id).ok_or_else(|| {
            err(
                ErrorCode::OfflineUnknownInvoice,
                "correctedId",
                format!("no offline invoice {rejected_id:?} in the queue"),
            )
        })?;
        if !matches!(original.status, Status::Rejected { .. }) {
            return Err(err(
                ErrorCode::OfflineInvalid,
                "correctedId",
                format!(
                    "invoice {rejected_id:?} is {}; only a rejected invoice takes a technical \
                     correction",
                    original.status.name()
                ),
            ));
        }
        if let Some(c) = &original.corrected_by {
            return Err(err(
                ErrorCode::OfflineInvalid,
                "correctedId",
                format!("invoice {rejected_id:?} already has the technical correction {c:?}"),
            ));
        }
        let mode = original.mode;
        let kod1 = original.kod1_url.clone();
        let deadline = original.deadline;
        let mut inv = self.make(id, xml, mode, None, &mut NoRng)?;
        inv.corrects = Some(rejected_id.to_string());
        inv.deadline = deadline;
        inv.kod1_url = kod1;
        self.get_mut(rejected_id)?.corrected_by = Some(id.to_string());
        self.invoices.push(inv);
        Ok(&self.invoices[self.invoices.len() - 1])
    }

    /// For a technical correction: the hash of the invoice it corrects (the
    /// `hashOfCorrectedInvoice` to send with it).
    pub fn corrected_hash(&self, id: &str) -> Option<Sha256Hash> {
        let c = self.get(id)?.corrects.as_deref()?;
        self.get(c).map(OfflineInvoice::sha256)
    }

    // -----------------------------------------------------------------------------------
    // Snapshots

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            env: self.env.name().to_string(),
            failures: self.failures.clone(),
            invoices: self.invoices.clone(),
        }
    }

    /// The whole queue as compact CBOR (no secrets in it: the KOD II link is printed on the
    /// invoice anyway).
    pub fn snapshot_cbor(&self) -> Vec<u8> {
        minicbor::to_vec(self.snapshot()).unwrap_or_default()
    }

    /// The whole queue as JSON.
    pub fn snapshot_json(&self) -> String {
        serde_json::to_string(&self.snapshot()).unwrap_or_default()
    }

    /// A queue from a CBOR snapshot.
    pub fn restore_cbor(bytes: &[u8]) -> Result<OfflineQueue, Error> {
        let snap: Snapshot = minicbor::decode(bytes).map_err(|e| {
            err(
                ErrorCode::OfflineSnapshotInvalid,
                "",
                format!("not an offline-queue snapshot: {e}"),
            )
        })?;
        Self::restore(snap)
    }

    /// A queue from a JSON snapshot.
    pub fn restore_json(json: &str) -> Result<OfflineQueue, Error> {
        let snap: Snapshot = serde_json::from_str(json).map_err(|e| {
            err(
                ErrorCode::OfflineSnapshotInvalid,
                "",
                format!("not an offline-queue snapshot: {e}"),
            )
        })?;
        Self::restore(snap)
    }

    fn restore(snap: Snapshot) -> Result<OfflineQueue, Error> {
        let bad = |path: &str, msg: String| err(ErrorCode::OfflineSnapshotInvalid, path, msg);
        if snap.version != SNAPSHOT_VERSION {
            return Err(bad(
                "version",
                format!(
                    "snapshot version {} (this build reads {SNAPSHOT_VERSION})",
                    snap.version
                ),
            ));
        }
        let env: Environment = snap
            .env
            .parse()
            .map_err(|_| bad("env", format!("unknown environment {:?}", snap.env)))?;
        for (n, inv) in snap.invoices.iter().enumerate() {
            let mut h = [0u8; Sha256Hash::BASE64_LEN];
            if sha256(&inv.xml).base64_into(&mut h) != inv.hash {
                return Err(bad(
                    &format!("invoices[{n}].hash"),
                    format!("invoice {:?}: the bytes do not match their hash", inv.id),
                ));
            }
            if snap.invoices[..n].iter().any(|o| o.id == inv.id) {
                return Err(bad(
                    &format!("invoices[{n}].id"),
                    format!("invoice {:?} appears twice", inv.id),
                ));
            }
        }
        Ok(OfflineQueue {
            env,
            failures: snap.failures,
            invoices: snap.invoices,
        })
    }
}

/// An RNG for paths that sign nothing (technical corrections carry no new KOD II).
struct NoRng;

impl rand_core::RngCore for NoRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}

impl rand_core::CryptoRng for NoRng {}
