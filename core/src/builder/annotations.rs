//! The required annotations block (`Adnotacje`).

use alloc::string::String;

use crate::error::Error;
use crate::model::{
    Adnotacje, NoweSrodkiTransportu, P19aWybor, PMarzy, Wybor1, Wybor12, Zwolnienie,
};

use super::check;
use super::rate::{MarginScheme, VatRate};

/// The legal basis of an exemption (`P_19A` / `P_19B` / `P_19C`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exemption {
    /// A provision of the VAT act or of a regulation under it (`P_19A`), e.g.
    /// `"art. 43 ust. 1 pkt 37 ustawy o VAT"`.
    Act(String),
    /// A provision of Directive 2006/112/EC (`P_19B`).
    Directive(String),
    /// Another legal basis (`P_19C`).
    Other(String),
}

/// The annotations every invoice carries (`Adnotacje`). All default to "no".
///
/// - `reverse_charge` (`P_18`): `None` derives it from the lines — "yes" when a line is
///   [`VatRate::ReverseCharge`] or [`VatRate::NpII`] (the buyer accounts for the tax); set
///   `Some(..)` to decide yourself.
/// - `exemption` must be set exactly when a line is [`VatRate::Exempt`]; `margin` exactly when
///   a line is [`VatRate::Margin`].
/// - New means of transport (`P_22`) are not supported: `P_22N` is always written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Annotations {
    /// Cash accounting, "metoda kasowa" (`P_16`).
    pub cash_method: bool,
    /// Self-billing, "samofakturowanie" (`P_17`).
    pub self_billing: bool,
    /// Reverse charge, "odwrotne obciążenie" (`P_18`); `None` = derived from the lines.
    pub reverse_charge: Option<bool>,
    /// Split payment, "mechanizm podzielonej płatności" (`P_18A`). Mandatory for annex-15
    /// goods when the total exceeds 15 000 PLN; the builder does not decide that for you.
    pub split_payment: bool,
    /// Exemption and its legal basis (`P_19` + `P_19A/B/C`).
    pub exemption: Option<Exemption>,
    /// Margin procedure (`PMarzy`).
    pub margin: Option<MarginScheme>,
    /// Simplified triangular procedure, second taxpayer (`P_23`).
    pub simplified_triangular: bool,
}

fn yn(b: bool) -> Wybor12 {
    if b {
        Wybor12::Tak
    } else {
        Wybor12::Nie
    }
}

impl Annotations {
    /// All "no".
    pub fn new() -> Self {
        Annotations::default()
    }

    /// Cash accounting (`P_16` = 1).
    pub fn cash_method(mut self) -> Self {
        self.cash_method = true;
        self
    }

    /// Self-billing (`P_17` = 1).
    pub fn self_billing(mut self) -> Self {
        self.self_billing = true;
        self
    }

    /// Decide the reverse-charge annotation (`P_18`) instead of deriving it from the lines.
    pub fn reverse_charge(mut self, yes: bool) -> Self {
        self.reverse_charge = Some(yes);
        self
    }

    /// Split payment (`P_18A` = 1).
    pub fn split_payment(mut self) -> Self {
        self.split_payment = true;
        self
    }

    /// Exemption with its legal basis.
    pub fn exemption(mut self, basis: Exemption) -> Self {
        self.exemption = Some(basis);
        self
    }

    /// Margin procedure.
    pub fn margin(mut self, scheme: MarginScheme) -> Self {
        self.margin = Some(scheme);
        self
    }

    /// Simplified triangular procedure (`P_23` = 1).
    pub fn simplified_triangular(mut self) -> Self {
        self.simplified_triangular = true;
        self
    }

    /// The model block, checked against the rates the invoice uses.
    pub(crate) fn to_model(&self, rates: &[VatRate]) -> Result<Adnotacje, Error> {
        let has = |r: VatRate| rates.contains(&r);
        let zwolnienie = match (&self.exemption, has(VatRate::Exempt)) {
            (Some(e), true) => {
                let (path, choice) = match e {
                    Exemption::Act(s) => (s, P19aWybor::P19a(s.clone())),
                    Exemption::Directive(s) => (s, P19aWybor::P19b(s.clone())),
                    Exemption::Other(s) => (s, P19aWybor::P19c(s.clone())),
                };
                check::text("annotations.exemption", path)?;
                Zwolnienie::P19 {
                    p_19: Wybor1::Tak,
                    p_19a_wybor: choice,
                }
            }
            (None, false) => Zwolnienie::P19n(Wybor1::Tak),
            (None, true) => {
                return Err(check::bad(
                    "annotations.exemption",
                    "a line is exempt (VatRate::Exempt): give the legal basis of the exemption",
                ))
            }
            (Some(_), false) => {
                return Err(check::bad(
                    "annotations.exemption",
                    "an exemption basis is set but no line is exempt (VatRate::Exempt)",
                ))
            }
        };
        let p_marzy = match (self.margin, has(VatRate::Margin)) {
            (Some(m), true) => PMarzy::PPmarzy {
                p_pmarzy: Wybor1::Tak,
                p_pmarzy_2_wybor: m.to_model(),
            },
            (None, false) => PMarzy::PPmarzyN(Wybor1::Tak),
            (None, true) => {
                return Err(check::bad(
                    "annotations.margin",
                    "a line uses the margin scheme (VatRate::Margin): name the procedure",
                ))
            }
            (Some(_), false) => {
                return Err(check::bad(
                    "annotations.margin",
                    "a margin procedure is set but no line uses it (VatRate::Margin)",
                ))
            }
        };
        let reverse = self
            .reverse_charge
            .unwrap_or(has(VatRate::ReverseCharge) || has(VatRate::NpII));
        Ok(Adnotacje {
            p_16: yn(self.cash_method),
            p_17: yn(self.self_billing),
            p_18: yn(reverse),
            p_18a: yn(self.split_payment),
            zwolnienie,
            nowe_srodki_transportu: NoweSrodkiTransportu::P22n(Wybor1::Tak),
            p_23: yn(self.simplified_triangular),
            p_marzy,
        })
    }
}
