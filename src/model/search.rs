//! Street access, defined once for every stage (footpaths at build time, journeys,
//! surfaces, target links): the one-to-many Dijkstra on a CSR street graph with a cut-off
//! (Dijkstra 1959; binary heap), the cost of reaching a snap point, and the straight-line
//! fallback with its detour factor. Costs are tenths of a second at the reference
//! walking speed, scaled by `reference speed / actual speed`.
//!
//! Invariant: `dist[v]` is final once popped; nodes beyond `max_ds` are never settled.
//! The search state is a scratch object reused across queries (no per-query allocation
//! of node-sized arrays after the first), with a touched list to reset it.

use crate::model::geo::{distance_m, LatLon};
use crate::model::streets::{Csr, NodeIdx, Snap, WALK_SPEED_MPS};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub const UNREACHED: u32 = u32::MAX;

/// Detour factor of the straight-line fallback (no street between two points).
pub const DETOUR_FACTOR: f64 = 1.3;

/// Seconds to walk from `a` to `b` by straight line x [`DETOUR_FACTOR`] at the reference
/// walking speed (where no street graph links them).
pub fn straight_line_s(a: LatLon, b: LatLon) -> u32 {
    (distance_m(a, b) * DETOUR_FACTOR / WALK_SPEED_MPS).ceil() as u32
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

    /// Runs from `seeds` (node, initial cost) over `g`, weights scaled by `scale`
    /// (1.0 = the profile's reference speed), until cost exceeds `max_ds` deciseconds.
    pub fn run(&mut self, g: &Csr, seeds: &[(NodeIdx, u32)], scale: f64, max_ds: u32) {
        let n = g.offsets.len() - 1;
        self.reset(n);
        for &(s, c) in seeds {
            if c <= max_ds && c < self.dist[s as usize] {
                if self.dist[s as usize] == UNREACHED {
                    self.touched.push(s);
                }
                self.dist[s as usize] = c;
                self.heap.push(Reverse((c, s)));
            }
        }
        let exact = scale == 1.0;
        while let Some(Reverse((d, u))) = self.heap.pop() {
            if d > self.dist[u as usize] {
                continue;
            }
            for e in g.edges(u) {
                let v = g.targets[e];
                let w = if exact { g.weight_ds[e] } else { (g.weight_ds[e] as f64 * scale).round() as u32 };
                let nd = d + w;
                if nd <= max_ds && nd < self.dist[v as usize] {
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

/// Weight (deciseconds) of edge a->b in `g`, if it exists.
pub fn edge_weight(g: &Csr, a: NodeIdx, b: NodeIdx) -> Option<u32> {
    g.edges(a).find(|&e| g.targets[e] == b).map(|e| g.weight_ds[e])
}

/// Seeds for a search starting at a snapped point: both ends of the snapped edge, with
/// the part of the edge still to walk, plus the walk from the point to the street
/// (`offstreet_mps`: speed for that part).
pub fn seeds_from(g: &Csr, snap: &Snap, scale: f64, offstreet_ds: u32) -> Vec<(NodeIdx, u32)> {
    let mut seeds = Vec::with_capacity(2);
    let w_ab = edge_weight(g, snap.a, snap.b);
    let w_ba = edge_weight(g, snap.b, snap.a);
    let full = w_ab.or(w_ba).unwrap_or(0) as f64 * scale;
    if w_ab.is_some() {
        seeds.push((snap.b, offstreet_ds + ((1.0 - snap.t) * full).round() as u32));
    }
    if w_ba.is_some() {
        seeds.push((snap.a, offstreet_ds + (snap.t * full).round() as u32));
    }
    if seeds.is_empty() {
        seeds.push((snap.a, offstreet_ds));
    }
    seeds
}

/// Cost to reach a snapped point from a finished search in graph `g` (forward search):
/// arriving at `a` then walking along a->b, or at `b` walking b->a.
pub fn cost_to_snap(search: &StreetSearch, g: &Csr, snap: &Snap, scale: f64, offstreet_ds: u32) -> Option<u32> {
    let w_ab = edge_weight(g, snap.a, snap.b);
    let w_ba = edge_weight(g, snap.b, snap.a);
    let full = w_ab.or(w_ba).unwrap_or(0) as f64 * scale;
    let mut best = u32::MAX;
    let da = search.dist[snap.a as usize];
    let db = search.dist[snap.b as usize];
    if da != UNREACHED && (w_ab.is_some() || w_ba.is_none()) {
        best = best.min(da + (snap.t * full).round() as u32);
    }
    if db != UNREACHED && w_ba.is_some() {
        best = best.min(db + ((1.0 - snap.t) * full).round() as u32);
    }
    (best != u32::MAX).then(|| best + offstreet_ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dijkstra_finds_shortest_paths_and_respects_the_cutoff() {
        // 0 -10-> 1 -10-> 2, and 0 -25-> 2; 2 -100-> 3.
        let g = Csr::from_edges(4, vec![(0, 1, 10, 1), (1, 2, 10, 1), (0, 2, 25, 1), (2, 3, 100, 1)]);
        let mut s = StreetSearch::new(4);
        s.run(&g, &[(0, 0)], 1.0, 50);
        assert_eq!(&s.dist[..3], &[0, 10, 20]);
        assert_eq!(s.dist[3], UNREACHED, "beyond the cut-off");
        assert_eq!(s.path_to(2), vec![0, 1, 2]);
        // Reuse with another seed and a speed scale.
        s.run(&g, &[(1, 5)], 2.0, 1000);
        assert_eq!(s.dist[0], UNREACHED);
        assert_eq!(s.dist[2], 25);
        assert_eq!(s.dist[3], 225);
    }
}
