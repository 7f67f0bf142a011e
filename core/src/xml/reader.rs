//! XML bytes -> element tree. Namespace-prefix agnostic, CRLF-tolerant, no DTDs, no entity
//! expansion beyond the five predefined entities and character references.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;

use crate::error::{Error, ErrorCode};

pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

pub(crate) fn position(src: &str, offset: usize) -> String {
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

#[inline]
pub(crate) fn is_ws(c: u8) -> bool {
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

/// A small, strict XML scanner: elements, attributes, text, CDATA, comments and processing
/// instructions. A DOCTYPE is refused. Names may carry one prefix (`p:local`).
pub(crate) struct Scan<'a> {
    pub(crate) src: &'a str,
    pub(crate) b: &'a [u8],
    pub(crate) i: usize,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Scan {
            src,
            b: src.as_bytes(),
            i: 0,
        }
    }

    pub(crate) fn err(&self, code: ErrorCode, at: usize, msg: impl Into<String>) -> Error {
        Error::new(code, position(self.src, at), msg)
    }

    pub(crate) fn syntax(&self, at: usize, msg: impl Into<String>) -> Error {
        self.err(ErrorCode::XmlSyntax, at, msg)
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    pub(crate) fn find(&self, pat: &[u8], from: usize) -> Option<usize> {
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
    pub(crate) fn qname(&mut self) -> Result<(&'a str, &'a str), Error> {
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
