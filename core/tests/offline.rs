//! The offline queue: bytes fixed at issue, KOD I/KOD II from them, deadlines, statuses,
//! technical corrections, snapshots.

mod common;

use ksef::crypto::hash::sha256;
use ksef::crypto::PrivateKey;
use ksef::model::Date;
use ksef::offline::deadline::{DeadlineStatus, Failure, Mode};
use ksef::offline::queue::{Kod2Signer, OfflineQueue, Status};
use ksef::qr::ContextType;
use ksef::{Environment, ErrorCode};

const KOD1_SAMPLE: &str = "https://qr-test.ksef.mf.gov.pl/invoice/9999999999/15-02-2026/X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA";
const KOD2_SAMPLE: &str = "https://qr-test.ksef.mf.gov.pl/certificate/Nip/9999999999/9999999999/01F20A5D352AE590/X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA/YEvJlfPKJryTXv3xxWy3Gmee0orDY04mpiRQulJvCwu92zuvIwvwkIlRGXRqlp-qKUavPEJU9SqbTL8hAOn_3w";

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn sample() -> Vec<u8> {
    std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap()
}

/// The same invoice with different bytes (trailing whitespace after the root element).
fn variant(n: usize) -> Vec<u8> {
    let mut x = sample();
    x.extend(std::iter::repeat_n(b' ', n));
    x
}

fn key() -> PrivateKey {
    let scalar: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(
                &"C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"[i..i + 2],
                16,
            )
            .unwrap()
        })
        .collect();
    PrivateKey::EcP256(p256::ecdsa::SigningKey::from_slice(&scalar).unwrap())
}

struct NoRng;
impl rand_core::RngCore for NoRng {
    fn next_u32(&mut self) -> u32 {
        unreachable!("ECDSA signing is deterministic")
    }
    fn next_u64(&mut self) -> u64 {
        unreachable!()
    }
    fn fill_bytes(&mut self, _: &mut [u8]) {
        unreachable!()
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand_core::Error> {
        unreachable!()
    }
}
impl rand_core::CryptoRng for NoRng {}

fn off24(s: &str) -> Mode {
    Mode::Offline24 { issued: d(s) }
}

#[test]
fn issue_fixes_bytes_and_computes_both_codes() {
    let key = key();
    let signer = Kod2Signer {
        context_type: ContextType::Nip,
        context_value: "9999999999",
        certificate_serial: "01F20A5D352AE590",
        key: &key,
    };
    let mut q = OfflineQueue::new(Environment::Test);
    let xml = sample();
    let inv = q
        .issue("A1", &xml, off24("2026-02-15"), Some(&signer), &mut NoRng)
        .unwrap();
    assert_eq!(inv.xml, xml);
    assert_eq!(inv.hash, "X+wQflQVyRs1fImlI+xDPnWk1V37hys4O1lkx9iJbSA=");
    assert_eq!(inv.kod1_url, KOD1_SAMPLE);
    assert_eq!(inv.kod2_url.as_deref(), Some(KOD2_SAMPLE));
    assert_eq!(inv.seller_nip, "9999999999");
    assert_eq!(inv.issue_date, d("2026-02-15"));
    // Sunday 15 February → Monday 16.
    assert_eq!(inv.deadline, Some(d("2026-02-16")));
    assert_eq!(inv.status, Status::Pending);
    // Debug never dumps the invoice.
    assert!(!format!("{inv:?}").contains("Faktura"));

    // Without a certificate there is no KOD II.
    let inv = q
        .issue("A2", &variant(1), off24("2026-02-15"), None, &mut NoRng)
        .unwrap();
    assert_eq!(inv.kod2_url, None);
    assert_ne!(inv.kod1_url, KOD1_SAMPLE);
}

#[test]
fn bad_input_is_refused() {
    let mut q = OfflineQueue::new(Environment::Test);
    let m = off24("2026-02-15");
    let e = q.issue("", &sample(), m, None, &mut NoRng).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineInvalid);
    q.issue("A", &sample(), m, None, &mut NoRng).unwrap();
    let e = q.issue("A", &variant(1), m, None, &mut NoRng).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineInvalid);
    let e = q.issue("B", &sample(), m, None, &mut NoRng).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineInvalid);
    assert!(e.message().contains("\"A\""), "{e}");
    let e = q.issue("C", b"<nope", m, None, &mut NoRng).unwrap_err();
    assert_eq!(e.code(), ErrorCode::XmlSyntax);
    assert_eq!(q.invoices().len(), 1);
}

#[test]
fn due_order_and_overdue() {
    let mut q = OfflineQueue::new(Environment::Test);
    q.issue("late", &variant(1), off24("2026-04-03"), None, &mut NoRng)
        .unwrap(); // → Tue 7 April (Easter Monday)
    q.issue(
        "emergency",
        &variant(2),
        Mode::Emergency {
            ended: d("2026-03-31"),
        },
        None,
        &mut NoRng,
    )
    .unwrap(); // 1,2,3,(6),7,8,9,10 → Fri 10 April
    q.issue("none", &variant(3), Mode::TotalFailure, None, &mut NoRng)
        .unwrap();
    q.issue("early", &variant(4), off24("2026-04-01"), None, &mut NoRng)
        .unwrap(); // → Thu 2 April
    let order: Vec<&str> = q.due_order().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(order, ["early", "late", "emergency", "none"]);

    let over: Vec<&str> = q
        .overdue(d("2026-04-08"))
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(over, ["late", "early"]);
    assert_eq!(
        q.get("late").unwrap().deadline_status(d("2026-04-07")),
        DeadlineStatus::DueToday
    );

    // Sent and accepted invoices are no longer due nor overdue.
    q.mark_sent("early", "ref-1").unwrap();
    q.mark_accepted("early", "9999999999-20260402-0100001E7F2C-0D")
        .unwrap();
    let over: Vec<&str> = q
        .overdue(d("2026-04-08"))
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(over, ["late"]);
    assert!(!q.due_order().iter().any(|i| i.id == "early"));
}

#[test]
fn a_failure_announcement_moves_open_deadlines() {
    let mut q = OfflineQueue::new(Environment::Test);
    q.issue("open", &variant(1), off24("2025-07-08"), None, &mut NoRng)
        .unwrap();
    q.issue("done", &variant(2), off24("2025-07-08"), None, &mut NoRng)
        .unwrap();
    q.mark_sent("done", "r").unwrap();
    q.mark_accepted("done", "K").unwrap();
    q.announce_failure(Failure {
        announced: d("2025-07-09"),
        ended: d("2025-07-12"),
    });
    assert_eq!(q.get("open").unwrap().deadline, Some(d("2025-07-22")));
    assert_eq!(q.get("done").unwrap().deadline, Some(d("2025-07-09")));
    // Invoices issued afterwards see the failure too (it does not concern them here).
    q.issue("later", &variant(3), off24("2025-07-14"), None, &mut NoRng)
        .unwrap();
    assert_eq!(q.get("later").unwrap().deadline, Some(d("2025-07-15")));
}

#[test]
fn status_transitions() {
    let mut q = OfflineQueue::new(Environment::Test);
    q.issue("A", &sample(), off24("2026-02-15"), None, &mut NoRng)
        .unwrap();
    let e = q.mark_accepted("A", "K").unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineState);
    assert_eq!(
        q.mark_sent("X", "r").unwrap_err().code(),
        ErrorCode::OfflineUnknownInvoice
    );
    q.mark_sent("A", "r1").unwrap();
    assert_eq!(
        q.mark_sent("A", "r2").unwrap_err().code(),
        ErrorCode::OfflineState
    );
    q.mark_processing("A").unwrap();
    q.mark_accepted("A", "K1").unwrap();
    q.mark_accepted("A", "K1").unwrap(); // the same answer twice is fine
    assert_eq!(
        q.mark_accepted("A", "K2").unwrap_err().code(),
        ErrorCode::OfflineState
    );
    assert_eq!(q.get("A").unwrap().ksef_number(), Some("K1"));
    assert_eq!(
        q.mark_rejected("A", 450, "x").unwrap_err().code(),
        ErrorCode::OfflineState
    );
}

#[test]
fn technical_correction_of_a_rejected_invoice() {
    let mut q = OfflineQueue::new(Environment::Test);
    let xml = sample();
    q.issue("A", &xml, off24("2026-02-15"), None, &mut NoRng)
        .unwrap();
    assert_eq!(
        q.technical_correction("A", "A-fix", &variant(1))
            .unwrap_err()
            .code(),
        ErrorCode::OfflineInvalid,
        "only a rejected invoice takes a correction"
    );
    q.mark_sent("A", "r").unwrap();
    q.mark_rejected("A", 450, "Błąd weryfikacji semantyki dokumentu")
        .unwrap();
    let fix = q.technical_correction("A", "A-fix", &variant(1)).unwrap();
    assert_eq!(fix.corrects.as_deref(), Some("A"));
    assert_eq!(fix.kod1_url, KOD1_SAMPLE, "the printed KOD I stays");
    assert_eq!(fix.deadline, Some(d("2026-02-16")));
    assert_eq!(q.corrected_hash("A-fix"), Some(sha256(&xml)));
    assert_eq!(q.corrected_hash("A"), None);
    assert_eq!(q.get("A").unwrap().corrected_by.as_deref(), Some("A-fix"));
    // One correction per invoice, and the original is not retried once corrected.
    assert_eq!(
        q.technical_correction("A", "A-fix2", &variant(2))
            .unwrap_err()
            .code(),
        ErrorCode::OfflineInvalid
    );
    assert_eq!(q.retry("A").unwrap_err().code(), ErrorCode::OfflineState);
    let order: Vec<&str> = q.due_order().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(order, ["A-fix"]);
}

#[test]
fn retry_after_a_failed_send() {
    let mut q = OfflineQueue::new(Environment::Test);
    q.issue("A", &sample(), off24("2026-02-15"), None, &mut NoRng)
        .unwrap();
    q.mark_rejected("A", 0, "connection reset").unwrap();
    assert!(q.due_order().is_empty());
    q.retry("A").unwrap();
    assert_eq!(q.due_order().len(), 1);
    assert_eq!(q.retry("A").unwrap_err().code(), ErrorCode::OfflineState);
}

fn busy_queue() -> OfflineQueue {
    let key = key();
    let signer = Kod2Signer {
        context_type: ContextType::Nip,
        context_value: "9999999999",
        certificate_serial: "01F20A5D352AE590",
        key: &key,
    };
    let mut q = OfflineQueue::new(Environment::Demo);
    q.announce_failure(Failure {
        announced: d("2026-02-16"),
        ended: d("2026-02-18"),
    });
    q.issue(
        "A",
        &sample(),
        off24("2026-02-15"),
        Some(&signer),
        &mut NoRng,
    )
    .unwrap();
    q.issue("B", &variant(1), Mode::TotalFailure, None, &mut NoRng)
        .unwrap();
    q.issue(
        "C",
        &variant(2),
        Mode::Unavailability {
            ended: d("2026-02-20"),
        },
        None,
        &mut NoRng,
    )
    .unwrap();
    q.mark_sent("A", "ref-A").unwrap();
    q.mark_processing("A").unwrap();
    q.mark_sent("B", "ref-B").unwrap();
    q.mark_rejected("B", 440, "Duplikat faktury").unwrap();
    q.technical_correction("B", "B-fix", &variant(3)).unwrap();
    q
}

#[test]
fn snapshots_round_trip() {
    let q = busy_queue();
    let cbor = q.snapshot_cbor();
    assert_eq!(OfflineQueue::restore_cbor(&cbor).unwrap(), q);
    let json = q.snapshot_json();
    assert_eq!(OfflineQueue::restore_json(&json).unwrap(), q);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["env"], "demo");
    assert_eq!(v["invoices"][0]["deadline"], "2026-02-27");
    assert_eq!(v["invoices"][0]["mode"]["mode"], "offline24");
    assert_eq!(v["invoices"][0]["status"]["status"], "processing");
    assert_eq!(v["invoices"][1]["deadline"], serde_json::Value::Null);
    assert_eq!(v["invoices"][3]["corrects"], "B");
    assert!(cbor.len() < json.len());
}

#[test]
fn bad_snapshots_are_refused() {
    let q = busy_queue();
    for bad in [
        &b""[..],
        b"\xa0",
        &q.snapshot_cbor()[..q.snapshot_cbor().len() - 3],
    ] {
        let e = OfflineQueue::restore_cbor(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OfflineSnapshotInvalid);
    }
    let json = q.snapshot_json();
    // Bytes that no longer match their hash.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["invoices"][0]["xml"] = "AAAA".into();
    let e = OfflineQueue::restore_json(&v.to_string()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineSnapshotInvalid);
    assert_eq!(e.path(), "invoices[0].hash");
    // Another version, an unknown field, an unknown environment.
    let e =
        OfflineQueue::restore_json(&json.replace("\"version\":1", "\"version\":9")).unwrap_err();
    assert_eq!(e.path(), "version");
    let e =
        OfflineQueue::restore_json(&json.replace("\"env\":\"demo\"", "\"env\":\"x\"")).unwrap_err();
    assert_eq!(e.path(), "env");
    let e = OfflineQueue::restore_json(&json.replacen("{\"version\"", "{\"x\":1,\"version\"", 1))
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::OfflineSnapshotInvalid);
}
