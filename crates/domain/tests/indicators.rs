//! 七有五性 indicators through their public functions: the catalogue, the progress measure on
//! worked examples, imported statistics and the rate helpers.

use jiesu_domain::DomainError;
use jiesu_domain::indicators::catalogue::{DEFAULT_CATALOGUE_JSON, default_catalogue};
use jiesu_domain::indicators::definition::{
    Catalogue, Direction, FORMULAS, Index, IndexGroup, Indicator, Point, Source, formula_ids,
    parse_catalogue,
};
use jiesu_domain::indicators::import::{Period, parse_import_csv};
use jiesu_domain::indicators::progress::{
    Method, ProgressStatus, assess, assess_series, progress, status_for_ratio, trajectory,
};
use jiesu_domain::indicators::rates::{
    Fraction, mean, per_1000, per_10000, percent, percent_within, ratio, spread,
};
use jiff::civil::date;

fn p(year: i16, value: f64) -> Point {
    Point { year, value }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-4)
}

// Higher is better: baseline 2020 = 50, target 2030 = 100.
// Required CAGR_T = (100/50)^(1/10) − 1 = 2^0.1 − 1 = 0.071773.
const B: Point = Point {
    year: 2020,
    value: 50.0,
};
const T: Point = Point {
    year: 2030,
    value: 100.0,
};

#[test]
fn achieved_when_the_target_is_met() {
    // 2025 = 100 ≥ 100: achieved whatever the trend; 105 too.
    for v in [100.0, 105.0] {
        let a = progress(Direction::Higher, B, T, p(2025, v));
        assert_eq!(a.status, ProgressStatus::Achieved);
        assert_eq!(a.ratio, None);
    }
}

#[test]
fn on_track() {
    // 2025 = 70: CAGR_o = 1.4^(1/5) − 1 = 0.069610; R = 0.069610 / 0.071773 = 0.9699 ≥ 0.95.
    let a = progress(Direction::Higher, B, T, p(2025, 70.0));
    assert_eq!(a.status, ProgressStatus::OnTrack);
    assert_eq!(a.method, Some(Method::Compound));
    assert!(close(a.observed, 0.069610), "{a:?}");
    assert!(close(a.required, 0.071773), "{a:?}");
    assert!(close(a.ratio, 0.96986), "{a:?}");
}

#[test]
fn needs_acceleration() {
    // 2025 = 63: CAGR_o = 1.26^(1/5) − 1 = 0.047307; R = 0.047307 / 0.071773 = 0.6591,
    // in [0.6, 0.95).
    let a = progress(Direction::Higher, B, T, p(2025, 63.0));
    assert_eq!(a.status, ProgressStatus::NeedsAcceleration);
    assert!(close(a.ratio, 0.65912), "{a:?}");
}

#[test]
fn limited_progress() {
    // 2025 = 55: CAGR_o = 1.1^(1/5) − 1 = 0.019245; R = 0.019245 / 0.071773 = 0.2681,
    // in [0, 0.6). And 60: 1.2^(1/5) − 1 = 0.037137, R = 0.5174, still limited.
    let a = progress(Direction::Higher, B, T, p(2025, 55.0));
    assert_eq!(a.status, ProgressStatus::LimitedProgress);
    assert!(close(a.ratio, 0.26813), "{a:?}");
    let a = progress(Direction::Higher, B, T, p(2025, 60.0));
    assert_eq!(a.status, ProgressStatus::LimitedProgress);
    assert!(close(a.ratio, 0.51742), "{a:?}");
    // No change at all: R = 0, limited progress (not deterioration).
    assert_eq!(
        progress(Direction::Higher, B, T, p(2025, 50.0)).status,
        ProgressStatus::LimitedProgress
    );
}

#[test]
fn deterioration() {
    // 2025 = 45: CAGR_o = 0.9^(1/5) − 1 = −0.020852; R = −0.020852 / 0.071773 = −0.2905 < 0.
    let a = progress(Direction::Higher, B, T, p(2025, 45.0));
    assert_eq!(a.status, ProgressStatus::Deterioration);
    assert!(close(a.ratio, -0.29052), "{a:?}");
}

#[test]
fn thresholds_are_inclusive_from_below() {
    assert_eq!(status_for_ratio(0.95), ProgressStatus::OnTrack);
    assert_eq!(status_for_ratio(0.9499), ProgressStatus::NeedsAcceleration);
    assert_eq!(status_for_ratio(0.6), ProgressStatus::NeedsAcceleration);
    assert_eq!(status_for_ratio(0.5999), ProgressStatus::LimitedProgress);
    assert_eq!(status_for_ratio(0.0), ProgressStatus::LimitedProgress);
    assert_eq!(status_for_ratio(-0.0001), ProgressStatus::Deterioration);
}

#[test]
fn lower_is_better() {
    // Mean response time, baseline 2020 = 20 h, target 2030 = 10 h:
    // CAGR_T = 0.5^(1/10) − 1 = −0.066967, |CAGR_T| = 0.066967, d = −1.
    let (b, t) = (p(2020, 20.0), p(2030, 10.0));
    // 2025 = 14: CAGR_o = 0.7^(1/5) − 1 = −0.068850; R = −1 · −0.068850 / 0.066967 = 1.0281.
    let a = progress(Direction::Lower, b, t, p(2025, 14.0));
    assert_eq!(a.status, ProgressStatus::OnTrack);
    assert!(close(a.ratio, 1.02812), "{a:?}");
    // 2025 = 16: 0.8^(1/5) − 1 = −0.043648; R = 0.6518 → needs acceleration.
    let a = progress(Direction::Lower, b, t, p(2025, 16.0));
    assert_eq!(a.status, ProgressStatus::NeedsAcceleration);
    assert!(close(a.ratio, 0.65178), "{a:?}");
    // 2025 = 22: 1.1^(1/5) − 1 = +0.019245; R = −0.2874 → deterioration (it got slower).
    let a = progress(Direction::Lower, b, t, p(2025, 22.0));
    assert_eq!(a.status, ProgressStatus::Deterioration);
    assert!(close(a.ratio, -0.28738), "{a:?}");
    // 2025 = 9.5 ≤ 10: achieved.
    assert_eq!(
        progress(Direction::Lower, b, t, p(2025, 9.5)).status,
        ProgressStatus::Achieved
    );
}

#[test]
fn zero_baseline_and_zero_target_fall_back_to_linear_growth() {
    // Counted from zero: baseline 2020 = 0, target 2030 = 100. Linear: observed (40 − 0)/5 = 8
    // a year, required (100 − 0)/10 = 10 a year; R = 0.8 → needs acceleration.
    let a = progress(
        Direction::Higher,
        p(2020, 0.0),
        p(2030, 100.0),
        p(2025, 40.0),
    );
    assert_eq!(a.method, Some(Method::Linear));
    assert_eq!(a.status, ProgressStatus::NeedsAcceleration);
    assert!(close(a.observed, 8.0) && close(a.required, 10.0) && close(a.ratio, 0.8));
    // Zero incidents wanted: baseline 2020 = 12, target 2030 = 0, lower is better.
    // 2025 = 9: observed (9 − 12)/5 = −0.6, required (0 − 12)/10 = −1.2;
    // R = −1 · −0.6 / 1.2 = 0.5 → limited progress.
    let a = progress(Direction::Lower, p(2020, 12.0), p(2030, 0.0), p(2025, 9.0));
    assert_eq!(a.method, Some(Method::Linear));
    assert_eq!(a.status, ProgressStatus::LimitedProgress);
    assert!(close(a.ratio, 0.5));
    // A negative value (a net change): still linear, no NaN.
    let a = progress(
        Direction::Higher,
        p(2020, -4.0),
        p(2030, 6.0),
        p(2025, -1.0),
    );
    // observed 3/5 = 0.6, required 10/10 = 1 → R = 0.6 → needs acceleration.
    assert_eq!(a.status, ProgressStatus::NeedsAcceleration);
}

#[test]
fn unassessable_and_edge_cases() {
    let a = progress(Direction::Higher, B, T, p(2020, 60.0));
    assert_eq!(a.status, ProgressStatus::Unassessable);
    assert_eq!(a.unassessable, Some("no_later_year"));
    let a = progress(Direction::Higher, B, p(2020, 100.0), p(2025, 60.0));
    assert_eq!(a.unassessable, Some("target_year_not_after_baseline"));
    let a = progress(Direction::Higher, B, T, p(2025, f64::NAN));
    assert_eq!(a.unassessable, Some("not_finite"));
    // Target equal to the baseline, value below it: deterioration.
    let a = progress(Direction::Higher, B, p(2030, 50.0), p(2025, 45.0));
    assert_eq!(a.status, ProgressStatus::Deterioration);
    // Baseline already past the target, then fallen below it: the required rate points the
    // "wrong" way, its magnitude is used, and falling is still deterioration.
    let a = progress(
        Direction::Higher,
        p(2020, 80.0),
        p(2030, 70.0),
        p(2025, 65.0),
    );
    assert_eq!(a.status, ProgressStatus::Deterioration);
}

fn indicator() -> Indicator {
    Indicator {
        id: "meal_points_per_1000_elders".into(),
        name: "每千名老年人养老助餐点数".into(),
        unit: "个".into(),
        index: Index::ElderCare,
        direction: Direction::Higher,
        source: Source::Computed {
            formula: "meal_points_per_1000_elders".into(),
            params: Default::default(),
        },
        baseline: B,
        target: T,
        description: String::new(),
    }
}

#[test]
fn assess_uses_the_definition_and_the_latest_year() {
    let ind = indicator();
    assert_eq!(assess(&ind, p(2025, 70.0)).status, ProgressStatus::OnTrack);
    // The latest year (2025 = 45) decides, not the best one.
    let series = [p(2023, 70.0), p(2025, 45.0), p(2024, 60.0)];
    assert_eq!(
        assess_series(&ind, &series).status,
        ProgressStatus::Deterioration
    );
    assert_eq!(assess_series(&ind, &[]).unassessable, Some("no_data"));
    // The path to the target: 50 · 2^(5/10) = 70.7107 in 2025.
    assert!(close(trajectory(B, T, 2025), 70.71068));
    assert!(close(trajectory(p(2020, 0.0), T, 2025), 50.0));
}

#[test]
fn default_catalogue_covers_the_twelve_indices() {
    let cat = default_catalogue();
    assert!(cat.indicators.len() >= 25);
    for ix in Index::ALL {
        assert!(cat.of_index(*ix).count() >= 2, "{ix} has fewer than two");
    }
    assert_eq!(
        Index::ALL
            .iter()
            .filter(|i| i.group() == IndexGroup::SevenHaves)
            .count(),
        7
    );
    // Every formula named is one the platform lists; every listed formula is used.
    let used: Vec<&str> = cat.indicators.iter().filter_map(|i| i.formula()).collect();
    for (f, _) in FORMULAS {
        assert!(used.contains(f), "{f} unused");
    }
    for needed in [
        "meal_points_per_1000_elders",
        "alarms_ack_within_60s_share",
        "puhui_place_share",
        "response_rate",
    ] {
        assert!(cat.get(needed).is_some(), "{needed}");
    }
    // Round trip: the catalogue serialises to a file the parser reads back equal.
    let json = serde_json::to_string(&cat).unwrap();
    assert_eq!(parse_catalogue(&json, &formula_ids()).unwrap(), cat);
}

fn cat_err(edit: impl Fn(&mut serde_json::Value)) -> (String, &'static str) {
    let mut v: serde_json::Value = serde_json::from_str(DEFAULT_CATALOGUE_JSON).unwrap();
    edit(&mut v);
    match parse_catalogue(&v.to_string(), &formula_ids()).unwrap_err() {
        DomainError::Invalid { field, code, .. } => (field, code),
        e => panic!("{e:?}"),
    }
}

#[test]
fn catalogue_errors_name_the_path() {
    assert_eq!(
        cat_err(|v| v["indicators"][3]["id"] = "puhui_place_share".into()),
        ("indicators[3].id".into(), "duplicate")
    );
    assert_eq!(
        cat_err(|v| v["indicators"][2]["target"]["year"] = 2023.into()),
        ("indicators[2].target.year".into(), "out_of_range")
    );
    assert_eq!(
        cat_err(|v| v["indicators"][0]["source"]["formula"] = "guesswork".into()),
        ("indicators[0].source.formula".into(), "unknown_value")
    );
    assert_eq!(
        cat_err(|v| v["indicators"][5]["index"] = "happiness".into()),
        ("indicators[5]".into(), "invalid")
    );
    assert_eq!(
        cat_err(|v| v["indicators"][1]["colour"] = "red".into()),
        ("indicators[1]".into(), "invalid")
    );
    assert_eq!(
        cat_err(|v| v["indicators"][4]["name"] = " ".into()),
        ("indicators[4].name".into(), "empty")
    );
    assert_eq!(
        cat_err(|v| v["indicators"][6]["id"] = "Bad Id".into()),
        ("indicators[6].id".into(), "invalid")
    );
}

// --- imported statistics

fn catalogue() -> Catalogue {
    default_catalogue()
}

#[test]
fn imported_csv_keeps_good_rows_and_reports_bad_ones_by_row() {
    // Row 1 is the header; rows 2, 4 and 7 are good.
    let csv = "\u{FEFF}indicator,period,street,value,source,date\r\n\
        family_doctor_signing_rate,2024,,43.5,区卫生健康委员会,2025-03-15\r\n\
        family_doctor_signing_rate,2024,金融街街道,abc,区卫生健康委员会,2025-03-15\r\n\
        registered_unemployment_rate,2024-12,,2.0,\"区人力资源和社会保障局, 统计科\",2025-02-28\r\n\
        no_such_indicator,2024,,1,x,2025-01-01\r\n\
        response_rate,2024,,99.5,x,2025-01-01\r\n\
        family_doctor_signing_rate,2024,金融街街道,41,区卫生健康委员会,2025-03-15\r\n\
        family_doctor_signing_rate,2024,,44,区卫生健康委员会,2025-03-15\r\n\
        park_green_space_per_capita,24,,6.6,,2030-01-01\r\n\
        park_green_space_per_capita,2024\r\n";
    let r = parse_import_csv(csv, &catalogue(), date(2026, 6, 1)).unwrap();
    let good: Vec<usize> = r.rows.iter().map(|x| x.row).collect();
    assert_eq!(good, [2, 4, 7]);
    assert_eq!(r.rows[0].street, None);
    assert_eq!(r.rows[0].value, 43.5);
    assert_eq!(r.rows[1].period, Period::Month(2024, 12));
    assert_eq!(r.rows[1].source, "区人力资源和社会保障局, 统计科");
    assert_eq!(r.rows[2].street.as_deref(), Some("金融街街道"));
    let errs: Vec<(usize, &str, &str)> = r
        .errors
        .iter()
        .map(|e| (e.row, e.field.as_str(), e.code))
        .collect();
    assert_eq!(
        errs,
        [
            (3, "value", "bad_number"),
            (5, "indicator", "unknown_value"),
            (6, "indicator", "indicator_not_imported"),
            (8, "period", "duplicate"),
            (9, "period", "bad_period"),
            (9, "source", "required"),
            (9, "date", "date_in_future"),
            (10, "row", "wrong_column_count"),
        ]
    );
}

#[test]
fn quoted_line_breaks_keep_row_numbers_of_the_file() {
    let csv = "indicator,period,street,value,source,date\n\
        family_doctor_signing_rate,2023,,40,\"区卫健委\n（年报）\",2024-03-01\n\
        family_doctor_signing_rate,2024,,x,区卫健委,2025-03-01\n";
    let r = parse_import_csv(csv, &catalogue(), date(2026, 1, 1)).unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].source, "区卫健委\n（年报）");
    // The bad record starts on line 4 of the file (the quoted break took line 3).
    assert_eq!(r.errors[0].row, 4);
}

#[test]
fn imported_csv_refuses_a_file_without_its_columns() {
    let field = |csv: &str| match parse_import_csv(csv, &catalogue(), date(2026, 1, 1)) {
        Err(DomainError::Invalid { field, code, .. }) => (field, code),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field("indicator,period,street,source,date\n"),
        ("value".into(), "missing_column")
    );
    assert_eq!(
        field("indicator,period,street,vaule,source,date\n"),
        ("vaule".into(), "unknown_field")
    );
    assert_eq!(field(""), ("file".into(), "empty"));
    // Columns in another order are fine.
    let r = parse_import_csv(
        "date,source,value,street,period,indicator\n2025-01-01,区统计局,6.6,,2024,park_green_space_per_capita\n",
        &catalogue(),
        date(2026, 1, 1),
    )
    .unwrap();
    assert_eq!(r.rows.len(), 1);
    assert!(r.errors.is_empty());
}

#[test]
fn periods_parse_and_print() {
    assert_eq!("2025".parse::<Period>(), Ok(Period::Year(2025)));
    assert_eq!("2025-06".parse::<Period>(), Ok(Period::Month(2025, 6)));
    for bad in ["25", "2025-13", "2025-6", "2025Q2", "", "1850"] {
        assert!(bad.parse::<Period>().is_err(), "{bad}");
    }
    assert_eq!(Period::Month(2025, 6).to_string(), "2025-06");
    assert_eq!(
        serde_json::to_string(&Period::Year(2024)).unwrap(),
        "\"2024\""
    );
}

// --- rates

#[test]
fn rates_give_none_not_nan_on_zero_denominators() {
    assert_eq!(ratio(1.0, 0.0), None);
    assert_eq!(percent(3, 0), None);
    assert_eq!(per_1000(5, 0), None);
    assert_eq!(mean(&[]), None);
    assert_eq!(percent_within(&[], 60), None);
    assert_eq!(spread(&[Some(1.0), None]), None);
    // 12 meal points for 8,000 elders: 12 × 1000 / 8000 = 1.5 per 1,000.
    assert_eq!(per_1000(12, 8000), Some(1.5));
    // 3 complaints among 12,000 residents: 3 × 10000 / 12000 = 2.5 per 10,000.
    assert_eq!(per_10000(3, 12_000), Some(2.5));
    // Alarms acknowledged after 45, 60, 61 s and one never: 2 of 4 within 60 s, 50 %.
    assert_eq!(
        percent_within(&[Some(45), Some(60), Some(61), None], 60),
        Some(50.0)
    );
    // 45, 60, 30 s and one never: 3 of 4, 75 %.
    assert_eq!(
        percent_within(&[Some(45), Some(60), Some(30), None], 60),
        Some(75.0)
    );
    assert_eq!(
        spread(&[Some(91.0), None, Some(97.5), Some(94.0)]),
        Some(6.5)
    );
}

#[test]
fn district_fraction_is_the_sum_not_the_mean_of_streets() {
    // Street A: 90 of 100 resolved (90 %); street B: 10 of 20 (50 %). The mean of rates is
    // 70 %; the district's rate is 100 / 120 = 83.333 %.
    let streets = [Fraction::new(90, 100), Fraction::new(10, 20)];
    let district: Fraction = streets.iter().copied().sum();
    assert_eq!(district, Fraction::new(100, 120));
    assert!(close(district.percent(), 83.33333));
    assert_eq!(Fraction::new(0, 0).percent(), None);
}

// --- series

#[test]
fn yearly_series_and_street_comparison() {
    use jiesu_domain::indicators::series::{Observation, street_comparison, yearly_series};
    let o = |period: Period, street: Option<&str>, value: f64| Observation {
        indicator: "resolution_rate".into(),
        period,
        street: street.map(str::to_string),
        value,
        fraction: None,
    };
    let obs = [
        o(Period::Year(2024), None, 93.0),
        o(Period::Year(2023), None, 92.0),
        o(Period::Month(2024, 6), None, 99.0),
        o(Period::Year(2024), Some("金融街"), 95.0),
        o(Period::Year(2024), Some("月坛"), 91.0),
        o(Period::Year(2024), Some("德胜"), 95.0),
        // A corrected edition of 2024 for the district replaces the first.
        o(Period::Year(2024), None, 93.5),
    ];
    assert_eq!(
        yearly_series(&obs, "resolution_rate", None),
        [p(2023, 92.0), p(2024, 93.5)]
    );
    assert_eq!(
        yearly_series(&obs, "resolution_rate", Some("月坛")),
        [p(2024, 91.0)]
    );
    let names = |d| {
        street_comparison(&obs, "resolution_rate", Period::Year(2024), d)
            .into_iter()
            .map(|(s, _)| s)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Direction::Higher), ["德胜", "金融街", "月坛"]);
    assert_eq!(names(Direction::Lower), ["月坛", "德胜", "金融街"]);
}
