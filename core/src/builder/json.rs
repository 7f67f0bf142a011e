//! The JSON form of the builder's input: one object describing an [`InvoiceBuilder`], shared
//! by every binding (C, Python, Node).
//!
//! Strict: an unknown key, a missing field or a bad value is an
//! [`ErrorCode::InvalidBuilderInput`] error whose path names the place (`lines[1].quantity`,
//! the same paths the builder's own checks use). Decimals may be strings or JSON numbers;
//! both are read exactly, never through `f64`. Codes are the official ones of the invoice
//! schema (`"PL"`, `"EUR"`, `"GTU_01"`, form of payment `"6"`), `null` counts as absent.
//!
//! ```json
//! {
//!   "kind": "vat",
//!   "method": "net",
//!   "header": { "number": "FV/2026/02/150", "issue_date": "2026-02-15",
//!               "created_at": "2026-02-15T10:00:00Z", "sale_date": "2026-02-14",
//!               "place": "Warszawa", "system_info": "Sklep" },
//!   "seller": { "nip": "9999999999", "name": "ABC AGD sp. z o. o.",
//!               "address": { "country": "PL", "line1": "ul. Kwiatowa 1",
//!                            "line2": "00-001 Warszawa" },
//!               "contact": { "email": "abc@abc.pl", "phone": "667444555" } },
//!   "buyer": { "id": { "type": "nip", "value": "1111111111" },
//!              "name": "F.H.U. Jan Kowalski",
//!              "address": { "country": "PL", "line1": "ul. Polna 1" } },
//!   "currency": "PLN",
//!   "lines": [ { "name": "lodówka", "quantity": "1", "unit": "szt.",
//!                "unit_price_net": "1626.01", "rate": "23" } ],
//!   "annotations": { "split_payment": false },
//!   "payment": { "paid_on": "2026-02-14", "form": "6" },
//!   "notes": [ { "key": "zamówienie", "value": "100234" } ]
//! }
//! ```
//!
//! The keys:
//!
//! - `kind` (required): `"vat"`, `"simplified"` (with `simplified_form`: `"per_rate"` or
//!   `"total_only"`), `"advance"` (with `advance_amount`, the gross advance received; the
//!   lines are the whole order) or `"settlement"` (with `advances`: a list of
//!   `{"ksef_number": ..., "amount": ...}` or `{"number": ..., "amount": ...}` for an advance
//!   invoice issued outside KSeF). The kind-specific keys are refused on other kinds.
//! - `method` (required): `"net"` (tax from net prices) or `"gross"` (from gross prices).
//! - `header` (required): `number`, `issue_date`, `created_at` (date-time with a zone),
//!   optional `place`, `system_info`, and at most one of `sale_date` or
//!   `sale_period: {"from", "to"}`.
//! - `seller` (required): `nip`, `name`, `address`, optional `contact`.
//! - `buyer` (required): `id` — `{"type": "nip", "value"}`, `{"type": "eu_vat", "country":
//!   "DE", "value": "123456789"}` (without the country prefix), `{"type": "foreign",
//!   "country"?, "value"}` or `{"type": "none"}` (a consumer) — and optional `name`,
//!   `address`, `contact`, `customer_number`.
//! - an address: `country` (required), `line1`, optional `line2`, `gln`; a contact: `email`
//!   and/or `phone`.
//! - `currency` (default `"PLN"`) and `exchange_rate` (PLN per unit, for a foreign currency).
//! - `lines` (at least one): `name`, `quantity`, exactly one of `unit_price_net` /
//!   `unit_price_gross`, `rate` (`"23"`, `"22"`, `"8"`, `"7"`, `"5"`, `"4"`, `"3"`,
//!   `"0 KR"`, `"0 WDT"`, `"0 EX"`, `"zw"`, `"np I"`, `"np II"`, `"oo"` or `"margin"`), and
//!   optional `unit`, `discount_amount`, `discount_percent`, `gtu`, `pkwiu`, `cn`, `gtin`,
//!   `index`, `uu_id`, `sale_date`, `exchange_rate`, `annex_15` (boolean).
//! - `annotations`: booleans `cash_method`, `self_billing`, `reverse_charge` (absent =
//!   derived from the lines), `split_payment`, `simplified_triangular`; `exemption` —
//!   exactly one of `{"act": ...}`, `{"directive": ...}`, `{"other": ...}`; `margin` —
//!   `"travel_agency"`, `"second_hand_goods"`, `"works_of_art"` or
//!   `"collectors_items_and_antiques"`.
//! - `payment`: `paid_on`, `due_dates` (list), `form` (the official code `"1"` … `"7"`),
//!   `bank_accounts` (list of `{"number", "swift"?, "bank_name"?, "description"?}`).
//! - `notes`: list of `{"key", "value"}` (`DodatkowyOpis`).
//!
//! A complete example is `examples/builder/vat-shop.json`.

use alloc::format;
use alloc::vec::Vec;

use serde_json::Value;

use super::annotations::{Annotations, Exemption};
use super::header::{Header, SaleDate};
use super::invoice::{AdvanceInvoice, InvoiceBuilder, InvoiceKind, SimplifiedForm};
use super::line::{Discount, Line, UnitPrice};
use super::parties::{Address, Buyer, BuyerId, Contact, Seller};
use super::payment::{BankAccount, Payment};
use super::rate::{MarginScheme, Method, VatRate};
use super::Advance;
use crate::error::{Error, ErrorCode};
use crate::model::{FormaPlatnosci, Gtu, KodKraju, KodKrajuUe, KodWaluty, StawkaPodatku};
use crate::paired::reader::{self, Obj};

const CODE: ErrorCode = ErrorCode::InvalidBuilderInput;

impl InvoiceBuilder {
    /// Read the builder's input from its JSON form (strict; see [`crate::builder::json`]).
    ///
    /// ```
    /// use ksef::builder::InvoiceBuilder;
    /// use ksef::SchemaVersion;
    ///
    /// let json = r#"{
    ///   "kind": "vat", "method": "gross",
    ///   "header": { "number": "FV/1", "issue_date": "2026-02-15",
    ///               "created_at": "2026-02-15T10:00:00Z" },
    ///   "seller": { "nip": "5265877635", "name": "Sklep",
    ///               "address": { "country": "PL", "line1": "ul. Kwiatowa 1" } },
    ///   "buyer": { "id": { "type": "none" } },
    ///   "lines": [ { "name": "Kawa", "quantity": 2, "unit_price_gross": "79.99", "rate": "23" } ]
    /// }"#;
    /// let invoice = InvoiceBuilder::from_json(json)?.build(SchemaVersion::Fa3)?;
    /// assert_eq!(invoice.fa.p_15.to_string(), "159.98");
    /// # Ok::<(), ksef::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<InvoiceBuilder, Error> {
        let v = reader::parse(json, "the builder input")?;
        InvoiceBuilder::from_json_value(&v)
    }

    /// Read the builder's input from a parsed JSON value (strict).
    pub fn from_json_value(v: &Value) -> Result<InvoiceBuilder, Error> {
        let mut o = Obj::new(v, "", CODE)?;
        let kind_name = o.string("kind")?;
        let simplified_form = o.opt_string("simplified_form")?;
        let advance_amount = o.opt_decimal("advance_amount")?;
        let advances = o.array("advances")?;
        let has_advances = o.opt("advances").is_some();
        let only = |o: &Obj<'_>, key: &str, present: bool, kind: &str| -> Result<(), Error> {
            if present {
                return Err(o.bad(key, format!("only a `{kind}` invoice has it")));
            }
            Ok(())
        };
        let kind = match kind_name.as_str() {
            "vat" => InvoiceKind::Vat,
            "simplified" => InvoiceKind::Simplified(match simplified_form.as_deref() {
                None => return Err(o.bad("simplified_form", "required field is missing")),
                Some("per_rate") => SimplifiedForm::PerRate,
                Some("total_only") => SimplifiedForm::TotalOnly,
                Some(other) => {
                    return Err(o.bad(
                        "simplified_form",
                        format!("`{other}`: expected \"per_rate\" or \"total_only\""),
                    ))
                }
            }),
            "advance" => match advance_amount {
                Some(a) => InvoiceKind::Advance(Advance::new(a)),
                None => return Err(o.bad("advance_amount", "required field is missing")),
            },
            "settlement" => {
                if !has_advances {
                    return Err(o.bad("advances", "required field is missing"));
                }
                let mut list = Vec::new();
                for (path, v) in &advances {
                    list.push(advance_invoice(Obj::new(v, path, CODE)?)?);
                }
                InvoiceKind::Settlement(list)
            }
            other => {
                return Err(o.bad(
                    "kind",
                    format!(
                        "`{other}`: expected \"vat\", \"simplified\", \"advance\" or \
                         \"settlement\""
                    ),
                ))
            }
        };
        if !matches!(kind, InvoiceKind::Simplified(_)) {
            only(
                &o,
                "simplified_form",
                simplified_form.is_some(),
                "simplified",
            )?;
        }
        if !matches!(kind, InvoiceKind::Advance(_)) {
            only(&o, "advance_amount", advance_amount.is_some(), "advance")?;
        }
        if !matches!(kind, InvoiceKind::Settlement(_)) {
            only(&o, "advances", has_advances, "settlement")?;
        }
        let method = match o.string("method")?.as_str() {
            "net" => Method::FromNet,
            "gross" => Method::FromGross,
            other => {
                return Err(o.bad(
                    "method",
                    format!("`{other}`: expected \"net\" or \"gross\""),
                ))
            }
        };
        let header = header(o.obj("header")?)?;
        let seller = seller(o.obj("seller")?)?;
        let buyer = buyer(o.obj("buyer")?)?;
        let mut b = InvoiceBuilder::new(kind, header, seller, buyer, method);
        if let Some(c) = o.opt_string("currency")? {
            b.currency = code(&o, "currency", &c, KodWaluty::from_code, "a currency code")?;
        }
        b.exchange_rate = o.opt_decimal("exchange_rate")?;
        for (path, v) in o.array("lines")? {
            b.lines.push(line(Obj::new(v, &path, CODE)?)?);
        }
        if let Some(a) = o.opt_obj("annotations")? {
            b.annotations = annotations(a)?;
        }
        if let Some(p) = o.opt_obj("payment")? {
            b.payment = Some(payment(p)?);
        }
        for (path, v) in o.array("notes")? {
            let mut n = Obj::new(v, &path, CODE)?;
            let key = n.string("key")?;
            let value = n.string("value")?;
            n.finish()?;
            b.notes.push((key, value));
        }
        o.finish()?;
        Ok(b)
    }
}

/// A code of an enumeration of the model (`"PL"`, `"EUR"`).
fn code<T>(
    o: &Obj<'_>,
    key: &str,
    text: &str,
    from_code: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, Error> {
    from_code(text).ok_or_else(|| o.bad(key, format!("`{text}` is not {what}")))
}

fn advance_invoice(mut o: Obj<'_>) -> Result<AdvanceInvoice, Error> {
    let ksef = o.opt_string("ksef_number")?;
    let number = o.opt_string("number")?;
    let amount = o.decimal("amount")?;
    let a = match (ksef, number) {
        (Some(k), None) => AdvanceInvoice::ksef(k, amount),
        (None, Some(n)) => AdvanceInvoice::outside_ksef(n, amount),
        (Some(_), Some(_)) => {
            return Err(o.bad("number", "give either `ksef_number` or `number`, not both"))
        }
        (None, None) => {
            return Err(o.bad(
                "ksef_number",
                "give `ksef_number` (or `number` for an advance invoice outside KSeF)",
            ))
        }
    };
    o.finish()?;
    Ok(a)
}

fn header(mut o: Obj<'_>) -> Result<Header, Error> {
    let mut h = Header::new(
        o.string("number")?,
        o.date("issue_date")?,
        o.date_time("created_at")?,
    );
    h.place = o.opt_string("place")?;
    h.system_info = o.opt_string("system_info")?;
    let sale_date = o.opt_date("sale_date")?;
    let period = match o.opt_obj("sale_period")? {
        Some(mut p) => {
            let from = p.date("from")?;
            let to = p.date("to")?;
            p.finish()?;
            Some((from, to))
        }
        None => None,
    };
    h.sale = match (sale_date, period) {
        (Some(d), None) => Some(SaleDate::Date(d)),
        (None, Some((from, to))) => Some(SaleDate::Period { from, to }),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(o.bad(
                "sale_period",
                "give either `sale_date` or `sale_period`, not both",
            ))
        }
    };
    o.finish()?;
    Ok(h)
}

fn address(mut o: Obj<'_>) -> Result<Address, Error> {
    let c = o.string("country")?;
    let country = code(&o, "country", &c, KodKraju::from_code, "a country code")?;
    let mut a = Address::new(country, o.string("line1")?);
    a.line2 = o.opt_string("line2")?;
    a.gln = o.opt_string("gln")?;
    o.finish()?;
    Ok(a)
}

fn contact(mut o: Obj<'_>) -> Result<Contact, Error> {
    let mut c = Contact::new();
    c.email = o.opt_string("email")?;
    c.phone = o.opt_string("phone")?;
    o.finish()?;
    Ok(c)
}

fn seller(mut o: Obj<'_>) -> Result<Seller, Error> {
    let mut s = Seller::new(
        o.string("nip")?,
        o.string("name")?,
        address(o.obj("address")?)?,
    );
    if let Some(c) = o.opt_obj("contact")? {
        s.contact = Some(contact(c)?);
    }
    o.finish()?;
    Ok(s)
}

fn buyer(mut o: Obj<'_>) -> Result<Buyer, Error> {
    let mut id = o.obj("id")?;
    let t = id.string("type")?;
    let bid = match t.as_str() {
        "nip" => BuyerId::Nip(id.string("value")?),
        "eu_vat" => {
            let c = id.string("country")?;
            let country = code(
                &id,
                "country",
                &c,
                KodKrajuUe::from_code,
                "an EU country code",
            )?;
            BuyerId::EuVat {
                country,
                number: id.string("value")?,
            }
        }
        "foreign" => {
            let country = match id.opt_string("country")? {
                Some(c) => Some(code(
                    &id,
                    "country",
                    &c,
                    KodKraju::from_code,
                    "a country code",
                )?),
                None => None,
            };
            BuyerId::Foreign {
                country,
                id: id.string("value")?,
            }
        }
        "none" => BuyerId::None,
        other => {
            return Err(id.bad(
                "type",
                format!("`{other}`: expected \"nip\", \"eu_vat\", \"foreign\" or \"none\""),
            ))
        }
    };
    id.finish()?;
    let mut b = Buyer::new(bid);
    b.name = o.opt_string("name")?;
    if let Some(a) = o.opt_obj("address")? {
        b.address = Some(address(a)?);
    }
    if let Some(c) = o.opt_obj("contact")? {
        b.contact = Some(contact(c)?);
    }
    b.customer_number = o.opt_string("customer_number")?;
    o.finish()?;
    Ok(b)
}

/// A rate from its `P_12` code (FA(3) codes) or `"margin"`.
fn rate(o: &Obj<'_>, key: &str, text: &str) -> Result<VatRate, Error> {
    if text == "margin" {
        return Ok(VatRate::Margin);
    }
    StawkaPodatku::from_code(text)
        .and_then(VatRate::from_code)
        .ok_or_else(|| {
            o.bad(
                key,
                format!(
                    "`{text}` is not a rate (use 23, 22, 8, 7, 5, 4, 3, 0 KR, 0 WDT, 0 EX, zw, \
                     np I, np II, oo or margin)"
                ),
            )
        })
}

fn line(mut o: Obj<'_>) -> Result<Line, Error> {
    let name = o.string("name")?;
    let quantity = o.decimal("quantity")?;
    let net = o.opt_decimal("unit_price_net")?;
    let gross = o.opt_decimal("unit_price_gross")?;
    let price = match (net, gross) {
        (Some(n), None) => UnitPrice::Net(n),
        (None, Some(g)) => UnitPrice::Gross(g),
        (Some(_), Some(_)) => {
            return Err(o.bad(
                "unit_price_gross",
                "give either `unit_price_net` or `unit_price_gross`, not both",
            ))
        }
        (None, None) => {
            return Err(o.bad(
                "unit_price_net",
                "give `unit_price_net` or `unit_price_gross`",
            ))
        }
    };
    let r = o.string("rate")?;
    let vat_rate = rate(&o, "rate", &r)?;
    let mut l = Line::new(name, quantity, price, vat_rate);
    l.unit = o.opt_string("unit")?;
    l.discount = Discount {
        amount: o.opt_decimal("discount_amount")?,
        percent: o.opt_decimal("discount_percent")?,
    };
    if let Some(g) = o.opt_string("gtu")? {
        l.gtu = Some(code(
            &o,
            "gtu",
            &g,
            Gtu::from_code,
            "a GTU code (GTU_01 … GTU_13)",
        )?);
    }
    l.pkwiu = o.opt_string("pkwiu")?;
    l.cn = o.opt_string("cn")?;
    l.gtin = o.opt_string("gtin")?;
    l.index = o.opt_string("index")?;
    l.uu_id = o.opt_string("uu_id")?;
    l.sale_date = o.opt_date("sale_date")?;
    l.exchange_rate = o.opt_decimal("exchange_rate")?;
    l.annex_15 = o.opt_bool("annex_15")?.unwrap_or(false);
    o.finish()?;
    Ok(l)
}

fn annotations(mut o: Obj<'_>) -> Result<Annotations, Error> {
    let mut a = Annotations::new();
    a.cash_method = o.opt_bool("cash_method")?.unwrap_or(false);
    a.self_billing = o.opt_bool("self_billing")?.unwrap_or(false);
    a.reverse_charge = o.opt_bool("reverse_charge")?;
    a.split_payment = o.opt_bool("split_payment")?.unwrap_or(false);
    a.simplified_triangular = o.opt_bool("simplified_triangular")?.unwrap_or(false);
    if let Some(mut e) = o.opt_obj("exemption")? {
        let act = e.opt_string("act")?;
        let directive = e.opt_string("directive")?;
        let other = e.opt_string("other")?;
        a.exemption = Some(match (act, directive, other) {
            (Some(s), None, None) => Exemption::Act(s),
            (None, Some(s), None) => Exemption::Directive(s),
            (None, None, Some(s)) => Exemption::Other(s),
            _ => {
                return Err(e.bad(
                    "act",
                    "give exactly one legal basis: `act`, `directive` or `other`",
                ))
            }
        });
        e.finish()?;
    }
    if let Some(m) = o.opt_string("margin")? {
        a.margin = Some(match m.as_str() {
            "travel_agency" => MarginScheme::TravelAgency,
            "second_hand_goods" => MarginScheme::SecondHandGoods,
            "works_of_art" => MarginScheme::WorksOfArt,
            "collectors_items_and_antiques" => MarginScheme::CollectorsItemsAndAntiques,
            other => {
                return Err(o.bad(
                    "margin",
                    format!(
                        "`{other}`: expected \"travel_agency\", \"second_hand_goods\", \
                         \"works_of_art\" or \"collectors_items_and_antiques\""
                    ),
                ))
            }
        });
    }
    o.finish()?;
    Ok(a)
}

fn payment(mut o: Obj<'_>) -> Result<Payment, Error> {
    let mut p = Payment {
        paid_on: o.opt_date("paid_on")?,
        ..Payment::default()
    };
    for (path, v) in o.array("due_dates")? {
        let text = match v {
            Value::String(s) => s.as_str(),
            _ => "",
        };
        let d = text.parse().map_err(|_| {
            Error::new(
                CODE,
                path.as_str(),
                format!("{v} is not a date (YYYY-MM-DD)"),
            )
        })?;
        p.due_dates.push(d);
    }
    if let Some(f) = o.opt_string("form")? {
        p.form = Some(code(
            &o,
            "form",
            &f,
            FormaPlatnosci::from_code,
            "a form of payment code (1 … 7)",
        )?);
    }
    for (path, v) in o.array("bank_accounts")? {
        let mut a = Obj::new(v, &path, CODE)?;
        let mut acc = BankAccount::new(a.string("number")?);
        acc.swift = a.opt_string("swift")?;
        acc.bank_name = a.opt_string("bank_name")?;
        acc.description = a.opt_string("description")?;
        a.finish()?;
        p.bank_accounts.push(acc);
    }
    o.finish()?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Decimal, SchemaVersion};

    const BASE: &str = r#"{
      "kind": "vat", "method": "net",
      "header": { "number": "FV/2026/02/150", "issue_date": "2026-02-15",
                  "created_at": "2026-02-15T10:00:00Z", "sale_date": "2026-02-14" },
      "seller": { "nip": "9999999999", "name": "ABC AGD sp. z o. o.",
                  "address": { "country": "PL", "line1": "ul. Kwiatowa 1", "line2": "00-001 Warszawa" } },
      "buyer": { "id": { "type": "nip", "value": "1111111111" }, "name": "F.H.U. Jan Kowalski",
                 "address": { "country": "PL", "line1": "ul. Polna 1", "line2": "00-001 Warszawa" } },
      "lines": [
        { "name": "lodówka Zimnotech mk1", "quantity": "1", "unit_price_net": "1626.01", "rate": "23" },
        { "name": "wniesienie sprzętu", "quantity": 1, "unit_price_net": 40.65, "rate": "23" },
        { "name": "mleko", "quantity": "1", "unit_price_net": "0.95", "rate": "5" }
      ],
      "payment": { "paid_on": "2026-02-14", "form": "6" }
    }"#;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn err(json: &str) -> Error {
        match InvoiceBuilder::from_json(json) {
            Ok(b) => panic!("accepted: {b:?}"),
            Err(e) => e,
        }
    }

    /// The JSON form gives the same builder (and invoice) as the Rust API (the module
    /// example of `crate::builder`).
    #[test]
    fn same_as_the_rust_api() {
        use crate::builder::*;
        let b = InvoiceBuilder::from_json(BASE).unwrap();
        let day = |s: &str| s.parse::<crate::model::Date>().unwrap();
        let seller = Seller::new(
            "9999999999",
            "ABC AGD sp. z o. o.",
            Address::pl("ul. Kwiatowa 1", "00-001 Warszawa"),
        );
        let buyer = Buyer::company("1111111111", "F.H.U. Jan Kowalski")
            .address(Address::pl("ul. Polna 1", "00-001 Warszawa"));
        let header = Header::new(
            "FV/2026/02/150",
            day("2026-02-15"),
            "2026-02-15T10:00:00Z".parse().unwrap(),
        )
        .sale_date(day("2026-02-14"));
        let rust = InvoiceBuilder::vat(header, seller, buyer, Method::FromNet)
            .line(Line::net(
                "lodówka Zimnotech mk1",
                d("1"),
                d("1626.01"),
                VatRate::Rate23,
            ))
            .line(Line::net(
                "wniesienie sprzętu",
                d("1"),
                d("40.65"),
                VatRate::Rate23,
            ))
            .line(Line::net("mleko", d("1"), d("0.95"), VatRate::Rate5))
            .payment(Payment::paid(day("2026-02-14"), FormaPlatnosci::Przelew));
        assert_eq!(b, rust);
        let inv = b.build(SchemaVersion::Fa3).unwrap();
        assert_eq!(inv.fa.p_15, d("2050.99"));
        assert_eq!(inv.fa.p_14_1, Some(d("383.33")));
    }

    #[test]
    fn every_kind_and_option() {
        let json = BASE
            .replace(
                r#""kind": "vat""#,
                r#""kind": "simplified", "simplified_form": "total_only""#,
            )
            .replace(r#""payment""#, r#""currency": "EUR", "exchange_rate": "4.2512", "annotations": { "cash_method": true, "split_payment": true, "reverse_charge": false }, "notes": [ { "key": "zamówienie", "value": "100234" } ], "payment""#);
        let b = InvoiceBuilder::from_json(&json).unwrap();
        assert_eq!(b.kind, InvoiceKind::Simplified(SimplifiedForm::TotalOnly));
        assert_eq!(b.currency, KodWaluty::Eur);
        assert_eq!(b.exchange_rate, Some(d("4.2512")));
        assert!(b.annotations.cash_method && b.annotations.split_payment);
        assert_eq!(b.annotations.reverse_charge, Some(false));
        assert_eq!(b.notes, [("zamówienie".into(), "100234".into())]);

        let adv = BASE.replace(
            r#""kind": "vat""#,
            r#""kind": "advance", "advance_amount": "1000.00""#,
        );
        let b = InvoiceBuilder::from_json(&adv).unwrap();
        assert_eq!(b.kind, InvoiceKind::Advance(Advance::new(d("1000.00"))));
        let inv = b.build(SchemaVersion::Fa3).unwrap();
        assert_eq!(inv.fa.p_15, d("1000.00"));

        let roz = BASE.replace(
            r#""kind": "vat""#,
            r#""kind": "settlement", "advances": [ { "ksef_number": "9999999999-20260210-010080615740-E4", "amount": "1000" }, { "number": "FZ/1", "amount": 50 } ]"#,
        );
        let b = InvoiceBuilder::from_json(&roz).unwrap();
        let InvoiceKind::Settlement(list) = &b.kind else {
            panic!("{:?}", b.kind)
        };
        assert_eq!(
            list,
            &[
                AdvanceInvoice::ksef("9999999999-20260210-010080615740-E4", d("1000")),
                AdvanceInvoice::outside_ksef("FZ/1", d("50")),
            ]
        );

        let lines = BASE.replace(
            r#"{ "name": "mleko", "quantity": "1", "unit_price_net": "0.95", "rate": "5" }"#,
            r#"{ "name": "usługa", "quantity": "2.5", "unit": "h", "unit_price_net": "100", "rate": "zw",
                 "discount_amount": "1.00", "discount_percent": "10", "gtu": "GTU_12", "pkwiu": "62.01",
                 "cn": "8418", "gtin": "5901234123457", "index": "U-1", "uu_id": "a1",
                 "sale_date": "2026-02-13", "exchange_rate": null, "annex_15": true }"#,
        ).replace(r#""payment""#, r#""annotations": { "exemption": { "act": "art. 43 ust. 1 pkt 37" } }, "payment""#);
        let b = InvoiceBuilder::from_json(&lines).unwrap();
        let l = &b.lines[2];
        assert_eq!(l.vat_rate, VatRate::Exempt);
        assert_eq!(l.gtu, Some(Gtu::Gtu12));
        assert_eq!(l.discount.percent, Some(d("10")));
        assert!(l.annex_15);
        assert_eq!(
            b.annotations.exemption,
            Some(Exemption::Act("art. 43 ust. 1 pkt 37".into()))
        );
        assert!(b.build(SchemaVersion::Fa3).is_ok());

        let buyers = [
            (
                r#"{ "type": "eu_vat", "country": "DE", "value": "123456789" }"#,
                BuyerId::EuVat {
                    country: KodKrajuUe::De,
                    number: "123456789".into(),
                },
            ),
            (
                r#"{ "type": "foreign", "country": "US", "value": "12-3456789" }"#,
                BuyerId::Foreign {
                    country: Some(KodKraju::Us),
                    id: "12-3456789".into(),
                },
            ),
            (r#"{ "type": "none" }"#, BuyerId::None),
        ];
        for (id, want) in buyers {
            let json = BASE.replace(r#"{ "type": "nip", "value": "1111111111" }"#, id);
            assert_eq!(InvoiceBuilder::from_json(&json).unwrap().buyer.id, want);
        }
        let period = BASE.replace(
            r#""sale_date": "2026-02-14""#,
            r#""sale_period": { "from": "2026-02-01", "to": "2026-02-14" }, "place": "Warszawa""#,
        );
        let b = InvoiceBuilder::from_json(&period).unwrap();
        assert_eq!(b.header.place.as_deref(), Some("Warszawa"));
        assert!(matches!(b.header.sale, Some(SaleDate::Period { .. })));
    }

    /// Unknown keys, missing fields and bad values are typed errors naming the JSON path.
    #[test]
    fn errors_name_the_path() {
        let cases: &[(&str, &str, &str)] = &[
            (r#""kind": "vat""#, r#""kind": "vat", "extra": 1"#, "extra"),
            (r#""kind": "vat""#, r#""kind": "proforma""#, "kind"),
            (r#""method": "net""#, r#""method": "float""#, "method"),
            (
                r#""unit_price_net": "0.95""#,
                r#""unit_price_net": "0,95""#,
                "lines[2].unit_price_net",
            ),
            (
                r#""unit_price_net": "0.95""#,
                r#""unit_price_net": true"#,
                "lines[2].unit_price_net",
            ),
            (
                r#""unit_price_net": "0.95""#,
                r#""unit_price_gross": "0.95", "unit_price_net": "1""#,
                "lines[2].unit_price_gross",
            ),
            (r#""rate": "5""#, r#""rate": "0""#, "lines[2].rate"),
            (
                r#""rate": "5""#,
                r#""rate": "5", "colour": "red""#,
                "lines[2].colour",
            ),
            (
                r#""issue_date": "2026-02-15""#,
                r#""issue_date": "15.02.2026""#,
                "header.issue_date",
            ),
            (
                r#""country": "PL", "line1": "ul. Polna 1""#,
                r#""country": "XX", "line1": "ul. Polna 1""#,
                "buyer.address.country",
            ),
            (r#""type": "nip""#, r#""type": "pesel""#, "buyer.id.type"),
            (r#""form": "6""#, r#""form": "przelew""#, "payment.form"),
            (
                r#""kind": "vat""#,
                r#""kind": "vat", "advance_amount": "1""#,
                "advance_amount",
            ),
            (
                r#""kind": "vat""#,
                r#""kind": "simplified""#,
                "simplified_form",
            ),
            (
                r#""sale_date": "2026-02-14""#,
                r#""sale_date": "2026-02-14", "sale_period": { "from": "2026-02-01", "to": "2026-02-14" }"#,
                "header.sale_period",
            ),
        ];
        for (from, to, path) in cases {
            let json = BASE.replace(from, to);
            assert_ne!(json, BASE, "{from}");
            let e = err(&json);
            assert_eq!((e.code(), e.path()), (CODE, *path), "{to}: {e}");
        }
        let e = err("{");
        assert_eq!(e.code(), ErrorCode::JsonSyntax);
        let e = err("[]");
        assert_eq!(e.code(), CODE);
        // the builder's own checks use the same paths
        let bad_nip = BASE.replace("\"1111111111\"", "\"1111111112\"");
        let e = InvoiceBuilder::from_json(&bad_nip)
            .unwrap()
            .build(SchemaVersion::Fa3)
            .unwrap_err();
        assert_eq!((e.code(), e.path()), (CODE, "buyer.id"));
        let no_lines = BASE.replace(r#""lines": ["#, r#""lines": [], "x": ["#);
        let e = err(&no_lines);
        assert_eq!(e.path(), "x");
    }

    /// The committed example reads and builds.
    #[test]
    fn example_builds() {
        let text = include_str!("../../../examples/builder/vat-shop.json");
        let inv = InvoiceBuilder::from_json(text)
            .unwrap()
            .build(SchemaVersion::Fa3)
            .unwrap();
        assert!(inv.fa.p_15 > Decimal::ZERO);
    }
}
