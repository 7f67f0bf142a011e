//! Running a [`Client`] to completion over a [`Transport`]: the loop hosts write by hand
//! when they pump the machine themselves (PHP with Guzzle, Node with fetch).

use crate::error::{Error, ErrorCode};
use crate::http::Transport;

use super::client::{Client, Event, OpId};
use super::ops::Output;

/// Time for [`drive`]: the current instant and a way to wait.
pub trait Clock {
    /// Unix milliseconds now.
    fn now_ms(&mut self) -> u64;
    /// Waits until `at_ms` (Unix milliseconds); returning early is allowed.
    fn sleep_until(&mut self, at_ms: u64);
}

/// The system clock (`std` only): `SystemTime` and `thread::sleep`.
#[cfg(feature = "std")]
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl Clock for SystemClock {
    fn now_ms(&mut self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn sleep_until(&mut self, at_ms: u64) {
        let now = self.now_ms();
        if at_ms > now {
            std::thread::sleep(std::time::Duration::from_millis(at_ms - now));
        }
    }
}

/// Pumps `client` until it is idle: sends each request through `transport`, waits through
/// `clock`, and hands every event to `on_event` (`Finished` events included).
pub fn drive<T, C, F>(client: &mut Client, transport: &mut T, clock: &mut C, mut on_event: F)
where
    T: Transport + ?Sized,
    C: Clock + ?Sized,
    F: FnMut(Event),
{
    loop {
        while let Some(e) = client.poll_event() {
            on_event(e);
        }
        let now = clock.now_ms();
        if let Some(tx) = client.poll_transmit(now) {
            let result = transport.send(&tx.request);
            let now = clock.now_ms();
            client.handle_response(now, tx.id, result);
            continue;
        }
        match client.poll_timeout() {
            Some(at) => clock.sleep_until(at),
            None => {
                if client.is_idle() {
                    while let Some(e) = client.poll_event() {
                        on_event(e);
                    }
                    return;
                }
                // Waiting for a response that was never fed back: nothing else can happen.
                return;
            }
        }
    }
}

/// Pumps `client` until operation `op` finishes and returns its output; other events go
/// to `on_event`. Other queued operations run too if they come first.
pub fn run<T, C, F>(
    client: &mut Client,
    op: OpId,
    transport: &mut T,
    clock: &mut C,
    mut on_event: F,
) -> Result<Output, Error>
where
    T: Transport + ?Sized,
    C: Clock + ?Sized,
    F: FnMut(&Event),
{
    let mut result = None;
    drive(client, transport, clock, |e| {
        if let Event::Finished { op: id, result: r } = e {
            if id == op {
                result = Some(r);
                return;
            }
            on_event(&Event::Finished { op: id, result: r });
        } else {
            on_event(&e);
        }
    });
    result.unwrap_or_else(|| {
        Err(Error::new(
            ErrorCode::Cancelled,
            "",
            "the operation did not finish (no such operation, or a response was not fed back)",
        ))
    })
}
