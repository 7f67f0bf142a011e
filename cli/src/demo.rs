//! `ksef demo`: what a shop does with the toolkit, end to end and offline.
//!
//! Builds a set of typical invoices with the builder (B2B from net prices, B2C from gross
//! prices, a foreign-currency invoice, an intra-EU supply, an advance invoice and a
//! correction), writes each as FA(3) XML and as JSON, reads every file back, validates it,
//! and shows the FA(2) rendering where the content allows it. Then sends them to KSeF — the
//! simulator from `ksef-sim`, started in this process on a loopback port: one online
//! session with a KSeF token (KSeF numbers printed, UPOs saved in `DIR/upo`), a small batch
//! session, one invoice downloaded back from the inbox and compared byte for byte with what
//! was sent, and a connection test.

use std::path::Path;

use ksef::builder::*;
use ksef::model::{Date, DateTime, Decimal, FormaPlatnosci, KodKraju, KodKrajuUe, KodWaluty};
use ksef::{xml, Error, Faktura, SchemaVersion};

fn d(s: &str) -> Decimal {
    // demo constants are valid literals
    s.parse().unwrap_or_default()
}

fn day(s: &str) -> Date {
    s.parse().unwrap_or_default()
}

fn at(s: &str) -> DateTime {
    s.parse().unwrap_or_default()
}

fn seller() -> Seller {
    Seller::new(
        "9999999999",
        "ABC AGD sp. z o. o.",
        Address::pl("ul. Kwiatowa 1 m. 2", "00-001 Warszawa"),
    )
    .contact(Contact::new().email("sklep@abc.pl"))
}

fn header(n: &str) -> Header {
    Header::new(n, day("2026-02-15"), at("2026-02-15T10:00:00Z"))
        .place("Warszawa")
        .sale_date(day("2026-02-14"))
        .system_info("ksef demo")
}

/// The invoices of the demo, with a short description each.
fn invoices() -> Result<Vec<(&'static str, &'static str, Faktura)>, Error> {
    let fa3 = SchemaVersion::Fa3;
    let b2b = InvoiceBuilder::vat(
        header("FV/2026/02/1"),
        seller(),
        Buyer::company("1111111111", "F.H.U. Jan Kowalski")
            .address(Address::pl("ul. Polna 1", "00-001 Warszawa")),
        Method::FromNet,
    )
    .line(
        Line::net(
            "lodówka Zimnotech mk1",
            d("1"),
            d("1626.01"),
            VatRate::Rate23,
        )
        .unit("szt."),
    )
    .line(Line::net("wniesienie sprzętu", d("1"), d("40.65"), VatRate::Rate23).unit("usł."))
    .line(
        Line::net("mleko 1l", d("2"), d("2.85"), VatRate::Rate5)
            .unit("szt.")
            .discount_percent(d("10")),
    )
    .payment(Payment::paid(day("2026-02-14"), FormaPlatnosci::Przelew))
    .build(fa3)?;
    let b2c = InvoiceBuilder::vat(
        header("FV/2026/02/2"),
        seller(),
        Buyer::consumer(),
        Method::FromGross,
    )
    .line(Line::gross("kawa ziarnista 1kg", d("2"), d("89.99"), VatRate::Rate23).unit("szt."))
    .line(Line::gross("książka", d("1"), d("49.90"), VatRate::Rate5).unit("szt."))
    .payment(Payment::paid(day("2026-02-15"), FormaPlatnosci::Karta))
    .build(fa3)?;
    let eur = InvoiceBuilder::vat(
        header("FV/2026/02/3"),
        seller(),
        Buyer::company("1111111111", "F.H.U. Jan Kowalski"),
        Method::FromNet,
    )
    .currency(KodWaluty::Eur, Some(d("4.2134")))
    .line(Line::net(
        "usługa serwisowa",
        d("10"),
        d("120.00"),
        VatRate::Rate23,
    ))
    .build(fa3)?;
    let wdt = InvoiceBuilder::vat(
        header("FV/2026/02/4"),
        seller(),
        Buyer::eu_business(KodKrajuUe::De, "123456789", "EFG GmbH")
            .address(Address::new(KodKraju::De, "Blümchenstraße 1").line2("10999 Berlin")),
        Method::FromNet,
    )
    .currency(KodWaluty::Eur, Some(d("4.2134")))
    .line(Line::net(
        "lodówka Zimnotech mk1",
        d("10"),
        d("400.00"),
        VatRate::ZeroWdt,
    ))
    .build(fa3)?;
    let kor = CorrectionBuilder::new(
        &b2b,
        None,
        Header::new(
            "FK/2026/03/1",
            day("2026-03-02"),
            at("2026-03-02T09:00:00Z"),
        ),
        CorrectionStyle::BeforeAfter,
    )
    .reason("obniżka ceny po reklamacji")
    .replace_line(
        1,
        Line::net(
            "lodówka Zimnotech mk1",
            d("1"),
            d("1463.41"),
            VatRate::Rate23,
        )
        .unit("szt."),
    )
    .build(fa3)?;
    Ok(vec![
        (
            "b2b-from-net",
            "company buyer, two rates, line discount, from net",
            b2b,
        ),
        (
            "b2c-from-gross",
            "consumer (no id), prices with VAT, from gross",
            b2c,
        ),
        ("eur", "domestic invoice in EUR, VAT in PLN (P_14_1W)", eur),
        ("wdt", "intra-EU supply to a German VAT payer (0 WDT)", wdt),
        (
            "kor",
            "correction of b2b-from-net: lower price (before/after rows)",
            kor,
        ),
    ])
}

/// Run the demo, writing files into `dir`.
pub fn run(dir: &Path) -> Result<(), String> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let list = invoices().map_err(|e| format!("building the demo invoices failed: {e}"))?;
    writeln!(
        out,
        "{:<16} {:>6} {:>10} {:>10} {:>10}  what",
        "invoice", "kind", "net", "vat", "total"
    )
    .map_err(io)?;
    for (name, what, inv) in &list {
        let xml_bytes = xml::emit(inv, SchemaVersion::Fa3).map_err(|e| format!("{name}: {e}"))?;
        let json = inv.to_json().map_err(|e| format!("{name}: {e}"))?;
        let xml_path = dir.join(format!("{name}.xml"));
        std::fs::write(&xml_path, &xml_bytes)
            .map_err(|e| format!("{}: {e}", xml_path.display()))?;
        std::fs::write(dir.join(format!("{name}.json")), json.as_bytes())
            .map_err(|e| format!("{name}: {e}"))?;
        // read back and validate what was written
        let back = xml::parse(&xml_bytes).map_err(|e| format!("{name}: reading back: {e}"))?;
        if &back.invoice != inv {
            return Err(format!("{name}: the invoice changed when read back"));
        }
        let report =
            ksef::validate::validate(inv, SchemaVersion::Fa3, &ksef::validate::Options::new());
        if !report.is_valid() {
            return Err(format!("{name}: {:?}", report.issues));
        }
        // KOD I: the verification link printed on the invoice before KSeF has assigned a
        // number (label OFFLINE); a PNG of it beside the XML
        let link = ksef::qr::InvoiceLink::from_invoice_xml(ksef::Environment::Test, &xml_bytes)
            .map_err(|e| format!("{name}: KOD I: {e}"))?;
        let url = link.url();
        let matrix = ksef::qr::QrMatrix::encode(&url, ksef::qr::DEFAULT_ECC)
            .map_err(|e| format!("{name}: QR: {e}"))?;
        let png = ksef::qr::render::png(
            &matrix,
            Some(link.label(None)),
            &ksef::qr::RenderOptions::default(),
        )
        .map_err(|e| format!("{name}: PNG: {e}"))?;
        std::fs::write(dir.join(format!("{name}.kod1.png")), png)
            .map_err(|e| format!("{name}: {e}"))?;
        // FA(2) has no JST/GV flags; everything else must be expressible as it is
        let mut inv2 = inv.clone();
        inv2.podmiot2.jst = None;
        inv2.podmiot2.gv = None;
        let fa2 = match xml::emit(&inv2, SchemaVersion::Fa2) {
            Ok(bytes) => {
                let p = dir.join(format!("{name}.fa2.xml"));
                std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
                String::from("yes")
            }
            Err(e) => format!("no: {e}"),
        };
        let fa = &inv.fa;
        let (net, vat) = (fa.net_total(), fa.vat_total());
        writeln!(
        out,
            "{:<16} {:>6} {:>10} {:>10} {:>10}  {what}\n{:<16} as FA(2): {fa2}\n{:<16} KOD I:    {url}",
            name,
            fa.rodzaj_faktury.code(),
            net,
            vat,
            fa.p_15,
            "",
            ""
        )
        .map_err(io)?;
    }
    writeln!(
        out,
        "\nwrote FA(3) XML, JSON (and FA(2) XML where possible) to {}",
        dir.display()
    )
    .map_err(io)?;
    drop(out);
    send_to_ksef(dir, &list)
}

/// The demo's context NIP and KSeF token (the simulator accepts only this one).
const NIP: &str = "9999999999";
const TOKEN: &str = "demo-ksef-token-0001";

/// The KSeF part: online session, batch session, inbox download, connection test.
fn send_to_ksef(dir: &Path, list: &[(&str, &str, Faktura)]) -> Result<(), String> {
    use ksef::protocol::batch::{prepare_batch, BatchOptions, MemoryParts};
    use ksef::protocol::{BatchSend, Client, Config, Credentials, FormCode, OnlineSend, Output};
    use ksef_sim::{Sim, SimConfig};
    use std::io::Write as _;

    let fail = |f: crate::Fail| f.0;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    let sim = Sim::start(SimConfig::default().with_ksef_token(NIP, TOKEN))
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let base = sim.base_url();
    writeln!(out, "\n# KSeF: the embedded simulator at {base}").map_err(io)?;
    let nip = ksef::id::Nip::parse(NIP).map_err(|e| e.to_string())?;
    let config = Config::with_base_url(&base, nip).polling(20, 60_000);
    let seed = crate::net::seed().map_err(fail)?;
    let client = Client::new(config, Credentials::ksef_token(TOKEN), seed);
    let mut c = crate::net::Conn::loopback(client, &base, false).map_err(fail)?;
    let upo_dir = dir.join("upo");
    std::fs::create_dir_all(&upo_dir).map_err(|e| format!("{}: {e}", upo_dir.display()))?;
    let save = |name: String, bytes: &[u8]| {
        let p = upo_dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))
    };

    // one online session with every demo invoice
    let mut sent = Vec::new();
    for (name, _, inv) in list {
        sent.push(xml::emit(inv, SchemaVersion::Fa3).map_err(|e| format!("{name}: {e}"))?);
    }
    let send = OnlineSend::new(FormCode::Fa3, sent.clone());
    let Output::Online(r) = c.run(|cl| cl.send_online(send)).map_err(fail)? else {
        return Err("unexpected result of the online session".into());
    };
    writeln!(out, "online session {}:", r.session).map_err(io)?;
    let mut first = None;
    for o in &r.invoices {
        let name = list.get(o.index).map_or("?", |l| l.0);
        match (&o.ksef_number, &o.upo, &o.error) {
            (Some(n), Some(upo), None) => {
                writeln!(out, "  {name:<16} {n}").map_err(io)?;
                save(format!("{n}.xml"), upo)?;
                first.get_or_insert((n.clone(), o.index));
            }
            (_, _, Some(e)) => return Err(format!("{name}: KSeF refused it: {e}")),
            _ => return Err(format!("{name}: no KSeF number or UPO")),
        }
    }
    for (i, page) in r.session_upo.iter().enumerate() {
        save(format!("session-{}-{}.xml", r.session, i + 1), page)?;
    }

    // a small batch session: two more invoices (new numbers), one ZIP, one encrypted part
    let mut extra = Vec::new();
    for (k, (_, _, inv)) in list.iter().take(2).enumerate() {
        let mut inv = inv.clone();
        inv.fa.p_2 = format!("FV/2026/02/B{}", k + 1);
        let bytes = xml::emit(&inv, SchemaVersion::Fa3).map_err(|e| e.to_string())?;
        extra.push((format!("batch-{}.xml", k + 1), bytes));
    }
    let key = ksef::crypto::session::SessionKey::generate(&mut rand_core::OsRng);
    let mut parts = MemoryParts::default();
    let prepared = prepare_batch(
        extra.iter().map(|(n, x)| (n.as_str(), x.as_slice())),
        &key,
        &BatchOptions::default(),
        &mut parts,
    )
    .map_err(|e| e.to_string())?;
    let batch = BatchSend::new(FormCode::Fa3, prepared, key, Box::new(parts));
    let Output::Batch(b) = c.run(|cl| cl.send_batch(batch)).map_err(fail)? else {
        return Err("unexpected result of the batch session".into());
    };
    writeln!(out, "batch session {}:", b.session).map_err(io)?;
    for o in &b.invoices {
        let name = extra.get(o.index).map_or("?", |e| e.0.as_str());
        match (&o.ksef_number, &o.error) {
            (Some(n), None) => writeln!(out, "  {name:<16} {n}").map_err(io)?,
            (_, Some(e)) => return Err(format!("{name}: KSeF refused it: {e}")),
            _ => return Err(format!("{name}: no KSeF number")),
        }
    }
    for (i, page) in b.session_upo.iter().enumerate() {
        save(format!("session-{}-{}.xml", b.session, i + 1), page)?;
    }
    writeln!(out, "UPOs saved to {}", upo_dir.display()).map_err(io)?;

    // the first invoice back from the inbox: the bytes KSeF stores are the bytes sent
    let (number, index) = first.ok_or("no invoice was accepted")?;
    let Output::Invoice(got) = c
        .run(|cl| cl.download_invoice(number.as_str()))
        .map_err(fail)?
    else {
        return Err("unexpected result of the download".into());
    };
    if sent.get(index).map(Vec::as_slice) != Some(got.xml.as_slice()) {
        return Err(format!(
            "{number}: the downloaded invoice differs from the one sent"
        ));
    }
    writeln!(
        out,
        "downloaded {number}: identical to {}.xml ({} bytes)",
        list.get(index).map_or("?", |l| l.0),
        got.xml.len()
    )
    .map_err(io)?;

    // and a connection test
    let Output::Connection(v) = c.run(|cl| cl.test_connection()).map_err(fail)? else {
        return Err("unexpected result of the connection test".into());
    };
    for (step, r) in &v.steps {
        let mark = if r.is_ok() { "✓" } else { "✗" };
        writeln!(out, "  {mark} {step}").map_err(io)?;
    }
    writeln!(out, "{}", v.summary()).map_err(io)?;
    if !v.ok {
        return Err("the connection test failed".into());
    }
    let accepted = sim.accepted_invoices().len();
    writeln!(out, "the simulator holds {accepted} accepted invoices").map_err(io)?;
    sim.shutdown();
    drop(out);
    paired(&dir.join("paired"))
}

/// Paired mode: the bundled example orders (a B2B order in PLN, one in EUR) through the
/// engine in KSeF-first mode, on a simulator with its Fakturownia and NBP sides: each gets
/// its KSeF number, then a Fakturownia document carrying it; XML, UPO and PDF into `dir`.
fn paired(dir: &Path) -> Result<(), String> {
    use ksef::paired::engine::{Engine, OrderOutcome};
    use ksef::paired::fakturownia::{self, Account};
    use ksef::paired::machine::{Mode, PairedStatus};
    use ksef::paired::order::Order;
    use ksef::paired::rules::{RuleConfig, Trigger};
    use ksef::protocol::{Client, Clock, Config, Credentials, SystemClock};
    use ksef::retry::RetryPolicy;
    use ksef_sim::{Sim, SimConfig};
    use std::io::Write as _;

    const SELLER: &str = "5265877635";
    const FAKT_TOKEN: &str = "demo-fakturownia-token";
    let rules = include_str!("../../examples/paired/rules.json");
    let orders = [
        (
            "order-b2b.json",
            include_str!("../../examples/paired/order-b2b.json"),
        ),
        (
            "order-eur.json",
            include_str!("../../examples/paired/order-eur.json"),
        ),
    ];
    let fail = |f: crate::Fail| f.0;
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    let mut out = std::io::stdout().lock();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let sim = Sim::start(
        SimConfig::default()
            .with_ksef_token(SELLER, TOKEN)
            .with_fakturownia_token(FAKT_TOKEN),
    )
    .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let base = sim.base_url();
    writeln!(
        out,
        "\n# paired mode (KSeF first): KSeF {base}, Fakturownia {}, NBP {}",
        sim.fakturownia_base_url(),
        sim.nbp_base_url()
    )
    .map_err(io)?;
    let config = RuleConfig::from_json(rules).map_err(|e| format!("rules.json: {e}"))?;
    let nip = ksef::id::Nip::parse(SELLER).map_err(|e| e.to_string())?;
    let client = Client::new(
        Config::with_base_url(&base, nip).polling(20, 60_000),
        Credentials::ksef_token(TOKEN),
        crate::net::seed().map_err(fail)?,
    );
    let (client, mut t) = crate::net::Conn::loopback(client, &base, false)
        .map_err(fail)?
        .into_parts();
    let account = Account::new(sim.fakturownia_base_url(), FAKT_TOKEN);
    let mut engine = Engine::new(
        config,
        Mode::KsefFirst,
        client,
        account.clone(),
        sim.nbp_base_url(),
        crate::net::seed().map_err(fail)?,
    )
    .with_retry(RetryPolicy::new(3, 50, 500, 10_000));
    for (name, json) in orders {
        let order = Order::from_json(json).map_err(|e| format!("{name}: {e}"))?;
        let outcome = engine
            .order(&order, Trigger::StatusChanged, SystemClock.now_ms())
            .map_err(|e| format!("{name}: {e}"))?;
        if let OrderOutcome::WaitingForRate { currency } = &outcome {
            writeln!(
                out,
                "{name}: {currency} order, fetching the NBP table A rate"
            )
            .map_err(io)?;
        }
        engine.drive(&mut t, &mut SystemClock, |_| {});
        if let Some((id, e)) = engine.poll_order_error() {
            return Err(format!("order {id}: {e}"));
        }
        let job = engine
            .machine()
            .jobs()
            .find(|j| j.docs.order_id == order.id)
            .cloned()
            .ok_or_else(|| format!("{name}: no job"))?;
        if job.status() != PairedStatus::Completed {
            return Err(format!("{name}: {}", job.status().as_str()));
        }
        let stem = job.docs.number.replace('/', "_");
        let (ksef_number, id) = match (&job.ksef_number, job.fakturownia_id) {
            (Some(n), Some(id)) => (n.clone(), id),
            _ => return Err(format!("{name}: incomplete job")),
        };
        let xml = dir.join(format!("{stem}.xml"));
        std::fs::write(&xml, job.docs.xml.as_bytes())
            .map_err(|e| format!("{}: {e}", xml.display()))?;
        let upo = dir.join(format!("{stem}.upo.xml"));
        std::fs::write(&upo, job.upo.as_deref().unwrap_or_default())
            .map_err(|e| format!("{}: {e}", upo.display()))?;
        let resp = ksef::http::Transport::send(&mut t, &fakturownia::get_pdf(&account, id))
            .map_err(|e| format!("the PDF: {e}"))?;
        let bytes = fakturownia::read_pdf(&resp).map_err(|e| format!("the PDF: {e}"))?;
        let pdf = dir.join(format!("{stem}.pdf"));
        std::fs::write(&pdf, bytes).map_err(|e| format!("{}: {e}", pdf.display()))?;
        writeln!(
            out,
            "order {} -> invoice {}\n  KSeF number:    {ksef_number}\n  Fakturownia id: {id} (gov_id = the KSeF number)\n  XML: {}\n  UPO: {}\n  PDF: {}",
            order.id,
            job.docs.number,
            xml.display(),
            upo.display(),
            pdf.display()
        )
        .map_err(io)?;
    }
    std::fs::write(dir.join("state.json"), engine.snapshot_json())
        .map_err(|e| format!("state.json: {e}"))?;
    writeln!(
        out,
        "engine state (numbering, jobs, audit trail) in {}; try `ksef audit show --state {}`",
        dir.join("state.json").display(),
        dir.join("state.json").display()
    )
    .map_err(io)?;
    drop(out);
    offline(dir, &sim, rules)?;
    sim.shutdown();
    Ok(())
}

/// Offline mode in paired mode: KSeF goes down (Latarnia says FAILURE), a simultaneous-mode
/// order is issued offline (KOD I + KOD II signed with an offline certificate — the
/// simulator's test one) and its Fakturownia document made at once; KSeF comes back, the
/// invoice is sent with `offlineMode` and its KSeF number backfilled into the document.
fn offline(dir: &Path, sim: &ksef_sim::SimHandle, rules: &str) -> Result<(), String> {
    use ksef::offline::availability::{self, AutoOffline};
    use ksef::paired::engine::{Engine, OfflineSigner};
    use ksef::paired::fakturownia::Account;
    use ksef::paired::machine::{Mode, PairedEvent};
    use ksef::paired::order::Order;
    use ksef::paired::rules::{RuleConfig, Trigger};
    use ksef::protocol::{Client, Clock, Config, Credentials, SystemClock};
    use ksef::retry::RetryPolicy;
    use std::io::Write as _;

    const SELLER: &str = "5265877635";
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    let fail = |f: crate::Fail| f.0;
    let mut out = std::io::stdout().lock();
    let base = sim.base_url();
    // its own invoice series (the first engine's numbers are taken in KSeF)
    let rules = rules.replace("FV/{YYYY}/{MM}/{seq}", "FO/{YYYY}/{MM}/{seq}");
    let config = RuleConfig::from_json(&rules).map_err(|e| format!("rules.json: {e}"))?;
    let nip = ksef::id::Nip::parse(SELLER).map_err(|e| e.to_string())?;
    let client = Client::new(
        Config::with_base_url(&base, nip)
            .polling(20, 60_000)
            .retry(RetryPolicy::new(2, 20, 100, 2_000)),
        Credentials::ksef_token(TOKEN),
        crate::net::seed().map_err(fail)?,
    );
    let (client, mut t) = crate::net::Conn::loopback(client, &base, false)
        .map_err(fail)?
        .into_parts();
    let key = ksef::crypto::PrivateKey::from_pem_or_der(include_bytes!(
        "../../sim/fixtures/test-ec-key.pem"
    ))
    .map_err(|e| format!("the demo offline key: {e}"))?;
    let cert = ksef::crypto::Certificate::from_pem_or_der(include_bytes!(
        "../../sim/fixtures/test-ec-cert.pem"
    ))
    .map_err(|e| format!("the demo offline certificate: {e}"))?;
    let mut engine = Engine::new(
        config,
        Mode::Simultaneous,
        client,
        Account::new(sim.fakturownia_base_url(), "demo-fakturownia-token"),
        sim.nbp_base_url(),
        crate::net::seed().map_err(fail)?,
    )
    .with_retry(RetryPolicy::new(3, 50, 500, 10_000))
    .with_offline(ksef::Environment::Test, AutoOffline::default());
    engine.set_offline_signer(OfflineSigner {
        context_type: ksef::qr::ContextType::Nip,
        context_value: SELLER.into(),
        certificate_serial: cert.serial_hex(),
        key,
    });
    let latarnia = |t: &mut dyn ksef::http::Transport| -> Result<availability::KsefStatus, String> {
        let url = sim.lighthouse_base_url();
        let r = t
            .send(&availability::status_request(&url))
            .map_err(|e| format!("Latarnia: {e}"))?;
        Ok(availability::parse_status(&r.body)
            .map_err(|e| format!("Latarnia: {e}"))?
            .status)
    };
    sim.faults().set_unavailable(true);
    let status = latarnia(&mut t)?;
    writeln!(
        out,
        "\n# offline mode (paired, simultaneous): KSeF goes down; Latarnia says {}",
        status.as_str()
    )
    .map_err(io)?;
    engine.set_ksef_status(status);
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../examples/paired/order-b2b.json"))
            .map_err(|e| format!("order-b2b.json: {e}"))?;
    v["id"] = "100999".into();
    let order = Order::from_value(&v).map_err(|e| format!("order-b2b.json: {e}"))?;
    engine
        .order(&order, Trigger::StatusChanged, SystemClock.now_ms())
        .map_err(|e| format!("order: {e}"))?;
    let mut issued = None;
    engine.drive(&mut t, &mut SystemClock, |e| {
        if let PairedEvent::OfflineIssued {
            kod1_url,
            kod2_url,
            deadline,
            ..
        } = e
        {
            issued = Some((kod1_url, kod2_url, deadline));
        }
    });
    let job = engine
        .machine()
        .jobs()
        .find(|j| j.docs.order_id == order.id)
        .cloned()
        .ok_or("the offline order has no job")?;
    let (kod1, kod2, deadline) = issued.ok_or("the invoice was not issued offline")?;
    let stem = job.docs.number.replace('/', "_");
    for (name, url, label) in [
        ("kod1", &kod1, "OFFLINE"),
        ("kod2", &kod2.clone().unwrap_or_default(), "CERTYFIKAT"),
    ] {
        if url.is_empty() {
            continue;
        }
        let m =
            ksef::qr::QrMatrix::encode(url, ksef::qr::DEFAULT_ECC).map_err(|e| e.to_string())?;
        let png = ksef::qr::render::png(&m, Some(label), &ksef::qr::RenderOptions::default())
            .map_err(|e| e.to_string())?;
        let p = dir.join(format!("{stem}-{name}.png"));
        std::fs::write(&p, png).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    writeln!(
        out,
        "order {} -> invoice {} issued offline ({})\n  send by: {}\n  KOD I:   {kod1}\n  KOD II:  {}\n  QR codes: {}\n  Fakturownia id: {} (made at once, no KSeF number yet)",
        order.id,
        job.docs.number,
        job.status().as_str(),
        deadline.map_or("(no obligation)".to_string(), |d| d.to_string()),
        kod2.unwrap_or_default(),
        dir.join(format!("{stem}-kod1.png")).display(),
        job.fakturownia_id.map_or("-".to_string(), |i| i.to_string()),
    )
    .map_err(io)?;
    sim.faults().set_unavailable(false);
    let status = latarnia(&mut t)?;
    engine.set_ksef_status(status);
    let sent = engine.recover_offline(10_000);
    engine.drive(&mut t, &mut SystemClock, |_| {});
    let job = engine
        .machine()
        .job(&job.id)
        .cloned()
        .ok_or("the offline job is gone")?;
    writeln!(
        out,
        "KSeF is back (Latarnia: {}): {sent} offline invoice sent with offlineMode\n  {}: KSeF number {} -> backfilled into Fakturownia document {} (gov_id {})",
        status.as_str(),
        job.status().as_str(),
        job.ksef_number.as_deref().unwrap_or("-"),
        job.fakturownia_id.map_or("-".to_string(), |i| i.to_string()),
        job.fakturownia_gov_id.as_deref().unwrap_or("-"),
    )
    .map_err(io)?;
    if job.status() != ksef::paired::machine::PairedStatus::Completed {
        return Err(format!("offline order: {}", job.status().as_str()));
    }
    Ok(())
}
