//! QR codes for invoices: KOD I (invoice link) and KOD II (signed certificate link) URLs,
//! the QR module matrix of a text (owned handle or into the caller's buffer) and PNG / SVG
//! pictures with their label (`OFFLINE`, the KSeF number, `CERTYFIKAT`).
//!
//! Environments are given as text: `"test"`, `"demo"` or `"prod"` (case ignored). Error
//! correction levels as a letter: `'L'`, `'M'` (the level of the official images), `'Q'`,
//! `'H'`. Every function here is thread-safe except on the same matrix handle from two
//! threads at once.

use ksef::crypto::hash::Sha256Hash;
use ksef::crypto::PrivateKey;
use ksef::model::Date;
use ksef::qr::matrix::{encode_into, MAX_BUFFER_LEN};
use ksef::qr::render::{self, RenderOptions};
use ksef::qr::{
    sign, CertificateLink, ContextType, EccLevel, InvoiceLink, QrMatrix, QrModules, DEFAULT_ECC,
};
use ksef::{Environment, Error};

use crate::common::{
    bytes, free, give, give_buffer, guard, handle, into_caller_buffer, invalid, ksef_buffer,
    ksef_result, null, out, text as utf8, Res,
};

/// The environment of `(env, env_len)`.
unsafe fn env_of(env: *const std::ffi::c_char, env_len: usize) -> Result<Environment, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { utf8(env, env_len, "env") }?;
    s.parse::<Environment>().map_err(|e| e.at("env"))
}

fn ecc_of(ecc: u8) -> Result<EccLevel, Error> {
    match ecc.to_ascii_uppercase() {
        b'L' => Ok(EccLevel::Low),
        b'M' => Ok(EccLevel::Medium),
        b'Q' => Ok(EccLevel::Quartile),
        b'H' => Ok(EccLevel::High),
        _ => Err(invalid(
            "ecc",
            format!("{ecc} is not an error-correction level ('L', 'M', 'Q' or 'H')"),
        )),
    }
}

/// Writes `s` (text, NUL-terminated) into the caller's buffer.
fn text_into(s: &str, buf: *mut std::ffi::c_char, cap: usize, len_out: *mut usize) -> Res {
    let len_out = out(len_out, "len_out")?;
    into_caller_buffer(s.as_bytes(), buf, cap, len_out, true)
}

// ---------------------------------------------------------------------------------------
// KOD I

unsafe fn invoice_link(
    env: *const std::ffi::c_char,
    env_len: usize,
    xml: *const u8,
    xml_len: usize,
) -> Result<InvoiceLink, Error> {
    // SAFETY: forwarded contract.
    let env = unsafe { env_of(env, env_len) }?;
    // SAFETY: forwarded contract.
    let x = unsafe { bytes(xml, xml_len, "xml") }?;
    InvoiceLink::from_invoice_xml(env, x)
}

/// The KOD I link of an invoice file (`https://qr-test.ksef.mf.gov.pl/invoice/{seller NIP}/
/// {DD-MM-YYYY}/{SHA-256 base64url}`): hashes the exact bytes, reads the seller NIP and the
/// issue date `P_1` from the invoice (FA(3) or FA(2)). Into a new buffer in `*url_out`.
/// Errors: `KSEF_ERR_INVALID_VALUE` for an unknown environment (path `env`), the XML
/// reader's errors.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `env` points to `env_len` readable bytes, `xml` to `xml_len` (NULL only with length 0);
/// `url_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_invoice_url(
    env: *const std::ffi::c_char,
    env_len: usize,
    xml: *const u8,
    xml_len: usize,
    url_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(url_out, "url_out")?;
        // SAFETY: documented contract.
        let link = unsafe { invoice_link(env, env_len, xml, xml_len) }?;
        give_buffer(o, link.url().into_bytes());
        Ok(())
    })
}

/// As `ksef_qr_invoice_url`, NUL-terminated into the caller's buffer `(buf, cap)` (at most
/// 105 bytes with the NUL); the length without the NUL goes to `*len_out`.
/// `KSEF_ERR_BUFFER_TOO_SMALL` with the needed size (with the NUL) in `*len_out`.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// As `ksef_qr_invoice_url`; `buf` is NULL or writable for `cap` bytes; `len_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_invoice_url_into(
    env: *const std::ffi::c_char,
    env_len: usize,
    xml: *const u8,
    xml_len: usize,
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> ksef_result {
    guard(|| {
        out(len_out, "len_out")?;
        // SAFETY: documented contract.
        let link = unsafe { invoice_link(env, env_len, xml, xml_len) }?;
        let mut url = [0u8; InvoiceLink::MAX_URL_LEN];
        text_into(link.write_url(&mut url)?, buf, cap, len_out)
    })
}

/// The KOD I link from its parts, allocation-free: the seller NIP (10 digits, `Podmiot1`),
/// the issue date `P_1` (`YYYY-MM-DD`) and the SHA-256 of the exact invoice bytes
/// (`hash[32]`, e.g. from `ksef_sha256` or the incremental hasher), NUL-terminated into
/// `(buf, cap)` as `ksef_qr_invoice_url_into`.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `env`, `seller_nip`, `issue_date` point to their lengths of readable bytes; `hash` is
/// readable for 32 bytes; `buf` is NULL or writable for `cap` bytes; `len_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_invoice_url_from_hash_into(
    env: *const std::ffi::c_char,
    env_len: usize,
    seller_nip: *const std::ffi::c_char,
    seller_nip_len: usize,
    issue_date: *const std::ffi::c_char,
    issue_date_len: usize,
    hash: *const u8,
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> ksef_result {
    guard(|| {
        out(len_out, "len_out")?;
        // SAFETY: documented contract.
        let env = unsafe { env_of(env, env_len) }?;
        // SAFETY: documented contract.
        let nip = unsafe { utf8(seller_nip, seller_nip_len, "seller_nip") }?;
        // SAFETY: documented contract.
        let d = unsafe { utf8(issue_date, issue_date_len, "issue_date") }?;
        let date: Date = d
            .parse()
            .map_err(|_| invalid("issue_date", format!("`{d}` is not a date (YYYY-MM-DD)")))?;
        if hash.is_null() {
            return Err(null("hash").into());
        }
        // SAFETY: `hash` is readable for 32 bytes (documented).
        let h: [u8; 32] = unsafe { *hash.cast::<[u8; 32]>() };
        let link =
            InvoiceLink::new(env, nip, date, Sha256Hash(h)).map_err(|e| e.at("seller_nip"))?;
        let mut url = [0u8; InvoiceLink::MAX_URL_LEN];
        text_into(link.write_url(&mut url)?, buf, cap, len_out)
    })
}

// ---------------------------------------------------------------------------------------
// KOD II

/// The inputs of a KOD II link, read and checked.
struct CertInputs<'a> {
    link: InvoiceLink,
    context_type: ContextType,
    context_value: &'a str,
    serial: &'a str,
    key: PrivateKey,
}

#[allow(clippy::too_many_arguments)]
unsafe fn cert_inputs<'a>(
    env: *const std::ffi::c_char,
    env_len: usize,
    xml: *const u8,
    xml_len: usize,
    context_type: *const std::ffi::c_char,
    context_type_len: usize,
    context_value: *const std::ffi::c_char,
    context_value_len: usize,
    certificate_serial: *const std::ffi::c_char,
    certificate_serial_len: usize,
    key: *const u8,
    key_len: usize,
) -> Result<CertInputs<'a>, Error> {
    // SAFETY: forwarded contract (all of them).
    unsafe {
        let link = invoice_link(env, env_len, xml, xml_len)?;
        let ct = utf8(context_type, context_type_len, "context_type")?;
        let context_type = ct
            .parse::<ContextType>()
            .map_err(|e| e.at("context_type"))?;
        let context_value = utf8(context_value, context_value_len, "context_value")?;
        let serial = utf8(
            certificate_serial,
            certificate_serial_len,
            "certificate_serial",
        )?;
        let key_bytes = bytes(key, key_len, "key")?;
        // key errors never carry key material; name the argument
        let key = PrivateKey::from_pem_or_der(key_bytes)
            .map_err(|e| Error::new(e.code(), "key", e.message()))?;
        Ok(CertInputs {
            link,
            context_type,
            context_value,
            serial,
            key,
        })
    }
}

/// Signs the KOD II link and returns its signature (ECDSA: r‖s, deterministic; RSA-PSS with
/// the OS random generator for the salt).
fn signature(link: &CertificateLink<'_>, key: &PrivateKey) -> Result<Vec<u8>, Error> {
    sign::sign(link, key, &mut rand_core::OsRng)
}

fn certificate_link<'a>(i: &'a CertInputs<'a>) -> Result<CertificateLink<'a>, Error> {
    i.link
        .certificate_link(i.context_type, i.context_value, i.serial)
        .map_err(|e| {
            let at = match e.path() {
                "contextValue" => "context_value",
                "certificateSerial" => "certificate_serial",
                other => other,
            };
            Error::new(e.code(), at, e.message())
        })
}

/// The signed KOD II link of an invoice file (`https://qr-test.ksef.mf.gov.pl/certificate/
/// {context type}/{context value}/{seller NIP}/{certificate serial}/{hash}/{signature}`) into
/// a new buffer in `*url_out`. `context_type` is `Nip`, `InternalId`, `NipVatUe` or
/// `PeppolId` (case ignored), `context_value` the issuer's login context identifier,
/// `certificate_serial` the serial of the issuer's KSeF certificate of type `Offline` in
/// hexadecimal (`ksef_certificate_serial_hex`), `key` that certificate's private key (PEM
/// or DER: PKCS#8, SEC1 or PKCS#1; EC P-256 gives ECDSA r‖s, RSA ≥ 2048 bits RSA-PSS with a
/// random salt from the OS). The key is not kept, and never appears in errors.
/// Errors: `KSEF_ERR_QR_LINK` (bad context value or serial, path the argument),
/// `KSEF_ERR_CRYPTO_KEY` (path `key`), `KSEF_ERR_QR_SIGN`, the XML reader's errors.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// Every `(ptr, len)` pair points to that many readable bytes (NULL only with length 0);
/// `url_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_certificate_url(
    env: *const std::ffi::c_char,
    env_len: usize,
    xml: *const u8,
    xml_len: usize,
    context_type: *const std::ffi::c_char,
    context_type_len: usize,
    context_value: *const std::ffi::c_char,
    context_value_len: usize,
    certificate_serial: *const std::ffi::c_char,
    certificate_serial_len: usize,
    key: *const u8,
    key_len: usize,
    url_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(url_out, "url_out")?;
        // SAFETY: documented contract.
        let i = unsafe {
            cert_inputs(
                env,
                env_len,
                xml,
                xml_len,
                context_type,
                context_type_len,
                context_value,
                context_value_len,
                certificate_serial,
                certificate_serial_len,
                key,
                key_len,
            )
        }?;
        let link = certificate_link(&i)?;
        let sig = signature(&link, &i.key)?;
        give_buffer(o, link.url(&sig)?.into_bytes());
        Ok(())
    })
}

/// As `ksef_qr_certificate_url`, NUL-terminated into the caller's buffer `(buf, cap)`
/// (`KSEF_ERR_BUFFER_TOO_SMALL` with the needed size in `*len_out`; 304 bytes always fit an
/// ECDSA link).
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// As `ksef_qr_certificate_url`; `buf` is NULL or writable for `cap` bytes; `len_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_certificate_url_into(
    env: *const std::ffi::c_char,
    env_len: usize,
    xml: *const u8,
    xml_len: usize,
    context_type: *const std::ffi::c_char,
    context_type_len: usize,
    context_value: *const std::ffi::c_char,
    context_value_len: usize,
    certificate_serial: *const std::ffi::c_char,
    certificate_serial_len: usize,
    key: *const u8,
    key_len: usize,
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> ksef_result {
    guard(|| {
        out(len_out, "len_out")?;
        // SAFETY: documented contract.
        let i = unsafe {
            cert_inputs(
                env,
                env_len,
                xml,
                xml_len,
                context_type,
                context_type_len,
                context_value,
                context_value_len,
                certificate_serial,
                certificate_serial_len,
                key,
                key_len,
            )
        }?;
        let link = certificate_link(&i)?;
        let sig = signature(&link, &i.key)?;
        let mut url = vec![0u8; link.url_len(sig.len())];
        text_into(link.write_url(&sig, &mut url)?, buf, cap, len_out)
    })
}

// ---------------------------------------------------------------------------------------
// Matrix

/// A QR module matrix (byte mode, smallest version for the text). Made by
/// `ksef_qr_matrix_encode`, freed with `ksef_qr_matrix_free`. Read-only after creation:
/// may be read from several threads at once.
pub struct ksef_qr_matrix {
    m: QrMatrix,
}

/// Encodes `text` (e.g. a KOD I/II link) as a QR code at level `ecc` (`'M'` as the official
/// images) into a new matrix handle in `*matrix_out`. `KSEF_ERR_QR_ENCODE` when no QR code
/// holds it; `KSEF_ERR_INVALID_ARGUMENT` for another `ecc`.
/// Thread-safe; the new handle may move between threads but is used from one at a time.
///
/// # Safety
/// `text` points to `text_len` readable bytes (NULL only with length 0); `matrix_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_matrix_encode(
    text: *const std::ffi::c_char,
    text_len: usize,
    ecc: u8,
    matrix_out: *mut *mut ksef_qr_matrix,
) -> ksef_result {
    guard(|| {
        let o = out(matrix_out, "matrix_out")?;
        let ecc = ecc_of(ecc)?;
        // SAFETY: documented contract.
        let t = unsafe { utf8(text, text_len, "text") }?;
        give(
            o,
            ksef_qr_matrix {
                m: QrMatrix::encode(t, ecc)?,
            },
        );
        Ok(())
    })
}

/// Modules per side (21 to 177, without the quiet zone); 0 for a NULL matrix.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `matrix` is NULL or a live matrix.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_matrix_width(matrix: *const ksef_qr_matrix) -> usize {
    std::panic::catch_unwind(|| handle(matrix, "matrix").map_or(0, |m| m.m.size())).unwrap_or(0)
}

/// The QR version (1-40); 0 for a NULL matrix.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `matrix` is NULL or a live matrix.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_matrix_version(matrix: *const ksef_qr_matrix) -> u32 {
    std::panic::catch_unwind(|| handle(matrix, "matrix").map_or(0, |m| u32::from(m.m.version())))
        .unwrap_or(0)
}

/// Whether the module at column `x`, row `y` is dark; false outside the matrix or for a
/// NULL matrix.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `matrix` is NULL or a live matrix.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_matrix_is_dark(
    matrix: *const ksef_qr_matrix,
    x: usize,
    y: usize,
) -> bool {
    std::panic::catch_unwind(|| handle(matrix, "matrix").is_ok_and(|m| m.m.is_dark(x, y)))
        .unwrap_or(false)
}

/// Frees a matrix; NULL is accepted.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `matrix` is NULL or a live matrix, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_matrix_free(matrix: *mut ksef_qr_matrix) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: forwarded contract.
        unsafe { free(matrix) }
    }));
}

/// Encodes `text` at level `ecc` without allocating (for small devices): one byte per
/// module, row by row (1 = dark, 0 = light), `width × width` bytes into `(modules, cap)`;
/// the number of bytes written goes to `*len_out` and the width to `*width_out`.
/// `KSEF_ERR_BUFFER_TOO_SMALL` with the needed size in `*len_out` (441 bytes for version 1,
/// 1681 for a KOD I link at level M). Uses about 8 KB of stack.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `text` points to `text_len` readable bytes; `modules` is NULL or writable for `cap`
/// bytes; `len_out` and `width_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_matrix_into(
    text: *const std::ffi::c_char,
    text_len: usize,
    ecc: u8,
    modules: *mut u8,
    cap: usize,
    len_out: *mut usize,
    width_out: *mut usize,
) -> ksef_result {
    guard(|| {
        let len_out = out(len_out, "len_out")?;
        let width_out = out(width_out, "width_out")?;
        let ecc = ecc_of(ecc)?;
        // SAFETY: documented contract.
        let t = unsafe { utf8(text, text_len, "text") }?;
        let mut temp = [0u8; MAX_BUFFER_LEN];
        let mut code = [0u8; MAX_BUFFER_LEN];
        let m = encode_into(t, ecc, &mut temp, &mut code)?;
        let w = m.size();
        let needed = w * w;
        if modules.is_null() || cap < needed {
            *len_out = needed;
            return Err(Error::buffer_too_small(needed).into());
        }
        // SAFETY: `modules` is writable for `cap >= needed` bytes (documented).
        let dst = unsafe { std::slice::from_raw_parts_mut(modules, needed) };
        for y in 0..w {
            for x in 0..w {
                dst[y * w + x] = u8::from(m.is_dark(x, y));
            }
        }
        *len_out = needed;
        *width_out = w;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Pictures

unsafe fn picture_inputs<'a>(
    text: *const std::ffi::c_char,
    text_len: usize,
    label: *const std::ffi::c_char,
    label_len: usize,
    module_px: u32,
    quiet_zone: u32,
) -> Result<(QrMatrix, &'a str, RenderOptions), Error> {
    // SAFETY: forwarded contract.
    let t = unsafe { utf8(text, text_len, "text") }?;
    // SAFETY: forwarded contract.
    let l = unsafe { utf8(label, label_len, "label") }?;
    let m = QrMatrix::encode(t, DEFAULT_ECC)?;
    let opts = RenderOptions::default()
        .with_module_px(module_px)
        .with_quiet_zone(quiet_zone);
    Ok((m, l, opts))
}

/// A PNG picture (1-bit grayscale) of the QR code of `text` (level M) with `label` centred
/// under it (`OFFLINE` or the KSeF number for KOD I, `CERTYFIKAT` for KOD II; empty = no
/// label) into a new buffer in `*png_out`. `module_px` pixels per module (1-100; 5 as in the
/// official examples), `quiet_zone` modules of white border (0-40; 4 is the minimum of the
/// QR standard). `KSEF_ERR_QR_IMAGE` for sizes out of range or a label the built-in font
/// cannot draw.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `text`, `label` point to their lengths of readable bytes (NULL only with length 0);
/// `png_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_png(
    text: *const std::ffi::c_char,
    text_len: usize,
    label: *const std::ffi::c_char,
    label_len: usize,
    module_px: u32,
    quiet_zone: u32,
    png_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(png_out, "png_out")?;
        // SAFETY: documented contract.
        let (m, l, opts) =
            unsafe { picture_inputs(text, text_len, label, label_len, module_px, quiet_zone) }?;
        let label = (!l.is_empty()).then_some(l);
        give_buffer(o, render::png(&m, label, &opts)?);
        Ok(())
    })
}

/// As `ksef_qr_png`, an SVG picture (UTF-8 text) into a new buffer in `*svg_out`.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// As `ksef_qr_png`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_qr_svg(
    text: *const std::ffi::c_char,
    text_len: usize,
    label: *const std::ffi::c_char,
    label_len: usize,
    module_px: u32,
    quiet_zone: u32,
    svg_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(svg_out, "svg_out")?;
        // SAFETY: documented contract.
        let (m, l, opts) =
            unsafe { picture_inputs(text, text_len, label, label_len, module_px, quiet_zone) }?;
        let label = (!l.is_empty()).then_some(l);
        give_buffer(o, render::svg(&m, label, &opts)?.into_bytes());
        Ok(())
    })
}
