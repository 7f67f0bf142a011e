//! The shared rule engine: one evaluation of an order gives the decision and the documents
//! for both channels (the FA(3) invoice for KSeF and the Fakturownia invoice object), so the
//! two can never disagree.
//!
//! # Configuration
//!
//! [`RuleConfig`] (strict JSON, [`RuleConfig::from_json`]) holds one [`StoreRules`] per store
//! or website: the seller (FA(3) `Podmiot1`), the KSeF environment, the Fakturownia account
//! (credentials are not in the configuration: the host passes them), the triggers, the
//! exclusions, the tax rules, the VAT method and the numbering series.
//!
//! ```json
//! { "stores": { "pl-main": {
//!     "seller": { "nip": "5265877635", "name": "Sklep sp. z o.o.",
//!                 "address": { "street": "ul. Kwiatowa 1", "city": "Warszawa",
//!                              "postal_code": "00-001", "country": "PL" } },
//!     "ksef": { "environment": "test" },
//!     "fakturownia": { "base_url": "https://sklep.fakturownia.pl" },
//!     "triggers": { "statuses": ["paid"], "on_capture": true, "manual": true },
//!     "excluded_payment_methods": ["cash_on_delivery"],
//!     "excluded_customer_groups": ["staff"],
//!     "prices": "gross",
//!     "tax_rules": { "standard": { "p_12": "23", "fakturownia_tax": "23" },
//!                    "books": { "p_12": "5" },
//!                    "medical": { "p_12": "zw", "exemption_basis": "art. 43 ust. 1 pkt 18 ustawy o VAT" } },
//!     "numbering": { "invoice": "FV/{YYYY}/{MM}/{seq}", "correction": "KOR/{YYYY}/{seq}" } } } }
//! ```
//!
//! A tax rule maps the shop's rule name to the FA(3) `P_12` code (`23`, `22`, `8`, `7`, `5`,
//! `4`, `3`, `0 KR`, `0 WDT`, `0 EX`, `zw`, `np I`, `np II`, `oo`) and to Fakturownia's `tax`
//! value. `fakturownia_tax` may be left out: it is then derived (`23` → `"23"`, the three 0 %
//! codes → `"0"`, `zw` → `"zw"`, `np I`/`np II` → `"np"`, `oo` → `"np"` with
//! `reverse_charge`); when given it must agree with `P_12` (an `oo` rule may also say
//! `"oo"`). `zw` needs `exemption_basis` (FA(3) `P_19A`, Fakturownia `exempt_tax_kind`).
//!
//! # Evaluation ([`evaluate`])
//!
//! 1. **Triggers.** [`Trigger::Created`] issues when `on_creation` is set or the order's status
//!    is in `statuses`; [`Trigger::StatusChanged`] when the status is in `statuses`;
//!    [`Trigger::Captured`] when `on_capture` is set; [`Trigger::Manual`] when `manual` is
//!    set (default: true). Otherwise [`Decision::Skip`] with the reason.
//! 2. **Exclusions** (invoices only: a correction corrects an invoice that exists): an
//!    excluded payment method or customer group is a `Skip`.
//! 3. **Buyer.** `nip` → a Polish business (`Podmiot2/NIP`, checksum verified);
//!    `eu_vat_id` → an EU business (`KodUE` + `NrVatUE`; a `PL` number is a NIP); `tax_id` →
//!    a foreign identifier (`KodKraju` + `NrID`); none → a consumer (`BrakID`). A bad
//!    identifier is an [`ErrorCode::BuyerInvalid`] error naming the field.
//! 4. **Lines.** Each line's `tax_rule` must exist ([`ErrorCode::UnknownTaxRule`] names the
//!    line); its price must be of the store's method (`prices: "net"` → `unit_price_net`);
//!    shipping is the last row.
//! 5. **Currency.** PLN needs no rate. Otherwise the NBP table A mid rate of the last business
//!    day (Monday–Friday, not a Polish public holiday) **before** the tax point must be in
//!    `rates` (the exact date); if it is not, the decision is [`Decision::NeedRate`] and the
//!    host fetches it and calls again. A correction uses the rate of the original (before the
//!    original's tax point). FA(3) carries the rate on every line and the VAT in PLN
//!    (`P_14_xW`); Fakturownia keeps the order currency with `exchange_currency: "PLN"`,
//!    `exchange_kind: "own"` and the same rate (not `"nbp"`: Fakturownia would look the rate
//!    up itself and could pick another table).
//! 6. **Number.** The next number of the store's invoice (or correction) series for the issue
//!    date (the date of `now`) is taken **only** when the decision is `Issue`; it is `P_2` and
//!    Fakturownia's `number`.
//! 7. **Documents.** The FA(3) invoice (or KOR referencing the original KSeF number, lines
//!    shown before/after) is built with [`crate::builder`], emitted, and validated with
//!    [`crate::validate`] (today = the date of `now`); the Fakturownia object is written from
//!    the same lines: the same names, quantities, unit prices, line values and tax.
//!
//! ```
//! use ksef::paired::{numbering::Numbering, order::Order, rules::*};
//!
//! let config = RuleConfig::from_json(include_str!("../../../examples/paired/rules.json"))?;
//! let order = Order::from_json(include_str!("../../../examples/paired/order-b2b.json"))?;
//! let mut numbering = Numbering::new();
//! let now = "2026-02-15T10:00:00+01:00".parse().unwrap();
//! let decision = evaluate(&order, &config, Trigger::StatusChanged, &mut numbering, &[], &now)?;
//! let Decision::Issue(docs) = decision else { panic!("expected an invoice") };
//! assert_eq!(docs.number, "FV/2026/02/1");
//! assert_eq!(docs.fakturownia["number"], "FV/2026/02/1");
//! assert_eq!(docs.invoice.fa.p_2, docs.number);
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::numbering::{check_template, Numbering};
use super::order::{Customer, Order, OrderKind, PostalAddress, Price};
use super::reader::{self, strict_deserialize, Obj};
use crate::builder::{
    Address, Annotations, Buyer, Contact, CorrectionBuilder, CorrectionStyle, Exemption, Header,
    InvoiceBuilder, Line, Method, Seller, VatRate,
};
use crate::error::{Error, ErrorCode};
use crate::id::{Nip, VatUeId};
use crate::model::{
    Date, DateTime, Decimal, FaWiersz, Faktura, KodKraju, KodKrajuUe, KodWaluty, SchemaVersion,
    StawkaPodatku, Wybor12,
};
use crate::Environment;

const CFG: ErrorCode = ErrorCode::RuleConfigInvalid;

/// The rule configuration: one entry per store / website.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RuleConfig {
    /// The stores by id (the order's `store`).
    pub stores: BTreeMap<String, StoreRules>,
}

/// The rules of one store.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StoreRules {
    /// The seller (FA(3) `Podmiot1`, Fakturownia `seller_*`).
    pub seller: SellerData,
    /// KSeF settings (the credentials come from the host).
    pub ksef: KsefSettings,
    /// Fakturownia settings (the API token comes from the host).
    pub fakturownia: FakturowniaSettings,
    /// When an invoice is issued.
    pub triggers: Triggers,
    /// Payment methods that are not invoiced.
    pub excluded_payment_methods: Vec<String>,
    /// Customer groups that are not invoiced.
    pub excluded_customer_groups: Vec<String>,
    /// The shop's tax rules by name.
    pub tax_rules: BTreeMap<String, TaxRule>,
    /// Which prices the VAT is computed from.
    pub prices: Prices,
    /// The numbering series.
    pub numbering: Series,
}

/// The seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SellerData {
    /// NIP (10 digits, checksum verified).
    pub nip: String,
    /// Name.
    pub name: String,
    /// Address.
    pub address: PostalAddress,
    /// E-mail shown on the invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// KSeF settings of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KsefSettings {
    /// The environment (`test`, `demo`, `prod`).
    #[serde(serialize_with = "ser_env")]
    pub environment: Environment,
    /// Another API base URL (e.g. the simulator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

fn ser_env<S: serde::Serializer>(e: &Environment, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.name())
}

/// Fakturownia settings of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FakturowniaSettings {
    /// `https://{prefix}.fakturownia.pl`.
    pub base_url: String,
    /// The department (seller) id, when the account has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<u64>,
}

/// When an invoice is issued (see [`Trigger`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Triggers {
    /// Issue when the order is created.
    pub on_creation: bool,
    /// Order statuses that issue an invoice.
    pub statuses: Vec<String>,
    /// Issue when the payment is captured.
    pub on_capture: bool,
    /// Allow issuing by hand (default true).
    pub manual: bool,
}

/// What happened to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trigger {
    /// The order was created.
    Created,
    /// The order's status changed (to `order.status`).
    StatusChanged,
    /// The payment was captured.
    Captured,
    /// Someone asked for the invoice by hand.
    Manual,
}

/// Which prices the VAT is computed from (art. 106e ust. 7–8): explicit, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Prices {
    /// From net prices ([`Method::FromNet`]): lines give `unit_price_net`.
    Net,
    /// From gross prices ([`Method::FromGross`]): lines give `unit_price_gross`.
    Gross,
}

impl Prices {
    /// The builder's method.
    pub fn method(self) -> Method {
        match self {
            Prices::Net => Method::FromNet,
            Prices::Gross => Method::FromGross,
        }
    }
}

/// One shop tax rule, for both channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TaxRule {
    /// The FA(3) `P_12` code (`"23"`, `"0 WDT"`, `"zw"`, `"np I"`, `"oo"`, …).
    pub p_12: String,
    /// Fakturownia's position `tax` (`"23"`, `"0"`, `"zw"`, `"np"`).
    pub fakturownia_tax: String,
    /// The legal basis of an exemption (`zw` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption_basis: Option<String>,
}

impl TaxRule {
    /// The rate `p_12` stands for (checked when the configuration is read).
    pub fn rate(&self) -> Result<VatRate, Error> {
        rate_of_p12(&self.p_12).ok_or_else(|| {
            Error::new(
                CFG,
                "p_12",
                format!("`{}` is not a FA(3) P_12 code", self.p_12),
            )
        })
    }
}

/// The numbering series of a store (see [`super::numbering`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Series {
    /// Invoices, e.g. `FV/{YYYY}/{MM}/{seq}`.
    pub invoice: String,
    /// Corrections, e.g. `KOR/{YYYY}/{seq}`.
    pub correction: String,
}

/// An NBP mid rate passed in by the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateQuote {
    /// ISO 4217 currency (`"EUR"`).
    pub currency: String,
    /// The NBP table number, e.g. `"123/A/NBP/2026"`.
    pub table: String,
    /// The table's effective date.
    #[serde(serialize_with = "reader::ser::date")]
    pub date: Date,
    /// PLN per unit of the currency (at most 6 decimal places).
    #[serde(serialize_with = "reader::ser::decimal")]
    pub rate: Decimal,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Nothing to issue, and why.
    Skip {
        /// The reason, in words.
        reason: String,
    },
    /// The NBP rate of `currency` from the last table published before `before` is needed;
    /// fetch it (NBP table A) and call again with it in `rates`.
    NeedRate {
        /// ISO 4217 currency.
        currency: String,
        /// The tax point: the rate is the one of the last business day before it.
        before: Date,
    },
    /// Issue these documents.
    Issue(Box<Documents>),
}

/// What kind of document was produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentKind {
    /// An invoice (FA(3) `VAT`, Fakturownia `vat`).
    Invoice,
    /// A correction (FA(3) `KOR`, Fakturownia `correction`).
    Correction {
        /// The corrected invoice's KSeF number.
        original_ksef_number: String,
        /// The corrected invoice's number.
        original_number: String,
    },
}

/// The documents for both channels, from one evaluation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Documents {
    /// The store.
    pub store: String,
    /// The order id.
    pub order_id: String,
    /// The number: FA(3) `P_2` and Fakturownia `number`.
    pub number: String,
    /// Invoice or correction.
    pub kind: DocumentKind,
    /// The FA(3) invoice.
    pub invoice: Faktura,
    /// The FA(3) XML exactly as it must be sent to KSeF.
    pub xml: Vec<u8>,
    /// The `invoice` object for Fakturownia's `POST /invoices.json` (without `api_token`,
    /// `gov_id`, `oid`, and for a correction without `invoice_id`/`from_invoice_id`: the
    /// machine adds those).
    pub fakturownia: Value,
    /// The order currency.
    pub currency: String,
    /// The exchange rate used (foreign currency only).
    pub rate: Option<RateQuote>,
}

// ---------------------------------------------------------------------------------------
// Reading the configuration

impl RuleConfig {
    /// Read a configuration from JSON (strict: unknown keys and bad values are
    /// [`ErrorCode::RuleConfigInvalid`] errors naming the path).
    pub fn from_json(json: &str) -> Result<RuleConfig, Error> {
        let v = reader::parse(json, "the rule configuration")?;
        RuleConfig::from_value(&v)
    }

    /// Read a configuration from a parsed JSON value (strict).
    pub fn from_value(v: &Value) -> Result<RuleConfig, Error> {
        let mut o = Obj::new(v, "", CFG)?;
        let mut stores = BTreeMap::new();
        for (id, (path, v)) in o.map_of("stores")? {
            stores.insert(id, StoreRules::read(Obj::new(v, &path, CFG)?)?);
        }
        if stores.is_empty() {
            return Err(o.bad("stores", "configure at least one store"));
        }
        o.finish()?;
        Ok(RuleConfig { stores })
    }

    /// Write the configuration as JSON (the form [`RuleConfig::from_json`] reads).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::new(CFG, "", format!("{e}")))
    }
}

strict_deserialize!(RuleConfig);

fn address_of(mut o: Obj<'_>) -> Result<PostalAddress, Error> {
    let street = o.string("street")?;
    let city = o.string("city")?;
    let postal_code = o.string("postal_code")?;
    let country = o.string("country")?;
    if KodKraju::from_code(&country).is_none() {
        return Err(o.bad(
            "country",
            format!("`{country}` is not an ISO 3166 country code"),
        ));
    }
    o.finish()?;
    Ok(PostalAddress {
        street,
        city,
        postal_code,
        country,
    })
}

impl StoreRules {
    fn read(mut o: Obj<'_>) -> Result<StoreRules, Error> {
        let seller = {
            let mut s = o.obj("seller")?;
            let nip = s.string("nip")?;
            if let Err(e) = Nip::parse(&nip) {
                return Err(s.bad("nip", format!("`{nip}`: {e}")));
            }
            let name = s.string("name")?;
            let address = address_of(s.obj("address")?)?;
            let email = s.opt_string("email")?;
            s.finish()?;
            SellerData {
                nip,
                name,
                address,
                email,
            }
        };
        let ksef = {
            let mut k = o.obj("ksef")?;
            let env = k.string("environment")?;
            let environment = env.parse::<Environment>().map_err(|_| {
                k.bad(
                    "environment",
                    format!("`{env}` is not a KSeF environment (test, demo, prod)"),
                )
            })?;
            let base_url = k.opt_string("base_url")?;
            k.finish()?;
            KsefSettings {
                environment,
                base_url,
            }
        };
        let fakturownia = {
            let mut f = o.obj("fakturownia")?;
            let base_url = f.string("base_url")?;
            if !base_url.starts_with("https://") && !base_url.starts_with("http://") {
                return Err(f.bad("base_url", format!("`{base_url}` is not an http(s) URL")));
            }
            let department_id = f.opt_u64("department_id")?;
            f.finish()?;
            FakturowniaSettings {
                base_url,
                department_id,
            }
        };
        let triggers = {
            let mut t = o.obj("triggers")?;
            let tr = Triggers {
                on_creation: t.opt_bool("on_creation")?.unwrap_or(false),
                statuses: t.strings("statuses")?,
                on_capture: t.opt_bool("on_capture")?.unwrap_or(false),
                manual: t.opt_bool("manual")?.unwrap_or(true),
            };
            t.finish()?;
            tr
        };
        let excluded_payment_methods = o.strings("excluded_payment_methods")?;
        let excluded_customer_groups = o.strings("excluded_customer_groups")?;
        let mut tax_rules = BTreeMap::new();
        for (name, (path, v)) in o.map_of("tax_rules")? {
            tax_rules.insert(name, read_tax_rule(Obj::new(v, &path, CFG)?)?);
        }
        if tax_rules.is_empty() {
            return Err(o.bad("tax_rules", "configure at least one tax rule"));
        }
        let prices = match o.string("prices")?.as_str() {
            "net" => Prices::Net,
            "gross" => Prices::Gross,
            other => {
                return Err(o.bad(
                    "prices",
                    format!("`{other}`: expected \"net\" or \"gross\" (the VAT method)"),
                ))
            }
        };
        let numbering = {
            let mut n = o.obj("numbering")?;
            let invoice = n.string("invoice")?;
            check_template(&invoice, &n.at("invoice"))
                .map_err(|e| Error::new(CFG, e.path(), e.message()))?;
            let correction = n.string("correction")?;
            check_template(&correction, &n.at("correction"))
                .map_err(|e| Error::new(CFG, e.path(), e.message()))?;
            if invoice == correction {
                return Err(n.bad(
                    "correction",
                    "corrections need their own series (the same template would issue the same numbers)",
                ));
            }
            n.finish()?;
            Series {
                invoice,
                correction,
            }
        };
        o.finish()?;
        Ok(StoreRules {
            seller,
            ksef,
            fakturownia,
            triggers,
            excluded_payment_methods,
            excluded_customer_groups,
            tax_rules,
            prices,
            numbering,
        })
    }
}

/// The rate of a FA(3) `P_12` code; the margin scheme has no code and is not a shop rule.
fn rate_of_p12(code: &str) -> Option<VatRate> {
    let c = StawkaPodatku::from_code(code)?;
    if c.schema_mask() & 2 == 0 {
        return None; // FA(2)-only codes (`0`, `np`)
    }
    VatRate::from_code(c)
}

/// The Fakturownia `tax` values that agree with a rate; the first is the default.
fn fakturownia_taxes(rate: VatRate) -> &'static [&'static str] {
    match rate {
        VatRate::Rate23 => &["23"],
        VatRate::Rate22 => &["22"],
        VatRate::Rate8 => &["8"],
        VatRate::Rate7 => &["7"],
        VatRate::Rate5 => &["5"],
        VatRate::Rate4 => &["4"],
        VatRate::Rate3 => &["3"],
        VatRate::Zero | VatRate::ZeroWdt | VatRate::ZeroExport => &["0"],
        VatRate::Exempt => &["zw"],
        VatRate::NpI | VatRate::NpII => &["np"],
        VatRate::ReverseCharge => &["np", "oo"],
        _ => &[],
    }
}

fn read_tax_rule(mut o: Obj<'_>) -> Result<TaxRule, Error> {
    let p_12 = o.string("p_12")?;
    let rate = rate_of_p12(&p_12).ok_or_else(|| {
        o.bad(
            "p_12",
            format!(
                "`{p_12}` is not a FA(3) P_12 code (23, 22, 8, 7, 5, 4, 3, 0 KR, 0 WDT, 0 EX, \
                 zw, np I, np II, oo)"
            ),
        )
    })?;
    let allowed = fakturownia_taxes(rate);
    let fakturownia_tax = match o.opt_string("fakturownia_tax")? {
        Some(t) if allowed.contains(&t.as_str()) => t,
        Some(t) => {
            return Err(o.bad(
                "fakturownia_tax",
                format!(
                    "`{t}` disagrees with P_12 `{p_12}` (expected {})",
                    allowed.join(" or ")
                ),
            ))
        }
        None => String::from(allowed[0]),
    };
    let exemption_basis = o.opt_string("exemption_basis")?;
    match (rate, &exemption_basis) {
        (VatRate::Exempt, None) => {
            return Err(o.bad(
                "exemption_basis",
                "an exempt rule (zw) needs the legal basis of the exemption",
            ))
        }
        (VatRate::Exempt, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(o.bad(
                "exemption_basis",
                format!("only an exempt rule (zw) has an exemption basis, not `{p_12}`"),
            ))
        }
    }
    o.finish()?;
    Ok(TaxRule {
        p_12,
        fakturownia_tax,
        exemption_basis,
    })
}

// ---------------------------------------------------------------------------------------
// Business days

pub use crate::offline::calendar::{business_day_before, is_polish_holiday};

// ---------------------------------------------------------------------------------------
// Evaluation

/// One invoice row as both channels see it.
struct Row<'a> {
    line: Line,
    rule: &'a TaxRule,
    sku: Option<String>,
}

/// Evaluate `order` under `config` for `trigger`: skip, ask for a rate, or issue the documents
/// for both channels. A number is taken from `numbering` only when the result is
/// [`Decision::Issue`]. See the module docs for the rules.
pub fn evaluate(
    order: &Order,
    config: &RuleConfig,
    trigger: Trigger,
    numbering: &mut Numbering,
    rates: &[RateQuote],
    now: &DateTime,
) -> Result<Decision, Error> {
    let store = config.stores.get(&order.store).ok_or_else(|| {
        Error::new(
            ErrorCode::UnknownStore,
            "store",
            format!("the configuration has no store `{}`", order.store),
        )
    })?;
    if let Some(reason) = skip_reason(order, store, trigger) {
        return Ok(Decision::Skip { reason });
    }
    let method = store.prices.method();
    let rows = rows(order, store, method)?;
    let annotations = annotations(&rows)?;
    let seller = seller(&store.seller)?;
    let buyer = buyer(&order.customer)?;
    let kod = KodWaluty::from_code(&order.currency).ok_or_else(|| {
        Error::new(
            ErrorCode::OrderInvalid,
            "currency",
            format!("`{}` is not an ISO 4217 currency code", order.currency),
        )
    })?;
    let corrects = match order.kind {
        OrderKind::Invoice => None,
        OrderKind::Correction => order.corrects.as_ref(),
    };
    let rate_point = match corrects {
        Some(c) => c.tax_point.unwrap_or(c.issue_date),
        None => order.tax_point(),
    };
    let rate = if kod == KodWaluty::Pln {
        None
    } else {
        match find_rate(rates, &order.currency, rate_point)? {
            Some(q) => Some(q),
            None => {
                return Ok(Decision::NeedRate {
                    currency: order.currency.clone(),
                    before: rate_point,
                })
            }
        }
    };
    let today = now.date();
    let ctx = Ctx {
        order,
        store,
        method,
        rows: &rows,
        annotations: &annotations,
        seller: &seller,
        buyer: &buyer,
        kod,
        rate: rate.as_ref(),
        now,
    };
    let series = match corrects {
        Some(_) => &store.numbering.correction,
        None => &store.numbering.invoice,
    };
    let number = numbering.peek(&order.store, series, today)?;
    let (invoice, fakturownia, kind) = match corrects {
        None => {
            let header = header(&number, today, now, Some(order.tax_point()));
            let invoice = ctx.builder(header).build(SchemaVersion::Fa3)?;
            let fk = ctx.fakturownia_invoice(&invoice, &number, order.tax_point())?;
            (invoice, fk, DocumentKind::Invoice)
        }
        Some(c) => {
            let original_tp = c.tax_point.unwrap_or(c.issue_date);
            let oh = header(&c.invoice_number, c.issue_date, now, Some(original_tp));
            let original = ctx.builder(oh).build(SchemaVersion::Fa3)?;
            let (invoice, fk) = ctx.correction(&original, c, &number, today, original_tp)?;
            let kind = DocumentKind::Correction {
                original_ksef_number: c.ksef_number.clone(),
                original_number: c.invoice_number.clone(),
            };
            (invoice, fk, kind)
        }
    };
    let xml = crate::xml::emit(&invoice, SchemaVersion::Fa3)?;
    let opts = crate::validate::Options::new().with_today(today);
    crate::validate::validate(&invoice, SchemaVersion::Fa3, &opts).into_result()?;
    // Everything is built: only now is the number taken.
    let taken = numbering.next(&order.store, series, today)?;
    debug_assert_eq!(taken, number);
    Ok(Decision::Issue(Box::new(Documents {
        store: order.store.clone(),
        order_id: order.id.clone(),
        number: taken,
        kind,
        invoice,
        xml,
        fakturownia,
        currency: order.currency.clone(),
        rate,
    })))
}

fn skip_reason(order: &Order, store: &StoreRules, trigger: Trigger) -> Option<String> {
    let t = &store.triggers;
    let status_listed = t.statuses.contains(&order.status);
    let fires = match trigger {
        Trigger::Created => t.on_creation || status_listed,
        Trigger::StatusChanged => status_listed,
        Trigger::Captured => t.on_capture,
        Trigger::Manual => t.manual,
    };
    if !fires {
        return Some(match trigger {
            Trigger::Created => format!(
                "store `{}` does not invoice on creation, and status `{}` is not a trigger",
                order.store, order.status
            ),
            Trigger::StatusChanged => format!(
                "status `{}` is not a trigger of store `{}`",
                order.status, order.store
            ),
            Trigger::Captured => format!("store `{}` does not invoice on capture", order.store),
            Trigger::Manual => format!("store `{}` does not allow manual invoicing", order.store),
        });
    }
    if order.kind == OrderKind::Correction {
        return None;
    }
    if store
        .excluded_payment_methods
        .contains(&order.payment_method)
    {
        return Some(format!(
            "payment method `{}` is excluded from invoicing",
            order.payment_method
        ));
    }
    if let Some(g) = &order.customer.group {
        if store.excluded_customer_groups.contains(g) {
            return Some(format!("customer group `{g}` is excluded from invoicing"));
        }
    }
    None
}

fn rows<'a>(order: &Order, store: &'a StoreRules, method: Method) -> Result<Vec<Row<'a>>, Error> {
    let rule_of = |name: &str, path: String, what: &str| -> Result<&'a TaxRule, Error> {
        store.tax_rules.get(name).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownTaxRule,
                path,
                format!(
                    "{what}: store `{}` has no tax rule `{name}` (known: {})",
                    order.store,
                    store
                        .tax_rules
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    };
    let check_price = |p: Price, path: &str, net_key: &str, gross_key: &str| match (p, method) {
        (Price::Net(v), Method::FromNet) | (Price::Gross(v), Method::FromGross) => Ok(v),
        (Price::Gross(_), _) => Err(Error::new(
            ErrorCode::OrderInvalid,
            format!("{path}.{gross_key}"),
            format!(
                "store `{}` computes VAT from net prices (prices: net); give `{net_key}`",
                order.store
            ),
        )),
        (Price::Net(_), _) => Err(Error::new(
            ErrorCode::OrderInvalid,
            format!("{path}.{net_key}"),
            format!(
                "store `{}` computes VAT from gross prices (prices: gross); give `{gross_key}`",
                order.store
            ),
        )),
    };
    let mut out = Vec::with_capacity(order.lines.len() + 1);
    for (i, l) in order.lines.iter().enumerate() {
        let path = format!("lines[{i}]");
        let rule = rule_of(
            &l.tax_rule,
            format!("{path}.tax_rule"),
            &format!("line {} (`{}`)", i + 1, l.name),
        )?;
        let price = check_price(l.price, &path, "unit_price_net", "unit_price_gross")?;
        let mut line = Line::new(
            l.name.clone(),
            l.quantity,
            unit_price(method, price),
            rule.rate()?,
        );
        if let Some(u) = &l.unit {
            line = line.unit(u.clone());
        }
        if let Some(s) = &l.sku {
            line = line.index(s.clone());
        }
        if let Some(d) = l.discount_percent {
            if !d.is_zero() {
                line = line.discount_percent(d);
            }
        }
        out.push(Row {
            line,
            rule,
            sku: l.sku.clone(),
        });
    }
    if let Some(s) = &order.shipping {
        let rule = rule_of(&s.tax_rule, String::from("shipping.tax_rule"), "shipping")?;
        let price = check_price(s.price, "shipping", "price_net", "price_gross")?;
        out.push(Row {
            line: Line::new(
                s.name.clone(),
                Decimal::ONE,
                unit_price(method, price),
                rule.rate()?,
            ),
            rule,
            sku: None,
        });
    }
    Ok(out)
}

fn unit_price(method: Method, v: Decimal) -> crate::builder::UnitPrice {
    match method {
        Method::FromNet => crate::builder::UnitPrice::Net(v),
        Method::FromGross => crate::builder::UnitPrice::Gross(v),
    }
}

fn annotations(rows: &[Row<'_>]) -> Result<Annotations, Error> {
    let mut basis: Option<(&str, usize)> = None;
    for (i, r) in rows.iter().enumerate() {
        if let Some(b) = &r.rule.exemption_basis {
            match basis {
                Some((first, j)) if first != b => {
                    return Err(Error::new(
                        ErrorCode::OrderInvalid,
                        format!("lines[{i}].tax_rule"),
                        format!(
                            "an invoice states one exemption basis; row {} says `{first}`, row {} \
                             `{b}`",
                            j + 1,
                            i + 1
                        ),
                    ))
                }
                Some(_) => {}
                None => basis = Some((b, i)),
            }
        }
    }
    let mut a = Annotations::new();
    if let Some((b, _)) = basis {
        a = a.exemption(Exemption::Act(String::from(b)));
    }
    Ok(a)
}

fn country(code: &str, path: &str, err: ErrorCode) -> Result<KodKraju, Error> {
    KodKraju::from_code(code).ok_or_else(|| {
        Error::new(
            err,
            path,
            format!("`{code}` is not an ISO 3166 country code"),
        )
    })
}

fn address(a: &PostalAddress, path: &str, err: ErrorCode) -> Result<Address, Error> {
    let c = country(&a.country, &format!("{path}.country"), err)?;
    Ok(Address::new(c, a.street.clone()).line2(format!("{} {}", a.postal_code, a.city)))
}

fn seller(s: &SellerData) -> Result<Seller, Error> {
    let mut seller = Seller::new(
        s.nip.clone(),
        s.name.clone(),
        address(&s.address, "seller.address", CFG)?,
    );
    if let Some(e) = &s.email {
        seller = seller.contact(Contact::new().email(e.clone()));
    }
    Ok(seller)
}

fn buyer(c: &Customer) -> Result<Buyer, Error> {
    let bad = |path: &str, msg: String| Error::new(ErrorCode::BuyerInvalid, path, msg);
    let mut b = if let Some(nip) = &c.nip {
        let n =
            Nip::parse_lenient(nip).map_err(|e| bad("customer.nip", format!("`{nip}`: {e}")))?;
        Buyer::company(n.as_str(), c.name.clone())
    } else if let Some(id) = &c.eu_vat_id {
        let v = VatUeId::parse(id)
            .and_then(|v| v.check_country_format().map(|()| v))
            .map_err(|e| bad("customer.eu_vat_id", format!("`{id}`: {e}")))?;
        if v.country() == KodKrajuUe::Pl {
            let n = Nip::parse(v.number())
                .map_err(|e| bad("customer.eu_vat_id", format!("`{id}`: {e}")))?;
            Buyer::company(n.as_str(), c.name.clone())
        } else {
            Buyer::eu_business(v.country(), v.number(), c.name.clone())
        }
    } else if let Some(id) = &c.tax_id {
        let k = country(&c.country, "customer.country", ErrorCode::BuyerInvalid)?;
        if id.chars().count() > 50 {
            return Err(bad(
                "customer.tax_id",
                String::from("at most 50 characters"),
            ));
        }
        Buyer::foreign(k, id.clone(), c.name.clone())
    } else {
        Buyer::consumer().name(c.name.clone())
    };
    b = b.address(address(
        &c.address,
        "customer.address",
        ErrorCode::OrderInvalid,
    )?);
    if let Some(e) = &c.email {
        b = b.contact(Contact::new().email(e.clone()));
    }
    Ok(b)
}

fn find_rate(
    rates: &[RateQuote],
    currency: &str,
    tax_point: Date,
) -> Result<Option<RateQuote>, Error> {
    let Some(day) = business_day_before(tax_point) else {
        return Err(Error::new(
            ErrorCode::OrderInvalid,
            "tax_point",
            format!("no business day before {tax_point}"),
        ));
    };
    let Some((i, q)) = rates
        .iter()
        .enumerate()
        .find(|(_, q)| q.currency == currency && q.date == day)
    else {
        return Ok(None);
    };
    let bad = |m: String| Error::new(ErrorCode::RateInvalid, format!("rates[{i}]"), m);
    if q.rate <= Decimal::ZERO {
        return Err(bad(format!(
            "the rate {} must be greater than zero",
            q.rate
        )));
    }
    if q.rate.normalize().scale() > 6 {
        return Err(bad(format!(
            "the rate {} has more than 6 decimal places",
            q.rate
        )));
    }
    if q.table.trim().is_empty() {
        return Err(bad(String::from("the NBP table number is empty")));
    }
    Ok(Some(q.clone()))
}

fn header(number: &str, issue: Date, now: &DateTime, tax_point: Option<Date>) -> Header {
    let mut h = Header::new(number, issue, now.clone()).system_info("ksef paired");
    if let Some(tp) = tax_point.filter(|tp| *tp != issue) {
        h = h.sale_date(tp);
    }
    h
}

/// What every builder of one evaluation shares.
struct Ctx<'a> {
    order: &'a Order,
    store: &'a StoreRules,
    method: Method,
    rows: &'a [Row<'a>],
    annotations: &'a Annotations,
    seller: &'a Seller,
    buyer: &'a Buyer,
    kod: KodWaluty,
    rate: Option<&'a RateQuote>,
    now: &'a DateTime,
}

fn dec(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

fn money(d: Decimal) -> Value {
    Value::String(format!("{:.2}", d))
}

impl Ctx<'_> {
    fn builder(&self, header: Header) -> InvoiceBuilder {
        let mut b =
            InvoiceBuilder::vat(header, self.seller.clone(), self.buyer.clone(), self.method)
                .annotations(self.annotations.clone());
        if let Some(q) = self.rate {
            b = b.currency(self.kod, Some(q.rate)).note(
                "Kurs waluty",
                format!(
                    "1 {} = {} PLN, tabela kursów średnich NBP nr {} z dnia {}",
                    q.currency, q.rate, q.table, q.date
                ),
            );
        }
        for r in self.rows {
            b = b.line(r.line.clone());
        }
        b
    }

    /// The parts every Fakturownia document of the order shares.
    fn fakturownia_common(&self, kind: &str, number: &str, sell_date: Date) -> Map<String, Value> {
        let s = &self.store.seller;
        let c = &self.order.customer;
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(String::from(k), v);
        };
        put("kind", json!(kind));
        put("number", json!(number));
        put("issue_date", json!(self.now.date().to_string()));
        put("sell_date", json!(sell_date.to_string()));
        put("currency", json!(self.order.currency));
        if let Some(q) = self.rate {
            put("exchange_currency", json!("PLN"));
            put("exchange_kind", json!("own"));
            put("exchange_currency_rate", dec(q.rate));
            put(
                "exchange_note",
                json!(format!(
                    "Tabela kursów średnich NBP nr {} z dnia {}",
                    q.table, q.date
                )),
            );
        }
        put("seller_name", json!(s.name));
        put("seller_tax_no", json!(s.nip));
        put("seller_street", json!(s.address.street));
        put("seller_post_code", json!(s.address.postal_code));
        put("seller_city", json!(s.address.city));
        put("seller_country", json!(s.address.country));
        if let Some(d) = self.store.fakturownia.department_id {
            put("department_id", json!(d));
        }
        put("buyer_name", json!(c.name));
        let (tax_no, company) = match &self.buyer.id {
            crate::builder::BuyerId::Nip(n) => (Some(n.clone()), true),
            crate::builder::BuyerId::EuVat { country, number } => {
                (Some(format!("{}{}", country.code(), number)), true)
            }
            crate::builder::BuyerId::Foreign { id, .. } => (Some(id.clone()), true),
            _ => (None, false),
        };
        if let Some(t) = tax_no {
            put("buyer_tax_no", json!(t));
        }
        put("buyer_company", json!(company));
        put("buyer_street", json!(c.address.street));
        put("buyer_post_code", json!(c.address.postal_code));
        put("buyer_city", json!(c.address.city));
        put("buyer_country", json!(c.address.country));
        if let Some(e) = &c.email {
            put("buyer_email", json!(e));
        }
        // The KSeF submission is ours: Fakturownia must not send the document again.
        put("gov_save_and_send", json!(false));
        // How Fakturownia sums: the same method as the FA(3) invoice (tax once per rate from
        // the sum of net, or of gross, line values).
        let (position, sum, form) = match self.method {
            Method::FromNet => ("default", "keep_net", "net"),
            Method::FromGross => ("keep_gross", "keep_gross", "gross"),
        };
        put(
            "calculating_strategy",
            json!({ "position": position, "sum": sum, "invoice_form_price_kind": form }),
        );
        put(
            "description",
            json!(format!("Zamówienie {}", self.order.id)),
        );
        m
    }

    /// A Fakturownia position (or before/after state) from a FA(3) row.
    fn position(&self, row: &FaWiersz, rule: &TaxRule, sku: Option<&String>) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("name".into(), json!(row.p_7.clone().unwrap_or_default()));
        p.insert("quantity".into(), dec(row.p_8b.unwrap_or_default()));
        if let Some(u) = &row.p_8a {
            p.insert("quantity_unit".into(), json!(u));
        }
        p.insert("tax".into(), tax_value(&rule.fakturownia_tax));
        match self.method {
            Method::FromNet => {
                p.insert("price_net".into(), dec(row.p_9a.unwrap_or_default()));
                p.insert(
                    "total_price_net".into(),
                    money(row.p_11.unwrap_or_default()),
                );
            }
            Method::FromGross => {
                p.insert("price_gross".into(), dec(row.p_9b.unwrap_or_default()));
                p.insert(
                    "total_price_gross".into(),
                    money(row.p_11a.unwrap_or_default()),
                );
            }
        }
        if let Some(s) = sku {
            p.insert("code".into(), json!(s));
        }
        p
    }

    fn fakturownia_invoice(&self, inv: &Faktura, number: &str, sell: Date) -> Result<Value, Error> {
        let mut m = self.fakturownia_common("vat", number, sell);
        self.fakturownia_tax_notes(inv, &mut m);
        let mut positions = Vec::with_capacity(self.rows.len());
        for (row, r) in inv.fa.fa_wiersz.iter().zip(self.rows) {
            let mut p = self.position(row, r.rule, r.sku.as_ref());
            if let Some(d) = r.line.discount.percent {
                p.insert("discount_percent".into(), dec(d));
                p.insert("discount".into(), money(row.p_10.unwrap_or_default()));
            }
            positions.push(Value::Object(p));
        }
        if self.rows.iter().any(|r| r.line.discount.percent.is_some()) {
            m.insert("show_discount".into(), json!(true));
            m.insert("discount_kind".into(), json!("percent_total"));
        }
        m.insert("positions".into(), Value::Array(positions));
        Ok(Value::Object(m))
    }

    fn fakturownia_tax_notes(&self, inv: &Faktura, m: &mut Map<String, Value>) {
        if let Some(b) = self
            .rows
            .iter()
            .find_map(|r| r.rule.exemption_basis.as_ref())
        {
            m.insert("exempt_tax_kind".into(), json!(b));
        }
        if inv.fa.adnotacje.p_18 == Wybor12::Tak {
            m.insert("reverse_charge".into(), json!(true));
        }
    }

    fn correction(
        &self,
        original: &Faktura,
        c: &super::order::Corrects,
        number: &str,
        today: Date,
        original_tp: Date,
    ) -> Result<(Faktura, Value), Error> {
        let bad = |i: usize, m: String| {
            Error::new(
                ErrorCode::CorrectionInvalid,
                format!("returns[{i}].line"),
                m,
            )
        };
        let mut cb = CorrectionBuilder::new(
            original,
            Some(c.ksef_number.clone()),
            header(number, today, self.now, None),
            CorrectionStyle::BeforeAfter,
        )
        .reason(c.reason.clone())
        .method(self.method);
        let mut returns: Vec<(usize, usize, Decimal)> = Vec::new();
        for (i, r) in self.order.returns.iter().enumerate() {
            let row = usize::try_from(r.line).unwrap_or(usize::MAX);
            if row == 0 || row > self.rows.len() {
                return Err(bad(
                    i,
                    format!(
                        "the original invoice has rows 1–{}, not {}",
                        self.rows.len(),
                        r.line
                    ),
                ));
            }
            if returns.iter().any(|(_, x, _)| *x == row) {
                return Err(bad(
                    i,
                    format!("row {row} is returned twice; give one total"),
                ));
            }
            let sold = self.rows[row - 1].line.quantity;
            if r.quantity > sold {
                return Err(Error::new(
                    ErrorCode::CorrectionInvalid,
                    format!("returns[{i}].quantity"),
                    format!("{} returned, but row {row} invoiced {sold}", r.quantity),
                ));
            }
            returns.push((i, row, r.quantity));
        }
        returns.sort_by_key(|(_, row, _)| *row);
        let mut after_rows: Vec<(usize, FaWiersz)> = Vec::new();
        for (i, row, q) in &returns {
            let left = crate::builder::vat::sub(self.rows[row - 1].line.quantity, *q)?;
            let before = &original.fa.fa_wiersz[row - 1];
            if left.is_zero() {
                cb = cb.remove_line(*row as u64);
                let mut after = before.clone();
                after.p_8b = Some(Decimal::ZERO);
                after.p_10 = before.p_10.map(|_| Decimal::ZERO);
                after.p_11 = before.p_11.map(|_| Decimal::ZERO);
                after.p_11a = before.p_11a.map(|_| Decimal::ZERO);
                after_rows.push((*row, after));
            } else {
                let mut line = self.rows[row - 1].line.clone();
                line.quantity = left;
                if let Some(q) = self.rate {
                    line = line.exchange_rate(q.rate);
                }
                let calc = line.compute(&format!("returns[{i}]"), self.method)?;
                let mut after = before.clone();
                after.p_8b = Some(left);
                after.p_10 = calc.discount;
                match self.method {
                    Method::FromNet => after.p_11 = Some(calc.value),
                    Method::FromGross => after.p_11a = Some(calc.value),
                }
                cb = cb.replace_line(*row as u64, line);
                after_rows.push((*row, after));
            }
        }
        let inv = cb.build(SchemaVersion::Fa3)?;
        let mut m = self.fakturownia_common("correction", number, original_tp);
        m.insert("correction_reason".into(), json!(c.reason));
        self.fakturownia_tax_notes(original, &mut m);
        let mut positions = Vec::with_capacity(after_rows.len());
        for (row, after) in &after_rows {
            let r = &self.rows[row - 1];
            let before = &original.fa.fa_wiersz[row - 1];
            let b = self.position(before, r.rule, r.sku.as_ref());
            let a = self.position(after, r.rule, r.sku.as_ref());
            let mut p = self.position(after, r.rule, r.sku.as_ref());
            let diff = |x: Option<Decimal>, y: Option<Decimal>| -> Result<Decimal, Error> {
                crate::builder::vat::sub(x.unwrap_or_default(), y.unwrap_or_default())
            };
            p.insert("quantity".into(), dec(diff(after.p_8b, before.p_8b)?));
            match self.method {
                Method::FromNet => {
                    p.insert(
                        "total_price_net".into(),
                        money(diff(after.p_11, before.p_11)?),
                    );
                }
                Method::FromGross => {
                    p.insert(
                        "total_price_gross".into(),
                        money(diff(after.p_11a, before.p_11a)?),
                    );
                }
            }
            p.insert("kind".into(), json!("correction"));
            let mut b = b;
            b.insert("kind".into(), json!("correction_before"));
            let mut a = a;
            a.insert("kind".into(), json!("correction_after"));
            p.insert("correction_before_attributes".into(), Value::Object(b));
            p.insert("correction_after_attributes".into(), Value::Object(a));
            positions.push(Value::Object(p));
        }
        m.insert("positions".into(), Value::Array(positions));
        Ok((inv, Value::Object(m)))
    }
}

/// Fakturownia's `tax`: a number for a percentage, the code otherwise.
fn tax_value(t: &str) -> Value {
    if t.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = t.parse::<u64>() {
            return json!(n);
        }
    }
    json!(t)
}
