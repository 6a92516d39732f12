//! Elder-care registry records as the store returns them (identities opened; see
//! backend/care.rs for what is sealed).

use jiesu_domain::care::ability::{AssessmentInput, AssessmentResult};
use jiesu_domain::care::order::ServiceKind;
use jiesu_domain::care::person::ElderInput;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elder {
    pub id: i64,
    #[serde(flatten)]
    pub data: ElderInput,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: i64,
    pub elder_id: i64,
    #[serde(flatten)]
    pub input: AssessmentInput,
    #[serde(flatten)]
    pub result: AssessmentResult,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

/// One line of a provider's price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceItem {
    pub service: ServiceKind,
    pub price_fen: i64,
    pub copay_fen: i64,
}

/// A weekly slot: weekday 1 (Monday)–7, minutes from midnight, visits it can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklySlot {
    pub weekday: u8,
    pub start_min: u16,
    pub end_min: u16,
    pub capacity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub code: String,
    pub name: String,
    /// Where the provider is based (the matcher's distance).
    pub street: String,
    pub community: String,
    pub phone: String,
    pub active: bool,
    pub services: Vec<PriceItem>,
    /// Community codes served.
    pub coverage: Vec<String>,
    pub slots: Vec<WeeklySlot>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carer {
    pub id: i64,
    pub provider: String,
    pub name: String,
    pub skills: Vec<ServiceKind>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MealPoint {
    pub code: String,
    pub name: String,
    pub street: String,
    pub community: String,
    pub address: String,
    /// Diners per meal.
    pub capacity: u32,
    /// Opening hours as shown, e.g. "11:00-13:00 17:00-18:30".
    pub hours: String,
    pub active: bool,
    /// Community codes served.
    pub communities: Vec<String>,
}

/// A care plan's recurring visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePlan {
    pub id: i64,
    pub elder_id: i64,
    pub service: ServiceKind,
    /// 1 (Monday)–7.
    pub weekdays: Vec<u8>,
    pub start_min: u16,
    pub duration_min: u16,
    pub from_date: jiff::civil::Date,
    pub to_date: jiff::civil::Date,
    pub created_by: String,
}

/// Filter of the elder list.
#[derive(Debug, Clone, Default)]
pub struct ElderQuery {
    pub street: Option<String>,
    pub community: Option<String>,
    pub care_manager: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// Per-community counts for the supply–demand view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityCare {
    pub community: String,
    pub elders: i64,
    pub elders_80: i64,
    pub living_alone: i64,
    pub meal_points: i64,
    pub providers: i64,
}
