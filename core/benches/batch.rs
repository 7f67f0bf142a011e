//! Batch preparation of 10 000 invoices (figures recorded in docs/BENCHMARKS.md).
//!
//! `cargo bench -p ksef --bench batch`. Peak memory: `cargo run --release -p ksef --example
//! batch_peak` (a counting global allocator over all threads).

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;

use ksef::crypto::session::SessionKey;
use ksef::protocol::batch::{
    prepare_batch, prepare_batch_parallel, BatchOptions, PartInfo, PartSink,
};
use ksef::Error;

/// Drops the encrypted bytes (an upload would stream them out).
struct Discard(u64);

impl PartSink for Discard {
    fn begin_part(&mut self, _: u32) -> Result<(), Error> {
        Ok(())
    }
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0 += bytes.len() as u64;
        Ok(())
    }
    fn end_part(&mut self, _: &PartInfo) -> Result<(), Error> {
        Ok(())
    }
}

fn template() -> (Vec<u8>, usize) {
    let spec = std::env::var("KSEF_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ksef-spec")
        });
    let p = spec.join("samples/fa3/FA_3_Przyklad_01.xml");
    let xml = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let at = xml
        .windows(13)
        .position(|w| w == b"FV2026/02/150")
        .expect("P_2 of sample 01");
    (xml, at)
}

/// 10 000 invoices with unique P_2, generated lazily into one reused-size buffer each.
fn invoices(xml: &[u8], at: usize) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
    (0..10_000u32).map(move |i| {
        let mut x = xml.to_vec();
        x[at..at + 13].copy_from_slice(format!("FV2026/{i:06}").as_bytes());
        (format!("FA-{i:05}.xml"), x)
    })
}

fn bench(c: &mut Criterion) {
    let (xml, at) = template();
    let key = SessionKey::from_parts([7; 32], [9; 16]);
    let opts = BatchOptions::default();
    let mut g = c.benchmark_group("batch_10000");
    g.sample_size(20);
    g.bench_function("generate_only", |b| {
        b.iter(|| invoices(&xml, at).map(|(_, x)| x.len()).sum::<usize>())
    });
    g.bench_function("prepare_single_thread", |b| {
        b.iter(|| {
            let mut sink = Discard(0);
            prepare_batch(invoices(&xml, at), &key, &opts, &mut sink).unwrap()
        })
    });
    g.bench_function("prepare_two_threads", |b| {
        b.iter(|| {
            let mut sink = Discard(0);
            prepare_batch_parallel(invoices(&xml, at), &key, &opts, &mut sink).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
