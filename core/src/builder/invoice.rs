//! The invoice builder: VAT, simplified (UPR), advance (ZAL) and settlement (ROZ) invoices.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::model::{
    Decimal, Fa, FaWiersz, Faktura, FakturaZaliczkowa, KluczWartosc, KodWaluty, RodzajFaktury,
    SchemaVersion, Wybor1, Zamowienie,
};

use super::annotations::Annotations;
use super::header::Header;
use super::line::{check_exchange_rate, Line, LineCalc, OrderSplit};
use super::parties::{Buyer, BuyerId, Seller};
use super::payment::Payment;
use super::rate::{Method, VatRate};
use super::totals::{self, Item, Totals};
use super::{check, vat};

/// How a simplified invoice (UPR, art. 106e ust. 5 pkt 3) shows its amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimplifiedForm {
    /// Full lines and the per-rate totals `P_13_x` / `P_14_x` (the preferred form,
    /// FA_3_Przyklad_15).
    PerRate,
    /// Only the total `P_15`; each line shows its name and rate `P_12` (FA_3_Przyklad_16), and
    /// its value `P_11`/`P_11A` when the invoice has more than one rate.
    TotalOnly,
}

/// The advance payment an advance invoice (ZAL) documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Advance {
    /// The gross amount received (`P_15`), > 0 and at most the order's gross value.
    pub amount: Decimal,
}

impl Advance {
    /// An advance of `amount` (gross).
    pub fn new(amount: Decimal) -> Self {
        Advance { amount }
    }
}

/// How a settlement invoice refers to an advance invoice (`FakturaZaliczkowa`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdvanceRef {
    /// The advance invoice's KSeF number (`NrKSeFFaZaliczkowej`).
    Ksef(String),
    /// The number of an advance invoice issued outside KSeF (`NrKSeFZN` + `NrFaZaliczkowej`).
    Number(String),
}

/// An advance invoice being settled, and the gross amount it documented.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdvanceInvoice {
    /// The reference.
    pub reference: AdvanceRef,
    /// The gross advance it documented (its `P_15`).
    pub amount: Decimal,
}

impl AdvanceInvoice {
    /// An advance invoice issued in KSeF.
    pub fn ksef(ksef_number: impl Into<String>, amount: Decimal) -> Self {
        AdvanceInvoice {
            reference: AdvanceRef::Ksef(ksef_number.into()),
            amount,
        }
    }

    /// An advance invoice issued outside KSeF.
    pub fn outside_ksef(number: impl Into<String>, amount: Decimal) -> Self {
        AdvanceInvoice {
            reference: AdvanceRef::Number(number.into()),
            amount,
        }
    }
}

/// The kind of invoice and its kind-specific data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InvoiceKind {
    /// A basic VAT invoice (`VAT`).
    Vat,
    /// A simplified invoice (`UPR`): total up to 450 PLN or 100 EUR, the buyer's NIP required.
    Simplified(SimplifiedForm),
    /// An advance invoice (`ZAL`): the builder's lines are the whole order (written as
    /// `Zamowienie`), the advance's tax is split over the rates in proportion to the order's
    /// gross value at each rate.
    Advance(Advance),
    /// A settlement invoice after advances (`ROZ`, art. 106f ust. 3): the lines are the whole
    /// order; the amount left to pay is split over the rates in proportion to the order's gross
    /// value at each rate.
    Settlement(Vec<AdvanceInvoice>),
}

/// Builds an invoice ([`Faktura`]) for FA(3) or FA(2), computing every amount exactly.
///
/// ```
/// use ksef::builder::*;
/// use ksef::model::{Date, Decimal, SchemaVersion};
///
/// let header = Header::new("FV/2026/02/1", Date::new(2026, 2, 15).unwrap(),
///     "2026-02-15T10:00:00Z".parse().unwrap());
/// let seller = Seller::new("5265877635", "Sklep sp. z o.o.",
///     Address::pl("ul. Kwiatowa 1", "00-001 Warszawa"));
/// let invoice = InvoiceBuilder::vat(header, seller, Buyer::consumer(), Method::FromGross)
///     .line(Line::gross("Kawa 1 kg", Decimal::from(2), Decimal::new(7999, 2), VatRate::Rate23)
///         .unit("szt."))
///     .build(SchemaVersion::Fa3)?;
/// assert_eq!(invoice.fa.p_15, Decimal::new(15998, 2));
/// // 159.98 × 23 / 123 = 29.91496… → 29.91
/// assert_eq!(invoice.fa.p_14_1, Some(Decimal::new(2991, 2)));
/// let xml = ksef::xml::emit(&invoice, SchemaVersion::Fa3)?;
/// # assert!(!xml.is_empty());
/// # Ok::<(), ksef::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvoiceBuilder {
    /// Kind of invoice.
    pub kind: InvoiceKind,
    /// Number, dates, place.
    pub header: Header,
    /// The seller.
    pub seller: Seller,
    /// The buyer.
    pub buyer: Buyer,
    /// How the tax is computed (no default).
    pub method: Method,
    /// Currency of the invoice (`KodWaluty`), PLN by default.
    pub currency: KodWaluty,
    /// Exchange rate (PLN per unit) for the tax of a foreign-currency invoice: written on each
    /// line (`KursWaluty`) that has no rate of its own, or as `KursWalutyZ` on an advance
    /// invoice.
    pub exchange_rate: Option<Decimal>,
    /// The lines (for an advance invoice: the order's lines).
    pub lines: Vec<Line>,
    /// Annotations.
    pub annotations: Annotations,
    /// Payment.
    pub payment: Option<Payment>,
    /// Additional key/value descriptions (`DodatkowyOpis`).
    pub notes: Vec<(String, String)>,
}

impl InvoiceBuilder {
    /// A builder for an invoice of `kind`.
    pub fn new(
        kind: InvoiceKind,
        header: Header,
        seller: Seller,
        buyer: Buyer,
        method: Method,
    ) -> Self {
        InvoiceBuilder {
            kind,
            header,
            seller,
            buyer,
            method,
            currency: KodWaluty::Pln,
            exchange_rate: None,
            lines: Vec::new(),
            annotations: Annotations::default(),
            payment: None,
            notes: Vec::new(),
        }
    }

    /// A basic VAT invoice.
    pub fn vat(header: Header, seller: Seller, buyer: Buyer, method: Method) -> Self {
        InvoiceBuilder::new(InvoiceKind::Vat, header, seller, buyer, method)
    }

    /// A simplified invoice (UPR).
    pub fn simplified(
        header: Header,
        seller: Seller,
        buyer: Buyer,
        method: Method,
        form: SimplifiedForm,
    ) -> Self {
        InvoiceBuilder::new(InvoiceKind::Simplified(form), header, seller, buyer, method)
    }

    /// An advance invoice (ZAL) for an advance of `amount` (gross); add the order's lines.
    pub fn advance(
        header: Header,
        seller: Seller,
        buyer: Buyer,
        method: Method,
        amount: Decimal,
    ) -> Self {
        let kind = InvoiceKind::Advance(Advance::new(amount));
        InvoiceBuilder::new(kind, header, seller, buyer, method)
    }

    /// A settlement invoice (ROZ) after the given advance invoices; add the order's lines.
    pub fn settlement(
        header: Header,
        seller: Seller,
        buyer: Buyer,
        method: Method,
        advances: Vec<AdvanceInvoice>,
    ) -> Self {
        let kind = InvoiceKind::Settlement(advances);
        InvoiceBuilder::new(kind, header, seller, buyer, method)
    }

    /// Add a line.
    pub fn line(mut self, line: Line) -> Self {
        self.lines.push(line);
        self
    }

    /// Set the currency and, for a foreign currency with tax, the exchange rate.
    pub fn currency(mut self, currency: KodWaluty, exchange_rate: Option<Decimal>) -> Self {
        self.currency = currency;
        self.exchange_rate = exchange_rate;
        self
    }

    /// Set the annotations.
    pub fn annotations(mut self, annotations: Annotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Set the payment.
    pub fn payment(mut self, payment: Payment) -> Self {
        self.payment = Some(payment);
        self
    }

    /// Add a key/value description (`DodatkowyOpis`).
    pub fn note(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.notes.push((key.into(), value.into()));
        self
    }

    /// Build the invoice for `schema`.
    ///
    /// Checks the input (errors name the builder field, e.g. `lines[2].quantity`, and say
    /// why), computes lines and totals, and finally checks that the result can be written as
    /// XML of `schema` (so [`crate::xml::emit`] of the result succeeds).
    pub fn build(&self, schema: SchemaVersion) -> Result<Faktura, Error> {
        self.header.check("header", schema)?;
        let podmiot1 = self.seller.to_model()?;
        let podmiot2 = self.buyer.to_model(schema)?;
        let foreign = self.currency != KodWaluty::Pln;
        check_currency(self.currency, self.exchange_rate, &self.lines, "")?;
        if self.lines.is_empty() {
            return Err(check::bad("lines", "an invoice needs at least one line"));
        }
        let mut calcs = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            calcs.push(l.compute(&format!("lines[{i}]"), self.method)?);
        }
        let rates: Vec<VatRate> = calcs.iter().map(|c| c.rate).collect();
        let mut fa = Fa {
            kod_waluty: self.currency,
            p_1: self.header.issue_date,
            p_1m: self.header.place.clone(),
            p_2: self.header.number.clone(),
            p_6_wybor: self.header.p6(),
            adnotacje: self.annotations.to_model(&rates)?,
            dodatkowy_opis: notes(&self.notes)?,
            platnosc: match &self.payment {
                Some(p) => Some(p.to_model("payment")?),
                None => None,
            },
            ..Fa::default()
        };
        let kurs = |i: usize| -> Option<Decimal> {
            if foreign {
                self.lines[i].exchange_rate.or(self.exchange_rate)
            } else {
                None
            }
        };
        match &self.kind {
            InvoiceKind::Vat => {
                fa.rodzaj_faktury = RodzajFaktury::Vat;
                let (rows, totals) = self.lines_and_totals(&calcs, schema, &kurs)?;
                fa.fa_wiersz = rows;
                totals.write(&mut fa)?;
            }
            InvoiceKind::Simplified(form) => {
                fa.rodzaj_faktury = RodzajFaktury::Upr;
                if !matches!(self.buyer.id, BuyerId::Nip(_)) {
                    return Err(check::bad(
                        "buyer.id",
                        "a simplified invoice (UPR) must show the buyer's NIP",
                    ));
                }
                let (mut rows, totals) = self.lines_and_totals(&calcs, schema, &kurs)?;
                totals.write(&mut fa)?;
                self.check_simplified_limit(fa.p_15)?;
                if *form == SimplifiedForm::TotalOnly {
                    if foreign {
                        return Err(check::bad(
                            "kind",
                            "a simplified invoice in a foreign currency needs the per-rate \
                             totals with the tax in PLN (SimplifiedForm::PerRate)",
                        ));
                    }
                    let keep_values = rates.windows(2).any(|w| w[0] != w[1]);
                    rows = rows
                        .into_iter()
                        .map(|r| total_only_row(r, keep_values))
                        .collect();
                    let total = fa.p_15;
                    Totals::default().write(&mut fa)?;
                    fa.p_15 = total;
                }
                fa.fa_wiersz = rows;
            }
            InvoiceKind::Advance(adv) => {
                fa.rodzaj_faktury = RodzajFaktury::Zal;
                self.advance_invoice(adv, &calcs, schema, &mut fa)?;
            }
            InvoiceKind::Settlement(advances) => {
                fa.rodzaj_faktury = RodzajFaktury::Roz;
                let (rows, full) = self.lines_and_rate_totals(&calcs, schema, &kurs)?;
                fa.fa_wiersz = rows;
                let totals = settlement_totals(advances, full, "kind")?;
                totals.write(&mut fa)?;
                fa.faktura_zaliczkowa = advance_refs(advances, "kind")?;
            }
        }
        let inv = Faktura {
            naglowek: self.header.naglowek(),
            podmiot1,
            podmiot2,
            fa,
            ..Faktura::default()
        };
        crate::xml::check(&inv, schema)?;
        Ok(inv)
    }

    fn lines_and_rate_totals(
        &self,
        calcs: &[LineCalc],
        schema: SchemaVersion,
        kurs: &dyn Fn(usize) -> Option<Decimal>,
    ) -> Result<(Vec<FaWiersz>, RateTotalsWithGroups), Error> {
        let mut rows = Vec::with_capacity(calcs.len());
        let mut items: Vec<Item> = Vec::with_capacity(calcs.len());
        for (i, (l, c)) in self.lines.iter().zip(calcs).enumerate() {
            let k = kurs(i);
            rows.push(l.row(i as u64 + 1, c, self.method, schema, k));
            items.push((c.rate, c.value, k));
        }
        let groups = totals::group(&items)?;
        let foreign = self.currency != KodWaluty::Pln;
        let rates = totals::from_values(&groups, self.method, foreign, "lines")?;
        Ok((
            rows,
            RateTotalsWithGroups {
                groups,
                rates,
                foreign,
            },
        ))
    }

    fn lines_and_totals(
        &self,
        calcs: &[LineCalc],
        schema: SchemaVersion,
        kurs: &dyn Fn(usize) -> Option<Decimal>,
    ) -> Result<(Vec<FaWiersz>, Totals), Error> {
        let (rows, t) = self.lines_and_rate_totals(calcs, schema, kurs)?;
        Ok((rows, Totals::fold(&t.rates)?))
    }

    fn check_simplified_limit(&self, total: Decimal) -> Result<(), Error> {
        let (limit, what) = match self.currency {
            KodWaluty::Pln => (Some(Decimal::from(450)), "450 PLN"),
            KodWaluty::Eur => (Some(Decimal::from(100)), "100 EUR"),
            _ => (None, ""),
        };
        if let Some(limit) = limit {
            if total > limit {
                return Err(check::bad(
                    "kind",
                    format!(
                        "a simplified invoice (UPR) may total at most {what}, this one {total}"
                    ),
                ));
            }
        } else if let Some(k) = self.exchange_rate {
            let pln = vat::to_pln(total, k).map_err(|e| check::at(e, "exchange_rate"))?;
            if pln > Decimal::from(450) {
                return Err(check::bad(
                    "kind",
                    format!(
                        "a simplified invoice (UPR) may total at most 450 PLN, this one {pln} PLN"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn advance_invoice(
        &self,
        adv: &Advance,
        calcs: &[LineCalc],
        schema: SchemaVersion,
        fa: &mut Fa,
    ) -> Result<(), Error> {
        let foreign = self.currency != KodWaluty::Pln;
        for (i, l) in self.lines.iter().enumerate() {
            if l.exchange_rate.is_some() {
                return Err(check::bad(
                    &format!("lines[{i}].exchange_rate"),
                    "an advance invoice uses one exchange rate, the invoice's (KursWalutyZ)",
                ));
            }
        }
        let mut rows = Vec::with_capacity(calcs.len());
        let mut items: Vec<Item> = Vec::with_capacity(calcs.len());
        for (i, (l, c)) in self.lines.iter().zip(calcs).enumerate() {
            let path = format!("lines[{i}]");
            let split = OrderSplit::of(c, self.method).map_err(|e| check::at(e, &path))?;
            rows.push(l.order_row(i as u64 + 1, &split, schema));
            let gross = split.gross().map_err(|e| check::at(e, &path))?;
            items.push((c.rate, gross, self.exchange_rate));
        }
        let groups = totals::group(&items)?;
        let order_value = vat::sum(groups.iter().map(|g| g.value))?;
        check::amount("lines", order_value)?;
        let amount = adv.amount;
        check_payment_amount("kind.amount", amount)?;
        if amount > order_value {
            return Err(check::bad(
                "kind.amount",
                format!("the advance {amount} is more than the order's gross value {order_value}"),
            ));
        }
        let gross: Vec<Decimal> = groups.iter().map(|g| g.value).collect();
        let shares = totals::shares(amount, groups, &gross, "kind.amount")?;
        let rates = totals::from_gross_shares(&shares, foreign, "lines")?;
        Totals::fold(&rates)?.write(fa)?;
        fa.kurs_waluty_z = if foreign { self.exchange_rate } else { None };
        fa.zamowienie = Some(Zamowienie {
            wartosc_zamowienia: order_value,
            zamowienie_wiersz: rows,
        });
        Ok(())
    }
}

/// Per-rate totals of the full lines, with the groups they came from.
pub(crate) struct RateTotalsWithGroups {
    pub groups: Vec<totals::RateInput>,
    pub rates: Vec<totals::RateTotal>,
    pub foreign: bool,
}

/// The totals of a settlement invoice: the order's gross value less the advances, split over
/// the rates in proportion to the order's gross value at each rate.
pub(crate) fn settlement_totals(
    advances: &[AdvanceInvoice],
    full: RateTotalsWithGroups,
    path: &str,
) -> Result<Totals, Error> {
    let mut paid = Decimal::ZERO;
    for (i, a) in advances.iter().enumerate() {
        check_payment_amount(&format!("{path}.advances[{i}].amount"), a.amount)?;
        paid = vat::add(paid, a.amount)?;
    }
    settlement_totals_paid(paid, full, path)
}

/// Like [`settlement_totals`] with the advances' total given.
pub(crate) fn settlement_totals_paid(
    paid: Decimal,
    full: RateTotalsWithGroups,
    path: &str,
) -> Result<Totals, Error> {
    let mut gross = Vec::with_capacity(full.rates.len());
    for r in &full.rates {
        gross.push(r.gross()?);
    }
    let order_value = vat::sum(gross.iter().copied())?;
    let remaining = vat::sub(order_value, paid)?;
    if remaining < Decimal::ZERO {
        return Err(check::bad(
            &format!("{path}.advances"),
            format!("the advances ({paid}) are more than the order's gross value ({order_value})"),
        ));
    }
    let shares = totals::shares(remaining, full.groups, &gross, &format!("{path}.advances"))?;
    let rates = totals::from_gross_shares(&shares, full.foreign, "lines")?;
    Totals::fold(&rates)
}

/// `FakturaZaliczkowa` entries.
pub(crate) fn advance_refs(
    advances: &[AdvanceInvoice],
    path: &str,
) -> Result<Vec<FakturaZaliczkowa>, Error> {
    if advances.is_empty() {
        return Err(check::bad(
            &format!("{path}.advances"),
            "a settlement invoice refers to at least one advance invoice",
        ));
    }
    let mut out = Vec::with_capacity(advances.len());
    for (i, a) in advances.iter().enumerate() {
        let path = format!("{path}.advances[{i}].reference");
        out.push(match &a.reference {
            AdvanceRef::Ksef(k) => {
                check::text(&path, k)?;
                FakturaZaliczkowa::NrKsefFaZaliczkowej(k.clone())
            }
            AdvanceRef::Number(n) => {
                check::text(&path, n)?;
                FakturaZaliczkowa::NrKsefZn {
                    nr_ksef_zn: Wybor1::Tak,
                    nr_fa_zaliczkowej: n.clone(),
                }
            }
        });
    }
    Ok(out)
}

/// A payment amount: > 0, whole grosze.
pub(crate) fn check_payment_amount(path: &str, amount: Decimal) -> Result<(), Error> {
    if amount <= Decimal::ZERO {
        return Err(check::bad(
            path,
            format!("the amount {amount} must be greater than zero"),
        ));
    }
    check::places(path, amount, 2, "amount")?;
    check::amount(path, amount)?;
    Ok(())
}

/// The currency and exchange rates agree: PLN has none, rates are positive with ≤ 6 places.
pub(crate) fn check_currency(
    currency: KodWaluty,
    rate: Option<Decimal>,
    lines: &[Line],
    prefix: &str,
) -> Result<(), Error> {
    let pln = currency == KodWaluty::Pln;
    if let Some(k) = rate {
        let path = format!("{prefix}exchange_rate");
        if pln {
            return Err(check::bad(&path, "an invoice in PLN has no exchange rate"));
        }
        check_exchange_rate(&path, k)?;
    }
    if pln {
        for (i, l) in lines.iter().enumerate() {
            if l.exchange_rate.is_some() {
                return Err(check::bad(
                    &format!("{prefix}lines[{i}].exchange_rate"),
                    "an invoice in PLN has no exchange rate",
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn notes(notes: &[(String, String)]) -> Result<Vec<KluczWartosc>, Error> {
    let mut out = Vec::with_capacity(notes.len());
    for (i, (k, v)) in notes.iter().enumerate() {
        check::text(&format!("notes[{i}].0"), k)?;
        check::text(&format!("notes[{i}].1"), v)?;
        out.push(KluczWartosc {
            nr_wiersza: None,
            klucz: k.clone(),
            wartosc: v.clone(),
        });
    }
    Ok(out)
}

/// A simplified invoice's line in the "total only" form: what it is and its rate.
fn total_only_row(r: FaWiersz, keep_value: bool) -> FaWiersz {
    FaWiersz {
        nr_wiersza_fa: r.nr_wiersza_fa,
        uu_id: r.uu_id,
        p_6a: r.p_6a,
        p_7: r.p_7,
        indeks: r.indeks,
        gtin: r.gtin,
        pkwiu: r.pkwiu,
        cn: r.cn,
        p_11: if keep_value { r.p_11 } else { None },
        p_11a: if keep_value { r.p_11a } else { None },
        p_12: r.p_12,
        p_12_zal_15: r.p_12_zal_15,
        gtu: r.gtu,
        ..FaWiersz::default()
    }
}
