//! Private and public keys: EC P-256 (KSeF certificates, KOD II, XAdES) and RSA (the
//! Ministry's encryption keys, qualified certificates).
//!
//! Private keys are read from PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1
//! (`RSA PRIVATE KEY`), PEM or DER. Encrypted keys (`ENCRYPTED PRIVATE KEY`, PEM with
//! `Proc-Type: 4,ENCRYPTED`) are refused with [`ErrorCode::CryptoKey`]; decrypt them first
//! (`openssl pkcs8 -in enc.pem -out key.pem`).
//!
//! A [`PrivateKey`] never shows its secret: its `Debug` prints `[redacted]`.
//!
//! **RSA private keys and RUSTSEC-2023-0071.** The `rsa` 0.9 crate has a known timing side
//! channel ("Marvin attack") in private-key operations (decryption and signing). Do not run
//! RSA private-key operations of this crate where an attacker can send many chosen inputs and
//! time the answers (e.g. a network service decrypting attacker-chosen RSA ciphertexts). Client
//! use — signing one's own requests, decrypting one's own test data — is not exposed in that way.
//! EC P-256 keys are not affected.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use der::asn1::ObjectIdentifier;
use der::Decode;
use pkcs8::spki::SubjectPublicKeyInfoRef;
use pkcs8::{DecodePrivateKey, DecodePublicKey, PrivateKeyInfo};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;

use crate::error::{Error, ErrorCode};

/// `id-ecPublicKey` (RFC 5480).
pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1` / `prime256v1` (RFC 5480).
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `rsaEncryption` (RFC 8017).
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The smallest RSA modulus accepted, in bits (KSeF requires at least 2048).
pub const MIN_RSA_BITS: usize = 2048;

fn key_error(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::CryptoKey, path, message)
}

/// A private key: EC P-256 or RSA.
///
/// `Debug` never shows the key material. See the module docs about RUSTSEC-2023-0071 for
/// RSA private-key operations.
#[derive(Clone)]
// Unboxed on purpose: callers match on the variants and keys are few and long-lived.
#[allow(clippy::large_enum_variant)]
pub enum PrivateKey {
    /// An ECDSA P-256 key (KSeF certificates are EC P-256).
    EcP256(p256::ecdsa::SigningKey),
    /// An RSA key.
    Rsa(rsa::RsaPrivateKey),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivateKey::EcP256(_) => f.write_str("PrivateKey::EcP256([redacted])"),
            PrivateKey::Rsa(_) => f.write_str("PrivateKey::Rsa([redacted])"),
        }
    }
}

impl PrivateKey {
    /// Reads a PKCS#8 `PrivateKeyInfo` (DER): EC P-256 or RSA.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, Error> {
        let info = PrivateKeyInfo::from_der(der)
            .map_err(|e| key_error("", format!("not a PKCS#8 private key: {e}")))?;
        let oid = info.algorithm.oid;
        if oid == OID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| key_error("", "EC private key without a named curve"))?;
            if curve != OID_P256 {
                return Err(key_error(
                    "",
                    format!("unsupported EC curve {curve} (only P-256 / 1.2.840.10045.3.1.7)"),
                ));
            }
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map_err(|e| key_error("", format!("bad EC P-256 private key: {e}")))?;
            Ok(PrivateKey::EcP256(key))
        } else if oid == OID_RSA {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|e| key_error("", format!("bad RSA private key: {e}")))?;
            check_rsa_private(key)
        } else {
            Err(key_error(
                "",
                format!("unsupported private key algorithm {oid} (only EC P-256 and RSA)"),
            ))
        }
    }

    /// Reads a SEC1 `ECPrivateKey` (DER, RFC 5915) on the P-256 curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<PrivateKey, Error> {
        // A SEC1 key names its curve (optionally); the p256 parser checks it is P-256.
        let secret = p256::SecretKey::from_sec1_der(der)
            .map_err(|_| key_error("", "not a SEC1 EC P-256 private key"))?;
        Ok(PrivateKey::EcP256(p256::ecdsa::SigningKey::from(secret)))
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (DER).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey, Error> {
        let key = rsa::RsaPrivateKey::from_pkcs1_der(der)
            .map_err(|e| key_error("", format!("not a PKCS#1 RSA private key: {e}")))?;
        check_rsa_private(key)
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8) block. Text around the block is ignored.
    pub fn from_pkcs8_pem(pem: &str) -> Result<PrivateKey, Error> {
        let der = pem_block(pem, &["PRIVATE KEY"])
            .ok_or_else(|| no_pem_block(pem, "PRIVATE KEY"))??
            .1;
        PrivateKey::from_pkcs8_der(&der)
    }

    /// Reads the first PEM private key block: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1)
    /// or `RSA PRIVATE KEY` (PKCS#1). Other blocks (e.g. `EC PARAMETERS`) are skipped.
    pub fn from_pem(pem: &str) -> Result<PrivateKey, Error> {
        let (label, der) = pem_block(pem, &["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"])
            .ok_or_else(|| no_pem_block(pem, "PRIVATE KEY"))??;
        match label {
            "EC PRIVATE KEY" => PrivateKey::from_sec1_der(&der),
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&der),
            _ => PrivateKey::from_pkcs8_der(&der),
        }
    }

    /// Reads a key in any supported form: PEM (as [`PrivateKey::from_pem`]) when the bytes
    /// contain `-----BEGIN`, otherwise DER — PKCS#8, then SEC1, then PKCS#1.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<PrivateKey, Error> {
        if let Some(text) = pem_text(bytes) {
            return PrivateKey::from_pem(text);
        }
        if let Ok(key) = PrivateKey::from_pkcs8_der(bytes) {
            return Ok(key);
        }
        if let Ok(key) = PrivateKey::from_sec1_der(bytes) {
            return Ok(key);
        }
        if let Ok(key) = PrivateKey::from_pkcs1_der(bytes) {
            return Ok(key);
        }
        // Report the PKCS#8 reason: it is the form we recommend.
        PrivateKey::from_pkcs8_der(bytes)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::EcP256(k) => PublicKey::EcP256(*k.verifying_key()),
            PrivateKey::Rsa(k) => PublicKey::Rsa(k.to_public_key()),
        }
    }

    /// A short name of the algorithm: `"EC P-256"` or `"RSA"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PrivateKey::EcP256(_) => "EC P-256",
            PrivateKey::Rsa(_) => "RSA",
        }
    }
}

fn check_rsa_private(key: rsa::RsaPrivateKey) -> Result<PrivateKey, Error> {
    check_rsa_bits(key.size() * 8)?;
    Ok(PrivateKey::Rsa(key))
}

fn check_rsa_bits(bits: usize) -> Result<(), Error> {
    if bits < MIN_RSA_BITS {
        return Err(key_error(
            "",
            format!("RSA key of {bits} bits is too small (at least {MIN_RSA_BITS})"),
        ));
    }
    Ok(())
}

/// A public key: EC P-256 or RSA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// An ECDSA P-256 public key.
    EcP256(p256::ecdsa::VerifyingKey),
    /// An RSA public key.
    Rsa(rsa::RsaPublicKey),
}

impl PublicKey {
    /// Reads a DER `SubjectPublicKeyInfo` (RFC 5280): EC P-256 or RSA (at least 2048 bits).
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, Error> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| key_error("", format!("not a SubjectPublicKeyInfo: {e}")))?;
        let oid = info.algorithm.oid;
        if oid == OID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| key_error("", "EC public key without a named curve"))?;
            if curve != OID_P256 {
                return Err(key_error(
                    "",
                    format!("unsupported EC curve {curve} (only P-256 / 1.2.840.10045.3.1.7)"),
                ));
            }
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(der)
                .map_err(|e| key_error("", format!("bad EC P-256 public key: {e}")))?;
            Ok(PublicKey::EcP256(key))
        } else if oid == OID_RSA {
            let key = rsa::RsaPublicKey::from_public_key_der(der)
                .map_err(|e| key_error("", format!("bad RSA public key: {e}")))?;
            check_rsa_bits(key.size() * 8)?;
            Ok(PublicKey::Rsa(key))
        } else {
            Err(key_error(
                "",
                format!("unsupported public key algorithm {oid} (only EC P-256 and RSA)"),
            ))
        }
    }

    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block.
    pub fn from_spki_pem(pem: &str) -> Result<PublicKey, Error> {
        let der = pem_block(pem, &["PUBLIC KEY"])
            .ok_or_else(|| no_pem_block(pem, "PUBLIC KEY"))??
            .1;
        PublicKey::from_spki_der(&der)
    }

    /// The DER `SubjectPublicKeyInfo` of this key (SHA-256 of it is KSeF's `publicKeyId`).
    pub fn to_spki_der(&self) -> Result<Vec<u8>, Error> {
        use pkcs8::EncodePublicKey;
        let doc = match self {
            PublicKey::EcP256(k) => p256::PublicKey::from(k).to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
        };
        doc.map(|d| d.into_vec())
            .map_err(|e| key_error("", format!("cannot encode the public key: {e}")))
    }

    /// A short name of the algorithm: `"EC P-256"` or `"RSA"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::EcP256(_) => "EC P-256",
            PublicKey::Rsa(_) => "RSA",
        }
    }
}

/// True when the bytes look like PEM text (UTF-8 containing `-----BEGIN `).
pub(crate) fn pem_text(bytes: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(bytes).ok()?;
    text.contains("-----BEGIN ").then_some(text)
}

pub(crate) fn no_pem_block(pem: &str, wanted: &str) -> Error {
    let found: Vec<&str> = pem_labels(pem).collect();
    if found.contains(&"ENCRYPTED PRIVATE KEY") {
        return key_error(
            "",
            "encrypted private keys are not supported: decrypt first \
             (openssl pkcs8 -in enc.pem -out key.pem)",
        );
    }
    let code = if wanted == "CERTIFICATE" {
        ErrorCode::Certificate
    } else {
        ErrorCode::CryptoKey
    };
    let message = if found.is_empty() {
        format!("no PEM `{wanted}` block found")
    } else {
        format!(
            "no PEM `{wanted}` block found (found: {})",
            found.join(", ")
        )
    };
    Error::new(code, "", message)
}

/// The labels of all PEM blocks in the text, in order.
fn pem_labels(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|l| {
        l.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
    })
}

/// The first PEM block whose label is one of `labels`, decoded: `(label, der)`.
///
/// `None` when there is no such block; `Some(Err)` when the block is malformed or encrypted.
/// Lenient about CRLF, surrounding text and white space; header lines (`Name: value`) make the
/// block count as encrypted (the only headers in practice are `Proc-Type`/`DEK-Info`).
pub(crate) fn pem_block<'l>(
    text: &str,
    labels: &[&'l str],
) -> Option<Result<(&'l str, Vec<u8>), Error>> {
    let mut blocks = pem_blocks(text);
    loop {
        let (label, body) = blocks.next()?;
        if let Some(l) = labels.iter().find(|l| **l == label) {
            return Some(decode_pem_body(label, body).map(|der| (*l, der)));
        }
    }
}

/// All PEM blocks as `(label, body)`: `body` is the text between the BEGIN and END lines, or
/// `None` for a block without an END line (the last one).
pub(crate) fn pem_blocks(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut rest = text;
    core::iter::from_fn(move || loop {
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            rest = "";
            return None;
        };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker_pos = body_start.find("-----END ");
        let Some(end_pos) = end_marker_pos else {
            rest = "";
            return Some((label, None));
        };
        let body = &body_start[..end_pos];
        let tail = &body_start[end_pos + "-----END ".len()..];
        rest = match tail.find("-----") {
            Some(p) => &tail[p + 5..],
            None => "",
        };
        if label.contains('\n') || label.contains('\r') {
            continue;
        }
        return Some((label, Some(body)));
    })
}

/// Decodes the body of a PEM block (see [`pem_blocks`]); errors are
/// [`ErrorCode::Certificate`] for certificate blocks, [`ErrorCode::CryptoKey`] otherwise.
pub(crate) fn decode_pem_body(label: &str, body: Option<&str>) -> Result<Vec<u8>, Error> {
    let code = if label.contains("CERTIFICATE") {
        ErrorCode::Certificate
    } else {
        ErrorCode::CryptoKey
    };
    let Some(body) = body else {
        return Err(Error::new(
            code,
            "",
            format!("PEM `{label}` block has no END line"),
        ));
    };
    if body.contains(':') {
        return Err(Error::new(
            code,
            "",
            format!(
                "PEM `{label}` block has headers (encrypted?): encrypted keys are not supported, \
                 decrypt first (openssl pkcs8 -in enc.pem -out key.pem)"
            ),
        ));
    }
    decode_base64_lenient(body)
        .ok_or_else(|| Error::new(code, "", format!("PEM `{label}` block is not valid base64")))
}

/// Standard base64 with any ASCII white space inside ignored.
pub(crate) fn decode_base64_lenient(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const EC_PKCS8: &str = include_str!("../../tests/fixtures/crypto/ec-p256.pkcs8.pem");
    const EC_SEC1: &str = include_str!("../../tests/fixtures/crypto/ec-p256.sec1.pem");
    const RSA_PKCS8: &str = include_str!("../../tests/fixtures/crypto/rsa2048.pkcs8.pem");
    const RSA_PKCS1: &str = include_str!("../../tests/fixtures/crypto/rsa2048.pkcs1.pem");

    #[test]
    fn ec_pkcs8_and_sec1_are_the_same_key() {
        let a = PrivateKey::from_pkcs8_pem(EC_PKCS8).unwrap();
        let b = PrivateKey::from_pem(EC_SEC1).unwrap();
        let c = PrivateKey::from_pem_or_der(EC_SEC1.as_bytes()).unwrap();
        assert!(matches!(a, PrivateKey::EcP256(_)));
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.public_key(), c.public_key());
        assert_eq!(a.algorithm(), "EC P-256");
    }

    #[test]
    fn rsa_pkcs8_and_pkcs1_are_the_same_key() {
        let a = PrivateKey::from_pkcs8_pem(RSA_PKCS8).unwrap();
        let b = PrivateKey::from_pem(RSA_PKCS1).unwrap();
        assert!(matches!(a, PrivateKey::Rsa(_)));
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(b.public_key().algorithm(), "RSA");
    }

    #[test]
    fn der_forms_round_trip() {
        let (_, der) = pem_block(EC_PKCS8, &["PRIVATE KEY"]).unwrap().unwrap();
        let k = PrivateKey::from_pem_or_der(&der).unwrap();
        let (_, sec1) = pem_block(EC_SEC1, &["EC PRIVATE KEY"]).unwrap().unwrap();
        assert_eq!(
            PrivateKey::from_pem_or_der(&sec1).unwrap().public_key(),
            k.public_key()
        );
        let (_, pkcs1) = pem_block(RSA_PKCS1, &["RSA PRIVATE KEY"]).unwrap().unwrap();
        let r = PrivateKey::from_pem_or_der(&pkcs1).unwrap();
        assert!(matches!(r, PrivateKey::Rsa(_)));
        // SPKI round trip.
        for key in [k, r] {
            let spki = key.public_key().to_spki_der().unwrap();
            assert_eq!(PublicKey::from_spki_der(&spki).unwrap(), key.public_key());
        }
    }

    #[test]
    fn debug_is_redacted() {
        for pem in [EC_PKCS8, RSA_PKCS8] {
            let k = PrivateKey::from_pem(pem).unwrap();
            let s = alloc::format!("{k:?}");
            assert!(s.contains("[redacted]"), "{s}");
            assert!(s.len() < 40, "{s}");
        }
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        for bad in [
            &b""[..],
            b"garbage",
            b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n",
            b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
            b"\x30\x82\xff\xff",
        ] {
            let e = PrivateKey::from_pem_or_der(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::CryptoKey, "{e:?}");
        }
        let e = PrivateKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----",
        )
        .unwrap_err();
        assert!(e.message().contains("encrypted"), "{e}");
        let e = PrivateKey::from_pem(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMAA=\n-----END RSA PRIVATE KEY-----",
        )
        .unwrap_err();
        assert!(e.message().contains("encrypted"), "{e}");
        assert_eq!(
            PublicKey::from_spki_der(b"\x30\x00").unwrap_err().code(),
            ErrorCode::CryptoKey
        );
        // The error text never contains key material.
        let e = PrivateKey::from_pkcs8_pem(EC_SEC1).unwrap_err();
        assert!(!e.to_string().contains("MHcC"), "{e}");
    }

    #[test]
    fn pem_blocks_skip_other_labels() {
        let text = alloc::format!("junk\r\n-----BEGIN EC PARAMETERS-----\r\nBggqhkjOPQMBBw==\r\n-----END EC PARAMETERS-----\r\n{}", EC_SEC1.replace('\n', "\r\n"));
        let k = PrivateKey::from_pem(&text).unwrap();
        assert_eq!(
            k.public_key(),
            PrivateKey::from_pem(EC_PKCS8).unwrap().public_key()
        );
    }
}
