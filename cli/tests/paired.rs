//! `ksef paired` and `ksef audit` against the simulator's KSeF, Fakturownia and NBP, started
//! in this process. Neither the KSeF token nor the Fakturownia API token may ever show up in
//! any output or in the state file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{stderr, stdout};
use ksef::id::KsefNumber;
use ksef_sim::{Sim, SimConfig, SimHandle};

const NIP: &str = "5265877635";
const TOKEN: &str = "cli-paired-ksef-token-8a7b";
const FAKT_TOKEN: &str = "cli-paired-fakt-token-3c2d";

fn sim() -> SimHandle {
    Sim::start(
        SimConfig::default()
            .with_ksef_token(NIP, TOKEN)
            .with_fakturownia_token(FAKT_TOKEN),
    )
    .expect("sim")
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-paired-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/paired")
}

/// Runs `ksef` in `cwd` with both tokens in the environment; checks no token leaked.
fn ksef(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ksef"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env("KSEF_TOKEN", TOKEN)
        .env("FAKTUROWNIA_API_TOKEN", FAKT_TOKEN)
        .output()
        .unwrap();
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(TOKEN), "the KSeF token leaked: {text}");
        assert!(
            !text.contains(FAKT_TOKEN),
            "the Fakturownia token leaked: {text}"
        );
    }
    for f in std::fs::read_dir(cwd).unwrap().flatten() {
        if f.path().is_file() {
            let s = String::from_utf8_lossy(&std::fs::read(f.path()).unwrap()).into_owned();
            assert!(
                !s.contains(TOKEN) && !s.contains(FAKT_TOKEN),
                "{f:?} holds a token"
            );
        }
    }
    out
}

fn paired_args(sim: &SimHandle, order: &str, extra: &[&str]) -> Vec<String> {
    let ex = examples();
    let mut v: Vec<String> = vec![
        "paired".into(),
        "--config".into(),
        ex.join("rules.json").display().to_string(),
        "--order".into(),
        order.into(),
        "--state".into(),
        "state.json".into(),
        "--out".into(),
        "out".into(),
        "--base-url".into(),
        sim.base_url(),
        "--fakturownia-url".into(),
        sim.fakturownia_base_url(),
        "--nbp-url".into(),
        sim.nbp_base_url(),
        "--poll-interval".into(),
        "50".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run(dir: &Path, args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    ksef(dir, &a)
}

fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` in {text}"))
        .trim()
        .to_string()
}

/// A copy of the b2b example under another order id.
fn order_copy(dir: &Path, id: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(examples().join("order-b2b.json")).unwrap())
            .unwrap();
    v["id"] = id.into();
    let p = dir.join(format!("order-{id}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    p.display().to_string()
}

#[test]
fn two_orders_get_consecutive_numbers_files_and_a_persisted_state() {
    let sim = sim();
    let dir = tmp("two");
    let mut numbers = Vec::new();
    for (k, id) in ["A-1", "A-2"].iter().enumerate() {
        let order = order_copy(&dir, id);
        let mode = if k == 0 { "ksef-first" } else { "simultaneous" };
        let out = run(&dir, &paired_args(&sim, &order, &["--mode", mode]));
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        assert_eq!(field(&text, "status:"), "COMPLETED");
        let number = field(&text, "invoice number:");
        let ksef_number = field(&text, "KSeF number:");
        KsefNumber::parse(&ksef_number).unwrap();
        let id: u64 = field(&text, "Fakturownia id:").parse().unwrap();
        let stem = number.replace('/', "_");
        for (label, file) in [
            ("XML:", format!("out/{stem}.xml")),
            ("UPO:", format!("out/{stem}.upo.xml")),
            ("PDF:", format!("out/{stem}.pdf")),
        ] {
            assert_eq!(field(&text, label), file);
            assert!(dir.join(&file).is_file(), "{file}");
        }
        let xml = std::fs::read_to_string(dir.join(format!("out/{stem}.xml"))).unwrap();
        assert!(xml.contains(&format!("<P_2>{number}</P_2>")));
        let upo = std::fs::read_to_string(dir.join(format!("out/{stem}.upo.xml"))).unwrap();
        assert!(upo.contains(&ksef_number));
        let pdf = std::fs::read(dir.join(format!("out/{stem}.pdf"))).unwrap();
        assert!(String::from_utf8_lossy(&pdf).contains(&ksef_number));
        let doc = sim
            .fakturownia_invoices()
            .into_iter()
            .find(|d| d.id == id)
            .unwrap();
        assert_eq!(doc.gov_id.as_deref(), Some(ksef_number.as_str()));
        assert_eq!(doc.number, number);
        numbers.push(number);
    }
    // The counter lives in the state: FV/YYYY/MM/1 then FV/YYYY/MM/2.
    let seq = |n: &str| n.rsplit('/').next().unwrap().parse::<u64>().unwrap();
    assert_eq!(seq(&numbers[1]), seq(&numbers[0]) + 1, "{numbers:?}");
    assert_eq!(sim.accepted_invoices().len(), 2);
    assert_eq!(sim.fakturownia_invoices().len(), 2);
    // The same order again is refused (it would take a new number).
    let again = run(&dir, &paired_args(&sim, &order_copy(&dir, "A-1"), &[]));
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("already issued"));
    assert_eq!(sim.accepted_invoices().len(), 2);
    // audit show: both jobs complete, the trail present; JSON too.
    let show = ksef(&dir, &["audit", "show", "--state", "state.json"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(text.matches("COMPLETED").count() >= 2, "{text}");
    assert!(text.contains("AUDIT TRAIL"));
    let json = ksef(&dir, &["audit", "show", "--state", "state.json", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 2);
    assert!(v["audit"].as_array().is_some_and(|a| !a.is_empty()));
}

#[test]
fn fakturownia_down_leaves_a_discrepancy_that_audit_retry_recovers() {
    let sim = sim();
    let dir = tmp("retry");
    sim.faults().set_fakturownia_unavailable(true);
    let order = order_copy(&dir, "R-1");
    let out = run(&dir, &paired_args(&sim, &order, &[]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(field(&text, "status:"), "KSEF_OK_FAKTUROWNIA_FAILED");
    let job = field(&text, "job:");
    let show = ksef(&dir, &["audit", "show", "--state", "state.json"]);
    assert_eq!(show.status.code(), Some(1));
    assert!(stdout(&show).contains("KSEF_OK_FAKTUROWNIA_FAILED"));
    sim.faults().set_fakturownia_unavailable(false);
    let ex = examples();
    let fakt = sim.fakturownia_base_url();
    let base = sim.base_url();
    let retry = ksef(
        &dir,
        &[
            "audit",
            "retry",
            &job,
            "--config",
            ex.join("rules.json").to_str().unwrap(),
            "--state",
            "state.json",
            "--out",
            "out",
            "--base-url",
            &base,
            "--fakturownia-url",
            &fakt,
        ],
    );
    assert!(retry.status.success(), "{}", stderr(&retry));
    let text = stdout(&retry);
    assert_eq!(field(&text, "status:"), "COMPLETED");
    assert!(stderr(&retry).contains("the Fakturownia leg"));
    assert_eq!(sim.accepted_invoices().len(), 1, "no second KSeF invoice");
    assert_eq!(sim.fakturownia_invoices().len(), 1);
    let show = ksef(&dir, &["audit", "show", "--state", "state.json"]);
    assert!(show.status.success());
}

#[test]
fn missing_fakturownia_token_or_config_is_a_usage_error() {
    let sim = sim();
    let dir = tmp("usage");
    let order = order_copy(&dir, "U-1");
    let args = paired_args(&sim, &order, &[]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_ksef"))
        .args(&a)
        .current_dir(&dir)
        .env("KSEF_TOKEN", TOKEN)
        .env_remove("FAKTUROWNIA_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("FAKTUROWNIA_API_TOKEN"));
    let out = ksef(&dir, &["paired", "--order", &order]);
    assert_eq!(out.status.code(), Some(2));
    let out = ksef(&dir, &["audit", "show"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(sim.accepted_invoices().is_empty());
}

#[test]
fn ksef_down_issues_offline_then_audit_send_offline_completes() {
    let sim = sim();
    let dir = tmp("offline");
    sim.faults().set_unavailable(true); // Latarnia then reports FAILURE
    let order = order_copy(&dir, "OFF-1");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/fixtures");
    let cert = fixtures.join("test-ec-cert.pem").display().to_string();
    let key = fixtures.join("test-ec-key.pem").display().to_string();
    let lighthouse = sim.lighthouse_base_url();
    let out = run(
        &dir,
        &paired_args(
            &sim,
            &order,
            &[
                "--mode",
                "simultaneous",
                "--auto-offline",
                "--offline-cert",
                &cert,
                "--offline-key",
                &key,
                "--lighthouse-url",
                &lighthouse,
            ],
        ),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(field(&text, "status:"), "FAKTUROWNIA_OK_KSEF_OFFLINE");
    assert_eq!(field(&text, "offline mode:"), "offline24");
    assert!(
        field(&text, "KOD I:").starts_with("https://qr-test.ksef.mf.gov.pl/invoice/5265877635/")
    );
    assert!(field(&text, "KOD II:")
        .starts_with("https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/5265877635/"));
    assert!(stderr(&out).contains("ksef audit send-offline"));
    let job = field(&text, "job:");
    assert!(sim.accepted_invoices().is_empty());
    assert_eq!(
        sim.fakturownia_invoices().len(),
        1,
        "the document exists at once"
    );
    assert_eq!(sim.fakturownia_invoices()[0].gov_id, None);

    sim.faults().set_unavailable(false);
    let ex = examples();
    let (base, fakt) = (sim.base_url(), sim.fakturownia_base_url());
    let send = ksef(
        &dir,
        &[
            "audit",
            "send-offline",
            "--config",
            ex.join("rules.json").to_str().unwrap(),
            "--state",
            "state.json",
            "--base-url",
            &base,
            "--fakturownia-url",
            &fakt,
            "--poll-interval",
            "50",
        ],
    );
    assert!(send.status.success(), "{}", stderr(&send));
    let line = stdout(&send);
    let parts: Vec<&str> = line.trim().split('\t').collect();
    assert_eq!(parts[..2], [job.as_str(), "COMPLETED"], "{line}");
    let accepted = sim.accepted_invoices();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].ksef_number, parts[2]);
    let docs = sim.fakturownia_invoices();
    assert_eq!(docs.len(), 1, "no second document");
    assert_eq!(
        docs[0].gov_id.as_deref(),
        Some(parts[2]),
        "the KSeF number was backfilled"
    );
    // nothing waits any more
    let again = ksef(
        &dir,
        &[
            "audit",
            "send-offline",
            "--config",
            ex.join("rules.json").to_str().unwrap(),
            "--state",
            "state.json",
            "--base-url",
            &base,
            "--fakturownia-url",
            &fakt,
        ],
    );
    assert!(again.status.success());
    assert!(stderr(&again).contains("no invoice issued offline is waiting"));
}
