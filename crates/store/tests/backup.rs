//! Backup and restore (issue 12), on SQLite and (with `JIESU_TEST_PG_URL`) PostgreSQL, and
//! across them: a store populated through its own operations (requests through their
//! lifecycle, accounts, sessions, audit chain, attachments, webhooks and deliveries, generic
//! cases, models, suggestions, keys) is backed up and restored into a fresh database, and every
//! table is compared row by row — read here with SQL of this test's own, not with the backup
//! code. A file changed in one row, cut short, of another version or not a backup at all is
//! refused and leaves the target empty.

use jiesu_domain::case::{CaseEvent, CaseKind, Decided};
use jiesu_domain::lifecycle::{Caller, Intake};
use jiesu_domain::{
    Actor, Channel, Command, ContactMethod, Ctx, Directory, DomainError, RequestType, Role,
    Satisfaction,
};
use jiesu_store::backup::{self, BackupError};
use jiesu_store::testing::TestDb;
use jiesu_store::{AuditEntry, ChainHash, NewModel, NewRequest, NewUser, Store};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod common;
use common::{Rows, snapshot};
use std::path::{Path, PathBuf};
use std::sync::Arc;

// ---- a second kind of case, so `cases`, `case_events` and `case_outbox` hold rows ----

struct Note;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NoteState {
    id: i64,
    version: i64,
    text: String,
    done: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum NoteEvent {
    Written { text: String },
    Done,
}

impl CaseKind for Note {
    const KIND: &'static str = "test_note";
    type State = NoteState;
    type Event = NoteEvent;
    type Command = ();
    type Create = String;

    fn event_name(e: &NoteEvent) -> &'static str {
        match e {
            NoteEvent::Written { .. } => "written",
            NoteEvent::Done => "done",
        }
    }
    fn initial(id: i64, _now: Timestamp) -> NoteState {
        NoteState {
            id,
            version: 0,
            text: String::new(),
            done: false,
        }
    }
    fn create(
        text: &String,
        _: &Actor,
        _: &Ctx<'_>,
    ) -> Result<Vec<Decided<NoteEvent>>, DomainError> {
        Ok(vec![(NoteEvent::Written { text: text.clone() }, None)])
    }
    fn decide(
        st: &NoteState,
        _: &Actor,
        _: &(),
        _: &Ctx<'_>,
    ) -> Result<Vec<Decided<NoteEvent>>, DomainError> {
        if st.done {
            return Err(DomainError::invalid(
                "status",
                "not_allowed",
                "already done",
            ));
        }
        Ok(vec![(NoteEvent::Done, Some("完成".into()))])
    }
    fn apply(st: &mut NoteState, e: &CaseEvent<NoteEvent>) {
        st.version = e.seq;
        match &e.payload {
            NoteEvent::Written { text } => st.text = text.clone(),
            NoteEvent::Done => st.done = true,
        }
    }
    fn id(st: &NoteState) -> i64 {
        st.id
    }
    fn version(st: &NoteState) -> i64 {
        st.version
    }
    fn status(st: &NoteState) -> &str {
        if st.done { "done" } else { "open" }
    }
    fn can_see(_: &Actor, _: &NoteState) -> bool {
        true
    }
    fn next_timer(_: &NoteState) -> Option<Timestamp> {
        None
    }
    fn fire_timers(_: &NoteState, _: Timestamp) -> Vec<Decided<NoteEvent>> {
        Vec::new()
    }
}

// ---- populating ----

fn dir() -> Arc<Directory> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
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
        user_id: Some(1),
        username: format!("{role}"),
        role,
        unit: unit.map(str::to_string),
    }
}

const STREET: &str = "110102012";

fn intake(i: usize) -> Intake {
    Intake {
        request_type: RequestType::Complaint,
        channel: Channel::Hotline,
        category: Some("property.service".into()),
        street: Some(STREET.into()),
        community: Some("110102012001".into()),
        address: Some(format!("鼓楼西大街{i}号")),
        title: Some(format!("第{i}件")),
        text: format!("楼道堆物第{i}次，\"引号\" 与换行\n与 emoji 🚲"),
        caller: Caller {
            name: Some("李娜".into()),
            phone: Some(format!("1390000{i:04}")),
        },
        urgent: i.is_multiple_of(3),
        received_at: t0() + SignedDuration::from_mins(i as i64),
    }
}

/// Fills every table the store has through the store's own operations.
async fn populate(s: &Store, dir: &Directory) {
    let world = dir.world.clone();
    s.save_world(&world, "test", t0()).await.expect("world");
    let mut user_ids = Vec::new();
    for (name, role, unit) in [
        ("op1", Role::Operator, None),
        ("disp1", Role::Dispatcher, None),
        ("hand1", Role::Handler, Some(STREET)),
        ("cb1", Role::Callback, None),
        ("admin1", Role::Admin, None),
    ] {
        let id = s
            .create_user(
                &NewUser {
                    username: name.into(),
                    display_name: format!("{name} 显示名"),
                    password_hash: format!("$argon2id$v=19$fake${name}"),
                    role,
                    unit_code: unit.map(str::to_string),
                },
                t0(),
            )
            .await
            .expect("user");
        user_ids.push(id);
    }
    s.set_user_disabled(user_ids[4], true)
        .await
        .expect("disable");
    s.create_session(
        "tokenhash-a",
        user_ids[0],
        t0(),
        t0() + SignedDuration::from_hours(12),
    )
    .await
    .expect("session");
    s.create_session(
        "tokenhash-b",
        user_ids[1],
        t0(),
        t0() + SignedDuration::from_hours(12),
    )
    .await
    .expect("session");
    s.revoke_session("tokenhash-b", t0()).await.expect("revoke");
    s.throttle_fail(
        &["ip:10.0.0.1".into(), "user:op1".into()],
        t0(),
        SignedDuration::from_mins(15),
    )
    .await
    .expect("throttle");
    for i in 0..6 {
        let e = AuditEntry {
            at: t0() + SignedDuration::from_secs(i),
            user_id: (i % 2 == 0).then_some(user_ids[0]),
            username: "op1".into(),
            role: "operator".into(),
            action: "view_caller".into(),
            target_type: "request".into(),
            target_id: i.to_string(),
            detail: (i % 3 == 0).then(|| format!("细节 {i}")),
        };
        let alg = if i < 3 {
            ChainHash::Sha256
        } else {
            ChainHash::Sm3
        };
        s.audit_with(&e, alg).await.expect("audit");
    }
    s.create_webhook("hook", "http://127.0.0.1:9/x", "s3cret", "admin1", t0())
        .await
        .expect("webhook");
    s.create_api_key("open311 client", "keyhash-1", t0())
        .await
        .expect("api key");
    s.save_model(&NewModel {
        kind: "category".into(),
        created_at: t0(),
        trained_on: 42,
        report: r#"{"accuracy":0.9}"#.into(),
        // Every byte value, so bytes survive both backends.
        bytes: (0..=255u8).chain([0, 0, 255]).collect(),
    })
    .await
    .expect("model");

    let op = actor(Role::Operator, None);
    let h = actor(Role::Handler, Some(STREET));
    let cb = actor(Role::Callback, None);
    let sup = actor(Role::Supervisor, None);
    for i in 0..12 {
        let photo = s
            .add_attachment("image/png", &[0x89, b'P', b'N', b'G', i as u8, 0], t0())
            .await
            .expect("attachment");
        let st = s
            .create_request(NewRequest {
                dir,
                actor: &op,
                intake: intake(i),
                idempotency_key: Some(format!("key-{i}")),
                follow_up: Some(Command::Dispatch {
                    unit: STREET.into(),
                    reason: None,
                }),
                suggestion: None,
                now: t0(),
            })
            .await
            .expect("create")
            .state;
        s.link_attachments(&[photo], st.id).await.expect("link");
        s.save_suggestion(
            st.id,
            r#"{"category":"property.service"}"#,
            r#"{"unit":"x"}"#,
            t0(),
        )
        .await
        .expect("suggestion");
        let at = t0() + SignedDuration::from_hours(1);
        let steps: Vec<(&Actor, Command)> = match i % 4 {
            0 => vec![],
            1 => vec![(&h, Command::Accept)],
            2 => vec![
                (&h, Command::Accept),
                (
                    &h,
                    Command::Contact {
                        method: ContactMethod::Phone,
                        reached: true,
                        note: None,
                    },
                ),
                (
                    &h,
                    Command::Reply {
                        text: "已清理".into(),
                    },
                ),
                (
                    &cb,
                    Command::Callback {
                        reached: true,
                        resolved: Some(true),
                        satisfaction: Some(Satisfaction::Satisfied),
                        note: None,
                    },
                ),
            ],
            _ => vec![(
                &sup,
                Command::Escalate {
                    reason: "催办".into(),
                },
            )],
        };
        for (a, cmd) in steps {
            s.act(dir, a, st.id, &cmd, at).await.expect("act");
        }
    }
    // Deadlines passed: automatic 督办 through the sweep.
    s.sweep_sla(t0() + SignedDuration::from_hours(24 * 30))
        .await
        .expect("sweep");
    let disp = actor(Role::Dispatcher, None);
    for i in 0..3 {
        let c = s
            .create_case::<Note>(dir, &disp, &format!("事项{i}"), t0())
            .await
            .expect("case");
        if i == 0 {
            s.act_case::<Note>(dir, &disp, c.id, &(), t0())
                .await
                .expect("act case");
        }
    }
    // Part of the outbox goes out: deliveries pending, failed and done; the rest waits.
    s.outbox_fan_out(t0(), 20).await.expect("fan out");
    let claimed = s.claim_deliveries(t0(), 30_000, 4).await.expect("claim");
    for (n, d) in claimed.iter().enumerate() {
        if n % 2 == 0 {
            s.delivery_succeeded(d.id, t0()).await.expect("ok");
        } else {
            s.delivery_failed(
                d.id,
                t0(),
                "HTTP 500",
                Some(t0() + SignedDuration::from_mins(5)),
            )
            .await
            .expect("failed");
        }
    }
    // Written after the fan-out: these wait in both outboxes.
    s.create_case::<Note>(dir, &disp, &"未发出".to_string(), t0())
        .await
        .expect("case");
    s.create_request(NewRequest {
        dir,
        actor: &op,
        intake: intake(50),
        idempotency_key: None,
        follow_up: None,
        suggestion: None,
        now: t0(),
    })
    .await
    .expect("create");
    // 知识库: an entry with two revisions, published, one use and one 没有帮助.
    use jiesu_domain::knowledge::{EntryContent, EntryStatus};
    let content = |question: &str| EntryContent {
        question: question.into(),
        answer: "可登录北京住房公积金网在线申请，也可到管理部柜台办理。".into(),
        policy_source: "《北京住房公积金提取管理办法》".into(),
        unit: "housing-construction".into(),
        valid_from: "2026-01-01".parse().expect("date"),
        valid_to: None,
        keywords: vec!["公积金".into(), "提取".into()],
    };
    let kb = s
        .knowledge_create(
            &content("公积金怎么提取"),
            Some((user_ids[4], "admin1")),
            EntryStatus::Draft,
            t0(),
        )
        .await
        .expect("knowledge entry");
    s.knowledge_update(
        kb.id,
        (1, EntryStatus::Draft),
        &content("住房公积金怎么提取"),
        Some((user_ids[4], "admin1")),
        EntryStatus::InReview,
        t0(),
    )
    .await
    .expect("knowledge revision");
    s.knowledge_set_status(
        kb.id,
        (2, EntryStatus::InReview),
        EntryStatus::Published,
        Some((user_ids[1], Some("可以"))),
        t0(),
    )
    .await
    .expect("knowledge review");
    s.knowledge_record_use(kb.id, 2, None, Some(user_ids[0]), t0())
        .await
        .expect("knowledge use");
    s.knowledge_record_feedback(
        kb.id,
        2,
        None,
        Some(user_ids[0]),
        Some("来电人说已过时"),
        t0(),
    )
    .await
    .expect("knowledge feedback");
}

// ---- reading every table: tests/common/mod.rs (`snapshot`) ----

/// The tables `populate` must have filled (a test that compares empty tables proves nothing).
const FILLED: &[&str] = &[
    "api_keys",
    "assessment_callbacks",
    "assessment_cycles",
    "attachments",
    "audit_log",
    "case_events",
    "case_outbox",
    "cases",
    "event_outbox",
    "knowledge_entries",
    "knowledge_feedback",
    "knowledge_revisions",
    "knowledge_uses",
    "login_throttle",
    "models",
    "request_events",
    "request_suggestions",
    "request_units",
    "requests",
    "sessions",
    "users",
    "webhook_deliveries",
    "webhooks",
    "world_versions",
];

fn assert_equal(
    what: &str,
    a: &BTreeMap<String, (Vec<String>, Rows)>,
    b: &BTreeMap<String, (Vec<String>, Rows)>,
) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "[{what}] the same tables"
    );
    for (t, (cols, rows)) in a {
        let (cols_b, rows_b) = &b[t];
        assert_eq!(cols, cols_b, "[{what}] {t}: columns");
        assert_eq!(rows.len(), rows_b.len(), "[{what}] {t}: row count");
        for (i, (r, rb)) in rows.iter().zip(rows_b).enumerate() {
            assert_eq!(r, rb, "[{what}] {t}: row {i} ({cols:?})");
        }
    }
}

fn temp_file(name: &str) -> PathBuf {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("random");
    std::env::temp_dir().join(format!(
        "jiesu_backup_{}_{}_{name}",
        std::process::id(),
        u32::from_le_bytes(b)
    ))
}

async fn fresh_like(url: &str) -> TestDb {
    if url.starts_with("sqlite:") {
        TestDb::sqlite().await.expect("sqlite")
    } else {
        TestDb::postgres(&pg_admin().expect("pg url"))
            .await
            .expect("postgres")
    }
}

fn pg_admin() -> Option<String> {
    std::env::var("JIESU_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Restored ids continue: the next row of each kind gets a new id (PostgreSQL sequences reset).
async fn writes_continue(s: &Store, dir: &Directory) {
    s.create_user(
        &NewUser {
            username: "after_restore".into(),
            display_name: "新".into(),
            password_hash: "x".into(),
            role: Role::Operator,
            unit_code: None,
        },
        t0(),
    )
    .await
    .expect("a new user after the restore");
    s.create_request(NewRequest {
        dir,
        actor: &actor(Role::Operator, None),
        intake: intake(99),
        idempotency_key: None,
        follow_up: None,
        suggestion: None,
        now: t0(),
    })
    .await
    .expect("a new request after the restore");
    s.audit(&AuditEntry {
        at: t0(),
        user_id: None,
        username: "x".into(),
        role: "admin".into(),
        action: "after".into(),
        target_type: "t".into(),
        target_id: "1".into(),
        detail: None,
    })
    .await
    .expect("audit after the restore");
    let r = s.verify_audit().await.expect("verify");
    assert!(r.ok(), "the chain goes on from the restored head: {r:?}");
}

#[tokio::test]
async fn backup_then_restore_gives_every_table_equal_on_each_backend() {
    let dir = dir();
    for src in TestDb::all().await.expect("databases") {
        let b = src.store.backend();
        populate(&src.store, &dir).await;
        let before = snapshot(&src.url).await;
        for t in FILLED {
            let (_, rows) = before
                .get(*t)
                .unwrap_or_else(|| panic!("[{b}] table {t} exists"));
            assert!(!rows.is_empty(), "[{b}] populate fills {t}");
        }
        let file = temp_file("b.jsonl");
        let report = backup::backup(&src.url, &file, false)
            .await
            .expect("backup");
        assert!(
            report.rows > 0 && report.tables >= FILLED.len(),
            "[{b}] {report:?}"
        );
        assert!(!Path::new(&format!("{}.partial", file.display())).exists());

        let dst = fresh_like(&src.url).await;
        let r = backup::restore(&dst.url, &file).await.expect("restore");
        assert!(r.audit.ok() && r.audit.rows == 6, "[{b}] {:?}", r.audit);
        assert_equal(b, &before, &snapshot(&dst.url).await);
        // A second backup of the restored database is the same, table for table.
        let again = temp_file("again.jsonl");
        let r2 = backup::backup(&dst.url, &again, false)
            .await
            .expect("backup again");
        assert_eq!(report.hashes, r2.hashes, "[{b}]");
        writes_continue(&dst.store, &dir).await;

        for f in [&file, &again] {
            let _ = std::fs::remove_file(f);
        }
        dst.cleanup().await;
        src.cleanup().await;
    }
}

#[tokio::test]
async fn a_sqlite_pilot_moves_to_postgresql_and_back() {
    let Some(admin) = pg_admin() else {
        eprintln!("JIESU_TEST_PG_URL not set: SQLite only, nothing to move between");
        return;
    };
    let dir = dir();
    let lite = TestDb::sqlite().await.expect("sqlite");
    populate(&lite.store, &dir).await;
    let original = snapshot(&lite.url).await;
    let f1 = temp_file("lite.jsonl");
    let b1 = backup::backup(&lite.url, &f1, false)
        .await
        .expect("backup sqlite");

    let pg = TestDb::postgres(&admin).await.expect("postgres");
    let r = backup::restore(&pg.url, &f1)
        .await
        .expect("restore into postgres");
    assert_eq!(
        (r.from_backend.as_str(), r.backend.as_str()),
        ("sqlite", "postgres")
    );
    assert!(r.audit.ok(), "{:?}", r.audit);
    assert_equal("sqlite→postgres", &original, &snapshot(&pg.url).await);
    writes_continue(&pg.store, &dir).await;

    // And back, from a fresh PostgreSQL copy (before the writes above).
    let pg2 = TestDb::postgres(&admin).await.expect("postgres");
    backup::restore(&pg2.url, &f1)
        .await
        .expect("restore into postgres");
    let f2 = temp_file("pg.jsonl");
    let b2 = backup::backup(&pg2.url, &f2, false)
        .await
        .expect("backup postgres");
    assert_eq!(
        b1.hashes, b2.hashes,
        "the same data hashes alike on both backends"
    );
    let back = TestDb::sqlite().await.expect("sqlite");
    let r = backup::restore(&back.url, &f2)
        .await
        .expect("restore into sqlite");
    assert_eq!(
        (r.from_backend.as_str(), r.backend.as_str()),
        ("postgres", "sqlite")
    );
    assert_equal("postgres→sqlite", &original, &snapshot(&back.url).await);
    writes_continue(&back.store, &dir).await;

    for f in [&f1, &f2] {
        let _ = std::fs::remove_file(f);
    }
    for db in [lite, pg, pg2, back] {
        db.cleanup().await;
    }
}

/// `f` applied to the file's lines, written to a new file.
fn edited(src: &Path, name: &str, f: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let text = std::fs::read_to_string(src).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    f(&mut lines);
    let out = temp_file(name);
    std::fs::write(&out, lines.join("\n") + "\n").expect("write");
    out
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_refused_and_nothing_is_written() {
    let dir = dir();
    for src in TestDb::all().await.expect("databases") {
        let b = src.store.backend();
        populate(&src.store, &dir).await;
        let file = temp_file("good.jsonl");
        backup::backup(&src.url, &file, false)
            .await
            .expect("backup");
        let text = std::fs::read_to_string(&file).expect("read");

        // One row changed, still valid JSON: a user's display name.
        let tampered = edited(&file, "tampered.jsonl", |lines| {
            let i = lines
                .iter()
                .position(|l| l.contains("op1 显示名"))
                .expect("the user row");
            lines[i] = lines[i].replace("op1 显示名", "op1 改过了");
        });
        // Cut in the middle of a table.
        let truncated = temp_file("truncated.jsonl");
        std::fs::write(&truncated, &text.as_bytes()[..text.len() * 2 / 3]).expect("write");
        // Whole lines missing at the end (the end marker and the last table's rows).
        let short = edited(&file, "short.jsonl", |lines| {
            lines.truncate(lines.len() - 2);
        });
        let wrong_version = edited(&file, "v2.jsonl", |lines| {
            lines[0] = lines[0].replacen("\"version\":1", "\"version\":2", 1);
        });
        let garbage = temp_file("garbage.jsonl");
        std::fs::write(&garbage, "PK\u{3}\u{4} this is a zip file\n").expect("write");
        let empty = temp_file("empty.jsonl");
        std::fs::write(&empty, "").expect("write");

        let dst = fresh_like(&src.url).await;
        let blank = snapshot(&dst.url).await;
        for (f, expect) in [
            (&tampered, "does not match its hash"),
            (&truncated, "truncated"),
            (&short, "truncated"),
            (&wrong_version, "format version 2"),
            (&garbage, "not a jiesu-backup file"),
            (&empty, "truncated"),
        ] {
            match backup::restore(&dst.url, f).await {
                Err(e @ BackupError::BadFile(_)) => {
                    assert!(e.to_string().contains(expect), "[{b}] {}: {e}", f.display());
                    assert_eq!(e.code(), "bad_backup");
                }
                other => panic!("[{b}] {}: {other:?}", f.display()),
            }
            assert_equal(b, &blank, &snapshot(&dst.url).await);
        }
        // A target that does not exist yet is not even created.
        let nowhere = temp_file("never.db");
        let r = backup::restore(&format!("sqlite://{}", nowhere.display()), &tampered).await;
        assert!(matches!(r, Err(BackupError::BadFile(_))), "{r:?}");
        assert!(!nowhere.exists(), "a refused file creates no database");

        for f in [
            &file,
            &tampered,
            &truncated,
            &short,
            &wrong_version,
            &garbage,
            &empty,
        ] {
            let _ = std::fs::remove_file(f);
        }
        dst.cleanup().await;
        src.cleanup().await;
    }
}

#[tokio::test]
async fn restore_refuses_a_used_database_and_backup_an_existing_file() {
    let dir = dir();
    for src in TestDb::all().await.expect("databases") {
        let b = src.store.backend();
        populate(&src.store, &dir).await;
        let file = temp_file("b.jsonl");
        backup::backup(&src.url, &file, false)
            .await
            .expect("backup");
        let before = snapshot(&src.url).await;
        match backup::restore(&src.url, &file).await {
            Err(e @ BackupError::NotEmpty(_)) => {
                let m = e.to_string();
                for t in ["requests: 13", "users: 5", "audit_log: 6"] {
                    assert!(m.contains(t), "[{b}] names what it found: {m}");
                }
            }
            other => panic!("[{b}] {other:?}"),
        }
        assert_equal(b, &before, &snapshot(&src.url).await);

        // The file is kept unless --force; a refused or failed backup leaves no partial file.
        let size = std::fs::metadata(&file).expect("file").len();
        let r = backup::backup(&src.url, &file, false).await;
        assert!(matches!(r, Err(BackupError::Exists(_))), "[{b}] {r:?}");
        assert_eq!(std::fs::metadata(&file).expect("file").len(), size);
        let r = backup::backup("sqlite:///nonexistent/dir/x.db", &temp_file("x"), false).await;
        assert!(r.is_err());
        backup::backup(&src.url, &file, true)
            .await
            .expect("--force replaces it");
        assert!(!Path::new(&format!("{}.partial", file.display())).exists());
        let _ = std::fs::remove_file(&file);
        src.cleanup().await;
    }
}
