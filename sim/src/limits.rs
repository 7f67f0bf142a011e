//! Rate limits per endpoint group (sliding windows of 1 s, 1 min, 1 h), as KSeF documents
//! them (`limity/limity-api.md`, NOTES §7).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests allowed per second, minute and hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Per second.
    pub per_second: u32,
    /// Per minute.
    pub per_minute: u32,
    /// Per hour.
    pub per_hour: u32,
}

impl Limit {
    /// A limit.
    pub const fn new(per_second: u32, per_minute: u32, per_hour: u32) -> Limit {
        Limit {
            per_second,
            per_minute,
            per_hour,
        }
    }
}

/// The endpoint groups of the KSeF rate limits.
pub const GROUPS: [&str; 12] = [
    "invoiceMetadata",
    "invoiceExport",
    "invoiceExportStatus",
    "invoiceDownload",
    "batchSession",
    "onlineSession",
    "invoiceSend",
    "invoiceStatus",
    "sessionList",
    "sessionInvoiceList",
    "sessionMisc",
    "other",
];

/// The limits of every group (a group without an entry is not limited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    groups: HashMap<String, Limit>,
}

impl Default for RateLimits {
    /// Generous: 1,000/s, 100,000/min, 1,000,000/h per group — enough for a test sending
    /// thousands of invoices, still a real limit.
    fn default() -> Self {
        let l = Limit::new(1000, 100_000, 1_000_000);
        RateLimits {
            groups: GROUPS.iter().map(|g| (g.to_string(), l)).collect(),
        }
    }
}

impl RateLimits {
    /// No limits at all.
    pub fn none() -> RateLimits {
        RateLimits {
            groups: HashMap::new(),
        }
    }

    /// The production limits (PRD = DEMO = TEST defaults, NOTES §7).
    pub fn strict() -> RateLimits {
        let table = [
            ("invoiceMetadata", Limit::new(8, 16, 20)),
            ("invoiceExport", Limit::new(8, 16, 20)),
            ("invoiceExportStatus", Limit::new(10, 60, 600)),
            ("invoiceDownload", Limit::new(8, 16, 64)),
            ("batchSession", Limit::new(10, 20, 60)),
            ("onlineSession", Limit::new(10, 30, 120)),
            ("invoiceSend", Limit::new(10, 30, 180)),
            ("invoiceStatus", Limit::new(30, 120, 1200)),
            ("sessionList", Limit::new(5, 10, 60)),
            ("sessionInvoiceList", Limit::new(10, 20, 200)),
            ("sessionMisc", Limit::new(10, 120, 1200)),
            ("other", Limit::new(10, 30, 120)),
        ];
        RateLimits {
            groups: table.iter().map(|(g, l)| (g.to_string(), *l)).collect(),
        }
    }

    /// Sets (or replaces) the limit of a group (one of [`GROUPS`]).
    pub fn with(mut self, group: &str, limit: Limit) -> RateLimits {
        self.groups.insert(group.to_string(), limit);
        self
    }

    /// The limit of a group.
    pub fn get(&self, group: &str) -> Option<Limit> {
        self.groups.get(group).copied()
    }
}

/// The group of a request (method, path relative to `/v2`); `None` = not limited here
/// (`/auth/challenge` has its own per-IP limit, uploads and downloads are not limited).
pub(crate) fn group_of(method: &str, path: &str) -> Option<&'static str> {
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    Some(match (method, s.as_slice()) {
        ("POST", ["auth", "challenge"]) => return None,
        ("GET", ["security", ..]) => return None,
        ("POST", ["invoices", "query", "metadata"]) => "invoiceMetadata",
        ("POST", ["invoices", "exports"]) => "invoiceExport",
        ("GET", ["invoices", "exports", _]) => "invoiceExportStatus",
        ("GET", ["invoices", "ksef", _]) => "invoiceDownload",
        ("POST", ["sessions", "batch"]) | ("POST", ["sessions", "batch", _, "close"]) => {
            "batchSession"
        }
        ("POST", ["sessions", "online"]) | ("POST", ["sessions", "online", _, "close"]) => {
            "onlineSession"
        }
        ("POST", ["sessions", "online", _, "invoices"]) => "invoiceSend",
        ("GET", ["sessions", _, "invoices", inv]) if *inv != "failed" => "invoiceStatus",
        ("GET", ["sessions"]) => "sessionList",
        ("GET", ["sessions", _, "invoices"]) | ("GET", ["sessions", _, "invoices", "failed"]) => {
            "sessionInvoiceList"
        }
        ("GET", ["sessions", ..]) => "sessionMisc",
        _ => "other",
    })
}

/// Sliding-window counters.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    hits: Mutex<HashMap<&'static str, VecDeque<Instant>>>,
}

impl Limiter {
    /// Records a hit in `group`, or returns the seconds to wait (`Retry-After`) when a
    /// window is full (the hit is then not counted).
    pub(crate) fn hit(&self, group: &'static str, limit: Limit) -> Result<(), u64> {
        let now = Instant::now();
        let mut g = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let q = g.entry(group).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600))
        {
            q.pop_front();
        }
        let mut wait = 0u64;
        for (window, max) in [
            (Duration::from_secs(1), limit.per_second),
            (Duration::from_secs(60), limit.per_minute),
            (Duration::from_secs(3600), limit.per_hour),
        ] {
            let inside: Vec<&Instant> = q
                .iter()
                .filter(|t| now.duration_since(**t) < window)
                .collect();
            if inside.len() >= max as usize {
                // The window frees up when its oldest hit leaves it.
                let oldest = inside[inside.len() - max as usize];
                let left = window.saturating_sub(now.duration_since(*oldest));
                wait = wait.max(left.as_secs() + u64::from(left.subsec_nanos() > 0));
            }
        }
        if wait > 0 {
            return Err(wait.max(1));
        }
        q.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_the_docs() {
        assert_eq!(
            group_of("POST", "/sessions/online/X/invoices"),
            Some("invoiceSend")
        );
        assert_eq!(
            group_of("GET", "/sessions/X/invoices/failed"),
            Some("sessionInvoiceList")
        );
        assert_eq!(
            group_of("GET", "/sessions/X/invoices/Y"),
            Some("invoiceStatus")
        );
        assert_eq!(group_of("GET", "/sessions/X/upo/Y"), Some("sessionMisc"));
        assert_eq!(group_of("POST", "/auth/challenge"), None);
        assert_eq!(group_of("POST", "/auth/ksef-token"), Some("other"));
    }

    #[test]
    fn a_full_window_asks_to_wait() {
        let l = Limiter::default();
        let lim = Limit::new(2, 100, 1000);
        assert!(l.hit("other", lim).is_ok());
        assert!(l.hit("other", lim).is_ok());
        assert_eq!(l.hit("other", lim), Err(1));
    }
}
