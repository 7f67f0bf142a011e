//! Business validation: every official sample is valid; mutated samples report the exact rule
//! and element path.

mod common;

use ksef::id::Nip;
use ksef::model::{
    Date, Decimal, DoZaplatyWybor, KodWaluty, OkresFa, P6Wybor, PMarzy, RodzajFaktury,
    SchemaVersion, StawkaPodatku, Wybor1, Wybor12, ZaliczkaCzesciowa, Zwolnienie,
};
use ksef::validate::{validate, Issue, Options, Report, Rule, Severity};
use ksef::{xml, ErrorCode, Faktura};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn load_path(path: &std::path::Path) -> (Faktura, SchemaVersion) {
    let bytes = std::fs::read(path).unwrap();
    let parsed = xml::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (parsed.invoice, parsed.schema)
}

/// An official sample, e.g. `sample("fa3/FA_3_Przyklad_01.xml")`.
fn sample(name: &str) -> (Faktura, SchemaVersion) {
    load_path(&common::spec_dir().join("samples").join(name))
}

fn check(inv: &Faktura, schema: SchemaVersion) -> Report {
    validate(inv, schema, &Options::new())
}

/// The issue of `rule` at `path`, or a panic listing the whole report.
fn find<'r>(report: &'r Report, rule: Rule, path: &str) -> &'r Issue {
    report
        .issues
        .iter()
        .find(|i| i.rule == rule && i.path == path)
        .unwrap_or_else(|| panic!("no {rule} issue at {path}; report:\n{report}"))
}

fn assert_error(report: &Report, rule: Rule, path: &str) -> String {
    let i = find(report, rule, path);
    assert_eq!(i.severity, Severity::Error, "{i}");
    assert!(!report.is_valid());
    i.message.clone()
}

fn assert_warning(report: &Report, rule: Rule, path: &str) -> String {
    let i = find(report, rule, path);
    assert_eq!(i.severity, Severity::Warning, "{i}");
    i.message.clone()
}

/// The errors as (rule, path), for exact comparisons.
fn errors(report: &Report) -> Vec<(Rule, &str)> {
    report.errors().map(|i| (i.rule, i.path.as_str())).collect()
}

fn samples_valid(kind: &str) {
    let mut bad = Vec::new();
    for path in common::samples(kind) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (inv, schema) = load_path(&path);
        let report = check(&inv, schema);
        for i in &report.issues {
            eprintln!("{name}: {i}");
        }
        bad.extend(report.errors().map(|i| format!("{name}: {i}")));
        assert!(report.clone().into_result().is_ok(), "{name}");
        // the issue date is not in the future on the day of issue
        let today = Options::new().with_today(inv.fa.p_1);
        assert!(validate(&inv, schema, &today).is_valid(), "{name}");
    }
    assert!(
        bad.is_empty(),
        "errors on official samples:\n{}",
        bad.join("\n")
    );
}

#[test]
fn fa3_samples_are_valid() {
    samples_valid("fa3");
}

#[test]
fn fa2_samples_are_valid() {
    samples_valid("fa2");
}

#[test]
fn nip_test_vectors_from_the_spec_file() {
    let path = common::spec_dir().join("test-vectors/ksef-test-vectors.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = json["nip"]["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 8);
    for v in vectors {
        let nip = v["nip"].as_str().unwrap();
        let valid = v["valid"].as_bool().unwrap();
        assert_eq!(Nip::parse(nip).is_ok(), valid, "{nip}");
    }
}

// ---- parties ----

#[test]
fn wrong_nip_checksum_is_reported_where_it_is() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.podmiot1.dane_identyfikacyjne.nip = "9999999998".into();
    let r = check(&inv, schema);
    let msg = assert_error(
        &r,
        Rule::NipChecksum,
        "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP",
    );
    assert!(msg.contains("check digit"), "{msg}");
    assert_eq!(
        errors(&r),
        [(
            Rule::NipChecksum,
            "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP"
        )]
    );

    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.podmiot2.dane_identyfikacyjne.nip_wybor = ksef::model::NipWybor::Nip("1111111112".into());
    let r = check(&inv, schema);
    assert_error(
        &r,
        Rule::NipChecksum,
        "Faktura/Podmiot2/DaneIdentyfikacyjne/NIP",
    );

    // Podmiot3 (sample 04 has one; add a second), by NIP and by internal id
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_04.xml");
    use ksef::model::DaneIdentyfikacyjnePodmiot3NipWybor as P3;
    inv.podmiot3.push(inv.podmiot3[0].clone());
    assert!(check(&inv, schema).is_valid());
    inv.podmiot3[1].dane_identyfikacyjne.nip_wybor = P3::Nip("2222222223".into());
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(
            Rule::NipChecksum,
            "Faktura/Podmiot3[2]/DaneIdentyfikacyjne/NIP"
        )]
    );
    inv.podmiot3[1].dane_identyfikacyjne.nip_wybor = P3::IdWew("2222222223-00001".into());
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(
            Rule::NipChecksum,
            "Faktura/Podmiot3[2]/DaneIdentyfikacyjne/IDWew"
        )]
    );
    inv.podmiot3[1].dane_identyfikacyjne.nip_wybor = P3::IdWew("2222222222-00001".into());
    assert!(check(&inv, schema).is_valid());

    // the carrier in WarunkiTransakcji/Transport
    let transport = &mut inv.fa.warunki_transakcji.as_mut().unwrap().transport[0];
    transport
        .przewoznik
        .as_mut()
        .unwrap()
        .dane_identyfikacyjne
        .nip_wybor = ksef::model::NipWybor::Nip("6666666667".into());
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(
            Rule::NipChecksum,
            "Faktura/Fa/WarunkiTransakcji/Transport[1]/Przewoznik/DaneIdentyfikacyjne/NIP"
        )]
    );

    // correction data: Podmiot2K
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_05.xml");
    inv.fa.podmiot2k[0].dane_identyfikacyjne.nip_wybor =
        ksef::model::NipWybor::Nip("1111111112".into());
    let r = check(&inv, schema);
    assert_error(
        &r,
        Rule::NipChecksum,
        "Faktura/Fa/Podmiot2K[1]/DaneIdentyfikacyjne/NIP",
    );
}

// ---- totals ----

#[test]
fn p15_off_by_one() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.p_15 += d("1.00");
    let r = check(&inv, schema);
    assert_eq!(errors(&r), [(Rule::TotalDue, "Faktura/Fa/P_15")]);
    let e = r.into_result().unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);
    assert_eq!(e.path(), "Faktura/Fa/P_15");
    assert!(e.message().contains("1 error"), "{e}");
    assert!(e.message().contains("total_due"), "{e}");
}

#[test]
fn p15_rounding_within_tolerance_is_accepted() {
    // Sample 01 itself: P_15 2051 vs 2050.99 (gross prices summed per line).
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    assert!(check(&inv, schema).is_valid());
    // three lines: up to 0.03
    inv.fa.p_15 = d("2051.02");
    assert!(check(&inv, schema).is_valid());
    inv.fa.p_15 = d("2051.03");
    assert_eq!(
        errors(&check(&inv, schema)),
        [(Rule::TotalDue, "Faktura/Fa/P_15")]
    );
    // a larger tolerance accepts it
    let lax = Options::new().with_tolerance(d("0.02"));
    assert!(validate(&inv, schema, &lax).is_valid());
}

#[test]
fn line_net_off() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.fa_wiersz[0].p_11 = Some(d("1627.01"));
    let r = check(&inv, schema);
    let msg = assert_warning(&r, Rule::LineValue, "Faktura/Fa/FaWiersz[1]/P_11");
    assert!(msg.contains("1626.01"), "{msg}");
    let msg = assert_error(&r, Rule::BucketTotal, "Faktura/Fa/P_13_1");
    assert!(msg.contains("1667.66") && msg.contains("1666.66"), "{msg}");
    assert_eq!(errors(&r), [(Rule::BucketTotal, "Faktura/Fa/P_13_1")]);
}

#[test]
fn line_value_accepts_a_per_unit_discount() {
    // Sample 04 line 2: 20 × 1000, P_10 = 100, P_11 = 18000 (discount per unit).
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_04.xml");
    assert_eq!(check(&inv, schema).warnings().count(), 1); // DataWytworzeniaFa only
                                                           // a discount on the line total: 20 × 1000 − 100 = 19900
    let w = &mut inv.fa.fa_wiersz[1];
    w.p_11 = Some(d("19900"));
    let r = check(&inv, schema);
    assert!(r.of_rule(Rule::LineValue).next().is_none(), "{r}");
    // neither reading
    inv.fa.fa_wiersz[1].p_11 = Some(d("19000"));
    let r = check(&inv, schema);
    assert_warning(&r, Rule::LineValue, "Faktura/Fa/FaWiersz[2]/P_11");
}

#[test]
fn gross_lines_are_compared_with_net_plus_tax() {
    // Sample 19: a 23% line with gross value 1000 = P_13_1 813 + P_14_1 187.
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_19.xml");
    inv.fa.fa_wiersz[1].p_11a = Some(d("1010"));
    let r = check(&inv, schema);
    assert_warning(&r, Rule::LineValue, "Faktura/Fa/FaWiersz[2]/P_11A");
    let msg = assert_error(&r, Rule::BucketTotal, "Faktura/Fa/P_13_1");
    assert!(msg.contains("P_13_1 + P_14_1"), "{msg}");
}

#[test]
fn correction_lines_before_count_negative() {
    // Sample 02: before 1626.01 (StanPrzed), after 1463.41 → P_13_1 = −162.60.
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_02.xml");
    assert!(check(&inv, schema).is_valid());
    inv.fa.fa_wiersz[1].p_11 = Some(d("1463.51"));
    let r = check(&inv, schema);
    assert_error(&r, Rule::BucketTotal, "Faktura/Fa/P_13_1");
}

#[test]
fn missing_p12() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.fa_wiersz[2].p_12 = None;
    let r = check(&inv, schema);
    let msg = assert_error(&r, Rule::RateMissing, "Faktura/Fa/FaWiersz[3]/P_12");
    assert!(msg.contains("UPR"), "{msg}");
    // the bucket of an unrated line is unknown: no cascade of total errors
    assert_eq!(
        errors(&r),
        [(Rule::RateMissing, "Faktura/Fa/FaWiersz[3]/P_12")]
    );
    // a simplified invoice may leave it out
    inv.fa.rodzaj_faktury = RodzajFaktury::Upr;
    assert!(check(&inv, schema).is_valid(), "{}", check(&inv, schema));
    // so may the margin procedure: sample 08 line 1 has none
    let (inv, schema) = sample("fa3/FA_3_Przyklad_08.xml");
    assert!(inv.fa.fa_wiersz[0].p_12.is_none());
    assert!(check(&inv, schema).is_valid());
    // and exempt supplies (then it counts in P_13_7)
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_09.xml");
    inv.fa.fa_wiersz[1].p_12 = None;
    assert!(check(&inv, schema).is_valid());
    inv.fa.p_13_7 = Some(d("301"));
    inv.fa.p_15 += d("1");
    assert_eq!(
        errors(&check(&inv, schema)),
        [(Rule::BucketTotal, "Faktura/Fa/P_13_7")]
    );
    // with both the margin procedure and an exemption declared the bucket is unknown:
    // no error for the rate, no bucket comparison
    inv.fa.adnotacje.p_marzy = PMarzy::PPmarzy {
        p_pmarzy: Wybor1::Tak,
        p_pmarzy_2_wybor: ksef::model::PPmarzy2Wybor::PPmarzy31(Wybor1::Tak),
    };
    assert!(check(&inv, schema).is_valid(), "{}", check(&inv, schema));
}

#[test]
fn wrong_bucket() {
    // Sample 22: one WDT line in P_13_6_2; call it an export.
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_22.xml");
    inv.fa.fa_wiersz[0].p_12 = Some(StawkaPodatku::R0Ex);
    let r = check(&inv, schema);
    let msg = assert_error(&r, Rule::RateBucket, "Faktura/Fa/FaWiersz[1]/P_12");
    assert!(msg.contains("P_13_6_3"), "{msg}");
    assert_error(&r, Rule::BucketTotal, "Faktura/Fa/P_13_6_2");
    assert_eq!(r.errors().count(), 2, "{r}");
    // moved to the right total, it is valid
    inv.fa.p_13_6_3 = inv.fa.p_13_6_2.take();
    assert!(check(&inv, schema).is_valid());
}

#[test]
fn tax_amount_and_total() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.p_14_1 = Some(d("384.33"));
    let r = check(&inv, schema);
    let msg = assert_error(&r, Rule::TaxAmount, "Faktura/Fa/P_14_1");
    assert!(msg.contains("383.33"), "{msg}");
    assert_error(&r, Rule::TotalDue, "Faktura/Fa/P_15");
    assert_eq!(r.errors().count(), 2, "{r}");
}

#[test]
fn advance_invoice_tax_from_gross() {
    // Sample 11 (KOR_ZAL): P_14_2 1457.19 is the tax in 19672.13 gross, not 8% of the net.
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_11.xml");
    assert!(check(&inv, schema).is_valid());
    inv.fa.p_14_2 = Some(d("1457.25"));
    inv.fa.p_15 += d("0.06");
    let r = check(&inv, schema);
    assert_eq!(errors(&r), [(Rule::TaxAmount, "Faktura/Fa/P_14_2")]);
}

#[test]
fn foreign_currency_tax_in_pln() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_20.xml");
    assert_eq!(inv.fa.kod_waluty, KodWaluty::Eur);
    let w = inv.fa.p_14_1w.take();
    let r = check(&inv, schema);
    assert_eq!(errors(&r), [(Rule::TaxInPln, "Faktura/Fa/P_14_1W")]);
    inv.fa.p_14_1w = w.map(|x| x + d("1"));
    let r = check(&inv, schema);
    let msg = assert_error(&r, Rule::TaxInPln, "Faktura/Fa/P_14_1W");
    assert!(msg.contains("4.5005") && msg.contains("14036.16"), "{msg}");
    // in PLN the field is out of place
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.p_14_1w = inv.fa.p_14_1;
    let r = check(&inv, schema);
    assert!(r.is_valid());
    assert_warning(&r, Rule::TaxInPln, "Faktura/Fa/P_14_1W");
}

#[test]
fn settlement_amounts() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_04.xml");
    let roz = inv.fa.rozliczenie.as_mut().unwrap();
    roz.do_zaplaty_wybor = Some(DoZaplatyWybor::DoZaplaty(d("64279.92")));
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(Rule::Settlement, "Faktura/Fa/Rozliczenie/DoZaplaty")]
    );
    let roz = inv.fa.rozliczenie.as_mut().unwrap();
    roz.do_zaplaty_wybor = Some(DoZaplatyWybor::DoZaplaty(d("63279.92")));
    roz.suma_odliczen = Some(d("999"));
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(Rule::Settlement, "Faktura/Fa/Rozliczenie/SumaOdliczen")]
    );
}

#[test]
fn advance_invoice_order_and_payments() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_10.xml");
    inv.fa.zamowienie.as_mut().unwrap().wartosc_zamowienia += d("1");
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(Rule::OrderTotal, "Faktura/Fa/Zamowienie/WartoscZamowienia")]
    );

    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_10.xml");
    let part = |amount: &str| ZaliczkaCzesciowa {
        p_6z: date("2026-02-10"),
        p_15z: d(amount),
        kurs_waluty_zw: None,
    };
    inv.fa.zaliczka_czesciowa = vec![part("15000"), part("5000")];
    assert!(check(&inv, schema).is_valid());
    inv.fa.zaliczka_czesciowa[1].p_15z = d("4000");
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(Rule::PartialPayments, "Faktura/Fa/ZaliczkaCzesciowa")]
    );
}

// ---- rate codes vs annotations ----

#[test]
fn exemption_needs_its_basis() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_09.xml");
    inv.fa.adnotacje.zwolnienie = Zwolnienie::P19n(Wybor1::Tak);
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(
            Rule::ExemptionBasis,
            "Faktura/Fa/Adnotacje/Zwolnienie/P_19N"
        )]
    );
}

#[test]
fn reverse_charge_needs_p18() {
    // Sample 01 with its 5% line turned into domestic reverse charge.
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.fa_wiersz[2].p_12 = Some(StawkaPodatku::Oo);
    inv.fa.p_13_10 = inv.fa.p_13_3.take();
    inv.fa.p_14_3 = None;
    inv.fa.p_15 = d("2050.94");
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(Rule::ReverseCharge, "Faktura/Fa/Adnotacje/P_18")]
    );
    inv.fa.adnotacje.p_18 = Wybor12::Tak;
    assert!(check(&inv, schema).is_valid());
}

#[test]
fn margin_sales_need_the_margin_annotation() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_08.xml");
    inv.fa.adnotacje.p_marzy = PMarzy::PPmarzyN(Wybor1::Tak);
    let r = check(&inv, schema);
    assert_error(
        &r,
        Rule::MarginProcedure,
        "Faktura/Fa/Adnotacje/PMarzy/P_PMarzyN",
    );
    // without the margin procedure the line's missing rate is an error too
    assert_error(&r, Rule::RateMissing, "Faktura/Fa/FaWiersz[1]/P_12");
}

#[test]
fn fa3_only_rate_code_in_fa2_invoice() {
    let (mut inv, schema) = sample("fa2/FA_2_Przyklad_01.xml");
    assert_eq!(schema, SchemaVersion::Fa2);
    inv.fa.fa_wiersz[2].p_12 = Some(StawkaPodatku::R0Kr);
    inv.fa.p_13_6_1 = inv.fa.p_13_3.take();
    inv.fa.p_14_3 = None;
    inv.fa.p_15 = d("2050.94");
    let r = check(&inv, schema);
    let first = &r.issues[0];
    assert_eq!(
        (first.rule, first.path.as_str(), first.severity),
        (Rule::Schema, "Faktura/Fa/FaWiersz[3]/P_12", Severity::Error)
    );
    assert!(first.message.contains("0 KR"), "{first}");
    assert_eq!(errors(&r), [(Rule::Schema, "Faktura/Fa/FaWiersz[3]/P_12")]);
    // the same invoice is fine as FA(3)
    assert!(check(&inv, SchemaVersion::Fa3)
        .errors()
        .all(|i| i.rule != Rule::Schema || !i.path.ends_with("P_12")));
}

#[test]
fn fa2_zero_and_np_rates_cover_their_fa3_buckets() {
    // FA(2) "0" is P_13_6_1..3 together.
    let (mut inv, schema) = sample("fa2/FA_2_Przyklad_01.xml");
    inv.fa.fa_wiersz[2].p_12 = Some(StawkaPodatku::R0);
    inv.fa.p_13_6_2 = inv.fa.p_13_3.take();
    inv.fa.p_14_3 = None;
    inv.fa.p_15 = d("2050.94");
    assert!(check(&inv, schema).is_valid(), "{}", check(&inv, schema));
}

// ---- dates ----

#[test]
fn future_issue_date() {
    let (inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    assert_eq!(inv.fa.p_1, date("2026-02-15"));
    let r = validate(&inv, schema, &Options::new().with_today(date("2026-02-14")));
    let msg = assert_error(&r, Rule::FutureIssueDate, "Faktura/Fa/P_1");
    assert!(msg.contains("2026-02-14"), "{msg}");
    assert_eq!(errors(&r), [(Rule::FutureIssueDate, "Faktura/Fa/P_1")]);
    let r = validate(&inv, schema, &Options::new().with_today(date("2026-02-15")));
    assert!(r.is_valid());
    // without today the check is skipped
    assert!(check(&inv, schema).is_valid());
}

#[test]
fn period_and_creation_dates() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_24.xml");
    inv.fa.p_6_wybor = Some(P6Wybor::OkresFa(OkresFa {
        p_6_od: date("2026-02-28"),
        p_6_do: date("2026-01-01"),
    }));
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(Rule::PeriodOrder, "Faktura/Fa/OkresFa/P_6_Do")]
    );

    let (inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    let r = check(&inv, schema);
    assert!(r.is_valid());
    assert_warning(
        &r,
        Rule::CreatedBeforeIssue,
        "Faktura/Naglowek/DataWytworzeniaFa",
    );

    // 22:30 UTC the day before is already the issue day in Poland (summer time)
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.naglowek.data_wytworzenia_fa = "2026-02-14T22:30:00Z".parse().unwrap();
    assert!(check(&inv, schema).warnings().next().is_none());

    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.p_6_wybor = Some(P6Wybor::P6(date("2026-05-01")));
    let r = check(&inv, schema);
    assert_warning(&r, Rule::IssuedTooEarly, "Faktura/Fa/P_1");

    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_02.xml");
    inv.fa.dane_fa_korygowanej[0].data_wyst_fa_korygowanej = date("2026-04-01");
    let r = check(&inv, schema);
    assert_warning(
        &r,
        Rule::CorrectedInvoiceDate,
        "Faktura/Fa/DaneFaKorygowanej[1]/DataWystFaKorygowanej",
    );
}

// ---- fields per kind ----

#[test]
fn kor_without_dane_fa_korygowanej() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_02.xml");
    inv.fa.dane_fa_korygowanej.clear();
    let r = check(&inv, schema);
    let msg = assert_error(
        &r,
        Rule::CorrectedInvoiceMissing,
        "Faktura/Fa/DaneFaKorygowanej",
    );
    assert!(msg.contains("KOR"), "{msg}");
    // with no other correction data the XSD check does not notice
    inv.fa.przyczyna_korekty = None;
    inv.fa.typ_korekty = None;
    let r = check(&inv, schema);
    assert_eq!(
        errors(&r),
        [(
            Rule::CorrectedInvoiceMissing,
            "Faktura/Fa/DaneFaKorygowanej"
        )]
    );
}

#[test]
fn required_fields_per_kind() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_14.xml");
    assert_eq!(inv.fa.rodzaj_faktury, RodzajFaktury::Roz);
    inv.fa.faktura_zaliczkowa.clear();
    assert_eq!(
        errors(&check(&inv, schema)),
        [(Rule::AdvanceInvoiceMissing, "Faktura/Fa/FakturaZaliczkowa")]
    );

    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_10.xml");
    assert_eq!(inv.fa.rodzaj_faktury, RodzajFaktury::Zal);
    inv.fa.zamowienie = None;
    assert_eq!(
        errors(&check(&inv, schema)),
        [(Rule::OrderMissing, "Faktura/Fa/Zamowienie")]
    );

    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.fa_wiersz.clear();
    let r = check(&inv, schema);
    assert_error(&r, Rule::LinesMissing, "Faktura/Fa/FaWiersz");

    // correction data on a VAT invoice (a complete block, so that the XSD check passes)
    let (kor, _) = sample("fa3/FA_3_Przyklad_02.xml");
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    inv.fa.przyczyna_korekty = kor.fa.przyczyna_korekty;
    inv.fa.dane_fa_korygowanej = kor.fa.dane_fa_korygowanej;
    let r = check(&inv, schema);
    assert!(r.is_valid(), "{r}");
    assert_warning(&r, Rule::NotACorrection, "Faktura/Fa/PrzyczynaKorekty");
    assert_warning(&r, Rule::NotACorrection, "Faktura/Fa/DaneFaKorygowanej");

    // KOR_ZAL without P_15ZK
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_11.xml");
    inv.fa.p_15zk = None;
    let r = check(&inv, schema);
    assert_warning(&r, Rule::BeforeCorrectionAmount, "Faktura/Fa/P_15ZK");
}

// ---- API ----

#[test]
fn rule_codes_are_unique_and_round_trip() {
    let mut seen = std::collections::HashSet::new();
    for &rule in Rule::ALL {
        assert!(seen.insert(rule.code()), "duplicate code {}", rule.code());
        assert_eq!(Rule::from_code(rule.code()), Some(rule));
        assert!(!rule.description().is_empty());
        assert!(rule
            .code()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_'));
    }
    assert_eq!(Rule::from_code("nope"), None);
}

#[test]
fn report_api() {
    let (inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    let r = check(&inv, schema);
    assert!(r.is_valid());
    assert_eq!(r.errors().count(), 0);
    assert_eq!(r.warnings().count(), 1);
    let ok = r.clone().into_result().unwrap();
    assert_eq!(ok, r);
    assert!(r.to_string().starts_with("warning [created_before_issue] "));

    let mut bad = inv.clone();
    bad.podmiot1.dane_identyfikacyjne.nip = "9999999998".into();
    bad.fa.p_15 += d("5");
    let e = check(&bad, schema).into_result().unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);
    assert_eq!(e.path(), "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP");
    assert!(
        e.message()
            .starts_with("invoice validation failed: 2 errors, 1 warning; first: [nip_checksum]"),
        "{e}"
    );
}

#[test]
fn huge_amounts_do_not_panic() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_20.xml");
    let max = Decimal::MAX;
    inv.fa.p_13_1 = Some(max);
    inv.fa.p_14_1 = Some(max);
    inv.fa.p_14_1w = Some(max);
    inv.fa.p_15 = -max;
    for w in &mut inv.fa.fa_wiersz {
        w.p_8b = Some(max);
        w.p_9a = Some(max);
        w.p_10 = Some(-max);
        w.p_11 = Some(max);
        w.kurs_waluty = Some(max);
    }
    let r = check(&inv, schema);
    assert!(!r.is_valid());
    assert!(r.of_rule(Rule::AmountOverflow).next().is_some(), "{r}");
    // and tiny tolerances, negative ones
    let r = validate(&inv, schema, &Options::new().with_tolerance(-max));
    assert!(!r.is_valid());
}

#[test]
fn default_invoice_does_not_panic() {
    for schema in SchemaVersion::ALL {
        let r = check(&Faktura::default(), schema);
        assert!(!r.is_valid());
        assert_eq!(r.issues[0].rule, Rule::Schema);
    }
}

/// The JSON form of a report lists every issue with its code, severity, path and message.
#[test]
fn report_json_form() {
    let (mut inv, schema) = sample("fa3/FA_3_Przyklad_01.xml");
    let clean = check(&inv, schema);
    let ok = clean.to_json_value();
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["errors"], 0);
    assert_eq!(
        ok["issues"].as_array().map(Vec::len),
        Some(clean.issues.len())
    );
    inv.fa.p_15 += Decimal::ONE;
    let report = check(&inv, schema);
    let v = report.to_json_value();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], report.errors().count());
    assert_eq!(v["warnings"], report.warnings().count());
    let issues = v["issues"].as_array().unwrap();
    assert_eq!(issues.len(), report.issues.len());
    let total = issues
        .iter()
        .find(|i| i["code"] == "total_due")
        .expect("total_due issue");
    assert_eq!(total["path"], "Faktura/Fa/P_15");
    assert_eq!(total["severity"], "error");
    assert!(total["message"].as_str().unwrap().contains("P_15"));
}
