//! The Ministry's encryption certificates: the response of
//! `GET /security/public-key-certificates`, and choosing the one to use.
//!
//! ```
//! use ksef::crypto::public_keys::{KeyUsage, PublicKeyCertificates};
//! # let der = ksef::crypto::Certificate::from_pem(include_str!(
//! #     "../../tests/fixtures/crypto/rsa2048.cert.pem"))?;
//! # let b64 = der.to_pem().lines().filter(|l| !l.starts_with("-----")).collect::<String>();
//! # let json = format!(r#"[{{"certificate":"{b64}","certificateId":"x","publicKeyId":"y",
//! #   "validFrom":"2026-11-21T02:06:43+00:00","validTo":"2036-11-18T02:06:43+00:00",
//! #   "usage":["KsefTokenEncryption","SymmetricKeyEncryption"]}}]"#);
//! let list = PublicKeyCertificates::from_json(&json)?;
//! let now = 1_800_000_000; // unix seconds, from the caller's clock
//! let for_token = list.select(KeyUsage::KsefTokenEncryption, now)?;
//! let for_session = list.select(KeyUsage::SymmetricKeyEncryption, now)?;
//! let key = for_session.public_key()?; // for SessionKey::encryption_info
//! let id = for_session.public_key_id.as_str(); // `publicKeyId` of the requests
//! # let _ = (for_token, key, id);
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;

use super::cert::Certificate;
use super::keys::PublicKey;
use crate::error::{Error, ErrorCode};
use crate::model::DateTime;

/// What a Ministry certificate may be used for (OpenAPI `PublicKeyCertificateUsage`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyUsage {
    /// Encrypting the KSeF token in `POST /auth/ksef-token`.
    KsefTokenEncryption,
    /// Wrapping the session's AES key (`encryption` of sessions and exports).
    SymmetricKeyEncryption,
    /// A value this version does not know (kept, never selected by the known usages).
    Other(String),
}

impl KeyUsage {
    fn parse(s: &str) -> KeyUsage {
        match s {
            "KsefTokenEncryption" => KeyUsage::KsefTokenEncryption,
            "SymmetricKeyEncryption" => KeyUsage::SymmetricKeyEncryption,
            other => KeyUsage::Other(String::from(other)),
        }
    }

    /// The API name (`"KsefTokenEncryption"`, …).
    pub fn as_str(&self) -> &str {
        match self {
            KeyUsage::KsefTokenEncryption => "KsefTokenEncryption",
            KeyUsage::SymmetricKeyEncryption => "SymmetricKeyEncryption",
            KeyUsage::Other(s) => s,
        }
    }
}

/// One entry of the response (OpenAPI `PublicKeyCertificate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyCertificate {
    /// The certificate (sent as base64 DER).
    pub certificate: Certificate,
    /// `certificateId`: base64 SHA-256 of the certificate DER, as sent.
    pub certificate_id: String,
    /// `publicKeyId`: base64 SHA-256 of the `SubjectPublicKeyInfo`, as sent — put it in the
    /// requests' `publicKeyId`.
    pub public_key_id: String,
    /// `validFrom`.
    pub valid_from: DateTime,
    /// `validTo`.
    pub valid_to: DateTime,
    /// `usage`.
    pub usage: Vec<KeyUsage>,
}

impl PublicKeyCertificate {
    /// The certificate's public key (RSA for every key published so far).
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        self.certificate.public_key()
    }

    /// True when `now` (unix seconds) is within both `validFrom..=validTo` and the
    /// certificate's own validity.
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.valid_from.unix_seconds() <= now
            && now <= self.valid_to.unix_seconds()
            && self.certificate.is_valid_at(now)
    }

    /// True when the entry lists the usage.
    pub fn has_usage(&self, usage: &KeyUsage) -> bool {
        self.usage.contains(usage)
    }
}

/// The whole response of `GET /security/public-key-certificates`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyCertificates {
    entries: Vec<PublicKeyCertificate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    certificate: String,
    certificate_id: String,
    public_key_id: String,
    valid_from: String,
    valid_to: String,
    usage: Vec<String>,
}

impl PublicKeyCertificates {
    /// Reads the JSON array. A malformed entry (bad base64, not a certificate, bad date) is an
    /// error whose path names it (`[1].certificate`); JSON syntax errors are
    /// [`ErrorCode::JsonSyntax`], a wrong shape (missing field, wrong type) is
    /// [`ErrorCode::Certificate`]. Unknown fields and unknown usages are accepted.
    pub fn from_json(json: &str) -> Result<PublicKeyCertificates, Error> {
        let raw: Vec<RawEntry> = serde_json::from_str(json).map_err(|e| {
            let code = if e.is_syntax() || e.is_eof() {
                ErrorCode::JsonSyntax
            } else {
                ErrorCode::Certificate
            };
            Error::new(
                code,
                format!("line {}, column {}", e.line(), e.column()),
                format!("not a public-key-certificates response: {e}"),
            )
        })?;
        let mut entries = Vec::with_capacity(raw.len());
        for (i, r) in raw.into_iter().enumerate() {
            let at = |field: &str| format!("[{i}].{field}");
            let certificate = Certificate::from_base64(&r.certificate)
                .map_err(|e| Error::new(ErrorCode::Certificate, at("certificate"), e.message()))?;
            let date = |text: &str, field: &str| -> Result<DateTime, Error> {
                text.parse::<DateTime>()
                    .map_err(|m| Error::new(ErrorCode::Certificate, at(field), m))
            };
            entries.push(PublicKeyCertificate {
                certificate,
                certificate_id: r.certificate_id,
                public_key_id: r.public_key_id,
                valid_from: date(&r.valid_from, "validFrom")?,
                valid_to: date(&r.valid_to, "validTo")?,
                usage: r.usage.iter().map(|u| KeyUsage::parse(u)).collect(),
            });
        }
        Ok(PublicKeyCertificates { entries })
    }

    /// Every entry, in the order received.
    pub fn entries(&self) -> &[PublicKeyCertificate] {
        &self.entries
    }

    /// The certificate to use for `usage` at `now` (unix seconds): among the entries with that
    /// usage that are valid at `now`, the one with the latest `validFrom` (as the KSeF docs
    /// advise; ties keep the first listed). None valid is [`ErrorCode::NoValidCertificate`].
    ///
    /// After a `400` with code 21470 (unknown or revoked `publicKeyId`), fetch the list again
    /// and select again.
    pub fn select(&self, usage: KeyUsage, now: i64) -> Result<&PublicKeyCertificate, Error> {
        let mut best: Option<&PublicKeyCertificate> = None;
        for e in self
            .entries
            .iter()
            .filter(|e| e.has_usage(&usage) && e.is_valid_at(now))
        {
            if best.is_none_or(|b| e.valid_from.unix_seconds() > b.valid_from.unix_seconds()) {
                best = Some(e);
            }
        }
        best.ok_or_else(|| {
            Error::new(
                ErrorCode::NoValidCertificate,
                "",
                format!(
                    "no {} certificate is valid at unix time {now} ({} entries)",
                    usage.as_str(),
                    self.entries.len()
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_CERT: &str = include_str!("../../tests/fixtures/crypto/rsa2048.cert.pem");
    const EC_CERT: &str = include_str!("../../tests/fixtures/crypto/ec-p256.cert.pem");
    // Both fixture certificates are valid 2026-11-21T02:06:43Z ..= 2036-11-18T02:06:43Z.
    const CERT_FROM: i64 = 1_795_226_803;
    const CERT_TO: i64 = 2_110_586_803;

    fn bare_b64(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    fn entry(pem: &str, from: &str, to: &str, usage: &str, id: &str) -> String {
        format!(
            r#"{{"certificate":"{}","certificateId":"c{id}","publicKeyId":"{id}","validFrom":"{from}","validTo":"{to}","usage":[{usage}]}}"#,
            bare_b64(pem)
        )
    }

    #[test]
    fn select_latest_valid_per_usage() {
        let json = format!(
            "[{},{},{},{}]",
            entry(
                RSA_CERT,
                "2026-11-21T02:06:43+00:00",
                "2030-01-01T00:00:00Z",
                r#""KsefTokenEncryption""#,
                "old"
            ),
            entry(
                RSA_CERT,
                "2028-01-01T00:00:00.0154302+00:00",
                "2036-01-01T00:00:00Z",
                r#""KsefTokenEncryption","SymmetricKeyEncryption""#,
                "new"
            ),
            entry(
                RSA_CERT,
                "2026-11-21T02:06:43Z",
                "2036-01-01T00:00:00Z",
                r#""SymmetricKeyEncryption","SomethingNew""#,
                "sym"
            ),
            entry(
                EC_CERT,
                "2026-11-21T02:06:43Z",
                "2036-01-01T00:00:00Z",
                r#""Future""#,
                "ec"
            ),
        );
        let list = PublicKeyCertificates::from_json(&json).unwrap();
        assert_eq!(list.entries().len(), 4);
        assert_eq!(
            list.entries()[2].usage[1],
            KeyUsage::Other("SomethingNew".into())
        );
        let tok = |now| {
            list.select(KeyUsage::KsefTokenEncryption, now)
                .map(|e| e.public_key_id.as_str())
        };
        let sym = |now| {
            list.select(KeyUsage::SymmetricKeyEncryption, now)
                .map(|e| e.public_key_id.as_str())
        };
        let t2027 = DateTime::utc_seconds_of(2027, 6, 1, 0, 0, 0);
        let t2029 = DateTime::utc_seconds_of(2029, 6, 1, 0, 0, 0);
        let t2031 = DateTime::utc_seconds_of(2031, 6, 1, 0, 0, 0);
        assert_eq!(tok(t2027).unwrap(), "old");
        assert_eq!(tok(t2029).unwrap(), "new"); // both valid: the later validFrom wins
        assert_eq!(tok(t2031).unwrap(), "new");
        assert_eq!(sym(t2027).unwrap(), "sym");
        assert_eq!(sym(t2029).unwrap(), "new");
        // Before the certificates' own notBefore nothing is valid, whatever the JSON says.
        let e = list
            .select(KeyUsage::KsefTokenEncryption, CERT_FROM - 1)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoValidCertificate);
        assert!(tok(CERT_FROM).is_ok());
        let e = list
            .select(KeyUsage::SymmetricKeyEncryption, CERT_TO)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoValidCertificate);
        let chosen = list
            .select(KeyUsage::SymmetricKeyEncryption, t2029)
            .unwrap();
        assert!(matches!(chosen.public_key().unwrap(), PublicKey::Rsa(_)));
        assert_eq!(
            chosen.valid_from.as_str(),
            "2028-01-01T00:00:00.0154302+00:00"
        );
    }

    #[test]
    fn bad_responses_are_typed_errors() {
        let good = entry(
            RSA_CERT,
            "2026-11-21T02:06:43Z",
            "2036-01-01T00:00:00Z",
            "",
            "k",
        );
        assert!(PublicKeyCertificates::from_json(&format!("[{good}]")).is_ok());
        assert!(PublicKeyCertificates::from_json("[]")
            .unwrap()
            .entries()
            .is_empty());
        let e = PublicKeyCertificates::from_json("[").unwrap_err();
        assert_eq!(e.code(), ErrorCode::JsonSyntax);
        let e = PublicKeyCertificates::from_json("{}").unwrap_err();
        assert_eq!(e.code(), ErrorCode::Certificate);
        let e = PublicKeyCertificates::from_json(r#"[{"certificate":"AAAA"}]"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Certificate);
        let bad_cert = good.replace(&bare_b64(RSA_CERT)[..8], "!!!!!!!!");
        let e = PublicKeyCertificates::from_json(&format!("[{good},{bad_cert}]")).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::Certificate, "[1].certificate")
        );
        let bad_date = good.replace("2036-01-01T00:00:00Z", "2036-01-01");
        let e = PublicKeyCertificates::from_json(&format!("[{bad_date}]")).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::Certificate, "[0].validTo")
        );
    }
}
