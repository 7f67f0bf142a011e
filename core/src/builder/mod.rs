//! The shop-friendly invoice builder with exact VAT arithmetic.
//!
//! Describe the invoice the way a shop knows it — seller, buyer, lines with quantity, unit
//! price and rate — choose how the tax is computed ([`Method`]), and [`InvoiceBuilder::build`]
//! returns the [`crate::Faktura`] for FA(3) or FA(2) with every amount computed exactly:
//! line values, per-rate totals `P_13_x`/`P_14_x`, the tax in PLN `P_14_xW` for foreign
//! currencies, and the total `P_15`. Corrections are built from the original invoice with
//! [`CorrectionBuilder`].
//!
//! Rules (see [`vat`]): amounts are exact decimals, rounded to 0.01 with halves away from
//! zero; the tax is computed once per rate from the sum of the line values (never summed from
//! per-line tax); `P_15 = Σ P_13_x + Σ P_14_x`. Bad input is an
//! [`crate::ErrorCode::InvalidBuilderInput`] error naming the builder field (`lines[2].quantity`)
//! and saying why; an amount too large is [`crate::ErrorCode::ArithmeticOverflow`].

mod annotations;
mod check;
mod correction;
mod header;
mod invoice;
mod line;
mod parties;
mod payment;
mod rate;
mod totals;
pub mod vat;

pub use annotations::{Annotations, Exemption};
pub use correction::{
    CorrectionBuilder, CorrectionEffect, CorrectionStyle, LineChange, WholeDiscount,
};

pub use header::{Header, SaleDate};
pub use invoice::{
    Advance, AdvanceInvoice, AdvanceRef, InvoiceBuilder, InvoiceKind, SimplifiedForm,
};
pub use line::{Discount, Line, UnitPrice};
pub use parties::{Address, Buyer, BuyerId, Contact, Seller};
pub use payment::{BankAccount, Payment};
pub use rate::{MarginScheme, Method, TotalsField, VatRate};
