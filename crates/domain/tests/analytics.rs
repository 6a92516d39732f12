//! 主动治理 analytics on small fixtures whose answers are worked out by hand in the comments.

use jiesu_domain::analytics::*;
use jiesu_domain::assessment::{GroupScore, Period};
use jiff::Timestamp;

fn p(label: &str) -> Period {
    Period::parse(label).unwrap_or_else(|| panic!("period {label}"))
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|_| panic!("time {s}"))
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-9, "{what}: {got} != {want}");
}

fn cell(c: &str, place: &str) -> Cell {
    (c.to_string(), place.to_string())
}

fn counts(items: &[(&str, &str, u64)]) -> CellCounts {
    items.iter().map(|(c, pl, n)| (cell(c, pl), *n)).collect()
}

#[test]
fn periods_shift_across_years_and_months() {
    let w = Granularity::Week;
    assert_eq!(Granularity::of(&p("2026-W43")), Some(w));
    assert_eq!(Granularity::of(&p("2026-10")), Some(Granularity::Month));
    assert_eq!(Granularity::of(&p("2026-10-05")), Some(Granularity::Day));
    assert_eq!(Granularity::of(&p("2026-Q4")), None);
    assert_eq!(Granularity::of(&p("2026")), None);
    // 2026-W01 starts Monday 29 December 2025; the week before is 2025-W52.
    assert_eq!(
        shift(&p("2026-W01"), w, -1).map(|x| x.label),
        Some("2025-W52".into())
    );
    // 52 weeks back from 2026-W43 (19 Oct 2026) is 20 Oct 2025, 2025-W43.
    assert_eq!(
        shift(&p("2026-W43"), w, -52).map(|x| x.label),
        Some("2025-W43".into())
    );
    assert_eq!(
        shift(&p("2026-01"), Granularity::Month, -1).map(|x| x.label),
        Some("2025-12".into())
    );
    assert_eq!(
        shift(&p("2026-03-01"), Granularity::Day, -1).map(|x| x.label),
        Some("2026-02-28".into())
    );
}

#[test]
fn baseline_is_last_year_when_history_reaches_back_else_trailing() {
    let w = Granularity::Week;
    let labels = |b: &Baseline| {
        b.windows
            .iter()
            .map(|x| x.label.clone())
            .collect::<Vec<_>>()
    };
    // History since June 2025: last year's W42–W44 are covered.
    let b = baseline(
        &p("2026-W43"),
        w,
        BaselineKind::Auto,
        8,
        Some(t("2025-06-01T00:00:00+08:00")),
    );
    assert_eq!(b.kind, BaselineKind::LastYear);
    assert_eq!(labels(&b), ["2025-W42", "2025-W43", "2025-W44"]);
    // History since Tuesday 1 Sep 2026: trailing 8 weeks W35–W42, of which W35 (24 Aug) and
    // W36 (31 Aug, starts the day before the first request) are left out.
    let b = baseline(
        &p("2026-W43"),
        w,
        BaselineKind::Auto,
        8,
        Some(t("2026-09-01T00:00:00+08:00")),
    );
    assert_eq!(b.kind, BaselineKind::Trailing);
    assert_eq!(
        labels(&b),
        [
            "2026-W37", "2026-W38", "2026-W39", "2026-W40", "2026-W41", "2026-W42"
        ]
    );
    assert_eq!(b.skipped, ["2026-W35", "2026-W36"]);
    // Asked for last year without the history: no windows at all.
    let b = baseline(
        &p("2026-W43"),
        w,
        BaselineKind::LastYear,
        8,
        Some(t("2026-09-01T00:00:00+08:00")),
    );
    assert_eq!(b.kind, BaselineKind::LastYear);
    assert!(b.windows.is_empty());
    assert_eq!(b.skipped.len(), 3);
    // Months: trailing three.
    let b = baseline(
        &p("2026-10"),
        Granularity::Month,
        BaselineKind::Auto,
        3,
        Some(t("2025-11-26T00:00:00+08:00")),
    );
    assert_eq!(labels(&b), ["2026-07", "2026-08", "2026-09"]);
    // No requests at all.
    let b = baseline(
        &p("2026-10"),
        Granularity::Month,
        BaselineKind::Auto,
        3,
        None,
    );
    assert!(b.windows.is_empty());
}

#[test]
fn hotspots_compare_with_the_baseline_mean() {
    let current = counts(&[("a", "x", 10), ("a", "y", 4), ("b", "x", 6)]);
    let base = [
        counts(&[("a", "x", 4), ("b", "x", 6)]),
        counts(&[("a", "x", 6), ("a", "y", 1)]),
    ];
    // Expected: a/x (4+6)/2 = 5, a/y (0+1)/2 = 0.5, b/x (6+0)/2 = 3.
    let h = hotspots(&current, &base, HotSort::Count, 10);
    let order: Vec<_> = h
        .iter()
        .map(|x| (x.category.as_str(), x.place.as_str()))
        .collect();
    assert_eq!(order, [("a", "x"), ("b", "x"), ("a", "y")]);
    assert_eq!(h[0].rank, 1);
    close(h[0].expected.unwrap_or(f64::NAN), 5.0, "a/x expected");
    close(h[0].change.unwrap_or(f64::NAN), 5.0, "a/x change");
    close(h[0].change_pct.unwrap_or(f64::NAN), 100.0, "a/x %");
    assert_eq!(h[0].baseline, [4, 6]);
    close(h[2].change_pct.unwrap_or(f64::NAN), 700.0, "a/y %");
    assert_eq!(h[1].baseline, [6, 0]);
    // By increase: a/x +5, a/y +3.5, b/x +3.
    let h = hotspots(&current, &base, HotSort::Increase, 2);
    let order: Vec<_> = h
        .iter()
        .map(|x| (x.category.as_str(), x.place.as_str()))
        .collect();
    assert_eq!(order, [("a", "x"), ("a", "y")]);
    // Without a baseline: counts only.
    let h = hotspots(&current, &[], HotSort::Count, 10);
    assert_eq!(h[0].expected, None);
    assert_eq!(h[0].change_pct, None);
}

#[test]
fn poisson_tail_matches_direct_sums() {
    // P(X ≥ 3 | 1) = 1 − e^−1 (1 + 1 + 1/2) = 1 − 2.5/e.
    close(
        poisson_sf(3, 1.0),
        1.0 - 2.5 / std::f64::consts::E,
        "sf(3,1)",
    );
    // P(X ≥ 1 | 2) = 1 − e^−2 (the lower-tail branch).
    close(poisson_sf(1, 2.0), 1.0 - (-2.0f64).exp(), "sf(1,2)");
    close(poisson_sf(0, 3.0), 1.0, "sf(0,·)");
    close(poisson_sf(9, 2.0), 0.000_237_447_328_261_031_2, "sf(9,2)");
    // Both branches agree with the direct sum over a range.
    for lambda in [0.5, 3.0, 12.5] {
        for k in 0..40u64 {
            let direct: f64 = 1.0
                - (0..k)
                    .map(|i| (-lambda + i as f64 * f64::ln(lambda) - ln_factorial(i)).exp())
                    .sum::<f64>();
            assert!(
                (poisson_sf(k, lambda) - direct).abs() < 1e-9,
                "k {k} λ {lambda}"
            );
        }
    }
    // Far tails stay positive and tiny instead of cancelling to 0.
    let far = poisson_sf(200, 100.0);
    assert!(far > 0.0 && far < 1e-15, "{far}");
    // Stirling beyond 256 agrees with the sum.
    let sum: f64 = (2..=300u64).map(|i| (i as f64).ln()).sum();
    assert!((ln_factorial(300) - sum).abs() < 1e-9);
}

#[test]
fn spikes_are_improbable_counts_with_enough_requests() {
    let current = counts(&[
        ("c", "s1", 9),
        ("c", "s2", 4),
        ("new", "s1", 5),
        ("new", "s2", 3),
    ]);
    let base = [
        counts(&[("c", "s1", 2), ("c", "s2", 2)]),
        counts(&[("c", "s1", 1), ("c", "s2", 1)]),
        counts(&[("c", "s1", 3), ("c", "s2", 3)]),
    ];
    let s = spikes(&current, &base, 0.001, 5);
    // c/s1: expected (2+1+3)/3 = 2, P(X ≥ 9 | 2) = 2.374e-4 ≤ 0.001 → alert.
    // new/s1: never seen, tested against 0.5: P(X ≥ 5 | 0.5) = 1.721e-4 → alert, first.
    // c/s2: 4 against 2, p = 0.143 → no. new/s2: 3 < min_count → no.
    let order: Vec<_> = s
        .iter()
        .map(|x| (x.category.as_str(), x.place.as_str()))
        .collect();
    assert_eq!(order, [("new", "s1"), ("c", "s1")]);
    close(s[0].expected, 0.0, "new expected");
    close(s[0].tested_mean, 0.5, "new tested");
    assert!((s[0].p_value - 1.721_156_299_557_824_5e-4).abs() < 1e-12);
    close(s[0].ratio, 10.0, "ratio");
    close(s[1].expected, 2.0, "c expected");
    assert!((s[1].p_value - 2.374_473_282_610_312e-4).abs() < 1e-12);
    close(s[1].score, -(2.374_473_282_610_312e-4f64).log10(), "score");
    assert_eq!(s[1].baseline, [2, 1, 3]);
    assert_eq!((s[0].rank, s[1].rank), (1, 2));
    // A stricter α keeps neither (both p > 1e-4); no baseline → nothing testable.
    assert!(spikes(&current, &base, 1e-4, 5).is_empty());
    assert!(spikes(&current, &[], 0.5, 1).is_empty());
}

fn pc(c: &str, s: &str, m: &str, n: u64) -> PlaceCount {
    PlaceCount {
        category: c.into(),
        street: s.into(),
        community: m.into(),
        count: n,
    }
}

#[test]
fn recurring_scores_volume_persistence_spread_and_dissatisfaction() {
    let months = vec![
        vec![
            pc("c1", "s1", "m1", 2),
            pc("c1", "s1", "m2", 1),
            pc("c2", "s1", "m1", 5),
        ],
        vec![pc("c1", "s1", "m1", 3)],
        vec![
            pc("c1", "s1", "m1", 1),
            pc("c2", "s1", "m1", 1),
            pc("c3", "s1", "", 9),
        ],
    ];
    let answers = vec![
        AnswerCount {
            category: "c1".into(),
            street: "s1".into(),
            community: "m1".into(),
            answers: 4,
            unsatisfied: 1,
        },
        AnswerCount {
            category: "c2".into(),
            street: "s1".into(),
            community: "m1".into(),
            answers: 2,
            unsatisfied: 2,
        },
    ];
    let mut q = RecurringQuery {
        level: PlaceLevel::Community,
        min_months: 2,
        min_volume: 1,
        weights: RecurringWeights::default(),
        limit: 10,
    };
    // Community level: c1/m1 [2,3,1] = 6 in 3 months; c2/m1 [5,0,1] = 6 in 2; c1/m2 one month
    // (not eligible); c3 has no community (not placed). Max volume 6, max communities 1.
    // c1/m1: 35·6/6 + 30·3/3 + 15·1/1 + 20·1/4 = 85. c2/m1: 35 + 30·2/3 + 15 + 20·2/2 = 90.
    let r = recurring(&months, &answers, &q);
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].category.as_str(), r[0].place.as_str()), ("c2", "m1"));
    close(r[0].score, 90.0, "c2 score");
    close(r[1].score, 85.0, "c1 score");
    assert_eq!(r[1].monthly, [2, 3, 1]);
    assert_eq!((r[1].months_present, r[1].longest_run), (3, 3));
    assert_eq!((r[0].months_present, r[0].longest_run), (2, 1));
    close(
        r[1].unsatisfied_share.unwrap_or(f64::NAN),
        25.0,
        "c1 不满意",
    );
    close(
        r[1].dissatisfaction_part.points,
        5.0,
        "c1 dissatisfaction points",
    );
    assert!(
        r[0].explanation.contains("months 2/3 → 20.0"),
        "{}",
        r[0].explanation
    );

    // Street level: c1/s1 [3,3,1] = 7 from 2 communities; c2/s1 [5,0,1] = 6 from 1; c3/s1 9
    // in one month (not eligible). Max volume 7, max communities 2.
    // c1: 35 + 30 + 15 + 5 = 85. c2: 35·6/7 + 20 + 7.5 + 20 = 77.5.
    q.level = PlaceLevel::Street;
    let r = recurring(&months, &answers, &q);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].category, "c1");
    close(r[0].score, 85.0, "street c1");
    close(r[1].score, 77.5, "street c2");
    assert_eq!((r[0].communities, r[0].streets), (2, 1));
    // District level counts everything, c3 included (9 in one month: still not persistent).
    q.level = PlaceLevel::District;
    q.min_months = 1;
    let r = recurring(&months, &answers, &q);
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|x| x.place.is_empty()));
}

#[test]
fn keyword_trends_rank_by_rise_over_the_previous_share() {
    let tc = |docs: u64, df: &[(&str, u64)]| TermCounts {
        docs,
        df: df.iter().map(|(w, n)| (w.to_string(), *n)).collect(),
    };
    let current = tc(100, &[("暖气", 30), ("停车", 10), ("噪音", 5), ("漏水", 4)]);
    let previous = [
        tc(100, &[("暖气", 10), ("停车", 20)]),
        tc(100, &[("暖气", 10), ("停车", 20)]),
    ];
    // 暖气: previous share 20/200 = 10 %, expected 10, z = (30 − 10)/√10 = 6.32, ratio 3.
    // 噪音: new, expected 0, z = 5/√1 = 5. 停车 fell. 漏水: 4 < min_count.
    let k = keyword_trends(&current, &previous, 5, 10);
    let terms: Vec<_> = k.iter().map(|x| x.term.as_str()).collect();
    assert_eq!(terms, ["暖气", "噪音"]);
    close(k[0].z, 20.0 / 10f64.sqrt(), "z");
    close(k[0].ratio.unwrap_or(f64::NAN), 3.0, "ratio");
    close(k[0].share, 30.0, "share");
    close(
        k[0].previous_share.unwrap_or(f64::NAN),
        10.0,
        "previous share",
    );
    assert_eq!(k[1].ratio, None);
    close(k[1].z, 5.0, "new term z");

    let mut c = TermCounts::default();
    c.add_doc(["暖气", "暖气", "不热"]);
    c.add_doc(["暖气"]);
    assert_eq!((c.docs, c.df.get("暖气").copied()), (2, Some(2)));
    assert!(is_keyword_candidate("暖气"));
    for w in ["的", "12345", "问题", "abc", "，，"] {
        assert!(!is_keyword_candidate(w), "{w}");
    }
}

fn g(key: &str, composite: Option<f64>, bottom: bool) -> GroupScore {
    GroupScore {
        key: key.into(),
        composite,
        bottom,
        ..GroupScore::default()
    }
}

#[test]
fn flags_need_k_consecutive_months() {
    let months = vec![
        MonthScores {
            period: p("2026-08"),
            groups: vec![
                g("A", Some(70.0), true),
                g("B", Some(90.0), false),
                g("C", Some(85.0), false),
            ],
        },
        MonthScores {
            period: p("2026-09"),
            groups: vec![
                g("A", Some(75.0), true),
                g("B", Some(78.0), false),
                g("C", None, false),
            ],
        },
        MonthScores {
            period: p("2026-10"),
            groups: vec![
                g("A", Some(79.0), true),
                g("B", Some(70.0), true),
                g("C", Some(60.0), false),
            ],
        },
    ];
    // Threshold 80, K = 2: A below 3 months and bottom 3 months; B below in Sep and Oct;
    // C below only in Oct (September had no value, which breaks the run).
    let f = persistent_flags(&months, FlagMetric::Composite, Some(80.0), 2);
    let keys: Vec<_> = f.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(keys, ["A", "B"]);
    assert_eq!((f[0].below_streak, f[0].bottom_streak), (3, 3));
    assert_eq!(f[0].reasons, ["below_threshold", "bottom"]);
    assert_eq!((f[1].below_streak, f[1].bottom_streak), (2, 1));
    assert_eq!(f[1].reasons, ["below_threshold"]);
    assert_eq!(f[1].values, [Some(90.0), Some(78.0), Some(70.0)]);
    // K = 3: only A; without a threshold only the bottom rule applies.
    assert_eq!(
        persistent_flags(&months, FlagMetric::Composite, Some(80.0), 3).len(),
        1
    );
    let f = persistent_flags(&months, FlagMetric::Composite, None, 1);
    let keys: Vec<_> = f.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(keys, ["A", "B"]);
}

#[test]
fn overdue_is_late_replies_and_unreplied_requests_past_due() {
    let as_of = t("2026-11-01T00:00:00+08:00");
    let h = |n: i64| {
        Timestamp::from_millisecond(as_of.as_millisecond() + n * 3_600_000).unwrap_or(as_of)
    };
    let row = |id: i64, due: i64, replied: Option<i64>| DueRequest {
        id,
        tracking_code: format!("XC{id}"),
        status: "dispatched".into(),
        category: None,
        street: None,
        unit: Some("u".into()),
        received_at: h(-200),
        completion_due: h(due),
        replied_at: replied.map(h),
    };
    let rows = [
        row(1, -48, None),     // 48 h late, open
        row(2, -10, Some(-4)), // replied 6 h late
        row(3, -5, Some(-6)),  // replied in time
        row(4, 1, None),       // not due yet
        row(5, -2, Some(1)),   // replied after the cut-off: 2 h late, not replied as of then
    ];
    let o = overdue(&rows, as_of);
    let ids: Vec<_> = o.iter().map(|x| x.id).collect();
    assert_eq!(ids, [1, 2, 5]);
    close(o[0].late_hours, 48.0, "r1 hours");
    close(o[0].late_days, 2.0, "r1 days");
    close(o[1].late_hours, 6.0, "r2 hours");
    close(o[1].late_days, 0.3, "r2 days (0.25 rounded)");
    assert_eq!(o[1].replied_at, Some(h(-4)));
    assert_eq!(o[2].replied_at, None);
}
