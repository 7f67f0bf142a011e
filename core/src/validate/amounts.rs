//! Amounts: line values, totals per rate bucket, tax, total due, currency, settlement.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use rust_decimal::RoundingStrategy;

use super::{fa_path, line_path, Ctx, Rule};
use crate::model::{
    Decimal, DoZaplatyWybor, Fa, FaWiersz, KodWaluty, PMarzy, RodzajFaktury as Kind,
    StawkaPodatku as R, Wybor12, Zwolnienie,
};

/// The `P_13_x` totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    F1,
    F2,
    F3,
    F4,
    F5,
    F61,
    F62,
    F63,
    F7,
    F8,
    F9,
    F10,
    F11,
}

use Field::*;

const FIELDS: [Field; 13] = [F1, F2, F3, F4, F5, F61, F62, F63, F7, F8, F9, F10, F11];

/// A tax total `P_14_x` and its PLN counterpart `P_14_xW`.
struct Tax {
    name: &'static str,
    value: Option<Decimal>,
    w_name: Option<&'static str>,
    w_value: Option<Decimal>,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            F1 => "P_13_1",
            F2 => "P_13_2",
            F3 => "P_13_3",
            F4 => "P_13_4",
            F5 => "P_13_5",
            F61 => "P_13_6_1",
            F62 => "P_13_6_2",
            F63 => "P_13_6_3",
            F7 => "P_13_7",
            F8 => "P_13_8",
            F9 => "P_13_9",
            F10 => "P_13_10",
            F11 => "P_13_11",
        }
    }

    fn get(self, fa: &Fa) -> Option<Decimal> {
        match self {
            F1 => fa.p_13_1,
            F2 => fa.p_13_2,
            F3 => fa.p_13_3,
            F4 => fa.p_13_4,
            F5 => fa.p_13_5,
            F61 => fa.p_13_6_1,
            F62 => fa.p_13_6_2,
            F63 => fa.p_13_6_3,
            F7 => fa.p_13_7,
            F8 => fa.p_13_8,
            F9 => fa.p_13_9,
            F10 => fa.p_13_10,
            F11 => fa.p_13_11,
        }
    }

    fn tax(self, fa: &Fa) -> Option<Tax> {
        let (name, value, w_name, w_value) = match self {
            F1 => ("P_14_1", fa.p_14_1, Some("P_14_1W"), fa.p_14_1w),
            F2 => ("P_14_2", fa.p_14_2, Some("P_14_2W"), fa.p_14_2w),
            F3 => ("P_14_3", fa.p_14_3, Some("P_14_3W"), fa.p_14_3w),
            F4 => ("P_14_4", fa.p_14_4, Some("P_14_4W"), fa.p_14_4w),
            F5 => ("P_14_5", fa.p_14_5, None, None),
            _ => return None,
        };
        Some(Tax {
            name,
            value,
            w_name,
            w_value,
        })
    }

    /// The lines that belong here, in words.
    fn what(self) -> &'static str {
        match self {
            F1 => "rate 23/22",
            F2 => "rate 8/7",
            F3 => "rate 5",
            F4 => "rate 4/3 (taxi flat rate)",
            F5 => "the OSS procedure (P_12_XII)",
            F61 => "rate 0 KR",
            F62 => "rate 0 WDT",
            F63 => "rate 0 EX",
            F7 => "rate zw",
            F8 => "rate np I",
            F9 => "rate np II",
            F10 => "rate oo",
            F11 => "the margin procedure",
        }
    }

    /// The rates (percent) a bucket may have when no line says which.
    fn default_rates(self) -> &'static [u32] {
        match self {
            F1 => &[23, 22],
            F2 => &[8, 7],
            F3 => &[5],
            F4 => &[4, 3],
            _ => &[],
        }
    }

    /// The fields compared together with this one. FA(2)'s `0` covers P_13_6_1..3 and its
    /// `np` covers P_13_8 and P_13_9: when such lines occur, those fields form one group.
    fn group(self, zero_merged: bool, np_merged: bool) -> &'static [Field] {
        match self {
            F61 | F62 | F63 if zero_merged => &[F61, F62, F63],
            F8 | F9 if np_merged => &[F8, F9],
            F1 => &[F1],
            F2 => &[F2],
            F3 => &[F3],
            F4 => &[F4],
            F5 => &[F5],
            F61 => &[F61],
            F62 => &[F62],
            F63 => &[F63],
            F7 => &[F7],
            F8 => &[F8],
            F9 => &[F9],
            F10 => &[F10],
            F11 => &[F11],
        }
    }
}

/// The bucket of a rate code and its percentage (for taxed buckets).
fn bucket_of(rate: R) -> (Field, Option<u32>) {
    match rate {
        R::R23 => (F1, Some(23)),
        R::R22 => (F1, Some(22)),
        R::R8 => (F2, Some(8)),
        R::R7 => (F2, Some(7)),
        R::R5 => (F3, Some(5)),
        R::R4 => (F4, Some(4)),
        R::R3 => (F4, Some(3)),
        R::R0Kr | R::R0 => (F61, None),
        R::R0Wdt => (F62, None),
        R::R0Ex => (F63, None),
        R::Zw => (F7, None),
        R::NpI | R::Np => (F8, None),
        R::NpII => (F9, None),
        R::Oo => (F10, None),
    }
}

/// A line as the totals see it.
struct Line {
    /// Index in `FaWiersz`.
    idx: usize,
    /// Its bucket (the group's first field after merging).
    key: Field,
    /// Tax rate in percent for taxed buckets.
    rate: Option<Decimal>,
    /// `P_11`, negative for a before-correction line.
    net: Option<Decimal>,
    /// `P_11A`, negative for a before-correction line.
    gross: Option<Decimal>,
    /// `KursWaluty`.
    kurs: Option<Decimal>,
    /// The element that put it in its bucket (`P_12`, `P_12_XII`, or the amount itself).
    rate_element: &'static str,
}

impl Line {
    fn has_amount(&self) -> bool {
        self.net.is_some() || self.gross.is_some()
    }

    fn amount_element(&self) -> &'static str {
        if self.net.is_some() {
            "P_11"
        } else {
            "P_11A"
        }
    }
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount for messages: rounded to, and shown with, 2 decimals.
fn money(d: Decimal) -> String {
    let mut x = round2(d);
    x.rescale(2);
    format!("{x}")
}

/// `tol × max(min, n)`.
fn tolerance(tol: Decimal, n: usize, min: usize) -> Decimal {
    let n = u64::try_from(n.max(min)).unwrap_or(u64::MAX);
    tol.checked_mul(Decimal::from(n)).unwrap_or(Decimal::MAX)
}

/// `a − b` for messages (0 if it cannot be computed; the check itself used checked arithmetic).
fn minus(a: Decimal, b: Decimal) -> Decimal {
    a.checked_sub(b).unwrap_or_default()
}

fn within(a: Decimal, b: Decimal, tol: Decimal) -> Option<bool> {
    Some(a.checked_sub(b)?.abs() <= tol)
}

fn sum<I: IntoIterator<Item = Decimal>>(items: I) -> Option<Decimal> {
    items
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, x| acc.checked_add(x))
}

/// `amount × rate / 100`, rounded.
fn tax_on_net(net: Decimal, rate: Decimal) -> Option<Decimal> {
    Some(round2(
        net.checked_mul(rate)?.checked_div(Decimal::ONE_HUNDRED)?,
    ))
}

/// `gross × rate / (100 + rate)`, rounded (art. 106e ust. 10, art. 106f ust. 1 pkt 3).
fn tax_in_gross(gross: Decimal, rate: Decimal) -> Option<Decimal> {
    let den = Decimal::ONE_HUNDRED.checked_add(rate)?;
    Some(round2(gross.checked_mul(rate)?.checked_div(den)?))
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let fa = &ctx.inv.fa;
    let kind = fa.rodzaj_faktury;
    let correction = matches!(kind, Kind::Kor | Kind::KorZal | Kind::KorRoz);
    // Amounts of corrections are differences of two rounded values.
    let min_lines = if correction { 2 } else { 1 };
    let margin = matches!(fa.adnotacje.p_marzy, PMarzy::PPmarzy { .. });
    let exempt = matches!(fa.adnotacje.zwolnienie, Zwolnienie::P19 { .. });
    let zero_merged = fa.fa_wiersz.iter().any(|w| w.p_12 == Some(R::R0));
    let np_merged = fa.fa_wiersz.iter().any(|w| w.p_12 == Some(R::Np));

    // Lines: their own arithmetic, their bucket.
    let mut lines = Vec::with_capacity(fa.fa_wiersz.len());
    let mut unassigned = false;
    for (i, w) in fa.fa_wiersz.iter().enumerate() {
        line_value(ctx, i, w);
        let has_amount = w.p_11.is_some() || w.p_11a.is_some();
        let before = correction && w.stan_przed.is_some();
        let signed = |v: Option<Decimal>| v.map(|x| if before { -x } else { x });
        let class = if let Some(xii) = w.p_12_xii {
            Some((F5, Some(xii), "P_12_XII"))
        } else if let Some(rate) = w.p_12 {
            let (f, r) = bucket_of(rate);
            Some((f, r.map(Decimal::from), "P_12"))
        } else if margin && exempt {
            // Either bucket could be meant: the line is allowed, its bucket unknown.
            if has_amount {
                unassigned = true;
            }
            continue;
        } else if margin {
            Some((F11, None, ""))
        } else if exempt {
            Some((F7, None, ""))
        } else {
            None
        };
        match class {
            Some((f, rate, rate_element)) => lines.push(Line {
                idx: i,
                key: f.group(zero_merged, np_merged)[0],
                rate,
                net: signed(w.p_11),
                gross: signed(w.p_11a),
                kurs: w.kurs_waluty,
                rate_element,
            }),
            None if has_amount => {
                unassigned = true;
                if kind != Kind::Upr {
                    ctx.error(
                        Rule::RateMissing,
                        line_path(i, "P_12"),
                        String::from(
                            "the line has an amount but no tax rate P_12; P_12 may be left out \
                             only on simplified invoices (UPR, art. 106e ust. 5 pkt 3), under \
                             the margin procedure (Adnotacje/PMarzy, art. 106e ust. 2 and 3) \
                             and for exempt supplies (Adnotacje/Zwolnienie/P_19, art. 106e \
                             ust. 4 pkt 3)",
                        ),
                    );
                }
            }
            None => {}
        }
    }
    let amount_lines = fa
        .fa_wiersz
        .iter()
        .filter(|w| w.p_11.is_some() || w.p_11a.is_some())
        .count();
    let any_total = FIELDS.iter().any(|f| f.get(fa).is_some())
        || FIELDS
            .iter()
            .filter_map(|f| f.tax(fa))
            .any(|t| t.value.is_some());

    // Lines against buckets: for VAT, KOR and UPR (ZAL/KOR_ZAL lines are optional and not
    // the advance; ROZ/KOR_ROZ lines show the whole order while P_13_x is what is left).
    let lines_vs_buckets =
        matches!(kind, Kind::Vat | Kind::Kor) || (kind == Kind::Upr && any_total);
    if lines_vs_buckets && amount_lines > 0 && !unassigned {
        for f in FIELDS {
            let group = f.group(zero_merged, np_merged);
            if group[0] == f {
                bucket_total(ctx, group, &lines);
            }
        }
    }

    for f in [F1, F2, F3, F4, F5] {
        tax_amount(ctx, f, &lines, min_lines);
    }
    total_due(ctx, kind, any_total, amount_lines, min_lines);
    annotations(ctx);
    settlement(ctx);
    partial_payments(ctx);
    order_total(ctx);
}

/// `P_11 = P_8B × P_9A − P_10` (or `P_8B × (P_9A − P_10)`), and the same for gross values.
fn line_value(ctx: &mut Ctx<'_>, i: usize, w: &FaWiersz) {
    let Some(qty) = w.p_8b else {
        return;
    };
    for (value, price, value_name, price_name) in [
        (w.p_11, w.p_9a, "P_11", "P_9A"),
        (w.p_11a, w.p_9b, "P_11A", "P_9B"),
    ] {
        let (Some(value), Some(price)) = (value, price) else {
            continue;
        };
        let candidates = match w.p_10 {
            None => [qty.checked_mul(price), None],
            Some(disc) => [
                qty.checked_mul(price).and_then(|x| x.checked_sub(disc)),
                price.checked_sub(disc).and_then(|p| qty.checked_mul(p)),
            ],
        };
        if candidates[0].is_none() {
            ctx.overflow(&line_path(i, value_name));
            continue;
        }
        let tol = ctx.tol;
        let ok = candidates
            .iter()
            .flatten()
            .any(|c| within(value, round2(*c), tol) == Some(true));
        if !ok {
            let expected = candidates[0].map(round2).unwrap_or_default();
            let formula = match w.p_10 {
                None => format!("P_8B × {price_name} = {qty} × {price}"),
                Some(d) => format!("P_8B × {price_name} − P_10 = {qty} × {price} − {d}"),
            };
            ctx.warn(
                Rule::LineValue,
                line_path(i, value_name),
                format!(
                    "{value_name} is {value}, but {formula} = {} (difference {})",
                    money(expected),
                    money(minus(value, expected))
                ),
            );
        }
    }
}

/// Σ lines of a bucket vs its `P_13_x` (or `P_13_x + P_14_x` for gross lines).
fn bucket_total(ctx: &mut Ctx<'_>, group: &[Field], lines: &[Line]) {
    let fa = &ctx.inv.fa;
    let first = group[0];
    let glines: Vec<&Line> = lines
        .iter()
        .filter(|l| l.key == first && l.has_amount())
        .collect();
    let present: Vec<Decimal> = group.iter().filter_map(|f| f.get(fa)).collect();
    let field_names = group
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(" + ");
    let path = fa_path(
        group
            .iter()
            .find(|f| f.get(fa).is_some())
            .unwrap_or(&first)
            .name(),
    );
    let Some(p13) = sum(present.iter().copied()) else {
        ctx.overflow(&path);
        return;
    };
    let tol = tolerance(ctx.tol, glines.len(), 1);
    if glines.is_empty() {
        if !present.is_empty() && p13.abs() > tol {
            ctx.error(
                Rule::BucketTotal,
                path,
                format!(
                    "{field_names} is {}, but no line (FaWiersz) has {}",
                    money(p13),
                    first.what()
                ),
            );
        }
        return;
    }
    let tax = first.tax(fa);
    let taxed = tax.is_some();
    let all_net = glines.iter().all(|l| l.net.is_some());
    let no_net = glines.iter().all(|l| l.net.is_none());
    // What the lines add up to, what it is compared with, and how that is named.
    let (lines_sum, target, target_name, unit) = if !taxed || all_net {
        let s = sum(glines.iter().map(|l| l.net.or(l.gross).unwrap_or_default()));
        (s, Some(p13), field_names.clone(), "")
    } else if no_net {
        let s = sum(glines.iter().map(|l| l.gross.unwrap_or_default()));
        let t = tax
            .as_ref()
            .and_then(|t| t.value)
            .unwrap_or_default()
            .checked_add(p13);
        let name = format!(
            "{field_names} + {}",
            tax.as_ref().map(|t| t.name).unwrap_or_default()
        );
        (s, t, name, " gross (P_11A)")
    } else {
        // Mixed: net of gross-only lines estimated from their rate.
        let s = glines.iter().try_fold(Decimal::ZERO, |acc, l| {
            let net = match (l.net, l.gross, l.rate) {
                (Some(n), _, _) => n,
                (None, Some(g), Some(r)) => g
                    .checked_mul(Decimal::ONE_HUNDRED)?
                    .checked_div(Decimal::ONE_HUNDRED.checked_add(r)?)?,
                (None, Some(g), None) => g,
                (None, None, _) => Decimal::ZERO,
            };
            acc.checked_add(net)
        });
        (s, Some(p13), field_names.clone(), " net")
    };
    let (Some(lines_sum), Some(target)) = (lines_sum, target) else {
        ctx.overflow(&path);
        return;
    };
    if present.is_empty() {
        if lines_sum.abs() > tol {
            for l in glines
                .iter()
                .filter(|l| l.net.or(l.gross) != Some(Decimal::ZERO))
            {
                let element = if l.rate_element.is_empty() {
                    l.amount_element()
                } else {
                    l.rate_element
                };
                ctx.error(
                    Rule::RateBucket,
                    line_path(l.idx, element),
                    format!(
                        "the line has {}; its amount belongs in {field_names}, which is missing",
                        first.what()
                    ),
                );
            }
        }
        return;
    }
    let Some(diff) = lines_sum.checked_sub(target) else {
        ctx.overflow(&path);
        return;
    };
    if diff.abs() > tol {
        let mut rows = glines
            .iter()
            .take(5)
            .map(|l| format!("FaWiersz[{}]", l.idx + 1))
            .collect::<Vec<_>>()
            .join(", ");
        if glines.len() > 5 {
            rows.push_str(&format!(" and {} more", glines.len() - 5));
        }
        ctx.error(
            Rule::BucketTotal,
            path,
            format!(
                "the lines with {} ({rows}) add up to {}{unit}, but {target_name} is {} \
                 (difference {}, more than the {} allowed for rounding)",
                first.what(),
                money(lines_sum),
                money(target),
                money(diff),
                money(tol)
            ),
        );
    }
}

/// `P_14_x` vs `P_13_x × rate`, or the tax contained in `P_13_x + P_14_x`; then `P_14_xW`.
fn tax_amount(ctx: &mut Ctx<'_>, f: Field, lines: &[Line], min_lines: usize) {
    let fa = &ctx.inv.fa;
    let Some(tax) = f.tax(fa) else {
        return;
    };
    let glines: Vec<&Line> = lines.iter().filter(|l| l.key == f).collect();
    let n = glines.iter().filter(|l| l.has_amount()).count();
    let tol = tolerance(ctx.tol, n, min_lines);
    let mut rates: Vec<Decimal> = Vec::new();
    for r in glines.iter().filter_map(|l| l.rate) {
        if !rates.contains(&r) {
            rates.push(r);
        }
    }
    if rates.is_empty() {
        rates = f
            .default_rates()
            .iter()
            .map(|&r| Decimal::from(r))
            .collect();
    }
    if let (Some(p13), Some(p14)) = (f.get(fa), tax.value) {
        // Several rates in one bucket (22 and 23): the tax cannot be recomputed from the total.
        if rates.len() == 1 || glines.is_empty() {
            let mut ok = false;
            let mut first_expected = None;
            for &r in &rates {
                let a = tax_on_net(p13, r);
                let b = p13.checked_add(p14).and_then(|g| tax_in_gross(g, r));
                let (Some(a), Some(b)) = (a, b) else {
                    ctx.overflow(&fa_path(tax.name));
                    return;
                };
                first_expected.get_or_insert((r, a, b));
                if within(p14, a, tol) == Some(true) || within(p14, b, tol) == Some(true) {
                    ok = true;
                }
            }
            if let (false, Some((r, a, b))) = (ok, first_expected) {
                ctx.error(
                    Rule::TaxAmount,
                    fa_path(tax.name),
                    format!(
                        "{} is {}, but {r}% of {} ({}) is {} and the tax contained in {} + {} \
                         is {} (difference {}, more than the {} allowed for rounding)",
                        tax.name,
                        money(p14),
                        f.name(),
                        money(p13),
                        money(a),
                        f.name(),
                        tax.name,
                        money(b),
                        money(minus(p14, a)),
                        money(tol)
                    ),
                );
            }
        }
    }
    tax_in_pln(ctx, &tax, &glines, tol);
}

/// In a foreign currency `P_14_xW` is required and equals `P_14_x × exchange rate`.
fn tax_in_pln(ctx: &mut Ctx<'_>, tax: &Tax, glines: &[&Line], tol: Decimal) {
    let fa = &ctx.inv.fa;
    let Some(w_name) = tax.w_name else {
        return;
    };
    let currency = fa.kod_waluty.code();
    if fa.kod_waluty == KodWaluty::Pln {
        if tax.w_value.is_some() {
            ctx.warn(
                Rule::TaxInPln,
                fa_path(w_name),
                format!(
                    "{w_name} is the tax converted to PLN for invoices in a foreign currency; \
                     this invoice is in PLN"
                ),
            );
        }
        return;
    }
    let Some(p14) = tax.value else {
        return;
    };
    let Some(w) = tax.w_value else {
        ctx.error(
            Rule::TaxInPln,
            fa_path(w_name),
            format!(
                "{w_name} (the tax in PLN, art. 106e ust. 11) is required: the invoice is in \
                 {currency} and has {}",
                tax.name
            ),
        );
        return;
    };
    let mut rates: Vec<Decimal> = Vec::new();
    for k in glines.iter().filter_map(|l| l.kurs) {
        if !rates.contains(&k) {
            rates.push(k);
        }
    }
    let kurs = match rates.as_slice() {
        [k] => *k,
        [] => match fa.kurs_waluty_z {
            Some(k) => k,
            None => return,
        },
        _ => return,
    };
    let Some(expected) = p14.checked_mul(kurs).map(round2) else {
        ctx.overflow(&fa_path(w_name));
        return;
    };
    let tol_w = tol.checked_mul(kurs.abs().max(Decimal::ONE)).unwrap_or(tol);
    if within(w, expected, tol_w) != Some(true) {
        ctx.error(
            Rule::TaxInPln,
            fa_path(w_name),
            format!(
                "{w_name} is {}, but {} × exchange rate = {} × {kurs} = {} (difference {}, more \
                 than the {} allowed for rounding)",
                money(w),
                tax.name,
                money(p14),
                money(expected),
                money(minus(w, expected)),
                money(tol_w)
            ),
        );
    }
}

/// `P_15 = Σ P_13_x + Σ P_14_x`.
fn total_due(ctx: &mut Ctx<'_>, kind: Kind, any_total: bool, amount_lines: usize, min: usize) {
    let fa = &ctx.inv.fa;
    // Simplified invoices may leave out the totals (art. 106e ust. 5 pkt 3).
    if kind == Kind::Upr && !any_total {
        return;
    }
    let nets = FIELDS.iter().filter_map(|f| f.get(fa));
    let taxes = FIELDS
        .iter()
        .filter_map(|f| f.tax(fa))
        .filter_map(|t| t.value);
    let Some(total) = sum(nets.chain(taxes)) else {
        ctx.overflow(&fa_path("P_15"));
        return;
    };
    let tol = tolerance(ctx.tol, amount_lines, min);
    let Some(diff) = fa.p_15.checked_sub(total) else {
        ctx.overflow(&fa_path("P_15"));
        return;
    };
    if diff.abs() > tol {
        let meaning = match kind {
            Kind::Zal => " (for ZAL: the payment received)",
            Kind::Roz => " (for ROZ: the amount left to pay)",
            Kind::Kor | Kind::KorZal | Kind::KorRoz => " (for corrections: the difference)",
            _ => "",
        };
        ctx.error(
            Rule::TotalDue,
            fa_path("P_15"),
            format!(
                "P_15{meaning} is {}, but the P_13_x and P_14_x amounts add up to {} \
                 (difference {}, more than the {} allowed for rounding)",
                money(fa.p_15),
                money(total),
                money(diff),
                money(tol)
            ),
        );
    }
}

/// `zw` needs `Zwolnienie/P_19`, `oo` needs `P_18 = 1`, margin sales need `PMarzy`.
fn annotations(ctx: &mut Ctx<'_>) {
    let fa = &ctx.inv.fa;
    let nonzero = |v: Option<Decimal>| v.is_some_and(|x| !x.is_zero());
    let has_rate = |r: R| fa.fa_wiersz.iter().any(|w| w.p_12 == Some(r));
    let adn = &fa.adnotacje;
    if (has_rate(R::Zw) || nonzero(fa.p_13_7)) && matches!(adn.zwolnienie, Zwolnienie::P19n(_)) {
        ctx.error(
            Rule::ExemptionBasis,
            fa_path("Adnotacje/Zwolnienie/P_19N"),
            String::from(
                "the invoice has exempt sales (P_12 zw or P_13_7) but Adnotacje/Zwolnienie says \
                 P_19N (no exemption); give P_19 = 1 and the legal basis in P_19A (the Polish \
                 act), P_19B (the directive) or P_19C (other basis)",
            ),
        );
    }
    if (has_rate(R::Oo) || nonzero(fa.p_13_10)) && adn.p_18 != Wybor12::Tak {
        ctx.error(
            Rule::ReverseCharge,
            fa_path("Adnotacje/P_18"),
            String::from(
                "the invoice has reverse-charge sales (P_12 oo or P_13_10) but P_18 is 2; the \
                 invoice must say \"odwrotne obciążenie\" (P_18 = 1)",
            ),
        );
    }
    if nonzero(fa.p_13_11) && matches!(adn.p_marzy, PMarzy::PPmarzyN(_)) {
        ctx.error(
            Rule::MarginProcedure,
            fa_path("Adnotacje/PMarzy/P_PMarzyN"),
            String::from(
                "P_13_11 (margin-procedure sales) is filled but Adnotacje/PMarzy says P_PMarzyN \
                 (no margin procedure); give P_PMarzy = 1 and the kind of margin procedure",
            ),
        );
    }
}

/// `Rozliczenie`: sums of charges and deductions, and the amount to pay or to settle.
fn settlement(ctx: &mut Ctx<'_>) {
    let fa = &ctx.inv.fa;
    let Some(r) = &fa.rozliczenie else {
        return;
    };
    let base = "Rozliczenie";
    let charges = sum(r.obciazenia.iter().map(|o| o.kwota));
    let deductions = sum(r.odliczenia.iter().map(|o| o.kwota));
    let (Some(charges), Some(deductions)) = (charges, deductions) else {
        ctx.overflow(&fa_path(base));
        return;
    };
    let mut effective = [charges, deductions];
    for (k, (declared, items, name, item)) in [
        (
            r.suma_obciazen,
            r.obciazenia.len(),
            "SumaObciazen",
            "Obciazenia",
        ),
        (
            r.suma_odliczen,
            r.odliczenia.len(),
            "SumaOdliczen",
            "Odliczenia",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(declared) = declared else {
            continue;
        };
        if items == 0 {
            effective[k] = declared;
        } else if declared != effective[k] {
            ctx.error(
                Rule::Settlement,
                fa_path(&format!("{base}/{name}")),
                format!(
                    "{name} is {}, but the {item}/Kwota amounts add up to {}",
                    money(declared),
                    money(effective[k])
                ),
            );
        }
    }
    let Some(due) = fa
        .p_15
        .checked_add(effective[0])
        .and_then(|x| x.checked_sub(effective[1]))
    else {
        ctx.overflow(&fa_path(base));
        return;
    };
    let (name, declared, expected) = match r.do_zaplaty_wybor {
        Some(DoZaplatyWybor::DoZaplaty(x)) => ("DoZaplaty", x, due),
        Some(DoZaplatyWybor::DoRozliczenia(x)) => ("DoRozliczenia", x, -due),
        None => return,
    };
    if declared != expected {
        ctx.error(
            Rule::Settlement,
            fa_path(&format!("{base}/{name}")),
            format!(
                "{name} is {}, but P_15 + charges − deductions = {} + {} − {} = {}{}",
                money(declared),
                money(fa.p_15),
                money(effective[0]),
                money(effective[1]),
                money(due),
                if name == "DoRozliczenia" {
                    " (DoRozliczenia is the overpaid amount, positive)"
                } else {
                    ""
                }
            ),
        );
    }
}

/// `ZaliczkaCzesciowa/P_15Z`: the payments make up `P_15` on an advance invoice; on a
/// settlement invoice they cannot exceed it.
fn partial_payments(ctx: &mut Ctx<'_>) {
    let fa = &ctx.inv.fa;
    if fa.zaliczka_czesciowa.is_empty() {
        return;
    }
    let path = fa_path("ZaliczkaCzesciowa");
    let Some(paid) = sum(fa.zaliczka_czesciowa.iter().map(|z| z.p_15z)) else {
        ctx.overflow(&path);
        return;
    };
    match fa.rodzaj_faktury {
        Kind::Zal if paid != fa.p_15 => ctx.error(
            Rule::PartialPayments,
            path,
            format!(
                "the payments P_15Z add up to {}, but P_15 is {} (XSD: the P_15Z amounts make \
                 up P_15)",
                money(paid),
                money(fa.p_15)
            ),
        ),
        Kind::Roz if paid > fa.p_15 => ctx.warn(
            Rule::PartialPayments,
            path,
            format!(
                "the payments P_15Z add up to {}, more than P_15 {} (XSD: P_15 minus the P_15Z \
                 amounts is what is left above the payments)",
                money(paid),
                money(fa.p_15)
            ),
        ),
        _ => {}
    }
}

/// `Zamowienie/WartoscZamowienia` = Σ rows' `P_11NettoZ + P_11VatZ` (after-correction rows).
fn order_total(ctx: &mut Ctx<'_>) {
    let fa = &ctx.inv.fa;
    let Some(z) = &fa.zamowienie else {
        return;
    };
    let before_rows = z.zamowienie_wiersz.iter().any(|w| w.stan_przed_z.is_some());
    let error = match fa.rodzaj_faktury {
        Kind::Zal => true,
        // By difference rows do not give the order value; before/after rows do.
        Kind::KorZal if before_rows => false,
        _ => return,
    };
    let rows: Vec<_> = z
        .zamowienie_wiersz
        .iter()
        .filter(|w| w.stan_przed_z.is_none())
        .collect();
    if rows.is_empty() || rows.iter().any(|w| w.p_11netto_z.is_none()) {
        return;
    }
    let path = fa_path("Zamowienie/WartoscZamowienia");
    let Some(total) = rows.iter().try_fold(Decimal::ZERO, |acc, w| {
        acc.checked_add(w.p_11netto_z.unwrap_or_default())?
            .checked_add(w.p_11vat_z.unwrap_or_default())
    }) else {
        ctx.overflow(&path);
        return;
    };
    let tol = tolerance(ctx.tol, rows.len(), 1);
    if within(z.wartosc_zamowienia, total, tol) != Some(true) {
        let message = format!(
            "WartoscZamowienia is {}, but the order rows{} add up to {} (P_11NettoZ + P_11VatZ)",
            money(z.wartosc_zamowienia),
            if before_rows {
                " after the correction"
            } else {
                ""
            },
            money(total)
        );
        if error {
            ctx.error(Rule::OrderTotal, path, message);
        } else {
            ctx.warn(Rule::OrderTotal, path, message);
        }
    }
}
