//! The `AuthTokenRequest` document of XAdES authentication (`POST /auth/xades-signature`),
//! schema `http://ksef.mf.gov.pl/auth/token/2.0` or `.../2.1` (`schemat_auth_v2-*.xsd`).
//!
//! The XML is written exactly as the official examples (`auth/context-identifier-*.md`):
//! an XML declaration with `encoding="utf-8"`, the default namespace on the root, two-space
//! indentation, LF line ends, a final LF.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::str::FromStr;

use super::dom::{self, Document};
use super::{sign, DS_NS};
use crate::crypto::{Certificate, PrivateKey};
use crate::error::{Error, ErrorCode};
use crate::id::{InternalId, Nip, NipVatUe, PeppolId};
use crate::model::DateTime;

/// The version (namespace) of the auth schema. KSeF accepts both (API changelog 2.5.0); the
/// official examples use 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthSchema {
    /// `http://ksef.mf.gov.pl/auth/token/2.0` (`schemat_auth_v2-0.xsd`).
    #[default]
    V2_0,
    /// `http://ksef.mf.gov.pl/auth/token/2.1` (`schemat_auth_v2-1.xsd`).
    V2_1,
}

impl AuthSchema {
    /// The target namespace.
    pub const fn namespace(self) -> &'static str {
        match self {
            AuthSchema::V2_0 => "http://ksef.mf.gov.pl/auth/token/2.0",
            AuthSchema::V2_1 => "http://ksef.mf.gov.pl/auth/token/2.1",
        }
    }

    /// The schema of a namespace.
    pub fn from_namespace(ns: &str) -> Option<AuthSchema> {
        [AuthSchema::V2_0, AuthSchema::V2_1]
            .into_iter()
            .find(|s| s.namespace() == ns)
    }
}

/// The context to authenticate in (`ContextIdentifier`, a choice of four identifiers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContextIdentifier {
    /// `Nip`: a taxpayer.
    Nip(Nip),
    /// `InternalId`: an internal identifier (`NIP-nnnnn`).
    InternalId(InternalId),
    /// `NipVatUe`: NIP + EU VAT number of an EU entity's representation.
    NipVatUe(NipVatUe),
    /// `PeppolId`: a Peppol service provider.
    PeppolId(PeppolId),
}

impl ContextIdentifier {
    /// The element (and API type) name: `Nip`, `InternalId`, `NipVatUe` or `PeppolId`.
    pub const fn kind(&self) -> &'static str {
        match self {
            ContextIdentifier::Nip(_) => "Nip",
            ContextIdentifier::InternalId(_) => "InternalId",
            ContextIdentifier::NipVatUe(_) => "NipVatUe",
            ContextIdentifier::PeppolId(_) => "PeppolId",
        }
    }

    /// The identifier as text.
    pub fn value(&self) -> &str {
        match self {
            ContextIdentifier::Nip(v) => v.as_str(),
            ContextIdentifier::InternalId(v) => v.as_str(),
            ContextIdentifier::NipVatUe(v) => v.as_str(),
            ContextIdentifier::PeppolId(v) => v.as_str(),
        }
    }

    /// Parse a context of type `kind` (`Nip`, `InternalId`, `NipVatUe`, `PeppolId`; case
    /// ignored). Errors: an unknown kind or an invalid value ([`ErrorCode::InvalidValue`]).
    pub fn parse(kind: &str, value: &str) -> Result<ContextIdentifier, Error> {
        let path = "AuthTokenRequest/ContextIdentifier";
        let at = |e: crate::id::IdError| e.at(format!("{path}/{kind}"));
        Ok(match kind.to_ascii_lowercase().as_str() {
            "nip" => ContextIdentifier::Nip(Nip::parse(value).map_err(at)?),
            "internalid" => ContextIdentifier::InternalId(InternalId::parse(value).map_err(at)?),
            "nipvatue" => ContextIdentifier::NipVatUe(NipVatUe::parse(value).map_err(at)?),
            "peppolid" => ContextIdentifier::PeppolId(PeppolId::parse(value).map_err(at)?),
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    path,
                    format!(
                        "unknown context type `{kind}` (expected Nip, InternalId, NipVatUe or \
                         PeppolId)"
                    ),
                ))
            }
        })
    }
}

impl From<Nip> for ContextIdentifier {
    fn from(v: Nip) -> Self {
        ContextIdentifier::Nip(v)
    }
}
impl From<InternalId> for ContextIdentifier {
    fn from(v: InternalId) -> Self {
        ContextIdentifier::InternalId(v)
    }
}
impl From<NipVatUe> for ContextIdentifier {
    fn from(v: NipVatUe) -> Self {
        ContextIdentifier::NipVatUe(v)
    }
}
impl From<PeppolId> for ContextIdentifier {
    fn from(v: PeppolId) -> Self {
        ContextIdentifier::PeppolId(v)
    }
}

/// How KSeF identifies the signer (`SubjectIdentifierType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubjectIdentifierType {
    /// `certificateSubject`: the NIP/PESEL in the certificate's subject.
    #[default]
    CertificateSubject,
    /// `certificateFingerprint`: the certificate's SHA-256 fingerprint (permissions were
    /// granted to it).
    CertificateFingerprint,
}

impl SubjectIdentifierType {
    /// The schema value.
    pub const fn as_str(self) -> &'static str {
        match self {
            SubjectIdentifierType::CertificateSubject => "certificateSubject",
            SubjectIdentifierType::CertificateFingerprint => "certificateFingerprint",
        }
    }
}

impl FromStr for SubjectIdentifierType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "certificateSubject" => Ok(SubjectIdentifierType::CertificateSubject),
            "certificateFingerprint" => Ok(SubjectIdentifierType::CertificateFingerprint),
            _ => Err(Error::new(
                ErrorCode::InvalidValue,
                "AuthTokenRequest/SubjectIdentifierType",
                format!("`{s}` is not certificateSubject or certificateFingerprint"),
            )),
        }
    }
}

impl fmt::Display for SubjectIdentifierType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most this many entries of each kind in `AllowedIps` (XSD `maxOccurs`).
pub const MAX_IPS: usize = 10;

/// `AuthorizationPolicy/AllowedIps`: the client addresses the tokens will be valid from.
/// Each list holds at most [`MAX_IPS`] entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AuthorizationPolicy {
    addresses: Vec<Ipv4Addr>,
    ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    masks: Vec<(Ipv4Addr, u8)>,
}

impl AuthorizationPolicy {
    /// An empty policy (`<AllowedIps/>`, no restriction listed).
    pub fn new() -> Self {
        Self::default()
    }

    fn full(list: usize, what: &str) -> Result<(), Error> {
        if list >= MAX_IPS {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("AuthTokenRequest/AuthorizationPolicy/AllowedIps/{what}"),
                format!("at most {MAX_IPS} entries are allowed"),
            ));
        }
        Ok(())
    }

    /// Allow one address (`Ip4Address`).
    pub fn address(mut self, ip: Ipv4Addr) -> Result<Self, Error> {
        Self::full(self.addresses.len(), "Ip4Address")?;
        self.addresses.push(ip);
        Ok(self)
    }

    /// Allow an inclusive range (`Ip4Range`, `first-last`); `first` must not be after `last`.
    pub fn range(mut self, first: Ipv4Addr, last: Ipv4Addr) -> Result<Self, Error> {
        Self::full(self.ranges.len(), "Ip4Range")?;
        if first > last {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "AuthTokenRequest/AuthorizationPolicy/AllowedIps/Ip4Range",
                format!("the range {first}-{last} is empty (first after last)"),
            ));
        }
        self.ranges.push((first, last));
        Ok(self)
    }

    /// Allow a network (`Ip4Mask`, `address/prefix`, prefix 0..=32).
    pub fn mask(mut self, network: Ipv4Addr, prefix: u8) -> Result<Self, Error> {
        Self::full(self.masks.len(), "Ip4Mask")?;
        if prefix > 32 {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "AuthTokenRequest/AuthorizationPolicy/AllowedIps/Ip4Mask",
                format!("the prefix length {prefix} is over 32"),
            ));
        }
        self.masks.push((network, prefix));
        Ok(self)
    }

    /// The single addresses.
    pub fn addresses(&self) -> &[Ipv4Addr] {
        &self.addresses
    }

    /// The ranges (first, last).
    pub fn ranges(&self) -> &[(Ipv4Addr, Ipv4Addr)] {
        &self.ranges
    }

    /// The networks (address, prefix length).
    pub fn masks(&self) -> &[(Ipv4Addr, u8)] {
        &self.masks
    }
}

/// An `AuthTokenRequest`: the challenge, the context, how the signer is identified, and an
/// optional IP policy.
///
/// ```
/// use ksef::xades::{AuthTokenRequest, SubjectIdentifierType};
/// use ksef::id::Nip;
///
/// let req = AuthTokenRequest::new("20250604-CR-461EA5B000-537A6BA15D-D7", Nip::parse("5265877635")?)?
///     .subject_type(SubjectIdentifierType::CertificateFingerprint);
/// let xml = String::from_utf8(req.to_xml()).unwrap();
/// assert!(xml.contains("<Nip>5265877635</Nip>"));
/// assert_eq!(AuthTokenRequest::from_xml(xml.as_bytes())?, req);
/// # Ok::<(), ksef::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthTokenRequest {
    challenge: String,
    context: ContextIdentifier,
    subject_type: SubjectIdentifierType,
    policy: Option<AuthorizationPolicy>,
    schema: AuthSchema,
}

/// Does `s` match `\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}` (36 characters)?
fn challenge_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            0..=7 => c.is_ascii_digit(),
            8 | 11 | 22 | 33 => c == b'-',
            9 => c == b'C',
            10 => c == b'R',
            _ => c.is_ascii_digit() || (b'A'..=b'F').contains(&c),
        })
}

impl AuthTokenRequest {
    /// A request for `challenge` (from `POST /auth/challenge`) in `context`, with subject type
    /// `certificateSubject`, no IP policy, schema 2.0.
    ///
    /// Errors: the challenge does not match the schema pattern
    /// `\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}` ([`ErrorCode::InvalidValue`]).
    pub fn new(
        challenge: &str,
        context: impl Into<ContextIdentifier>,
    ) -> Result<AuthTokenRequest, Error> {
        if !challenge_ok(challenge) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "AuthTokenRequest/Challenge",
                format!(
                    "`{challenge}` is not a challenge (expected 36 characters like \
                     20250604-CR-461EA5B000-537A6BA15D-D7)"
                ),
            ));
        }
        Ok(AuthTokenRequest {
            challenge: challenge.into(),
            context: context.into(),
            subject_type: SubjectIdentifierType::default(),
            policy: None,
            schema: AuthSchema::default(),
        })
    }

    /// Set how the signer is identified.
    pub fn subject_type(mut self, t: SubjectIdentifierType) -> Self {
        self.subject_type = t;
        self
    }

    /// Set the IP policy.
    pub fn authorization_policy(mut self, p: AuthorizationPolicy) -> Self {
        self.policy = Some(p);
        self
    }

    /// Set the schema version.
    pub fn schema(mut self, s: AuthSchema) -> Self {
        self.schema = s;
        self
    }

    /// The challenge.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// The context.
    pub fn context(&self) -> &ContextIdentifier {
        &self.context
    }

    /// How the signer is identified.
    pub fn subject_identifier_type(&self) -> SubjectIdentifierType {
        self.subject_type
    }

    /// The IP policy, if any.
    pub fn policy(&self) -> Option<&AuthorizationPolicy> {
        self.policy.as_ref()
    }

    /// The schema version.
    pub fn schema_version(&self) -> AuthSchema {
        self.schema
    }

    /// The unsigned XML, laid out as the official examples.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut s = String::with_capacity(400);
        s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        s.push_str("<AuthTokenRequest xmlns=\"");
        s.push_str(self.schema.namespace());
        s.push_str("\">\n  <Challenge>");
        s.push_str(&self.challenge);
        s.push_str("</Challenge>\n  <ContextIdentifier>\n    <");
        let kind = self.context.kind();
        // identifiers are digits, letters, `-`, `+`, `*`: nothing to escape
        s.push_str(&format!("{kind}>{}</{kind}>\n", self.context.value()));
        s.push_str("  </ContextIdentifier>\n  <SubjectIdentifierType>");
        s.push_str(self.subject_type.as_str());
        s.push_str("</SubjectIdentifierType>\n");
        if let Some(p) = &self.policy {
            s.push_str("  <AuthorizationPolicy>\n");
            if p.addresses.is_empty() && p.ranges.is_empty() && p.masks.is_empty() {
                s.push_str("    <AllowedIps />\n");
            } else {
                s.push_str("    <AllowedIps>\n");
                for a in &p.addresses {
                    s.push_str(&format!("      <Ip4Address>{a}</Ip4Address>\n"));
                }
                for (a, b) in &p.ranges {
                    s.push_str(&format!("      <Ip4Range>{a}-{b}</Ip4Range>\n"));
                }
                for (a, n) in &p.masks {
                    s.push_str(&format!("      <Ip4Mask>{a}/{n}</Ip4Mask>\n"));
                }
                s.push_str("    </AllowedIps>\n");
            }
            s.push_str("  </AuthorizationPolicy>\n");
        }
        s.push_str("</AuthTokenRequest>\n");
        s.into_bytes()
    }

    /// The request signed with an enveloped XAdES-BES signature (see [`super::sign_enveloped`]).
    pub fn sign(
        &self,
        key: &PrivateKey,
        cert: &Certificate,
        signing_time: &DateTime,
    ) -> Result<Vec<u8>, Error> {
        sign::sign_enveloped(&self.to_xml(), key, cert, signing_time)
    }

    /// Read a request (signed or not; a `ds:Signature` child of the root is skipped, not
    /// checked — use [`super::verify`] for that).
    ///
    /// Errors: not well-formed ([`ErrorCode::XmlSyntax`] …), another root or namespace
    /// ([`ErrorCode::XmlNamespace`]), an element missing, unexpected or out of order
    /// ([`ErrorCode::MissingElement`], [`ErrorCode::UnexpectedElement`]), a value that does
    /// not fit its type ([`ErrorCode::InvalidValue`]).
    pub fn from_xml(xml: &[u8]) -> Result<AuthTokenRequest, Error> {
        let doc = dom::parse(xml)?;
        Reader { doc: &doc }.request()
    }
}

struct Reader<'d> {
    doc: &'d Document,
}

impl Reader<'_> {
    /// The child elements of `i` in `ns`, `ds:Signature` left out; anything else (and text
    /// other than white space) is refused.
    fn kids(&self, i: usize, ns: &str) -> Result<Vec<usize>, Error> {
        let doc = self.doc;
        let mut out = Vec::new();
        for &c in &doc.element(i).children {
            if let Some(dom::Node::Text(t)) = doc.nodes.get(c) {
                if !t.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
                    return Err(Error::new(
                        ErrorCode::UnexpectedElement,
                        doc.path(i),
                        format!("text `{}` is not allowed here", t.trim()),
                    ));
                }
            }
        }
        for c in doc.child_elements(i) {
            let e = doc.element(c);
            if e.is(DS_NS, "Signature") && i == doc.root {
                continue;
            }
            if e.ns != ns {
                return Err(Error::new(
                    ErrorCode::XmlNamespace,
                    doc.path(c),
                    format!("`{}` is not in the namespace {ns}", e.qname()),
                ));
            }
            out.push(c);
        }
        Ok(out)
    }

    /// The value of a simple element (no child elements).
    fn text(&self, i: usize) -> Result<String, Error> {
        if let Some(c) = self.doc.child_elements(i).next() {
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                self.doc.path(c),
                "a value is expected here, not an element",
            ));
        }
        let t = self.doc.text(i);
        // xsd:token values: surrounding white space is not part of the value
        Ok(String::from(t.trim_matches([' ', '\t', '\n', '\r'])))
    }

    fn expect<'k>(
        &self,
        kids: &mut core::slice::Iter<'k, usize>,
        parent: usize,
        name: &str,
    ) -> Result<usize, Error> {
        match kids.next() {
            Some(&c) if self.doc.element(c).local == name => Ok(c),
            Some(&c) => Err(Error::new(
                ErrorCode::UnexpectedElement,
                self.doc.path(c),
                format!("expected `{name}` here"),
            )),
            None => Err(Error::new(
                ErrorCode::MissingElement,
                format!("{}/{name}", self.doc.path(parent)),
                format!("`{name}` is required"),
            )),
        }
    }

    fn request(&self) -> Result<AuthTokenRequest, Error> {
        let doc = self.doc;
        let root = doc.element(doc.root);
        let schema = AuthSchema::from_namespace(&root.ns)
            .filter(|_| root.local == "AuthTokenRequest")
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::XmlNamespace,
                    root.qname(),
                    format!(
                        "expected AuthTokenRequest in {} or {}, found `{}` in `{}`",
                        AuthSchema::V2_0.namespace(),
                        AuthSchema::V2_1.namespace(),
                        root.local,
                        root.ns
                    ),
                )
            })?;
        let ns = root.ns.as_str();
        let kids = self.kids(doc.root, ns)?;
        let mut it = kids.iter();
        let ch = self.expect(&mut it, doc.root, "Challenge")?;
        let challenge = self.text(ch)?;
        let ctx = self.expect(&mut it, doc.root, "ContextIdentifier")?;
        let ctx_kids = self.kids(ctx, ns)?;
        let context = match ctx_kids.as_slice() {
            [one] => {
                let e = doc.element(*one);
                ContextIdentifier::parse(&e.local, &self.text(*one)?)
                    .map_err(|err| Error::new(err.code(), doc.path(*one), err.message()))?
            }
            [] => {
                return Err(Error::new(
                    ErrorCode::MissingElement,
                    doc.path(ctx),
                    "one of Nip, InternalId, NipVatUe, PeppolId is required",
                ))
            }
            [_, second, ..] => {
                return Err(Error::new(
                    ErrorCode::UnexpectedElement,
                    doc.path(*second),
                    "only one context identifier is allowed",
                ))
            }
        };
        let st = self.expect(&mut it, doc.root, "SubjectIdentifierType")?;
        let subject_type: SubjectIdentifierType = self
            .text(st)?
            .parse()
            .map_err(|e: Error| Error::new(e.code(), doc.path(st), e.message()))?;
        let mut req = AuthTokenRequest::new(&challenge, context)
            .map_err(|e| Error::new(e.code(), doc.path(ch), e.message()))?
            .subject_type(subject_type)
            .schema(schema);
        if let Some(&pol) = it.next() {
            if doc.element(pol).local != "AuthorizationPolicy" {
                return Err(Error::new(
                    ErrorCode::UnexpectedElement,
                    doc.path(pol),
                    "expected `AuthorizationPolicy` or the end",
                ));
            }
            req.policy = Some(self.policy(pol, ns)?);
        }
        if let Some(&extra) = it.next() {
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                doc.path(extra),
                "nothing may follow AuthorizationPolicy",
            ));
        }
        Ok(req)
    }

    fn policy(&self, pol: usize, ns: &str) -> Result<AuthorizationPolicy, Error> {
        let doc = self.doc;
        let kids = self.kids(pol, ns)?;
        let mut it = kids.iter();
        let allowed = self.expect(&mut it, pol, "AllowedIps")?;
        if let Some(&extra) = it.next() {
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                doc.path(extra),
                "only AllowedIps is allowed here",
            ));
        }
        let mut p = AuthorizationPolicy::new();
        let mut stage = 0;
        for c in self.kids(allowed, ns)? {
            let e = doc.element(c);
            let v = self.text(c)?;
            let bad = |what: &str| {
                Error::new(
                    ErrorCode::InvalidValue,
                    doc.path(c),
                    format!("`{v}` is not {what}"),
                )
            };
            let ip = |s: &str| s.parse::<Ipv4Addr>().ok();
            let order = match e.local.as_str() {
                "Ip4Address" => 0,
                "Ip4Range" => 1,
                "Ip4Mask" => 2,
                _ => 3,
            };
            if order == 3 || order < stage {
                return Err(Error::new(
                    ErrorCode::UnexpectedElement,
                    doc.path(c),
                    "expected Ip4Address*, Ip4Range*, Ip4Mask* in this order",
                ));
            }
            stage = order;
            p = match order {
                0 => p.address(ip(&v).ok_or_else(|| bad("an IPv4 address"))?),
                1 => {
                    let (a, b) = v
                        .split_once('-')
                        .and_then(|(a, b)| Some((ip(a)?, ip(b)?)))
                        .ok_or_else(|| bad("an IPv4 range (a.b.c.d-e.f.g.h)"))?;
                    p.range(a, b)
                }
                _ => {
                    let (a, n) = v
                        .split_once('/')
                        .and_then(|(a, n)| {
                            let n_ok = !n.is_empty()
                                && n.len() <= 2
                                && n.bytes().all(|c| c.is_ascii_digit())
                                && !(n.len() == 2 && n.starts_with('0'));
                            Some((ip(a)?, n.parse::<u8>().ok().filter(|_| n_ok)?))
                        })
                        .ok_or_else(|| bad("an IPv4 network (a.b.c.d/n)"))?;
                    p.mask(a, n)
                }
            }
            .map_err(|err| Error::new(err.code(), doc.path(c), err.message()))?;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: &str = "20250604-CR-461EA5B000-537A6BA15D-D7";

    #[test]
    fn challenge_pattern() {
        assert!(challenge_ok(CH));
        for bad in [
            "",
            "20250604-CR-461EA5B000-537A6BA15D-D",
            "20250604-CR-461ea5b000-537A6BA15D-D7",
            "2025060X-CR-461EA5B000-537A6BA15D-D7",
            "20250604-XX-461EA5B000-537A6BA15D-D7",
            "20250604-CR-461EA5B000-537A6BA15D-D7 ",
        ] {
            assert!(!challenge_ok(bad), "{bad}");
            let e = AuthTokenRequest::new(bad, Nip::parse("5265877635").unwrap()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidValue);
            assert_eq!(e.path(), "AuthTokenRequest/Challenge");
        }
    }

    #[test]
    fn policy_limits() {
        let mut p = AuthorizationPolicy::new();
        for i in 0..10 {
            p = p.address(Ipv4Addr::new(10, 0, 0, i)).unwrap();
        }
        assert_eq!(
            p.clone().address(Ipv4Addr::LOCALHOST).unwrap_err().code(),
            ErrorCode::InvalidValue
        );
        assert!(p
            .clone()
            .range(Ipv4Addr::new(10, 0, 0, 9), Ipv4Addr::new(10, 0, 0, 1))
            .is_err());
        assert!(p.clone().mask(Ipv4Addr::new(10, 0, 0, 0), 33).is_err());
        assert!(p.mask(Ipv4Addr::new(10, 0, 0, 0), 32).is_ok());
    }

    #[test]
    fn round_trip_with_policy() {
        let p = AuthorizationPolicy::new()
            .address(Ipv4Addr::new(192, 168, 0, 1))
            .unwrap()
            .range(
                Ipv4Addr::new(222, 111, 0, 1),
                Ipv4Addr::new(222, 111, 0, 255),
            )
            .unwrap()
            .mask(Ipv4Addr::new(192, 168, 1, 0), 24)
            .unwrap();
        let req = AuthTokenRequest::new(CH, PeppolId::parse("PPL123456").unwrap())
            .unwrap()
            .authorization_policy(p)
            .schema(AuthSchema::V2_1);
        let xml = req.to_xml();
        let text = core::str::from_utf8(&xml).unwrap();
        assert!(text.contains("<Ip4Range>222.111.0.1-222.111.0.255</Ip4Range>"));
        assert_eq!(AuthTokenRequest::from_xml(&xml).unwrap(), req);
        let empty = req.clone().authorization_policy(AuthorizationPolicy::new());
        assert_eq!(AuthTokenRequest::from_xml(&empty.to_xml()).unwrap(), empty);
    }

    #[test]
    fn reading_refuses() {
        let ok = AuthTokenRequest::new(CH, Nip::parse("5265877635").unwrap())
            .unwrap()
            .to_xml();
        let ok = core::str::from_utf8(&ok).unwrap();
        for (from, to, code, path) in [
            (
                "<Nip>5265877635",
                "<Nip>5265877636",
                ErrorCode::InvalidValue,
                "ContextIdentifier/Nip",
            ),
            (
                "<Nip>5265877635</Nip>",
                "",
                ErrorCode::MissingElement,
                "ContextIdentifier",
            ),
            (
                "certificateSubject",
                "cert",
                ErrorCode::InvalidValue,
                "SubjectIdentifierType",
            ),
            (
                "<Challenge>2025",
                "<Challenge>1025X",
                ErrorCode::InvalidValue,
                "Challenge",
            ),
            (
                "token/2.0",
                "token/9.9",
                ErrorCode::XmlNamespace,
                "AuthTokenRequest",
            ),
            (
                "</SubjectIdentifierType>",
                "</SubjectIdentifierType><Extra/>",
                ErrorCode::UnexpectedElement,
                "Extra",
            ),
            (
                "<ContextIdentifier>",
                "<ContextIdentifier>text",
                ErrorCode::UnexpectedElement,
                "ContextIdentifier",
            ),
        ] {
            let bad = ok.replacen(from, to, 1);
            let e = AuthTokenRequest::from_xml(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code(), code, "{from}: {e}");
            assert!(e.path().ends_with(path), "{from}: {e}");
        }
    }
}
