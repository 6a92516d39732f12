//! An indicator as data: which of the twelve indices it belongs to, its unit and direction,
//! where its value comes from (a formula over the platform's records the app implements, or an
//! imported statistic with its source and date), its baseline and its target. A catalogue is a
//! list of them, read from a file (JSON here; the same serde types read TOML).
//!
//! Values are `f64`: indicators are shares, rates and per-1,000 ratios, not money (money stays
//! integer fen), and the progress measure needs real powers and roots. Every value entering
//! the domain is checked finite; the helpers in `rates` return `None`, never NaN.

use crate::error::DomainError;
use crate::model::vocabulary;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

vocabulary! {
    /// The twelve indices: 七有 and 五性.
    Index {
        ChildCare = "child_care" / "幼有所育",
        Education = "education" / "学有所教",
        Work = "work" / "劳有所得",
        Health = "health" / "病有所医",
        ElderCare = "elder_care" / "老有所养",
        Housing = "housing" / "住有所居",
        Vulnerable = "vulnerable" / "弱有所扶",
        Convenience = "convenience" / "便利性",
        Livability = "livability" / "宜居性",
        Diversity = "diversity" / "多样性",
        Fairness = "fairness" / "公正性",
        Safety = "safety" / "安全性",
    }
}

vocabulary! {
    /// 七有 or 五性.
    IndexGroup {
        SevenHaves = "seven_haves" / "七有",
        FiveQualities = "five_qualities" / "五性",
    }
}

impl Index {
    pub fn group(self) -> IndexGroup {
        match self {
            Index::ChildCare
            | Index::Education
            | Index::Work
            | Index::Health
            | Index::ElderCare
            | Index::Housing
            | Index::Vulnerable => IndexGroup::SevenHaves,
            _ => IndexGroup::FiveQualities,
        }
    }
}

vocabulary! {
    /// Which way is better.
    Direction {
        Higher = "higher" / "越高越好",
        Lower = "lower" / "越低越好",
    }
}

impl Direction {
    /// +1 for higher-is-better, −1 for lower-is-better (the `d` of the progress measure).
    pub fn sign(self) -> f64 {
        match self {
            Direction::Higher => 1.0,
            Direction::Lower => -1.0,
        }
    }
    /// Whether `value` meets `target` in this direction.
    pub fn meets(self, value: f64, target: f64) -> bool {
        match self {
            Direction::Higher => value >= target,
            Direction::Lower => value <= target,
        }
    }
}

/// Where the values come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// Computed by the app from the platform's own records: `formula` names the function the
    /// app implements (see [`FORMULAS`]); `params` are its arguments (a category prefix, a
    /// limit in seconds).
    Computed {
        formula: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        params: BTreeMap<String, Value>,
    },
    /// An official statistic loaded from a file: who publishes it and the edition's date.
    Imported {
        source: String,
        date: jiff::civil::Date,
    },
}

/// A value in a year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub year: i16,
    pub value: f64,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// A stable code (`meal_points_per_1000_elders`).
    pub id: String,
    pub name: String,
    /// `%`, `个/千人`, `秒`, …
    pub unit: String,
    pub index: Index,
    pub direction: Direction,
    pub source: Source,
    pub baseline: Point,
    pub target: Point,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Indicator {
    pub fn is_imported(&self) -> bool {
        matches!(self.source, Source::Imported { .. })
    }
    /// The formula id of a computed indicator.
    pub fn formula(&self) -> Option<&str> {
        match &self.source {
            Source::Computed { formula, .. } => Some(formula),
            Source::Imported { .. } => None,
        }
    }
}

/// A catalogue of indicators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub indicators: Vec<Indicator>,
}

impl Catalogue {
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
    /// The indicators of one index, in catalogue order.
    pub fn of_index(&self, index: Index) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().filter(move |i| i.index == index)
    }
}

/// The formulas the default catalogue names, each with what the app computes (numerator /
/// denominator over the period and area). The app implements these; a catalogue naming
/// another formula is refused by [`validate_catalogue`] unless the app lists it.
pub const FORMULAS: &[(&str, &str)] = &[
    (
        "response_rate",
        "requests answered (signed) within their response limit / requests received; params: category_prefix (optional)",
    ),
    (
        "resolution_rate",
        "requests rated resolved at callback / requests called back; params: category_prefix (optional)",
    ),
    (
        "satisfaction_rate",
        "satisfied + basically satisfied / requests rated; params: category_prefix (optional)",
    ),
    (
        "mean_response_hours",
        "mean hours from received to signed, over requests signed in the period",
    ),
    (
        "requests_per_10000_residents",
        "requests received × 10,000 / residents; params: category_prefix",
    ),
    (
        "street_resolution_rate_gap",
        "highest street resolution rate − lowest, in percentage points",
    ),
    (
        "puhui_place_share",
        "普惠 childcare places / all registered childcare places",
    ),
    (
        "places_per_1000_under3",
        "childcare places × 1,000 / children under 3",
    ),
    (
        "meal_points_per_1000_elders",
        "active meal points × 1,000 / registered elders (60+)",
    ),
    (
        "care_managers_per_1000_80plus",
        "active care managers × 1,000 / registered elders aged 80+",
    ),
    (
        "alone_80plus_working_button_share",
        "80+ living alone with a 一键呼 button that reported in the last 30 days / 80+ living alone",
    ),
    (
        "alarms_ack_within_secs_share",
        "alarms acknowledged within params.secs / alarms raised (false alarms included)",
    ),
    (
        "alarms_on_site_within_secs_share",
        "alarms with someone on site within params.secs of acknowledgement / alarms needing a visit",
    ),
    (
        "orders_visited_on_time_share",
        "service orders whose visit started within 15 min of the slot / orders with a visit",
    ),
    (
        "vulnerable_elders_visited_share",
        "低保/特困 elders with a care-manager visit in the month / 低保/特困 elders",
    ),
    (
        "service_kinds_offered_mean",
        "mean over streets of the service kinds some active provider offers there",
    ),
    (
        "enterprise_resolution_rate",
        "enterprise-channel requests rated resolved / enterprise-channel requests called back",
    ),
];

/// Parses a catalogue (JSON) and validates it against the formulas the app implements.
/// Errors name their path: `indicators[3]` (shape, with serde's words), `indicators[3].id`,
/// `indicators[3].target.year`, `indicators[3].source.formula`.
pub fn parse_catalogue(json: &str, formulas: &[&str]) -> Result<Catalogue, DomainError> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| DomainError::invalid("catalogue", "malformed_json", e.to_string()))?;
    let items = v
        .get("indicators")
        .and_then(Value::as_array)
        .ok_or_else(|| DomainError::invalid("indicators", "required", "a list of indicators"))?;
    if let Some(k) = v
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "indicators"))
    {
        return Err(DomainError::invalid(
            k,
            "unknown_field",
            "not a catalogue field",
        ));
    }
    let mut indicators = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ind: Indicator = serde_json::from_value(item.clone()).map_err(|e| {
            DomainError::invalid(&format!("indicators[{i}]"), "invalid", e.to_string())
        })?;
        indicators.push(ind);
    }
    let cat = Catalogue { indicators };
    validate_catalogue(&cat, formulas)?;
    Ok(cat)
}

fn is_code(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a catalogue: codes, unique ids, names and units, finite values, a target year after
/// the baseline year, known formulas, imported statistics with a source.
pub fn validate_catalogue(cat: &Catalogue, formulas: &[&str]) -> Result<(), DomainError> {
    for (i, ind) in cat.indicators.iter().enumerate() {
        let at = |f: &str| format!("indicators[{i}].{f}");
        if !is_code(&ind.id) {
            return Err(DomainError::invalid(
                &at("id"),
                "invalid",
                "2–64 lower-case letters, digits or `_`",
            ));
        }
        if cat.indicators[..i].iter().any(|o| o.id == ind.id) {
            return Err(DomainError::invalid(
                &at("id"),
                "duplicate",
                format!("`{}` is defined twice", ind.id),
            ));
        }
        for (f, v, max) in [("name", &ind.name, 100), ("unit", &ind.unit, 20)] {
            let n = v.trim().chars().count();
            if n == 0 {
                return Err(DomainError::invalid(&at(f), "empty", "must not be empty"));
            }
            if n > max {
                return Err(DomainError::invalid(
                    &at(f),
                    "too_long",
                    format!("at most {max} characters"),
                ));
            }
        }
        for (f, p) in [("baseline", ind.baseline), ("target", ind.target)] {
            if !p.value.is_finite() {
                return Err(DomainError::invalid(
                    &at(&format!("{f}.value")),
                    "invalid",
                    "must be a finite number",
                ));
            }
            if !(1990..=2100).contains(&p.year) {
                return Err(DomainError::invalid(
                    &at(&format!("{f}.year")),
                    "out_of_range",
                    "a year from 1990 to 2100",
                ));
            }
        }
        if ind.target.year <= ind.baseline.year {
            return Err(DomainError::invalid(
                &at("target.year"),
                "out_of_range",
                "the target year must come after the baseline year",
            ));
        }
        match &ind.source {
            Source::Computed { formula, .. } => {
                if !formulas.contains(&formula.as_str()) {
                    return Err(DomainError::invalid(
                        &at("source.formula"),
                        "unknown_value",
                        format!("`{formula}` is not a formula the platform computes"),
                    ));
                }
            }
            Source::Imported { source, .. } => {
                if source.trim().is_empty() {
                    return Err(DomainError::invalid(
                        &at("source.source"),
                        "empty",
                        "name the publisher",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The formula ids of [`FORMULAS`].
pub fn formula_ids() -> Vec<&'static str> {
    FORMULAS.iter().map(|(id, _)| *id).collect()
}
