//! `ksef hash`, `ksef qr invoice|cert`, `ksef number check`: outputs against the spec's test
//! vectors, signatures checked with OpenSSL, images read back with zbarimg (`make deps`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{spec, stderr, stdout};

fn ksef(args: &[&str]) -> Output {
    common::run(args, None)
}

fn sample() -> String {
    spec()
        .join("samples/fa3/FA_3_Przyklad_01.xml")
        .to_str()
        .unwrap()
        .to_string()
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-qr");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    stdout(o)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (make deps installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn zbarimg(png: &Path) -> String {
    let out = run(Command::new("zbarimg").args(["-q", "--raw"]).arg(png));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn hash_prints_all_forms() {
    let out = ok(&ksef(&["hash", &sample()]));
    assert_eq!(
        out,
        "size: 3387\n\
         sha256-hex: 5fec107e5415c91b357c89a523ec433e75a4d55dfb872b383b5964c7d8896d20\n\
         sha256-base64: X+wQflQVyRs1fImlI+xDPnWk1V37hys4O1lkx9iJbSA=\n\
         sha256-base64url: X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA\n"
    );
    assert_eq!(ksef(&["hash"]).status.code(), Some(2));
    assert_eq!(ksef(&["hash", "/nonexistent.xml"]).status.code(), Some(2));
}

#[test]
fn qr_invoice_links_and_images() {
    let hash = "X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA";
    for (env, host) in [
        ("test", "qr-test.ksef.mf.gov.pl"),
        ("demo", "qr-demo.ksef.mf.gov.pl"),
        ("prod", "qr.ksef.mf.gov.pl"),
    ] {
        let out = ok(&ksef(&["qr", "invoice", &sample(), "--env", env]));
        assert_eq!(
            out,
            format!("https://{host}/invoice/9999999999/15-02-2026/{hash}\n")
        );
    }
    let (png, svg) = (tmp("kod1.png"), tmp("kod1.svg"));
    let number = "9999999999-20260215-0100001AF629-A5";
    let o = ksef(&[
        "qr",
        "invoice",
        &sample(),
        "--env",
        "test",
        "--ksef-number",
        number,
        "--png",
        p(&png),
        "--svg",
        p(&svg),
        "--module-px",
        "6",
    ]);
    let url = ok(&o);
    assert!(stderr(&o).contains("QR version 6-M"), "{}", stderr(&o));
    assert_eq!(zbarimg(&png), url.trim_end());
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains(&format!(">{number}</text>")));

    // OFFLINE label before the number is known
    let o = ksef(&[
        "qr",
        "invoice",
        &sample(),
        "--env",
        "demo",
        "--svg",
        p(&tmp("off.svg")),
    ]);
    ok(&o);
    assert!(std::fs::read_to_string(tmp("off.svg"))
        .unwrap()
        .contains(">OFFLINE</text>"));
}

#[test]
fn qr_invoice_refusals() {
    // a KSeF number with a wrong checksum, or of another seller
    let o = ksef(&[
        "qr",
        "invoice",
        &sample(),
        "--env",
        "test",
        "--ksef-number",
        "9999999999-20260215-0100001AF629-A6",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("(they give A5)"), "{}", stderr(&o));
    let o = ksef(&[
        "qr",
        "invoice",
        &sample(),
        "--env",
        "test",
        "--ksef-number",
        "5265877635-20250826-0100001AF629-AF",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("seller NIP 5265877635"),
        "{}",
        stderr(&o)
    );
    // usage errors
    for args in [
        vec!["qr", "invoice", sample().leak()],
        vec!["qr", "invoice", sample().leak(), "--env", "staging"],
        vec![
            "qr",
            "invoice",
            sample().leak(),
            "--env",
            "test",
            "--bogus",
            "1",
        ],
        vec![
            "qr",
            "invoice",
            sample().leak(),
            "--env",
            "test",
            "--module-px",
            "x",
        ],
        vec!["qr", "nothing"],
        vec!["qr"],
    ] {
        assert_eq!(ksef(&args).status.code(), Some(2), "{args:?}");
    }
    // a label character outside the built-in font is not possible here; a bad size is
    let o = ksef(&[
        "qr",
        "invoice",
        &sample(),
        "--env",
        "test",
        "--png",
        p(&tmp("x.png")),
        "--module-px",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("[qr_image]"), "{}", stderr(&o));
    // not an invoice
    let junk = tmp("junk.xml");
    std::fs::write(&junk, "not xml").unwrap();
    let o = ksef(&["qr", "invoice", p(&junk), "--env", "test"]);
    assert_eq!(o.status.code(), Some(1));
}

/// r‖s (2 × 32 bytes) as an ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` for OpenSSL.
fn p1363_to_der(sig: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let x = &x[x.iter().position(|&b| b != 0).unwrap_or(x.len() - 1)..];
        let mut v = vec![0x02];
        if x[0] & 0x80 != 0 {
            v.extend([x.len() as u8 + 1, 0]);
        } else {
            v.push(x.len() as u8);
        }
        v.extend(x);
        v
    };
    let body = [int(&sig[..32]), int(&sig[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url: {c}"),
    } as u32;
    let (mut acc, mut bits, mut out) = (0u32, 0, Vec::new());
    for c in s.bytes() {
        acc = (acc << 6) | val(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn qr_cert_signs_verifiably() {
    for (alg, newkey) in [("ec", "ec"), ("rsa", "rsa:2048")] {
        let (key, cert) = (tmp(&format!("{alg}.key")), tmp(&format!("{alg}.crt")));
        let mut req = Command::new("openssl");
        req.args([
            "req",
            "-x509",
            "-newkey",
            newkey,
            "-nodes",
            "-subj",
            "/CN=offline",
        ])
        .args(["-days", "30", "-set_serial", "0x01F20A5D352AE590"]);
        if alg == "ec" {
            req.args(["-pkeyopt", "ec_paramgen_curve:P-256"]);
        }
        run(req.arg("-keyout").arg(&key).arg("-out").arg(&cert));
        let png = tmp(&format!("kod2-{alg}.png"));
        let o = ksef(&[
            "qr",
            "cert",
            &sample(),
            "--env",
            "test",
            "--key",
            p(&key),
            "--cert",
            p(&cert),
            "--context-type",
            "Nip",
            "--context-id",
            "9999999999",
            "--png",
            p(&png),
        ]);
        let url = ok(&o).trim_end().to_string();
        let signed = "qr-test.ksef.mf.gov.pl/certificate/Nip/9999999999/9999999999/\
                      01F20A5D352AE590/X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA";
        let sig = url
            .strip_prefix(&format!("https://{signed}/"))
            .unwrap_or_else(|| panic!("{url}"));
        assert!(stderr(&o).contains("label CERTYFIKAT"));
        assert_eq!(zbarimg(&png), url);

        let mut sig = b64url_decode(sig);
        let mut verify = Command::new("openssl");
        verify.args(["dgst", "-sha256", "-verify"]);
        let pubkey = tmp(&format!("{alg}.pub.pem"));
        run(Command::new("openssl")
            .args(["x509", "-pubkey", "-noout", "-in"])
            .arg(&cert)
            .arg("-out")
            .arg(&pubkey));
        verify.arg(&pubkey);
        if alg == "ec" {
            assert_eq!(sig.len(), 64);
            sig = p1363_to_der(&sig);
        } else {
            assert_eq!(sig.len(), 256);
            verify.args([
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
            ]);
        }
        let (m, s) = (tmp(&format!("{alg}.msg")), tmp(&format!("{alg}.sig")));
        std::fs::write(&m, signed).unwrap();
        std::fs::write(&s, &sig).unwrap();
        let out = run(verify.arg("-signature").arg(&s).arg(&m));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "Verified OK",
            "{alg}"
        );
    }

    // a key that does not belong to the certificate
    let o = ksef(&[
        "qr",
        "cert",
        &sample(),
        "--env",
        "test",
        "--key",
        p(&tmp("ec.key")),
        "--cert",
        p(&tmp("rsa.crt")),
        "--context-type",
        "Nip",
        "--context-id",
        "9999999999",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not the private key of"),
        "{}",
        stderr(&o)
    );
    // a bad context, a missing option
    let o = ksef(&[
        "qr",
        "cert",
        &sample(),
        "--env",
        "test",
        "--key",
        p(&tmp("ec.key")),
        "--cert",
        p(&tmp("ec.crt")),
        "--context-type",
        "Nip",
        "--context-id",
        "12345",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("[qr_link]"), "{}", stderr(&o));
    let o = ksef(&[
        "qr",
        "cert",
        &sample(),
        "--env",
        "test",
        "--context-type",
        "Pesel",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn number_check() {
    let o = ksef(&["number", "check", "5265877635-20250826-0100001AF629-AF"]);
    assert_eq!(
        ok(&o),
        "valid KSeF number: seller NIP 5265877635, accepted 2025-08-26, technical part \
         0100001AF629, checksum AF\n"
    );
    for (n, reason) in [
        ("5265877635-20250826-0100001AF629-AE", "(they give AF)"),
        (
            "5265877635-20250826-0100001AF629",
            "expected 35 characters, found 32",
        ),
        ("9999999999-20230425-08927A-FFCF8F-3E", "KSeF 1.0 number"),
        (
            "5265877635-20250826-0100001af629-AF",
            "lower case is not allowed",
        ),
    ] {
        let o = ksef(&["number", "check", n]);
        assert_eq!(o.status.code(), Some(1), "{n}");
        assert!(stderr(&o).contains(reason), "{n}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error [ksef_number]"));
    }
    assert_eq!(ksef(&["number", "check"]).status.code(), Some(2));
    assert_eq!(ksef(&["number"]).status.code(), Some(2));
    assert_eq!(ksef(&["number", "parse", "x"]).status.code(), Some(2));
}
