//! Paired mode: one order trigger sends the FA(3) invoice to KSeF and gives the customer a
//! Fakturownia.pl document that carries the KSeF number.
//!
//! - [`machine`]: the dual-channel state machine (sans-IO), audit trail, snapshots.
//! - [`fakturownia`]: the Fakturownia REST API as requests and responses.
//! - [`nbp`]: NBP table A exchange rates (currency orders).

pub mod fakturownia;
pub mod machine;
pub mod nbp;
