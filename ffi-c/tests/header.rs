//! `include/ksef.h` and `include/ksef_php.h` are generated from this crate (cbindgen + the
//! shared error table) and committed. This test fails when either differs from what the
//! code generates now; `make header` (this test with `KSEF_BLESS=1`) rewrites them.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The C header: cbindgen's output with the result-code enum of the shared table inserted
/// after the includes.
fn c_header() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi-c/cbindgen.toml is readable");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .with_after_include(format!("\n{}", ksef_ffi::codes::c_enum()))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

/// The PHP header: the C header without preprocessor lines (PHP's `FFI::cdef` cannot read
/// them) and without the C++ guards. `FFI::load` reads its two defines only at the very
/// start of the file (before any comment): `FFI_SCOPE` names the scope preloaded code gets
/// with `FFI::scope("KSEF")`, `FFI_LIB` the library to load.
fn php_header(c: &str) -> String {
    let mut s = String::from(
        "#define FFI_SCOPE \"KSEF\"\n#define FFI_LIB \"libksef_ffi.so\"\n\
         /* ksef_php.h - include/ksef.h without preprocessor lines, for PHP's FFI::cdef /\n   \
         FFI::load (the two defines must stay first). GENERATED (make header); do not edit. */\n",
    );
    let mut in_cpp_guard = false;
    for line in c.lines() {
        let t = line.trim_start();
        if t.starts_with("#ifdef __cplusplus") {
            in_cpp_guard = true;
            continue;
        }
        if in_cpp_guard {
            if t.starts_with("#endif") {
                in_cpp_guard = false;
            }
            continue;
        }
        if t.starts_with('#') {
            continue;
        }
        s.push_str(line);
        s.push('\n');
    }
    s
}

#[test]
fn committed_headers_match_the_code() {
    let c = c_header();
    let php = php_header(&c);
    let files = [
        (root().join("include/ksef.h"), c),
        (root().join("include/ksef_php.h"), php),
    ];
    if std::env::var_os("KSEF_BLESS").is_some() {
        for (path, text) in &files {
            std::fs::write(path, text).expect("write the header");
        }
        return;
    }
    for (path, text) in &files {
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == *text,
            "{} differs from what the code generates: run `make header` and commit it",
            path.display()
        );
    }
}

#[test]
fn every_code_of_the_table_is_in_the_header() {
    let c = c_header();
    for code in ksef::ErrorCode::ALL {
        let line = format!(
            "KSEF_ERR_{} = {},",
            code.name().to_ascii_uppercase(),
            code.as_u32()
        );
        assert!(c.contains(&line), "missing in the header: {line}");
    }
}
