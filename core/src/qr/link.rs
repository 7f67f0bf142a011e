//! KOD I and KOD II links (`kody-qr.md`).

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::crypto::hash::{sha256, Sha256Hash};
use crate::env::Environment;
use crate::error::{Error, ErrorCode};
use crate::id::KsefNumber;
use crate::model::Date;

/// The label under KOD I while the invoice has no KSeF number yet.
pub const LABEL_OFFLINE: &str = "OFFLINE";
/// The label under KOD II.
pub const LABEL_CERTIFICATE: &str = "CERTYFIKAT";

/// The label under KOD I: the KSeF number when known, [`LABEL_OFFLINE`] before.
pub fn invoice_label(ksef_number: Option<&KsefNumber>) -> &str {
    ksef_number.map_or(LABEL_OFFLINE, KsefNumber::as_str)
}

/// Writes ASCII into a caller buffer, counting what does not fit.
pub(crate) struct Out<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Out<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Out { buf, len: 0 }
    }

    pub(crate) fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
        }
        self.len += 1;
    }

    pub(crate) fn str(&mut self, s: &str) {
        for &b in s.as_bytes() {
            self.byte(b);
        }
    }

    /// The text written, or `BufferTooSmall` with the length needed.
    pub(crate) fn finish(self) -> Result<&'b str, Error> {
        if self.len > self.buf.len() {
            return Err(Error::buffer_too_small(self.len));
        }
        let (done, _) = self.buf.split_at(self.len);
        core::str::from_utf8(done)
            .map_err(|_| Error::new(ErrorCode::QrLink, "", "the link is not valid UTF-8"))
    }
}

/// Base64url without padding of `bytes`, streamed into `out`.
fn base64url(out: &mut Out<'_>, bytes: &[u8]) {
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let sym = |v: u32| URL[(v & 63) as usize];
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.byte(sym(n >> shift));
        }
    }
    match chunks.remainder() {
        [a] => {
            let n = u32::from(*a) << 16;
            out.byte(sym(n >> 18));
            out.byte(sym(n >> 12));
        }
        [a, b] => {
            let n = u32::from(*a) << 16 | u32::from(*b) << 8;
            out.byte(sym(n >> 18));
            out.byte(sym(n >> 12));
            out.byte(sym(n >> 6));
        }
        _ => {}
    }
}

/// Length of the base64url form (no padding) of `n` bytes.
pub const fn base64url_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

fn link_error(path: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::QrLink, path, msg)
}

/// A seller NIP as written in the links: exactly 10 digits. The NIP checksum is not checked
/// (TEST accepts invoices with any 10-digit seller NIP).
fn seller_nip(s: &str, path: &str) -> Result<[u8; 10], Error> {
    let b = s.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return Err(link_error(
            path,
            alloc::format!("the seller NIP must be 10 digits, found {s:?}"),
        ));
    }
    let mut out = [0u8; 10];
    out.copy_from_slice(b);
    Ok(out)
}

fn ascii(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or_default()
}

/// KOD I — the invoice verification link:
/// `https://{QR host}/invoice/{seller NIP}/{P_1 as DD-MM-YYYY}/{SHA-256 base64url}`.
///
/// Small and `Copy`: building and writing it allocates nothing
/// ([`InvoiceLink::write_url`]); [`InvoiceLink::from_invoice_xml`] (parses the XML) and
/// [`InvoiceLink::url`] allocate.
///
/// ```
/// use ksef::crypto::hash::Sha256Hash;
/// use ksef::model::Date;
/// use ksef::qr::InvoiceLink;
/// use ksef::Environment;
///
/// let hash = Sha256Hash::from_base64url("UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE")?;
/// let date: Date = "2026-02-01".parse()?;
/// let link = InvoiceLink::new(Environment::Test, "1111111111", date, hash)?;
/// let mut buf = [0u8; InvoiceLink::MAX_URL_LEN];
/// assert_eq!(
///     link.write_url(&mut buf)?,
///     "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/\
///      UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
/// );
/// assert_eq!(link.label(None), "OFFLINE");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvoiceLink {
    env: Environment,
    seller_nip: [u8; 10],
    issue_date: Date,
    hash: Sha256Hash,
}

impl InvoiceLink {
    /// The longest KOD I link (TEST and DEMO hosts): 104 bytes.
    pub const MAX_URL_LEN: usize = 30 + "/invoice/".len() + 10 + 1 + 10 + 1 + 43;

    /// A link from its parts. `seller_nip` must be 10 digits (`Podmiot1` NIP); `issue_date`
    /// is the invoice's `P_1`; `hash` the SHA-256 of the exact invoice file bytes.
    pub fn new(
        env: Environment,
        seller_nip: &str,
        issue_date: Date,
        hash: Sha256Hash,
    ) -> Result<InvoiceLink, Error> {
        Ok(InvoiceLink {
            env,
            seller_nip: self::seller_nip(seller_nip, "sellerNip")?,
            issue_date,
            hash,
        })
    }

    /// The link of an invoice file: hashes the exact bytes, takes the seller NIP and `P_1`
    /// from the parsed invoice (FA(3) or FA(2)).
    pub fn from_invoice_xml(env: Environment, xml: &[u8]) -> Result<InvoiceLink, Error> {
        let parsed = crate::xml::parse(xml)?;
        let inv = &parsed.invoice;
        Ok(InvoiceLink {
            env,
            seller_nip: self::seller_nip(
                &inv.podmiot1.dane_identyfikacyjne.nip,
                "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP",
            )?,
            issue_date: inv.fa.p_1,
            hash: sha256(xml),
        })
    }

    /// The environment.
    pub fn env(&self) -> Environment {
        self.env
    }

    /// The seller NIP (10 digits).
    pub fn seller_nip(&self) -> &str {
        ascii(&self.seller_nip)
    }

    /// The issue date (`P_1`).
    pub fn issue_date(&self) -> Date {
        self.issue_date
    }

    /// The SHA-256 of the invoice file.
    pub fn hash(&self) -> &Sha256Hash {
        &self.hash
    }

    /// Write the link into `out` (at most [`Self::MAX_URL_LEN`] bytes); allocation-free.
    /// A too small buffer gives `BufferTooSmall` with the length needed.
    pub fn write_url<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut o = Out::new(out);
        o.str(self.env.qr_base_url());
        o.str("/invoice/");
        o.str(self.seller_nip());
        o.byte(b'/');
        let d = self.issue_date.to_bytes(); // YYYY-MM-DD
        for &i in &[8, 9, 7, 5, 6, 4, 0, 1, 2, 3] {
            o.byte(d[i]);
        }
        o.byte(b'/');
        let mut h = [0u8; Sha256Hash::BASE64URL_LEN];
        o.str(self.hash.base64url_into(&mut h));
        o.finish()
    }

    /// The link as a `String`.
    pub fn url(&self) -> String {
        let mut b = [0u8; Self::MAX_URL_LEN];
        String::from(self.write_url(&mut b).unwrap_or_default())
    }

    /// The label under the code: the KSeF number when known, `OFFLINE` before.
    pub fn label<'a>(&self, ksef_number: Option<&'a KsefNumber>) -> &'a str {
        invoice_label(ksef_number)
    }

    /// The KOD II link of the same invoice (same environment, seller NIP and hash) for an
    /// issuer logged in to the context `context_type`/`context_value`, signing with the
    /// `Offline` certificate whose serial is `certificate_serial` (hexadecimal, as
    /// [`crate::crypto::Certificate::serial_hex`] gives it).
    pub fn certificate_link<'a>(
        &self,
        context_type: ContextType,
        context_value: &'a str,
        certificate_serial: &'a str,
    ) -> Result<CertificateLink<'a>, Error> {
        CertificateLink::new(
            self.env,
            context_type,
            context_value,
            self.seller_nip(),
            certificate_serial,
            self.hash,
        )
    }
}

impl fmt::Debug for InvoiceLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; Self::MAX_URL_LEN];
        write!(
            f,
            "InvoiceLink({})",
            self.write_url(&mut b).unwrap_or_default()
        )
    }
}

/// The type of the login context of the invoice's issuer (KOD II).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextType {
    /// `Nip`: a NIP (10 digits).
    Nip,
    /// `InternalId`: `NIP-nnnnn`.
    InternalId,
    /// `NipVatUe`: `NIP-<EU VAT number>`.
    NipVatUe,
    /// `PeppolId`: a Peppol service provider (`P[A-Z]{2}\d{6}`).
    PeppolId,
}

impl ContextType {
    /// The name as written in the link (`Nip`, `InternalId`, `NipVatUe`, `PeppolId`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ContextType::Nip => "Nip",
            ContextType::InternalId => "InternalId",
            ContextType::NipVatUe => "NipVatUe",
            ContextType::PeppolId => "PeppolId",
        }
    }
}

impl fmt::Display for ContextType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Accepts the link names in any case (`Nip`, `nip`, `internalid`, ...).
impl FromStr for ContextType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        [
            ContextType::Nip,
            ContextType::InternalId,
            ContextType::NipVatUe,
            ContextType::PeppolId,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            link_error(
                "contextType",
                alloc::format!(
                    "unknown context identifier type {s:?} (expected Nip, InternalId, NipVatUe \
                     or PeppolId)"
                ),
            )
        })
    }
}

/// The longest context identifier value accepted (a `NipVatUe` is at most 25 characters).
const MAX_CONTEXT_LEN: usize = 64;
/// The longest certificate serial accepted: 20 bytes (RFC 5280) and a DER sign byte, in
/// hexadecimal.
const MAX_SERIAL_LEN: usize = 42;

/// KOD II — the certificate (issuer) verification link of an offline invoice:
/// `https://{QR host}/certificate/{context type}/{context value}/{seller NIP}/{certificate
/// serial}/{SHA-256 base64url}/{signature base64url}`.
///
/// The signature is over the link without `https://` and without the signature segment
/// ([`CertificateLink::write_string_to_sign`]), made with the private key of the issuer's
/// KSeF certificate of type `Offline`: ECDSA P-256/SHA-256 as r‖s (IEEE P1363, 64 bytes) or
/// RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32 bytes, key ≥ 2048 bits).
///
/// Checks on the parts: the context value is 1-64 characters of `[0-9A-Za-z+*-]` (10 digits
/// for `Nip`), the seller NIP 10 digits, the serial 1-42 hexadecimal digits (written
/// upper-case). NIP checksums are not checked (TEST accepts any 10 digits).
///
/// ```
/// use ksef::crypto::hash::Sha256Hash;
/// use ksef::qr::{CertificateLink, ContextType};
/// use ksef::Environment;
///
/// let hash = Sha256Hash::from_base64url("UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE")?;
/// let link = CertificateLink::new(
///     Environment::Test,
///     ContextType::Nip,
///     "1111111111",
///     "1111111111",
///     "01F20A5D352AE590",
///     hash,
/// )?;
/// assert_eq!(
///     link.string_to_sign(),
///     "qr-test.ksef.mf.gov.pl/certificate/Nip/1111111111/1111111111/01F20A5D352AE590/\
///      UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
/// );
/// # Ok::<(), ksef::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateLink<'a> {
    env: Environment,
    context_type: ContextType,
    context_value: &'a str,
    seller_nip: [u8; 10],
    serial: &'a str,
    hash: Sha256Hash,
}

impl<'a> CertificateLink<'a> {
    /// The longest string to sign these checks allow.
    pub const MAX_STRING_TO_SIGN_LEN: usize = 22
        + "/certificate/".len()
        + "InternalId".len()
        + 1
        + MAX_CONTEXT_LEN
        + 1
        + 10
        + 1
        + MAX_SERIAL_LEN
        + 1
        + 43;

    /// The longest link with an ECDSA P-256 signature these checks allow (303 bytes): a
    /// buffer this long always fits [`Self::write_url`] with a 64-byte signature.
    pub const MAX_ECDSA_URL_LEN: usize =
        "https://".len() + Self::MAX_STRING_TO_SIGN_LEN + 1 + base64url_len(64);

    /// A link from its parts (see the type's documentation for the checks).
    pub fn new(
        env: Environment,
        context_type: ContextType,
        context_value: &'a str,
        seller_nip: &str,
        certificate_serial: &'a str,
        hash: Sha256Hash,
    ) -> Result<CertificateLink<'a>, Error> {
        let cv = context_value.as_bytes();
        let ok = match context_type {
            ContextType::Nip => cv.len() == 10 && cv.iter().all(u8::is_ascii_digit),
            _ => {
                (1..=MAX_CONTEXT_LEN).contains(&cv.len())
                    && cv
                        .iter()
                        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'*'))
            }
        };
        if !ok {
            return Err(link_error(
                "contextValue",
                alloc::format!(
                    "{context_value:?} is not a {context_type} context value ({})",
                    match context_type {
                        ContextType::Nip => "10 digits",
                        _ => "1-64 characters 0-9 A-Z a-z + * -",
                    }
                ),
            ));
        }
        let sb = certificate_serial.as_bytes();
        if !(1..=MAX_SERIAL_LEN).contains(&sb.len()) || !sb.iter().all(u8::is_ascii_hexdigit) {
            return Err(link_error(
                "certificateSerial",
                alloc::format!(
                    "the certificate serial must be 1-42 hexadecimal digits, found \
                     {certificate_serial:?}"
                ),
            ));
        }
        Ok(CertificateLink {
            env,
            context_type,
            context_value,
            seller_nip: seller_nip_checked(seller_nip)?,
            serial: certificate_serial,
            hash,
        })
    }

    /// The environment.
    pub fn env(&self) -> Environment {
        self.env
    }

    /// The context identifier type.
    pub fn context_type(&self) -> ContextType {
        self.context_type
    }

    /// The context identifier value.
    pub fn context_value(&self) -> &'a str {
        self.context_value
    }

    /// The seller NIP (10 digits).
    pub fn seller_nip(&self) -> &str {
        ascii(&self.seller_nip)
    }

    /// The certificate serial as given (the link carries it upper-case).
    pub fn certificate_serial(&self) -> &'a str {
        self.serial
    }

    /// The SHA-256 of the invoice file.
    pub fn hash(&self) -> &Sha256Hash {
        &self.hash
    }

    fn write_path(&self, o: &mut Out<'_>) {
        o.str(self.env.qr_host());
        o.str("/certificate/");
        o.str(self.context_type.as_str());
        o.byte(b'/');
        o.str(self.context_value);
        o.byte(b'/');
        o.str(self.seller_nip());
        o.byte(b'/');
        for &c in self.serial.as_bytes() {
            o.byte(c.to_ascii_uppercase());
        }
        o.byte(b'/');
        let mut h = [0u8; Sha256Hash::BASE64URL_LEN];
        o.str(self.hash.base64url_into(&mut h));
    }

    /// Write the string to sign (the link without `https://`, without a trailing `/` and
    /// without the signature) into `out`; allocation-free. At most
    /// [`Self::MAX_STRING_TO_SIGN_LEN`] bytes.
    pub fn write_string_to_sign<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        let mut o = Out::new(out);
        self.write_path(&mut o);
        o.finish()
    }

    /// The string to sign as a `String`.
    pub fn string_to_sign(&self) -> String {
        let mut b = [0u8; Self::MAX_STRING_TO_SIGN_LEN];
        String::from(self.write_string_to_sign(&mut b).unwrap_or_default())
    }

    /// The length of the link carrying a signature of `signature_len` bytes (64 for ECDSA
    /// P-256, 256 for RSA-2048): size the buffer of [`Self::write_url`] with it.
    pub fn url_len(&self, signature_len: usize) -> usize {
        let mut o = Out::new(&mut []);
        self.write_path(&mut o);
        "https://".len() + o.len + 1 + base64url_len(signature_len)
    }

    /// Write the full link with `signature` (raw bytes: r‖s for ECDSA, the PSS signature for
    /// RSA) into `out`; allocation-free.
    pub fn write_url<'b>(&self, signature: &[u8], out: &'b mut [u8]) -> Result<&'b str, Error> {
        if signature.is_empty() {
            return Err(link_error("signature", "the signature is empty"));
        }
        let mut o = Out::new(out);
        o.str("https://");
        self.write_path(&mut o);
        o.byte(b'/');
        base64url(&mut o, signature);
        o.finish()
    }

    /// The full link with `signature`, as a `String`.
    pub fn url(&self, signature: &[u8]) -> Result<String, Error> {
        let mut b = alloc::vec![0u8; self.url_len(signature.len())];
        self.write_url(signature, &mut b).map(String::from)
    }

    /// The label under KOD II: `CERTYFIKAT`.
    pub fn label(&self) -> &'static str {
        LABEL_CERTIFICATE
    }

    /// Sign (see [`crate::qr::sign::sign`]) and return the full link.
    pub fn signed_url(
        &self,
        key: &crate::crypto::PrivateKey,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<String, Error> {
        let signature = super::sign::sign(self, key, rng)?;
        self.url(&signature)
    }
}

fn seller_nip_checked(s: &str) -> Result<[u8; 10], Error> {
    seller_nip(s, "sellerNip")
}

impl fmt::Debug for CertificateLink<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; Self::MAX_STRING_TO_SIGN_LEN];
        write!(
            f,
            "CertificateLink({})",
            self.write_string_to_sign(&mut b).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> Sha256Hash {
        Sha256Hash::from_base64url("UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE").unwrap()
    }

    #[test]
    fn kod1_doc_example_and_buffer_sizes() {
        let d = Date::new(2026, 2, 1).unwrap();
        let l = InvoiceLink::new(Environment::Test, "1111111111", d, hash()).unwrap();
        let url = "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/\
                   UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE";
        assert_eq!(l.url(), url);
        assert_eq!(url.len(), InvoiceLink::MAX_URL_LEN);
        let mut small = [0u8; 50];
        let e = l.write_url(&mut small).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BufferTooSmall);
        assert_eq!(e.needed(), url.len());
        for env in Environment::ALL {
            let l = InvoiceLink::new(env, "1111111111", d, hash()).unwrap();
            assert!(l.url().len() <= InvoiceLink::MAX_URL_LEN);
        }
        for bad in ["111111111", "11111111111", "111111111x", ""] {
            let e = InvoiceLink::new(Environment::Test, bad, d, hash()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::QrLink);
        }
    }

    #[test]
    fn kod2_parts() {
        let l = CertificateLink::new(
            Environment::Production,
            ContextType::InternalId,
            "5265877635-12345",
            "5265877635",
            "01f20a5d352ae590",
            hash(),
        )
        .unwrap();
        let s = l.string_to_sign();
        assert_eq!(
            s,
            "qr.ksef.mf.gov.pl/certificate/InternalId/5265877635-12345/5265877635/\
             01F20A5D352AE590/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
        );
        let sig = [0xFBu8, 0xFF, 0x00, 0x01];
        let url = l.url(&sig).unwrap();
        assert_eq!(url, alloc::format!("https://{s}/-_8AAQ"));
        assert_eq!(url.len(), l.url_len(sig.len()));
        for (n, len) in [
            (0, 0),
            (1, 2),
            (2, 3),
            (3, 4),
            (32, 43),
            (64, 86),
            (256, 342),
        ] {
            let v = alloc::vec![7u8; n];
            let mut o = alloc::vec![0u8; len + 1];
            let mut out = Out::new(&mut o);
            base64url(&mut out, &v);
            assert_eq!(out.len, len);
            assert_eq!(base64url_len(n), len);
        }
        assert!(l.url(&[]).is_err());
        let bad = [
            (ContextType::Nip, "526587763", "5265877635", "01"),
            (ContextType::NipVatUe, "5265877635/AT", "5265877635", "01"),
            (ContextType::PeppolId, "", "5265877635", "01"),
            (ContextType::Nip, "5265877635", "5265877635", "0x1"),
            (ContextType::Nip, "5265877635", "5265877635", ""),
            (ContextType::Nip, "5265877635", "526587763", "01"),
        ];
        for (t, cv, nip, serial) in bad {
            let e = CertificateLink::new(Environment::Test, t, cv, nip, serial, hash());
            assert_eq!(
                e.unwrap_err().code(),
                ErrorCode::QrLink,
                "{cv} {nip} {serial}"
            );
        }
        assert_eq!(
            "nipvatue".parse::<ContextType>().unwrap(),
            ContextType::NipVatUe
        );
        assert!("Pesel".parse::<ContextType>().is_err());
    }
}
