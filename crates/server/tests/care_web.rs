//! 养老服务 pages over HTTP (issue 14, item 7): each care role's desk renders; the network, the
//! registry and an order are made through the forms; a 12345 request about elder care is turned
//! into an order on the request page, matched and assigned with one click; the provider
//! schedules, starts and finishes the visit on its phone-width pages and cannot open another
//! provider's order; the family rates on the portal; a bad form names the field in Chinese and
//! saves nothing.

mod common;

use common::{App, COMMUNITY, STREET};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

/// A logged-in browser: the session cookie and the CSRF token forms carry.
struct Browser<'a> {
    app: &'a App,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    fn of(app: &'a App, user: &str) -> Browser<'a> {
        let token = app.tokens[user].clone();
        Browser {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            csrf: jiesu_server::web::csrf_token(&token),
            cookie: format!("jiesu_session={token}"),
        }
    }
    fn anonymous(app: &'a App) -> Browser<'a> {
        Browser {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            csrf: String::new(),
            cookie: String::new(),
        }
    }
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.app.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.unwrap_or_default())
    }
    /// Posts a form with the session's CSRF token: (status, body, Location).
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if !self.csrf.is_empty() {
            form.push(("csrf", &self.csrf));
        }
        let r = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("post");
        let loc = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (r.status(), r.text().await.unwrap_or_default(), loc)
    }
}

/// A synthetic 居民身份证号码 with its GB 11643 check character.
fn id_number(body17: &str) -> String {
    jiesu_domain::care::person::with_check_character(body17)
}

/// The id at the end of a redirect such as `/care/orders/12?ok=created`.
fn id_in(location: &str, prefix: &str) -> i64 {
    location
        .strip_prefix(prefix)
        .and_then(|r| r.split(['?', '/']).next())
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location:?}"))
}

/// The first `<option value="N">` after `marker` in a page.
fn first_option_after(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"));
    let rest = &html[at..];
    let mut from = 0;
    while let Some(i) = rest[from..].find("<option value=\"") {
        let start = from + i + "<option value=\"".len();
        let end = start + rest[start..].find('"').unwrap_or(0);
        let v = &rest[start..end];
        if !v.is_empty() {
            return v.to_string();
        }
        from = end;
    }
    panic!("no option after {marker}");
}

fn provider_form<'a>(code: &'a str, name: &'a str, price: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("code", code),
        ("name", name),
        ("street", STREET),
        ("community", COMMUNITY),
        ("phone", "010-66112233"),
        ("active", "yes"),
        ("svc_bath", "yes"),
        ("price_bath", price),
        ("copay_bath", "10"),
        ("coverage", COMMUNITY),
        ("slots", "周一 08:00-18:00 4\n周二 08:00-18:00 4"),
    ]
}

async fn scenario(app: &App) {
    let b = app.backend();
    let admin = Browser::of(app, "care-admin");
    let manager = Browser::of(app, "care-manager");
    let pa = Browser::of(app, "provider");
    let pb = Browser::of(app, "provider-other");
    let operator = Browser::of(app, "operator");
    let family = Browser::anonymous(app);

    // Each role lands on its desk, and the desks render.
    for (who, path) in [
        (&admin, "/care/admin"),
        (&admin, "/care"),
        (&admin, "/care/admin/settle"),
        (&admin, "/care/supply"),
        (&manager, "/care"),
        (&manager, "/care/orders"),
        (&manager, "/care/supply"),
    ] {
        let (s, body) = who.get(path).await;
        assert_eq!(s, StatusCode::OK, "[{b}] {path}: {body:.300}");
    }
    for (user, home) in [
        ("care-admin", "/care/admin"),
        ("care-manager", "/care"),
        ("provider", "/care/provider"),
        ("meal-staff", "/care/provider"),
    ] {
        let (s, loc, _) = app.page(Some(user), "/").await;
        assert_eq!(
            (s, loc.as_str()),
            (StatusCode::SEE_OTHER, home),
            "[{b}] home of {user}"
        );
    }
    let (s, body) = family.get("/portal/care").await;
    assert_eq!(s, StatusCode::OK, "[{b}] portal care");
    assert!(body.contains("id=\"family-form\""));
    // A provider may not open the 民政 desk, nor a care manager the provider's.
    assert_eq!(
        pa.get("/care/admin").await.0,
        StatusCode::FORBIDDEN,
        "[{b}]"
    );
    assert_eq!(
        manager.get("/care/provider").await.0,
        StatusCode::FORBIDDEN,
        "[{b}]"
    );

    // The 民政 office contracts two providers. A price with fractional fen is refused beside its
    // field, in Chinese, and nothing is saved.
    let (s, body, _) = admin
        .post(
            "/care/admin/providers",
            &provider_form("P001", "甲护理站", "80.005"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] fractional fen");
    assert!(
        body.contains("id=\"svc_bath-err\""),
        "[{b}] error beside the bath row"
    );
    assert!(
        body.contains("价格：金额最多两位小数"),
        "[{b}] {body:.2000}"
    );
    let (_, list) = admin.get("/care/admin").await;
    assert!(!list.contains("甲护理站"), "[{b}] nothing saved");
    // Overlapping slots: the app's rule, shown beside the slots field.
    let mut overlapping = provider_form("P001", "甲护理站", "80");
    overlapping.retain(|(k, _)| *k != "slots");
    overlapping.push(("slots", "周一 08:00-12:00 4\n周一 11:00-14:00 2"));
    let (s, body, _) = admin.post("/care/admin/providers", &overlapping).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "[{b}] overlapping slots"
    );
    let err = body
        .split("id=\"p-slots-err\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_default();
    assert!(!err.is_empty(), "[{b}] the slots field carries the error");
    for (code, name, price) in [("P001", "甲护理站", "80"), ("P002", "乙护理站", "95.50")] {
        let (s, body, loc) = admin
            .post("/care/admin/providers", &provider_form(code, name, price))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] save {code}: {body:.1500}");
        assert_eq!(loc, "/care/admin?ok=provider");
    }
    let (_, list) = admin.get("/care/admin").await;
    assert!(
        list.contains("助浴 95.50元"),
        "[{b}] price list shown in 元"
    );

    // The care manager registers an elder of their street. A wrong check digit is refused naming
    // the field in Chinese, and nothing is registered.
    let good = id_number("11010219400512123");
    let mut bad = good.clone();
    let last = if bad.ends_with('0') { "1" } else { "0" };
    bad.replace_range(17.., last);
    let elder = |id: &str| {
        vec![
            ("name", "李秀英".to_string()),
            ("id_number", id.to_string()),
            ("birth_date", "1940-05-12".to_string()),
            ("phone", "13700001111".to_string()),
            ("street", STREET.to_string()),
            ("community", COMMUNITY.to_string()),
            ("address", "鼓楼西大街12号院3号楼2单元101".to_string()),
            ("living_alone", "yes".to_string()),
            ("basic_service_object", "yes".to_string()),
            ("family_name_0", "张明".to_string()),
            ("family_relation_0", "儿子".to_string()),
            ("family_phone_0", "13911112222".to_string()),
            ("consent_date", "2026-11-01".to_string()),
            ("consent_scope", "基本信息".to_string()),
            ("consent_scope", "健康信息".to_string()),
        ]
    };
    let form = elder(&bad);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, body, _) = manager.post("/care/elders", &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] bad check digit");
    let err = body
        .split("id=\"id_number-err\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_default();
    assert!(
        err.contains("身份证号"),
        "[{b}] the error names 身份证号: {err:?}"
    );
    let (_, desk) = manager.get("/care").await;
    assert!(
        desk.contains("id=\"elder-total\">0<"),
        "[{b}] nothing registered"
    );
    let form = elder(&good);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, body, loc) = manager.post("/care/elders", &fields).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] register: {body:.1500}");
    let elder_id = id_in(&loc, "/care/elders/");
    // The list is masked; the detail is not (and is audited by the use case).
    let (_, desk) = manager.get("/care").await;
    assert!(desk.contains("id=\"elder-total\">1<"), "[{b}]");
    assert!(!desk.contains(&good), "[{b}] the list masks the ID number");
    let (s, detail) = manager.get(&format!("/care/elders/{elder_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        detail.contains(&good) && detail.contains("本次查看已记录"),
        "[{b}]"
    );

    // An assessment: 26 items, the grade derived (all maxima: 90, 能力完好).
    let (s, page) = manager
        .get(&format!("/care/elders/{elder_id}/assess"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        page.matches("<select id=\"s_B").count(),
        26,
        "[{b}] 26 items"
    );
    let maxima = jiesu_domain::care::ability::ITEMS;
    let keys: Vec<String> = maxima.iter().map(|(c, ..)| format!("s_{c}")).collect();
    let vals: Vec<String> = maxima.iter().map(|(.., m)| m.to_string()).collect();
    let mut fields: Vec<(&str, &str)> = keys
        .iter()
        .zip(&vals)
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.extend([
        ("date", "2026-11-01"),
        ("assessor", "王评估"),
        ("risk_events_30d", "0"),
    ]);
    let (s, _, loc) = manager
        .post(&format!("/care/elders/{elder_id}/assess"), &fields)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] assess");
    assert!(loc.ends_with("ok=assessed"));
    let (_, detail) = manager.get(&format!("/care/elders/{elder_id}")).await;
    assert!(
        detail.contains("<td class=\"num\">90</td>") && detail.contains("能力完好"),
        "[{b}]"
    );

    // A meal point, and its staff record a lunch at the till: the daily subsidy deducted for a
    // 基本养老服务对象; a second lunch the same day is refused beside the meal field.
    let (s, body, _) = admin
        .post(
            "/care/admin/meal-points",
            &[
                ("code", "MP001"),
                ("name", "鼓楼西父母食堂"),
                ("street", STREET),
                ("community", COMMUNITY),
                ("address", "鼓楼西大街20号"),
                ("capacity", "80"),
                ("hours", "11:00-13:00"),
                ("communities", COMMUNITY),
                ("active", "yes"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] meal point: {body:.1500}");
    let staff = Browser::of(app, "meal-staff");
    let (_, desk) = staff.get("/care/provider").await;
    assert!(
        desk.contains("id=\"meal-form\"") && desk.contains("鼓楼西父母食堂"),
        "[{b}]"
    );
    let eid_s = elder_id.to_string();
    let meal = [
        ("point", "MP001"),
        ("elder_id", eid_s.as_str()),
        ("date", "2026-11-02"),
        ("meal", "lunch"),
        ("bill", "12.50"),
    ];
    let (s, body, _) = staff.post("/care/meals", &meal).await;
    assert_eq!(s, StatusCode::OK, "[{b}] meal: {body:.1500}");
    assert!(
        body.contains("账单12.50元，补贴5.00元，老人实付7.50元"),
        "[{b}] {body:.2000}"
    );
    let (s, body, _) = staff.post("/care/meals", &meal).await;
    assert_eq!(s, StatusCode::CONFLICT, "[{b}] a second lunch");
    assert!(
        body.contains("已有同一餐次"),
        "[{b}] {}",
        body.split("<main").nth(1).unwrap_or_default()
    );

    // A 12345 request about elder care: its page offers 转养老服务工单 to the operator.
    let rid = app
        .intake(json!({
            "request_type": "help_request",
            "category": "elderly.home-care",
            "text": "我母亲八十多岁独居，自己洗不了澡，想请人上门助浴。",
        }))
        .await;
    let (_, req_page) = operator.get(&format!("/r/{rid}")).await;
    assert!(
        req_page.contains("id=\"care-order-block\""),
        "[{b}] the block is offered"
    );
    let plain = app.intake(json!({})).await;
    let (_, other_page) = operator.get(&format!("/r/{plain}")).await;
    assert!(
        !other_page.contains("care-order-block"),
        "[{b}] not for other categories"
    );
    let (s, found) = operator
        .get(&format!("/care/from-request/{rid}?q=137-0000-1111"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        found.contains(&format!("value=\"{elder_id}\"")),
        "[{b}] found by the phone"
    );
    let (_, found) = operator
        .get(&format!("/care/from-request/{rid}?q={good}"))
        .await;
    assert!(
        found.contains(&format!("value=\"{elder_id}\"")),
        "[{b}] found by ID number"
    );
    let (s, found) = operator
        .get(&format!("/care/from-request/{rid}?q=12"))
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "[{b}] neither an ID number nor a phone"
    );
    assert!(
        found.contains("id=\"find-err\">查询条件"),
        "[{b}] said beside the box"
    );
    let eid = elder_id.to_string();
    let (s, body, loc) = operator
        .post(
            &format!("/care/from-request/{rid}"),
            &[("elder_id", &eid), ("service", ""), ("q", "13700001111")],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "[{b}] no service chosen"
    );
    assert!(body.contains("请选择服务项目") && loc.is_empty());
    let (s, body, loc) = operator
        .post(
            &format!("/care/from-request/{rid}"),
            &[
                ("elder_id", &eid),
                ("service", "bath"),
                ("note", "周一上午方便"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] from request: {body:.1500}");
    let oid = id_in(&loc, "/care/orders/");

    // The order page proposes both providers with their reasons; one click assigns.
    let (_, order) = operator.get(&format!("/care/orders/{oid}")).await;
    assert!(
        order.contains("id=\"assign-P001\"") && order.contains("id=\"assign-P002\""),
        "[{b}]"
    );
    assert!(order.contains("覆盖老人所在社区"), "[{b}] reasons shown");
    let (s, _, loc) = operator
        .post(
            &format!("/care/orders/{oid}/assign"),
            &[("provider", "P001")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] assign");
    assert!(loc.ends_with("ok=assign"));

    // Another provider cannot open it: 404, as if it did not exist.
    let (s, _) = pb.get(&format!("/care/orders/{oid}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "[{b}] provider B opens A's order");
    let (s, _, _) = pb
        .post(&format!("/care/orders/{oid}/act/decline"), &[])
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "[{b}] provider B declines A's order"
    );

    // Provider A's desk at phone width: the viewport set, orders as cards, big buttons.
    let (s, desk) = pa.get("/care/provider").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        desk.contains("name=\"viewport\" content=\"width=device-width"),
        "[{b}]"
    );
    assert!(
        desk.contains("class=\"card order-card\""),
        "[{b}] orders as cards"
    );
    assert!(desk.contains("class=\"big\""), "[{b}] big buttons");
    let (s, _, _) = pa
        .post(
            "/care/provider/carers",
            &[("carer_name", ""), ("skills", "bath")],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "[{b}] a carer without a name"
    );
    let (s, _, _) = pa
        .post(
            "/care/provider/carers",
            &[("carer_name", "赵护理"), ("skills", "bath")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] add carer");
    let (_, order) = pa.get(&format!("/care/orders/{oid}")).await;
    assert!(
        order.contains("鼓楼西大街12号院"),
        "[{b}] the visiting provider sees the address"
    );
    let carer = first_option_after(&order, "id=\"schedule-carer\"");
    // T0 is Monday 09:00; the visit at 10:00 for an hour.
    let (s, body, _) = pa
        .post(
            &format!("/care/orders/{oid}/act/schedule"),
            &[
                ("carer_id", &carer),
                ("start", "2026-11-02T10:00"),
                ("duration", "60"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] schedule: {body:.1500}");
    let (s, body, _) = pa
        .post(
            &format!("/care/orders/{oid}/act/finish"),
            &[("notes", "还没开始")],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "[{b}] finishing before starting");
    assert!(
        body.contains("id=\"form-error\""),
        "[{b}] shown on the page"
    );
    let (s, _, _) = pa
        .post(
            &format!("/care/orders/{oid}/act/start"),
            &[
                ("carer_id", &carer),
                ("gps", ""),
                ("place", "鼓楼西大街12号院3号楼2单元101"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] start");
    app.advance_to("2026-11-02T10:50:00+08:00");
    let (s, _, _) = pa
        .post(
            &format!("/care/orders/{oid}/act/finish"),
            &[("notes", "协助洗浴，老人状态良好。")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] finish");
    let (_, order) = pa.get(&format!("/care/orders/{oid}")).await;
    assert!(
        order.contains("待评价") && order.contains("地点：鼓楼西大街"),
        "[{b}]"
    );

    // The family follows the order by its number on the portal and rates it once.
    let code = order
        .split("id=\"order-code\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_default()
        .to_string();
    assert!(code.starts_with("YL"), "[{b}] order code {code:?}");
    let (s, track) = family.get(&format!("/portal/care/{code}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        track.contains("id=\"care-rate-form\"") && !track.contains("李秀英"),
        "[{b}]"
    );
    let (s, _, _) = family.post(&format!("/portal/care/{code}/rate"), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] no score");
    let (s, _, loc) = family
        .post(
            &format!("/portal/care/{code}/rate"),
            &[("score", "5"), ("comment", "很满意")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] rate");
    let (_, track) = family.get(&loc).await;
    assert!(
        track.contains("id=\"care-rating\">5分") && !track.contains("care-rate-form"),
        "[{b}]"
    );

    // The family's own request: the ID number and a registered phone must match.
    let (s, body, _) = family
        .post(
            "/portal/care",
            &[
                ("id_number", &good),
                ("phone", "13600009999"),
                ("service", "bath"),
            ],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "[{b}] unregistered phone"
    );
    assert!(body.contains("id=\"id_number-err\""), "[{b}]");
    let (s, _, loc) = family
        .post(
            "/portal/care",
            &[
                ("id_number", &good),
                ("phone", "13911112222"),
                ("service", "clean"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] family request");
    assert!(
        loc.starts_with("/portal/care/YL") && loc.ends_with("?new=1"),
        "[{b}] {loc}"
    );

    // The month's settlement shows the verified visit at price less co-payment (80 − 10).
    let (s, settle) = admin.get("/care/admin/settle?month=2026-11").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        settle.contains("id=\"claim-P001\""),
        "[{b}] provider A's claim"
    );
    let row = settle
        .split("id=\"claim-P001\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(row.contains("<strong>70.00</strong>"), "[{b}] {row}");
    let (s, _, loc) = admin
        .post(
            "/care/admin/settle/prepare",
            &[
                ("month", "2026-11"),
                ("kind", "provider"),
                ("party", "P001"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "[{b}] prepare");
    assert!(loc.contains("ok=prepare"));
    let r = reqwest::Client::new()
        .get(format!("{}/care/admin/settle.xlsx?month=2026-11", app.base))
        .header(COOKIE, &admin.cookie)
        .send()
        .await
        .expect("xlsx");
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap_or_default();
    assert!(bytes.starts_with(b"PK"), "[{b}] an XLSX (zip) file");
}

#[tokio::test]
async fn care_pages_for_every_role() {
    let dbs = jiesu_store::testing::TestDb::all()
        .await
        .expect("test databases");
    for db in dbs {
        let app = App::start(db).await;
        scenario(&app).await;
        app.stop().await;
    }
}
