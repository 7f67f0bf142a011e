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
    let mut converted = 0;
    for path in common::samples("fa2") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let parsed = xml::parse(&std::fs::read(&path).unwrap()).unwrap();
        match xml::emit(&parsed.invoice, SchemaVersion::Fa3) {
            Ok(out) => {
                converted += 1;
                common::save_for_xsd_check("fa2-to-fa3", &name, &out);
                let back = xml::parse(&out).unwrap();
                assert_eq!(back.schema, SchemaVersion::Fa3);
            }
            Err(e) => {
                assert!(
                    matches!(
                        e.code(),
                        ErrorCode::NotInSchema
                            | ErrorCode::MissingElement
                            | ErrorCode::InvalidValue
                    ),
                    "{name}: {e:?}"
                );
                assert!(!e.path().is_empty(), "{name}: error without a path: {e}");
                eprintln!("{name}: not convertible: {e}");
            }
        }
    }
    eprintln!("{converted} FA(2) samples converted to FA(3)");
}
