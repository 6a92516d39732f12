//! Who may do what: one table from capability to roles, and [`require`], which every door
//! goes through before a use case acts for a person.
//!
//! Two rules stay where they are enforced today, each in one place:
//! * which lifecycle command a role may give on a request, and in which state, is the
//!   domain's (`jiesu_domain::decide`), because it depends on the case;
//! * a handler sees only the requests its unit leads or co-handles (`jiesu_domain::can_see`,
//!   and the list scope in [`crate::requests`]); anything else answers 404.

use crate::error::{AppError, AppResult};
use jiesu_domain::Role;
use jiesu_store::User;

use Role::{
    Admin, Callback, CareAdmin, CareManager, Dispatcher, Handler, HealthAdmin, Nursery, Operator,
    Provider, Supervisor,
};

/// Something a door lets a person do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// 受理: record a request (the intake desk, `POST /requests`).
    RecordIntake,
    /// Routing suggestions on an intake draft.
    Suggest,
    /// Read requests (lists, detail, event log, export); a handler only its unit's.
    ReadRequests,
    /// Give lifecycle commands on a request (the domain then decides each command).
    ActOnRequests,
    /// The 派单台 dispatch board.
    DispatchBoard,
    /// The 承办队列 handler queue.
    HandlerQueue,
    /// The 回访台 callback desk.
    CallbackDesk,
    /// 考评: the assessment, the dashboard and the monthly report.
    ViewAssessment,
    /// Hot spots, spikes, recurring problems, keywords, overdue and bottom-rank flags.
    ViewAnalytics,
    /// How often intake suggestions matched where requests ended up.
    ViewSuggestionAccuracy,
    /// Run the SLA sweep now.
    RunSweep,
    /// Read the audit log.
    ViewAudit,
    /// Create and list accounts.
    ManageUsers,
    /// Edit the world: category routing, unit names, weights.
    EditWorld,
    /// Webhook subscribers and dead letters.
    ManageWebhooks,
    /// Open311 API keys.
    ManageApiKeys,
    /// Load newly trained models now.
    ReloadModels,
    /// Scrape `/metrics` (load and backlogs, no cases).
    ReadMetrics,
    /// 知识库: read and search the published 咨询 answers (editors and reviewers see the rest).
    ReadKnowledge,
    /// 知识库: write entries and submit them for review (a handler only its unit's).
    EditKnowledge,
    /// 知识库: approve or reject a revision someone else wrote.
    ReviewKnowledge,
    /// 知识库: answer from an entry (一键答复), count its use, mark it 没有帮助.
    UseKnowledge,
    /// 养老: register and edit elders, record capacity assessments.
    ManageElders,
    /// 养老: find elders (identities masked unless the role needs them) to act for them.
    ReadElders,
    /// 养老: providers, their price lists, coverage, slots; meal points.
    ManageCareNetwork,
    /// 养老: a provider's own desk — its orders, carers, price list.
    ProviderDesk,
    /// 养老: create service orders (from a request, a care plan).
    CreateCareOrders,
    /// 养老: read orders and give their commands (the domain then decides each).
    ActOnCareOrders,
    /// 养老: record meals at a meal point.
    RecordMeals,
    /// 养老: prepare and approve monthly settlement claims.
    SettleCare,
    /// 养老: the supply–demand view (温度计 → 指挥棒).
    ViewCareSupply,
    /// 一键呼: the alarm desk — take alarms, contact, dispatch, resolve.
    WorkAlarms,
    /// 一键呼: register and retire devices and vendors, edit streets' escalation chains.
    ManageDevices,
    /// 一键呼: the device registry, silent devices and their maintenance tasks.
    ViewDevices,
    /// 托育: institutions, verifying applications, rounds, the waiting list, subsidies.
    ManageChildcare,
    /// 托育: read institutions, places and applications (a nursery only its own).
    ReadChildcare,
    /// 托育: submit an application (the 卫健委 desk, or 12345 on a family's behalf).
    ApplyChildcare,
    /// 托育: an institution's desk — enrolments, leaving, health checks.
    NurseryDesk,
}

impl Capability {
    pub const ALL: &'static [Capability] = &[
        Capability::RecordIntake,
        Capability::Suggest,
        Capability::ReadRequests,
        Capability::ActOnRequests,
        Capability::DispatchBoard,
        Capability::HandlerQueue,
        Capability::CallbackDesk,
        Capability::ViewAssessment,
        Capability::ViewAnalytics,
        Capability::ViewSuggestionAccuracy,
        Capability::RunSweep,
        Capability::ViewAudit,
        Capability::ManageUsers,
        Capability::EditWorld,
        Capability::ManageWebhooks,
        Capability::ManageApiKeys,
        Capability::ReloadModels,
        Capability::ReadMetrics,
        Capability::ReadKnowledge,
        Capability::EditKnowledge,
        Capability::ReviewKnowledge,
        Capability::UseKnowledge,
        Capability::ManageElders,
        Capability::ReadElders,
        Capability::ManageCareNetwork,
        Capability::ProviderDesk,
        Capability::CreateCareOrders,
        Capability::ActOnCareOrders,
        Capability::RecordMeals,
        Capability::SettleCare,
        Capability::ViewCareSupply,
        Capability::WorkAlarms,
        Capability::ManageDevices,
        Capability::ViewDevices,
        Capability::ManageChildcare,
        Capability::ReadChildcare,
        Capability::ApplyChildcare,
        Capability::NurseryDesk,
    ];

    /// The roles that have this capability: the whole policy.
    pub fn roles(self) -> &'static [Role] {
        use Capability::*;
        match self {
            // Separation of duties (等保 三权分立): the admin administers; it neither records,
            // handles nor scores cases (callbacks feed 满意率). A deployment that wants one
            // person to do both gives them a second account with a handling role, so each act
            // is audited under the role it was done in.
            RecordIntake | Suggest => &[Operator, Dispatcher],
            ReadRequests => &[Operator, Dispatcher, Handler, Callback, Supervisor, Admin],
            ActOnRequests => &[Operator, Dispatcher, Handler, Callback, Supervisor],
            DispatchBoard => &[Dispatcher],
            HandlerQueue => &[Handler],
            CallbackDesk => &[Callback, Dispatcher],
            ViewAssessment | ViewAnalytics | ViewSuggestionAccuracy | RunSweep => {
                &[Supervisor, Dispatcher, Admin]
            }
            ViewAudit => &[Supervisor, Admin],
            ManageUsers | EditWorld | ManageWebhooks | ManageApiKeys | ReloadModels
            | ReadMetrics => &[Admin],
            ReadKnowledge => &[Operator, Dispatcher, Handler, Callback, Supervisor, Admin],
            // Admins and the responsible units write the answers; a second person reviews.
            EditKnowledge => &[Admin, Handler],
            ReviewKnowledge => &[Supervisor, Admin],
            UseKnowledge => &[Operator, Dispatcher, Callback],
            ManageElders => &[CareAdmin, CareManager],
            ReadElders => &[CareAdmin, CareManager, Operator, Dispatcher, Handler],
            ManageCareNetwork => &[CareAdmin],
            ProviderDesk => &[Provider],
            CreateCareOrders => &[CareAdmin, CareManager, Operator, Dispatcher, Handler],
            ActOnCareOrders => &[
                CareAdmin,
                CareManager,
                Operator,
                Dispatcher,
                Handler,
                Provider,
            ],
            RecordMeals => &[CareAdmin, Provider],
            SettleCare => &[CareAdmin],
            ViewCareSupply => &[CareAdmin, CareManager, Supervisor],
            // The desk roles of the alarm case (jiesu_domain::alarms); the domain checks again.
            WorkAlarms => &[Operator, Dispatcher, CareAdmin, CareManager],
            ManageDevices => &[CareAdmin],
            ViewDevices => &[CareAdmin, CareManager, Operator, Dispatcher, Supervisor],
            // The desks of the application case (jiesu_domain::childcare); the domain checks
            // again, and a nursery is scoped to its own institution.
            ManageChildcare => &[HealthAdmin],
            ReadChildcare => &[HealthAdmin, Nursery, Operator, Dispatcher, Supervisor],
            ApplyChildcare => &[HealthAdmin, Operator, Dispatcher],
            NurseryDesk => &[Nursery, HealthAdmin],
        }
    }

    /// What the capability is, for refusals a person reads.
    pub fn label(self) -> &'static str {
        use Capability::*;
        match self {
            RecordIntake => "受理 (recording requests)",
            Suggest => "routing suggestions",
            ReadRequests => "reading requests",
            ActOnRequests => "acting on requests",
            DispatchBoard => "the 派单台",
            HandlerQueue => "the 承办队列",
            CallbackDesk => "the 回访台",
            ViewAssessment => "the assessment",
            ViewAnalytics => "analytics",
            ViewSuggestionAccuracy => "suggestion accuracy",
            RunSweep => "the SLA sweep",
            ViewAudit => "the audit log",
            ManageUsers => "managing accounts",
            EditWorld => "editing the world",
            ManageWebhooks => "managing webhooks",
            ManageApiKeys => "managing Open311 keys",
            ReloadModels => "reloading models",
            ReadMetrics => "the metrics",
            ReadKnowledge => "知识库查阅",
            EditKnowledge => "知识库编辑",
            ReviewKnowledge => "知识库审核",
            UseKnowledge => "知识库答复",
            ManageElders => "养老对象登记",
            ReadElders => "查找老人",
            ManageCareNetwork => "养老服务网络",
            ProviderDesk => "服务商工作台",
            CreateCareOrders => "创建养老服务工单",
            ActOnCareOrders => "养老服务工单",
            RecordMeals => "助餐记录",
            SettleCare => "养老结算",
            ViewCareSupply => "养老供需分析",
            WorkAlarms => "一键呼接警台",
            ManageDevices => "一键呼设备管理",
            ViewDevices => "一键呼设备查看",
            ManageChildcare => "托育管理",
            ReadChildcare => "托育查阅",
            ApplyChildcare => "托育申请",
            NurseryDesk => "托育机构工作台",
        }
    }
}

/// True when `role` has `cap`.
pub fn allows(role: Role, cap: Capability) -> bool {
    cap.roles().contains(&role)
}

/// Refuses (`forbidden_role`) unless the user's role has `cap`.
pub fn require(user: &User, cap: Capability) -> AppResult<()> {
    require_role(user.role, cap)
}

/// [`require`] for a bare role.
pub fn require_role(role: Role, cap: Capability) -> AppResult<()> {
    if allows(role, cap) {
        Ok(())
    } else {
        let who: Vec<&str> = cap.roles().iter().map(|r| r.label_zh()).collect();
        Err(AppError::forbidden(format!(
            "{}: only {} may do this, not {}",
            cap.label(),
            who.join("、"),
            role.label_zh()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn citizens_and_the_system_hold_no_capability() {
        for cap in Capability::ALL {
            assert!(!allows(Role::Citizen, *cap), "{cap:?}");
            assert!(!allows(Role::System, *cap), "{cap:?}");
        }
    }

    #[test]
    fn every_capability_has_a_role_and_refusals_name_it() {
        for cap in Capability::ALL {
            assert!(!cap.roles().is_empty(), "{cap:?}");
            let refused = Role::ALL.iter().find(|r| !allows(**r, *cap)).copied();
            if let Some(r) = refused {
                let e = require_role(r, *cap).expect_err("refused");
                assert_eq!(e.kind, ErrorKind::Forbidden);
                assert_eq!(e.code, "forbidden_role");
                assert!(e.message.contains(cap.label()), "{}", e.message);
            }
        }
    }

    #[test]
    fn admins_do_not_handle_cases() {
        for cap in [
            Capability::RecordIntake,
            Capability::Suggest,
            Capability::ActOnRequests,
            Capability::DispatchBoard,
            Capability::HandlerQueue,
            Capability::CallbackDesk,
        ] {
            assert!(!allows(Role::Admin, cap), "{cap:?}");
        }
    }

    #[test]
    fn only_admins_administer() {
        for cap in [
            Capability::ManageUsers,
            Capability::EditWorld,
            Capability::ManageWebhooks,
            Capability::ManageApiKeys,
            Capability::ReloadModels,
        ] {
            for r in Role::ALL {
                assert_eq!(allows(*r, cap), *r == Role::Admin, "{r:?} {cap:?}");
            }
        }
    }
}
