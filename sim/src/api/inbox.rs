//! The inbox: invoice download, metadata queries, exports (`/invoices/*`).

use std::collections::HashMap;
use std::io::Write as _;

use ksef::crypto::session::EncryptionInfo;
use ksef::crypto::SessionKey;
use ksef::model::{Decimal, Faktura, NipWybor, SchemaVersion};
use rand_core::OsRng;
use serde_json::{json, Value};

use super::auth::Caller;
use super::sessions::page_size;
use super::{json_body, reference_number, sha256_b64, status_json, ApiErr, ApiResult, Ksef};
use crate::http::{Request, Response};
use crate::time::{now_ms, parse_ms, rfc3339};

/// Most records a query (or an export) returns before `isTruncated`.
const MAX_RESULTS: usize = 10_000;
/// How long export packages stay downloadable.
const PACKAGE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// An accepted invoice as the inbox keeps it.
#[derive(Debug, Clone)]
pub(crate) struct StoredInvoice {
    ksef_number: String,
    invoice_number: String,
    issue_date: String,
    issue_ms: i64,
    acquisition_ms: i64,
    seller_nip: String,
    seller_name: String,
    buyer_kind: &'static str,
    buyer_id: Option<String>,
    buyer_name: Option<String>,
    net: Decimal,
    vat: Decimal,
    gross: Decimal,
    currency: String,
    offline: bool,
    invoice_type: &'static str,
    schema: SchemaVersion,
    self_invoicing: bool,
    has_attachment: bool,
    hash: String,
    xml: Vec<u8>,
}

impl StoredInvoice {
    pub(crate) fn new(
        inv: &Faktura,
        schema: SchemaVersion,
        xml: Vec<u8>,
        ksef_number: &str,
        hash: &str,
        accepted_ms: i64,
        offline: bool,
    ) -> StoredInvoice {
        let fa = &inv.fa;
        let (buyer_kind, buyer_id) = match &inv.podmiot2.dane_identyfikacyjne.nip_wybor {
            NipWybor::Nip(n) => ("Nip", Some(n.clone())),
            NipWybor::KodUe { kod_ue, nr_vat_ue } => {
                ("VatUe", Some(format!("{}{}", kod_ue.code(), nr_vat_ue)))
            }
            NipWybor::KodKraju { nr_id, .. } => ("Other", Some(nr_id.clone())),
            NipWybor::BrakId(_) => ("None", None),
        };
        let invoice_type = match fa.rodzaj_faktury.code() {
            "VAT" => "Vat",
            "KOR" => "Kor",
            "ZAL" => "Zal",
            "ROZ" => "Roz",
            "UPR" => "Upr",
            "KOR_ZAL" => "KorZal",
            _ => "KorRoz",
        };
        StoredInvoice {
            ksef_number: ksef_number.to_string(),
            invoice_number: fa.p_2.clone(),
            issue_date: fa.p_1.to_string(),
            issue_ms: fa.p_1.days_since_epoch() * 86_400_000,
            acquisition_ms: accepted_ms,
            seller_nip: inv.podmiot1.dane_identyfikacyjne.nip.clone(),
            seller_name: inv.podmiot1.dane_identyfikacyjne.nazwa.clone(),
            buyer_kind,
            buyer_id,
            buyer_name: inv.podmiot2.dane_identyfikacyjne.nazwa.clone(),
            net: fa.net_total(),
            vat: fa.vat_total(),
            gross: fa.p_15,
            currency: fa.kod_waluty.code().to_string(),
            offline,
            invoice_type,
            schema,
            self_invoicing: inv.fa.adnotacje.p_17.code() == "1",
            has_attachment: inv.zalacznik.is_some(),
            hash: hash.to_string(),
            xml,
        }
    }

    fn metadata(&self) -> Value {
        let num =
            |d: Decimal| -> Value { serde_json::from_str(&d.to_string()).unwrap_or(Value::Null) };
        let mut buyer = json!({"identifier": {"type": self.buyer_kind}});
        if let Some(id) = &self.buyer_id {
            buyer["identifier"]["value"] = json!(id);
        }
        if let Some(n) = &self.buyer_name {
            buyer["name"] = json!(n);
        }
        json!({
            "ksefNumber": self.ksef_number,
            "invoiceNumber": self.invoice_number,
            "issueDate": self.issue_date,
            "invoicingDate": rfc3339(self.acquisition_ms),
            "acquisitionDate": rfc3339(self.acquisition_ms),
            "permanentStorageDate": rfc3339(self.acquisition_ms),
            "seller": {"nip": self.seller_nip, "name": self.seller_name},
            "buyer": buyer,
            "netAmount": num(self.net),
            "grossAmount": num(self.gross),
            "vatAmount": num(self.vat),
            "currency": self.currency,
            "invoicingMode": if self.offline { "Offline" } else { "Online" },
            "invoiceType": self.invoice_type,
            "formCode": {
                "systemCode": self.schema.system_code(),
                "schemaVersion": self.schema.schema_version(),
                "value": "FA",
            },
            "isSelfInvoicing": self.self_invoicing,
            "hasAttachment": self.has_attachment,
            "invoiceHash": self.hash,
        })
    }

    fn visible_to(&self, c: &Caller) -> bool {
        let nip = c.context.nip();
        self.seller_nip == nip || self.buyer_id.as_deref() == Some(nip)
    }
}

#[derive(Debug, Clone)]
struct Export {
    context: super::auth::Context,
    created_ms: i64,
    polls_left: u32,
    status: Value,
    package: Option<Value>,
}

#[derive(Default)]
pub(crate) struct InboxState {
    invoices: Vec<StoredInvoice>,
    by_number: HashMap<String, usize>,
    exports: HashMap<String, Export>,
}

impl InboxState {
    pub(crate) fn store(&mut self, inv: StoredInvoice) {
        self.by_number
            .insert(inv.ksef_number.clone(), self.invoices.len());
        self.invoices.push(inv);
    }
}

/// The query filters of `InvoiceQueryFilters`.
fn matches(inv: &StoredInvoice, c: &Caller, f: &Value) -> Result<bool, ApiErr> {
    let nip = c.context.nip();
    let subject = f
        .get("subjectType")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiErr::invalid("The field 'subjectType' is required."))?;
    let ok = match subject {
        "Subject1" => inv.seller_nip == nip,
        "Subject2" => inv.buyer_id.as_deref() == Some(nip),
        // The sim keeps no third parties or authorised subjects: nothing matches.
        "Subject3" | "SubjectAuthorized" => false,
        other => return Err(ApiErr::invalid(format!("Unknown subjectType '{other}'."))),
    };
    if !ok {
        return Ok(false);
    }
    let range = f
        .get("dateRange")
        .ok_or_else(|| ApiErr::invalid("The field 'dateRange' is required."))?;
    let at = match range.get("dateType").and_then(Value::as_str) {
        Some("Issue") => inv.issue_ms,
        Some("Invoicing") | Some("PermanentStorage") => inv.acquisition_ms,
        other => {
            return Err(ApiErr::invalid(format!(
                "dateRange.dateType must be Issue, Invoicing or PermanentStorage (got {other:?})."
            )))
        }
    };
    let from = range
        .get("from")
        .and_then(Value::as_str)
        .and_then(parse_ms)
        .ok_or_else(|| ApiErr::invalid("dateRange.from is required (date-time)."))?;
    let to = match range.get("to").and_then(Value::as_str) {
        Some(t) => {
            Some(parse_ms(t).ok_or_else(|| ApiErr::invalid("dateRange.to is not a date-time."))?)
        }
        None => None,
    };
    if let Some(t) = to {
        if t - from > 92 * 86_400_000 {
            return Err(ApiErr::invalid(
                "Zakres dat nie może przekraczać 3 miesięcy.",
            ));
        }
    }
    if at < from || to.is_some_and(|t| at > t) {
        return Ok(false);
    }
    let s = |k: &str| f.get(k).and_then(Value::as_str);
    if s("ksefNumber").is_some_and(|k| k != inv.ksef_number)
        || s("invoiceNumber").is_some_and(|k| k != inv.invoice_number)
        || s("sellerNip").is_some_and(|k| k != inv.seller_nip)
        || s("invoicingMode").is_some_and(|k| k != if inv.offline { "Offline" } else { "Online" })
        || s("formType").is_some_and(|k| k != "FA")
    {
        return Ok(false);
    }
    if let Some(b) = f.get("buyerIdentifier").filter(|v| !v.is_null()) {
        let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != inv.buyer_kind
            || b.get("value")
                .and_then(Value::as_str)
                .is_some_and(|v| Some(v) != inv.buyer_id.as_deref())
        {
            return Ok(false);
        }
    }
    let list = |k: &str| -> Vec<&str> {
        f.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let types = list("invoiceTypes");
    if !types.is_empty() && !types.contains(&inv.invoice_type) {
        return Ok(false);
    }
    let currencies = list("currencyCodes");
    if !currencies.is_empty() && !currencies.contains(&inv.currency.as_str()) {
        return Ok(false);
    }
    for (k, v) in [
        ("isSelfInvoicing", inv.self_invoicing),
        ("hasAttachment", inv.has_attachment),
    ] {
        if f.get(k)
            .and_then(Value::as_bool)
            .is_some_and(|want| want != v)
        {
            return Ok(false);
        }
    }
    if let Some(a) = f.get("amount").filter(|v| !v.is_null()) {
        let amount = match a.get("type").and_then(Value::as_str) {
            Some("Brutto") => inv.gross,
            Some("Netto") => inv.net,
            Some("Vat") => inv.vat,
            other => {
                return Err(ApiErr::invalid(format!(
                    "amount.type {other:?} is not Brutto, Netto or Vat."
                )))
            }
        };
        let bound = |k: &str| -> Option<Decimal> {
            a.get(k).map(|v| v.to_string()).and_then(|t| t.parse().ok())
        };
        if bound("from").is_some_and(|b| amount < b) || bound("to").is_some_and(|b| amount > b) {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Ksef {
    pub(crate) fn invoice_routes(&self, m: &str, segs: &[&str], req: &Request) -> ApiResult {
        let c = self.caller(req)?;
        match (m, segs) {
            ("GET", ["ksef", k]) => self.download_invoice(&c, k),
            ("POST", ["query", "metadata"]) => self.query_metadata(&c, req),
            ("POST", ["exports"]) => self.start_export(&c, req),
            ("GET", ["exports", r]) => self.export_status(&c, r),
            _ => Err(ApiErr::plain(
                404,
                "Not Found",
                format!("no KSeF endpoint {m} /v2/invoices/{}", segs.join("/")),
            )),
        }
    }

    fn download_invoice(&self, c: &Caller, number: &str) -> ApiResult {
        let st = self.lock();
        let inv = st
            .inbox
            .by_number
            .get(number)
            .and_then(|i| st.inbox.invoices.get(*i))
            .filter(|i| i.visible_to(c))
            .ok_or_else(|| {
                ApiErr::bad(
                    21164,
                    "Faktura o podanym identyfikatorze nie istnieje.",
                    format!("Faktura o numerze KSeF {number} nie została znaleziona."),
                )
            })?;
        Ok(Response::new(200, "application/xml", inv.xml.clone())
            .with_header("x-ms-meta-hash", inv.hash.clone()))
    }

    /// The matching invoices, sorted.
    fn select(
        &self,
        c: &Caller,
        filters: &Value,
        desc: bool,
    ) -> Result<Vec<StoredInvoice>, ApiErr> {
        let st = self.lock();
        let mut out = Vec::new();
        for inv in &st.inbox.invoices {
            if matches(inv, c, filters)? {
                out.push(inv.clone());
            }
        }
        let key_issue = filters["dateRange"]["dateType"] == "Issue";
        out.sort_by_key(|i| {
            (
                if key_issue {
                    i.issue_ms
                } else {
                    i.acquisition_ms
                },
                i.acquisition_ms,
            )
        });
        if desc {
            out.reverse();
        }
        Ok(out)
    }

    fn query_metadata(&self, c: &Caller, req: &Request) -> ApiResult {
        let filters = json_body(req)?;
        let size = page_size(req, 10, 10, 250)?;
        let offset: usize = match req.query("pageOffset") {
            None => 0,
            Some(v) => v
                .parse()
                .map_err(|_| ApiErr::invalid(format!("pageOffset '{v}' is not a number.")))?,
        };
        let desc = match req.query("sortOrder") {
            None | Some("Asc") => false,
            Some("Desc") => true,
            Some(o) => {
                return Err(ApiErr::invalid(format!(
                    "sortOrder '{o}' is not Asc or Desc."
                )))
            }
        };
        let all = self.select(c, &filters, desc)?;
        let truncated = all.len() > MAX_RESULTS;
        let visible = &all[..all.len().min(MAX_RESULTS)];
        let start = offset.saturating_mul(size).min(visible.len());
        let end = (start + size).min(visible.len());
        let page: Vec<Value> = visible[start..end]
            .iter()
            .map(StoredInvoice::metadata)
            .collect();
        Ok(Response::json(
            200,
            &json!({
                "hasMore": end < visible.len(),
                "isTruncated": truncated && end >= visible.len(),
                "permanentStorageHwmDate": rfc3339(now_ms()),
                "invoices": page,
            }),
        ))
    }

    fn start_export(&self, c: &Caller, req: &Request) -> ApiResult {
        let body = json_body(req)?;
        let enc = body
            .get("encryption")
            .ok_or_else(|| ApiErr::invalid("The field 'encryption' is required."))?;
        let info = EncryptionInfo::from_json(&enc.to_string())
            .map_err(|e| ApiErr::invalid(format!("encryption: {e}")))?;
        if info
            .public_key_id
            .as_ref()
            .is_some_and(|id| *id != Ksef::public_key_id(&self.keys.sym_cert))
        {
            return Err(ApiErr::bad(
                21470,
                "Przesłany identyfikator klucza jest nieznany lub wskazuje na wycofany klucz.",
                "Klucz nie jest wspierany.",
            ));
        }
        if body.get("compressionType").and_then(Value::as_str) == Some("TarGz") {
            return Err(ApiErr::not_simulated("TarGz export packages"));
        }
        let filters = body
            .get("filters")
            .cloned()
            .ok_or_else(|| ApiErr::invalid("The field 'filters' is required."))?;
        let only_metadata = body
            .get("onlyMetadata")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let found = self.select(c, &filters, false)?;
        let reference = reference_number("EH");
        let now = now_ms();
        let (status, package) =
            match SessionKey::from_encryption_info(&info, &self.keys.sym_key, &mut OsRng) {
                Err(_) => (
                    status_json(415, "Błąd odszyfrowania dostarczonego klucza", &[]),
                    None,
                ),
                Ok(key) => {
                    let truncated = found.len() > MAX_RESULTS;
                    let found = &found[..found.len().min(MAX_RESULTS)];
                    let zip = build_package(found, only_metadata).map_err(|e| {
                        ApiErr::plain(500, "Internal Server Error", format!("ZIP: {e}"))
                    })?;
                    let encrypted = key.encrypt(&zip);
                    let mut st = self.lock();
                    let url = self.publish(
                        &mut st,
                        &req.origin,
                        "application/octet-stream",
                        encrypted.clone(),
                    );
                    let part = json!({
                        "ordinalNumber": 1,
                        "partName": format!("{reference}-001.zip.aes"),
                        "method": "GET",
                        "url": url,
                        "partSize": zip.len(),
                        "partHash": sha256_b64(&zip),
                        "encryptedPartSize": encrypted.len(),
                        "encryptedPartHash": sha256_b64(&encrypted),
                        "expirationDate": rfc3339(now + PACKAGE_TTL_MS),
                    });
                    let mut pkg = json!({
                        "invoiceCount": found.len(),
                        "size": zip.len(),
                        "parts": [part],
                        "isTruncated": truncated,
                        "permanentStorageHwmDate": rfc3339(now),
                    });
                    if let Some(last) = found.last() {
                        pkg["lastIssueDate"] = json!(last.issue_date);
                        pkg["lastInvoicingDate"] = json!(rfc3339(last.acquisition_ms));
                        pkg["lastPermanentStorageDate"] = json!(rfc3339(last.acquisition_ms));
                    }
                    (
                        status_json(200, "Eksport faktur zakończony sukcesem", &[]),
                        Some(pkg),
                    )
                }
            };
        self.lock().inbox.exports.insert(
            reference.clone(),
            Export {
                context: c.context.clone(),
                created_ms: now,
                polls_left: self.cfg.session_processing_polls,
                status,
                package,
            },
        );
        Ok(Response::json(201, &json!({"referenceNumber": reference})))
    }

    fn export_status(&self, c: &Caller, reference: &str) -> ApiResult {
        let mut st = self.lock();
        let e = st
            .inbox
            .exports
            .get_mut(reference)
            .filter(|e| e.context == c.context)
            .ok_or_else(|| {
                ApiErr::invalid(format!(
                    "Eksport o numerze referencyjnym {reference} nie istnieje."
                ))
            })?;
        if e.polls_left > 0 {
            e.polls_left -= 1;
            return Ok(Response::json(
                200,
                &json!({"status": status_json(100, "Eksport faktur w toku", &[])}),
            ));
        }
        let mut v = json!({"status": e.status});
        if let Some(p) = &e.package {
            v["completedDate"] = json!(rfc3339(e.created_ms));
            v["packageExpirationDate"] = json!(rfc3339(e.created_ms + PACKAGE_TTL_MS));
            v["package"] = p.clone();
        }
        Ok(Response::json(200, &v))
    }
}

/// The export ZIP: `<ksefNumber>.xml` files and `_metadata.json`.
fn build_package(found: &[StoredInvoice], only_metadata: bool) -> zip::result::ZipResult<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    if !only_metadata {
        for inv in found {
            w.start_file(format!("{}.xml", inv.ksef_number), opts)?;
            w.write_all(&inv.xml)?;
        }
    }
    let meta: Vec<Value> = found.iter().map(StoredInvoice::metadata).collect();
    w.start_file("_metadata.json", opts)?;
    w.write_all(json!({"invoices": meta}).to_string().as_bytes())?;
    Ok(w.finish()?.into_inner())
}
