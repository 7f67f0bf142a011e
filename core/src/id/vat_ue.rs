//! EU VAT numbers and the `NIP-VAT UE` composite context identifier.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use super::{IdError, IdKind, Nip};
use crate::model::KodKrajuUe;

/// A valid EU VAT number as the invoice carries it (`Podmiot2/KodUE` + `NrVatUE`): a country
/// code of the EU list `TKodyKrajowUE` (which writes Greece as `EL` and Northern Ireland as
/// `XI`) followed by 1 to 12 characters matching the XSD type `TNrVatUE`,
/// `(\d|[A-Z]|\+|\*){1,12}`.
///
/// The XSD does not check the per-country formats; [`VatUeId::check_country_format`] does
/// (KSeF applies them to [`NipVatUe`]).
///
/// ```
/// use ksef::id::VatUeId;
/// use ksef::model::KodKrajuUe;
/// let v = VatUeId::parse("DE123456789")?;
/// assert_eq!(v.country(), KodKrajuUe::De);
/// assert_eq!(v.number(), "123456789");
/// assert!(v.check_country_format().is_ok());
/// # Ok::<(), ksef::id::IdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VatUeId {
    country: KodKrajuUe,
    text: String,
}

impl VatUeId {
    /// Parse the country code and number written together (`ATU12345678`).
    pub fn parse(s: &str) -> Result<VatUeId, IdError> {
        let kind = IdKind::VatUe;
        if s.is_empty() {
            return Err(IdError::Empty { kind });
        }
        let mut chars = s.chars();
        for position in 0..2 {
            match chars.next() {
                Some(c) if c.is_ascii_uppercase() => {}
                Some(c) => {
                    return Err(IdError::Char {
                        kind,
                        position,
                        found: c,
                        expected: "an uppercase letter of the country code",
                    })
                }
                None => {
                    return Err(IdError::Length {
                        kind,
                        expected: "3 to 14 characters",
                        found: s.chars().count(),
                    })
                }
            }
        }
        // The first two characters are ASCII, so byte 2 is a character boundary.
        let (code, number) = s.split_at(2);
        let Some(country) = KodKrajuUe::from_code(code) else {
            return Err(IdError::Country {
                kind,
                found: String::from(code),
            });
        };
        check_number(number, kind, 2)?;
        Ok(VatUeId {
            country,
            text: String::from(s),
        })
    }

    /// A number for a country given apart (as in `KodUE` + `NrVatUE`).
    pub fn new(country: KodKrajuUe, number: &str) -> Result<VatUeId, IdError> {
        check_number(number, IdKind::VatUe, 0)?;
        let mut text = String::with_capacity(2 + number.len());
        text.push_str(country.code());
        text.push_str(number);
        Ok(VatUeId { country, text })
    }

    /// The country (the VAT prefix).
    pub fn country(&self) -> KodKrajuUe {
        self.country
    }

    /// The number without the country prefix.
    pub fn number(&self) -> &str {
        self.text.get(2..).unwrap_or_default()
    }

    /// Country code and number (`ATU12345678`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Check the number against its country's format (VIES formats as in the KSeF
    /// `NipVatUe` pattern of the API and the auth schema: `ATU\d{8}`, `DE\d{9}`, ...). `PL`
    /// has no format there: a Polish number is a NIP.
    pub fn check_country_format(&self) -> Result<(), IdError> {
        let (alternatives, expected) = country_format(self.country);
        let number = self.number().as_bytes();
        if alternatives.iter().any(|alt| matches(number, alt)) {
            Ok(())
        } else {
            Err(IdError::CountryFormat {
                kind: IdKind::VatUe,
                country: self.country.code(),
                expected,
            })
        }
    }
}

/// `(\d|[A-Z]|\+|\*){1,12}`; positions in errors are moved by `offset`.
fn check_number(number: &str, kind: IdKind, offset: usize) -> Result<(), IdError> {
    let mut n = 0usize;
    for (i, c) in number.chars().enumerate() {
        if !(c.is_ascii_digit() || c.is_ascii_uppercase() || c == '+' || c == '*') {
            return Err(IdError::Char {
                kind,
                position: offset + i,
                found: c,
                expected: "a digit, an uppercase letter, '+' or '*'",
            });
        }
        n += 1;
    }
    if n == 0 || n > 12 {
        return Err(IdError::Length {
            kind,
            expected: if offset == 0 {
                "1 to 12 characters"
            } else {
                "3 to 14 characters"
            },
            found: n + offset,
        });
    }
    Ok(())
}

impl FromStr for VatUeId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<VatUeId, IdError> {
        VatUeId::parse(s)
    }
}

impl TryFrom<&str> for VatUeId {
    type Error = IdError;
    fn try_from(s: &str) -> Result<VatUeId, IdError> {
        VatUeId::parse(s)
    }
}

impl AsRef<str> for VatUeId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for VatUeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for VatUeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VatUeId({})", self.as_str())
    }
}

/// The KSeF composite context identifier `NIP-VAT UE`: the NIP of a Polish entity, `-`, and
/// the EU VAT number (country code included) of its EU partner, e.g.
/// `5265877635-ATU12345678` (`docs/ksef-docs/auth/context-identifier-nip-vat-ue.md`). The
/// NIP's checksum and the partner number's per-country format are checked (the API's
/// `NipVatUe` pattern).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NipVatUe {
    nip: Nip,
    vat_ue: VatUeId,
    text: String,
}

impl NipVatUe {
    /// Parse `NIP-<country><number>`.
    pub fn parse(s: &str) -> Result<NipVatUe, IdError> {
        let kind = IdKind::NipVatUe;
        if s.is_empty() {
            return Err(IdError::Empty { kind });
        }
        let Some(dash) = s.find('-') else {
            return Err(IdError::Pattern {
                kind,
                position: s.chars().count().min(10),
                reason: "expected '-' between the NIP and the EU VAT number",
            });
        };
        let (nip_text, rest) = s.split_at(dash);
        let nip = Nip::parse_as(nip_text, kind)?;
        // `nip_text` is 10 ASCII digits here, the dash one more character.
        let vat_text = rest.get(1..).unwrap_or_default();
        let vat_ue = VatUeId::parse(vat_text).map_err(|e| e.within(kind, 11))?;
        vat_ue
            .check_country_format()
            .map_err(|e| e.within(kind, 11))?;
        Ok(NipVatUe {
            nip,
            vat_ue,
            text: String::from(s),
        })
    }

    /// From the two parts.
    pub fn new(nip: Nip, vat_ue: VatUeId) -> Result<NipVatUe, IdError> {
        vat_ue
            .check_country_format()
            .map_err(|e| e.within(IdKind::NipVatUe, 11))?;
        let mut text = String::with_capacity(11 + vat_ue.as_str().len());
        text.push_str(nip.as_str());
        text.push('-');
        text.push_str(vat_ue.as_str());
        Ok(NipVatUe { nip, vat_ue, text })
    }

    /// The Polish entity's NIP.
    pub fn nip(&self) -> Nip {
        self.nip
    }

    /// The EU partner's VAT number.
    pub fn vat_ue(&self) -> &VatUeId {
        &self.vat_ue
    }

    /// The whole identifier.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for NipVatUe {
    type Err = IdError;
    fn from_str(s: &str) -> Result<NipVatUe, IdError> {
        NipVatUe::parse(s)
    }
}

impl TryFrom<&str> for NipVatUe {
    type Error = IdError;
    fn try_from(s: &str) -> Result<NipVatUe, IdError> {
        NipVatUe::parse(s)
    }
}

impl AsRef<str> for NipVatUe {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for NipVatUe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NipVatUe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NipVatUe({})", self.as_str())
    }
}

// ---- per-country formats: a tiny matcher for the `NipVatUe` pattern of the KSeF API ----

/// A character class of the country formats.
#[derive(Clone, Copy)]
enum Class {
    /// `\d`
    Digit,
    /// `[A-Z]`
    Upper,
    /// `[A-Z0-9]`
    UpperDigit,
    /// `[A-Z0-9+*]`
    UpperDigitPlusStar,
    /// `[01]`
    ZeroOne,
    /// One literal character.
    Lit(u8),
}

/// A class repeated `min..=max` times.
#[derive(Clone, Copy)]
struct Tok(Class, u8, u8);

const fn d(min: u8, max: u8) -> Tok {
    Tok(Class::Digit, min, max)
}
const fn u(n: u8) -> Tok {
    Tok(Class::Upper, n, n)
}
const fn lit(c: u8) -> Tok {
    Tok(Class::Lit(c), 1, 1)
}

fn class_ok(class: Class, b: u8) -> bool {
    match class {
        Class::Digit => b.is_ascii_digit(),
        Class::Upper => b.is_ascii_uppercase(),
        Class::UpperDigit => b.is_ascii_uppercase() || b.is_ascii_digit(),
        Class::UpperDigitPlusStar => {
            b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'+' || b == b'*'
        }
        Class::ZeroOne => b == b'0' || b == b'1',
        Class::Lit(c) => b == c,
    }
}

/// Whole-string match of a token sequence (backtracking; the sequences are short).
fn matches(s: &[u8], toks: &[Tok]) -> bool {
    let Some((t, rest)) = toks.split_first() else {
        return s.is_empty();
    };
    let (min, max) = (usize::from(t.1), usize::from(t.2));
    let mut n = 0;
    while n < max && n < s.len() && class_ok(t.0, s[n]) {
        n += 1;
    }
    if n < min {
        return false;
    }
    (min..=n).rev().any(|k| matches(&s[k..], rest))
}

type Alternatives = &'static [&'static [Tok]];

/// The number formats of each country (after the country code) and their regex text.
const FORMATS: &[(KodKrajuUe, Alternatives, &str)] = &[
    (KodKrajuUe::At, &[&[lit(b'U'), d(8, 8)]], "U\\d{8}"),
    (
        KodKrajuUe::Be,
        &[&[Tok(Class::ZeroOne, 1, 1), d(9, 9)]],
        "[01]\\d{9}",
    ),
    (KodKrajuUe::Bg, &[&[d(9, 10)]], "\\d{9,10}"),
    (KodKrajuUe::Cy, &[&[d(8, 8), u(1)]], "\\d{8}[A-Z]"),
    (KodKrajuUe::Cz, &[&[d(8, 10)]], "\\d{8,10}"),
    (KodKrajuUe::De, &[&[d(9, 9)]], "\\d{9}"),
    (KodKrajuUe::Dk, &[&[d(8, 8)]], "\\d{8}"),
    (KodKrajuUe::Ee, &[&[d(9, 9)]], "\\d{9}"),
    (KodKrajuUe::El, &[&[d(9, 9)]], "\\d{9}"),
    (
        KodKrajuUe::Es,
        &[&[u(1), d(8, 8)], &[d(8, 8), u(1)], &[u(1), d(7, 7), u(1)]],
        "[A-Z]\\d{8}|\\d{8}[A-Z]|[A-Z]\\d{7}[A-Z]",
    ),
    (KodKrajuUe::Fi, &[&[d(8, 8)]], "\\d{8}"),
    (
        KodKrajuUe::Fr,
        &[&[Tok(Class::UpperDigit, 2, 2), d(9, 9)]],
        "[A-Z0-9]{2}\\d{9}",
    ),
    (KodKrajuUe::Hr, &[&[d(11, 11)]], "\\d{11}"),
    (KodKrajuUe::Hu, &[&[d(8, 8)]], "\\d{8}"),
    (
        KodKrajuUe::Ie,
        &[
            &[d(7, 7), u(2)],
            &[d(1, 1), Tok(Class::UpperDigitPlusStar, 1, 1), d(5, 5), u(1)],
        ],
        "\\d{7}[A-Z]{2}|\\d[A-Z0-9+*]\\d{5}[A-Z]",
    ),
    (KodKrajuUe::It, &[&[d(11, 11)]], "\\d{11}"),
    (
        KodKrajuUe::Lt,
        &[&[d(9, 9)], &[d(12, 12)]],
        "\\d{9}|\\d{12}",
    ),
    (KodKrajuUe::Lu, &[&[d(8, 8)]], "\\d{8}"),
    (KodKrajuUe::Lv, &[&[d(11, 11)]], "\\d{11}"),
    (KodKrajuUe::Mt, &[&[d(8, 8)]], "\\d{8}"),
    (
        KodKrajuUe::Nl,
        &[&[Tok(Class::UpperDigitPlusStar, 12, 12)]],
        "[A-Z0-9+*]{12}",
    ),
    (KodKrajuUe::Pt, &[&[d(9, 9)]], "\\d{9}"),
    (KodKrajuUe::Ro, &[&[d(2, 10)]], "\\d{2,10}"),
    (KodKrajuUe::Se, &[&[d(12, 12)]], "\\d{12}"),
    (KodKrajuUe::Si, &[&[d(8, 8)]], "\\d{8}"),
    (KodKrajuUe::Sk, &[&[d(10, 10)]], "\\d{10}"),
    (
        KodKrajuUe::Xi,
        &[
            &[d(9, 9)],
            &[d(12, 12)],
            &[lit(b'G'), lit(b'D'), d(3, 3)],
            &[lit(b'H'), lit(b'A'), d(3, 3)],
        ],
        "\\d{9}|\\d{12}|(GD|HA)\\d{3}",
    ),
];

/// The number formats of a country; none for `PL` (a Polish number is a NIP).
fn country_format(country: KodKrajuUe) -> (Alternatives, &'static str) {
    FORMATS
        .iter()
        .find(|(c, _, _)| *c == country)
        .map(|&(_, alternatives, text)| (alternatives, text))
        .unwrap_or((&[], "nothing: a Polish number is a NIP"))
}
