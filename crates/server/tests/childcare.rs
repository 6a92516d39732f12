//! 托育 end to end over HTTP, on SQLite and (with `JIESU_TEST_PG_URL`) PostgreSQL: a small
//! market — institutions, applications, verification, a round with a published seed, offers
//! with their reasons, a decline whose place goes to the waiting list, the offer clock firing
//! once across a restart, enrolment and the month's subsidy in hand-computed fen; re-running
//! the round with its seed; bad input refused naming the field with nothing stored; a nursery
//! sees only its own; a handler is refused.

mod common;

use common::*;
use jiesu_domain::childcare::ChildcareApplication;
use reqwest::StatusCode;
use serde_json::{Value, json};

const OTHER_COMMUNITY: &str = "110102013001";

/// An applicant: name, street, choices, criteria, the guardian's phone.
type Spec = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

fn institution(code: &str, kind: &str, street: &str, community: &str, capacity: u32) -> Value {
    json!({
        "code": code, "name": format!("{code}托育园"), "kind": kind, "operator": "某托育公司",
        "street": street, "community": community, "address": "某路1号", "licence_no": "京西托备001",
        "community_point": false,
        "monthly_price_fen": if kind == "puhui" { json!(380000) } else { json!(600000) },
        "classes": [{"band": "toddler", "capacity": capacity, "carers": 1}],
        "health_contract": {"provider": "CHC-01", "from": "2026-01-01", "to": null},
    })
}

fn application(
    street: &str,
    community: &str,
    choices: &[&str],
    criteria: &[&str],
    phone: &str,
) -> Value {
    json!({
        "child_ref": format!("C-{phone}"), "birth_date": "2025-06-15",
        "guardians": [{"name": "王芳", "phone": phone}],
        "street": street, "community": community, "choices": choices, "criteria": criteria,
        "start_date": "2026-12-01",
    })
}

async fn total(app: &App) -> i64 {
    let (s, v) = app
        .get("health-admin", "/api/v1/childcare/applications")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["total"].as_i64().expect("total")
}

async fn market(app: &App) {
    let b = app.backend();
    // -- institutions; a class above its band's limit is refused by field, nothing stored --
    for (code, kind, street, community, cap) in [
        ("TY001", "puhui", STREET, COMMUNITY, 2),
        ("TY002", "market", OTHER_STREET_OFFICE, OTHER_COMMUNITY, 1),
    ] {
        let (s, v) = app
            .call(
                "PUT",
                Some("health-admin"),
                &format!("/api/v1/childcare/institutions/{code}"),
                Some(institution(code, kind, street, community, cap)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    }
    let (s, v) = app
        .call(
            "PUT",
            Some("health-admin"),
            "/api/v1/childcare/institutions/TY009",
            Some(institution("TY009", "puhui", STREET, COMMUNITY, 16)),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {v}");
    assert_eq!(v["field"], "classes[0].capacity", "{v}");
    let (s, _) = app
        .get("health-admin", "/api/v1/childcare/institutions/TY009")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // -- bad applications: each a 4xx naming the field, nothing stored --
    let bad = [
        (
            {
                let mut a = application(STREET, COMMUNITY, &["TY001"], &[], "13900000001");
                a["birth_date"] = json!("2027-01-01");
                a
            },
            "birth_date",
        ),
        (
            {
                let mut a = application(STREET, COMMUNITY, &["TY001"], &[], "13900000001");
                a["birth_date"] = json!("2026-04-01");
                a
            },
            "choices",
        ),
        (
            application(STREET, COMMUNITY, &["TY001", "TY001"], &[], "13900000001"),
            "choices[1]",
        ),
        (
            application(
                STREET,
                COMMUNITY,
                &["TY001", "TY002", "A3", "A4", "A5", "A6"],
                &[],
                "13900000001",
            ),
            "choices",
        ),
    ];
    for (body, field) in bad {
        let (s, v) = app
            .post("health-admin", "/api/v1/childcare/applications", body)
            .await;
        assert!(s.is_client_error(), "[{b}] {field}: {s} {v}");
        assert_eq!(v["field"], field, "[{b}] {v}");
    }
    assert_eq!(total(app).await, 0, "[{b}] nothing stored");

    // -- five applications (toddlers), verified --
    let specs: [Spec; 5] = [
        ("A", STREET, &["TY001", "TY002"], &["dibao"], "13900000011"),
        ("B", STREET, &["TY001"], &[], "13900000012"),
        (
            "C",
            STREET,
            &["TY001", "TY002"],
            &["both_working"],
            "13900000013",
        ),
        ("D", STREET, &["TY002", "TY001"], &[], "13900000014"),
        ("E", OTHER_STREET_OFFICE, &["TY001"], &[], "13900000015"),
    ];
    let mut code = std::collections::BTreeMap::new();
    for (name, street, choices, criteria, phone) in specs {
        let community = if street == STREET {
            COMMUNITY
        } else {
            OTHER_COMMUNITY
        };
        let body = application(street, community, choices, criteria, phone);
        // B applies on the portal, D through a 12345 operator, the rest at the desk.
        let (s, v) = match name {
            "B" => {
                app.call(
                    "POST",
                    None,
                    "/api/v1/childcare/portal/applications",
                    Some(body),
                )
                .await
            }
            "D" => {
                app.post("operator", "/api/v1/childcare/applications", body)
                    .await
            }
            _ => {
                app.post("health-admin", "/api/v1/childcare/applications", body)
                    .await
            }
        };
        assert_eq!(s, StatusCode::CREATED, "[{b}] {name}: {v}");
        let c = v["code"].as_str().expect("code").to_string();
        let (s, v) = app
            .post(
                "health-admin",
                &format!("/api/v1/childcare/applications/{c}/verify"),
                json!({"criteria": criteria}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "[{b}] {v}");
        assert_eq!(v["status"], "verified");
        code.insert(name, c);
    }

    // -- a handler is refused; a care admin too --
    for who in ["handler", "care-admin"] {
        let (s, v) = app.get(who, "/api/v1/childcare/applications").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "[{b}] {who}: {v}");
    }
    let (s, _) = app
        .post(
            "handler",
            "/api/v1/childcare/rounds",
            json!({"code": "R1", "name": "x", "seed_text": "y"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // -- the round: seed published, dry run, publish --
    let (s, r) = app
        .post("health-admin", "/api/v1/childcare/rounds",
            json!({"code": "R2026A", "name": "2026年冬季派位", "seed_text": "2026-11-01 西城公证处摇号"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {r}");
    assert_eq!(r["status"], "draft");
    let (s, dry) = app
        .post(
            "health-admin",
            "/api/v1/childcare/rounds/R2026A/run",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["applicants"], 5);
    assert_eq!(total(app).await, 5);
    let (s, pubd) = app
        .post(
            "health-admin",
            "/api/v1/childcare/rounds/R2026A/publish",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {pubd}");
    assert_eq!(
        pubd["result"], dry["result"],
        "the dry run is what was published"
    );
    assert!(
        pubd["result"]["violations"]
            .as_array()
            .expect("violations")
            .is_empty()
    );
    let (s, _) = app
        .post(
            "health-admin",
            "/api/v1/childcare/rounds/R2026A/publish",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Re-running the published round with its seed gives the identical result.
    let (s, again) = app
        .post(
            "health-admin",
            "/api/v1/childcare/rounds/R2026A/run",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {again}");
    assert_eq!(again["reproduced"], true, "{again}");
    assert_eq!(again["result"], pubd["result"]);

    // Outcomes: TY001 (2 toddler places) holds A (dibao 30 + street 20) and C (both working 10
    // + street 20); B (street 20) and E (0) are refused there; D gets its first choice TY002.
    let get = |n: &str| format!("/api/v1/childcare/applications/{}", code[n]);
    let status = |v: &Value| v["status"].as_str().unwrap_or_default().to_string();
    let (_, a) = app.get("health-admin", &get("A")).await;
    assert_eq!(status(&a), "offered", "{a}");
    assert_eq!(a["offer"]["institution"], "TY001");
    assert_eq!(a["offer"]["priority"]["points"], 50);
    let (_, c) = app.get("health-admin", &get("C")).await;
    assert_eq!(c["offer"]["institution"], "TY001", "{c}");
    let (_, d) = app.get("health-admin", &get("D")).await;
    assert_eq!(d["offer"]["institution"], "TY002", "{d}");
    let (_, bb) = app.get("health-admin", &get("B")).await;
    assert_eq!(status(&bb), "waiting", "{bb}");
    let rej = &bb["rejections"][0];
    assert_eq!(rej["institution"], "TY001");
    assert_eq!(rej["reason"], "full");
    assert_eq!(
        rej["cutoff"]["points"], 30,
        "the cut-off is C's 30 points: {bb}"
    );
    assert_eq!(rej["own"]["points"], 20);
    assert!(
        bb["explanation_zh"]
            .as_str()
            .expect("zh")
            .contains("录取线为30分"),
        "{bb}"
    );

    // -- the family reads it on the portal with the number and phone --
    let (s, v) = app
        .call(
            "POST",
            None,
            "/api/v1/childcare/portal/lookup",
            Some(json!({"code": code["A"], "phone": "13900000011"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v["explanation_zh"]
            .as_str()
            .expect("zh")
            .contains("第1志愿TY001"),
        "{v}"
    );
    let (s, v) = app
        .call(
            "POST",
            None,
            "/api/v1/childcare/portal/lookup",
            Some(json!({"code": code["A"], "phone": "13900000012"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // -- a nursery sees only its own --
    let (_, mine) = app
        .get("nursery-other", "/api/v1/childcare/applications")
        .await;
    let seen: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert!(
        seen.contains(&code["D"].as_str()) && !seen.contains(&code["B"].as_str()),
        "{mine}"
    );
    let (s, _) = app.get("nursery-other", &get("B")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .get("nursery-other", "/api/v1/childcare/institutions/TY001")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // -- A accepts on the portal; C declines → its place goes to B from the waiting list --
    let (s, v) = app
        .call(
            "POST",
            None,
            "/api/v1/childcare/portal/answer",
            Some(json!({"code": code["A"], "phone": "13900000011", "answer": "accept"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "accepted");
    let (s, v) = app
        .post("health-admin", &format!("{}/decline", get("C")), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "declined");
    let (_, bb) = app.get("health-admin", &get("B")).await;
    assert_eq!(status(&bb), "offered", "{bb}");
    assert_eq!(bb["offer"]["round"], "waiting_list");
    assert_eq!(bb["offer"]["institution"], "TY001");
    let (s, v) = app
        .post("health-admin", &format!("{}/accept", get("B")), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // -- the nursery enrols A (a nursery of another institution may not) --
    let (s, _) = app
        .post(
            "nursery-other",
            &format!("{}/enrol", get("A")),
            json!({"date": "2026-11-02"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.clock
        .set("2026-11-03T09:00:00+08:00".parse().expect("t"));
    let (s, v) = app
        .post(
            "nursery",
            &format!("{}/enrol", get("A")),
            json!({"date": "2026-11-03"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    assert_eq!(v["status"], "enrolled");

    // -- D's offer clock fires once, across a restart --
    let late: jiff::Timestamp = "2026-11-10T09:00:00+08:00".parse().expect("t");
    app.clock.set(late);
    jiesu_app::sla::sweep_cases(&app.app).await.expect("sweep");
    let again = jiesu_store::Store::connect_with(&app.db_url(), jiesu_store::testing::test_pii())
        .await
        .expect("reconnect");
    let restarted = jiesu_app::App::new(
        again.clone(),
        jiesu_domain::Directory::new(world()),
        jiesu_app::Clock::manual(late),
    );
    jiesu_app::sla::sweep_cases(&restarted)
        .await
        .expect("sweep again");
    let (_, d) = app.get("health-admin", &get("D")).await;
    assert_eq!(status(&d), "expired", "{d}");
    let events = app
        .store
        .case_events::<ChildcareApplication>(d["id"].as_i64().expect("id"))
        .await
        .expect("events");
    let expired = events
        .iter()
        .filter(|e| {
            matches!(
                e.payload,
                jiesu_domain::childcare::application::ApplicationEvent::Expired
            )
        })
        .count();
    assert_eq!(expired, 1, "[{b}] the offer expired once");
    again.close().await;
    // E ranked only TY001, which is full: it stays on the waiting list.
    let (_, e) = app.get("health-admin", &get("E")).await;
    assert_eq!(status(&e), "waiting", "{e}");

    // -- B enrolled from the 10th; November's subsidy in fen --
    let (s, v) = app
        .post(
            "nursery",
            &format!("{}/enrol", get("B")),
            json!({"date": "2026-11-10"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {v}");
    let (s, m) = app
        .get(
            "health-admin",
            "/api/v1/childcare/subsidy?institution=TY001&month=2026-11",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{b}] {m}");
    // A: 28 of 30 days → city 50,000×28/30 = 46,667, district 20,000×28/30 = 18,667;
    // B: 21 days → 35,000 (half a fen rounds down in integer maths: 35,000.5 → 35,000) and 14,000.
    let lines = m["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2, "{m}");
    let line = |c: &str| {
        lines
            .iter()
            .find(|l| l["application"] == c)
            .cloned()
            .expect("line")
    };
    assert_eq!(line(&code["A"])["days"], 28);
    assert_eq!(line(&code["A"])["total_fen"], 46_667 + 18_667);
    assert_eq!(line(&code["B"])["days"], 21);
    assert_eq!(line(&code["B"])["city_fen"], 35_000);
    assert_eq!(line(&code["B"])["district_fen"], 14_000);
    assert_eq!(
        m["totals"]["total_fen"],
        46_667 + 18_667 + 35_000 + 14_000,
        "{m}"
    );
    assert_eq!(m["totals"]["child_days"], 49);
    assert_eq!(m["spells"].as_array().expect("spells").len(), 2);
    // The workbook carries the same numbers as the JSON, line by line.
    let r = app
        .client
        .get(format!(
            "{}/api/v1/childcare/subsidy.xlsx?institution=TY001&month=2026-11",
            app.base
        ))
        .bearer_auth(&app.tokens["health-admin"])
        .send()
        .await
        .expect("xlsx");
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.expect("bytes").to_vec();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("workbook");
    use calamine::Reader;
    let sheet = wb.worksheet_range("托育补贴").expect("sheet");
    let rows: Vec<_> = sheet.rows().collect();
    assert_eq!(rows.len(), 4, "header, two children, totals");
    let num = |c: &calamine::Data| match c {
        calamine::Data::Float(f) => *f as i64,
        calamine::Data::Int(i) => *i,
        _ => -1,
    };
    for (row, l) in rows[1..3].iter().zip(lines) {
        assert_eq!(row[0].to_string(), l["application"].as_str().expect("code"));
        assert_eq!(num(&row[3]), l["days"].as_i64().expect("days"));
        assert_eq!(num(&row[6]), l["city_fen"].as_i64().expect("city"));
        assert_eq!(num(&row[7]), l["district_fen"].as_i64().expect("district"));
        assert_eq!(num(&row[8]), l["total_fen"].as_i64().expect("total"));
    }
    assert_eq!(
        num(&rows[3][8]),
        m["totals"]["total_fen"].as_i64().expect("total")
    );
    // The market institution gets nothing.
    let (_, m2) = app
        .get(
            "health-admin",
            "/api/v1/childcare/subsidy?institution=TY002&month=2026-11",
        )
        .await;
    assert_eq!(m2["totals"]["total_fen"], 0, "{m2}");
    let (s, _) = app
        .post(
            "health-admin",
            "/api/v1/childcare/subsidy/approve",
            json!({"institution": "TY001", "month": "2026-11"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app
        .post(
            "health-admin",
            "/api/v1/childcare/subsidy/approve",
            json!({"institution": "TY001", "month": "2026-11"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // -- a health check and the due checks --
    let (s, v) = app
        .post("nursery", &format!("{}/health", get("A")),
            json!({"date": "2026-11-09", "provider": "CHC-01", "height_mm": 820, "weight_g": 11000, "notes": "正常"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {v}");
    let (s, v) = app
        .post(
            "nursery",
            &format!("{}/health", get("A")),
            json!({"date": "2026-11-09", "provider": "CHC-01", "height_mm": 20, "weight_g": 11000}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["field"], "height_mm");
    let (s, h) = app.get("nursery", &format!("{}/health", get("A"))).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["checks"].as_array().expect("checks").len(), 1);
    assert!(!h["due"].as_array().expect("due").is_empty());

    // -- places per street --
    let (s, p) = app.get("health-admin", "/api/v1/childcare/places").await;
    assert_eq!(s, StatusCode::OK);
    let row = p
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["street"] == STREET)
        .cloned()
        .expect("street");
    assert_eq!(row["places"], 2, "{row}");
    assert_eq!(row["taken"], 2);
}

#[tokio::test]
async fn a_small_market_end_to_end() {
    on_every_backend!(market);
}
