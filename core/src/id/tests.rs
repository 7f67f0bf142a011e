use alloc::string::ToString;

use super::*;
use crate::model::KodKrajuUe;
use crate::ErrorCode;

/// `test-vectors/ksef-test-vectors.json#nip.vectors` (also checked against the file itself by
/// `core/tests/validate.rs`).
const NIP_VECTORS: &[(&str, bool)] = &[
    ("5265877635", true),
    ("9999999999", true),
    ("1111111111", true),
    ("2222222222", true),
    ("5555555555", true),
    ("1234567890", false),
    ("5260215591", true),
    ("7309436499", false),
];

#[test]
fn nip_test_vectors() {
    for &(text, valid) in NIP_VECTORS {
        let r = Nip::parse(text);
        assert_eq!(r.is_ok(), valid, "{text}: {r:?}");
        if let Ok(nip) = r {
            assert_eq!(nip.as_str(), text);
            assert_eq!(nip.to_string(), text);
            assert_eq!(text.parse::<Nip>(), Ok(nip));
        }
    }
}

#[test]
fn nip_errors_say_where_and_why() {
    assert_eq!(Nip::parse(""), Err(IdError::Empty { kind: IdKind::Nip }));
    assert_eq!(
        Nip::parse("526587763"),
        Err(IdError::Length {
            kind: IdKind::Nip,
            expected: "10 digits",
            found: 9
        })
    );
    assert_eq!(
        Nip::parse("52658776350").unwrap_err().to_string(),
        "NIP: expected 10 digits, found 11"
    );
    assert_eq!(
        Nip::parse("526x877635"),
        Err(IdError::Char {
            kind: IdKind::Nip,
            position: 3,
            found: 'x',
            expected: "a digit"
        })
    );
    assert_eq!(Nip::parse("0265877635").unwrap_err().position(), Some(0));
    assert!(matches!(
        Nip::parse("1003456789"),
        Err(IdError::Pattern { position: 1, .. })
    ));
    assert_eq!(
        Nip::parse("5265877636"),
        Err(IdError::Checksum {
            kind: IdKind::Nip,
            position: 9,
            expected: 5,
            found: 6
        })
    );
    let e = Nip::parse("5265877636").unwrap_err();
    assert_eq!(
        e.to_string(),
        "NIP: wrong check digit 6 at character 10 (the other digits give 5)"
    );
    assert_eq!(
        Nip::parse("1234567890"),
        Err(IdError::ChecksumTen {
            kind: IdKind::Nip,
            position: 9
        })
    );
    // no separators in strict mode, positions count characters
    assert_eq!(Nip::parse("526-587-76-35").unwrap_err().position(), Some(3));
    assert_eq!(Nip::parse("ą265877635").unwrap_err().position(), Some(0));
}

#[test]
fn nip_lenient_accepts_dashes_and_spaces_only() {
    let nip = Nip::parse("5265877635").unwrap();
    assert_eq!(Nip::parse_lenient("526-587-76-35"), Ok(nip));
    assert_eq!(Nip::parse_lenient("526 587 76 35"), Ok(nip));
    assert_eq!(Nip::parse_lenient(" 5265877635 "), Ok(nip));
    assert_eq!(
        Nip::parse_lenient("526.587.76.35"),
        Err(IdError::Char {
            kind: IdKind::Nip,
            position: 3,
            found: '.',
            expected: "a digit, '-' or ' '"
        })
    );
    assert_eq!(
        Nip::parse_lenient("PL5265877635").unwrap_err().position(),
        Some(0)
    );
    assert_eq!(
        Nip::parse_lenient(" - "),
        Err(IdError::Empty { kind: IdKind::Nip })
    );
    assert!(matches!(
        Nip::parse_lenient("526-587-76-3"),
        Err(IdError::Length { found: 9, .. })
    ));
    // the check digit's position is where it stands in the input
    assert!(matches!(
        Nip::parse_lenient("526-587-76-36"),
        Err(IdError::Checksum { position: 12, .. })
    ));
}

#[test]
fn nip_from_prefix_computes_the_check_digit() {
    assert_eq!(
        Nip::from_prefix("526587763").unwrap().as_str(),
        "5265877635"
    );
    assert!(matches!(
        Nip::from_prefix("123456789"),
        Err(IdError::ChecksumTen { .. })
    ));
    assert!(Nip::from_prefix("52658776").is_err());
    assert!(Nip::from_prefix("52658776a").is_err());
    assert!(Nip::from_prefix("026587763").is_err());
    // every NIP built this way parses
    for p in 100_000_000u32..100_000_200 {
        let s = p.to_string();
        if let Ok(nip) = Nip::from_prefix(&s) {
            assert_eq!(Nip::parse(nip.as_str()), Ok(nip));
        }
    }
}

#[test]
fn id_errors_convert_to_invalid_value() {
    let e: crate::Error = Nip::parse("5265877636").unwrap_err().into();
    assert_eq!(e.code(), ErrorCode::InvalidValue);
    assert_eq!(e.path(), "");
    assert!(e.message().contains("check digit"), "{e}");
    let e = Nip::parse("x")
        .unwrap_err()
        .at("Faktura/Podmiot1/DaneIdentyfikacyjne/NIP");
    assert_eq!(e.path(), "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP");
    assert_eq!(e.code(), ErrorCode::InvalidValue);
}

#[test]
fn vat_ue_numbers() {
    let v = VatUeId::parse("DE123456789").unwrap();
    assert_eq!(v.country(), KodKrajuUe::De);
    assert_eq!(v.number(), "123456789");
    assert_eq!(v.as_str(), "DE123456789");
    assert_eq!(v.to_string(), "DE123456789");
    assert_eq!(VatUeId::new(KodKrajuUe::De, "123456789"), Ok(v.clone()));
    assert!(v.check_country_format().is_ok());
    // the XSD pattern only: any 1-12 of [0-9A-Z+*]
    assert!(VatUeId::parse("FR+*AB").is_ok());
    assert!(VatUeId::parse("ELA").is_ok());
    assert_eq!(
        VatUeId::parse("de123"),
        Err(IdError::Char {
            kind: IdKind::VatUe,
            position: 0,
            found: 'd',
            expected: "an uppercase letter of the country code"
        })
    );
    assert_eq!(
        VatUeId::parse("GR123456789"),
        Err(IdError::Country {
            kind: IdKind::VatUe,
            found: "GR".into()
        })
    );
    assert!(matches!(
        VatUeId::parse("DE"),
        Err(IdError::Length { found: 2, .. })
    ));
    assert!(matches!(
        VatUeId::parse("D"),
        Err(IdError::Length { found: 1, .. })
    ));
    assert!(matches!(
        VatUeId::parse("DE1234567890123"),
        Err(IdError::Length { found: 15, .. })
    ));
    assert!(matches!(
        VatUeId::parse("DE12-3"),
        Err(IdError::Char {
            position: 4,
            found: '-',
            ..
        })
    ));
    assert!(matches!(
        VatUeId::new(KodKrajuUe::At, "u1"),
        Err(IdError::Char { position: 0, .. })
    ));
    assert_eq!(
        VatUeId::parse(""),
        Err(IdError::Empty {
            kind: IdKind::VatUe
        })
    );
}

#[test]
fn vat_ue_country_formats() {
    let ok = [
        "ATU12345678",
        "BE0123456789",
        "BG123456789",
        "BG1234567890",
        "CY12345678X",
        "CZ12345678",
        "CZ1234567890",
        "DK12345678",
        "EL123456789",
        "ESA12345678",
        "ES12345678Z",
        "ESA1234567Z",
        "FRAB123456789",
        "FR12123456789",
        "HR12345678901",
        "IE1234567AB",
        "IE1+12345A",
        "IT12345678901",
        "LT123456789",
        "LT123456789012",
        "NL12345678B01+",
        "RO12",
        "RO1234567890",
        "SE123456789012",
        "SK1234567890",
        "XI123456789",
        "XIGD123",
        "XIHA999",
    ];
    for s in ok {
        let v = VatUeId::parse(s).unwrap();
        assert!(v.check_country_format().is_ok(), "{s}");
    }
    let bad = [
        "AT12345678",
        "BE2123456789",
        "CY123456789",
        "DE12345678",
        "ES123456789",
        "IE12345678",
        "RO1",
        "XIAB123",
        "PL5265877635",
    ];
    for s in bad {
        let v = VatUeId::parse(s).unwrap();
        let e = v.check_country_format().unwrap_err();
        assert!(matches!(e, IdError::CountryFormat { .. }), "{s}: {e:?}");
    }
    let e = VatUeId::parse("AT12345678")
        .unwrap()
        .check_country_format()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "EU VAT number: not a AT VAT number (expected AT followed by U\\d{8})"
    );
}

#[test]
fn internal_ids() {
    let id = InternalId::parse("5265877635-12345").unwrap();
    assert_eq!(id.nip().as_str(), "5265877635");
    assert_eq!(id.suffix(), "12345");
    assert_eq!(id.as_str(), "5265877635-12345");
    assert_eq!(id.to_string(), "5265877635-12345");
    assert_eq!("5265877635-12345".parse::<InternalId>(), Ok(id));
    assert_eq!(
        InternalId::parse("5265877636-12345"),
        Err(IdError::Checksum {
            kind: IdKind::InternalId,
            position: 9,
            expected: 5,
            found: 6
        })
    );
    assert!(matches!(
        InternalId::parse("5265877635+12345"),
        Err(IdError::Char {
            position: 10,
            found: '+',
            ..
        })
    ));
    assert!(matches!(
        InternalId::parse("5265877635-1234"),
        Err(IdError::Length { found: 15, .. })
    ));
    assert!(matches!(
        InternalId::parse("5265877635-123456"),
        Err(IdError::Length { found: 17, .. })
    ));
    assert!(matches!(
        InternalId::parse("5265877635-1234a"),
        Err(IdError::Char { position: 15, .. })
    ));
    assert!(InternalId::parse("0265877635-12345").is_err());
}

#[test]
fn nip_vat_ue_composites() {
    let c = NipVatUe::parse("5265877635-ATU12345678").unwrap();
    assert_eq!(c.nip().as_str(), "5265877635");
    assert_eq!(c.vat_ue().country(), KodKrajuUe::At);
    assert_eq!(c.vat_ue().number(), "U12345678");
    assert_eq!(c.as_str(), "5265877635-ATU12345678");
    assert_eq!(
        NipVatUe::new(c.nip(), c.vat_ue().clone()).unwrap().as_str(),
        c.as_str()
    );
    assert!(matches!(
        NipVatUe::parse("5265877636-ATU12345678"),
        Err(IdError::Checksum {
            kind: IdKind::NipVatUe,
            position: 9,
            ..
        })
    ));
    assert!(matches!(
        NipVatUe::parse("5265877635-atU12345678"),
        Err(IdError::Char {
            kind: IdKind::NipVatUe,
            position: 11,
            ..
        })
    ));
    assert!(matches!(
        NipVatUe::parse("5265877635-DE12345"),
        Err(IdError::CountryFormat {
            kind: IdKind::NipVatUe,
            country: "DE",
            ..
        })
    ));
    assert!(matches!(
        NipVatUe::parse("5265877635-PL5265877635"),
        Err(IdError::CountryFormat { country: "PL", .. })
    ));
    assert!(matches!(
        NipVatUe::parse("5265877635ATU12345678"),
        Err(IdError::Pattern { position: 10, .. })
    ));
    assert!(matches!(
        NipVatUe::parse("526587763-ATU12345678"),
        Err(IdError::Length { found: 9, .. })
    ));
    assert!(matches!(
        NipVatUe::parse("5265877635-"),
        Err(IdError::Empty { .. })
    ));
}

#[test]
fn peppol_ids() {
    let p = PeppolId::parse("PPL123456").unwrap();
    assert_eq!(p.as_str(), "PPL123456");
    assert_eq!(p.to_string(), "PPL123456");
    assert!(matches!(
        PeppolId::parse("XPL123456"),
        Err(IdError::Char { position: 0, .. })
    ));
    assert!(matches!(
        PeppolId::parse("Ppl123456"),
        Err(IdError::Char { position: 1, .. })
    ));
    assert!(matches!(
        PeppolId::parse("PPL12345A"),
        Err(IdError::Char { position: 8, .. })
    ));
    assert!(matches!(
        PeppolId::parse("PPL12345"),
        Err(IdError::Length { found: 8, .. })
    ));
    assert!(matches!(
        PeppolId::parse("PPL1234567"),
        Err(IdError::Length { found: 10, .. })
    ));
    assert_eq!(
        PeppolId::parse(""),
        Err(IdError::Empty {
            kind: IdKind::PeppolId
        })
    );
}
