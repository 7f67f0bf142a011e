//! Offline mode: `ksef_offline_deadline` (the legal deadline of a mode, as `ksef offline
//! deadline`) and `ksef_offline_queue`, the durable queue of offline invoices (issue with
//! KOD I / KOD II, list, overdue, send on recovery over a `ksef_client`, technical
//! corrections, failure announcements, CBOR/JSON snapshots).
//!
//! `ksef_offline_deadline` is thread-safe. A queue may move between threads but must not be
//! used from two threads at once. The JSON forms are the core's (`ksef::offline::host`).

use ksef::crypto::{Certificate, PrivateKey};
use ksef::model::Date;
use ksef::offline::deadline::Mode;
use ksef::offline::host::{deadline_json, failures_from_json, parse_date};
use ksef::offline::queue::{Kod2Signer, OfflineQueue};
use ksef::offline::recovery::RecoveryReport;
use ksef::protocol::{Clock, FormCode, Output, SystemClock};
use ksef::qr::{ContextType, QrMatrix, RenderOptions, DEFAULT_ECC};
use ksef::{Environment, Error, ErrorCode};

use crate::client::ksef_client;
use crate::common::{
    bytes, free, give, give_buffer, give_json, guard, handle, handle_mut, invalid, ksef_buffer,
    ksef_result, out, text,
};

/// The seller's offline certificate for KOD II (the key stays in memory only).
struct Signer {
    key: PrivateKey,
    serial: String,
    context_type: ContextType,
    context_value: String,
}

/// The queue of offline invoices of one environment, with the KOD II signer (if set).
pub struct ksef_offline_queue {
    queue: OfflineQueue,
    signer: Option<Signer>,
}

fn opt_date(s: &str, name: &str) -> Result<Option<Date>, Error> {
    if s.is_empty() {
        Ok(None)
    } else {
        parse_date(s, name).map(Some)
    }
}

fn today_or_system(s: &str) -> Result<Date, Error> {
    match opt_date(s, "today")? {
        Some(d) => Ok(d),
        None => ksef::model::DateTime::from_unix_seconds((SystemClock.now_ms() / 1000) as i64)
            .map(|t| t.date())
            .ok_or_else(|| invalid("today", "the system clock is out of range")),
    }
}

/// The deadline of an invoice issued offline, as `ksef offline deadline`: `mode` is
/// `offline24` (with `date` = the issue date), `unavailability` (`date` = the day the
/// announced unavailability ended), `emergency` (`date` = the day the failure ended) or
/// `total-failure` (no date); `failures_json` (NULL/empty: none) is an array of later
/// failure announcements `[{"announced": "YYYY-MM-DD", "ended": "YYYY-MM-DD"}]` that move
/// it; `today` (NULL/empty: not asked) adds the status. `*deadline_out` gets `{"mode",
/// "deadline": "YYYY-MM-DD" | null (no obligation), "status"?: "ok" | "due-today" |
/// "overdue" | "no-obligation"}`. Polish holidays and weekends are skipped. Thread-safe.
///
/// # Safety
/// Text arguments point to their lengths in readable bytes (NULL only with length 0);
/// `deadline_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_deadline(
    mode: *const std::ffi::c_char,
    mode_len: usize,
    date: *const std::ffi::c_char,
    date_len: usize,
    failures_json: *const std::ffi::c_char,
    failures_len: usize,
    today: *const std::ffi::c_char,
    today_len: usize,
    deadline_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(deadline_out, "deadline_out")?;
        // SAFETY: documented contract (all four).
        let (mode, date, failures, today) = unsafe {
            (
                text(mode, mode_len, "mode")?,
                text(date, date_len, "date")?,
                text(failures_json, failures_len, "failures_json")?,
                text(today, today_len, "today")?,
            )
        };
        let m = Mode::from_name(mode, opt_date(date, "date")?)?;
        let failures = failures_from_json(failures)?;
        give_json(o, &deadline_json(m, &failures, opt_date(today, "today")?))
    })
}

/// An empty queue for invoices of `env` (`test`, `demo` or `prod`: the host of the QR
/// links) into `*queue_out`. Free with `ksef_offline_queue_free`.
/// Thread-safe; the new handle may move between threads but is used from one at a time.
///
/// # Safety
/// `env` points to `env_len` readable bytes; `queue_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_new(
    env: *const std::ffi::c_char,
    env_len: usize,
    queue_out: *mut *mut ksef_offline_queue,
) -> ksef_result {
    guard(|| {
        let o = out(queue_out, "queue_out")?;
        // SAFETY: documented contract.
        let env = unsafe { text(env, env_len, "env") }?;
        let env = env
            .parse::<Environment>()
            .map_err(|e| Error::new(e.code(), "env", e.message()))?;
        give(
            o,
            ksef_offline_queue {
                queue: OfflineQueue::new(env),
                signer: None,
            },
        );
        Ok(())
    })
}

/// A queue from a snapshot of `ksef_offline_queue_snapshot_json` or `_cbor` (detected: JSON
/// starts with `{`) into `*queue_out`; `KSEF_ERR_OFFLINE_SNAPSHOT_INVALID` when it cannot be
/// read. The KOD II signer is not part of a snapshot: set it again.
/// Thread-safe; the new handle may move between threads but is used from one at a time.
///
/// # Safety
/// `snapshot` points to `snapshot_len` readable bytes; `queue_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_restore(
    snapshot: *const u8,
    snapshot_len: usize,
    queue_out: *mut *mut ksef_offline_queue,
) -> ksef_result {
    guard(|| {
        let o = out(queue_out, "queue_out")?;
        // SAFETY: documented contract.
        let snap = unsafe { bytes(snapshot, snapshot_len, "snapshot") }?;
        let first = snap.iter().find(|b| !b.is_ascii_whitespace());
        let queue = if first == Some(&b'{') {
            let json = std::str::from_utf8(snap).map_err(|_| {
                Error::new(
                    ErrorCode::OfflineSnapshotInvalid,
                    "snapshot",
                    "the JSON snapshot is not UTF-8",
                )
            })?;
            OfflineQueue::restore_json(json)?
        } else {
            OfflineQueue::restore_cbor(snap)?
        };
        give(
            o,
            ksef_offline_queue {
                queue,
                signer: None,
            },
        );
        Ok(())
    })
}

/// Frees a queue (and the KOD II key it holds); NULL is accepted. Take a snapshot first to
/// keep it.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `queue` is NULL or a live queue, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_free(queue: *mut ksef_offline_queue) {
    // SAFETY: forwarded contract.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { free(queue) }));
}

/// Sets the seller's KSeF offline certificate and its private key (PEM or DER), which sign
/// KOD II of the invoices issued from now on, with the context they are issued in
/// (`context_type`: `nip`, `internal-id`, `nip-vat-ue` or `peppol-id`; `context_value`: e.g.
/// the NIP). NULL `certificate` and `key` (lengths 0) remove the signer: invoices are then
/// issued with KOD I only. The key stays in memory, never in a snapshot, error or output.
/// Errors: `KSEF_ERR_CERTIFICATE`, `KSEF_ERR_CRYPTO_KEY`, `KSEF_ERR_QR_SIGN` (the key is
/// not the certificate's), `KSEF_ERR_INVALID_VALUE` (context).
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `queue` is a live queue; the inputs point to their lengths in readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_set_signer(
    queue: *mut ksef_offline_queue,
    certificate: *const u8,
    certificate_len: usize,
    key: *const u8,
    key_len: usize,
    context_type: *const std::ffi::c_char,
    context_type_len: usize,
    context_value: *const std::ffi::c_char,
    context_value_len: usize,
) -> ksef_result {
    guard(|| {
        let q = handle_mut(queue, "queue")?;
        // SAFETY: documented contract (all four).
        let (cert, key, ctype, cvalue) = unsafe {
            (
                bytes(certificate, certificate_len, "certificate")?,
                bytes(key, key_len, "key")?,
                text(context_type, context_type_len, "context_type")?,
                text(context_value, context_value_len, "context_value")?,
            )
        };
        if cert.is_empty() && key.is_empty() {
            q.signer = None;
            return Ok(());
        }
        let cert = Certificate::from_pem_or_der(cert)
            .map_err(|e| Error::new(e.code(), "certificate", e.message()))?;
        let key = PrivateKey::from_pem_or_der(key)
            .map_err(|e| Error::new(e.code(), "key", e.message()))?;
        if !cert.matches_key(&key) {
            return Err(Error::new(
                ErrorCode::QrSign,
                "key",
                "the key is not the private key of the certificate",
            )
            .into());
        }
        let context_type = ctype
            .parse::<ContextType>()
            .map_err(|e| Error::new(e.code(), "context_type", e.message()))?;
        if cvalue.is_empty() {
            return Err(invalid("context_value", "must not be empty").into());
        }
        q.signer = Some(Signer {
            key,
            serial: cert.serial_hex(),
            context_type,
            context_value: cvalue.to_string(),
        });
        Ok(())
    })
}

/// Issues an invoice offline, as `ksef offline issue`: the exact bytes `xml` are fixed and
/// queued under `id` (unique) as pending, KOD I is computed from them (seller NIP and `P_1`
/// from the invoice), KOD II is signed when a signer is set (`ksef_offline_queue_set_signer`),
/// and the deadline comes from `mode` and `date` (as in `ksef_offline_deadline`) and the
/// failures announced so far. `*invoice_out` gets the invoice as JSON: `{"id", "hash",
/// "seller_nip", "issue_date", "mode", "deadline", "kod1_url", "kod2_url", "status":
/// "pending", ...}`; the QR images come from `ksef_offline_queue_qr`. Errors: a duplicate
/// id or the same bytes queued already (`KSEF_ERR_OFFLINE_INVALID`), XML that does not
/// parse, bad mode/date (`KSEF_ERR_INVALID_VALUE`).
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `queue` is a live queue; the inputs point to their lengths in readable bytes;
/// `invoice_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_issue(
    queue: *mut ksef_offline_queue,
    id: *const std::ffi::c_char,
    id_len: usize,
    xml: *const u8,
    xml_len: usize,
    mode: *const std::ffi::c_char,
    mode_len: usize,
    date: *const std::ffi::c_char,
    date_len: usize,
    invoice_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(invoice_out, "invoice_out")?;
        let q = handle_mut(queue, "queue")?;
        // SAFETY: documented contract (all four).
        let (id, xml, mode, date) = unsafe {
            (
                text(id, id_len, "id")?,
                bytes(xml, xml_len, "xml")?,
                text(mode, mode_len, "mode")?,
                text(date, date_len, "date")?,
            )
        };
        let m = Mode::from_name(mode, opt_date(date, "date")?)?;
        let signer = q.signer.as_ref().map(|s| Kod2Signer {
            context_type: s.context_type,
            context_value: &s.context_value,
            certificate_serial: &s.serial,
            key: &s.key,
        });
        let inv = q
            .queue
            .issue(id, xml, m, signer.as_ref(), &mut rand_core::OsRng)?;
        give_json(o, &inv.to_json_value(None))
    })
}

/// The QR code of a queued invoice as an image into `*image_out`: KOD I (`kod2` false;
/// labelled `OFFLINE`, or the KSeF number once accepted) or KOD II (`kod2` true; labelled
/// `CERTYFIKAT`), as PNG (`svg` false) or SVG (`svg` true). `KSEF_ERR_OFFLINE_UNKNOWN_INVOICE`
/// for an unknown id; `KSEF_ERR_INVALID_ARGUMENT` for KOD II of an invoice issued without a
/// signer.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `queue` is a live queue; `id` points to `id_len` readable bytes; `image_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_qr(
    queue: *const ksef_offline_queue,
    id: *const std::ffi::c_char,
    id_len: usize,
    kod2: bool,
    svg: bool,
    image_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(image_out, "image_out")?;
        let q = handle(queue, "queue")?;
        // SAFETY: documented contract.
        let id = unsafe { text(id, id_len, "id") }?;
        let inv = q.queue.get(id).ok_or_else(|| {
            Error::new(
                ErrorCode::OfflineUnknownInvoice,
                "id",
                format!("no offline invoice {id:?} in the queue"),
            )
        })?;
        let (url, label) = inv.qr_code(kod2).ok_or_else(|| {
            invalid(
                "kod2",
                "the invoice was issued without a certificate (no KOD II)",
            )
        })?;
        let m = QrMatrix::encode(url, DEFAULT_ECC)?;
        let opts = RenderOptions::default();
        let image = if svg {
            ksef::qr::render::svg(&m, Some(&label), &opts)?.into_bytes()
        } else {
            ksef::qr::render::png(&m, Some(&label), &opts)?
        };
        give_buffer(o, image);
        Ok(())
    })
}

/// The queue as JSON into `*list_out` (as `ksef offline list`): `{"env", "failures": [...],
/// "invoices": [{"id", "hash", "status": "pending" | "sent" | "processing" | "accepted" |
/// "rejected", "ksef_number", "deadline", "deadline_status"?, "kod1_url", "kod2_url",
/// "error", "corrects", "corrected_by", ...}]}`; with `today` (NULL/empty: left out) each
/// invoice also says where it stands against its deadline.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `queue` is a live queue; `today` points to `today_len` readable bytes; `list_out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_list_json(
    queue: *const ksef_offline_queue,
    today: *const std::ffi::c_char,
    today_len: usize,
    list_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(list_out, "list_out")?;
        let q = handle(queue, "queue")?;
        // SAFETY: documented contract.
        let today = opt_date(unsafe { text(today, today_len, "today") }?, "today")?;
        give_json(o, &q.queue.list_json(today))
    })
}

/// The open invoices whose deadline passed before `today` (`YYYY-MM-DD`; NULL/empty: the
/// system date, UTC) as a JSON array into `*overdue_out` (the invoices as in
/// `ksef_offline_queue_list_json`).
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// As `ksef_offline_queue_list_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_overdue_json(
    queue: *const ksef_offline_queue,
    today: *const std::ffi::c_char,
    today_len: usize,
    overdue_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(overdue_out, "overdue_out")?;
        let q = handle(queue, "queue")?;
        // SAFETY: documented contract.
        let today = today_or_system(unsafe { text(today, today_len, "today") }?)?;
        give_json(o, &q.queue.overdue_json(today))
    })
}

/// Sends every pending invoice on recovery over `client` (as `ksef offline send`): one
/// online session with `offlineMode` per structure (FA(3), FA(2)), oldest deadline first,
/// byte for byte, then each pending technical correction in its own session; KSeF's answers
/// are mapped back by invoice hash. `today` (NULL/empty: the system date) decides which
/// invoices missed their deadline. `*report_out` gets `{"accepted": [{"id",
/// "ksef_number"}], "rejected": [{"id", "code", "message"}], "open": [ids], "not_sent":
/// [ids], "missed_deadline": [ids]}`. A rejection is not an error (it is in the report);
/// a session that fails as a whole is (the sessions before it stay recorded in the queue).
/// Take a snapshot afterwards. The client is used, not taken.
///
/// # Safety
/// `queue` and `client` are live and not used from another thread meanwhile; `today` points
/// to `today_len` readable bytes; `report_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_send(
    queue: *mut ksef_offline_queue,
    client: *mut ksef_client,
    today: *const std::ffi::c_char,
    today_len: usize,
    report_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(report_out, "report_out")?;
        let q = handle_mut(queue, "queue")?;
        let c = handle_mut(client, "client")?;
        // SAFETY: documented contract.
        let today = today_or_system(unsafe { text(today, today_len, "today") }?)?;
        let mut report = RecoveryReport::default();
        send_online_plans(q, c, today, &mut report)?;
        give_json(o, &report.to_json_value())
    })
}

/// Every online session of the recovery (`OfflineQueue::recovery_plans`), recorded in the
/// queue and added to `report`.
fn send_online_plans(
    q: &mut ksef_offline_queue,
    c: &mut ksef_client,
    today: Date,
    report: &mut RecoveryReport,
) -> Result<(), Error> {
    for plan in q.queue.recovery_plans() {
        let send = plan.send.clone();
        let Output::Online(result) = c.run(|cl| cl.send_online(send))? else {
            return Err(Error::new(
                ErrorCode::BadResponse,
                "send_online",
                "unexpected result of the online session",
            ));
        };
        report.extend(q.queue.apply_online(&plan, &result, today)?);
    }
    Ok(())
}

/// As `ksef_offline_queue_send`, with the invoices in batch sessions (for many invoices):
/// up to 10,000 per session, packaged and encrypted in memory, `offlineMode` set, oldest
/// deadline first; technical corrections then each in its own online session (KSeF takes them
/// in online sessions only). The same report. Blocks.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// As `ksef_offline_queue_send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_send_batch(
    queue: *mut ksef_offline_queue,
    client: *mut ksef_client,
    today: *const std::ffi::c_char,
    today_len: usize,
    report_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(report_out, "report_out")?;
        let q = handle_mut(queue, "queue")?;
        let c = handle_mut(client, "client")?;
        // SAFETY: documented contract.
        let today = today_or_system(unsafe { text(today, today_len, "today") }?)?;
        let mut report = RecoveryReport::default();
        for form in [FormCode::Fa3, FormCode::Fa2] {
            while let Some(plan) = q.queue.plan_batch(form, 10_000) {
                let send = plan.batch_send(&mut rand_core::OsRng)?;
                let Output::Batch(result) = c.run(|cl| cl.send_batch(send))? else {
                    return Err(Error::new(
                        ErrorCode::BadResponse,
                        "send_batch",
                        "unexpected result of the batch session",
                    )
                    .into());
                };
                let r = q.queue.apply_batch(&plan, &result, today)?;
                let moved = r.not_sent.len() + r.open.len() < plan.ids.len();
                report.extend(r);
                if !moved {
                    break;
                }
            }
        }
        // then the technical corrections (and anything a batch could not take) online
        send_online_plans(q, c, today, &mut report)?;
        give_json(o, &report.to_json_value())
    })
}

/// Queues the technical correction (`korekta techniczna`) of a rejected invoice
/// `rejected_id`: the fixed bytes `xml` under the new `id`, sent by the next
/// `ksef_offline_queue_send` with `hashOfCorrectedInvoice` (the original's KOD I stays
/// valid; it keeps the original's mode and deadline). `*invoice_out` gets the correction as
/// JSON. Errors: unknown id (`KSEF_ERR_OFFLINE_UNKNOWN_INVOICE`), an invoice that is not
/// rejected or already corrected (`KSEF_ERR_OFFLINE_INVALID`).
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `queue` is a live queue; the inputs point to their lengths in readable bytes;
/// `invoice_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_correct(
    queue: *mut ksef_offline_queue,
    rejected_id: *const std::ffi::c_char,
    rejected_id_len: usize,
    id: *const std::ffi::c_char,
    id_len: usize,
    xml: *const u8,
    xml_len: usize,
    invoice_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(invoice_out, "invoice_out")?;
        let q = handle_mut(queue, "queue")?;
        // SAFETY: documented contract (all three).
        let (rejected, id, xml) = unsafe {
            (
                text(rejected_id, rejected_id_len, "rejected_id")?,
                text(id, id_len, "id")?,
                bytes(xml, xml_len, "xml")?,
            )
        };
        let inv = q.queue.technical_correction(rejected, id, xml)?;
        give_json(o, &inv.to_json_value(None))
    })
}

/// Puts a rejected invoice back to pending, to send the same bytes again (after a transport
/// failure, not a content rejection: correct those with `ksef_offline_queue_correct`).
/// `KSEF_ERR_OFFLINE_STATE` when it is not rejected or has a correction.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `queue` is a live queue; `id` points to `id_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_retry(
    queue: *mut ksef_offline_queue,
    id: *const std::ffi::c_char,
    id_len: usize,
) -> ksef_result {
    guard(|| {
        let q = handle_mut(queue, "queue")?;
        // SAFETY: documented contract.
        let id = unsafe { text(id, id_len, "id") }?;
        q.queue.retry(id)?;
        Ok(())
    })
}

/// Records a KSeF failure announcement (as `ksef offline failure`): announced on `announced`,
/// ending on `ended` (`YYYY-MM-DD`, not before `announced`). The deadlines of open invoices
/// move; `*changes_out` gets those that moved as `[{"id", "from", "to"}]`.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `queue` is a live queue; the dates point to their lengths in readable bytes;
/// `changes_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_announce_failure(
    queue: *mut ksef_offline_queue,
    announced: *const std::ffi::c_char,
    announced_len: usize,
    ended: *const std::ffi::c_char,
    ended_len: usize,
    changes_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(changes_out, "changes_out")?;
        let q = handle_mut(queue, "queue")?;
        // SAFETY: documented contract (both).
        let (a, e) = unsafe {
            (
                text(announced, announced_len, "announced")?,
                text(ended, ended_len, "ended")?,
            )
        };
        let f = ksef::offline::deadline::Failure::new_checked(
            parse_date(a, "announced")?,
            parse_date(e, "ended")?,
        )?;
        give_json(o, &q.queue.announce_failures_json(&[f]))
    })
}

/// The whole queue (invoices with their bytes, statuses, failures) as JSON into
/// `*snapshot_out`, for `ksef_offline_queue_restore`. No secrets (the KOD II key is not in
/// it).
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `queue` is a live queue; `snapshot_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_snapshot_json(
    queue: *const ksef_offline_queue,
    snapshot_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(snapshot_out, "snapshot_out")?;
        let q = handle(queue, "queue")?;
        give_buffer(o, q.queue.snapshot_json().into_bytes());
        Ok(())
    })
}

/// The same as compact CBOR into `*snapshot_out`.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// As `ksef_offline_queue_snapshot_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_offline_queue_snapshot_cbor(
    queue: *const ksef_offline_queue,
    snapshot_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(snapshot_out, "snapshot_out")?;
        let q = handle(queue, "queue")?;
        give_buffer(o, q.queue.snapshot_cbor());
        Ok(())
    })
}
