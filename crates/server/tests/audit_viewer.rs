//! The admin's audit viewer (`/admin/audit`): filters narrow, pages run newest first with a
//! count, only the admin and the auditor open it, no caller's phone or name shows, and a row
//! edited in the database shows as the chain's first broken link.

mod common;

use common::*;
use jiesu_store::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;

const PHONE: &str = "13812345678";

async fn page(app: &App, user: Option<&str>, path: &str) -> (StatusCode, String, String) {
    app.page(user, path).await
}

/// One table row of the viewer: its audit id and the text of each cell.
struct Row {
    id: i64,
    cells: Vec<String>,
}

/// Columns of the viewer's table.
const SEQ: usize = 0;
const ACTOR: usize = 2;
const ACTION: usize = 4;
const TARGET: usize = 5;

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn rows(html: &str) -> Vec<Row> {
    html.split("<tr data-id=\"")
        .skip(1)
        .map(|chunk| {
            let (id, rest) = chunk.split_once('"').expect("row id");
            let row = rest.split("</tr>").next().unwrap_or_default();
            let cells = row
                .split("<td")
                .skip(1)
                .map(|c| strip_tags(&format!("<td{}", c.split("</td>").next().unwrap_or(""))))
                .collect();
            Row {
                id: id.parse().expect("numeric row id"),
                cells,
            }
        })
        .collect()
}

/// The "共 N 条" count.
fn total(html: &str) -> u64 {
    let at = html.find("id=\"audit-count\"").expect("count shown");
    let after = &html[at..];
    let n = after.split("共 ").nth(1).expect("共").split(' ').next();
    n.and_then(|n| n.parse().ok()).expect("a number")
}

async fn get_ok(app: &App, path: &str) -> String {
    let (s, _, html) = page(app, Some("admin"), path).await;
    assert_eq!(s, StatusCode::OK, "[{}] {path}: {html}", app.backend());
    assert!(
        !html.contains(PHONE),
        "[{}] {path} shows a caller's phone",
        app.backend()
    );
    assert!(
        !html.contains("王建国"),
        "[{}] {path} shows a caller's name",
        app.backend()
    );
    html
}

async fn viewer(app: &App, url: &str) {
    let b = app.backend();
    let id = app.intake(json!({})).await;
    // Each detail view by a dispatcher reveals the caller, so each is an audit row.
    const VIEWS: u64 = 55;
    for _ in 0..VIEWS {
        let (s, v) = app
            .get("dispatcher", &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // An export's raw query is in its audit row: here it carries a phone number.
    let (s, v) = app
        .get(
            "dispatcher",
            &format!("/api/v1/requests/export?format=csv&q={PHONE}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] export: {v}");

    // Everything, newest first, 50 to a page, with the count and the chain's head.
    let all = get_ok(app, "/admin/audit").await;
    let n = total(&all);
    assert!(n > VIEWS + 1, "[{b}] {n} rows");
    assert!(all.contains("审计链完整"), "[{b}] chain state: {all}");
    assert!(all.contains(&format!("链头序号 {n}")), "[{b}] head seq {n}");
    let first = rows(&all);
    assert_eq!(first.len(), 50, "[{b}] a full first page");
    assert!(
        first.windows(2).all(|w| w[0].id > w[1].id),
        "[{b}] newest first"
    );
    assert_eq!(
        first[0].cells[ACTION], "导出诉求（export_requests）",
        "[{b}] newest row"
    );
    assert!(
        all.contains("href=\"/admin/audit?page=2\""),
        "[{b}] a next link"
    );
    let second = rows(&get_ok(app, "/admin/audit?page=2").await);
    assert_eq!(second.len() as u64, n - 50, "[{b}] the rest on page 2");
    assert!(second[0].id < first[49].id, "[{b}] page 2 continues page 1");

    // The export's phone number is masked in the viewer.
    let export = get_ok(app, "/admin/audit?action=export_requests").await;
    assert_eq!(total(&export), 1, "[{b}]");
    assert!(
        export.contains("138****5678"),
        "[{b}] the masked query: {export}"
    );

    // Each filter narrows to what it names.
    let by_actor = get_ok(app, "/admin/audit?actor=operator").await;
    let r = rows(&by_actor);
    assert!(!r.is_empty() && (r.len() as u64) < n, "[{b}] actor narrows");
    assert!(r.iter().all(|r| r.cells[ACTOR] == "operator"), "[{b}]");
    let by_target = get_ok(
        app,
        &format!("/admin/audit?action=view_caller_identity&target=request:{id}"),
    )
    .await;
    assert_eq!(total(&by_target), VIEWS, "[{b}] action and target");
    assert!(
        rows(&by_target)
            .iter()
            .all(|r| r.cells[TARGET] == format!("request:{id}")),
        "[{b}]"
    );
    // Paging keeps the filters.
    assert!(
        by_target.contains(&format!(
            "href=\"/admin/audit?action=view_caller_identity&#38;target=request%3A{id}&#38;page=2\""
        )),
        "[{b}] next page keeps the filters: {by_target}"
    );
    let type_only = get_ok(app, "/admin/audit?target=request").await;
    assert_eq!(total(&type_only), VIEWS, "[{b}] a target type alone");
    let logins = get_ok(app, "/admin/audit?action=login").await;
    assert_eq!(
        total(&logins),
        ACCOUNTS.len() as u64,
        "[{b}] one login per account"
    );
    let text = get_ok(app, "/admin/audit?q=EXPORT").await;
    assert_eq!(total(&text), 1, "[{b}] text matches the action, any case");
    let wild = get_ok(app, "/admin/audit?q=%25").await;
    assert_eq!(total(&wild), 0, "[{b}] a % is matched literally");
    // Dates are Beijing days, the end day included (the clock stands at 2026-11-02 09:00).
    let day = get_ok(app, "/admin/audit?from=2026-11-02&to=2026-11-02").await;
    assert_eq!(total(&day), n, "[{b}] the whole day");
    let later = get_ok(app, "/admin/audit?from=2026-11-03").await;
    assert_eq!(total(&later), 0, "[{b}] from the next day");
    assert!(later.contains("没有符合条件的记录"), "[{b}]");
    let earlier = get_ok(app, "/admin/audit?to=2026-11-01").await;
    assert_eq!(total(&earlier), 0, "[{b}] up to the day before");
    // A bad date is a 400 naming the field, not a 500 or an unfiltered list.
    let (s, _, html) = page(app, Some("admin"), "/admin/audit?from=yesterday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "[{b}] {html}");
    assert!(html.contains("日期格式应为"), "[{b}] the field's error");
    let long = "x".repeat(201);
    let (s, _, _) = page(app, Some("admin"), &format!("/admin/audit?q={long}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "[{b}] an over-long filter");

    // Only the admin and the auditor (supervisor) open it; the anonymous go to the login.
    for user in ["operator", "dispatcher", "handler", "callback"] {
        let (s, _, _) = page(app, Some(user), "/admin/audit").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "[{b}] {user}");
    }
    let (s, _, html) = page(app, Some("supervisor"), "/admin/audit").await;
    assert_eq!(s, StatusCode::OK, "[{b}] supervisor");
    assert!(
        html.contains("href=\"/admin/audit\""),
        "[{b}] in the auditor's navigation"
    );
    let (s, location, _) = page(app, None, "/admin/audit").await;
    assert!(
        s.is_redirection() && location.starts_with("/login"),
        "[{b}] {s} {location}"
    );
    // The admin pages link to it.
    let admin = get_ok(app, "/admin").await;
    assert!(
        admin.contains("href=\"/admin/audit\""),
        "[{b}] linked from /admin"
    );
    let hooks = get_ok(app, "/admin/webhooks").await;
    assert!(
        hooks.contains("href=\"/admin/audit\""),
        "[{b}] linked from webhooks"
    );

    // Someone holding the database edits row 3: the viewer names it as the first broken link.
    tamper(
        url,
        "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3",
    )
    .await;
    let html = get_ok(app, "/admin/audit?page=2").await;
    assert!(html.contains("审计链断裂"), "[{b}] {html}");
    assert!(html.contains("（序号 3）"), "[{b}] names seq 3");
    assert!(html.contains("edited"), "[{b}] and why");
    let broken: Vec<Row> = rows(&html)
        .into_iter()
        .filter(|r| r.cells[SEQ] == "3")
        .collect();
    assert_eq!(broken.len(), 1, "[{b}] row 3 listed");
    assert!(
        html.contains(&format!(
            "<tr data-id=\"{}\" class=\"broken\">",
            broken[0].id
        )),
        "[{b}] and marked"
    );
}

/// Runs SQL as someone holding the database would, past the append-only triggers.
async fn tamper(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER audit_log_no_update; {sql};"
        )))
        .execute(&pool)
        .await
        .expect("tamper");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER audit_log_append_only ON audit_log; {sql};"
        )))
        .execute(&pool)
        .await
        .expect("tamper");
        pool.close().await;
    }
}

#[tokio::test]
async fn the_audit_viewer_filters_pages_and_shows_the_chain() {
    // Like `on_every_backend!`, keeping each database's URL for the tampering step.
    for db in TestDb::all().await.expect("test databases") {
        let url = db.url.clone();
        let app = App::start(db).await;
        viewer(&app, &url).await;
        app.stop().await;
    }
}
