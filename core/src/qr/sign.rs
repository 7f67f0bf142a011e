//! KOD II signatures (`kody-qr.md`, "Format podpisu").
//!
//! The signed message is the UTF-8 string to sign of a [`CertificateLink`] (the link without
//! `https://` and without the signature segment). Two algorithms:
//!
//! - ECDSA P-256 with SHA-256, encoded IEEE P1363 (r‖s, 2 × 32 bytes big-endian; the format
//!   the docs recommend — not DER). Deterministic (RFC 6979), allocation-free, no RNG.
//! - RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt, key ≥ 2048 bits. The salt is
//!   random: the caller passes the RNG (the core never reads randomness by itself).
//!
//! The signature goes into the link base64url-encoded ([`CertificateLink::write_url`]).

use alloc::vec::Vec;

use p256::ecdsa::signature::{Signer, Verifier};
use rand_core::CryptoRngCore;
use sha2::Sha256;

use super::link::CertificateLink;
use crate::crypto::hash::sha256;
use crate::crypto::keys::{PrivateKey, PublicKey};
use crate::error::{Error, ErrorCode};

/// Length of an ECDSA P-256 signature in IEEE P1363 form (r‖s).
pub const ECDSA_P256_LEN: usize = 64;
/// The PSS salt length KSeF requires.
pub const PSS_SALT_LEN: usize = 32;
/// The smallest RSA modulus KSeF accepts, in bits.
pub const RSA_MIN_BITS: usize = 2048;

fn sign_error(msg: impl Into<alloc::string::String>) -> Error {
    Error::new(ErrorCode::QrSign, "", msg)
}

/// Run `f` on the string to sign of `link`, built on the stack.
fn with_message<T>(
    link: &CertificateLink<'_>,
    f: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut buf = [0u8; CertificateLink::MAX_STRING_TO_SIGN_LEN];
    let msg = link.write_string_to_sign(&mut buf)?;
    f(msg.as_bytes())
}

/// Sign the link with the private key of the issuer's KSeF `Offline` certificate: ECDSA
/// P-256 keys give r‖s (64 bytes, deterministic — `rng` is not used), RSA keys RSASSA-PSS.
///
/// ```
/// use ksef::crypto::hash::sha256;
/// use ksef::crypto::PrivateKey;
/// use ksef::qr::{sign, CertificateLink, ContextType};
/// use ksef::Environment;
///
/// # let scalar = [7u8; 32];
/// let key = PrivateKey::EcP256(p256::ecdsa::SigningKey::from_slice(&scalar)?);
/// let link = CertificateLink::new(
///     Environment::Test, ContextType::Nip, "5265877635", "5265877635", "01F20A5D352AE590",
///     sha256(b"<Faktura>...</Faktura>"),
/// )?;
/// # struct NoRng;
/// # impl rand_core::RngCore for NoRng {
/// #     fn next_u32(&mut self) -> u32 { 0 }
/// #     fn next_u64(&mut self) -> u64 { 0 }
/// #     fn fill_bytes(&mut self, _: &mut [u8]) {}
/// #     fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand_core::Error> { Ok(()) }
/// # }
/// # impl rand_core::CryptoRng for NoRng {}
/// # let mut rng = NoRng; // use a real CSPRNG (e.g. rand_core::OsRng) for RSA keys
/// let signature = sign::sign(&link, &key, &mut rng)?;
/// sign::verify(&link, &key.public_key(), &signature)?;
/// let url = link.url(&signature)?;
/// assert!(url.starts_with("https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign(
    link: &CertificateLink<'_>,
    key: &PrivateKey,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, Error> {
    match key {
        PrivateKey::EcP256(k) => sign_ecdsa_p256(link, k).map(|s| s.to_vec()),
        PrivateKey::Rsa(k) => sign_rsa_pss(link, k, rng),
    }
}

/// Check a KOD II signature with the public key of the issuer's certificate (ECDSA: r‖s or
/// DER; RSA: PSS with SHA-256, salt 32). Error code `QrSign` when it does not verify.
pub fn verify(link: &CertificateLink<'_>, key: &PublicKey, signature: &[u8]) -> Result<(), Error> {
    match key {
        PublicKey::EcP256(k) => verify_ecdsa_p256(link, k, signature),
        PublicKey::Rsa(k) => verify_rsa_pss(link, k, signature),
    }
}

/// Sign with ECDSA P-256/SHA-256 (RFC 6979, deterministic): r‖s, 64 bytes. Allocation-free.
pub fn sign_ecdsa_p256(
    link: &CertificateLink<'_>,
    key: &p256::ecdsa::SigningKey,
) -> Result<[u8; ECDSA_P256_LEN], Error> {
    with_message(link, |msg| {
        let sig: p256::ecdsa::Signature = key
            .try_sign(msg)
            .map_err(|_| sign_error("ECDSA P-256 signing failed"))?;
        Ok(sig.to_bytes().into())
    })
}

/// Sign with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32 bytes); the key must have at least
/// 2048 bits. The signature is as long as the modulus (256 bytes for RSA-2048).
pub fn sign_rsa_pss(
    link: &CertificateLink<'_>,
    key: &rsa::RsaPrivateKey,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, Error> {
    use rsa::traits::PublicKeyParts;
    let bits = key.size() * 8;
    if bits < RSA_MIN_BITS {
        return Err(sign_error(alloc::format!(
            "the RSA key has {bits} bits; KSeF requires at least {RSA_MIN_BITS}"
        )));
    }
    with_message(link, |msg| {
        let digest = sha256(msg);
        key.sign_with_rng(
            rng,
            rsa::Pss::new_with_salt::<Sha256>(PSS_SALT_LEN),
            digest.as_bytes(),
        )
        .map_err(|_| sign_error("RSA-PSS signing failed"))
    })
}

/// Check an ECDSA P-256/SHA-256 signature over the link: r‖s (64 bytes) or ASN.1 DER (the
/// docs accept both). Error code `QrSign` when it does not verify.
pub fn verify_ecdsa_p256(
    link: &CertificateLink<'_>,
    key: &p256::ecdsa::VerifyingKey,
    signature: &[u8],
) -> Result<(), Error> {
    let sig = if signature.len() == ECDSA_P256_LEN {
        p256::ecdsa::Signature::from_slice(signature)
    } else {
        p256::ecdsa::Signature::from_der(signature)
    }
    .map_err(|_| sign_error("not an ECDSA P-256 signature (r||s or DER)"))?;
    with_message(link, |msg| {
        key.verify(msg, &sig)
            .map_err(|_| sign_error("the ECDSA signature does not match the link"))
    })
}

/// Check an RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signature over the link.
pub fn verify_rsa_pss(
    link: &CertificateLink<'_>,
    key: &rsa::RsaPublicKey,
    signature: &[u8],
) -> Result<(), Error> {
    with_message(link, |msg| {
        let digest = sha256(msg);
        key.verify(
            rsa::Pss::new_with_salt::<Sha256>(PSS_SALT_LEN),
            digest.as_bytes(),
            signature,
        )
        .map_err(|_| sign_error("the RSA-PSS signature does not match the link"))
    })
}
