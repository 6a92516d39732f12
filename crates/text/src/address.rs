//! Address → street (街道) and community (社区).
//!
//! A gazetteer of names — street names (什刹海街道 and 什刹海), community names (with and
//! without 社区), roads, hutongs, compounds and landmarks — plus what history teaches (the
//! address prefixes of earlier requests whose street and community are known) is kept in a
//! character trie. [`Resolver::resolve`] scans a text for the leftmost-longest names, lets every
//! match vote for its street and community, and answers only when the votes agree: a boundary
//! road listed under two streets, or two places in different streets, give "unknown" rather than
//! a guess. When no name matches exactly it tries, at lower confidence, a prefix of a name that
//! only one street has (鼓楼西街 for 鼓楼西大街) and names with one character wrong or missing
//! (烟袋邪街, 烟袋街).

use std::collections::HashMap;

use serde::Serialize;

use crate::normalize::normalize;

/// Answers below this confidence are "unknown".
pub const MIN_CONFIDENCE: f32 = 0.5;

/// Only the start of a long text is scanned: addresses come first, and a 100 KB letter must not
/// cost more than a short one.
const MAX_SCAN_CHARS: usize = 4_000;

/// Beijing's other districts: an address naming one is outside this deployment.
const OTHER_DISTRICTS: &[&str] = &[
    "东城区",
    "朝阳区",
    "海淀区",
    "丰台区",
    "石景山区",
    "门头沟区",
    "房山区",
    "通州区",
    "顺义区",
    "昌平区",
    "大兴区",
    "怀柔区",
    "平谷区",
    "密云区",
    "延庆区",
];

/// Short street names that are also common words (天桥 = a footbridge, 椿树 = a tree); they
/// count only with their 街道 suffix or inside a longer gazetteer name.
const AMBIGUOUS_SHORT_NAMES: &[&str] = &["天桥", "椿树"];

/// Community names whose bare form (without 社区) is an everyday word or an institution
/// mentioned for other reasons (教育部 in a complaint about schools).
const GENERIC_COMMUNITY_NAMES: &[&str] = &["教育部", "大街东", "新华社"];

/// A gazetteer place handed to [`Resolver::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GazetteerPlace {
    pub name: String,
    /// What it is (road, hutong, compound, landmark …), shown in the evidence.
    pub kind: String,
    pub street_code: String,
    pub community_code: Option<String>,
}

/// The names the resolver starts from (usually the deployment's world).
#[derive(Clone, Debug, Default)]
pub struct Gazetteer {
    /// `(code, name)`, e.g. `("110102012", "什刹海街道")`.
    pub streets: Vec<(String, String)>,
    /// `(code, name, street_code)`.
    pub communities: Vec<(String, String, String)>,
    pub places: Vec<GazetteerPlace>,
}

/// A resolved street or community with its confidence in `0..=1`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Resolved {
    pub code: String,
    pub name: String,
    pub confidence: f32,
}

/// What an address or text says about where the matter is. `None` means unknown: nothing
/// matched, or the matches disagree.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Resolution {
    pub street: Option<Resolved>,
    pub community: Option<Resolved>,
    /// The names found and what they pointed to, for the operator to check.
    pub evidence: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Street,
    StreetShort,
    Community,
    CommunityShort,
    Place,
    Learned,
}

impl Source {
    /// How much one match of this kind is trusted.
    fn weight(self) -> f32 {
        match self {
            Source::Street | Source::Community => 1.0,
            Source::Place => 0.9,
            Source::CommunityShort => 0.8,
            Source::StreetShort => 0.75,
            // Learned entries are weighted by how often they were seen (see `Entry::weight`).
            Source::Learned => 1.0,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Source::Street => "street",
            Source::StreetShort => "street name",
            Source::Community => "community",
            Source::CommunityShort => "community name",
            Source::Place => "place",
            Source::Learned => "history",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Target {
    street: u32,
    community: Option<u32>,
}

#[derive(Clone, Debug)]
struct Entry {
    source: Source,
    /// Free-form kind for the evidence (road, hutong …).
    kind: String,
    /// Where the name points, with how often (1 for gazetteer rows, observations for history).
    targets: Vec<(Target, u32)>,
}

impl Entry {
    fn total(&self) -> u32 {
        self.targets.iter().map(|(_, n)| *n).sum()
    }

    /// Trust in one match: the source's weight; for history, `n / (n + 1)` so one sighting
    /// counts half and many approach (but never reach) a gazetteer entry.
    fn weight(&self) -> f32 {
        match self.source {
            Source::Learned => {
                let n = self.total() as f32;
                (n / (n + 1.0)).min(0.9)
            }
            s => s.weight(),
        }
    }

    fn add(&mut self, target: Target, n: u32) {
        match self.targets.iter_mut().find(|(t, _)| *t == target) {
            Some((_, count)) => *count = count.saturating_add(n),
            None => self.targets.push((target, n)),
        }
    }
}

/// Which streets the names below a trie node belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    Nothing,
    One(u32),
    Many,
}

impl Reach {
    fn with(self, street: u32) -> Reach {
        match self {
            Reach::Nothing => Reach::One(street),
            Reach::One(s) if s == street => self,
            _ => Reach::Many,
        }
    }
}

#[derive(Clone, Debug)]
struct Node {
    /// Sorted by character, so lookups are a binary search and fuzzy matching can enumerate.
    children: Vec<(char, u32)>,
    entry: Option<u32>,
    reach: Reach,
}

impl Node {
    fn new() -> Self {
        Node {
            children: Vec::new(),
            entry: None,
            reach: Reach::Nothing,
        }
    }

    fn child(&self, c: char) -> Option<u32> {
        self.children
            .binary_search_by_key(&c, |(k, _)| *k)
            .ok()
            .map(|i| self.children[i].1)
    }
}

#[derive(Clone, Copy, Debug)]
struct Match {
    start: usize,
    end: usize,
    entry: u32,
    /// 1 for an exact name, less for a prefix or a near-miss.
    quality: f32,
}

/// Address resolver: gazetteer plus history. Cheap to query (a trie walk per character);
/// [`Resolver::learn`] adds history in place.
#[derive(Clone, Debug)]
pub struct Resolver {
    streets: Vec<(String, String)>,
    communities: Vec<(String, String, u32)>,
    nodes: Vec<Node>,
    entries: Vec<Entry>,
    /// Names of the district itself and of other districts, to recognise and skip.
    district_names: Vec<String>,
    learned: usize,
}

impl Resolver {
    /// A resolver over `gazetteer`. `district_name` (西城区) is recognised and ignored in
    /// addresses. Rows naming unknown streets or communities are skipped.
    pub fn new(gazetteer: &Gazetteer, district_name: &str) -> Self {
        let mut r = Resolver {
            streets: gazetteer.streets.clone(),
            communities: Vec::new(),
            nodes: vec![Node::new()],
            entries: Vec::new(),
            district_names: Vec::new(),
            learned: 0,
        };
        let street_index: HashMap<&str, u32> = gazetteer
            .streets
            .iter()
            .enumerate()
            .map(|(i, (code, _))| (code.as_str(), i as u32))
            .collect();
        for (code, name, street) in &gazetteer.communities {
            if let Some(&s) = street_index.get(street.as_str()) {
                r.communities.push((code.clone(), name.clone(), s));
            }
        }
        let community_index: HashMap<String, u32> = r
            .communities
            .iter()
            .enumerate()
            .map(|(i, (code, _, _))| (code.clone(), i as u32))
            .collect();

        for (i, (_, name)) in gazetteer.streets.iter().enumerate() {
            let target = Target {
                street: i as u32,
                community: None,
            };
            r.add_name(name, Source::Street, "street", target);
            if let Some(short) = strip_suffix_any(name, &["街道办事处", "街道", "地区"])
                && short.chars().count() >= 2
                && !AMBIGUOUS_SHORT_NAMES.contains(&short)
            {
                r.add_name(short, Source::StreetShort, "street", target);
                r.add_name(
                    &format!("{short}街道办事处"),
                    Source::Street,
                    "street",
                    target,
                );
            }
        }
        for i in 0..r.communities.len() {
            let (_, name, street) = r.communities[i].clone();
            let target = Target {
                street,
                community: Some(i as u32),
            };
            r.add_name(&name, Source::Community, "community", target);
            // Bare names of two characters (钟声, 团结, 石头) are everyday words; only the full
            // name counts for them.
            if let Some(short) = name.strip_suffix("社区")
                && short.chars().count() >= 3
                && !GENERIC_COMMUNITY_NAMES.contains(&short)
            {
                r.add_name(short, Source::CommunityShort, "community", target);
                r.add_name(
                    &format!("{short}社区居委会"),
                    Source::Community,
                    "community",
                    target,
                );
            }
        }
        for p in &gazetteer.places {
            let Some(&street) = street_index.get(p.street_code.as_str()) else {
                continue;
            };
            let community = p
                .community_code
                .as_ref()
                .and_then(|c| community_index.get(c).copied())
                .filter(|&c| r.communities[c as usize].2 == street);
            r.add_name(
                &p.name,
                Source::Place,
                &p.kind,
                Target { street, community },
            );
        }
        let district = normalize(district_name);
        if !district.is_empty() {
            r.district_names.push(district.clone());
            r.district_names.push(format!("北京市{district}"));
        }
        r
    }

    /// How many distinct address prefixes history has taught.
    pub fn learned_names(&self) -> usize {
        self.learned
    }

    /// Names in the trie (gazetteer and history).
    pub fn names(&self) -> usize {
        self.entries.len()
    }

    fn street_of(&self, code: &str) -> Option<u32> {
        self.streets
            .iter()
            .position(|(c, _)| c == code)
            .map(|i| i as u32)
    }

    fn community_of(&self, code: &str) -> Option<u32> {
        self.communities
            .iter()
            .position(|(c, _, _)| c == code)
            .map(|i| i as u32)
    }

    fn add_name(&mut self, name: &str, source: Source, kind: &str, target: Target) {
        let name: Vec<char> = normalize(name)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if name.len() < 2 {
            return;
        }
        let node = self.insert_path(&name, target.street);
        match self.nodes[node].entry {
            Some(e) => {
                let entry = &mut self.entries[e as usize];
                // A stronger source replaces a weaker one (社区 name vs a learned prefix);
                // same-strength rows for different targets make the name ambiguous.
                if entry.source == Source::Learned && source != Source::Learned {
                    *entry = Entry {
                        source,
                        kind: kind.to_string(),
                        targets: vec![(target, 1)],
                    };
                } else if entry.source != Source::Learned && source != Source::Learned {
                    if source.weight() > entry.source.weight() {
                        *entry = Entry {
                            source,
                            kind: kind.to_string(),
                            targets: vec![(target, 1)],
                        };
                    } else if (source.weight() - entry.source.weight()).abs() < f32::EPSILON {
                        entry.add(target, 1);
                    }
                } else if entry.source == Source::Learned {
                    entry.add(target, 1);
                }
            }
            None => {
                self.nodes[node].entry = Some(self.entries.len() as u32);
                self.entries.push(Entry {
                    source,
                    kind: kind.to_string(),
                    targets: vec![(target, 1)],
                });
            }
        }
    }

    /// Walks (creating) the path of `name`, marking each node's street reach.
    fn insert_path(&mut self, name: &[char], street: u32) -> usize {
        let mut node = 0usize;
        for &c in name {
            let next = match self.nodes[node]
                .children
                .binary_search_by_key(&c, |(k, _)| *k)
            {
                Ok(i) => self.nodes[node].children[i].1 as usize,
                Err(i) => {
                    let id = self.nodes.len();
                    self.nodes.push(Node::new());
                    self.nodes[node].children.insert(i, (c, id as u32));
                    id
                }
            };
            node = next;
            self.nodes[node].reach = self.nodes[node].reach.with(street);
        }
        node
    }

    /// Learns from an earlier request whose street (and maybe community) is known: the part
    /// of its address before the house number (鼓楼西大街, 新康园 …) is remembered as pointing
    /// there. Names already in the gazetteer are not overridden. Returns whether anything was
    /// learned.
    pub fn learn(
        &mut self,
        address: &str,
        street_code: &str,
        community_code: Option<&str>,
    ) -> bool {
        let Some(street) = self.street_of(street_code) else {
            return false;
        };
        let community = community_code
            .and_then(|c| self.community_of(c))
            .filter(|&c| self.communities[c as usize].2 == street);
        let Some(key) = self.address_key(address) else {
            return false;
        };
        let chars: Vec<char> = key.chars().collect();
        // Skip keys that are gazetteer names: the gazetteer is authoritative.
        if let Some(e) = self.exact(&chars)
            && self.entries[e as usize].source != Source::Learned
        {
            return false;
        }
        let is_new = self.exact(&chars).is_none();
        self.add_name(
            &key,
            Source::Learned,
            "address",
            Target { street, community },
        );
        if is_new {
            self.learned += 1;
        }
        true
    }

    fn exact(&self, name: &[char]) -> Option<u32> {
        let mut node = 0usize;
        for &c in name {
            node = self.nodes[node].child(c)? as usize;
        }
        self.nodes[node].entry
    }

    /// The place part of an address: without city, district and region names, up to the
    /// first house number (`12号`, `3号楼`) or separator. `None` when too short or too long to
    /// be a name.
    fn address_key(&self, address: &str) -> Option<String> {
        let text = normalize(address);
        let mut rest: &str = text.trim();
        for prefix in ["北京市", "北京"] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        for d in &self.district_names {
            rest = rest.strip_prefix(d.as_str()).unwrap_or(rest);
        }
        // A leading street or community name is evidence on its own; the key is what follows.
        for _ in 0..2 {
            let chars: Vec<char> = rest.chars().collect();
            if let Some((len, e)) = self.longest_at(&chars, 0) {
                let source = self.entries[e as usize].source;
                if matches!(
                    source,
                    Source::Street
                        | Source::StreetShort
                        | Source::Community
                        | Source::CommunityShort
                ) && len < chars.len()
                {
                    let cut: usize = chars[..len].iter().map(|c| c.len_utf8()).sum();
                    rest = &rest[cut..];
                    continue;
                }
            }
            break;
        }
        let key: String = rest
            .chars()
            .take_while(|c| {
                !c.is_ascii_digit()
                    && !c.is_whitespace()
                    && !matches!(c, ',' | '，' | '。' | '、' | '(' | ')' | '-' | '#' | '号')
            })
            .collect();
        let n = key.chars().count();
        (2..=20).contains(&n).then_some(key)
    }

    /// The longest name starting at `start`: (length in chars, entry).
    fn longest_at(&self, chars: &[char], start: usize) -> Option<(usize, u32)> {
        let mut node = 0usize;
        let mut best = None;
        for (i, &c) in chars[start..].iter().enumerate() {
            let Some(next) = self.nodes[node].child(c) else {
                break;
            };
            node = next as usize;
            if let Some(e) = self.nodes[node].entry {
                best = Some((i + 1, e));
            }
        }
        best
    }

    /// Leftmost-longest exact matches.
    fn exact_matches(&self, chars: &[char]) -> Vec<Match> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if let Some((len, entry)) = self.longest_at(chars, i) {
                let e = &self.entries[entry as usize];
                let short_street = e.source == Source::StreetShort;
                // 什刹海 in 什刹海街道 is caught as the longer name; a bare short street name
                // right before 门/桥 is a gate or bridge, not the street (德胜门, 天桥).
                let next = chars.get(i + len).copied();
                if !(short_street && matches!(next, Some('门' | '桥'))) {
                    out.push(Match {
                        start: i,
                        end: i + len,
                        entry,
                        quality: 1.0,
                    });
                    i += len;
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    /// Lower-confidence matches for misspelt or partial names: the longest prefix (3+ chars)
    /// of names that all lie in one street, or a name (4+ chars) with one character wrong or
    /// missing, its first two characters right.
    fn fuzzy_matches(&self, chars: &[char]) -> Vec<(Match, Option<u32>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if let Some((m, street)) = self.fuzzy_at(chars, i) {
                i = m.end;
                out.push((m, street));
            } else {
                i += 1;
            }
        }
        out
    }

    fn fuzzy_at(&self, chars: &[char], start: usize) -> Option<(Match, Option<u32>)> {
        // One edit: search below the node of the first two characters.
        let mut node = 0usize;
        for &c in chars.get(start..start + 2)? {
            node = self.nodes[node].child(c)? as usize;
        }
        let mut best: Option<(usize, u32)> = None;
        self.one_edit(chars, start + 2, node, 2, true, &mut best);
        if let Some((end, entry)) = best
            && end - start >= 3
        {
            return Some((
                Match {
                    start,
                    end,
                    entry,
                    quality: 0.7,
                },
                None,
            ));
        }
        // A prefix only one street's names share.
        let mut depth = 0;
        let mut node = 0usize;
        let mut last_one = None;
        for &c in &chars[start..] {
            let Some(next) = self.nodes[node].child(c) else {
                break;
            };
            node = next as usize;
            depth += 1;
            if depth >= 3
                && let Reach::One(s) = self.nodes[node].reach
            {
                last_one = Some((depth, s, node));
            }
        }
        let (depth, street, node) = last_one?;
        // A full name here would have been an exact match; this is a strict prefix.
        if self.nodes[node].entry.is_some() {
            return None;
        }
        Some((
            Match {
                start,
                end: start + depth,
                entry: u32::MAX,
                quality: 0.55,
            },
            Some(street),
        ))
    }

    /// Depth-first walk allowing one substituted or one omitted character; records the
    /// longest (end position, entry) of a name of at least 4 characters.
    fn one_edit(
        &self,
        chars: &[char],
        pos: usize,
        node: usize,
        depth: usize,
        edit_left: bool,
        best: &mut Option<(usize, u32)>,
    ) {
        if let Some(e) = self.nodes[node].entry
            && !edit_left
            && depth >= 4
            && best.is_none_or(|(end, _)| pos > end)
        {
            *best = Some((pos, e));
        }
        if depth > 24 {
            return;
        }
        if let Some(&c) = chars.get(pos)
            && let Some(next) = self.nodes[node].child(c)
        {
            self.one_edit(chars, pos + 1, next as usize, depth + 1, edit_left, best);
        }
        if edit_left {
            for &(k, next) in &self.nodes[node].children {
                // Substitution: the text has another character in this place.
                if chars.get(pos).is_some_and(|&c| c != k) {
                    self.one_edit(chars, pos + 1, next as usize, depth + 1, false, best);
                }
                // Omission: the text skipped this character of the name.
                self.one_edit(chars, pos, next as usize, depth + 1, false, best);
            }
        }
    }

    /// Resolve an address or a free text.
    pub fn resolve(&self, text: &str) -> Resolution {
        self.resolve_parts(Some(text), "")
    }

    /// Resolve a request from its address and its text. The address is trusted more: a text
    /// often mentions other places (我在西单上班, 家住…).
    pub fn resolve_parts(&self, address: Option<&str>, text: &str) -> Resolution {
        let mut votes = Votes::default();
        let mut evidence = Vec::new();
        let address = address.map(normalize).unwrap_or_default();
        if let Some(d) = OTHER_DISTRICTS.iter().find(|d| address.contains(**d))
            && !self.district_names.iter().any(|own| address.contains(own))
        {
            evidence.push(format!("地址在{d}, 不属本区"));
            return Resolution {
                street: None,
                community: None,
                evidence,
            };
        }
        // The text counts only when the address names nothing: texts often mention other
        // places (我在西单上班, 去儿童医院看病).
        for (part, factor) in [(address.as_str(), 1.0f32), (text, 0.8)] {
            if part.trim().is_empty() || votes.street_total > 0.0 {
                continue;
            }
            let chars: Vec<char> = normalize(part)
                .chars()
                .filter(|c| !c.is_whitespace())
                .take(MAX_SCAN_CHARS)
                .collect();
            let exact = self.exact_matches(&chars);
            if !exact.is_empty() {
                for m in exact {
                    self.vote(&chars, m, None, factor, &mut votes, &mut evidence);
                }
            } else {
                for (m, street) in self.fuzzy_matches(&chars) {
                    self.vote(&chars, m, street, factor, &mut votes, &mut evidence);
                }
            }
        }
        let (street, community) = votes.decide();
        let street = street.map(|(s, confidence)| Resolved {
            code: self.streets[s as usize].0.clone(),
            name: self.streets[s as usize].1.clone(),
            confidence: round3(confidence),
        });
        let community = community.map(|(c, confidence)| Resolved {
            code: self.communities[c as usize].0.clone(),
            name: self.communities[c as usize].1.clone(),
            confidence: round3(confidence),
        });
        if street.is_none() && !votes.street.is_empty() {
            evidence.push("地点互相矛盾或有歧义, 街道待人工确认".to_string());
        }
        Resolution {
            street,
            community,
            evidence,
        }
    }

    fn vote(
        &self,
        chars: &[char],
        m: Match,
        prefix_street: Option<u32>,
        factor: f32,
        votes: &mut Votes,
        evidence: &mut Vec<String>,
    ) {
        let matched: String = chars[m.start..m.end].iter().collect();
        if let Some(street) = prefix_street {
            votes.add_street(street, 0.9 * m.quality * factor);
            evidence.push(format!(
                "{matched}… (partial name) → {}",
                self.streets[street as usize].1
            ));
            return;
        }
        let Some(entry) = self.entries.get(m.entry as usize) else {
            return;
        };
        let w = entry.weight() * m.quality * factor;
        let total = entry.total().max(1) as f32;
        // One vote per street (a learned name seen in ten communities of one street is still
        // sure of the street), then one per community.
        let mut per_street: Vec<(u32, f32)> = Vec::new();
        let mut shown = Vec::new();
        for (t, n) in &entry.targets {
            let share = *n as f32 / total;
            match per_street.iter_mut().find(|(s, _)| *s == t.street) {
                Some((_, v)) => *v += share,
                None => per_street.push((t.street, share)),
            }
            if let Some(c) = t.community {
                votes.add_community(c, t.street, w * share);
            }
            let mut s = self.streets[t.street as usize].1.clone();
            if let Some(c) = t.community {
                s.push('/');
                s.push_str(&self.communities[c as usize].1);
            }
            shown.push(s);
        }
        for (street, share) in per_street {
            votes.add_street(street, w * share);
        }
        shown.truncate(3);
        let how = if m.quality < 1.0 { ", near match" } else { "" };
        evidence.push(format!(
            "{matched} ({} {}{how}) → {}",
            entry.source.label(),
            entry.kind,
            shown.join(" | ")
        ));
    }
}

/// A street or community index with its confidence, if one was decided.
type Pick = Option<(u32, f32)>;

/// Evidence for streets and communities, each match adding `weight × share` of its targets.
#[derive(Default)]
struct Votes {
    street: HashMap<u32, (f32, f32)>,
    community: HashMap<u32, (f32, f32, u32)>,
    street_total: f32,
}

impl Votes {
    /// Per street: (sum of votes, product of (1 − vote)) so several agreeing matches raise
    /// confidence and disagreeing ones split it.
    fn add_street(&mut self, street: u32, vote: f32) {
        let v = vote.clamp(0.0, 1.0);
        let e = self.street.entry(street).or_insert((0.0, 1.0));
        e.0 += v;
        e.1 *= 1.0 - v;
        self.street_total += v;
    }

    fn add_community(&mut self, community: u32, street: u32, vote: f32) {
        let v = vote.clamp(0.0, 1.0);
        let e = self
            .community
            .entry(community)
            .or_insert((0.0, 1.0, street));
        e.0 += v;
        e.1 *= 1.0 - v;
    }

    fn decide(&self) -> (Pick, Pick) {
        let Some((&street, &(sum, miss))) = self
            .street
            .iter()
            .max_by(|a, b| a.1.0.total_cmp(&b.1.0).then(b.0.cmp(a.0)))
        else {
            return (None, None);
        };
        let share = sum / self.street_total.max(f32::EPSILON);
        let confidence = share * (1.0 - miss);
        if confidence < MIN_CONFIDENCE {
            return (None, None);
        }
        let in_street: Vec<(u32, f32, f32)> = self
            .community
            .iter()
            .filter(|(_, v)| v.2 == street)
            .map(|(&c, v)| (c, v.0, v.1))
            .collect();
        let total: f32 = in_street.iter().map(|x| x.1).sum();
        let community = in_street
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .and_then(|&(c, s, miss)| {
                let conf = ((s / total.max(f32::EPSILON)) * (1.0 - miss)).min(confidence);
                (conf >= MIN_CONFIDENCE).then_some((c, conf))
            });
        (Some((street, confidence)), community)
    }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn strip_suffix_any<'a>(s: &'a str, suffixes: &[&str]) -> Option<&'a str> {
    suffixes.iter().find_map(|suf| s.strip_suffix(suf))
}
