//! A client's settings as one JSON object — the form every binding (C, PHP, Python, Node)
//! takes, parsed strictly here so that no binding parses it again.
//!
//! ```json
//! {
//!   "environment": "test",                 // or "base_url": "http://127.0.0.1:8080/v2"
//!   "nip": "5265877635",                   // or "context": {"type": "InternalId", "value": "..."}
//!   "ksef_token": "...",                   // or "certificate_pem" + "private_key_pem"
//!   "poll_interval_ms": 1000,              // optional: pause between status polls
//!   "max_wait_ms": 600000,                 // optional: longest wait for processing / UPO
//!   "timeout_ms": 60000,                   // optional: longest HTTP exchange (built-in transport)
//!   "no_proxy": false                      // optional: ignore proxies from the environment
//! }
//! ```
//!
//! Unknown keys, missing or conflicting ones are `InvalidValue` errors naming the key. The
//! token and key never appear in an error or `Debug` output.

use alloc::format;
use alloc::string::{String, ToString};

use crate::crypto::{Certificate, PrivateKey};
use crate::error::{Error, ErrorCode};
use crate::id::Nip;
use crate::paired::reader::{self, Obj};
use crate::xades::ContextIdentifier;
use crate::Environment;

use super::{Config, Credentials};

/// Parsed client settings.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientSettings {
    /// The client configuration (base URL, context, polling).
    pub config: Config,
    /// How to authenticate (secrets redacted in `Debug`).
    pub credentials: Credentials,
    /// Longest HTTP exchange in milliseconds, for the built-in transport (`None`: its
    /// default).
    pub timeout_ms: Option<u64>,
    /// Ignore proxies from the environment (set automatically for loopback base URLs).
    pub no_proxy: bool,
}

const CODE: ErrorCode = ErrorCode::InvalidValue;

impl ClientSettings {
    /// Reads settings from JSON text.
    pub fn from_json(json: &str) -> Result<ClientSettings, Error> {
        let v = reader::parse(json, "client settings")?;
        Self::from_value(&v)
    }

    /// Reads settings from a parsed JSON value.
    pub fn from_value(v: &serde_json::Value) -> Result<ClientSettings, Error> {
        let mut o = Obj::new(v, "", CODE)?;
        let env = o.opt_string("environment")?;
        let base = o.opt_string("base_url")?;
        let base_url = match (env, base) {
            (Some(e), None) => {
                let env: Environment = e.parse().map_err(|err: Error| {
                    Error::new(CODE, "environment", err.message().to_string())
                })?;
                String::from(env.api_base_url())
            }
            (None, Some(u)) => {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(Error::new(
                        CODE,
                        "base_url",
                        "expected an http:// or https:// URL",
                    ));
                }
                String::from(u.trim_end_matches('/'))
            }
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    CODE,
                    "base_url",
                    "give either environment or base_url, not both",
                ))
            }
            (None, None) => {
                return Err(Error::new(
                    CODE,
                    "environment",
                    "where to connect is required: environment (test|demo|prod) or base_url",
                ))
            }
        };
        let nip = o.opt_string("nip")?;
        let ctx = o.opt_obj("context")?;
        let context = match (nip, ctx) {
            (Some(n), None) => {
                ContextIdentifier::from(Nip::parse(&n).map_err(|e| Error::from(e).at("nip"))?)
            }
            (None, Some(mut c)) => {
                let kind = c.string("type")?;
                let value = c.string("value")?;
                c.finish()?;
                ContextIdentifier::parse(&kind, &value)
                    .map_err(|e| Error::new(CODE, "context", e.message().to_string()))?
            }
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    CODE,
                    "context",
                    "give either nip or context, not both",
                ))
            }
            (None, None) => {
                return Err(Error::new(
                    CODE,
                    "nip",
                    "the context is required: nip or context {type, value}",
                ))
            }
        };
        // Secrets: never echoed; errors name the key only.
        let token = o.opt_string("ksef_token")?;
        let cert = o.opt_string("certificate_pem")?;
        let key = o.opt_string("private_key_pem")?;
        let credentials =
            match (token, cert, key) {
                (Some(t), None, None) => {
                    if t.trim().is_empty() {
                        return Err(Error::new(CODE, "ksef_token", "is empty"));
                    }
                    Credentials::ksef_token(String::from(t.trim()))
                }
                (None, Some(c), Some(k)) => {
                    let key = PrivateKey::from_pem_or_der(k.as_bytes()).map_err(|e| {
                        Error::new(e.code(), "private_key_pem", e.message().to_string())
                    })?;
                    let cert = Certificate::from_pem_or_der(c.as_bytes()).map_err(|e| {
                        Error::new(e.code(), "certificate_pem", e.message().to_string())
                    })?;
                    Credentials::certificate(key, cert)
                }
                (None, Some(_), None) => {
                    return Err(Error::new(
                        CODE,
                        "private_key_pem",
                        "certificate_pem needs private_key_pem",
                    ))
                }
                (None, None, Some(_)) => {
                    return Err(Error::new(
                        CODE,
                        "certificate_pem",
                        "private_key_pem needs certificate_pem",
                    ))
                }
                (None, None, None) => return Err(Error::new(
                    CODE,
                    "ksef_token",
                    "credentials are required: ksef_token, or certificate_pem with private_key_pem",
                )),
                _ => {
                    return Err(Error::new(
                        CODE,
                        "ksef_token",
                        "give either ksef_token or certificate_pem/private_key_pem, not both",
                    ))
                }
            };
        let poll = o.opt_u64("poll_interval_ms")?;
        let max_wait = o.opt_u64("max_wait_ms")?;
        let timeout_ms = o.opt_u64("timeout_ms")?;
        let no_proxy = o.opt_bool("no_proxy")?;
        o.finish()?;
        for (key, v) in [
            ("poll_interval_ms", poll),
            ("max_wait_ms", max_wait),
            ("timeout_ms", timeout_ms),
        ] {
            if v == Some(0) {
                return Err(Error::new(
                    CODE,
                    key,
                    format!("{key} must be greater than 0"),
                ));
            }
        }
        let loopback = is_loopback(&base_url);
        let config = Config::with_base_url(base_url, context);
        let (p, w) = (config.poll_interval_ms, config.max_wait_ms);
        let config = config.polling(poll.unwrap_or(p), max_wait.unwrap_or(w));
        Ok(ClientSettings {
            config,
            credentials,
            timeout_ms,
            no_proxy: no_proxy.unwrap_or(false) || loopback,
        })
    }
}

/// `http://127.0.0.1…`, `localhost` or `[::1]`: a local simulator, never through a proxy.
pub fn is_loopback(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    matches!(host, "127.0.0.1" | "localhost") || rest.starts_with("[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_settings() {
        let s = ClientSettings::from_json(
            r#"{"base_url":"http://127.0.0.1:9/v2/","nip":"5265877635","ksef_token":"secret-token","poll_interval_ms":50}"#,
        )
        .unwrap();
        assert_eq!(s.config.base_url, "http://127.0.0.1:9/v2");
        assert_eq!(s.config.poll_interval_ms, 50);
        assert!(s.no_proxy);
        assert!(!format!("{s:?}").contains("secret-token"));
    }

    #[test]
    fn errors_name_the_key_and_never_the_secret() {
        let cases = [
            (r#"{"nip":"5265877635","ksef_token":"t"}"#, "environment"),
            (
                r#"{"environment":"nowhere","nip":"5265877635","ksef_token":"t"}"#,
                "environment",
            ),
            (
                r#"{"environment":"test","nip":"5265877636","ksef_token":"t"}"#,
                "nip",
            ),
            (r#"{"environment":"test","nip":"5265877635"}"#, "ksef_token"),
            (
                r#"{"environment":"test","nip":"5265877635","ksef_token":"s3cr3t","extra":1}"#,
                "extra",
            ),
            (
                r#"{"environment":"test","nip":"5265877635","ksef_token":"s3cr3t","timeout_ms":0}"#,
                "timeout_ms",
            ),
            (
                r#"{"environment":"test","context":{"type":"Nope","value":"1"},"ksef_token":"t"}"#,
                "context",
            ),
            (
                r#"{"environment":"test","nip":"5265877635","certificate_pem":"x"}"#,
                "private_key_pem",
            ),
        ];
        for (json, key) in cases {
            let e = ClientSettings::from_json(json).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidValue, "{json}: {e}");
            assert!(e.path().contains(key), "{json}: {e:?}");
            assert!(!format!("{e:?}").contains("s3cr3t"));
        }
        let e = ClientSettings::from_json("{").unwrap_err();
        assert_eq!(e.code(), ErrorCode::JsonSyntax);
    }
}
