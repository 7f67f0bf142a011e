//! Offline mode: invoices issued while KSeF is down or by the issuer's choice, their legal
//! deadlines, and the durable queue that sends them later (`tryby-offline.md`, `offline/*.md`).
//!
//! - [`calendar`]: the Polish business-day calendar (weekends and every statutory holiday,
//!   24 December from 2025);
//! - [`deadline`]: the deadline of each mode (`offline24`, unavailability, emergency, total
//!   failure) and how later failure announcements move it;
//! - [`queue`]: the durable queue of offline invoices (bytes fixed at issue, KOD I/KOD II,
//!   deadline, status, technical corrections) with CBOR/JSON snapshots;
//! - [`host`]: what every host binding shares (modes by name, JSON forms, recovery plans);
//! - [`recovery`]: sending the queue through the protocol client on recovery and mapping
//!   KSeF's answers back (checked by hash).
//!
//! The core reads no clock: "today" is always passed in.
//!
//! ```
//! use ksef::model::Date;
//! use ksef::offline::deadline::{deadline, Mode};
//!
//! let issued: Date = "2025-12-23".parse()?;
//! // 24, 25, 26 December are holidays, then a weekend.
//! assert_eq!(deadline(Mode::Offline24 { issued }, &[]), Some("2025-12-29".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod calendar;
mod codec;
pub mod deadline;
pub mod host;
pub mod queue;
pub mod recovery;
