//! A tiny HTTP/1.1 client over `TcpStream` and KSeF flows for the sim's tests (the real
//! client state machines live in `ksef::protocol` and are tested elsewhere).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ksef::crypto::public_keys::{KeyUsage, PublicKeyCertificates};
use ksef::crypto::session::encrypt_ksef_token;
use ksef::crypto::{Certificate, PrivateKey, SessionKey};
use ksef::id::Nip;
use ksef::model::DateTime;
use ksef::xades::AuthTokenRequest;
use rand_core::OsRng;
use serde_json::{json, Value};

/// A response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): HTTP {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request (`url` absolute, `http://127.0.0.1:PORT/...`); `Err` when the
/// connection is closed without a response.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').expect("header");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("length"))
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// A client bound to a sim base URL (`.../v2`) and, once authenticated, an access token.
pub struct Client {
    pub base: String,
    pub access: Option<String>,
    pub refresh: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_string(),
            access: None,
            refresh: None,
        }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.try_call(method, path, body, &[]).expect("response")
    }

    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> std::io::Result<Resp> {
        let auth = self.access.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        send(method, &format!("{}{path}", self.base), &headers, &bytes)
    }

    pub fn keys(&self) -> PublicKeyCertificates {
        let r = self.call("GET", "/security/public-key-certificates", None);
        assert_eq!(r.status, 200);
        PublicKeyCertificates::from_json(&r.text()).expect("certificates")
    }

    fn challenge(&self) -> (String, i64) {
        let r = self.call("POST", "/auth/challenge", Some(&json!({})));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        (
            v["challenge"].as_str().expect("challenge").to_string(),
            v["timestampMs"].as_i64().expect("timestampMs"),
        )
    }

    /// Starts KSeF-token auth; returns (reference, authenticationToken).
    pub fn start_token_auth(&self, nip: &str, token: &str) -> (String, String) {
        let keys = self.keys();
        let (challenge, ts) = self.challenge();
        let cert = keys
            .select(KeyUsage::KsefTokenEncryption, now_s())
            .expect("token key");
        let enc = encrypt_ksef_token(token, ts, &cert.public_key().expect("key"), &mut OsRng)
            .expect("encrypt");
        let r = self.call(
            "POST",
            "/auth/ksef-token",
            Some(&json!({
                "challenge": challenge,
                "contextIdentifier": {"type": "Nip", "value": nip},
                "encryptedToken": enc,
            })),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        let v = r.json();
        (
            v["referenceNumber"].as_str().expect("ref").to_string(),
            v["authenticationToken"]["token"]
                .as_str()
                .expect("token")
                .to_string(),
        )
    }

    /// Starts XAdES auth with a key and certificate (PEM); returns (reference, token).
    pub fn start_xades_auth(&self, nip: &str, key_pem: &str, cert_pem: &str) -> (String, String) {
        let (challenge, _) = self.challenge();
        let key = PrivateKey::from_pem(key_pem).expect("key");
        let cert = Certificate::from_pem(cert_pem).expect("cert");
        let req = AuthTokenRequest::new(&challenge, Nip::parse(nip).expect("nip")).expect("req");
        let now = DateTime::from_unix_seconds(now_s() - 60).expect("time");
        let xml = req.sign(&key, &cert, &now).expect("sign");
        let r = send(
            "POST",
            &format!("{}/auth/xades-signature", self.base),
            &[("Content-Type", "application/xml")],
            &xml,
        )
        .expect("response");
        assert_eq!(r.status, 202, "{}", r.text());
        let v = r.json();
        (
            v["referenceNumber"].as_str().expect("ref").to_string(),
            v["authenticationToken"]["token"]
                .as_str()
                .expect("token")
                .to_string(),
        )
    }

    /// Polls `GET /auth/{ref}` until the status is not 100; returns the final status JSON.
    pub fn poll_auth(&self, reference: &str, auth_token: &str) -> Value {
        for _ in 0..20 {
            let r = send(
                "GET",
                &format!("{}/auth/{reference}", self.base),
                &[("Authorization", &format!("Bearer {auth_token}"))],
                b"",
            )
            .expect("response");
            assert_eq!(r.status, 200, "{}", r.text());
            let v = r.json();
            if v["status"]["code"] != 100 {
                return v;
            }
        }
        panic!("auth never finished");
    }

    pub fn redeem(&mut self, auth_token: &str) -> Resp {
        let r = send(
            "POST",
            &format!("{}/auth/token/redeem", self.base),
            &[("Authorization", &format!("Bearer {auth_token}"))],
            b"",
        )
        .expect("response");
        if r.status == 200 {
            let v = r.json();
            self.access = v["accessToken"]["token"].as_str().map(String::from);
            self.refresh = v["refreshToken"]["token"].as_str().map(String::from);
        }
        r
    }

    /// Full token auth.
    pub fn login_token(&mut self, nip: &str, token: &str) {
        let (r, t) = self.start_token_auth(nip, token);
        let s = self.poll_auth(&r, &t);
        assert_eq!(s["status"]["code"], 200, "{s}");
        let rr = self.redeem(&t);
        assert_eq!(rr.status, 200, "{}", rr.text());
    }

    /// Opens an online FA(3) session; returns (reference, key).
    pub fn open_online(&self, system_code: &str) -> (Resp, SessionKey) {
        let keys = self.keys();
        let cert = keys
            .select(KeyUsage::SymmetricKeyEncryption, now_s())
            .expect("sym key");
        let key = SessionKey::generate(&mut OsRng);
        let enc = key
            .encryption_info(
                &cert.public_key().expect("key"),
                Some(&cert.public_key_id),
                &mut OsRng,
            )
            .expect("wrap");
        let r = self.call(
            "POST",
            "/sessions/online",
            Some(&json!({
                "formCode": {"systemCode": system_code, "schemaVersion": "1-0E", "value": "FA"},
                "encryption": serde_json::from_str::<Value>(&enc.to_json()).expect("json"),
            })),
        );
        (r, key)
    }

    pub fn send_invoice(&self, session: &str, key: &SessionKey, xml: &[u8]) -> Resp {
        let body: Value = serde_json::from_str(&key.encrypt_invoice(xml).to_json()).expect("json");
        self.call(
            "POST",
            &format!("/sessions/online/{session}/invoices"),
            Some(&body),
        )
    }

    /// Polls `GET /sessions/{ref}` until the status is final.
    pub fn wait_session(&self, session: &str) -> Value {
        for _ in 0..20 {
            let r = self.call("GET", &format!("/sessions/{session}"), None);
            assert_eq!(r.status, 200, "{}", r.text());
            let v = r.json();
            let code = v["status"]["code"].as_u64().expect("code");
            if ![100, 150, 170].contains(&code) {
                return v;
            }
        }
        panic!("session never finished");
    }
}

pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// `../shared/ksef-spec` beside the repository, or `$KSEF_SPEC`.
pub fn spec() -> std::path::PathBuf {
    std::env::var("KSEF_SPEC")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ksef-spec")
        })
}

/// The FA(3) sample 01 with another invoice number.
pub fn fa3_invoice(p2: &str) -> Vec<u8> {
    let xml = std::fs::read_to_string(spec().join("samples/fa3/FA_3_Przyklad_01.xml"))
        .expect("FA(3) sample (set KSEF_SPEC)");
    assert!(xml.contains("<P_2>FV2026/02/150</P_2>"));
    xml.replace("<P_2>FV2026/02/150</P_2>", &format!("<P_2>{p2}</P_2>"))
        .into_bytes()
}

/// The FA(2) sample 01.
pub fn fa2_invoice() -> Vec<u8> {
    std::fs::read(spec().join("samples/fa2/FA_2_Przyklad_01.xml")).expect("FA(2) sample")
}

pub const SELLER: &str = "9999999999";
