//! Onboarding and administration: KSeF tokens generated through the API, KSeF certificate
//! enrollment for offline KOD II (our own P-256 key and PKCS#10 CSR), the authenticated
//! sessions list, and a connection test for settings pages.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use der::asn1::{BitString, ObjectIdentifier, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode};
use serde_json::{json, Value};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{RdnSequence, RelativeDistinguishedName};
use x509_cert::request::{CertReq, CertReqInfo, Version};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::crypto::cert::Certificate;
use crate::crypto::keys::PrivateKey;
use crate::error::{Error, ErrorCode};
use crate::http::Response;

use super::client::api_ok;
use super::ops::{Call, Cx, Operation, Output, Step};
use super::wire::{self, SecretString, StatusInfo};

/// A KSeF token made by [`super::Client::generate_token`].
#[derive(Debug, Clone)]
pub struct GeneratedToken {
    /// The token's reference number (for status and revocation).
    pub reference: String,
    /// The token itself — shown once by KSeF; store it safely.
    pub token: SecretString,
    /// The final status (`Active`, or `Failed`…).
    pub status: String,
}

/// Permissions a generated token may carry (`TokenPermissionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenPermission {
    /// `InvoiceRead`.
    InvoiceRead,
    /// `InvoiceWrite`.
    InvoiceWrite,
    /// `CredentialsRead`.
    CredentialsRead,
    /// `CredentialsManage`.
    CredentialsManage,
    /// `SubunitManage`.
    SubunitManage,
    /// `EnforcementOperations`.
    EnforcementOperations,
    /// `Introspection`.
    Introspection,
}

impl TokenPermission {
    /// The API value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenPermission::InvoiceRead => "InvoiceRead",
            TokenPermission::InvoiceWrite => "InvoiceWrite",
            TokenPermission::CredentialsRead => "CredentialsRead",
            TokenPermission::CredentialsManage => "CredentialsManage",
            TokenPermission::SubunitManage => "SubunitManage",
            TokenPermission::EnforcementOperations => "EnforcementOperations",
            TokenPermission::Introspection => "Introspection",
        }
    }
}

pub(crate) struct TokenOp {
    permissions: Vec<TokenPermission>,
    description: String,
    made: Option<(String, SecretString)>,
    result: Option<GeneratedToken>,
    wait: Option<u64>,
    deadline: u64,
}

impl TokenOp {
    pub(crate) fn new(permissions: Vec<TokenPermission>, description: String) -> TokenOp {
        TokenOp {
            permissions,
            description,
            made: None,
            result: None,
            wait: None,
            deadline: 0,
        }
    }
}

impl Operation for TokenOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(r) = self.result.take() {
            return Ok(Step::Done(Output::Token(r)));
        }
        if let Some(t) = self.wait.take() {
            return Ok(Step::Wait(t));
        }
        match &self.made {
            None => {
                let perms: Vec<&str> = self.permissions.iter().map(|p| p.as_str()).collect();
                let body = json!({"permissions": perms, "description": self.description});
                self.deadline = cx.deadline();
                // Not safe to repeat: a second token would be made (and its secret lost).
                Ok(Step::Send(Call::post_json(
                    cx.base(),
                    "/tokens",
                    &body,
                    "POST /tokens",
                )?))
            }
            Some((reference, _)) => Ok(Step::Send(Call::get(
                cx.base(),
                &format!("/tokens/{}", wire::pct(reference)),
                "GET /tokens/{referenceNumber}",
            ))),
        }
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        match &self.made {
            None => {
                let what = "POST /tokens";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                self.made = Some((
                    wire::str_at(&v, "referenceNumber", what)?.to_string(),
                    SecretString::new(wire::str_at(&v, "token", what)?),
                ));
            }
            Some((reference, token)) => {
                let what = "GET /tokens/{referenceNumber}";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                let status = wire::str_at(&v, "status", what)?;
                match status {
                    "Pending" => self.wait = Some(cx.next_poll(self.deadline, what)?),
                    "Active" => {
                        self.result = Some(GeneratedToken {
                            reference: reference.clone(),
                            token: token.clone(),
                            status: status.to_string(),
                        })
                    }
                    other => {
                        return Err(Error::new(
                            ErrorCode::ApiError,
                            what,
                            format!("token {reference} ended as {other}"),
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

/// One authenticated session (`AuthenticationListItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    /// `referenceNumber`.
    pub reference: String,
    /// `startDate`.
    pub start_date: String,
    /// `authenticationMethodInfo.category` (`Token`, `XadesSignature`…), or the old
    /// `authenticationMethod`.
    pub method: String,
    /// `status`.
    pub status: StatusInfo,
    /// `isCurrent`: the session of the token making the call.
    pub is_current: bool,
    /// `refreshTokenValidUntil`.
    pub refresh_token_valid_until: Option<String>,
}

pub(crate) struct ListAuthSessions {
    token: Option<String>,
    items: Vec<AuthSession>,
    done: bool,
}

impl ListAuthSessions {
    pub(crate) fn new() -> ListAuthSessions {
        ListAuthSessions {
            token: None,
            items: Vec::new(),
            done: false,
        }
    }
}

impl Operation for ListAuthSessions {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if self.done {
            return Ok(Step::Done(Output::AuthSessions(core::mem::take(
                &mut self.items,
            ))));
        }
        let mut call = Call::get(
            cx.base(),
            &format!(
                "/auth/sessions?pageSize={}",
                cx.cfg.page_size.clamp(10, 100)
            ),
            "GET /auth/sessions",
        );
        if let Some(t) = &self.token {
            call = call.with_header("x-continuation-token", t);
        }
        Ok(Step::Send(call))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let what = "GET /auth/sessions";
        let resp = api_ok(resp, cx.now_ms, what)?;
        let v = wire::json(&resp, what)?;
        for (i, it) in wire::array_at(&v, "items").iter().enumerate() {
            let at = |e: Error| e.at(format!("items[{i}]"));
            self.items.push(AuthSession {
                reference: wire::str_at(it, "referenceNumber", what)
                    .map_err(at)?
                    .to_string(),
                start_date: wire::str_at(it, "startDate", what).map_err(at)?.to_string(),
                method: wire::opt_str(it, "authenticationMethodInfo.category")
                    .or_else(|| wire::opt_str(it, "authenticationMethod"))
                    .unwrap_or_default()
                    .to_string(),
                status: StatusInfo::read(it, "status", what).map_err(at)?,
                is_current: wire::at(it, "isCurrent")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                refresh_token_valid_until: wire::opt_str(it, "refreshTokenValidUntil")
                    .map(String::from),
            });
        }
        match wire::opt_str(&v, "continuationToken").filter(|t| !t.is_empty()) {
            Some(t) => self.token = Some(t.to_string()),
            None => self.done = true,
        }
        Ok(())
    }
}

/// The verdict of [`super::Client::test_connection`], for a settings page.
#[derive(Debug, Clone)]
pub struct ConnectionVerdict {
    /// True when every step worked.
    pub ok: bool,
    /// The steps done, each with its outcome: `("public keys", Ok(()))`, …
    pub steps: Vec<(&'static str, Result<(), Error>)>,
    /// The authentication reference number, when authentication worked.
    pub auth_reference: Option<String>,
}

impl ConnectionVerdict {
    /// One line for people: "connection OK" or the step that failed and why.
    pub fn summary(&self) -> String {
        match self.steps.iter().find(|(_, r)| r.is_err()) {
            None => {
                String::from("connection OK: KSeF reached, credentials accepted, session closed")
            }
            Some((step, Err(e))) => format!("{step} failed: [{}] {e}", e.code().name()),
            Some(_) => String::new(),
        }
    }
}

enum TestState {
    Auth,
    Terminate,
    Done,
}

pub(crate) struct TestConnection {
    state: TestState,
    verdict: ConnectionVerdict,
}

impl TestConnection {
    pub(crate) fn new() -> TestConnection {
        TestConnection {
            state: TestState::Auth,
            verdict: ConnectionVerdict {
                ok: false,
                steps: Vec::new(),
                auth_reference: None,
            },
        }
    }

    fn finish(&mut self) -> Step {
        self.verdict.ok = self.verdict.steps.iter().all(|(_, r)| r.is_ok());
        Step::Done(Output::Connection(self.verdict.clone()))
    }
}

impl Operation for TestConnection {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        match self.state {
            TestState::Auth => {
                if cx.authenticated && cx.auth_reference.is_some() && !self.verdict.steps.is_empty()
                {
                    self.verdict.auth_reference = cx.auth_reference.map(String::from);
                    self.verdict
                        .steps
                        .push(("authentication (challenge, sign, poll, redeem)", Ok(())));
                    self.state = TestState::Terminate;
                    return self.poll(cx);
                }
                if self.verdict.steps.is_empty() {
                    // A fresh authentication, whatever tokens the client holds.
                    self.verdict.steps.push(("reach KSeF", Ok(())));
                    return Ok(Step::NeedAuth { fresh: true });
                }
                Ok(Step::NeedAuth { fresh: false })
            }
            TestState::Terminate => Ok(Step::Send(Call::delete(
                cx.base(),
                "/auth/sessions/current",
                "DELETE /auth/sessions/current",
            ))),
            TestState::Done => Ok(self.finish()),
        }
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let r = api_ok(resp, cx.now_ms, "DELETE /auth/sessions/current").map(|_| ());
        *cx.clear_tokens = true;
        self.verdict.steps.push(("end the session", r));
        self.state = TestState::Done;
        Ok(())
    }

    fn on_error(&mut self, _: &mut Cx<'_>, err: Error) -> Result<(), Error> {
        let step = match self.state {
            TestState::Auth => {
                // Not the credentials' fault: KSeF could not be reached, or answered that it
                // cannot serve (5xx, or still rate-limited after the retries).
                if matches!(
                    err.code(),
                    ErrorCode::Transport
                        | ErrorCode::Timeout
                        | ErrorCode::ServerError
                        | ErrorCode::RateLimited
                ) {
                    self.verdict.steps.clear();
                    "reach KSeF"
                } else {
                    "authentication (challenge, sign, poll, redeem)"
                }
            }
            _ => "end the session",
        };
        self.verdict.steps.retain(|(s, _)| *s != step);
        self.verdict.steps.push((step, Err(err)));
        self.state = TestState::Done;
        Ok(())
    }
}

/// A KSeF certificate enrolled by [`super::Client::enroll_certificate`].
#[derive(Clone)]
pub struct EnrolledCertificate {
    /// The private key we generated (P-256). Store it safely: KSeF never sees it.
    pub key: PrivateKey,
    /// The certificate KSeF issued.
    pub certificate: Certificate,
    /// `certificateSerialNumber`.
    pub serial_number: String,
    /// `certificateName`.
    pub name: String,
}

impl fmt::Debug for EnrolledCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrolledCertificate")
            .field("key", &self.key)
            .field("serial_number", &self.serial_number)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What to enroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateType {
    /// `Offline`: signs KOD II of offline invoices.
    Offline,
    /// `Authentication`: logs in with XAdES.
    Authentication,
}

impl CertificateType {
    /// The API value.
    pub const fn as_str(self) -> &'static str {
        match self {
            CertificateType::Offline => "Offline",
            CertificateType::Authentication => "Authentication",
        }
    }
}

enum EnrollState {
    Data,
    Enroll { csr: Vec<u8> },
    Poll { reference: String },
    Retrieve { serial: String },
    Done,
}

pub(crate) struct EnrollOp {
    name: String,
    kind: CertificateType,
    key: Option<p256::ecdsa::SigningKey>,
    state: EnrollState,
    wait: Option<u64>,
    deadline: u64,
    result: Option<EnrolledCertificate>,
}

impl EnrollOp {
    pub(crate) fn new(name: String, kind: CertificateType) -> EnrollOp {
        EnrollOp {
            name,
            kind,
            key: None,
            state: EnrollState::Data,
            wait: None,
            deadline: 0,
            result: None,
        }
    }
}

impl Operation for EnrollOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(t) = self.wait.take() {
            return Ok(Step::Wait(t));
        }
        let base = cx.base().to_string();
        match &self.state {
            EnrollState::Data => {
                self.deadline = cx.deadline();
                Ok(Step::Send(Call::get(
                    &base,
                    "/certificates/enrollments/data",
                    "GET /certificates/enrollments/data",
                )))
            }
            EnrollState::Enroll { csr } => {
                let body = json!({
                    "certificateName": self.name,
                    "certificateType": self.kind.as_str(),
                    "csr": base64_std(csr),
                });
                // Not repeated blindly: a second enrollment would use up the limit.
                Ok(Step::Send(Call::post_json(
                    &base,
                    "/certificates/enrollments",
                    &body,
                    "POST /certificates/enrollments",
                )?))
            }
            EnrollState::Poll { reference } => Ok(Step::Send(Call::get(
                &base,
                &format!("/certificates/enrollments/{}", wire::pct(reference)),
                "GET /certificates/enrollments/{referenceNumber}",
            ))),
            EnrollState::Retrieve { serial } => {
                let body = json!({"certificateSerialNumbers": [serial]});
                // Reading certificates changes nothing: safe to repeat.
                Ok(Step::Send(
                    Call::post_json(
                        &base,
                        "/certificates/retrieve",
                        &body,
                        "POST /certificates/retrieve",
                    )?
                    .safe(),
                ))
            }
            EnrollState::Done => match self.result.take() {
                Some(r) => Ok(Step::Done(Output::Certificate(r))),
                None => Err(Error::new(ErrorCode::BadResponse, "", "no certificate")),
            },
        }
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        match core::mem::replace(&mut self.state, EnrollState::Done) {
            EnrollState::Data => {
                let what = "GET /certificates/enrollments/data";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                let key = p256::ecdsa::SigningKey::random(cx.rng);
                let csr = build_csr(&key, &v)?;
                self.key = Some(key);
                self.state = EnrollState::Enroll { csr };
            }
            EnrollState::Enroll { .. } => {
                let what = "POST /certificates/enrollments";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                self.state = EnrollState::Poll {
                    reference: wire::str_at(&v, "referenceNumber", what)?.to_string(),
                };
            }
            EnrollState::Poll { reference } => {
                let what = "GET /certificates/enrollments/{referenceNumber}";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                let status = StatusInfo::read(&v, "status", what)?;
                match status.code {
                    100 => {
                        self.wait = Some(cx.next_poll(self.deadline, what)?);
                        self.state = EnrollState::Poll { reference };
                    }
                    200 => {
                        self.state = EnrollState::Retrieve {
                            serial: wire::str_at(&v, "certificateSerialNumber", what)?.to_string(),
                        }
                    }
                    _ => {
                        return Err(Error::new(
                            ErrorCode::ApiError,
                            what,
                            format!("enrollment {reference} failed: {}", status.summary()),
                        ))
                    }
                }
            }
            EnrollState::Retrieve { serial } => {
                let what = "POST /certificates/retrieve";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                let item = wire::array_at(&v, "certificates")
                    .iter()
                    .find(|c| wire::opt_str(c, "certificateSerialNumber") == Some(serial.as_str()))
                    .ok_or_else(|| {
                        wire::bad(
                            what,
                            "certificates",
                            format!("certificate {serial} is not in the answer"),
                        )
                    })?;
                let cert = Certificate::from_base64(wire::str_at(item, "certificate", what)?)?;
                let key = self
                    .key
                    .take()
                    .ok_or_else(|| Error::new(ErrorCode::BadResponse, "", "no key"))?;
                // The certificate must be for our key.
                let ours = PrivateKey::EcP256(key);
                if cert.spki_der()? != ours.public_key().to_spki_der()? {
                    return Err(Error::new(
                        ErrorCode::Certificate,
                        what,
                        "the issued certificate does not carry the public key of our CSR",
                    ));
                }
                self.result = Some(EnrolledCertificate {
                    key: ours,
                    certificate: cert,
                    serial_number: serial,
                    name: wire::opt_str(item, "certificateName")
                        .unwrap_or_default()
                        .to_string(),
                });
                self.state = EnrollState::Done;
            }
            EnrollState::Done => {}
        }
        Ok(())
    }
}

fn base64_std(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// A PKCS#10 CSR (DER) for `key` whose subject holds the attributes KSeF returned in
/// `GET /certificates/enrollments/data` (the docs require exactly those).
pub fn build_csr(key: &p256::ecdsa::SigningKey, data: &Value) -> Result<Vec<u8>, Error> {
    let what = "GET /certificates/enrollments/data";
    // (JSON field, attribute OID, printable?) in the usual subject order.
    const FIELDS: &[(&str, &str, bool)] = &[
        ("countryName", "2.5.4.6", true),
        ("organizationName", "2.5.4.10", false),
        ("organizationIdentifier", "2.5.4.97", false),
        ("givenName", "2.5.4.42", false),
        ("surname", "2.5.4.4", false),
        ("serialNumber", "2.5.4.5", true),
        ("uniqueIdentifier", "2.5.4.45", false),
        ("commonName", "2.5.4.3", false),
    ];
    let err = |e: der::Error| {
        Error::new(
            ErrorCode::CryptoKey,
            "csr",
            format!("cannot build the CSR: {e}"),
        )
    };
    let mut rdns = Vec::new();
    for (field, oid, printable) in FIELDS {
        let Some(text) = wire::opt_str(data, field) else {
            continue;
        };
        let value = if *printable {
            Any::from(PrintableStringRef::new(text).map_err(|_| {
                wire::bad(what, field, format!("`{text}` is not a printable string"))
            })?)
        } else {
            Any::from(Utf8StringRef::new(text).map_err(err)?)
        };
        let atv = AttributeTypeAndValue {
            oid: ObjectIdentifier::new(oid).map_err(|e| err(e.into()))?,
            value,
        };
        let set = SetOfVec::try_from(alloc::vec![atv]).map_err(err)?;
        rdns.push(RelativeDistinguishedName(set));
    }
    if rdns.is_empty() {
        return Err(wire::bad(
            what,
            "commonName",
            "no subject attributes to request",
        ));
    }
    let spki_der = PrivateKey::EcP256(key.clone()).public_key().to_spki_der()?;
    let info = CertReqInfo {
        version: Version::V1,
        subject: RdnSequence(rdns),
        public_key: SubjectPublicKeyInfoOwned::from_der(&spki_der).map_err(err)?,
        attributes: SetOfVec::new(),
    };
    let tbs = info.to_der().map_err(err)?;
    let sig: p256::ecdsa::DerSignature = {
        use p256::ecdsa::signature::Signer;
        let s: p256::ecdsa::Signature = key.sign(&tbs);
        s.to_der()
    };
    let req = CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_ECDSA_SHA256,
            parameters: None,
        },
        signature: BitString::from_bytes(sig.as_bytes()).map_err(err)?,
    };
    req.to_der().map_err(err)
}
