//! 一键呼 tables (migration 0015): vendors, devices, transitions, faults, escalation chains.
//!
//! Mounted once per backend (see lib.rs); `use super::*` brings that backend's `DB`, `Pool`
//! and the helpers the sibling files share. Heartbeats never reach this file: only the
//! transitions they cause do.

use super::*;
use crate::alarms::{Device, DeviceQuery, Fault, Liveness, Transition, Vendor};
use jiesu_domain::alarms::Chain;
use jiesu_domain::alarms::device::{DeviceInput, DeviceStatus, FaultKind, VendorInput};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("devices: {e}"))
}

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(ts).transpose()
}

/// device, interval, online, installed on, last test call.
type LivenessRow = (String, i64, Option<bool>, String, Option<i64>);

const DEVICE_COLS: &str = "device_id, vendor, model, elder_id, street, community, installed_on, \
     room, network_id, heartbeat_secs, status, online, last_change_at, last_test_at, battery, \
     retired_at, created_at, updated_at";

fn device_from_row(r: &<DB as sqlx::Database>::Row) -> Result<Device> {
    Ok(Device {
        data: DeviceInput {
            device_id: r.try_get("device_id")?,
            vendor: r.try_get("vendor")?,
            model: r.try_get("model")?,
            elder_id: r.try_get("elder_id")?,
            installed_on: r
                .try_get::<String, _>("installed_on")?
                .parse()
                .map_err(corrupt)?,
            room: r.try_get("room")?,
            network_id: r.try_get("network_id")?,
            heartbeat_secs: r.try_get("heartbeat_secs")?,
        },
        street: r.try_get("street")?,
        community: r.try_get("community")?,
        status: r.try_get::<String, _>("status")?.parse().map_err(corrupt)?,
        online: r.try_get("online")?,
        last_change_at: opt_ts(r.try_get("last_change_at")?)?,
        last_test_at: opt_ts(r.try_get("last_test_at")?)?,
        battery: r.try_get("battery")?,
        retired_at: opt_ts(r.try_get("retired_at")?)?,
        created_at: ts(r.try_get("created_at")?)?,
        updated_at: ts(r.try_get("updated_at")?)?,
    })
}

impl Db {
    pub async fn create_vendor(&self, v: &VendorInput, secret: &str, now: Timestamp) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO device_vendors (code, name, secret, active, created_at) \
             VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&v.code)
        .bind(&v.name)
        .bind(secret)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Duplicate { field: "code" });
        }
        Ok(())
    }

    pub async fn vendors(&self) -> Result<Vec<Vendor>> {
        let rows: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT code, name, active, created_at FROM device_vendors ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(code, name, active, at)| {
                Ok(Vendor {
                    code,
                    name,
                    active,
                    created_at: ts(at)?,
                })
            })
            .collect()
    }

    pub async fn vendor_secret(&self, code: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT secret FROM device_vendors WHERE code = $1 AND active = TRUE",
        )
        .bind(code)
        .fetch_optional(&self.read)
        .await?)
    }

    pub async fn create_device(
        &self,
        d: &DeviceInput,
        street: &str,
        community: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.create_devices(
            &[(d.clone(), street.to_string(), community.to_string())],
            now,
        )
        .await
    }

    /// Many devices in one transaction (the demo's and the benchmark's fleets); the first id
    /// already taken refuses the whole batch.
    pub async fn create_devices(
        &self,
        items: &[(DeviceInput, String, String)],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = begin_write(&self.write).await?;
        for (d, street, community) in items {
            let r = sqlx::query(
                "INSERT INTO devices (device_id, vendor, model, elder_id, street, community, \
                 installed_on, room, network_id, heartbeat_secs, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
                 ON CONFLICT (device_id) DO NOTHING",
            )
            .bind(&d.device_id)
            .bind(&d.vendor)
            .bind(&d.model)
            .bind(d.elder_id)
            .bind(street)
            .bind(community)
            .bind(d.installed_on.to_string())
            .bind(&d.room)
            .bind(&d.network_id)
            .bind(d.heartbeat_secs)
            .bind(DeviceStatus::Active.as_str())
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 0 {
                return Err(StoreError::Duplicate { field: "device_id" });
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn retire_device(&self, device_id: &str, now: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE devices SET status = $1, retired_at = $2, updated_at = $2 \
             WHERE device_id = $3 AND status = $4",
        )
        .bind(DeviceStatus::Retired.as_str())
        .bind(ms(now))
        .bind(device_id)
        .bind(DeviceStatus::Active.as_str())
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn device(&self, device_id: &str) -> Result<Option<Device>> {
        let sql = format!("SELECT {DEVICE_COLS} FROM devices WHERE device_id = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(device_id)
            .fetch_optional(&self.read)
            .await?
            .map(|r| device_from_row(&r))
            .transpose()
    }

    pub async fn devices(&self, q: &DeviceQuery) -> Result<(Vec<Device>, i64)> {
        // Each filter is a bound parameter that is NULL when unused, so the text is constant.
        let filter = "($1 IS NULL OR street = $1) AND ($2 IS NULL OR elder_id = $2) \
             AND ($3 IS NULL OR vendor = $3) AND ($4 IS NULL OR status = $4) \
             AND ($5 IS NULL OR ($5 = 1 AND online = TRUE) \
                  OR ($5 = 0 AND (online IS NULL OR online = FALSE)))";
        let online = q.online.map(i64::from);
        let status = q.status.map(|s| s.as_str());
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM devices WHERE {filter}"
        )))
        .bind(q.street.as_deref())
        .bind(q.elder_id)
        .bind(q.vendor.as_deref())
        .bind(status)
        .bind(online)
        .fetch_one(&self.read)
        .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DEVICE_COLS} FROM devices WHERE {filter} ORDER BY device_id LIMIT $6 OFFSET $7"
        )))
        .bind(q.street.as_deref())
        .bind(q.elder_id)
        .bind(q.vendor.as_deref())
        .bind(status)
        .bind(online)
        .bind(i64::from(q.limit.clamp(1, 1000)))
        .bind(i64::from(q.offset))
        .fetch_all(&self.read)
        .await?;
        let list = rows.iter().map(device_from_row).collect::<Result<_>>()?;
        Ok((list, total))
    }

    pub async fn device_liveness(&self) -> Result<Vec<Liveness>> {
        let rows: Vec<LivenessRow> = sqlx::query_as(
            "SELECT device_id, heartbeat_secs, online, installed_on, last_test_at FROM devices \
             WHERE status = $1",
        )
        .bind(DeviceStatus::Active.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(device_id, heartbeat_secs, online, installed, test)| {
                let day: jiff::civil::Date = installed.parse().map_err(corrupt)?;
                Ok(Liveness {
                    device_id,
                    heartbeat_secs,
                    online,
                    installed_at: day
                        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                        .map_err(corrupt)?
                        .timestamp(),
                    last_test_at: opt_ts(test)?,
                })
            })
            .collect()
    }

    pub async fn device_transition(
        &self,
        device_id: &str,
        online: bool,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool> {
        let n = self
            .record_transitions(&[(device_id.to_string(), online, at, reason.to_string())])
            .await?;
        Ok(n == 1)
    }

    /// Transitions in one transaction, each written only if it changes the stored state, with
    /// the offline task opened (going offline) or closed (back online); how many were written.
    pub async fn record_transitions(
        &self,
        items: &[(String, bool, Timestamp, String)],
    ) -> Result<usize> {
        let mut tx = begin_write(&self.write).await?;
        let mut written = 0;
        for (device_id, online, at, reason) in items {
            let r = sqlx::query(
                "UPDATE devices SET online = $1, last_change_at = $2 \
                 WHERE device_id = $3 AND (online IS NULL OR online <> $1)",
            )
            .bind(*online)
            .bind(ms(*at))
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 0 {
                continue;
            }
            written += 1;
            sqlx::query(
                "INSERT INTO device_transitions (device_id, at, online, reason) VALUES ($1, $2, $3, $4)",
            )
            .bind(device_id)
            .bind(ms(*at))
            .bind(*online)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            if *online {
                sqlx::query(
                    "UPDATE device_faults SET closed_at = $1, closed_by = 'system' \
                     WHERE device_id = $2 AND kind = $3 AND closed_at IS NULL",
                )
                .bind(ms(*at))
                .bind(device_id)
                .bind(FaultKind::Offline.as_str())
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO device_faults (device_id, kind, detail, opened_at) \
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM device_faults \
                     WHERE device_id = $1 AND kind = $2 AND closed_at IS NULL)",
                )
                .bind(device_id)
                .bind(FaultKind::Offline.as_str())
                .bind(reason)
                .bind(ms(*at))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(written)
    }

    pub async fn transitions(&self, device_id: &str, limit: u32) -> Result<Vec<Transition>> {
        let rows: Vec<(String, i64, bool, String)> = sqlx::query_as(
            "SELECT device_id, at, online, reason FROM device_transitions WHERE device_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(device_id)
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(device_id, at, online, reason)| {
                Ok(Transition {
                    device_id,
                    at: ts(at)?,
                    online,
                    reason,
                })
            })
            .collect()
    }

    pub async fn record_test_call(&self, device_id: &str, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE devices SET last_test_at = $1 WHERE device_id = $2")
            .bind(ms(at))
            .bind(device_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn record_battery(&self, device_id: &str, pct: i64) -> Result<()> {
        sqlx::query("UPDATE devices SET battery = $1 WHERE device_id = $2")
            .bind(pct)
            .bind(device_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn open_fault(
        &self,
        device_id: &str,
        kind: FaultKind,
        detail: &str,
        at: Timestamp,
    ) -> Result<bool> {
        // The partial unique index keeps one open task per kind; a second opener adds nothing.
        let r = sqlx::query(
            "INSERT INTO device_faults (device_id, kind, detail, opened_at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS \
             (SELECT 1 FROM device_faults WHERE device_id = $1 AND kind = $2 AND closed_at IS NULL)",
        )
        .bind(device_id)
        .bind(kind.as_str())
        .bind(detail)
        .bind(ms(at))
        .execute(&self.write)
        .await;
        match r {
            Ok(r) => Ok(r.rows_affected() == 1),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn close_fault(
        &self,
        device_id: &str,
        kind: FaultKind,
        by: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE device_faults SET closed_at = $1, closed_by = $2 \
             WHERE device_id = $3 AND kind = $4 AND closed_at IS NULL",
        )
        .bind(ms(at))
        .bind(by)
        .bind(device_id)
        .bind(kind.as_str())
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn faults(
        &self,
        street: Option<&str>,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Fault>> {
        type Row = (
            i64,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<String>,
            String,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT f.id, f.device_id, f.kind, f.detail, f.opened_at, f.closed_at, f.closed_by, \
             d.street, d.elder_id FROM device_faults f JOIN devices d ON d.device_id = f.device_id \
             WHERE ($1 IS NULL OR d.street = $1) AND ($2 = 0 OR f.closed_at IS NULL) \
             ORDER BY f.opened_at DESC, f.id DESC LIMIT $3",
        )
        .bind(street)
        .bind(i64::from(open_only))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(
                |(id, device_id, kind, detail, opened, closed, closed_by, street, elder_id)| {
                    Ok(Fault {
                        id,
                        device_id,
                        kind: kind.parse().map_err(corrupt)?,
                        detail,
                        opened_at: ts(opened)?,
                        closed_at: opt_ts(closed)?,
                        closed_by,
                        street,
                        elder_id,
                    })
                },
            )
            .collect()
    }

    pub async fn save_chain(
        &self,
        street: &str,
        chain: &Chain,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO alarm_chains (street, chain, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (street) DO UPDATE SET chain = $2, updated_at = $3, updated_by = $4",
        )
        .bind(street)
        .bind(to_json(chain)?)
        .bind(ms(now))
        .bind(by)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn chain(&self, street: &str) -> Result<Option<Chain>> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT chain FROM alarm_chains WHERE street = $1")
                .bind(street)
                .fetch_optional(&self.read)
                .await?;
        v.map(|s| from_json(&s)).transpose()
    }

    pub async fn chains(&self) -> Result<Vec<(String, Chain)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT street, chain FROM alarm_chains ORDER BY street")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|(s, c)| Ok((s, from_json(&c)?)))
            .collect()
    }
}
