//! The store's contract, run on SQLite and (with `JIESU_TEST_PG_URL`) on PostgreSQL: the same
//! behaviour from both backends.

use jiesu_domain::lifecycle::{Caller, Intake};
use jiesu_domain::{Actor, Channel, Command, Directory, RequestState, RequestType, Role, Status};
use jiesu_store::testing::TestDb;
use jiesu_store::{NewRequest, NewUser, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

fn dir() -> Arc<Directory> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    match jiesu_world::load_dir(&path) {
        Ok(w) => Arc::new(Directory::new(w)),
        Err(e) => panic!("world: {e}"),
    }
}

fn t0() -> Timestamp {
    "2026-11-02T09:00:00+08:00".parse().expect("t0")
}

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: None,
        username: format!("{role}"),
        role,
        unit: unit.map(str::to_string),
    }
}

fn intake(text: &str) -> Intake {
    Intake {
        request_type: RequestType::Complaint,
        channel: Channel::Hotline,
        category: Some("property.service".into()),
        street: Some("110102012".into()),
        community: Some("110102012001".into()),
        address: Some("鼓楼西大街1号".into()),
        title: None,
        text: text.into(),
        caller: Caller {
            name: Some("李娜".into()),
            phone: Some("13900001111".into()),
        },
        urgent: false,
        received_at: t0(),
    }
}

async fn create(
    store: &Store,
    dir: &Directory,
    text: &str,
    follow_up: Option<Command>,
) -> Result<RequestState, StoreError> {
    store
        .create_request(NewRequest {
            dir,
            actor: &actor(Role::Operator, None),
            intake: intake(text),
            idempotency_key: None,
            follow_up,
            suggestion: None,
            now: t0(),
        })
        .await
        .map(|c| c.state)
}

/// The projection must always equal the replay of the log.
async fn assert_projection_matches_log(store: &Store, id: i64) {
    let st = store.get(id).await.expect("get").expect("exists");
    let events = store.events(id).await.expect("events");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "contiguous seq");
    }
    let replayed = RequestState::replay(id, st.tracking_code.clone(), &events).expect("replay");
    assert_eq!(replayed, st);
}

async fn for_each_backend<F, Fut>(f: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = TestDb>,
{
    for db in TestDb::all().await.expect("databases") {
        let db = f(db).await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for_each_backend(|db| async move {
        assert!(db.store.migrate().await.expect("migrate").is_empty());
        db
    })
    .await;
}

#[tokio::test]
async fn a_refused_follow_up_stores_nothing() {
    let dir = dir();
    for_each_backend(|db| {
        let dir = dir.clone();
        async move {
            let r = create(
                &db.store,
                &dir,
                "x",
                Some(Command::Dispatch {
                    unit: "nowhere".into(),
                    reason: None,
                }),
            )
            .await;
            assert!(matches!(r, Err(StoreError::Domain(_))));
            assert!(db.store.count_by_status().await.expect("count").is_empty());
            db
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_on_one_request_serialise() {
    let dir = dir();
    for_each_backend(|db| {
        let dir = dir.clone();
        async move {
            // Two "servers" on one database.
            let other = Store::open_with(&db.url, jiesu_store::testing::test_pii())
                .await
                .expect("second store");
            let st = create(
                &db.store,
                &dir,
                "楼道堆物",
                Some(Command::Dispatch {
                    unit: "110102012".into(),
                    reason: None,
                }),
            )
            .await
            .expect("create");
            let h = actor(Role::Handler, Some("110102012"));
            let s = actor(Role::Supervisor, None);
            let esc = Command::Escalate {
                reason: "催办".into(),
            };
            let mut tasks = Vec::new();
            for i in 0..8 {
                let store = if i % 2 == 0 {
                    db.store.clone()
                } else {
                    other.clone()
                };
                let dir = dir.clone();
                let (h, s, esc) = (h.clone(), s.clone(), esc.clone());
                let id = st.id;
                tasks.push(tokio::spawn(async move {
                    if i == 3 {
                        store.act(&dir, &h, id, &Command::Accept, t0()).await
                    } else {
                        store.act(&dir, &s, id, &esc, t0()).await
                    }
                }));
            }
            for t in tasks {
                t.await.expect("join").expect("every action succeeds");
            }
            let after = db.store.get(st.id).await.expect("get").expect("exists");
            assert_eq!(after.escalation_level, 7);
            assert_eq!(after.status, Status::Accepted);
            assert_projection_matches_log(&db.store, st.id).await;
            other.close().await;
            db
        }
    })
    .await;
}

#[tokio::test]
async fn sla_sweep_is_exactly_once_across_servers_and_restarts() {
    let dir = dir();
    for_each_backend(|db| {
        let dir = dir.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..20 {
                let st = create(
                    &db.store,
                    &dir,
                    &format!("第{i}件"),
                    Some(Command::Dispatch {
                        unit: "110102012".into(),
                        reason: None,
                    }),
                )
                .await
                .expect("create");
                ids.push(st.id);
            }
            let late = t0() + SignedDuration::from_hours(24 * 30);
            let a = Store::open_with(&db.url, jiesu_store::testing::test_pii())
                .await
                .expect("server a");
            let b = Store::open_with(&db.url, jiesu_store::testing::test_pii())
                .await
                .expect("server b");
            let (ra, rb) = tokio::join!(a.sweep_sla(late), b.sweep_sla(late));
            let total = ra.expect("a").escalations + rb.expect("b").escalations;
            // Each request: response and completion breached, once each.
            assert_eq!(total, 40);
            a.close().await;
            b.close().await;
            // "Restart": a new store on the same database finds nothing more to raise.
            let c = Store::open_with(&db.url, jiesu_store::testing::test_pii())
                .await
                .expect("server c");
            assert_eq!(c.sweep_sla(late).await.expect("c").escalations, 0);
            c.close().await;
            for id in ids {
                let st = db.store.get(id).await.expect("get").expect("exists");
                assert!(st.response_overdue && st.completion_overdue);
                assert_eq!(st.escalation_level, 2);
                assert_projection_matches_log(&db.store, id).await;
            }
            db
        }
    })
    .await;
}

#[tokio::test]
async fn accounts_sessions_and_audit() {
    for_each_backend(|db| async move {
        let s = &db.store;
        let nu = NewUser {
            username: "zhao".into(),
            display_name: "赵".into(),
            password_hash: "h".into(),
            role: Role::Callback,
            unit_code: None,
        };
        let id = s.create_user(&nu, t0()).await.expect("user");
        assert!(matches!(
            s.create_user(&nu, t0()).await,
            Err(StoreError::Duplicate { field: "username" })
        ));
        let exp = t0() + SignedDuration::from_hours(1);
        s.create_session("abc", id, t0(), exp)
            .await
            .expect("session");
        assert_eq!(
            s.session_user("abc", t0()).await.expect("q").map(|u| u.id),
            Some(id)
        );
        assert!(
            s.session_user("abc", exp).await.expect("q").is_none(),
            "expired"
        );
        assert!(s.revoke_session("abc", t0()).await.expect("revoke"));
        assert!(
            s.session_user("abc", t0()).await.expect("q").is_none(),
            "revoked"
        );
        let users = s.users().await.expect("users");
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].role, Role::Callback);
        db
    })
    .await;
}

#[tokio::test]
async fn idempotency_key_and_tracking_code() {
    let dir = dir();
    for_each_backend(|db| {
        let dir = dir.clone();
        async move {
            let new = |key: &str, text: &str| NewRequest {
                dir: &dir,
                actor: &ACTOR,
                intake: intake(text),
                idempotency_key: Some(key.to_string()),
                follow_up: None,
                suggestion: None,
                now: t0(),
            };
            static ACTOR: std::sync::LazyLock<Actor> =
                std::sync::LazyLock::new(|| actor(Role::Operator, None));
            let a = db
                .store
                .create_request(new("k1", "同一件事"))
                .await
                .expect("a");
            let b = db
                .store
                .create_request(new("k1", "同一件事"))
                .await
                .expect("b");
            assert!(!a.replayed && b.replayed);
            assert_eq!(a.state.id, b.state.id);
            assert!(matches!(
                db.store.create_request(new("k1", "另一件事")).await,
                Err(StoreError::Duplicate {
                    field: "idempotency_key"
                })
            ));
            let found = db
                .store
                .get_by_tracking_code(&a.state.tracking_code)
                .await
                .expect("q")
                .expect("found");
            assert_eq!(found.id, a.state.id);
            assert!(
                db.store
                    .get_by_tracking_code("XC000000AAAAAA")
                    .await
                    .expect("q")
                    .is_none()
            );
            db
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_intake_stores_each_request_once() {
    let dir = dir();
    for_each_backend(|db| {
        let dir = dir.clone();
        async move {
            // 50 keys submitted 4 times each, interleaved with 100 submissions without a key:
            // on SQLite these land in shared group commits.
            let mut tasks = Vec::new();
            for i in 0..300usize {
                let store = db.store.clone();
                let dir = dir.clone();
                tasks.push(tokio::spawn(async move {
                    let (key, text) = if i < 200 {
                        (Some(format!("k{}", i % 50)), format!("重复提交{}", i % 50))
                    } else {
                        (None, format!("独立诉求{i}"))
                    };
                    let op = actor(Role::Operator, None);
                    store
                        .create_request(NewRequest {
                            dir: &dir,
                            actor: &op,
                            intake: intake(&text),
                            idempotency_key: key,
                            follow_up: Some(Command::Dispatch {
                                unit: "110102012".into(),
                                reason: None,
                            }),
                            suggestion: None,
                            now: t0(),
                        })
                        .await
                }));
            }
            let mut replayed = 0;
            let mut ids = std::collections::BTreeSet::new();
            for t in tasks {
                let c = t.await.expect("join").expect("create");
                replayed += usize::from(c.replayed);
                ids.insert(c.state.id);
            }
            assert_eq!(ids.len(), 150);
            assert_eq!(replayed, 150);
            let stored: i64 = db
                .store
                .count_by_status()
                .await
                .expect("count")
                .iter()
                .map(|(_, n)| n)
                .sum();
            assert_eq!(stored, 150);
            for id in ids {
                assert_projection_matches_log(&db.store, id).await;
            }
            db
        }
    })
    .await;
}

#[tokio::test]
async fn keyed_bulk_insert_is_found_by_key() {
    for_each_backend(|db| async move {
        let mk = |i: usize| {
            let mut st =
                RequestState::new(0, format!("IMP-{i}"), intake(&format!("导入{i}")), t0());
            st.tracking_code = format!("IMP-{i}");
            let e = jiesu_domain::Event {
                seq: 1,
                at: t0(),
                actor: Actor::system(),
                reason: None,
                kind: jiesu_domain::EventKind::Received {
                    intake: st.intake.clone(),
                },
            };
            (st, vec![e], Some(format!("import:test:{i}")))
        };
        let items: Vec<_> = (0..3).map(mk).collect();
        db.store.bulk_insert_keyed(&items).await.expect("bulk");
        let asked: Vec<String> = (0..5).map(|i| format!("import:test:{i}")).collect();
        let found = db
            .store
            .existing_idempotency_keys(&asked)
            .await
            .expect("keys");
        assert_eq!(found.len(), 3);
        assert!(found.contains("import:test:2") && !found.contains("import:test:3"));
        // The same key again is refused whole: nothing half-written.
        assert!(db.store.bulk_insert_keyed(&[mk(1)]).await.is_err());
        let stored: i64 = db
            .store
            .count_by_status()
            .await
            .expect("count")
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(stored, 3);
        db
    })
    .await;
}
