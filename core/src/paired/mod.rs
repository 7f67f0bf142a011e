//! Paired mode: one order gives an FA(3) invoice for KSeF **and** the matching Fakturownia.pl
//! document, from one evaluation, so the two can never disagree.
//!
//! - [`order`]: the order as the shop sees it (strict JSON);
//! - [`rules`]: the rule configuration per store and [`rules::evaluate`], which decides
//!   (skip, need an exchange rate, issue) and builds both documents;
//! - [`numbering`]: invoice numbers from per-store series templates, never issued twice.
//!
//! The engine is `no_std` + `alloc` like the rest of the core: the time (`now`) and the
//! exchange rates are passed in.

pub mod numbering;
pub mod order;
mod reader;
pub mod rules;
