//! UPO (*Urzędowe Poświadczenie Odbioru*), the official receipt KSeF issues for accepted
//! invoices: schema `upo-v4-3.xsd`, namespace `http://upo.schematy.mf.gov.pl/KSeF/v4-3` (the
//! default since 2025-12-22).
//!
//! The same root element `Potwierdzenie` serves the per-invoice UPO
//! (`GET /sessions/{ref}/invoices/{invoiceRef}/upo`, one `Dokument`) and the session UPO
//! (`GET /sessions/{ref}/upo/{upoRef}`, up to 10 000 `Dokument` per page, with
//! `OpisPotwierdzenia` saying which page it is).
//!
//! Real UPOs are XAdES-signed by the Ministry of Finance: an enveloped `ds:Signature`, a
//! child of the root, is accepted and kept ([`Upo::signature`]) but **not verified** here —
//! call [`crate::xades::verify`] on the same bytes for that.
//!
//! ```
//! use ksef::protocol::upo::{AuthenticationProof, SendingMode, Upo, UpoContext};
//!
//! let xml = r#"<?xml version="1.0" encoding="utf-8"?>
//! <Potwierdzenie xmlns="http://upo.schematy.mf.gov.pl/KSeF/v4-3">
//!   <NazwaPodmiotuPrzyjmujacego>Ministerstwo Finansów</NazwaPodmiotuPrzyjmujacego>
//!   <NumerReferencyjnySesji>20250916-SO-2C3E6C8000-B1A9B8A3C6-B6</NumerReferencyjnySesji>
//!   <Uwierzytelnienie>
//!     <IdKontekstu><Nip>5265877635</Nip></IdKontekstu>
//!     <NumerReferencyjnyTokenaKSeF>20250819-EC-1ECDD12000-5EE71AE5E3-B7</NumerReferencyjnyTokenaKSeF>
//!   </Uwierzytelnienie>
//!   <NazwaStrukturyLogicznej>Schemat_FA(3)_v1-0E.xsd</NazwaStrukturyLogicznej>
//!   <KodFormularza>FA (3)</KodFormularza>
//!   <Dokument>
//!     <NipSprzedawcy>5265877635</NipSprzedawcy>
//!     <NumerKSeFDokumentu>5265877635-20250916-0200A0D6723E-C2</NumerKSeFDokumentu>
//!     <NumerFaktury>FA/1/09/2025</NumerFaktury>
//!     <DataWystawieniaFaktury>2025-09-16</DataWystawieniaFaktury>
//!     <DataPrzeslaniaDokumentu>2025-09-16T11:05:40.841+02:00</DataPrzeslaniaDokumentu>
//!     <DataNadaniaNumeruKSeF>2025-09-16T11:05:41.045+02:00</DataNadaniaNumeruKSeF>
//!     <SkrotDokumentu>GZMGNVzs3krF6URKgvaw77OOeG3nJ+WGziT5xguliQ8=</SkrotDokumentu>
//!     <TrybWysylki>Online</TrybWysylki>
//!   </Dokument>
//! </Potwierdzenie>"#;
//! let upo = Upo::parse(xml.as_bytes())?;
//! assert_eq!(upo.environment(), Some(ksef::Environment::Production));
//! assert_eq!(upo.authentication.context, UpoContext::Nip("5265877635".into()));
//! assert!(matches!(upo.authentication.proof, AuthenticationProof::KsefTokenReference(_)));
//! let doc = &upo.documents[0];
//! assert_eq!(doc.ksef_number.as_str(), "5265877635-20250916-0200A0D6723E-C2");
//! assert_eq!(doc.issue_date.to_string(), "2025-09-16");
//! assert_eq!(doc.mode, SendingMode::Online);
//! assert!(upo.signature.is_none()); // a real UPO carries the Ministry's signature
//! # Ok::<(), ksef::Error>(())
//! ```
//!
//! # What is checked
//!
//! The structure and order of the XSD, the namespace (any prefix), and every simple type:
//! patterns of reference numbers and identifiers, lengths, dates with their lower bounds,
//! positive integers, `Online`/`Offline`, at most 10 000 `Dokument` with unique KSeF numbers.
//! KSeF numbers are read as [`KsefNumber`] (format, date and CRC-8; KSeF 1.0 numbers are
//! refused), hashes as [`Sha256Hash`] (base64 of 32 bytes), dates as [`Date`] and
//! [`DateTime`]. DTDs are refused, only UTF-8 is read.
//!
//! # Tolerance
//!
//! The parser accepts what KSeF really sends, where that differs from the XSD:
//!
//! - `NazwaPodmiotuPrzyjmujacego` is fixed to `Ministerstwo Finansów` in the XSD, but the TEST
//!   and DEMO environments send `Ministerstwo Finansów - środowisko testowe (TE)` /
//!   `... przedprodukcyjne (TR)` (API changelog RC6.0; the official samples carry the TE form
//!   and fail XSD validation on that element only). Any name of 1 to 240 characters is
//!   accepted; [`Upo::environment`] reads the environment from it.
//! - NIPs (`NipSprzedawcy` and the NIP in context identifiers) are checked against the XSD
//!   pattern only, not the NIP checksum: KSeF checks seller NIP checksums only in production
//!   (API changelog), so TEST receipts may carry NIPs that fail it. Use
//!   [`crate::id::Nip::parse`] or [`UpoContext::to_context_identifier`] for the full check.
//! - An enveloped `ds:Signature` child of the root is allowed (the XSD does not declare it);
//!   attributes other than `wersjaSchemy` and white space between elements are ignored.
//! - `ZakresDokumentowDo` is documented as exclusive but the official session samples use it
//!   inclusively (1..2 for two documents); the values are returned as written, unchecked
//!   against each other.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::crypto::hash::Sha256Hash;
use crate::env::Environment;
use crate::error::{Error, ErrorCode};
use crate::id::{InternalId, KsefNumber, Nip, NipVatUe, PeppolId, VatUeId};
use crate::model::{Date, DateTime};
use crate::xades::dom::{self, Document};
use crate::xades::{ContextIdentifier, DS_NS};

/// The UPO v4-3 namespace.
pub const NAMESPACE: &str = "http://upo.schematy.mf.gov.pl/KSeF/v4-3";

/// The most `Dokument` elements one UPO (page) holds.
pub const MAX_DOCUMENTS: usize = 10_000;

/// The receiving entity's name fixed by the XSD (the production value).
pub const RECEIVING_ENTITY: &str = "Ministerstwo Finansów";

/// The root element.
const ROOT: &str = "Potwierdzenie";

/// An official receipt (`Potwierdzenie`, UPO v4-3): for one invoice, or for a session (or one
/// page of it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upo {
    /// `@wersjaSchemy`: the version of the UPO structure, when given (optional attribute).
    pub schema_version: Option<String>,
    /// `NazwaPodmiotuPrzyjmujacego`: the receiving entity (`Ministerstwo Finansów`, with an
    /// environment suffix outside production, see the module documentation).
    pub receiving_entity: String,
    /// `NumerReferencyjnySesji`: the reference number of the session the documents were sent
    /// in (`YYYYMMDD-XX-XXXXXXXXXX-XXXXXXXXXX-XX`, pattern `TNumerReferencyjny`).
    pub session_reference_number: String,
    /// `Uwierzytelnienie`: how the session was authenticated.
    pub authentication: Authentication,
    /// `OpisPotwierdzenia`: the page of a session UPO split into pages (absent in a
    /// per-invoice UPO).
    pub page: Option<UpoPage>,
    /// `NazwaStrukturyLogicznej`: the XSD file name of the documents' logical structure
    /// (`Schemat_FA(3)_v1-0E.xsd`).
    pub logical_structure: String,
    /// `KodFormularza`: the form code of the documents (`FA (3)`).
    pub form_code: String,
    /// `Dokument` (1 to 10 000): the accepted documents.
    pub documents: Vec<UpoDocument>,
    /// The enveloped `ds:Signature` of the Ministry, when present (not verified here).
    pub signature: Option<UpoSignature>,
}

/// `Uwierzytelnienie`: the context of the session and the proof of authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authentication {
    /// `IdKontekstu`: the context identifier.
    pub context: UpoContext,
    /// `NumerReferencyjnyTokenaKSeF` or `SkrotDokumentuUwierzytelniajacego`.
    pub proof: AuthenticationProof,
}

/// `IdKontekstu`: the context the session was opened in (a choice of four identifiers). The
/// values match the XSD patterns; NIP checksums are not checked (see the module
/// documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UpoContext {
    /// `Nip`: a taxpayer's NIP (`TNip`).
    Nip(String),
    /// `IdWewnetrzny`: an internal identifier `NIP-nnnnn` (`TIdWewnetrzny`).
    InternalId(String),
    /// `IdZlozonyVatUE`: NIP + EU VAT number, `NIP-<country><number>` (`TIdZlozonyVatUE`).
    NipVatUe(String),
    /// `IdDostawcyUslugPeppol`: a Peppol service provider, `P[A-Z]{2}[0-9]{6}`.
    PeppolId(String),
}

impl UpoContext {
    /// The element name: `Nip`, `IdWewnetrzny`, `IdZlozonyVatUE` or `IdDostawcyUslugPeppol`.
    pub const fn element(&self) -> &'static str {
        match self {
            UpoContext::Nip(_) => "Nip",
            UpoContext::InternalId(_) => "IdWewnetrzny",
            UpoContext::NipVatUe(_) => "IdZlozonyVatUE",
            UpoContext::PeppolId(_) => "IdDostawcyUslugPeppol",
        }
    }

    /// The identifier as written.
    pub fn value(&self) -> &str {
        match self {
            UpoContext::Nip(v)
            | UpoContext::InternalId(v)
            | UpoContext::NipVatUe(v)
            | UpoContext::PeppolId(v) => v,
        }
    }

    /// The checked identifier (NIP checksums included), as used by
    /// [`crate::xades::AuthTokenRequest`]: compare it with the context you authenticated in.
    ///
    /// Errors: [`ErrorCode::InvalidValue`] when a NIP checksum does not match.
    pub fn to_context_identifier(&self) -> Result<ContextIdentifier, Error> {
        let path = format!("{ROOT}/Uwierzytelnienie/IdKontekstu/{}", self.element());
        Ok(match self {
            UpoContext::Nip(v) => Nip::parse(v).map_err(|e| e.at(path))?.into(),
            UpoContext::InternalId(v) => InternalId::parse(v).map_err(|e| e.at(path))?.into(),
            UpoContext::NipVatUe(v) => NipVatUe::parse(v).map_err(|e| e.at(path))?.into(),
            UpoContext::PeppolId(v) => PeppolId::parse(v).map_err(|e| e.at(path))?.into(),
        })
    }
}

/// The second part of `Uwierzytelnienie` (a choice): what the session was authenticated with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthenticationProof {
    /// `NumerReferencyjnyTokenaKSeF`: the reference number of the KSeF token used
    /// (`TNumerReferencyjny`).
    KsefTokenReference(String),
    /// `SkrotDokumentuUwierzytelniajacego`: the SHA-256 of the authentication document as
    /// KSeF received it (the signed `AuthTokenRequest`, signature included).
    AuthDocumentHash(Sha256Hash),
}

/// `OpisPotwierdzenia`: which page of a session UPO this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UpoPage {
    /// `Strona`: the number of this page (from 1).
    pub page: u32,
    /// `LiczbaStron`: the number of pages.
    pub page_count: u32,
    /// `ZakresDokumentowOd`: the first document on this page (from 1).
    pub documents_from: u32,
    /// `ZakresDokumentowDo`: the end of the range of documents on this page (documented as
    /// exclusive; the official samples use it inclusively).
    pub documents_to: u32,
    /// `CalkowitaLiczbaDokumentow`: the number of documents on all pages.
    pub total_documents: u32,
}

/// `Dokument`: one accepted invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpoDocument {
    /// `NipSprzedawcy`: the seller's NIP from the invoice (`Podmiot1`); XSD pattern only, no
    /// checksum check.
    pub seller_nip: String,
    /// `NumerKSeFDokumentu`: the KSeF number given to the invoice.
    pub ksef_number: KsefNumber,
    /// `NumerFaktury`: the invoice number (`P_2`), 1 to 256 characters.
    pub invoice_number: String,
    /// `DataWystawieniaFaktury`: the issue date (`P_1`), not before 2006-01-01.
    pub issue_date: Date,
    /// `DataPrzeslaniaDokumentu`: when the invoice was sent to KSeF.
    pub sent_at: DateTime,
    /// `DataNadaniaNumeruKSeF`: when KSeF assigned the KSeF number (the API's
    /// `acquisitionDate`, the legal date of receipt).
    pub ksef_number_assigned_at: DateTime,
    /// `SkrotDokumentu`: SHA-256 of the invoice file as sent (the API's `invoiceHash`).
    pub hash: Sha256Hash,
    /// `TrybWysylki`: online or offline mode.
    pub mode: SendingMode,
}

/// `TrybWysylki`: how the invoice was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendingMode {
    /// `Online`.
    Online,
    /// `Offline` (offline24, unavailability, emergency mode).
    Offline,
}

impl SendingMode {
    /// The value as written (`Online`, `Offline`).
    pub const fn as_str(self) -> &'static str {
        match self {
            SendingMode::Online => "Online",
            SendingMode::Offline => "Offline",
        }
    }
}

/// The enveloped `ds:Signature` of a UPO, kept as the exact bytes of the element. Those bytes
/// alone may not be a well-formed document (the `ds` prefix can be declared on the root); to
/// check the signature, pass the whole UPO to [`crate::xades::verify`].
#[derive(Clone, PartialEq, Eq)]
pub struct UpoSignature {
    xml: Vec<u8>,
}

impl UpoSignature {
    /// The bytes of the `ds:Signature` element, from its start tag to its end tag, as
    /// received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.xml
    }
}

impl core::fmt::Debug for UpoSignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UpoSignature({} bytes)", self.xml.len())
    }
}

impl Upo {
    /// Read a UPO v4-3 (signed or not; the signature is kept, not checked).
    ///
    /// Errors: not well-formed or a DTD ([`ErrorCode::XmlSyntax`],
    /// [`ErrorCode::XmlDtdForbidden`], [`ErrorCode::Encoding`]); another root or namespace
    /// ([`ErrorCode::XmlNamespace`]); an element missing, unexpected or out of order
    /// ([`ErrorCode::MissingElement`], [`ErrorCode::UnexpectedElement`]); a value that does
    /// not fit its type or a repeated KSeF number ([`ErrorCode::InvalidValue`]); a bad KSeF
    /// number ([`ErrorCode::KsefNumber`]). Paths name elements by local name, documents
    /// counted from 1: `Potwierdzenie/Dokument[2]/DataNadaniaNumeruKSeF`.
    pub fn parse(xml: &[u8]) -> Result<Upo, Error> {
        let doc = dom::parse(xml)?;
        Reader { doc: &doc, xml }.upo()
    }

    /// The environment that issued the UPO, read from `NazwaPodmiotuPrzyjmujacego`:
    /// `Ministerstwo Finansów` is production, a `(TE)` suffix TEST, a `(TR)` suffix DEMO;
    /// `None` for any other name.
    pub fn environment(&self) -> Option<Environment> {
        let name = self.receiving_entity.as_str();
        if name == RECEIVING_ENTITY {
            Some(Environment::Production)
        } else if !name.starts_with(RECEIVING_ENTITY) {
            None
        } else if name.ends_with("(TE)") {
            Some(Environment::Test)
        } else if name.ends_with("(TR)") {
            Some(Environment::Demo)
        } else {
            None
        }
    }

    /// The document with KSeF number `n`, if this UPO lists it.
    pub fn document(&self, n: &KsefNumber) -> Option<&UpoDocument> {
        self.documents.iter().find(|d| &d.ksef_number == n)
    }
}

struct Reader<'d> {
    doc: &'d Document,
    xml: &'d [u8],
}

fn is_xml_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `xsd:token` whitespace handling: trimmed, inner runs collapsed to one space.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.split(is_xml_ws).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// `TNip`: `[1-9]((\d[1-9])|([1-9]\d))\d{7}`.
fn nip_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().all(u8::is_ascii_digit)
        && b[0] != b'0'
        && !(b[1] == b'0' && b[2] == b'0')
}

/// `TNumerReferencyjny`: `YYYYMMDD-XX-XXXXXXXXXX-XXXXXXXXXX-XX` (year from 2020, month
/// 01-12, day 01-31, type `[0-9A-Z]{2}`, upper-case hex parts).
fn reference_ok(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 11, 22, 33].iter().any(|&i| b[i] != b'-') {
        return false;
    }
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    let hex = |r: &[u8]| {
        r.iter()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c))
    };
    let num = |r: &[u8]| r.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    if !digits(&b[..8]) {
        return false;
    }
    let (year, month, day) = (num(&b[..4]), num(&b[4..6]), num(&b[6..8]));
    (2020..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && b[9..11]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && hex(&b[12..22])
        && hex(&b[23..33])
        && hex(&b[34..36])
}

impl Reader<'_> {
    fn err(code: ErrorCode, path: &str, msg: impl Into<String>) -> Error {
        Error::new(code, path, msg)
    }

    /// The child elements of `i` with their paths; text other than white space is refused,
    /// `ds:Signature` (only under the root) is set aside.
    fn kids(
        &self,
        i: usize,
        path: &str,
        signature: Option<&mut Option<usize>>,
    ) -> Result<Vec<(usize, String)>, Error> {
        let doc = self.doc;
        for &c in &doc.element(i).children {
            if let Some(dom::Node::Text(t)) = doc.nodes.get(c) {
                if !t.trim_matches(is_xml_ws).is_empty() {
                    return Err(Self::err(
                        ErrorCode::UnexpectedElement,
                        path,
                        format!("text `{}` is not allowed here", t.trim()),
                    ));
                }
            }
        }
        let mut sig = signature;
        let mut out = Vec::new();
        for c in doc.child_elements(i) {
            let e = doc.element(c);
            let child_path = format!("{path}/{}", e.local);
            if e.is(DS_NS, "Signature") {
                if let Some(slot) = sig.as_deref_mut() {
                    if slot.is_some() {
                        return Err(Self::err(
                            ErrorCode::UnexpectedElement,
                            &format!("{path}/{}", e.qname()),
                            "only one enveloped signature is allowed",
                        ));
                    }
                    *slot = Some(c);
                    continue;
                }
            }
            if e.ns != NAMESPACE {
                return Err(Self::err(
                    ErrorCode::XmlNamespace,
                    &format!("{path}/{}", e.qname()),
                    format!("`{}` is not in the namespace {NAMESPACE}", e.qname()),
                ));
            }
            out.push((c, child_path));
        }
        Ok(out)
    }

    /// The collapsed value of a simple element (no child elements).
    fn value(&self, i: usize, path: &str) -> Result<String, Error> {
        if let Some(c) = self.doc.child_elements(i).next() {
            return Err(Self::err(
                ErrorCode::UnexpectedElement,
                &format!("{path}/{}", self.doc.element(c).qname()),
                "a value is expected here, not an element",
            ));
        }
        Ok(collapse(&self.doc.text(i)))
    }

    fn upo(&self) -> Result<Upo, Error> {
        let doc = self.doc;
        let root = doc.element(doc.root);
        if root.ns != NAMESPACE || root.local != ROOT {
            return Err(Self::err(
                ErrorCode::XmlNamespace,
                &root.qname(),
                format!(
                    "expected {ROOT} in {NAMESPACE} (UPO v4-3), found `{}` in `{}`",
                    root.local, root.ns
                ),
            ));
        }
        let mut signature = None;
        let kids = self.kids(doc.root, ROOT, Some(&mut signature))?;
        let mut seq = Seq {
            kids: &kids,
            at: 0,
            parent: ROOT,
        };
        let (c, p) = seq.expect("NazwaPodmiotuPrzyjmujacego")?;
        let receiving_entity = self.text_len(c, &p, 1, 240)?;
        let (c, p) = seq.expect("NumerReferencyjnySesji")?;
        let session_reference_number = self.reference(c, &p)?;
        let (c, p) = seq.expect("Uwierzytelnienie")?;
        let authentication = self.authentication(c, &p)?;
        let page = match seq.optional("OpisPotwierdzenia") {
            Some((c, p)) => Some(self.page(c, &p)?),
            None => None,
        };
        let (c, p) = seq.expect("NazwaStrukturyLogicznej")?;
        let logical_structure = self.text_len(c, &p, 1, 240)?;
        let (c, p) = seq.expect("KodFormularza")?;
        let form_code = self.text_len(c, &p, 1, 240)?;
        let mut documents: Vec<UpoDocument> = Vec::new();
        while let Some((c, _)) = seq.optional("Dokument") {
            let n = documents.len() + 1;
            let p = format!("{ROOT}/Dokument[{n}]");
            if n > MAX_DOCUMENTS {
                return Err(Self::err(
                    ErrorCode::UnexpectedElement,
                    &p,
                    format!("a UPO holds at most {MAX_DOCUMENTS} documents"),
                ));
            }
            let d = self.document(c, &p)?;
            if documents.iter().any(|o| o.ksef_number == d.ksef_number) {
                return Err(Self::err(
                    ErrorCode::InvalidValue,
                    &format!("{p}/NumerKSeFDokumentu"),
                    format!("KSeF number {} is listed twice", d.ksef_number),
                ));
            }
            documents.push(d);
        }
        if documents.is_empty() {
            seq.expect("Dokument")?;
        }
        seq.end()?;
        let signature = signature.map(|s| {
            let e = doc.element(s);
            UpoSignature {
                xml: self.xml.get(e.start..e.end).unwrap_or_default().to_vec(),
            }
        });
        Ok(Upo {
            schema_version: root.attr("wersjaSchemy").map(String::from),
            receiving_entity,
            session_reference_number,
            authentication,
            page,
            logical_structure,
            form_code,
            documents,
            signature,
        })
    }

    /// A token of `min..=max` characters.
    fn text_len(&self, i: usize, path: &str, min: usize, max: usize) -> Result<String, Error> {
        let v = self.value(i, path)?;
        let n = v.chars().count();
        if n < min || n > max {
            return Err(Self::err(
                ErrorCode::InvalidValue,
                path,
                format!("expected {min} to {max} characters, found {n}"),
            ));
        }
        Ok(v)
    }

    fn reference(&self, i: usize, path: &str) -> Result<String, Error> {
        let v = self.value(i, path)?;
        if !reference_ok(&v) {
            return Err(Self::err(
                ErrorCode::InvalidValue,
                path,
                format!("`{v}` is not a reference number (YYYYMMDD-XX-XXXXXXXXXX-XXXXXXXXXX-XX)"),
            ));
        }
        Ok(v)
    }

    fn hash(&self, i: usize, path: &str) -> Result<Sha256Hash, Error> {
        let v = self.value(i, path)?;
        Sha256Hash::from_base64(&v).map_err(|e| Self::err(e.code(), path, e.message()))
    }

    fn nip(&self, i: usize, path: &str) -> Result<String, Error> {
        let v = self.value(i, path)?;
        if !nip_ok(&v) {
            return Err(Self::err(
                ErrorCode::InvalidValue,
                path,
                format!(
                    "`{v}` is not a NIP (10 digits, pattern [1-9]((\\d[1-9])|([1-9]\\d))\\d{{7}})"
                ),
            ));
        }
        Ok(v)
    }

    fn authentication(&self, i: usize, path: &str) -> Result<Authentication, Error> {
        let kids = self.kids(i, path, None)?;
        let mut seq = Seq {
            kids: &kids,
            at: 0,
            parent: path,
        };
        let (ctx, ctx_path) = seq.expect("IdKontekstu")?;
        let context = self.context(ctx, &ctx_path)?;
        let proof = match kids.get(seq.at) {
            Some((c, p)) if self.doc.element(*c).local == "NumerReferencyjnyTokenaKSeF" => {
                seq.at += 1;
                AuthenticationProof::KsefTokenReference(self.reference(*c, p)?)
            }
            Some((c, p)) if self.doc.element(*c).local == "SkrotDokumentuUwierzytelniajacego" => {
                seq.at += 1;
                AuthenticationProof::AuthDocumentHash(self.hash(*c, p)?)
            }
            Some((_, p)) => {
                return Err(Self::err(
                    ErrorCode::UnexpectedElement,
                    p,
                    "expected NumerReferencyjnyTokenaKSeF or SkrotDokumentuUwierzytelniajacego",
                ))
            }
            None => {
                return Err(Self::err(
                    ErrorCode::MissingElement,
                    path,
                    "NumerReferencyjnyTokenaKSeF or SkrotDokumentuUwierzytelniajacego is required",
                ))
            }
        };
        seq.end()?;
        Ok(Authentication { context, proof })
    }

    fn context(&self, i: usize, path: &str) -> Result<UpoContext, Error> {
        let kids = self.kids(i, path, None)?;
        let (c, p) =
            match kids.as_slice() {
                [one] => one,
                [] => return Err(Self::err(
                    ErrorCode::MissingElement,
                    path,
                    "one of Nip, IdWewnetrzny, IdZlozonyVatUE, IdDostawcyUslugPeppol is required",
                )),
                [_, (_, second), ..] => {
                    return Err(Self::err(
                        ErrorCode::UnexpectedElement,
                        second,
                        "only one context identifier is allowed",
                    ))
                }
            };
        let v = self.value(*c, p)?;
        let bad =
            |what: &str| Self::err(ErrorCode::InvalidValue, p, format!("`{v}` is not {what}"));
        Ok(match self.doc.element(*c).local.as_str() {
            "Nip" => {
                self.nip(*c, p)?;
                UpoContext::Nip(v)
            }
            "IdWewnetrzny" => {
                let b = v.as_bytes();
                let ok = b.len() == 16
                    && nip_ok(&v[..10])
                    && b[10] == b'-'
                    && b[11..].iter().all(u8::is_ascii_digit);
                if !ok {
                    return Err(bad("an internal identifier (NIP-nnnnn)"));
                }
                UpoContext::InternalId(v)
            }
            "IdZlozonyVatUE" => {
                let ok = match v.split_once('-') {
                    Some((nip, vat)) => {
                        nip_ok(nip)
                            && VatUeId::parse(vat)
                                .and_then(|id| id.check_country_format())
                                .is_ok()
                    }
                    None => false,
                };
                if !ok {
                    return Err(bad("a NIP-VAT UE identifier (NIP-<EU VAT number>)"));
                }
                UpoContext::NipVatUe(v)
            }
            "IdDostawcyUslugPeppol" => {
                PeppolId::parse(&v).map_err(|e| e.at(p.as_str()))?;
                UpoContext::PeppolId(v)
            }
            _ => {
                return Err(Self::err(
                    ErrorCode::UnexpectedElement,
                    p,
                    "expected Nip, IdWewnetrzny, IdZlozonyVatUE or IdDostawcyUslugPeppol",
                ))
            }
        })
    }

    fn page(&self, i: usize, path: &str) -> Result<UpoPage, Error> {
        let kids = self.kids(i, path, None)?;
        let mut seq = Seq {
            kids: &kids,
            at: 0,
            parent: path,
        };
        let mut next = |name: &str| -> Result<u32, Error> {
            let (c, p) = seq.expect(name)?;
            let v = self.value(c, &p)?;
            let digits = v.strip_prefix('+').unwrap_or(&v);
            let n = Some(digits)
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.trim_start_matches('0').parse::<u32>().ok());
            n.ok_or_else(|| {
                Self::err(
                    ErrorCode::InvalidValue,
                    &p,
                    format!("`{v}` is not a positive integer"),
                )
            })
        };
        let page = UpoPage {
            page: next("Strona")?,
            page_count: next("LiczbaStron")?,
            documents_from: next("ZakresDokumentowOd")?,
            documents_to: next("ZakresDokumentowDo")?,
            total_documents: next("CalkowitaLiczbaDokumentow")?,
        };
        seq.end()?;
        Ok(page)
    }

    fn date_time(&self, i: usize, path: &str) -> Result<DateTime, Error> {
        /// `minInclusive 2021-10-01T00:00:00Z`.
        const MIN: i64 = DateTime::utc_seconds_of(2021, 10, 1, 0, 0, 0);
        let v = self.value(i, path)?;
        let t: DateTime = v
            .parse()
            .map_err(|m: &str| Self::err(ErrorCode::InvalidValue, path, format!("`{v}`: {m}")))?;
        if t.unix_seconds() < MIN {
            return Err(Self::err(
                ErrorCode::InvalidValue,
                path,
                format!("`{v}` is before 2021-10-01T00:00:00Z"),
            ));
        }
        Ok(t)
    }

    fn document(&self, i: usize, path: &str) -> Result<UpoDocument, Error> {
        let kids = self.kids(i, path, None)?;
        let mut seq = Seq {
            kids: &kids,
            at: 0,
            parent: path,
        };
        let (c, p) = seq.expect("NipSprzedawcy")?;
        let seller_nip = self.nip(c, &p)?;
        let (c, p) = seq.expect("NumerKSeFDokumentu")?;
        let ksef_number = KsefNumber::parse(&self.value(c, &p)?).map_err(|e| e.at(p))?;
        let (c, p) = seq.expect("NumerFaktury")?;
        let invoice_number = self.text_len(c, &p, 1, 256)?;
        let (c, p) = seq.expect("DataWystawieniaFaktury")?;
        let v = self.value(c, &p)?;
        let issue_date: Date = v
            .parse()
            .map_err(|m: &str| Self::err(ErrorCode::InvalidValue, &p, format!("`{v}`: {m}")))?;
        if issue_date < Date::new_unchecked(2006, 1, 1) {
            return Err(Self::err(
                ErrorCode::InvalidValue,
                &p,
                format!("`{v}` is before 2006-01-01"),
            ));
        }
        let (c, p) = seq.expect("DataPrzeslaniaDokumentu")?;
        let sent_at = self.date_time(c, &p)?;
        let (c, p) = seq.expect("DataNadaniaNumeruKSeF")?;
        let ksef_number_assigned_at = self.date_time(c, &p)?;
        let (c, p) = seq.expect("SkrotDokumentu")?;
        let hash = self.hash(c, &p)?;
        let (c, p) = seq.expect("TrybWysylki")?;
        let mode = match self.value(c, &p)?.as_str() {
            "Online" => SendingMode::Online,
            "Offline" => SendingMode::Offline,
            other => {
                return Err(Self::err(
                    ErrorCode::InvalidValue,
                    &p,
                    format!("`{other}` is not Online or Offline"),
                ))
            }
        };
        seq.end()?;
        Ok(UpoDocument {
            seller_nip,
            ksef_number,
            invoice_number,
            issue_date,
            sent_at,
            ksef_number_assigned_at,
            hash,
            mode,
        })
    }
}

/// A cursor over the child elements of one parent, in schema order.
struct Seq<'k> {
    kids: &'k [(usize, String)],
    at: usize,
    parent: &'k str,
}

impl<'k> Seq<'k> {
    /// The next element if it is `name`.
    fn optional(&mut self, name: &str) -> Option<(usize, String)> {
        let (c, p) = self.kids.get(self.at)?;
        // the path ends with the local name
        if p.rsplit('/').next() == Some(name) {
            self.at += 1;
            Some((*c, p.clone()))
        } else {
            None
        }
    }

    /// The next element, which must be `name`.
    fn expect(&mut self, name: &str) -> Result<(usize, String), Error> {
        if let Some(found) = self.optional(name) {
            return Ok(found);
        }
        match self.kids.get(self.at) {
            Some((_, p)) => Err(Error::new(
                ErrorCode::UnexpectedElement,
                p.as_str(),
                format!("expected `{name}` here"),
            )),
            None => Err(Error::new(
                ErrorCode::MissingElement,
                format!("{}/{name}", self.parent),
                format!("`{name}` is required"),
            )),
        }
    }

    /// Nothing may follow.
    fn end(&self) -> Result<(), Error> {
        match self.kids.get(self.at) {
            Some((_, p)) => Err(Error::new(
                ErrorCode::UnexpectedElement,
                p.as_str(),
                "not allowed here (unknown, repeated or out of order)",
            )),
            None => Ok(()),
        }
    }
}
