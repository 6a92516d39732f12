//! 老年人能力评估 (GB/T 42195-2022): 26 items in four areas scored to 0–90, the grade derived
//! from the scores and two adjustments, never typed.
//!
//! Item maxima and grade bands as we read the standard's Annex B and §6 (the standard's text is
//! not in the repository): 能力完好 90, 轻度失能 66–89, 中度失能 46–65, 重度失能 30–45, 完全失能
//! 0–29; 昏迷 is 完全失能 whatever the score; a diagnosis of dementia or another mental disorder,
//! or two or more care-risk events (fall, wandering, choking, self-harm) in the last 30 days,
//! raise the preliminary grade by one.

use crate::error::DomainError;
use crate::model::vocabulary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// (code, area, item, maximum score).
pub const ITEMS: &[(&str, &str, &str, u8)] = &[
    ("B1.1", "自理能力", "进食", 4),
    ("B1.2", "自理能力", "修饰", 4),
    ("B1.3", "自理能力", "洗澡", 4),
    ("B1.4", "自理能力", "穿/脱上衣", 4),
    ("B1.5", "自理能力", "穿/脱裤子和鞋袜", 4),
    ("B1.6", "自理能力", "小便控制", 4),
    ("B1.7", "自理能力", "大便控制", 4),
    ("B1.8", "自理能力", "如厕", 4),
    ("B2.1", "基础运动能力", "床上体位转移", 4),
    ("B2.2", "基础运动能力", "床椅转移", 4),
    ("B2.3", "基础运动能力", "平地行走", 4),
    ("B2.4", "基础运动能力", "上下楼梯", 3),
    ("B3.1", "精神状态", "时间定向", 4),
    ("B3.2", "精神状态", "空间定向", 4),
    ("B3.3", "精神状态", "人物定向", 4),
    ("B3.4", "精神状态", "记忆", 4),
    ("B3.5", "精神状态", "理解能力", 4),
    ("B3.6", "精神状态", "表达能力", 4),
    ("B3.7", "精神状态", "攻击行为", 1),
    ("B3.8", "精神状态", "抑郁症状", 1),
    ("B3.9", "精神状态", "意识水平", 2),
    ("B4.1", "感知觉与社会参与", "视力", 2),
    ("B4.2", "感知觉与社会参与", "听力", 2),
    ("B4.3", "感知觉与社会参与", "执行日常事务", 4),
    ("B4.4", "感知觉与社会参与", "使用交通工具外出", 3),
    ("B4.5", "感知觉与社会参与", "社会交往能力", 4),
];

vocabulary! {
    /// 能力等级, from best to worst.
    Grade {
        Intact = "intact" / "能力完好",
        Mild = "mild" / "轻度失能",
        Moderate = "moderate" / "中度失能",
        Severe = "severe" / "重度失能",
        Complete = "complete" / "完全失能",
    }
}

/// An assessment as recorded: the item scores and the facts the adjustments read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentInput {
    pub date: jiff::civil::Date,
    pub assessor: String,
    /// Item code → score; every item of [`ITEMS`] exactly once.
    pub scores: BTreeMap<String, u8>,
    #[serde(default)]
    pub coma: bool,
    /// 痴呆 (F00–F03) or another mental and behavioural disorder (F04–F99) diagnosed.
    #[serde(default)]
    pub dementia_or_mental_disorder: bool,
    /// Care-risk events (fall, wandering, choking, self-harm, other) in the last 30 days.
    #[serde(default)]
    pub risk_events_30d: u8,
}

/// The derived result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentResult {
    pub total: u8,
    /// The grade from the score alone.
    pub preliminary: Grade,
    pub grade: Grade,
}

fn band(total: u8) -> Grade {
    match total {
        90.. => Grade::Intact,
        66..=89 => Grade::Mild,
        46..=65 => Grade::Moderate,
        30..=45 => Grade::Severe,
        _ => Grade::Complete,
    }
}

fn worse(g: Grade) -> Grade {
    let i = Grade::ALL.iter().position(|x| *x == g).unwrap_or(0);
    Grade::ALL[(i + 1).min(Grade::ALL.len() - 1)]
}

/// Checks every item is scored once within its range, and derives the grade.
pub fn grade(
    a: &AssessmentInput,
    today: jiff::civil::Date,
) -> Result<AssessmentResult, DomainError> {
    if a.date > today {
        return Err(DomainError::invalid(
            "date",
            "date_in_future",
            "must not be in the future",
        ));
    }
    if a.assessor.trim().is_empty() {
        return Err(DomainError::invalid(
            "assessor",
            "empty",
            "must not be empty",
        ));
    }
    for code in a.scores.keys() {
        if !ITEMS.iter().any(|(c, ..)| c == code) {
            return Err(DomainError::invalid(
                &format!("scores.{code}"),
                "unknown_item",
                "not an item of GB/T 42195-2022",
            ));
        }
    }
    let mut total: u8 = 0;
    for (code, _, item, max) in ITEMS {
        let Some(&s) = a.scores.get(*code) else {
            return Err(DomainError::invalid(
                &format!("scores.{code}"),
                "missing_item",
                format!("{item} is not scored"),
            ));
        };
        if s > *max {
            return Err(DomainError::invalid(
                &format!("scores.{code}"),
                "score_out_of_range",
                format!("{item} scores 0–{max}"),
            ));
        }
        total += s;
    }
    let preliminary = band(total);
    let grade = if a.coma {
        Grade::Complete
    } else {
        let mut g = preliminary;
        if a.dementia_or_mental_disorder {
            g = worse(g);
        }
        if a.risk_events_30d >= 2 {
            g = worse(g);
        }
        g
    };
    Ok(AssessmentResult {
        total,
        preliminary,
        grade,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(score: impl Fn(u8) -> u8) -> AssessmentInput {
        AssessmentInput {
            date: jiff::civil::date(2026, 11, 1),
            assessor: "评估员甲".into(),
            scores: ITEMS
                .iter()
                .map(|(c, .., m)| (c.to_string(), score(*m)))
                .collect(),
            coma: false,
            dementia_or_mental_disorder: false,
            risk_events_30d: 0,
        }
    }
    const TODAY: jiff::civil::Date = jiff::civil::date(2026, 12, 4);

    #[test]
    fn maxima_sum_to_90_and_bands() {
        assert_eq!(ITEMS.len(), 26);
        let r = grade(&all(|m| m), TODAY).unwrap();
        assert_eq!((r.total, r.grade), (90, Grade::Intact));
        assert_eq!(grade(&all(|_| 0), TODAY).unwrap().grade, Grade::Complete);
        for (t, g) in [
            (89, Grade::Mild),
            (66, Grade::Mild),
            (65, Grade::Moderate),
            (46, Grade::Moderate),
            (45, Grade::Severe),
            (30, Grade::Severe),
            (29, Grade::Complete),
        ] {
            assert_eq!(band(t), g, "{t}");
        }
    }

    #[test]
    fn adjustments() {
        let mut a = all(|m| m);
        a.dementia_or_mental_disorder = true;
        assert_eq!(grade(&a, TODAY).unwrap().grade, Grade::Mild);
        a.risk_events_30d = 2;
        let r = grade(&a, TODAY).unwrap();
        assert_eq!((r.preliminary, r.grade), (Grade::Intact, Grade::Moderate));
        a.coma = true;
        assert_eq!(grade(&a, TODAY).unwrap().grade, Grade::Complete);
        let mut z = all(|_| 0);
        z.risk_events_30d = 5;
        assert_eq!(grade(&z, TODAY).unwrap().grade, Grade::Complete);
    }

    #[test]
    fn refusals_name_the_item() {
        let mut a = all(|m| m);
        a.scores.insert("B2.4".into(), 4);
        let e = grade(&a, TODAY).unwrap_err();
        assert_eq!(e.code(), "score_out_of_range");
        assert!(e.to_string().starts_with("scores.B2.4:"), "{e}");
        let mut a = all(|m| m);
        a.scores.remove("B3.9");
        assert_eq!(grade(&a, TODAY).unwrap_err().code(), "missing_item");
        let mut a = all(|m| m);
        a.scores.insert("B9.9".into(), 1);
        assert_eq!(grade(&a, TODAY).unwrap_err().code(), "unknown_item");
        let mut a = all(|m| m);
        a.date = jiff::civil::date(2027, 1, 1);
        assert_eq!(grade(&a, TODAY).unwrap_err().code(), "date_in_future");
    }
}
