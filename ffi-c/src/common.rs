//! What every export shares: result codes, the thread-local last error, owned buffers,
//! argument checks and the panic boundary.
//!
//! Conventions (also in `include/README.md`):
//! - every fallible function returns a `ksef_result`: `KSEF_OK` (0) or a code of the shared
//!   error table (`KSEF_ERR_*`, the core's `ErrorCode`);
//! - outputs go in trailing `*_out` parameters and are written only on success (the one
//!   exception: caller-buffer functions write the needed size to `*len_out` together with
//!   `KSEF_ERR_BUFFER_TOO_SMALL`);
//! - after a failure, `ksef_last_error_*` describe it on the same thread until the next call
//!   of a fallible function on that thread;
//! - inputs are `(ptr, len)` byte ranges; NULL with length 0 is the empty input;
//! - owned outputs are `ksef_buffer`s, freed with `ksef_buffer_free` (NULL accepted).

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ksef::{Error, ErrorCode};

/// A result code: `KSEF_OK` (0) or one of the `KSEF_ERR_*` codes of the shared error table.
#[allow(non_camel_case_types)]
pub type ksef_result = u32;

/// Success (`KSEF_OK` in the header's result enum).
pub(crate) const KSEF_OK: ksef_result = 0;

/// An owned byte buffer returned by the library (XML, JSON, PNG, ...).
///
/// The bytes are followed by a NUL that `ksef_buffer_len` does not count, so text can be
/// read as a C string. Free with `ksef_buffer_free`. Not thread-safe: use one buffer from
/// one thread at a time (buffers are never shared by the library).
pub struct ksef_buffer {
    bytes: Vec<u8>,
}

impl ksef_buffer {
    /// A buffer handle for `bytes` (a NUL is added after them).
    pub(crate) fn boxed(mut bytes: Vec<u8>) -> *mut ksef_buffer {
        bytes.push(0);
        Box::into_raw(Box::new(ksef_buffer { bytes }))
    }

    fn content(&self) -> &[u8] {
        &self.bytes[..self.bytes.len().saturating_sub(1)]
    }
}

struct LastError {
    code: u32,
    path: String,
    message: String,
    needed: usize,
    /// Structured detail (validation report, field errors) as JSON; empty when none.
    detail: String,
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

fn set_last(e: &Error, detail: String) {
    LAST.with(|l| {
        *l.borrow_mut() = Some(LastError {
            code: e.code().as_u32(),
            path: e.path().to_string(),
            message: e.message().to_string(),
            needed: e.needed(),
            detail,
        })
    });
}

fn clear_last() {
    LAST.with(|l| *l.borrow_mut() = None);
}

/// A failure of an export: the core error and optional structured detail (JSON).
pub(crate) struct Fail {
    pub error: Error,
    pub detail: String,
}

impl From<Error> for Fail {
    fn from(error: Error) -> Fail {
        Fail {
            error,
            detail: String::new(),
        }
    }
}

impl Fail {
    /// A failure with structured detail (a JSON document) for `ksef_last_error_detail`.
    pub fn with_detail(error: Error, detail: String) -> Fail {
        Fail { error, detail }
    }
}

/// The result of an export's body.
pub(crate) type Res = Result<(), Fail>;

/// The panic boundary and last-error bookkeeping of every export: runs `f`, records its
/// error (or clears the last error on success) and returns the result code. A panic becomes
/// `KSEF_ERR_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> Res) -> ksef_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            clear_last();
            KSEF_OK
        }
        Ok(Err(fail)) => {
            set_last(&fail.error, fail.detail);
            fail.error.code().as_u32()
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let e = Error::new(
                ErrorCode::Panic,
                "",
                format!("internal error (please report it): {what}"),
            );
            set_last(&e, String::new());
            ErrorCode::Panic.as_u32()
        }
    }
}

/// `NullArgument` naming the parameter.
pub(crate) fn null(name: &str) -> Error {
    Error::new(ErrorCode::NullArgument, name, "must not be NULL")
}

/// `InvalidArgument` naming the parameter.
pub(crate) fn invalid(name: &str, why: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, name, why)
}

/// The bytes of a `(ptr, len)` input; NULL with `len == 0` is the empty input.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Error> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(null(name));
    }
    // SAFETY: the caller passes `len` readable bytes at `ptr` (documented on every export).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The UTF-8 text of a `(ptr, len)` input (`const char *` in C; no NUL needed, none read).
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const std::ffi::c_char,
    len: usize,
    name: &str,
) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(ptr.cast(), len, name) }?;
    std::str::from_utf8(b).map_err(|e| {
        Error::new(
            ErrorCode::Encoding,
            name,
            format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })
}

/// A required `*_out` pointer, checked before any work is done.
pub(crate) fn out<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: a non-NULL `*_out` pointer is writable for a `T` (documented on every export).
    unsafe { ptr.as_mut() }.ok_or_else(|| null(name))
}

/// A handle argument that is only read.
pub(crate) fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: a non-NULL handle was made by this library and not yet freed (documented).
    unsafe { ptr.as_ref() }.ok_or_else(|| null(name))
}

/// A handle argument that is changed.
pub(crate) fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: as `handle`, and the caller does not use it from two threads at once.
    unsafe { ptr.as_mut() }.ok_or_else(|| null(name))
}

/// Writes a new handle to `*out` (checked non-NULL by the caller beforehand).
pub(crate) fn give<T>(out: &mut *mut T, value: T) {
    *out = Box::into_raw(Box::new(value));
}

/// Frees a handle made by [`give`]; NULL is accepted.
///
/// # Safety
/// `ptr` is NULL or a handle made by this library and not yet freed.
pub(crate) unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by `Box::into_raw` in `give`/`ksef_buffer::boxed`, freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Copies `bytes` into the caller's buffer `(buf, cap)`, writing the length to `len_out`;
/// `BufferTooSmall` (with the needed size in `*len_out`) when it does not fit. With
/// `nul == true` a terminating NUL is written too (and counted in the needed size, not in
/// `*len_out` on success).
pub(crate) fn into_caller_buffer(
    bytes: &[u8],
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: &mut usize,
    nul: bool,
) -> Res {
    let needed = bytes.len() + usize::from(nul);
    if buf.is_null() || cap < needed {
        *len_out = needed;
        return Err(Error::buffer_too_small(needed).into());
    }
    // SAFETY: `buf` is writable for `cap >= needed` bytes (documented on every export).
    let dst = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) };
    dst[..bytes.len()].copy_from_slice(bytes);
    if nul {
        dst[bytes.len()] = 0;
    }
    *len_out = bytes.len();
    Ok(())
}

/// Writes an owned buffer with `bytes` to `*out`.
pub(crate) fn give_buffer(out: &mut *mut ksef_buffer, bytes: Vec<u8>) {
    *out = ksef_buffer::boxed(bytes);
}

/// Serializes `v` as compact JSON into an owned buffer.
pub(crate) fn give_json(out: &mut *mut ksef_buffer, v: &serde_json::Value) -> Res {
    let bytes = serde_json::to_vec(v)
        .map_err(|e| Error::new(ErrorCode::Panic, "", format!("JSON output: {e}")))?;
    give_buffer(out, bytes);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Exports: buffers, last error, version.

/// The bytes of a buffer (followed by a NUL that the length does not count). NULL for a
/// NULL buffer. Valid until the buffer is freed. Thread-safe for distinct buffers.
///
/// # Safety
/// `buffer` is NULL or a live buffer of this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_buffer_data(buffer: *const ksef_buffer) -> *const u8 {
    catch_unwind(|| match handle(buffer, "buffer") {
        Ok(b) => b.bytes.as_ptr(),
        Err(_) => std::ptr::null(),
    })
    .unwrap_or(std::ptr::null())
}

/// The number of bytes in a buffer (without the trailing NUL); 0 for a NULL buffer.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `buffer` is NULL or a live buffer of this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_buffer_len(buffer: *const ksef_buffer) -> usize {
    catch_unwind(|| handle(buffer, "buffer").map_or(0, |b| b.content().len())).unwrap_or(0)
}

/// Frees a buffer; NULL is accepted. The buffer must not be used afterwards.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `buffer` is NULL or a buffer returned by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_buffer_free(buffer: *mut ksef_buffer) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded contract.
        unsafe { free(buffer) }
    }));
}

/// The code of the last failure on this thread (`KSEF_OK` when the last fallible call
/// succeeded or there was none). Thread-safe (per-thread state).
#[unsafe(no_mangle)]
pub extern "C" fn ksef_last_error_code() -> ksef_result {
    catch_unwind(|| LAST.with(|l| l.borrow().as_ref().map_or(KSEF_OK, |e| e.code)))
        .unwrap_or(KSEF_OK)
}

/// For `KSEF_ERR_BUFFER_TOO_SMALL`: the number of bytes needed; 0 otherwise.
/// Thread-safe (per-thread state).
#[unsafe(no_mangle)]
pub extern "C" fn ksef_last_error_needed() -> usize {
    catch_unwind(|| LAST.with(|l| l.borrow().as_ref().map_or(0, |e| e.needed))).unwrap_or(0)
}

fn last_field(which: u8) -> Option<Vec<u8>> {
    LAST.with(|l| {
        l.borrow().as_ref().map(|e| match which {
            0 => e.message.clone().into_bytes(),
            1 => e.path.clone().into_bytes(),
            2 => e.detail.clone().into_bytes(),
            _ => {
                let name = ErrorCode::ALL
                    .iter()
                    .find(|c| c.as_u32() == e.code)
                    .map_or("", |c| c.name());
                let mut v = serde_json::json!({
                    "code": e.code,
                    "name": name,
                    "path": e.path,
                    "message": e.message,
                });
                if e.needed > 0 {
                    v["needed"] = e.needed.into();
                }
                if !e.detail.is_empty() {
                    if let Ok(d) = serde_json::from_str::<serde_json::Value>(&e.detail) {
                        v["detail"] = d;
                    }
                }
                serde_json::to_vec(&v).unwrap_or_default()
            }
        })
    })
}

fn copy_last(which: u8, buf: *mut std::ffi::c_char, cap: usize, len_out: *mut usize) -> usize {
    let text = last_field(which).unwrap_or_default();
    let needed = text.len() + 1;
    if !len_out.is_null() {
        // SAFETY: a non-NULL `len_out` is writable (documented).
        unsafe { *len_out = text.len() };
    }
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        // SAFETY: `buf` is writable for `cap` bytes (documented).
        let dst = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) };
        // never cut a UTF-8 sequence in half
        let mut n = n;
        while n > 0 && n < text.len() && (text[n] & 0xC0) == 0x80 {
            n -= 1;
        }
        dst[..n].copy_from_slice(&text[..n]);
        dst[n] = 0;
    }
    needed
}

/// Copies the last error's message (why, in words; UTF-8, NUL-terminated, cut at a
/// character boundary when `cap` is too small) into `buf`, and its full length without
/// the NUL into `*len_out` (may be NULL). Returns the size a buffer needs for the whole
/// message including the NUL (1 when there is no error). Does not change the last error.
/// Thread-safe (per-thread state). `buf` may be NULL with `cap == 0` to ask for the size.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `len_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_last_error_message(
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> usize {
    catch_unwind(|| copy_last(0, buf, cap, len_out)).unwrap_or(0)
}

/// As `ksef_last_error_message`, for where the error happened: an element path
/// (`Faktura/Fa/FaWiersz[3]/P_8B`), a JSON path, an argument name or an API call; empty
/// when there is no place to point at.
/// Thread-safe (per-thread state).
///
/// # Safety
/// As `ksef_last_error_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_last_error_path(
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> usize {
    catch_unwind(|| copy_last(1, buf, cap, len_out)).unwrap_or(0)
}

/// As `ksef_last_error_message`, for the structured detail of the last error as JSON
/// (e.g. the validation report of `KSEF_ERR_VALIDATION_FAILED`); empty when there is none.
/// Thread-safe (per-thread state).
///
/// # Safety
/// As `ksef_last_error_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_last_error_detail(
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> usize {
    catch_unwind(|| copy_last(2, buf, cap, len_out)).unwrap_or(0)
}

/// The whole last error as one JSON object into an owned buffer:
/// `{"code":105,"name":"invalid_value","path":"...","message":"...","needed":N?,"detail":{}?}`.
/// Writes NULL to `*out` when there is no last error. Returns `KSEF_ERR_NULL_ARGUMENT`
/// when `out` is NULL. Does not change the last error. Thread-safe (per-thread state).
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_last_error_json(out: *mut *mut ksef_buffer) -> ksef_result {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a non-NULL `out` is writable (documented).
        let Some(out) = (unsafe { out.as_mut() }) else {
            return ErrorCode::NullArgument.as_u32();
        };
        *out = match last_field(3) {
            Some(json) => ksef_buffer::boxed(json),
            None => std::ptr::null_mut(),
        };
        KSEF_OK
    }))
    .unwrap_or(ErrorCode::Panic.as_u32())
}

/// The stable short name of a result code (`"invalid_value"`; `"ok"` for 0), a static
/// NUL-terminated string; NULL for a number that is not in the table. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ksef_result_name(code: ksef_result) -> *const std::ffi::c_char {
    catch_unwind(|| {
        if code == KSEF_OK {
            return c"ok".as_ptr();
        }
        crate::codes::name_cstr(code).map_or(std::ptr::null(), |c| c.as_ptr())
    })
    .unwrap_or(std::ptr::null())
}

/// The library version (`"0.1.0"`), a static NUL-terminated string. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ksef_version() -> *const std::ffi::c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}
