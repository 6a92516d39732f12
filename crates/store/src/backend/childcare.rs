//! 托育 tables (migration 0016): institutions, rounds, health checks, approved settlements.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`
//! and the helpers the sibling files share.

use super::*;
use crate::childcare::{
    ApprovedSettlement, HealthRecord, NewRound, Round, RoundStatus, StoredInstitution,
};
use jiesu_domain::childcare::health::HealthCheck;
use jiesu_domain::childcare::institution::Institution;
use jiesu_domain::childcare::subsidy::Settlement;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("childcare: {e}"))
}

const INSTITUTION_COLS: &str = "code, name, kind, operator, street, community, address, \
     licence_no, community_point, monthly_price_fen, classes, health_contract, created_at, \
     updated_at";

fn institution_from_row(r: &<DB as sqlx::Database>::Row) -> Result<StoredInstitution> {
    let contract: Option<String> = r.try_get("health_contract")?;
    Ok(StoredInstitution {
        data: Institution {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            kind: r.try_get::<String, _>("kind")?.parse().map_err(corrupt)?,
            operator: r.try_get("operator")?,
            street: r.try_get("street")?,
            community: r.try_get("community")?,
            address: r.try_get("address")?,
            licence_no: r.try_get("licence_no")?,
            community_point: r.try_get("community_point")?,
            monthly_price_fen: r.try_get("monthly_price_fen")?,
            classes: from_json(&r.try_get::<String, _>("classes")?)?,
            health_contract: contract.map(|c| from_json(&c)).transpose()?,
        },
        created_at: ts(r.try_get("created_at")?)?,
        updated_at: ts(r.try_get("updated_at")?)?,
    })
}

const ROUND_COLS: &str = "code, name, seed_text, seed, rules, status, result, market, \
     created_by, created_at, published_by, published_at";

fn round_from_row(r: &<DB as sqlx::Database>::Row) -> Result<Round> {
    let result: Option<String> = r.try_get("result")?;
    let market: Option<String> = r.try_get("market")?;
    let status: String = r.try_get("status")?;
    let published_at: Option<i64> = r.try_get("published_at")?;
    Ok(Round {
        data: NewRound {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            seed_text: r.try_get("seed_text")?,
            seed: r.try_get::<String, _>("seed")?.parse().map_err(corrupt)?,
            rules: from_json(&r.try_get::<String, _>("rules")?)?,
        },
        status: RoundStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        result: result.map(|s| from_json(&s)).transpose()?,
        market: market.map(|s| from_json(&s)).transpose()?,
        created_by: r.try_get("created_by")?,
        created_at: ts(r.try_get("created_at")?)?,
        published_by: r.try_get("published_by")?,
        published_at: published_at.map(ts).transpose()?,
    })
}

const CHECK_COLS: &str = "id, application, child_ref, institution, date, provider, height_mm, \
     weight_g, notes, recorded_by, created_at";

fn check_from_row(r: &<DB as sqlx::Database>::Row) -> Result<HealthRecord> {
    let h: i64 = r.try_get("height_mm")?;
    let w: i64 = r.try_get("weight_g")?;
    Ok(HealthRecord {
        id: r.try_get("id")?,
        application: r.try_get("application")?,
        child_ref: r.try_get("child_ref")?,
        institution: r.try_get("institution")?,
        check: HealthCheck {
            date: r.try_get::<String, _>("date")?.parse().map_err(corrupt)?,
            provider: r.try_get("provider")?,
            height_mm: u32::try_from(h).map_err(corrupt)?,
            weight_g: u32::try_from(w).map_err(corrupt)?,
            notes: r.try_get("notes")?,
        },
        recorded_by: r.try_get("recorded_by")?,
        created_at: ts(r.try_get("created_at")?)?,
    })
}

impl Db {
    pub async fn save_institution(&self, i: &Institution, now: Timestamp) -> Result<()> {
        let contract = i.health_contract.as_ref().map(to_json).transpose()?;
        sqlx::query(
            "INSERT INTO childcare_institutions (code, name, kind, operator, street, community, \
             address, licence_no, community_point, monthly_price_fen, classes, health_contract, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             ON CONFLICT (code) DO UPDATE SET name = $2, kind = $3, operator = $4, street = $5, \
             community = $6, address = $7, licence_no = $8, community_point = $9, \
             monthly_price_fen = $10, classes = $11, health_contract = $12, updated_at = $13",
        )
        .bind(&i.code)
        .bind(&i.name)
        .bind(i.kind.as_str())
        .bind(&i.operator)
        .bind(&i.street)
        .bind(&i.community)
        .bind(&i.address)
        .bind(&i.licence_no)
        .bind(i.community_point)
        .bind(i.monthly_price_fen)
        .bind(to_json(&i.classes)?)
        .bind(contract)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn institution(&self, code: &str) -> Result<Option<StoredInstitution>> {
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT {INSTITUTION_COLS} FROM childcare_institutions WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(&self.read)
        .await?;
        r.as_ref().map(institution_from_row).transpose()
    }

    pub async fn institutions(&self, street: Option<&str>) -> Result<Vec<StoredInstitution>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {INSTITUTION_COLS} FROM childcare_institutions \
             WHERE ($1 IS NULL OR street = $1) ORDER BY code"
        )))
        .bind(street)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(institution_from_row).collect()
    }

    pub async fn create_round(&self, r: &NewRound, by: &str, now: Timestamp) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO childcare_rounds (code, name, seed_text, seed, rules, status, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&r.code)
        .bind(&r.name)
        .bind(&r.seed_text)
        .bind(r.seed.to_string())
        .bind(to_json(&r.rules)?)
        .bind(RoundStatus::Draft.as_str())
        .bind(by)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate { field: "code" });
        }
        Ok(())
    }

    pub async fn round(&self, code: &str) -> Result<Option<Round>> {
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROUND_COLS} FROM childcare_rounds WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(&self.read)
        .await?;
        r.as_ref().map(round_from_row).transpose()
    }

    pub async fn rounds(&self) -> Result<Vec<Round>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROUND_COLS} FROM childcare_rounds ORDER BY created_at DESC, code"
        )))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(round_from_row).collect()
    }

    pub async fn publish_round(
        &self,
        code: &str,
        result: &jiesu_domain::childcare::RoundResult,
        market: &jiesu_domain::childcare::Market,
        by: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE childcare_rounds SET status = $1, result = $2, market = $7, \
             published_by = $3, published_at = $4 WHERE code = $5 AND status = $6",
        )
        .bind(RoundStatus::Published.as_str())
        .bind(to_json(result)?)
        .bind(by)
        .bind(ms(now))
        .bind(code)
        .bind(RoundStatus::Draft.as_str())
        .bind(to_json(market)?)
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn add_health_check(&self, h: &HealthRecord) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO childcare_health_checks (application, child_ref, institution, date, \
             provider, height_mm, weight_g, notes, recorded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&h.application)
        .bind(&h.child_ref)
        .bind(&h.institution)
        .bind(h.check.date.to_string())
        .bind(&h.check.provider)
        .bind(i64::from(h.check.height_mm))
        .bind(i64::from(h.check.weight_g))
        .bind(&h.check.notes)
        .bind(&h.recorded_by)
        .bind(ms(h.created_at))
        .fetch_one(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn health_checks(
        &self,
        application: Option<&str>,
        institution: Option<&str>,
    ) -> Result<Vec<HealthRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CHECK_COLS} FROM childcare_health_checks \
             WHERE ($1 IS NULL OR application = $1) AND ($2 IS NULL OR institution = $2) \
             ORDER BY date, id"
        )))
        .bind(application)
        .bind(institution)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(check_from_row).collect()
    }

    pub async fn approve_childcare_settlement(
        &self,
        s: &Settlement,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO childcare_settlements (institution, month, settlement, total_fen, \
             approved_by, approved_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (institution, month) DO NOTHING",
        )
        .bind(&s.institution)
        .bind(&s.month)
        .bind(to_json(s)?)
        .bind(s.totals.total_fen)
        .bind(by)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Duplicate { field: "month" });
        }
        Ok(())
    }

    pub async fn add_guardian(&self, name: &str, phone: &str, now: Timestamp) -> Result<i64> {
        let idx = self
            .pii
            .phone_index(phone)
            .ok_or_else(|| corrupt("a guardian's phone has no digits"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO childcare_guardians (name, phone, phone_index, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(self.pii.seal("guardian.name", name))
        .bind(self.pii.seal("guardian.phone", phone))
        .bind(idx)
        .bind(ms(now))
        .fetch_one(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn guardian_has_phone(&self, ids: &[i64], phone: &str) -> Result<bool> {
        let Some(idx) = self.pii.phone_index(phone) else {
            return Ok(false);
        };
        for id in ids {
            let hit: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM childcare_guardians WHERE id = $1 AND phone_index = $2",
            )
            .bind(id)
            .bind(&idx)
            .fetch_optional(&self.read)
            .await?;
            if hit.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub async fn childcare_settlement(
        &self,
        institution: &str,
        month: &str,
    ) -> Result<Option<ApprovedSettlement>> {
        let r: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT settlement, approved_by, approved_at FROM childcare_settlements \
             WHERE institution = $1 AND month = $2",
        )
        .bind(institution)
        .bind(month)
        .fetch_optional(&self.read)
        .await?;
        r.map(|(s, by, at)| {
            Ok(ApprovedSettlement {
                settlement: from_json(&s)?,
                approved_by: by,
                approved_at: ts(at)?,
            })
        })
        .transpose()
    }
}
