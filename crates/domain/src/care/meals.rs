//! 父母食堂 meals and Beijing's 养老助餐 subsidy rules (2022 实施意见), the amounts as data
//! (`jiesu_world::CareRules`): the elder's daily subsidy is deducted at payment when the elder
//! is a 基本养老服务对象 and the bill is above it, at most once per elder per day; the meal
//! point's operating subsidy is paid per actual diner per day.

use crate::error::DomainError;
use crate::model::vocabulary;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

vocabulary! {
    MealKind {
        Lunch = "lunch" / "午餐",
        Dinner = "dinner" / "晚餐",
    }
}

/// A meal as recorded at the point's till.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MealInput {
    pub elder_id: i64,
    pub point: String,
    pub date: Date,
    pub meal: MealKind,
    /// The bill in fen (integer: 12.5 元 is 1250).
    pub bill_fen: i64,
}

/// A stored meal with what was deducted at payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meal {
    pub id: i64,
    pub elder_id: i64,
    pub point: String,
    pub date: Date,
    pub meal: MealKind,
    pub bill_fen: i64,
    pub elder_subsidy_fen: i64,
    pub elder_paid_fen: i64,
    /// Voided after the fact (a till error); a claimed void is paid back in the next claim.
    pub voided: bool,
}

/// A meal's bill above 1,000 元 is a typing error, not a meal.
pub const MAX_BILL_FEN: i64 = 100_000;

/// Checks a meal as typed (the elder, the point and duplicates are the store's and app's).
pub fn validate_meal(m: &MealInput, today: Date) -> Result<(), DomainError> {
    if m.bill_fen < 0 {
        return Err(DomainError::invalid(
            "bill_fen",
            "negative_amount",
            "must not be negative",
        ));
    }
    if m.bill_fen > MAX_BILL_FEN {
        return Err(DomainError::invalid(
            "bill_fen",
            "amount_too_large",
            "at most 100000 fen (1000 元)",
        ));
    }
    if m.date < jiff::civil::date(2000, 1, 1) {
        return Err(DomainError::invalid(
            "date",
            "date_too_early",
            "must be in 2000 or later",
        ));
    }
    if m.date > today {
        return Err(DomainError::invalid(
            "date",
            "date_in_future",
            "must not be in the future",
        ));
    }
    Ok(())
}

/// The split of a bill at payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub elder_subsidy_fen: i64,
    pub elder_paid_fen: i64,
}

/// The elder's subsidy for this meal: the daily amount when the elder is eligible, the bill is
/// above it, and no meal of theirs that day has had it.
pub fn charge(bill_fen: i64, eligible: bool, subsidised_today: bool, daily_fen: i64) -> Charge {
    let s = if eligible && !subsidised_today && bill_fen > daily_fen {
        daily_fen
    } else {
        0
    };
    Charge {
        elder_subsidy_fen: s,
        elder_paid_fen: bill_fen - s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_cases() {
        // 15 元 lunch, eligible: 5 元 off.
        assert_eq!(
            charge(1500, true, false, 500),
            Charge {
                elder_subsidy_fen: 500,
                elder_paid_fen: 1000
            }
        );
        // The bill not above 5 元: no subsidy (the rule says "above").
        assert_eq!(charge(500, true, false, 500).elder_subsidy_fen, 0);
        assert_eq!(charge(480, true, false, 500).elder_paid_fen, 480);
        // The second meal of the day: none.
        assert_eq!(charge(1500, true, true, 500).elder_subsidy_fen, 0);
        // An ineligible elder: none.
        assert_eq!(charge(1500, false, false, 500).elder_subsidy_fen, 0);
    }

    #[test]
    fn bad_meals() {
        let today = jiff::civil::date(2026, 12, 4);
        let m = MealInput {
            elder_id: 1,
            point: "MP001".into(),
            date: today,
            meal: MealKind::Lunch,
            bill_fen: -1,
        };
        let e = validate_meal(&m, today).unwrap_err();
        assert!(e.to_string().starts_with("bill_fen:"), "{e}");
        let mut f = m.clone();
        f.bill_fen = 1200;
        f.date = jiff::civil::date(2026, 12, 5);
        assert_eq!(
            validate_meal(&f, today).unwrap_err().code(),
            "date_in_future"
        );
    }
}
