//! The elder-care registry (migration 0012), mounted once per backend: elders (identities
//! sealed with the deployment's keyring, blind indexes for the ID number and phone),
//! assessments, providers with their price lists, coverage, slots and carers, meal points, the
//! meal log and care plans. Orders and claims are cases (engine.rs).

use super::*;
use crate::care::*;
use jiesu_domain::care::ability::{AssessmentInput, AssessmentResult, Grade};
use jiesu_domain::care::meals::{Meal, MealInput, MealKind, charge};
use jiesu_domain::care::person::{Consent, ElderInput, FamilyContact};
use jiff::civil::Date;

/// A meal point row: code, name, street, community, address, capacity, hours, active.
type MealPointRow = (String, String, String, String, String, i64, String, bool);
/// A meal row: id, elder, point, date, meal, bill, subsidy, paid, voided.
type MealRow = (i64, i64, String, String, String, i64, i64, i64, bool);

const ELDER_COLS: &str = "id, name, id_number, phone, birth_date, street, community, address, \
     living_alone, basic_service_object, subsidies, family, care_manager, medical_notes, consent, \
     created_at, updated_at";

fn date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

fn parse_code<T: std::str::FromStr>(s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown code {s:?}")))
}

impl Db {
    fn elder_from_row(&self, r: &<DB as sqlx::Database>::Row) -> Result<Elder> {
        let open = |field: &str, v: String| -> Result<String> { Ok(self.pii.open(field, &v)?) };
        let phone: Option<String> = r.try_get("phone")?;
        let family: Vec<FamilyContact> = from_json(&open("elder.family", r.try_get("family")?)?)?;
        let consent: Option<String> = r.try_get("consent")?;
        Ok(Elder {
            id: r.try_get("id")?,
            data: ElderInput {
                name: open("elder.name", r.try_get("name")?)?,
                id_number: open("elder.id_number", r.try_get("id_number")?)?,
                phone: phone.map(|p| open("elder.phone", p)).transpose()?,
                birth_date: date(&r.try_get::<String, _>("birth_date")?)?,
                street: r.try_get("street")?,
                community: r.try_get("community")?,
                address: open("elder.address", r.try_get("address")?)?,
                living_alone: r.try_get("living_alone")?,
                basic_service_object: r.try_get("basic_service_object")?,
                subsidies: from_json(&r.try_get::<String, _>("subsidies")?)?,
                family,
                care_manager: r.try_get("care_manager")?,
                medical_notes: open("elder.medical_notes", r.try_get("medical_notes")?)?,
                consent: consent.map(|c| from_json::<Consent>(&c)).transpose()?,
            },
            created_at: ts(r.try_get("created_at")?)?,
            updated_at: ts(r.try_get("updated_at")?)?,
        })
    }

    /// The sealed column values of an elder, in the order of the INSERT below.
    fn elder_values(&self, e: &ElderInput) -> Result<[Option<String>; 8]> {
        let p = &self.pii;
        Ok([
            Some(p.seal("elder.name", e.name.trim())),
            Some(p.seal("elder.id_number", &e.id_number.trim().to_uppercase())),
            Some(p.value_index("id_number", &e.id_number.trim().to_uppercase())),
            e.phone.as_deref().map(|v| p.seal("elder.phone", v)),
            e.phone.as_deref().and_then(|v| p.phone_index(v)),
            Some(p.seal("elder.address", e.address.trim())),
            Some(p.seal("elder.family", &to_json(&e.family)?)),
            Some(p.seal("elder.medical_notes", &e.medical_notes)),
        ])
    }

    /// Seals every elder record again under the active key where any of its sealed columns is
    /// plaintext or under an older key (`jiesu keys rotate`), and rewrites the blind indexes.
    pub(super) async fn reseal_elders(&self, report: &mut ResealReport) -> Result<()> {
        let mut after = 0i64;
        loop {
            let sql = format!(
                "SELECT {ELDER_COLS}, id_index, phone_index FROM care_elders WHERE id > $1 ORDER BY id LIMIT 200"
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(after)
                .fetch_all(&self.read)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            for r in &rows {
                let mut stale = false;
                for col in ["name", "id_number", "address", "family", "medical_notes"] {
                    stale |= self.pii.needs_reseal(&r.try_get::<String, _>(col)?);
                }
                if let Some(p) = r.try_get::<Option<String>, _>("phone")? {
                    stale |= self.pii.needs_reseal(&p);
                }
                let e = self.elder_from_row(r)?;
                let idx = self
                    .pii
                    .value_index("id_number", &e.data.id_number.to_uppercase());
                stale |= r.try_get::<String, _>("id_index")? != idx;
                if stale {
                    self.update_elder(e.id, &e.data, e.updated_at).await?;
                    report.elders += 1;
                }
            }
        }
        Ok(())
    }

    /// Registers an elder; `Duplicate { field: "id_number" }` when the ID number is taken.
    pub async fn create_elder(&self, e: &ElderInput, now: Timestamp) -> Result<i64> {
        let [name, idn, idx, phone, phone_ix, address, family, medical] = self.elder_values(e)?;
        let mut tx = begin_write(&self.write).await?;
        let r = sqlx::query_scalar(
            "INSERT INTO care_elders (name, id_number, id_index, phone, phone_index, birth_date, street, \
             community, address, living_alone, basic_service_object, subsidies, family, care_manager, \
             medical_notes, consent, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
        )
        .bind(name)
        .bind(idn)
        .bind(idx)
        .bind(phone)
        .bind(phone_ix)
        .bind(e.birth_date.to_string())
        .bind(&e.street)
        .bind(&e.community)
        .bind(address)
        .bind(e.living_alone)
        .bind(e.basic_service_object)
        .bind(to_json(&e.subsidies)?)
        .bind(family)
        .bind(&e.care_manager)
        .bind(medical)
        .bind(e.consent.as_ref().map(to_json).transpose()?)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await;
        let id = match r {
            Ok(id) => id,
            Err(e) if is_unique_violation_of(&e, ELDER_ID_KEY) => {
                return Err(StoreError::Duplicate { field: "id_number" });
            }
            Err(e) => return Err(e.into()),
        };
        self.write_phones(&mut tx, id, e).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The blind indexes of every phone the elder is reached at (own and family).
    async fn write_phones(&self, tx: &mut Tx, id: i64, e: &ElderInput) -> Result<()> {
        sqlx::query("DELETE FROM care_elder_phones WHERE elder_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let mut seen = std::collections::BTreeSet::new();
        let phones = e.phone.iter().chain(e.family.iter().map(|f| &f.phone));
        for idx in phones.filter_map(|p| self.pii.phone_index(p)) {
            if seen.insert(idx.clone()) {
                sqlx::query(
                    "INSERT INTO care_elder_phones (elder_id, phone_index) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(idx)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Replaces an elder's record; `NotFound` when there is none.
    pub async fn update_elder(&self, id: i64, e: &ElderInput, now: Timestamp) -> Result<()> {
        let [name, idn, idx, phone, phone_ix, address, family, medical] = self.elder_values(e)?;
        let mut tx = begin_write(&self.write).await?;
        let r = sqlx::query(
            "UPDATE care_elders SET name = $2, id_number = $3, id_index = $4, phone = $5, phone_index = $6, \
             birth_date = $7, street = $8, community = $9, address = $10, living_alone = $11, \
             basic_service_object = $12, subsidies = $13, family = $14, care_manager = $15, \
             medical_notes = $16, consent = $17, updated_at = $18 WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(idn)
        .bind(idx)
        .bind(phone)
        .bind(phone_ix)
        .bind(e.birth_date.to_string())
        .bind(&e.street)
        .bind(&e.community)
        .bind(address)
        .bind(e.living_alone)
        .bind(e.basic_service_object)
        .bind(to_json(&e.subsidies)?)
        .bind(family)
        .bind(&e.care_manager)
        .bind(medical)
        .bind(e.consent.as_ref().map(to_json).transpose()?)
        .bind(ms(now))
        .execute(&mut *tx)
        .await;
        match r {
            Ok(r) if r.rows_affected() == 1 => {}
            Ok(_) => return Err(StoreError::NotFound),
            Err(e) if is_unique_violation_of(&e, ELDER_ID_KEY) => {
                return Err(StoreError::Duplicate { field: "id_number" });
            }
            Err(e) => return Err(e.into()),
        }
        self.write_phones(&mut tx, id, e).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn elder(&self, id: i64) -> Result<Option<Elder>> {
        let sql = format!("SELECT {ELDER_COLS} FROM care_elders WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| self.elder_from_row(&r)).transpose()
    }

    /// The elder with this ID number (through its blind index).
    pub async fn elder_by_id_number(&self, id_number: &str) -> Result<Option<Elder>> {
        let idx = self
            .pii
            .value_index("id_number", &id_number.trim().to_uppercase());
        let sql = format!("SELECT {ELDER_COLS} FROM care_elders WHERE id_index = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(idx)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| self.elder_from_row(&r)).transpose()
    }

    /// Elders reached at `phone`, their own or a family contact's (through the blind index).
    pub async fn elders_by_phone(&self, phone: &str) -> Result<Vec<Elder>> {
        let Some(idx) = self.pii.phone_index(phone) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {ELDER_COLS} FROM care_elders WHERE id IN \
             (SELECT elder_id FROM care_elder_phones WHERE phone_index = $1) ORDER BY id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(idx)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| self.elder_from_row(r)).collect()
    }

    pub async fn elders(&self, q: &ElderQuery) -> Result<(Vec<Elder>, i64)> {
        let mut cond = String::from("1 = 1");
        let mut binds: Vec<&String> = Vec::new();
        for (col, v) in [
            ("street", &q.street),
            ("community", &q.community),
            ("care_manager", &q.care_manager),
        ] {
            if let Some(v) = v {
                binds.push(v);
                cond += &format!(" AND {col} = ${}", binds.len());
            }
        }
        let count_sql = format!("SELECT COUNT(*) FROM care_elders WHERE {cond}");
        let mut cq = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for b in &binds {
            cq = cq.bind(b.as_str());
        }
        let total = cq.fetch_one(&self.read).await?;
        let sql = format!(
            "SELECT {ELDER_COLS} FROM care_elders WHERE {cond} ORDER BY id LIMIT {} OFFSET {}",
            q.limit.clamp(1, 100_000),
            q.offset
        );
        let mut lq = sqlx::query(AssertSqlSafe(sql));
        for b in &binds {
            lq = lq.bind(b.as_str());
        }
        let rows = lq.fetch_all(&self.read).await?;
        let elders = rows
            .iter()
            .map(|r| self.elder_from_row(r))
            .collect::<Result<_>>()?;
        Ok((elders, total))
    }

    // ---- assessments ----

    pub async fn add_assessment(
        &self,
        elder_id: i64,
        a: &AssessmentInput,
        res: &AssessmentResult,
        by: &str,
        now: Timestamp,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO care_assessments (elder_id, date, assessor, scores, coma, dementia, risk_events, \
             total, preliminary, grade, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(elder_id)
        .bind(a.date.to_string())
        .bind(&a.assessor)
        .bind(to_json(&a.scores)?)
        .bind(a.coma)
        .bind(a.dementia_or_mental_disorder)
        .bind(i64::from(a.risk_events_30d))
        .bind(i64::from(res.total))
        .bind(res.preliminary.as_str())
        .bind(res.grade.as_str())
        .bind(by)
        .bind(ms(now))
        .fetch_one(&self.write)
        .await?)
    }

    /// An elder's assessments, newest first (the history is kept).
    pub async fn assessments(&self, elder_id: i64) -> Result<Vec<Assessment>> {
        let rows = sqlx::query(
            "SELECT id, elder_id, date, assessor, scores, coma, dementia, risk_events, total, preliminary, \
             grade, recorded_by, recorded_at FROM care_assessments WHERE elder_id = $1 ORDER BY date DESC, id DESC",
        )
        .bind(elder_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Assessment {
                    id: r.try_get("id")?,
                    elder_id: r.try_get("elder_id")?,
                    input: AssessmentInput {
                        date: date(&r.try_get::<String, _>("date")?)?,
                        assessor: r.try_get("assessor")?,
                        scores: from_json(&r.try_get::<String, _>("scores")?)?,
                        coma: r.try_get("coma")?,
                        dementia_or_mental_disorder: r.try_get("dementia")?,
                        risk_events_30d: r.try_get::<i64, _>("risk_events")?.clamp(0, 255) as u8,
                    },
                    result: AssessmentResult {
                        total: r.try_get::<i64, _>("total")?.clamp(0, 255) as u8,
                        preliminary: parse_code::<Grade>(&r.try_get::<String, _>("preliminary")?)?,
                        grade: parse_code::<Grade>(&r.try_get::<String, _>("grade")?)?,
                    },
                    recorded_by: r.try_get("recorded_by")?,
                    recorded_at: ts(r.try_get("recorded_at")?)?,
                })
            })
            .collect()
    }

    // ---- providers ----

    /// Creates or replaces a provider with its price list, coverage and slots, in one
    /// transaction.
    pub async fn save_provider(&self, p: &Provider, now: Timestamp) -> Result<()> {
        let mut tx = begin_write(&self.write).await?;
        sqlx::query(
            "INSERT INTO care_providers (code, name, street, community, phone, active, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO UPDATE SET name = $2, \
             street = $3, community = $4, phone = $5, active = $6, updated_at = $7",
        )
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.street)
        .bind(&p.community)
        .bind(&p.phone)
        .bind(p.active)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        for t in [
            "care_provider_services",
            "care_provider_coverage",
            "care_provider_slots",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {t} WHERE provider = $1"
            )))
            .bind(&p.code)
            .execute(&mut *tx)
            .await?;
        }
        for s in &p.services {
            sqlx::query(
                "INSERT INTO care_provider_services (provider, service, price_fen, copay_fen) VALUES ($1, $2, $3, $4)",
            )
            .bind(&p.code)
            .bind(s.service.as_str())
            .bind(s.price_fen)
            .bind(s.copay_fen)
            .execute(&mut *tx)
            .await?;
        }
        for c in &p.coverage {
            sqlx::query("INSERT INTO care_provider_coverage (provider, community) VALUES ($1, $2)")
                .bind(&p.code)
                .bind(c)
                .execute(&mut *tx)
                .await?;
        }
        for s in &p.slots {
            sqlx::query(
                "INSERT INTO care_provider_slots (provider, weekday, start_min, end_min, capacity) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&p.code)
            .bind(i64::from(s.weekday))
            .bind(i64::from(s.start_min))
            .bind(i64::from(s.end_min))
            .bind(i64::from(s.capacity))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every provider with its lists, by code.
    pub async fn providers(&self) -> Result<Vec<Provider>> {
        let rows: Vec<(String, String, String, String, String, bool)> = sqlx::query_as(
            "SELECT code, name, street, community, phone, active FROM care_providers ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        let services: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT provider, service, price_fen, copay_fen FROM care_provider_services ORDER BY provider, service",
        )
        .fetch_all(&self.read)
        .await?;
        let coverage: Vec<(String, String)> = sqlx::query_as(
            "SELECT provider, community FROM care_provider_coverage ORDER BY provider, community",
        )
        .fetch_all(&self.read)
        .await?;
        let slots: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT provider, weekday, start_min, end_min, capacity FROM care_provider_slots ORDER BY provider, weekday, start_min",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out: Vec<Provider> = rows
            .into_iter()
            .map(|(code, name, street, community, phone, active)| Provider {
                code,
                name,
                street,
                community,
                phone,
                active,
                services: Vec::new(),
                coverage: Vec::new(),
                slots: Vec::new(),
            })
            .collect();
        let at =
            |out: &[Provider], code: &str| out.binary_search_by(|p| p.code.as_str().cmp(code)).ok();
        for (p, service, price_fen, copay_fen) in services {
            if let Some(i) = at(&out, &p) {
                out[i].services.push(PriceItem {
                    service: parse_code(&service)?,
                    price_fen,
                    copay_fen,
                });
            }
        }
        for (p, c) in coverage {
            if let Some(i) = at(&out, &p) {
                out[i].coverage.push(c);
            }
        }
        for (p, weekday, start, end, cap) in slots {
            if let Some(i) = at(&out, &p) {
                out[i].slots.push(WeeklySlot {
                    weekday: weekday.clamp(1, 7) as u8,
                    start_min: start.clamp(0, 1440) as u16,
                    end_min: end.clamp(0, 1440) as u16,
                    capacity: cap.clamp(0, u32::MAX.into()) as u32,
                });
            }
        }
        Ok(out)
    }

    pub async fn add_carer(&self, c: &Carer) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO care_carers (provider, name, skills, active) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&c.provider)
        .bind(&c.name)
        .bind(to_json(&c.skills)?)
        .bind(c.active)
        .fetch_one(&self.write)
        .await?)
    }

    /// A provider's carers (all providers' when `provider` is None).
    pub async fn carers(&self, provider: Option<&str>) -> Result<Vec<Carer>> {
        let rows: Vec<(i64, String, String, String, bool)> = sqlx::query_as(
            "SELECT id, provider, name, skills, active FROM care_carers \
             WHERE ($1 IS NULL OR provider = $1) ORDER BY id",
        )
        .bind(provider)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, provider, name, skills, active)| {
                Ok(Carer {
                    id,
                    provider,
                    name,
                    skills: from_json(&skills)?,
                    active,
                })
            })
            .collect()
    }

    // ---- meal points and meals ----

    pub async fn save_meal_point(&self, m: &MealPoint, now: Timestamp) -> Result<()> {
        let mut tx = begin_write(&self.write).await?;
        sqlx::query(
            "INSERT INTO care_meal_points (code, name, street, community, address, capacity, hours, active, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO UPDATE SET name = $2, \
             street = $3, community = $4, address = $5, capacity = $6, hours = $7, active = $8, updated_at = $9",
        )
        .bind(&m.code)
        .bind(&m.name)
        .bind(&m.street)
        .bind(&m.community)
        .bind(&m.address)
        .bind(i64::from(m.capacity))
        .bind(&m.hours)
        .bind(m.active)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM care_meal_point_communities WHERE point = $1")
            .bind(&m.code)
            .execute(&mut *tx)
            .await?;
        for c in &m.communities {
            sqlx::query(
                "INSERT INTO care_meal_point_communities (point, community) VALUES ($1, $2)",
            )
            .bind(&m.code)
            .bind(c)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn meal_points(&self) -> Result<Vec<MealPoint>> {
        let rows: Vec<MealPointRow> = sqlx::query_as(
            "SELECT code, name, street, community, address, capacity, hours, active FROM care_meal_points ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        let served: Vec<(String, String)> = sqlx::query_as(
            "SELECT point, community FROM care_meal_point_communities ORDER BY point, community",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out: Vec<MealPoint> = rows
            .into_iter()
            .map(
                |(code, name, street, community, address, capacity, hours, active)| MealPoint {
                    code,
                    name,
                    street,
                    community,
                    address,
                    capacity: capacity.clamp(0, u32::MAX.into()) as u32,
                    hours,
                    active,
                    communities: Vec::new(),
                },
            )
            .collect();
        for (p, c) in served {
            if let Ok(i) = out.binary_search_by(|m| m.code.as_str().cmp(&p)) {
                out[i].communities.push(c);
            }
        }
        Ok(out)
    }

    /// Records a meal and applies the elder's subsidy at payment, in one transaction with the
    /// elder's row locked so two meals of a day cannot both take the daily subsidy.
    /// `Duplicate { field: "meal" }` when the elder already has this meal that day.
    pub async fn add_meal(
        &self,
        m: &MealInput,
        daily_fen: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<Meal> {
        let mut tx = begin_write(&self.write).await?;
        let sql = format!("SELECT basic_service_object FROM care_elders WHERE id = $1{FOR_UPDATE}");
        let eligible: Option<bool> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(m.elder_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(eligible) = eligible else {
            return Err(StoreError::NotFound);
        };
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM care_meals WHERE elder_id = $1 AND date = $2 AND elder_subsidy_fen > 0 AND NOT voided",
        )
        .bind(m.elder_id)
        .bind(m.date.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let c = charge(m.bill_fen, eligible, taken > 0, daily_fen);
        let r = sqlx::query_scalar(
            "INSERT INTO care_meals (elder_id, point, date, meal, bill_fen, elder_subsidy_fen, elder_paid_fen, \
             voided, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $9) RETURNING id",
        )
        .bind(m.elder_id)
        .bind(&m.point)
        .bind(m.date.to_string())
        .bind(m.meal.as_str())
        .bind(m.bill_fen)
        .bind(c.elder_subsidy_fen)
        .bind(c.elder_paid_fen)
        .bind(by)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await;
        let id = match r {
            Ok(id) => id,
            Err(e) if is_unique_violation_of(&e, MEAL_ONCE_KEY) => {
                return Err(StoreError::Duplicate { field: "meal" });
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(Meal {
            id,
            elder_id: m.elder_id,
            point: m.point.clone(),
            date: m.date,
            meal: m.meal,
            bill_fen: m.bill_fen,
            elder_subsidy_fen: c.elder_subsidy_fen,
            elder_paid_fen: c.elder_paid_fen,
            voided: false,
        })
    }

    /// Voids a meal (a till error); `NotFound` when there is no such unvoided meal.
    pub async fn void_meal(&self, point: &str, id: i64) -> Result<()> {
        let r = sqlx::query(
            "UPDATE care_meals SET voided = TRUE WHERE id = $1 AND point = $2 AND NOT voided",
        )
        .bind(id)
        .bind(point)
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// Meals from `from` to `to` (exclusive), of one point or all, of one elder or all.
    pub async fn meals(
        &self,
        point: Option<&str>,
        elder_id: Option<i64>,
        from: Date,
        to: Date,
    ) -> Result<Vec<Meal>> {
        let rows: Vec<MealRow> = sqlx::query_as(
            "SELECT id, elder_id, point, date, meal, bill_fen, elder_subsidy_fen, elder_paid_fen, voided \
             FROM care_meals WHERE ($1 IS NULL OR point = $1) AND ($2 IS NULL OR elder_id = $2) \
             AND date >= $3 AND date < $4 ORDER BY date, id",
        )
        .bind(point)
        .bind(elder_id)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, elder_id, point, d, meal, bill, sub, paid, voided)| {
                Ok(Meal {
                    id,
                    elder_id,
                    point,
                    date: date(&d)?,
                    meal: parse_code::<MealKind>(&meal)?,
                    bill_fen: bill,
                    elder_subsidy_fen: sub,
                    elder_paid_fen: paid,
                    voided,
                })
            })
            .collect()
    }

    // ---- care plans ----

    pub async fn add_care_plan(&self, p: &CarePlan, now: Timestamp) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO care_plans (elder_id, service, weekdays, start_min, duration_min, from_date, to_date, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(p.elder_id)
        .bind(p.service.as_str())
        .bind(to_json(&p.weekdays)?)
        .bind(i64::from(p.start_min))
        .bind(i64::from(p.duration_min))
        .bind(p.from_date.to_string())
        .bind(p.to_date.to_string())
        .bind(&p.created_by)
        .bind(ms(now))
        .fetch_one(&self.write)
        .await?)
    }

    // ---- the supply–demand view ----

    /// Per community: elders (60+ registered), 80+ on `today`, living alone, meal points
    /// serving it, active providers covering it.
    pub async fn community_care(&self, today: Date) -> Result<Vec<CommunityCare>> {
        let born_80 = today
            .checked_sub(jiff::Span::new().years(80))
            .unwrap_or(today)
            .to_string();
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT community, COUNT(*), SUM(CASE WHEN birth_date <= $1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN living_alone THEN 1 ELSE 0 END) FROM care_elders GROUP BY community",
        )
        .bind(born_80)
        .fetch_all(&self.read)
        .await?;
        let points: Vec<(String, i64)> = sqlx::query_as(
            "SELECT c.community, COUNT(*) FROM care_meal_point_communities c \
             JOIN care_meal_points p ON p.code = c.point WHERE p.active GROUP BY c.community",
        )
        .fetch_all(&self.read)
        .await?;
        let providers: Vec<(String, i64)> = sqlx::query_as(
            "SELECT c.community, COUNT(*) FROM care_provider_coverage c \
             JOIN care_providers p ON p.code = c.provider WHERE p.active GROUP BY c.community",
        )
        .fetch_all(&self.read)
        .await?;
        let mut by: std::collections::BTreeMap<String, CommunityCare> = Default::default();
        for (community, elders, e80, alone) in rows {
            let c = by.entry(community.clone()).or_default();
            c.community = community;
            (c.elders, c.elders_80, c.living_alone) = (elders, e80, alone);
        }
        for (community, n) in points {
            let c = by.entry(community.clone()).or_default();
            c.community = community;
            c.meal_points = n;
        }
        for (community, n) in providers {
            let c = by.entry(community.clone()).or_default();
            c.community = community;
            c.providers = n;
        }
        Ok(by.into_values().collect())
    }

    /// Requests received since `since` whose category starts with `prefix` (e.g. `elderly`),
    /// by community and category.
    pub async fn requests_by_community(
        &self,
        since: Timestamp,
        prefix: &str,
    ) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT community, category, COUNT(*) FROM requests WHERE received_at >= $1 \
             AND community IS NOT NULL AND category IS NOT NULL AND (category = $2 OR category LIKE $3) \
             GROUP BY community, category",
        )
        .bind(ms(since))
        .bind(prefix)
        .bind(format!("{prefix}.%"))
        .fetch_all(&self.read)
        .await?)
    }

    /// Cases of `kind` updated since `since`, counted by region and status.
    pub async fn cases_by_region(
        &self,
        kind: &str,
        since: Timestamp,
    ) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT region, status, COUNT(*) FROM cases WHERE kind = $1 AND updated_at >= $2 \
             AND region IS NOT NULL GROUP BY region, status",
        )
        .bind(kind)
        .bind(ms(since))
        .fetch_all(&self.read)
        .await?)
    }
}
