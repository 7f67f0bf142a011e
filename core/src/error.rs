//! The one error type of the core, and the table of stable error codes.
//!
//! The numeric codes are part of the public contract: the C ABI, Python and Node bindings
//! expose them as they are. Codes are grouped by hundreds, never renumbered, never reused;
//! a retired code keeps its line with a comment.

use alloc::string::String;
use core::fmt;

/// Stable numeric error codes, grouped by hundreds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u32)]
pub enum ErrorCode {
    // 1xx: reading input (XML, JSON)
    /// The input is not well-formed XML.
    XmlSyntax = 100,
    /// The XML carries a DTD or an entity declaration (refused: no entity expansion).
    XmlDtdForbidden = 101,
    /// The root element or an element's namespace is not one of the supported schemas.
    XmlNamespace = 102,
    /// An element or attribute that the schema does not allow at that place.
    UnexpectedElement = 103,
    /// A required element or attribute is missing.
    MissingElement = 104,
    /// A value does not fit its type (digits, length, pattern, range, code list).
    InvalidValue = 105,
    /// The input is not valid JSON.
    JsonSyntax = 106,
    /// The input is not UTF-8.
    Encoding = 107,
    // 2xx: writing output
    /// The invoice holds content that the target schema version cannot express.
    NotInSchema = 200,
    /// The caller's buffer is too small; the error says how many bytes are needed.
    BufferTooSmall = 201,
    // 3xx: invoice rules beyond the XSD
    /// Business validation found problems (the list is in [`crate::validate::Report`]).
    ValidationFailed = 300,
    /// The builder was given inconsistent or incomplete data.
    InvalidBuilderInput = 301,
    /// An amount overflowed while computing totals.
    ArithmeticOverflow = 302,
    // 40x-41x: KSeF numbers, QR codes (`id::KsefNumber`, `qr`)
    /// A KSeF number is malformed or its CRC-8 checksum does not match.
    KsefNumber = 400,
    /// The text does not fit a QR code (or the allowed versions / the caller's buffers).
    QrEncode = 401,
    /// KOD II could not be signed: unsupported key type or size, or the signer failed.
    QrSign = 402,
    /// A part of a KOD I / KOD II link is malformed (seller NIP, context, serial, signature).
    QrLink = 403,
    /// A QR image could not be rendered (a label character outside the built-in font, size).
    QrImage = 404,
    // 42x-44x: keys, certificates, session encryption (`crypto`)
    /// A key is malformed, encrypted, or of an unsupported algorithm or curve.
    CryptoKey = 420,
    /// A certificate is malformed, or a certificate list does not fit its schema.
    Certificate = 421,
    /// Decryption failed: wrong key, corrupted data or bad padding.
    Decrypt = 422,
    /// Encryption failed: e.g. the plaintext is too long for the RSA key.
    Encrypt = 423,
    /// No certificate with the requested usage is valid at the given time.
    NoValidCertificate = 424,
    /// A declared hash or size does not match the data (invoice, batch part, archive).
    IntegrityCheck = 425,
    // 45x-47x: XML signatures, canonicalization (`xades`)
    /// A document cannot be signed or its signature cannot be checked: no signature, a
    /// missing or misplaced element, an id that is missing or not unique, a key that does not
    /// belong to the certificate, input that cannot be an AuthTokenRequest.
    XmlSignature = 450,
    /// The signature does not verify: a digest or the signature value does not match, or the
    /// signed certificate reference does not match the certificate (the document was changed).
    SignatureInvalid = 451,
    /// The XML cannot be canonicalized (e.g. a relative namespace URI).
    Canonicalization = 452,
    /// An algorithm, transform or reference form the verifier does not support.
    SignatureUnsupported = 453,
    // 50x-52x: talking to the KSeF API (`http`, `retry`)
    /// KSeF refused the request (HTTP 4xx); the message names the KSeF exception codes.
    ApiError = 500,
    /// Too many requests (HTTP 429); wait for `Retry-After` before trying again.
    RateLimited = 501,
    /// The access token is missing, expired or invalid (HTTP 401).
    Unauthorized = 502,
    /// The request could not be sent or its response not received (connection, TLS, I/O).
    Transport = 503,
    /// The request timed out before a response arrived.
    Timeout = 504,
    /// The authenticated context may not do this (HTTP 403, e.g. missing permissions).
    Forbidden = 505,
    /// KSeF failed to process the request (HTTP 5xx).
    ServerError = 506,
    /// KSeF rejected an invoice as a duplicate (invoice status 440) of one it already holds.
    Duplicate = 507,
    // 51x-53x: the protocol state machines (`protocol`)
    /// Authentication did not succeed (the auth operation ended with a status other than 200,
    /// or KSeF refused the credentials).
    AuthFailed = 510,
    /// A KSeF response could not be understood (missing field, wrong type, unexpected status).
    BadResponse = 511,
    /// A session ended in a failure state (e.g. 445 no valid invoices, 415 key decryption).
    SessionFailed = 512,
    /// KSeF rejected one invoice (invoice status 4xx other than 440 duplicate).
    InvoiceRejected = 513,
    /// Something did not become ready in the time allowed (auth, session processing, UPO).
    NotReady = 514,
    /// The operation was cancelled by the host.
    Cancelled = 515,
    // 54x-55x: batch packages and ZIP archives (`protocol::batch`, `zip`)
    /// The batch archive would exceed the total size limit (5 GB by default).
    BatchTooLarge = 540,
    /// The batch archive would need more parts than allowed (50 by default).
    BatchTooManyParts = 541,
    /// The batch has more invoices than allowed (10 000 by default).
    BatchTooManyInvoices = 542,
    /// The batch has no invoices.
    BatchEmpty = 543,
    /// A batch part could not be written or read back (file system).
    BatchIo = 544,
    /// A ZIP archive is malformed or uses a feature that is not supported.
    ZipFormat = 545,
    /// A ZIP archive exceeds a configured limit (entries, entry size, total size).
    ZipLimit = 546,
    /// A ZIP entry name is empty, absolute, has a `..` component, or is a duplicate.
    ZipEntryName = 547,
    // 60x-61x: paired mode, the Fakturownia.pl channel and NBP rates (`paired::fakturownia`,
    // `paired::nbp`)
    /// Fakturownia refused the request: HTTP 200 with `{"status":"error"}`, or a 4xx that is
    /// not one of the more specific codes below.
    FakturowniaError = 600,
    /// Fakturownia refused to create an invoice because one with the same `oid` exists
    /// (`oid_unique: "yes"`): the order already has its document.
    FakturowniaDuplicate = 601,
    /// Fakturownia refused the document's fields (HTTP 422); the error names the fields.
    FakturowniaValidation = 602,
    /// The Fakturownia API token is missing or wrong (HTTP 401/403).
    FakturowniaUnauthorized = 603,
    /// Fakturownia is unavailable or overloaded (HTTP 5xx, 429): try again later.
    FakturowniaUnavailable = 604,
    /// A Fakturownia response could not be understood (not JSON, a field missing).
    FakturowniaBadResponse = 605,
    /// No such Fakturownia document (HTTP 404).
    FakturowniaNotFound = 606,
    /// Fakturownia refused to e-mail a company buyer's invoice that has no KSeF number yet
    /// (HTTP 200, "brak numeru KSeF").
    FakturowniaNoKsefNumber = 607,
    /// An inbound webhook payload is malformed (not JSON, a required field missing).
    WebhookInvalid = 610,
    /// An inbound webhook payload does not carry the expected secret (forged or misrouted).
    WebhookForged = 611,
    /// NBP has no table A rate for the currency in the window asked for (HTTP 404
    /// "Brak danych", or no day before the tax point in the answer).
    NbpNoRate = 615,
    /// An NBP response could not be understood, or NBP refused the request (HTTP 400).
    NbpBadResponse = 616,
    /// The NBP API is unavailable (HTTP 5xx, 429): try again later.
    NbpUnavailable = 617,
    // 62x-63x: paired mode, the shared rule engine (`paired::order`, `paired::rules`, `paired::numbering`)
    /// An order (paired mode) is malformed or inconsistent: unknown or missing field, bad value, a line with both or neither price.
    OrderInvalid = 620,
    /// A rule configuration (paired mode) is malformed or inconsistent: unknown or missing field, bad template, a tax rule that maps to disagreeing values.
    RuleConfigInvalid = 621,
    /// The order's store has no entry in the rule configuration.
    UnknownStore = 622,
    /// An order line names a tax rule the store's configuration does not define.
    UnknownTaxRule = 623,
    /// An exchange rate quote passed in is unusable (not positive, too many decimal places, empty table).
    RateInvalid = 624,
    /// The buyer's tax identifier is invalid (NIP checksum, EU VAT number format, country).
    BuyerInvalid = 625,
    /// A numbering series template is invalid, or its counter is exhausted.
    NumberingInvalid = 626,
    /// A correction does not fit the original (a returned line that does not exist, more returned than sold).
    CorrectionInvalid = 627,
    // 64x-65x: the paired-mode machine (`paired::machine`)
    /// A paired-mode action does not fit the job's state (unknown job, a recovery for a leg
    /// that has not failed, other documents under the same job id).
    PairedConflict = 640,
    /// An inbound webhook or status push was refused (forged, malformed, not ours); nothing
    /// changed.
    WebhookRejected = 641,
    /// A paired-mode snapshot cannot be read (not CBOR/JSON of this shape, another version).
    SnapshotInvalid = 642,
    // 70x-71x: offline mode (`offline`)
    /// Offline issuing was given bad input: an empty or duplicate invoice id, a technical
    /// correction of an invoice that cannot take one.
    OfflineInvalid = 700,
    /// No invoice with that id in the offline queue.
    OfflineUnknownInvoice = 701,
    /// A status change the offline queue does not allow (e.g. accepting an invoice that was
    /// never sent, or sending one again after it was accepted).
    OfflineState = 702,
    /// An offline-queue snapshot cannot be read (not CBOR/JSON of this shape, another
    /// version, inconsistent content).
    OfflineSnapshotInvalid = 703,
    // 90x: the bindings (C ABI, Python, Node)
    /// A required pointer argument is NULL (C ABI), or a required argument is missing.
    NullArgument = 900,
    /// An argument is out of its range: an unknown enum value, a flag combination, a size.
    InvalidArgument = 901,
    /// An internal error was caught at the binding boundary (a panic); the call did nothing
    /// the caller can rely on. Please report it.
    Panic = 902,
}

impl ErrorCode {
    /// The stable number.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }

    /// A short stable name (`"invalid_value"`), used as the error `code` string by bindings.
    pub const fn name(self) -> &'static str {
        match self {
            Self::XmlSyntax => "xml_syntax",
            Self::XmlDtdForbidden => "xml_dtd_forbidden",
            Self::XmlNamespace => "xml_namespace",
            Self::UnexpectedElement => "unexpected_element",
            Self::MissingElement => "missing_element",
            Self::InvalidValue => "invalid_value",
            Self::JsonSyntax => "json_syntax",
            Self::Encoding => "encoding",
            Self::NotInSchema => "not_in_schema",
            Self::BufferTooSmall => "buffer_too_small",
            Self::ValidationFailed => "validation_failed",
            Self::InvalidBuilderInput => "invalid_builder_input",
            Self::ArithmeticOverflow => "arithmetic_overflow",
            Self::KsefNumber => "ksef_number",
            Self::QrEncode => "qr_encode",
            Self::QrSign => "qr_sign",
            Self::QrLink => "qr_link",
            Self::QrImage => "qr_image",
            Self::CryptoKey => "crypto_key",
            Self::Certificate => "certificate",
            Self::Decrypt => "decrypt",
            Self::Encrypt => "encrypt",
            Self::NoValidCertificate => "no_valid_certificate",
            Self::IntegrityCheck => "integrity_check",
            Self::XmlSignature => "xml_signature",
            Self::SignatureInvalid => "signature_invalid",
            Self::Canonicalization => "canonicalization",
            Self::SignatureUnsupported => "signature_unsupported",
            Self::ApiError => "api_error",
            Self::RateLimited => "rate_limited",
            Self::Unauthorized => "unauthorized",
            Self::Transport => "transport",
            Self::Timeout => "timeout",
            Self::Forbidden => "forbidden",
            Self::ServerError => "server_error",
            Self::Duplicate => "duplicate",
            Self::AuthFailed => "auth_failed",
            Self::BadResponse => "bad_response",
            Self::SessionFailed => "session_failed",
            Self::InvoiceRejected => "invoice_rejected",
            Self::NotReady => "not_ready",
            Self::Cancelled => "cancelled",
            Self::BatchTooLarge => "batch_too_large",
            Self::BatchTooManyParts => "batch_too_many_parts",
            Self::BatchTooManyInvoices => "batch_too_many_invoices",
            Self::BatchEmpty => "batch_empty",
            Self::BatchIo => "batch_io",
            Self::ZipFormat => "zip_format",
            Self::ZipLimit => "zip_limit",
            Self::ZipEntryName => "zip_entry_name",
            Self::FakturowniaError => "fakturownia_error",
            Self::FakturowniaDuplicate => "fakturownia_duplicate",
            Self::FakturowniaValidation => "fakturownia_validation",
            Self::FakturowniaUnauthorized => "fakturownia_unauthorized",
            Self::FakturowniaUnavailable => "fakturownia_unavailable",
            Self::FakturowniaBadResponse => "fakturownia_bad_response",
            Self::FakturowniaNotFound => "fakturownia_not_found",
            Self::FakturowniaNoKsefNumber => "fakturownia_no_ksef_number",
            Self::WebhookInvalid => "webhook_invalid",
            Self::WebhookForged => "webhook_forged",
            Self::NbpNoRate => "nbp_no_rate",
            Self::NbpBadResponse => "nbp_bad_response",
            Self::NbpUnavailable => "nbp_unavailable",
            Self::OrderInvalid => "order_invalid",
            Self::RuleConfigInvalid => "rule_config_invalid",
            Self::UnknownStore => "unknown_store",
            Self::UnknownTaxRule => "unknown_tax_rule",
            Self::RateInvalid => "rate_invalid",
            Self::BuyerInvalid => "buyer_invalid",
            Self::NumberingInvalid => "numbering_invalid",
            Self::CorrectionInvalid => "correction_invalid",
            Self::PairedConflict => "paired_conflict",
            Self::WebhookRejected => "webhook_rejected",
            Self::SnapshotInvalid => "snapshot_invalid",
            Self::OfflineInvalid => "offline_invalid",
            Self::OfflineUnknownInvoice => "offline_unknown_invoice",
            Self::OfflineState => "offline_state",
            Self::OfflineSnapshotInvalid => "offline_snapshot_invalid",
            Self::NullArgument => "null_argument",
            Self::InvalidArgument => "invalid_argument",
            Self::Panic => "panic",
        }
    }

    /// Every code, in table order (drives the C header, Python and Node error tables).
    pub const ALL: &'static [ErrorCode] = &[
        Self::XmlSyntax,
        Self::XmlDtdForbidden,
        Self::XmlNamespace,
        Self::UnexpectedElement,
        Self::MissingElement,
        Self::InvalidValue,
        Self::JsonSyntax,
        Self::Encoding,
        Self::NotInSchema,
        Self::BufferTooSmall,
        Self::ValidationFailed,
        Self::InvalidBuilderInput,
        Self::ArithmeticOverflow,
        Self::KsefNumber,
        Self::QrEncode,
        Self::QrSign,
        Self::QrLink,
        Self::QrImage,
        Self::CryptoKey,
        Self::Certificate,
        Self::Decrypt,
        Self::Encrypt,
        Self::NoValidCertificate,
        Self::IntegrityCheck,
        Self::XmlSignature,
        Self::SignatureInvalid,
        Self::Canonicalization,
        Self::SignatureUnsupported,
        Self::ApiError,
        Self::RateLimited,
        Self::Unauthorized,
        Self::Transport,
        Self::Timeout,
        Self::Forbidden,
        Self::ServerError,
        Self::Duplicate,
        Self::AuthFailed,
        Self::BadResponse,
        Self::SessionFailed,
        Self::InvoiceRejected,
        Self::NotReady,
        Self::Cancelled,
        Self::BatchTooLarge,
        Self::BatchTooManyParts,
        Self::BatchTooManyInvoices,
        Self::BatchEmpty,
        Self::BatchIo,
        Self::ZipFormat,
        Self::ZipLimit,
        Self::ZipEntryName,
        Self::FakturowniaError,
        Self::FakturowniaDuplicate,
        Self::FakturowniaValidation,
        Self::FakturowniaUnauthorized,
        Self::FakturowniaUnavailable,
        Self::FakturowniaBadResponse,
        Self::FakturowniaNotFound,
        Self::FakturowniaNoKsefNumber,
        Self::WebhookInvalid,
        Self::WebhookForged,
        Self::NbpNoRate,
        Self::NbpBadResponse,
        Self::NbpUnavailable,
        Self::OrderInvalid,
        Self::RuleConfigInvalid,
        Self::UnknownStore,
        Self::UnknownTaxRule,
        Self::RateInvalid,
        Self::BuyerInvalid,
        Self::NumberingInvalid,
        Self::CorrectionInvalid,
        Self::PairedConflict,
        Self::WebhookRejected,
        Self::SnapshotInvalid,
        Self::OfflineInvalid,
        Self::OfflineUnknownInvoice,
        Self::OfflineState,
        Self::OfflineSnapshotInvalid,
        Self::NullArgument,
        Self::InvalidArgument,
        Self::Panic,
    ];
}

/// An error from the core: a stable code, where it happened, and why.
///
/// `path` is the element path in the invoice (`Faktura/Fa/FaWiersz[3]/P_8B`) or a position
/// in the input (`line 4, column 7`); it is empty when there is no place to point at.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    path: String,
    message: String,
    needed: usize,
}

impl Error {
    /// A new error.
    pub fn new(code: ErrorCode, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            code,
            path: path.into(),
            message: message.into(),
            needed: 0,
        }
    }

    /// `BufferTooSmall` carrying the required size.
    pub fn buffer_too_small(needed: usize) -> Self {
        Error {
            code: ErrorCode::BufferTooSmall,
            path: String::new(),
            message: alloc::format!("output needs {needed} bytes"),
            needed,
        }
    }

    /// The error with `path` as its place when it has none yet (a call name such as
    /// `POST /sessions/online` for an API error).
    pub fn at(mut self, path: impl Into<String>) -> Self {
        if self.path.is_empty() {
            self.path = path.into();
        }
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Where: element path or input position (may be empty).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Why, in words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For `BufferTooSmall`: the number of bytes the output needs.
    pub fn needed(&self) -> usize {
        self.needed
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error({} {}: {})",
            self.code.as_u32(),
            self.code.name(),
            self
        )
    }
}

impl core::error::Error for Error {}
