//! Finding stops: by name (accent- and case-insensitive, prefix of any word), near a point.

use crate::model::geo::{distance_m, LatLon};
use crate::model::timetable::{StopIdx, Timetable, NONE};

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

/// Served stops within `radius_m` of `p`, nearest first.
pub fn stops_near(tt: &Timetable, p: LatLon, radius_m: f64, limit: usize) -> Vec<(StopIdx, f64)> {
    let mut v: Vec<(StopIdx, f64)> = (0..tt.stops.len() as StopIdx)
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
}
