//! no_std link check for the `ksef` core.
//!
//! A freestanding binary: no `std`, no Rust runtime, entered through the C
//! `main` that glibc's startup code calls. It brings its own panic handler and
//! a global allocator on top of libc `malloc`/`free`, then calls into the core.
//! If the core (or any of its dependencies) links `std` when built with
//! `default-features = false`, this crate fails to build with
//! "found duplicate lang item `panic_impl`".
//!
//! The process exits 0 when every check passes, 1 otherwise.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_char, c_int, c_void};
use core::panic::PanicInfo;

// Link the core. Nothing below may need `std`.

// ---------------------------------------------------------------------------
// libc
// ---------------------------------------------------------------------------

#[link(name = "c")]
extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
    fn posix_memalign(memptr: *mut *mut c_void, alignment: usize, size: usize) -> c_int;
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    fn abort() -> !;
}

/// Alignment glibc's `malloc` guarantees on x86_64.
const MALLOC_ALIGN: usize = 16;

/// Global allocator backed by libc `malloc`/`free` (`posix_memalign` for
/// over-aligned layouts).
struct LibcAlloc;

unsafe impl GlobalAlloc for LibcAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: plain libc call; a null result is passed on as allocation failure.
            unsafe { malloc(layout.size()) as *mut u8 }
        } else {
            let mut p: *mut c_void = core::ptr::null_mut();
            // posix_memalign needs a multiple of sizeof(void*); Layout alignments
            // are powers of two, and anything > 16 qualifies.
            // SAFETY: `p` is a valid out-pointer; on failure we return null.
            if unsafe { posix_memalign(&mut p, layout.align(), layout.size()) } == 0 {
                p as *mut u8
            } else {
                core::ptr::null_mut()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from malloc/posix_memalign above.
        unsafe { free(ptr as *mut c_void) }
    }
}

#[global_allocator]
static ALLOC: LibcAlloc = LibcAlloc;

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    print("nostd-check: PANIC\n");
    // SAFETY: abort never returns.
    unsafe { abort() }
}

// The precompiled `alloc` in the sysroot is built with `panic=unwind`, so its
// object code references the unwinder even though nothing here can unwind
// (`panic = "abort"`, and the panic handler aborts). Satisfy the linker with
// stubs that are never reached.

/// Never called: no unwinding ever starts under `panic = "abort"`.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {
    // SAFETY: abort never returns.
    unsafe { abort() }
}

/// Never called: no unwinding ever starts under `panic = "abort"`.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: abort never returns.
    unsafe { abort() }
}

fn print(s: &str) {
    // SAFETY: writes `s.len()` bytes from a valid buffer to stdout.
    unsafe {
        write(1, s.as_ptr() as *const c_void, s.len());
    }
}

// ---------------------------------------------------------------------------
// checks
// ---------------------------------------------------------------------------

/// One named check; `Err` carries the failure message.
type Check = fn() -> Result<(), String>;

/// Exercise `alloc` through the malloc-backed allocator.
fn check_alloc() -> Result<(), String> {
    let v: Vec<u32> = (1..=1000).collect();
    let sum: u32 = v.iter().sum();
    if sum != 500_500 {
        return Err(format!("Vec sum {sum} != 500500"));
    }

    let mut m = BTreeMap::new();
    for (i, w) in ["FA", "(3)", "KSeF"].iter().enumerate() {
        m.insert(*w, i);
    }
    let s = format!("{m:?}");
    if s != r#"{"(3)": 1, "FA": 0, "KSeF": 2}"# {
        return Err(format!("BTreeMap debug: {s}"));
    }

    // Over-aligned allocation goes through posix_memalign.
    #[repr(align(64))]
    struct Big([u8; 64]);
    let b = alloc::boxed::Box::new(Big([7; 64]));
    if (&*b as *const Big).cast::<u8>().align_offset(64) != 0 || b.0[63] != 7 {
        return Err(String::from("over-aligned Box"));
    }
    Ok(())
}

/// Calls into the `ksef` core: the whole invoice path links and works without std.
fn check_core() -> Result<(), String> {
    use ksef::model::SchemaVersion;
    use ksef::xml::{self, EmitOptions};

    const FA3: &[u8] =
        include_bytes!("../../../../shared/ksef-spec/samples/fa3/FA_3_Przyklad_01.xml");
    let parsed = xml::parse(FA3).map_err(|e| format!("parse: {e:?}"))?;
    if parsed.schema != SchemaVersion::Fa3 || parsed.invoice.fa.fa_wiersz.len() != 3 {
        return Err(String::from("parse: unexpected content"));
    }
    // allocation-free emit into a fixed buffer, then read back
    let mut buf = [0u8; 16 * 1024];
    let n = xml::emit_into(
        &parsed.invoice,
        SchemaVersion::Fa3,
        &EmitOptions::default(),
        &mut buf,
    )
    .map_err(|e| format!("emit_into: {e:?}"))?;
    let again = xml::parse(&buf[..n]).map_err(|e| format!("reparse: {e:?}"))?;
    if again.invoice != parsed.invoice {
        return Err(String::from("round trip changed the invoice"));
    }
    // a too-small buffer reports the size needed
    let mut small = [0u8; 64];
    match xml::emit_into(
        &parsed.invoice,
        SchemaVersion::Fa3,
        &EmitOptions::default(),
        &mut small,
    ) {
        Err(e) if e.needed() == n => {}
        other => return Err(format!("small buffer: {other:?}")),
    }
    // JSON form and validation
    let json = parsed
        .invoice
        .to_json()
        .map_err(|e| format!("to_json: {e:?}"))?;
    let back = ksef::Faktura::from_json(&json).map_err(|e| format!("from_json: {e:?}"))?;
    if back != parsed.invoice {
        return Err(String::from("JSON round trip changed the invoice"));
    }
    let report = ksef::validate::validate(
        &parsed.invoice,
        SchemaVersion::Fa3,
        &ksef::validate::Options::new(),
    );
    if !report.is_valid() {
        return Err(format!("validate: {:?}", report.issues));
    }
    // identifiers
    if ksef::id::Nip::parse("9999999999").is_err() || ksef::id::Nip::parse("9999999990").is_ok() {
        return Err(String::from("Nip checksum"));
    }
    if ksef::id::KsefNumber::parse("5265877635-20250826-0100001AF629-AF").is_err() {
        return Err(String::from("KSeF number"));
    }
    // hash, KOD I and the QR matrix
    let hash = ksef::crypto::hash::sha256(FA3);
    let mut b64 = [0u8; 43];
    if hash.base64url_into(&mut b64) != "X-wQflQVyRs1fImlI-xDPnWk1V37hys4O1lkx9iJbSA" {
        return Err(String::from("sha256 base64url"));
    }
    let link = ksef::qr::InvoiceLink::from_invoice_xml(ksef::Environment::Test, FA3)
        .map_err(|e| format!("KOD I: {e:?}"))?;
    let url = link.url();
    if !url.starts_with("https://qr-test.ksef.mf.gov.pl/invoice/9999999999/15-02-2026/") {
        return Err(format!("KOD I url {url}"));
    }
    let m = ksef::qr::QrMatrix::encode(&url, ksef::qr::DEFAULT_ECC)
        .map_err(|e| format!("QR: {e:?}"))?;
    if ksef::qr::QrModules::size(&m) < 21 || m.version() == 0 {
        return Err(String::from("QR size"));
    }
    // session crypto: AES-256-CBC round trip with fixed key material
    let key = ksef::crypto::SessionKey::from_parts([7; 32], [9; 16]);
    let req = key.encrypt_invoice(FA3);
    let ct = base64_decode(&req.encrypted_invoice_content)?;
    let plain = key.decrypt(&ct).map_err(|e| format!("decrypt: {e:?}"))?;
    if plain != FA3 {
        return Err(String::from("AES round trip"));
    }
    // XAdES: the auth request and its exclusive canonical form
    let nip = ksef::id::Nip::parse("5265877635").map_err(|e| format!("{e:?}"))?;
    let auth = ksef::xades::AuthTokenRequest::new("20250625-CR-20F5EE4000-DA48AE4124-46", nip)
        .map_err(|e| format!("auth request: {e:?}"))?;
    let c14n =
        ksef::xades::c14n::canonicalize(&auth.to_xml(), ksef::xades::c14n::C14nMethod::Exclusive)
            .map_err(|e| format!("c14n: {e:?}"))?;
    if !c14n.starts_with(b"<AuthTokenRequest") {
        return Err(String::from("c14n output"));
    }
    // protocol groundwork: a KSeF 429 answer becomes a retry at its Retry-After
    let resp = ksef::http::Response::new(
        429,
        alloc::vec![(String::from("Retry-After"), String::from("2"))],
        Vec::new(),
    );
    let outcome = ksef::retry::Outcome::of_result(&Ok(resp), 1_000);
    let mut policy = ksef::retry::RetryPolicy::new(3, 100, 1_000, 60_000);
    policy.start(1_000);
    match policy.decide(1_000, 1, &outcome, false, &mut Lcg(7)) {
        ksef::retry::Decision::Retry { at_ms: 3_000 } => {}
        other => return Err(format!("retry decision: {other:?}")),
    }
    // the protocol client: a send starts by fetching the public key certificates, and a
    // 503 answer schedules a retry (no clock, no OS randomness: both passed in)
    let nip = ksef::id::Nip::parse("5265877635").map_err(|e| format!("nip: {e:?}"))?;
    let cfg = ksef::protocol::Config::with_base_url("http://127.0.0.1:1/v2", nip);
    let creds = ksef::protocol::Credentials::ksef_token("token");
    let mut client = ksef::protocol::Client::new(cfg, creds, [7u8; 32]);
    client.send_online(ksef::protocol::OnlineSend::new(
        ksef::protocol::FormCode::Fa3,
        alloc::vec![Vec::from(&b"<Faktura/>"[..])],
    ));
    let tx = client
        .poll_transmit(1_000)
        .ok_or_else(|| String::from("client: no first request"))?;
    if !tx
        .request
        .url
        .ends_with("/security/public-key-certificates")
    {
        return Err(format!("client: first request {:?}", tx.request));
    }
    let busy = ksef::http::Response::new(503, Vec::new(), Vec::new());
    client.handle_response(1_010, tx.id, Ok(busy));
    match client.poll_timeout() {
        Some(t) if t >= 1_010 => {}
        other => return Err(format!("client: retry deadline {other:?}")),
    }
    Ok(())
}

/// A tiny deterministic RNG: the core takes randomness from its caller.
struct Lcg(u64);

impl ksef::crypto::rand_core::RngCore for Lcg {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), ksef::crypto::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| format!("base64: {e}"))
}

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    let checks: [(&str, Check); 2] = [("alloc", check_alloc), ("core", check_core)];
    let mut failed = 0;
    for (name, check) in checks {
        match check() {
            Ok(()) => print(&format!("nostd-check: {name}: ok\n")),
            Err(e) => {
                print(&format!("nostd-check: {name}: FAILED: {e}\n"));
                failed += 1;
            }
        }
    }
    if failed == 0 {
        print("nostd-check: all checks passed\n");
        0
    } else {
        1
    }
}
