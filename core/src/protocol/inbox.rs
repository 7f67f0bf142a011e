//! The inbox: invoice metadata queries (as seller, buyer, third party), downloads by KSeF
//! number, and the export (bulk package) flow.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::crypto::session::SessionKey;
use crate::error::{Error, ErrorCode};
use crate::http::{ApiError, Method, Response};
use crate::xml::Parsed;
use crate::zip::ZipLimits;

use super::batch::{
    export_parts_from_json, open_export_package, ExportPart, ExportedInvoice, MemoryParts,
};

use super::client::{api_ok, encryption_json};
use super::ops::{Call, Cx, Operation, Output, Step};
use super::wire::{self, StatusInfo};

/// Whose invoices to list (`subjectType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectType {
    /// `Subject1`: invoices we issued (seller).
    Seller,
    /// `Subject2`: invoices issued to us (buyer).
    Buyer,
    /// `Subject3`: invoices naming us as a third party.
    ThirdParty,
    /// `SubjectAuthorized`: invoices naming us as the authorised entity.
    Authorized,
}

impl SubjectType {
    /// The API value.
    pub const fn as_str(self) -> &'static str {
        match self {
            SubjectType::Seller => "Subject1",
            SubjectType::Buyer => "Subject2",
            SubjectType::ThirdParty => "Subject3",
            SubjectType::Authorized => "SubjectAuthorized",
        }
    }
}

/// Which date the range applies to (`dateRange.dateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DateType {
    /// `Issue`: the invoice's issue date (P_1).
    Issue,
    /// `Invoicing`: when it was sent to KSeF.
    Invoicing,
    /// `PermanentStorage`: when KSeF stored it for good (use for incremental sync).
    PermanentStorage,
}

impl DateType {
    /// The API value.
    pub const fn as_str(self) -> &'static str {
        match self {
            DateType::Issue => "Issue",
            DateType::Invoicing => "Invoicing",
            DateType::PermanentStorage => "PermanentStorage",
        }
    }

    fn metadata_field(self) -> &'static str {
        match self {
            DateType::Issue => "issueDate",
            DateType::Invoicing => "invoicingDate",
            DateType::PermanentStorage => "permanentStorageDate",
        }
    }
}

/// A metadata query (`InvoiceQueryFilters`). KSeF allows at most 3 months per range.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetadataQuery {
    /// Whose invoices.
    pub subject: SubjectType,
    /// Which date `from`/`to` refer to.
    pub date_type: DateType,
    /// Start of the range (ISO-8601 date-time; no offset = Europe/Warsaw).
    pub from: String,
    /// End of the range (none = now).
    pub to: Option<String>,
    /// More filters merged into the body as they are (`sellerNip`, `invoiceTypes`,
    /// `amount`, `currencyCodes`, …; OpenAPI `InvoiceQueryFilters`).
    pub extra: Value,
    /// Newest first.
    pub descending: bool,
    /// Stop after this many invoices (none: all of them).
    pub limit: Option<usize>,
}

impl MetadataQuery {
    /// All invoices of `subject` with `date_type` from `from`.
    pub fn new(
        subject: SubjectType,
        date_type: DateType,
        from: impl Into<String>,
    ) -> MetadataQuery {
        MetadataQuery {
            subject,
            date_type,
            from: from.into(),
            to: None,
            extra: Value::Object(Default::default()),
            descending: false,
            limit: None,
        }
    }

    /// Sets the end of the range.
    pub fn to(mut self, to: impl Into<String>) -> MetadataQuery {
        self.to = Some(to.into());
        self
    }

    /// Adds a filter field (`"sellerNip"`, `"invoiceTypes"`…).
    pub fn filter(mut self, name: &str, value: Value) -> MetadataQuery {
        if let Value::Object(m) = &mut self.extra {
            m.insert(name.to_string(), value);
        }
        self
    }

    /// Stops after `n` invoices.
    pub fn limit(mut self, n: usize) -> MetadataQuery {
        self.limit = Some(n);
        self
    }

    fn body(&self, from: &str) -> Value {
        let mut range = json!({"dateType": self.date_type.as_str(), "from": from});
        if let Some(t) = &self.to {
            range["to"] = Value::String(t.clone());
        }
        let mut body = json!({"subjectType": self.subject.as_str(), "dateRange": range});
        if let (Value::Object(b), Value::Object(extra)) = (&mut body, &self.extra) {
            for (k, v) in extra {
                b.insert(k.clone(), v.clone());
            }
        }
        body
    }
}

/// One invoice's metadata (`InvoiceMetadata`); amounts in PLN.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceMetadata {
    /// `ksefNumber`.
    pub ksef_number: String,
    /// `invoiceNumber` (P_2).
    pub invoice_number: String,
    /// `issueDate` (P_1).
    pub issue_date: String,
    /// `invoicingDate`: when it was sent.
    pub invoicing_date: String,
    /// `acquisitionDate`: when KSeF assigned the number (legal receipt).
    pub acquisition_date: String,
    /// `permanentStorageDate`.
    pub permanent_storage_date: String,
    /// `seller.nip`.
    pub seller_nip: String,
    /// `seller.name`.
    pub seller_name: Option<String>,
    /// `buyer.identifier` (`type`, `value`): `Nip`, `VatUe`, `Other` or `None`.
    pub buyer_identifier: (String, Option<String>),
    /// `buyer.name`.
    pub buyer_name: Option<String>,
    /// `netAmount`.
    pub net_amount: Decimal,
    /// `grossAmount`.
    pub gross_amount: Decimal,
    /// `vatAmount`.
    pub vat_amount: Decimal,
    /// `currency`.
    pub currency: String,
    /// `invoiceType` (`Vat`, `Kor`, `Zal`…).
    pub invoice_type: String,
    /// `invoicingMode` (`Online`, `Offline`).
    pub invoicing_mode: String,
    /// `invoiceHash` (base64 SHA-256 of the XML).
    pub invoice_hash: String,
    /// The whole entry as KSeF sent it (for fields not mapped above).
    pub raw: Value,
}

impl InvoiceMetadata {
    /// Reads one `InvoiceMetadata` object.
    pub fn from_json(v: &Value) -> Result<InvoiceMetadata, Error> {
        let what = "InvoiceMetadata";
        let s = |k: &str| wire::str_at(v, k, what).map(String::from);
        let o = |k: &str| wire::opt_str(v, k).map(String::from);
        let amount = |k: &str| -> Result<Decimal, Error> {
            let x = wire::at(v, k).ok_or_else(|| wire::bad(what, k, "an amount is missing"))?;
            let text = match x {
                Value::Number(n) => n.to_string(),
                Value::String(t) => t.clone(),
                _ => return Err(wire::bad(what, k, "an amount is not a number")),
            };
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| wire::bad(what, k, format!("`{text}` is not a decimal amount")))
        };
        Ok(InvoiceMetadata {
            ksef_number: s("ksefNumber")?,
            invoice_number: s("invoiceNumber")?,
            issue_date: s("issueDate")?,
            invoicing_date: s("invoicingDate")?,
            acquisition_date: s("acquisitionDate")?,
            permanent_storage_date: s("permanentStorageDate")?,
            seller_nip: s("seller.nip")?,
            seller_name: o("seller.name"),
            buyer_identifier: (
                o("buyer.identifier.type").unwrap_or_default(),
                o("buyer.identifier.value"),
            ),
            buyer_name: o("buyer.name"),
            net_amount: amount("netAmount")?,
            gross_amount: amount("grossAmount")?,
            vat_amount: amount("vatAmount")?,
            currency: s("currency")?,
            invoice_type: s("invoiceType")?,
            invoicing_mode: s("invoicingMode")?,
            invoice_hash: s("invoiceHash")?,
            raw: v.clone(),
        })
    }
}

/// The result of [`super::Client::query_metadata`].
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataResult {
    /// The invoices, without repeats, in the order KSeF listed them.
    pub invoices: Vec<InvoiceMetadata>,
    /// `permanentStorageHwmDate` (PermanentStorage queries): where the next incremental
    /// query should start.
    pub permanent_storage_hwm_date: Option<String>,
    /// True when `limit` stopped the listing before KSeF ran out of results.
    pub limited: bool,
}

pub(crate) struct QueryOp {
    query: MetadataQuery,
    from: String,
    page: u32,
    out: MetadataResult,
    done: bool,
}

impl QueryOp {
    pub(crate) fn new(query: MetadataQuery) -> QueryOp {
        QueryOp {
            from: query.from.clone(),
            query,
            page: 0,
            out: MetadataResult {
                invoices: Vec::new(),
                permanent_storage_hwm_date: None,
                limited: false,
            },
            done: false,
        }
    }
}

impl Operation for QueryOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if self.done {
            return Ok(Step::Done(Output::Metadata(core::mem::replace(
                &mut self.out,
                MetadataResult {
                    invoices: Vec::new(),
                    permanent_storage_hwm_date: None,
                    limited: false,
                },
            ))));
        }
        let size = cx.cfg.page_size.clamp(10, 250);
        let order = if self.query.descending { "Desc" } else { "Asc" };
        let path = format!(
            "/invoices/query/metadata?pageOffset={}&pageSize={size}&sortOrder={order}",
            self.page
        );
        // A query changes nothing: safe to repeat.
        Ok(Step::Send(
            Call::post_json(
                cx.base(),
                &path,
                &self.query.body(&self.from),
                "POST /invoices/query/metadata",
            )?
            .safe(),
        ))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let what = "POST /invoices/query/metadata";
        let resp = api_ok(resp, cx.now_ms, what)?;
        let v = wire::json(&resp, what)?;
        let mut last_date = None;
        for (i, item) in wire::array_at(&v, "invoices").iter().enumerate() {
            let m = InvoiceMetadata::from_json(item).map_err(|e| e.at(format!("invoices[{i}]")))?;
            last_date =
                wire::opt_str(item, self.query.date_type.metadata_field()).map(String::from);
            if !self
                .out
                .invoices
                .iter()
                .any(|x| x.ksef_number == m.ksef_number)
            {
                self.out.invoices.push(m);
            }
            if self
                .query
                .limit
                .is_some_and(|l| self.out.invoices.len() >= l)
            {
                self.out.limited = true;
                self.done = true;
                return Ok(());
            }
        }
        if let Some(h) = wire::opt_str(&v, "permanentStorageHwmDate") {
            self.out.permanent_storage_hwm_date = Some(h.to_string());
        }
        let has_more = wire::at(&v, "hasMore")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let truncated = wire::at(&v, "isTruncated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if truncated {
            // 10,000 results per filter set: continue from the last record's date.
            match last_date {
                Some(d) if d != self.from => {
                    self.from = d;
                    self.page = 0;
                }
                _ => self.done = true,
            }
        } else if has_more {
            self.page += 1;
        } else {
            self.done = true;
        }
        Ok(())
    }
}

/// An invoice downloaded by its KSeF number.
#[derive(Clone)]
pub struct DownloadedInvoice {
    /// The KSeF number asked for.
    pub ksef_number: String,
    /// The XML exactly as stored in KSeF.
    pub xml: Vec<u8>,
    /// Base64 SHA-256 of `xml` (checked against `x-ms-meta-hash` when sent).
    pub hash: String,
    /// The invoice read into the model — or why it could not be (a PEF or FA_RR document,
    /// say); the bytes are kept either way.
    pub parsed: Result<Parsed, Error>,
}

impl fmt::Debug for DownloadedInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadedInvoice")
            .field("ksef_number", &self.ksef_number)
            .field("xml", &self.xml.len())
            .field("hash", &self.hash)
            .field("parsed", &self.parsed.as_ref().map(|p| p.schema))
            .finish()
    }
}

pub(crate) struct DownloadOp {
    ksef_number: String,
    result: Option<DownloadedInvoice>,
    wait: Option<u64>,
    deadline: Option<u64>,
}

impl DownloadOp {
    pub(crate) fn new(ksef_number: String) -> DownloadOp {
        DownloadOp {
            ksef_number,
            result: None,
            wait: None,
            deadline: None,
        }
    }
}

impl Operation for DownloadOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(r) = self.result.take() {
            return Ok(Step::Done(Output::Invoice(alloc::boxed::Box::new(r))));
        }
        if let Some(t) = self.wait.take() {
            return Ok(Step::Wait(t));
        }
        if self.deadline.is_none() {
            self.deadline = Some(cx.deadline());
        }
        Ok(Step::Send(
            Call::get(
                cx.base(),
                &format!("/invoices/ksef/{}", wire::pct(&self.ksef_number)),
                "GET /invoices/ksef/{ksefNumber}",
            )
            .with_header("Accept", "application/xml"),
        ))
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        let what = "GET /invoices/ksef/{ksefNumber}";
        if resp.status == 400 && ApiError::from_response(&resp, cx.now_ms).has_code(21165) {
            // Not available yet (just accepted): poll.
            self.wait = Some(cx.next_poll(self.deadline.unwrap_or(0), what)?);
            return Ok(());
        }
        let resp = api_ok(resp, cx.now_ms, what)?;
        let hash = crate::crypto::hash::sha256(&resp.body).to_base64();
        if let Some(h) = resp.header("x-ms-meta-hash") {
            if h.trim() != hash {
                return Err(Error::new(
                    ErrorCode::IntegrityCheck,
                    what,
                    format!("the invoice does not match its x-ms-meta-hash ({h} ≠ {hash})"),
                ));
            }
        }
        let parsed = crate::xml::parse(&resp.body);
        self.result = Some(DownloadedInvoice {
            ksef_number: self.ksef_number.clone(),
            xml: resp.body,
            hash,
            parsed,
        });
        Ok(())
    }
}

/// An export request (`POST /invoices/exports`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExportRequest {
    /// The filters (as for a metadata query).
    pub query: MetadataQuery,
}

impl ExportRequest {
    /// Export what `query` selects.
    pub fn new(query: MetadataQuery) -> ExportRequest {
        ExportRequest { query }
    }
}

/// The result of [`super::Client::export_invoices`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExportResult {
    /// The export reference number.
    pub reference: String,
    /// `package.invoiceCount`.
    pub invoice_count: i64,
    /// `package.isTruncated`: the filters matched more than one package holds; export again
    /// from the last invoice's date.
    pub is_truncated: bool,
    /// The invoices of the package (XML as stored in KSeF, with their `_metadata.json` entry).
    pub invoices: Vec<ExportedInvoice>,
    /// `_metadata.json`, read.
    pub metadata: Vec<InvoiceMetadata>,
}

enum ExportState {
    Start,
    Poll,
    Part(usize),
    Done,
}

pub(crate) struct ExportOp {
    req: ExportRequest,
    key: Option<SessionKey>,
    reference: String,
    state: ExportState,
    parts: Vec<ExportPart>,
    urls: Vec<String>,
    downloaded: MemoryParts,
    invoice_count: i64,
    truncated: bool,
    wait: Option<u64>,
    deadline: u64,
    retried_keys: bool,
}

impl ExportOp {
    pub(crate) fn new(req: ExportRequest) -> ExportOp {
        ExportOp {
            req,
            key: None,
            reference: String::new(),
            state: ExportState::Start,
            parts: Vec::new(),
            urls: Vec::new(),
            downloaded: MemoryParts::default(),
            invoice_count: 0,
            truncated: false,
            wait: None,
            deadline: 0,
            retried_keys: false,
        }
    }
}

impl Operation for ExportOp {
    fn poll(&mut self, cx: &mut Cx<'_>) -> Result<Step, Error> {
        if let Some(t) = self.wait.take() {
            return Ok(Step::Wait(t));
        }
        match self.state {
            ExportState::Start => {
                let Some(keys) = cx.keys else {
                    return Ok(Step::NeedKeys);
                };
                let key = SessionKey::generate(cx.rng);
                let encryption = encryption_json(keys, cx.now_ms, &key, cx.rng)?;
                self.key = Some(key);
                let body = json!({
                    "encryption": encryption,
                    "filters": self.req.query.body(&self.req.query.from),
                });
                self.deadline = cx.deadline();
                // A repeated export request only starts a second export: harmless.
                Ok(Step::Send(
                    Call::post_json(
                        cx.base(),
                        "/invoices/exports",
                        &body,
                        "POST /invoices/exports",
                    )?
                    .safe(),
                ))
            }
            ExportState::Poll => Ok(Step::Send(Call::get(
                cx.base(),
                &format!("/invoices/exports/{}", wire::pct(&self.reference)),
                "GET /invoices/exports/{referenceNumber}",
            ))),
            ExportState::Part(i) => match self.urls.get(i) {
                Some(url) => Ok(Step::Send(Call::url(Method::Get, url, "GET export part"))),
                None => {
                    self.state = ExportState::Done;
                    self.poll(cx)
                }
            },
            ExportState::Done => {
                let key = self
                    .key
                    .as_ref()
                    .ok_or_else(|| Error::new(ErrorCode::BadResponse, "", "no export key"))?;
                let package =
                    open_export_package(&self.parts, &self.downloaded, key, &ZipLimits::default())?;
                let mut metadata = Vec::with_capacity(package.metadata.len());
                for (i, m) in package.metadata.iter().enumerate() {
                    metadata.push(
                        InvoiceMetadata::from_json(m)
                            .map_err(|e| e.at(format!("_metadata.json invoices[{i}]")))?,
                    );
                }
                Ok(Step::Done(Output::Export(ExportResult {
                    reference: self.reference.clone(),
                    invoice_count: self.invoice_count,
                    is_truncated: self.truncated,
                    invoices: package.invoices,
                    metadata,
                })))
            }
        }
    }

    fn on_response(&mut self, cx: &mut Cx<'_>, resp: Response, _: bool) -> Result<(), Error> {
        match self.state {
            ExportState::Start => {
                let what = "POST /invoices/exports";
                if cx.keys_rotated(&resp, &mut self.retried_keys) {
                    return Ok(());
                }
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                self.reference = wire::str_at(&v, "referenceNumber", what)?.to_string();
                self.state = ExportState::Poll;
            }
            ExportState::Poll => {
                let what = "GET /invoices/exports/{referenceNumber}";
                let resp = api_ok(resp, cx.now_ms, what)?;
                let v = wire::json(&resp, what)?;
                let status = StatusInfo::read(&v, "status", what)?;
                match status.code {
                    100 => self.wait = Some(cx.next_poll(self.deadline, what)?),
                    200 => {
                        self.invoice_count = wire::int_at(&v, "package.invoiceCount", what)?;
                        self.truncated = wire::at(&v, "package.isTruncated")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        let package = wire::at(&v, "package").cloned().unwrap_or(Value::Null);
                        self.parts =
                            export_parts_from_json(&package.to_string()).map_err(|e| e.at(what))?;
                        let mut urls = Vec::new();
                        for n in 1..=self.parts.len() {
                            let url = wire::array_at(&v, "package.parts")
                                .iter()
                                .find(|p| {
                                    wire::at(p, "ordinalNumber").and_then(Value::as_u64)
                                        == Some(n as u64)
                                })
                                .and_then(|p| wire::opt_str(p, "url"))
                                .ok_or_else(|| {
                                    wire::bad(what, "package.parts", format!("part {n} has no url"))
                                })?;
                            urls.push(url.to_string());
                        }
                        self.urls = urls;
                        self.state = ExportState::Part(0);
                    }
                    _ => {
                        return Err(Error::new(
                            ErrorCode::SessionFailed,
                            what,
                            format!("export {} failed: {}", self.reference, status.summary()),
                        ))
                    }
                }
            }
            ExportState::Part(i) => {
                let what = "GET export part";
                let resp = api_ok(resp, cx.now_ms, what)?;
                // Checked (sizes, hashes) and decrypted when the package is opened.
                self.downloaded.parts.push(resp.body);
                self.state = ExportState::Part(i + 1);
            }
            ExportState::Done => {}
        }
        Ok(())
    }
}
