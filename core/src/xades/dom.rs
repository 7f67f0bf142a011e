//! A small namespace-aware DOM for arbitrary XML documents: what canonicalization, signing and
//! verification need, and nothing more.
//!
//! It keeps everything the XPath data model of Canonical XML sees: elements with their
//! namespace declarations and attributes (values normalized as a non-validating parser does:
//! every attribute is CDATA because DTDs are refused), text (CDATA sections merged in,
//! references decoded, line ends normalized), comments and processing instructions, inside
//! the root element and around it. It also keeps byte offsets into the input, so the signer
//! can insert a signature into the original bytes.
//!
//! Refused: DTDs (no entity expansion, ever), entities other than the five predefined ones,
//! encodings other than UTF-8, undeclared prefixes, duplicate attributes.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};

use crate::error::{Error, ErrorCode};
use crate::xml::reader::unescape;

/// The `xml` prefix's fixed namespace.
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The `xmlns` prefix's fixed namespace.
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Deepest element nesting accepted (documents here are shallow; this bounds the work).
const MAX_DEPTH: usize = 4096;

/// An attribute (not a namespace declaration).
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// The prefix as written (`""` for none).
    pub prefix: String,
    /// The local name.
    pub local: String,
    /// The namespace URI (`""` for none: unprefixed attributes are in no namespace).
    pub ns: String,
    /// The normalized value.
    pub value: String,
}

/// An element.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// The prefix as written (`""` for none).
    pub prefix: String,
    /// The local name.
    pub local: String,
    /// The namespace URI (`""` for none).
    pub ns: String,
    /// Namespace declarations on this element: (prefix, URI), prefix `""` for `xmlns=`.
    pub ns_decls: Vec<(String, String)>,
    /// The attributes, in document order.
    pub attrs: Vec<Attr>,
    /// Child node indexes, in document order.
    pub children: Vec<usize>,
    /// The parent element (`None` for the root).
    pub parent: Option<usize>,
    /// Byte offset of the `<` of the start tag.
    pub start: usize,
    /// Byte offset just after the end tag (or after `/>`).
    pub end: usize,
    /// Byte offset of the `<` of the end tag (equal to `end - 2` of `/>` when self-closing).
    pub end_tag: usize,
    /// Written as `<e/>`.
    pub self_closing: bool,
}

impl Element {
    /// `prefix:local` or `local`.
    pub fn qname(&self) -> String {
        qname(&self.prefix, &self.local)
    }

    /// Is this `{ns}local`?
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The value of the unqualified attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == name)
            .map(|a| a.value.as_str())
    }
}

/// A node of the tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// An element.
    Element(Element),
    /// Character data (decoded).
    Text(String),
    /// A comment (its content).
    Comment(String),
    /// A processing instruction.
    Pi {
        /// The target.
        target: String,
        /// The data (leading white space removed), possibly empty.
        data: String,
    },
}

/// A parsed document.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// All nodes; elements refer to children by index.
    pub nodes: Vec<Node>,
    /// The root element's index.
    pub root: usize,
    /// Comments and processing instructions before the root element.
    pub prolog: Vec<usize>,
    /// Comments and processing instructions after the root element.
    pub epilog: Vec<usize>,
}

fn qname(prefix: &str, local: &str) -> String {
    if prefix.is_empty() {
        local.to_string()
    } else {
        format!("{prefix}:{local}")
    }
}

impl Document {
    /// The element at `i` (panics never: callers pass element indexes only; a wrong index
    /// gives an empty placeholder).
    pub fn element(&self, i: usize) -> &Element {
        match self.nodes.get(i) {
            Some(Node::Element(e)) => e,
            _ => &EMPTY,
        }
    }

    /// The child elements of element `i`.
    pub fn child_elements(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.element(i)
            .children
            .iter()
            .copied()
            .filter(|&c| matches!(self.nodes.get(c), Some(Node::Element(_))))
    }

    /// The first child element `{ns}local` of `i`.
    pub fn child(&self, i: usize, ns: &str, local: &str) -> Option<usize> {
        self.child_elements(i)
            .find(|&c| self.element(c).is(ns, local))
    }

    /// All child elements `{ns}local` of `i`.
    pub fn children_named<'s>(
        &'s self,
        i: usize,
        ns: &'s str,
        local: &'s str,
    ) -> impl Iterator<Item = usize> + 's {
        self.child_elements(i)
            .filter(move |&c| self.element(c).is(ns, local))
    }

    /// Every element below `i` (itself included), in document order.
    pub fn descendants(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            out.push(n);
            let kids: Vec<usize> = self.child_elements(n).collect();
            stack.extend(kids.into_iter().rev());
        }
        out
    }

    /// Is `i` inside `ancestor` (or equal to it)?
    pub fn is_within(&self, mut i: usize, ancestor: usize) -> bool {
        loop {
            if i == ancestor {
                return true;
            }
            match self.element(i).parent {
                Some(p) => i = p,
                None => return false,
            }
        }
    }

    /// The text content of element `i` (its text children concatenated; nested elements'
    /// text included).
    pub fn text(&self, i: usize) -> String {
        let mut out = String::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            match self.nodes.get(n) {
                Some(Node::Element(e)) => stack.extend(e.children.iter().rev().copied()),
                Some(Node::Text(t)) => out.push_str(t),
                _ => {}
            }
        }
        out
    }

    /// The namespace bound to `prefix` (`""`: the default namespace) at element `i`;
    /// `None` when not declared (for `""`: no default namespace, or `xmlns=""`).
    pub fn lookup_ns(&self, mut i: usize, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        loop {
            let e = self.element(i);
            if let Some((_, uri)) = e.ns_decls.iter().find(|(p, _)| p == prefix) {
                return if uri.is_empty() {
                    None
                } else {
                    Some(uri.as_str())
                };
            }
            i = e.parent?;
        }
    }

    /// All namespace bindings in scope at `i` (nearest declaration wins), sorted by prefix;
    /// an undeclared default namespace (`xmlns=""`) is left out.
    pub fn in_scope(&self, i: usize) -> Vec<(String, String)> {
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut cur = Some(i);
        while let Some(n) = cur {
            let e = self.element(n);
            for (p, u) in &e.ns_decls {
                if !seen.iter().any(|(q, _)| q == p) {
                    seen.push((p.clone(), u.clone()));
                }
            }
            cur = e.parent;
        }
        seen.retain(|(_, u)| !u.is_empty());
        seen.sort();
        seen
    }

    /// A readable path of element `i` (`AuthTokenRequest/ds:Signature/ds:SignedInfo`).
    pub fn path(&self, i: usize) -> String {
        let mut names = Vec::new();
        let mut cur = Some(i);
        while let Some(n) = cur {
            let e = self.element(n);
            names.push(e.qname());
            cur = e.parent;
        }
        names.reverse();
        names.join("/")
    }
}

static EMPTY: Element = Element {
    prefix: String::new(),
    local: String::new(),
    ns: String::new(),
    ns_decls: Vec::new(),
    attrs: Vec::new(),
    children: Vec::new(),
    parent: None,
    start: 0,
    end: 0,
    end_tag: 0,
    self_closing: false,
};

/// `line L, column C` of a byte offset (columns count characters).
pub(crate) fn position(src: &str, offset: usize) -> String {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

/// The input as UTF-8 text without a byte-order mark, and the BOM's length.
pub(crate) fn text_of(xml: &[u8]) -> Result<(&str, usize), Error> {
    let (bytes, skip) = match xml.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (xml, 0),
    };
    match core::str::from_utf8(bytes) {
        Ok(s) => Ok((s, skip)),
        Err(e) => {
            let at = e.valid_up_to();
            let src = core::str::from_utf8(&bytes[..at]).unwrap_or("");
            Err(Error::new(
                ErrorCode::Encoding,
                position(src, at),
                "the XML is not UTF-8",
            ))
        }
    }
}

/// Parse a document. Offsets in the result are into `xml` as given (a BOM included).
pub(crate) fn parse(xml: &[u8]) -> Result<Document, Error> {
    let (src, bom) = text_of(xml)?;
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        i: 0,
        bom,
        nodes: Vec::new(),
    };
    p.document()
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    bom: usize,
    nodes: Vec<Node>,
}

/// A start tag being read: the raw names before namespace resolution.
struct RawAttr {
    prefix: String,
    local: String,
    value: String,
    at: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, code: ErrorCode, at: usize, msg: impl Into<String>) -> Error {
        Error::new(code, position(self.src, at), msg)
    }

    fn syntax(&self, at: usize, msg: impl Into<String>) -> Error {
        self.err(ErrorCode::XmlSyntax, at, msg)
    }

    fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn starts(&self, pat: &str) -> bool {
        self.b[self.i..].starts_with(pat.as_bytes())
    }

    fn find(&self, pat: &str, from: usize) -> Option<usize> {
        self.src.get(from..)?.find(pat).map(|k| from + k)
    }

    /// `prefix:local` or `local`.
    fn qname(&mut self) -> Result<(String, String), Error> {
        let start = self.i;
        if self.i >= self.b.len() || !is_name_start(self.b[self.i]) {
            return Err(self.syntax(start, "expected a name"));
        }
        let mut colon = None;
        let mut j = self.i + 1;
        while j < self.b.len() && (is_name_char(self.b[j]) || self.b[j] == b':') {
            if self.b[j] == b':' {
                if colon.is_some() {
                    return Err(self.syntax(start, "a name may have at most one `:`"));
                }
                colon = Some(j);
            }
            j += 1;
        }
        self.i = j;
        let whole = &self.src[start..j];
        match colon {
            None => Ok((String::new(), whole.to_string())),
            Some(c) => {
                let (p, l) = (&self.src[start..c], &self.src[c + 1..j]);
                if l.is_empty() || !is_name_start(l.as_bytes()[0]) {
                    return Err(self.syntax(start, format!("`{whole}` is not a valid name")));
                }
                Ok((p.to_string(), l.to_string()))
            }
        }
    }

    fn document(&mut self) -> Result<Document, Error> {
        if self.starts("<?xml") && self.b.get(5).is_some_and(|&c| is_ws(c)) {
            let end = self
                .find("?>", self.i)
                .ok_or_else(|| self.syntax(self.i, "unterminated XML declaration"))?;
            let decl = &self.src[self.i..end];
            if let Some(k) = decl.find("encoding") {
                let rest = decl[k + 8..].trim_start_matches([' ', '\t', '\n', '\r', '=']);
                let enc = rest
                    .trim_start_matches(['"', '\''])
                    .split(['"', '\''])
                    .next()
                    .unwrap_or("");
                if !enc.eq_ignore_ascii_case("utf-8") {
                    return Err(self.err(
                        ErrorCode::Encoding,
                        self.i,
                        format!("encoding `{enc}` is not supported (only UTF-8)"),
                    ));
                }
            }
            self.i = end + 2;
        }
        let mut prolog = Vec::new();
        let mut epilog = Vec::new();
        let mut root = None;
        loop {
            self.skip_ws();
            if self.i >= self.b.len() {
                break;
            }
            if self.b[self.i] != b'<' {
                return Err(self.syntax(self.i, "text is not allowed outside the root element"));
            }
            let node = if self.starts("<!--") {
                self.comment()?
            } else if self.starts("<?") {
                self.pi()?
            } else if self.starts("<!DOCTYPE") || self.starts("<!") {
                return Err(self.err(
                    ErrorCode::XmlDtdForbidden,
                    self.i,
                    "a DTD is not allowed (no entity expansion)",
                ));
            } else if root.is_none() {
                root = Some(self.element_tree()?);
                continue;
            } else {
                return Err(self.syntax(self.i, "only one root element is allowed"));
            };
            let idx = self.push(node);
            if root.is_none() {
                prolog.push(idx);
            } else {
                epilog.push(idx);
            }
        }
        let root = root.ok_or_else(|| self.syntax(self.i, "the document has no root element"))?;
        Ok(Document {
            nodes: core::mem::take(&mut self.nodes),
            root,
            prolog,
            epilog,
        })
    }

    fn push(&mut self, n: Node) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn comment(&mut self) -> Result<Node, Error> {
        let start = self.i;
        let end = self
            .find("-->", start + 4)
            .ok_or_else(|| self.syntax(start, "unterminated comment"))?;
        let body = &self.src[start + 4..end];
        if body.contains("--") || body.ends_with('-') {
            return Err(self.syntax(start, "`--` is not allowed inside a comment"));
        }
        self.i = end + 3;
        Ok(Node::Comment(normalize_newlines(body)))
    }

    fn pi(&mut self) -> Result<Node, Error> {
        let start = self.i;
        self.i += 2;
        let (prefix, local) = self.qname()?;
        if !prefix.is_empty() {
            return Err(self.syntax(start, "a processing instruction target may not have `:`"));
        }
        if local.eq_ignore_ascii_case("xml") {
            return Err(self.syntax(start, "the XML declaration must be at the very start"));
        }
        let end = self
            .find("?>", self.i)
            .ok_or_else(|| self.syntax(start, "unterminated processing instruction"))?;
        let data = &self.src[self.i..end];
        if !data.is_empty() && !is_ws(data.as_bytes()[0]) {
            return Err(self.syntax(start, "expected white space after the target"));
        }
        let data = data.trim_start_matches([' ', '\t', '\n', '\r']);
        self.i = end + 2;
        Ok(Node::Pi {
            target: local,
            data: normalize_newlines(data),
        })
    }

    /// The root element and everything in it, without recursion.
    fn element_tree(&mut self) -> Result<usize, Error> {
        // the open elements, innermost last
        let mut open: Vec<usize> = Vec::new();
        let root = self.start_tag(None)?;
        if !self.element(root).self_closing {
            open.push(root);
        }
        let mut text = String::new();
        while let Some(&cur) = open.last() {
            if self.i >= self.b.len() {
                let name = self.element(cur).qname();
                return Err(self.syntax(self.i, format!("`<{name}>` is not closed")));
            }
            if self.b[self.i] != b'<' {
                let next =
                    memchr::memchr(b'<', &self.b[self.i..]).map_or(self.b.len(), |k| self.i + k);
                let raw = &self.src[self.i..next];
                if raw.contains("]]>") {
                    return Err(self.syntax(self.i, "`]]>` is not allowed in text"));
                }
                text.push_str(&unescape(raw, self.src, self.i)?);
                self.i = next;
                continue;
            }
            if self.starts("<![CDATA[") {
                let end = self
                    .find("]]>", self.i + 9)
                    .ok_or_else(|| self.syntax(self.i, "unterminated CDATA section"))?;
                text.push_str(&normalize_newlines(&self.src[self.i + 9..end]));
                self.i = end + 3;
                continue;
            }
            // markup: flush pending text first
            if !text.is_empty() {
                let t = self.push(Node::Text(core::mem::take(&mut text)));
                self.with_element(cur, |e| e.children.push(t));
            }
            if self.starts("</") {
                let at = self.i;
                self.i += 2;
                let (prefix, local) = self.qname()?;
                self.skip_ws();
                if self.b.get(self.i) != Some(&b'>') {
                    return Err(self.syntax(self.i, "expected `>` to end the end tag"));
                }
                self.i += 1;
                let e = self.element(cur);
                if e.prefix != prefix || e.local != local {
                    let want = e.qname();
                    return Err(self.syntax(
                        at,
                        format!(
                            "end tag `</{}>` does not match `<{want}>`",
                            qname(&prefix, &local)
                        ),
                    ));
                }
                let (end_tag, end) = (at + self.bom, self.i + self.bom);
                self.with_element(cur, |e| {
                    e.end_tag = end_tag;
                    e.end = end;
                });
                open.pop();
                continue;
            }
            let node = if self.starts("<!--") {
                self.comment()?
            } else if self.starts("<?") {
                self.pi()?
            } else if self.starts("<!") {
                return Err(self.err(
                    ErrorCode::XmlDtdForbidden,
                    self.i,
                    "markup declarations are not allowed",
                ));
            } else {
                if open.len() >= MAX_DEPTH {
                    return Err(self.syntax(self.i, "elements are nested too deeply"));
                }
                let child = self.start_tag(Some(cur))?;
                self.with_element(cur, |e| e.children.push(child));
                if !self.element(child).self_closing {
                    open.push(child);
                }
                continue;
            };
            let idx = self.push(node);
            self.with_element(cur, |e| e.children.push(idx));
        }
        Ok(root)
    }

    fn element(&self, i: usize) -> &Element {
        match &self.nodes[i] {
            Node::Element(e) => e,
            _ => &EMPTY,
        }
    }

    /// Apply `f` to element `i` (only element indexes are passed here).
    fn with_element(&mut self, i: usize, f: impl FnOnce(&mut Element)) {
        if let Some(Node::Element(e)) = self.nodes.get_mut(i) {
            f(e);
        }
    }

    /// Reads `<name attr="v" ...>` or `<name .../>`; pushes the element and returns its index.
    fn start_tag(&mut self, parent: Option<usize>) -> Result<usize, Error> {
        let start = self.i;
        if self.b.get(self.i) != Some(&b'<') {
            return Err(self.syntax(self.i, "expected an element"));
        }
        self.i += 1;
        let (prefix, local) = self.qname()?;
        let mut raw: Vec<RawAttr> = Vec::new();
        let self_closing;
        loop {
            let before = self.i;
            self.skip_ws();
            match self.b.get(self.i) {
                None => return Err(self.syntax(start, "unterminated start tag")),
                Some(b'>') => {
                    self.i += 1;
                    self_closing = false;
                    break;
                }
                Some(b'/') => {
                    if self.b.get(self.i + 1) != Some(&b'>') {
                        return Err(self.syntax(self.i, "expected `/>`"));
                    }
                    self.i += 2;
                    self_closing = true;
                    break;
                }
                Some(_) => {
                    if before == self.i {
                        return Err(self.syntax(self.i, "expected white space before an attribute"));
                    }
                    let at = self.i;
                    let (ap, al) = self.qname()?;
                    self.skip_ws();
                    if self.b.get(self.i) != Some(&b'=') {
                        return Err(self.syntax(self.i, "expected `=` after the attribute name"));
                    }
                    self.i += 1;
                    self.skip_ws();
                    let q = match self.b.get(self.i) {
                        Some(&q @ (b'"' | b'\'')) => q,
                        _ => return Err(self.syntax(self.i, "expected a quoted attribute value")),
                    };
                    let vstart = self.i + 1;
                    let vend = memchr::memchr(q, &self.b[vstart..])
                        .map(|k| vstart + k)
                        .ok_or_else(|| self.syntax(at, "unterminated attribute value"))?;
                    let rawv = &self.src[vstart..vend];
                    if rawv.contains('<') {
                        return Err(self.syntax(vstart, "`<` is not allowed in an attribute value"));
                    }
                    let value = attr_value(rawv, self.src, vstart)?;
                    self.i = vend + 1;
                    if raw.iter().any(|r| r.prefix == ap && r.local == al) {
                        return Err(
                            self.syntax(at, format!("attribute `{}` is repeated", qname(&ap, &al)))
                        );
                    }
                    raw.push(RawAttr {
                        prefix: ap,
                        local: al,
                        value,
                        at,
                    });
                }
            }
        }
        // namespace declarations first, then resolve names against them
        let mut ns_decls = Vec::new();
        let mut attrs_raw = Vec::new();
        for r in raw {
            if r.prefix.is_empty() && r.local == "xmlns" {
                ns_decls.push((String::new(), r.value));
            } else if r.prefix == "xmlns" {
                if r.value.is_empty() {
                    return Err(self.err(
                        ErrorCode::XmlNamespace,
                        r.at,
                        format!("prefix `{}` cannot be undeclared", r.local),
                    ));
                }
                if r.local == "xmlns" || (r.local == "xml" && r.value != XML_NS) {
                    return Err(self.err(
                        ErrorCode::XmlNamespace,
                        r.at,
                        format!("prefix `{}` cannot be declared", r.local),
                    ));
                }
                if r.value == XML_NS && r.local != "xml" || r.value == XMLNS_NS {
                    return Err(self.err(
                        ErrorCode::XmlNamespace,
                        r.at,
                        "a reserved namespace cannot be bound to another prefix",
                    ));
                }
                ns_decls.push((r.local, r.value));
            } else {
                attrs_raw.push(r);
            }
        }
        // the xml prefix may be declared (to its own namespace); it is never rendered
        ns_decls.retain(|(p, _)| p != "xml");
        let idx = self.push(Node::Element(Element {
            prefix,
            local,
            ns: String::new(),
            ns_decls,
            attrs: Vec::new(),
            children: Vec::new(),
            parent,
            start: start + self.bom,
            end: self.i + self.bom,
            end_tag: self.i.saturating_sub(2) + self.bom,
            self_closing,
        }));
        let lookup = |this: &Self, p: &str| -> Option<String> {
            if p == "xml" {
                return Some(XML_NS.to_string());
            }
            this.lookup_from(idx, p)
        };
        let el_prefix = self.element(idx).prefix.clone();
        let ns = match lookup(self, &el_prefix) {
            Some(u) => u,
            None if el_prefix.is_empty() => String::new(),
            None => {
                return Err(self.err(
                    ErrorCode::XmlNamespace,
                    start,
                    format!("prefix `{el_prefix}` is not declared"),
                ))
            }
        };
        let mut attrs = Vec::with_capacity(attrs_raw.len());
        for r in attrs_raw {
            let ans = if r.prefix.is_empty() {
                String::new()
            } else {
                match lookup(self, &r.prefix) {
                    Some(u) if !u.is_empty() => u,
                    _ => {
                        return Err(self.err(
                            ErrorCode::XmlNamespace,
                            r.at,
                            format!("prefix `{}` is not declared", r.prefix),
                        ))
                    }
                }
            };
            if attrs
                .iter()
                .any(|a: &Attr| !ans.is_empty() && a.ns == ans && a.local == r.local)
            {
                return Err(self.syntax(
                    r.at,
                    format!(
                        "attribute `{}` is repeated (same namespace and name)",
                        r.local
                    ),
                ));
            }
            attrs.push(Attr {
                prefix: r.prefix,
                local: r.local,
                ns: ans,
                value: r.value,
            });
        }
        self.with_element(idx, |e| {
            e.ns = ns;
            e.attrs = attrs;
        });
        Ok(idx)
    }

    /// The namespace bound to `p` at element `i` while parsing (`""` value: undeclared
    /// default).
    fn lookup_from(&self, mut i: usize, p: &str) -> Option<String> {
        loop {
            let e = self.element(i);
            if let Some((_, u)) = e.ns_decls.iter().find(|(q, _)| q == p) {
                return Some(u.clone());
            }
            i = e.parent?;
        }
    }
}

/// CRLF and CR to LF.
fn normalize_newlines(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_string();
    }
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Attribute-value normalization for CDATA attributes: literal white space (after line-end
/// normalization) becomes a space; references are decoded afterwards, so `&#10;` stays a
/// line feed.
fn attr_value(raw: &str, src: &str, at: usize) -> Result<String, Error> {
    let mut ws = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                ws.push(' ');
            }
            '\n' | '\t' => ws.push(' '),
            c => ws.push(c),
        }
    }
    Ok(unescape(&ws, src, at)?.into_owned())
}
