//! `ksef::crypto`: known-answer tests against `test-vectors/ksef-test-vectors.json`, and
//! cross-checks with the `openssl` CLI (keys, certificates, AES-256-CBC, RSA-OAEP) in both
//! directions. `make deps` installs openssl; without it these tests fail (they never skip).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use ksef::crypto::public_keys::{KeyUsage, PublicKeyCertificates};
use ksef::crypto::session::{
    decrypt_ksef_token, encrypt_ksef_token, rsa_oaep_decrypt, rsa_oaep_encrypt, SendInvoiceRequest,
    SessionKey,
};
use ksef::crypto::{Certificate, PrivateKey, PublicKey};
use ksef::ErrorCode;
use rand_core::OsRng;
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn vectors() -> serde_json::Value {
    let path = common::spec_dir().join("test-vectors/ksef-test-vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} missing"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn vector_session_key(aes: &serde_json::Value) -> SessionKey {
    let key: [u8; 32] = unhex(s(aes, "key_hex")).try_into().unwrap();
    let iv: [u8; 16] = unhex(s(aes, "iv_hex")).try_into().unwrap();
    SessionKey::from_parts(key, iv)
}

// ---------------------------------------------------------------------------------------
// Known answers

#[test]
fn vector_aes_small() {
    let v = vectors();
    let aes = &v["aes_session"];
    let k = vector_session_key(aes);
    let small = &aes["small"];
    let ct = k.encrypt(s(small, "plaintext_utf8").as_bytes());
    assert_eq!(hex(&ct), s(small, "ciphertext_hex"));
    assert_eq!(B64.encode(&ct), s(small, "ciphertext_base64"));
    assert_eq!(
        k.decrypt(&ct).unwrap(),
        s(small, "plaintext_utf8").as_bytes()
    );
    assert_eq!(
        B64.encode(k.iv()),
        s(aes, "encryptionInfo_initializationVector")
    );
}

#[test]
fn vector_send_invoice_request_fa3_sample_01() {
    let v = vectors();
    let aes = &v["aes_session"];
    let want = &aes["sendInvoiceRequest_for_FA_3_Przyklad_01"];
    let xml = std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let k = vector_session_key(aes);
    let r = k.encrypt_invoice(&xml);
    assert_eq!(r.invoice_hash, s(want, "invoiceHash"));
    assert_eq!(r.invoice_size, want["invoiceSize"].as_u64().unwrap());
    assert_eq!(r.encrypted_invoice_hash, s(want, "encryptedInvoiceHash"));
    assert_eq!(
        r.encrypted_invoice_size,
        want["encryptedInvoiceSize"].as_u64().unwrap()
    );
    assert!(r
        .encrypted_invoice_content
        .starts_with(s(want, "encryptedInvoiceContent_prefix")));
    // The vector's `encryptedInvoiceContent_sha256_hex` is the SHA-256 of the base64 TEXT of
    // the field (checked with openssl: `base64 -w0 ct.bin | sha256sum`), not of the ciphertext
    // (that one is `encryptedInvoiceHash`).
    assert_eq!(
        hex(&Sha256::digest(r.encrypted_invoice_content.as_bytes())),
        s(want, "encryptedInvoiceContent_sha256_hex")
    );
    let ct = B64.decode(&r.encrypted_invoice_content).unwrap();
    assert_eq!(
        B64.encode(Sha256::digest(&ct)),
        s(want, "encryptedInvoiceHash")
    );
    assert_eq!(r.offline_mode, want["offlineMode"].as_bool().unwrap());
    assert_eq!(r.hash_of_corrected_invoice, None);

    // The JSON body has exactly the OpenAPI fields, with these values.
    let body: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let obj = body.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "encryptedInvoiceContent",
            "encryptedInvoiceHash",
            "encryptedInvoiceSize",
            "invoiceHash",
            "invoiceSize",
            "offlineMode"
        ]
    );
    for key in ["invoiceHash", "encryptedInvoiceHash", "offlineMode"] {
        assert_eq!(body[key], want[key], "{key}");
    }
    assert_eq!(
        body["invoiceSize"].to_string(),
        want["invoiceSize"].to_string()
    );
    // And the server side opens it again.
    let back = SendInvoiceRequest::from_json(&r.to_json()).unwrap();
    assert_eq!(back.open(&k).unwrap(), xml);
}

#[test]
fn vector_rsa_oaep_decrypt() {
    let v = vectors();
    let r = &v["rsa_oaep"];
    let sk = PrivateKey::from_pkcs8_pem(s(r, "test_privateKey_pkcs8_pem")).unwrap();
    let mut rng = OsRng;

    let ct = B64.decode(s(r, "ksefToken_ciphertext_base64")).unwrap();
    let pt = rsa_oaep_decrypt(&sk, &ct, &mut rng).unwrap();
    assert_eq!(pt.expose(), s(r, "ksefToken_plaintext").as_bytes());
    let token = decrypt_ksef_token(s(r, "ksefToken_ciphertext_base64"), &sk, &mut rng).unwrap();
    let (want_token, want_ts) = s(r, "ksefToken_plaintext").rsplit_once('|').unwrap();
    assert_eq!(token.token(), want_token);
    assert_eq!(token.timestamp_ms(), want_ts.parse::<i64>().unwrap());

    let ct = B64.decode(s(r, "symmetricKey_ciphertext_base64")).unwrap();
    let pt = rsa_oaep_decrypt(&sk, &ct, &mut rng).unwrap();
    assert_eq!(hex(pt.expose()), s(r, "symmetricKey_hex"));

    // publicKeyId = base64 SHA-256 of the SubjectPublicKeyInfo DER.
    let spki = sk.public_key().to_spki_der().unwrap();
    assert_eq!(
        B64.encode(Sha256::digest(&spki)),
        s(r, "publicKeyId_of_this_key_base64")
    );

    // Our own encryption under the vector key decrypts to the same plaintexts.
    let (tok, ts) = s(r, "ksefToken_plaintext").rsplit_once('|').unwrap();
    let ours = encrypt_ksef_token(tok, ts.parse().unwrap(), &sk.public_key(), &mut rng).unwrap();
    assert_ne!(ours, s(r, "ksefToken_ciphertext_base64")); // OAEP is randomised
    let back = rsa_oaep_decrypt(&sk, &B64.decode(ours).unwrap(), &mut rng).unwrap();
    assert_eq!(back.expose(), s(r, "ksefToken_plaintext").as_bytes());
}

// ---------------------------------------------------------------------------------------
// openssl helpers

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ksef-crypto-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
    fn write(&self, file: &str, data: &[u8]) -> PathBuf {
        let p = self.path(file);
        std::fs::write(&p, data).unwrap();
        p
    }
    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path(file)).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl` with the arguments; panics with its stderr when it fails.
fn openssl(dir: &TempDir, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(&dir.0)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (make deps installs it): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crypto")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

// ---------------------------------------------------------------------------------------
// openssl cross-checks: AES-256-CBC

#[test]
fn openssl_aes_both_directions() {
    let dir = TempDir::new("aes");
    let mut rng = OsRng;
    let k = SessionKey::generate(&mut rng);
    let key_hex = hex(k.key_bytes());
    let iv_hex = hex(k.iv());
    for (n, len) in [0usize, 1, 15, 16, 17, 3387, 100_003]
        .into_iter()
        .enumerate()
    {
        let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
        // ours -> openssl
        let ct = k.encrypt(&plain);
        dir.write(&format!("ours{n}.bin"), &ct);
        let out = openssl(
            &dir,
            &[
                "enc",
                "-d",
                "-aes-256-cbc",
                "-K",
                &key_hex,
                "-iv",
                &iv_hex,
                "-in",
                &format!("ours{n}.bin"),
            ],
        );
        assert_eq!(out, plain, "openssl decrypt of {len} bytes");
        // openssl -> ours
        dir.write(&format!("plain{n}.bin"), &plain);
        let theirs = openssl(
            &dir,
            &[
                "enc",
                "-e",
                "-aes-256-cbc",
                "-K",
                &key_hex,
                "-iv",
                &iv_hex,
                "-in",
                &format!("plain{n}.bin"),
            ],
        );
        assert_eq!(theirs, ct, "same ciphertext for {len} bytes");
        assert_eq!(k.decrypt(&theirs).unwrap(), plain);
    }
}

// ---------------------------------------------------------------------------------------
// openssl cross-checks: RSA-OAEP (SHA-256, MGF1-SHA-256)

const OAEP: [&str; 6] = [
    "-pkeyopt",
    "rsa_padding_mode:oaep",
    "-pkeyopt",
    "rsa_oaep_md:sha256",
    "-pkeyopt",
    "rsa_mgf1_md:sha256",
];

#[test]
fn openssl_rsa_oaep_both_directions() {
    let dir = TempDir::new("oaep");
    let mut rng = OsRng;
    dir.write("key.pem", fixture("rsa2048.pkcs8.pem").as_bytes());
    openssl(
        &dir,
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    let sk = PrivateKey::from_pem(&fixture("rsa2048.pkcs8.pem")).unwrap();
    let pk = PublicKey::from_spki_pem(&String::from_utf8(dir.read("pub.pem")).unwrap()).unwrap();
    assert_eq!(pk, sk.public_key());

    let session = SessionKey::generate(&mut rng);
    let token = format!(
        "20251010-EC-1DCE3E3000-12ECB5B36E-45|internalId-5265877635-12345|{}|1752236636015",
        hex(&[0x5a; 32])
    );
    for (name, plain) in [
        ("aes", session.key_bytes().to_vec()),
        ("token", token.into_bytes()),
    ] {
        // openssl encrypts -> we decrypt
        dir.write(&format!("{name}.bin"), &plain);
        let mut args = vec!["pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in"];
        let input = format!("{name}.bin");
        args.push(&input);
        args.extend(OAEP);
        let ct = openssl(&dir, &args);
        assert_eq!(ct.len(), 256);
        assert_eq!(
            rsa_oaep_decrypt(&sk, &ct, &mut rng).unwrap().expose(),
            plain
        );

        // we encrypt -> openssl decrypts
        let ours = rsa_oaep_encrypt(&pk, &plain, &mut rng).unwrap();
        dir.write(&format!("{name}.ours"), &ours);
        let input = format!("{name}.ours");
        let mut args = vec!["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", &input];
        args.extend(OAEP);
        assert_eq!(openssl(&dir, &args), plain);
    }

    // The session-key wrap and the token helper also decrypt with openssl.
    let info = session.encryption_info(&pk, None, &mut rng).unwrap();
    dir.write(
        "wrapped.bin",
        &B64.decode(&info.encrypted_symmetric_key).unwrap(),
    );
    let mut args = vec![
        "pkeyutl",
        "-decrypt",
        "-inkey",
        "key.pem",
        "-in",
        "wrapped.bin",
    ];
    args.extend(OAEP);
    assert_eq!(openssl(&dir, &args), session.key_bytes());
    let enc = encrypt_ksef_token("TOKEN|X", 1_752_236_636_015, &pk, &mut rng).unwrap();
    dir.write("tok.bin", &B64.decode(enc).unwrap());
    let mut args = vec!["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "tok.bin"];
    args.extend(OAEP);
    assert_eq!(openssl(&dir, &args), b"TOKEN|X|1752236636015");
}

// ---------------------------------------------------------------------------------------
// openssl cross-checks: keys and certificates generated now

#[test]
fn openssl_key_formats() {
    let dir = TempDir::new("keys");
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.pem",
        ],
    );
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
    );
    for (key, forms) in [
        (
            "ec",
            vec![
                vec!["pkey", "-in", "ec.pem", "-outform", "DER", "-out", "f1"],
                vec!["ec", "-in", "ec.pem", "-outform", "DER", "-out", "f2"],
                vec!["ec", "-in", "ec.pem", "-out", "f3"],
                vec!["ecparam", "-name", "prime256v1", "-out", "f4"], // prepended below
            ],
        ),
        (
            "rsa",
            vec![
                vec!["pkey", "-in", "rsa.pem", "-outform", "DER", "-out", "f1"],
                vec![
                    "rsa",
                    "-in",
                    "rsa.pem",
                    "-traditional",
                    "-outform",
                    "DER",
                    "-out",
                    "f2",
                ],
                vec!["rsa", "-in", "rsa.pem", "-traditional", "-out", "f3"],
            ],
        ),
    ] {
        let pem = format!("{key}.pem");
        let spki = openssl(&dir, &["pkey", "-in", &pem, "-pubout", "-outform", "DER"]);
        let base = PrivateKey::from_pem_or_der(&dir.read(&pem)).unwrap();
        assert_eq!(base.public_key().to_spki_der().unwrap(), spki, "{key}");
        assert_eq!(PublicKey::from_spki_der(&spki).unwrap(), base.public_key());
        for (i, args) in forms.iter().enumerate() {
            openssl(&dir, args);
            let file = format!("f{}", i + 1);
            let mut bytes = dir.read(&file);
            if args[0] == "ecparam" {
                // `EC PARAMETERS` block before the key, as `openssl ecparam -genkey` writes.
                bytes.extend(dir.read("f3"));
            }
            let k = PrivateKey::from_pem_or_der(&bytes)
                .unwrap_or_else(|e| panic!("{key} {args:?}: {e:?}"));
            assert_eq!(k.public_key(), base.public_key(), "{key} {args:?}");
        }
    }

    // Refused: encrypted keys, other curves, small RSA, Ed25519.
    openssl(
        &dir,
        &[
            "pkcs8", "-topk8", "-in", "ec.pem", "-passout", "pass:x", "-out", "enc.pem",
        ],
    );
    let e = PrivateKey::from_pem_or_der(&dir.read("enc.pem")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CryptoKey);
    assert!(e.message().contains("encrypted"), "{e}");
    openssl(
        &dir,
        &[
            "rsa",
            "-in",
            "rsa.pem",
            "-traditional",
            "-aes128",
            "-passout",
            "pass:x",
            "-out",
            "enc1.pem",
        ],
    );
    let e = PrivateKey::from_pem_or_der(&dir.read("enc1.pem")).unwrap_err();
    assert!(e.message().contains("encrypted"), "{e}");
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384.pem",
        ],
    );
    let e = PrivateKey::from_pem_or_der(&dir.read("p384.pem")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::CryptoKey);
    assert!(e.message().contains("curve"), "{e}");
    let spki = openssl(
        &dir,
        &["pkey", "-in", "p384.pem", "-pubout", "-outform", "DER"],
    );
    assert_eq!(
        PublicKey::from_spki_der(&spki).unwrap_err().code(),
        ErrorCode::CryptoKey
    );
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "small.pem",
        ],
    );
    let e = PrivateKey::from_pem_or_der(&dir.read("small.pem")).unwrap_err();
    assert!(e.message().contains("too small"), "{e}");
    openssl(
        &dir,
        &["genpkey", "-algorithm", "ED25519", "-out", "ed.pem"],
    );
    let e = PrivateKey::from_pem_or_der(&dir.read("ed.pem")).unwrap_err();
    assert!(e.message().contains("unsupported"), "{e}");
}

#[test]
fn openssl_certificates() {
    let dir = TempDir::new("certs");
    dir.write(
        "cert.cnf",
        b"[req]\ndistinguished_name = dn\nprompt = no\nstring_mask = utf8only\n\
          [dn]\nC = PL\nO = Firma Testowa\nCN = Jan Kowalski\n",
    );
    for (alg, opt) in [
        ("EC", "ec_paramgen_curve:P-256"),
        ("RSA", "rsa_keygen_bits:2048"),
    ] {
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                alg,
                "-pkeyopt",
                opt,
                "-out",
                "k.pem",
            ],
        );
        // A random 8-byte serial below 2^63 (no DER sign byte), as KSeF certificates have.
        let mut serial = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let serial_arg = format!("0x{}", hex(&serial));
        openssl(
            &dir,
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                "k.pem",
                "-config",
                "cert.cnf",
                "-days",
                "30",
                "-set_serial",
                &serial_arg,
                "-out",
                "c.pem",
            ],
        );
        openssl(
            &dir,
            &["x509", "-in", "c.pem", "-outform", "DER", "-out", "c.der"],
        );
        let pem = String::from_utf8(dir.read("c.pem")).unwrap();
        let c = Certificate::from_pem(&pem).unwrap();
        assert_eq!(c, Certificate::from_pem_or_der(&dir.read("c.der")).unwrap());
        assert_eq!(c.der(), dir.read("c.der"));

        let text = |args: &[&str]| {
            let mut all = vec!["x509", "-in", "c.pem", "-noout"];
            all.extend(args);
            String::from_utf8(openssl(&dir, &all))
                .unwrap()
                .trim()
                .to_string()
        };
        assert_eq!(
            text(&["-serial"]),
            format!("serial={}", c.serial_hex()),
            "{alg}"
        );
        assert_eq!(c.serial_hex(), hex(&serial).to_uppercase());
        assert_eq!(
            text(&["-subject", "-nameopt", "RFC2253"]),
            format!("subject={}", c.subject_rfc4514())
        );
        assert_eq!(c.subject_rfc4514(), "CN=Jan Kowalski,O=Firma Testowa,C=PL");
        assert_eq!(c.issuer_rfc4514(), c.subject_rfc4514());
        let fp = text(&["-fingerprint", "-sha256"]);
        let fp = fp
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase();
        assert_eq!(hex(&c.sha256_fingerprint()), fp);
        // Validity: openssl's dates in unix seconds.
        let date = |opt: &str| {
            let t = text(&[opt, "-dateopt", "iso_8601"]);
            let v = t.split_once('=').unwrap().1.replace(' ', "T");
            v.parse::<ksef::model::DateTime>().unwrap().unix_seconds()
        };
        assert_eq!(c.not_before(), date("-startdate"));
        assert_eq!(c.not_after(), date("-enddate"));
        assert_eq!(c.not_after() - c.not_before(), 30 * 86400);
        // Public key and key match.
        let spki = openssl(&dir, &["x509", "-in", "c.pem", "-pubkey", "-noout"]);
        let pk = PublicKey::from_spki_pem(std::str::from_utf8(&spki).unwrap()).unwrap();
        assert_eq!(c.public_key().unwrap(), pk);
        let sk = PrivateKey::from_pem_or_der(&dir.read("k.pem")).unwrap();
        assert!(c.matches_key(&sk));
        assert!(!c.matches_key(&PrivateKey::from_pem(&fixture("ec-p256.pkcs8.pem")).unwrap()));
    }
}

// ---------------------------------------------------------------------------------------
// The whole client/server exchange with a self-made "Ministry" certificate

#[test]
fn public_key_list_to_online_session_round_trip() {
    let mf_cert = Certificate::from_pem(&fixture("rsa2048.cert.pem")).unwrap();
    let mf_key = PrivateKey::from_pem(&fixture("rsa2048.pkcs1.pem")).unwrap();
    let cert_b64 = B64.encode(mf_cert.der());
    let key_id = B64.encode(mf_cert.public_key_id().unwrap());
    let cert_id = B64.encode(mf_cert.sha256_fingerprint());
    let json = format!(
        r#"[{{"certificate":"{cert_b64}","certificateId":"{cert_id}","publicKeyId":"{key_id}",
            "validFrom":"2026-11-21T02:06:43+00:00","validTo":"2036-11-18T02:06:43+00:00",
            "usage":["KsefTokenEncryption","SymmetricKeyEncryption"]}}]"#
    );
    let list = PublicKeyCertificates::from_json(&json).unwrap();
    let now = 1_800_000_000;
    let mut rng = OsRng;

    // Client: token and session.
    let tok_cert = list.select(KeyUsage::KsefTokenEncryption, now).unwrap();
    assert_eq!(tok_cert.certificate_id, cert_id);
    let enc = encrypt_ksef_token("T|1", 42, &tok_cert.public_key().unwrap(), &mut rng).unwrap();
    let sym_cert = list.select(KeyUsage::SymmetricKeyEncryption, now).unwrap();
    let session = SessionKey::generate(&mut rng);
    let info = session
        .encryption_info(
            &sym_cert.public_key().unwrap(),
            Some(&sym_cert.public_key_id),
            &mut rng,
        )
        .unwrap();
    let xml = b"<Faktura>\r\n</Faktura>";
    let body = session.encrypt_invoice(xml).to_json();

    // Server: open everything with the private key.
    let t = decrypt_ksef_token(&enc, &mf_key, &mut rng).unwrap();
    assert_eq!((t.token(), t.timestamp_ms()), ("T|1", 42));
    let info = ksef::crypto::session::EncryptionInfo::from_json(&info.to_json()).unwrap();
    assert_eq!(info.public_key_id.as_deref(), Some(key_id.as_str()));
    let server_key = SessionKey::from_encryption_info(&info, &mf_key, &mut rng).unwrap();
    assert_eq!(server_key, session);
    let req = SendInvoiceRequest::from_json(&body).unwrap();
    assert_eq!(req.open(&server_key).unwrap(), xml);
}
