//! Fields each invoice kind (`RodzajFaktury`) needs, or must not have.

use alloc::format;
use alloc::string::String;

use super::{fa_path, line_path, Ctx, Rule};
use crate::model::{Gv, Jst, RodzajFaktury as Kind, RolaPodmiotu3, RolaWybor};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let inv = ctx.inv;
    let fa = &inv.fa;
    let kind = fa.rodzaj_faktury;
    let code = kind.code();
    match kind {
        Kind::Kor | Kind::KorZal | Kind::KorRoz => {
            if fa.dane_fa_korygowanej.is_empty() {
                ctx.error(
                    Rule::CorrectedInvoiceMissing,
                    fa_path("DaneFaKorygowanej"),
                    format!(
                        "a correction ({code}) must name the corrected invoice(s) in \
                         DaneFaKorygowanej (date, number and KSeF number or NrKSeFN; art. 106j \
                         ust. 2 of the VAT act; XSD: data for RodzajFaktury KOR, KOR_ZAL or \
                         KOR_ROZ)"
                    ),
                );
            }
            if matches!(kind, Kind::KorZal | Kind::KorRoz) && fa.p_15zk.is_none() {
                ctx.warn(
                    Rule::BeforeCorrectionAmount,
                    fa_path("P_15ZK"),
                    format!(
                        "a {code} correction should give P_15ZK, the amount before the \
                         correction (XSD: the payment before the correction for corrections \
                         of advance invoices, the amount left to pay for corrections of \
                         art. 106f ust. 3 invoices)"
                    ),
                );
            }
        }
        _ => not_a_correction(ctx, code),
    }
    if kind == Kind::Roz && fa.faktura_zaliczkowa.is_empty() {
        ctx.error(
            Rule::AdvanceInvoiceMissing,
            fa_path("FakturaZaliczkowa"),
            String::from(
                "a settlement invoice (ROZ, art. 106f ust. 3) must list its advance invoices in \
                 FakturaZaliczkowa (XSD: the number is required for invoices of art. 106f \
                 ust. 3; the KSeF number when the advance invoice went through KSeF)",
            ),
        );
    }
    if kind == Kind::Zal && fa.zamowienie.is_none() {
        ctx.error(
            Rule::OrderMissing,
            fa_path("Zamowienie"),
            String::from(
                "an advance invoice (ZAL) must describe the order or contract in Zamowienie \
                 (value and rows; art. 106f ust. 1 pkt 4 of the VAT act, cited by the XSD)",
            ),
        );
    }
    if matches!(kind, Kind::Vat | Kind::Roz | Kind::Upr) && fa.fa_wiersz.is_empty() {
        ctx.error(
            Rule::LinesMissing,
            fa_path("FaWiersz"),
            format!(
                "a {code} invoice must have at least one line (FaWiersz); the XSD makes the \
                 lines optional only for ZAL, KOR_ZAL and art. 106j ust. 3 corrections"
            ),
        );
    }
    let has_role = |role: RolaPodmiotu3| {
        inv.podmiot3
            .iter()
            .any(|p| matches!(p.rola_wybor, RolaWybor::Rola(r) if r == role))
    };
    if inv.podmiot2.jst == Some(Jst::Tak) && !has_role(RolaPodmiotu3::V8) {
        ctx.warn(
            Rule::ThirdPartyRole,
            "Faktura/Podmiot2/JST",
            String::from(
                "JST = 1 (the invoice concerns a subordinate unit of a local government) but no \
                 Podmiot3 has role 8; the XSD says to give the unit in Podmiot3 (NIP or IDWew, \
                 Rola 8) so that it can see the invoice",
            ),
        );
    }
    if inv.podmiot2.gv == Some(Gv::Tak) && !has_role(RolaPodmiotu3::V10) {
        ctx.warn(
            Rule::ThirdPartyRole,
            "Faktura/Podmiot2/GV",
            String::from(
                "GV = 1 (the invoice concerns a VAT group member) but no Podmiot3 has role 10; \
                 the XSD says to give the member in Podmiot3 (NIP or IDWew, Rola 10) so that it \
                 can see the invoice",
            ),
        );
    }
}

/// Warn about correction-only data on an invoice that is not a correction.
fn not_a_correction(ctx: &mut Ctx<'_>, code: &str) {
    let fa = &ctx.inv.fa;
    let present: [(&str, bool); 9] = [
        ("PrzyczynaKorekty", fa.przyczyna_korekty.is_some()),
        ("TypKorekty", fa.typ_korekty.is_some()),
        ("DaneFaKorygowanej", !fa.dane_fa_korygowanej.is_empty()),
        ("OkresFaKorygowanej", fa.okres_fa_korygowanej.is_some()),
        ("NrFaKorygowany", fa.nr_fa_korygowany.is_some()),
        ("Podmiot1K", fa.podmiot1k.is_some()),
        ("Podmiot2K", !fa.podmiot2k.is_empty()),
        ("P_15ZK", fa.p_15zk.is_some()),
        ("KursWalutyZK", fa.kurs_waluty_zk.is_some()),
    ];
    for (name, _) in present.iter().filter(|(_, p)| *p) {
        ctx.warn(
            Rule::NotACorrection,
            fa_path(name),
            format!(
                "{name} is correction data (XSD: filled when RodzajFaktury is KOR, KOR_ZAL or \
                 KOR_ROZ) but this invoice is {code}"
            ),
        );
    }
    let stan_przed: alloc::vec::Vec<usize> = fa
        .fa_wiersz
        .iter()
        .enumerate()
        .filter(|(_, w)| w.stan_przed.is_some())
        .map(|(i, _)| i)
        .collect();
    for i in stan_przed {
        ctx.warn(
            Rule::NotACorrection,
            line_path(i, "StanPrzed"),
            format!(
                "StanPrzed marks a line as the state before a correction, but this invoice is \
                 {code}, not a correction"
            ),
        );
    }
}
