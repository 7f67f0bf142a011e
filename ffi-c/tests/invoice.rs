//! The invoice exports against the Rust API: for every official sample, the XML the C ABI
//! writes (owned and into a caller buffer) is exactly what `ksef::xml::emit` writes, the
//! schema is the one `ksef::xml::parse` detects, and the validation report is the core's.

use std::path::PathBuf;
use std::ptr;

use ksef_ffi::common::{ksef_buffer_data, ksef_buffer_free, ksef_buffer_len};
use ksef_ffi::invoice::*;

fn spec_dir() -> PathBuf {
    if let Ok(p) = std::env::var("KSEF_SPEC") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ksef-spec")
}

fn samples() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for kind in ["fa3", "fa2"] {
        let dir = spec_dir().join("samples").join(kind);
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "xml") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// The bytes of an owned buffer, freeing it.
unsafe fn take(b: *mut ksef_ffi::common::ksef_buffer) -> Vec<u8> {
    let v = unsafe { std::slice::from_raw_parts(ksef_buffer_data(b), ksef_buffer_len(b)) }.to_vec();
    unsafe { ksef_buffer_free(b) };
    v
}

#[test]
fn samples_match_the_rust_api() {
    let all = samples();
    assert!(
        all.len() >= 20,
        "samples missing in {}",
        spec_dir().display()
    );
    for path in all {
        let name = path.display();
        let bytes = std::fs::read(&path).unwrap();
        let parsed = ksef::xml::parse(&bytes).unwrap();
        let want = ksef::xml::emit(&parsed.invoice, parsed.schema).unwrap();
        unsafe {
            let mut inv = ptr::null_mut();
            assert_eq!(
                ksef_invoice_from_xml(bytes.as_ptr(), bytes.len(), &mut inv),
                0,
                "{name}"
            );
            let schema = match parsed.schema {
                ksef::SchemaVersion::Fa2 => KSEF_SCHEMA_FA2,
                ksef::SchemaVersion::Fa3 => KSEF_SCHEMA_FA3,
            };
            assert_eq!(ksef_invoice_schema(inv), schema, "{name}");

            let mut out = ptr::null_mut();
            assert_eq!(ksef_invoice_to_xml(inv, &mut out), 0, "{name}");
            assert_eq!(take(out), want, "{name}");

            let mut buf = vec![0u8; want.len()];
            let mut n = 0usize;
            let rc = ksef_invoice_to_xml_into(inv, buf.as_mut_ptr(), buf.len(), &mut n);
            assert_eq!((rc, n), (0, want.len()), "{name}");
            assert_eq!(buf, want, "{name}");

            let mut json = ptr::null_mut();
            assert_eq!(ksef_invoice_to_json(inv, &mut json), 0, "{name}");
            assert_eq!(
                take(json),
                parsed.invoice.to_json().unwrap().into_bytes(),
                "{name}"
            );

            let mut report = ptr::null_mut();
            assert_eq!(ksef_invoice_validate(inv, ptr::null(), 0, &mut report), 0);
            let got: serde_json::Value = serde_json::from_slice(&take(report)).unwrap();
            let r = ksef::validate::validate(
                &parsed.invoice,
                parsed.schema,
                &ksef::validate::Options::new(),
            );
            assert_eq!(got, r.to_json_value(), "{name}");
            ksef_invoice_free(inv);
        }
    }
}
