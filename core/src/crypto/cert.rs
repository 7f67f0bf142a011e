//! X.509 certificates: KSeF certificates (EC P-256 or RSA), qualified certificates, and the
//! Ministry's encryption certificates from `GET /security/public-key-certificates`.
//!
//! A [`Certificate`] keeps the exact DER bytes it was read from (the fingerprint, the XAdES
//! `CertDigest` and `X509Certificate` use them as they are) next to the parsed structure.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use x509_cert::Certificate as X509;

use super::keys::{
    decode_base64_lenient, decode_pem_body, no_pem_block, pem_block, pem_blocks, pem_text,
    PrivateKey, PublicKey,
};
use crate::error::{Error, ErrorCode};

fn cert_error(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::Certificate, "", message)
}

/// A parsed X.509 certificate with its original DER bytes.
///
/// Read with the RFC 5280 profile of `x509-cert` (e.g. serial numbers of at most 20 bytes).
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: X509,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject_rfc4514())
            .field("issuer", &self.issuer_rfc4514())
            .field("serial", &self.serial_hex())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Reads a DER certificate (the whole input must be one certificate).
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        let parsed = X509::from_der(der)
            .map_err(|e| cert_error(format!("not an X.509 certificate: {e}")))?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
        })
    }

    /// Reads the first PEM `CERTIFICATE` block (text around it and other blocks are ignored).
    pub fn from_pem(pem: &str) -> Result<Certificate, Error> {
        let der = pem_block(pem, &["CERTIFICATE"])
            .ok_or_else(|| no_pem_block(pem, "CERTIFICATE"))??
            .1;
        Certificate::from_der(&der)
    }

    /// Reads every PEM `CERTIFICATE` block, in order (e.g. a chain file). Fails if there is none.
    pub fn chain_from_pem(pem: &str) -> Result<Vec<Certificate>, Error> {
        let mut out = Vec::new();
        for (label, body) in pem_blocks(pem) {
            if label == "CERTIFICATE" {
                out.push(Certificate::from_der(&decode_pem_body(label, body)?)?);
            }
        }
        if out.is_empty() {
            return Err(no_pem_block(pem, "CERTIFICATE"));
        }
        Ok(out)
    }

    /// Reads base64 DER without PEM armour, as KSeF's `/security/public-key-certificates`
    /// returns it (`certificate` field). White space inside is ignored.
    pub fn from_base64(b64: &str) -> Result<Certificate, Error> {
        let der = decode_base64_lenient(b64)
            .ok_or_else(|| cert_error("certificate is not valid base64"))?;
        Certificate::from_der(&der)
    }

    /// Reads PEM (when the bytes contain `-----BEGIN`), DER (starting with a SEQUENCE tag),
    /// or bare base64 DER.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Certificate, Error> {
        if let Some(text) = pem_text(bytes) {
            return Certificate::from_pem(text);
        }
        if bytes.first() == Some(&0x30) {
            return Certificate::from_der(bytes);
        }
        match core::str::from_utf8(bytes) {
            Ok(text) => Certificate::from_base64(text),
            Err(_) => Certificate::from_der(bytes),
        }
    }

    /// The certificate as DER, exactly the bytes it was read from.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64-column lines, LF).
    pub fn to_pem(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 60);
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            // base64 output is ASCII, so every chunk is valid UTF-8.
            out.push_str(core::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// The serial number as the big-endian bytes of the DER INTEGER content (a leading `0x00`
    /// sign byte stays when the DER has it — as .NET's `X509Certificate2.SerialNumber` shows it).
    pub fn serial_number_bytes(&self) -> &[u8] {
        self.parsed.tbs_certificate.serial_number.as_bytes()
    }

    /// The serial number in uppercase hex of [`Certificate::serial_number_bytes`], e.g.
    /// `01F20A5D352AE590` — the form of `certificateSerialNumber` in the KSeF API and of the
    /// serial segment of KOD II (`^[0-9A-F]{16}$` for KSeF certificates).
    pub fn serial_hex(&self) -> String {
        let mut out = String::with_capacity(self.serial_number_bytes().len() * 2);
        for b in self.serial_number_bytes() {
            out.push_str(&format!("{b:02X}"));
        }
        out
    }

    /// The serial number in decimal (the XAdES `X509SerialNumber` form). Negative serials
    /// (invalid, but seen) are shown as their two's-complement value with a `-` sign.
    pub fn serial_decimal(&self) -> String {
        let bytes = self.serial_number_bytes();
        let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
        let magnitude: Vec<u8> = if negative {
            // Two's complement: invert and add one.
            let mut m: Vec<u8> = bytes.iter().map(|b| !b).collect();
            for byte in m.iter_mut().rev() {
                let (v, carry) = byte.overflowing_add(1);
                *byte = v;
                if !carry {
                    break;
                }
            }
            m
        } else {
            bytes.to_vec()
        };
        let digits = rsa::BigUint::from_bytes_be(&magnitude).to_str_radix(10);
        if negative {
            format!("-{digits}")
        } else {
            digits
        }
    }

    /// The issuer name as an RFC 4514 string (`CN=…,O=…,C=PL`, most specific first), as the
    /// XAdES `X509IssuerName` needs it. Attribute types use their registered name in uppercase
    /// (`CN`, `O`, `C`, `SN`, `GIVENNAME`, `SERIALNUMBER`, …); types without a registered name
    /// (e.g. `organizationIdentifier`) and values that are not text strings (e.g. BMPString)
    /// are `2.5.4.97=#<hex of the DER value>`, as Java's `X500Principal` RFC 2253 form does.
    /// Special characters are escaped (`\,`, `\+`, …); non-ASCII text stays UTF-8.
    pub fn issuer_rfc4514(&self) -> String {
        format!("{}", self.parsed.tbs_certificate.issuer)
    }

    /// The subject name as an RFC 4514 string (see [`Certificate::issuer_rfc4514`]).
    pub fn subject_rfc4514(&self) -> String {
        format!("{}", self.parsed.tbs_certificate.subject)
    }

    /// The DER of the issuer `Name`.
    pub fn issuer_der(&self) -> Result<Vec<u8>, Error> {
        self.parsed
            .tbs_certificate
            .issuer
            .to_der()
            .map_err(|e| cert_error(format!("cannot encode the issuer: {e}")))
    }

    /// The DER of the `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> Result<Vec<u8>, Error> {
        self.parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| cert_error(format!("cannot encode the public key info: {e}")))
    }

    /// The subject's public key (EC P-256 or RSA ≥ 2048 bits; others are
    /// [`ErrorCode::CryptoKey`]).
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        PublicKey::from_spki_der(&self.spki_der()?)
    }

    /// Start of validity, in unix seconds.
    pub fn not_before(&self) -> i64 {
        time_secs(&self.parsed.tbs_certificate.validity.not_before)
    }

    /// End of validity, in unix seconds (inclusive).
    pub fn not_after(&self) -> i64 {
        time_secs(&self.parsed.tbs_certificate.validity.not_after)
    }

    /// True when `not_before <= now <= not_after` (`now` in unix seconds).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.not_before() <= now && now <= self.not_after()
    }

    /// SHA-256 of the certificate DER (the KSeF certificate fingerprint, XAdES `CertDigest`,
    /// `certificateId` in `/security/public-key-certificates`).
    pub fn sha256_fingerprint(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// SHA-256 of the `SubjectPublicKeyInfo` DER (KSeF's `publicKeyId`).
    pub fn public_key_id(&self) -> Result<[u8; 32], Error> {
        Ok(Sha256::digest(self.spki_der()?).into())
    }

    /// True when the private key belongs to this certificate's public key.
    pub fn matches_key(&self, key: &PrivateKey) -> bool {
        self.public_key().is_ok_and(|pk| pk == key.public_key())
    }

    /// The parsed structure (`x509-cert`), for anything not offered here.
    pub fn x509(&self) -> &X509 {
        &self.parsed
    }
}

fn time_secs(t: &x509_cert::time::Time) -> i64 {
    // `der` times are between 1970 and 9999, so the seconds fit an i64.
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const EC_CERT: &str = include_str!("../../tests/fixtures/crypto/ec-p256.cert.pem");
    const EC_KEY: &str = include_str!("../../tests/fixtures/crypto/ec-p256.pkcs8.pem");
    const RSA_CERT: &str = include_str!("../../tests/fixtures/crypto/rsa2048.cert.pem");
    const RSA_KEY: &str = include_str!("../../tests/fixtures/crypto/rsa2048.pkcs1.pem");

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn ec_certificate_fields() {
        let c = Certificate::from_pem(EC_CERT).unwrap();
        assert_eq!(c.serial_hex(), "01F20A5D352AE590");
        assert_eq!(
            c.serial_number_bytes(),
            [0x01, 0xF2, 0x0A, 0x5D, 0x35, 0x2A, 0xE5, 0x90]
        );
        assert_eq!(
            c.serial_decimal(),
            u64::from_str_radix("01F20A5D352AE590", 16)
                .unwrap()
                .to_string()
        );
        // As `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb`, but with the
        // attribute names of the `const-oid` database (GIVENNAME for OpenSSL's GN).
        assert_eq!(
            c.subject_rfc4514(),
            "CN=Anna Kowalska,GIVENNAME=Zażółć Anna,SN=Kowalska,SERIALNUMBER=PNOPL-80010112345,C=PL"
        );
        assert_eq!(c.issuer_rfc4514(), c.subject_rfc4514());
        assert_eq!(c.not_before(), 1_795_226_803); // 2026-11-21T02:06:43Z
        assert_eq!(c.not_after(), 2_110_586_803); // 2036-11-18T02:06:43Z
        assert!(c.is_valid_at(1_795_226_803));
        assert!(!c.is_valid_at(1_795_226_802));
        assert!(!c.is_valid_at(2_110_586_804));
        assert_eq!(
            hex(&c.sha256_fingerprint()),
            "e7c2d50a6fd61716393bc869e78ac19ff19ec548a9410e8b27491c3de9f8a0b4"
        );
        assert_eq!(
            hex(&c.public_key_id().unwrap()),
            "cb654544018528ae77767531c155007d9356413f1b76a8e482de2368dd33fc3a"
        );
        assert!(matches!(c.public_key().unwrap(), PublicKey::EcP256(_)));
        assert!(c.matches_key(&PrivateKey::from_pem(EC_KEY).unwrap()));
        assert!(!c.matches_key(&PrivateKey::from_pem(RSA_KEY).unwrap()));
    }

    #[test]
    fn rsa_certificate_fields() {
        let c = Certificate::from_pem(RSA_CERT).unwrap();
        // DER keeps a 0x00 sign byte before 0x80…; openssl prints 80112233445566778899.
        assert_eq!(c.serial_hex(), "0080112233445566778899");
        assert_eq!(c.serial_decimal(), "604778968845122333542553");
        assert_eq!(
            c.subject_rfc4514(),
            "CN=Test\\, seal \\+ KSeF,2.5.4.97=#0c10564154504c2d39393939393939393939,\
             O=Test Sp. z o.o.,C=PL"
        );
        assert_eq!(
            hex(&c.sha256_fingerprint()),
            "f300ec9187b0c741ddc871265dd173ab75c4080ac01443deb93162d4115e5eb6"
        );
        assert!(c.matches_key(&PrivateKey::from_pem(RSA_KEY).unwrap()));
        assert!(!c.matches_key(&PrivateKey::from_pem(EC_KEY).unwrap()));
    }

    #[test]
    fn all_input_forms_agree() {
        let c = Certificate::from_pem(EC_CERT).unwrap();
        let from_der = Certificate::from_der(c.der()).unwrap();
        let from_any_der = Certificate::from_pem_or_der(c.der()).unwrap();
        let pem = c.to_pem();
        let from_pem_again = Certificate::from_pem_or_der(pem.as_bytes()).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let from_b64 = Certificate::from_base64(&b64).unwrap();
        let from_any_b64 = Certificate::from_pem_or_der(b64.as_bytes()).unwrap();
        for other in [
            from_der,
            from_any_der,
            from_pem_again,
            from_b64,
            from_any_b64,
        ] {
            assert_eq!(other, c);
        }
        let chain =
            Certificate::chain_from_pem(&alloc::format!("{EC_CERT}\n{EC_KEY}{RSA_CERT}")).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1], Certificate::from_pem(RSA_CERT).unwrap());
        let dbg = alloc::format!("{c:?}");
        assert!(dbg.contains("01F20A5D352AE590"), "{dbg}");
    }

    #[test]
    fn bad_certificates_are_typed_errors() {
        let c = Certificate::from_pem(EC_CERT).unwrap();
        let mut trailing = c.der().to_vec();
        trailing.push(0);
        for bad in [
            &b""[..],
            b"not base64 !",
            b"AAAA",
            &c.der()[..c.der().len() - 1],
            &trailing,
            EC_KEY.as_bytes(),
        ] {
            let e = Certificate::from_pem_or_der(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Certificate, "{e:?}");
        }
        assert_eq!(
            Certificate::chain_from_pem(EC_KEY).unwrap_err().code(),
            ErrorCode::Certificate
        );
        let cut = alloc::format!("{EC_CERT}-----BEGIN CERTIFICATE-----\nMIIB");
        let e = Certificate::chain_from_pem(&cut).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Certificate);
        assert!(e.message().contains("no END line"), "{e}");
    }
}
