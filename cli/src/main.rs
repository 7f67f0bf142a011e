//! `ksef` — command-line tool over the `ksef` core.
//!
//! Exit codes: 0 success, 1 the input is invalid (with the reasons on stderr), 2 usage or I/O
//! error.

mod account_cmd;
mod args;
mod demo;
mod inbox_cmd;
mod net;
mod offline_cmd;
mod paired_cmd;
mod qr_cmd;
mod send_cmd;
mod sign_cmd;
mod sim_cmd;

use std::io::{Read, Write};
use std::process::ExitCode;

use ksef::model::{Date, SchemaVersion};
use ksef::{xml, Error, Faktura};

const USAGE: &str = "\
ksef — KSeF (Polish national e-invoicing) toolkit

usage:
  ksef parse FILE.xml                      invoice XML (FA(3) or FA(2), auto-detected) -> JSON form on stdout
  ksef render [--schema fa3|fa2] FILE.json JSON form -> invoice XML on stdout (default fa3)
  ksef validate [--schema fa3|fa2] [--today YYYY-MM-DD] FILE.xml|FILE.json
                                           exit 0 when valid; otherwise exit 1 and the problems, with paths
  ksef json-schema                         the JSON Schema of the JSON form
  ksef demo [DIR]                          build typical shop invoices, write XML/JSON to DIR (default target/demo),
                                           send them to an embedded KSeF simulator (UPOs in DIR/upo)
  ksef hash FILE                           size and SHA-256 of the exact bytes: hex, base64 (API invoiceHash), base64url (QR links)
  ksef qr invoice FILE.xml --env test|demo|prod [--ksef-number N] [--png OUT.png] [--svg OUT.svg]
                                           KOD I link on stdout; images labelled with N, or OFFLINE without it
  ksef qr cert FILE.xml --env test|demo|prod --key KEY.pem --cert CERT.pem
               --context-type Nip|InternalId|NipVatUe|PeppolId --context-id ID [--png OUT.png] [--svg OUT.svg]
                                           KOD II link (signed with the Offline certificate's key) on stdout, label CERTYFIKAT
                                           images: [--module-px N (default 5)] [--quiet-zone N (default 4)]
  ksef number check NUMBER                 exit 0 when NUMBER is a valid KSeF number, else 1 and the reason
  ksef sign-auth --challenge C (--nip NIP | --context-type Nip|InternalId|NipVatUe|PeppolId --context-id ID)
                 --key KEY.pem --cert CERT.pem [--subject-type certificateSubject|certificateFingerprint]
                 [--time RFC3339] [--schema 2.0|2.1] [--allow-ip A.B.C.D]... [--allow-range A-B]... [--allow-mask A/N]...
                                           signed AuthTokenRequest (XAdES-BES) on stdout, for POST /auth/xades-signature;
                                           the signing time defaults to now - 1 minute (as the official client)
  ksef sign-xml FILE.xml --key KEY.pem --cert CERT.pem [--time RFC3339]
                                           FILE with an enveloped XAdES-BES signature on stdout
  ksef verify-xml FILE.xml                 check the XAdES-BES signature: exit 0 and the signer on stderr, else 1
  ksef sim [--port N] [--env test|demo|prod] [--limits generous|strict|none]
                                           run the loopback KSeF 2.0 simulator (random port by default): prints its
                                           base URL (http://127.0.0.1:PORT/v2) on stdout, serves until killed
  ksef send [--batch] [--offline] [--validate] [--upo-dir DIR] CONNECTION FILES...
                                           send invoices: FILE<TAB>KSEF_NUMBER per file, UPOs saved
  ksef inbox [--as seller|buyer] --from DATE [--to DATE] [--date-type issue|invoicing|storage]
             [--limit N] [--download DIR] [--json] CONNECTION
  ksef inbox get KSEF_NUMBER [-o FILE] CONNECTION
  ksef inbox export --from DATE ... --out DIR CONNECTION
  ksef test-connection CONNECTION          authenticate and log out: ✓/✗ per step, exit 0 ok, 1 not
  ksef token generate --permissions P,... --description TEXT CONNECTION (with --cert/--key)
  ksef sessions [list | terminate REF] CONNECTION
  ksef paired --config RULES.json --order ORDER.json [--mode ksef-first|simultaneous]
              [--trigger created|status|captured|manual] [--state FILE] [--out DIR]
              [--fakturownia-url URL] [--fakturownia-token-file PATH] [--nbp-url URL] [CONNECTION]
                                           paired mode: the invoice to KSeF and a Fakturownia document carrying
                                           its KSeF number; prints both, writes XML, UPO and PDF to DIR
  ksef audit show --state FILE [--json]    paired jobs with their status, and the audit trail
  ksef audit retry JOB --config RULES.json --state FILE [...]
                                           the fitting recovery: Fakturownia leg, backfill, or both
  ksef offline deadline --mode offline24|unavailability|emergency|total-failure --date YYYY-MM-DD
                       [--failure ANNOUNCED..ENDED]... [--today YYYY-MM-DD]
                                           the day to send by (`none`: no obligation), business days and Polish
                                           holidays counted; with --today also ok|due-today|overdue
  ksef offline issue FILE.xml --state QUEUE.json --mode M --date D [--env test|demo|prod] [--id ID]
                     [--key KEY.pem --cert CERT.pem --context-type T --context-id ID] [--png-dir D] [--svg-dir D]
                                           queue an offline invoice (bytes fixed): id, hash, deadline, KOD I, KOD II
  ksef offline list --state QUEUE.json [--today YYYY-MM-DD] [--json]
                                           queued offline invoices: id, status, mode, deadline
  ksef offline send --state QUEUE.json [--today YYYY-MM-DD] [--batch] CONNECTION
                                           send pending ones (offlineMode, oldest deadline first; online or
                                           batch sessions), then technical corrections: ID<TAB>KSEF_NUMBER
  ksef offline correct FIXED.xml --state QUEUE.json --id REJECTED_ID [--as NEW_ID]
                                           queue the technical correction of a rejected offline invoice
  ksef offline status [--env test|demo|prod | --lighthouse-url URL] [--json]
                                           what Latarnia (KSeF's status service) says: AVAILABLE, ...
  ksef offline failure --state QUEUE.json --failure ANNOUNCED..ENDED
                                           record a KSeF failure announcement: open deadlines move (ID<TAB>OLD -> NEW)
  ksef cert enroll --name N [--type offline|authentication] --out-key K.pem --out-cert C.pem CONNECTION
    CONNECTION: (--env test|demo|prod | --base-url URL) (--nip NIP | --context TYPE:VALUE)
                (--token-file PATH | env KSEF_TOKEN | --token T | --cert PEM --key PEM)
                [--timeout SECS] [--poll-interval MS] [--verbose]; see `ksef send --help`
  ksef help                                this text

FILE may be `-` for standard input.";

/// A failure: message for stderr and the exit code.
struct Fail(String, u8);

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail(format!("error [{}]: {e}", e.code().name()), 1)
    }
}

fn usage(msg: &str) -> Fail {
    Fail(format!("{msg}\n\n{USAGE}"), 2)
}

fn read_input(path: &str) -> Result<Vec<u8>, Fail> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Fail(format!("cannot read standard input: {e}"), 2))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| Fail(format!("cannot read {path}: {e}"), 2))
}

fn write_stdout(bytes: &[u8]) -> Result<(), Fail> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Fail(format!("cannot write output: {e}"), 2))
}

/// Options shared by the subcommands.
#[derive(Default)]
struct Opts {
    schema: Option<SchemaVersion>,
    today: Option<Date>,
    files: Vec<String>,
}

fn parse_opts(args: &[String]) -> Result<Opts, Fail> {
    let a = args::split(args, &["--schema", "--today"])?;
    let mut o = Opts {
        files: a.files,
        ..Opts::default()
    };
    for (name, v) in a.options {
        match name.as_str() {
            "--schema" => o.schema = Some(v.parse().map_err(|e: Error| usage(e.message()))?),
            _ => {
                o.today = Some(
                    v.parse()
                        .map_err(|e: &str| usage(&format!("--today {v}: {e}")))?,
                )
            }
        }
    }
    Ok(o)
}

fn one_file(o: &Opts) -> Result<&str, Fail> {
    match o.files.as_slice() {
        [f] => Ok(f),
        [] => Err(usage("a file is needed")),
        _ => Err(usage("exactly one file is needed")),
    }
}

fn looks_like_json(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{')
}

fn json_text(bytes: &[u8]) -> Result<&str, Fail> {
    std::str::from_utf8(bytes)
        .map_err(|_| Fail("error [encoding]: the JSON is not UTF-8".into(), 1))
}

fn run(args: &[String]) -> Result<(), Fail> {
    let Some(cmd) = args.first() else {
        return Err(usage("a command is needed"));
    };
    if let Some(result) = sign_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = qr_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = sim_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = send_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = inbox_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = offline_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = paired_cmd::run(cmd, &args[1..]) {
        return result;
    }
    if let Some(result) = account_cmd::run(cmd, &args[1..]) {
        return result;
    }
    let o = parse_opts(&args[1..])?;
    match cmd.as_str() {
        "parse" => {
            let parsed = xml::parse(&read_input(one_file(&o)?)?)?;
            write_stdout(parsed.invoice.to_json()?.as_bytes())
        }
        "render" => {
            let bytes = read_input(one_file(&o)?)?;
            let inv = Faktura::from_json(json_text(&bytes)?)?;
            let schema = o.schema.unwrap_or(SchemaVersion::Fa3);
            write_stdout(&xml::emit(&inv, schema)?)
        }
        "validate" => validate(&o),
        "json-schema" => write_stdout(include_bytes!("../../schema/invoice.schema.json")),
        "demo" => {
            let dir = o.files.first().map_or("target/demo", String::as_str);
            demo::run(std::path::Path::new(dir)).map_err(|e| Fail(format!("demo failed: {e}"), 1))
        }
        "help" | "--help" | "-h" => write_stdout(format!("{USAGE}\n").as_bytes()),
        other => Err(usage(&format!("unknown command `{other}`"))),
    }
}

fn validate(o: &Opts) -> Result<(), Fail> {
    let path = one_file(o)?;
    let bytes = read_input(path)?;
    let (inv, schema) = if looks_like_json(&bytes) {
        let inv = Faktura::from_json(json_text(&bytes)?)?;
        (inv, o.schema.unwrap_or(SchemaVersion::Fa3))
    } else {
        let p = xml::parse(&bytes)?;
        if let Some(s) = o.schema {
            if s != p.schema {
                eprintln!("note: the document is {}; checking it as {s}", p.schema);
            }
        }
        (p.invoice, o.schema.unwrap_or(p.schema))
    };
    let mut opts = ksef::validate::Options::new();
    if let Some(today) = o.today {
        opts = opts.with_today(today);
    }
    let report = ksef::validate::validate(&inv, schema, &opts);
    for w in report.warnings() {
        eprintln!("warning [{}]: {}: {}", w.rule.code(), w.path, w.message);
    }
    let errors: Vec<_> = report.errors().collect();
    if errors.is_empty() {
        eprintln!("{path}: valid {schema} invoice");
        return Ok(());
    }
    let mut msg = String::new();
    for e in &errors {
        msg.push_str(&format!(
            "error [{}]: {}: {}\n",
            e.rule.code(),
            e.path,
            e.message
        ));
    }
    msg.push_str(&format!("{path}: {} error(s)", errors.len()));
    Err(Fail(msg, 1))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(msg, code)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}
