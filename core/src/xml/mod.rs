//! Reading and writing invoice XML.
//!
//! [`parse`] detects the schema version from the root namespace and builds the model;
//! [`emit`] writes the model in exact XSD element order for a chosen version, refusing (with
//! the element path) any content that version cannot carry, so what it writes is valid
//! against the XSD. [`emit_into`] writes into a caller's buffer without allocating.

pub(crate) mod reader;
pub(crate) mod stream;
pub mod writer;

use alloc::vec::Vec;

pub use writer::{CountingSink, EmitOptions, Sink, SliceSink};

use crate::error::{Error, ErrorCode};
use crate::model::rt::{Cursor, Sv};
use crate::model::{codec, Faktura, SchemaVersion};

/// An invoice read from XML, with the schema version it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The invoice.
    pub invoice: Faktura,
    /// The schema version of the document.
    pub schema: SchemaVersion,
}

/// Parse FA(3) or FA(2) XML (UTF-8; a BOM is tolerated).
pub fn parse(xml: &[u8]) -> Result<Parsed, Error> {
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let text = core::str::from_utf8(xml).map_err(|e| {
        Error::new(
            ErrorCode::Encoding,
            alloc::format!("byte {}", e.valid_up_to()),
            "the invoice is not valid UTF-8",
        )
    })?;
    parse_str(text)
}

/// Parse FA(3) or FA(2) XML from a string.
pub fn parse_str(xml: &str) -> Result<Parsed, Error> {
    let (mut stream, ns, root) = stream::Stream::open(xml)?;
    let Some(schema) = SchemaVersion::from_namespace(ns) else {
        return Err(Error::new(
            ErrorCode::XmlNamespace,
            root,
            alloc::format!("`{ns}` is not an FA(3) or FA(2) invoice namespace"),
        ));
    };
    if root != "Faktura" {
        return Err(Error::new(
            ErrorCode::UnexpectedElement,
            root,
            "the root element must be `Faktura`",
        ));
    }
    let mut c = Cursor::Stream(stream::StreamCursor::root(&mut stream));
    let invoice = codec::build_root(&mut c, schema.sv())?;
    c.finish()?;
    stream.finish_document()?;
    Ok(Parsed { invoice, schema })
}

/// Write the invoice as XML of `schema` into any sink.
pub fn write<S: Sink>(
    inv: &Faktura,
    schema: SchemaVersion,
    opts: &EmitOptions,
    sink: &mut S,
) -> Result<(), Error> {
    if opts.declaration {
        sink.put(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        if opts.indent {
            sink.put(b"\n");
        }
    }
    let mut o = writer::XmlOut::new(sink, opts);
    o.root_start(schema.namespace())?;
    codec::emit_root(inv, &mut o, schema.sv())?;
    o.root_end();
    Ok(())
}

/// The invoice as XML of `schema` (UTF-8, no BOM, indented).
pub fn emit(inv: &Faktura, schema: SchemaVersion) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(8 * 1024);
    write(inv, schema, &EmitOptions::default(), &mut out)?;
    Ok(out)
}

/// Write into a caller's buffer without allocating; returns the length, or
/// `BufferTooSmall` carrying the size needed.
pub fn emit_into(
    inv: &Faktura,
    schema: SchemaVersion,
    opts: &EmitOptions,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut sink = SliceSink::new(buf);
    write(inv, schema, opts, &mut sink)?;
    sink.finish()
}

/// Check that the invoice can be written in `schema` (every element exists there, every value
/// fits its XSD type) without producing output.
pub fn check(inv: &Faktura, schema: SchemaVersion) -> Result<(), Error> {
    let mut sink = CountingSink::default();
    write(
        inv,
        schema,
        &EmitOptions {
            indent: false,
            declaration: false,
        },
        &mut sink,
    )
}

/// The view the codecs use for a version (re-exported for sibling modules).
#[allow(dead_code)]
pub(crate) fn sv(schema: SchemaVersion) -> Sv {
    schema.sv()
}
