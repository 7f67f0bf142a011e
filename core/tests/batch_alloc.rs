//! Batch preparation streams: its peak memory does not grow with the archive (only the ZIP
//! central directory and the per-invoice entries grow, by ~150 bytes per invoice).

mod common;

use common::{Counting, LIVE, PEAK};

use ksef::crypto::session::SessionKey;
use ksef::protocol::batch::{prepare_batch, BatchOptions, PartInfo, PartSink};
use ksef::Error;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts the encrypted bytes and drops them (an upload would do the same).
#[derive(Default)]
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

/// Peak bytes above the starting point while preparing `n` invoices of ~3.4 KB each.
fn peak(n: usize, template: &str) -> (usize, u64) {
    let key = SessionKey::from_parts([1; 32], [2; 16]);
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let invoices = (0..n).map(|i| {
        (
            format!("faktura-{i:05}.xml"),
            template
                .replace("FV2026/02/150", &format!("FV/{i:08}"))
                .into_bytes(),
        )
    });
    let mut sink = Discard::default();
    let batch = prepare_batch(invoices, &key, &BatchOptions::default(), &mut sink).unwrap();
    let p = PEAK.with(|p| p.get()) - base;
    drop(batch);
    (p, sink.0)
}

#[test]
fn peak_memory_does_not_grow_with_the_archive() {
    let path = common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml");
    let template = std::fs::read_to_string(path).unwrap();
    let (small, small_bytes) = peak(200, &template);
    let (large, large_bytes) = peak(3000, &template);
    let growth = large_bytes - small_bytes; // ~10 MB more archive, all in one part
    assert!(growth > 9_000_000, "{growth}");
    // The whole part is never held: the peak is the chunk buffers (2 × 256 KiB), the
    // central directory and entries (~150 B per invoice), one invoice.
    assert!(
        large < 2_000_000,
        "peak {large} bytes for a {large_bytes}-byte part"
    );
    // What grows is per invoice (names, central directory, entries, with Vec doubling):
    // under 400 bytes each, against the ~3 400 bytes of XML each adds to the archive.
    assert!(
        large - small < 2800 * 400,
        "peak grew by {} bytes for {growth} more archive bytes",
        large - small
    );
}
