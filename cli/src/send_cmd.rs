//! `ksef send`: invoices to KSeF in one online (or batch) session; prints one line per file
//! (`FILE<TAB>KSEF_NUMBER` or `FILE<TAB>error [code]: message`) and saves the UPOs.

use std::io::Write;
use std::path::{Path, PathBuf};

use ksef::crypto::session::SessionKey;
use ksef::protocol::batch::{prepare_batch, BatchOptions, FileParts};
use ksef::protocol::{BatchSend, FormCode, InvoiceOutcome, OnlineSend, Output, UpoRef};
use ksef::{xml, Error, SchemaVersion};
use rand_core::{OsRng, RngCore};

use crate::net::{self, error_line, ConnOpts};
use crate::{args, Fail};

/// The help text of `ksef send`.
pub const HELP: &str = "\
usage: ksef send [--batch] [--offline] [--validate] [--upo-dir DIR]
                 [--auto-offline QUEUE.json [--offline-cert PEM --offline-key PEM] [--lighthouse-url URL]]
                 CONNECTION FILES...

Sends invoice XML files (all FA(3) or all FA(2), detected by reading them) to KSeF in one
online session, or one batch session with --batch. Prints one line per file on stdout:
  FILE<TAB>KSEF_NUMBER                    accepted
  FILE<TAB>error [code]: message          refused (locally or by KSeF)
and saves each invoice's UPO as DIR/<KSeF number>.xml and the session UPO as
DIR/session-<reference>.xml (DIR: --upo-dir, default ./upo).

  --batch          a batch session (ZIP, encrypted parts in a temporary directory)
  --offline        the invoices were issued in an offline mode (offlineMode: true)
  --validate       check each invoice locally first (ksef validate); invalid ones are not sent
  --upo-dir DIR    where the UPOs go (created if missing)
  --lighthouse-url URL
                   with --auto-offline: ask Latarnia (KSeF's status service) first; while it
                   announces anything but AVAILABLE the invoices are issued offline at once
  --auto-offline QUEUE.json
                   when KSeF is unavailable (transport failure or 5xx after the retries), issue
                   the invoices offline instead: their exact bytes go into the offline queue
                   QUEUE.json (offline24 mode, KOD I, and KOD II signed with --offline-cert /
                   --offline-key, the seller's KSeF certificate of type Offline); each line then
                   reads FILE<TAB>offline, send by DATE<TAB>KOD_I_URL. Send them later with
                   `ksef offline send --state QUEUE.json`.

Exit 0 when every file was accepted, 1 when some were refused, 2 on usage, I/O, connection
or authentication errors (nothing printed for the files then).
";

/// Runs `ksef send` when `cmd` is `send`.
pub fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    (cmd == "send").then(|| send(args))
}

/// One input file and what became of it.
struct Item {
    path: String,
    bytes: Vec<u8>,
    /// A local refusal (unreadable as an invoice, invalid, ...).
    local: Option<String>,
}

fn help_text() -> String {
    format!("{HELP}\n{}", net::HELP)
}

fn send(argv: &[String]) -> Result<(), Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend([
        "--upo-dir",
        "--auto-offline",
        "--offline-cert",
        "--offline-key",
        "--lighthouse-url",
    ]);
    let mut flags = net::FLAGS.to_vec();
    flags.extend(["--batch", "--offline", "--validate"]);
    let a = args::split_flags(argv, &allowed, &flags)?;
    if a.flag("--help") {
        return crate::write_stdout(help_text().as_bytes());
    }
    let mut conn = ConnOpts::new(a.flag("--verbose"));
    let mut upo_dir = PathBuf::from("upo");
    let mut auto = AutoOfflineOpts::default();
    for (name, v) in &a.options {
        if !conn.take(name, v)? {
            match name.as_str() {
                "--auto-offline" => auto.queue = Some(v.clone()),
                "--offline-cert" => auto.cert = Some(v.clone()),
                "--offline-key" => auto.key = Some(v.clone()),
                "--lighthouse-url" => auto.lighthouse = Some(v.trim_end_matches('/').to_string()),
                _ => upo_dir = PathBuf::from(v),
            }
        }
    }
    if auto.queue.is_none()
        && (auto.cert.is_some() || auto.key.is_some() || auto.lighthouse.is_some())
    {
        return Err(Fail(
            "--offline-cert/--offline-key/--lighthouse-url need --auto-offline QUEUE.json".into(),
            2,
        ));
    }
    if a.files.is_empty() {
        return Err(Fail(
            format!("ksef send: no invoice files given\n\n{}", help_text()),
            2,
        ));
    }
    // everything about the connection is checked before any file is read
    let mut c = conn.connect()?;
    let mut items = Vec::new();
    for path in &a.files {
        let bytes = std::fs::read(path).map_err(|e| Fail(format!("cannot read {path}: {e}"), 2))?;
        items.push(Item {
            path: path.clone(),
            bytes,
            local: None,
        });
    }
    let schema = check_locally(&mut items, a.flag("--validate"))?;
    let to_send: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].local.is_none())
        .collect();
    let mut lines: Vec<Option<String>> = items.iter().map(|i| i.local.clone()).collect();
    let mut refused = lines.iter().filter(|l| l.is_some()).count();
    if let Some(schema) = schema.filter(|_| !to_send.is_empty()) {
        std::fs::create_dir_all(&upo_dir)
            .map_err(|e| Fail(format!("cannot create {}: {e}", upo_dir.display()), 2))?;
        let form = FormCode::of(schema);
        let invoices: Vec<&Item> = to_send.iter().map(|&i| &items[i]).collect();
        let offline = a.flag("--offline");
        // Latarnia first (--lighthouse-url): while it announces KSeF down, no attempt is made.
        if let Some(url) = &auto.lighthouse {
            let status = lighthouse_status(url)?;
            if status != ksef::offline::availability::KsefStatus::Available {
                eprintln!("Latarnia: KSeF {}: issuing offline", status.as_str());
                let issued = issue_offline(&auto, c.environment(), &invoices, status)?;
                for (&input, line) in to_send.iter().zip(issued) {
                    lines[input] = Some(line);
                }
                return print_lines(&items, &lines, refused);
            }
        }
        let sent = if a.flag("--batch") {
            send_batch(&mut c, form, &invoices, offline)
        } else {
            let send = OnlineSend::new(form, invoices.iter().map(|i| i.bytes.clone()).collect())
                .offline(offline);
            let op_start = |cl: &mut ksef::protocol::Client| cl.send_online(send);
            match c.try_run(op_start) {
                Ok(Output::Online(r)) => Ok(r),
                Ok(_) => Err(SendFail::Fail(Fail(
                    "unexpected result of the online session".into(),
                    2,
                ))),
                Err(e) => Err(SendFail::Core(e)),
            }
        };
        let r = match sent {
            Ok(r) => r,
            Err(SendFail::Core(e))
                if auto.queue.is_some()
                    && ksef::offline::availability::AutoOffline::default().on_failure(&e) =>
            {
                eprintln!("KSeF unavailable ({}): issuing offline", error_line(&e));
                let issued = issue_offline(
                    &auto,
                    c.environment(),
                    &invoices,
                    ksef::offline::availability::KsefStatus::Available,
                )?;
                for (&input, line) in to_send.iter().zip(issued) {
                    lines[input] = Some(line);
                }
                c.close();
                return print_lines(&items, &lines, refused);
            }
            Err(SendFail::Core(e)) => return Err(Fail(error_line(&e), 2)),
            Err(SendFail::Fail(f)) => return Err(f),
        };
        let (session, outcomes, session_upo) = (r.session, r.invoices, r.session_upo);
        for (n, page) in session_upo.iter().enumerate() {
            let name = if session_upo.len() == 1 {
                format!("session-{session}.xml")
            } else {
                format!("session-{session}-{}.xml", n + 1)
            };
            save(&upo_dir.join(name), page)?;
        }
        for o in &outcomes {
            let Some(&input) = to_send.get(o.index) else {
                continue;
            };
            lines[input] = Some(outcome_line(&mut c, &session, o, &upo_dir, &mut refused)?);
        }
        for (k, &input) in to_send.iter().enumerate() {
            if lines[input].is_none() {
                refused += 1;
                lines[input] = Some(format!(
                    "error [{}]: KSeF reported nothing for invoice #{}",
                    ksef::ErrorCode::BadResponse.name(),
                    k + 1
                ));
            }
        }
        let accepted = outcomes.iter().filter(|o| o.is_accepted()).count();
        eprintln!(
            "session {session}: {accepted} of {} accepted; UPOs in {}",
            to_send.len(),
            upo_dir.display()
        );
    }
    c.close();
    print_lines(&items, &lines, refused)
}

/// One `FILE<TAB>RESULT` line per input file; exit 1 when some were refused.
fn print_lines(items: &[Item], lines: &[Option<String>], refused: usize) -> Result<(), Fail> {
    let mut out = std::io::stdout().lock();
    for (item, line) in items.iter().zip(lines) {
        writeln!(out, "{}\t{}", item.path, line.as_deref().unwrap_or(""))
            .map_err(|e| Fail(format!("cannot write output: {e}"), 2))?;
    }
    out.flush()
        .map_err(|e| Fail(format!("cannot write output: {e}"), 2))?;
    if refused > 0 {
        return Err(Fail(
            format!("{refused} of {} invoice(s) not accepted", items.len()),
            1,
        ));
    }
    Ok(())
}

/// `--auto-offline` and the offline certificate.
#[derive(Default)]
struct AutoOfflineOpts {
    queue: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    lighthouse: Option<String>,
}

/// What Latarnia at `url` says about KSeF.
fn lighthouse_status(url: &str) -> Result<ksef::offline::availability::KsefStatus, Fail> {
    use ksef::http::Transport as _;
    use ksef::offline::availability;
    let mut b = ksef::transport::UreqTransport::builder();
    if ksef::protocol::settings::is_loopback(url) {
        b = b.no_proxy();
    }
    let mut t = b.build().map_err(|e| Fail(error_line(&e), 2))?;
    let r = t
        .send(&availability::status_request(url))
        .map_err(|e| Fail(format!("--lighthouse-url {url}: {e}"), 2))?;
    availability::parse_status(&r.body)
        .map(|r| r.status)
        .map_err(|e| Fail(format!("--lighthouse-url {url}: {}", error_line(&e)), 2))
}

/// Why a session did not run: a core error (unavailability or not) or a CLI failure.
enum SendFail {
    Core(Error),
    Fail(Fail),
}

impl From<Fail> for SendFail {
    fn from(f: Fail) -> SendFail {
        SendFail::Fail(f)
    }
}

/// KSeF is unavailable: each invoice goes into the offline queue (offline24 from its P_1,
/// KOD I, KOD II when a certificate was given); the queue file is saved. One line per
/// invoice.
fn issue_offline(
    auto: &AutoOfflineOpts,
    env: ksef::Environment,
    invoices: &[&Item],
    status: ksef::offline::availability::KsefStatus,
) -> Result<Vec<String>, Fail> {
    use ksef::offline::queue::{Kod2Signer, OfflineQueue};
    let Some(path) = auto.queue.as_deref() else {
        return Err(Fail("--auto-offline QUEUE.json is needed".into(), 2));
    };
    let mut q = match std::fs::read_to_string(path) {
        Ok(text) => OfflineQueue::restore_json(&text)
            .map_err(|e| Fail(format!("--auto-offline {path}: {}", error_line(&e)), 2))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => OfflineQueue::new(env),
        Err(e) => return Err(Fail(format!("--auto-offline {path}: cannot read: {e}"), 2)),
    };
    let signer = match (&auto.cert, &auto.key) {
        (Some(c), Some(k)) => {
            let key = ksef::crypto::PrivateKey::from_pem_or_der(&crate::read_input(k)?)
                .map_err(|e| Fail(format!("--offline-key {k}: {e}"), 2))?;
            let cert = ksef::crypto::Certificate::from_pem_or_der(&crate::read_input(c)?)
                .map_err(|e| Fail(format!("--offline-cert {c}: {e}"), 2))?;
            Some((key, cert.serial_hex()))
        }
        (None, None) => None,
        _ => {
            return Err(Fail(
                "--offline-cert and --offline-key go together".into(),
                2,
            ))
        }
    };
    let mut lines = Vec::new();
    for item in invoices {
        let link = ksef::qr::InvoiceLink::from_invoice_xml(q.env(), &item.bytes)
            .map_err(|e| Fail(format!("{}: {}", item.path, error_line(&e)), 2))?;
        let mode = ksef::offline::availability::mode_for(status, link.issue_date());
        let k2 = signer.as_ref().map(|(key, serial)| Kod2Signer {
            context_type: ksef::qr::ContextType::Nip,
            context_value: link.seller_nip(),
            certificate_serial: serial,
            key,
        });
        let line = match q.issue(&item.path, &item.bytes, mode, k2.as_ref(), &mut OsRng) {
            Ok(inv) => format!(
                "offline, send by {}\t{}",
                inv.deadline
                    .map_or("(no obligation)".to_string(), |d| d.to_string()),
                inv.kod1_url
            ),
            Err(e) => error_line(&e),
        };
        lines.push(line);
    }
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, q.snapshot_json())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Fail(format!("--auto-offline {path}: cannot write: {e}"), 2))?;
    Ok(lines)
}

/// Reads every invoice (schema detection), refuses a mix of schemas, and validates with
/// `--validate`. Returns the common schema (none when no file could be read as an invoice).
fn check_locally(items: &mut [Item], validate: bool) -> Result<Option<SchemaVersion>, Fail> {
    let mut schema: Option<(SchemaVersion, String)> = None;
    let today = today()?;
    for item in items.iter_mut() {
        let parsed = match xml::parse(&item.bytes) {
            Ok(p) => p,
            Err(e) => {
                item.local = Some(error_line(&e));
                continue;
            }
        };
        match &schema {
            None => schema = Some((parsed.schema, item.path.clone())),
            Some((s, first)) if *s != parsed.schema => {
                return Err(Fail(
                    format!(
                        "cannot mix schemas in one session: {first} is {s}, {} is {}; send \
                         them separately",
                        item.path, parsed.schema
                    ),
                    2,
                ));
            }
            Some(_) => {}
        }
        if validate {
            let opts = ksef::validate::Options::new().with_today(today);
            let report = ksef::validate::validate(&parsed.invoice, parsed.schema, &opts);
            let errors: Vec<_> = report.errors().collect();
            if let Some(first) = errors.first() {
                let more = match errors.len() {
                    1 => String::new(),
                    n => format!(" (and {} more: ksef validate {})", n - 1, item.path),
                };
                item.local = Some(format!(
                    "error [{}]: {}: {}{more}",
                    first.rule.code(),
                    first.path,
                    first.message
                ));
            }
        }
    }
    Ok(schema.map(|(s, _)| s))
}

/// Today's date (UTC) for the `P_1` check.
fn today() -> Result<ksef::model::Date, Fail> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Fail("the system clock is before 1970".into(), 2))?
        .as_secs();
    ksef::model::DateTime::from_unix_seconds(i64::try_from(now).unwrap_or(i64::MAX))
        .map(|t| t.date())
        .ok_or_else(|| Fail("the system clock is out of range".into(), 2))
}

/// The line of one outcome; saves its UPO (downloading it when the session did not).
fn outcome_line(
    c: &mut net::Conn,
    session: &str,
    o: &InvoiceOutcome,
    upo_dir: &Path,
    refused: &mut usize,
) -> Result<String, Fail> {
    let number = match (&o.ksef_number, &o.error) {
        (Some(n), None) => n.clone(),
        (_, Some(e)) => {
            *refused += 1;
            return Ok(error_line(e));
        }
        (None, None) => {
            *refused += 1;
            let why = o
                .status
                .as_ref()
                .map_or_else(|| "no KSeF number".to_string(), |s| s.status.summary());
            return Ok(format!(
                "error [{}]: {why}",
                ksef::ErrorCode::InvoiceRejected.name()
            ));
        }
    };
    let upo = match &o.upo {
        Some(u) => u.clone(),
        None => {
            let op_start = |cl: &mut ksef::protocol::Client| {
                cl.download_upo(UpoRef::KsefNumber {
                    session: session.to_string(),
                    ksef_number: number.clone(),
                })
            };
            match c.run(op_start)? {
                Output::Upo(u) => u,
                _ => return Err(Fail("unexpected result of the UPO download".into(), 2)),
            }
        }
    };
    save(&upo_dir.join(format!("{number}.xml")), &upo)?;
    Ok(number)
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), Fail> {
    std::fs::write(path, bytes)
        .map_err(|e| Fail(format!("cannot write {}: {e}", path.display()), 2))
}

/// A name for the ZIP entry of input `i`: its file name, made safe and unique.
fn entry_name(i: usize, path: &str) -> String {
    let base = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{:04}-{}", i + 1, ksef::zip::safe_name(&base))
}

/// Prepares the batch package in a temporary directory and sends it.
fn send_batch(
    c: &mut net::Conn,
    form: FormCode,
    invoices: &[&Item],
    offline: bool,
) -> Result<ksef::protocol::BatchResult, SendFail> {
    let names: Vec<String> = invoices
        .iter()
        .enumerate()
        .map(|(i, it)| entry_name(i, &it.path))
        .collect();
    let mut core_error = None;
    let r = send_batch_entries_with(
        c,
        form,
        names
            .iter()
            .map(String::as_str)
            .zip(invoices.iter().map(|it| it.bytes.as_slice())),
        offline,
        &mut core_error,
    );
    match (r, core_error) {
        (Ok(r), _) => Ok(r),
        (Err(_), Some(e)) => Err(SendFail::Core(e)),
        (Err(f), None) => Err(SendFail::Fail(f)),
    }
}

/// Packages `(name, bytes)` entries in a temporary directory (encrypted parts, removed
/// afterwards) and sends them in one batch session.
pub(crate) fn send_batch_entries<'a>(
    c: &mut net::Conn,
    form: FormCode,
    entries: impl Iterator<Item = (&'a str, &'a [u8])>,
    offline: bool,
) -> Result<ksef::protocol::BatchResult, Fail> {
    send_batch_entries_with(c, form, entries, offline, &mut None)
}

/// As [`send_batch_entries`]; a failure of the session itself also leaves the core error in
/// `core_error` (to tell unavailability from a refusal).
fn send_batch_entries_with<'a>(
    c: &mut net::Conn,
    form: FormCode,
    entries: impl Iterator<Item = (&'a str, &'a [u8])>,
    offline: bool,
    core_error: &mut Option<Error>,
) -> Result<ksef::protocol::BatchResult, Fail> {
    let mut tag = [0u8; 8];
    OsRng
        .try_fill_bytes(&mut tag)
        .map_err(|e| Fail(format!("cannot read OS randomness: {e}"), 2))?;
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("ksef-batch-{}-{hex}", std::process::id()));
    let result = (|| {
        let key = SessionKey::generate(&mut OsRng);
        let mut parts = FileParts::new(&dir).map_err(|e| Fail(error_line(&e), 2))?;
        let prepared = prepare_batch(entries, &key, &BatchOptions::default(), &mut parts)
            .map_err(|e: Error| Fail(error_line(&e), 2))?;
        let mut send = BatchSend::new(form, prepared, key, Box::new(parts));
        send.offline_mode = offline;
        let op_start = |cl: &mut ksef::protocol::Client| cl.send_batch(send);
        match c.try_run(op_start) {
            Ok(Output::Batch(r)) => Ok(r),
            Ok(_) => Err(Fail("unexpected result of the batch session".into(), 2)),
            Err(e) => {
                let f = Fail(error_line(&e), 2);
                *core_error = Some(e);
                Err(f)
            }
        }
    })();
    // the parts are encrypted, but they are of no use once sent
    let _ = std::fs::remove_dir_all(&dir);
    result
}
