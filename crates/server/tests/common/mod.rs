//! Test harness: the real server on port 0 with a fresh database (SQLite, and PostgreSQL when
//! `JIESU_TEST_PG_URL` is set), a settable clock, and one logged-in account per role.

#![allow(dead_code)]

use jiesu_domain::{Directory, Role};
use jiesu_server::{AppState, Clock};
use jiesu_store::testing::TestDb;
use jiesu_store::{NewUser, Store};
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Monday 2 November 2026, 09:00 Beijing time: a working day.
pub const T0: &str = "2026-11-02T09:00:00+08:00";
pub const PASSWORD: &str = "correct-horse-battery";
/// 什刹海街道 and its street office.
pub const STREET: &str = "110102012";
pub const COMMUNITY: &str = "110102012001";
/// A leaf routed to the request's street office, 7 working days.
pub const STREET_CATEGORY: &str = "property.service";
pub const OTHER_STREET_OFFICE: &str = "110102013";

pub struct App {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub store: Store,
    pub dir: std::sync::Arc<Directory>,
    pub tokens: HashMap<String, String>,
    /// The server's own use-case context (its in-memory state: devices' liveness, counters).
    pub app: jiesu_app::App,
    db: Option<TestDb>,
    server: tokio::task::JoinHandle<()>,
}

pub fn world() -> jiesu_world::World {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    match jiesu_world::load_dir(&dir) {
        Ok(w) => w,
        Err(e) => panic!("shipped world does not load: {e}"),
    }
}

/// Accounts made for every test: (username, role, unit).
pub const ACCOUNTS: &[(&str, Role, Option<&str>)] = &[
    ("operator", Role::Operator, None),
    ("dispatcher", Role::Dispatcher, None),
    ("handler", Role::Handler, Some(STREET)),
    ("handler-other", Role::Handler, Some(OTHER_STREET_OFFICE)),
    ("handler-housing", Role::Handler, Some("housing-admin")),
    ("handler-ecology", Role::Handler, Some("ecology")),
    ("callback", Role::Callback, None),
    ("supervisor", Role::Supervisor, None),
    ("admin", Role::Admin, None),
    ("care-admin", Role::CareAdmin, None),
    ("care-manager", Role::CareManager, Some(STREET)),
    ("provider", Role::Provider, Some(PROVIDER)),
    ("provider-other", Role::Provider, Some("P002")),
    ("meal-staff", Role::Provider, Some("MP001")),
    ("health-admin", Role::HealthAdmin, None),
    ("nursery", Role::Nursery, Some(NURSERY)),
    ("nursery-other", Role::Nursery, Some("TY002")),
];

/// The 托育机构 the `nursery` account works for.
pub const NURSERY: &str = "TY001";

/// The elder-care provider the `provider` account works for.
pub const PROVIDER: &str = "P001";

impl App {
    pub async fn start(db: TestDb) -> App {
        let store = db.store.clone();
        let w = world();
        store
            .save_world(&w, "test", Timestamp::now())
            .await
            .expect("save world");
        let clock = Clock::manual(T0.parse().expect("T0"));
        let mut state = AppState::new(store.clone(), Directory::new(w), clock.clone());
        // Scenarios move the clock by weeks; a shift-long session would expire under them.
        state.session_ttl = jiff::SignedDuration::from_hours(24 * 60);
        state.session_idle = state.session_ttl;
        let dir = state.dir.clone();
        let server_app = state.app.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let _ = jiesu_server::serve(listener, state, std::future::pending()).await;
        });
        // One hash for every account keeps start-up fast (argon2 is deliberately slow).
        let hash = jiesu_server::auth::hash_password(PASSWORD).expect("hash");
        for (name, role, unit) in ACCOUNTS {
            store
                .create_user(
                    &NewUser {
                        username: name.to_string(),
                        display_name: name.to_string(),
                        password_hash: hash.clone(),
                        role: *role,
                        unit_code: unit.map(str::to_string),
                    },
                    Timestamp::now(),
                )
                .await
                .expect("create user");
        }
        let mut app = App {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            clock,
            store,
            dir,
            tokens: HashMap::new(),
            app: server_app,
            db: Some(db),
            server,
        };
        for (name, _, _) in ACCOUNTS {
            let (s, v) = app
                .call(
                    "POST",
                    None,
                    "/api/v1/auth/login",
                    Some(json!({"username": name, "password": PASSWORD})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "login {name}: {v}");
            app.tokens.insert(
                name.to_string(),
                v["token"].as_str().unwrap_or_default().to_string(),
            );
        }
        app
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// The test database's URL (to open it again, as a restarted server would).
    pub fn db_url(&self) -> String {
        self.db.as_ref().map(|d| d.url.clone()).unwrap_or_default()
    }

    pub async fn call(
        &self,
        method: &str,
        user: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = match method {
            "GET" => self.client.get(format!("{}{path}", self.base)),
            "PUT" => self.client.put(format!("{}{path}", self.base)),
            _ => self.client.post(format!("{}{path}", self.base)),
        };
        if let Some(u) = user {
            let t = self.tokens.get(u).cloned().unwrap_or_else(|| u.to_string());
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    /// A web page as `user` (the bearer token doubles as the session cookie), redirects not
    /// followed: (status, Location, body).
    pub async fn page(&self, user: Option<&str>, path: &str) -> (StatusCode, String, String) {
        let mut rb = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(format!("{}{path}", self.base));
        if let Some(u) = user {
            let token = self.tokens.get(u).cloned().unwrap_or_default();
            rb = rb.header("cookie", format!("jiesu_session={token}"));
        }
        let r = rb.send().await.expect("send");
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, location, r.text().await.unwrap_or_default())
    }

    pub async fn get(&self, user: &str, path: &str) -> (StatusCode, Value) {
        self.call("GET", Some(user), path, None).await
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", Some(user), path, Some(body)).await
    }

    /// Runs an action and insists it succeeds.
    pub async fn act_ok(&self, user: &str, id: i64, action: &str, body: Value) -> Value {
        let (s, v) = self
            .post(user, &format!("/api/v1/requests/{id}/{action}"), body)
            .await;
        assert_eq!(
            s,
            StatusCode::OK,
            "[{}] {action} by {user}: {v}",
            self.backend()
        );
        v
    }

    /// Runs an action that must be refused with `status` and `code`, and checks nothing changed.
    pub async fn act_refused(
        &self,
        user: &str,
        id: i64,
        action: &str,
        body: Value,
        status: StatusCode,
        code: &str,
    ) -> Value {
        let before = self.store.events(id).await.expect("events").len();
        let (s, v) = self
            .post(user, &format!("/api/v1/requests/{id}/{action}"), body)
            .await;
        assert_eq!(s, status, "[{}] {action} by {user}: {v}", self.backend());
        assert_eq!(
            v["code"],
            code,
            "[{}] {action} by {user}: {v}",
            self.backend()
        );
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        let after = self.store.events(id).await.expect("events").len();
        assert_eq!(before, after, "a refused {action} must not append events");
        v
    }

    /// A new request recorded by the operator; returns its id.
    pub async fn intake(&self, extra: Value) -> i64 {
        let mut body = json!({
            "request_type": "complaint",
            "category": STREET_CATEGORY,
            "street": STREET,
            "community": COMMUNITY,
            "address": "鼓楼西大街12号院3号楼",
            "text": "小区物业不清理楼道杂物，堆了两个月了，存在消防隐患，希望尽快处理。",
            "caller_name": "王建国",
            "caller_phone": "13812345678",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    b.remove(k);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        let (s, v) = self.post("operator", "/api/v1/requests", body).await;
        assert_eq!(s, StatusCode::CREATED, "[{}] intake: {v}", self.backend());
        v["id"].as_i64().expect("id")
    }

    pub async fn state(&self, id: i64) -> Value {
        let (s, v) = self
            .get("dispatcher", &format!("/api/v1/requests/{id}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    pub fn advance_to(&self, t: &str) {
        self.clock.set(t.parse().expect("time"));
    }

    pub async fn stop(mut self) {
        self.server.abort();
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }
}

/// Runs `scenario` once per configured backend, each on a fresh database and server.
#[macro_export]
macro_rules! on_every_backend {
    ($scenario:ident) => {{
        let dbs = jiesu_store::testing::TestDb::all()
            .await
            .expect("test databases");
        for db in dbs {
            let app = common::App::start(db).await;
            $scenario(&app).await;
            app.stop().await;
        }
    }};
}

/// A logged-in browser: the session cookie, the form's CSRF token, no redirects followed.
pub struct Browser<'a> {
    app: &'a App,
    http: reqwest::Client,
    pub cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    pub fn of(app: &'a App, user: &str) -> Browser<'a> {
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
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.app.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.unwrap_or_default())
    }
    /// Posts a form with the session's CSRF token: (status, body, Location).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &self.csrf));
        let r = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("post");
        let loc = r
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (r.status(), r.text().await.unwrap_or_default(), loc)
    }
}
