//! `ksef sign-auth`, `ksef sign-xml`, `ksef verify-xml`: the XAdES-signed AuthTokenRequest for
//! `POST /auth/xades-signature`, enveloped XAdES-BES signatures of any XML, and their check.

use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use ksef::crypto::{Certificate, PrivateKey};
use ksef::model::DateTime;
use ksef::xades::{
    self, AuthSchema, AuthTokenRequest, AuthorizationPolicy, ContextIdentifier,
    SubjectIdentifierType,
};

use crate::{read_input, usage, write_stdout, Fail};

/// The commands of this module, `None` for any other.
pub(crate) fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    Some(match cmd {
        "sign-auth" => sign_auth(args),
        "sign-xml" => sign_xml(args),
        "verify-xml" => verify_xml(args),
        _ => return None,
    })
}

/// The options, as given.
#[derive(Default)]
struct Opts {
    challenge: Option<String>,
    nip: Option<String>,
    context_type: Option<String>,
    context_id: Option<String>,
    key: Option<String>,
    cert: Option<String>,
    subject_type: Option<SubjectIdentifierType>,
    time: Option<DateTime>,
    schema: Option<AuthSchema>,
    policy: Option<AuthorizationPolicy>,
    files: Vec<String>,
}

fn parse(args: &[String], allowed: &[&str]) -> Result<Opts, Fail> {
    let a = crate::args::split(args, allowed)?;
    let mut o = Opts {
        files: a.files,
        ..Opts::default()
    };
    for (name, v) in a.options {
        let name = name.as_str();
        let bad = |what: &str| usage(&format!("{name} {v}: {what}"));
        match name {
            "--challenge" => o.challenge = Some(v),
            "--nip" => o.nip = Some(v),
            "--context-type" => o.context_type = Some(v),
            "--context-id" => o.context_id = Some(v),
            "--key" => o.key = Some(v),
            "--cert" => o.cert = Some(v),
            "--subject-type" => {
                o.subject_type =
                    Some(v.parse().map_err(|_| {
                        bad("expected certificateSubject or certificateFingerprint")
                    })?)
            }
            "--time" => {
                o.time = Some(
                    v.parse()
                        .map_err(|e: &str| bad(&format!("{e} (e.g. 2026-02-01T10:00:00Z)")))?,
                )
            }
            "--schema" => {
                o.schema = Some(match v.as_str() {
                    "2.0" => AuthSchema::V2_0,
                    "2.1" => AuthSchema::V2_1,
                    _ => return Err(bad("expected 2.0 or 2.1")),
                })
            }
            "--allow-ip" | "--allow-range" | "--allow-mask" => {
                let p = o.policy.take().unwrap_or_default();
                let ip = |s: &str| {
                    s.parse::<Ipv4Addr>()
                        .map_err(|_| bad("not an IPv4 address"))
                };
                let p = match name {
                    "--allow-ip" => p.address(ip(&v)?),
                    "--allow-range" => {
                        let (a, b) = v.split_once('-').ok_or_else(|| bad("expected A-B"))?;
                        p.range(ip(a)?, ip(b)?)
                    }
                    _ => {
                        let (a, n) = v.split_once('/').ok_or_else(|| bad("expected A/N"))?;
                        let n = n
                            .parse()
                            .map_err(|_| bad("expected a prefix length 0-32"))?;
                        p.mask(ip(a)?, n)
                    }
                };
                o.policy = Some(p?);
            }
            _ => return Err(usage(&format!("unknown option {name}"))),
        }
    }
    Ok(o)
}

fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, Fail> {
    v.as_deref()
        .ok_or_else(|| usage(&format!("{name} is required")))
}

/// The key and certificate files.
fn key_and_cert(o: &Opts) -> Result<(PrivateKey, Certificate), Fail> {
    let key = PrivateKey::from_pem_or_der(&read_input(required(&o.key, "--key")?)?)?;
    let cert = Certificate::from_pem_or_der(&read_input(required(&o.cert, "--cert")?)?)?;
    Ok((key, cert))
}

/// `--time`, or now minus one minute (the official client's margin for clock skew).
fn signing_time(o: &Opts) -> Result<DateTime, Fail> {
    if let Some(t) = &o.time {
        return Ok(t.clone());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Fail("the system clock is before 1970".into(), 2))?
        .as_secs();
    let secs = i64::try_from(now).unwrap_or(i64::MAX) - 60;
    DateTime::from_unix_seconds(secs)
        .ok_or_else(|| Fail("the system clock is out of range".into(), 2))
}

fn sign_auth(args: &[String]) -> Result<(), Fail> {
    let o = parse(
        args,
        &[
            "--challenge",
            "--nip",
            "--context-type",
            "--context-id",
            "--key",
            "--cert",
            "--subject-type",
            "--time",
            "--schema",
            "--allow-ip",
            "--allow-range",
            "--allow-mask",
        ],
    )?;
    if let Some(f) = o.files.first() {
        return Err(usage(&format!("unexpected argument `{f}`")));
    }
    let context = match (&o.nip, &o.context_type, &o.context_id) {
        (Some(nip), None, None) => ContextIdentifier::parse("Nip", nip)?,
        (None, Some(t), Some(id)) => ContextIdentifier::parse(t, id)?,
        (None, Some(_), None) => return Err(usage("--context-type needs --context-id")),
        (None, None, Some(_)) => return Err(usage("--context-id needs --context-type")),
        (None, None, None) => {
            return Err(usage(
                "the context is required: --nip, or --context-type with --context-id",
            ))
        }
        _ => return Err(usage("give either --nip or --context-type/--context-id")),
    };
    let mut req = AuthTokenRequest::new(required(&o.challenge, "--challenge")?, context)?
        .subject_type(o.subject_type.unwrap_or_default())
        .schema(o.schema.unwrap_or_default());
    if let Some(p) = o.policy.clone() {
        req = req.authorization_policy(p);
    }
    let (key, cert) = key_and_cert(&o)?;
    let signed = req.sign(&key, &cert, &signing_time(&o)?)?;
    write_stdout(&signed)
}

fn one_file(o: &Opts) -> Result<&str, Fail> {
    match o.files.as_slice() {
        [f] => Ok(f),
        [] => Err(usage("a file is needed")),
        _ => Err(usage("exactly one file is needed")),
    }
}

fn sign_xml(args: &[String]) -> Result<(), Fail> {
    let o = parse(args, &["--key", "--cert", "--time"])?;
    let xml = read_input(one_file(&o)?)?;
    let (key, cert) = key_and_cert(&o)?;
    let signed = xades::sign_enveloped(&xml, &key, &cert, &signing_time(&o)?)?;
    write_stdout(&signed)
}

fn verify_xml(args: &[String]) -> Result<(), Fail> {
    let o = parse(args, &[])?;
    let path = one_file(&o)?;
    let v = xades::verify(&read_input(path)?)?;
    eprintln!("{path}: valid XAdES-BES signature ({:?})", v.algorithm);
    eprintln!("  signer:  {}", v.certificate.subject_rfc4514());
    eprintln!("  issuer:  {}", v.certificate.issuer_rfc4514());
    eprintln!("  serial:  {}", v.certificate.serial_hex());
    if let Some(t) = &v.signing_time {
        eprintln!("  signed:  {t}");
    }
    Ok(())
}
