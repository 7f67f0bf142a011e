//! Reading XML: namespace prefixes, CRLF, entities, CDATA, and the refusals (DTDs, unknown
//! or misplaced elements, bad values) with their codes and paths.

mod common;

use ksef::{xml, ErrorCode};

fn sample01() -> String {
    std::fs::read_to_string(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap()
}

fn err(xml_text: &str) -> ksef::Error {
    xml::parse(xml_text.as_bytes()).expect_err("must be refused")
}

#[test]
fn prefixes_crlf_entities_and_cdata_read_the_same() {
    let base = xml::parse(sample01().as_bytes()).unwrap().invoice;
    // a prefixed document
    let prefixed = sample01()
        .replace(
            "xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"",
            "xmlns:fa=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"",
        )
        .replace('<', "<fa:")
        .replace("<fa:/", "</fa:")
        .replace("<fa:?xml", "<?xml");
    let p = xml::parse(prefixed.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.invoice, base);
    // LF only vs CRLF
    let lf = sample01().replace("\r\n", "\n");
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(xml::parse(lf.as_bytes()).unwrap().invoice, base);
    assert_eq!(xml::parse(crlf.as_bytes()).unwrap().invoice, base);
    // BOM tolerated
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(lf.as_bytes());
    assert_eq!(xml::parse(&bom).unwrap().invoice, base);
    // entities and CDATA decode to the same text
    let ent = lf.replace(
        "<Nazwa>ABC AGD sp. z o. o.</Nazwa>",
        "<Nazwa>ABC&#32;AGD sp. z o. o.&#x0;</Nazwa>",
    );
    assert_eq!(err(&ent).code(), ErrorCode::XmlSyntax); // NUL is not a character
    let ent = lf.replace(
        "<Nazwa>ABC AGD sp. z o. o.</Nazwa>",
        "<Nazwa>ABC&#32;AGD <![CDATA[sp. z o. o.]]></Nazwa>",
    );
    assert_eq!(xml::parse(ent.as_bytes()).unwrap().invoice, base);
    let amp = lf.replace(
        "<Nazwa>ABC AGD sp. z o. o.</Nazwa>",
        "<Nazwa>A &amp; B &lt;x&gt;</Nazwa>",
    );
    let inv = xml::parse(amp.as_bytes()).unwrap().invoice;
    assert_eq!(inv.podmiot1.dane_identyfikacyjne.nazwa, "A & B <x>");
    let out = String::from_utf8(xml::emit(&inv, ksef::SchemaVersion::Fa3).unwrap()).unwrap();
    assert!(out.contains("<Nazwa>A &amp; B &lt;x&gt;</Nazwa>"), "{out}");
}

#[test]
fn dtd_and_custom_entities_are_refused() {
    let lf = sample01().replace("\r\n", "\n");
    let with_dtd = lf.replacen(
        "<Faktura",
        "<!DOCTYPE Faktura [<!ENTITY x \"boom\">]>\n<Faktura",
        1,
    );
    assert_eq!(err(&with_dtd).code(), ErrorCode::XmlDtdForbidden);
    let ent = lf.replace("<Nazwa>ABC AGD sp. z o. o.</Nazwa>", "<Nazwa>&x;</Nazwa>");
    assert_eq!(err(&ent).code(), ErrorCode::XmlDtdForbidden);
}

#[test]
fn malformed_documents_say_where() {
    let lf = sample01().replace("\r\n", "\n");
    for (bad, what) in [
        (
            lf.replace("</Naglowek>", "</Naglowk>"),
            "mismatched end tag",
        ),
        (lf.replace("<P_2>", "<P_2 a=b>"), "unquoted attribute"),
        (lf.replace("</Faktura>", ""), "unclosed root"),
        (lf.replace("</Faktura>", "</Faktura><x/>"), "second root"),
        (
            lf.replace("<P_2>", "<P_2 a=\"1\" a=\"2\">"),
            "repeated attribute",
        ),
        (lf.replace("<Fa>", "<Fa><!-- a -- b -->"), "broken comment"),
    ] {
        let e = err(&bad);
        assert_eq!(e.code(), ErrorCode::XmlSyntax, "{what}: {e}");
        assert!(e.path().starts_with("line "), "{what}: {e}");
    }
    assert_eq!(
        xml::parse(b"\xff\xfe<a/>").unwrap_err().code(),
        ErrorCode::Encoding
    );
    let e = err(&lf.replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-2\""));
    assert_eq!(e.code(), ErrorCode::Encoding);
}

#[test]
fn unknown_misplaced_and_foreign_elements_are_errors_with_paths() {
    let lf = sample01().replace("\r\n", "\n");
    // unknown element
    let e = err(&lf.replace("<P_1M>", "<Nieznany>x</Nieznany><P_1M>"));
    assert_eq!(e.code(), ErrorCode::UnexpectedElement);
    assert_eq!(e.path(), "Faktura/Fa/Nieznany");
    // misplaced: P_2 before P_1
    let moved = lf
        .replace("<P_2>FV2026/02/150</P_2>", "")
        .replace("<P_1>", "<P_2>FV2026/02/150</P_2><P_1>");
    let e = err(&moved);
    assert!(
        matches!(
            e.code(),
            ErrorCode::UnexpectedElement | ErrorCode::MissingElement
        ),
        "{e}"
    );
    assert!(e.path().starts_with("Faktura/Fa/P_"), "{e}");
    // missing required element: the element found in its place is named, with what was expected
    let e = err(&lf.replace("<P_2>FV2026/02/150</P_2>", ""));
    assert_eq!(e.code(), ErrorCode::UnexpectedElement);
    assert_eq!(e.path(), "Faktura/Fa/P_6");
    assert!(e.message().contains("expected `P_2`"), "{e}");
    // missing at the end of a parent: nothing in its place
    let e = err(&lf
        .replace("<P_15>2051</P_15>", "")
        .replace("<KursWalutyZ>", "<X>"));
    assert!(
        matches!(
            e.code(),
            ErrorCode::MissingElement | ErrorCode::UnexpectedElement
        ),
        "{e}"
    );
    let no_adnot = lf.split("<Adnotacje>").next().unwrap().to_string()
        + &lf[lf.find("</Adnotacje>").unwrap() + "</Adnotacje>".len()..];
    let e = err(&no_adnot);
    assert!(e.message().contains("Adnotacje"), "{e}");
    // element from another namespace
    let e = err(&lf
        .replace("<P_1M>", "<x:P_1M xmlns:x=\"urn:other\">")
        .replace("</P_1M>", "</x:P_1M>"));
    assert_eq!(e.code(), ErrorCode::XmlNamespace);
    // FA(2) namespace with FA(3)-only content
    let fa2 = lf
        .replace(
            "http://crd.gov.pl/wzor/2025/06/25/13775/",
            "http://crd.gov.pl/wzor/2023/06/29/12648/",
        )
        .replace("FA (3)", "FA (2)")
        .replace("<WariantFormularza>3<", "<WariantFormularza>2<");
    let e = err(&fa2);
    assert_eq!(e.code(), ErrorCode::UnexpectedElement, "{e:?}");
    assert_eq!(e.path(), "Faktura/Podmiot2/JST");
    // not an invoice
    assert_eq!(err("<a xmlns=\"urn:x\"/>").code(), ErrorCode::XmlNamespace);
    // an attribute the schema does not have
    let e = err(&lf.replace("<P_2>", "<P_2 foo=\"1\">"));
    assert_eq!(e.code(), ErrorCode::UnexpectedElement);
    assert_eq!(e.path(), "Faktura/Fa/P_2");
}

#[test]
fn bad_values_name_the_element() {
    let lf = sample01().replace("\r\n", "\n");
    let e = err(&lf.replace("<P_13_1>1666.66</P_13_1>", "<P_13_1>1666,66</P_13_1>"));
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidValue, "Faktura/Fa/P_13_1")
    );
    let e = err(&lf.replace("<P_13_1>1666.66</P_13_1>", "<P_13_1>1666.666</P_13_1>"));
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidValue, "Faktura/Fa/P_13_1")
    );
    let e = err(&lf.replace("<P_1>2026-02-15</P_1>", "<P_1>2026-02-30</P_1>"));
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidValue, "Faktura/Fa/P_1")
    );
    let e = err(&lf.replace("<NIP>9999999999</NIP>", "<NIP>999999999</NIP>"));
    assert_eq!(
        (e.code(), e.path()),
        (
            ErrorCode::InvalidValue,
            "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP"
        )
    );
    let e = err(&lf.replace("<KodWaluty>PLN</KodWaluty>", "<KodWaluty>XXX1</KodWaluty>"));
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::InvalidValue, "Faktura/Fa/KodWaluty")
    );
    let e = err(&lf.replace("<P_12>23</P_12>", "<P_12>0</P_12>"));
    assert_eq!(e.code(), ErrorCode::InvalidValue, "{e}");
    assert!(e.message().contains("FA(3)"), "{e}");
    assert!(e.path().starts_with("Faktura/Fa/FaWiersz"), "{e}");
    let e = err(&lf.replace("<WariantFormularza>3<", "<WariantFormularza>2<"));
    assert_eq!(
        (e.code(), e.path()),
        (
            ErrorCode::InvalidValue,
            "Faktura/Naglowek/WariantFormularza"
        )
    );
}

#[test]
fn processing_instructions_are_skipped_but_a_late_declaration_is_refused() {
    let lf = sample01().replace("\r\n", "\n");
    let base = xml::parse(lf.as_bytes()).unwrap().invoice;
    let pi = lf
        .replace("<Fa>", "<Fa><?xml-stylesheet href=\"a.xsl\"?>")
        .replace(
            "<P_2>FV2026/02/150</P_2>",
            "<P_2>FV2026/<?app x?>02/150</P_2>",
        )
        .replace("</Faktura>", "</Faktura>\n<?tail?>\n<!-- end -->\n");
    assert_eq!(xml::parse(pi.as_bytes()).unwrap().invoice, base);
    let late = lf.replace("<Fa>", "<Fa><?xml version=\"1.0\"?>");
    assert_eq!(err(&late).code(), ErrorCode::XmlSyntax);
}

#[test]
fn namespace_scopes_end_with_their_element() {
    let lf = sample01().replace("\r\n", "\n");
    // a child re-declaring the same default namespace is fine; a sibling after a child that
    // declared another default namespace is back in the invoice namespace
    let same = lf.replace(
        "<Podmiot1>",
        "<Podmiot1 xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\">",
    );
    xml::parse(same.as_bytes()).unwrap();
    let other = lf.replace(
        "<P_1M>Warszawa</P_1M>",
        "<P_1M xmlns=\"urn:other\">Warszawa</P_1M>",
    );
    assert_eq!(err(&other).code(), ErrorCode::XmlNamespace);
    let scoped = lf.replace(
        "<SystemInfo>SamploFaktur</SystemInfo>",
        "<SystemInfo xmlns:x=\"urn:other\">SamploFaktur</SystemInfo>",
    );
    xml::parse(scoped.as_bytes()).unwrap();
    // an empty element with a foreign default namespace, then a normal sibling
    let empty = lf.replace("<Podmiot2>", "<Podmiot2><x xmlns=\"urn:other\"/>");
    assert_eq!(err(&empty).code(), ErrorCode::XmlNamespace);
    // a prefixed element that changes the default namespace for its subtree
    let deep = lf
        .replace("xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"", "xmlns:f=\"http://crd.gov.pl/wzor/2025/06/25/13775/\" xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"")
        .replace("<Podmiot1>", "<f:Podmiot1 xmlns=\"urn:other\">")
        .replace("</Podmiot1>", "</f:Podmiot1>");
    assert_eq!(err(&deep).code(), ErrorCode::XmlNamespace);
}
