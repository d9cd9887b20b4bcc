//! Street access, defined once for every stage (footpaths at build time, journeys,
//! surfaces, target links): the one-to-many Dijkstra on a CSR street graph with a cut-off
//! (Dijkstra 1959; binary heap), the cost of reaching a snap point, the straight-line
//! fallback with its detour factor, the one conversion from street costs to time, and
//! point-to-point routes on the build's contraction hierarchies (fast_paths).
//!
//! Units: walk and bike searches run in *effort decimetres* (segment lengths rounded to
//! the decimetre, times the way's effort factor; the walk from a point to the street it
//! snaps to counts its straight length). A leg's time is its total effort divided by
//! the request's speed, rounded up to the second once per leg ([`Pace::secs`]): the
//! search is independent of the speed, so every walking speed is exact and a table of
//! efforts (footpaths, stop -> target walks) serves them all.
//!
//! Invariant: `dist[v]` is final once popped; nodes beyond the cut-off are never settled.
//! The search state is a scratch object reused across queries (no per-query allocation
//! of node-sized arrays after the first), with a touched list to reset it.

use crate::model::geo::{distance_m, LatLon};
use crate::model::streets::{Csr, Hierarchy, NodeIdx, Phast, Snap, BIKE_SPEED_MPS, WALK_SPEED_MPS};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub const UNREACHED: u32 = u32::MAX;

/// Detour factor of the straight-line fallback (no street between two points).
pub const DETOUR_FACTOR: f64 = 1.3;

/// A speed on the street graph: converts effort decimetres to seconds and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    dm_per_s: f64,
}

impl Pace {
    /// The default walking speed (4.8 km/h).
    pub const WALK: Pace = Pace { dm_per_s: WALK_SPEED_MPS * 10.0 };
    /// The default cycling speed (15 km/h).
    pub const BIKE: Pace = Pace { dm_per_s: BIKE_SPEED_MPS * 10.0 };

    pub fn mps(mps: f64) -> Pace {
        Pace { dm_per_s: mps * 10.0 }
    }
    pub fn speed_mps(self) -> f64 {
        self.dm_per_s / 10.0
    }
    /// Seconds for a leg of `dm` effort decimetres, rounded up (an exact whole second,
    /// up to floating-point noise, stays that second).
    pub fn secs(self, dm: u32) -> u32 {
        ((dm as f64 / self.dm_per_s) - 1e-9).ceil().max(0.0) as u32
    }
    /// The longest leg, in effort decimetres, done within `secs` seconds.
    pub fn reach_dm(self, secs: u32) -> u32 {
        (secs as f64 * self.dm_per_s + 1e-6).floor().min(u32::MAX as f64 / 2.0) as u32
    }
}

/// Effort decimetres of the straight line from `a` to `b` x [`DETOUR_FACTOR`] (where no
/// street graph links them), rounded up.
pub fn straight_line_dm(a: LatLon, b: LatLon) -> u32 {
    (distance_m(a, b) * DETOUR_FACTOR * 10.0).ceil() as u32
}

/// Effort decimetres from a point to the street it snapped to.
pub fn offstreet_dm(snap: &Snap) -> u32 {
    (snap.distance_m * 10.0).round() as u32
}

/// Reusable Dijkstra state.
#[derive(Debug, Default, Clone)]
pub struct StreetSearch {
    pub dist: Vec<u32>,
    pub pred: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
}

impl StreetSearch {
    pub fn new(n: usize) -> Self {
        StreetSearch { dist: vec![UNREACHED; n], pred: vec![u32::MAX; n], touched: Vec::new(), heap: BinaryHeap::new() }
    }

    fn reset(&mut self, n: usize) {
        if self.dist.len() != n {
            *self = StreetSearch::new(n);
            return;
        }
        for &v in &self.touched {
            self.dist[v as usize] = UNREACHED;
            self.pred[v as usize] = u32::MAX;
        }
        self.touched.clear();
        self.heap.clear();
    }

    /// Runs from `seeds` (node, initial cost) over `g` until the cost exceeds `max`
    /// (effort decimetres on the walk and bike graphs).
    pub fn run(&mut self, g: &Csr, seeds: &[(NodeIdx, u32)], max: u32) {
        let n = g.offsets.len() - 1;
        self.reset(n);
        for &(s, c) in seeds {
            if c <= max && c < self.dist[s as usize] {
                if self.dist[s as usize] == UNREACHED {
                    self.touched.push(s);
                }
                self.dist[s as usize] = c;
                self.heap.push(Reverse((c, s)));
            }
        }
        while let Some(Reverse((d, u))) = self.heap.pop() {
            if d > self.dist[u as usize] {
                continue;
            }
            for e in g.edges(u) {
                let v = g.targets[e];
                let nd = d + g.cost[e];
                if nd <= max && nd < self.dist[v as usize] {
                    if self.dist[v as usize] == UNREACHED {
                        self.touched.push(v);
                    }
                    self.dist[v as usize] = nd;
                    self.pred[v as usize] = u;
                    self.heap.push(Reverse((nd, v)));
                }
            }
        }
    }

    /// Nodes reached by the last run.
    pub fn reached(&self) -> &[u32] {
        &self.touched
    }

    /// Node path from a seed to `v` (inclusive), following predecessors.
    pub fn path_to(&self, v: NodeIdx) -> Vec<NodeIdx> {
        let mut out = vec![v];
        let mut cur = v;
        while self.pred[cur as usize] != u32::MAX {
            cur = self.pred[cur as usize];
            out.push(cur);
            if out.len() > self.dist.len() {
                break;
            }
        }
        out.reverse();
        out
    }
}

/// Cost of edge a->b in `g`, if it exists.
pub fn edge_cost(g: &Csr, a: NodeIdx, b: NodeIdx) -> Option<u32> {
    g.edges(a).find(|&e| g.targets[e] == b).map(|e| g.cost[e])
}

/// Seeds for a search starting at a snapped point: both ends of the snapped edge, with
/// the part of the edge still to go, plus the way from the point to the street.
pub fn seeds_from(g: &Csr, snap: &Snap) -> Vec<(NodeIdx, u32)> {
    let off = offstreet_dm(snap);
    let mut seeds = Vec::with_capacity(2);
    let w_ab = edge_cost(g, snap.a, snap.b);
    let w_ba = edge_cost(g, snap.b, snap.a);
    let full = w_ab.or(w_ba).unwrap_or(0) as f64;
    if w_ab.is_some() {
        seeds.push((snap.b, off + ((1.0 - snap.t) * full).round() as u32));
    }
    if w_ba.is_some() {
        seeds.push((snap.a, off + (snap.t * full).round() as u32));
    }
    if seeds.is_empty() {
        seeds.push((snap.a, off));
    }
    seeds
}

/// Where a search ends at a snapped point: the end nodes of the snapped edge with the part
/// of the edge from them to the point (the way off the street not included).
pub fn snap_targets(g: &Csr, snap: &Snap) -> impl Iterator<Item = (NodeIdx, u32)> {
    let w_ab = edge_cost(g, snap.a, snap.b);
    let w_ba = edge_cost(g, snap.b, snap.a);
    let full = w_ab.or(w_ba).unwrap_or(0) as f64;
    let via_a = (w_ab.is_some() || w_ba.is_none()).then(|| (snap.a, (snap.t * full).round() as u32));
    let via_b = w_ba.map(|_| (snap.b, ((1.0 - snap.t) * full).round() as u32));
    via_a.into_iter().chain(via_b)
}

/// Cost to reach a snapped point from a finished search in graph `g` (forward search):
/// arriving at `a` then going along a->b, or at `b` going b->a; then off the street.
pub fn cost_to_snap(search: &StreetSearch, g: &Csr, snap: &Snap) -> Option<u32> {
    snap_targets(g, snap).filter(|&(v, _)| search.dist[v as usize] != UNREACHED).map(|(v, rest)| search.dist[v as usize] + rest).min().map(|best| best + offstreet_dm(snap))
}

/// A point-to-point route on a contraction hierarchy of graph `g`: its cost (the same
/// units as `g`, the ways off the street at both ends included) and its street nodes, or
/// `None` when the two points are not connected. `calc` is the caller's reusable search state.
pub fn hierarchy_route(h: &Hierarchy, g: &Csr, from: &Snap, to: &Snap, calc: &mut fast_paths::PathCalculator) -> Option<(u32, Vec<NodeIdx>)> {
    let n = h.graph.get_num_nodes();
    // A node past the hierarchy's last one has no edge for this profile.
    fn ends(v: impl IntoIterator<Item = (NodeIdx, u32)>, n: usize) -> Vec<(usize, usize)> {
        v.into_iter().filter(|&(v, _)| (v as usize) < n).map(|(v, c)| (v as usize, c as usize * Hierarchy::SCALE)).collect()
    }
    let (sources, targets) = (ends(seeds_from(g, from), n), ends(snap_targets(g, to), n));
    if sources.is_empty() || targets.is_empty() {
        return None;
    }
    let path = calc.calc_path_multiple_sources_and_targets(&h.graph, sources, targets)?;
    let cost = u32::try_from(path.get_weight() / Hierarchy::SCALE).ok()?;
    Some((cost + offstreet_dm(to), path.get_nodes().iter().map(|&v| v as NodeIdx).collect()))
}

/// One-to-all street costs by PHAST: an upward Dijkstra from the seeds, then one sweep
/// down the ranks. `cost(v)` after [`PhastSearch::run`] is the cost of the best path to
/// node `v` in the graph's units (as a [`StreetSearch`] without cut-off finds it).
#[derive(Debug, Default)]
pub struct PhastSearch {
    /// Scaled weights by rank.
    dist: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
}

impl PhastSearch {
    pub fn run(&mut self, p: &Phast, seeds: &[(NodeIdx, u32)]) {
        let n = p.rank.len();
        self.dist.clear();
        self.dist.resize(n, u32::MAX);
        self.heap.clear();
        for &(v, c) in seeds {
            if (v as usize) < n {
                let r = p.rank[v as usize];
                let c = (c as u64 * Hierarchy::SCALE as u64).min(u32::MAX as u64 - 1) as u32;
                if c < self.dist[r as usize] {
                    self.dist[r as usize] = c;
                    self.heap.push(Reverse((c, r)));
                }
            }
        }
        // Upward: only edges to higher ranks, a few hundred nodes.
        while let Some(Reverse((d, r))) = self.heap.pop() {
            if d > self.dist[r as usize] {
                continue;
            }
            for &(to, w) in &p.up[p.up_offsets[r as usize] as usize..p.up_offsets[r as usize + 1] as usize] {
                let nd = d.saturating_add(w);
                if nd < self.dist[to as usize] {
                    self.dist[to as usize] = nd;
                    self.heap.push(Reverse((nd, to)));
                }
            }
        }
        // Downward: every node from the top rank, its in-edges from higher (final) ranks.
        for r in (0..n).rev() {
            let mut best = self.dist[r];
            for &(from, w) in &p.down[p.down_offsets[r] as usize..p.down_offsets[r + 1] as usize] {
                best = best.min(self.dist[from as usize].saturating_add(w));
            }
            self.dist[r] = best;
        }
    }

    /// Cost to node `v` after [`run`](Self::run), if reached.
    pub fn cost(&self, p: &Phast, v: NodeIdx) -> Option<u32> {
        let d = *self.dist.get(*p.rank.get(v as usize)? as usize)?;
        (d < u32::MAX - 1).then_some(d / Hierarchy::SCALE as u32)
    }

    /// Cost to a snapped point (as [`cost_to_snap`] after a Dijkstra search).
    pub fn cost_to_snap(&self, p: &Phast, g: &Csr, snap: &Snap) -> Option<u32> {
        snap_targets(g, snap).filter_map(|(v, rest)| Some(self.cost(p, v)? + rest)).min().map(|best| best + offstreet_dm(snap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dijkstra_finds_shortest_paths_and_respects_the_cutoff() {
        // 0 -10-> 1 -10-> 2, and 0 -25-> 2; 2 -100-> 3.
        let g = Csr::from_edges(4, vec![(0, 1, 10, 1), (1, 2, 10, 1), (0, 2, 25, 1), (2, 3, 100, 1)]);
        let mut s = StreetSearch::new(4);
        s.run(&g, &[(0, 0)], 50);
        assert_eq!(&s.dist[..3], &[0, 10, 20]);
        assert_eq!(s.dist[3], UNREACHED, "beyond the cut-off");
        assert_eq!(s.path_to(2), vec![0, 1, 2]);
        // Reuse with another seed.
        s.run(&g, &[(1, 5)], 1000);
        assert_eq!(s.dist[0], UNREACHED);
        assert_eq!(s.dist[2], 15);
        assert_eq!(s.dist[3], 115);
    }

    #[test]
    fn a_leg_is_rounded_up_to_the_second_once() {
        // 4.68 km/h = 1.3 m/s = 13 dm/s.
        let p = Pace::mps(4.68 / 3.6);
        assert_eq!(p.secs(0), 0);
        assert_eq!(p.secs(13), 1, "an exact second stays that second");
        assert_eq!(p.secs(14), 2);
        assert_eq!(p.secs(13 * 600), 600);
        assert_eq!(p.reach_dm(600), 7800);
        assert!(p.secs(p.reach_dm(600)) <= 600 && p.secs(p.reach_dm(600) + 1) > 600);
        assert_eq!(Pace::WALK.secs(4000), 300, "400 m at 4.8 km/h is 5 minutes");
        assert_eq!(straight_line_dm(LatLon::new(50.0, 3.0), LatLon::new(50.0, 3.0)), 0);
    }

    /// Consistency test (the hierarchy and its PHAST sweep against this module's own Dijkstra): on a 7 x 7
    /// grid with one-way streets, zero-length segments and uneven costs, every route
    /// between two points on streets costs what the Dijkstra search finds, and its path
    /// is a chain of graph edges adding up to that cost.
    #[test]
    fn hierarchy_routes_cost_what_dijkstra_finds_consistency() {
        let side = 7u32;
        let id = |x: u32, y: u32| y * side + x;
        let mut edges = Vec::new();
        for y in 0..side {
            for x in 0..side {
                let c = |k: u32| if (x + y + k).is_multiple_of(7) { 0 } else { (37 * x + 11 * y + k) % 23 * 10 + 5 };
                if x + 1 < side {
                    edges.push((id(x, y), id(x + 1, y), c(1), 1));
                    if y % 3 != 1 {
                        edges.push((id(x + 1, y), id(x, y), c(2), 1)); // every third row is one-way
                    }
                }
                if y + 1 < side {
                    edges.push((id(x, y), id(x, y + 1), c(3), 1));
                    edges.push((id(x, y + 1), id(x, y), c(3), 1));
                }
            }
        }
        let n = (side * side) as usize;
        let g = Csr::from_edges(n, edges);
        assert!(g.cost.contains(&0), "the grid must hold zero-cost segments");
        let h = Hierarchy::prepare(&g);
        let mut calc = fast_paths::create_calculator(&h.graph);
        let (phast, mut sweep) = (Phast::new(&h, 1.0), PhastSearch::default());
        let mut search = StreetSearch::new(n);
        let point = |a: u32, b: u32, t: f64| Snap { a, b, t, distance_m: 3.0, point: LatLon::new(0.0, 0.0) };
        let mut snaps = Vec::new();
        for u in 0..n as u32 {
            for e in g.edges(u) {
                snaps.push(point(u, g.targets[e], 0.25 + 0.5 * (e % 2) as f64));
            }
        }
        let mut compared = 0;
        for (i, from) in snaps.iter().enumerate().step_by(3) {
            search.run(&g, &seeds_from(&g, from), u32::MAX);
            sweep.run(&phast, &seeds_from(&g, from));
            for to in snaps.iter().skip(i % 5).step_by(4) {
                let want = cost_to_snap(&search, &g, to);
                assert_eq!(sweep.cost_to_snap(&phast, &g, to), want, "PHAST {from:?} -> {to:?}");
                let have = hierarchy_route(&h, &g, from, to, &mut calc);
                assert_eq!(have.as_ref().map(|x| x.0), want, "route {from:?} -> {to:?}");
                if let Some((cost, path)) = have {
                    let along: u32 = path.windows(2).map(|w| edge_cost(&g, w[0], w[1]).expect("a path follows graph edges")).sum();
                    let starts = seeds_from(&g, from).into_iter().find(|s| s.0 == path[0]).expect("the path starts at a seed").1;
                    let ends = snap_targets(&g, to).find(|s| s.0 == *path.last().unwrap()).expect("the path ends at a target").1;
                    assert_eq!(starts + along + ends + offstreet_dm(to), cost);
                }
                compared += 1;
            }
        }
        assert!(compared > 1000, "{compared} routes compared");
    }
}
