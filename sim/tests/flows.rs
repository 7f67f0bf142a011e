//! End-to-end flows against a running sim over real loopback HTTP.

mod common;

use std::io::{Read as _, Write as _};
use std::process::Command;

use common::{fa2_invoice, fa3_invoice, now_s, send, spec, Client, SELLER};
use ksef::crypto::public_keys::KeyUsage;
use ksef::crypto::session::CompressionType;
use ksef::crypto::SessionKey;
use ksef::http::{ApiError, ErrorFormat};
use ksef::id::KsefNumber;
use ksef::protocol::upo::Upo;
use ksef_sim::{Environment, Sim, SimConfig, SimHandle};
use rand_core::OsRng;
use serde_json::{json, Value};

const EC_KEY: &str = include_str!("../fixtures/test-ec-key.pem");
const EC_CERT: &str = include_str!("../fixtures/test-ec-cert.pem");
const RSA_KEY: &str = include_str!("../fixtures/test-rsa-key.pem");
const RSA_CERT: &str = include_str!("../fixtures/test-rsa-cert.pem");

fn start(cfg: SimConfig) -> (SimHandle, Client) {
    let sim = Sim::start(cfg).expect("sim starts");
    let base = sim.base_url();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v2"));
    (sim, Client::new(&base))
}

fn logged_in(cfg: SimConfig) -> (SimHandle, Client) {
    let (sim, mut c) = start(cfg);
    c.login_token(SELLER, "any-token-works-by-default");
    (sim, c)
}

fn api_error(r: &common::Resp) -> ApiError {
    ApiError::from_body(r.status, &r.body)
}

/// Validates XML against an XSD with xmllint (a test dependency, like zbarimg for the CLI).
fn xmllint(xml: &[u8], xsd: &str) {
    let dir = std::env::temp_dir().join(format!("ksef-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let file = dir.join(format!("upo-{}.xml", now_s() ^ xml.len() as i64));
    std::fs::write(&file, xml).expect("write");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output()
        .expect("xmllint is installed (make deps)");
    assert!(
        out.status.success(),
        "UPO not valid against {xsd}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(xml)
    );
}

fn upo_xsd() -> String {
    spec()
        .join("xsd/upo/upo-v4-3.xsd")
        .to_str()
        .expect("path")
        .to_string()
}

fn open(c: &Client) -> (String, SessionKey) {
    let (r, key) = c.open_online("FA (3)");
    assert_eq!(r.status, 201, "{}", r.text());
    (
        r.json()["referenceNumber"]
            .as_str()
            .expect("ref")
            .to_string(),
        key,
    )
}

fn invoice_status(c: &Client, session: &str, inv: &str) -> Value {
    for _ in 0..10 {
        let r = c.call("GET", &format!("/sessions/{session}/invoices/{inv}"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if v["status"]["code"] != 150 {
            return v;
        }
    }
    panic!("invoice never processed");
}

#[test]
fn public_keys_have_the_ids_the_openapi_describes() {
    let (_sim, c) = start(SimConfig::default());
    let keys = c.keys(); // from_json checks certificateId / publicKeyId
    assert!(keys.select(KeyUsage::KsefTokenEncryption, now_s()).is_ok());
    assert!(keys
        .select(KeyUsage::SymmetricKeyEncryption, now_s())
        .is_ok());
    assert_eq!(keys.entries().len(), 2);
}

#[test]
fn token_auth_redeem_once_refresh_and_sessions() {
    let (_sim, mut c) = start(SimConfig::default());
    let (r, t) = c.start_token_auth(SELLER, "some-token");
    let s = c.poll_auth(&r, &t);
    assert_eq!(s["status"]["code"], 200);
    assert_eq!(s["authenticationMethod"], "Token");
    assert_eq!(c.redeem(&t).status, 200);
    let again = c.redeem(&t);
    assert_eq!(again.status, 400);
    let e = api_error(&again);
    assert_eq!(e.format, ErrorFormat::Exception);
    assert!(e.has_code(21301), "{e}");
    // The auth session is listed, then revoked: refresh stops working.
    let list = c.call("GET", "/auth/sessions", None).json();
    assert_eq!(list["items"][0]["isCurrent"], true);
    let refresh = c.refresh.clone().expect("refresh token");
    let rr = send(
        "POST",
        &format!("{}/auth/token/refresh", c.base),
        &[("Authorization", &format!("Bearer {refresh}"))],
        b"",
    )
    .expect("response");
    assert_eq!(rr.status, 200, "{}", rr.text());
    assert_eq!(c.call("DELETE", "/auth/sessions/current", None).status, 204);
    let rr = send(
        "POST",
        &format!("{}/auth/token/refresh", c.base),
        &[("Authorization", &format!("Bearer {refresh}"))],
        b"",
    )
    .expect("response");
    assert_eq!(rr.status, 401);
    assert_eq!(rr.header("Content-Type"), Some("application/problem+json"));
}

#[test]
fn fixed_tokens_refuse_others_with_450() {
    let (_sim, c) = start(SimConfig::default().with_ksef_token(SELLER, "the-right-token"));
    let (r, t) = c.start_token_auth(SELLER, "a-wrong-token");
    let s = c.poll_auth(&r, &t);
    assert_eq!(s["status"]["code"], 450);
    let (r, t) = c.start_token_auth(SELLER, "the-right-token");
    assert_eq!(c.poll_auth(&r, &t)["status"]["code"], 200);
    // A reused challenge is refused outright.
    let (r2, t2) = c.start_token_auth(SELLER, "the-right-token");
    assert_ne!(r2, r);
    assert_ne!(t2, t);
}

#[test]
fn xades_auth_with_ec_and_rsa_then_tokens() {
    let (_sim, mut c) = start(SimConfig::default().with_auth_poll_steps(2));
    for (key, cert, method) in [
        (EC_KEY, EC_CERT, "QualifiedSignature"),
        (RSA_KEY, RSA_CERT, "QualifiedSeal"),
    ] {
        let (r, t) = c.start_xades_auth(SELLER, key, cert);
        let s = c.poll_auth(&r, &t);
        assert_eq!(s["status"]["code"], 200, "{s}");
        assert_eq!(s["authenticationMethod"], method);
        assert_eq!(c.redeem(&t).status, 200);
    }
    // Only after XAdES: generate a KSeF token; it then works for token auth.
    let r = c.call(
        "POST",
        "/tokens",
        Some(&json!({"permissions": ["InvoiceWrite", "InvoiceRead"], "description": "sim test token"})),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let token = r.json()["token"].as_str().expect("token").to_string();
    let token_ref = r.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    assert_eq!(
        c.call("GET", &format!("/tokens/{token_ref}"), None).json()["status"],
        "Active"
    );
    let mut c2 = Client::new(&c.base);
    c2.login_token(SELLER, &token);
    let r = c2.call(
        "POST",
        "/tokens",
        Some(&json!({"permissions": ["InvoiceRead"], "description": "nested"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        api_error(&r).reason_code.as_deref(),
        Some("missing-permissions")
    );
    // Revoked: token auth now fails with 450.
    assert_eq!(
        c.call("DELETE", &format!("/tokens/{token_ref}"), None)
            .status,
        204
    );
    let (r, t) = c2.start_token_auth(SELLER, &token);
    assert_eq!(c2.poll_auth(&r, &t)["status"]["code"], 450);
}

#[test]
fn fixed_fingerprints_refuse_other_certificates_with_460() {
    let ec = ksef::crypto::Certificate::from_pem(EC_CERT).expect("cert");
    let fp: String = ec
        .sha256_fingerprint()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (_sim, c) = start(SimConfig::default().with_certificate_fingerprint(&fp));
    let (r, t) = c.start_xades_auth(SELLER, RSA_KEY, RSA_CERT);
    assert_eq!(c.poll_auth(&r, &t)["status"]["code"], 460);
    let (r, t) = c.start_xades_auth(SELLER, EC_KEY, EC_CERT);
    assert_eq!(c.poll_auth(&r, &t)["status"]["code"], 200);
}

#[test]
fn online_session_numbers_upo_and_duplicates() {
    let (sim, c) = logged_in(SimConfig::default());
    let (session, key) = open(&c);
    let mut refs = Vec::new();
    for n in 1..=3 {
        let r = c.send_invoice(&session, &key, &fa3_invoice(&format!("FV/SIM/{n}")));
        assert_eq!(r.status, 202, "{}", r.text());
        refs.push(
            r.json()["referenceNumber"]
                .as_str()
                .expect("ref")
                .to_string(),
        );
    }
    let mut numbers = Vec::new();
    for r in &refs {
        let v = invoice_status(&c, &session, r);
        assert_eq!(v["status"]["code"], 200, "{v}");
        let k = v["ksefNumber"].as_str().expect("ksefNumber");
        let parsed = KsefNumber::parse(k).expect("valid KSeF number with CRC");
        assert_eq!(parsed.seller_nip(), SELLER);
        numbers.push(k.to_string());
        // The per-invoice UPO: by reference, by KSeF number, and on its pre-signed URL.
        let upo = c.call(
            "GET",
            &format!("/sessions/{session}/invoices/{r}/upo"),
            None,
        );
        assert_eq!(upo.status, 200);
        let hash = upo.header("x-ms-meta-hash").expect("hash").to_string();
        assert_eq!(hash, ksef::crypto::hash::sha256(&upo.body).to_base64());
        let u = Upo::parse(&upo.body).expect("UPO parses");
        assert_eq!(u.documents.len(), 1);
        assert_eq!(u.documents[0].ksef_number.as_str(), k);
        xmllint(&upo.body, &upo_xsd());
        let by_k = c.call(
            "GET",
            &format!("/sessions/{session}/invoices/ksef/{k}/upo"),
            None,
        );
        assert_eq!(by_k.status, 200);
        let url = v["upoDownloadUrl"].as_str().expect("url");
        let plain = send("GET", url, &[], b"").expect("download");
        assert_eq!(plain.status, 200);
    }
    // A duplicate (same seller, kind, P_2) → 440 with the original.
    let r = c.send_invoice(&session, &key, &fa3_invoice("FV/SIM/2"));
    assert_eq!(r.status, 202);
    let dup = invoice_status(
        &c,
        &session,
        r.json()["referenceNumber"].as_str().expect("ref"),
    );
    assert_eq!(dup["status"]["code"], 440);
    assert_eq!(
        dup["status"]["extensions"]["originalKsefNumber"],
        numbers[1]
    );
    assert_eq!(
        dup["status"]["extensions"]["originalSessionReferenceNumber"],
        session
    );
    let dup = ksef::http::InvoiceDuplicate::from_invoice_status(&dup["status"]).expect("dup");
    assert_eq!(
        dup.original_ksef_number.map(|k| k.as_str().to_string()),
        Some(numbers[1].clone())
    );
    // Close → 170 → 200 with a session UPO.
    assert_eq!(
        c.call("POST", &format!("/sessions/online/{session}/close"), None)
            .status,
        204
    );
    let s = c.wait_session(&session);
    assert_eq!(s["status"]["code"], 200, "{s}");
    assert_eq!(s["invoiceCount"], 4);
    assert_eq!(s["successfulInvoiceCount"], 3);
    assert_eq!(s["failedInvoiceCount"], 1);
    let page = &s["upo"]["pages"][0];
    let upo = send("GET", page["downloadUrl"].as_str().expect("url"), &[], b"").expect("upo");
    assert_eq!(upo.status, 200);
    xmllint(&upo.body, &upo_xsd());
    let u = Upo::parse(&upo.body).expect("session UPO parses");
    assert_eq!(u.documents.len(), 3);
    let by_ref = c.call(
        "GET",
        &format!(
            "/sessions/{session}/upo/{}",
            page["referenceNumber"].as_str().expect("ref")
        ),
        None,
    );
    assert_eq!(by_ref.body, upo.body);
    // The failed list and the accepted list.
    let failed = c
        .call("GET", &format!("/sessions/{session}/invoices/failed"), None)
        .json();
    assert_eq!(failed["invoices"].as_array().map(Vec::len), Some(1));
    let accepted = sim.accepted_invoices();
    assert_eq!(accepted.len(), 3);
    assert_eq!(
        accepted
            .iter()
            .map(|a| a.ksef_number.clone())
            .collect::<Vec<_>>(),
        numbers
    );
    // Sending into a closed session: 21180.
    let late = c.send_invoice(&session, &key, &fa3_invoice("FV/SIM/9"));
    assert_eq!(late.status, 400);
    assert!(api_error(&late).has_code(21180));
}

#[test]
fn invoice_list_pages_with_continuation_tokens() {
    let (_sim, c) = logged_in(SimConfig::default().with_session_processing_polls(0));
    let (session, key) = open(&c);
    for n in 1..=12 {
        let r = c.send_invoice(&session, &key, &fa3_invoice(&format!("FV/PAGE/{n}")));
        assert_eq!(r.status, 202);
    }
    let first = c.call(
        "GET",
        &format!("/sessions/{session}/invoices?pageSize=10"),
        None,
    );
    let v = first.json();
    assert_eq!(v["invoices"].as_array().map(Vec::len), Some(10));
    let token = v["continuationToken"]
        .as_str()
        .expect("continuation")
        .to_string();
    let second = c
        .try_call(
            "GET",
            &format!("/sessions/{session}/invoices?pageSize=10"),
            None,
            &[("x-continuation-token", &token)],
        )
        .expect("response")
        .json();
    assert_eq!(second["invoices"].as_array().map(Vec::len), Some(2));
    assert!(second.get("continuationToken").is_none());
    assert_eq!(second["invoices"][1]["ordinalNumber"], 12);
    // The session list, filtered.
    let (other, _) = open(&c);
    let all = c.call("GET", "/sessions?sessionType=Online", None).json();
    assert_eq!(all["sessions"].as_array().map(Vec::len), Some(2));
    let one = c
        .call(
            "GET",
            &format!("/sessions?sessionType=Online&referenceNumber={other}"),
            None,
        )
        .json();
    assert_eq!(one["sessions"][0]["referenceNumber"], other.as_str());
    assert_eq!(one["sessions"][0]["totalInvoiceCount"], 0);
    let closed = c
        .call(
            "GET",
            "/sessions?sessionType=Online&dateClosedFrom=2020-01-01T00:00:00Z",
            None,
        )
        .json();
    assert_eq!(closed["sessions"].as_array().map(Vec::len), Some(0));
    let open_ones = c
        .call(
            "GET",
            "/sessions?sessionType=Online&statuses=InProgress",
            None,
        )
        .json();
    assert_eq!(open_ones["sessions"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        c.call("GET", "/sessions", None).status,
        400,
        "sessionType is required"
    );
}

#[test]
fn fa2_is_refused_in_demo_and_accepted_in_test() {
    let (_sim, c) = logged_in(SimConfig::default().with_environment(Environment::Demo));
    let (r, _) = c.open_online("FA (2)");
    assert_eq!(r.status, 400);
    assert!(api_error(&r).has_code(21405), "{}", r.text());

    let (_sim, c) = logged_in(SimConfig::default());
    let (r, key) = c.open_online("FA (2)");
    assert_eq!(r.status, 201);
    let session = r.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    let sent = c.send_invoice(&session, &key, &fa2_invoice());
    let v = invoice_status(
        &c,
        &session,
        sent.json()["referenceNumber"].as_str().expect("ref"),
    );
    assert_eq!(v["status"]["code"], 200, "{v}");
    // An FA(3) document in an FA(2) session: 430.
    let sent = c.send_invoice(&session, &key, &fa3_invoice("FV/X/1"));
    let v = invoice_status(
        &c,
        &session,
        sent.json()["referenceNumber"].as_str().expect("ref"),
    );
    assert_eq!(v["status"]["code"], 430, "{v}");
}

#[test]
fn bad_hashes_and_sizes_are_refused() {
    let (_sim, c) = logged_in(SimConfig::default());
    let (session, key) = open(&c);
    let xml = fa3_invoice("FV/H/1");
    let mut body: Value = serde_json::from_str(&key.encrypt_invoice(&xml).to_json()).expect("json");
    body["invoiceHash"] = json!(ksef::crypto::hash::sha256(b"other").to_base64());
    let r = c.call(
        "POST",
        &format!("/sessions/online/{session}/invoices"),
        Some(&body),
    );
    assert_eq!(r.status, 400);
    assert!(api_error(&r).has_code(21403), "{}", r.text());
    let mut body: Value = serde_json::from_str(&key.encrypt_invoice(&xml).to_json()).expect("json");
    body["invoiceSize"] = json!(xml.len() + 1);
    let r = c
        .try_call(
            "POST",
            &format!("/sessions/online/{session}/invoices"),
            Some(&body),
            &[("X-Error-Format", "problem-details")],
        )
        .expect("response");
    assert_eq!(r.status, 400);
    assert_eq!(r.header("Content-Type"), Some("application/problem+json"));
    let e = api_error(&r);
    assert_eq!(e.format, ErrorFormat::ProblemDetails);
    assert!(e.has_code(21402), "{}", r.text());
    // A future P_1 → 450.
    let future = String::from_utf8(fa3_invoice("FV/H/2"))
        .expect("utf8")
        .replace("<P_1>2026-02-15</P_1>", "<P_1>2049-12-31</P_1>");
    let r = c.send_invoice(&session, &key, future.as_bytes());
    let v = invoice_status(
        &c,
        &session,
        r.json()["referenceNumber"].as_str().expect("ref"),
    );
    assert_eq!(v["status"]["code"], 450, "{v}");
    // Another seller than the context: 410.
    let other = String::from_utf8(fa3_invoice("FV/H/3"))
        .expect("utf8")
        .replacen("<NIP>9999999999</NIP>", "<NIP>5265877635</NIP>", 1);
    let r = c.send_invoice(&session, &key, other.as_bytes());
    let v = invoice_status(
        &c,
        &session,
        r.json()["referenceNumber"].as_str().expect("ref"),
    );
    assert_eq!(v["status"]["code"], 410, "{v}");
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(name.as_str(), opts).expect("entry");
        w.write_all(data).expect("write");
    }
    w.finish().expect("zip").into_inner()
}

fn open_batch(
    c: &Client,
    archive: &[u8],
    part_size: usize,
) -> (Value, ksef::crypto::session::EncryptedBatch) {
    let keys = c.keys();
    let cert = keys
        .select(KeyUsage::SymmetricKeyEncryption, now_s())
        .expect("key");
    let key = SessionKey::generate(&mut OsRng);
    let enc = key
        .encryption_info(&cert.public_key().expect("pk"), None, &mut OsRng)
        .expect("wrap");
    let batch = key
        .encrypt_batch(archive, Some(CompressionType::Zip), part_size)
        .expect("batch");
    let r = c.call(
        "POST",
        "/sessions/batch",
        Some(&json!({
            "formCode": {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"},
            "batchFile": serde_json::from_str::<Value>(&batch.batch_file.to_json()).expect("json"),
            "encryption": serde_json::from_str::<Value>(&enc.to_json()).expect("json"),
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    (r.json(), batch)
}

#[test]
fn batch_session_in_two_parts() {
    let (_sim, c) = logged_in(SimConfig::default());
    let files: Vec<(String, Vec<u8>)> = (1..=3)
        .map(|n| {
            (
                format!("faktura-{n}.xml"),
                fa3_invoice(&format!("FV/B/{n}")),
            )
        })
        .collect();
    let archive = zip_of(&files);
    let (opened, batch) = open_batch(&c, &archive, archive.len() / 2 + 1);
    assert_eq!(batch.parts.len(), 2);
    let session = opened["referenceNumber"].as_str().expect("ref").to_string();
    let uploads = opened["partUploadRequests"].as_array().expect("uploads");
    // Closing before the uploads: 21205.
    let early = c.call("POST", &format!("/sessions/batch/{session}/close"), None);
    assert!(api_error(&early).has_code(21205), "{}", early.text());
    for (u, part) in uploads.iter().zip(&batch.parts) {
        assert_eq!(u["method"], "PUT");
        assert_eq!(u["headers"]["x-ms-blob-type"], "BlockBlob");
        let r = send(
            "PUT",
            u["url"].as_str().expect("url"),
            &[("x-ms-blob-type", "BlockBlob")],
            part,
        )
        .expect("upload");
        assert_eq!(r.status, 201);
    }
    let r = c.call("POST", &format!("/sessions/batch/{session}/close"), None);
    assert_eq!(r.status, 204, "{}", r.text());
    let s = c.wait_session(&session);
    assert_eq!(s["status"]["code"], 200, "{s}");
    assert_eq!(s["successfulInvoiceCount"], 3);
    let list = c
        .call(
            "GET",
            &format!("/sessions/{session}/invoices?pageSize=10"),
            None,
        )
        .json();
    let names: Vec<&str> = list["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .filter_map(|i| i["invoiceFileName"].as_str())
        .collect();
    assert_eq!(names, ["faktura-1.xml", "faktura-2.xml", "faktura-3.xml"]);
}

#[test]
fn batch_with_a_corrupted_part_fails_verification() {
    let (_sim, c) = logged_in(SimConfig::default());
    let archive = zip_of(&[("a.xml".into(), fa3_invoice("FV/C/1"))]);
    let (opened, batch) = open_batch(&c, &archive, archive.len());
    let session = opened["referenceNumber"].as_str().expect("ref").to_string();
    let mut part = batch.parts[0].clone();
    part[0] ^= 0xFF;
    let url = opened["partUploadRequests"][0]["url"]
        .as_str()
        .expect("url");
    send("PUT", url, &[("x-ms-blob-type", "BlockBlob")], &part).expect("upload");
    assert_eq!(
        c.call("POST", &format!("/sessions/batch/{session}/close"), None)
            .status,
        204
    );
    assert_eq!(c.wait_session(&session)["status"]["code"], 405);
}

#[test]
fn faults_and_resends() {
    let (sim, c) = logged_in(SimConfig::default().with_session_processing_polls(0));
    let (session, key) = open(&c);
    let route = "POST /sessions/online/{ref}/invoices";
    // 503 before processing: nothing accepted.
    sim.faults().fail_next(route, 1, 503);
    let r = c.send_invoice(&session, &key, &fa3_invoice("FV/F/1"));
    assert_eq!(r.status, 503);
    assert_eq!(api_error(&r).status, 503);
    assert!(sim.accepted_invoices().is_empty());
    // Dropped connection, not processed.
    sim.faults().drop_next(route, 1);
    let body: Value =
        serde_json::from_str(&key.encrypt_invoice(&fa3_invoice("FV/F/1")).to_json()).expect("json");
    assert!(c
        .try_call(
            "POST",
            &format!("/sessions/online/{session}/invoices"),
            Some(&body),
            &[]
        )
        .is_err());
    assert!(sim.accepted_invoices().is_empty());
    // Processed, then 502: a blind resend is a duplicate.
    sim.faults().fail_after_processing(route, 1);
    let r = c.send_invoice(&session, &key, &fa3_invoice("FV/F/1"));
    assert_eq!(r.status, 502);
    assert_eq!(sim.accepted_invoices().len(), 1);
    let r = c.send_invoice(&session, &key, &fa3_invoice("FV/F/1"));
    let v = invoice_status(
        &c,
        &session,
        r.json()["referenceNumber"].as_str().expect("ref"),
    );
    assert_eq!(v["status"]["code"], 440);
    // Processed, then the connection dropped.
    sim.faults().drop_after_processing(route, 1);
    let body: Value =
        serde_json::from_str(&key.encrypt_invoice(&fa3_invoice("FV/F/2")).to_json()).expect("json");
    assert!(c
        .try_call(
            "POST",
            &format!("/sessions/online/{session}/invoices"),
            Some(&body),
            &[]
        )
        .is_err());
    assert_eq!(sim.accepted_invoices().len(), 2);
    // 429 with Retry-After, in both error formats.
    sim.faults().rate_limit_next("GET /sessions/{ref}", 2, 7);
    let r = c.call("GET", &format!("/sessions/{session}"), None);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("7"));
    assert_eq!(api_error(&r).format, ErrorFormat::Status);
    let r = c
        .try_call(
            "GET",
            &format!("/sessions/{session}"),
            None,
            &[("X-Error-Format", "problem-details")],
        )
        .expect("response");
    assert_eq!(r.status, 429);
    assert_eq!(api_error(&r).format, ErrorFormat::ProblemDetails);
    assert_eq!(
        c.call("GET", &format!("/sessions/{session}"), None).status,
        200
    );
    // KSeF unavailable.
    sim.faults().set_unavailable(true);
    let r = c.call("POST", "/auth/challenge", Some(&json!({})));
    assert_eq!(r.status, 503);
    assert_eq!(api_error(&r).format, ErrorFormat::Exception);
    sim.faults().set_unavailable(false);
    assert_eq!(
        c.call("POST", "/auth/challenge", Some(&json!({}))).status,
        200
    );
    // Slow UPO: the session stays at 170 for two more polls.
    assert_eq!(
        c.call("POST", &format!("/sessions/online/{session}/close"), None)
            .status,
        204
    );
    sim.faults().slow_upo(2);
    for _ in 0..2 {
        let v = c.call("GET", &format!("/sessions/{session}"), None).json();
        assert_eq!(v["status"]["code"], 170);
        assert!(v.get("upo").is_none());
    }
    let v = c.call("GET", &format!("/sessions/{session}"), None).json();
    assert_eq!(v["status"]["code"], 200);
    assert!(v["upo"]["pages"][0]["downloadUrl"].is_string());
    let log = sim.request_log();
    assert!(
        log.iter().any(|l| l.status == 0),
        "dropped calls are logged"
    );
}

#[test]
fn strict_limits_answer_429_with_retry_after() {
    let (_sim, c) = logged_in(SimConfig::default().strict_limits());
    let mut limited = None;
    for _ in 0..8 {
        let r = c.call("GET", "/sessions?sessionType=Online", None);
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = limited.expect("GET /sessions is limited to 5/s");
    let wait: u64 = r
        .header("Retry-After")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=60).contains(&wait));
}

#[test]
fn expired_access_tokens_give_401_until_refreshed() {
    let (sim, mut c) = logged_in(SimConfig::default());
    assert_eq!(
        c.call("GET", "/sessions?sessionType=Online", None).status,
        200
    );
    sim.faults().expire_access_tokens();
    let r = c.call("GET", "/sessions?sessionType=Online", None);
    assert_eq!(r.status, 401);
    let e = api_error(&r);
    assert_eq!(e.format, ErrorFormat::ProblemDetails);
    let refresh = c.refresh.clone().expect("refresh");
    let rr = send(
        "POST",
        &format!("{}/auth/token/refresh", c.base),
        &[("Authorization", &format!("Bearer {refresh}"))],
        b"",
    )
    .expect("response");
    assert_eq!(rr.status, 200);
    c.access = rr.json()["accessToken"]["token"].as_str().map(String::from);
    assert_eq!(
        c.call("GET", "/sessions?sessionType=Online", None).status,
        200
    );
}

#[test]
fn inbox_query_download_and_export() {
    let (_sim, c) = logged_in(SimConfig::default().with_session_processing_polls(0));
    let (session, key) = open(&c);
    let xml = fa3_invoice("FV/IN/1");
    let r = c.send_invoice(&session, &key, &xml);
    let v = invoice_status(
        &c,
        &session,
        r.json()["referenceNumber"].as_str().expect("ref"),
    );
    let number = v["ksefNumber"].as_str().expect("number").to_string();
    let dl = c.call("GET", &format!("/invoices/ksef/{number}"), None);
    assert_eq!(dl.status, 200);
    assert_eq!(dl.body, xml);
    assert_eq!(
        dl.header("x-ms-meta-hash"),
        Some(ksef::crypto::hash::sha256(&xml).to_base64().as_str())
    );
    let missing = c.call(
        "GET",
        "/invoices/ksef/9999999999-20260101-000000000000-00",
        None,
    );
    assert!(api_error(&missing).has_code(21164));
    let filters = json!({
        "subjectType": "Subject1",
        "dateRange": {"dateType": "Issue", "from": "2026-02-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
    });
    let q = c.call(
        "POST",
        "/invoices/query/metadata?pageSize=10",
        Some(&filters),
    );
    assert_eq!(q.status, 200, "{}", q.text());
    let q = q.json();
    assert_eq!(q["hasMore"], false);
    assert_eq!(q["invoices"][0]["ksefNumber"], number);
    assert_eq!(q["invoices"][0]["invoiceType"], "Vat");
    let buyer = json!({
        "subjectType": "Subject2",
        "dateRange": {"dateType": "Issue", "from": "2026-02-01T00:00:00Z"},
    });
    let q = c
        .call("POST", "/invoices/query/metadata", Some(&buyer))
        .json();
    assert_eq!(q["invoices"].as_array().map(Vec::len), Some(0));
    // Export: an encrypted ZIP with the XML and _metadata.json.
    let keys = c.keys();
    let cert = keys
        .select(KeyUsage::SymmetricKeyEncryption, now_s())
        .expect("key");
    let ek = SessionKey::generate(&mut OsRng);
    let enc = ek
        .encryption_info(&cert.public_key().expect("pk"), None, &mut OsRng)
        .expect("wrap");
    let r = c.call(
        "POST",
        "/invoices/exports",
        Some(&json!({
            "encryption": serde_json::from_str::<Value>(&enc.to_json()).expect("json"),
            "filters": filters,
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let export = r.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    let st = c
        .call("GET", &format!("/invoices/exports/{export}"), None)
        .json();
    assert_eq!(st["status"]["code"], 200, "{st}");
    let part = &st["package"]["parts"][0];
    let blob = send("GET", part["url"].as_str().expect("url"), &[], b"").expect("dl");
    assert_eq!(
        blob.body.len() as u64,
        part["encryptedPartSize"].as_u64().expect("size")
    );
    let plain = ek.decrypt(&blob.body).expect("decrypts with our key");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(plain)).expect("zip");
    let mut meta = String::new();
    zip.by_name("_metadata.json")
        .expect("metadata")
        .read_to_string(&mut meta)
        .expect("read");
    let meta: Value = serde_json::from_str(&meta).expect("json");
    assert_eq!(meta["invoices"][0]["ksefNumber"], number);
    let mut inv = Vec::new();
    zip.by_name(&format!("{number}.xml"))
        .expect("xml")
        .read_to_end(&mut inv)
        .expect("read");
    assert_eq!(inv, xml);
}

#[test]
fn certificate_enrollment_issues_a_certificate_for_the_csr() {
    use der::{Decode as _, Encode as _};
    use x509_cert::builder::{Builder as _, RequestBuilder};
    let (_sim, mut c) = start(SimConfig::default());
    let (r, t) = c.start_xades_auth(SELLER, EC_KEY, EC_CERT);
    c.poll_auth(&r, &t);
    assert_eq!(c.redeem(&t).status, 200);
    let data = c.call("GET", "/certificates/enrollments/data", None).json();
    let subject = format!(
        "CN={},O={},C=PL",
        data["commonName"].as_str().expect("cn"),
        data["organizationName"].as_str().expect("o")
    );
    let key = p256::ecdsa::SigningKey::random(&mut OsRng);
    let name = <x509_cert::name::Name as std::str::FromStr>::from_str(&subject).expect("name");
    let csr = RequestBuilder::new(name, &key)
        .expect("builder")
        .build::<p256::ecdsa::DerSignature>()
        .expect("csr")
        .to_der()
        .expect("der");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&csr);
    let r = c.call(
        "POST",
        "/certificates/enrollments",
        Some(&json!({"certificateName": "sim", "certificateType": "Offline", "csr": b64})),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let er = r.json()["referenceNumber"]
        .as_str()
        .expect("ref")
        .to_string();
    let st = c
        .call("GET", &format!("/certificates/enrollments/{er}"), None)
        .json();
    assert_eq!(st["status"]["code"], 200, "{st}");
    let serial = st["certificateSerialNumber"].as_str().expect("serial");
    let got = c
        .call(
            "POST",
            "/certificates/retrieve",
            Some(&json!({"certificateSerialNumbers": [serial]})),
        )
        .json();
    let cert = ksef::crypto::Certificate::from_base64(
        got["certificates"][0]["certificate"]
            .as_str()
            .expect("cert"),
    )
    .expect("X.509");
    assert!(cert.matches_key(&ksef::crypto::PrivateKey::EcP256(key)));
    assert_eq!(cert.serial_hex().to_ascii_uppercase(), serial);
    // A CSR with a broken signature: 25004.
    let mut bad = csr.clone();
    let n = bad.len();
    bad[n - 3] ^= 1;
    let _ = x509_cert::request::CertReq::from_der(&bad);
    let r = c.call(
        "POST",
        "/certificates/enrollments",
        Some(&json!({
            "certificateName": "bad",
            "certificateType": "Authentication",
            "csr": base64::engine::general_purpose::STANDARD.encode(&bad),
        })),
    );
    assert!(api_error(&r).has_code(25004), "{}", r.text());
}

#[test]
fn every_error_the_sim_sends_is_readable() {
    let (sim, c) = logged_in(SimConfig::default());
    let cases = [
        c.call(
            "GET",
            "/sessions/20260101-SO-0000000000-0000000000-00",
            None,
        ),
        c.try_call(
            "GET",
            "/sessions/20260101-SO-0000000000-0000000000-00",
            None,
            &[("X-Error-Format", "problem-details")],
        )
        .expect("response"),
        c.call("GET", "/permissions/query/personal/grants", None),
        Client::new(&c.base).call("GET", "/sessions?sessionType=Online", None),
        c.call("GET", "/no/such/endpoint", None),
    ];
    let expected = [400, 400, 501, 401, 404];
    for (r, want) in cases.iter().zip(expected) {
        assert_eq!(r.status, want, "{}", r.text());
        let e = api_error(r);
        assert_ne!(e.format, ErrorFormat::Unknown, "{}", r.text());
        if want == 400 {
            assert!(e.has_code(21173), "{e}");
        }
    }
    sim.faults().fail_next("GET /sessions", 1, 500);
    let r = c.call("GET", "/sessions?sessionType=Online", None);
    assert_eq!(api_error(&r).format, ErrorFormat::Exception);
}
