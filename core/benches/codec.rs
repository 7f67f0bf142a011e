//! Emit, parse and validate on official samples (figures recorded in docs/BENCHMARKS.md).
//!
//! `cargo bench -p ksef` (or `make bench`).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;

use ksef::model::SchemaVersion;
use ksef::xml::{self, EmitOptions};

fn sample(name: &str) -> Vec<u8> {
    let spec = std::env::var("KSEF_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ksef-spec")
        });
    let p = spec.join("samples/fa3").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn bench(c: &mut Criterion) {
    for name in ["FA_3_Przyklad_01.xml", "FA_3_Przyklad_04.xml"] {
        let bytes = sample(name);
        let inv = xml::parse(&bytes).unwrap().invoice;
        let short = &name[..name.len() - 4];
        c.bench_function(&format!("parse/{short}"), |b| {
            b.iter(|| xml::parse(black_box(&bytes)).unwrap())
        });
        let mut out = Vec::with_capacity(16 * 1024);
        c.bench_function(&format!("emit/{short}"), |b| {
            b.iter(|| {
                out.clear();
                xml::write(
                    black_box(&inv),
                    SchemaVersion::Fa3,
                    &EmitOptions::default(),
                    &mut out,
                )
                .unwrap();
                black_box(out.len())
            })
        });
        let mut buf = vec![0u8; 16 * 1024];
        c.bench_function(&format!("emit_into_buffer/{short}"), |b| {
            b.iter(|| {
                xml::emit_into(
                    black_box(&inv),
                    SchemaVersion::Fa3,
                    &EmitOptions::default(),
                    &mut buf,
                )
                .unwrap()
            })
        });
        c.bench_function(&format!("check_xsd_facets/{short}"), |b| {
            b.iter(|| xml::check(black_box(&inv), SchemaVersion::Fa3).unwrap())
        });
        let opts = ksef::validate::Options::new();
        c.bench_function(&format!("validate/{short}"), |b| {
            b.iter(|| ksef::validate::validate(black_box(&inv), SchemaVersion::Fa3, &opts))
        });
        c.bench_function(&format!("json_out/{short}"), |b| {
            b.iter(|| black_box(&inv).to_json().unwrap())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
