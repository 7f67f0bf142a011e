//! Identifiers: NIP and the other tax identifiers KSeF uses.
//!
//! Every type here holds only valid values: it is built by `parse` (or [`FromStr`]) and
//! there is no other way in. A refused input gives an [`IdError`] that says which character
//! is wrong and why; it converts into [`crate::Error`] with code
//! [`ErrorCode::InvalidValue`](crate::ErrorCode::InvalidValue).
//!
//! | type | format | checks |
//! |------|--------|--------|
//! | [`Nip`] | 10 digits, `[1-9]((\d[1-9])\|([1-9]\d))\d{7}` | weights 6,5,7,2,3,4,5,6,7, sum mod 11 = last digit |
//! | [`VatUeId`] | EU country code + `(\d\|[A-Z]\|\+\|\*){1,12}` (XSD `TNrVatUE`) | country in `TKodyKrajowUE` |
//! | [`InternalId`] | `NIP-nnnnn` (16 characters) | the NIP part's checksum |
//! | [`NipVatUe`] | `NIP-<EU VAT number>` | NIP checksum, the per-country VIES format of the KSeF schema |
//! | [`PeppolId`] | `P[A-Z]{2}[0-9]{6}` | format |
//! | [`KsefNumber`] | `NIP-YYYYMMDD-XXXXXXXXXXXX-CC` (35 characters) | date, CRC-8 of the first 32 characters (own error type [`KsefNumberError`]) |
//!
//! ```
//! use ksef::id::{Nip, NipVatUe};
//!
//! let nip: Nip = "5265877635".parse()?;
//! assert_eq!(nip.as_str(), "5265877635");
//! assert!(Nip::parse("5265877636").is_err()); // wrong check digit
//! assert_eq!(Nip::parse_lenient("526-587-76-35")?, nip);
//!
//! let ctx = NipVatUe::parse("5265877635-ATU12345678")?;
//! assert_eq!(ctx.vat_ue().number(), "U12345678");
//! # Ok::<(), ksef::id::IdError>(())
//! ```
//!
//! [`FromStr`]: core::str::FromStr

mod context;
mod ksef_number;
mod nip;
mod vat_ue;

use alloc::string::String;
use core::fmt;

use crate::error::{Error, ErrorCode};

pub use context::{InternalId, PeppolId};
pub use ksef_number::{crc8, KsefNumber, KsefNumberError};
pub use nip::Nip;
pub use vat_ue::{NipVatUe, VatUeId};

/// Which identifier a refused value was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdKind {
    /// [`Nip`].
    Nip,
    /// [`VatUeId`].
    VatUe,
    /// [`InternalId`].
    InternalId,
    /// [`NipVatUe`].
    NipVatUe,
    /// [`PeppolId`].
    PeppolId,
}

impl IdKind {
    /// A short English name (`"NIP"`, `"EU VAT number"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            IdKind::Nip => "NIP",
            IdKind::VatUe => "EU VAT number",
            IdKind::InternalId => "internal identifier (NIP-nnnnn)",
            IdKind::NipVatUe => "NIP-VAT UE identifier",
            IdKind::PeppolId => "Peppol provider identifier",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an identifier was refused. Positions are 0-based character indexes into the input as
/// given (the message counts from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// The input is empty (or, for [`Nip::parse_lenient`], only separators).
    Empty {
        /// The identifier that was expected.
        kind: IdKind,
    },
    /// The input has the wrong number of characters.
    Length {
        /// The identifier that was expected.
        kind: IdKind,
        /// The allowed length, in words (`"10 digits"`, `"3 to 14 characters"`).
        expected: &'static str,
        /// The number found (of characters, or of digits where `expected` says digits).
        found: usize,
    },
    /// A character that is not allowed at its position.
    Char {
        /// The identifier that was expected.
        kind: IdKind,
        /// 0-based character index in the input.
        position: usize,
        /// The character found.
        found: char,
        /// What is allowed there, in words.
        expected: &'static str,
    },
    /// The characters are allowed but their combination is not (e.g. a NIP whose 2nd and 3rd
    /// digits are both 0, which the XSD pattern forbids).
    Pattern {
        /// The identifier that was expected.
        kind: IdKind,
        /// 0-based character index where the problem starts.
        position: usize,
        /// The rule broken, in words.
        reason: &'static str,
    },
    /// The check digit does not match the others.
    Checksum {
        /// The identifier that was expected.
        kind: IdKind,
        /// 0-based character index of the check digit.
        position: usize,
        /// The check digit the other digits give.
        expected: u8,
        /// The check digit found.
        found: u8,
    },
    /// The NIP's weighted sum is 10 modulo 11: no check digit makes such a NIP valid.
    ChecksumTen {
        /// The identifier that was expected.
        kind: IdKind,
        /// 0-based character index of the check digit.
        position: usize,
    },
    /// Not a country code of the EU list (`TKodyKrajowUE`).
    Country {
        /// The identifier that was expected.
        kind: IdKind,
        /// The code found.
        found: String,
    },
    /// The number does not have the format of its country (the per-country VIES formats of
    /// the KSeF `NipVatUe` pattern).
    CountryFormat {
        /// The identifier that was expected.
        kind: IdKind,
        /// The country code.
        country: &'static str,
        /// The accepted format(s) of that country, in regex notation.
        expected: &'static str,
    },
}

impl IdError {
    /// The identifier that was expected.
    pub fn kind(&self) -> IdKind {
        match self {
            IdError::Empty { kind }
            | IdError::Length { kind, .. }
            | IdError::Char { kind, .. }
            | IdError::Pattern { kind, .. }
            | IdError::Checksum { kind, .. }
            | IdError::ChecksumTen { kind, .. }
            | IdError::Country { kind, .. }
            | IdError::CountryFormat { kind, .. } => *kind,
        }
    }

    /// The 0-based character index the error points at, when there is one.
    pub fn position(&self) -> Option<usize> {
        match self {
            IdError::Char { position, .. }
            | IdError::Pattern { position, .. }
            | IdError::Checksum { position, .. }
            | IdError::ChecksumTen { position, .. } => Some(*position),
            _ => None,
        }
    }

    /// The error as a [`crate::Error`] (code `InvalidValue`) pointing at an element path, e.g.
    /// `Faktura/Podmiot1/DaneIdentyfikacyjne/NIP`.
    pub fn at(&self, path: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidValue, path, alloc::format!("{self}"))
    }

    /// The same error for another identifier kind, with positions moved by `offset` (used
    /// when an identifier is a part of a composite one).
    pub(crate) fn within(self, outer: IdKind, offset: usize) -> IdError {
        match self {
            IdError::Empty { .. } => IdError::Empty { kind: outer },
            IdError::Length {
                expected, found, ..
            } => IdError::Length {
                kind: outer,
                expected,
                found,
            },
            IdError::Char {
                position,
                found,
                expected,
                ..
            } => IdError::Char {
                kind: outer,
                position: position + offset,
                found,
                expected,
            },
            IdError::Pattern {
                position, reason, ..
            } => IdError::Pattern {
                kind: outer,
                position: position + offset,
                reason,
            },
            IdError::Checksum {
                position,
                expected,
                found,
                ..
            } => IdError::Checksum {
                kind: outer,
                position: position + offset,
                expected,
                found,
            },
            IdError::ChecksumTen { position, .. } => IdError::ChecksumTen {
                kind: outer,
                position: position + offset,
            },
            IdError::Country { found, .. } => IdError::Country { kind: outer, found },
            IdError::CountryFormat {
                country, expected, ..
            } => IdError::CountryFormat {
                kind: outer,
                country,
                expected,
            },
        }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty { kind } => write!(f, "{kind}: the value is empty"),
            IdError::Length {
                kind,
                expected,
                found,
            } => write!(f, "{kind}: expected {expected}, found {found}"),
            IdError::Char {
                kind,
                position,
                found,
                expected,
            } => write!(
                f,
                "{kind}: character {} is {found:?}, expected {expected}",
                position + 1
            ),
            IdError::Pattern {
                kind,
                position,
                reason,
            } => write!(f, "{kind}: at character {}: {reason}", position + 1),
            IdError::Checksum {
                kind,
                position,
                expected,
                found,
            } => write!(
                f,
                "{kind}: wrong check digit {found} at character {} (the other digits give {expected})",
                position + 1
            ),
            IdError::ChecksumTen { kind, position } => write!(
                f,
                "{kind}: no valid NIP starts with these 9 digits (weighted sum mod 11 is 10; \
                 check digit at character {})",
                position + 1
            ),
            IdError::Country { kind, found } => write!(
                f,
                "{kind}: {found:?} is not an EU country code (AT, BE, ..., EL for Greece, XI for \
                 Northern Ireland)"
            ),
            IdError::CountryFormat {
                kind,
                country,
                expected,
            } => write!(
                f,
                "{kind}: not a {country} VAT number (expected {country} followed by {expected})"
            ),
        }
    }
}

impl core::error::Error for IdError {}

impl From<IdError> for Error {
    fn from(e: IdError) -> Error {
        e.at("")
    }
}

/// The text of an identifier stored as ASCII bytes (always valid UTF-8 by construction).
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests;
