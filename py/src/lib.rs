//! `ksef-py` — placeholder for the Python bindings of the `ksef` core.
//!
//! The Python-bindings issue turns this into a PyO3 extension module (built
//! with maturin). Until then it is a plain rlib so the workspace builds; it is
//! not in the workspace's `default-members`.
