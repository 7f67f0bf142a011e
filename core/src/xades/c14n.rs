//! XML canonicalization: Exclusive XML Canonicalization 1.0
//! (`http://www.w3.org/2001/10/xml-exc-c14n#`) and Canonical XML 1.0
//! (`http://www.w3.org/TR/2001/REC-xml-c14n-20010315`), each with or without comments, of a
//! whole document or of one element's subtree.
//!
//! What the output looks like (both algorithms): UTF-8, no XML declaration, no DTD; line ends
//! are LF; empty elements are written as start-end tag pairs (`<a></a>`); attributes are
//! sorted (namespace declarations first, by prefix, the default one first; then attributes by
//! namespace URI and local name); attribute values are in double quotes with `&`, `<`, `"`,
//! TAB, LF and CR escaped; text has `&`, `<`, `>` and CR escaped; CDATA sections become text;
//! white space is kept as it is, outside the root element it is dropped; comments and
//! processing instructions outside the root element are separated by LF from it.
//!
//! The two algorithms differ in namespace declarations: Canonical XML writes every namespace
//! in scope that the nearest written ancestor did not already write (on a subtree's apex:
//! all namespaces in scope, and the inherited `xml:*` attributes); the exclusive algorithm
//! writes only the namespaces an element *visibly uses* (its own prefix, or the default
//! namespace when it has none, and its attributes' prefixes) and the prefixes of an
//! `InclusiveNamespaces PrefixList`.
//!
//! ```
//! use ksef::xades::c14n::{canonicalize, C14nMethod};
//!
//! let xml = br#"<?xml version="1.0"?>
//! <r xmlns="urn:a" xmlns:unused="urn:u" b='2' a="1"><e/></r>"#;
//! let out = canonicalize(xml, C14nMethod::Exclusive)?;
//! assert_eq!(out, br#"<r xmlns="urn:a" a="1" b="2"><e></e></r>"#);
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::dom::{self, Attr, Document, Node, XML_NS};
use crate::error::{Error, ErrorCode};

/// A canonicalization algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum C14nMethod {
    /// Exclusive XML Canonicalization 1.0, without comments (`xml-exc-c14n#`).
    Exclusive,
    /// Exclusive XML Canonicalization 1.0 with comments (`xml-exc-c14n#WithComments`).
    ExclusiveWithComments,
    /// Canonical XML 1.0, without comments (`REC-xml-c14n-20010315`).
    Inclusive,
    /// Canonical XML 1.0 with comments (`REC-xml-c14n-20010315#WithComments`).
    InclusiveWithComments,
}

impl C14nMethod {
    /// The algorithm URI used in XML signatures.
    pub const fn uri(self) -> &'static str {
        match self {
            Self::Exclusive => "http://www.w3.org/2001/10/xml-exc-c14n#",
            Self::ExclusiveWithComments => "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
            Self::Inclusive => "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            Self::InclusiveWithComments => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            }
        }
    }

    /// The algorithm named by `uri`, if supported.
    pub fn from_uri(uri: &str) -> Option<C14nMethod> {
        [
            Self::Exclusive,
            Self::ExclusiveWithComments,
            Self::Inclusive,
            Self::InclusiveWithComments,
        ]
        .into_iter()
        .find(|m| m.uri() == uri)
    }

    /// The exclusive algorithm?
    pub const fn is_exclusive(self) -> bool {
        matches!(self, Self::Exclusive | Self::ExclusiveWithComments)
    }

    /// Are comments kept?
    pub const fn with_comments(self) -> bool {
        matches!(
            self,
            Self::ExclusiveWithComments | Self::InclusiveWithComments
        )
    }
}

/// Canonicalize a whole document.
///
/// Errors: the XML is not well-formed ([`ErrorCode::XmlSyntax`], with the position), has a
/// DTD ([`ErrorCode::XmlDtdForbidden`]), is not UTF-8 ([`ErrorCode::Encoding`]), uses an
/// undeclared prefix ([`ErrorCode::XmlNamespace`]), or declares a relative namespace URI
/// ([`ErrorCode::Canonicalization`]).
pub fn canonicalize(xml: &[u8], method: C14nMethod) -> Result<Vec<u8>, Error> {
    let doc = dom::parse(xml)?;
    let mut out = Vec::with_capacity(xml.len());
    let set = NodeSet {
        apex: None,
        exclude: None,
        comments: method.with_comments(),
    };
    write(&doc, &set, method.is_exclusive(), &[], &mut out)?;
    Ok(out)
}

/// Canonicalize the subtree of the element whose `Id` (or `ID`, `id`, `xml:id`) attribute is
/// `id`, as an XML signature reference `URI="#id"` selects it, and with `inclusive_prefixes`
/// (the exclusive algorithm's `InclusiveNamespaces PrefixList`, `#default` for the default
/// namespace; ignored by Canonical XML).
///
/// Errors: as [`canonicalize`]; no element or more than one element has that id
/// ([`ErrorCode::XmlSignature`]).
pub fn canonicalize_by_id(
    xml: &[u8],
    id: &str,
    method: C14nMethod,
    inclusive_prefixes: &[&str],
) -> Result<Vec<u8>, Error> {
    let doc = dom::parse(xml)?;
    let apex = find_by_id(&doc, id)?;
    let mut out = Vec::new();
    let set = NodeSet {
        apex: Some(apex),
        exclude: None,
        comments: method.with_comments(),
    };
    let prefixes: Vec<String> = inclusive_prefixes.iter().map(|p| p.to_string()).collect();
    write(&doc, &set, method.is_exclusive(), &prefixes, &mut out)?;
    Ok(out)
}

/// The one element whose `Id`, `ID`, `id` or `xml:id` attribute is `id`.
pub(crate) fn find_by_id(doc: &Document, id: &str) -> Result<usize, Error> {
    let mut found = None;
    for i in doc.descendants(doc.root) {
        let e = doc.element(i);
        let hit = e.attrs.iter().any(|a| {
            a.value == id
                && ((a.ns.is_empty() && matches!(a.local.as_str(), "Id" | "ID" | "id"))
                    || (a.ns == XML_NS && a.local == "id"))
        });
        if hit {
            if found.is_some() {
                return Err(Error::new(
                    ErrorCode::XmlSignature,
                    doc.path(i),
                    format!("more than one element has the id `{id}`"),
                ));
            }
            found = Some(i);
        }
    }
    found.ok_or_else(|| {
        Error::new(
            ErrorCode::XmlSignature,
            "",
            format!("no element has the id `{id}`"),
        )
    })
}

/// The nodes to write: a whole document or one element's subtree, less one element's subtree
/// (the enveloped signature), with or without comments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeSet {
    /// `None`: the whole document; otherwise the subtree of this element.
    pub apex: Option<usize>,
    /// An element left out with everything in it.
    pub exclude: Option<usize>,
    /// Keep comments.
    pub comments: bool,
}

/// Write the canonical form of `set` into `out`.
pub(crate) fn write(
    doc: &Document,
    set: &NodeSet,
    exclusive: bool,
    inclusive_prefixes: &[String],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let mut w = Writer {
        doc,
        set,
        exclusive,
        prefixes: inclusive_prefixes
            .iter()
            .map(|p| {
                if p == "#default" {
                    String::new()
                } else {
                    p.clone()
                }
            })
            .collect(),
        rendered: Vec::new(),
        out,
    };
    match set.apex {
        Some(apex) => w.subtree(apex),
        None => {
            for &n in &doc.prolog {
                if w.misc(n) {
                    w.out.push(b'\n');
                }
            }
            w.subtree(doc.root)?;
            for &n in &doc.epilog {
                if w.wants(n) {
                    w.out.push(b'\n');
                    w.misc(n);
                }
            }
            Ok(())
        }
    }
}

struct Writer<'d, 'o> {
    doc: &'d Document,
    set: &'d NodeSet,
    exclusive: bool,
    prefixes: Vec<String>,
    /// Namespace declarations written by the open output ancestors: (prefix, URI).
    rendered: Vec<(String, String)>,
    out: &'o mut Vec<u8>,
}

enum Step {
    Enter(usize),
    Leave(usize, usize),
}

impl Writer<'_, '_> {
    fn wants(&self, n: usize) -> bool {
        match self.doc.nodes.get(n) {
            Some(Node::Comment(_)) => self.set.comments,
            Some(Node::Pi { .. }) => true,
            _ => false,
        }
    }

    /// A comment or processing instruction; returns whether anything was written.
    fn misc(&mut self, n: usize) -> bool {
        match self.doc.nodes.get(n) {
            Some(Node::Comment(c)) if self.set.comments => {
                self.out.extend_from_slice(b"<!--");
                self.out.extend_from_slice(c.as_bytes());
                self.out.extend_from_slice(b"-->");
                true
            }
            Some(Node::Pi { target, data }) => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
                true
            }
            _ => false,
        }
    }

    fn rendered(&self, prefix: &str) -> &str {
        self.rendered
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map_or("", |(_, u)| u.as_str())
    }

    fn subtree(&mut self, top: usize) -> Result<(), Error> {
        let mut stack = vec![Step::Enter(top)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(n) => match self.doc.nodes.get(n) {
                    Some(Node::Element(e)) => {
                        if self.set.exclude == Some(n) {
                            continue;
                        }
                        let mark = self.rendered.len();
                        self.start_tag(n, n == top)?;
                        stack.push(Step::Leave(n, mark));
                        stack.extend(e.children.iter().rev().map(|&c| Step::Enter(c)));
                    }
                    Some(Node::Text(t)) => escape_text(t, self.out),
                    _ => {
                        self.misc(n);
                    }
                },
                Step::Leave(n, mark) => {
                    let e = self.doc.element(n);
                    self.out.extend_from_slice(b"</");
                    push_qname(self.out, &e.prefix, &e.local);
                    self.out.push(b'>');
                    self.rendered.truncate(mark);
                }
            }
        }
        Ok(())
    }

    fn start_tag(&mut self, n: usize, apex: bool) -> Result<(), Error> {
        let doc = self.doc;
        let e = doc.element(n);
        for (p, u) in &e.ns_decls {
            if is_relative(u) {
                return Err(Error::new(
                    ErrorCode::Canonicalization,
                    doc.path(n),
                    format!(
                        "the namespace URI `{u}` of prefix `{p}` is relative: it cannot be \
                         canonicalized"
                    ),
                ));
            }
        }
        // the namespace declarations to write
        let mut decls: Vec<(String, String)> = Vec::new();
        if self.exclusive {
            let mut used: Vec<&str> = vec![e.prefix.as_str()];
            used.extend(
                e.attrs
                    .iter()
                    .map(|a| a.prefix.as_str())
                    .filter(|p| !p.is_empty()),
            );
            used.extend(self.prefixes.iter().map(String::as_str));
            used.sort_unstable();
            used.dedup();
            for p in used {
                if p == "xml" {
                    continue;
                }
                let uri = doc.lookup_ns(n, p);
                if uri.is_none() && !p.is_empty() {
                    // only an inclusive-list prefix can be out of scope
                    continue;
                }
                let uri = uri.unwrap_or("");
                if self.rendered(p) != uri {
                    decls.push((p.to_string(), uri.to_string()));
                }
            }
        } else {
            let scope = doc.in_scope(n);
            if !scope.iter().any(|(p, _)| p.is_empty()) && !self.rendered("").is_empty() {
                decls.push((String::new(), String::new()));
            }
            for (p, u) in scope {
                if p != "xml" && self.rendered(&p) != u {
                    decls.push((p, u));
                }
            }
        }
        decls.sort();
        // the attributes, with the xml:* ones a subtree apex inherits in Canonical XML
        let mut attrs: Vec<&Attr> = e.attrs.iter().collect();
        if apex && !self.exclusive {
            let mut cur = e.parent;
            while let Some(p) = cur {
                let pe = doc.element(p);
                for a in &pe.attrs {
                    if a.ns == XML_NS && !attrs.iter().any(|b| b.ns == XML_NS && b.local == a.local)
                    {
                        attrs.push(a);
                    }
                }
                cur = pe.parent;
            }
        }
        attrs.sort_by(|a, b| (a.ns.as_str(), a.local.as_str()).cmp(&(&b.ns, &b.local)));

        self.out.push(b'<');
        push_qname(self.out, &e.prefix, &e.local);
        for (p, u) in decls {
            if p.is_empty() {
                self.out.extend_from_slice(b" xmlns=\"");
            } else {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(p.as_bytes());
                self.out.extend_from_slice(b"=\"");
            }
            escape_attr(&u, self.out);
            self.out.push(b'"');
            self.rendered.push((p, u));
        }
        for a in attrs {
            self.out.push(b' ');
            push_qname(self.out, &a.prefix, &a.local);
            self.out.extend_from_slice(b"=\"");
            escape_attr(&a.value, self.out);
            self.out.push(b'"');
        }
        self.out.push(b'>');
        Ok(())
    }
}

/// A non-empty URI reference without a scheme.
fn is_relative(uri: &str) -> bool {
    if uri.is_empty() {
        return false;
    }
    let Some(colon) = uri.find(':') else {
        return true;
    };
    let scheme = &uri[..colon];
    !(scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
}

fn push_qname(out: &mut Vec<u8>, prefix: &str, local: &str) {
    if !prefix.is_empty() {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

fn escape_text(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            b => out.push(b),
        }
    }
}

fn escape_attr(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            b => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exc(xml: &str) -> String {
        String::from_utf8(canonicalize(xml.as_bytes(), C14nMethod::Exclusive).unwrap()).unwrap()
    }

    fn inc(xml: &str) -> String {
        String::from_utf8(canonicalize(xml.as_bytes(), C14nMethod::Inclusive).unwrap()).unwrap()
    }

    #[test]
    fn namespaces_exclusive_vs_inclusive() {
        let xml = r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><x b:at="1"/><a:y/></a:r>"#;
        assert_eq!(
            exc(xml),
            r#"<a:r xmlns:a="urn:a"><x xmlns="urn:d" xmlns:b="urn:b" b:at="1"></x><a:y></a:y></a:r>"#
        );
        assert_eq!(
            inc(xml),
            r#"<a:r xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b"><x b:at="1"></x><a:y></a:y></a:r>"#
        );
    }

    #[test]
    fn default_namespace_undeclared() {
        let xml = r#"<r xmlns="urn:d"><e xmlns=""><f/></e></r>"#;
        assert_eq!(exc(xml), r#"<r xmlns="urn:d"><e xmlns=""><f></f></e></r>"#);
        assert_eq!(inc(xml), r#"<r xmlns="urn:d"><e xmlns=""><f></f></e></r>"#);
        // never declared: no xmlns="" at all
        assert_eq!(exc(r#"<r><e xmlns=""/></r>"#), "<r><e></e></r>");
    }

    #[test]
    fn escaping_and_whitespace() {
        let xml = "<?xml version=\"1.0\"?>\r\n<r a=\"x&#9;y&#10;z&#13;\" b=\"1\r\n2\t3\">&lt;&amp;&gt;\"'\r\n<![CDATA[<&>]]>&#xD;</r>\r\n";
        assert_eq!(
            exc(xml),
            "<r a=\"x&#x9;y&#xA;z&#xD;\" b=\"1 2 3\">&lt;&amp;&gt;\"'\n&lt;&amp;&gt;&#xD;</r>"
        );
    }

    #[test]
    fn prolog_and_epilog() {
        let xml = "<?pi  data ?><!--c1--><r><!--in--></r><!--c2--><?end?>";
        let with = canonicalize(xml.as_bytes(), C14nMethod::ExclusiveWithComments).unwrap();
        assert_eq!(
            String::from_utf8(with).unwrap(),
            "<?pi data ?>\n<!--c1-->\n<r><!--in--></r>\n<!--c2-->\n<?end?>"
        );
        assert_eq!(exc(xml), "<?pi data ?>\n<r></r>\n<?end?>");
    }

    #[test]
    fn subtree_by_id() {
        let xml = br#"<r xmlns="urn:d" xmlns:p="urn:p" xml:lang="pl"><p:s Id="x"><t/></p:s></r>"#;
        let e = canonicalize_by_id(xml, "x", C14nMethod::Exclusive, &[]).unwrap();
        assert_eq!(
            e,
            br#"<p:s xmlns:p="urn:p" Id="x"><t xmlns="urn:d"></t></p:s>"#
        );
        let e = canonicalize_by_id(xml, "x", C14nMethod::Exclusive, &["#default"]).unwrap();
        assert_eq!(
            e,
            br#"<p:s xmlns="urn:d" xmlns:p="urn:p" Id="x"><t></t></p:s>"#
        );
        let i = canonicalize_by_id(xml, "x", C14nMethod::Inclusive, &[]).unwrap();
        assert_eq!(
            i,
            br#"<p:s xmlns="urn:d" xmlns:p="urn:p" Id="x" xml:lang="pl"><t></t></p:s>"#
        );
        assert_eq!(
            canonicalize_by_id(xml, "nope", C14nMethod::Exclusive, &[])
                .unwrap_err()
                .code(),
            ErrorCode::XmlSignature
        );
    }

    #[test]
    fn refusals() {
        for (xml, code) in [
            ("<!DOCTYPE r><r/>", ErrorCode::XmlDtdForbidden),
            ("<r>&ent;</r>", ErrorCode::XmlDtdForbidden),
            ("<r><a></r>", ErrorCode::XmlSyntax),
            ("<p:r/>", ErrorCode::XmlNamespace),
            ("<r a='1' a='2'/>", ErrorCode::XmlSyntax),
            (
                "<r xmlns:a='x' xmlns:b='x' a:z='1' b:z='2'/>",
                ErrorCode::XmlSyntax,
            ),
            ("<r xmlns='rel/ns'/>", ErrorCode::Canonicalization),
            (
                "<?xml version='1.0' encoding='ISO-8859-2'?><r/>",
                ErrorCode::Encoding,
            ),
            ("<r/><r/>", ErrorCode::XmlSyntax),
            ("text<r/>", ErrorCode::XmlSyntax),
        ] {
            let e = canonicalize(xml.as_bytes(), C14nMethod::Exclusive).unwrap_err();
            assert_eq!(e.code(), code, "{xml}: {e}");
        }
        let e = canonicalize(b"<r>\xff</r>", C14nMethod::Exclusive).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Encoding);
    }
}
