//! Batch-session packages and invoice export packages.
//!
//! **Batch** (`POST /sessions/batch`, docs `sesja-wsadowa.md`, OpenAPI `BatchFileInfo`): one
//! ZIP of invoice XML files; `batchFile.fileSize`/`fileHash` are the size and base64 SHA-256
//! of the whole **unencrypted** archive; the archive is cut **binarily** into at most 50 parts
//! of at most 100 000 000 bytes (before encryption); each part is encrypted on its own with
//! AES-256-CBC/PKCS#7 under the session key and IV (no IV prefix); `fileParts[i]` gives the
//! 1-based ordinal, size and hash of the **encrypted** part. At most 10 000 invoices and
//! 5 GB. [`prepare_batch`] does all of it in one streaming pass: invoices come from an
//! iterator (generated lazily by the caller), ZIP bytes are cut, encrypted and hashed chunk
//! by chunk, and the encrypted bytes go to a [`PartSink`] — memory is one chunk (256 KiB)
//! plus the ZIP central directory, never a whole part. Behind `std`,
//! [`prepare_batch_parallel`] gives byte-identical output with the hashing of the archive
//! and of the encrypted parts on a second thread (SHA-256 is the bottleneck on machines
//! without SHA extensions).
//!
//! **Export** (`POST /invoices/exports`, `GET /invoices/exports/{ref}` → `package.parts`):
//! [`open_export_package`] checks each downloaded part against `encryptedPartSize`/`Hash`,
//! decrypts it, checks `partSize`/`partHash`, joins the parts into one ZIP and returns the
//! invoice XMLs with their `_metadata.json` entries.
//!
//! ```
//! use ksef::crypto::session::SessionKey;
//! use ksef::protocol::batch::{open_batch_parts, prepare_batch, BatchOptions, MemoryParts};
//!
//! let key = SessionKey::from_parts([7; 32], [9; 16]); // SessionKey::generate(&mut rng)
//! let invoices = (1..=3).map(|i| {
//!     (format!("FV-{i}.xml"), format!("<Faktura>{i}</Faktura>").into_bytes())
//! });
//! let mut parts = MemoryParts::default();
//! let batch = prepare_batch(invoices, &key, &BatchOptions::default(), &mut parts)?;
//! assert_eq!(batch.parts.len(), 1);
//! assert_eq!(batch.entries[2].file_name, "FV-3.xml");
//! let json = batch.batch_file_json(); // `batchFile` of POST /sessions/batch
//! assert_eq!(json["fileParts"][0]["ordinalNumber"], 1);
//! // Upload parts.parts[i] to partUploadRequests[i].url. To check: decrypt and join.
//! let archive = open_batch_parts(&batch, &parts, &key)?;
//! assert_eq!(archive.len() as u64, batch.file_size);
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::crypto::session::{
    BatchFileInfo, BatchFilePartInfo, SessionKey, StreamEncryptor, MAX_BATCH_FILE_SIZE,
    MAX_BATCH_PARTS, MAX_BATCH_PART_SIZE,
};
use crate::error::{Error, ErrorCode};
use crate::zip::{ByteSink, DosDateTime, Method, ZipArchive, ZipLimits, ZipOptions, ZipWriter};

/// The most invoices a batch session may hold.
pub const MAX_BATCH_INVOICES: usize = 10_000;

/// Bytes hashed and encrypted at a time (a multiple of 16).
const CHUNK: usize = 256 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn sha256_b64(bytes: &[u8]) -> String {
    B64.encode(Sha256::digest(bytes))
}

/// Limits and format of a batch package. The defaults are KSeF's limits; tests use tiny
/// parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchOptions {
    /// Largest part before encryption, in bytes (KSeF: 100 000 000).
    pub max_part_size: usize,
    /// Most parts (KSeF: 50).
    pub max_parts: usize,
    /// Most invoices (KSeF: 10 000).
    pub max_invoices: usize,
    /// Largest archive before encryption, in bytes (KSeF: 5 GB).
    pub max_total_size: u64,
    /// How the XML files are stored in the ZIP (stored by default: fastest; deflate makes
    /// parts smaller at some CPU cost).
    pub compression: Method,
    /// The timestamp of every ZIP entry (1980-01-01 00:00 by default: same input, same bytes).
    pub time: DosDateTime,
    /// Also compute each invoice's SHA-256 ([`EntryInfo::invoice_hash`]). Off by default:
    /// KSeF reports every batch invoice's `invoiceFileName`, which is what maps its result
    /// back, and this is one more SHA-256 pass over every invoice.
    pub invoice_hashes: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            max_part_size: MAX_BATCH_PART_SIZE,
            max_parts: MAX_BATCH_PARTS,
            max_invoices: MAX_BATCH_INVOICES,
            max_total_size: MAX_BATCH_FILE_SIZE,
            compression: Method::Stored,
            time: DosDateTime::default(),
            invoice_hashes: false,
        }
    }
}

/// One encrypted part: `fileParts[i]` of the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// 1-based number.
    pub ordinal: u32,
    /// Size of the encrypted part in bytes.
    pub size: u64,
    /// Base64 SHA-256 of the encrypted part.
    pub hash: String,
}

/// One invoice of the archive, for mapping KSeF's per-invoice results (`invoiceFileName`,
/// `invoiceHash`) back to the caller's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// 0-based position in the input.
    pub index: usize,
    /// The entry name in the ZIP (KSeF's `invoiceFileName`).
    pub file_name: String,
    /// Base64 SHA-256 of the XML bytes (KSeF's `invoiceHash`), when
    /// [`BatchOptions::invoice_hashes`] asked for it.
    pub invoice_hash: Option<String>,
    /// Size of the XML in bytes.
    pub invoice_size: u64,
}

/// A prepared batch: what `POST /sessions/batch` declares, and the invoices inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedBatch {
    /// Size of the unencrypted archive.
    pub file_size: u64,
    /// Base64 SHA-256 of the unencrypted archive.
    pub file_hash: String,
    /// The encrypted parts, in order.
    pub parts: Vec<PartInfo>,
    /// The invoices, in input order.
    pub entries: Vec<EntryInfo>,
}

impl PreparedBatch {
    /// The `batchFile` object (OpenAPI `BatchFileInfo`, `compressionType` left out = Zip).
    pub fn batch_file_info(&self) -> BatchFileInfo {
        BatchFileInfo {
            file_size: self.file_size,
            file_hash: self.file_hash.clone(),
            compression_type: None,
            file_parts: self
                .parts
                .iter()
                .map(|p| BatchFilePartInfo {
                    ordinal_number: p.ordinal,
                    file_size: p.size,
                    file_hash: p.hash.clone(),
                })
                .collect(),
        }
    }

    /// The `batchFile` object as JSON: `{fileSize, fileHash, fileParts: [{ordinalNumber,
    /// fileSize, fileHash}]}`.
    pub fn batch_file_json(&self) -> serde_json::Value {
        let parts: Vec<serde_json::Value> = self
            .parts
            .iter()
            .map(|p| {
                serde_json::json!({
                    "ordinalNumber": p.ordinal,
                    "fileSize": p.size,
                    "fileHash": p.hash,
                })
            })
            .collect();
        serde_json::json!({
            "fileSize": self.file_size,
            "fileHash": self.file_hash,
            "fileParts": parts,
        })
    }

    /// The entry KSeF calls `invoiceFileName`.
    pub fn entry_by_file_name(&self, name: &str) -> Option<&EntryInfo> {
        self.entries.iter().find(|e| e.file_name == name)
    }
}

// ---------------------------------------------------------------------------------------
// Where parts go, where they come from

/// Receives the encrypted parts, chunk by chunk, in order.
pub trait PartSink {
    /// A new part starts (`ordinal` from 1).
    fn begin_part(&mut self, ordinal: u32) -> Result<(), Error>;
    /// The next encrypted bytes of the current part.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error>;
    /// The current part is complete (its size and hash are in `info`).
    fn end_part(&mut self, info: &PartInfo) -> Result<(), Error>;
}

/// Gives the bytes of part `ordinal` (from 1), e.g. to upload it or to check it.
pub trait PartSource {
    /// The bytes of part `ordinal`; a missing part is [`ErrorCode::BatchIo`].
    fn part(&self, ordinal: u32) -> Result<Vec<u8>, Error>;
}

fn missing_part(ordinal: u32) -> Error {
    Error::new(
        ErrorCode::BatchIo,
        format!("part {ordinal}"),
        "there is no such part",
    )
}

/// Parts kept in memory (`parts[0]` is part 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryParts {
    /// The parts' bytes, in order.
    pub parts: Vec<Vec<u8>>,
}

impl PartSink for MemoryParts {
    fn begin_part(&mut self, _ordinal: u32) -> Result<(), Error> {
        self.parts.push(Vec::new());
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        match self.parts.last_mut() {
            Some(p) => {
                p.extend_from_slice(bytes);
                Ok(())
            }
            None => Err(Error::new(
                ErrorCode::BatchIo,
                "",
                "write before begin_part",
            )),
        }
    }

    fn end_part(&mut self, _info: &PartInfo) -> Result<(), Error> {
        Ok(())
    }
}

impl PartSource for MemoryParts {
    fn part(&self, ordinal: u32) -> Result<Vec<u8>, Error> {
        let i = usize::try_from(ordinal).unwrap_or(usize::MAX);
        i.checked_sub(1)
            .and_then(|i| self.parts.get(i))
            .cloned()
            .ok_or_else(|| missing_part(ordinal))
    }
}

#[cfg(feature = "std")]
pub use files::FileParts;

#[cfg(feature = "std")]
mod files {
    use super::*;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// Parts as files in a directory, `part_{N}.zip.aes` (written through a buffer).
    #[derive(Debug)]
    pub struct FileParts {
        dir: PathBuf,
        current: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
        paths: Vec<PathBuf>,
    }

    fn io(path: &Path, what: &str, e: &std::io::Error) -> Error {
        Error::new(
            ErrorCode::BatchIo,
            format!("{}", path.display()),
            format!("{what}: {e}"),
        )
    }

    impl FileParts {
        /// Parts go into `dir` (created if missing).
        pub fn new(dir: impl Into<PathBuf>) -> Result<FileParts, Error> {
            let dir = dir.into();
            std::fs::create_dir_all(&dir).map_err(|e| io(&dir, "cannot create", &e))?;
            Ok(FileParts {
                dir,
                current: None,
                paths: Vec::new(),
            })
        }

        /// The file of part `ordinal` (whether written yet or not).
        pub fn path(&self, ordinal: u32) -> PathBuf {
            self.dir.join(format!("part_{ordinal}.zip.aes"))
        }

        /// The files written, in order.
        pub fn paths(&self) -> &[PathBuf] {
            &self.paths
        }
    }

    impl PartSink for FileParts {
        fn begin_part(&mut self, ordinal: u32) -> Result<(), Error> {
            let path = self.path(ordinal);
            let f = std::fs::File::create(&path).map_err(|e| io(&path, "cannot create", &e))?;
            self.current = Some((path, std::io::BufWriter::with_capacity(CHUNK, f)));
            Ok(())
        }

        fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
            match &mut self.current {
                Some((path, w)) => w.write_all(bytes).map_err(|e| io(path, "cannot write", &e)),
                None => Err(Error::new(
                    ErrorCode::BatchIo,
                    "",
                    "write before begin_part",
                )),
            }
        }

        fn end_part(&mut self, _info: &PartInfo) -> Result<(), Error> {
            match self.current.take() {
                Some((path, mut w)) => {
                    w.flush().map_err(|e| io(&path, "cannot write", &e))?;
                    self.paths.push(path);
                    Ok(())
                }
                None => Err(Error::new(
                    ErrorCode::BatchIo,
                    "",
                    "end_part before begin_part",
                )),
            }
        }
    }

    impl PartSource for FileParts {
        fn part(&self, ordinal: u32) -> Result<Vec<u8>, Error> {
            let path = self.path(ordinal);
            std::fs::read(&path).map_err(|e| io(&path, "cannot read", &e))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The packer: ZIP bytes in, encrypted parts out

/// What happens to each chunk after encryption: hashing, inline or on another thread.
trait Hashing {
    /// A plain chunk and its ciphertext (already written to the sink); gives back two
    /// buffers to reuse.
    fn chunk(&mut self, plain: Vec<u8>, cipher: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>), Error>;
    /// The part ends: the SHA-256 of its ciphertext.
    fn end_part(&mut self) -> Result<[u8; 32], Error>;
    /// The archive ends: its SHA-256.
    fn finish(self) -> Result<[u8; 32], Error>;
}

#[derive(Default)]
struct InlineHashing {
    plain: Sha256,
    cipher: Sha256,
}

impl Hashing for InlineHashing {
    fn chunk(&mut self, plain: Vec<u8>, cipher: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>), Error> {
        self.plain.update(&plain);
        self.cipher.update(&cipher);
        Ok((plain, cipher))
    }

    fn end_part(&mut self) -> Result<[u8; 32], Error> {
        Ok(core::mem::take(&mut self.cipher).finalize().into())
    }

    fn finish(self) -> Result<[u8; 32], Error> {
        Ok(self.plain.finalize().into())
    }
}

struct Packer<'a, S: PartSink, H: Hashing> {
    key: &'a SessionKey,
    sink: &'a mut S,
    hashing: H,
    options: BatchOptions,
    plain: Vec<u8>,
    cipher: Vec<u8>,
    enc: Option<StreamEncryptor>,
    part_len: usize,
    total: u64,
    parts: Vec<PartInfo>,
}

impl<'a, S: PartSink, H: Hashing> Packer<'a, S, H> {
    fn new(key: &'a SessionKey, sink: &'a mut S, hashing: H, options: BatchOptions) -> Self {
        Packer {
            key,
            sink,
            hashing,
            options,
            plain: Vec::new(),
            cipher: Vec::new(),
            enc: None,
            part_len: 0,
            total: 0,
            parts: Vec::new(),
        }
    }

    /// Encrypts the buffered plain bytes (all of them, padded, when `last`), writes the
    /// ciphertext and hands both to the hashing.
    fn flush(&mut self, last: bool) -> Result<(), Error> {
        let n = self.plain.len();
        let whole = n - n % 16;
        let out_len = if last { whole + 16 } else { whole };
        self.cipher.clear();
        self.cipher.resize(out_len, 0);
        let enc = self
            .enc
            .as_mut()
            .ok_or_else(|| Error::new(ErrorCode::Encrypt, "", "no part is open"))?;
        enc.update(&self.plain[..whole], &mut self.cipher[..whole])?;
        if last {
            let enc = self
                .enc
                .take()
                .ok_or_else(|| Error::new(ErrorCode::Encrypt, "", "no part is open"))?;
            let block = enc.finish(&self.plain[whole..])?;
            self.cipher[whole..].copy_from_slice(&block);
        } else if whole != n {
            return Err(Error::new(ErrorCode::Encrypt, "", "unaligned chunk"));
        }
        self.sink.write(&self.cipher)?;
        let plain = core::mem::take(&mut self.plain);
        let cipher = core::mem::take(&mut self.cipher);
        let (mut p, c) = self.hashing.chunk(plain, cipher)?;
        p.clear();
        self.plain = p;
        self.cipher = c;
        Ok(())
    }

    fn end_part(&mut self) -> Result<(), Error> {
        self.flush(true)?;
        let hash = self.hashing.end_part()?;
        let len = len64(self.part_len);
        let info = PartInfo {
            ordinal: u32::try_from(self.parts.len() + 1).unwrap_or(u32::MAX),
            size: len + 16 - len % 16,
            hash: B64.encode(hash),
        };
        self.sink.end_part(&info)?;
        self.parts.push(info);
        self.part_len = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<(u64, String, Vec<PartInfo>), Error> {
        if self.enc.is_some() {
            self.end_part()?;
        }
        let hash = self.hashing.finish()?;
        Ok((self.total, B64.encode(hash), self.parts))
    }
}

impl<S: PartSink, H: Hashing> ByteSink for Packer<'_, S, H> {
    fn write(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        self.total += len64(bytes.len());
        if self.total > self.options.max_total_size {
            return Err(Error::new(
                ErrorCode::BatchTooLarge,
                "batchFile.fileSize",
                format!(
                    "the archive exceeds the limit of {} bytes",
                    self.options.max_total_size
                ),
            ));
        }
        while !bytes.is_empty() {
            if self.enc.is_none() {
                if self.parts.len() >= self.options.max_parts {
                    return Err(Error::new(
                        ErrorCode::BatchTooManyParts,
                        "batchFile.fileParts",
                        format!(
                            "the archive needs more than {} parts of {} bytes",
                            self.options.max_parts, self.options.max_part_size
                        ),
                    ));
                }
                let ordinal = u32::try_from(self.parts.len() + 1).unwrap_or(u32::MAX);
                self.sink.begin_part(ordinal)?;
                self.enc = Some(self.key.stream_encryptor());
                if self.plain.capacity() < CHUNK {
                    self.plain.reserve_exact(CHUNK - self.plain.len());
                }
            }
            let room = (self.options.max_part_size - self.part_len).min(CHUNK - self.plain.len());
            let n = room.min(bytes.len());
            self.plain.extend_from_slice(&bytes[..n]);
            self.part_len += n;
            bytes = &bytes[n..];
            if self.part_len == self.options.max_part_size {
                self.end_part()?;
            } else if self.plain.len() == CHUNK {
                self.flush(false)?;
            }
        }
        Ok(())
    }
}

fn check_options(o: &BatchOptions) -> Result<(), Error> {
    if o.max_part_size == 0 || o.max_parts == 0 || o.max_invoices == 0 {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "BatchOptions",
            "max_part_size, max_parts and max_invoices must be at least 1",
        ));
    }
    Ok(())
}

fn run<I, N, X, S, H>(
    invoices: I,
    key: &SessionKey,
    options: &BatchOptions,
    sink: &mut S,
    hashing: H,
) -> Result<PreparedBatch, Error>
where
    I: IntoIterator<Item = (N, X)>,
    N: AsRef<str>,
    X: AsRef<[u8]>,
    S: PartSink,
    H: Hashing,
{
    check_options(options)?;
    let packer = Packer::new(key, sink, hashing, *options);
    let mut zip = ZipWriter::new(
        packer,
        ZipOptions {
            method: options.compression,
            time: options.time,
            zip64_always: false,
        },
    );
    let mut entries = Vec::new();
    for (index, (name, xml)) in invoices.into_iter().enumerate() {
        let (name, xml) = (name.as_ref(), xml.as_ref());
        if index >= options.max_invoices {
            return Err(Error::new(
                ErrorCode::BatchTooManyInvoices,
                name,
                format!("a batch may hold at most {} invoices", options.max_invoices),
            ));
        }
        zip.add(name, xml)?;
        entries.push(EntryInfo {
            index,
            file_name: String::from(name),
            invoice_hash: options.invoice_hashes.then(|| sha256_b64(xml)),
            invoice_size: len64(xml.len()),
        });
    }
    if entries.is_empty() {
        return Err(Error::new(
            ErrorCode::BatchEmpty,
            "",
            "a batch needs at least one invoice",
        ));
    }
    let (file_size, file_hash, parts) = zip.finish()?.finish()?;
    Ok(PreparedBatch {
        file_size,
        file_hash,
        parts,
        entries,
    })
}

/// Builds, cuts, encrypts and hashes a batch package in one streaming pass on this thread.
///
/// `invoices` yields `(file name in the ZIP, XML bytes)`; the encrypted parts go to `sink`.
/// Errors: more invoices than `max_invoices` [`ErrorCode::BatchTooManyInvoices`] (naming the
/// first one too many), more parts than `max_parts` [`ErrorCode::BatchTooManyParts`], a
/// bigger archive than `max_total_size` [`ErrorCode::BatchTooLarge`], no invoice
/// [`ErrorCode::BatchEmpty`], a bad or duplicate file name [`ErrorCode::ZipEntryName`], and
/// whatever the sink returns. Limits are checked while streaming: the sink may have received
/// some parts when an error comes.
pub fn prepare_batch<I, N, X, S>(
    invoices: I,
    key: &SessionKey,
    options: &BatchOptions,
    sink: &mut S,
) -> Result<PreparedBatch, Error>
where
    I: IntoIterator<Item = (N, X)>,
    N: AsRef<str>,
    X: AsRef<[u8]>,
    S: PartSink,
{
    run(invoices, key, options, sink, InlineHashing::default())
}

#[cfg(feature = "std")]
mod threaded {
    use super::*;
    use std::sync::mpsc;

    /// Buffers in flight per worker at most (4 × 256 KiB).
    const POOL: usize = 4;

    pub(super) enum Msg {
        Chunk(Vec<u8>),
        EndPart,
    }

    /// What a worker sends back: a buffer to reuse, or the hash of a finished part.
    pub(super) type Back = mpsc::Sender<Result<Vec<u8>, [u8; 32]>>;

    /// A hashing thread: SHA-256 of every chunk it is sent (ring's assembly SHA-256, about
    /// twice the portable code's speed on CPUs without SHA extensions); buffers go back.
    pub(super) fn worker(
        rx: mpsc::Receiver<Msg>,
        back: mpsc::Sender<Result<Vec<u8>, [u8; 32]>>,
    ) -> [u8; 32] {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        while let Ok(msg) = rx.recv() {
            match msg {
                Msg::Chunk(b) => {
                    ctx.update(&b);
                    if back.send(Ok(b)).is_err() {
                        break;
                    }
                }
                Msg::EndPart => {
                    let done = core::mem::replace(
                        &mut ctx,
                        ring::digest::Context::new(&ring::digest::SHA256),
                    );
                    if back.send(Err(digest32(done.finish()))).is_err() {
                        break;
                    }
                }
            }
        }
        digest32(ctx.finish())
    }

    fn digest32(d: ring::digest::Digest) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    fn gone() -> Error {
        Error::new(ErrorCode::Encrypt, "", "a hashing thread stopped")
    }

    /// One side (plain archive or encrypted parts): the channel to its worker and the
    /// buffers it has given back.
    pub(super) struct Lane {
        tx: Option<mpsc::SyncSender<Msg>>,
        rx: mpsc::Receiver<Result<Vec<u8>, [u8; 32]>>,
        pool: Vec<Vec<u8>>,
        allocated: usize,
        capacity: usize,
    }

    impl Lane {
        pub(super) fn new(capacity: usize) -> (Lane, mpsc::Receiver<Msg>, Back) {
            let (tx, wrx) = mpsc::sync_channel(POOL);
            let (wtx, rx) = mpsc::channel();
            (
                Lane {
                    tx: Some(tx),
                    rx,
                    pool: Vec::new(),
                    allocated: 1, // the packer's own buffer
                    capacity,
                },
                wrx,
                wtx,
            )
        }

        /// Hands a buffer to the worker and gives one back to fill.
        fn swap(&mut self, buf: Vec<u8>) -> Result<Vec<u8>, Error> {
            self.tx
                .as_ref()
                .ok_or_else(gone)?
                .send(Msg::Chunk(buf))
                .map_err(|_| gone())?;
            while let Ok(Ok(b)) = self.rx.try_recv() {
                self.pool.push(b);
            }
            if let Some(b) = self.pool.pop() {
                return Ok(b);
            }
            if self.allocated < POOL {
                self.allocated += 1;
                return Ok(Vec::with_capacity(self.capacity));
            }
            match self.rx.recv() {
                Ok(Ok(b)) => Ok(b),
                _ => Err(gone()),
            }
        }

        fn end_part(&mut self) -> Result<[u8; 32], Error> {
            self.tx
                .as_ref()
                .ok_or_else(gone)?
                .send(Msg::EndPart)
                .map_err(|_| gone())?;
            loop {
                match self.rx.recv() {
                    Ok(Ok(b)) => self.pool.push(b),
                    Ok(Err(h)) => return Ok(h),
                    Err(_) => return Err(gone()),
                }
            }
        }
    }

    /// The plain archive hashed on one thread, the encrypted parts on another; this thread
    /// reads, zips and encrypts.
    pub(super) struct ThreadHashing {
        pub(super) plain: Lane,
        pub(super) cipher: Lane,
    }

    impl Hashing for ThreadHashing {
        fn chunk(&mut self, plain: Vec<u8>, cipher: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>), Error> {
            Ok((self.plain.swap(plain)?, self.cipher.swap(cipher)?))
        }

        fn end_part(&mut self) -> Result<[u8; 32], Error> {
            self.cipher.end_part()
        }

        fn finish(self) -> Result<[u8; 32], Error> {
            // Dropping the senders ends the workers; the caller joins the plain one for the
            // archive hash.
            drop(self);
            Ok([0; 32])
        }
    }
}

/// [`prepare_batch`] as a three-stage pipeline: this thread reads the invoices, builds the
/// ZIP and encrypts; one thread hashes the plain archive, another the encrypted parts (with
/// ring's assembly SHA-256; at most 4 chunks per side, 2 MiB in all, are in flight). The
/// output is byte-identical to [`prepare_batch`]'s. The sink and the invoices stay on the
/// calling thread.
#[cfg(feature = "std")]
pub fn prepare_batch_parallel<I, N, X, S>(
    invoices: I,
    key: &SessionKey,
    options: &BatchOptions,
    sink: &mut S,
) -> Result<PreparedBatch, Error>
where
    I: IntoIterator<Item = (N, X)>,
    N: AsRef<str>,
    X: AsRef<[u8]>,
    S: PartSink,
{
    let (plain, prx, ptx) = threaded::Lane::new(CHUNK);
    let (cipher, crx, ctx) = threaded::Lane::new(CHUNK + 16);
    std::thread::scope(|scope| {
        let plain_worker = scope.spawn(move || threaded::worker(prx, ptx));
        let cipher_worker = scope.spawn(move || threaded::worker(crx, ctx));
        let hashing = threaded::ThreadHashing { plain, cipher };
        let result = run(invoices, key, options, sink, hashing);
        // `run` dropped the hashing (and its senders) whatever happened: the workers end.
        let panicked = || Error::new(ErrorCode::Encrypt, "", "a hashing thread panicked");
        let plain_hash = plain_worker.join().map_err(|_| panicked())?;
        cipher_worker.join().map_err(|_| panicked())?;
        let mut batch = result?;
        batch.file_hash = B64.encode(plain_hash);
        Ok(batch)
    })
}

/// Decrypts the parts of a prepared batch, checks each against its size and hash and the
/// joined archive against `file_size`/`file_hash`, and gives the archive (a self-check, and
/// the server side in a simulator). Mismatches are [`ErrorCode::IntegrityCheck`].
pub fn open_batch_parts(
    batch: &PreparedBatch,
    parts: &impl PartSource,
    key: &SessionKey,
) -> Result<Vec<u8>, Error> {
    let info = batch.batch_file_info();
    let mut archive = Vec::new();
    for p in &info.file_parts {
        let bytes = parts.part(p.ordinal_number)?;
        p.check(&bytes).map_err(|e| {
            Error::new(
                e.code(),
                format!("fileParts[{}].{}", p.ordinal_number, e.path()),
                e.message(),
            )
        })?;
        archive.extend_from_slice(&key.decrypt(&bytes)?);
    }
    info.check_archive(&archive)?;
    Ok(archive)
}

// ---------------------------------------------------------------------------------------
// Export packages

/// One part of an export package (OpenAPI `InvoicePackagePart`; the URL fields are not
/// needed here).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportPart {
    /// 1-based number.
    pub ordinal_number: u32,
    /// File name (`…-001.zip.aes`).
    #[serde(default)]
    pub part_name: String,
    /// Size of the decrypted part.
    pub part_size: u64,
    /// Base64 SHA-256 of the decrypted part.
    pub part_hash: String,
    /// Size of the encrypted part (as downloaded).
    pub encrypted_part_size: u64,
    /// Base64 SHA-256 of the encrypted part.
    pub encrypted_part_hash: String,
}

/// One invoice of an export package.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportedInvoice {
    /// The entry name in the ZIP.
    pub file_name: String,
    /// The XML bytes as KSeF stores them.
    pub xml: Vec<u8>,
    /// Its `InvoiceMetadata` from `_metadata.json` (matched by `ksefNumber` = file name
    /// without `.xml`), if there is one.
    pub metadata: Option<serde_json::Value>,
}

/// The content of an export package.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportPackage {
    /// The invoices (every entry except `_metadata.json`), in archive order.
    pub invoices: Vec<ExportedInvoice>,
    /// The `invoices` array of `_metadata.json` (empty when the file is absent).
    pub metadata: Vec<serde_json::Value>,
}

/// Reads the part list from `json`: the export status response (`{package: {parts}}`), the
/// `package` object (`{parts}`) or the `parts` array itself.
pub fn export_parts_from_json(json: &str) -> Result<Vec<ExportPart>, Error> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        Error::new(
            ErrorCode::JsonSyntax,
            format!("line {}, column {}", e.line(), e.column()),
            format!("{e}"),
        )
    })?;
    let (parts, path) = if let Some(p) = v.get("package").and_then(|p| p.get("parts")) {
        (p.clone(), "package.parts")
    } else if let Some(p) = v.get("parts") {
        (p.clone(), "parts")
    } else {
        (v, "")
    };
    let mut parts: Vec<ExportPart> = serde_json::from_value(parts).map_err(|e| {
        Error::new(
            ErrorCode::InvalidValue,
            path,
            format!("not a list of InvoicePackagePart: {e}"),
        )
    })?;
    parts.sort_by_key(|p| p.ordinal_number);
    for (i, p) in parts.iter().enumerate() {
        if usize::try_from(p.ordinal_number).ok() != Some(i + 1) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("{path}[{i}].ordinalNumber"),
                "the parts are not numbered 1, 2, … without gaps",
            ));
        }
    }
    Ok(parts)
}

fn part_mismatch(ordinal: u32, field: &str, what: &str) -> Error {
    Error::new(
        ErrorCode::IntegrityCheck,
        format!("parts[{ordinal}].{field}"),
        format!("{what} does not match the downloaded part"),
    )
}

/// The metadata file in an export package.
pub const EXPORT_METADATA_FILE: &str = "_metadata.json";

/// Opens an export package: for each part (from `source`, by ordinal) checks
/// `encryptedPartSize`/`encryptedPartHash`, decrypts with `key` (the one given to
/// `POST /invoices/exports`), checks `partSize`/`partHash`; joins the parts, reads the ZIP
/// within `limits`, and returns the invoices with their `_metadata.json` entries.
///
/// Mismatches are [`ErrorCode::IntegrityCheck`] with path `parts[N].field`; a wrong key
/// [`ErrorCode::Decrypt`]; a bad archive [`ErrorCode::ZipFormat`]/[`ErrorCode::ZipLimit`]
/// naming the entry; a `_metadata.json` that is not `{"invoices": [...]}`
/// [`ErrorCode::InvalidValue`].
pub fn open_export_package(
    parts: &[ExportPart],
    source: &impl PartSource,
    key: &SessionKey,
    limits: &ZipLimits,
) -> Result<ExportPackage, Error> {
    if parts.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            "parts",
            "the package has no parts",
        ));
    }
    let mut archive = Vec::new();
    for p in parts {
        let n = p.ordinal_number;
        let enc = source.part(n)?;
        if len64(enc.len()) != p.encrypted_part_size {
            return Err(part_mismatch(n, "encryptedPartSize", "encryptedPartSize"));
        }
        if sha256_b64(&enc) != p.encrypted_part_hash {
            return Err(part_mismatch(n, "encryptedPartHash", "encryptedPartHash"));
        }
        let plain = key
            .decrypt(&enc)
            .map_err(|e| Error::new(e.code(), format!("parts[{n}]"), e.message()))?;
        if len64(plain.len()) != p.part_size {
            return Err(part_mismatch(n, "partSize", "partSize"));
        }
        if sha256_b64(&plain) != p.part_hash {
            return Err(part_mismatch(n, "partHash", "partHash"));
        }
        if len64(archive.len()) + len64(plain.len()) > limits.max_total_size {
            return Err(Error::new(
                ErrorCode::ZipLimit,
                format!("parts[{n}]"),
                "the package is larger than the configured limit",
            ));
        }
        archive.extend_from_slice(&plain);
    }
    let zip = ZipArchive::new(&archive, limits)?;
    let mut metadata = Vec::new();
    if let Some(i) = zip.index_of(EXPORT_METADATA_FILE) {
        let bytes = zip.read(i)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(
                ErrorCode::JsonSyntax,
                format!(
                    "{EXPORT_METADATA_FILE}: line {}, column {}",
                    e.line(),
                    e.column()
                ),
                format!("{e}"),
            )
        })?;
        match v.get("invoices") {
            Some(serde_json::Value::Array(a)) => metadata = a.clone(),
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    EXPORT_METADATA_FILE,
                    "expected an object with an `invoices` array",
                ))
            }
        }
    }
    let mut invoices = Vec::new();
    for (i, e) in zip.entries().iter().enumerate() {
        if e.name() == EXPORT_METADATA_FILE || e.is_dir() {
            continue;
        }
        let xml = zip.read(i)?;
        let stem = e.name().rsplit('/').next().unwrap_or("");
        let stem = stem.strip_suffix(".xml").unwrap_or(stem);
        let meta = metadata
            .iter()
            .find(|m| m.get("ksefNumber").and_then(|k| k.as_str()) == Some(stem))
            .cloned();
        invoices.push(ExportedInvoice {
            file_name: String::from(e.name()),
            xml,
            metadata: meta,
        });
    }
    Ok(ExportPackage { invoices, metadata })
}
