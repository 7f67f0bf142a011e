//! UPO v4-3: every official sample (`samples/upo/`) read to concrete values, broken documents
//! refused with typed errors and element paths, and a UPO signed with the test keys read and
//! its signature verified with `xades::verify`.

mod common;

use std::path::PathBuf;

use ksef::crypto::hash::Sha256Hash;
use ksef::crypto::{Certificate, PrivateKey};
use ksef::id::{KsefNumber, Nip};
use ksef::model::{Date, DateTime};
use ksef::protocol::upo::{AuthenticationProof, SendingMode, Upo, UpoContext, UpoPage, NAMESPACE};
use ksef::xades::{self, ContextIdentifier};
use ksef::{Environment, ErrorCode};

const SESSION_A: &str = "36950822-93-9D5A28BFDA-47C899773E-5C";
const SESSION_B: &str = "58550905-BD-D0587DA4A3-4AE171EDED-46";
const TOKEN_REF: &str = "20250819-EC-1ECDD12000-5EE71AE5E3-B7";
const AUTH_HASH: &str = "kyqH+QUgP8ATWd/95IY632mP4uqibwG66Oqclq9+qno=";
const HASH_XVQUD: &str = "GZMGNVzs3krF6URKgvaw77OOeG3nJ+WGziT5xguliQ8=";
const HASH_SIGTF: &str = "jli86Kp2Kw7jppX59P8VmjWRcwLTvsPK3DcPEB87mNk=";
const TE_NAME: &str = "Ministerstwo Finansów - środowisko testowe (TE)";

fn sample(name: &str) -> Vec<u8> {
    let p = common::spec_dir().join("samples/upo").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sample_text(name: &str) -> String {
    String::from_utf8(sample(name)).unwrap()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xades")
}

fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pem_or_der(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
}

fn cert(name: &str) -> Certificate {
    Certificate::from_pem_or_der(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
}

fn h(b64: &str) -> Sha256Hash {
    Sha256Hash::from_base64(b64).unwrap()
}

fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

/// Checks one `Dokument` against the values written in the sample.
#[allow(clippy::too_many_arguments)]
fn check_doc(
    upo: &Upo,
    i: usize,
    ksef: &str,
    number: &str,
    sent: &str,
    assigned: &str,
    hash: &str,
) {
    let d = &upo.documents[i];
    assert_eq!(d.seller_nip, "5265877635");
    assert_eq!(d.ksef_number, KsefNumber::parse(ksef).unwrap());
    assert_eq!(d.ksef_number.as_str(), ksef);
    assert_eq!(d.invoice_number, number);
    assert_eq!(d.issue_date, Date::new(2025, 9, 16).unwrap());
    assert_eq!(d.sent_at, dt(sent));
    assert_eq!(d.sent_at.as_str(), sent);
    assert_eq!(d.ksef_number_assigned_at, dt(assigned));
    assert!(d.ksef_number_assigned_at > d.sent_at);
    assert_eq!(d.hash, h(hash));
    assert_eq!(d.mode, SendingMode::Online);
    assert_eq!(upo.document(&d.ksef_number), Some(d));
}

/// The header fields shared by every sample.
fn check_common(upo: &Upo) {
    assert_eq!(upo.schema_version, None);
    assert_eq!(upo.receiving_entity, TE_NAME);
    assert_eq!(upo.environment(), Some(Environment::Test));
    assert_eq!(upo.logical_structure, "Schemat_FA(3)_v1-0E.xsd");
    assert_eq!(upo.form_code, "FA (3)");
    assert!(upo.signature.is_none());
}

fn check_page(p: &Option<UpoPage>) {
    let p = p.expect("session UPO has OpisPotwierdzenia");
    assert_eq!(
        (
            p.page,
            p.page_count,
            p.documents_from,
            p.documents_to,
            p.total_documents
        ),
        (1, 1, 1, 2, 2)
    );
}

#[test]
fn invoice_upo_nip_context() {
    let upo = Upo::parse(&sample("upo-faktura-kontekst-id-nip.xml")).unwrap();
    check_common(&upo);
    assert_eq!(upo.session_reference_number, SESSION_A);
    assert_eq!(
        upo.authentication.context,
        UpoContext::Nip("5265877635".into())
    );
    assert_eq!(upo.authentication.context.element(), "Nip");
    assert_eq!(
        upo.authentication.context.to_context_identifier().unwrap(),
        ContextIdentifier::Nip(Nip::parse("5265877635").unwrap())
    );
    assert_eq!(
        upo.authentication.proof,
        AuthenticationProof::AuthDocumentHash(h(AUTH_HASH))
    );
    assert!(upo.page.is_none());
    assert_eq!(upo.documents.len(), 1);
    check_doc(
        &upo,
        0,
        "5265877635-20250916-0200A0D6723E-C2",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:05:40.841+02:00",
        "2025-09-16T11:05:41.045+02:00",
        HASH_XVQUD,
    );
    // 11:05:40.841+02:00 is 09:05:40Z
    assert_eq!(
        upo.documents[0].sent_at.unix_seconds(),
        DateTime::utc_seconds_of(2025, 9, 16, 9, 5, 40)
    );
}

#[test]
fn invoice_upo_internal_id_context() {
    let upo = Upo::parse(&sample("upo-faktura-internal-id.xml")).unwrap();
    check_common(&upo);
    assert_eq!(upo.session_reference_number, SESSION_B);
    assert_eq!(
        upo.authentication.context,
        UpoContext::InternalId("5265877635-12345".into())
    );
    assert_eq!(upo.authentication.context.element(), "IdWewnetrzny");
    assert_eq!(upo.authentication.context.value(), "5265877635-12345");
    assert!(matches!(
        upo.authentication.context.to_context_identifier().unwrap(),
        ContextIdentifier::InternalId(_)
    ));
    assert_eq!(
        upo.authentication.proof,
        AuthenticationProof::KsefTokenReference(TOKEN_REF.into())
    );
    assert!(upo.page.is_none());
    assert_eq!(upo.documents.len(), 1);
    check_doc(
        &upo,
        0,
        "5265877635-20250916-02000009FF3E-FB",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:10:27.818+02:00",
        "2025-09-16T11:10:28.168+02:00",
        HASH_XVQUD,
    );
}

#[test]
fn invoice_upo_nip_vat_ue_context() {
    let upo = Upo::parse(&sample("upo-faktura-id-zlozony-vat-ue.xml")).unwrap();
    check_common(&upo);
    assert_eq!(upo.session_reference_number, SESSION_A);
    assert_eq!(
        upo.authentication.context,
        UpoContext::NipVatUe("5265877635-ATU12345678".into())
    );
    assert_eq!(upo.authentication.context.element(), "IdZlozonyVatUE");
    assert!(matches!(
        upo.authentication.context.to_context_identifier().unwrap(),
        ContextIdentifier::NipVatUe(_)
    ));
    assert_eq!(
        upo.authentication.proof,
        AuthenticationProof::AuthDocumentHash(h(AUTH_HASH))
    );
    assert_eq!(upo.documents.len(), 1);
    check_doc(
        &upo,
        0,
        "5265877635-20250916-0200A0D6723E-C2",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:05:40.841+02:00",
        "2025-09-16T11:05:41.045+02:00",
        HASH_XVQUD,
    );
}

#[test]
fn session_upo_nip_context() {
    let upo = Upo::parse(&sample("upo-sesja-kontekst-id-nip.xml")).unwrap();
    check_common(&upo);
    assert_eq!(upo.session_reference_number, SESSION_A);
    assert_eq!(
        upo.authentication.context,
        UpoContext::Nip("5265877635".into())
    );
    assert_eq!(
        upo.authentication.proof,
        AuthenticationProof::AuthDocumentHash(h(AUTH_HASH))
    );
    check_page(&upo.page);
    assert_eq!(upo.documents.len(), 2);
    check_doc(
        &upo,
        0,
        "5265877635-20250916-010040741B3E-46",
        "FA/SIGTF-3388125147/11/2025",
        "2025-09-16T11:02:41.584+02:00",
        "2025-09-16T11:02:42.084+02:00",
        HASH_SIGTF,
    );
    check_doc(
        &upo,
        1,
        "5265877635-20250916-0200A0D6723E-C2",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:05:40.841+02:00",
        "2025-09-16T11:05:41.045+02:00",
        HASH_XVQUD,
    );
}

#[test]
fn session_upo_internal_id_context() {
    let upo = Upo::parse(&sample("upo-sesja-internal-id.xml")).unwrap();
    check_common(&upo);
    assert_eq!(upo.session_reference_number, SESSION_B);
    assert_eq!(
        upo.authentication.context,
        UpoContext::InternalId("5265877635-12345".into())
    );
    assert_eq!(
        upo.authentication.proof,
        AuthenticationProof::KsefTokenReference(TOKEN_REF.into())
    );
    check_page(&upo.page);
    assert_eq!(upo.documents.len(), 2);
    check_doc(
        &upo,
        0,
        "5265877635-20250916-0100C002FF3E-D5",
        "FA/SIGTF-3388125147/11/2025",
        "2025-09-16T11:10:27.710+02:00",
        "2025-09-16T11:10:28.120+02:00",
        HASH_SIGTF,
    );
    check_doc(
        &upo,
        1,
        "5265877635-20250916-02000009FF3E-FB",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:10:27.818+02:00",
        "2025-09-16T11:10:28.168+02:00",
        HASH_XVQUD,
    );
}

#[test]
fn session_upo_nip_vat_ue_context() {
    let upo = Upo::parse(&sample("upo-sesja-id-zlozony-vat-ue.xml")).unwrap();
    check_common(&upo);
    assert_eq!(upo.session_reference_number, SESSION_A);
    assert_eq!(
        upo.authentication.context,
        UpoContext::NipVatUe("5265877635-ATU12345678".into())
    );
    check_page(&upo.page);
    assert_eq!(upo.documents.len(), 2);
    check_doc(
        &upo,
        0,
        "5265877635-20250916-020000583241-84",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:29:41.524+02:00",
        "2025-09-16T11:29:41.824+02:00",
        HASH_XVQUD,
    );
    check_doc(
        &upo,
        1,
        "5265877635-20250916-0200A0D6723E-C2",
        "FA/XVQUD-9997622510/04/2027",
        "2025-09-16T11:05:40.841+02:00",
        "2025-09-16T11:05:41.045+02:00",
        HASH_XVQUD,
    );
}

#[test]
fn every_sample_parses() {
    let files = common::samples("upo");
    assert_eq!(files.len(), 6);
    for f in files {
        let upo = Upo::parse(&std::fs::read(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
        let session = f
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("upo-sesja");
        assert_eq!(upo.page.is_some(), session, "{}", f.display());
        assert_eq!(upo.documents.len(), if session { 2 } else { 1 });
    }
}

#[test]
fn tolerant_of_real_world_forms() {
    let text = sample_text("upo-sesja-kontekst-id-nip.xml");
    // another prefix for the UPO namespace, a BOM, CRLF line ends, a schema version, an
    // attribute in another namespace, a comment
    let prefixed = text
        .replace("<Potwierdzenie xmlns=", "<upo:Potwierdzenie wersjaSchemy=\"4-3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"x y\" xmlns:upo=")
        .replace("</Potwierdzenie>", "</upo:Potwierdzenie>")
        .replace('<', "<upo:")
        .replace("<upo:/", "</upo:")
        .replace("<upo:?", "<?")
        .replace("<upo:upo:", "<upo:")
        .replace("</upo:upo:", "</upo:")
        .replace("\n", "\r\n")
        .replace("<upo:Dokument>", "<!-- x --><upo:Dokument>");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(prefixed.as_bytes());
    let upo = Upo::parse(&bytes).unwrap_or_else(|e| panic!("{e:?}\n{prefixed}"));
    assert_eq!(upo.schema_version.as_deref(), Some("4-3"));
    assert_eq!(upo.documents.len(), 2);
    let plain = Upo::parse(text.as_bytes()).unwrap();
    let mut u = upo.clone();
    u.schema_version = None;
    assert_eq!(u, plain);

    // production and DEMO names
    for (name, env) in [
        ("Ministerstwo Finansów", Some(Environment::Production)),
        (
            "Ministerstwo Finansów - środowisko przedprodukcyjne (TR)",
            Some(Environment::Demo),
        ),
        ("Someone else", None),
    ] {
        let t = text.replace(TE_NAME, name);
        let upo = Upo::parse(t.as_bytes()).unwrap();
        assert_eq!(upo.receiving_entity, name);
        assert_eq!(upo.environment(), env, "{name}");
    }

    // token values: white space collapsed
    let t = text.replace(
        "<KodFormularza>FA (3)</KodFormularza>",
        "<KodFormularza>\n  FA   (3) </KodFormularza>",
    );
    assert_eq!(Upo::parse(t.as_bytes()).unwrap().form_code, "FA (3)");

    // NIPs: the XSD pattern only, not the checksum (TEST accepts any seller NIP)
    let t = text.replace(
        "<NipSprzedawcy>5265877635</NipSprzedawcy>",
        "<NipSprzedawcy>1111111112</NipSprzedawcy>",
    );
    let upo = Upo::parse(t.as_bytes()).unwrap();
    assert_eq!(upo.documents[0].seller_nip, "1111111112");
    assert!(Nip::parse("1111111112").is_err());
    let t = text.replace("<Nip>5265877635</Nip>", "<Nip>5265877636</Nip>");
    let upo = Upo::parse(t.as_bytes()).unwrap();
    let e = upo
        .authentication
        .context
        .to_context_identifier()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidValue);
    assert_eq!(e.path(), "Potwierdzenie/Uwierzytelnienie/IdKontekstu/Nip");

    // a Peppol context, offline mode
    let t = text
        .replace(
            "<Nip>5265877635</Nip>",
            "<IdDostawcyUslugPeppol>PPL123456</IdDostawcyUslugPeppol>",
        )
        .replacen("<TrybWysylki>Online", "<TrybWysylki>Offline", 1);
    let upo = Upo::parse(t.as_bytes()).unwrap();
    assert_eq!(
        upo.authentication.context,
        UpoContext::PeppolId("PPL123456".into())
    );
    assert_eq!(upo.documents[0].mode, SendingMode::Offline);
    assert_eq!(upo.documents[1].mode, SendingMode::Online);
}

#[test]
fn broken_documents_are_refused_with_paths() {
    let nip = sample_text("upo-sesja-kontekst-id-nip.xml");
    let internal = sample_text("upo-sesja-internal-id.xml");
    let cases: &[(&str, &str, &str, ErrorCode, &str)] = &[
        // (sample text, from, to, code, path)
        (&nip, NAMESPACE, "http://upo.schematy.mf.gov.pl/KSeF/v4-2", ErrorCode::XmlNamespace, "Potwierdzenie"),
        (&nip, "<Potwierdzenie xmlns", "<Other xmlns", ErrorCode::XmlSyntax, "line 40, column 1"),
        (&nip, "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<?xml version=\"1.0\" encoding=\"utf-8\"?><!DOCTYPE Potwierdzenie [<!ENTITY x \"y\">]>", ErrorCode::XmlDtdForbidden, "line 1, column 39"),
        (&nip, "encoding=\"utf-8\"", "encoding=\"iso-8859-2\"", ErrorCode::Encoding, "line 1, column 1"),
        (&nip, "</KodFormularza>", "", ErrorCode::XmlSyntax, ""),
        (&nip, "<NumerReferencyjnySesji>36950822", "<NumerReferencyjnySesji>36951322", ErrorCode::InvalidValue, "Potwierdzenie/NumerReferencyjnySesji"),
        (&nip, "-5C</NumerReferencyjnySesji>", "-5c</NumerReferencyjnySesji>", ErrorCode::InvalidValue, "Potwierdzenie/NumerReferencyjnySesji"),
        (&internal, "-5EE71AE5E3-B7", "-5EE71AE5E3-B", ErrorCode::InvalidValue, "Potwierdzenie/Uwierzytelnienie/NumerReferencyjnyTokenaKSeF"),
        (&nip, "<NazwaPodmiotuPrzyjmujacego>Ministerstwo Finansów - środowisko testowe (TE)</NazwaPodmiotuPrzyjmujacego>", "<NazwaPodmiotuPrzyjmujacego> </NazwaPodmiotuPrzyjmujacego>", ErrorCode::InvalidValue, "Potwierdzenie/NazwaPodmiotuPrzyjmujacego"),
        (&nip, "\t<NumerReferencyjnySesji>", "\t<NumerReferencyjnySesji2/><NumerReferencyjnySesji>", ErrorCode::UnexpectedElement, "Potwierdzenie/NumerReferencyjnySesji2"),
        (&nip, "<NazwaStrukturyLogicznej>Schemat_FA(3)_v1-0E.xsd</NazwaStrukturyLogicznej>", "", ErrorCode::UnexpectedElement, "Potwierdzenie/KodFormularza"),
        (&nip, "<Nip>5265877635</Nip>", "", ErrorCode::MissingElement, "Potwierdzenie/Uwierzytelnienie/IdKontekstu"),
        (&nip, "<Nip>5265877635</Nip>", "<Nip>5265877635</Nip><Nip>5265877635</Nip>", ErrorCode::UnexpectedElement, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/Nip"),
        (&nip, "<Nip>5265877635</Nip>", "<Nip>0265877635</Nip>", ErrorCode::InvalidValue, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/Nip"),
        (&nip, "<Nip>5265877635</Nip>", "<Pesel>5265877635</Pesel>", ErrorCode::UnexpectedElement, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/Pesel"),
        (&nip, "<Nip>5265877635</Nip>", "<IdZlozonyVatUE>5265877635-ATX1</IdZlozonyVatUE>", ErrorCode::InvalidValue, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/IdZlozonyVatUE"),
        (&nip, "<Nip>5265877635</Nip>", "<IdWewnetrzny>5265877635-1234</IdWewnetrzny>", ErrorCode::InvalidValue, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/IdWewnetrzny"),
        (&nip, "<Nip>5265877635</Nip>", "<IdDostawcyUslugPeppol>PPL12345</IdDostawcyUslugPeppol>", ErrorCode::InvalidValue, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/IdDostawcyUslugPeppol"),
        (&nip, "<Nip>5265877635</Nip>", "<Nip><b>5265877635</b></Nip>", ErrorCode::UnexpectedElement, "Potwierdzenie/Uwierzytelnienie/IdKontekstu/Nip/b"),
        (&nip, "<SkrotDokumentuUwierzytelniajacego>kyqH+QUgP8ATWd/95IY632mP4uqibwG66Oqclq9+qno=</SkrotDokumentuUwierzytelniajacego>", "", ErrorCode::MissingElement, "Potwierdzenie/Uwierzytelnienie"),
        (&nip, "kyqH+QUgP8ATWd/95IY632mP4uqibwG66Oqclq9+qno=", "kyqH+QUgP8ATWd/95IY632mP4uqibwG66Oqclq9+qno", ErrorCode::InvalidValue, "Potwierdzenie/Uwierzytelnienie/SkrotDokumentuUwierzytelniajacego"),
        (&nip, "<Strona>1</Strona>", "<Strona>0</Strona>", ErrorCode::InvalidValue, "Potwierdzenie/OpisPotwierdzenia/Strona"),
        (&nip, "<LiczbaStron>1</LiczbaStron>", "<LiczbaStron>++1</LiczbaStron>", ErrorCode::InvalidValue, "Potwierdzenie/OpisPotwierdzenia/LiczbaStron"),
        (&nip, "<CalkowitaLiczbaDokumentow>2</CalkowitaLiczbaDokumentow>", "<CalkowitaLiczbaDokumentow>99999999999</CalkowitaLiczbaDokumentow>", ErrorCode::InvalidValue, "Potwierdzenie/OpisPotwierdzenia/CalkowitaLiczbaDokumentow"),
        (&nip, "<ZakresDokumentowDo>2</ZakresDokumentowDo>", "", ErrorCode::UnexpectedElement, "Potwierdzenie/OpisPotwierdzenia/CalkowitaLiczbaDokumentow"),
        (&nip, "<CalkowitaLiczbaDokumentow>2</CalkowitaLiczbaDokumentow>", "", ErrorCode::MissingElement, "Potwierdzenie/OpisPotwierdzenia/CalkowitaLiczbaDokumentow"),
        (&nip, "<NumerKSeFDokumentu>5265877635-20250916-010040741B3E-46", "<NumerKSeFDokumentu>5265877635-20250916-010040741B3E-47", ErrorCode::KsefNumber, "Potwierdzenie/Dokument[1]/NumerKSeFDokumentu"),
        (&nip, "<NumerKSeFDokumentu>5265877635-20250916-0200A0D6723E-C2", "<NumerKSeFDokumentu>5265877635-20250916-0200A0-D6723E-C2", ErrorCode::KsefNumber, "Potwierdzenie/Dokument[2]/NumerKSeFDokumentu"),
        (&nip, "5265877635-20250916-0200A0D6723E-C2", "5265877635-20250916-010040741B3E-46", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[2]/NumerKSeFDokumentu"),
        (&nip, "<NipSprzedawcy>5265877635</NipSprzedawcy>", "<NipSprzedawcy>526587763</NipSprzedawcy>", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/NipSprzedawcy"),
        (&nip, "<NumerFaktury>FA/SIGTF-3388125147/11/2025</NumerFaktury>", "<NumerFaktury></NumerFaktury>", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/NumerFaktury"),
        (&nip, "<DataWystawieniaFaktury>2025-09-16</DataWystawieniaFaktury>", "<DataWystawieniaFaktury>2025-02-30</DataWystawieniaFaktury>", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/DataWystawieniaFaktury"),
        (&nip, "<DataWystawieniaFaktury>2025-09-16</DataWystawieniaFaktury>", "<DataWystawieniaFaktury>2005-12-31</DataWystawieniaFaktury>", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/DataWystawieniaFaktury"),
        (&nip, "<DataPrzeslaniaDokumentu>2025-09-16T11:02:41.584+02:00", "<DataPrzeslaniaDokumentu>2025-09-16 11:02:41", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/DataPrzeslaniaDokumentu"),
        (&nip, "<DataNadaniaNumeruKSeF>2025-09-16T11:05:41.045+02:00", "<DataNadaniaNumeruKSeF>2021-10-01T01:59:59+02:00", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[2]/DataNadaniaNumeruKSeF"),
        (&nip, "<SkrotDokumentu>jli86Kp2Kw7jppX59P8VmjWRcwLTvsPK3DcPEB87mNk=", "<SkrotDokumentu>jli86Kp2Kw7jppX59P8VmjWRcwLTvsPK3DcPEB87mN!=", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/SkrotDokumentu"),
        (&nip, "<TrybWysylki>Online</TrybWysylki>", "<TrybWysylki>online</TrybWysylki>", ErrorCode::InvalidValue, "Potwierdzenie/Dokument[1]/TrybWysylki"),
        (&nip, "<TrybWysylki>Online</TrybWysylki>", "", ErrorCode::MissingElement, "Potwierdzenie/Dokument[1]/TrybWysylki"),
        (&nip, "<TrybWysylki>Online</TrybWysylki>", "<TrybWysylki>Online</TrybWysylki><Extra/>", ErrorCode::UnexpectedElement, "Potwierdzenie/Dokument[1]/Extra"),
        (&nip, "<SkrotDokumentu>jli86", "<TrybWysylki>Online</TrybWysylki><SkrotDokumentu>jli86", ErrorCode::UnexpectedElement, "Potwierdzenie/Dokument[1]/TrybWysylki"),
        (&nip, "<NipSprzedawcy>", "<x:NipSprzedawcy xmlns:x=\"urn:other\">", ErrorCode::XmlSyntax, ""),
        (&nip, "\t<NipSprzedawcy>", "<x:Extra xmlns:x=\"urn:other\"/><NipSprzedawcy>", ErrorCode::XmlNamespace, "Potwierdzenie/Dokument[1]/x:Extra"),
        (&nip, "<Dokument>", "<Dokument>text", ErrorCode::UnexpectedElement, "Potwierdzenie/Dokument[1]"),
        (&nip, "</Potwierdzenie>", "<KodFormularza>FA (3)</KodFormularza></Potwierdzenie>", ErrorCode::UnexpectedElement, "Potwierdzenie/KodFormularza"),
    ];
    for (text, from, to, code, path) in cases {
        assert!(text.contains(from), "sample lacks {from}");
        let bad = text.replacen(from, to, 1);
        let e = Upo::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.code(), *code, "{from} -> {to}: {e:?}");
        if !path.is_empty() {
            assert_eq!(e.path(), *path, "{from} -> {to}: {e:?}");
        }
        assert!(!e.message().is_empty());
    }

    // no Dokument at all
    let start = nip.find("<Dokument>").unwrap();
    let end = nip.rfind("</Dokument>").unwrap() + "</Dokument>".len();
    let none = format!("{}{}", &nip[..start], &nip[end..]);
    let e = Upo::parse(none.as_bytes()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::MissingElement);
    assert_eq!(e.path(), "Potwierdzenie/Dokument");

    // not UTF-8, empty, garbage
    for bad in [&b"\xff\xfe<a/>"[..], b"", b"not xml", b"<Potwierdzenie>"] {
        let e = Upo::parse(bad).unwrap_err();
        assert!(
            matches!(
                e.code(),
                ErrorCode::Encoding | ErrorCode::XmlSyntax | ErrorCode::XmlNamespace
            ),
            "{e:?}"
        );
    }
}

/// 10 000 documents are allowed, 10 001 are not (unique KSeF numbers made with the CRC).
#[test]
fn document_limit() {
    let text = sample_text("upo-faktura-kontekst-id-nip.xml");
    let start = text.find("\t<Dokument>").unwrap();
    let end = text.rfind("</Dokument>").unwrap() + "</Dokument>".len();
    let one = &text[start..end];
    let make = |n: usize| {
        let mut s = String::from(&text[..start]);
        for i in 0..n {
            let k = KsefNumber::from_prefix(&format!("5265877635-20250916-{i:012X}")).unwrap();
            s.push_str(&one.replace("5265877635-20250916-0200A0D6723E-C2", k.as_str()));
        }
        s.push_str(&text[end..]);
        s
    };
    let upo = Upo::parse(make(10_000).as_bytes()).unwrap();
    assert_eq!(upo.documents.len(), 10_000);
    let e = Upo::parse(make(10_001).as_bytes()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnexpectedElement);
    assert_eq!(e.path(), "Potwierdzenie/Dokument[10001]");
}

/// Random single-byte mutations of every sample: never a panic, errors always typed.
#[test]
fn mutations_never_panic() {
    let mut rng = common::Rng(0x5550_0043);
    for f in common::samples("upo") {
        let orig = std::fs::read(&f).unwrap();
        for _ in 0..400 {
            let mut m = orig.clone();
            let at = rng.below(m.len());
            match rng.below(3) {
                0 => m[at] = b"<>/=\"x0-A \t&;"[rng.below(13)],
                1 => {
                    m.remove(at);
                }
                _ => m.truncate(at),
            }
            if let Err(e) = Upo::parse(&m) {
                assert!(!e.message().is_empty());
            }
        }
    }
}

#[test]
fn signed_upo_parses_and_verifies() {
    let time = DateTime::from_unix_seconds(1_758_013_541).unwrap();
    for (k, c) in [
        ("ec.key.pem", "ec.cert.pem"),
        ("rsa.key.pem", "rsa.cert.pem"),
    ] {
        for name in [
            "upo-faktura-kontekst-id-nip.xml",
            "upo-sesja-internal-id.xml",
        ] {
            let unsigned = sample(name);
            let signed = xades::sign_enveloped(&unsigned, &key(k), &cert(c), &time).unwrap();
            let upo = Upo::parse(&signed).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let plain = Upo::parse(&unsigned).unwrap();
            let sig = upo.signature.clone().expect("signature kept");
            let mut u = upo.clone();
            u.signature = None;
            assert_eq!(u, plain);
            let bytes = sig.as_bytes();
            assert!(bytes.starts_with(b"<ds:Signature"), "{name}");
            assert!(bytes.ends_with(b"</ds:Signature>"), "{name}");
            // the kept bytes are exactly the signature element of the signed document
            let text = std::str::from_utf8(&signed).unwrap();
            let s = text.find("<ds:Signature").unwrap();
            let e = text.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
            assert_eq!(bytes, &signed[s..e]);
            assert!(format!("{sig:?}").contains("bytes"));

            let v = xades::verify(&signed).unwrap();
            assert_eq!(v.certificate, cert(c));
            assert_eq!(v.signing_time, Some(time.clone()));

            // a changed receipt still parses (the parser does not verify) but fails to verify
            let forged = text.replacen("<TrybWysylki>Online", "<TrybWysylki>Offline", 1);
            let upo = Upo::parse(forged.as_bytes()).unwrap();
            assert_eq!(upo.documents[0].mode, SendingMode::Offline);
            let e = xades::verify(forged.as_bytes()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::SignatureInvalid);
        }
    }
    // two signatures are refused
    let signed = xades::sign_enveloped(
        &sample("upo-faktura-internal-id.xml"),
        &key("ec.key.pem"),
        &cert("ec.cert.pem"),
        &time,
    )
    .unwrap();
    let text = String::from_utf8(signed).unwrap();
    let s = text.find("<ds:Signature").unwrap();
    let e = text.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let twice = format!("{}{}{}", &text[..e], &text[s..e], &text[e..]);
    let err = Upo::parse(twice.as_bytes()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnexpectedElement);
    assert_eq!(err.path(), "Potwierdzenie/ds:Signature");
    // a signature inside a Dokument is not an enveloped signature of the UPO
    let inner = text[s..e].to_string();
    let moved = text[..s].to_string() + &text[e..];
    let moved = moved.replacen("</Dokument>", &format!("{inner}</Dokument>"), 1);
    let err = Upo::parse(moved.as_bytes()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::XmlNamespace);
    assert_eq!(err.path(), "Potwierdzenie/Dokument[1]/ds:Signature");
}
