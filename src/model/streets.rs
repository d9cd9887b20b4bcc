//! The street graph: one node array, one CSR adjacency per profile (walk, bike, car),
//! forward and reverse.
//!
//! Every OSM node used by a routable way is a graph node, so an edge is one straight
//! segment and its geometry is its two end nodes (no separate geometry table needed).
//! Costs of the walk and bike graphs are *effort decimetres*: the segment's length
//! rounded to the decimetre, times the way's effort factor (steps count double when
//! walking); a leg's time is its total effort at the request's speed, rounded up to the
//! second once per leg (see [`crate::model::search::Pace`]). The car graph's costs are
//! deciseconds at the way's speed. Lengths are decimetres.

use super::geo::{LatLon, LocalProjection};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

pub type NodeIdx = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    Walk = 0,
    Bike = 1,
    Car = 2,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Walk, Profile::Bike, Profile::Car];
    pub fn name(self) -> &'static str {
        match self {
            Profile::Walk => "walk",
            Profile::Bike => "bike",
            Profile::Car => "car",
        }
    }
}

/// 4.8 km/h, the walking speed used throughout (as OTP and R5 default to ~1.3 m/s).
pub const WALK_SPEED_MPS: f64 = 4.8 / 3.6;
/// 15 km/h, an everyday cyclist.
pub const BIKE_SPEED_MPS: f64 = 15.0 / 3.6;

/// One directed adjacency in compressed sparse row form.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Csr {
    pub offsets: Vec<u32>,
    pub targets: Vec<NodeIdx>,
    /// Walk and bike: effort decimetres; car: deciseconds.
    pub cost: Vec<u32>,
    pub length_dm: Vec<u32>,
}

impl Csr {
    /// Builds a CSR over `n` nodes from (from, to, weight, length) edges.
    pub fn from_edges(n: usize, mut edges: Vec<(u32, u32, u32, u32)>) -> Self {
        edges.sort_unstable();
        edges.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut offsets = vec![0u32; n + 1];
        for e in &edges {
            offsets[e.0 as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Csr {
            offsets,
            targets: edges.iter().map(|e| e.1).collect(),
            cost: edges.iter().map(|e| e.2).collect(),
            length_dm: edges.iter().map(|e| e.3).collect(),
        }
    }
    pub fn reversed(&self) -> Self {
        let n = self.offsets.len().saturating_sub(1);
        let mut edges = Vec::with_capacity(self.targets.len());
        for u in 0..n {
            for e in self.offsets[u] as usize..self.offsets[u + 1] as usize {
                edges.push((self.targets[e], u as u32, self.cost[e], self.length_dm[e]));
            }
        }
        Csr::from_edges(n, edges)
    }
    #[inline]
    pub fn edges(&self, u: NodeIdx) -> std::ops::Range<usize> {
        self.offsets[u as usize] as usize..self.offsets[u as usize + 1] as usize
    }
    pub fn n_edges(&self) -> usize {
        self.targets.len()
    }
    pub fn degree(&self, u: NodeIdx) -> usize {
        self.edges(u).len()
    }
}

/// Per-profile graph: forward and reverse CSR.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProfileGraph {
    pub forward: Csr,
    pub reverse: Csr,
    /// Number of nodes in the kept (largest strongly connected) component.
    pub n_nodes: u32,
}

/// A segment of the street graph usable by a profile, for snapping.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRef {
    pub a: NodeIdx,
    pub b: NodeIdx,
    pub pa: [f64; 2],
    pub pb: [f64; 2],
}

impl rstar::RTreeObject for SegmentRef {
    type Envelope = rstar::AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        rstar::AABB::from_corners(self.pa, self.pb)
    }
}

impl rstar::PointDistance for SegmentRef {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        let (_, _, d) = super::geo::project_on_segment(*p, self.pa, self.pb);
        d * d
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Streets {
    pub coords: Vec<LatLon>,
    pub profiles: Vec<ProfileGraph>,
    /// Reference latitude of the metric projection used for snapping.
    pub ref_lat: f64,
    /// Names of the ways, by segment, for walking directions.
    pub names: WayNames,
    /// Contraction hierarchies of the walk and bike graphs, by profile (none for the car
    /// graph), prepared at build time for point-to-point routes.
    pub hierarchies: Vec<Option<Hierarchy>>,
    #[serde(skip)]
    index: [OnceLock<rstar::RTree<SegmentRef>>; 3],
    #[serde(skip)]
    phast: [OnceLock<Option<Phast>>; 2],
}

/// A contraction hierarchy (fast_paths) of one profile's forward graph. Its weights are the
/// graph's costs times [`Hierarchy::SCALE`], a zero cost (two nodes at one place) weighing 1:
/// fast_paths refuses zero weights, and this way a path's cost is its weight / SCALE exactly
/// (as long as it holds fewer than SCALE zero-length segments) and the hierarchy finds the
/// path a Dijkstra search over the costs finds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hierarchy {
    #[serde(serialize_with = "fast_paths::serialize_32", deserialize_with = "fast_paths::deserialize_32")]
    pub graph: fast_paths::FastGraph,
}

impl Hierarchy {
    pub const SCALE: usize = 64;

    pub fn weight(cost: u32) -> usize {
        if cost == 0 {
            1
        } else {
            cost as usize * Self::SCALE
        }
    }

    pub fn prepare(g: &Csr) -> Self {
        let n = g.offsets.len().saturating_sub(1);
        let mut input = fast_paths::InputGraph::new();
        for u in 0..n as u32 {
            for e in g.edges(u) {
                input.add_edge(u as usize, g.targets[e] as usize, Self::weight(g.cost[e]));
            }
        }
        input.freeze();
        Hierarchy { graph: fast_paths::prepare(&input) }
    }
}

impl PartialEq for Hierarchy {
    fn eq(&self, other: &Self) -> bool {
        self.graph.get_num_nodes() == other.graph.get_num_nodes() && self.graph.get_num_out_edges() == other.graph.get_num_out_edges() && self.graph.get_num_in_edges() == other.graph.get_num_in_edges()
    }
}

/// The downward sweep of PHAST (Delling, Goldberg, Nowatzyk & Werneck 2011) over a
/// hierarchy, derived from it on first use: the nodes renumbered by rank, each with its
/// upward out-edges (for the small search from the source) and its in-edges from higher
/// ranks (for one linear sweep from the top rank down). One search costs a few
/// microseconds plus one pass over every node and edge in memory order: the fastest way to
/// the travel times from one point to *every* street node, as a walking matrix needs.
#[derive(Debug, Default)]
pub struct Phast {
    /// Rank of each node.
    pub rank: Vec<u32>,
    /// Upward out-edges by rank (CSR): target rank, weight.
    pub up_offsets: Vec<u32>,
    pub up: Vec<(u32, u32)>,
    /// In-edges from higher ranks by rank (CSR): source rank, weight.
    pub down_offsets: Vec<u32>,
    pub down: Vec<(u32, u32)>,
    /// Area of the streets' bounding box, square metres (which search pays, see
    /// [`Phast::pays_for`]).
    pub area_m2: f64,
}

impl Phast {
    pub fn new(h: &Hierarchy, area_m2: f64) -> Self {
        let g = fast_paths::FastGraph32::new(&h.graph);
        let n = g.ranks.len();
        let rank: Vec<u32> = g.ranks.clone();
        let csr = |first: &[u32], edges: &[(u32, u32)]| -> (Vec<u32>, Vec<(u32, u32)>) {
            let mut offsets = Vec::with_capacity(n + 1);
            let mut out = Vec::with_capacity(edges.len());
            offsets.push(0);
            for r in 0..n {
                out.extend(edges[first[r] as usize..first[r + 1] as usize].iter().map(|&(adj, w)| (rank[adj as usize], w)));
                offsets.push(out.len() as u32);
            }
            (offsets, out)
        };
        let fwd: Vec<(u32, u32)> = g.edges_fwd.iter().map(|e| (e.adj_node, e.weight)).collect();
        let bwd: Vec<(u32, u32)> = g.edges_bwd.iter().map(|e| (e.adj_node, e.weight)).collect();
        let (up_offsets, up) = csr(&g.first_edge_ids_fwd, &fwd);
        let (down_offsets, down) = csr(&g.first_edge_ids_bwd, &bwd);
        Phast { rank, up_offsets, up, down_offsets, down, area_m2 }
    }

    /// Whether a sweep over every node pays for a search reaching `radius_m` as the crow
    /// flies: when that disc covers a fifth of the streets' box or more (a sweep visits each
    /// node once in memory order, several times cheaper than a Dijkstra search settling it).
    pub fn pays_for(&self, radius_m: f64) -> bool {
        std::f64::consts::PI * radius_m * radius_m >= 0.2 * self.area_m2
    }
}

/// The name of the way each named segment belongs to: segments keyed by their two end
/// nodes (smaller first), sorted, with an index into one table of distinct names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WayNames {
    pub names: Vec<String>,
    keys: Vec<u64>,
    ids: Vec<u32>,
}

impl WayNames {
    fn key(a: NodeIdx, b: NodeIdx) -> u64 {
        let (u, v) = if a <= b { (a, b) } else { (b, a) };
        ((u as u64) << 32) | v as u64
    }
    /// From (node, node, name) triples; a segment shared by several named ways keeps the
    /// first name given.
    pub fn from_segments(segments: impl IntoIterator<Item = (NodeIdx, NodeIdx, String)>) -> Self {
        let mut table: std::collections::HashMap<String, u32> = Default::default();
        let mut names = Vec::new();
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        for (a, b, name) in segments {
            let id = *table.entry(name).or_insert_with_key(|n| {
                names.push(n.clone());
                names.len() as u32 - 1
            });
            pairs.push((Self::key(a, b), id));
        }
        pairs.sort_by_key(|p| p.0);
        pairs.dedup_by_key(|p| p.0);
        WayNames { names, keys: pairs.iter().map(|p| p.0).collect(), ids: pairs.iter().map(|p| p.1).collect() }
    }
    /// Name of the way between two adjacent nodes, if it has one.
    pub fn get(&self, a: NodeIdx, b: NodeIdx) -> Option<&str> {
        let i = self.keys.binary_search(&Self::key(a, b)).ok()?;
        Some(self.names[self.ids[i] as usize].as_str())
    }
}

/// One stretch of a walk or ride along a street: the way's name (none for unnamed paths)
/// and the metres walked on it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StreetStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    pub distance_m: f64,
}

impl Clone for Streets {
    fn clone(&self) -> Self {
        Streets { coords: self.coords.clone(), profiles: self.profiles.clone(), ref_lat: self.ref_lat, names: self.names.clone(), hierarchies: self.hierarchies.clone(), index: Default::default(), phast: Default::default() }
    }
}

impl PartialEq for Streets {
    fn eq(&self, o: &Self) -> bool {
        self.coords == o.coords && self.profiles == o.profiles && self.ref_lat == o.ref_lat && self.names == o.names && self.hierarchies == o.hierarchies
    }
}

/// Where a point meets the street graph.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Snap {
    pub a: NodeIdx,
    pub b: NodeIdx,
    /// Position along a->b in [0, 1].
    pub t: f64,
    /// Distance from the point to the street, metres.
    pub distance_m: f64,
    pub point: LatLon,
}

impl Streets {
    pub fn new(coords: Vec<LatLon>, profiles: Vec<ProfileGraph>, names: WayNames) -> Self {
        let ref_lat = if coords.is_empty() { 0.0 } else { coords.iter().map(|c| c.lat).sum::<f64>() / coords.len() as f64 };
        Streets { coords, profiles, ref_lat, names, hierarchies: Vec::new(), index: Default::default(), phast: Default::default() }
    }

    /// Prepares the walk and bike hierarchies (both at once, one per core).
    pub fn prepare_hierarchies(&mut self) {
        let (walk, bike) = rayon::join(|| Hierarchy::prepare(&self.profiles[Profile::Walk as usize].forward), || Hierarchy::prepare(&self.profiles[Profile::Bike as usize].forward));
        self.hierarchies = vec![Some(walk), Some(bike), None];
    }

    /// The profile's contraction hierarchy, when the network file holds one.
    pub fn hierarchy(&self, p: Profile) -> Option<&Hierarchy> {
        self.hierarchies.get(p as usize).and_then(Option::as_ref)
    }

    /// The profile's PHAST sweep (walk and bike), made from its hierarchy on first use.
    pub fn phast(&self, p: Profile) -> Option<&Phast> {
        self.phast
            .get(p as usize)?
            .get_or_init(|| {
                let mut bbox = super::geo::BBox::empty();
                self.coords.iter().for_each(|c| bbox.extend(*c));
                Some(Phast::new(self.hierarchy(p)?, bbox.area_m2()))
            })
            .as_ref()
    }

    /// The streets along a path of adjacent nodes, consecutive segments of one name
    /// merged (an unnamed stretch between two of the same name is merged into them when
    /// shorter than 30 m, as a crossing is).
    pub fn steps_along(&self, path: &[NodeIdx]) -> Vec<StreetStep> {
        let mut out: Vec<StreetStep> = Vec::new();
        for w in path.windows(2) {
            let d = super::geo::distance_m(self.coords[w[0] as usize], self.coords[w[1] as usize]);
            let name = self.names.get(w[0], w[1]);
            match out.last_mut() {
                Some(last) if last.street.as_deref() == name => last.distance_m += d,
                _ => out.push(StreetStep { street: name.map(str::to_string), distance_m: d }),
            }
            let n = out.len();
            if n >= 3 && out[n - 2].street.is_none() && out[n - 2].distance_m < 30.0 && out[n - 3].street == out[n - 1].street {
                let tail = out.pop().unwrap().distance_m + out.pop().unwrap().distance_m;
                out.last_mut().unwrap().distance_m += tail;
            }
        }
        for s in &mut out {
            s.distance_m = (s.distance_m * 10.0).round() / 10.0;
        }
        out
    }
    pub fn projection(&self) -> LocalProjection {
        LocalProjection::new(self.ref_lat)
    }
    pub fn graph(&self, p: Profile) -> &ProfileGraph {
        &self.profiles[p as usize]
    }
    pub fn n_nodes(&self) -> usize {
        self.coords.len()
    }

    fn index(&self, p: Profile) -> &rstar::RTree<SegmentRef> {
        self.index[p as usize].get_or_init(|| {
            let pr = self.projection();
            let g = &self.profiles[p as usize].forward;
            let xy: Vec<[f64; 2]> = self.coords.iter().map(|c| pr.project(*c)).collect();
            let mut segs = Vec::new();
            for u in 0..self.coords.len() as u32 {
                for e in g.edges(u) {
                    let v = g.targets[e];
                    // One segment per undirected pair is enough for snapping.
                    if u < v || !g.edges(v).any(|f| g.targets[f] == u) {
                        segs.push(SegmentRef { a: u, b: v, pa: xy[u as usize], pb: xy[v as usize] });
                    }
                }
            }
            rstar::RTree::bulk_load(segs)
        })
    }

    /// Builds the spatial indexes now (they are otherwise built on first use).
    pub fn warm_up(&self) {
        for p in Profile::ALL {
            let _ = self.index(p);
        }
    }

    /// Nearest point on a street edge usable by `profile`, within `max_m` metres.
    pub fn snap(&self, p: LatLon, profile: Profile, max_m: f64) -> Option<Snap> {
        let pr = self.projection();
        let xy = pr.project(p);
        let seg = self.index(profile).nearest_neighbor(&xy)?;
        let (c, t, d) = super::geo::project_on_segment(xy, seg.pa, seg.pb);
        (d <= max_m).then(|| Snap { a: seg.a, b: seg.b, t, distance_m: d, point: pr.unproject(c) })
    }
}
