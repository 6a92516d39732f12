//! Applications: submitted by the 卫健委 desk or a 12345 operator on a family's behalf, or by
//! the family on the portal; verified from documents; answered (accept/decline) by the family;
//! enrolled and left by the institution. A declined, expired or withdrawn offer and a child who
//! leaves free a place, which goes to the waiting list at once (`rounds::refill`).

use super::{all_applications, by_code, rules, today};
use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::childcare::ChildcareApplication;
use jiesu_domain::childcare::allocation::Criterion;
use jiesu_domain::childcare::application::{
    ApplicationCommand, ApplicationState, ApplicationStatus, NewApplication, check_new,
};
use jiesu_domain::childcare::institution::Band;
use jiesu_domain::{Actor, Role};
use jiesu_store::User;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A guardian as the form gives them (sealed in the store; the case holds only the id).
#[derive(Debug, Clone, Deserialize)]
pub struct GuardianInput {
    pub name: String,
    pub phone: String,
}

/// What an application form carries.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplyRequest {
    /// The child's registry reference (never a name).
    pub child_ref: String,
    pub birth_date: Date,
    pub guardians: Vec<GuardianInput>,
    pub street: String,
    pub community: String,
    /// Institution codes, best first.
    pub choices: Vec<String>,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    pub sibling_enrolled_at: Option<String>,
    pub sibling_application: Option<String>,
    pub start_date: Date,
}

/// A new application's number: `TY` + local date + 6 unguessable characters.
fn application_code(app: &App) -> AppResult<String> {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).map_err(AppError::internal)?;
    let t = jiesu_domain::tracking::tracking_code(app.now(), b);
    Ok(format!("TY{}", &t[2..]))
}

fn check_guardians(g: &[GuardianInput]) -> AppResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, x) in g.iter().enumerate() {
        let name = x.name.trim();
        if name.is_empty() || name.chars().count() > 50 || name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                &format!("guardians[{i}].name"),
                "required",
                "the guardian's name, 1–50 characters",
            ));
        }
        let phone = jiesu_domain::intake::normalize_phone(&x.phone).ok_or_else(|| {
            AppError::invalid(
                &format!("guardians[{i}].phone"),
                "bad_phone",
                "not a Chinese phone number",
            )
        })?;
        out.push((name.to_string(), phone));
    }
    Ok(out)
}

async fn submit(app: &App, actor: &Actor, r: &ApplyRequest) -> AppResult<ApplicationState> {
    let guardians = check_guardians(&r.guardians)?;
    let mut offered = BTreeMap::new();
    for c in &r.choices {
        if offered.contains_key(c) {
            continue;
        }
        if let Some(i) = app.store.institution(c).await? {
            offered.insert(c.clone(), i.data.bands());
        }
    }
    let mut n = NewApplication {
        code: application_code(app)?,
        child_ref: r.child_ref.clone(),
        birth_date: r.birth_date,
        // Placeholders while checking: nothing is stored before the form passes.
        guardians: (0..guardians.len() as i64).collect(),
        street: r.street.clone(),
        community: r.community.clone(),
        choices: r.choices.clone(),
        offered_bands: offered,
        criteria: r.criteria.clone(),
        sibling_enrolled_at: r.sibling_enrolled_at.clone(),
        sibling_application: r.sibling_application.clone(),
        start_date: r.start_date,
        rules: rules(),
    };
    let ctx = jiesu_domain::Ctx {
        dir: &app.dir,
        now: app.now(),
    };
    check_new(&n, &ctx)?;
    let mut ids = Vec::new();
    for (name, phone) in &guardians {
        ids.push(app.store.add_guardian(name, phone, app.now()).await?);
    }
    n.guardians = ids;
    Ok(app
        .store
        .create_case::<ChildcareApplication>(&app.dir, actor, &n, app.now())
        .await?)
}

/// Staff submit an application: the 卫健委 desk as itself, a 12345 operator on the family's
/// behalf (acting as the family).
pub async fn apply(app: &App, user: &User, r: &ApplyRequest) -> AppResult<ApplicationState> {
    require(user, Capability::ApplyChildcare)?;
    let actor = if user.role == Role::HealthAdmin {
        user.actor()
    } else {
        Actor {
            user_id: Some(user.id),
            username: user.username.clone(),
            role: Role::Citizen,
            unit: None,
        }
    };
    submit(app, &actor, r).await
}

fn parent() -> Actor {
    Actor {
        user_id: None,
        username: "parent".into(),
        role: Role::Citizen,
        unit: None,
    }
}

/// The family applies on the portal.
pub async fn apply_on_portal(app: &App, r: &ApplyRequest) -> AppResult<ApplicationState> {
    submit(app, &parent(), r).await
}

/// The portal's proof: the application's number and one of its guardians' phones. Any
/// mismatch gets the same answer, so numbers cannot be probed.
pub async fn prove(app: &App, code: &str, phone: &str) -> AppResult<ApplicationState> {
    let no_match = || {
        AppError::invalid(
            "code",
            "application_not_matched",
            "no application with this number and phone",
        )
    };
    let phone = jiesu_domain::intake::normalize_phone(phone).ok_or_else(no_match)?;
    let st = app
        .store
        .case_by_code::<ChildcareApplication>(code)
        .await?
        .ok_or_else(no_match)?;
    if !app.store.guardian_has_phone(&st.guardians, &phone).await? {
        return Err(no_match());
    }
    Ok(st)
}

/// What the family and the desks read: the state with the outcome in words.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationView {
    #[serde(flatten)]
    pub state: ApplicationState,
    pub status_zh: &'static str,
    /// The offer and why the choices above it gave none, or why the round placed none.
    pub explanation_zh: String,
}

pub fn view(st: ApplicationState) -> ApplicationView {
    let mut s = String::new();
    if let Some(o) = &st.offer {
        s.push_str(&format!(
            "获得第{}志愿{}的{}学位，请在{}前确认。",
            o.choice,
            o.institution,
            o.band.label_zh(),
            jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8))
                .to_datetime(o.deadline)
                .strftime("%Y-%m-%d %H:%M")
        ));
        for r in &o.rejections {
            s.push_str(&r.reason_zh());
        }
    } else if st.status == ApplicationStatus::Waiting {
        s.push_str("本轮未获得学位，已进入候补名单。");
        for r in &st.rejections {
            s.push_str(&r.reason_zh());
        }
    }
    ApplicationView {
        status_zh: st.status.label_zh(),
        explanation_zh: s,
        state: st,
    }
}

/// A nursery sees the applications that chose it or are offered or hold a place there.
fn nursery_sees(user: &User, st: &ApplicationState) -> bool {
    match user.role {
        Role::Nursery => user
            .unit_code
            .as_deref()
            .is_some_and(|u| st.institution() == Some(u) || st.choices.iter().any(|c| c == u)),
        _ => true,
    }
}

/// One application by number (404 when the user may not see it).
pub async fn get(app: &App, user: &User, code: &str) -> AppResult<ApplicationView> {
    require(user, Capability::ReadChildcare)?;
    let st = by_code(app, code).await?;
    if !nursery_sees(user, &st) {
        return Err(AppError::not_found());
    }
    Ok(view(st))
}

/// A list's filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApplicationFilter {
    pub status: Option<String>,
    pub street: Option<String>,
    /// Chose, offered at or enrolled at this institution.
    pub institution: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Applications, by number, scoped to what the user may see.
pub async fn list(
    app: &App,
    user: &User,
    f: &ApplicationFilter,
) -> AppResult<crate::care::Paged<ApplicationView>> {
    require(user, Capability::ReadChildcare)?;
    let (limit, offset) = crate::care::page_args(f.limit, f.offset)?;
    let statuses: Vec<&str> = match &f.status {
        Some(s) => {
            let st: ApplicationStatus = s
                .parse()
                .map_err(|_| AppError::bad_query("status", "no such status"))?;
            vec![st.as_str()]
        }
        None => Vec::new(),
    };
    let all = all_applications(app, &statuses).await?;
    let hits: Vec<ApplicationState> = all
        .into_iter()
        .filter(|a| nursery_sees(user, a))
        .filter(|a| f.street.as_deref().is_none_or(|s| a.street == s))
        .filter(|a| {
            f.institution
                .as_deref()
                .is_none_or(|i| a.institution() == Some(i) || a.choices.iter().any(|c| c == i))
        })
        .collect();
    let total = hits.len() as i64;
    let items = hits
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(view)
        .collect();
    Ok(crate::care::Paged {
        items,
        total,
        limit,
        offset,
    })
}

async fn act(
    app: &App,
    actor: &Actor,
    st: &ApplicationState,
    cmd: &ApplicationCommand,
) -> AppResult<ApplicationState> {
    Ok(app
        .store
        .act_case::<ChildcareApplication>(&app.dir, actor, st.id, cmd, app.now())
        .await?)
}

/// What verifying confirms.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VerifyRequest {
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    pub sibling_enrolled_at: Option<String>,
}

/// The 卫健委 desk checked the documents.
pub async fn verify(
    app: &App,
    user: &User,
    code: &str,
    v: &VerifyRequest,
) -> AppResult<ApplicationView> {
    require(user, Capability::ManageChildcare)?;
    let st = by_code(app, code).await?;
    let cmd = ApplicationCommand::Verify {
        criteria: v.criteria.clone(),
        sibling_enrolled_at: v.sibling_enrolled_at.clone(),
    };
    Ok(view(act(app, &user.actor(), &st, &cmd).await?))
}

/// An answer to an offer, or a withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Accept,
    Decline,
    Withdraw,
}

async fn answer_as(
    app: &App,
    actor: &Actor,
    st: &ApplicationState,
    a: Answer,
) -> AppResult<ApplicationView> {
    let cmd = match a {
        Answer::Accept => ApplicationCommand::Accept,
        Answer::Decline => ApplicationCommand::Decline,
        Answer::Withdraw => ApplicationCommand::Withdraw,
    };
    let held = st.institution().is_some()
        && matches!(
            st.status,
            ApplicationStatus::Offered | ApplicationStatus::Accepted
        );
    let after = act(app, actor, st, &cmd).await?;
    if held && a != Answer::Accept {
        super::rounds::refill(app).await?;
    }
    Ok(view(after))
}

/// The 卫健委 desk answers for the family (a call to 12345, a visit).
pub async fn answer(app: &App, user: &User, code: &str, a: Answer) -> AppResult<ApplicationView> {
    require(user, Capability::ManageChildcare)?;
    let st = by_code(app, code).await?;
    answer_as(app, &user.actor(), &st, a).await
}

/// The family answers on the portal (number and phone proved).
pub async fn answer_on_portal(
    app: &App,
    code: &str,
    phone: &str,
    a: Answer,
) -> AppResult<ApplicationView> {
    let st = prove(app, code, phone).await?;
    answer_as(app, &parent(), &st, a).await
}

/// The first (enrol) or last (leave) day.
#[derive(Debug, Clone, Deserialize)]
pub struct DateRequest {
    pub date: Date,
}

/// The institution enrols the child (first day) once the family accepted; the band must have
/// room (a place beyond capacity is refused).
pub async fn enrol(app: &App, user: &User, code: &str, date: Date) -> AppResult<ApplicationView> {
    require(user, Capability::NurseryDesk)?;
    let st = by_code(app, code).await?;
    if !nursery_sees(user, &st) {
        return Err(AppError::not_found());
    }
    if let Some(i) = st.institution() {
        let inst = app
            .store
            .institution(i)
            .await?
            .ok_or_else(AppError::not_found)?;
        let enrolled = all_applications(app, &[ApplicationStatus::Enrolled.as_str()])
            .await?
            .iter()
            .filter(|a| a.institution() == Some(i) && a.band == st.band)
            .count() as u32;
        inst.data
            .check_room(st.band, enrolled)
            .map_err(|e| AppError::from(e).with_field("institution"))?;
    }
    let cmd = ApplicationCommand::Enrol { date };
    Ok(view(act(app, &user.actor(), &st, &cmd).await?))
}

/// The child leaves (last day enrolled); the freed place goes to the waiting list.
pub async fn leave(app: &App, user: &User, code: &str, date: Date) -> AppResult<ApplicationView> {
    require(user, Capability::NurseryDesk)?;
    let st = by_code(app, code).await?;
    if !nursery_sees(user, &st) {
        return Err(AppError::not_found());
    }
    let after = act(app, &user.actor(), &st, &ApplicationCommand::Leave { date }).await?;
    // The place is free from the day after: offer it now (the offer's child starts later).
    if date <= today(app) {
        super::rounds::refill(app).await?;
    }
    Ok(view(after))
}

/// The band the child belongs to (for the forms).
pub fn band_of(birth: Date, start: Date) -> Option<Band> {
    rules().bands.band_at(birth, start)
}
