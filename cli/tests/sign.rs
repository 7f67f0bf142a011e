//! `ksef sign-auth`, `sign-xml`, `verify-xml`: signed output that the core, `verify-xml` and
//! xmlsec1 accept; exit codes 1 (invalid input, with the place) and 2 (usage).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{run as ksef, stderr};

use ksef::crypto::{Certificate, PrivateKey};
use ksef::id::Nip;
use ksef::xades::{self, AuthTokenRequest, ContextIdentifier, SubjectIdentifierType};

const CHALLENGE: &str = "20250604-CR-461EA5B000-537A6BA15D-D7";

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/xades")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn sign_auth_output_is_what_the_core_makes_and_verifies() {
    for k in ["ec", "rsa"] {
        let (key, cert) = (
            fixture(&format!("{k}.key.pem")),
            fixture(&format!("{k}.cert.pem")),
        );
        let out = ksef(
            &[
                "sign-auth",
                "--challenge",
                CHALLENGE,
                "--nip",
                "5265877635",
                "--key",
                &key,
                "--cert",
                &cert,
                "--subject-type",
                "certificateFingerprint",
                "--time",
                "2026-02-01T10:00:00Z",
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        // the same bytes as the library (ECDSA nonces are deterministic, RFC 6979)
        let req = AuthTokenRequest::new(CHALLENGE, Nip::parse("5265877635").unwrap())
            .unwrap()
            .subject_type(SubjectIdentifierType::CertificateFingerprint);
        let key = PrivateKey::from_pem_or_der(&std::fs::read(&key).unwrap()).unwrap();
        let cert = Certificate::from_pem_or_der(&std::fs::read(&cert).unwrap()).unwrap();
        let time = "2026-02-01T10:00:00Z".parse().unwrap();
        assert_eq!(out.stdout, req.sign(&key, &cert, &time).unwrap());
        let v = xades::verify(&out.stdout).unwrap();
        assert_eq!(v.certificate, cert);
        let check = ksef(&["verify-xml", "-"], Some(&out.stdout));
        assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
        assert!(stderr(&check).contains("signed:  2026-02-01T10:00:00Z"));
        // and xmlsec1, trusting the test CA
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sign-cli");
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(format!("{k}.xml"));
        std::fs::write(&f, &out.stdout).unwrap();
        let x = Command::new("xmlsec1")
            .args(["--verify", "--trusted-pem", &fixture("ca.cert.pem")])
            .args([
                "--id-attr:Id",
                "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            ])
            .arg(&f)
            .output()
            .expect("xmlsec1 is not installed: run `make deps`");
        assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    }
}

#[test]
fn sign_auth_contexts_policy_and_clock() {
    let out = ksef(
        &[
            "sign-auth",
            "--challenge",
            CHALLENGE,
            "--context-type",
            "NipVatUe",
            "--context-id",
            "5265877635-DE123456789",
            "--key",
            &fixture("ec.key.pem"),
            "--cert",
            &fixture("ec.cert.pem"),
            "--schema",
            "2.1",
            "--allow-ip",
            "192.168.0.1",
            "--allow-range",
            "10.0.0.1-10.0.0.9",
            "--allow-mask",
            "172.16.0.0/12",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let req = AuthTokenRequest::from_xml(&out.stdout).unwrap();
    assert!(matches!(req.context(), ContextIdentifier::NipVatUe(_)));
    assert_eq!(req.policy().unwrap().masks().len(), 1);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text.contains("xmlns=\"http://ksef.mf.gov.pl/auth/token/2.1\""));
    assert!(text.contains("<Ip4Range>10.0.0.1-10.0.0.9</Ip4Range>"));
    // no --time: about a minute before now
    let t = xades::verify(&out.stdout).unwrap().signing_time.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 60 - t.unix_seconds()).abs() < 30, "{t}");
}

#[test]
fn sign_xml_and_verify_xml() {
    let doc = b"<?xml version=\"1.0\"?>\n<doc xmlns=\"urn:x\"><a>1</a></doc>\n";
    let out = ksef(
        &[
            "sign-xml",
            "-",
            "--key",
            &fixture("rsa.key.pem"),
            "--cert",
            &fixture("rsa.cert.pem"),
            "--time",
            "2026-02-01T10:00:00+01:00",
        ],
        Some(doc),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ok = ksef(&["verify-xml", "-"], Some(&out.stdout));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(
        stderr(&ok).contains("signer:  CN=Firma Testowa"),
        "{}",
        stderr(&ok)
    );
    let tampered = String::from_utf8(out.stdout)
        .unwrap()
        .replace("<a>1</a>", "<a>2</a>");
    let bad = ksef(&["verify-xml", "-"], Some(tampered.as_bytes()));
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("signature_invalid"),
        "{}",
        stderr(&bad)
    );
    let none = ksef(&["verify-xml", "-"], Some(doc));
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("xml_signature"), "{}", stderr(&none));
}

#[test]
fn bad_input_exits_1_with_the_place_usage_errors_exit_2() {
    let key = fixture("ec.key.pem");
    let cert = fixture("ec.cert.pem");
    let base = ["--key", key.as_str(), "--cert", cert.as_str()];
    let run = |extra: &[&str]| {
        let mut args = vec!["sign-auth"];
        args.extend_from_slice(&base);
        args.extend_from_slice(extra);
        ksef(&args, None)
    };
    // invalid values: exit 1, the error names the element
    for (extra, needle) in [
        (
            &["--challenge", "nope", "--nip", "5265877635"][..],
            "AuthTokenRequest/Challenge",
        ),
        (
            &["--challenge", CHALLENGE, "--nip", "5265877636"][..],
            "ContextIdentifier/Nip",
        ),
        (
            &[
                "--challenge",
                CHALLENGE,
                "--context-type",
                "PeppolId",
                "--context-id",
                "X",
            ][..],
            "ContextIdentifier/PeppolId",
        ),
        (
            &[
                "--challenge",
                CHALLENGE,
                "--context-type",
                "Pesel",
                "--context-id",
                "1",
            ][..],
            "unknown context type",
        ),
    ] {
        let o = run(extra);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{extra:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    // a key that is not the certificate's: exit 1
    let o = ksef(
        &[
            "sign-auth",
            "--challenge",
            CHALLENGE,
            "--nip",
            "5265877635",
            "--key",
            &fixture("rsa.key.pem"),
            "--cert",
            &cert,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not belong"), "{}", stderr(&o));
    // usage: exit 2
    for extra in [
        &["--nip", "5265877635"][..],
        &["--challenge", CHALLENGE][..],
        &["--challenge", CHALLENGE, "--context-type", "Nip"][..],
        &[
            "--challenge",
            CHALLENGE,
            "--nip",
            "5265877635",
            "--time",
            "yesterday",
        ][..],
        &[
            "--challenge",
            CHALLENGE,
            "--nip",
            "5265877635",
            "--subject-type",
            "x",
        ][..],
        &[
            "--challenge",
            CHALLENGE,
            "--nip",
            "5265877635",
            "--allow-ip",
            "300.1.1.1",
        ][..],
        &[
            "--challenge",
            CHALLENGE,
            "--nip",
            "5265877635",
            "--bogus",
            "1",
        ][..],
    ] {
        let o = run(extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
    }
    let o = ksef(
        &["sign-auth", "--challenge", CHALLENGE, "--nip", "5265877635"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--key is required"), "{}", stderr(&o));
    let o = ksef(
        &[
            "sign-auth",
            "--challenge",
            CHALLENGE,
            "--nip",
            "5265877635",
            "--key",
            "/nonexistent.pem",
            "--cert",
            &cert,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}
