//! Allocation counts (deterministic, not timing): emitting into a caller's buffer allocates
//! nothing, and emitting into a `Vec` allocates only the output.

mod common;

use std::cell::Cell;

use common::{allocs, Counting, LIVE, PEAK};

use ksef::model::SchemaVersion;
use ksef::xml::{self, EmitOptions};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn emit_allocates_only_its_output() {
    for name in [
        "FA_3_Przyklad_01.xml",
        "FA_3_Przyklad_04.xml",
        "FA_3_Przyklad_20.xml",
    ] {
        let bytes = std::fs::read(common::spec_dir().join("samples/fa3").join(name)).unwrap();
        let inv = xml::parse(&bytes).unwrap().invoice;
        let opts = EmitOptions::default();
        let mut buf = vec![0u8; 64 * 1024];
        let (n, count) =
            allocs(|| xml::emit_into(&inv, SchemaVersion::Fa3, &opts, &mut buf).unwrap());
        assert!(n > 1000);
        assert_eq!(count, 0, "{name}: emit into a buffer must not allocate");
        let mut out = Vec::with_capacity(64 * 1024);
        let ((), count) = allocs(|| xml::write(&inv, SchemaVersion::Fa3, &opts, &mut out).unwrap());
        assert_eq!(
            count, 0,
            "{name}: emit into a Vec with room must not allocate"
        );
        assert_eq!(out, &buf[..n]);
        let (_, count) = allocs(|| xml::check(&inv, SchemaVersion::Fa3).unwrap());
        assert_eq!(count, 0, "{name}: the schema check must not allocate");
        let (_, parse_allocs) = allocs(|| xml::parse(&bytes).unwrap());
        eprintln!("{name}: parse makes {parse_allocs} allocations (the model's strings and lists)");
        // the convenient API: only the output buffer (and its growth)
        let (_, count) = allocs(|| xml::emit(&inv, SchemaVersion::Fa3).unwrap());
        assert!(count <= 2, "{name}: emit made {count} allocations");
    }
}

/// Parsing streams: besides the invoice it builds, it keeps only the open elements, so a
/// 5 000-line invoice needs little more memory than its model.
#[test]
fn parse_memory_is_the_model_plus_a_little() {
    let bytes = std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let mut inv = xml::parse(&bytes).unwrap().invoice;
    let line = inv.fa.fa_wiersz[0].clone();
    inv.fa.fa_wiersz = (1..=5000u64)
        .map(|i| {
            let mut l = line.clone();
            l.nr_wiersza_fa = i;
            l
        })
        .collect();
    let big = xml::emit(&inv, SchemaVersion::Fa3).unwrap();
    // model size: what stays allocated after parsing
    let live_before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live_before));
    let parsed = xml::parse(&big).unwrap();
    let model = LIVE.with(Cell::get) - live_before;
    let peak = PEAK.with(Cell::get) - live_before;
    assert_eq!(parsed.invoice.fa.fa_wiersz.len(), 5000);
    eprintln!(
        "document {} bytes, model {} bytes, peak while parsing {} bytes",
        big.len(),
        model,
        peak
    );
    // the line vector doubles while growing; nothing proportional to the document remains
    assert!(peak < model * 2 + 64 * 1024, "peak {peak} vs model {model}");
}
