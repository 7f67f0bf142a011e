//! `ksef inbox`: list invoice metadata (and download the invoices), `ksef inbox get` one
//! invoice by its KSeF number, `ksef inbox export` the export flow.

use std::io::Write;
use std::path::{Path, PathBuf};

use ksef::model::{Date, DateTime};
use ksef::protocol::{DateType, ExportRequest, MetadataQuery, Output, SubjectType};

use crate::net::{self, ConnOpts};
use crate::{args, Fail};

/// The help text of `ksef inbox`.
pub const HELP: &str = "\
usage: ksef inbox [--as seller|buyer] --from DATE [--to DATE] [--date-type issue|invoicing|storage]
                  [--limit N] [--download DIR] [--json] CONNECTION
       ksef inbox get KSEF_NUMBER [-o FILE] CONNECTION
       ksef inbox export [--as ...] --from DATE [--to DATE] [--date-type ...] --out DIR CONNECTION

Lists the metadata of invoices in KSeF: a table on stdout (KSeF number, invoice number, issue
date, seller, buyer, gross amount), or one JSON object per line with --json (KSeF's
InvoiceMetadata as it came).

  --as buyer|seller   invoices issued to the context (default: buyer) or by it
  --from DATE         YYYY-MM-DD (start of that day) or a date-time YYYY-MM-DDThh:mm:ss[Z|+hh:mm];
                      without an offset KSeF reads Polish time. KSeF allows 3 months per query
  --to DATE           YYYY-MM-DD (end of that day) or a date-time; default: now
  --date-type T       which date the range is about: invoicing (received by KSeF, default),
                      issue (P_1) or storage (permanent storage: for incremental sync)
  --limit N           stop after N invoices
  --download DIR      also save each invoice as DIR/<KSeF number>.xml
  --json              JSON lines instead of the table

get: downloads one invoice (the XML exactly as KSeF stores it) to FILE, or stdout.
export: the export flow (an encrypted package made by KSeF, downloaded, checked and
decrypted): each invoice as DIR/<KSeF number>.xml and DIR/_metadata.json.
";

/// Runs `ksef inbox` when `cmd` is `inbox`.
pub fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    (cmd == "inbox").then(|| match args.first().map(String::as_str) {
        Some("get") => get(&args[1..]),
        Some("export") => list(&args[1..], true),
        _ => list(args, false),
    })
}

fn help_text() -> String {
    format!("{HELP}\n{}", net::HELP)
}

fn cmd_usage(msg: &str) -> Fail {
    Fail(format!("{msg}\n\n{}", help_text()), 2)
}

/// `--from`/`--to` values: a date means the start (or end) of that day.
fn range_value(name: &str, v: &str, end: bool) -> Result<String, Fail> {
    if v.len() == 10 {
        let d: Date = v
            .parse()
            .map_err(|e: &str| Fail(format!("{name} {v}: {e}"), 2))?;
        return Ok(format!("{d}T{}", if end { "23:59:59" } else { "00:00:00" }));
    }
    let _: DateTime = v
        .parse()
        .map_err(|e: &str| Fail(format!("{name} {v}: {e} (or a date YYYY-MM-DD)"), 2))?;
    Ok(v.to_string())
}

fn write_out(out: &mut impl Write, text: &str) -> Result<(), Fail> {
    out.write_all(text.as_bytes())
        .map_err(|e| Fail(format!("cannot write output: {e}"), 2))
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), Fail> {
    std::fs::write(path, bytes)
        .map_err(|e| Fail(format!("cannot write {}: {e}", path.display()), 2))
}

fn make_dir(dir: &Path) -> Result<(), Fail> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Fail(format!("cannot create {}: {e}", dir.display()), 2))
}

/// A KSeF number or file name safe to use as a file name.
fn file_name(name: &str) -> Result<&str, Fail> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Fail(
            format!("KSeF gave a name that is not a safe file name: {name:?}"),
            2,
        ));
    }
    Ok(name)
}

fn list(argv: &[String], export: bool) -> Result<(), Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend(["--as", "--from", "--to", "--date-type"]);
    if export {
        allowed.push("--out");
    } else {
        allowed.extend(["--download", "--limit"]);
    }
    let mut flags = net::FLAGS.to_vec();
    if !export {
        flags.push("--json");
    }
    let a = args::split_flags(argv, &allowed, &flags)?;
    if a.flag("--help") {
        return crate::write_stdout(help_text().as_bytes());
    }
    if let Some(f) = a.files.first() {
        return Err(cmd_usage(&format!("unexpected argument `{f}`")));
    }
    let mut conn = ConnOpts::new(a.flag("--verbose"));
    let (mut subject, mut date_type) = (SubjectType::Buyer, DateType::Invoicing);
    let (mut from, mut to, mut dir, mut limit) = (None, None, None, None);
    for (name, v) in &a.options {
        if conn.take(name, v)? {
            continue;
        }
        match name.as_str() {
            "--as" => {
                subject = match v.as_str() {
                    "buyer" => SubjectType::Buyer,
                    "seller" => SubjectType::Seller,
                    _ => return Err(cmd_usage(&format!("--as {v}: expected buyer or seller"))),
                }
            }
            "--date-type" => {
                date_type = match v.as_str() {
                    "issue" => DateType::Issue,
                    "invoicing" => DateType::Invoicing,
                    "storage" => DateType::PermanentStorage,
                    _ => {
                        return Err(cmd_usage(&format!(
                            "--date-type {v}: expected issue, invoicing or storage"
                        )))
                    }
                }
            }
            "--from" => from = Some(range_value(name, v, false)?),
            "--to" => to = Some(range_value(name, v, true)?),
            "--limit" => {
                limit = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| cmd_usage(&format!("--limit {v}: expected a number > 0")))?,
                )
            }
            // --download or --out
            _ => dir = Some(PathBuf::from(v)),
        }
    }
    let from = from.ok_or_else(|| cmd_usage("--from DATE is required"))?;
    let mut query = MetadataQuery::new(subject, date_type, from);
    if let Some(t) = to {
        query = query.to(t);
    }
    if let Some(n) = limit {
        query = query.limit(n);
    }
    if export {
        let dir = dir.ok_or_else(|| cmd_usage("ksef inbox export needs --out DIR"))?;
        return export_to(&conn, query, &dir);
    }
    let mut c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.query_metadata(query);
    let Output::Metadata(r) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the metadata query".into(), 2));
    };
    let mut out = std::io::stdout().lock();
    if a.flag("--json") {
        for m in &r.invoices {
            write_out(&mut out, &format!("{}\n", m.raw))?;
        }
    } else {
        write_out(
            &mut out,
            &format!(
                "{:<36} {:<20} {:<10} {:<10} {:<14} {:>14} {}\n",
                "KSEF_NUMBER", "INVOICE_NUMBER", "ISSUED", "SELLER", "BUYER", "GROSS", "CURRENCY"
            ),
        )?;
        for m in &r.invoices {
            write_out(
                &mut out,
                &format!(
                    "{:<36} {:<20} {:<10} {:<10} {:<14} {:>14} {}\n",
                    m.ksef_number,
                    m.invoice_number,
                    m.issue_date.get(..10).unwrap_or(&m.issue_date),
                    m.seller_nip,
                    m.buyer_identifier.1.as_deref().unwrap_or("-"),
                    m.gross_amount,
                    m.currency
                ),
            )?;
        }
    }
    out.flush()
        .map_err(|e| Fail(format!("cannot write output: {e}"), 2))?;
    drop(out);
    if let Some(dir) = dir {
        make_dir(&dir)?;
        for m in &r.invoices {
            let name = file_name(&m.ksef_number)?;
            let op_start = |cl: &mut ksef::protocol::Client| cl.download_invoice(name);
            let Output::Invoice(inv) = c.run(op_start)? else {
                return Err(Fail("unexpected result of the download".into(), 2));
            };
            save(&dir.join(format!("{name}.xml")), &inv.xml)?;
        }
        eprintln!("saved {} invoice(s) to {}", r.invoices.len(), dir.display());
    }
    c.close();
    Ok(())
}

fn export_to(conn: &ConnOpts, query: MetadataQuery, dir: &Path) -> Result<(), Fail> {
    let mut c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.export_invoices(ExportRequest::new(query));
    let Output::Export(r) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the export".into(), 2));
    };
    make_dir(dir)?;
    for inv in &r.invoices {
        save(&dir.join(file_name(&inv.file_name)?), &inv.xml)?;
    }
    let meta = serde_json::json!({
        "invoices": r.metadata.iter().map(|m| m.raw.clone()).collect::<Vec<_>>()
    });
    save(&dir.join("_metadata.json"), meta.to_string().as_bytes())?;
    c.close();
    let mut out = std::io::stdout().lock();
    for inv in &r.invoices {
        write_out(
            &mut out,
            &format!("{}\n", dir.join(&inv.file_name).display()),
        )?;
    }
    eprintln!(
        "export {}: {} invoice(s) saved to {}{}",
        r.reference,
        r.invoices.len(),
        dir.display(),
        if r.is_truncated {
            " (truncated by KSeF: export again from the last invoice's date)"
        } else {
            ""
        }
    );
    Ok(())
}

fn get(argv: &[String]) -> Result<(), Fail> {
    // `-o FILE` is the short form of `--out FILE`
    let argv: Vec<String> = argv
        .iter()
        .map(|a| {
            if a == "-o" {
                "--out".to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    let mut allowed = net::OPTIONS.to_vec();
    allowed.push("--out");
    let a = args::split_flags(&argv, &allowed, net::FLAGS)?;
    if a.flag("--help") {
        return crate::write_stdout(help_text().as_bytes());
    }
    let number = match a.files.as_slice() {
        [n] => n.clone(),
        [] => return Err(cmd_usage("ksef inbox get needs a KSeF number")),
        _ => return Err(cmd_usage("ksef inbox get takes one KSeF number")),
    };
    ksef::id::KsefNumber::parse(&number)
        .map_err(|e| Fail(format!("{number}: not a KSeF number: {e}"), 2))?;
    let mut conn = ConnOpts::new(a.flag("--verbose"));
    let mut out_file = None;
    for (name, v) in &a.options {
        if !conn.take(name, v)? {
            out_file = Some(PathBuf::from(v));
        }
    }
    let mut c = conn.connect()?;
    let op_start = |cl: &mut ksef::protocol::Client| cl.download_invoice(number.as_str());
    let Output::Invoice(inv) = c.run(op_start)? else {
        return Err(Fail("unexpected result of the download".into(), 2));
    };
    c.close();
    match out_file {
        Some(p) => save(&p, &inv.xml),
        None => crate::write_stdout(&inv.xml),
    }
}
