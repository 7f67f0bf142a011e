//! An order as the shop sees it: the input of the rule engine.
//!
//! The JSON form is strict: an unknown key, a missing field or a bad value is an
//! [`ErrorCode::OrderInvalid`] error whose path names the place (`lines[1].quantity`).
//! Decimals may be strings or JSON numbers; both are read exactly, never through `f64`.
//!
//! ```json
//! {
//!   "id": "100234", "store": "pl-main", "status": "paid",
//!   "created_at": "2026-02-14T10:00:00+01:00", "tax_point": "2026-02-14",
//!   "currency": "PLN", "payment_method": "przelewy24",
//!   "customer": { "name": "F.H.U. Jan Kowalski", "nip": "1111111111", "country": "PL",
//!                 "address": { "street": "ul. Polna 1", "city": "Warszawa",
//!                              "postal_code": "00-001", "country": "PL" } },
//!   "lines": [ { "sku": "FR-1", "name": "Lodówka", "quantity": "1",
//!                "unit_price_gross": "1999.99", "tax_rule": "standard" } ],
//!   "shipping": { "name": "Kurier", "price_gross": "15.99", "tax_rule": "standard" }
//! }
//! ```
//!
//! A **correction** (credit memo, return) has `"kind": "correction"`, the original invoice in
//! `corrects`, and **repeats the original order's lines and shipping exactly as they were
//! invoiced**; `returns` lists what comes back, by the row number on the original invoice
//! (`NrWierszaFa`: the order lines in order, then shipping as the last row):
//!
//! ```json
//! "kind": "correction",
//! "corrects": { "order_id": "100234", "ksef_number": "5265877635-20260215-0100A0B1C2D3-6F",
//!               "invoice_number": "FV/2026/02/1", "issue_date": "2026-02-15",
//!               "reason": "Zwrot towaru" },
//! "returns": [ { "line": 1, "quantity": "1" } ]
//! ```
//!
//! A returned row keeps its price; its quantity drops by the returned quantity (to zero: the
//! row is removed). The original invoice is rebuilt from the repeated lines with the same
//! rules, so the correction's "before" state is exactly what was invoiced.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use super::reader::{self, ser, strict_deserialize, Obj};
use crate::error::{Error, ErrorCode};
use crate::id::KsefNumber;
use crate::model::{Date, DateTime, Decimal};

const CODE: ErrorCode = ErrorCode::OrderInvalid;

/// An order (or a return / credit memo of an order) as the shop sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Order {
    /// The shop's order id (Fakturownia `oid`).
    pub id: String,
    /// The store / website the order belongs to (a key of [`super::rules::RuleConfig::stores`]).
    pub store: String,
    /// The order status as the shop names it (`"paid"`, `"completed"`, …).
    pub status: String,
    /// When the order was placed.
    #[serde(serialize_with = "ser::date_time")]
    pub created_at: DateTime,
    /// The tax point (date of supply or payment); `None` = the date of `created_at`.
    #[serde(
        serialize_with = "ser::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax_point: Option<Date>,
    /// ISO 4217 currency code (`"PLN"`, `"EUR"`).
    pub currency: String,
    /// The shop's payment method name.
    pub payment_method: String,
    /// The customer.
    pub customer: Customer,
    /// The order lines.
    pub lines: Vec<OrderLine>,
    /// Shipping, invoiced as the last row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Shipping>,
    /// Invoice or correction.
    pub kind: OrderKind,
    /// For a correction: the invoice it corrects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Corrects>,
    /// For a correction: what comes back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Return>,
}

/// What the order asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderKind {
    /// A sale: an invoice.
    Invoice,
    /// A return or credit memo: a correction of the order's invoice.
    Correction,
}

/// The customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Customer {
    /// Name (company, or first name and surname).
    pub name: String,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Polish NIP: the customer is a business (B2B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nip: Option<String>,
    /// EU VAT number with its country prefix (`"DE123456789"`): an EU business.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eu_vat_id: Option<String>,
    /// Another tax identifier (outside the EU), issued by `country`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// ISO 3166 alpha-2 country of the customer.
    pub country: String,
    /// The shop's customer group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Billing address.
    pub address: PostalAddress,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PostalAddress {
    /// Street and number.
    pub street: String,
    /// Town.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166 alpha-2 country.
    pub country: String,
}

/// A unit price as the shop gives it: net or gross (exactly one per line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    /// Without tax (`unit_price_net` / `price_net`).
    Net(Decimal),
    /// With tax (`unit_price_gross` / `price_gross`).
    Gross(Decimal),
}

/// An order line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OrderLine {
    /// The shop's product code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product name.
    pub name: String,
    /// Quantity (> 0).
    #[serde(serialize_with = "ser::decimal")]
    pub quantity: Decimal,
    /// Unit of measure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Unit price (`unit_price_net` or `unit_price_gross`).
    #[serde(flatten, serialize_with = "line_price")]
    pub price: Price,
    /// The shop's tax rule name (a key of the store's `tax_rules`).
    pub tax_rule: String,
    /// Discount in percent of the line (0–100).
    #[serde(
        serialize_with = "ser::opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount_percent: Option<Decimal>,
}

/// Shipping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Shipping {
    /// Name shown on the invoice (`"Kurier DPD"`).
    pub name: String,
    /// Price (`price_net` or `price_gross`).
    #[serde(flatten, serialize_with = "shipping_price")]
    pub price: Price,
    /// The shop's tax rule name.
    pub tax_rule: String,
}

/// The invoice a correction corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Corrects {
    /// The original order id.
    pub order_id: String,
    /// The original invoice's KSeF number (checksum verified).
    pub ksef_number: String,
    /// The original invoice's number (`P_2`).
    pub invoice_number: String,
    /// The original invoice's issue date (`P_1`).
    #[serde(serialize_with = "ser::date")]
    pub issue_date: Date,
    /// The original's tax point; `None` = the original's issue date. The exchange rate of a
    /// foreign-currency correction is the original's: the rate before this date.
    #[serde(
        serialize_with = "ser::opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax_point: Option<Date>,
    /// The reason (`PrzyczynaKorekty`, Fakturownia `correction_reason`).
    pub reason: String,
}

/// A returned quantity of one row of the original invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Return {
    /// The row number on the original invoice (1-based; order lines, then shipping).
    pub line: u64,
    /// The quantity returned (> 0, at most the quantity invoiced).
    #[serde(serialize_with = "ser::decimal")]
    pub quantity: Decimal,
}

impl Order {
    /// Read an order from JSON (strict; see the module docs).
    pub fn from_json(json: &str) -> Result<Order, Error> {
        let v = reader::parse(json, "the order")?;
        Order::from_value(&v)
    }

    /// Read an order from a parsed JSON value (strict).
    pub fn from_value(v: &serde_json::Value) -> Result<Order, Error> {
        let mut o = Obj::new(v, "", CODE)?;
        let id = o.string("id")?;
        let store = o.string("store")?;
        let status = o.string("status")?;
        let created_at = o.date_time("created_at")?;
        let tax_point = o.opt_date("tax_point")?;
        let currency = o.string("currency")?;
        check_code(&o, "currency", &currency, 3)?;
        let payment_method = o.string("payment_method")?;
        let customer = Customer::read(o.obj("customer")?)?;
        let mut lines = Vec::new();
        for (path, v) in o.array("lines")? {
            lines.push(OrderLine::read(Obj::new(v, &path, CODE)?)?);
        }
        if lines.is_empty() {
            return Err(o.bad("lines", "an order needs at least one line"));
        }
        let shipping = match o.opt_obj("shipping")? {
            Some(s) => Some(Shipping::read(s)?),
            None => None,
        };
        let kind = match o.opt("kind") {
            None => OrderKind::Invoice,
            Some(serde_json::Value::String(s)) if s == "invoice" => OrderKind::Invoice,
            Some(serde_json::Value::String(s)) if s == "correction" => OrderKind::Correction,
            Some(other) => {
                return Err(o.bad(
                    "kind",
                    alloc::format!("expected \"invoice\" or \"correction\", found {other}"),
                ))
            }
        };
        let corrects = match o.opt_obj("corrects")? {
            Some(c) => Some(Corrects::read(c)?),
            None => None,
        };
        let mut returns = Vec::new();
        for (path, v) in o.array("returns")? {
            returns.push(Return::read(Obj::new(v, &path, CODE)?)?);
        }
        match kind {
            OrderKind::Invoice => {
                if corrects.is_some() {
                    return Err(o.bad("corrects", "only a correction (kind: correction) has it"));
                }
                if !returns.is_empty() {
                    return Err(o.bad("returns", "only a correction (kind: correction) has it"));
                }
            }
            OrderKind::Correction => {
                if corrects.is_none() {
                    return Err(o.bad("corrects", "a correction must name the invoice it corrects"));
                }
                if returns.is_empty() {
                    return Err(o.bad("returns", "a correction must return at least one row"));
                }
            }
        }
        o.finish()?;
        Ok(Order {
            id,
            store,
            status,
            created_at,
            tax_point,
            currency,
            payment_method,
            customer,
            lines,
            shipping,
            kind,
            corrects,
            returns,
        })
    }

    /// Write the order as JSON (the form [`Order::from_json`] reads).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::new(CODE, "", alloc::format!("{e}")))
    }

    /// The tax point: `tax_point`, else the date of `created_at`.
    pub fn tax_point(&self) -> Date {
        self.tax_point.unwrap_or_else(|| self.created_at.date())
    }
}

fn line_price<S: serde::Serializer>(p: &Price, s: S) -> Result<S::Ok, S::Error> {
    price_entry(p, "unit_price_", s)
}

fn shipping_price<S: serde::Serializer>(p: &Price, s: S) -> Result<S::Ok, S::Error> {
    price_entry(p, "price_", s)
}

/// A price as its input key (`unit_price_net: "10.00"`), flattened into the line.
fn price_entry<S: serde::Serializer>(p: &Price, prefix: &str, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let (kind, v) = match p {
        Price::Net(v) => ("net", v),
        Price::Gross(v) => ("gross", v),
    };
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(&alloc::format!("{prefix}{kind}"), &alloc::format!("{v}"))?;
    m.end()
}

strict_deserialize!(Order);

fn check_code(o: &Obj<'_>, key: &str, v: &str, len: usize) -> Result<(), Error> {
    if v.len() != len || !v.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(o.bad(
            key,
            alloc::format!("`{v}` is not a code of {len} capital letters"),
        ));
    }
    Ok(())
}

impl Customer {
    fn read(mut o: Obj<'_>) -> Result<Customer, Error> {
        let name = o.string("name")?;
        let email = o.opt_string("email")?;
        let nip = o.opt_string("nip")?;
        let eu_vat_id = o.opt_string("eu_vat_id")?;
        let tax_id = o.opt_string("tax_id")?;
        let country = o.string("country")?;
        check_code(&o, "country", &country, 2)?;
        let group = o.opt_string("group")?;
        let address = PostalAddress::read(o.obj("address")?)?;
        let ids = [nip.is_some(), eu_vat_id.is_some(), tax_id.is_some()];
        if ids.iter().filter(|x| **x).count() > 1 {
            return Err(o.bad(
                "nip",
                "give one tax identifier: nip, eu_vat_id or tax_id, not several",
            ));
        }
        o.finish()?;
        Ok(Customer {
            name,
            email,
            nip,
            eu_vat_id,
            tax_id,
            country,
            group,
            address,
        })
    }
}

impl PostalAddress {
    fn read(mut o: Obj<'_>) -> Result<PostalAddress, Error> {
        let street = o.string("street")?;
        let city = o.string("city")?;
        let postal_code = o.string("postal_code")?;
        let country = o.string("country")?;
        check_code(&o, "country", &country, 2)?;
        o.finish()?;
        Ok(PostalAddress {
            street,
            city,
            postal_code,
            country,
        })
    }
}

fn price(o: &mut Obj<'_>, net: &'static str, gross: &'static str) -> Result<Price, Error> {
    let n = o.opt_decimal(net)?;
    let g = o.opt_decimal(gross)?;
    match (n, g) {
        (Some(n), None) => Ok(Price::Net(n)),
        (None, Some(g)) => Ok(Price::Gross(g)),
        (Some(_), Some(_)) => Err(o.bad(
            net,
            alloc::format!("give either `{net}` or `{gross}`, not both"),
        )),
        (None, None) => Err(o.bad(net, alloc::format!("give `{net}` or `{gross}`"))),
    }
}

impl OrderLine {
    fn read(mut o: Obj<'_>) -> Result<OrderLine, Error> {
        let sku = o.opt_string("sku")?;
        let name = o.string("name")?;
        let quantity = o.decimal("quantity")?;
        if quantity <= Decimal::ZERO {
            return Err(o.bad(
                "quantity",
                alloc::format!("{quantity} must be greater than zero"),
            ));
        }
        let unit = o.opt_string("unit")?;
        let price = price(&mut o, "unit_price_net", "unit_price_gross")?;
        let tax_rule = o.string("tax_rule")?;
        let discount_percent = o.opt_decimal("discount_percent")?;
        if let Some(d) = discount_percent {
            if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
                return Err(o.bad(
                    "discount_percent",
                    alloc::format!("{d} is not within 0–100"),
                ));
            }
        }
        o.finish()?;
        Ok(OrderLine {
            sku,
            name,
            quantity,
            unit,
            price,
            tax_rule,
            discount_percent,
        })
    }
}

impl Shipping {
    fn read(mut o: Obj<'_>) -> Result<Shipping, Error> {
        let name = o.string("name")?;
        let price = price(&mut o, "price_net", "price_gross")?;
        let tax_rule = o.string("tax_rule")?;
        o.finish()?;
        Ok(Shipping {
            name,
            price,
            tax_rule,
        })
    }
}

impl Corrects {
    fn read(mut o: Obj<'_>) -> Result<Corrects, Error> {
        let order_id = o.string("order_id")?;
        let ksef_number = o.string("ksef_number")?;
        if let Err(e) = KsefNumber::parse(&ksef_number) {
            return Err(o.bad("ksef_number", alloc::format!("`{ksef_number}`: {e}")));
        }
        let invoice_number = o.string("invoice_number")?;
        let issue_date = o.date("issue_date")?;
        let tax_point = o.opt_date("tax_point")?;
        let reason = o.string("reason")?;
        o.finish()?;
        Ok(Corrects {
            order_id,
            ksef_number,
            invoice_number,
            issue_date,
            tax_point,
            reason,
        })
    }
}

impl Return {
    fn read(mut o: Obj<'_>) -> Result<Return, Error> {
        let line = match o.opt_u64("line")? {
            Some(n) if n >= 1 => n,
            Some(_) => return Err(o.bad("line", "row numbers start at 1")),
            None => return Err(o.bad("line", "required field is missing")),
        };
        let quantity = o.decimal("quantity")?;
        if quantity <= Decimal::ZERO {
            return Err(o.bad(
                "quantity",
                alloc::format!("{quantity} must be greater than zero"),
            ));
        }
        o.finish()?;
        Ok(Return { line, quantity })
    }
}
