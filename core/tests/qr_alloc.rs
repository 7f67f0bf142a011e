//! Allocation counts (deterministic): the small-device path — hashing, KOD I link, KOD II
//! string to sign + ECDSA signature + link, QR matrix, raster rows, KSeF number check —
//! allocates nothing when given caller buffers.

mod common;

use common::{allocs, Counting};

use ksef::crypto::hash::{Sha256Hash, Sha256Hasher};
use ksef::id::KsefNumber;
use ksef::model::Date;
use ksef::qr::matrix::{
    encode_into, QrModules, DEFAULT_ECC, KOD1_BUFFER_LEN, KOD2_ECDSA_BUFFER_LEN,
};
use ksef::qr::render::{Raster, RenderOptions};
use ksef::qr::sign::sign_ecdsa_p256;
use ksef::qr::{CertificateLink, ContextType, InvoiceLink};
use ksef::Environment;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_small_device_path_allocates_nothing() {
    let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Faktura>...</Faktura>";
    let key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let date = Date::new(2026, 2, 15).unwrap();
    let (dark_pixels, count) = allocs(|| {
        // hash in pieces, as read from storage
        let mut h = Sha256Hasher::new();
        for chunk in xml.chunks(7) {
            h.update(chunk);
        }
        let hash = h.finish();
        let mut b64 = [0u8; Sha256Hash::BASE64_LEN];
        assert_eq!(hash.base64_into(&mut b64).len(), 44);

        // KOD I
        let link = InvoiceLink::new(Environment::Production, "9999999999", date, hash).unwrap();
        let mut url = [0u8; InvoiceLink::MAX_URL_LEN];
        let url = link.write_url(&mut url).unwrap();
        let (mut temp, mut out) = ([0u8; KOD1_BUFFER_LEN], [0u8; KOD1_BUFFER_LEN]);
        let m = encode_into(url, DEFAULT_ECC, &mut temp, &mut out).unwrap();
        assert_eq!(m.size(), 41);
        let number = KsefNumber::parse("9999999999-20260215-0100001AF629-A5").unwrap();
        let raster = Raster::new(&m, link.label(Some(&number)), &RenderOptions::default()).unwrap();
        let mut row = [0u8; 64];
        let mut dark = 0;
        for y in 0..raster.height() {
            raster.row_into(y, &mut row).unwrap();
            dark += row.iter().map(|b| b.count_ones() as usize).sum::<usize>();
        }

        // KOD II with ECDSA P-256
        let kod2 = CertificateLink::new(
            Environment::Production,
            ContextType::Nip,
            "9999999999",
            "9999999999",
            "01F20A5D352AE590",
            hash,
        )
        .unwrap();
        let sig = sign_ecdsa_p256(&kod2, &key).unwrap();
        let mut url2 = [0u8; CertificateLink::MAX_ECDSA_URL_LEN];
        let url2 = kod2.write_url(&sig, &mut url2).unwrap();
        assert_eq!(url2.len(), kod2.url_len(64));
        let (mut temp, mut out) = ([0u8; KOD2_ECDSA_BUFFER_LEN], [0u8; KOD2_ECDSA_BUFFER_LEN]);
        let m2 = encode_into(url2, DEFAULT_ECC, &mut temp, &mut out).unwrap();
        let raster2 = Raster::new(&m2, kod2.label(), &RenderOptions::default()).unwrap();
        let mut row = [0u8; 128];
        for y in 0..raster2.height() {
            raster2.row_into(y, &mut row).unwrap();
        }
        dark
    });
    assert!(dark_pixels > 1000);
    assert_eq!(count, 0, "the caller-buffer path must not allocate");
}
