//! `Date` as `YYYY-MM-DD` text in JSON (serde) and CBOR (minicbor) snapshots.

use crate::model::Date;

/// serde: `Date` ⇄ `"YYYY-MM-DD"`.
pub(crate) mod date_serde {
    use super::Date;
    use alloc::string::String;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        let b = d.to_bytes();
        s.serialize_str(core::str::from_utf8(&b).map_err(serde::ser::Error::custom)?)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }
}

/// serde: `Option<Date>` ⇄ `"YYYY-MM-DD"` or `null`.
pub(crate) mod opt_date_serde {
    use super::Date;
    use alloc::string::String;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::date_serde::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom("expected a date YYYY-MM-DD")),
        }
    }
}

/// minicbor: `Date` ⇄ text `YYYY-MM-DD`.
pub(crate) mod date_cbor {
    use super::Date;
    use minicbor::decode::Error as DecErr;
    use minicbor::encode::{Error as EncErr, Write};
    use minicbor::{Decoder, Encoder};

    pub(crate) fn encode<Ctx, W: Write>(
        d: &Date,
        e: &mut Encoder<W>,
        _ctx: &mut Ctx,
    ) -> Result<(), EncErr<W::Error>> {
        let b = d.to_bytes();
        let s = core::str::from_utf8(&b).map_err(|_| EncErr::message("date"))?;
        e.str(s)?;
        Ok(())
    }

    pub(crate) fn decode<Ctx>(d: &mut Decoder<'_>, _ctx: &mut Ctx) -> Result<Date, DecErr> {
        d.str()?
            .parse()
            .map_err(|_| DecErr::message("expected a date YYYY-MM-DD"))
    }
}

/// minicbor: `Option<Date>` ⇄ text or null.
pub(crate) mod opt_date_cbor {
    use super::Date;
    use minicbor::data::Type;
    use minicbor::decode::Error as DecErr;
    use minicbor::encode::{Error as EncErr, Write};
    use minicbor::{Decoder, Encoder};

    pub(crate) fn encode<Ctx, W: Write>(
        d: &Option<Date>,
        e: &mut Encoder<W>,
        ctx: &mut Ctx,
    ) -> Result<(), EncErr<W::Error>> {
        match d {
            Some(d) => super::date_cbor::encode(d, e, ctx),
            None => {
                e.null()?;
                Ok(())
            }
        }
    }

    /// A missing field decodes as `None` (fields added in later builds).
    pub(crate) fn nil() -> Option<Option<Date>> {
        Some(None)
    }

    /// `None` may be left out.
    pub(crate) fn is_nil(d: &Option<Date>) -> bool {
        d.is_none()
    }

    pub(crate) fn decode<Ctx>(d: &mut Decoder<'_>, ctx: &mut Ctx) -> Result<Option<Date>, DecErr> {
        if d.datatype()? == Type::Null {
            d.null()?;
            return Ok(None);
        }
        super::date_cbor::decode(d, ctx).map(Some)
    }
}
