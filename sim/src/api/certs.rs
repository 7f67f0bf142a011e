//! KSeF certificates (`/certificates/*`): limits, enrollment data, enrollment with a
//! PKCS#10 CSR (its signature is verified), status, retrieval of the issued certificate
//! (X.509 signed by the sim's EC P-256 CA key, `x509-cert`'s builder, `Leaf` profile:
//! key usage digitalSignature + nonRepudiation for both types). Revocation and
//! `/certificates/query` are not simulated (501).

use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use der::{Decode, Encode};
use ksef::crypto::PublicKey;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::request::CertReq;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::auth::{Caller, Method};
use super::{json_body, reference_number, status_json, str_field, ApiErr, ApiResult, Ksef};
use crate::http::{Request, Response};
use crate::time::{now_ms, parse_ms, rfc3339};

/// Certificate validity (2 years).
const CERT_VALIDITY: Duration = Duration::from_secs(2 * 365 * 24 * 3600);
/// Limits per context (NIP: 300 requests / 100 active certificates).
const ENROLLMENT_LIMIT: usize = 300;
const CERTIFICATE_LIMIT: usize = 100;

/// An issued certificate: (serial hex, name, type, DER).
type Issued = (String, String, String, Vec<u8>);

#[derive(Debug, Clone)]
struct Enrollment {
    reference: String,
    context_value: String,
    requested_ms: i64,
    /// (serial hex, name, type, DER) when issued; or the failure status.
    result: Result<Issued, (u32, String)>,
}

#[derive(Default)]
pub(crate) struct CertState {
    enrollments: Vec<Enrollment>,
}

/// Signature algorithms of a CSR the sim verifies.
const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const RSA_SHA256: &str = "1.2.840.113549.1.1.11";

fn csr_error(code: u32, description: &str, detail: impl Into<String>) -> ApiErr {
    ApiErr::bad(code, description, detail)
}

/// Parses a CSR and verifies its self-signature.
fn check_csr(der_bytes: &[u8]) -> Result<CertReq, ApiErr> {
    let bad = |d: String| {
        csr_error(
            25004,
            "Niepoprawny format CSR lub niepoprawny podpis CSR.",
            d,
        )
    };
    let csr = CertReq::from_der(der_bytes).map_err(|e| bad(format!("CSR: {e}")))?;
    let info = csr
        .info
        .to_der()
        .map_err(|e| bad(format!("CSR info: {e}")))?;
    let spki = csr
        .info
        .public_key
        .to_der()
        .map_err(|e| bad(format!("CSR key: {e}")))?;
    let key = PublicKey::from_spki_der(&spki).map_err(|e| {
        csr_error(
            25010,
            "Nieprawidłowy typ lub długość klucza.",
            e.to_string(),
        )
    })?;
    let sig = csr
        .signature
        .as_bytes()
        .ok_or_else(|| bad("the signature is not a whole number of bytes".into()))?;
    let alg = csr.algorithm.oid.to_string();
    let ok = match (alg.as_str(), &key) {
        (ECDSA_SHA256, PublicKey::EcP256(vk)) => {
            use p256::ecdsa::signature::Verifier;
            p256::ecdsa::DerSignature::from_bytes(sig)
                .ok()
                .and_then(|s| p256::ecdsa::Signature::try_from(s).ok())
                .is_some_and(|s| vk.verify(&info, &s).is_ok())
        }
        (RSA_SHA256, PublicKey::Rsa(pk)) => {
            use rsa::signature::Verifier;
            let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk.clone());
            rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(&info, &s).is_ok())
        }
        _ => {
            return Err(csr_error(
                25011,
                "Nieprawidłowy algorytm podpisu CSR.",
                format!(
                "ksef-sim verifies ecdsa-with-SHA256 and sha256WithRSAEncryption CSRs (got {alg})."
            ),
            ))
        }
    };
    if !ok {
        return Err(bad("the CSR signature does not verify".into()));
    }
    Ok(csr)
}

impl Ksef {
    pub(crate) fn cert_routes(&self, m: &str, segs: &[&str], req: &Request) -> ApiResult {
        let c = self.caller(req)?;
        match (m, segs) {
            ("GET", ["limits"]) => self.cert_limits(&c),
            ("GET", ["enrollments", "data"]) => {
                if c.method == Method::Token {
                    return Err(ApiErr::bad(
                        25001,
                        "Brak możliwości pobrania danych do CSR dla wykorzystanego sposobu uwierzytelnienia.",
                        "Uwierzytelnij się podpisem XAdES.",
                    ));
                }
                let nip = c.context.nip();
                Ok(Response::json(
                    200,
                    &json!({
                        "commonName": format!("ksef-sim {nip}"),
                        "countryName": "PL",
                        "organizationName": format!("ksef-sim {nip}"),
                        "organizationIdentifier": format!("VATPL-{nip}"),
                    }),
                ))
            }
            ("POST", ["enrollments"]) => self.enroll(&c, req),
            ("GET", ["enrollments", r]) => self.enrollment_status(&c, r),
            ("POST", ["retrieve"]) => self.retrieve(&c, req),
            _ => Err(ApiErr::not_simulated(&format!(
                "{m} /certificates/{}",
                segs.join("/")
            ))),
        }
    }

    fn cert_limits(&self, c: &Caller) -> ApiResult {
        let st = self.lock();
        let mine: Vec<&Enrollment> = st
            .certs
            .enrollments
            .iter()
            .filter(|e| e.context_value == c.context.value)
            .collect();
        let issued = mine.iter().filter(|e| e.result.is_ok()).count();
        let er = ENROLLMENT_LIMIT.saturating_sub(mine.len());
        let cr = CERTIFICATE_LIMIT.saturating_sub(issued);
        Ok(Response::json(
            200,
            &json!({
                "canRequest": er > 0 && cr > 0,
                "enrollment": {"remaining": er, "limit": ENROLLMENT_LIMIT},
                "certificate": {"remaining": cr, "limit": CERTIFICATE_LIMIT},
            }),
        ))
    }

    fn enroll(&self, c: &Caller, req: &Request) -> ApiResult {
        if c.method == Method::Token {
            return Err(ApiErr::bad(
                25002,
                "Brak możliwości złożenia wniosku certyfikacyjnego dla wykorzystanego sposobu uwierzytelnienia.",
                "Uwierzytelnij się podpisem XAdES.",
            ));
        }
        let body = json_body(req)?;
        let name = str_field(&body, "certificateName")?.to_string();
        let kind = str_field(&body, "certificateType")?.to_string();
        if kind != "Authentication" && kind != "Offline" {
            return Err(ApiErr::invalid(format!(
                "certificateType must be Authentication or Offline (got '{kind}')."
            )));
        }
        let csr_b64 = str_field(&body, "csr")?;
        let csr_der = B64
            .decode(csr_b64)
            .map_err(|e| ApiErr::invalid(format!("csr is not base64: {e}")))?;
        let not_before = match body.get("validFrom").and_then(Value::as_str) {
            Some(v) => {
                parse_ms(v).ok_or_else(|| ApiErr::invalid("validFrom is not a date-time."))?
            }
            None => now_ms(),
        };
        {
            let st = self.lock();
            let mine = st
                .certs
                .enrollments
                .iter()
                .filter(|e| e.context_value == c.context.value)
                .count();
            if mine >= ENROLLMENT_LIMIT {
                return Err(ApiErr::bad(
                    25006,
                    "Osiągnięto limit możliwych do złożenia wniosków certyfikacyjnych.",
                    "",
                ));
            }
        }
        let csr = check_csr(&csr_der)?;
        let result = self
            .issue(&csr, not_before)
            .map(|(serial, der)| (serial, name, kind, der));
        let reference = reference_number("CE");
        let requested = now_ms();
        self.lock().certs.enrollments.push(Enrollment {
            reference: reference.clone(),
            context_value: c.context.value.clone(),
            requested_ms: requested,
            result: result.map_err(|e| (500, e)),
        });
        Ok(Response::json(
            202,
            &json!({"referenceNumber": reference, "timestamp": rfc3339(requested)}),
        ))
    }

    /// Issues the certificate: (serial hex, DER).
    fn issue(&self, csr: &CertReq, not_before_ms: i64) -> Result<(String, Vec<u8>), String> {
        // 8 bytes: the API's serial numbers are 16 uppercase hex digits (`^[0-9A-F]{16}$`);
        // the first byte is kept in 0x01..=0x7F (positive DER integer, no leading zero).
        let mut serial = [0u8; 8];
        OsRng.fill_bytes(&mut serial);
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        let start = UNIX_EPOCH
            + Duration::from_millis(u64::try_from(not_before_ms).map_err(|e| e.to_string())?);
        let validity = Validity {
            not_before: Time::try_from(start).map_err(|e| e.to_string())?,
            not_after: Time::try_from(start + CERT_VALIDITY).map_err(|e| e.to_string())?,
        };
        let issuer = self.keys.ca_cert.x509().tbs_certificate.subject.clone();
        let builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer,
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::new(&serial).map_err(|e| e.to_string())?,
            validity,
            csr.info.subject.clone(),
            csr.info.public_key.clone(),
            &self.keys.ca_key,
        )
        .map_err(|e| e.to_string())?;
        let cert = builder
            .build::<p256::ecdsa::DerSignature>()
            .map_err(|e| e.to_string())?;
        let der = cert.to_der().map_err(|e| e.to_string())?;
        let hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
        Ok((hex, der))
    }

    fn enrollment_status(&self, c: &Caller, reference: &str) -> ApiResult {
        let st = self.lock();
        let e = st
            .certs
            .enrollments
            .iter()
            .find(|e| e.reference == reference && e.context_value == c.context.value)
            .ok_or_else(|| {
                ApiErr::bad(
                    25005,
                    "Wniosek certyfikacyjny o podanym numerze referencyjnym nie istnieje.",
                    "",
                )
            })?;
        let mut v = json!({"requestDate": rfc3339(e.requested_ms)});
        match &e.result {
            Ok((serial, ..)) => {
                v["status"] = status_json(200, "Wniosek obsłużony (certyfikat wygenerowany)", &[]);
                v["certificateSerialNumber"] = json!(serial);
            }
            Err((code, why)) => {
                v["status"] = status_json(
                    *code,
                    "Błąd wystawienia certyfikatu",
                    std::slice::from_ref(why),
                );
            }
        }
        Ok(Response::json(200, &v))
    }

    fn retrieve(&self, c: &Caller, req: &Request) -> ApiResult {
        let body = json_body(req)?;
        let wanted: Vec<String> = body
            .get("certificateSerialNumbers")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiErr::invalid("The field 'certificateSerialNumbers' is required."))?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_ascii_uppercase))
            .collect();
        let st = self.lock();
        let certs: Vec<Value> = st
            .certs
            .enrollments
            .iter()
            .filter(|e| e.context_value == c.context.value)
            .filter_map(|e| e.result.as_ref().ok())
            .filter(|(serial, ..)| wanted.contains(serial))
            .map(|(serial, name, kind, der)| {
                json!({
                    "certificate": B64.encode(der),
                    "certificateName": name,
                    "certificateSerialNumber": serial,
                    "certificateType": kind,
                })
            })
            .collect();
        Ok(Response::json(200, &json!({"certificates": certs})))
    }
}
