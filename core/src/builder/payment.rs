//! Payment terms (`Platnosc`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::model::{
    Date, FormaPlatnosci, Platnosc, PlatnoscFormaPlatnosciWybor, RachunekBankowy, TerminPlatnosci,
    Wybor1, ZaplaconoWybor,
};

use super::check;

/// A bank account for the payment (`RachunekBankowy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BankAccount {
    /// Account number (`NrRB`), e.g. an IBAN without spaces.
    pub number: String,
    /// SWIFT/BIC (`SWIFT`).
    pub swift: Option<String>,
    /// Name of the bank (`NazwaBanku`).
    pub bank_name: Option<String>,
    /// Description (`OpisRachunku`).
    pub description: Option<String>,
}

impl BankAccount {
    /// An account.
    pub fn new(number: impl Into<String>) -> Self {
        BankAccount {
            number: number.into(),
            swift: None,
            bank_name: None,
            description: None,
        }
    }

    /// Set the bank's name.
    pub fn bank_name(mut self, name: impl Into<String>) -> Self {
        self.bank_name = Some(name.into());
        self
    }

    /// Set the SWIFT/BIC.
    pub fn swift(mut self, swift: impl Into<String>) -> Self {
        self.swift = Some(swift.into());
        self
    }

    /// Set the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

/// Payment: already paid (with the date), or due on date(s); the form and the accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Payment {
    /// Paid in full on this date (`Zaplacono` + `DataZaplaty`).
    pub paid_on: Option<Date>,
    /// Due date(s) (`TerminPlatnosci/Termin`).
    pub due_dates: Vec<Date>,
    /// Form of payment (`FormaPlatnosci`).
    pub form: Option<FormaPlatnosci>,
    /// Accounts to pay into (`RachunekBankowy`).
    pub bank_accounts: Vec<BankAccount>,
}

impl Payment {
    /// Paid in full on `date`.
    pub fn paid(date: Date, form: FormaPlatnosci) -> Self {
        Payment {
            paid_on: Some(date),
            form: Some(form),
            ..Payment::default()
        }
    }

    /// Due on `date`.
    pub fn due(date: Date, form: FormaPlatnosci) -> Self {
        Payment {
            due_dates: alloc::vec![date],
            form: Some(form),
            ..Payment::default()
        }
    }

    /// Add another due date.
    pub fn and_due(mut self, date: Date) -> Self {
        self.due_dates.push(date);
        self
    }

    /// Add a bank account.
    pub fn account(mut self, account: BankAccount) -> Self {
        self.bank_accounts.push(account);
        self
    }

    pub(crate) fn to_model(&self, path: &str) -> Result<Platnosc, Error> {
        if self.paid_on.is_none()
            && self.due_dates.is_empty()
            && self.form.is_none()
            && self.bank_accounts.is_empty()
        {
            return Err(check::bad(
                path,
                "give a payment date, a due date, a form or an account (or no payment)",
            ));
        }
        let mut accounts = Vec::with_capacity(self.bank_accounts.len());
        for (i, a) in self.bank_accounts.iter().enumerate() {
            let p = format!("{path}.bank_accounts[{i}]");
            check::text(&format!("{p}.number"), &a.number)?;
            check::opt_text(&format!("{p}.swift"), &a.swift)?;
            check::opt_text(&format!("{p}.bank_name"), &a.bank_name)?;
            check::opt_text(&format!("{p}.description"), &a.description)?;
            accounts.push(RachunekBankowy {
                nr_rb: a.number.clone(),
                swift: a.swift.clone(),
                rachunek_wlasny_banku: None,
                nazwa_banku: a.bank_name.clone(),
                opis_rachunku: a.description.clone(),
            });
        }
        Ok(Platnosc {
            zaplacono_wybor: self.paid_on.map(|d| ZaplaconoWybor::Zaplacono {
                zaplacono: Wybor1::Tak,
                data_zaplaty: d,
            }),
            termin_platnosci: self
                .due_dates
                .iter()
                .map(|d| TerminPlatnosci {
                    termin: Some(*d),
                    ..TerminPlatnosci::default()
                })
                .collect(),
            forma_platnosci_wybor: self.form.map(PlatnoscFormaPlatnosciWybor::FormaPlatnosci),
            rachunek_bankowy: accounts,
            ..Platnosc::default()
        })
    }
}
