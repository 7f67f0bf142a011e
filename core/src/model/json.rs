//! The JSON form of the model: keys are the official element names, repeated elements are
//! arrays, choices are flattened exactly like in the XML. Decimals are written as strings
//! (exact in every language); on input, strings and JSON numbers are both read exactly.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use core::fmt::Write as _;

use serde_json::Value;

use super::rt::{Kind, Lv, Out, Sv, Tree, NONE};
use crate::error::{Error, ErrorCode};
use crate::xml::writer::PathStack;

/// Read a JSON document into an (unordered) element tree rooted at `root_name`.
pub(crate) fn tree_of<'v>(v: &'v Value, root_name: &'static str) -> Result<Tree<'v>, Error> {
    let mut t = Tree::new(256);
    let Value::Object(_) = v else {
        return Err(Error::new(
            ErrorCode::JsonSyntax,
            root_name,
            "the invoice must be a JSON object",
        ));
    };
    let root = t.push(root_name, NONE, NONE);
    t.nodes[root as usize].kind = Kind::Object;
    add_children(&mut t, root, v)?;
    Ok(t)
}

fn add_children<'v>(t: &mut Tree<'v>, parent: u32, v: &'v Value) -> Result<(), Error> {
    let Value::Object(map) = v else { return Ok(()) };
    let mut prev = NONE;
    for (k, val) in map {
        match val {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    if let Value::Array(_) = item {
                        let id = t.push(k, parent, prev);
                        return Err(Error::new(
                            ErrorCode::InvalidValue,
                            t.path(id),
                            "nested arrays are not part of the invoice form",
                        ));
                    }
                    if item.is_null() {
                        continue;
                    }
                    let id = t.push(k, parent, prev);
                    prev = id;
                    t.nodes[id as usize].array = true;
                    fill(t, id, item)?;
                }
            }
            _ => {
                let id = t.push(k, parent, prev);
                prev = id;
                fill(t, id, val)?;
            }
        }
    }
    Ok(())
}

fn fill<'v>(t: &mut Tree<'v>, id: u32, v: &'v Value) -> Result<(), Error> {
    match v {
        Value::String(s) => t.nodes[id as usize].text = Cow::Borrowed(s.as_str()),
        Value::Number(_) => {
            let n = &mut t.nodes[id as usize];
            n.kind = Kind::Number;
            // with serde_json's arbitrary_precision the text is exactly what was written
            n.text = Cow::Owned(v_num(v));
        }
        Value::Object(_) => {
            t.nodes[id as usize].kind = Kind::Object;
            add_children(t, id, v)?;
        }
        Value::Bool(_) => t.nodes[id as usize].kind = Kind::Other,
        Value::Null | Value::Array(_) => t.nodes[id as usize].kind = Kind::Other,
    }
    Ok(())
}

fn v_num(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("{n}"),
        _ => String::new(),
    }
}

/// Pretty JSON writer (two-space indent) for the generated emitters.
pub(crate) struct JsonOut {
    pub buf: String,
    path: PathStack,
    /// For each open container: (is_array, has_items).
    stack: [(bool, bool); 40],
    depth: usize,
}

impl JsonOut {
    pub(crate) fn new() -> Self {
        let mut o = JsonOut {
            buf: String::with_capacity(4096),
            path: PathStack::new(),
            stack: [(false, false); 40],
            depth: 0,
        };
        o.buf.push('{');
        o.stack[0] = (false, false);
        o.depth = 1;
        // the root object is the invoice itself; its name only appears in error paths
        let _ = o.path.push("Faktura");
        o
    }

    pub(crate) fn finish(mut self) -> String {
        self.buf.push_str("\n}\n");
        self.buf
    }

    fn sep(&mut self, key: &str) {
        let (is_array, has) = self.stack[self.depth - 1];
        if has {
            self.buf.push(',');
        }
        self.stack[self.depth - 1].1 = true;
        self.buf.push('\n');
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
        if !is_array {
            string(&mut self.buf, key);
            self.buf.push_str(": ");
        }
    }

    fn open(&mut self, array: bool) -> Result<(), Error> {
        if self.depth == self.stack.len() {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                self.path.render(),
                "nesting too deep",
            ));
        }
        self.buf.push(if array { '[' } else { '{' });
        self.stack[self.depth] = (array, false);
        self.depth += 1;
        Ok(())
    }

    fn close(&mut self) {
        self.depth -= 1;
        let (array, has) = self.stack[self.depth];
        if has {
            self.buf.push('\n');
            for _ in 0..self.depth {
                self.buf.push_str("  ");
            }
        }
        self.buf.push(if array { ']' } else { '}' });
    }
}

/// Write a JSON string literal.
pub(crate) fn string(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

impl Out for JsonOut {
    fn start(&mut self, name: &'static str) -> Result<(), Error> {
        self.sep(name);
        self.open(false)?;
        self.path.push(name)
    }

    fn start_attrs(
        &mut self,
        name: &'static str,
        attrs: &[(&'static str, Option<&'static str>)],
    ) -> Result<(), Error> {
        self.start(name)?;
        for (k, v) in attrs {
            if let Some(v) = v {
                self.sep(k);
                string(&mut self.buf, v);
            }
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        self.close();
        self.path.pop();
        Ok(())
    }

    fn leaf(&mut self, name: &'static str, v: Lv<'_>) -> Result<(), Error> {
        self.sep(name);
        match v {
            Lv::Str(s) | Lv::DateTime(s) | Lv::Code(s) => string(&mut self.buf, s),
            Lv::Dec(d) => {
                let _ = write!(self.buf, "\"{d}\"");
            }
            Lv::Int(i) => {
                let _ = write!(self.buf, "{i}");
            }
            Lv::Date(d) => {
                let _ = write!(self.buf, "\"{d}\"");
            }
        }
        self.path.clear_index();
        Ok(())
    }

    fn list_start(&mut self, name: &'static str) -> Result<(), Error> {
        self.sep(name);
        self.open(true)
    }

    fn list_end(&mut self) -> Result<(), Error> {
        self.close();
        self.path.clear_index();
        Ok(())
    }

    fn item(&mut self, i: usize) {
        self.path.set_index(i);
    }

    fn schema_const(&mut self, _name: &'static str, _sv: Sv) -> Result<(), Error> {
        Ok(())
    }

    fn path(&self) -> String {
        self.path.render()
    }

    fn key(&self, f: &super::rt::Fm) -> &'static str {
        f.json
    }
}
