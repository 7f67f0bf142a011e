//! Dates: the issue date, the period, the file creation date, the corrected invoice's date.

use alloc::format;

use super::{fa_path, Ctx, Rule};
use crate::model::{P6Wybor, RodzajFaktury};

/// Art. 106i ust. 7: an invoice may be issued at most 60 days before the delivery.
const MAX_DAYS_BEFORE_DELIVERY: i64 = 60;

/// The earliest UTC offset of Polish local time is +01:00, the latest +02:00: a local day
/// starts at the earliest at 22:00 UTC the day before.
const POLAND_MAX_OFFSET_SECONDS: i64 = 2 * 3600;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let inv = ctx.inv;
    let fa = &inv.fa;
    let p_1 = fa.p_1;
    if let Some(today) = ctx.opts.today {
        if p_1 > today {
            ctx.error(
                Rule::FutureIssueDate,
                fa_path("P_1"),
                format!(
                    "the issue date P_1 {p_1} is after today ({today}); KSeF refuses invoices \
                     dated later than the day it receives them"
                ),
            );
        }
    }
    match &fa.p_6_wybor {
        Some(P6Wybor::OkresFa(o)) if o.p_6_od > o.p_6_do => {
            ctx.error(
                Rule::PeriodOrder,
                fa_path("OkresFa/P_6_Do"),
                format!(
                    "the period ends (P_6_Do {}) before it starts (P_6_Od {})",
                    o.p_6_do, o.p_6_od
                ),
            );
        }
        Some(P6Wybor::P6(p_6)) if fa.rodzaj_faktury == RodzajFaktury::Vat => {
            let days = p_6.days_since_epoch() - p_1.days_since_epoch();
            if days > MAX_DAYS_BEFORE_DELIVERY {
                ctx.warn(
                    Rule::IssuedTooEarly,
                    fa_path("P_1"),
                    format!(
                        "the invoice is issued on {p_1}, {days} days before the delivery date \
                         P_6 {p_6}; art. 106i ust. 7 allows at most {MAX_DAYS_BEFORE_DELIVERY} \
                         days (unless a payment was received before, then use ZAL)"
                    ),
                );
            }
        }
        _ => {}
    }
    let created = &inv.naglowek.data_wytworzenia_fa;
    let issue_day_start = p_1.days_since_epoch() * 86_400 - POLAND_MAX_OFFSET_SECONDS;
    if created.unix_seconds() < issue_day_start {
        ctx.warn(
            Rule::CreatedBeforeIssue,
            "Faktura/Naglowek/DataWytworzeniaFa",
            format!(
                "the file was created ({}) before the issue date P_1 {p_1}",
                created.as_str()
            ),
        );
    }
    for (i, d) in fa.dane_fa_korygowanej.iter().enumerate() {
        if d.data_wyst_fa_korygowanej > p_1 {
            ctx.warn(
                Rule::CorrectedInvoiceDate,
                fa_path(&format!(
                    "DaneFaKorygowanej[{}]/DataWystFaKorygowanej",
                    i + 1
                )),
                format!(
                    "the corrected invoice {} is dated {}, after this correction (P_1 {p_1})",
                    d.nr_fa_korygowanej, d.data_wyst_fa_korygowanej
                ),
            );
        }
    }
}
