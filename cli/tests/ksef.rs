//! The commands that talk to KSeF (`send`, `inbox`, `test-connection`, `demo`), against the
//! simulator started in this process. No token may ever show up in their output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{spec, stderr, stdout};
use ksef::id::KsefNumber;
use ksef_sim::{Sim, SimConfig, SimHandle};

const NIP: &str = "9999999999";
const TOKEN: &str = "cli-test-token-5f1e2d3c";

fn sim() -> SimHandle {
    Sim::start(SimConfig::default().with_ksef_token(NIP, TOKEN)).expect("sim")
}

/// A fresh directory under the test target dir.
fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-ksef-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Sample 01 with invoice number `FV/<tag>/<n>`, written to `dir`.
fn invoice(dir: &Path, tag: &str, n: usize) -> String {
    let xml = std::fs::read_to_string(spec().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let xml = xml.replace(
        "<P_2>FV2026/02/150</P_2>",
        &format!("<P_2>FV/{tag}/{n:05}</P_2>"),
    );
    let p = dir.join(format!("{tag}-{n}.xml"));
    std::fs::write(&p, xml).unwrap();
    p.to_str().unwrap().to_string()
}

/// Runs `ksef` with `args` in `cwd`, `KSEF_TOKEN` set to `token` (or unset).
fn ksef(cwd: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ksef"));
    c.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env_remove("KSEF_TOKEN");
    if let Some(t) = token {
        c.env("KSEF_TOKEN", t);
    }
    let out = c.output().unwrap();
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
        assert!(!text.contains("wrong-token-77"), "the token leaked: {text}");
    }
    out
}

/// The connection options for `sim`.
fn conn(sim: &SimHandle) -> Vec<String> {
    [
        "--base-url",
        &sim.base_url(),
        "--nip",
        NIP,
        "--poll-interval",
        "20",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn with<'a>(args: &[&'a str], conn: &'a [String]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(conn.iter().map(String::as_str));
    v
}

/// The `FILE\tRESULT` lines of `ksef send`.
fn lines(out: &Output) -> Vec<(String, String)> {
    stdout(out)
        .lines()
        .map(|l| {
            let (f, r) = l.split_once('\t').expect("FILE<TAB>RESULT");
            (f.to_string(), r.to_string())
        })
        .collect()
}

#[test]
fn send_three_prints_numbers_and_saves_upos() {
    let sim = sim();
    let d = tmp("send3");
    let files: Vec<String> = (0..3).map(|n| invoice(&d, "S3", n)).collect();
    let c = conn(&sim);
    let mut args = with(&["send", "--upo-dir", "upos"], &c);
    args.extend(files.iter().map(String::as_str));
    let out = ksef(&d, Some(TOKEN), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 3, "{}", stdout(&out));
    for ((f, n), want) in got.iter().zip(&files) {
        assert_eq!(f, want);
        KsefNumber::parse(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        let upo = std::fs::read(d.join("upos").join(format!("{n}.xml"))).expect("UPO saved");
        let upo = ksef::protocol::upo::Upo::parse(&upo).expect("a UPO");
        assert!(upo.document(&KsefNumber::parse(n).unwrap()).is_some());
    }
    let session: Vec<_> = std::fs::read_dir(d.join("upos"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("session-"))
        .collect();
    assert_eq!(session.len(), 1, "one session UPO page");
    assert_eq!(sim.accepted_invoices().len(), 3);
}

#[test]
fn a_refused_file_gets_its_error_line_and_exit_1() {
    let sim = sim();
    let d = tmp("refused");
    let a = invoice(&d, "R", 1);
    let b = invoice(&d, "R", 2);
    // P_1 in the future: KSeF refuses it (450)
    let future = d.join("future.xml");
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace("<P_2>FV/R/00002</P_2>", "<P_2>FV/R/00003</P_2>")
        .replace("<P_1>2026-02-15</P_1>", "<P_1>2049-02-15</P_1>");
    std::fs::write(&future, &text).unwrap();
    // beyond what the schema allows: refused here, never sent
    let beyond = d.join("beyond.xml");
    std::fs::write(&beyond, text.replace("2049-02-15", "2099-02-15")).unwrap();
    let c = conn(&sim);
    let mut args = with(&["send"], &c);
    args.extend([
        a.as_str(),
        future.to_str().unwrap(),
        b.as_str(),
        beyond.to_str().unwrap(),
    ]);
    let out = ksef(&d, Some(TOKEN), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 4);
    assert!(
        got[3]
            .1
            .starts_with("error [invalid_value]: Faktura/Fa/P_1"),
        "{got:?}"
    );
    assert!(KsefNumber::parse(&got[0].1).is_ok(), "{got:?}");
    assert!(got[1].1.starts_with("error ["), "{got:?}");
    assert!(got[1].1.contains("450"), "{got:?}");
    assert!(KsefNumber::parse(&got[2].1).is_ok(), "{got:?}");
    assert!(stderr(&out).contains("2 of 3 accepted"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 of 4 invoice(s) not accepted"),
        "{}",
        stderr(&out)
    );
    // the default UPO directory
    assert!(d.join("upo").join(format!("{}.xml", got[0].1)).exists());
    assert_eq!(sim.accepted_invoices().len(), 2);
}

#[test]
fn usage_io_and_credential_errors_exit_2() {
    let sim = sim();
    let d = tmp("usage");
    let good = invoice(&d, "U", 1);
    let c = conn(&sim);
    // missing file
    let out = ksef(&d, Some(TOKEN), &with(&["send", "nope.xml"], &c));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read nope.xml"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    // no credentials anywhere
    let out = ksef(&d, None, &with(&["send", good.as_str()], &c));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("credentials are required"),
        "{}",
        stderr(&out)
    );
    // a wrong token: authentication fails, nothing accepted
    let out = ksef(
        &d,
        Some("wrong-token-77"),
        &with(&["send", good.as_str()], &c),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error [auth_failed]"),
        "{}",
        stderr(&out)
    );
    // no place to connect to
    let out = ksef(&d, Some(TOKEN), &["send", "--nip", NIP, good.as_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--env"), "{}", stderr(&out));
    // FA(2) and FA(3) together
    let fa2 = spec().join("samples/fa2/FA_2_Przyklad_01.xml");
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(&["send", good.as_str(), fa2.to_str().unwrap()], &c),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot mix schemas"),
        "{}",
        stderr(&out)
    );
    // the token given on the command line is not echoed either (checked in `ksef`)
    let mut args = with(&["send", "--token", TOKEN, "--validate"], &c);
    args.push(good.as_str());
    let out = ksef(&d, None, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sim.accepted_invoices().len() == 1);
    // --help
    let out = ksef(&d, None, &["send", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("--token-file"));
}

#[test]
fn batch_send_maps_numbers_back_to_files() {
    let sim = sim();
    let d = tmp("batch");
    let files: Vec<String> = (0..2).map(|n| invoice(&d, "B", n)).collect();
    let tf = d.join("token.txt");
    std::fs::write(&tf, format!("{TOKEN}\n")).unwrap();
    let c = conn(&sim);
    let mut args = with(
        &["send", "--batch", "--token-file", tf.to_str().unwrap()],
        &c,
    );
    args.extend(files.iter().map(String::as_str));
    let out = ksef(&d, None, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 2);
    let accepted = sim.accepted_invoices();
    for ((f, n), want) in got.iter().zip(&files) {
        assert_eq!(f, want);
        assert!(KsefNumber::parse(n).is_ok(), "{n}");
        assert!(d.join("upo").join(format!("{n}.xml")).exists());
        assert!(accepted
            .iter()
            .any(|a| format!("{a:?}").contains(n.as_str())));
    }
    // each number belongs to its own file: the invoice numbers differ
    let seen: Vec<_> = accepted.iter().map(|a| format!("{a:?}")).collect();
    assert!(seen.iter().any(|s| s.contains("FV/B/00000")));
    assert!(seen.iter().any(|s| s.contains("FV/B/00001")));
}

#[test]
fn inbox_lists_downloads_and_gets() {
    let sim = sim();
    let d = tmp("inbox");
    let files: Vec<String> = (0..2).map(|n| invoice(&d, "I", n)).collect();
    let c = conn(&sim);
    let mut args = with(&["send"], &c);
    args.extend(files.iter().map(String::as_str));
    let sent = ksef(&d, Some(TOKEN), &args);
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));
    let numbers: Vec<String> = lines(&sent).into_iter().map(|(_, n)| n).collect();

    let out = ksef(
        &d,
        Some(TOKEN),
        &with(
            &[
                "inbox",
                "--as",
                "seller",
                "--from",
                "2026-01-01",
                "--json",
                "--download",
                "in",
            ],
            &c,
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(listed.len(), 2);
    for (n, f) in numbers.iter().zip(&files) {
        assert!(listed.iter().any(|v| v["ksefNumber"] == n.as_str()));
        let got = std::fs::read(d.join("in").join(format!("{n}.xml"))).expect("downloaded");
        assert_eq!(got, std::fs::read(f).unwrap(), "the bytes sent");
    }
    // the table
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(&["inbox", "--as", "seller", "--from", "2026-01-01"], &c),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.starts_with("KSEF_NUMBER"), "{table}");
    assert!(
        table.contains(&numbers[0]) && table.contains("FV/I/00001"),
        "{table}"
    );
    // as the buyer, nothing was issued to this NIP
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(&["inbox", "--from", "2026-01-01", "--json"], &c),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    // one invoice
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(&["inbox", "get", &numbers[1], "-o", "one.xml"], &c),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(d.join("one.xml")).unwrap(),
        std::fs::read(&files[1]).unwrap()
    );
    // export
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(
            &[
                "inbox",
                "export",
                "--as",
                "seller",
                "--from",
                "2026-01-01",
                "--out",
                "exp",
            ],
            &c,
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for n in &numbers {
        assert!(d.join("exp").join(format!("{n}.xml")).exists());
    }
    // a bad date
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(&["inbox", "--from", "2026-13-01"], &c),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--from 2026-13-01"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_connection_ok_and_not_ok() {
    let sim = sim();
    let d = tmp("conn");
    let c = conn(&sim);
    let out = ksef(&d, Some(TOKEN), &with(&["test-connection"], &c));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("✓ reach KSeF"), "{text}");
    assert!(!text.contains('✗'), "{text}");
    assert!(text.contains("connection OK"), "{text}");

    let out = ksef(&d, Some("wrong-token-77"), &with(&["test-connection"], &c));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("✓ reach KSeF"), "{text}");
    assert!(text.contains("✗ authentication"), "{text}");
    assert!(text.contains("failed"), "{text}");

    // nothing listening
    let out = ksef(
        &d,
        Some(TOKEN),
        &[
            "test-connection",
            "--base-url",
            "http://127.0.0.1:9/v2",
            "--nip",
            NIP,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("✗ reach KSeF"), "{}", stdout(&out));
}

#[test]
fn demo_runs_on_the_embedded_simulator() {
    let d = tmp("demo");
    let out = ksef(&d, None, &["demo", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("online session"), "{text}");
    assert!(text.contains("batch session"), "{text}");
    assert!(text.contains("identical to b2b-from-net.xml"), "{text}");
    assert!(text.contains("connection OK"), "{text}");
    let upos = std::fs::read_dir(d.join("out/upo")).unwrap().count();
    // 5 invoice UPOs and 2 session UPOs
    assert_eq!(upos, 7);
    // paired mode: both example orders, each with a KSeF number, a Fakturownia id and files
    assert!(text.contains("paired mode (KSeF first)"), "{text}");
    assert!(
        text.contains("EUR order, fetching the NBP table A rate"),
        "{text}"
    );
    // two KSeF-first orders, then the offline one (its document made at once)
    assert_eq!(text.matches("Fakturownia id: ").count(), 3, "{text}");
    assert!(text.contains("Latarnia says FAILURE"), "{text}");
    assert!(
        text.contains("issued offline (FAKTUROWNIA_OK_KSEF_OFFLINE)"),
        "{text}"
    );
    assert!(
        text.contains("1 offline invoice sent with offlineMode"),
        "{text}"
    );
    let done = text
        .lines()
        .find(|l| l.trim_start().starts_with("COMPLETED: KSeF number"))
        .unwrap_or_else(|| panic!("the offline order completed: {text}"));
    let words: Vec<&str> = done.split_whitespace().collect();
    KsefNumber::parse(words[3]).unwrap();
    assert_eq!(
        words.last().map(|w| w.trim_end_matches(')')),
        Some(words[3]),
        "{done}"
    );
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("KSeF number:"))
    {
        let n = line.split(':').nth(1).unwrap().trim();
        KsefNumber::parse(n).unwrap();
    }
    let paired: Vec<String> = std::fs::read_dir(d.join("out/paired"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for ext in [".upo.xml", ".pdf"] {
        assert_eq!(
            paired.iter().filter(|f| f.ends_with(ext)).count(),
            2,
            "{paired:?}"
        );
    }
    assert!(paired.contains(&"state.json".to_string()));
    assert!(
        paired
            .iter()
            .any(|f| f.starts_with("FO_") && f.ends_with("-kod2.png")),
        "{paired:?}"
    );
}

/// The sim's test client certificate (XAdES), for the commands KSeF allows only after
/// certificate authentication.
fn cert_args() -> Vec<String> {
    let f = |n: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../sim/fixtures")
            .join(n)
            .to_str()
            .unwrap()
            .to_string()
    };
    vec![
        "--cert".into(),
        f("test-ec-cert.pem"),
        "--key".into(),
        f("test-ec-key.pem"),
    ]
}

#[test]
fn token_generate_then_send_with_it_and_sessions_listed() {
    let sim = sim();
    let dir = tmp("token");
    let c = conn(&sim);
    let mut args = vec![
        "token",
        "generate",
        "--permissions",
        "InvoiceWrite,InvoiceRead",
        "--description",
        "shop plugin",
    ];
    let certs = cert_args();
    args.extend(certs.iter().map(String::as_str));
    let out = ksef(&dir, None, &with(&args, &c));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert!(
        !token.is_empty() && !token.contains('\n'),
        "one token line: {token}"
    );
    // The generated token authenticates (the sim accepts only fixed or generated tokens).
    std::fs::write(dir.join("token.txt"), &token).unwrap();
    let f = invoice(&dir, "TOK", 1);
    let out = ksef(
        &dir,
        None,
        &with(&["send", "--token-file", "token.txt", &f], &c),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains(&token) && !stderr(&out).contains(&token));
    let (_, num) = &lines(&out)[0];
    KsefNumber::parse(num).expect("a KSeF number");
    // The authenticated sessions are listed (the listing's own session marked `*`).
    let out = ksef(&dir, Some(TOKEN), &with(&["sessions", "list"], &c));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().count() >= 2, "{text}");
    assert!(text.lines().any(|l| l.starts_with('*')), "{text}");
    // A wrong permission is a usage error.
    let out = ksef(
        &dir,
        None,
        &with(
            &[
                "token",
                "generate",
                "--permissions",
                "Everything",
                "--description",
                "x",
            ],
            &c,
        ),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Everything"), "{}", stderr(&out));
}

#[test]
fn cert_enroll_saves_a_key_and_its_certificate() {
    let sim = sim();
    let dir = tmp("cert");
    let c = conn(&sim);
    let mut args = vec![
        "cert",
        "enroll",
        "--name",
        "shop-offline",
        "--type",
        "offline",
        "--out-key",
        "offline.key.pem",
        "--out-cert",
        "offline.cert.pem",
    ];
    let certs = cert_args();
    args.extend(certs.iter().map(String::as_str));
    let out = ksef(&dir, None, &with(&args, &c));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let key = ksef::crypto::PrivateKey::from_pem(
        &std::fs::read_to_string(dir.join("offline.key.pem")).unwrap(),
    )
    .expect("a PKCS#8 key");
    let cert = ksef::crypto::Certificate::from_pem(
        &std::fs::read_to_string(dir.join("offline.cert.pem")).unwrap(),
    )
    .expect("a certificate");
    assert_eq!(
        cert.spki_der().unwrap(),
        key.public_key().to_spki_der().unwrap(),
        "the certificate carries our key"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("offline.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key file is private");
    }
    // Never over an existing file.
    let out = ksef(&dir, None, &with(&args, &c));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn ksef_down_send_auto_offline_queues_the_invoices_then_offline_send_delivers_them() {
    let sim = sim();
    let d = tmp("auto-offline");
    let files: Vec<String> = (0..2).map(|n| invoice(&d, "AO", n)).collect();
    sim.faults().set_unavailable_retry_after(1);
    sim.faults().set_unavailable(true);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/fixtures");
    let cert = fixtures.join("test-ec-cert.pem").display().to_string();
    let key = fixtures.join("test-ec-key.pem").display().to_string();
    let c = conn(&sim);
    let mut args = with(
        &[
            "send",
            "--auto-offline",
            "queue.json",
            "--offline-cert",
            &cert,
            "--offline-key",
            &key,
        ],
        &c,
    );
    args.extend(files.iter().map(String::as_str));
    let out = ksef(&d, Some(TOKEN), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("KSeF unavailable"),
        "{}",
        stderr(&out)
    );
    for (f, r) in lines(&out) {
        assert!(files.contains(&f));
        assert!(r.starts_with("offline, send by "), "{r}");
        assert!(
            r.contains("\thttps://qr-test.ksef.mf.gov.pl/invoice/"),
            "{r}"
        );
    }
    assert!(sim.accepted_invoices().is_empty());
    let listed = ksef(&d, None, &["offline", "list", "--state", "queue.json"]);
    assert_eq!(
        stdout(&listed).matches("\tpending\t").count(),
        2,
        "{}",
        stdout(&listed)
    );

    // With Latarnia announcing the failure, no KSeF attempt is made at all.
    let third = invoice(&d, "AO", 2);
    let before = sim.request_log().len();
    let lighthouse = sim.lighthouse_base_url();
    let mut args = with(
        &[
            "send",
            "--auto-offline",
            "queue.json",
            "--lighthouse-url",
            &lighthouse,
        ],
        &c,
    );
    args.push(&third);
    let out = ksef(&d, Some(TOKEN), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Latarnia: KSeF FAILURE"),
        "{}",
        stderr(&out)
    );
    assert!(
        lines(&out)[0].1.starts_with("offline, send by "),
        "{}",
        stdout(&out)
    );
    assert_eq!(sim.request_log().len(), before, "KSeF was not called");
    let listed = ksef(&d, None, &["offline", "list", "--state", "queue.json"]);
    assert_eq!(
        stdout(&listed).matches("\tpending\t").count(),
        3,
        "{}",
        stdout(&listed)
    );
    let no_queue = ksef(
        &d,
        Some(TOKEN),
        &with(&["send", "--lighthouse-url", &lighthouse, &third], &c),
    );
    assert_eq!(no_queue.status.code(), Some(2));

    // KSeF is back: the queue is sent with offlineMode.
    sim.faults().set_unavailable(false);
    let out = ksef(
        &d,
        Some(TOKEN),
        &with(&["offline", "send", "--state", "queue.json"], &c),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sim.accepted_invoices().len(), 3);
    // a refusal (not unavailability) is never turned into an offline invoice
    let bad = d.join("bad.xml");
    std::fs::write(&bad, std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let bad = bad.to_str().unwrap().to_string();
    let mut args = with(&["send", "--auto-offline", "queue2.json"], &c);
    args.push(&bad);
    let out = ksef(&d, Some(TOKEN), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(lines(&out)[0].1.starts_with("error"), "{}", stdout(&out));
    assert!(!d.join("queue2.json").exists());
}
