//! RAPTOR (Delling, Pajor, Werneck 2012): round-based earliest arrival, Pareto-optimal in
//! (arrival time, number of rides).
//!
//! Invariants:
//! - `tau[k][s]` is the earliest arrival at `s` using at most `k` rides; round `k` starts
//!   as a copy of round `k - 1`;
//! - boarding in round `k` at `s` needs `tau[k-1][s] + slack(s) <= departure`, where
//!   `slack(s)` is 0 for the first ride and `max(transfer slack, min_change(s))` after;
//! - footpaths are relaxed once per round, only from stops improved by a ride in that
//!   round (no chained walks), like the original paper;
//! - local pruning by the round's own label `tau[k]` (which already holds every arrival
//!   with fewer rides), target pruning by the best arrival at the destination (plus
//!   egress). A label over all rounds would be wrong in range mode with a ride limit: a
//!   later departure's arrival with more rides would hide an earlier departure's arrival
//!   with fewer, from which more rides remain;
//! - arrivals by a ride are also kept apart (`tau_ride`, `transit_best`): walks to a
//!   destination start there, never after a transfer walk.
//!
//! The same code runs backwards for arrive-by queries on a [`TransitView`] of the
//! timetable with stop order reversed and times mirrored (`MIRROR - t`): a latest
//! departure is an earliest arrival in mirrored time.
//!
//! Service days: a query on day `d` sees trips of service days `d - 1`, `d` and `d + 1`,
//! shifted by the exact length of the days in the network's time zone (23 h or 25 h on
//! daylight-saving days), so a trip running past midnight is found on either side.

use crate::model::calendar::service_day_length_s;
use crate::model::network::{footpath_secs, Network};
use crate::model::search::Pace;
use crate::model::streets::Csr;
use crate::model::timetable::{Mode, Pattern, StopIdx, TripIdx, NONE, NO_DROP_OFF, NO_PICKUP};

/// Times are seconds relative to the query day's time origin ("noon minus 12 h").
pub type Time = i32;
pub const INF: Time = Time::MAX / 2;
/// Mirror constant of the backward view: stored time = MIRROR - original.
pub const MIRROR: i64 = 4 * 86_400;

/// The timetable as RAPTOR scans it, in one direction.
#[derive(Debug, Clone, Default)]
pub struct TransitView {
    /// Unique to each view built (a clone shares it: same contents), for what caches
    /// results per view: a day's running patterns, the ride bound.
    pub id: u64,
    pub backward: bool,
    pub patterns: Vec<Pattern>,
    pub pattern_stops: Vec<StopIdx>,
    pub pattern_flags: Vec<u8>,
    pub pattern_mode_bit: Vec<u8>,
    pub arr: Vec<u32>,
    pub dep: Vec<u32>,
    /// Departures again, position-major (`st_offset + pos * n_trips + t`), so the search
    /// for the earliest trip at a stop is a binary search on one contiguous slice.
    pub dep_by_pos: Vec<u32>,
    /// Per pattern, its earliest and latest departure at any position: the search for a
    /// trip skips a service day the pattern cannot serve without reading its columns.
    pub pattern_dep_span: Vec<(u32, u32)>,
    /// The earliest and latest departure of the whole view.
    pub dep_span: (u32, u32),
    /// View trip -> timetable trip.
    pub trip_orig: Vec<TripIdx>,
    pub trip_service: Vec<u32>,
    pub trip_wheelchair: Vec<u8>,
    pub stop_patterns_offsets: Vec<u32>,
    pub stop_patterns: Vec<(u32, u32)>,
    /// Footpaths from each stop, shortest first (at the default walking speed).
    pub fp_offsets: Vec<u32>,
    /// Each footpath's (target, seconds at the default walking speed): the one array a
    /// round's footpath relaxation reads, stopped at the first walk too long.
    pub fp_walk: Vec<(StopIdx, u32)>,
    /// Range searches at the default pace: the footpaths of `fp_walk` (same layout,
    /// `fp_board_offsets`) that can serve a boarding no shorter walk from the same stop
    /// serves as well (see [`TransitView::boarding_footpaths`]); forward view only.
    pub fp_board_offsets: Vec<u32>,
    pub fp_board: Vec<(StopIdx, u32)>,
    /// Per stop, the departures of every trip that picks up there (all patterns, all
    /// services), sorted, as CSR: a range search marks a stop a walk reached earlier only
    /// when some vehicle leaves it between the two times. Forward view only.
    pub stop_deps_offsets: Vec<u32>,
    pub stop_deps: Vec<u32>,
    /// Per departure of `stop_deps`, its pattern: the index of its (pattern, position)
    /// pair in the stop's `stop_patterns`. A range search marks, at a stop whose label
    /// changed, only the patterns that leave it in between.
    pub stop_dep_slot: Vec<u16>,
    /// Range searches at the default pace, per pattern position (`stop_offset + pos`):
    /// the part of its stop's `fp_board` a rider still needs when the trip also let them
    /// off at an earlier position `i` (see [`TransitView::ride_footpaths`]), as a range
    /// of `fp_after`, with `i` and the transfer-walk limit the list needs at least. The
    /// list serves a trip boarded before `i` (so a position with `i = 0`, or none, never
    /// uses one). Forward view only (Porto Alegre: 441,602 walks over all positions with
    /// a list, 237,711 kept).
    pub fp_after_range: Vec<(u32, u32)>,
    pub fp_after_need: Vec<(u32, u32)>,
    pub fp_after: Vec<(StopIdx, u32)>,
    /// Footpath efforts (decimetres) and feed minimum times, for other walking speeds.
    pub fp_effort_dm: Vec<u32>,
    pub fp_min_s: Vec<u32>,
    pub stop_min_change_s: Vec<u32>,
    pub stop_wheelchair: Vec<u8>,
    /// Footpaths reversed (to -> from), for the lower bound on rides.
    pub fp_reverse: Csr,
    /// Whether one-to-one searches compute that bound: its breadth-first search walks
    /// every footpath and pattern position once, which pays where footpaths are few next
    /// to pattern positions (national rail: 4,800 against 66,000, p50 1.6 -> 0.8 ms) and
    /// not in a dense city (Porto Alegre: 221,772 footpaths against 9,000 positions,
    /// coordinate plans 1.37 -> 1.68 ms with it).
    pub ride_bounds_pay: bool,
    /// The ride-bound search's layout: patterns with the same stops and mode are one
    /// group (5,564 groups for 7,348 TER patterns), and each stop lists its (group,
    /// position) pairs. Empty when `ride_bounds_pay` is false.
    pub bound_groups: BoundGroups,
    /// The largest footpath effort (decimetres) and the largest feed minimum time
    /// (seconds), maybe of two footpaths: a bound on the longest footpath at any pace.
    pub fp_longest: (u32, u32),
}

fn next_view_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Patterns merged by stop sequence and mode, for the ride-bound search.
#[derive(Debug, Clone, Default)]
pub struct BoundGroups {
    /// Pattern -> its group.
    pub pattern_group: Vec<u32>,
    /// Group -> offset of its stops in `pattern_stops` (those of its first pattern).
    pub stop_offset: Vec<u32>,
    pub mode_bit: Vec<u8>,
    /// Stop -> (group, position) as CSR.
    pub at_offsets: Vec<u32>,
    pub at: Vec<(u32, u32)>,
}

impl TransitView {
    pub fn forward(net: &Network) -> Self {
        let tt = &net.timetable;
        TransitView {
            id: next_view_id(),
            backward: false,
            patterns: tt.patterns.clone(),
            pattern_stops: tt.pattern_stops.clone(),
            pattern_flags: tt.pattern_flags.clone(),
            pattern_mode_bit: tt.patterns.iter().map(|p| tt.routes.modes[p.route as usize].bit()).collect(),
            arr: tt.arrivals.clone(),
            dep: tt.departures.clone(),
            trip_orig: (0..tt.trips.ids.len() as u32).collect(),
            trip_service: tt.trips.service.clone(),
            trip_wheelchair: tt.trips.wheelchair.clone(),
            stop_patterns_offsets: tt.stop_patterns_offsets.clone(),
            stop_patterns: tt.stop_patterns.clone(),
            fp_offsets: net.footpaths.offsets.clone(),
            fp_walk: net.footpaths.targets.iter().map(|&t| (t, 0)).collect(),
            fp_effort_dm: net.footpaths.effort_dm.clone(),
            fp_min_s: net.footpaths.min_s.clone(),
            stop_min_change_s: tt.stop_min_change_s.clone(),
            stop_wheelchair: tt.stops.wheelchair.clone(),
            dep_by_pos: Vec::new(),
            pattern_dep_span: Vec::new(),
            dep_span: (u32::MAX, 0),
            fp_reverse: Csr::default(),
            fp_board_offsets: Vec::new(),
            fp_board: Vec::new(),
            fp_after_range: Vec::new(),
            stop_deps_offsets: Vec::new(),
            stop_deps: Vec::new(),
            stop_dep_slot: Vec::new(),
            fp_after_need: Vec::new(),
            fp_after: Vec::new(),
            ride_bounds_pay: false,
            bound_groups: BoundGroups::default(),
            fp_longest: (0, 0),
        }
        .with_columns()
    }

    fn with_columns(mut self) -> Self {
        let mut col = vec![0u32; self.dep.len()];
        for p in &self.patterns {
            let (n, m, o) = (p.n_stops as usize, p.n_trips as usize, p.st_offset as usize);
            for t in 0..m {
                for pos in 0..n {
                    col[o + pos * m + t] = self.dep[o + t * n + pos];
                }
            }
        }
        self.dep_by_pos = col;
        self.pattern_dep_span = self
            .patterns
            .iter()
            .map(|p| {
                let d = &self.dep[p.st_offset as usize..p.st_offset as usize + p.n_stops as usize * p.n_trips as usize];
                (d.iter().copied().min().unwrap_or(u32::MAX), d.iter().copied().max().unwrap_or(0))
            })
            .collect();
        self.dep_span = self.pattern_dep_span.iter().fold((u32::MAX, 0), |a, &(lo, hi)| (a.0.min(lo), a.1.max(hi)));
        for (w, (&d, &m)) in self.fp_walk.iter_mut().zip(self.fp_effort_dm.iter().zip(&self.fp_min_s)) {
            w.1 = footpath_secs(d, m, Pace::WALK);
        }
        // Shortest first: a relaxation stops at the first footpath over its limits.
        let n = self.stop_wheelchair.len();
        let mut order: Vec<usize> = (0..self.fp_walk.len()).collect();
        for s in 0..n {
            let r = self.fp_offsets[s] as usize..self.fp_offsets[s + 1] as usize;
            order[r].sort_by_key(|&e| (self.fp_walk[e].1, self.fp_walk[e].0));
        }
        self.fp_walk = order.iter().map(|&e| self.fp_walk[e]).collect();
        self.fp_effort_dm = order.iter().map(|&e| self.fp_effort_dm[e]).collect();
        self.fp_min_s = order.iter().map(|&e| self.fp_min_s[e]).collect();
        self.ride_bounds_pay = self.fp_walk.len() <= self.pattern_stops.len();
        self.fp_longest = (self.fp_effort_dm.iter().copied().max().unwrap_or(0), self.fp_min_s.iter().copied().max().unwrap_or(0));
        if self.ride_bounds_pay {
            self.bound_groups = self.group_patterns();
        }
        // Range searches run forwards only.
        if !self.backward {
            self.boarding_footpaths();
            self.ride_footpaths();
            self.stop_departures();
        }
        self.fp_reverse = Csr::from_edges(n, (0..n).flat_map(|s| self.footpaths(s as StopIdx).map(move |e| (e, s))).map(|(e, s)| (self.fp_walk[e].0, s as u32, 0, 0)).collect());
        self
    }

    /// Footpaths a range search needs (R5's observation that a transfer to a stop is of
    /// no use when a nearer stop of the same pattern is as good, made exact). A transfer
    /// walk's label serves only to board in the next round: journeys and analyses walk to
    /// a destination from where a vehicle was left. So the walk from `s` to `q` (`d`
    /// seconds) can go when, for every pattern that picks up at `q` (position `i`), a stop
    /// `q'` of the same pattern at an earlier position `j` (`s` itself with `d' = 0`, or
    /// another footpath target of `s` with `d'`) catches every trip `q` catches:
    /// `dep_T(i) - dep_T(j) <= d - d' + min(0, change(q) - change(q'))` for every trip
    /// `T` (the change-time term holds for any transfer slack). The arrivals the dropped
    /// walk led to are then all reached, no later and with as many rides, by boarding at
    /// `q'`; chains of such walks end at a kept one (positions strictly decrease), and a
    /// `q'` a wheelchair cannot use stands in only for a `q` it cannot use either.
    fn boarding_footpaths(&mut self) {
        let n = self.stop_wheelchair.len();
        let mut cands: Vec<(u32, u32, u32, StopIdx)> = Vec::new();
        self.fp_board_offsets = Vec::with_capacity(n + 1);
        self.fp_board_offsets.push(0);
        self.fp_board.clear();
        for s in 0..n as StopIdx {
            // (pattern, position, seconds, stop) of every stop a walk from s reaches.
            cands.clear();
            cands.extend(self.boardable(s).map(|(p, j)| (p, j, 0, s)));
            for e in self.footpaths(s) {
                let (q, d) = self.fp_walk[e];
                cands.extend(self.boardable(q).map(|(p, j)| (p, j, d, q)));
            }
            cands.sort_unstable();
            for e in self.footpaths(s) {
                let (q, d) = self.fp_walk[e];
                let needed = self.boardable(q).any(|(p, i)| {
                    let pat = &self.patterns[p as usize];
                    let m = pat.n_trips as usize;
                    let col = |pos: u32| &self.dep_by_pos[pat.st_offset as usize + pos as usize * m..pat.st_offset as usize + (pos as usize + 1) * m];
                    let lo = cands.partition_point(|c| c.0 < p);
                    let hi = cands.partition_point(|c| c.0 <= p);
                    !cands[lo..hi].iter().any(|&(_, j, d2, q2)| {
                        if j >= i || q2 == q || (self.stop_wheelchair[q2 as usize] == 2 && self.stop_wheelchair[q as usize] != 2) {
                            return false;
                        }
                        let change = (self.stop_min_change_s[q as usize] as i64 - self.stop_min_change_s[q2 as usize] as i64).min(0);
                        let allowance = d as i64 - d2 as i64 + change;
                        col(i).iter().zip(col(j)).all(|(&a, &b)| a as i64 - b as i64 <= allowance)
                    })
                });
                if needed {
                    self.fp_board.push((q, d));
                }
            }
            self.fp_board_offsets.push(self.fp_board.len() as u32);
        }
    }

    /// Footpaths a rider who stayed on board past an earlier stop does not need. A trip
    /// that lets a rider off at position `i` and later at `j` arrives at `j` at least
    /// `r = min over trips (arr(j) - arr(i))` later; every walk from `i`'s stop was
    /// relaxed in the same round (or its label was already as early, and was relaxed
    /// then). A walk from `j`'s stop to `q` (`d`) is then of no use when `i`'s stop
    /// reaches `q` in `d' <= d + r` (or is `q`): the rider is at `q` no later, with as
    /// many rides. The list of position `j` keeps the other walks of its stop's
    /// `fp_board`; it serves when the trip was boarded before `i` (the nearest earlier
    /// position that lets riders off) and the transfer-walk limit admits every `d'` it
    /// counts on (a `d' > d` kept out by a shorter limit would leave `q` unreached).
    fn ride_footpaths(&mut self) {
        let n = self.stop_wheelchair.len();
        let mut reach = vec![u32::MAX; n];
        // (stop, earlier stop, least ride time) -> (range in `fp_after`, walk limit needed).
        type Lists = std::collections::HashMap<(StopIdx, StopIdx, u32), ((u32, u32), u32)>;
        let mut lists = Lists::default();
        let mut fp_after = Vec::new();
        let mut after_range = vec![(0, 0); self.pattern_stops.len()];
        let mut after_need = vec![(0, 0); self.pattern_stops.len()];
        for pat in &self.patterns {
            let (off, len, m) = (pat.stop_offset as usize, pat.n_stops as usize, pat.n_trips as usize);
            let mut pred: Option<usize> = None;
            for j in 0..len {
                let x = self.pattern_stops[off + j];
                if let Some(i) = pred {
                    let y = self.pattern_stops[off + i];
                    let r = (0..m).map(|t| self.arr[pat.st_offset as usize + t * len + j].saturating_sub(self.arr[pat.st_offset as usize + t * len + i])).min().unwrap_or(0);
                    let (range, need) = *lists.entry((x, y, r)).or_insert_with(|| {
                        reach[y as usize] = 0;
                        for e in self.footpaths(y) {
                            let (q, d) = self.fp_walk[e];
                            reach[q as usize] = reach[q as usize].min(d);
                        }
                        let start = fp_after.len() as u32;
                        let mut need = 0;
                        for &(q, d) in &self.fp_board[self.fp_board_offsets[x as usize] as usize..self.fp_board_offsets[x as usize + 1] as usize] {
                            let d2 = reach[q as usize];
                            if d2 != u32::MAX && d2 as u64 <= d as u64 + r as u64 {
                                need = need.max(d2);
                            } else {
                                fp_after.push((q, d));
                            }
                        }
                        reach[y as usize] = u32::MAX;
                        for e in self.footpaths(y) {
                            reach[self.fp_walk[e].0 as usize] = u32::MAX;
                        }
                        ((start, fp_after.len() as u32), need)
                    });
                    after_range[off + j] = range;
                    after_need[off + j] = (i as u32, need);
                }
                if self.pattern_flags[off + j] & NO_DROP_OFF == 0 {
                    pred = Some(j);
                }
            }
        }
        self.fp_after = fp_after;
        self.fp_after_range = after_range;
        self.fp_after_need = after_need;
    }

    /// [`TransitView::stop_deps`].
    fn stop_departures(&mut self) {
        let n = self.stop_wheelchair.len();
        let (mut offsets, mut deps, mut slots) = (Vec::with_capacity(n + 1), Vec::new(), Vec::new());
        let mut here: Vec<(u32, u16)> = Vec::new();
        offsets.push(0);
        for s in 0..n as StopIdx {
            here.clear();
            for (j, &(p, pos)) in self.patterns_at(s).iter().enumerate().filter(|(_, &(p, pos))| self.picks_up(p, pos)) {
                let pat = &self.patterns[p as usize];
                // A stop on more patterns than a u16 counts (none seen) is searched with
                // all of them (see `mark_touched`).
                let j = j.min(u16::MAX as usize) as u16;
                let m = pat.n_trips as usize;
                here.extend(self.dep_by_pos[pat.st_offset as usize + pos as usize * m..pat.st_offset as usize + (pos as usize + 1) * m].iter().map(|&d| (d, j)));
            }
            here.sort_unstable();
            deps.extend(here.iter().map(|x| x.0));
            slots.extend(here.iter().map(|x| x.1));
            offsets.push(deps.len() as u32);
        }
        self.stop_deps_offsets = offsets;
        self.stop_deps = deps;
        self.stop_dep_slot = slots;
    }

    /// The departures from `s` (positions in `stop_deps`) at or after `from` and before
    /// `to` (view times, `shift` added: the service day's), counted up to `cap` past the
    /// first. `cursor`: where the last window at `s` started (a stop's labels move by
    /// little from one search to the next: a few steps from there instead of a binary
    /// search).
    #[inline]
    fn departs_between(&self, s: StopIdx, from: i64, to: i64, shift: i64, cap: usize, cursor: &mut u32) -> std::ops::Range<usize> {
        let base = self.stop_deps_offsets[s as usize] as usize;
        let deps = &self.stop_deps[base..self.stop_deps_offsets[s as usize + 1] as usize];
        let mut i = (*cursor as usize).min(deps.len());
        while i > 0 && deps[i - 1] as i64 + shift >= from {
            i -= 1;
        }
        while i < deps.len() && (deps[i] as i64 + shift) < from {
            i += 1;
        }
        *cursor = i as u32;
        let mut e = i;
        while e < deps.len().min(i + cap) && (deps[e] as i64 + shift) < to {
            e += 1;
        }
        base + i..base + e
    }

    /// Patterns merged by stop sequence and mode (see [`BoundGroups`]).
    fn group_patterns(&self) -> BoundGroups {
        let mut g = BoundGroups::default();
        let mut seen: std::collections::HashMap<(&[StopIdx], u8), u32> = Default::default();
        let mut first_pattern = Vec::new();
        for (p, pat) in self.patterns.iter().enumerate() {
            let stops = &self.pattern_stops[pat.stop_offset as usize..(pat.stop_offset + pat.n_stops) as usize];
            let mode = self.pattern_mode_bit[p];
            let next = g.stop_offset.len() as u32;
            let id = *seen.entry((stops, mode)).or_insert(next);
            if id == next {
                g.stop_offset.push(pat.stop_offset);
                g.mode_bit.push(mode);
                first_pattern.push(p);
            }
            g.pattern_group.push(id);
        }
        let n = self.stop_wheelchair.len();
        let mut lists: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        for (id, (&off, &p)) in g.stop_offset.iter().zip(&first_pattern).enumerate() {
            for pos in 0..self.patterns[p].n_stops {
                lists[self.pattern_stops[(off + pos) as usize] as usize].push((id as u32, pos));
            }
        }
        g.at_offsets.push(0);
        for l in lists {
            g.at.extend(l);
            g.at_offsets.push(g.at.len() as u32);
        }
        g
    }

    /// The mirrored view for backward (arrive-by) searches.
    pub fn backward(net: &Network) -> Self {
        let tt = &net.timetable;
        let mut v = TransitView { id: next_view_id(), backward: true, ..Default::default() };
        for (pi, p) in tt.patterns.iter().enumerate() {
            let (n, m) = (p.n_stops, p.n_trips);
            let np = Pattern {
                route: p.route,
                stop_offset: v.pattern_stops.len() as u32,
                n_stops: n,
                trip_offset: v.trip_orig.len() as u32,
                n_trips: m,
                st_offset: v.arr.len() as u32,
            };
            let stops = tt.pattern_stops(pi as u32);
            let flags = tt.pattern_flags(pi as u32);
            for i in (0..n as usize).rev() {
                v.pattern_stops.push(stops[i]);
                let f = flags[i];
                // Boarding backwards is alighting forwards.
                let mut nf = 0;
                if f & NO_PICKUP != 0 {
                    nf |= NO_DROP_OFF;
                }
                if f & NO_DROP_OFF != 0 {
                    nf |= NO_PICKUP;
                }
                v.pattern_flags.push(nf);
            }
            for t in (0..m).rev() {
                let tr = p.trip_offset + t;
                v.trip_orig.push(tr);
                v.trip_service.push(tt.trips.service[tr as usize]);
                v.trip_wheelchair.push(tt.trips.wheelchair[tr as usize]);
                for i in (0..n).rev() {
                    let idx = (p.st_offset + t * n + i) as usize;
                    v.arr.push((MIRROR - tt.departures[idx] as i64) as u32);
                    v.dep.push((MIRROR - tt.arrivals[idx] as i64) as u32);
                }
            }
            v.pattern_mode_bit.push(tt.routes.modes[p.route as usize].bit());
            v.patterns.push(np);
        }
        // stop -> (pattern, position) with mirrored positions.
        let mut lists: Vec<Vec<(u32, u32)>> = vec![Vec::new(); tt.stops.len()];
        for (pi, p) in v.patterns.iter().enumerate() {
            for pos in 0..p.n_stops {
                lists[v.pattern_stops[(p.stop_offset + pos) as usize] as usize].push((pi as u32, pos));
            }
        }
        v.stop_patterns_offsets.push(0);
        for l in lists {
            v.stop_patterns.extend(l);
            v.stop_patterns_offsets.push(v.stop_patterns.len() as u32);
        }
        // Reverse footpaths.
        let n = tt.stops.len();
        let mut rev: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); n];
        for s in 0..n as u32 {
            for f in net.footpaths.from(s) {
                rev[f.to as usize].push((s, f.effort_dm, f.min_s));
            }
        }
        v.fp_offsets.push(0);
        for mut l in rev {
            l.sort_unstable();
            for (s, d, m) in l {
                v.fp_walk.push((s, 0));
                v.fp_effort_dm.push(d);
                v.fp_min_s.push(m);
            }
            v.fp_offsets.push(v.fp_walk.len() as u32);
        }
        v.stop_min_change_s = tt.stop_min_change_s.clone();
        v.stop_wheelchair = tt.stops.wheelchair.clone();
        v.with_columns()
    }

    /// A bound on the longest footpath at `pace` (seconds): a limit on transfer walks at
    /// or above it limits nothing.
    pub fn longest_footpath_s(&self, pace: Pace) -> u32 {
        footpath_secs(self.fp_longest.0, self.fp_longest.1, pace)
    }
    #[inline]
    fn patterns_at(&self, s: StopIdx) -> &[(u32, u32)] {
        &self.stop_patterns[self.stop_patterns_offsets[s as usize] as usize..self.stop_patterns_offsets[s as usize + 1] as usize]
    }
    /// Whether pattern `p` picks up at position `pos`.
    fn picks_up(&self, p: u32, pos: u32) -> bool {
        self.pattern_flags[(self.patterns[p as usize].stop_offset + pos) as usize] & NO_PICKUP == 0
    }
    /// The (pattern, position) pairs at `s` that pick up there.
    fn boardable(&self, s: StopIdx) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.patterns_at(s).iter().copied().filter(move |&(p, i)| self.picks_up(p, i))
    }
    /// Whether pattern `p` runs one of the modes of the bit set `modes`.
    #[inline]
    fn has_mode(&self, p: u32, modes: u8) -> bool {
        self.pattern_mode_bit[p as usize] & modes != 0
    }
    /// The (pattern, position) pairs at `s` of the allowed modes.
    #[inline]
    fn patterns_of_modes(&self, s: StopIdx, modes: u8) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.patterns_at(s).iter().copied().filter(move |&(p, _)| self.has_mode(p, modes))
    }
    #[inline]
    fn footpaths(&self, s: StopIdx) -> std::ops::Range<usize> {
        self.fp_offsets[s as usize] as usize..self.fp_offsets[s as usize + 1] as usize
    }
}

/// Which service days a query sees and how their times shift.
#[derive(Debug, Clone)]
pub struct DayContext {
    /// Day index in the calendar (may lie just outside it).
    pub day: i64,
    /// Per service: bit k set when it runs on day `day + k - 1`.
    pub masks: Vec<u8>,
    /// Seconds added to stored times of day `day + k - 1`, in the view's direction.
    pub shift: [i64; 3],
    /// Whether any service runs on day `day + k - 1`.
    pub day_active: [bool; 3],
    /// UTC timestamp (s) of the query day's GTFS time origin.
    pub origin_ts: i64,
    tz: jiff::tz::TimeZone,
    date: jiff::civil::Date,
    /// The patterns that run on these days, per view direction (forward, backward),
    /// made at the first search that needs them.
    running: [std::sync::OnceLock<RunningPatterns>; 2],
}

/// The patterns of a view with a trip on one of a query's three service days, and the
/// ride-bound groups with such a pattern: a scan of any other pattern boards nothing
/// (TER, Tuesday 2025-02-04: 52 % of the patterns a one-to-one search scanned had no
/// trip those days, the feed's three months of calendars in one timetable). As R5
/// filters its patterns by the day's services, a search reads only these.
#[derive(Debug, Clone, Default)]
pub struct RunningPatterns {
    /// The view it was made for ([`TransitView::id`]).
    made_for: u64,
    /// Per stop, its (pattern, position) pairs of running patterns (as `stop_patterns`).
    offsets: Vec<u32>,
    at: Vec<(u32, u32)>,
    /// Per stop, its (group, position) pairs of running groups (as `bound_groups.at`).
    group_offsets: Vec<u32>,
    group_at: Vec<(u32, u32)>,
}

impl RunningPatterns {
    fn new(view: &TransitView, ctx: &DayContext) -> Self {
        let runs: Vec<bool> = view
            .patterns
            .iter()
            .map(|p| view.trip_service[p.trip_offset as usize..(p.trip_offset + p.n_trips) as usize].iter().any(|&sv| ctx.masks.get(sv as usize).is_none_or(|m| m & 0b111 != 0)))
            .collect();
        let (offsets, at) = keep_running(&view.stop_patterns_offsets, &view.stop_patterns, &runs);
        let groups = &view.bound_groups;
        let (group_offsets, group_at) = if groups.at_offsets.is_empty() {
            Default::default()
        } else {
            let mut group_runs = vec![false; groups.stop_offset.len()];
            for (p, &g) in groups.pattern_group.iter().enumerate() {
                group_runs[g as usize] |= runs[p];
            }
            keep_running(&groups.at_offsets, &groups.at, &group_runs)
        };
        RunningPatterns { made_for: view.id, offsets, at, group_offsets, group_at }
    }

    #[inline]
    fn patterns_at(&self, s: StopIdx) -> &[(u32, u32)] {
        &self.at[self.offsets[s as usize] as usize..self.offsets[s as usize + 1] as usize]
    }
}

/// A per-stop list of (pattern or group, position) pairs as CSR, keeping the pairs whose
/// pattern or group `runs`.
fn keep_running(offsets: &[u32], pairs: &[(u32, u32)], runs: &[bool]) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut kept_offsets = Vec::with_capacity(offsets.len());
    let mut kept = Vec::new();
    kept_offsets.push(0);
    for w in offsets.windows(2) {
        kept.extend(pairs[w[0] as usize..w[1] as usize].iter().filter(|&&(x, _)| runs[x as usize]));
        kept_offsets.push(kept.len() as u32);
    }
    (kept_offsets, kept)
}

impl DayContext {
    pub fn new(net: &Network, date: jiff::civil::Date) -> Self {
        let tt = &net.timetable;
        let cal = tt.calendar();
        let day = cal.base().until(date).map(|s| s.get_days() as i64).unwrap_or(0);
        let tz = jiff::tz::TimeZone::get(&tt.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let prev = date.yesterday().unwrap_or(date);
        let shift = [-service_day_length_s(&tz, prev), 0, service_day_length_s(&tz, date)];
        let origin_ts = gtfs_origin_ts(&tz, date);
        let masks = cal.masks_around(day);
        let any = masks.iter().fold(0u8, |a, m| a | m);
        let day_active = [any & 1 != 0, any & 2 != 0, any & 4 != 0];
        DayContext { day, masks, shift, day_active, origin_ts, tz, date, running: Default::default() }
    }

    /// The patterns of `view` that run on these days. A context serves the two views
    /// of its network (each direction's list is made for the first view of that
    /// direction it sees); for any other view, `None`: every pattern is scanned.
    pub fn running(&self, view: &TransitView) -> Option<&RunningPatterns> {
        let r = self.running[view.backward as usize].get_or_init(|| RunningPatterns::new(view, self));
        (r.made_for == view.id).then_some(r)
    }

    /// Seconds after the GTFS origin for a local wall-clock time of the query day
    /// (`wall_s` may exceed 24 h for the next morning). Differs from `wall_s` only on
    /// daylight-saving days, before the change.
    pub fn wall_to_gtfs(&self, wall_s: u32) -> i64 {
        let days = (wall_s / 86_400) as i64;
        let rem = wall_s % 86_400;
        let d = self.date.checked_add(jiff::Span::new().days(days)).unwrap_or(self.date);
        let civil = d.at((rem / 3600) as i8, (rem / 60 % 60) as i8, (rem % 60) as i8, 0);
        match civil.to_zoned(self.tz.clone()) {
            Ok(z) => z.timestamp().as_second() - self.origin_ts,
            Err(_) => wall_s as i64,
        }
    }
    /// The query day.
    pub fn date(&self) -> jiff::civil::Date {
        self.date
    }
    /// The network's time zone.
    pub fn tz(&self) -> &jiff::tz::TimeZone {
        &self.tz
    }
    fn shift_for(&self, view: &TransitView, k: usize) -> i64 {
        if view.backward {
            -self.shift[k]
        } else {
            self.shift[k]
        }
    }
}

/// What one search needs of a [`DayContext`]: the service days it can use, their shifts
/// in the view's direction, and the services' masks. A day none of whose departures
/// falls between the search's earliest label and its latest limit is off (an afternoon
/// window sees only its own day: the trip search then tries no other).
#[derive(Debug, Clone, Copy)]
struct Days<'a> {
    masks: &'a [u8],
    active: [bool; 3],
    shift: [i64; 3],
    /// More than one day active.
    several: bool,
}

impl<'a> Days<'a> {
    fn new(view: &TransitView, ctx: &'a DayContext, from: i64, to: i64) -> Self {
        let shift = [0, 1, 2].map(|d| ctx.shift_for(view, d));
        let (lo, hi) = view.dep_span;
        let active = [0, 1, 2].map(|d| ctx.day_active[d] && hi as i64 + shift[d] >= from && (lo as i64) + shift[d] < to);
        Days { masks: &ctx.masks, active, shift, several: active.iter().filter(|a| **a).count() > 1 }
    }
}

/// UTC timestamp of "noon minus 12 h" on `date` in `tz`.
pub fn gtfs_origin_ts(tz: &jiff::tz::TimeZone, date: jiff::civil::Date) -> i64 {
    date.at(12, 0, 0, 0).to_zoned(tz.clone()).map(|z| z.timestamp().as_second() - 12 * 3600).unwrap_or(0)
}

/// Query options that shape the search.
#[derive(Debug, Clone)]
pub struct RaptorParams {
    pub max_rounds: usize,
    /// Bit set of allowed modes (`Mode::bit`).
    pub modes: u8,
    pub wheelchair: bool,
    /// Walking speed of the footpaths.
    pub walk: Pace,
    /// Minimum time between alighting and boarding another vehicle.
    pub transfer_slack_s: u32,
    /// Footpaths longer than this (at `walk`) are not used.
    pub max_footpath_s: u32,
    /// Range mode: arrivals later than departure + this are pruned (no use to an
    /// analysis capped at this travel time).
    pub max_duration_s: Option<u32>,
}

impl Default for RaptorParams {
    fn default() -> Self {
        RaptorParams { max_rounds: 8, modes: u8::MAX, wheelchair: false, walk: Pace::WALK, transfer_slack_s: 60, max_footpath_s: 900, max_duration_s: None }
    }
}

/// Default minimum time between alighting and boarding another vehicle (a request may
/// set 0 to 600 s).
pub const DEFAULT_TRANSFER_SLACK_S: u32 = 60;

impl RaptorParams {
    /// The search rules of a journey plan and of an accessibility surface alike:
    /// `max_transfer_walk_s` bounds each footpath between two rides (after scaling to the
    /// walking speed), `transfer_slack_s` the change time after each ride.
    pub fn for_query(max_transfers: u32, modes: u8, wheelchair: bool, walk: Pace, max_transfer_walk_s: u32, transfer_slack_s: u32) -> Self {
        RaptorParams { max_rounds: max_transfers as usize + 1, modes, wheelchair, walk, transfer_slack_s, max_footpath_s: max_transfer_walk_s.max(1), max_duration_s: None }
    }

    pub fn all_modes() -> u8 {
        Mode::ALL.iter().fold(0, |m, x| m | x.bit())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RideLabel {
    /// View trip index.
    pub trip: u32,
    /// Service day offset k (0: day before, 1: query day, 2: day after).
    pub day: u8,
    pub pattern: u32,
    pub board_pos: u32,
    pub alight_pos: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkLabel {
    pub from: StopIdx,
    pub duration_s: u32,
}

/// Reusable search state (one per thread).
#[derive(Debug, Default, Clone)]
pub struct Raptor {
    n_stops: usize,
    pub tau: Vec<Vec<Time>>,
    /// Arrival by a ride in round k (before footpaths).
    pub tau_ride: Vec<Vec<Time>>,
    pub ride: Vec<Vec<RideLabel>>,
    pub walk: Vec<Vec<WalkLabel>>,
    /// True when tau[k][s] came from a footpath in round k.
    pub by_walk: Vec<Vec<bool>>,
    marked: Vec<bool>,
    marked_list: Vec<StopIdx>,
    route_marks: Vec<(u32, u32)>,
    /// Range mode, per round and pattern (`k * patterns + p`): the last ride a scan
    /// ended with (trip within pattern, day, board position; `NONE` trip: none yet).
    /// Its arrivals were offered to every later stop in that round, and labels carry
    /// over to earlier departures: riding that trip or a later one of the same day
    /// (trips of a pattern do not overtake) improves nothing past that position.
    offered: Vec<(u32, u32, u32)>,
    /// The highest round written since the last `reset` (rounds above it hold no
    /// label: a reset clears only up to it, not every round of a long search).
    dirty_rounds: usize,
    route_list: Vec<u32>,
    improved_flag: Vec<bool>,
    /// The stops a ride improved in the round (kept: a range search runs rounds for
    /// every departure).
    improved: Vec<StopIdx>,
    touched: Touched,
    /// Range mode: per round `k`, one bit per block of `CARRY_BLOCK` stops in which some
    /// label of round `k - 1` changed since round `k` last took the earlier of the two
    /// (`carry_words` words a round, one round more than `tau`).
    carry: Vec<u64>,
    carry_words: usize,
    /// Per stop, where its last window in `TransitView::stop_deps` started.
    dep_cursor: Vec<u32>,
    /// Range mode, per stop improved by a ride in the round: the pattern position whose
    /// `fp_after` list its walks need (`NONE`: its whole `fp_board`).
    via: Vec<u32>,
    /// Earliest arrival at each stop by a ride (not by a transfer walk after it: the
    /// walk to a destination starts where a vehicle was left, as in R5), over all the
    /// departures run since `reset`, and the stops it changed for in the last departure.
    pub transit_best: Vec<Time>,
    pub changed: Vec<StopIdx>,
    changed_flag: Vec<bool>,
    pub rounds_run: usize,
    /// Lower bounds on the rides still needed to reach the destination (`u8::MAX`: more
    /// than the search allows). A search without one passes an empty slice (no array of
    /// zeros read at every arrival).
    rides_lb: Vec<u8>,
    /// Per pattern group, the furthest position the ride-bound search has reached.
    group_reach: Vec<u32>,
    /// Per pattern group (`TransitView::bound_groups`) and level `l` (stride
    /// `max_rounds`): 1 + the furthest position of a stop with `rides_lb == l`, when
    /// further than at every lower level (0 otherwise; `u16::MAX`: to the end).
    /// The maximum over levels `<= max_rounds - k` ends a scan in round `k`: no stop
    /// past it can reach the destination within the rides left.
    group_last: Vec<u16>,
    /// The last level of the ride-bound search when it stopped there (`u8::MAX`: it
    /// searched every level): a stop it did not reach has `rides_lb` one more, and
    /// rounds with more rides left than it scan whole patterns.
    bfs_depth: u8,
    frontier: Vec<StopIdx>,
    next_frontier: Vec<StopIdx>,
    /// What `rides_lb` was computed for (view, modes, rounds, egress stops): a search
    /// again to the same stops (the next departures of a window, a retry with a longer
    /// walk that adds no stop) reuses it.
    rides_key: Vec<u32>,
    rides_probe: Vec<u32>,
}

/// A stop reached at the start (access) or a stop to leave from at the end (egress).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StopTime {
    pub stop: StopIdx,
    /// Access: arrival at the stop. Egress: duration from the stop to the destination.
    pub time: Time,
}

impl Raptor {
    pub fn new(n_stops: usize, max_rounds: usize) -> Self {
        let mut r = Raptor::default();
        r.resize(n_stops, max_rounds);
        r
    }

    fn resize(&mut self, n: usize, max_rounds: usize) {
        let k = max_rounds + 1;
        if self.n_stops == n && self.tau.len() >= k {
            return;
        }
        self.n_stops = n;
        self.dirty_rounds = 0;
        self.tau = vec![vec![INF; n]; k];
        self.tau_ride = vec![vec![INF; n]; k];
        self.ride = vec![vec![RideLabel { trip: NONE, day: 0, pattern: NONE, board_pos: 0, alight_pos: 0 }; n]; k];
        self.walk = vec![vec![WalkLabel { from: NONE, duration_s: 0 }; n]; k];
        self.by_walk = vec![vec![false; n]; k];
        self.marked = vec![false; n];
        self.route_marks = Vec::new();
        self.improved_flag = vec![false; n];
        self.via = vec![NONE; n];
        self.touched = Touched { stops: Vec::new(), flag: vec![false; n], old: vec![INF; n] };
        self.carry_words = n.div_ceil(CARRY_BLOCK * 64);
        self.carry = vec![0; (k + 1) * self.carry_words];
        self.dep_cursor = vec![0; n];
        self.transit_best = vec![INF; n];
        self.changed_flag = vec![false; n];
    }

    /// Runs a search. `access`: stops with arrival times; `egress`: stops with durations to
    /// the destination (empty: no target pruning). Afterwards `tau` holds the rounds.
    pub fn run(&mut self, view: &TransitView, ctx: &DayContext, params: &RaptorParams, access: &[StopTime], egress: &[StopTime]) {
        self.reset(view, params);
        self.add_access(access);
        let bounded = !egress.is_empty() && view.ride_bounds_pay && params.max_rounds > 0;
        if bounded {
            self.ride_bounds(view, ctx, params, egress);
        }
        let from = access.iter().map(|a| a.time).min().unwrap_or(INF) as i64;
        self.rounds(view, ctx, params, egress, bounded, from, INF, false);
    }

    /// Range RAPTOR (rRAPTOR): one search per departure time, latest first, reusing the
    /// labels of later departures (an earlier departure can always wait). After each
    /// departure `on_departure(t, changed, transit_best)` sees the stops whose arrival with
    /// at least one ride improved. `access`: (stop, seconds from the origin). It keeps
    /// times only: `ride`, `walk` and `by_walk` (journeys) are not written.
    pub fn run_range(
        &mut self,
        view: &TransitView,
        ctx: &DayContext,
        params: &RaptorParams,
        access: &[(StopIdx, u32)],
        departures_latest_first: &[Time],
        mut on_departure: impl FnMut(Time, &[StopIdx], &[Time]),
    ) {
        self.reset(view, params);
        self.carry.fill(0);
        self.offered.clear();
        self.offered.resize((params.max_rounds + 1) * view.patterns.len(), (NONE, 0, 0));
        let mut acc = Vec::with_capacity(access.len());
        for &t in departures_latest_first {
            acc.clear();
            acc.extend(access.iter().map(|&(s, d)| StopTime { stop: s, time: t + d as Time }));
            // The access labels, each marked (in `rounds`) when a vehicle leaves its stop
            // between it and the label of the departure after.
            let w = self.carry_words;
            for a in &acc {
                let s = a.stop as usize;
                if a.time < self.tau[0][s] {
                    self.touched.note(s, self.tau[0][s], &mut self.carry[w..2 * w]);
                    self.tau[0][s] = a.time;
                }
            }
            // Arrivals at departure + the limit are kept (a sample counts within the limit
            // when equal to it): a search from this departure alone finds what the labels
            // of later departures carry.
            let limit = params.max_duration_s.map(|d| t.saturating_add(d as Time).saturating_add(1)).unwrap_or(INF);
            self.rounds(view, ctx, params, &[], false, t as i64, limit, true);
            on_departure(t, &self.changed, &self.transit_best);
            for &s in &self.changed {
                self.changed_flag[s as usize] = false;
            }
            self.changed.clear();
        }
    }

    /// Lower bounds on the rides from each stop to the destination: a breadth-first search
    /// backwards from the egress stops, a ride reaching every earlier stop of each pattern
    /// through a stop, a footpath costing no ride, to half the rounds. A label at `s` after
    /// `k` rides matters only when `k + rides_lb[s] <= max_rounds` (what makes a search
    /// with no journey within the ride limit end in a few rounds instead of exploring the
    /// network).
    fn ride_bounds(&mut self, view: &TransitView, ctx: &DayContext, params: &RaptorParams, egress: &[StopTime]) {
        // Rides only on the patterns that run on the query's days.
        let running = ctx.running(view);
        self.rides_probe.clear();
        self.rides_probe.extend([view.id as u32, (view.id >> 32) as u32, params.modes as u32, params.max_rounds as u32, ctx.day as u32, (ctx.day >> 32) as u32, running.is_some() as u32]);
        self.rides_probe.extend(egress.iter().map(|e| e.stop));
        self.rides_probe[7..].sort_unstable();
        if self.rides_probe == self.rides_key {
            return;
        }
        std::mem::swap(&mut self.rides_probe, &mut self.rides_key);
        let n = view.stop_wheelchair.len();
        let groups = &view.bound_groups;
        let n_groups = groups.stop_offset.len();
        self.rides_lb.clear();
        self.rides_lb.resize(n, u8::MAX);
        self.group_reach.clear();
        self.group_reach.resize(n_groups, 0);
        let stride = params.max_rounds;
        self.group_last.clear();
        self.group_last.resize(n_groups * stride, 0);
        self.frontier.clear();
        for e in egress {
            if self.rides_lb[e.stop as usize] == u8::MAX {
                self.rides_lb[e.stop as usize] = 0;
                self.frontier.push(e.stop);
            }
        }
        let (at_offsets, at_list) = running.map_or((&groups.at_offsets[..], &groups.at[..]), |r| (&r.group_offsets[..], &r.group_at[..]));
        let at = |y: StopIdx| at_list[at_offsets[y as usize] as usize..at_offsets[y as usize + 1] as usize].iter().copied().filter(|&(g, _)| groups.mode_bit[g as usize] & params.modes != 0);
        // 1 + position, saturated (a larger end is still a sound one).
        let end_of = |pos: u32| (pos + 1).min(u16::MAX as u32) as u16;
        // The search stops at half the rounds: the bound prunes most in the last rounds,
        // where few rides are left, and the deepest levels (most of the network) cost the
        // most to search (TER: p50 0.41 ms searching all levels, 0.30 ms half of them).
        // A stop not reached by then needs more rides than that.
        let depth = (params.max_rounds / 2).max(1).min(u8::MAX as usize - 1) as u8;
        self.bfs_depth = u8::MAX;
        let mut level = 0u8;
        while !self.frontier.is_empty() {
            // Footpaths cost no ride (their closure: a lower bound may be generous).
            let mut i = 0;
            while i < self.frontier.len() {
                let y = self.frontier[i];
                for e in view.fp_reverse.edges(y) {
                    let x = view.fp_reverse.targets[e];
                    if self.rides_lb[x as usize] == u8::MAX {
                        self.rides_lb[x as usize] = level;
                        self.frontier.push(x);
                    }
                }
                i += 1;
            }
            // Every label follows a ride (k >= 1): a stop that needs `max_rounds` more
            // is of no use, like one that cannot reach the destination at all.
            let cut = level == depth && level as usize + 1 < params.max_rounds;
            if level as usize + 1 >= params.max_rounds || cut {
                for &y in &self.frontier {
                    for (g, pos) in at(y) {
                        if pos > self.group_reach[g as usize] {
                            self.group_reach[g as usize] = pos;
                            self.group_last[g as usize * stride + level as usize] = end_of(pos);
                        }
                    }
                }
                if cut {
                    self.bfs_depth = depth;
                    for x in self.rides_lb.iter_mut().filter(|x| **x == u8::MAX) {
                        *x = depth + 1;
                    }
                }
                break;
            }
            self.next_frontier.clear();
            for &y in &self.frontier {
                for (g, pos) in at(y) {
                    let reach = &mut self.group_reach[g as usize];
                    if pos <= *reach {
                        continue;
                    }
                    // The furthest stop of the group at this level or below (a stop at a
                    // position no further was recorded at a lower level).
                    self.group_last[g as usize * stride + level as usize] = end_of(pos);
                    let off = groups.stop_offset[g as usize];
                    for &z in &view.pattern_stops[(off + *reach) as usize..(off + pos) as usize] {
                        if self.rides_lb[z as usize] == u8::MAX {
                            self.rides_lb[z as usize] = level + 1;
                            self.next_frontier.push(z);
                        }
                    }
                    *reach = pos;
                }
            }
            std::mem::swap(&mut self.frontier, &mut self.next_frontier);
            level += 1;
        }
    }

    /// Clears every label (start of a search or of a range of departures).
    pub fn reset(&mut self, view: &TransitView, params: &RaptorParams) {
        let n = view.stop_wheelchair.len();
        self.resize(n, params.max_rounds);
        for k in 0..=self.dirty_rounds.min(self.tau.len() - 1) {
            self.tau[k].fill(INF);
            self.tau_ride[k].fill(INF);
            self.by_walk[k].fill(false);
        }
        self.dirty_rounds = 0;
        self.transit_best.fill(INF);
        self.marked.fill(false);
        self.marked_list.clear();
        self.changed.clear();
        self.changed_flag.fill(false);
        if self.route_marks.len() != view.patterns.len() {
            self.route_marks = vec![(u32::MAX, 0); view.patterns.len()];
        } else {
            self.route_marks.fill((u32::MAX, 0));
        }
    }

    fn add_access(&mut self, access: &[StopTime]) {
        for a in access {
            let s = a.stop as usize;
            if a.time < self.tau[0][s] {
                self.tau[0][s] = a.time;
                if !self.marked[s] {
                    self.marked[s] = true;
                    self.marked_list.push(a.stop);
                }
            }
        }
    }

    fn note_transit(&mut self, s: usize, t: Time) {
        if t < self.transit_best[s] {
            self.transit_best[s] = t;
            if !self.changed_flag[s] {
                self.changed_flag[s] = true;
                self.changed.push(s as StopIdx);
            }
        }
    }

    /// The rounds of one search. `range`: one departure of a range search, which keeps
    /// times only (no journey labels), walks only where it may board, and ends scans at
    /// rides already offered.
    #[allow(clippy::too_many_arguments)]
    fn rounds(&mut self, view: &TransitView, ctx: &DayContext, params: &RaptorParams, egress: &[StopTime], ride_bounded: bool, from: i64, limit: Time, range: bool) {
        // Every label is at or after `from` (the departure, or the earliest access), every
        // boarding before `limit`.
        let days = Days::new(view, ctx, from, limit as i64);
        // Range mode on one service day: its shift, for the marking check after each round.
        let single_day = (range && !days.several && !view.stop_deps_offsets.is_empty()).then(|| days.active.iter().position(|a| *a).map_or(0, |d| days.shift[d]));
        // Only the patterns that run on these days board anything (a range search on one
        // service day chooses its patterns as it marks stops).
        let running = if single_day.is_none() { ctx.running(view) } else { None };
        let target_bound = |tau: &[Time]| -> Time { egress.iter().map(|e| tau[e.stop as usize].saturating_add(e.time)).min().unwrap_or(INF) };
        // Round 0 (walking to a stop, then from it) is no journey: only arrivals with a
        // ride bound the search, or a walk through stops would hide slower rides.
        let mut bound = limit;
        if range {
            self.mark_touched(view, params, 0, single_day, bound);
        }
        self.rounds_run = 0;
        let mut improved = std::mem::take(&mut self.improved);
        // Lower bounds on the rides to the destination (empty without them).
        let rides_lb = if ride_bounded { std::mem::take(&mut self.rides_lb) } else { Vec::new() };
        for k in 1..=params.max_rounds {
            if self.marked_list.is_empty() {
                break;
            }
            self.rounds_run = k;
            self.dirty_rounds = self.dirty_rounds.max(k);
            // Round k starts from round k-1 (and, in range mode, from later departures).
            let (prev, cur) = self.tau.split_at_mut(k);
            let (p, c) = (&prev[k - 1][..], &mut cur[0][..]);
            if range {
                // Only the blocks of stops where round k-1 changed since (a few; this
                // pass over every stop's label in two rounds took an eighth of the
                // first-level cache misses, and evicted what the round reads).
                let w = self.carry_words;
                let (upto_k, from_next) = self.carry.split_at_mut((k + 1) * w);
                let (bits_k, bits_next) = (&mut upto_k[k * w..], &mut from_next[..w]);
                for (wi, word) in bits_k.iter_mut().enumerate() {
                    let mut bits = std::mem::take(word);
                    while bits != 0 {
                        let b = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        let a = (wi * 64 + b) * CARRY_BLOCK;
                        let e = (a + CARRY_BLOCK).min(c.len());
                        let mut changed = false;
                        for (cv, &pv) in c[a..e].iter_mut().zip(&p[a..e]) {
                            changed |= pv < *cv;
                            *cv = (*cv).min(pv);
                        }
                        if changed {
                            bits_next[wi] |= 1 << b;
                        }
                    }
                }
            } else {
                for (cv, &pv) in c.iter_mut().zip(p) {
                    *cv = (*cv).min(pv);
                }
            }
            // Collect patterns through marked stops, with the first and last marked positions
            // (a range search on one service day chose them as it marked).
            if single_day.is_none() {
                for &s in &self.marked_list {
                    let at = running.map_or_else(|| view.patterns_at(s), |r| r.patterns_at(s));
                    for &(p, pos) in at.iter().filter(|&&(p, _)| view.has_mode(p, params.modes)) {
                        mark_pattern(&mut self.route_marks, &mut self.route_list, p, pos);
                    }
                }
            }
            improved.clear();
            for ri in 0..self.route_list.len() {
                let p = self.route_list[ri];
                let (first, last) = std::mem::replace(&mut self.route_marks[p as usize], (u32::MAX, 0));
                // With ride bounds, the scan ends at the last stop from which the
                // destination is within the rides left.
                let n_stops = view.patterns[p as usize].n_stops;
                let end = if ride_bounded && params.max_rounds - k <= self.bfs_depth as usize {
                    let stride = params.max_rounds;
                    let g = view.bound_groups.pattern_group[p as usize] as usize;
                    match self.group_last[g * stride..g * stride + (params.max_rounds - k + 1)].iter().max() {
                        Some(&u16::MAX) => n_stops,
                        // Past `first` at least one stop to alight at, else no use.
                        Some(&e) if e as u32 > first + 1 => e as u32,
                        _ => continue,
                    }
                } else {
                    n_stops
                };
                self.scan_pattern(view, &days, params, k, p, (first, last, end), bound, &rides_lb, &mut improved, range);
            }
            self.route_list.clear();
            for &s in &self.marked_list {
                self.marked[s as usize] = false;
            }
            self.marked_list.clear();
            // Footpaths from stops improved by a ride in this round.
            for &s in &improved {
                self.note_transit(s as usize, self.tau_ride[k][s as usize]);
            }
            self.relax_footpaths(view, params, k, bound, &rides_lb, &improved, range, single_day.is_some());
            for &s in &improved {
                self.improved_flag[s as usize] = false;
            }
            if range {
                self.mark_touched(view, params, k, single_day, bound);
            } else {
                for &s in &improved {
                    if !self.marked[s as usize] && self.tau[k][s as usize] == self.tau_ride[k][s as usize] {
                        self.marked[s as usize] = true;
                        self.marked_list.push(s);
                    }
                }
            }
            if !egress.is_empty() {
                bound = bound.min(target_bound(&self.transit_best));
            }
        }
        for &s in &self.marked_list {
            self.marked[s as usize] = false;
        }
        self.marked_list.clear();
        // Patterns chosen for a round past the last.
        for &p in &self.route_list {
            self.route_marks[p as usize] = (u32::MAX, 0);
        }
        self.route_list.clear();
        self.improved = improved;
        if ride_bounded {
            self.rides_lb = rides_lb;
        }
    }

    /// Range mode: marks the stops whose label changed in round `k` (`touched`, with the
    /// labels before in `round_old`) for the next round's boardings. A changed label is
    /// marked only when a vehicle leaves its stop between the new time and the old (each
    /// plus the change time of the next ride, none before the first): every boarding from
    /// the old label was made (it was marked, or it is as good as one that was), and the
    /// new one boards the same trips otherwise (on one service day, `single_day` its
    /// shift; with more, every changed label is marked).
    ///
    /// On one service day the next round's patterns are chosen here too: at each marked
    /// stop, those that leave it in between (the others board there the trip they boarded
    /// from the old label), or all of its patterns when the window holds as many
    /// departures. With more days, `rounds` takes every pattern at every marked stop.
    fn mark_touched(&mut self, view: &TransitView, params: &RaptorParams, k: usize, single_day: Option<i64>, bound: Time) {
        for &s in &self.touched.stops {
            let (new, old) = (self.tau[k][s as usize], self.touched.old[s as usize]);
            self.touched.flag[s as usize] = false;
            let Some(shift) = single_day else {
                if !self.marked[s as usize] {
                    self.marked[s as usize] = true;
                    self.marked_list.push(s);
                }
                continue;
            };
            let slack = if k == 0 { 0 } else { params.transfer_slack_s.max(view.stop_min_change_s[s as usize]) as i64 };
            let at = view.patterns_at(s);
            let window = view.departs_between(s, new as i64 + slack, (old as i64).min(bound as i64 - slack) + slack, shift, at.len(), &mut self.dep_cursor[s as usize]);
            if window.is_empty() {
                continue;
            }
            if !self.marked[s as usize] {
                self.marked[s as usize] = true;
                self.marked_list.push(s);
            }
            let mut mark = |(p, pos): (u32, u32)| {
                if view.has_mode(p, params.modes) {
                    mark_pattern(&mut self.route_marks, &mut self.route_list, p, pos);
                }
            };
            if window.len() >= at.len() || at.len() > u16::MAX as usize {
                at.iter().copied().for_each(&mut mark);
            } else {
                for i in window {
                    mark(at[view.stop_dep_slot[i] as usize]);
                }
            }
        }
        self.touched.stops.clear();
    }

    /// Walks from the stops in `improved` (arrivals by a ride in round `k`), once each.
    ///
    /// `choose_patterns`: the next round's patterns are chosen as stops are marked (see
    /// `mark_touched`); a stop a walk marks here brings all of its own.
    #[allow(clippy::too_many_arguments)]
    fn relax_footpaths(&mut self, view: &TransitView, params: &RaptorParams, k: usize, bound: Time, rides_lb: &[u8], improved: &[StopIdx], range: bool, choose_patterns: bool) {
        let tau_ride_k = &self.tau_ride[k][..];
        let default_pace = params.walk == Pace::WALK;
        if range && default_pace && !params.wheelchair && !view.fp_board_offsets.is_empty() {
            // A range search (its labels serve only to board; no bound on rides left)
            // walks only where it may board, shortest first, up to the first walk over
            // the limits. The labels it changes are marked after the round (see
            // `mark_touched`).
            let tau_k = &mut self.tau[k][..];
            let touched = &mut self.touched;
            let w = self.carry_words;
            let carry_next = &mut self.carry[(k + 1) * w..(k + 2) * w];
            let mut label = |q: usize, t: Time| {
                if t < tau_k[q] {
                    touched.note(q, tau_k[q], carry_next);
                    tau_k[q] = t;
                }
            };
            for &s in improved {
                let t0 = tau_ride_k[s as usize];
                let cap = (params.max_footpath_s as i64).min(bound as i64 - 1 - t0 as i64);
                let g = self.via[s as usize];
                let list = if g != NONE && params.max_footpath_s >= view.fp_after_need[g as usize].1 {
                    let (a, b) = view.fp_after_range[g as usize];
                    &view.fp_after[a as usize..b as usize]
                } else {
                    &view.fp_board[view.fp_board_offsets[s as usize] as usize..view.fp_board_offsets[s as usize + 1] as usize]
                };
                for &(q, d) in list {
                    if d as i64 > cap {
                        break;
                    }
                    label(q as usize, t0 + d as Time);
                }
            }
            return;
        }
        let tau_k = &mut self.tau[k][..];
        let by_walk_k = &mut self.by_walk[k][..];
        let walk_k = &mut self.walk[k][..];
        let (marked, marked_list) = (&mut self.marked, &mut self.marked_list);
        let (route_marks, route_list) = (&mut self.route_marks, &mut self.route_list);
        let w = self.carry_words;
        let carry_next = &mut self.carry[(k + 1) * w..(k + 2) * w];
        let rides_left = params.max_rounds - k;
        // A walk from `s` reaching `q` at `t`: kept when it improves the round's label.
        // A range search keeps no journey labels (only times serve its analyses).
        let journeys = !range;
        let mut label = |q: usize, t: Time, s: StopIdx, d: u32| {
            if t < tau_k[q] {
                tau_k[q] = t;
                if journeys {
                    by_walk_k[q] = true;
                    walk_k[q] = WalkLabel { from: s, duration_s: d };
                } else {
                    mark_carry(carry_next, q);
                }
                if !marked[q] {
                    marked[q] = true;
                    marked_list.push(q as StopIdx);
                    if choose_patterns {
                        for (p, pos) in view.patterns_of_modes(q as StopIdx, params.modes) {
                            mark_pattern(route_marks, route_list, p, pos);
                        }
                    }
                }
            }
        };
        for &s in improved {
            let t0 = tau_ride_k[s as usize];
            for e in view.footpaths(s) {
                let (q, d) = if default_pace {
                    // Shortest first at this pace: none further can be in time.
                    let (q, d) = view.fp_walk[e];
                    if d > params.max_footpath_s || t0 + d as Time >= bound {
                        break;
                    }
                    (q as usize, d)
                } else {
                    let d = footpath_secs(view.fp_effort_dm[e], view.fp_min_s[e], params.walk);
                    if d > params.max_footpath_s {
                        continue;
                    }
                    (view.fp_walk[e].0 as usize, d)
                };
                let t = t0 + d as Time;
                if t >= bound || rides_lb.get(q).is_some_and(|&l| l as usize > rides_left) || (params.wheelchair && view.stop_wheelchair[q] == 2) {
                    continue;
                }
                label(q, t, s, d);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_pattern(&mut self, view: &TransitView, days: &Days, params: &RaptorParams, k: usize, p: u32, (start, last_marked, end): (u32, u32, u32), bound: Time, rides_lb: &[u8], improved: &mut Vec<StopIdx>, range: bool) {
        let pat = view.patterns[p as usize];
        let n = pat.n_stops as usize;
        let stops = &view.pattern_stops[pat.stop_offset as usize..pat.stop_offset as usize + n];
        let flags = &view.pattern_flags[pat.stop_offset as usize..pat.stop_offset as usize + n];
        let (before, from_k) = self.tau.split_at_mut(k);
        let tau_prev = &before[k - 1];
        let tau_k = &mut from_k[0];
        let (ride_lower, ride_rest) = self.tau_ride.split_at_mut(k);
        let tau_ride_k = &mut ride_rest[0];
        let by_walk_k = &mut self.by_walk[k];
        let ride_k = &mut self.ride[k];
        let improved_flag = &mut self.improved_flag;
        let via = &mut self.via;
        let touched = &mut self.touched;
        let w = self.carry_words;
        let carry_next = &mut self.carry[(k + 1) * w..(k + 2) * w];
        let marked_prev = &self.marked;
        // Range mode: the ride this round's scans of the pattern last ended with.
        let journeys = !range;
        let offered = range.then(|| &mut self.offered[k * view.patterns.len() + p as usize]);
        let before_offered = offered.as_deref().copied().unwrap_or((NONE, 0, 0));
        // Current trip: its row of times, shift, index, day, board position, and the
        // position past which its arrivals were all offered already (`u32::MAX`: none).
        let mut cur: Option<(&[u32], &[u32], i64, u32, usize, u32, u32)> = None;
        let last_marked = last_marked as usize;
        // An arrival at position `pos` of stop `s` at `a` by trip `t` of `day` boarded at
        // `board` (drop-off allowed, before the bound).
        //
        // Per-round labels only: with a limit on rides, a later departure's arrival with
        // more rides must not hide an earlier departure's arrival with fewer (rRAPTOR
        // keeps tau[k] across departures). Every arrival that improves the round's ride
        // label is kept and walked on from, even when a transfer walk reached the stop
        // earlier (footpaths are not transitive: that walk cannot be extended). An arrival
        // no earlier than one with fewer rides adds nothing (its walks were relaxed then,
        // and carried).
        macro_rules! alight {
            ($pos:expr, $s:expr, $a:expr, $t:expr, $day:expr, $board:expr) => {{
                let (pos, s, a, t, day, board): (usize, usize, Time, u32, usize, u32) = ($pos, $s, $a, $t, $day, $board);
                if a < tau_ride_k[s] && rides_lb.get(s).is_none_or(|&l| k + l as usize <= params.max_rounds) && ride_lower[1..].iter().all(|r| a < r[s]) {
                    tau_ride_k[s] = a;
                    if journeys {
                        ride_k[s] = RideLabel { trip: pat.trip_offset + t, day: day as u8, pattern: p, board_pos: board, alight_pos: pos as u32 };
                    } else {
                        let g = pat.stop_offset + pos as u32;
                        via[s] = if view.fp_after_need.get(g as usize).is_some_and(|n| board < n.0) { g } else { NONE };
                    }
                    if !improved_flag[s] {
                        improved_flag[s] = true;
                        improved.push(s as StopIdx);
                    }
                    if a < tau_k[s] {
                        if journeys {
                            by_walk_k[s] = false;
                        } else {
                            touched.note(s, tau_k[s], carry_next);
                        }
                        tau_k[s] = a;
                    }
                }
            }};
        }
        // Up to the last stop where the last round improved: alight and board.
        for pos in start as usize..(end as usize).min(last_marked + 1) {
            let s = stops[pos] as usize;
            let stop_ok = !(params.wheelchair && view.stop_wheelchair[s] == 2);
            // Alight (arrivals past the position from which the trip's were all offered
            // already add nothing).
            if let Some((arr, _, shift, t, day, board, _)) = cur.filter(|c| pos <= c.6 as usize) {
                let a = (arr[pos] as i64 + shift) as Time;
                if a < bound && flags[pos] & NO_DROP_OFF == 0 && stop_ok {
                    alight!(pos, s, a, t, day, board);
                }
            }
            // Board (or catch an earlier trip), only where the last round improved: at
            // any other stop the same boarding was tried in the round after its label
            // last improved, and its arrivals are already labels (as in R5).
            if !marked_prev[s] {
                continue;
            }
            let prev = tau_prev[s];
            if prev >= INF || flags[pos] & NO_PICKUP != 0 || !stop_ok {
                continue;
            }
            let slack = if k >= 2 { params.transfer_slack_s.max(view.stop_min_change_s[s]) as Time } else { 0 };
            let ready = prev as i64 + slack as i64;
            let cur_dep = cur.map(|(_, dep, shift, ..)| dep[pos] as i64 + shift);
            if cur_dep.is_some_and(|d| ready >= d) {
                continue;
            }
            let limit = cur_dep.unwrap_or(bound as i64);
            if let Some((t, day, shift)) = earliest_trip(view, days, params, p, pos, ready, limit, cur.map(|c| (c.3, c.4, c.2))) {
                let row = pat.st_offset as usize + t as usize * n;
                let (o_trip, o_day, o_pos) = before_offered;
                let offered_past = if o_trip != NONE && o_day == day as u32 && o_trip <= t { o_pos.max(pos as u32) } else { u32::MAX };
                cur = Some((&view.arr[row..row + n], &view.dep[row..row + n], shift, t, day, pos as u32, offered_past));
            }
        }
        // Past it, no trip can be boarded: ride on, up to the position past which the
        // trip's arrivals were all offered, or until they (which only get later along it:
        // ingest refuses trips whose times decrease, scenarios add or scale non-negative
        // times) pass the bound.
        if let Some((arr, _, shift, t, day, board, offered_past)) = cur {
            for pos in last_marked + 1..(end as usize).min((offered_past as usize).saturating_add(1)) {
                let a = (arr[pos] as i64 + shift) as Time;
                if a >= bound {
                    break;
                }
                let s = stops[pos] as usize;
                if flags[pos] & NO_DROP_OFF == 0 && !(params.wheelchair && view.stop_wheelchair[s] == 2) {
                    alight!(pos, s, a, t, day, board);
                }
            }
        }
        // The scan's last ride: its arrivals were offered past its boarding (checked, or
        // offered before by the same trip).
        if let (Some(o), Some((.., t, day, board, offered_past))) = (offered, cur) {
            if offered_past == u32::MAX || (o.0 == t && board < o.2) {
                *o = (t, day as u32, board);
            }
        }
    }
}

/// Adds position `pos` of pattern `p` to the next round's scans (from its first marked
/// position to its last).
#[inline]
fn mark_pattern(route_marks: &mut [(u32, u32)], route_list: &mut Vec<u32>, p: u32, pos: u32) {
    let m = &mut route_marks[p as usize];
    if m.0 == u32::MAX {
        route_list.push(p);
        *m = (pos, pos);
    } else {
        m.0 = m.0.min(pos);
        m.1 = m.1.max(pos);
    }
}

/// Range mode: the stops whose label `tau[k]` changed in the round, and each one's label
/// before (every boarding from it was made: marks depend on it).
#[derive(Debug, Default, Clone)]
struct Touched {
    stops: Vec<StopIdx>,
    flag: Vec<bool>,
    old: Vec<Time>,
}

impl Touched {
    /// Stop `s`'s label, `old` until now, changes: noted once a round, and its block
    /// set in the next round's carry (`next_round`).
    #[inline]
    fn note(&mut self, s: usize, old: Time, next_round: &mut [u64]) {
        if !self.flag[s] {
            self.flag[s] = true;
            self.old[s] = old;
            self.stops.push(s as StopIdx);
            mark_carry(next_round, s);
        }
    }
}

/// Stops per block of [`Raptor::carry`]: a 64-byte line's worth of labels.
const CARRY_BLOCK: usize = 16;

/// Notes that stop `s`'s label changed in a round: the next round takes it at its start.
#[inline]
fn mark_carry(next_round: &mut [u64], s: usize) {
    next_round[s / (CARRY_BLOCK * 64)] |= 1 << (s / CARRY_BLOCK % 64);
}

/// Earliest trip of a pattern that departs from position `pos` at or after `ready` and
/// strictly before `limit`, over the three service days; returns (trip within pattern,
/// day offset, shift). `current`: the trip ridden (trip within pattern, day, shift), whose
/// departure is `limit`: on its day only the trips before it can depart earlier, and
/// none can when the one just before leaves before `ready` (most boardings).
#[allow(clippy::too_many_arguments)]
fn earliest_trip(view: &TransitView, days: &Days, params: &RaptorParams, p: u32, pos: usize, ready: i64, limit: i64, current: Option<(u32, usize, i64)>) -> Option<(u32, usize, i64)> {
    let pat = &view.patterns[p as usize];
    let (first_dep, last_dep) = view.pattern_dep_span[p as usize];
    // Most calls while riding: the trip before the current one leaves before `ready` (so
    // does every earlier trip of its day), and no other day has a departure in [ready,
    // limit). Read from the trips' rows, next to the current one's in memory.
    if let Some((t, day, shift)) = current {
        let before = t.checked_sub(1).map(|b| view.dep[(pat.st_offset + b * pat.n_stops) as usize + pos] as i64 + shift);
        if before.is_none_or(|d| d < ready) && !(days.several && (0..3).any(|d| d != day && days.active[d] && last_dep as i64 + days.shift[d] >= ready && (first_dep as i64) + days.shift[d] < limit)) {
            return None;
        }
    }
    let m = pat.n_trips as usize;
    let col = &view.dep_by_pos[pat.st_offset as usize + pos * m..pat.st_offset as usize + (pos + 1) * m];
    let mut best: Option<(u32, usize, i64, i64)> = None;
    for day in 0..3 {
        if !days.active[day] {
            continue;
        }
        let shift = days.shift[day];
        let target = ready - shift;
        if (last_dep as i64) < target || first_dep as i64 + shift >= limit.min(best.map_or(i64::MAX, |b| b.3)) {
            continue;
        }
        let col = match current {
            Some((t, d, _)) if d == day => &col[..t as usize],
            _ => col,
        };
        if target > u32::MAX as i64 || col.last().is_none_or(|&d| (d as i64) < target) || col[0] as i64 + shift >= limit.min(best.map_or(i64::MAX, |b| b.3)) {
            continue;
        }
        // Trips are FIFO: departures at `pos` are sorted.
        let lo = col.partition_point(|&d| (d as i64) < target);
        for (t, &d) in col.iter().enumerate().skip(lo) {
            let abs = d as i64 + shift;
            if abs >= limit || best.is_some_and(|b| abs >= b.3) {
                break;
            }
            let trip = pat.trip_offset as usize + t;
            if days.masks[view.trip_service[trip] as usize] & (1 << day) == 0 {
                continue;
            }
            if params.wheelchair && view.trip_wheelchair[trip] == 2 {
                continue;
            }
            best = Some((t as u32, day, shift, abs));
            break;
        }
    }
    best.map(|(t, d, s, _)| (t, d, s))
}

/// One leg of a raw journey, in the view's direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawLeg {
    Ride { label: RideLabel, from: StopIdx, to: StopIdx, dep: Time, arr: Time },
    Walk { from: StopIdx, to: StopIdx, dep: Time, arr: Time },
}

impl Raptor {
    /// Journey ending at `stop` in round `k`, from the access stop; legs in the view's order.
    pub fn journey(&self, view: &TransitView, ctx: &DayContext, k: usize, stop: StopIdx) -> Option<(StopIdx, Vec<RawLeg>)> {
        self.journey_from(view, ctx, k, stop, false)
    }

    /// Journey whose last leg is the ride arriving at `stop` in round `k`
    /// (`tau_ride[k][stop]`), even when a transfer walk reached that stop earlier.
    pub fn journey_by_ride(&self, view: &TransitView, ctx: &DayContext, k: usize, stop: StopIdx) -> Option<(StopIdx, Vec<RawLeg>)> {
        self.journey_from(view, ctx, k, stop, true)
    }

    fn journey_from(&self, view: &TransitView, ctx: &DayContext, mut k: usize, mut stop: StopIdx, mut by_ride: bool) -> Option<(StopIdx, Vec<RawLeg>)> {
        let mut legs = Vec::new();
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 4 * (self.tau.len() + 2) {
                return None;
            }
            let s = stop as usize;
            while !by_ride && k > 0 && self.tau[k][s] == self.tau[k - 1][s] {
                k -= 1;
            }
            if k == 0 {
                legs.reverse();
                return Some((stop, legs));
            }
            let mut at = self.tau[k][s];
            if !std::mem::replace(&mut by_ride, false) && self.by_walk[k][s] {
                let w = self.walk[k][s];
                let dep = self.tau_ride[k][w.from as usize];
                legs.push(RawLeg::Walk { from: w.from, to: stop, dep, arr: at });
                stop = w.from;
                at = dep;
                let _ = at;
            }
            let s = stop as usize;
            let r = self.ride[k][s];
            if r.trip == NONE {
                return None;
            }
            let pat = view.patterns[r.pattern as usize];
            let n = pat.n_stops as usize;
            let t = (r.trip - pat.trip_offset) as usize;
            let shift = ctx.shift_for(view, r.day as usize);
            let board_stop = view.pattern_stops[pat.stop_offset as usize + r.board_pos as usize];
            let dep = (view.dep[pat.st_offset as usize + t * n + r.board_pos as usize] as i64 + shift) as Time;
            let arr = (view.arr[pat.st_offset as usize + t * n + r.alight_pos as usize] as i64 + shift) as Time;
            legs.push(RawLeg::Ride { label: r, from: board_stop, to: stop, dep, arr });
            stop = board_stop;
            k -= 1;
        }
    }
}
