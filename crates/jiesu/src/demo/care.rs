//! The demo's elder-care network (issue 14): the district's care managers, 174 providers with
//! price lists, coverage, weekly slots and carers, 355 父母食堂 meal points, a registry sample of
//! elders (synthetic people with valid GB 11643 numbers), a year of service orders driven
//! through the case engine on a walking clock (some turned from the demo's `elderly.*`
//! requests, some missed by the sweep, most rated), three months of meals, and the months
//! settled: approved (locked) up to the month before last, that month's claims prepared, the
//! current month a draft — with a void and a late meal after approval as adjustments.
//!
//! Everything goes through `jiesu_app`: the network, plans, family requests, ratings, meals
//! after approval and the settlement through their use cases as real accounts; the registry,
//! the meal log and most order steps through the console's bulk paths, which apply the same
//! domain rules (`validate_elder`, `validate_meal`, the order kind's `decide`/`apply`).

use super::rng::{Rng, Weighted};
use super::{Account, texts};
use anyhow::{Context, Result, anyhow};
use jiesu_app::care::{meals, network, orders, settle};
use jiesu_app::console;
use jiesu_app::{App, Clock};
use jiesu_domain::Role;
use jiesu_domain::care::claim::PartyKind;
use jiesu_domain::care::meals::{MealInput, MealKind};
use jiesu_domain::care::order::{NewOrder, OrderCommand, Origin, ServiceKind, Slot};
use jiesu_domain::care::person::{Consent, ElderInput, FamilyContact};
use jiesu_store::care::{CarePlan, Carer, MealPoint, PriceItem, Provider, WeeklySlot};
use jiesu_store::{NewUser, User};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The registry sample: Xicheng has ≈34万 people aged 60+; the demo registers this many.
pub const ELDERS: usize = 20_000;
/// 照护管理师 (the seed: 188), one printed.
const CARE_MANAGERS: usize = 188;
const PROVIDERS: usize = 174;
const MEAL_POINTS: usize = 355;
/// Orders of the year: the seed's 12万 visits a year scaled to the sample (≈5.9%) is ≈7,000;
/// the demo makes about this many.
const ORDERS: usize = 4_000;
/// Regular diners at the meal points (≈3.5% of the sample), eating on about half the days.
const DINERS: usize = 700;
/// Months of meals, the current one included.
const MEAL_MONTHS: i64 = 3;

/// An `elderly.*` request of the demo's history, which an order may be turned from.
#[derive(Debug, Clone)]
pub struct ElderlyRequest {
    pub id: i64,
    pub code: String,
    pub category: String,
    pub community: String,
    pub received_at: Timestamp,
}

/// A synthetic 居民身份证号码: Xicheng's area code, the birth date, a sequence (odd for men),
/// and the GB 11643 check character. Synthetic: no real person is meant.
pub fn id_number(birth: Date, seq: u32) -> String {
    let body = format!(
        "110102{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        seq % 1000
    );
    jiesu_domain::care::person::with_check_character(&body)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "程", "曹", "袁",
    "邓", "许", "傅", "沈", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "白",
    "崔", "田", "关", "金", "常", "那",
];
const GIVEN_M: &[&str] = &[
    "建国", "国庆", "德明", "振华", "志强", "春生", "立新", "文华", "宝山", "永利", "福林", "长顺",
    "玉山", "金生", "树林", "世杰", "保国", "庆丰", "广德", "有才",
];
const GIVEN_F: &[&str] = &[
    "秀英", "秀兰", "桂英", "淑珍", "玉兰", "凤兰", "淑华", "玉梅", "桂兰", "红梅", "素珍", "翠英",
    "桂芝", "淑英", "玉珍", "凤英", "秀珍", "淑兰", "桂珍", "丽华",
];
const BRANDS: &[&str] = &[
    "康乐",
    "福寿",
    "颐养",
    "安康",
    "乐龄",
    "银龄",
    "爱心",
    "温馨",
    "德馨",
    "善缘",
    "仁和",
    "同心",
    "松鹤",
    "夕阳红",
    "幸福里",
    "慈济",
    "惠民",
    "久久",
    "暖阳",
    "椿萱",
];
const KINDS: &[&str] = &[
    "居家养老服务中心",
    "养老服务有限公司",
    "社区养老服务驿站",
    "护理站",
    "家政服务有限公司",
    "康复护理中心",
];
const NOTES: &[&str] = &[
    "高血压，按时服药",
    "糖尿病，注意饮食",
    "行动不便，需扶助",
    "青霉素过敏",
    "轻度认知障碍",
    "心脏支架术后",
    "听力较差，请大声沟通",
];

/// A service's price range in fen (the provider's list picks within it) and the co-payment
/// share.
fn price_range(s: ServiceKind) -> (i64, i64, f64) {
    match s {
        ServiceKind::Meal => (1500, 2500, 0.6),
        ServiceKind::Bath => (6000, 12000, 0.3),
        ServiceKind::Clean => (4000, 8000, 0.3),
        ServiceKind::Medical => (3000, 6000, 0.2),
        ServiceKind::Nursing => (10000, 20000, 0.3),
        ServiceKind::Rehab => (8000, 15000, 0.3),
        ServiceKind::Haircut => (1500, 3000, 0.5),
        ServiceKind::Companion => (5000, 10000, 0.3),
    }
}

/// How often each service is asked for (助洁 and 助浴 most, as in the seed's network).
const DEMAND: [(ServiceKind, f64); 8] = [
    (ServiceKind::Clean, 0.26),
    (ServiceKind::Bath, 0.20),
    (ServiceKind::Medical, 0.14),
    (ServiceKind::Meal, 0.10),
    (ServiceKind::Nursing, 0.10),
    (ServiceKind::Rehab, 0.07),
    (ServiceKind::Haircut, 0.07),
    (ServiceKind::Companion, 0.06),
];

fn demand_pick(rng: &mut Rng) -> ServiceKind {
    let w = Weighted::new(DEMAND.iter().map(|(_, p)| *p));
    DEMAND[w.pick(rng)].0
}

fn date_of(app: &App, t: Timestamp) -> Date {
    app.dir.calendar.time_zone().to_datetime(t).date()
}

fn at_local(app: &App, d: Date, hour: i8, min: i8) -> Result<Timestamp> {
    app.dir
        .calendar
        .time_zone()
        .to_timestamp(d.at(hour, min, 0, 0))
        .map_err(|e| anyhow!("{e}"))
}

fn secs(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 100.0).round() / 100.0
}

/// The accounts of the network; the printed ones are returned for the demo's list.
struct People {
    admin: User,
    /// Street code → its care managers.
    managers: HashMap<String, Vec<User>>,
    /// Provider code → its staff account.
    staff: HashMap<String, User>,
}

async fn account(
    app: &App,
    username: &str,
    display: &str,
    role: Role,
    unit: Option<&str>,
    hash: String,
) -> Result<User> {
    console::create_account(
        app,
        &NewUser {
            username: username.to_string(),
            display_name: display.to_string(),
            password_hash: hash,
            role,
            unit_code: unit.map(str::to_string),
        },
    )
    .await
    .with_context(|| format!("creating demo account {username}"))?;
    Ok(console::account(app, username).await?)
}

/// Builds the network and its year on `app` (whose history of requests is stored), ending at
/// `end`. Returns the summary and the printed accounts.
pub(super) async fn build(
    app: &App,
    seed: u64,
    end: Timestamp,
    requests: &[ElderlyRequest],
) -> Result<(serde_json::Value, Vec<Account>)> {
    let started = Instant::now();
    let mut rng = Rng::new(seed ^ 0x0E1D_E7CA_7E00);
    let year_ago = end - SignedDuration::from_hours(24 * 365);
    let app = App {
        clock: Clock::manual(year_ago - SignedDuration::from_hours(24 * 30)),
        ..app.clone()
    };
    let dir = app.dir.clone();
    let streets = &dir.world.streets;
    let communities = &dir.world.communities;
    anyhow::ensure!(
        !streets.is_empty() && !communities.is_empty(),
        "the world has no streets or communities"
    );
    let by_street: BTreeMap<&str, Vec<&jiesu_world::Community>> =
        communities.iter().fold(BTreeMap::new(), |mut m, c| {
            m.entry(c.street_code.as_str()).or_default().push(c);
            m
        });
    let home_street = dir
        .street("110102012")
        .map(|s| s.code.clone())
        .unwrap_or_else(|| streets[0].code.clone());

    // ---- accounts ----
    let t = Instant::now();
    let mut printed = Vec::new();
    let mut pw = |name: &'static str, role: Role, unit: Option<String>| -> Result<String> {
        let p = super::password()?;
        printed.push(Account {
            username: name,
            role,
            unit,
            password: p.clone(),
        });
        jiesu_app::accounts::hash_password(&p).map_err(|e| anyhow!("{e}"))
    };
    let admin_hash = pw("care-admin", Role::CareAdmin, None)?;
    let manager_hash = pw("care-manager", Role::CareManager, Some(home_street.clone()))?;
    // The unprinted accounts share the hash of a password drawn and forgotten at once: they
    // exist (the history's actors, the desks' lists) and nobody can log in as them.
    let nobody =
        jiesu_app::accounts::hash_password(&super::password()?).map_err(|e| anyhow!("{e}"))?;
    let admin = account(
        &app,
        "care-admin",
        "民政养老管理员（演示）",
        Role::CareAdmin,
        None,
        admin_hash,
    )
    .await?;
    let pop: Vec<f64> = streets.iter().map(|s| s.population.max(1) as f64).collect();
    let total_pop: f64 = pop.iter().sum();
    let mut managers: HashMap<String, Vec<User>> = HashMap::new();
    let first = account(
        &app,
        "care-manager",
        "照护管理师（演示）",
        Role::CareManager,
        Some(&home_street),
        manager_hash,
    )
    .await?;
    managers.entry(home_street.clone()).or_default().push(first);
    let mut n = 1;
    for (s, p) in streets.iter().zip(&pop) {
        let want = ((CARE_MANAGERS as f64) * p / total_pop).round().max(1.0) as usize;
        let have = managers.get(&s.code).map_or(0, Vec::len);
        for i in have..want {
            if n >= CARE_MANAGERS {
                break;
            }
            let name = format!("cm-{}-{:02}", s.code, i + 1);
            let u = account(
                &app,
                &name,
                &format!("{}照护管理师{}", s.name, i + 1),
                Role::CareManager,
                Some(&s.code),
                nobody.clone(),
            )
            .await?;
            managers.entry(s.code.clone()).or_default().push(u);
            n += 1;
        }
    }
    for s in streets {
        anyhow::ensure!(
            managers.contains_key(&s.code),
            "street {} has no care manager",
            s.code
        );
    }
    let accounts_secs = secs(t);

    // ---- providers, carers, meal points ----
    let t = Instant::now();
    // Communities no provider covers (thin supply the view should find): about one in twelve.
    let uncovered: std::collections::HashSet<&str> = communities
        .iter()
        .filter(|_| rng.chance(0.08))
        .map(|c| c.code.as_str())
        .collect();
    let street_w = Weighted::new(pop.iter().copied());
    let mut per_street: Vec<usize> = vec![1; streets.len()];
    for _ in streets.len()..PROVIDERS {
        per_street[street_w.pick(&mut rng)] += 1;
    }
    let mut providers: Vec<Provider> = Vec::new();
    let mut staff: HashMap<String, User> = HashMap::new();
    let mut carers: HashMap<String, Vec<Carer>> = HashMap::new();
    let mut printed_provider = None;
    for (si, s) in streets.iter().enumerate() {
        let comms = &by_street[s.code.as_str()];
        for _ in 0..per_street[si] {
            let code = format!("YLFW{:03}", providers.len() + 1);
            let base = *rng.pick(comms);
            let mut services: Vec<ServiceKind> = Vec::new();
            let k = rng.range(2, 6) as usize;
            while services.len() < k {
                let sv = demand_pick(&mut rng);
                if !services.contains(&sv) {
                    services.push(sv);
                }
            }
            services.sort_by_key(|s| s.as_str());
            let items: Vec<PriceItem> = services
                .iter()
                .map(|sv| {
                    let (lo, hi, share) = price_range(*sv);
                    let price = rng.range(lo / 100, hi / 100 + 1) * 100;
                    PriceItem {
                        service: *sv,
                        price_fen: price,
                        copay_fen: ((price as f64 * share / 100.0).round() as i64) * 100,
                    }
                })
                .collect();
            let mut coverage: Vec<String> = comms
                .iter()
                .filter(|c| !uncovered.contains(c.code.as_str()) && rng.chance(0.75))
                .map(|c| c.code.clone())
                .collect();
            if rng.chance(0.15) {
                let other = rng.pick(streets);
                for c in &by_street[other.code.as_str()] {
                    if !uncovered.contains(c.code.as_str())
                        && rng.chance(0.4)
                        && !coverage.contains(&c.code)
                    {
                        coverage.push(c.code.clone());
                    }
                }
            }
            if coverage.is_empty() {
                coverage.push(
                    comms
                        .iter()
                        .find(|c| !uncovered.contains(c.code.as_str()))
                        .unwrap_or(&base)
                        .code
                        .clone(),
                );
            }
            let sunday = rng.chance(0.3);
            let cap = rng.range(2, 7) as u32;
            let mut slots = Vec::new();
            for wd in 1..=(if sunday { 7 } else { 6 }) {
                slots.push(WeeklySlot {
                    weekday: wd,
                    start_min: 8 * 60,
                    end_min: 12 * 60,
                    capacity: cap,
                });
                slots.push(WeeklySlot {
                    weekday: wd,
                    start_min: 13 * 60 + 30,
                    end_min: 17 * 60 + 30,
                    capacity: cap,
                });
            }
            let p = Provider {
                code: code.clone(),
                name: format!(
                    "{}{}{}",
                    s.name.trim_end_matches("街道"),
                    rng.pick(BRANDS),
                    rng.pick(KINDS)
                ),
                street: s.code.clone(),
                community: base.code.clone(),
                phone: texts::phone(&mut rng),
                active: true,
                services: items,
                coverage,
                slots,
            };
            network::save_provider(&app, &admin, &p).await?;
            let mut list = Vec::new();
            for _ in 0..rng.range(3, 9) {
                let mut skills: Vec<ServiceKind> = services
                    .iter()
                    .copied()
                    .filter(|_| rng.chance(0.7))
                    .collect();
                if skills.is_empty() {
                    skills.push(services[0]);
                }
                let female = rng.chance(0.75);
                let c = Carer {
                    id: 0,
                    provider: code.clone(),
                    name: format!(
                        "{}{}",
                        rng.pick(SURNAMES),
                        if female {
                            rng.pick(GIVEN_F)
                        } else {
                            rng.pick(GIVEN_M)
                        }
                    ),
                    skills,
                    active: true,
                };
                let id = network::add_carer(&app, &admin, &c).await?;
                list.push(Carer { id, ..c });
            }
            carers.insert(code.clone(), list);
            let (username, hash) = if printed_provider.is_none() && s.code == home_street {
                printed_provider = Some(code.clone());
                (
                    "provider".to_string(),
                    pw("provider", Role::Provider, Some(code.clone()))?,
                )
            } else {
                (format!("p-{}", code.to_lowercase()), nobody.clone())
            };
            let u = account(&app, &username, &p.name, Role::Provider, Some(&code), hash).await?;
            staff.insert(code.clone(), u);
            providers.push(p);
        }
    }
    let carers_n: usize = carers.values().map(Vec::len).sum();

    // Meal points: weighted by the street's people per community; about one community in
    // eight has none of its own.
    let comm_w: Vec<f64> = communities
        .iter()
        .map(|c| {
            let s = streets
                .iter()
                .position(|s| s.code == c.street_code)
                .unwrap_or(0);
            pop[s] / by_street[c.street_code.as_str()].len() as f64
        })
        .collect();
    let mut points_in: Vec<usize> = communities
        .iter()
        .map(|_| usize::from(!rng.chance(0.12)))
        .collect();
    let have: usize = points_in.iter().sum();
    let cw = Weighted::new(comm_w.iter().copied());
    for _ in have..MEAL_POINTS {
        loop {
            let i = cw.pick(&mut rng);
            if points_in[i] > 0 {
                points_in[i] += 1;
                break;
            }
        }
    }
    let mut meal_points: Vec<MealPoint> = Vec::new();
    for (c, n) in communities.iter().zip(&points_in) {
        for k in 0..*n {
            let code = format!("ZCD{:03}", meal_points.len() + 1);
            let mut served = vec![c.code.clone()];
            if rng.chance(0.4) {
                let near = rng.pick(&by_street[c.street_code.as_str()]);
                if near.code != c.code {
                    served.push(near.code.clone());
                }
            }
            let m = MealPoint {
                code,
                name: if k == 0 {
                    format!("{}父母食堂", c.name)
                } else {
                    format!("{}养老助餐点{}", c.name, k + 1)
                },
                street: c.street_code.clone(),
                community: c.code.clone(),
                address: texts::address(&mut rng, &c.street_code).1,
                capacity: rng.range(3, 16) as u32 * 10,
                hours: if rng.chance(0.7) {
                    "11:00-13:00 17:00-18:30".into()
                } else {
                    "11:00-13:00".into()
                },
                active: true,
                communities: served,
            };
            network::save_meal_point(&app, &admin, &m).await?;
            meal_points.push(m);
        }
    }
    let network_secs = secs(t);

    // ---- the registry ----
    let t = Instant::now();
    let today = date_of(&app, end);
    let mut elders: Vec<ElderInput> = Vec::with_capacity(ELDERS);
    let cw_noisy = Weighted::new(comm_w.iter().map(|w| w * (0.5 + rng.f64())));
    let mut seq: HashMap<Date, u32> = HashMap::new();
    for _ in 0..ELDERS {
        let c = &communities[cw_noisy.pick(&mut rng)];
        let old = rng.chance(0.20);
        let age = if old {
            if rng.chance(0.01) {
                rng.range(100, 104)
            } else {
                80 + (rng.exp(6.0) as i64).min(19)
            }
        } else {
            rng.range(60, 80)
        };
        let birth = today
            .checked_sub(jiff::Span::new().years(age).days(rng.range(1, 360)))
            .map_err(|e| anyhow!("{e}"))?;
        let male = rng.chance(if old { 0.4 } else { 0.47 });
        let s = seq.entry(birth).or_insert(0);
        *s += 1;
        // The sequence's last digit is odd for men.
        let n = (*s * 2 - u32::from(male)) % 1000;
        let surname = *rng.pick(SURNAMES);
        let name = format!(
            "{surname}{}",
            if male {
                rng.pick(GIVEN_M)
            } else {
                rng.pick(GIVEN_F)
            }
        );
        let alone = rng.chance(if old { 0.25 } else { 0.12 });
        let basic = rng.chance(if old { 0.35 } else { 0.08 });
        let mut subsidies = Vec::new();
        for (label, p) in [
            ("低保", 0.03),
            ("特困", 0.01),
            ("失独", 0.005),
            ("重度残疾", 0.02),
        ] {
            if rng.chance(p) {
                subsidies.push(label.to_string());
            }
        }
        let family = (0..rng.range(0, 3))
            .map(|i| FamilyContact {
                name: format!(
                    "{surname}{}",
                    if rng.chance(0.5) {
                        rng.pick(GIVEN_M)
                    } else {
                        rng.pick(GIVEN_F)
                    }
                ),
                relation: if i == 0 {
                    "子女"
                } else {
                    rng.pick(&["子女", "配偶", "孙辈", "亲属"])
                }
                .to_string(),
                phone: texts::phone(&mut rng),
            })
            .collect();
        let mgrs = &managers[&c.street_code];
        let registered = today
            .checked_sub(jiff::Span::new().days(rng.range(30, 900)))
            .map_err(|e| anyhow!("{e}"))?;
        let mut scope = vec!["基本信息".to_string(), "服务记录".to_string()];
        if rng.chance(0.4) {
            scope.push("健康信息".into());
        }
        elders.push(ElderInput {
            name,
            id_number: id_number(birth, n),
            phone: rng.chance(0.7).then(|| texts::phone(&mut rng)),
            birth_date: birth,
            street: c.street_code.clone(),
            community: c.code.clone(),
            address: texts::address(&mut rng, &c.street_code).1,
            living_alone: alone,
            basic_service_object: basic,
            subsidies,
            family,
            care_manager: Some(rng.pick(mgrs).username.clone()),
            medical_notes: if rng.chance(0.2) {
                rng.pick(NOTES).to_string()
            } else {
                String::new()
            },
            consent: Some(Consent {
                date: registered,
                scope,
            }),
        });
    }
    let mut ids = Vec::with_capacity(ELDERS);
    app.clock.set(end - SignedDuration::from_hours(24 * 400));
    for chunk in elders.chunks(2_000) {
        ids.extend(console::load_elders(&app, chunk, today).await?);
    }
    let registry_secs = secs(t);
    let mut in_comm: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in elders.iter().enumerate() {
        in_comm.entry(e.community.as_str()).or_default().push(i);
    }

    // ---- a year of orders ----
    let t = Instant::now();
    let people = People {
        admin: admin.clone(),
        managers,
        staff,
    };
    let ctx = Ctx {
        app: &app,
        providers: &providers,
        carers: &carers,
        people: &people,
        end,
    };
    let mut stats = OrderStats::default();
    // Births of orders through the year: request-linked first (their time is the request's).
    let mut births: Vec<(Timestamp, Birth)> = Vec::new();
    let mut linkable: Vec<&ElderlyRequest> = requests
        .iter()
        .filter(|r| {
            r.received_at >= year_ago && r.received_at < end - SignedDuration::from_hours(72)
        })
        .filter(|r| in_comm.contains_key(r.community.as_str()))
        .collect();
    // A quarter of the year's orders come from the hotline: drawn at random among its
    // elder-care requests, 助餐/助浴 (home care) five times as likely as the others.
    let mut picked = 0;
    while picked < ORDERS / 4 && !linkable.is_empty() {
        let i = rng.below(linkable.len() as u64) as usize;
        let r = linkable.swap_remove(i);
        if r.category != "elderly.home-care" && !rng.chance(0.2) {
            continue;
        }
        let e = *rng.pick(&in_comm[r.community.as_str()]);
        births.push((
            r.received_at + SignedDuration::from_mins(rng.range(20, 240)),
            Birth::Request(r.clone(), e),
        ));
        picked += 1;
    }
    let span_h = (end - SignedDuration::from_hours(72))
        .duration_since(year_ago)
        .as_hours();
    // A plan makes two visits on average.
    let mut expected = births.len();
    while expected < ORDERS {
        let when = year_ago + SignedDuration::from_hours(rng.range(0, span_h));
        let e = rng.below(elders.len() as u64) as usize;
        if rng.chance(0.15) {
            births.push((when, Birth::Family(e)));
            expected += 1;
        } else {
            births.push((when, Birth::Plan(e)));
            expected += 2;
        }
    }
    births.sort_by_key(|(t, _)| *t);
    for (when, birth) in births {
        app.clock.set(when);
        let created = match birth {
            Birth::Request(r, e) => {
                let el = &elders[e];
                let mgr = &people.managers[&el.street][0];
                let service = if r.category == "elderly.home-care" {
                    demand_pick(&mut rng)
                } else {
                    *rng.pick(&[
                        ServiceKind::Companion,
                        ServiceKind::Nursing,
                        ServiceKind::Medical,
                    ])
                };
                let n = NewOrder {
                    code: order_code(&mut rng, when),
                    elder_id: ids[e],
                    street: el.street.clone(),
                    community: el.community.clone(),
                    service,
                    origin: Origin::Request {
                        request_id: r.id,
                        code: r.code.clone(),
                    },
                    care_manager: el.care_manager.clone(),
                    note: format!("由12345诉求{}转办", r.code),
                    wanted: None,
                };
                stats.from_requests += 1;
                vec![console::create_order(&app, mgr, &n).await?]
            }
            Birth::Family(e) => {
                let el = &elders[e];
                let phone = el
                    .family
                    .first()
                    .map(|f| f.phone.clone())
                    .or_else(|| el.phone.clone());
                let Some(phone) = phone else { continue };
                let asked = orders::from_family(
                    &app,
                    &orders::FamilyRequest {
                        id_number: el.id_number.clone(),
                        phone,
                        service: demand_pick(&mut rng),
                        note: "家属在网上申请".into(),
                        wanted: None,
                    },
                )
                .await;
                match asked {
                    Ok(o) => {
                        stats.from_family += 1;
                        vec![o]
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a family request of the demo was refused");
                        continue;
                    }
                }
            }
            Birth::Plan(e) => {
                let el = &elders[e];
                let mgr = people.managers[&el.street]
                    .iter()
                    .find(|m| Some(&m.username) == el.care_manager.as_ref())
                    .unwrap_or(&people.managers[&el.street][0]);
                let from = date_of(&app, when).tomorrow().map_err(|e| anyhow!("{e}"))?;
                let weeks = rng.range(1, 4);
                let to = from
                    .checked_add(jiff::Span::new().days(weeks * 7 - 1))
                    .map_err(|e| anyhow!("{e}"))?;
                let plan = CarePlan {
                    id: 0,
                    elder_id: ids[e],
                    service: demand_pick(&mut rng),
                    weekdays: vec![rng.range(1, 7) as u8],
                    start_min: *rng.pick(&[9 * 60, 10 * 60, 14 * 60, 15 * 60]),
                    duration_min: *rng.pick(&[60, 90]),
                    from_date: from,
                    to_date: to,
                    created_by: String::new(),
                };
                stats.plans += 1;
                orders::plan(&app, mgr, &plan).await?.1
            }
        };
        for o in created {
            stats.orders += 1;
            drive(&ctx, &mut rng, &mut stats, o).await?;
        }
    }
    // Open work at the end: new requests waiting for a provider, visits scheduled for today
    // and the coming days (the printed provider's among them).
    app.clock.set(end);
    let mut open = 0;
    for k in 0..60 {
        let e = if k < 20 {
            // Elders the printed provider covers, so its desk has today's visits.
            let p = printed_provider.as_deref().unwrap_or("YLFW001");
            let cov = &providers
                .iter()
                .find(|x| x.code == p)
                .map(|x| x.coverage.clone())
                .unwrap_or_default();
            let pool: Vec<usize> = cov
                .iter()
                .flat_map(|c| in_comm.get(c.as_str()).cloned().unwrap_or_default())
                .collect();
            if pool.is_empty() {
                rng.below(elders.len() as u64) as usize
            } else {
                *rng.pick(&pool)
            }
        } else {
            rng.below(elders.len() as u64) as usize
        };
        let el = &elders[e];
        let mgr = &people.managers[&el.street][0];
        let mine = printed_provider
            .as_deref()
            .and_then(|c| providers.iter().find(|p| p.code == c));
        let service = match mine {
            Some(p) if k < 20 => rng.pick(&p.services).service,
            _ => demand_pick(&mut rng),
        };
        // Asked for by family on the telephone, recorded by the care manager.
        let n = NewOrder {
            code: order_code(&mut rng, end),
            elder_id: ids[e],
            street: el.street.clone(),
            community: el.community.clone(),
            service,
            origin: Origin::Family,
            care_manager: el.care_manager.clone(),
            note: "家属来电申请".into(),
            wanted: None,
        };
        let o = console::create_order(&app, mgr, &n).await?;
        stats.orders += 1;
        open += 1;
        if k >= 40 {
            continue; // waiting for a provider
        }
        let prefer = if k < 20 {
            printed_provider.as_deref()
        } else {
            None
        };
        let Some((p, item)) = ctx.choose(&mut rng, &o.community, o.service, prefer) else {
            continue;
        };
        let o = console::act_order(&app, mgr, o.id, &assign_cmd(p, item)).await?;
        let staff_u = &people.staff[&p.code];
        // Today's remaining hours for the first dozen (tomorrow's when the day is over), the
        // coming days for the others.
        let hour = app.dir.calendar.time_zone().to_datetime(end).hour();
        let (offset, from_hour) = match (k < 12, hour < 16) {
            (true, true) => (0, (hour + 1).max(9)),
            (true, false) => (1, 9),
            (false, _) => (rng.range(1, 4), 9),
        };
        let day = date_of(&app, end)
            .checked_add(jiff::Span::new().days(offset))
            .map_err(|e| anyhow!("{e}"))?;
        let start = at_local(&app, day, (from_hour + (k % 3) as i8).min(17), 0)?;
        if start <= end {
            continue; // today's earlier hours are gone: left assigned
        }
        let Some(carer) = ctx.carer(&mut rng, &p.code, o.service) else {
            continue;
        };
        console::act_order(
            &app,
            staff_u,
            o.id,
            &OrderCommand::Schedule {
                carer_id: carer,
                slot: Slot {
                    start,
                    end: start + SignedDuration::from_mins(60),
                },
            },
        )
        .await?;
    }
    let orders_secs = secs(t);

    // ---- meals: the last three months ----
    let t = Instant::now();
    let this_month = today.first_of_month();
    let meals_from = this_month
        .checked_sub(jiff::Span::new().months(MEAL_MONTHS - 1))
        .map_err(|e| anyhow!("{e}"))?;
    let mut point_of: Vec<(usize, &MealPoint)> = Vec::new();
    let served: HashMap<&str, Vec<&MealPoint>> =
        meal_points.iter().fold(HashMap::new(), |mut m, p| {
            for c in &p.communities {
                m.entry(c.as_str()).or_default().push(p);
            }
            m
        });
    let mut tries = 0;
    while point_of.len() < DINERS && tries < DINERS * 20 {
        tries += 1;
        let e = rng.below(elders.len() as u64) as usize;
        if let Some(ps) = served.get(elders[e].community.as_str())
            && !point_of.iter().any(|(x, _)| *x == e)
        {
            point_of.push((e, *rng.pick(ps)));
        }
    }
    let mut meal_inputs: Vec<(Timestamp, MealInput)> = Vec::new();
    let mut d = meals_from;
    while d < today {
        for (e, p) in &point_of {
            let dinner_too = p.hours.contains("17:00");
            for (kind, prob, hour) in [(MealKind::Lunch, 0.5, 12), (MealKind::Dinner, 0.12, 18)] {
                if kind == MealKind::Dinner && !dinner_too {
                    continue;
                }
                if rng.chance(prob) {
                    let bill = if rng.chance(0.05) {
                        rng.range(3, 6) * 100
                    } else {
                        rng.range(10, 23) * 100
                    };
                    meal_inputs.push((
                        at_local(&app, d, hour, 30)?,
                        MealInput {
                            elder_id: ids[*e],
                            point: p.code.clone(),
                            date: d,
                            meal: kind,
                            bill_fen: bill,
                        },
                    ));
                }
            }
        }
        d = d.tomorrow().map_err(|e| anyhow!("{e}"))?;
    }
    let mut meals_n = 0usize;
    let mut subsidy_fen = 0i64;
    let mut first_subsidised = None;
    for (at, m) in &meal_inputs {
        app.clock.set(*at);
        let stored =
            console::load_meals(&app, "care-admin", std::slice::from_ref(m), today).await?;
        meals_n += stored.len();
        subsidy_fen += stored.iter().map(|m| m.elder_subsidy_fen).sum::<i64>();
        if first_subsidised.is_none() {
            first_subsidised = stored.into_iter().find(|m| m.elder_subsidy_fen > 0);
        }
    }
    let meals_secs = secs(t);

    // ---- settlement: approved to the month before last, then a void and a late meal, that
    // month prepared, this month a draft ----
    let t = Instant::now();
    let last_month = this_month
        .checked_sub(jiff::Span::new().months(1))
        .map_err(|e| anyhow!("{e}"))?;
    let mut month = date_of(&app, year_ago).first_of_month();
    let (mut approved, mut prepared) = (0, 0);
    let mut approved_fen = 0i64;
    let parties: Vec<(PartyKind, String)> = providers
        .iter()
        .map(|p| (PartyKind::Provider, p.code.clone()))
        .chain(
            meal_points
                .iter()
                .map(|m| (PartyKind::MealPoint, m.code.clone())),
        )
        .collect();
    while month <= last_month {
        let label = jiesu_domain::care::claim::month_of(month);
        let next = month
            .checked_add(jiff::Span::new().months(1))
            .map_err(|e| anyhow!("{e}"))?;
        if month == last_month {
            // After the month before was approved: a meal voided and one recorded late.
            app.clock
                .set(at_local(&app, next, 9, 0)? - SignedDuration::from_hours(24 * 20));
            if let Some(m) = first_subsidised.as_ref().filter(|m| m.date < month) {
                meals::void(&app, &admin, &m.point, m.id).await?;
            }
            for (_, m) in meal_inputs.iter().filter(|(_, m)| m.date < month).take(50) {
                let late = MealInput {
                    date: m.date.tomorrow().map_err(|e| anyhow!("{e}"))?,
                    meal: MealKind::Dinner,
                    ..m.clone()
                };
                if late.date < month && meals::record(&app, &admin, &late).await.is_ok() {
                    break;
                }
            }
        }
        app.clock
            .set(at_local(&app, next, 10, 0)? + SignedDuration::from_hours(24 * 4));
        for (kind, code) in &parties {
            if *kind == PartyKind::MealPoint && next <= meals_from {
                continue; // no meals before the meal log starts
            }
            let lines = settle::compute_lines(&app, *kind, code, month).await?;
            if lines.is_empty() {
                continue;
            }
            let c = settle::prepare(&app, &admin, *kind, code, &label).await?;
            prepared += 1;
            if month < last_month {
                settle::approve(&app, &admin, c.id, c.total_fen).await?;
                approved += 1;
                approved_fen += c.total_fen;
            }
        }
        month = next;
    }
    let settle_secs = secs(t);

    let mut summary = serde_json::json!({
        "elders": ELDERS,
        "elders_80_plus": elders.iter().filter(|e| jiesu_domain::care::person::age_on(e.birth_date, today) >= 80).count(),
        "living_alone": elders.iter().filter(|e| e.living_alone).count(),
        "basic_service_objects": elders.iter().filter(|e| e.basic_service_object).count(),
        "care_managers": people.managers.values().map(Vec::len).sum::<usize>(),
        "providers": providers.len(),
        "carers": carers_n,
        "meal_points": meal_points.len(),
        "communities_uncovered": uncovered.len(),
        "orders": stats.orders,
        "orders_from_requests": stats.from_requests,
        "orders_from_family": stats.from_family,
        "care_plans": stats.plans,
        "visits_verified": stats.visited,
        "missed": stats.missed,
        "declined": stats.declined,
        "cancelled": stats.cancelled,
        "unserved_no_provider": stats.unserved,
        "rated": stats.rated,
        "open_at_end": open,
        "meals": meals_n,
        "meal_subsidy_fen": subsidy_fen,
        "claims_prepared": prepared,
        "claims_approved": approved,
        "approved_fen": approved_fen,
        "seconds": {
            "accounts": accounts_secs,
            "network": network_secs,
            "registry": registry_secs,
            "orders": orders_secs,
            "meals": meals_secs,
            "settlement": settle_secs,
            "total": secs(started),
        },
    });
    // 一键呼: a device in every registered home and three months of alarms.
    summary["alarms"] = super::alarms::build(&app, &mut rng, end, &ids).await?;
    Ok((summary, printed))
}

enum Birth {
    Request(ElderlyRequest, usize),
    Family(usize),
    Plan(usize),
}

#[derive(Default)]
struct OrderStats {
    orders: usize,
    from_requests: usize,
    from_family: usize,
    plans: usize,
    visited: usize,
    missed: usize,
    declined: usize,
    cancelled: usize,
    unserved: usize,
    rated: usize,
}

struct Ctx<'a> {
    app: &'a App,
    providers: &'a [Provider],
    carers: &'a HashMap<String, Vec<Carer>>,
    people: &'a People,
    end: Timestamp,
}

impl Ctx<'_> {
    /// A provider covering the community and offering the service (the printed one when it
    /// may), and its price item.
    fn choose<'p>(
        &'p self,
        rng: &mut Rng,
        community: &str,
        service: ServiceKind,
        prefer: Option<&str>,
    ) -> Option<(&'p Provider, &'p PriceItem)> {
        let fits: Vec<(&Provider, &PriceItem)> = self
            .providers
            .iter()
            .filter(|p| p.coverage.iter().any(|c| c == community))
            .filter_map(|p| {
                p.services
                    .iter()
                    .find(|s| s.service == service)
                    .map(|i| (p, i))
            })
            .collect();
        if let Some(code) = prefer
            && let Some(x) = fits.iter().find(|(p, _)| p.code == code)
        {
            return Some(*x);
        }
        (!fits.is_empty()).then(|| *rng.pick(&fits))
    }
    fn carer(&self, rng: &mut Rng, provider: &str, service: ServiceKind) -> Option<i64> {
        let list: Vec<&Carer> = self
            .carers
            .get(provider)?
            .iter()
            .filter(|c| c.skills.contains(&service))
            .collect();
        let all: Vec<&Carer> = self.carers.get(provider)?.iter().collect();
        let pool = if list.is_empty() { all } else { list };
        (!pool.is_empty()).then(|| rng.pick(&pool).id)
    }
}

fn assign_cmd(p: &Provider, item: &PriceItem) -> OrderCommand {
    OrderCommand::Assign {
        provider: p.code.clone(),
        price_fen: item.price_fen,
        copay_fen: item.copay_fen,
        reason: "覆盖老人所在社区；提供该项服务；按评分与在办量指派".into(),
    }
}

/// An order number as the app makes them: `YL` + local date + 6 characters.
fn order_code(rng: &mut Rng, at: Timestamp) -> String {
    let mut b = [0u8; 6];
    for x in &mut b {
        *x = rng.below(256) as u8;
    }
    let t = jiesu_domain::tracking::tracking_code(at, b);
    format!("YL{}", &t[2..])
}

/// A slot within the provider's weekly hours, 1–3 days after `from` (or the wanted one).
fn slot_after(app: &App, rng: &mut Rng, from: Timestamp, minutes: i64) -> Result<Slot> {
    let day = date_of(app, from)
        .checked_add(jiff::Span::new().days(rng.range(1, 4)))
        .map_err(|e| anyhow!("{e}"))?;
    // Providers work Monday–Saturday: a Sunday moves to Monday.
    let day = if day.weekday() == jiff::civil::Weekday::Sunday {
        day.tomorrow().map_err(|e| anyhow!("{e}"))?
    } else {
        day
    };
    let start = at_local(app, day, *rng.pick(&[9, 10, 14, 15]), 0)?;
    Ok(Slot {
        start,
        end: start + SignedDuration::from_mins(minutes),
    })
}

/// Takes one order through its life on the walking clock: assigned (or left unserved when no
/// provider covers it), scheduled, visited (or missed, declined and re-assigned, cancelled),
/// rated. Every step is the order kind's `decide` through the engine.
async fn drive(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    stats: &mut OrderStats,
    o: jiesu_domain::care::OrderState,
) -> Result<()> {
    let app = ctx.app;
    let mgr = ctx
        .people
        .managers
        .get(&o.street)
        .and_then(|v| v.first())
        .unwrap_or(&ctx.people.admin);
    let created = o.created_at;
    let Some((mut p, mut item)) = ctx.choose(rng, &o.community, o.service, None) else {
        // Nobody covers the elder's community for this service: the demand the supply view
        // shows; the care manager cancels after two days.
        stats.unserved += 1;
        app.clock.set(created + SignedDuration::from_hours(48));
        console::act_order(app, mgr, o.id, &OrderCommand::Cancel).await?;
        stats.cancelled += 1;
        return Ok(());
    };
    app.clock
        .set(created + SignedDuration::from_mins(rng.range(10, 180)));
    if rng.chance(0.03) {
        console::act_order(app, mgr, o.id, &OrderCommand::Cancel).await?;
        stats.cancelled += 1;
        return Ok(());
    }
    console::act_order(app, mgr, o.id, &assign_cmd(p, item)).await?;
    if rng.chance(0.03) {
        // The provider declines; the care manager assigns another (or the same) one.
        app.clock
            .set(app.now() + SignedDuration::from_mins(rng.range(30, 300)));
        console::act_order(
            app,
            &ctx.people.staff[&p.code],
            o.id,
            &OrderCommand::Decline,
        )
        .await?;
        stats.declined += 1;
        app.clock
            .set(app.now() + SignedDuration::from_mins(rng.range(30, 300)));
        if let Some(x) = ctx.choose(rng, &o.community, o.service, None) {
            (p, item) = x;
        }
        console::act_order(app, mgr, o.id, &assign_cmd(p, item)).await?;
    }
    let staff = &ctx.people.staff[&p.code];
    let Some(carer) = ctx.carer(rng, &p.code, o.service) else {
        return Ok(());
    };
    let slot = match o.wanted {
        Some(w) if w.start > app.now() => w,
        _ => {
            let minutes = *rng.pick(&[60, 90, 120]);
            slot_after(app, rng, app.now(), minutes)?
        }
    };
    app.clock.set(
        app.now()
            + SignedDuration::from_mins(rng.range(10, 120))
                .min(slot.start.duration_since(app.now())),
    );
    if slot.start <= app.now() || slot.end > ctx.end {
        return Ok(()); // left assigned (the slot would be after the demo's end)
    }
    console::act_order(
        app,
        staff,
        o.id,
        &OrderCommand::Schedule {
            carer_id: carer,
            slot,
        },
    )
    .await?;
    if rng.chance(0.04) {
        // Never started: the sweep raises the 15/30/60-minute alerts, then 漏服务.
        for mins in [16, 31, 61] {
            app.clock.set(slot.start + SignedDuration::from_mins(mins));
            jiesu_app::sla::sweep_cases(app).await?;
        }
        app.clock.set(
            slot.end.max(slot.start + SignedDuration::from_mins(61)) + SignedDuration::from_mins(1),
        );
        jiesu_app::sla::sweep_cases(app).await?;
        stats.missed += 1;
        return Ok(());
    }
    let late = if rng.chance(0.1) {
        rng.range(16, 40)
    } else {
        rng.range(-10, 12)
    };
    let begun = slot.start + SignedDuration::from_mins(late);
    if late >= 15 {
        // Late: the sweep's first alert(s) fire before the carer clocks in.
        app.clock.set(begun - SignedDuration::from_mins(1));
        jiesu_app::sla::sweep_cases(app).await?;
    }
    app.clock.set(begun);
    console::act_order(
        app,
        staff,
        o.id,
        &OrderCommand::StartVisit {
            carer_id: carer,
            place: format!(
                "{:.4},{:.4}",
                39.90 + rng.f64() * 0.05,
                116.34 + rng.f64() * 0.06
            ),
            at: None,
        },
    )
    .await?;
    let done = begun
        + SignedDuration::from_mins(
            rng.range(40, slot.end.duration_since(slot.start).as_mins() + 20),
        );
    if done > ctx.end {
        return Ok(());
    }
    app.clock.set(done);
    console::act_order(
        app,
        staff,
        o.id,
        &OrderCommand::FinishVisit {
            notes: rng
                .pick(&[
                    "服务完成，老人状态良好",
                    "已按计划完成服务",
                    "服务完成，家属在场确认",
                    "老人满意，约定下次时间",
                ])
                .to_string(),
            at: None,
        },
    )
    .await?;
    stats.visited += 1;
    if rng.chance(0.6) {
        let rated_at = done + SignedDuration::from_mins(rng.range(30, 60 * 48));
        if rated_at > ctx.end {
            return Ok(());
        }
        app.clock.set(rated_at);
        let score = [5, 5, 5, 5, 5, 5, 4, 4, 4, 3, 2][rng.below(11) as usize];
        let comment = match score {
            5 => "服务很周到",
            4 => "挺好的",
            3 => "一般",
            _ => "来晚了，态度一般",
        };
        if rng.chance(0.7) {
            orders::rate_by_code(app, &o.code, score, comment).await?;
        } else {
            console::act_order(
                app,
                mgr,
                o.id,
                &OrderCommand::Rate {
                    score,
                    comment: comment.into(),
                },
            )
            .await?;
        }
        stats.rated += 1;
    }
    Ok(())
}
