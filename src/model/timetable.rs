//! The timetable in RAPTOR layout (Delling, Pajor, Werneck 2012, "Round-Based Public
//! Transit Routing").
//!
//! Invariants, established by `ingest::gtfs` and relied on by `route::raptor`:
//! - a *pattern* is a sequence of stops served by trips that never overtake one another:
//!   trips of a pattern are sorted by departure, and that order holds at every stop;
//! - stop times are pattern-major, then trip-major: the times of trip `t` (0-based within
//!   pattern `p`) at position `i` are at `p.st_offset + t * p.n_stops + i`;
//! - times are seconds after the GTFS time origin of the trip's service day ("noon minus
//!   12 h", so they may exceed 24 h); `arr <= dep` at every position;
//! - string ids exist only in the `*_ids` columns, for the edges of the system.

use super::calendar::Calendar;
use super::geo::LatLon;
use super::streets::Csr;
use serde::{Deserialize, Serialize};

pub type StopIdx = u32;
pub type PatternIdx = u32;
pub type TripIdx = u32;
pub type RouteIdx = u32;
pub const NONE: u32 = u32::MAX;

/// Transit mode of a route, from GTFS `route_type` (basic and extended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Mode {
    Tram,
    Subway,
    Rail,
    Bus,
    Coach,
    Ferry,
    Cable,
    Other,
}

impl Mode {
    pub const ALL: [Mode; 8] = [Mode::Tram, Mode::Subway, Mode::Rail, Mode::Bus, Mode::Coach, Mode::Ferry, Mode::Cable, Mode::Other];
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tram => "tram",
            Mode::Subway => "subway",
            Mode::Rail => "rail",
            Mode::Bus => "bus",
            Mode::Coach => "coach",
            Mode::Ferry => "ferry",
            Mode::Cable => "cable",
            Mode::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Agency {
    pub name: String,
    pub feed: u16,
}

/// One loaded GTFS feed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedMeta {
    /// Namespace prefixed to every id of this feed (`ter`, `tadao`...).
    pub namespace: String,
    pub source: String,
    pub timezone: String,
    /// First and last service day, `YYYY-MM-DD`.
    pub start_date: String,
    pub end_date: String,
    pub n_trips: u32,
}

/// Stops, one column per field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stops {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub coords: Vec<LatLon>,
    /// Parent station (StopArea), or NONE.
    pub parent: Vec<StopIdx>,
    /// True for stations (location_type 1), which no trip serves directly.
    pub is_station: Vec<bool>,
    /// GTFS wheelchair_boarding: 0 unknown, 1 yes, 2 no (inherited from the parent when 0).
    pub wheelchair: Vec<u8>,
    pub feed: Vec<u16>,
    /// GTFS platform_code ("voie 3"), empty when the feed gives none.
    pub platform: Vec<String>,
}

impl Stops {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Routes {
    pub ids: Vec<String>,
    pub short_names: Vec<String>,
    pub long_names: Vec<String>,
    pub modes: Vec<Mode>,
    /// `RRGGBB`, empty when the feed gives none.
    pub colors: Vec<String>,
    pub text_colors: Vec<String>,
    pub agency: Vec<u32>,
    /// Commercial service where the feed's `route_type` does not tell it (the SNCF feed
    /// gives 2 to every train): `TER`, `Intercités`, `TGV INOUI`, `OUIGO`, `Car TER`...;
    /// empty when nothing more than the mode is known.
    #[serde(default)]
    pub brands: Vec<String>,
}

/// The commercial service an SNCF stop point id names (`StopPoint:OCETrain TER-87345025`
/// -> `TER`, `OCETGV INOUI-` -> `TGV INOUI`, `OCECar TER-` -> `Car TER`).
pub fn brand_from_stop_id(id: &str, mode: Mode) -> Option<String> {
    let rest = &id[id.find("StopPoint:OCE")? + "StopPoint:OCE".len()..];
    let commercial = rest.split('-').next()?.trim();
    if commercial.is_empty() {
        return None;
    }
    let b = brand_of(mode, "", commercial, "");
    Some(if b.is_empty() { commercial.to_string() } else { b })
}

/// The commercial service of a route, from its agency and route names (see
/// [`Routes::brands`]). Word matches, upper-cased and accent-free.
pub fn brand_of(mode: Mode, agency: &str, short_name: &str, long_name: &str) -> String {
    let hay = super::text::normalize(&format!("{agency} {short_name} {long_name}")).to_uppercase();
    let words: Vec<&str> = hay.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    let rail = matches!(mode, Mode::Rail | Mode::Subway);
    let coach = has("CAR") || has("AUTOCAR") || !rail && !matches!(mode, Mode::Tram | Mode::Other);
    let brand = if has("OUIGO") {
        "OUIGO"
    } else if has("INOUI") || has("TGV") {
        "TGV INOUI"
    } else if has("LYRIA") {
        "TGV Lyria"
    } else if has("EUROSTAR") || has("THALYS") {
        "Eurostar"
    } else if has("INTERCITES") || has("INTERCITE") || has("IC") && rail {
        "Intercités"
    } else if has("TER") || has("TERGV") {
        if coach { "Car TER" } else { "TER" }
    } else if has("TRANSILIEN") {
        "Transilien"
    } else if has("TRAMTRAIN") {
        "Tram-train"
    } else {
        ""
    };
    brand.to_string()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trips {
    pub ids: Vec<String>,
    pub service: Vec<u32>,
    pub headsigns: Vec<String>,
    /// GTFS wheelchair_accessible: 0 unknown, 1 yes, 2 no.
    pub wheelchair: Vec<u8>,
    /// Index into `Timetable::shapes`, or NONE.
    pub shape: Vec<u32>,
    pub pattern: Vec<PatternIdx>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Pattern {
    pub route: RouteIdx,
    pub stop_offset: u32,
    pub n_stops: u32,
    pub trip_offset: u32,
    pub n_trips: u32,
    pub st_offset: u32,
}

/// Pickup / drop-off flags per pattern position.
pub const NO_PICKUP: u8 = 1;
pub const NO_DROP_OFF: u8 = 2;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Timetable {
    pub feeds: Vec<FeedMeta>,
    pub agencies: Vec<Agency>,
    pub calendar: Option<Calendar>,
    /// Time zone of the network (the first feed's); all feeds are shifted to it.
    pub timezone: String,
    pub stops: Stops,
    pub routes: Routes,
    pub trips: Trips,
    pub patterns: Vec<Pattern>,
    pub pattern_stops: Vec<StopIdx>,
    pub pattern_flags: Vec<u8>,
    pub arrivals: Vec<u32>,
    pub departures: Vec<u32>,
    /// stop -> (pattern, position) as CSR.
    pub stop_patterns_offsets: Vec<u32>,
    pub stop_patterns: Vec<(PatternIdx, u32)>,
    /// Minimum change time at a stop from `transfers.txt` (from = to), seconds.
    pub stop_min_change_s: Vec<u32>,
    /// Shapes as CSR of coordinates.
    pub shape_offsets: Vec<u32>,
    pub shape_points: Vec<LatLon>,
    /// Stop lookups derived from `stops`, built on first use (not in the network file).
    #[serde(skip)]
    stop_lookup: StopLookupCache,
}

/// Stop lookups derived from [`Stops`]: ids in order, and each station's stops.
#[derive(Debug, Default)]
struct StopLookup {
    /// The number of stops it was built for.
    n: usize,
    /// Stop indices by id (stable: the first of equal ids first, as a scan finds it).
    ids_sorted: Vec<StopIdx>,
    /// Station -> its stops (parent -> children).
    children: Csr,
}

/// The [`StopLookup`] of a timetable, built once on first use. A clone starts empty (a
/// timetable cloned to be changed, as scenarios do, builds its own), and it takes no part
/// in comparisons. Lookups scan instead when stops were added since it was built.
#[derive(Default)]
struct StopLookupCache(std::sync::OnceLock<StopLookup>);

impl Clone for StopLookupCache {
    fn clone(&self) -> Self {
        StopLookupCache::default()
    }
}
impl PartialEq for StopLookupCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl std::fmt::Debug for StopLookupCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StopLookupCache")
    }
}

#[cfg(test)]
mod brand_tests {
    use super::*;

    /// mode | agency | short | long | stop id -> brand
    #[test]
    fn brands_from_names_and_sncf_stop_ids() {
        for (mode, agency, short, long, want) in [
            (Mode::Rail, "TER Hauts-de-France", "K50", "Béthune - Lille", "TER"),
            (Mode::Rail, "SNCF VOYAGEURS", "", "INTERCITÉS Paris - Boulogne", "Intercités"),
            (Mode::Rail, "OUIGO", "", "", "OUIGO"),
            (Mode::Rail, "SNCF", "TGV INOUI", "", "TGV INOUI"),
            (Mode::Coach, "SNCF", "Car TER", "", "Car TER"),
            (Mode::Bus, "TADAO", "B1", "Bulle 1", ""),
            (Mode::Rail, "SNCF VOYAGEURS", "K50", "Lille - Béthune", ""),
            (Mode::Rail, "Terres du Nord", "", "", ""),
        ] {
            assert_eq!(brand_of(mode, agency, short, long), want, "{agency} {short} {long}");
        }
        for (id, mode, want) in [
            ("ter:StopPoint:OCETrain TER-87345025", Mode::Rail, Some("TER")),
            ("sncf:StopPoint:OCECar TER-87345025", Mode::Bus, Some("Car TER")),
            ("sncf:StopPoint:OCETGV INOUI-87286005", Mode::Rail, Some("TGV INOUI")),
            ("sncf:StopPoint:OCEINTERCITES-87286005", Mode::Rail, Some("Intercités")),
            ("sncf:StopPoint:OCEOUIGO-87286005", Mode::Rail, Some("OUIGO")),
            ("sncf:StopPoint:OCENavette-87286005", Mode::Bus, Some("Navette")),
            ("tadao:LENS_GARE", Mode::Bus, None),
        ] {
            assert_eq!(brand_from_stop_id(id, mode).as_deref(), want, "{id}");
        }
    }
}

impl Timetable {
    pub fn calendar(&self) -> &Calendar {
        self.calendar.as_ref().expect("timetable with a calendar")
    }
    pub fn pattern_stops(&self, p: PatternIdx) -> &[StopIdx] {
        let pat = &self.patterns[p as usize];
        &self.pattern_stops[pat.stop_offset as usize..(pat.stop_offset + pat.n_stops) as usize]
    }
    pub fn pattern_flags(&self, p: PatternIdx) -> &[u8] {
        let pat = &self.patterns[p as usize];
        &self.pattern_flags[pat.stop_offset as usize..(pat.stop_offset + pat.n_stops) as usize]
    }
    /// Global trip index of the `t`-th trip of pattern `p`.
    pub fn trip_of(&self, p: PatternIdx, t: u32) -> TripIdx {
        self.patterns[p as usize].trip_offset + t
    }
    #[inline]
    pub fn st_index(&self, p: PatternIdx, t: u32, pos: u32) -> usize {
        let pat = &self.patterns[p as usize];
        (pat.st_offset + t * pat.n_stops + pos) as usize
    }
    pub fn patterns_at(&self, s: StopIdx) -> &[(PatternIdx, u32)] {
        let a = self.stop_patterns_offsets[s as usize] as usize;
        let b = self.stop_patterns_offsets[s as usize + 1] as usize;
        &self.stop_patterns[a..b]
    }
    pub fn n_stop_times(&self) -> usize {
        self.arrivals.len()
    }
    pub fn shape(&self, shape: u32) -> &[LatLon] {
        if shape == NONE {
            return &[];
        }
        let a = self.shape_offsets[shape as usize] as usize;
        let b = self.shape_offsets[shape as usize + 1] as usize;
        &self.shape_points[a..b]
    }
    /// Renumbers the stops (before any pattern refers to them): the stop now at index `i`
    /// is the one at `order[i]` before. Returns the new index of each old one, for the
    /// references the caller holds.
    pub fn reorder_stops(&mut self, order: &[usize]) -> Vec<StopIdx> {
        assert!(self.patterns.is_empty() && self.stop_min_change_s.is_empty(), "stops are reordered before the patterns are built");
        assert_eq!(order.len(), self.stops.len());
        let mut new_of = vec![NONE; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of[old] = new as StopIdx;
        }
        fn permute<T: Clone>(v: &mut Vec<T>, order: &[usize]) {
            *v = order.iter().map(|&o| v[o].clone()).collect();
        }
        let s = &mut self.stops;
        permute(&mut s.ids, order);
        permute(&mut s.names, order);
        permute(&mut s.coords, order);
        permute(&mut s.parent, order);
        permute(&mut s.is_station, order);
        permute(&mut s.wheelchair, order);
        permute(&mut s.feed, order);
        permute(&mut s.platform, order);
        for p in &mut s.parent {
            if *p != NONE {
                *p = new_of[*p as usize];
            }
        }
        self.reindex_stops();
        new_of
    }
    /// Builds the stop lookups now (a server, before its first request).
    pub fn index_stops(&self) {
        self.stop_lookup();
    }
    /// The stop lookups, built on first use; `None` when stops were added since (lookups
    /// then scan).
    fn stop_lookup(&self) -> Option<&StopLookup> {
        let n = self.stops.len();
        let ix = self.stop_lookup.0.get_or_init(|| {
            let stops = &self.stops;
            let mut ids_sorted: Vec<StopIdx> = (0..n as StopIdx).collect();
            ids_sorted.sort_by(|&a, &b| stops.ids[a as usize].cmp(&stops.ids[b as usize]));
            let children = Csr::from_edges(n, (0..n as StopIdx).filter(|&c| stops.parent[c as usize] != NONE).map(|c| (stops.parent[c as usize], c, 0, 0)).collect());
            StopLookup { n, ids_sorted, children }
        });
        (ix.n == n).then_some(ix)
    }
    /// Drops the stop lookups after stops were added, or their ids, parents or station
    /// flags changed in place (built again on the next lookup). Needed after an in-place
    /// change: only added stops are noticed without it (lookups then scan).
    pub fn reindex_stops(&mut self) {
        self.stop_lookup = StopLookupCache::default();
    }
    /// Index of a stop by its namespaced id (the first, should ids repeat).
    pub fn stop_by_id(&self, id: &str) -> Option<StopIdx> {
        match self.stop_lookup() {
            Some(ix) => {
                let i = ix.ids_sorted.partition_point(|&s| self.stops.ids[s as usize].as_str() < id);
                ix.ids_sorted.get(i).copied().filter(|&s| self.stops.ids[s as usize] == id)
            }
            None => self.stops.ids.iter().position(|s| s == id).map(|i| i as StopIdx),
        }
    }
    /// A stop by its namespaced id, or by an id without namespace unique across feeds
    /// (`LENS_GARE` for `tadao:LENS_GARE`).
    pub fn find_stop(&self, id: &str) -> Option<StopIdx> {
        self.stop_by_id(id).or_else(|| {
            let mut v = (0..self.stops.len() as StopIdx).filter(|&s| self.stops.ids[s as usize].split_once(':').is_some_and(|(_, rest)| rest == id));
            match (v.next(), v.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        })
    }
    /// The stops that serve stop `s`: itself, or the children of a station.
    pub fn serving_stops(&self, s: StopIdx) -> Vec<StopIdx> {
        if !self.stops.is_station[s as usize] {
            return vec![s];
        }
        match self.stop_lookup() {
            Some(ix) => ix.children.edges(s).map(|e| ix.children.targets[e]).collect(),
            None => (0..self.stops.len() as u32).filter(|&c| self.stops.parent[c as usize] == s).collect(),
        }
    }
    /// Service-day mask table for a query day (see `Calendar::masks_around`).
    pub fn masks_for(&self, day: i64) -> Vec<u8> {
        self.calendar().masks_around(day)
    }
}

#[cfg(test)]
mod stop_lookup_tests {
    use super::*;

    fn stop(tt: &mut Timetable, id: &str, parent: StopIdx, station: bool) -> StopIdx {
        tt.stops.ids.push(id.into());
        tt.stops.names.push(id.into());
        tt.stops.coords.push(LatLon::new(50.4, 2.8));
        tt.stops.parent.push(parent);
        tt.stops.is_station.push(station);
        tt.stops.wheelchair.push(0);
        tt.stops.feed.push(0);
        tt.stops.platform.push(String::new());
        (tt.stops.len() - 1) as StopIdx
    }

    /// Lookups by id and station, before and after stops are added to a built index, and
    /// in a clone (which builds its own).
    #[test]
    fn lookups_follow_added_stops() {
        let mut tt = Timetable::default();
        let area = stop(&mut tt, "ter:area", NONE, true);
        let b = stop(&mut tt, "tadao:B", NONE, false);
        let a1 = stop(&mut tt, "ter:a1", area, false);
        let a2 = stop(&mut tt, "ter:a2", area, false);
        assert_eq!(tt.stop_by_id("ter:a2"), Some(a2));
        assert_eq!(tt.find_stop("B"), Some(b));
        assert_eq!(tt.find_stop("nothing"), None);
        assert_eq!(tt.serving_stops(area), vec![a1, a2]);
        assert_eq!(tt.serving_stops(b), vec![b]);
        // Added after the index was built: found by a scan, then by the rebuilt index.
        let a3 = stop(&mut tt, "ter:a3", area, false);
        let b2 = stop(&mut tt, "ter:B", NONE, false);
        for _ in 0..2 {
            assert_eq!(tt.stop_by_id("ter:a3"), Some(a3));
            assert_eq!(tt.serving_stops(area), vec![a1, a2, a3]);
            assert_eq!(tt.find_stop("B"), None, "two feeds have B");
            assert_eq!(tt.find_stop("ter:B"), Some(b2));
            tt.reindex_stops();
        }
        let mut copy = tt.clone();
        assert_eq!(copy, tt);
        copy.stops.parent[b as usize] = area;
        assert_eq!(copy.serving_stops(area), vec![b, a1, a2, a3]);
        assert_eq!(tt.serving_stops(area), vec![a1, a2, a3]);
    }
}
