//! `ksef offline deadline|issue|list`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{spec, stderr, stdout};

fn ksef(args: &[&str]) -> Output {
    common::run(args, None)
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    stdout(o)
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-offline");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn sample() -> String {
    spec()
        .join("samples/fa3/FA_3_Przyklad_01.xml")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn deadline_of_every_mode() {
    let dl = |args: &[&str]| {
        let mut a = vec!["offline", "deadline"];
        a.extend_from_slice(args);
        ok(&ksef(&a))
    };
    // 24–26 December and a weekend.
    assert_eq!(
        dl(&["--mode", "offline24", "--date", "2025-12-23"]),
        "2025-12-29\n"
    );
    // Easter Monday.
    assert_eq!(
        dl(&["--mode", "unavailability", "--date", "2026-04-03"]),
        "2026-04-07\n"
    );
    assert_eq!(
        dl(&["--mode", "emergency", "--date", "2025-07-12"]),
        "2025-07-22\n"
    );
    assert_eq!(dl(&["--mode", "total-failure"]), "none\n");
    // The official example, with the day's status.
    assert_eq!(
        dl(&[
            "--mode",
            "offline24",
            "--date",
            "2025-07-08",
            "--failure",
            "2025-07-09..2025-07-12",
            "--today",
            "2025-07-22",
        ]),
        "2025-07-22\tdue-today\n"
    );
    for bad in [
        &["--mode", "offline24"][..],
        &["--mode", "later", "--date", "2025-07-08"],
        &["--mode", "offline24", "--date", "2025-02-30"],
        &[
            "--mode",
            "offline24",
            "--date",
            "2025-07-08",
            "--failure",
            "2025-07-09",
        ],
        &["--date", "2025-07-08"],
    ] {
        let mut a = vec!["offline", "deadline"];
        a.extend_from_slice(bad);
        let o = ksef(&a);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stdout(&o));
    }
}

#[test]
fn issue_and_list_keep_the_queue_in_a_file() {
    let state = tmp("queue.json");
    let _ = std::fs::remove_file(&state);
    let state = state.to_str().unwrap();
    let (key, cert) = (tmp("ec.key"), tmp("ec.crt"));
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-nodes",
            "-subj",
            "/CN=offline",
        ])
        .args(["-days", "30", "-set_serial", "0x01F20A5D352AE590"])
        .args(["-pkeyopt", "ec_paramgen_curve:P-256", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );

    // A new state file needs the environment.
    let o = ksef(&[
        "offline",
        "issue",
        &sample(),
        "--state",
        state,
        "--mode",
        "offline24",
        "--date",
        "2026-02-15",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let out = ok(&ksef(&[
        "offline",
        "issue",
        &sample(),
        "--state",
        state,
        "--env",
        "test",
        "--mode",
        "offline24",
        "--date",
        "2026-02-15",
        "--id",
        "FV/1",
        "--key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
        "--context-type",
        "Nip",
        "--context-id",
        "9999999999",
        "--png-dir",
        tmp("png").to_str().unwrap(),
        "--svg-dir",
        tmp("svg").to_str().unwrap(),
    ]));
    let hash = "X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA";
    // The printed codes read back as the links (zbarimg, `make deps`).
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}\t")))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    for k in ["kod1", "kod2"] {
        let png = field(&format!("{k}-png"));
        assert!(png.ends_with(&format!("FV_1-{k}.png")), "{png}");
        let read = Command::new("zbarimg")
            .args(["-q", "--raw", &png])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(read.stdout).unwrap().trim_end(), field(k));
        let svg = std::fs::read_to_string(field(&format!("{k}-svg"))).unwrap();
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    }
    assert!(out.contains("id\tFV/1\n"), "{out}");
    assert!(out.contains("deadline\t2026-02-16\n"), "{out}");
    assert!(out.contains(&format!(
        "kod1\thttps://qr-test.ksef.mf.gov.pl/invoice/9999999999/15-02-2026/{hash}\n"
    )));
    assert!(out.contains(&format!(
        "kod2\thttps://qr-test.ksef.mf.gov.pl/certificate/Nip/9999999999/9999999999/01F20A5D352AE590/{hash}/"
    )));

    // The same bytes again are refused and the file is unchanged.
    let before = std::fs::read(state).unwrap();
    let o = ksef(&[
        "offline",
        "issue",
        &sample(),
        "--state",
        state,
        "--mode",
        "emergency",
        "--date",
        "2026-02-20",
        "--id",
        "FV/2",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("offline_invalid"), "{}", stderr(&o));
    assert_eq!(std::fs::read(state).unwrap(), before);

    // A failure announced while it is pending moves its deadline.
    let moved = ok(&ksef(&[
        "offline",
        "failure",
        "--state",
        state,
        "--failure",
        "2026-02-16..2026-02-18",
    ]));
    assert_eq!(moved, "FV/1\t2026-02-16 -> 2026-02-27\n");
    let listed = ok(&ksef(&[
        "offline",
        "list",
        "--state",
        state,
        "--today",
        "2026-02-16",
    ]));
    assert_eq!(listed, "FV/1\tpending\toffline24\t2026-02-27\tok\n");
    let json = ok(&ksef(&["offline", "list", "--state", state, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["invoices"][0]["id"], "FV/1");
    assert_eq!(v["env"], "test");
}

#[test]
fn send_recovers_the_queue_against_the_simulator() {
    use ksef_sim::{Sim, SimConfig};
    const NIP: &str = "9999999999";
    const TOKEN: &str = "offline-cli-token-8d7c";
    let sim = Sim::start(SimConfig::default().with_ksef_token(NIP, TOKEN)).expect("sim");
    let state = tmp("send-queue.json");
    let _ = std::fs::remove_file(&state);
    let state = state.to_str().unwrap();
    let xml = std::fs::read_to_string(sample()).unwrap();
    for (n, date) in [(1, "2026-02-16"), (2, "2026-02-13")] {
        let p = tmp(&format!("send-{n}.xml"));
        std::fs::write(
            &p,
            xml.replace(
                "<P_2>FV2026/02/150</P_2>",
                &format!("<P_2>FV/OFF/{n}</P_2>"),
            ),
        )
        .unwrap();
        ok(&ksef(&[
            "offline",
            "issue",
            p.to_str().unwrap(),
            "--state",
            state,
            "--env",
            "test",
            "--mode",
            "offline24",
            "--date",
            date,
            "--id",
            &format!("off-{n}"),
        ]));
    }
    let base = sim.base_url();
    let send = |today: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ksef"));
        c.args([
            "offline",
            "send",
            "--state",
            state,
            "--today",
            today,
            "--base-url",
            &base,
            "--nip",
            NIP,
            "--poll-interval",
            "20",
        ])
        .env("KSEF_TOKEN", TOKEN);
        c.output().unwrap()
    };
    let o = send("2026-02-17");
    let out = ok(&o);
    let lines: Vec<&str> = out.lines().collect();
    // Oldest deadline first: off-2 (due 16 February) before off-1 (due 17 February).
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("off-2\t"), "{out}");
    assert!(lines[1].starts_with("off-1\t"), "{out}");
    for l in &lines {
        let n = l.split('\t').nth(1).unwrap();
        assert!(ksef::id::KsefNumber::parse(n).is_ok(), "{l}");
    }
    // Lateness is judged by KSeF's acquisitionDate (today), not by --today: both are late.
    for id in ["off-2", "off-1"] {
        assert!(
            stderr(&o).contains(&format!("{id} reached KSeF after its deadline")),
            "{}",
            stderr(&o)
        );
    }
    assert!(!stdout(&o).contains(TOKEN) && !stderr(&o).contains(TOKEN));

    let listed = ok(&ksef(&["offline", "list", "--state", state]));
    assert_eq!(listed.matches("\taccepted\t").count(), 2, "{listed}");
    // Nothing left: a second run sends nothing.
    let again = ok(&send("2026-02-17"));
    assert_eq!(again, "");
}

#[test]
fn batch_send_then_a_technical_correction() {
    use ksef_sim::{Sim, SimConfig};
    const NIP: &str = "9999999999";
    const TOKEN: &str = "offline-cli-token-batch";
    let sim = Sim::start(SimConfig::default().with_ksef_token(NIP, TOKEN)).expect("sim");
    let state = tmp("batch-queue.json");
    let _ = std::fs::remove_file(&state);
    let state = state.to_str().unwrap();
    let xml = std::fs::read_to_string(sample()).unwrap();
    let issue = |n: usize, xml: &str| {
        let p = tmp(&format!("batch-{n}.xml"));
        std::fs::write(&p, xml).unwrap();
        ok(&ksef(&[
            "offline",
            "issue",
            p.to_str().unwrap(),
            "--state",
            state,
            "--env",
            "test",
            "--mode",
            "offline24",
            "--date",
            "2026-02-15",
            "--id",
            &format!("b-{n}"),
        ]));
    };
    for n in 1..=3 {
        issue(
            n,
            &xml.replace("<P_2>FV2026/02/150</P_2>", &format!("<P_2>FV/B/{n}</P_2>")),
        );
    }
    // One with an issue date in the future: KSeF refuses it.
    let bad = xml
        .replace("<P_2>FV2026/02/150</P_2>", "<P_2>FV/B/4</P_2>")
        .replace("<P_1>2026-02-15</P_1>", "<P_1>2049-02-15</P_1>");
    issue(4, &bad);
    let base = sim.base_url();
    let send = |batch: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ksef"));
        c.args([
            "offline",
            "send",
            "--state",
            state,
            "--base-url",
            &base,
            "--nip",
            NIP,
            "--poll-interval",
            "20",
        ]);
        if batch {
            c.arg("--batch");
        }
        c.env("KSEF_TOKEN", TOKEN);
        c.output().unwrap()
    };
    let o = send(true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("b-") && !l.contains("error"))
            .count(),
        3,
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("b-4\terror")), "{out}");
    assert_eq!(sim.accepted_invoices().len(), 3);

    // The technical correction of b-4 (same invoice, fixed date), sent alone online.
    let fixed = tmp("batch-4-fixed.xml");
    std::fs::write(
        &fixed,
        bad.replace("<P_1>2049-02-15</P_1>", "<P_1>2026-02-15</P_1>"),
    )
    .unwrap();
    let line = ok(&ksef(&[
        "offline",
        "correct",
        fixed.to_str().unwrap(),
        "--state",
        state,
        "--id",
        "b-4",
    ]));
    assert!(line.starts_with("b-4-tc\t"), "{line}");
    // a second correction of the same invoice is refused
    let again = ksef(&[
        "offline",
        "correct",
        fixed.to_str().unwrap(),
        "--state",
        state,
        "--id",
        "b-4",
        "--as",
        "x",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already has the technical correction"),
        "{}",
        stderr(&again)
    );
    let o = send(true);
    let out = ok(&o);
    assert!(out.starts_with("b-4-tc\t"), "{out}");
    let n = out.trim().split('\t').nth(1).unwrap();
    assert!(ksef::id::KsefNumber::parse(n).is_ok(), "{out}");
    assert_eq!(sim.accepted_invoices().len(), 4);
    let listed = ok(&ksef(&["offline", "list", "--state", state]));
    assert_eq!(listed.matches("\taccepted\t").count(), 4, "{listed}");
}

#[test]
fn status_reads_latarnia() {
    use ksef_sim::{Sim, SimConfig};
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let url = sim.lighthouse_base_url();
    let o = ok(&ksef(&["offline", "status", "--lighthouse-url", &url]));
    assert_eq!(o, "AVAILABLE\n");
    sim.faults().set_lighthouse(Some((
        "FAILURE",
        serde_json::json!([{"id": "1", "eventId": 4, "type": "FAILURE_START", "title": "Awaria",
            "text": "KSeF niedostępny", "start": "2025-07-09T08:00:00+02:00",
            "end": "2025-07-12T20:00:00+02:00"}]),
    )));
    let o = ok(&ksef(&["offline", "status", "--lighthouse-url", &url]));
    assert!(o.starts_with("FAILURE\nFAILURE_START\tAwaria\t"), "{o}");
    assert!(o.contains("failure 2025-07-09..2025-07-12"), "{o}");
    let j = ok(&ksef(&[
        "offline",
        "status",
        "--lighthouse-url",
        &url,
        "--json",
    ]));
    assert!(j.contains("\"status\":\"FAILURE\""), "{j}");
    sim.faults().set_lighthouse(None);
    sim.faults().set_unavailable(true);
    let o = ok(&ksef(&["offline", "status", "--lighthouse-url", &url]));
    assert!(o.starts_with("FAILURE\n"), "{o}");
    let bad = ksef(&[
        "offline",
        "status",
        "--lighthouse-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}
