//! Identifiers and hashes: NIP and KSeF number checks, SHA-256 of invoice bytes.
//!
//! All functions here are pure and thread-safe.

use ksef::crypto::hash::{sha256, Sha256Hash, Sha256Hasher};
use ksef::id::{KsefNumber, Nip};

use crate::common::{
    bytes, free, give, guard, handle_mut, into_caller_buffer, ksef_result, out, text,
};

fn hash32<'a>(p: *mut u8) -> Result<&'a mut [u8; 32], ksef::Error> {
    let p = out(p, "hash_out")?;
    // SAFETY: `hash_out` is writable for 32 bytes (documented on every export using it).
    Ok(unsafe { &mut *(p as *mut u8).cast::<[u8; 32]>() })
}

/// Checks a NIP (10 digits, checksum; separators `-` and spaces are refused: use the plain
/// digits). `KSEF_OK` when valid, `KSEF_ERR_INVALID_VALUE` with the reason otherwise.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `nip` points to `nip_len` readable bytes (NULL only with length 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_nip_check(
    nip: *const std::ffi::c_char,
    nip_len: usize,
) -> ksef_result {
    guard(|| {
        // SAFETY: documented contract.
        let s = unsafe { text(nip, nip_len, "nip") }?;
        Nip::parse(s).map_err(|e| ksef::Error::from(e).at("nip"))?;
        Ok(())
    })
}

/// Checks a KSeF number: `NIP-YYYYMMDD-XXXXXXXXXXXX-CC` (35 characters) with its CRC-8
/// checksum. `KSEF_OK` when valid, `KSEF_ERR_KSEF_NUMBER` with the reason otherwise.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `number` points to `number_len` readable bytes (NULL only with length 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_ksef_number_check(
    number: *const std::ffi::c_char,
    number_len: usize,
) -> ksef_result {
    guard(|| {
        // SAFETY: documented contract.
        let s = unsafe { text(number, number_len, "number") }?;
        KsefNumber::parse(s).map_err(|e| ksef::Error::from(e).at("number"))?;
        Ok(())
    })
}

/// SHA-256 of `data` (e.g. the exact invoice bytes sent to KSeF) into `hash_out[32]`.
/// Allocation-free.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `data` points to `data_len` readable bytes (NULL only with length 0); `hash_out` is
/// writable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_sha256(
    data: *const u8,
    data_len: usize,
    hash_out: *mut u8,
) -> ksef_result {
    guard(|| {
        let o = hash32(hash_out)?;
        // SAFETY: documented contract.
        let d = unsafe { bytes(data, data_len, "data") }?;
        *o = sha256(d).0;
        Ok(())
    })
}

/// SHA-256 of `data` as Base64 (standard alphabet, padded: 44 characters, the form KSeF's
/// JSON uses) or Base64URL without padding (43 characters, the form in KOD I links) when
/// `url_safe` is true, NUL-terminated into the caller's buffer `(buf, cap)`; the length
/// without the NUL goes to `*len_out`. `KSEF_ERR_BUFFER_TOO_SMALL` with the needed size
/// (including the NUL) in `*len_out` when `cap` is too small. Allocation-free.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `data` as in `ksef_sha256`; `buf` writable for `cap` bytes; `len_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_sha256_base64(
    data: *const u8,
    data_len: usize,
    url_safe: bool,
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> ksef_result {
    guard(|| {
        let len_out = out(len_out, "len_out")?;
        // SAFETY: documented contract.
        let d = unsafe { bytes(data, data_len, "data") }?;
        let h = sha256(d);
        let mut std_b64 = [0u8; Sha256Hash::BASE64_LEN];
        let mut url_b64 = [0u8; Sha256Hash::BASE64URL_LEN];
        let s = if url_safe {
            h.base64url_into(&mut url_b64)
        } else {
            h.base64_into(&mut std_b64)
        };
        into_caller_buffer(s.as_bytes(), buf, cap, len_out, true)
    })
}

/// An incremental SHA-256 (for invoices streamed from disk). Not thread-safe: one thread at
/// a time per hasher.
pub struct ksef_sha256_hasher {
    inner: Sha256Hasher,
}

/// A new incremental SHA-256 into `*out`; free with `ksef_sha256_hasher_free` (or let
/// `ksef_sha256_hasher_finish` consume it).
/// Thread-safe; the new handle may move between threads but is used from one at a time.
///
/// # Safety
/// `hasher_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_sha256_hasher_new(
    hasher_out: *mut *mut ksef_sha256_hasher,
) -> ksef_result {
    guard(|| {
        let o = out(hasher_out, "hasher_out")?;
        give(
            o,
            ksef_sha256_hasher {
                inner: Sha256Hasher::new(),
            },
        );
        Ok(())
    })
}

/// Feeds `data` to the hasher.
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `hasher` is a live hasher; `data` points to `data_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_sha256_hasher_update(
    hasher: *mut ksef_sha256_hasher,
    data: *const u8,
    data_len: usize,
) -> ksef_result {
    guard(|| {
        let h = handle_mut(hasher, "hasher")?;
        // SAFETY: documented contract.
        let d = unsafe { bytes(data, data_len, "data") }?;
        h.inner.update(d);
        Ok(())
    })
}

/// Writes the hash of everything fed so far into `hash_out[32]` and frees the hasher (also
/// on failure, unless `hasher` is NULL).
/// Not thread-safe for one handle: do not use it from two threads at once (distinct handles are independent).
///
/// # Safety
/// `hasher` is a live hasher, not used afterwards; `hash_out` writable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_sha256_hasher_finish(
    hasher: *mut ksef_sha256_hasher,
    hash_out: *mut u8,
) -> ksef_result {
    guard(|| {
        if hasher.is_null() {
            return Err(crate::common::null("hasher").into());
        }
        // SAFETY: a live hasher made by `ksef_sha256_hasher_new`, consumed here.
        let h = unsafe { Box::from_raw(hasher) };
        let o = hash32(hash_out)?;
        *o = h.inner.finish().0;
        Ok(())
    })
}

/// Frees a hasher without finishing it; NULL is accepted.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `hasher` is NULL or a live hasher, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_sha256_hasher_free(hasher: *mut ksef_sha256_hasher) {
    // SAFETY: forwarded contract.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { free(hasher) }));
}
