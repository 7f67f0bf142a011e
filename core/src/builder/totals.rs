//! Per-rate and per-field totals (`P_13_x`, `P_14_x`, `P_14_xW`, `P_15`).

use alloc::vec::Vec;

use crate::error::Error;
use crate::model::{Decimal, Fa};

use super::rate::{Method, TotalsField, VatRate};
use super::{check, vat};

/// What a rate contributes: its line values and the exchange rates they carry.
#[derive(Debug, Clone)]
pub(crate) struct RateInput {
    pub rate: VatRate,
    /// Σ of the lines' values (net or gross per the method).
    pub value: Decimal,
    /// The exchange rate of the rate's tax, if known: `num / den` (one rate: `k / 1`; lines
    /// with different rates: `Σ value × k / Σ value`, the weighted rate).
    pub kurs: Option<(Decimal, Decimal)>,
    /// The index of the first line of this rate without an exchange rate (for messages).
    pub missing_kurs: Option<usize>,
}

/// A rate's computed totals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RateTotal {
    pub rate: VatRate,
    pub net: Decimal,
    pub vat: Decimal,
    pub vat_pln: Option<Decimal>,
}

impl RateTotal {
    pub(crate) fn gross(&self) -> Result<Decimal, Error> {
        vat::add(self.net, self.vat)
    }
}

/// One line's contribution: `(rate, value, exchange rate)`.
pub(crate) type Item = (VatRate, Decimal, Option<Decimal>);

/// Group line values by rate (in [`VatRate::ALL`] order), with the weighted exchange rate.
pub(crate) fn group(items: &[Item]) -> Result<Vec<RateInput>, Error> {
    let mut out = Vec::new();
    for rate in VatRate::ALL {
        let mut value = Decimal::ZERO;
        let mut num = Decimal::ZERO;
        let mut first: Option<Decimal> = None;
        let mut uniform = true;
        let mut missing = None;
        let mut any = false;
        for (i, (r, v, k)) in items.iter().enumerate() {
            if *r != rate {
                continue;
            }
            any = true;
            value = vat::add(value, *v)?;
            match k {
                Some(k) => {
                    num = vat::add(num, vat::mul(*v, *k)?)?;
                    match first {
                        None => first = Some(*k),
                        Some(f) if f != *k => uniform = false,
                        Some(_) => {}
                    }
                }
                None => {
                    if missing.is_none() {
                        missing = Some(i);
                    }
                }
            }
        }
        if !any {
            continue;
        }
        let kurs = match (missing, first) {
            (None, Some(k)) if uniform => Some((k, Decimal::ONE)),
            (None, Some(_)) => Some((num, value)),
            _ => None,
        };
        out.push(RateInput {
            rate,
            value,
            kurs,
            missing_kurs: missing,
        });
    }
    Ok(out)
}

/// The tax in PLN: `round(tax × num / den)`.
pub(crate) fn tax_pln(tax: Decimal, kurs: (Decimal, Decimal)) -> Result<Decimal, Error> {
    if tax.is_zero() {
        return Ok(Decimal::ZERO);
    }
    Ok(vat::round_money(vat::div(vat::mul(tax, kurs.0)?, kurs.1)?))
}

/// Tax per rate from grouped line values. `foreign`: the tax must also be given in PLN, so
/// every taxed rate needs an exchange rate; the error's message names the line (`lines_path`
/// with the index) that lacks it.
pub(crate) fn from_values(
    groups: &[RateInput],
    method: Method,
    foreign: bool,
    lines_path: &str,
) -> Result<Vec<RateTotal>, Error> {
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let (net, tax) = match (g.rate.percent(), method) {
            (None, _) => (g.value, Decimal::ZERO),
            (Some(p), Method::FromNet) => (g.value, vat::vat_from_net(g.value, p)?),
            (Some(p), Method::FromGross) => vat::split_gross(g.value, p)?,
        };
        let vat_pln = pln(g, tax, foreign, lines_path)?;
        out.push(RateTotal {
            rate: g.rate,
            net,
            vat: tax,
            vat_pln,
        });
    }
    Ok(out)
}

fn pln(
    g: &RateInput,
    tax: Decimal,
    foreign: bool,
    lines_path: &str,
) -> Result<Option<Decimal>, Error> {
    if !foreign || g.rate.percent().is_none() {
        return Ok(None);
    }
    match g.kurs {
        Some(k) if !k.1.is_zero() => Ok(Some(tax_pln(tax, k)?)),
        _ if tax.is_zero() => Ok(Some(Decimal::ZERO)),
        Some(_) => Err(check::bad(
            lines_path,
            alloc::format!(
                "the {} lines add up to zero, so no weighted exchange rate exists for their tax",
                g.rate.label()
            ),
        )),
        None => Err(check::bad(
            &alloc::format!(
                "{lines_path}[{}].exchange_rate",
                g.missing_kurs.unwrap_or(0)
            ),
            alloc::format!(
                "an invoice in a foreign currency needs the exchange rate of the {} tax \
                 (set it on the line or for the invoice)",
                g.rate.label()
            ),
        )),
    }
}

/// Tax per rate from gross amounts that are shares of a payment (advance invoices, settlement
/// invoices): `tax = round(share × rate / (100 + rate))`, `net = share − tax`.
pub(crate) fn from_gross_shares(
    shares: &[(RateInput, Decimal)],
    foreign: bool,
    lines_path: &str,
) -> Result<Vec<RateTotal>, Error> {
    let mut out = Vec::with_capacity(shares.len());
    for (g, share) in shares {
        let (net, tax) = match g.rate.percent() {
            None => (*share, Decimal::ZERO),
            Some(p) => vat::split_gross(*share, p)?,
        };
        out.push(RateTotal {
            rate: g.rate,
            net,
            vat: tax,
            vat_pln: pln(g, tax, foreign, lines_path)?,
        });
    }
    Ok(out)
}

/// The totals of one pair of fields.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct FieldTotal {
    pub net: Decimal,
    pub vat: Decimal,
    pub vat_pln: Option<Decimal>,
}

/// Totals by field of `Fa`; `None` = the field is not written.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Totals {
    pub fields: [Option<FieldTotal>; 12],
}

fn opt_add(a: Option<Decimal>, b: Option<Decimal>) -> Result<Option<Decimal>, Error> {
    Ok(match (a, b) {
        (None, None) => None,
        (a, b) => Some(vat::add(a.unwrap_or_default(), b.unwrap_or_default())?),
    })
}

impl Totals {
    /// Fold rate totals into their fields (23 % and 22 % into `P_13_1`, …).
    pub(crate) fn fold(rates: &[RateTotal]) -> Result<Totals, Error> {
        let mut t = Totals::default();
        for r in rates {
            let slot = &mut t.fields[r.rate.totals_field() as usize];
            let cur = slot.unwrap_or_default();
            *slot = Some(FieldTotal {
                net: vat::add(cur.net, r.net)?,
                vat: vat::add(cur.vat, r.vat)?,
                vat_pln: opt_add(cur.vat_pln, r.vat_pln)?,
            });
        }
        Ok(t)
    }

    /// The totals an existing invoice states.
    pub(crate) fn of_fa(fa: &Fa) -> Totals {
        let mut t = Totals::default();
        let taxed = |net: Option<Decimal>, vat: Option<Decimal>, w: Option<Decimal>| {
            (net.is_some() || vat.is_some()).then(|| FieldTotal {
                net: net.unwrap_or_default(),
                vat: vat.unwrap_or_default(),
                vat_pln: w,
            })
        };
        let plain = |net: Option<Decimal>| {
            net.map(|n| FieldTotal {
                net: n,
                ..FieldTotal::default()
            })
        };
        t.fields = [
            taxed(fa.p_13_1, fa.p_14_1, fa.p_14_1w),
            taxed(fa.p_13_2, fa.p_14_2, fa.p_14_2w),
            taxed(fa.p_13_3, fa.p_14_3, fa.p_14_3w),
            taxed(fa.p_13_4, fa.p_14_4, fa.p_14_4w),
            plain(fa.p_13_6_1),
            plain(fa.p_13_6_2),
            plain(fa.p_13_6_3),
            plain(fa.p_13_7),
            plain(fa.p_13_8),
            plain(fa.p_13_9),
            plain(fa.p_13_10),
            plain(fa.p_13_11),
        ];
        t
    }

    /// `self − before`, keeping only the fields whose difference is not zero.
    pub(crate) fn minus(&self, before: &Totals) -> Result<Totals, Error> {
        let mut t = Totals::default();
        for i in 0..12 {
            let (a, b) = (self.fields[i], before.fields[i]);
            if a.is_none() && b.is_none() {
                continue;
            }
            let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
            let w = match (a.vat_pln, b.vat_pln) {
                (None, None) => None,
                (x, y) => Some(vat::sub(x.unwrap_or_default(), y.unwrap_or_default())?),
            };
            let d = FieldTotal {
                net: vat::sub(a.net, b.net)?,
                vat: vat::sub(a.vat, b.vat)?,
                vat_pln: w,
            };
            if !(d.net.is_zero() && d.vat.is_zero() && d.vat_pln.unwrap_or_default().is_zero()) {
                t.fields[i] = Some(d);
            }
        }
        Ok(t)
    }

    /// `P_15` = Σ `P_13_x` + Σ `P_14_x`.
    pub(crate) fn total(&self) -> Result<Decimal, Error> {
        let mut s = Decimal::ZERO;
        for f in self.fields.iter().flatten() {
            s = vat::add(s, vat::add(f.net, f.vat)?)?;
        }
        Ok(s)
    }

    /// `true` when any field is written.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.iter().all(Option::is_none)
    }

    /// Write the fields into `fa` (clearing the others) and check that each fits.
    pub(crate) fn write(&self, fa: &mut Fa) -> Result<(), Error> {
        for f in TotalsField::ALL {
            let v = self.fields[f as usize];
            let path = alloc::format!("totals.{}", f.net_field());
            if let Some(v) = v {
                check::amount(&path, v.net)?;
                check::amount(&path, v.vat)?;
                check::amount(&path, v.vat_pln.unwrap_or_default())?;
            }
            let net = v.map(|v| v.net);
            let tax = v.map(|v| v.vat);
            let w = v.and_then(|v| v.vat_pln);
            match f {
                TotalsField::Basic => (fa.p_13_1, fa.p_14_1, fa.p_14_1w) = (net, tax, w),
                TotalsField::Reduced1 => (fa.p_13_2, fa.p_14_2, fa.p_14_2w) = (net, tax, w),
                TotalsField::Reduced2 => (fa.p_13_3, fa.p_14_3, fa.p_14_3w) = (net, tax, w),
                TotalsField::Taxi => (fa.p_13_4, fa.p_14_4, fa.p_14_4w) = (net, tax, w),
                TotalsField::ZeroDomestic => fa.p_13_6_1 = net,
                TotalsField::ZeroWdt => fa.p_13_6_2 = net,
                TotalsField::ZeroExport => fa.p_13_6_3 = net,
                TotalsField::Exempt => fa.p_13_7 = net,
                TotalsField::NpI => fa.p_13_8 = net,
                TotalsField::NpII => fa.p_13_9 = net,
                TotalsField::ReverseCharge => fa.p_13_10 = net,
                TotalsField::Margin => fa.p_13_11 = net,
            }
        }
        fa.p_13_5 = None;
        fa.p_14_5 = None;
        let total = self.total()?;
        fa.p_15 = check::amount("totals.P_15", total)?;
        Ok(())
    }
}

/// Split a gross `amount` over the rates in proportion to their gross values (the advance or
/// the remainder of an order); the shares add up to `amount` exactly.
pub(crate) fn shares(
    amount: Decimal,
    groups: Vec<RateInput>,
    gross: &[Decimal],
    path: &str,
) -> Result<Vec<(RateInput, Decimal)>, Error> {
    let parts = vat::allocate(amount, gross).map_err(|e| check::at(e, path))?;
    Ok(groups.into_iter().zip(parts).collect())
}
