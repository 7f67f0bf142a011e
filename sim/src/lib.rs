//! `ksef-sim` — an offline simulator of the KSeF 2.0 API.
//!
//! Will provide an in-process stand-in for the KSeF TEST environment, so that
//! the client, the CLI and the bindings can be tested without the network:
//! auth challenge and token flows, online and batch sessions, invoice
//! submission with XSD-level checks, KSeF number assignment, UPO generation,
//! invoice retrieval, and the error/limit responses (400/401/429...) described
//! in the official OpenAPI (`shared/ksef-spec/openapi/`).
//!
//! Nothing is implemented yet.

#![forbid(unsafe_code)]

#[cfg(test)]
mod tests {
    /// Smoke test: the crate builds and links the core (with `std`).
    #[test]
    fn links_core() {
        use ksef as _;
    }
}
