//! Online and batch sessions, invoice processing, session/invoice status and UPO endpoints,
//! batch part uploads.

use std::collections::HashMap;
use std::io::Read as _;

use ksef::crypto::session::{BatchFileInfo, CompressionType, EncryptionInfo};
use ksef::crypto::{SendInvoiceRequest, SessionKey};
use ksef::id::KsefNumber;
use ksef::model::SchemaVersion;
use ksef::validate::{Options, Rule, Severity};
use ksef::ErrorCode;
use rand_core::OsRng;
use serde_json::{json, Value};

use super::auth::{AuthState, Caller, Context};
use super::inbox::StoredInvoice;
use super::{
    json_body, random_hex, reference_number, sha256_b64, status_json, ApiErr, ApiResult, Ksef,
    State,
};
use crate::http::{Request, Response};
use crate::time::{date_of, now_ms, rfc3339, yyyymmdd};
use crate::AcceptedInvoice;

type Downloads = HashMap<String, (String, Vec<u8>)>;

/// Invoices per session (the default context limit).
const MAX_INVOICES: usize = 10_000;
/// Session lifetime (12 h).
const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// Lifetime of pre-signed URLs in answers.
const URL_TTL_MS: i64 = 3600 * 1000;
/// Largest invoice without attachments (1 MB) and with (3 MB).
const MAX_INVOICE: usize = 1_000_000;
const MAX_INVOICE_WITH_ATTACHMENT: usize = 3_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Online,
    Batch,
}

/// Where a session is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Open,
    /// Closed; final status after `polls_left` more status polls.
    Closed {
        polls_left: u32,
    },
    /// Failed with a final status (code, description, details).
    Failed(u32, String, Vec<String>),
}

/// One invoice of a session.
#[derive(Debug, Clone)]
pub(crate) struct Inv {
    pub(crate) reference: String,
    ordinal: u32,
    invoice_number: Option<String>,
    pub(crate) ksef_number: Option<String>,
    hash: String,
    file_name: Option<String>,
    received_ms: i64,
    accepted_ms: Option<i64>,
    offline: bool,
    /// Final status (code, description, details, extensions).
    status: (u32, String, Vec<String>, Option<Value>),
    polls_left: u32,
    /// For the UPO.
    seller_nip: String,
    issue_date: String,
}

#[derive(Debug, Clone)]
struct Batch {
    file: BatchFileInfo,
    upload_token: String,
    parts: Vec<Option<Vec<u8>>>,
    offline: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) reference: String,
    kind: Kind,
    context: Context,
    auth_ref: String,
    schema: SchemaVersion,
    key: Option<SessionKey>,
    created_ms: i64,
    updated_ms: i64,
    closed_ms: Option<i64>,
    phase: Phase,
    invoices: Vec<Inv>,
    batch: Option<Batch>,
    /// UPO pages (reference, XML), made when the session first shows status 200.
    upo: Vec<(String, Vec<u8>)>,
}

#[derive(Default)]
pub(crate) struct SessionsState {
    sessions: HashMap<String, Session>,
    order: Vec<String>,
    /// (seller NIP, RodzajFaktury, P_2) → (KSeF number, session reference)
    duplicates: HashMap<(String, String, String), (String, String)>,
    pub(crate) accepted: Vec<AcceptedInvoice>,
    /// upload token → session reference
    uploads: HashMap<String, String>,
}

fn parse_form_code(v: &Value) -> Result<SchemaVersion, ApiErr> {
    let f = v
        .get("formCode")
        .ok_or_else(|| ApiErr::invalid("The field 'formCode' is required."))?;
    let get = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("");
    let (sc, sv, val) = (get("systemCode"), get("schemaVersion"), get("value"));
    for s in [SchemaVersion::Fa3, SchemaVersion::Fa2] {
        if sc == s.system_code() && sv == s.schema_version() && val == "FA" {
            return Ok(s);
        }
    }
    if ["FA_RR (1)", "PEF (3)", "PEF_KOR (3)"].contains(&sc) {
        return Err(ApiErr::not_simulated(&format!("the form code {sc}")));
    }
    Err(ApiErr::invalid(format!(
        "Nieprawidłowy kod formularza: systemCode '{sc}', schemaVersion '{sv}', value '{val}'."
    )))
}

impl Ksef {
    fn check_form(&self, schema: SchemaVersion) -> Result<(), ApiErr> {
        if schema == SchemaVersion::Fa2 && self.cfg.environment != ksef::Environment::Test {
            return Err(ApiErr::invalid(format!(
                "Kod formularza FA (2) nie jest obsługiwany w środowisku {}; dozwolony jest FA (3).",
                self.cfg.environment.name()
            )));
        }
        Ok(())
    }

    /// Reads `encryption` and unwraps the key (`None`: it cannot be decrypted).
    fn session_key(&self, body: &Value) -> Result<Option<SessionKey>, ApiErr> {
        let enc = body
            .get("encryption")
            .ok_or_else(|| ApiErr::invalid("The field 'encryption' is required."))?;
        let info = EncryptionInfo::from_json(&enc.to_string())
            .map_err(|e| ApiErr::invalid(format!("encryption: {e}")))?;
        if let Some(id) = &info.public_key_id {
            if *id != Ksef::public_key_id(&self.keys.sym_cert) {
                return Err(ApiErr::bad(
                    21470,
                    "Przesłany identyfikator klucza jest nieznany lub wskazuje na wycofany klucz.",
                    format!("Klucz o identyfikatorze {id} nie jest wspierany."),
                ));
            }
        }
        Ok(SessionKey::from_encryption_info(&info, &self.keys.sym_key, &mut OsRng).ok())
    }

    pub(crate) fn session_routes(&self, m: &str, segs: &[&str], req: &Request) -> ApiResult {
        let c = self.caller(req)?;
        match (m, segs) {
            ("POST", ["online"]) => self.open_online(&c, req),
            ("POST", ["online", r, "invoices"]) => self.send_invoice(&c, r, req),
            ("POST", ["online", r, "close"]) => self.close(&c, r, Kind::Online),
            ("POST", ["batch"]) => self.open_batch(&c, req),
            ("POST", ["batch", r, "close"]) => self.close(&c, r, Kind::Batch),
            ("GET", []) => self.list_sessions(&c, req),
            ("GET", [r]) => self.session_status(&c, r, req),
            ("GET", [r, "invoices"]) => self.session_invoices(&c, r, req, false),
            ("GET", [r, "invoices", "failed"]) => self.session_invoices(&c, r, req, true),
            ("GET", [r, "invoices", "ksef", k, "upo"]) => self.invoice_upo(&c, r, k, true),
            ("GET", [r, "invoices", i, "upo"]) => self.invoice_upo(&c, r, i, false),
            ("GET", [r, "invoices", i]) => self.invoice_status(&c, r, i, req),
            ("GET", [r, "upo", u]) => self.session_upo(&c, r, u),
            _ => Err(ApiErr::plain(
                404,
                "Not Found",
                format!("no KSeF endpoint {m} /v2/sessions/{}", segs.join("/")),
            )),
        }
    }

    fn new_session(
        &self,
        c: &Caller,
        kind: Kind,
        schema: SchemaVersion,
        key: Option<SessionKey>,
    ) -> Session {
        let now = now_ms();
        Session {
            reference: reference_number(if kind == Kind::Online { "SO" } else { "SB" }),
            kind,
            context: c.context.clone(),
            auth_ref: c.auth_ref.clone(),
            schema,
            key,
            created_ms: now,
            updated_ms: now,
            closed_ms: None,
            phase: Phase::Open,
            invoices: Vec::new(),
            batch: None,
            upo: Vec::new(),
        }
    }

    fn open_online(&self, c: &Caller, req: &Request) -> ApiResult {
        let body = json_body(req)?;
        let schema = parse_form_code(&body)?;
        self.check_form(schema)?;
        let key = self.session_key(&body)?;
        let mut s = self.new_session(c, Kind::Online, schema, key);
        if s.key.is_none() {
            s.phase = Phase::Failed(
                415,
                "Błąd odszyfrowania dostarczonego klucza".into(),
                vec!["Nie udało się odszyfrować klucza symetrycznego (RSA-OAEP SHA-256).".into()],
            );
        }
        let reference = s.reference.clone();
        let until = s.created_ms + SESSION_TTL_MS;
        let mut st = self.lock();
        st.sessions.order.push(reference.clone());
        st.sessions.sessions.insert(reference.clone(), s);
        Ok(Response::json(
            201,
            &json!({"referenceNumber": reference, "validUntil": rfc3339(until)}),
        ))
    }

    fn no_session(reference: &str) -> ApiErr {
        ApiErr::bad(
            21173,
            "Brak sesji o wskazanym numerze referencyjnym.",
            format!("Sesja o numerze referencyjnym {reference} nie została znaleziona."),
        )
    }

    fn session_mut<'a>(
        st: &'a mut State,
        c: &Caller,
        reference: &str,
    ) -> Result<&'a mut Session, ApiErr> {
        match st.sessions.sessions.get_mut(reference) {
            Some(s) if s.context == c.context => Ok(s),
            _ => Err(Ksef::no_session(reference)),
        }
    }

    fn phase_code(s: &Session) -> u32 {
        match &s.phase {
            Phase::Open => 100,
            Phase::Closed { .. } => {
                if s.kind == Kind::Online {
                    170
                } else {
                    150
                }
            }
            Phase::Failed(code, ..) => *code,
        }
    }

    fn send_invoice(&self, c: &Caller, reference: &str, req: &Request) -> ApiResult {
        let body = std::str::from_utf8(&req.body)
            .map_err(|_| ApiErr::invalid("The request body is not UTF-8."))?;
        let mut st = self.lock();
        let s = Ksef::session_mut(&mut st, c, reference)?;
        if s.kind != Kind::Online
            || s.phase != Phase::Open
            || now_ms() > s.created_ms + SESSION_TTL_MS
        {
            let code = Ksef::phase_code(s);
            return Err(ApiErr::bad(
                21180,
                "Status sesji nie pozwala na wykonanie operacji.",
                format!("Status sesji {code} uniemożliwia wysyłkę faktur."),
            ));
        }
        if s.invoices.len() >= MAX_INVOICES {
            return Err(ApiErr::bad(
                21155,
                "Przekroczono dozwoloną liczbę faktur w sesji.",
                format!(
                    "Sesja o numerze referencyjnym {reference} osiągnęła dozwolony limit liczby faktur {MAX_INVOICES}."
                ),
            ));
        }
        let sir =
            SendInvoiceRequest::from_json(body).map_err(|e| ApiErr::invalid(e.to_string()))?;
        let Some(key) = s.key.clone() else {
            return Err(ApiErr::invalid("Sesja nie ma klucza."));
        };
        let received = now_ms();
        let opened = sir.open(&key);
        let xml = match opened {
            Ok(x) => Ok(x),
            Err(e) if e.code() == ErrorCode::IntegrityCheck => {
                return Err(if e.path().ends_with("Size") {
                    ApiErr::bad(
                        21402,
                        "Nieprawidłowy rozmiar pliku.",
                        format!(
                            "Długość treści nie zgadza się z rozmiarem pliku ({}).",
                            e.path()
                        ),
                    )
                } else {
                    ApiErr::bad(
                        21403,
                        "Nieprawidłowy skrót pliku.",
                        format!(
                            "Skrót treści nie zgadza się ze skrótem pliku ({}).",
                            e.path()
                        ),
                    )
                });
            }
            Err(e) if e.code() == ErrorCode::Decrypt => Err(e.to_string()),
            Err(e) => return Err(ApiErr::invalid(e.to_string())),
        };
        let schema = s.schema;
        let ordinal = u32::try_from(s.invoices.len() + 1).unwrap_or(u32::MAX);
        let session_ref = s.reference.clone();
        let inv = match xml {
            Ok(xml) => self.process_invoice(
                &mut st,
                &session_ref,
                c,
                schema,
                &xml,
                ordinal,
                None,
                sir.offline_mode,
                received,
                &sir.invoice_hash,
            ),
            Err(msg) => self.failed_inv(
                ordinal,
                None,
                sir.offline_mode,
                received,
                &sir.invoice_hash,
                (435, "Błąd odszyfrowania pliku".into(), vec![msg], None),
            ),
        };
        let inv_ref = inv.reference.clone();
        if let Some(s) = st.sessions.sessions.get_mut(reference) {
            s.invoices.push(inv);
            s.updated_ms = now_ms();
        }
        Ok(Response::json(202, &json!({"referenceNumber": inv_ref})))
    }

    fn failed_inv(
        &self,
        ordinal: u32,
        file_name: Option<String>,
        offline: bool,
        received: i64,
        hash: &str,
        status: (u32, String, Vec<String>, Option<Value>),
    ) -> Inv {
        Inv {
            reference: reference_number("EE"),
            ordinal,
            invoice_number: None,
            ksef_number: None,
            hash: hash.to_string(),
            file_name,
            received_ms: received,
            accepted_ms: None,
            offline,
            status,
            polls_left: self.cfg.session_processing_polls,
            seller_nip: String::new(),
            issue_date: String::new(),
        }
    }

    /// Parses, validates, checks duplicates and assigns a KSeF number.
    #[allow(clippy::too_many_arguments)]
    fn process_invoice(
        &self,
        st: &mut State,
        session_ref: &str,
        c: &Caller,
        schema: SchemaVersion,
        xml: &[u8],
        ordinal: u32,
        file_name: Option<String>,
        offline: bool,
        received: i64,
        hash: &str,
    ) -> Inv {
        let fail = |code: u32, desc: &str, details: Vec<String>| {
            self.failed_inv(
                ordinal,
                file_name.clone(),
                offline,
                received,
                hash,
                (code, desc.to_string(), details, None),
            )
        };
        const XSD: &str = "Błąd weryfikacji pliku faktury";
        const SEMANTIC: &str = "Błąd weryfikacji semantyki dokumentu faktury";
        if xml.starts_with(b"\xEF\xBB\xBF") {
            return fail(
                430,
                XSD,
                vec!["Dokument zawiera znacznik BOM; wymagane UTF-8 bez BOM.".into()],
            );
        }
        let parsed = match ksef::xml::parse(xml) {
            Ok(p) => p,
            Err(e) => return fail(430, XSD, vec![e.to_string()]),
        };
        if parsed.schema != schema {
            return fail(
                430,
                XSD,
                vec![format!(
                    "Dokument jest w schemacie {}, a sesja otwarta dla {}.",
                    parsed.schema.system_code(),
                    schema.system_code()
                )],
            );
        }
        let inv = &parsed.invoice;
        let has_attachment = inv.zalacznik.is_some();
        let limit = if has_attachment {
            MAX_INVOICE_WITH_ATTACHMENT
        } else {
            MAX_INVOICE
        };
        if xml.len() > limit {
            return fail(
                430,
                XSD,
                vec![format!(
                    "Rozmiar faktury {} B przekracza limit {limit} B.",
                    xml.len()
                )],
            );
        }
        if has_attachment && file_name.is_none() {
            return fail(
                415,
                "Brak możliwości wysyłania faktury z załącznikiem",
                vec!["Faktury z załącznikiem można wysyłać tylko w sesji wsadowej.".into()],
            );
        }
        let today = date_of(received);
        let report = ksef::validate::validate(inv, schema, &Options::new().with_today(today));
        let errors_of = |rule: Rule| -> Vec<String> {
            report
                .of_rule(rule)
                .filter(|i| i.severity == Severity::Error)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect()
        };
        let xsd = errors_of(Rule::Schema);
        if !xsd.is_empty() {
            return fail(430, XSD, xsd);
        }
        let future = errors_of(Rule::FutureIssueDate);
        if !future.is_empty() {
            return fail(
                450,
                SEMANTIC,
                vec![format!(
                    "Data wystawienia P_1 jest późniejsza niż data przyjęcia ({today}). {}",
                    future.join(" ")
                )],
            );
        }
        if self.cfg.environment == ksef::Environment::Production {
            let nips = errors_of(Rule::NipChecksum);
            if !nips.is_empty() {
                return fail(450, SEMANTIC, nips);
            }
        }
        let seller = inv.podmiot1.dane_identyfikacyjne.nip.clone();
        if seller != c.context.nip() {
            return fail(
                410,
                "Nieprawidłowy zakres uprawnień",
                vec![format!(
                    "Kontekst {} nie ma uprawnień do wystawiania faktur sprzedawcy {seller}.",
                    c.context.value
                )],
            );
        }
        let kind = inv.fa.rodzaj_faktury.code().to_string();
        let number = inv.fa.p_2.clone();
        let key = (seller.clone(), kind, number.clone());
        if let Some((orig_ksef, orig_session)) = st.sessions.duplicates.get(&key) {
            return self.failed_inv(
                ordinal,
                file_name,
                offline,
                received,
                hash,
                (
                    440,
                    "Duplikat faktury".into(),
                    vec![format!(
                        "Duplikat faktury. Faktura o numerze KSeF: {orig_ksef} została już prawidłowo przesłana do systemu w sesji: {orig_session}"
                    )],
                    Some(json!({
                        "originalSessionReferenceNumber": orig_session,
                        "originalKsefNumber": orig_ksef,
                    })),
                ),
            );
        }
        let accepted = now_ms().max(received);
        let prefix = format!("{seller}-{}-{}", yyyymmdd(accepted), random_hex(6));
        let ksef_number = match KsefNumber::from_prefix(&prefix) {
            Ok(n) => n.as_str().to_string(),
            Err(e) => return fail(450, SEMANTIC, vec![format!("NIP sprzedawcy: {e}")]),
        };
        st.sessions
            .duplicates
            .insert(key, (ksef_number.clone(), session_ref.to_string()));
        st.sessions.accepted.push(AcceptedInvoice {
            ksef_number: ksef_number.clone(),
            seller_nip: seller.clone(),
            invoice_number: number.clone(),
            invoice_hash: hash.to_string(),
            session_reference_number: session_ref.to_string(),
        });
        st.inbox.store(StoredInvoice::new(
            inv,
            schema,
            xml.to_vec(),
            &ksef_number,
            hash,
            accepted,
            offline,
        ));
        Inv {
            reference: reference_number("EE"),
            ordinal,
            invoice_number: Some(number),
            ksef_number: Some(ksef_number),
            hash: hash.to_string(),
            file_name,
            received_ms: received,
            accepted_ms: Some(accepted),
            offline,
            status: (200, "Sukces".into(), Vec::new(), None),
            polls_left: self.cfg.session_processing_polls,
            seller_nip: seller,
            issue_date: inv.fa.p_1.to_string(),
        }
    }

    fn close(&self, c: &Caller, reference: &str, kind: Kind) -> ApiResult {
        let mut st = self.lock();
        let s = Ksef::session_mut(&mut st, c, reference)?;
        if s.kind != kind || s.phase != Phase::Open {
            let code = Ksef::phase_code(s);
            return Err(ApiErr::bad(
                21180,
                "Status sesji nie pozwala na wykonanie operacji.",
                format!("Status sesji {code} uniemożliwia jej zamknięcie."),
            ));
        }
        if kind == Kind::Batch {
            drop(st);
            return self.close_batch(c, reference);
        }
        s.phase = Phase::Closed {
            polls_left: self.cfg.session_processing_polls,
        };
        s.updated_ms = now_ms();
        s.closed_ms = Some(s.updated_ms);
        Ok(Response::empty(204))
    }

    fn open_batch(&self, c: &Caller, req: &Request) -> ApiResult {
        let body = json_body(req)?;
        let schema = parse_form_code(&body)?;
        self.check_form(schema)?;
        let bf = body
            .get("batchFile")
            .ok_or_else(|| ApiErr::invalid("The field 'batchFile' is required."))?;
        let file = BatchFileInfo::from_json(&bf.to_string())
            .map_err(|e| ApiErr::invalid(format!("batchFile: {e}")))?;
        if file.compression_type == Some(CompressionType::TarGz) {
            return Err(ApiErr::not_simulated("TarGz batch archives"));
        }
        let n = file.file_parts.len();
        if n == 0 || n > ksef::crypto::session::MAX_BATCH_PARTS {
            return Err(ApiErr::bad(
                21161,
                "Przekroczono dozwoloną liczbę części pakietu.",
                format!(
                    "Liczba części {n} jest spoza zakresu 1..{}.",
                    ksef::crypto::session::MAX_BATCH_PARTS
                ),
            ));
        }
        for (i, p) in file.file_parts.iter().enumerate() {
            if usize::try_from(p.ordinal_number).ok() != Some(i + 1) {
                return Err(ApiErr::invalid(format!(
                    "fileParts[{i}].ordinalNumber must be {}",
                    i + 1
                )));
            }
            // A part is at most 100 MB before encryption, so ≤ 100 MB + 16 after.
            if p.file_size == 0
                || p.file_size > ksef::crypto::session::MAX_BATCH_PART_SIZE as u64 + 16
            {
                return Err(ApiErr::bad(
                    21157,
                    "Nieprawidłowy rozmiar części pakietu.",
                    format!(
                        "Część {} ma niedozwolony rozmiar {}.",
                        p.ordinal_number, p.file_size
                    ),
                ));
            }
        }
        if file.file_size > ksef::crypto::session::MAX_BATCH_FILE_SIZE {
            return Err(ApiErr::invalid("Rozmiar paczki przekracza 5 GB."));
        }
        let key = self.session_key(&body)?;
        let offline = body
            .get("offlineMode")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut s = self.new_session(c, Kind::Batch, schema, key);
        let token = random_hex(20).to_ascii_lowercase();
        let uploads: Vec<Value> = (1..=n)
            .map(|i| {
                json!({
                    "ordinalNumber": i,
                    "method": "PUT",
                    "url": format!("{}/upload/{token}/{i}", req.origin),
                    "headers": {"x-ms-blob-type": "BlockBlob"},
                })
            })
            .collect();
        s.batch = Some(Batch {
            file,
            upload_token: token.clone(),
            parts: vec![None; n],
            offline,
        });
        let reference = s.reference.clone();
        let mut st = self.lock();
        st.sessions.uploads.insert(token, reference.clone());
        st.sessions.order.push(reference.clone());
        st.sessions.sessions.insert(reference.clone(), s);
        Ok(Response::json(
            201,
            &json!({"referenceNumber": reference, "partUploadRequests": uploads}),
        ))
    }

    /// `PUT /upload/{token}/{ordinal}`.
    pub(crate) fn upload_part(&self, path: &str, req: &Request) -> Response {
        let blob_error = |status: u16, code: &str, msg: &str| {
            Response::new(
                status,
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{msg}</Message></Error>"
                )
                .into_bytes(),
            )
        };
        if req.method != "PUT" {
            return blob_error(405, "UnsupportedHttpVerb", "Use PUT.");
        }
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let [token, ordinal] = segs.as_slice() else {
            return blob_error(404, "BlobNotFound", "Unknown upload URL.");
        };
        if req.header("x-ms-blob-type") != Some("BlockBlob") {
            return blob_error(
                400,
                "MissingRequiredHeader",
                "The header x-ms-blob-type: BlockBlob is required.",
            );
        }
        let mut st = self.lock();
        let Some(reference) = st.sessions.uploads.get(*token).cloned() else {
            return blob_error(
                403,
                "AuthenticationFailed",
                "Unknown or expired upload URL.",
            );
        };
        let Some(s) = st.sessions.sessions.get_mut(&reference) else {
            return blob_error(
                403,
                "AuthenticationFailed",
                "Unknown or expired upload URL.",
            );
        };
        if s.phase != Phase::Open || now_ms() > s.created_ms + SESSION_TTL_MS {
            return blob_error(403, "AuthenticationFailed", "The upload window is closed.");
        }
        let Some(batch) = s.batch.as_mut() else {
            return blob_error(404, "BlobNotFound", "Unknown upload URL.");
        };
        let idx = ordinal.parse::<usize>().ok().and_then(|o| o.checked_sub(1));
        match idx.and_then(|i| batch.parts.get_mut(i)) {
            Some(slot) => {
                *slot = Some(req.body.clone());
                s.updated_ms = now_ms();
                Response::empty(201)
            }
            None => blob_error(404, "BlobNotFound", "Unknown part number."),
        }
    }

    fn close_batch(&self, c: &Caller, reference: &str) -> ApiResult {
        let mut st = self.lock();
        let s = Ksef::session_mut(&mut st, c, reference)?;
        let Some(batch) = s.batch.clone() else {
            return Err(Ksef::no_session(reference));
        };
        for (i, p) in batch.parts.iter().enumerate() {
            let info = &batch.file.file_parts[i];
            match p {
                None => {
                    return Err(ApiErr::bad(
                        21205,
                        "Pakiet nie może być pusty.",
                        format!("Nie przesłano zadeklarowanej '{}' części pliku.", i + 1),
                    ))
                }
                Some(bytes) if bytes.len() as u64 != info.file_size => {
                    return Err(ApiErr::bad(
                        21157,
                        "Nieprawidłowy rozmiar części pakietu.",
                        format!(
                            "Zadeklarowany rozmiar części '{}' nie zgadza się z rzeczywistym.",
                            i + 1
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let now = now_ms();
        s.updated_ms = now;
        s.closed_ms = Some(now);
        let schema = s.schema;
        let key = s.key.clone();
        let session_ref = s.reference.clone();
        st.sessions.uploads.remove(&batch.upload_token);
        // From here on, problems are the session's final status (processed asynchronously
        // by KSeF), not errors of this call.
        let outcome = self.unpack_batch(&batch, key.as_ref());
        let fail_phase = match outcome {
            Err(phase) => Some(phase),
            Ok(files) => {
                let mut invs = Vec::new();
                for (n, (name, xml)) in files.into_iter().enumerate() {
                    let ordinal = u32::try_from(n + 1).unwrap_or(u32::MAX);
                    let hash = sha256_b64(&xml);
                    invs.push(self.process_invoice(
                        &mut st,
                        &session_ref,
                        c,
                        schema,
                        &xml,
                        ordinal,
                        Some(name),
                        batch.offline,
                        now,
                        &hash,
                    ));
                }
                if let Some(s) = st.sessions.sessions.get_mut(&session_ref) {
                    s.invoices = invs;
                }
                None
            }
        };
        if let Some(s) = st.sessions.sessions.get_mut(&session_ref) {
            s.phase = match fail_phase {
                Some(p) => p,
                None => Phase::Closed {
                    polls_left: self.cfg.session_processing_polls,
                },
            };
        }
        Ok(Response::empty(204))
    }

    /// Checks and decrypts the parts, checks the archive, unzips it.
    fn unpack_batch(
        &self,
        batch: &Batch,
        key: Option<&SessionKey>,
    ) -> Result<Vec<(String, Vec<u8>)>, Phase> {
        let Some(key) = key else {
            return Err(Phase::Failed(
                415,
                "Błąd odszyfrowania dostarczonego klucza".into(),
                vec!["Nie udało się odszyfrować klucza symetrycznego.".into()],
            ));
        };
        let mut archive = Vec::new();
        for (i, p) in batch.parts.iter().enumerate() {
            let bytes = p.as_deref().unwrap_or_default();
            if batch.file.file_parts[i].check(bytes).is_err() {
                return Err(Phase::Failed(
                    405,
                    "Błąd weryfikacji poprawności dostarczonego pakietu".into(),
                    vec![format!(
                        "Skrót części {} nie zgadza się z zadeklarowanym.",
                        i + 1
                    )],
                ));
            }
            match key.decrypt(bytes) {
                Ok(pt) => archive.extend_from_slice(&pt),
                Err(_) => {
                    return Err(Phase::Failed(
                        435,
                        "Błąd odszyfrowania pliku".into(),
                        vec![format!("Nie udało się odszyfrować części {}.", i + 1)],
                    ))
                }
            }
        }
        if let Err(e) = batch.file.check_archive(&archive) {
            return Err(Phase::Failed(
                405,
                "Błąd weryfikacji poprawności dostarczonego pakietu".into(),
                vec![format!("Paczka nie zgadza się z deklaracją: {}", e.path())],
            ));
        }
        let decompression =
            |d: String| Phase::Failed(430, "Błąd dekompresji pierwotnego archiwum".into(), vec![d]);
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive))
            .map_err(|e| decompression(format!("To nie jest poprawne archiwum ZIP: {e}")))?;
        let mut files = Vec::new();
        for i in 0..zip.len() {
            let mut f = zip
                .by_index(i)
                .map_err(|e| decompression(format!("Pozycja {i} archiwum: {e}")))?;
            if f.is_dir() {
                continue;
            }
            let name = f.name().to_string();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)
                .map_err(|e| decompression(format!("{name}: {e}")))?;
            files.push((name, buf));
        }
        if files.len() > MAX_INVOICES {
            return Err(Phase::Failed(
                420,
                "Przekroczony limit faktur w sesji".into(),
                vec![format!(
                    "Paczka zawiera {} faktur (limit {MAX_INVOICES}).",
                    files.len()
                )],
            ));
        }
        Ok(files)
    }

    /// The final status of a closed session (and makes its UPO when it is 200).
    fn session_final(&self, s: &mut Session, auth: &AuthState) -> (u32, String, Vec<String>) {
        let ok = s.invoices.iter().filter(|i| i.status.0 == 200).count();
        if s.invoices.is_empty() {
            return (
                440,
                "Sesja anulowana".into(),
                vec!["Nie przesłano faktur.".into()],
            );
        }
        if ok == 0 {
            return (
                445,
                "Błąd weryfikacji, brak poprawnych faktur".into(),
                Vec::new(),
            );
        }
        if s.upo.is_empty() {
            s.upo = self.session_upo_pages(s, auth);
        }
        (200, "Sesja przetworzona pomyślnie".into(), Vec::new())
    }

    fn session_json(
        &self,
        s: &mut Session,
        auth: &AuthState,
        origin: &str,
        downloads: &mut Downloads,
        poll: bool,
    ) -> Value {
        let status = match s.phase.clone() {
            Phase::Open => status_json(
                100,
                if s.kind == Kind::Online {
                    "Sesja interaktywna otwarta"
                } else {
                    "Sesja wsadowa rozpoczęta"
                },
                &[],
            ),
            Phase::Closed { polls_left }
                if polls_left > 0 || (poll && self.faults.upo_held_back()) =>
            {
                if poll && polls_left > 0 {
                    s.phase = Phase::Closed {
                        polls_left: polls_left - 1,
                    };
                }
                if s.kind == Kind::Online {
                    status_json(170, "Sesja interaktywna zamknięta", &[])
                } else {
                    status_json(150, "Trwa przetwarzanie", &[])
                }
            }
            Phase::Closed { .. } => {
                let (c, d, det) = self.session_final(s, auth);
                status_json(c, &d, &det)
            }
            Phase::Failed(c, d, det) => status_json(c, &d, &det),
        };
        let ok = s.invoices.iter().filter(|i| i.status.0 == 200).count();
        let failed = s.invoices.iter().filter(|i| i.status.0 >= 400).count();
        let mut v = json!({
            "status": status,
            "dateCreated": rfc3339(s.created_ms),
            "dateUpdated": rfc3339(s.updated_ms),
            "validUntil": rfc3339(s.created_ms + SESSION_TTL_MS),
            "invoiceCount": s.invoices.len(),
            "successfulInvoiceCount": ok,
            "failedInvoiceCount": failed,
        });
        if status["code"] == 200 && !s.upo.is_empty() {
            let exp = rfc3339(now_ms() + URL_TTL_MS);
            let pages: Vec<Value> = s
                .upo
                .iter()
                .map(|(r, xml)| {
                    // One URL per UPO page, however often the status is polled.
                    let token = format!("upo-{}", r.to_ascii_lowercase());
                    downloads
                        .entry(token.clone())
                        .or_insert_with(|| ("application/xml".into(), xml.clone()));
                    json!({
                        "referenceNumber": r,
                        "downloadUrl": format!("{origin}/download/{token}"),
                        "downloadUrlExpirationDate": exp,
                    })
                })
                .collect();
            v["upo"] = json!({"pages": pages});
        }
        v
    }

    fn session_status(&self, c: &Caller, reference: &str, req: &Request) -> ApiResult {
        let mut st = self.lock();
        let st = &mut *st;
        let s = match st.sessions.sessions.get_mut(reference) {
            Some(s) if s.context == c.context => s,
            _ => return Err(Ksef::no_session(reference)),
        };
        let v = self.session_json(s, &st.auth, &req.origin, &mut st.downloads, true);
        Ok(Response::json(200, &v))
    }

    fn list_sessions(&self, c: &Caller, req: &Request) -> ApiResult {
        let kind = match req.query("sessionType") {
            Some("Online") => Kind::Online,
            Some("Batch") => Kind::Batch,
            other => {
                return Err(ApiErr::invalid(format!(
                    "sessionType must be Online or Batch (got {other:?})."
                )))
            }
        };
        let page_size = page_size(req, 10, 10, 1000)?;
        let offset = continuation(req)?;
        let statuses = req.query_all("statuses");
        let mut bounds = Vec::new();
        for (name, which) in [
            ("dateCreatedFrom", 0),
            ("dateCreatedTo", 1),
            ("dateClosedFrom", 2),
            ("dateClosedTo", 3),
            ("dateModifiedFrom", 4),
            ("dateModifiedTo", 5),
        ] {
            if let Some(v) = req.query(name) {
                let ms = crate::time::parse_ms(v)
                    .ok_or_else(|| ApiErr::invalid(format!("{name} '{v}' is not a date-time.")))?;
                bounds.push((which, ms));
            }
        }
        let wanted_ref = req.query("referenceNumber");
        let mut st = self.lock();
        let st = &mut *st;
        let mut items = Vec::new();
        for r in st.sessions.order.clone() {
            let Some(s) = st.sessions.sessions.get_mut(&r) else {
                continue;
            };
            if s.context != c.context || s.kind != kind {
                continue;
            }
            if wanted_ref.is_some_and(|r| r != s.reference) {
                continue;
            }
            let inside = bounds.iter().all(|&(which, ms)| {
                let at = match which / 2 {
                    0 => Some(s.created_ms),
                    1 => s.closed_ms,
                    _ => Some(s.updated_ms),
                };
                at.is_some_and(|t| if which % 2 == 0 { t >= ms } else { t <= ms })
            });
            if !inside {
                continue;
            }
            let v = self.session_json(s, &st.auth, &req.origin, &mut st.downloads, false);
            let code = v["status"]["code"].as_u64().unwrap_or(0);
            let group = match code {
                100 | 150 | 170 => "InProgress",
                200 => "Succeeded",
                440 => "Cancelled",
                _ => "Failed",
            };
            if !statuses.is_empty() && !statuses.contains(&group) {
                continue;
            }
            items.push(json!({
                "referenceNumber": s.reference,
                "status": v["status"],
                "dateCreated": v["dateCreated"],
                "dateUpdated": v["dateUpdated"],
                "validUntil": v["validUntil"],
                "totalInvoiceCount": v["invoiceCount"],
                "successfulInvoiceCount": v["successfulInvoiceCount"],
                "failedInvoiceCount": v["failedInvoiceCount"],
            }));
        }
        Ok(paged(items, offset, page_size, "sessions"))
    }

    fn inv_json(
        &self,
        inv: &mut Inv,
        s: &Session,
        auth: &AuthState,
        origin: &str,
        downloads: &mut Downloads,
        poll: bool,
    ) -> Value {
        let processing = inv.polls_left > 0;
        if poll && processing {
            inv.polls_left -= 1;
        }
        let mut v = json!({
            "ordinalNumber": inv.ordinal,
            "referenceNumber": inv.reference,
            "invoiceHash": inv.hash,
            "invoicingDate": rfc3339(inv.received_ms),
            "invoicingMode": if inv.offline { "Offline" } else { "Online" },
        });
        if let Some(f) = &inv.file_name {
            v["invoiceFileName"] = json!(f);
        }
        if processing {
            v["status"] = status_json(150, "Trwa przetwarzanie", &[]);
            return v;
        }
        if let Some(n) = &inv.invoice_number {
            v["invoiceNumber"] = json!(n);
        }
        let (code, desc, details, ext) = &inv.status;
        let mut status = status_json(*code, desc, details);
        if let Some(e) = ext {
            status["extensions"] = e.clone();
        }
        v["status"] = status;
        if let (Some(k), Some(acc)) = (&inv.ksef_number, inv.accepted_ms) {
            v["ksefNumber"] = json!(k);
            v["acquisitionDate"] = json!(rfc3339(acc));
            v["permanentStorageDate"] = json!(rfc3339(acc));
            let token = format!("upo-{}", inv.reference.to_ascii_lowercase());
            if !downloads.contains_key(&token) {
                let xml = self.invoice_upo_xml(s, inv, auth);
                downloads.insert(token.clone(), ("application/xml".into(), xml));
            }
            v["upoDownloadUrl"] = json!(format!("{origin}/download/{token}"));
            v["upoDownloadUrlExpirationDate"] = json!(rfc3339(now_ms() + URL_TTL_MS));
        }
        v
    }

    fn session_invoices(
        &self,
        c: &Caller,
        reference: &str,
        req: &Request,
        failed: bool,
    ) -> ApiResult {
        let page_size = page_size(req, 10, 10, 1000)?;
        let offset = continuation(req)?;
        let mut st = self.lock();
        let st = &mut *st;
        let s = match st.sessions.sessions.get_mut(reference) {
            Some(s) if s.context == c.context => s,
            _ => return Err(Ksef::no_session(reference)),
        };
        let snapshot = s.clone();
        let items: Vec<Value> = s
            .invoices
            .iter_mut()
            .filter(|i| !failed || (i.polls_left == 0 && i.status.0 >= 400))
            .map(|i| {
                // Listing is polling too: processing advances whichever way the client asks.
                self.inv_json(i, &snapshot, &st.auth, &req.origin, &mut st.downloads, true)
            })
            .collect();
        Ok(paged(items, offset, page_size, "invoices"))
    }

    fn invoice_status(
        &self,
        c: &Caller,
        reference: &str,
        inv_ref: &str,
        req: &Request,
    ) -> ApiResult {
        let mut st = self.lock();
        let st = &mut *st;
        let s = match st.sessions.sessions.get_mut(reference) {
            Some(s) if s.context == c.context => s,
            _ => return Err(Ksef::no_session(reference)),
        };
        let snapshot = s.clone();
        let inv = s
            .invoices
            .iter_mut()
            .find(|i| i.reference == inv_ref)
            .ok_or_else(|| {
                ApiErr::invalid(format!(
                    "Faktura o numerze referencyjnym {inv_ref} nie została znaleziona w sesji {reference}."
                ))
            })?;
        let v = self.inv_json(
            inv,
            &snapshot,
            &st.auth,
            &req.origin,
            &mut st.downloads,
            true,
        );
        Ok(Response::json(200, &v))
    }

    fn no_upo(reference: &str, what: &str) -> ApiErr {
        ApiErr::bad(
            21178,
            "Nie znaleziono UPO dla podanych kryteriów.",
            format!(
                "UPO o numerze referencyjnym {what} dla sesji {reference} nie zostało znalezione."
            ),
        )
    }

    fn invoice_upo(&self, c: &Caller, reference: &str, id: &str, by_ksef: bool) -> ApiResult {
        let st = self.lock();
        let s = match st.sessions.sessions.get(reference) {
            Some(s) if s.context == c.context => s,
            _ => return Err(Ksef::no_session(reference)),
        };
        let inv = s
            .invoices
            .iter()
            .find(|i| {
                if by_ksef {
                    i.ksef_number.as_deref() == Some(id)
                } else {
                    i.reference == id
                }
            })
            // Asked by KSeF number, the invoice is known to be accepted: its processing is
            // over whether or not anyone polled the session since (a client that crashed).
            .filter(|i| (by_ksef || i.polls_left == 0) && i.status.0 == 200)
            .ok_or_else(|| Ksef::no_upo(reference, id))?;
        if self.faults.upo_held_back() {
            return Err(Ksef::no_upo(reference, id));
        }
        let xml = self.invoice_upo_xml(s, inv, &st.auth);
        Ok(xml_response(xml))
    }

    fn session_upo(&self, c: &Caller, reference: &str, upo_ref: &str) -> ApiResult {
        let st = self.lock();
        let s = match st.sessions.sessions.get(reference) {
            Some(s) if s.context == c.context => s,
            _ => return Err(Ksef::no_session(reference)),
        };
        let xml = s
            .upo
            .iter()
            .find(|(r, _)| r == upo_ref)
            .map(|(_, x)| x.clone())
            .ok_or_else(|| Ksef::no_upo(reference, upo_ref))?;
        Ok(xml_response(xml))
    }

    /// The UPO document entries of the accepted invoices of a session.
    pub(crate) fn upo_documents(s: &Session) -> Vec<super::upo::UpoDoc> {
        s.invoices
            .iter()
            .filter(|i| i.status.0 == 200)
            .filter_map(Ksef::upo_doc)
            .collect()
    }

    pub(crate) fn upo_doc(i: &Inv) -> Option<super::upo::UpoDoc> {
        Some(super::upo::UpoDoc {
            seller_nip: i.seller_nip.clone(),
            ksef_number: i.ksef_number.clone()?,
            invoice_number: i.invoice_number.clone()?,
            issue_date: i.issue_date.clone(),
            received_ms: i.received_ms,
            accepted_ms: i.accepted_ms?,
            hash: i.hash.clone(),
            offline: i.offline,
        })
    }

    fn session_upo_pages(&self, s: &Session, auth: &AuthState) -> Vec<(String, Vec<u8>)> {
        let docs = Ksef::upo_documents(s);
        let header = upo_header(s, auth);
        super::upo::session_pages(&header, &docs)
    }

    fn invoice_upo_xml(&self, s: &Session, inv: &Inv, auth: &AuthState) -> Vec<u8> {
        let header = upo_header(s, auth);
        match Ksef::upo_doc(inv) {
            Some(d) => super::upo::write(&header, None, std::slice::from_ref(&d)),
            None => Vec::new(),
        }
    }
}

fn upo_header(s: &Session, auth: &AuthState) -> super::upo::UpoHeader {
    let (token_ref, document_hash) = auth.upo_subject(&s.auth_ref);
    super::upo::UpoHeader {
        session_ref: s.reference.clone(),
        context_kind: s.context.kind.clone(),
        context_value: s.context.value.clone(),
        token_ref,
        document_hash,
        schema: s.schema,
    }
}

fn xml_response(xml: Vec<u8>) -> Response {
    let hash = sha256_b64(&xml);
    Response::new(200, "application/xml", xml).with_header("x-ms-meta-hash", hash)
}

/// `pageSize` query parameter, within `min..=max`.
pub(crate) fn page_size(
    req: &Request,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ApiErr> {
    match req.query("pageSize") {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiErr::invalid(format!(
                "pageSize must be between {min} and {max} (got '{v}')."
            ))),
        },
    }
}

/// The offset carried by `x-continuation-token` (the sim's tokens are `sim-<offset>`).
fn continuation(req: &Request) -> Result<usize, ApiErr> {
    match req.header("x-continuation-token") {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("sim-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiErr::invalid("Nieprawidłowy token kontynuacji.")),
    }
}

fn paged(items: Vec<Value>, offset: usize, size: usize, field: &str) -> Response {
    let end = (offset + size).min(items.len());
    let page: Vec<Value> = items
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut v = json!({ field: page });
    if end < items.len() {
        v["continuationToken"] = json!(format!("sim-{end}"));
    }
    Response::json(200, &v)
}
