//! The invoice model for the FA(3) and FA(2) structures, its JSON form, and the schema
//! versions.
//!
//! One set of types serves both schema versions (see [`SchemaVersion`]): the types hold the
//! union of both, every item's doc comment says where it exists, and emitting checks that the
//! content fits the target version.

pub(crate) mod codec;
pub mod generated;
mod json;
pub(crate) mod rt;
pub mod values;

use alloc::string::String;

pub use generated::*;
pub use values::{Date, DateTime, Decimal, EnumCode};

use crate::error::{Error, ErrorCode};
use rt::{Cursor, Sv};

/// The whole invoice (`Faktura`, the root element).
pub type Invoice = Faktura;

/// A version of the invoice structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchemaVersion {
    /// FA(2) (`http://crd.gov.pl/wzor/2023/06/29/12648/`): accepted only on the TEST environment.
    Fa2,
    /// FA(3) (`http://crd.gov.pl/wzor/2025/06/25/13775/`): the structure for DEMO and production.
    Fa3,
}

impl SchemaVersion {
    /// Both versions, oldest first.
    pub const ALL: [SchemaVersion; 2] = [SchemaVersion::Fa2, SchemaVersion::Fa3];

    /// The XML namespace of the invoice.
    pub const fn namespace(self) -> &'static str {
        match self {
            SchemaVersion::Fa2 => codec::NS_FA2,
            SchemaVersion::Fa3 => codec::NS_FA3,
        }
    }

    /// The system code KSeF uses for the form (`"FA (3)"`), as in `KodFormularza/@kodSystemowy`
    /// and the session's `formCode.systemCode`.
    pub const fn system_code(self) -> &'static str {
        match self {
            SchemaVersion::Fa2 => "FA (2)",
            SchemaVersion::Fa3 => "FA (3)",
        }
    }

    /// The schema version attribute (`"1-0E"`).
    pub const fn schema_version(self) -> &'static str {
        "1-0E"
    }

    /// The version for an XML namespace.
    pub fn from_namespace(ns: &str) -> Option<SchemaVersion> {
        match ns {
            codec::NS_FA2 => Some(SchemaVersion::Fa2),
            codec::NS_FA3 => Some(SchemaVersion::Fa3),
            _ => None,
        }
    }

    /// A short label (`"FA(3)"`).
    pub const fn label(self) -> &'static str {
        match self {
            SchemaVersion::Fa2 => "FA(2)",
            SchemaVersion::Fa3 => "FA(3)",
        }
    }

    pub(crate) fn sv(self) -> Sv {
        match self {
            SchemaVersion::Fa2 => Sv::Fa2,
            SchemaVersion::Fa3 => Sv::Fa3,
        }
    }
}

impl core::fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.label())
    }
}

impl core::str::FromStr for SchemaVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().replace(['(', ')', ' '], "").as_str() {
            "fa3" => Ok(SchemaVersion::Fa3),
            "fa2" => Ok(SchemaVersion::Fa2),
            _ => Err(Error::new(
                ErrorCode::InvalidValue,
                "",
                alloc::format!("unknown schema `{s}` (use fa3 or fa2)"),
            )),
        }
    }
}

impl Faktura {
    /// Read the JSON form.
    pub fn from_json(json: &str) -> Result<Faktura, Error> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorCode::JsonSyntax,
                alloc::format!("line {}, column {}", e.line(), e.column()),
                alloc::format!("{e}"),
            )
        })?;
        Self::from_json_value(&value)
    }

    /// Read the JSON form from a parsed `serde_json::Value`.
    pub fn from_json_value(value: &serde_json::Value) -> Result<Faktura, Error> {
        let tree = json::tree_of(value, "Faktura")?;
        let mut c = Cursor::Tree(rt::TreeCursor::root(&tree, 0));
        let inv = codec::build_root(&mut c, Sv::Json)?;
        c.finish()?;
        Ok(inv)
    }

    /// The JSON form (pretty-printed, keys in schema order).
    pub fn to_json(&self) -> Result<String, Error> {
        let mut o = json::JsonOut::new();
        codec::emit_root(self, &mut o, Sv::Json)?;
        Ok(o.finish())
    }
}

/// The serde form of an invoice is its JSON form (official element names as keys, decimals
/// as strings), so an invoice can sit inside a host's own serde types.
impl Fa {
    /// The net total over every rate bucket: `P_13_1` … `P_13_11` (what KSeF's metadata calls
    /// `netAmount` for a PLN invoice).
    pub fn net_total(&self) -> Decimal {
        [
            self.p_13_1,
            self.p_13_2,
            self.p_13_3,
            self.p_13_4,
            self.p_13_5,
            self.p_13_6_1,
            self.p_13_6_2,
            self.p_13_6_3,
            self.p_13_7,
            self.p_13_8,
            self.p_13_9,
            self.p_13_10,
            self.p_13_11,
        ]
        .iter()
        .flatten()
        .fold(Decimal::ZERO, |a, b| a + *b)
    }

    /// The tax total in the invoice currency: `P_14_1` … `P_14_5`.
    pub fn vat_total(&self) -> Decimal {
        [
            self.p_14_1,
            self.p_14_2,
            self.p_14_3,
            self.p_14_4,
            self.p_14_5,
        ]
        .iter()
        .flatten()
        .fold(Decimal::ZERO, |a, b| a + *b)
    }
}

impl serde::Serialize for Faktura {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_json().map_err(serde::ser::Error::custom)?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(serde::ser::Error::custom)?;
        serde::Serialize::serialize(&value, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Faktura {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
        Faktura::from_json_value(&value).map_err(serde::de::Error::custom)
    }
}
