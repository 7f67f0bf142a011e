//! Input checks shared by the builders: every failure names the builder field and says why.

use alloc::format;
use alloc::string::String;

use crate::error::{Error, ErrorCode};
use crate::model::Decimal;

use super::vat;

/// An `InvalidBuilderInput` error at `path`.
pub(crate) fn bad(path: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidBuilderInput, path, message)
}

/// The same error with the builder field `path` (for errors from the arithmetic helpers).
pub(crate) fn at(e: Error, path: &str) -> Error {
    if e.path().is_empty() {
        Error::new(e.code(), path, e.message())
    } else {
        e
    }
}

/// Text that the schema requires to be non-empty (after whitespace collapsing).
pub(crate) fn text(path: &str, v: &str) -> Result<(), Error> {
    if v.trim().is_empty() {
        return Err(bad(path, "must not be empty"));
    }
    Ok(())
}

/// Optional text: when present, non-empty.
pub(crate) fn opt_text(path: &str, v: &Option<String>) -> Result<(), Error> {
    match v {
        Some(s) => text(path, s),
        None => Ok(()),
    }
}

/// A Polish NIP: 10 digits, the XSD pattern and the check digit (see [`crate::id::Nip`]; KSeF
/// production rejects a wrong check digit).
pub(crate) fn nip(path: &str, v: &str) -> Result<(), Error> {
    crate::id::Nip::parse(v)
        .map(|_| ())
        .map_err(|e| bad(path, format!("`{v}`: {e}")))
}

/// At most `places` decimal places (after dropping trailing zeros).
pub(crate) fn places(path: &str, v: Decimal, places: u32, what: &str) -> Result<(), Error> {
    if v.normalize().scale() > places {
        return Err(bad(
            path,
            format!("{what} {v} has more than {places} decimal places"),
        ));
    }
    Ok(())
}

/// At most `digits` digits before the decimal point (the XSD types of quantities and prices).
pub(crate) fn int_digits(path: &str, v: Decimal, digits: u32, what: &str) -> Result<(), Error> {
    let limit = Decimal::from(10_i64.pow(digits));
    if v.abs() >= limit {
        return Err(bad(
            path,
            format!("{what} {v} has more than {digits} digits before the decimal point"),
        ));
    }
    Ok(())
}

/// A computed amount must fit the XSD amount type (16 digits before the point).
pub(crate) fn amount(path: &str, v: Decimal) -> Result<Decimal, Error> {
    if !vat::fits_amount(v) {
        return Err(Error::new(
            ErrorCode::ArithmeticOverflow,
            path,
            format!("{v} is too large for an invoice amount (at most 16 digits before the point)"),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nip_checks() {
        for ok in ["5265877635", "9999999999", "1111111111"] {
            assert!(nip("n", ok).is_ok(), "{ok}");
        }
        for bad_nip in [
            "1234567890",
            "7309436499",
            "526-587-76-35",
            "526587763",
            "0265877635",
            "",
        ] {
            let e = nip("seller.nip", bad_nip).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidBuilderInput);
            assert_eq!(e.path(), "seller.nip");
        }
    }

    #[test]
    fn places_and_text() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(places("q", d("1.500000000"), 6, "quantity").is_ok());
        assert!(places("q", d("1.0000001"), 6, "quantity").is_err());
        assert!(text("t", "  ").is_err());
        assert!(text("t", "x").is_ok());
        assert!(amount("a", d("10000000000000000")).is_err());
    }
}
