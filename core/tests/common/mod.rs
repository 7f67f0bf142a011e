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

/// A small deterministic generator (xorshift64*) for mutation tests: failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A global allocator that counts allocations and live/peak bytes per thread. A test file
/// installs it with `#[global_allocator] static A: common::Counting = common::Counting;`.
pub struct Counting;

thread_local! {
    pub static ALLOCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    pub static LIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    pub static PEAK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn grow(n: usize) {
    LIVE.with(|l| {
        let v = l.get() + n;
        l.set(v);
        PEAK.with(|p| p.set(p.get().max(v)));
    });
}

fn shrink(n: usize) {
    LIVE.with(|l| l.set(l.get().saturating_sub(n)));
}

// SAFETY: forwards to the system allocator; only counts, per thread.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        grow(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        shrink(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        shrink(layout.size());
        grow(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Run `f`, returning its result and how many allocations it made on this thread.
pub fn allocs<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCS.with(std::cell::Cell::get);
    let r = f();
    (r, ALLOCS.with(std::cell::Cell::get) - before)
}
