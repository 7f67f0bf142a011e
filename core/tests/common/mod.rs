//! Shared helpers for the integration tests: where the official spec material is, and where
//! emitted XML goes for `make xsd-check`.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/ksef-spec` beside the repository, or `$KSEF_SPEC`.
pub fn spec_dir() -> PathBuf {
    if let Ok(p) = std::env::var("KSEF_SPEC") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ksef-spec")
}

/// All `*.xml` files of a samples folder, sorted.
pub fn samples(kind: &str) -> Vec<PathBuf> {
    let dir = spec_dir().join("samples").join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no samples in {}", dir.display());
    v
}

/// Save emitted XML where `make xsd-check` validates it with xmllint.
pub fn save_for_xsd_check(group: &str, name: &str, xml: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/xsd-out")
        .join(group);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), xml).unwrap();
}
