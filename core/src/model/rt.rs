//! Runtime of the generated codecs: the element tree both XML and JSON are read into, the
//! cursor the generated builders walk, the facet rules, and the output trait the generated
//! emitters write through.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt::Write as _;

use super::values::{Date, DateTime, Decimal, EnumCode};
use crate::error::{Error, ErrorCode};
use crate::xml::stream::StreamCursor;

/// Which view of the merged model a codec call works in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Sv {
    /// FA(2): only FA(2) elements, FA(2) facets.
    Fa2,
    /// FA(3): only FA(3) elements, FA(3) facets.
    Fa3,
    /// The JSON form: the union of both; facets are checked when emitting XML.
    Json,
}

impl Sv {
    /// Does this view have an element with schema `mask`?
    #[inline]
    pub(crate) fn has(self, mask: u8) -> bool {
        match self {
            Sv::Fa2 => mask & 1 != 0,
            Sv::Fa3 => mask & 2 != 0,
            Sv::Json => mask != 0,
        }
    }

    /// Is an element whose required-mask is `req` required in this view?
    #[inline]
    pub(crate) fn has_all(self, req: u8) -> bool {
        match self {
            Sv::Fa2 => req & 1 != 0,
            Sv::Fa3 => req & 2 != 0,
            Sv::Json => req == 3,
        }
    }

    #[inline]
    fn pick<T: Copy>(self, v: [Option<T>; 2]) -> Option<T> {
        match self {
            Sv::Fa2 => v[0],
            Sv::Fa3 => v[1],
            Sv::Json => None,
        }
    }

    #[inline]
    fn idx(self) -> Option<usize> {
        match self {
            Sv::Fa2 => Some(0),
            Sv::Fa3 => Some(1),
            Sv::Json => None,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Sv::Fa2 => "FA(2)",
            Sv::Fa3 => "FA(3)",
            Sv::Json => "JSON",
        }
    }
}

/// What the schemas say about one element: which versions have it, where it is required,
/// and how often it may occur (index 0: FA(2), 1: FA(3)).
pub(crate) struct Fm {
    pub name: &'static str,
    /// The JSON key (the element name, except where FA(2) and FA(3) give one name two types).
    pub json: &'static str,
    pub mask: u8,
    pub req: u8,
    pub min: [u32; 2],
    pub max: [u32; 2],
}

// ---------------------------------------------------------------------------------------
// Facet rules
// ---------------------------------------------------------------------------------------

/// A compiled XSD regular expression (the generator translates the XSD patterns).
pub(crate) enum Rx {
    Seq(&'static [Rx]),
    Alt(&'static [Rx]),
    Rep(&'static Rx, u32, u32),
    Class(&'static [(char, char)], bool),
    Any,
}

impl Rx {
    /// Whole-string match (XSD patterns are anchored).
    pub(crate) fn matches(&self, s: &str) -> bool {
        self.m(s, 0, &mut |j| j == s.len())
    }

    fn m(&self, s: &str, i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Rx::Any => match s[i..].chars().next() {
                Some(c) if c != '\n' && c != '\r' => k(i + c.len_utf8()),
                _ => false,
            },
            Rx::Class(ranges, neg) => match s[i..].chars().next() {
                Some(c) => {
                    let inside = ranges.iter().any(|&(a, b)| a <= c && c <= b);
                    inside != *neg && k(i + c.len_utf8())
                }
                None => false,
            },
            Rx::Seq(items) => seq(items, s, i, k),
            Rx::Alt(alts) => alts.iter().any(|a| a.m(s, i, k)),
            Rx::Rep(inner, min, max) => rep(inner, *min, *max, 0, s, i, k),
        }
    }
}

fn seq(items: &[Rx], s: &str, i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    match items.split_first() {
        None => k(i),
        Some((first, rest)) => first.m(s, i, &mut |j| seq(rest, s, j, k)),
    }
}

fn rep(
    inner: &Rx,
    min: u32,
    max: u32,
    count: u32,
    s: &str,
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    let class: Option<(&[(char, char)], bool)> = match inner {
        Rx::Class(ranges, neg) => Some((ranges, *neg)),
        Rx::Any => Some((&[('\n', '\n'), ('\r', '\r')], true)),
        _ => None,
    };
    if let Some((ranges, neg)) = class {
        // a repeated character class: take the longest run, then give back one by one
        let mut ends: [usize; 64] = [0; 64];
        let mut n = 0usize;
        let mut j = i;
        for c in s[i..].chars() {
            if n as u32 >= max - count.min(max) || n == ends.len() {
                break;
            }
            if ranges.iter().any(|&(a, b)| a <= c && c <= b) == neg {
                break;
            }
            j += c.len_utf8();
            ends[n] = j;
            n += 1;
        }
        if n < ends.len() {
            loop {
                if count + n as u32 >= min && k(if n == 0 { i } else { ends[n - 1] }) {
                    return true;
                }
                if n == 0 {
                    return false;
                }
                n -= 1;
            }
        }
    }
    if count < max
        && inner.m(s, i, &mut |j| {
            j != i && rep(inner, min, max, count + 1, s, j, k)
        })
    {
        return true;
    }
    count >= min && k(i)
}

pub(crate) struct StrRule {
    pub min: u32,
    pub max: u32,
    pub pats: &'static [&'static Rx],
}

pub(crate) struct DecRule {
    pub total: u32,
    pub frac: u32,
    pub int_digits: u32,
    pub min: Option<(Decimal, bool)>,
    pub max: Option<(Decimal, bool)>,
}

pub(crate) struct IntRule {
    pub total: u32,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

pub(crate) struct DateRule {
    pub min: Option<Date>,
    pub max: Option<Date>,
}

pub(crate) struct DateTimeRule {
    pub min: Option<(i64, &'static str)>,
    pub max: Option<(i64, &'static str)>,
}

fn check_str(v: &str, r: &StrRule) -> Result<(), String> {
    // byte length bounds the character count from above: count only when it matters
    let bytes = v.len() as u64;
    if bytes > u64::from(r.max)
        || (r.min > 1 && bytes < 4 * u64::from(r.min))
        || (r.min == 1 && bytes == 0)
    {
        check_len(v, r)?;
    }
    for p in r.pats {
        if !p.matches(v) {
            return Err(format!("`{v}` does not have the required format"));
        }
    }
    Ok(())
}

fn check_len(v: &str, r: &StrRule) -> Result<(), String> {
    let n = v.chars().count() as u32;
    if n < r.min {
        return Err(format!("must have at least {} characters, has {n}", r.min));
    }
    if n > r.max {
        return Err(format!("must have at most {} characters, has {n}", r.max));
    }
    Ok(())
}

fn dec_digits(d: &Decimal) -> (u32, u32) {
    // (integer digits, fraction digits) of the normalized value
    let n = d.normalize();
    let frac = n.scale();
    let mant = n.mantissa().unsigned_abs();
    let mut total = 0u32;
    let mut m = mant;
    while m > 0 {
        total += 1;
        m /= 10;
    }
    let int_digits = total.saturating_sub(frac);
    (int_digits, frac)
}

fn check_dec(v: &Decimal, r: &DecRule) -> Result<(), String> {
    let (int_d, frac_d) = dec_digits(v);
    if frac_d > r.frac {
        return Err(format!(
            "{v} has {frac_d} decimal places; at most {} allowed",
            r.frac
        ));
    }
    if int_d > r.int_digits || int_d + frac_d > r.total {
        return Err(format!(
            "{v} has too many digits (at most {} before the point)",
            r.int_digits
        ));
    }
    if let Some((lo, incl)) = r.min {
        if (incl && *v < lo) || (!incl && *v <= lo) {
            return Err(format!(
                "{v} is below the minimum {}{lo}",
                if incl { "" } else { ">" }
            ));
        }
    }
    if let Some((hi, incl)) = r.max {
        if (incl && *v > hi) || (!incl && *v >= hi) {
            return Err(format!("{v} is above the maximum {hi}"));
        }
    }
    Ok(())
}

fn check_int(v: i64, r: &IntRule) -> Result<(), String> {
    let digits = if v == 0 {
        1
    } else {
        v.unsigned_abs().ilog10() + 1
    };
    if digits > r.total {
        return Err(format!("{v} has more than {} digits", r.total));
    }
    if let Some(lo) = r.min {
        if v < lo {
            return Err(format!("{v} is below the minimum {lo}"));
        }
    }
    if let Some(hi) = r.max {
        if v > hi {
            return Err(format!("{v} is above the maximum {hi}"));
        }
    }
    Ok(())
}

fn check_date(v: Date, r: &DateRule) -> Result<(), String> {
    if let Some(lo) = r.min {
        if v < lo {
            return Err(format!(
                "{v} is before {lo}, the earliest date the schema allows"
            ));
        }
    }
    if let Some(hi) = r.max {
        if v > hi {
            return Err(format!(
                "{v} is after {hi}, the latest date the schema allows"
            ));
        }
    }
    Ok(())
}

fn check_datetime(v: &DateTime, r: &DateTimeRule) -> Result<(), String> {
    if let Some((lo, text)) = r.min {
        if v.unix_seconds() < lo {
            return Err(format!(
                "{v} is earlier than {text}, the earliest the schema allows"
            ));
        }
    }
    if let Some((hi, text)) = r.max {
        if v.unix_seconds() > hi {
            return Err(format!(
                "{v} is later than {text}, the latest the schema allows"
            ));
        }
    }
    Ok(())
}

fn check_enum<E: EnumCode + PartialEq>(
    v: E,
    sv: Sv,
    allowed: [Option<&[E]>; 2],
) -> Result<(), String> {
    if sv != Sv::Json && !sv.has(v.schema_mask()) {
        return Err(format!(
            "code `{}` does not exist in {}",
            v.code(),
            sv.label()
        ));
    }
    if let Some(list) = sv.pick(allowed) {
        if !list.contains(&v) {
            let codes: Vec<&str> = list.iter().map(|x| x.code()).collect();
            return Err(format!(
                "code `{}` is not allowed here in {}; allowed: {}",
                v.code(),
                sv.label(),
                codes.join(", ")
            ));
        }
    }
    Ok(())
}

/// Strict `xsd:decimal` lexical form (optional sign, digits, optional fraction).
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let t = text.trim_matches(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    let b = t.as_bytes();
    let body = match b.first() {
        Some(b'-') | Some(b'+') => &b[1..],
        _ => b,
    };
    let mut int_n = 0;
    let mut frac_n = 0;
    let mut seen_dot = false;
    for &c in body {
        match c {
            b'0'..=b'9' if seen_dot => frac_n += 1,
            b'0'..=b'9' => int_n += 1,
            b'.' if !seen_dot => seen_dot = true,
            _ => {
                return Err(format!(
                    "`{text}` is not a decimal number (use digits and a dot)"
                ))
            }
        }
    }
    if int_n + frac_n == 0 || (seen_dot && frac_n == 0 && int_n == 0) {
        return Err(format!("`{text}` is not a decimal number"));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let t = t.strip_suffix('.').unwrap_or(t);
    Decimal::from_str_exact(t)
        .map_err(|_| format!("`{text}` has too many digits for an exact decimal"))
}

// ---------------------------------------------------------------------------------------
// The element tree
// ---------------------------------------------------------------------------------------

pub(crate) const NONE: u32 = u32::MAX;

/// How a JSON leaf was written (XML leaves are always `Text`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Text,
    Number,
    Object,
    Other,
}

pub(crate) struct Node<'a> {
    pub name: &'a str,
    pub text: Cow<'a, str>,
    pub parent: u32,
    pub first: u32,
    pub next: u32,
    pub attrs: (u32, u32),
    pub array: bool,
    pub kind: Kind,
    pub consumed: Cell<bool>,
}

pub(crate) struct Attr<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
    pub consumed: Cell<bool>,
}

/// Elements of one document, in document order, linked as a tree.
pub(crate) struct Tree<'a> {
    pub nodes: Vec<Node<'a>>,
    pub attrs: Vec<Attr<'a>>,
}

impl<'a> Tree<'a> {
    pub(crate) fn new(capacity: usize) -> Self {
        Tree {
            nodes: Vec::with_capacity(capacity),
            attrs: Vec::new(),
        }
    }

    /// Append a node under `parent` (NONE for the root); `last_child` tracks the parent's
    /// current last child so linking is O(1).
    pub(crate) fn push(&mut self, name: &'a str, parent: u32, prev_sibling: u32) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            name,
            text: Cow::Borrowed(""),
            parent,
            first: NONE,
            next: NONE,
            attrs: (0, 0),
            array: false,
            kind: Kind::Text,
            consumed: Cell::new(false),
        });
        if prev_sibling != NONE {
            self.nodes[prev_sibling as usize].next = id;
        } else if parent != NONE {
            self.nodes[parent as usize].first = id;
        }
        id
    }

    #[inline]
    pub(crate) fn node(&self, id: u32) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    /// `Faktura/Fa/FaWiersz[3]/P_8B` for a node.
    pub(crate) fn path(&self, id: u32) -> String {
        let mut chain = Vec::new();
        let mut cur = id;
        while cur != NONE {
            chain.push(cur);
            cur = self.node(cur).parent;
        }
        let mut out = String::new();
        for &n in chain.iter().rev() {
            if !out.is_empty() {
                out.push('/');
            }
            let node = self.node(n);
            out.push_str(node.name);
            let parent = node.parent;
            if parent != NONE {
                let (mut idx, mut count) = (0, 0);
                let mut c = self.node(parent).first;
                while c != NONE {
                    if self.node(c).name == node.name {
                        count += 1;
                        if c == n {
                            idx = count;
                        }
                    }
                    c = self.node(c).next;
                }
                if count > 1 {
                    let _ = write!(out, "[{idx}]");
                }
            }
        }
        out
    }
}

/// Handle to an attribute: an XML attribute, or a JSON key standing for it.
#[derive(Clone, Copy)]
pub(crate) enum AttrRef {
    Xml(u32),
    Node(u32),
}

/// Walks the children of one element of a tree (the JSON form) for a generated builder.
pub(crate) struct TreeCursor<'t, 'a> {
    t: &'t Tree<'a>,
    parent: u32,
}

impl<'t, 'a> TreeCursor<'t, 'a> {
    pub(crate) fn root(t: &'t Tree<'a>, root: u32) -> Self {
        TreeCursor { t, parent: root }
    }

    fn child_path(&self, name: &str) -> String {
        let mut p = self.t.path(self.parent);
        p.push('/');
        p.push_str(name);
        p
    }

    #[inline(always)]
    fn find(&self, name: &str) -> Option<u32> {
        let mut c = self.t.node(self.parent).first;
        while c != NONE {
            let n = self.t.node(c);
            if !n.consumed.get() && n.name == name {
                return Some(c);
            }
            c = n.next;
        }
        None
    }

    #[inline]
    fn take(&mut self, id: u32) {
        self.t.node(id).consumed.set(true);
    }

    pub(crate) fn missing(&self, name: &str) -> Error {
        Error::new(
            ErrorCode::MissingElement,
            self.child_path(name),
            format!("required element `{name}` is missing"),
        )
    }

    pub(crate) fn missing_choice(&self, names: &[&str]) -> Error {
        let list = format!("one of `{}`", names.join("`, `"));
        Error::new(
            ErrorCode::MissingElement,
            self.t.path(self.parent),
            format!("{list} is required here"),
        )
    }

    /// An optional element: consumed and returned when present.
    #[inline]
    pub(crate) fn opt(&mut self, f: &Fm, sv: Sv) -> Result<Option<u32>, Error> {
        if !sv.has(f.mask) {
            return Ok(None);
        }
        match self.find(f.json) {
            Some(id) => {
                if self.t.node(id).array {
                    return Err(Error::new(
                        ErrorCode::UnexpectedElement,
                        self.t.path(id),
                        format!("`{}` takes one value, not an array", f.name),
                    ));
                }
                self.take(id);
                Ok(Some(id))
            }
            None if sv.has_all(f.req) => Err(self.missing(f.json)),
            None => Ok(None),
        }
    }

    /// The next occurrence of a repeated element.
    #[inline]
    pub(crate) fn next_of(&mut self, f: &Fm, sv: Sv) -> Result<Option<u32>, Error> {
        if !sv.has(f.mask) {
            return Ok(None);
        }
        match self.find(f.json) {
            Some(id) => {
                if !self.t.node(id).array {
                    return Err(Error::new(
                        ErrorCode::UnexpectedElement,
                        self.t.path(id),
                        format!("`{}` is a list: write it as an array", f.name),
                    ));
                }
                self.take(id);
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }

    /// Does any remaining key have one of these names?
    #[inline]
    pub(crate) fn peek_any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.find(n).is_some())
    }

    /// A cursor over the children of `id`.
    pub(crate) fn enter(&self, id: u32) -> TreeCursor<'t, 'a> {
        TreeCursor {
            t: self.t,
            parent: id,
        }
    }

    /// All children and attributes were used, and a structured element carries no text.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        let p = self.t.node(self.parent);
        if !p.text.trim().is_empty() || p.kind == Kind::Number || p.kind == Kind::Other {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                self.t.path(self.parent),
                format!("`{}` must contain elements, not a value", p.name),
            ));
        }
        let mut left = p.first;
        while left != NONE && self.t.node(left).consumed.get() {
            left = self.t.node(left).next;
        }
        if left != NONE {
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                self.t.path(left),
                format!("unknown key `{}`", self.t.node(left).name),
            ));
        }
        for a in &self.t.attrs[p.attrs.0 as usize..p.attrs.1 as usize] {
            if !a.consumed.get() {
                return Err(Error::new(
                    ErrorCode::UnexpectedElement,
                    self.t.path(self.parent),
                    format!("attribute `{}` is not allowed here", a.name),
                ));
            }
        }
        Ok(())
    }

    /// The text of a leaf element.
    #[inline]
    pub(crate) fn text(&self, id: u32) -> Result<&'t str, Error> {
        let n = self.t.node(id);
        if n.first != NONE || n.kind == Kind::Object {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                self.t.path(id),
                format!("`{}` must be a value, not a structure", n.name),
            ));
        }
        if n.kind == Kind::Other {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                self.t.path(id),
                format!("`{}` must be a string or a number", n.name),
            ));
        }
        if n.attrs.0 != n.attrs.1 {
            let a = &self.t.attrs[n.attrs.0 as usize];
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                self.t.path(id),
                format!("attribute `{}` is not allowed here", a.name),
            ));
        }
        Ok(&n.text)
    }

    fn invalid(&self, id: u32, msg: String) -> Error {
        Error::new(ErrorCode::InvalidValue, self.t.path(id), msg)
    }

    /// An attribute of the current element.
    pub(crate) fn attr(&mut self, f: &Fm, sv: Sv) -> Result<Option<AttrRef>, Error> {
        if !sv.has(f.mask) {
            return Ok(None);
        }
        match self.find(f.name) {
            Some(id) => {
                self.take(id);
                Ok(Some(AttrRef::Node(id)))
            }
            None => Ok(None),
        }
    }

    fn attr_text(&self, a: AttrRef) -> Result<&'t str, Error> {
        match a {
            AttrRef::Xml(i) => Ok(&self.t.attrs[i as usize].value),
            AttrRef::Node(id) => self.text(id),
        }
    }

    /// Elements whose content the schema version fixes (`KodFormularza`, `WariantFormularza`).
    pub(crate) fn schema_const(&mut self, name: &'static str, sv: Sv) -> Result<(), Error> {
        let Some((text, attrs)) = super::codec::schema_const_value(name, sv) else {
            // JSON: not part of the model; tolerated when present.
            if let Some(id) = self.find(name) {
                self.take(id);
            }
            return Ok(());
        };
        let Some(id) = self.find(name) else {
            return Err(self.missing(name));
        };
        self.take(id);
        let n = self.t.node(id);
        if n.first != NONE || n.text.trim() != text {
            return Err(self.invalid(
                id,
                format!(
                    "`{name}` must be `{text}` in {} (found `{}`)",
                    sv.label(),
                    n.text
                ),
            ));
        }
        for a in &self.t.attrs[n.attrs.0 as usize..n.attrs.1 as usize] {
            match attrs.iter().find(|(k, _)| *k == a.name) {
                Some((_, v)) if *v == a.value => {}
                Some((_, v)) => {
                    return Err(self.invalid(
                        id,
                        format!(
                            "attribute `{}` must be `{v}` in {} (found `{}`)",
                            a.name,
                            sv.label(),
                            a.value
                        ),
                    ))
                }
                None => {
                    return Err(Error::new(
                        ErrorCode::UnexpectedElement,
                        self.t.path(id),
                        format!("attribute `{}` is not allowed here", a.name),
                    ))
                }
            }
        }
        for (k, v) in attrs {
            if !self.t.attrs[n.attrs.0 as usize..n.attrs.1 as usize]
                .iter()
                .any(|a| a.name == *k)
            {
                return Err(self.invalid(id, format!("attribute `{k}=\"{v}\"` is missing")));
            }
        }
        Ok(())
    }
}

/// Element name equality with cheap rejections first: most probes are for absent elements.
#[inline(always)]
pub(crate) fn name_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.last() == b.last() && a == b
}

// ---- the cursor the generated builders use: a tree (JSON) or the XML stream ----------

/// The generated builders read through this: the JSON tree, or the streaming XML reader.
pub(crate) enum Cursor<'s, 'a> {
    Tree(TreeCursor<'s, 'a>),
    Stream(StreamCursor<'s, 'a>),
}

impl<'s, 'a> Cursor<'s, 'a> {
    /// An optional element: consumed and returned when present.
    #[inline]
    pub(crate) fn opt(&mut self, f: &Fm, sv: Sv) -> Result<Option<u32>, Error> {
        match self {
            Cursor::Tree(c) => c.opt(f, sv),
            Cursor::Stream(c) => {
                if !sv.has(f.mask) {
                    return Ok(None);
                }
                match c.peek_name()? {
                    Some(n) if name_eq(n, f.name) => Ok(Some(c.take(f))),
                    _ if sv.has_all(f.req) => Err(self.missing(f.name)),
                    _ => Ok(None),
                }
            }
        }
    }

    /// A required element.
    #[inline]
    pub(crate) fn req(&mut self, f: &Fm, sv: Sv) -> Result<u32, Error> {
        match self.opt(f, sv)? {
            Some(id) => Ok(id),
            None => Err(self.missing(f.name)),
        }
    }

    /// The next occurrence of a repeated element.
    #[inline]
    pub(crate) fn next_of(&mut self, f: &Fm, sv: Sv) -> Result<Option<u32>, Error> {
        match self {
            Cursor::Tree(c) => c.next_of(f, sv),
            Cursor::Stream(c) => {
                if !sv.has(f.mask) {
                    return Ok(None);
                }
                match c.peek_name()? {
                    Some(n) if name_eq(n, f.name) => Ok(Some(c.take(f))),
                    _ => Ok(None),
                }
            }
        }
    }

    pub(crate) fn check_count(&mut self, f: &Fm, sv: Sv, n: usize) -> Result<(), Error> {
        let Some(i) = sv.idx() else {
            if f.req == 3 && n == 0 {
                return Err(self.missing(f.name));
            }
            return Ok(());
        };
        let n = n as u64;
        if n < u64::from(f.min[i]) {
            if n == 0 {
                return Err(self.missing(f.name));
            }
            return Err(Error::new(
                ErrorCode::MissingElement,
                self.child_path(f.name),
                format!(
                    "`{}` must occur at least {} times in {}",
                    f.name,
                    f.min[i],
                    sv.label()
                ),
            ));
        }
        if n > u64::from(f.max[i]) {
            return Err(Error::new(
                ErrorCode::UnexpectedElement,
                self.child_path(f.name),
                format!(
                    "`{}` may occur at most {} times in {}",
                    f.name,
                    f.max[i],
                    sv.label()
                ),
            ));
        }
        Ok(())
    }

    fn child_path(&self, name: &str) -> String {
        match self {
            Cursor::Tree(c) => c.child_path(name),
            Cursor::Stream(c) => c.missing_path(name),
        }
    }

    /// Does the next element (XML) or any remaining key (JSON) have one of these names?
    /// A read error here is reported by the next call that reads.
    #[inline]
    pub(crate) fn peek_any(&mut self, names: &[&str]) -> bool {
        match self {
            Cursor::Tree(c) => c.peek_any(names),
            Cursor::Stream(c) => matches!(c.peek_name(), Ok(Some(n)) if names.contains(&n)),
        }
    }

    /// A cursor over the children of `id`.
    #[inline]
    pub(crate) fn enter(&mut self, id: u32) -> Cursor<'_, 'a> {
        match self {
            Cursor::Tree(c) => Cursor::Tree(c.enter(id)),
            Cursor::Stream(c) => Cursor::Stream(c.enter(id)),
        }
    }

    /// All children and attributes were used.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        match self {
            Cursor::Tree(c) => c.finish(),
            Cursor::Stream(c) => c.finish(),
        }
    }

    pub(crate) fn missing(&mut self, name: &str) -> Error {
        match self {
            Cursor::Tree(c) => c.missing(name),
            Cursor::Stream(c) => {
                if let Some(e) = c.in_place_of(&format!("`{name}`")) {
                    return e;
                }
                Error::new(
                    ErrorCode::MissingElement,
                    c.missing_path(name),
                    format!("required element `{name}` is missing"),
                )
            }
        }
    }

    pub(crate) fn missing_choice(&mut self, names: &[&str]) -> Error {
        match self {
            Cursor::Tree(c) => c.missing_choice(names),
            Cursor::Stream(c) => {
                let list = format!("one of `{}`", names.join("`, `"));
                if let Some(e) = c.in_place_of(&list) {
                    return e;
                }
                Error::new(
                    ErrorCode::MissingElement,
                    c.here(),
                    format!("{list} is required here"),
                )
            }
        }
    }

    /// An attribute of the current element.
    pub(crate) fn attr(&mut self, f: &Fm, sv: Sv) -> Result<Option<AttrRef>, Error> {
        match self {
            Cursor::Tree(c) => c.attr(f, sv),
            Cursor::Stream(c) => {
                if !sv.has(f.mask) {
                    return Ok(None);
                }
                Ok(c.attr(f.name).map(AttrRef::Xml))
            }
        }
    }

    pub(crate) fn require_attr<T>(&self, f: &Fm, v: Option<T>) -> Result<T, Error> {
        v.ok_or_else(|| {
            Error::new(
                ErrorCode::MissingElement,
                self.here(),
                format!("required attribute `{}` is missing", f.name),
            )
        })
    }

    fn here(&self) -> String {
        match self {
            Cursor::Tree(c) => c.t.path(c.parent),
            Cursor::Stream(c) => c.here(),
        }
    }

    fn attr_text(&self, a: AttrRef) -> Result<String, Error> {
        match (self, a) {
            (Cursor::Tree(c), a) => c.attr_text(a).map(String::from),
            (Cursor::Stream(c), AttrRef::Xml(i)) => Ok(String::from(c.attr_text(i))),
            (Cursor::Stream(_), AttrRef::Node(_)) => Ok(String::new()),
        }
    }

    /// Elements whose content the schema version fixes (`KodFormularza`, `WariantFormularza`).
    pub(crate) fn schema_const(&mut self, name: &'static str, sv: Sv) -> Result<(), Error> {
        let c = match self {
            Cursor::Tree(c) => return c.schema_const(name, sv),
            Cursor::Stream(c) => c,
        };
        let Some((text, attrs)) = super::codec::schema_const_value(name, sv) else {
            return Ok(());
        };
        let fm = Fm {
            name,
            json: name,
            mask: 3,
            req: 3,
            min: [1, 1],
            max: [1, 1],
        };
        match c.peek_name()? {
            Some(n) if n == name => {}
            _ => return Err(self.missing(name)),
        }
        let path = c.missing_path(name);
        let id = c.take(&fm);
        let found = c.taken_attrs();
        let invalid = |m: String| Error::new(ErrorCode::InvalidValue, path.clone(), m);
        for (k, v) in &found {
            match attrs.iter().find(|(ek, _)| ek == k) {
                Some((_, ev)) if ev == v => {}
                Some((_, ev)) => {
                    return Err(invalid(format!(
                        "attribute `{k}` must be `{ev}` in {} (found `{v}`)",
                        sv.label()
                    )))
                }
                None => {
                    return Err(Error::new(
                        ErrorCode::UnexpectedElement,
                        path.clone(),
                        format!("attribute `{k}` is not allowed here"),
                    ))
                }
            }
        }
        for (k, v) in attrs {
            if !found.iter().any(|(fk, _)| fk == k) {
                return Err(invalid(format!("attribute `{k}=\"{v}\"` is missing")));
            }
        }
        let t = c.text(id)?;
        if t.trim() != text {
            return Err(invalid(format!(
                "`{name}` must be `{text}` in {} (found `{t}`)",
                sv.label()
            )));
        }
        Ok(())
    }

    /// The text of a leaf element (for the stream: read up to its end tag).
    fn text(&mut self, id: u32) -> Result<Cow<'a, str>, Error> {
        match self {
            Cursor::Tree(c) => {
                c.text(id)?;
                Ok(match &c.t.node(id).text {
                    Cow::Borrowed(b) => Cow::Borrowed(*b),
                    Cow::Owned(o) => Cow::Owned(o.clone()),
                })
            }
            Cursor::Stream(c) => c.text(id),
        }
    }

    fn kind(&self, id: u32) -> Kind {
        match self {
            Cursor::Tree(c) => c.t.node(id).kind,
            Cursor::Stream(_) => Kind::Text,
        }
    }

    /// Error about the leaf `id` just read.
    fn invalid(&self, id: u32, msg: String) -> Error {
        match self {
            Cursor::Tree(c) => c.invalid(id, msg),
            Cursor::Stream(c) => Error::new(ErrorCode::InvalidValue, c.last_leaf_path(), msg),
        }
    }
}

// ---- leaf conversions (tree -> value) ----------------------------------------------------

pub(crate) fn leaf_str(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    rules: [Option<&StrRule>; 2],
) -> Result<String, Error> {
    let kind = c.kind(id);
    let t = c.text(id)?;
    if kind == Kind::Number {
        return Err(c.invalid(id, String::from("must be a string")));
    }
    if let Some(r) = sv.pick(rules) {
        check_str(&t, r).map_err(|m| c.invalid(id, m))?;
    }
    Ok(t.into_owned())
}

pub(crate) fn leaf_dec(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    rules: [Option<&DecRule>; 2],
) -> Result<Decimal, Error> {
    let t = c.text(id)?;
    let d = parse_decimal(&t).map_err(|m| c.invalid(id, m))?;
    if let Some(r) = sv.pick(rules) {
        check_dec(&d, r).map_err(|m| c.invalid(id, m))?;
    }
    Ok(d)
}

fn parse_int(c: &mut Cursor<'_, '_>, id: u32) -> Result<i64, Error> {
    let raw = c.text(id)?;
    let t = raw.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(c.invalid(id, format!("`{t}` is not a whole number")));
    }
    t.strip_prefix('+')
        .unwrap_or(t)
        .parse::<i64>()
        .map_err(|_| c.invalid(id, format!("`{t}` is out of range")))
}

pub(crate) fn leaf_int(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    rules: [Option<&IntRule>; 2],
) -> Result<i64, Error> {
    let v = parse_int(c, id)?;
    if let Some(r) = sv.pick(rules) {
        check_int(v, r).map_err(|m| c.invalid(id, m))?;
    }
    Ok(v)
}

pub(crate) fn leaf_uint(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    rules: [Option<&IntRule>; 2],
) -> Result<u64, Error> {
    let v = parse_int(c, id)?;
    if v < 0 {
        return Err(c.invalid(id, format!("{v} must not be negative")));
    }
    if let Some(r) = sv.pick(rules) {
        check_int(v, r).map_err(|m| c.invalid(id, m))?;
    }
    Ok(v as u64)
}

pub(crate) fn leaf_date(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    rules: [Option<&DateRule>; 2],
) -> Result<Date, Error> {
    let t = c.text(id)?;
    let d: Date = t
        .trim()
        .parse()
        .map_err(|m: &str| c.invalid(id, format!("`{t}`: {m}")))?;
    if let Some(r) = sv.pick(rules) {
        check_date(d, r).map_err(|m| c.invalid(id, m))?;
    }
    Ok(d)
}

pub(crate) fn leaf_datetime(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    rules: [Option<&DateTimeRule>; 2],
) -> Result<DateTime, Error> {
    let t = c.text(id)?;
    let d: DateTime = t
        .trim()
        .parse()
        .map_err(|m: &str| c.invalid(id, format!("`{t}`: {m}")))?;
    if let Some(r) = sv.pick(rules) {
        check_datetime(&d, r).map_err(|m| c.invalid(id, m))?;
    }
    Ok(d)
}

fn enum_from<E: EnumCode + PartialEq>(
    t: &str,
    sv: Sv,
    allowed: [Option<&[E]>; 2],
) -> Result<E, String> {
    let t = t.trim();
    let v = E::from_code(t).ok_or_else(|| format!("`{t}` is not a valid code here"))?;
    check_enum(v, sv, allowed)?;
    Ok(v)
}

pub(crate) fn leaf_enum<E: EnumCode + PartialEq>(
    c: &mut Cursor<'_, '_>,
    id: u32,
    sv: Sv,
    allowed: [Option<&[E]>; 2],
) -> Result<E, Error> {
    let kind = c.kind(id);
    let t = c.text(id)?;
    if kind == Kind::Number && !E::NUMERIC {
        return Err(c.invalid(id, String::from("must be a string code")));
    }
    enum_from(&t, sv, allowed).map_err(|m| c.invalid(id, m))
}

pub(crate) fn attr_enum<E: EnumCode + PartialEq>(
    c: &mut Cursor<'_, '_>,
    a: AttrRef,
    f: &Fm,
    sv: Sv,
    allowed: [Option<&[E]>; 2],
) -> Result<E, Error> {
    let t = c.attr_text(a)?;
    enum_from(&t, sv, allowed).map_err(|m| {
        Error::new(
            ErrorCode::InvalidValue,
            c.here(),
            format!("attribute `{}`: {m}", f.name),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

/// A leaf value on its way out.
pub(crate) enum Lv<'v> {
    Str(&'v str),
    Dec(&'v Decimal),
    Int(i64),
    Date(Date),
    DateTime(&'v str),
    Code(&'static str),
}

/// What the generated emitters write through: the XML writer and the JSON writer.
pub(crate) trait Out {
    fn start(&mut self, name: &'static str) -> Result<(), Error>;
    fn start_attrs(
        &mut self,
        name: &'static str,
        attrs: &[(&'static str, Option<&'static str>)],
    ) -> Result<(), Error>;
    fn end(&mut self) -> Result<(), Error>;
    fn leaf(&mut self, name: &'static str, v: Lv<'_>) -> Result<(), Error>;
    fn list_start(&mut self, name: &'static str) -> Result<(), Error>;
    fn list_end(&mut self) -> Result<(), Error>;
    /// The index of the next list item (for error paths).
    fn item(&mut self, i: usize);
    fn schema_const(&mut self, name: &'static str, sv: Sv) -> Result<(), Error>;
    /// Path of the current element.
    fn path(&self) -> String;
    /// The name an element is written under (XML name, or JSON key).
    fn key(&self, f: &Fm) -> &'static str {
        f.name
    }

    fn path_to(&self, leaf: &str) -> String {
        let mut p = self.path();
        p.push('/');
        p.push_str(leaf);
        p
    }

    fn missing(&self, name: &str) -> Error {
        Error::new(
            ErrorCode::MissingElement,
            self.path_to(name),
            format!("required element `{name}` is missing"),
        )
    }

    fn missing_choice(&self, names: &[&str]) -> Error {
        Error::new(
            ErrorCode::MissingElement,
            self.path(),
            format!("one of `{}` is required here", names.join("`, `")),
        )
    }

    fn not_in_schema(&self, name: &str, sv: Sv) -> Error {
        Error::new(
            ErrorCode::NotInSchema,
            self.path_to(name),
            format!("`{name}` does not exist in {}", sv.label()),
        )
    }

    /// Like `not_in_schema`, naming the variant when one element name has two types.
    fn field_not_in_schema(&self, f: &Fm, sv: Sv) -> Error {
        if f.json != f.name {
            return Error::new(
                ErrorCode::NotInSchema,
                self.path_to(f.name),
                format!(
                    "`{}` in this form (`{}`) does not exist in {}",
                    f.name,
                    f.json,
                    sv.label()
                ),
            );
        }
        self.not_in_schema(f.name, sv)
    }

    /// An optional value: `Some` when it is to be written.
    fn opt_allowed<'v, T>(
        &mut self,
        f: &Fm,
        sv: Sv,
        v: Option<&'v T>,
    ) -> Result<Option<&'v T>, Error> {
        match v {
            Some(x) if sv.has(f.mask) => Ok(Some(x)),
            Some(_) => Err(self.field_not_in_schema(f, sv)),
            None if sv.has(f.mask) && sv.has_all(f.req) => Err(self.missing(f.name)),
            None => Ok(None),
        }
    }

    fn req_allowed(&mut self, f: &Fm, sv: Sv) -> Result<(), Error> {
        if sv.has(f.mask) {
            Ok(())
        } else {
            Err(self.field_not_in_schema(f, sv))
        }
    }

    fn list_allowed(&mut self, f: &Fm, sv: Sv, len: usize) -> Result<bool, Error> {
        if !sv.has(f.mask) {
            return if len == 0 {
                Ok(false)
            } else {
                Err(self.field_not_in_schema(f, sv))
            };
        }
        if let Some(i) = sv.idx() {
            if (len as u64) < u64::from(f.min[i]) {
                return Err(if len == 0 {
                    self.missing(f.name)
                } else {
                    Error::new(
                        ErrorCode::MissingElement,
                        self.path_to(f.name),
                        format!(
                            "`{}` must occur at least {} times in {}",
                            f.name,
                            f.min[i],
                            sv.label()
                        ),
                    )
                });
            }
            if (len as u64) > u64::from(f.max[i]) {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    self.path_to(f.name),
                    format!(
                        "`{}` may occur at most {} times in {} (has {len})",
                        f.name,
                        f.max[i],
                        sv.label()
                    ),
                ));
            }
        }
        Ok(len > 0)
    }
}

fn bad<O: Out>(o: &O, f: &Fm, msg: String) -> Error {
    Error::new(ErrorCode::InvalidValue, o.path_to(f.name), msg)
}

pub(crate) fn out_str<O: Out>(
    o: &mut O,
    f: &Fm,
    v: &str,
    sv: Sv,
    rules: [Option<&StrRule>; 2],
) -> Result<(), Error> {
    if let Some(r) = sv.pick(rules) {
        check_str(v, r).map_err(|m| bad(o, f, m))?;
    }
    o.leaf(o.key(f), Lv::Str(v))
}

pub(crate) fn out_dec<O: Out>(
    o: &mut O,
    f: &Fm,
    v: &Decimal,
    sv: Sv,
    rules: [Option<&DecRule>; 2],
) -> Result<(), Error> {
    if let Some(r) = sv.pick(rules) {
        check_dec(v, r).map_err(|m| bad(o, f, m))?;
        if v.scale() > r.frac {
            // Same value, written with no more decimal places than the schema allows.
            let mut w = *v;
            w.rescale(r.frac);
            return o.leaf(o.key(f), Lv::Dec(&w));
        }
    }
    o.leaf(o.key(f), Lv::Dec(v))
}

pub(crate) fn out_int<O: Out>(
    o: &mut O,
    f: &Fm,
    v: &i64,
    sv: Sv,
    rules: [Option<&IntRule>; 2],
) -> Result<(), Error> {
    if let Some(r) = sv.pick(rules) {
        check_int(*v, r).map_err(|m| bad(o, f, m))?;
    }
    o.leaf(o.key(f), Lv::Int(*v))
}

pub(crate) fn out_uint<O: Out>(
    o: &mut O,
    f: &Fm,
    v: &u64,
    sv: Sv,
    rules: [Option<&IntRule>; 2],
) -> Result<(), Error> {
    let Ok(i) = i64::try_from(*v) else {
        return Err(bad(o, f, format!("{v} is out of range")));
    };
    out_int(o, f, &i, sv, rules)
}

pub(crate) fn out_date<O: Out>(
    o: &mut O,
    f: &Fm,
    v: &Date,
    sv: Sv,
    rules: [Option<&DateRule>; 2],
) -> Result<(), Error> {
    if let Some(r) = sv.pick(rules) {
        check_date(*v, r).map_err(|m| bad(o, f, m))?;
    }
    o.leaf(o.key(f), Lv::Date(*v))
}

pub(crate) fn out_datetime<O: Out>(
    o: &mut O,
    f: &Fm,
    v: &DateTime,
    sv: Sv,
    rules: [Option<&DateTimeRule>; 2],
) -> Result<(), Error> {
    if let Some(r) = sv.pick(rules) {
        check_datetime(v, r).map_err(|m| bad(o, f, m))?;
    }
    o.leaf(o.key(f), Lv::DateTime(v.as_str()))
}

pub(crate) fn out_enum<O: Out, E: EnumCode + PartialEq>(
    o: &mut O,
    f: &Fm,
    v: &E,
    sv: Sv,
    allowed: [Option<&[E]>; 2],
) -> Result<(), Error> {
    check_enum(*v, sv, allowed).map_err(|m| bad(o, f, m))?;
    o.leaf(o.key(f), Lv::Code(v.code()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    static NIP: Rx = Rx::Seq(&[
        Rx::Class(&[('1', '9')], false),
        Rx::Alt(&[
            Rx::Seq(&[
                Rx::Class(&[('0', '9')], false),
                Rx::Class(&[('1', '9')], false),
            ]),
            Rx::Seq(&[
                Rx::Class(&[('1', '9')], false),
                Rx::Class(&[('0', '9')], false),
            ]),
        ]),
        Rx::Rep(&Rx::Class(&[('0', '9')], false), 7, 7),
    ]);

    #[test]
    fn regex_is_anchored_and_backtracks() {
        assert!(NIP.matches("9999999999"));
        assert!(!NIP.matches("0999999999"));
        assert!(!NIP.matches("99999999990"));
        assert!(!NIP.matches("9009999999"));
        static EMAIL: Rx = Rx::Seq(&[
            Rx::Rep(&Rx::Any, 1, u32::MAX),
            Rx::Class(&[('@', '@')], false),
            Rx::Rep(&Rx::Any, 1, u32::MAX),
        ]);
        assert!(EMAIL.matches("a@b"));
        assert!(EMAIL.matches("zażółć@gęślą.pl"));
        assert!(!EMAIL.matches("@b"));
        assert!(!EMAIL.matches("ab"));
    }

    #[test]
    fn decimals_are_strict() {
        assert_eq!(parse_decimal("1666.66").unwrap().to_string(), "1666.66");
        assert_eq!(parse_decimal("-0.50").unwrap().to_string(), "-0.50");
        assert_eq!(parse_decimal("+5").unwrap().to_string(), "5");
        for bad in ["", "1,5", "1e3", "--1", ".", "1.2.3", "NaN", " "] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
        let r = DecRule {
            total: 18,
            frac: 2,
            int_digits: 16,
            min: None,
            max: None,
        };
        assert!(check_dec(&parse_decimal("1.500").unwrap(), &r).is_ok());
        assert!(check_dec(&parse_decimal("1.505").unwrap(), &r).is_err());
        assert!(check_dec(&parse_decimal("12345678901234567").unwrap(), &r).is_err());
    }
}
