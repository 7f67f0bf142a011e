//! KSeF context identifiers other than NIP: the internal identifier and the Peppol provider id.

use core::fmt;
use core::str::FromStr;

use super::{ascii, IdError, IdKind, Nip};

/// A KSeF internal identifier (`InternalId`, invoice element `IDWew`): the NIP of the entity,
/// `-`, and 5 digits (`5265877635-12345`, 16 characters; API pattern
/// `[1-9]((\d[1-9])|([1-9]\d))\d{7}-\d{5}`). The NIP part's checksum is checked, as KSeF does
/// for `Podmiot3/IDWew` (`faktury/weryfikacja-faktury.md`).
///
/// The 5-digit part carries no documented checksum: the official C# client checks one
/// (weights 1,3,1,3,... over the 15 digits), but the documentation's own example fails it,
/// so it is not applied here.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InternalId([u8; 16]);

impl InternalId {
    /// Parse `NIP-nnnnn`.
    pub fn parse(s: &str) -> Result<InternalId, IdError> {
        let kind = IdKind::InternalId;
        if s.is_empty() {
            return Err(IdError::Empty { kind });
        }
        let mut text = [0u8; 16];
        let mut n = 0usize;
        for (i, c) in s.chars().enumerate() {
            let ok = if i == 10 {
                c == '-'
            } else {
                c.is_ascii_digit()
            };
            if !ok {
                return Err(IdError::Char {
                    kind,
                    position: i,
                    found: c,
                    expected: if i == 10 { "'-'" } else { "a digit" },
                });
            }
            if n < 16 {
                text[n] = c as u8;
            }
            n += 1;
        }
        if n != 16 {
            return Err(IdError::Length {
                kind,
                expected: "16 characters (NIP-nnnnn)",
                found: n,
            });
        }
        Nip::parse_as(ascii(&text[..10]), kind)?;
        Ok(InternalId(text))
    }

    /// The entity's NIP.
    pub fn nip(&self) -> Nip {
        let mut d = [0u8; 10];
        d.copy_from_slice(&self.0[..10]);
        Nip::from_valid_ascii(d)
    }

    /// The 5 digits after the dash.
    pub fn suffix(&self) -> &str {
        ascii(&self.0[11..])
    }

    /// The whole identifier.
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }
}

/// A Peppol service provider identifier (`PeppolId`): `P`, 2 uppercase letters, 6 digits
/// (`PPL123456`; API pattern `^P[A-Z]{2}[0-9]{6}$`, NOTES §3.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeppolId([u8; 9]);

impl PeppolId {
    /// Parse `P` + 2 letters + 6 digits.
    pub fn parse(s: &str) -> Result<PeppolId, IdError> {
        let kind = IdKind::PeppolId;
        if s.is_empty() {
            return Err(IdError::Empty { kind });
        }
        let mut text = [0u8; 9];
        let mut n = 0usize;
        for (i, c) in s.chars().enumerate() {
            let (ok, expected) = match i {
                0 => (c == 'P', "'P'"),
                1 | 2 => (c.is_ascii_uppercase(), "an uppercase letter"),
                _ => (c.is_ascii_digit(), "a digit"),
            };
            if !ok {
                return Err(IdError::Char {
                    kind,
                    position: i,
                    found: c,
                    expected,
                });
            }
            if n < 9 {
                text[n] = c as u8;
            }
            n += 1;
        }
        if n != 9 {
            return Err(IdError::Length {
                kind,
                expected: "9 characters",
                found: n,
            });
        }
        Ok(PeppolId(text))
    }

    /// The whole identifier.
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }
}

macro_rules! string_like {
    ($t:ident, $name:literal) => {
        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<$t, IdError> {
                $t::parse(s)
            }
        }

        impl TryFrom<&str> for $t {
            type Error = IdError;
            fn try_from(s: &str) -> Result<$t, IdError> {
                $t::parse(s)
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($name, "({})"), self.as_str())
            }
        }
    };
}

string_like!(InternalId, "InternalId");
string_like!(PeppolId, "PeppolId");
