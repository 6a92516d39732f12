//! The elder registry: register, edit, find, view (masked or audited), assessments.

use super::{Paged, page_args, today};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Role;
use jiesu_domain::care::ability::{AssessmentInput, Grade, grade};
use jiesu_domain::care::person::{
    ElderInput, FamilyContact, age_on, mask_id_number, mask_name, validate_elder,
};
use jiesu_store::User;
use jiesu_store::care::{Assessment, Elder, ElderQuery};
use serde::Serialize;

/// An elder as a person may see them: identities masked unless `masked` is false.
#[derive(Debug, Clone, Serialize)]
pub struct ElderView {
    pub id: i64,
    pub masked: bool,
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub birth_date: jiff::civil::Date,
    pub age: i32,
    pub street: String,
    pub street_name: String,
    pub community: String,
    pub community_name: String,
    pub address: String,
    pub living_alone: bool,
    pub basic_service_object: bool,
    pub subsidies: Vec<String>,
    pub family: Vec<FamilyContact>,
    pub care_manager: Option<String>,
    /// Only for roles that see identities.
    pub medical_notes: Option<String>,
    pub consent: Option<jiesu_domain::care::person::Consent>,
    /// The latest assessment's grade.
    pub grade: Option<Grade>,
}

fn mask_phone(p: &str) -> String {
    jiesu_domain::intake::mask_phone(p)
}

/// Whether `user` may see this elder's identity: the 民政 office, the elder's care manager or
/// one of their street; a provider only through an order assigned to it (see `orders`).
pub(crate) fn sees_identity(user: &User, e: &Elder) -> bool {
    match user.role {
        Role::CareAdmin => true,
        Role::CareManager => {
            user.unit_code.as_deref() == Some(e.data.street.as_str())
                || e.data.care_manager.as_deref() == Some(user.username.as_str())
        }
        _ => false,
    }
}

pub(crate) fn view(app: &App, e: &Elder, masked: bool, grade: Option<Grade>) -> ElderView {
    let d = &e.data;
    let name_of = |code: &str, f: &dyn Fn(&str) -> Option<String>| f(code).unwrap_or_default();
    ElderView {
        id: e.id,
        masked,
        name: if masked {
            mask_name(&d.name)
        } else {
            d.name.clone()
        },
        id_number: if masked {
            mask_id_number(&d.id_number)
        } else {
            d.id_number.clone()
        },
        phone: d
            .phone
            .as_ref()
            .map(|p| if masked { mask_phone(p) } else { p.clone() }),
        birth_date: d.birth_date,
        age: age_on(d.birth_date, today(app)),
        street: d.street.clone(),
        street_name: name_of(&d.street, &|c| app.dir.street(c).map(|s| s.name.clone())),
        community: d.community.clone(),
        community_name: name_of(&d.community, &|c| {
            app.dir.community(c).map(|s| s.name.clone())
        }),
        address: if masked {
            "（已隐藏）".into()
        } else {
            d.address.clone()
        },
        living_alone: d.living_alone,
        basic_service_object: d.basic_service_object,
        subsidies: d.subsidies.clone(),
        family: d
            .family
            .iter()
            .map(|f| FamilyContact {
                name: if masked {
                    mask_name(&f.name)
                } else {
                    f.name.clone()
                },
                relation: f.relation.clone(),
                phone: if masked {
                    mask_phone(&f.phone)
                } else {
                    f.phone.clone()
                },
            })
            .collect(),
        care_manager: d.care_manager.clone(),
        medical_notes: (!masked).then(|| d.medical_notes.clone()),
        consent: d.consent.clone(),
        grade,
    }
}

/// Checks a registration against the rules and the directory; returns it normalised.
async fn checked(app: &App, e: &ElderInput) -> AppResult<ElderInput> {
    let out = normalized(app, e, today(app))?;
    if let Some(cm) = &e.care_manager {
        let ok = app
            .store
            .user_by_username(cm)
            .await?
            .is_some_and(|u| u.role == Role::CareManager && !u.disabled);
        if !ok {
            return Err(AppError::invalid(
                "care_manager",
                "unknown_care_manager",
                "no active 照护管理师 with this username",
            ));
        }
    }
    Ok(out)
}

/// The domain's rules on `today` and the directory (the community in the street), and the
/// record normalised (phones, the ID number upper-cased): what every registration passes,
/// one by one at the desk or in bulk from the console.
pub(crate) fn normalized(
    app: &App,
    e: &ElderInput,
    today: jiff::civil::Date,
) -> AppResult<ElderInput> {
    let phone = validate_elder(e, today)?;
    match app.dir.community(&e.community) {
        None => {
            return Err(AppError::invalid(
                "community",
                "unknown_community",
                "no such community",
            ));
        }
        Some(c) if c.street_code != e.street => {
            return Err(AppError::invalid(
                "community",
                "community_not_in_street",
                "the community is not in this street",
            ));
        }
        Some(_) => {}
    }
    let mut out = e.clone();
    out.phone = phone;
    out.name = e.name.trim().to_string();
    out.id_number = e.id_number.trim().to_uppercase();
    for f in &mut out.family {
        if let Some(p) = jiesu_domain::intake::normalize_phone(&f.phone) {
            f.phone = p;
        }
    }
    Ok(out)
}

/// A care manager works in their street only.
fn require_street(user: &User, street: &str) -> AppResult<()> {
    if user.role == Role::CareManager && user.unit_code.as_deref() != Some(street) {
        return Err(AppError::forbidden(
            "a 照护管理师 registers and edits elders of their own street only",
        ));
    }
    Ok(())
}

pub async fn register(app: &App, user: &User, e: &ElderInput) -> AppResult<i64> {
    require(user, Capability::ManageElders)?;
    let e = checked(app, e).await?;
    require_street(user, &e.street)?;
    let id = app.store.create_elder(&e, app.now()).await?;
    crate::accounts::audit(app, user, "register_elder", "elder", id.to_string(), None).await?;
    Ok(id)
}

pub async fn update(app: &App, user: &User, id: i64, e: &ElderInput) -> AppResult<()> {
    require(user, Capability::ManageElders)?;
    let old = app.store.elder(id).await?.ok_or_else(AppError::not_found)?;
    require_street(user, &old.data.street)?;
    let e = checked(app, e).await?;
    require_street(user, &e.street)?;
    app.store.update_elder(id, &e, app.now()).await?;
    crate::accounts::audit(app, user, "update_elder", "elder", id.to_string(), None).await?;
    Ok(())
}

async fn latest_grade(app: &App, id: i64) -> AppResult<Option<Grade>> {
    Ok(app
        .store
        .assessments(id)
        .await?
        .first()
        .map(|a| a.result.grade))
}

/// One elder: unmasked (and audited) for roles that see identities, masked for the others.
pub async fn get(app: &App, user: &User, id: i64) -> AppResult<ElderView> {
    require(user, Capability::ReadElders)?;
    let e = app.store.elder(id).await?.ok_or_else(AppError::not_found)?;
    let unmasked = sees_identity(user, &e);
    if unmasked {
        crate::accounts::audit(app, user, "view_elder", "elder", id.to_string(), None).await?;
    }
    Ok(view(app, &e, !unmasked, latest_grade(app, id).await?))
}

/// The record behind an elder, for use cases that need it (no capability check: callers have
/// made theirs).
pub(crate) async fn load(app: &App, id: i64) -> AppResult<Elder> {
    app.store.elder(id).await?.ok_or_else(|| {
        AppError::invalid("elder_id", "unknown_elder", "no such elder in the registry")
    })
}

/// Finds elders by an exact ID number or phone (blind indexes; the lookup is audited), shown
/// masked unless the role sees identities.
pub async fn find(app: &App, user: &User, q: &str) -> AppResult<Vec<ElderView>> {
    require(user, Capability::ReadElders)?;
    let q = q.trim();
    let found: Vec<Elder> = if q.chars().count() == 18 {
        jiesu_domain::care::person::parse_id_number("q", q)?;
        app.store.elder_by_id_number(q).await?.into_iter().collect()
    } else if jiesu_domain::tracking::looks_like_phone(q) {
        app.store.elders_by_phone(q).await?
    } else {
        return Err(AppError::bad_query(
            "q",
            "an 18-character ID number or a phone number",
        ));
    };
    crate::accounts::audit(
        app,
        user,
        "find_elder",
        "elder",
        found
            .iter()
            .map(|e| e.id.to_string())
            .collect::<Vec<_>>()
            .join(","),
        None,
    )
    .await?;
    let mut out = Vec::new();
    for e in &found {
        out.push(view(
            app,
            e,
            !sees_identity(user, e),
            latest_grade(app, e.id).await?,
        ));
    }
    Ok(out)
}

/// The registry list, masked (a list is for finding; the detail is the view).
pub async fn list(
    app: &App,
    user: &User,
    street: Option<String>,
    community: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
) -> AppResult<Paged<ElderView>> {
    require(user, Capability::ManageElders)?;
    let (limit, offset) = page_args(limit, offset)?;
    // A care manager lists their street only.
    let street = if user.role == Role::CareManager {
        user.unit_code.clone()
    } else {
        street
    };
    let (items, total) = app
        .store
        .elders(&ElderQuery {
            street,
            community,
            care_manager: None,
            limit,
            offset,
        })
        .await?;
    Ok(Paged {
        items: items.iter().map(|e| view(app, e, true, None)).collect(),
        total,
        limit,
        offset,
    })
}

/// Records a capacity assessment; the grade is derived from the scores.
pub async fn assess(
    app: &App,
    user: &User,
    elder_id: i64,
    a: &AssessmentInput,
) -> AppResult<Assessment> {
    require(user, Capability::ManageElders)?;
    let e = load(app, elder_id).await?;
    require_street(user, &e.data.street)?;
    let res = grade(a, today(app))?;
    let now = app.now();
    let id = app
        .store
        .add_assessment(elder_id, a, &res, &user.username, now)
        .await?;
    crate::accounts::audit(
        app,
        user,
        "assess_elder",
        "elder",
        elder_id.to_string(),
        Some(format!("assessment {id}: {} ({})", res.total, res.grade)),
    )
    .await?;
    Ok(Assessment {
        id,
        elder_id,
        input: a.clone(),
        result: res,
        recorded_by: user.username.clone(),
        recorded_at: now,
    })
}

/// An elder's assessment history, newest first.
pub async fn assessments(app: &App, user: &User, elder_id: i64) -> AppResult<Vec<Assessment>> {
    require(user, Capability::ManageElders)?;
    let e = app
        .store
        .elder(elder_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !sees_identity(user, &e) {
        return Err(AppError::not_found());
    }
    Ok(app.store.assessments(elder_id).await?)
}
