//! The host-driven (sans-IO) client: the host sends the HTTP requests with its own stack
//! (an event loop, a POS firmware's HTTP client) and feeds the answers back.
//!
//! The loop: `ksef_client_start_*` → repeat { `ksef_client_poll_transmit(now)` → send the
//! request → `ksef_client_handle_response` (or `ksef_client_handle_transport_error`); when
//! nothing is to be sent, `ksef_client_poll_timeout` says when to poll again;
//! `ksef_client_poll_event` drains events, among them `{"type":"finished","op":N,...}` with
//! the operation's output } until `ksef_client_is_idle`.
//!
//! A request's headers include `Authorization` (the host must send it): never log them.

use std::ffi::{c_char, CString};

use ksef::http::{Response, TransportError};
use ksef::protocol::json::{headers_from_json_text, headers_to_json, transport_error_kind};
use ksef::protocol::{Client, ClientSettings, OpId, TransmitId};
use ksef::transport::UreqTransport;
use ksef::Error;

use crate::client::{self, ksef_client, os_seed, Start};
use crate::common::{
    bytes, free, give, give_json, guard, handle, handle_mut, invalid, ksef_buffer, ksef_result,
    out, text,
};

/// One HTTP request for the host to send (from `ksef_client_poll_transmit`): its id (pass
/// it back with the answer), method, absolute URL, headers and body. Free with
/// `ksef_request_free`. The getters' pointers stay valid until then. May move between
/// threads; not to be used from two at once.
pub struct ksef_request {
    id: u64,
    method: &'static std::ffi::CStr,
    url: CString,
    headers: CString,
    body: Vec<u8>,
}

fn host_driven(c: &mut ksef_client) -> Result<&mut ksef_client, Error> {
    if !c.host_driven {
        return Err(invalid(
            "client",
            "this client has the built-in transport (ksef_client_new): use the blocking calls, \
             or make one with ksef_client_new_sansio",
        ));
    }
    Ok(c)
}

/// Makes a host-driven client from settings JSON (as `ksef_client_new`) into `*client_out`.
/// `seed` is NULL (32 bytes are read from the OS's CSPRNG) or 32 bytes from the host's
/// CSPRNG that seed the client's generator (session keys, OAEP padding, retry jitter). The
/// built-in calls (`ksef_client_authenticate`, `ksef_client_send_online`, ...) refuse such a
/// client with `KSEF_ERR_INVALID_ARGUMENT`; start operations with `ksef_client_start_*`.
/// (Batch sessions still take their session key from the OS.) Free with `ksef_client_free`.
/// Thread-safe.
///
/// # Safety
/// `settings_json` points to `settings_len` readable bytes; `seed` is NULL or points to 32
/// readable bytes; `client_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_new_sansio(
    settings_json: *const c_char,
    settings_len: usize,
    seed: *const u8,
    client_out: *mut *mut ksef_client,
) -> ksef_result {
    guard(|| {
        let o = out(client_out, "client_out")?;
        // SAFETY: documented contract.
        let json = unsafe { text(settings_json, settings_len, "settings_json") }?;
        let s = ClientSettings::from_json(json)?;
        let seed = if seed.is_null() {
            os_seed()?
        } else {
            // SAFETY: a non-NULL seed points to 32 readable bytes (documented).
            let b = unsafe { bytes(seed, 32, "seed") }?;
            let mut a = [0u8; 32];
            a.copy_from_slice(b);
            a
        };
        let client = Client::new(s.config, s.credentials, seed);
        give(
            o,
            ksef_client {
                client,
                // Never used (the run refuses a host-driven client); building it is cheap.
                transport: UreqTransport::builder().no_proxy().build()?,
                host_driven: true,
                in_flight: Vec::new(),
            },
        );
        Ok(())
    })
}

fn start(
    client: *mut ksef_client,
    op_out: *mut u64,
    args: impl FnOnce() -> Result<Start, Error>,
) -> ksef_result {
    guard(|| {
        let o = out(op_out, "op_out")?;
        let c = host_driven(handle_mut(client, "client")?)?;
        let s = args()?;
        *o = s(&mut c.client).0;
        Ok(())
    })
}

/// Starts an authentication (see `ksef_client_authenticate`); writes the operation id to
/// `*op_out`. Its `finished` event carries the output. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `op_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_authenticate(
    client: *mut ksef_client,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        Ok(Box::new(|c: &mut Client| c.authenticate()))
    })
}

/// Starts an online session (arguments and output as `ksef_client_send_online`). Not
/// thread-safe for one client.
///
/// # Safety
/// As `ksef_client_send_online`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_send_online(
    client: *mut ksef_client,
    form: *const c_char,
    form_len: usize,
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
    offline: bool,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::online_start(form, form_len, invoices, lens, count, offline) }
    })
}

/// Starts a batch session (arguments and output as `ksef_client_send_batch`; the parts are
/// prepared now, in memory). Not thread-safe for one client.
///
/// # Safety
/// As `ksef_client_send_batch`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_send_batch(
    client: *mut ksef_client,
    form: *const c_char,
    form_len: usize,
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
    offline: bool,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::batch_start(form, form_len, invoices, lens, count, offline) }
    })
}

/// Starts a session status query (as `ksef_client_session_status`). Not thread-safe for one
/// client.
///
/// # Safety
/// As `ksef_client_session_status`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_session_status(
    client: *mut ksef_client,
    session: *const c_char,
    session_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::session_status_start(session, session_len) }
    })
}

/// Starts an invoice status query (as `ksef_client_invoice_status`). Not thread-safe for
/// one client.
///
/// # Safety
/// As `ksef_client_invoice_status`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_invoice_status(
    client: *mut ksef_client,
    session: *const c_char,
    session_len: usize,
    invoice: *const c_char,
    invoice_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::invoice_status_start(session, session_len, invoice, invoice_len) }
    })
}

/// Starts listing a session's invoices (as `ksef_client_session_invoices`). Not thread-safe
/// for one client.
///
/// # Safety
/// As `ksef_client_session_invoices`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_session_invoices(
    client: *mut ksef_client,
    session: *const c_char,
    session_len: usize,
    failed_only: bool,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::session_invoices_start(session, session_len, failed_only) }
    })
}

/// Starts a UPO download (as `ksef_client_download_upo`). Not thread-safe for one client.
///
/// # Safety
/// As `ksef_client_download_upo`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_download_upo(
    client: *mut ksef_client,
    upo_json: *const c_char,
    upo_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::upo_start(upo_json, upo_len) }
    })
}

/// Starts a metadata query (as `ksef_client_inbox_query`). Not thread-safe for one client.
///
/// # Safety
/// As `ksef_client_inbox_query`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_inbox_query(
    client: *mut ksef_client,
    query_json: *const c_char,
    query_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::query_start(query_json, query_len) }
    })
}

/// Starts an invoice download (as `ksef_client_inbox_download`). Not thread-safe for one
/// client.
///
/// # Safety
/// As `ksef_client_inbox_download`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_inbox_download(
    client: *mut ksef_client,
    ksef_number: *const c_char,
    ksef_number_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::download_start(ksef_number, ksef_number_len) }
    })
}

/// Starts an export (as `ksef_client_inbox_export`). Not thread-safe for one client.
///
/// # Safety
/// As `ksef_client_inbox_export`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_inbox_export(
    client: *mut ksef_client,
    query_json: *const c_char,
    query_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::export_start(query_json, query_len) }
    })
}

/// Starts a token generation (as `ksef_client_generate_token`). Not thread-safe for one
/// client.
///
/// # Safety
/// As `ksef_client_generate_token`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_generate_token(
    client: *mut ksef_client,
    request_json: *const c_char,
    request_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::token_start(request_json, request_len) }
    })
}

/// Starts a certificate enrollment (as `ksef_client_enroll_certificate`). Not thread-safe
/// for one client.
///
/// # Safety
/// As `ksef_client_enroll_certificate`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_enroll_certificate(
    client: *mut ksef_client,
    name: *const c_char,
    name_len: usize,
    kind: *const c_char,
    kind_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::enroll_start(name, name_len, kind, kind_len) }
    })
}

/// Starts listing the authentication sessions (as `ksef_client_auth_sessions`). Not
/// thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `op_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_auth_sessions(
    client: *mut ksef_client,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        Ok(Box::new(|c: &mut Client| c.list_auth_sessions()))
    })
}

/// Starts ending one authentication session (as `ksef_client_terminate_auth_session`). Not
/// thread-safe for one client.
///
/// # Safety
/// As `ksef_client_terminate_auth_session`, with `op_out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_terminate_auth_session(
    client: *mut ksef_client,
    reference: *const c_char,
    reference_len: usize,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        // SAFETY: documented contract.
        unsafe { client::terminate_start(reference, reference_len) }
    })
}

/// Starts a connection test (as `ksef_client_test_connection`). Not thread-safe for one
/// client.
///
/// # Safety
/// `client` is NULL or a live client; `op_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_test_connection(
    client: *mut ksef_client,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || {
        Ok(Box::new(|c: &mut Client| c.test_connection()))
    })
}

/// Starts a logout (as `ksef_client_logout`). Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `op_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_start_logout(
    client: *mut ksef_client,
    op_out: *mut u64,
) -> ksef_result {
    start(client, op_out, || Ok(Box::new(|c: &mut Client| c.logout())))
}

/// The panic boundary of the infallible getters: `default` if `f` panics.
fn getter<R>(default: R, f: impl FnOnce() -> R) -> R {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(default)
}

fn c_text(s: String, what: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| invalid(what, "contains a NUL byte"))
}

/// The next request to send at `now_ms` (Unix milliseconds) into `*request_out`, or NULL
/// when nothing is due (then see `ksef_client_poll_timeout`). Free the request with
/// `ksef_request_free`; answer it with `ksef_client_handle_response` or
/// `ksef_client_handle_transport_error`. `KSEF_ERR_INVALID_ARGUMENT` for a client with the
/// built-in transport. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `request_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_poll_transmit(
    client: *mut ksef_client,
    now_ms: u64,
    request_out: *mut *mut ksef_request,
) -> ksef_result {
    guard(|| {
        let o = out(request_out, "request_out")?;
        let c = host_driven(handle_mut(client, "client")?)?;
        let Some(t) = c.client.poll_transmit(now_ms) else {
            *o = std::ptr::null_mut();
            return Ok(());
        };
        let headers = headers_to_json(&t.request.headers).to_string();
        let r = ksef_request {
            id: t.id.0,
            method: match t.request.method {
                ksef::http::Method::Get => c"GET",
                ksef::http::Method::Post => c"POST",
                ksef::http::Method::Put => c"PUT",
                ksef::http::Method::Delete => c"DELETE",
            },
            url: c_text(t.request.url, "url")?,
            headers: c_text(headers, "headers")?,
            body: t.request.body,
        };
        c.in_flight.push(r.id);
        give(o, r);
        Ok(())
    })
}

/// Takes `request_id` off the requests waiting for an answer.
fn answered(c: &mut ksef_client, request_id: u64) -> Result<(), Error> {
    match c.in_flight.iter().position(|&i| i == request_id) {
        Some(p) => {
            c.in_flight.swap_remove(p);
            Ok(())
        }
        None => Err(invalid(
            "request_id",
            format!("no request {request_id} is waiting for an answer"),
        )),
    }
}

/// Feeds the HTTP answer to request `request_id` at `now_ms`: `status` (100–599),
/// `headers_json` (`[["name","value"],...]` or `{"name":"value"}`; empty for none) and the
/// body. Retries, re-authentication and the operation's next step follow from it.
/// `KSEF_ERR_INVALID_ARGUMENT` for an id not handed out by `ksef_client_poll_transmit` or
/// answered already, or a status out of range; `KSEF_ERR_INVALID_VALUE` /
/// `KSEF_ERR_JSON_SYNTAX` for bad headers. The inputs are copied. Not thread-safe for one
/// client.
///
/// # Safety
/// `client` is NULL or a live client; `headers_json` points to `headers_len` bytes, `body`
/// to `body_len` bytes (NULL with length 0 for none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_handle_response(
    client: *mut ksef_client,
    now_ms: u64,
    request_id: u64,
    status: u16,
    headers_json: *const c_char,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
) -> ksef_result {
    guard(|| {
        let c = host_driven(handle_mut(client, "client")?)?;
        if !(100..=599).contains(&status) {
            return Err(invalid("status", format!("{status} is not an HTTP status")).into());
        }
        // SAFETY: documented contract.
        let h =
            headers_from_json_text(unsafe { text(headers_json, headers_len, "headers_json") }?)?;
        // SAFETY: documented contract.
        let b = unsafe { bytes(body, body_len, "body") }?.to_vec();
        answered(c, request_id)?;
        c.client.handle_response(
            now_ms,
            TransmitId(request_id),
            Ok(Response::new(status, h, b)),
        );
        Ok(())
    })
}

/// Reports that request `request_id` got no HTTP answer: `kind` is `timeout`, `connect`,
/// `io`, `tls`, `response_too_large` or `other`; `message` says why in words (no secrets).
/// The client retries what may be retried, else the operation finishes with
/// `KSEF_ERR_TRANSPORT`. Errors as `ksef_client_handle_response`. Not thread-safe for one
/// client.
///
/// # Safety
/// `client` is NULL or a live client; `kind`/`message` point to their lengths' bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_handle_transport_error(
    client: *mut ksef_client,
    now_ms: u64,
    request_id: u64,
    kind: *const c_char,
    kind_len: usize,
    message: *const c_char,
    message_len: usize,
) -> ksef_result {
    guard(|| {
        let c = host_driven(handle_mut(client, "client")?)?;
        // SAFETY: documented contract.
        let k = transport_error_kind(unsafe { text(kind, kind_len, "kind") }?)?;
        // SAFETY: documented contract.
        let m = unsafe { text(message, message_len, "message") }?;
        answered(c, request_id)?;
        c.client.handle_response(
            now_ms,
            TransmitId(request_id),
            Err(TransportError::new(k, m)),
        );
        Ok(())
    })
}

/// When to call `ksef_client_poll_transmit` again after it wrote NULL: `*has_out` = true and
/// `*at_ms_out` = the Unix time in ms (a retry back-off, a status poll); `*has_out` = false
/// when the client waits for an answer or has nothing to do (`*at_ms_out` is then 0).
/// Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `at_ms_out`/`has_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_poll_timeout(
    client: *const ksef_client,
    at_ms_out: *mut u64,
    has_out: *mut bool,
) -> ksef_result {
    guard(|| {
        let at = out(at_ms_out, "at_ms_out")?;
        let has = out(has_out, "has_out")?;
        let c = handle(client, "client")?;
        let t = c.client.poll_timeout();
        *at = t.unwrap_or(0);
        *has = t.is_some();
        Ok(())
    })
}

/// The next event as JSON into `*event_out`, or NULL when there is none:
/// `{"type":"authenticated"|"retrying"|"session_opened"|"invoice_sent"|"finished",...}`;
/// `finished` carries `"op"`, `"ok"` and the `"output"` (as the blocking calls return it) or
/// the `"error"` (`{"code","name","path","message"}`). Free with `ksef_buffer_free`. Works
/// for both kinds of client. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `event_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_poll_event(
    client: *mut ksef_client,
    event_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(event_out, "event_out")?;
        let c = handle_mut(client, "client")?;
        match c.client.poll_event() {
            Some(e) => give_json(o, &e.to_json()),
            None => {
                *o = std::ptr::null_mut();
                Ok(())
            }
        }
    })
}

/// True when no operation is pending and no request is in flight (also for NULL).
/// Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_is_idle(client: *const ksef_client) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle(client, "client").map_or(true, |c| c.client.is_idle())
    }))
    .unwrap_or(true)
}

/// Abandons operation `op`: a queued one is dropped, the running one stops (the answer to
/// its request in flight is then ignored). Its `finished` event carries
/// `KSEF_ERR_CANCELLED`. `*cancelled_out` (may be NULL) is false when no such operation was
/// pending (finished already, or never started). Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `cancelled_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_cancel(
    client: *mut ksef_client,
    op: u64,
    cancelled_out: *mut bool,
) -> ksef_result {
    guard(|| {
        let c = handle_mut(client, "client")?;
        let done = c.client.cancel(OpId(op));
        // SAFETY: a non-NULL `cancelled_out` is writable (documented).
        if let Some(o) = unsafe { cancelled_out.as_mut() } {
            *o = done;
        }
        Ok(())
    })
}

/// The request's id (to pass back with its answer); 0 for NULL.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `request` is NULL or a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_id(request: *const ksef_request) -> u64 {
    getter(0, || handle(request, "request").map_or(0, |r| r.id))
}

/// The method (`"GET"`, `"POST"`, `"PUT"`, `"DELETE"`), a static NUL-terminated string;
/// NULL for NULL.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `request` is NULL or a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_method(request: *const ksef_request) -> *const c_char {
    getter(std::ptr::null(), || {
        handle(request, "request").map_or(std::ptr::null(), |r| r.method.as_ptr())
    })
}

/// The absolute URL, NUL-terminated, valid until the request is freed; NULL for NULL.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `request` is NULL or a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_url(request: *const ksef_request) -> *const c_char {
    getter(std::ptr::null(), || {
        handle(request, "request").map_or(std::ptr::null(), |r| r.url.as_ptr())
    })
}

/// The headers as JSON `[["name","value"],...]`, NUL-terminated, valid until the request is
/// freed; NULL for NULL. They include `Authorization` when the call needs it: send them,
/// never log them.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `request` is NULL or a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_headers_json(request: *const ksef_request) -> *const c_char {
    getter(std::ptr::null(), || {
        handle(request, "request").map_or(std::ptr::null(), |r| r.headers.as_ptr())
    })
}

/// The body's bytes (see `ksef_request_body_len`), valid until the request is freed; NULL
/// for NULL or an empty body.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `request` is NULL or a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_body(request: *const ksef_request) -> *const u8 {
    getter(std::ptr::null(), || {
        handle(request, "request").map_or(std::ptr::null(), |r| {
            if r.body.is_empty() {
                std::ptr::null()
            } else {
                r.body.as_ptr()
            }
        })
    })
}

/// The body's length in bytes; 0 for NULL.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `request` is NULL or a live request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_body_len(request: *const ksef_request) -> usize {
    getter(0, || handle(request, "request").map_or(0, |r| r.body.len()))
}

/// Frees a request; NULL is accepted.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `request` is NULL or a live request, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_request_free(request: *mut ksef_request) {
    // SAFETY: forwarded contract.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { free(request) }));
}

/// Reads one value out of a JSON document (a result or an event) by JSON pointer
/// (RFC 6901: `"/invoices/0/ksef_number"`; `""` is the whole document) into `*value_out`:
/// a string's text unescaped (UTF-8, no quotes), any other value as compact JSON (`42`,
/// `true`, `null`, `{...}`). For C programs without a JSON parser. `KSEF_ERR_JSON_SYNTAX`
/// for a document that is not JSON, `KSEF_ERR_INVALID_ARGUMENT` (path `pointer`) when
/// nothing is there. Free with `ksef_buffer_free`. Thread-safe.
///
/// # Safety
/// `json` points to `json_len` bytes, `pointer` to `pointer_len` bytes; `value_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_json_get(
    json: *const c_char,
    json_len: usize,
    pointer: *const c_char,
    pointer_len: usize,
    value_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(value_out, "value_out")?;
        // SAFETY: documented contract.
        let doc = unsafe { text(json, json_len, "json") }?;
        // SAFETY: documented contract.
        let p = unsafe { text(pointer, pointer_len, "pointer") }?;
        let v: serde_json::Value = serde_json::from_str(doc).map_err(|e| {
            Error::new(
                ksef::ErrorCode::JsonSyntax,
                format!("line {}, column {}", e.line(), e.column()),
                format!("not valid JSON: {e}"),
            )
        })?;
        let found = v
            .pointer(p)
            .ok_or_else(|| invalid("pointer", format!("nothing at `{p}`")))?;
        let bytes = match found {
            serde_json::Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        crate::common::give_buffer(o, bytes);
        Ok(())
    })
}
