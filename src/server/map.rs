//! Map data drawn from the network itself, so the page needs no tile server: street
//! segments and transit lines inside a bounding box, thinned by zoom level.

use crate::model::geo::LatLon;
use crate::model::streets::Profile;
use crate::route::plan::{QueryError, Router};
use serde_json::{json, Value};

pub const MAX_SEGMENTS: usize = 30_000;

/// `zoom`: 0 to 22 (default 14).
pub fn zoom(p: &crate::api::Params) -> Result<u32, QueryError> {
    match crate::api::number::<u32>(&p.zoom, "zoom", "a whole zoom level")? {
        None => Ok(14),
        Some(z) if z <= 22 => Ok(z),
        Some(z) => Err(QueryError::bad("invalid_parameter", format!("'zoom' is 0 to 22, got {z}"))),
    }
}

pub fn bbox(p: &crate::api::Params) -> Result<(f64, f64, f64, f64), QueryError> {
    let s = p.bbox.as_ref().ok_or_else(|| QueryError::bad("missing_parameter", "'bbox' is required: min_lon,min_lat,max_lon,max_lat"))?;
    let v: Vec<f64> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    if v.len() != 4 || v[0] >= v[2] || v[1] >= v[3] {
        return Err(QueryError::bad("invalid_parameter", format!("bbox must be min_lon,min_lat,max_lon,max_lat, got '{s}'")));
    }
    Ok((v[0], v[1], v[2], v[3]))
}

fn inside(c: LatLon, b: (f64, f64, f64, f64)) -> bool {
    c.lon >= b.0 && c.lon <= b.2 && c.lat >= b.1 && c.lat <= b.3
}

/// Street segments (walk graph) in the box; below zoom 14 only every n-th segment is
/// kept so that a whole city stays light.
pub fn streets(router: &Router, p: &crate::api::Params) -> Result<Value, QueryError> {
    let b = bbox(p)?;
    let zoom = zoom(p)?;
    let Some(st) = router.net.streets.as_ref().filter(|_| router.net.has_streets()) else {
        return Ok(json!({ "type": "FeatureCollection", "features": [] }));
    };
    let g = &st.graph(Profile::Walk).forward;
    let step = if zoom >= 15 { 1 } else if zoom >= 14 { 2 } else if zoom >= 13 { 4 } else { 8 };
    let mut lines: Vec<Value> = Vec::new();
    let mut k = 0usize;
    for u in 0..st.n_nodes() as u32 {
        let cu = st.coords[u as usize];
        for e in g.edges(u) {
            let v = g.targets[e];
            if v < u && g.edges(v).any(|f| g.targets[f] == u) {
                continue;
            }
            let cv = st.coords[v as usize];
            if !(inside(cu, b) || inside(cv, b)) {
                continue;
            }
            k += 1;
            if k % step != 0 {
                continue;
            }
            lines.push(json!([[round(cu.lon), round(cu.lat)], [round(cv.lon), round(cv.lat)]]));
            if lines.len() >= MAX_SEGMENTS {
                break;
            }
        }
        if lines.len() >= MAX_SEGMENTS {
            break;
        }
    }
    Ok(json!({ "type": "FeatureCollection", "features": [ { "type": "Feature", "properties": { "kind": "streets" }, "geometry": { "type": "MultiLineString", "coordinates": lines } } ] }))
}

fn round(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// Transit lines (one feature per pattern, shape or stop-to-stop) crossing the box.
pub fn lines(router: &Router, p: &crate::api::Params) -> Result<Value, QueryError> {
    let b = bbox(p)?;
    let tt = &router.net.timetable;
    let mut seen = std::collections::HashSet::new();
    let mut feats = Vec::new();
    for (pi, pat) in tt.patterns.iter().enumerate() {
        let stops = tt.pattern_stops(pi as u32);
        if !stops.iter().any(|&s| inside(tt.stops.coords[s as usize], b)) {
            continue;
        }
        let key = (pat.route, stops.first().copied(), stops.last().copied(), stops.len());
        if !seen.insert(key) {
            continue;
        }
        let trip = pat.trip_offset as usize;
        let shape = tt.shape(tt.trips.shape[trip]);
        let coords: Vec<[f64; 2]> = if shape.len() >= 2 { shape.iter().map(|c| [round(c.lon), round(c.lat)]).collect() } else { stops.iter().map(|&s| [round(tt.stops.coords[s as usize].lon), round(tt.stops.coords[s as usize].lat)]).collect() };
        let r = pat.route as usize;
        feats.push(json!({
            "type": "Feature",
            "properties": { "route": tt.routes.short_names[r], "name": tt.routes.long_names[r], "mode": tt.routes.modes[r].name(), "color": tt.routes.colors[r] },
            "geometry": { "type": "LineString", "coordinates": coords }
        }));
        if feats.len() >= 5000 {
            break;
        }
    }
    Ok(json!({ "type": "FeatureCollection", "features": feats }))
}
