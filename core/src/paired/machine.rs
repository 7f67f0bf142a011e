//! The dual-channel state machine: one order invoice goes to KSeF (through the protocol
//! [`Client`]) and to Fakturownia (the customer's document, carrying the KSeF number), with
//! the discrepancy states shops know, recovery actions, an append-only audit trail, and
//! snapshots that resume after a crash at any step.
//!
//! Sans-IO like the protocol client: [`PairedMachine::poll_transmit`] gives the next request
//! (KSeF or Fakturownia), [`PairedMachine::handle_response`] takes its result,
//! [`PairedMachine::poll_timeout`] says when to come back, [`PairedMachine::poll_event`]
//! drains what happened.
//!
//! **Exactly once, also across crashes.** A snapshot keeps every job; on restore, a leg that
//! was in flight is started again, and each channel has its own argument why that is safe:
//!
//! - KSeF: invoice numbers (`P_2`) come from a counter that never issues a number twice, so a
//!   KSeF "duplicate" (status 440, seller NIP + kind + number) of one of our invoices can only
//!   be our own earlier submission: its original KSeF number is taken as ours.
//! - Fakturownia: each document is created with `oid` = the job id and `oid_unique: "yes"`; a
//!   second create is refused, and the document is then found by its `oid`.
//!
//! **Modes.** [`Mode::KsefFirst`]: the Fakturownia document is created only once the KSeF
//! number exists, with `gov_id` set. [`Mode::Simultaneous`]: both start at once; the KSeF
//! number is written into the Fakturownia document afterwards (backfill, `PUT` with
//! `gov_id`).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use minicbor::{Decode, Encode};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, ErrorCode};
use crate::http::{Response, TransportError};
use crate::id::KsefNumber;
use crate::offline::availability::{AutoOffline, KsefStatus};
use crate::protocol::{
    Client, Event, FormCode, OnlineSend, OpId, Output, SecretString, Transmit, TransmitId,
};
use crate::retry::{Decision, Outcome, RetryPolicy};

use super::fakturownia::{self, Account};

/// When the Fakturownia document is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
pub enum Mode {
    /// After the KSeF number exists, carrying it (`gov_id`).
    #[n(0)]
    KsefFirst,
    /// At once with the KSeF submission; the KSeF number is backfilled.
    #[n(1)]
    Simultaneous,
}

/// Where one channel of a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
pub enum Leg {
    /// Not started (or to be started again).
    #[n(0)]
    NotStarted,
    /// A request is out or queued.
    #[n(1)]
    InFlight,
    /// Done.
    #[n(2)]
    Ok,
    /// Failed; waits for a recovery action.
    #[n(3)]
    Failed,
    /// Deliberately not done (Fakturownia after a KSeF failure in KSeF-first mode).
    #[n(4)]
    Skipped,
    /// KSeF only: KSeF was unavailable, the invoice was issued offline (the same bytes, with
    /// QR codes) and waits in the offline queue to be sent; the number comes with
    /// [`PairedMachine::offline_accepted`].
    #[n(5)]
    Offline,
}

/// The documents of one order invoice, as the rule engine made them (one evaluation for
/// both channels, so they cannot disagree).
#[derive(Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct PairedDocs {
    /// The store (each has its own NIP, KSeF credentials and Fakturownia account).
    #[n(0)]
    pub store: String,
    /// The shop's order id.
    #[n(1)]
    pub order_id: String,
    /// The invoice number (`P_2`), the same in both channels.
    #[n(2)]
    pub number: String,
    /// For a correction: the job id of the corrected invoice.
    #[n(3)]
    pub correction_of: Option<String>,
    /// The FA(3) XML exactly as it goes to KSeF.
    #[n(4)]
    pub xml: String,
    /// The Fakturownia `invoice` object (JSON text) for `POST /invoices.json`.
    #[n(5)]
    pub fakturownia: String,
}

impl fmt::Debug for PairedDocs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairedDocs")
            .field("store", &self.store)
            .field("order_id", &self.order_id)
            .field("number", &self.number)
            .field("correction_of", &self.correction_of)
            .field("xml", &self.xml.len())
            .finish_non_exhaustive()
    }
}

impl PairedDocs {
    /// The job id: `store:order:number` (also the Fakturownia `oid`).
    pub fn job_id(&self) -> String {
        format!("{}:{}:{}", self.store, self.order_id, self.number)
    }
}

/// One order invoice in both channels.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Job {
    /// `store:order:number`.
    #[n(0)]
    pub id: String,
    /// The documents.
    #[n(1)]
    pub docs: PairedDocs,
    /// The KSeF channel.
    #[n(2)]
    pub ksef: Leg,
    /// The KSeF number, once assigned.
    #[n(3)]
    pub ksef_number: Option<String>,
    /// Why KSeF refused or could not be reached (last time).
    #[n(4)]
    pub ksef_error: Option<String>,
    /// How many times the invoice was submitted to KSeF (resubmissions are resolved by
    /// KSeF's duplicate check).
    #[n(5)]
    pub ksef_submissions: u32,
    /// The UPO (XML) of the invoice.
    #[n(6)]
    pub upo: Option<String>,
    /// The Fakturownia channel.
    #[n(7)]
    pub fakturownia: Leg,
    /// The Fakturownia document id.
    #[n(8)]
    pub fakturownia_id: Option<u64>,
    /// The `gov_id` the Fakturownia document carries, as last seen.
    #[n(9)]
    pub fakturownia_gov_id: Option<String>,
    /// Why Fakturownia refused or could not be reached (last time).
    #[n(10)]
    pub fakturownia_error: Option<String>,
    /// Writing the KSeF number into the Fakturownia document (simultaneous mode).
    #[n(11)]
    pub backfill: Leg,
    /// Created (Unix ms).
    #[n(12)]
    pub created_ms: u64,
    /// Last change (Unix ms).
    #[n(13)]
    pub updated_ms: u64,
    /// Job ids of the corrections of this invoice (the linked pairs).
    #[n(14)]
    pub corrections: Vec<String>,
    /// The KSeF session that holds the invoice (for its UPO).
    #[n(15)]
    #[serde(default)]
    pub ksef_session: Option<String>,
}

/// The state of a job as shops name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PairedStatus {
    /// Waiting for KSeF (nothing in Fakturownia yet).
    KsefPending,
    /// Simultaneous mode: the Fakturownia document exists, KSeF still working.
    FakturowniaOkKsefPending,
    /// KSeF number received, the Fakturownia document not made yet.
    KsefOkFakturowniaPending,
    /// KSeF number received, Fakturownia failed (discrepancy).
    KsefOkFakturowniaFailed,
    /// KSeF refused the invoice; no Fakturownia document was made (discrepancy).
    KsefFailedFakturowniaSkipped,
    /// KSeF refused the invoice, but the Fakturownia document exists (simultaneous mode;
    /// discrepancy).
    KsefFailedFakturowniaCreated,
    /// Both exist; the KSeF number is being written into the Fakturownia document.
    KsefIdBackfillPending,
    /// Both exist, but the KSeF number could not be written into the document (discrepancy).
    KsefIdBackfillFailed,
    /// Both exist and agree.
    Completed,
    /// KSeF was unavailable: the invoice was issued offline and waits in the offline queue;
    /// the Fakturownia document follows its KSeF number (KSeF-first mode).
    KsefOffline,
    /// Simultaneous mode: the Fakturownia document exists, the invoice was issued offline and
    /// waits in the offline queue; its KSeF number is backfilled once KSeF accepts it.
    FakturowniaOkKsefOffline,
}

impl PairedStatus {
    /// The stable name (`KSEF_OK_FAKTUROWNIA_FAILED`…).
    pub const fn as_str(self) -> &'static str {
        match self {
            PairedStatus::KsefPending => "KSEF_PENDING",
            PairedStatus::FakturowniaOkKsefPending => "FAKTUROWNIA_OK_KSEF_PENDING",
            PairedStatus::KsefOkFakturowniaPending => "KSEF_OK_FAKTUROWNIA_PENDING",
            PairedStatus::KsefOkFakturowniaFailed => "KSEF_OK_FAKTUROWNIA_FAILED",
            PairedStatus::KsefFailedFakturowniaSkipped => "KSEF_FAILED_FAKTUROWNIA_SKIPPED",
            PairedStatus::KsefFailedFakturowniaCreated => "KSEF_FAILED_FAKTUROWNIA_CREATED",
            PairedStatus::KsefIdBackfillPending => "KSEF_ID_BACKFILL_PENDING",
            PairedStatus::KsefIdBackfillFailed => "KSEF_ID_BACKFILL_FAILED",
            PairedStatus::Completed => "COMPLETED",
            PairedStatus::KsefOffline => "KSEF_OFFLINE",
            PairedStatus::FakturowniaOkKsefOffline => "FAKTUROWNIA_OK_KSEF_OFFLINE",
        }
    }

    /// True for the states that need a person or a recovery action.
    pub const fn is_discrepancy(self) -> bool {
        matches!(
            self,
            PairedStatus::KsefOkFakturowniaFailed
                | PairedStatus::KsefFailedFakturowniaSkipped
                | PairedStatus::KsefFailedFakturowniaCreated
                | PairedStatus::KsefIdBackfillFailed
        )
    }
}

impl Job {
    /// The state as shops name it.
    pub fn status(&self) -> PairedStatus {
        use Leg::*;
        match (self.ksef, self.fakturownia) {
            (Offline, Ok) => PairedStatus::FakturowniaOkKsefOffline,
            (Offline, _) => PairedStatus::KsefOffline,
            (Failed, Ok) => PairedStatus::KsefFailedFakturowniaCreated,
            (Failed, _) => PairedStatus::KsefFailedFakturowniaSkipped,
            (Ok, Failed) => PairedStatus::KsefOkFakturowniaFailed,
            (Ok, Ok) => match self.backfill {
                Failed => PairedStatus::KsefIdBackfillFailed,
                _ if self.fakturownia_gov_id == self.ksef_number => PairedStatus::Completed,
                _ => PairedStatus::KsefIdBackfillPending,
            },
            (Ok, _) => PairedStatus::KsefOkFakturowniaPending,
            (_, Ok) => PairedStatus::FakturowniaOkKsefPending,
            _ => PairedStatus::KsefPending,
        }
    }
}

/// The channel of an audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[cbor(index_only)]
pub enum Channel {
    /// KSeF.
    #[n(0)]
    Ksef,
    /// Fakturownia.
    #[n(1)]
    Fakturownia,
    /// The machine itself (submission, recovery, restore, webhooks).
    #[n(2)]
    Machine,
}

/// One append-only audit record. Never holds a secret (tokens, keys).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1, 2, 3… without gaps.
    #[n(0)]
    pub seq: u64,
    /// When (Unix ms).
    #[n(1)]
    pub at_ms: u64,
    /// The job.
    #[n(2)]
    pub job: String,
    /// The channel.
    #[n(3)]
    pub channel: Channel,
    /// What was done (`submit`, `ksef.number`, `fakturownia.create`…).
    #[n(4)]
    pub operation: String,
    /// The request/response in a few words (no secrets).
    #[n(5)]
    pub summary: String,
    /// The KSeF number, when known.
    #[n(6)]
    pub ksef_number: Option<String>,
    /// The Fakturownia document id, when known.
    #[n(7)]
    pub fakturownia_id: Option<u64>,
    /// The job's state after the step (`PairedStatus::as_str`).
    #[n(8)]
    pub state: String,
}

/// Something the host may want to act on.
#[derive(Debug)]
#[non_exhaustive]
pub enum PairedEvent {
    /// KSeF assigned the number.
    KsefNumberReceived {
        /// The job.
        job: String,
        /// The shop's order id.
        order_id: String,
        /// The invoice number.
        invoice_number: String,
        /// The KSeF number.
        ksef_number: String,
        /// The UPO XML, when downloaded.
        upo: Option<String>,
    },
    /// The Fakturownia document exists.
    FakturowniaCreated {
        /// The job.
        job: String,
        /// The document id.
        id: u64,
    },
    /// The engine issued the invoice of a job offline (after [`PairedEvent::KsefOffline`]):
    /// the QR codes for the printout or receipt, and the deadline to send it by.
    OfflineIssued {
        /// The job.
        job: String,
        /// KOD I (label `OFFLINE` until the KSeF number is known).
        kod1_url: String,
        /// KOD II (label `CERTYFIKAT`).
        kod2_url: Option<String>,
        /// The day it must reach KSeF by; `None`: no obligation (total failure).
        deadline: Option<crate::model::Date>,
    },
    /// The job entered a discrepancy state.
    DiscrepancyEntered {
        /// The job.
        job: String,
        /// The state.
        status: PairedStatus,
    },
    /// The job left a discrepancy state.
    DiscrepancyLeft {
        /// The job.
        job: String,
        /// The new state.
        status: PairedStatus,
    },
    /// A job reached `COMPLETED`.
    Completed {
        /// The job.
        job: String,
    },
    /// KSeF is unavailable: the job's invoice is to be issued offline (its exact bytes,
    /// `PairedDocs::xml`, with KOD I and KOD II) and queued for sending later. The
    /// [`super::engine::Engine`] does this itself; a host driving the machine directly puts
    /// the invoice into its [`crate::offline::queue::OfflineQueue`].
    KsefOffline {
        /// The job.
        job: String,
        /// Why: the failure of the online attempt, or KSeF announced unavailable.
        reason: String,
    },
}

/// Identifies a request handed out by [`PairedMachine::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairedTransmitId {
    /// A KSeF request (the inner protocol client's).
    Ksef(TransmitId),
    /// A Fakturownia request.
    Fakturownia(u64),
}

/// A request to send.
#[derive(Debug)]
pub struct PairedTransmit {
    /// Pass it back to [`PairedMachine::handle_response`].
    pub id: PairedTransmitId,
    /// The request (its `Debug` hides secrets).
    pub request: crate::http::Request,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FaktCall {
    Create(String),
    Find(String),
    Backfill(String),
}

impl FaktCall {
    fn job(&self) -> &str {
        match self {
            FaktCall::Create(j) | FaktCall::Find(j) | FaktCall::Backfill(j) => j,
        }
    }
}

struct FaktInFlight {
    call: FaktCall,
    attempt: u32,
    policy: RetryPolicy,
    due_ms: u64,
    sent: Option<u64>,
}

#[derive(Encode, Decode, Serialize, Deserialize)]
struct Snapshot {
    #[n(0)]
    version: u32,
    #[n(1)]
    mode: Mode,
    #[n(2)]
    jobs: Vec<Job>,
    #[n(3)]
    audit: Vec<AuditRecord>,
}

const SNAPSHOT_VERSION: u32 = 1;

/// The paired-mode machine for one store (its KSeF client and Fakturownia account).
pub struct PairedMachine {
    mode: Mode,
    client: Client,
    account: Account,
    jobs: BTreeMap<String, Job>,
    audit: Vec<AuditRecord>,
    ops: BTreeMap<OpId, (String, bool)>,
    upo_asked: alloc::collections::BTreeSet<String>,
    queue: VecDeque<FaktCall>,
    inflight: Option<FaktInFlight>,
    events: VecDeque<PairedEvent>,
    rng: ChaCha20Rng,
    retry: RetryPolicy,
    next_id: u64,
    dirty: bool,
    push_secret: Option<SecretString>,
    auto_offline: AutoOffline,
    ksef_status: KsefStatus,
    offline_ops: BTreeMap<OpId, u64>,
    offline_results: VecDeque<(u64, Result<Output, Error>)>,
    next_offline: u64,
    offline_changes: u64,
}

impl fmt::Debug for PairedMachine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairedMachine")
            .field("mode", &self.mode)
            .field("jobs", &self.jobs.len())
            .field("audit", &self.audit.len())
            .finish_non_exhaustive()
    }
}

fn paired_error(code: ErrorCode, path: &str, msg: impl Into<String>) -> Error {
    Error::new(code, path, msg)
}

impl PairedMachine {
    /// A machine over `client` (the store's KSeF client) and `account` (its Fakturownia
    /// account). `seed` seeds the jitter of Fakturownia retries.
    pub fn new(mode: Mode, client: Client, account: Account, seed: [u8; 32]) -> PairedMachine {
        PairedMachine {
            mode,
            client,
            account,
            jobs: BTreeMap::new(),
            audit: Vec::new(),
            ops: BTreeMap::new(),
            upo_asked: alloc::collections::BTreeSet::new(),
            queue: VecDeque::new(),
            inflight: None,
            events: VecDeque::new(),
            rng: ChaCha20Rng::from_seed(seed),
            retry: RetryPolicy::default(),
            next_id: 1,
            dirty: false,
            push_secret: None,
            auto_offline: AutoOffline::OFF,
            ksef_status: KsefStatus::Available,
            offline_ops: BTreeMap::new(),
            offline_results: VecDeque::new(),
            next_offline: 1,
            offline_changes: 0,
        }
    }

    /// When KSeF is unavailable, issue offline instead of failing (see
    /// [`AutoOffline`]; off by default, not part of the snapshot: set it again after a
    /// restore). A job whose online submission fails for unavailability (or that is
    /// submitted while [`PairedMachine::set_ksef_status`] says KSeF is down) gets
    /// [`Leg::Offline`] and a [`PairedEvent::KsefOffline`]; in simultaneous mode the
    /// Fakturownia document is made at once and the KSeF number backfilled later.
    pub fn with_auto_offline(mut self, policy: AutoOffline) -> PairedMachine {
        self.set_auto_offline(policy);
        self
    }

    /// As [`PairedMachine::with_auto_offline`], on a machine in place.
    pub fn set_auto_offline(&mut self, policy: AutoOffline) {
        self.auto_offline = policy;
    }

    /// The policy set with [`PairedMachine::with_auto_offline`].
    pub fn auto_offline(&self) -> AutoOffline {
        self.auto_offline
    }

    /// What Latarnia (or the host) says about KSeF now. While it is not
    /// [`KsefStatus::Available`] and the policy switches on announcements, new submissions
    /// go offline without a KSeF attempt.
    pub fn set_ksef_status(&mut self, status: KsefStatus) {
        self.ksef_status = status;
        self.dirty = true;
    }

    /// The status last set with [`PairedMachine::set_ksef_status`].
    pub fn ksef_status(&self) -> KsefStatus {
        self.ksef_status
    }

    /// KSeF accepted the offline invoice of `job` (sent from the offline queue): records
    /// the number (and the session holding it, for its UPO) and goes on as after an online
    /// acceptance (the Fakturownia document in KSeF-first mode, the backfill in simultaneous
    /// mode). Also for a duplicate (440) whose original is this invoice. `PairedConflict`
    /// when the job is not waiting offline; accepting again with the same number is a no-op.
    pub fn offline_accepted(
        &mut self,
        job: &str,
        ksef_number: &str,
        session: Option<&str>,
        now_ms: u64,
    ) -> Result<(), Error> {
        if self
            .jobs
            .get(job)
            .is_some_and(|j| j.ksef == Leg::Ok && j.ksef_number.as_deref() == Some(ksef_number))
        {
            return Ok(());
        }
        let before = self.waiting_offline(job)?;
        KsefNumber::parse(ksef_number).map_err(|e| Error::from(e).at("ksef_number"))?;
        if let (Some(s), Some(j)) = (session, self.jobs.get_mut(job)) {
            j.ksef_session = Some(s.to_string());
        }
        self.ksef_ok(
            job,
            ksef_number.to_string(),
            None,
            now_ms,
            "offline invoice accepted",
        );
        self.changed(job, before);
        self.dirty = true;
        Ok(())
    }

    /// KSeF refused the offline invoice of `job`: the KSeF leg fails (a discrepancy; fix
    /// the invoice — a technical correction in the offline queue — or
    /// [`PairedMachine::retry_both`]).
    pub fn offline_rejected(&mut self, job: &str, why: &str, now_ms: u64) -> Result<(), Error> {
        let before = self.waiting_offline(job)?;
        self.ksef_failed(job, format!("offline invoice refused: {why}"), now_ms);
        self.changed(job, before);
        self.dirty = true;
        Ok(())
    }

    /// The status of `job` when its invoice waits in the offline queue; `PairedConflict`
    /// otherwise.
    fn waiting_offline(&self, job: &str) -> Result<PairedStatus, Error> {
        let j = self
            .jobs
            .get(job)
            .ok_or_else(|| paired_error(ErrorCode::PairedConflict, job, "no such job"))?;
        if j.ksef != Leg::Offline {
            return Err(not_now(
                job,
                "the invoice is not waiting in the offline queue",
            ));
        }
        Ok(j.status())
    }

    /// Starts a session of the offline queue's recovery on this machine's KSeF client (the
    /// client is the machine's, so it is pumped with everything else). The result comes
    /// back from [`PairedMachine::poll_offline_result`] under the returned tag.
    pub fn send_offline(&mut self, send: OnlineSend) -> u64 {
        let op = self.client.send_online(send);
        let tag = self.next_offline;
        self.next_offline += 1;
        self.offline_ops.insert(op, tag);
        tag
    }

    /// The result of a session started with [`PairedMachine::send_offline`], drained.
    pub fn poll_offline_result(&mut self) -> Option<(u64, Result<Output, Error>)> {
        self.offline_results.pop_front()
    }

    /// How many times a job went offline in this machine's life: a host that issues offline
    /// invoices only needs to look at the jobs again when this changed.
    pub fn offline_changes(&self) -> u64 {
        self.offline_changes
    }

    fn go_offline(&mut self, job: &str, reason: String, now_ms: u64) {
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        self.offline_changes += 1;
        j.ksef = Leg::Offline;
        j.ksef_error = Some(reason.clone());
        j.updated_ms = now_ms;
        self.record(now_ms, job, Channel::Ksef, "ksef.offline", &reason);
        self.events.push_back(PairedEvent::KsefOffline {
            job: job.to_string(),
            reason,
        });
        self.dirty = true;
    }

    /// Sets the retry policy of Fakturownia calls (KSeF calls follow the client's).
    pub fn with_retry(mut self, retry: RetryPolicy) -> PairedMachine {
        self.retry = retry;
        self
    }

    /// The shared secret a KSeF status push must carry ([`PairedMachine::apply_ksef_push`]).
    pub fn with_push_secret(mut self, secret: impl Into<SecretString>) -> PairedMachine {
        self.push_secret = Some(secret.into());
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The inner KSeF client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A job by id.
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.get(id)
    }

    /// The job of a store's invoice number (to link a correction to its original).
    pub fn job_by_number(&self, store: &str, number: &str) -> Option<&Job> {
        self.jobs.values().find(|j| {
            j.docs.store == store && j.docs.number == number && j.docs.correction_of.is_none()
        })
    }

    /// Every job, by id.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values()
    }

    /// The audit trail.
    pub fn audit(&self) -> &[AuditRecord] {
        &self.audit
    }

    /// The audit trail as JSON (an array of records).
    pub fn audit_json(&self) -> String {
        serde_json::to_string_pretty(&self.audit).unwrap_or_else(|_| String::from("[]"))
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<PairedEvent> {
        self.events.pop_front()
    }

    /// True when nothing is in flight or queued and every job waits for nobody.
    pub fn is_idle(&self) -> bool {
        self.client.is_idle()
            && self.queue.is_empty()
            && self.inflight.is_none()
            && !self.dirty
            && self.offline_results.is_empty()
    }

    /// Starts an order invoice. Submitting the same documents again (same job id) does
    /// nothing and returns the id: the job exists. Documents that differ under the same id
    /// are refused.
    pub fn submit(&mut self, docs: PairedDocs, now_ms: u64) -> Result<String, Error> {
        let id = docs.job_id();
        if let Some(j) = self.jobs.get(&id) {
            if j.docs == docs {
                return Ok(id);
            }
            return Err(paired_error(
                ErrorCode::PairedConflict,
                &id,
                "a job with this store, order and number exists with other documents",
            ));
        }
        if docs.xml.is_empty() {
            return Err(paired_error(
                ErrorCode::PairedConflict,
                &id,
                "the FA(3) XML is empty",
            ));
        }
        serde_json::from_str::<Value>(&docs.fakturownia).map_err(|e| {
            paired_error(
                ErrorCode::JsonSyntax,
                &format!("{id}/fakturownia"),
                format!("the Fakturownia document is not JSON: {e}"),
            )
        })?;
        if let Some(orig) = &docs.correction_of {
            let Some(o) = self.jobs.get_mut(orig) else {
                return Err(paired_error(
                    ErrorCode::PairedConflict,
                    &id,
                    format!("the corrected invoice's job {orig} is unknown"),
                ));
            };
            o.corrections.push(id.clone());
        }
        let job = Job {
            id: id.clone(),
            docs,
            ksef: Leg::NotStarted,
            ksef_number: None,
            ksef_error: None,
            ksef_submissions: 0,
            upo: None,
            fakturownia: Leg::NotStarted,
            fakturownia_id: None,
            fakturownia_gov_id: None,
            fakturownia_error: None,
            backfill: Leg::NotStarted,
            created_ms: now_ms,
            updated_ms: now_ms,
            corrections: Vec::new(),
            ksef_session: None,
        };
        self.jobs.insert(id.clone(), job);
        self.record(
            now_ms,
            &id,
            Channel::Machine,
            "submit",
            "order invoice accepted by the machine",
        );
        self.dirty = true;
        Ok(id)
    }

    // -----------------------------------------------------------------------------------
    // Recovery

    /// Retries only the Fakturownia leg, with the stored KSeF number (never a new KSeF
    /// submission). For `KSEF_OK_FAKTUROWNIA_FAILED`.
    pub fn retry_fakturownia(&mut self, job: &str, now_ms: u64) -> Result<(), Error> {
        let before = self.job_mut(job)?.status();
        let j = self.job_mut(job)?;
        if j.fakturownia != Leg::Failed {
            return Err(not_now(job, "the Fakturownia leg has not failed"));
        }
        j.fakturownia = Leg::NotStarted;
        j.fakturownia_error = None;
        self.record(
            now_ms,
            job,
            Channel::Machine,
            "recover.fakturownia",
            "retry the Fakturownia leg only",
        );
        self.changed(job, before);
        self.dirty = true;
        Ok(())
    }

    /// Writes the KSeF number into the Fakturownia document again. For
    /// `KSEF_ID_BACKFILL_FAILED`.
    pub fn retry_backfill(&mut self, job: &str, now_ms: u64) -> Result<(), Error> {
        let before = self.job_mut(job)?.status();
        let j = self.job_mut(job)?;
        if j.backfill != Leg::Failed {
            return Err(not_now(job, "the backfill has not failed"));
        }
        j.backfill = Leg::NotStarted;
        self.record(
            now_ms,
            job,
            Channel::Machine,
            "recover.backfill",
            "write the KSeF number again",
        );
        self.changed(job, before);
        self.dirty = true;
        Ok(())
    }

    /// After KSeF refused the invoice: send fixed documents (the same number) to both
    /// channels again. For `KSEF_FAILED_*`.
    pub fn retry_both(
        &mut self,
        job: &str,
        fixed: Option<PairedDocs>,
        now_ms: u64,
    ) -> Result<(), Error> {
        let before = self.job_mut(job)?.status();
        let j = self.job_mut(job)?;
        if j.ksef != Leg::Failed {
            return Err(not_now(job, "KSeF has not refused the invoice"));
        }
        if let Some(d) = fixed {
            if d.job_id() != j.id {
                return Err(paired_error(
                    ErrorCode::PairedConflict,
                    job,
                    "the fixed documents belong to another store, order or number",
                ));
            }
            j.docs = d;
        }
        j.ksef = Leg::NotStarted;
        j.ksef_error = None;
        if j.fakturownia == Leg::Skipped {
            j.fakturownia = Leg::NotStarted;
        }
        self.record(
            now_ms,
            job,
            Channel::Machine,
            "recover.both",
            "send both channels again",
        );
        self.changed(job, before);
        self.dirty = true;
        Ok(())
    }

    fn job_mut(&mut self, job: &str) -> Result<&mut Job, Error> {
        self.jobs
            .get_mut(job)
            .ok_or_else(|| paired_error(ErrorCode::PairedConflict, job, "no such job"))
    }

    // -----------------------------------------------------------------------------------
    // Inbound webhooks

    /// One route for every inbound notification (a host's `POST /ksef/webhook`): a body with
    /// an `invoice` object is Fakturownia's invoice-update webhook
    /// ([`PairedMachine::apply_fakturownia_webhook`], checked with `fakturownia_token`), a body
    /// with a `ksefNumber` is a KSeF status push ([`PairedMachine::apply_ksef_push`]).
    /// Anything else, forged or malformed, is refused without any change.
    pub fn apply_webhook(
        &mut self,
        body: &[u8],
        fakturownia_token: &str,
        now_ms: u64,
    ) -> Result<String, Error> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|_| paired_error(ErrorCode::WebhookRejected, "", "the body is not JSON"))?;
        if v.get("invoice").is_some() {
            self.apply_fakturownia_webhook(body, fakturownia_token, now_ms)
        } else if v.get("ksefNumber").is_some() {
            self.apply_ksef_push(body, now_ms)
        } else {
            Err(paired_error(
                ErrorCode::WebhookRejected,
                "",
                "neither a Fakturownia invoice webhook nor a KSeF status push",
            ))
        }
    }

    /// Applies Fakturownia's invoice-update webhook: a document of one of our jobs (by id or
    /// `oid`) with its `gov_id`. Forged or malformed payloads are refused without any change.
    pub fn apply_fakturownia_webhook(
        &mut self,
        body: &[u8],
        api_token: &str,
        now_ms: u64,
    ) -> Result<String, Error> {
        let hook = fakturownia::parse_webhook(body, api_token)?;
        let inv = hook.invoice;
        let id = self
            .jobs
            .values()
            .find(|j| j.fakturownia_id == Some(inv.id) || inv.oid.as_deref() == Some(j.id.as_str()))
            .map(|j| j.id.clone())
            .ok_or_else(|| {
                paired_error(
                    ErrorCode::WebhookRejected,
                    "invoice",
                    format!("document {} belongs to no job", inv.id),
                )
            })?;
        let before = self.jobs[&id].status();
        let j = self.job_mut(&id)?;
        j.fakturownia_id = Some(inv.id);
        if j.fakturownia != Leg::Ok {
            j.fakturownia = Leg::Ok;
        }
        j.fakturownia_gov_id = inv.gov_id.clone();
        j.updated_ms = now_ms;
        let summary = format!(
            "webhook {}: document {} gov_id {:?}",
            hook.event, inv.id, inv.gov_id
        );
        self.record(now_ms, &id, Channel::Fakturownia, "webhook", &summary);
        self.changed(&id, before);
        self.dirty = true;
        Ok(id)
    }

    /// Applies a KSeF status push (from a middleware): `{"secret", "invoiceNumber",
    /// "ksefNumber"}`. The secret must match [`PairedMachine::with_push_secret`]; the KSeF
    /// number must be valid (CRC) and belong to the store's seller; the invoice must be one
    /// of ours whose KSeF leg is not settled yet. Anything else is refused without change.
    pub fn apply_ksef_push(&mut self, body: &[u8], now_ms: u64) -> Result<String, Error> {
        let reject = |m: &str| paired_error(ErrorCode::WebhookRejected, "push", m);
        let v: Value = serde_json::from_slice(body).map_err(|_| reject("not JSON"))?;
        let secret = self
            .push_secret
            .as_ref()
            .ok_or_else(|| reject("no push secret configured"))?;
        if v.get("secret").and_then(Value::as_str) != Some(secret.expose()) {
            return Err(reject("wrong secret"));
        }
        let number = v
            .get("invoiceNumber")
            .and_then(Value::as_str)
            .ok_or_else(|| reject("invoiceNumber missing"))?;
        let ksef = v
            .get("ksefNumber")
            .and_then(Value::as_str)
            .ok_or_else(|| reject("ksefNumber missing"))?;
        let parsed =
            KsefNumber::parse(ksef).map_err(|_| reject("ksefNumber is not a valid KSeF number"))?;
        let id = self
            .jobs
            .values()
            .find(|j| j.docs.number == number)
            .map(|j| j.id.clone())
            .ok_or_else(|| reject("no job has this invoice number"))?;
        let j = &self.jobs[&id];
        if !j
            .docs
            .xml
            .contains(&format!("<NIP>{}</NIP>", parsed.seller_nip()))
        {
            return Err(reject("the KSeF number belongs to another seller"));
        }
        if j.ksef == Leg::Ok {
            if j.ksef_number.as_deref() == Some(ksef) {
                return Ok(id);
            }
            return Err(reject("the job already has another KSeF number"));
        }
        let before = j.status();
        self.ksef_ok(&id, ksef.to_string(), None, now_ms, "KSeF status push");
        self.changed(&id, before);
        Ok(id)
    }

    // -----------------------------------------------------------------------------------
    // I/O

    /// The next request to send at `now_ms`: KSeF first, then Fakturownia.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<PairedTransmit> {
        // Bounded: every round either returns or consumes the `dirty` flag set by a result.
        for _ in 0..64 {
            if self.dirty {
                self.dirty = false;
                self.advance_all(now_ms);
            }
            self.drain_client(now_ms);
            if let Some(Transmit { id, request }) = self.client.poll_transmit(now_ms) {
                return Some(PairedTransmit {
                    id: PairedTransmitId::Ksef(id),
                    request,
                });
            }
            // The client may have finished an operation while stepping: act on it.
            self.drain_client(now_ms);
            if !self.dirty {
                break;
            }
        }
        if self.inflight.is_none() {
            let call = self.queue.pop_front()?;
            let mut policy = self.retry.clone();
            policy.start(now_ms);
            self.inflight = Some(FaktInFlight {
                call,
                attempt: 1,
                policy,
                due_ms: now_ms,
                sent: None,
            });
        }
        let f = self.inflight.as_ref()?;
        if f.sent.is_some() || f.due_ms > now_ms {
            return None;
        }
        let call = f.call.clone();
        let request = match self.fakturownia_request(&call) {
            Ok(r) => r,
            Err(e) => {
                self.inflight = None;
                self.fakturownia_failed(&call, e, now_ms);
                return self.poll_transmit(now_ms);
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        if let Some(f) = self.inflight.as_mut() {
            f.sent = Some(id);
        }
        Some(PairedTransmit {
            id: PairedTransmitId::Fakturownia(id),
            request,
        })
    }

    /// When to call [`PairedMachine::poll_transmit`] again, if it returned `None`.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.dirty {
            return Some(0);
        }
        let f = self
            .inflight
            .as_ref()
            .filter(|f| f.sent.is_none())
            .map(|f| f.due_ms);
        match (self.client.poll_timeout(), f) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Feeds the result of request `id`.
    pub fn handle_response(
        &mut self,
        now_ms: u64,
        id: PairedTransmitId,
        result: Result<Response, TransportError>,
    ) {
        match id {
            PairedTransmitId::Ksef(t) => {
                self.client.handle_response(now_ms, t, result);
                self.drain_client(now_ms);
            }
            PairedTransmitId::Fakturownia(n) => self.on_fakturownia(now_ms, n, result),
        }
    }

    fn drain_client(&mut self, now_ms: u64) {
        while let Some(e) = self.client.poll_event() {
            if let Event::Finished { op, result } = e {
                if let Some(tag) = self.offline_ops.remove(&op) {
                    self.offline_results.push_back((tag, result));
                    continue;
                }
                match self.ops.remove(&op) {
                    Some((job, false)) => self.on_ksef(now_ms, &job, result),
                    Some((job, true)) => self.on_upo(now_ms, &job, result),
                    None => {}
                }
            }
        }
    }

    fn on_ksef(&mut self, now_ms: u64, job: &str, result: Result<Output, Error>) {
        let Some(before) = self.jobs.get(job).map(Job::status) else {
            return;
        };
        match result {
            Ok(Output::Online(r)) => match r.invoices.first() {
                Some(o) if o.is_accepted() => {
                    if let Some(j) = self.jobs.get_mut(job) {
                        j.ksef_session = Some(r.session.clone());
                    }
                    let n = o.ksef_number.clone().unwrap_or_default();
                    let upo = o
                        .upo
                        .as_ref()
                        .map(|u| String::from_utf8_lossy(u).into_owned());
                    let how = format!("session {}: accepted", r.session);
                    self.ksef_ok(job, n, upo, now_ms, &how);
                }
                Some(o) => {
                    // Our numbers are never issued twice: a duplicate of our number is our
                    // own earlier submission (a crash or a lost answer in between).
                    let original = o
                        .status
                        .as_ref()
                        .filter(|s| s.status.code == 440)
                        .and_then(|s| s.original.clone())
                        .filter(|(_, n)| KsefNumber::parse(n).is_ok());
                    match original {
                        Some((session, n)) => {
                            if let Some(j) = self.jobs.get_mut(job) {
                                if !session.is_empty() {
                                    j.ksef_session = Some(session);
                                }
                            }
                            let how = format!(
                                "session {}: duplicate of our earlier submission",
                                r.session
                            );
                            self.ksef_ok(job, n, None, now_ms, &how);
                        }
                        None => {
                            let e = o
                                .error
                                .as_ref()
                                .map(|e| format!("[{}] {e}", e.code().name()))
                                .unwrap_or_else(|| String::from("not accepted"));
                            self.ksef_failed(job, e, now_ms);
                        }
                    }
                }
                None => self.ksef_failed(job, String::from("KSeF reported no invoice"), now_ms),
            },
            Ok(_) => self.ksef_failed(job, String::from("unexpected KSeF result"), now_ms),
            Err(e) if self.auto_offline.on_failure(&e) => {
                let why = format!("KSeF unavailable: [{}] {e}", e.code().name());
                self.go_offline(job, why, now_ms);
            }
            Err(e) => self.ksef_failed(job, format!("[{}] {e}", e.code().name()), now_ms),
        }
        self.changed(job, before);
        self.dirty = true;
    }

    fn on_upo(&mut self, now_ms: u64, job: &str, result: Result<Output, Error>) {
        match result {
            Ok(Output::Upo(xml)) => {
                if let Some(j) = self.jobs.get_mut(job) {
                    j.upo = Some(String::from_utf8_lossy(&xml).into_owned());
                    j.updated_ms = now_ms;
                }
                self.record(now_ms, job, Channel::Ksef, "ksef.upo", "UPO downloaded");
            }
            Ok(_) => {}
            Err(e) => {
                // Not a discrepancy: the invoice is in KSeF; the UPO can be fetched later.
                let why = format!("UPO not downloaded: [{}] {e}", e.code().name());
                self.record(now_ms, job, Channel::Ksef, "ksef.upo_failed", &why);
            }
        }
    }

    fn ksef_ok(&mut self, job: &str, number: String, upo: Option<String>, now_ms: u64, how: &str) {
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        j.ksef = Leg::Ok;
        j.ksef_number = Some(number.clone());
        j.ksef_error = None;
        if upo.is_some() {
            j.upo = upo.clone();
        }
        j.updated_ms = now_ms;
        let ev = PairedEvent::KsefNumberReceived {
            job: job.to_string(),
            order_id: j.docs.order_id.clone(),
            invoice_number: j.docs.number.clone(),
            ksef_number: number,
            upo,
        };
        self.events.push_back(ev);
        self.record(now_ms, job, Channel::Ksef, "ksef.number", how);
        self.dirty = true;
    }

    fn ksef_failed(&mut self, job: &str, why: String, now_ms: u64) {
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        j.ksef = Leg::Failed;
        j.ksef_error = Some(why.clone());
        j.updated_ms = now_ms;
        self.record(now_ms, job, Channel::Ksef, "ksef.failed", &why);
    }

    fn fakturownia_request(&self, call: &FaktCall) -> Result<crate::http::Request, Error> {
        let j = self
            .jobs
            .get(call.job())
            .ok_or_else(|| paired_error(ErrorCode::PairedConflict, call.job(), "no such job"))?;
        match call {
            FaktCall::Create(_) => {
                let mut inv: Value = serde_json::from_str(&j.docs.fakturownia).map_err(|e| {
                    paired_error(
                        ErrorCode::JsonSyntax,
                        &j.id,
                        format!("Fakturownia document: {e}"),
                    )
                })?;
                inv["number"] = json!(j.docs.number);
                if let Some(n) = &j.ksef_number {
                    inv["gov_id"] = json!(n);
                }
                if let Some(orig) = &j.docs.correction_of {
                    let fid = self
                        .jobs
                        .get(orig)
                        .and_then(|o| o.fakturownia_id)
                        .ok_or_else(|| {
                            not_now(
                                &j.id,
                                "the corrected invoice has no Fakturownia document yet",
                            )
                        })?;
                    inv["kind"] = json!("correction");
                    inv["invoice_id"] = json!(fid);
                    inv["from_invoice_id"] = json!(fid);
                }
                fakturownia::create_invoice(&self.account, &inv, &j.id)
            }
            FaktCall::Find(_) => Ok(fakturownia::find_by_oid(&self.account, &j.id)),
            FaktCall::Backfill(_) => {
                let id = j
                    .fakturownia_id
                    .ok_or_else(|| not_now(&j.id, "no Fakturownia document"))?;
                let n = j
                    .ksef_number
                    .as_deref()
                    .ok_or_else(|| not_now(&j.id, "no KSeF number"))?;
                fakturownia::update_invoice(&self.account, id, &json!({ "gov_id": n }))
            }
        }
    }

    fn on_fakturownia(&mut self, now_ms: u64, n: u64, result: Result<Response, TransportError>) {
        let Some(f) = self.inflight.as_mut().filter(|f| f.sent == Some(n)) else {
            return;
        };
        f.sent = None;
        let outcome = Outcome::of_result(&result, now_ms);
        let retryable = match outcome {
            Outcome::Status { status, .. } => status == 429 || status == 408 || status >= 500,
            Outcome::Transport(_) => true,
        };
        if retryable {
            // Every Fakturownia call is safe to repeat: a create carries `oid` + `oid_unique`
            // (a second one is refused and the first is found by `oid`), PUT and GET are
            // idempotent.
            if let Decision::Retry { at_ms } =
                f.policy
                    .decide(now_ms, f.attempt, &outcome, true, &mut self.rng)
            {
                f.attempt += 1;
                f.due_ms = at_ms;
                return;
            }
        }
        let Some(f) = self.inflight.take() else {
            return;
        };
        let call = f.call;
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                self.fakturownia_failed(&call, Error::from(e), now_ms);
                return;
            }
        };
        let job = call.job().to_string();
        let Some(before) = self.jobs.get(&job).map(Job::status) else {
            return;
        };
        match &call {
            FaktCall::Create(_) => match fakturownia::read_invoice(&resp) {
                Ok(inv) => self.fakturownia_ok(&job, inv.id, inv.gov_id, now_ms, "created"),
                Err(e) if fakturownia::is_duplicate_oid(&e) => {
                    self.record(
                        now_ms,
                        &job,
                        Channel::Fakturownia,
                        "fakturownia.duplicate",
                        "refused: a document with this oid exists; looking it up",
                    );
                    self.queue.push_front(FaktCall::Find(job.clone()));
                }
                Err(e) => self.fakturownia_failed(&call, e, now_ms),
            },
            FaktCall::Find(_) => match fakturownia::read_invoices(&resp) {
                Ok(list) => match list
                    .into_iter()
                    .find(|i| i.oid.as_deref() == Some(job.as_str()))
                {
                    Some(inv) => {
                        self.fakturownia_ok(&job, inv.id, inv.gov_id, now_ms, "found by oid")
                    }
                    None => self.fakturownia_failed(
                        &call,
                        paired_error(
                            ErrorCode::PairedConflict,
                            &job,
                            "refused as a duplicate oid, but no document has it",
                        ),
                        now_ms,
                    ),
                },
                Err(e) => self.fakturownia_failed(&call, e, now_ms),
            },
            FaktCall::Backfill(_) => match fakturownia::read_invoice(&resp) {
                Ok(inv) if inv.gov_id.is_some() && inv.gov_id == self.jobs[&job].ksef_number => {
                    if let Some(j) = self.jobs.get_mut(&job) {
                        j.backfill = Leg::Ok;
                        j.fakturownia_gov_id = inv.gov_id;
                        j.updated_ms = now_ms;
                    }
                    self.record(
                        now_ms,
                        &job,
                        Channel::Fakturownia,
                        "fakturownia.backfill",
                        "gov_id written",
                    );
                }
                Ok(inv) => self.fakturownia_failed(
                    &call,
                    paired_error(
                        ErrorCode::PairedConflict,
                        &job,
                        format!("the document kept gov_id {:?}", inv.gov_id),
                    ),
                    now_ms,
                ),
                Err(e) => self.fakturownia_failed(&call, e, now_ms),
            },
        }
        self.changed(&job, before);
        self.dirty = true;
    }

    fn fakturownia_ok(
        &mut self,
        job: &str,
        id: u64,
        gov_id: Option<String>,
        now_ms: u64,
        how: &str,
    ) {
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        j.fakturownia = Leg::Ok;
        j.fakturownia_id = Some(id);
        j.fakturownia_gov_id = gov_id;
        j.fakturownia_error = None;
        j.updated_ms = now_ms;
        self.events.push_back(PairedEvent::FakturowniaCreated {
            job: job.to_string(),
            id,
        });
        self.record(
            now_ms,
            job,
            Channel::Fakturownia,
            "fakturownia.document",
            &format!("document {id} {how}"),
        );
    }

    fn fakturownia_failed(&mut self, call: &FaktCall, e: Error, now_ms: u64) {
        let job = call.job().to_string();
        let Some(before) = self.jobs.get(&job).map(Job::status) else {
            return;
        };
        let why = format!("[{}] {e}", e.code().name());
        if let Some(j) = self.jobs.get_mut(&job) {
            match call {
                FaktCall::Backfill(_) => j.backfill = Leg::Failed,
                _ => {
                    j.fakturownia = Leg::Failed;
                    j.fakturownia_error = Some(why.clone());
                }
            }
            j.updated_ms = now_ms;
        }
        let op = match call {
            FaktCall::Backfill(_) => "fakturownia.backfill_failed",
            _ => "fakturownia.failed",
        };
        self.record(now_ms, &job, Channel::Fakturownia, op, &why);
        self.changed(&job, before);
    }

    /// Starts what each job's state calls for.
    fn advance_all(&mut self, now_ms: u64) {
        let ids: Vec<String> = self.jobs.keys().cloned().collect();
        for id in ids {
            self.advance(&id, now_ms);
        }
    }

    fn advance(&mut self, id: &str, now_ms: u64) {
        let mode = self.mode;
        let Some(j) = self.jobs.get(id) else {
            return;
        };
        let before = j.status();
        let (ksef, fakt, backfill) = (j.ksef, j.fakturownia, j.backfill);
        let orig_ready = j
            .docs
            .correction_of
            .as_ref()
            .is_none_or(|o| self.jobs.get(o).is_some_and(|o| o.fakturownia_id.is_some()));
        if ksef == Leg::NotStarted && self.auto_offline.on_status(self.ksef_status) {
            let why = format!("KSeF announced {}", self.ksef_status.as_str());
            self.go_offline(id, why, now_ms);
        } else if ksef == Leg::NotStarted {
            let xml = j.docs.xml.clone().into_bytes();
            let op = self
                .client
                .send_online(OnlineSend::new(FormCode::Fa3, alloc::vec![xml]));
            self.ops.insert(op, (id.to_string(), false));
            if let Some(j) = self.jobs.get_mut(id) {
                j.ksef = Leg::InFlight;
                j.ksef_submissions += 1;
                j.updated_ms = now_ms;
            }
            let n = self.jobs[id].ksef_submissions;
            self.record(
                now_ms,
                id,
                Channel::Ksef,
                "ksef.submit",
                &format!("online session, submission {n}"),
            );
        }
        let ksef = self.jobs[id].ksef;
        // The UPO of an invoice accepted earlier (a resubmission after a crash answers
        // "duplicate", without it): fetch it from the session that holds the invoice.
        let j = &self.jobs[id];
        if ksef == Leg::Ok && j.upo.is_none() && !self.upo_asked.contains(id) {
            if let (Some(session), Some(number)) = (j.ksef_session.clone(), j.ksef_number.clone()) {
                let op = self
                    .client
                    .download_upo(crate::protocol::UpoRef::KsefNumber {
                        session,
                        ksef_number: number,
                    });
                self.ops.insert(op, (id.to_string(), true));
                self.upo_asked.insert(id.to_string());
            }
        }
        let start_fakt = fakt == Leg::NotStarted
            && orig_ready
            && match mode {
                Mode::KsefFirst => ksef == Leg::Ok,
                Mode::Simultaneous => ksef != Leg::Failed,
            };
        if start_fakt {
            self.queue.push_back(FaktCall::Create(id.to_string()));
            if let Some(j) = self.jobs.get_mut(id) {
                j.fakturownia = Leg::InFlight;
            }
            self.record(
                now_ms,
                id,
                Channel::Fakturownia,
                "fakturownia.create",
                "create the customer's document",
            );
        }
        if mode == Mode::KsefFirst && ksef == Leg::Failed && fakt == Leg::NotStarted {
            if let Some(j) = self.jobs.get_mut(id) {
                j.fakturownia = Leg::Skipped;
            }
            self.record(
                now_ms,
                id,
                Channel::Fakturownia,
                "fakturownia.skipped",
                "KSeF refused the invoice",
            );
        }
        let j = &self.jobs[id];
        if j.ksef == Leg::Ok
            && j.fakturownia == Leg::Ok
            && j.fakturownia_gov_id != j.ksef_number
            && backfill == Leg::NotStarted
        {
            self.queue.push_back(FaktCall::Backfill(id.to_string()));
            if let Some(j) = self.jobs.get_mut(id) {
                j.backfill = Leg::InFlight;
            }
            self.record(
                now_ms,
                id,
                Channel::Fakturownia,
                "fakturownia.backfill",
                "write the KSeF number into the document",
            );
        }
        self.changed(id, before);
    }

    /// Emits discrepancy and completion events when the named state moved.
    fn changed(&mut self, id: &str, before: PairedStatus) {
        let Some(after) = self.jobs.get(id).map(Job::status) else {
            return;
        };
        if after == before {
            return;
        }
        if after.is_discrepancy() {
            self.events.push_back(PairedEvent::DiscrepancyEntered {
                job: id.to_string(),
                status: after,
            });
        } else if before.is_discrepancy() {
            self.events.push_back(PairedEvent::DiscrepancyLeft {
                job: id.to_string(),
                status: after,
            });
        }
        if after == PairedStatus::Completed {
            self.events.push_back(PairedEvent::Completed {
                job: id.to_string(),
            });
        }
    }

    fn record(&mut self, now_ms: u64, job: &str, channel: Channel, operation: &str, summary: &str) {
        let (ksef_number, fakturownia_id, state) = match self.jobs.get(job) {
            Some(j) => (
                j.ksef_number.clone(),
                j.fakturownia_id,
                j.status().as_str().to_string(),
            ),
            None => (None, None, String::new()),
        };
        let seq = self.audit.len() as u64 + 1;
        self.audit.push(AuditRecord {
            seq,
            at_ms: now_ms,
            job: job.to_string(),
            channel,
            operation: operation.to_string(),
            summary: summary.to_string(),
            ksef_number,
            fakturownia_id,
            state,
        });
    }

    // -----------------------------------------------------------------------------------
    // Snapshots

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            mode: self.mode,
            jobs: self.jobs.values().cloned().collect(),
            audit: self.audit.clone(),
        }
    }

    /// The whole state (jobs and audit trail) as compact CBOR. Tokens are not in it: the
    /// KSeF client authenticates again after a restore.
    pub fn snapshot_cbor(&self) -> Vec<u8> {
        minicbor::to_vec(self.snapshot()).unwrap_or_default()
    }

    /// The same state as JSON.
    pub fn snapshot_json(&self) -> String {
        serde_json::to_string(&self.snapshot()).unwrap_or_default()
    }

    /// A machine from a CBOR snapshot. Legs that were in flight start again (safe: see the
    /// module documentation).
    pub fn restore_cbor(
        bytes: &[u8],
        client: Client,
        account: Account,
        seed: [u8; 32],
    ) -> Result<PairedMachine, Error> {
        let snap: Snapshot = minicbor::decode(bytes).map_err(|e| {
            paired_error(
                ErrorCode::SnapshotInvalid,
                "",
                format!("not a paired-mode snapshot: {e}"),
            )
        })?;
        Self::restore(snap, client, account, seed)
    }

    /// A machine from a JSON snapshot.
    pub fn restore_json(
        json: &str,
        client: Client,
        account: Account,
        seed: [u8; 32],
    ) -> Result<PairedMachine, Error> {
        let snap: Snapshot = serde_json::from_str(json).map_err(|e| {
            paired_error(
                ErrorCode::SnapshotInvalid,
                "",
                format!("not a paired-mode snapshot: {e}"),
            )
        })?;
        Self::restore(snap, client, account, seed)
    }

    fn restore(
        snap: Snapshot,
        client: Client,
        account: Account,
        seed: [u8; 32],
    ) -> Result<PairedMachine, Error> {
        if snap.version != SNAPSHOT_VERSION {
            return Err(paired_error(
                ErrorCode::SnapshotInvalid,
                "version",
                format!(
                    "snapshot version {} (this build reads {SNAPSHOT_VERSION})",
                    snap.version
                ),
            ));
        }
        let mut m = PairedMachine::new(snap.mode, client, account, seed);
        m.audit = snap.audit;
        for mut j in snap.jobs {
            if j.ksef == Leg::InFlight {
                j.ksef = Leg::NotStarted;
            }
            if j.fakturownia == Leg::InFlight {
                j.fakturownia = Leg::NotStarted;
            }
            if j.backfill == Leg::InFlight {
                j.backfill = Leg::NotStarted;
            }
            m.jobs.insert(j.id.clone(), j);
        }
        let last = m.audit.last().map(|a| a.at_ms).unwrap_or(0);
        let ids: Vec<String> = m.jobs.keys().cloned().collect();
        for id in ids {
            m.record(
                last,
                &id,
                Channel::Machine,
                "restore",
                "resumed from a snapshot",
            );
        }
        m.dirty = true;
        Ok(m)
    }
}

fn not_now(job: &str, why: &str) -> Error {
    paired_error(ErrorCode::PairedConflict, job, why)
}
