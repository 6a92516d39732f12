//! Institutions and their places, edited by the 卫健委 desk: every class checked against its
//! band's size and staffing limits (refused naming the field), never fewer places than the
//! children enrolled; places per street against the applications waiting there.

use super::{all_applications, rules};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Role;
use jiesu_domain::childcare::application::ApplicationStatus;
use jiesu_domain::childcare::institution::{Band, Institution};
use jiesu_store::User;
use jiesu_store::childcare::StoredInstitution;
use serde::Serialize;
use std::collections::BTreeMap;

/// Children holding or offered a place, per institution and band.
pub(crate) async fn taken(app: &App) -> AppResult<BTreeMap<(String, Band), u32>> {
    use ApplicationStatus as S;
    let held = [S::Offered, S::Accepted, S::Enrolled].map(|s| s.as_str());
    let mut out = BTreeMap::new();
    for a in all_applications(app, &held).await? {
        if let Some(i) = a.institution() {
            *out.entry((i.to_string(), a.band)).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Creates or replaces an institution (卫健委 desk).
pub async fn save(app: &App, user: &User, i: &Institution) -> AppResult<StoredInstitution> {
    require(user, Capability::ManageChildcare)?;
    i.check(&rules().bands, &app.dir)?;
    let enrolled: BTreeMap<Band, u32> = taken(app)
        .await?
        .into_iter()
        .filter(|((code, _), _)| *code == i.code)
        .map(|((_, b), n)| (b, n))
        .collect();
    i.check_covers(&enrolled)?;
    app.store.save_institution(i, app.now()).await?;
    app.store
        .institution(&i.code)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Every institution (of a street when given).
pub async fn list(
    app: &App,
    user: &User,
    street: Option<&str>,
) -> AppResult<Vec<StoredInstitution>> {
    require(user, Capability::ReadChildcare)?;
    if let Some(s) = street
        && app.dir.street(s).is_none()
    {
        return Err(AppError::bad_query("street", "no such street"));
    }
    Ok(app.store.institutions(street).await?)
}

/// One institution; a nursery reads only its own (404 otherwise).
pub async fn get(app: &App, user: &User, code: &str) -> AppResult<StoredInstitution> {
    require(user, Capability::ReadChildcare)?;
    if user.role == Role::Nursery && user.unit_code.as_deref() != Some(code) {
        return Err(AppError::not_found());
    }
    app.store
        .institution(code)
        .await?
        .ok_or_else(AppError::not_found)
}

/// One street's places against its applications.
#[derive(Debug, Clone, Serialize)]
pub struct StreetPlaces {
    pub street: String,
    pub street_name: String,
    pub institutions: u32,
    pub places: u32,
    pub puhui_places: u32,
    pub community_point_places: u32,
    /// Children holding or offered a place there.
    pub taken: u32,
    /// Applications from the street not (yet) placed: submitted, verified, in a round, waiting.
    pub unplaced_applications: u32,
    /// `unplaced_applications − (places − taken)` when positive: where places are missing.
    pub shortfall: u32,
}

/// Places per street (every street of the district, streets without institutions too).
pub async fn places_by_street(app: &App, user: &User) -> AppResult<Vec<StreetPlaces>> {
    require(user, Capability::ReadChildcare)?;
    use ApplicationStatus as S;
    let insts = app.store.institutions(None).await?;
    let taken = taken(app).await?;
    let unplaced = [S::Submitted, S::Verified, S::InRound, S::Waiting].map(|s| s.as_str());
    let apps = all_applications(app, &unplaced).await?;
    let mut out = Vec::new();
    for s in &app.dir.world.streets {
        let mut row = StreetPlaces {
            street: s.code.clone(),
            street_name: s.name.clone(),
            institutions: 0,
            places: 0,
            puhui_places: 0,
            community_point_places: 0,
            taken: 0,
            unplaced_applications: 0,
            shortfall: 0,
        };
        for i in insts.iter().filter(|i| i.data.street == s.code) {
            let p: u32 = i.data.places().values().sum();
            row.institutions += 1;
            row.places += p;
            if i.data.is_puhui() {
                row.puhui_places += p;
            }
            if i.data.community_point {
                row.community_point_places += p;
            }
            row.taken += taken
                .iter()
                .filter(|((c, _), _)| *c == i.data.code)
                .map(|(_, n)| *n)
                .sum::<u32>();
        }
        row.unplaced_applications = apps.iter().filter(|a| a.street == s.code).count() as u32;
        let free = row.places.saturating_sub(row.taken);
        row.shortfall = row.unplaced_applications.saturating_sub(free);
        out.push(row);
    }
    Ok(out)
}
