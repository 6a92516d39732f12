//! The vocabulary of a request: types, channels, roles, statuses and outcomes.
//!
//! Every enum serialises as a stable snake_case English code (the API's language) and has a
//! Chinese label for the UI.

/// Implements `as_str`, `label_zh`, `ALL`, `Display` and `FromStr` from one table so the code,
/// the label and the parser can never drift apart.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(|_| <D::Error as ::serde::de::Error>::unknown_variant(&s, &[$($code),+]))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label_zh(self) -> &'static str { match self { $($name::$variant => $zh),+ } }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl ::std::str::FromStr for $name {
            type Err = $crate::model::UnknownCode;
            fn from_str(s: &str) -> Result<Self, $crate::model::UnknownCode> {
                match s {
                    $($code | $zh => Ok($name::$variant),)+
                    _ => Err($crate::model::UnknownCode { kind: stringify!($name), value: s.to_string() }),
                }
            }
        }
    };
}
pub(crate) use vocabulary;

/// A value that is not one of an enum's codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub value: String,
}

vocabulary! {
    /// 诉求类型 (条例 Art.2).
    RequestType {
        Consultation = "consultation" / "咨询",
        HelpRequest = "help_request" / "求助",
        Complaint = "complaint" / "投诉",
        Report = "report" / "举报",
        Suggestion = "suggestion" / "建议",
        Praise = "praise" / "表扬",
    }
}

vocabulary! {
    /// 渠道 how a request reached us.
    Channel {
        Hotline = "hotline" / "12345热线",
        Web = "web" / "网站",
        App = "app" / "移动端",
        Open311 = "open311" / "Open311",
        Device = "device" / "设备报警",
        Enterprise = "enterprise" / "企事通",
        Import = "import" / "导入",
    }
}

vocabulary! {
    /// Account roles. `System` and `Citizen` are actors, never account roles.
    Role {
        /// 话务员
        Operator = "operator" / "话务员",
        /// 派单员
        Dispatcher = "dispatcher" / "派单员",
        /// 承办人 (bound to one unit)
        Handler = "handler" / "承办人",
        /// 回访员
        Callback = "callback" / "回访员",
        /// 考评/领导
        Supervisor = "supervisor" / "督办考评",
        Admin = "admin" / "管理员",
        /// 民政 elder-care administrator: the registry, providers, meal points, settlement.
        CareAdmin = "care_admin" / "民政养老管理员",
        /// 照护管理师 care manager (bound to a street): their elders, care plans, orders.
        CareManager = "care_manager" / "照护管理师",
        /// 养老服务商 a provider's staff (bound to one provider): its orders, visits, carers.
        Provider = "provider" / "养老服务商",
        /// 卫健委 childcare administrator: institutions, verification, rounds, subsidies.
        HealthAdmin = "health_admin" / "卫健委托育管理员",
        /// 托育机构 staff (bound to one institution's code): its applications, enrolments,
        /// health checks.
        Nursery = "nursery" / "托育机构",
        System = "system" / "系统",
        Citizen = "citizen" / "诉求人",
    }
}

impl Role {
    /// Roles a user account may hold.
    pub fn is_account_role(self) -> bool {
        !matches!(self, Role::System | Role::Citizen)
    }
    /// Roles that need the caller's name and phone to do their work (条例 Art.8/35: only those).
    pub fn sees_caller_identity(self) -> bool {
        matches!(
            self,
            Role::Operator | Role::Dispatcher | Role::Handler | Role::Callback
        )
    }
}

vocabulary! {
    /// Where a request stands in the lifecycle 受理 → 派单 → 签收 → 办理 → 答复 → 回访 → 办结.
    Status {
        Received = "received" / "已受理",
        Dispatched = "dispatched" / "已派单",
        /// 退单: the unit objected; waiting for the dispatcher.
        Returned = "returned" / "退单待审",
        Accepted = "accepted" / "已签收",
        InProgress = "in_progress" / "办理中",
        Replied = "replied" / "已答复",
        CalledBack = "called_back" / "已回访",
        /// 挂账: long-term, with a reason.
        Suspended = "suspended" / "挂账",
        Closed = "closed" / "已办结",
        /// 并单: merged into a master request.
        Merged = "merged" / "已并单",
    }
}

impl Status {
    /// No further handling: the request is out of every queue.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Merged)
    }
    /// Some unit is working on it, so its completion clock runs.
    pub fn is_in_handling(self) -> bool {
        matches!(
            self,
            Status::Dispatched | Status::Returned | Status::Accepted | Status::InProgress
        )
    }
}

vocabulary! {
    /// 满意度 as the callback records it.
    Satisfaction {
        Satisfied = "satisfied" / "满意",
        BasicallySatisfied = "basically_satisfied" / "基本满意",
        Unsatisfied = "unsatisfied" / "不满意",
    }
}

vocabulary! {
    /// The six special handlings of 条例 Art.11, which close a request at intake.
    SpecialHandling {
        /// Transfer to 110 (police).
        Transfer110 = "transfer_110" / "转110",
        /// Transfer to 119 (fire).
        Transfer119 = "transfer_119" / "转119",
        /// Transfer to 120 (ambulance).
        Transfer120 = "transfer_120" / "转120",
        /// Transfer to 122 (traffic police).
        Transfer122 = "transfer_122" / "转122",
        /// Belongs in litigation, arbitration, petition or another legal channel.
        LegalChannel = "legal_channel" / "依法定途径解决",
        /// Repeats a request already being handled.
        Repeat = "repeat" / "重复诉求",
        /// Touches state secrets, trade secrets or privacy.
        SecretsPrivacy = "secrets_privacy" / "涉密涉隐私",
        /// Outside the government's duties.
        OutsideDuty = "outside_duty" / "不属于职责范围",
        /// Asks for something against the law or public order.
        Illegal = "illegal" / "违法违规诉求",
    }
}

vocabulary! {
    /// How a request ended.
    CloseOutcome {
        /// Handled and the caller confirmed (or the callback closed it).
        Resolved = "resolved" / "已解决",
        /// Handled, but the callback found it unresolved and no reopen was ordered.
        Unresolved = "unresolved" / "未解决",
        /// A 咨询 answered on the spot.
        Answered = "answered" / "当场答复",
        /// One of the Art.11 special handlings.
        Special = "special" / "特殊处理",
        /// The caller could not be reached after the attempts the callback rules require.
        Unreachable = "unreachable" / "回访未联系上",
        /// 挂账 closed as a long-term matter.
        LongTerm = "long_term" / "挂账办结",
    }
}

vocabulary! {
    /// Why an escalation (督办) was raised.
    EscalationKind {
        Manual = "manual" / "人工督办",
        ResponseOverdue = "response_overdue" / "响应超时",
        CompletionOverdue = "completion_overdue" / "办理超时",
        WhistleOverdue = "whistle_overdue" / "吹哨报到超时",
    }
}

vocabulary! {
    /// How the unit reached the caller.
    ContactMethod {
        Phone = "phone" / "电话",
        Visit = "visit" / "上门",
        Sms = "sms" / "短信",
        Other = "other" / "其他",
    }
}

/// Statuses the SLA sweep and the "open" filter consider live.
pub const OPEN_STATUSES: &[Status] = &[
    Status::Received,
    Status::Dispatched,
    Status::Returned,
    Status::Accepted,
    Status::InProgress,
    Status::Replied,
    Status::CalledBack,
    Status::Suspended,
];
