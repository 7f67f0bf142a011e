//! ZIP archives: a streaming, deterministic writer (the batch-session package) and a bounded
//! reader (the invoice export package), both `no_std` + `alloc`.
//!
//! Why our own: the `zip` crate needs `std::io`; the `no_std` ZIP crates found (`tinyzip`,
//! `zip-format`) only navigate an existing archive and write nothing. The format subset
//! KSeF needs is small (APPNOTE 6.3.10, sections 4.3–4.5):
//!
//! - **Writer** ([`ZipWriter`]): entries are added whole (`add(name, bytes)`), so the local
//!   header carries the CRC-32 and sizes (no data descriptor); the bytes go straight to a
//!   [`ByteSink`] — nothing but the central directory is kept. Method *stored* by default
//!   (the batch speed target), *deflate* (`miniz_oxide`) on request. UTF-8 names (flag bit
//!   11), one fixed MS-DOS timestamp for every entry (1980-01-01 00:00 unless one is passed
//!   in: the output is a function of the input only), ZIP64 records exactly when a size, an
//!   offset or the entry count needs them (or always, with [`ZipOptions::zip64_always`]).
//!   Names are checked: not empty, relative, `/`-separated, no `..`/`.`/empty component, no
//!   backslash or control character, no duplicate — [`ErrorCode::ZipEntryName`] naming it.
//! - **Reader** ([`ZipArchive`]): reads the central directory of an archive held in memory
//!   (ZIP64 included), then each entry on demand: stored or deflate, CRC-32 checked, sizes
//!   bounded by [`ZipLimits`] before anything is inflated (inflating stops at the declared
//!   size, so a zip bomb costs at most the limit). Encrypted entries, other methods, split
//!   archives and non-UTF-8 names are refused with [`ErrorCode::ZipFormat`].
//!
//! ```
//! use ksef::zip::{ZipArchive, ZipLimits, ZipOptions, ZipWriter};
//!
//! let mut w = ZipWriter::new(Vec::new(), ZipOptions::default());
//! w.add("a.xml", b"<Faktura/>")?;
//! w.add("dir/b.xml", b"<Faktura>2</Faktura>")?;
//! let bytes = w.finish()?;
//!
//! let zip = ZipArchive::new(&bytes, &ZipLimits::default())?;
//! assert_eq!(zip.entries().len(), 2);
//! assert_eq!(zip.entries()[1].name(), "dir/b.xml");
//! assert_eq!(zip.read(0)?, b"<Faktura/>");
//! assert!(w_err().is_err());
//! # fn w_err() -> Result<(), ksef::Error> {
//! #     let mut w = ZipWriter::new(Vec::new(), ZipOptions::default());
//! #     w.add("../evil.xml", b"")
//! # }
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, ErrorCode};

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EXTRA: u16 = 0x0001;
const FLAG_UTF8: u16 = 1 << 11;
const FLAG_ENCRYPTED: u16 = 1;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const U32_MAX: u64 = 0xFFFF_FFFF;

// ---------------------------------------------------------------------------------------
// Output

/// Where a [`ZipWriter`] (and the batch packer) puts bytes, in order.
pub trait ByteSink {
    /// Appends bytes.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error>;
}

impl ByteSink for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

impl<T: ByteSink + ?Sized> ByteSink for &mut T {
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        (**self).write(bytes)
    }
}

/// How entry data is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Method {
    /// Method 0, bytes as they are (fastest; the default).
    #[default]
    Stored,
    /// Method 8, raw deflate at the given level (1 fastest … 9 smallest; 0 is stored blocks).
    Deflate(u8),
}

/// An MS-DOS date and time (2-second resolution, 1980–2107), the only timestamp a plain ZIP
/// entry has. The same one is written for every entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DosDateTime {
    date: u16,
    time: u16,
}

impl Default for DosDateTime {
    /// 1980-01-01 00:00:00, the earliest DOS time.
    fn default() -> Self {
        DosDateTime {
            date: (1 << 5) | 1,
            time: 0,
        }
    }
}

impl DosDateTime {
    /// A date and time (odd seconds round down). Out of range is [`ErrorCode::InvalidValue`].
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<DosDateTime, Error> {
        if !(1980..=2107).contains(&year)
            || !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "zip timestamp",
                format!(
                    "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} is not a \
                     valid MS-DOS time (1980-2107)"
                ),
            ));
        }
        Ok(DosDateTime {
            date: ((year - 1980) << 9) | (u16::from(month) << 5) | u16::from(day),
            time: (u16::from(hour) << 11) | (u16::from(minute) << 5) | u16::from(second / 2),
        })
    }

    /// The raw (date, time) fields.
    pub fn raw(&self) -> (u16, u16) {
        (self.date, self.time)
    }
}

/// Options of a [`ZipWriter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ZipOptions {
    /// How entry data is stored.
    pub method: Method,
    /// The timestamp of every entry.
    pub time: DosDateTime,
    /// Write ZIP64 records even when nothing needs them (interoperability tests).
    pub zip64_always: bool,
}

/// `s` as one safe file or entry name: ASCII letters, digits, `.`, `-` and `_` kept, every
/// other character (`/`, spaces, non-ASCII) replaced by `_`. Not unique: prefix a position
/// when names must differ.
pub fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Checks an entry name: not empty, at most 65 535 bytes, relative, `/`-separated, no empty,
/// `.` or `..` component, no backslash, colon-drive or control character.
pub fn check_entry_name(name: &str) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::new(ErrorCode::ZipEntryName, name, why));
    if name.is_empty() {
        return bad("the entry name is empty");
    }
    if name.len() > usize::from(u16::MAX) {
        return bad("the entry name is longer than 65535 bytes");
    }
    if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        return bad("the entry name is an absolute path");
    }
    if name.contains('\\') {
        return bad("the entry name contains a backslash (use `/`)");
    }
    if name.chars().any(char::is_control) {
        return bad("the entry name contains a control character");
    }
    for part in name.split('/') {
        match part {
            "" => return bad("the entry name has an empty path component (or ends with `/`)"),
            "." | ".." => return bad("the entry name has a `.` or `..` component"),
            _ => {}
        }
    }
    Ok(())
}

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn le16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A streaming ZIP writer over a [`ByteSink`]. Memory: the central directory (about
/// 50 bytes + the name per entry) and the set of names; deflate also one compressed entry.
pub struct ZipWriter<W: ByteSink> {
    out: W,
    options: ZipOptions,
    offset: u64,
    count: u64,
    central: Vec<u8>,
    names: BTreeSet<String>,
    header: Vec<u8>,
}

impl<W: ByteSink> ZipWriter<W> {
    /// A writer putting the archive into `out`.
    pub fn new(out: W, options: ZipOptions) -> ZipWriter<W> {
        ZipWriter {
            out,
            options,
            offset: 0,
            count: 0,
            central: Vec::new(),
            names: BTreeSet::new(),
            header: Vec::with_capacity(128),
        }
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    /// The sink (e.g. to look at what it holds between entries).
    pub fn sink_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Adds one entry (a file) with the whole content. A bad or duplicate name is
    /// [`ErrorCode::ZipEntryName`] naming the entry; nothing is written then.
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<(), Error> {
        check_entry_name(name)?;
        if self.names.contains(name) {
            return Err(Error::new(
                ErrorCode::ZipEntryName,
                name,
                "two entries have this name",
            ));
        }
        let crc = crc32fast::hash(data);
        let size = len64(data.len());
        let deflated;
        let (method, stored): (u16, &[u8]) = match self.options.method {
            Method::Stored => (METHOD_STORED, data),
            Method::Deflate(level) => {
                deflated = miniz_oxide::deflate::compress_to_vec(data, level.min(10));
                (METHOD_DEFLATE, &deflated)
            }
        };
        let csize = len64(stored.len());
        let zip64_sizes = self.options.zip64_always || size >= U32_MAX || csize >= U32_MAX;
        let zip64_offset = self.options.zip64_always || self.offset >= U32_MAX;
        let version: u16 = if zip64_sizes || zip64_offset { 45 } else { 20 };
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        let (date, time) = self.options.time.raw();

        // Local header.
        let h = &mut self.header;
        h.clear();
        le32(h, SIG_LOCAL);
        le16(h, version);
        le16(h, FLAG_UTF8);
        le16(h, method);
        le16(h, time);
        le16(h, date);
        le32(h, crc);
        if zip64_sizes {
            le32(h, u32::MAX);
            le32(h, u32::MAX);
        } else {
            le32(h, clamp32(csize));
            le32(h, clamp32(size));
        }
        le16(h, name_len);
        le16(h, if zip64_sizes { 20 } else { 0 });
        h.extend_from_slice(name.as_bytes());
        if zip64_sizes {
            le16(h, ZIP64_EXTRA);
            le16(h, 16);
            le64(h, size);
            le64(h, csize);
        }
        self.out.write(h)?;
        self.out.write(stored)?;
        let local_offset = self.offset;
        self.offset += len64(h.len()) + csize;

        // Central directory record.
        let mut extra = Vec::new();
        if zip64_sizes {
            le64(&mut extra, size);
            le64(&mut extra, csize);
        }
        if zip64_offset {
            le64(&mut extra, local_offset);
        }
        let c = &mut self.central;
        le32(c, SIG_CENTRAL);
        le16(c, version); // made by: MS-DOS host, this version
        le16(c, version);
        le16(c, FLAG_UTF8);
        le16(c, method);
        le16(c, time);
        le16(c, date);
        le32(c, crc);
        if zip64_sizes {
            le32(c, u32::MAX);
            le32(c, u32::MAX);
        } else {
            le32(c, clamp32(csize));
            le32(c, clamp32(size));
        }
        le16(c, name_len);
        le16(
            c,
            if extra.is_empty() {
                0
            } else {
                4 + extra.len() as u16
            },
        );
        le16(c, 0); // comment
        le16(c, 0); // disk
        le16(c, 0); // internal attributes
        le32(c, 0); // external attributes
        le32(
            c,
            if zip64_offset {
                u32::MAX
            } else {
                clamp32(local_offset)
            },
        );
        c.extend_from_slice(name.as_bytes());
        if !extra.is_empty() {
            le16(c, ZIP64_EXTRA);
            le16(c, extra.len() as u16);
            c.extend_from_slice(&extra);
        }
        self.names.insert(String::from(name));
        self.count += 1;
        Ok(())
    }

    /// Writes the central directory and the end records; gives the sink back.
    pub fn finish(mut self) -> Result<W, Error> {
        let cd_offset = self.offset;
        let cd_size = len64(self.central.len());
        self.out.write(&self.central)?;
        self.offset += cd_size;
        let zip64 = self.options.zip64_always
            || self.count >= 0xFFFF
            || cd_offset >= U32_MAX
            || cd_size >= U32_MAX;
        let mut e = Vec::with_capacity(98);
        if zip64 {
            let eocd64 = self.offset;
            le32(&mut e, SIG_ZIP64_EOCD);
            le64(&mut e, 44);
            le16(&mut e, 45);
            le16(&mut e, 45);
            le32(&mut e, 0);
            le32(&mut e, 0);
            le64(&mut e, self.count);
            le64(&mut e, self.count);
            le64(&mut e, cd_size);
            le64(&mut e, cd_offset);
            le32(&mut e, SIG_ZIP64_LOCATOR);
            le32(&mut e, 0);
            le64(&mut e, eocd64);
            le32(&mut e, 1);
        }
        let count16 = if zip64 {
            u16::MAX
        } else {
            u16::try_from(self.count).unwrap_or(u16::MAX)
        };
        le32(&mut e, SIG_EOCD);
        le16(&mut e, 0);
        le16(&mut e, 0);
        le16(&mut e, count16);
        le16(&mut e, count16);
        le32(&mut e, if zip64 { u32::MAX } else { clamp32(cd_size) });
        le32(&mut e, if zip64 { u32::MAX } else { clamp32(cd_offset) });
        le16(&mut e, 0);
        self.out.write(&e)?;
        Ok(self.out)
    }
}

// ---------------------------------------------------------------------------------------
// Reader

/// Bounds of what a [`ZipArchive`] accepts (zip-bomb protection). Exceeding one is
/// [`ErrorCode::ZipLimit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZipLimits {
    /// Most entries.
    pub max_entries: u64,
    /// Largest uncompressed entry, in bytes.
    pub max_entry_size: u64,
    /// Largest sum of the uncompressed entries, in bytes.
    pub max_total_size: u64,
}

impl Default for ZipLimits {
    /// 100 000 entries, 256 MiB per entry, 8 GiB in all.
    fn default() -> Self {
        ZipLimits {
            max_entries: 100_000,
            max_entry_size: 256 << 20,
            max_total_size: 8 << 30,
        }
    }
}

/// One entry of the central directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipEntry {
    name: String,
    method: u16,
    crc32: u32,
    compressed_size: u64,
    size: u64,
    local_offset: u64,
}

impl ZipEntry {
    /// The name (UTF-8, `/`-separated, as stored).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The uncompressed size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The stored (compressed) size.
    pub fn compressed_size(&self) -> u64 {
        self.compressed_size
    }

    /// The CRC-32 of the content.
    pub fn crc32(&self) -> u32 {
        self.crc32
    }

    /// The method: 0 stored, 8 deflate.
    pub fn method(&self) -> u16 {
        self.method
    }

    /// True for a directory entry (name ending in `/`).
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// A ZIP archive held in memory, central directory read and checked.
#[derive(Debug)]
pub struct ZipArchive<'a> {
    data: &'a [u8],
    entries: Vec<ZipEntry>,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn at(data: &'a [u8], pos: u64, what: &'static str) -> Result<Cursor<'a>, Error> {
        let pos = usize::try_from(pos)
            .ok()
            .filter(|p| *p <= data.len())
            .ok_or_else(|| format_err("", format!("the {what} lies outside the archive")))?;
        Ok(Cursor { data, pos, what })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(format_err(
                "",
                format!("the {} is cut short (truncated archive)", self.what),
            )),
        }
    }

    fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        let lo = u64::from(self.u32()?);
        let hi = u64::from(self.u32()?);
        Ok(lo | (hi << 32))
    }
}

fn format_err(path: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::ZipFormat, path, msg)
}

fn limit_err(path: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::ZipLimit, path, msg)
}

/// The end-of-central-directory record: (entry count, cd size, cd offset).
fn find_end(data: &[u8]) -> Result<(u64, u64, u64), Error> {
    // The record is 22 bytes plus a comment of at most 65 535 bytes, at the very end.
    let min = data.len().saturating_sub(22 + 0xFFFF);
    let mut i = data.len().checked_sub(22).ok_or_else(|| {
        format_err(
            "",
            "not a ZIP archive: shorter than an end-of-central-directory record",
        )
    })?;
    loop {
        if data[i..i + 4] == SIG_EOCD.to_le_bytes() {
            let mut c = Cursor::at(data, len64(i) + 4, "end of central directory")?;
            let disk = c.u16()?;
            let cd_disk = c.u16()?;
            let _count_here = c.u16()?;
            let count = c.u16()?;
            let cd_size = c.u32()?;
            let cd_offset = c.u32()?;
            let comment = c.u16()?;
            if i + 22 + usize::from(comment) == data.len() {
                if disk != 0 || cd_disk != 0 {
                    return Err(format_err(
                        "",
                        "split (multi-disk) archives are not supported",
                    ));
                }
                let needs64 = count == u16::MAX || cd_size == u32::MAX || cd_offset == u32::MAX;
                if i >= 20 && data[i - 20..i - 16] == SIG_ZIP64_LOCATOR.to_le_bytes() {
                    return zip64_end(data, i - 20);
                }
                if needs64 {
                    return Err(format_err(
                        "",
                        "the end record says ZIP64 but the ZIP64 locator is missing",
                    ));
                }
                return Ok((u64::from(count), u64::from(cd_size), u64::from(cd_offset)));
            }
        }
        if i == min {
            return Err(format_err(
                "",
                "not a ZIP archive: no end-of-central-directory record",
            ));
        }
        i -= 1;
    }
}

fn zip64_end(data: &[u8], locator: usize) -> Result<(u64, u64, u64), Error> {
    let mut c = Cursor::at(data, len64(locator) + 4, "ZIP64 locator")?;
    let _disk = c.u32()?;
    let eocd64 = c.u64()?;
    let mut c = Cursor::at(data, eocd64, "ZIP64 end record")?;
    if c.u32()? != SIG_ZIP64_EOCD {
        return Err(format_err("", "the ZIP64 end record has a wrong signature"));
    }
    let _size = c.u64()?;
    let _made_by = c.u16()?;
    let _needed = c.u16()?;
    let disk = c.u32()?;
    let cd_disk = c.u32()?;
    let _count_here = c.u64()?;
    let count = c.u64()?;
    let cd_size = c.u64()?;
    let cd_offset = c.u64()?;
    if disk != 0 || cd_disk != 0 {
        return Err(format_err(
            "",
            "split (multi-disk) archives are not supported",
        ));
    }
    Ok((count, cd_size, cd_offset))
}

impl<'a> ZipArchive<'a> {
    /// Reads and checks the central directory of `data`. Entry contents are read by
    /// [`ZipArchive::read`].
    pub fn new(data: &'a [u8], limits: &ZipLimits) -> Result<ZipArchive<'a>, Error> {
        let (count, cd_size, cd_offset) = find_end(data)?;
        if count > limits.max_entries {
            return Err(limit_err(
                "",
                format!(
                    "the archive has {count} entries, more than the limit of {}",
                    limits.max_entries
                ),
            ));
        }
        if cd_offset
            .checked_add(cd_size)
            .is_none_or(|e| e > len64(data.len()))
        {
            return Err(format_err(
                "",
                "the central directory lies outside the archive (truncated?)",
            ));
        }
        let mut c = Cursor::at(data, cd_offset, "central directory")?;
        // Every record is at least 46 bytes: a count the directory cannot hold is a lie.
        if count.saturating_mul(46) > cd_size {
            return Err(format_err(
                "",
                format!("the central directory of {cd_size} bytes cannot hold {count} entries"),
            ));
        }
        let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut total: u64 = 0;
        let mut names = BTreeSet::new();
        for n in 0..count {
            if c.u32()? != SIG_CENTRAL {
                return Err(format_err(
                    "",
                    format!("central directory record {n} has a wrong signature"),
                ));
            }
            let _made_by = c.u16()?;
            let _needed = c.u16()?;
            let flags = c.u16()?;
            let method = c.u16()?;
            let _time = c.u16()?;
            let _date = c.u16()?;
            let crc32 = c.u32()?;
            let csize32 = c.u32()?;
            let size32 = c.u32()?;
            let name_len = c.u16()?;
            let extra_len = c.u16()?;
            let comment_len = c.u16()?;
            let _disk = c.u16()?;
            let _internal = c.u16()?;
            let _external = c.u32()?;
            let offset32 = c.u32()?;
            let name_bytes = c.take(usize::from(name_len))?;
            let extra = c.take(usize::from(extra_len))?;
            c.take(usize::from(comment_len))?;
            let name = core::str::from_utf8(name_bytes)
                .map_err(|_| {
                    format_err(
                        &format!("entry {n}"),
                        "the entry name is not UTF-8 (CP437 names are not supported)",
                    )
                })?
                .replace('\\', "/");
            let mut size = u64::from(size32);
            let mut csize = u64::from(csize32);
            let mut local_offset = u64::from(offset32);
            // ZIP64 extra: only the fields whose 32-bit value is all ones, in this order.
            let mut x = Cursor {
                data: extra,
                pos: 0,
                what: "extra field",
            };
            while x.pos + 4 <= extra.len() {
                let id = x.u16()?;
                let len = x.u16()?;
                let body = x
                    .take(usize::from(len))
                    .map_err(|e| Error::new(e.code(), name.as_str(), e.message()))?;
                if id == ZIP64_EXTRA {
                    let mut z = Cursor {
                        data: body,
                        pos: 0,
                        what: "ZIP64 extra field",
                    };
                    let bad = |e: Error| Error::new(e.code(), name.as_str(), e.message());
                    if size32 == u32::MAX {
                        size = z.u64().map_err(bad)?;
                    }
                    if csize32 == u32::MAX {
                        csize = z.u64().map_err(bad)?;
                    }
                    if offset32 == u32::MAX {
                        local_offset = z.u64().map_err(bad)?;
                    }
                }
            }
            if flags & FLAG_ENCRYPTED != 0 {
                return Err(format_err(&name, "encrypted entries are not supported"));
            }
            if method != METHOD_STORED && method != METHOD_DEFLATE {
                return Err(format_err(
                    &name,
                    format!(
                        "compression method {method} is not supported (stored or deflate only)"
                    ),
                ));
            }
            if method == METHOD_STORED && size != csize {
                return Err(format_err(&name, "a stored entry whose sizes differ"));
            }
            if size > limits.max_entry_size {
                return Err(limit_err(
                    &name,
                    format!(
                        "the entry has {size} bytes, more than the limit of {}",
                        limits.max_entry_size
                    ),
                ));
            }
            total = total.saturating_add(size);
            if total > limits.max_total_size {
                return Err(limit_err(
                    &name,
                    format!(
                        "the entries add up to more than the limit of {} bytes",
                        limits.max_total_size
                    ),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(format_err(&name, "two entries have this name"));
            }
            entries.push(ZipEntry {
                name,
                method,
                crc32,
                compressed_size: csize,
                size,
                local_offset,
            });
        }
        Ok(ZipArchive { data, entries })
    }

    /// The entries, in central-directory order.
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// The index of the entry with this name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// The raw (possibly compressed) bytes of entry `index`.
    fn raw(&self, e: &ZipEntry) -> Result<&'a [u8], Error> {
        let named = |err: Error| Error::new(err.code(), e.name.as_str(), err.message());
        let mut c = Cursor::at(self.data, e.local_offset, "local header").map_err(named)?;
        if c.u32().map_err(named)? != SIG_LOCAL {
            return Err(format_err(
                &e.name,
                "the local header has a wrong signature",
            ));
        }
        let mut h = Cursor::at(self.data, e.local_offset + 26, "local header").map_err(named)?;
        let name_len = h.u16().map_err(named)?;
        let extra_len = h.u16().map_err(named)?;
        h.take(usize::from(name_len) + usize::from(extra_len))
            .map_err(named)?;
        let len = usize::try_from(e.compressed_size)
            .map_err(|_| limit_err(&e.name, "the entry does not fit in memory"))?;
        h.what = "entry data";
        h.take(len).map_err(named)
    }

    /// The content of entry `index`, inflated and CRC-checked. A CRC or size that does not
    /// match is [`ErrorCode::IntegrityCheck`], corrupt deflate data [`ErrorCode::ZipFormat`];
    /// both name the entry.
    pub fn read(&self, index: usize) -> Result<Vec<u8>, Error> {
        let e = self.entries.get(index).ok_or_else(|| {
            format_err(
                "",
                format!("no entry {index} (the archive has {})", self.entries.len()),
            )
        })?;
        let raw = self.raw(e)?;
        let size = usize::try_from(e.size)
            .map_err(|_| limit_err(&e.name, "the entry does not fit in memory"))?;
        let out = match e.method {
            METHOD_STORED => raw.to_vec(),
            _ => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, size).map_err(|err| {
                if err.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                    Error::new(
                        ErrorCode::IntegrityCheck,
                        e.name.as_str(),
                        "the entry inflates to more than its declared size",
                    )
                } else {
                    format_err(&e.name, format!("corrupt deflate data ({:?})", err.status))
                }
            })?,
        };
        if out.len() != size {
            return Err(Error::new(
                ErrorCode::IntegrityCheck,
                e.name.as_str(),
                format!("the entry has {} bytes, not the declared {size}", out.len()),
            ));
        }
        if crc32fast::hash(&out) != e.crc32 {
            return Err(Error::new(
                ErrorCode::IntegrityCheck,
                e.name.as_str(),
                "the CRC-32 does not match the content",
            ));
        }
        Ok(out)
    }

    /// The content of the entry with this name (see [`ZipArchive::read`]).
    pub fn read_by_name(&self, name: &str) -> Result<Vec<u8>, Error> {
        let i = self
            .index_of(name)
            .ok_or_else(|| format_err(name, "no such entry in the archive"))?;
        self.read(i)
    }
}
