//! Journey planning: a request is validated into a resolved query (snapped points, stop
//! indices, service day), street searches give access and egress, RAPTOR runs forward
//! (depart at) or backward (arrive by), and raw journeys become itineraries with legs,
//! names, colours and geometry. The CLI and the HTTP API both call [`Router::plan`].

use super::places::StopIndex;
use super::raptor::{DayContext, Raptor, RaptorParams, RawLeg, StopTime, Time, TransitView, INF, MIRROR};
use crate::model::search::{cost_to_snap, hierarchy_route, seeds_from, straight_line_dm, Pace, StreetSearch, UNREACHED};
use crate::model::geo::{distance_m, LatLon};
use crate::model::network::Network;
use crate::model::streets::{Profile, Snap, StreetStep, WALK_SPEED_MPS};
use crate::model::timetable::{Mode, StopIdx};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// A validation or lookup failure, with a stable machine code and an HTTP status.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QueryError {
    /// What kind of failure (the server maps it to an HTTP status; the CLI to a message).
    #[serde(skip)]
    pub kind: ErrorKind,
    /// Stable machine code (`date_outside_validity`, `too_big`...).
    pub error: &'static str,
    pub message: String,
}

/// Kinds of request failure, independent of any protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request cannot be read (bad value, missing parameter).
    Invalid,
    /// Something named does not exist (stop, scenario, opportunity set).
    NotFound,
    /// Well-formed but not answerable: over a limit, outside the area or validity.
    Unprocessable,
    Forbidden,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// Busy, or over the time a request may take: try again later or ask for less.
    Unavailable,
    /// A bug.
    Internal,
}

impl QueryError {
    pub fn new(kind: ErrorKind, error: &'static str, message: impl Into<String>) -> Self {
        QueryError { kind, error, message: message.into() }
    }
    pub fn bad(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, error, message)
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.error)
    }
}
impl std::error::Error for QueryError {}

/// An origin or destination.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    Coord(LatLon),
    Stop(String),
}

impl Place {
    /// `lat,lon`, a stop id or a place name (resolved by the router).
    pub fn parse(s: &str, what: &str) -> Result<Place, QueryError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(QueryError::bad("missing_parameter", format!("'{what}' is required: give lat,lon, a stop id or a place name")));
        }
        if let Some((a, b)) = s.split_once(',') {
            if let (Ok(lat), Ok(lon)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
                let p = LatLon::new(lat, lon);
                if !p.is_valid() {
                    return Err(QueryError::bad("invalid_coordinates", format!("'{what}' = {s} is not a valid latitude,longitude")));
                }
                return Ok(Place::Coord(p));
            }
            // "50.4,abc" is a broken coordinate; "12 rue Jean Jaurès, Liévin" a name.
            if a.trim().parse::<f64>().is_ok() {
                return Err(QueryError::bad("invalid_coordinates", format!("'{what}' = {s} is not a valid latitude,longitude")));
            }
        }
        Ok(Place::Stop(s.to_string()))
    }
}

/// Street mode used to reach the first station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessMode {
    Walk,
    Bike,
}

#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub from: Place,
    pub to: Place,
    pub date: jiff::civil::Date,
    /// Seconds after midnight (local wall clock).
    pub time_s: u32,
    pub arrive_by: bool,
    /// Allowed transit modes (bit set of `Mode::bit`); 0 = walking/cycling only.
    pub modes: u8,
    /// Longest walk for access or egress, seconds.
    pub max_walk_s: u32,
    /// Longest walk between two rides, seconds (None: `max_walk_s`).
    pub max_transfer_walk_s: Option<u32>,
    /// Change time after each ride, seconds.
    pub transfer_slack_s: u32,
    /// Also give each leg's line as an encoded polyline.
    pub polyline: bool,
    pub walk_speed_mps: f64,
    pub access: AccessMode,
    pub wheelchair: bool,
    pub max_transfers: u32,
    pub num_itineraries: usize,
    /// Departure (or arrival) window searched for successive options, seconds.
    pub window_s: u32,
}

impl PlanRequest {
    pub fn new(from: Place, to: Place, date: jiff::civil::Date, time_s: u32) -> Self {
        PlanRequest {
            from,
            to,
            date,
            time_s,
            arrive_by: false,
            modes: RaptorParams::all_modes(),
            max_walk_s: 15 * 60,
            max_transfer_walk_s: None,
            transfer_slack_s: crate::route::raptor::DEFAULT_TRANSFER_SLACK_S,
            polyline: false,
            walk_speed_mps: WALK_SPEED_MPS,
            access: AccessMode::Walk,
            wheelchair: false,
            max_transfers: 5,
            num_itineraries: 3,
            window_s: 2 * 3600,
        }
    }
}

/// Limits enforced on requests.
pub const MAX_WINDOW_S: u32 = 12 * 3600;
pub const MAX_ITINERARIES: usize = 10;
pub const MAX_TRANSFERS: u32 = 8;
pub const MAX_WALK_S: u32 = 3600;
/// A point farther than this from the network is "outside the area".
pub const MAX_SNAP_M: f64 = 2000.0;

/// An origin and a destination closer than this are the same place: no journey.
pub const SAME_PLACE_M: f64 = 100.0;

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct PlaceOut {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_id: Option<String>,
    /// The stop's platform (GTFS platform_code), when the feed gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct RouteOut {
    pub id: String,
    pub short_name: String,
    pub long_name: String,
    pub color: String,
    pub text_color: String,
    pub agency: String,
    /// Commercial service (`TER`, `Intercités`, `TGV INOUI`...), empty when unknown.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub brand: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct StopCall {
    pub stop_id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub arrival: String,
    pub departure: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Leg {
    /// walk, bike, bus, tram, rail, coach, subway, ferry, cable, other.
    pub mode: String,
    pub from: PlaceOut,
    pub to: PlaceOut,
    /// Local date-time with offset, RFC 3339.
    pub start_time: String,
    pub end_time: String,
    pub duration_s: u32,
    pub distance_m: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trip_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headsign: Option<String>,
    /// Name of the trip's last stop ("direction Lille Flandres").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub intermediate_stops: Vec<StopCall>,
    /// [lon, lat] pairs, written as a GeoJSON LineString (RFC 7946).
    #[serde(serialize_with = "as_linestring")]
    #[schemars(with = "LineString")]
    pub geometry: Vec<[f64; 2]>,
    /// The same line as an encoded polyline (precision 5), when the request asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polyline: Option<String>,
    /// Walking and cycling legs on streets: the streets followed, in order, with the
    /// metres on each (OSM way names; no name for unnamed paths).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<crate::model::streets::StreetStep>,
}

/// The schema of a leg's geometry as written: a GeoJSON LineString (RFC 7946).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct LineString {
    r#type: LineStringType,
    /// [lon, lat] pairs.
    coordinates: Vec<[f64; 2]>,
}
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum LineStringType {
    LineString,
}

fn as_linestring<S: serde::Serializer>(coords: &[[f64; 2]], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(2))?;
    m.serialize_entry("type", "LineString")?;
    m.serialize_entry("coordinates", coords)?;
    m.end()
}

/// Google's encoded polyline algorithm (precision 5), [lon, lat] pairs in.
pub fn encode_polyline(coords: &[[f64; 2]]) -> String {
    let mut out = String::new();
    let (mut plat, mut plon) = (0i64, 0i64);
    let put = |v: i64, out: &mut String| {
        let mut v = if v < 0 { !(v << 1) } else { v << 1 };
        while v >= 0x20 {
            out.push(char::from((((v & 0x1f) | 0x20) + 63) as u8));
            v >>= 5;
        }
        out.push(char::from((v + 63) as u8));
    };
    for c in coords {
        let (lat, lon) = ((c[1] * 1e5).round() as i64, (c[0] * 1e5).round() as i64);
        put(lat - plat, &mut out);
        put(lon - plon, &mut out);
        plat = lat;
        plon = lon;
    }
    out
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Itinerary {
    pub start_time: String,
    pub end_time: String,
    pub duration_s: u32,
    pub transfers: u32,
    pub walk_distance_m: f64,
    pub walk_duration_s: u32,
    pub legs: Vec<Leg>,
    /// Internal: absolute times for sorting and tests (seconds from the query day origin).
    #[serde(skip)]
    pub start_s: i64,
    #[serde(skip)]
    pub end_s: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct PlanResponse {
    pub from: PlaceOut,
    pub to: PlaceOut,
    pub date: String,
    pub time: String,
    pub arrive_by: bool,
    /// Itineraries using transit, best first (by arrival for depart-at, by departure
    /// for arrive-by).
    pub itineraries: Vec<Itinerary>,
    /// Street-only alternatives (walking, cycling) when reasonable.
    pub direct: Vec<Itinerary>,
    /// Set when nothing was found, in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why there is no transit journey within the request's limits, as a stable code:
    /// `no_transit_within_walk` (the itineraries given need `walk_extended_min` minutes of
    /// walking at an end) or `no_transit` (none even with an hour of walking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The walking limit the itineraries given were found with, when longer than asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk_extended_min: Option<u32>,
}

/// Everything needed to answer queries on one network; shared by threads.
pub struct Router {
    pub net: Arc<Network>,
    pub forward: TransitView,
    pub backward: TransitView,
    pub stop_index: StopIndex,
    /// Names people type: stops, communes, hospitals, streets, addresses.
    pub places: super::places::Gazetteer,
    /// Street node -> stops linked to an edge touching it (CSR).
    node_stops_offsets: Vec<u32>,
    node_stops: Vec<StopIdx>,
    /// The service-day tables of the last dates asked (a query's calendar masks take
    /// one pass over every service; most queries ask today).
    days: Mutex<Vec<Arc<DayContext>>>,
    scratch: Mutex<Vec<Scratch>>,
}

/// Per-query scratch state, pooled.
#[derive(Default)]
pub struct Scratch {
    pub raptor: Raptor,
    pub access: StreetSearch,
    pub egress: StreetSearch,
    /// Point-to-point search state on the walk and bike hierarchies, made on first use.
    pub hierarchy: [Option<fast_paths::PathCalculator>; 2],
}

/// A typed place resolved: a stop, or a position with its name.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Stop(StopIdx),
    Point(LatLon, String),
}

fn normalize_eq(a: &str, b: &str) -> bool {
    super::places::normalize(a) == super::places::normalize(b)
}

/// Access or egress of a resolved endpoint.
#[derive(Debug, Clone)]
struct Endpoint {
    point: LatLon,
    name: String,
    stop_id: Option<String>,
    snap: Option<Snap>,
    /// (stop, seconds, metres).
    stops: Vec<(StopIdx, u32, f64)>,
    /// For a stop endpoint: the serving stops themselves.
    is_stop: bool,
}

impl Endpoint {
    fn place_out(&self) -> PlaceOut {
        PlaceOut { name: self.name.clone(), stop_id: self.stop_id.clone(), platform: None, lat: self.point.lat, lon: self.point.lon }
    }
}

impl Router {
    pub fn new(net: Network) -> Self {
        let forward = TransitView::forward(&net);
        let backward = TransitView::backward(&net);
        let stop_index = StopIndex::new(&net.timetable);
        let places = super::places::Gazetteer::new(&net.timetable, &stop_index, &net.places, &net.addresses);
        let n_nodes = net.streets.as_ref().map(|s| s.n_nodes()).unwrap_or(0);
        let mut lists: Vec<Vec<StopIdx>> = vec![Vec::new(); n_nodes];
        for (s, l) in net.stop_links.iter().enumerate() {
            if let Some(snap) = l {
                lists[snap.a as usize].push(s as StopIdx);
                if snap.b != snap.a {
                    lists[snap.b as usize].push(s as StopIdx);
                }
            }
        }
        let mut node_stops_offsets = vec![0u32];
        let mut node_stops = Vec::new();
        for l in lists {
            node_stops.extend(l);
            node_stops_offsets.push(node_stops.len() as u32);
        }
        if let Some(s) = &net.streets {
            s.warm_up();
        }
        // Stop ids and stations looked up by requests: indexed before the first one.
        net.timetable.index_stops();
        Router { net: Arc::new(net), forward, backward, stop_index, places, node_stops_offsets, node_stops, days: Mutex::new(Vec::new()), scratch: Mutex::new(Vec::new()) }
    }

    /// The service-day context of `date`, shared with the other queries of that date.
    pub fn day_context(&self, date: jiff::civil::Date) -> Arc<DayContext> {
        if let Some(d) = self.days.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|d| d.date() == date) {
            return d.clone();
        }
        // Built outside the lock (other dates' queries do not wait for it).
        let d = Arc::new(DayContext::new(&self.net, date));
        let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        if days.len() >= 4 {
            days.remove(0);
        }
        days.push(d.clone());
        d
    }

    /// Stops linked to a street edge touching node `v`.
    pub fn stops_at_node(&self, v: u32) -> &[StopIdx] {
        &self.node_stops[self.node_stops_offsets[v as usize] as usize..self.node_stops_offsets[v as usize + 1] as usize]
    }

    pub fn with_scratch<R>(&self, f: impl FnOnce(&mut Scratch) -> R) -> R {
        let mut s = self.scratch.lock().unwrap().pop().unwrap_or_default();
        let r = f(&mut s);
        // Keep as many as the machine runs at once; the extra ones of a burst are freed,
        // so that memory after a burst comes back to where it was.
        let mut pool = self.scratch.lock().unwrap();
        static KEPT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        if pool.len() < *KEPT.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()) * 2) {
            pool.push(s);
        }
        r
    }

    /// Adds named places (a server's communes, hospitals, job sites).
    pub fn add_places(&mut self, places: impl IntoIterator<Item = crate::model::places::NamedPlace>) {
        self.places.extend(places);
    }

    /// What a typed `from`/`to` stands for: a stop id, else the best place of that name
    /// (a station or stop routes from its stop points; anything else from its position).
    pub fn resolve_text(&self, text: &str, which: &str) -> Result<Resolved, QueryError> {
        if let Ok(s) = self.resolve_stop(text) {
            return Ok(Resolved::Stop(s));
        }
        match self.places.search(&self.net.timetable, &self.net.addresses, text, 1).into_iter().next() {
            Some(h) => Ok(match h.stop {
                Some(s) => Resolved::Stop(s),
                None => Resolved::Point(LatLon::new(h.lat, h.lon), if h.commune.is_empty() || normalize_eq(&h.commune, &h.name) { h.name } else { format!("{} ({})", h.name, h.commune) }),
            }),
            None => Err(QueryError::new(
                ErrorKind::NotFound,
                "unknown_place",
                format!("'{which}': no stop, commune, hospital, street or address named '{text}' in this network; give lat,lon or search with /api/places?q="),
            )),
        }
    }

    /// Resolves a stop id: exact namespaced id, or an id unique across feeds without namespace.
    pub fn resolve_stop(&self, id: &str) -> Result<StopIdx, QueryError> {
        self.net.timetable.find_stop(id).ok_or_else(|| QueryError::new(ErrorKind::NotFound, "unknown_stop", format!("no stop with id '{id}' in this network; search stops with /api/stops?q=name")))
    }

    pub fn check_date(&self, date: jiff::civil::Date) -> Result<(), QueryError> {
        let cal = self.net.timetable.calendar();
        if cal.day_index(date).is_none() {
            return Err(QueryError::new(
                ErrorKind::Unprocessable,
                "date_outside_validity",
                format!("{date} is outside the timetable's validity ({} to {}); choose a date in that period", cal.base_date, cal.last_day()),
            ));
        }
        Ok(())
    }

    fn endpoint(&self, place: &Place, which: &str, profile: Profile, forward: bool, pace: Pace, max_s: u32, search: &mut StreetSearch) -> Result<Endpoint, QueryError> {
        let net = &*self.net;
        let tt = &net.timetable;
        match place {
            Place::Stop(text) => {
                let s = match self.resolve_text(text, which)? {
                    Resolved::Stop(s) => s,
                    Resolved::Point(p, name) => {
                        let mut e = self.endpoint(&Place::Coord(p), which, profile, forward, pace, max_s, search)?;
                        e.name = name;
                        return Ok(e);
                    }
                };
                let serving = tt.serving_stops(s);
                let mut stops: Vec<(StopIdx, u32, f64)> = serving.iter().map(|&c| (c, 0, 0.0)).collect();
                // Walks to nearby stops, as footpaths.
                for &c in &serving {
                    let walks: Vec<crate::model::network::Footpath> = if forward { net.footpaths.from(c).collect() } else { self.backward_footpaths(c) };
                    for f in walks {
                        let d = f.secs(pace);
                        if d <= max_s {
                            stops.push((f.to, d, f.effort_dm as f64 / 10.0));
                        }
                    }
                }
                Ok(Endpoint { point: tt.stops.coords[s as usize], name: tt.stops.names[s as usize].clone(), stop_id: Some(tt.stops.ids[s as usize].clone()), snap: None, stops, is_stop: true })
            }
            Place::Coord(p) => {
                let bbox = net.bbox();
                if !bbox.contains_with_margin(*p, MAX_SNAP_M) {
                    return Err(QueryError::new(ErrorKind::Unprocessable, "outside_area", format!("'{which}' ({:.5},{:.5}) is outside the area this network covers", p.lat, p.lon)));
                }
                let mut stops: Vec<(StopIdx, u32, f64)> = Vec::new();
                let mut snap = None;
                if let Some(streets) = net.streets.as_ref().filter(|_| net.has_streets()) {
                    snap = streets.snap(*p, profile, MAX_SNAP_M).or_else(|| streets.snap(*p, Profile::Walk, MAX_SNAP_M));
                    if let Some(sn) = &snap {
                        let g = streets.graph(profile);
                        let csr = if forward { &g.forward } else { &g.reverse };
                        let max_dm = pace.reach_dm(max_s);
                        search.run(csr, &seeds_from(csr, sn), max_dm);
                        let mut seen = std::collections::HashSet::new();
                        for &v in search.reached() {
                            for &s in &self.node_stops[self.node_stops_offsets[v as usize] as usize..self.node_stops_offsets[v as usize + 1] as usize] {
                                if !seen.insert(s) {
                                    continue;
                                }
                                let link = net.stop_links[s as usize].as_ref().unwrap();
                                if let Some(dm) = cost_to_snap(search, csr, link) {
                                    let secs = pace.secs(dm);
                                    if secs <= max_s {
                                        stops.push((s, secs, dm as f64 / 10.0));
                                    }
                                }
                            }
                        }
                    }
                }
                // Stops without a street link: straight line.
                let radius = pace.reach_dm(max_s) as f64 / 10.0 / crate::model::search::DETOUR_FACTOR;
                for (s, _) in super::places::stops_near(tt, *p, radius, usize::MAX) {
                    if snap.is_none() || net.stop_links[s as usize].is_none() {
                        let dm = straight_line_dm(*p, tt.stops.coords[s as usize]);
                        let secs = pace.secs(dm);
                        if secs <= max_s {
                            stops.push((s, secs, dm as f64 / 10.0));
                        }
                    }
                }
                if snap.is_none() && stops.is_empty() && net.has_streets() {
                    return Err(QueryError::new(ErrorKind::Unprocessable, "outside_area", format!("'{which}' ({:.5},{:.5}) is more than {} m from any street or stop of this network", p.lat, p.lon, MAX_SNAP_M)));
                }
                stops.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
                stops.dedup_by_key(|x| x.0);
                Ok(Endpoint { point: *p, name: String::new(), stop_id: None, snap, stops, is_stop: false })
            }
        }
    }

    /// Footpaths arriving at `s` (`to` is the stop walked from).
    pub fn forward_footpaths_into(&self, s: StopIdx) -> Vec<crate::model::network::Footpath> {
        self.backward_footpaths(s)
    }

    fn backward_footpaths(&self, s: StopIdx) -> Vec<crate::model::network::Footpath> {
        let v = &self.backward;
        (v.fp_offsets[s as usize] as usize..v.fp_offsets[s as usize + 1] as usize)
            .map(|i| crate::model::network::Footpath { to: v.fp_walk[i].0, effort_dm: v.fp_effort_dm[i], min_s: v.fp_min_s[i] })
            .collect()
    }

    /// Validates limits shared by every request.
    pub fn validate(&self, req: &PlanRequest) -> Result<(), QueryError> {
        if req.window_s > MAX_WINDOW_S {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("window is limited to {} minutes", MAX_WINDOW_S / 60)));
        }
        if req.num_itineraries == 0 || req.num_itineraries > MAX_ITINERARIES {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("num_itineraries must be between 1 and {MAX_ITINERARIES}")));
        }
        if req.max_transfers > MAX_TRANSFERS {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("max_transfers is limited to {MAX_TRANSFERS}")));
        }
        if req.max_walk_s > MAX_WALK_S {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("max_walk is limited to {} minutes", MAX_WALK_S / 60)));
        }
        if !(1.0 - 1e-9..=11.0 + 1e-9).contains(&(req.walk_speed_mps * 3.6)) {
            return Err(QueryError::bad("invalid_parameter", "walk_speed must be between 1 and 11 km/h"));
        }
        if req.time_s > 48 * 3600 {
            return Err(QueryError::bad("invalid_parameter", "time must be HH:MM between 00:00 and 47:59"));
        }
        self.check_date(req.date)
    }

    /// Plans a journey.
    pub fn plan(&self, req: &PlanRequest) -> Result<PlanResponse, QueryError> {
        self.validate(req)?;
        self.with_scratch(|sc| {
            let (origin, dest) = self.endpoints(req, sc)?;
            let mut resp = self.plan_between(req, &origin, &dest, sc)?;
            if resp.itineraries.is_empty() && req.modes != 0 {
                let mut searched = self.reach(req, &origin, &dest);
                // Nothing within the walking limit: the nearest feasible option, said so.
                // A longer limit that reaches the same stops in the same times (a stop or
                // station with no other stop within the longer walk, a network without
                // streets) is not searched again: its answer could not differ.
                for m in [20u32, 30, 45, 60].into_iter().filter(|m| m * 60 > req.max_walk_s) {
                    let mut longer = req.clone();
                    longer.max_walk_s = m * 60;
                    let (origin, dest) = self.endpoints(&longer, sc)?;
                    let reach = self.reach(&longer, &origin, &dest);
                    if reach == searched {
                        continue;
                    }
                    searched = reach;
                    let alt = self.plan_between(&longer, &origin, &dest, sc)?;
                    if !alt.itineraries.is_empty() {
                        resp.message = Some(format!("No journey by public transport with at most {} min of walking at each end; with up to {m} min of walking:", req.max_walk_s / 60));
                        resp.itineraries = alt.itineraries;
                        resp.reason = Some("no_transit_within_walk");
                        resp.walk_extended_min = Some(m);
                        break;
                    }
                }
                if resp.itineraries.is_empty() {
                    resp.reason = Some("no_transit");
                }
            }
            Ok(resp)
        })
    }

    /// The origin and destination of a plan.
    fn endpoints(&self, req: &PlanRequest, sc: &mut Scratch) -> Result<(Endpoint, Endpoint), QueryError> {
        let walk = Pace::mps(req.walk_speed_mps);
        let access_profile = if req.access == AccessMode::Bike { Profile::Bike } else { Profile::Walk };
        let access_pace = if req.access == AccessMode::Bike { Pace::BIKE } else { walk };
        // Without transit (modes=walk or bike) no stop is looked for: the ends are only
        // placed.
        let reach_s = if req.modes == 0 { 0 } else { req.max_walk_s };
        Ok((
            self.endpoint(&req.from, "from", access_profile, true, access_pace, reach_s, &mut sc.access)?,
            self.endpoint(&req.to, "to", Profile::Walk, false, walk, reach_s, &mut sc.egress)?,
        ))
    }

    /// What a plan's walking limit decides of its transit answer: the stops its search
    /// starts and ends at with their walking (or cycling) seconds, and the limit on walks
    /// between rides (which follows the walking limit unless set), no higher than a bound
    /// on the longest footpath.
    fn reach(&self, req: &PlanRequest, origin: &Endpoint, dest: &Endpoint) -> (Vec<(StopIdx, u32)>, Vec<(StopIdx, u32)>, u32) {
        let stops = |e: &Endpoint| e.stops.iter().map(|&(s, secs, _)| (s, secs)).collect();
        let transfer_walk = req.max_transfer_walk_s.unwrap_or(req.max_walk_s).min(self.forward.longest_footpath_s(Pace::mps(req.walk_speed_mps)));
        (stops(origin), stops(dest), transfer_walk)
    }

    /// A plan between endpoints found for `req` (the street searches in `sc` still theirs:
    /// the legs' geometry is read from them).
    fn plan_between(&self, req: &PlanRequest, origin: &Endpoint, dest: &Endpoint, sc: &mut Scratch) -> Result<PlanResponse, QueryError> {
        let walk = Pace::mps(req.walk_speed_mps);
        // Typed places (names, stops) that are the same place get a clear answer; two
        // coordinates close together are still a (short) walk.
        let both_points = matches!(req.from, Place::Coord(_)) && matches!(req.to, Place::Coord(_));
        let same = match (&origin.stop_id, &dest.stop_id) {
            (Some(a), Some(b)) => a == b,
            _ => !both_points && distance_m(origin.point, dest.point) < SAME_PLACE_M,
        };
        if same {
            return Err(QueryError::new(
                ErrorKind::Unprocessable,
                "same_place",
                format!("the origin and the destination are the same place (less than {SAME_PLACE_M} m apart): choose another destination"),
            ));
        }
        let ctx = self.day_context(req.date);
        let ctx = &*ctx;
        let params = RaptorParams::for_query(req.max_transfers, req.modes, req.wheelchair, walk, req.max_transfer_walk_s.unwrap_or(req.max_walk_s), req.transfer_slack_s);
        let mut itineraries: Vec<Itinerary> = Vec::new();
        let mut seen: std::collections::HashSet<Vec<(u32, u32)>> = Default::default();
        let t0 = ctx.wall_to_gtfs(req.time_s);
        if req.modes != 0 {
            let mut t = t0;
            let end = if req.arrive_by { t - req.window_s as i64 } else { t + req.window_s as i64 };
            for _ in 0..(req.num_itineraries * 3) {
                if itineraries.len() >= req.num_itineraries * 2 {
                    break;
                }
                let found = self.search_once(req, &ctx, &params, &origin, &dest, t, sc);
                let Some(next) = found.iter().map(|j| if req.arrive_by { j.end_s } else { j.start_s }).reduce(|a, b| if req.arrive_by { a.max(b) } else { a.min(b) }) else {
                    break;
                };
                for j in found {
                    let key: Vec<(u32, u32)> = j.legs.iter().filter_map(|l| l.trip_id.as_ref().map(|id| (id.len() as u32, fxhash(id)))).collect();
                    if seen.insert(key) {
                        itineraries.push(j);
                    }
                }
                t = if req.arrive_by { next - 60 } else { next + 60 };
                if (!req.arrive_by && t > end) || (req.arrive_by && t < end) {
                    break;
                }
            }
            // Keep the Pareto-best per departure: drop an itinerary that leaves no later,
            // arrives no earlier and has no fewer transfers than another.
            // (An itinerary never dominates itself nor an equal one: one criterion must be
            // strictly better.)
            let all: Vec<_> = itineraries.iter().map(|i| (i.start_s, i.end_s, i.transfers)).collect();
            itineraries.retain(|a| {
                !all.iter().any(|b| b.0 >= a.start_s && b.1 <= a.end_s && b.2 <= a.transfers && (b.0 > a.start_s || b.1 < a.end_s || b.2 < a.transfers))
            });
            if req.arrive_by {
                itineraries.sort_by(|a, b| b.start_s.cmp(&a.start_s).then(a.transfers.cmp(&b.transfers)));
            } else {
                itineraries.sort_by(|a, b| a.end_s.cmp(&b.end_s).then(b.start_s.cmp(&a.start_s)).then(a.transfers.cmp(&b.transfers)));
            }
            itineraries.truncate(req.num_itineraries);
        }
        let direct = self.direct_legs(req, &origin, &dest, &ctx, t0, sc);
        let from = origin.place_out();
        let to = dest.place_out();
        let message = (itineraries.is_empty() && direct.is_empty()).then(|| {
            if req.arrive_by {
                format!("No journey found arriving by {}: try a later arrival, a longer walk, or cycling.", hhmm(req.time_s as i64))
            } else {
                format!("No journey found leaving after {}: try an earlier departure, a longer walk, or cycling.", hhmm(req.time_s as i64))
            }
        });
        let (mut itineraries, mut direct) = (itineraries, direct);
        if req.polyline {
            for it in itineraries.iter_mut().chain(direct.iter_mut()) {
                for l in &mut it.legs {
                    l.polyline = Some(encode_polyline(&l.geometry));
                }
            }
        }
        Ok(PlanResponse {
            from,
            to,
            date: req.date.to_string(),
            time: hhmm(req.time_s as i64),
            arrive_by: req.arrive_by,
            itineraries,
            direct,
            message,
            reason: None,
            walk_extended_min: None,
        })
    }

    /// One RAPTOR run at time `t`; returns the Pareto set (arrival x rides) as itineraries.
    #[allow(clippy::too_many_arguments)]
    fn search_once(&self, req: &PlanRequest, ctx: &DayContext, params: &RaptorParams, origin: &Endpoint, dest: &Endpoint, t: i64, sc: &mut Scratch) -> Vec<Itinerary> {
        let (view, first, last) = if req.arrive_by { (&self.backward, dest, origin) } else { (&self.forward, origin, dest) };
        let t_view = if req.arrive_by { MIRROR - t } else { t };
        let access: Vec<StopTime> = first.stops.iter().map(|&(s, d, _)| StopTime { stop: s, time: (t_view + d as i64) as Time }).collect();
        let egress: Vec<StopTime> = last.stops.iter().map(|&(s, d, _)| StopTime { stop: s, time: d as Time }).collect();
        if access.is_empty() || egress.is_empty() {
            return vec![];
        }
        sc.raptor.run(view, ctx, params, &access, &egress);
        let mut out = Vec::new();
        let mut best = INF;
        for k in 1..=sc.raptor.rounds_run {
            // Best egress in round k: walks to the destination start where a vehicle
            // was left (never after a transfer walk, as in R5).
            let mut cand: Option<(Time, StopIdx, bool)> = None;
            for e in &egress {
                let a = sc.raptor.tau_ride[k][e.stop as usize];
                if a >= INF {
                    continue;
                }
                let total = a + e.time;
                if cand.is_none_or(|c| (total, e.stop) < (c.0, c.1)) {
                    cand = Some((total, e.stop, false));
                }
            }
            let Some((total, stop, _)) = cand else { continue };
            if total >= best {
                continue;
            }
            if let Some((access_stop, legs)) = sc.raptor.journey_by_ride(view, ctx, k, stop) {
                best = total;
                out.push(self.itinerary(req, ctx, origin, dest, access_stop, stop, legs, sc));
            }
        }
        out
    }

    /// Converts a raw journey (view direction) into an itinerary in real time.
    #[allow(clippy::too_many_arguments)]
    fn itinerary(&self, req: &PlanRequest, ctx: &DayContext, origin: &Endpoint, dest: &Endpoint, first_stop: StopIdx, last_stop: StopIdx, legs: Vec<RawLeg>, sc: &Scratch) -> Itinerary {
        let net = &*self.net;
        let tt = &net.timetable;
        let back = req.arrive_by;
        let real = |t: Time| -> i64 { if back { MIRROR - t as i64 } else { t as i64 } };
        // Real-order legs: (kind, from, to, dep, arr).
        let mut raw: Vec<RawLeg> = legs
            .into_iter()
            .map(|l| match l {
                RawLeg::Walk { from, to, dep, arr } => {
                    if back {
                        RawLeg::Walk { from: to, to: from, dep: real(arr) as Time, arr: real(dep) as Time }
                    } else {
                        l
                    }
                }
                RawLeg::Ride { label, from, to, dep, arr } => {
                    if back {
                        RawLeg::Ride { label, from: to, to: from, dep: real(arr) as Time, arr: real(dep) as Time }
                    } else {
                        l
                    }
                }
            })
            .collect();
        let (board_stop, alight_stop) = if back { (last_stop, first_stop) } else { (first_stop, last_stop) };
        if back {
            raw.reverse();
        }
        let access = origin.stops.iter().find(|x| x.0 == board_stop).copied().unwrap_or((board_stop, 0, 0.0));
        let egress = dest.stops.iter().find(|x| x.0 == alight_stop).copied().unwrap_or((alight_stop, 0, 0.0));
        let first_dep = match raw.first() {
            Some(RawLeg::Ride { dep, .. }) | Some(RawLeg::Walk { dep, .. }) => *dep as i64,
            None => 0,
        };
        let last_arr = match raw.last() {
            Some(RawLeg::Ride { arr, .. }) | Some(RawLeg::Walk { arr, .. }) => *arr as i64,
            None => 0,
        };
        let mut out_legs = Vec::new();
        let access_mode = if req.access == AccessMode::Bike && !origin.is_stop { "bike" } else { "walk" };
        let start_s = first_dep - access.1 as i64;
        if access.1 > 0 || (!origin.is_stop && access.2 > 0.0) {
            let (geom, steps) = self.street_geometry(&sc.access, origin, board_stop, true);
            let mut leg = street_leg(access_mode, origin.place_out(), self.stop_out(board_stop), self.fmt_time(ctx, start_s), self.fmt_time(ctx, first_dep), access.1, round1(access.2), geom);
            leg.steps = steps;
            out_legs.push(leg);
        }
        for l in &raw {
            match *l {
                RawLeg::Walk { from, to, dep, arr } => {
                    if arr == dep && tt.stops.coords[from as usize] == tt.stops.coords[to as usize] {
                        continue; // change of stop point within one station, nothing to walk
                    }
                    let d = distance_m(tt.stops.coords[from as usize], tt.stops.coords[to as usize]) * 1.3;
                    out_legs.push(street_leg("walk", self.stop_out(from), self.stop_out(to), self.fmt_time(ctx, dep as i64), self.fmt_time(ctx, arr as i64), (arr - dep) as u32, round1(d), vec![self.lonlat(from), self.lonlat(to)]));
                }
                RawLeg::Ride { label, from, to, dep, arr } => {
                    out_legs.push(self.ride_leg(ctx, label, back, from, to, dep as i64, arr as i64));
                }
            }
        }
        let end_s = last_arr + egress.1 as i64;
        if egress.1 > 0 || (!dest.is_stop && egress.2 > 0.0) {
            let (geom, steps) = self.street_geometry(&sc.egress, dest, alight_stop, false);
            let mut leg = street_leg("walk", self.stop_out(alight_stop), dest.place_out(), self.fmt_time(ctx, last_arr), self.fmt_time(ctx, end_s), egress.1, round1(egress.2), geom);
            leg.steps = steps;
            out_legs.push(leg);
        }
        // A walk between two rides starts on arrival (a backward search puts the waiting
        // first); the waiting happens at the next stop, as a traveller would do it.
        for i in 1..out_legs.len() {
            if out_legs[i].route.is_none() && out_legs[i - 1].route.is_some() && i + 1 < out_legs.len() {
                let start = out_legs[i - 1].end_time.clone();
                if let (Ok(a), Ok(_)) = (start.parse::<jiff::Timestamp>(), out_legs[i].start_time.parse::<jiff::Timestamp>()) {
                    let end = a.as_second() + out_legs[i].duration_s as i64;
                    out_legs[i].start_time = start;
                    out_legs[i].end_time = self.fmt_time(ctx, end - ctx.origin_ts);
                }
            }
        }
        let rides = out_legs.iter().filter(|l| l.route.is_some()).count() as u32;
        let walk_legs = out_legs.iter().filter(|l| l.mode == "walk");
        Itinerary {
            start_time: self.fmt_time(ctx, start_s),
            end_time: self.fmt_time(ctx, end_s),
            duration_s: (end_s - start_s).max(0) as u32,
            transfers: rides.saturating_sub(1),
            walk_distance_m: round1(walk_legs.clone().map(|l| l.distance_m).sum()),
            walk_duration_s: walk_legs.map(|l| l.duration_s).sum(),
            legs: out_legs,
            start_s,
            end_s,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn ride_leg(&self, ctx: &DayContext, label: super::raptor::RideLabel, back: bool, from: StopIdx, to: StopIdx, dep: i64, arr: i64) -> Leg {
        let net = &*self.net;
        let tt = &net.timetable;
        let view = if back { &self.backward } else { &self.forward };
        let trip = view.trip_orig[label.trip as usize];
        let pattern = tt.trips.pattern[trip as usize];
        let pat = tt.patterns[pattern as usize];
        let n = pat.n_stops;
        let (bp, ap) = if back { (n - 1 - label.alight_pos, n - 1 - label.board_pos) } else { (label.board_pos, label.alight_pos) };
        let t_in = trip - pat.trip_offset;
        let day_shift = ctx.shift[label.day as usize];
        let stops = tt.pattern_stops(pattern);
        let mut calls = Vec::with_capacity(ap.saturating_sub(bp + 1) as usize);
        for pos in bp + 1..ap {
            let i = tt.st_index(pattern, t_in, pos);
            let s = stops[pos as usize];
            calls.push(StopCall {
                stop_id: tt.stops.ids[s as usize].clone(),
                name: tt.stops.names[s as usize].clone(),
                lat: tt.stops.coords[s as usize].lat,
                lon: tt.stops.coords[s as usize].lon,
                arrival: self.fmt_time(ctx, tt.arrivals[i] as i64 + day_shift),
                departure: self.fmt_time(ctx, tt.departures[i] as i64 + day_shift),
            });
        }
        let r = pat.route as usize;
        let geometry = self.ride_geometry(trip, &stops[bp as usize..=ap as usize]);
        let distance: f64 = geometry.windows(2).map(|w| distance_m(LatLon::new(w[0][1], w[0][0]), LatLon::new(w[1][1], w[1][0]))).sum();
        Leg {
            mode: tt.routes.modes[r].name().into(),
            from: self.stop_out(from),
            to: self.stop_out(to),
            start_time: self.fmt_time(ctx, dep),
            end_time: self.fmt_time(ctx, arr),
            duration_s: (arr - dep).max(0) as u32,
            distance_m: round1(distance),
            route: Some(self.route_out(r)),
            trip_id: Some(tt.trips.ids[trip as usize].clone()),
            headsign: Some(tt.trips.headsigns[trip as usize].clone()).filter(|h| !h.is_empty()),
            direction: stops.last().map(|s| tt.stops.names[*s as usize].clone()),
            intermediate_stops: calls,
            geometry,
            polyline: None,
            steps: vec![],
        }
    }

    /// Leg geometry along the GTFS shape between the two stops when there is one, else
    /// stop to stop.
    fn ride_geometry(&self, trip: u32, stops: &[StopIdx]) -> Vec<[f64; 2]> {
        let tt = &self.net.timetable;
        let shape = tt.shape(tt.trips.shape[trip as usize]);
        let straight: Vec<[f64; 2]> = stops.iter().map(|&s| self.lonlat(s)).collect();
        if shape.len() < 2 {
            return straight;
        }
        // Nearest shape index of each end, searched in order along the shape.
        let nearest = |p: LatLon, from: usize| -> usize {
            (from..shape.len()).min_by(|&a, &b| distance_m(shape[a], p).total_cmp(&distance_m(shape[b], p))).unwrap_or(from)
        };
        let a = nearest(tt.stops.coords[stops[0] as usize], 0);
        let b = nearest(tt.stops.coords[*stops.last().unwrap() as usize], a);
        if b <= a || distance_m(shape[a], tt.stops.coords[stops[0] as usize]) > 500.0 {
            return straight;
        }
        let mut g = vec![straight[0]];
        g.extend(shape[a..=b].iter().map(|c| [c.lon, c.lat]));
        g.push(*straight.last().unwrap());
        g
    }

    /// Street geometry of an access (forward search) or egress (reverse search) walk.
    fn street_geometry(&self, search: &StreetSearch, ep: &Endpoint, stop: StopIdx, access: bool) -> (Vec<[f64; 2]>, Vec<StreetStep>) {
        let net = &*self.net;
        let stop_ll = self.lonlat(stop);
        let ep_ll = [ep.point.lon, ep.point.lat];
        let (Some(streets), Some(_), Some(link)) = (net.streets.as_ref(), ep.snap.as_ref(), net.stop_links[stop as usize].as_ref()) else {
            return (if access { vec![ep_ll, stop_ll] } else { vec![stop_ll, ep_ll] }, vec![]);
        };
        let (da, db) = (search.dist[link.a as usize], search.dist[link.b as usize]);
        let end = match (da, db) {
            (UNREACHED, UNREACHED) => None,
            (UNREACHED, _) => Some(link.b),
            (_, UNREACHED) => Some(link.a),
            (a, b) => Some(if a <= b { link.a } else { link.b }),
        };
        let mut pts = vec![ep_ll, [ep.snap.unwrap().point.lon, ep.snap.unwrap().point.lat]];
        let mut path = end.map(|end| search.path_to(end)).unwrap_or_default();
        pts.extend(path.iter().map(|&v| [streets.coords[v as usize].lon, streets.coords[v as usize].lat]));
        pts.push([link.point.lon, link.point.lat]);
        pts.push(stop_ll);
        if !access {
            pts.reverse();
            path.reverse();
        }
        (pts, streets.steps_along(&path))
    }

    /// Walking and cycling alternatives without transit.
    fn direct_legs(&self, req: &PlanRequest, origin: &Endpoint, dest: &Endpoint, ctx: &DayContext, t0: i64, sc: &mut Scratch) -> Vec<Itinerary> {
        let net = &*self.net;
        let mut out = Vec::new();
        let d = distance_m(origin.point, dest.point);
        // Without transit (modes=walk or modes=bike) only the mode asked for is answered,
        // however long it takes (up to 6 hours); with transit, both street alternatives
        // are offered, the walk within max_walk (at least an hour).
        let street_only = req.modes == 0;
        for (mode, profile, pace, limit_s) in [("walk", Profile::Walk, Pace::mps(req.walk_speed_mps), if street_only { 6 * 3600u32 } else { 2 * 3600 }), ("bike", Profile::Bike, Pace::BIKE, if street_only { 6 * 3600u32 } else { 2 * 3600 })] {
            if street_only && ((mode == "walk") != (req.access == AccessMode::Walk)) {
                continue;
            }
            if d > if street_only { 120_000.0 } else { 40_000.0 } {
                continue;
            }
            let mut steps = Vec::new();
            let (secs, dist, geometry) = match (net.streets.as_ref().filter(|_| net.has_streets()), origin.snap, dest.snap) {
                (Some(streets), Some(_), Some(_)) => {
                    let (Some(os), Some(ds)) = (streets.snap(origin.point, profile, MAX_SNAP_M), streets.snap(dest.point, profile, MAX_SNAP_M)) else { continue };
                    let g = &streets.graph(profile).forward;
                    // One query on the walk or bike hierarchy every network file holds.
                    let Some(h) = streets.hierarchy(profile) else { continue };
                    let calc = sc.hierarchy[profile as usize].get_or_insert_with(|| fast_paths::create_calculator(&h.graph));
                    let Some((cost, path)) = hierarchy_route(h, g, &os, &ds, calc) else { continue };
                    let mut geom = vec![[origin.point.lon, origin.point.lat], [os.point.lon, os.point.lat]];
                    geom.extend(path.iter().map(|&v| [streets.coords[v as usize].lon, streets.coords[v as usize].lat]));
                    steps = streets.steps_along(&path);
                    geom.push([ds.point.lon, ds.point.lat]);
                    geom.push([dest.point.lon, dest.point.lat]);
                    let len: f64 = geom.windows(2).map(|w| distance_m(LatLon::new(w[0][1], w[0][0]), LatLon::new(w[1][1], w[1][0]))).sum();
                    (pace.secs(cost), len, geom)
                }
                // With streets, both ends must meet them; straight lines only without streets.
                (Some(_), _, _) => continue,
                _ => {
                    let dm = straight_line_dm(origin.point, dest.point);
                    (pace.secs(dm), dm as f64 / 10.0, vec![[origin.point.lon, origin.point.lat], [dest.point.lon, dest.point.lat]])
                }
            };
            if secs > limit_s || (mode == "walk" && !street_only && secs > req.max_walk_s.max(3600)) {
                continue;
            }
            let (start, end) = if req.arrive_by { (t0 - secs as i64, t0) } else { (t0, t0 + secs as i64) };
            let mut leg = street_leg(mode, origin.place_out(), dest.place_out(), self.fmt_time(ctx, start), self.fmt_time(ctx, end), secs, round1(dist), geometry);
            leg.steps = steps;
            out.push(Itinerary {
                start_time: leg.start_time.clone(),
                end_time: leg.end_time.clone(),
                duration_s: secs,
                transfers: 0,
                walk_distance_m: if mode == "walk" { round1(dist) } else { 0.0 },
                walk_duration_s: if mode == "walk" { secs } else { 0 },
                legs: vec![leg],
                start_s: start,
                end_s: end,
            });
        }
        out
    }

    fn route_out(&self, r: usize) -> RouteOut {
        let tt = &self.net.timetable;
        RouteOut {
            id: tt.routes.ids[r].clone(),
            short_name: tt.routes.short_names[r].clone(),
            long_name: tt.routes.long_names[r].clone(),
            color: tt.routes.colors[r].clone(),
            text_color: tt.routes.text_colors[r].clone(),
            agency: tt.agencies.get(tt.routes.agency[r] as usize).map(|a| a.name.clone()).unwrap_or_default(),
            brand: tt.routes.brands.get(r).cloned().unwrap_or_default(),
        }
    }

    fn stop_out(&self, s: StopIdx) -> PlaceOut {
        let tt = &self.net.timetable;
        PlaceOut { name: tt.stops.names[s as usize].clone(), stop_id: Some(tt.stops.ids[s as usize].clone()), platform: tt.stops.platform.get(s as usize).filter(|p| !p.is_empty()).cloned(), lat: tt.stops.coords[s as usize].lat, lon: tt.stops.coords[s as usize].lon }
    }

    fn lonlat(&self, s: StopIdx) -> [f64; 2] {
        let c = self.net.timetable.stops.coords[s as usize];
        [c.lon, c.lat]
    }

    /// RFC 3339 local time of `t` seconds after the query day's GTFS origin.
    pub fn fmt_time(&self, ctx: &DayContext, t: i64) -> String {
        match jiff::Timestamp::from_second(ctx.origin_ts + t) {
            Ok(ts) => rfc3339_local(ts, ctx.tz()),
            Err(_) => hhmm(t),
        }
    }
}

/// `ts` as local time in `tz`, RFC 3339 with its offset (`2025-02-04T08:00:00+01:00`),
/// without making a `Zoned` (an itinerary formats every call of every leg).
fn rfc3339_local(ts: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    ts.display_with_offset(tz.to_offset(ts)).to_string()
}

/// A walking or cycling leg.
#[allow(clippy::too_many_arguments)]
fn street_leg(mode: impl Into<String>, from: PlaceOut, to: PlaceOut, start_time: String, end_time: String, duration_s: u32, distance_m: f64, geometry: Vec<[f64; 2]>) -> Leg {
    Leg {
        mode: mode.into(),
        from,
        to,
        start_time,
        end_time,
        duration_s,
        distance_m,
        route: None,
        trip_id: None,
        headsign: None,
        direction: None,
        intermediate_stops: vec![],
        geometry,
        polyline: None,
        steps: vec![],
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn fxhash(s: &str) -> u32 {
    s.bytes().fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619))
}

pub fn hhmm(t: i64) -> String {
    let t = t.max(0);
    format!("{:02}:{:02}", t / 3600, t / 60 % 60)
}

/// Parses `HH:MM` or `HH:MM:SS` into seconds.
pub fn parse_time(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let sec: u32 = if parts.len() == 3 { parts[2].parse().ok()? } else { 0 };
    (h < 48 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

/// Parses a `modes` list such as `bus,tram,rail` (also `transit`, `walk`, `bike`).
/// Returns (transit mode bits, access mode).
pub fn parse_modes(s: &str) -> Result<(u8, AccessMode), QueryError> {
    let mut bits = 0u8;
    let mut access = AccessMode::Walk;
    let mut any_transit_word = false;
    for w in s.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()) {
        match w.as_str() {
            "transit" | "all" => {
                bits |= RaptorParams::all_modes();
                any_transit_word = true;
            }
            "walk" => {}
            "bike" | "bicycle" => access = AccessMode::Bike,
            "train" => {
                bits |= Mode::Rail.bit();
                any_transit_word = true;
            }
            other => match Mode::parse(other) {
                Some(m) => {
                    bits |= m.bit();
                    any_transit_word = true;
                }
                None => {
                    return Err(QueryError::bad(
                        "invalid_parameter",
                        format!("unknown mode '{other}'; use walk, bike, transit, bus, coach, tram, subway, rail, ferry, cable"),
                    ))
                }
            },
        }
    }
    if !any_transit_word && bits == 0 && s.trim().is_empty() {
        bits = RaptorParams::all_modes();
    }
    Ok((bits, access))
}

#[cfg(test)]
mod polyline_tests {
    use super::rfc3339_local;

    #[test]
    fn local_times_print_as_strftime_does_across_offsets_and_daylight_saving() {
        for zone in ["Europe/Paris", "America/Sao_Paulo", "UTC", "Australia/Lord_Howe"] {
            let tz = jiff::tz::TimeZone::get(zone).unwrap();
            // From 2022-01-01, every 37 minutes and 11 seconds over four years: both
            // daylight-saving changes each year, and times a second off the hour.
            for i in 0..(4 * 366 * 24 * 60 / 37) {
                let ts = jiff::Timestamp::from_second(1_640_995_200 + i * (37 * 60 + 11)).unwrap();
                let expected = ts.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
                assert_eq!(rfc3339_local(ts, &tz), expected, "{zone} at {ts}");
            }
        }
    }

    /// The example of Google's documentation.
    #[test]
    fn polylines_encode_as_documented() {
        assert_eq!(super::encode_polyline(&[[-120.2, 38.5], [-120.95, 40.7], [-126.453, 43.252]]), "_p~iF~ps|U_ulLnnqC_mqNvxq`@");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_modes_parse() {
        assert_eq!(parse_time("05:20"), Some(5 * 3600 + 20 * 60));
        assert_eq!(parse_time("25:01:02"), Some(25 * 3600 + 62));
        assert_eq!(parse_time("5h20"), None);
        assert_eq!(parse_time("12:60"), None);
        let (b, a) = parse_modes("bus,rail,bike").unwrap();
        assert_eq!(b, Mode::Bus.bit() | Mode::Rail.bit());
        assert_eq!(a, AccessMode::Bike);
        assert_eq!(parse_modes("walk").unwrap().0, 0);
        assert!(parse_modes("teleport").is_err());
        assert_eq!(parse_modes("").unwrap().0, RaptorParams::all_modes());
    }

    #[test]
    fn places_parse() {
        assert_eq!(Place::parse("50.43,2.83", "from").unwrap(), Place::Coord(LatLon::new(50.43, 2.83)));
        assert_eq!(Place::parse("ter:StopArea:OCE87345025", "from").unwrap(), Place::Stop("ter:StopArea:OCE87345025".into()));
        assert_eq!(Place::parse("91,2", "from").unwrap_err().error, "invalid_coordinates");
        assert_eq!(Place::parse("", "from").unwrap_err().error, "missing_parameter");
    }
}

/// One departure at a stop, as a printed timetable shows it.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Departure {
    pub time: String,
    pub stop_id: String,
    pub mode: String,
    pub route: RouteOut,
    pub headsign: String,
    pub trip_id: String,
    #[serde(skip)]
    pub t: i64,
}

impl Router {
    /// Next departures from a stop (or the stops of a station) from `time_s` on `date`.
    pub fn departures(&self, stop_id: &str, date: jiff::civil::Date, time_s: u32, limit: usize) -> Result<Vec<Departure>, QueryError> {
        let s = self.resolve_stop(stop_id)?;
        self.check_date(date)?;
        if limit == 0 || limit > 200 {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "limit must be between 1 and 200"));
        }
        let mut out = self.stop_events(s, date, time_s, time_s + 24 * 3600, false);
        out.truncate(limit);
        Ok(out)
    }

    /// Departures (or arrivals, `arrivals`) at a stop or the stops of its station between
    /// two wall-clock times of `date` (seconds, up to 48 h for the service day's late
    /// trips), in time order. An arrival's `headsign` is where the trip comes from.
    pub fn stop_events(&self, s: StopIdx, date: jiff::civil::Date, from_s: u32, to_s: u32, arrivals: bool) -> Vec<Departure> {
        let net = &*self.net;
        let tt = &net.timetable;
        let ctx = self.day_context(date);
        let (t0, t1) = (ctx.wall_to_gtfs(from_s), ctx.wall_to_gtfs(to_s));
        let mut out = Vec::new();
        for c in tt.serving_stops(s) {
            for &(p, pos) in tt.patterns_at(c) {
                let pat = tt.patterns[p as usize];
                let flags = tt.pattern_flags(p)[pos as usize];
                let skip = if arrivals { pos == 0 || flags & crate::model::timetable::NO_DROP_OFF != 0 } else { pos + 1 == pat.n_stops || flags & crate::model::timetable::NO_PICKUP != 0 };
                if skip {
                    continue;
                }
                let r = pat.route as usize;
                let stops = tt.pattern_stops(p);
                let end = if arrivals { stops[0] } else { *stops.last().unwrap() };
                for t in 0..pat.n_trips {
                    let trip = pat.trip_offset + t;
                    let mask = ctx.masks[tt.trips.service[trip as usize] as usize];
                    for k in 0..3 {
                        if mask & (1 << k) == 0 {
                            continue;
                        }
                        let i = tt.st_index(p, t, pos);
                        let at = if arrivals { tt.arrivals[i] } else { tt.departures[i] } as i64 + ctx.shift[k];
                        if at < t0 || at > t1 {
                            continue;
                        }
                        // A headsign that is only a train number says nothing of where
                        // the train goes: the last stop does.
                        let h = &tt.trips.headsigns[trip as usize];
                        let headsign = if arrivals || h.chars().all(|c| c.is_ascii_digit()) { String::new() } else { h.clone() };
                        out.push(Departure {
                            time: self.fmt_time(&ctx, at),
                            stop_id: tt.stops.ids[c as usize].clone(),
                            mode: tt.routes.modes[r].name().into(),
                            route: self.route_out(r),
                            headsign: Some(headsign).filter(|h| !h.is_empty()).unwrap_or_else(|| tt.stops.names[end as usize].clone()),
                            trip_id: tt.trips.ids[trip as usize].clone(),
                            t: at,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.t.cmp(&b.t).then(a.trip_id.cmp(&b.trip_id)));
        out.dedup_by(|a, b| a.trip_id == b.trip_id && a.t == b.t);
        out
    }

    /// The stops within `max_s` of a place (a name, a stop, `lat,lon`) on foot or by bike,
    /// with seconds and metres, as a journey would reach them; and the place's position
    /// and name.
    pub fn stops_around(&self, place: &Place, which: &str, profile: Profile, pace: Pace, max_s: u32) -> Result<(LatLon, String, Vec<(StopIdx, u32, f64)>), QueryError> {
        let e = self.with_scratch(|sc| self.endpoint(place, which, profile, true, pace, max_s, &mut sc.access))?;
        Ok((e.point, e.name, e.stops))
    }

}
