//! The shop-friendly invoice builder with exact VAT arithmetic.

pub mod vat;
