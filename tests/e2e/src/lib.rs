//! Helpers shared by the end-to-end tests in `tests/`: a simulator, a recording ureq
//! transport (exchanges land in `target/openapi-out/<group>` for `make openapi-check`), a
//! client, and invoices made from the official sample.

use std::path::{Path, PathBuf};

use ksef::http::Transport;
use ksef::id::Nip;
use ksef::protocol::{run, Client, Config, Credentials, Event, OpId, Output, SystemClock};
use ksef::retry::RetryPolicy;
use ksef::transport::{Recorder, UreqTransport};
pub use ksef_sim::{Sim, SimConfig, SimHandle};

/// The seller NIP of the official samples.
pub const NIP: &str = "9999999999";

/// The shared spec folder.
pub fn spec_dir() -> PathBuf {
    std::env::var("KSEF_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ksef-spec"))
}

/// Sample 01 (FA(3)) with invoice number `FV/<tag>/<n>`.
pub fn invoice(tag: &str, n: usize) -> Vec<u8> {
    let xml = std::fs::read_to_string(spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml"))
        .expect("sample 01");
    xml.replace(
        "<P_2>FV2026/02/150</P_2>",
        &format!("<P_2>FV/{tag}/{n:05}</P_2>"),
    )
    .into_bytes()
}

/// A transport that records every exchange for the OpenAPI conformance check.
pub fn transport(sim: &SimHandle, group: &str) -> Recorder<UreqTransport> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/openapi-out")
        .join(group);
    let inner = UreqTransport::builder()
        .no_proxy()
        .build()
        .expect("transport");
    Recorder::new(inner, dir, &sim.base_url())
}

/// A client configuration for the simulator: short polls, quick retries.
pub fn config(sim: &SimHandle) -> Config {
    Config::with_base_url(sim.base_url(), Nip::parse(NIP).expect("NIP"))
        .retry(RetryPolicy::new(8, 50, 1_000, 120_000))
        .polling(50, 60_000)
}

/// A token-authenticated client.
pub fn token_client(sim: &SimHandle, seed: u8) -> Client {
    Client::new(
        config(sim),
        Credentials::ksef_token("test-token-any"),
        [seed; 32],
    )
}

/// Runs `op` to completion over `t`, collecting the events.
pub fn run_op(
    client: &mut Client,
    op: OpId,
    t: &mut dyn Transport,
    events: &mut Vec<String>,
) -> Output {
    match run(client, op, t, &mut SystemClock, |e: &Event| {
        events.push(format!("{e:?}"))
    }) {
        Ok(o) => o,
        Err(e) => panic!("operation failed: {e:?}\nevents: {events:#?}"),
    }
}
