//! Session crypto: the encrypted KSeF token, the session key, invoice and batch-part
//! encryption, and the matching decryption (for a simulator and for the invoice inbox).
//!
//! What KSeF expects (see `docs/ARCHITECTURE.md`, "Session crypto"):
//!
//! - **KSeF token** (`POST /auth/ksef-token`, `encryptedToken`): RSAES-OAEP with SHA-256 and
//!   MGF1-SHA-256, empty label, of the UTF-8 text `"{token}|{timestampMs}"` (the challenge's
//!   `timestampMs`), under the public key of the `KsefTokenEncryption` certificate; base64.
//! - **Session key** (`POST /sessions/online`, `/sessions/batch`, `/invoices/exports`,
//!   `encryption`): a random 32-byte AES-256 key and a random 16-byte IV; the key is wrapped
//!   with RSA-OAEP (as above) under the `SymmetricKeyEncryption` certificate. The same key and
//!   IV encrypt every invoice of the session and every batch part.
//! - **Invoices and batch parts**: AES-256-CBC with PKCS#7 padding. The IV is **not** prefixed
//!   to the ciphertext (the official docs say so, the official clients and KSeF do not).
//!
//! ```
//! use ksef::crypto::session::{encrypt_ksef_token, SessionKey};
//! use ksef::crypto::Certificate;
//! # fn rng() -> impl rand_core::CryptoRngCore { rand_core::OsRng }
//! # let pem = include_str!("../../tests/fixtures/crypto/rsa2048.cert.pem");
//! let mf_cert = Certificate::from_pem(pem)?; // from /security/public-key-certificates
//! let mf_key = mf_cert.public_key()?;
//! let mut rng = rng();
//!
//! // Authentication with a KSeF token.
//! let encrypted_token = encrypt_ksef_token("20251010-EC-…|…", 1_760_000_000_000, &mf_key, &mut rng)?;
//! assert_eq!(encrypted_token.len(), 344); // base64 of 256 bytes
//!
//! // An online session: the `encryption` object, then each invoice.
//! let key = SessionKey::generate(&mut rng);
//! let encryption = key.encryption_info(&mf_key, None, &mut rng)?;
//! let open_session_body = format!(
//!     r#"{{"formCode":{{"systemCode":"FA (3)","schemaVersion":"1-0E","value":"FA"}},"encryption":{}}}"#,
//!     encryption.to_json()
//! );
//! let send = key.encrypt_invoice(b"<Faktura>...</Faktura>");
//! let body = send.to_json(); // POST /sessions/online/{ref}/invoices
//! # assert!(open_session_body.contains("encryptedSymmetricKey"));
//! # assert!(body.contains("\"invoiceSize\":22"));
//! # Ok::<(), ksef::Error>(())
//! ```
//!
//! RSA private-key operations ([`rsa_oaep_decrypt`], [`SessionKey::from_encryption_info`],
//! [`decrypt_ksef_token`]) are subject to RUSTSEC-2023-0071, see [`crate::crypto::keys`]; they
//! use RSA blinding with the RNG passed in, which does not fully remove that side channel.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::keys::{PrivateKey, PublicKey};
use crate::error::{Error, ErrorCode};

/// AES-256 key length in bytes.
pub const KEY_LEN: usize = 32;
/// AES-CBC IV length in bytes.
pub const IV_LEN: usize = 16;
/// The largest batch part KSeF accepts, before encryption, in bytes (100 MB).
pub const MAX_BATCH_PART_SIZE: usize = 100_000_000;
/// The most parts a batch may have.
pub const MAX_BATCH_PARTS: usize = 50;
/// The largest batch archive (before encryption), in bytes (5 GB).
pub const MAX_BATCH_FILE_SIZE: u64 = 5_000_000_000;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn sha256_b64(bytes: &[u8]) -> String {
    b64(&Sha256::digest(bytes))
}

fn len_u64(bytes: &[u8]) -> u64 {
    // usize is at most 64 bits on every supported target.
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// Decodes strict standard base64 (padding required), naming the field in the error.
fn b64_field(text: &str, path: &str, code: ErrorCode) -> Result<Vec<u8>, Error> {
    B64.decode(text.as_bytes())
        .map_err(|_| Error::new(code, path, "not valid base64"))
}

// ---------------------------------------------------------------------------------------
// Secrets

/// Equality that does not stop at the first differing byte (lengths are not secret).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Secret bytes (a decrypted key or token): wiped from memory when dropped, `Debug` shows
/// only the length, `==` does not stop at the first differing byte.
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl SecretBytes {
    /// Wraps bytes as a secret.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The secret bytes. Do not log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([redacted; {} bytes])", self.0.len())
    }
}

// ---------------------------------------------------------------------------------------
// RSA-OAEP

fn oaep() -> rsa::Oaep {
    // Label empty, hash SHA-256, MGF1 with SHA-256.
    rsa::Oaep::new::<Sha256>()
}

fn rsa_public(key: &PublicKey) -> Result<&rsa::RsaPublicKey, Error> {
    match key {
        PublicKey::Rsa(k) => Ok(k),
        PublicKey::EcP256(_) => Err(Error::new(
            ErrorCode::CryptoKey,
            "",
            "encryption needs an RSA key: KSeF's EC (ECDH + AES-GCM) variant is not supported",
        )),
    }
}

/// RSAES-OAEP encryption (SHA-256, MGF1-SHA-256, empty label) under an RSA public key.
///
/// The plaintext may be at most `k − 66` bytes (190 for RSA-2048); longer is
/// [`ErrorCode::Encrypt`]; an EC key is [`ErrorCode::CryptoKey`].
pub fn rsa_oaep_encrypt(
    key: &PublicKey,
    plaintext: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, Error> {
    let pk = rsa_public(key)?;
    pk.encrypt(rng, oaep(), plaintext).map_err(|e| {
        Error::new(
            ErrorCode::Encrypt,
            "",
            format!("RSA-OAEP encryption failed: {e}"),
        )
    })
}

/// RSAES-OAEP decryption (SHA-256, MGF1-SHA-256, empty label) with an RSA private key.
///
/// The RNG blinds the RSA operation. Any failure (wrong key, corrupted ciphertext) is one
/// [`ErrorCode::Decrypt`] error that does not say why (no padding oracle). See
/// RUSTSEC-2023-0071 in [`crate::crypto::keys`].
pub fn rsa_oaep_decrypt(
    key: &PrivateKey,
    ciphertext: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<SecretBytes, Error> {
    let sk = match key {
        PrivateKey::Rsa(k) => k,
        PrivateKey::EcP256(_) => {
            return Err(Error::new(
                ErrorCode::CryptoKey,
                "",
                "RSA-OAEP decryption needs an RSA private key",
            ))
        }
    };
    sk.decrypt_blinded(rng, oaep(), ciphertext)
        .map(SecretBytes::new)
        .map_err(|_| Error::new(ErrorCode::Decrypt, "", "RSA-OAEP decryption failed"))
}

// ---------------------------------------------------------------------------------------
// KSeF token

/// The `encryptedToken` of `POST /auth/ksef-token`: base64 of RSA-OAEP of
/// `"{token}|{timestamp_ms}"`, where `timestamp_ms` is the challenge's `timestampMs` and
/// `key` the public key of the `KsefTokenEncryption` certificate.
pub fn encrypt_ksef_token(
    token: &str,
    timestamp_ms: i64,
    key: &PublicKey,
    rng: &mut impl CryptoRngCore,
) -> Result<String, Error> {
    if token.is_empty() {
        return Err(Error::new(
            ErrorCode::Encrypt,
            "token",
            "the KSeF token is empty",
        ));
    }
    let plaintext = Zeroizing::new(format!("{token}|{timestamp_ms}"));
    let ct = rsa_oaep_encrypt(key, plaintext.as_bytes(), rng)?;
    Ok(b64(&ct))
}

/// A decrypted `encryptedToken`: the KSeF token and the challenge timestamp it was bound to.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedKsefToken {
    token: Zeroizing<String>,
    timestamp_ms: i64,
}

impl DecryptedKsefToken {
    /// The KSeF token. Do not log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The challenge timestamp (unix milliseconds).
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }
}

impl fmt::Debug for DecryptedKsefToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedKsefToken")
            .field("token", &"[redacted]")
            .field("timestamp_ms", &self.timestamp_ms)
            .finish()
    }
}

/// Decrypts an `encryptedToken` (the server side of [`encrypt_ksef_token`]). The text is
/// split at its **last** `|` (the token itself contains `|`).
pub fn decrypt_ksef_token(
    encrypted_token_b64: &str,
    key: &PrivateKey,
    rng: &mut impl CryptoRngCore,
) -> Result<DecryptedKsefToken, Error> {
    let ct = b64_field(encrypted_token_b64, "encryptedToken", ErrorCode::Decrypt)?;
    let pt = rsa_oaep_decrypt(key, &ct, rng)?;
    let text = core::str::from_utf8(pt.expose()).map_err(|_| {
        Error::new(
            ErrorCode::Decrypt,
            "encryptedToken",
            "the plaintext is not UTF-8",
        )
    })?;
    let bad = || {
        Error::new(
            ErrorCode::Decrypt,
            "encryptedToken",
            "the plaintext is not `token|timestampMs`",
        )
    };
    let (token, ts) = text.rsplit_once('|').ok_or_else(bad)?;
    if token.is_empty() || ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let timestamp_ms: i64 = ts.parse().map_err(|_| bad())?;
    Ok(DecryptedKsefToken {
        token: Zeroizing::new(String::from(token)),
        timestamp_ms,
    })
}

// ---------------------------------------------------------------------------------------
// Session key

/// The symmetric key of an online or batch session (or of an invoice export): AES-256 key
/// and CBC IV. `Debug` never shows them; they are wiped from memory when dropped; `==` does
/// not stop at the first differing byte.
#[derive(Clone)]
pub struct SessionKey {
    key: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

impl PartialEq for SessionKey {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.key, &other.key) & ct_eq(&self.iv, &other.iv)
    }
}

impl Eq for SessionKey {}

impl Drop for SessionKey {
    fn drop(&mut self) {
        self.key.zeroize();
        self.iv.zeroize();
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

impl SessionKey {
    /// A new random key and IV (a new key per session is what KSeF recommends).
    pub fn generate(rng: &mut impl CryptoRngCore) -> SessionKey {
        let mut k = SessionKey {
            key: [0; KEY_LEN],
            iv: [0; IV_LEN],
        };
        rng.fill_bytes(&mut k.key);
        rng.fill_bytes(&mut k.iv);
        k
    }

    /// A key from known bytes (test vectors, or a key kept by the caller for an export).
    pub fn from_parts(key: [u8; KEY_LEN], iv: [u8; IV_LEN]) -> SessionKey {
        SessionKey { key, iv }
    }

    /// The AES-256 key. Secret: do not log it.
    pub fn key_bytes(&self) -> &[u8; KEY_LEN] {
        &self.key
    }

    /// The IV (sent in clear as `initializationVector`).
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// The `encryption` object of the open-session (and export) request: the key wrapped with
    /// RSA-OAEP under `mf_key` (the `SymmetricKeyEncryption` certificate's key), the IV, and
    /// the optional `publicKeyId` of that certificate (base64, 44 characters).
    pub fn encryption_info(
        &self,
        mf_key: &PublicKey,
        public_key_id: Option<&str>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<EncryptionInfo, Error> {
        let wrapped = rsa_oaep_encrypt(mf_key, &self.key, rng)?;
        Ok(EncryptionInfo {
            encrypted_symmetric_key: b64(&wrapped),
            initialization_vector: b64(&self.iv),
            public_key_id: public_key_id.map(String::from),
        })
    }

    /// Unwraps the key of an `encryption` object with the private key (the server side).
    pub fn from_encryption_info(
        info: &EncryptionInfo,
        key: &PrivateKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<SessionKey, Error> {
        let iv_bytes = b64_field(
            &info.initialization_vector,
            "initializationVector",
            ErrorCode::Decrypt,
        )?;
        let iv: [u8; IV_LEN] = iv_bytes.as_slice().try_into().map_err(|_| {
            Error::new(
                ErrorCode::Decrypt,
                "initializationVector",
                format!("expected 16 bytes, got {}", iv_bytes.len()),
            )
        })?;
        let wrapped = b64_field(
            &info.encrypted_symmetric_key,
            "encryptedSymmetricKey",
            ErrorCode::Decrypt,
        )?;
        let raw = rsa_oaep_decrypt(key, &wrapped, rng)
            .map_err(|e| Error::new(e.code(), "encryptedSymmetricKey", e.message()))?;
        let key: [u8; KEY_LEN] = raw.expose().try_into().map_err(|_| {
            Error::new(
                ErrorCode::Decrypt,
                "encryptedSymmetricKey",
                format!("expected a 32-byte key, got {} bytes", raw.len()),
            )
        })?;
        Ok(SessionKey { key, iv })
    }

    /// AES-256-CBC/PKCS#7 encryption; the output is the ciphertext only (no IV prefix), 1–16
    /// bytes longer than the input.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        Aes256CbcEnc::new(&self.key.into(), &self.iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext)
    }

    /// AES-256-CBC/PKCS#7 decryption of [`SessionKey::encrypt`]'s output (invoices, batch
    /// parts, export package parts). A wrong key or corrupted data is [`ErrorCode::Decrypt`].
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, Error> {
        if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
            return Err(Error::new(
                ErrorCode::Decrypt,
                "",
                format!(
                    "AES-CBC ciphertext of {} bytes is not a positive multiple of 16",
                    ciphertext.len()
                ),
            ));
        }
        Aes256CbcDec::new(&self.key.into(), &self.iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map_err(|_| {
                Error::new(
                    ErrorCode::Decrypt,
                    "",
                    "AES-CBC decryption failed (wrong key or IV, or corrupted data)",
                )
            })
    }

    /// A streaming AES-256-CBC encryptor with this key and IV: the same ciphertext as
    /// [`SessionKey::encrypt`], produced chunk by chunk (a batch part that is never whole in
    /// memory).
    pub fn stream_encryptor(&self) -> StreamEncryptor {
        StreamEncryptor(Aes256CbcEnc::new(&self.key.into(), &self.iv.into()))
    }

    /// Encrypts one invoice (the exact XML bytes) into the body of
    /// `POST /sessions/online/{ref}/invoices` (`offlineMode` false; see
    /// [`SendInvoiceRequest::offline`] and [`SendInvoiceRequest::technical_correction`]).
    pub fn encrypt_invoice(&self, invoice_xml: &[u8]) -> SendInvoiceRequest {
        let ct = self.encrypt(invoice_xml);
        SendInvoiceRequest {
            invoice_hash: sha256_b64(invoice_xml),
            invoice_size: len_u64(invoice_xml),
            encrypted_invoice_hash: sha256_b64(&ct),
            encrypted_invoice_size: len_u64(&ct),
            encrypted_invoice_content: b64(&ct),
            offline_mode: false,
            hash_of_corrected_invoice: None,
        }
    }

    /// Encrypts one batch part (bytes of the archive, at most [`MAX_BATCH_PART_SIZE`]) and
    /// gives its `fileParts` entry (size and hash of the **encrypted** part).
    pub fn encrypt_batch_part(
        &self,
        ordinal_number: u32,
        part: &[u8],
    ) -> Result<EncryptedBatchPart, Error> {
        if part.is_empty() || part.len() > MAX_BATCH_PART_SIZE {
            return Err(Error::new(
                ErrorCode::Encrypt,
                format!("fileParts[{ordinal_number}]"),
                format!(
                    "a batch part must have 1 to {MAX_BATCH_PART_SIZE} bytes, not {}",
                    part.len()
                ),
            ));
        }
        if ordinal_number == 0 {
            return Err(Error::new(
                ErrorCode::Encrypt,
                "ordinalNumber",
                "batch parts are numbered from 1",
            ));
        }
        let encrypted = self.encrypt(part);
        Ok(EncryptedBatchPart {
            info: BatchFilePartInfo {
                ordinal_number,
                file_size: len_u64(&encrypted),
                file_hash: sha256_b64(&encrypted),
            },
            encrypted,
        })
    }

    /// Splits a whole batch archive (ZIP or tar.gz bytes) into parts of at most
    /// `max_part_size` bytes (capped at [`MAX_BATCH_PART_SIZE`]), encrypts each part, and gives
    /// the `batchFile` object (size and hash of the whole **unencrypted** archive, and the
    /// parts). More than [`MAX_BATCH_PARTS`] parts or more than [`MAX_BATCH_FILE_SIZE`] bytes
    /// is [`ErrorCode::Encrypt`].
    pub fn encrypt_batch(
        &self,
        archive: &[u8],
        compression: Option<CompressionType>,
        max_part_size: usize,
    ) -> Result<EncryptedBatch, Error> {
        if archive.is_empty() {
            return Err(Error::new(
                ErrorCode::Encrypt,
                "batchFile",
                "the archive is empty",
            ));
        }
        if len_u64(archive) > MAX_BATCH_FILE_SIZE {
            return Err(Error::new(
                ErrorCode::Encrypt,
                "batchFile.fileSize",
                format!("the archive exceeds {MAX_BATCH_FILE_SIZE} bytes"),
            ));
        }
        let size = max_part_size.clamp(1, MAX_BATCH_PART_SIZE);
        let count = archive.len().div_ceil(size);
        if count > MAX_BATCH_PARTS {
            return Err(Error::new(
                ErrorCode::Encrypt,
                "batchFile.fileParts",
                format!("{count} parts of {size} bytes exceed the limit of {MAX_BATCH_PARTS}"),
            ));
        }
        let mut parts = Vec::with_capacity(count);
        for (i, chunk) in archive.chunks(size).enumerate() {
            let ordinal = u32::try_from(i + 1).unwrap_or(u32::MAX);
            parts.push(self.encrypt_batch_part(ordinal, chunk)?);
        }
        Ok(EncryptedBatch {
            batch_file: BatchFileInfo {
                file_size: len_u64(archive),
                file_hash: sha256_b64(archive),
                compression_type: compression,
                file_parts: parts.iter().map(|p| p.info.clone()).collect(),
            },
            parts: parts.into_iter().map(|p| p.encrypted).collect(),
        })
    }
}

/// AES-256-CBC over a stream (see [`SessionKey::stream_encryptor`]): whole blocks with
/// [`StreamEncryptor::update`], then the PKCS#7-padded tail with [`StreamEncryptor::finish`].
pub struct StreamEncryptor(Aes256CbcEnc);

impl fmt::Debug for StreamEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamEncryptor([redacted])")
    }
}

impl StreamEncryptor {
    /// Encrypts `plain` (a multiple of 16 bytes) into `out` (the same length); the chain
    /// carries over to the next call. Other lengths are [`ErrorCode::Encrypt`].
    pub fn update(&mut self, plain: &[u8], out: &mut [u8]) -> Result<(), Error> {
        use aes::cipher::inout::InOutBuf;
        let buf = InOutBuf::new(plain, out)
            .map_err(|_| Error::new(ErrorCode::Encrypt, "", "input and output lengths differ"))?;
        let (blocks, tail) = buf.into_chunks();
        if !tail.is_empty() {
            return Err(Error::new(
                ErrorCode::Encrypt,
                "",
                "a streamed AES-CBC chunk must be a multiple of 16 bytes",
            ));
        }
        self.0.encrypt_blocks_inout_mut(blocks);
        Ok(())
    }

    /// Pads the last `tail` bytes (fewer than 16) with PKCS#7 and gives the final block.
    pub fn finish(mut self, tail: &[u8]) -> Result<[u8; 16], Error> {
        let n = tail.len();
        if n >= 16 {
            return Err(Error::new(
                ErrorCode::Encrypt,
                "",
                "the tail before padding must be shorter than 16 bytes",
            ));
        }
        let mut block = [(16 - n) as u8; 16];
        block[..n].copy_from_slice(tail);
        self.0
            .encrypt_block_mut(aes::cipher::generic_array::GenericArray::from_mut_slice(
                &mut block,
            ));
        Ok(block)
    }
}

// ---------------------------------------------------------------------------------------
// Request bodies

fn json_error(e: &serde_json::Error) -> Error {
    let code = if e.is_syntax() || e.is_eof() {
        ErrorCode::JsonSyntax
    } else {
        ErrorCode::InvalidValue
    };
    Error::new(
        code,
        format!("line {}, column {}", e.line(), e.column()),
        format!("{e}"),
    )
}

fn to_json_string<T: Serialize>(value: &T) -> String {
    // These structures hold only strings, integers and booleans: serializing cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Checks a field holding base64 of a SHA-256 digest (OpenAPI `Sha256HashBase64`).
fn check_hash_field(value: &str, path: &str) -> Result<[u8; 32], Error> {
    let bytes = b64_field(value, path, ErrorCode::InvalidValue)?;
    bytes.as_slice().try_into().map_err(|_| {
        Error::new(
            ErrorCode::InvalidValue,
            path,
            "expected base64 of a 32-byte SHA-256 digest (44 characters)",
        )
    })
}

fn mismatch(path: &str, what: &str) -> Error {
    Error::new(
        ErrorCode::IntegrityCheck,
        path,
        format!("{what} does not match the data"),
    )
}

/// The `encryption` object (OpenAPI `EncryptionInfo`) of `POST /sessions/online`,
/// `/sessions/batch` and `/invoices/exports`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionInfo {
    /// Base64 of the RSA-OAEP-wrapped 32-byte key.
    pub encrypted_symmetric_key: String,
    /// Base64 of the 16-byte IV.
    pub initialization_vector: String,
    /// Base64 SHA-256 of the MF key's `SubjectPublicKeyInfo` (optional, recommended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_id: Option<String>,
}

impl EncryptionInfo {
    /// The JSON object, field names as in the OpenAPI (`publicKeyId` only when set).
    pub fn to_json(&self) -> String {
        to_json_string(self)
    }

    /// Reads the JSON object (the server side).
    pub fn from_json(json: &str) -> Result<EncryptionInfo, Error> {
        serde_json::from_str(json).map_err(|e| json_error(&e))
    }
}

/// The body of `POST /sessions/online/{ref}/invoices` (OpenAPI `SendInvoiceRequest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendInvoiceRequest {
    /// Base64 SHA-256 of the exact invoice bytes.
    pub invoice_hash: String,
    /// Size of the invoice in bytes.
    pub invoice_size: u64,
    /// Base64 SHA-256 of the ciphertext.
    pub encrypted_invoice_hash: String,
    /// Size of the ciphertext in bytes.
    pub encrypted_invoice_size: u64,
    /// Base64 of the ciphertext (AES-256-CBC/PKCS#7, no IV prefix).
    pub encrypted_invoice_content: String,
    /// The invoice was issued in an offline mode.
    #[serde(default)]
    pub offline_mode: bool,
    /// Base64 SHA-256 of the rejected offline invoice this one technically corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_of_corrected_invoice: Option<String>,
}

impl SendInvoiceRequest {
    /// Marks the invoice as issued in an offline mode (`offlineMode: true`).
    pub fn offline(mut self) -> SendInvoiceRequest {
        self.offline_mode = true;
        self
    }

    /// Makes this a technical correction of a rejected offline invoice: `offlineMode: true`
    /// and `hashOfCorrectedInvoice` = base64 of `corrected_sha256`, the SHA-256 of the exact
    /// bytes of the rejected invoice. Only for offline invoices, only in an online session;
    /// an ordinary correction invoice (KOR) does not use this field.
    pub fn technical_correction(mut self, corrected_sha256: &[u8; 32]) -> SendInvoiceRequest {
        self.offline_mode = true;
        self.hash_of_corrected_invoice = Some(b64(corrected_sha256));
        self
    }

    /// The JSON body, field names and order as in the OpenAPI (`hashOfCorrectedInvoice` only
    /// when set; `offlineMode` always written).
    pub fn to_json(&self) -> String {
        to_json_string(self)
    }

    /// Reads the JSON body (the server side). Checks the shape of the hashes (base64 of 32
    /// bytes) and that sizes are positive; [`SendInvoiceRequest::open`] checks the content.
    pub fn from_json(json: &str) -> Result<SendInvoiceRequest, Error> {
        let r: SendInvoiceRequest = serde_json::from_str(json).map_err(|e| json_error(&e))?;
        check_hash_field(&r.invoice_hash, "invoiceHash")?;
        check_hash_field(&r.encrypted_invoice_hash, "encryptedInvoiceHash")?;
        if let Some(h) = &r.hash_of_corrected_invoice {
            check_hash_field(h, "hashOfCorrectedInvoice")?;
        }
        for (size, path) in [
            (r.invoice_size, "invoiceSize"),
            (r.encrypted_invoice_size, "encryptedInvoiceSize"),
        ] {
            if size == 0 {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    path,
                    "must be at least 1",
                ));
            }
        }
        Ok(r)
    }

    /// Decrypts the invoice and checks every declared size and hash (the server side):
    /// a mismatch is [`ErrorCode::IntegrityCheck`] with the field as path (KSeF answers
    /// 21402 for sizes, 21403 for hashes), bad ciphertext is [`ErrorCode::Decrypt`].
    pub fn open(&self, key: &SessionKey) -> Result<Vec<u8>, Error> {
        let ct = b64_field(
            &self.encrypted_invoice_content,
            "encryptedInvoiceContent",
            ErrorCode::InvalidValue,
        )?;
        if len_u64(&ct) != self.encrypted_invoice_size {
            return Err(mismatch("encryptedInvoiceSize", "the encrypted size"));
        }
        if sha256_b64(&ct) != self.encrypted_invoice_hash {
            return Err(mismatch("encryptedInvoiceHash", "the encrypted hash"));
        }
        let pt = key
            .decrypt(&ct)
            .map_err(|e| Error::new(e.code(), "encryptedInvoiceContent", e.message()))?;
        if len_u64(&pt) != self.invoice_size {
            return Err(mismatch("invoiceSize", "the invoice size"));
        }
        if sha256_b64(&pt) != self.invoice_hash {
            return Err(mismatch("invoiceHash", "the invoice hash"));
        }
        Ok(pt)
    }
}

/// The compression of a batch archive (OpenAPI `CompressionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompressionType {
    /// A ZIP archive (the default when absent).
    Zip,
    /// A gzip-compressed tar archive (since API 2.6.0).
    TarGz,
}

/// One entry of `batchFile.fileParts` (OpenAPI `BatchFilePartInfo`): size and hash of the
/// **encrypted** part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchFilePartInfo {
    /// 1-based number of the part.
    pub ordinal_number: u32,
    /// Size of the encrypted part in bytes.
    pub file_size: u64,
    /// Base64 SHA-256 of the encrypted part.
    pub file_hash: String,
}

impl BatchFilePartInfo {
    /// Checks an uploaded encrypted part against this entry (the server side).
    pub fn check(&self, encrypted_part: &[u8]) -> Result<(), Error> {
        if len_u64(encrypted_part) != self.file_size {
            return Err(mismatch("fileSize", "the part size"));
        }
        if sha256_b64(encrypted_part) != self.file_hash {
            return Err(mismatch("fileHash", "the part hash"));
        }
        Ok(())
    }
}

/// The `batchFile` object of `POST /sessions/batch` (OpenAPI `BatchFileInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchFileInfo {
    /// Size of the whole **unencrypted** archive in bytes.
    pub file_size: u64,
    /// Base64 SHA-256 of the whole unencrypted archive.
    pub file_hash: String,
    /// Zip (default when absent) or TarGz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_type: Option<CompressionType>,
    /// The parts, in order.
    pub file_parts: Vec<BatchFilePartInfo>,
}

impl BatchFileInfo {
    /// The JSON object, field names as in the OpenAPI.
    pub fn to_json(&self) -> String {
        to_json_string(self)
    }

    /// Reads the JSON object (the server side).
    pub fn from_json(json: &str) -> Result<BatchFileInfo, Error> {
        serde_json::from_str(json).map_err(|e| json_error(&e))
    }

    /// Checks the reassembled archive (the decrypted parts concatenated) against the
    /// declared size and hash.
    pub fn check_archive(&self, archive: &[u8]) -> Result<(), Error> {
        if len_u64(archive) != self.file_size {
            return Err(mismatch("fileSize", "the archive size"));
        }
        if sha256_b64(archive) != self.file_hash {
            return Err(mismatch("fileHash", "the archive hash"));
        }
        Ok(())
    }
}

/// One encrypted batch part and its `fileParts` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedBatchPart {
    /// The `fileParts` entry.
    pub info: BatchFilePartInfo,
    /// The bytes to upload (`PUT` to the part's pre-signed URL).
    pub encrypted: Vec<u8>,
}

/// A whole batch, split and encrypted: the `batchFile` object and the parts to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedBatch {
    /// The `batchFile` object of the open-batch-session request.
    pub batch_file: BatchFileInfo,
    /// The encrypted parts, in order (`parts[i]` belongs to `batch_file.file_parts[i]`).
    pub parts: Vec<Vec<u8>>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    /// A deterministic RNG for tests (SHA-256 in counter mode). NOT for real use.
    pub(crate) struct TestRng(u64);

    impl TestRng {
        pub(crate) fn new(seed: u64) -> TestRng {
            TestRng(seed.wrapping_mul(1_000_003))
        }
    }

    impl rand_core::RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0; 4];
            self.fill_bytes(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0; 8];
            self.fill_bytes(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for chunk in dest.chunks_mut(32) {
                self.0 = self.0.wrapping_add(1);
                let block = Sha256::digest(self.0.to_le_bytes());
                chunk.copy_from_slice(&block[..chunk.len()]);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rand_core::CryptoRng for TestRng {}

    const RSA_KEY: &str = include_str!("../../tests/fixtures/crypto/rsa2048.pkcs8.pem");
    const EC_KEY: &str = include_str!("../../tests/fixtures/crypto/ec-p256.pkcs8.pem");

    fn vector_key() -> SessionKey {
        let mut key = [0u8; 32];
        let mut iv = [0u8; 16];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        for (i, b) in iv.iter_mut().enumerate() {
            *b = i as u8;
        }
        SessionKey::from_parts(key, iv)
    }

    #[test]
    fn aes_known_answer() {
        // test-vectors/ksef-test-vectors.json#aes_session.small
        let k = vector_key();
        let ct = k.encrypt(b"<Faktura/>");
        assert_eq!(b64(&ct), "oX5YCml7vvY4PleLxBsPBQ==");
        assert_eq!(k.decrypt(&ct).unwrap(), b"<Faktura/>");
        let info = k
            .encryption_info(
                &PrivateKey::from_pem(RSA_KEY).unwrap().public_key(),
                None,
                &mut TestRng::new(1),
            )
            .unwrap();
        assert_eq!(info.initialization_vector, "AAECAwQFBgcICQoLDA0ODw==");
    }

    #[test]
    fn padding_sizes() {
        let k = SessionKey::generate(&mut TestRng::new(2));
        for n in [0usize, 1, 15, 16, 17, 31, 32, 1000] {
            let pt = vec![0xA5u8; n];
            let ct = k.encrypt(&pt);
            assert_eq!(ct.len(), (n / 16 + 1) * 16, "n={n}");
            assert_eq!(k.decrypt(&ct).unwrap(), pt);
        }
    }

    #[test]
    fn decrypt_errors_are_typed() {
        let k = vector_key();
        let other = SessionKey::generate(&mut TestRng::new(3));
        let ct = k.encrypt(b"some invoice bytes, long enough");
        assert_eq!(k.decrypt(&[]).unwrap_err().code(), ErrorCode::Decrypt);
        assert_eq!(
            k.decrypt(&ct[..ct.len() - 1]).unwrap_err().code(),
            ErrorCode::Decrypt
        );
        // A wrong key gives bad padding almost always; with this key and data it does.
        assert_eq!(other.decrypt(&ct).unwrap_err().code(), ErrorCode::Decrypt);
    }

    #[test]
    fn generated_keys_differ_and_are_redacted() {
        let mut rng = TestRng::new(4);
        let a = SessionKey::generate(&mut rng);
        let b = SessionKey::generate(&mut rng);
        assert_ne!(a, b);
        assert_ne!(a.key_bytes()[..16], a.iv()[..]);
        assert_eq!(format!("{a:?}"), "SessionKey([redacted])");
        assert_eq!(a, SessionKey::from_parts(*a.key_bytes(), *a.iv()));
        assert_ne!(a, SessionKey::from_parts(*a.key_bytes(), *b.iv()));
        assert_ne!(a, SessionKey::from_parts(*b.key_bytes(), *a.iv()));
        assert_eq!(SecretBytes::new(vec![1, 2]), SecretBytes::new(vec![1, 2]));
        assert_ne!(SecretBytes::new(vec![1, 2]), SecretBytes::new(vec![1, 3]));
        assert_ne!(
            SecretBytes::new(vec![1, 2]),
            SecretBytes::new(vec![1, 2, 0])
        );
        let s = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(format!("{s:?}"), "SecretBytes([redacted; 3 bytes])");
    }

    #[test]
    fn key_wrap_round_trip() {
        let sk = PrivateKey::from_pem(RSA_KEY).unwrap();
        let mut rng = TestRng::new(5);
        let k = SessionKey::generate(&mut rng);
        let info = k
            .encryption_info(
                &sk.public_key(),
                Some("NUij6s7nBuXEV0VdT8rISajAHTnU8NJg1LiUTlS4YaA="),
                &mut rng,
            )
            .unwrap();
        assert_eq!(info.encrypted_symmetric_key.len(), 344);
        let json = info.to_json();
        assert!(json.starts_with("{\"encryptedSymmetricKey\":\""), "{json}");
        assert!(
            json.ends_with(",\"publicKeyId\":\"NUij6s7nBuXEV0VdT8rISajAHTnU8NJg1LiUTlS4YaA=\"}")
        );
        let back = EncryptionInfo::from_json(&json).unwrap();
        assert_eq!(back, info);
        assert_eq!(
            SessionKey::from_encryption_info(&back, &sk, &mut rng).unwrap(),
            k
        );
        // Without publicKeyId the field is left out.
        let info = k.encryption_info(&sk.public_key(), None, &mut rng).unwrap();
        assert!(!info.to_json().contains("publicKeyId"));
        // Bad IV length, bad base64, wrong key type.
        let mut bad = info.clone();
        bad.initialization_vector = b64(&[0; 15]);
        let e = SessionKey::from_encryption_info(&bad, &sk, &mut rng).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::Decrypt, "initializationVector")
        );
        let mut bad = info.clone();
        bad.encrypted_symmetric_key = "%%%".to_string();
        let e = SessionKey::from_encryption_info(&bad, &sk, &mut rng).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::Decrypt, "encryptedSymmetricKey")
        );
        let ec = PrivateKey::from_pem(EC_KEY).unwrap();
        let e = SessionKey::from_encryption_info(&info, &ec, &mut rng).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CryptoKey);
        assert_eq!(
            k.encryption_info(&ec.public_key(), None, &mut rng)
                .unwrap_err()
                .code(),
            ErrorCode::CryptoKey
        );
        // A wrapped value that is not 32 bytes.
        let mut wrong = info.clone();
        wrong.encrypted_symmetric_key =
            b64(&rsa_oaep_encrypt(&sk.public_key(), &[1; 16], &mut rng).unwrap());
        let e = SessionKey::from_encryption_info(&wrong, &sk, &mut rng).unwrap_err();
        assert!(e.message().contains("32-byte"), "{e}");
    }

    #[test]
    fn rsa_oaep_limits() {
        let sk = PrivateKey::from_pem(RSA_KEY).unwrap();
        let pk = sk.public_key();
        let mut rng = TestRng::new(6);
        let ok = rsa_oaep_encrypt(&pk, &[7; 190], &mut rng).unwrap();
        assert_eq!(
            rsa_oaep_decrypt(&sk, &ok, &mut rng).unwrap().expose(),
            &[7; 190]
        );
        let e = rsa_oaep_encrypt(&pk, &[7; 191], &mut rng).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Encrypt);
        let mut tampered = ok.clone();
        tampered[100] ^= 1;
        let e = rsa_oaep_decrypt(&sk, &tampered, &mut rng).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Decrypt);
        assert_eq!(
            rsa_oaep_decrypt(&sk, &[1, 2, 3], &mut rng)
                .unwrap_err()
                .code(),
            ErrorCode::Decrypt
        );
    }

    #[test]
    fn ksef_token_round_trip() {
        let sk = PrivateKey::from_pem(RSA_KEY).unwrap();
        let mut rng = TestRng::new(7);
        let token = "20251010-EC-1DCE3E3000-12ECB5B36E-45|internalId-5265877635-12345|919f7044";
        let ct = encrypt_ksef_token(token, 1_760_000_000_123, &sk.public_key(), &mut rng).unwrap();
        assert_eq!(ct.len(), 344);
        let d = decrypt_ksef_token(&ct, &sk, &mut rng).unwrap();
        assert_eq!(d.token(), token);
        assert_eq!(d.timestamp_ms(), 1_760_000_000_123);
        let dbg = format!("{d:?}");
        assert!(
            !dbg.contains("919f7044") && dbg.contains("[redacted]"),
            "{dbg}"
        );
        assert_eq!(
            encrypt_ksef_token("", 1, &sk.public_key(), &mut rng)
                .unwrap_err()
                .code(),
            ErrorCode::Encrypt
        );
        // Plaintexts that are not `token|digits`.
        for bad in [
            &b"secret"[..],
            b"secret|",
            b"|123",
            b"secret|12a",
            b"\xff|1",
        ] {
            let ct = b64(&rsa_oaep_encrypt(&sk.public_key(), bad, &mut rng).unwrap());
            let e = decrypt_ksef_token(&ct, &sk, &mut rng).unwrap_err();
            assert_eq!((e.code(), e.path()), (ErrorCode::Decrypt, "encryptedToken"));
            assert!(!e.message().contains("secret"), "{e}");
        }
    }

    #[test]
    fn send_invoice_request_json() {
        let k = vector_key();
        let r = k.encrypt_invoice(b"<Faktura/>");
        assert_eq!(r.invoice_size, 10);
        assert_eq!(r.encrypted_invoice_size, 16);
        assert_eq!(r.encrypted_invoice_content, "oX5YCml7vvY4PleLxBsPBQ==");
        let json = r.to_json();
        let expected = format!(
            "{{\"invoiceHash\":\"{}\",\"invoiceSize\":10,\"encryptedInvoiceHash\":\"{}\",\
             \"encryptedInvoiceSize\":16,\"encryptedInvoiceContent\":\"oX5YCml7vvY4PleLxBsPBQ==\",\
             \"offlineMode\":false}}",
            sha256_b64(b"<Faktura/>"),
            sha256_b64(&k.encrypt(b"<Faktura/>"))
        );
        assert_eq!(json, expected);
        assert_eq!(SendInvoiceRequest::from_json(&json).unwrap(), r);
        assert_eq!(r.open(&k).unwrap(), b"<Faktura/>");

        let offline = r.clone().offline();
        assert!(offline.to_json().ends_with("\"offlineMode\":true}"));
        let fix = r.clone().technical_correction(&[0xAB; 32]);
        let json = fix.to_json();
        assert!(
            json.ends_with(&format!(
                "\"offlineMode\":true,\"hashOfCorrectedInvoice\":\"{}\"}}",
                b64(&[0xAB; 32])
            )),
            "{json}"
        );
        assert_eq!(SendInvoiceRequest::from_json(&json).unwrap(), fix);
    }

    #[test]
    fn send_invoice_request_checks() {
        let k = vector_key();
        let r = k.encrypt_invoice(b"<Faktura>x</Faktura>");
        type Change = fn(&mut SendInvoiceRequest);
        let cases: [(Change, &str); 5] = [
            (|r| r.encrypted_invoice_size += 1, "encryptedInvoiceSize"),
            (
                |r| r.encrypted_invoice_hash = b64(&[0; 32]),
                "encryptedInvoiceHash",
            ),
            (|r| r.invoice_size -= 1, "invoiceSize"),
            (|r| r.invoice_hash = b64(&[0; 32]), "invoiceHash"),
            (
                |r| r.encrypted_invoice_content.insert(0, '!'),
                "encryptedInvoiceContent",
            ),
        ];
        for (change, path) in cases {
            let mut bad = r.clone();
            change(&mut bad);
            let e = bad.open(&k).unwrap_err();
            assert_eq!(e.path(), path, "{e:?}");
        }
        let e = r
            .open(&SessionKey::generate(&mut TestRng::new(8)))
            .unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::Decrypt, "encryptedInvoiceContent")
        );

        // from_json: syntax, shape, hash form, sizes.
        let e = SendInvoiceRequest::from_json("{").unwrap_err();
        assert_eq!(e.code(), ErrorCode::JsonSyntax);
        let e = SendInvoiceRequest::from_json("{\"invoiceHash\":1}").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidValue);
        let mut bad = r.clone();
        bad.invoice_hash = b64(&[0; 31]);
        let e = SendInvoiceRequest::from_json(&bad.to_json()).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::InvalidValue, "invoiceHash")
        );
        let mut bad = r.clone();
        bad.invoice_size = 0;
        let e = SendInvoiceRequest::from_json(&bad.to_json()).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::InvalidValue, "invoiceSize")
        );
        // offlineMode may be absent or null-free; unknown fields are accepted.
        let json = r
            .to_json()
            .replace(",\"offlineMode\":false", ",\"future\":1");
        assert_eq!(SendInvoiceRequest::from_json(&json).unwrap(), r);
    }

    #[test]
    fn batch_split_encrypt_and_check() {
        let k = SessionKey::generate(&mut TestRng::new(9));
        let archive: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let batch = k
            .encrypt_batch(&archive, Some(CompressionType::Zip), 300)
            .unwrap();
        assert_eq!(batch.parts.len(), 4);
        let info = &batch.batch_file;
        assert_eq!(info.file_size, 1000);
        assert_eq!(info.file_hash, sha256_b64(&archive));
        let mut joined = Vec::new();
        for (i, (part, meta)) in batch.parts.iter().zip(&info.file_parts).enumerate() {
            assert_eq!(meta.ordinal_number as usize, i + 1);
            assert_eq!(meta.file_size as usize, part.len());
            meta.check(part).unwrap();
            joined.extend(k.decrypt(part).unwrap());
        }
        assert_eq!(batch.parts[0].len(), 304); // 300 + PKCS#7 block
        assert_eq!(batch.parts[3].len(), 112); // 100 + 12
        info.check_archive(&joined).unwrap();
        assert_eq!(joined, archive);
        let json = info.to_json();
        assert!(json.starts_with(&format!(
            "{{\"fileSize\":1000,\"fileHash\":\"{}\",\"compressionType\":\"Zip\",\"fileParts\":[{{\"ordinalNumber\":1,\"fileSize\":304,\"fileHash\":\"",
            info.file_hash
        )), "{json}");
        assert_eq!(BatchFileInfo::from_json(&json).unwrap(), *info);
        let e = info.file_parts[0].check(&batch.parts[3]).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::IntegrityCheck, "fileSize")
        );
        let mut flipped = batch.parts[0].clone();
        flipped[0] ^= 1;
        let e = info.file_parts[0].check(&flipped).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::IntegrityCheck, "fileHash")
        );
        let e = info.check_archive(&joined[1..]).unwrap_err();
        assert_eq!(e.path(), "fileSize");
        // Limits.
        assert_eq!(
            k.encrypt_batch(&[], None, 10).unwrap_err().code(),
            ErrorCode::Encrypt
        );
        let e = k.encrypt_batch(&archive, None, 10).unwrap_err(); // 100 parts
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::Encrypt, "batchFile.fileParts")
        );
        assert!(k.encrypt_batch_part(0, b"x").is_err());
        assert!(k.encrypt_batch_part(1, b"").is_err());
        let one = k.encrypt_batch(&archive, None, usize::MAX).unwrap();
        assert_eq!(one.parts.len(), 1);
        assert!(!one.batch_file.to_json().contains("compressionType"));
    }
}
