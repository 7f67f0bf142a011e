//! The KSeF 2.0 protocol, sans IO: the documents and messages exchanged with KSeF, built and
//! read as bytes and values, never sent or received here (no clock, no randomness, no
//! network; callers bring their own transport).
//!
//! - [`batch`]: batch-session packages (ZIP, split, encrypt, hash; streaming) and the
//!   invoice export package reader.
//! - [`upo`]: the official receipt (UPO v4-3) for one invoice or a whole session.
//!
//! This module will hold the rest of the sans-IO protocol (requests, responses, session state).

pub mod batch;
pub mod upo;
