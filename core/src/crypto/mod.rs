//! Cryptography for KSeF: hashes, keys and certificates, session encryption (AES-256-CBC, RSA-OAEP), signatures.
//!
//! - [`keys`]: [`PrivateKey`] / [`PublicKey`] (EC P-256, RSA) from PKCS#8, SEC1, PKCS#1, SPKI;
//! - [`cert`]: [`Certificate`] from PEM, DER or bare base64 (serial, names, validity,
//!   fingerprint).
//! - [`session`]: the encrypted KSeF token, [`SessionKey`] (AES-256-CBC, RSA-OAEP key wrap),
//!   the send-invoice body, batch parts, and the matching decryption;
//! - [`public_keys`]: the Ministry's encryption certificates
//!   (`GET /security/public-key-certificates`) and choosing a valid one.
//!
//! Nothing here reads a clock or an RNG by itself: time is passed as unix seconds and
//! randomness as `&mut impl rand_core::CryptoRngCore`.

pub mod cert;
pub mod keys;
pub mod public_keys;
pub mod session;

pub use cert::Certificate;
pub use keys::{PrivateKey, PublicKey};
pub use public_keys::{KeyUsage, PublicKeyCertificates};
pub use session::{SendInvoiceRequest, SessionKey};

/// The `rand_core` version the RNG parameters use (e.g. `rand_core::OsRng` with its
/// `getrandom` feature, on std targets).
pub use rand_core;

pub mod hash;
