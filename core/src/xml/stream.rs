//! Streaming XML input for the generated builders: elements are read one at a time as the
//! builder asks for them, in schema order, without building a tree. Memory stays flat in the
//! size of the document (only the open elements and their attributes are kept).

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt::Write as _;

use super::reader::{is_ws, position, unescape, Scan, XML_NS, XSI};
use crate::error::{Error, ErrorCode};
use crate::model::rt::{Attr, Fm};

/// An element that is open (its start tag read, its end tag not yet).
struct Open<'a> {
    prefix: &'a str,
    local: &'a str,
    /// 1-based position among same-named siblings when the element may repeat, else 0.
    index: u32,
    attrs: (u32, u32),
    ns_len: usize,
    empty: bool,
    last_child: &'a str,
    last_count: u32,
}

/// A start tag read ahead (the next child of the innermost open element).
struct Peeked<'a> {
    prefix: &'a str,
    local: &'a str,
    attrs: (u32, u32),
    ns_len: usize,
    empty: bool,
    at: usize,
}

/// What comes next inside the innermost open element.
enum Next {
    Child,
    End,
}

pub(crate) struct Stream<'a> {
    sc: Scan<'a>,
    ns: Vec<(&'a str, &'a str)>,
    root_ns: &'a str,
    open: Vec<Open<'a>>,
    attrs: Vec<Attr<'a>>,
    peeked: Option<Peeked<'a>>,
    /// The innermost element's end tag is next (`Next::End`).
    at_end: bool,
    /// The last leaf read (name and index), for error paths after it was closed.
    last_leaf: (&'a str, u32),
    /// The in-scope default namespace is the root's (no declarations changed it since).
    default_is_root: bool,
}

impl<'a> Stream<'a> {
    /// Read the prolog and open the root element; returns the stream and the root namespace.
    pub(crate) fn open(src: &'a str) -> Result<(Stream<'a>, &'a str, &'a str), Error> {
        let mut s = Stream {
            sc: Scan::new(src),
            ns: Vec::with_capacity(8),
            root_ns: "",
            open: Vec::with_capacity(16),
            attrs: Vec::with_capacity(8),
            peeked: None,
            at_end: false,
            last_leaf: ("", 0),
            default_is_root: false,
        };
        s.prolog()?;
        let Some(p) = s.read_start_tag(true)? else {
            return Err(Error::new(ErrorCode::XmlSyntax, "", "no root element"));
        };
        let uri = s.resolve(p.prefix, p.ns_len, p.local)?;
        s.root_ns = uri;
        s.default_is_root = s.lookup("") == Some(uri);
        let local = p.local;
        s.push_open(p, 0);
        Ok((s, uri, local))
    }

    /// XML declaration, comments, processing instructions, white space; a DOCTYPE is refused.
    fn prolog(&mut self) -> Result<(), Error> {
        let b = self.sc.b;
        loop {
            self.sc.skip_ws();
            let at = self.sc.i;
            if at >= b.len() {
                return Ok(());
            }
            if b[at] != b'<' {
                return Err(self.sc.syntax(at, "text outside the root element"));
            }
            match b.get(at + 1) {
                Some(b'?') => self.processing_instruction(at)?,
                Some(b'!') => self.markup_decl(at)?,
                _ => return Ok(()),
            }
        }
    }

    /// `<?target …?>` at `at`: skipped. The XML declaration (`<?xml …?>`) is only allowed at
    /// the very start, where its encoding must be UTF-8.
    fn processing_instruction(&mut self, at: usize) -> Result<(), Error> {
        let Some(end) = self.sc.find(b"?>", at + 2) else {
            return Err(self.sc.syntax(at, "unterminated processing instruction"));
        };
        let body = &self.sc.src[at + 2..end];
        let target = body
            .split(|c: char| c.is_ascii_whitespace())
            .next()
            .unwrap_or("");
        if target.eq_ignore_ascii_case("xml") {
            if at != 0 {
                return Err(self.sc.syntax(at, "the XML declaration must come first"));
            }
            check_encoding(body)?;
        }
        self.sc.i = end + 2;
        Ok(())
    }

    /// `<!--`, `<!DOCTYPE` (refused), anything else `<!` is an error. CDATA is handled by text.
    fn markup_decl(&mut self, at: usize) -> Result<(), Error> {
        let b = self.sc.b;
        if b[at..].starts_with(b"<!--") {
            let Some(end) = self.sc.find(b"--", at + 4) else {
                return Err(self.sc.syntax(at, "unterminated comment"));
            };
            if b.get(end + 2) != Some(&b'>') {
                return Err(self.sc.syntax(end, "`--` is not allowed inside a comment"));
            }
            self.sc.i = end + 3;
            return Ok(());
        }
        if b[at..].starts_with(b"<!DOCTYPE") || b[at..].starts_with(b"<!ENTITY") {
            return Err(self.sc.err(
                ErrorCode::XmlDtdForbidden,
                at,
                "a DTD is not allowed in an invoice (entity expansion is refused)",
            ));
        }
        Err(self.sc.syntax(at, "unexpected `<!`"))
    }

    /// Read a start tag at the current position (which is `<` + name). Pushes namespace
    /// declarations. `None` when the next markup is not a start tag.
    fn read_start_tag(&mut self, root: bool) -> Result<Option<Peeked<'a>>, Error> {
        let sc = &mut self.sc;
        let at = sc.i;
        sc.i = at + 1;
        let (prefix, local) = sc.qname()?;
        let ns_len = self.ns.len();
        let astart = self.attrs.len();
        let mut prefixed = false;
        let empty = loop {
            let before = sc.i;
            sc.skip_ws();
            match sc.b.get(sc.i) {
                Some(b'>') => {
                    sc.i += 1;
                    break false;
                }
                Some(b'/') => {
                    if sc.b.get(sc.i + 1) != Some(&b'>') {
                        return Err(sc.syntax(sc.i, "expected `/>`"));
                    }
                    sc.i += 2;
                    break true;
                }
                None => return Err(sc.syntax(at, "unterminated start tag")),
                _ => {}
            }
            if sc.i == before {
                return Err(sc.syntax(sc.i, "expected white space before an attribute"));
            }
            let an_at = sc.i;
            let (ap, al) = sc.qname()?;
            sc.skip_ws();
            if sc.b.get(sc.i) != Some(&b'=') {
                return Err(sc.syntax(sc.i, "expected `=` after the attribute name"));
            }
            sc.i += 1;
            sc.skip_ws();
            let q = match sc.b.get(sc.i) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => return Err(sc.syntax(sc.i, "attribute values must be quoted")),
            };
            let vstart = sc.i + 1;
            let Some(vlen) = memchr::memchr(q, &sc.b[vstart..]) else {
                return Err(sc.syntax(sc.i, "unterminated attribute value"));
            };
            let raw = &sc.src[vstart..vstart + vlen];
            if raw.contains('<') {
                return Err(sc.syntax(vstart, "`<` is not allowed in an attribute value"));
            }
            sc.i = vstart + vlen + 1;
            let qname = &sc.src[an_at..an_at + ap.len() + usize::from(!ap.is_empty()) + al.len()];
            if self.attrs[astart..].iter().any(|a| a.name == qname)
                || (ap == "xmlns" && self.ns[ns_len..].iter().any(|(p, _)| *p == al))
            {
                return Err(sc.syntax(an_at, format!("attribute `{qname}` is repeated")));
            }
            if ap == "xmlns" {
                self.ns.push((al, raw));
            } else if ap.is_empty() && al == "xmlns" {
                self.ns.push(("", raw));
            } else if ap.is_empty() {
                let v = unescape(raw, sc.src, vstart)?;
                self.attrs.push(Attr {
                    name: al,
                    value: v,
                    consumed: Cell::new(false),
                });
            } else {
                prefixed = true;
                self.attrs.push(Attr {
                    name: qname,
                    value: Cow::Borrowed(raw),
                    consumed: Cell::new(true),
                });
            }
        };
        if prefixed {
            for a in &self.attrs[astart..] {
                if !a.consumed.get() {
                    continue;
                }
                let (ap, al) = a.name.split_once(':').unwrap_or(("", a.name));
                let auri = if ap == "xml" {
                    Some(XML_NS)
                } else {
                    self.lookup(ap)
                };
                let ok = match auri {
                    Some(XSI) => al == "schemaLocation" || al == "noNamespaceSchemaLocation",
                    Some(XML_NS) => true,
                    _ => false,
                };
                if !ok {
                    return Err(self.sc.err(
                        ErrorCode::UnexpectedElement,
                        at,
                        format!("attribute `{}` is not allowed", a.name),
                    ));
                }
            }
        }
        let p = Peeked {
            prefix,
            local,
            attrs: (astart as u32, self.attrs.len() as u32),
            ns_len,
            empty,
            at,
        };
        if self.ns.len() > ns_len {
            self.default_is_root = false;
        }
        let cached = prefix.is_empty() && self.default_is_root;
        if !root && !cached {
            self.resolve(prefix, ns_len, local)?;
        }
        Ok(Some(p))
    }

    fn lookup(&self, prefix: &str) -> Option<&'a str> {
        self.ns
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, u)| *u)
    }

    /// The namespace of an element; every element must be in the root's namespace.
    fn resolve(&self, prefix: &str, _ns_len: usize, local: &str) -> Result<&'a str, Error> {
        let Some(uri) = self.lookup(prefix) else {
            let mut path = self.path();
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(local);
            return Err(Error::new(
                ErrorCode::XmlNamespace,
                path,
                if prefix.is_empty() {
                    String::from("element has no namespace; expected the FA(3) or FA(2) namespace")
                } else {
                    format!("namespace prefix `{prefix}` is not declared")
                },
            ));
        };
        if !self.root_ns.is_empty() && uri != self.root_ns {
            let mut path = self.path();
            path.push('/');
            path.push_str(local);
            return Err(Error::new(
                ErrorCode::XmlNamespace,
                path,
                format!(
                    "element is in namespace `{uri}`, expected `{}`",
                    self.root_ns
                ),
            ));
        }
        Ok(uri)
    }

    fn push_open(&mut self, p: Peeked<'a>, index: u32) {
        self.open.push(Open {
            prefix: p.prefix,
            local: p.local,
            index,
            attrs: p.attrs,
            ns_len: p.ns_len,
            empty: p.empty,
            last_child: "",
            last_count: 0,
        });
        self.at_end = false;
    }

    /// Close the innermost element (its end tag already consumed, or it was empty).
    #[inline]
    fn pop(&mut self) {
        if let Some(o) = self.open.pop() {
            if self.ns.len() > o.ns_len {
                self.ns.truncate(o.ns_len);
                self.default_is_root = self.lookup("") == Some(self.root_ns);
            }
            self.attrs.truncate(o.attrs.0 as usize);
        }
        self.at_end = false;
    }

    /// Path of the innermost open element (`Faktura/Fa/FaWiersz[2]`).
    pub(crate) fn path(&self) -> String {
        let mut s = String::new();
        for (i, o) in self.open.iter().enumerate() {
            if i > 0 {
                s.push('/');
            }
            s.push_str(o.local);
            if o.index > 0 {
                let _ = write!(s, "[{}]", o.index);
            }
        }
        s
    }

    /// Look at what comes next inside the innermost element: a child start tag (kept in
    /// `peeked`) or its end. Text between children must be white space.
    #[inline(always)]
    fn next(&mut self) -> Result<Next, Error> {
        if self.peeked.is_some() {
            return Ok(Next::Child);
        }
        if self.at_end {
            return Ok(Next::End);
        }
        self.next_slow()
    }

    fn next_slow(&mut self) -> Result<Next, Error> {
        let Some(top) = self.open.last() else {
            return Ok(Next::End);
        };
        if top.empty {
            self.at_end = true;
            return Ok(Next::End);
        }
        loop {
            let b = self.sc.b;
            let start = self.sc.i;
            let mut j = start;
            while j < b.len() && is_ws(b[j]) {
                j += 1;
            }
            if j >= b.len() {
                return Err(self.sc.syntax(
                    b.len(),
                    "the document ends before its root element is closed",
                ));
            }
            if b[j] != b'<' {
                let name = self.open.last().map_or("", |o| o.local);
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    self.path(),
                    format!(
                        "`{name}` must contain elements, not text ({})",
                        position(self.sc.src, j)
                    ),
                ));
            }
            self.sc.i = j;
            match b.get(j + 1) {
                Some(b'/') => {
                    self.at_end = true;
                    return Ok(Next::End);
                }
                Some(b'!') => {
                    if b[j..].starts_with(b"<![CDATA[") {
                        let name = self.open.last().map_or("", |o| o.local);
                        return Err(Error::new(
                            ErrorCode::InvalidValue,
                            self.path(),
                            format!("`{name}` must contain elements, not text"),
                        ));
                    }
                    self.markup_decl(j)?;
                }
                Some(b'?') => self.processing_instruction(j)?,
                _ => {
                    let p = self.read_start_tag(false)?;
                    self.peeked = p;
                    return Ok(Next::Child);
                }
            }
        }
    }

    /// Consume the end tag of the innermost element and close it.
    fn close(&mut self) -> Result<(), Error> {
        let Some(top) = self.open.last() else {
            return Ok(());
        };
        if !top.empty {
            let sc = &mut self.sc;
            let at = sc.i;
            sc.i = at + 2;
            let plen = if top.prefix.is_empty() {
                0
            } else {
                top.prefix.len() + 1
            };
            let end = sc.i + plen + top.local.len();
            let fast = sc.b.get(end) == Some(&b'>')
                && sc.b[sc.i + plen..end] == *top.local.as_bytes()
                && (plen == 0
                    || (sc.b[sc.i..sc.i + plen - 1] == *top.prefix.as_bytes()
                        && sc.b[sc.i + plen - 1] == b':'));
            if fast {
                sc.i = end + 1;
            } else {
                let (prefix, local) = sc.qname()?;
                sc.skip_ws();
                if sc.b.get(sc.i) != Some(&b'>') {
                    return Err(sc.syntax(sc.i, "expected `>` to end the closing tag"));
                }
                sc.i += 1;
                if local != top.local || prefix != top.prefix {
                    return Err(sc.syntax(
                        at,
                        format!(
                            "closing tag `{}` does not match `{}`",
                            &sc.src[at + 2..sc.i - 1],
                            top.local
                        ),
                    ));
                }
            }
        }
        self.pop();
        Ok(())
    }

    /// After the root element: only white space, comments and processing instructions.
    pub(crate) fn finish_document(&mut self) -> Result<(), Error> {
        let b = self.sc.b;
        loop {
            self.sc.skip_ws();
            let at = self.sc.i;
            if at >= b.len() {
                return Ok(());
            }
            if b[at] != b'<' {
                return Err(self.sc.syntax(at, "text after the root element"));
            }
            match b.get(at + 1) {
                Some(b'!') if b[at..].starts_with(b"<!--") => self.markup_decl(at)?,
                Some(b'?') => self.processing_instruction(at)?,
                _ => return Err(self.sc.syntax(at, "content after the root element")),
            }
        }
    }
}

fn check_encoding(decl_body: &str) -> Result<(), Error> {
    if let Some(p) = decl_body.find("encoding") {
        let rest = decl_body[p + 8..]
            .trim_start()
            .trim_start_matches('=')
            .trim_start();
        let q = rest.as_bytes().first().copied().unwrap_or(b'"');
        let enc = rest
            .get(1..)
            .unwrap_or("")
            .split(q as char)
            .next()
            .unwrap_or("");
        if !enc.eq_ignore_ascii_case("utf-8") {
            return Err(Error::new(
                ErrorCode::Encoding,
                "",
                format!("encoding `{enc}` is not supported: KSeF invoices are UTF-8"),
            ));
        }
    }
    Ok(())
}

/// A builder's view of one open element of the stream.
pub(crate) struct StreamCursor<'s, 'a> {
    s: &'s mut Stream<'a>,
    depth: usize,
}

impl<'s, 'a> StreamCursor<'s, 'a> {
    /// The cursor over the children of the root element.
    pub(crate) fn root(s: &'s mut Stream<'a>) -> Self {
        StreamCursor {
            depth: s.open.len(),
            s,
        }
    }

    fn child_path(&self, name: &str) -> String {
        let mut p = self.s.path();
        p.push('/');
        p.push_str(name);
        p
    }

    /// The name of the next child, if any (reads ahead).
    #[inline]
    pub(crate) fn peek_name(&mut self) -> Result<Option<&'a str>, Error> {
        match self.s.next()? {
            Next::Child => Ok(self.s.peeked.as_ref().map(|p| p.local)),
            Next::End => Ok(None),
        }
    }

    /// Open the peeked child as an element of this cursor; returns its depth as the id.
    pub(crate) fn take(&mut self, f: &Fm) -> u32 {
        let Some(p) = self.s.peeked.take() else {
            return 0;
        };
        let repeatable = f.max[0] > 1 || f.max[1] > 1;
        let index = match self.s.open.last_mut() {
            Some(parent) => {
                if crate::model::rt::name_eq(parent.last_child, p.local) {
                    parent.last_count += 1;
                } else {
                    parent.last_child = p.local;
                    parent.last_count = 1;
                }
                if repeatable {
                    parent.last_count
                } else {
                    0
                }
            }
            None => 0,
        };
        self.s.push_open(p, index);
        self.s.open.len() as u32
    }

    /// An element other than the expected one in its place.
    pub(crate) fn in_place_of(&mut self, expected: &str) -> Option<Error> {
        let at = self.s.peeked.as_ref().map(|p| (p.local, p.at))?;
        Some(Error::new(
            ErrorCode::UnexpectedElement,
            self.child_path(at.0),
            format!(
                "element `{}` is not allowed here; expected {expected}",
                at.0
            ),
        ))
    }

    pub(crate) fn missing_path(&self, name: &str) -> String {
        self.child_path(name)
    }

    pub(crate) fn here(&self) -> String {
        self.s.path()
    }

    /// Path of the leaf read last (it is closed by then).
    pub(crate) fn last_leaf_path(&self) -> String {
        let (name, index) = self.s.last_leaf;
        let mut p = self.child_path(name);
        if index > 0 {
            let _ = write!(p, "[{index}]");
        }
        p
    }

    /// A cursor over the children of the element just taken.
    pub(crate) fn enter(&mut self, id: u32) -> StreamCursor<'_, 'a> {
        StreamCursor {
            depth: id as usize,
            s: &mut *self.s,
        }
    }

    /// The element's end: no further children, all attributes used; closes it.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        if self.s.open.len() != self.depth {
            return Err(Error::new(
                ErrorCode::XmlSyntax,
                self.s.path(),
                "reader out of step",
            ));
        }
        if let Next::Child = self.s.next()? {
            let name = self.s.peeked.as_ref().map_or("", |p| p.local);
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                self.child_path(name),
                format!(
                    "element `{name}` is not allowed here (unknown, out of order, repeated too often, or not in this schema version)"
                ),
            ));
        }
        if let Some(top) = self.s.open.last() {
            for a in &self.s.attrs[top.attrs.0 as usize..top.attrs.1 as usize] {
                if !a.consumed.get() {
                    return Err(Error::new(
                        ErrorCode::UnexpectedElement,
                        self.s.path(),
                        format!("attribute `{}` is not allowed here", a.name),
                    ));
                }
            }
        }
        self.s.close()
    }

    /// The text of the element just taken (`id`), up to its end tag; closes it.
    pub(crate) fn text(&mut self, id: u32) -> Result<Cow<'a, str>, Error> {
        if self.s.open.len() != id as usize {
            return Err(Error::new(
                ErrorCode::XmlSyntax,
                self.s.path(),
                "reader out of step",
            ));
        }
        let Some(top) = self.s.open.last() else {
            return Err(Error::new(ErrorCode::XmlSyntax, "", "reader out of step"));
        };
        if top.attrs.0 != top.attrs.1 {
            let a = &self.s.attrs[top.attrs.0 as usize];
            if !a.consumed.get() {
                return Err(Error::new(
                    ErrorCode::UnexpectedElement,
                    self.s.path(),
                    format!("attribute `{}` is not allowed here", a.name),
                ));
            }
        }
        self.s.last_leaf = (top.local, top.index);
        if top.empty {
            self.s.pop();
            return Ok(Cow::Borrowed(""));
        }
        let mut out: Cow<'a, str> = Cow::Borrowed("");
        loop {
            let sc = &mut self.s.sc;
            let start = sc.i;
            let Some(lt) = memchr::memchr(b'<', &sc.b[start..]).map(|p| start + p) else {
                return Err(sc.syntax(
                    sc.b.len(),
                    "the document ends before its root element is closed",
                ));
            };
            if lt > start {
                let raw = &sc.src[start..lt];
                // one pass decides whether the text needs any work at all
                if raw.bytes().any(|c| matches!(c, b']' | b'&' | b'\r')) {
                    if raw.contains("]]>") {
                        return Err(sc.syntax(start, "`]]>` is not allowed in text"));
                    }
                    let v = unescape(raw, sc.src, start)?;
                    append(&mut out, v);
                } else {
                    append(&mut out, Cow::Borrowed(raw));
                }
            }
            sc.i = lt;
            match sc.b.get(lt + 1) {
                Some(b'/') => break,
                Some(b'!') if sc.b[lt..].starts_with(b"<![CDATA[") => {
                    let Some(end) = sc.find(b"]]>", lt + 9) else {
                        return Err(sc.syntax(lt, "unterminated CDATA section"));
                    };
                    let text = &sc.src[lt + 9..end];
                    let v: Cow<'a, str> = if text.contains('\r') {
                        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
                    } else {
                        Cow::Borrowed(text)
                    };
                    append(&mut out, v);
                    sc.i = end + 3;
                }
                Some(b'!') => self.s.markup_decl(lt)?,
                Some(b'?') => self.s.processing_instruction(lt)?,
                _ => {
                    let name = self.s.open.last().map_or("", |o| o.local);
                    return Err(Error::new(
                        ErrorCode::InvalidValue,
                        self.s.path(),
                        format!("`{name}` must be a value, not a structure"),
                    ));
                }
            }
        }
        self.s.at_end = true;
        self.s.close()?;
        Ok(out)
    }

    /// An attribute of the element whose children this cursor reads.
    pub(crate) fn attr(&mut self, name: &str) -> Option<u32> {
        let top = self.s.open.get(self.depth.checked_sub(1)?)?;
        (top.attrs.0..top.attrs.1).find(|&i| {
            let a = &self.s.attrs[i as usize];
            if a.name == name {
                a.consumed.set(true);
                true
            } else {
                false
            }
        })
    }

    pub(crate) fn attr_text(&self, i: u32) -> &str {
        &self.s.attrs[i as usize].value
    }

    /// The attributes of the element just taken (for schema constants), marked used.
    pub(crate) fn taken_attrs(&self) -> Vec<(&'a str, &str)> {
        let Some(top) = self.s.open.last() else {
            return Vec::new();
        };
        self.s.attrs[top.attrs.0 as usize..top.attrs.1 as usize]
            .iter()
            .map(|a| {
                a.consumed.set(true);
                (a.name, &*a.value)
            })
            .collect()
    }
}

#[inline]
fn append<'a>(out: &mut Cow<'a, str>, v: Cow<'a, str>) {
    if out.is_empty() {
        *out = v;
    } else {
        out.to_mut().push_str(&v);
    }
}
