//! `ksef` — the core of a toolkit for Poland's national e-invoicing system KSeF (API 2.0).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
