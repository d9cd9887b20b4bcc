//! Finding places: stops by name and near a point, and the gazetteer of everything a
//! person may type instead of coordinates (communes, stations, hospitals, streets,
//! addresses): accent-, case- and typo-tolerant, ranked exact name, then prefix, then
//! every word, then fuzzy; communes first among equals.

use crate::model::geo::{distance_m, LatLon};
use crate::model::places::{AddressStreet, NamedPlace, PlaceKind};
use crate::model::timetable::{StopIdx, Timetable, NONE};
use serde::Serialize;

pub use crate::model::text::normalize;

/// Name index over the stops people search for: stations, and stops without a parent.
#[derive(Debug, Clone, Default)]
pub struct StopIndex {
    entries: Vec<(String, StopIdx)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StopMatch {
    pub stop: StopIdx,
    pub score: u32,
}

impl StopIndex {
    pub fn new(tt: &Timetable) -> Self {
        let served: Vec<bool> = (0..tt.stops.len()).map(|s| !tt.patterns_at(s as StopIdx).is_empty()).collect();
        let mut has_served_child = vec![false; tt.stops.len()];
        for s in 0..tt.stops.len() {
            let p = tt.stops.parent[s];
            if p != NONE && served[s] {
                has_served_child[p as usize] = true;
            }
        }
        let mut entries = Vec::new();
        for s in 0..tt.stops.len() {
            let top = tt.stops.parent[s] == NONE;
            let useful = if tt.stops.is_station[s] { has_served_child[s] } else { top };
            if useful {
                entries.push((normalize(&tt.stops.names[s]), s as StopIdx));
            }
        }
        StopIndex { entries }
    }

    /// Stops whose name has every query word as a word prefix. Ranked: whole-name prefix
    /// first, then shorter names, then name order.
    pub fn search(&self, tt: &Timetable, q: &str, limit: usize) -> Vec<StopMatch> {
        let qn = normalize(q);
        let words: Vec<&str> = qn.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return vec![];
        }
        let mut hits: Vec<(u32, usize, &str, StopIdx)> = Vec::new();
        for (name, s) in &self.entries {
            let name_words: Vec<&str> = name.split(' ').collect();
            if words.iter().all(|w| name_words.iter().any(|nw| nw.starts_with(w))) {
                let score = if name.starts_with(&qn) { 0 } else if name_words.iter().any(|nw| nw.starts_with(words[0])) { 1 } else { 2 };
                hits.push((score, name.len(), name.as_str(), *s));
            }
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)).then(tt.stops.ids[a.3 as usize].cmp(&tt.stops.ids[b.3 as usize])));
        hits.dedup_by(|a, b| a.2 == b.2 && distance_m(tt.stops.coords[a.3 as usize], tt.stops.coords[b.3 as usize]) < 200.0);
        hits.into_iter().take(limit).map(|h| StopMatch { stop: h.3, score: h.0 }).collect()
    }
}

/// One searchable place.
#[derive(Debug, Clone)]
struct Entry {
    place: NamedPlace,
    stop: Option<StopIdx>,
    norm: String,
    /// Words of the name, then of the commune.
    words: Vec<String>,
    name_words: usize,
    /// A street with numbered addresses: its index in the network's address list.
    addr: Option<u32>,
}

/// A search answer.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PlaceHit {
    pub name: String,
    pub kind: PlaceKind,
    /// French label of the kind ("commune", "gare ou station", "hôpital"...).
    pub kind_label: String,
    pub commune: String,
    pub lat: f64,
    pub lon: f64,
    /// Set for stations and stops: routing starts from its stop points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_id: Option<String>,
    /// 0 exact name, 1 name prefix, 2 every word, 3 fuzzy.
    pub score: u8,
    #[serde(skip)]
    pub stop: Option<StopIdx>,
}

/// Everything a person may type instead of coordinates.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    entries: Vec<Entry>,
}

impl Gazetteer {
    /// The stops and stations of `stops`, the network's named places, and the streets of
    /// its numbered addresses (searched for "12 rue de la Gare").
    pub fn new(tt: &Timetable, stops: &StopIndex, places: &[NamedPlace], addresses: &[AddressStreet]) -> Self {
        let mut g = Gazetteer::default();
        for &(_, s) in &stops.entries {
            let kind = if tt.stops.is_station[s as usize] { PlaceKind::Station } else { PlaceKind::Stop };
            g.push(NamedPlace { name: tt.stops.names[s as usize].clone(), kind, commune: String::new(), coord: tt.stops.coords[s as usize] }, Some(s));
        }
        for p in places {
            g.push(p.clone(), None);
        }
        for (i, a) in addresses.iter().enumerate() {
            if let Some(coord) = a.middle() {
                g.push(NamedPlace { name: a.street.clone(), kind: PlaceKind::Street, commune: a.commune.clone(), coord }, None);
                if let Some(e) = g.entries.last_mut().filter(|e| e.place.name == a.street) {
                    e.addr = Some(i as u32);
                }
            }
        }
        g.assign_communes();
        g
    }

    fn push(&mut self, place: NamedPlace, stop: Option<StopIdx>) {
        let norm = normalize(&place.name);
        if norm.is_empty() || !place.coord.is_valid() {
            return;
        }
        let mut words: Vec<String> = norm.split(' ').map(String::from).collect();
        let name_words = words.len();
        words.extend(normalize(&place.commune).split(' ').filter(|w| !w.is_empty()).map(String::from));
        self.entries.push(Entry { place, stop, norm, words, name_words, addr: None });
    }

    /// Adds places (communes, hospitals, job sites of loaded point sets).
    pub fn extend(&mut self, places: impl IntoIterator<Item = NamedPlace>) {
        for p in places {
            self.push(p, None);
        }
        self.assign_communes();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A place without a commune gets the nearest commune's name (within 5 km).
    fn assign_communes(&mut self) {
        let communes: Vec<(LatLon, String)> = self.entries.iter().filter(|e| e.place.kind == PlaceKind::Commune).map(|e| (e.place.coord, e.place.name.clone())).collect();
        if communes.is_empty() {
            return;
        }
        for e in &mut self.entries {
            if e.place.kind == PlaceKind::Commune || !e.place.commune.is_empty() {
                continue;
            }
            let best = communes.iter().map(|(c, n)| (distance_m(*c, e.place.coord), n)).min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, n)) = best.filter(|b| b.0 < 5_000.0) {
                e.place.commune = n.clone();
                e.words.truncate(e.name_words);
                e.words.extend(normalize(n).split(' ').filter(|w| !w.is_empty()).map(String::from));
            }
        }
    }

    /// Entries matching the normalised query, scored (0 exact name, 1 name prefix, 2
    /// every word, 3 fuzzy) and sorted best first.
    fn ranked(&self, qn: &str) -> Vec<(u8, &Entry)> {
        let words: Vec<&str> = qn.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return vec![];
        }
        let close = |w: &str, x: &str| {
            let allowed = match w.chars().count() {
                0..=3 => 0,
                4..=7 => 1,
                _ => 2,
            };
            allowed > 0 && (strsim::osa_distance(w, x) <= allowed || (x.len() > w.len() && strsim::osa_distance(w, &x[..x.char_indices().nth(w.chars().count()).map_or(x.len(), |c| c.0)]) <= allowed))
        };
        let mut hits: Vec<(u8, &Entry)> = Vec::new();
        for e in &self.entries {
            let score = if e.norm == qn {
                0
            } else if e.norm.starts_with(qn) {
                1
            } else if words.iter().all(|w| e.words.iter().any(|x| x.starts_with(w))) {
                2
            } else if words.iter().all(|w| e.words.iter().any(|x| x.starts_with(w) || close(w, x))) {
                3
            } else {
                continue;
            };
            hits.push((score, e));
        }
        hits.sort_by(|a, b| (a.0, a.1.place.kind, a.1.norm.len(), &a.1.norm).cmp(&(b.0, b.1.place.kind, b.1.norm.len(), &b.1.norm)));
        hits
    }

    /// Places matching `q`, best first. A query that starts with a house number ("12 bis
    /// rue de la Gare Lens") gives that address on the matching streets first (or the
    /// nearest number on the same side when it is not listed).
    pub fn search(&self, tt: &Timetable, addresses: &[AddressStreet], q: &str, limit: usize) -> Vec<PlaceHit> {
        let qn = normalize(q);
        let mut out: Vec<PlaceHit> = Vec::new();
        if let Some((number, rest)) = split_house_number(&qn) {
            for (score, e) in self.ranked(rest) {
                let Some(street) = e.addr.and_then(|i| addresses.get(i as usize)) else { continue };
                let Some((n, p)) = street.find(number) else { continue };
                if out.len() >= limit {
                    break;
                }
                out.push(PlaceHit {
                    name: format!("{n} {}", street.street),
                    kind: PlaceKind::Address,
                    kind_label: PlaceKind::Address.label_fr().into(),
                    commune: street.commune.clone(),
                    lat: p.lat,
                    lon: p.lon,
                    stop_id: None,
                    score,
                    stop: None,
                });
            }
        }
        for (score, e) in self.ranked(&qn) {
            if out.len() >= limit {
                break;
            }
            // The same name and kind a few hundred metres apart is one place.
            if out.iter().any(|h| h.kind == e.place.kind && normalize(&h.name) == e.norm && distance_m(LatLon::new(h.lat, h.lon), e.place.coord) < 500.0) {
                continue;
            }
            out.push(PlaceHit {
                name: e.place.name.clone(),
                kind: e.place.kind,
                kind_label: e.place.kind.label_fr().into(),
                commune: e.place.commune.clone(),
                lat: e.place.coord.lat,
                lon: e.place.coord.lon,
                stop_id: e.stop.map(|s| tt.stops.ids[s as usize].clone()),
                score,
                stop: e.stop,
            });
        }
        out
    }
}

/// "12 bis rue de la gare" -> ("12 bis", "rue de la gare"); "12b rue..." -> ("12b", ...).
/// The query is already normalised (lower case, no accents, single spaces).
pub fn split_house_number(qn: &str) -> Option<(&str, &str)> {
    let digits = qn.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 5 {
        return None;
    }
    let first_end = qn.find(' ')?;
    let first = &qn[..first_end];
    if !first[digits..].chars().all(|c| c.is_ascii_alphabetic()) || first.len() - digits > 6 {
        return None;
    }
    let rest = &qn[first_end + 1..];
    for suffix in ["bis ", "ter ", "quater ", "a ", "b ", "c ", "d "] {
        if digits == first.len() && rest.starts_with(suffix) {
            let end = first_end + suffix.len();
            return Some((&qn[..end], &qn[end + 1..]));
        }
    }
    (!rest.is_empty()).then_some((first, rest))
}

/// Served stops within `radius_m` of `p`, nearest first.
pub fn stops_near(tt: &Timetable, p: LatLon, radius_m: f64, limit: usize) -> Vec<(StopIdx, f64)> {
    // A box of the radius first, the great circle only inside it.
    let bbox = crate::model::geo::BBox::around(p, radius_m);
    let mut v: Vec<(StopIdx, f64)> = (0..tt.stops.len() as StopIdx)
        .filter(|&s| bbox.contains(tt.stops.coords[s as usize]))
        .filter(|&s| !tt.patterns_at(s).is_empty())
        .map(|s| (s, distance_m(p, tt.stops.coords[s as usize])))
        .filter(|(_, d)| *d <= radius_m)
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_removes_accents_case_and_punctuation() {
        assert_eq!(normalize("Liévin"), "lievin");
        assert_eq!(normalize("Hénin-Beaumont  (Gare)"), "henin beaumont gare");
        assert_eq!(normalize("Œuvre"), "oeuvre");
    }

    #[test]
    fn the_gazetteer_ranks_exact_then_prefix_then_words_then_typos() {
        let tt = Timetable::default();
        let p = |name: &str, kind, lat: f64| NamedPlace { name: name.into(), kind, commune: String::new(), coord: LatLon::new(lat, 2.8) };
        let g = Gazetteer::new(
            &tt,
            &StopIndex::new(&tt),
            &[
                p("Lens", PlaceKind::Commune, 50.43),
                p("Harnes", PlaceKind::Commune, 50.45),
                p("Hénin-Beaumont", PlaceKind::Commune, 50.42),
                p("CENTRE HOSPITALIER DE LENS", PlaceKind::Hospital, 50.44),
                p("Rue de Lens", PlaceKind::Street, 50.431),
                p("Lensois", PlaceKind::Suburb, 50.432),
            ],
            &[],
        );
        let names = |q: &str| g.search(&tt, &[], q, 10).into_iter().map(|h| (h.name, h.score, h.commune)).collect::<Vec<_>>();
        let lens = names("lens");
        assert_eq!((lens[0].0.as_str(), lens[0].1), ("Lens", 0), "{lens:?}");
        assert_eq!(lens[1].0, "Lensois", "a name prefix comes next: {lens:?}");
        assert!(lens.iter().any(|h| h.0 == "Rue de Lens" && h.1 == 2 && h.2 == "Lens"), "a word match, with its commune: {lens:?}");
        assert_eq!(names("harnes")[0].0, "Harnes");
        assert_eq!(names("henin beaumont")[0].0, "Hénin-Beaumont");
        assert_eq!(names("Centre hospitalier de Lens")[0].1, 0);
        assert_eq!(names("centre hopsitalier lens")[0].0, "CENTRE HOSPITALIER DE LENS", "a typo is forgiven");
        assert_eq!(names("harnse")[0].0, "Harnes");
        assert!(names("xyz").is_empty());
    }

    #[test]
    fn a_house_number_then_a_street_finds_the_address() {
        let tt = Timetable::default();
        assert_eq!(split_house_number("12 bis rue de la gare"), Some(("12 bis", "rue de la gare")));
        assert_eq!(split_house_number("12b rue de la gare"), Some(("12b", "rue de la gare")));
        assert_eq!(split_house_number("3 rue a lens"), Some(("3", "rue a lens")));
        assert_eq!(split_house_number("lens 12"), None);
        assert_eq!(split_house_number("1914 rue"), Some(("1914", "rue")));
        let p = |lat: f64| LatLon::new(lat, 2.83);
        let addresses = AddressStreet::group(vec![
            ("10".to_string(), "Rue de la Gare".to_string(), "Lens".to_string(), p(50.430)),
            ("12".into(), "Rue de la Gare".into(), "Lens".into(), p(50.431)),
            ("12".into(), "Rue de la Gare".into(), "Liévin".into(), p(50.420)),
            ("4".into(), "Avenue Jean Jaurès".into(), "Lens".into(), p(50.433)),
        ]);
        let communes = [NamedPlace { name: "Lens".into(), kind: PlaceKind::Commune, commune: String::new(), coord: p(50.43) }];
        let g = Gazetteer::new(&tt, &StopIndex::new(&tt), &communes, &addresses);
        let hits = g.search(&tt, &addresses, "12 rue de la gare lens", 5);
        assert_eq!((hits[0].name.as_str(), hits[0].kind, hits[0].commune.as_str(), hits[0].lat), ("12 Rue de la Gare", PlaceKind::Address, "Lens", 50.431), "{hits:?}");
        let hits = g.search(&tt, &addresses, "14 rue de la gare", 5);
        assert!(hits.iter().filter(|h| h.kind == PlaceKind::Address).all(|h| h.name == "12 Rue de la Gare"), "the nearest even number: {hits:?}");
        let hits = g.search(&tt, &addresses, "4 av jean jaures", 5);
        assert_eq!(hits[0].name, "4 Avenue Jean Jaurès", "accents and a prefix: {hits:?}");
        let hits = g.search(&tt, &addresses, "rue de la gare", 5);
        assert_eq!((hits[0].kind, hits.len()), (PlaceKind::Street, 2), "without a number, the streets (one per commune): {hits:?}");
    }
}
