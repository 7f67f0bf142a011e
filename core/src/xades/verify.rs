//! The XAdES-BES verifier.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::c14n::{self, C14nMethod, NodeSet};
use super::dom::{self, Document};
use super::{
    DS_NS, ENVELOPED_SIGNATURE, EXC_C14N_NS, SHA256, SHA384, SHA512, SIGNED_PROPERTIES_TYPE,
    XADES_NS,
};
use crate::crypto::{Certificate, PublicKey};
use crate::error::{Error, ErrorCode};
use crate::model::DateTime;

/// A signature algorithm (`ds:SignatureMethod`) the verifier supports; the signer uses the
/// SHA-256 ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA with SHA-256 (`xmldsig-more#ecdsa-sha256`), value r||s.
    EcdsaSha256,
    /// ECDSA with SHA-384.
    EcdsaSha384,
    /// ECDSA with SHA-512.
    EcdsaSha512,
    /// RSA PKCS#1 v1.5 with SHA-256 (`xmldsig-more#rsa-sha256`).
    RsaSha256,
    /// RSA PKCS#1 v1.5 with SHA-384.
    RsaSha384,
    /// RSA PKCS#1 v1.5 with SHA-512.
    RsaSha512,
}

impl SignatureAlgorithm {
    const ALL: [SignatureAlgorithm; 6] = [
        Self::EcdsaSha256,
        Self::EcdsaSha384,
        Self::EcdsaSha512,
        Self::RsaSha256,
        Self::RsaSha384,
        Self::RsaSha512,
    ];

    /// The algorithm URI.
    pub const fn uri(self) -> &'static str {
        match self {
            Self::EcdsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            Self::EcdsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
            Self::EcdsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
            Self::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        }
    }

    /// The algorithm named by `uri`, if supported.
    pub fn from_uri(uri: &str) -> Option<SignatureAlgorithm> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    fn is_ecdsa(self) -> bool {
        matches!(
            self,
            Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512
        )
    }
}

/// What [`verify`] found: the signer's certificate and the signed properties.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedSignature {
    /// The certificate whose key made the signature (from `KeyInfo`, matched by
    /// `SigningCertificate`).
    pub certificate: Certificate,
    /// `xades:SigningTime`, if present.
    pub signing_time: Option<DateTime>,
    /// The signature algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The `Id` of `ds:Signature`, if any.
    pub signature_id: Option<String>,
    /// The number of references checked (all of them).
    pub references: usize,
}

/// Verify the one enveloped XAdES-BES signature in `xml`.
///
/// Checked: there is exactly one `ds:Signature`; every `ds:Reference` digest (same-document
/// references only: `URI=""` and `URI="#id"`, ids unique; transforms enveloped-signature,
/// exclusive or inclusive C14N 1.0; digests SHA-256/384/512); one reference is `URI=""` with
/// the enveloped-signature transform (so the whole document is signed) and one points at the
/// signature's `xades:SignedProperties`; `SigningCertificate` (or `SigningCertificateV2`)
/// names a certificate of `KeyInfo` by its digest (and, V1, its serial number); the signature
/// value over the canonical `SignedInfo` with that certificate's key (ECDSA value raw r||s).
///
/// Not checked: whether the certificate is trusted, valid at the signing time or revoked —
/// that is the caller's policy (the result carries the certificate and the time).
///
/// Errors: the XML cannot be read (the codes of [`c14n::canonicalize`]); the signature is
/// missing, not unique, incomplete or not XAdES-BES ([`ErrorCode::XmlSignature`]); an
/// algorithm, transform or reference form is not supported
/// ([`ErrorCode::SignatureUnsupported`]); a digest, the certificate reference or the
/// signature value does not match ([`ErrorCode::SignatureInvalid`]).
pub fn verify(xml: &[u8]) -> Result<VerifiedSignature, Error> {
    let doc = dom::parse(xml)?;
    let sigs: Vec<usize> = doc
        .descendants(doc.root)
        .into_iter()
        .filter(|&i| doc.element(i).is(DS_NS, "Signature"))
        .collect();
    match sigs.as_slice() {
        [one] => verify_signature(&doc, *one),
        [] => Err(Error::new(
            ErrorCode::XmlSignature,
            "",
            "the document has no ds:Signature",
        )),
        [_, second, ..] => Err(Error::new(
            ErrorCode::XmlSignature,
            doc.path(*second),
            "the document has more than one ds:Signature",
        )),
    }
}

fn err(code: ErrorCode, path: String, msg: impl Into<String>) -> Error {
    Error::new(code, path, msg)
}

/// The required child `{ns}local` of `parent`.
fn need(
    doc: &Document,
    parent: usize,
    ns: &str,
    local: &str,
    prefix: &str,
) -> Result<usize, Error> {
    doc.child(parent, ns, local).ok_or_else(|| {
        err(
            ErrorCode::XmlSignature,
            format!("{}/{prefix}:{local}", doc.path(parent)),
            format!("{prefix}:{local} is missing"),
        )
    })
}

fn b64(doc: &Document, el: usize) -> Result<Vec<u8>, Error> {
    let text: String = doc
        .text(el)
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    B64.decode(text.as_bytes())
        .map_err(|_| err(ErrorCode::XmlSignature, doc.path(el), "not valid base64"))
}

fn algorithm_attr(doc: &Document, el: usize) -> Result<&str, Error> {
    doc.element(el).attr("Algorithm").ok_or_else(|| {
        err(
            ErrorCode::XmlSignature,
            doc.path(el),
            "the Algorithm attribute is missing",
        )
    })
}

fn digest(alg_el: usize, doc: &Document, data: &[u8]) -> Result<Vec<u8>, Error> {
    let alg = algorithm_attr(doc, alg_el)?;
    Ok(match alg {
        SHA256 => Sha256::digest(data).to_vec(),
        SHA384 => Sha384::digest(data).to_vec(),
        SHA512 => Sha512::digest(data).to_vec(),
        other => {
            return Err(err(
                ErrorCode::SignatureUnsupported,
                doc.path(alg_el),
                format!("digest method `{other}` is not supported (SHA-256/384/512 are)"),
            ))
        }
    })
}

/// The `PrefixList` of an `ec:InclusiveNamespaces` child of `el`.
fn inclusive_prefixes(doc: &Document, el: usize) -> Vec<String> {
    doc.child(el, EXC_C14N_NS, "InclusiveNamespaces")
        .and_then(|i| doc.element(i).attr("PrefixList"))
        .map(|l| {
            l.split_ascii_whitespace()
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Verify the signature element `sig` of `doc`.
pub(crate) fn verify_signature(doc: &Document, sig: usize) -> Result<VerifiedSignature, Error> {
    let info = need(doc, sig, DS_NS, "SignedInfo", "ds")?;
    let cm = need(doc, info, DS_NS, "CanonicalizationMethod", "ds")?;
    let cm_uri = algorithm_attr(doc, cm)?;
    let method = C14nMethod::from_uri(cm_uri).ok_or_else(|| {
        err(
            ErrorCode::SignatureUnsupported,
            doc.path(cm),
            format!("canonicalization `{cm_uri}` is not supported"),
        )
    })?;
    let sm = need(doc, info, DS_NS, "SignatureMethod", "ds")?;
    let sm_uri = algorithm_attr(doc, sm)?;
    let algorithm = SignatureAlgorithm::from_uri(sm_uri).ok_or_else(|| {
        err(
            ErrorCode::SignatureUnsupported,
            doc.path(sm),
            format!(
                "signature method `{sm_uri}` is not supported (ECDSA and RSA PKCS#1 v1.5 with \
                 SHA-256/384/512 are)"
            ),
        )
    })?;

    // references
    let mut whole_document = false;
    let mut props_ref = None;
    let refs: Vec<usize> = doc.children_named(info, DS_NS, "Reference").collect();
    if refs.is_empty() {
        return Err(err(
            ErrorCode::XmlSignature,
            doc.path(info),
            "SignedInfo has no ds:Reference",
        ));
    }
    let mut canon = Vec::new();
    for (k, &r) in refs.iter().enumerate() {
        let path = format!("{}[{}]", doc.path(r), k + 1);
        let el = doc.element(r);
        let uri = el.attr("URI").ok_or_else(|| {
            err(
                ErrorCode::SignatureUnsupported,
                path.clone(),
                "a reference without URI is not supported",
            )
        })?;
        let mut set = if uri.is_empty() {
            NodeSet {
                apex: None,
                exclude: None,
                comments: false,
            }
        } else if let Some(id) = uri.strip_prefix('#').filter(|id| !id.contains('(')) {
            let target =
                c14n::find_by_id(doc, id).map_err(|e| err(e.code(), path.clone(), e.message()))?;
            NodeSet {
                apex: Some(target),
                exclude: None,
                comments: false,
            }
        } else {
            return Err(err(
                ErrorCode::SignatureUnsupported,
                path,
                format!("reference URI `{uri}` is not supported (only \"\" and \"#id\" are)"),
            ));
        };
        let mut enveloped = false;
        let mut canon_method = None;
        if let Some(ts) = doc.child(r, DS_NS, "Transforms") {
            for t in doc.children_named(ts, DS_NS, "Transform") {
                let alg = algorithm_attr(doc, t)?;
                if canon_method.is_some() {
                    return Err(err(
                        ErrorCode::SignatureUnsupported,
                        doc.path(t),
                        "no transform may follow canonicalization",
                    ));
                }
                if alg == ENVELOPED_SIGNATURE {
                    enveloped = true;
                    set.exclude = Some(sig);
                } else if let Some(m) = C14nMethod::from_uri(alg) {
                    canon_method = Some((m, inclusive_prefixes(doc, t)));
                } else {
                    return Err(err(
                        ErrorCode::SignatureUnsupported,
                        doc.path(t),
                        format!("transform `{alg}` is not supported"),
                    ));
                }
            }
        }
        // a same-document reference drops comments whatever the method says
        let (m, prefixes) = canon_method.unwrap_or((C14nMethod::Inclusive, Vec::new()));
        canon.clear();
        c14n::write(doc, &set, m.is_exclusive(), &prefixes, &mut canon)?;
        let dm = need(doc, r, DS_NS, "DigestMethod", "ds")?;
        let dv = need(doc, r, DS_NS, "DigestValue", "ds")?;
        if digest(dm, doc, &canon)? != b64(doc, dv)? {
            return Err(err(
                ErrorCode::SignatureInvalid,
                path,
                format!(
                    "the digest of `{}` does not match: the signed content was changed",
                    if uri.is_empty() { "the document" } else { uri }
                ),
            ));
        }
        if uri.is_empty() && enveloped {
            whole_document = true;
        }
        if let Some(target) = set.apex {
            let t = doc.element(target);
            if t.is(XADES_NS, "SignedProperties") && doc.is_within(target, sig) {
                props_ref = Some(target);
            } else if el.attr("Type") == Some(SIGNED_PROPERTIES_TYPE) {
                return Err(err(
                    ErrorCode::XmlSignature,
                    path,
                    "the SignedProperties reference points elsewhere than this signature's \
                     xades:SignedProperties",
                ));
            }
        }
    }
    if !whole_document {
        return Err(err(
            ErrorCode::XmlSignature,
            doc.path(info),
            "no reference URI=\"\" with the enveloped-signature transform: the signature does \
             not cover the document",
        ));
    }
    let Some(props) = props_ref else {
        return Err(err(
            ErrorCode::XmlSignature,
            doc.path(info),
            "no reference to xades:SignedProperties: not a XAdES-BES signature",
        ));
    };

    // certificates
    let ki = need(doc, sig, DS_NS, "KeyInfo", "ds")?;
    let mut certs = Vec::new();
    for xd in doc.children_named(ki, DS_NS, "X509Data") {
        for c in doc.children_named(xd, DS_NS, "X509Certificate") {
            let der = b64(doc, c)?;
            let cert =
                Certificate::from_der(&der).map_err(|e| err(e.code(), doc.path(c), e.message()))?;
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(err(
            ErrorCode::XmlSignature,
            doc.path(ki),
            "KeyInfo carries no ds:X509Certificate",
        ));
    }

    // signed properties
    let ssp = need(doc, props, XADES_NS, "SignedSignatureProperties", "xades")?;
    let signing_time = match doc.child(ssp, XADES_NS, "SigningTime") {
        Some(t) => {
            let text = doc.text(t);
            let text = text.trim();
            Some(text.parse::<DateTime>().map_err(|e| {
                err(
                    ErrorCode::InvalidValue,
                    doc.path(t),
                    format!("`{text}`: {e}"),
                )
            })?)
        }
        None => None,
    };
    let sc = doc
        .child(ssp, XADES_NS, "SigningCertificate")
        .or_else(|| doc.child(ssp, XADES_NS, "SigningCertificateV2"))
        .ok_or_else(|| {
            err(
                ErrorCode::XmlSignature,
                doc.path(ssp),
                "xades:SigningCertificate is missing: not a XAdES-BES signature",
            )
        })?;
    let first = need(doc, sc, XADES_NS, "Cert", "xades")?;
    let cd = need(doc, first, XADES_NS, "CertDigest", "xades")?;
    let cd_method = need(doc, cd, DS_NS, "DigestMethod", "ds")?;
    let cd_value = b64(doc, need(doc, cd, DS_NS, "DigestValue", "ds")?)?;
    let mut signer = None;
    for c in &certs {
        if digest(cd_method, doc, c.der())? == cd_value {
            signer = Some(c.clone());
            break;
        }
    }
    let Some(certificate) = signer else {
        return Err(err(
            ErrorCode::SignatureInvalid,
            doc.path(cd),
            "the signed certificate digest matches no certificate in KeyInfo",
        ));
    };
    if let Some(is) = doc.child(first, XADES_NS, "IssuerSerial") {
        if let Some(sn) = doc.child(is, DS_NS, "X509SerialNumber") {
            let text = doc.text(sn);
            let written = text.trim().trim_start_matches('0');
            let actual = certificate.serial_decimal();
            if written != actual.trim_start_matches('0') {
                return Err(err(
                    ErrorCode::SignatureInvalid,
                    doc.path(sn),
                    format!(
                        "the signed serial number {} is not the certificate's ({actual})",
                        text.trim()
                    ),
                ));
            }
        }
    }

    // the signature value
    let sv = need(doc, sig, DS_NS, "SignatureValue", "ds")?;
    let value = b64(doc, sv)?;
    canon.clear();
    let set = NodeSet {
        apex: Some(info),
        exclude: None,
        comments: method.with_comments(),
    };
    c14n::write(
        doc,
        &set,
        method.is_exclusive(),
        &inclusive_prefixes(doc, cm),
        &mut canon,
    )?;
    let key = certificate
        .public_key()
        .map_err(|e| err(e.code(), doc.path(ki), e.message()))?;
    check_value(&key, algorithm, &canon, &value).map_err(|msg| {
        let code = if msg.starts_with("the certificate") {
            ErrorCode::XmlSignature
        } else {
            ErrorCode::SignatureInvalid
        };
        err(code, doc.path(sv), msg)
    })?;

    Ok(VerifiedSignature {
        certificate,
        signing_time,
        algorithm,
        signature_id: doc.element(sig).attr("Id").map(String::from),
        references: refs.len(),
    })
}

/// Check `value` over `data`; `Err` says why not.
fn check_value(
    key: &PublicKey,
    algorithm: SignatureAlgorithm,
    data: &[u8],
    value: &[u8],
) -> Result<(), String> {
    let bad = || {
        String::from(
            "the signature value does not match: SignedInfo was changed or another key signed it",
        )
    };
    match key {
        PublicKey::EcP256(vk) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            if !algorithm.is_ecdsa() {
                return Err(format!(
                    "the certificate has an EC key but the signature method is {}",
                    algorithm.uri()
                ));
            }
            if value.len() != 64 {
                return Err(format!(
                    "an ECDSA P-256 signature value is 64 bytes r||s, this one has {} (DER is \
                     not allowed in XML signatures)",
                    value.len()
                ));
            }
            let sig = p256::ecdsa::Signature::from_slice(value).map_err(|_| bad())?;
            let prehash = match algorithm {
                SignatureAlgorithm::EcdsaSha384 => Sha384::digest(data).to_vec(),
                SignatureAlgorithm::EcdsaSha512 => Sha512::digest(data).to_vec(),
                _ => Sha256::digest(data).to_vec(),
            };
            vk.verify_prehash(&prehash, &sig).map_err(|_| bad())
        }
        PublicKey::Rsa(pk) => {
            use rsa::signature::Verifier;
            let sig = rsa::pkcs1v15::Signature::try_from(value).map_err(|_| bad())?;
            let ok = match algorithm {
                SignatureAlgorithm::RsaSha256 => {
                    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk.clone()).verify(data, &sig)
                }
                SignatureAlgorithm::RsaSha384 => {
                    rsa::pkcs1v15::VerifyingKey::<Sha384>::new(pk.clone()).verify(data, &sig)
                }
                SignatureAlgorithm::RsaSha512 => {
                    rsa::pkcs1v15::VerifyingKey::<Sha512>::new(pk.clone()).verify(data, &sig)
                }
                _ => {
                    return Err(format!(
                        "the certificate has an RSA key but the signature method is {}",
                        algorithm.uri()
                    ))
                }
            };
            ok.map_err(|_| bad())
        }
    }
}
