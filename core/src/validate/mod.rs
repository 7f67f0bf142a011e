//! Invoice rules beyond the XSD.
//!
//! [`validate`] first runs the XSD-level check ([`crate::xml::check`]: element presence per
//! schema version, lengths, patterns, digits, code lists such as the `P_12` rates of each
//! version) and reports its first problem as an issue of rule [`Rule::Schema`]; then it applies
//! the business rules below and reports every problem found, each with the element path
//! (`Faktura/Fa/FaWiersz[3]/P_11`: official element names, 1-based index on every element that
//! may repeat, as [`crate::xml::check`] writes them), the rule, a severity and a message that
//! says why.
//!
//! What is checked (the XSD element documentation is cited in the messages):
//! - every NIP (`Podmiot1`, `Podmiot2`, `Podmiot3`, `PodmiotUpowazniony`, `Podmiot1K`,
//!   `Podmiot2K`, `Przewoznik`) and the NIP part of `Podmiot3/IDWew` has a valid check digit
//!   (KSeF checks these on production); KSeF numbers inside the invoice are not checked;
//! - lines: `P_11 = P_8B × P_9A − P_10` (also `P_8B × (P_9A − P_10)`), same for gross values;
//!   rate `P_12` present on lines with amounts (except simplified `UPR` invoices, the margin
//!   procedure and exempt supplies, where the law lets it out);
//! - totals per rate bucket: for `VAT`, `KOR` and `UPR`, the lines (net `P_11`, or gross
//!   `P_11A` against `P_13_x + P_14_x`) add up to `P_13_x`, before-correction lines
//!   (`StanPrzed`) counting negative; for every kind, `P_14_x` is `P_13_x × rate` or the
//!   from-gross amount `(P_13_x + P_14_x) × rate / (100 + rate)` (art. 106e ust. 10, art. 106f
//!   ust. 1 pkt 3); `P_15 = Σ P_13_x + Σ P_14_x`; in a foreign currency `P_14_xW` is present
//!   and equals `P_14_x × exchange rate`; `Rozliczenie`, `ZaliczkaCzesciowa` and `Zamowienie`
//!   sums;
//! - rate codes vs annotations: `zw` needs `Zwolnienie/P_19` with a legal basis, `oo` needs
//!   `P_18 = 1`, margin sales need `PMarzy`; each line's amount is in its rate's `P_13_x`;
//! - dates: `P_1` not after `today` (when given), `P_6_Od ≤ P_6_Do`, `DataWytworzeniaFa` not
//!   before `P_1`, the corrected invoice not after the correction;
//! - fields each kind needs: `DaneFaKorygowanej` for corrections, `FakturaZaliczkowa` for
//!   `ROZ`, `Zamowienie` for `ZAL`, at least one `FaWiersz` for `VAT`, `ROZ` and `UPR`.
//!
//! Rounding: amounts are compared exactly (decimal arithmetic, never floats); rounding is half
//! away from zero to 0.01; a difference is accepted up to [`Options::tolerance`] (0.01) for each
//! line that contributes to the compared amount (at least one; two for corrections, whose
//! amounts are differences of two rounded values).
//!
//! ```
//! use ksef::model::{Date, SchemaVersion};
//! use ksef::validate::{validate, Options, Rule};
//!
//! let xml = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../shared/ksef-spec/samples/fa3/FA_3_Przyklad_01.xml"
//! ));
//! # let Ok(xml) = xml else { return Ok(()) };
//! let parsed = ksef::xml::parse(&xml)?;
//! let mut inv = parsed.invoice;
//! inv.fa.p_15 += ksef::model::Decimal::ONE; // break the total
//! let opts = Options::new().with_today(Date::new(2026, 2, 20).unwrap());
//! let report = validate(&inv, SchemaVersion::Fa3, &opts);
//! assert!(!report.is_valid());
//! let first = report.errors().next().unwrap();
//! assert_eq!((first.rule, first.path.as_str()), (Rule::TotalDue, "Faktura/Fa/P_15"));
//! assert_eq!(first.rule.code(), "total_due");
//! assert!(report.into_result().is_err());
//! # Ok::<(), ksef::Error>(())
//! ```

mod amounts;
mod dates;
mod kinds;
mod parties;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{Error, ErrorCode};
use crate::model::{Date, Decimal, Faktura, SchemaVersion};

/// What [`validate`] needs besides the invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Today's date (the core never reads a clock). When `None`, the future-date check of
    /// `P_1` is skipped.
    pub today: Option<Date>,
    /// The rounding difference accepted per line (0.01 by default); see the module docs.
    pub tolerance: Decimal,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            today: None,
            tolerance: Decimal::new(1, 2),
        }
    }
}

impl Options {
    /// No date, tolerance 0.01.
    pub fn new() -> Self {
        Self::default()
    }

    /// With today's date.
    pub fn with_today(mut self, today: Date) -> Self {
        self.today = Some(today);
        self
    }

    /// With another per-line rounding tolerance (its absolute value is used).
    pub fn with_tolerance(mut self, tolerance: Decimal) -> Self {
        self.tolerance = tolerance.abs();
        self
    }
}

/// How bad an issue is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The invoice is wrong (KSeF may accept it, but it breaks the law or the schema's rules).
    Error,
    /// Probably wrong, or unusual enough to look at.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub const fn code(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $desc:literal; )*) => {
        /// A validation rule. The [`code`](Rule::code) strings are stable (bindings expose
        /// them); new rules may be added.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $name, )*
        }

        impl Rule {
            /// Every rule, in table order.
            pub const ALL: &'static [Rule] = &[$(Rule::$name),*];

            /// The stable code (`"nip_checksum"`).
            pub const fn code(self) -> &'static str {
                match self {
                    $(Rule::$name => $code,)*
                }
            }

            /// What the rule checks, in one sentence.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Rule::$name => $desc,)*
                }
            }

            /// The rule for a code.
            pub fn from_code(code: &str) -> Option<Rule> {
                match code {
                    $($code => Some(Rule::$name),)*
                    _ => None,
                }
            }
        }
    };
}

rules! {
    /// The XSD-level check ([`crate::xml::check`]) failed.
    Schema = "schema", "the invoice fits the XSD of its schema version (elements, lengths, patterns, code lists)";
    /// A NIP (or the NIP part of `IDWew`) has a wrong check digit or format.
    NipChecksum = "nip_checksum", "every NIP in the invoice has a valid check digit";
    /// `P_11` (`P_11A`) differs from quantity × unit price − discount.
    LineValue = "line_value", "a line's value is its quantity times its unit price less the discount";
    /// A line with an amount has no rate `P_12`.
    RateMissing = "rate_missing", "a line with an amount has a tax rate P_12";
    /// A line's rate points at a `P_13_x` total that is missing.
    RateBucket = "rate_bucket", "each line's amount is in the P_13_x total of its rate";
    /// The lines of a rate do not add up to its `P_13_x`.
    BucketTotal = "bucket_total", "the lines of each rate add up to its P_13_x total";
    /// `P_14_x` is not `P_13_x` × rate.
    TaxAmount = "tax_amount", "P_14_x is the tax on P_13_x at its rate";
    /// `P_14_xW` (tax in PLN) missing, misplaced or not `P_14_x` × exchange rate.
    TaxInPln = "tax_in_pln", "in a foreign currency, P_14_xW is the tax converted to PLN";
    /// `P_15` is not the sum of the `P_13_x` and `P_14_x`.
    TotalDue = "total_due", "P_15 is the sum of the P_13_x and P_14_x amounts";
    /// Exempt sales without `Zwolnienie/P_19` and its legal basis.
    ExemptionBasis = "exemption_basis", "exempt sales (zw) name their legal basis in Adnotacje/Zwolnienie";
    /// Reverse-charge sales without `P_18 = 1`.
    ReverseCharge = "reverse_charge", "reverse-charge sales (oo) carry Adnotacje/P_18 = 1";
    /// Margin-procedure sales without `PMarzy`.
    MarginProcedure = "margin_procedure", "margin-procedure sales (P_13_11) carry Adnotacje/PMarzy";
    /// `P_1` is after today.
    FutureIssueDate = "future_issue_date", "the issue date P_1 is not in the future";
    /// `P_6_Od` is after `P_6_Do`.
    PeriodOrder = "period_order", "the period OkresFa starts (P_6_Od) before it ends (P_6_Do)";
    /// `P_1` is more than 60 days before the delivery date `P_6` (art. 106i ust. 7).
    IssuedTooEarly = "issued_too_early", "an invoice is not issued more than 60 days before the delivery (P_6)";
    /// `DataWytworzeniaFa` is before `P_1`.
    CreatedBeforeIssue = "created_before_issue", "the file is not created (DataWytworzeniaFa) before the issue date P_1";
    /// The corrected invoice is dated after the correction.
    CorrectedInvoiceDate = "corrected_invoice_date", "the corrected invoice is not dated after the correction";
    /// A correction without `DaneFaKorygowanej`.
    CorrectedInvoiceMissing = "corrected_invoice_missing", "a correction (KOR, KOR_ZAL, KOR_ROZ) names the corrected invoice";
    /// A `ROZ` invoice without `FakturaZaliczkowa`.
    AdvanceInvoiceMissing = "advance_invoice_missing", "a settlement invoice (ROZ) names its advance invoices";
    /// A `ZAL` invoice without `Zamowienie`.
    OrderMissing = "order_missing", "an advance invoice (ZAL) describes the order (Zamowienie)";
    /// A `VAT`, `ROZ` or `UPR` invoice without `FaWiersz`.
    LinesMissing = "lines_missing", "VAT, ROZ and UPR invoices have at least one line (FaWiersz)";
    /// Correction data on an invoice that is not a correction.
    NotACorrection = "not_a_correction", "correction data appears only on corrections";
    /// `P_15ZK` missing on a correction of an advance or settlement invoice.
    BeforeCorrectionAmount = "before_correction_amount", "KOR_ZAL and KOR_ROZ give the amount before the correction (P_15ZK)";
    /// `Zamowienie/WartoscZamowienia` differs from the sum of its rows.
    OrderTotal = "order_total", "the order value is the sum of its rows' net and tax amounts";
    /// `ZaliczkaCzesciowa/P_15Z` amounts do not fit `P_15`.
    PartialPayments = "partial_payments", "the partial payments (P_15Z) make up P_15";
    /// `Rozliczenie` sums or `DoZaplaty`/`DoRozliczenia` do not add up.
    Settlement = "settlement", "Rozliczenie sums and the amount to pay add up";
    /// `JST`/`GV` = 1 without the matching `Podmiot3` role.
    ThirdPartyRole = "third_party_role", "JST/GV = 1 comes with a Podmiot3 of role 8/10";
    /// Amounts too large to compute with.
    AmountOverflow = "amount_overflow", "amounts can be added and multiplied without overflow";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Element path, e.g. `Faktura/Fa/FaWiersz[3]/P_11`.
    pub path: String,
    /// The rule broken.
    pub rule: Rule,
    /// Error or warning.
    pub severity: Severity,
    /// Why, in words.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity, self.rule, self.path, self.message
        )
    }
}

/// The result of [`validate`]: every issue found, in the order the checks ran (the schema
/// issue first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// All issues.
    pub issues: Vec<Issue>,
}

impl Report {
    /// No errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
    }

    /// The issues of one rule.
    pub fn of_rule(&self, rule: Rule) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(move |i| i.rule == rule)
    }

    /// `Ok(self)` when valid; otherwise an [`Error`] with code
    /// [`ErrorCode::ValidationFailed`], the path of the first error and a message giving the
    /// counts and the first error.
    pub fn into_result(self) -> Result<Report, Error> {
        let Some(first) = self.errors().next() else {
            return Ok(self);
        };
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        let message = format!(
            "invoice validation failed: {errors} error{}, {warnings} warning{}; first: [{}] {}: {}",
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
            first.rule,
            first.path,
            first.message
        );
        Err(Error::new(
            ErrorCode::ValidationFailed,
            first.path.clone(),
            message,
        ))
    }
}

impl Issue {
    /// The JSON form of the issue (shared by every binding):
    /// `{"code":"total_due","severity":"error","path":"Faktura/Fa/P_15","message":"..."}`.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.rule.code(),
            "severity": self.severity.code(),
            "path": self.path,
            "message": self.message,
        })
    }
}

impl Report {
    /// The JSON form of the report (shared by every binding): whether it is valid, the
    /// counts, and every issue in order (see [`Issue::to_json_value`]):
    /// `{"valid":false,"errors":1,"warnings":0,"issues":[{"code":"total_due",...}]}`.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "valid": self.is_valid(),
            "errors": self.errors().count(),
            "warnings": self.warnings().count(),
            "issues": self.issues.iter().map(Issue::to_json_value).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

/// Validate an invoice written in (or meant for) `schema`. Never panics; problems are
/// reported, not returned as `Err`.
pub fn validate(inv: &Faktura, schema: SchemaVersion, opts: &Options) -> Report {
    let mut ctx = Ctx {
        inv,
        opts,
        tol: opts.tolerance.abs(),
        issues: Vec::new(),
    };
    if let Err(e) = crate::xml::check(inv, schema) {
        ctx.error(
            Rule::Schema,
            e.path(),
            format!("{} ({})", e.message(), e.code().name()),
        );
    }
    parties::check(&mut ctx);
    kinds::check(&mut ctx);
    dates::check(&mut ctx);
    amounts::check(&mut ctx);
    Report { issues: ctx.issues }
}

/// What the rule modules share: the invoice, the options, the issues found so far.
struct Ctx<'a> {
    inv: &'a Faktura,
    opts: &'a Options,
    tol: Decimal,
    issues: Vec<Issue>,
}

impl Ctx<'_> {
    fn push(&mut self, rule: Rule, severity: Severity, path: impl Into<String>, message: String) {
        self.issues.push(Issue {
            path: path.into(),
            rule,
            severity,
            message,
        });
    }

    fn error(&mut self, rule: Rule, path: impl Into<String>, message: String) {
        self.push(rule, Severity::Error, path, message);
    }

    fn warn(&mut self, rule: Rule, path: impl Into<String>, message: String) {
        self.push(rule, Severity::Warning, path, message);
    }

    /// Report that amounts at `path` could not be computed (once per path).
    fn overflow(&mut self, path: &str) {
        if self
            .issues
            .iter()
            .any(|i| i.rule == Rule::AmountOverflow && i.path == path)
        {
            return;
        }
        self.error(
            Rule::AmountOverflow,
            path,
            String::from("the amounts are too large to be added or multiplied exactly"),
        );
    }
}

/// `Faktura/Fa/FaWiersz[i+1]/leaf`.
fn line_path(i: usize, leaf: &str) -> String {
    format!("Faktura/Fa/FaWiersz[{}]/{leaf}", i + 1)
}

/// `Faktura/Fa/leaf`.
fn fa_path(leaf: &str) -> String {
    format!("Faktura/Fa/{leaf}")
}
