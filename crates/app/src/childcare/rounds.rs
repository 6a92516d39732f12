//! Allocation rounds: created with a seed announced first (a text anyone can hash with
//! `seed_from_text`), run dry as often as wanted, published once — and only when the program's
//! own check (`verify`) finds no violation. Publishing turns each child's outcome into a case
//! command (`outcome_command`): an offer with its reasons, or the waiting list with its
//! reasons. Freed places go to the waiting list at once (`refill`).

use super::institutions::taken;
use super::{all_applications, rules, system};
use crate::App;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{Capability, require};
use jiesu_domain::childcare::ChildcareApplication;
use jiesu_domain::childcare::allocation::{
    Market, Program, RoundResult, next_offers, programs_of, run_round, seed_from_text,
};
use jiesu_domain::childcare::application::{
    ApplicationCommand, ApplicationStatus, outcome_command,
};
use jiesu_domain::childcare::institution::check_code;
use jiesu_store::User;
use jiesu_store::childcare::{NewRound, Round, RoundStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The round code the waiting list's offers carry.
pub const WAITING_LIST: &str = "waiting_list";

#[derive(Debug, Clone, Deserialize)]
pub struct CreateRound {
    pub code: String,
    pub name: String,
    /// The announced text (e.g. the notary's draw); the seed is its FNV-1a 64.
    pub seed_text: String,
}

/// Creates a draft round; its seed is fixed (and published) from now on.
pub async fn create(app: &App, user: &User, r: &CreateRound) -> AppResult<Round> {
    require(user, Capability::ManageChildcare)?;
    check_code("code", &r.code)?;
    if r.code == WAITING_LIST {
        return Err(AppError::invalid("code", "duplicate", "reserved"));
    }
    let text = |field: &str, v: &str, max: usize| -> AppResult<()> {
        let n = v.trim().chars().count();
        if n == 0 {
            return Err(AppError::invalid(field, "required", "must not be empty"));
        }
        if n > max {
            return Err(AppError::invalid(
                field,
                "too_long",
                format!("at most {max} characters"),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(AppError::invalid(
                field,
                "control_characters",
                "contains control characters",
            ));
        }
        Ok(())
    };
    text("name", &r.name, 100)?;
    text("seed_text", &r.seed_text, 200)?;
    let n = NewRound {
        code: r.code.clone(),
        name: r.name.trim().to_string(),
        seed_text: r.seed_text.clone(),
        seed: seed_from_text(&r.seed_text),
        rules: rules(),
    };
    app.store
        .create_round(&n, &user.username, app.now())
        .await?;
    load(app, &r.code).await
}

async fn load(app: &App, code: &str) -> AppResult<Round> {
    app.store.round(code).await?.ok_or_else(AppError::not_found)
}

pub async fn list(app: &App, user: &User) -> AppResult<Vec<Round>> {
    require(user, Capability::ManageChildcare)?;
    Ok(app.store.rounds().await?)
}

pub async fn get(app: &App, user: &User, code: &str) -> AppResult<Round> {
    require(user, Capability::ManageChildcare)?;
    load(app, code).await
}

/// The round's market now: the verified applications (and those waiting from an earlier
/// round) over every institution's places less those held or offered.
async fn market(app: &App, round: &Round) -> AppResult<Market> {
    let insts: Vec<_> = app
        .store
        .institutions(None)
        .await?
        .into_iter()
        .map(|i| i.data)
        .collect();
    let programs = programs_of(&insts, &taken(app).await?);
    let ready = [ApplicationStatus::Verified, ApplicationStatus::Waiting].map(|s| s.as_str());
    let applicants = all_applications(app, &ready)
        .await?
        .iter()
        .map(|a| a.applicant())
        .collect();
    Ok(Market {
        programs,
        applicants,
        rules: round.data.rules.priority.clone(),
        seed: round.data.seed,
    })
}

/// One child's line of a round's report.
#[derive(Debug, Clone, Serialize)]
pub struct ChildLine {
    pub application: String,
    pub placed: Option<String>,
    pub choice: Option<usize>,
    pub lottery: u32,
    /// The outcome and its reasons as the parent reads them.
    pub reason_zh: String,
}

/// A round run (dry) or published.
#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    pub round: String,
    pub status: RoundStatus,
    pub seed_text: String,
    /// As text: a u64 does not survive every JSON reader.
    pub seed: String,
    pub dry_run: bool,
    pub applicants: usize,
    pub placed: usize,
    /// For a published round: re-running its stored market with its seed gave the identical
    /// result.
    pub reproduced: Option<bool>,
    pub children: Vec<ChildLine>,
    pub result: RoundResult,
}

fn report(round: &Round, result: RoundResult, dry: bool, reproduced: Option<bool>) -> RoundReport {
    let children = result
        .outcomes
        .iter()
        .map(|o| ChildLine {
            application: o.id.clone(),
            placed: o.placed.as_ref().map(|p| p.institution.clone()),
            choice: o.placed.as_ref().map(|p| p.choice),
            lottery: o.lottery,
            reason_zh: o.summary_zh(),
        })
        .collect();
    RoundReport {
        round: round.data.code.clone(),
        status: round.status,
        seed_text: round.data.seed_text.clone(),
        seed: round.data.seed.to_string(),
        dry_run: dry,
        applicants: result.outcomes.len(),
        placed: result.placed_count(),
        reproduced,
        children,
        result,
    }
}

/// Runs the round without storing anything. A published round is re-run from its stored
/// market and seed instead, and the report says whether the result is identical.
pub async fn run(app: &App, user: &User, code: &str) -> AppResult<RoundReport> {
    require(user, Capability::ManageChildcare)?;
    let round = load(app, code).await?;
    if round.status == RoundStatus::Published
        && let (Some(m), Some(stored)) = (&round.market, &round.result)
    {
        let again = run_round(m)?;
        let same = again == *stored;
        return Ok(report(&round, again, true, Some(same)));
    }
    let m = market(app, &round).await?;
    let result = run_round(&m)?;
    Ok(report(&round, result, true, None))
}

/// Publishes the round: refused while the checker finds a violation; then every child's
/// outcome becomes its application's offer or its place on the waiting list.
pub async fn publish(app: &App, user: &User, code: &str) -> AppResult<RoundReport> {
    require(user, Capability::ManageChildcare)?;
    let round = load(app, code).await?;
    if round.status == RoundStatus::Published {
        return Err(AppError::new(
            ErrorKind::Refused,
            "round_published",
            "the round is already published",
        ));
    }
    let m = market(app, &round).await?;
    let result = run_round(&m)?;
    if !result.violations.is_empty() {
        return Err(AppError::new(
            ErrorKind::Refused,
            "round_violations",
            format!(
                "the checker found {} violations; nothing was published",
                result.violations.len()
            ),
        ));
    }
    if !app
        .store
        .publish_round(code, &result, &m, &user.username, app.now())
        .await?
    {
        return Err(AppError::new(
            ErrorKind::Refused,
            "round_published",
            "the round is already published",
        ));
    }
    let sys = system();
    let days = round.data.rules.offer_days;
    for o in &result.outcomes {
        let Some(st) = app
            .store
            .case_by_code::<ChildcareApplication>(&o.id)
            .await?
        else {
            continue;
        };
        let st = app
            .store
            .act_case::<ChildcareApplication>(
                &app.dir,
                &sys,
                st.id,
                &ApplicationCommand::EnterRound {
                    round: code.to_string(),
                },
                app.now(),
            )
            .await?;
        app.store
            .act_case::<ChildcareApplication>(
                &app.dir,
                &sys,
                st.id,
                &outcome_command(o, code, days),
                app.now(),
            )
            .await?;
    }
    let round = load(app, code).await?;
    Ok(report(&round, result, false, None))
}

/// Offers every free place to the waiting list (declined, expired or withdrawn offers,
/// children who left, mid-year openings): deferred acceptance over the free places only, with
/// the last published round's lottery numbers. Returns the offers made.
pub async fn refill(app: &App) -> AppResult<Vec<String>> {
    let waiting = all_applications(app, &[ApplicationStatus::Waiting.as_str()]).await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let insts: Vec<_> = app
        .store
        .institutions(None)
        .await?
        .into_iter()
        .map(|i| i.data)
        .collect();
    let free: Vec<Program> = programs_of(&insts, &taken(app).await?)
        .into_iter()
        .filter(|p| p.capacity > 0)
        .collect();
    if free.is_empty() {
        return Ok(Vec::new());
    }
    let mut lottery = BTreeMap::new();
    if let Some(r) = app
        .store
        .rounds()
        .await?
        .into_iter()
        .find(|r| r.status == RoundStatus::Published)
        && let Some(res) = &r.result
    {
        for o in &res.outcomes {
            lottery.insert(o.id.clone(), o.lottery);
        }
    }
    let applicants: Vec<_> = waiting.iter().map(|a| a.applicant()).collect();
    let r = rules();
    let offers = next_offers(&r.priority, &free, &applicants, &lottery);
    let sys = system();
    let mut made = Vec::new();
    for o in offers {
        let Some(st) = waiting.iter().find(|a| a.code == o.applicant) else {
            continue;
        };
        let cmd = ApplicationCommand::Offer {
            round: WAITING_LIST.to_string(),
            institution: o.institution.clone(),
            band: o.band,
            choice: o.choice,
            priority: Some(o.priority),
            rejections: Vec::new(),
            accept_days: r.offer_days,
        };
        app.store
            .act_case::<ChildcareApplication>(&app.dir, &sys, st.id, &cmd, app.now())
            .await?;
        made.push(o.applicant);
    }
    Ok(made)
}

/// The offer clock: expires offers past their deadline (each exactly once, across servers and
/// restarts) and offers the freed places to the waiting list.
pub async fn sweep(app: &App) -> AppResult<jiesu_store::SweepReport> {
    let r = app
        .store
        .sweep_case_timers::<ChildcareApplication>(app.now())
        .await?;
    if r.escalations > 0 {
        refill(app).await?;
    }
    Ok(r)
}
