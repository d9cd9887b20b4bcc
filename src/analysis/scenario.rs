//! Scenarios: a network change, as data (R5's modifications), applied to a copy of a
//! loaded network — the file on disk and the street graph are never touched.
//!
//! Every modification is resolved first and all errors are reported at once; then they
//! apply in order to the list of trips, which is regrouped into FIFO patterns by the
//! ingest's own code. Stops are only ever appended (a removed stop keeps its index and
//! loses its service), so stop indices, street links and walking tables of the baseline
//! stay valid in the scenario.
//!
//! Frequencies are expanded deterministically (departures at the start of the span, then
//! every headway), in the baseline and in the scenario alike: there are no random
//! offsets, so an unchanged line gives exactly the same times on both sides and an empty
//! scenario changes nothing, bit for bit.

use crate::analysis::targets::PointSet;
use crate::ingest::gtfs::{relayout, trip_drafts, TripDraft};
use crate::model::geo::{distance_m, LatLon};
use crate::model::network::{Footpath, Footpaths};
use crate::model::search::{straight_line_dm, Pace};
use crate::model::streets::Profile;
use crate::model::timetable::{Mode, StopIdx, NONE};
use crate::model::Network;
use crate::route::plan::parse_time;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub modifications: Vec<Modification>,
}

/// A stop of a new route: an existing stop id, or a new stop at a position.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StopRef {
    Existing { stop_id: String },
    New { id: String, name: String, lat: f64, lon: f64 },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Span {
    /// HH:MM.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpportunityPoint {
    pub lat: f64,
    pub lon: f64,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default)]
    pub label: String,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Modification {
    AddRoute {
        /// Namespace of the new ids (default "scenario"); must be a feed of the network
        /// or "scenario".
        #[serde(default)]
        feed: Option<String>,
        route_id: String,
        short_name: String,
        #[serde(default)]
        long_name: String,
        /// bus, tram, rail, coach, subway...
        mode: String,
        #[serde(default)]
        color: String,
        stops: Vec<StopRef>,
        /// Seconds between consecutive stops (n - 1 values), or use `speed_kmh`.
        #[serde(default)]
        running_times_s: Vec<i64>,
        #[serde(default)]
        speed_kmh: Option<f64>,
        #[serde(default)]
        dwell_s: i64,
        /// Minutes between departures over `span`, or explicit `departures`.
        #[serde(default)]
        headway_min: Option<f64>,
        #[serde(default)]
        departures: Vec<String>,
        #[serde(default)]
        span: Option<Span>,
        /// mon, tue, wed, thu, fri, sat, sun (default: weekdays).
        #[serde(default)]
        days: Vec<String>,
        #[serde(default)]
        both_directions: bool,
    },
    AdjustFrequency {
        route_id: String,
        headway_min: f64,
        span: Span,
    },
    RemoveRoute {
        route_id: String,
    },
    RemoveTrips {
        route_id: String,
        #[serde(default)]
        span: Option<Span>,
    },
    RemoveStops {
        stop_ids: Vec<String>,
    },
    AdjustSpeed {
        route_id: String,
        /// Speed multiplier, as Conveyal's `scale`: 2 = twice as fast (running and dwell
        /// times divided by 2), 0.8 = 20 % slower. Departures from the first stop keep
        /// their times.
        scale: f64,
    },
    AddOpportunities {
        set: String,
        points: Vec<OpportunityPoint>,
    },
    RemoveOpportunities {
        set: String,
        /// Remove points within `radius_m` of a position.
        lat: f64,
        lon: f64,
        radius_m: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioErrors(pub Vec<String>);

impl std::fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the scenario is not valid:\n  - {}", self.0.join("\n  - "))
    }
}
impl std::error::Error for ScenarioErrors {}

pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioErrors(vec![format!("{}: {e}", path.display())]))?;
    serde_json::from_str(&text).map_err(|e| ScenarioErrors(vec![format!("{}: {e}", path.display())]))
}

fn route_index(net: &Network, id: &str) -> Option<u32> {
    let r = &net.timetable.routes.ids;
    r.iter().position(|x| x == id).or_else(|| {
        let v: Vec<usize> = (0..r.len()).filter(|&i| r[i].split_once(':').is_some_and(|(_, x)| x == id)).collect();
        (v.len() == 1).then(|| v[0])
    }).map(|i| i as u32)
}

/// The routes a scenario adds, as a GeoJSON FeatureCollection of LineStrings through
/// their stops (in the network the scenario was applied to, where new stops exist).
pub fn added_lines(net: &Network, sc: &Scenario) -> serde_json::Value {
    let mut feats = Vec::new();
    for m in &sc.modifications {
        if let Modification::AddRoute { route_id, short_name, color, stops, .. } = m {
            let coords: Vec<[f64; 2]> = stops
                .iter()
                .filter_map(|s| match s {
                    StopRef::Existing { stop_id } => net.timetable.find_stop(stop_id).map(|i| net.timetable.stops.coords[i as usize]).map(|c| [c.lon, c.lat]),
                    StopRef::New { lat, lon, .. } => Some([*lon, *lat]),
                })
                .collect();
            if coords.len() >= 2 {
                feats.push(serde_json::json!({ "type": "Feature", "properties": { "route_id": route_id, "short_name": short_name, "color": color }, "geometry": { "type": "LineString", "coordinates": coords } }));
            }
        }
    }
    serde_json::json!({ "type": "FeatureCollection", "features": feats })
}

fn secs(s: &str, what: &str, errors: &mut Vec<String>) -> u32 {
    parse_time(s).unwrap_or_else(|| {
        errors.push(format!("{what}: '{s}' is not a time HH:MM"));
        0
    })
}

/// Documented limits on what one scenario may ask for (checked before any work starts,
/// so one request can never expand into unbounded trips or memory).
pub mod limits {
    pub const MAX_MODIFICATIONS: usize = 100;
    /// Minutes between departures.
    pub const HEADWAY_MIN: (f64, f64) = (1.0, 1440.0);
    pub const SPEED_KMH: (f64, f64) = (1.0, 400.0);
    /// Seconds per stop-to-stop link.
    pub const RUNNING_TIME_S: (i64, i64) = (1, 86_400);
    pub const DWELL_S: (i64, i64) = (0, 3_600);
    /// Scale of running times (`adjust_speed`).
    pub const SCALE: (f64, f64) = (0.1, 10.0);
    pub const MAX_STOPS_PER_ROUTE: usize = 500;
    pub const MAX_DEPARTURES: usize = 2_000;
    /// Trips one modification may create (per direction and day pattern).
    pub const MAX_TRIPS_PER_MODIFICATION: u64 = 20_000;
    pub const MAX_IDS: usize = 10_000;
    pub const MAX_POINTS: usize = 100_000;
    pub const RADIUS_M: (f64, f64) = (0.0, 100_000.0);
    /// Problems listed in one answer; the rest are counted.
    pub const MAX_ERRORS_LISTED: usize = 20;
}

fn within<T: PartialOrd>(v: T, (lo, hi): (T, T)) -> bool {
    v >= lo && v <= hi
}

/// A user-given string as quoted in an error: at most 40 characters.
fn excerpt(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(40).collect::<String>())
    }
}

/// Checks every modification against the network; all problems at once (the first
/// [`limits::MAX_ERRORS_LISTED`], then a count).
pub fn validate(net: &Network, sc: &Scenario) -> Result<(), ScenarioErrors> {
    use limits::*;
    let mut e = Vec::new();
    if sc.modifications.len() > MAX_MODIFICATIONS {
        return Err(ScenarioErrors(vec![format!("a scenario has at most {MAX_MODIFICATIONS} modifications, got {}", sc.modifications.len())]));
    }
    let feeds: Vec<&str> = net.timetable.feeds.iter().map(|f| f.namespace.as_str()).collect();
    for (i, m) in sc.modifications.iter().enumerate() {
        let at = format!("modification {} ({})", i + 1, serde_json::to_value(m).ok().and_then(|v| v["type"].as_str().map(|s| s.to_string())).unwrap_or_default());
        let route = |id: &str, e: &mut Vec<String>| {
            if route_index(net, id).is_none() {
                e.push(format!("{at}: unknown route_id '{}'", excerpt(id)));
            }
        };
        match m {
            Modification::AddRoute { feed, stops, running_times_s, speed_kmh, headway_min, departures, span, mode, days, dwell_s, .. } => {
                if let Some(f) = feed {
                    if f != "scenario" && !feeds.contains(&f.as_str()) {
                        e.push(format!("{at}: feed '{f}' is not in the network (feeds: {})", feeds.join(", ")));
                    }
                }
                if stops.len() < 2 || stops.len() > MAX_STOPS_PER_ROUTE {
                    e.push(format!("{at}: a route needs 2 to {MAX_STOPS_PER_ROUTE} stops, got {}", stops.len()));
                }
                for s in stops.iter().take(MAX_STOPS_PER_ROUTE) {
                    match s {
                        StopRef::Existing { stop_id } if net.timetable.find_stop(stop_id).is_none() => e.push(format!("{at}: unknown stop_id '{}'", excerpt(stop_id))),
                        StopRef::New { lat, lon, id, .. } if !LatLon::new(*lat, *lon).is_valid() => e.push(format!("{at}: new stop '{id}' has invalid coordinates")),
                        _ => {}
                    }
                }
                if running_times_s.is_empty() && speed_kmh.is_none() {
                    e.push(format!("{at}: give running_times_s or speed_kmh"));
                }
                if !running_times_s.is_empty() && running_times_s.len() + 1 != stops.len() {
                    e.push(format!("{at}: running_times_s needs {} values (one per stop-to-stop link), got {}", stops.len().saturating_sub(1), running_times_s.len()));
                }
                if running_times_s.iter().any(|t| !within(*t, RUNNING_TIME_S)) {
                    e.push(format!("{at}: running_times_s must be {} to {} seconds per link", RUNNING_TIME_S.0, RUNNING_TIME_S.1));
                }
                if !within(*dwell_s, DWELL_S) {
                    e.push(format!("{at}: dwell_s must be {} to {} seconds", DWELL_S.0, DWELL_S.1));
                }
                if speed_kmh.is_some_and(|v| !within(v, SPEED_KMH)) {
                    e.push(format!("{at}: speed_kmh must be {} to {} km/h", SPEED_KMH.0, SPEED_KMH.1));
                }
                if headway_min.is_none() && departures.is_empty() {
                    e.push(format!("{at}: give headway_min (with span) or departures"));
                }
                if headway_min.is_some_and(|h| !within(h, HEADWAY_MIN)) {
                    e.push(format!("{at}: headway_min must be {} to {} minutes", HEADWAY_MIN.0, HEADWAY_MIN.1));
                }
                if departures.len() > MAX_DEPARTURES {
                    e.push(format!("{at}: at most {MAX_DEPARTURES} departures, got {}", departures.len()));
                    continue;
                }
                if headway_min.is_some() && span.is_none() {
                    e.push(format!("{at}: headway_min needs a span"));
                }
                if let Some(sp) = span {
                    let (a, b) = (secs(&sp.start, &at, &mut e), secs(&sp.end, &at, &mut e));
                    if b <= a {
                        e.push(format!("{at}: span ends before it starts"));
                    }
                    if let Some(h) = headway_min.filter(|h| within(*h, HEADWAY_MIN)) {
                        let trips = (b.saturating_sub(a) as f64 / (h * 60.0)).ceil() as u64;
                        if trips > MAX_TRIPS_PER_MODIFICATION {
                            e.push(format!("{at}: {trips} trips over the span, more than the {MAX_TRIPS_PER_MODIFICATION} one modification may add"));
                        }
                    }
                }
                for d in departures {
                    secs(d, &at, &mut e);
                }
                if Mode::parse(mode).is_none() {
                    e.push(format!("{at}: unknown mode '{mode}'"));
                }
                for d in days {
                    if !["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(&d.as_str()) {
                        e.push(format!("{at}: unknown day '{d}' (mon..sun)"));
                    }
                }
            }
            Modification::AdjustFrequency { route_id, headway_min, span } => {
                route(route_id, &mut e);
                if !within(*headway_min, HEADWAY_MIN) {
                    e.push(format!("{at}: headway_min must be {} to {} minutes", HEADWAY_MIN.0, HEADWAY_MIN.1));
                }
                let (a, b) = (secs(&span.start, &at, &mut e), secs(&span.end, &at, &mut e));
                if b <= a {
                    e.push(format!("{at}: span ends before it starts"));
                } else if within(*headway_min, HEADWAY_MIN) {
                    let trips = ((b - a) as f64 / (headway_min * 60.0)).ceil() as u64;
                    if trips > MAX_TRIPS_PER_MODIFICATION {
                        e.push(format!("{at}: {trips} trips per direction over the span, more than the {MAX_TRIPS_PER_MODIFICATION} one modification may add"));
                    }
                }
            }
            Modification::RemoveRoute { route_id } | Modification::RemoveTrips { route_id, .. } => route(route_id, &mut e),
            Modification::RemoveStops { stop_ids } => {
                if stop_ids.len() > MAX_IDS {
                    e.push(format!("{at}: at most {MAX_IDS} stop_ids, got {}", stop_ids.len()));
                    continue;
                }
                let unknown: Vec<&String> = stop_ids.iter().filter(|s| net.timetable.find_stop(s).is_none()).collect();
                let listed = MAX_ERRORS_LISTED / 2;
                for s in unknown.iter().take(listed) {
                    e.push(format!("{at}: unknown stop_id '{}'", excerpt(s)));
                }
                if unknown.len() > listed {
                    e.push(format!("{at}: ... and {} more unknown stop_ids", unknown.len() - listed));
                }
            }
            Modification::AdjustSpeed { route_id, scale } => {
                route(route_id, &mut e);
                if !within(*scale, SCALE) {
                    e.push(format!("{at}: scale must be {} to {}", SCALE.0, SCALE.1));
                }
            }
            Modification::AddOpportunities { points, .. } => {
                if points.len() > MAX_POINTS {
                    e.push(format!("{at}: at most {MAX_POINTS} points, got {}", points.len()));
                } else if points.iter().any(|p| !LatLon::new(p.lat, p.lon).is_valid() || !(p.weight >= 0.0 && p.weight.is_finite())) {
                    e.push(format!("{at}: points need valid lat/lon and a finite, non-negative weight"));
                }
            }
            Modification::RemoveOpportunities { radius_m, lat, lon, .. } => {
                if !within(*radius_m, RADIUS_M) {
                    e.push(format!("{at}: radius_m must be {} to {} m", RADIUS_M.0, RADIUS_M.1));
                }
                if !LatLon::new(*lat, *lon).is_valid() {
                    e.push(format!("{at}: invalid lat/lon"));
                }
            }
        }
    }
    if e.is_empty() {
        Ok(())
    } else {
        if e.len() > MAX_ERRORS_LISTED {
            let more = e.len() - MAX_ERRORS_LISTED;
            e.truncate(MAX_ERRORS_LISTED);
            e.push(format!("... and {more} more problems"));
        }
        Err(ScenarioErrors(e))
    }
}

/// Departures of trips over a span at a headway: start, start + h, ... < end.
fn spaced(start: u32, end: u32, headway_s: f64) -> Vec<u32> {
    let mut v = Vec::new();
    let mut t = start as f64;
    while (t as u32) < end {
        v.push(t.round() as u32);
        t += headway_s;
    }
    v
}

/// Applies a valid scenario to a copy of the network and to copies of opportunity sets.
pub fn apply(base: &Network, sc: &Scenario, opportunities: &[PointSet]) -> Result<(Network, Vec<PointSet>), ScenarioErrors> {
    validate(base, sc)?;
    let mut net = base.clone();
    let mut opps = opportunities.to_vec();
    if sc.modifications.iter().all(|m| matches!(m, Modification::AddOpportunities { .. } | Modification::RemoveOpportunities { .. })) {
        apply_opportunities(sc, &mut opps);
        return Ok((net, opps));
    }
    let mut drafts = trip_drafts(&net.timetable);
    let mut new_stops: Vec<StopIdx> = Vec::new();
    let mut counter = 0usize;
    let all_days = {
        let cal = net.timetable.calendar();
        (0..cal.n_days).collect::<Vec<u32>>()
    };
    for m in &sc.modifications {
        match m {
            Modification::AddRoute { feed, route_id, short_name, long_name, mode, color, stops, running_times_s, speed_kmh, dwell_s, headway_min, departures, span, days, both_directions } => {
                let ns = feed.clone().unwrap_or_else(|| "scenario".into());
                let tt = &mut net.timetable;
                // Stops.
                let mut seq = Vec::new();
                for s in stops {
                    match s {
                        StopRef::Existing { stop_id } => {
                            let i = base.timetable.find_stop(stop_id).unwrap();
                            // A station stands for its serving stop point of the smallest id
                            // (not of the smallest index: stops are numbered by place).
                            let i = if tt.stops.is_station[i as usize] { base.timetable.serving_stops(i).into_iter().min_by(|&a, &b| tt.stops.ids[a as usize].cmp(&tt.stops.ids[b as usize])).unwrap_or(i) } else { i };
                            seq.push(i);
                        }
                        StopRef::New { id, name, lat, lon } => {
                            let idx = tt.stops.len() as StopIdx;
                            tt.stops.ids.push(format!("{ns}:{id}"));
                            tt.stops.names.push(name.clone());
                            tt.stops.coords.push(LatLon::new(*lat, *lon));
                            tt.stops.parent.push(NONE);
                            tt.stops.is_station.push(false);
                            tt.stops.wheelchair.push(0);
                            tt.stops.feed.push(0);
                            tt.stops.platform.push(String::new());
                            tt.stop_min_change_s.push(0);
                            new_stops.push(idx);
                            seq.push(idx);
                        }
                    }
                }
                // Route.
                let r = tt.routes.ids.len() as u32;
                tt.routes.ids.push(format!("{ns}:{route_id}"));
                tt.routes.short_names.push(short_name.clone());
                tt.routes.long_names.push(long_name.clone());
                tt.routes.modes.push(Mode::parse(mode).unwrap());
                tt.routes.colors.push(color.trim_start_matches('#').to_uppercase());
                tt.routes.brands.push(String::new());
                tt.routes.text_colors.push("FFFFFF".into());
                tt.routes.agency.push(0);
                // Service days.
                let days: Vec<String> = if days.is_empty() { ["mon", "tue", "wed", "thu", "fri"].iter().map(|s| s.to_string()).collect() } else { days.clone() };
                let cal = tt.calendar.as_mut().unwrap();
                let mut set = cal.new_set();
                let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
                for &d in &all_days {
                    let date = cal.base().checked_add(jiff::Span::new().days(d as i64)).unwrap();
                    if days.iter().any(|x| names[date.weekday().to_monday_zero_offset() as usize] == x) {
                        set.set(d, true);
                    }
                }
                let service = cal.intern_scan(&set);
                // Running times.
                let coords: Vec<LatLon> = seq.iter().map(|&s| tt.stops.coords[s as usize]).collect();
                let legs: Vec<u32> = if running_times_s.is_empty() {
                    let v = speed_kmh.unwrap() / 3.6;
                    coords.windows(2).map(|w| (distance_m(w[0], w[1]) * 1.2 / v).round().max(30.0) as u32).collect()
                } else {
                    running_times_s.iter().map(|x| *x as u32).collect()
                };
                let starts: Vec<u32> = match headway_min {
                    Some(h) => {
                        let sp = span.as_ref().unwrap();
                        spaced(parse_time(&sp.start).unwrap(), parse_time(&sp.end).unwrap(), h * 60.0)
                    }
                    None => departures.iter().map(|d| parse_time(d).unwrap()).collect(),
                };
                let mut directions = vec![(seq.clone(), legs.clone())];
                if *both_directions {
                    directions.push((seq.iter().rev().copied().collect(), legs.iter().rev().copied().collect()));
                }
                for (dseq, dlegs) in directions {
                    let headsign = tt.stops.names[*dseq.last().unwrap() as usize].clone();
                    for &t0 in &starts {
                        let (mut arr, mut dep) = (Vec::new(), Vec::new());
                        let mut t = t0;
                        for i in 0..dseq.len() {
                            if i > 0 {
                                t += dlegs[i - 1];
                            }
                            arr.push(t);
                            let dw = if i == 0 || i + 1 == dseq.len() { 0 } else { *dwell_s as u32 };
                            t += dw;
                            dep.push(t);
                        }
                        counter += 1;
                        drafts.push(TripDraft { id: format!("{ns}:{route_id}#{counter}"), route: r, service, headsign: headsign.clone(), wheelchair: 0, shape: NONE, stops: dseq.clone(), flags: vec![0; dseq.len()], arr, dep });
                    }
                }
            }
            Modification::AdjustFrequency { route_id, headway_min, span } => {
                let r = route_index(base, route_id).unwrap();
                let (a, b) = (parse_time(&span.start).unwrap(), parse_time(&span.end).unwrap());
                // Per stop sequence (direction): the trip nearest the span start is the
                // template; every trip leaving within the span is removed and replaced by
                // one every headway, running on every day some trip of that direction ran
                // (the union of their calendars). Both directions are changed.
                let mut groups: std::collections::BTreeMap<Vec<StopIdx>, Vec<usize>> = Default::default();
                for (i, d) in drafts.iter().enumerate() {
                    if d.route == r {
                        groups.entry(d.stops.clone()).or_default().push(i);
                    }
                }
                let mut remove = std::collections::HashSet::new();
                let mut add = Vec::new();
                for (_, idxs) in groups {
                    let in_span: Vec<usize> = idxs.iter().copied().filter(|&i| drafts[i].dep[0] >= a && drafts[i].dep[0] < b).collect();
                    if in_span.is_empty() {
                        continue;
                    }
                    let template = in_span.iter().copied().min_by_key(|&i| drafts[i].dep[0]).unwrap();
                    let cal = net.timetable.calendar.as_mut().unwrap();
                    let mut union = cal.new_set();
                    for &i in &in_span {
                        for day in 0..cal.n_days {
                            if cal.runs(drafts[i].service, day) {
                                union.set(day, true);
                            }
                        }
                    }
                    let service = cal.intern_scan(&union);
                    remove.extend(in_span.iter().copied());
                    let tpl = drafts[template].clone();
                    for t0 in spaced(a, b, headway_min * 60.0) {
                        let off = t0 as i64 - tpl.dep[0] as i64;
                        counter += 1;
                        let mv = |v: &u32| (*v as i64 + off).max(0) as u32;
                        add.push(TripDraft { id: format!("{}~f{counter}", tpl.id), arr: tpl.arr.iter().map(mv).collect(), dep: tpl.dep.iter().map(mv).collect(), service, ..tpl.clone() });
                    }
                }
                let mut i = 0;
                drafts.retain(|_| {
                    i += 1;
                    !remove.contains(&(i - 1))
                });
                drafts.extend(add);
            }
            Modification::RemoveRoute { route_id } => {
                let r = route_index(base, route_id).unwrap();
                drafts.retain(|d| d.route != r);
            }
            Modification::RemoveTrips { route_id, span } => {
                let r = route_index(base, route_id).unwrap();
                let (a, b) = span.as_ref().map(|s| (parse_time(&s.start).unwrap(), parse_time(&s.end).unwrap())).unwrap_or((0, u32::MAX));
                drafts.retain(|d| !(d.route == r && d.dep[0] >= a && d.dep[0] < b));
            }
            Modification::RemoveStops { stop_ids } => {
                let mut gone: std::collections::HashSet<StopIdx> = Default::default();
                for s in stop_ids {
                    let i = base.timetable.find_stop(s).unwrap();
                    gone.extend(base.timetable.serving_stops(i));
                    gone.insert(i);
                }
                for d in drafts.iter_mut() {
                    let keep: Vec<bool> = d.stops.iter().map(|s| !gone.contains(s)).collect();
                    let f = |v: &Vec<u32>| v.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| *x).collect::<Vec<_>>();
                    d.arr = f(&d.arr);
                    d.dep = f(&d.dep);
                    d.flags = d.flags.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| *x).collect();
                    d.stops = d.stops.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| *x).collect();
                }
                drafts.retain(|d| d.stops.len() >= 2);
            }
            Modification::AdjustSpeed { route_id, scale } => {
                let r = route_index(base, route_id).unwrap();
                for d in drafts.iter_mut().filter(|d| d.route == r) {
                    let t0 = d.dep[0] as f64;
                    let sc = |v: &u32| (t0 + (*v as f64 - t0) / scale).round() as u32;
                    d.arr = d.arr.iter().map(sc).collect();
                    d.dep = d.dep.iter().map(sc).collect();
                    d.arr[0] = d.dep[0].min(d.arr[0]);
                }
            }
            Modification::AddOpportunities { .. } | Modification::RemoveOpportunities { .. } => {}
        }
    }
    apply_opportunities(sc, &mut opps);
    relayout(&mut net.timetable, drafts);
    net.timetable.reindex_stops();
    link_new_stops(&mut net, &new_stops);
    net.meta.title = format!("{} + scenario '{}'", base.meta.title, sc.name);
    Ok((net, opps))
}

fn apply_opportunities(sc: &Scenario, opps: &mut [PointSet]) {
    for m in &sc.modifications {
        match m {
            Modification::AddOpportunities { set, points } => {
                if let Some(o) = opps.iter_mut().find(|o| &o.name == set) {
                    for (i, p) in points.iter().enumerate() {
                        o.points.push(LatLon::new(p.lat, p.lon));
                        o.ids.push(format!("scenario-{}", i + 1));
                        o.labels.push(p.label.clone());
                        for (c, col) in o.columns.iter().enumerate() {
                            o.weights[c].push(if col == "count" { 1.0 } else { p.weight });
                        }
                    }
                }
            }
            Modification::RemoveOpportunities { set, lat, lon, radius_m } => {
                if let Some(o) = opps.iter_mut().find(|o| &o.name == set) {
                    let c = LatLon::new(*lat, *lon);
                    let keep: Vec<bool> = o.points.iter().map(|p| distance_m(*p, c) > *radius_m).collect();
                    let f = |v: &Vec<f64>| v.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| *x).collect::<Vec<f64>>();
                    o.weights = o.weights.iter().map(f).collect();
                    o.points = o.points.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| *x).collect();
                    o.ids = o.ids.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| x.clone()).collect();
                    o.labels = o.labels.iter().zip(&keep).filter(|(_, k)| **k).map(|(x, _)| x.clone()).collect();
                }
            }
            _ => {}
        }
    }
}

/// Street links and footpaths for stops a scenario added; existing ones are kept.
fn link_new_stops(net: &mut Network, new_stops: &[StopIdx]) {
    let n = net.timetable.stops.len();
    net.stop_links.resize(n, None);
    if new_stops.is_empty() {
        return;
    }
    let mut lists: Vec<Vec<Footpath>> = (0..n as StopIdx).map(|s| if (s as usize) < net.footpaths.offsets.len() - 1 { net.footpaths.from(s).collect() } else { Vec::new() }).collect();
    let max_dm = Pace::WALK.reach_dm(net.meta.footpath_max_s.max(60));
    for &s in new_stops {
        let c = net.timetable.stops.coords[s as usize];
        if let Some(st) = net.streets.as_ref().filter(|_| net.has_streets()) {
            net.stop_links[s as usize] = st.snap(c, Profile::Walk, 300.0);
        }
        for t in 0..n as StopIdx {
            if t == s || net.timetable.patterns_at(t).is_empty() {
                continue;
            }
            let d = straight_line_dm(c, net.timetable.stops.coords[t as usize]);
            if d <= max_dm {
                lists[s as usize].push(Footpath { to: t, effort_dm: d, min_s: 0 });
                lists[t as usize].push(Footpath { to: s, effort_dm: d, min_s: 0 });
            }
        }
    }
    net.footpaths = Footpaths::from_lists(lists);
}
