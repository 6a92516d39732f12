//! Callers' names and phones at rest (issue 12): sealed in every table and in the SQLite file
//! and its WAL, found by phone through the blind index, resealed by rotation, and a keyring
//! that cannot read the database refused at open. SQLite and (with JIESU_TEST_PG_URL) PostgreSQL.

use jiesu_domain::lifecycle::{Caller, Intake};
use jiesu_domain::{Actor, Channel, Directory, RequestType, Role};
use jiesu_store::testing::{TestDb, test_pii};
use jiesu_store::{Algorithm, Keyring, ListFilter, NewRequest, Pii, PiiError, Store, StoreError};
use jiff::Timestamp;
use std::sync::Arc;

mod common;

const NAME: &str = "欧阳明珠";
const PHONE: &str = "13987651234";

fn dir() -> Arc<Directory> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    Arc::new(Directory::new(jiesu_world::load_dir(&path).expect("world")))
}

fn intake(name: &str, phone: &str) -> Intake {
    Intake {
        request_type: RequestType::Complaint,
        channel: Channel::Hotline,
        category: Some("property.service".into()),
        street: Some("110102012".into()),
        community: Some("110102012001".into()),
        address: Some("鼓楼西大街1号".into()),
        title: None,
        text: "楼道灯坏了三天，物业不修。".into(),
        caller: Caller {
            name: Some(name.into()),
            phone: Some(phone.into()),
        },
        urgent: false,
        received_at: "2026-11-02T09:00:00+08:00".parse().expect("t"),
    }
}

async fn create(store: &Store, name: &str, phone: &str) -> i64 {
    let dir = dir();
    store
        .create_request(NewRequest {
            dir: &dir,
            actor: &Actor {
                user_id: None,
                username: "operator".into(),
                role: Role::Operator,
                unit: None,
            },
            intake: intake(name, phone),
            idempotency_key: None,
            follow_up: None,
            suggestion: None,
            now: Timestamp::now(),
        })
        .await
        .expect("create")
        .state
        .id
}

/// Every value of every table, as the database holds it (the backup test's independent reader).
async fn every_stored_text(url: &str) -> String {
    let mut out = String::new();
    for (_, (_, rows)) in common::snapshot(url).await {
        for v in rows.into_iter().flatten().flatten() {
            out.push_str(&v);
            out.push('\n');
        }
    }
    out
}

/// The request's state as stored (the table the tamper test edits).
async fn stored_state(url: &str, id: i64) -> String {
    use sqlx::Connection;
    let sql = format!("SELECT state FROM requests WHERE id = {id}");
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("raw");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut c)
            .await
            .expect("state")
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.expect("raw");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut c)
            .await
            .expect("state")
    }
}

/// The SQLite file and its WAL, byte for byte.
fn sqlite_files(url: &str) -> Vec<u8> {
    let path = url.trim_start_matches("sqlite://");
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn ring(text: &str) -> Pii {
    Pii::with_keyring(Keyring::from_toml(text).expect("keyring"))
}

async fn each_backend(with: impl Fn() -> Pii) -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite_with(with()).await.expect("sqlite")];
    if let Ok(url) = std::env::var("JIESU_TEST_PG_URL")
        && !url.is_empty()
    {
        v.push(TestDb::postgres_with(&url, with()).await.expect("postgres"));
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_sealed_everywhere_and_found_by_phone() {
    for db in each_backend(test_pii).await {
        let id = create(&db.store, NAME, PHONE).await;
        // A second, unrelated caller.
        let other = create(&db.store, "张三", "13600000000").await;
        // What the application sees is plain.
        let st = db.store.get(id).await.expect("get").expect("exists");
        assert_eq!(st.intake.caller.name.as_deref(), Some(NAME));
        assert_eq!(st.intake.caller.phone.as_deref(), Some(PHONE));
        let events = db.store.events(id).await.expect("events");
        assert!(format!("{:?}", events[0].kind).contains(PHONE));
        // What the database holds is not.
        let stored = every_stored_text(&db.url).await;
        assert!(stored.contains("enc1:test:"), "{}: sealed values", db.url);
        for secret in [NAME, PHONE, "13600000000", "张三"] {
            assert!(
                !stored.contains(secret),
                "{}: `{secret}` is stored in plaintext",
                db.store.backend()
            );
        }
        if db.url.starts_with("sqlite:") {
            let bytes = sqlite_files(&db.url);
            assert!(!bytes.is_empty());
            for secret in [NAME, PHONE] {
                assert!(
                    !contains(&bytes, secret),
                    "`{secret}` in the SQLite file or WAL"
                );
            }
        }
        // Found by phone however it is written; nobody else's.
        for written in [PHONE, "+86 139-8765-1234", "0086 13987651234"] {
            let page = db
                .store
                .list(&ListFilter {
                    phone: Some(written.into()),
                    limit: 50,
                    ..Default::default()
                })
                .await
                .expect("list");
            let ids: Vec<i64> = page.items.iter().map(|s| s.id).collect();
            assert_eq!(ids, vec![id], "{written}");
        }
        let none = db
            .store
            .list(&ListFilter {
                phone: Some("13987651235".into()),
                limit: 50,
                ..Default::default()
            })
            .await
            .expect("list");
        assert!(none.items.is_empty());
        assert_ne!(id, other);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_that_cannot_read_the_database_is_refused() {
    for db in each_backend(test_pii).await {
        create(&db.store, NAME, PHONE).await;
        let refused = |r: Result<Store, StoreError>| match r {
            Err(StoreError::Pii(PiiError::Config(m))) => m,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("opened"),
        };
        let m = refused(Store::open_with(&db.url, Pii::off()).await);
        assert!(m.contains("sealed with key(s) test"), "{m}");
        // Another key under the same id.
        let impostor = Keyring::generate(Algorithm::Aes256Gcm, "test");
        let m = refused(Store::open_with(&db.url, ring(&impostor)).await);
        assert!(m.contains("key `test`"), "{m}");
        // A keyring without the key that sealed the rows.
        let m = refused(
            Store::open_with(&db.url, ring(&Keyring::generate(Algorithm::Sm4Gcm, "k9"))).await,
        );
        assert!(m.contains("not in the keyring"), "{m}");
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_value_is_an_error_not_a_panic() {
    for db in each_backend(test_pii).await {
        let id = create(&db.store, NAME, PHONE).await;
        db.store.close().await;
        // Flip one character of the sealed phone inside the stored state.
        let raw = stored_state(&db.url, id).await;
        let at = raw.find("enc1:test:").expect("sealed");
        let sealed: String = raw[at..].chars().take_while(|c| *c != '"').collect();
        let mut flipped: Vec<char> = sealed.chars().collect();
        let i = flipped.len() - 6;
        flipped[i] = if flipped[i] == 'A' { 'B' } else { 'A' };
        let flipped: String = flipped.into_iter().collect();
        let sql = format!(
            "UPDATE requests SET state = REPLACE(state, '{sealed}', '{flipped}') WHERE id = {id}"
        );
        if db.url.starts_with("sqlite:") {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("raw");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .expect("edit");
        } else {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("raw");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .expect("edit");
        }
        let store = Store::open_with(&db.url, test_pii()).await.expect("reopen");
        match store.get(id).await {
            Err(StoreError::Pii(PiiError::Tampered(k))) => assert_eq!(k, "test"),
            Err(StoreError::Pii(PiiError::Malformed)) => {}
            other => panic!("tampered value read as {other:?}"),
        }
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_then_keys_then_rotation() {
    let v1 = Keyring::generate(Algorithm::Aes256Gcm, "k1");
    let v2 = Keyring::with_new_key(&v1, Algorithm::Sm4Gcm, "k2").expect("add key");
    // Only k2, and the same index key (what is left once k1 is retired).
    let only_k2: String = {
        let mut doc: toml::Table = toml::from_str(&v2).expect("toml");
        let keys = doc
            .get_mut("keys")
            .and_then(|k| k.as_array_mut())
            .expect("keys");
        keys.truncate(1);
        toml::to_string(&doc).expect("toml")
    };
    for db in each_backend(Pii::off).await {
        // A district that ran without a keyring: plaintext rows.
        let a = create(&db.store, NAME, PHONE).await;
        db.store.close().await;
        assert!(every_stored_text(&db.url).await.contains(PHONE));

        // First keyring: new rows sealed at once, old ones by reseal.
        let s1 = Store::open_with(&db.url, ring(&v1)).await.expect("open k1");
        let b = create(&s1, "李四", "13700001111").await;
        let status = s1.key_status().await.expect("status");
        assert_eq!(status.active.as_deref(), Some("k1"));
        assert!(
            status.values_by_key.contains(&("plaintext".into(), 4)),
            "{status:?}"
        );
        assert!(
            status.values_by_key.contains(&("k1".into(), 4)),
            "{status:?}"
        );
        // The plaintext row was indexed without the key: stale until resealed.
        assert_eq!(status.stale_indexes, 1);
        let mut seen = 0;
        let r = s1.reseal(&mut |_| seen += 1).await.expect("reseal");
        assert!(seen >= 1);
        assert_eq!((r.scanned, r.states, r.events, r.indexes), (2, 1, 1, 1));
        assert!(!every_stored_text(&db.url).await.contains(PHONE));
        if db.url.starts_with("sqlite:") {
            // Nor in freed pages of the file or in the WAL.
            let bytes = sqlite_files(&db.url);
            assert!(
                !contains(&bytes, PHONE),
                "the resealed phone lingers on disk"
            );
            assert!(!contains(&bytes, NAME), "the resealed name lingers on disk");
        }
        let found = s1
            .list(&ListFilter {
                phone: Some(PHONE.into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.items[0].id, a);
        s1.close().await;

        // Rotation: k2 seals, k1 still opens; reseal moves everything to k2 and retires k1.
        let s2 = Store::open_with(&db.url, ring(&v2)).await.expect("open k2");
        let r = s2.reseal(&mut |_| {}).await.expect("rotate");
        assert_eq!((r.states, r.events, r.indexes), (2, 2, 0));
        assert_eq!(r.retired, vec!["k1".to_string()]);
        let again = s2.reseal(&mut |_| {}).await.expect("idempotent");
        assert_eq!((again.states, again.events, again.indexes), (0, 0, 0));
        s2.close().await;

        // k1 may leave the keyring now; everything still reads, by phone too.
        let s3 = Store::open_with(&db.url, ring(&only_k2))
            .await
            .expect("open only k2");
        let st = s3.get(b).await.expect("get").expect("exists");
        assert_eq!(st.intake.caller.phone.as_deref(), Some("13700001111"));
        let st = s3.get(a).await.expect("get").expect("exists");
        assert_eq!(st.intake.caller.name.as_deref(), Some(NAME));
        let status = s3.key_status().await.expect("status");
        assert_eq!(status.values_by_key, vec![("k2".to_string(), 8)]);
        assert_eq!(status.stale_indexes, 0);
        s3.close().await;
        db.cleanup().await;
    }
}
