//! Invoice lines: what was sold, how much, at what price and rate.

use alloc::format;
use alloc::string::String;

use crate::error::Error;
use crate::model::{
    Date, Decimal, FaWiersz, Gtu, SchemaVersion, StawkaPodatku, Wybor1, ZamowienieWiersz,
};

use super::rate::{Method, VatRate};
use super::{check, vat};

/// A unit price: net (`P_9A`) for invoices computed from net prices, gross (`P_9B`) for
/// invoices computed from gross prices. Margin-scheme lines always use a gross price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitPrice {
    /// Net unit price (without tax).
    Net(Decimal),
    /// Gross unit price (with tax).
    Gross(Decimal),
}

impl UnitPrice {
    /// The number.
    pub fn value(self) -> Decimal {
        match self {
            UnitPrice::Net(v) | UnitPrice::Gross(v) => v,
        }
    }
}

/// A discount on a line (`P_10`): an amount, a percentage of `quantity × unit price`, or both
/// (added together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discount {
    /// An amount off the line (in the invoice currency, at most 2 decimal places, ≥ 0).
    pub amount: Option<Decimal>,
    /// A percentage off the line (0–100).
    pub percent: Option<Decimal>,
}

/// One invoice line (`FaWiersz`), or one order line (`ZamowienieWiersz`) on an advance
/// invoice.
///
/// The line value is `round(quantity × unit price − discount)` to 0.01; the discount written
/// to `P_10` is `round(amount + quantity × unit price × percent / 100)`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Line {
    /// Name of the goods or service (`P_7`).
    pub name: String,
    /// Quantity (`P_8B`), > 0, at most 6 decimal places.
    pub quantity: Decimal,
    /// Unit of measure (`P_8A`), e.g. `"szt."`.
    pub unit: Option<String>,
    /// Unit price, net or gross (must match the invoice's [`Method`]).
    pub unit_price: UnitPrice,
    /// Tax rate or procedure.
    pub vat_rate: VatRate,
    /// Discount (`P_10`).
    pub discount: Discount,
    /// GTU code (`GTU`).
    pub gtu: Option<Gtu>,
    /// PKWiU classification (`PKWiU`).
    pub pkwiu: Option<String>,
    /// Combined Nomenclature code (`CN`).
    pub cn: Option<String>,
    /// GTIN / EAN (`GTIN`).
    pub gtin: Option<String>,
    /// The seller's own product code (`Indeks`).
    pub index: Option<String>,
    /// A unique id of the line (`UU_ID`), e.g. to link corrections.
    pub uu_id: Option<String>,
    /// Date of supply of this line when lines differ (`P_6A`).
    pub sale_date: Option<Date>,
    /// Exchange rate (PLN per unit of the invoice currency) for this line's tax (`KursWaluty`);
    /// when `None` the invoice's rate applies.
    pub exchange_rate: Option<Decimal>,
    /// Goods or services listed in annex 15 of the VAT act (`P_12_Zal_15`).
    pub annex_15: bool,
}

impl Line {
    /// A line with the required data; everything else is empty.
    pub fn new(
        name: impl Into<String>,
        quantity: Decimal,
        unit_price: UnitPrice,
        vat_rate: VatRate,
    ) -> Self {
        Line {
            name: name.into(),
            quantity,
            unit: None,
            unit_price,
            vat_rate,
            discount: Discount::default(),
            gtu: None,
            pkwiu: None,
            cn: None,
            gtin: None,
            index: None,
            uu_id: None,
            sale_date: None,
            exchange_rate: None,
            annex_15: false,
        }
    }

    /// A line with a net unit price.
    pub fn net(
        name: impl Into<String>,
        quantity: Decimal,
        unit_price: Decimal,
        vat_rate: VatRate,
    ) -> Self {
        Line::new(name, quantity, UnitPrice::Net(unit_price), vat_rate)
    }

    /// A line with a gross unit price.
    pub fn gross(
        name: impl Into<String>,
        quantity: Decimal,
        unit_price: Decimal,
        vat_rate: VatRate,
    ) -> Self {
        Line::new(name, quantity, UnitPrice::Gross(unit_price), vat_rate)
    }

    /// Set the unit of measure.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Set a discount amount.
    pub fn discount_amount(mut self, amount: Decimal) -> Self {
        self.discount.amount = Some(amount);
        self
    }

    /// Set a discount percentage.
    pub fn discount_percent(mut self, percent: Decimal) -> Self {
        self.discount.percent = Some(percent);
        self
    }

    /// Set the GTU code.
    pub fn gtu(mut self, gtu: Gtu) -> Self {
        self.gtu = Some(gtu);
        self
    }

    /// Set the PKWiU symbol.
    pub fn pkwiu(mut self, pkwiu: impl Into<String>) -> Self {
        self.pkwiu = Some(pkwiu.into());
        self
    }

    /// Set the CN code.
    pub fn cn(mut self, cn: impl Into<String>) -> Self {
        self.cn = Some(cn.into());
        self
    }

    /// Set the GTIN.
    pub fn gtin(mut self, gtin: impl Into<String>) -> Self {
        self.gtin = Some(gtin.into());
        self
    }

    /// Set the seller's product code.
    pub fn index(mut self, index: impl Into<String>) -> Self {
        self.index = Some(index.into());
        self
    }

    /// Set the unique line id.
    pub fn uu_id(mut self, id: impl Into<String>) -> Self {
        self.uu_id = Some(id.into());
        self
    }

    /// Set this line's date of supply.
    pub fn sale_date(mut self, date: Date) -> Self {
        self.sale_date = Some(date);
        self
    }

    /// Set this line's exchange rate.
    pub fn exchange_rate(mut self, rate: Decimal) -> Self {
        self.exchange_rate = Some(rate);
        self
    }

    /// Mark the line as annex-15 goods or services.
    pub fn annex_15(mut self) -> Self {
        self.annex_15 = true;
        self
    }

    /// Check the line and compute its value and discount.
    pub(crate) fn compute(&self, path: &str, method: Method) -> Result<LineCalc, Error> {
        check::text(&format!("{path}.name"), &self.name)?;
        check::opt_text(&format!("{path}.unit"), &self.unit)?;
        check::opt_text(&format!("{path}.pkwiu"), &self.pkwiu)?;
        check::opt_text(&format!("{path}.cn"), &self.cn)?;
        check::opt_text(&format!("{path}.gtin"), &self.gtin)?;
        check::opt_text(&format!("{path}.index"), &self.index)?;
        check::opt_text(&format!("{path}.uu_id"), &self.uu_id)?;
        let qpath = format!("{path}.quantity");
        if self.quantity <= Decimal::ZERO {
            return Err(check::bad(
                &qpath,
                format!("quantity {} must be greater than zero", self.quantity),
            ));
        }
        check::places(&qpath, self.quantity, 6, "quantity")?;
        check::int_digits(&qpath, self.quantity, 16, "quantity")?;
        let ppath = format!("{path}.unit_price");
        let price = self.unit_price.value();
        check::places(&ppath, price, 8, "unit price")?;
        check::int_digits(&ppath, price, 14, "unit price")?;
        match (self.vat_rate, self.unit_price, method) {
            (VatRate::Margin, UnitPrice::Net(_), _) => {
                return Err(check::bad(
                    &ppath,
                    "a margin-scheme line is priced gross: use UnitPrice::Gross",
                ));
            }
            (VatRate::Margin, UnitPrice::Gross(_), _)
            | (_, UnitPrice::Net(_), Method::FromNet)
            | (_, UnitPrice::Gross(_), Method::FromGross) => {}
            (_, UnitPrice::Gross(_), Method::FromNet) => {
                return Err(check::bad(
                    &ppath,
                    "a gross price on an invoice computed from net prices (Method::FromNet)",
                ));
            }
            (_, UnitPrice::Net(_), Method::FromGross) => {
                return Err(check::bad(
                    &ppath,
                    "a net price on an invoice computed from gross prices (Method::FromGross)",
                ));
            }
        }
        if let Some(k) = self.exchange_rate {
            check_exchange_rate(&format!("{path}.exchange_rate"), k)?;
        }
        let base = vat::mul(self.quantity, price).map_err(|e| check::at(e, &ppath))?;
        let dpath = format!("{path}.discount");
        let mut disc = Decimal::ZERO;
        if let Some(a) = self.discount.amount {
            if a < Decimal::ZERO {
                return Err(check::bad(
                    &dpath,
                    format!("discount amount {a} is negative"),
                ));
            }
            check::places(&dpath, a, 2, "discount amount")?;
            disc = a;
        }
        if let Some(p) = self.discount.percent {
            if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                return Err(check::bad(
                    &dpath,
                    format!("discount percentage {p} is outside 0-100"),
                ));
            }
            check::places(&dpath, p, 6, "discount percentage")?;
            let part = vat::div(vat::mul(base, p)?, Decimal::ONE_HUNDRED)
                .map_err(|e| check::at(e, &dpath))?;
            disc = vat::add(disc, part).map_err(|e| check::at(e, &dpath))?;
        }
        let disc = vat::round_money(disc);
        if !disc.is_zero() && (base < Decimal::ZERO || disc > base) {
            return Err(check::bad(
                &dpath,
                format!("discount {disc} is more than the line's value {base}"),
            ));
        }
        let value = vat::round_money(vat::sub(base, disc).map_err(|e| check::at(e, &ppath))?);
        check::amount(&ppath, value)?;
        Ok(LineCalc {
            rate: self.vat_rate,
            value,
            discount: (!disc.is_zero()).then_some(disc),
        })
    }

    /// The `FaWiersz` row of this line.
    pub(crate) fn row(
        &self,
        nr: u64,
        calc: &LineCalc,
        method: Method,
        schema: SchemaVersion,
        kurs: Option<Decimal>,
    ) -> FaWiersz {
        let gross_value = method == Method::FromGross || self.vat_rate == VatRate::Margin;
        let (p_9a, p_9b) = match self.unit_price {
            UnitPrice::Net(p) => (Some(p), None),
            UnitPrice::Gross(p) => (None, Some(p)),
        };
        FaWiersz {
            nr_wiersza_fa: nr,
            uu_id: self.uu_id.clone(),
            p_6a: self.sale_date,
            p_7: Some(self.name.clone()),
            indeks: self.index.clone(),
            gtin: self.gtin.clone(),
            pkwiu: self.pkwiu.clone(),
            cn: self.cn.clone(),
            p_8a: self.unit.clone(),
            p_8b: Some(self.quantity),
            p_9a,
            p_9b,
            p_10: calc.discount,
            p_11: (!gross_value).then_some(calc.value),
            p_11a: gross_value.then_some(calc.value),
            p_12: self.vat_rate.code(schema),
            p_12_zal_15: self.annex_15.then_some(Wybor1::Tak),
            gtu: self.gtu,
            kurs_waluty: kurs,
            ..FaWiersz::default()
        }
    }

    /// The `ZamowienieWiersz` row of this line (an order line on an advance invoice), with the
    /// line's net value and tax.
    pub(crate) fn order_row(
        &self,
        nr: u64,
        split: &OrderSplit,
        schema: SchemaVersion,
    ) -> ZamowienieWiersz {
        ZamowienieWiersz {
            nr_wiersza_zam: nr,
            uu_idz: self.uu_id.clone(),
            p_7z: Some(self.name.clone()),
            indeks_z: self.index.clone(),
            gtinz: self.gtin.clone(),
            pkwiu_z: self.pkwiu.clone(),
            cnz: self.cn.clone(),
            p_8az: self.unit.clone(),
            p_8bz: Some(self.quantity),
            p_9az: match self.unit_price {
                UnitPrice::Net(p) if self.discount == Discount::default() => Some(p),
                _ => None,
            },
            p_11netto_z: Some(split.net),
            p_11vat_z: self.vat_rate.percent().map(|_| split.vat),
            p_12z: self.vat_rate.code(schema),
            p_12z_zal_15: self.annex_15.then_some(Wybor1::Tak),
            gtuz: self.gtu,
            ..ZamowienieWiersz::default()
        }
    }
}

/// A line's computed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineCalc {
    pub rate: VatRate,
    /// `P_11` (from net) or `P_11A` (from gross; always for margin lines).
    pub value: Decimal,
    /// `P_10`, when there is a discount.
    pub discount: Option<Decimal>,
}

/// An order line's net value and tax (each line on its own, as `ZamowienieWiersz` shows them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OrderSplit {
    pub net: Decimal,
    pub vat: Decimal,
}

impl OrderSplit {
    pub(crate) fn of(calc: &LineCalc, method: Method) -> Result<OrderSplit, Error> {
        let Some(p) = calc.rate.percent() else {
            return Ok(OrderSplit {
                net: calc.value,
                vat: Decimal::ZERO,
            });
        };
        Ok(match method {
            Method::FromNet => OrderSplit {
                net: calc.value,
                vat: vat::vat_from_net(calc.value, p)?,
            },
            Method::FromGross => {
                let (net, tax) = vat::split_gross(calc.value, p)?;
                OrderSplit { net, vat: tax }
            }
        })
    }

    pub(crate) fn gross(&self) -> Result<Decimal, Error> {
        vat::add(self.net, self.vat)
    }
}

/// An exchange rate: > 0, at most 6 decimal places (`TIlosci`).
pub(crate) fn check_exchange_rate(path: &str, k: Decimal) -> Result<(), Error> {
    if k <= Decimal::ZERO {
        return Err(check::bad(
            path,
            format!("exchange rate {k} must be greater than zero"),
        ));
    }
    check::places(path, k, 6, "exchange rate")
}

/// The rate of an existing row's `P_12` (the FA(2) codes `0` and `np` need the totals of the
/// invoice to tell which rate they stand for).
pub(crate) fn rate_of_code(
    code: Option<StawkaPodatku>,
    fallback_zero: Option<VatRate>,
    fallback_np: Option<VatRate>,
    margin: bool,
) -> Option<VatRate> {
    match code {
        Some(StawkaPodatku::R0) => fallback_zero,
        Some(StawkaPodatku::Np) => fallback_np,
        Some(c) => VatRate::from_code(c),
        None if margin => Some(VatRate::Margin),
        None => None,
    }
}
