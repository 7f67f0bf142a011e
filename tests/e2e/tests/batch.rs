//! A batch of 1,000 invoices in several parts (memory and files), over loopback HTTP: every
//! invoice accepted, each KSeF number valid and mapped back to its input position, the
//! session UPO read.

use std::collections::HashMap;

use ksef::crypto::session::SessionKey;
use ksef::id::KsefNumber;
use ksef::protocol::batch::{prepare_batch, BatchOptions, FileParts, MemoryParts, PartSource};
use ksef::protocol::upo::Upo;
use ksef::protocol::{BatchResult, BatchSend, FormCode, Output};
use ksef_e2e::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

const N: usize = 1_000;

fn invoices(tag: &str) -> Vec<(String, Vec<u8>)> {
    (0..N)
        .map(|n| (format!("{tag}-{n:05}.xml"), invoice(tag, n)))
        .collect()
}

fn options() -> BatchOptions {
    // ~4 KB per invoice, stored: 1,000 invoices make ~4 MB; 1 MB parts → 4-5 parts.
    BatchOptions {
        max_part_size: 1_000_000,
        ..BatchOptions::default()
    }
}

fn send(sim: &SimHandle, group: &str, send: BatchSend, seed: u8) -> BatchResult {
    let mut t = transport(sim, group);
    let mut c = token_client(sim, seed);
    let op = c.send_batch(send);
    let mut events = Vec::new();
    match run_op(&mut c, op, &mut t, &mut events) {
        Output::Batch(r) => r,
        other => panic!("not a batch result: {other:?}"),
    }
}

fn check(sim: &SimHandle, tag: &str, r: &BatchResult, input: &[(String, Vec<u8>)]) {
    assert_eq!(r.invoices.len(), N);
    assert_eq!(
        r.accepted(),
        N,
        "{:?}",
        r.invoices.iter().find(|i| !i.is_accepted())
    );
    // What the simulator holds for this session, by KSeF number.
    let held: HashMap<String, _> = sim
        .accepted_invoices()
        .into_iter()
        .filter(|a| a.session_reference_number == r.session)
        .map(|a| (a.ksef_number.clone(), a))
        .collect();
    assert_eq!(held.len(), N, "every invoice accepted exactly once");
    for (i, out) in r.invoices.iter().enumerate() {
        assert_eq!(out.index, i);
        let num = out.ksef_number.as_deref().expect("KSeF number");
        let parsed = KsefNumber::parse(num).expect("a valid KSeF number (CRC-8)");
        assert_eq!(parsed.seller_nip(), NIP);
        let a = held.get(num).expect("the sim holds this KSeF number");
        assert_eq!(
            a.invoice_number,
            format!("FV/{tag}/{i:05}"),
            "mapped to input {i}"
        );
        let hash = ksef::crypto::hash::sha256(&input[i].1).to_base64();
        assert_eq!(a.invoice_hash, hash);
    }
    assert!(!r.session_upo.is_empty(), "session UPO fetched");
    let mut documents = 0;
    for page in &r.session_upo {
        let upo = Upo::parse(page).expect("session UPO reads as UPO v4-3");
        documents += upo.documents.len();
    }
    assert_eq!(documents, N, "the session UPO names every invoice");
    let upos: Vec<Upo> = r
        .session_upo
        .iter()
        .map(|p| Upo::parse(p).unwrap())
        .collect();
    for out in &r.invoices {
        let n = KsefNumber::parse(out.ksef_number.as_deref().unwrap()).unwrap();
        assert!(
            upos.iter().any(|u| u.document(&n).is_some()),
            "UPO names {n:?}"
        );
    }
}

#[test]
fn batch_of_1000_in_memory_parts() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut rng = ChaCha20Rng::from_seed([11; 32]);
    let key = SessionKey::generate(&mut rng);
    let input = invoices("BM");
    let mut parts = MemoryParts::default();
    let prepared = prepare_batch(
        input.iter().map(|(n, x)| (n.as_str(), x.as_slice())),
        &key,
        &options(),
        &mut parts,
    )
    .expect("prepared");
    assert!(prepared.parts.len() >= 3, "{} parts", prepared.parts.len());
    assert_eq!(parts.parts.len(), prepared.parts.len());
    let r = send(
        &sim,
        "batch-memory",
        BatchSend::new(FormCode::Fa3, prepared, key, Box::new(parts)),
        2,
    );
    check(&sim, "BM", &r, &input);
}

#[test]
fn batch_of_1000_in_file_parts() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut rng = ChaCha20Rng::from_seed([12; 32]);
    let key = SessionKey::generate(&mut rng);
    let input = invoices("BF");
    let dir = scratch("batch-files");
    let mut parts = FileParts::new(&dir).expect("dir");
    let prepared = prepare_batch(
        input.iter().map(|(n, x)| (n.as_str(), x.as_slice())),
        &key,
        &options(),
        &mut parts,
    )
    .expect("prepared");
    assert!(prepared.parts.len() >= 3, "{} parts", prepared.parts.len());
    assert_eq!(parts.paths().len(), prepared.parts.len());
    for p in &prepared.parts {
        let bytes = parts.part(p.ordinal).expect("part file");
        assert_eq!(bytes.len() as u64, p.size);
    }
    let r = send(
        &sim,
        "batch-files",
        BatchSend::new(FormCode::Fa3, prepared, key, Box::new(parts)),
        3,
    );
    check(&sim, "BF", &r, &input);
}

/// Faults during a batch: part uploads refused and dropped (PUT is repeated), the open
/// answer lost after processing, and the status polls failing for longer than one call's
/// retry budget (the operation keeps polling instead of giving up on the whole batch).
#[test]
fn batch_survives_upload_faults_and_a_long_status_outage() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    sim.faults().fail_next("PUT /upload/*", 2, 503);
    sim.faults().drop_next("PUT /upload/*", 1);
    sim.faults().fail_next("GET /sessions/{ref}", 12, 503);
    let mut rng = ChaCha20Rng::from_seed([13; 32]);
    let key = SessionKey::generate(&mut rng);
    let input: Vec<(String, Vec<u8>)> = (0..50)
        .map(|n| (format!("BS-{n:05}.xml"), invoice("BS", n)))
        .collect();
    let mut parts = MemoryParts::default();
    let prepared = prepare_batch(
        input.iter().map(|(n, x)| (n.as_str(), x.as_slice())),
        &key,
        &BatchOptions {
            max_part_size: 60_000,
            ..BatchOptions::default()
        },
        &mut parts,
    )
    .expect("prepared");
    assert!(prepared.parts.len() >= 3);
    let r = send(
        &sim,
        "batch-storm",
        BatchSend::new(FormCode::Fa3, prepared, key, Box::new(parts)),
        4,
    );
    assert_eq!(
        r.accepted(),
        50,
        "{:?}",
        r.invoices.iter().find(|i| !i.is_accepted())
    );
    let held = sim
        .accepted_invoices()
        .into_iter()
        .filter(|a| a.session_reference_number == r.session)
        .count();
    assert_eq!(held, 50);
    let log = sim.request_log();
    let refused_uploads = log
        .iter()
        .filter(|l| l.method == "PUT" && l.path.starts_with("/upload") && l.status == 503)
        .count();
    assert_eq!(refused_uploads, 2, "the injected upload failures happened");
    let failed_polls = log
        .iter()
        .filter(|l| l.method == "GET" && l.path.starts_with("/v2/sessions/") && l.status == 503)
        .count();
    assert!(failed_polls >= 12, "{failed_polls} failed status polls");
}
