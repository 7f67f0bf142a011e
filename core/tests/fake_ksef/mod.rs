//! A scripted KSeF for the client's deterministic tests and benchmarks: enough of the API
//! for token auth and online sessions, with real crypto (the token and the session key are
//! really decrypted, invoices really opened), and faults injected per call.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ksef::crypto::session::{EncryptionInfo, SendInvoiceRequest};
use ksef::crypto::{Certificate, PrivateKey, SessionKey};
use ksef::http::{Method, Request, Response, TransportError, TransportErrorKind};
use ksef::id::KsefNumber;
use ksef::model::DateTime;
use serde_json::{json, Value};

pub const TOKEN: &str = "20251010-EC-1DCE3E3000-12ECB5B36E-45|nip-9999999999|919f7044secret";
pub const T0: u64 = 1_800_000_000_000; // 2027-01-15

pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crypto")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

pub fn spec(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/ksef-spec")
            .join(path),
    )
    .unwrap()
}

pub fn invoice(n: usize) -> Vec<u8> {
    let xml = String::from_utf8(spec("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    xml.replace(
        "<P_2>FV2026/02/150</P_2>",
        &format!("<P_2>FV/TEST/{n:05}</P_2>"),
    )
    .into_bytes()
}

fn iso(ms: u64) -> String {
    DateTime::from_unix_seconds((ms / 1000) as i64)
        .unwrap()
        .as_str()
        .to_string()
}

/// What the fake does with the n-th call matching a label.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// 429 with `Retry-After` seconds; nothing processed.
    RateLimit(u64),
    /// 503 before processing.
    Unavailable,
    /// Processed, then the answer is lost (the client sees a broken connection).
    LostAfter,
    /// 401 (the access token was revoked).
    Unauthorized,
}

pub struct Inv {
    reference: String,
    number: String,
    ksef: Option<String>,
    status: (i64, &'static str),
    original: Option<(String, String)>,
    /// `invoiceHash` of the request, reported back in the invoice lists.
    hash: String,
}

pub struct Session {
    key: SessionKey,
    invoices: Vec<Inv>,
    closed: bool,
}

/// A scripted KSeF: enough of the API for token auth and online sessions, with real crypto.
pub struct Fake {
    pub key: PrivateKey,
    pub certs: String,
    pub access_ttl_ms: u64,
    pub auth: HashMap<String, (bool, bool)>, // auth token -> (status polled once, redeemed)
    pub access: HashMap<String, u64>,        // access token -> valid until
    pub refresh: HashMap<String, u64>,
    pub sessions: BTreeMap<String, Session>,
    pub held: HashMap<String, (String, String)>, // invoice number -> (session, KSeF number)
    pub counter: u64,
    pub calls: HashMap<&'static str, u32>,
    pub faults: Vec<(&'static str, u32, Fault)>,
    /// Every request, for the secrets check.
    pub seen: Vec<String>,
    pub rng: u64,
    /// Status polls that still answer 170 (closed, processing) after closing.
    pub processing_polls: u32,
    /// `offlineMode` of every invoice sent, in order.
    pub offline_flags: Vec<bool>,
    /// `hashOfCorrectedInvoice` of every invoice sent, in order.
    pub corrected_hashes: Vec<Option<String>>,
}

impl Fake {
    pub fn new() -> Fake {
        let cert = Certificate::from_pem(&fixture("rsa2048.cert.pem")).unwrap();
        let key = PrivateKey::from_pem(&fixture("rsa2048.pkcs1.pem")).unwrap();
        let certs = json!([{
            "certificate": B64.encode(cert.der()),
            "certificateId": B64.encode(cert.sha256_fingerprint()),
            "publicKeyId": B64.encode(cert.public_key_id().unwrap()),
            "validFrom": "2026-11-21T02:06:43+00:00",
            "validTo": "2036-11-18T02:06:43+00:00",
            "usage": ["KsefTokenEncryption", "SymmetricKeyEncryption"],
        }])
        .to_string();
        Fake {
            key,
            certs,
            access_ttl_ms: 900_000,
            auth: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            sessions: BTreeMap::new(),
            held: HashMap::new(),
            counter: 0,
            calls: HashMap::new(),
            faults: Vec::new(),
            seen: Vec::new(),
            rng: 1,
            processing_polls: 0,
            offline_flags: Vec::new(),
            corrected_hashes: Vec::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn label(method: Method, path: &str) -> &'static str {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match (method, segs.as_slice()) {
            (Method::Get, ["security", "public-key-certificates"]) => "keys",
            (Method::Post, ["auth", "challenge"]) => "challenge",
            (Method::Post, ["auth", "ksef-token"]) => "ksef-token",
            (Method::Post, ["auth", "token", "redeem"]) => "redeem",
            (Method::Post, ["auth", "token", "refresh"]) => "refresh",
            (Method::Get, ["auth", _]) => "auth-status",
            (Method::Post, ["sessions", "online"]) => "open",
            (Method::Post, ["sessions", "online", _, "invoices"]) => "send",
            (Method::Post, ["sessions", "online", _, "close"]) => "close",
            (Method::Get, ["sessions", _]) => "session-status",
            (Method::Get, ["sessions", _, "invoices"]) => "list",
            (Method::Get, ["sessions", _, "invoices", "failed"]) => "failed",
            (Method::Get, ["upo", ..]) => "upo",
            (Method::Get, ["sessions", _, "invoices", "ksef", _, "upo"]) => "ksef-upo",
            _ => "other",
        }
    }

    fn json(status: u16, v: Value) -> Response {
        Response::new(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            v.to_string().into_bytes(),
        )
    }

    fn error(status: u16, code: i64, text: &str) -> Response {
        Fake::json(
            status,
            json!({"exception": {"exceptionDetailList": [
                {"exceptionCode": code, "exceptionDescription": text, "details": []}]}}),
        )
    }

    fn bearer(req: &Request) -> String {
        req.header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_string()
    }

    pub fn handle(&mut self, now: u64, req: &Request) -> Result<Response, TransportError> {
        self.seen
            .push(format!("{:?} {}", req, String::from_utf8_lossy(&req.body)));
        let (path, _query) = req.url.split_once('?').unwrap_or((&req.url, ""));
        let path = path
            .strip_prefix("http://fake/v2")
            .or_else(|| path.strip_prefix("http://fake"))
            .unwrap_or(path)
            .to_string();
        let label = Fake::label(req.method, &path);
        let n = {
            let c = self.calls.entry(label).or_insert(0);
            *c += 1;
            *c
        };
        let fault = self
            .faults
            .iter()
            .find(|(l, k, _)| *l == label && *k == n)
            .map(|(_, _, f)| *f);
        match fault {
            Some(Fault::RateLimit(s)) => {
                return Ok(Response::new(
                    429,
                    vec![("Retry-After".into(), s.to_string())],
                    br#"{"status":{"code":429,"description":"Too Many Requests","details":[]}}"#
                        .to_vec(),
                ))
            }
            Some(Fault::Unavailable) => return Ok(Fake::error(503, 0, "unavailable")),
            Some(Fault::Unauthorized) => {
                self.access.clear();
                return Ok(Response::new(401, vec![], Vec::new()));
            }
            Some(Fault::LostAfter) | None => {}
        }
        let resp = self.process(now, req, &path, label);
        if matches!(fault, Some(Fault::LostAfter)) {
            return Err(TransportError::new(
                TransportErrorKind::Io,
                "connection reset",
            ));
        }
        Ok(resp)
    }

    fn process(&mut self, now: u64, req: &Request, path: &str, label: &str) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let authed = |f: &Fake| f.access.get(&Fake::bearer(req)).is_some_and(|u| *u > now);
        match label {
            "keys" => Response::new(200, vec![], self.certs.clone().into_bytes()),
            "challenge" => Fake::json(
                200,
                json!({"challenge": "20270115-CR-0000000001-00000000AB-01", "timestamp": iso(now),
                       "timestampMs": now, "clientIp": "127.0.0.1"}),
            ),
            "ksef-token" => {
                let enc = B64
                    .decode(body["encryptedToken"].as_str().unwrap())
                    .unwrap();
                let mut r = ksef::crypto::rand_core::OsRng;
                let plain =
                    ksef::crypto::session::rsa_oaep_decrypt(&self.key, &enc, &mut r).unwrap();
                let text = String::from_utf8(plain.expose().to_vec()).unwrap();
                assert_eq!(
                    text,
                    format!(
                        "{TOKEN}|{now_ms}",
                        now_ms = text.rsplit('|').next().unwrap()
                    )
                );
                let n = self.next();
                let tok = format!("authtok-{n}");
                self.auth.insert(tok.clone(), (false, false));
                Fake::json(
                    202,
                    json!({"referenceNumber": format!("20270115-AU-{n:010}-0000000000-01"),
                           "authenticationToken": {"token": tok, "validUntil": iso(now + 600_000)}}),
                )
            }
            "auth-status" => {
                let tok = Fake::bearer(req);
                let Some(st) = self.auth.get_mut(&tok) else {
                    return Response::new(401, vec![], Vec::new());
                };
                let code = if st.0 { 200 } else { 100 };
                st.0 = true;
                Fake::json(
                    200,
                    json!({"startDate": iso(now), "authenticationMethod": "Token",
                           "authenticationMethodInfo": {"category": "Token", "code": "token", "displayName": "Token"},
                           "status": {"code": code, "description": "x"}}),
                )
            }
            "redeem" => {
                let tok = Fake::bearer(req);
                match self.auth.get_mut(&tok) {
                    Some(st) if st.0 && !st.1 => st.1 = true,
                    _ => return Fake::error(400, 21301, "token already redeemed"),
                }
                let n = self.next();
                let (a, r) = (format!("access-{n}"), format!("refresh-{n}"));
                self.access.insert(a.clone(), now + self.access_ttl_ms);
                self.refresh.insert(r.clone(), now + 7 * 86_400_000);
                Fake::json(
                    200,
                    json!({"accessToken": {"token": a, "validUntil": iso(now + self.access_ttl_ms)},
                           "refreshToken": {"token": r, "validUntil": iso(now + 7 * 86_400_000)}}),
                )
            }
            "refresh" => {
                if self
                    .refresh
                    .get(&Fake::bearer(req))
                    .is_none_or(|u| *u <= now)
                {
                    return Response::new(401, vec![], Vec::new());
                }
                let n = self.next();
                let a = format!("access-{n}");
                self.access.insert(a.clone(), now + self.access_ttl_ms);
                Fake::json(
                    200,
                    json!({"accessToken": {"token": a, "validUntil": iso(now + self.access_ttl_ms)}}),
                )
            }
            "upo" => Response::new(
                200,
                vec![],
                spec("samples/upo/upo-sesja-kontekst-id-nip.xml"),
            ),
            _ if !authed(self) => Response::new(401, vec![], Vec::new()),
            "ksef-upo" => {
                let known = self.held.values().any(|(_, k)| k == segs[4]);
                if !known {
                    return Fake::error(404, 21164, "no such invoice");
                }
                Response::new(
                    200,
                    vec![],
                    spec("samples/upo/upo-faktura-kontekst-id-nip.xml"),
                )
            }
            "open" => {
                let info = EncryptionInfo::from_json(&body["encryption"].to_string()).unwrap();
                let mut r = ksef::crypto::rand_core::OsRng;
                let key = SessionKey::from_encryption_info(&info, &self.key, &mut r).unwrap();
                let n = self.next();
                let reference = format!("20270115-SO-{n:010}-0000000000-01");
                self.sessions.insert(
                    reference.clone(),
                    Session {
                        key,
                        invoices: Vec::new(),
                        closed: false,
                    },
                );
                Fake::json(
                    201,
                    json!({"referenceNumber": reference, "validUntil": iso(now + 43_200_000)}),
                )
            }
            "send" => {
                let sref = segs[2].to_string();
                let reqd = SendInvoiceRequest::from_json(&body.to_string()).unwrap();
                self.offline_flags.push(reqd.offline_mode);
                self.corrected_hashes
                    .push(reqd.hash_of_corrected_invoice.clone());
                let n = self.next();
                self.rng = self.rng.wrapping_mul(6364136223846793005).wrapping_add(n);
                let s = self.sessions.get_mut(&sref).unwrap();
                let xml = reqd.open(&s.key).unwrap();
                let text = String::from_utf8(xml).unwrap();
                let number = text
                    .split("<P_2>")
                    .nth(1)
                    .unwrap()
                    .split("</P_2>")
                    .next()
                    .unwrap()
                    .to_string();
                let reference = format!("20270115-EE-{n:010}-0000000000-01");
                // A marker in the invoice makes it fail KSeF's semantic checks (status 450).
                let rejected = text.contains("REJECT-ME");
                let inv = match self.held.get(&number) {
                    _ if rejected => Inv {
                        reference: reference.clone(),
                        number,
                        ksef: None,
                        status: (450, "Błąd weryfikacji semantyki dokumentu faktury"),
                        original: None,
                        hash: reqd.invoice_hash.clone(),
                    },
                    Some((os, ok)) => Inv {
                        reference: reference.clone(),
                        number,
                        ksef: None,
                        status: (440, "Duplikat faktury"),
                        original: Some((os.clone(), ok.clone())),
                        hash: reqd.invoice_hash.clone(),
                    },
                    None => {
                        let ksef = KsefNumber::from_prefix(&format!(
                            "9999999999-20270115-{:012X}",
                            self.rng >> 16 & 0xFFFF_FFFF_FFFF
                        ))
                        .unwrap()
                        .as_str()
                        .to_string();
                        self.held
                            .insert(number.clone(), (sref.clone(), ksef.clone()));
                        Inv {
                            reference: reference.clone(),
                            number,
                            ksef: Some(ksef),
                            status: (200, "Sukces"),
                            original: None,
                            hash: reqd.invoice_hash.clone(),
                        }
                    }
                };
                s.invoices.push(inv);
                Fake::json(202, json!({"referenceNumber": reference}))
            }
            "close" => {
                let s = self.sessions.get_mut(segs[2]).unwrap();
                if s.closed {
                    return Fake::error(400, 21180, "session not open");
                }
                s.closed = true;
                Response::new(204, vec![], Vec::new())
            }
            "session-status" => {
                let busy = self.processing_polls > 0;
                if busy {
                    self.processing_polls -= 1;
                }
                let s = &self.sessions[segs[1]];
                let code = match (s.closed, busy) {
                    (false, _) => 100,
                    (true, true) => 170,
                    (true, false) => 200,
                };
                Fake::json(
                    200,
                    json!({"status": {"code": code, "description": "x"}, "dateCreated": iso(now), "dateUpdated": iso(now),
                           "invoiceCount": s.invoices.len(),
                           "upo": {"pages": [{"referenceNumber": "UPO-1", "downloadUrl": format!("http://fake/upo/{}?sig=secret", segs[1]),
                                              "downloadUrlExpirationDate": iso(now + 3_600_000)}]}}),
                )
            }
            "list" | "failed" => {
                let s = &self.sessions[segs[1]];
                let items: Vec<Value> = s
                    .invoices
                    .iter()
                    .filter(|inv| label == "list" || inv.status.0 >= 400)
                    .enumerate()
                    .map(|(i, inv)| {
                        let mut status = json!({"code": inv.status.0, "description": inv.status.1});
                        if let Some((os, ok)) = &inv.original {
                            status["extensions"] = json!({"originalSessionReferenceNumber": os, "originalKsefNumber": ok});
                        }
                        json!({"ordinalNumber": i + 1, "referenceNumber": inv.reference, "invoiceNumber": inv.number,
                               "ksefNumber": inv.ksef, "invoiceHash": inv.hash, "invoicingDate": iso(now), "status": status,
                               "upoDownloadUrl": format!("http://fake/upo/{}?sig=secret", inv.reference)})
                    })
                    .collect();
                Fake::json(200, json!({"invoices": items}))
            }
            _ => Fake::error(404, 0, "not simulated"),
        }
    }
}
