//! The KSeF 2.0 protocol, sans IO.
//!
//! [`Client`] is one state machine that never touches a socket, a clock or the OS's
//! randomness: the host feeds it `now` and HTTP responses, and drains the next request to
//! send, the next deadline and events (see [`client`] for the loop, or let [`drive`] /
//! [`run`] pump it over any [`crate::http::Transport`]). It authenticates (KSeF token or
//! XAdES), keeps the access token fresh (refresh, or a new authentication when that fails
//! or a call answers 401), retries 429/5xx/transport failures under a
//! [`crate::retry::RetryPolicy`] only where repeating is harmless, and runs operations one
//! after another:
//!
//! | start with | does |
//! |---|---|
//! | [`Client::authenticate`] | challenge → token or XAdES → poll → redeem |
//! | [`Client::send_online`] | online session: open, send, close, KSeF numbers, UPOs |
//! | [`Client::send_batch`] | batch session: parts of a [`batch::PreparedBatch`] uploaded, results mapped back |
//! | [`Client::session_status`], [`Client::invoice_status`], [`Client::session_invoices`], [`Client::failed_invoices`], [`Client::download_upo`] | status, invoice lists and UPOs of earlier sessions |
//! | [`Client::query_metadata`], [`Client::download_invoice`], [`Client::export_invoices`] | the inbox |
//! | [`Client::generate_token`], [`Client::enroll_certificate`] | onboarding (KSeF token, KSeF certificate for KOD II) |
//! | [`Client::test_connection`] | challenge → auth → redeem → terminate, with a verdict |
//! | [`Client::logout`], [`Client::terminate_auth_session`], [`Client::list_auth_sessions`] | authenticated sessions |
//!
//! - [`batch`]: batch-session packages (ZIP, split, encrypt, hash; streaming) and the
//!   invoice export package reader.
//! - [`json`]: the JSON forms of outputs, events, errors and inputs shared by the bindings.
//! - [`upo`]: the official receipt (UPO v4-3) for one invoice or a whole session.
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use ksef::protocol::{run, Client, Config, Credentials, FormCode, OnlineSend, Output, SystemClock};
//! use ksef::id::Nip;
//! let nip = Nip::parse("5265877635").unwrap();
//! let config = Config::with_base_url("http://127.0.0.1:8080/v2", nip);
//! let mut client = Client::new(config, Credentials::ksef_token("my-ksef-token"), [7u8; 32]);
//! let xml = std::fs::read("invoice.xml").unwrap();
//! let op = client.send_online(OnlineSend::new(FormCode::Fa3, vec![xml]));
//! // Any `ksef::http::Transport`: the built-in one, or the host's HTTP client.
//! let mut t = ksef::transport::UreqTransport::new()?;
//! match run(&mut client, op, &mut t, &mut SystemClock, |_| {}) {
//!     Ok(Output::Online(r)) => println!("{:?}", r.invoices[0].ksef_number),
//!     other => println!("{other:?}"),
//! }
//! # }
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::boxed::Box;
use alloc::string::String;

pub mod batch;
pub mod batch_session;
pub mod client;
pub mod drive;
pub mod inbox;
pub mod json;
pub mod onboarding;
pub mod online;
mod ops;
mod session;
pub mod settings;
pub mod upo;
mod wire;

pub use batch_session::{BatchResult, BatchSend};
pub use client::{Client, Config, Credentials, Event, OpId, Transmit, TransmitId};
#[cfg(feature = "std")]
pub use drive::SystemClock;
pub use drive::{drive, run, Clock};
pub use inbox::{
    DateType, DownloadedInvoice, ExportRequest, ExportResult, InvoiceMetadata, MetadataQuery,
    MetadataResult, SubjectType,
};
pub use onboarding::{
    AuthSession, CertificateType, ConnectionVerdict, EnrolledCertificate, GeneratedToken,
    TokenPermission,
};
pub use online::{FormCode, InvoiceOutcome, OnlineResult, OnlineSend, SessionResult};
pub use ops::{InvoiceStatus, Output, SessionStatus, UpoPageRef, UpoRef};
pub use settings::ClientSettings;
pub use wire::{SecretString, StatusInfo};

impl Client {
    /// Authenticates now (otherwise the first call that needs a token does it). Finishes
    /// with [`Output::Authenticated`].
    pub fn authenticate(&mut self) -> OpId {
        self.start(Box::new(ops::Authenticate { fresh: false }))
    }

    /// Sends invoices in one online session and collects their KSeF numbers and UPOs.
    /// Finishes with [`Output::Online`].
    pub fn send_online(&mut self, send: OnlineSend) -> OpId {
        self.start(Box::new(online::OnlineOp::new(send)))
    }

    /// Sends a prepared batch: open, upload every part, close, wait, map results back.
    /// Finishes with [`Output::Batch`].
    pub fn send_batch(&mut self, send: BatchSend) -> OpId {
        self.start(Box::new(batch_session::BatchOp::new(send)))
    }

    /// A session's status. Finishes with [`Output::SessionStatus`].
    pub fn session_status(&mut self, session: impl Into<String>) -> OpId {
        self.start(Box::new(ops::GetSessionStatus {
            reference: session.into(),
            result: None,
        }))
    }

    /// One invoice's status in a session. Finishes with [`Output::InvoiceStatus`].
    pub fn invoice_status(
        &mut self,
        session: impl Into<String>,
        invoice: impl Into<String>,
    ) -> OpId {
        self.start(Box::new(ops::GetInvoiceStatus {
            session: session.into(),
            invoice: invoice.into(),
            result: None,
        }))
    }

    /// Every invoice of a session with its status (all pages). Finishes with
    /// [`Output::Invoices`].
    pub fn session_invoices(&mut self, session: impl Into<String>) -> OpId {
        self.start(Box::new(ops::ListInvoices {
            session: session.into(),
            failed: false,
            token: None,
            items: alloc::vec::Vec::new(),
            done: false,
        }))
    }

    /// The invoices of a session that failed (all pages, `…/invoices/failed`). Finishes with
    /// [`Output::Invoices`].
    pub fn failed_invoices(&mut self, session: impl Into<String>) -> OpId {
        self.start(Box::new(ops::ListInvoices {
            session: session.into(),
            failed: true,
            token: None,
            items: alloc::vec::Vec::new(),
            done: false,
        }))
    }

    /// Downloads a UPO (checked to read as UPO v4-3). Finishes with [`Output::Upo`].
    pub fn download_upo(&mut self, which: UpoRef) -> OpId {
        self.start(Box::new(ops::DownloadUpo {
            which,
            result: None,
        }))
    }

    /// Ends the current authenticated session (`DELETE /auth/sessions/current`); the tokens
    /// are dropped. Finishes with [`Output::Terminated`].
    pub fn logout(&mut self) -> OpId {
        self.start(Box::new(ops::Terminate {
            reference: None,
            done: false,
        }))
    }

    /// Ends another authenticated session by its reference number. Finishes with
    /// [`Output::Terminated`].
    pub fn terminate_auth_session(&mut self, reference: impl Into<String>) -> OpId {
        self.start(Box::new(ops::Terminate {
            reference: Some(reference.into()),
            done: false,
        }))
    }

    /// Lists invoice metadata (all pages; continues past the 10,000-result truncation).
    /// Finishes with [`Output::Metadata`].
    pub fn query_metadata(&mut self, query: MetadataQuery) -> OpId {
        self.start(Box::new(inbox::QueryOp::new(query)))
    }

    /// Downloads one invoice by its KSeF number and reads it. Finishes with
    /// [`Output::Invoice`].
    pub fn download_invoice(&mut self, ksef_number: impl Into<String>) -> OpId {
        self.start(Box::new(inbox::DownloadOp::new(ksef_number.into())))
    }

    /// Exports invoices as an encrypted package, downloads, checks, decrypts and unpacks it.
    /// Finishes with [`Output::Export`].
    pub fn export_invoices(&mut self, request: ExportRequest) -> OpId {
        self.start(Box::new(inbox::ExportOp::new(request)))
    }

    /// Generates a KSeF token (only after certificate authentication, as KSeF requires)
    /// and waits until it is active. Finishes with [`Output::Token`].
    pub fn generate_token(
        &mut self,
        permissions: alloc::vec::Vec<TokenPermission>,
        description: impl Into<String>,
    ) -> OpId {
        self.start(Box::new(onboarding::TokenOp::new(
            permissions,
            description.into(),
        )))
    }

    /// Enrolls a KSeF certificate with a P-256 key and CSR made here. Finishes with
    /// [`Output::Certificate`].
    pub fn enroll_certificate(&mut self, name: impl Into<String>, kind: CertificateType) -> OpId {
        self.start(Box::new(onboarding::EnrollOp::new(name.into(), kind)))
    }

    /// Lists the context's authenticated sessions. Finishes with [`Output::AuthSessions`].
    pub fn list_auth_sessions(&mut self) -> OpId {
        self.start(Box::new(onboarding::ListAuthSessions::new()))
    }

    /// Tests the connection and the credentials: a fresh authentication (challenge, token
    /// or signature, poll, redeem), then the session is ended. Never fails: finishes with
    /// [`Output::Connection`] whose verdict names the step that failed.
    pub fn test_connection(&mut self) -> OpId {
        self.start(Box::new(onboarding::TestConnection::new()))
    }
}
