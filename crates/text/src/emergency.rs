//! Emergency detection: requests to transfer at once (gas, fire, trapped, injured, violence)
//! or to answer within hours (no heat, water or power for vulnerable people).
//! Phrase lists favour recall: a false alarm costs an operator a glance, a miss can cost a life.

use serde::Serialize;

use crate::normalize::normalize;

/// How fast a request must be handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyLevel {
    None,
    /// 数小时内响应: hardship that must not wait for the normal deadline.
    Urgent,
    /// 立即转办: danger to life or property now.
    Immediate,
}

/// Emergency service to hand the caller to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Transfer {
    /// 110 police.
    #[serde(rename = "110")]
    Police,
    /// 119 fire and rescue.
    #[serde(rename = "119")]
    Fire,
    /// 120 ambulance.
    #[serde(rename = "120")]
    Ambulance,
    /// 122 traffic police.
    #[serde(rename = "122")]
    Traffic,
}

impl Transfer {
    pub fn number(self) -> &'static str {
        match self {
            Transfer::Police => "110",
            Transfer::Fire => "119",
            Transfer::Ambulance => "120",
            Transfer::Traffic => "122",
        }
    }
}

/// Detection result with the phrases that triggered it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmergencyFlag {
    pub level: EmergencyLevel,
    pub evidence: Vec<String>,
    pub transfer: Option<Transfer>,
}

struct Rule {
    phrases: &'static [&'static str],
    level: EmergencyLevel,
    transfer: Option<Transfer>,
}

use EmergencyLevel::{Immediate, Urgent};

/// Ordered by priority: when several rules match, the first one decides the transfer.
const RULES: &[Rule] = &[
    Rule {
        phrases: &[
            "燃气泄漏",
            "燃气泄露",
            "煤气泄漏",
            "煤气泄露",
            "天然气泄漏",
            "天然气泄露",
            "漏气",
            "煤气味",
            "燃气味",
            "天然气味",
            "闻到燃气",
            "闻到煤气",
            "闻到天然气",
            "液化气泄漏",
            "煤气中毒",
            "一氧化碳中毒",
        ],
        level: Immediate,
        transfer: Some(Transfer::Fire),
    },
    Rule {
        phrases: &[
            "着火",
            "起火",
            "失火",
            "火灾",
            "冒烟",
            "浓烟",
            "烧起来",
            "火情",
            "爆炸",
            "明火",
        ],
        level: Immediate,
        transfer: Some(Transfer::Fire),
    },
    Rule {
        phrases: &[
            "被困",
            "困在电梯",
            "困在楼",
            "关在电梯",
            "电梯困人",
            "电梯里出不来",
            "卡在电梯",
            "出不来了",
            "落水",
            "溺水",
            "触电",
            "坍塌",
            "塌了",
            "跳楼",
            "轻生",
            "自杀",
        ],
        level: Immediate,
        transfer: Some(Transfer::Fire),
    },
    Rule {
        phrases: &[
            "打人",
            "殴打",
            "持刀",
            "拿刀",
            "砍人",
            "捅人",
            "家暴",
            "家庭暴力",
            "抢劫",
            "绑架",
            "行凶",
            "斗殴",
            "威胁要杀",
            "杀人",
            "性侵",
            "猥亵",
            "走失",
            "失踪",
        ],
        level: Immediate,
        transfer: Some(Transfer::Police),
    },
    Rule {
        phrases: &["车祸", "撞人", "被车撞", "交通事故", "撞车", "肇事逃逸"],
        level: Immediate,
        transfer: Some(Transfer::Traffic),
    },
    Rule {
        phrases: &[
            "摔倒",
            "跌倒",
            "摔伤",
            "晕倒",
            "昏倒",
            "昏迷",
            "不省人事",
            "倒地",
            "受伤流血",
            "流血不止",
            "大出血",
            "呼吸困难",
            "心脏病发",
            "喘不上气",
            "抽搐",
            "没有意识",
            "叫不醒",
            "中毒",
            "急救",
        ],
        level: Immediate,
        transfer: Some(Transfer::Ambulance),
    },
    Rule {
        phrases: &[
            "没有暖气",
            "没暖气",
            "暖气不热",
            "暖气不通",
            "停暖",
            "不供暖",
            "没有供暖",
            "停水",
            "没有水",
            "没水",
            "断水",
            "停电",
            "没电",
            "断电",
            "没有电",
            "水管爆裂",
            "爆管",
            "冻裂",
            "井盖丢失",
            "没有井盖",
            "电线掉落",
            "电线断了",
            "漏电",
            "高空坠物",
            "独居老人",
            "老人联系不上",
            "孤寡老人",
        ],
        level: Urgent,
        transfer: None,
    },
];

/// Words that, right before a phrase, deny it (`没有闻到煤气味`, `并未着火`).
/// Bare `不` and `无` are left out: `身体不好摔倒了` must still fire.
const NEGATIONS: &[&str] = &["没有", "没", "未", "不是", "并非", "无人", "并无"];

/// How many characters before a phrase a negation may sit (`没有闻到` + `煤气味`).
const NEGATION_WINDOW: usize = 4;

/// Flag emergencies in `text`. Matching runs over the normalised text; a phrase whose
/// preceding few characters hold a negation (and no punctuation) does not count.
pub fn detect_emergency(text: &str) -> EmergencyFlag {
    let text = normalize(text);
    let mut level = EmergencyLevel::None;
    let mut transfer = None;
    let mut evidence: Vec<String> = Vec::new();
    for rule in RULES {
        for phrase in rule.phrases {
            let affirmed = text
                .match_indices(phrase)
                .any(|(at, _)| !negated(&text[..at], phrase));
            if !affirmed {
                continue;
            }
            // Prefer the longest evidence: `燃气泄漏` already covers `漏气`-like fragments.
            if evidence.iter().any(|e| e.contains(phrase)) {
                continue;
            }
            evidence.push((*phrase).to_string());
            if rule.level > level {
                level = rule.level;
                transfer = rule.transfer;
            } else if rule.level == level && transfer.is_none() {
                transfer = rule.transfer;
            }
        }
    }
    EmergencyFlag {
        level,
        evidence,
        transfer,
    }
}

/// True when a negation ends within the window just before the phrase. Phrases that
/// already contain a negation (`没有暖气`) are never treated as negated.
fn negated(before: &str, phrase: &str) -> bool {
    if NEGATIONS.iter().any(|n| phrase.starts_with(n)) {
        return false;
    }
    let window: String = {
        let tail: Vec<char> = before.chars().rev().take(NEGATION_WINDOW).collect();
        tail.into_iter().rev().collect()
    };
    // Punctuation ends the clause: `没有人管，着火了` is an emergency.
    let clause = window
        .rsplit([',', '.', '。', ';', '!', '?', '、', ' '])
        .next()
        .unwrap_or("");
    NEGATIONS.iter().any(|n| clause.contains(n))
}
