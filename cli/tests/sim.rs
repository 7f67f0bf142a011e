//! `ksef sim`: starts on a random port, prints the base URL, answers KSeF calls.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn sim_prints_its_base_url_and_serves_public_keys() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ksef"))
        .args(["sim", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ksef sim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let base = line.trim().to_string();
    let rest = base
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.strip_suffix("/v2"))
        .unwrap_or_else(|| panic!("unexpected base URL line {line:?}"));
    let port: u16 = rest.parse().expect("port");
    assert_ne!(port, 0);
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(
        b"GET /v2/security/public-key-certificates HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("response");
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(resp.starts_with("HTTP/1.1 200 "), "{resp}");
    let body = &resp[resp.find("\r\n\r\n").expect("head end") + 4..];
    let keys = ksef::crypto::PublicKeyCertificates::from_json(body).expect("certificates");
    assert_eq!(keys.entries().len(), 2);
}

#[test]
fn sim_refuses_bad_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_ksef"))
        .args(["sim", "--port", "http"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port http"));
}
