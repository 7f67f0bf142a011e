//! The paired-mode engine of one store: orders in, both channels out. It evaluates the rules
//! ([`super::rules::evaluate`]), fetches a missing NBP rate over the same transport (table A,
//! [`super::nbp`]), hands the documents to the [`PairedMachine`], and keeps the numbering
//! counters, the known rates and the machine in one snapshot.
//!
//! Sans-IO like the machine: [`Engine::poll_transmit`] / [`Engine::handle_response`] /
//! [`Engine::poll_timeout`] / [`Engine::poll_event`].

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::http::{Request, Response, Transport, TransportError};
use crate::model::{Date, DateTime, Decimal};
use crate::protocol::{Client, Clock};
use crate::retry::RetryPolicy;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::crypto::PrivateKey;
use crate::offline::availability::{mode_for, AutoOffline, KsefStatus};
use crate::offline::deadline::Failure;
use crate::offline::queue::{Kod2Signer, OfflineQueue};
use crate::offline::recovery::OnlinePlan;
use crate::protocol::{FormCode, Output};
use crate::qr::{ContextType, InvoiceLink};
use crate::Environment;

use super::fakturownia::Account;
use super::machine::{Mode, PairedDocs, PairedEvent, PairedMachine, PairedTransmitId};
use super::nbp::{self, NbpRate};
use super::numbering::Numbering;
use super::order::Order;
use super::rules::{self, Decision, DocumentKind, Documents, RateQuote, RuleConfig, Trigger};

impl From<NbpRate> for RateQuote {
    fn from(r: NbpRate) -> RateQuote {
        RateQuote {
            currency: r.currency,
            table: r.table,
            date: r.date,
            rate: r.rate,
        }
    }
}

impl PairedDocs {
    /// The machine's documents from the rule engine's. `correction_of` is the job id of the
    /// corrected invoice (see [`PairedMachine::job_by_number`]).
    pub fn from_documents(
        d: &Documents,
        correction_of: Option<String>,
    ) -> Result<PairedDocs, Error> {
        let xml = String::from_utf8(d.xml.clone()).map_err(|_| {
            Error::new(ErrorCode::Encoding, &d.number, "the FA(3) XML is not UTF-8")
        })?;
        Ok(PairedDocs {
            store: d.store.clone(),
            order_id: d.order_id.clone(),
            number: d.number.clone(),
            correction_of,
            xml,
            fakturownia: d.fakturownia.to_string(),
        })
    }
}

/// What [`Engine::order`] did with an order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderOutcome {
    /// Nothing to issue, and why.
    Skipped(String),
    /// Waiting for the NBP rate of a currency; the order goes on when it arrives.
    WaitingForRate {
        /// The currency.
        currency: String,
    },
    /// Both channels started: the job id.
    Submitted(String),
}

#[derive(Clone, Serialize, Deserialize)]
struct Waiting {
    order: String,
    trigger: u8,
    currency: String,
    before: String,
}

/// What the engine keeps besides the machine: counters, known rates, orders waiting for a
/// rate.
#[derive(Serialize, Deserialize)]
struct EngineState {
    version: u32,
    numbering: Numbering,
    rates: Vec<(String, String, String, String)>,
    waiting: Vec<Waiting>,
    machine: String,
    /// The offline queue (its own JSON snapshot), when offline issuing is on.
    #[serde(default)]
    offline: Option<String>,
}

/// The seller's offline KSeF certificate for KOD II: the login context, the certificate's
/// serial (16 hex characters) and its private key (never in a snapshot or `Debug`).
#[derive(Clone)]
pub struct OfflineSigner {
    /// The context type of the issuer's login (`Nip` for most shops).
    pub context_type: ContextType,
    /// The context value (the NIP).
    pub context_value: String,
    /// The serial number of the KSeF certificate of type `Offline`.
    pub certificate_serial: String,
    /// Its private key.
    pub key: PrivateKey,
}

impl fmt::Debug for OfflineSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflineSigner")
            .field("context_value", &self.context_value)
            .field("certificate_serial", &self.certificate_serial)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Offline issuing of the engine: the queue, the KOD II signer, the recovery in flight.
struct OfflineSide {
    queue: OfflineQueue,
    signer: Option<OfflineSigner>,
    rng: ChaCha20Rng,
    recovery: Option<(u64, OnlinePlan)>,
    /// Jobs that could not be issued offline yet (no signer), reported once.
    reported: alloc::collections::BTreeSet<String>,
    /// The machine's `offline_changes` when the jobs were last reconciled with the queue
    /// (`None`: look again — after a restore or a new signer).
    seen: Option<u64>,
}

fn trigger_code(t: Trigger) -> u8 {
    match t {
        Trigger::Created => 0,
        Trigger::StatusChanged => 1,
        Trigger::Captured => 2,
        _ => 3,
    }
}

fn trigger_of(c: u8) -> Trigger {
    match c {
        0 => Trigger::Created,
        1 => Trigger::StatusChanged,
        2 => Trigger::Captured,
        _ => Trigger::Manual,
    }
}

/// One store's paired-mode engine.
pub struct Engine {
    config: RuleConfig,
    numbering: Numbering,
    rates: Vec<RateQuote>,
    waiting: Vec<Waiting>,
    machine: PairedMachine,
    nbp_base: String,
    nbp: Option<(u64, String, Date, bool)>,
    next_id: u64,
    errors: VecDeque<(String, Error)>,
    offline: Option<OfflineSide>,
    events: VecDeque<PairedEvent>,
    seed: [u8; 32],
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("machine", &self.machine)
            .field("waiting", &self.waiting.len())
            .finish_non_exhaustive()
    }
}

/// Identifies a request of [`Engine::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineTransmitId {
    /// A KSeF or Fakturownia request of the machine.
    Machine(PairedTransmitId),
    /// An NBP rates request.
    Nbp(u64),
}

impl Engine {
    /// An engine: the rules, the store's KSeF client and Fakturownia account, the mode, and
    /// the NBP API base (`https://api.nbp.pl`, or the simulator's).
    pub fn new(
        config: RuleConfig,
        mode: Mode,
        client: Client,
        account: Account,
        nbp_base: impl Into<String>,
        seed: [u8; 32],
    ) -> Engine {
        Engine {
            config,
            numbering: Numbering::new(),
            rates: Vec::new(),
            waiting: Vec::new(),
            machine: PairedMachine::new(mode, client, account, seed),
            nbp_base: nbp_base.into(),
            nbp: None,
            next_id: 1,
            errors: VecDeque::new(),
            offline: None,
            events: VecDeque::new(),
            seed,
        }
    }

    /// Turns on offline issuing (see [`AutoOffline`]): when KSeF is unavailable, an order's
    /// invoice is issued offline — its exact bytes queued with KOD I and KOD II (signed with
    /// the [`OfflineSigner`] set by [`Engine::set_offline_signer`]) — and the order goes on:
    /// in simultaneous mode the Fakturownia document is made at once and the KSeF number is
    /// backfilled when [`Engine::recover_offline`] gets it accepted. The queue is part of the
    /// snapshot; the policy and the signer are not: set them again after a restore.
    pub fn with_offline(mut self, env: Environment, policy: AutoOffline) -> Engine {
        let seed = self.seed;
        let side = self.offline.get_or_insert_with(|| OfflineSide {
            queue: OfflineQueue::new(env),
            signer: None,
            rng: ChaCha20Rng::from_seed(seed),
            recovery: None,
            reported: Default::default(),
            seen: None,
        });
        let _ = side;
        self.machine.set_auto_offline(policy);
        self
    }

    /// The offline KSeF certificate that signs KOD II of invoices issued offline.
    pub fn set_offline_signer(&mut self, signer: OfflineSigner) {
        if let Some(side) = self.offline.as_mut() {
            side.signer = Some(signer);
            side.reported.clear();
            side.seen = None;
        }
    }

    /// What Latarnia (or the host) says about KSeF now (see
    /// [`PairedMachine::set_ksef_status`]).
    pub fn set_ksef_status(&mut self, status: KsefStatus) {
        self.machine.set_ksef_status(status);
    }

    /// Records an announced KSeF failure: the deadlines of queued offline invoices move.
    pub fn announce_failure(&mut self, failure: Failure) {
        if let Some(side) = self.offline.as_mut() {
            side.queue.announce_failure(failure);
        }
    }

    /// The offline queue, when offline issuing is on.
    pub fn offline_queue(&self) -> Option<&OfflineQueue> {
        self.offline.as_ref().map(|s| &s.queue)
    }

    /// Starts sending the offline queue (once KSeF is back): up to `max` pending FA(3)
    /// invoices, oldest deadline first, in one online session with `offlineMode: true` on the
    /// store's KSeF client. Accepted invoices get their KSeF numbers in their jobs (then the
    /// Fakturownia document or the backfill follows); refused ones become discrepancies.
    /// Returns how many invoices were sent; 0 when nothing is pending or a recovery session
    /// is already running.
    pub fn recover_offline(&mut self, max: usize) -> usize {
        let Some(side) = self.offline.as_mut() else {
            return 0;
        };
        if side.recovery.is_some() {
            return 0;
        }
        let Some(plan) = side.queue.plan_online(FormCode::Fa3, max) else {
            return 0;
        };
        let n = plan.ids.len();
        let tag = self.machine.send_offline(plan.send.clone());
        side.recovery = Some((tag, plan));
        n
    }

    /// Issues the jobs the machine put offline into the queue, and records the results of
    /// recovery sessions in the queue and the jobs.
    fn pump_offline(&mut self, now_ms: u64) {
        let Some(side) = self.offline.as_mut() else {
            return;
        };
        let today =
            crate::offline::calendar::warsaw_date((now_ms / 1000) as i64).unwrap_or_default();
        // 1. Jobs waiting offline that are not queued yet (also after a restore); the jobs are
        // looked at only when one went offline since the last look.
        let changes = self.machine.offline_changes();
        let offline_jobs: Vec<(String, String)> = if side.seen == Some(changes) {
            Vec::new()
        } else {
            side.seen = Some(changes);
            self.machine
                .jobs()
                .filter(|j| j.ksef == super::machine::Leg::Offline)
                .filter(|j| side.queue.get(&j.id).is_none())
                .map(|j| (j.id.clone(), j.docs.xml.clone()))
                .collect()
        };
        for (job, xml) in offline_jobs {
            let Some(signer) = side.signer.as_ref() else {
                if side.reported.insert(job.clone()) {
                    self.errors.push_back((
                        job,
                        Error::new(
                            ErrorCode::OfflineInvalid,
                            "offline_signer",
                            "KSeF is unavailable but no offline certificate is set: the \
                             invoice waits to be issued offline (set_offline_signer)",
                        ),
                    ));
                }
                continue;
            };
            let issued = InvoiceLink::from_invoice_xml(side.queue.env(), xml.as_bytes())
                .map(|l| l.issue_date());
            let result = issued.and_then(|issued| {
                let mode = mode_for(self.machine.ksef_status(), issued);
                let k2 = Kod2Signer {
                    context_type: signer.context_type,
                    context_value: &signer.context_value,
                    certificate_serial: &signer.certificate_serial,
                    key: &signer.key,
                };
                side.queue
                    .issue(&job, xml.as_bytes(), mode, Some(&k2), &mut side.rng)
                    .map(|inv| PairedEvent::OfflineIssued {
                        job: job.clone(),
                        kod1_url: inv.kod1_url.clone(),
                        kod2_url: inv.kod2_url.clone(),
                        deadline: inv.deadline,
                    })
            });
            match result {
                Ok(ev) => self.events.push_back(ev),
                Err(e) => {
                    if side.reported.insert(job.clone()) {
                        self.errors.push_back((job, e));
                    }
                }
            }
        }
        // 2. Results of recovery sessions.
        while let Some((tag, result)) = self.machine.poll_offline_result() {
            let Some((_, plan)) = side.recovery.take_if(|(t, _)| *t == tag) else {
                continue;
            };
            let r = match result {
                Ok(Output::Online(r)) => r,
                Ok(_) => continue,
                Err(e) => {
                    // Nothing recorded: the invoices stay pending and are sent again.
                    self.errors.push_back((String::from("offline recovery"), e));
                    continue;
                }
            };
            let report = match side.queue.apply_online(&plan, &r, today) {
                Ok(rep) => rep,
                Err(e) => {
                    self.errors.push_back((String::from("offline recovery"), e));
                    continue;
                }
            };
            for (job, number) in &report.accepted {
                if let Err(e) = self
                    .machine
                    .offline_accepted(job, number, Some(&r.session), now_ms)
                {
                    self.errors.push_back((job.clone(), e));
                }
            }
            // Our invoice numbers are never issued twice: a duplicate of our own invoice is
            // an earlier submission of these bytes whose answer was lost.
            for (job, original) in &report.duplicates {
                let _ = side.queue.accept_duplicate(job, original);
                if let Err(e) = self.machine.offline_accepted(job, original, None, now_ms) {
                    self.errors.push_back((job.clone(), e));
                }
            }
            for (job, _, why) in &report.rejected {
                if report.duplicates.iter().any(|(d, _)| d == job) {
                    continue;
                }
                if let Err(e) = self.machine.offline_rejected(job, why, now_ms) {
                    self.errors.push_back((job.clone(), e));
                }
            }
        }
    }

    /// Sets the retry policy of Fakturownia calls (see [`PairedMachine::with_retry`]; not
    /// part of the snapshot: set it again after [`Engine::restore_json`]).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Engine {
        self.machine = self.machine.with_retry(retry);
        self
    }

    /// Sets the shared secret KSeF status pushes must carry (see
    /// [`PairedMachine::with_push_secret`]; not part of the snapshot: set it again after
    /// [`Engine::restore_json`]).
    pub fn with_push_secret(mut self, secret: impl Into<crate::protocol::SecretString>) -> Engine {
        self.machine = self.machine.with_push_secret(secret);
        self
    }

    /// The machine (jobs, audit trail, recovery actions).
    pub fn machine(&self) -> &PairedMachine {
        &self.machine
    }

    /// The machine, for recovery actions and webhooks.
    pub fn machine_mut(&mut self) -> &mut PairedMachine {
        &mut self.machine
    }

    /// The numbering counters.
    pub fn numbering(&self) -> &Numbering {
        &self.numbering
    }

    /// Adds a known NBP rate (a host that fetches rates itself).
    pub fn add_rate(&mut self, rate: RateQuote) {
        if !self.rates.contains(&rate) {
            self.rates.push(rate);
        }
    }

    /// Orders that failed after waiting for a rate (the order id and why), drained.
    pub fn poll_order_error(&mut self) -> Option<(String, Error)> {
        self.errors.pop_front()
    }

    /// Evaluates an order and starts both channels (or records why not, or waits for a rate).
    /// `now_ms` dates the documents (`DataWytworzeniaFa`) and the numbering period.
    pub fn order(
        &mut self,
        order: &Order,
        trigger: Trigger,
        now_ms: u64,
    ) -> Result<OrderOutcome, Error> {
        let now = DateTime::from_unix_seconds((now_ms / 1000) as i64).ok_or_else(|| {
            Error::new(ErrorCode::InvalidValue, "now", "the clock is out of range")
        })?;
        match rules::evaluate(
            order,
            &self.config,
            trigger,
            &mut self.numbering,
            &self.rates,
            &now,
        )? {
            Decision::Skip { reason } => Ok(OrderOutcome::Skipped(reason)),
            Decision::NeedRate { currency, before } => {
                let json = order.to_json()?;
                self.waiting.push(Waiting {
                    order: json,
                    trigger: trigger_code(trigger),
                    currency: currency.clone(),
                    before: before.to_string(),
                });
                Ok(OrderOutcome::WaitingForRate { currency })
            }
            Decision::Issue(docs) => {
                let correction_of = match &docs.kind {
                    DocumentKind::Correction {
                        original_number, ..
                    } => Some(
                        self.machine
                            .job_by_number(&docs.store, original_number)
                            .map(|j| j.id.clone())
                            .ok_or_else(|| {
                                Error::new(
                                    ErrorCode::CorrectionInvalid,
                                    "corrects.invoice_number",
                                    format!(
                                        "invoice {original_number} was not issued by this engine"
                                    ),
                                )
                            })?,
                    ),
                    _ => None,
                };
                let pd = PairedDocs::from_documents(&docs, correction_of)?;
                Ok(OrderOutcome::Submitted(self.machine.submit(pd, now_ms)?))
            }
        }
    }

    /// The next request: NBP rates first (orders wait on them), then the machine's.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<(EngineTransmitId, Request)> {
        if self.nbp.is_none() {
            if let Some(w) = self.waiting.first() {
                if let Ok(before) = w.before.parse::<Date>() {
                    let id = self.next_id;
                    self.next_id += 1;
                    let req = nbp::table_a_rate_request(&self.nbp_base, &w.currency, before);
                    self.nbp = Some((id, w.currency.clone(), before, true));
                    return Some((EngineTransmitId::Nbp(id), req));
                }
            }
        }
        let t = self.machine.poll_transmit(now_ms);
        // jobs the machine just put offline are issued into the queue at once
        self.pump_offline(now_ms);
        t.map(|t| (EngineTransmitId::Machine(t.id), t.request))
    }

    /// When to call again.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.nbp.is_none() && !self.waiting.is_empty() {
            return Some(0);
        }
        self.machine.poll_timeout()
    }

    /// The next event: the machine's, and the engine's own (an invoice issued offline).
    pub fn poll_event(&mut self) -> Option<PairedEvent> {
        if let Some(e) = self.machine.poll_event() {
            return Some(e);
        }
        self.events.pop_front()
    }

    /// True when nothing waits and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty()
            && self.nbp.is_none()
            && self.machine.is_idle()
            && self.events.is_empty()
            && self.offline.as_ref().is_none_or(|s| s.recovery.is_none())
    }

    /// Feeds a result.
    pub fn handle_response(
        &mut self,
        now_ms: u64,
        id: EngineTransmitId,
        result: Result<Response, TransportError>,
    ) {
        match id {
            EngineTransmitId::Machine(t) => {
                self.machine.handle_response(now_ms, t, result);
                self.pump_offline(now_ms);
            }
            EngineTransmitId::Nbp(n) => {
                let Some((sent, currency, before, _)) = self.nbp.take() else {
                    return;
                };
                if sent != n {
                    self.nbp = Some((sent, currency, before, true));
                    return;
                }
                let rate = result
                    .map_err(Error::from)
                    .and_then(|r| nbp::read_rate(&r, &currency, before));
                // Every order waiting for this currency and day goes on (or fails with why).
                let (ready, rest): (Vec<Waiting>, Vec<Waiting>) =
                    core::mem::take(&mut self.waiting)
                        .into_iter()
                        .partition(|w| w.currency == currency && w.before == before.to_string());
                self.waiting = rest;
                match rate {
                    Ok(r) => {
                        self.add_rate(r.into());
                        for w in ready {
                            let run = Order::from_json(&w.order).and_then(|o| {
                                self.order(&o, trigger_of(w.trigger), now_ms).map(|_| ())
                            });
                            if let Err(e) = run {
                                self.errors.push_back((order_id(&w.order), e));
                            }
                        }
                    }
                    Err(e) => {
                        for w in ready {
                            self.errors.push_back((order_id(&w.order), e.clone()));
                        }
                    }
                }
            }
        }
    }

    /// Pumps the engine until it is idle: sends each request through `transport`, waits
    /// through `clock`, and hands every event to `on_event`. Orders that failed while
    /// waiting for a rate are left in [`Engine::poll_order_error`].
    pub fn drive<T, C, F>(&mut self, transport: &mut T, clock: &mut C, mut on_event: F)
    where
        T: Transport + ?Sized,
        C: Clock + ?Sized,
        F: FnMut(PairedEvent),
    {
        loop {
            while let Some(e) = self.poll_event() {
                on_event(e);
            }
            let now = clock.now_ms();
            if let Some((id, request)) = self.poll_transmit(now) {
                let result = transport.send(&request);
                let now = clock.now_ms();
                self.handle_response(now, id, result);
                continue;
            }
            if self.is_idle() {
                break;
            }
            match self.poll_timeout() {
                Some(at) => clock.sleep_until(at),
                // Waiting for a response that was never fed back: nothing else can happen.
                None => break,
            }
        }
        while let Some(e) = self.poll_event() {
            on_event(e);
        }
    }

    /// The whole state as JSON: the machine's snapshot, the numbering counters, the known
    /// rates and the orders waiting for one (no secrets).
    pub fn snapshot_json(&self) -> String {
        let state = EngineState {
            version: 1,
            numbering: self.numbering.clone(),
            rates: self
                .rates
                .iter()
                .map(|r| {
                    (
                        r.currency.clone(),
                        r.table.clone(),
                        r.date.to_string(),
                        r.rate.to_string(),
                    )
                })
                .collect(),
            waiting: self.waiting.clone(),
            machine: self.machine.snapshot_json(),
            offline: self.offline.as_ref().map(|s| s.queue.snapshot_json()),
        };
        serde_json::to_string(&state).unwrap_or_default()
    }

    /// An engine from [`Engine::snapshot_json`] (the machine restores as in
    /// [`PairedMachine::restore_json`]).
    pub fn restore_json(
        json: &str,
        config: RuleConfig,
        client: Client,
        account: Account,
        nbp_base: impl Into<String>,
        seed: [u8; 32],
    ) -> Result<Engine, Error> {
        let bad = |m: String| Error::new(ErrorCode::SnapshotInvalid, "", m);
        let st: EngineState =
            serde_json::from_str(json).map_err(|e| bad(format!("not an engine snapshot: {e}")))?;
        if st.version != 1 {
            return Err(bad(format!("engine snapshot version {}", st.version)));
        }
        let machine = PairedMachine::restore_json(&st.machine, client, account, seed)?;
        let mut rates = Vec::new();
        for (currency, table, date, rate) in st.rates {
            rates.push(RateQuote {
                currency,
                table,
                date: date
                    .parse()
                    .map_err(|_| bad(format!("rate date `{date}`")))?,
                rate: rate
                    .parse::<Decimal>()
                    .map_err(|_| bad(format!("rate `{rate}`")))?,
            });
        }
        let offline = match st.offline {
            Some(q) => Some(OfflineSide {
                queue: OfflineQueue::restore_json(&q)?,
                signer: None,
                rng: ChaCha20Rng::from_seed(seed),
                recovery: None,
                reported: Default::default(),
                seen: None,
            }),
            None => None,
        };
        Ok(Engine {
            config,
            numbering: st.numbering,
            rates,
            waiting: st.waiting,
            machine,
            nbp_base: nbp_base.into(),
            nbp: None,
            next_id: 1,
            errors: VecDeque::new(),
            offline,
            events: VecDeque::new(),
            seed,
        })
    }
}

fn order_id(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| {
            v.get("id")
                .and_then(|i| i.as_str())
                .map(ToString::to_string)
        })
        .unwrap_or_default()
}
