//! The QR module matrix: allocation-free encoding into caller buffers
//! ([`encode_into`] → [`QrMatrixRef`]) and an owned [`QrMatrix`].
//!
//! The text is always encoded in byte mode (every KSeF link contains lower-case letters, so
//! no other mode applies), at exactly the error-correction level asked for (no silent
//! boost), in the smallest version that holds it, with the mask chosen by the ISO/IEC 18004
//! penalty rules. [`DEFAULT_ECC`] is level M — the level of the official KSeF label images
//! (`kody-qr.md` mandates none; the MF images are version 6-M for KOD I, 17-M for KOD II).

use alloc::vec::Vec;
use core::fmt;

use qrcodegen_no_heap::{QrCode, QrCodeEcc, QrSegment, Version};

use crate::error::{Error, ErrorCode};

/// QR error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EccLevel {
    /// L: about 7 % of the codewords can be restored.
    Low,
    /// M: about 15 % (the default, as in the official KSeF images).
    Medium,
    /// Q: about 25 %.
    Quartile,
    /// H: about 30 %.
    High,
}

/// The error-correction level used unless another is asked for: M.
pub const DEFAULT_ECC: EccLevel = EccLevel::Medium;

impl EccLevel {
    fn to_qrcodegen(self) -> QrCodeEcc {
        match self {
            EccLevel::Low => QrCodeEcc::Low,
            EccLevel::Medium => QrCodeEcc::Medium,
            EccLevel::Quartile => QrCodeEcc::Quartile,
            EccLevel::High => QrCodeEcc::High,
        }
    }

    /// The letter: `L`, `M`, `Q`, `H`.
    pub const fn letter(self) -> char {
        match self {
            EccLevel::Low => 'L',
            EccLevel::Medium => 'M',
            EccLevel::Quartile => 'Q',
            EccLevel::High => 'H',
        }
    }
}

// ISO/IEC 18004 tables, index [level L M Q H][version]; index 0 unused.
const ECC_CODEWORDS_PER_BLOCK: [[u8; 41]; 4] = [
    [
        0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28,
        30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28,
        28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ],
    [
        0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30,
        30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24,
        30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
];
const NUM_ERROR_CORRECTION_BLOCKS: [[u8; 41]; 4] = [
    [
        0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13,
        14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
    ],
    [
        0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21,
        23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ],
    [
        0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29,
        34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
    ],
    [
        0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32,
        35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
    ],
];

/// Number of data modules (data + error correction bits) of a version.
const fn raw_data_modules(ver: usize) -> usize {
    let mut result = (16 * ver + 128) * ver + 64;
    if ver >= 2 {
        let numalign = ver / 7 + 2;
        result -= (25 * numalign - 10) * numalign - 55;
        if ver >= 7 {
            result -= 36;
        }
    }
    result
}

/// How many bytes a version holds in byte mode at a level.
pub const fn byte_capacity(version: u8, ecc: EccLevel) -> usize {
    let v = if version < 1 {
        1
    } else if version > 40 {
        40
    } else {
        version
    } as usize;
    let e = match ecc {
        EccLevel::Low => 0,
        EccLevel::Medium => 1,
        EccLevel::Quartile => 2,
        EccLevel::High => 3,
    };
    let data_codewords = raw_data_modules(v) / 8
        - ECC_CODEWORDS_PER_BLOCK[e][v] as usize * NUM_ERROR_CORRECTION_BLOCKS[e][v] as usize;
    // 4 bits mode indicator + 8 (versions 1-9) or 16 bits character count
    let header_bits = 4 + if v <= 9 { 8 } else { 16 };
    (data_codewords * 8 - header_bits) / 8
}

/// The smallest version holding `len` bytes at `ecc`, `None` when even version 40 does not.
pub const fn version_for(len: usize, ecc: EccLevel) -> Option<u8> {
    let mut v = 1;
    while v <= 40 {
        if byte_capacity(v, ecc) >= len {
            return Some(v);
        }
        v += 1;
    }
    None
}

/// The length of each of the two buffers [`encode_into`] needs for codes up to `version`
/// (1-40, clamped): `(side² + 7) / 8 + 1` bytes with `side = 4 × version + 17`.
pub const fn buffer_len(version: u8) -> usize {
    let v = if version < 1 {
        1
    } else if version > 40 {
        40
    } else {
        version
    } as usize;
    let side = v * 4 + 17;
    (side * side).div_ceil(8) + 1
}

/// The buffer length for a text of `len` bytes at `ecc` (`None`: too long for any QR code).
pub const fn buffer_len_for(len: usize, ecc: EccLevel) -> Option<usize> {
    match version_for(len, ecc) {
        Some(v) => Some(buffer_len(v)),
        None => None,
    }
}

/// The buffer length for the largest code (version 40): 3918 bytes.
pub const MAX_BUFFER_LEN: usize = buffer_len(40);

/// Buffer length for any KOD I link at level M (version 6): 212 bytes.
pub const KOD1_BUFFER_LEN: usize =
    match buffer_len_for(crate::qr::InvoiceLink::MAX_URL_LEN, DEFAULT_ECC) {
        Some(n) => n,
        None => MAX_BUFFER_LEN,
    };

/// Buffer length for any KOD II link with an ECDSA P-256 signature at level M (version 13,
/// 597 bytes; typical links need version 10 or 11).
pub const KOD2_ECDSA_BUFFER_LEN: usize =
    match buffer_len_for(crate::qr::CertificateLink::MAX_ECDSA_URL_LEN, DEFAULT_ECC) {
        Some(n) => n,
        None => MAX_BUFFER_LEN,
    };

/// Read access to a QR module matrix (both [`QrMatrixRef`] and [`QrMatrix`]).
pub trait QrModules {
    /// Modules per side (21 to 177), without the quiet zone.
    fn size(&self) -> usize;
    /// Whether the module at column `x`, row `y` is dark (`false` outside the matrix).
    fn is_dark(&self, x: usize, y: usize) -> bool;
}

/// A QR matrix living in the caller's buffer (from [`encode_into`]).
pub struct QrMatrixRef<'a> {
    code: QrCode<'a>,
    ecc: EccLevel,
}

impl QrMatrixRef<'_> {
    /// The version (1-40).
    pub fn version(&self) -> u8 {
        self.code.version().value()
    }

    /// The error-correction level.
    pub fn ecc(&self) -> EccLevel {
        self.ecc
    }

    /// The mask pattern (0-7), read back from the format information.
    pub fn mask(&self) -> u8 {
        // Format bits 12..10 (modules x = 2..4 on row 8) hold the mask, XORed with 0b101.
        let bit = |x: i32| u8::from(self.code.get_module(x, 8));
        ((bit(2) << 2) | (bit(3) << 1) | bit(4)) ^ 0b101
    }
}

impl QrModules for QrMatrixRef<'_> {
    fn size(&self) -> usize {
        usize::try_from(self.code.size()).unwrap_or(0)
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        match (i32::try_from(x), i32::try_from(y)) {
            (Ok(x), Ok(y)) => self.code.get_module(x, y),
            _ => false,
        }
    }
}

impl fmt::Debug for QrMatrixRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "QrMatrixRef(version {}-{}, {}x{})",
            self.version(),
            self.ecc().letter(),
            self.size(),
            self.size()
        )
    }
}

/// Encode `text` (byte mode, level `ecc`) into the caller's buffers; allocation-free.
///
/// `temp` and `out` must each be at least [`buffer_len_for`]`(text.len(), ecc)` bytes
/// ([`KOD1_BUFFER_LEN`] for any KOD I link); the largest version that fits the smaller of
/// the two is the limit. `BufferTooSmall` (with the length needed) when the text needs a
/// larger version, `QrEncode` when no QR code holds it.
///
/// ```
/// use ksef::qr::matrix::{encode_into, QrModules, DEFAULT_ECC, KOD1_BUFFER_LEN};
///
/// let mut temp = [0u8; KOD1_BUFFER_LEN];
/// let mut out = [0u8; KOD1_BUFFER_LEN];
/// let m = encode_into("https://qr.ksef.mf.gov.pl/", DEFAULT_ECC, &mut temp, &mut out)?;
/// assert_eq!(m.size(), 25); // version 2
/// assert!(m.is_dark(0, 0)); // finder pattern
/// # Ok::<(), ksef::Error>(())
/// ```
pub fn encode_into<'a>(
    text: &str,
    ecc: EccLevel,
    temp: &mut [u8],
    out: &'a mut [u8],
) -> Result<QrMatrixRef<'a>, Error> {
    let Some(needed_version) = version_for(text.len(), ecc) else {
        return Err(too_long(text.len(), ecc));
    };
    let needed = buffer_len(needed_version);
    if temp.len() < needed || out.len() < needed {
        return Err(Error::buffer_too_small(needed));
    }
    let version = Version::new(needed_version);
    let seg = QrSegment::make_bytes(text.as_bytes());
    let (datalen, ecl, version) = QrCode::encode_segments_to_codewords(
        &[seg],
        out,
        ecc.to_qrcodegen(),
        version,
        version,
        false,
    )
    .map_err(|_| too_long(text.len(), ecc))?;
    let code = QrCode::encode_codewords(out, datalen, temp, ecl, version, None);
    Ok(QrMatrixRef { code, ecc })
}

fn too_long(len: usize, ecc: EccLevel) -> Error {
    Error::new(
        ErrorCode::QrEncode,
        "",
        alloc::format!(
            "{len} bytes do not fit a QR code at level {} (at most {} bytes)",
            ecc.letter(),
            byte_capacity(40, ecc)
        ),
    )
}

/// An owned QR matrix.
///
/// ```
/// use ksef::qr::matrix::{QrMatrix, QrModules, EccLevel};
///
/// let m = QrMatrix::encode("https://qr.ksef.mf.gov.pl/", EccLevel::Medium)?;
/// assert_eq!((m.version(), m.size()), (2, 25));
/// # Ok::<(), ksef::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct QrMatrix {
    size: usize,
    version: u8,
    ecc: EccLevel,
    mask: u8,
    /// Row-major, one bit per module, MSB first; rows padded to whole bytes.
    bits: Vec<u8>,
}

impl QrMatrix {
    /// Encode `text` (byte mode, level `ecc`, smallest version).
    pub fn encode(text: &str, ecc: EccLevel) -> Result<QrMatrix, Error> {
        let needed = buffer_len_for(text.len(), ecc).ok_or_else(|| too_long(text.len(), ecc))?;
        let mut temp = alloc::vec![0u8; needed];
        let mut out = alloc::vec![0u8; needed];
        let m = encode_into(text, ecc, &mut temp, &mut out)?;
        Ok(QrMatrix::from_modules(&m, m.version(), m.ecc(), m.mask()))
    }

    fn from_modules(m: &impl QrModules, version: u8, ecc: EccLevel, mask: u8) -> QrMatrix {
        let size = m.size();
        let row = size.div_ceil(8);
        let mut bits = alloc::vec![0u8; row * size];
        for y in 0..size {
            for x in 0..size {
                if m.is_dark(x, y) {
                    if let Some(b) = bits.get_mut(y * row + x / 8) {
                        *b |= 0x80 >> (x % 8);
                    }
                }
            }
        }
        QrMatrix {
            size,
            version,
            ecc,
            mask,
            bits,
        }
    }

    /// The version (1-40).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The error-correction level.
    pub fn ecc(&self) -> EccLevel {
        self.ecc
    }

    /// The mask pattern (0-7).
    pub fn mask(&self) -> u8 {
        self.mask
    }
}

impl From<&QrMatrixRef<'_>> for QrMatrix {
    fn from(m: &QrMatrixRef<'_>) -> Self {
        QrMatrix::from_modules(m, m.version(), m.ecc(), m.mask())
    }
}

impl QrModules for QrMatrix {
    fn size(&self) -> usize {
        self.size
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        if x >= self.size || y >= self.size {
            return false;
        }
        let row = self.size.div_ceil(8);
        self.bits
            .get(y * row + x / 8)
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }
}

impl fmt::Debug for QrMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "QrMatrix(version {}-{}, {}x{})",
            self.version,
            self.ecc.letter(),
            self.size,
            self.size
        )
    }
}

impl<T: QrModules + ?Sized> QrModules for &T {
    fn size(&self) -> usize {
        (**self).size()
    }
    fn is_dark(&self, x: usize, y: usize) -> bool {
        (**self).is_dark(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn capacity_table_matches_the_encoder() {
        let mut temp = alloc::vec![0u8; MAX_BUFFER_LEN];
        let mut out = alloc::vec![0u8; MAX_BUFFER_LEN];
        let ecls = [
            EccLevel::Low,
            EccLevel::Medium,
            EccLevel::Quartile,
            EccLevel::High,
        ];
        for ecc in ecls {
            for v in 1..=40u8 {
                let cap = byte_capacity(v, ecc);
                let text: String = core::iter::repeat_n('a', cap).collect();
                let seg = QrSegment::make_bytes(text.as_bytes());
                let ok = QrCode::encode_segments_to_codewords(
                    &[seg],
                    &mut out,
                    ecc.to_qrcodegen(),
                    Version::new(v),
                    Version::new(v),
                    false,
                );
                assert!(ok.is_ok(), "v{v}-{} holds {cap}", ecc.letter());
                let text2: String = core::iter::repeat_n('a', cap + 1).collect();
                let seg = QrSegment::make_bytes(text2.as_bytes());
                let over = QrCode::encode_segments_to_codewords(
                    &[seg],
                    &mut out,
                    ecc.to_qrcodegen(),
                    Version::new(v),
                    Version::new(v),
                    false,
                );
                assert!(
                    over.is_err(),
                    "v{v}-{} holds no more than {cap}",
                    ecc.letter()
                );
                if v <= 7 || v % 11 == 0 {
                    // (the full encode with mask selection is slow in debug builds)
                    let m = encode_into(&text, ecc, &mut temp, &mut out).unwrap();
                    assert_eq!(
                        (m.version(), m.ecc(), m.size()),
                        (v, ecc, 4 * v as usize + 17)
                    );
                }
            }
        }
        assert_eq!(byte_capacity(6, EccLevel::Medium), 106);
        assert_eq!(KOD1_BUFFER_LEN, buffer_len(6));
        assert_eq!(crate::qr::CertificateLink::MAX_ECDSA_URL_LEN, 303);
        assert_eq!(KOD2_ECDSA_BUFFER_LEN, buffer_len(13));
        assert_eq!(KOD2_ECDSA_BUFFER_LEN, 597);
        assert_eq!(MAX_BUFFER_LEN, 3918);
    }

    #[test]
    fn small_buffers_and_long_text() {
        let mut temp = [0u8; 100];
        let mut out = [0u8; 100];
        let text = "https://qr-test.ksef.mf.gov.pl/invoice/1111111111/01-02-2026/x";
        let e = encode_into(text, EccLevel::Medium, &mut temp, &mut out).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BufferTooSmall);
        assert_eq!(
            e.needed(),
            buffer_len(version_for(text.len(), EccLevel::Medium).unwrap())
        );
        let long: String = core::iter::repeat_n('x', 3000).collect();
        let e = QrMatrix::encode(&long, EccLevel::Low).unwrap_err();
        assert_eq!(e.code(), ErrorCode::QrEncode);
        let ok: String = core::iter::repeat_n('x', 2953).collect();
        assert_eq!(QrMatrix::encode(&ok, EccLevel::Low).unwrap().version(), 40);
    }
}
