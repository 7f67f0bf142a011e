//! Invoice header data: number, dates, place, and the producing system.

use alloc::format;
use alloc::string::String;

use crate::error::Error;
use crate::model::{Date, DateTime, Naglowek, OkresFa, P6Wybor, SchemaVersion};

use super::check;

/// When the goods were supplied or the service performed (`P_6` or `OkresFa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleDate {
    /// One date for the whole invoice (`P_6`); for an advance invoice, the date the payment
    /// was received.
    Date(Date),
    /// A period (`OkresFa`: `P_6_Od`, `P_6_Do`), e.g. for continuous services.
    Period {
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
}

/// Number, dates and place of the invoice, and when and by what it was produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Header {
    /// The invoice number (`P_2`), unique within the seller's numbering.
    pub number: String,
    /// Issue date (`P_1`).
    pub issue_date: Date,
    /// When the invoice document was produced (`DataWytworzeniaFa`); passed in, the core never
    /// reads a clock. FA(3) requires 2025-09-01 or later.
    pub created_at: DateTime,
    /// Place of issue (`P_1M`).
    pub place: Option<String>,
    /// Date or period of supply, when it differs from the issue date.
    pub sale: Option<SaleDate>,
    /// Name of the invoicing system (`SystemInfo`).
    pub system_info: Option<String>,
}

impl Header {
    /// A header with the required data.
    pub fn new(number: impl Into<String>, issue_date: Date, created_at: DateTime) -> Self {
        Header {
            number: number.into(),
            issue_date,
            created_at,
            place: None,
            sale: None,
            system_info: None,
        }
    }

    /// Set the place of issue.
    pub fn place(mut self, place: impl Into<String>) -> Self {
        self.place = Some(place.into());
        self
    }

    /// Set the date of supply.
    pub fn sale_date(mut self, date: Date) -> Self {
        self.sale = Some(SaleDate::Date(date));
        self
    }

    /// Set the period of supply.
    pub fn sale_period(mut self, from: Date, to: Date) -> Self {
        self.sale = Some(SaleDate::Period { from, to });
        self
    }

    /// Set the invoicing system's name.
    pub fn system_info(mut self, name: impl Into<String>) -> Self {
        self.system_info = Some(name.into());
        self
    }

    pub(crate) fn check(&self, path: &str, schema: SchemaVersion) -> Result<(), Error> {
        check::text(&format!("{path}.number"), &self.number)?;
        check::opt_text(&format!("{path}.place"), &self.place)?;
        check::opt_text(&format!("{path}.system_info"), &self.system_info)?;
        if let Some(SaleDate::Period { from, to }) = self.sale {
            if from > to {
                return Err(check::bad(
                    &format!("{path}.sale"),
                    format!("the period starts ({from}) after it ends ({to})"),
                ));
            }
        }
        let (min, label) = match schema {
            SchemaVersion::Fa3 => (DateTime::utc_seconds_of(2025, 9, 1, 0, 0, 0), "2025-09-01"),
            SchemaVersion::Fa2 => (DateTime::utc_seconds_of(2022, 1, 1, 0, 0, 0), "2022-01-01"),
        };
        let max = DateTime::utc_seconds_of(2050, 1, 1, 23, 59, 59);
        let t = self.created_at.unix_seconds();
        if t < min || t > max {
            return Err(check::bad(
                &format!("{path}.created_at"),
                format!(
                    "{} is outside what {schema} allows for DataWytworzeniaFa \
                     ({label}T00:00:00Z to 2050-01-01T23:59:59Z)",
                    self.created_at
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn naglowek(&self) -> Naglowek {
        Naglowek {
            data_wytworzenia_fa: self.created_at.clone(),
            system_info: self.system_info.clone(),
        }
    }

    pub(crate) fn p6(&self) -> Option<P6Wybor> {
        self.sale.map(|s| match s {
            SaleDate::Date(d) => P6Wybor::P6(d),
            SaleDate::Period { from, to } => P6Wybor::OkresFa(OkresFa {
                p_6_od: from,
                p_6_do: to,
            }),
        })
    }
}
