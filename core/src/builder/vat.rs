//! Exact money arithmetic for invoices: rounding to the grosz, VAT from net and from gross,
//! conversion to PLN, and splitting an amount in proportion.
//!
//! Every function works on exact decimals ([`Decimal`]) and uses checked arithmetic: a result
//! that does not fit is an [`ErrorCode::ArithmeticOverflow`] error, never a panic or a wrap.
//!
//! Rounding is to 0.01 with halves away from zero (`0.005 → 0.01`, `-0.005 → -0.01`), the rule
//! for amounts of tax on Polish invoices (halves of a grosz round up, smaller ends are dropped).

use alloc::format;
use alloc::vec::Vec;

use rust_decimal::RoundingStrategy;

use crate::error::{Error, ErrorCode};
use crate::model::Decimal;

/// The largest magnitude an invoice amount may have: the XSD amount types (`TKwotowy`) allow
/// at most 16 digits before the decimal point.
pub const MAX_AMOUNT_EXCLUSIVE: Decimal =
    Decimal::from_parts(1_874_919_424, 2_328_306, 0, false, 0);

/// Round to whole grosze (0.01), halves away from zero.
pub fn round_money(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `true` when the amount can be written in an XSD amount field (`TKwotowy`): at most 16 digits
/// before the point. (The caller rounds to 0.01 first.)
pub fn fits_amount(x: Decimal) -> bool {
    x.abs() < MAX_AMOUNT_EXCLUSIVE
}

fn overflow(what: &str) -> Error {
    Error::new(
        ErrorCode::ArithmeticOverflow,
        "",
        format!("{what} does not fit the exact decimal range"),
    )
}

/// `a + b`, or `ArithmeticOverflow`.
pub fn add(a: Decimal, b: Decimal) -> Result<Decimal, Error> {
    a.checked_add(b).ok_or_else(|| overflow("a sum"))
}

/// `a - b`, or `ArithmeticOverflow`.
pub fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Error> {
    a.checked_sub(b).ok_or_else(|| overflow("a difference"))
}

/// `a × b` (exact while it fits 28 digits), or `ArithmeticOverflow`.
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Error> {
    a.checked_mul(b).ok_or_else(|| overflow("a product"))
}

/// `a / b` to 28 significant digits, or `ArithmeticOverflow` (also for `b == 0`).
pub fn div(a: Decimal, b: Decimal) -> Result<Decimal, Error> {
    if b.is_zero() {
        return Err(Error::new(
            ErrorCode::ArithmeticOverflow,
            "",
            "division by zero",
        ));
    }
    a.checked_div(b).ok_or_else(|| overflow("a quotient"))
}

/// The sum of the amounts, or `ArithmeticOverflow`.
pub fn sum<I: IntoIterator<Item = Decimal>>(items: I) -> Result<Decimal, Error> {
    items.into_iter().try_fold(Decimal::ZERO, add)
}

/// Tax on a net amount at `percent` (e.g. `23`): `round(net × percent / 100)`.
pub fn vat_from_net(net: Decimal, percent: Decimal) -> Result<Decimal, Error> {
    Ok(round_money(div(mul(net, percent)?, Decimal::ONE_HUNDRED)?))
}

/// Tax contained in a gross amount at `percent` (art. 106e ust. 7–8 of the VAT act):
/// `round(gross × percent / (100 + percent))`.
pub fn vat_from_gross(gross: Decimal, percent: Decimal) -> Result<Decimal, Error> {
    let denom = add(Decimal::ONE_HUNDRED, percent)?;
    Ok(round_money(div(mul(gross, percent)?, denom)?))
}

/// Split a gross amount into `(net, tax)` at `percent`: the tax is [`vat_from_gross`], the net
/// is what remains, so `net + tax == gross` exactly.
pub fn split_gross(gross: Decimal, percent: Decimal) -> Result<(Decimal, Decimal), Error> {
    let tax = vat_from_gross(gross, percent)?;
    Ok((sub(gross, tax)?, tax))
}

/// An amount in a foreign currency converted to PLN at `rate` (PLN per unit):
/// `round(amount × rate)`.
pub fn to_pln(amount: Decimal, rate: Decimal) -> Result<Decimal, Error> {
    Ok(round_money(mul(amount, rate)?))
}

/// Split `total` (a multiple of 0.01) into parts proportional to `weights`, each rounded to
/// 0.01 (halves away from zero), such that the parts add up to `total` exactly: the rounding
/// difference, if any, goes to the part with the largest weight (the first of equals).
///
/// Errors: the weights add up to zero (no proportion exists), or overflow.
pub fn allocate(total: Decimal, weights: &[Decimal]) -> Result<Vec<Decimal>, Error> {
    let whole = sum(weights.iter().copied())?;
    if whole.is_zero() {
        return Err(Error::new(
            ErrorCode::InvalidBuilderInput,
            "",
            "cannot split an amount in proportion to weights that add up to zero",
        ));
    }
    let mut parts = Vec::with_capacity(weights.len());
    for w in weights {
        parts.push(round_money(div(mul(total, *w)?, whole)?));
    }
    let rest = sub(total, sum(parts.iter().copied())?)?;
    if !rest.is_zero() {
        let mut big = 0;
        for (i, w) in weights.iter().enumerate() {
            if w.abs() > weights[big].abs() {
                big = i;
            }
        }
        parts[big] = add(parts[big], rest)?;
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn max_amount_is_ten_to_the_sixteenth() {
        assert_eq!(MAX_AMOUNT_EXCLUSIVE, d("10000000000000000"));
        assert!(fits_amount(d("9999999999999999.99")));
        assert!(!fits_amount(d("10000000000000000")));
        assert!(!fits_amount(d("-10000000000000000")));
    }

    #[test]
    fn rounding_halves_go_away_from_zero() {
        assert_eq!(round_money(d("0.005")), d("0.01"));
        assert_eq!(round_money(d("0.0049999")), d("0.00"));
        assert_eq!(round_money(d("-0.005")), d("-0.01"));
        assert_eq!(round_money(d("-0.0049")), d("0.00"));
        assert_eq!(round_money(d("2.675")), d("2.68"));
        assert_eq!(round_money(d("383.3318")), d("383.33"));
        assert_eq!(round_money(d("1.5")), d("1.50"));
        assert_eq!(round_money(d("-162.595")), d("-162.60"));
    }

    #[test]
    fn vat_from_net_rounds_the_tax_once() {
        // FA_3_Przyklad_01: 1666.66 at 23 % and 0.95 at 5 %
        assert_eq!(vat_from_net(d("1666.66"), d("23")).unwrap(), d("383.33"));
        assert_eq!(vat_from_net(d("0.95"), d("5")).unwrap(), d("0.05"));
        // 0.05 × 10 % = 0.005 → 0.01 (half away from zero)
        assert_eq!(vat_from_net(d("0.05"), d("10")).unwrap(), d("0.01"));
        assert_eq!(vat_from_net(d("-0.05"), d("10")).unwrap(), d("-0.01"));
        assert_eq!(vat_from_net(d("-162.60"), d("23")).unwrap(), d("-37.40"));
        assert_eq!(vat_from_net(d("100"), d("0")).unwrap(), d("0"));
    }

    #[test]
    fn vat_from_gross_is_the_reverse_calculation() {
        // 123.00 gross at 23 % contains exactly 23.00 tax
        assert_eq!(split_gross(d("123"), d("23")).unwrap(), (d("100"), d("23")));
        // FA_3_Przyklad_10: an advance of 20 000 at 23 %
        assert_eq!(
            split_gross(d("20000"), d("23")).unwrap(),
            (d("16260.16"), d("3739.84"))
        );
        // FA_3_Przyklad_15: 450 gross at 23 %
        assert_eq!(
            split_gross(d("450"), d("23")).unwrap(),
            (d("365.85"), d("84.15"))
        );
        // 1.00 gross at 5 %: 0.047619… → 0.05
        assert_eq!(split_gross(d("1"), d("5")).unwrap(), (d("0.95"), d("0.05")));
        // negative amounts (corrections) are symmetric
        assert_eq!(
            split_gross(d("-20000"), d("23")).unwrap(),
            (d("-16260.16"), d("-3739.84"))
        );
        // 0.27 gross at 8 %: 0.27 × 8 / 108 = 0.02 exactly → net 0.25
        assert_eq!(
            split_gross(d("0.27"), d("8")).unwrap(),
            (d("0.25"), d("0.02"))
        );
        // an exact half grosz from gross: 0.0675 × 8 / 108 = 0.005 → 0.01
        assert_eq!(vat_from_gross(d("0.0675"), d("8")).unwrap(), d("0.01"));
        assert_eq!(vat_from_gross(d("-0.0675"), d("8")).unwrap(), d("-0.01"));
    }

    #[test]
    fn net_and_gross_methods_can_differ() {
        // three lines of 0.99 net at 23 %: from net, tax on the sum 2.97 → 0.68, total 3.65;
        // the same goods priced 1.22 gross: 3.66 gross, tax 0.68, net 2.98.
        let net = d("2.97");
        let tax = vat_from_net(net, d("23")).unwrap();
        assert_eq!((net, tax, net + tax), (d("2.97"), d("0.68"), d("3.65")));
        let (n, t) = split_gross(d("3.66"), d("23")).unwrap();
        assert_eq!((n, t), (d("2.98"), d("0.68")));
    }

    #[test]
    fn currency_conversion() {
        // FA_3_Przyklad_20: 3118.80 EUR of tax at 4.5005 PLN/EUR
        assert_eq!(to_pln(d("3118.80"), d("4.5005")).unwrap(), d("14036.16"));
        assert_eq!(to_pln(d("-0.01"), d("0.5")).unwrap(), d("-0.01"));
    }

    #[test]
    fn allocation_adds_up_exactly() {
        // FA_3_Przyklad_14: 307 635 remaining, order gross 332 100 at 8 % and 5 535 at 23 %
        let parts = allocate(d("307635"), &[d("332100"), d("5535")]).unwrap();
        assert_eq!(parts, vec![d("302591.80"), d("5043.20")]);
        // thirds: 0.33 + 0.33 + 0.33 = 0.99, the missing grosz goes to the largest weight
        let parts = allocate(d("1.00"), &[d("1"), d("2"), d("1")]).unwrap();
        assert_eq!(parts, vec![d("0.25"), d("0.50"), d("0.25")]);
        let parts = allocate(d("1.00"), &[d("1"), d("1"), d("1")]).unwrap();
        assert_eq!(parts, vec![d("0.34"), d("0.33"), d("0.33")]);
        let parts = allocate(d("-1.00"), &[d("1"), d("1"), d("1")]).unwrap();
        assert_eq!(parts, vec![d("-0.34"), d("-0.33"), d("-0.33")]);
        assert_eq!(
            allocate(d("1"), &[d("1"), d("-1")]).unwrap_err().code(),
            ErrorCode::InvalidBuilderInput
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let e = mul(Decimal::MAX, d("2")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ArithmeticOverflow);
        assert_eq!(
            add(Decimal::MAX, Decimal::ONE).unwrap_err().code(),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(
            vat_from_net(Decimal::MAX, d("23")).unwrap_err().code(),
            ErrorCode::ArithmeticOverflow
        );
        assert_eq!(
            div(Decimal::ONE, Decimal::ZERO).unwrap_err().code(),
            ErrorCode::ArithmeticOverflow
        );
    }
}
