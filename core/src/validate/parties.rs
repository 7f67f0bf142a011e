//! NIP check digits of every party in the invoice.

use alloc::format;
use alloc::string::ToString;

use super::{Ctx, Rule};
use crate::id::{InternalId, Nip};
use crate::model::{DaneIdentyfikacyjnePodmiot3NipWybor as P3Id, NipWybor};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let inv = ctx.inv;
    nip(
        ctx,
        "Faktura/Podmiot1/DaneIdentyfikacyjne/NIP",
        &inv.podmiot1.dane_identyfikacyjne.nip,
    );
    if let NipWybor::Nip(n) = &inv.podmiot2.dane_identyfikacyjne.nip_wybor {
        nip(ctx, "Faktura/Podmiot2/DaneIdentyfikacyjne/NIP", n);
    }
    for (i, p) in inv.podmiot3.iter().enumerate() {
        match &p.dane_identyfikacyjne.nip_wybor {
            P3Id::Nip(n) => nip(
                ctx,
                &format!("Faktura/Podmiot3[{}]/DaneIdentyfikacyjne/NIP", i + 1),
                n,
            ),
            P3Id::IdWew(id) => {
                if let Err(e) = InternalId::parse(id) {
                    ctx.error(
                        Rule::NipChecksum,
                        format!("Faktura/Podmiot3[{}]/DaneIdentyfikacyjne/IDWew", i + 1),
                        e.to_string(),
                    );
                }
            }
            _ => {}
        }
    }
    if let Some(pu) = &inv.podmiot_upowazniony {
        nip(
            ctx,
            "Faktura/PodmiotUpowazniony/DaneIdentyfikacyjne/NIP",
            &pu.dane_identyfikacyjne.nip,
        );
    }
    let fa = &inv.fa;
    if let Some(p) = &fa.podmiot1k {
        nip(
            ctx,
            "Faktura/Fa/Podmiot1K/DaneIdentyfikacyjne/NIP",
            &p.dane_identyfikacyjne.nip,
        );
    }
    for (i, p) in fa.podmiot2k.iter().enumerate() {
        if let NipWybor::Nip(n) = &p.dane_identyfikacyjne.nip_wybor {
            nip(
                ctx,
                &format!("Faktura/Fa/Podmiot2K[{}]/DaneIdentyfikacyjne/NIP", i + 1),
                n,
            );
        }
    }
    if let Some(wt) = &fa.warunki_transakcji {
        for (i, t) in wt.transport.iter().enumerate() {
            if let Some(p) = &t.przewoznik {
                if let NipWybor::Nip(n) = &p.dane_identyfikacyjne.nip_wybor {
                    nip(
                        ctx,
                        &format!(
                            "Faktura/Fa/WarunkiTransakcji/Transport[{}]/Przewoznik/\
                             DaneIdentyfikacyjne/NIP",
                            i + 1
                        ),
                        n,
                    );
                }
            }
        }
    }
}

fn nip(ctx: &mut Ctx<'_>, path: &str, value: &str) {
    if let Err(e) = Nip::parse(value) {
        ctx.error(Rule::NipChecksum, path, e.to_string());
    }
}
