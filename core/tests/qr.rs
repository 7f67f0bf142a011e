//! KSeF numbers, KOD I / KOD II links and QR images against the spec's test vectors
//! (`test-vectors/ksef-test-vectors.json`), OpenSSL (signatures) and zbarimg (a real QR
//! reader, package `zbar-tools`; `make deps` installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ksef::crypto::hash::{sha256, Sha256Hash};
use ksef::crypto::{PrivateKey, PublicKey};
use ksef::id::{crc8, KsefNumber, KsefNumberError};
use ksef::model::Date;
use ksef::qr::matrix::{QrMatrix, QrModules, DEFAULT_ECC};
use ksef::qr::render::{self, RenderOptions};
use ksef::qr::sign::{self, sign_ecdsa_p256, sign_rsa_pss, verify_ecdsa_p256, verify_rsa_pss};
use ksef::qr::{CertificateLink, ContextType, InvoiceLink, LABEL_CERTIFICATE};
use ksef::{Environment, ErrorCode};
use serde_json::Value;

fn vectors() -> Value {
    let p = common::spec_dir().join("test-vectors/ksef-test-vectors.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("qr");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn env_of(url: &str) -> Environment {
    Environment::ALL
        .into_iter()
        .find(|e| url.starts_with(&format!("{}/", e.qr_base_url())))
        .unwrap_or_else(|| panic!("no environment for {url}"))
}

#[test]
fn ksef_number_vectors() {
    let v = vectors();
    let k = &v["ksef_numbers"];
    let check = u8::from_str_radix(s(&k["crc8_check_123456789"]), 16).unwrap();
    assert_eq!(crc8(b"123456789"), check);
    let list = k["vectors"].as_array().unwrap();
    assert!(list.len() >= 10);
    for t in list {
        let number = s(&t["ksefNumber"]);
        let crc = u8::from_str_radix(s(&t["computedCrc"]), 16).unwrap();
        assert_eq!(crc8(s(&t["crcInput"]).as_bytes()), crc, "{number}");
        match KsefNumber::parse(number) {
            Ok(n) => {
                assert!(t["valid"].as_bool().unwrap(), "{number} must be refused");
                assert_eq!(n.as_str(), number);
                assert_eq!(n.checksum(), crc);
                assert_eq!(n.seller_nip(), &number[..10]);
                assert_eq!(
                    KsefNumber::from_prefix(s(&t["crcInput"])).unwrap(),
                    n,
                    "{number}"
                );
            }
            Err(e) => {
                assert!(!t["valid"].as_bool().unwrap(), "{number}: {e}");
                let found = u8::from_str_radix(&number[33..], 16).unwrap();
                assert_eq!(
                    e,
                    KsefNumberError::Checksum {
                        expected: crc,
                        found
                    }
                );
                let err: ksef::Error = e.into();
                assert_eq!(err.code(), ErrorCode::KsefNumber);
                assert_eq!(err.code().as_u32(), 400);
            }
        }
    }
}

#[test]
fn kod1_vectors() {
    let v = vectors();
    let k = &v["kod1"];
    let list = k["derived_from_official_sample"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    let mut envs = Vec::new();
    for t in list {
        let bytes = std::fs::read(common::spec_dir().join(s(&t["file"]))).unwrap();
        assert_eq!(bytes.len() as u64, t["fileSize"].as_u64().unwrap());
        let h = sha256(&bytes);
        assert_eq!(h.to_base64(), s(&t["sha256_base64"]));
        assert_eq!(h.to_base64url(), s(&t["sha256_base64url"]));
        let url = s(&t["url"]);
        let env = env_of(url);
        envs.push(env);
        let link = InvoiceLink::from_invoice_xml(env, &bytes).unwrap();
        assert_eq!(link.url(), url);
        assert_eq!(link.seller_nip(), s(&t["sellerNip"]));
        assert_eq!(link.issue_date().to_string(), s(&t["P_1"]));
        let mut buf = [0u8; InvoiceLink::MAX_URL_LEN];
        assert_eq!(link.write_url(&mut buf).unwrap(), url);
    }
    envs.sort();
    assert_eq!(envs, Environment::ALL);

    // the documentation's example (its XML is not published: build it from the parts)
    let url = s(&k["official_doc_example"]["url"]);
    let parts: Vec<&str> = url.rsplitn(4, '/').collect();
    let (hash, date, nip) = (parts[0], parts[1], parts[2]);
    let d = Date::new(
        date[6..].parse().unwrap(),
        date[3..5].parse().unwrap(),
        date[..2].parse().unwrap(),
    )
    .unwrap();
    let hash = Sha256Hash::from_base64url(hash).unwrap();
    let link = InvoiceLink::new(env_of(url), nip, d, hash).unwrap();
    assert_eq!(link.url(), url);
}

#[test]
fn kod1_of_an_invoice_that_is_not_xml() {
    let e = InvoiceLink::from_invoice_xml(Environment::Test, b"not xml").unwrap_err();
    assert_eq!(e.code(), ErrorCode::XmlSyntax, "{e:?}");
}

fn ecdsa_vector_key() -> (Value, p256::ecdsa::SigningKey) {
    let v = vectors();
    let t = v["kod2"]["derived_ecdsa_p256"].clone();
    let scalar = hex(s(&t["privateKey_scalar_hex"]));
    let key = p256::ecdsa::SigningKey::from_slice(&scalar).unwrap();
    (t, key)
}

fn hex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The KOD II link of the derived vectors (`.../Nip/9999999999/9999999999/01F20A5D352AE590/...`).
fn vector_link(string_to_sign: &str) -> CertificateLink<'_> {
    let (host, rest) = string_to_sign.split_once('/').unwrap();
    let env = Environment::ALL
        .into_iter()
        .find(|e| e.qr_host() == host)
        .unwrap();
    let p: Vec<&str> = rest.split('/').collect();
    assert_eq!(p[0], "certificate");
    let link = CertificateLink::new(
        env,
        p[1].parse::<ContextType>().unwrap(),
        p[2],
        p[3],
        p[4],
        Sha256Hash::from_base64url(p[5]).unwrap(),
    )
    .unwrap();
    assert_eq!(link.string_to_sign(), string_to_sign);
    link
}

#[test]
fn kod2_ecdsa_vector_is_reproduced_byte_exact() {
    let (t, key) = ecdsa_vector_key();
    let link = vector_link(s(&t["stringToSign"]));
    assert_eq!(
        sha256(link.string_to_sign().as_bytes()).to_hex(),
        s(&t["stringToSign_sha256_hex"])
    );
    let sig = sign_ecdsa_p256(&link, &key).unwrap();
    let url = link.url(&sig).unwrap();
    assert_eq!(url, s(&t["url_p1363"]));
    assert!(url.ends_with(&format!("/{}", s(&t["signature_p1363_base64url"]))));
    assert_eq!(url.len(), link.url_len(64));
    assert_eq!(link.label(), LABEL_CERTIFICATE);
    // both encodings verify; a changed link does not
    let vk = key.verifying_key();
    verify_ecdsa_p256(&link, vk, &sig).unwrap();
    let der = b64url(s(&t["signature_der_base64url"]));
    verify_ecdsa_p256(&link, vk, &der).unwrap();
    let other = CertificateLink::new(
        Environment::Production,
        link.context_type(),
        link.context_value(),
        link.seller_nip(),
        link.certificate_serial(),
        *link.hash(),
    )
    .unwrap();
    let e = verify_ecdsa_p256(&other, vk, &sig).unwrap_err();
    assert_eq!(e.code(), ErrorCode::QrSign);
}

fn b64url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

#[test]
fn kod2_rsa_pss_vector_verifies() {
    let v = vectors();
    let t = &v["kod2"]["derived_rsa_pss"];
    let link = vector_link(s(&t["stringToSign"]));
    let key = PublicKey::from_spki_pem(s(&t["publicKey_pem"])).unwrap();
    let sig = b64url(s(&t["signature_base64url"]));
    assert_eq!(sig.len(), 256);
    sign::verify(&link, &key, &sig).unwrap();
    assert_eq!(link.url(&sig).unwrap(), s(&t["url"]));
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert_eq!(
        sign::verify(&link, &key, &bad).unwrap_err().code(),
        ErrorCode::QrSign
    );
    // the ECDSA vector's public key
    let ec =
        PublicKey::from_spki_pem(s(&v["kod2"]["derived_ecdsa_p256"]["publicKey_pem"])).unwrap();
    let (_, key) = ecdsa_vector_key();
    assert_eq!(ec, PrivateKey::EcP256(key).public_key());
}

/// Randomness for the tests: `/dev/urandom`.
struct OsRandom;

impl rand_core::RngCore for OsRandom {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(dest)
            .unwrap();
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for OsRandom {}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (make deps installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl_verify(name: &str, pubkey_der: &[u8], msg: &str, sig: &[u8], pss: bool) {
    let (k, m, g) = (
        tmp(&format!("{name}.pub.der")),
        tmp(&format!("{name}.msg")),
        tmp(&format!("{name}.sig")),
    );
    std::fs::write(&k, pubkey_der).unwrap();
    std::fs::write(&m, msg).unwrap();
    std::fs::write(&g, sig).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["dgst", "-sha256", "-keyform", "DER", "-verify"])
        .arg(&k);
    if pss {
        cmd.args([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-sigopt",
            "rsa_mgf1_md:sha256",
        ]);
    }
    cmd.arg("-signature").arg(&g).arg(&m);
    let out = run(&mut cmd);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
}

fn test_link(env: Environment, hash: Sha256Hash) -> CertificateLink<'static> {
    CertificateLink::new(
        env,
        ContextType::Nip,
        "5265877635",
        "9999999999",
        "01F20A5D352AE590",
        hash,
    )
    .unwrap()
}

#[test]
fn kod2_ecdsa_signature_verifies_with_openssl() {
    use p256::pkcs8::EncodePublicKey;
    let (_, key) = ecdsa_vector_key();
    let link = test_link(Environment::Demo, sha256(b"an offline invoice"));
    let sig = sign_ecdsa_p256(&link, &key).unwrap();
    // OpenSSL reads ECDSA signatures as DER
    let der = p256::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
    let spki = p256::PublicKey::from(key.verifying_key())
        .to_public_key_der()
        .unwrap();
    openssl_verify(
        "ecdsa",
        spki.as_bytes(),
        &link.string_to_sign(),
        der.as_bytes(),
        false,
    );
}

/// An RSA-2048 key made by OpenSSL, read with `ksef::crypto::PrivateKey`.
fn openssl_rsa_key() -> &'static rsa::RsaPrivateKey {
    static KEY: std::sync::OnceLock<rsa::RsaPrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let p = tmp("rsa2048.pem");
        run(Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&p));
        match PrivateKey::from_pem_or_der(&std::fs::read(&p).unwrap()).unwrap() {
            PrivateKey::Rsa(k) => k,
            other => panic!("not RSA: {other:?}"),
        }
    })
}

#[test]
fn kod2_rsa_pss_signature_verifies_with_openssl() {
    use rsa::pkcs8::EncodePublicKey;
    let key = openssl_rsa_key();
    let link = test_link(Environment::Test, sha256(b"an offline invoice"));
    let sig = sign::sign(&link, &PrivateKey::Rsa(key.clone()), &mut OsRandom).unwrap();
    assert_eq!(sig.len(), 256);
    verify_rsa_pss(&link, &key.to_public_key(), &sig).unwrap();
    let spki = key.to_public_key().to_public_key_der().unwrap();
    openssl_verify("rsa", spki.as_bytes(), &link.string_to_sign(), &sig, true);
    // PSS is randomised: two signatures differ, both verify
    let sig2 = sign_rsa_pss(&link, key, &mut OsRandom).unwrap();
    assert_ne!(sig, sig2);
    verify_rsa_pss(&link, &key.to_public_key(), &sig2).unwrap();
}

#[test]
fn kod2_refuses_small_rsa_keys() {
    let key = rsa::RsaPrivateKey::new(&mut OsRandom, 1024).unwrap();
    let link = test_link(Environment::Test, sha256(b"x"));
    let e = sign_rsa_pss(&link, &key, &mut OsRandom).unwrap_err();
    assert_eq!(e.code(), ErrorCode::QrSign);
    assert!(e.message().contains("1024 bits"), "{e}");
}

fn zbarimg(png: &Path) -> String {
    let out = run(Command::new("zbarimg").args(["-q", "--raw"]).arg(png));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn png_images_scan_back_with_zbarimg() {
    let bytes = std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let kod1 = InvoiceLink::from_invoice_xml(Environment::Test, &bytes).unwrap();
    let number = KsefNumber::parse("5265877635-20250826-0100001AF629-AF").unwrap();
    let (_, key) = ecdsa_vector_key();
    let link = test_link(Environment::Test, *kod1.hash());
    let kod2_ecdsa = link.url(&sign_ecdsa_p256(&link, &key).unwrap()).unwrap();
    let rsa_key = openssl_rsa_key();
    let kod2_rsa = link
        .url(&sign_rsa_pss(&link, rsa_key, &mut OsRandom).unwrap())
        .unwrap();
    let cases = [
        (
            "kod1-number",
            kod1.url(),
            kod1.label(Some(&number)).to_string(),
            5,
        ),
        ("kod1-offline", kod1.url(), kod1.label(None).to_string(), 3),
        ("kod2-ecdsa", kod2_ecdsa, link.label().to_string(), 4),
        ("kod2-rsa", kod2_rsa, link.label().to_string(), 4),
    ];
    for (name, url, label, px) in cases {
        let m = QrMatrix::encode(&url, DEFAULT_ECC).unwrap();
        let opts = RenderOptions::default().with_module_px(px);
        let png = render::png(&m, Some(&label), &opts).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let p = tmp(&format!("{name}.png"));
        std::fs::write(&p, &png).unwrap();
        assert_eq!(zbarimg(&p), url, "{name}: version {}", m.version());
        // the SVG draws the same modules
        let svg = render::svg(&m, Some(&label), &opts).unwrap();
        std::fs::write(tmp(&format!("{name}.svg")), &svg).unwrap();
        assert_eq!(svg_modules(&svg, m.size(), &opts), modules(&m), "{name}");
        assert!(svg.contains(&format!(">{label}</text>")));
    }
}

/// The dark modules of a matrix, row by row.
fn modules(m: &impl QrModules) -> Vec<Vec<bool>> {
    (0..m.size())
        .map(|y| (0..m.size()).map(|x| m.is_dark(x, y)).collect())
        .collect()
}

/// Read the modules back from the `M{x} {y}h{w}v{m}h-{w}z` runs of our SVG.
fn svg_modules(svg: &str, size: usize, opts: &RenderOptions) -> Vec<Vec<bool>> {
    let (mpx, q) = (opts.module_px as usize, opts.quiet_zone as usize);
    let width: usize = svg
        .split("width=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let origin = (width - (size + 2 * q) * mpx) / 2 + q * mpx;
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut grid = vec![vec![false; size]; size];
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = run
            .split(|c: char| !c.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().unwrap())
            .collect();
        let (x, y, w) = ((nums[0] - origin) / mpx, nums[1] / mpx - q, nums[2] / mpx);
        for cell in &mut grid[y][x..x + w] {
            *cell = true;
        }
    }
    grid
}

/// The official label image `qr-ksef.png` (KOD I of the documentation's example) sampled
/// module by module: our matrix for the same URL is the same symbol (version 6-M, mask 2).
#[test]
fn matches_the_official_kod1_image() {
    let path = common::spec_dir().join("docs/ksef-docs/qr/qr-ksef.png");
    let mut dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let dark = |x: usize, y: usize| buf[(y * info.width as usize + x) * ch] < 128;
    let w = info.width as usize;
    let x0 = (0..w).find(|&x| (0..w).any(|y| dark(x, y))).unwrap();
    let x1 = (0..w).rev().find(|&x| (0..w).any(|y| dark(x, y))).unwrap();
    let url = "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/\
               UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE";
    let m = QrMatrix::encode(url, DEFAULT_ECC).unwrap();
    assert_eq!((m.version(), m.size()), (6, 41));
    let px = (x1 - x0 + 1) as f64 / 41.0;
    let official: Vec<Vec<bool>> = (0..41)
        .map(|my| {
            (0..41)
                .map(|mx| {
                    let sx = x0 + ((mx as f64 + 0.5) * px) as usize;
                    let sy = x0 + ((my as f64 + 0.5) * px) as usize;
                    dark(sx, sy)
                })
                .collect()
        })
        .collect();
    assert_eq!(m.mask(), 2);
    assert_eq!(modules(&m), official);
}

/// A self-signed EC P-256 certificate from OpenSSL: its serial goes into KOD II, its key
/// signs, its public key verifies.
#[test]
fn kod2_with_an_openssl_certificate() {
    let (k, c) = (tmp("offline-ec.key.pem"), tmp("offline-ec.cert.pem"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=offline test", "-days", "30"])
        .args(["-set_serial", "0x01F20A5D352AE590", "-keyout"])
        .arg(&k)
        .arg("-out")
        .arg(&c));
    let key = PrivateKey::from_pem_or_der(&std::fs::read(&k).unwrap()).unwrap();
    let cert = ksef::crypto::Certificate::from_pem_or_der(&std::fs::read(&c).unwrap()).unwrap();
    assert!(cert.matches_key(&key));
    let serial = cert.serial_hex();
    assert_eq!(serial, "01F20A5D352AE590");
    let bytes = std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let kod1 = InvoiceLink::from_invoice_xml(Environment::Demo, &bytes).unwrap();
    let link = kod1
        .certificate_link(ContextType::Nip, "9999999999", &serial)
        .unwrap();
    let url = link.signed_url(&key, &mut OsRandom).unwrap();
    let prefix = "https://qr-demo.ksef.mf.gov.pl/certificate/Nip/9999999999/9999999999/\
                  01F20A5D352AE590/X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA/";
    assert!(url.starts_with(prefix), "{url}");
    let sig = b64url(&url[prefix.len()..]);
    assert_eq!(sig.len(), 64);
    sign::verify(&link, &cert.public_key().unwrap(), &sig).unwrap();
}

/// Arbitrary text never panics the parsers and link builders; it is refused with a typed
/// error or accepted.
#[test]
fn arbitrary_input_never_panics() {
    let alphabet: Vec<char> = "0123456789ABCDEFabcdef-_+*/=: ąłżé€\u{0}\u{10FFFF}"
        .chars()
        .collect();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let hash = sha256(b"x");
    let date = Date::new(2026, 2, 1).unwrap();
    let m = QrMatrix::encode("x", DEFAULT_ECC).unwrap();
    for round in 0..5_000 {
        let len = (next() % 48) as usize;
        let mut s: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if round % 3 == 0 {
            // near-misses of a valid number
            let mut v: Vec<char> = "5265877635-20250826-0100001AF629-AF".chars().collect();
            let i = (next() % v.len() as u64) as usize;
            v[i] = alphabet[(next() % alphabet.len() as u64) as usize];
            s = v.into_iter().collect();
        }
        let _ = KsefNumber::parse(&s);
        let _ = KsefNumber::from_prefix(&s);
        let _ = Sha256Hash::from_base64(&s);
        let _ = Sha256Hash::from_base64url(&s);
        let _ = s.parse::<Environment>();
        let _ = s.parse::<ContextType>();
        let _ = InvoiceLink::new(Environment::Test, &s, date, hash);
        for t in [ContextType::Nip, ContextType::NipVatUe] {
            if let Ok(l) = CertificateLink::new(Environment::Test, t, &s, "9999999999", &s, hash) {
                let mut small = [0u8; 16];
                let _ = l.write_url(&[1, 2, 3], &mut small);
                assert!(l.url(&[1]).unwrap().starts_with("https://"));
            }
        }
        if let Ok(r) = render::Raster::new(&m, &s, &RenderOptions::default()) {
            let mut row = vec![0u8; r.row_bytes()];
            r.row_into(r.height() - 1, &mut row).unwrap();
        }
        if round % 50 == 0 {
            let _ = render::svg(&m, Some(&s), &RenderOptions::default());
        }
    }
}
