//! The invoice builder: every kind of invoice for FA(3) and FA(2), exact amounts checked by
//! hand (and against the official samples), emitted, saved for `make xsd-check`, and read back
//! to the same model.

mod common;

use ksef::builder::*;
use ksef::model::{
    Date, DateTime, Decimal, FormaPlatnosci, Gtu, KodKraju, KodKrajuUe, KodWaluty, NipWybor,
    P6Wybor, PMarzy, RodzajFaktury, SchemaVersion, StawkaPodatku, Wybor1, Wybor12, Zwolnienie,
};
use ksef::{xml, ErrorCode, Faktura};

use SchemaVersion::{Fa2, Fa3};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap()
}

fn header(number: &str) -> Header {
    Header::new(number, date("2026-02-15"), at("2026-02-15T10:00:00Z"))
        .place("Warszawa")
        .system_info("ksef builder test")
}

fn seller() -> Seller {
    Seller::new(
        "9999999999",
        "ABC AGD sp. z o. o.",
        Address::pl("ul. Kwiatowa 1 m. 2", "00-001 Warszawa"),
    )
    .contact(Contact::new().email("abc@abc.pl").phone("667444555"))
}

fn company() -> Buyer {
    Buyer::company("1111111111", "F.H.U. Jan Kowalski")
        .address(Address::pl("ul. Polna 1", "00-001 Warszawa"))
}

fn sample(kind: &str, name: &str) -> Faktura {
    let path = common::spec_dir().join("samples").join(kind).join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    xml::parse(&bytes).unwrap().invoice
}

fn group(schema: SchemaVersion) -> &'static str {
    match schema {
        Fa3 => "builder-fa3",
        Fa2 => "builder-fa2",
    }
}

/// Emit, save for the XSD check, read back: the model must not change.
fn emit_and_reparse(name: &str, inv: &Faktura, schema: SchemaVersion) {
    let out = xml::emit(inv, schema).unwrap_or_else(|e| panic!("{name} ({schema}): emit: {e}"));
    common::save_for_xsd_check(group(schema), &format!("{name}.xml"), &out);
    let back = xml::parse(&out).unwrap_or_else(|e| panic!("{name} ({schema}): reparse: {e}"));
    assert_eq!(back.schema, schema);
    assert_eq!(
        &back.invoice, inv,
        "{name} ({schema}): model changed on the way through XML"
    );
    // the business rules of `ksef::validate` agree with the builder's arithmetic
    let report = ksef::validate::validate(inv, schema, &ksef::validate::Options::new());
    let errors: Vec<String> = report.errors().map(|i| format!("{i:?}")).collect();
    assert!(
        errors.is_empty(),
        "{name} ({schema}): validate: {errors:#?}"
    );
}

/// Build for both schemas, emit and reparse each; returns (FA(3), FA(2)).
fn build_both(name: &str, b: &InvoiceBuilder) -> (Faktura, Faktura) {
    let f3 = b
        .build(Fa3)
        .unwrap_or_else(|e| panic!("{name} FA(3): {e:?}"));
    let f2 = b
        .build(Fa2)
        .unwrap_or_else(|e| panic!("{name} FA(2): {e:?}"));
    emit_and_reparse(name, &f3, Fa3);
    emit_and_reparse(name, &f2, Fa2);
    (f3, f2)
}

/// (P_13_x, P_14_x) of the basic, reduced-1, reduced-2 and taxi fields.
fn taxed(inv: &Faktura) -> [(Option<Decimal>, Option<Decimal>); 4] {
    let f = &inv.fa;
    [
        (f.p_13_1, f.p_14_1),
        (f.p_13_2, f.p_14_2),
        (f.p_13_3, f.p_14_3),
        (f.p_13_4, f.p_14_4),
    ]
}

/// The totals fields of an invoice, for comparing with a sample.
#[allow(clippy::type_complexity)]
fn totals(inv: &Faktura) -> Vec<(&'static str, Option<Decimal>)> {
    let f = &inv.fa;
    vec![
        ("P_13_1", f.p_13_1),
        ("P_14_1", f.p_14_1),
        ("P_14_1W", f.p_14_1w),
        ("P_13_2", f.p_13_2),
        ("P_14_2", f.p_14_2),
        ("P_14_2W", f.p_14_2w),
        ("P_13_3", f.p_13_3),
        ("P_14_3", f.p_14_3),
        ("P_14_3W", f.p_14_3w),
        ("P_13_4", f.p_13_4),
        ("P_14_4", f.p_14_4),
        ("P_13_6_1", f.p_13_6_1),
        ("P_13_6_2", f.p_13_6_2),
        ("P_13_6_3", f.p_13_6_3),
        ("P_13_7", f.p_13_7),
        ("P_13_8", f.p_13_8),
        ("P_13_9", f.p_13_9),
        ("P_13_10", f.p_13_10),
        ("P_13_11", f.p_13_11),
        ("P_15", Some(f.p_15)),
    ]
}

fn some(s: &str) -> Option<Decimal> {
    Some(d(s))
}

// ---------------------------------------------------------------------------------------------
// VAT invoices

fn shop_lines_net() -> Vec<Line> {
    vec![
        Line::net("Laptop Lumen 14", d("2"), d("2999.99"), VatRate::Rate23)
            .unit("szt.")
            .index("LAP-14")
            .gtin("5901234123457"),
        Line::net("Mysz bezprzewodowa", d("3"), d("49.90"), VatRate::Rate23)
            .unit("szt.")
            .discount_percent(d("10")),
        Line::net(
            "Książka: Podatki w praktyce",
            d("1"),
            d("39.90"),
            VatRate::Rate5,
        )
        .unit("szt."),
        Line::net("Kawa ziarnista 250 g", d("2"), d("25.50"), VatRate::Rate8)
            .unit("szt.")
            .discount_amount(d("1.00")),
        Line::net("Usługa 0 %", d("1"), d("100"), VatRate::Zero),
        Line::net("Szkolenie zawodowe", d("1"), d("500"), VatRate::Exempt)
            .unit("usł.")
            .pkwiu("85.59.B")
            .gtu(Gtu::Gtu12),
    ]
}

fn shop_lines_gross() -> Vec<Line> {
    vec![
        Line::gross("Laptop Lumen 14", d("2"), d("3689.99"), VatRate::Rate23).unit("szt."),
        Line::gross("Mysz bezprzewodowa", d("3"), d("61.38"), VatRate::Rate23)
            .unit("szt.")
            .discount_percent(d("10")),
        Line::gross(
            "Książka: Podatki w praktyce",
            d("1"),
            d("41.90"),
            VatRate::Rate5,
        )
        .unit("szt."),
        Line::gross("Kawa ziarnista 250 g", d("2"), d("27.54"), VatRate::Rate8)
            .unit("szt.")
            .discount_amount(d("1.00")),
        Line::gross("Usługa 0 %", d("1"), d("100"), VatRate::Zero),
        Line::gross("Szkolenie zawodowe", d("1"), d("500"), VatRate::Exempt).unit("usł."),
    ]
}

fn shop(method: Method, lines: Vec<Line>) -> InvoiceBuilder {
    let mut b = InvoiceBuilder::vat(header("FV/2026/02/1"), seller(), company(), method)
        .annotations(
            Annotations::new().exemption(Exemption::Act("art. 43 ust. 1 pkt 29 lit. c".into())),
        )
        .payment(
            Payment::due(date("2026-03-01"), FormaPlatnosci::Przelew)
                .account(BankAccount::new("73111111111111111111111111").bank_name("Bank S.A.")),
        )
        .note("zamówienie", "WWW-1234");
    b.header = b.header.sale_date(date("2026-02-14"));
    b.lines = lines;
    b
}

#[test]
fn vat_several_rates_from_net() {
    let (f3, f2) = build_both("vat-from-net", &shop(Method::FromNet, shop_lines_net()));
    for inv in [&f3, &f2] {
        let fa = &inv.fa;
        assert_eq!(fa.rodzaj_faktury, RodzajFaktury::Vat);
        // line values: 2 × 2999.99; 3 × 49.90 − 10 % (14.97); 39.90; 2 × 25.50 − 1.00
        let p11: Vec<_> = fa.fa_wiersz.iter().map(|w| w.p_11).collect();
        assert_eq!(
            p11,
            [
                some("5999.98"),
                some("134.73"),
                some("39.90"),
                some("50.00"),
                some("100"),
                some("500")
            ]
        );
        assert_eq!(fa.fa_wiersz[1].p_10, some("14.97"));
        assert_eq!(fa.fa_wiersz[3].p_10, some("1.00"));
        // 23 %: 6134.71 → tax 1410.9833 → 1410.98; 8 %: 50.00 → 4.00;
        // 5 %: 39.90 → 1.995 → 2.00 (half away from zero)
        assert_eq!(
            taxed(inv),
            [
                (some("6134.71"), some("1410.98")),
                (some("50.00"), some("4.00")),
                (some("39.90"), some("2.00")),
                (None, None)
            ]
        );
        assert_eq!(fa.p_13_6_1, some("100"));
        assert_eq!(fa.p_13_7, some("500"));
        assert_eq!(fa.p_15, d("8241.59"));
        assert_eq!(fa.p_6_wybor, Some(P6Wybor::P6(date("2026-02-14"))));
        assert!(matches!(
            fa.adnotacje.zwolnienie,
            Zwolnienie::P19 {
                p_19: Wybor1::Tak,
                ..
            }
        ));
        assert_eq!(fa.adnotacje.p_18, Wybor12::Nie);
        assert_eq!(fa.dodatkowy_opis.len(), 1);
    }
    // the 0 % domestic rate has a different code in each schema
    assert_eq!(f3.fa.fa_wiersz[4].p_12, Some(StawkaPodatku::R0Kr));
    assert_eq!(f2.fa.fa_wiersz[4].p_12, Some(StawkaPodatku::R0));
    // the validator cross-check in emit_and_reparse bites: a wrong total is reported
    let mut broken = f3.clone();
    broken.fa.p_14_1 = some("1400.00");
    let report = ksef::validate::validate(&broken, Fa3, &ksef::validate::Options::new());
    assert!(!report.is_valid());
    // FA(3) requires JST and GV, FA(2) has neither
    assert!(f3.podmiot2.jst.is_some() && f3.podmiot2.gv.is_some());
    assert!(f2.podmiot2.jst.is_none() && f2.podmiot2.gv.is_none());
}

#[test]
fn vat_several_rates_from_gross() {
    let (f3, f2) = build_both(
        "vat-from-gross",
        &shop(Method::FromGross, shop_lines_gross()),
    );
    for inv in [&f3, &f2] {
        let fa = &inv.fa;
        let p11a: Vec<_> = fa.fa_wiersz.iter().map(|w| w.p_11a).collect();
        assert_eq!(
            p11a,
            [
                some("7379.98"),
                some("165.73"),
                some("41.90"),
                some("54.08"),
                some("100"),
                some("500")
            ]
        );
        assert!(fa
            .fa_wiersz
            .iter()
            .all(|w| w.p_11.is_none() && w.p_9a.is_none()));
        // 3 × 61.38 = 184.14, 10 % = 18.414 → 18.41
        assert_eq!(fa.fa_wiersz[1].p_10, some("18.41"));
        // 23 %: gross 7545.71, tax 7545.71 × 23 / 123 = 1410.9864 → 1410.99, net 6134.72
        // 8 %: gross 54.08, tax 4.0059 → 4.01, net 50.07; 5 %: 41.90 → 1.9952 → 2.00
        assert_eq!(
            taxed(inv),
            [
                (some("6134.72"), some("1410.99")),
                (some("50.07"), some("4.01")),
                (some("39.90"), some("2.00")),
                (None, None)
            ]
        );
        assert_eq!(fa.p_15, d("8241.69"));
    }
}

#[test]
fn from_net_and_from_gross_differ() {
    // Three lines of 0.99 net (1.22 gross) at 23 %: from net the tax is computed on 2.97
    // (0.6831 → 0.68, total 3.65); from gross on 3.66 (0.6844 → 0.68, net 2.98, total 3.66).
    let net = InvoiceBuilder::vat(header("FV/1"), seller(), company(), Method::FromNet)
        .line(Line::net("Długopis", d("3"), d("0.99"), VatRate::Rate23));
    let gross = InvoiceBuilder::vat(header("FV/2"), seller(), company(), Method::FromGross)
        .line(Line::gross("Długopis", d("3"), d("1.22"), VatRate::Rate23));
    let (n, _) = build_both("net-vs-gross-net", &net);
    let (g, _) = build_both("net-vs-gross-gross", &gross);
    assert_eq!(taxed(&n)[0], (some("2.97"), some("0.68")));
    assert_eq!(n.fa.p_15, d("3.65"));
    assert_eq!(taxed(&g)[0], (some("2.98"), some("0.68")));
    assert_eq!(g.fa.p_15, d("3.66"));
}

#[test]
fn official_sample_01_totals_from_its_lines() {
    // FA_3_Przyklad_01: lines 1626.01 + 40.65 at 23 % and 0.95 at 5 %, net prices.
    let s = sample("fa3", "FA_3_Przyklad_01.xml");
    let b = InvoiceBuilder::vat(
        header("FV2026/02/150"),
        seller(),
        company(),
        Method::FromNet,
    )
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
    .line(Line::net(
        "promocja lodówka pełna mleka",
        d("1"),
        d("0.95"),
        VatRate::Rate5,
    ));
    let (inv, _) = build_both("sample-01-from-net", &b);
    // P_13_x and P_14_x are exactly the sample's ...
    assert_eq!(taxed(&inv), taxed(&s));
    assert_eq!(taxed(&inv)[0], (some("1666.66"), some("383.33")));
    // ... but the sample's P_15 (2051) is not the sum of its own P_13_x and P_14_x
    // (1666.66 + 383.33 + 0.95 + 0.05 = 2050.99): it is the gross prices 2000 + 50 + 1.
    assert_eq!(inv.fa.p_15, d("2050.99"));
    assert_eq!(s.fa.p_15, d("2051"));
    // Computed from those gross prices, P_15 is the sample's but P_13_1 differs by a grosz:
    let g = InvoiceBuilder::vat(
        header("FV2026/02/150"),
        seller(),
        company(),
        Method::FromGross,
    )
    .line(Line::gross(
        "lodówka Zimnotech mk1",
        d("1"),
        d("2000"),
        VatRate::Rate23,
    ))
    .line(Line::gross(
        "wniesienie sprzętu",
        d("1"),
        d("50"),
        VatRate::Rate23,
    ))
    .line(Line::gross(
        "promocja lodówka pełna mleka",
        d("1"),
        d("1"),
        VatRate::Rate5,
    ));
    let (g, _) = build_both("sample-01-from-gross", &g);
    assert_eq!(g.fa.p_15, s.fa.p_15);
    assert_eq!(taxed(&g)[0], (some("1666.67"), some("383.33")));
    assert_eq!(taxed(&g)[2], taxed(&s)[2]);
}

#[test]
fn official_sample_20_eur_invoice() {
    // FA_3_Przyklad_20 (and FA_2_Przyklad_20): domestic invoice in EUR, rate 4.5005 on every
    // line; tax in PLN P_14_1W = round(3118.80 × 4.5005) = 14036.16.
    let s3 = sample("fa3", "FA_3_Przyklad_20.xml");
    let s2 = sample("fa2", "FA_2_Przyklad_20.xml");
    let b = InvoiceBuilder::vat(
        header("FV2026/02/150"),
        seller(),
        company(),
        Method::FromNet,
    )
    .currency(KodWaluty::Eur, Some(d("4.5005")))
    .line(
        Line::net("lodówka Zimnotech mk1", d("10"), d("406"), VatRate::Rate23)
            .unit("szt.")
            .cn("8418 21 91")
            .sale_date(date("2026-02-20")),
    )
    .line(
        Line::net(
            "zamrażarka Zimnotech mk2",
            d("20"),
            d("250"),
            VatRate::Rate23,
        )
        .unit("szt."),
    )
    .line(Line::net("zmywarka Bryza 100", d("15"), d("300"), VatRate::Rate23).unit("szt."));
    let (f3, f2) = build_both("sample-20-eur", &b);
    assert_eq!(totals(&f3), totals(&s3));
    assert_eq!(totals(&f2), totals(&s2));
    assert_eq!(f3.fa.p_14_1w, some("14036.16"));
    assert_eq!(f3.fa.p_15, d("16678.80"));
    assert!(f3
        .fa
        .fa_wiersz
        .iter()
        .all(|w| w.kurs_waluty == some("4.5005")));
    // the rows carry the same values as the sample's
    for (a, b) in f3.fa.fa_wiersz.iter().zip(&s3.fa.fa_wiersz) {
        assert_eq!(
            (a.p_8b, a.p_9a, a.p_11, a.p_12),
            (b.p_8b, b.p_9a, b.p_11, b.p_12)
        );
    }
}

#[test]
fn eur_invoice_with_different_rates_per_line_uses_the_weighted_rate() {
    // 1000 EUR at 4.30 and 3000 EUR at 4.40, 23 %: tax 920.00 EUR; weighted rate
    // (1000 × 4.30 + 3000 × 4.40) / 4000 = 4.375; tax in PLN 920 × 4.375 = 4025.00
    // (summing per line would give 230 × 4.30 + 690 × 4.40 = 4025.00 too; here the rule is
    // the one of FA_3_Przyklad_21: the tax of the sum, converted at the weighted rate).
    let b = InvoiceBuilder::vat(header("FV/EUR/2"), seller(), company(), Method::FromNet)
        .currency(KodWaluty::Eur, None)
        .line(Line::net("Towar A", d("1"), d("1000"), VatRate::Rate23).exchange_rate(d("4.30")))
        .line(Line::net("Towar B", d("1"), d("3000"), VatRate::Rate23).exchange_rate(d("4.40")))
        .line(Line::net("Towar C", d("1"), d("33.33"), VatRate::Rate8).exchange_rate(d("4.3333")));
    let (inv, _) = build_both("eur-weighted-rate", &b);
    assert_eq!(taxed(&inv)[0], (some("4000"), some("920.00")));
    assert_eq!(inv.fa.p_14_1w, some("4025.00"));
    // 8 %: 33.33 → 2.6664 → 2.67 EUR × 4.3333 = 11.569911 → 11.57 PLN
    assert_eq!(inv.fa.p_14_2w, some("11.57"));
    assert_eq!(inv.fa.p_15, d("4956.00"));
}

#[test]
fn b2c_consumer_without_tax_id() {
    let b = InvoiceBuilder::vat(
        header("PAR/2026/1"),
        seller(),
        Buyer::consumer(),
        Method::FromGross,
    )
    .line(Line::gross("Kawa ziarnista 1 kg", d("2"), d("79.99"), VatRate::Rate23).unit("szt."))
    .line(Line::gross("Mleko 1 l", d("3"), d("3.49"), VatRate::Rate5).unit("szt."))
    .payment(Payment::paid(date("2026-02-15"), FormaPlatnosci::Karta));
    let (f3, f2) = build_both("b2c-consumer", &b);
    for inv in [&f3, &f2] {
        assert_eq!(
            inv.podmiot2.dane_identyfikacyjne.nip_wybor,
            NipWybor::BrakId(Wybor1::Tak)
        );
        assert!(inv.podmiot2.adres.is_none());
        // 159.98 gross: tax 159.98 × 23 / 123 = 29.91496 → 29.91; 10.47: 0.4986 → 0.50
        assert_eq!(taxed(inv)[0], (some("130.07"), some("29.91")));
        assert_eq!(taxed(inv)[2], (some("9.97"), some("0.50")));
        assert_eq!(inv.fa.p_15, d("170.45"));
    }
    // a named consumer with an address
    let named = InvoiceBuilder::vat(
        header("PAR/2026/2"),
        seller(),
        Buyer::consumer()
            .name("Anna Nowak")
            .address(Address::pl("ul. Leśna 5", "30-001 Kraków")),
        Method::FromGross,
    )
    .line(Line::gross("Czajnik", d("1"), d("129"), VatRate::Rate23));
    build_both("b2c-consumer-named", &named);
}

#[test]
fn intra_eu_supply_official_sample_22() {
    // FA_3_Przyklad_22: WDT in EUR, 10 × 400 at 0 % WDT; no tax, so no exchange rate needed.
    let s = sample("fa3", "FA_3_Przyklad_22.xml");
    let buyer = Buyer::eu_business(KodKrajuUe::De, "999999999", "EFG GmbH")
        .address(Address::new(KodKraju::De, "Blümchenstraße 1").line2("10999 Berlin"));
    let b = InvoiceBuilder::vat(header("FV2026/02/150"), seller(), buyer, Method::FromNet)
        .currency(KodWaluty::Eur, None)
        .line(Line::net("lodówka Zimnotech mk1", d("10"), d("400"), VatRate::ZeroWdt).unit("szt."));
    let (f3, f2) = build_both("wdt-eur", &b);
    assert_eq!(totals(&f3), totals(&s));
    assert_eq!(f3.fa.p_13_6_2, some("4000"));
    assert_eq!(f3.fa.fa_wiersz[0].p_12, Some(StawkaPodatku::R0Wdt));
    assert_eq!(f2.fa.fa_wiersz[0].p_12, Some(StawkaPodatku::R0));
    assert_eq!(f2.fa.p_13_6_2, some("4000"));
    assert!(matches!(
        f3.podmiot2.dane_identyfikacyjne.nip_wybor,
        NipWybor::KodUe {
            kod_ue: KodKrajuUe::De,
            ..
        }
    ));
}

#[test]
fn export_to_a_non_eu_buyer() {
    // FA(2) allows only letters and digits in NrID
    let dashed = InvoiceBuilder::vat(
        header("FV/EX/0"),
        seller(),
        Buyer::foreign(KodKraju::Us, "12-3456789", "ACME Inc."),
        Method::FromNet,
    )
    .line(Line::net("Zmywarka", d("1"), d("1"), VatRate::ZeroExport));
    assert!(dashed.build(Fa3).is_ok());
    assert_eq!(dashed.build(Fa2).unwrap_err().path(), "buyer.id");
    let buyer = Buyer::foreign(KodKraju::Us, "123456789", "ACME Inc.")
        .address(Address::new(KodKraju::Us, "1 Main St").line2("Springfield, IL 62701"));
    let b = InvoiceBuilder::vat(header("FV/EX/1"), seller(), buyer, Method::FromNet)
        .currency(KodWaluty::Usd, None)
        .line(
            Line::net(
                "Zmywarka Bryza 100",
                d("10"),
                d("120.50"),
                VatRate::ZeroExport,
            )
            .unit("szt."),
        )
        .line(Line::net(
            "Usługa poza krajem",
            d("1"),
            d("80"),
            VatRate::NpI,
        ))
        .line(Line::net("Usługa art. 28b", d("2"), d("50"), VatRate::NpII));
    let (f3, f2) = build_both("export-usd", &b);
    for inv in [&f3, &f2] {
        assert_eq!(inv.fa.p_13_6_3, some("1205.00"));
        assert_eq!(inv.fa.p_13_8, some("80"));
        assert_eq!(inv.fa.p_13_9, some("100"));
        assert_eq!(inv.fa.p_15, d("1385.00"));
        assert_eq!(taxed(inv), [(None, None); 4]);
        // np II services are reverse-charged by the buyer: P_18 derived as "yes"
        assert_eq!(inv.fa.adnotacje.p_18, Wybor12::Tak);
    }
    assert_eq!(f3.fa.fa_wiersz[1].p_12, Some(StawkaPodatku::NpI));
    assert_eq!(f3.fa.fa_wiersz[2].p_12, Some(StawkaPodatku::NpII));
    assert_eq!(f2.fa.fa_wiersz[2].p_12, Some(StawkaPodatku::Np));
}

#[test]
fn reverse_charge_margin_and_special_annotations() {
    let oo = InvoiceBuilder::vat(header("FV/OO/1"), seller(), company(), Method::FromNet)
        .line(Line::net("Złom stalowy", d("1.5"), d("1200"), VatRate::ReverseCharge).unit("t"))
        .annotations(Annotations::new().split_payment().cash_method());
    let (inv, _) = build_both("reverse-charge", &oo);
    assert_eq!(inv.fa.p_13_10, some("1800.0"));
    assert_eq!(inv.fa.p_15, d("1800"));
    assert_eq!(inv.fa.adnotacje.p_18, Wybor12::Tak);
    assert_eq!(inv.fa.adnotacje.p_18a, Wybor12::Tak);
    assert_eq!(inv.fa.adnotacje.p_16, Wybor12::Tak);

    // FA_3_Przyklad_08: a used car sold under the margin scheme: P_13_11 = 15 000, no tax
    let s = sample("fa3", "FA_3_Przyklad_08.xml");
    let margin = InvoiceBuilder::vat(
        header("FM2026/02/150"),
        seller(),
        company(),
        Method::FromGross,
    )
    .line(
        Line::gross(
            "samochód używany marki Autex rocznik 2010",
            d("1"),
            d("15000"),
            VatRate::Margin,
        )
        .unit("szt.")
        .gtu(Gtu::Gtu07),
    )
    .annotations(Annotations::new().margin(MarginScheme::SecondHandGoods));
    let (m3, m2) = build_both("margin-used-car", &margin);
    assert_eq!(totals(&m3), totals(&s));
    assert_eq!(m3.fa.adnotacje.p_marzy, s.fa.adnotacje.p_marzy);
    assert!(matches!(m2.fa.adnotacje.p_marzy, PMarzy::PPmarzy { .. }));
    assert_eq!(m3.fa.fa_wiersz[0].p_12, None);
    assert_eq!(m3.fa.fa_wiersz[0].p_11a, some("15000"));

    // a margin line and a taxed line computed from net (the margin line is still gross)
    let mixed = InvoiceBuilder::vat(header("FM/2"), seller(), company(), Method::FromNet)
        .line(Line::gross(
            "Wycieczka — usługi obce",
            d("1"),
            d("2000"),
            VatRate::Margin,
        ))
        .line(Line::net(
            "Wycieczka — usługa własna",
            d("1"),
            d("813.01"),
            VatRate::Rate23,
        ))
        .annotations(Annotations::new().margin(MarginScheme::TravelAgency));
    let (mx, _) = build_both("margin-travel", &mixed);
    assert_eq!(mx.fa.p_13_11, some("2000"));
    assert_eq!(taxed(&mx)[0], (some("813.01"), some("186.99")));
    assert_eq!(mx.fa.p_15, d("3000.00"));
}

#[test]
fn sale_period_and_several_due_dates() {
    let mut b = InvoiceBuilder::vat(header("FV/ABO/1"), seller(), company(), Method::FromNet)
        .line(Line::net(
            "Abonament serwisowy",
            d("1"),
            d("99.99"),
            VatRate::Rate23,
        ))
        .payment(
            Payment::due(date("2026-03-01"), FormaPlatnosci::Przelew)
                .and_due(date("2026-04-01"))
                .account(BankAccount::new("73111111111111111111111111").swift("BPKOPLPW")),
        );
    b.header = b.header.sale_period(date("2026-01-01"), date("2026-01-31"));
    let (inv, _) = build_both("sale-period", &b);
    assert!(matches!(inv.fa.p_6_wybor, Some(P6Wybor::OkresFa(_))));
    assert_eq!(inv.fa.platnosc.as_ref().unwrap().termin_platnosci.len(), 2);
    // 99.99 × 23 % = 22.9977 → 23.00
    assert_eq!(taxed(&inv)[0], (some("99.99"), some("23.00")));
}

// ---------------------------------------------------------------------------------------------
// Simplified invoices (UPR)

#[test]
fn simplified_invoice_official_samples_15_and_16() {
    let s15 = sample("fa3", "FA_3_Przyklad_15.xml");
    let s16 = sample("fa3", "FA_3_Przyklad_16.xml");
    let buyer = Buyer::new(BuyerId::Nip("1111111111".into()));
    let mut h = Header::new(
        "FV2026/02/150",
        date("2026-02-15"),
        at("2026-02-01T00:00:00Z"),
    );
    h = h.sale_date(date("2026-01-03")).system_info("SamploFaktur");
    let line = Line::gross("wiertarka Wiertex mk5", d("1"), d("450"), VatRate::Rate23);
    let per_rate = InvoiceBuilder::simplified(
        h.clone(),
        seller(),
        buyer.clone(),
        Method::FromGross,
        SimplifiedForm::PerRate,
    )
    .line(line.clone());
    let (p3, _) = build_both("upr-per-rate", &per_rate);
    assert_eq!(p3.fa.rodzaj_faktury, RodzajFaktury::Upr);
    assert_eq!(totals(&p3), totals(&s15)); // 365.85 + 84.15 = 450
    let total_only = InvoiceBuilder::simplified(
        h,
        seller(),
        buyer,
        Method::FromGross,
        SimplifiedForm::TotalOnly,
    )
    .line(line);
    let (t3, _) = build_both("upr-total-only", &total_only);
    assert_eq!(totals(&t3), totals(&s16)); // only P_15 = 450
    assert_eq!(t3.fa.fa_wiersz, s16.fa.fa_wiersz); // P_7 and P_12 only
    assert_eq!(t3.fa.p_6_wybor, s16.fa.p_6_wybor);
}

#[test]
fn simplified_invoice_rules() {
    let line = Line::gross("Wiertarka", d("1"), d("450.01"), VatRate::Rate23);
    let too_much = InvoiceBuilder::simplified(
        header("U/1"),
        seller(),
        company(),
        Method::FromGross,
        SimplifiedForm::PerRate,
    )
    .line(line.clone());
    let e = too_much.build(Fa3).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidBuilderInput, "kind")
    );
    let no_nip = InvoiceBuilder::simplified(
        header("U/2"),
        seller(),
        Buyer::consumer(),
        Method::FromGross,
        SimplifiedForm::PerRate,
    )
    .line(Line::gross("Wiertarka", d("1"), d("100"), VatRate::Rate23));
    let e = no_nip.build(Fa3).unwrap_err();
    assert_eq!(e.path(), "buyer.id");
    // two rates, total only: each line keeps its value so the tax can be worked out
    let two = InvoiceBuilder::simplified(
        header("U/3"),
        seller(),
        company(),
        Method::FromGross,
        SimplifiedForm::TotalOnly,
    )
    .line(Line::gross("Wiertarka", d("1"), d("300"), VatRate::Rate23))
    .line(Line::gross("Poradnik", d("1"), d("40"), VatRate::Rate5));
    let (inv, _) = build_both("upr-total-only-two-rates", &two);
    assert_eq!(inv.fa.p_15, d("340"));
    assert_eq!(inv.fa.fa_wiersz[1].p_11a, some("40"));
    assert_eq!(taxed(&inv), [(None, None); 4]);
}

// ---------------------------------------------------------------------------------------------
// Advance (ZAL) and settlement (ROZ) invoices

fn order_header(number: &str, issue: &str) -> Header {
    Header::new(number, date(issue), at("2026-02-01T00:00:00Z")).place("Warszawa")
}

#[test]
fn advance_invoice_official_sample_10() {
    // FA_3_Przyklad_10: order 300 000 + 5 000 net at 23 % (375 150 gross), advance 20 000:
    // tax 20 000 × 23 / 123 = 3739.84, net 16260.16.
    let s = sample("fa3", "FA_3_Przyklad_10.xml");
    let mut h = order_header("FZ2026/02/150", "2026-02-15");
    h = h.sale_date(date("2026-02-15"));
    let b = InvoiceBuilder::advance(h, seller(), company(), Method::FromNet, d("20000"))
        .line(
            Line::net("mieszkanie 50m^2", d("1"), d("300000"), VatRate::Rate23)
                .unit("szt.")
                .uu_id("aaaa111133339990"),
        )
        .line(
            Line::net("usługi dodatkowe", d("1"), d("5000"), VatRate::Rate23)
                .unit("szt.")
                .uu_id("aaaa111133339991"),
        )
        .payment(Payment::paid(date("2026-02-15"), FormaPlatnosci::Przelew));
    let (f3, f2) = build_both("zal-sample-10", &b);
    assert_eq!(totals(&f3), totals(&s));
    assert_eq!(f3.fa.zamowienie, s.fa.zamowienie); // 375 150, rows with P_11NettoZ/P_11VatZ
    assert!(f3.fa.fa_wiersz.is_empty());
    assert_eq!(f2.fa.rodzaj_faktury, RodzajFaktury::Zal);
    assert_eq!(f2.fa.p_15, d("20000"));
}

#[test]
fn advance_invoice_split_over_two_rates() {
    // The order after FA_3_Przyklad_11: 341 666.67 at 8 % (tax 27 333.33, gross 369 000)
    // and 5 000 at 23 % (gross 6 150). Advance 20 000 split 369 000 : 6 150 →
    // 19 672.13 (8 %: tax 1457.19, net 18 214.94) and 327.87 (23 %: tax 61.31, net 266.56).
    let b = InvoiceBuilder::advance(
        order_header("FZ/2", "2026-02-15"),
        seller(),
        company(),
        Method::FromNet,
        d("20000"),
    )
    .line(Line::net(
        "mieszkanie 50m^2",
        d("1"),
        d("341666.67"),
        VatRate::Rate8,
    ))
    .line(Line::net(
        "usługi dodatkowe",
        d("1"),
        d("5000"),
        VatRate::Rate23,
    ));
    let (inv, _) = build_both("zal-two-rates", &b);
    assert_eq!(taxed(&inv)[0], (some("266.56"), some("61.31")));
    assert_eq!(taxed(&inv)[1], (some("18214.94"), some("1457.19")));
    assert_eq!(inv.fa.p_15, d("20000"));
    assert_eq!(
        inv.fa.zamowienie.as_ref().unwrap().wartosc_zamowienia,
        d("375150")
    );
}

#[test]
fn advance_invoice_in_eur() {
    // order 10 000 EUR net at 23 % (12 300 gross); advance 1 230 EUR at 4.30 PLN/EUR:
    // tax 230.00 EUR, net 1000.00; tax in PLN 989.00; KursWalutyZ = 4.30.
    let b = InvoiceBuilder::advance(
        order_header("FZ/EUR/1", "2026-02-15"),
        seller(),
        company(),
        Method::FromNet,
        d("1230"),
    )
    .currency(KodWaluty::Eur, Some(d("4.30")))
    .line(Line::net(
        "Linia produkcyjna",
        d("1"),
        d("10000"),
        VatRate::Rate23,
    ));
    let (inv, _) = build_both("zal-eur", &b);
    assert_eq!(taxed(&inv)[0], (some("1000.00"), some("230.00")));
    assert_eq!(inv.fa.p_14_1w, some("989.00"));
    assert_eq!(inv.fa.kurs_waluty_z, some("4.30"));
}

fn settlement_lines(b: InvoiceBuilder) -> InvoiceBuilder {
    b.line(
        Line::net("mieszkanie 50m^2", d("1"), d("307500"), VatRate::Rate8)
            .unit("szt.")
            .gtu(Gtu::Gtu10),
    )
    .line(Line::net("usługi dodatkowe", d("1"), d("4500"), VatRate::Rate23).unit("szt."))
}

#[test]
fn settlement_invoice_official_sample_14() {
    // FA_3_Przyklad_14: order 307 500 at 8 % + 4 500 at 23 % = 337 635 gross, advances 30 000;
    // the remaining 307 635 split in proportion 332 100 : 5 535.
    let s = sample("fa3", "FA_3_Przyklad_14.xml");
    let b = settlement_lines(InvoiceBuilder::settlement(
        order_header("FV2026/08/12", "2026-08-17"),
        seller(),
        company(),
        Method::FromNet,
        vec![AdvanceInvoice::ksef(
            "9999999999-20230908-8BEF280C8D35-4D",
            d("30000"),
        )],
    ));
    let (f3, f2) = build_both("roz-sample-14", &b);
    assert_eq!(totals(&f3), totals(&s));
    assert_eq!(taxed(&f3)[0], (some("4100.16"), some("943.04")));
    assert_eq!(taxed(&f3)[1], (some("280177.59"), some("22414.21")));
    assert_eq!(f3.fa.faktura_zaliczkowa, s.fa.faktura_zaliczkowa);
    assert_eq!(f2.fa.rodzaj_faktury, RodzajFaktury::Roz);
    // the lines show the whole order
    assert_eq!(f3.fa.fa_wiersz[0].p_11, some("307500"));
}

#[test]
fn settlement_invoice_official_sample_17() {
    // FA_3_Przyklad_17 settles 300 000 (wrongly): the same split for advances of 37 635.
    let s = sample("fa3", "FA_3_Przyklad_17.xml");
    let b = settlement_lines(InvoiceBuilder::settlement(
        order_header("FV2026/08/12", "2026-08-17"),
        seller(),
        company(),
        Method::FromNet,
        vec![
            AdvanceInvoice::ksef("9999999999-20230908-8BEF280C8D35-4D", d("30000")),
            AdvanceInvoice::outside_ksef("FZ/2026/07/3", d("7635")),
        ],
    ));
    let (inv, _) = build_both("roz-sample-17", &b);
    assert_eq!(totals(&inv), totals(&s));
    assert_eq!(inv.fa.faktura_zaliczkowa.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Corrections

fn kor_header(schema: SchemaVersion) -> Header {
    match schema {
        Fa3 => Header::new(
            "FK2026/03/200",
            date("2026-03-15"),
            at("2026-02-01T00:00:00Z"),
        )
        .place("Warszawa")
        .system_info("SamploFaktur"),
        Fa2 => Header::new(
            "FK2022/03/200",
            date("2022-03-15"),
            at("2022-01-01T00:00:00Z"),
        )
        .place("Warszawa")
        .system_info("SamploFaktur"),
    }
}

fn fridge(price: &str) -> Line {
    Line::net("lodówka Zimnotech mk1", d("1"), d(price), VatRate::Rate23)
        .unit("szt.")
        .uu_id("aaaa111133339990")
}

const KSEF_NR: &str = "9999999999-20230908-8BEF280C8D35-4D";

#[test]
fn correction_reproduces_official_samples_02_and_03() {
    // From FA_3_Przyklad_01 (and FA_2_Przyklad_01): line 1 lowered from 1626.01 to 1463.41.
    // The builder reproduces FA_3_Przyklad_02 (before/after lines) and _03 (difference line)
    // exactly: totals −162.60 / −37.40, P_15 −200.
    for (kind, schema, p) in [
        ("fa3", Fa3, "FA_3_Przyklad_"),
        ("fa2", Fa2, "FA_2_Przyklad_"),
    ] {
        let original = sample(kind, &format!("{p}01.xml"));
        for (style, n) in [
            (CorrectionStyle::BeforeAfter, "02"),
            (CorrectionStyle::Difference, "03"),
        ] {
            let expected = sample(kind, &format!("{p}{n}.xml"));
            let k =
                CorrectionBuilder::new(&original, Some(KSEF_NR.into()), kor_header(schema), style)
                    .reason("obniżka ceny o 200 zł z uwagi na uszkodzenia estetyczne")
                    .effect(CorrectionEffect::OtherDate)
                    .replace_line(1, fridge("1463.41"));
            let inv = k
                .build(schema)
                .unwrap_or_else(|e| panic!("{kind} {n}: {e:?}"));
            emit_and_reparse(&format!("kor-sample-{n}"), &inv, schema);
            assert_eq!(inv.fa, expected.fa, "{kind} sample {n}: Fa");
            assert_eq!(inv, expected, "{kind} sample {n}");
        }
    }
}

#[test]
fn correction_with_line_changes_in_both_styles() {
    let original = sample("fa3", "FA_3_Przyklad_01.xml");
    for (style, name) in [
        (CorrectionStyle::BeforeAfter, "kor-changes-before-after"),
        (CorrectionStyle::Difference, "kor-changes-difference"),
    ] {
        // line 2 removed, line 3 moved from 5 % to 8 %, a new line added
        let k = CorrectionBuilder::new(&original, None, kor_header(Fa3), style)
            .reason("korekta pozycji")
            .remove_line(2)
            .replace_line(
                3,
                Line::net(
                    "promocja lodówka pełna mleka",
                    d("1"),
                    d("0.95"),
                    VatRate::Rate8,
                ),
            )
            .add_line(
                Line::net("przedłużona gwarancja", d("2"), d("50"), VatRate::Rate23).unit("szt."),
            );
        for schema in [Fa3, Fa2] {
            let inv = k.build(schema).unwrap();
            emit_and_reparse(name, &inv, schema);
            let fa = &inv.fa;
            assert_eq!(fa.rodzaj_faktury, RodzajFaktury::Kor);
            // issued outside KSeF: NrKSeFN
            assert!(matches!(
                fa.dane_fa_korygowanej[0].nr_ksef_wybor,
                ksef::model::NrKsefWybor::NrKsefN(Wybor1::Tak)
            ));
            // 23 %: before 1666.66 / 383.33, after 1626.01 + 100 = 1726.01 / 396.98
            // 8 %: after 0.95 / 0.08; 5 %: before 0.95 / 0.05, after nothing
            assert_eq!(
                taxed(&inv),
                [
                    (some("59.35"), some("13.65")),
                    (some("0.95"), some("0.08")),
                    (some("-0.95"), some("-0.05")),
                    (None, None)
                ]
            );
            assert_eq!(fa.p_15, d("73.03"));
        }
        let rows = k.build(Fa3).unwrap().fa.fa_wiersz;
        match style {
            CorrectionStyle::BeforeAfter => {
                // line 2: before + zero; line 3: before + after; new line 4
                let nrs: Vec<_> = rows
                    .iter()
                    .map(|r| (r.nr_wiersza_fa, r.stan_przed))
                    .collect();
                assert_eq!(
                    nrs,
                    [
                        (2, Some(Wybor1::Tak)),
                        (2, None),
                        (3, Some(Wybor1::Tak)),
                        (3, None),
                        (4, None)
                    ]
                );
                assert_eq!(rows[1].p_11, some("0"));
                assert_eq!(rows[3].p_12, Some(StawkaPodatku::R8));
            }
            _ => {
                // line 2 reversed; line 3 changes rate: reversal + new line; new line 4
                let vals: Vec<_> = rows
                    .iter()
                    .map(|r| (r.nr_wiersza_fa, r.p_8b, r.p_11))
                    .collect();
                assert_eq!(
                    vals,
                    [
                        (2, some("-1"), some("-40.65")),
                        (3, some("-1"), some("-0.95")),
                        (3, some("1"), some("0.95")),
                        (4, some("2"), some("100"))
                    ]
                );
                assert!(rows.iter().all(|r| r.stan_przed.is_none()));
            }
        }
    }
}

#[test]
fn correction_with_a_discount_on_the_whole_invoice() {
    let original = sample("fa3", "FA_3_Przyklad_01.xml");
    // 10 % off every line: 1626.01 → 1463.41 (cut 162.60), 40.65 → 36.59 (4.06),
    // 0.95 → 0.86 (0.09). 23 %: 1500.00 → tax 345.00; 5 %: 0.86 → 0.04.
    let k = CorrectionBuilder::new(
        &original,
        Some(KSEF_NR.into()),
        kor_header(Fa3),
        CorrectionStyle::BeforeAfter,
    )
    .reason("rabat 10 %")
    .effect(CorrectionEffect::CorrectionDate)
    .discount(WholeDiscount::Percent(d("10")));
    let inv = k.build(Fa3).unwrap();
    emit_and_reparse("kor-discount-percent", &inv, Fa3);
    emit_and_reparse("kor-discount-percent", &k.build(Fa2).unwrap(), Fa2);
    assert_eq!(
        taxed(&inv),
        [
            (some("-166.66"), some("-38.33")),
            (None, None),
            (some("-0.09"), some("-0.01")),
            (None, None)
        ]
    );
    assert_eq!(inv.fa.p_15, d("-205.09"));
    assert_eq!(inv.fa.fa_wiersz.len(), 6);
    assert_eq!(inv.fa.fa_wiersz[1].p_10, some("162.60"));
    assert_eq!(inv.fa.fa_wiersz[1].p_11, some("1463.41"));
    // an amount off, split over the lines in proportion: 100 net
    let k = CorrectionBuilder::new(
        &original,
        None,
        kor_header(Fa3),
        CorrectionStyle::Difference,
    )
    .discount(WholeDiscount::Amount(d("100")));
    let inv = k.build(Fa3).unwrap();
    emit_and_reparse("kor-discount-amount", &inv, Fa3);
    // shares of 100 over 1626.01 : 40.65 : 0.95 → 97.51, 2.44, 0.06 (rounded, exact sum 100)
    let cuts: Vec<_> = inv.fa.fa_wiersz.iter().map(|r| r.p_11).collect();
    assert_eq!(cuts, [some("-97.50"), some("-2.44"), some("-0.06")]);
    assert_eq!(inv.fa.p_13_1, some("-99.94"));
    assert_eq!(inv.fa.p_13_3, some("-0.06"));
    // 23 %: 1566.72 → 360.35 (was 383.33); 5 %: 0.89 → 0.04 (was 0.05)
    assert_eq!(inv.fa.p_14_1, some("-22.98"));
    assert_eq!(inv.fa.p_14_3, some("-0.01"));
    assert_eq!(inv.fa.p_15, d("-122.99"));
}

#[test]
fn correction_of_a_eur_invoice_converts_the_tax_difference() {
    // FA_3_Przyklad_20: 10 fridges → 9. 23 %: net 13560 → 13154, tax 3118.80 → 3025.42;
    // tax in PLN at the line's rate 4.5005 (inherited by the replacement line):
    // 3025.42 × 4.5005 = 13615.90 (was 14036.16) → −420.26.
    for (kind, schema, p) in [
        ("fa3", Fa3, "FA_3_Przyklad_"),
        ("fa2", Fa2, "FA_2_Przyklad_"),
    ] {
        let original = sample(kind, &format!("{p}20.xml"));
        let k = CorrectionBuilder::new(
            &original,
            Some(KSEF_NR.into()),
            kor_header(schema),
            CorrectionStyle::BeforeAfter,
        )
        .reason("zwrot 1 szt.")
        .replace_line(
            1,
            Line::net("lodówka Zimnotech mk1", d("9"), d("406"), VatRate::Rate23).unit("szt."),
        );
        let inv = k.build(schema).unwrap();
        emit_and_reparse("kor-eur", &inv, schema);
        assert_eq!(inv.fa.kod_waluty, KodWaluty::Eur);
        assert_eq!(taxed(&inv)[0], (some("-406"), some("-93.38")));
        assert_eq!(inv.fa.p_14_1w, some("-420.26"));
        assert_eq!(inv.fa.p_15, d("-499.38"));
        assert_eq!(inv.fa.fa_wiersz[1].kurs_waluty, some("4.5005"));
    }
}

#[test]
fn correction_to_zero() {
    // every line removed: the totals are the original's, negated. (FA_3_Przyklad_01 states
    // P_15 = 2051 while its P_13/P_14 add up to 2050.99; the correction's P_15 is the sum of
    // its own differences.)
    let original = sample("fa3", "FA_3_Przyklad_01.xml");
    let k = CorrectionBuilder::new(
        &original,
        Some(KSEF_NR.into()),
        kor_header(Fa3),
        CorrectionStyle::Difference,
    )
    .reason("faktura wystawiona omyłkowo")
    .effect(CorrectionEffect::OriginalDate)
    .remove_line(1)
    .remove_line(2)
    .remove_line(3);
    let inv = k.build(Fa3).unwrap();
    emit_and_reparse("kor-to-zero", &inv, Fa3);
    assert_eq!(
        taxed(&inv),
        [
            (some("-1666.66"), some("-383.33")),
            (None, None),
            (some("-0.95"), some("-0.05")),
            (None, None)
        ]
    );
    assert_eq!(inv.fa.p_15, d("-2050.99"));
    assert_eq!(inv.fa.fa_wiersz.len(), 3);
    assert!(inv
        .fa
        .fa_wiersz
        .iter()
        .all(|r| r.p_11.unwrap() < Decimal::ZERO));
}

#[test]
fn correction_of_an_fa2_invoice_written_as_fa3() {
    // An FA(2) WDT invoice says only "0"; its totals (P_13_6_2) tell that it is 0 % WDT, so
    // the FA(3) correction writes "0 WDT".
    let buyer = Buyer::eu_business(KodKrajuUe::De, "999999999", "EFG GmbH");
    let wdt = InvoiceBuilder::vat(header("FV/WDT/1"), seller(), buyer, Method::FromNet)
        .currency(KodWaluty::Eur, None)
        .line(Line::net("lodówka", d("10"), d("400"), VatRate::ZeroWdt).unit("szt."));
    let xml2 = xml::emit(&wdt.build(Fa2).unwrap(), Fa2).unwrap();
    let original = xml::parse(&xml2).unwrap().invoice;
    assert_eq!(original.fa.fa_wiersz[0].p_12, Some(StawkaPodatku::R0));
    let k = CorrectionBuilder::new(
        &original,
        None,
        header("FK/WDT/1"),
        CorrectionStyle::BeforeAfter,
    )
    .reason("zwrot 2 szt.")
    .replace_line(
        1,
        Line::net("lodówka", d("8"), d("400"), VatRate::ZeroWdt).unit("szt."),
    );
    let inv = k.build(Fa3).unwrap();
    emit_and_reparse("kor-fa2-original", &inv, Fa3);
    assert_eq!(inv.fa.p_13_6_2, some("-800"));
    assert_eq!(inv.fa.fa_wiersz[0].p_12, Some(StawkaPodatku::R0Wdt));
    assert_eq!(inv.fa.fa_wiersz[1].p_12, Some(StawkaPodatku::R0Wdt));
    assert!(inv.podmiot2.jst.is_some());

    // with two 0 % kinds the FA(2) code "0" is ambiguous: a typed error, not a guess
    let both = InvoiceBuilder::vat(header("FV/0/1"), seller(), company(), Method::FromNet)
        .line(Line::net("a", d("1"), d("1"), VatRate::Zero))
        .line(Line::net("b", d("1"), d("1"), VatRate::ZeroExport));
    let original = xml::parse(&xml::emit(&both.build(Fa2).unwrap(), Fa2).unwrap())
        .unwrap()
        .invoice;
    let k = CorrectionBuilder::new(
        &original,
        None,
        header("FK/0/1"),
        CorrectionStyle::BeforeAfter,
    )
    .remove_line(1);
    let e = k.build(Fa3).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidBuilderInput, "original.fa_wiersz[0]")
    );
}

#[test]
fn correction_of_a_margin_invoice() {
    // FA_3_Przyklad_08 (margin only): the price of the car is lowered by 500.
    let original = sample("fa3", "FA_3_Przyklad_08.xml");
    let k = CorrectionBuilder::new(
        &original,
        None,
        header("FK/M/1"),
        CorrectionStyle::Difference,
    )
    .reason("obniżka ceny")
    .replace_line(
        1,
        Line::gross(
            "samochód używany marki Autex rocznik 2010",
            d("1"),
            d("14500"),
            VatRate::Margin,
        )
        .unit("szt.")
        .gtu(Gtu::Gtu07),
    );
    for schema in [Fa3, Fa2] {
        let inv = k.build(schema).unwrap();
        emit_and_reparse("kor-margin", &inv, schema);
        assert_eq!(inv.fa.p_13_11, some("-500"));
        assert_eq!(inv.fa.p_15, d("-500"));
        assert_eq!(inv.fa.fa_wiersz[0].p_9b, some("-500"));
        assert_eq!(inv.fa.fa_wiersz[0].p_11a, some("-500"));
    }
}

#[test]
fn advance_correction_reproduces_official_sample_11() {
    // FA_3_Przyklad_11: the advance invoice of sample 10 had the wrong rate on line 1: it is
    // 341 666.67 at 8 %. The advance (20 000) stays; its tax is split anew.
    for (kind, schema, p) in [
        ("fa3", Fa3, "FA_3_Przyklad_"),
        ("fa2", Fa2, "FA_2_Przyklad_"),
    ] {
        let original = sample(kind, &format!("{p}10.xml"));
        let expected = sample(kind, &format!("{p}11.xml"));
        let (nr, issue) = match schema {
            Fa3 => ("FK2026/03/5", "2026-03-15"),
            Fa2 => ("FK2022/03/5", "2022-03-15"),
        };
        // the sample's header is the original's
        let mut h = Header::new(
            nr,
            date(issue),
            original.naglowek.data_wytworzenia_fa.clone(),
        )
        .place("Warszawa");
        h.system_info = original.naglowek.system_info.clone();
        let k = CorrectionBuilder::new(
            &original,
            Some(KSEF_NR.into()),
            h,
            CorrectionStyle::BeforeAfter,
        )
        .reason("błędna stawka VAT")
        .effect(CorrectionEffect::OtherDate)
        .method(Method::FromNet)
        .replace_line(
            1,
            Line::net("mieszkanie 50m^2", d("1"), d("341666.67"), VatRate::Rate8)
                .unit("szt.")
                .uu_id("aaaa111133339990"),
        );
        let inv = k.build(schema).unwrap_or_else(|e| panic!("{kind}: {e:?}"));
        emit_and_reparse("kor-zal-sample-11", &inv, schema);
        assert_eq!(inv.fa.rodzaj_faktury, RodzajFaktury::KorZal);
        assert_eq!(totals(&inv), totals(&expected), "{kind}");
        assert_eq!(inv.fa.zamowienie, expected.fa.zamowienie, "{kind}");
        assert_eq!(inv.fa.p_15zk, some("20000"));
        assert_eq!(inv, expected, "{kind}");
    }
}

#[test]
fn advance_correction_of_the_amount() {
    // FA_3_Przyklad_12 (described, no file): the advance was 30 000, not 20 000. On the
    // original order (23 % only) the difference is 10 000: tax 1869.92, net 8130.08.
    let original = sample("fa3", "FA_3_Przyklad_10.xml");
    let k = CorrectionBuilder::new(
        &original,
        Some(KSEF_NR.into()),
        kor_header(Fa3),
        CorrectionStyle::BeforeAfter,
    )
    .reason("zaniżona kwota zaliczki")
    .advance_amount(d("30000"));
    let inv = k.build(Fa3).unwrap();
    emit_and_reparse("kor-zal-amount", &inv, Fa3);
    emit_and_reparse("kor-zal-amount", &k.build(Fa2).unwrap(), Fa2);
    // after: 30 000 → tax 5609.76, net 24 390.24; before 3739.84 / 16 260.16
    assert_eq!(taxed(&inv)[0], (some("8130.08"), some("1869.92")));
    assert_eq!(inv.fa.p_15, d("10000"));
    // the unchanged order lines are confirmed before/after
    let z = inv.fa.zamowienie.as_ref().unwrap();
    assert_eq!(z.zamowienie_wiersz.len(), 4);
    assert_eq!(z.zamowienie_wiersz[0].stan_przed_z, Some(Wybor1::Tak));
    assert_eq!(z.zamowienie_wiersz[1].stan_przed_z, None);
}

#[test]
fn settlement_correction_of_official_sample_17() {
    // FA_3_Przyklad_17 settled 300 000 instead of 307 635 (advances were 30 000, not 37 635):
    // after = the totals of FA_3_Przyklad_14; the correction shows the differences.
    let original = sample("fa3", "FA_3_Przyklad_17.xml");
    let right = sample("fa3", "FA_3_Przyklad_14.xml");
    let h = Header::new(
        "FK2026/09/1",
        date("2026-09-01"),
        at("2026-09-01T08:00:00Z"),
    );
    let k = CorrectionBuilder::new(
        &original,
        Some(KSEF_NR.into()),
        h,
        CorrectionStyle::BeforeAfter,
    )
    .reason("błędna kwota pozostała do zapłaty")
    .advances_total(d("30000"));
    for schema in [Fa3, Fa2] {
        let inv = k.build(schema).unwrap();
        emit_and_reparse("kor-roz-sample-17", &inv, schema);
        let fa = &inv.fa;
        assert_eq!(fa.rodzaj_faktury, RodzajFaktury::KorRoz);
        let diff = |a: Option<Decimal>, b: Option<Decimal>| Some(a.unwrap() - b.unwrap());
        assert_eq!(fa.p_13_1, diff(right.fa.p_13_1, original.fa.p_13_1));
        assert_eq!(fa.p_14_2, diff(right.fa.p_14_2, original.fa.p_14_2));
        assert_eq!(
            taxed(&inv)[..2],
            [
                (some("101.76"), some("23.41")),
                (some("6953.54"), some("556.29"))
            ]
        );
        assert_eq!(fa.p_15, d("7635.00"));
        assert_eq!(fa.p_15zk, some("300000"));
        // the order did not change: both lines are confirmed before/after
        assert_eq!(fa.fa_wiersz.len(), 4);
        assert_eq!(fa.faktura_zaliczkowa, original.fa.faktura_zaliczkowa);
    }
}

// ---------------------------------------------------------------------------------------------
// Errors: typed, with the builder field and the reason

fn err(b: &InvoiceBuilder) -> ksef::Error {
    b.build(Fa3).expect_err("the builder should refuse this")
}

#[test]
fn bad_input_is_a_typed_error_naming_the_field() {
    let base = || InvoiceBuilder::vat(header("FV/E/1"), seller(), company(), Method::FromNet);
    let ok = Line::net("Towar", d("1"), d("10"), VatRate::Rate23);

    let e = err(&base().line(ok.clone()).line(ok.clone()).line(Line::net(
        "Towar",
        d("0"),
        d("10"),
        VatRate::Rate23,
    )));
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidBuilderInput, "lines[2].quantity")
    );
    assert!(e.message().contains("greater than zero"), "{e}");

    let e = err(&base().line(Line::gross("Towar", d("1"), d("10"), VatRate::Rate23)));
    assert_eq!(e.path(), "lines[0].unit_price");

    let e = err(&base().line(Line::net("Towar", d("1.0000001"), d("10"), VatRate::Rate23)));
    assert_eq!(e.path(), "lines[0].quantity");

    let e = err(&base().line(ok.clone().discount_percent(d("120"))));
    assert_eq!(e.path(), "lines[0].discount");

    let e = err(&base().line(ok.clone().discount_amount(d("10.01"))));
    assert_eq!(e.path(), "lines[0].discount");

    let e = err(&base().line(Line::net(" ", d("1"), d("10"), VatRate::Rate23)));
    assert_eq!(e.path(), "lines[0].name");

    let e = err(&base());
    assert_eq!(e.path(), "lines");

    let e = err(&base().line(Line::net("Szkolenie", d("1"), d("10"), VatRate::Exempt)));
    assert_eq!(e.path(), "annotations.exemption");

    let e = err(&base()
        .line(ok.clone())
        .annotations(Annotations::new().margin(MarginScheme::WorksOfArt)));
    assert_eq!(e.path(), "annotations.margin");

    let mut b = base().line(ok.clone());
    b.seller.nip = "1234567890".into();
    let e = err(&b);
    assert_eq!(e.path(), "seller.nip");

    let e = err(&InvoiceBuilder::vat(
        header("FV/E/2"),
        seller(),
        Buyer::eu_business(KodKrajuUe::De, "DE999999999", "EFG GmbH"),
        Method::FromNet,
    )
    .line(ok.clone()));
    assert_eq!(e.path(), "buyer.id");

    // EUR with tax but no exchange rate
    let e = err(&base()
        .currency(KodWaluty::Eur, None)
        .line(ok.clone())
        .line(ok.clone()));
    assert_eq!(e.path(), "lines[0].exchange_rate");
    let e = err(&base()
        .currency(KodWaluty::Pln, Some(d("4.3")))
        .line(ok.clone()));
    assert_eq!(e.path(), "exchange_rate");

    // FA(3) needs DataWytworzeniaFa from 2025-09-01
    let mut b = base().line(ok.clone());
    b.header.created_at = at("2025-08-31T23:59:59Z");
    assert_eq!(err(&b).path(), "header.created_at");
    assert!(b.build(Fa2).is_ok());

    let mut b = base().line(ok.clone());
    b.header = b.header.sale_period(date("2026-02-10"), date("2026-02-01"));
    assert_eq!(err(&b).path(), "header.sale");

    // advances
    let zal = InvoiceBuilder::advance(
        header("FZ/E"),
        seller(),
        company(),
        Method::FromNet,
        d("200"),
    )
    .line(Line::net("Towar", d("1"), d("100"), VatRate::Rate23));
    assert_eq!(err(&zal).path(), "kind.amount");
    let roz = InvoiceBuilder::settlement(
        header("FR/E"),
        seller(),
        company(),
        Method::FromNet,
        vec![AdvanceInvoice::outside_ksef("FZ/1", d("200"))],
    )
    .line(Line::net("Towar", d("1"), d("100"), VatRate::Rate23));
    assert_eq!(err(&roz).path(), "kind.advances");

    // corrections
    let original = sample("fa3", "FA_3_Przyklad_01.xml");
    let k = CorrectionBuilder::new(&original, None, header("K/1"), CorrectionStyle::BeforeAfter)
        .replace_line(9, ok.clone());
    let e = k.build(Fa3).unwrap_err();
    assert_eq!(e.path(), "changes[0]");
    let k = CorrectionBuilder::new(&original, None, header("K/1"), CorrectionStyle::BeforeAfter)
        .replace_line(1, Line::net("Towar", d("-1"), d("1"), VatRate::Rate23));
    assert_eq!(k.build(Fa3).unwrap_err().path(), "changes[0].line.quantity");
    let k = CorrectionBuilder::new(&original, None, header("K/1"), CorrectionStyle::BeforeAfter)
        .advance_amount(d("1"));
    assert_eq!(k.build(Fa3).unwrap_err().path(), "advance_amount");
    let kor = sample("fa3", "FA_3_Przyklad_02.xml");
    let k = CorrectionBuilder::new(&kor, None, header("K/1"), CorrectionStyle::BeforeAfter);
    assert_eq!(k.build(Fa3).unwrap_err().path(), "original");
}

#[test]
fn overflow_is_a_typed_error() {
    let b = InvoiceBuilder::vat(header("FV/O/1"), seller(), company(), Method::FromNet).line(
        Line::net(
            "Towar",
            d("9999999999999999"),
            d("99999999999999.99999999"),
            VatRate::Rate23,
        ),
    );
    let e = err(&b);
    assert_eq!(e.code(), ErrorCode::ArithmeticOverflow);
    assert_eq!(e.path(), "lines[0].unit_price");
    // fits the decimal range, but not the 16 digits of an XSD amount
    let b = InvoiceBuilder::vat(header("FV/O/2"), seller(), company(), Method::FromNet).line(
        Line::net("Towar", d("1000000"), d("99999999999.99"), VatRate::Rate23),
    );
    let e = err(&b);
    assert_eq!(e.code(), ErrorCode::ArithmeticOverflow);
}
