//! The 咨询 knowledge base through its doors, on SQLite and (with `JIESU_TEST_PG_URL`) on
//! PostgreSQL: writing and reviewing entries (the author cannot approve their own revision; a
//! rejection goes back to draft), bad input naming the field, search and intake suggestions for
//! paraphrased questions, 一键答复 closing a 咨询 with the entry cited, uses and 没有帮助 counted.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn entry(question: &str, unit: &str) -> Value {
    json!({
        "question": question,
        "answer": "直管公房承租人可携带身份证和租赁合同到房屋管理局各管理所申请维修，紧急险情拨打管理所值班电话。",
        "policy_source": "《北京市直管公房管理办法》",
        "unit": unit,
        "valid_from": "2026-01-01",
        "keywords": ["直管公房", "公房维修", "房屋漏雨"],
    })
}

async fn list_total(app: &App, user: &str) -> i64 {
    let (s, v) = app.get(user, "/api/v1/knowledge").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["total"].as_i64().expect("total")
}

async fn review(app: &App) {
    let b = app.backend();
    // A housing handler writes for its own unit; another unit's handler may not.
    let (s, v) = app
        .post(
            "handler-housing",
            "/api/v1/knowledge",
            entry("直管公房漏雨怎么报修？", "housing-admin"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {v}");
    let id = v["id"].as_i64().expect("id");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["revision"], 1);
    let (s, v) = app
        .post(
            "handler-ecology",
            "/api/v1/knowledge",
            entry("直管公房漏雨怎么报修？", "housing-admin"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "[{b}] {v}");
    let (s, v) = app
        .post(
            "handler-ecology",
            &format!("/api/v1/knowledge/{id}"),
            entry("改成别的问题了吗", "housing-admin"),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "[{b}] a draft of another unit is not seen: {v}"
    );
    // Operators do not see drafts; they are not suggested.
    let (s, _) = app
        .get("operator", &format!("/api/v1/knowledge/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "[{b}]");

    // Submitted; rejection needs a reason and goes back to draft.
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("in_review")),
        "[{b}] {v}"
    );
    let (s, v) = app
        .post(
            "supervisor",
            &format!("/api/v1/knowledge/{id}/reject"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {v}");
    assert_eq!(v["field"], "note");
    let (s, v) = app
        .post(
            "supervisor",
            &format!("/api/v1/knowledge/{id}/reject"),
            json!({"note": "请补充管理所电话"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["review_note"], "请补充管理所电话");

    // A new revision, submitted again; the handler may not review, the supervisor publishes.
    let mut edited = entry("直管公房漏雨怎么报修？管理所电话多少？", "housing-admin");
    edited["revision"] = json!(1);
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}"),
            edited.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    assert_eq!(v["revision"], 2);
    // The same stale revision again: someone changed it meanwhile.
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}"),
            edited,
        )
        .await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("concurrent_change")),
        "[{b}] {v}"
    );
    app.post(
        "handler-housing",
        &format!("/api/v1/knowledge/{id}/submit"),
        json!({}),
    )
    .await;
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "[{b}] {v}");
    let (s, v) = app
        .post(
            "supervisor",
            &format!("/api/v1/knowledge/{id}/approve"),
            json!({"note": "可以"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    assert_eq!(v["status"], "published");
    assert_eq!(v["in_force"], true);
    let (s, v) = app
        .get("operator", &format!("/api/v1/knowledge/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    assert_eq!(v["revisions"].as_array().map(Vec::len), Some(2));

    // The author of a revision cannot approve it, even an admin; another reviewer can.
    let (s, v) = app
        .post(
            "admin",
            "/api/v1/knowledge",
            entry("公房维修多久能修好？", "housing-admin"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {v}");
    let own = v["id"].as_i64().expect("id");
    app.post(
        "admin",
        &format!("/api/v1/knowledge/{own}/submit"),
        json!({}),
    )
    .await;
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/knowledge/{own}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("own_revision")),
        "[{b}] {v}"
    );
    let (_, v) = app.get("admin", &format!("/api/v1/knowledge/{own}")).await;
    assert_eq!(v["status"], "in_review", "[{b}] nothing changed");
    // The review queue leaves out one's own.
    let b2 = Browser::of(app, "admin");
    let (s, html) = b2.get("/knowledge/review").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !html.contains(&format!("href=\"/knowledge/{own}\"")),
        "[{b}] own entry in own queue"
    );
    let (s, html) = Browser::of(app, "supervisor")
        .get("/knowledge/review")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/knowledge/{own}\"")),
        "[{b}] {html}"
    );

    // Editing a published entry takes it back to draft (only reviewed text is suggested).
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}"),
            entry("直管公房漏雨怎么报修？", "housing-admin"),
        )
        .await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("draft")),
        "[{b}] {v}"
    );
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}/retire"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("retired")),
        "[{b}] {v}"
    );
    let (s, v) = app
        .post(
            "handler-housing",
            &format!("/api/v1/knowledge/{id}/submit"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("invalid_transition")),
        "[{b}] {v}"
    );

    // Every change is in the audit log.
    let (s, v) = app
        .get("admin", &format!("/api/v1/audit?target=knowledge:{id}"))
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    let actions: Vec<&str> = v
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "knowledge_create",
        "knowledge_submit",
        "knowledge_reject",
        "knowledge_edit",
        "knowledge_approve",
        "knowledge_retire",
    ] {
        assert!(actions.contains(&a), "[{b}] {a} audited: {actions:?}");
    }

    // The web editor: a bad field is shown beside it, nothing is stored.
    let before = list_total(app, "admin").await;
    let web = Browser::of(app, "handler-housing");
    let (s, html, _) = web
        .post(
            "/knowledge/new",
            &[
                ("question", "直管公房怎么申请换房"),
                ("answer", "太短了"),
                ("policy_source", "《北京市直管公房管理办法》"),
                ("unit", "housing-admin"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
    assert!(html.contains("答复口径至少 10 个字"), "[{b}] {html}");
    assert_eq!(list_total(app, "admin").await, before);
    let (s, _, loc) = web
        .post(
            "/knowledge/new",
            &[
                ("question", "直管公房怎么申请换房"),
                (
                    "answer",
                    "承租人可向所属管理所提出调换申请，管理所按房源情况安排。",
                ),
                ("policy_source", "《北京市直管公房管理办法》"),
                ("unit", "housing-admin"),
                ("keywords", "直管公房，换房、调换"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}]");
    let (s, html) = web.get(&loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("已保存为草稿") && html.contains("换房"),
        "[{b}]"
    );
}

async fn bad_input(app: &App) {
    let b = app.backend();
    let before = list_total(app, "admin").await;
    let good = entry("直管公房漏雨怎么报修？", "housing-admin");
    let cases: &[(&str, Value, &str)] = &[
        ("question", json!("报修"), "too_short"),
        ("question", json!("   "), "required"),
        ("answer", json!("请去管理所"), "too_short"),
        ("policy_source", json!(""), "required"),
        ("unit", json!("no-such-unit"), "unknown_unit"),
        ("valid_from", json!("2026年1月1日"), "invalid_date"),
        ("valid_to", json!("2025-12-31"), "before_valid_from"),
        (
            "keywords",
            json!((0..21).map(|i| format!("词{i}")).collect::<Vec<_>>()),
            "too_many_keywords",
        ),
    ];
    for (field, value, code) in cases {
        let mut body = good.clone();
        body[*field] = value.clone();
        let (s, v) = app.post("admin", "/api/v1/knowledge", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {field}: {v}");
        assert_eq!(v["field"], *field, "[{b}] {v}");
        assert_eq!(v["code"], *code, "[{b}] {v}");
        assert!(
            v["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && !m.is_ascii()),
            "[{b}] a Chinese message: {v}"
        );
    }
    // A missing field and an unknown one are named too.
    let mut body = good.clone();
    body.as_object_mut().map(|o| o.remove("answer"));
    let (s, v) = app.post("admin", "/api/v1/knowledge", body).await;
    assert_eq!(
        (s, v["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("answer")),
        "[{b}] {v}"
    );
    let mut body = good;
    body["colour"] = json!("red");
    let (s, v) = app.post("admin", "/api/v1/knowledge", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {v}");
    // Bad filters.
    let (s, v) = app.get("operator", "/api/v1/knowledge?status=open").await;
    assert_eq!(
        (s, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("status")),
        "[{b}] {v}"
    );
    assert_eq!(
        list_total(app, "admin").await,
        before,
        "[{b}] nothing stored"
    );
}

/// Loads the preset entries (admin, for review) and has the supervisor publish them all.
async fn publish_preset(app: &App) -> usize {
    let b = app.backend();
    let (s, _, loc) = Browser::of(app, "admin")
        .post("/knowledge/preset", &[])
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}]");
    assert!(loc.starts_with("/knowledge"), "{loc}");
    let (_, v) = app.get("admin", "/api/v1/knowledge?status=in_review").await;
    let ids: Vec<i64> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert!(ids.len() >= 10, "[{b}] preset: {}", ids.len());
    // The admin loaded them: the admin cannot publish them.
    let (s, _) = app
        .post(
            "admin",
            &format!("/api/v1/knowledge/{}/approve", ids[0]),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "[{b}]");
    for id in &ids {
        let (s, v) = app
            .post(
                "supervisor",
                &format!("/api/v1/knowledge/{id}/approve"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    }
    // A second load is refused: the knowledge base is not empty.
    let (s, _, _) = Browser::of(app, "admin")
        .post("/knowledge/preset", &[])
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "[{b}]");
    ids.len()
}

async fn top_question(app: &App, text: &str) -> String {
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/knowledge/suggest",
            json!({"text": text}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v[0]["question"].as_str().unwrap_or_default().to_string()
}

async fn search(app: &App) {
    let b = app.backend();
    publish_preset(app).await;
    // Callers' sentences, none of them the entry's question.
    for (text, want) in [
        ("我想问问租的房子能不能用公积金交房租", "租房"),
        ("买了房子想把住房公积金取出来，去哪里办", "公积金怎么提取"),
        ("今年家里什么时候开始来暖气？", "供暖"),
        ("孩子明年该上一年级了，报名要准备什么", "入学"),
        ("我妈刚满60岁，想给她办个老年卡", "老年卡"),
        ("自己在家接活干，属于灵活就业，社保应该怎么交", "灵活就业"),
        ("刚生了宝宝，怎么给孩子上户口", "落户"),
    ] {
        let got = top_question(app, text).await;
        assert!(
            got.contains(want),
            "[{b}] {text} → {got:?}, expected {want}"
        );
    }
    // Nothing in the knowledge base about a broken street light: no suggestion.
    let (_, v) = app
        .post(
            "operator",
            "/api/v1/knowledge/suggest",
            json!({"text": "胡同口的路灯坏了好几天，晚上黑乎乎的"}),
        )
        .await;
    assert_eq!(v.as_array().map(Vec::len), Some(0), "[{b}] {v}");
    // The list's search box: the best match first.
    let (s, v) = app
        .get(
            "operator",
            "/api/v1/knowledge?q=%E5%85%AC%E7%A7%AF%E9%87%91%20%E7%A7%9F%E6%88%BF",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    assert!(
        v["items"][0]["question"]
            .as_str()
            .is_some_and(|q| q.contains("租房")),
        "[{b}] 公积金 租房 → {v}"
    );
    // A retired entry is no longer suggested.
    let (_, v) = app
        .post(
            "operator",
            "/api/v1/knowledge/suggest",
            json!({"text": "今年家里什么时候开始来暖气？"}),
        )
        .await;
    let heating = v[0]["id"].as_i64().expect("id");
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/knowledge/{heating}/retire"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    let got = top_question(app, "今年家里什么时候开始来暖气？").await;
    assert!(
        !got.contains("供暖"),
        "[{b}] retired entry still suggested: {got}"
    );

    // The intake desk's panel shows matches with 一键答复 and 没有帮助.
    let web = Browser::of(app, "operator");
    let (s, html, _) = web
        .post(
            "/intake/knowledge/suggest",
            &[("text", "我想问问租的房子能不能用公积金交房租")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("一键答复") && html.contains("没有帮助") && html.contains("租房"),
        "[{b}] {html}"
    );
    let (s, html) = web.get("/intake").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"kb-suggest\""),
        "[{b}] the panel is on the desk"
    );
}

async fn answer_from_entry(app: &App) {
    let b = app.backend();
    publish_preset(app).await;
    let (_, v) = app
        .post(
            "operator",
            "/api/v1/knowledge/suggest",
            json!({"text": "我想问问租的房子能不能用公积金交房租"}),
        )
        .await;
    let kb = v[0]["id"].as_i64().expect("a suggestion");
    let question = v[0]["question"].as_str().expect("q").to_string();
    let source = v[0]["policy_source"].as_str().expect("source").to_string();
    assert_eq!(v[0]["uses"], 0);

    // 一键答复 from the desk: the type is still 投诉 on the form; it is recorded as a 咨询,
    // closed as answered, the entry cited.
    let web = Browser::of(app, "operator");
    let kb_s = kb.to_string();
    let (s, _, loc) = web
        .post(
            "/intake/knowledge",
            &[
                ("request_type", "complaint"),
                ("channel", "hotline"),
                ("text", "我想问问租的房子能不能用公积金交房租，要准备什么"),
                ("caller_name", "赵敏"),
                ("caller_phone", "13911112222"),
                ("disposition", "dispatch"),
                ("idem", "kb-answer-1"),
                ("kb_entry", &kb_s),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}]");
    let id: i64 = loc
        .strip_prefix("/intake?done=")
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("[{b}] redirect {loc}"));
    let st = app.state(id).await;
    assert_eq!(st["status"], "closed", "[{b}] {st}");
    let (_, events) = app
        .get("dispatcher", &format!("/api/v1/requests/{id}/events"))
        .await;
    let text = events.to_string();
    assert!(
        text.contains("consultation"),
        "[{b}] recorded as a 咨询: {text}"
    );
    assert!(
        text.contains(&format!("知识库第{kb}号《{question}》")) && text.contains(&source),
        "[{b}] the answer cites the entry: {text}"
    );
    // The same form again (a double click) records nothing new and counts no second use.
    let (s, _, loc2) = web
        .post(
            "/intake/knowledge",
            &[
                ("request_type", "complaint"),
                ("text", "我想问问租的房子能不能用公积金交房租，要准备什么"),
                ("idem", "kb-answer-1"),
                ("kb_entry", &kb_s),
            ],
        )
        .await;
    assert_eq!((s, loc2), (StatusCode::SEE_OTHER, loc.clone()), "[{b}]");
    let (_, v) = app.get("admin", &format!("/api/v1/knowledge/{kb}")).await;
    assert_eq!(v["uses"], 1, "[{b}] one use: {v}");

    // A bad form stays on the desk with the field named and nothing stored.
    let (s, html, _) = web
        .post(
            "/intake/knowledge",
            &[
                ("request_type", "complaint"),
                ("text", ""),
                ("kb_entry", &kb_s),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}]");
    assert!(
        html.contains("id=\"intake-form\""),
        "[{b}] back on the desk"
    );
    let (_, v) = app.get("admin", &format!("/api/v1/knowledge/{kb}")).await;
    assert_eq!(v["uses"], 1, "[{b}]");

    // The API's 一键答复 does the same.
    let (s, v) = app
        .post(
            "operator",
            &format!("/api/v1/knowledge/{kb}/answer"),
            json!({"request_type": "complaint", "text": "租房提取公积金每个月能取多少钱？"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {v}");
    assert_eq!(v["status"], "closed");
    // 没有帮助, from the desk's panel (htmx) and the API; counted, visible to editors.
    let (s, html, _) = web.post(&format!("/knowledge/{kb}/feedback"), &[]).await;
    assert_eq!(s, StatusCode::OK, "[{b}] {html}");
    assert!(html.contains("已记录"), "[{b}] {html}");
    let (s, v) = app
        .post(
            "callback",
            &format!("/api/v1/knowledge/{kb}/feedback"),
            json!({"request_id": id, "note": "来电人说政策已调整，电话13911112222"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {v}");
    assert!(
        !v["note"]
            .as_str()
            .unwrap_or_default()
            .contains("13911112222"),
        "[{b}] masked: {v}"
    );
    let (_, v) = app.get("admin", &format!("/api/v1/knowledge/{kb}")).await;
    assert_eq!(v["unhelpful"], 2, "[{b}] {v}");
    assert_eq!(v["feedback"].as_array().map(Vec::len), Some(2), "[{b}] {v}");
    // A retired entry is not the desk's any more; a published one out of its dates cannot answer.
    app.post(
        "admin",
        &format!("/api/v1/knowledge/{kb}/retire"),
        json!({}),
    )
    .await;
    let consult =
        json!({"request_type": "consultation", "text": "租房提取公积金每个月能取多少钱？"});
    let (s, v) = app
        .post(
            "operator",
            &format!("/api/v1/knowledge/{kb}/answer"),
            consult.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "[{b}] {v}");
    let mut expired = entry("2025年公积金租房提取标准是多少？", "housing-admin");
    expired["valid_from"] = json!("2025-01-01");
    expired["valid_to"] = json!("2025-12-31");
    let (_, v) = app.post("admin", "/api/v1/knowledge", expired).await;
    let old = v["id"].as_i64().expect("id");
    app.post(
        "admin",
        &format!("/api/v1/knowledge/{old}/submit"),
        json!({}),
    )
    .await;
    let (s, v) = app
        .post(
            "supervisor",
            &format!("/api/v1/knowledge/{old}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["in_force"].clone()),
        (StatusCode::OK, json!(false)),
        "[{b}] {v}"
    );
    let (s, v) = app
        .post(
            "operator",
            &format!("/api/v1/knowledge/{old}/answer"),
            consult,
        )
        .await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("entry_unavailable")),
        "[{b}] {v}"
    );
    // Admins edit the knowledge base but do not take calls: no feedback from them.
    let (s, _) = app
        .post(
            "admin",
            &format!("/api/v1/knowledge/{kb}/feedback"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "[{b}]");
}

#[tokio::test]
async fn entries_are_written_and_reviewed_by_two_people() {
    on_every_backend!(review);
}

#[tokio::test]
async fn bad_input_names_the_field_and_stores_nothing() {
    on_every_backend!(bad_input);
}

#[tokio::test]
async fn search_and_suggestions_find_the_entry_for_a_paraphrased_question() {
    on_every_backend!(search);
}

#[tokio::test]
async fn one_click_answer_closes_a_consultation_citing_the_entry_and_feedback_is_counted() {
    on_every_backend!(answer_from_entry);
}
