//! Travel-time surface from one origin, the method of Conveyal R5: a street search from
//! the origin (direct times to targets, access times to stops), range-RAPTOR over every
//! minute of a departure window, propagation of stop arrivals to targets through the
//! precomputed stop -> target walking table, then per target the travel time at chosen
//! percentiles of the window.
//!
//! Definition (shared with the one-to-one check in the tests): for a departure minute m,
//! the time to target d is `min(direct(d), A(d) - m)` where `direct` is the street-only
//! time (capped at `max_time_s`) and `A(d)` the earliest arrival at d with at least one
//! ride, access and egress walks each capped at `max_walk_s`. Times over `max_time_s`
//! are unreachable (`UNREACHABLE`). Percentiles use the nearest-rank rule over the
//! window's departures.
//!
//! Propagation is incremental: an earlier departure only improves the stops RAPTOR
//! reports as changed, so only their targets are revisited.

use super::targets::LinkedTargets;
use crate::model::geo::LatLon;
use crate::model::streets::{Profile, BIKE_SPEED_MPS, WALK_SPEED_MPS};
use crate::model::timetable::StopIdx;
use crate::route::plan::{QueryError, Router, MAX_SNAP_M, ErrorKind};
use crate::route::raptor::{DayContext, Raptor, RaptorParams, Time, INF};
use crate::model::search::{cost_to_snap, seeds_from, straight_line_dm, Pace, PhastSearch, StreetSearch, DETOUR_FACTOR, UNREACHED};
use serde::{Deserialize, Serialize};

pub const UNREACHABLE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurfaceMode {
    Walk,
    Bike,
    Transit,
    BikeTransit,
}

impl SurfaceMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "walk" => Some(Self::Walk),
            "bike" => Some(Self::Bike),
            "transit" | "walk_transit" => Some(Self::Transit),
            "bike_transit" => Some(Self::BikeTransit),
            _ => None,
        }
    }
    pub fn uses_transit(self) -> bool {
        matches!(self, Self::Transit | Self::BikeTransit)
    }
    fn profile(self) -> Profile {
        match self {
            Self::Bike | Self::BikeTransit => Profile::Bike,
            _ => Profile::Walk,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SurfaceRequest {
    pub origin: LatLon,
    pub date: jiff::civil::Date,
    /// Start of the departure window, local wall-clock seconds.
    pub from_s: u32,
    /// Window length; departures every `step_s` in [from, from + window).
    pub window_s: u32,
    pub step_s: u32,
    pub mode: SurfaceMode,
    pub percentiles: Vec<u8>,
    /// Each walking leg: access, egress, and the walk-only alternative (as r5r's
    /// `max_walk_time`).
    pub max_walk_s: u32,
    /// Walks between two rides (None: `max_walk_s`; footpaths exist up to the build's
    /// footpath limit, 15 min by default).
    pub max_transfer_walk_s: Option<u32>,
    /// Cycling legs: to the first stop, and the bike-only alternative.
    pub max_bike_s: u32,
    /// The longest trip counted (`max_trip_duration`).
    pub max_time_s: u32,
    pub walk_speed_mps: f64,
    pub bike_speed_mps: f64,
    /// Change time after each ride, seconds (0 allowed).
    pub transfer_slack_s: u32,
    pub max_transfers: u32,
    pub modes: u8,
    pub wheelchair: bool,
}

impl SurfaceRequest {
    pub fn new(origin: LatLon, date: jiff::civil::Date, from_s: u32, window_s: u32) -> Self {
        SurfaceRequest {
            origin,
            date,
            from_s,
            window_s,
            step_s: 60,
            mode: SurfaceMode::Transit,
            percentiles: vec![50],
            max_walk_s: 15 * 60,
            max_transfer_walk_s: None,
            max_bike_s: 15 * 60,
            max_time_s: 120 * 60,
            walk_speed_mps: WALK_SPEED_MPS,
            bike_speed_mps: BIKE_SPEED_MPS,
            transfer_slack_s: crate::route::raptor::DEFAULT_TRANSFER_SLACK_S,
            max_transfers: 5,
            modes: RaptorParams::all_modes(),
            wheelchair: false,
        }
    }

    pub fn departures(&self) -> u32 {
        if self.window_s == 0 {
            1
        } else {
            self.window_s.div_ceil(self.step_s.max(1))
        }
    }

    pub fn validate(&self, router: &Router) -> Result<(), QueryError> {
        if !self.origin.is_valid() {
            return Err(QueryError::bad("invalid_coordinates", "the origin is not a valid latitude,longitude"));
        }
        if self.step_s == 0 || self.window_s > 12 * 3600 || self.departures() > 720 {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "the departure window is limited to 12 hours and 720 departures"));
        }
        if self.max_time_s == 0 || self.max_time_s > 4 * 3600 {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "travel times are limited to 240 minutes"));
        }
        if self.percentiles.is_empty() || self.percentiles.iter().any(|p| *p == 0 || *p > 100) || self.percentiles.len() > 5 {
            return Err(QueryError::bad("invalid_parameter", "percentiles must be 1 to 5 numbers between 1 and 100"));
        }
        if self.max_walk_s > 4 * 3600 || self.max_bike_s > 4 * 3600 || self.max_transfer_walk_s.is_some_and(|t| t > 3600) {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "max_walk_time and max_bike_time are limited to 240 minutes, max_transfer_walk_time to 60"));
        }
        if !(1.0 / 3.6..=11.0 / 3.6).contains(&self.walk_speed_mps) || !(5.0 / 3.6..=40.0 / 3.6).contains(&self.bike_speed_mps) {
            return Err(QueryError::bad("invalid_parameter", "walk_speed must be 1 to 11 km/h and bike_speed 5 to 40 km/h"));
        }
        if self.transfer_slack_s > 600 {
            return Err(QueryError::bad("invalid_parameter", "transfer_slack is 0 to 600 seconds"));
        }
        if !router.net.bbox().contains_with_margin(self.origin, MAX_SNAP_M) {
            return Err(QueryError::new(ErrorKind::Unprocessable, "outside_area", format!("the origin ({:.5},{:.5}) is outside the area this network covers", self.origin.lat, self.origin.lon)));
        }
        router.check_date(self.date)
    }
}

/// The transit search rules of a surface: those of a journey plan (tests compare the
/// two), capped at the longest trip.
pub fn raptor_params(req: &SurfaceRequest) -> RaptorParams {
    let walk = Pace::mps(req.walk_speed_mps);
    RaptorParams { max_duration_s: Some(req.max_time_s), ..RaptorParams::for_query(req.max_transfers, req.modes, req.wheelchair, walk, req.max_transfer_walk_s.unwrap_or(req.max_walk_s), req.transfer_slack_s) }
}

/// Travel times per target, one row per requested percentile.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    pub percentiles: Vec<u8>,
    /// times_s[p][target], `UNREACHABLE` when over the limit.
    pub times_s: Vec<Vec<u32>>,
    pub departures: u32,
    /// With `SurfaceScratch::record_minutes`: per target, the first departure (index in
    /// the window) whose travel time is the first percentile's (`u32::MAX` if none).
    pub first_percentile_departure: Option<Vec<u32>>,
}

/// Reusable per-thread state.
#[derive(Default)]
pub struct SurfaceScratch {
    pub raptor: Raptor,
    pub search: StreetSearch,
    pub sweep: PhastSearch,
    /// Record which departure realises the first percentile of each target.
    pub record_minutes: bool,
    /// Whether the departure window runs on two threads: `None` decides (a surface
    /// asked alone, on a machine with two cores or more: yes; from a rayon thread, as the
    /// batches run, which keep every core busy with origins: no).
    pub split_window: Option<bool>,
    /// The later half of the departures when one surface runs on two threads.
    second: Option<Box<(Raptor, DepartureRun)>>,
    run: DepartureRun,
}

/// The samples of a run of departures: per target reached at all (a "slot": a national
/// grid has millions of cells, of which one origin reaches a few thousand), one travel
/// time per departure, slot-major.
#[derive(Default)]
struct DepartureRun {
    transit_arr: Vec<Time>,
    slot: Vec<u32>,
    slot_target: Vec<u32>,
    samples: Vec<u32>,
    /// Spare buffer for [`DepartureRun::append`].
    joined: Vec<u32>,
}

impl DepartureRun {
    /// The samples of `deps` (latest first): `samples[slot * deps.len() + i]` is the time
    /// from the `i`-th earliest departure.
    #[allow(clippy::too_many_arguments)]
    fn run(&mut self, raptor: &mut Raptor, router: &Router, targets: &LinkedTargets, req: &SurfaceRequest, ctx: Option<&DayContext>, direct: &[u32], access: &[(StopIdx, u32)], deps: &[Time]) {
        let n = targets.len();
        let width = deps.len();
        self.slot.clear();
        self.slot.resize(n, u32::MAX);
        self.slot_target.clear();
        self.samples.clear();
        let add_slot = |t: usize, slot: &mut [u32], slot_target: &mut Vec<u32>, samples: &mut Vec<u32>| {
            slot[t] = slot_target.len() as u32;
            slot_target.push(t as u32);
            samples.extend(std::iter::repeat_n(direct[t], width));
        };
        for t in 0..n {
            if direct[t] != UNREACHABLE {
                add_slot(t, &mut self.slot, &mut self.slot_target, &mut self.samples);
            }
        }
        let Some(ctx) = ctx else { return };
        let walk = Pace::mps(req.walk_speed_mps);
        let egress_s = targets.egress_secs(walk);
        let egress_s = &egress_s[..];
        let params = raptor_params(req);
        self.transit_arr.clear();
        self.transit_arr.resize(n, INF);
        let (transit_arr, samples, slot, slot_target) = (&mut self.transit_arr, &mut self.samples, &mut self.slot, &mut self.slot_target);
        let max_walk = req.max_walk_s;
        let max_time = req.max_time_s as i64;
        let mut idx = width;
        raptor.run_range(&router.forward, ctx, &params, access, deps, |m, changed, best| {
            idx -= 1;
            // Slices, not the vectors: their lengths stay and the loop keeps its
            // pointers in registers (through the vectors, each store reloaded them).
            let (arr, slots) = (&mut transit_arr[..], &mut slot[..]);
            for &s in changed {
                let a = best[s as usize];
                if (a - m) as i64 > max_time {
                    continue;
                }
                let range = targets.egress_range(s);
                for (&(t, _), &w) in targets.egress(s).iter().zip(&egress_s[range]) {
                    if w <= max_walk {
                        let v = a + w as Time;
                        if v < arr[t as usize] {
                            arr[t as usize] = v;
                            if slots[t as usize] == u32::MAX {
                                add_slot(t as usize, slots, slot_target, samples);
                            }
                        }
                    }
                }
            }
            for (k, &t) in slot_target.iter().enumerate() {
                let tr = arr[t as usize];
                let by_transit = if tr < INF { (tr - m) as i64 } else { i64::MAX };
                let v = (direct[t as usize] as i64).min(by_transit);
                samples[k * width + idx] = if v <= max_time { v as u32 } else { UNREACHABLE };
            }
        });
    }

    /// Appends the later run `later` (its departures after this run's) to this one: one
    /// row per target reached in either, a target missing from a run taking its direct
    /// time there.
    fn append(&mut self, later: &DepartureRun, width: usize, later_width: usize, direct: &[u32]) {
        let mut samples = std::mem::take(&mut self.joined);
        samples.clear();
        samples.reserve((self.slot_target.len() + later.slot_target.len()) * (width + later_width));
        for (k, &t) in self.slot_target.iter().enumerate() {
            samples.extend_from_slice(&self.samples[k * width..(k + 1) * width]);
            match later.slot[t as usize] {
                u32::MAX => samples.extend(std::iter::repeat_n(direct[t as usize], later_width)),
                j => samples.extend_from_slice(&later.samples[j as usize * later_width..(j as usize + 1) * later_width]),
            }
        }
        for (j, &t) in later.slot_target.iter().enumerate() {
            if self.slot[t as usize] == u32::MAX {
                self.slot[t as usize] = self.slot_target.len() as u32;
                self.slot_target.push(t);
                samples.extend(std::iter::repeat_n(direct[t as usize], width));
                samples.extend_from_slice(&later.samples[j * later_width..(j + 1) * later_width]);
            }
        }
        // The old samples are the next join's buffer (a scratch reused across surfaces
        // allocates nothing once grown).
        self.joined = std::mem::replace(&mut self.samples, samples);
    }
}

/// Nearest-rank percentile of an ascending slice.
pub fn nearest_rank(sorted: &[u32], p: u8) -> u32 {
    if sorted.is_empty() {
        return UNREACHABLE;
    }
    let idx = ((p as f64 / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[idx.clamp(1, sorted.len()) - 1]
}

/// The ranks [`nearest_rank`] reads for `percentiles` of `n` values, highest first, with
/// the percentile's index: what [`select_ranks`] takes.
pub fn ranks_highest_first(percentiles: &[u8], n: usize) -> Vec<(usize, usize)> {
    let mut r: Vec<(usize, usize)> = percentiles.iter().enumerate().map(|(i, &p)| (i, (((p as f64 / 100.0) * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1)).collect();
    r.sort_by_key(|x| std::cmp::Reverse(x.1));
    r
}

/// Nearest-rank percentiles of `values` without sorting them (`values` may be
/// reordered). `out(percentile index, value)`.
pub fn select_ranks(values: &mut [u32], ranks: &[(usize, usize)], mut out: impl FnMut(usize, u32)) {
    // Rows of a window (up to 256 departures): one pass counts the values into 64
    // buckets of equal width (the last for `UNREACHABLE`), and each rank is selected
    // among the few values of its bucket (about a fifth of the work of partitioning the
    // whole row for each rank).
    const B: usize = 64;
    let n = values.len();
    let max = values.iter().map(|&v| if v == UNREACHABLE { 0 } else { v }).max().unwrap_or(0);
    // Longer rows, or values so large that `UNREACHABLE` would share a bucket with them
    // (over 63 x 2^26 s): one selection per rank, highest first, each within the part
    // left of the one before.
    if n > 256 || max as u64 > ((B as u64 - 2) << 26) {
        let mut hi = n;
        for &(pi, idx) in ranks {
            if idx >= n {
                out(pi, UNREACHABLE);
                continue;
            }
            if idx < hi {
                values[..hi].select_nth_unstable(idx);
                hi = idx;
            }
            out(pi, values[idx]);
        }
        return;
    }
    let mut shift = 0;
    while (max >> shift) as usize > B - 2 {
        shift += 1;
    }
    // `UNREACHABLE` lands in the last bucket (`shift <= 26`), every other value below.
    let bucket = |v: u32| ((v >> shift) as usize).min(B - 1);
    let mut start = [0u16; B + 1];
    for &v in values.iter() {
        start[bucket(v) + 1] += 1;
    }
    for b in 0..B {
        start[b + 1] += start[b];
    }
    let mut fill = start;
    let mut by_bucket = [0u32; 256];
    for &v in values.iter() {
        let f = &mut fill[bucket(v)];
        by_bucket[*f as usize] = v;
        *f += 1;
    }
    for &(pi, idx) in ranks {
        if idx >= n {
            out(pi, UNREACHABLE);
            continue;
        }
        let b = start.partition_point(|&x| x as usize <= idx) - 1;
        let (lo, hi) = (start[b] as usize, start[b + 1] as usize);
        let (_, v, _) = by_bucket[lo..hi].select_nth_unstable(idx - lo);
        out(pi, *v);
    }
}

/// Street-only times from the origin to every target and access times to stops.
pub fn street_phase(router: &Router, targets: &LinkedTargets, req: &SurfaceRequest, search: &mut StreetSearch, sweep: &mut PhastSearch) -> (Vec<u32>, Vec<(StopIdx, u32)>) {
    let net = &*router.net;
    let profile = req.mode.profile();
    let (pace, leg_cap) = match profile {
        Profile::Bike => (Pace::mps(req.bike_speed_mps), req.max_bike_s),
        _ => (Pace::mps(req.walk_speed_mps), req.max_walk_s),
    };
    // Access legs and the street-only alternative are both bounded by the leg limit.
    let access_cap = if req.mode.uses_transit() { leg_cap } else { 0 };
    let direct_cap = req.max_time_s.min(leg_cap);
    let mut direct = vec![UNREACHABLE; targets.len()];
    let mut access: Vec<(StopIdx, u32)> = Vec::new();
    let streets = net.streets.as_ref().filter(|_| net.has_streets());
    let snap = streets.and_then(|st| st.snap(req.origin, profile, MAX_SNAP_M).or_else(|| st.snap(req.origin, Profile::Walk, MAX_SNAP_M)));
    let stops_without_link = |access: &mut Vec<(StopIdx, u32)>, all: bool| {
        let radius_m = pace.reach_dm(access_cap) as f64 / 10.0 / DETOUR_FACTOR;
        for (s, _) in crate::route::places::stops_near(&net.timetable, req.origin, radius_m, usize::MAX) {
            if all || net.stop_links[s as usize].is_none() {
                let secs = pace.secs(straight_line_dm(req.origin, net.timetable.stops.coords[s as usize]));
                if secs <= access_cap {
                    access.push((s, secs));
                }
            }
        }
    };
    match (streets, snap) {
        // Street-only over much of the city (a walking matrix): one PHAST sweep per origin.
        (Some(st), Some(sn)) if access_cap == 0 && st.phast(profile).is_some_and(|p| p.pays_for(pace.reach_dm(direct_cap) as f64 / 10.0)) => {
            let (g, ph) = (&st.graph(profile).forward, st.phast(profile).unwrap());
            sweep.run(ph, &seeds_from(g, &sn));
            for (t, ts) in targets.snaps.iter().enumerate() {
                if let Some(secs) = ts.as_ref().and_then(|ts| sweep.cost_to_snap(ph, g, ts)).map(|dm| pace.secs(dm)).filter(|s| *s <= direct_cap) {
                    direct[t] = secs;
                }
            }
        }
        (Some(st), Some(sn)) => {
            let g = &st.graph(profile).forward;
            search.run(g, &seeds_from(g, &sn), pace.reach_dm(direct_cap.max(access_cap)));
            for (t, ts) in targets.snaps.iter().enumerate() {
                let secs = match ts {
                    Some(ts) => cost_to_snap(search, g, ts).map(|dm| pace.secs(dm)),
                    // A target away from every street has no street-only path.
                    None => None,
                };
                if let Some(secs) = secs.filter(|s| *s <= direct_cap) {
                    direct[t] = secs;
                }
            }
            if access_cap > 0 {
                let mut seen = std::collections::HashSet::new();
                for &v in search.reached() {
                    if search.dist[v as usize] == UNREACHED {
                        continue;
                    }
                    for &s in router.stops_at_node(v) {
                        if !seen.insert(s) {
                            continue;
                        }
                        let link = net.stop_links[s as usize].as_ref().unwrap();
                        if let Some(secs) = cost_to_snap(search, g, link).map(|dm| pace.secs(dm)).filter(|s| *s <= access_cap) {
                            access.push((s, secs));
                        }
                    }
                }
                stops_without_link(&mut access, false);
            }
        }
        (Some(_), None) => {
            // Streets, but none within reach of the origin (an island street outside the
            // main network): nothing is reached on foot, as for a target in the same place.
        }
        (None, _) => {
            // No streets: straight lines x the detour factor.
            let reach = crate::model::geo::BBox::around(req.origin, pace.reach_dm(direct_cap) as f64 / 10.0 / DETOUR_FACTOR);
            for (t, p) in targets.points.iter().enumerate() {
                if !reach.contains(*p) {
                    continue;
                }
                let secs = pace.secs(straight_line_dm(req.origin, *p));
                if secs <= direct_cap {
                    direct[t] = secs;
                }
            }
            if access_cap > 0 {
                stops_without_link(&mut access, true);
            }
        }
    }
    access.sort_unstable();
    access.dedup_by_key(|a| a.0);
    (direct, access)
}

/// Egress walks come from the targets' precomputed walking tables: a request may not ask
/// for longer ones than the tables hold.
pub fn check_targets(req: &SurfaceRequest, targets: &LinkedTargets) -> Result<(), QueryError> {
    let pace = Pace::mps(req.walk_speed_mps);
    if req.mode.uses_transit() && pace.reach_dm(req.max_walk_s) > targets.max_egress_dm {
        return Err(QueryError::new(
            ErrorKind::Unprocessable,
            "too_big",
            format!("max_walk_time is limited to {} min at this walking speed for these destinations (their walking tables from stops end there)", targets.max_egress_secs(pace) / 60),
        ));
    }
    Ok(())
}

/// Computes the surface of one origin over `targets`.
pub fn compute(router: &Router, targets: &LinkedTargets, req: &SurfaceRequest, sc: &mut SurfaceScratch) -> Result<Surface, QueryError> {
    req.validate(router)?;
    check_targets(req, targets)?;
    Ok(compute_unchecked(router, targets, req, sc))
}

pub fn compute_unchecked(router: &Router, targets: &LinkedTargets, req: &SurfaceRequest, sc: &mut SurfaceScratch) -> Surface {
    let (direct, access) = street_phase(router, targets, req, &mut sc.search, &mut sc.sweep);
    compute_transit(router, targets, req, sc, &direct, &access)
}

/// The transit part of a surface, from a street phase computed elsewhere (shared by a
/// baseline and a scenario: the streets are the same).
pub fn compute_transit(router: &Router, targets: &LinkedTargets, req: &SurfaceRequest, sc: &mut SurfaceScratch, direct: &[u32], access: &[(StopIdx, u32)]) -> Surface {
    let n = targets.len();
    let n_dep = req.departures() as usize;
    let ctx = (req.mode.uses_transit() && !access.is_empty()).then(|| router.day_context(req.date));
    let t0 = ctx.as_ref().map_or(0, |c| c.wall_to_gtfs(req.from_s) as Time);
    let deps: Vec<Time> = (0..n_dep as i32).rev().map(|i| t0 + i * req.step_s as Time).collect();
    // One surface asked alone: the later half of the window on a thread of its own (not
    // the rayon pool, where a batch may hold every worker). Each half is an exact range
    // search; the earlier one starts without the later one's labels (about one
    // departure's work more).
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let auto = || *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1 && rayon::current_thread_index().is_none();
    let split = ctx.is_some() && n_dep >= 16 && sc.split_window.unwrap_or_else(auto);
    if split {
        let (later, earlier) = deps.split_at(n_dep / 2);
        let second = sc.second.get_or_insert_with(Default::default);
        let (second_raptor, second_run) = (&mut second.0, &mut second.1);
        let (run, raptor) = (&mut sc.run, &mut sc.raptor);
        let ctx = ctx.as_deref();
        std::thread::scope(|scope| {
            scope.spawn(|| second_run.run(second_raptor, router, targets, req, ctx, direct, access, later));
            run.run(raptor, router, targets, req, ctx, direct, access, earlier);
        });
        sc.run.append(&second.1, earlier.len(), later.len(), direct);
    } else {
        sc.run.run(&mut sc.raptor, router, targets, req, ctx.as_deref(), direct, access, &deps);
    }
    let mut times_s = vec![vec![UNREACHABLE; n]; req.percentiles.len()];
    let mut minutes = sc.record_minutes.then(|| vec![u32::MAX; n]);
    let mut unsorted = Vec::new();
    let ranks = ranks_highest_first(&req.percentiles, n_dep);
    for (k, &t) in sc.run.slot_target.iter().enumerate() {
        let row = &mut sc.run.samples[k * n_dep..(k + 1) * n_dep];
        if minutes.is_some() {
            unsorted.clear();
            unsorted.extend_from_slice(row);
        }
        select_ranks(row, &ranks, |pi, v| times_s[pi][t as usize] = v);
        if let Some(m) = minutes.as_mut() {
            let v = times_s[0][t as usize];
            if v != UNREACHABLE {
                m[t as usize] = unsorted.iter().position(|x| *x == v).map_or(u32::MAX, |i| i as u32);
            }
        }
    }
    Surface { percentiles: req.percentiles.clone(), times_s, departures: n_dep as u32, first_percentile_departure: minutes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(nearest_rank(&v, 50), 50);
        assert_eq!(nearest_rank(&v, 5), 10);
        assert_eq!(nearest_rank(&v, 95), 100);
        assert_eq!(nearest_rank(&[7, 8, 9], 50), 8);
        assert_eq!(nearest_rank(&[], 50), UNREACHABLE);
    }

    #[test]
    fn selected_ranks_equal_the_sorted_nearest_ranks_consistency() {
        // Selection (no sort) must read what the nearest rank reads in the sorted values,
        // repeated and unreachable values included, any order of percentiles.
        let mut x = 12345u64;
        for n in [1usize, 2, 3, 7, 60, 120, 256, 300] {
            for _ in 0..50 {
                let values: Vec<u32> = (0..n)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        // Narrow and wide ranges (the buckets' width follows the largest).
                        let range = [40u64, 7_200, 4_000_000_000, u32::MAX as u64][((x >> 20) % 4) as usize];
                        if x >> 60 == 0 { UNREACHABLE } else { ((x >> 30) % range) as u32 }
                    })
                    .collect();
                let mut sorted = values.clone();
                sorted.sort_unstable();
                let percentiles = [50u8, 5, 95, 50, 100, 1];
                let mut got = vec![0; percentiles.len()];
                let mut v = values.clone();
                select_ranks(&mut v, &ranks_highest_first(&percentiles, n), |i, val| got[i] = val);
                let want: Vec<u32> = percentiles.iter().map(|&p| nearest_rank(&sorted, p)).collect();
                assert_eq!(got, want, "{values:?}");
            }
        }
    }
}
