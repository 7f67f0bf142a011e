//! `ksef paired` and `ksef audit`: paired mode (one order → the FA(3) invoice in KSeF and the
//! customer's Fakturownia document carrying the KSeF number) from the command line, with the
//! engine's state (numbering counters, jobs, audit trail) kept in a JSON file between runs.
//!
//! The Fakturownia API token comes from `--fakturownia-token-file` or `FAKTUROWNIA_API_TOKEN`
//! and is never printed: the engine keeps it in a `SecretString`, its snapshots and audit
//! trail hold no secrets, and `--verbose` shows Fakturownia/NBP calls without their URLs.

use std::io::Write;
use std::path::{Path, PathBuf};

use ksef::http::Transport;
use ksef::id::Nip;
use ksef::paired::engine::{Engine, OrderOutcome};
use ksef::paired::fakturownia::{self, Account};
use ksef::paired::machine::{Job, Mode, PairedEvent, PairedMachine, PairedStatus};
use ksef::paired::order::Order;
use ksef::paired::rules::{RuleConfig, StoreRules, Trigger};
use ksef::protocol::{Client, Clock, Config, Credentials, SecretString, SystemClock};
use serde_json::{json, Value};

use crate::net::{self, error_line, ConnOpts};
use crate::{args, Fail};

/// The help text of `ksef paired`.
pub const HELP: &str = "\
usage: ksef paired --config RULES.json --order ORDER.json [--mode ksef-first|simultaneous]
                   [--trigger created|status|captured|manual] [--state FILE] [--out DIR]
                   [--fakturownia-url URL] [--fakturownia-token-file PATH] [--nbp-url URL]
                   [--auto-offline --offline-cert PEM --offline-key PEM [--lighthouse-url URL]]
                   [CONNECTION]
       ksef audit show --state FILE [--json]
       ksef audit retry JOB --config RULES.json --state FILE [--out DIR] [fakturownia, nbp,
                   CONNECTION options as above]
       ksef audit send-offline --config RULES.json --state FILE [options as for retry]

`paired` evaluates the order with the store's rules, sends the FA(3) invoice to KSeF and
creates the Fakturownia document carrying the KSeF number (gov_id), with the same invoice
number in both; a currency order first fetches the NBP table A rate. It prints the invoice
number, the KSeF number, the Fakturownia id and where it wrote the XML, UPO and PDF
(DIR/<number>.xml, DIR/<number>.upo.xml, DIR/<number>.pdf; `/` in numbers becomes `_`).

  --mode              ksef-first (default: the document is made once the KSeF number exists)
                      or simultaneous (both at once, the KSeF number written in afterwards);
                      a new state only: an existing state keeps its mode
  --trigger           what happened to the order (default status: its status changed)
  --state FILE        the engine's state (numbering counters, jobs, audit trail): loaded when
                      the file exists, saved back after the run (no secrets inside)
  --out DIR           where the files go (default .)
  --fakturownia-url   the Fakturownia account's URL (default: the store's in the rules)
  --fakturownia-token-file PATH   its API token (else FAKTUROWNIA_API_TOKEN); never printed
  --nbp-url URL       the NBP API (default https://api.nbp.pl)
  CONNECTION          as for `ksef send`; --env/--base-url and --nip default to the store's
  --auto-offline      when KSeF is unavailable (transport failures, 5xx after retries, or
                      Latarnia announcing anything but AVAILABLE), issue the invoice offline:
                      its exact bytes queued in the state with KOD I and KOD II (signed with
                      --offline-cert/--offline-key, the seller's KSeF certificate of type
                      Offline); in simultaneous mode the Fakturownia document is made at once
  --lighthouse-url U  ask Latarnia (KSeF's status service, e.g.
                      https://api-latarnia-test.ksef.mf.gov.pl) first

`audit show` lists the jobs of a state with their status and the audit trail (--json: both
as JSON). `audit retry` runs the recovery that fits the job: the Fakturownia leg only (with
the stored KSeF number, never a second KSeF submission), the KSeF-number backfill, or both
legs; a job interrupted mid-way simply resumes. `audit send-offline` sends the invoices issued
offline (oldest deadline first, offlineMode) once KSeF is back, and completes their jobs (the
Fakturownia document, or the KSeF-number backfill).

Exit 0 when every job is complete, 1 when a discrepancy is left (the status says which), 2
on usage, I/O, connection or authentication errors.
";

fn help_text() -> String {
    format!("{HELP}\n{}", net::HELP)
}

/// Runs `ksef paired` / `ksef audit` when `cmd` is one of them.
pub fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    match cmd {
        "paired" => Some(paired(args)),
        "audit" => Some(audit(args)),
        _ => None,
    }
}

fn usage(msg: &str) -> Fail {
    Fail(format!("{msg}\n\n{}", help_text()), 2)
}

fn read_text(path: &str, what: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path).map_err(|e| Fail(format!("{what} {path}: cannot read: {e}"), 2))
}

fn input_error(what: &str, e: &ksef::Error) -> Fail {
    Fail(format!("{what}: {}", error_line(e)), 2)
}

/// Everything `paired` and `audit retry` share.
struct Setup {
    config: RuleConfig,
    conn: ConnOpts,
    state: Option<PathBuf>,
    out: PathBuf,
    fakt_url: Option<String>,
    fakt_token_file: Option<String>,
    nbp_url: String,
    mode: Mode,
    trigger: Trigger,
    order: Option<String>,
    offline_cert: Option<String>,
    offline_key: Option<String>,
    lighthouse: Option<String>,
}

const OPTIONS: &[&str] = &[
    "--config",
    "--order",
    "--mode",
    "--trigger",
    "--state",
    "--out",
    "--fakturownia-url",
    "--fakturownia-token-file",
    "--nbp-url",
    "--offline-cert",
    "--offline-key",
    "--lighthouse-url",
];

fn setup(a: &args::Args) -> Result<Setup, Fail> {
    let mut conn = ConnOpts::new(a.flag("--verbose"));
    let config = a
        .options
        .iter()
        .find(|(n, _)| n == "--config")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| usage("--config RULES.json is required"))?;
    let mut s = Setup {
        config: RuleConfig::from_json(&read_text(&config, "--config")?)
            .map_err(|e| input_error(&config, &e))?,
        conn: ConnOpts::new(false),
        state: None,
        out: PathBuf::from("."),
        fakt_url: None,
        fakt_token_file: None,
        nbp_url: "https://api.nbp.pl".into(),
        mode: Mode::KsefFirst,
        trigger: Trigger::StatusChanged,
        order: None,
        offline_cert: None,
        offline_key: None,
        lighthouse: None,
    };
    for (name, v) in &a.options {
        if conn.take(name, v)? {
            continue;
        }
        match name.as_str() {
            "--config" => {}
            "--order" => s.order = Some(v.clone()),
            "--mode" => {
                s.mode = match v.as_str() {
                    "ksef-first" => Mode::KsefFirst,
                    "simultaneous" => Mode::Simultaneous,
                    _ => return Err(usage(&format!("--mode {v}: ksef-first or simultaneous"))),
                }
            }
            "--trigger" => {
                s.trigger = match v.as_str() {
                    "created" => Trigger::Created,
                    "status" => Trigger::StatusChanged,
                    "captured" => Trigger::Captured,
                    "manual" => Trigger::Manual,
                    _ => {
                        return Err(usage(&format!(
                            "--trigger {v}: created, status, captured or manual"
                        )))
                    }
                }
            }
            "--state" => s.state = Some(PathBuf::from(v)),
            "--out" => s.out = PathBuf::from(v),
            "--fakturownia-url" => s.fakt_url = Some(v.clone()),
            "--fakturownia-token-file" => s.fakt_token_file = Some(v.clone()),
            "--offline-cert" => s.offline_cert = Some(v.clone()),
            "--offline-key" => s.offline_key = Some(v.clone()),
            "--lighthouse-url" => s.lighthouse = Some(v.trim_end_matches('/').to_string()),
            _ => s.nbp_url = v.trim_end_matches('/').to_string(),
        }
    }
    s.conn = conn;
    Ok(s)
}

impl Setup {
    fn store<'a>(&'a self, name: &str) -> Result<&'a StoreRules, Fail> {
        self.config.stores.get(name).ok_or_else(|| {
            Fail(
                format!("the rules have no store `{name}` (the order's `store`)"),
                2,
            )
        })
    }

    fn account(&self, store: &StoreRules) -> Result<Account, Fail> {
        let url = self
            .fakt_url
            .clone()
            .unwrap_or_else(|| store.fakturownia.base_url.clone());
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Fail(
                format!("--fakturownia-url {url}: expected an http:// or https:// URL"),
                2,
            ));
        }
        let token = match &self.fakt_token_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    Fail(
                        format!("--fakturownia-token-file {path}: cannot read: {e}"),
                        2,
                    )
                })?
                .trim()
                .to_string(),
            None => std::env::var("FAKTUROWNIA_API_TOKEN")
                .map(|t| t.trim().to_string())
                .unwrap_or_default(),
        };
        if token.is_empty() {
            return Err(Fail(
                "the Fakturownia API token is required: --fakturownia-token-file PATH or the \
                 FAKTUROWNIA_API_TOKEN environment variable"
                    .into(),
                2,
            ));
        }
        Ok(Account::new(
            url.trim_end_matches('/'),
            SecretString::new(token),
        ))
    }

    /// The engine (from the state file when it exists) and the transport.
    fn engine(
        &mut self,
        store: &str,
    ) -> Result<(Engine, net::Verbose<ksef::transport::UreqTransport>), Fail> {
        let rules = self.store(store)?;
        let account = self.account(rules)?;
        let (env, base, nip) = (
            rules.ksef.environment,
            rules.ksef.base_url.clone(),
            rules.seller.nip.clone(),
        );
        self.conn.default_target(env, base.as_deref(), &nip);
        let (client, transport) = self.conn.connect()?.into_parts();
        let seed = net::seed()?;
        let engine = match self.state.as_ref().filter(|p| p.exists()) {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| Fail(format!("--state {}: cannot read: {e}", p.display()), 2))?;
                Engine::restore_json(
                    &text,
                    self.config.clone(),
                    client,
                    account,
                    self.nbp_url.clone(),
                    seed,
                )
                .map_err(|e| input_error(&format!("--state {}", p.display()), &e))?
            }
            None => Engine::new(
                self.config.clone(),
                self.mode,
                client,
                account,
                self.nbp_url.clone(),
                seed,
            ),
        };
        Ok((engine, transport))
    }

    /// Offline issuing (`--auto-offline`): the queue in the state, the KOD II signer, and
    /// what Latarnia says (`--lighthouse-url`).
    fn offline(&self, engine: Engine, store: &str, t: &mut dyn Transport) -> Result<Engine, Fail> {
        use ksef::offline::availability::{self, AutoOffline};
        let rules = self.store(store)?;
        let mut engine = engine.with_offline(rules.ksef.environment, AutoOffline::default());
        match (&self.offline_cert, &self.offline_key) {
            (Some(c), Some(k)) => {
                let key = ksef::crypto::PrivateKey::from_pem_or_der(&crate::read_input(k)?)
                    .map_err(|e| Fail(format!("--offline-key {k}: {e}"), 2))?;
                let cert = ksef::crypto::Certificate::from_pem_or_der(&crate::read_input(c)?)
                    .map_err(|e| Fail(format!("--offline-cert {c}: {e}"), 2))?;
                engine.set_offline_signer(ksef::paired::engine::OfflineSigner {
                    context_type: ksef::qr::ContextType::Nip,
                    context_value: rules.seller.nip.clone(),
                    certificate_serial: cert.serial_hex(),
                    key,
                });
            }
            (None, None) => {}
            _ => return Err(usage("--offline-cert and --offline-key go together")),
        }
        if let Some(url) = &self.lighthouse {
            let r = t
                .send(&availability::status_request(url))
                .map_err(|e| Fail(format!("Latarnia {url}: {e}"), 2))
                .and_then(|r| {
                    availability::parse_status(&r.body)
                        .map_err(|e| Fail(format!("Latarnia {url}: {}", error_line(&e)), 2))
                })?;
            if self.conn.verbose {
                eprintln!("Latarnia: KSeF {}", r.status.as_str());
            }
            engine.set_ksef_status(r.status);
            for m in &r.messages {
                if let Some(f) = m.failure() {
                    engine.announce_failure(f);
                }
            }
        }
        Ok(engine)
    }

    fn save(&self, engine: &Engine) -> Result<(), Fail> {
        let Some(p) = &self.state else {
            return Ok(());
        };
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, engine.snapshot_json())
            .and_then(|()| std::fs::rename(&tmp, p))
            .map_err(|e| Fail(format!("--state {}: cannot write: {e}", p.display()), 2))
    }
}

fn drive(engine: &mut Engine, t: &mut dyn Transport, verbose: bool) -> Result<(), Fail> {
    engine.drive(t, &mut SystemClock, |e: PairedEvent| {
        if verbose {
            eprintln!("{}", describe(&e));
        }
    });
    if let Some((order, e)) = engine.poll_order_error() {
        return Err(Fail(format!("order {order}: {}", error_line(&e)), 1));
    }
    Ok(())
}

fn describe(e: &PairedEvent) -> String {
    match e {
        PairedEvent::KsefNumberReceived {
            invoice_number,
            ksef_number,
            ..
        } => format!("KSeF number {ksef_number} for {invoice_number}"),
        PairedEvent::FakturowniaCreated { id, .. } => format!("Fakturownia document {id}"),
        PairedEvent::DiscrepancyEntered { job, status } => {
            format!("{job}: discrepancy {}", status.as_str())
        }
        PairedEvent::DiscrepancyLeft { job, status } => format!("{job}: now {}", status.as_str()),
        PairedEvent::Completed { job } => format!("{job}: completed"),
        PairedEvent::KsefOffline { job, reason } => format!("{job}: KSeF unavailable ({reason})"),
        PairedEvent::OfflineIssued { job, deadline, .. } => format!(
            "{job}: issued offline, to be sent by {}",
            deadline.map_or("(no obligation)".to_string(), |d| d.to_string())
        ),
        _ => "event".into(),
    }
}

fn file_stem(number: &str) -> String {
    number
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Fail> {
    std::fs::write(path, bytes)
        .map_err(|e| Fail(format!("cannot write {}: {e}", path.display()), 2))
}

/// Writes the job's files, prints what it is and where they went; `Err(1)` when the job is
/// not complete.
fn report(
    job: &Job,
    offline: Option<&ksef::offline::queue::OfflineInvoice>,
    account: Option<&Account>,
    t: &mut dyn Transport,
    out_dir: &Path,
) -> Result<(), Fail> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| Fail(format!("cannot create {}: {e}", out_dir.display()), 2))?;
    let stem = file_stem(&job.docs.number);
    let status = job.status();
    let mut lines = vec![
        format!("job:            {}", job.id),
        format!("status:         {}", status.as_str()),
        format!("invoice number: {}", job.docs.number),
    ];
    let xml = out_dir.join(format!("{stem}.xml"));
    write_file(&xml, job.docs.xml.as_bytes())?;
    if let Some(n) = &job.ksef_number {
        lines.push(format!("KSeF number:    {n}"));
    }
    if let Some(id) = job.fakturownia_id {
        lines.push(format!("Fakturownia id: {id}"));
    }
    if let Some(inv) = offline {
        lines.push(format!("offline mode:   {}", inv.mode.name()));
        lines.push(format!(
            "send by:        {}",
            inv.deadline
                .map_or("(no obligation)".to_string(), |d| d.to_string())
        ));
        lines.push(format!("KOD I:          {}", inv.kod1_url));
        if let Some(k2) = &inv.kod2_url {
            lines.push(format!("KOD II:         {k2}"));
        }
    }
    lines.push(format!("XML:            {}", xml.display()));
    if let Some(upo) = &job.upo {
        let p = out_dir.join(format!("{stem}.upo.xml"));
        write_file(&p, upo.as_bytes())?;
        lines.push(format!("UPO:            {}", p.display()));
    }
    if let (Some(id), Some(acc)) = (job.fakturownia_id, account) {
        let pdf = t
            .send(&fakturownia::get_pdf(acc, id))
            .map_err(|e| Fail(format!("the PDF of document {id}: {e}"), 2))
            .and_then(|r| {
                fakturownia::read_pdf(&r)
                    .map_err(|e| Fail(format!("the PDF of document {id}: {}", error_line(&e)), 2))
            })?;
        let p = out_dir.join(format!("{stem}.pdf"));
        write_file(&p, &pdf)?;
        lines.push(format!("PDF:            {}", p.display()));
    }
    for e in [&job.ksef_error, &job.fakturownia_error]
        .into_iter()
        .flatten()
    {
        lines.push(format!("error:          {e}"));
    }
    let mut o = std::io::stdout().lock();
    for l in lines {
        writeln!(o, "{l}").map_err(|e| Fail(format!("cannot write output: {e}"), 2))?;
    }
    let offline_wait = matches!(
        status,
        PairedStatus::KsefOffline | PairedStatus::FakturowniaOkKsefOffline
    );
    if offline_wait {
        eprintln!(
            "{}: issued offline; send it once KSeF is back with `ksef audit send-offline`",
            job.id
        );
    } else if status != PairedStatus::Completed {
        return Err(Fail(
            format!(
                "{}: {} — see `ksef audit show`, recover with `ksef audit retry {}`",
                job.id,
                status.as_str(),
                job.id
            ),
            1,
        ));
    }
    Ok(())
}

fn paired(argv: &[String]) -> Result<(), Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend(OPTIONS);
    let mut flags = net::FLAGS.to_vec();
    flags.push("--auto-offline");
    let a = args::split_flags(argv, &allowed, &flags)?;
    if a.flag("--help") {
        return crate::write_stdout(help_text().as_bytes());
    }
    if !a.files.is_empty() {
        return Err(usage(&format!("unexpected argument {}", a.files[0])));
    }
    let mut s = setup(&a)?;
    let order_path = s
        .order
        .clone()
        .ok_or_else(|| usage("--order ORDER.json is required"))?;
    let order = Order::from_json(&read_text(&order_path, "--order")?)
        .map_err(|e| input_error(&order_path, &e))?;
    let (mut engine, mut t) = s.engine(&order.store)?;
    if a.flag("--auto-offline") {
        engine = s.offline(engine, &order.store, &mut t)?;
    }
    // The same order twice would take a second number: refuse, the state knows it.
    if let Some(j) = engine
        .machine()
        .jobs()
        .find(|j| j.docs.store == order.store && j.docs.order_id == order.id)
    {
        return Err(Fail(
            format!(
                "order {} was already issued as {} ({}): see `ksef audit show`",
                order.id,
                j.docs.number,
                j.status().as_str()
            ),
            2,
        ));
    }
    let outcome = engine
        .order(&order, s.trigger, SystemClock.now_ms())
        .map_err(|e| Fail(format!("order {}: {}", order.id, error_line(&e)), 1))?;
    if let OrderOutcome::Skipped(why) = &outcome {
        s.save(&engine)?;
        println!("order {}: nothing to issue ({why})", order.id);
        return Ok(());
    }
    let result = drive(&mut engine, &mut t, s.conn.verbose);
    s.save(&engine)?;
    result?;
    let job = engine
        .machine()
        .jobs()
        .filter(|j| j.docs.store == order.store && j.docs.order_id == order.id)
        .max_by_key(|j| j.created_ms)
        .cloned()
        .ok_or_else(|| Fail(format!("order {}: no job was started", order.id), 1))?;
    let account = s.account(s.store(&order.store)?)?;
    let offline = engine.offline_queue().and_then(|q| q.get(&job.id));
    report(&job, offline, Some(&account), &mut t, &s.out)
}

fn audit(argv: &[String]) -> Result<(), Fail> {
    match argv.first().map(String::as_str) {
        Some("show") => audit_show(&argv[1..]),
        Some("retry") => audit_retry(&argv[1..]),
        Some("send-offline") => audit_send_offline(&argv[1..]),
        Some("--help") | Some("help") => crate::write_stdout(help_text().as_bytes()),
        _ => Err(usage("ksef audit show|retry")),
    }
}

/// The machine of a state file, read-only (no credentials needed: a placeholder client).
fn machine_of(state: &str) -> Result<PairedMachine, Fail> {
    let text = read_text(state, "--state")?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| Fail(format!("--state {state}: not a paired state: {e}"), 2))?;
    let machine = v["machine"]
        .as_str()
        .ok_or_else(|| Fail(format!("--state {state}: not a paired state"), 2))?;
    let nip = Nip::parse("5265877635").map_err(|e| Fail(e.to_string(), 2))?;
    let client = Client::new(
        Config::with_base_url("http://127.0.0.1:9/v2", nip),
        Credentials::ksef_token("unused"),
        [0; 32],
    );
    let account = Account::new("http://127.0.0.1:9", SecretString::new("unused"));
    PairedMachine::restore_json(machine, client, account, [0; 32])
        .map_err(|e| input_error(&format!("--state {state}"), &e))
}

fn audit_show(argv: &[String]) -> Result<(), Fail> {
    let a = args::split_flags(argv, &["--state"], &["--json"])?;
    let state = a
        .options
        .iter()
        .find(|(n, _)| n == "--state")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| usage("--state FILE is required"))?;
    let m = machine_of(&state)?;
    let discrepancies = m.jobs().filter(|j| j.status().is_discrepancy()).count();
    let text = if a.flag("--json") {
        let jobs: Vec<Value> = m
            .jobs()
            .map(|j| {
                json!({
                    "job": j.id,
                    "store": j.docs.store,
                    "order_id": j.docs.order_id,
                    "number": j.docs.number,
                    "status": j.status().as_str(),
                    "ksef_number": j.ksef_number,
                    "fakturownia_id": j.fakturownia_id,
                    "ksef_submissions": j.ksef_submissions,
                    "ksef_error": j.ksef_error,
                    "fakturownia_error": j.fakturownia_error,
                    "correction_of": j.docs.correction_of,
                    "corrections": j.corrections,
                })
            })
            .collect();
        let audit: Value = serde_json::from_str(&m.audit_json()).unwrap_or(Value::Null);
        format!(
            "{}\n",
            serde_json::to_string_pretty(&json!({"jobs": jobs, "audit": audit}))
                .unwrap_or_default()
        )
    } else {
        let mut t = format!(
            "{:<40} {:<32} {:<38} {}\n",
            "JOB", "STATUS", "KSEF NUMBER", "FAKTUROWNIA ID"
        );
        for j in m.jobs() {
            t.push_str(&format!(
                "{:<40} {:<32} {:<38} {}\n",
                j.id,
                j.status().as_str(),
                j.ksef_number.as_deref().unwrap_or("-"),
                j.fakturownia_id.map_or("-".into(), |i| i.to_string())
            ));
        }
        t.push_str("\nAUDIT TRAIL\n");
        for r in m.audit() {
            t.push_str(&format!(
                "{:>4} {} {:<11} {:<24} {:<32} {}  {}\n",
                r.seq,
                r.at_ms,
                format!("{:?}", r.channel),
                r.operation,
                r.state,
                r.job,
                r.summary
            ));
        }
        t
    };
    crate::write_stdout(text.as_bytes())?;
    if discrepancies > 0 {
        return Err(Fail(
            format!("{discrepancies} job(s) in a discrepancy state"),
            1,
        ));
    }
    Ok(())
}

fn audit_retry(argv: &[String]) -> Result<(), Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend(OPTIONS);
    let a = args::split_flags(argv, &allowed, net::FLAGS)?;
    if a.flag("--help") {
        return crate::write_stdout(help_text().as_bytes());
    }
    let job_id = match a.files.as_slice() {
        [j] => j.clone(),
        _ => return Err(usage("ksef audit retry JOB: exactly one job id")),
    };
    let mut s = setup(&a)?;
    if s.state.as_ref().is_none_or(|p| !p.exists()) {
        return Err(usage("--state FILE (an existing state) is required"));
    }
    let store = machine_of(
        &s.state
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    )?
    .job(&job_id)
    .map(|j| j.docs.store.clone())
    .ok_or_else(|| Fail(format!("no job `{job_id}` in the state"), 2))?;
    let (mut engine, mut t) = s.engine(&store)?;
    let now = SystemClock.now_ms();
    let status = engine
        .machine()
        .job(&job_id)
        .map(Job::status)
        .ok_or_else(|| Fail(format!("no job `{job_id}` in the state"), 2))?;
    let action = ksef::paired::host::recover(&mut engine, &job_id, now)
        .map_err(|e| Fail(format!("{job_id}: {}", error_line(&e)), 1))?;
    let action = match action {
        ksef::paired::host::Recovery::Fakturownia => "the Fakturownia leg",
        ksef::paired::host::Recovery::Backfill => "the KSeF-number backfill",
        ksef::paired::host::Recovery::Both => "both legs",
        ksef::paired::host::Recovery::Nothing => "nothing (complete)",
        _ => "resuming",
    };
    eprintln!("{job_id}: {} → {action}", status.as_str());
    let result = drive(&mut engine, &mut t, s.conn.verbose);
    s.save(&engine)?;
    result?;
    let job = engine
        .machine()
        .job(&job_id)
        .cloned()
        .ok_or_else(|| Fail(format!("no job `{job_id}`"), 2))?;
    let account = s.account(s.store(&store)?)?;
    let offline = engine.offline_queue().and_then(|q| q.get(&job.id));
    report(&job, offline, Some(&account), &mut t, &s.out)
}

/// `ksef audit send-offline`: the invoices issued offline, sent now that KSeF is back; prints
/// `JOB<TAB>STATUS<TAB>KSEF_NUMBER` per job that was waiting. Exit 1 when one is left
/// unaccepted or in a discrepancy.
fn audit_send_offline(argv: &[String]) -> Result<(), Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend(OPTIONS);
    let a = args::split_flags(argv, &allowed, net::FLAGS)?;
    if a.flag("--help") {
        return crate::write_stdout(help_text().as_bytes());
    }
    if let Some(f) = a.files.first() {
        return Err(usage(&format!("unexpected argument {f}")));
    }
    let mut s = setup(&a)?;
    let state = s
        .state
        .as_ref()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .ok_or_else(|| usage("--state FILE (an existing state) is required"))?;
    let m = machine_of(&state)?;
    let waiting: Vec<(String, String)> = m
        .jobs()
        .filter(|j| {
            matches!(
                j.status(),
                PairedStatus::KsefOffline | PairedStatus::FakturowniaOkKsefOffline
            )
        })
        .map(|j| (j.id.clone(), j.docs.store.clone()))
        .collect();
    let Some(store) = waiting.first().map(|(_, st)| st.clone()) else {
        eprintln!("no invoice issued offline is waiting");
        return Ok(());
    };
    let (engine, mut t) = s.engine(&store)?;
    let mut engine = s.offline(engine, &store, &mut t)?;
    // One online session at a time (KSeF takes up to 10,000 invoices in one).
    loop {
        if engine.recover_offline(10_000) == 0 {
            break;
        }
        let before = engine.offline_queue().map_or(0, |q| {
            q.invoices().iter().filter(|i| i.status.is_open()).count()
        });
        let result = drive(&mut engine, &mut t, s.conn.verbose);
        s.save(&engine)?;
        result?;
        let after = engine.offline_queue().map_or(0, |q| {
            q.invoices().iter().filter(|i| i.status.is_open()).count()
        });
        if after >= before {
            break;
        }
    }
    let mut out = String::new();
    let mut left = 0;
    for (id, _) in &waiting {
        let Some(j) = engine.machine().job(id) else {
            continue;
        };
        let st = j.status();
        if st != PairedStatus::Completed {
            left += 1;
        }
        out.push_str(&format!(
            "{id}\t{}\t{}\n",
            st.as_str(),
            j.ksef_number.as_deref().unwrap_or("-")
        ));
    }
    crate::write_stdout(out.as_bytes())?;
    if left > 0 {
        return Err(Fail(
            format!("{left} job(s) not completed: see `ksef audit show`"),
            1,
        ));
    }
    Ok(())
}
