//! Destinations of an analysis, linked to the network: a set of points (hexagons,
//! hospitals, commune centroids) snapped to street edges, or a regular grid whose cells
//! are reached through their nearest street node. Each target set carries a walking table
//! stop -> targets (R5's "egress cost table"), computed once and shared by every origin
//! and by baseline and scenario runs.

use crate::model::geo::{distance_m, LatLon, LocalProjection};
use crate::model::streets::{Profile, Snap};
use crate::model::timetable::StopIdx;
use crate::model::Network;
use crate::model::search::{cost_to_snap, seeds_from, straight_line_dm, Pace, StreetSearch, DETOUR_FACTOR};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Opportunities or origins: points with named weight columns and optional labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointSet {
    pub name: String,
    pub ids: Vec<String>,
    pub points: Vec<LatLon>,
    /// Column names of `weights`.
    pub columns: Vec<String>,
    /// weights[column][point].
    pub weights: Vec<Vec<f64>>,
    /// Free-text label per point (commune name...), empty when none.
    pub labels: Vec<String>,
    /// Every column or property of the file as text, one value per point (facility type,
    /// EPCI...): what `only` filters on and reports group by.
    pub text: Vec<(String, Vec<String>)>,
}

impl PointSet {
    pub fn len(&self) -> usize {
        self.points.len()
    }
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns.iter().position(|c| c == name).map(|i| self.weights[i].as_slice())
    }
    /// The points at `idx`, in that order, with their ids, labels and weights.
    pub fn subset(&self, idx: &[usize]) -> PointSet {
        PointSet {
            name: self.name.clone(),
            ids: idx.iter().map(|&i| self.ids[i].clone()).collect(),
            points: idx.iter().map(|&i| self.points[i]).collect(),
            columns: self.columns.clone(),
            weights: self.weights.iter().map(|w| idx.iter().map(|&i| w[i]).collect()).collect(),
            labels: idx.iter().map(|&i| self.labels.get(i).cloned().unwrap_or_default()).collect(),
            text: self.text.iter().map(|(n, v)| (n.clone(), idx.iter().map(|&i| v[i].clone()).collect())).collect(),
        }
    }

    /// A text column by name.
    pub fn text_column(&self, name: &str) -> Option<&[String]> {
        self.text.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// Text columns worth filtering on (a facility's type, public or private): 2 to
    /// `max_values` distinct values, not all numbers; with their values, sorted.
    pub fn filter_columns(&self, max_values: usize) -> Vec<(String, Vec<String>)> {
        self.text
            .iter()
            .filter_map(|(name, vals)| {
                let mut v: Vec<String> = vals.iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
                v.sort();
                v.dedup();
                let numbers = v.iter().all(|x| x.parse::<f64>().is_ok());
                ((2..=max_values).contains(&v.len()) && !numbers).then(|| (name.clone(), v))
            })
            .collect()
    }

    /// The points whose `COLUMN` holds `VALUE` (`filter` is `COLUMN=VALUE`; case, accents
    /// and a part of the text are enough: `facility_type=centre hospitalier`).
    pub fn only(&self, filter: &str) -> Result<PointSet, String> {
        let (col, val) = filter.split_once('=').ok_or_else(|| format!("a filter is COLUMN=VALUE, got '{filter}'"))?;
        let (col, val) = (col.trim(), val.trim());
        let vals = self.text_column(col).ok_or_else(|| format!("'{}' has no column '{col}'; its columns are {}", self.name, self.text.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(", ")))?;
        let want = crate::model::text::normalize(val);
        let idx: Vec<usize> = vals.iter().enumerate().filter(|(_, v)| crate::model::text::normalize(v).contains(&want)).map(|(i, _)| i).collect();
        if idx.is_empty() {
            return Err(format!("no point of '{}' has '{val}' in its column '{col}'", self.name));
        }
        Ok(self.subset(&idx))
    }
}

/// A regular metric grid: cell (i, j) has its centre at (x0 + (i + 0.5) * size, y0 + (j + 0.5) * size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    pub x0: f64,
    pub y0: f64,
    pub cell_m: f64,
    pub projection_lat: f64,
}

impl GridSpec {
    pub fn projection(&self) -> LocalProjection {
        LocalProjection::new(self.projection_lat)
    }
    pub fn cell_of(&self, xy: [f64; 2]) -> (i32, i32) {
        (((xy[0] - self.x0) / self.cell_m).floor() as i32, ((xy[1] - self.y0) / self.cell_m).floor() as i32)
    }
    pub fn centre(&self, c: (i32, i32)) -> [f64; 2] {
        [self.x0 + (c.0 as f64 + 0.5) * self.cell_m, self.y0 + (c.1 as f64 + 0.5) * self.cell_m]
    }
}

/// Targets linked to the network, with the stop -> target walking table.
#[derive(Debug, Clone)]
pub struct LinkedTargets {
    pub points: Vec<LatLon>,
    /// Where each target meets the walk graph (None: unlinked, straight lines only).
    pub snaps: Vec<Option<Snap>>,
    /// Grid cells, when the targets are a grid.
    pub grid: Option<(GridSpec, Vec<(i32, i32)>)>,
    /// The walking tables hold walks up to this effort (decimetres): `max_egress_s` at the
    /// default walking speed.
    pub max_egress_dm: u32,
    egress_offsets: Vec<u32>,
    /// (target, effort decimetres) per stop.
    egress: Vec<(u32, u32)>,
    /// `egress` timed at the default walking speed.
    egress_walk_s: Arc<[u32]>,
    /// `egress` timed at the last other speed asked (a batch asks one speed for every
    /// origin: converted once, not per origin).
    egress_paced: Arc<Mutex<Option<(Pace, Arc<[u32]>)>>>,
}

impl LinkedTargets {
    pub fn len(&self) -> usize {
        self.points.len()
    }
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
    /// Targets within walking reach of `stop`: (target, effort decimetres).
    pub fn egress(&self, stop: StopIdx) -> &[(u32, u32)] {
        &self.egress[self.egress_range(stop)]
    }
    /// Positions of `stop`'s walks in [`Self::egress_secs`].
    pub fn egress_range(&self, stop: StopIdx) -> std::ops::Range<usize> {
        self.egress_offsets[stop as usize] as usize..self.egress_offsets[stop as usize + 1] as usize
    }
    /// Every walk's seconds at `pace` (precomputed for the default walking speed, kept
    /// for the last other speed).
    pub fn egress_secs(&self, pace: Pace) -> Arc<[u32]> {
        if pace == Pace::WALK {
            return self.egress_walk_s.clone();
        }
        let mut cache = self.egress_paced.lock().unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((p, v)) if *p == pace => v.clone(),
            _ => {
                let v: Arc<[u32]> = self.egress.iter().map(|&(_, dm)| pace.secs(dm)).collect();
                *cache = Some((pace, v.clone()));
                v
            }
        }
    }
    /// The longest walk the tables hold at `pace`, seconds.
    pub fn max_egress_secs(&self, pace: Pace) -> u32 {
        pace.secs(self.max_egress_dm)
    }
    pub fn egress_entries(&self) -> usize {
        self.egress.len()
    }

    /// Points snapped to street edges (within `snap_m`).
    pub fn from_points(net: &Network, points: &[LatLon], max_egress_s: u32) -> Self {
        let snaps: Vec<Option<Snap>> = match net.streets.as_ref().filter(|_| net.has_streets()) {
            Some(st) => points.par_iter().map(|p| st.snap(*p, Profile::Walk, crate::route::plan::MAX_SNAP_M)).collect(),
            None => vec![None; points.len()],
        };
        Self::link(net, points.to_vec(), snaps, None, max_egress_s)
    }

    /// A grid of `cell_m` cells over the network: with streets, every cell holding a
    /// street node (reached through the node nearest its centre); without, every cell
    /// within walking reach of a stop.
    pub fn grid(net: &Network, cell_m: f64, max_egress_s: u32) -> Self {
        let bbox = net.bbox();
        let lat0 = (bbox.min_lat + bbox.max_lat) / 2.0;
        let pr = LocalProjection::new(lat0);
        let corner = pr.project(LatLon::new(bbox.min_lat, bbox.min_lon));
        let spec = GridSpec { x0: corner[0] - cell_m, y0: corner[1] - cell_m, cell_m, projection_lat: lat0 };
        let mut cells: std::collections::BTreeMap<(i32, i32), (f64, Option<u32>)> = Default::default();
        match net.streets.as_ref().filter(|_| net.has_streets()) {
            Some(st) => {
                let walk = st.graph(Profile::Walk);
                for (v, c) in st.coords.iter().enumerate() {
                    if walk.forward.degree(v as u32) == 0 {
                        continue;
                    }
                    let xy = pr.project(*c);
                    let cell = spec.cell_of(xy);
                    let ctr = spec.centre(cell);
                    let d = ((xy[0] - ctr[0]).powi(2) + (xy[1] - ctr[1]).powi(2)).sqrt();
                    let e = cells.entry(cell).or_insert((f64::INFINITY, None));
                    if d < e.0 {
                        *e = (d, Some(v as u32));
                    }
                }
            }
            None => {
                let radius = Pace::WALK.reach_dm(max_egress_s) as f64 / 10.0 / DETOUR_FACTOR;
                let r = (radius / cell_m).ceil() as i32;
                for (s, c) in net.timetable.stops.coords.iter().enumerate() {
                    if net.timetable.patterns_at(s as StopIdx).is_empty() {
                        continue;
                    }
                    let (ci, cj) = spec.cell_of(pr.project(*c));
                    for di in -r..=r {
                        for dj in -r..=r {
                            cells.entry((ci + di, cj + dj)).or_insert((0.0, None));
                        }
                    }
                }
            }
        }
        let keys: Vec<(i32, i32)> = cells.keys().copied().collect();
        let points: Vec<LatLon> = keys.iter().map(|c| pr.unproject(spec.centre(*c))).collect();
        let snaps: Vec<Option<Snap>> = keys
            .iter()
            .zip(points.iter())
            .map(|(k, p)| {
                let (d, node) = cells[k];
                node.map(|n| Snap { a: n, b: n, t: 0.0, distance_m: d, point: net.streets.as_ref().unwrap().coords[n as usize] }).map(|mut s| {
                    s.point = *p;
                    s
                })
            })
            .collect();
        Self::link(net, points, snaps, Some((spec, keys)), max_egress_s)
    }

    /// The same targets for a network that extends this one's stops (a scenario that adds
    /// stops): the walking table is kept and only the new stops are linked.
    pub fn extended_for(&self, net: &Network) -> Self {
        let n_old = self.egress_offsets.len() - 1;
        let n_new = net.timetable.stops.len();
        if n_new == n_old {
            return self.clone();
        }
        let extra = Self::egress_lists(net, &self.points, &self.snaps, self.max_egress_dm, n_old..n_new);
        let mut out = self.clone();
        for l in extra {
            out.egress.extend(l);
            out.egress_offsets.push(out.egress.len() as u32);
        }
        out.egress_walk_s = out.egress.iter().map(|&(_, dm)| Pace::WALK.secs(dm)).collect();
        out.egress_paced = Default::default();
        out
    }

    fn link(net: &Network, points: Vec<LatLon>, snaps: Vec<Option<Snap>>, grid: Option<(GridSpec, Vec<(i32, i32)>)>, max_egress_s: u32) -> Self {
        let max_egress_dm = Pace::WALK.reach_dm(max_egress_s);
        let lists = Self::egress_lists(net, &points, &snaps, max_egress_dm, 0..net.timetable.stops.len());
        let mut egress_offsets = vec![0u32];
        let mut egress = Vec::new();
        for l in lists {
            egress.extend(l);
            egress_offsets.push(egress.len() as u32);
        }
        let egress_walk_s = egress.iter().map(|&(_, dm)| Pace::WALK.secs(dm)).collect();
        LinkedTargets { points, snaps, grid, max_egress_dm, egress_offsets, egress, egress_walk_s, egress_paced: Default::default() }
    }

    fn egress_lists(net: &Network, points: &[LatLon], snaps: &[Option<Snap>], max_dm: u32, stops: std::ops::Range<usize>) -> Vec<Vec<(u32, u32)>> {
        let tt = &net.timetable;
        // Bucket targets for radius queries.
        let radius_m = max_dm as f64 / 10.0;
        let bucket_deg = (radius_m / 111_320.0).max(0.001);
        let key = |p: LatLon| ((p.lat / bucket_deg).floor() as i32, (p.lon / bucket_deg).floor() as i32);
        let mut buckets: std::collections::HashMap<(i32, i32), Vec<u32>> = Default::default();
        for (i, p) in points.iter().enumerate() {
            buckets.entry(key(*p)).or_default().push(i as u32);
        }
        let near = |p: LatLon| -> Vec<u32> {
            let (a, b) = key(p);
            let rl = (1.0 / p.lat.to_radians().cos().max(0.05)).ceil() as i32;
            let mut out = Vec::new();
            for da in -1..=1 {
                for db in -rl..=rl {
                    if let Some(v) = buckets.get(&(a + da, b + db)) {
                        out.extend_from_slice(v);
                    }
                }
            }
            out
        };
        let streets = net.streets.as_ref().filter(|_| net.has_streets());
        stops
            .into_par_iter()
            .map_init(
                || StreetSearch::new(streets.map(|s| s.n_nodes()).unwrap_or(0)),
                |search, s| {
                    let mut out = Vec::new();
                    if tt.patterns_at(s as StopIdx).is_empty() {
                        return out;
                    }
                    let here = tt.stops.coords[s];
                    let cands: Vec<u32> = near(here).into_iter().filter(|&t| distance_m(here, points[t as usize]) <= radius_m).collect();
                    if cands.is_empty() {
                        return out;
                    }
                    match (streets, &net.stop_links[s]) {
                        (Some(st), Some(link)) => {
                            let g = &st.graph(Profile::Walk).forward;
                            search.run(g, &seeds_from(g, link), max_dm);
                            for t in cands {
                                let dm = match &snaps[t as usize] {
                                    Some(sn) => cost_to_snap(search, g, sn),
                                    // A target away from every street: straight line, as a journey plan does.
                                    None => Some(straight_line_dm(here, points[t as usize])),
                                };
                                if let Some(dm) = dm.filter(|d| *d <= max_dm) {
                                    out.push((t, dm));
                                }
                            }
                        }
                        _ => {
                            for t in cands {
                                let dm = straight_line_dm(here, points[t as usize]);
                                if dm <= max_dm {
                                    out.push((t, dm));
                                }
                            }
                        }
                    }
                    out
                },
            )
            .collect()
    }
}
