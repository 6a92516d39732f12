//! The `Store` face of 托育 (written once in `backend/childcare.rs`, compiled per backend):
//! institutions, allocation rounds with their published seeds and results, health checks and
//! approved (locked) subsidy months. Applications are cases of kind
//! `jiesu_domain::childcare::ChildcareApplication` on the one engine.

use crate::{Result, Store};
use jiesu_domain::childcare::allocation::{Market, RoundResult};
use jiesu_domain::childcare::application::ChildcareRules;
use jiesu_domain::childcare::health::HealthCheck;
use jiesu_domain::childcare::institution::Institution;
use jiesu_domain::childcare::subsidy::Settlement;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An institution as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInstitution {
    #[serde(flatten)]
    pub data: Institution,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a round stands: a draft can be run (dry) any number of times; a published round's
/// result is fixed and its offers issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    Draft,
    Published,
}

impl RoundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundStatus::Draft => "draft",
            RoundStatus::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(RoundStatus::Draft),
            "published" => Some(RoundStatus::Published),
            _ => None,
        }
    }
}

/// A round as created: its seed is announced (as text) before it is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRound {
    pub code: String,
    pub name: String,
    /// The announced text; the lottery seed is `seed_from_text(seed_text)`.
    pub seed_text: String,
    pub seed: u64,
    pub rules: ChildcareRules,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    #[serde(flatten)]
    pub data: NewRound,
    pub status: RoundStatus,
    pub result: Option<RoundResult>,
    /// The market the published result was run on (with the seed it determines the result).
    pub market: Option<Market>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub published_by: Option<String>,
    pub published_at: Option<Timestamp>,
}

/// One health check of an enrolled child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRecord {
    pub id: i64,
    /// The child's application code.
    pub application: String,
    pub child_ref: String,
    pub institution: String,
    #[serde(flatten)]
    pub check: HealthCheck,
    pub recorded_by: String,
    pub created_at: Timestamp,
}

/// An approved month (locked: approving it again is refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedSettlement {
    pub settlement: Settlement,
    pub approved_by: String,
    pub approved_at: Timestamp,
}

impl Store {
    /// Creates or replaces an institution (the app validated it).
    pub async fn save_institution(&self, i: &Institution, now: Timestamp) -> Result<()> {
        delegate!(self.save_institution(i, now))
    }
    pub async fn institution(&self, code: &str) -> Result<Option<StoredInstitution>> {
        delegate!(self.institution(code))
    }
    /// Every institution (of `street` when given), by code.
    pub async fn institutions(&self, street: Option<&str>) -> Result<Vec<StoredInstitution>> {
        delegate!(self.institutions(street))
    }
    /// Creates a draft round; `Duplicate { field: "code" }` when the code is taken.
    pub async fn create_round(&self, r: &NewRound, by: &str, now: Timestamp) -> Result<()> {
        delegate!(self.create_round(r, by, now))
    }
    pub async fn round(&self, code: &str) -> Result<Option<Round>> {
        delegate!(self.round(code))
    }
    /// Every round, newest first.
    pub async fn rounds(&self) -> Result<Vec<Round>> {
        delegate!(self.rounds())
    }
    /// Publishes a draft round with its result; `false` when it was not a draft (published
    /// once only, even by two desks at the same time).
    pub async fn publish_round(
        &self,
        code: &str,
        result: &RoundResult,
        market: &Market,
        by: &str,
        now: Timestamp,
    ) -> Result<bool> {
        delegate!(self.publish_round(code, result, market, by, now))
    }
    /// Records a health check (the app validated it); its id.
    pub async fn add_health_check(&self, h: &HealthRecord) -> Result<i64> {
        delegate!(self.add_health_check(h))
    }
    /// Health checks of a child (by application code) or of an institution, oldest first.
    pub async fn health_checks(
        &self,
        application: Option<&str>,
        institution: Option<&str>,
    ) -> Result<Vec<HealthRecord>> {
        delegate!(self.health_checks(application, institution))
    }
    /// Locks an approved month; `Duplicate { field: "month" }` when already approved.
    pub async fn approve_childcare_settlement(
        &self,
        s: &Settlement,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        delegate!(self.approve_childcare_settlement(s, by, now))
    }
    /// Registers a guardian (name and phone sealed); its id for the application's events.
    pub async fn add_guardian(&self, name: &str, phone: &str, now: Timestamp) -> Result<i64> {
        delegate!(self.add_guardian(name, phone, now))
    }
    /// Whether `phone` is one of the guardians `ids`' phones (by blind index).
    pub async fn guardian_has_phone(&self, ids: &[i64], phone: &str) -> Result<bool> {
        delegate!(self.guardian_has_phone(ids, phone))
    }
    pub async fn childcare_settlement(
        &self,
        institution: &str,
        month: &str,
    ) -> Result<Option<ApprovedSettlement>> {
        delegate!(self.childcare_settlement(institution, month))
    }
}
