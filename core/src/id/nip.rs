//! NIP, the Polish tax identification number.

use core::fmt;
use core::str::FromStr;

use super::{ascii, IdError, IdKind};

/// The NIP weights for digits 1 to 9.
const WEIGHTS: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];

/// A valid NIP (Polish tax identification number): 10 digits matching the XSD pattern
/// `[1-9]((\d[1-9])|([1-9]\d))\d{7}` whose weighted sum (weights 6,5,7,2,3,4,5,6,7 on digits
/// 1-9) modulo 11 equals the 10th digit (a sum of 10 modulo 11 is never valid).
///
/// ```
/// use ksef::id::Nip;
/// let nip = Nip::parse("5265877635")?;
/// assert_eq!(nip.to_string(), "5265877635");
/// assert_eq!(Nip::from_prefix("526587763")?, nip);
/// # Ok::<(), ksef::id::IdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nip([u8; 10]);

/// The check digit of 9 digit values (0-9), `None` when the weighted sum is 10 modulo 11.
fn check_digit(d: &[u8]) -> Option<u8> {
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(&x, w)| u32::from(x) * w).sum();
    match sum % 11 {
        10 => None,
        // `sum % 11` is below 10 here.
        r => Some(r as u8),
    }
}

impl Nip {
    /// Parse exactly 10 digits, nothing else (no separators, no `PL` prefix, no spaces).
    pub fn parse(s: &str) -> Result<Nip, IdError> {
        Self::parse_as(s, IdKind::Nip)
    }

    /// Parse a NIP written with `-` or spaces between the digits (`526-587-76-35`,
    /// `526 587 76 35`); any other character is refused. Positions in errors count in `s`.
    pub fn parse_lenient(s: &str) -> Result<Nip, IdError> {
        let kind = IdKind::Nip;
        let mut digits = [0u8; 10];
        let mut positions = [0usize; 10];
        let mut n = 0usize;
        for (i, c) in s.chars().enumerate() {
            match c {
                '-' | ' ' => {}
                '0'..='9' => {
                    if n < 10 {
                        digits[n] = c as u8;
                        positions[n] = i;
                    }
                    n += 1;
                }
                _ => {
                    return Err(IdError::Char {
                        kind,
                        position: i,
                        found: c,
                        expected: "a digit, '-' or ' '",
                    })
                }
            }
        }
        match n {
            0 => Err(IdError::Empty { kind }),
            10 => Self::from_ascii(digits, &positions, kind),
            _ => Err(IdError::Length {
                kind,
                expected: "10 digits",
                found: n,
            }),
        }
    }

    /// The NIP that starts with these 9 digits (the check digit is computed); an error when
    /// no check digit fits (weighted sum 10 modulo 11) or the digits break the XSD pattern.
    pub fn from_prefix(first_nine: &str) -> Result<Nip, IdError> {
        let kind = IdKind::Nip;
        let b = first_nine.as_bytes();
        if first_nine.is_empty() {
            return Err(IdError::Empty { kind });
        }
        for (i, c) in first_nine.chars().enumerate() {
            if !c.is_ascii_digit() {
                return Err(IdError::Char {
                    kind,
                    position: i,
                    found: c,
                    expected: "a digit",
                });
            }
        }
        if b.len() != 9 {
            return Err(IdError::Length {
                kind,
                expected: "9 digits",
                found: b.len(),
            });
        }
        let mut values = [0u8; 9];
        for (v, &c) in values.iter_mut().zip(b) {
            *v = c - b'0';
        }
        let Some(check) = check_digit(&values) else {
            return Err(IdError::ChecksumTen { kind, position: 9 });
        };
        let mut digits = [0u8; 10];
        digits[..9].copy_from_slice(b);
        digits[9] = b'0' + check;
        Self::from_ascii(digits, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], kind)
    }

    /// Parse for a composite identifier: errors name `kind`, positions count from the start.
    pub(crate) fn parse_as(s: &str, kind: IdKind) -> Result<Nip, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty { kind });
        }
        let mut digits = [0u8; 10];
        let mut n = 0usize;
        for (i, c) in s.chars().enumerate() {
            if !c.is_ascii_digit() {
                return Err(IdError::Char {
                    kind,
                    position: i,
                    found: c,
                    expected: "a digit",
                });
            }
            if n < 10 {
                digits[n] = c as u8;
            }
            n += 1;
        }
        if n != 10 {
            return Err(IdError::Length {
                kind,
                expected: "10 digits",
                found: n,
            });
        }
        Self::from_ascii(digits, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], kind)
    }

    /// Check 10 ASCII digits (`positions`: where each digit was in the input).
    fn from_ascii(digits: [u8; 10], positions: &[usize; 10], kind: IdKind) -> Result<Nip, IdError> {
        let mut v = [0u8; 10];
        for (x, &c) in v.iter_mut().zip(&digits) {
            *x = c - b'0';
        }
        if v[0] == 0 {
            return Err(IdError::Char {
                kind,
                position: positions[0],
                found: '0',
                expected: "a digit 1-9 (a NIP does not start with 0)",
            });
        }
        if v[1] == 0 && v[2] == 0 {
            return Err(IdError::Pattern {
                kind,
                position: positions[1],
                reason: "the 2nd and 3rd digits of a NIP cannot both be 0",
            });
        }
        match check_digit(&v[..9]) {
            None => Err(IdError::ChecksumTen {
                kind,
                position: positions[9],
            }),
            Some(c) if c != v[9] => Err(IdError::Checksum {
                kind,
                position: positions[9],
                expected: c,
                found: v[9],
            }),
            Some(_) => Ok(Nip(digits)),
        }
    }

    /// From 10 ASCII digits already checked (the NIP part of a parsed composite identifier).
    pub(crate) fn from_valid_ascii(digits: [u8; 10]) -> Nip {
        Nip(digits)
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }
}

impl FromStr for Nip {
    type Err = IdError;
    /// Same as [`Nip::parse`] (strict).
    fn from_str(s: &str) -> Result<Nip, IdError> {
        Nip::parse(s)
    }
}

impl TryFrom<&str> for Nip {
    type Error = IdError;
    fn try_from(s: &str) -> Result<Nip, IdError> {
        Nip::parse(s)
    }
}

impl AsRef<str> for Nip {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nip({})", self.as_str())
    }
}
