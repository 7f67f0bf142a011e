//! The enveloped XAdES-BES signer.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::c14n::{self, C14nMethod, NodeSet};
use super::dom::{self, Document};
use super::verify::{self, SignatureAlgorithm};
use super::{DS_NS, ENVELOPED_SIGNATURE, SHA256, SIGNED_PROPERTIES_TYPE, XADES_NS};
use crate::crypto::{Certificate, PrivateKey};
use crate::error::{Error, ErrorCode};
use crate::model::DateTime;

/// The smallest RSA key KSeF accepts for XAdES (`auth/podpis-xades.md`), in bits.
const MIN_RSA_BITS: usize = 2048;

/// Options of [`sign_enveloped_with`] (start from `SignOptions::default()`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignOptions {
    /// The `Id` of `ds:Signature` (default `Signature`). When the document already uses it,
    /// `-2`, `-3`, … is appended.
    pub signature_id: String,
    /// The `Id` of `xades:SignedProperties` (default `SignedProperties`), made unique the same
    /// way.
    pub signed_properties_id: String,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            signature_id: "Signature".into(),
            signed_properties_id: "SignedProperties".into(),
        }
    }
}

/// Sign `xml` with an enveloped XAdES-BES signature (the shape is in the [module
/// documentation](super)): SHA-256 digests, exclusive canonicalization, ECDSA P-256 (raw
/// r||s) or RSA PKCS#1 v1.5 with SHA-256 depending on the key, the certificate in `KeyInfo`
/// and in `SigningCertificate`, `SigningTime` = `signing_time` in UTC (`…Z`, whole seconds).
///
/// The signature is inserted before the root element's end tag; every other byte of the
/// input is kept. The result is checked with [`super::verify`] before it is returned.
///
/// Nothing random is needed: ECDSA nonces follow RFC 6979, and RSA PKCS#1 v1.5 signing runs
/// without blinding (so the `rsa` crate's timing advisory RUSTSEC-2023-0071 applies to RSA
/// keys; EC keys, which KSeF issues, are not affected).
///
/// Errors: the XML cannot be read (the codes of [`c14n::canonicalize`]); the key does not
/// belong to the certificate, or is an RSA key under 2048 bits, or an id is not usable
/// ([`ErrorCode::XmlSignature`]); `signing_time` is out of the years 1–9999
/// ([`ErrorCode::InvalidValue`]).
pub fn sign_enveloped(
    xml: &[u8],
    key: &PrivateKey,
    cert: &Certificate,
    signing_time: &DateTime,
) -> Result<Vec<u8>, Error> {
    sign_enveloped_with(xml, key, cert, signing_time, &SignOptions::default())
}

/// [`sign_enveloped`] with chosen ids.
pub fn sign_enveloped_with(
    xml: &[u8],
    key: &PrivateKey,
    cert: &Certificate,
    signing_time: &DateTime,
    options: &SignOptions,
) -> Result<Vec<u8>, Error> {
    let algorithm = match key {
        PrivateKey::EcP256(_) => SignatureAlgorithm::EcdsaSha256,
        PrivateKey::Rsa(k) => {
            use rsa::traits::PublicKeyParts;
            let bits = k.size() * 8;
            if bits < MIN_RSA_BITS {
                return Err(Error::new(
                    ErrorCode::XmlSignature,
                    "",
                    format!("the RSA key has {bits} bits; KSeF needs at least {MIN_RSA_BITS}"),
                ));
            }
            SignatureAlgorithm::RsaSha256
        }
    };
    if !cert.matches_key(key) {
        return Err(Error::new(
            ErrorCode::XmlSignature,
            "",
            "the private key does not belong to the certificate",
        ));
    }
    let time = DateTime::from_unix_seconds(signing_time.unix_seconds()).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidValue,
            "SigningTime",
            format!("the signing time {signing_time} is out of range"),
        )
    })?;

    let doc = dom::parse(xml)?;
    for (what, id) in [
        ("signature", &options.signature_id),
        ("SignedProperties", &options.signed_properties_id),
    ] {
        if !is_ncname(id) {
            return Err(Error::new(
                ErrorCode::XmlSignature,
                "",
                format!("the {what} id `{id}` is not an XML name without `:`"),
            ));
        }
    }
    let sig_id = unique_id(&doc, &options.signature_id, "");
    let props_id = unique_id(&doc, &options.signed_properties_id, &sig_id);

    // 1. the document (the signature is not there yet, so nothing to leave out)
    let mut canon = Vec::with_capacity(xml.len());
    let whole = NodeSet {
        apex: None,
        exclude: None,
        comments: false,
    };
    c14n::write(&doc, &whole, true, &[], &mut canon)?;
    let doc_digest = B64.encode(Sha256::digest(&canon));

    // 2. SignedProperties, canonicalized where it will stand
    let props = signed_properties(&props_id, &time, cert);
    let mut parts = Parts {
        sig_id: &sig_id,
        props_id: &props_id,
        algorithm,
        doc_digest: &doc_digest,
        props_digest: String::new(),
        signature_value: String::new(),
        cert_b64: B64.encode(cert.der()),
        props: &props,
    };
    let draft = insert(xml, &doc, &parts.render())?;
    let draft_doc = dom::parse(&draft)?;
    let props_el = c14n::find_by_id(&draft_doc, &props_id)?;
    canon.clear();
    c14n::write(&draft_doc, &subtree(props_el), true, &[], &mut canon)?;
    parts.props_digest = B64.encode(Sha256::digest(&canon));

    // 3. SignedInfo, canonicalized where it will stand, then signed
    let draft = insert(xml, &doc, &parts.render())?;
    let draft_doc = dom::parse(&draft)?;
    let sig_el = c14n::find_by_id(&draft_doc, &sig_id)?;
    let info = draft_doc
        .child(sig_el, DS_NS, "SignedInfo")
        .ok_or_else(|| Error::new(ErrorCode::XmlSignature, "", "SignedInfo is missing"))?;
    canon.clear();
    c14n::write(&draft_doc, &subtree(info), true, &[], &mut canon)?;
    parts.signature_value = B64.encode(sign_bytes(key, &canon)?);

    let signed = insert(xml, &doc, &parts.render())?;
    // never hand out a signature our own verifier rejects
    let signed_doc = dom::parse(&signed)?;
    let sig_el = c14n::find_by_id(&signed_doc, &sig_id)?;
    verify::verify_signature(&signed_doc, sig_el)?;
    Ok(signed)
}

fn subtree(apex: usize) -> NodeSet {
    NodeSet {
        apex: Some(apex),
        exclude: None,
        comments: false,
    }
}

/// The signature value of `data`: ECDSA P-256/SHA-256 as raw r||s (RFC 6979 nonces), or RSA
/// PKCS#1 v1.5/SHA-256.
fn sign_bytes(key: &PrivateKey, data: &[u8]) -> Result<Vec<u8>, Error> {
    match key {
        PrivateKey::EcP256(k) => {
            use p256::ecdsa::signature::Signer;
            let sig: p256::ecdsa::Signature = k.sign(data);
            Ok(sig.to_bytes().to_vec())
        }
        PrivateKey::Rsa(k) => {
            use rsa::signature::{SignatureEncoding, Signer};
            let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(k.clone());
            let sig = signer.try_sign(data).map_err(|_| {
                Error::new(
                    ErrorCode::XmlSignature,
                    "",
                    "the RSA signature could not be made",
                )
            })?;
            Ok(sig.to_vec())
        }
    }
}

/// `base`, or `base-2`, `base-3`, … — the first not used as an id in `doc` nor equal to
/// `taken`.
fn unique_id(doc: &Document, base: &str, taken: &str) -> String {
    let used = |id: &str| {
        id == taken
            || doc.descendants(doc.root).into_iter().any(|i| {
                doc.element(i)
                    .attrs
                    .iter()
                    .any(|a| a.value == id && matches!(a.local.as_str(), "Id" | "ID" | "id"))
            })
    };
    if !used(base) {
        return base.into();
    }
    let mut n = 2u32;
    loop {
        let id = format!("{base}-{n}");
        if !used(&id) {
            return id;
        }
        n += 1;
    }
}

/// An XML name without `:` (an `xsd:ID`).
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Escape text for element content or a double-quoted attribute.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// The `xades:SignedProperties` element.
fn signed_properties(id: &str, time: &DateTime, cert: &Certificate) -> String {
    let digest = B64.encode(cert.sha256_fingerprint());
    format!(
        "<xades:SignedProperties Id=\"{id}\"><xades:SignedSignatureProperties>\
         <xades:SigningTime>{time}</xades:SigningTime><xades:SigningCertificate><xades:Cert>\
         <xades:CertDigest><ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{digest}\
         </ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>{issuer}\
         </ds:X509IssuerName><ds:X509SerialNumber>{serial}</ds:X509SerialNumber>\
         </xades:IssuerSerial></xades:Cert></xades:SigningCertificate>\
         </xades:SignedSignatureProperties></xades:SignedProperties>",
        time = time.as_str(),
        issuer = escape(&cert.issuer_rfc4514()),
        serial = cert.serial_decimal(),
    )
}

/// The pieces of the signature element.
struct Parts<'a> {
    sig_id: &'a str,
    props_id: &'a str,
    algorithm: SignatureAlgorithm,
    doc_digest: &'a str,
    props_digest: String,
    signature_value: String,
    cert_b64: String,
    props: &'a str,
}

impl Parts<'_> {
    fn render(&self) -> String {
        let exc = C14nMethod::Exclusive.uri();
        format!(
            "<ds:Signature xmlns:ds=\"{DS_NS}\" Id=\"{sig_id}\"><ds:SignedInfo>\
             <ds:CanonicalizationMethod Algorithm=\"{exc}\"/>\
             <ds:SignatureMethod Algorithm=\"{alg}\"/>\
             <ds:Reference URI=\"\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{ENVELOPED_SIGNATURE}\"/>\
             <ds:Transform Algorithm=\"{exc}\"/></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"{SHA256}\"/>\
             <ds:DigestValue>{doc_digest}</ds:DigestValue></ds:Reference>\
             <ds:Reference Type=\"{SIGNED_PROPERTIES_TYPE}\" URI=\"#{props_id}\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{exc}\"/></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"{SHA256}\"/>\
             <ds:DigestValue>{props_digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>\
             <ds:SignatureValue>{value}</ds:SignatureValue>\
             <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate>\
             </ds:X509Data></ds:KeyInfo>\
             <ds:Object><xades:QualifyingProperties xmlns:xades=\"{XADES_NS}\" \
             Target=\"#{sig_id}\">{props}</xades:QualifyingProperties></ds:Object>\
             </ds:Signature>",
            sig_id = self.sig_id,
            props_id = self.props_id,
            alg = self.algorithm.uri(),
            doc_digest = self.doc_digest,
            props_digest = self.props_digest,
            value = self.signature_value,
            cert = self.cert_b64,
            props = self.props,
        )
    }
}

/// `xml` with `signature` as the last child of the root element.
fn insert(xml: &[u8], doc: &Document, signature: &str) -> Result<Vec<u8>, Error> {
    let root = doc.element(doc.root);
    let mut out = Vec::with_capacity(xml.len() + signature.len() + 16);
    if root.self_closing {
        // `<root .../>` becomes `<root ...>SIGNATURE</root>`
        let slash = root
            .end
            .checked_sub(2)
            .filter(|&s| xml.get(s) == Some(&b'/'));
        let Some(slash) = slash else {
            return Err(Error::new(
                ErrorCode::XmlSignature,
                root.qname(),
                "cannot find the end of the root element",
            ));
        };
        out.extend_from_slice(&xml[..slash]);
        out.push(b'>');
        out.extend_from_slice(signature.as_bytes());
        out.extend_from_slice(format!("</{}>", root.qname()).as_bytes());
        out.extend_from_slice(&xml[root.end..]);
    } else {
        let at = root.end_tag;
        if xml.get(at..at + 2) != Some(b"</") {
            return Err(Error::new(
                ErrorCode::XmlSignature,
                root.qname(),
                "cannot find the end tag of the root element",
            ));
        }
        out.extend_from_slice(&xml[..at]);
        out.extend_from_slice(signature.as_bytes());
        out.extend_from_slice(&xml[at..]);
    }
    Ok(out)
}
