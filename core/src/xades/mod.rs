//! XAdES-BES: the AuthTokenRequest for certificate authentication, exclusive C14N, enveloped signatures.
//!
//! - [`AuthTokenRequest`]: the document `POST /auth/xades-signature` takes (auth schema 2.0 or
//!   2.1), written exactly as the official examples, read back with
//!   [`AuthTokenRequest::from_xml`];
//! - [`c14n`]: Exclusive XML Canonicalization 1.0 and Canonical XML 1.0 (with or without
//!   comments) of a document or a subtree;
//! - [`sign_enveloped`]: an enveloped XAdES-BES signature for any XML document, the shape
//!   KSeF accepts (see below);
//! - [`verify`]: checks such a signature (digests, `SignedProperties`, the signature value
//!   with the embedded certificate) and says who signed and when.
//!
//! The signature, appended as the last child of the root element (no white space added):
//!
//! ```text
//! <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="Signature">
//!   <ds:SignedInfo>
//!     <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
//!     <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>  (or #rsa-sha256)
//!     <ds:Reference URI="">
//!       <ds:Transforms>enveloped-signature, xml-exc-c14n#</ds:Transforms>
//!       <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>…
//!     <ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#SignedProperties">
//!       <ds:Transforms>xml-exc-c14n#</ds:Transforms> <ds:DigestMethod …sha256/><ds:DigestValue>…
//!   <ds:SignatureValue>  ECDSA: raw r||s (64 bytes); RSA: PKCS#1 v1.5 — base64
//!   <ds:KeyInfo><ds:X509Data><ds:X509Certificate>  the certificate, base64 DER
//!   <ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#Signature">
//!     <xades:SignedProperties Id="SignedProperties"><xades:SignedSignatureProperties>
//!       <xades:SigningTime>2026-02-01T10:00:00Z</xades:SigningTime>
//!       <xades:SigningCertificate><xades:Cert>
//!         <xades:CertDigest><ds:DigestMethod …sha256/><ds:DigestValue>SHA-256 of the DER</ds:DigestValue></xades:CertDigest>
//!         <xades:IssuerSerial><ds:X509IssuerName>RFC 4514 issuer</ds:X509IssuerName>
//!           <ds:X509SerialNumber>decimal serial</ds:X509SerialNumber></xades:IssuerSerial>
//! ```
//!
//! This is the structure of the official C# client (`SignatureService`), with the `ds:`
//! prefix and exclusive canonicalization of `SignedInfo`; `SigningCertificate` is the XAdES
//! 1.3.2 form (V1, `IssuerSerial` with name and decimal serial) that client sends. Nothing
//! here reads a clock: the signing time is passed in (KSeF compares it with the challenge; the
//! official client uses "now − 1 minute").
//!
//! ```
//! use ksef::crypto::{Certificate, PrivateKey};
//! use ksef::id::Nip;
//! use ksef::model::DateTime;
//! use ksef::xades::{self, AuthTokenRequest, SubjectIdentifierType};
//!
//! # let key_pem = include_bytes!("../../tests/fixtures/xades/ec.key.pem");
//! # let cert_pem = include_bytes!("../../tests/fixtures/xades/ec.cert.pem");
//! let key = PrivateKey::from_pem_or_der(key_pem)?;
//! let cert = Certificate::from_pem_or_der(cert_pem)?;
//! let challenge = "20250604-CR-461EA5B000-537A6BA15D-D7"; // from POST /auth/challenge
//! let request = AuthTokenRequest::new(challenge, Nip::parse("5265877635")?)?
//!     .subject_type(SubjectIdentifierType::CertificateSubject);
//! let time = DateTime::from_unix_seconds(1_769_936_400).unwrap(); // the caller's clock
//! let signed: Vec<u8> = request.sign(&key, &cert, &time)?; // body of POST /auth/xades-signature
//!
//! let checked = xades::verify(&signed)?;
//! assert_eq!(checked.certificate, cert);
//! assert_eq!(checked.signing_time, Some(time));
//! assert_eq!(AuthTokenRequest::from_xml(&signed)?, request);
//! # Ok::<(), ksef::Error>(())
//! ```

pub mod c14n;
pub(crate) mod dom;
mod request;
mod sign;
mod verify;

pub use request::{
    AuthSchema, AuthTokenRequest, AuthorizationPolicy, ContextIdentifier, SubjectIdentifierType,
    MAX_IPS,
};
pub use sign::{sign_enveloped, sign_enveloped_with, SignOptions};
pub use verify::{verify, SignatureAlgorithm, VerifiedSignature};

/// The XML Signature namespace (`ds:`).
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The XAdES 1.3.2 namespace (`xades:`).
pub const XADES_NS: &str = "http://uri.etsi.org/01903/v1.3.2#";
/// The `Type` of the reference to `SignedProperties`.
pub const SIGNED_PROPERTIES_TYPE: &str = "http://uri.etsi.org/01903#SignedProperties";
/// The enveloped-signature transform.
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// SHA-256 as a digest method.
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// SHA-384 as a digest method.
pub const SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
/// SHA-512 as a digest method.
pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
/// The namespace of `InclusiveNamespaces` (exclusive canonicalization parameters).
pub const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
