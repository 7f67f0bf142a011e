//! Paired mode: one order trigger sends the FA(3) invoice to KSeF and creates the customer's
//! document in Fakturownia.pl carrying the KSeF number.
//!
//! - [`machine`]: the dual-channel state machine (sans-IO), audit trail, snapshots.
//! - [`fakturownia`]: the Fakturownia REST API as requests and responses.

pub mod fakturownia;
pub mod machine;
