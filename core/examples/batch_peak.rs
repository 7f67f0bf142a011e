//! Peak heap memory and wall time of preparing a 10 000-invoice batch (sample 01 with unique
//! `P_2`, generated lazily), both paths. A counting global allocator over all threads.
//!
//! `KSEF_SPEC=… cargo run --release -p ksef --example batch_peak`

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ksef::crypto::session::SessionKey;
use ksef::protocol::batch::{
    prepare_batch, prepare_batch_parallel, BatchOptions, PartInfo, PartSink,
};
use ksef::Error;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

fn grow(n: usize) {
    let v = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(v, Ordering::Relaxed);
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grow(l.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        grow(n);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

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

fn main() {
    let spec = std::env::var("KSEF_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../shared/ksef-spec"));
    let xml = std::fs::read(spec.join("samples/fa3/FA_3_Przyklad_01.xml")).expect("sample 01");
    let at = xml
        .windows(13)
        .position(|w| w == b"FV2026/02/150")
        .expect("P_2");
    let key = SessionKey::from_parts([7; 32], [9; 16]);
    let invoices = || {
        (0..10_000u32).map(|i| {
            let mut x = xml.to_vec();
            x[at..at + 13].copy_from_slice(format!("FV2026/{i:06}").as_bytes());
            (format!("FA-{i:05}.xml"), x)
        })
    };
    for parallel in [false, true] {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let mut sink = Discard(0);
        let t = Instant::now();
        let batch = if parallel {
            prepare_batch_parallel(invoices(), &key, &BatchOptions::default(), &mut sink)
        } else {
            prepare_batch(invoices(), &key, &BatchOptions::default(), &mut sink)
        }
        .expect("batch");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let peak = PEAK.load(Ordering::Relaxed) - base;
        println!(
            "{}: archive {} bytes, {} part(s), {} encrypted bytes, {ms:.0} ms, peak heap {:.2} MB",
            if parallel {
                "two threads"
            } else {
                "single thread"
            },
            batch.file_size,
            batch.parts.len(),
            sink.0,
            peak as f64 / 1e6
        );
    }
}
