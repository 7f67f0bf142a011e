//! Faults injected at run time by tests ([`Faults`], from [`crate::SimHandle::faults`]).

use std::sync::Mutex;
use std::time::Duration;

/// A route pattern: `METHOD /path` relative to the API base (`/v2`), where a `{name}`
/// segment matches any one segment and a final `*` matches the rest, e.g.
/// `POST /sessions/online/{ref}/invoices` or `GET /sessions/*`. The method `*` matches
/// any method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    method: String,
    segments: Vec<String>,
}

impl Route {
    /// Parses `METHOD /path`; a pattern without a method matches every method.
    pub fn parse(pattern: &str) -> Route {
        let pattern = pattern.trim();
        let (method, path) = match pattern.split_once(' ') {
            Some((m, p)) => (m.trim().to_ascii_uppercase(), p.trim()),
            None => ("*".to_string(), pattern),
        };
        let path = path.strip_prefix("/v2").unwrap_or(path);
        Route {
            method,
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }
    }

    /// Whether a request (method, path relative to `/v2`) matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != "*" && !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut i = 0;
        for (n, pat) in self.segments.iter().enumerate() {
            if pat == "*" && n + 1 == self.segments.len() {
                return true;
            }
            let Some(seg) = segs.get(i) else {
                return false;
            };
            if !segment_matches(pat, seg) {
                return false;
            }
            i += 1;
        }
        i == segs.len()
    }
}

/// One pattern segment against one path segment: `{x}` matches any segment, `{x}.json`
/// any segment ending in `.json` (Fakturownia's `/invoices/{id}.json`), anything else itself.
fn segment_matches(pat: &str, seg: &str) -> bool {
    if pat.starts_with('{') {
        if let Some(close) = pat.find('}') {
            let suffix = &pat[close + 1..];
            return seg.len() > suffix.len() && seg.ends_with(suffix);
        }
    }
    pat == seg
}

/// What to do to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Answer with this status before processing.
    FailBefore(u16),
    /// Process, then answer with this status instead of the real response.
    FailAfter(u16),
    /// Close the connection before processing.
    DropBefore,
    /// Process, then close the connection without answering.
    DropAfter,
    /// 429 with `Retry-After` (seconds), before processing.
    RateLimit(u64),
    /// Wait this long, then process normally (a slow service).
    Delay(Duration),
}

#[derive(Debug)]
struct Rule {
    route: Route,
    remaining: usize,
    kind: FaultKind,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    unavailable: bool,
    unavailable_retry_after: Option<u64>,
    slow_upo_polls: u32,
    slow_upo_until: Option<std::time::Instant>,
    expire_tokens_epoch: u64,
    fakturownia_unavailable: bool,
    nbp_unavailable: bool,
    lighthouse: Option<(String, serde_json::Value)>,
}

/// The fault controls of a running simulator (thread-safe; clone-free, shared by
/// reference through [`crate::SimHandle::faults`]).
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
}

impl Faults {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    fn push(&self, route: &str, n: usize, kind: FaultKind) {
        self.with(|s| {
            s.rules.push(Rule {
                route: Route::parse(route),
                remaining: n,
                kind,
            })
        });
    }

    /// The next `n` calls matching `route` fail with `status` (e.g. 503) without being
    /// processed.
    pub fn fail_next(&self, route: &str, n: usize, status: u16) {
        self.push(route, n, FaultKind::FailBefore(status));
    }

    /// The next `n` calls matching `route` ARE processed, but the client gets a 502 instead
    /// of the real answer (what makes blind resends dangerous).
    pub fn fail_after_processing(&self, route: &str, n: usize) {
        self.push(route, n, FaultKind::FailAfter(502));
    }

    /// Like [`Faults::fail_after_processing`] with another status.
    pub fn fail_after_processing_with(&self, route: &str, n: usize, status: u16) {
        self.push(route, n, FaultKind::FailAfter(status));
    }

    /// The next `n` calls matching `route` are processed and then the connection is
    /// closed without a response.
    pub fn drop_after_processing(&self, route: &str, n: usize) {
        self.push(route, n, FaultKind::DropAfter);
    }

    /// The next `n` calls matching `route` get their connection closed without a response
    /// (not processed).
    pub fn drop_next(&self, route: &str, n: usize) {
        self.push(route, n, FaultKind::DropBefore);
    }

    /// The next `n` calls matching `route` get 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, route: &str, n: usize, retry_after_secs: u64) {
        self.push(route, n, FaultKind::RateLimit(retry_after_secs));
    }

    /// The next `n` calls matching `route` are answered normally after waiting `delay` (a
    /// slow service, for clients' timeouts).
    pub fn slow_next(&self, route: &str, n: usize, delay: Duration) {
        self.push(route, n, FaultKind::Delay(delay));
    }

    /// While `true`, every Fakturownia call (`/fakturownia/...`) answers 503 (Fakturownia
    /// down); KSeF is not affected.
    pub fn set_fakturownia_unavailable(&self, unavailable: bool) {
        self.with(|s| s.fakturownia_unavailable = unavailable);
    }

    /// What Latarnia (`/latarnia/status`) reports: a status (`AVAILABLE`, `MAINTENANCE`,
    /// `FAILURE`, `TOTAL_FAILURE`) and its messages (a JSON array). `None` goes back to the
    /// default: `FAILURE` with one `FAILURE_START` message while KSeF is unavailable
    /// ([`Faults::set_unavailable`]), `AVAILABLE` otherwise.
    pub fn set_lighthouse(&self, report: Option<(&str, serde_json::Value)>) {
        self.with(|s| s.lighthouse = report.map(|(st, m)| (st.to_string(), m)));
    }

    /// Latarnia's current status and messages.
    pub(crate) fn lighthouse(&self) -> (String, serde_json::Value) {
        self.with(|s| match &s.lighthouse {
            Some((st, m)) => (st.clone(), m.clone()),
            None if s.unavailable => (
                "FAILURE".to_string(),
                serde_json::json!([{
                    "id": "sim-1", "eventId": 1, "category": "KSEF", "type": "FAILURE_START",
                    "title": "Awaria KSeF (symulator)",
                    "text": "KSeF jest niedostępny (symulator).", "version": 1
                }]),
            ),
            None => ("AVAILABLE".to_string(), serde_json::json!([])),
        })
    }

    /// While `true`, every NBP call (`/nbp/...`) answers 503.
    pub fn set_nbp_unavailable(&self, unavailable: bool) {
        self.with(|s| s.nbp_unavailable = unavailable);
    }

    /// While `true`, every KSeF call answers 503 (KSeF unavailable).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.with(|s| s.unavailable = unavailable);
    }

    /// The `Retry-After` (seconds) of the 503 answers while unavailable (default 30; tests
    /// use 1 so that a client that honours it is not slowed down).
    pub fn set_unavailable_retry_after(&self, secs: u64) {
        self.with(|s| s.unavailable_retry_after = Some(secs));
    }

    /// UPOs (and the final status of closed sessions) stay "not ready" for the next
    /// `polls` status/UPO polls.
    pub fn slow_upo(&self, polls: u32) {
        self.with(|s| s.slow_upo_polls = polls);
    }

    /// UPOs (and the final status of closed sessions) stay "not ready" for `duration`.
    pub fn slow_upo_for(&self, duration: Duration) {
        self.with(|s| s.slow_upo_until = Some(std::time::Instant::now() + duration));
    }

    /// Every access token issued so far stops working (401), so clients must refresh or
    /// authenticate again.
    pub fn expire_access_tokens(&self) {
        self.with(|s| s.expire_tokens_epoch += 1);
    }

    /// Removes every pending fault and the unavailable/slow flags.
    pub fn clear(&self) {
        self.with(|s| {
            s.rules.clear();
            s.unavailable = false;
            s.fakturownia_unavailable = false;
            s.nbp_unavailable = false;
            s.slow_upo_polls = 0;
            s.slow_upo_until = None;
        });
    }

    pub(crate) fn unavailable(&self) -> bool {
        self.with(|s| s.unavailable)
    }

    pub(crate) fn fakturownia_unavailable(&self) -> bool {
        self.with(|s| s.fakturownia_unavailable)
    }

    pub(crate) fn nbp_unavailable(&self) -> bool {
        self.with(|s| s.nbp_unavailable)
    }

    pub(crate) fn unavailable_retry_after(&self) -> u64 {
        self.with(|s| s.unavailable_retry_after.unwrap_or(30))
    }

    /// Takes one fault matching the request, if any (decrementing its count).
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<FaultKind> {
        self.with(|s| {
            let i = s
                .rules
                .iter()
                .position(|r| r.remaining > 0 && r.route.matches(method, path))?;
            let rule = &mut s.rules[i];
            rule.remaining -= 1;
            let kind = rule.kind;
            if rule.remaining == 0 {
                s.rules.remove(i);
            }
            Some(kind)
        })
    }

    /// Whether the UPO is held back on this poll (consumes one slow poll).
    pub(crate) fn upo_held_back(&self) -> bool {
        self.with(|s| {
            if s.slow_upo_until
                .is_some_and(|t| std::time::Instant::now() < t)
            {
                return true;
            }
            if s.slow_upo_polls > 0 {
                s.slow_upo_polls -= 1;
                return true;
            }
            false
        })
    }

    pub(crate) fn token_epoch(&self) -> u64 {
        self.with(|s| s.expire_tokens_epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_segment() {
        let r = Route::parse("POST /sessions/online/{ref}/invoices");
        assert!(r.matches("POST", "/sessions/online/20250625-SO-1/invoices"));
        assert!(!r.matches("GET", "/sessions/online/x/invoices"));
        assert!(!r.matches("POST", "/sessions/online/x/close"));
        assert!(!r.matches("POST", "/sessions/online/x/invoices/y"));
        let any = Route::parse("GET /sessions/*");
        assert!(any.matches("GET", "/sessions/a/b/c"));
        assert!(Route::parse("/v2/auth/challenge").matches("POST", "/auth/challenge"));
        let f = Route::parse("PUT /fakturownia/invoices/{id}.json");
        assert!(f.matches("PUT", "/fakturownia/invoices/17.json"));
        assert!(!f.matches("PUT", "/fakturownia/invoices/17.pdf"));
        assert!(!f.matches("PUT", "/fakturownia/invoices/.json"));
    }

    #[test]
    fn faults_are_consumed() {
        let f = Faults::default();
        f.fail_next("POST /auth/challenge", 2, 503);
        assert_eq!(
            f.take("POST", "/auth/challenge"),
            Some(FaultKind::FailBefore(503))
        );
        assert_eq!(
            f.take("POST", "/auth/challenge"),
            Some(FaultKind::FailBefore(503))
        );
        assert_eq!(f.take("POST", "/auth/challenge"), None);
    }
}
