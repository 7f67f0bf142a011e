//! The `ksef` binary: outputs, exit codes (0 ok, 1 invalid input, 2 usage/I-O), and messages
//! that name the place of the problem, never a panic trace.

mod common;

use std::path::PathBuf;

use common::{run as ksef, spec, stderr};

#[test]
fn parse_render_validate_round_trip() {
    let sample = spec().join("samples/fa3/FA_3_Przyklad_04.xml");
    let parsed = ksef(&["parse", sample.to_str().unwrap()], None);
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    assert!(String::from_utf8_lossy(&parsed.stdout).contains("\"FaWiersz\": ["));
    let xml = ksef(&["render", "-"], Some(&parsed.stdout));
    assert!(xml.status.success(), "{}", stderr(&xml));
    assert!(xml
        .stdout
        .starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let v = ksef(&["validate", "-"], Some(&xml.stdout));
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    // the JSON form validates directly too
    let v = ksef(&["validate", "-"], Some(&parsed.stdout));
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
}

#[test]
fn invalid_input_exits_1_with_the_path() {
    let sample = std::fs::read_to_string(spec().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let bad = sample.replace("<P_15>2051</P_15>", "<P_15>3051</P_15>");
    let v = ksef(&["validate", "-"], Some(bad.as_bytes()));
    assert_eq!(v.status.code(), Some(1));
    assert!(
        stderr(&v).contains("error [total_due]: Faktura/Fa/P_15"),
        "{}",
        stderr(&v)
    );
    let broken = ksef(
        &["parse", "-"],
        Some(b"<Faktura xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"><Naglowek a=b>"),
    );
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr(&broken).contains("line 1, column"),
        "{}",
        stderr(&broken)
    );
    assert!(!stderr(&broken).contains("panicked"));
    let fa2 = ksef(
        &["render", "--schema", "fa2", "-"],
        Some(br#"{"Naglowek": {}}"#),
    );
    assert_eq!(fa2.status.code(), Some(1));
    assert!(
        stderr(&fa2).contains("Faktura/Naglowek/DataWytworzeniaFa"),
        "{}",
        stderr(&fa2)
    );
    let future = ksef(
        &["validate", "--today", "2026-02-01", "-"],
        Some(sample.as_bytes()),
    );
    assert_eq!(future.status.code(), Some(1));
    assert!(
        stderr(&future).contains("future_issue_date"),
        "{}",
        stderr(&future)
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(ksef(&[], None).status.code(), Some(2));
    assert_eq!(ksef(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(ksef(&["parse"], None).status.code(), Some(2));
    assert_eq!(
        ksef(&["render", "--schema", "fa9", "x.json"], None)
            .status
            .code(),
        Some(2)
    );
    let missing = ksef(&["parse", "/nonexistent/file.xml"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/file.xml"));
    assert_eq!(ksef(&["help"], None).status.code(), Some(0));
}

#[test]
fn json_schema_is_printed() {
    let o = ksef(&["json-schema"], None);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["$defs"]["Faktura"].is_object());
}

#[test]
fn demo_writes_valid_invoices() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo");
    let _ = std::fs::remove_dir_all(&dir);
    let o = ksef(&["demo", dir.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let xmls: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    assert!(xmls.len() >= 5);
    let pngs = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".kod1.png")
        })
        .count();
    assert_eq!(pngs, 5, "a KOD I image per invoice");
    for p in xmls {
        let v = ksef(&["validate", p.to_str().unwrap()], None);
        assert_eq!(v.status.code(), Some(0), "{}: {}", p.display(), stderr(&v));
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let group = if name.ends_with(".fa2.xml") {
            "demo-fa2"
        } else {
            "demo-fa3"
        };
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/xsd-out")
            .join(group);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&p, out.join(name)).unwrap();
    }
}
