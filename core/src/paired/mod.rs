//! Paired mode: one order trigger sends the FA(3) invoice to KSeF and gives the customer a
//! Fakturownia.pl document that carries the KSeF number, from one evaluation, so the two can
//! never disagree.
//!
//! - [`order`]: the order as the shop sees it (strict JSON);
//! - [`rules`]: the rule configuration per store and [`rules::evaluate`], which decides
//!   (skip, need an exchange rate, issue) and builds both documents;
//! - [`numbering`]: invoice numbers from per-store series templates, never issued twice;
//! - [`engine`]: one store's engine: rules → NBP rate when needed → machine, one snapshot;
//! - [`machine`]: the dual-channel state machine (sans-IO), audit trail, snapshots;
//! - [`fakturownia`]: the Fakturownia REST API as requests and responses;
//! - [`nbp`]: NBP table A exchange rates (currency orders);
//! - [`host`]: what every host binding shares (settings, recovery choice, JSON forms).
//!
//! Like the rest of the core it is `no_std` + `alloc`: time and exchange rates are passed in.

pub mod engine;
pub mod fakturownia;
pub mod host;
pub mod machine;
pub mod nbp;
pub mod numbering;
pub mod order;
pub(crate) mod reader;
pub mod rules;
