//! `ksef sim`: run the loopback KSeF 2.0 simulator (`ksef-sim`) until killed.

use std::io::Write;

use ksef_sim::{RateLimits, Sim, SimConfig};

use crate::{args, usage, Fail};

/// Runs `ksef sim` when `cmd` is `sim`; `None` for other commands.
pub fn run(cmd: &str, args: &[String]) -> Option<Result<(), Fail>> {
    (cmd == "sim").then(|| sim(args))
}

fn sim(args: &[String]) -> Result<(), Fail> {
    let a = args::split(args, &["--port", "--env", "--limits"])?;
    if let Some(f) = a.files.first() {
        return Err(usage(&format!("ksef sim takes no files (got {f})")));
    }
    let mut cfg = SimConfig::default();
    for (name, v) in a.options {
        match name.as_str() {
            "--port" => {
                cfg = cfg.with_port(
                    v.parse()
                        .map_err(|_| usage(&format!("--port {v}: not a port number")))?,
                )
            }
            "--env" => {
                cfg = cfg.with_environment(v.parse().map_err(|e: ksef::Error| usage(e.message()))?)
            }
            _ => {
                cfg = cfg.with_rate_limits(match v.as_str() {
                    "generous" => RateLimits::default(),
                    "strict" => RateLimits::strict(),
                    "none" => RateLimits::none(),
                    _ => {
                        return Err(usage(&format!(
                            "--limits {v}: expected generous, strict or none"
                        )))
                    }
                })
            }
        }
    }
    // A long-running server keeps no request log (it would only grow).
    cfg.log_requests = false;
    let handle =
        Sim::start(cfg).map_err(|e| Fail(format!("cannot start the simulator: {e}"), 2))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", handle.base_url())
        .and_then(|()| out.flush())
        .map_err(|e| Fail(format!("cannot write output: {e}"), 2))?;
    drop(out);
    // Serve until the process is killed (Ctrl-C / SIGTERM end it; nothing to flush).
    loop {
        std::thread::park();
    }
}
