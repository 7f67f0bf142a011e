//! The inbox over loopback HTTP: metadata queries as the seller and as the buyer (paged with a
//! small page size), an invoice downloaded by its KSeF number (the exact bytes sent, read into
//! the model), and an export (the invoices and their `_metadata.json` entries).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use ksef::id::Nip;
use ksef::model::DateTime;
use ksef::protocol::{
    Client, Credentials, DateType, ExportRequest, MetadataQuery, Output, SubjectType,
};
use ksef_e2e::*;

const N: usize = 23;
const BUYER: &str = "1111111111";

/// An hour ago, as KSeF takes it.
fn an_hour_ago() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    DateTime::from_unix_seconds(now - 3600)
        .expect("date")
        .to_string()
}

fn client_in(sim: &SimHandle, nip: &str, seed: u8) -> Client {
    let mut cfg = config(sim);
    cfg.context = Nip::parse(nip).expect("NIP").into();
    cfg.page_size = 10;
    Client::new(cfg, Credentials::ksef_token("test-token-any"), [seed; 32])
}

#[test]
fn inbox_query_download_export() {
    let sim = Sim::start(SimConfig::default()).expect("sim");
    let mut t = transport(&sim, "inbox");
    let mut seller = client_in(&sim, NIP, 51);
    let sent: Vec<Vec<u8>> = (0..N).map(|n| invoice("INB", n)).collect();
    let r = send_online(&mut seller, &mut t, sent.clone());
    assert_eq!(r.accepted(), N);
    let by_number: HashMap<String, &Vec<u8>> = r
        .invoices
        .iter()
        .map(|o| (o.ksef_number.clone().unwrap(), &sent[o.index]))
        .collect();

    // As the seller: every invoice, over three pages of 10.
    let before = sim.request_log().len();
    let q = MetadataQuery::new(SubjectType::Seller, DateType::Invoicing, an_hour_ago());
    let op = seller.query_metadata(q.clone());
    let Output::Metadata(m) = try_op(&mut seller, op, &mut t).expect("seller query") else {
        panic!("not metadata")
    };
    assert_eq!(m.invoices.len(), N);
    for i in &m.invoices {
        assert!(by_number.contains_key(&i.ksef_number), "{}", i.ksef_number);
        assert_eq!(i.seller_nip, NIP);
        assert_eq!(i.buyer_identifier.1.as_deref(), Some(BUYER));
    }
    let pages = sim.request_log()[before..]
        .iter()
        .filter(|l| l.path.ends_with("/invoices/query/metadata"))
        .count();
    assert_eq!(pages, N.div_ceil(10), "paged by 10");

    // As the buyer, in its own context: the same invoices, received.
    let mut buyer = client_in(&sim, BUYER, 52);
    let op = buyer.query_metadata(MetadataQuery::new(
        SubjectType::Buyer,
        DateType::Invoicing,
        an_hour_ago(),
    ));
    let Output::Metadata(b) = try_op(&mut buyer, op, &mut t).expect("buyer query") else {
        panic!("not metadata")
    };
    let mut got: Vec<&str> = b.invoices.iter().map(|i| i.ksef_number.as_str()).collect();
    let mut want: Vec<&str> = by_number.keys().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    // The buyer issued nothing.
    let op = buyer.query_metadata(MetadataQuery::new(
        SubjectType::Seller,
        DateType::Invoicing,
        an_hour_ago(),
    ));
    let Output::Metadata(none) = try_op(&mut buyer, op, &mut t).expect("query") else {
        panic!("not metadata")
    };
    assert!(none.invoices.is_empty());

    // One invoice by its KSeF number: the exact bytes, read into the model.
    let (num, xml) = by_number.iter().next().expect("one");
    let op = buyer.download_invoice(num.clone());
    let Output::Invoice(d) = try_op(&mut buyer, op, &mut t).expect("download") else {
        panic!("not an invoice")
    };
    assert_eq!(&d.xml, *xml);
    assert_eq!(d.hash, ksef::crypto::hash::sha256(xml).to_base64());
    let parsed = d.parsed.as_ref().expect("read into the model");
    assert!(parsed.invoice.fa.p_2.starts_with("FV/INB/"));

    // An export of what the seller issued: every invoice with its metadata entry.
    let op = seller.export_invoices(ExportRequest::new(q));
    let Output::Export(x) = try_op(&mut seller, op, &mut t).expect("export") else {
        panic!("not an export")
    };
    assert_eq!(x.invoice_count, N as i64);
    assert!(!x.is_truncated);
    assert_eq!(x.invoices.len(), N);
    assert_eq!(x.metadata.len(), N);
    for inv in &x.invoices {
        let num = inv.file_name.trim_end_matches(".xml");
        assert_eq!(
            by_number.get(num).map(|v| v.as_slice()),
            Some(inv.xml.as_slice())
        );
        let meta = inv.metadata.as_ref().expect("a _metadata.json entry");
        assert_eq!(meta["ksefNumber"], num);
    }
}
