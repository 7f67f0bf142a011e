//! `ksef` — the core of a toolkit for Poland's national e-invoicing system KSeF (API 2.0).
//!
//! - [`model`]: the typed FA(3)/FA(2) invoice model, generated from the official XSDs, and its
//!   JSON form;
//! - [`xml`]: parse and emit invoice XML (exact XSD order, allocation-free emit path);
//! - [`builder`], [`validate`], [`id`]: the shop-friendly builder with exact VAT maths, rules
//!   beyond the XSD, identifiers (NIP, KSeF numbers, context identifiers);
//! - [`crypto`], [`qr`], [`xades`]: hashes, session encryption, QR codes KOD I/II, XAdES-BES;
//! - [`paired`]: paired mode's rule engine (one order → the FA(3) invoice and the Fakturownia
//!   document, numbered from per-store series);
//! - [`offline`]: offline mode — the Polish business-day calendar, legal deadlines of every
//!   offline mode, and the durable queue of offline invoices with their QR codes;
//!
//! The crate is `no_std` + `alloc`; it never reads a clock, randomness or the network.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod builder;
pub mod crypto;
pub mod env;
pub mod error;
pub mod http;
pub mod id;
pub mod model;
pub mod offline;
pub mod paired;
pub mod protocol;
pub mod qr;
pub mod retry;
#[cfg(feature = "std")]
pub mod transport;
pub mod validate;
pub mod xades;
pub mod xml;
pub mod zip;

pub use env::Environment;
pub use error::{Error, ErrorCode};
pub use model::{Faktura, Invoice, SchemaVersion};
