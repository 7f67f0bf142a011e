//! The KSeF number: the identifier KSeF gives an accepted invoice.
//!
//! Format (always 35 characters, `numer-ksef.md`):
//!
//! ```text
//! 5265877635-20250826-0100001AF629-AF
//! ^^^^^^^^^^ ^^^^^^^^ ^^^^^^^^^^^^ ^^
//! seller NIP date     technical    CRC-8 of the first 32 characters
//! ```
//!
//! The date is the day KSeF accepted the invoice for processing (not the issue date `P_1`).
//! The technical part and the checksum are upper-case hexadecimal. The checksum is CRC-8
//! with polynomial 0x07, initial value 0, no reflection, no final XOR (CRC-8/SMBUS) over the
//! ASCII bytes of the first 32 characters, dashes included.
//!
//! KSeF 1.0 numbers had 36 characters (`NIP-YYYYMMDD-XXXXXX-XXXXXX-CC`) and a checksum that
//! does not follow this rule; they are refused with [`KsefNumberError::Legacy`].
//!
//! Invoice XML carries KSeF numbers of other invoices (`NrKSeFFaKorygowanej`, ...); the
//! official samples use fictional ones, so the XML reader never checks them with this type.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::error::{Error, ErrorCode};
use crate::model::Date;

/// CRC-8 with polynomial 0x07, initial value 0x00, no reflection and no final XOR
/// (CRC-8/SMBUS) — the checksum of KSeF numbers. `crc8(b"123456789") == 0xF4`.
pub const fn crc8(bytes: &[u8]) -> u8 {
    let mut crc: u8 = 0;
    let mut i = 0;
    while i < bytes.len() {
        crc ^= bytes[i];
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
            bit += 1;
        }
        i += 1;
    }
    crc
}

/// A KSeF number with a valid format, calendar date and CRC-8 checksum.
///
/// ```
/// use ksef::id::KsefNumber;
///
/// let n: KsefNumber = "5265877635-20250826-0100001AF629-AF".parse()?;
/// assert_eq!(n.seller_nip(), "5265877635");
/// assert_eq!(n.date().to_string(), "2025-08-26");
/// assert_eq!(n.technical_part(), "0100001AF629");
/// assert_eq!(n.checksum(), 0xAF);
///
/// let bad = KsefNumber::parse("5265877635-20250826-0100001AF629-AE").unwrap_err();
/// assert_eq!(
///     bad.to_string(),
///     "KSeF number: checksum AE does not match the first 32 characters (they give AF)"
/// );
/// # Ok::<(), ksef::id::KsefNumberError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KsefNumber([u8; KsefNumber::LEN]);

/// Why a KSeF number was refused. Positions are 0-based character indexes (the message
/// counts from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KsefNumberError {
    /// Not 35 characters long.
    Length {
        /// The number of characters found.
        found: usize,
    },
    /// A 36-character KSeF 1.0 number (`NIP-YYYYMMDD-XXXXXX-XXXXXX-CC`): its checksum
    /// follows another rule and cannot be checked.
    Legacy,
    /// A character that is not allowed at its position.
    Char {
        /// 0-based character index.
        position: usize,
        /// The character found.
        found: char,
        /// What is allowed there, in words.
        expected: &'static str,
    },
    /// The eight date digits are not a calendar date.
    Date {
        /// 0-based index of the first date digit.
        position: usize,
    },
    /// The checksum does not match the first 32 characters.
    Checksum {
        /// The checksum the first 32 characters give.
        expected: u8,
        /// The checksum written in the number.
        found: u8,
    },
}

impl fmt::Display for KsefNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KSeF number: ")?;
        match self {
            KsefNumberError::Length { found } => {
                write!(f, "expected 35 characters, found {found}")
            }
            KsefNumberError::Legacy => f.write_str(
                "a 36-character KSeF 1.0 number (NIP-YYYYMMDD-XXXXXX-XXXXXX-CC); KSeF 2.0 \
                 numbers have 35 characters and their checksum cannot be checked on this one",
            ),
            KsefNumberError::Char {
                position,
                found,
                expected,
            } => write!(
                f,
                "character {} is {found:?}, expected {expected}",
                position + 1
            ),
            KsefNumberError::Date { position } => write!(
                f,
                "characters {}-{} are not a calendar date (YYYYMMDD)",
                position + 1,
                position + 8
            ),
            KsefNumberError::Checksum { expected, found } => write!(
                f,
                "checksum {found:02X} does not match the first 32 characters (they give \
                 {expected:02X})"
            ),
        }
    }
}

impl core::error::Error for KsefNumberError {}

impl KsefNumberError {
    /// The error as a [`crate::Error`] (code [`ErrorCode::KsefNumber`]) at `path`.
    pub fn at(&self, path: impl Into<String>) -> Error {
        Error::new(ErrorCode::KsefNumber, path, alloc::format!("{self}"))
    }
}

impl From<KsefNumberError> for Error {
    fn from(e: KsefNumberError) -> Error {
        e.at("")
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Where the dashes are.
const DASHES: [usize; 3] = [10, 19, 32];

/// What each position allows (for messages).
fn expected_at(i: usize) -> &'static str {
    match i {
        10 | 19 | 32 => "'-'",
        0..=9 => "a digit (seller NIP)",
        11..=18 => "a digit (date YYYYMMDD)",
        20..=31 => "an upper-case hexadecimal digit 0-9 A-F (technical part)",
        _ => "an upper-case hexadecimal digit 0-9 A-F (checksum)",
    }
}

fn allowed_at(i: usize, b: u8) -> bool {
    match i {
        10 | 19 | 32 => b == b'-',
        0..=18 => b.is_ascii_digit(),
        _ => b.is_ascii_digit() || (b'A'..=b'F').contains(&b),
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// `NIP-YYYYMMDD-XXXXXX-XXXXXX-CC` (KSeF 1.0), format only.
fn is_legacy(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            10 | 19 | 26 | 33 => c == b'-',
            0..=18 => c.is_ascii_digit(),
            _ => c.is_ascii_hexdigit(),
        })
}

impl KsefNumber {
    /// The length of a KSeF number (KSeF 2.0).
    pub const LEN: usize = 35;

    /// Parse and check a KSeF number: exactly 35 characters, digits and upper-case hex at
    /// their places, a calendar date, and a matching CRC-8. Allocation-free.
    pub fn parse(s: &str) -> Result<KsefNumber, KsefNumberError> {
        let b = s.as_bytes();
        if b.len() != Self::LEN {
            if is_legacy(s) {
                return Err(KsefNumberError::Legacy);
            }
            // Point at a bad character before complaining about the length when the input
            // is clearly something else.
            for (i, c) in s.chars().enumerate().take(Self::LEN) {
                if !c.is_ascii() || !allowed_at(i, c as u8) {
                    return Err(KsefNumberError::Char {
                        position: i,
                        found: c,
                        expected: expected_at(i),
                    });
                }
            }
            return Err(KsefNumberError::Length {
                found: s.chars().count(),
            });
        }
        let mut out = [0u8; Self::LEN];
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii() || !allowed_at(i, c as u8) {
                let expected = match c {
                    'a'..='f' if i > 19 && !DASHES.contains(&i) => {
                        "an upper-case hexadecimal digit (lower case is not allowed)"
                    }
                    _ => expected_at(i),
                };
                return Err(KsefNumberError::Char {
                    position: i,
                    found: c,
                    expected,
                });
            }
        }
        out.copy_from_slice(b);
        let n = KsefNumber(out);
        if n.date_parts().is_none() {
            return Err(KsefNumberError::Date { position: 11 });
        }
        let expected = crc8(&out[..32]);
        let found = n.checksum();
        if expected != found {
            return Err(KsefNumberError::Checksum { expected, found });
        }
        Ok(n)
    }

    /// The KSeF number whose first 32 characters are `first32` (`NIP-YYYYMMDD-XXXXXXXXXXXX`):
    /// the checksum is computed and appended. For tests and simulators.
    pub fn from_prefix(first32: &str) -> Result<KsefNumber, KsefNumberError> {
        let b = first32.as_bytes();
        for (i, c) in first32.chars().enumerate().take(32) {
            if !c.is_ascii() || !allowed_at(i, c as u8) {
                return Err(KsefNumberError::Char {
                    position: i,
                    found: c,
                    expected: expected_at(i),
                });
            }
        }
        if b.len() != 32 {
            return Err(KsefNumberError::Length {
                found: first32.chars().count() + 3,
            });
        }
        let mut out = [0u8; Self::LEN];
        out[..32].copy_from_slice(b);
        let crc = crc8(b);
        out[32] = b'-';
        out[33] = HEX_UPPER[usize::from(crc >> 4)];
        out[34] = HEX_UPPER[usize::from(crc & 0x0F)];
        Self::parse(ascii(&out))
    }

    /// The number as text (35 ASCII characters).
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }

    /// The seller's NIP (the first 10 digits). It is not checked against the NIP checksum:
    /// the TEST environment accepts invoices with any 10-digit seller NIP. Use
    /// [`crate::id::Nip::parse`] on it for that.
    pub fn seller_nip(&self) -> &str {
        ascii(&self.0[..10])
    }

    /// The day KSeF accepted the invoice for processing (characters 12-19).
    pub fn date(&self) -> Date {
        self.date_parts().unwrap_or_default()
    }

    /// The 12 hexadecimal characters of the technical part.
    pub fn technical_part(&self) -> &str {
        ascii(&self.0[20..32])
    }

    /// The CRC-8 checksum (the last two characters).
    pub fn checksum(&self) -> u8 {
        hex_value(self.0[33]) << 4 | hex_value(self.0[34])
    }

    fn date_parts(&self) -> Option<Date> {
        let d = &self.0[11..19];
        let num = |r: &[u8]| r.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
        let year = u16::try_from(num(&d[..4])).ok()?;
        let month = u8::try_from(num(&d[4..6])).ok()?;
        let day = u8::try_from(num(&d[6..8])).ok()?;
        Date::new(year, month, day)
    }
}

/// ASCII bytes as text (always valid UTF-8 here by construction).
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

impl FromStr for KsefNumber {
    type Err = KsefNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for KsefNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for KsefNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KsefNumber({})", self.as_str())
    }
}

impl AsRef<str> for KsefNumber {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn crc8_check_value() {
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc8(b""), 0);
        assert_eq!(crc8(b"5265877635-20250826-0100001AF629"), 0xAF);
    }

    #[test]
    fn parts() {
        let n = KsefNumber::parse("5555555555-20250828-010080615740-E4").unwrap();
        assert_eq!(n.seller_nip(), "5555555555");
        assert_eq!(n.date(), Date::new(2025, 8, 28).unwrap());
        assert_eq!(n.technical_part(), "010080615740");
        assert_eq!(n.checksum(), 0xE4);
        assert_eq!(n.to_string(), "5555555555-20250828-010080615740-E4");
        assert_eq!(
            format!("{n:?}"),
            "KsefNumber(5555555555-20250828-010080615740-E4)"
        );
        assert_eq!(
            KsefNumber::from_prefix("5555555555-20250828-010080615740").unwrap(),
            n
        );
    }

    #[test]
    fn reasons() {
        use KsefNumberError as E;
        let p = KsefNumber::parse;
        assert_eq!(p(""), Err(E::Length { found: 0 }));
        assert_eq!(
            p("5265877635-20250826-0100001AF629-AF0"),
            Err(E::Length { found: 36 })
        );
        assert_eq!(
            p("5265877635-20250826-0100001AF629"),
            Err(E::Length { found: 32 })
        );
        assert_eq!(p("9999999999-20230425-08927A-FFCF8F-3E"), Err(E::Legacy));
        assert!(matches!(
            p("5265877635-20250826-0100001af629-AF"),
            Err(E::Char {
                position: 27,
                found: 'a',
                ..
            })
        ));
        assert!(matches!(
            p("5265877635_20250826-0100001AF629-AF"),
            Err(E::Char { position: 10, .. })
        ));
        assert!(matches!(
            p("5265877635-2025O826-0100001AF629-AF"),
            Err(E::Char { position: 15, .. })
        ));
        assert!(matches!(
            p("526587763ą-20250826-0100001AF629-AF"),
            Err(E::Char {
                position: 9,
                found: 'ą',
                ..
            })
        ));
        let bad_date = KsefNumber::from_prefix("5265877635-20250230-0100001AF629");
        assert_eq!(bad_date, Err(E::Date { position: 11 }));
        assert_eq!(
            p("5265877635-20250826-0100001AF629-AE"),
            Err(E::Checksum {
                expected: 0xAF,
                found: 0xAE
            })
        );
        let e: Error = p("x").unwrap_err().into();
        assert_eq!(e.code(), ErrorCode::KsefNumber);
        assert_eq!(
            e.message(),
            "KSeF number: character 1 is 'x', expected a digit (seller NIP)"
        );
    }
}
