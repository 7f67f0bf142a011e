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
    if !raw.contains(['&', '\r']) {
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
}

/// Parse `src` into a tree. Returns the tree and the root element's namespace.
pub(crate) fn read(src: &str) -> Result<(Tree<'_>, &str), Error> {
    use xmlparser::{ElementEnd, Token, Tokenizer};

    let mut tree = Tree::new(true, src.len() / 40 + 8);
    let mut ns: Vec<(&str, &str)> = Vec::with_capacity(8);
    let mut stack: Vec<Open<'_>> = Vec::with_capacity(16);
    let mut pending: Option<(u32, &str, usize)> = None; // (node, prefix, attrs start)
    let mut root_ns: Option<&str> = None;
    let mut root_done = false;

    let syntax = |e: xmlparser::Error| {
        let p = e.pos();
        Error::new(
            ErrorCode::XmlSyntax,
            format!("line {}, column {}", p.row, p.col),
            format!("{e}"),
        )
    };

    for token in Tokenizer::from(src) {
        let token = token.map_err(syntax)?;
        match token {
            Token::Declaration { encoding, .. } => {
                if let Some(enc) = encoding {
                    if !enc.as_str().eq_ignore_ascii_case("utf-8") {
                        return Err(Error::new(
                            ErrorCode::Encoding,
                            "",
                            format!(
                                "encoding `{}` is not supported: KSeF invoices are UTF-8",
                                enc.as_str()
                            ),
                        ));
                    }
                }
            }
            Token::ProcessingInstruction { .. } | Token::Comment { .. } => {}
            Token::DtdStart { span, .. }
            | Token::EmptyDtd { span, .. }
            | Token::EntityDeclaration { span, .. } => {
                return Err(Error::new(
                    ErrorCode::XmlDtdForbidden,
                    position(src, span.start()),
                    "a DTD is not allowed in an invoice (entity expansion is refused)",
                ));
            }
            Token::DtdEnd { .. } => {}
            Token::ElementStart {
                prefix,
                local,
                span,
            } => {
                if root_done {
                    return Err(Error::new(
                        ErrorCode::XmlSyntax,
                        position(src, span.start()),
                        "content after the root element",
                    ));
                }
                let parent = stack.last().map_or(NONE, |o| o.id);
                let prev = stack.last().map_or(NONE, |o| o.last_child);
                if parent != NONE {
                    // a child element: text seen so far in the parent must be layout only
                    let p = &mut tree.nodes[parent as usize];
                    if !p.text.trim().is_empty() {
                        return Err(Error::new(
                            ErrorCode::InvalidValue,
                            position(src, span.start()),
                            format!("`{}` mixes text and elements", p.name),
                        ));
                    }
                    p.text = Cow::Borrowed("");
                }
                let id = tree.push(local.as_str(), parent, prev);
                if let Some(o) = stack.last_mut() {
                    o.last_child = id;
                }
                pending = Some((id, prefix.as_str(), tree.attrs.len()));
                stack.push(Open {
                    id,
                    last_child: NONE,
                    ns_len: ns.len(),
                    prefix: prefix.as_str(),
                });
            }
            Token::Attribute {
                prefix,
                local,
                value,
                span,
            } => {
                let (p, l) = (prefix.as_str(), local.as_str());
                if p == "xmlns" {
                    ns.push((l, value.as_str()));
                } else if p.is_empty() && l == "xmlns" {
                    ns.push(("", value.as_str()));
                } else if p.is_empty() {
                    let v = unescape(value.as_str(), src, span.start())?;
                    tree.attrs.push(Attr {
                        name: l,
                        value: v,
                        consumed: Cell::new(false),
                    });
                } else {
                    // resolved below, once all declarations of this element are known
                    tree.attrs.push(Attr {
                        name: span.as_str(),
                        value: Cow::Borrowed(value.as_str()),
                        consumed: Cell::new(true),
                    });
                }
            }
            Token::ElementEnd { end, span } => match end {
                ElementEnd::Open | ElementEnd::Empty => {
                    let Some((id, prefix, astart)) = pending.take() else {
                        return Err(Error::new(
                            ErrorCode::XmlSyntax,
                            position(src, span.start()),
                            "unexpected tag end",
                        ));
                    };
                    let uri = ns.iter().rev().find(|(p, _)| *p == prefix).map(|(_, u)| *u);
                    let Some(uri) = uri else {
                        return Err(Error::new(
                            ErrorCode::XmlNamespace,
                            tree.path(id),
                            if prefix.is_empty() {
                                String::from("element has no namespace; expected the FA(3) or FA(2) namespace")
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
                    // prefixed attributes: only xsi:schemaLocation-style hints and xml:* are tolerated
                    for a in &tree.attrs[astart..] {
                        if a.consumed.get() {
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
                    if end == ElementEnd::Empty {
                        if let Some(o) = stack.pop() {
                            ns.truncate(o.ns_len);
                        }
                        if stack.is_empty() {
                            root_done = true;
                        }
                    }
                }
                ElementEnd::Close(prefix, local) => {
                    let Some(o) = stack.pop() else {
                        return Err(Error::new(
                            ErrorCode::XmlSyntax,
                            position(src, span.start()),
                            "closing tag without an open element",
                        ));
                    };
                    let n = &tree.nodes[o.id as usize];
                    if n.name != local.as_str() || o.prefix != prefix.as_str() {
                        return Err(Error::new(
                            ErrorCode::XmlSyntax,
                            position(src, span.start()),
                            format!(
                                "closing tag `{}` does not match `{}`",
                                span.as_str(),
                                n.name
                            ),
                        ));
                    }
                    ns.truncate(o.ns_len);
                    if stack.is_empty() {
                        root_done = true;
                    }
                }
            },
            Token::Text { text } => {
                let raw = text.as_str();
                match stack.last() {
                    None => {
                        if !raw.trim().is_empty() {
                            return Err(Error::new(
                                ErrorCode::XmlSyntax,
                                position(src, text.start()),
                                "text outside the root element",
                            ));
                        }
                    }
                    Some(o) => {
                        if o.last_child != NONE {
                            if !raw.trim().is_empty() {
                                let name = tree.nodes[o.id as usize].name;
                                return Err(Error::new(
                                    ErrorCode::InvalidValue,
                                    position(src, text.start()),
                                    format!("`{name}` mixes text and elements"),
                                ));
                            }
                        } else {
                            let v = unescape(raw, src, text.start())?;
                            append_text(&mut tree, o.id, v);
                        }
                    }
                }
            }
            Token::Cdata { text, .. } => {
                let Some(o) = stack.last() else {
                    return Err(Error::new(
                        ErrorCode::XmlSyntax,
                        "",
                        "CDATA outside the root element",
                    ));
                };
                let id = o.id;
                let v: Cow<'_, str> = if text.as_str().contains('\r') {
                    Cow::Owned(text.as_str().replace("\r\n", "\n").replace('\r', "\n"))
                } else {
                    Cow::Borrowed(text.as_str())
                };
                append_text(&mut tree, id, v);
            }
        }
    }
    if !stack.is_empty() || !root_done {
        return Err(Error::new(
            ErrorCode::XmlSyntax,
            position(src, src.len()),
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
