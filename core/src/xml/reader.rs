//! XML bytes -> element tree. Namespace-prefix agnostic, CRLF-tolerant, no DTDs, no entity
//! expansion beyond the five predefined entities and character references.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, ErrorCode};
use crate::model::rt::{Attr, Tree, NONE};
use core::cell::Cell;

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

fn position(src: &str, offset: usize) -> String {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}

/// Decode entity and character references; normalize line ends (CRLF and CR to LF).
pub(crate) fn unescape<'a>(raw: &'a str, src: &str, offset: usize) -> Result<Cow<'a, str>, Error> {
    if !raw.bytes().any(|c| c == b'&' || c == b'\r') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\r']) {
        out.push_str(&rest[..i]);
        if rest.as_bytes()[i] == b'\r' {
            out.push('\n');
            rest = &rest[i + 1..];
            if rest.starts_with('\n') {
                rest = &rest[1..];
            }
            continue;
        }
        let after = &rest[i + 1..];
        let Some(end) = after.find(';') else {
            return Err(Error::new(
                ErrorCode::XmlSyntax,
                position(src, offset),
                "`&` must start an entity reference",
            ));
        };
        let ent = &after[..end];
        let ch = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let code = if let Some(hex) = ent.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = ent.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    return Err(Error::new(
                        ErrorCode::XmlDtdForbidden,
                        position(src, offset),
                        format!("entity `&{ent};` is not defined (only the five XML entities are allowed)"),
                    ));
                };
                match code.and_then(char::from_u32) {
                    Some(c) if c != '\0' => c,
                    _ => {
                        return Err(Error::new(
                            ErrorCode::XmlSyntax,
                            position(src, offset),
                            format!("invalid character reference `&{ent};`"),
                        ))
                    }
                }
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

struct Open<'a> {
    id: u32,
    last_child: u32,
    ns_len: usize,
    prefix: &'a str,
    local: &'a str,
}

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

const fn name_table(start: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphabetic()
            || b == b'_'
            || b >= 0x80
            || (!start && (b.is_ascii_digit() || b == b'-' || b == b'.' || b == b':'));
        c += 1;
    }
    t
}
static NAME_START: [bool; 256] = name_table(true);
static NAME_CHAR: [bool; 256] = name_table(false);

#[inline]
fn is_name_start(c: u8) -> bool {
    NAME_START[c as usize]
}

#[inline]
fn is_name_char(c: u8) -> bool {
    NAME_CHAR[c as usize]
}

#[inline]
fn all_ws(s: &str) -> bool {
    s.bytes().all(is_ws)
}

/// A small, strict XML scanner: elements, attributes, text, CDATA, comments and processing
/// instructions. A DOCTYPE is refused. Names may carry one prefix (`p:local`).
struct Scan<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn err(&self, code: ErrorCode, at: usize, msg: impl Into<String>) -> Error {
        Error::new(code, position(self.src, at), msg)
    }

    fn syntax(&self, at: usize, msg: impl Into<String>) -> Error {
        self.err(ErrorCode::XmlSyntax, at, msg)
    }

    #[inline]
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn find(&self, pat: &[u8], from: usize) -> Option<usize> {
        let hay = &self.b[from..];
        let first = pat[0];
        let mut k = 0;
        while let Some(p) = memchr::memchr(first, &hay[k..]) {
            let at = k + p;
            if hay[at..].starts_with(pat) {
                return Some(from + at);
            }
            k = at + 1;
        }
        None
    }

    /// `prefix:local` or `local`; returns (prefix, local).
    fn qname(&mut self) -> Result<(&'a str, &'a str), Error> {
        let start = self.i;
        if self.i >= self.b.len() || !is_name_start(self.b[self.i]) {
            return Err(self.syntax(start, "expected a name"));
        }
        let mut colon = None;
        let mut j = self.i + 1;
        while j < self.b.len() {
            let c = self.b[j];
            if !is_name_char(c) {
                break;
            }
            if c == b':' {
                if colon.is_some() {
                    return Err(self.syntax(start, "a name may have at most one `:`"));
                }
                colon = Some(j);
            }
            j += 1;
        }
        self.i = j;
        let whole = &self.src[start..self.i];
        match colon {
            None => Ok(("", whole)),
            Some(c) => {
                let (p, l) = (&self.src[start..c], &self.src[c + 1..self.i]);
                if p.is_empty() || l.is_empty() || !is_name_start(l.as_bytes()[0]) {
                    return Err(self.syntax(start, format!("`{whole}` is not a valid name")));
                }
                Ok((p, l))
            }
        }
    }
}

/// Parse `src` into a tree. Returns the tree and the root element's namespace.
pub(crate) fn read(src: &str) -> Result<(Tree<'_>, &str), Error> {
    let mut sc = Scan {
        src,
        b: src.as_bytes(),
        i: 0,
    };
    let mut tree = Tree::new(true, src.len() / 24 + 8);
    let mut ns: Vec<(&str, &str)> = Vec::with_capacity(8);
    let mut stack: Vec<Open<'_>> = Vec::with_capacity(16);
    let mut root_ns: Option<&str> = None;
    let mut root_done = false;
    let mut seen_any = false;
    // the in-scope default namespace of the parent, when known
    let mut default_ns: Option<&str> = None;

    while sc.i < sc.b.len() {
        // layout between tags: a run of white space ending at `<` needs no further look
        let mut j = sc.i;
        while j < sc.b.len() && is_ws(sc.b[j]) {
            j += 1;
        }
        if j < sc.b.len() && sc.b[j] == b'<' {
            if j > sc.i {
                if let Some(o) = stack.last() {
                    if o.last_child == NONE {
                        append_text(&mut tree, o.id, Cow::Borrowed(&src[sc.i..j]));
                    }
                }
            }
            sc.i = j;
        }
        // text up to the next markup
        let lt = if sc.b.get(sc.i) == Some(&b'<') {
            sc.i
        } else {
            match memchr::memchr(b'<', &sc.b[sc.i..]) {
                Some(p) => sc.i + p,
                None => sc.b.len(),
            }
        };
        if lt > sc.i {
            let raw = &src[sc.i..lt];
            match stack.last() {
                None => {
                    if !all_ws(raw) {
                        return Err(sc.syntax(sc.i, "text outside the root element"));
                    }
                }
                Some(o) => {
                    if o.last_child != NONE {
                        if !all_ws(raw) {
                            let name = tree.nodes[o.id as usize].name;
                            return Err(sc.err(
                                ErrorCode::InvalidValue,
                                sc.i,
                                format!("`{name}` mixes text and elements"),
                            ));
                        }
                    } else if all_ws(raw) {
                        // layout between tags (or a blank value): kept as written
                        append_text(&mut tree, o.id, Cow::Borrowed(raw));
                    } else {
                        if raw.bytes().any(|c| c == b']') && raw.contains("]]>") {
                            return Err(sc.syntax(sc.i, "`]]>` is not allowed in text"));
                        }
                        let v = unescape(raw, src, sc.i)?;
                        append_text(&mut tree, o.id, v);
                    }
                }
            }
        }
        sc.i = lt;
        if sc.i >= sc.b.len() {
            break;
        }
        let at = sc.i;
        match sc.b.get(at + 1) {
            Some(b'/') => {
                sc.i = at + 2;
                if let Some(o) = stack.last() {
                    // fast path: the expected name followed by `>`
                    let plen = if o.prefix.is_empty() {
                        0
                    } else {
                        o.prefix.len() + 1
                    };
                    let end = sc.i + plen + o.local.len();
                    if sc.b.get(end) == Some(&b'>')
                        && sc.b[sc.i + plen..end] == *o.local.as_bytes()
                        && (plen == 0
                            || (sc.b[sc.i..sc.i + plen - 1] == *o.prefix.as_bytes()
                                && sc.b[sc.i + plen - 1] == b':'))
                    {
                        sc.i = end + 1;
                        let ns_len = o.ns_len;
                        stack.pop();
                        if ns.len() > ns_len {
                            ns.truncate(ns_len);
                            default_ns = None;
                        }
                        if stack.is_empty() {
                            root_done = true;
                        }
                        continue;
                    }
                }
                let (prefix, local) = sc.qname()?;
                sc.skip_ws();
                if sc.b.get(sc.i) != Some(&b'>') {
                    return Err(sc.syntax(sc.i, "expected `>` to end the closing tag"));
                }
                sc.i += 1;
                let Some(o) = stack.pop() else {
                    return Err(sc.syntax(at, "closing tag without an open element"));
                };
                if o.local != local || o.prefix != prefix {
                    return Err(sc.syntax(
                        at,
                        format!(
                            "closing tag `{}` does not match `{}`",
                            &src[at + 2..sc.i - 1],
                            o.local
                        ),
                    ));
                }
                if ns.len() > o.ns_len {
                    ns.truncate(o.ns_len);
                    default_ns = None;
                }
                if stack.is_empty() {
                    root_done = true;
                }
            }
            Some(b'!') => {
                if sc.b[at..].starts_with(b"<!--") {
                    let Some(end) = sc.find(b"--", at + 4) else {
                        return Err(sc.syntax(at, "unterminated comment"));
                    };
                    if sc.b.get(end + 2) != Some(&b'>') {
                        return Err(sc.syntax(end, "`--` is not allowed inside a comment"));
                    }
                    sc.i = end + 3;
                } else if sc.b[at..].starts_with(b"<![CDATA[") {
                    let Some(o) = stack.last() else {
                        return Err(sc.syntax(at, "CDATA outside the root element"));
                    };
                    let Some(end) = sc.find(b"]]>", at + 9) else {
                        return Err(sc.syntax(at, "unterminated CDATA section"));
                    };
                    if o.last_child != NONE {
                        let name = tree.nodes[o.id as usize].name;
                        return Err(sc.err(
                            ErrorCode::InvalidValue,
                            at,
                            format!("`{name}` mixes text and elements"),
                        ));
                    }
                    let text = &src[at + 9..end];
                    let v: Cow<'_, str> = if text.contains('\r') {
                        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
                    } else {
                        Cow::Borrowed(text)
                    };
                    append_text(&mut tree, o.id, v);
                    sc.i = end + 3;
                } else if sc.b[at..].starts_with(b"<!DOCTYPE")
                    || sc.b[at..].starts_with(b"<!ENTITY")
                {
                    return Err(sc.err(
                        ErrorCode::XmlDtdForbidden,
                        at,
                        "a DTD is not allowed in an invoice (entity expansion is refused)",
                    ));
                } else {
                    return Err(sc.syntax(at, "unexpected `<!`"));
                }
            }
            Some(b'?') => {
                let Some(end) = sc.find(b"?>", at + 2) else {
                    return Err(sc.syntax(at, "unterminated processing instruction"));
                };
                let body = &src[at + 2..end];
                let target = body
                    .split(|c: char| c.is_ascii_whitespace())
                    .next()
                    .unwrap_or("");
                if target.eq_ignore_ascii_case("xml") {
                    if seen_any || at != 0 {
                        return Err(sc.syntax(at, "the XML declaration must come first"));
                    }
                    if let Some(p) = body.find("encoding") {
                        let rest = body[p + 8..]
                            .trim_start()
                            .trim_start_matches('=')
                            .trim_start();
                        let q = rest.as_bytes().first().copied().unwrap_or(b'"');
                        let enc = rest[1..].split(q as char).next().unwrap_or("");
                        if !enc.eq_ignore_ascii_case("utf-8") {
                            return Err(Error::new(
                                ErrorCode::Encoding,
                                "",
                                format!(
                                    "encoding `{enc}` is not supported: KSeF invoices are UTF-8"
                                ),
                            ));
                        }
                    }
                }
                sc.i = end + 2;
            }
            _ => {
                if root_done {
                    return Err(sc.syntax(at, "content after the root element"));
                }
                sc.i = at + 1;
                let (prefix, local) = sc.qname()?;
                let parent = stack.last().map_or(NONE, |o| o.id);
                let prev = stack.last().map_or(NONE, |o| o.last_child);
                if parent != NONE {
                    let p = &mut tree.nodes[parent as usize];
                    if !all_ws(&p.text) {
                        return Err(sc.err(
                            ErrorCode::InvalidValue,
                            at,
                            format!("`{}` mixes text and elements", p.name),
                        ));
                    }
                    p.text = Cow::Borrowed("");
                }
                let id = tree.push(local, parent, prev);
                if let Some(o) = stack.last_mut() {
                    o.last_child = id;
                }
                let ns_len = ns.len();
                let astart = tree.attrs.len();
                let mut prefixed = false;
                // attributes
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
                    let astart_at = sc.i;
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
                    let Some(vlen) = sc.b[vstart..].iter().position(|&c| c == q) else {
                        return Err(sc.syntax(sc.i, "unterminated attribute value"));
                    };
                    let raw = &src[vstart..vstart + vlen];
                    if raw.contains('<') {
                        return Err(sc.syntax(vstart, "`<` is not allowed in an attribute value"));
                    }
                    sc.i = vstart + vlen + 1;
                    let qname = &src
                        [astart_at..astart_at + ap.len() + usize::from(!ap.is_empty()) + al.len()];
                    if tree.attrs[astart..].iter().any(|a| a.name == qname) {
                        return Err(
                            sc.syntax(astart_at, format!("attribute `{qname}` is repeated"))
                        );
                    }
                    if ap == "xmlns" {
                        ns.push((al, raw));
                    } else if ap.is_empty() && al == "xmlns" {
                        ns.push(("", raw));
                    } else if ap.is_empty() {
                        let v = unescape(raw, src, vstart)?;
                        tree.attrs.push(Attr {
                            name: al,
                            value: v,
                            consumed: Cell::new(false),
                        });
                    } else {
                        prefixed = true;
                        tree.attrs.push(Attr {
                            name: qname,
                            value: Cow::Borrowed(raw),
                            consumed: Cell::new(true),
                        });
                    }
                };
                seen_any = true;
                if ns.len() > ns_len {
                    // declarations here may change the default namespace for the subtree
                    default_ns = None;
                }
                let uri = if prefix.is_empty() && ns.len() == ns_len && default_ns.is_some() {
                    // no new declarations on this element: the default namespace is unchanged
                    default_ns
                } else {
                    ns.iter().rev().find(|(p, _)| *p == prefix).map(|(_, u)| *u)
                };
                if prefix.is_empty() {
                    default_ns = uri;
                }
                let Some(uri) = uri else {
                    return Err(Error::new(
                        ErrorCode::XmlNamespace,
                        tree.path(id),
                        if prefix.is_empty() {
                            String::from(
                                "element has no namespace; expected the FA(3) or FA(2) namespace",
                            )
                        } else {
                            format!("namespace prefix `{prefix}` is not declared")
                        },
                    ));
                };
                match root_ns {
                    None => root_ns = Some(uri),
                    Some(r) if r == uri => {}
                    Some(r) => {
                        return Err(Error::new(
                            ErrorCode::XmlNamespace,
                            tree.path(id),
                            format!("element is in namespace `{uri}`, expected `{r}`"),
                        ))
                    }
                }
                if prefixed {
                    // prefixed attributes: only xsi:schemaLocation-style hints and xml:* are tolerated
                    for a in &tree.attrs[astart..] {
                        if !a.consumed.get() {
                            continue;
                        }
                        let (ap, al) = a.name.split_once(':').unwrap_or(("", a.name));
                        let auri = if ap == "xml" {
                            Some(XML_NS)
                        } else {
                            ns.iter().rev().find(|(p, _)| *p == ap).map(|(_, u)| *u)
                        };
                        let ok = match auri {
                            Some(XSI) => {
                                al == "schemaLocation" || al == "noNamespaceSchemaLocation"
                            }
                            Some(XML_NS) => true,
                            _ => false,
                        };
                        if !ok {
                            return Err(Error::new(
                                ErrorCode::UnexpectedElement,
                                tree.path(id),
                                format!("attribute `{}` is not allowed", a.name),
                            ));
                        }
                    }
                }
                tree.nodes[id as usize].attrs = (astart as u32, tree.attrs.len() as u32);
                if empty {
                    if ns.len() > ns_len {
                        ns.truncate(ns_len);
                        default_ns = None;
                    }
                    if stack.is_empty() {
                        root_done = true;
                    }
                } else {
                    stack.push(Open {
                        id,
                        last_child: NONE,
                        ns_len,
                        prefix,
                        local,
                    });
                }
            }
        }
    }
    if !stack.is_empty() || !root_done {
        return Err(sc.syntax(
            src.len(),
            "the document ends before its root element is closed",
        ));
    }
    let Some(uri) = root_ns else {
        return Err(Error::new(ErrorCode::XmlSyntax, "", "no root element"));
    };
    Ok((tree, uri))
}

fn append_text<'a>(tree: &mut Tree<'a>, id: u32, v: Cow<'a, str>) {
    let node = &mut tree.nodes[id as usize];
    if node.text.is_empty() {
        node.text = v;
    } else {
        let mut s = String::from(&*node.text);
        s.push_str(&v);
        node.text = Cow::Owned(s);
    }
}
