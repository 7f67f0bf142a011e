//! Identifiers: NIP and the other tax identifiers KSeF uses.
