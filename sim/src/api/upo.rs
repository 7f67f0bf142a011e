//! UPO v4-3 documents (`xsd/upo/upo-v4-3.xsd`).
//!
//! The sim's UPOs are NOT signed: the real ones carry an enveloped XAdES signature of the
//! Ministry of Finance, which a simulator cannot make (and a signature with the sim's own
//! key would only prove that clients skip the trust check). Everything else follows the
//! XSD, including the fixed `NazwaPodmiotuPrzyjmujacego` (which the real TE/DEMO UPOs break).

use ksef::model::SchemaVersion;

use super::reference_number;
use crate::time::rfc3339;

/// The per-session part of a UPO.
#[derive(Debug, Clone)]
pub(crate) struct UpoHeader {
    pub(crate) session_ref: String,
    pub(crate) context_kind: String,
    pub(crate) context_value: String,
    pub(crate) token_ref: Option<String>,
    pub(crate) document_hash: Option<String>,
    pub(crate) schema: SchemaVersion,
}

/// One `Dokument`.
#[derive(Debug, Clone)]
pub(crate) struct UpoDoc {
    pub(crate) seller_nip: String,
    pub(crate) ksef_number: String,
    pub(crate) invoice_number: String,
    pub(crate) issue_date: String,
    pub(crate) received_ms: i64,
    pub(crate) accepted_ms: i64,
    pub(crate) hash: String,
    pub(crate) offline: bool,
}

/// Paging of a session UPO: (page, pages, first document, last document, total).
pub(crate) type Paging = (usize, usize, usize, usize, usize);

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

/// Writes one UPO document.
pub(crate) fn write(h: &UpoHeader, paging: Option<Paging>, docs: &[UpoDoc]) -> Vec<u8> {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<Potwierdzenie xmlns=\"http://upo.schematy.mf.gov.pl/KSeF/v4-3\">\n");
    x.push_str(
        "\t<NazwaPodmiotuPrzyjmujacego>Ministerstwo Finansów</NazwaPodmiotuPrzyjmujacego>\n",
    );
    x.push_str(&format!(
        "\t<NumerReferencyjnySesji>{}</NumerReferencyjnySesji>\n",
        esc(&h.session_ref)
    ));
    let ctx_el = match h.context_kind.as_str() {
        "InternalId" => "IdWewnetrzny",
        "NipVatUe" => "IdZlozonyVatUE",
        "PeppolId" => "IdDostawcyUslugPeppol",
        _ => "Nip",
    };
    x.push_str("\t<Uwierzytelnienie>\n\t\t<IdKontekstu>\n");
    x.push_str(&format!(
        "\t\t\t<{ctx_el}>{}</{ctx_el}>\n",
        esc(&h.context_value)
    ));
    x.push_str("\t\t</IdKontekstu>\n");
    match (&h.token_ref, &h.document_hash) {
        (Some(t), _) => x.push_str(&format!(
            "\t\t<NumerReferencyjnyTokenaKSeF>{}</NumerReferencyjnyTokenaKSeF>\n",
            esc(t)
        )),
        (None, Some(d)) => x.push_str(&format!(
            "\t\t<SkrotDokumentuUwierzytelniajacego>{}</SkrotDokumentuUwierzytelniajacego>\n",
            esc(d)
        )),
        (None, None) => x.push_str(&format!(
            "\t\t<NumerReferencyjnyTokenaKSeF>{}</NumerReferencyjnyTokenaKSeF>\n",
            reference_number("EC")
        )),
    }
    x.push_str("\t</Uwierzytelnienie>\n");
    if let Some((page, pages, from, to, total)) = paging {
        x.push_str(&format!(
            "\t<OpisPotwierdzenia>\n\t\t<Strona>{page}</Strona>\n\t\t<LiczbaStron>{pages}</LiczbaStron>\n\t\t<ZakresDokumentowOd>{from}</ZakresDokumentowOd>\n\t\t<ZakresDokumentowDo>{to}</ZakresDokumentowDo>\n\t\t<CalkowitaLiczbaDokumentow>{total}</CalkowitaLiczbaDokumentow>\n\t</OpisPotwierdzenia>\n"
        ));
    }
    let (structure, form) = match h.schema {
        SchemaVersion::Fa2 => ("Schemat_FA(2)_v1-0E.xsd", "FA (2)"),
        SchemaVersion::Fa3 => ("Schemat_FA(3)_v1-0E.xsd", "FA (3)"),
    };
    x.push_str(&format!(
        "\t<NazwaStrukturyLogicznej>{structure}</NazwaStrukturyLogicznej>\n\t<KodFormularza>{form}</KodFormularza>\n"
    ));
    for d in docs {
        x.push_str(&format!(
            "\t<Dokument>\n\t\t<NipSprzedawcy>{}</NipSprzedawcy>\n\t\t<NumerKSeFDokumentu>{}</NumerKSeFDokumentu>\n\t\t<NumerFaktury>{}</NumerFaktury>\n\t\t<DataWystawieniaFaktury>{}</DataWystawieniaFaktury>\n\t\t<DataPrzeslaniaDokumentu>{}</DataPrzeslaniaDokumentu>\n\t\t<DataNadaniaNumeruKSeF>{}</DataNadaniaNumeruKSeF>\n\t\t<SkrotDokumentu>{}</SkrotDokumentu>\n\t\t<TrybWysylki>{}</TrybWysylki>\n\t</Dokument>\n",
            esc(&d.seller_nip),
            esc(&d.ksef_number),
            esc(&d.invoice_number),
            esc(&d.issue_date),
            rfc3339(d.received_ms),
            rfc3339(d.accepted_ms),
            esc(&d.hash),
            if d.offline { "Offline" } else { "Online" },
        ));
    }
    x.push_str("</Potwierdzenie>\n");
    x.into_bytes()
}

/// The pages of a session UPO (≤ 10,000 documents each), each with its reference number.
pub(crate) fn session_pages(h: &UpoHeader, docs: &[UpoDoc]) -> Vec<(String, Vec<u8>)> {
    session_pages_of(h, docs, ksef::protocol::upo::MAX_DOCUMENTS)
}

pub(crate) fn session_pages_of(
    h: &UpoHeader,
    docs: &[UpoDoc],
    per_page: usize,
) -> Vec<(String, Vec<u8>)> {
    let total = docs.len();
    let pages = total.div_ceil(per_page).max(1);
    docs.chunks(per_page.max(1))
        .enumerate()
        .map(|(i, chunk)| {
            let from = i * per_page + 1;
            let to = from + chunk.len() - 1;
            (
                reference_number("EU"),
                write(h, Some((i + 1, pages, from, to, total)), chunk),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> UpoDoc {
        let ksef = ksef::id::KsefNumber::from_prefix(&format!("5265877635-20260101-{:012X}", n))
            .map(|k| k.as_str().to_string())
            .unwrap_or_default();
        UpoDoc {
            seller_nip: "5265877635".into(),
            ksef_number: ksef,
            invoice_number: format!("FV/{n} <&>"),
            issue_date: "2026-01-01".into(),
            received_ms: 1_767_225_600_000,
            accepted_ms: 1_767_225_601_000,
            hash: "GZMGNVzs3krF6URKgvaw77OOeG3nJ+WGziT5xguliQ8=".into(),
            offline: n % 2 == 0,
        }
    }

    #[test]
    fn pages_are_readable_by_the_core_reader() {
        let h = UpoHeader {
            session_ref: "20260101-SO-0123456789-ABCDEF0123-45".into(),
            context_kind: "Nip".into(),
            context_value: "5265877635".into(),
            token_ref: None,
            document_hash: Some("kyqH+QUgP8ATWd/95IY632mP4uqibwG66Oqclq9+qno=".into()),
            schema: SchemaVersion::Fa3,
        };
        let docs: Vec<UpoDoc> = (1..=5).map(doc).collect();
        let pages = session_pages_of(&h, &docs, 2);
        assert_eq!(pages.len(), 3);
        let upo = ksef::protocol::upo::Upo::parse(&pages[2].1).expect("UPO parses");
        assert_eq!(upo.documents.len(), 1);
        let page = upo.page.as_ref().expect("paged");
        assert_eq!(
            (
                page.page,
                page.page_count,
                page.documents_from,
                page.documents_to,
                page.total_documents
            ),
            (3, 3, 5, 5, 5)
        );
        assert_eq!(upo.documents[0].invoice_number, "FV/5 <&>");
    }
}
