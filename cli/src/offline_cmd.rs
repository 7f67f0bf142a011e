//! `ksef offline deadline|issue|list`: offline-mode deadlines and the offline invoice queue
//! kept in a JSON state file.

use std::path::Path;

use ksef::crypto::{Certificate, PrivateKey};
use ksef::model::Date;
use ksef::offline::deadline::{self, DeadlineStatus, Failure, Mode};
use ksef::offline::queue::{Kod2Signer, OfflineQueue};
use ksef::qr::ContextType;
use ksef::Environment;

use ksef::protocol::{FormCode, Output};

use crate::net::{self, ConnOpts};
use crate::{read_input, usage, write_stdout, Fail};

/// The commands of this module, `None` for any other.
pub(crate) fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    if cmd != "offline" {
        return None;
    }
    Some(match args.split_first() {
        Some((sub, rest)) if sub == "deadline" => deadline_cmd(rest),
        Some((sub, rest)) if sub == "issue" => issue(rest),
        Some((sub, rest)) if sub == "list" => list(rest),
        Some((sub, rest)) if sub == "send" => send(rest),
        Some((sub, rest)) if sub == "failure" => announce(rest),
        Some((sub, rest)) if sub == "correct" => correct(rest),
        Some((sub, rest)) if sub == "status" => lighthouse(rest),
        Some((sub, _)) => Err(usage(&format!(
            "unknown offline command `{sub}` (deadline, issue, list, send, correct, failure or status)"
        ))),
        None => Err(usage(
            "offline needs `deadline`, `issue`, `list`, `send`, `correct`, `failure` or `status`",
        )),
    })
}

fn date(name: &str, v: &str) -> Result<Date, Fail> {
    v.parse()
        .map_err(|e: &str| usage(&format!("{name} {v}: {e} (expected YYYY-MM-DD)")))
}

/// `--failure ANNOUNCED..ENDED`.
fn failure(v: &str) -> Result<Failure, Fail> {
    let (a, e) = v
        .split_once("..")
        .ok_or_else(|| usage(&format!("--failure {v}: expected ANNOUNCED..ENDED")))?;
    let f = Failure {
        announced: date("--failure", a)?,
        ended: date("--failure", e)?,
    };
    if f.ended < f.announced {
        return Err(usage(&format!(
            "--failure {v}: ends before it was announced"
        )));
    }
    Ok(f)
}

/// `--mode` and `--date` → the mode.
fn mode(name: Option<&str>, day: Option<Date>) -> Result<Mode, Fail> {
    let need =
        |what: &str| day.ok_or_else(|| usage(&format!("--mode {what} needs --date YYYY-MM-DD")));
    Ok(match name {
        Some("offline24") => Mode::Offline24 {
            issued: need("offline24 (the issue date)")?,
        },
        Some("unavailability" | "offline") => Mode::Unavailability {
            ended: need("unavailability (the day it ended)")?,
        },
        Some("emergency" | "awaryjny") => Mode::Emergency {
            ended: need("emergency (the day the failure ended)")?,
        },
        Some("total-failure") => Mode::TotalFailure,
        Some(other) => {
            return Err(usage(&format!(
                "--mode {other}: expected offline24, unavailability, emergency or total-failure"
            )))
        }
        None => {
            return Err(usage(
                "--mode offline24|unavailability|emergency|total-failure is needed",
            ))
        }
    })
}

fn status_name(s: DeadlineStatus) -> &'static str {
    match s {
        DeadlineStatus::NoObligation => "no-obligation",
        DeadlineStatus::Ok => "ok",
        DeadlineStatus::DueToday => "due-today",
        DeadlineStatus::Overdue => "overdue",
    }
}

fn show(d: Option<Date>) -> String {
    d.map_or_else(|| "none".to_string(), |d| d.to_string())
}

/// Options common to the offline commands.
#[derive(Default)]
struct Opts {
    mode: Option<String>,
    date: Option<Date>,
    today: Option<Date>,
    failures: Vec<Failure>,
    state: Option<String>,
    env: Option<Environment>,
    id: Option<String>,
    key: Option<String>,
    cert: Option<String>,
    context_type: Option<ContextType>,
    context_id: Option<String>,
    png_dir: Option<String>,
    svg_dir: Option<String>,
    json: bool,
    files: Vec<String>,
}

fn opts(args: &[String], allowed: &[&str], flags: &[&str]) -> Result<Opts, Fail> {
    let a = crate::args::split_flags(args, allowed, flags)?;
    let mut o = Opts {
        json: a.flag("--json"),
        files: a.files,
        ..Opts::default()
    };
    for (name, v) in a.options {
        match name.as_str() {
            "--mode" => o.mode = Some(v),
            "--date" => o.date = Some(date(&name, &v)?),
            "--today" => o.today = Some(date(&name, &v)?),
            "--failure" => o.failures.push(failure(&v)?),
            "--state" => o.state = Some(v),
            "--env" => o.env = Some(v.parse().map_err(|e: ksef::Error| usage(e.message()))?),
            "--id" => o.id = Some(v),
            "--key" => o.key = Some(v),
            "--cert" => o.cert = Some(v),
            "--png-dir" => o.png_dir = Some(v),
            "--svg-dir" => o.svg_dir = Some(v),
            "--context-type" => {
                o.context_type = Some(v.parse().map_err(|e: ksef::Error| usage(e.message()))?)
            }
            _ => o.context_id = Some(v),
        }
    }
    Ok(o)
}

fn deadline_cmd(args: &[String]) -> Result<(), Fail> {
    let o = opts(args, &["--mode", "--date", "--failure", "--today"], &[])?;
    if !o.files.is_empty() {
        return Err(usage("offline deadline takes no files"));
    }
    let m = mode(o.mode.as_deref(), o.date)?;
    let due = deadline::deadline(m, &o.failures);
    let line = match o.today {
        Some(today) => format!(
            "{}\t{}\n",
            show(due),
            status_name(deadline::status(due, today))
        ),
        None => format!("{}\n", show(due)),
    };
    write_stdout(line.as_bytes())
}

fn load(state: &str, env: Option<Environment>) -> Result<OfflineQueue, Fail> {
    match std::fs::read_to_string(state) {
        Ok(text) => {
            let q = OfflineQueue::restore_json(&text)
                .map_err(|e| ksef::Error::new(e.code(), state, e.message()))?;
            if let Some(env) = env {
                if env != q.env() {
                    return Err(usage(&format!(
                        "{state} holds invoices of {}, not {env}",
                        q.env()
                    )));
                }
            }
            Ok(q)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match env {
            Some(env) => Ok(OfflineQueue::new(env)),
            None => Err(usage(&format!(
                "{state} does not exist yet: --env test|demo|prod is needed"
            ))),
        },
        Err(e) => Err(Fail(format!("cannot read {state}: {e}"), 2)),
    }
}

/// Write the state next to its place and rename it over: never half a file.
fn save(state: &str, q: &OfflineQueue) -> Result<(), Fail> {
    let tmp = format!("{state}.tmp");
    std::fs::write(&tmp, q.snapshot_json())
        .and_then(|()| std::fs::rename(&tmp, state))
        .map_err(|e| Fail(format!("cannot write {state}: {e}"), 2))
}

fn issue(args: &[String]) -> Result<(), Fail> {
    let o = opts(
        args,
        &[
            "--mode",
            "--date",
            "--state",
            "--env",
            "--id",
            "--key",
            "--cert",
            "--context-type",
            "--context-id",
            "--png-dir",
            "--svg-dir",
        ],
        &[],
    )?;
    let file = match o.files.as_slice() {
        [f] => f,
        _ => return Err(usage("offline issue needs exactly one invoice file")),
    };
    let state = o
        .state
        .as_deref()
        .ok_or_else(|| usage("--state QUEUE.json is needed"))?;
    let m = mode(o.mode.as_deref(), o.date)?;
    let mut q = load(state, o.env)?;
    let xml = read_input(file)?;
    let id = match &o.id {
        Some(id) => id.clone(),
        None => Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty() && *s != "-")
            .ok_or_else(|| usage("--id is needed when reading standard input"))?
            .to_string(),
    };
    let key_cert = match (&o.key, &o.cert, o.context_type, &o.context_id) {
        (None, None, None, None) => None,
        (Some(k), Some(c), Some(t), Some(v)) => {
            let key = PrivateKey::from_pem_or_der(&read_input(k)?)
                .map_err(|e| ksef::Error::new(e.code(), k.as_str(), e.message()))?;
            let cert = Certificate::from_pem_or_der(&read_input(c)?)
                .map_err(|e| ksef::Error::new(e.code(), c.as_str(), e.message()))?;
            if !cert.matches_key(&key) {
                return Err(Fail(
                    format!("error [qr_sign]: {k} is not the private key of {c}"),
                    1,
                ));
            }
            Some((key, cert.serial_hex(), t, v.clone()))
        }
        _ => {
            return Err(usage(
                "KOD II needs all of --key, --cert, --context-type and --context-id",
            ))
        }
    };
    let signer = key_cert.as_ref().map(|(key, serial, t, v)| Kod2Signer {
        context_type: *t,
        context_value: v,
        certificate_serial: serial,
        key,
    });
    let inv = q.issue(&id, &xml, m, signer.as_ref(), &mut rand_core::OsRng)?;
    let mut out = format!(
        "id\t{}\nhash\t{}\ndeadline\t{}\nkod1\t{}\n",
        inv.id,
        inv.hash,
        show(inv.deadline),
        inv.kod1_url
    );
    if let Some(k2) = &inv.kod2_url {
        out.push_str(&format!("kod2\t{k2}\n"));
    }
    let mut codes = vec![("kod1", inv.kod1_url.as_str(), ksef::qr::LABEL_OFFLINE)];
    if let Some(k2) = &inv.kod2_url {
        codes.push(("kod2", k2.as_str(), ksef::qr::LABEL_CERTIFICATE));
    }
    let stem = ksef::zip::safe_name(&inv.id);
    // Images first: a failure to write them leaves the queue as it was.
    for (dir, png) in [(&o.png_dir, true), (&o.svg_dir, false)] {
        let Some(dir) = dir else { continue };
        std::fs::create_dir_all(dir).map_err(|e| Fail(format!("cannot create {dir}: {e}"), 2))?;
        for (name, url, label) in &codes {
            let m = ksef::qr::QrMatrix::encode(url, ksef::qr::DEFAULT_ECC)?;
            let opts = ksef::qr::RenderOptions::default();
            let (ext, bytes) = if png {
                ("png", ksef::qr::render::png(&m, Some(label), &opts)?)
            } else {
                (
                    "svg",
                    ksef::qr::render::svg(&m, Some(label), &opts)?.into_bytes(),
                )
            };
            let path = Path::new(dir).join(format!("{stem}-{name}.{ext}"));
            std::fs::write(&path, bytes)
                .map_err(|e| Fail(format!("cannot write {}: {e}", path.display()), 2))?;
            out.push_str(&format!("{name}-{ext}\t{}\n", path.display()));
        }
    }
    save(state, &q)?;
    write_stdout(out.as_bytes())
}

/// `ksef offline failure --state QUEUE.json --failure ANNOUNCED..ENDED`: record a KSeF
/// failure announcement; prints the open invoices whose deadline moved.
fn announce(args: &[String]) -> Result<(), Fail> {
    let o = opts(args, &["--state", "--failure"], &[])?;
    let state = o
        .state
        .as_deref()
        .ok_or_else(|| usage("--state QUEUE.json is needed"))?;
    if o.failures.is_empty() || !o.files.is_empty() {
        return Err(usage("offline failure needs --failure ANNOUNCED..ENDED"));
    }
    let mut q = load(state, None)?;
    let before: Vec<Option<Date>> = q.invoices().iter().map(|i| i.deadline).collect();
    for f in o.failures {
        q.announce_failure(f);
    }
    save(state, &q)?;
    let mut out = String::new();
    for (inv, old) in q.invoices().iter().zip(before) {
        if inv.deadline != old {
            out.push_str(&format!(
                "{}\t{} -> {}\n",
                inv.id,
                show(old),
                show(inv.deadline)
            ));
        }
    }
    write_stdout(out.as_bytes())
}

fn list(args: &[String]) -> Result<(), Fail> {
    let o = opts(args, &["--state", "--today"], &["--json"])?;
    let state = o
        .state
        .as_deref()
        .ok_or_else(|| usage("--state QUEUE.json is needed"))?;
    let q = load(state, None)?;
    if o.json {
        return write_stdout(format!("{}\n", q.snapshot_json()).as_bytes());
    }
    let mut out = String::new();
    for inv in q.invoices() {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}",
            inv.id,
            inv.status.name(),
            inv.mode.name(),
            show(inv.deadline)
        ));
        if let Some(today) = o.today {
            out.push_str(&format!("\t{}", status_name(inv.deadline_status(today))));
        }
        if let Some(n) = inv.ksef_number() {
            out.push_str(&format!("\t{n}"));
        }
        out.push('\n');
    }
    write_stdout(out.as_bytes())
}

/// `ksef offline status [--env test|demo|prod | --lighthouse-url URL] [--json]`: what Latarnia
/// (KSeF's status service) says: the status, then one line per message; failures with both
/// days known as `failure ANNOUNCED..ENDED` (the form `ksef offline failure` takes).
fn lighthouse(args: &[String]) -> Result<(), Fail> {
    use ksef::http::Transport as _;
    use ksef::offline::availability;
    let a = crate::args::split_flags(args, &["--env", "--lighthouse-url"], &["--json"])?;
    if let Some(f) = a.files.first() {
        return Err(usage(&format!("offline status takes no files (got {f})")));
    }
    let mut url = None;
    let mut env = Environment::Production;
    for (name, v) in &a.options {
        match name.as_str() {
            "--env" => env = v.parse().map_err(|e: ksef::Error| usage(e.message()))?,
            _ => url = Some(v.trim_end_matches('/').to_string()),
        }
    }
    let url = url.unwrap_or_else(|| availability::lighthouse_url(env).to_string());
    let mut b = ksef::transport::UreqTransport::builder();
    if ksef::protocol::settings::is_loopback(&url) {
        b = b.no_proxy();
    }
    let mut t = b.build().map_err(|e| Fail(net::error_line(&e), 2))?;
    let r = t
        .send(&availability::status_request(&url))
        .map_err(|e| Fail(format!("Latarnia {url}: {e}"), 2))?;
    if a.flag("--json") {
        return write_stdout(&r.body);
    }
    let report = availability::parse_status(&r.body)
        .map_err(|e| Fail(format!("Latarnia {url}: {}", net::error_line(&e)), 2))?;
    let mut out = format!("{}\n", report.status.as_str());
    for m in &report.messages {
        out.push_str(&format!("{}\t{}\t{}\n", m.kind, m.title, m.text));
        if let Some(f) = m.failure() {
            out.push_str(&format!("failure {}..{}\n", f.announced, f.ended));
        }
    }
    write_stdout(out.as_bytes())
}

/// `ksef offline correct FIXED.xml --state QUEUE.json --id REJECTED [--as NEW_ID]`: queue
/// the technical correction of an offline invoice KSeF rejected (the fixed bytes, sent by the
/// next `ksef offline send` alone in an online session with `hashOfCorrectedInvoice` = the
/// rejected invoice's hash). Prints the new id and its hash.
fn correct(args: &[String]) -> Result<(), Fail> {
    let a = crate::args::split_flags(args, &["--state", "--id", "--as"], &[])?;
    let file = match a.files.as_slice() {
        [f] => f,
        _ => {
            return Err(usage(
                "offline correct needs exactly one file: the fixed invoice XML",
            ))
        }
    };
    let (mut state, mut rejected, mut new_id) = (None, None, None);
    for (name, v) in a.options {
        match name.as_str() {
            "--state" => state = Some(v),
            "--id" => rejected = Some(v),
            _ => new_id = Some(v),
        }
    }
    let state = state.ok_or_else(|| usage("--state QUEUE.json is needed"))?;
    let rejected = rejected.ok_or_else(|| usage("--id REJECTED_ID is needed"))?;
    let new_id = new_id.unwrap_or_else(|| format!("{rejected}-tc"));
    let mut q = load(&state, None)?;
    let xml = read_input(file)?;
    let inv = q
        .technical_correction(&rejected, &new_id, &xml)
        .map_err(|e| Fail(net::error_line(&e), 2))?;
    let line = format!(
        "{}	{}	corrects {rejected}
",
        inv.id, inv.hash
    );
    save(&state, &q)?;
    write_stdout(line.as_bytes())
}

/// Today's date (UTC) from the system clock, when `--today` is not given.
fn system_today() -> Result<Date, Fail> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Fail("the system clock is before 1970".into(), 2))?
        .as_secs();
    ksef::model::DateTime::from_unix_seconds(i64::try_from(now).unwrap_or(i64::MAX))
        .map(|t| t.date())
        .ok_or_else(|| Fail("the system clock is out of range".into(), 2))
}

/// `ksef offline send --state QUEUE.json [--today D] [--batch] CONNECTION`: every pending
/// invoice in one online (or batch) session per structure (FA(3), FA(2)), oldest deadline
/// first, `offlineMode` set; the state file is saved after each session. Pending technical
/// corrections are then sent one per online session.
fn send(args: &[String]) -> Result<(), Fail> {
    let mut allowed = net::OPTIONS.to_vec();
    allowed.extend(["--state", "--today"]);
    let mut flags = net::FLAGS.to_vec();
    flags.push("--batch");
    let a = crate::args::split_flags(args, &allowed, &flags)?;
    let batch = a.flag("--batch");
    if a.flag("--help") {
        return write_stdout(format!("{}\n", net::HELP).as_bytes());
    }
    if !a.files.is_empty() {
        return Err(usage(
            "offline send takes no files (the invoices are in --state)",
        ));
    }
    let mut conn = ConnOpts::new(a.flag("--verbose"));
    let (mut state, mut today) = (None, None);
    for (name, v) in &a.options {
        match name.as_str() {
            "--state" => state = Some(v.clone()),
            "--today" => today = Some(date(name, v)?),
            _ => {
                conn.take(name, v)?;
            }
        }
    }
    let state = state.ok_or_else(|| usage("--state QUEUE.json is needed"))?;
    let today = match today {
        Some(t) => t,
        None => system_today()?,
    };
    let mut q = load(&state, None)?;
    let mut c = conn.connect()?;
    let mut out = String::new();
    let mut refused = 0;
    let mut sessions = Vec::new();
    if batch {
        for form in [FormCode::Fa3, FormCode::Fa2] {
            // sessions of up to 10,000 invoices until nothing moves
            while let Some(plan) = q.plan_batch(form, 10_000) {
                let result =
                    crate::send_cmd::send_batch_entries(&mut c, form, plan.entries(), true)?;
                let report = q.apply_batch(&plan, &result, today)?;
                save(&state, &q)?;
                let count = plan.ids.len();
                let stuck = report.not_sent.len() + report.open.len() == count;
                sessions.push((result, report, count));
                if stuck {
                    break;
                }
            }
        }
    }
    // Online sessions: what is still pending per structure, then each technical correction
    // alone, as KSeF requires.
    for plan in q.recovery_plans() {
        let start = |cl: &mut ksef::protocol::Client| cl.send_online(plan.send.clone());
        let Output::Online(result) = c.run(start)? else {
            return Err(Fail("unexpected result of the online session".into(), 2));
        };
        let report = q.apply_online(&plan, &result, today)?;
        save(&state, &q)?;
        sessions.push((result, report, plan.ids.len()));
    }
    for (result, report, count) in sessions {
        for (id, n) in &report.accepted {
            out.push_str(&format!("{id}\t{n}\n"));
        }
        for (id, code, msg) in &report.rejected {
            refused += 1;
            out.push_str(&format!("{id}\terror [{code}]: {msg}\n"));
        }
        for id in &report.open {
            out.push_str(&format!("{id}\tprocessing\n"));
        }
        for id in &report.not_sent {
            refused += 1;
            out.push_str(&format!("{id}\tnot sent (still pending)\n"));
        }
        for id in &report.missed_deadline {
            eprintln!("warning: {id} reached KSeF after its deadline");
        }
        eprintln!(
            "session {}: {} of {} accepted",
            result.session,
            report.accepted.len(),
            count
        );
    }
    c.close();
    write_stdout(out.as_bytes())?;
    if refused > 0 {
        return Err(Fail(format!("{refused} invoice(s) not accepted"), 1));
    }
    Ok(())
}
