//! The KSeF client: `ksef_client` (settings JSON in), with the built-in transport (ureq +
//! rustls) or driven by the host (sans-IO).
//!
//! A client may move between threads but must not be used from two threads at once.

use std::time::Duration;

use ksef::protocol::{run, Client, ClientSettings, OpId, Output, SystemClock};
use ksef::transport::UreqTransport;
use ksef::Error;
use rand_core::{OsRng, RngCore};

use crate::common::{free, give, guard, ksef_result, out, text};

/// A KSeF client (one context, one set of credentials) with its built-in HTTP transport.
pub struct ksef_client {
    /// The sans-IO protocol client.
    pub(crate) client: Client,
    /// The built-in transport (ureq + rustls).
    pub(crate) transport: UreqTransport,
}

impl ksef_client {
    /// Runs an operation started by `start` to completion over the built-in transport.
    pub(crate) fn run(&mut self, start: impl FnOnce(&mut Client) -> OpId) -> Result<Output, Error> {
        let op = start(&mut self.client);
        run(
            &mut self.client,
            op,
            &mut self.transport,
            &mut SystemClock,
            |_| {},
        )
    }
}

/// 32 bytes from the OS for the client's CSPRNG.
pub(crate) fn os_seed() -> Result<[u8; 32], Error> {
    let mut seed = [0u8; 32];
    OsRng.try_fill_bytes(&mut seed).map_err(|e| {
        Error::new(
            ksef::ErrorCode::Transport,
            "",
            format!("cannot read OS randomness: {e}"),
        )
    })?;
    Ok(seed)
}

/// Makes a client from settings JSON (see `ksef::protocol::settings`: `environment` or
/// `base_url`; `nip` or `context`; `ksef_token` or `certificate_pem` + `private_key_pem`;
/// optional `poll_interval_ms`, `max_wait_ms`, `timeout_ms`, `no_proxy`) into
/// `*client_out`. Nothing is sent yet. Errors name the key (`KSEF_ERR_INVALID_VALUE`,
/// `KSEF_ERR_JSON_SYNTAX`, `KSEF_ERR_CRYPTO_KEY`, `KSEF_ERR_CERTIFICATE`); the token and key
/// never appear in them. Free with `ksef_client_free`. Thread-safe.
///
/// # Safety
/// `settings_json` points to `settings_len` readable bytes; `client_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_new(
    settings_json: *const std::ffi::c_char,
    settings_len: usize,
    client_out: *mut *mut ksef_client,
) -> ksef_result {
    guard(|| {
        let o = out(client_out, "client_out")?;
        // SAFETY: documented contract.
        let json = unsafe { text(settings_json, settings_len, "settings_json") }?;
        let s = ClientSettings::from_json(json)?;
        let mut b = UreqTransport::builder();
        if let Some(ms) = s.timeout_ms {
            b = b
                .timeout(Duration::from_millis(ms))
                .connect_timeout(Duration::from_millis(ms.min(10_000)));
        }
        if s.no_proxy {
            b = b.no_proxy();
        }
        let transport = b.build()?;
        let client = Client::new(s.config, s.credentials, os_seed()?);
        give(o, ksef_client { client, transport });
        Ok(())
    })
}

/// Frees a client; NULL is accepted. Does not end the KSeF session (see
/// `ksef_client_logout`).
///
/// # Safety
/// `client` is NULL or a live client, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_client_free(client: *mut ksef_client) {
    // SAFETY: forwarded contract.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { free(client) }));
}
