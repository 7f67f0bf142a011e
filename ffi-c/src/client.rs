//! The KSeF client: `ksef_client` (settings JSON in), with the built-in transport (ureq +
//! rustls) or driven by the host (sans-IO).
//!
//! A client may move between threads but must not be used from two threads at once.

use std::time::Duration;

use ksef::crypto::session::SessionKey;
use ksef::protocol::batch::{prepare_batch, BatchOptions, MemoryParts};
use ksef::protocol::json::token_request_from_json;
use ksef::protocol::{
    run, BatchSend, Client, ClientSettings, ExportRequest, FormCode, MetadataQuery, OnlineSend,
    OpId, Output, SystemClock, UpoRef,
};
use ksef::transport::UreqTransport;
use ksef::{Error, ErrorCode};
use rand_core::{OsRng, RngCore};

use crate::common::{
    bytes, free, give, give_json, guard, handle_mut, invalid, ksef_buffer, ksef_result, null, out,
    text,
};

/// A KSeF client (one context, one set of credentials) with its built-in HTTP transport,
/// or driven by the host (sans-IO, `ksef_client_new_sansio`).
pub struct ksef_client {
    /// The sans-IO protocol client.
    pub(crate) client: Client,
    /// The built-in transport (ureq + rustls).
    pub(crate) transport: UreqTransport,
    /// Made by `ksef_client_new_sansio`: the host sends the requests; the built-in calls
    /// refuse to run.
    pub(crate) host_driven: bool,
    /// Requests handed to the host and not answered yet (sans-IO).
    pub(crate) in_flight: Vec<u64>,
}

impl ksef_client {
    /// Runs an operation started by `start` to completion over the built-in transport
    /// (`InvalidArgument` for a host-driven client, which has none).
    pub(crate) fn run(&mut self, start: impl FnOnce(&mut Client) -> OpId) -> Result<Output, Error> {
        if self.host_driven {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "client",
                "this client is driven by the host (ksef_client_new_sansio): start operations \
                 with ksef_client_start_* and pump ksef_client_poll_transmit",
            ));
        }
        let op = start(&mut self.client);
        run(
            &mut self.client,
            op,
            &mut self.transport,
            &mut SystemClock,
            |_| {},
        )
    }
}

/// 32 bytes from the OS for the client's CSPRNG.
pub(crate) fn os_seed() -> Result<[u8; 32], Error> {
    let mut seed = [0u8; 32];
    OsRng.try_fill_bytes(&mut seed).map_err(|e| {
        Error::new(
            ksef::ErrorCode::Transport,
            "",
            format!("cannot read OS randomness: {e}"),
        )
    })?;
    Ok(seed)
}

/// Makes a client from settings JSON (see `ksef::protocol::settings`: `environment` or
/// `base_url`; `nip` or `context`; `ksef_token` or `certificate_pem` + `private_key_pem`;
/// optional `poll_interval_ms`, `max_wait_ms`, `timeout_ms`, `no_proxy`) into
/// `*client_out`. Nothing is sent yet. Errors name the key (`KSEF_ERR_INVALID_VALUE`,
/// `KSEF_ERR_JSON_SYNTAX`, `KSEF_ERR_CRYPTO_KEY`, `KSEF_ERR_CERTIFICATE`); the token and key
/// never appear in them. Free with `ksef_client_free`. Thread-safe.
///
/// # Safety
/// `settings_json` points to `settings_len` readable bytes; `client_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_new(
    settings_json: *const std::ffi::c_char,
    settings_len: usize,
    client_out: *mut *mut ksef_client,
) -> ksef_result {
    guard(|| {
        let o = out(client_out, "client_out")?;
        // SAFETY: documented contract.
        let json = unsafe { text(settings_json, settings_len, "settings_json") }?;
        let s = ClientSettings::from_json(json)?;
        let mut b = UreqTransport::builder();
        if let Some(ms) = s.timeout_ms {
            b = b
                .timeout(Duration::from_millis(ms))
                .connect_timeout(Duration::from_millis(ms.min(10_000)));
        }
        if s.no_proxy {
            b = b.no_proxy();
        }
        let transport = b.build()?;
        let client = Client::new(s.config, s.credentials, os_seed()?);
        give(
            o,
            ksef_client {
                client,
                transport,
                host_driven: false,
                in_flight: Vec::new(),
            },
        );
        Ok(())
    })
}

/// Frees a client; NULL is accepted. Does not end the KSeF session (see
/// `ksef_client_logout`).
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `client` is NULL or a live client, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_free(client: *mut ksef_client) {
    // SAFETY: forwarded contract.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { free(client) }));
}

// ---------------------------------------------------------------------------------------
// Operations: their arguments read once, shared by the blocking calls (here) and the
// sans-IO `ksef_client_start_*` (sansio.rs).

/// An operation to start on a client.
pub(crate) type Start = Box<dyn FnOnce(&mut Client) -> OpId>;

/// A required non-empty text argument.
unsafe fn word(ptr: *const std::ffi::c_char, len: usize, name: &str) -> Result<String, Error> {
    // SAFETY: forwarded contract.
    let t = unsafe { text(ptr, len, name) }?;
    if t.trim().is_empty() {
        return Err(invalid(name, "must not be empty"));
    }
    Ok(t.to_string())
}

/// The invoices of a send: `count` `(invoices[i], lens[i])` byte ranges, copied.
unsafe fn invoice_list(
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
) -> Result<Vec<Vec<u8>>, Error> {
    if count == 0 {
        return Err(invalid("count", "at least one invoice is needed"));
    }
    if invoices.is_null() {
        return Err(null("invoices"));
    }
    if lens.is_null() {
        return Err(null("lens"));
    }
    // SAFETY: `invoices` and `lens` hold `count` elements (documented).
    let (ptrs, lens) = unsafe {
        (
            std::slice::from_raw_parts(invoices, count),
            std::slice::from_raw_parts(lens, count),
        )
    };
    let mut out = Vec::with_capacity(count);
    for (i, (&p, &n)) in ptrs.iter().zip(lens).enumerate() {
        let name = format!("invoices[{i}]");
        if n == 0 {
            return Err(invalid(&name, "an invoice is empty"));
        }
        // SAFETY: each `invoices[i]` points to `lens[i]` readable bytes (documented).
        out.push(unsafe { bytes(p, n, &name) }?.to_vec());
    }
    Ok(out)
}

unsafe fn form(ptr: *const std::ffi::c_char, len: usize) -> Result<FormCode, Error> {
    // SAFETY: forwarded contract.
    FormCode::from_name(unsafe { text(ptr, len, "form") }?)
}

pub(crate) unsafe fn online_start(
    form_name: *const std::ffi::c_char,
    form_len: usize,
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
    offline: bool,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let f = unsafe { form(form_name, form_len) }?;
    // SAFETY: forwarded contract.
    let list = unsafe { invoice_list(invoices, lens, count) }?;
    let send = OnlineSend::new(f, list).offline(offline);
    Ok(Box::new(move |c: &mut Client| c.send_online(send)))
}

pub(crate) unsafe fn batch_start(
    form_name: *const std::ffi::c_char,
    form_len: usize,
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
    offline: bool,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let f = unsafe { form(form_name, form_len) }?;
    // SAFETY: forwarded contract.
    let list = unsafe { invoice_list(invoices, lens, count) }?;
    let key = SessionKey::generate(&mut OsRng);
    let mut parts = MemoryParts::default();
    let prepared = prepare_batch(
        list.iter()
            .enumerate()
            .map(|(i, x)| (format!("invoice-{:05}.xml", i + 1), x.as_slice())),
        &key,
        &BatchOptions::default(),
        &mut parts,
    )?;
    let mut send = BatchSend::new(f, prepared, key, Box::new(parts));
    send.offline_mode = offline;
    Ok(Box::new(move |c: &mut Client| c.send_batch(send)))
}

pub(crate) unsafe fn session_status_start(
    session: *const std::ffi::c_char,
    session_len: usize,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { word(session, session_len, "session") }?;
    Ok(Box::new(move |c: &mut Client| c.session_status(s)))
}

pub(crate) unsafe fn invoice_status_start(
    session: *const std::ffi::c_char,
    session_len: usize,
    invoice: *const std::ffi::c_char,
    invoice_len: usize,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { word(session, session_len, "session") }?;
    // SAFETY: forwarded contract.
    let i = unsafe { word(invoice, invoice_len, "invoice") }?;
    Ok(Box::new(move |c: &mut Client| c.invoice_status(s, i)))
}

pub(crate) unsafe fn session_invoices_start(
    session: *const std::ffi::c_char,
    session_len: usize,
    failed_only: bool,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { word(session, session_len, "session") }?;
    Ok(Box::new(move |c: &mut Client| {
        if failed_only {
            c.failed_invoices(s)
        } else {
            c.session_invoices(s)
        }
    }))
}

pub(crate) unsafe fn upo_start(json: *const std::ffi::c_char, len: usize) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let r = UpoRef::from_json_text(unsafe { text(json, len, "upo_json") }?)?;
    Ok(Box::new(move |c: &mut Client| c.download_upo(r)))
}

pub(crate) unsafe fn query_start(
    json: *const std::ffi::c_char,
    len: usize,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let q = MetadataQuery::from_json_text(unsafe { text(json, len, "query_json") }?)?;
    Ok(Box::new(move |c: &mut Client| c.query_metadata(q)))
}

pub(crate) unsafe fn export_start(
    json: *const std::ffi::c_char,
    len: usize,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let q = MetadataQuery::from_json_text(unsafe { text(json, len, "query_json") }?)?;
    Ok(Box::new(move |c: &mut Client| {
        c.export_invoices(ExportRequest::new(q))
    }))
}

pub(crate) unsafe fn download_start(
    ksef_number: *const std::ffi::c_char,
    len: usize,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let n = unsafe { word(ksef_number, len, "ksef_number") }?;
    Ok(Box::new(move |c: &mut Client| c.download_invoice(n)))
}

pub(crate) unsafe fn token_start(
    request_json: *const std::ffi::c_char,
    len: usize,
) -> Result<Start, Error> {
    // SAFETY: forwarded contract.
    let (perms, description) =
        token_request_from_json(unsafe { text(request_json, len, "request_json") }?)?;
    Ok(Box::new(move |c: &mut Client| {
        c.generate_token(perms, description)
    }))
}

/// The body of a blocking call: checks `result_out` and the client, reads the arguments,
/// runs the operation over the built-in transport and writes its output JSON.
fn blocking(
    client: *mut ksef_client,
    result_out: *mut *mut ksef_buffer,
    args: impl FnOnce() -> Result<Start, Error>,
) -> ksef_result {
    guard(|| {
        let o = out(result_out, "result_out")?;
        let c = handle_mut(client, "client")?;
        let start = args()?;
        let output = c.run(start)?;
        give_json(o, &output.to_json())
    })
}

/// Authenticates now (challenge, KSeF token or XAdES signature, poll, redeem); otherwise
/// the first call that needs a token does it. Blocks. On success writes
/// `{"type":"authenticated","reference":"..."}` to `*result_out` (free with
/// `ksef_buffer_free`). Errors: `KSEF_ERR_AUTH_FAILED` (credentials refused),
/// `KSEF_ERR_TRANSPORT` (KSeF unreachable), `KSEF_ERR_INVALID_ARGUMENT` for a host-driven
/// client, `KSEF_ERR_NULL_ARGUMENT`. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_authenticate(
    client: *mut ksef_client,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        Ok(Box::new(|c: &mut Client| c.authenticate()))
    })
}

/// Sends `count` invoices (`invoices[i]`: `lens[i]` bytes of XML, sent exactly as given) in
/// one online session of `form` (`"FA(3)"` or `"FA(2)"`), `offline` marking them as issued
/// in an offline mode; waits for KSeF to process them and downloads their UPOs. Blocks.
///
/// On success `*result_out` holds `{"type":"online","session":"...","status":{...},
/// "accepted":N,"invoices":[{"index":0,"accepted":true,"reference":"...",
/// "ksef_number":"...","status":{...},"error":null,"deduplicated":false,"upo":"<xml>"},...],
/// "session_upo":["<xml>"]}` — an invoice KSeF refused is **not** a failure of the call:
/// its entry has `"accepted":false` and `"error":{"code","name","path","message"}`.
/// Failures of the session itself (authentication, transport, a malformed answer) are the
/// result code and the last error. `KSEF_ERR_INVALID_VALUE` for an unknown form,
/// `KSEF_ERR_INVALID_ARGUMENT` for `count == 0` or an empty invoice. The invoices are
/// copied. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `form` points to `form_len` bytes; `invoices` and
/// `lens` hold `count` elements, each `invoices[i]` pointing to `lens[i]` readable bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_send_online(
    client: *mut ksef_client,
    form: *const std::ffi::c_char,
    form_len: usize,
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
    offline: bool,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { online_start(form, form_len, invoices, lens, count, offline) }
    })
}

/// As `ksef_client_send_online`, in one batch session: the invoices are packed into a ZIP,
/// encrypted in memory with a fresh session key (from the OS's CSPRNG), uploaded, and each
/// one's result mapped back to its index. The result's `"type"` is `"batch"`; invoice UPOs
/// are not downloaded (`"upo":null`; see `ksef_client_download_upo`), the session UPO is.
/// Not thread-safe for one client.
///
/// # Safety
/// As `ksef_client_send_online`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_send_batch(
    client: *mut ksef_client,
    form: *const std::ffi::c_char,
    form_len: usize,
    invoices: *const *const u8,
    lens: *const usize,
    count: usize,
    offline: bool,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { batch_start(form, form_len, invoices, lens, count, offline) }
    })
}

/// A session's status (`GET /sessions/{reference}`): `{"type":"session_status",
/// "reference","status":{"code","description","details"},"invoice_count",
/// "successful_invoice_count","failed_invoice_count","upo_pages":["<UPO reference>"]}`.
/// Blocks. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `session` points to `session_len` bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_session_status(
    client: *mut ksef_client,
    session: *const std::ffi::c_char,
    session_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { session_status_start(session, session_len) }
    })
}

/// One invoice's status in a session by its invoice reference number:
/// `{"type":"invoice_status","ordinal_number","reference","invoice_number","ksef_number",
/// "invoice_hash","invoice_file_name","acquisition_date","status":{...},"original"}`.
/// Blocks. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `session`/`invoice` point to their lengths' bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_invoice_status(
    client: *mut ksef_client,
    session: *const std::ffi::c_char,
    session_len: usize,
    invoice: *const std::ffi::c_char,
    invoice_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { invoice_status_start(session, session_len, invoice, invoice_len) }
    })
}

/// Every invoice of a session with its status (all pages), or only the failed ones with
/// `failed_only`: `{"type":"invoices","invoices":[<invoice status>...]}`. Blocks. Not
/// thread-safe for one client.
///
/// # Safety
/// As `ksef_client_session_status`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_session_invoices(
    client: *mut ksef_client,
    session: *const std::ffi::c_char,
    session_len: usize,
    failed_only: bool,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { session_invoices_start(session, session_len, failed_only) }
    })
}

/// Downloads a UPO (checked to read as UPO v4-3) chosen by `upo_json`:
/// `{"session":"...","ksef_number":"..."}`, `{"session":"...","invoice":"<reference>"}` or
/// `{"session":"...","upo":"<session UPO page reference>"}`. Result: `{"type":"upo",
/// "xml":"..."}` (read it with `ksef_json_get(..., "/xml")`). Blocks. Not thread-safe for
/// one client.
///
/// # Safety
/// `client` is NULL or a live client; `upo_json` points to `upo_len` bytes; `result_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_download_upo(
    client: *mut ksef_client,
    upo_json: *const std::ffi::c_char,
    upo_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { upo_start(upo_json, upo_len) }
    })
}

/// Lists invoice metadata (all pages) for `query_json`: `{"subject":"buyer"|"seller"|
/// "third_party"|"authorized","from":"2026-01-01T00:00:00","to":...,"date_type":"issue"|
/// "invoicing"|"permanent_storage","filters":{...},"descending":false,"limit":N}`. Result:
/// `{"type":"metadata","invoices":[{"ksef_number","invoice_number","issue_date",...,
/// "seller":{"nip","name"},"buyer":{...},"net_amount":"100.00",...,"raw":{...}}],
/// "permanent_storage_hwm_date","limited"}` (amounts as decimal strings). Blocks. Not
/// thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `query_json` points to `query_len` bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_inbox_query(
    client: *mut ksef_client,
    query_json: *const std::ffi::c_char,
    query_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { query_start(query_json, query_len) }
    })
}

/// Downloads one invoice by its KSeF number: `{"type":"invoice","ksef_number","hash",
/// "xml":"...","schema":"FA(3)"|"FA(2)"|null,"parse_error":null|{...}}` (the XML exactly as
/// KSeF stores it). Blocks. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `ksef_number` points to `ksef_number_len` bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_inbox_download(
    client: *mut ksef_client,
    ksef_number: *const std::ffi::c_char,
    ksef_number_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { download_start(ksef_number, ksef_number_len) }
    })
}

/// Exports the invoices `query_json` selects (as for `ksef_client_inbox_query`) as an
/// encrypted package that is downloaded, checked, decrypted and unpacked:
/// `{"type":"export","reference","invoice_count","is_truncated","invoices":[{"file_name",
/// "xml","metadata"}],"metadata":[...]}`. Blocks. Not thread-safe for one client.
///
/// # Safety
/// As `ksef_client_inbox_query`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_inbox_export(
    client: *mut ksef_client,
    query_json: *const std::ffi::c_char,
    query_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { export_start(query_json, query_len) }
    })
}

/// Generates a KSeF token (KSeF allows it only after certificate authentication) and waits
/// until it is active. `request_json`: `{"permissions":["InvoiceRead","InvoiceWrite"],
/// "description":"POS 1"}`. Result: `{"type":"token","reference","token","status"}` — the
/// token value is the one secret this library ever returns: it is the point of the call
/// (KSeF shows it once); store it safely. Blocks. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `request_json` points to `request_len` bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_generate_token(
    client: *mut ksef_client,
    request_json: *const std::ffi::c_char,
    request_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { token_start(request_json, request_len) }
    })
}

/// Tests the connection and the credentials (a fresh authentication, then the session is
/// ended). A failing step is **not** a failure of the call: `{"type":"connection",
/// "ok":false,"summary":"authentication failed: ...","steps":[{"step","ok","error"}],
/// "auth_reference"}`. Blocks. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_test_connection(
    client: *mut ksef_client,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        Ok(Box::new(|c: &mut Client| c.test_connection()))
    })
}

/// Ends the current authenticated session (`DELETE /auth/sessions/current`) and drops the
/// tokens: `{"type":"terminated"}`. Blocks. Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_logout(
    client: *mut ksef_client,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        Ok(Box::new(|c: &mut Client| c.logout()))
    })
}

/// The start of a certificate enrollment: `name` and `type` (`"Offline"` for KOD II,
/// `"Authentication"` for XAdES logins).
///
/// # Safety
/// The inputs point to their lengths in readable bytes.
pub(crate) unsafe fn enroll_start(
    name: *const std::ffi::c_char,
    name_len: usize,
    kind: *const std::ffi::c_char,
    kind_len: usize,
) -> Result<Start, Error> {
    // SAFETY: documented contract.
    let name = unsafe { text(name, name_len, "name") }?.to_string();
    // SAFETY: documented contract.
    let kind = unsafe { text(kind, kind_len, "type") }?;
    let kind = match kind {
        "Offline" | "offline" => ksef::protocol::CertificateType::Offline,
        "Authentication" | "authentication" => ksef::protocol::CertificateType::Authentication,
        other => {
            return Err(crate::common::invalid(
                "type",
                format!("`{other}`: Offline or Authentication"),
            ))
        }
    };
    if name.trim().is_empty() {
        return Err(crate::common::invalid("name", "must not be empty"));
    }
    Ok(Box::new(move |c: &mut Client| {
        c.enroll_certificate(name, kind)
    }))
}

/// The start of ending one authentication session by its reference.
///
/// # Safety
/// `reference` points to `reference_len` readable bytes.
pub(crate) unsafe fn terminate_start(
    reference: *const std::ffi::c_char,
    reference_len: usize,
) -> Result<Start, Error> {
    // SAFETY: documented contract.
    let r = unsafe { text(reference, reference_len, "reference") }?.to_string();
    if r.is_empty() {
        return Err(crate::common::invalid("reference", "must not be empty"));
    }
    Ok(Box::new(move |c: &mut Client| c.terminate_auth_session(r)))
}

/// Enrolls a KSeF certificate (KSeF requires a certificate (XAdES) login for this; after a
/// KSeF-token login it is refused with `KSEF_ERR_FORBIDDEN`): a new P-256 key made here, its
/// PKCS#10 request with the subject KSeF dictates, then waiting for the certificate.
/// `type` is `"Offline"` (the certificate that signs KOD II) or `"Authentication"`. Result:
/// `{"type":"certificate","serial","certificate_pem","private_key_pem",...}` — the new
/// private key is returned to its owner (store it safely; it is never logged). Blocks. Not
/// thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; the inputs point to their lengths in readable bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_enroll_certificate(
    client: *mut ksef_client,
    name: *const std::ffi::c_char,
    name_len: usize,
    kind: *const std::ffi::c_char,
    kind_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { enroll_start(name, name_len, kind, kind_len) }
    })
}

/// Lists the context's authentication sessions (`GET /auth/sessions`, every page):
/// `{"type":"auth_sessions","sessions":[{"reference","start_date","method","status","is_current",...}]}`. Blocks.
/// Not thread-safe for one client.
///
/// # Safety
/// `client` is NULL or a live client; `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_auth_sessions(
    client: *mut ksef_client,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        Ok(Box::new(|c: &mut Client| c.list_auth_sessions()))
    })
}

/// Ends one authentication session by its reference (`DELETE /auth/sessions/{reference}`),
/// e.g. a device that was lost: `{"type":"terminated"}`. Blocks. Not thread-safe for one
/// client.
///
/// # Safety
/// `client` is NULL or a live client; `reference` points to `reference_len` readable bytes;
/// `result_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_terminate_auth_session(
    client: *mut ksef_client,
    reference: *const std::ffi::c_char,
    reference_len: usize,
    result_out: *mut *mut ksef_buffer,
) -> ksef_result {
    blocking(client, result_out, || {
        // SAFETY: documented contract.
        unsafe { terminate_start(reference, reference_len) }
    })
}
