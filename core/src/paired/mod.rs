//! Paired mode: one order trigger sends the FA(3) invoice to KSeF and gives the customer a
//! Fakturownia.pl document that carries the KSeF number.

pub mod fakturownia;
pub mod nbp;
