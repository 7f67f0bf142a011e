//! A strict reader over a parsed JSON document: every key must be known, every error names
//! the JSON path (`lines[2].unit_price_net`) and says what was expected.
//!
//! The derived serde readers cannot say where an error is without an extra crate, and
//! `deny_unknown_fields` does not name the place either; the paired inputs are small, so a
//! hand-written walk over `serde_json::Value` is the simplest strict reader.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::str::FromStr;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode};
use crate::model::{Date, DateTime, Decimal};

/// Parse JSON text; a syntax error says the line and column.
pub(crate) fn parse(json: &str, what: &str) -> Result<Value, Error> {
    serde_json::from_str::<Value>(json).map_err(|e| {
        Error::new(
            ErrorCode::JsonSyntax,
            format!("line {}, column {}", e.line(), e.column()),
            format!("{what} is not valid JSON: {e}"),
        )
    })
}

/// `a.b`, or `b` at the root.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        String::from(key)
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON object being read, with the keys read so far.
pub(crate) struct Obj<'v> {
    map: &'v Map<String, Value>,
    path: String,
    code: ErrorCode,
    known: Vec<&'static str>,
}

impl<'v> Obj<'v> {
    /// `v` must be an object.
    pub(crate) fn new(v: &'v Value, path: &str, code: ErrorCode) -> Result<Obj<'v>, Error> {
        match v {
            Value::Object(map) => Ok(Obj {
                map,
                path: String::from(path),
                code,
                known: Vec::new(),
            }),
            other => Err(Error::new(
                code,
                path,
                format!("expected an object, found {}", kind(other)),
            )),
        }
    }

    /// The path of a key of this object.
    pub(crate) fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// An error about `key`.
    pub(crate) fn bad(&self, key: &str, message: impl Into<String>) -> Error {
        Error::new(self.code, self.at(key), message)
    }

    /// The raw value of an optional key (`null` counts as absent).
    pub(crate) fn opt(&mut self, key: &'static str) -> Option<&'v Value> {
        self.known.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// The raw value of a required key.
    pub(crate) fn req(&mut self, key: &'static str) -> Result<&'v Value, Error> {
        self.opt(key)
            .ok_or_else(|| self.bad(key, "required field is missing"))
    }

    /// A required non-empty string.
    pub(crate) fn string(&mut self, key: &'static str) -> Result<String, Error> {
        let v = self.req(key)?;
        self.as_string(key, v)
    }

    /// An optional non-empty string.
    pub(crate) fn opt_string(&mut self, key: &'static str) -> Result<Option<String>, Error> {
        match self.opt(key) {
            Some(v) => Ok(Some(self.as_string(key, v)?)),
            None => Ok(None),
        }
    }

    fn as_string(&self, key: &str, v: &Value) -> Result<String, Error> {
        match v {
            Value::String(s) if s.trim().is_empty() => Err(self.bad(key, "must not be empty")),
            Value::String(s) => Ok(s.clone()),
            other => Err(self.bad(key, format!("expected a string, found {}", kind(other)))),
        }
    }

    /// A value parsed from a required string with `FromStr`.
    pub(crate) fn parsed<T: FromStr>(&mut self, key: &'static str, what: &str) -> Result<T, Error>
    where
        T::Err: core::fmt::Display,
    {
        let s = self.string(key)?;
        s.parse::<T>()
            .map_err(|e| self.bad(key, format!("`{s}` is not {what}: {e}")))
    }

    /// An optional boolean.
    pub(crate) fn opt_bool(&mut self, key: &'static str) -> Result<Option<bool>, Error> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.bad(
                key,
                format!("expected true or false, found {}", kind(other)),
            )),
        }
    }

    /// An optional non-negative integer (a JSON number or a string of digits).
    pub(crate) fn opt_u64(&mut self, key: &'static str) -> Result<Option<u64>, Error> {
        let Some(v) = self.opt(key) else {
            return Ok(None);
        };
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => {
                return Err(self.bad(key, format!("expected an integer, found {}", kind(other))))
            }
        };
        text.parse::<u64>()
            .map(Some)
            .map_err(|_| self.bad(key, format!("`{text}` is not a non-negative integer")))
    }

    /// A required exact decimal (a string or a JSON number, read from its text).
    pub(crate) fn decimal(&mut self, key: &'static str) -> Result<Decimal, Error> {
        let v = self.req(key)?;
        decimal(v, &self.at(key), self.code)
    }

    /// An optional exact decimal.
    pub(crate) fn opt_decimal(&mut self, key: &'static str) -> Result<Option<Decimal>, Error> {
        match self.opt(key) {
            Some(v) => Ok(Some(decimal(v, &self.at(key), self.code)?)),
            None => Ok(None),
        }
    }

    /// A required date `YYYY-MM-DD`.
    pub(crate) fn date(&mut self, key: &'static str) -> Result<Date, Error> {
        self.parsed::<Date>(key, "a date (YYYY-MM-DD)")
    }

    /// An optional date.
    pub(crate) fn opt_date(&mut self, key: &'static str) -> Result<Option<Date>, Error> {
        if self.opt(key).is_none() {
            return Ok(None);
        }
        self.date(key).map(Some)
    }

    /// A required date-time.
    pub(crate) fn date_time(&mut self, key: &'static str) -> Result<DateTime, Error> {
        self.parsed::<DateTime>(key, "a date-time (YYYY-MM-DDThh:mm:ss with a zone)")
    }

    /// A required object.
    pub(crate) fn obj(&mut self, key: &'static str) -> Result<Obj<'v>, Error> {
        let v = self.req(key)?;
        Obj::new(v, &self.at(key), self.code)
    }

    /// An optional object.
    pub(crate) fn opt_obj(&mut self, key: &'static str) -> Result<Option<Obj<'v>>, Error> {
        match self.opt(key) {
            Some(v) => Ok(Some(Obj::new(v, &self.at(key), self.code)?)),
            None => Ok(None),
        }
    }

    /// An optional array (absent = empty), each item with its path `key[i]`.
    pub(crate) fn array(&mut self, key: &'static str) -> Result<Vec<(String, &'v Value)>, Error> {
        match self.opt(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{}[{i}]", self.at(key)), v))
                .collect()),
            Some(other) => Err(self.bad(key, format!("expected an array, found {}", kind(other)))),
        }
    }

    /// An optional array of non-empty strings.
    pub(crate) fn strings(&mut self, key: &'static str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        for (path, v) in self.array(key)? {
            match v {
                Value::String(s) if !s.trim().is_empty() => out.push(s.clone()),
                other => {
                    return Err(Error::new(
                        self.code,
                        path,
                        format!("expected a non-empty string, found {}", kind(other)),
                    ))
                }
            }
        }
        Ok(out)
    }

    /// An optional map of objects keyed by name, in key order.
    pub(crate) fn map_of(
        &mut self,
        key: &'static str,
    ) -> Result<BTreeMap<String, (String, &'v Value)>, Error> {
        let mut out = BTreeMap::new();
        match self.opt(key) {
            None => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    out.insert(k.clone(), (format!("{}.{k}", self.at(key)), v));
                }
            }
            Some(other) => {
                return Err(self.bad(key, format!("expected an object, found {}", kind(other))))
            }
        }
        Ok(out)
    }

    /// Every key of the object was read: an unknown key is an error naming it.
    pub(crate) fn finish(self) -> Result<(), Error> {
        for k in self.map.keys() {
            if !self.known.iter().any(|known| known == k) {
                return Err(Error::new(
                    self.code,
                    self.at(k),
                    format!(
                        "unknown field `{k}` (expected one of: {})",
                        self.known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// An exact decimal from a JSON string or number (never through `f64`: with serde_json's
/// `arbitrary_precision` a number keeps the text it was written with).
pub(crate) fn decimal(v: &Value, path: &str, code: ErrorCode) -> Result<Decimal, Error> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(Error::new(
                code,
                path,
                format!(
                    "expected a decimal (string or number), found {}",
                    kind(other)
                ),
            ))
        }
    };
    let t = text.trim();
    let parsed = if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else if t.is_empty() || t.starts_with('+') {
        None
    } else {
        Decimal::from_str_exact(t).ok()
    };
    parsed.ok_or_else(|| Error::new(code, path, format!("`{text}` is not a decimal number")))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Serialize helpers: decimals, dates and date-times as strings (exact in every language).
pub(crate) mod ser {
    use super::*;
    use serde::Serializer;

    pub(crate) fn decimal<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub(crate) fn opt_decimal<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn date<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub(crate) fn opt_date<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn date_time<S: Serializer>(d: &DateTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }
}

/// `Deserialize` through the strict reader: read a `serde_json::Value`, then `from_value`.
macro_rules! strict_deserialize {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                <$ty>::from_value(&v).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use strict_deserialize;
