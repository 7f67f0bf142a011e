//! ZIP writer/reader (round trips and interop with Python's `zipfile`, an independent
//! implementation) and batch / export packaging.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha256};

use ksef::crypto::session::SessionKey;
use ksef::protocol::batch::{
    export_parts_from_json, open_batch_parts, open_export_package, prepare_batch,
    prepare_batch_parallel, BatchOptions, FileParts, MemoryParts, PartSource,
};
use ksef::zip::{DosDateTime, Method, ZipArchive, ZipLimits, ZipOptions, ZipWriter};
use ksef::ErrorCode;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn sha(b: &[u8]) -> String {
    b64(&Sha256::digest(b))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-batch")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed for the ZIP interoperability tests");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn sample_invoices(n: usize) -> Vec<(String, Vec<u8>)> {
    let sample =
        std::fs::read(common::spec_dir().join("samples/fa3/FA_3_Przyklad_01.xml")).unwrap();
    let text = String::from_utf8(sample).unwrap();
    (0..n)
        .map(|i| {
            let xml = text.replace(
                "<P_2>FV2026/02/150</P_2>",
                &format!("<P_2>FV2026/02/{i:05}</P_2>"),
            );
            (format!("faktura-{i:05}.xml"), xml.into_bytes())
        })
        .collect()
}

fn key() -> SessionKey {
    SessionKey::from_parts([0x11; 32], [0x22; 16])
}

// ---------------------------------------------------------------------------------------
// ZIP

fn write_zip(opts: ZipOptions, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Vec::new(), opts);
    for (n, d) in files {
        w.add(n, d).unwrap();
    }
    w.finish().unwrap()
}

const FILES: &[(&str, &[u8])] = &[
    ("a.xml", b"<Faktura>1</Faktura>"),
    ("katalog/zażółć.xml", b"<Faktura>\xc5\xbc</Faktura>"),
    ("empty.xml", b""),
    (
        "big.xml",
        b"<x>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</x>",
    ),
];

#[test]
fn zip_round_trip_and_python_reads_ours() {
    let dir = tmp("zip-interop");
    for (i, opts) in [
        ZipOptions::default(),
        ZipOptions {
            method: Method::Deflate(6),
            ..ZipOptions::default()
        },
        ZipOptions {
            zip64_always: true,
            time: DosDateTime::new(2026, 2, 15, 13, 45, 30).unwrap(),
            ..ZipOptions::default()
        },
        ZipOptions {
            method: Method::Deflate(1),
            zip64_always: true,
            ..ZipOptions::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = write_zip(opts, FILES);
        // Deterministic: the same input gives the same bytes.
        assert_eq!(bytes, write_zip(opts, FILES));
        let zip = ZipArchive::new(&bytes, &ZipLimits::default()).unwrap();
        assert_eq!(zip.entries().len(), FILES.len());
        for (j, (name, data)) in FILES.iter().enumerate() {
            assert_eq!(zip.entries()[j].name(), *name);
            assert_eq!(zip.read(j).unwrap(), *data);
            assert_eq!(zip.read_by_name(name).unwrap(), *data);
        }
        let path = dir.join(format!("ours-{i}.zip"));
        std::fs::write(&path, &bytes).unwrap();
        // Python's zipfile: test (CRC of every member) and list names, sizes, dates, content hashes.
        let out = python(
            "import sys, zipfile, hashlib\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             assert z.testzip() is None\n\
             for i in z.infolist():\n\
             \x20   print(i.filename, i.file_size, i.date_time, hashlib.sha256(z.read(i)).hexdigest(), i.flag_bits & 0x800)\n",
            &[&path],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), FILES.len(), "{out}");
        for ((name, data), line) in FILES.iter().zip(&lines) {
            let date = if i == 2 {
                "(2026, 2, 15, 13, 45, 30)"
            } else {
                "(1980, 1, 1, 0, 0, 0)"
            };
            let expected = format!(
                "{name} {} {date} {:x} 2048",
                data.len(),
                Sha256::digest(data)
            );
            assert_eq!(*line, expected);
        }
        let t = Command::new("python3")
            .args(["-m", "zipfile", "-t"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    }
}

#[test]
fn zip64_by_entry_count() {
    // 70 000 entries need the ZIP64 end records (the 16-bit count overflows).
    let mut w = ZipWriter::new(Vec::new(), ZipOptions::default());
    for i in 0..70_000u32 {
        w.add(&format!("{i}"), &i.to_le_bytes()).unwrap();
    }
    let bytes = w.finish().unwrap();
    let zip = ZipArchive::new(&bytes, &ZipLimits::default()).unwrap();
    assert_eq!(zip.entries().len(), 70_000);
    assert_eq!(zip.read(69_999).unwrap(), 69_999u32.to_le_bytes());
    let path = tmp("zip64-count").join("many.zip");
    std::fs::write(&path, &bytes).unwrap();
    let out = python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(len(z.infolist()), z.read('69999').hex())",
        &[&path],
    );
    assert_eq!(out.trim(), "70000 6f110100");
    // Over the configured entry limit.
    let e = ZipArchive::new(
        &bytes,
        &ZipLimits {
            max_entries: 1000,
            ..ZipLimits::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ZipLimit);
}

#[test]
fn our_reader_reads_python_archives() {
    let dir = tmp("zip-python");
    let path = dir.join("py.zip");
    python(
        "import sys, zipfile\n\
         with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
         \x20   z.writestr(zipfile.ZipInfo('stored.xml'), b'<a/>' * 100)\n\
         \x20   z.writestr('deflated.xml', b'<Faktura>' + b'x' * 5000 + b'</Faktura>', compress_type=zipfile.ZIP_DEFLATED)\n\
         \x20   z.writestr('\u{17c}\u{f3}\u{142}w.xml', b'utf8 name', compress_type=zipfile.ZIP_DEFLATED)\n\
         \x20   with z.open('forced64.xml', 'w', force_zip64=True) as f:\n\
         \x20       f.write(b'zip64 local header and data descriptor')\n\
         \x20   z.mkdir('folder') if hasattr(z, 'mkdir') else None\n",
        &[&path],
    );
    let bytes = std::fs::read(&path).unwrap();
    let zip = ZipArchive::new(&bytes, &ZipLimits::default()).unwrap();
    assert_eq!(zip.read_by_name("stored.xml").unwrap(), b"<a/>".repeat(100));
    let d = zip.read_by_name("deflated.xml").unwrap();
    assert_eq!(d.len(), 5000 + 19);
    assert_eq!(
        zip.entries()[zip.index_of("deflated.xml").unwrap()].method(),
        8
    );
    assert_eq!(zip.read_by_name("żółw.xml").unwrap(), b"utf8 name");
    assert_eq!(
        zip.read_by_name("forced64.xml").unwrap(),
        b"zip64 local header and data descriptor"
    );
    // The `zip` command-line tool too (Info-ZIP), when installed.
    if Command::new("zip").arg("-v").output().is_ok() {
        let src = dir.join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("f1.xml"), b"<Faktura>1</Faktura>".repeat(50)).unwrap();
        std::fs::write(src.join("f2.xml"), b"").unwrap();
        let st = Command::new("zip")
            .current_dir(&src)
            .args(["-q", "-X", "../cli.zip", "f1.xml", "f2.xml"])
            .status()
            .unwrap();
        assert!(st.success());
        let bytes = std::fs::read(dir.join("cli.zip")).unwrap();
        let zip = ZipArchive::new(&bytes, &ZipLimits::default()).unwrap();
        assert_eq!(
            zip.read_by_name("f1.xml").unwrap(),
            b"<Faktura>1</Faktura>".repeat(50)
        );
        assert_eq!(zip.read_by_name("f2.xml").unwrap(), b"");
    }
}

#[test]
fn bad_names_are_named() {
    let mut w = ZipWriter::new(Vec::new(), ZipOptions::default());
    w.add("ok.xml", b"1").unwrap();
    for bad in [
        "",
        "/abs.xml",
        "C:/x.xml",
        "../up.xml",
        "a/../b.xml",
        "a//b.xml",
        "dir/",
        "a\\b.xml",
        "./a.xml",
        "tab\t.xml",
        "ok.xml",
    ] {
        let e = w.add(bad, b"2").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ZipEntryName, "{bad:?}");
        assert_eq!(e.path(), bad);
    }
    // Nothing was written for the refused names.
    let bytes = w.finish().unwrap();
    assert_eq!(
        ZipArchive::new(&bytes, &ZipLimits::default())
            .unwrap()
            .entries()
            .len(),
        1
    );
    assert!(DosDateTime::new(1979, 12, 31, 0, 0, 0).is_err());
    assert!(DosDateTime::new(2026, 13, 1, 0, 0, 0).is_err());
}

#[test]
fn reader_errors_are_typed_and_named() {
    let good = write_zip(ZipOptions::default(), FILES);
    let lim = ZipLimits::default();
    // Not a ZIP, truncated.
    assert_eq!(
        ZipArchive::new(b"hello", &lim).unwrap_err().code(),
        ErrorCode::ZipFormat
    );
    assert_eq!(
        ZipArchive::new(&good[..good.len() - 1], &lim)
            .unwrap_err()
            .code(),
        ErrorCode::ZipFormat
    );
    assert_eq!(
        ZipArchive::new(&good[40..], &lim).unwrap_err().code(),
        ErrorCode::ZipFormat
    );
    // A flipped data byte: CRC mismatch naming the entry.
    let mut bad = good.clone();
    let pos = bad
        .windows(20)
        .position(|w| w == b"<Faktura>1</Faktura>")
        .unwrap();
    bad[pos + 9] = b'2';
    let zip = ZipArchive::new(&bad, &lim).unwrap();
    let e = zip.read(0).unwrap_err();
    assert_eq!((e.code(), e.path()), (ErrorCode::IntegrityCheck, "a.xml"));
    assert!(e.message().contains("CRC"), "{e}");
    // Limits name the entry.
    let e = ZipArchive::new(
        &good,
        &ZipLimits {
            max_entry_size: 50,
            ..lim
        },
    )
    .unwrap_err();
    assert_eq!((e.code(), e.path()), (ErrorCode::ZipLimit, "big.xml"));
    let e = ZipArchive::new(
        &good,
        &ZipLimits {
            max_total_size: 30,
            ..lim
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ZipLimit);
    // A deflate entry that inflates beyond its declared size (a lying header, zip-bomb
    // style): stops at the declared size.
    let deflated = write_zip(
        ZipOptions {
            method: Method::Deflate(6),
            ..ZipOptions::default()
        },
        &[("bomb.xml", &[b'A'; 10_000])],
    );
    let mut lying = deflated.clone();
    // Central directory: uncompressed size at offset 24 of the record.
    let cd = lying
        .windows(4)
        .rposition(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .unwrap();
    lying[cd + 24..cd + 28].copy_from_slice(&100u32.to_le_bytes());
    let e = ZipArchive::new(&lying, &lim).unwrap().read(0).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::IntegrityCheck, "bomb.xml")
    );
    // An unsupported method names the entry.
    let mut m = deflated.clone();
    m[cd + 10] = 14; // LZMA
    let e = ZipArchive::new(&m, &lim).unwrap_err();
    assert_eq!((e.code(), e.path()), (ErrorCode::ZipFormat, "bomb.xml"));
}

// ---------------------------------------------------------------------------------------
// Batch

fn tiny(max_part_size: usize) -> BatchOptions {
    BatchOptions {
        max_part_size,
        invoice_hashes: true,
        ..BatchOptions::default()
    }
}

#[test]
fn batch_tiny_parts_decrypt_to_the_archive() {
    let invoices = sample_invoices(10);
    let k = key();
    let mut parts = MemoryParts::default();
    let batch = prepare_batch(invoices.iter().cloned(), &k, &tiny(10_000), &mut parts).unwrap();
    assert!(batch.parts.len() >= 3, "{}", batch.parts.len());
    assert_eq!(parts.parts.len(), batch.parts.len());
    let mut archive = Vec::new();
    for (i, (p, bytes)) in batch.parts.iter().zip(&parts.parts).enumerate() {
        assert_eq!(p.ordinal as usize, i + 1);
        assert_eq!(p.size as usize, bytes.len());
        assert_eq!(p.hash, sha(bytes));
        let plain = k.decrypt(bytes).unwrap();
        assert!(plain.len() <= 10_000);
        if i + 1 < batch.parts.len() {
            assert_eq!(plain.len(), 10_000, "all but the last part are full");
        }
        // Each part is encrypted on its own: the same as encrypting the slice in one go.
        assert_eq!(k.encrypt(&plain), *bytes);
        archive.extend(plain);
    }
    assert_eq!(archive.len() as u64, batch.file_size);
    assert_eq!(batch.file_hash, sha(&archive));
    assert_eq!(open_batch_parts(&batch, &parts, &k).unwrap(), archive);
    // The archive holds the invoices, named, with their hashes.
    let zip = ZipArchive::new(&archive, &ZipLimits::default()).unwrap();
    for (e, (name, xml)) in batch.entries.iter().zip(&invoices) {
        assert_eq!(&e.file_name, name);
        assert_eq!(e.invoice_hash.as_deref(), Some(sha(xml).as_str()));
        assert_eq!(e.invoice_size as usize, xml.len());
        assert_eq!(zip.read(e.index).unwrap(), *xml);
    }
    assert_eq!(
        batch.entry_by_file_name("faktura-00003.xml").unwrap().index,
        3
    );
    // The request JSON.
    let json = batch.batch_file_json();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(json["fileSize"], batch.file_size);
    assert_eq!(json["fileHash"], batch.file_hash.as_str());
    assert_eq!(
        json["fileParts"].as_array().unwrap().len(),
        batch.parts.len()
    );
    assert_eq!(json["fileParts"][1]["ordinalNumber"], 2);
    assert_eq!(json["fileParts"][1]["fileSize"], batch.parts[1].size);
    assert_eq!(
        json["fileParts"][1]["fileHash"],
        batch.parts[1].hash.as_str()
    );
    assert_eq!(
        serde_json::to_value(batch.batch_file_info()).unwrap(),
        json,
        "the crypto::session BatchFileInfo serializes the same"
    );
    // A tampered part is refused by the self-check.
    let mut t = parts.clone();
    t.parts[1][5] ^= 1;
    let e = open_batch_parts(&batch, &t, &k).unwrap_err();
    assert_eq!(e.code(), ErrorCode::IntegrityCheck);
    assert_eq!(e.path(), "fileParts[2].fileHash");
}

#[test]
fn part_boundaries_on_block_edges_and_chunk_edges() {
    // Part sizes that are multiples of 16 (full padding block), odd, and larger than the
    // internal chunk; deflate too. Each must decrypt to the same archive as one part.
    let invoices = sample_invoices(120);
    let k = key();
    for method in [Method::Stored, Method::Deflate(6)] {
        let opts = BatchOptions {
            compression: method,
            ..BatchOptions::default()
        };
        let mut one = MemoryParts::default();
        let whole = prepare_batch(invoices.iter().cloned(), &k, &opts, &mut one).unwrap();
        assert_eq!(whole.parts.len(), 1);
        let archive = k.decrypt(&one.parts[0]).unwrap();
        for size in [4096, 4097, 300_000, 262_144] {
            let mut parts = MemoryParts::default();
            let opts = BatchOptions {
                max_part_size: size,
                max_parts: 1000,
                ..opts
            };
            let b = prepare_batch(invoices.iter().cloned(), &k, &opts, &mut parts).unwrap();
            assert_eq!(b.file_hash, whole.file_hash);
            assert_eq!(b.parts.len(), archive.len().div_ceil(size));
            assert_eq!(open_batch_parts(&b, &parts, &k).unwrap(), archive);
        }
    }
}

#[test]
fn parallel_path_is_byte_identical() {
    let invoices = sample_invoices(300);
    let k = key();
    for size in [100_000_000, 50_000, 262_144, 333_333] {
        let opts = tiny(size);
        let mut a = MemoryParts::default();
        let mut b = MemoryParts::default();
        let x = prepare_batch(invoices.iter().cloned(), &k, &opts, &mut a).unwrap();
        let y = prepare_batch_parallel(invoices.iter().cloned(), &k, &opts, &mut b).unwrap();
        assert_eq!(x, y, "size {size}");
        assert_eq!(a, b, "size {size}");
    }
    // Errors come through the parallel path too.
    let e = prepare_batch_parallel(
        invoices.iter().cloned(),
        &k,
        &BatchOptions {
            max_part_size: 1000,
            ..BatchOptions::default()
        },
        &mut MemoryParts::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BatchTooManyParts);
}

#[test]
fn batch_limits_are_typed() {
    let inv = sample_invoices(5);
    let k = key();
    let run = |opts: BatchOptions, inv: Vec<(String, Vec<u8>)>| {
        prepare_batch(inv, &k, &opts, &mut MemoryParts::default()).unwrap_err()
    };
    let e = run(
        BatchOptions {
            max_invoices: 4,
            ..BatchOptions::default()
        },
        inv.clone(),
    );
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::BatchTooManyInvoices, "faktura-00004.xml")
    );
    let e = run(
        BatchOptions {
            max_part_size: 1000,
            max_parts: 3,
            ..BatchOptions::default()
        },
        inv.clone(),
    );
    assert_eq!(e.code(), ErrorCode::BatchTooManyParts);
    let e = run(
        BatchOptions {
            max_total_size: 5000,
            ..BatchOptions::default()
        },
        inv.clone(),
    );
    assert_eq!(e.code(), ErrorCode::BatchTooLarge);
    let e = run(BatchOptions::default(), Vec::new());
    assert_eq!(e.code(), ErrorCode::BatchEmpty);
    let mut dup = inv.clone();
    dup[3].0 = dup[1].0.clone();
    let e = run(BatchOptions::default(), dup);
    assert_eq!(
        (e.code(), e.path()),
        (ErrorCode::ZipEntryName, "faktura-00001.xml")
    );
    let e = run(tiny(0), inv);
    assert_eq!(e.code(), ErrorCode::InvalidValue);
}

#[test]
fn file_parts_write_and_read_back() {
    let dir = tmp("file-parts");
    let invoices = sample_invoices(10);
    let k = key();
    let mut files = FileParts::new(dir.join("out")).unwrap();
    let batch = prepare_batch(invoices.iter().cloned(), &k, &tiny(8_000), &mut files).unwrap();
    assert_eq!(files.paths().len(), batch.parts.len());
    let mut mem = MemoryParts::default();
    prepare_batch(invoices, &k, &tiny(8_000), &mut mem).unwrap();
    for p in &batch.parts {
        assert_eq!(files.part(p.ordinal).unwrap(), mem.part(p.ordinal).unwrap());
        assert!(files
            .path(p.ordinal)
            .ends_with(format!("part_{}.zip.aes", p.ordinal)));
    }
    open_batch_parts(&batch, &files, &k).unwrap();
    let e = files.part(99).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BatchIo);
    assert_eq!(mem.part(0).unwrap_err().code(), ErrorCode::BatchIo);
}

// ---------------------------------------------------------------------------------------
// Export packages

/// An export package as KSeF would send it: ZIP (deflate) of the XMLs + `_metadata.json`,
/// split into parts, each encrypted; and the `package` JSON of the status response.
fn export_fixture(
    k: &SessionKey,
    part_size: usize,
) -> (String, MemoryParts, Vec<(String, Vec<u8>)>) {
    let inv: Vec<(String, Vec<u8>)> = sample_invoices(4)
        .into_iter()
        .enumerate()
        .map(|(i, (_, x))| (format!("5265877635-20260215-0100000000{i:02}-0{i}.xml"), x))
        .collect();
    let meta = serde_json::json!({"invoices": inv.iter().map(|(n, _)| serde_json::json!({
        "ksefNumber": n.trim_end_matches(".xml"), "invoiceNumber": "FV"
    })).collect::<Vec<_>>()});
    let mut w = ZipWriter::new(
        Vec::new(),
        ZipOptions {
            method: Method::Deflate(6),
            ..ZipOptions::default()
        },
    );
    w.add("_metadata.json", meta.to_string().as_bytes())
        .unwrap();
    for (n, x) in &inv {
        w.add(n, x).unwrap();
    }
    let zip = w.finish().unwrap();
    let mut parts = MemoryParts::default();
    let mut list = Vec::new();
    for (i, chunk) in zip.chunks(part_size).enumerate() {
        let enc = k.encrypt(chunk);
        list.push(serde_json::json!({
            "ordinalNumber": i + 1,
            "partName": format!("20260215-EH-0000000000-0000000000-00-{:03}.zip.aes", i + 1),
            "method": "GET",
            "url": "https://example.invalid/part",
            "partSize": chunk.len(),
            "partHash": sha(chunk),
            "encryptedPartSize": enc.len(),
            "encryptedPartHash": sha(&enc),
            "expirationDate": "2026-02-16T00:00:00Z",
        }));
        parts.parts.push(enc);
    }
    let status = serde_json::json!({
        "status": {"code": 200, "description": "ok"},
        "package": {"invoiceCount": 4, "size": zip.len(), "parts": list, "isTruncated": false}
    });
    (status.to_string(), parts, inv)
}

#[test]
fn export_package_opens_and_checks() {
    let k = key();
    let (json, parts, inv) = export_fixture(&k, 1500);
    let list = export_parts_from_json(&json).unwrap();
    assert!(list.len() >= 3);
    let pkg = open_export_package(&list, &parts, &k, &ZipLimits::default()).unwrap();
    assert_eq!(pkg.invoices.len(), 4);
    assert_eq!(pkg.metadata.len(), 4);
    for (got, (name, xml)) in pkg.invoices.iter().zip(&inv) {
        assert_eq!(&got.file_name, name);
        assert_eq!(&got.xml, xml);
        let m = got.metadata.as_ref().unwrap();
        assert_eq!(m["ksefNumber"], name.trim_end_matches(".xml"));
    }
    // The `package` object and the bare `parts` array are accepted too.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        export_parts_from_json(&v["package"].to_string()).unwrap(),
        list
    );
    assert_eq!(
        export_parts_from_json(&v["package"]["parts"].to_string()).unwrap(),
        list
    );

    // Every mismatch is typed and names the part and field.
    let lim = ZipLimits::default();
    let check = |list: &[ksef::protocol::batch::ExportPart], parts: &MemoryParts, path: &str| {
        let e = open_export_package(list, parts, &k, &lim).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            (ErrorCode::IntegrityCheck, path),
            "{e:?}"
        );
    };
    let mut l = list.clone();
    l[1].encrypted_part_size += 16;
    check(&l, &parts, "parts[2].encryptedPartSize");
    let mut l = list.clone();
    l[1].encrypted_part_hash = sha(b"x");
    check(&l, &parts, "parts[2].encryptedPartHash");
    let mut l = list.clone();
    l[0].part_size -= 1;
    check(&l, &parts, "parts[1].partSize");
    let mut l = list.clone();
    l[2].part_hash = sha(b"x");
    check(&l, &parts, "parts[3].partHash");
    // Wrong key: the encrypted hash matches, decryption fails (or the plain hash does not).
    let other = SessionKey::from_parts([0x33; 32], [0x22; 16]);
    let e = open_export_package(&list, &parts, &other, &lim).unwrap_err();
    assert!(
        matches!(e.code(), ErrorCode::Decrypt | ErrorCode::IntegrityCheck),
        "{e:?}"
    );
    // A missing part.
    let mut short = parts.clone();
    short.parts.pop();
    let e = open_export_package(&list, &short, &k, &lim).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BatchIo);
    // Limits apply to the archive.
    let e = open_export_package(
        &list,
        &parts,
        &k,
        &ZipLimits {
            max_entry_size: 1000,
            ..lim
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ZipLimit);
    // Part lists that are not numbered 1..n, or not part lists.
    let mut gap = v["package"]["parts"].clone();
    gap[1]["ordinalNumber"] = serde_json::json!(7);
    assert_eq!(
        export_parts_from_json(&gap.to_string()).unwrap_err().code(),
        ErrorCode::InvalidValue
    );
    assert_eq!(
        export_parts_from_json("{\"package\":{\"parts\":[{\"x\":1}]}}")
            .unwrap_err()
            .path(),
        "package.parts"
    );
    assert_eq!(
        export_parts_from_json("[").unwrap_err().code(),
        ErrorCode::JsonSyntax
    );
}

#[test]
fn export_package_from_python_zip() {
    // A package whose ZIP was made by Python (an independent writer), one part.
    let k = key();
    let dir = tmp("export-python");
    let path = dir.join("pkg.zip");
    python(
        "import sys, zipfile, json\n\
         with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \x20   z.writestr('_metadata.json', json.dumps({'invoices': [{'ksefNumber': 'X-1'}]}))\n\
         \x20   z.writestr('X-1.xml', '<Faktura>1</Faktura>')\n\
         \x20   z.writestr('X-2.xml', '<Faktura>2</Faktura>')\n",
        &[&path],
    );
    let zip = std::fs::read(&path).unwrap();
    let enc = k.encrypt(&zip);
    let parts = MemoryParts {
        parts: vec![enc.clone()],
    };
    let list = export_parts_from_json(
        &serde_json::json!([{
            "ordinalNumber": 1, "partName": "p-001.zip.aes", "method": "GET", "url": "u",
            "partSize": zip.len(), "partHash": sha(&zip),
            "encryptedPartSize": enc.len(), "encryptedPartHash": sha(&enc),
            "expirationDate": "2026-01-01T00:00:00Z"
        }])
        .to_string(),
    )
    .unwrap();
    let pkg = open_export_package(&list, &parts, &k, &ZipLimits::default()).unwrap();
    assert_eq!(pkg.invoices.len(), 2);
    assert_eq!(pkg.invoices[0].xml, b"<Faktura>1</Faktura>");
    assert_eq!(
        pkg.invoices[0].metadata.as_ref().unwrap()["ksefNumber"],
        "X-1"
    );
    assert_eq!(pkg.invoices[1].metadata, None);
}
