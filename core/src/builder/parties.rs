//! The seller and the buyer.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::error::Error;
use crate::model::{
    Adres, DaneIdentyfikacyjnePodmiot1, DaneIdentyfikacyjnePodmiot2, DaneKontaktowe, Gv, Jst,
    KodKraju, KodKrajuUe, NipWybor, Podmiot1, Podmiot2, Podmiot2DaneKontaktowe, SchemaVersion,
    Wybor1,
};

use super::check;

/// A postal address (`Adres`): country and one or two free-form lines.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Address {
    /// Country (`KodKraju`).
    pub country: KodKraju,
    /// First line, e.g. street and number (`AdresL1`).
    pub line1: String,
    /// Second line, e.g. postcode and town (`AdresL2`).
    pub line2: Option<String>,
    /// Global Location Number (`GLN`).
    pub gln: Option<String>,
}

impl Address {
    /// An address with one line.
    pub fn new(country: KodKraju, line1: impl Into<String>) -> Self {
        Address {
            country,
            line1: line1.into(),
            line2: None,
            gln: None,
        }
    }

    /// A Polish address: street line and postcode/town line.
    pub fn pl(line1: impl Into<String>, line2: impl Into<String>) -> Self {
        Address::new(KodKraju::Pl, line1).line2(line2)
    }

    /// Set the second line.
    pub fn line2(mut self, line2: impl Into<String>) -> Self {
        self.line2 = Some(line2.into());
        self
    }

    /// Set the GLN.
    pub fn gln(mut self, gln: impl Into<String>) -> Self {
        self.gln = Some(gln.into());
        self
    }

    pub(crate) fn to_model(&self, path: &str) -> Result<Adres, Error> {
        check::text(&format!("{path}.line1"), &self.line1)?;
        check::opt_text(&format!("{path}.line2"), &self.line2)?;
        check::opt_text(&format!("{path}.gln"), &self.gln)?;
        Ok(Adres {
            kod_kraju: self.country,
            adres_l1: self.line1.clone(),
            adres_l2: self.line2.clone(),
            gln: self.gln.clone(),
        })
    }
}

/// E-mail and/or phone (`DaneKontaktowe`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Contact {
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

impl Contact {
    /// No contact data yet; add with [`Contact::email`] / [`Contact::phone`].
    pub fn new() -> Self {
        Contact::default()
    }

    /// Set the e-mail.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Set the phone.
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    fn check(&self, path: &str) -> Result<(), Error> {
        if self.email.is_none() && self.phone.is_none() {
            return Err(check::bad(
                path,
                "give an e-mail or a phone number (or no contact)",
            ));
        }
        check::opt_text(&format!("{path}.email"), &self.email)?;
        check::opt_text(&format!("{path}.phone"), &self.phone)
    }
}

/// The seller (`Podmiot1`): a Polish VAT taxpayer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Seller {
    /// NIP (10 digits, checksum verified).
    pub nip: String,
    /// Name or first name and surname.
    pub name: String,
    /// Address.
    pub address: Address,
    /// Contact data.
    pub contact: Option<Contact>,
}

impl Seller {
    /// A seller.
    pub fn new(nip: impl Into<String>, name: impl Into<String>, address: Address) -> Self {
        Seller {
            nip: nip.into(),
            name: name.into(),
            address,
            contact: None,
        }
    }

    /// Set the contact data.
    pub fn contact(mut self, contact: Contact) -> Self {
        self.contact = Some(contact);
        self
    }

    pub(crate) fn to_model(&self) -> Result<Podmiot1, Error> {
        check::nip("seller.nip", &self.nip)?;
        check::text("seller.name", &self.name)?;
        let mut contacts = Vec::new();
        if let Some(c) = &self.contact {
            c.check("seller.contact")?;
            contacts.push(DaneKontaktowe {
                email: c.email.clone(),
                telefon: c.phone.clone(),
            });
        }
        Ok(Podmiot1 {
            dane_identyfikacyjne: DaneIdentyfikacyjnePodmiot1 {
                nip: self.nip.clone(),
                nazwa: self.name.clone(),
            },
            adres: self.address.to_model("seller.address")?,
            dane_kontaktowe: contacts,
            ..Podmiot1::default()
        })
    }
}

/// How the buyer is identified (`Podmiot2/DaneIdentyfikacyjne`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BuyerId {
    /// A Polish NIP (`NIP`).
    Nip(String),
    /// An EU VAT number (`KodUE` + `NrVatUE`): the country prefix and the number without it.
    EuVat {
        /// Country prefix (`KodUE`).
        country: KodKrajuUe,
        /// Number without the prefix (`NrVatUE`, up to 12 of `0-9 A-Z + *`).
        number: String,
    },
    /// Another tax identifier (`KodKraju` + `NrID`), e.g. of a buyer outside the EU.
    Foreign {
        /// Country that issued it (`KodKraju`, optional).
        country: Option<KodKraju>,
        /// The identifier (`NrID`).
        id: String,
    },
    /// No tax identifier, e.g. a consumer (`BrakID`).
    None,
}

/// The buyer (`Podmiot2`).
///
/// In FA(3) the builder writes `JST` = 2 and `GV` = 2 (not a local-government unit, not a VAT
/// group member); for those cases set them on the built [`crate::Faktura`] together with the
/// `Podmiot3` entry they require.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Buyer {
    /// Identification.
    pub id: BuyerId,
    /// Name (optional only where the law allows, e.g. simplified invoices).
    pub name: Option<String>,
    /// Address.
    pub address: Option<Address>,
    /// Contact data.
    pub contact: Option<Contact>,
    /// The buyer's customer number with the seller (`NrKlienta`).
    pub customer_number: Option<String>,
}

impl Buyer {
    /// A buyer with the given identification and nothing else.
    pub fn new(id: BuyerId) -> Self {
        Buyer {
            id,
            name: None,
            address: None,
            contact: None,
            customer_number: None,
        }
    }

    /// A Polish company (or sole trader) identified by NIP.
    pub fn company(nip: impl Into<String>, name: impl Into<String>) -> Self {
        Buyer::new(BuyerId::Nip(nip.into())).name(name)
    }

    /// A business in another EU country, identified by its VAT number.
    pub fn eu_business(
        country: KodKrajuUe,
        vat_number: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Buyer::new(BuyerId::EuVat {
            country,
            number: vat_number.into(),
        })
        .name(name)
    }

    /// A buyer with a non-EU tax identifier.
    pub fn foreign(country: KodKraju, id: impl Into<String>, name: impl Into<String>) -> Self {
        Buyer::new(BuyerId::Foreign {
            country: Some(country),
            id: id.into(),
        })
        .name(name)
    }

    /// A consumer without a tax identifier (`BrakID`).
    pub fn consumer() -> Self {
        Buyer::new(BuyerId::None)
    }

    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Set the address.
    pub fn address(mut self, address: Address) -> Self {
        self.address = Some(address);
        self
    }

    /// Set the contact data.
    pub fn contact(mut self, contact: Contact) -> Self {
        self.contact = Some(contact);
        self
    }

    /// Set the customer number.
    pub fn customer_number(mut self, number: impl Into<String>) -> Self {
        self.customer_number = Some(number.into());
        self
    }

    pub(crate) fn to_model(&self, schema: SchemaVersion) -> Result<Podmiot2, Error> {
        let nip_wybor = match &self.id {
            BuyerId::Nip(n) => {
                check::nip("buyer.id", n)?;
                NipWybor::Nip(n.clone())
            }
            BuyerId::EuVat { country, number } => {
                if let Err(e) = crate::id::VatUeId::new(*country, number) {
                    return Err(check::bad("buyer.id", format!("`{number}`: {e}")));
                }
                if number.starts_with(country.code()) && number.len() > 2 {
                    return Err(check::bad(
                        "buyer.id",
                        format!(
                            "give the EU VAT number `{number}` without the `{}` prefix",
                            country.code()
                        ),
                    ));
                }
                NipWybor::KodUe {
                    kod_ue: *country,
                    nr_vat_ue: number.clone(),
                }
            }
            BuyerId::Foreign { country, id } => {
                check::text("buyer.id", id)?;
                if id.chars().count() > 50 {
                    return Err(check::bad(
                        "buyer.id",
                        "a tax identifier has at most 50 characters",
                    ));
                }
                if schema == SchemaVersion::Fa2 && !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(check::bad(
                        "buyer.id",
                        format!("`{id}`: FA(2) allows only letters and digits in NrID"),
                    ));
                }
                NipWybor::KodKraju {
                    kod_kraju: *country,
                    nr_id: id.clone(),
                }
            }
            BuyerId::None => NipWybor::BrakId(Wybor1::Tak),
        };
        check::opt_text("buyer.name", &self.name)?;
        check::opt_text("buyer.customer_number", &self.customer_number)?;
        let adres = match &self.address {
            Some(a) => Some(a.to_model("buyer.address")?),
            None => None,
        };
        let dane_kontaktowe = match &self.contact {
            Some(c) => {
                c.check("buyer.contact")?;
                vec![Podmiot2DaneKontaktowe {
                    email: c.email.clone(),
                    telefon: c.phone.clone(),
                }]
            }
            None => Vec::new(),
        };
        let fa3 = schema == SchemaVersion::Fa3;
        Ok(Podmiot2 {
            dane_identyfikacyjne: DaneIdentyfikacyjnePodmiot2 {
                nip_wybor,
                nazwa: self.name.clone(),
            },
            adres,
            dane_kontaktowe,
            nr_klienta: self.customer_number.clone(),
            jst: fa3.then_some(Jst::Nie),
            gv: fa3.then_some(Gv::Nie),
            ..Podmiot2::default()
        })
    }
}
