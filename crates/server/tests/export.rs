//! `GET /api/v1/requests/export` on every backend: the XLSX and CSV files hold exactly the rows
//! the list API returns for the same filters (more than one store page, so the cursor paging is
//! exercised), in the same order, with identities masked; a handler exports only its unit's
//! requests; bad parameters are refused naming the field; every export is audited.

mod common;

use calamine::Reader;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// More than one store page (500) of dispatched requests, half to each of two street offices.
const N: usize = 520;

async fn seed(app: &App) {
    let mut pending = Vec::new();
    for i in 0..N {
        let unit = if i % 2 == 0 {
            STREET
        } else {
            OTHER_STREET_OFFICE
        };
        pending.push(async move {
            let (s, v) = app
                .post(
                    "operator",
                    "/api/v1/requests",
                    json!({
                        "request_type": "complaint",
                        "category": STREET_CATEGORY,
                        "street": STREET,
                        "text": format!("楼道堆放杂物第{i}号，物业不清理"),
                        "caller_name": "王建国",
                        "caller_phone": "13812345678",
                        "dispatch_to": unit,
                    }),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        });
        if pending.len() == 16 {
            futures_join(std::mem::take(&mut pending)).await;
        }
    }
    futures_join(pending).await;
    // And a few that stay received, which a status filter must leave out.
    for _ in 0..3 {
        app.intake(json!({})).await;
    }
}

async fn futures_join<F: std::future::Future<Output = ()>>(fs: Vec<F>) {
    let mut set = Vec::new();
    for f in fs {
        set.push(f);
    }
    // Sequential awaits of already-created futures would not overlap; join them instead.
    let mut set: Vec<std::pin::Pin<Box<F>>> = set.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

/// The list API's items for `query`, every page.
async fn list_all(app: &App, user: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/requests?{query}&limit=200&cursor={c}"),
            None => format!("/api/v1/requests?{query}&limit=200"),
        };
        let (s, v) = app.get(user, &path).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        items.extend(v["items"].as_array().cloned().unwrap_or_default());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

async fn download(app: &App, user: &str, query: &str) -> (StatusCode, String, Vec<u8>) {
    let token = app.tokens.get(user).cloned().unwrap_or_default();
    let r = app
        .client
        .get(format!("{}/api/v1/requests/export?{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, r.bytes().await.expect("body").to_vec())
}

fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut wb =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a valid workbook");
    let range = wb.worksheet_range("工单").expect("sheet 工单");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{FEFF}').expect("a BOM for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect()
}

/// Each exported row against the list item at the same position.
fn same_rows(backend: &str, what: &str, rows: &[Vec<String>], items: &[Value]) {
    let header = &rows[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (id, code, status, status_label, phone, name, unit, text) = (
        col("id"),
        col("工单编号"),
        col("status"),
        col("工单状态"),
        col("联系电话"),
        col("来电人"),
        col("lead_unit"),
        col("诉求内容"),
    );
    assert_eq!(rows.len() - 1, items.len(), "[{backend}] {what}: row count");
    for (r, it) in rows[1..].iter().zip(items) {
        let cell = |i: usize| r.get(i).map(String::as_str).unwrap_or_default();
        assert_eq!(
            cell(id),
            it["id"].as_i64().unwrap_or(-1).to_string(),
            "[{backend}] {what}"
        );
        assert_eq!(cell(code), it["tracking_code"].as_str().unwrap_or_default());
        assert_eq!(cell(status), it["status"].as_str().unwrap_or_default());
        assert_eq!(
            cell(status_label),
            it["status_label"].as_str().unwrap_or_default()
        );
        assert_eq!(cell(unit), it["lead_unit"].as_str().unwrap_or_default());
        assert_eq!(
            cell(text),
            it["intake"]["text"].as_str().unwrap_or_default()
        );
        // Masked as the list masks them.
        assert_eq!(
            cell(phone),
            it["intake"]["caller"]["phone"].as_str().unwrap_or_default()
        );
        assert_eq!(
            cell(name),
            it["intake"]["caller"]["name"].as_str().unwrap_or_default()
        );
        assert_eq!(cell(phone), "138****5678");
    }
}

async fn exports_equal_the_list(app: &App) {
    seed(app).await;
    let q = "status=dispatched&category=property";
    let items = list_all(app, "dispatcher", q).await;
    assert_eq!(items.len(), N, "[{}]", app.backend());

    let (s, ct, body) = download(app, "dispatcher", &format!("{q}&format=xlsx")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    same_rows(app.backend(), "xlsx", &xlsx_rows(&body), &items);

    let (s, ct, body) = download(app, "dispatcher", &format!("format=csv&{q}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(!String::from_utf8_lossy(&body).contains("13812345678"));
    same_rows(app.backend(), "csv", &csv_rows(&body), &items);

    // No filter: everything (CSV is the default format).
    let (s, _, body) = download(app, "supervisor", "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(csv_rows(&body).len() - 1, N + 3);

    // A handler exports exactly its own unit's list.
    let mine = list_all(app, "handler", "status=open").await;
    assert_eq!(mine.len(), N / 2);
    let (s, _, body) = download(app, "handler", "status=open&format=xlsx").await;
    assert_eq!(s, StatusCode::OK);
    let rows = xlsx_rows(&body);
    same_rows(app.backend(), "handler xlsx", &rows, &mine);
    let unit = rows[0]
        .iter()
        .position(|h| h == "lead_unit")
        .expect("lead_unit");
    assert!(rows[1..].iter().all(|r| r[unit] == STREET));

    let audit = app
        .store
        .audit_for("requests", "export")
        .await
        .expect("audit");
    assert_eq!(audit.len(), 4, "[{}]", app.backend());
    assert!(audit.iter().any(|a| a.username == "handler"));
}

async fn bad_export_parameters(app: &App) {
    for (query, field) in [
        ("format=pdf", "format"),
        ("limit=5", "limit"),
        ("cursor=1_1", "cursor"),
        ("status=lost", "status"),
        ("category=nope", "category"),
        ("received_from=yesterday", "received_from"),
    ] {
        let (s, _, body) = download(app, "dispatcher", query).await;
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert_eq!(v["code"], "bad_query", "{query}: {v}");
        assert_eq!(v["field"], field, "{query}: {v}");
    }
    let (s, _, body) = download(app, "dispatcher", "colour=red").await;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_query")),
        "{v}"
    );
    let r = app
        .client
        .get(format!("{}/api/v1/requests/export", app.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_rows_equal_the_list() {
    on_every_backend!(exports_equal_the_list);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_refuses_bad_parameters() {
    on_every_backend!(bad_export_parameters);
}
