//! The sans-IO client against a small scripted KSeF on a virtual clock: deterministic runs
//! with injected faults (429, 5xx before and after processing, dropped answers, expired
//! tokens, a lost redeem), asserting what users depend on — every invoice accepted exactly
//! once, waits honoured, secrets never in `Debug` output. (The full KSeF simulator over real
//! HTTP is exercised by the end-to-end tests in `tests/e2e`.)

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use base64::Engine as _;
use ksef::crypto::session::{EncryptionInfo, SendInvoiceRequest};
use ksef::crypto::{Certificate, PrivateKey, SessionKey};
use ksef::http::{Method, Request, Response, TransportError, TransportErrorKind};
use ksef::id::{KsefNumber, Nip};
use ksef::model::DateTime;
use ksef::protocol::{Client, Config, Credentials, Event, FormCode, OnlineSend, Output};
use ksef::retry::RetryPolicy;
use serde_json::{json, Value};

use base64::engine::general_purpose::STANDARD as B64;
const TOKEN: &str = "20251010-EC-1DCE3E3000-12ECB5B36E-45|nip-9999999999|919f7044secret";
const T0: u64 = 1_800_000_000_000; // 2027-01-15

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crypto")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

fn spec(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/ksef-spec")
            .join(path),
    )
    .unwrap()
}

fn invoice(n: usize) -> Vec<u8> {
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
enum Fault {
    /// 429 with `Retry-After` seconds; nothing processed.
    RateLimit(u64),
    /// 503 before processing.
    Unavailable,
    /// Processed, then the answer is lost (the client sees a broken connection).
    LostAfter,
    /// 401 (the access token was revoked).
    Unauthorized,
}

struct Inv {
    reference: String,
    number: String,
    ksef: Option<String>,
    status: (i64, &'static str),
    original: Option<(String, String)>,
}

struct Session {
    key: SessionKey,
    invoices: Vec<Inv>,
    closed: bool,
}

/// A scripted KSeF: enough of the API for token auth and online sessions, with real crypto.
struct Fake {
    key: PrivateKey,
    certs: String,
    access_ttl_ms: u64,
    auth: HashMap<String, (bool, bool)>, // auth token -> (status polled once, redeemed)
    access: HashMap<String, u64>,        // access token -> valid until
    refresh: HashMap<String, u64>,
    sessions: BTreeMap<String, Session>,
    held: HashMap<String, (String, String)>, // invoice number -> (session, KSeF number)
    counter: u64,
    calls: HashMap<&'static str, u32>,
    faults: Vec<(&'static str, u32, Fault)>,
    /// Every request, for the secrets check.
    seen: Vec<String>,
    rng: u64,
    /// Status polls that still answer 170 (closed, processing) after closing.
    processing_polls: u32,
}

impl Fake {
    fn new() -> Fake {
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

    fn handle(&mut self, now: u64, req: &Request) -> Result<Response, TransportError> {
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
                let inv = match self.held.get(&number) {
                    Some((os, ok)) => Inv {
                        reference: reference.clone(),
                        number,
                        ksef: None,
                        status: (440, "Duplikat faktury"),
                        original: Some((os.clone(), ok.clone())),
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
            "list" => {
                let s = &self.sessions[segs[1]];
                let items: Vec<Value> = s
                    .invoices
                    .iter()
                    .enumerate()
                    .map(|(i, inv)| {
                        let mut status = json!({"code": inv.status.0, "description": inv.status.1});
                        if let Some((os, ok)) = &inv.original {
                            status["extensions"] = json!({"originalSessionReferenceNumber": os, "originalKsefNumber": ok});
                        }
                        json!({"ordinalNumber": i + 1, "referenceNumber": inv.reference, "invoiceNumber": inv.number,
                               "ksefNumber": inv.ksef, "invoiceHash": "x", "invoicingDate": iso(now), "status": status,
                               "upoDownloadUrl": format!("http://fake/upo/{}?sig=secret", inv.reference)})
                    })
                    .collect();
                Fake::json(200, json!({"invoices": items}))
            }
            _ => Fake::error(404, 0, "not simulated"),
        }
    }
}

struct Run {
    now: u64,
    events: Vec<String>,
    outputs: Vec<Result<Output, ksef::Error>>,
    waits: Vec<u64>,
}

fn pump(client: &mut Client, fake: &mut Fake, start: u64) -> Run {
    let mut run = Run {
        now: start,
        events: Vec::new(),
        outputs: Vec::new(),
        waits: Vec::new(),
    };
    for _ in 0..100_000 {
        while let Some(e) = client.poll_event() {
            run.events.push(format!("{e:?}"));
            if let Event::Finished { result, .. } = e {
                run.outputs.push(result);
            }
        }
        if let Some(tx) = client.poll_transmit(run.now) {
            run.now += 3;
            let r = fake.handle(run.now, &tx.request);
            client.handle_response(run.now, tx.id, r);
            continue;
        }
        match client.poll_timeout() {
            Some(t) => {
                assert!(t >= run.now, "a deadline in the past would spin");
                run.waits.push(t - run.now);
                run.now = t;
            }
            None => break,
        }
    }
    while let Some(e) = client.poll_event() {
        if let Event::Finished { result, .. } = e {
            run.outputs.push(result);
        }
    }
    run
}

fn client(seed: u8) -> Client {
    let nip = Nip::parse("9999999999").unwrap();
    let cfg = Config::with_base_url("http://fake/v2", nip)
        .retry(RetryPolicy::new(6, 200, 5_000, 600_000))
        .polling(500, 60_000);
    Client::new(cfg, Credentials::ksef_token(TOKEN), [seed; 32])
}

fn online(run: &Run) -> &ksef::protocol::OnlineResult {
    match run.outputs.last() {
        Some(Ok(Output::Online(r))) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_auth_online_session_three_invoices() {
    let mut fake = Fake::new();
    let mut c = client(1);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    let r = online(&run);
    assert_eq!(r.accepted(), 3);
    for o in &r.invoices {
        let n = o.ksef_number.as_deref().unwrap();
        assert!(KsefNumber::parse(n).is_ok(), "{n}");
        assert!(o.upo.as_ref().is_some_and(|u| !u.is_empty()));
        assert!(!o.deduplicated);
    }
    assert_eq!(r.session_upo.len(), 1);
    assert_eq!(fake.held.len(), 3);
    // The auth status was polled once at 100, then the client waited the poll interval.
    assert!(run.waits.contains(&500), "{:?}", run.waits);
    assert!(run.events.iter().any(|e| e.contains("Authenticated")));
}

#[test]
fn rate_limit_waits_for_retry_after_and_sends_once() {
    let mut fake = Fake::new();
    fake.faults.push(("send", 2, Fault::RateLimit(7)));
    let mut c = client(2);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 3);
    assert!(
        run.waits.iter().any(|w| (6_990..=7_000).contains(w)),
        "{:?}",
        run.waits
    );
    assert_eq!(fake.held.len(), 3);
    assert_eq!(fake.calls["send"], 4);
}

#[test]
fn lost_answer_after_processing_is_resolved_as_the_same_invoice() {
    let mut fake = Fake::new();
    fake.faults.push(("send", 1, Fault::LostAfter));
    fake.faults.push(("send", 3, Fault::Unavailable));
    let mut c = client(3);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..2).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    let r = online(&run);
    assert_eq!(r.accepted(), 2, "{:?}", r.invoices);
    assert!(r.invoices[0].deduplicated);
    // The first invoice's number is the one KSeF assigned to the lost first attempt.
    assert_eq!(
        r.invoices[0].ksef_number.as_deref(),
        Some(fake.held["FV/TEST/00000"].1.as_str())
    );
    assert_eq!(fake.held.len(), 2);
}

#[test]
fn duplicate_from_another_session_stays_an_error() {
    let mut fake = Fake::new();
    let mut c = client(4);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1), invoice(2)]));
    let run = pump(&mut c, &mut fake, T0);
    let Some(Ok(Output::Online(second))) = run.outputs.get(1) else {
        panic!("{:?}", run.outputs)
    };
    let e = second.invoices[0].error.as_ref().unwrap();
    assert_eq!(e.code(), ksef::ErrorCode::Duplicate);
    assert!(e.message().contains(&fake.held["FV/TEST/00001"].1));
    assert!(second.invoices[1].is_accepted());
}

#[test]
fn expired_access_token_mid_session_refreshes_and_continues() {
    let mut fake = Fake::new();
    fake.faults.push(("send", 2, Fault::Unauthorized));
    let mut c = client(5);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 3);
    assert_eq!(fake.calls["refresh"], 1);
    assert_eq!(fake.calls["challenge"], 1);
    assert!(run.events.iter().any(|e| e.contains("refreshed: true")));
}

#[test]
fn access_token_lifetime_is_respected_without_a_401() {
    let mut fake = Fake::new();
    fake.access_ttl_ms = 2_000; // shorter than the session: the client refreshes ahead
    fake.processing_polls = 6; // 6 polls × 500 ms of processing after closing
    let mut c = client(6);
    c.send_online(OnlineSend::new(
        FormCode::Fa3,
        (0..3).map(invoice).collect(),
    ));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 3);
    assert!(fake.calls.get("refresh").copied().unwrap_or(0) >= 1);
    // Refreshed ahead of expiry: no call was refused.
    assert!(!fake.seen.is_empty());
    assert_eq!(fake.calls["challenge"], 1);
}

#[test]
fn lost_redeem_restarts_authentication() {
    let mut fake = Fake::new();
    fake.faults.push(("redeem", 1, Fault::LostAfter));
    let mut c = client(7);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 1);
    assert_eq!(fake.calls["challenge"], 2);
    assert_eq!(fake.calls["redeem"], 2);
}

#[test]
fn wrong_token_fails_with_auth_failed() {
    let mut fake = Fake::new();
    let nip = Nip::parse("9999999999").unwrap();
    let cfg = Config::with_base_url("http://fake/v2", nip).polling(500, 60_000);
    let mut c = Client::new(cfg, Credentials::ksef_token(""), [8; 32]);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    let run = pump(&mut c, &mut fake, T0);
    match run.outputs.last() {
        Some(Err(e)) => assert_eq!(e.code(), ksef::ErrorCode::Encrypt, "{e:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn secrets_never_reach_debug_output() {
    let mut fake = Fake::new();
    let mut c = client(9);
    c.send_online(OnlineSend::new(FormCode::Fa3, vec![invoice(1)]));
    let run = pump(&mut c, &mut fake, T0);
    assert_eq!(online(&run).accepted(), 1);
    let all = format!("{:?} {:?} {:?}", c, run.events, run.outputs);
    for secret in [
        TOKEN,
        "919f7044secret",
        "access-",
        "refresh-",
        "authtok-",
        "sig=secret",
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
    // ...and requests' Debug (what a host would log) never shows tokens either.
    for line in &fake.seen {
        let dbg = line.split(" {").next().unwrap_or("");
        assert!(
            !dbg.contains("access-") && !dbg.contains("authtok-"),
            "{dbg}"
        );
    }
}

/// Many seeds of random faults: every invoice ends accepted exactly once.
#[test]
fn fault_storms_end_with_every_invoice_accepted_exactly_once() {
    for seed in 0..30u64 {
        let mut fake = Fake::new();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for label in [
            "send",
            "open",
            "close",
            "list",
            "session-status",
            "challenge",
            "upo",
        ] {
            for k in 1..12u32 {
                let f = match rnd() % 10 {
                    0 => Some(Fault::RateLimit(1 + rnd() % 3)),
                    1 => Some(Fault::Unavailable),
                    2 => Some(Fault::LostAfter),
                    3 if label == "send" => Some(Fault::Unauthorized),
                    _ => None,
                };
                if let Some(f) = f {
                    fake.faults.push((label, k, f));
                }
            }
        }
        let mut c = client(seed as u8);
        c.send_online(OnlineSend::new(
            FormCode::Fa3,
            (0..5).map(invoice).collect(),
        ));
        let run = pump(&mut c, &mut fake, T0);
        let r = match run.outputs.last() {
            Some(Ok(Output::Online(r))) => r,
            other => panic!("seed {seed}: {other:?}"),
        };
        assert_eq!(r.accepted(), 5, "seed {seed}: {:?}", r.invoices);
        assert_eq!(fake.held.len(), 5, "seed {seed}");
        let mut nums: Vec<&str> = r
            .invoices
            .iter()
            .filter_map(|o| o.ksef_number.as_deref())
            .collect();
        nums.sort();
        nums.dedup();
        assert_eq!(
            nums.len(),
            5,
            "seed {seed}: two invoices share a KSeF number"
        );
    }
}
