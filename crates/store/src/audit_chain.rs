//! The audit log's hash chain (等保 安全审计: records protected from tampering). Each row stores
//! `hash = H(prev_hash ‖ seq ‖ the row's fields)` with `H` named in the hash itself
//! (`sha256:…` or `sm3:…`), so a row edited, deleted or inserted in the database no longer
//! links to its neighbours and `verify` names the first broken link. Truncating the newest rows
//! leaves a valid shorter chain: compare the head `verify` reports with one kept elsewhere.

use crate::AuditEntry;
use serde::Serialize;

/// The hash function of new links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChainHash {
    #[default]
    Sha256,
    /// SM3 (GM/T 0004-2012), for deployments assessed under 密评 (GB/T 39786).
    Sm3,
}

impl std::str::FromStr for ChainHash {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Ok(ChainHash::Sha256),
            "sm3" => Ok(ChainHash::Sm3),
            other => Err(format!("unknown audit hash `{other}`; use sha256 or sm3")),
        }
    }
}

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "genesis";

/// Each field length-prefixed, so no two different rows serialise alike.
fn canonical(prev: &str, seq: i64, at_ms: i64, e: &AuditEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut put = |s: &str| {
        out.extend_from_slice(s.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(s.as_bytes());
        out.push(b'\n');
    };
    put("jiesu-audit-v1");
    put(prev);
    put(&seq.to_string());
    put(&at_ms.to_string());
    put(&e.user_id.map(|u| u.to_string()).unwrap_or_default());
    put(&e.username);
    put(&e.role);
    put(&e.action);
    put(&e.target_type);
    put(&e.target_id);
    match &e.detail {
        Some(d) => put(&format!("+{d}")),
        None => put("-"),
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of row `seq` after `prev`, as stored (`sha256:<hex>` or `sm3:<hex>`).
pub fn link(alg: ChainHash, prev: &str, seq: i64, at_ms: i64, e: &AuditEntry) -> String {
    use sha2::Digest as _;
    let data = canonical(prev, seq, at_ms, e);
    match alg {
        ChainHash::Sha256 => format!("sha256:{}", hex(&sha2::Sha256::digest(&data))),
        ChainHash::Sm3 => format!("sm3:{}", hex(&sm3::Sm3::digest(&data))),
    }
}

/// Recomputes a stored hash with the function it names; `None` for an unknown one.
pub fn recompute(stored: &str, prev: &str, seq: i64, at_ms: i64, e: &AuditEntry) -> Option<String> {
    let alg = match stored.split_once(':')?.0 {
        "sha256" => ChainHash::Sha256,
        "sm3" => ChainHash::Sm3,
        _ => return None,
    };
    Some(link(alg, prev, seq, at_ms, e))
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainReport {
    /// Rows checked.
    pub rows: u64,
    /// The last row's `seq` and hash: keep them elsewhere to detect a truncated log.
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenLink {
    /// The row's id in `audit_log`.
    pub id: i64,
    pub seq: Option<i64>,
    pub reason: String,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(detail: Option<&str>) -> AuditEntry {
        AuditEntry {
            at: jiff::Timestamp::UNIX_EPOCH,
            user_id: Some(7),
            username: "admin".into(),
            role: "admin".into(),
            action: "create_user".into(),
            target_type: "user".into(),
            target_id: "9".into(),
            detail: detail.map(str::to_string),
        }
    }

    #[test]
    fn every_field_and_the_position_change_the_link() {
        let base = link(ChainHash::Sha256, GENESIS, 1, 0, &entry(Some("x")));
        assert!(
            base.starts_with("sha256:") && base.len() == 7 + 64,
            "{base}"
        );
        assert_ne!(
            base,
            link(ChainHash::Sha256, GENESIS, 2, 0, &entry(Some("x")))
        );
        assert_ne!(
            base,
            link(ChainHash::Sha256, "sha256:00", 1, 0, &entry(Some("x")))
        );
        assert_ne!(
            base,
            link(ChainHash::Sha256, GENESIS, 1, 1, &entry(Some("x")))
        );
        assert_ne!(base, link(ChainHash::Sha256, GENESIS, 1, 0, &entry(None)));
        assert_ne!(
            base,
            link(ChainHash::Sha256, GENESIS, 1, 0, &entry(Some("")))
        );
        let mut moved = entry(Some("x"));
        moved.username = "admi".into();
        moved.role = "nadmin".into();
        assert_ne!(
            base,
            link(ChainHash::Sha256, GENESIS, 1, 0, &moved),
            "field boundaries"
        );
        assert_eq!(
            recompute(&base, GENESIS, 1, 0, &entry(Some("x"))).as_deref(),
            Some(base.as_str())
        );
    }

    #[test]
    fn sm3_is_the_standard_one() {
        // GM/T 0004-2012 appendix A: SM3("abc").
        use sha2::Digest as _;
        assert_eq!(
            hex(&sm3::Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        let l = link(ChainHash::Sm3, GENESIS, 1, 0, &entry(None));
        assert!(l.starts_with("sm3:"));
        assert_eq!(recompute(&l, GENESIS, 1, 0, &entry(None)), Some(l));
        assert!(recompute("md5:00", GENESIS, 1, 0, &entry(None)).is_none());
        assert_eq!("SM3".parse::<ChainHash>(), Ok(ChainHash::Sm3));
    }
}
