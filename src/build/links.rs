//! Linking stops to streets and computing stop-to-stop footpaths.
//!
//! Each stop is snapped to the nearest walkable street *edge* (R-tree over segments), not
//! merely the nearest node. Footpaths are shortest walks on the street graph from each
//! stop's snap point to every other stop's snap point within a time limit (at the default
//! walking speed; a footpath holds the walk's effort, timed at each request's speed); a
//! stop with no usable snap (no streets, or farther than the limit) falls back to
//! straight-line distance x 1.3. Stops of one parent station are always connected, and
//! `transfers.txt` rules are applied last (minimum times raise a footpath, type 3 removes
//! it).

use crate::ingest::gtfs::FeedTransfer;
use crate::model::geo::{distance_m, LatLon};
use crate::model::network::{Footpath, Footpaths};
use crate::model::streets::{Profile, Snap, Streets};
use crate::model::timetable::{StopIdx, Timetable, NONE};
use crate::model::search::{cost_to_snap, seeds_from, straight_line_dm, Pace, StreetSearch};
use rayon::prelude::*;


/// Snaps every served stop (stations too) to the walk graph.
pub fn snap_stops(tt: &Timetable, streets: &Streets, max_snap_m: f64) -> (Vec<Option<Snap>>, Vec<(String, f64)>) {
    let snaps: Vec<Option<Snap>> = tt.stops.coords.par_iter().map(|c| streets.snap(*c, Profile::Walk, f64::INFINITY)).collect();
    let mut far = Vec::new();
    let links = snaps
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(s) if s.distance_m <= max_snap_m => Some(s),
            Some(s) => {
                far.push((tt.stops.ids[i].clone(), (s.distance_m * 10.0).round() / 10.0));
                None
            }
            None => None,
        })
        .collect();
    (links, far)
}

/// Grid bucket index of stops for radius queries.
struct StopGrid {
    cell_deg: f64,
    cells: std::collections::HashMap<(i32, i32), Vec<StopIdx>>,
}

impl StopGrid {
    fn new(coords: &[LatLon], cell_m: f64) -> Self {
        let cell_deg = cell_m / 111_320.0;
        let mut cells: std::collections::HashMap<(i32, i32), Vec<StopIdx>> = Default::default();
        for (i, c) in coords.iter().enumerate() {
            cells.entry(Self::key(*c, cell_deg)).or_default().push(i as StopIdx);
        }
        StopGrid { cell_deg, cells }
    }
    fn key(c: LatLon, cell_deg: f64) -> (i32, i32) {
        ((c.lat / cell_deg).floor() as i32, (c.lon / cell_deg).floor() as i32)
    }
    /// Candidate stops within roughly `radius_m` (a superset; callers filter).
    fn near(&self, c: LatLon, radius_m: f64) -> Vec<StopIdx> {
        let (ky, kx) = Self::key(c, self.cell_deg);
        let ry = (radius_m / 111_320.0 / self.cell_deg).ceil() as i32 + 1;
        let rx = (radius_m / (111_320.0 * c.lat.to_radians().cos().max(0.05)) / self.cell_deg).ceil() as i32 + 1;
        let mut out = Vec::new();
        for dy in -ry..=ry {
            for dx in -rx..=rx {
                if let Some(v) = self.cells.get(&(ky + dy, kx + dx)) {
                    out.extend_from_slice(v);
                }
            }
        }
        out
    }
}

/// Computes footpaths between served stops.
pub fn footpaths(
    tt: &Timetable,
    streets: Option<&Streets>,
    links: &[Option<Snap>],
    transfers: &[FeedTransfer],
    max_s: u32,
    progress: &indicatif::ProgressBar,
) -> Footpaths {
    let n = tt.stops.len();
    let served: Vec<bool> = (0..n).map(|s| tt.patterns_at(s as StopIdx).len() > 0).collect();
    let max_dm = Pace::WALK.reach_dm(max_s);
    let radius_m = max_dm as f64 / 10.0;
    let grid = StopGrid::new(&tt.stops.coords, radius_m.max(200.0));
    progress.set_length(n as u64);
    let walk = streets.map(|s| s.graph(Profile::Walk));
    let lists: Vec<Vec<Footpath>> = (0..n)
        .into_par_iter()
        .map_init(
            || StreetSearch::new(streets.map(|s| s.n_nodes()).unwrap_or(0)),
            |search, s| {
                progress.inc(1);
                let mut out = Vec::new();
                if !served[s] {
                    return out;
                }
                let here = tt.stops.coords[s];
                let cands: Vec<StopIdx> = grid
                    .near(here, radius_m)
                    .into_iter()
                    .filter(|&t| t as usize != s && served[t as usize] && distance_m(here, tt.stops.coords[t as usize]) <= radius_m)
                    .collect();
                if cands.is_empty() {
                    return out;
                }
                let walk_to = |t: StopIdx, dm: u32| Footpath { to: t, effort_dm: dm, min_s: 0 };
                match (walk, &links[s]) {
                    (Some(g), Some(snap)) => {
                        search.run(&g.forward, &seeds_from(&g.forward, snap), max_dm);
                        for t in cands {
                            let d = match &links[t as usize] {
                                Some(ts) => cost_to_snap(search, &g.forward, ts),
                                None => Some(straight_line_dm(here, tt.stops.coords[t as usize])),
                            };
                            if let Some(d) = d.filter(|d| *d <= max_dm) {
                                out.push(walk_to(t, d));
                            }
                        }
                    }
                    _ => {
                        for t in cands {
                            let d = straight_line_dm(here, tt.stops.coords[t as usize]);
                            if d <= max_dm {
                                out.push(walk_to(t, d));
                            }
                        }
                    }
                }
                out
            },
        )
        .collect();
    let mut lists = lists;
    // Stops of one parent station are connected whatever the limit.
    let mut children: std::collections::HashMap<StopIdx, Vec<StopIdx>> = Default::default();
    for s in 0..n {
        let p = tt.stops.parent[s];
        if p != NONE && served[s] {
            children.entry(p).or_default().push(s as StopIdx);
        }
    }
    for kids in children.values() {
        for &a in kids {
            for &b in kids {
                if a != b && !lists[a as usize].iter().any(|x| x.to == b) {
                    let d = straight_line_dm(tt.stops.coords[a as usize], tt.stops.coords[b as usize]);
                    lists[a as usize].push(Footpath { to: b, effort_dm: d, min_s: 0 });
                }
            }
        }
    }
    // transfers.txt: a minimum time raises the walk (or creates it); type 3 removes it.
    for tr in transfers {
        if tr.from == tr.to {
            continue;
        }
        let l = &mut lists[tr.from as usize];
        if tr.forbidden {
            l.retain(|x| x.to != tr.to);
        } else if let Some(m) = tr.min_time_s {
            match l.iter_mut().find(|x| x.to == tr.to) {
                Some(x) => x.min_s = x.min_s.max(m),
                None => l.push(Footpath { to: tr.to, effort_dm: 0, min_s: m }),
            }
        }
    }
    Footpaths::from_lists(lists)
}
