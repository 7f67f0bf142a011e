//! `ksef-ffi` — C ABI for the `ksef` core.
//!
//! Built as `cdylib` (`libksef_ffi.so`), `staticlib` (`libksef_ffi.a`) and `rlib`.
//! The C ABI issue adds here: `extern "C"` functions over the core (parse/emit
//! FA(3)/FA(2) invoices, validation, KSeF numbers, QR codes, crypto helpers),
//! opaque handles with explicit free functions, error codes plus a last-error
//! message, and caller-owned buffers. The generated C header goes to
//! `include/` (see `include/README.md`).
//!
//! Nothing is exported yet.

#[cfg(test)]
mod tests {
    /// Smoke test: the crate builds and links the core (with `std`).
    #[test]
    fn links_core() {
        use ksef as _;
    }
}
