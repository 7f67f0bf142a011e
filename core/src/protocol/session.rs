//! What online and batch sessions share once their invoices are in: closing, polling the
//! session, listing its invoices page by page, and which failures are only passing.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::{Error, ErrorCode};
use crate::http::{ApiError, Method, Response};

use super::client::api_ok;
use super::ops::{Call, InvoiceStatus, SessionStatus};
use super::wire;

/// A failure that may pass (connection, timeout, 5xx, a rate limit that outlasted the
/// retries): while waiting for results, keep polling instead of giving up.
pub(crate) fn is_passing(err: &Error) -> bool {
    matches!(
        err.code(),
        ErrorCode::Transport | ErrorCode::Timeout | ErrorCode::ServerError | ErrorCode::RateLimited
    )
}

/// `POST /sessions/{kind}/{ref}/close`. Safe to repeat: a second close is refused with
/// 21180, which [`close_answer`] takes as closed.
pub(crate) fn close_call(base: &str, kind: &str, session: &str, label: &'static str) -> Call {
    Call::post_empty(
        base,
        &format!("/sessions/{kind}/{}/close", wire::pct(session)),
        label,
    )
    .safe()
}

/// The answer to a close: success, or 21180 (not open any more) after a resend.
pub(crate) fn close_answer(
    resp: Response,
    resent: bool,
    now_ms: u64,
    what: &str,
) -> Result<(), Error> {
    if resp.status == 400 && resent {
        let api = ApiError::from_response(&resp, now_ms);
        if api.has_code(21180) {
            return Ok(());
        }
        return Err(Error::from(api).at(what));
    }
    api_ok(resp, now_ms, what).map(|_| ())
}

/// `GET /sessions/{ref}`.
pub(crate) fn status_call(base: &str, session: &str) -> Call {
    Call::get(
        base,
        &format!("/sessions/{}", wire::pct(session)),
        "GET /sessions/{referenceNumber}",
    )
}

/// Reads a `GET /sessions/{ref}` answer.
pub(crate) fn read_status(
    resp: Response,
    now_ms: u64,
    session: &str,
) -> Result<SessionStatus, Error> {
    let what = "GET /sessions/{referenceNumber}";
    let resp = api_ok(resp, now_ms, what)?;
    SessionStatus::read(session, &wire::json(&resp, what)?)
}

/// True while the session is not finished, or finished without the UPO that was asked for.
pub(crate) fn keep_polling(st: &SessionStatus, want_upo: bool) -> bool {
    !st.is_final() || (want_upo && st.status.code == 200 && st.upo_pages.is_empty())
}

/// `GET /sessions/{ref}/invoices[/failed]`, one page.
pub(crate) fn list_call(
    base: &str,
    session: &str,
    failed: bool,
    page_size: u32,
    token: Option<&str>,
) -> Call {
    let (tail, label) = if failed {
        (
            "/invoices/failed",
            "GET /sessions/{referenceNumber}/invoices/failed",
        )
    } else {
        ("/invoices", "GET /sessions/{referenceNumber}/invoices")
    };
    let call = Call::get(
        base,
        &format!(
            "/sessions/{}{tail}?pageSize={}",
            wire::pct(session),
            page_size.clamp(10, 1000)
        ),
        label,
    );
    match token {
        Some(t) => call.with_header("x-continuation-token", t),
        None => call,
    }
}

/// One page of a session's invoices and the continuation token of the next (none: last).
pub(crate) fn read_list(
    resp: Response,
    now_ms: u64,
) -> Result<(Vec<InvoiceStatus>, Option<String>), Error> {
    let what = "GET /sessions/{referenceNumber}/invoices";
    let resp = api_ok(resp, now_ms, what)?;
    let v = wire::json(&resp, what)?;
    let mut items = Vec::new();
    for (n, item) in wire::array_at(&v, "invoices").iter().enumerate() {
        items.push(InvoiceStatus::read(item, what).map_err(|e| e.at(format!("invoices[{n}]")))?);
    }
    let next = wire::opt_str(&v, "continuationToken")
        .filter(|t| !t.is_empty())
        .map(ToString::to_string);
    Ok((items, next))
}

/// The download of session UPO page `i`, or `None` past the last page.
pub(crate) fn session_upo_call(status: Option<&SessionStatus>, i: usize) -> Option<Call> {
    let page = status?.upo_pages.get(i)?;
    Some(Call::url(
        Method::Get,
        &page.download_url,
        "GET downloadUrl (session UPO)",
    ))
}

/// The final status, which every finished session has.
pub(crate) fn final_status(status: &Option<SessionStatus>) -> Result<SessionStatus, Error> {
    status
        .clone()
        .ok_or_else(|| Error::new(ErrorCode::BadResponse, "", "no session status"))
}
