//! Cryptography for KSeF: hashes, keys and certificates, session encryption (AES-256-CBC, RSA-OAEP), signatures.
//!
//! - [`keys`]: [`PrivateKey`] / [`PublicKey`] (EC P-256, RSA) from PKCS#8, SEC1, PKCS#1, SPKI;
//! - [`cert`]: [`Certificate`] from PEM, DER or bare base64 (serial, names, validity,
//!   fingerprint).
//!
//! Nothing here reads a clock or an RNG by itself: time is passed as unix seconds and
//! randomness as `&mut impl rand_core::CryptoRngCore`.

pub mod cert;
pub mod keys;

pub use cert::Certificate;
pub use keys::{PrivateKey, PublicKey};

pub mod hash;
