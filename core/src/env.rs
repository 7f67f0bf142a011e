//! The public KSeF environments and their addresses (`srodowiska.md`, `kody-qr.md`).
//!
//! | environment | API base | QR host |
//! |-------------|----------|---------|
//! | [`Environment::Test`] (TE, release candidate) | `https://api-test.ksef.mf.gov.pl/v2` | `qr-test.ksef.mf.gov.pl` |
//! | [`Environment::Demo`] (TR, pre-production) | `https://api-demo.ksef.mf.gov.pl/v2` | `qr-demo.ksef.mf.gov.pl` |
//! | [`Environment::Production`] (PRD) | `https://api.ksef.mf.gov.pl/v2` | `qr.ksef.mf.gov.pl` |
//!
//! ```
//! use ksef::Environment;
//!
//! let env: Environment = "prod".parse()?;
//! assert_eq!(env, Environment::Production);
//! assert_eq!(env.api_base_url(), "https://api.ksef.mf.gov.pl/v2");
//! assert_eq!(env.qr_base_url(), "https://qr.ksef.mf.gov.pl");
//! # Ok::<(), ksef::Error>(())
//! ```

use core::fmt;
use core::str::FromStr;

use crate::error::{Error, ErrorCode};

/// A public KSeF environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Environment {
    /// TEST (TE, "release candidate"): integration tests, self-signed certificates allowed,
    /// data shared between integrators. Accepts FA(2) and FA(3).
    Test,
    /// DEMO (TR, pre-production): production configuration and limits, test data.
    Demo,
    /// Production (PRD): invoices with full legal effect.
    Production,
}

impl Environment {
    /// Every environment, in the order TEST, DEMO, PRD.
    pub const ALL: [Environment; 3] = [
        Environment::Test,
        Environment::Demo,
        Environment::Production,
    ];

    /// The short name used on the command line: `test`, `demo`, `prod`.
    pub const fn name(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Demo => "demo",
            Environment::Production => "prod",
        }
    }

    /// The official environment whose API base URL this is (a trailing `/` is ignored);
    /// `None` for any other URL (a simulator, a proxy).
    pub fn of_api_base_url(url: &str) -> Option<Environment> {
        let url = url.trim_end_matches('/');
        Environment::ALL
            .into_iter()
            .find(|e| e.api_base_url() == url)
    }

    /// The base URL of the REST API (API 2.0), without a trailing `/`; every endpoint path is
    /// relative to it (`{base}/auth/challenge`).
    pub const fn api_base_url(self) -> &'static str {
        match self {
            Environment::Test => "https://api-test.ksef.mf.gov.pl/v2",
            Environment::Demo => "https://api-demo.ksef.mf.gov.pl/v2",
            Environment::Production => "https://api.ksef.mf.gov.pl/v2",
        }
    }

    /// The host name of the QR verification pages (KOD I and KOD II links).
    pub const fn qr_host(self) -> &'static str {
        match self {
            Environment::Test => "qr-test.ksef.mf.gov.pl",
            Environment::Demo => "qr-demo.ksef.mf.gov.pl",
            Environment::Production => "qr.ksef.mf.gov.pl",
        }
    }

    /// `https://` and the QR host, without a trailing `/`.
    pub const fn qr_base_url(self) -> &'static str {
        match self {
            Environment::Test => "https://qr-test.ksef.mf.gov.pl",
            Environment::Demo => "https://qr-demo.ksef.mf.gov.pl",
            Environment::Production => "https://qr.ksef.mf.gov.pl",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Accepts `test`/`te`, `demo`/`tr`/`preprod`, `prod`/`production`/`prd` (any case).
impl FromStr for Environment {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(s));
        if is(&["test", "te"]) {
            Ok(Environment::Test)
        } else if is(&["demo", "tr", "preprod"]) {
            Ok(Environment::Demo)
        } else if is(&["prod", "production", "prd"]) {
            Ok(Environment::Production)
        } else {
            Err(Error::new(
                ErrorCode::InvalidValue,
                "",
                alloc::format!("unknown KSeF environment {s:?} (expected test, demo or prod)"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Environment::ALL {
            assert_eq!(e.name().parse::<Environment>().unwrap(), e);
            assert_eq!(e.qr_base_url().strip_prefix("https://"), Some(e.qr_host()));
            assert!(e.api_base_url().ends_with(".ksef.mf.gov.pl/v2"));
        }
        assert_eq!(
            "PRD".parse::<Environment>().unwrap(),
            Environment::Production
        );
        assert!("staging".parse::<Environment>().is_err());
    }
}
