//! Client-side CPU per invoice of an online send: prepare (encrypt, hash, base64, JSON body),
//! build the request, handle the response — the client's own work only. The server side (a
//! scripted KSeF that really decrypts every invoice) runs outside the timed sections.
//!
//! `cargo bench -p ksef --bench online` (figures in docs/BENCHMARKS.md).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "../tests/fake_ksef/mod.rs"]
mod fake_ksef;

use fake_ksef::{invoice, Fake, T0, TOKEN};
use ksef::id::Nip;
use ksef::protocol::{Client, Config, Credentials, FormCode, OnlineSend};

const PER_SESSION: usize = 200;

/// Runs one session of `PER_SESSION` invoices; returns the time spent inside the client.
fn session(seed: u8, invoices: &[Vec<u8>]) -> Duration {
    let mut fake = Fake::new();
    let nip = Nip::parse("9999999999").expect("NIP");
    let cfg = Config::with_base_url("http://fake/v2", nip).polling(500, 60_000);
    let mut client = Client::new(cfg, Credentials::ksef_token(TOKEN), [seed; 32]);
    client.send_online(OnlineSend::new(FormCode::Fa3, invoices.to_vec()).fetch_upo(false));
    let mut now = T0;
    let mut inside = Duration::ZERO;
    loop {
        let t = Instant::now();
        let tx = client.poll_transmit(now);
        inside += t.elapsed();
        if let Some(tx) = tx {
            now += 1;
            let r = fake.handle(now, &tx.request);
            let t = Instant::now();
            client.handle_response(now, tx.id, r);
            while client.poll_event().is_some() {}
            inside += t.elapsed();
            continue;
        }
        match client.poll_timeout() {
            Some(at) => now = now.max(at),
            None => break,
        }
    }
    assert_eq!(fake.held.len(), invoices.len());
    inside
}

fn bench(c: &mut Criterion) {
    let invoices: Vec<Vec<u8>> = (0..PER_SESSION).map(invoice).collect();
    let mut g = c.benchmark_group("online");
    g.throughput(Throughput::Elements(PER_SESSION as u64));
    g.sample_size(10);
    g.bench_function("client_cpu_per_session_of_200_sample01", |b| {
        b.iter_custom(|iters| (0..iters).map(|i| session(i as u8, &invoices)).sum())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
