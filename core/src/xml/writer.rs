//! Model -> XML bytes, written straight into a [`Sink`]: a `Vec<u8>`, or a caller's fixed
//! buffer ([`SliceSink`]) for devices that must not allocate.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::error::{Error, ErrorCode};
use crate::model::rt::{Lv, Out, Sv};

/// Where emitted bytes go. Writing never fails; a bounded sink counts what did not fit.
pub trait Sink {
    /// Append bytes.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for String {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        // Emitters only write UTF-8 text.
        self.push_str(core::str::from_utf8(bytes).unwrap_or("\u{FFFD}"));
    }
}

/// A caller-provided buffer. Bytes past its end are counted, not written, so one failed
/// attempt tells the caller the size it needs.
pub struct SliceSink<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> SliceSink<'b> {
    /// Wrap a buffer.
    pub fn new(buf: &'b mut [u8]) -> Self {
        SliceSink { buf, len: 0 }
    }
    /// Bytes produced so far (may exceed the buffer).
    pub fn len(&self) -> usize {
        self.len
    }
    /// Nothing produced yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Everything fit.
    pub fn fits(&self) -> bool {
        self.len <= self.buf.len()
    }
    /// The written bytes, or `BufferTooSmall` with the size needed.
    pub fn finish(self) -> Result<usize, Error> {
        if self.fits() {
            Ok(self.len)
        } else {
            Err(Error::buffer_too_small(self.len))
        }
    }
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end <= self.buf.len() {
            self.buf[self.len..end].copy_from_slice(bytes);
        }
        self.len = end;
    }
}

/// Counts bytes only (for checking an invoice against a schema without output).
#[derive(Default)]
pub struct CountingSink(pub usize);

impl Sink for CountingSink {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

struct FmtSink<'a, S: Sink>(&'a mut S);

impl<S: Sink> fmt::Write for FmtSink<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes());
        Ok(())
    }
}

/// Element names on the way down, for error paths; fixed size so emitting does not allocate.
pub(crate) struct PathStack {
    names: [(&'static str, u32); 32],
    depth: usize,
    pending_index: u32,
}

impl PathStack {
    pub(crate) fn new() -> Self {
        PathStack {
            names: [("", 0); 32],
            depth: 0,
            pending_index: 0,
        }
    }

    pub(crate) fn push(&mut self, name: &'static str) -> Result<(), Error> {
        if self.depth == self.names.len() {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                self.render(),
                "nesting too deep",
            ));
        }
        self.names[self.depth] = (name, self.pending_index);
        self.pending_index = 0;
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn set_index(&mut self, i: usize) {
        self.pending_index = i as u32 + 1;
    }

    pub(crate) fn clear_index(&mut self) {
        self.pending_index = 0;
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        for (i, (n, idx)) in self.names[..self.depth].iter().enumerate() {
            if i > 0 {
                s.push('/');
            }
            s.push_str(n);
            if *idx > 0 {
                let _ = write!(s, "[{idx}]");
            }
        }
        s
    }
}

/// Layout of the emitted XML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmitOptions {
    /// Indent nested elements (two spaces a level) and put each on its own line.
    pub indent: bool,
    /// Write the `<?xml version="1.0" encoding="UTF-8"?>` declaration.
    pub declaration: bool,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions {
            indent: true,
            declaration: true,
        }
    }
}

pub(crate) struct XmlOut<'s, S: Sink> {
    s: &'s mut S,
    path: PathStack,
    indent: bool,
}

const SPACES: &[u8] = b"\n                                                                ";

impl<'s, S: Sink> XmlOut<'s, S> {
    pub(crate) fn new(s: &'s mut S, opts: &EmitOptions) -> Self {
        XmlOut {
            s,
            path: PathStack::new(),
            indent: opts.indent,
        }
    }

    #[inline]
    fn newline(&mut self) {
        if self.indent {
            let n = (self.path.depth() * 2 + 1).min(SPACES.len());
            self.s.put(&SPACES[..n]);
        }
    }

    pub(crate) fn root_start(&mut self, ns: &str) -> Result<(), Error> {
        self.s.put(b"<Faktura xmlns=\"");
        escape(self.s, ns, true);
        self.s.put(b"\">");
        self.path.push("Faktura")
    }

    pub(crate) fn root_end(&mut self) {
        self.path.pop();
        self.newline();
        self.s.put(b"</Faktura>");
        if self.indent {
            self.s.put(b"\n");
        }
    }

    fn open_tag(&mut self, name: &str) {
        self.newline();
        tag(self.s, false, name, b"");
    }
}

const fn esc_table(attr: bool) -> [bool; 256] {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'\r' as usize] = true;
    if attr {
        t[b'"' as usize] = true;
        t[b'\n' as usize] = true;
        t[b'\t' as usize] = true;
    }
    t
}
static ESC_TEXT: [bool; 256] = esc_table(false);
static ESC_ATTR: [bool; 256] = esc_table(true);

/// Escape text (`&`, `<`, `>`, CR) or an attribute value (also `"`, TAB, LF).
pub(crate) fn escape<S: Sink>(s: &mut S, text: &str, attr: bool) {
    let table = if attr { &ESC_ATTR } else { &ESC_TEXT };
    let b = text.as_bytes();
    let mut start = 0;
    while let Some(p) = b[start..].iter().position(|&c| table[c as usize]) {
        let i = start + p;
        let rep: &[u8] = match b[i] {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            b'"' => b"&quot;",
            b'\n' => b"&#xA;",
            _ => b"&#x9;",
        };
        s.put(&b[start..i]);
        s.put(rep);
        start = i + 1;
    }
    s.put(&b[start..]);
}

/// `<name` + `end` or `</name` + `end`.
#[inline]
fn tag<S: Sink>(s: &mut S, close: bool, name: &str, end: &[u8]) {
    s.put(if close { b"</" } else { b"<" });
    s.put(name.as_bytes());
    if !end.is_empty() {
        s.put(end);
    }
}

/// Decimal digits of `d` without going through `core::fmt`.
#[inline]
pub(crate) fn put_decimal<S: Sink>(s: &mut S, d: &crate::model::Decimal) {
    let mut buf = [0u8; 48];
    let mut m = d.mantissa().unsigned_abs();
    let scale = d.scale() as usize;
    let mut i = buf.len();
    let mut digits = 0usize;
    while m > 0 || digits <= scale {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        digits += 1;
        if digits == scale && scale > 0 {
            i -= 1;
            buf[i] = b'.';
        }
    }
    if d.is_sign_negative() && d.mantissa() != 0 {
        i -= 1;
        buf[i] = b'-';
    }
    s.put(&buf[i..]);
}

impl<S: Sink> Out for XmlOut<'_, S> {
    fn start(&mut self, name: &'static str) -> Result<(), Error> {
        self.newline();
        tag(self.s, false, name, b">");
        self.path.push(name)
    }

    fn start_attrs(
        &mut self,
        name: &'static str,
        attrs: &[(&'static str, Option<&'static str>)],
    ) -> Result<(), Error> {
        self.open_tag(name);
        for (k, v) in attrs {
            if let Some(v) = v {
                self.s.put(b" ");
                self.s.put(k.as_bytes());
                self.s.put(b"=\"");
                escape(self.s, v, true);
                self.s.put(b"\"");
            }
        }
        self.s.put(b">");
        self.path.push(name)
    }

    fn end(&mut self) -> Result<(), Error> {
        let name = self.path.names[self.path.depth.saturating_sub(1)].0;
        self.path.pop();
        self.newline();
        tag(self.s, true, name, b">");
        Ok(())
    }

    fn leaf(&mut self, name: &'static str, v: Lv<'_>) -> Result<(), Error> {
        self.newline();
        tag(self.s, false, name, b">");
        match v {
            Lv::Str(t) => escape(self.s, t, false),
            Lv::DateTime(t) | Lv::Code(t) => escape(self.s, t, false),
            Lv::Dec(d) => put_decimal(self.s, d),
            Lv::Int(i) => {
                let _ = write!(FmtSink(self.s), "{i}");
            }
            Lv::Date(d) => self.s.put(&d.to_bytes()),
        }
        tag(self.s, true, name, b">");
        self.path.clear_index();
        Ok(())
    }

    fn list_start(&mut self, _name: &'static str) -> Result<(), Error> {
        Ok(())
    }

    fn list_end(&mut self) -> Result<(), Error> {
        self.path.clear_index();
        Ok(())
    }

    fn item(&mut self, i: usize) {
        self.path.set_index(i);
    }

    fn schema_const(&mut self, name: &'static str, sv: Sv) -> Result<(), Error> {
        let Some((text, attrs)) = crate::model::codec::schema_const_value(name, sv) else {
            return Ok(());
        };
        self.open_tag(name);
        for (k, v) in attrs {
            self.s.put(b" ");
            self.s.put(k.as_bytes());
            self.s.put(b"=\"");
            escape(self.s, v, true);
            self.s.put(b"\"");
        }
        self.s.put(b">");
        escape(self.s, text, false);
        self.s.put(b"</");
        self.s.put(name.as_bytes());
        self.s.put(b">");
        Ok(())
    }

    fn path(&self) -> String {
        self.path.render()
    }

    fn path_to(&self, leaf: &str) -> String {
        let mut p = self.path.render();
        p.push('/');
        p.push_str(leaf);
        if self.path.pending_index > 0 {
            let _ = write!(p, "[{}]", self.path.pending_index);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rt::parse_decimal;
    use alloc::string::ToString;

    #[test]
    fn decimals_are_written_exactly() {
        for t in [
            "0",
            "0.00",
            "1666.66",
            "-0.50",
            "0.05",
            "123456789012345.67",
            "-12",
            "0.000001",
            "10.10",
        ] {
            let d = parse_decimal(t).unwrap();
            let mut out = Vec::new();
            put_decimal(&mut out, &d);
            assert_eq!(core::str::from_utf8(&out).unwrap(), d.to_string(), "{t}");
        }
    }

    #[test]
    fn escaping() {
        let mut out = Vec::new();
        escape(&mut out, "a&b<c>d\r\"e\"\n\tf", false);
        assert_eq!(out, b"a&amp;b&lt;c&gt;d&#xD;\"e\"\n\tf");
        out.clear();
        escape(&mut out, "a&b<c>d\r\"e\"\n\tf", true);
        assert_eq!(out, b"a&amp;b&lt;c&gt;d&#xD;&quot;e&quot;&#xA;&#x9;f");
    }

    #[test]
    fn slice_sink_reports_needed_size() {
        let mut buf = [0u8; 4];
        let mut s = SliceSink::new(&mut buf);
        s.put(b"abcdef");
        assert_eq!(s.finish().unwrap_err().needed(), 6);
    }
}
