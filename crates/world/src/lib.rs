//! The deployment's world as data: regions, units, the category tree, the SLA policy, the
//! working calendar's holidays and the assessment weights. Loaded from a folder of CSV/TOML files
//! (see `world/xicheng/`), validated with file:line precise errors, never compiled in.
//!
//! This crate only describes and validates configuration; the rules that use it (deadlines,
//! routing, scores) live in `jiesu-domain`.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A span of time a deadline is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Calendar hours, 24/7 (emergencies, water/power/gas/heat).
    Hours(u32),
    /// Working days on the Chinese calendar: ends 23:59:59 local on the Nth working day strictly
    /// after the start's local date.
    WorkingDays(u32),
}

/// 区 the district itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub code: String,
    pub name: String,
    pub population: u64,
    /// IANA zone all local dates are reckoned in (Asia/Shanghai).
    pub time_zone: String,
}

/// 街道 a street (sub-district).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Street {
    /// 9-digit NBS code, e.g. 110102001.
    pub code: String,
    pub name: String,
    pub population: u64,
}

/// 社区 a community under a street.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// 12-digit NBS code.
    pub code: String,
    pub name: String,
    pub street_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 街道办事处 a street office.
    Street,
    /// 区委办局 a district department.
    Department,
    /// 公共服务企业 a utility (heat, gas, water, power).
    Utility,
    /// 服务商 a service provider.
    Provider,
}

/// 承办单位 a unit that handles requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable ASCII code: a street office uses its street's NBS code, others an English slug.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// For a street office, the street it serves.
    pub street_code: Option<String>,
}

/// Who handles a category by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "unit")]
pub enum Responsible {
    /// The street office of the street the request is located in.
    Street,
    /// A named unit (department or utility).
    Unit(String),
}

/// A node in the category tree. Leaves (no children) carry routing and SLA defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    /// Set on leaves.
    pub responsible: Option<Responsible>,
    /// Code of an SLA class; set on leaves.
    pub sla_class: Option<String>,
    /// Words that suggest this category (used by rules and the lexicon).
    pub keywords: Vec<String>,
}

/// A deadline class: how long to respond (签收 + first contact) and to complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaClass {
    pub code: String,
    pub name: String,
    pub response: Span,
    pub completion: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub classes: Vec<SlaClass>,
    /// Class used for requests flagged urgent/emergency regardless of category.
    pub emergency_class: String,
    /// Class used when a category names none.
    pub default_class: String,
    /// Fraction of the allowed time after which a warning is raised (e.g. 0.8).
    pub warning_ratio: f64,
    /// Response clock for a department called in by 吹哨.
    pub whistle_response: Span,
    /// Time the callback (回访) must happen within after the reply.
    pub callback: Span,
    /// Longest extension (延期) one approval may grant.
    pub max_extension: Span,
}

/// How a callback's satisfaction answer is scored, and the composite's weights (percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentWeights {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
    /// Score of 满意 / 基本满意 / 不满意 on a 0–100 scale.
    pub satisfied_score: f64,
    pub basically_satisfied_score: f64,
    pub unsatisfied_score: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off that would otherwise be a working day (or a weekend inside a break).
    Holiday,
    /// 调休: a Saturday or Sunday that is a working day.
    MakeupWorkday,
}

/// Statutory holidays and makeup workdays, one file a year (`date,name,kind`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HolidayTable {
    pub days: BTreeMap<Date, (DayKind, String)>,
    /// Years that have a file; outside them the calendar is a plain week (with a warning).
    pub years: std::collections::BTreeSet<i16>,
}

/// The whole deployment world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub district: District,
    pub streets: Vec<Street>,
    pub communities: Vec<Community>,
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    pub sla: SlaPolicy,
    pub holidays: HolidayTable,
    pub weights: AssessmentWeights,
}
