//! Rate limits on the public doors (the citizen portal, Open311 POST): a fixed window per
//! (limit, client address), in memory. Per server: with several servers behind one balancer
//! each allows its own share, which still bounds a flood to a small multiple. (Login attempts
//! are throttled in the database instead, by `jiesu_app::accounts`: those must survive a
//! restart and lock across servers.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many calls of one kind one client may make per window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: u32,
    pub per: Duration,
}

/// Filings on the portal: a citizen files a few a day; a script files thousands.
pub const PORTAL_FILE: Limit = Limit {
    name: "portal_file",
    max: 10,
    per: Duration::from_secs(3600),
};
/// Tracking-code lookups and ratings: codes are random, so walking them takes many tries.
pub const PORTAL_LOOKUP: Limit = Limit {
    name: "portal_lookup",
    max: 60,
    per: Duration::from_secs(600),
};
/// Open311 POST requests per client address (a platform may file for many citizens).
pub const OPEN311_POST: Limit = Limit {
    name: "open311_post",
    max: 120,
    per: Duration::from_secs(60),
};

/// (limit name, client) → (calls in the window, when the window began).
type Windows = HashMap<(&'static str, String), (u32, Instant)>;

/// The counters; bounded (stale windows are dropped when the map grows).
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
}

impl RateLimiter {
    /// Counts one call; `false` when `key` has used up `limit` in the current window.
    pub fn allow(&self, limit: &Limit, key: &str) -> bool {
        let Ok(mut map) = self.windows.lock() else {
            return true;
        };
        let now = Instant::now();
        if map.len() > 100_000 {
            map.retain(|(name, _), (_, start)| now.duration_since(*start) < longest(name));
        }
        let e = map.entry((limit.name, key.to_string())).or_insert((0, now));
        if now.duration_since(e.1) >= limit.per {
            *e = (0, now);
        }
        if e.0 >= limit.max {
            return false;
        }
        e.0 += 1;
        true
    }
}

fn longest(name: &str) -> Duration {
    [PORTAL_FILE, PORTAL_LOOKUP, OPEN311_POST]
        .iter()
        .find(|l| l.name == name)
        .map_or(Duration::from_secs(3600), |l| l.per)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_max_then_refuses_per_key() {
        let r = RateLimiter::default();
        let l = Limit {
            name: "t",
            max: 3,
            per: Duration::from_secs(60),
        };
        assert!((0..3).all(|_| r.allow(&l, "a")));
        assert!(!r.allow(&l, "a"));
        assert!(r.allow(&l, "b"), "another client has its own window");
        let short = Limit {
            name: "s",
            max: 1,
            per: Duration::from_millis(20),
        };
        assert!(r.allow(&short, "a") && !r.allow(&short, "a"));
        std::thread::sleep(Duration::from_millis(30));
        assert!(r.allow(&short, "a"), "a new window");
    }
}
