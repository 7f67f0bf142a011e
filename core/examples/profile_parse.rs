//! Profiling driver: `cargo build --release --example profile_parse` then run under
//! `valgrind --tool=callgrind`. Parses (and emits) an official sample in a loop.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: profile_parse FILE.xml [N] [parse|emit]");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let what = args.get(3).map(String::as_str).unwrap_or("parse");
    let bytes = std::fs::read(path).expect("read");
    let inv = ksef::xml::parse(&bytes).expect("parse").invoice;
    let mut total = 0;
    for _ in 0..n {
        if what == "emit" {
            total += ksef::xml::emit(&inv, ksef::SchemaVersion::Fa3)
                .expect("emit")
                .len();
        } else {
            let p = ksef::xml::parse(std::hint::black_box(&bytes)).expect("parse");
            total += p.invoice.fa.fa_wiersz.len();
        }
    }
    println!("{total}");
}
