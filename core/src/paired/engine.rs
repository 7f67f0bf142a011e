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
        self.machine
            .poll_transmit(now_ms)
            .map(|t| (EngineTransmitId::Machine(t.id), t.request))
    }

    /// When to call again.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.nbp.is_none() && !self.waiting.is_empty() {
            return Some(0);
        }
        self.machine.poll_timeout()
    }

    /// The machine's next event.
    pub fn poll_event(&mut self) -> Option<PairedEvent> {
        self.machine.poll_event()
    }

    /// True when nothing waits and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.nbp.is_none() && self.machine.is_idle()
    }

    /// Feeds a result.
    pub fn handle_response(
        &mut self,
        now_ms: u64,
        id: EngineTransmitId,
        result: Result<Response, TransportError>,
    ) {
        match id {
            EngineTransmitId::Machine(t) => self.machine.handle_response(now_ms, t, result),
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
