//! Tax rates as a shop thinks of them, the calculation method, and the special procedures.

use crate::model::{Decimal, PPmarzy2Wybor, SchemaVersion, StawkaPodatku, Wybor1};

/// The tax treatment of a line: a VAT rate or a procedure without a rate.
///
/// Each value maps to the `P_12` code of the target schema (see [`VatRate::code`]) and to the
/// pair of totals fields of `Fa` it adds to (see [`VatRate::totals_field`]):
///
/// | rate | FA(3) `P_12` | FA(2) `P_12` | totals |
/// |---|---|---|---|
/// | `Rate23`, `Rate22` | `23`, `22` | `23`, `22` | `P_13_1` / `P_14_1` |
/// | `Rate8`, `Rate7` | `8`, `7` | `8`, `7` | `P_13_2` / `P_14_2` |
/// | `Rate5` | `5` | `5` | `P_13_3` / `P_14_3` |
/// | `Rate4`, `Rate3` | `4`, `3` | `4`, `3` | `P_13_4` / `P_14_4` (taxi flat rate) |
/// | `Zero` | `0 KR` | `0` | `P_13_6_1` |
/// | `ZeroWdt` | `0 WDT` | `0` | `P_13_6_2` |
/// | `ZeroExport` | `0 EX` | `0` | `P_13_6_3` |
/// | `Exempt` | `zw` | `zw` | `P_13_7` |
/// | `NpI` | `np I` | `np` | `P_13_8` |
/// | `NpII` | `np II` | `np` | `P_13_9` |
/// | `ReverseCharge` | `oo` | `oo` | `P_13_10` |
/// | `Margin` | (none) | (none) | `P_13_11` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VatRate {
    /// 23 % (basic rate).
    Rate23,
    /// 22 % (basic rate before 2011; still valid for corrections of old sales).
    Rate22,
    /// 8 % (first reduced rate).
    Rate8,
    /// 7 % (first reduced rate before 2011).
    Rate7,
    /// 5 % (second reduced rate).
    Rate5,
    /// 4 % (flat rate for passenger taxis).
    Rate4,
    /// 3 % (flat rate for passenger taxis before 2011).
    Rate3,
    /// 0 % for domestic supplies (not intra-EU supply, not export): `0 KR`.
    Zero,
    /// 0 % intra-Community supply of goods (WDT): `0 WDT`.
    ZeroWdt,
    /// 0 % export of goods: `0 EX`.
    ZeroExport,
    /// Exempt (`zw`); the invoice must state the legal basis
    /// ([`super::Annotations::exemption`]).
    Exempt,
    /// Not subject to tax in Poland — supplies outside the country other than the services of
    /// art. 100 ust. 1 pkt 4 and OSS (`np I`).
    NpI,
    /// Not subject to tax in Poland — services of art. 100 ust. 1 pkt 4 (EU business customers
    /// who account for the tax) (`np II`).
    NpII,
    /// Domestic reverse charge: the buyer accounts for the tax (`oo`).
    ReverseCharge,
    /// Margin scheme (art. 119 / 120): the line has no rate and shows the gross price; the
    /// invoice must name the procedure ([`super::Annotations::margin`]).
    Margin,
}

/// Which pair of totals fields of `Fa` a rate adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TotalsField {
    /// `P_13_1` / `P_14_1` (/ `P_14_1W`): 23 % and 22 %.
    Basic,
    /// `P_13_2` / `P_14_2` (/ `P_14_2W`): 8 % and 7 %.
    Reduced1,
    /// `P_13_3` / `P_14_3` (/ `P_14_3W`): 5 %.
    Reduced2,
    /// `P_13_4` / `P_14_4` (/ `P_14_4W`): taxi flat rate, 4 % and 3 %.
    Taxi,
    /// `P_13_6_1`: 0 % domestic.
    ZeroDomestic,
    /// `P_13_6_2`: 0 % intra-Community supply.
    ZeroWdt,
    /// `P_13_6_3`: 0 % export.
    ZeroExport,
    /// `P_13_7`: exempt.
    Exempt,
    /// `P_13_8`: supplies outside the country (`np I`).
    NpI,
    /// `P_13_9`: services of art. 100 ust. 1 pkt 4 (`np II`).
    NpII,
    /// `P_13_10`: domestic reverse charge.
    ReverseCharge,
    /// `P_13_11`: margin scheme.
    Margin,
}

impl TotalsField {
    /// Every field, in the order of `Fa`.
    pub const ALL: [TotalsField; 12] = [
        TotalsField::Basic,
        TotalsField::Reduced1,
        TotalsField::Reduced2,
        TotalsField::Taxi,
        TotalsField::ZeroDomestic,
        TotalsField::ZeroWdt,
        TotalsField::ZeroExport,
        TotalsField::Exempt,
        TotalsField::NpI,
        TotalsField::NpII,
        TotalsField::ReverseCharge,
        TotalsField::Margin,
    ];

    /// `true` for the fields with a tax amount (`P_14_1` … `P_14_4`).
    pub const fn has_tax(self) -> bool {
        matches!(
            self,
            TotalsField::Basic | TotalsField::Reduced1 | TotalsField::Reduced2 | TotalsField::Taxi
        )
    }

    /// The name of the net (or value) field, `"P_13_1"`.
    pub const fn net_field(self) -> &'static str {
        match self {
            TotalsField::Basic => "P_13_1",
            TotalsField::Reduced1 => "P_13_2",
            TotalsField::Reduced2 => "P_13_3",
            TotalsField::Taxi => "P_13_4",
            TotalsField::ZeroDomestic => "P_13_6_1",
            TotalsField::ZeroWdt => "P_13_6_2",
            TotalsField::ZeroExport => "P_13_6_3",
            TotalsField::Exempt => "P_13_7",
            TotalsField::NpI => "P_13_8",
            TotalsField::NpII => "P_13_9",
            TotalsField::ReverseCharge => "P_13_10",
            TotalsField::Margin => "P_13_11",
        }
    }
}

impl VatRate {
    /// Every rate.
    pub const ALL: [VatRate; 15] = [
        VatRate::Rate23,
        VatRate::Rate22,
        VatRate::Rate8,
        VatRate::Rate7,
        VatRate::Rate5,
        VatRate::Rate4,
        VatRate::Rate3,
        VatRate::Zero,
        VatRate::ZeroWdt,
        VatRate::ZeroExport,
        VatRate::Exempt,
        VatRate::NpI,
        VatRate::NpII,
        VatRate::ReverseCharge,
        VatRate::Margin,
    ];

    /// The tax rate in percent for the rates that carry tax on the invoice (23 … 3), `None` for
    /// 0 %, exempt, not subject, reverse charge and margin (no tax amount on the invoice).
    pub fn percent(self) -> Option<Decimal> {
        let p = match self {
            VatRate::Rate23 => 23,
            VatRate::Rate22 => 22,
            VatRate::Rate8 => 8,
            VatRate::Rate7 => 7,
            VatRate::Rate5 => 5,
            VatRate::Rate4 => 4,
            VatRate::Rate3 => 3,
            _ => return None,
        };
        Some(Decimal::from(p))
    }

    /// The `P_12` code in `schema`; `None` for [`VatRate::Margin`] (margin lines carry no rate).
    pub const fn code(self, schema: SchemaVersion) -> Option<StawkaPodatku> {
        let fa3 = matches!(schema, SchemaVersion::Fa3);
        Some(match self {
            VatRate::Rate23 => StawkaPodatku::R23,
            VatRate::Rate22 => StawkaPodatku::R22,
            VatRate::Rate8 => StawkaPodatku::R8,
            VatRate::Rate7 => StawkaPodatku::R7,
            VatRate::Rate5 => StawkaPodatku::R5,
            VatRate::Rate4 => StawkaPodatku::R4,
            VatRate::Rate3 => StawkaPodatku::R3,
            VatRate::Zero if fa3 => StawkaPodatku::R0Kr,
            VatRate::ZeroWdt if fa3 => StawkaPodatku::R0Wdt,
            VatRate::ZeroExport if fa3 => StawkaPodatku::R0Ex,
            VatRate::Zero | VatRate::ZeroWdt | VatRate::ZeroExport => StawkaPodatku::R0,
            VatRate::Exempt => StawkaPodatku::Zw,
            VatRate::NpI if fa3 => StawkaPodatku::NpI,
            VatRate::NpII if fa3 => StawkaPodatku::NpII,
            VatRate::NpI | VatRate::NpII => StawkaPodatku::Np,
            VatRate::ReverseCharge => StawkaPodatku::Oo,
            VatRate::Margin => return None,
        })
    }

    /// The rate for a `P_12` code when the code alone decides it. The FA(2) codes `0` and `np`
    /// stand for two or three rates each and give `None`.
    pub const fn from_code(code: StawkaPodatku) -> Option<VatRate> {
        Some(match code {
            StawkaPodatku::R23 => VatRate::Rate23,
            StawkaPodatku::R22 => VatRate::Rate22,
            StawkaPodatku::R8 => VatRate::Rate8,
            StawkaPodatku::R7 => VatRate::Rate7,
            StawkaPodatku::R5 => VatRate::Rate5,
            StawkaPodatku::R4 => VatRate::Rate4,
            StawkaPodatku::R3 => VatRate::Rate3,
            StawkaPodatku::R0Kr => VatRate::Zero,
            StawkaPodatku::R0Wdt => VatRate::ZeroWdt,
            StawkaPodatku::R0Ex => VatRate::ZeroExport,
            StawkaPodatku::Zw => VatRate::Exempt,
            StawkaPodatku::Oo => VatRate::ReverseCharge,
            StawkaPodatku::NpI => VatRate::NpI,
            StawkaPodatku::NpII => VatRate::NpII,
            StawkaPodatku::R0 | StawkaPodatku::Np => return None,
        })
    }

    /// The pair of totals fields the rate adds to.
    pub const fn totals_field(self) -> TotalsField {
        match self {
            VatRate::Rate23 | VatRate::Rate22 => TotalsField::Basic,
            VatRate::Rate8 | VatRate::Rate7 => TotalsField::Reduced1,
            VatRate::Rate5 => TotalsField::Reduced2,
            VatRate::Rate4 | VatRate::Rate3 => TotalsField::Taxi,
            VatRate::Zero => TotalsField::ZeroDomestic,
            VatRate::ZeroWdt => TotalsField::ZeroWdt,
            VatRate::ZeroExport => TotalsField::ZeroExport,
            VatRate::Exempt => TotalsField::Exempt,
            VatRate::NpI => TotalsField::NpI,
            VatRate::NpII => TotalsField::NpII,
            VatRate::ReverseCharge => TotalsField::ReverseCharge,
            VatRate::Margin => TotalsField::Margin,
        }
    }

    /// A short label for messages (`"23 %"`, `"0 % WDT"`, `"zw"`).
    pub const fn label(self) -> &'static str {
        match self {
            VatRate::Rate23 => "23 %",
            VatRate::Rate22 => "22 %",
            VatRate::Rate8 => "8 %",
            VatRate::Rate7 => "7 %",
            VatRate::Rate5 => "5 %",
            VatRate::Rate4 => "4 %",
            VatRate::Rate3 => "3 %",
            VatRate::Zero => "0 % KR",
            VatRate::ZeroWdt => "0 % WDT",
            VatRate::ZeroExport => "0 % EX",
            VatRate::Exempt => "zw",
            VatRate::NpI => "np I",
            VatRate::NpII => "np II",
            VatRate::ReverseCharge => "oo",
            VatRate::Margin => "margin",
        }
    }
}

/// How the tax is computed (art. 106e of the VAT act). There is no default: choose one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// From net prices: each line's net value `P_11 = round(quantity × net price − discount)`;
    /// per rate, net `P_13_x = Σ P_11` and tax `P_14_x = round(P_13_x × rate)`.
    FromNet,
    /// From gross prices (art. 106e ust. 7–8): each line's gross value
    /// `P_11A = round(quantity × gross price − discount)`; per rate, gross `G = Σ P_11A`, tax
    /// `P_14_x = round(G × rate / (100 + rate))` and net `P_13_x = G − P_14_x`.
    FromGross,
}

/// The margin procedure of the invoice (`PMarzy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MarginScheme {
    /// Travel agency services (`P_PMarzy_2`, art. 119).
    TravelAgency,
    /// Second-hand goods (`P_PMarzy_3_1`, art. 120).
    SecondHandGoods,
    /// Works of art (`P_PMarzy_3_2`, art. 120).
    WorksOfArt,
    /// Collectors' items and antiques (`P_PMarzy_3_3`, art. 120).
    CollectorsItemsAndAntiques,
}

impl MarginScheme {
    pub(crate) fn to_model(self) -> PPmarzy2Wybor {
        match self {
            MarginScheme::TravelAgency => PPmarzy2Wybor::PPmarzy2(Wybor1::Tak),
            MarginScheme::SecondHandGoods => PPmarzy2Wybor::PPmarzy31(Wybor1::Tak),
            MarginScheme::WorksOfArt => PPmarzy2Wybor::PPmarzy32(Wybor1::Tak),
            MarginScheme::CollectorsItemsAndAntiques => PPmarzy2Wybor::PPmarzy33(Wybor1::Tak),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_per_schema() {
        use SchemaVersion::{Fa2, Fa3};
        assert_eq!(VatRate::Zero.code(Fa3).unwrap().code(), "0 KR");
        assert_eq!(VatRate::ZeroWdt.code(Fa3).unwrap().code(), "0 WDT");
        assert_eq!(VatRate::ZeroExport.code(Fa3).unwrap().code(), "0 EX");
        assert_eq!(VatRate::NpI.code(Fa3).unwrap().code(), "np I");
        assert_eq!(VatRate::NpII.code(Fa3).unwrap().code(), "np II");
        for r in [VatRate::Zero, VatRate::ZeroWdt, VatRate::ZeroExport] {
            assert_eq!(r.code(Fa2).unwrap().code(), "0");
        }
        assert_eq!(VatRate::NpI.code(Fa2).unwrap().code(), "np");
        assert_eq!(VatRate::NpII.code(Fa2).unwrap().code(), "np");
        assert_eq!(VatRate::Margin.code(Fa3), None);
        // every code is valid in its schema and maps back
        for r in VatRate::ALL {
            for s in SchemaVersion::ALL {
                if let Some(c) = r.code(s) {
                    let bit = if s == Fa3 { 2 } else { 1 };
                    assert_ne!(c.schema_mask() & bit, 0, "{r:?} in {s}");
                    if s == Fa3 {
                        assert_eq!(VatRate::from_code(c), Some(r));
                    }
                }
            }
        }
    }

    #[test]
    fn totals_fields() {
        assert_eq!(VatRate::Rate22.totals_field(), TotalsField::Basic);
        assert_eq!(VatRate::Rate7.totals_field(), TotalsField::Reduced1);
        assert_eq!(VatRate::Rate3.totals_field(), TotalsField::Taxi);
        assert_eq!(VatRate::ZeroWdt.totals_field().net_field(), "P_13_6_2");
        assert_eq!(VatRate::Margin.totals_field().net_field(), "P_13_11");
        assert!(VatRate::Rate5.totals_field().has_tax());
        assert!(!VatRate::ReverseCharge.totals_field().has_tax());
    }
}
