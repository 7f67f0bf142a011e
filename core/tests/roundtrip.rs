//! Every official sample: parse -> emit -> (XSD check by `make xsd-check`) -> parse gives the
//! same model; the JSON form round-trips too; FA(2) samples convert to FA(3) or say why not.

mod common;

use ksef::model::SchemaVersion;
use ksef::{xml, ErrorCode, Faktura};

fn roundtrip(kind: &str, schema: SchemaVersion) {
    for path in common::samples(kind) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let parsed = xml::parse(&bytes).unwrap_or_else(|e| panic!("{name}: parse: {e}"));
        assert_eq!(parsed.schema, schema, "{name}");
        let out =
            xml::emit(&parsed.invoice, schema).unwrap_or_else(|e| panic!("{name}: emit: {e}"));
        common::save_for_xsd_check(&format!("roundtrip-{kind}"), &name, &out);
        let again = xml::parse(&out).unwrap_or_else(|e| panic!("{name}: reparse: {e}"));
        assert_eq!(
            again.invoice, parsed.invoice,
            "{name}: model changed in the round trip"
        );
        // emitting is deterministic
        assert_eq!(xml::emit(&again.invoice, schema).unwrap(), out, "{name}");
        // JSON form
        let json = parsed.invoice.to_json().unwrap();
        let back =
            Faktura::from_json(&json).unwrap_or_else(|e| panic!("{name}: from_json: {e}\n{json}"));
        assert_eq!(back, parsed.invoice, "{name}: JSON round trip");
    }
}

#[test]
fn fa3_samples_round_trip() {
    roundtrip("fa3", SchemaVersion::Fa3);
}

#[test]
fn fa2_samples_round_trip() {
    roundtrip("fa2", SchemaVersion::Fa2);
}

#[test]
fn fa2_samples_convert_to_fa3_or_explain() {
    use ksef::model::{DateTime, Gv, Jst};
    let mut converted = 0;
    for path in common::samples("fa2") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut inv = xml::parse(&std::fs::read(&path).unwrap()).unwrap().invoice;
        // As is, FA(3) refuses: the document was created before FA(3) existed, and FA(3)
        // needs the buyer's JST/GV flags. Each refusal names the element.
        let e = xml::emit(&inv, SchemaVersion::Fa3).unwrap_err();
        assert_eq!(
            e.path(),
            "Faktura/Naglowek/DataWytworzeniaFa",
            "{name}: {e}"
        );
        inv.naglowek.data_wytworzenia_fa = "2026-02-01T00:00:00Z".parse::<DateTime>().unwrap();
        let e = xml::emit(&inv, SchemaVersion::Fa3).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::MissingElement, "Faktura/Podmiot2/JST"),
            "{name}: {e}"
        );
        inv.podmiot2.jst = Some(Jst::Nie);
        inv.podmiot2.gv = Some(Gv::Nie);
        match xml::emit(&inv, SchemaVersion::Fa3) {
            Ok(out) => {
                converted += 1;
                common::save_for_xsd_check("fa2-to-fa3", &name, &out);
                let back = xml::parse(&out).unwrap();
                assert_eq!(back.schema, SchemaVersion::Fa3);
                assert_eq!(back.invoice, inv, "{name}");
            }
            Err(e) => {
                // what is left is content FA(3) cannot say the same way (e.g. rate code `0`,
                // which FA(3) splits into `0 KR`, `0 WDT`, `0 EX`)
                assert!(
                    matches!(e.code(), ErrorCode::NotInSchema | ErrorCode::InvalidValue),
                    "{name}: {e:?}"
                );
                assert!(e.path().starts_with("Faktura/"), "{name}: {e}");
                eprintln!("{name}: not convertible: {e}");
            }
        }
    }
    eprintln!("{converted} FA(2) samples converted to FA(3)");
    assert!(converted >= 10, "only {converted} FA(2) samples converted");
}

/// The documented JSON examples (examples/json) read, render to valid FA(3), and validate.
#[test]
fn json_examples_render_and_validate() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/json");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let inv = Faktura::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = xml::emit(&inv, SchemaVersion::Fa3).unwrap_or_else(|e| panic!("{name}: {e}"));
        common::save_for_xsd_check("json-examples", &name.replace(".json", ".xml"), &out);
        let report =
            ksef::validate::validate(&inv, SchemaVersion::Fa3, &ksef::validate::Options::new());
        assert!(report.is_valid(), "{name}: {:?}", report.issues);
        // the committed example is exactly what `to_json` writes
        assert_eq!(
            inv.to_json().unwrap(),
            text,
            "{name}: not in canonical form"
        );
        n += 1;
    }
    assert!(n >= 5, "examples missing in {}", dir.display());
}

#[test]
fn json_input_errors_say_where() {
    let base = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/json/vat-two-rates.json"),
    )
    .unwrap();
    let cases = [
        (
            base.replace("\"P_15\": \"2051\"", "\"P_15\": 2051.5"),
            None,
            "number accepted exactly",
        ),
        (
            base.replace("\"P_15\": \"2051\"", "\"P_15\": \"20,51\""),
            Some(("Faktura/Fa/P_15", ErrorCode::InvalidValue)),
            "comma",
        ),
        (
            base.replace("\"P_2\":", "\"P_2x\":"),
            Some(("Faktura/Fa/P_2", ErrorCode::MissingElement)),
            "renamed key",
        ),
        (
            base.replace("\"RodzajFaktury\": \"VAT\"", "\"RodzajFaktury\": \"FOO\""),
            Some(("Faktura/Fa/RodzajFaktury", ErrorCode::InvalidValue)),
            "bad code",
        ),
        (
            base.replace(
                "\"SystemInfo\": \"SamploFaktur\"",
                "\"SystemInfo\": \"x\", \"Extra\": 1",
            ),
            Some(("Faktura/Naglowek/Extra", ErrorCode::UnexpectedElement)),
            "unknown key",
        ),
        (
            base.replacen("\"DaneKontaktowe\": [", "\"DaneKontaktowe\": [[", 1),
            Some(("", ErrorCode::JsonSyntax)),
            "broken",
        ),
    ];
    for (text, expect, what) in cases {
        match (Faktura::from_json(&text), expect) {
            (Ok(inv), None) => assert_eq!(inv.fa.p_15.to_string(), "2051.5", "{what}"),
            (Err(e), Some((path, code))) => {
                assert_eq!(e.code(), code, "{what}: {e}");
                if !path.is_empty() {
                    assert_eq!(e.path(), path, "{what}: {e}");
                }
            }
            (r, _) => panic!("{what}: unexpected {r:?}"),
        }
    }
    // a single value written as a list, and a list written as a single object
    let one_line = base
        .replacen("\"DodatkowyOpis\": [", "\"DodatkowyOpis\": ", 1)
        .replacen(
            "\"Wartosc\": \"dni robocze 17:00 - 20:00\"\n      }\n    ]",
            "\"Wartosc\": \"dni robocze 17:00 - 20:00\"\n      }",
            1,
        );
    let e = Faktura::from_json(&one_line).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::UnexpectedElement, "Faktura/Fa/DodatkowyOpis"),
        "{e}"
    );
    let single = base.replacen(
        "\"P_2\": \"FV2026/02/150\"",
        "\"P_2\": [\"FV2026/02/150\"]",
        1,
    );
    assert_eq!(
        Faktura::from_json(&single).unwrap_err().code(),
        ErrorCode::UnexpectedElement
    );
}

/// The JSON snippets in docs/JSON.md are valid invoices.
#[test]
fn json_doc_snippets_are_valid() {
    let doc = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/JSON.md"),
    )
    .unwrap();
    let mut n = 0;
    for block in doc.split("```json\n").skip(1) {
        let text = block.split("```").next().unwrap();
        let inv =
            Faktura::from_json(text).unwrap_or_else(|e| panic!("docs/JSON.md snippet {n}: {e}"));
        let out = xml::emit(&inv, SchemaVersion::Fa3).unwrap();
        common::save_for_xsd_check("json-docs", &format!("snippet-{n}.xml"), &out);
        let report =
            ksef::validate::validate(&inv, SchemaVersion::Fa3, &ksef::validate::Options::new());
        assert!(report.is_valid(), "snippet {n}: {:?}", report.issues);
        n += 1;
    }
    assert!(n >= 1);
}

/// `Faktura` implements serde through its JSON form.
#[test]
fn serde_impls_are_the_json_form() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Order {
        id: u32,
        invoice: Faktura,
    }
    let bytes = std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_20.xml")).unwrap();
    let inv = xml::parse(&bytes).unwrap().invoice;
    let order = Order {
        id: 7,
        invoice: inv.clone(),
    };
    let text = serde_json::to_string(&order).unwrap();
    assert!(
        text.contains("\"KursWaluty\":\"4.1321\"") || text.contains("\"P_14_1W\""),
        "{text}"
    );
    let back: Order = serde_json::from_str(&text).unwrap();
    assert_eq!(back, order);
    let bad = text.replace("\"P_15\":", "\"P_15x\":");
    let e = serde_json::from_str::<Order>(&bad).unwrap_err().to_string();
    assert!(e.contains("Faktura/Fa"), "{e}");
}
