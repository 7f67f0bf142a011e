//! Invoices: the `ksef_invoice` handle over the core model — read from XML, from the model's
//! JSON form or from the builder's JSON input; written as XML (owned or into the caller's
//! buffer) or JSON; validated with a structured report.
//!
//! Schema versions are passed as the numbers `KSEF_SCHEMA_FA2` (2) and `KSEF_SCHEMA_FA3`
//! (3). Functions without a handle are thread-safe; a handle may move between threads but
//! must not be used from two threads at once.

use ksef::builder::InvoiceBuilder;
use ksef::model::{Date, Faktura, SchemaVersion};
use ksef::validate::{validate, Options};
use ksef::xml::{self, EmitOptions};
use ksef::{Error, ErrorCode};

use crate::common::{
    bytes, free, give, give_buffer, give_json, guard, handle, handle_mut, invalid, ksef_buffer,
    ksef_result, out, text, Fail,
};

/// The FA(2) invoice structure (accepted only on the TEST environment).
pub const KSEF_SCHEMA_FA2: u32 = 2;
/// The FA(3) invoice structure (DEMO and production).
pub const KSEF_SCHEMA_FA3: u32 = 3;

/// An invoice (the core model, `Faktura`) with the schema version it is read in or meant
/// for. Made by `ksef_invoice_from_xml`, `ksef_invoice_from_json` or `ksef_invoice_build`;
/// freed with `ksef_invoice_free`. Not thread-safe: use from one thread at a time.
pub struct ksef_invoice {
    invoice: Faktura,
    schema: SchemaVersion,
}

/// The schema of a `KSEF_SCHEMA_*` number.
pub(crate) fn schema_of(n: u32, name: &str) -> Result<SchemaVersion, Error> {
    match n {
        KSEF_SCHEMA_FA2 => Ok(SchemaVersion::Fa2),
        KSEF_SCHEMA_FA3 => Ok(SchemaVersion::Fa3),
        _ => Err(invalid(
            name,
            format!("{n} is not a schema version (KSEF_SCHEMA_FA2 = 2 or KSEF_SCHEMA_FA3 = 3)"),
        )),
    }
}

fn schema_number(s: SchemaVersion) -> u32 {
    match s {
        SchemaVersion::Fa2 => KSEF_SCHEMA_FA2,
        SchemaVersion::Fa3 => KSEF_SCHEMA_FA3,
    }
}

/// Reads an FA(3) or FA(2) invoice from XML (UTF-8, a BOM is tolerated; the version comes
/// from the root namespace) into a new handle in `*invoice_out`. Errors name the element
/// (`Faktura/Fa/FaWiersz[3]/P_8B`): `KSEF_ERR_ENCODING`, `KSEF_ERR_XML_SYNTAX`,
/// `KSEF_ERR_XML_NAMESPACE`, `KSEF_ERR_MISSING_ELEMENT`, `KSEF_ERR_INVALID_VALUE`, ...
/// The input is copied; it may be freed after the call. Thread-safe.
///
/// # Safety
/// `xml` points to `xml_len` readable bytes (NULL only with length 0); `invoice_out` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_from_xml(
    xml: *const u8,
    xml_len: usize,
    invoice_out: *mut *mut ksef_invoice,
) -> ksef_result {
    guard(|| {
        let o = out(invoice_out, "invoice_out")?;
        // SAFETY: documented contract.
        let x = unsafe { bytes(xml, xml_len, "xml") }?;
        let parsed = xml::parse(x)?;
        give(
            o,
            ksef_invoice {
                invoice: parsed.invoice,
                schema: parsed.schema,
            },
        );
        Ok(())
    })
}

/// Reads an invoice from the model's JSON form (official element names as keys, decimals as
/// strings or exact numbers; see `docs/JSON.md`) into a new handle meant for `schema`
/// (`KSEF_SCHEMA_FA3` or `KSEF_SCHEMA_FA2`). Errors: `KSEF_ERR_ENCODING` (bad UTF-8),
/// `KSEF_ERR_JSON_SYNTAX` (path `line L, column C`), or the model's errors with the element
/// path; `KSEF_ERR_INVALID_ARGUMENT` for another schema number. Thread-safe.
///
/// # Safety
/// `json` points to `json_len` readable bytes (NULL only with length 0); `invoice_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_from_json(
    json: *const std::ffi::c_char,
    json_len: usize,
    schema: u32,
    invoice_out: *mut *mut ksef_invoice,
) -> ksef_result {
    guard(|| {
        let o = out(invoice_out, "invoice_out")?;
        let schema = schema_of(schema, "schema")?;
        // SAFETY: documented contract.
        let t = unsafe { text(json, json_len, "json") }?;
        let invoice = Faktura::from_json(t)?;
        give(o, ksef_invoice { invoice, schema });
        Ok(())
    })
}

/// Builds an invoice for `schema` from the builder's JSON input (`ksef::builder::json`:
/// kind, method, header, seller, buyer, lines, currency, annotations, payment, notes; every
/// amount computed exactly; example `examples/builder/vat-shop.json`) into a new handle.
/// Errors: `KSEF_ERR_JSON_SYNTAX`, or `KSEF_ERR_INVALID_BUILDER_INPUT` with the JSON path
/// (`lines[1].quantity`) and why; `KSEF_ERR_ARITHMETIC_OVERFLOW` for amounts too large.
/// Thread-safe.
///
/// # Safety
/// `builder_json` points to `builder_json_len` readable bytes (NULL only with length 0);
/// `invoice_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_build(
    builder_json: *const std::ffi::c_char,
    builder_json_len: usize,
    schema: u32,
    invoice_out: *mut *mut ksef_invoice,
) -> ksef_result {
    guard(|| {
        let o = out(invoice_out, "invoice_out")?;
        let schema = schema_of(schema, "schema")?;
        // SAFETY: documented contract.
        let t = unsafe { text(builder_json, builder_json_len, "builder_json") }?;
        let invoice = InvoiceBuilder::from_json(t)?.build(schema)?;
        give(o, ksef_invoice { invoice, schema });
        Ok(())
    })
}

/// Frees an invoice; NULL is accepted.
/// The handle must not be in use on another thread (or later).
///
/// # Safety
/// `invoice` is NULL or a live invoice of this library, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_free(invoice: *mut ksef_invoice) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: forwarded contract.
        unsafe { free(invoice) }
    }));
}

/// The schema version of the invoice: `KSEF_SCHEMA_FA3` (3) or `KSEF_SCHEMA_FA2` (2); 0 for
/// a NULL invoice.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `invoice` is NULL or a live invoice.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_schema(invoice: *const ksef_invoice) -> u32 {
    std::panic::catch_unwind(|| handle(invoice, "invoice").map_or(0, |i| schema_number(i.schema)))
        .unwrap_or(0)
}

/// Sets the schema version the invoice is written and validated in (e.g. to convert an FA(2)
/// invoice to FA(3)); nothing is checked until it is written or validated.
///
/// # Safety
/// `invoice` is a live invoice, not used by another thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_set_schema(
    invoice: *mut ksef_invoice,
    schema: u32,
) -> ksef_result {
    guard(|| {
        let inv = handle_mut(invoice, "invoice")?;
        inv.schema = schema_of(schema, "schema")?;
        Ok(())
    })
}

/// The invoice as XML of its schema version (UTF-8, no BOM, indented, with the XML
/// declaration) into a new buffer in `*xml_out` — exactly the bytes `ksef::xml::emit` gives,
/// the bytes to hash and send. Content the version cannot carry is an error naming the
/// element. Free the buffer with `ksef_buffer_free`.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `invoice` is a live invoice; `xml_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_to_xml(
    invoice: *const ksef_invoice,
    xml_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(xml_out, "xml_out")?;
        let inv = handle(invoice, "invoice")?;
        give_buffer(o, xml::emit(&inv.invoice, inv.schema)?);
        Ok(())
    })
}

/// As `ksef_invoice_to_xml`, written into the caller's buffer `(buf, cap)` without
/// allocating (for devices with little RAM): the same bytes, no NUL added; the length goes
/// to `*len_out`. When `cap` is too small (or `buf` is NULL), `KSEF_ERR_BUFFER_TOO_SMALL`
/// with the size needed in `*len_out` (call with `buf = NULL, cap = 0` to ask for it); the
/// buffer's content is then unspecified.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `invoice` is a live invoice; `buf` is NULL or writable for `cap` bytes; `len_out` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_to_xml_into(
    invoice: *const ksef_invoice,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> ksef_result {
    guard(|| {
        let len_out = out(len_out, "len_out")?;
        let inv = handle(invoice, "invoice")?;
        let dst: &mut [u8] = if buf.is_null() || cap == 0 {
            &mut []
        } else {
            // SAFETY: `buf` is writable for `cap` bytes (documented).
            unsafe { std::slice::from_raw_parts_mut(buf, cap) }
        };
        match xml::emit_into(&inv.invoice, inv.schema, &EmitOptions::default(), dst) {
            Ok(n) => {
                *len_out = n;
                Ok(())
            }
            Err(e) => {
                if e.code() == ErrorCode::BufferTooSmall {
                    *len_out = e.needed();
                }
                Err(e.into())
            }
        }
    })
}

/// The invoice in the model's JSON form (pretty-printed, keys in schema order, decimals as
/// strings; `Faktura::to_json`) into a new buffer in `*json_out`.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `invoice` is a live invoice; `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_to_json(
    invoice: *const ksef_invoice,
    json_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(json_out, "json_out")?;
        let inv = handle(invoice, "invoice")?;
        give_buffer(o, inv.invoice.to_json()?.into_bytes());
        Ok(())
    })
}

/// Today's date from `(today, today_len)`: empty = none (the future-date check is skipped).
unsafe fn options(today: *const std::ffi::c_char, today_len: usize) -> Result<Options, Error> {
    // SAFETY: forwarded contract.
    let t = unsafe { text(today, today_len, "today") }?;
    if t.is_empty() {
        return Ok(Options::new());
    }
    let d: Date = t
        .parse()
        .map_err(|_| invalid("today", format!("`{t}` is not a date (YYYY-MM-DD)")))?;
    Ok(Options::new().with_today(d))
}

/// Validates the invoice for its schema version (the XSD-level check, then the business
/// rules of `ksef::validate`) and writes the report as JSON into a new buffer in
/// `*report_out`; returns `KSEF_OK` whether the invoice is valid or not:
/// `{"valid":false,"errors":1,"warnings":0,"issues":[{"code":"total_due","severity":"error",
/// "path":"Faktura/Fa/P_15","message":"..."}]}` (every problem, in order; the codes are
/// stable). `today` (`YYYY-MM-DD`, the core reads no clock) enables the future-issue-date
/// check; NULL/empty skips it.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// `invoice` is a live invoice; `today` points to `today_len` readable bytes (NULL only with
/// length 0); `report_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_validate(
    invoice: *const ksef_invoice,
    today: *const std::ffi::c_char,
    today_len: usize,
    report_out: *mut *mut ksef_buffer,
) -> ksef_result {
    guard(|| {
        let o = out(report_out, "report_out")?;
        let inv = handle(invoice, "invoice")?;
        // SAFETY: documented contract.
        let opts = unsafe { options(today, today_len) }?;
        let report = validate(&inv.invoice, inv.schema, &opts);
        give_json(o, &report.to_json_value())
    })
}

/// As `ksef_invoice_validate`, as a yes/no: `KSEF_OK` when the invoice has no errors
/// (warnings allowed), otherwise `KSEF_ERR_VALIDATION_FAILED` with the first error's path
/// and a summary in the last error, and the whole report (the JSON of
/// `ksef_invoice_validate`) in `ksef_last_error_detail`.
/// Thread-safe for distinct handles; one handle may be read from several threads only while no call changes it.
///
/// # Safety
/// As `ksef_invoice_validate` (without `report_out`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ksef_invoice_check(
    invoice: *const ksef_invoice,
    today: *const std::ffi::c_char,
    today_len: usize,
) -> ksef_result {
    guard(|| {
        let inv = handle(invoice, "invoice")?;
        // SAFETY: documented contract.
        let opts = unsafe { options(today, today_len) }?;
        let report = validate(&inv.invoice, inv.schema, &opts);
        let detail = report.to_json_value().to_string();
        match report.into_result() {
            Ok(_) => Ok(()),
            Err(e) => Err(Fail::with_detail(e, detail)),
        }
    })
}
