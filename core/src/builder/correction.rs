//! Corrections (KOR, KOR_ZAL, KOR_ROZ) built from the original invoice.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::model::{
    DaneFaKorygowanej, Decimal, Fa, FaWiersz, Faktura, Gv, Jst, KodWaluty, NrKsefWybor,
    RodzajFaktury, SchemaVersion, StawkaPodatku, TypKorekty, Wybor1, Zamowienie, ZamowienieWiersz,
};

use super::annotations::Annotations;
use super::header::Header;
use super::invoice::{check_currency, settlement_totals_paid, RateTotalsWithGroups};
use super::line::{check_exchange_rate, rate_of_code, Line, OrderSplit};
use super::payment::Payment;
use super::rate::{Method, VatRate};
use super::totals::{self, Item, Totals};
use super::{check, vat};

/// How changed lines are shown (both forms are allowed by the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorrectionStyle {
    /// Each changed line twice: as it was (`StanPrzed` = 1) and as it should be
    /// (FA_3_Przyklad_02). The recommended form, required in practice for a rate change.
    BeforeAfter,
    /// Each changed line once, with the differences (FA_3_Przyklad_03). A rate change is shown
    /// as the old line reversed plus the new line.
    Difference,
}

/// When the correction takes effect in the VAT records (`TypKorekty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorrectionEffect {
    /// In the period of the original invoice (`1`).
    OriginalDate,
    /// On the date of the correction (`2`).
    CorrectionDate,
    /// On another date, e.g. different dates for different lines (`3`).
    OtherDate,
}

impl CorrectionEffect {
    fn to_model(self) -> TypKorekty {
        match self {
            CorrectionEffect::OriginalDate => TypKorekty::V1,
            CorrectionEffect::CorrectionDate => TypKorekty::V2,
            CorrectionEffect::OtherDate => TypKorekty::V3,
        }
    }
}

/// A change to the original's lines. `row` is the original's line number (`NrWierszaFa`; for
/// a correction of an advance invoice, the order line number `NrWierszaZam`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LineChange {
    /// The line as it should have been.
    Replace {
        /// The original's line number.
        row: u64,
        /// The correct line.
        line: Line,
    },
    /// The line should not have been on the invoice.
    Remove {
        /// The original's line number.
        row: u64,
    },
    /// A line missing from the original.
    Add(Line),
}

/// A discount on the whole invoice, spread over all its lines (each line's `P_10` grows and
/// its value shrinks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WholeDiscount {
    /// A percentage off every line: each value becomes `round(value × (100 − p) / 100)`.
    Percent(Decimal),
    /// An amount off the invoice (net for [`Method::FromNet`], gross for
    /// [`Method::FromGross`]), split over the lines in proportion to their values with the
    /// rounding remainder on the largest line.
    Amount(Decimal),
}

/// Builds a correction (`KOR`; `KOR_ZAL` for an advance invoice, `KOR_ROZ` for a settlement
/// invoice) from the original invoice and the changes.
///
/// The correction copies the original's parties, currency, date of supply, annotations and
/// footer, refers to it in `DaneFaKorygowanej` (with `NrKSeF` + `NrKSeFFaKorygowanej` when
/// the original has a KSeF number, `NrKSeFN` otherwise), shows the changed lines in the
/// chosen [`CorrectionStyle`], and fills the totals with the differences:
///
/// - the state before is what the original states (`P_13_x`, `P_14_x`, `P_14_xW`);
/// - the state after is computed from the lines after the changes (unchanged lines keep the
///   values the original states for them), with the same [`Method`] as the original;
/// - each total field shows `after − before` (fields without a difference are left out) and
///   `P_15` their sum.
///
/// For `KOR_ZAL` the lines are the order lines (`Zamowienie`), the corrected advance is
/// [`CorrectionBuilder::advance_amount`] (default: unchanged), and the totals after are the
/// advance split in proportion to the corrected order. For `KOR_ROZ` the total of the advances
/// is [`CorrectionBuilder::advances_total`] (default: unchanged, i.e. the original's order
/// value less its `P_15`). In both, unchanged lines are repeated before/after to confirm them
/// when the totals change, as the XSD asks.
///
/// Not supported: corrections of corrections, corrections of party data (`Podmiot1K`,
/// `Podmiot2K`), collective corrections of many invoices (`OkresFaKorygowanej`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CorrectionBuilder {
    /// The invoice being corrected.
    pub original: Faktura,
    /// Its KSeF number, if it was issued in KSeF.
    pub original_ksef_number: Option<String>,
    /// Number, dates and place of the correction (`sale` defaults to the original's).
    pub header: Header,
    /// How changed lines are shown.
    pub style: CorrectionStyle,
    /// The reason (`PrzyczynaKorekty`).
    pub reason: Option<String>,
    /// When it takes effect (`TypKorekty`).
    pub effect: Option<CorrectionEffect>,
    /// How the original computed its tax; `None` = read from its lines (`P_11` → from net,
    /// `P_11A` → from gross). Required to add or replace order lines of an advance invoice.
    pub method: Option<Method>,
    /// The changes to the lines.
    pub changes: Vec<LineChange>,
    /// A discount on the whole invoice (KOR only), applied after the changes.
    pub discount: Option<WholeDiscount>,
    /// KOR_ZAL: the correct advance amount (gross).
    pub advance_amount: Option<Decimal>,
    /// KOR_ROZ: the correct total of the advances settled.
    pub advances_total: Option<Decimal>,
    /// Exchange rate for added or replaced lines without their own (foreign currency only);
    /// default: the replaced line's rate, or the original's when it used a single one. For
    /// KOR_ZAL: the rate of the corrected advance (`KursWalutyZ`).
    pub exchange_rate: Option<Decimal>,
    /// Annotations of the correction; `None` copies the original's.
    pub annotations: Option<Annotations>,
    /// Payment terms of the correction.
    pub payment: Option<Payment>,
}

impl CorrectionBuilder {
    /// A correction of `original` (copied), with its KSeF number if it has one.
    pub fn new(
        original: &Faktura,
        original_ksef_number: Option<String>,
        header: Header,
        style: CorrectionStyle,
    ) -> Self {
        CorrectionBuilder {
            original: original.clone(),
            original_ksef_number,
            header,
            style,
            reason: None,
            effect: None,
            method: None,
            changes: Vec::new(),
            discount: None,
            advance_amount: None,
            advances_total: None,
            exchange_rate: None,
            annotations: None,
            payment: None,
        }
    }

    /// Set the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Set when the correction takes effect.
    pub fn effect(mut self, effect: CorrectionEffect) -> Self {
        self.effect = Some(effect);
        self
    }

    /// Set the method explicitly.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Replace the original's line `row` with `line`.
    pub fn replace_line(mut self, row: u64, line: Line) -> Self {
        self.changes.push(LineChange::Replace { row, line });
        self
    }

    /// Remove the original's line `row`.
    pub fn remove_line(mut self, row: u64) -> Self {
        self.changes.push(LineChange::Remove { row });
        self
    }

    /// Add a line.
    pub fn add_line(mut self, line: Line) -> Self {
        self.changes.push(LineChange::Add(line));
        self
    }

    /// Set a discount on the whole invoice.
    pub fn discount(mut self, discount: WholeDiscount) -> Self {
        self.discount = Some(discount);
        self
    }

    /// KOR_ZAL: set the correct advance amount.
    pub fn advance_amount(mut self, amount: Decimal) -> Self {
        self.advance_amount = Some(amount);
        self
    }

    /// KOR_ROZ: set the correct total of the advances.
    pub fn advances_total(mut self, amount: Decimal) -> Self {
        self.advances_total = Some(amount);
        self
    }

    /// Set the exchange rate for new lines.
    pub fn exchange_rate(mut self, rate: Decimal) -> Self {
        self.exchange_rate = Some(rate);
        self
    }

    /// Set the annotations instead of copying the original's.
    pub fn annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = Some(annotations);
        self
    }

    /// Set the payment terms.
    pub fn payment(mut self, payment: Payment) -> Self {
        self.payment = Some(payment);
        self
    }

    /// Build the correction for `schema`.
    pub fn build(&self, schema: SchemaVersion) -> Result<Faktura, Error> {
        self.header.check("header", schema)?;
        let of = &self.original.fa;
        let kind = match of.rodzaj_faktury {
            RodzajFaktury::Vat | RodzajFaktury::Upr => RodzajFaktury::Kor,
            RodzajFaktury::Zal => RodzajFaktury::KorZal,
            RodzajFaktury::Roz => RodzajFaktury::KorRoz,
            other => {
                return Err(check::bad(
                    "original",
                    format!(
                        "the original is itself a correction ({}); correcting a correction is \
                         not supported",
                        other.code()
                    ),
                ))
            }
        };
        if let Some(k) = &self.original_ksef_number {
            check::text("original_ksef_number", k)?;
        }
        check::opt_text("reason", &self.reason)?;
        if self.advance_amount.is_some() && kind != RodzajFaktury::KorZal {
            return Err(check::bad(
                "advance_amount",
                "only a correction of an advance invoice (KOR_ZAL) changes the advance",
            ));
        }
        if self.advances_total.is_some() && kind != RodzajFaktury::KorRoz {
            return Err(check::bad(
                "advances_total",
                "only a correction of a settlement invoice (KOR_ROZ) changes the advances",
            ));
        }
        if self.discount.is_some() && kind != RodzajFaktury::Kor {
            return Err(check::bad(
                "discount",
                "a discount on the whole invoice is supported for KOR corrections only",
            ));
        }
        check_currency(of.kod_waluty, self.exchange_rate, &[], "")?;
        if of.kod_waluty == KodWaluty::Pln {
            for (i, c) in self.changes.iter().enumerate() {
                if line_of(c).is_some_and(|l| l.exchange_rate.is_some()) {
                    return Err(check::bad(
                        &format!("changes[{i}].line.exchange_rate"),
                        "an invoice in PLN has no exchange rate",
                    ));
                }
            }
        }
        let foreign = of.kod_waluty != KodWaluty::Pln;
        let before = Totals::of_fa(of);
        if foreign {
            for f in super::rate::TotalsField::ALL {
                if let Some(t) = before.fields[f as usize] {
                    if f.has_tax() && !t.vat.is_zero() && t.vat_pln.is_none() {
                        return Err(check::bad(
                            "original",
                            format!(
                                "the original in {} states no tax in PLN for {}",
                                of.kod_waluty.code(),
                                f.net_field()
                            ),
                        ));
                    }
                }
            }
        }

        let mut fa = Fa {
            kod_waluty: of.kod_waluty,
            p_1: self.header.issue_date,
            p_1m: self.header.place.clone(),
            p_2: self.header.number.clone(),
            p_6_wybor: self.header.p6().or_else(|| of.p_6_wybor.clone()),
            rodzaj_faktury: kind,
            przyczyna_korekty: self.reason.clone(),
            typ_korekty: self.effect.map(CorrectionEffect::to_model),
            dane_fa_korygowanej: alloc::vec![DaneFaKorygowanej {
                data_wyst_fa_korygowanej: of.p_1,
                nr_fa_korygowanej: of.p_2.clone(),
                nr_ksef_wybor: match &self.original_ksef_number {
                    Some(k) => NrKsefWybor::NrKsef {
                        nr_ksef: Wybor1::Tak,
                        nr_ksef_fa_korygowanej: k.clone(),
                    },
                    None => NrKsefWybor::NrKsefN(Wybor1::Tak),
                },
            }],
            platnosc: match &self.payment {
                Some(p) => Some(p.to_model("payment")?),
                None => None,
            },
            ..Fa::default()
        };

        let fallbacks = Fallbacks::of(of);
        let after_rates: Vec<VatRate>;
        let diff;
        match kind {
            RodzajFaktury::KorZal => {
                let (rows, rates, totals, value) = self.advance_correction(schema, &before)?;
                after_rates = rates;
                diff = totals;
                fa.zamowienie = Some(Zamowienie {
                    wartosc_zamowienia: value,
                    zamowienie_wiersz: rows,
                });
                fa.p_15zk = Some(of.p_15);
                if foreign {
                    fa.kurs_waluty_zk = of.kurs_waluty_z;
                    fa.kurs_waluty_z = self.exchange_rate.or(of.kurs_waluty_z);
                }
            }
            _ => {
                let method = self.method_of_lines()?;
                let before_rows = self.original_rows(schema, method, &fallbacks)?;
                let after_rows = self.after_rows(schema, method, &before_rows)?;
                if kind == RodzajFaktury::KorRoz && after_rows.iter().all(Option::is_none) {
                    return Err(check::bad(
                        "changes",
                        "a settlement invoice cannot lose every line (correct the advances instead)",
                    ));
                }
                after_rates = after_rows.iter().flatten().map(|r| r.rate).collect();
                let items = |rows: &[Option<Row>]| -> Vec<Item> {
                    rows.iter()
                        .flatten()
                        .map(|r| (r.rate, r.value, r.kurs))
                        .collect()
                };
                let after_items = items(&after_rows);
                let groups = totals::group(&after_items)?;
                let rates = totals::from_values(&groups, method, foreign, "changes")?;
                let after = if kind == RodzajFaktury::KorRoz {
                    let before_items: Vec<Item> = before_rows
                        .iter()
                        .map(|r| (r.rate, r.value, r.kurs))
                        .collect();
                    let bgroups = totals::group(&before_items)?;
                    let brates = totals::from_values(&bgroups, method, false, "original")?;
                    let mut order_before = Decimal::ZERO;
                    for r in &brates {
                        order_before = vat::add(order_before, r.gross()?)?;
                    }
                    let paid_before = vat::sub(order_before, of.p_15)?;
                    let paid = match self.advances_total {
                        Some(a) => {
                            if a < Decimal::ZERO {
                                return Err(check::bad(
                                    "advances_total",
                                    format!("the total of the advances {a} is negative"),
                                ));
                            }
                            check::places("advances_total", a, 2, "amount")?;
                            a
                        }
                        None => paid_before,
                    };
                    fa.p_15zk = Some(of.p_15);
                    fa.faktura_zaliczkowa = of.faktura_zaliczkowa.clone();
                    let full = RateTotalsWithGroups {
                        groups,
                        rates,
                        foreign,
                    };
                    settlement_totals_paid(paid, full, "advances_total")?
                } else {
                    Totals::fold(&rates)?
                };
                diff = after.minus(&before)?;
                let confirm = kind == RodzajFaktury::KorRoz && !diff.is_empty();
                let pairs: Vec<(Option<FaWiersz>, Option<FaWiersz>, bool)> = before_rows
                    .iter()
                    .map(Some)
                    .chain(core::iter::repeat(None))
                    .zip(after_rows.iter())
                    .map(|(b, a)| {
                        let same_rate = match (b, a) {
                            (Some(b), Some(a)) => b.rate == a.rate,
                            _ => true,
                        };
                        (
                            b.map(|b| b.fa.clone()),
                            a.as_ref().map(|a| a.fa.clone()),
                            same_rate,
                        )
                    })
                    .collect();
                fa.fa_wiersz = emit_rows(&pairs, self.style, confirm)?;
            }
        }
        fa.adnotacje = match &self.annotations {
            Some(a) => a.to_model(&after_rates)?,
            None => of.adnotacje.clone(),
        };
        diff.write(&mut fa)?;

        let mut podmiot2 = self.original.podmiot2.clone();
        match schema {
            SchemaVersion::Fa3 => {
                podmiot2.jst = podmiot2.jst.or(Some(Jst::Nie));
                podmiot2.gv = podmiot2.gv.or(Some(Gv::Nie));
            }
            SchemaVersion::Fa2 => {
                podmiot2.jst = None;
                podmiot2.gv = None;
            }
        }
        let inv = Faktura {
            naglowek: self.header.naglowek(),
            podmiot1: self.original.podmiot1.clone(),
            podmiot2,
            podmiot3: self.original.podmiot3.clone(),
            fa,
            stopka: self.original.stopka.clone(),
            ..Faktura::default()
        };
        crate::xml::check(&inv, schema)?;
        Ok(inv)
    }

    /// The method of the original's lines (or the one set).
    fn method_of_lines(&self) -> Result<Method, Error> {
        if let Some(m) = self.method {
            return Ok(m);
        }
        let (mut net, mut gross) = (false, false);
        for r in &self.original.fa.fa_wiersz {
            if r.p_12.is_none() && r.p_11.is_none() {
                continue; // a margin line is always gross
            }
            net |= r.p_11.is_some();
            gross |= r.p_11a.is_some() && r.p_11.is_none();
        }
        let margin_only = !self.original.fa.fa_wiersz.is_empty()
            && self
                .original
                .fa
                .fa_wiersz
                .iter()
                .all(|r| r.p_12.is_none() && r.p_11.is_none() && r.p_11a.is_some());
        match (net, gross) {
            (true, false) => Ok(Method::FromNet),
            (false, true) => Ok(Method::FromGross),
            // margin lines are gross whatever the method
            (false, false) if margin_only => Ok(Method::FromGross),
            _ => Err(check::bad(
                "method",
                "cannot tell from the original's lines whether it was computed from net (P_11) \
                 or gross (P_11A) values; set the method",
            )),
        }
    }

    /// The original's lines with their rates and values.
    fn original_rows(
        &self,
        schema: SchemaVersion,
        method: Method,
        fb: &Fallbacks,
    ) -> Result<Vec<Row>, Error> {
        let of = &self.original.fa;
        let mut out = Vec::with_capacity(of.fa_wiersz.len());
        for (j, r) in of.fa_wiersz.iter().enumerate() {
            let path = format!("original.fa_wiersz[{j}]");
            if r.stan_przed.is_some() {
                return Err(check::bad(
                    &path,
                    "the original has a before-correction line",
                ));
            }
            let rate = fb.rate(r.p_12, r.p_11a.is_some()).ok_or_else(|| {
                check::bad(
                    &path,
                    match r.p_12 {
                        Some(c) => format!(
                            "the rate `{}` does not say which totals field it belongs to \
                             (the original's totals do not tell either)",
                            c.code()
                        ),
                        None => String::from("the line has no rate (P_12)"),
                    },
                )
            })?;
            let gross = method == Method::FromGross || rate == VatRate::Margin;
            let value = if gross { r.p_11a } else { r.p_11 };
            let value = value.ok_or_else(|| {
                check::bad(
                    &path,
                    format!(
                        "the line has no {} value, needed to compute the correction",
                        if gross { "P_11A (gross)" } else { "P_11 (net)" }
                    ),
                )
            })?;
            let mut fa = r.clone();
            fa.p_12 = rate.code(schema);
            out.push(Row {
                fa,
                rate,
                value,
                kurs: r.kurs_waluty,
            });
        }
        Ok(out)
    }

    /// The lines after the changes: one entry per original line (`None` = removed), then the
    /// added lines.
    fn after_rows(
        &self,
        schema: SchemaVersion,
        method: Method,
        before: &[Row],
    ) -> Result<Vec<Option<Row>>, Error> {
        let mut after: Vec<Option<Row>> = before.iter().cloned().map(Some).collect();
        let mut touched = alloc::vec![false; before.len()];
        let single_kurs = single(before.iter().map(|r| r.kurs));
        let mut next_nr = before.iter().map(|r| r.fa.nr_wiersza_fa).max().unwrap_or(0);
        let mut added = Vec::new();
        for (i, c) in self.changes.iter().enumerate() {
            let path = format!("changes[{i}]");
            match c {
                LineChange::Add(line) => {
                    next_nr += 1;
                    let kurs = self.kurs_for(line, single_kurs);
                    added.push(Some(new_row(line, &path, method, schema, next_nr, kurs)?));
                }
                LineChange::Replace { row, .. } | LineChange::Remove { row } => {
                    let j = position(before.iter().map(|r| r.fa.nr_wiersza_fa), *row, &path)?;
                    if touched[j] {
                        return Err(check::bad(&path, format!("line {row} is changed twice")));
                    }
                    touched[j] = true;
                    after[j] = match c {
                        LineChange::Replace { line, .. } => {
                            let kurs = self.kurs_for(line, before[j].kurs.or(single_kurs));
                            Some(new_row(line, &path, method, schema, *row, kurs)?)
                        }
                        _ => None,
                    };
                }
            }
        }
        after.extend(added);
        if let Some(d) = self.discount {
            apply_discount(&mut after, d, method)?;
        }
        Ok(after)
    }

    fn kurs_for(&self, line: &Line, inherited: Option<Decimal>) -> Option<Decimal> {
        if self.original.fa.kod_waluty == KodWaluty::Pln {
            return None;
        }
        line.exchange_rate.or(self.exchange_rate).or(inherited)
    }

    /// KOR_ZAL: order rows, rates after, totals difference, order value after.
    fn advance_correction(
        &self,
        schema: SchemaVersion,
        before: &Totals,
    ) -> Result<(Vec<ZamowienieWiersz>, Vec<VatRate>, Totals, Decimal), Error> {
        let of = &self.original.fa;
        let foreign = of.kod_waluty != KodWaluty::Pln;
        let fb = Fallbacks::of(of);
        let Some(order) = &of.zamowienie else {
            return Err(check::bad(
                "original",
                "the advance invoice has no order (Zamowienie) to correct",
            ));
        };
        let mut brows = Vec::with_capacity(order.zamowienie_wiersz.len());
        for (j, z) in order.zamowienie_wiersz.iter().enumerate() {
            let path = format!("original.zamowienie[{j}]");
            let rate = fb.rate(z.p_12z, false).ok_or_else(|| {
                check::bad(
                    &path,
                    "the order line's rate (P_12Z) is missing or ambiguous",
                )
            })?;
            let net = z
                .p_11netto_z
                .ok_or_else(|| check::bad(&path, "the order line has no net value (P_11NettoZ)"))?;
            let mut z = z.clone();
            z.p_12z = rate.code(schema);
            brows.push(ORow {
                z: z.clone(),
                rate,
                net,
                vat: z.p_11vat_z.unwrap_or_default(),
            });
        }
        let mut after: Vec<Option<ORow>> = brows.iter().cloned().map(Some).collect();
        let mut touched = alloc::vec![false; brows.len()];
        let mut next_nr = brows.iter().map(|r| r.z.nr_wiersza_zam).max().unwrap_or(0);
        let method = |path: &str| {
            self.method.ok_or_else(|| {
                check::bad(
                    path,
                    "set the method (how the order's tax is computed) to add or replace order lines",
                )
            })
        };
        for (i, c) in self.changes.iter().enumerate() {
            let path = format!("changes[{i}]");
            if let Some(line) = line_of(c) {
                if line.exchange_rate.is_some() {
                    return Err(check::bad(
                        &format!("{path}.line.exchange_rate"),
                        "an advance invoice uses one exchange rate (set the correction's)",
                    ));
                }
            }
            match c {
                LineChange::Add(line) => {
                    next_nr += 1;
                    after.push(Some(new_order_row(
                        line,
                        &path,
                        method(&path)?,
                        schema,
                        next_nr,
                    )?));
                }
                LineChange::Replace { row, .. } | LineChange::Remove { row } => {
                    let j = position(brows.iter().map(|r| r.z.nr_wiersza_zam), *row, &path)?;
                    if touched[j] {
                        return Err(check::bad(&path, format!("line {row} is changed twice")));
                    }
                    touched[j] = true;
                    after[j] = match c {
                        LineChange::Replace { line, .. } => {
                            Some(new_order_row(line, &path, method(&path)?, schema, *row)?)
                        }
                        _ => None,
                    };
                }
            }
        }
        if after.iter().all(Option::is_none) {
            return Err(check::bad(
                "changes",
                "the correction removes every order line",
            ));
        }
        let kurs = if foreign {
            self.exchange_rate.or(of.kurs_waluty_z)
        } else {
            None
        };
        let mut items: Vec<Item> = Vec::new();
        for r in after.iter().flatten() {
            items.push((r.rate, vat::add(r.net, r.vat)?, kurs));
        }
        let groups = totals::group(&items)?;
        let order_value = vat::sum(groups.iter().map(|g| g.value))?;
        check::amount("changes", order_value)?;
        let amount = match self.advance_amount {
            Some(a) => {
                if a < Decimal::ZERO {
                    return Err(check::bad(
                        "advance_amount",
                        format!("the advance {a} is negative"),
                    ));
                }
                check::places("advance_amount", a, 2, "amount")?;
                a
            }
            None => of.p_15,
        };
        if amount > order_value {
            return Err(check::bad(
                "advance_amount",
                format!("the advance {amount} is more than the order's gross value {order_value}"),
            ));
        }
        let gross: Vec<Decimal> = groups.iter().map(|g| g.value).collect();
        let rates_after: Vec<VatRate> = groups.iter().map(|g| g.rate).collect();
        let shares = totals::shares(amount, groups, &gross, "advance_amount")?;
        let rates = totals::from_gross_shares(&shares, foreign, "changes")?;
        let diff = Totals::fold(&rates)?.minus(before)?;
        let pairs: Vec<(Option<ZamowienieWiersz>, Option<ZamowienieWiersz>, bool)> = brows
            .iter()
            .map(Some)
            .chain(core::iter::repeat(None))
            .zip(after.iter())
            .map(|(b, a)| {
                let same_rate = match (b, a) {
                    (Some(b), Some(a)) => b.rate == a.rate,
                    _ => true,
                };
                (
                    b.map(|b| b.z.clone()),
                    a.as_ref().map(|a| a.z.clone()),
                    same_rate,
                )
            })
            .collect();
        let rows = emit_rows(&pairs, self.style, !diff.is_empty())?;
        Ok((rows, rates_after, diff, order_value))
    }
}

fn line_of(c: &LineChange) -> Option<&Line> {
    match c {
        LineChange::Replace { line, .. } | LineChange::Add(line) => Some(line),
        LineChange::Remove { .. } => None,
    }
}

/// The index of the original's line `row`.
fn position(numbers: impl Iterator<Item = u64>, row: u64, path: &str) -> Result<usize, Error> {
    let mut found = None;
    for (j, n) in numbers.enumerate() {
        if n == row {
            if found.is_some() {
                return Err(check::bad(
                    path,
                    format!("the original has more than one line numbered {row}"),
                ));
            }
            found = Some(j);
        }
    }
    found.ok_or_else(|| check::bad(path, format!("the original has no line numbered {row}")))
}

/// The one value all items share, if they share one.
fn single(mut it: impl Iterator<Item = Option<Decimal>>) -> Option<Decimal> {
    let first = it.next()??;
    for k in it {
        if k != Some(first) {
            return None;
        }
    }
    Some(first)
}

/// A line of the invoice with its rate and value.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    fa: FaWiersz,
    rate: VatRate,
    value: Decimal,
    kurs: Option<Decimal>,
}

/// An order line with its rate, net value and tax.
#[derive(Debug, Clone, PartialEq)]
struct ORow {
    z: ZamowienieWiersz,
    rate: VatRate,
    net: Decimal,
    vat: Decimal,
}

fn new_row(
    line: &Line,
    path: &str,
    method: Method,
    schema: SchemaVersion,
    nr: u64,
    kurs: Option<Decimal>,
) -> Result<Row, Error> {
    let calc = line.compute(&format!("{path}.line"), method)?;
    if let Some(k) = kurs {
        check_exchange_rate(&format!("{path}.line.exchange_rate"), k)?;
    }
    Ok(Row {
        fa: line.row(nr, &calc, method, schema, kurs),
        rate: calc.rate,
        value: calc.value,
        kurs,
    })
}

fn new_order_row(
    line: &Line,
    path: &str,
    method: Method,
    schema: SchemaVersion,
    nr: u64,
) -> Result<ORow, Error> {
    let lpath = format!("{path}.line");
    let calc = line.compute(&lpath, method)?;
    let split = OrderSplit::of(&calc, method).map_err(|e| check::at(e, &lpath))?;
    Ok(ORow {
        z: line.order_row(nr, &split, schema),
        rate: calc.rate,
        net: split.net,
        vat: split.vat,
    })
}

/// Spread a discount on the whole invoice over the remaining lines.
fn apply_discount(rows: &mut [Option<Row>], d: WholeDiscount, method: Method) -> Result<(), Error> {
    let values: Vec<Decimal> = rows.iter().flatten().map(|r| r.value).collect();
    let total = vat::sum(values.iter().copied())?;
    let cuts: Vec<Decimal> = match d {
        WholeDiscount::Percent(p) => {
            if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                return Err(check::bad(
                    "discount",
                    format!("the percentage {p} is outside 0-100"),
                ));
            }
            let keep = vat::sub(Decimal::ONE_HUNDRED, p)?;
            let mut out = Vec::with_capacity(values.len());
            for v in &values {
                let new = vat::round_money(vat::div(vat::mul(*v, keep)?, Decimal::ONE_HUNDRED)?);
                out.push(vat::sub(*v, new)?);
            }
            out
        }
        WholeDiscount::Amount(a) => {
            if a <= Decimal::ZERO {
                return Err(check::bad(
                    "discount",
                    format!("the amount {a} must be positive"),
                ));
            }
            check::places("discount", a, 2, "amount")?;
            if a > total {
                return Err(check::bad(
                    "discount",
                    format!("the discount {a} is more than the invoice's lines ({total})"),
                ));
            }
            vat::allocate(a, &values).map_err(|e| check::at(e, "discount"))?
        }
    };
    for (r, cut) in rows.iter_mut().flatten().zip(cuts) {
        if cut.is_zero() {
            continue;
        }
        r.value = vat::sub(r.value, cut)?;
        r.fa.p_10 = Some(vat::add(r.fa.p_10.unwrap_or_default(), cut)?);
        let gross = method == Method::FromGross || r.rate == VatRate::Margin;
        if gross {
            r.fa.p_11a = Some(r.value);
        } else {
            r.fa.p_11 = Some(r.value);
        }
    }
    Ok(())
}

/// Which rate the FA(2) codes `0` / `np` of an original stand for, from its totals.
struct Fallbacks {
    zero: Option<VatRate>,
    np: Option<VatRate>,
    margin: bool,
}

impl Fallbacks {
    fn of(fa: &Fa) -> Fallbacks {
        let only = |c: &[(Option<Decimal>, VatRate)]| {
            let mut it = c.iter().filter(|(v, _)| v.is_some());
            match (it.next(), it.next()) {
                (Some((_, r)), None) => Some(*r),
                _ => None,
            }
        };
        Fallbacks {
            zero: only(&[
                (fa.p_13_6_1, VatRate::Zero),
                (fa.p_13_6_2, VatRate::ZeroWdt),
                (fa.p_13_6_3, VatRate::ZeroExport),
            ]),
            np: only(&[(fa.p_13_8, VatRate::NpI), (fa.p_13_9, VatRate::NpII)]),
            margin: matches!(fa.adnotacje.p_marzy, crate::model::PMarzy::PPmarzy { .. }),
        }
    }

    fn rate(&self, code: Option<StawkaPodatku>, has_gross: bool) -> Option<VatRate> {
        rate_of_code(code, self.zero, self.np, self.margin && has_gross)
    }
}

/// The operations the two kinds of rows (invoice lines, order lines) need for corrections.
trait CorrRow: Clone + PartialEq {
    /// Mark as the state before the correction.
    fn mark_before(&mut self);
    /// The line with quantity and values zero (a removed line, after).
    fn zeroed(&self) -> Self;
    /// The line with quantity and values negated (a reversal).
    fn negated(&self) -> Self;
    /// One line with the differences `after − before`.
    fn difference(after: &Self, before: &Self) -> Result<Self, Error>;
}

fn neg(v: Option<Decimal>) -> Option<Decimal> {
    v.map(|v| -v)
}

fn zero(v: Option<Decimal>) -> Option<Decimal> {
    v.map(|_| Decimal::ZERO)
}

fn delta(a: Option<Decimal>, b: Option<Decimal>) -> Result<Option<Decimal>, Error> {
    Ok(match (a, b) {
        (None, None) => None,
        (a, b) => Some(vat::sub(a.unwrap_or_default(), b.unwrap_or_default())?),
    })
}

/// The difference of a field present in either line.
fn delta_if(a: Option<Decimal>, b: Option<Decimal>) -> Result<Option<Decimal>, Error> {
    if a.is_some() || b.is_some() {
        delta(a, b)
    } else {
        Ok(None)
    }
}

/// Quantity and unit price of a difference line: the one that changed is shown as the
/// difference, the other as it is; when both changed, the quantity difference and no price.
fn qty_price(
    qa: Option<Decimal>,
    qb: Option<Decimal>,
    pa: Option<Decimal>,
    pb: Option<Decimal>,
) -> Result<(Option<Decimal>, Option<Decimal>), Error> {
    Ok(match (qa == qb, pa == pb) {
        (true, false) => (qa, delta(pa, pb)?),
        (false, true) => (delta(qa, qb)?, pa),
        (true, true) => (qa, None),
        (false, false) => (delta(qa, qb)?, None),
    })
}

fn nonzero(v: Option<Decimal>) -> Option<Decimal> {
    v.filter(|v| !v.is_zero())
}

impl CorrRow for FaWiersz {
    fn mark_before(&mut self) {
        self.stan_przed = Some(Wybor1::Tak);
    }

    fn zeroed(&self) -> Self {
        FaWiersz {
            p_8b: zero(self.p_8b),
            p_10: None,
            p_11: zero(self.p_11),
            p_11a: zero(self.p_11a),
            p_11vat: zero(self.p_11vat),
            stan_przed: None,
            ..self.clone()
        }
    }

    fn negated(&self) -> Self {
        FaWiersz {
            p_8b: neg(self.p_8b),
            p_10: neg(self.p_10),
            p_11: neg(self.p_11),
            p_11a: neg(self.p_11a),
            p_11vat: neg(self.p_11vat),
            stan_przed: None,
            ..self.clone()
        }
    }

    fn difference(a: &Self, b: &Self) -> Result<Self, Error> {
        let (pa, pb) = if a.p_9a.is_some() || b.p_9a.is_some() {
            (a.p_9a, b.p_9a)
        } else {
            (a.p_9b, b.p_9b)
        };
        let (q, p) = qty_price(a.p_8b, b.p_8b, pa, pb)?;
        let gross_price = a.p_9a.is_none() && b.p_9a.is_none();
        Ok(FaWiersz {
            p_8b: q,
            p_9a: if gross_price { None } else { p },
            p_9b: if gross_price { p } else { None },
            p_10: nonzero(delta(a.p_10, b.p_10)?),
            p_11: delta_if(a.p_11, b.p_11)?,
            p_11a: delta_if(a.p_11a, b.p_11a)?,
            p_11vat: None,
            stan_przed: None,
            ..a.clone()
        })
    }
}

impl CorrRow for ZamowienieWiersz {
    fn mark_before(&mut self) {
        self.stan_przed_z = Some(Wybor1::Tak);
    }

    fn zeroed(&self) -> Self {
        ZamowienieWiersz {
            p_8bz: zero(self.p_8bz),
            p_11netto_z: zero(self.p_11netto_z),
            p_11vat_z: zero(self.p_11vat_z),
            stan_przed_z: None,
            ..self.clone()
        }
    }

    fn negated(&self) -> Self {
        ZamowienieWiersz {
            p_8bz: neg(self.p_8bz),
            p_11netto_z: neg(self.p_11netto_z),
            p_11vat_z: neg(self.p_11vat_z),
            stan_przed_z: None,
            ..self.clone()
        }
    }

    fn difference(a: &Self, b: &Self) -> Result<Self, Error> {
        let (q, p) = qty_price(a.p_8bz, b.p_8bz, a.p_9az, b.p_9az)?;
        Ok(ZamowienieWiersz {
            p_8bz: q,
            p_9az: p,
            p_11netto_z: delta(a.p_11netto_z, b.p_11netto_z)?,
            p_11vat_z: delta_if(a.p_11vat_z, b.p_11vat_z)?,
            stan_przed_z: None,
            ..a.clone()
        })
    }
}

/// The rows of a correction from (before, after, same rate) triples in the original's order
/// followed by the added lines. `confirm`: repeat unchanged lines before/after.
fn emit_rows<R: CorrRow>(
    pairs: &[(Option<R>, Option<R>, bool)],
    style: CorrectionStyle,
    confirm: bool,
) -> Result<Vec<R>, Error> {
    let mut out = Vec::new();
    let before = |b: &R| {
        let mut b = b.clone();
        b.mark_before();
        b
    };
    for (b, a, same_rate) in pairs {
        match (b, a) {
            (Some(b), Some(a)) if a == b => {
                if confirm {
                    out.push(before(b));
                    out.push(a.clone());
                }
            }
            (Some(b), Some(a)) => match style {
                CorrectionStyle::BeforeAfter => {
                    out.push(before(b));
                    out.push(a.clone());
                }
                CorrectionStyle::Difference if *same_rate => out.push(R::difference(a, b)?),
                CorrectionStyle::Difference => {
                    out.push(b.negated());
                    out.push(a.clone());
                }
            },
            (Some(b), None) => match style {
                CorrectionStyle::BeforeAfter => {
                    out.push(before(b));
                    out.push(b.zeroed());
                }
                CorrectionStyle::Difference => out.push(b.negated()),
            },
            (None, Some(a)) => out.push(a.clone()),
            (None, None) => {}
        }
    }
    Ok(out)
}
