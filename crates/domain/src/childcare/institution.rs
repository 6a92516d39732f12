//! 托育机构 and their places: the institution, its classes by age band, and the national size
//! and staffing limits as data.
//!
//! The default band table is 国家卫健委《托育机构设置标准（试行）》(2019): 乳儿班 6–12 months,
//! at most 10 children, one carer per 3; 托小班 12–24 months, at most 15, one per 5; 托大班
//! 24–36 months, at most 20, one per 7. A district with stricter rules passes its own table.

use crate::directory::Directory;
use crate::error::DomainError;
use crate::model::vocabulary;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

vocabulary! {
    /// 普惠 (price agreed with the health commission, subsidised per place) or market-priced.
    InstitutionKind {
        Puhui = "puhui" / "普惠托育",
        Market = "market" / "市场化托育",
    }
}

vocabulary! {
    /// The class bands of the national standard, youngest first.
    Band {
        /// 乳儿班 6–12 months.
        Infant = "infant" / "乳儿班",
        /// 托小班 12–24 months.
        Toddler = "toddler" / "托小班",
        /// 托大班 24–36 months.
        Older = "older" / "托大班",
    }
}

/// The limits of one band: a child belongs to it when `min_months <= age < max_months` (full
/// months completed), a class holds at most `max_class_size` children, and needs one carer for
/// every `children_per_carer` children (rounded up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandRule {
    pub band: Band,
    pub min_months: u32,
    pub max_months: u32,
    pub max_class_size: u32,
    pub children_per_carer: u32,
}

impl BandRule {
    /// The fewest carers a class of `children` needs.
    pub fn carers_needed(&self, children: u32) -> u32 {
        children.div_ceil(self.children_per_carer.max(1))
    }
}

/// The band table (data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandRules {
    pub rules: Vec<BandRule>,
}

impl Default for BandRules {
    fn default() -> Self {
        Self::national()
    }
}

impl BandRules {
    /// 托育机构设置标准（试行）2019.
    pub fn national() -> Self {
        let r = |band, min_months, max_months, max_class_size, children_per_carer| BandRule {
            band,
            min_months,
            max_months,
            max_class_size,
            children_per_carer,
        };
        BandRules {
            rules: vec![
                r(Band::Infant, 6, 12, 10, 3),
                r(Band::Toddler, 12, 24, 15, 5),
                r(Band::Older, 24, 36, 20, 7),
            ],
        }
    }

    pub fn rule(&self, band: Band) -> Option<&BandRule> {
        self.rules.iter().find(|r| r.band == band)
    }

    /// The band of a child born on `birth` on `on`, if its age fits one.
    pub fn band_at(&self, birth: Date, on: Date) -> Option<Band> {
        let m = u32::try_from(months_between(birth, on)).ok()?;
        self.rules
            .iter()
            .find(|r| r.min_months <= m && m < r.max_months)
            .map(|r| r.band)
    }
}

/// The band of a child born on `birth` at the start date `start`, by the national table.
pub fn band_at(birth: Date, start: Date) -> Option<Band> {
    BandRules::national().band_at(birth, start)
}

/// Full months completed from `birth` to `on` (negative before birth). A month is complete on
/// the same day number, or on the last day of a shorter month (born 31 January: one month on
/// 28 February).
pub fn months_between(birth: Date, on: Date) -> i32 {
    let mut m = (i32::from(on.year()) - i32::from(birth.year())) * 12 + i32::from(on.month())
        - i32::from(birth.month());
    let last_day = on.day() == on.days_in_month();
    if on.day() < birth.day() && !last_day {
        m -= 1;
    }
    if on < birth { m.min(-1) } else { m.max(0) }
}

/// One class (班): its band, its size and its carers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub band: Band,
    /// Places in the class.
    pub capacity: u32,
    /// Carers (保育人员) assigned to it.
    pub carers: u32,
}

impl Class {
    /// Refuses a class above its band's size limit or below its staffing ratio; `field` is the
    /// class's path in the form (`classes[2]`).
    pub fn check(&self, rules: &BandRules, field: &str) -> Result<(), DomainError> {
        let Some(rule) = rules.rule(self.band) else {
            return Err(DomainError::invalid(
                &format!("{field}.band"),
                "unknown_value",
                "no such band in the rules",
            ));
        };
        if self.capacity == 0 {
            return Err(DomainError::invalid(
                &format!("{field}.capacity"),
                "bad_capacity",
                format!("at least 1, at most {}", rule.max_class_size),
            ));
        }
        if self.capacity > rule.max_class_size {
            return Err(DomainError::invalid(
                &format!("{field}.capacity"),
                "class_too_large",
                format!(
                    "a {} holds at most {} children",
                    self.band.label_zh(),
                    rule.max_class_size
                ),
            ));
        }
        let need = rule.carers_needed(self.capacity);
        if self.carers < need {
            return Err(DomainError::invalid(
                &format!("{field}.carers"),
                "too_few_carers",
                format!(
                    "1 carer per {} children: {} children need at least {need}",
                    rule.children_per_carer, self.capacity
                ),
            ));
        }
        Ok(())
    }
}

/// A contract between the institution and a primary-care provider (医育结合): health checks,
/// nutrition and growth monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthContract {
    /// The provider's code (社区卫生服务中心).
    pub provider: String,
    pub from: Date,
    /// Last day covered; `None`: open-ended.
    pub to: Option<Date>,
}

impl HealthContract {
    pub fn covers(&self, d: Date) -> bool {
        self.from <= d && self.to.is_none_or(|t| d <= t)
    }
}

/// A 托育机构 (or a community-embedded point, 社区嵌入式托育点).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// Stable code (the allocation and the application's choices refer to it).
    pub code: String,
    pub name: String,
    pub kind: InstitutionKind,
    /// 举办者.
    pub operator: String,
    pub street: String,
    pub community: String,
    pub address: String,
    /// 备案/登记 number.
    pub licence_no: String,
    /// A community-embedded point rather than a stand-alone centre.
    #[serde(default)]
    pub community_point: bool,
    /// 普惠 monthly price per child in fen (agreed with the health commission); market
    /// institutions may publish theirs.
    pub monthly_price_fen: Option<i64>,
    pub classes: Vec<Class>,
    pub health_contract: Option<HealthContract>,
}

/// The highest monthly price the rules accept (¥100,000), to catch a yuan/fen slip.
pub const MAX_PRICE_FEN: i64 = 10_000_000;

fn text(field: &str, v: &str, max: usize) -> Result<(), DomainError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "required", "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "control_characters",
            "contains control characters",
        ));
    }
    Ok(())
}

/// A code as the rest of jiesu writes them: 2–32 letters, digits, `-` or `_`.
pub fn check_code(field: &str, code: &str) -> Result<(), DomainError> {
    let ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            "bad_code",
            "2–32 letters, digits, - or _",
        ))
    }
}

impl Institution {
    /// The 卫健委 desk's validation of an institution as entered: texts, the community in its
    /// street, the price, and every class against `rules`.
    pub fn check(&self, rules: &BandRules, dir: &Directory) -> Result<(), DomainError> {
        check_code("code", &self.code)?;
        text("name", &self.name, 100)?;
        text("operator", &self.operator, 100)?;
        text("address", &self.address, 200)?;
        text("licence_no", &self.licence_no, 64)?;
        if dir.street(&self.street).is_none() {
            return Err(DomainError::invalid(
                "street",
                "unknown_street",
                "no such street",
            ));
        }
        match dir.community(&self.community) {
            Some(c) if c.street_code == self.street => {}
            Some(_) => {
                return Err(DomainError::invalid(
                    "community",
                    "community_not_in_street",
                    "the community is not in the institution's street",
                ));
            }
            None => {
                return Err(DomainError::invalid(
                    "community",
                    "unknown_community",
                    "no such community",
                ));
            }
        }
        match self.monthly_price_fen {
            None if self.kind == InstitutionKind::Puhui => {
                return Err(DomainError::invalid(
                    "monthly_price_fen",
                    "required",
                    "a 普惠 institution has an agreed price",
                ));
            }
            Some(p) if p < 0 => {
                return Err(DomainError::invalid(
                    "monthly_price_fen",
                    "negative_amount",
                    "must not be negative",
                ));
            }
            Some(p) if p > MAX_PRICE_FEN => {
                return Err(DomainError::invalid(
                    "monthly_price_fen",
                    "amount_too_large",
                    format!("at most {MAX_PRICE_FEN}"),
                ));
            }
            _ => {}
        }
        for (i, c) in self.classes.iter().enumerate() {
            c.check(rules, &format!("classes[{i}]"))?;
        }
        if let Some(h) = &self.health_contract {
            check_code("health_contract.provider", &h.provider)?;
            if h.to.is_some_and(|t| t < h.from) {
                return Err(DomainError::invalid(
                    "health_contract.to",
                    "bad_range",
                    "the end is before the start",
                ));
            }
        }
        Ok(())
    }

    /// Places per band (the sum of its classes' capacities); bands without a class are absent.
    pub fn places(&self) -> BTreeMap<Band, u32> {
        let mut m = BTreeMap::new();
        for c in &self.classes {
            *m.entry(c.band).or_insert(0) += c.capacity;
        }
        m
    }

    /// The bands it offers, youngest first.
    pub fn bands(&self) -> Vec<Band> {
        self.places().into_keys().collect()
    }

    /// Whether its places are subsidised (普惠).
    pub fn is_puhui(&self) -> bool {
        self.kind == InstitutionKind::Puhui
    }

    /// Refuses a place beyond the band's capacity: `taken` children already hold or are
    /// offered one (409, the app's count is the fact).
    pub fn check_room(&self, band: Band, taken: u32) -> Result<(), DomainError> {
        let cap = self.places().get(&band).copied().unwrap_or(0);
        if taken >= cap {
            return Err(DomainError::refused(
                "band_full",
                format!("all {cap} places of the {} are taken", band.label_zh()),
            ));
        }
        Ok(())
    }

    /// Refuses classes that leave a band with fewer places than the children enrolled in it
    /// (`enrolled` per band), naming the first class of that band.
    pub fn check_covers(&self, enrolled: &BTreeMap<Band, u32>) -> Result<(), DomainError> {
        let places = self.places();
        for (band, n) in enrolled {
            let cap = places.get(band).copied().unwrap_or(0);
            if *n > cap {
                let field = match self.classes.iter().position(|c| c.band == *band) {
                    Some(i) => format!("classes[{i}].capacity"),
                    None => "classes".to_string(),
                };
                return Err(DomainError::invalid(
                    &field,
                    "below_enrolled",
                    format!(
                        "more children are enrolled in the {} than its {cap} places; at least {n} needed",
                        band.label_zh()
                    ),
                ));
            }
        }
        Ok(())
    }
}
