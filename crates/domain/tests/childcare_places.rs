//! Institutions and their classes (the national band limits), the 普惠 subsidy settled from the
//! enrolment log with hand-computed amounts, and health checks with the due schedule.

use jiesu_domain::childcare::health::*;
use jiesu_domain::childcare::institution::*;
use jiesu_domain::childcare::subsidy::*;
use jiesu_domain::{Directory, DomainError};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use std::sync::LazyLock;

static DIR: LazyLock<Directory> = LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    match jiesu_world::load_dir(&path) {
        Ok(w) => Directory::new(w),
        Err(e) => panic!("world: {e}"),
    }
});

fn class(band: Band, capacity: u32, carers: u32) -> Class {
    Class {
        band,
        capacity,
        carers,
    }
}

fn institution() -> Institution {
    Institution {
        code: "XC-TY-01".into(),
        name: "西长安街普惠托育中心".into(),
        kind: InstitutionKind::Puhui,
        operator: "某某托育服务有限公司".into(),
        street: "110102001".into(),
        community: "110102001001".into(),
        address: "府右街南社区1号".into(),
        licence_no: "京西托备2024001".into(),
        community_point: false,
        monthly_price_fen: Some(280_000),
        classes: vec![
            class(Band::Infant, 10, 4),
            class(Band::Toddler, 15, 3),
            class(Band::Older, 20, 3),
            class(Band::Older, 14, 2),
        ],
        health_contract: None,
    }
}

fn invalid(r: Result<(), DomainError>) -> (String, &'static str) {
    match r {
        Err(DomainError::Invalid { field, code, .. }) => (field, code),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn a_good_institution_and_its_places() {
    let i = institution();
    i.check(&BandRules::national(), &DIR).unwrap();
    let places = i.places();
    assert_eq!(places[&Band::Infant], 10);
    assert_eq!(places[&Band::Toddler], 15);
    assert_eq!(places[&Band::Older], 34);
    assert_eq!(i.bands(), vec![Band::Infant, Band::Toddler, Band::Older]);
}

#[test]
fn a_class_above_its_band_limit_or_below_the_ratio_is_refused() {
    let rules = BandRules::national();
    let check = |f: &dyn Fn(&mut Institution)| {
        let mut i = institution();
        f(&mut i);
        invalid(i.check(&rules, &DIR))
    };
    assert_eq!(
        check(&|i| i.classes[0] = class(Band::Infant, 11, 4)),
        ("classes[0].capacity".into(), "class_too_large")
    );
    assert_eq!(
        check(&|i| i.classes[2] = class(Band::Older, 21, 3)),
        ("classes[2].capacity".into(), "class_too_large")
    );
    // 15 toddlers need 3 carers (1:5); 10 infants need 4 (1:3, rounded up).
    assert_eq!(
        check(&|i| i.classes[1] = class(Band::Toddler, 15, 2)),
        ("classes[1].carers".into(), "too_few_carers")
    );
    assert_eq!(
        check(&|i| i.classes[0] = class(Band::Infant, 10, 3)),
        ("classes[0].carers".into(), "too_few_carers")
    );
    assert_eq!(
        check(&|i| i.classes[3] = class(Band::Older, 0, 0)),
        ("classes[3].capacity".into(), "bad_capacity")
    );
    assert_eq!(
        check(&|i| i.monthly_price_fen = None),
        ("monthly_price_fen".into(), "required")
    );
    assert_eq!(
        check(&|i| i.monthly_price_fen = Some(-1)),
        ("monthly_price_fen".into(), "negative_amount")
    );
    assert_eq!(
        check(&|i| i.code = "托育".into()),
        ("code".into(), "bad_code")
    );
    assert_eq!(
        check(&|i| i.community = "110102003001".into()),
        ("community".into(), "community_not_in_street")
    );
    assert_eq!(check(&|i| i.name.clear()), ("name".into(), "required"));
    // A market institution needs no agreed price.
    let mut m = institution();
    m.kind = InstitutionKind::Market;
    m.monthly_price_fen = None;
    m.check(&rules, &DIR).unwrap();
    // A stricter district table refuses what the national one allows.
    let mut strict = BandRules::national();
    strict.rules[1].max_class_size = 12;
    assert_eq!(
        invalid(institution().check(&strict, &DIR)),
        ("classes[1].capacity".into(), "class_too_large")
    );
}

#[test]
fn an_institution_over_capacity_is_refused() {
    let i = institution();
    i.check_room(Band::Toddler, 14).unwrap();
    assert_eq!(
        i.check_room(Band::Toddler, 15).unwrap_err().code(),
        "band_full"
    );
    // No class of the band at all: no room.
    let mut m = institution();
    m.classes.retain(|c| c.band != Band::Infant);
    assert_eq!(
        m.check_room(Band::Infant, 0).unwrap_err().code(),
        "band_full"
    );
    // Shrinking classes below the children enrolled names the band's first class.
    let enrolled = std::collections::BTreeMap::from([(Band::Older, 30), (Band::Toddler, 15)]);
    i.check_covers(&enrolled).unwrap();
    let mut small = institution();
    small.classes[3].capacity = 9;
    assert_eq!(
        invalid(small.check_covers(&enrolled)),
        ("classes[2].capacity".into(), "below_enrolled")
    );
    assert_eq!(
        invalid(m.check_covers(&std::collections::BTreeMap::from([(Band::Infant, 1)]))),
        ("classes".into(), "below_enrolled")
    );
}

#[test]
fn bands_by_age_at_the_start() {
    let b = date(2025, 3, 10);
    assert_eq!(band_at(b, date(2025, 9, 9)), None);
    assert_eq!(band_at(b, date(2025, 9, 10)), Some(Band::Infant));
    assert_eq!(band_at(b, date(2026, 3, 9)), Some(Band::Infant));
    assert_eq!(band_at(b, date(2026, 3, 10)), Some(Band::Toddler));
    assert_eq!(band_at(b, date(2027, 3, 10)), Some(Band::Older));
    assert_eq!(band_at(b, date(2028, 3, 9)), Some(Band::Older));
    assert_eq!(band_at(b, date(2028, 3, 10)), None);
    assert_eq!(band_at(b, date(2024, 1, 1)), None);
    // Born on the 31st: a month is complete on the last day of a shorter month.
    assert_eq!(months_between(date(2025, 1, 31), date(2025, 2, 27)), 0);
    assert_eq!(months_between(date(2025, 1, 31), date(2025, 2, 28)), 1);
    assert_eq!(months_between(date(2024, 2, 29), date(2025, 2, 28)), 12);
}

fn spell(app: &str, inst: &str, from: Date, to: Option<Date>) -> EnrolmentSpell {
    EnrolmentSpell {
        application: app.into(),
        child_ref: format!("child:{app}"),
        institution: inst.into(),
        band: Band::Toddler,
        from,
        to,
    }
}

fn march_log() -> Vec<EnrolmentSpell> {
    vec![
        // The whole month.
        spell("A", "XC-TY-01", date(2026, 2, 1), None),
        // Joins on 17 March: 15 of 31 days.
        spell("B", "XC-TY-01", date(2026, 3, 17), None),
        // Leaves after 10 March (its last day): 10 days.
        spell("C", "XC-TY-01", date(2026, 1, 5), Some(date(2026, 3, 10))),
        // Another institution's child.
        spell("D", "XC-TY-02", date(2026, 1, 1), None),
        // Left in February.
        spell("E", "XC-TY-01", date(2026, 1, 1), Some(date(2026, 2, 20))),
        // Two overlapping spells: 1–8 March, 8 days once.
        spell("F", "XC-TY-01", date(2026, 3, 1), Some(date(2026, 3, 5))),
        spell("F", "XC-TY-01", date(2026, 3, 4), Some(date(2026, 3, 8))),
    ]
}

/// City ¥500 and district ¥200 per place-month, by days, half up, March 2026 (31 days):
/// A 31 d: 50000 + 20000 = 70000; B 15 d: 24193.5→24194 + 9677.4→9677 = 33871;
/// C 10 d: 16129.0→16129 + 6451.6→6452 = 22581; F 8 d: 12903.2→12903 + 5161.3→5161 = 18064.
#[test]
fn subsidy_by_days_with_hand_computed_amounts() {
    let s = settle_month(
        &institution(),
        &march_log(),
        date(2026, 3, 15),
        &SubsidyRules::demo(),
    )
    .unwrap();
    assert_eq!(s.month, "2026-03");
    assert_eq!(s.days_in_month, 31);
    let got: Vec<(&str, u32, i64, i64, i64)> = s
        .lines
        .iter()
        .map(|l| {
            (
                l.application.as_str(),
                l.days,
                l.city_fen,
                l.district_fen,
                l.total_fen,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("A", 31, 50_000, 20_000, 70_000),
            ("B", 15, 24_194, 9_677, 33_871),
            ("C", 10, 16_129, 6_452, 22_581),
            ("F", 8, 12_903, 5_161, 18_064),
        ]
    );
    assert_eq!(
        s.totals,
        SubsidyTotals {
            children: 4,
            child_days: 64,
            city_fen: 103_226,
            district_fen: 41_290,
            total_fen: 144_516,
        }
    );
    assert!(s.adds_up());
    assert_eq!(
        (s.lines[1].first_day, s.lines[1].last_day),
        (date(2026, 3, 17), date(2026, 3, 31))
    );
    // The totals reconcile with the log's child-days counted directly.
    let direct: i64 = march_log()
        .iter()
        .filter(|l| l.institution == "XC-TY-01" && l.application != "F")
        .map(|l| {
            let a = l.from.max(date(2026, 3, 1));
            let b = l.to.unwrap_or(date(2026, 3, 31)).min(date(2026, 3, 31));
            if b < a {
                0
            } else {
                (b - a).get_days() as i64 + 1
            }
        })
        .sum();
    assert_eq!(direct + 8, i64::from(s.totals.child_days));
}

#[test]
fn full_month_from_a_threshold() {
    let rules = SubsidyRules {
        proration: Proration::FullMonthFrom { min_days: 15 },
        ..SubsidyRules::demo()
    };
    let s = settle_month(&institution(), &march_log(), date(2026, 3, 1), &rules).unwrap();
    let totals: Vec<i64> = s.lines.iter().map(|l| l.total_fen).collect();
    // B's 15 days reach the threshold; C's 10 and F's 8 are paid by days.
    assert_eq!(totals, vec![70_000, 70_000, 22_581, 18_064]);
    assert!(s.adds_up());
    // Half up: 100 fen for 1 of 8 days is 12.5 → 13.
    assert_eq!(SubsidyRules::demo().prorate(100, 1, 8), 13);
    assert_eq!(SubsidyRules::demo().prorate(100, 3, 8), 38);
}

#[test]
fn a_market_place_gets_no_subsidy() {
    let mut m = institution();
    m.kind = InstitutionKind::Market;
    let s = settle_month(&m, &march_log(), date(2026, 3, 1), &SubsidyRules::demo()).unwrap();
    assert_eq!(s.lines.len(), 4);
    assert!(s.lines.iter().all(|l| l.total_fen == 0));
    assert_eq!(s.totals.total_fen, 0);
    assert_eq!(s.totals.child_days, 64);
}

#[test]
fn a_bad_spell_names_its_field() {
    let mut log = march_log();
    log.push(spell(
        "G",
        "XC-TY-09",
        date(2026, 3, 5),
        Some(date(2026, 3, 4)),
    ));
    let r = settle_month(
        &institution(),
        &log,
        date(2026, 3, 1),
        &SubsidyRules::demo(),
    );
    assert_eq!(invalid(r.map(|_| ())), ("log[7].to".into(), "bad_range"));
    let neg = SubsidyRules {
        district_fen: -1,
        ..SubsidyRules::demo()
    };
    let r = settle_month(&institution(), &march_log(), date(2026, 3, 1), &neg);
    assert_eq!(
        invalid(r.map(|_| ())),
        ("district_fen".into(), "negative_amount")
    );
}

fn now() -> Timestamp {
    // 2026-06-01 10:00 in Beijing.
    "2026-06-01T02:00:00Z".parse().unwrap()
}

fn record() -> HealthCheck {
    HealthCheck {
        date: date(2026, 5, 20),
        provider: "XC-CHC-03".into(),
        height_mm: 820,
        weight_g: 10_900,
        notes: "生长发育正常".into(),
    }
}

#[test]
fn health_check_records_are_validated() {
    let birth = date(2025, 3, 10);
    record().check(birth, now()).unwrap();
    let bad = |f: &dyn Fn(&mut HealthCheck)| {
        let mut r = record();
        f(&mut r);
        invalid(r.check(birth, now()))
    };
    assert_eq!(
        bad(&|r| r.date = date(2026, 6, 2)),
        ("date".into(), "date_in_future")
    );
    assert_eq!(
        bad(&|r| r.date = date(2025, 3, 9)),
        ("date".into(), "date_before_birth")
    );
    // Centimetres and kilograms typed by mistake.
    assert_eq!(
        bad(&|r| r.height_mm = 82),
        ("height_mm".into(), "implausible_measurement")
    );
    assert_eq!(
        bad(&|r| r.weight_g = 11),
        ("weight_g".into(), "implausible_measurement")
    );
    assert_eq!(
        bad(&|r| r.provider = String::new()),
        ("provider".into(), "bad_code")
    );
    assert_eq!(
        bad(&|r| r.notes = "字".repeat(2001)),
        ("notes".into(), "too_long")
    );
}

#[test]
fn due_checks_by_the_national_schedule() {
    let birth = date(2025, 3, 10);
    let done = [date(2025, 4, 12), date(2025, 6, 1), date(2025, 11, 20)];
    let st = |today| -> Vec<(u32, CheckStatus)> {
        due_checks(birth, &done, today)
            .into_iter()
            .map(|d| (d.month, d.status))
            .collect()
    };
    use CheckStatus::*;
    assert_eq!(
        st(date(2026, 6, 1)),
        vec![
            (
                1,
                Done {
                    date: date(2025, 4, 12)
                }
            ),
            // Nine days early still counts (window opens 15 days before).
            (
                3,
                Done {
                    date: date(2025, 6, 1)
                }
            ),
            // Its window closed when the 8-month window opened.
            (6, Missed),
            (
                8,
                Done {
                    date: date(2025, 11, 20)
                }
            ),
            // Due 2026-03-10, more than 30 days ago.
            (12, Overdue),
            (18, Upcoming),
            (24, Upcoming),
            (30, Upcoming),
            (36, Upcoming),
        ]
    );
    let at = |today| st(today)[4].1;
    assert_eq!(at(date(2026, 3, 9)), Upcoming);
    assert_eq!(at(date(2026, 3, 20)), Due);
    assert_eq!(at(date(2026, 4, 10)), Overdue);
    let due = due_checks(birth, &done, date(2026, 6, 1));
    assert_eq!(due[5].due_on, date(2026, 9, 10));
}
