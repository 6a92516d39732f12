//! 一键呼 at rest, on SQLite and (with `JIESU_TEST_PG_URL`) PostgreSQL: a batch of alarms
//! written in one transaction where a duplicate refuses only itself (a failed statement aborts
//! a PostgreSQL transaction; the savepoint per case keeps the others), and device transitions
//! written once however often they are reported, with the offline task opened and closed.

use jiesu_domain::alarms::device::{DeviceInput, FaultKind, VendorInput};
use jiesu_domain::alarms::{Alarm, Chain, NewAlarm};
use jiesu_domain::care::person::{ElderInput, with_check_character};
use jiesu_domain::{Actor, Directory};
use jiesu_store::StoreError;
use jiesu_store::testing::TestDb;
use jiff::Timestamp;

fn world() -> Directory {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    Directory::new(jiesu_world::load_dir(&dir).expect("world"))
}

fn alarm(reference: &str) -> NewAlarm {
    NewAlarm {
        device_id: "D-1".into(),
        reference: reference.into(),
        elder_id: None,
        street: "110102012".into(),
        community: "110102012001".into(),
        priority: 2,
        room: None,
        chain: Chain::default(),
        code: None,
        pressed_at: None,
    }
}

#[tokio::test]
async fn batches_and_transitions_on_every_backend() {
    let dir = world();
    let now: Timestamp = "2026-12-04T03:00:00Z".parse().expect("now");
    for db in TestDb::all().await.expect("test databases") {
        let store = &db.store;
        let backend = store.backend();

        // -- a batch with a duplicate in the middle and one already stored before --
        store
            .create_case::<Alarm>(&dir, &Actor::system(), &alarm("R0"), now)
            .await
            .expect("first");
        let (a, b, c) = (alarm("R1"), alarm("R1"), alarm("R0"));
        let d = alarm("R2");
        let out = store
            .create_cases::<Alarm>(&dir, &Actor::system(), &[&a, &b, &c, &d], now)
            .await
            .expect("batch");
        assert!(out[0].is_ok(), "[{backend}] {:?}", out[0]);
        assert!(
            matches!(out[1], Err(StoreError::Duplicate { .. })),
            "[{backend}] {:?}",
            out[1]
        );
        assert!(
            matches!(out[2], Err(StoreError::Duplicate { .. })),
            "[{backend}] {:?}",
            out[2]
        );
        assert!(out[3].is_ok(), "[{backend}] {:?}", out[3]);
        let (all, total) = store
            .list_cases::<Alarm>(&jiesu_store::CaseQuery {
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(total, 3, "[{backend}] R0, R1, R2 once each");
        for a in &all {
            let events = store.case_events::<Alarm>(a.id).await.expect("events");
            assert_eq!(events.len(), 1, "[{backend}] one raised event each");
        }

        // -- a device's transitions: written once each, the offline task opened and closed --
        let elder = store
            .create_elder(
                &ElderInput {
                    name: "测试".into(),
                    id_number: with_check_character("11010219380101002"),
                    phone: None,
                    birth_date: "1938-01-01".parse().expect("date"),
                    street: "110102012".into(),
                    community: "110102012001".into(),
                    address: "测试".into(),
                    living_alone: true,
                    basic_service_object: false,
                    subsidies: vec![],
                    family: vec![],
                    care_manager: None,
                    medical_notes: String::new(),
                    consent: None,
                },
                now,
            )
            .await
            .expect("elder");
        store
            .create_vendor(
                &VendorInput {
                    code: "acme".into(),
                    name: "Acme".into(),
                },
                "s3cret",
                now,
            )
            .await
            .expect("vendor");
        let dev = DeviceInput {
            device_id: "D-1".into(),
            vendor: "acme".into(),
            model: "M".into(),
            elder_id: elder,
            installed_on: "2026-01-01".parse().expect("date"),
            room: String::new(),
            network_id: String::new(),
            heartbeat_secs: 60,
        };
        store
            .create_device(&dev, "110102012", "110102012001", now)
            .await
            .expect("device");
        assert!(matches!(
            store
                .create_device(&dev, "110102012", "110102012001", now)
                .await,
            Err(StoreError::Duplicate { field: "device_id" })
        ));
        let t = |s: i64| now + jiff::SignedDuration::from_secs(s);
        let tr = |on: bool, s: i64| ("D-1".to_string(), on, t(s), "test".to_string());
        // Two servers report the same transitions: each is written once.
        let n = store
            .record_transitions(&[tr(true, 1), tr(true, 2), tr(false, 300), tr(false, 301)])
            .await
            .expect("transitions");
        assert_eq!(n, 2, "[{backend}]");
        let open = store.faults(None, true, 10).await.expect("faults");
        assert_eq!(open.len(), 1, "[{backend}] {open:?}");
        assert_eq!(open[0].kind, FaultKind::Offline);
        assert_eq!(
            store
                .record_transitions(&[tr(true, 400)])
                .await
                .expect("back"),
            1
        );
        assert!(
            store
                .faults(None, true, 10)
                .await
                .expect("faults")
                .is_empty()
        );
        let list = store.transitions("D-1", 10).await.expect("list");
        assert_eq!(
            list.iter().map(|x| x.online).collect::<Vec<_>>(),
            vec![true, false, true],
            "[{backend}] newest first"
        );
        db.cleanup().await;
    }
}
