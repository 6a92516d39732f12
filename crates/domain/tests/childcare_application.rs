//! The childcare application as a case: every bad input named with its field and code, the
//! whole lifecycle from a round's outcome to leaving, the offer clock firing once, and who may
//! act.

use jiesu_domain::case::{CaseKind, stamp};
use jiesu_domain::childcare::allocation::{Criterion, Market, Program, run_round};
use jiesu_domain::childcare::application::*;
use jiesu_domain::childcare::institution::Band;
use jiesu_domain::{Actor, Ctx, Directory, DomainError, Role};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::sync::LazyLock;

static DIR: LazyLock<Directory> = LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    match jiesu_world::load_dir(&path) {
        Ok(w) => Directory::new(w),
        Err(e) => panic!("world: {e}"),
    }
});

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: Some(1),
        username: format!("{role}"),
        role,
        unit: unit.map(str::to_string),
    }
}

fn parent() -> Actor {
    actor(Role::Citizen, None)
}
fn admin() -> Actor {
    actor(Role::HealthAdmin, None)
}

/// 2026-06-01 10:00 in Beijing, plus `hours`.
fn t(hours: i64) -> Timestamp {
    "2026-06-01T02:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_hours(hours)
}

fn new_app() -> NewApplication {
    let bands = |b: &[Band]| b.to_vec();
    NewApplication {
        code: "TY2026000001".into(),
        child_ref: "child:981".into(),
        // 17 full months on 2026-09-01: 托小班.
        birth_date: date(2025, 3, 10),
        guardians: vec![41, 42],
        street: "110102001".into(),
        community: "110102001001".into(),
        choices: vec!["XC-TY-01".into(), "XC-TY-02".into()],
        offered_bands: BTreeMap::from([
            ("XC-TY-01".to_string(), bands(&[Band::Toddler, Band::Older])),
            (
                "XC-TY-02".to_string(),
                bands(&[Band::Infant, Band::Toddler]),
            ),
            ("XC-TY-03".to_string(), bands(&[Band::Older])),
            ("XC-TY-04".to_string(), bands(&[Band::Toddler])),
        ]),
        criteria: vec![Criterion::BothWorking, Criterion::Dibao],
        sibling_enrolled_at: None,
        sibling_application: None,
        start_date: date(2026, 9, 1),
        rules: ChildcareRules::default(),
    }
}

fn create(n: &NewApplication, a: &Actor) -> Result<ApplicationState, DomainError> {
    let now = t(0);
    let mut st = ChildcareApplication::initial(1, now);
    let d = ChildcareApplication::create(n, a, &Ctx { dir: &DIR, now })?;
    stamp::<ChildcareApplication>(&mut st, d, a, now);
    Ok(st)
}

fn act(
    st: &mut ApplicationState,
    a: &Actor,
    cmd: ApplicationCommand,
    now: Timestamp,
) -> Result<(), DomainError> {
    let d = ChildcareApplication::decide(st, a, &cmd, &Ctx { dir: &DIR, now })?;
    stamp::<ChildcareApplication>(st, d, a, now);
    Ok(())
}

fn field_code(r: Result<ApplicationState, DomainError>) -> (String, &'static str) {
    match r {
        Err(DomainError::Invalid { field, code, .. }) => (field, code),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn a_good_application_is_submitted_with_its_band() {
    let st = create(&new_app(), &parent()).unwrap();
    assert_eq!(st.status, ApplicationStatus::Submitted);
    assert_eq!(st.band, Band::Toddler);
    assert_eq!(st.version, 1);
    let ix = ChildcareApplication::index(&st);
    assert_eq!(ix.code.as_deref(), Some("TY2026000001"));
    assert_eq!(ix.region.as_deref(), Some("110102001"));
    assert_eq!(ix.owner, None);
}

/// A change to a good application.
type Edit = Box<dyn Fn(&mut NewApplication)>;

#[test]
fn every_bad_input_names_its_field() {
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "birth in the future",
            Box::new(|n| n.birth_date = date(2026, 6, 2)),
            "birth_date",
            "birth_date_in_future",
        ),
        (
            "outside the band of every choice",
            Box::new(|n| n.choices = vec!["XC-TY-03".into()]),
            "choices",
            "band_not_offered",
        ),
        (
            "one choice without the band",
            Box::new(|n| n.choices = vec!["XC-TY-01".into(), "XC-TY-03".into()]),
            "choices[1]",
            "band_not_offered",
        ),
        (
            "a choice repeated",
            Box::new(|n| n.choices = vec!["XC-TY-01".into(), "XC-TY-02".into(), "XC-TY-01".into()]),
            "choices[2]",
            "duplicate_choice",
        ),
        (
            "more choices than allowed",
            Box::new(|n| {
                n.rules.max_choices = 3;
                n.choices = vec![
                    "XC-TY-01".into(),
                    "XC-TY-02".into(),
                    "XC-TY-04".into(),
                    "XC-TY-05".into(),
                ];
            }),
            "choices",
            "too_many",
        ),
        (
            "an unknown institution",
            Box::new(|n| n.choices = vec!["XC-TY-01".into(), "XC-TY-99".into()]),
            "choices[1]",
            "unknown_institution",
        ),
        (
            "no choice",
            Box::new(|n| n.choices.clear()),
            "choices",
            "required",
        ),
        (
            "too young at the start",
            Box::new(|n| n.birth_date = date(2026, 4, 1)),
            "start_date",
            "age_outside_bands",
        ),
        (
            "too old at the start",
            Box::new(|n| n.birth_date = date(2023, 9, 1)),
            "start_date",
            "age_outside_bands",
        ),
        (
            "start in the past",
            Box::new(|n| n.start_date = date(2026, 5, 31)),
            "start_date",
            "date_in_past",
        ),
        (
            "start too far ahead",
            Box::new(|n| n.start_date = date(2027, 9, 1)),
            "start_date",
            "date_out_of_range",
        ),
        (
            "no guardian",
            Box::new(|n| n.guardians.clear()),
            "guardians",
            "required",
        ),
        (
            "community of another street",
            Box::new(|n| n.street = "110102003".into()),
            "community",
            "community_not_in_street",
        ),
        (
            "unknown street",
            Box::new(|n| n.street = "999".into()),
            "street",
            "unknown_street",
        ),
        (
            "no child reference",
            Box::new(|n| n.child_ref = " ".into()),
            "child_ref",
            "required",
        ),
        (
            "own sibling",
            Box::new(|n| n.sibling_application = Some(n.code.clone())),
            "sibling_application",
            "invalid",
        ),
    ];
    for (what, f, field, code) in cases {
        let mut n = new_app();
        f(&mut n);
        assert_eq!(
            field_code(create(&n, &parent())),
            (field.to_string(), code),
            "{what}"
        );
    }
    // The boundary: born today is not in the future (but too young for any band).
    let mut n = new_app();
    n.birth_date = date(2026, 6, 1);
    assert_eq!(field_code(create(&n, &parent())).0, "start_date");
}

#[test]
fn only_parents_and_the_desk_apply() {
    let e = create(&new_app(), &actor(Role::Operator, None)).unwrap_err();
    assert_eq!(e.code(), "forbidden_role");
    assert!(create(&new_app(), &admin()).is_ok());
}

/// Verified and in a round; then the round's real outcome offers the place.
fn offered() -> ApplicationState {
    let mut st = create(&new_app(), &parent()).unwrap();
    // Staff may confirm only what was claimed.
    let e = act(
        &mut st,
        &admin(),
        ApplicationCommand::Verify {
            criteria: vec![Criterion::Disability],
            sibling_enrolled_at: None,
        },
        t(1),
    )
    .unwrap_err();
    assert_eq!(e.code(), "criterion_not_claimed");
    act(
        &mut st,
        &admin(),
        ApplicationCommand::Verify {
            criteria: vec![Criterion::BothWorking],
            sibling_enrolled_at: None,
        },
        t(1),
    )
    .unwrap();
    assert_eq!(st.criteria, vec![Criterion::BothWorking]);
    act(
        &mut st,
        &Actor::system(),
        ApplicationCommand::EnterRound {
            round: "R2026-1".into(),
        },
        t(2),
    )
    .unwrap();
    assert_eq!(st.status, ApplicationStatus::InRound);
    // First choice full with a higher-priority child, second has a place.
    let other = jiesu_domain::childcare::allocation::Applicant {
        id: "TY2026000002".into(),
        criteria: vec![Criterion::Dibao],
        ..st.applicant()
    };
    let program = |inst: &str, cap| Program {
        institution: inst.into(),
        street: "110102001".into(),
        band: Band::Toddler,
        capacity: cap,
    };
    let m = Market {
        programs: vec![program("XC-TY-01", 1), program("XC-TY-02", 1)],
        applicants: vec![st.applicant(), other],
        rules: Default::default(),
        seed: 11,
    };
    let r = run_round(&m).unwrap();
    assert!(r.violations.is_empty());
    let o = r.outcome("TY2026000001").unwrap();
    act(
        &mut st,
        &Actor::system(),
        outcome_command(o, "R2026-1", 7),
        t(3),
    )
    .unwrap();
    st
}

#[test]
fn the_round_offers_with_its_reasons_and_the_family_accepts() {
    let mut st = offered();
    assert_eq!(st.status, ApplicationStatus::Offered);
    let offer = st.offer.clone().unwrap();
    assert_eq!((offer.institution.as_str(), offer.choice), ("XC-TY-02", 2));
    assert_eq!(offer.deadline, t(3 + 7 * 24));
    assert_eq!(offer.rejections.len(), 1);
    assert!(offer.rejections[0].reason_zh().contains("优先级更高"));
    assert_eq!(
        ChildcareApplication::index(&st).owner.as_deref(),
        Some("XC-TY-02")
    );
    assert_eq!(ChildcareApplication::next_timer(&st), Some(t(171)));
    act(&mut st, &parent(), ApplicationCommand::Accept, t(100)).unwrap();
    assert_eq!(st.status, ApplicationStatus::Accepted);
    assert_eq!(ChildcareApplication::next_timer(&st), None);
    // Another institution's staff cannot enrol the child, nor see it.
    let other = actor(Role::Nursery, Some("XC-TY-01"));
    assert!(!ChildcareApplication::can_see(&other, &st));
    let e = act(
        &mut st,
        &other,
        ApplicationCommand::Enrol {
            date: date(2026, 6, 5),
        },
        t(100),
    )
    .unwrap_err();
    assert_eq!(e.code(), "forbidden_role");
    let staff = actor(Role::Nursery, Some("XC-TY-02"));
    assert!(ChildcareApplication::can_see(&staff, &st));
    // Not in the future.
    let e = act(
        &mut st,
        &staff,
        ApplicationCommand::Enrol {
            date: date(2026, 6, 30),
        },
        t(100),
    )
    .unwrap_err();
    assert_eq!(e.code(), "date_in_future");
    act(
        &mut st,
        &staff,
        ApplicationCommand::Enrol {
            date: date(2026, 6, 5),
        },
        t(100),
    )
    .unwrap();
    assert_eq!(st.status, ApplicationStatus::Enrolled);
    // Withdrawal is not how an enrolled child leaves.
    let e = act(&mut st, &parent(), ApplicationCommand::Withdraw, t(101)).unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    let e = act(
        &mut st,
        &staff,
        ApplicationCommand::Leave {
            date: date(2026, 6, 4),
        },
        t(101),
    )
    .unwrap_err();
    match e {
        DomainError::Invalid { field, code, .. } => {
            assert_eq!((field.as_str(), code), ("date", "bad_range"))
        }
        other => panic!("{other:?}"),
    }
    act(
        &mut st,
        &staff,
        ApplicationCommand::Leave {
            date: date(2026, 6, 6),
        },
        t(200),
    )
    .unwrap();
    assert_eq!(st.status, ApplicationStatus::Left);
    let spell = jiesu_domain::childcare::subsidy::EnrolmentSpell::of(&st).unwrap();
    assert_eq!(
        (spell.from, spell.to),
        (date(2026, 6, 5), Some(date(2026, 6, 6)))
    );
}

#[test]
fn the_offer_clock_fires_once() {
    let mut st = offered();
    let deadline = ChildcareApplication::next_timer(&st).unwrap();
    // Nothing before the deadline.
    assert!(
        ChildcareApplication::fire_timers(&st, deadline - SignedDuration::from_secs(1)).is_empty()
    );
    // A sweep at (or after) the deadline expires the offer...
    let due = ChildcareApplication::fire_timers(&st, deadline + SignedDuration::from_hours(5));
    assert_eq!(due.len(), 1);
    stamp::<ChildcareApplication>(&mut st, due, &Actor::system(), deadline);
    assert_eq!(st.status, ApplicationStatus::Expired);
    // ...and moves the timer away, so a second sweep (another server, a restart, a replay of
    // the stored state) finds nothing.
    assert_eq!(ChildcareApplication::next_timer(&st), None);
    let replayed: ApplicationState =
        serde_json::from_str(&serde_json::to_string(&st).unwrap()).unwrap();
    assert!(
        ChildcareApplication::fire_timers(&replayed, deadline + SignedDuration::from_hours(48))
            .is_empty()
    );
    // Too late to accept.
    let e = act(&mut st, &parent(), ApplicationCommand::Accept, deadline).unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
}

#[test]
fn accepting_after_the_deadline_before_the_sweep_is_refused() {
    let mut st = offered();
    let deadline = ChildcareApplication::next_timer(&st).unwrap();
    let e = act(
        &mut st,
        &parent(),
        ApplicationCommand::Accept,
        deadline + SignedDuration::from_secs(1),
    )
    .unwrap_err();
    assert_eq!(e.code(), "offer_expired");
    // Declining is still possible until the sweep.
    act(&mut st, &parent(), ApplicationCommand::Decline, deadline).unwrap();
    assert_eq!(st.status, ApplicationStatus::Declined);
    assert!(ChildcareApplication::fire_timers(&st, deadline).is_empty());
}

#[test]
fn an_offer_must_be_one_of_the_choices_in_the_childs_band() {
    let mut st = offered();
    // A second application, verified and in a round, to make bad offers to.
    let mut fresh = create(&new_app(), &parent()).unwrap();
    act(
        &mut fresh,
        &admin(),
        ApplicationCommand::Verify {
            criteria: vec![],
            sibling_enrolled_at: None,
        },
        t(1),
    )
    .unwrap();
    act(
        &mut fresh,
        &admin(),
        ApplicationCommand::EnterRound { round: "R1".into() },
        t(1),
    )
    .unwrap();
    let offer = |inst: &str, band, choice| ApplicationCommand::Offer {
        round: "R1".into(),
        institution: inst.into(),
        band,
        choice,
        priority: None,
        rejections: vec![],
        accept_days: 7,
    };
    let code = |r: Result<(), DomainError>| match r {
        Err(DomainError::Invalid { field, code, .. }) => (field, code),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(act(
            &mut fresh,
            &admin(),
            offer("XC-TY-04", Band::Toddler, 1),
            t(2)
        )),
        ("institution".into(), "not_in_choices")
    );
    assert_eq!(
        code(act(
            &mut fresh,
            &admin(),
            offer("XC-TY-01", Band::Older, 1),
            t(2)
        )),
        ("band".into(), "band_mismatch")
    );
    assert_eq!(
        code(act(
            &mut fresh,
            &admin(),
            offer("XC-TY-02", Band::Toddler, 1),
            t(2)
        )),
        ("choice".into(), "invalid")
    );
    // Unplaced: on the waiting list, then offered from it.
    act(
        &mut fresh,
        &Actor::system(),
        ApplicationCommand::Unplaced {
            round: "R1".into(),
            rejections: vec![],
        },
        t(2),
    )
    .unwrap();
    assert_eq!(fresh.status, ApplicationStatus::Waiting);
    act(
        &mut fresh,
        &Actor::system(),
        offer("XC-TY-02", Band::Toddler, 2),
        t(3),
    )
    .unwrap();
    assert_eq!(fresh.status, ApplicationStatus::Offered);
    // A parent cannot make offers; an offered family can still withdraw.
    let e = act(
        &mut st,
        &parent(),
        offer("XC-TY-02", Band::Toddler, 2),
        t(4),
    )
    .unwrap_err();
    assert_eq!(e.code(), "forbidden_role");
    act(&mut st, &parent(), ApplicationCommand::Withdraw, t(4)).unwrap();
    assert_eq!(st.status, ApplicationStatus::Withdrawn);
    assert_eq!(ChildcareApplication::next_timer(&st), None);
}

#[test]
fn desks_map_roles() {
    assert_eq!(desk(Role::Citizen), Some(Desk::Parent));
    assert_eq!(desk(Role::HealthAdmin), Some(Desk::HealthAdmin));
    assert_eq!(desk(Role::CareAdmin), None);
    assert_eq!(desk(Role::Nursery), Some(Desk::Nursery));
    assert_eq!(desk(Role::Provider), None);
    assert_eq!(desk(Role::System), Some(Desk::System));
    assert_eq!(desk(Role::Handler), None);
}
