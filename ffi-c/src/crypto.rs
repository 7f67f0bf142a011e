//! Session crypto and signatures: the AES-256-CBC session key (`ksef_session_key`), its
//! RSA-OAEP wrap for KSeF, the encrypted send-invoice body, the encrypted KSeF token, the
//! serial of a certificate, and XAdES-BES signing and verification (AuthTokenRequest).
//!
//! Randomness (key generation, OAEP, nothing else) comes from the operating system. Keys are
//! never part of an error, and a session key's bytes leave the library only through
//! `ksef_session_key_export`. Functions without a handle are thread-safe; a session key is
//! read-only after creation and may be used from several threads at once.

use ksef::crypto::hash::Sha256Hash;
use ksef::crypto::session::{encrypt_ksef_token, IV_LEN, KEY_LEN};
use ksef::crypto::{Certificate, PrivateKey, SessionKey};
use ksef::model::DateTime;
use ksef::xades::{self, AuthTokenRequest, ContextIdentifier, SubjectIdentifierType};
use ksef::{Error, ErrorCode};

use crate::common::{
    bytes, free, give, give_buffer, give_json, guard, handle, into_caller_buffer, invalid,
    ksef_buffer, ksef_result, null, out, text,
};

/// A certificate argument (PEM, DER or bare base64); errors name the argument.
unsafe fn certificate(p: *const u8, len: usize, name: &str) -> Result<Certificate, Error> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(p, len, name) }?;
    if b.is_empty() {
        return Err(invalid(name, "the certificate is empty"));
    }
    Certificate::from_pem_or_der(b).map_err(|e| Error::new(e.code(), name, e.message()))
}

/// A private key argument (PEM or DER); errors name the argument and never carry key bytes.
unsafe fn private_key(p: *const u8, len: usize, name: &str) -> Result<PrivateKey, Error> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(p, len, name) }?;
    if b.is_empty() {
        return Err(invalid(name, "the key is empty"));
    }
    PrivateKey::from_pem_or_der(b).map_err(|e| Error::new(e.code(), name, e.message()))
}

fn array_in<const N: usize>(p: *const u8, name: &str) -> Result<[u8; N], Error> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: `p` is readable for N bytes (documented on every export using it).
    Ok(unsafe { *p.cast::<[u8; N]>() })
}

fn array_out<'a, const N: usize>(p: *mut u8, name: &str) -> Result<&'a mut [u8; N], Error> {
    let p = out(p, name)?;
    // SAFETY: `p` is writable for N bytes (documented on every export using it).
    Ok(unsafe { &mut *(p as *mut u8).cast::<[u8; N]>() })
}

// ---------------------------------------------------------------------------------------
// Session key

/// An AES-256-CBC session key with its IV. Made by `ksef_session_key_generate` or
/// `ksef_session_key_from_parts`, freed (and wiped) with `ksef_session_key_free`. Read-only:
/// may be used from several threads at once.
pub struct ksef_session_key {
    key: SessionKey,
}

/// A new random session key and IV (from the operating system's generator; a new key per
/// session is what KSeF recommends) into `*key_out`.
/// Thread-safe; the new handle may move between threads but is used from one at a time.
///
/// # Safety
/// `key_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_generate(
    key_out: *mut *mut ksef_session_key,
) -> ksef_result {
    guard(|| {
        let o = out(key_out, "key_out")?;
        give(
            o,
            ksef_session_key {
                key: SessionKey::generate(&mut rand_core::OsRng),
            },
        );
        Ok(())
    })
}

/// A session key from the caller's bytes: `key[32]` (AES-256) and `iv[16]` — for a device
/// with its own generator, a key kept for an export, or test vectors. The bytes are copied.
/// Thread-safe; the new handle may move between threads but is used from one at a time.
///
/// # Safety
/// `key` is readable for 32 bytes, `iv` for 16; `key_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_from_parts(
    key: *const u8,
    iv: *const u8,
    key_out: *mut *mut ksef_session_key,
) -> ksef_result {
    guard(|| {
        let o = out(key_out, "key_out")?;
        let k: [u8; KEY_LEN] = array_in(key, "key")?;
        let i: [u8; IV_LEN] = array_in(iv, "iv")?;
        give(
            o,
            ksef_session_key {
                key: SessionKey::from_parts(k, i),
            },
        );
        Ok(())
    })
}

/// Copies the key's 32 bytes to `key_bytes_out` and its IV to `iv_out` (16 bytes). The key
/// is secret: wipe the copy when done.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `key` is a live session key; `key_bytes_out` is writable for 32 bytes, `iv_out` for 16.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_export(
    key: *const ksef_session_key,
    key_bytes_out: *mut u8,
    iv_out: *mut u8,
) -> ksef_result {
    guard(|| {
        let ko: &mut [u8; KEY_LEN] = array_out(key_bytes_out, "key_bytes_out")?;
        let io: &mut [u8; IV_LEN] = array_out(iv_out, "iv_out")?;
        let k = handle(key, "key")?;
        *ko = *k.key.key_bytes();
        *io = *k.key.iv();
        Ok(())
    })
}

/// Frees (and wipes) a session key; NULL is accepted.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `key` is NULL or a live session key, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_free(key: *mut ksef_session_key) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: forwarded contract.
        unsafe { free(key) }
    }));
}

/// AES-256-CBC/PKCS#7 encryption of `data` (the ciphertext only, no IV prefix; 1-16 bytes
/// longer than the input) into a new buffer in `*ciphertext_out`.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `key` is a live session key; `data` points to `data_len` readable bytes (NULL only with
/// length 0); `ciphertext_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_encrypt(
    key: *const ksef_session_key,
    data: *const u8,
    data_len: usize,
    ciphertext_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(ciphertext_out, "ciphertext_out")?;
        let k = handle(key, "key")?;
        // SAFETY: documented contract.
        let d = unsafe { bytes(data, data_len, "data") }?;
        give_buffer(o, k.key.encrypt(d));
        Ok(())
    })
}

/// AES-256-CBC/PKCS#7 decryption (invoices, batch parts, export packages) into a new buffer
/// in `*plaintext_out`. A wrong key or corrupted data is `KSEF_ERR_DECRYPT` (which does not
/// say why).
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// As `ksef_session_key_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_decrypt(
    key: *const ksef_session_key,
    data: *const u8,
    data_len: usize,
    plaintext_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(plaintext_out, "plaintext_out")?;
        let k = handle(key, "key")?;
        // SAFETY: documented contract.
        let d = unsafe { bytes(data, data_len, "data") }?;
        give_buffer(o, k.key.decrypt(d)?);
        Ok(())
    })
}

/// The `encryption` object of an open-session (or export) request as JSON into a new buffer
/// in `*json_out`: `{"encryptedSymmetricKey":..., "initializationVector":...,
/// "publicKeyId":...}` — the key wrapped with RSA-OAEP (SHA-256) under the Ministry's
/// `SymmetricKeyEncryption` certificate `mf_certificate` (PEM, DER or base64, as
/// `GET /security/public-key-certificates` gives it), and that certificate's `publicKeyId`.
/// `KSEF_ERR_CRYPTO_KEY` for a certificate without an RSA key.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `key` is a live session key; `mf_certificate` points to `mf_certificate_len` readable
/// bytes; `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_encryption_info(
    key: *const ksef_session_key,
    mf_certificate: *const u8,
    mf_certificate_len: usize,
    json_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(json_out, "json_out")?;
        let k = handle(key, "key")?;
        // SAFETY: documented contract.
        let cert = unsafe { certificate(mf_certificate, mf_certificate_len, "mf_certificate") }?;
        let pk = cert
            .public_key()
            .map_err(|e| Error::new(e.code(), "mf_certificate", e.message()))?;
        let id = Sha256Hash(cert.public_key_id()?).to_base64();
        let info = k
            .key
            .encryption_info(&pk, Some(&id), &mut rand_core::OsRng)
            .map_err(|e| Error::new(e.code(), "mf_certificate", e.message()))?;
        give_buffer(o, info.to_json().into_bytes());
        Ok(())
    })
}

/// The body of `POST /sessions/online/{ref}/invoices` as JSON into a new buffer in
/// `*json_out`: the invoice's hash and size, the AES-256-CBC ciphertext with its hash and
/// size, and `offlineMode` (`offline` = the invoice was issued in an offline mode).
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `key` is a live session key; `xml` points to `xml_len` readable bytes (the exact invoice
/// file); `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_session_key_encrypt_invoice(
    key: *const ksef_session_key,
    xml: *const u8,
    xml_len: usize,
    offline: bool,
    json_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(json_out, "json_out")?;
        let k = handle(key, "key")?;
        // SAFETY: documented contract.
        let x = unsafe { bytes(xml, xml_len, "xml") }?;
        if x.is_empty() {
            return Err(invalid("xml", "the invoice is empty").into());
        }
        let mut req = k.key.encrypt_invoice(x);
        if offline {
            req = req.offline();
        }
        give_buffer(o, req.to_json().into_bytes());
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// KSeF token, certificates

/// The `encryptedToken` of `POST /auth/ksef-token` (base64 of RSA-OAEP of
/// `"{token}|{timestamp_ms}"`) into a new buffer in `*encrypted_out`. `timestamp_ms` is the
/// challenge's `timestampMs`; `mf_certificate` the Ministry's `KsefTokenEncryption`
/// certificate (PEM, DER or base64). The token is secret: it appears in no error.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `token` points to `token_len` readable bytes, `mf_certificate` to `mf_certificate_len`;
/// `encrypted_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_encrypt_ksef_token(
    token: *const std::ffi::c_char,
    token_len: usize,
    timestamp_ms: i64,
    mf_certificate: *const u8,
    mf_certificate_len: usize,
    encrypted_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(encrypted_out, "encrypted_out")?;
        // SAFETY: documented contract.
        let t = unsafe { text(token, token_len, "token") }?;
        // SAFETY: documented contract.
        let cert = unsafe { certificate(mf_certificate, mf_certificate_len, "mf_certificate") }?;
        let pk = cert
            .public_key()
            .map_err(|e| Error::new(e.code(), "mf_certificate", e.message()))?;
        let enc = encrypt_ksef_token(t, timestamp_ms, &pk, &mut rand_core::OsRng)?;
        give_buffer(o, enc.into_bytes());
        Ok(())
    })
}

/// The serial number of a certificate (PEM, DER or base64) in hexadecimal (upper case, as
/// KOD II links carry it), NUL-terminated into `(buf, cap)`; the length without the NUL to
/// `*len_out`, or `KSEF_ERR_BUFFER_TOO_SMALL` with the needed size (43 bytes always fit).
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `cert` points to `cert_len` readable bytes; `buf` is NULL or writable for `cap` bytes;
/// `len_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_certificate_serial_hex(
    cert: *const u8,
    cert_len: usize,
    buf: *mut std::ffi::c_char,
    cap: usize,
    len_out: *mut usize,
) -> ksef_result {
    guard(|| {
        let len_out = out(len_out, "len_out")?;
        // SAFETY: documented contract.
        let c = unsafe { certificate(cert, cert_len, "cert") }?;
        into_caller_buffer(c.serial_hex().as_bytes(), buf, cap, len_out, true)
    })
}

// ---------------------------------------------------------------------------------------
// XAdES

fn signing_time(unix: i64) -> Result<DateTime, Error> {
    DateTime::from_unix_seconds(unix).ok_or_else(|| {
        invalid(
            "signing_time",
            format!("{unix} seconds since 1970 is out of range"),
        )
    })
}

/// Builds the `AuthTokenRequest` for `challenge` (from `POST /auth/challenge`) in the
/// context `context_type` (`Nip`, `InternalId`, `NipVatUe`, `PeppolId`) / `context_value`,
/// with `subject_type` `certificateSubject` or `certificateFingerprint` (empty = the
/// default `certificateSubject`), and signs it with an enveloped XAdES-BES signature (key
/// and certificate in PEM or DER; EC P-256 or RSA ≥ 2048) at `signing_time` (unix seconds:
/// the library reads no clock) into a new buffer in `*xml_out` — the body of
/// `POST /auth/xades-signature`. Errors: `KSEF_ERR_INVALID_VALUE` (challenge, context),
/// `KSEF_ERR_CRYPTO_KEY` / `KSEF_ERR_CERTIFICATE` (path the argument),
/// `KSEF_ERR_XML_SIGNATURE` (the key is not the certificate's).
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// Every `(ptr, len)` pair points to that many readable bytes (NULL only with length 0);
/// `xml_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_xades_sign_auth_request(
    challenge: *const std::ffi::c_char,
    challenge_len: usize,
    context_type: *const std::ffi::c_char,
    context_type_len: usize,
    context_value: *const std::ffi::c_char,
    context_value_len: usize,
    subject_type: *const std::ffi::c_char,
    subject_type_len: usize,
    key: *const u8,
    key_len: usize,
    cert: *const u8,
    cert_len: usize,
    signing_time_unix: i64,
    xml_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(xml_out, "xml_out")?;
        // SAFETY: documented contract (every argument).
        let (ch, ct, cv, st, k, c) = unsafe {
            (
                text(challenge, challenge_len, "challenge")?,
                text(context_type, context_type_len, "context_type")?,
                text(context_value, context_value_len, "context_value")?,
                text(subject_type, subject_type_len, "subject_type")?,
                private_key(key, key_len, "key")?,
                certificate(cert, cert_len, "cert")?,
            )
        };
        let mut req = AuthTokenRequest::new(ch, ContextIdentifier::parse(ct, cv)?)?;
        if !st.is_empty() {
            req = req.subject_type(st.parse::<SubjectIdentifierType>()?);
        }
        let xml = req.sign(&k, &c, &signing_time(signing_time_unix)?)?;
        give_buffer(o, xml);
        Ok(())
    })
}

/// Signs any XML document with an enveloped XAdES-BES signature (as
/// `ksef_xades_sign_auth_request`, for a document built elsewhere) into a new buffer in
/// `*signed_out`; every byte of the input is kept, the signature goes before the root's end
/// tag.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// Every `(ptr, len)` pair points to that many readable bytes; `signed_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_xades_sign(
    xml: *const u8,
    xml_len: usize,
    key: *const u8,
    key_len: usize,
    cert: *const u8,
    cert_len: usize,
    signing_time_unix: i64,
    signed_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(signed_out, "signed_out")?;
        // SAFETY: documented contract (every argument).
        let (x, k, c) = unsafe {
            (
                bytes(xml, xml_len, "xml")?,
                private_key(key, key_len, "key")?,
                certificate(cert, cert_len, "cert")?,
            )
        };
        let signed = xades::sign_enveloped(x, &k, &c, &signing_time(signing_time_unix)?)?;
        give_buffer(o, signed);
        Ok(())
    })
}

/// Verifies the one enveloped XAdES-BES signature of `xml` (digests, the signing certificate
/// reference, the signature value) and writes what was found as JSON into a new buffer in
/// `*info_out`: `{"algorithm":"http://...#ecdsa-sha256","signing_time":"2026-...Z"|null,
/// "signature_id":"Signature"|null,"references":2,"certificate":{"serial_hex":"...",
/// "subject":"CN=...","issuer":"CN=...","not_before":unix,"not_after":unix,
/// "sha256_fingerprint":"base64"}}`. Whether the certificate is trusted is the caller's
/// policy. Errors: `KSEF_ERR_XML_SIGNATURE`, `KSEF_ERR_SIGNATURE_INVALID`,
/// `KSEF_ERR_SIGNATURE_UNSUPPORTED`, the XML reader's errors.
/// Thread-safe: it touches no shared state.
///
/// # Safety
/// `xml` points to `xml_len` readable bytes; `info_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_xades_verify(
    xml: *const u8,
    xml_len: usize,
    info_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(info_out, "info_out")?;
        // SAFETY: documented contract.
        let x = unsafe { bytes(xml, xml_len, "xml") }?;
        if x.is_empty() {
            return Err(Error::new(ErrorCode::XmlSyntax, "xml", "the document is empty").into());
        }
        let v = xades::verify(x)?;
        let c = &v.certificate;
        let info = serde_json::json!({
            "algorithm": v.algorithm.uri(),
            "signing_time": v.signing_time.as_ref().map(|t| t.to_string()),
            "signature_id": v.signature_id,
            "references": v.references,
            "certificate": {
                "serial_hex": c.serial_hex(),
                "subject": c.subject_rfc4514(),
                "issuer": c.issuer_rfc4514(),
                "not_before": c.not_before(),
                "not_after": c.not_after(),
                "sha256_fingerprint": Sha256Hash(c.sha256_fingerprint()).to_base64(),
            },
        });
        give_json(o, &info)
    })
}
