//! Paging with totals on the desks and the list (issue 13): every desk says "共 N 件" for all
//! the requests it holds, not just one page's, and pages through all of them, so the request
//! replied last is reachable on the callback desk; the list's filters (date range, type,
//! channel, street and its communities) narrow the total. On every backend.

mod common;

use common::{App, COMMUNITY, STREET};
use reqwest::StatusCode;
use serde_json::json;

/// Rows a desk shows per page (`jiesu_server::web` shows 50).
const PER_PAGE: usize = 50;

fn total_of(html: &str) -> Option<usize> {
    let i = html.find("共 ")?;
    let rest = &html[i + "共 ".len()..];
    let end = rest.find(" 件")?;
    rest[..end].trim().parse().ok()
}

/// The ids of the rows of a work list page, in order.
fn row_ids(html: &str) -> Vec<i64> {
    html.split("<tr data-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

fn next_link(html: &str) -> Option<String> {
    let i = html.find("id=\"next-page\"")?;
    let before = &html[..i];
    let h = before.rfind("href=\"")?;
    let href = &before[h + 6..];
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

async fn desks_page_through_everything(app: &App) {
    // More replied requests than one page holds.
    let n = PER_PAGE + 3;
    let mut ids = Vec::new();
    for i in 0..n {
        let id = app
            .intake(json!({"text": format!("第{i}号楼楼道堆放杂物很久没有清理，存在消防隐患，请物业处理。")}))
            .await;
        app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
            .await;
        app.act_ok("handler", id, "accept", json!({})).await;
        app.act_ok(
            "handler",
            id,
            "contact",
            json!({"method": "phone", "reached": true}),
        )
        .await;
        app.act_ok(
            "handler",
            id,
            "reply",
            json!({"text": "已经处理完毕，楼道已清理。"}),
        )
        .await;
        ids.push(id);
    }
    // One still open in the handler's queue, and one received by the web channel.
    let open = app.intake(json!({"channel": "web"})).await;

    // 回访台: the total counts every replied request; the pages together hold each once, and
    // the one replied last (the longest-waiting first) is on the last page.
    let (s, _, html) = app.page(Some("callback"), "/callback").await;
    assert_eq!(s, StatusCode::OK, "[{}]", app.backend());
    assert_eq!(total_of(&html), Some(n), "[{}] {html}", app.backend());
    let mut seen = row_ids(&html);
    assert_eq!(seen.len(), PER_PAGE);
    let mut next = next_link(&html);
    let mut hops = 0;
    while let Some(href) = next {
        hops += 1;
        assert!(hops < 5, "paging does not end");
        let (s, _, html) = app.page(Some("callback"), &href).await;
        assert_eq!(s, StatusCode::OK, "{href}");
        assert_eq!(total_of(&html), Some(n));
        assert!(html.contains("id=\"prev-page\""));
        seen.extend(row_ids(&html));
        next = next_link(&html);
    }
    assert_eq!(hops, 1);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), n, "each replied request exactly once");
    assert_eq!(
        seen.last(),
        ids.last(),
        "the request replied last is reachable"
    );
    // A page past the end shows the last page, never an error.
    let (s, _, html) = app.page(Some("callback"), "/callback?page=99").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(row_ids(&html).len(), n - PER_PAGE);

    // 派单台 and 承办队列 say how many they hold.
    let (_, _, html) = app.page(Some("dispatcher"), "/board?tab=new").await;
    assert_eq!(total_of(&html), Some(1), "{html}");
    assert_eq!(row_ids(&html), vec![open]);
    app.act_ok("dispatcher", open, "dispatch", json!({"unit": STREET}))
        .await;
    let (_, _, html) = app.page(Some("handler"), "/queue").await;
    assert_eq!(total_of(&html), Some(1), "{html}");

    // 诉求查询: the total of the whole filter, whatever the page size; filters narrow it.
    let (_, _, html) = app
        .page(Some("supervisor"), &format!("/requests?street={STREET}"))
        .await;
    assert_eq!(total_of(&html), Some(n + 1), "{html}");
    let (_, _, html) = app.page(Some("supervisor"), "/requests?channel=web").await;
    assert_eq!(total_of(&html), Some(1), "{html}");
    assert_eq!(row_ids(&html), vec![open]);
    let (_, _, html) = app
        .page(
            Some("supervisor"),
            "/requests?type=complaint&status=replied",
        )
        .await;
    assert_eq!(total_of(&html), Some(n));
    // The date range: the test clock's day holds them all; the day before, none.
    let (_, _, html) = app
        .page(
            Some("supervisor"),
            "/requests?from=2026-11-02&to=2026-11-02",
        )
        .await;
    assert_eq!(total_of(&html), Some(n + 1), "{html}");
    let (_, _, html) = app
        .page(Some("supervisor"), "/requests?to=2026-11-01")
        .await;
    assert_eq!(total_of(&html), Some(0));
    let (s, _, html) = app
        .page(Some("supervisor"), "/requests?from=yesterday")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("起始日期格式应为"));
    // Communities offered are the chosen street's only.
    let (_, _, html) = app
        .page(
            Some("supervisor"),
            &format!("/requests?street={STREET}&community={COMMUNITY}"),
        )
        .await;
    assert_eq!(total_of(&html), Some(n + 1));
    let community_select = html
        .split("id=\"community\"")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .unwrap_or_default()
        .to_string();
    let dir = common::world();
    let offered = community_select.matches("<option value=\"1").count();
    let of_street = dir
        .communities
        .iter()
        .filter(|c| c.street_code == STREET)
        .count();
    assert_eq!(offered, of_street, "{community_select}");
    let (_, _, html) = app.page(Some("supervisor"), "/requests").await;
    assert!(html.contains("（先选街道）"));
}

#[tokio::test]
async fn desks_and_lists_show_totals_and_page_through_all() {
    on_every_backend!(desks_page_through_everything);
}
