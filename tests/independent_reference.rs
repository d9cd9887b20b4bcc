//! An independent reference for travel-time matrices and accessibility (issue 11).
//!
//! It reads the raw files itself — GTFS with plain CSV (`common::raw_table`), the OSM
//! extract with `osmpbfreader`, the hexagons with `csv` — and shares no code with
//! terril's engine: its own street graph, snapping and Dijkstra, its own stop-time
//! interpolation and calendar, and a connection scan (Dibbelt, Pajor, Strasser & Wagner
//! 2013) with one label per number of rides instead of RAPTOR, run from scratch for
//! every departure minute instead of range-RAPTOR's reuse. It then checks that
//! `terril matrix --seconds` and `terril access` on Porto Alegre give the same values,
//! to the second, under the rules: transfer slack 0, 4.68 km/h, 20-minute
//! access, egress and direct walks, 10-minute transfer walks.
//!
//! The rules both follow (README, "Definitions"):
//! - Streets: OSM ways a pedestrian may use; each segment between consecutive nodes
//!   costs its great-circle length rounded to the decimetre (at least 1), twice that on
//!   steps; only the largest connected walkable component is kept.
//! - A point meets the street at the nearest point of a segment (equirectangular metres
//!   around the mean latitude of the routable ways' nodes); the way there costs its
//!   length rounded to the decimetre; paths run through street nodes. Stops farther than
//!   300 m from a street, and points farther than 2 km, walk by straight line x 1.3.
//! - A walking leg's time is its total effort divided by the speed, rounded up to the
//!   second, once per leg. Each leg is bounded on its own: access, egress and the direct
//!   walk by max_walk_time, a walk between two rides by max_transfer_walk_time.
//! - A walk to the destination starts where a vehicle was left (never after a transfer
//!   walk). Times missing between timepoints are interpolated by straight-line distance
//!   along the trip, rounded to the second.
//! - For each departure minute of the window, the time to a destination is
//!   min(direct walk, earliest arrival with at most `max_rides` rides - departure),
//!   unreachable over max_trip_duration; percentiles by nearest rank over the minutes.

mod common;
use common::*;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};

const R_EARTH: f64 = 6_371_008.8;
const SPEED_MPS: f64 = 4.68 / 3.6;
const MAX_WALK_S: u32 = 20 * 60;
const MAX_TRANSFER_WALK_S: u32 = 10 * 60;
const MAX_TRIP_S: u32 = 60 * 60;
const MAX_RIDES: usize = 4;
const STOP_SNAP_M: f64 = 300.0;
const POINT_SNAP_M: f64 = 2000.0;
const WINDOW: (i64, i64) = (14 * 3600, 15 * 3600);

fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
    2.0 * R_EARTH * h.sqrt().asin()
}

/// Seconds of a leg of `dm` effort decimetres, rounded up.
fn secs(dm: u32) -> u32 {
    ((dm as f64 / (SPEED_MPS * 10.0)) - 1e-9).ceil().max(0.0) as u32
}

fn straight_dm(a: (f64, f64), b: (f64, f64)) -> u32 {
    (haversine(a, b) * 1.3 * 10.0).ceil() as u32
}

// ---------------------------------------------------------------- streets

struct Streets {
    coords: Vec<(f64, f64)>,
    adj: Vec<Vec<(u32, u32)>>,
    cos_ref: f64,
    /// Segments of the kept component, bucketed on a 100 m grid of projected metres.
    segs: Vec<(u32, u32)>,
    grid: HashMap<(i64, i64), Vec<u32>>,
}

#[derive(Clone, Copy, Debug)]
struct Snap {
    a: u32,
    b: u32,
    t: f64,
    dist_m: f64,
}

const CELL: f64 = 100.0;

fn is_yes(v: Option<&str>) -> bool {
    matches!(v, Some("yes" | "designated" | "permissive" | "destination" | "official" | "use_sidepath"))
}
fn is_no(v: Option<&str>) -> bool {
    matches!(v, Some("no" | "private" | "agricultural" | "forestry" | "delivery" | "discouraged" | "dismount"))
}

/// (walkable, usable by anyone, effort factor) of a way.
fn way_rule(tag: &dyn Fn(&str) -> Option<String>) -> (bool, bool, f64) {
    let Some(hw) = tag("highway") else { return (false, false, 1.0) };
    let hw = hw.as_str();
    let walk_hw = ["trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "road", "residential", "living_street", "service", "track", "pedestrian", "footway", "platform", "corridor", "path", "cycleway", "steps"];
    let bike_hw = ["trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "road", "residential", "living_street", "service", "track", "path", "cycleway"];
    let car_hw = ["motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified", "road", "residential", "living_street", "service"];
    let known = walk_hw.contains(&hw) || car_hw.contains(&hw) || hw == "bridleway";
    if !known || (tag("area").as_deref() == Some("yes") && hw != "pedestrian") {
        return (false, false, 1.0);
    }
    let general_no = is_no(tag("access").as_deref());
    let motorroad = tag("motorroad").as_deref() == Some("yes");
    let decide = |default: bool, keys: &[&str]| {
        for k in keys {
            let v = tag(k);
            if is_yes(v.as_deref()) {
                return true;
            }
            if is_no(v.as_deref()) {
                return false;
            }
        }
        default && !general_no
    };
    let walk = decide(walk_hw.contains(&hw) && !motorroad, &["foot"]);
    let bike = decide(bike_hw.contains(&hw) && !motorroad, &["bicycle", "vehicle"]);
    let car = decide(car_hw.contains(&hw), &["motorcar", "motor_vehicle", "vehicle"]);
    (walk, walk || bike || car, if hw == "steps" { 2.0 } else { 1.0 })
}

fn read_streets(pbf: &Path) -> Streets {
    let mut r = osmpbfreader::OsmPbfReader::new(std::fs::File::open(pbf).unwrap());
    let mut ways: Vec<(bool, f64, Vec<i64>)> = Vec::new();
    for w in r.iter_ways() {
        let w = w.unwrap();
        let tag = |k: &str| w.tags.get(k).map(|v| v.to_string());
        let (walk, any, factor) = way_rule(&tag);
        if any {
            ways.push((walk, factor, w.nodes.iter().map(|n| n.0).collect()));
        }
    }
    let wanted: HashSet<i64> = ways.iter().flat_map(|w| w.2.iter().copied()).collect();
    r.rewind().unwrap();
    let mut pos: HashMap<i64, (f64, f64)> = HashMap::new();
    for n in r.iter_nodes() {
        let n = n.unwrap();
        if wanted.contains(&n.id.0) {
            pos.insert(n.id.0, (n.lat(), n.lon()));
        }
    }
    // Nodes of segments of routable ways (for the projection), walk edges (for the graph).
    let mut index: HashMap<i64, u32> = HashMap::new();
    let mut coords = Vec::new();
    let mut lat_sum = 0.0;
    let mut edges: HashMap<(u32, u32), u32> = HashMap::new();
    for (walk, factor, nodes) in &ways {
        for pair in nodes.windows(2) {
            let (Some(&pa), Some(&pb)) = (pos.get(&pair[0]), pos.get(&pair[1])) else { continue };
            if pair[0] == pair[1] {
                continue;
            }
            let mut id = |osm: i64, p: (f64, f64)| {
                *index.entry(osm).or_insert_with(|| {
                    coords.push(p);
                    lat_sum += p.0;
                    coords.len() as u32 - 1
                })
            };
            let (a, b) = (id(pair[0], pa), id(pair[1], pb));
            if *walk {
                let len_dm = ((haversine(pa, pb) * 10.0).round() as u32).max(1);
                let cost = (len_dm as f64 * factor).round() as u32;
                let key = (a.min(b), a.max(b));
                let e = edges.entry(key).or_insert(cost);
                *e = (*e).min(cost);
            }
        }
    }
    let ref_lat = lat_sum / coords.len() as f64;
    // Largest connected component of the walk graph.
    let n = coords.len();
    let mut adj: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (&(a, b), &c) in &edges {
        adj[a as usize].push((b, c));
        adj[b as usize].push((a, c));
    }
    let mut comp = vec![u32::MAX; n];
    let mut sizes = Vec::new();
    for s in 0..n {
        if comp[s] != u32::MAX || adj[s].is_empty() {
            continue;
        }
        let c = sizes.len() as u32;
        let mut stack = vec![s];
        comp[s] = c;
        let mut size = 0;
        while let Some(u) = stack.pop() {
            size += 1;
            for &(v, _) in &adj[u] {
                if comp[v as usize] == u32::MAX {
                    comp[v as usize] = c;
                    stack.push(v as usize);
                }
            }
        }
        sizes.push(size);
    }
    let big = (0..sizes.len()).max_by_key(|&c| sizes[c]).unwrap() as u32;
    for u in 0..n {
        if comp[u] != big {
            adj[u].clear();
        }
    }
    let cos_ref = ref_lat.to_radians().cos();
    let mut st = Streets { coords, adj, cos_ref, segs: Vec::new(), grid: HashMap::new() };
    let mut segs: Vec<(u32, u32)> = edges.keys().copied().filter(|&(a, _)| comp[a as usize] == big).collect();
    segs.sort_unstable();
    for (i, &(a, b)) in segs.iter().enumerate() {
        let (pa, pb) = (st.xy(st.coords[a as usize]), st.xy(st.coords[b as usize]));
        let (x0, x1) = ((pa.0.min(pb.0) / CELL).floor() as i64, (pa.0.max(pb.0) / CELL).floor() as i64);
        let (y0, y1) = ((pa.1.min(pb.1) / CELL).floor() as i64, (pa.1.max(pb.1) / CELL).floor() as i64);
        for x in x0..=x1 {
            for y in y0..=y1 {
                st.grid.entry((x, y)).or_default().push(i as u32);
            }
        }
    }
    st.segs = segs;
    st
}

impl Streets {
    fn xy(&self, p: (f64, f64)) -> (f64, f64) {
        (p.1.to_radians() * R_EARTH * self.cos_ref, p.0.to_radians() * R_EARTH)
    }

    /// Nearest point of a walkable segment within `max_m`.
    fn snap(&self, p: (f64, f64), max_m: f64) -> Option<Snap> {
        let q = self.xy(p);
        let (cx, cy) = ((q.0 / CELL).floor() as i64, (q.1 / CELL).floor() as i64);
        let mut best: Option<Snap> = None;
        let mut seen = HashSet::new();
        for ring in 0..=((max_m / CELL).ceil() as i64 + 1) {
            for x in cx - ring..=cx + ring {
                for y in cy - ring..=cy + ring {
                    if (x - cx).abs() != ring && (y - cy).abs() != ring {
                        continue;
                    }
                    for &i in self.grid.get(&(x, y)).map(|v| v.as_slice()).unwrap_or(&[]) {
                        if !seen.insert(i) {
                            continue;
                        }
                        let (a, b) = self.segs[i as usize];
                        let (pa, pb) = (self.xy(self.coords[a as usize]), self.xy(self.coords[b as usize]));
                        let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
                        let l2 = dx * dx + dy * dy;
                        let t = if l2 > 0.0 { (((q.0 - pa.0) * dx + (q.1 - pa.1) * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
                        let d = ((q.0 - pa.0 - t * dx).powi(2) + (q.1 - pa.1 - t * dy).powi(2)).sqrt();
                        if best.is_none_or(|s| d < s.dist_m) {
                            best = Some(Snap { a, b, t, dist_m: d });
                        }
                    }
                }
            }
            // Every segment closer than `ring` cells has been seen.
            if best.is_some_and(|s| s.dist_m <= ring as f64 * CELL) {
                break;
            }
        }
        best.filter(|s| s.dist_m <= max_m)
    }

    fn edge(&self, a: u32, b: u32) -> u32 {
        self.adj[a as usize].iter().find(|e| e.0 == b).map(|e| e.1).unwrap()
    }

    /// Dijkstra from a snapped point, costs up to `max_dm`.
    fn walk_from(&self, s: &Snap, max_dm: u32) -> HashMap<u32, u32> {
        let off = (s.dist_m * 10.0).round() as u32;
        let full = self.edge(s.a, s.b) as f64;
        let mut dist: HashMap<u32, u32> = HashMap::new();
        let mut heap = BinaryHeap::new();
        for (v, c) in [(s.b, off + ((1.0 - s.t) * full).round() as u32), (s.a, off + (s.t * full).round() as u32)] {
            if c <= max_dm && dist.get(&v).is_none_or(|&d| c < d) {
                dist.insert(v, c);
                heap.push(std::cmp::Reverse((c, v)));
            }
        }
        while let Some(std::cmp::Reverse((d, u))) = heap.pop() {
            if dist[&u] < d {
                continue;
            }
            for &(v, w) in &self.adj[u as usize] {
                let nd = d + w;
                if nd <= max_dm && dist.get(&v).is_none_or(|&x| nd < x) {
                    dist.insert(v, nd);
                    heap.push(std::cmp::Reverse((nd, v)));
                }
            }
        }
        dist
    }

    /// Effort to reach a snapped point from a finished walk.
    fn to_snap(&self, dist: &HashMap<u32, u32>, s: &Snap) -> Option<u32> {
        let full = self.edge(s.a, s.b) as f64;
        let via_a = dist.get(&s.a).map(|d| d + (s.t * full).round() as u32);
        let via_b = dist.get(&s.b).map(|d| d + ((1.0 - s.t) * full).round() as u32);
        via_a.into_iter().chain(via_b).min().map(|c| c + (s.dist_m * 10.0).round() as u32)
    }
}

// ---------------------------------------------------------------- timetable

struct Connection {
    dep: i64,
    arr: i64,
    trip: u32,
    from: u32,
    to: u32,
    pickup: bool,
    drop: bool,
}

struct Transit {
    stops: Vec<(f64, f64)>,
    served: Vec<bool>,
    conns: Vec<Connection>,
}

fn read_transit(feeds: &[PathBuf], date: jiff::civil::Date) -> Transit {
    let mut stops = Vec::new();
    let mut served = Vec::new();
    let mut conns = Vec::new();
    let mut n_trips = 0u32;
    for feed in feeds {
        assert!(raw_table(feed, "transfers.txt").is_none() && raw_table(feed, "frequencies.txt").is_none(), "the reference has no transfer or frequency rules");
        let st = raw_table(feed, "stops.txt").unwrap();
        assert!(!st.cols.contains_key("parent_station"), "the reference has no station rules");
        let mut sidx: HashMap<String, u32> = HashMap::new();
        for row in &st.rows {
            sidx.insert(st.get(row, "stop_id").to_string(), stops.len() as u32);
            stops.push((st.get(row, "stop_lat").parse::<f64>().unwrap(), st.get(row, "stop_lon").parse::<f64>().unwrap()));
            served.push(false);
        }
        let dates = raw_service_dates(feed);
        let trips = raw_table(feed, "trips.txt").unwrap();
        // Day offset(s) each trip runs on relative to `date` (the day before, for times past 24:00).
        let mut runs: HashMap<String, Vec<i64>> = HashMap::new();
        for row in &trips.rows {
            let on = |d: jiff::civil::Date| dates.get(trips.get(row, "service_id")).is_some_and(|s| s.contains(&d.strftime("%Y%m%d").to_string()));
            let days: Vec<i64> = [(-1i64, date.yesterday().unwrap()), (0, date)].into_iter().filter(|(_, d)| on(*d)).map(|(k, _)| k).collect();
            runs.insert(trips.get(row, "trip_id").to_string(), days);
        }
        let times = raw_table(feed, "stop_times.txt").unwrap();
        let mut by_trip: HashMap<String, Vec<(u32, u32, Option<i64>, Option<i64>, bool, bool)>> = HashMap::new();
        for row in &times.rows {
            let stop = sidx[times.get(row, "stop_id")];
            let (a, d) = (parse_hms(times.get(row, "arrival_time")), parse_hms(times.get(row, "departure_time")));
            by_trip.entry(times.get(row, "trip_id").to_string()).or_default().push((
                times.get(row, "stop_sequence").parse().unwrap(),
                stop,
                a.or(d),
                d.or(a),
                times.get(row, "pickup_type") != "1",
                times.get(row, "drop_off_type") != "1",
            ));
        }
        let mut ids: Vec<&String> = by_trip.keys().collect();
        ids.sort();
        for id in ids {
            let mut sts = by_trip[id].clone();
            sts.sort_by_key(|s| s.0);
            let n = sts.len();
            if n < 2 || sts[0].3.is_none() || sts[n - 1].2.is_none() {
                continue;
            }
            // Interpolation by straight-line distance between consecutive stops.
            let mut cum = vec![0.0; n];
            for i in 1..n {
                cum[i] = cum[i - 1] + haversine(stops[sts[i - 1].1 as usize], stops[sts[i].1 as usize]);
            }
            let mut last = 0;
            for i in 1..n {
                if sts[i].2.is_some() {
                    let (t0, t1) = (sts[last].3.unwrap() as f64, sts[i].2.unwrap() as f64);
                    for j in last + 1..i {
                        let f = if cum[i] > cum[last] { (cum[j] - cum[last]) / (cum[i] - cum[last]) } else { (j - last) as f64 / (i - last) as f64 };
                        let t = (t0 + f * (t1 - t0)).round() as i64;
                        sts[j].2 = Some(t);
                        sts[j].3 = Some(t);
                    }
                    last = i;
                }
            }
            if (0..n).any(|i| sts[i].3 < sts[i].2 || (i > 0 && sts[i].2 < sts[i - 1].3)) {
                continue;
            }
            for s in &sts {
                served[s.1 as usize] = true;
            }
            for &day in runs.get(id.as_str()).map(|v| v.as_slice()).unwrap_or(&[]) {
                let shift = day * 86_400;
                for w in sts.windows(2) {
                    conns.push(Connection { dep: w[0].3.unwrap() + shift, arr: w[1].2.unwrap() + shift, trip: n_trips, from: w[0].1, to: w[1].1, pickup: w[0].4, drop: w[1].5 });
                }
                n_trips += 1;
            }
        }
    }
    conns.sort_by_key(|c| (c.dep, c.arr));
    Transit { stops, served, conns }
}

// ---------------------------------------------------------------- the reference

struct Reference {
    streets: Streets,
    transit: Transit,
    stop_links: Vec<Option<Snap>>,
    targets: Vec<(f64, f64)>,
    target_snaps: Vec<Option<Snap>>,
    /// Per stop: (target, seconds) within MAX_WALK_S.
    egress: Vec<Vec<(u32, u32)>>,
    /// Per stop: (stop, seconds) within MAX_TRANSFER_WALK_S.
    transfers: Vec<Vec<(u32, u32)>>,
}

impl Reference {
    fn new(streets: Streets, transit: Transit, targets: Vec<(f64, f64)>) -> Self {
        let stop_links: Vec<Option<Snap>> = transit.stops.iter().map(|&p| streets.snap(p, STOP_SNAP_M)).collect();
        let target_snaps: Vec<Option<Snap>> = targets.iter().map(|&p| streets.snap(p, POINT_SNAP_M)).collect();
        let n = transit.stops.len();
        let mut egress = vec![Vec::new(); n];
        let mut transfers = vec![Vec::new(); n];
        let max_dm = |s: u32| (s as f64 * SPEED_MPS * 10.0).ceil() as u32 + 1;
        for s in 0..n {
            if !transit.served[s] {
                continue;
            }
            let here = transit.stops[s];
            let walk = stop_links[s].map(|l| streets.walk_from(&l, max_dm(MAX_WALK_S)));
            let effort = |link: Option<Snap>, p: (f64, f64)| match (&walk, link) {
                (Some(w), Some(l)) => streets.to_snap(w, &l),
                _ => Some(straight_dm(here, p)),
            };
            for (t, &p) in targets.iter().enumerate() {
                if haversine(here, p) > 2000.0 {
                    continue;
                }
                if let Some(sec) = effort(target_snaps[t], p).map(secs).filter(|&x| x <= MAX_WALK_S) {
                    egress[s].push((t as u32, sec));
                }
            }
            for q in 0..n {
                if q == s || !transit.served[q] || haversine(here, transit.stops[q]) > 1000.0 {
                    continue;
                }
                if let Some(sec) = effort(stop_links[q], transit.stops[q]).map(secs).filter(|&x| x <= MAX_TRANSFER_WALK_S) {
                    transfers[s].push((q as u32, sec));
                }
            }
        }
        Reference { streets, transit, stop_links, targets, target_snaps, egress, transfers }
    }

    /// Travel times (seconds, None = unreachable) from `origin` to every target at
    /// each departure minute of the window.
    fn times(&self, origin: (f64, f64)) -> Vec<Vec<Option<u32>>> {
        let st = &self.streets;
        let tr = &self.transit;
        let max_dm = (MAX_WALK_S as f64 * SPEED_MPS * 10.0).ceil() as u32 + 1;
        let snap = st.snap(origin, POINT_SNAP_M);
        let walk = snap.map(|s| st.walk_from(&s, max_dm));
        let mut direct = vec![None; self.targets.len()];
        let mut access: Vec<(u32, u32)> = Vec::new();
        if let Some(w) = &walk {
            for (t, ts) in self.target_snaps.iter().enumerate() {
                direct[t] = ts.and_then(|ts| st.to_snap(w, &ts)).map(secs).filter(|&x| x <= MAX_WALK_S.min(MAX_TRIP_S));
            }
            for (s, link) in self.stop_links.iter().enumerate() {
                let e = match link {
                    Some(l) => st.to_snap(w, l),
                    None => Some(straight_dm(origin, tr.stops[s])),
                };
                if let Some(x) = e.map(secs).filter(|&x| x <= MAX_WALK_S) {
                    access.push((s as u32, x));
                }
            }
        }
        let n = tr.stops.len();
        let inf = i64::MAX / 4;
        let n_trips = tr.conns.iter().map(|c| c.trip).max().unwrap() as usize + 1;
        let mut out = vec![Vec::new(); self.targets.len()];
        for m in (WINDOW.0..WINDOW.1).step_by(60) {
            // ready[k][s]: at s, ready to board, after k rides; rode[s]: arrival by a ride.
            let mut ready = vec![vec![inf; n]; MAX_RIDES + 1];
            let mut rode = vec![inf; n];
            let mut boarded = vec![usize::MAX; n_trips];
            for &(s, x) in &access {
                ready[0][s as usize] = m + x as i64;
            }
            let first = tr.conns.partition_point(|c| c.dep < m);
            for c in &tr.conns[first..] {
                if c.dep > m + MAX_TRIP_S as i64 {
                    break;
                }
                let (u, v, t) = (c.from as usize, c.to as usize, c.trip as usize);
                if c.pickup {
                    if let Some(k) = (0..MAX_RIDES).find(|&k| ready[k][u] <= c.dep) {
                        boarded[t] = boarded[t].min(k + 1);
                    }
                }
                let k = boarded[t];
                if k == usize::MAX || !c.drop {
                    continue;
                }
                rode[v] = rode[v].min(c.arr);
                for r in k..=MAX_RIDES {
                    ready[r][v] = ready[r][v].min(c.arr);
                    for &(q, w) in &self.transfers[v] {
                        ready[r][q as usize] = ready[r][q as usize].min(c.arr + w as i64);
                    }
                }
            }
            let mut arrive = vec![inf; self.targets.len()];
            for s in 0..n {
                if rode[s] < inf {
                    for &(t, w) in &self.egress[s] {
                        arrive[t as usize] = arrive[t as usize].min(rode[s] + w as i64);
                    }
                }
            }
            for t in 0..self.targets.len() {
                let by_transit = (arrive[t] < inf).then(|| (arrive[t] - m) as u32);
                let best = [direct[t], by_transit].into_iter().flatten().min().filter(|&x| x <= MAX_TRIP_S);
                out[t].push(best);
            }
        }
        out
    }
}

/// Nearest-rank percentile; unreachable minutes count as infinitely long.
fn percentile(v: &[Option<u32>], p: f64) -> Option<u32> {
    let mut s: Vec<u32> = v.iter().map(|x| x.unwrap_or(u32::MAX)).collect();
    s.sort_unstable();
    let idx = ((p / 100.0 * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
    Some(s[idx]).filter(|&x| x != u32::MAX)
}

const PERCENTILES: [f64; 3] = [25.0, 50.0, 75.0];

/// The Porto Alegre hexagons, read with csv: ids, (lat, lon), jobs.
fn hexagons(poa_dir: &Path) -> (Vec<String>, Vec<(f64, f64)>, Vec<f64>) {
    let (mut ids, mut hex, mut jobs) = (Vec::new(), Vec::new(), Vec::new());
    let mut rdr = csv::Reader::from_path(poa_dir.join("poa_hexgrid.csv")).unwrap();
    for r in rdr.deserialize::<HashMap<String, String>>() {
        let r = r.unwrap();
        ids.push(r["id"].clone());
        hex.push((r["lat"].parse::<f64>().unwrap(), r["lon"].parse::<f64>().unwrap()));
        jobs.push(r["jobs"].parse::<f64>().unwrap_or(0.0));
    }
    (ids, hex, jobs)
}

fn terril(args: &[&str]) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_terril")).args(args).output().unwrap();
    assert!(o.status.success(), "terril {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn terril_matrix_and_access_equal_an_independent_connection_scan_to_the_second() {
    let d = require_data!();
    let poa_dir = d.join("porto-alegre");
    let dir = std::env::temp_dir().join(format!("terril-reference-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (hex_ids, hex, jobs) = hexagons(&poa_dir);
    // Eight origins spread over the city: the hexagons nearest the centre (Mercado), the
    // north (Sarandi), the east (Protásio Alves), the south (Cristal), the airport, the
    // far east (Lomba do Pinheiro), the south-west shore and one in the middle.
    let near = |p: (f64, f64)| (0..hex.len()).min_by(|&a, &b| haversine(hex[a], p).total_cmp(&haversine(hex[b], p))).unwrap();
    let origins: Vec<usize> = [(-30.0277, -51.2278), (-29.99, -51.13), (-30.05, -51.16), (-30.10, -51.24), (-29.99, -51.17), (-30.11, -51.11), (-30.15, -51.22), (-30.04, -51.20)].into_iter().map(near).collect();
    let mut csv_origins = String::from("id,lat,lon\n");
    for &o in &origins {
        csv_origins.push_str(&format!("{},{},{}\n", hex_ids[o], hex[o].0, hex[o].1));
    }
    let origins_file = dir.join("origins.csv");
    std::fs::write(&origins_file, csv_origins).unwrap();

    // terril: build, matrix in seconds, and jobs within 30/45/60 minutes.
    let net = dir.join("poa.bin");
    let (eptc, trensurb, osm, hexfile) = (poa_dir.join("poa_eptc.zip"), poa_dir.join("poa_trensurb.zip"), poa_dir.join("poa_osm.pbf"), poa_dir.join("poa_hexgrid.csv"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    terril(&["build", "--gtfs", &s(&eptc), "--gtfs", &s(&trensurb), "--osm", &s(&osm), "--out", &s(&net)]);
    let rules = ["--date", "2019-05-13", "--window", "14:00-15:00", "--transfer-slack", "0", "--walk-speed", "4.68", "--max-walk-time", "20", "--max-transfer-walk-time", "10", "--max-rides", "4", "--max-trip-duration", "60"];
    let matrix = dir.join("m.csv");
    let mut args = vec!["matrix".to_string(), "--network".into(), s(&net), "--origins".into(), s(&origins_file), "--destinations".into(), s(&hexfile), "--seconds".into(), "--percentiles".into(), "25,50,75".into(), "--cutoff".into(), "60".into(), "--out".into(), s(&matrix)];
    args.extend(rules.iter().map(|x| x.to_string()));
    terril(&args.iter().map(|x| x.as_str()).collect::<Vec<_>>());
    let access = dir.join("a.csv");
    let mut args = vec!["access".to_string(), "--network".into(), s(&net), "--origins".into(), s(&origins_file), "--destinations".into(), s(&hexfile), "--columns".into(), "jobs".into(), "--cutoffs".into(), "30,45,60".into(), "--out".into(), s(&access)];
    args.extend(rules.iter().map(|x| x.to_string()));
    terril(&args.iter().map(|x| x.as_str()).collect::<Vec<_>>());

    // The reference, from the raw files.
    let reference = Reference::new(read_streets(&osm), read_transit(&[eptc, trensurb], jiff::civil::date(2019, 5, 13)), hex.clone());
    let mut got: HashMap<(String, String), Vec<Option<u32>>> = HashMap::new();
    let mut rdr = csv::Reader::from_path(&matrix).unwrap();
    assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), ["from_id", "to_id", "travel_time_p25_s", "travel_time_p50_s", "travel_time_p75_s"]);
    for r in rdr.records() {
        let r = r.unwrap();
        got.insert((r[0].to_string(), r[1].to_string()), (2..5).map(|i| if r[i].is_empty() { None } else { Some(r[i].parse().unwrap()) }).collect());
    }
    let mut access_rows: HashMap<String, csv::StringRecord> = HashMap::new();
    let mut rdr = csv::Reader::from_path(&access).unwrap();
    let header = rdr.headers().unwrap().clone();
    for r in rdr.records() {
        let r = r.unwrap();
        access_rows.insert(r[0].to_string(), r);
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    let mut mismatches = Vec::new();
    let (mut reachable, mut by_transit) = (0, 0);
    for &o in &origins {
        let times = reference.times(hex[o]);
        let mut within = [0.0f64; 3];
        for (t, per_minute) in times.iter().enumerate() {
            let want: Vec<Option<u32>> = PERCENTILES.iter().map(|&p| percentile(per_minute, p)).collect();
            let have = &got[&(hex_ids[o].clone(), hex_ids[t].clone())];
            if want != *have {
                mismatches.push(format!("{} -> {}: reference p25/p50/p75 {want:?}, terril {have:?}", hex_ids[o], hex_ids[t]));
            }
            if let Some(x) = want[1] {
                reachable += 1;
                by_transit += (x > 20 * 60) as usize;
                for (i, c) in [30, 45, 60].iter().enumerate() {
                    if x <= c * 60 {
                        within[i] += jobs[t];
                    }
                }
            }
        }
        let row = &access_rows[&hex_ids[o]];
        for (i, c) in [30, 45, 60].iter().enumerate() {
            let v: f64 = row[col(&format!("jobs_within_{c}min_p50"))].parse().unwrap();
            if v != within[i] {
                mismatches.push(format!("{}: jobs within {c} min, terril {v} vs reference {}", hex_ids[o], within[i]));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} of {} pairs differ; first: {:#?}", mismatches.len(), origins.len() * hex.len(), &mismatches[..mismatches.len().min(40)]);
    // The comparison covers transit, not only walks.
    assert!(reachable > 1000 && by_transit > 500, "{reachable} pairs reachable, {by_transit} over 20 min (by transit)");
    let _ = std::fs::remove_dir_all(&dir);
}

/// terril's walking routes (`modes=walk`, answered on the build's contraction hierarchy)
/// against this file's own street Dijkstra, for 100 pairs of hexagons drawn over the whole
/// city: the same pairs answered however long the walk, each to the second.
#[test]
fn walking_routes_equal_the_reference_street_dijkstra_for_100_hexagon_pairs() {
    use terril::model::geo::LatLon;
    use terril::route::plan::{Place, PlanRequest, Router};
    let d = require_data!();
    let poa_dir = d.join("porto-alegre");
    let (_, hex, _) = hexagons(&poa_dir);
    let streets = read_streets(&poa_dir.join("poa_osm.pbf"));
    let router = Router::new(build_net(&[poa_dir.join("poa_eptc.zip"), poa_dir.join("poa_trensurb.zip")], Some(poa_dir.join("poa_osm.pbf"))));
    // Pairs from a fixed linear congruential sequence (Knuth's MMIX constants).
    let mut x: u64 = 16;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 33) % hex.len() as u64) as usize
    };
    let (mut compared, mut answered, mut long, mut mismatches) = (0, 0, 0, Vec::new());
    while compared < 100 {
        let (a, b) = (next(), next());
        if a == b {
            continue;
        }
        let want = match (streets.snap(hex[a], POINT_SNAP_M), streets.snap(hex[b], POINT_SNAP_M)) {
            (Some(sa), Some(sb)) => streets.to_snap(&streets.walk_from(&sa, u32::MAX), &sb).map(secs),
            _ => None,
        };
        let mut req = PlanRequest::new(Place::Coord(LatLon::new(hex[a].0, hex[a].1)), Place::Coord(LatLon::new(hex[b].0, hex[b].1)), jiff::civil::date(2019, 5, 13), 14 * 3600);
        req.modes = 0;
        req.walk_speed_mps = SPEED_MPS;
        let plan = router.plan(&req).unwrap_or_else(|e| panic!("pair {a} -> {b}: {e}"));
        assert!(plan.itineraries.is_empty() && plan.direct.iter().all(|i| i.legs.iter().all(|l| l.mode == "walk")), "modes=walk answered something else than walking");
        let have = plan.direct.first().map(|i| i.duration_s);
        if want != have {
            mismatches.push(format!("hexagons {a} -> {b}: reference {want:?} s, terril {have:?} s"));
        }
        long += usize::from(want.is_some_and(|s| s > 3600));
        answered += usize::from(have.is_some());
        compared += 1;
    }
    assert!(mismatches.is_empty(), "{} of 100 walks differ:\n{}", mismatches.len(), mismatches.join("\n"));
    // A hexagon more than 2 km from any street of the extract has no walk (in both).
    assert!(answered >= 95, "only {answered} of 100 pairs answered");
    // The draw spans the city: most walks are over an hour (the old 60-minute cap dropped them).
    assert!(long >= 50, "only {long} of 100 walks are over an hour: the pairs do not span the city");
}

/// terril's walking matrix (`matrix --mode walk` over the whole city: one PHAST sweep of
/// the build's hierarchy per origin) against this file's own street Dijkstra: 20 origins
/// to all 1,227 hexagons, to the second.
#[test]
fn the_walking_matrix_equals_the_reference_street_dijkstra_for_20_origins() {
    let d = require_data!();
    let poa_dir = d.join("porto-alegre");
    let dir = std::env::temp_dir().join(format!("terril-reference-walk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ids, hex, _) = hexagons(&poa_dir);
    let origins: Vec<usize> = (0..20).map(|i| i * 61 % hex.len()).collect();
    let mut csv_origins = String::from("id,lat,lon\n");
    for &o in &origins {
        csv_origins.push_str(&format!("{},{},{}\n", ids[o], hex[o].0, hex[o].1));
    }
    let s = |p: &Path| p.to_str().unwrap().to_string();
    std::fs::write(dir.join("origins.csv"), csv_origins).unwrap();
    let (net, out) = (dir.join("poa.bin"), dir.join("walk.csv"));
    terril(&["build", "--gtfs", &s(&poa_dir.join("poa_eptc.zip")), "--osm", &s(&poa_dir.join("poa_osm.pbf")), "--out", &s(&net)]);
    terril(&["matrix", "--network", &s(&net), "--origins", &s(&dir.join("origins.csv")), "--destinations", &s(&poa_dir.join("poa_hexgrid.csv")), "--mode", "walk", "--walk-speed", "4.68", "--max-walk-time", "240", "--cutoff", "240", "--date", "2019-05-13", "--window", "14:00-14:01", "--seconds", "--out", &s(&out)]);
    let mut got: HashMap<(String, String), Option<u32>> = HashMap::new();
    for r in csv::Reader::from_path(&out).unwrap().records() {
        let r = r.unwrap();
        got.insert((r[0].to_string(), r[1].to_string()), if r[2].is_empty() { None } else { Some(r[2].parse().unwrap()) });
    }
    let streets = read_streets(&poa_dir.join("poa_osm.pbf"));
    let (mut mismatches, mut reached) = (Vec::new(), 0);
    for &o in &origins {
        let dist = streets.snap(hex[o], POINT_SNAP_M).map(|s| streets.walk_from(&s, u32::MAX));
        for t in 0..hex.len() {
            let want = dist.as_ref().and_then(|dist| streets.to_snap(dist, &streets.snap(hex[t], POINT_SNAP_M)?)).map(secs).filter(|&x| x <= 240 * 60);
            let have = got[&(ids[o].clone(), ids[t].clone())];
            reached += usize::from(want.is_some());
            if want != have && mismatches.len() < 20 {
                mismatches.push(format!("{} -> {}: reference {want:?}, terril {have:?}", ids[o], ids[t]));
            }
        }
    }
    assert!(mismatches.is_empty(), "walking matrix differs from the reference:\n{}", mismatches.join("\n"));
    assert!(reached > 20 * 1100, "only {reached} pairs reached");
    let _ = std::fs::remove_dir_all(&dir);
}
