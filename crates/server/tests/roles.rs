//! The role matrix: every capability of `jiesu_app::policy` × every account role, through the
//! doors (the JSON API, and the web pages for the desks). A role the policy refuses gets 403
//! `forbidden_role` naming the capability; a role it allows is never refused by the policy
//! (the domain may still refuse a command for the case's state, with its own reason).

mod common;

use common::*;
use jiesu_app::policy::{self, Capability};
use jiesu_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One way through a door that needs `cap`.
enum Probe {
    Api(&'static str, String, Option<Value>),
    Page(String),
}

fn probes(cap: Capability, id: i64) -> Vec<Probe> {
    use Probe::*;
    let intake = json!({
        "request_type": "complaint",
        "category": STREET_CATEGORY,
        "street": STREET,
        "text": "楼道里堆满杂物，物业一直不清理，存在消防隐患。",
    });
    match cap {
        Capability::RecordIntake => vec![
            Api("POST", "/api/v1/requests".into(), Some(intake)),
            Page("/intake".into()),
        ],
        Capability::Suggest => vec![Api(
            "POST",
            "/api/v1/requests/suggest".into(),
            Some(json!({"text": "暖气不热，家里只有十五度。"})),
        )],
        Capability::ReadRequests => vec![
            Api("GET", "/api/v1/requests".into(), None),
            Api("GET", format!("/api/v1/requests/{id}/events"), None),
            Page("/requests".into()),
        ],
        Capability::ActOnRequests => vec![Api(
            "POST",
            format!("/api/v1/requests/{id}/escalate"),
            Some(json!({"reason": "矩阵测试"})),
        )],
        Capability::DispatchBoard => vec![Page("/board".into())],
        Capability::HandlerQueue => vec![Page("/queue".into())],
        Capability::CallbackDesk => vec![Page("/callback".into())],
        Capability::ViewAssessment => vec![
            Api("GET", "/api/v1/assessment?period=2026-11".into(), None),
            Page("/dashboard".into()),
        ],
        Capability::ViewAnalytics => vec![
            Api(
                "GET",
                "/api/v1/analytics/hotspots?period=2026-11".into(),
                None,
            ),
            Api(
                "GET",
                "/api/v1/analytics/overdue?period=2026-11".into(),
                None,
            ),
        ],
        Capability::ViewSuggestionAccuracy => vec![Api(
            "GET",
            "/api/v1/suggestions/accuracy?period=2026-11".into(),
            None,
        )],
        Capability::RunSweep => vec![Api("POST", "/api/v1/sla/sweep".into(), None)],
        Capability::ViewAudit => vec![Api(
            "GET",
            format!("/api/v1/audit?target=request:{id}"),
            None,
        )],
        Capability::ManageUsers => vec![Api("GET", "/api/v1/users".into(), None)],
        Capability::EditWorld => vec![Page("/admin".into())],
        Capability::ManageWebhooks => vec![
            Api("GET", "/api/v1/webhooks".into(), None),
            Page("/admin/webhooks".into()),
        ],
        Capability::ManageApiKeys => vec![Api("GET", "/api/v1/open311/keys".into(), None)],
        Capability::ReloadModels => vec![Api("POST", "/api/v1/models/reload".into(), None)],
        Capability::ReadMetrics => vec![Api("GET", "/metrics".into(), None)],
        Capability::ReadKnowledge => vec![
            Api("GET", "/api/v1/knowledge".into(), None),
            Page("/knowledge".into()),
        ],
        Capability::EditKnowledge => vec![
            Api(
                "POST",
                "/api/v1/knowledge".into(),
                Some(json!({
                    "question": "角色矩阵：社区服务站几点开门？",
                    "answer": "社区服务站工作日上午九点至下午五点开放。",
                    "policy_source": "矩阵测试依据",
                    "unit": STREET,
                })),
            ),
            Page("/knowledge/new".into()),
        ],
        Capability::ReviewKnowledge => vec![
            Api(
                "POST",
                "/api/v1/knowledge/999999/approve".into(),
                Some(json!({})),
            ),
            Page("/knowledge/review".into()),
        ],
        Capability::UseKnowledge => vec![Api(
            "POST",
            "/api/v1/knowledge/999999/feedback".into(),
            Some(json!({})),
        )],
        Capability::ManageElders => vec![
            Api("GET", "/api/v1/care/elders".into(), None),
            Page("/care".into()),
            Page("/care/elders/new".into()),
        ],
        Capability::ReadElders => vec![
            Api("GET", "/api/v1/care/elders/find?q=13900001111".into(), None),
            Page("/care/find".into()),
        ],
        Capability::ManageCareNetwork => vec![
            Api(
                "PUT",
                "/api/v1/care/meal-points/MPX".into(),
                Some(
                    json!({"code": "MPX", "name": "矩阵食堂", "street": STREET, "community": COMMUNITY,
                "address": "矩阵路1号", "capacity": 0, "hours": "11:00-13:00", "active": true,
                "communities": [COMMUNITY]}),
                ),
            ),
            Page("/care/admin".into()),
        ],
        // The provider desk is a page (its API answers through the providers' own routes).
        Capability::ProviderDesk => vec![Page("/care/provider".into())],
        Capability::CreateCareOrders => vec![
            Api("GET", "/api/v1/care/orders/999999/matches".into(), None),
            Page(format!("/care/from-request/{id}")),
        ],
        Capability::ActOnCareOrders => vec![
            Api("GET", "/api/v1/care/orders".into(), None),
            Page("/care/orders".into()),
        ],
        Capability::RecordMeals => vec![Api(
            "POST",
            "/api/v1/care/meal-points/MP001/meals".into(),
            Some(
                json!({"elder_id": 999999, "date": "2026-11-01", "meal": "lunch", "bill_fen": 1500}),
            ),
        )],
        Capability::SettleCare => vec![
            Api("GET", "/api/v1/care/settlement?month=2026-11".into(), None),
            Page("/care/admin/settle?month=2026-11".into()),
        ],
        Capability::ViewCareSupply => vec![
            Api("GET", "/api/v1/care/supply".into(), None),
            Page("/care/supply".into()),
        ],
        Capability::WorkAlarms => vec![
            Api("GET", "/api/v1/alarms".into(), None),
            Page("/alarms".into()),
        ],
        Capability::ManageDevices => vec![Api(
            "PUT",
            format!("/api/v1/alarms/chains/{STREET}"),
            Some(
                json!({"steps": [{"after_secs": 60, "notify": ["desk_supervisor"]}], "on_site_secs": 1800}),
            ),
        )],
        Capability::ViewDevices => vec![
            Api("GET", "/api/v1/devices".into(), None),
            Page("/alarms/devices".into()),
        ],
        Capability::ManageChildcare => vec![
            Api("GET", "/api/v1/childcare/rounds".into(), None),
            Api("POST", "/api/v1/childcare/waiting-list/refill".into(), None),
        ],
        Capability::ReadChildcare => vec![
            Api("GET", "/api/v1/childcare/institutions".into(), None),
            Api("GET", "/api/v1/childcare/places".into(), None),
        ],
        Capability::ApplyChildcare => vec![Api(
            "POST",
            "/api/v1/childcare/applications".into(),
            Some(
                json!({"child_ref": "C-1", "birth_date": "2025-06-15", "guardians": [],
                "street": STREET, "community": COMMUNITY, "choices": [], "start_date": "2026-12-01"}),
            ),
        )],
        Capability::NurseryDesk => vec![Api(
            "GET",
            "/api/v1/childcare/applications/TY-NONE/health".into(),
            None,
        )],
    }
}

/// An account of each role (from the harness's accounts).
const BY_ROLE: &[(&str, Role)] = &[
    ("operator", Role::Operator),
    ("dispatcher", Role::Dispatcher),
    ("handler", Role::Handler),
    ("callback", Role::Callback),
    ("supervisor", Role::Supervisor),
    ("admin", Role::Admin),
    ("care-admin", Role::CareAdmin),
    ("care-manager", Role::CareManager),
    ("provider", Role::Provider),
    ("health-admin", Role::HealthAdmin),
    ("nursery", Role::Nursery),
];

async fn page(app: &App, user: &str, path: &str) -> StatusCode {
    let token = app.tokens.get(user).cloned().unwrap_or_default();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("jiesu_session={token}"))
        .send()
        .await
        .expect("send");
    r.status()
}

async fn matrix(app: &App) {
    let id = app.intake(json!({})).await;
    let mut checked = 0;
    for cap in Capability::ALL {
        for (user, role) in BY_ROLE {
            let allowed = policy::allows(*role, *cap);
            for probe in probes(*cap, id) {
                match probe {
                    Probe::Api(method, path, body) => {
                        let (s, v) = app.call(method, Some(user), &path, body).await;
                        let by_policy = s == StatusCode::FORBIDDEN
                            && v["code"] == "forbidden_role"
                            && v["message"]
                                .as_str()
                                .is_some_and(|m| m.starts_with(cap.label()));
                        assert_eq!(
                            by_policy,
                            !allowed,
                            "[{}] {cap:?} as {user}: {method} {path} → {s} {v}",
                            app.backend()
                        );
                        if allowed {
                            assert!(
                                s.as_u16() < 500,
                                "[{}] {method} {path} as {user}: {s} {v}",
                                app.backend()
                            );
                        }
                    }
                    Probe::Page(path) => {
                        let s = page(app, user, &path).await;
                        let want = if allowed {
                            StatusCode::OK
                        } else {
                            StatusCode::FORBIDDEN
                        };
                        assert_eq!(s, want, "[{}] {cap:?} page {path} as {user}", app.backend());
                    }
                }
                checked += 1;
            }
        }
    }
    // Every capability was probed for every role.
    assert!(checked >= Capability::ALL.len() * BY_ROLE.len());
}

#[tokio::test]
async fn every_capability_for_every_role() {
    on_every_backend!(matrix);
}
