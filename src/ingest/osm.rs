//! OpenStreetMap ingest: routable ways -> street graph with walk, bike and car profiles.
//!
//! Two passes over the PBF (osmpbfreader): ways with a `highway` tag first, then only the
//! nodes those ways use. Tag rules are in [`way_access`], a pure function tested against
//! a tag table. Per profile, only the largest strongly connected component is kept
//! (petgraph's Kosaraju, a build-time step), so that every snapped point can reach every
//! other.

use crate::model::geo::{distance_m, LatLon};
use crate::model::places::{osm_kind, AddressStreet, NamedPlace, PlaceKind};
use crate::model::streets::{Csr, Profile, ProfileGraph, Streets, WayNames};
use std::path::Path;

/// What a way allows, per profile and direction, and at what speed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WayAccess {
    pub walk: bool,
    pub bike_forward: bool,
    pub bike_backward: bool,
    pub car_forward: bool,
    pub car_backward: bool,
    /// Walking cost factor (steps are slower than flat ground).
    pub walk_factor: f64,
    pub car_speed_kmh: f64,
}

fn yes(v: Option<&str>) -> bool {
    matches!(v, Some("yes" | "designated" | "permissive" | "destination" | "official" | "use_sidepath"))
}
fn no(v: Option<&str>) -> bool {
    matches!(v, Some("no" | "private" | "agricultural" | "forestry" | "delivery" | "discouraged" | "dismount"))
}

/// Access rules for a way from its tags; `None` when no profile may use it.
pub fn way_access<'a>(tag: impl Fn(&str) -> Option<&'a str>) -> Option<WayAccess> {
    let hw = tag("highway")?;
    let (walk_default, bike_default, car_default, car_speed) = match hw {
        "motorway" => (false, false, true, 110.0),
        "motorway_link" => (false, false, true, 60.0),
        "trunk" => (true, true, true, 90.0),
        "trunk_link" => (true, true, true, 50.0),
        "primary" | "primary_link" => (true, true, true, 60.0),
        "secondary" | "secondary_link" => (true, true, true, 50.0),
        "tertiary" | "tertiary_link" => (true, true, true, 40.0),
        "unclassified" | "road" => (true, true, true, 35.0),
        "residential" => (true, true, true, 30.0),
        "living_street" => (true, true, true, 10.0),
        "service" => (true, true, true, 15.0),
        "track" => (true, true, false, 0.0),
        "pedestrian" | "footway" | "platform" | "corridor" => (true, false, false, 0.0),
        "path" | "cycleway" => (true, true, false, 0.0),
        "steps" => (true, false, false, 0.0),
        "bridleway" => (false, false, false, 0.0),
        _ => return None,
    };
    if tag("area") == Some("yes") && hw != "pedestrian" {
        return None;
    }
    let access = tag("access");
    let general_no = no(access);
    let motorroad = tag("motorroad") == Some("yes");
    let mode = |default: bool, keys: &[&str]| -> bool {
        for k in keys {
            let v = tag(k);
            if yes(v) {
                return true;
            }
            if no(v) {
                return false;
            }
        }
        default && !general_no
    };
    let walk = mode(walk_default && !motorroad, &["foot"]);
    let bike = mode(bike_default && !motorroad, &["bicycle", "vehicle"]);
    let car = mode(car_default, &["motorcar", "motor_vehicle", "vehicle"]);
    // One-way rules.
    let oneway = tag("oneway");
    let implied = hw == "motorway" || tag("junction") == Some("roundabout");
    let (fwd, bwd) = match oneway {
        Some("yes" | "1" | "true") => (true, false),
        Some("-1" | "reverse") => (false, true),
        Some("no" | "0" | "false") => (true, true),
        _ if implied => (true, false),
        _ => (true, true),
    };
    let contraflow = matches!(tag("oneway:bicycle"), Some("no" | "0"))
        || tag("cycleway").is_some_and(|v| v.starts_with("opposite"))
        || tag("cycleway:left").is_some_and(|v| v.starts_with("opposite"))
        || tag("cycleway:right").is_some_and(|v| v.starts_with("opposite"));
    let (bfwd, bbwd) = if contraflow { (true, true) } else { (fwd, bwd) };
    let car_speed_kmh = tag("maxspeed").and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok()).filter(|v| *v > 0.0).unwrap_or(car_speed);
    let out = WayAccess {
        walk,
        bike_forward: bike && bfwd,
        bike_backward: bike && bbwd,
        car_forward: car && fwd,
        car_backward: car && bwd,
        walk_factor: if hw == "steps" { 2.0 } else { 1.0 },
        car_speed_kmh: car_speed_kmh * 0.85,
    };
    (out.walk || out.bike_forward || out.bike_backward || out.car_forward || out.car_backward).then_some(out)
}

#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    #[error("{path}: cannot open the OpenStreetMap file: {source}")]
    Open { path: String, source: std::io::Error },
    #[error("{path}: not a valid OpenStreetMap PBF file: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: no routable street (no way with a highway tag) in this extract")]
    Empty { path: String },
}

/// A routable way: its access rules, its nodes and its name (for walking directions).
#[derive(Debug, Clone)]
pub struct OsmWay {
    pub id: i64,
    pub access: WayAccess,
    pub nodes: Vec<i64>,
    pub name: Option<String>,
}

/// Optional bounding box (min_lat, min_lon, max_lat, max_lon) to crop an extract.
pub type Crop = Option<crate::model::geo::BBox>;

/// Walks the PBF's blocks (4-byte length, BlobHeader, blob) without decoding them: the
/// first is an OSMHeader, every header and blob is whole and of a sane size, and the last
/// ends exactly at the end of the file. A truncated extract is named as such here, before
/// the reader sees it.
pub fn check_pbf_blocks(path: &Path) -> Result<u32, String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut pos = 0u64;
    let mut n = 0u32;
    while pos < len {
        let mut l = [0u8; 4];
        if len - pos < 4 {
            return Err(format!("truncated: {} stray bytes at the end (block {})", len - pos, n + 1));
        }
        f.read_exact(&mut l).map_err(|e| e.to_string())?;
        let hl = u32::from_be_bytes(l) as u64;
        if hl == 0 || hl > 64 * 1024 {
            return Err(format!("block {} at byte {pos}: header length {hl} is not valid", n + 1));
        }
        if pos + 4 + hl > len {
            return Err(format!("truncated: block {} at byte {pos} needs {} header bytes, the file ends first", n + 1, hl));
        }
        let mut h = vec![0u8; hl as usize];
        f.read_exact(&mut h).map_err(|e| e.to_string())?;
        let (kind, datasize) = parse_blob_header(&h).ok_or_else(|| format!("block {} at byte {pos}: unreadable block header", n + 1))?;
        if n == 0 && kind != "OSMHeader" {
            return Err(format!("the first block is '{kind}', not OSMHeader"));
        }
        if datasize > 32 * 1024 * 1024 {
            return Err(format!("block {} at byte {pos}: {datasize} bytes of data is over the PBF limit", n + 1));
        }
        let end = pos + 4 + hl + datasize;
        if end > len {
            return Err(format!("truncated: block {} at byte {pos} needs {datasize} bytes of data, only {} remain", n + 1, len - pos - 4 - hl));
        }
        f.seek(SeekFrom::Start(end)).map_err(|e| e.to_string())?;
        pos = end;
        n += 1;
    }
    if n == 0 {
        return Err("empty file".into());
    }
    Ok(n)
}

/// BlobHeader { 1: type (string), 2: indexdata (bytes), 3: datasize (int32) }.
fn parse_blob_header(b: &[u8]) -> Option<(String, u64)> {
    let mut i = 0;
    let varint = |i: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    let (mut kind, mut size) = (None, None);
    while i < b.len() {
        let key = varint(&mut i)?;
        match (key >> 3, key & 7) {
            (3, 0) => size = Some(varint(&mut i)?),
            (_, 0) => {
                varint(&mut i)?;
            }
            (field, 2) => {
                let l = varint(&mut i)? as usize;
                let v = b.get(i..i.checked_add(l)?)?;
                if field == 1 {
                    kind = Some(String::from_utf8_lossy(v).to_string());
                }
                i += l;
            }
            _ => return None,
        }
    }
    Some((kind?, size?))
}

/// Reads a PBF into a street graph. The file's block structure is checked first, and a
/// panic inside the PBF reader (corrupt compressed data) becomes an error, never an abort.
/// What an extract gives: the street graph, its statistics, named places and numbered
/// addresses (`addr:housenumber` + `addr:street`).
pub type OsmRead = (Streets, OsmStats, Vec<NamedPlace>, Vec<AddressStreet>);

pub fn read_streets(path: &Path, crop: Crop, progress: &indicatif::ProgressBar) -> Result<OsmRead, OsmError> {
    let p = path.display().to_string();
    if let Err(message) = check_pbf_blocks(path) {
        if std::fs::metadata(path).is_err() {
            let source = std::fs::File::open(path).err().unwrap_or_else(|| std::io::Error::other(message.clone()));
            return Err(OsmError::Open { path: p, source });
        }
        return Err(OsmError::Invalid { path: p, message });
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_streets_unchecked(path, crop, progress))) {
        Ok(r) => r,
        Err(panic) => {
            let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            Err(OsmError::Invalid { path: p, message: format!("the PBF reader failed on a corrupt block ({why})") })
        }
    }
}

fn read_streets_unchecked(path: &Path, crop: Crop, progress: &indicatif::ProgressBar) -> Result<OsmRead, OsmError> {
    let p = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| OsmError::Open { path: p.clone(), source: e })?;
    let mut pbf = osmpbfreader::OsmPbfReader::new(std::io::BufReader::new(file));
    // Pass 1: routable ways, and named ways people look for (streets, hospitals...),
    // placed at one of their nodes.
    progress.set_message("OSM: ways");
    let mut ways: Vec<OsmWay> = Vec::new();
    let mut named_ways: Vec<(String, PlaceKind, String, i64)> = Vec::new();
    for obj in pbf.iter_ways() {
        let w = obj.map_err(|e| OsmError::Invalid { path: p.clone(), message: e.to_string() })?;
        progress.inc(1);
        let tag = |k: &str| w.tags.get(k).map(|s| s.as_str());
        if let (Some(name), false) = (tag("name"), w.nodes.is_empty()) {
            let kind = osm_kind(tag).or_else(|| tag("highway").filter(|h| !matches!(*h, "platform" | "bus_stop" | "proposed" | "construction")).map(|_| PlaceKind::Street));
            if let Some(kind) = kind {
                named_ways.push((name.to_string(), kind, tag("addr:city").unwrap_or_default().to_string(), w.nodes[w.nodes.len() / 2].0));
            }
        }
        if let Some(acc) = way_access(tag) {
            let name = tag("name").or_else(|| tag("ref")).map(str::to_string);
            ways.push(OsmWay { id: w.id.0, access: acc, nodes: w.nodes.iter().map(|n| n.0).collect(), name });
        }
    }
    if ways.is_empty() {
        return Err(OsmError::Empty { path: p });
    }
    ways.sort_by_key(|w| w.id);
    let mut node_ids: Vec<i64> = ways.iter().flat_map(|w| w.nodes.iter().copied()).collect();
    node_ids.sort_unstable();
    node_ids.dedup();
    let mut place_nodes: Vec<i64> = named_ways.iter().map(|w| w.3).collect();
    place_nodes.sort_unstable();
    place_nodes.dedup();
    // Pass 2: coordinates of the nodes used; named nodes and addresses.
    progress.set_message("OSM: nodes");
    pbf.rewind().map_err(|e| OsmError::Invalid { path: p.clone(), message: e.to_string() })?;
    let mut coords = vec![LatLon::new(f64::NAN, f64::NAN); node_ids.len()];
    let mut place_coords = vec![LatLon::new(f64::NAN, f64::NAN); place_nodes.len()];
    let mut places: Vec<NamedPlace> = Vec::new();
    let mut address_rows = Vec::new();
    let inside = |c: LatLon| crop.is_none_or(|b| b.contains_with_margin(c, 0.0));
    for obj in pbf.iter_nodes() {
        let n = obj.map_err(|e| OsmError::Invalid { path: p.clone(), message: e.to_string() })?;
        progress.inc(1);
        let c = LatLon::new(n.decimicro_lat as f64 * 1e-7, n.decimicro_lon as f64 * 1e-7);
        if let Ok(i) = node_ids.binary_search(&n.id.0) {
            coords[i] = c;
        }
        if let Ok(i) = place_nodes.binary_search(&n.id.0) {
            place_coords[i] = c;
        }
        if n.tags.is_empty() || !inside(c) {
            continue;
        }
        let tag = |k: &str| n.tags.get(k).map(|s| s.as_str());
        let city = tag("addr:city").unwrap_or_default().to_string();
        if let (Some(name), Some(kind)) = (tag("name"), osm_kind(tag)) {
            places.push(NamedPlace { name: name.to_string(), kind, commune: if kind == PlaceKind::Commune { String::new() } else { city.clone() }, coord: c });
        }
        if let (Some(num), Some(street)) = (tag("addr:housenumber"), tag("addr:street")) {
            address_rows.push((num.to_string(), street.to_string(), city, c));
        }
    }
    // Named ways: one entry per name and kilometre (a street is many ways).
    let mut seen = std::collections::HashSet::new();
    for (name, kind, city, node) in named_ways {
        let c = place_coords[place_nodes.binary_search(&node).expect("collected above")];
        if !c.lat.is_finite() || !inside(c) || !seen.insert((crate::model::text::normalize(&name), kind, (c.lat * 100.0) as i32, (c.lon * 70.0) as i32)) {
            continue;
        }
        places.push(NamedPlace { name, kind, commune: city, coord: c });
    }
    let (streets, stats) = build_graph(&node_ids, coords, &ways, crop);
    Ok((streets, stats, places, AddressStreet::group(address_rows)))
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct OsmStats {
    pub ways: usize,
    pub nodes_read: usize,
    /// Nodes dropped per profile because they lie outside the largest component.
    pub dropped_outside_component: [usize; 3],
}

/// Builds the profile graphs from ways given as node-id lists.
pub fn build_graph(node_ids: &[i64], coords: Vec<LatLon>, ways: &[OsmWay], crop: Crop) -> (Streets, OsmStats) {
    let inside = |c: &LatLon| c.lat.is_finite() && crop.is_none_or(|b| b.contains_with_margin(*c, 0.0));
    // Compact node numbering: only nodes with coordinates that are used.
    let mut remap = vec![u32::MAX; node_ids.len()];
    let mut kept = Vec::new();
    let mut edges: [Vec<(u32, u32, u32, u32)>; 3] = Default::default();
    let idx = |id: i64| node_ids.binary_search(&id).ok();
    let mut named: Vec<(u32, u32, String)> = Vec::new();
    for OsmWay { access: acc, nodes, name, .. } in ways {
        for pair in nodes.windows(2) {
            let (Some(a), Some(b)) = (idx(pair[0]), idx(pair[1])) else { continue };
            if a == b || !inside(&coords[a]) || !inside(&coords[b]) {
                continue;
            }
            for &x in &[a, b] {
                if remap[x] == u32::MAX {
                    remap[x] = kept.len() as u32;
                    kept.push(coords[x]);
                }
            }
            let (u, v) = (remap[a], remap[b]);
            if let Some(name) = name {
                named.push((u, v, name.clone()));
            }
            let len_m = distance_m(coords[a], coords[b]);
            let len_dm = (len_m * 10.0).round().max(1.0) as u32;
            let ds = |m: f64, speed: f64| ((m / speed) * 10.0).round().max(1.0) as u32;
            if acc.walk {
                // Effort decimetres: the rounded length times the way's factor.
                let w = (len_dm as f64 * acc.walk_factor).round() as u32;
                edges[0].push((u, v, w, len_dm));
                edges[0].push((v, u, w, len_dm));
            }
            let wb = len_dm;
            if acc.bike_forward {
                edges[1].push((u, v, wb, len_dm));
            }
            if acc.bike_backward {
                edges[1].push((v, u, wb, len_dm));
            }
            let wc = ds(len_m, acc.car_speed_kmh / 3.6);
            if acc.car_forward {
                edges[2].push((u, v, wc, len_dm));
            }
            if acc.car_backward {
                edges[2].push((v, u, wc, len_dm));
            }
        }
    }
    let n = kept.len();
    let mut stats = OsmStats { ways: ways.len(), nodes_read: node_ids.len(), ..Default::default() };
    let mut profiles = Vec::new();
    for p in Profile::ALL {
        let e = std::mem::take(&mut edges[p as usize]);
        let (e, n_nodes, dropped) = largest_scc(n, e);
        stats.dropped_outside_component[p as usize] = dropped;
        let forward = Csr::from_edges(n, e);
        let reverse = forward.reversed();
        profiles.push(ProfileGraph { forward, reverse, n_nodes });
    }
    (Streets::new(kept, profiles, WayNames::from_segments(named)), stats)
}

/// Keeps the edges of the largest strongly connected component (among nodes that have
/// an edge in this profile). Returns (edges, component size, nodes dropped).
fn largest_scc(n: usize, edges: Vec<(u32, u32, u32, u32)>) -> (Vec<(u32, u32, u32, u32)>, u32, usize) {
    use petgraph::graph::{DiGraph, NodeIndex};
    if edges.is_empty() {
        return (edges, 0, 0);
    }
    let mut g: DiGraph<(), ()> = DiGraph::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    let mut touched = vec![false; n];
    for e in &edges {
        g.add_edge(NodeIndex::new(e.0 as usize), NodeIndex::new(e.1 as usize), ());
        touched[e.0 as usize] = true;
        touched[e.1 as usize] = true;
    }
    let sccs = petgraph::algo::kosaraju_scc(&g);
    let best = sccs.iter().max_by_key(|c| c.len()).unwrap();
    let mut keep = vec![false; n];
    for v in best {
        keep[v.index()] = true;
    }
    let dropped = (0..n).filter(|&i| touched[i] && !keep[i]).count();
    let kept: Vec<_> = edges.into_iter().filter(|e| keep[e.0 as usize] && keep[e.1 as usize]).collect();
    (kept, best.len() as u32, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn acc(tags: &[(&str, &str)]) -> Option<WayAccess> {
        let map: HashMap<&str, &str> = tags.iter().copied().collect();
        way_access(|k| map.get(k).copied())
    }

    /// highway | other tags | walk | bike fwd/bwd | car fwd/bwd
    #[test]
    fn tag_table() {
        type Row = (&'static [(&'static str, &'static str)], bool, bool, bool, bool, bool);
        let table: &[Row] = &[
            (&[("highway", "residential")], true, true, true, true, true),
            (&[("highway", "motorway")], false, false, false, true, false),
            (&[("highway", "residential"), ("oneway", "yes")], true, true, false, true, false),
            (&[("highway", "residential"), ("oneway", "yes"), ("oneway:bicycle", "no")], true, true, true, true, false),
            (&[("highway", "residential"), ("oneway", "-1")], true, false, true, false, true),
            (&[("highway", "tertiary"), ("junction", "roundabout")], true, true, false, true, false),
            (&[("highway", "steps")], true, false, false, false, false),
            (&[("highway", "footway")], true, false, false, false, false),
            (&[("highway", "footway"), ("bicycle", "yes")], true, true, true, false, false),
            (&[("highway", "cycleway")], true, true, true, false, false),
            (&[("highway", "primary"), ("foot", "no")], false, true, true, true, true),
            (&[("highway", "service"), ("access", "private")], false, false, false, false, false),
            (&[("highway", "service"), ("access", "private"), ("foot", "yes")], true, false, false, false, false),
            (&[("highway", "trunk"), ("motorroad", "yes")], false, false, false, true, true),
            (&[("highway", "residential"), ("cycleway", "opposite_lane"), ("oneway", "yes")], true, true, true, true, false),
        ];
        for (tags, walk, bf, bb, cf, cb) in table {
            let a = acc(tags).unwrap_or_default();
            assert_eq!(
                (a.walk, a.bike_forward, a.bike_backward, a.car_forward, a.car_backward),
                (*walk, *bf, *bb, *cf, *cb),
                "tags {tags:?}"
            );
        }
    }

    #[test]
    fn ways_without_highway_or_areas_are_not_streets() {
        assert!(acc(&[("building", "yes")]).is_none());
        assert!(acc(&[("highway", "bridleway")]).is_none());
        assert!(acc(&[("highway", "service"), ("area", "yes")]).is_none());
        assert!(acc(&[("highway", "proposed")]).is_none());
    }

    #[test]
    fn steps_cost_more_to_walk_and_maxspeed_is_read() {
        assert_eq!(acc(&[("highway", "steps")]).unwrap().walk_factor, 2.0);
        let a = acc(&[("highway", "primary"), ("maxspeed", "30")]).unwrap();
        assert!((a.car_speed_kmh - 30.0 * 0.85).abs() < 1e-9);
    }

    #[test]
    fn only_the_largest_component_is_kept() {
        // Nodes 0-1-2 in a two-way triangle, 3-4 a separate two-way pair, 5 -> 6 one-way.
        let ids: Vec<i64> = (0..7).collect();
        let coords: Vec<LatLon> = (0..7).map(|i| LatLon::new(50.0 + i as f64 * 0.001, 2.0)).collect();
        let two_way = acc(&[("highway", "residential")]).unwrap();
        let one_way = acc(&[("highway", "residential"), ("oneway", "yes")]).unwrap();
        let way = |id, access, nodes: Vec<i64>| OsmWay { id, access, nodes, name: Some(format!("Rue {id}")) };
        let ways = vec![way(1, two_way, vec![0, 1, 2, 0]), way(2, two_way, vec![3, 4]), way(3, one_way, vec![5, 6])];
        let (streets, stats) = build_graph(&ids, coords, &ways, None);
        let car = streets.graph(Profile::Car);
        assert_eq!(car.n_nodes, 3);
        assert_eq!(car.forward.n_edges(), 6);
        assert_eq!(stats.dropped_outside_component[Profile::Car as usize], 4);
        // The walk profile ignores one-way, but 5-6 is still a separate component.
        assert_eq!(streets.graph(Profile::Walk).n_nodes, 3);
        // Way names follow the segments, in either direction.
        assert_eq!(streets.names.get(1, 0), Some("Rue 1"));
        assert_eq!(streets.names.get(3, 4), Some("Rue 2"));
        assert_eq!(streets.names.get(0, 3), None);
        let steps = streets.steps_along(&[0, 1, 2]);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].street.as_deref(), Some("Rue 1"));
        assert!((steps[0].distance_m - 222.4).abs() < 1.0, "{steps:?}");
    }
}
