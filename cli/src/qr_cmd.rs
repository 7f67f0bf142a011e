//! `ksef hash`, `ksef qr invoice|cert`, `ksef number check`: invoice hashes, KOD I / KOD II
//! links and images, KSeF number checks.

use std::path::Path;

use ksef::crypto::hash::{sha256, Sha256Hash};
use ksef::crypto::{Certificate, PrivateKey};
use ksef::id::KsefNumber;
use ksef::qr::render::{self, RenderOptions};
use ksef::qr::{ContextType, InvoiceLink, QrMatrix, QrModules, DEFAULT_ECC};
use ksef::Environment;

use crate::{read_input, usage, write_stdout, Fail};

/// The commands of this module, `None` for any other.
pub(crate) fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    Some(match cmd {
        "hash" => hash(args),
        "qr" => match args.split_first() {
            Some((sub, rest)) if sub == "invoice" => qr_invoice(rest),
            Some((sub, rest)) if sub == "cert" => qr_cert(rest),
            Some((sub, _)) => Err(usage(&format!(
                "unknown qr command `{sub}` (invoice or cert)"
            ))),
            None => Err(usage("qr needs `invoice` or `cert`")),
        },
        "number" => match args.split_first() {
            Some((sub, rest)) if sub == "check" => number_check(rest),
            Some((sub, _)) => Err(usage(&format!("unknown number command `{sub}` (check)"))),
            None => Err(usage("number needs `check`")),
        },
        _ => return None,
    })
}

/// Options of the qr commands.
#[derive(Default)]
struct QrOpts {
    env: Option<Environment>,
    ksef_number: Option<String>,
    png: Option<String>,
    svg: Option<String>,
    key: Option<String>,
    cert: Option<String>,
    context_type: Option<ContextType>,
    context_id: Option<String>,
    render: RenderOptions,
    files: Vec<String>,
}

fn parse_qr_opts(args: &[String], allowed: &[&str]) -> Result<QrOpts, Fail> {
    let a = crate::args::split(args, allowed)?;
    let mut o = QrOpts {
        files: a.files,
        ..QrOpts::default()
    };
    for (name, v) in a.options {
        let number = |v: &str| -> Result<u32, Fail> {
            v.parse()
                .map_err(|_| usage(&format!("{name} needs a number, not {v:?}")))
        };
        match name.as_str() {
            "--env" => o.env = Some(v.parse().map_err(|e: ksef::Error| usage(e.message()))?),
            "--ksef-number" => o.ksef_number = Some(v),
            "--png" => o.png = Some(v),
            "--svg" => o.svg = Some(v),
            "--key" => o.key = Some(v),
            "--cert" => o.cert = Some(v),
            "--context-type" => {
                o.context_type = Some(v.parse().map_err(|e: ksef::Error| usage(e.message()))?)
            }
            "--context-id" => o.context_id = Some(v),
            "--module-px" => o.render.module_px = number(&v)?,
            "--quiet-zone" => o.render.quiet_zone = number(&v)?,
            _ => return Err(usage(&format!("unknown option {name}"))),
        }
    }
    Ok(o)
}

fn one_file(files: &[String]) -> Result<&str, Fail> {
    match files {
        [f] => Ok(f),
        [] => Err(usage("a file is needed")),
        _ => Err(usage("exactly one file is needed")),
    }
}

fn need<'a, T>(v: &'a Option<T>, what: &str) -> Result<&'a T, Fail> {
    v.as_ref()
        .ok_or_else(|| usage(&format!("{what} is needed")))
}

fn hash(args: &[String]) -> Result<(), Fail> {
    let o = parse_qr_opts(args, &[])?;
    let bytes = read_input(one_file(&o.files)?)?;
    let h = sha256(&bytes);
    let mut hex = [0u8; Sha256Hash::HEX_LEN];
    let out = format!(
        "size: {}\nsha256-hex: {}\nsha256-base64: {}\nsha256-base64url: {}\n",
        bytes.len(),
        h.hex_into(&mut hex),
        h.to_base64(),
        h.to_base64url()
    );
    write_stdout(out.as_bytes())
}

/// Write the PNG and/or SVG the options ask for.
fn write_images(o: &QrOpts, url: &str, label: &str, what: &str) -> Result<(), Fail> {
    if o.png.is_none() && o.svg.is_none() {
        return Ok(());
    }
    let m = QrMatrix::encode(url, DEFAULT_ECC)?;
    let note = |path: &str| {
        eprintln!(
            "{path}: {what}, QR version {}-{} ({} modules), label {label}",
            m.version(),
            m.ecc().letter(),
            m.size()
        )
    };
    if let Some(path) = &o.png {
        let png = render::png(&m, Some(label), &o.render)?;
        write_file(path, &png)?;
        note(path);
    }
    if let Some(path) = &o.svg {
        let svg = render::svg(&m, Some(label), &o.render)?;
        write_file(path, svg.as_bytes())?;
        note(path);
    }
    Ok(())
}

fn write_file(path: &str, bytes: &[u8]) -> Result<(), Fail> {
    std::fs::write(Path::new(path), bytes).map_err(|e| Fail(format!("cannot write {path}: {e}"), 2))
}

const IMAGE_OPTS: [&str; 4] = ["--png", "--svg", "--module-px", "--quiet-zone"];

fn qr_invoice(args: &[String]) -> Result<(), Fail> {
    let mut allowed = vec!["--env", "--ksef-number"];
    allowed.extend(IMAGE_OPTS);
    let o = parse_qr_opts(args, &allowed)?;
    let env = *need(&o.env, "--env test|demo|prod")?;
    let bytes = read_input(one_file(&o.files)?)?;
    let link = InvoiceLink::from_invoice_xml(env, &bytes)?;
    let number = match &o.ksef_number {
        Some(n) => {
            let n = KsefNumber::parse(n).map_err(|e| e.at("--ksef-number"))?;
            if n.seller_nip() != link.seller_nip() {
                return Err(Fail(
                    format!(
                        "error [ksef_number]: --ksef-number: the number belongs to seller NIP {}, \
                         the invoice's seller (Podmiot1) is {}",
                        n.seller_nip(),
                        link.seller_nip()
                    ),
                    1,
                ));
            }
            Some(n)
        }
        None => None,
    };
    let url = link.url();
    write_images(&o, &url, link.label(number.as_ref()), "KOD I")?;
    write_stdout(format!("{url}\n").as_bytes())
}

fn read_file(path: &str) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail(format!("cannot read {path}: {e}"), 2))
}

fn qr_cert(args: &[String]) -> Result<(), Fail> {
    let mut allowed = vec!["--env", "--key", "--cert", "--context-type", "--context-id"];
    allowed.extend(IMAGE_OPTS);
    let o = parse_qr_opts(args, &allowed)?;
    let env = *need(&o.env, "--env test|demo|prod")?;
    let key_path = need(
        &o.key,
        "--key KEY.pem (the Offline certificate's private key)",
    )?;
    let cert_path = need(
        &o.cert,
        "--cert CERT.pem (the KSeF certificate of type Offline)",
    )?;
    let context_type = *need(
        &o.context_type,
        "--context-type Nip|InternalId|NipVatUe|PeppolId",
    )?;
    let context_id = need(
        &o.context_id,
        "--context-id (the login context's identifier)",
    )?;
    let bytes = read_input(one_file(&o.files)?)?;
    let key = PrivateKey::from_pem_or_der(&read_file(key_path)?)
        .map_err(|e| ksef::Error::new(e.code(), key_path.as_str(), e.message()))?;
    let cert = Certificate::from_pem_or_der(&read_file(cert_path)?)
        .map_err(|e| ksef::Error::new(e.code(), cert_path.as_str(), e.message()))?;
    if !cert.matches_key(&key) {
        return Err(Fail(
            format!("error [qr_sign]: {key_path} is not the private key of {cert_path}"),
            1,
        ));
    }
    let serial = cert.serial_hex();
    let link = InvoiceLink::from_invoice_xml(env, &bytes)?.certificate_link(
        context_type,
        context_id,
        &serial,
    )?;
    let url = link.signed_url(&key, &mut rand_core::OsRng)?;
    write_images(&o, &url, link.label(), "KOD II")?;
    write_stdout(format!("{url}\n").as_bytes())
}

fn number_check(args: &[String]) -> Result<(), Fail> {
    let number = match args {
        [n] => n,
        _ => return Err(usage("number check needs one KSeF number")),
    };
    match KsefNumber::parse(number) {
        Ok(n) => {
            let out = format!(
                "valid KSeF number: seller NIP {}, accepted {}, technical part {}, checksum {:02X}\n",
                n.seller_nip(),
                n.date(),
                n.technical_part(),
                n.checksum()
            );
            write_stdout(out.as_bytes())
        }
        Err(e) => Err(Fail(format!("error [ksef_number]: {number}: {e}"), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let args: Vec<String> = ["--env", "demo", "a.xml", "--module-px", "7"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = parse_qr_opts(&args, &["--env", "--module-px"])
            .ok()
            .unwrap();
        assert_eq!(o.env, Some(Environment::Demo));
        assert_eq!(o.render.module_px, 7);
        assert_eq!(o.files, ["a.xml"]);
        assert!(parse_qr_opts(&args, &["--env"]).is_err());
    }
}
