//! Cryptography for KSeF: hashes, keys and certificates, session encryption (AES-256-CBC, RSA-OAEP), signatures.
