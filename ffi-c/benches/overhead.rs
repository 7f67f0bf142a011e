//! The cost of the C ABI layer, for comparison with the PHP FFI path
//! (`ffi-c/php/bench/overhead.php`; figures in docs/BENCHMARKS.md): the same operations
//! through the exported `extern "C"` functions (called from Rust, so only the ABI layer —
//! argument checks, UTF-8 check, panic boundary, last error — is added) and through the core
//! directly.
//!
//! `cargo bench -p ksef-ffi --bench overhead`. The 1 KB input is the first 1024 bytes of the
//! official sample `FA_3_Przyklad_01.xml` (`KSEF_SPEC`, default `../shared/ksef-spec`), as
//! in the PHP benchmark.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

use ksef::crypto::hash::sha256;
use ksef::id::Nip;
use ksef_ffi::ids::{ksef_nip_check, ksef_sha256};

fn invoice_1k() -> Vec<u8> {
    let spec = std::env::var("KSEF_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ksef-spec")
        });
    let p = spec.join("samples/fa3/FA_3_Przyklad_01.xml");
    let mut xml = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert!(xml.len() >= 1024, "the sample is shorter than 1 KB");
    xml.truncate(1024);
    xml
}

fn overhead(c: &mut Criterion) {
    let nip = "5265877635";
    let data = invoice_1k();
    let mut g = c.benchmark_group("overhead");

    g.bench_function("nip_check/core", |b| {
        b.iter(|| Nip::parse(black_box(nip)).is_ok())
    });
    g.bench_function("nip_check/c_abi", |b| {
        b.iter(|| {
            // SAFETY: a valid (ptr, len) pair.
            let rc = unsafe { ksef_nip_check(black_box(nip).as_ptr().cast(), nip.len()) };
            assert_eq!(rc, 0);
        })
    });

    g.bench_function("sha256_1k/core", |b| b.iter(|| sha256(black_box(&data)).0));
    g.bench_function("sha256_1k/c_abi", |b| {
        let mut out = [0u8; 32];
        b.iter(|| {
            // SAFETY: a valid (ptr, len) pair and a 32-byte output.
            let rc = unsafe { ksef_sha256(black_box(data.as_ptr()), data.len(), out.as_mut_ptr()) };
            assert_eq!(rc, 0);
            out
        })
    });
    g.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
