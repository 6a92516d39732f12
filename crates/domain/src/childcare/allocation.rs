//! The allocation round: child-proposing deferred acceptance (Gale–Shapley) over the
//! institutions' published priorities, with one lottery drawn from a published seed.
//!
//! **Priorities.** A child's priority at a place (an institution's band) is its points there,
//! computed from data ([`PriorityRules`]): the verified criteria of its family, plus extras that
//! depend on the institution — residence in the institution's street, a sibling enrolled there,
//! a sibling applying in the same round who ranks it too. Higher points come first.
//!
//! **Lottery (single tie-break).** Ties in points are broken by one lottery number per child,
//! the same at every institution: sort the applicants' ids (byte order), shuffle them with
//! Fisher–Yates driven by [`SplitMix64`] seeded with the round's published seed, and number them
//! 1, 2, … in shuffled order; a lower number wins a tie. Anyone with the list of application
//! codes and the seed re-runs [`lottery`] and gets the same numbers, so the same result.
//!
//! **Deferred acceptance.** Every unplaced child proposes to its best choice not yet tried; the
//! place holds the best children up to its capacity and rejects the rest; repeat until no child
//! can propose. The result is stable (no child prefers a place that holds a child of lower
//! priority there, and no place a child wanted is left empty) and no child gains by ranking
//! against its true preferences (with the sibling rule below, two siblings' lists together
//! decide their bonus; ranking the same institutions is what the rule asks of them).
//! [`verify`] re-checks stability from the inputs alone; [`run_round`] runs it after every
//! round, and a result with violations must not be published.
//!
//! **Siblings.** Chosen rule: a sibling applying in the same round (`Applicant::sibling`) gives
//! `sibling_applying` points at every institution *both* children rank, and a sibling already
//! enrolled gives `sibling_enrolled` at that institution. Priorities stay fixed before the round,
//! so the result is still stable and checkable. The trade-off: it raises the chance that
//! siblings land together but does not guarantee it. A joint family application (the family
//! proposes to pairs of places) would guarantee it, but with couples a stable matching may not
//! exist at all (Roth 1984; arXiv 2212.02751), and no checker could then promise "no
//! justified envy" — so we do not do that.
//!
//! **Explanations.** For every choice ranked above the child's placement (all of them when
//! unplaced) the outcome names the cut-off — the lowest priority (points, lottery) admitted
//! there — which is above the child's own: every place went to a child with higher priority.

use crate::childcare::institution::Band;
use crate::error::DomainError;
use crate::model::vocabulary;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

vocabulary! {
    /// Priority criteria a family claims and staff confirm from documents.
    Criterion {
        BothWorking = "both_working" / "双职工家庭",
        Dibao = "dibao" / "低保家庭",
        Disability = "disability" / "家庭成员残疾",
        SingleParent = "single_parent" / "单亲家庭",
        MultipleBirth = "multiple_birth" / "多胞胎家庭",
    }
}

/// Points for one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRule {
    pub criterion: Criterion,
    pub points: u32,
}

/// How priority points are computed (data; published with the round).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRules {
    pub criteria: Vec<PriorityRule>,
    /// The child lives in the institution's street.
    pub residence_street: u32,
    /// A sibling is enrolled at the institution.
    pub sibling_enrolled: u32,
    /// A sibling applying in the same round ranks the institution too.
    pub sibling_applying: u32,
}

impl Default for PriorityRules {
    /// jiesu's demo weights (ours, not a published policy): need first, then proximity.
    fn default() -> Self {
        let r = |criterion, points| PriorityRule { criterion, points };
        PriorityRules {
            criteria: vec![
                r(Criterion::Dibao, 30),
                r(Criterion::Disability, 30),
                r(Criterion::SingleParent, 20),
                r(Criterion::BothWorking, 10),
                r(Criterion::MultipleBirth, 10),
            ],
            residence_street: 20,
            sibling_enrolled: 40,
            sibling_applying: 15,
        }
    }
}

impl PriorityRules {
    /// Points of the criteria (each counted once).
    pub fn criteria_points(&self, criteria: &[Criterion]) -> u32 {
        let mut seen = HashSet::new();
        criteria
            .iter()
            .filter(|c| seen.insert(**c))
            .map(|c| {
                self.criteria
                    .iter()
                    .filter(|r| r.criterion == *c)
                    .map(|r| r.points)
                    .sum::<u32>()
            })
            .sum()
    }

    /// The child's points at `p`; `sibling_ranks_it`: a sibling in the round ranks `p`'s
    /// institution too.
    pub fn points(&self, a: &Applicant, p: &Program, sibling_ranks_it: bool) -> u32 {
        let mut pts = self.criteria_points(&a.criteria);
        if a.street == p.street {
            pts += self.residence_street;
        }
        if a.sibling_enrolled_at.as_deref() == Some(p.institution.as_str()) {
            pts += self.sibling_enrolled;
        }
        if sibling_ranks_it {
            pts += self.sibling_applying;
        }
        pts
    }
}

/// The places of one band at one institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub institution: String,
    /// The institution's street (for the residence points).
    pub street: String,
    pub band: Band,
    pub capacity: u32,
}

/// A verified application as the round sees it: no names, only the application's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// The application's code.
    pub id: String,
    /// The band at the intended start (derived from the birth date).
    pub band: Band,
    /// Residence street.
    pub street: String,
    /// Verified criteria.
    pub criteria: Vec<Criterion>,
    /// Institution where a sibling is enrolled.
    pub sibling_enrolled_at: Option<String>,
    /// The id of a sibling applying in the same round.
    pub sibling: Option<String>,
    /// Institution codes, best first.
    pub choices: Vec<String>,
}

/// A round's whole input; with its seed it determines the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    pub programs: Vec<Program>,
    pub applicants: Vec<Applicant>,
    pub rules: PriorityRules,
    /// Published before the round.
    pub seed: u64,
}

/// A child's priority at a place. Ordered so that greater is better: more points, then the
/// lower lottery number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Priority {
    pub points: u32,
    pub lottery: u32,
}

impl Ord for Priority {
    fn cmp(&self, o: &Self) -> Ordering {
        self.points
            .cmp(&o.points)
            .then(o.lottery.cmp(&self.lottery))
    }
}
impl PartialOrd for Priority {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014; the constants of Vigna's reference code): the state
/// advances by 0x9E3779B97F4A7C15 and each output is the state mixed by two xor-shift-multiply
/// steps. Small, fast, and the same on every machine.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`), without modulo bias (Lemire's multiply-and-reject).
    pub fn below(&mut self, n: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// A seed from a published text (e.g. the draw announced before the round): FNV-1a 64 over its
/// UTF-8 bytes, so the seed can be announced in words and recomputed by anyone.
pub fn seed_from_text(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The lottery numbers (1 = best) of `ids` under `seed`; see the module's documentation.
pub fn lottery<'a>(seed: u64, ids: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, u32> {
    let mut v: Vec<&str> = ids.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    let mut rng = SplitMix64::new(seed);
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v.into_iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), i as u32 + 1))
        .collect()
}

/// Why a choice above the placement did not give a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RejectReason {
    /// The institution has no class of the child's band.
    NotOffered,
    /// The band has no places this round.
    NoPlaces,
    /// All places went to children with higher priority; `cutoff` is the lowest admitted.
    Full { cutoff: Priority, capacity: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// 1-based rank of the choice.
    pub choice: usize,
    pub institution: String,
    /// The child's own priority there (`None` where it has no place of the band).
    pub own: Option<Priority>,
    #[serde(flatten)]
    pub reason: RejectReason,
}

impl Rejection {
    /// The sentence the parent reads.
    pub fn reason_zh(&self) -> String {
        match (&self.reason, self.own) {
            (RejectReason::NotOffered, _) => format!(
                "第{}志愿{}没有适合孩子年龄的班级。",
                self.choice, self.institution
            ),
            (RejectReason::NoPlaces, _) => {
                format!("第{}志愿{}本轮没有学位。", self.choice, self.institution)
            }
            (RejectReason::Full { cutoff, capacity }, own) => format!(
                "第{}志愿{}的{}个学位全部给了优先级更高的孩子：录取线为{}分、摇号{}号，孩子为{}分、摇号{}号。",
                self.choice,
                self.institution,
                capacity,
                cutoff.points,
                cutoff.lottery,
                own.map_or(0, |p| p.points),
                own.map_or(0, |p| p.lottery),
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// 1-based rank of the choice that placed the child.
    pub choice: usize,
    pub institution: String,
    pub band: Band,
    pub priority: Priority,
}

/// One child's outcome and its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildOutcome {
    pub id: String,
    pub band: Band,
    pub lottery: u32,
    /// `None`: unplaced (goes to the waiting list).
    pub placed: Option<Placement>,
    /// Every choice above the placement (all when unplaced), best first.
    pub rejections: Vec<Rejection>,
}

impl ChildOutcome {
    /// The outcome and its reasons as the parent reads them.
    pub fn summary_zh(&self) -> String {
        let mut s = match &self.placed {
            Some(p) => format!(
                "已获得第{}志愿{}的{}学位。",
                p.choice,
                p.institution,
                p.band.label_zh()
            ),
            None => "本轮未获得学位，已进入候补名单。".to_string(),
        };
        for r in &self.rejections {
            s.push_str(&r.reason_zh());
        }
        s
    }
}

/// The programs of a round from the institutions' places: per band, the places less those
/// `taken` (children staying on, keyed by institution code and band). Bands with nothing left
/// are listed at zero, so a choice of them is explained as "no places".
pub fn programs_of(
    institutions: &[crate::childcare::institution::Institution],
    taken: &BTreeMap<(String, Band), u32>,
) -> Vec<Program> {
    let mut out = Vec::new();
    for i in institutions {
        for (band, places) in i.places() {
            let t = taken.get(&(i.code.clone(), band)).copied().unwrap_or(0);
            out.push(Program {
                institution: i.code.clone(),
                street: i.street.clone(),
                band,
                capacity: places.saturating_sub(t),
            });
        }
    }
    out
}

/// One place's result: who holds it and the cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramResult {
    pub institution: String,
    pub band: Band,
    pub capacity: u32,
    /// Admitted application codes, highest priority first.
    pub admitted: Vec<String>,
    /// The lowest admitted priority when full; `None` when places are left (everyone who
    /// proposed got in).
    pub cutoff: Option<Priority>,
}

/// A round's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundResult {
    pub seed: u64,
    /// One per applicant, by id.
    pub outcomes: Vec<ChildOutcome>,
    /// One per program, in the market's order.
    pub programs: Vec<ProgramResult>,
    /// What [`verify`] found (empty for a correct round; never publish one that is not).
    pub violations: Vec<Violation>,
}

impl RoundResult {
    pub fn outcome(&self, id: &str) -> Option<&ChildOutcome> {
        self.outcomes
            .binary_search_by(|o| o.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.outcomes[i])
    }
    pub fn placed_count(&self) -> usize {
        self.outcomes.iter().filter(|o| o.placed.is_some()).count()
    }
}

/// What the checker can find wrong with a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "violation", rename_all = "snake_case")]
pub enum Violation {
    /// A child of the market has no outcome, or two.
    MissingOutcome { child: String },
    /// Placed somewhere it did not rank, or at a place of another band.
    NotChosen { child: String, institution: String },
    OverCapacity {
        institution: String,
        band: Band,
        capacity: u32,
        admitted: u32,
    },
    /// `child` prefers the place and has higher priority there than `over`, who holds it.
    JustifiedEnvy {
        child: String,
        institution: String,
        band: Band,
        over: String,
    },
    /// A place `child` ranked above its outcome has a free seat.
    WastedSeat {
        child: String,
        institution: String,
        band: Band,
    },
    /// The programs' lists disagree with the children's outcomes.
    Inconsistent { institution: String, band: Band },
}

/// The market compiled to indices.
struct Compiled {
    /// Per applicant, per choice: the program index (None: not offered) and the priority.
    prefs: Vec<Vec<(Option<usize>, Priority)>>,
    lottery: Vec<u32>,
}

fn program_index(programs: &[Program]) -> HashMap<(&str, Band), usize> {
    programs
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.institution.as_str(), p.band), i))
        .collect()
}

fn compile(
    programs: &[Program],
    applicants: &[Applicant],
    rules: &PriorityRules,
    lottery: &BTreeMap<String, u32>,
) -> Compiled {
    let pidx = program_index(programs);
    let by_id: HashMap<&str, usize> = applicants
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut prefs = Vec::with_capacity(applicants.len());
    let mut lot = Vec::with_capacity(applicants.len());
    for a in applicants {
        let l = lottery.get(&a.id).copied().unwrap_or(u32::MAX);
        lot.push(l);
        let sib = a
            .sibling
            .as_deref()
            .and_then(|s| by_id.get(s))
            .map(|&j| &applicants[j])
            .filter(|s| s.id != a.id);
        prefs.push(
            a.choices
                .iter()
                .map(|inst| {
                    let p = pidx.get(&(inst.as_str(), a.band)).copied();
                    let points = p.map_or(0, |p| {
                        let ranks = sib.is_some_and(|s| s.choices.iter().any(|c| c == inst));
                        rules.points(a, &programs[p], ranks)
                    });
                    (p, Priority { points, lottery: l })
                })
                .collect(),
        );
    }
    Compiled {
        prefs,
        lottery: lot,
    }
}

/// A proposal's rank at a place: its priority, then the lower applicant index.
type Key = (Priority, Reverse<usize>);

/// Child-proposing deferred acceptance; returns per applicant the index of the choice that
/// placed it. Ties (equal priority, possible only for children without a lottery number) go to
/// the lower applicant index.
fn defer(programs: &[Program], c: &Compiled) -> Vec<Option<usize>> {
    let n = c.prefs.len();
    let mut next = vec![0usize; n];
    let mut placed: Vec<Option<usize>> = vec![None; n];
    // Worst held child on top: (priority, Reverse(index)) min-heap.
    let mut held: Vec<BinaryHeap<Reverse<Key>>> =
        programs.iter().map(|_| BinaryHeap::new()).collect();
    let mut free: Vec<usize> = (0..n).rev().collect();
    while let Some(ch) = free.pop() {
        while next[ch] < c.prefs[ch].len() {
            let k = next[ch];
            next[ch] += 1;
            let (Some(p), pr) = c.prefs[ch][k] else {
                continue;
            };
            let cap = programs[p].capacity as usize;
            let key = (pr, Reverse(ch));
            if held[p].len() < cap {
                held[p].push(Reverse(key));
                placed[ch] = Some(k);
                break;
            }
            if cap > 0 && held[p].peek().is_some_and(|Reverse(w)| *w < key) {
                let Some(Reverse((_, Reverse(w)))) = held[p].pop() else {
                    unreachable!()
                };
                placed[w] = None;
                free.push(w);
                held[p].push(Reverse(key));
                placed[ch] = Some(k);
                break;
            }
        }
    }
    placed
}

/// Checks a market before a round: ids unique and present, choices not repeated, programs
/// unique. Each problem names its field.
pub fn check_market(m: &Market) -> Result<(), DomainError> {
    let mut seen = HashSet::new();
    for (i, p) in m.programs.iter().enumerate() {
        if !seen.insert((p.institution.as_str(), p.band)) {
            return Err(DomainError::invalid(
                &format!("programs[{i}]"),
                "duplicate",
                "the institution's band is listed twice",
            ));
        }
    }
    let mut ids = HashSet::new();
    for (i, a) in m.applicants.iter().enumerate() {
        if a.id.is_empty() {
            return Err(DomainError::invalid(
                &format!("applicants[{i}].id"),
                "required",
                "an applicant needs its application's code",
            ));
        }
        if !ids.insert(a.id.as_str()) {
            return Err(DomainError::invalid(
                &format!("applicants[{i}].id"),
                "duplicate",
                "the application is in the round twice",
            ));
        }
        let mut ch = HashSet::new();
        for (k, c) in a.choices.iter().enumerate() {
            if !ch.insert(c.as_str()) {
                return Err(DomainError::invalid(
                    &format!("applicants[{i}].choices[{k}]"),
                    "duplicate_choice",
                    "the institution is ranked twice",
                ));
            }
        }
    }
    Ok(())
}

/// Runs the round and checks it with [`verify`]; the result's `violations` must be empty before
/// it is published.
pub fn run_round(m: &Market) -> Result<RoundResult, DomainError> {
    check_market(m)?;
    let lot = lottery(m.seed, m.applicants.iter().map(|a| a.id.as_str()));
    let c = compile(&m.programs, &m.applicants, &m.rules, &lot);
    let placed = defer(&m.programs, &c);
    let mut result = build_result(m, &c, &placed);
    result.violations = verify(m, &result);
    Ok(result)
}

fn build_result(m: &Market, c: &Compiled, placed: &[Option<usize>]) -> RoundResult {
    let mut admitted: Vec<Vec<(Priority, usize)>> = vec![Vec::new(); m.programs.len()];
    for (ch, k) in placed.iter().enumerate() {
        if let Some(k) = k
            && let (Some(p), pr) = c.prefs[ch][*k]
        {
            admitted[p].push((pr, ch));
        }
    }
    let programs: Vec<ProgramResult> = m
        .programs
        .iter()
        .zip(admitted.iter_mut())
        .map(|(p, adm)| {
            adm.sort_by(|a, b| b.cmp(a));
            let full = p.capacity > 0 && adm.len() >= p.capacity as usize;
            ProgramResult {
                institution: p.institution.clone(),
                band: p.band,
                capacity: p.capacity,
                admitted: adm
                    .iter()
                    .map(|(_, ch)| m.applicants[*ch].id.clone())
                    .collect(),
                cutoff: if full { adm.last().map(|x| x.0) } else { None },
            }
        })
        .collect();
    let mut outcomes: Vec<ChildOutcome> = m
        .applicants
        .iter()
        .enumerate()
        .map(|(ch, a)| {
            let upto = placed[ch].unwrap_or(a.choices.len());
            let rejections = (0..upto)
                .map(|k| {
                    let (p, pr) = c.prefs[ch][k];
                    let (own, reason) = match p {
                        None => (None, RejectReason::NotOffered),
                        Some(p) if m.programs[p].capacity == 0 => {
                            (Some(pr), RejectReason::NoPlaces)
                        }
                        Some(p) => (
                            Some(pr),
                            RejectReason::Full {
                                // A stable result fills every place a child was refused at;
                                // if not, `verify` reports the wasted seat.
                                cutoff: programs[p].cutoff.unwrap_or(pr),
                                capacity: m.programs[p].capacity,
                            },
                        ),
                    };
                    Rejection {
                        choice: k + 1,
                        institution: a.choices[k].clone(),
                        own,
                        reason,
                    }
                })
                .collect();
            ChildOutcome {
                id: a.id.clone(),
                band: a.band,
                lottery: c.lottery[ch],
                placed: placed[ch].map(|k| Placement {
                    choice: k + 1,
                    institution: a.choices[k].clone(),
                    band: a.band,
                    priority: c.prefs[ch][k].1,
                }),
                rejections,
            }
        })
        .collect();
    outcomes.sort_by(|a, b| a.id.cmp(&b.id));
    RoundResult {
        seed: m.seed,
        outcomes,
        programs,
        violations: Vec::new(),
    }
}

/// Checks `r` against `m` from the inputs alone (the lottery and priorities are recomputed):
/// every child has one outcome at a place it ranked, no place holds more than its capacity, no
/// justified envy, no wasted seat a child wanted, and the places' lists match the outcomes.
pub fn verify(m: &Market, r: &RoundResult) -> Vec<Violation> {
    let lot = lottery(m.seed, m.applicants.iter().map(|a| a.id.as_str()));
    let c = compile(&m.programs, &m.applicants, &m.rules, &lot);
    let pidx = program_index(&m.programs);
    let mut out = Vec::new();
    let by_id: HashMap<&str, &ChildOutcome> =
        r.outcomes.iter().map(|o| (o.id.as_str(), o)).collect();
    if by_id.len() != r.outcomes.len() || r.outcomes.len() != m.applicants.len() {
        let known: HashSet<&str> = m.applicants.iter().map(|a| a.id.as_str()).collect();
        for o in &r.outcomes {
            if !known.contains(o.id.as_str()) {
                out.push(Violation::MissingOutcome {
                    child: o.id.clone(),
                });
            }
        }
    }
    // placed[ch] = index of the choice; holders per program.
    let mut placed: Vec<Option<usize>> = vec![None; m.applicants.len()];
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); m.programs.len()];
    for (ch, a) in m.applicants.iter().enumerate() {
        let Some(o) = by_id.get(a.id.as_str()) else {
            out.push(Violation::MissingOutcome {
                child: a.id.clone(),
            });
            continue;
        };
        let Some(pl) = &o.placed else { continue };
        let k = a.choices.iter().position(|x| *x == pl.institution);
        match (k, pidx.get(&(pl.institution.as_str(), a.band))) {
            (Some(k), Some(&p)) if pl.band == a.band => {
                placed[ch] = Some(k);
                holders[p].push(ch);
            }
            _ => out.push(Violation::NotChosen {
                child: a.id.clone(),
                institution: pl.institution.clone(),
            }),
        }
    }
    let mut lowest: Vec<Option<(Priority, usize)>> = vec![None; m.programs.len()];
    for (p, hs) in holders.iter().enumerate() {
        let prog = &m.programs[p];
        if hs.len() > prog.capacity as usize {
            out.push(Violation::OverCapacity {
                institution: prog.institution.clone(),
                band: prog.band,
                capacity: prog.capacity,
                admitted: hs.len() as u32,
            });
        }
        lowest[p] = hs
            .iter()
            .map(|&ch| (c.prefs[ch][placed[ch].unwrap_or(0)].1, ch))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        if let Some(pr) = r.programs.get(p) {
            let mut listed: Vec<&str> = pr.admitted.iter().map(String::as_str).collect();
            let mut actual: Vec<&str> = hs.iter().map(|&ch| m.applicants[ch].id.as_str()).collect();
            listed.sort_unstable();
            actual.sort_unstable();
            if listed != actual || pr.institution != prog.institution || pr.band != prog.band {
                out.push(Violation::Inconsistent {
                    institution: prog.institution.clone(),
                    band: prog.band,
                });
            }
        }
    }
    for (ch, a) in m.applicants.iter().enumerate() {
        let upto = placed[ch].unwrap_or(a.choices.len());
        for k in 0..upto {
            let (Some(p), pr) = c.prefs[ch][k] else {
                continue;
            };
            let prog = &m.programs[p];
            if prog.capacity == 0 {
                continue;
            }
            if holders[p].len() < prog.capacity as usize {
                out.push(Violation::WastedSeat {
                    child: a.id.clone(),
                    institution: prog.institution.clone(),
                    band: prog.band,
                });
            } else if let Some((low, w)) = lowest[p]
                && (pr, Reverse(ch)) > (low, Reverse(w))
            {
                out.push(Violation::JustifiedEnvy {
                    child: a.id.clone(),
                    institution: prog.institution.clone(),
                    band: prog.band,
                    over: m.applicants[w].id.clone(),
                });
            }
        }
    }
    out
}

/// An offer of a freed place to a child on the waiting list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingOffer {
    pub applicant: String,
    pub institution: String,
    pub band: Band,
    /// 1-based rank of the choice.
    pub choice: usize,
    pub priority: Priority,
}

/// Offers for places freed after the round (declined or expired offers, children who left,
/// mid-year openings) to unplaced children on the waiting list, in priority order: the same
/// deferred acceptance over the freed places only, with the round's lottery numbers (`lottery`),
/// so each child gets its best freed choice and no freed place goes past a child of higher
/// priority who wanted it. Children not in the round (late applications) have no number and
/// come after every numbered child of equal points, in the order of `waiting`.
pub fn next_offers(
    rules: &PriorityRules,
    freed: &[Program],
    waiting: &[Applicant],
    lottery: &BTreeMap<String, u32>,
) -> Vec<WaitingOffer> {
    // Merge duplicate programs (two freed lists for the same place).
    let mut merged: Vec<Program> = Vec::new();
    for f in freed {
        match merged
            .iter_mut()
            .find(|p| p.institution == f.institution && p.band == f.band)
        {
            Some(p) => p.capacity += f.capacity,
            None => merged.push(f.clone()),
        }
    }
    let c = compile(&merged, waiting, rules, lottery);
    let placed = defer(&merged, &c);
    let mut out: Vec<WaitingOffer> = placed
        .iter()
        .enumerate()
        .filter_map(|(ch, k)| {
            let k = (*k)?;
            let a = &waiting[ch];
            Some(WaitingOffer {
                applicant: a.id.clone(),
                institution: a.choices[k].clone(),
                band: a.band,
                choice: k + 1,
                priority: c.prefs[ch][k].1,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.applicant.cmp(&b.applicant))
    });
    out
}

/// A random market for tests and the benchmark: `n_institutions` over 15 streets, each offering
/// one to three bands of 5–40 places, and `n_applicants` ranking one to five institutions of
/// their band (about 3% with a sibling applying too). The same seed gives the same market.
pub fn synthetic_market(seed: u64, n_applicants: usize, n_institutions: usize) -> Market {
    let mut rng = SplitMix64::new(seed ^ 0x5EED_C0DE);
    let streets: Vec<String> = (1..=15).map(|i| format!("S{i:02}")).collect();
    let mut programs = Vec::new();
    let mut by_band: BTreeMap<Band, Vec<String>> = BTreeMap::new();
    for i in 0..n_institutions {
        let code = format!("I{i:05}");
        let street = streets[rng.below(15) as usize].clone();
        let mut any = false;
        for (b, band) in Band::ALL.iter().enumerate() {
            // Every institution offers at least the last band it reaches.
            if rng.below(3) != 0 || (!any && b == 2) {
                any = true;
                programs.push(Program {
                    institution: code.clone(),
                    street: street.clone(),
                    band: *band,
                    capacity: 5 + rng.below(36) as u32,
                });
                by_band.entry(*band).or_default().push(code.clone());
            }
        }
    }
    let mut applicants: Vec<Applicant> = Vec::with_capacity(n_applicants);
    for i in 0..n_applicants {
        let band = Band::ALL[rng.below(3) as usize];
        let pool = by_band.get(&band).map(Vec::as_slice).unwrap_or(&[]);
        let want = (1 + rng.below(5) as usize).min(pool.len());
        let mut choices: Vec<String> = Vec::with_capacity(want);
        while choices.len() < want {
            let c = &pool[rng.below(pool.len() as u64) as usize];
            if !choices.contains(c) {
                choices.push(c.clone());
            }
        }
        let criteria = Criterion::ALL
            .iter()
            .copied()
            .filter(|_| rng.below(6) == 0)
            .collect();
        let sibling_enrolled_at = (rng.below(20) == 0 && !choices.is_empty())
            .then(|| choices[rng.below(choices.len() as u64) as usize].clone());
        let id = format!("A{i:06}");
        // A sibling pair: this child and the one before, linked both ways.
        let sibling = (i > 0 && rng.below(33) == 0).then(|| format!("A{:06}", i - 1));
        if sibling.is_some()
            && let Some(prev) = applicants.last_mut()
        {
            prev.sibling = Some(id.clone());
        }
        applicants.push(Applicant {
            id,
            band,
            street: streets[rng.below(15) as usize].clone(),
            criteria,
            sibling_enrolled_at,
            sibling,
            choices,
        });
    }
    Market {
        programs,
        applicants,
        rules: PriorityRules::default(),
        seed,
    }
}
