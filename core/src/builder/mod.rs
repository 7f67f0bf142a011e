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
//!
//! ```
//! use ksef::builder::*;
//! use ksef::model::{Date, Decimal, FormaPlatnosci, SchemaVersion};
//!
//! let d = |s: &str| s.parse::<Decimal>().unwrap();
//! let day = |s: &str| s.parse::<Date>().unwrap();
//! let seller = Seller::new("9999999999", "ABC AGD sp. z o. o.",
//!     Address::pl("ul. Kwiatowa 1", "00-001 Warszawa"));
//! let buyer = Buyer::company("1111111111", "F.H.U. Jan Kowalski")
//!     .address(Address::pl("ul. Polna 1", "00-001 Warszawa"));
//! let header = Header::new("FV/2026/02/150", day("2026-02-15"),
//!     "2026-02-15T10:00:00Z".parse().unwrap()).sale_date(day("2026-02-14"));
//!
//! let invoice = InvoiceBuilder::vat(header, seller, buyer, Method::FromNet)
//!     .line(Line::net("lodówka Zimnotech mk1", d("1"), d("1626.01"), VatRate::Rate23))
//!     .line(Line::net("wniesienie sprzętu", d("1"), d("40.65"), VatRate::Rate23))
//!     .line(Line::net("mleko", d("1"), d("0.95"), VatRate::Rate5))
//!     .payment(Payment::paid(day("2026-02-14"), FormaPlatnosci::Przelew))
//!     .build(SchemaVersion::Fa3)?;
//! assert_eq!((invoice.fa.p_13_1, invoice.fa.p_14_1), (Some(d("1666.66")), Some(d("383.33"))));
//! assert_eq!(invoice.fa.p_15, d("2050.99"));
//!
//! // A correction: line 1 should have been 1463.41 (shown before/after, StanPrzed).
//! let header = Header::new("FK/2026/03/1", day("2026-03-15"),
//!     "2026-03-15T10:00:00Z".parse().unwrap());
//! let correction = CorrectionBuilder::new(&invoice, None, header, CorrectionStyle::BeforeAfter)
//!     .reason("obniżka ceny")
//!     .replace_line(1, Line::net("lodówka Zimnotech mk1", d("1"), d("1463.41"), VatRate::Rate23))
//!     .build(SchemaVersion::Fa3)?;
//! assert_eq!(correction.fa.p_15, d("-200.00"));
//! # Ok::<(), ksef::Error>(())
//! ```

mod annotations;
mod check;
mod correction;
mod header;
mod invoice;
pub mod json;
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
