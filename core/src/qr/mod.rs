//! QR codes for invoices: KOD I (invoice link) and KOD II (certificate code), module matrix and images.
//!
//! What goes on an invoice (`kody-qr.md`):
//!
//! | invoice | codes | label under the code |
//! |---------|-------|----------------------|
//! | online (sent to KSeF) | KOD I | the KSeF number, or `OFFLINE` while it is not known |
//! | offline (issued before sending) | KOD I + KOD II | `OFFLINE` / the KSeF number once known; `CERTYFIKAT` |
//!
//! - [`InvoiceLink`] (KOD I): `https://{QR host}/invoice/{seller NIP}/{P_1 DD-MM-YYYY}/{SHA-256
//!   base64url}`, hash over the exact bytes of the invoice file.
//! - [`CertificateLink`] (KOD II): `https://{QR host}/certificate/{context type}/{context
//!   value}/{seller NIP}/{certificate serial}/{hash}/{signature}`, signed with the key of the
//!   issuer's KSeF certificate of type `Offline` ([`sign`]).
//! - [`matrix`]: the QR symbol, byte mode, level M by default (as the official images),
//!   allocation-free into caller buffers or owned ([`QrMatrix`]).
//! - [`render`]: the picture with the label under it — a 1-bit raster written row by row
//!   into caller buffers (receipt printers), SVG text, PNG (feature `std`).
//!
//! Allocation-free path for small devices (hashing, link, matrix, raster rows):
//!
//! ```
//! use ksef::crypto::hash::Sha256Hasher;
//! use ksef::model::Date;
//! use ksef::qr::matrix::{encode_into, QrModules, DEFAULT_ECC, KOD1_BUFFER_LEN};
//! use ksef::qr::InvoiceLink;
//! use ksef::Environment;
//!
//! let xml: &[u8] = b"<Faktura>...</Faktura>"; // the exact bytes sent to KSeF
//! let mut hasher = Sha256Hasher::new();
//! hasher.update(xml);
//! let date: Date = "2026-02-15".parse()?;
//! let link = InvoiceLink::new(Environment::Production, "9999999999", date, hasher.finish())?;
//!
//! let mut url = [0u8; InvoiceLink::MAX_URL_LEN];
//! let url = link.write_url(&mut url)?;
//! let (mut temp, mut out) = ([0u8; KOD1_BUFFER_LEN], [0u8; KOD1_BUFFER_LEN]);
//! let m = encode_into(url, DEFAULT_ECC, &mut temp, &mut out)?;
//! assert_eq!(m.size(), 41); // version 6
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod link;
pub mod matrix;
pub mod render;
pub mod sign;

mod font;

pub use link::{
    base64url_len, invoice_label, CertificateLink, ContextType, InvoiceLink, LABEL_CERTIFICATE,
    LABEL_OFFLINE,
};
pub use matrix::{EccLevel, QrMatrix, QrMatrixRef, QrModules, DEFAULT_ECC};
pub use render::RenderOptions;
