//! How well the intake suggestions matched where requests ended up.
//!
//! Every intake stores what was suggested beside the request. The truth is the request's
//! routing *now* (category corrected later, the unit it was finally dispatched to), so the
//! figure tracks the models in production rather than the operator's first keystrokes.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::assessment::Period;
use jiesu_store::{SuggestionOutcome, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Rows read per query: a city month is millions of intakes, tallied page by page.
const PAGE: u32 = 5_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracyQuery {
    /// `2026-11`, `2026-W47`, `2026-11-05`, `2026-Q4` or `2026`.
    pub period: Option<String>,
}

/// Counts for one suggested field.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Counts {
    /// Intakes whose suggestion named a value.
    pub suggested: u64,
    /// Of those, requests whose final value is known (a unit only once dispatched).
    pub evaluated: u64,
    /// Of those, the suggestion equals the final value.
    pub agreed: u64,
    pub accuracy: Option<f64>,
    /// Evaluated suggestions that did not ask for a human, and how many of them agreed:
    /// what the ask-a-human threshold buys.
    pub confident: u64,
    pub confident_agreed: u64,
    pub confident_accuracy: Option<f64>,
    /// The final value was among the suggestion's top choices.
    pub in_top: u64,
    pub top_accuracy: Option<f64>,
}

impl Counts {
    fn add(&mut self, agreed: bool, confident: bool, in_top: bool) {
        self.evaluated += 1;
        self.agreed += u64::from(agreed);
        self.confident += u64::from(confident);
        self.confident_agreed += u64::from(confident && agreed);
        self.in_top += u64::from(in_top || agreed);
    }

    fn finish(&mut self) {
        let rate = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
        self.accuracy = rate(self.agreed, self.evaluated);
        self.confident_accuracy = rate(self.confident_agreed, self.confident);
        self.top_accuracy = rate(self.in_top, self.evaluated);
    }
}

/// One field, overall and by where the suggestion came from (`model`, `rules`, `address` …).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct FieldReport {
    #[serde(flatten)]
    pub all: Counts,
    pub by_source: BTreeMap<String, Counts>,
}

impl FieldReport {
    fn suggested(&mut self, source: &str) {
        self.all.suggested += 1;
        self.by_source
            .entry(source.to_string())
            .or_default()
            .suggested += 1;
    }

    fn add(&mut self, source: &str, agreed: bool, confident: bool, in_top: bool) {
        self.all.add(agreed, confident, in_top);
        self.by_source
            .entry(source.to_string())
            .or_default()
            .add(agreed, confident, in_top);
    }

    fn finish(&mut self) {
        self.all.finish();
        self.by_source.values_mut().for_each(Counts::finish);
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct AccuracyReport {
    pub period: String,
    /// Intakes in the period that stored a suggestion.
    pub requests: u64,
    /// Stored suggestions that could not be read (counted, not guessed at).
    pub unreadable: u64,
    /// Only the period's first `max_rows` intakes were read (a sample; see [`report`]).
    pub sampled: bool,
    pub request_type: FieldReport,
    pub category: FieldReport,
    pub unit: FieldReport,
    // Street and community are not here: the suggestion stored at intake is computed with the
    // operator's own street and community, which it never contradicts, and a request filed
    // without them keeps none to compare with. The resolver is measured by `address_bench`.
}

impl AccuracyReport {
    /// Adds one intake's suggestion and the request's routing now.
    pub fn tally(&mut self, o: &SuggestionOutcome) {
        self.requests += 1;
        let Ok(s) = serde_json::from_str::<Value>(&o.suggestion) else {
            self.unreadable += 1;
            return;
        };
        let truths = [
            Some(o.request_type.as_str()),
            o.category.as_deref(),
            o.lead_unit.as_deref(),
        ];
        for ((key, report), truth) in [
            ("request_type", &mut self.request_type),
            ("category", &mut self.category),
            ("unit", &mut self.unit),
        ]
        .into_iter()
        .zip(truths)
        {
            let field = &s[key];
            let Some(value) = field["value"].as_str() else {
                continue;
            };
            let source = field["source"].as_str().unwrap_or("unknown");
            report.suggested(source);
            let Some(truth) = truth else { continue };
            let confident = !field["needs_review"].as_bool().unwrap_or(true);
            let in_top = field["top"]
                .as_array()
                .is_some_and(|top| top.iter().any(|r| r["value"].as_str() == Some(truth)));
            report.add(source, value == truth, confident, in_top);
        }
    }

    pub fn finish(&mut self) {
        for r in [&mut self.request_type, &mut self.category, &mut self.unit] {
            r.finish();
        }
    }
}

/// The period's report, read page by page; with `max_rows`, from the period's first that
/// many intakes only (the dashboard's minute-by-minute refresh must not parse a city month).
pub async fn report(
    store: &jiesu_store::Store,
    period: &Period,
    max_rows: Option<u64>,
) -> AppResult<AccuracyReport> {
    let mut report = AccuracyReport {
        period: period.label.clone(),
        ..AccuracyReport::default()
    };
    let mut after = 0;
    loop {
        let rows = store
            .suggestion_outcomes(period.start, period.end, after, PAGE)
            .await?;
        for o in &rows {
            report.tally(o);
        }
        if max_rows.is_some_and(|m| report.requests >= m) {
            report.sampled = rows.len() == PAGE as usize;
            break;
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE as usize => after = last.request_id,
            _ => break,
        }
    }
    report.finish();
    Ok(report)
}

/// The accuracy report `q` asks for, for someone who may see it.
pub async fn accuracy(app: &App, user: &User, q: &AccuracyQuery) -> AppResult<AccuracyReport> {
    require(user, Capability::ViewSuggestionAccuracy)?;
    let period = q.period.as_deref().and_then(Period::parse).ok_or_else(|| {
        AppError::bad_query(
            "period",
            "a period: 2026-11, 2026-W47, 2026-11-05, 2026-Q4 or 2026",
        )
    })?;
    report(&app.store, &period, None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(suggestion: Value, category: Option<&str>, unit: Option<&str>) -> SuggestionOutcome {
        SuggestionOutcome {
            request_id: 1,
            suggestion: suggestion.to_string(),
            request_type: "complaint".into(),
            category: category.map(str::to_string),
            street: Some("110102012".into()),
            community: None,
            lead_unit: unit.map(str::to_string),
        }
    }

    fn suggested(value: &str, source: &str, needs_review: bool, top: &[&str]) -> Value {
        json!({
            "value": value, "source": source, "needs_review": needs_review, "confidence": 0.9,
            "top": top.iter().map(|v| json!({"value": v, "confidence": 0.3})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn agreement_is_counted_against_the_final_routing() {
        let mut r = AccuracyReport::default();
        // Right category, confident; the unit is not known yet (not dispatched).
        r.tally(&outcome(
            json!({
                "request_type": suggested("complaint", "model", false, &["complaint"]),
                "category": suggested("property.service", "model", false, &["property.service"]),
                "unit": suggested("110102012", "rules", false, &[]),
                "street": {"code": "110102012", "source": "operator", "confidence": 1.0},
                "community": null,
            }),
            Some("property.service"),
            None,
        ));
        // Wrong category, asked for review, the right one second in the top list; the unit
        // suggested from the address agrees with the dispatch.
        r.tally(&outcome(
            json!({
                "request_type": suggested("consultation", "model", true, &["consultation", "complaint"]),
                "category": suggested("noise.construction", "model", true, &["noise.construction", "property.service"]),
                "unit": suggested("110102012", "rules", true, &[]),
                "street": {"code": "110102012", "source": "address", "confidence": 0.95},
            }),
            Some("property.service"),
            Some("110102012"),
        ));
        r.tally(&SuggestionOutcome {
            suggestion: "not json".into(),
            ..outcome(json!({}), None, None)
        });
        r.finish();
        assert_eq!((r.requests, r.unreadable), (3, 1));
        let c = &r.category.all;
        assert_eq!((c.suggested, c.evaluated, c.agreed), (2, 2, 1));
        assert_eq!((c.confident, c.confident_agreed, c.in_top), (1, 1, 2));
        assert_eq!(c.accuracy, Some(0.5));
        assert_eq!(c.confident_accuracy, Some(1.0));
        assert_eq!(c.top_accuracy, Some(1.0));
        let u = &r.unit.all;
        assert_eq!((u.suggested, u.evaluated, u.agreed), (2, 1, 1));
        assert_eq!(r.unit.by_source["rules"].suggested, 2);
        assert_eq!(r.request_type.all.accuracy, Some(0.5));
        assert_eq!(r.request_type.all.top_accuracy, Some(1.0));
    }
}
