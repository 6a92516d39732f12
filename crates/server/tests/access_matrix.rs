//! The access matrix: every principal (anonymous, an Open311 API key, each account role, and a
//! handler of another unit) × every endpoint family (the JSON API, the web pages, Open311), with
//! the answer each must get, as one table of data. `roles.rs` checks capability × role; this adds
//! the doors themselves, own unit / other unit (a handler of another unit gets 404, never 403,
//! so ids cannot be probed), what lists, searches and exports reveal, and who sees a caller's
//! phone unmasked (each such view writes one audit row; no other answer carries the phone).
//!
//! A cell is the status, optionally followed by one mark:
//! * `+` / `-`: the request under test is / is not in the answer (lists, search, export);
//! * `P`: the caller's phone is shown unmasked and the view wrote one `view_caller_identity`
//!   audit row; `M`: it is masked and nothing was written.
//!
//! Every cell that differs is reported (principal, endpoint, expected, got), not just the first.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Who asks: the table's columns.
const WHO: [&str; 9] = [
    "anonymous",
    "open311-key",
    "operator",
    "dispatcher",
    "handler",
    "handler-other",
    "callback",
    "supervisor",
    "admin",
];

/// How a row is sent: `api` with a bearer token, `cookie` the JSON API with the web session
/// cookie (what a browser sends), `page` a web page with the session cookie, `open311` the
/// public Open311 door (the key, for the key's column, in the form).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    [&'static str; 9],
);

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // door      method  path                                              body        anonymous open311-key operator dispatcher handler handler-other callback supervisor admin
    ("api",     "GET",  "/api/v1/auth/me",                                 "",         ["401", "401", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    // Requests: list, search, one, its events, create, suggest.
    ("api",     "GET",  "/api/v1/requests",                                "",         ["401", "401", "200+", "200+", "200+", "200-", "200+", "200+", "200+"]),
    ("api",     "GET",  "/api/v1/requests?q=楼道杂物",                      "",         ["401", "401", "200+", "200+", "200+", "200-", "200+", "200+", "200+"]),
    ("api",     "GET",  "/api/v1/requests/{id}",                           "",         ["401", "401", "200P", "200P", "200P", "404",  "200P", "200M", "200M"]),
    ("api",     "GET",  "/api/v1/requests/{id}/events",                    "",         ["401", "401", "200P", "200P", "200P", "404",  "200P", "200M", "200M"]),
    ("api",     "GET",  "/api/v1/requests/999999",                         "",         ["401", "401", "404",  "404",  "404",  "404",  "404",  "404",  "404"]),
    ("api",     "POST", "/api/v1/requests",                                "intake",   ["401", "401", "201",  "201",  "403",  "403",  "403",  "403",  "403"]),
    ("api",     "POST", "/api/v1/requests/suggest",                        "suggest",  ["401", "401", "200",  "200",  "403",  "403",  "403",  "403",  "403"]),
    // Each lifecycle action, on a fresh request dispatched to the handler's unit.
    ("api",     "POST", "/api/v1/requests/{fresh}/dispatch",               "dispatch", ["401", "401", "409",  "200",  "403",  "404",  "403",  "403",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/accept",                 "{}",       ["401", "401", "403",  "403",  "200",  "404",  "403",  "403",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/contact",                "contact",  ["401", "401", "409",  "409",  "409",  "404",  "409",  "409",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/reply",                  "reply",    ["401", "401", "409",  "409",  "409",  "404",  "409",  "409",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/return",                 "reason",   ["401", "401", "403",  "403",  "200",  "404",  "403",  "403",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/extend",                 "extend",   ["401", "401", "409",  "409",  "409",  "404",  "409",  "409",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/decide-extension",       "decide",   ["401", "401", "403", "409", "403", "404", "403", "409", "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/escalate",               "reason",   ["401", "401", "403",  "200",  "403",  "404",  "403",  "200",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/callback",               "callback", ["401", "401", "403", "403", "403", "404", "409", "403", "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/reopen",                 "reason",   ["401", "401", "403", "409", "403", "404", "409", "403", "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/merge",                  "merge",    ["401", "401", "403",  "200",  "403",  "404",  "403",  "403",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/whistle",                "whistle",  ["401", "401", "409",  "409",  "409",  "404",  "409",  "409",  "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/report",                 "report",   ["401", "401", "403", "403", "403", "404", "403", "403", "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/suspend",                "reason",   ["401", "401", "403", "409", "403", "404", "403", "409", "403"]),
    ("api",     "POST", "/api/v1/requests/{fresh}/close",                  "close",    ["401", "401", "409",  "409",  "409",  "404",  "409",  "409",  "403"]),
    // Export: scoped like the list, identities always masked.
    ("api",     "GET",  "/api/v1/requests/export?format=csv",              "",         ["401", "401", "200+", "200+", "200+", "200-", "200+", "200+", "200+"]),
    ("cookie",  "GET",  "/api/v1/requests/export?format=csv",              "",         ["401", "401", "200+", "200+", "200+", "200-", "200+", "200+", "200+"]),
    // Analytics, assessment, suggestion accuracy, the sweep.
    ("api",     "GET",  "/api/v1/analytics/hotspots?period=2026-11",       "",         ["401", "401", "403",  "200",  "403",  "403",  "403",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/analytics/flags?period=2026-11",          "",         ["401", "401", "403",  "200",  "403",  "403",  "403",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/assessment?period=2026-11",               "",         ["401", "401", "403",  "200",  "403",  "403",  "403",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/suggestions/accuracy?period=2026-11",     "",         ["401", "401", "403",  "200",  "403",  "403",  "403",  "200",  "200"]),
    ("api",     "POST", "/api/v1/sla/sweep",                               "",         ["401", "401", "403",  "200",  "403",  "403",  "403",  "200",  "200"]),
    // Elder care (the care roles' own cells are in roles.rs and care.rs): 12345 staff find
    // elders and turn requests into orders; the registry, settlement and the network are the
    // 民政 office's; the supply view is also the supervisor's; the family's door is public.
    ("api",     "GET",  "/api/v1/care/elders",                             "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "403"]),
    ("api",     "GET",  "/api/v1/care/elders/find?q=13900001111",          "",         ["401", "401", "200",  "200",  "200",  "200",  "403",  "403",  "403"]),
    ("api",     "GET",  "/api/v1/care/orders",                             "",         ["401", "401", "200",  "200",  "200",  "200",  "403",  "403",  "403"]),
    ("api",     "GET",  "/api/v1/care/settlement?month=2026-11",           "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "403"]),
    ("api",     "GET",  "/api/v1/care/supply",                             "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "200",  "403"]),
    ("api",     "GET",  "/api/v1/care/family/orders/YL261102NOSUCH",       "",         ["404", "404", "404",  "404",  "404",  "404",  "404",  "404",  "404"]),
    // 知识库: every desk reads it; admins and a unit's handlers write (handler-other's unit is
    // not the entry's); supervisors and admins review; the call-takers answer from it.
    ("api",     "GET",  "/api/v1/knowledge",                               "",         ["401", "401", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/knowledge/999999",                        "",         ["401", "401", "404",  "404",  "404",  "404",  "404",  "404",  "404"]),
    ("api",     "POST", "/api/v1/knowledge",                               "kb_entry", ["401", "401", "403",  "403",  "201",  "403",  "403",  "403",  "201"]),
    ("api",     "POST", "/api/v1/knowledge/suggest",                       "kb_text",  ["401", "401", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("api",     "POST", "/api/v1/knowledge/999999/approve",                "{}",       ["401", "401", "403",  "403",  "403",  "403",  "403",  "404",  "404"]),
    ("api",     "POST", "/api/v1/knowledge/999999/feedback",               "{}",       ["401", "401", "404",  "404",  "403",  "403",  "404",  "403",  "403"]),
    ("page",    "GET",  "/knowledge",                                      "",         ["303", "303", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("page",    "GET",  "/knowledge/new",                                  "",         ["303", "303", "403",  "403",  "200",  "200",  "403",  "403",  "200"]),
    ("page",    "GET",  "/knowledge/review",                               "",         ["303", "303", "403",  "403",  "403",  "403",  "403",  "200",  "200"]),
    // The world (read by every desk).
    ("api",     "GET",  "/api/v1/regions",                                 "",         ["401", "401", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/units",                                   "",         ["401", "401", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/categories",                              "",         ["401", "401", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    // Administration: accounts, webhooks, the audit log, Open311 keys, models.
    ("api",     "GET",  "/api/v1/users",                                   "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    ("api",     "POST", "/api/v1/users",                                   "user",     ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "201"]),
    ("api",     "GET",  "/api/v1/webhooks",                                "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    ("api",     "POST", "/api/v1/webhooks",                                "webhook",  ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "201"]),
    ("api",     "GET",  "/api/v1/webhooks/dead-letters",                   "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    ("api",     "GET",  "/api/v1/audit?target=request:{id}",               "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/audit/verify",                            "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "200",  "200"]),
    ("api",     "GET",  "/api/v1/open311/keys",                            "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    ("api",     "POST", "/api/v1/open311/keys",                            "key",      ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "201"]),
    ("api",     "POST", "/api/v1/models/reload",                           "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    // Operations: Prometheus metrics (no scraper token configured here: an admin's login).
    ("api",     "GET",  "/metrics",                                        "",         ["401", "401", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    // Web pages: each desk, the request page, the admin pages; the anonymous go to the login.
    ("page",    "GET",  "/intake",                                         "",         ["303", "303", "200",  "200",  "403",  "403",  "403",  "403",  "403"]),
    ("page",    "GET",  "/board",                                          "",         ["303", "303", "403",  "200",  "403",  "403",  "403",  "403",  "403"]),
    ("page",    "GET",  "/queue",                                          "",         ["303", "303", "403",  "403",  "200+", "200-", "403",  "403",  "403"]),
    ("page",    "GET",  "/callback",                                       "",         ["303", "303", "403",  "200",  "403",  "403",  "200",  "403",  "403"]),
    ("page",    "GET",  "/requests",                                       "",         ["303", "303", "200+", "200+", "200+", "200-", "200+", "200+", "200+"]),
    ("page",    "GET",  "/requests?q=楼道杂物",                             "",         ["303", "303", "200+", "200+", "200+", "200-", "200+", "200+", "200+"]),
    ("page",    "GET",  "/r/{id}",                                         "",         ["303", "303", "200P", "200P", "200P", "404",  "200P", "200M", "200M"]),
    ("page",    "GET",  "/dashboard",                                      "",         ["303", "303", "403",  "200",  "403",  "403",  "403",  "200",  "200"]),
    ("page",    "GET",  "/admin",                                          "",         ["303", "303", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    ("page",    "GET",  "/admin/webhooks",                                 "",         ["303", "303", "403",  "403",  "403",  "403",  "403",  "403",  "200"]),
    ("page",    "GET",  "/admin/audit",                                    "",         ["303", "303", "403",  "403",  "403",  "403",  "403",  "200",  "200"]),
    ("page",    "GET",  "/portal",                                         "",         ["200", "200", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    // Open311: the read side is public; a POST needs an API key (a staff login is no key).
    ("open311", "GET",  "/open311/v2/services.json",                       "",         ["200", "200", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("open311", "GET",  "/open311/v2/requests.json",                       "",         ["200", "200", "200",  "200",  "200",  "200",  "200",  "200",  "200"]),
    ("open311", "POST", "/open311/v2/requests.json",                       "o311",     ["403", "200", "403",  "403",  "403",  "403",  "403",  "403",  "403"]),
];

const PHONE: &str = "13812345678";
const MASKED: &str = "138****5678";

fn body(name: &str, master: i64, n: usize) -> Option<Value> {
    Some(match name {
        "" | "o311" => return None,
        "{}" => json!({}),
        "intake" => json!({
            "request_type": "complaint", "category": STREET_CATEGORY, "street": STREET,
            "text": "楼道里堆满杂物，物业一直不清理，存在消防隐患。",
        }),
        "suggest" => json!({"request_type": "complaint", "text": "暖气不热，家里只有十五度。"}),
        "dispatch" => json!({"unit": OTHER_STREET_OFFICE, "reason": "矩阵测试"}),
        "contact" => json!({"method": "phone", "reached": true}),
        "reply" => json!({"text": "已经处理完毕，楼道已清理。"}),
        "reason" => json!({"reason": "矩阵测试"}),
        "extend" => json!({"working_days": 3, "reason": "需要协调"}),
        "decide" => json!({"approve": true}),
        "callback" => json!({"reached": true, "resolved": true, "satisfaction": "satisfied"}),
        "merge" => json!({"master_id": master}),
        "whistle" => json!({"units": ["housing-admin"], "reason": "需要协同"}),
        "report" => json!({"note": "已到场"}),
        "close" => json!({"answer": "已答复来电人。"}),
        "user" => {
            json!({"username": format!("matrix-{n}"), "password": "Matrix-password-2026", "role": "operator"})
        }
        "webhook" => json!({"name": format!("matrix-{n}"), "url": "http://127.0.0.1:9/hook"}),
        "key" => json!({"name": format!("matrix-{n}")}),
        "kb_entry" => json!({
            "question": format!("矩阵测试条目{n}怎么办理？"), "answer": "到街道办事处社区服务站窗口办理，带身份证。",
            "policy_source": "矩阵测试依据", "unit": STREET,
        }),
        "kb_text" => json!({"text": "我想问问公积金怎么提取"}),
        other => panic!("no body named {other}"),
    })
}

/// What one call answered.
struct Got {
    status: StatusCode,
    text: String,
}

async fn send(
    app: &App,
    door: &str,
    method: &str,
    path: &str,
    who: &str,
    key: &str,
    body: Option<Value>,
) -> Got {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let url = format!("{}{path}", app.base);
    let mut rb = if method == "GET" {
        client.get(&url)
    } else {
        client.post(&url)
    };
    // The key's column presents the key where a token or a session would go.
    let credential = match who {
        "anonymous" => None,
        "open311-key" => Some(key.to_string()),
        user => app.tokens.get(user).cloned(),
    };
    match door {
        "api" => {
            if let Some(c) = &credential {
                rb = rb.bearer_auth(c);
            }
        }
        "cookie" | "page" => {
            if let Some(c) = &credential {
                rb = rb.header("cookie", format!("jiesu_session={c}"));
            }
        }
        "open311" => {
            // Staff send their login; the door takes only an API key in the form.
            if let Some(c) = credential.as_ref().filter(|_| who != "open311-key") {
                rb = rb.bearer_auth(c);
            }
        }
        other => panic!("no door {other}"),
    }
    if door == "open311" && method == "POST" {
        let mut pairs = vec![
            ("service_code", "heating.no-heat"),
            ("description", "家里暖气不热，室温很低，老人受不了。"),
            ("address_string", "鼓楼西大街12号院3号楼"),
            ("lat", "39.9401"),
            ("long", "116.3892"),
            ("phone", PHONE),
            ("attribute[indoor_temperature]", "14"),
        ];
        if who == "open311-key" {
            pairs.push(("api_key", key));
        }
        rb = rb
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&pairs).expect("form"));
    } else if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    Got {
        status: r.status(),
        text: r.text().await.unwrap_or_default(),
    }
}

/// How many times the caller's identity on `id` has been viewed, from the audit log.
async fn identity_views(app: &App, id: i64) -> usize {
    let (s, v) = app
        .get("admin", &format!("/api/v1/audit?target=request:{id}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["action"] == "view_caller_identity")
                .count()
        })
        .unwrap_or_default()
}

/// A request of the handler's unit, dispatched to it, with a caller's name and phone.
async fn dispatched(app: &App) -> (i64, String) {
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    let st = app.state(id).await;
    assert_eq!(st["status"], "dispatched", "{st}");
    assert_eq!(st["lead_unit"], STREET, "{st}");
    (
        id,
        st["tracking_code"]
            .as_str()
            .expect("tracking code")
            .to_string(),
    )
}

async fn matrix(app: &App) {
    let b = app.backend();
    let (s, v) = app
        .post("admin", "/api/v1/open311/keys", json!({"name": "matrix"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let key = v["api_key"].as_str().expect("api_key").to_string();
    let (id, code) = dispatched(app).await;
    let mut diffs: Vec<String> = Vec::new();
    let mut cells = 0;
    for (n, (door, method, path, body_name, expected)) in MATRIX.iter().enumerate() {
        assert_eq!(expected.len(), WHO.len());
        for (who, want) in WHO.iter().zip(expected.iter()) {
            // A change of state gets a request of its own, so no cell depends on another; so
            // does a list, whose first page must hold the request if the principal may see it.
            let listed = want.ends_with('+') || want.ends_with('-');
            let (target, target_code) = if path.contains("{fresh}") || listed {
                dispatched(app).await
            } else {
                (id, code.clone())
            };
            let p = path
                .replace("{fresh}", &target.to_string())
                .replace("{id}", &target.to_string());
            let views_before = identity_views(app, target).await;
            let got = send(
                app,
                door,
                method,
                &p,
                who,
                &key,
                body(body_name, id, n * 100 + cells),
            )
            .await;
            let views = identity_views(app, target).await - views_before;
            let unmasked = got.text.contains(PHONE);
            let mut mark = "";
            match want.as_bytes().last() {
                Some(b'+') | Some(b'-') => {
                    // JSON and CSV carry the tracking code; pages link to the request.
                    let link = format!("href=\"/r/{target}\"");
                    let mut found = got.text.contains(&target_code) || got.text.contains(&link);
                    // A desk pages its queue (most urgent first, 50 a page): the request under
                    // test, the newest, may be on a later page; follow the pages the desk offers.
                    if !found && *door == "page" && got.status == StatusCode::OK {
                        let sep = if p.contains('?') { '&' } else { '?' };
                        let mut current = got.text.clone();
                        for n in 2..=100 {
                            if !current.contains(&format!("page={n}")) {
                                break;
                            }
                            let next = format!("{p}{sep}page={n}");
                            let more = send(app, door, method, &next, who, &key, None).await;
                            if more.text.contains(&target_code) || more.text.contains(&link) {
                                found = true;
                                break;
                            }
                            current = more.text;
                        }
                    }
                    mark = if found { "+" } else { "-" };
                }
                Some(b'P') | Some(b'M') => {
                    mark = match (unmasked, views) {
                        (true, 1) => "P",
                        (false, 0) => "M",
                        _ => "?",
                    };
                    if mark == "?" {
                        diffs.push(format!(
                            "{who:<13} {door} {method} {path}: unmasked={unmasked} with {views} audit rows"
                        ));
                    }
                }
                _ => {}
            }
            let got_cell = format!("{}{mark}", got.status.as_u16());
            if got_cell != *want {
                diffs.push(format!(
                    "{who:<13} {door:<7} {method:<4} {path}: expected {want}, got {got_cell} {}",
                    got.text.chars().take(160).collect::<String>()
                ));
            }
            // The phone is never in an answer that is not a logged identity view.
            if unmasked && !want.ends_with('P') {
                diffs.push(format!(
                    "{who:<13} {door} {method} {path}: the caller's phone is unmasked"
                ));
            }
            if want.ends_with('M') && !got.text.contains(MASKED) {
                diffs.push(format!(
                    "{who:<13} {door} {method} {path}: no masked phone shown"
                ));
            }
            if views > 0 && !want.ends_with('P') {
                diffs.push(format!(
                    "{who:<13} {door} {method} {path}: wrote {views} identity-view audit rows"
                ));
            }
            cells += 1;
        }
    }
    assert!(
        diffs.is_empty(),
        "[{b}] {} of {cells} cells differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(cells, MATRIX.len() * WHO.len());
}

#[tokio::test]
async fn every_principal_on_every_endpoint_family() {
    on_every_backend!(matrix);
}
