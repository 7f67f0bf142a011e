//! Authentication (`/auth/*`) and KSeF tokens (`/tokens/*`).

use std::collections::HashMap;

use ksef::crypto::session::decrypt_ksef_token;
use ksef::xades::{AuthTokenRequest, ContextIdentifier, SubjectIdentifierType};
use rand_core::OsRng;
use serde_json::{json, Value};

use super::{
    bearer, json_body, jwt, random_hex, reference_number, sha256_b64, status_json, str_field,
    ApiErr, ApiResult, Ksef,
};
use crate::http::{Request, Response};
use crate::time::{now_ms, rfc3339};

/// Challenge lifetime (10 minutes, `uwierzytelnianie.md`).
const CHALLENGE_TTL_MS: i64 = 10 * 60 * 1000;
/// Lifetime of the `authenticationToken` (the sim uses 15 minutes).
const AUTH_TOKEN_TTL_MS: i64 = 15 * 60 * 1000;

/// How an auth operation authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// A KSeF token.
    Token,
    /// A XAdES signature with a qualified signature (person) certificate.
    QualifiedSignature,
    /// A XAdES signature with a qualified seal (organisation) certificate.
    QualifiedSeal,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Token => "Token",
            Method::QualifiedSignature => "QualifiedSignature",
            Method::QualifiedSeal => "QualifiedSeal",
        }
    }

    fn info(self) -> Value {
        match self {
            Method::Token => {
                json!({"category": "Token", "code": "token.ksef", "displayName": "Token KSeF"})
            }
            Method::QualifiedSignature => json!({
                "category": "XadesSignature",
                "code": "xades.qualifiedSignature",
                "displayName": "Podpis kwalifikowany"
            }),
            Method::QualifiedSeal => json!({
                "category": "XadesSignature",
                "code": "xades.qualifiedSeal",
                "displayName": "Pieczęć kwalifikowana"
            }),
        }
    }
}

/// The context of an authentication (type as in the API: `Nip`, `InternalId`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Context {
    pub(crate) kind: String,
    pub(crate) value: String,
}

impl Context {
    /// The NIP of the context (`Nip`, or the NIP part of the other kinds).
    pub(crate) fn nip(&self) -> &str {
        self.value.get(..10).unwrap_or(&self.value)
    }
}

/// One authentication operation (`/auth/{ref}`).
#[derive(Debug, Clone)]
pub(crate) struct AuthOp {
    pub(crate) reference: String,
    pub(crate) start_ms: i64,
    pub(crate) method: Method,
    pub(crate) context: Context,
    /// The final status (code, description, details).
    final_status: (u32, String, Vec<String>),
    polls_left: u32,
    pub(crate) redeemed: bool,
    refresh_until_ms: Option<i64>,
    last_refresh_ms: Option<i64>,
    revoked: bool,
    /// For the UPO: the KSeF token's reference number (token auth) …
    pub(crate) token_reference: Option<String>,
    /// … or the base64 SHA-256 of the signed AuthTokenRequest (XAdES).
    pub(crate) document_hash: Option<String>,
}

/// A KSeF token made with `POST /tokens` (no `Debug`: it holds the secret).
#[derive(Clone)]
pub(crate) struct KsefToken {
    reference: String,
    secret: String,
    context: Context,
    author: Context,
    description: String,
    permissions: Vec<String>,
    created_ms: i64,
    last_use_ms: Option<i64>,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct Access {
    auth_ref: String,
    until_ms: i64,
    epoch: u64,
}

#[derive(Default)]
pub(crate) struct AuthState {
    /// challenge → (timestampMs, used)
    challenges: HashMap<String, (i64, bool)>,
    ops: HashMap<String, AuthOp>,
    op_order: Vec<String>,
    /// authenticationToken → (auth ref, valid until)
    auth_tokens: HashMap<String, (String, i64)>,
    access: HashMap<String, Access>,
    /// refreshToken → (auth ref, valid until)
    refresh: HashMap<String, (String, i64)>,
    tokens: Vec<KsefToken>,
}

impl AuthState {
    /// The UPO's `Uwierzytelnienie` subject of an auth operation: (KSeF token reference,
    /// auth document hash).
    pub(crate) fn upo_subject(&self, auth_ref: &str) -> (Option<String>, Option<String>) {
        match self.ops.get(auth_ref) {
            Some(op) => (op.token_reference.clone(), op.document_hash.clone()),
            None => (None, None),
        }
    }
}

/// The caller of an authenticated endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) auth_ref: String,
    pub(crate) context: Context,
    pub(crate) method: Method,
}

impl Ksef {
    /// Checks the access token of a request.
    pub(crate) fn caller(&self, req: &Request) -> Result<Caller, ApiErr> {
        let token = bearer(req).ok_or_else(|| {
            ApiErr::unauthorized("Brak tokenu dostępowego (nagłówek Authorization: Bearer).")
        })?;
        let st = self.lock();
        let a = st
            .auth
            .access
            .get(token)
            .ok_or_else(|| ApiErr::unauthorized("Nieprawidłowy token dostępowy."))?;
        if a.until_ms <= now_ms() || a.epoch != self.faults.token_epoch() {
            return Err(ApiErr::unauthorized("Token dostępowy wygasł."));
        }
        let op = st
            .auth
            .ops
            .get(&a.auth_ref)
            .ok_or_else(|| ApiErr::unauthorized("Nieprawidłowy token dostępowy."))?;
        Ok(Caller {
            auth_ref: op.reference.clone(),
            context: op.context.clone(),
            method: op.method,
        })
    }

    pub(crate) fn auth_routes(&self, m: &str, segs: &[&str], req: &Request) -> ApiResult {
        match (m, segs) {
            ("POST", ["challenge"]) => self.challenge(),
            ("POST", ["ksef-token"]) => self.ksef_token_auth(req),
            ("POST", ["xades-signature"]) => self.xades_auth(req),
            ("POST", ["token", "redeem"]) => self.redeem(req),
            ("POST", ["token", "refresh"]) => self.refresh(req),
            ("GET", ["sessions"]) => self.auth_sessions(req),
            ("DELETE", ["sessions", "current"]) => {
                let c = self.caller(req)?;
                self.revoke_auth(&c, &c.auth_ref.clone())
            }
            ("DELETE", ["sessions", r]) => {
                let c = self.caller(req)?;
                self.revoke_auth(&c, r)
            }
            ("GET", [r]) => self.auth_status(req, r),
            _ => Err(ApiErr::plain(
                404,
                "Not Found",
                format!("no KSeF endpoint {m} /v2/auth/{}", segs.join("/")),
            )),
        }
    }

    fn challenge(&self) -> ApiResult {
        let now = now_ms();
        let hex = random_hex(10);
        let head = format!(
            "{}-CR-{}-{}",
            crate::time::yyyymmdd(now),
            &hex[..10],
            &hex[10..]
        );
        let challenge = format!("{head}-{:02X}", ksef::id::crc8(head.as_bytes()));
        self.lock()
            .auth
            .challenges
            .insert(challenge.clone(), (now, false));
        Ok(Response::json(
            200,
            &json!({
                "challenge": challenge,
                "timestamp": rfc3339(now),
                "timestampMs": now,
                "clientIp": "127.0.0.1",
            }),
        ))
    }

    /// Takes a challenge (once): its timestamp, or 21111.
    fn use_challenge(&self, challenge: &str) -> Result<i64, ApiErr> {
        let mut st = self.lock();
        let bad = |d: &str| ApiErr::bad(21111, "Nieprawidłowe wyzwanie autoryzacyjne.", d);
        let entry = st
            .auth
            .challenges
            .get_mut(challenge)
            .ok_or_else(|| bad("Wyzwanie nie zostało wydane przez system."))?;
        if entry.1 {
            return Err(bad("Wyzwanie zostało już wykorzystane."));
        }
        if now_ms() - entry.0 > CHALLENGE_TTL_MS {
            return Err(bad("Wyzwanie wygasło."));
        }
        entry.1 = true;
        Ok(entry.0)
    }

    fn start_op(
        &self,
        method: Method,
        context: Context,
        final_status: (u32, String, Vec<String>),
        token_reference: Option<String>,
        document_hash: Option<String>,
    ) -> ApiResult {
        let reference = reference_number("AU");
        let now = now_ms();
        let until = now + AUTH_TOKEN_TTL_MS;
        let token = jwt(&json!({
            "token-type": "OperationToken",
            "operation-reference-number": reference,
            "exp": until / 1000,
            "iat": now / 1000,
            "iss": "ksef-sim",
        }));
        let op = AuthOp {
            reference: reference.clone(),
            start_ms: now,
            method,
            context,
            final_status,
            polls_left: self.cfg.auth_poll_steps,
            redeemed: false,
            refresh_until_ms: None,
            last_refresh_ms: None,
            revoked: false,
            token_reference,
            document_hash,
        };
        let mut st = self.lock();
        st.auth.ops.insert(reference.clone(), op);
        st.auth.op_order.push(reference.clone());
        st.auth
            .auth_tokens
            .insert(token.clone(), (reference.clone(), until));
        Ok(Response::json(
            202,
            &json!({
                "referenceNumber": reference,
                "authenticationToken": {"token": token, "validUntil": rfc3339(until)},
            }),
        ))
    }

    fn ksef_token_auth(&self, req: &Request) -> ApiResult {
        let body = json_body(req)?;
        let challenge = str_field(&body, "challenge")?;
        let kind = str_field(&body, "contextIdentifier.type")?;
        let value = str_field(&body, "contextIdentifier.value")?;
        let encrypted = str_field(&body, "encryptedToken")?;
        let ctx = ContextIdentifier::parse(kind, value)
            .map_err(|e| ApiErr::invalid(format!("contextIdentifier: {e}")))?;
        if let Some(id) = body.get("publicKeyId").and_then(Value::as_str) {
            if id != Ksef::public_key_id(&self.keys.token_cert) {
                return Err(ApiErr::bad(
                    21470,
                    "Przesłany identyfikator klucza jest nieznany lub wskazuje na wycofany klucz.",
                    format!("Klucz o identyfikatorze {id} nie jest wspierany."),
                ));
            }
        }
        let ts = self.use_challenge(challenge)?;
        let context = Context {
            kind: ctx.kind().to_string(),
            value: ctx.value().to_string(),
        };
        let fail = |d: &str| {
            (
                450,
                "Uwierzytelnianie zakończone niepowodzeniem z powodu nieprawidłowego tokenu"
                    .to_string(),
                vec![d.to_string()],
            )
        };
        let mut token_ref = None;
        let status = match decrypt_ksef_token(encrypted, &self.keys.token_key, &mut OsRng) {
            Err(_) => fail("Nie udało się odszyfrować tokenu (RSA-OAEP SHA-256)."),
            Ok(t) if t.timestamp_ms() != ts => {
                fail("Znacznik czasu w tokenie nie odpowiada znacznikowi czasu wyzwania.")
            }
            Ok(t) => {
                let mut st = self.lock();
                if let Some(k) = st.auth.tokens.iter_mut().find(|k| k.secret == t.token()) {
                    token_ref = Some(k.reference.clone());
                    if k.revoked {
                        fail("Token KSeF został unieważniony.")
                    } else if k.context != context {
                        fail("Token KSeF nie jest ważny w tym kontekście.")
                    } else {
                        k.last_use_ms = Some(now_ms());
                        ok_status()
                    }
                } else if self.cfg.ksef_tokens.is_empty()
                    || self
                        .cfg
                        .ksef_tokens
                        .iter()
                        .any(|(nip, tok)| nip == context.nip() && tok == t.token())
                {
                    ok_status()
                } else {
                    fail("Nieprawidłowy token KSeF.")
                }
            }
        };
        // Any token the sim did not make gets a stable pseudo reference for the UPO.
        let token_ref = token_ref.or_else(|| Some(reference_number("EC")));
        self.start_op(Method::Token, context, status, token_ref, None)
    }

    fn xades_auth(&self, req: &Request) -> ApiResult {
        let atr = AuthTokenRequest::from_xml(&req.body).map_err(|e| {
            ApiErr::bad(
                21401,
                "Dokument nie jest zgodny ze schematem (xsd).",
                e.to_string(),
            )
        })?;
        self.use_challenge(atr.challenge())?;
        let ctx = atr.context();
        let context = Context {
            kind: ctx.kind().to_string(),
            value: ctx.value().to_string(),
        };
        let cert_fail = |d: String| {
            (
                460,
                "Uwierzytelnianie zakończone niepowodzeniem z powodu błędu certyfikatu".to_string(),
                vec![d],
            )
        };
        let mut method = Method::QualifiedSignature;
        let status = match ksef::xades::verify(&req.body) {
            Err(e) => cert_fail(format!("Nieprawidłowy podpis: {e}")),
            Ok(v) => {
                let ids = subject_ids(&v.certificate);
                if ids.iter().any(|(oid, _)| oid == "2.5.4.97") {
                    method = Method::QualifiedSeal;
                }
                let fp: String = v
                    .certificate
                    .sha256_fingerprint()
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                if !v.certificate.is_valid_at(now_ms() / 1000) {
                    cert_fail("Certyfikat jest nieważny w chwili uwierzytelnienia.".into())
                } else if !self.cfg.certificate_fingerprints.is_empty() {
                    if self.cfg.certificate_fingerprints.contains(&fp) {
                        ok_status()
                    } else {
                        cert_fail("Certyfikat nie jest uprawniony w tym kontekście.".into())
                    }
                } else if atr.subject_identifier_type() == SubjectIdentifierType::CertificateSubject
                    && !ids
                        .iter()
                        .any(|(_, v)| subject_nip(v).is_some() || subject_pesel(v).is_some())
                {
                    cert_fail(
                        "Podmiot certyfikatu nie zawiera identyfikatora (NIP/PESEL) w \
                         serialNumber ani organizationIdentifier."
                            .into(),
                    )
                } else {
                    ok_status()
                }
            }
        };
        self.start_op(method, context, status, None, Some(sha256_b64(&req.body)))
    }

    /// The auth operation of an `authenticationToken` bearer.
    fn op_of_auth_token(&self, req: &Request) -> Result<String, ApiErr> {
        let token = bearer(req).ok_or_else(|| {
            ApiErr::unauthorized("Brak tokenu uwierzytelniającego (Authorization: Bearer).")
        })?;
        let st = self.lock();
        match st.auth.auth_tokens.get(token) {
            Some((r, until)) if *until > now_ms() => Ok(r.clone()),
            Some(_) => Err(ApiErr::unauthorized("Token uwierzytelniający wygasł.")),
            None => Err(ApiErr::unauthorized(
                "Nieprawidłowy token uwierzytelniający.",
            )),
        }
    }

    fn op_json(op: &AuthOp, status: Value, with_ref: bool, current: Option<bool>) -> Value {
        let mut v = json!({
            "startDate": rfc3339(op.start_ms),
            "authenticationMethod": op.method.name(),
            "authenticationMethodInfo": op.method.info(),
            "status": status,
            "isTokenRedeemed": op.redeemed,
        });
        if let Some(t) = op.last_refresh_ms {
            v["lastTokenRefreshDate"] = json!(rfc3339(t));
        }
        if let Some(t) = op.refresh_until_ms {
            v["refreshTokenValidUntil"] = json!(rfc3339(t));
        }
        if with_ref {
            v["referenceNumber"] = json!(op.reference);
        }
        if let Some(c) = current {
            v["isCurrent"] = json!(c);
        }
        v
    }

    fn auth_status(&self, req: &Request, reference: &str) -> ApiResult {
        let own = self.op_of_auth_token(req)?;
        if own != reference {
            return Err(ApiErr::unauthorized(
                "Token uwierzytelniający nie dotyczy tej operacji.",
            ));
        }
        let mut st = self.lock();
        let op = st.auth.ops.get_mut(reference).ok_or_else(|| {
            ApiErr::bad(
                21304,
                "Brak uwierzytelnienia.",
                format!("Operacja uwierzytelniania o numerze referencyjnym {reference} nie została znaleziona."),
            )
        })?;
        let status = if op.polls_left > 0 {
            op.polls_left -= 1;
            status_json(100, "Uwierzytelnianie w toku", &[])
        } else {
            status_json(op.final_status.0, &op.final_status.1, &op.final_status.2)
        };
        Ok(Response::json(200, &Ksef::op_json(op, status, false, None)))
    }

    fn issue_access(&self, st: &mut super::State, auth_ref: &str, ctx: &Context) -> (String, i64) {
        let now = now_ms();
        let until =
            now + i64::try_from(self.cfg.access_token_ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let token = jwt(&json!({
            "token-type": "ContextToken",
            "context-identifier-type": ctx.kind,
            "context-identifier-value": ctx.value,
            "exp": until / 1000,
            "iat": now / 1000,
            "iss": "ksef-sim",
        }));
        st.auth.access.insert(
            token.clone(),
            Access {
                auth_ref: auth_ref.to_string(),
                until_ms: until,
                epoch: self.faults.token_epoch(),
            },
        );
        (token, until)
    }

    fn redeem(&self, req: &Request) -> ApiResult {
        let reference = self.op_of_auth_token(req)?;
        let mut st = self.lock();
        let no_auth = |d: String| ApiErr::bad(21301, "Brak autoryzacji.", d);
        let op = st
            .auth
            .ops
            .get(&reference)
            .cloned()
            .ok_or_else(|| no_auth("Operacja uwierzytelniania nie istnieje.".into()))?;
        if op.redeemed {
            return Err(no_auth(format!(
                "Tokeny dla operacji uwierzytelniania {reference} zostały już pobrane."
            )));
        }
        if op.polls_left > 0 || op.final_status.0 != 200 {
            let code = if op.polls_left > 0 {
                100
            } else {
                op.final_status.0
            };
            return Err(no_auth(format!(
                "Status uwierzytelniania ({code}) nie pozwala na pobranie tokenów."
            )));
        }
        let (access, access_until) = self.issue_access(&mut st, &reference, &op.context);
        let now = now_ms();
        let refresh_until =
            now + i64::try_from(self.cfg.refresh_token_ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let refresh = jwt(&json!({
            "token-type": "RefreshToken",
            "exp": refresh_until / 1000,
            "iat": now / 1000,
            "iss": "ksef-sim",
        }));
        st.auth
            .refresh
            .insert(refresh.clone(), (reference.clone(), refresh_until));
        if let Some(o) = st.auth.ops.get_mut(&reference) {
            o.redeemed = true;
            o.refresh_until_ms = Some(refresh_until);
        }
        Ok(Response::json(
            200,
            &json!({
                "accessToken": {"token": access, "validUntil": rfc3339(access_until)},
                "refreshToken": {"token": refresh, "validUntil": rfc3339(refresh_until)},
            }),
        ))
    }

    fn refresh(&self, req: &Request) -> ApiResult {
        let token = bearer(req)
            .ok_or_else(|| ApiErr::unauthorized("Brak tokenu odświeżającego."))?
            .to_string();
        let mut st = self.lock();
        let (reference, until) = st
            .auth
            .refresh
            .get(&token)
            .cloned()
            .ok_or_else(|| ApiErr::unauthorized("Nieprawidłowy token odświeżający."))?;
        if until <= now_ms() {
            return Err(ApiErr::unauthorized("Token odświeżający wygasł."));
        }
        let op = st
            .auth
            .ops
            .get(&reference)
            .cloned()
            .ok_or_else(|| ApiErr::unauthorized("Nieprawidłowy token odświeżający."))?;
        if op.revoked {
            return Err(ApiErr::unauthorized(
                "Sesja uwierzytelniania została unieważniona.",
            ));
        }
        let (access, access_until) = self.issue_access(&mut st, &reference, &op.context);
        if let Some(o) = st.auth.ops.get_mut(&reference) {
            o.last_refresh_ms = Some(now_ms());
        }
        Ok(Response::json(
            200,
            &json!({"accessToken": {"token": access, "validUntil": rfc3339(access_until)}}),
        ))
    }

    fn auth_sessions(&self, req: &Request) -> ApiResult {
        let c = self.caller(req)?;
        let st = self.lock();
        let items: Vec<Value> = st
            .auth
            .op_order
            .iter()
            .filter_map(|r| st.auth.ops.get(r))
            .filter(|op| op.context == c.context && op.redeemed && !op.revoked)
            .map(|op| {
                let s = status_json(op.final_status.0, &op.final_status.1, &[]);
                Ksef::op_json(op, s, true, Some(op.reference == c.auth_ref))
            })
            .collect();
        Ok(Response::json(200, &json!({"items": items})))
    }

    fn revoke_auth(&self, c: &Caller, reference: &str) -> ApiResult {
        let mut st = self.lock();
        match st.auth.ops.get_mut(reference) {
            Some(op) if op.context == c.context => {
                op.revoked = true;
            }
            _ => {
                return Err(ApiErr::invalid(format!(
                    "Sesja uwierzytelniania {reference} nie została znaleziona."
                )))
            }
        }
        // Revoking kills the refresh tokens; live access tokens stay valid until they expire.
        st.auth.refresh.retain(|_, (r, _)| r != reference);
        Ok(Response::empty(204))
    }

    pub(crate) fn token_routes(&self, m: &str, segs: &[&str], req: &Request) -> ApiResult {
        let c = self.caller(req)?;
        match (m, segs) {
            ("POST", []) => self.generate_token(&c, req),
            ("GET", []) => {
                let st = self.lock();
                let items: Vec<Value> = st
                    .auth
                    .tokens
                    .iter()
                    .filter(|t| t.context == c.context)
                    .map(token_json)
                    .collect();
                Ok(Response::json(200, &json!({"tokens": items})))
            }
            ("GET", [r]) => {
                let st = self.lock();
                let t = st
                    .auth
                    .tokens
                    .iter()
                    .find(|t| t.reference == *r && t.context == c.context)
                    .ok_or_else(|| {
                        ApiErr::invalid(format!("Token o numerze referencyjnym {r} nie istnieje."))
                    })?;
                Ok(Response::json(200, &token_json(t)))
            }
            ("DELETE", [r]) => {
                let mut st = self.lock();
                let t = st
                    .auth
                    .tokens
                    .iter_mut()
                    .find(|t| t.reference == *r && t.context == c.context)
                    .ok_or_else(|| {
                        ApiErr::invalid(format!("Token o numerze referencyjnym {r} nie istnieje."))
                    })?;
                t.revoked = true;
                Ok(Response::empty(204))
            }
            _ => Err(ApiErr::plain(404, "Not Found", "no such /tokens endpoint")),
        }
    }

    fn generate_token(&self, c: &Caller, req: &Request) -> ApiResult {
        if c.method == Method::Token {
            return Err(ApiErr::forbidden(
                "missing-permissions",
                "Token KSeF można wygenerować tylko po uwierzytelnieniu podpisem XAdES.",
            ));
        }
        if c.context.kind != "Nip" && c.context.kind != "InternalId" {
            return Err(ApiErr::invalid(
                "Token KSeF można wygenerować tylko w kontekście Nip lub InternalId.",
            ));
        }
        let body = json_body(req)?;
        let description = str_field(&body, "description")?.to_string();
        let permissions: Vec<String> = body
            .get("permissions")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiErr::invalid("The field 'permissions' is required."))?
            .iter()
            .map(|p| p.as_str().map(String::from))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| ApiErr::invalid("'permissions' must be strings."))?;
        let chars = description.chars().count();
        if !(5..=256).contains(&chars) {
            return Err(ApiErr::invalid(
                "'description' must have 5 to 256 characters.",
            ));
        }
        const KNOWN: [&str; 7] = [
            "Introspection",
            "InvoiceRead",
            "InvoiceWrite",
            "CredentialsRead",
            "CredentialsManage",
            "SubunitManage",
            "EnforcementOperations",
        ];
        if permissions.is_empty() || permissions.iter().any(|p| !KNOWN.contains(&p.as_str())) {
            return Err(ApiErr::invalid(format!(
                "permissions must be a non-empty subset of {KNOWN:?}"
            )));
        }
        let reference = reference_number("EC");
        let secret = format!(
            "{reference}|{}-{}|{}",
            if c.context.kind == "Nip" {
                "nip"
            } else {
                "internalId"
            },
            c.context.value,
            random_hex(32).to_ascii_lowercase()
        );
        self.lock().auth.tokens.push(KsefToken {
            reference: reference.clone(),
            secret: secret.clone(),
            context: c.context.clone(),
            author: Context {
                kind: "Nip".into(),
                value: c.context.nip().to_string(),
            },
            description,
            permissions,
            created_ms: now_ms(),
            last_use_ms: None,
            revoked: false,
        });
        Ok(Response::json(
            202,
            &json!({"referenceNumber": reference, "token": secret}),
        ))
    }
}

fn ok_status() -> (u32, String, Vec<String>) {
    (
        200,
        "Uwierzytelnianie zakończone sukcesem".into(),
        Vec::new(),
    )
}

fn token_json(t: &KsefToken) -> Value {
    let mut v = json!({
        "referenceNumber": t.reference,
        "authorIdentifier": {"type": t.author.kind, "value": t.author.value},
        "contextIdentifier": {"type": t.context.kind, "value": t.context.value},
        "description": t.description,
        "requestedPermissions": t.permissions,
        "dateCreated": rfc3339(t.created_ms),
        "status": if t.revoked { "Revoked" } else { "Active" },
    });
    if let Some(u) = t.last_use_ms {
        v["lastUseDate"] = json!(rfc3339(u));
    }
    v
}

/// The `serialNumber` (2.5.4.5) and `organizationIdentifier` (2.5.4.97) values of a
/// certificate subject, as (OID, text).
fn subject_ids(cert: &ksef::crypto::Certificate) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rdn in cert.x509().tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            let oid = atv.oid.to_string();
            if oid == "2.5.4.5" || oid == "2.5.4.97" {
                if let Ok(text) = std::str::from_utf8(atv.value.value()) {
                    out.push((oid, text.to_string()));
                }
            }
        }
    }
    out
}

/// The NIP in a certificate subject (`serialNumber` `TINPL-…`/`NIP-…`, or
/// `organizationIdentifier` `VATPL-…`), per `auth/podpis-xades.md`.
pub(crate) fn subject_nip(subject: &str) -> Option<String> {
    for marker in ["TINPL", "NIP", "VATPL"] {
        if let Some(i) = subject.find(marker) {
            let digits: String = subject[i + marker.len()..]
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.len() == 10 {
                return Some(digits);
            }
        }
    }
    None
}

/// The PESEL in a certificate subject (`PNOPL-…`/`PESEL-…`).
fn subject_pesel(subject: &str) -> Option<String> {
    for marker in ["PNOPL", "PESEL"] {
        if let Some(i) = subject.find(marker) {
            let digits: String = subject[i + marker.len()..]
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.len() == 11 {
                return Some(digits);
            }
        }
    }
    None
}
