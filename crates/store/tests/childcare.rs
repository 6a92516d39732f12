//! 托育 at rest, on SQLite and (with `JIESU_TEST_PG_URL`) PostgreSQL: institutions round-trip
//! with their classes and contract, a round is published once only with its result, health
//! checks list per child and per institution, an approved month is locked, and guardians'
//! phones are found by blind index only.

use jiesu_domain::childcare::allocation::{Market, PriorityRules, Program, run_round};
use jiesu_domain::childcare::application::ChildcareRules;
use jiesu_domain::childcare::health::HealthCheck;
use jiesu_domain::childcare::institution::{
    Band, Class, HealthContract, Institution, InstitutionKind,
};
use jiesu_domain::childcare::subsidy::{SubsidyRules, settle_month};
use jiesu_store::StoreError;
use jiesu_store::childcare::{HealthRecord, NewRound, RoundStatus};
use jiesu_store::testing::TestDb;
use jiff::Timestamp;

fn institution(code: &str) -> Institution {
    Institution {
        code: code.into(),
        name: "西城区示范普惠托育园".into(),
        kind: InstitutionKind::Puhui,
        operator: "北京某托育有限公司".into(),
        street: "110102003".into(),
        community: "110102003001".into(),
        address: "某路1号".into(),
        licence_no: "京西托备2024001".into(),
        community_point: true,
        monthly_price_fen: Some(380_000),
        classes: vec![Class {
            band: Band::Toddler,
            capacity: 15,
            carers: 3,
        }],
        health_contract: Some(HealthContract {
            provider: "CHC-01".into(),
            from: jiff::civil::date(2026, 1, 1),
            to: None,
        }),
    }
}

#[tokio::test]
async fn childcare_records_round_trip_on_every_backend() {
    let now: Timestamp = "2026-09-01T02:00:00Z".parse().expect("now");
    for db in TestDb::all().await.expect("dbs") {
        let s = &db.store;
        let mut i = institution("TY001");
        s.save_institution(&i, now).await.expect("save");
        i.classes[0].capacity = 10;
        i.classes[0].carers = 2;
        s.save_institution(&i, now).await.expect("update");
        s.save_institution(&institution("TY002"), now)
            .await
            .expect("second");
        let got = s.institution("TY001").await.expect("get").expect("some");
        assert_eq!(got.data, i);
        assert_eq!(s.institutions(None).await.expect("all").len(), 2);
        assert_eq!(
            s.institutions(Some("110102003"))
                .await
                .expect("street")
                .len(),
            2
        );
        assert!(
            s.institutions(Some("110102004"))
                .await
                .expect("none")
                .is_empty()
        );

        let round = NewRound {
            code: "R2026".into(),
            name: "2026年秋季派位".into(),
            seed_text: "2026-08-31 公证处".into(),
            seed: u64::MAX - 7,
            rules: ChildcareRules::default(),
        };
        s.create_round(&round, "health-admin", now)
            .await
            .expect("round");
        assert!(matches!(
            s.create_round(&round, "health-admin", now).await,
            Err(StoreError::Duplicate { field: "code" })
        ));
        let r = s.round("R2026").await.expect("get").expect("some");
        assert_eq!(r.data, round);
        assert_eq!(r.status, RoundStatus::Draft);
        let market = Market {
            programs: vec![Program {
                institution: "TY001".into(),
                street: "110102003".into(),
                band: Band::Toddler,
                capacity: 1,
            }],
            applicants: Vec::new(),
            rules: PriorityRules::default(),
            seed: round.seed,
        };
        let result = run_round(&market).expect("run");
        assert!(
            s.publish_round("R2026", &result, &market, "health-admin", now)
                .await
                .expect("publish")
        );
        assert!(
            !s.publish_round("R2026", &result, &market, "health-admin", now)
                .await
                .expect("again")
        );
        let r = s.round("R2026").await.expect("get").expect("some");
        assert_eq!(r.status, RoundStatus::Published);
        assert_eq!(r.result.as_ref(), Some(&result));
        assert_eq!(r.market.as_ref(), Some(&market));
        assert_eq!(s.rounds().await.expect("rounds").len(), 1);

        let rec = HealthRecord {
            id: 0,
            application: "TYA001".into(),
            child_ref: "C-1".into(),
            institution: "TY001".into(),
            check: HealthCheck {
                date: jiff::civil::date(2026, 8, 20),
                provider: "CHC-01".into(),
                height_mm: 850,
                weight_g: 11_500,
                notes: "生长发育正常".into(),
            },
            recorded_by: "nursery".into(),
            created_at: now,
        };
        let id = s.add_health_check(&rec).await.expect("check");
        let got = s.health_checks(Some("TYA001"), None).await.expect("list");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0], HealthRecord { id, ..rec.clone() });
        assert_eq!(
            s.health_checks(None, Some("TY001"))
                .await
                .expect("inst")
                .len(),
            1
        );
        assert!(
            s.health_checks(None, Some("TY002"))
                .await
                .expect("other")
                .is_empty()
        );

        let st = settle_month(
            &i,
            &[],
            jiff::civil::date(2026, 8, 1),
            &SubsidyRules::demo(),
        )
        .expect("settle");
        s.approve_childcare_settlement(&st, "health-admin", now)
            .await
            .expect("approve");
        assert!(matches!(
            s.approve_childcare_settlement(&st, "health-admin", now)
                .await,
            Err(StoreError::Duplicate { field: "month" })
        ));
        let a = s
            .childcare_settlement("TY001", "2026-08")
            .await
            .expect("get")
            .expect("some");
        assert_eq!(a.settlement, st);

        let g = s
            .add_guardian("王芳", "139 1111 2222", now)
            .await
            .expect("guardian");
        assert!(
            s.guardian_has_phone(&[g], "13911112222")
                .await
                .expect("match")
        );
        assert!(
            !s.guardian_has_phone(&[g], "13911112223")
                .await
                .expect("other")
        );
        assert!(
            !s.guardian_has_phone(&[g + 1], "13911112222")
                .await
                .expect("id")
        );
        db.cleanup().await;
    }
}
