//! `ksef test-connection`, `ksef token generate`, `ksef sessions [list|terminate REF]`,
//! `ksef cert enroll`: checking the settings, and the onboarding chores.

use std::io::Write;
use std::path::Path;

use ksef::crypto::PrivateKey;
use ksef::protocol::{CertificateType, Output, TokenPermission};
use pkcs8::EncodePrivateKey;

use crate::net::{self, error_line, ConnOpts};
use crate::{args, Fail};

/// The help texts, by command.
const TEST_HELP: &str = "\
usage: ksef test-connection CONNECTION

Authenticates from scratch (public keys, challenge, KSeF token or XAdES signature, status,
redeem) and ends the session again. Prints each step with ✓ or ✗ and a summary; exit 0 when
everything worked, 1 when a step failed, 2 on usage errors.
";

const TOKEN_HELP: &str = "\
usage: ksef token generate --permissions P[,P...] --description TEXT --cert PEM --key PEM CONNECTION

Generates a KSeF token (KSeF allows it only after authentication with a certificate) and
waits until it is active. The token is printed once on stdout: store it (e.g. in a file for
--token-file) — KSeF never shows it again. Its reference number goes to stderr.
  --permissions   InvoiceRead, InvoiceWrite, CredentialsRead, CredentialsManage,
                  SubunitManage, EnforcementOperations, Introspection (comma-separated)
";

const SESSIONS_HELP: &str = "\
usage: ksef sessions [list] CONNECTION
       ksef sessions terminate REFERENCE CONNECTION

Lists the context's authenticated sessions (reference, start, method, status; * marks the
one this command opened), or ends one by its reference number.
";

const CERT_HELP: &str = "\
usage: ksef cert enroll --name NAME [--type offline|authentication] --out-key KEY.pem
                        --out-cert CERT.pem CONNECTION

Enrolls a KSeF certificate: a P-256 key and a CSR made here (the key never leaves this
machine), sent to KSeF, the certificate fetched. Saves the key as PKCS#8 PEM (mode 0600,
never over an existing file) and the certificate as PEM. Offline certificates sign KOD II
(`ksef qr cert`); authentication ones log in with --cert/--key. KSeF requires the session
to be authenticated with a certificate (--cert/--key).
";

/// The commands of this module, `None` for any other.
pub fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    Some(match cmd {
        "test-connection" => test_connection(args),
        "token" => match args.first().map(String::as_str) {
            Some("generate") => token_generate(&args[1..]),
            Some("--help") | None => help(TOKEN_HELP),
            Some(other) => Err(usage(
                TOKEN_HELP,
                &format!("unknown `ksef token` command `{other}`"),
            )),
        },
        "sessions" => match args.first().map(String::as_str) {
            Some("terminate") => sessions(&args[1..], true),
            Some("list") => sessions(&args[1..], false),
            _ => sessions(args, false),
        },
        "cert" => match args.first().map(String::as_str) {
            Some("enroll") => cert_enroll(&args[1..]),
            Some("--help") | None => help(CERT_HELP),
            Some(other) => Err(usage(
                CERT_HELP,
                &format!("unknown `ksef cert` command `{other}`"),
            )),
        },
        _ => return None,
    })
}

fn help(text: &str) -> Result<(), Fail> {
    crate::write_stdout(format!("{text}\n{}", net::HELP).as_bytes())
}

fn usage(text: &str, msg: &str) -> Fail {
    Fail(format!("{msg}\n\n{text}\n{}", net::HELP), 2)
}

/// The connection, the other options and the positional arguments of a command.
type Parsed = (ConnOpts, Vec<(String, String)>, Vec<String>);

/// Splits the arguments: shared options go to the connection, the rest are returned.
fn parse(argv: &[String], extra: &[&str], text: &str) -> Result<Option<Parsed>, Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend(extra);
    let a = args::split_flags(argv, &allowed, net::FLAGS)?;
    if a.flag("--help") {
        help(text)?;
        return Ok(None);
    }
    let mut conn = ConnOpts::new(a.flag("--verbose"));
    let mut rest = Vec::new();
    for (name, v) in a.options {
        if !conn.take(&name, &v)? {
            rest.push((name, v));
        }
    }
    Ok(Some((conn, rest, a.files)))
}

fn no_files(files: &[String], text: &str) -> Result<(), Fail> {
    match files.first() {
        Some(f) => Err(usage(text, &format!("unexpected argument `{f}`"))),
        None => Ok(()),
    }
}

fn test_connection(argv: &[String]) -> Result<(), Fail> {
    let Some((conn, _, files)) = parse(argv, &[], TEST_HELP)? else {
        return Ok(());
    };
    no_files(&files, TEST_HELP)?;
    let mut c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.test_connection();
    let Output::Connection(v) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the connection test".into(), 2));
    };
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    for (step, r) in &v.steps {
        match r {
            Ok(()) => text.push_str(&format!("✓ {step}\n")),
            Err(e) => text.push_str(&format!("✗ {step}: {}\n", error_line(e))),
        }
    }
    text.push_str(&v.summary());
    text.push('\n');
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Fail(format!("cannot write output: {e}"), 2))?;
    if v.ok {
        Ok(())
    } else {
        Err(Fail("the connection test failed".into(), 1))
    }
}

const PERMISSIONS: [TokenPermission; 7] = [
    TokenPermission::InvoiceRead,
    TokenPermission::InvoiceWrite,
    TokenPermission::CredentialsRead,
    TokenPermission::CredentialsManage,
    TokenPermission::SubunitManage,
    TokenPermission::EnforcementOperations,
    TokenPermission::Introspection,
];

fn token_generate(argv: &[String]) -> Result<(), Fail> {
    let Some((conn, rest, files)) = parse(argv, &["--permissions", "--description"], TOKEN_HELP)?
    else {
        return Ok(());
    };
    no_files(&files, TOKEN_HELP)?;
    let (mut perms, mut description) = (Vec::new(), None);
    for (name, v) in rest {
        if name == "--description" {
            description = Some(v);
            continue;
        }
        for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let found = PERMISSIONS
                .iter()
                .find(|k| k.as_str().eq_ignore_ascii_case(p))
                .ok_or_else(|| {
                    usage(
                        TOKEN_HELP,
                        &format!("--permissions: unknown permission `{p}`"),
                    )
                })?;
            if !perms.contains(found) {
                perms.push(*found);
            }
        }
    }
    if perms.is_empty() {
        return Err(usage(TOKEN_HELP, "--permissions is required"));
    }
    let description = description.ok_or_else(|| usage(TOKEN_HELP, "--description is required"))?;
    let mut c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.generate_token(perms, description);
    let Output::Token(t) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the token generation".into(), 2));
    };
    eprintln!("token {} ({})", t.reference, t.status);
    // the one place a token is printed: the user asked for it, and KSeF shows it only once
    crate::write_stdout(format!("{}\n", t.token.expose()).as_bytes())
}

fn sessions(argv: &[String], terminate: bool) -> Result<(), Fail> {
    let Some((conn, _, files)) = parse(argv, &[], SESSIONS_HELP)? else {
        return Ok(());
    };
    let mut c;
    if terminate {
        let reference = match files.as_slice() {
            [r] => r.clone(),
            _ => return Err(usage(SESSIONS_HELP, "terminate needs one reference number")),
        };
        c = conn.connect()?;
        let op_start =
            |cl: &mut ksef::protocol::Client| cl.terminate_auth_session(reference.as_str());
        c.run(op_start)?;
        eprintln!("session {reference} terminated");
        return Ok(());
    }
    no_files(&files, SESSIONS_HELP)?;
    c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.list_auth_sessions();
    let Output::AuthSessions(list) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the session list".into(), 2));
    };
    let mut text = String::new();
    for s in &list {
        text.push_str(&format!(
            "{}{}\t{}\t{}\t{}\n",
            if s.is_current { "*" } else { " " },
            s.reference,
            s.start_date,
            s.method,
            s.status.summary()
        ));
    }
    crate::write_stdout(text.as_bytes())
}

/// Writes a new file readable by the owner only; never replaces an existing one.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Fail> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
        .map_err(|e| Fail(format!("cannot write {}: {e}", path.display()), 2))
}

fn cert_enroll(argv: &[String]) -> Result<(), Fail> {
    let Some((conn, rest, files)) = parse(
        argv,
        &["--name", "--type", "--out-key", "--out-cert"],
        CERT_HELP,
    )?
    else {
        return Ok(());
    };
    no_files(&files, CERT_HELP)?;
    let (mut name, mut kind, mut key_path, mut cert_path) =
        (None, CertificateType::Offline, None, None);
    for (opt, v) in rest {
        match opt.as_str() {
            "--name" => name = Some(v),
            "--type" => {
                kind = match v.as_str() {
                    "offline" => CertificateType::Offline,
                    "authentication" => CertificateType::Authentication,
                    _ => {
                        return Err(usage(
                            CERT_HELP,
                            &format!("--type {v}: expected offline or authentication"),
                        ))
                    }
                }
            }
            "--out-key" => key_path = Some(v),
            _ => cert_path = Some(v),
        }
    }
    let name = name.ok_or_else(|| usage(CERT_HELP, "--name is required"))?;
    let key_path = key_path.ok_or_else(|| usage(CERT_HELP, "--out-key is required"))?;
    let cert_path = cert_path.ok_or_else(|| usage(CERT_HELP, "--out-cert is required"))?;
    if Path::new(&key_path).exists() {
        return Err(Fail(
            format!("--out-key {key_path}: the file exists; not replacing a key"),
            2,
        ));
    }
    let mut c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.enroll_certificate(name, kind);
    let Output::Certificate(enrolled) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the enrollment".into(), 2));
    };
    let PrivateKey::EcP256(key) = &enrolled.key else {
        return Err(Fail("the enrolled key is not P-256".into(), 2));
    };
    let pem = key
        .to_pkcs8_pem(pkcs8::LineEnding::LF)
        .map_err(|e| Fail(format!("cannot encode the key: {e}"), 2))?;
    write_private(Path::new(&key_path), pem.as_bytes())?;
    std::fs::write(&cert_path, enrolled.certificate.to_pem())
        .map_err(|e| Fail(format!("cannot write {cert_path}: {e}"), 2))?;
    eprintln!(
        "certificate {} ({}) saved to {cert_path}, its key to {key_path}",
        enrolled.serial_number, enrolled.name
    );
    Ok(())
}
