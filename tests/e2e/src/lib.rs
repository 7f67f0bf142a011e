//! Helpers shared by the end-to-end tests in `tests/`: a simulator, a recording ureq
//! transport (exchanges land in `target/openapi-out/<group>` for `make openapi-check`), a
//! client, and invoices made from the official sample.

use std::path::{Path, PathBuf};

use ksef::crypto::cert::Certificate;
use ksef::crypto::keys::PrivateKey;
use ksef::http::{Request, Response, Transport, TransportError};
use ksef::id::Nip;
use ksef::protocol::{
    run, Client, Config, Credentials, Event, FormCode, OnlineResult, OnlineSend, OpId, Output,
    SystemClock,
};
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

/// A transport for paired mode: KSeF exchanges (under the sim's `/v2`) are recorded for the
/// OpenAPI check like [`transport`]'s; Fakturownia and NBP exchanges go out unrecorded (they
/// are not KSeF's API, and Fakturownia's `api_token` travels in the body).
pub struct PairedTransport {
    ksef_base: String,
    recorded: Recorder<UreqTransport>,
    plain: UreqTransport,
    /// Requests sent outside KSeF (Fakturownia, NBP), in order: method and URL without query.
    pub other: Vec<String>,
}

impl Transport for PairedTransport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        if request.url.starts_with(&self.ksef_base) {
            return self.recorded.send(request);
        }
        let url = request.url.split('?').next().unwrap_or_default();
        self.other.push(format!("{} {url}", request.method));
        self.plain.send(request)
    }
}

/// A [`PairedTransport`] recording KSeF traffic into `target/openapi-out/<group>`.
pub fn paired_transport(sim: &SimHandle, group: &str) -> PairedTransport {
    PairedTransport {
        ksef_base: sim.base_url(),
        recorded: transport(sim, group),
        plain: UreqTransport::builder()
            .no_proxy()
            .build()
            .expect("transport"),
        other: Vec::new(),
    }
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

/// Runs `op` to completion over `t`, returning its result (for expected failures).
pub fn try_op(client: &mut Client, op: OpId, t: &mut dyn Transport) -> Result<Output, ksef::Error> {
    run(client, op, t, &mut SystemClock, |_: &Event| {})
}

/// The folder of the simulator's fixtures (test client certificates and keys).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sim/fixtures")
}

/// A test client certificate and its key from `sim/fixtures` (`"ec"` or `"rsa"`).
pub fn fixture_cert(kind: &str) -> (PrivateKey, Certificate) {
    let read = |what: &str| {
        std::fs::read_to_string(fixtures_dir().join(format!("test-{kind}-{what}.pem")))
            .expect("fixture")
    };
    let key = PrivateKey::from_pem(&read("key")).expect("key");
    let cert = Certificate::from_pem(&read("cert")).expect("cert");
    (key, cert)
}

/// A client authenticating with XAdES by the test certificate `kind` (`"ec"`, `"rsa"`).
pub fn cert_client(sim: &SimHandle, kind: &str, seed: u8) -> Client {
    let (key, cert) = fixture_cert(kind);
    Client::new(config(sim), Credentials::certificate(key, cert), [seed; 32])
}

/// The online result of `op`, or a panic naming what came instead.
pub fn online(client: &mut Client, op: OpId, t: &mut dyn Transport) -> OnlineResult {
    let mut events = Vec::new();
    match run_op(client, op, t, &mut events) {
        Output::Online(r) => r,
        other => panic!("not an online result: {other:?}"),
    }
}

/// Sends `invoices` (FA(3)) in one online session and returns the result.
pub fn send_online(
    client: &mut Client,
    t: &mut dyn Transport,
    invoices: Vec<Vec<u8>>,
) -> OnlineResult {
    let op = client.send_online(OnlineSend::new(FormCode::Fa3, invoices));
    online(client, op, t)
}

/// A scratch directory for one test (emptied first).
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/e2e-tmp")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}
