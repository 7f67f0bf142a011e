//! Paired mode, the shared rule engine: orders and rule configurations in, one decision and
//! the documents for both channels (FA(3) for KSeF, the Fakturownia object) out.

mod common;

use std::collections::{BTreeMap, HashSet};

use ksef::model::{Date, DateTime, Decimal, Faktura, SchemaVersion};
use ksef::paired::numbering::Numbering;
use ksef::paired::order::Order;
use ksef::paired::rules::*;
use ksef::ErrorCode;
use serde_json::Value;

fn ex(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/paired")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn config() -> RuleConfig {
    RuleConfig::from_json(&ex("rules.json")).unwrap()
}

fn order(name: &str) -> Order {
    Order::from_json(&ex(name)).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn now(s: &str) -> DateTime {
    s.parse().unwrap()
}

fn eur_rate(date: &str, rate: &str) -> RateQuote {
    RateQuote {
        currency: "EUR".into(),
        table: "066/A/NBP/2026".into(),
        date: day(date),
        rate: d(rate),
    }
}

fn issue(
    o: &Order,
    cfg: &RuleConfig,
    n: &mut Numbering,
    rates: &[RateQuote],
    at: &str,
) -> Box<Documents> {
    // the b2b store invoices on status `shipped` only
    let trigger = if o.store == "b2b" {
        Trigger::StatusChanged
    } else {
        Trigger::Manual
    };
    match evaluate(o, cfg, trigger, n, rates, &now(at)).unwrap() {
        Decision::Issue(docs) => docs,
        other => panic!("expected Issue, got {other:?}"),
    }
}

/// Edit an example order as JSON and read it back (strictly).
fn edit(name: &str, f: impl FnOnce(&mut Value)) -> Order {
    let mut v: Value = serde_json::from_str(&ex(name)).unwrap();
    f(&mut v);
    Order::from_value(&v).unwrap()
}

fn edit_cfg(f: impl FnOnce(&mut Value)) -> Result<RuleConfig, ksef::Error> {
    let mut v: Value = serde_json::from_str(&ex("rules.json")).unwrap();
    f(&mut v);
    RuleConfig::from_value(&v)
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => n.to_string().parse().unwrap(),
        other => panic!("not a decimal: {other}"),
    }
}

fn round(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Fakturownia's totals recomputed from its positions, the way the object tells it to
/// (`calculating_strategy`): per tax value, the sum of line values, tax once per group.
/// Returns (net, tax, gross) per tax value.
fn fakturownia_totals(positions: &[Value]) -> BTreeMap<String, (Decimal, Decimal, Decimal)> {
    let mut groups: BTreeMap<String, (Decimal, bool)> = BTreeMap::new();
    for p in positions {
        let tax = match &p["tax"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => panic!("tax {other}"),
        };
        let (v, gross) = if let Some(g) = p.get("total_price_gross") {
            (dec(g), true)
        } else {
            (dec(&p["total_price_net"]), false)
        };
        let e = groups.entry(tax).or_insert((Decimal::ZERO, gross));
        e.0 += v;
    }
    groups
        .into_iter()
        .map(|(tax, (sum, gross))| {
            let pct: Option<Decimal> = tax.parse().ok().filter(|p: &Decimal| !p.is_zero());
            let t = match (pct, gross) {
                (None, _) => (sum, Decimal::ZERO, sum),
                (Some(p), false) => {
                    let vat = round(sum * p / Decimal::ONE_HUNDRED);
                    (sum, vat, sum + vat)
                }
                (Some(p), true) => {
                    let vat = round(sum * p / (Decimal::ONE_HUNDRED + p));
                    (sum - vat, vat, sum)
                }
            };
            (field(&tax).to_string(), t)
        })
        .fold(BTreeMap::new(), |mut m, (k, t)| {
            let e: &mut (Decimal, Decimal, Decimal) =
                m.entry(k)
                    .or_insert((Decimal::ZERO, Decimal::ZERO, Decimal::ZERO));
            e.0 += t.0;
            e.1 += t.1;
            e.2 += t.2;
            m
        })
}

/// The FA(3) totals field a Fakturownia tax value adds to.
fn field(tax: &str) -> &str {
    match tax {
        "23" | "22" => "P_13_1",
        "8" | "7" => "P_13_2",
        "5" => "P_13_3",
        "4" | "3" => "P_13_4",
        other => other,
    }
}

/// FA(3) totals by Fakturownia tax value.
fn fa_totals(inv: &Faktura) -> BTreeMap<String, (Decimal, Decimal, Decimal)> {
    let fa = &inv.fa;
    let mut m = BTreeMap::new();
    let mut put = |k: &str, net: Option<Decimal>, vat: Option<Decimal>| {
        if let Some(net) = net {
            let vat = vat.unwrap_or_default();
            let e = m
                .entry(k.to_string())
                .or_insert((Decimal::ZERO, Decimal::ZERO, Decimal::ZERO));
            e.0 += net;
            e.1 += vat;
            e.2 += net + vat;
        }
    };
    put("P_13_1", fa.p_13_1, fa.p_14_1);
    put("P_13_2", fa.p_13_2, fa.p_14_2);
    put("P_13_3", fa.p_13_3, fa.p_14_3);
    put("P_13_4", fa.p_13_4, fa.p_14_4);
    put("0", fa.p_13_6_1, None);
    put("0", fa.p_13_6_2, None);
    put("0", fa.p_13_6_3, None);
    put("zw", fa.p_13_7, None);
    put("np", fa.p_13_8, None);
    put("np", fa.p_13_9, None);
    put("np", fa.p_13_10, None);
    m
}

/// Both channels agree: number, names, quantities, prices, line values, taxes and totals.
fn assert_channels_agree(docs: &Documents) {
    let fk = &docs.fakturownia;
    assert_eq!(fk["number"], docs.number.as_str());
    assert_eq!(docs.invoice.fa.p_2, docs.number);
    assert_eq!(fk["currency"], docs.currency.as_str());
    assert_eq!(fk["currency"], docs.invoice.fa.kod_waluty.code());
    let positions = fk["positions"].as_array().unwrap();
    let rows = &docs.invoice.fa.fa_wiersz;
    assert_eq!(positions.len(), rows.len());
    for (p, r) in positions.iter().zip(rows) {
        assert_eq!(p["name"], r.p_7.as_deref().unwrap());
        assert_eq!(dec(&p["quantity"]), r.p_8b.unwrap());
        match (p.get("price_net"), p.get("price_gross")) {
            (Some(n), None) => {
                assert_eq!(dec(n), r.p_9a.unwrap());
                assert_eq!(dec(&p["total_price_net"]), r.p_11.unwrap());
            }
            (None, Some(g)) => {
                assert_eq!(dec(g), r.p_9b.unwrap());
                assert_eq!(dec(&p["total_price_gross"]), r.p_11a.unwrap());
            }
            other => panic!("position prices {other:?}"),
        }
        let code = r.p_12.unwrap().code();
        let tax = p["tax"].to_string().trim_matches('"').to_string();
        let expect = match code {
            "0 KR" | "0 WDT" | "0 EX" => "0",
            "np I" | "np II" | "oo" => "np",
            c => c,
        };
        assert_eq!(tax, expect, "P_12 {code}");
    }
    let fk_totals = fakturownia_totals(positions);
    assert_eq!(fk_totals, fa_totals(&docs.invoice), "totals per rate");
    let gross: Decimal = fk_totals.values().map(|t| t.2).sum();
    assert_eq!(gross, docs.invoice.fa.p_15);
    if let Some(q) = &docs.rate {
        assert_eq!(fk["exchange_currency"], "PLN");
        assert_eq!(fk["exchange_kind"], "own");
        assert_eq!(dec(&fk["exchange_currency_rate"]), q.rate);
        for r in rows {
            assert_eq!(r.kurs_waluty, Some(q.rate));
        }
    } else {
        assert!(fk.get("exchange_currency").is_none());
    }
    for k in [
        "api_token",
        "gov_id",
        "oid",
        "invoice_id",
        "from_invoice_id",
    ] {
        assert!(fk.get(k).is_none(), "{k} is the machine's");
    }
}

fn check_xml(docs: &Documents, name: &str) {
    let back = ksef::xml::parse(&docs.xml).unwrap();
    assert_eq!(back.invoice, docs.invoice);
    assert_eq!(back.schema, SchemaVersion::Fa3);
    common::save_for_xsd_check("paired", name, &docs.xml);
}

#[test]
fn b2b_gross_invoice_both_channels() {
    let cfg = config();
    let o = order("order-b2b.json");
    let mut n = Numbering::new();
    let docs = issue(&o, &cfg, &mut n, &[], "2026-02-15T10:00:00+01:00");
    assert_eq!(docs.number, "FV/2026/02/1");
    assert_eq!(docs.kind, DocumentKind::Invoice);
    assert_eq!(docs.order_id, "100234");
    let fa = &docs.invoice.fa;
    // 23 %: 1999.99 + round(3 × 49.90 × 0.9) = 134.73 + 19.99 = 2154.71 gross
    // tax = round(2154.71 × 23 / 123) = 402.91
    assert_eq!(fa.p_14_1, Some(d("402.91")));
    assert_eq!(fa.p_13_1, Some(d("1751.80")));
    // 5 %: 79.98 gross, tax round(79.98 × 5 / 105) = 3.81
    assert_eq!(fa.p_14_3, Some(d("3.81")));
    assert_eq!(fa.p_15, d("2234.69"));
    assert_eq!(fa.p_1, day("2026-02-15"));
    let buyer = &docs.invoice.podmiot2.dane_identyfikacyjne;
    assert!(matches!(&buyer.nip_wybor, ksef::model::NipWybor::Nip(n) if n == "1111111111"));
    assert_eq!(docs.invoice.podmiot1.dane_identyfikacyjne.nip, "5265877635");
    let fk = &docs.fakturownia;
    assert_eq!(fk["kind"], "vat");
    assert_eq!(fk["buyer_tax_no"], "1111111111");
    assert_eq!(fk["buyer_company"], true);
    assert_eq!(fk["sell_date"], "2026-02-14");
    assert_eq!(fk["gov_save_and_send"], false);
    assert_eq!(fk["positions"][1]["discount_percent"], "10");
    assert_eq!(fk["positions"][3]["name"], "Kurier DPD");
    assert_channels_agree(&docs);
    check_xml(&docs, "b2b-gross.xml");
    // the XML is what was validated and carries the number
    let xml = String::from_utf8(docs.xml.clone()).unwrap();
    assert!(xml.contains("<P_2>FV/2026/02/1</P_2>"));
}

#[test]
fn b2c_consumer_with_exemption() {
    let cfg = config();
    let o = order("order-b2c.json");
    let mut n = Numbering::new();
    let docs = issue(&o, &cfg, &mut n, &[], "2026-03-02T09:20:00+01:00");
    assert_eq!(docs.number, "FV/2026/03/1");
    let p2 = &docs.invoice.podmiot2.dane_identyfikacyjne;
    assert!(matches!(p2.nip_wybor, ksef::model::NipWybor::BrakId(_)));
    assert_eq!(p2.nazwa.as_deref(), Some("Anna Nowak"));
    assert_eq!(docs.invoice.fa.p_13_7, Some(d("24.50")));
    let fk = &docs.fakturownia;
    assert_eq!(fk["buyer_company"], false);
    assert!(fk.get("buyer_tax_no").is_none());
    assert_eq!(fk["exempt_tax_kind"], "art. 43 ust. 1 pkt 18 ustawy o VAT");
    assert_eq!(fk["positions"][1]["tax"], "zw");
    assert_channels_agree(&docs);
    check_xml(&docs, "b2c-exempt.xml");
}

#[test]
fn eur_eu_buyer_needs_rate_then_issues_with_pln_vat() {
    let cfg = config();
    let o = order("order-eur.json");
    let mut n = Numbering::new();
    let at = now("2026-04-07T12:00:00+02:00");
    // 2026-04-07 is the Tuesday after Easter Monday (04-06): the rate is Friday 04-03's.
    let dec1 = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap();
    assert_eq!(
        dec1,
        Decision::NeedRate {
            currency: "EUR".into(),
            before: day("2026-04-07")
        }
    );
    assert!(n.counters.is_empty(), "NeedRate takes no number");
    // a rate of the wrong day (Easter Monday, no NBP table) does not count
    let wrong = [eur_rate("2026-04-06", "4.30")];
    assert!(matches!(
        evaluate(&o, &cfg, Trigger::Manual, &mut n, &wrong, &at).unwrap(),
        Decision::NeedRate { .. }
    ));
    let rates = [
        eur_rate("2026-04-06", "4.30"),
        eur_rate("2026-04-03", "4.2815"),
    ];
    let docs = issue(&o, &cfg, &mut n, &rates, "2026-04-07T12:00:00+02:00");
    assert_eq!(docs.rate.as_ref().unwrap().date, day("2026-04-03"));
    let p2 = &docs.invoice.podmiot2.dane_identyfikacyjne;
    assert!(matches!(&p2.nip_wybor,
        ksef::model::NipWybor::KodUe { nr_vat_ue, .. } if nr_vat_ue == "123456789"));
    assert_eq!(docs.invoice.fa.p_13_6_2, Some(d("1641.00")));
    assert_eq!(docs.fakturownia["buyer_tax_no"], "DE123456789");
    assert_channels_agree(&docs);
    check_xml(&docs, "eur-wdt.xml");
}

#[test]
fn eur_taxed_lines_carry_vat_in_pln() {
    let cfg = config();
    let o = edit("order-eur.json", |v| {
        v["customer"] = serde_json::json!({
            "name": "Jan Kowalski", "country": "PL",
            "address": {"street": "ul. Polna 1", "city": "Kraków", "postal_code": "30-001", "country": "PL"}
        });
        v["lines"][0]["tax_rule"] = "standard".into();
        v["shipping"]["tax_rule"] = "standard".into();
    });
    let mut n = Numbering::new();
    let rates = [eur_rate("2026-04-03", "4.2815")];
    let docs = issue(&o, &cfg, &mut n, &rates, "2026-04-07T12:00:00+02:00");
    let fa = &docs.invoice.fa;
    // 4 × 399.00 + 45.00 = 1641.00 EUR gross, tax round(1641 × 23/123) = 306.85 EUR
    assert_eq!(fa.p_14_1, Some(d("306.85")));
    // in PLN: round(306.85 × 4.2815) = 1313.78
    assert_eq!(fa.p_14_1w, Some(d("1313.78")));
    assert_eq!(fa.p_15, d("1641.00"));
    assert_channels_agree(&docs);
    check_xml(&docs, "eur-23.xml");
}

#[test]
fn net_method_store_b2b_with_every_rate() {
    let cfg = config();
    let mut n = Numbering::new();
    let o = edit("order-b2b.json", |v| {
        v["store"] = "b2b".into();
        v["status"] = "shipped".into();
        v["lines"] = serde_json::json!([
            {"name": "A 23", "quantity": "3", "unit_price_net": "33.33", "tax_rule": "standard"},
            {"name": "B 23", "quantity": "1.5", "unit_price_net": "0.07", "tax_rule": "standard", "discount_percent": 5},
            {"name": "C 8", "quantity": "7", "unit_price_net": "12.345", "tax_rule": "reduced"},
        ]);
        v["shipping"] =
            serde_json::json!({"name": "Transport", "price_net": "100", "tax_rule": "standard"});
    });
    let docs = issue(&o, &cfg, &mut n, &[], "2026-02-16T08:00:00+01:00");
    assert_eq!(docs.number, "H/26/00001");
    let fa = &docs.invoice.fa;
    // 23 %: 99.99 + round(0.105 − 0.00525) = 0.10 + 100.00 = 200.09 net, tax 46.02
    assert_eq!(fa.p_13_1, Some(d("200.09")));
    assert_eq!(fa.p_14_1, Some(d("46.02")));
    // 8 %: round(86.415) = 86.42, tax round(6.9136) = 6.91
    assert_eq!(fa.p_13_2, Some(d("86.42")));
    assert_eq!(fa.p_14_2, Some(d("6.91")));
    assert_eq!(fa.p_15, d("339.44"));
    assert_eq!(docs.fakturownia["department_id"], 42);
    assert_eq!(docs.fakturownia["calculating_strategy"]["sum"], "keep_net");
    assert_channels_agree(&docs);
    check_xml(&docs, "b2b-net.xml");
}

#[test]
fn every_configurable_rate_validates_and_agrees() {
    let mut cfg_v: Value = serde_json::from_str(&ex("rules.json")).unwrap();
    let rules = [
        ("r23", "23"),
        ("r22", "22"),
        ("r8", "8"),
        ("r7", "7"),
        ("r5", "5"),
        ("r4", "4"),
        ("r3", "3"),
        ("kr", "0 KR"),
        ("wdt", "0 WDT"),
        ("ex", "0 EX"),
        ("npi", "np I"),
        ("npii", "np II"),
        ("oo", "oo"),
    ];
    let tr = &mut cfg_v["stores"]["b2b"]["tax_rules"];
    for (name, code) in rules {
        tr[name] = serde_json::json!({ "p_12": code });
    }
    let cfg = RuleConfig::from_value(&cfg_v).unwrap();
    let mut n = Numbering::new();
    for (i, (name, code)) in rules.iter().enumerate() {
        let o = edit("order-b2b.json", |v| {
            v["store"] = "b2b".into();
            v["status"] = "shipped".into();
            v["lines"] = serde_json::json!([
                {"name": "Towar", "quantity": "2", "unit_price_net": "10.05", "tax_rule": name}
            ]);
            v["shipping"] = Value::Null;
        });
        let docs = issue(&o, &cfg, &mut n, &[], "2026-02-16T08:00:00+01:00");
        assert_eq!(docs.number, format!("H/26/{:05}", i + 1));
        assert_eq!(docs.invoice.fa.fa_wiersz[0].p_12.unwrap().code(), *code);
        assert_channels_agree(&docs);
        if *code == "oo" || *code == "np II" {
            assert_eq!(docs.fakturownia["reverse_charge"], true);
        }
        check_xml(&docs, &format!("rate-{name}.xml"));
    }
}

#[test]
fn foreign_buyer_with_tax_id() {
    let cfg = config();
    let o = edit("order-b2b.json", |v| {
        v["customer"] = serde_json::json!({
            "name": "Cool Corp", "tax_id": "12-3456789", "country": "US",
            "address": {"street": "1 Main St", "city": "Boston", "postal_code": "02101", "country": "US"}
        });
        for l in v["lines"].as_array_mut().unwrap() {
            l["tax_rule"] = "export".into();
        }
        v["shipping"]["tax_rule"] = "export".into();
    });
    let mut n = Numbering::new();
    let docs = issue(&o, &cfg, &mut n, &[], "2026-02-15T10:00:00+01:00");
    let p2 = &docs.invoice.podmiot2.dane_identyfikacyjne;
    assert!(matches!(&p2.nip_wybor,
        ksef::model::NipWybor::KodKraju { nr_id, .. } if nr_id == "12-3456789"));
    assert_eq!(docs.fakturownia["buyer_tax_no"], "12-3456789");
    assert_channels_agree(&docs);
    check_xml(&docs, "foreign-export.xml");
}

#[test]
fn bad_buyer_ids_are_typed_errors() {
    let cfg = config();
    let mut n = Numbering::new();
    let at = now("2026-02-15T10:00:00+01:00");
    let o = edit("order-b2b.json", |v| {
        v["customer"]["nip"] = "1111111112".into()
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BuyerInvalid);
    assert_eq!(e.path(), "customer.nip");
    let o = edit("order-eur.json", |v| {
        v["customer"]["eu_vat_id"] = "DE12".into()
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::BuyerInvalid, "customer.eu_vat_id")
    );
    assert!(n.counters.is_empty(), "an error takes no number");
}

#[test]
fn skips_with_reasons() {
    let cfg = config();
    let mut n = Numbering::new();
    let at = now("2026-02-15T10:00:00+01:00");
    let o = order("order-b2b.json");
    let skip = |o: &Order, t: Trigger, n: &mut Numbering| match evaluate(o, &cfg, t, n, &[], &at)
        .unwrap()
    {
        Decision::Skip { reason } => reason,
        other => panic!("expected Skip, got {other:?}"),
    };
    // on_creation is off, but a new order already `paid` is invoiced
    assert!(matches!(
        evaluate(&o, &cfg, Trigger::Created, &mut n, &[], &at).unwrap(),
        Decision::Issue(_)
    ));
    let pending = edit("order-b2b.json", |v| v["status"] = "pending".into());
    assert!(skip(&pending, Trigger::StatusChanged, &mut n).contains("`pending`"));
    assert!(skip(&pending, Trigger::Created, &mut n).contains("on creation"));
    // b2b store: no capture trigger, no manual
    let b2b = edit("order-b2b.json", |v| v["store"] = "b2b".into());
    assert!(skip(&b2b, Trigger::Captured, &mut n).contains("capture"));
    assert!(skip(&b2b, Trigger::Manual, &mut n).contains("manual"));
    let cod = edit("order-b2b.json", |v| {
        v["payment_method"] = "cash_on_delivery".into()
    });
    assert!(skip(&cod, Trigger::Manual, &mut n).contains("cash_on_delivery"));
    let staff = edit("order-b2b.json", |v| {
        v["customer"]["group"] = "staff".into()
    });
    assert!(skip(&staff, Trigger::Manual, &mut n).contains("staff"));
    // only the one Issue took a number
    assert_eq!(
        n.last("pl-main", "FV/{YYYY}/{MM}/{seq}", day("2026-02-15"))
            .unwrap(),
        1
    );
    assert_eq!(n.counters.len(), 1);
}

#[test]
fn unknown_store_and_tax_rule() {
    let cfg = config();
    let mut n = Numbering::new();
    let at = now("2026-02-15T10:00:00+01:00");
    let o = edit("order-b2b.json", |v| v["store"] = "nope".into());
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownStore);
    let o = edit("order-b2b.json", |v| {
        v["lines"][2]["tax_rule"] = "luxury".into()
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnknownTaxRule);
    assert_eq!(e.path(), "lines[2].tax_rule");
    assert!(
        e.message().contains("line 3 (`Poradnik: chłodzenie`)"),
        "{e}"
    );
    let o = edit("order-b2b.json", |v| {
        v["shipping"]["tax_rule"] = "luxury".into()
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::UnknownTaxRule, "shipping.tax_rule")
    );
    // a net price in a gross store
    let o = edit("order-b2b.json", |v| {
        let l = v["lines"][0].as_object_mut().unwrap();
        l.remove("unit_price_gross");
        l.insert("unit_price_net".into(), "1626.01".into());
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::OrderInvalid, "lines[0].unit_price_net")
    );
    assert!(n.counters.is_empty());
}

#[test]
fn bad_rate_quote_is_an_error() {
    let cfg = config();
    let o = order("order-eur.json");
    let mut n = Numbering::new();
    let at = now("2026-04-07T12:00:00+02:00");
    for (rate, msg) in [
        ("0", "greater than zero"),
        ("4.1234567", "6 decimal places"),
    ] {
        let e = evaluate(
            &o,
            &cfg,
            Trigger::Manual,
            &mut n,
            &[eur_rate("2026-04-03", rate)],
            &at,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateInvalid);
        assert!(e.message().contains(msg), "{e}");
    }
}

#[test]
fn business_days_and_holidays() {
    // Monday 2026-02-16 → Friday 02-13
    assert_eq!(
        business_day_before(day("2026-02-16")),
        Some(day("2026-02-13"))
    );
    assert_eq!(
        business_day_before(day("2026-02-15")),
        Some(day("2026-02-13"))
    );
    assert_eq!(
        business_day_before(day("2026-02-18")),
        Some(day("2026-02-17"))
    );
    // New Year 2026 is Thursday: 01-02 → 12-31 (12-24..26 holidays, 12-31 is a Wednesday)
    assert_eq!(
        business_day_before(day("2026-01-02")),
        Some(day("2025-12-31"))
    );
    // 2025-12-29 (Monday) → 12-23 (24, 25, 26 holidays; 27, 28 weekend)
    assert_eq!(
        business_day_before(day("2025-12-29")),
        Some(day("2025-12-23"))
    );
    // 2024: Christmas Eve was a working day
    assert_eq!(
        business_day_before(day("2024-12-27")),
        Some(day("2024-12-24"))
    );
    // Corpus Christi 2026 = Easter (04-05) + 60 = 06-04 (Thursday)
    assert!(is_polish_holiday(day("2026-06-04")));
    assert_eq!(
        business_day_before(day("2026-06-05")),
        Some(day("2026-06-03"))
    );
    // 3 May, 11 November, 15 August
    for h in ["2026-05-03", "2026-11-11", "2026-08-15", "2027-03-29"] {
        assert!(is_polish_holiday(day(h)), "{h}");
    }
    assert!(!is_polish_holiday(day("2026-04-07")));
}

#[test]
fn correction_return_both_channels() {
    let cfg = config();
    let o = order("order-return.json");
    let mut n = Numbering::new();
    let docs = issue(&o, &cfg, &mut n, &[], "2026-02-20T12:05:00+01:00");
    assert_eq!(docs.number, "KOR/2026/1");
    assert_eq!(
        docs.kind,
        DocumentKind::Correction {
            original_ksef_number: "5265877635-20250916-010040741B3E-46".into(),
            original_number: "FV/2026/02/1".into()
        }
    );
    let fa = &docs.invoice.fa;
    assert_eq!(fa.rodzaj_faktury.code(), "KOR");
    assert_eq!(fa.przyczyna_korekty.as_deref(), Some("Zwrot towaru"));
    let k = &fa.dane_fa_korygowanej[0];
    assert_eq!(k.nr_fa_korygowanej, "FV/2026/02/1");
    assert!(matches!(&k.nr_ksef_wybor,
        ksef::model::NrKsefWybor::NrKsef { nr_ksef_fa_korygowanej, .. }
        if nr_ksef_fa_korygowanej == "5265877635-20250916-010040741B3E-46"));
    // original: filter 3 × 49.90 − 10 % = 134.73; after 2 filters: round(99.80 × 0.9) = 89.82
    // 23 % gross before 2154.71, after 2109.80: tax 402.91 → round(394.5203) = 394.52
    assert_eq!(fa.p_14_1, Some(d("-8.39")));
    assert_eq!(fa.p_13_1, Some(d("-36.52")));
    // 5 %: both books returned: −79.98 gross, tax −3.81
    assert_eq!(fa.p_14_3, Some(d("-3.81")));
    assert_eq!(fa.p_15, d("-124.89"));

    let fk = &docs.fakturownia;
    assert_eq!(fk["kind"], "correction");
    assert_eq!(fk["number"], "KOR/2026/1");
    assert_eq!(fk["correction_reason"], "Zwrot towaru");
    let pos = fk["positions"].as_array().unwrap();
    assert_eq!(pos.len(), 2);
    let filt = &pos[0];
    assert_eq!(filt["kind"], "correction");
    assert_eq!(dec(&filt["quantity"]), d("-1"));
    assert_eq!(dec(&filt["total_price_gross"]), d("-44.91"));
    assert_eq!(
        filt["correction_before_attributes"]["kind"],
        "correction_before"
    );
    assert_eq!(
        dec(&filt["correction_before_attributes"]["quantity"]),
        d("3")
    );
    assert_eq!(
        dec(&filt["correction_after_attributes"]["quantity"]),
        d("2")
    );
    assert_eq!(
        dec(&filt["correction_after_attributes"]["total_price_gross"]),
        d("89.82")
    );
    let books = &pos[1];
    assert_eq!(
        dec(&books["correction_after_attributes"]["quantity"]),
        d("0")
    );
    assert_eq!(dec(&books["total_price_gross"]), d("-79.98"));

    // FA(3) rows before/after carry the same values as Fakturownia's before/after states
    let rows = &fa.fa_wiersz;
    let before: Vec<_> = rows.iter().filter(|r| r.stan_przed.is_some()).collect();
    let after: Vec<_> = rows.iter().filter(|r| r.stan_przed.is_none()).collect();
    assert_eq!((before.len(), after.len()), (2, 2));
    for (p, (b, a)) in pos.iter().zip(before.iter().zip(&after)) {
        let pb = &p["correction_before_attributes"];
        let pa = &p["correction_after_attributes"];
        assert_eq!(pb["name"], b.p_7.as_deref().unwrap());
        assert_eq!(dec(&pb["quantity"]), b.p_8b.unwrap());
        assert_eq!(dec(&pb["total_price_gross"]), b.p_11a.unwrap());
        assert_eq!(dec(&pa["quantity"]), a.p_8b.unwrap());
        assert_eq!(dec(&pa["total_price_gross"]), a.p_11a.unwrap());
    }

    // Totals agree: the original's Fakturownia positions with the corrections applied give
    // the FA(3) difference.
    let orig = issue(
        &order("order-b2b.json"),
        &cfg,
        &mut Numbering::new(),
        &[],
        "2026-02-15T10:00:00+01:00",
    );
    let mut after_pos: Vec<Value> = orig.fakturownia["positions"].as_array().unwrap().clone();
    for (ret, p) in o.returns.iter().zip(pos) {
        after_pos[ret.line as usize - 1] = p["correction_after_attributes"].clone();
    }
    let t_before = fakturownia_totals(orig.fakturownia["positions"].as_array().unwrap());
    let t_after = fakturownia_totals(&after_pos);
    let gross_diff: Decimal = t_after.values().map(|t| t.2).sum::<Decimal>()
        - t_before.values().map(|t| t.2).sum::<Decimal>();
    assert_eq!(gross_diff, fa.p_15);
    let vat_diff_23 = t_after["P_13_1"].1 - t_before["P_13_1"].1;
    assert_eq!(Some(vat_diff_23), fa.p_14_1);
    check_xml(&docs, "correction-return.xml");
}

#[test]
fn correction_in_eur_uses_the_original_rate() {
    let cfg = config();
    let o = edit("order-eur.json", |v| {
        v["id"] = "100240-R1".into();
        v["kind"] = "correction".into();
        v["corrects"] = serde_json::json!({
            "order_id": "100240", "ksef_number": "5265877635-20250916-010040741B3E-46",
            "invoice_number": "FV/2026/04/1", "issue_date": "2026-04-07", "reason": "Zwrot"
        });
        v["returns"] = serde_json::json!([{ "line": 1, "quantity": "1" }]);
        v["lines"][0]["tax_rule"] = "standard".into();
        v["customer"] = serde_json::json!({
            "name": "Jan Kowalski", "country": "PL",
            "address": {"street": "ul. Polna 1", "city": "Kraków", "postal_code": "30-001", "country": "PL"}
        });
    });
    let mut n = Numbering::new();
    let at = now("2026-05-12T10:00:00+02:00");
    assert_eq!(
        evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap(),
        Decision::NeedRate {
            currency: "EUR".into(),
            before: day("2026-04-07")
        }
    );
    let docs = issue(
        &o,
        &cfg,
        &mut n,
        &[eur_rate("2026-04-03", "4.2815")],
        "2026-05-12T10:00:00+02:00",
    );
    let fa = &docs.invoice.fa;
    // 23 %: gross 1641.00 → 1242.00 (one fridge of 399.00 back)
    // tax 306.85 → round(1242 × 23/123) = 232.24, difference −74.61 EUR, in PLN
    // 232.24 × 4.2815 = 994.34 minus 1313.78 = −319.44
    assert_eq!(fa.p_14_1, Some(d("-74.61")));
    assert_eq!(fa.p_14_1w, Some(d("-319.44")));
    assert_eq!(
        dec(&docs.fakturownia["exchange_currency_rate"]),
        d("4.2815")
    );
    check_xml(&docs, "correction-eur.xml");
}

#[test]
fn correction_errors() {
    let cfg = config();
    let mut n = Numbering::new();
    let at = now("2026-02-20T12:05:00+01:00");
    let o = edit("order-return.json", |v| {
        v["returns"] = serde_json::json!([{"line": 9, "quantity": 1}])
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::CorrectionInvalid, "returns[0].line")
    );
    let o = edit("order-return.json", |v| {
        v["returns"] = serde_json::json!([{"line": 2, "quantity": "4"}])
    });
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::CorrectionInvalid, "returns[0].quantity")
    );
    let o = edit(
        "order-return.json",
        |v| {
            v["returns"] =
                serde_json::json!([{"line": 2, "quantity": "1"}, {"line": 2, "quantity": "1"}])
        },
    );
    let e = evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::CorrectionInvalid, "returns[1].line")
    );
    assert!(n.counters.is_empty());
    // exclusions do not stop a correction of an invoice that exists
    let o = edit("order-return.json", |v| {
        v["customer"]["group"] = "staff".into()
    });
    assert!(matches!(
        evaluate(&o, &cfg, Trigger::Manual, &mut n, &[], &at).unwrap(),
        Decision::Issue(_)
    ));
}

#[test]
fn numbering_templates() {
    let mut n = Numbering::new();
    let dt = day("2026-12-31");
    assert_eq!(
        n.next("s", "FV/{YYYY}/{MM}/{DD}/{seq:3}", dt).unwrap(),
        "FV/2026/12/31/001"
    );
    assert_eq!(n.next("s", "{seq}", dt).unwrap(), "1");
    assert_eq!(
        n.next("s", "{seq}", day("2030-01-01")).unwrap(),
        "2",
        "no period: never resets"
    );
    assert_eq!(n.next("s", "R{YY}-{seq:2}", dt).unwrap(), "R26-01");
    assert_eq!(
        n.next("s", "R{YY}-{seq:2}", day("2027-01-01")).unwrap(),
        "R27-01"
    );
    // stores are separate
    assert_eq!(n.next("t", "{seq}", dt).unwrap(), "1");
    // peek does not take
    assert_eq!(n.peek("s", "{seq}", dt).unwrap(), "3");
    assert_eq!(n.peek("s", "{seq}", dt).unwrap(), "3");
    for (bad, why) in [
        ("FV/{MM}/{seq}", "{YYYY}"),
        ("FV/{DD}/{YYYY}/{seq}", "{MM}"),
        ("FV/{YYYY}", "exactly one {seq}"),
        ("FV/{seq}/{seq}", "exactly one {seq}"),
        ("FV/{yyyy}/{seq}", "unknown placeholder"),
        ("FV/{seq:0}", "unknown placeholder"),
        ("FV/{seq", "without its"),
        ("FV}/{seq}", "without its"),
    ] {
        let e = n.next("s", bad, dt).unwrap_err();
        assert_eq!(e.code(), ErrorCode::NumberingInvalid);
        assert!(e.message().contains(why), "{bad}: {e}");
    }
    // exhausted counters are an error, not a wrap
    let key = n
        .counters
        .keys()
        .find(|k| k.starts_with("t"))
        .unwrap()
        .clone();
    n.counters.insert(key, u64::MAX);
    assert_eq!(
        n.next("t", "{seq}", dt).unwrap_err().code(),
        ErrorCode::NumberingInvalid
    );
}

#[test]
fn ten_thousand_numbers_are_unique_across_periods() {
    let mut n = Numbering::new();
    let mut seen = HashSet::new();
    let mut date = day("2026-01-01");
    let templates = [
        "FV/{YYYY}/{MM}/{seq}",
        "KOR/{YY}/{seq:4}",
        "D/{YYYY}{MM}{DD}/{seq}",
    ];
    for i in 0..10_000u32 {
        if i % 7 == 0 {
            date = date.add_days(3).unwrap(); // crosses days, months and years
        }
        let t = templates[i as usize % 3];
        let num = n.next("pl-main", t, date).unwrap();
        assert!(seen.insert(num.clone()), "{num} issued twice");
    }
    assert!(date > day("2037-01-01"));
    // the counters survive a JSON round trip and continue
    let json = serde_json::to_string(&n).unwrap();
    let mut back: Numbering = serde_json::from_str(&json).unwrap();
    assert_eq!(back, n);
    let next = back.next("pl-main", templates[0], date).unwrap();
    assert!(!seen.contains(&next));
}

#[test]
fn strict_order_json_errors_name_the_path() {
    let base: Value = serde_json::from_str(&ex("order-b2b.json")).unwrap();
    let case = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        Order::from_json(&v.to_string()).unwrap_err()
    };
    let e = case(&|v| v["lines"][1]["colour"] = "red".into());
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::OrderInvalid, "lines[1].colour")
    );
    assert!(e.message().contains("unknown field"));
    let e = case(&|v| v["lines"][0]["quantity"] = "1,5".into());
    assert_eq!(e.path(), "lines[0].quantity");
    let e = case(&|v| v["lines"][0]["unit_price_net"] = "10".into());
    assert_eq!(e.path(), "lines[0].unit_price_net");
    assert!(e.message().contains("not both"));
    let e = case(&|v| {
        v["lines"][0]
            .as_object_mut()
            .unwrap()
            .remove("unit_price_gross");
    });
    assert_eq!(e.path(), "lines[0].unit_price_net");
    let e = case(&|v| {
        v["customer"]["address"]
            .as_object_mut()
            .unwrap()
            .remove("city");
    });
    assert_eq!(e.path(), "customer.address.city");
    let e = case(&|v| v["created_at"] = "2026-02-14".into());
    assert_eq!(e.path(), "created_at");
    let e = case(&|v| v["currency"] = "zł".into());
    assert_eq!(e.path(), "currency");
    let e = case(&|v| v["kind"] = "refund".into());
    assert_eq!(e.path(), "kind");
    let e = case(&|v| v["returns"] = serde_json::json!([{"line": 1, "quantity": 1}]));
    assert_eq!(e.path(), "returns");
    let e = case(&|v| v["customer"]["eu_vat_id"] = "DE123456789".into());
    assert_eq!(e.path(), "customer.nip");
    let e = Order::from_json("{ \"id\": ").unwrap_err();
    assert_eq!(e.code(), ErrorCode::JsonSyntax);
    // serde's Deserialize goes through the same strict reader
    let e = serde_json::from_str::<Order>(r#"{"id": "1", "bogus": 1}"#).unwrap_err();
    assert!(
        e.to_string().contains("bogus") || e.to_string().contains("store"),
        "{e}"
    );
}

#[test]
fn decimals_are_exact_from_numbers_and_strings() {
    let o = edit("order-b2b.json", |v| {
        v["lines"][0]["quantity"] = serde_json::from_str("0.100000000000000005551115123").unwrap();
    });
    assert_eq!(
        o.lines[0].quantity.to_string(),
        "0.100000000000000005551115123"
    );
    let o = order("order-b2b.json");
    assert_eq!(
        o.lines[1].price,
        ksef::paired::order::Price::Gross(d("49.90"))
    );
    // the JSON form round-trips
    let back = Order::from_json(&o.to_json().unwrap()).unwrap();
    assert_eq!(back, o);
    let r = order("order-return.json");
    assert_eq!(Order::from_json(&r.to_json().unwrap()).unwrap(), r);
    let cfg = config();
    assert_eq!(RuleConfig::from_json(&cfg.to_json().unwrap()).unwrap(), cfg);
}

#[test]
fn strict_rule_config_errors() {
    let e = edit_cfg(|v| v["stores"]["pl-main"]["tax_rules"]["standard"]["p_12"] = "24".into())
        .unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (
            ErrorCode::RuleConfigInvalid,
            "stores.pl-main.tax_rules.standard.p_12"
        )
    );
    let e = edit_cfg(|v| {
        v["stores"]["pl-main"]["tax_rules"]["standard"]["fakturownia_tax"] = "8".into()
    })
    .unwrap_err();
    assert_eq!(
        e.path(),
        "stores.pl-main.tax_rules.standard.fakturownia_tax"
    );
    assert!(e.message().contains("disagrees"));
    let e = edit_cfg(|v| {
        v["stores"]["pl-main"]["tax_rules"]["medical"]
            .as_object_mut()
            .unwrap()
            .remove("exemption_basis");
    })
    .unwrap_err();
    assert_eq!(e.path(), "stores.pl-main.tax_rules.medical.exemption_basis");
    let e = edit_cfg(|v| v["stores"]["pl-main"]["prices"] = "auto".into()).unwrap_err();
    assert_eq!(e.path(), "stores.pl-main.prices");
    let e =
        edit_cfg(|v| v["stores"]["pl-main"]["seller"]["nip"] = "5265877636".into()).unwrap_err();
    assert_eq!(e.path(), "stores.pl-main.seller.nip");
    let e = edit_cfg(|v| v["stores"]["pl-main"]["numbering"]["invoice"] = "FV/{MM}/{seq}".into())
        .unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (
            ErrorCode::RuleConfigInvalid,
            "stores.pl-main.numbering.invoice"
        )
    );
    let e = edit_cfg(|v| {
        v["stores"]["pl-main"]["numbering"]["correction"] = "FV/{YYYY}/{MM}/{seq}".into()
    })
    .unwrap_err();
    assert_eq!(e.path(), "stores.pl-main.numbering.correction");
    let e =
        edit_cfg(|v| v["stores"]["pl-main"]["ksef"]["api_token"] = "secret".into()).unwrap_err();
    assert_eq!(e.path(), "stores.pl-main.ksef.api_token");
    assert!(!e.message().contains("secret"));
    let e =
        edit_cfg(|v| v["stores"]["pl-main"]["ksef"]["environment"] = "staging".into()).unwrap_err();
    assert_eq!(e.path(), "stores.pl-main.ksef.environment");
    let e = edit_cfg(|v| {
        v["stores"]["pl-main"]["tax_rules"]["standard"]["exemption_basis"] = "x".into()
    })
    .unwrap_err();
    assert_eq!(
        e.path(),
        "stores.pl-main.tax_rules.standard.exemption_basis"
    );
    // derived Fakturownia values
    let cfg = config();
    let b2b = &cfg.stores["b2b"];
    assert_eq!(b2b.tax_rules["eu_goods"].fakturownia_tax, "0");
    assert_eq!(b2b.tax_rules["domestic_rc"].fakturownia_tax, "np");
    assert!(!b2b.triggers.manual);
    assert_eq!(
        cfg.stores["pl-main"].ksef.environment,
        ksef::Environment::Test
    );
}

#[test]
fn fa3_xml_validates_with_today() {
    // the FA(3) built for a tax point in the future of `now` still validates (P_6 may be
    // later than P_1), and the issue date is now's date
    let cfg = config();
    let o = edit("order-b2b.json", |v| v["tax_point"] = "2026-02-20".into());
    let docs = issue(
        &o,
        &cfg,
        &mut Numbering::new(),
        &[],
        "2026-02-15T10:00:00+01:00",
    );
    let r = ksef::validate::validate(
        &docs.invoice,
        SchemaVersion::Fa3,
        &ksef::validate::Options::new().with_today(day("2026-02-15")),
    );
    assert!(r.is_valid(), "{r}");
    assert_eq!(docs.fakturownia["sell_date"], "2026-02-20");
}
