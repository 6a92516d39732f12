//! The elder registry at rest, on SQLite and (with `JIESU_TEST_PG_URL`) PostgreSQL: names, ID
//! numbers, phones, addresses, family contacts and medical notes never reach a table in
//! plaintext; the blind indexes find an elder by ID number and phone; `keys rotate` seals the
//! registry again under the new key.

mod common;

use jiesu_domain::care::person::{ElderInput, FamilyContact};
use jiesu_store::Store;
use jiesu_store::testing::TestDb;
use jiesu_store::{Algorithm, Keyring, Pii};
use jiff::Timestamp;

const NAME: &str = "赵桂芬";
const ID: &str = "11010519491231002X";
const PHONE: &str = "13911112222";
const FAMILY_PHONE: &str = "13722223333";
const ADDRESS: &str = "什刹海街道后海北沿38号院";
const NOTES: &str = "糖尿病，胰岛素每日两次";

fn ring(text: &str) -> Pii {
    Pii::with_keyring(Keyring::from_toml(text).expect("keyring"))
}

async fn each_backend(pii: impl Fn() -> Pii) -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite_with(pii()).await.expect("sqlite")];
    if let Ok(url) = std::env::var("JIESU_TEST_PG_URL")
        && !url.is_empty()
    {
        v.push(TestDb::postgres_with(&url, pii()).await.expect("postgres"));
    }
    v
}

fn elder() -> ElderInput {
    ElderInput {
        name: NAME.into(),
        id_number: ID.into(),
        phone: Some(PHONE.into()),
        birth_date: jiff::civil::date(1949, 12, 31),
        street: "110102003".into(),
        community: "110102003001".into(),
        address: ADDRESS.into(),
        living_alone: true,
        basic_service_object: true,
        subsidies: vec!["高龄津贴".into()],
        family: vec![FamilyContact {
            name: "赵明".into(),
            relation: "女儿".into(),
            phone: FAMILY_PHONE.into(),
        }],
        care_manager: None,
        medical_notes: NOTES.into(),
        consent: None,
    }
}

async fn stored_text(url: &str) -> String {
    let mut out = String::new();
    for (_, (_, rows)) in common::snapshot(url).await {
        for v in rows.into_iter().flatten().flatten() {
            out.push_str(&v);
            out.push('\n');
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_is_sealed_found_and_rotated() {
    let v1 = Keyring::generate(Algorithm::Aes256Gcm, "k1");
    let v2 = Keyring::with_new_key(&v1, Algorithm::Sm4Gcm, "k2").expect("add key");
    for db in each_backend(|| ring(&v1)).await {
        let id = db
            .store
            .create_elder(&elder(), Timestamp::now())
            .await
            .expect("create");
        let text = stored_text(&db.url).await;
        for secret in [NAME, ID, PHONE, FAMILY_PHONE, ADDRESS, NOTES, "赵明"] {
            assert!(!text.contains(secret), "{secret} stored in plaintext");
        }
        let e = db.store.elder(id).await.expect("read").expect("elder");
        assert_eq!(
            (e.data.name.as_str(), e.data.medical_notes.as_str()),
            (NAME, NOTES)
        );
        let by_id = db
            .store
            .elder_by_id_number("11010519491231002x")
            .await
            .expect("find");
        assert_eq!(
            by_id.map(|e| e.id),
            Some(id),
            "the ID number's index ignores case"
        );
        let by_phone = db
            .store
            .elders_by_phone("139 1111 2222")
            .await
            .expect("find");
        assert_eq!(by_phone.iter().map(|e| e.id).collect::<Vec<_>>(), vec![id]);
        // A 12345 caller is often family: the daughter's phone finds her mother.
        let by_family = db.store.elders_by_phone(FAMILY_PHONE).await.expect("find");
        assert_eq!(by_family.iter().map(|e| e.id).collect::<Vec<_>>(), vec![id]);
        // The same ID number again is a duplicate, whatever its case.
        let mut again = elder();
        again.id_number = ID.to_lowercase();
        assert!(matches!(
            db.store.create_elder(&again, Timestamp::now()).await,
            Err(jiesu_store::StoreError::Duplicate { field: "id_number" })
        ));
        db.store.close().await;

        // Rotation: k2 becomes active; the registry is sealed again under it.
        let s2 = Store::open_with(&db.url, ring(&v2)).await.expect("open k2");
        let r = s2.reseal(&mut |_| {}).await.expect("reseal");
        assert_eq!(r.elders, 1, "{r:?}");
        assert!(r.retired.contains(&"k1".to_string()), "{r:?}");
        let text = stored_text(&db.url).await;
        assert!(!text.contains("enc1:k1:"), "nothing left under k1");
        assert_eq!(
            s2.elder(id)
                .await
                .expect("read")
                .expect("elder")
                .data
                .address,
            ADDRESS
        );
        assert_eq!(s2.reseal(&mut |_| {}).await.expect("again").elders, 0);
        s2.close().await;
        db.cleanup().await;
    }
}
