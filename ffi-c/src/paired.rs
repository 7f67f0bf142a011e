//! Paired mode: `ksef_paired` (one store's engine: the order → the FA(3) invoice in KSeF and
//! the customer's Fakturownia document carrying the KSeF number), its snapshots, status,
//! audit trail, recovery actions, webhooks and PDFs; and `ksef_rules_evaluate`, the rule
//! engine alone (no network).
//!
//! The engine runs over a `ksef_client`'s protocol client and built-in transport, which it
//! takes over. A `ksef_paired` may move between threads but must not be used from two
//! threads at once. The JSON forms are the core's (`ksef::paired::host`).

use ksef::http::Transport;
use ksef::id::Nip;
use ksef::offline::availability::{self, KsefStatus};
use ksef::paired::engine::{Engine, OrderOutcome};
use ksef::paired::fakturownia;
use ksef::paired::host::{self, HostSettings};
use ksef::paired::numbering::Numbering;
use ksef::paired::order::Order;
use ksef::paired::rules::{self, RuleConfig, Trigger};
use ksef::protocol::{Client, Clock, Config, Credentials, SystemClock};
use ksef::transport::UreqTransport;
use ksef::{Error, ErrorCode};
use serde_json::{json, Value};

use crate::client::{ksef_client, os_seed};
use crate::common::{
    bytes, free, give, give_buffer, give_json, guard, handle, handle_mut, invalid, ksef_buffer,
    ksef_result, null, out, text,
};

/// One store's paired-mode engine with the KSeF client and transport it took over.
pub struct ksef_paired {
    engine: Engine,
    transport: UreqTransport,
    settings: HostSettings,
}

fn trigger_of(name: &str) -> Result<Trigger, Error> {
    if name.is_empty() {
        return Ok(Trigger::StatusChanged);
    }
    Trigger::from_name(name).ok_or_else(|| {
        invalid(
            "trigger",
            format!("`{name}`: created, status, captured or manual"),
        )
    })
}

/// The client behind `*client` (checked, not yet taken).
fn peek_client(client: *mut *mut ksef_client) -> Result<(), Error> {
    let slot = out(client, "client")?;
    if slot.is_null() {
        return Err(null("client"));
    }
    // SAFETY: a non-NULL `*client` is a live client made by `ksef_client_new*` (documented).
    if unsafe { &**slot }.host_driven {
        return Err(invalid(
            "client",
            "paired mode drives its client over the built-in transport: make it with \
             ksef_client_new, not ksef_client_new_sansio",
        ));
    }
    Ok(())
}

/// Takes the client out of `*client` (checked by `peek_client`) and sets `*client` to NULL.
fn take_client(client: *mut *mut ksef_client) -> (Client, UreqTransport) {
    // SAFETY: checked non-NULL by `peek_client`; `*client` is a live client made by
    // `ksef_client_new` (documented), owned from here on.
    let b = unsafe { Box::from_raw(*client) };
    // SAFETY: `client` is writable (checked by `peek_client`).
    unsafe { *client = std::ptr::null_mut() };
    let ksef_client {
        client, transport, ..
    } = *b;
    (client, transport)
}

fn now_ms() -> u64 {
    SystemClock.now_ms()
}

/// Pumps the engine until idle: the events as JSON, and orders that failed while waiting
/// for an exchange rate.
fn drive(p: &mut ksef_paired) -> (Vec<Value>, Vec<(String, Error)>) {
    let mut events = Vec::new();
    p.engine.drive(&mut p.transport, &mut SystemClock, |e| {
        events.push(e.to_json_value())
    });
    let mut failed = Vec::new();
    while let Some(f) = p.engine.poll_order_error() {
        failed.push(f);
    }
    (events, failed)
}

fn error_json(e: &Error) -> Value {
    json!({
        "code": e.code().as_u32(),
        "name": e.code().name(),
        "path": e.path(),
        "message": e.message(),
    })
}

/// Makes a paired-mode engine for one store into `*paired_out`:
/// - `rules_json`: the rule configuration (`examples/paired/rules.json`; strict, errors
///   `KSEF_ERR_RULE_CONFIG_INVALID` naming the JSON path);
/// - `settings_json`: `{"store"?, "mode"?: "ksef-first"|"simultaneous", "fakturownia_url"?,
///   "fakturownia_token", "nbp_url"?, "push_secret"?}` (see `ksef::paired::host`; `store`
///   may be left out when the rules have one store; the Fakturownia URL defaults to the
///   store's; the token is never part of an error, snapshot or JSON output);
/// - `*client`: a client from `ksef_client_new` for the store's seller, which the engine
///   takes over (its protocol client and built-in transport): on success `*client` is set
///   to NULL and must not be freed; on failure it is left to the caller.
///
/// Free the engine with `ksef_paired_free`.
/// Thread-safe as a constructor; `*client` must not be in use on another thread. The new engine is used from one thread at a time.
///
/// # Safety
/// Text arguments point to their lengths in readable bytes; `client` points to a live
/// client pointer; `paired_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_new(
    rules_json: *const std::ffi::c_char,
    rules_len: usize,
    settings_json: *const std::ffi::c_char,
    settings_len: usize,
    client: *mut *mut ksef_client,
    paired_out: *mut *mut ksef_paired,
) -> ksef_result {
    guard(|| {
        let o = out(paired_out, "paired_out")?;
        peek_client(client)?;
        // SAFETY: documented contract.
        let rules = unsafe { text(rules_json, rules_len, "rules_json") }?;
        // SAFETY: documented contract.
        let settings = unsafe { text(settings_json, settings_len, "settings_json") }?;
        let config = RuleConfig::from_json(rules)?;
        let settings = HostSettings::from_json(settings, &config)?;
        let seed = os_seed()?;
        let (c, transport) = take_client(client);
        let engine = settings.engine(config, c, seed);
        give(
            o,
            ksef_paired {
                engine,
                transport,
                settings,
            },
        );
        Ok(())
    })
}

/// As `ksef_paired_new`, from a snapshot of `ksef_paired_snapshot_json` or
/// `ksef_paired_snapshot_cbor` (detected: JSON starts with `{`): the numbering counters,
/// jobs, audit trail, known rates and waiting orders come back; the mode is the snapshot's
/// (the settings' `mode` is ignored); legs that were in flight start again on the next
/// `ksef_paired_run` (safe: KSeF's duplicate check and the Fakturownia `oid` lookup).
/// A snapshot that cannot be read is `KSEF_ERR_SNAPSHOT_INVALID` and leaves `*client` to
/// the caller.
/// Thread-safe as a constructor; `*client` must not be in use on another thread. The new engine is used from one thread at a time.
///
/// # Safety
/// As `ksef_paired_new`; `snapshot` points to `snapshot_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_restore(
    snapshot: *const u8,
    snapshot_len: usize,
    rules_json: *const std::ffi::c_char,
    rules_len: usize,
    settings_json: *const std::ffi::c_char,
    settings_len: usize,
    client: *mut *mut ksef_client,
    paired_out: *mut *mut ksef_paired,
) -> ksef_result {
    guard(|| {
        let o = out(paired_out, "paired_out")?;
        peek_client(client)?;
        // SAFETY: documented contract.
        let snap = unsafe { bytes(snapshot, snapshot_len, "snapshot") }?;
        // SAFETY: documented contract.
        let rules = unsafe { text(rules_json, rules_len, "rules_json") }?;
        // SAFETY: documented contract.
        let settings = unsafe { text(settings_json, settings_len, "settings_json") }?;
        let config = RuleConfig::from_json(rules)?;
        let settings = HostSettings::from_json(settings, &config)?;
        let seed = os_seed()?;
        // Read the snapshot once over a placeholder client, so that a bad snapshot leaves
        // the caller's client untouched.
        let nip = Nip::parse(&config.stores[&settings.store].seller.nip).map_err(Error::from)?;
        let placeholder = Client::new(
            Config::with_base_url("http://127.0.0.1:9/v2", nip),
            Credentials::ksef_token("unused"),
            [0; 32],
        );
        settings.restore(snap, config.clone(), placeholder, [0; 32])?;
        let (c, transport) = take_client(client);
        let engine = settings.restore(snap, config, c, seed)?;
        give(
            o,
            ksef_paired {
                engine,
                transport,
                settings,
            },
        );
        Ok(())
    })
}

/// Frees an engine (and the client it took over); NULL is accepted. Take a snapshot first
/// to keep its state.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `paired` is NULL or a live engine, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_free(paired: *mut ksef_paired) {
    // SAFETY: forwarded contract.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { free(paired) }));
}

/// Evaluates an order (JSON, `examples/paired/order-*.json`) for `trigger` (`created`,
/// `status` (also for NULL/empty), `captured`, `manual`) and runs both channels to the end
/// over the network, as `ksef paired` does. `*result_out` gets `{"outcome": "submitted" |
/// "skipped", "reason"?, "job": {...}?, "events": [...]}`: the job with its `status`
/// (`COMPLETED`, or the discrepancy state, e.g. `KSEF_OK_FAKTUROWNIA_FAILED`), `ksef_number`,
/// `fakturownia_id`, errors; the events as `ksef_paired_run` gives them. A currency order
/// fetches the NBP rate first. Errors: a bad order (`KSEF_ERR_ORDER_INVALID`, ...), an order
/// of another store (`KSEF_ERR_UNKNOWN_STORE`), an order issued before
/// (`KSEF_ERR_PAIRED_CONFLICT`: see `ksef_paired_status_json`), the NBP rate failing.
/// A discrepancy is not an error: it is in the job's status.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; text arguments point to their lengths in readable bytes;
/// `result_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_submit_order(
    paired: *mut ksef_paired,
    order_json: *const std::ffi::c_char,
    order_len: usize,
    trigger: *const std::ffi::c_char,
    trigger_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(result_out, "result_out")?;
        let p = handle_mut(paired, "paired")?;
        // SAFETY: documented contract.
        let order = unsafe { text(order_json, order_len, "order_json") }?;
        // SAFETY: documented contract.
        let trigger = trigger_of(unsafe { text(trigger, trigger_len, "trigger") }?)?;
        let order = Order::from_json(order)?;
        if order.store != p.settings.store {
            return Err(Error::new(
                ErrorCode::UnknownStore,
                "store",
                format!(
                    "this engine serves store `{}`, the order is for `{}`",
                    p.settings.store, order.store
                ),
            )
            .into());
        }
        if let Some(j) = p
            .engine
            .machine()
            .jobs()
            .find(|j| j.docs.store == order.store && j.docs.order_id == order.id)
        {
            return Err(Error::new(
                ErrorCode::PairedConflict,
                "id",
                format!(
                    "order {} was already issued as {} ({}): see its job {}",
                    order.id,
                    j.docs.number,
                    j.status().as_str(),
                    j.id
                ),
            )
            .into());
        }
        let outcome = p.engine.order(&order, trigger, now_ms())?;
        if let OrderOutcome::Skipped(why) = &outcome {
            return give_json(
                o,
                &json!({"outcome": "skipped", "reason": why, "events": []}),
            );
        }
        let (events, failed) = drive(p);
        if let Some((_, e)) = failed.into_iter().find(|(id, _)| *id == order.id) {
            return Err(e.into());
        }
        let job = p
            .engine
            .machine()
            .jobs()
            .filter(|j| j.docs.store == order.store && j.docs.order_id == order.id)
            .max_by_key(|j| j.created_ms)
            .map(|j| j.to_json_value(false))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::PairedConflict,
                    "id",
                    format!("order {}: no job was started", order.id),
                )
            })?;
        give_json(
            o,
            &json!({"outcome": "submitted", "job": job, "events": events}),
        )
    })
}

/// Runs the engine until nothing is left to do (after `ksef_paired_restore`, a webhook or
/// when jobs were interrupted): `*events_out` gets the events as a JSON array of
/// `{"event": "ksef_number_received" | "fakturownia_created" | "discrepancy_entered" |
/// "discrepancy_left" | "completed", "job", ...}`, plus `{"event": "order_failed",
/// "order_id", "error": {code, name, path, message}}` for orders that failed while waiting
/// for an exchange rate. Network trouble is not an error here: it shows in the jobs' states.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `events_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_run(
    paired: *mut ksef_paired,
    events_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(events_out, "events_out")?;
        let p = handle_mut(paired, "paired")?;
        let (mut events, failed) = drive(p);
        for (order, e) in failed {
            events
                .push(json!({"event": "order_failed", "order_id": order, "error": error_json(&e)}));
        }
        give_json(o, &Value::Array(events))
    })
}

/// What Latarnia (or the host) says about KSeF now: `AVAILABLE`, `MAINTENANCE`, `FAILURE` or
/// `TOTAL_FAILURE` (see `ksef_lighthouse_status`). With offline issuing on (`"offline"` in the
/// settings), new orders go offline without a KSeF attempt while it is not `AVAILABLE`.
/// Unknown names are `KSEF_ERR_INVALID_ARGUMENT`.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `status` points to `status_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_set_ksef_status(
    paired: *mut ksef_paired,
    status: *const std::ffi::c_char,
    status_len: usize,
) -> ksef_result {
    guard(|| {
        let p = handle_mut(paired, "paired")?;
        // SAFETY: documented contract.
        let name = unsafe { text(status, status_len, "status") }?;
        let st = KsefStatus::from_name(name).ok_or_else(|| {
            invalid(
                "status",
                format!("`{name}`: AVAILABLE, MAINTENANCE, FAILURE or TOTAL_FAILURE"),
            )
        })?;
        p.engine.set_ksef_status(st);
        Ok(())
    })
}

/// Records an announced KSeF failure (days `YYYY-MM-DD`, Polish time): the deadlines of the
/// invoices waiting in the engine's offline queue move (7 business days after the end).
/// `KSEF_ERR_INVALID_VALUE` for bad dates or an end before the start.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; the dates point to their lengths in readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_announce_failure(
    paired: *mut ksef_paired,
    announced: *const std::ffi::c_char,
    announced_len: usize,
    ended: *const std::ffi::c_char,
    ended_len: usize,
) -> ksef_result {
    guard(|| {
        let p = handle_mut(paired, "paired")?;
        let day = |name: &str, s: &str| -> Result<ksef::model::Date, Error> {
            s.parse()
                .map_err(|e: &str| Error::new(ErrorCode::InvalidValue, name, e.to_string()))
        };
        // SAFETY: documented contract.
        let a = day("announced", unsafe {
            text(announced, announced_len, "announced")
        }?)?;
        // SAFETY: documented contract.
        let e = day("ended", unsafe { text(ended, ended_len, "ended") }?)?;
        if e < a {
            return Err(
                Error::new(ErrorCode::InvalidValue, "ended", "before the announcement").into(),
            );
        }
        p.engine.announce_failure(ksef::offline::deadline::Failure {
            announced: a,
            ended: e,
        });
        Ok(())
    })
}

/// Sends the invoices the engine issued offline (once KSeF is back): up to `max` of them in
/// one online session with `offlineMode`, oldest deadline first, then runs the engine until
/// idle, so each accepted invoice's job goes on (the Fakturownia document in KSeF-first mode,
/// the KSeF-number backfill in simultaneous mode). `*result_out` gets `{"sent": N, "events":
/// [...], "offline": <the queue, see ksef_paired_offline_json>}`; `sent` is 0 when nothing
/// waits (or offline issuing is off).
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `result_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_recover_offline(
    paired: *mut ksef_paired,
    max: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(result_out, "result_out")?;
        let p = handle_mut(paired, "paired")?;
        if max == 0 {
            return Err(invalid("max", "must be at least 1").into());
        }
        let sent = p.engine.recover_offline(max);
        let (mut events, failed) = drive(p);
        for (order, e) in failed {
            events
                .push(json!({"event": "order_failed", "order_id": order, "error": error_json(&e)}));
        }
        let queue = p
            .engine
            .offline_queue()
            .map_or(Value::Null, |q| q.list_json(None));
        give_json(
            o,
            &json!({"sent": sent, "events": events, "offline": queue}),
        )
    })
}

/// The engine's offline queue as JSON (the invoices issued offline: id = the job id, status,
/// mode, deadline, KOD I/II links, KSeF number once accepted; as `ksef_offline_queue_list_json`),
/// or `null` when offline issuing is off.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `json_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_offline_json(
    paired: *const ksef_paired,
    json_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(json_out, "json_out")?;
        let p = handle(paired, "paired")?;
        let queue = p
            .engine
            .offline_queue()
            .map_or(Value::Null, |q| q.list_json(None));
        give_json(o, &queue)
    })
}

/// Asks Latarnia (KSeF's public status service; `url` e.g.
/// `https://api-latarnia-test.ksef.mf.gov.pl`, or the simulator's `…/latarnia`) over the
/// built-in transport. `*status_out` gets `{"status": "AVAILABLE" | "MAINTENANCE" | "FAILURE" |
/// "TOTAL_FAILURE", "messages": [...], "failures": [{"announced", "ended"}]}`. Errors:
/// `KSEF_ERR_TRANSPORT`/`_TIMEOUT` when unreachable, `KSEF_ERR_BAD_RESPONSE` for an answer
/// that is not Latarnia's. Thread-safe.
///
/// # Safety
/// `url` points to `url_len` readable bytes; `status_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_lighthouse_status(
    url: *const std::ffi::c_char,
    url_len: usize,
    status_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(status_out, "status_out")?;
        // SAFETY: documented contract.
        let url = unsafe { text(url, url_len, "url") }?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid("url", "expected an http:// or https:// URL").into());
        }
        let mut b = UreqTransport::builder();
        if ksef::protocol::settings::is_loopback(url) {
            b = b.no_proxy();
        }
        let mut t = b.build()?;
        let r = t
            .send(&availability::status_request(url))
            .map_err(Error::from)?;
        if !r.is_success() {
            return Err(Error::new(
                ErrorCode::BadResponse,
                "status",
                format!("Latarnia answered HTTP {}", r.status),
            )
            .into());
        }
        let report = availability::parse_status(&r.body)?;
        give_json(o, &report.to_json_value())
    })
}

/// The recovery that fits the job's state, run to the end (as `ksef audit retry JOB`): the
/// Fakturownia leg only with the stored KSeF number (`KSEF_OK_FAKTUROWNIA_FAILED`, never a
/// second KSeF submission), the KSeF-number backfill (`KSEF_ID_BACKFILL_FAILED`), both legs
/// (`KSEF_FAILED_*`), nothing for a complete job, a plain resume otherwise. `*result_out`
/// gets `{"action": "fakturownia" | "backfill" | "both" | "nothing" | "resume", "job":
/// {...}, "events": [...]}`. An unknown job is `KSEF_ERR_PAIRED_CONFLICT`.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `job_id` points to `job_len` readable bytes; `result_out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_retry(
    paired: *mut ksef_paired,
    job_id: *const std::ffi::c_char,
    job_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(result_out, "result_out")?;
        let p = handle_mut(paired, "paired")?;
        // SAFETY: documented contract.
        let job = unsafe { text(job_id, job_len, "job_id") }?;
        let action = host::recover(&mut p.engine, job, now_ms())?;
        let (events, _) = drive(p);
        let j = p
            .engine
            .machine()
            .job(job)
            .map(|j| j.to_json_value(false))
            .unwrap_or(Value::Null);
        give_json(
            o,
            &json!({"action": action.name(), "job": j, "events": events}),
        )
    })
}

/// Applies an inbound webhook body: Fakturownia's invoice-update webhook (an `invoice`
/// object, checked with the account's API token) or a KSeF status push (`{"secret",
/// "invoiceNumber", "ksefNumber"}`, needs `push_secret` in the settings). `*result_out`
/// gets `{"job": {...}}` of the job it changed; call `ksef_paired_run` afterwards to act on
/// it. Forged or malformed bodies are `KSEF_ERR_WEBHOOK_REJECTED` and change nothing.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `body` points to `body_len` readable bytes; `result_out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_apply_webhook(
    paired: *mut ksef_paired,
    body: *const u8,
    body_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(result_out, "result_out")?;
        let p = handle_mut(paired, "paired")?;
        // SAFETY: documented contract.
        let body = unsafe { bytes(body, body_len, "body") }?;
        let token = p.settings.account.api_token.clone();
        let id = p
            .engine
            .machine_mut()
            .apply_webhook(body, token.expose(), now_ms())?;
        let j = p
            .engine
            .machine()
            .job(&id)
            .map(|j| j.to_json_value(false))
            .unwrap_or(Value::Null);
        give_json(o, &json!({"job": j}))
    })
}

/// Downloads the PDF of a job's Fakturownia document (what `ksef paired` writes as
/// `<number>.pdf`) into `*pdf_out`. `KSEF_ERR_PAIRED_CONFLICT` when the job is unknown or
/// has no Fakturownia document yet; Fakturownia's errors as `KSEF_ERR_FAKTUROWNIA_*`.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `job_id` points to `job_len` readable bytes; `pdf_out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_pdf(
    paired: *mut ksef_paired,
    job_id: *const std::ffi::c_char,
    job_len: usize,
    pdf_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(pdf_out, "pdf_out")?;
        let p = handle_mut(paired, "paired")?;
        // SAFETY: documented contract.
        let job = unsafe { text(job_id, job_len, "job_id") }?;
        let j = p
            .engine
            .machine()
            .job(job)
            .ok_or_else(|| Error::new(ErrorCode::PairedConflict, job, "no such job"))?;
        let id = j.fakturownia_id.ok_or_else(|| {
            Error::new(
                ErrorCode::PairedConflict,
                job,
                "the job has no Fakturownia document yet",
            )
        })?;
        let resp = p
            .transport
            .send(&fakturownia::get_pdf(&p.settings.account, id))
            .map_err(Error::from)?;
        give_buffer(o, fakturownia::read_pdf(&resp)?);
        Ok(())
    })
}

/// The engine's whole state (numbering counters, jobs, audit trail, known rates, waiting
/// orders) as JSON into `*snapshot_out`, for `ksef_paired_restore`. No secrets.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `snapshot_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_snapshot_json(
    paired: *const ksef_paired,
    snapshot_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(snapshot_out, "snapshot_out")?;
        let p = handle(paired, "paired")?;
        give_buffer(o, p.engine.snapshot_json().into_bytes());
        Ok(())
    })
}

/// The same state as CBOR (smaller, binary) into `*snapshot_out`, for `ksef_paired_restore`.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// As `ksef_paired_snapshot_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_snapshot_cbor(
    paired: *const ksef_paired,
    snapshot_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(snapshot_out, "snapshot_out")?;
        let p = handle(paired, "paired")?;
        give_buffer(o, host::snapshot_cbor(&p.engine));
        Ok(())
    })
}

/// The engine's jobs and their states as JSON into `*status_out`: `{"store", "mode",
/// "idle", "discrepancies", "jobs": [{"job", "store", "order_id", "number", "status",
/// "discrepancy", "ksef_number", "fakturownia_id", "fakturownia_gov_id", "ksef_submissions",
/// "ksef_error", "fakturownia_error", "correction_of", "corrections", "has_upo",
/// "created_ms", "updated_ms"}]}` (what `ksef audit show --json` lists).
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `status_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_status_json(
    paired: *const ksef_paired,
    status_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(status_out, "status_out")?;
        let p = handle(paired, "paired")?;
        let mut v = host::status_json(&p.engine);
        v["store"] = p.settings.store.clone().into();
        give_json(o, &v)
    })
}

/// One job as JSON into `*job_out`, with its documents: the fields of
/// `ksef_paired_status_json` plus `xml` (the FA(3) invoice as sent), `fakturownia_document`
/// (the Fakturownia `invoice` object) and `upo` (the UPO XML or null).
/// `KSEF_ERR_PAIRED_CONFLICT` for an unknown job.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `job_id` points to `job_len` readable bytes; `job_out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_job_json(
    paired: *const ksef_paired,
    job_id: *const std::ffi::c_char,
    job_len: usize,
    job_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(job_out, "job_out")?;
        let p = handle(paired, "paired")?;
        // SAFETY: documented contract.
        let job = unsafe { text(job_id, job_len, "job_id") }?;
        let j = p
            .engine
            .machine()
            .job(job)
            .ok_or_else(|| Error::new(ErrorCode::PairedConflict, job, "no such job"))?;
        give_json(o, &j.to_json_value(true))
    })
}

/// The audit trail as a JSON array into `*audit_out`: `{"seq", "at_ms", "job", "channel":
/// "Ksef" | "Fakturownia" | "Machine", "operation", "summary", "ksef_number",
/// "fakturownia_id", "state"}` per step, append-only, no secrets.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `paired` is a live engine; `audit_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_paired_audit_json(
    paired: *const ksef_paired,
    audit_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(audit_out, "audit_out")?;
        let p = handle(paired, "paired")?;
        give_json(o, &host::audit_json(&p.engine))
    })
}

/// The rule engine alone, no network: evaluates `order_json` under `rules_json` for
/// `trigger` (as in `ksef_paired_submit_order`) with fresh numbering counters (the first
/// number of the series), the NBP rates in `rates_json` (NULL/empty, one `{"currency",
/// "table", "date", "rate"}` or an array of them) and `now` (an RFC 3339 date-time dating the
/// documents; NULL/empty: the system clock). `*documents_out` gets `{"decision": "skip",
/// "reason"}`, `{"decision": "need_rate", "currency", "before"}` or `{"decision": "issue",
/// "store", "order_id", "number", "kind", "currency", "rate", "xml", "fakturownia", ...}`
/// (the FA(3) XML as text, validated; the Fakturownia `invoice` object). Thread-safe.
///
/// # Safety
/// Text arguments point to their lengths in readable bytes (NULL only with length 0);
/// `documents_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_rules_evaluate(
    rules_json: *const std::ffi::c_char,
    rules_len: usize,
    order_json: *const std::ffi::c_char,
    order_len: usize,
    trigger: *const std::ffi::c_char,
    trigger_len: usize,
    rates_json: *const std::ffi::c_char,
    rates_len: usize,
    now: *const std::ffi::c_char,
    now_len: usize,
    documents_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(documents_out, "documents_out")?;
        // SAFETY: documented contract (all five).
        let (rules, order, trigger, rates, now) = unsafe {
            (
                text(rules_json, rules_len, "rules_json")?,
                text(order_json, order_len, "order_json")?,
                text(trigger, trigger_len, "trigger")?,
                text(rates_json, rates_len, "rates_json")?,
                text(now, now_len, "now")?,
            )
        };
        let config = RuleConfig::from_json(rules)?;
        let order = Order::from_json(order)?;
        let trigger = trigger_of(trigger)?;
        let rates = if rates.trim().is_empty() {
            Vec::new()
        } else {
            host::rates_from_json(rates)?
        };
        let now = if now.is_empty() {
            ksef::model::DateTime::from_unix_seconds((now_ms() / 1000) as i64)
                .ok_or_else(|| invalid("now", "the system clock is out of range"))?
        } else {
            now.parse::<ksef::model::DateTime>().map_err(|e| {
                invalid(
                    "now",
                    format!("`{now}`: {e} (expected an RFC 3339 date-time)"),
                )
            })?
        };
        let mut numbering = Numbering::new();
        let d = rules::evaluate(&order, &config, trigger, &mut numbering, &rates, &now)?;
        give_json(o, &d.to_json_value()?)
    })
}
