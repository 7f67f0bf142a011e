//! SHA-256 of exact bytes, and its base64 / base64url text forms.
//!
//! KSeF identifies an invoice file by the SHA-256 of the exact bytes sent (a changed line
//! ending or a BOM changes it): `invoiceHash` in the API is standard base64 with padding
//! (44 characters), the QR links use base64url without padding (43 characters, RFC 4648 §5).
//!
//! Everything here is allocation-free except the `String` conveniences
//! ([`Sha256Hash::to_base64`], [`Sha256Hash::to_base64url`], [`Sha256Hash::to_hex`]).
//!
//! ```
//! use ksef::crypto::hash::{sha256, Sha256Hash};
//!
//! let h = sha256(b"abc");
//! let mut b64 = [0u8; Sha256Hash::BASE64_LEN];
//! assert_eq!(h.base64_into(&mut b64), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
//! let mut b64url = [0u8; Sha256Hash::BASE64URL_LEN];
//! assert_eq!(h.base64url_into(&mut b64url), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
//! assert_eq!(Sha256Hash::from_base64url(h.to_base64url().as_str())?, h);
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::string::String;
use core::fmt;

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode};

/// A SHA-256 digest (32 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sha256Hash(pub [u8; 32]);

/// SHA-256 of `bytes`, exactly as given.
pub fn sha256(bytes: &[u8]) -> Sha256Hash {
    Sha256Hash(Sha256::digest(bytes).into())
}

/// Incremental SHA-256 for input that arrives in pieces (a file read in chunks, a stream);
/// the result equals [`sha256`] of the concatenation. Allocation-free.
#[derive(Clone, Default)]
pub struct Sha256Hasher(Sha256);

impl Sha256Hasher {
    /// A new hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Sha256Hash {
        Sha256Hash(self.0.finalize().into())
    }
}

impl fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Hasher")
    }
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of 32 bytes without padding into 43 bytes.
fn encode32(bytes: &[u8; 32], alphabet: &[u8; 64], out: &mut [u8]) {
    let sym = |v: u32| alphabet[(v & 63) as usize];
    let mut o = out.iter_mut();
    let mut put = |c: u8| {
        if let Some(slot) = o.next() {
            *slot = c;
        }
    };
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        let n = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
        put(sym(n >> 18));
        put(sym(n >> 12));
        put(sym(n >> 6));
        put(sym(n));
    }
    // 32 = 10 * 3 + 2
    if let [a, b] = chunks.remainder() {
        let n = u32::from(*a) << 16 | u32::from(*b) << 8;
        put(sym(n >> 18));
        put(sym(n >> 12));
        put(sym(n >> 6));
    }
}

fn decode_symbol(c: u8, url: bool) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' if !url => 62,
        b'/' if !url => 63,
        b'-' if url => 62,
        b'_' if url => 63,
        _ => return None,
    } as u32)
}

/// ASCII bytes as text (always valid UTF-8 here by construction).
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

impl Sha256Hash {
    /// Length of the standard base64 form with padding.
    pub const BASE64_LEN: usize = 44;
    /// Length of the base64url form without padding.
    pub const BASE64URL_LEN: usize = 43;
    /// Length of the hexadecimal form.
    pub const HEX_LEN: usize = 64;

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Standard base64 with `=` padding (44 characters): the API's `invoiceHash`.
    pub fn base64_into<'b>(&self, out: &'b mut [u8; Self::BASE64_LEN]) -> &'b str {
        encode32(&self.0, STD, &mut out[..43]);
        out[43] = b'=';
        ascii(out)
    }

    /// Base64url without padding (43 characters, RFC 4648 §5): the QR links' form.
    pub fn base64url_into<'b>(&self, out: &'b mut [u8; Self::BASE64URL_LEN]) -> &'b str {
        encode32(&self.0, URL, out);
        ascii(out)
    }

    /// Lower-case hexadecimal (64 characters), as `sha256sum` prints it.
    pub fn hex_into<'b>(&self, out: &'b mut [u8; Self::HEX_LEN]) -> &'b str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
        ascii(out)
    }

    /// Standard base64 with padding, as a `String`.
    pub fn to_base64(&self) -> String {
        let mut b = [0u8; Self::BASE64_LEN];
        String::from(self.base64_into(&mut b))
    }

    /// Base64url without padding, as a `String`.
    pub fn to_base64url(&self) -> String {
        let mut b = [0u8; Self::BASE64URL_LEN];
        String::from(self.base64url_into(&mut b))
    }

    /// Lower-case hexadecimal, as a `String`.
    pub fn to_hex(&self) -> String {
        let mut b = [0u8; Self::HEX_LEN];
        String::from(self.hex_into(&mut b))
    }

    /// Read the standard base64 form (44 characters with `=`, as in the API's `invoiceHash`).
    pub fn from_base64(s: &str) -> Result<Sha256Hash, Error> {
        match s.as_bytes() {
            [body @ .., b'='] if s.len() == Self::BASE64_LEN => Self::decode(body, false),
            _ => Err(Self::bad(
                s,
                "standard base64, 44 characters ending with '='",
            )),
        }
    }

    /// Read the base64url form (43 characters, no padding, as in the QR links).
    pub fn from_base64url(s: &str) -> Result<Sha256Hash, Error> {
        if s.len() != Self::BASE64URL_LEN {
            return Err(Self::bad(s, "base64url, 43 characters without padding"));
        }
        Self::decode(s.as_bytes(), true)
    }

    fn bad(s: &str, expected: &str) -> Error {
        Error::new(
            ErrorCode::InvalidValue,
            "",
            alloc::format!(
                "not a SHA-256 hash in {expected} ({} characters found)",
                s.chars().count()
            ),
        )
    }

    /// 43 symbols -> 32 bytes; the unused low bits of the last symbol must be zero.
    fn decode(body: &[u8], url: bool) -> Result<Sha256Hash, Error> {
        let mut out = [0u8; 32];
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        let mut n = 0usize;
        for (i, &c) in body.iter().enumerate() {
            let Some(v) = decode_symbol(c, url) else {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    "",
                    alloc::format!(
                        "character {} ({:?}) is not a {} symbol",
                        i + 1,
                        char::from(c),
                        if url { "base64url" } else { "base64" }
                    ),
                ));
            };
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                if let Some(slot) = out.get_mut(n) {
                    *slot = (acc >> bits) as u8;
                }
                n += 1;
                acc &= (1 << bits) - 1;
            }
        }
        if n != 32 || acc != 0 {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "",
                "not the encoding of 32 bytes (the last symbol has stray bits)",
            ));
        }
        Ok(Sha256Hash(out))
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; Self::HEX_LEN];
        write!(f, "Sha256Hash({})", self.hex_into(&mut b))
    }
}

/// Displays the standard base64 form (as in the API's `invoiceHash`).
impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; Self::BASE64_LEN];
        f.write_str(self.base64_into(&mut b))
    }
}

impl From<[u8; 32]> for Sha256Hash {
    fn from(b: [u8; 32]) -> Self {
        Sha256Hash(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn known_values() {
        let h = sha256(b"");
        assert_eq!(
            h.to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            h.to_base64(),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            h.to_base64url(),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }

    #[test]
    fn agrees_with_the_base64_crate_and_round_trips() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let mut data = [0u8; 97];
        for i in 0..data.len() {
            data[i] = (i * 37 + 11) as u8;
            let h = sha256(&data[..i]);
            assert_eq!(h.to_base64(), STANDARD.encode(h.0));
            assert_eq!(h.to_base64url(), URL_SAFE_NO_PAD.encode(h.0));
            assert_eq!(Sha256Hash::from_base64(&h.to_base64()).unwrap(), h);
            assert_eq!(Sha256Hash::from_base64url(&h.to_base64url()).unwrap(), h);
            let mut st = Sha256Hasher::new();
            let (a, b) = data[..i].split_at(i / 3);
            st.update(a);
            st.update(b);
            assert_eq!(st.finish(), h);
        }
    }

    #[test]
    fn refuses_bad_text() {
        let good = sha256(b"x").to_base64url();
        assert!(Sha256Hash::from_base64url(&good[..42]).is_err());
        assert!(Sha256Hash::from_base64(&good).is_err());
        let mut bad = good.clone();
        bad.replace_range(5..6, "+");
        assert!(Sha256Hash::from_base64url(&bad).is_err());
        // stray bits in the last symbol
        let mut stray = String::from(&good[..42]);
        let last = good.as_bytes()[42];
        let v = decode_symbol(last, true).unwrap() | 1;
        stray.push(char::from(URL[v as usize]));
        if stray != good {
            assert!(Sha256Hash::from_base64url(&stray).is_err());
        }
        let e = Sha256Hash::from_base64("abc").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidValue);
    }
}
