//! Isochrones: the travel-time surface over a metric grid, contoured by marching squares
//! (the `contour` crate) into one GeoJSON MultiPolygon per cutoff. Polygons are nested
//! (a cell under 15 min is under 30 min) and keep holes where nothing is reachable.
//!
//! Cells are reached through their nearest street node; a cell with no street node
//! (a field, a lake) takes the time of its best neighbour plus the walk across one cell,
//! so the polygons do not fray in sparse areas, while cells that have streets but are
//! unreachable stay holes.

use super::surface::{Surface, UNREACHABLE};
use super::targets::LinkedTargets;
use crate::model::streets::WALK_SPEED_MPS;
use serde_json::{json, Value};

/// GeoJSON FeatureCollection, one feature per cutoff (ascending), properties
/// `cutoff_min` and `area_km2`.
pub fn isochrones(targets: &LinkedTargets, surface: &Surface, percentile_index: usize, cutoffs_min: &[u32]) -> Value {
    let Some((spec, cells)) = &targets.grid else {
        return json!({ "type": "FeatureCollection", "features": [] });
    };
    let times = &surface.times_s[percentile_index];
    let max_cut = cutoffs_min.iter().copied().max().unwrap_or(0) as f64 * 60.0;
    let reached: Vec<usize> = (0..cells.len()).filter(|&i| times[i] != UNREACHABLE && (times[i] as f64) <= max_cut + 600.0).collect();
    let mut features = Vec::new();
    if !reached.is_empty() {
        let pad = 2;
        let (mut i0, mut i1, mut j0, mut j1) = (i32::MAX, i32::MIN, i32::MAX, i32::MIN);
        for &k in &reached {
            let (i, j) = cells[k];
            i0 = i0.min(i);
            i1 = i1.max(i);
            j0 = j0.min(j);
            j1 = j1.max(j);
        }
        let (i0, j0, i1, j1) = (i0 - pad, j0 - pad, i1 + pad, j1 + pad);
        let (w, h) = ((i1 - i0 + 1) as usize, (j1 - j0 + 1) as usize);
        const NONE_V: f64 = -1e9;
        // Minutes as negative values so that "time <= cutoff" is "value >= -cutoff".
        let mut v = vec![NONE_V; w * h];
        let mut has_cell = vec![false; w * h];
        let no_streets = targets.snaps.iter().all(|s| s.is_none());
        for (k, &(i, j)) in cells.iter().enumerate() {
            if i < i0 || i > i1 || j < j0 || j > j1 {
                continue;
            }
            let idx = (j - j0) as usize * w + (i - i0) as usize;
            has_cell[idx] = targets.snaps[k].is_some() || no_streets;
            if times[k] != UNREACHABLE {
                v[idx] = -(times[k] as f64) / 60.0;
            }
        }
        // Fill street-less cells from their neighbours.
        let step_min = spec.cell_m * 1.3 / WALK_SPEED_MPS / 60.0;
        let snapshot = v.clone();
        for y in 0..h {
            for x in 0..w {
                let idx = y * w + x;
                if has_cell[idx] {
                    continue;
                }
                let mut best = NONE_V;
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                        if (dx, dy) != (0, 0) && nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h {
                            let nv = snapshot[ny as usize * w + nx as usize];
                            if nv > NONE_V {
                                best = best.max(nv - step_min);
                            }
                        }
                    }
                }
                v[idx] = best;
            }
        }
        // The contour crate puts value (x, y) at grid coordinate (x + 0.5, y + 0.5): the
        // origin is the corner of the first cell, so cell centres land on their centres.
        let c0 = spec.centre((i0, j0));
        let origin = [c0[0] - spec.cell_m / 2.0, c0[1] - spec.cell_m / 2.0];
        let builder = contour::ContourBuilder::new(w, h, false).x_origin(origin[0]).y_origin(origin[1]).x_step(spec.cell_m).y_step(spec.cell_m);
        let thresholds: Vec<f64> = cutoffs_min.iter().map(|c| -(*c as f64)).collect();
        let pr = spec.projection();
        if let Ok(contours) = builder.contours(&v, &thresholds) {
            for (c, cutoff) in contours.iter().zip(cutoffs_min) {
                let mut area_m2 = 0.0;
                let polys: Vec<Value> = c
                    .geometry()
                    .0
                    .iter()
                    .map(|poly| {
                        let ring = |r: &geo_types::LineString<f64>| -> Vec<[f64; 2]> {
                            r.0.iter()
                                .map(|pt| {
                                    let ll = pr.unproject([pt.x, pt.y]);
                                    [(ll.lon * 1e6).round() / 1e6, (ll.lat * 1e6).round() / 1e6]
                                })
                                .collect()
                        };
                        area_m2 += ring_area(poly.exterior()) - poly.interiors().iter().map(ring_area).sum::<f64>();
                        // RFC 7946 3.1.6: exterior rings counterclockwise, holes clockwise.
                        let mut rings = vec![oriented(ring(poly.exterior()), true)];
                        rings.extend(poly.interiors().iter().map(|r| oriented(ring(r), false)));
                        json!(rings)
                    })
                    .collect();
                features.push(json!({
                    "type": "Feature",
                    "properties": { "cutoff_min": cutoff, "area_km2": (area_m2 / 1e4).round() / 100.0 },
                    "geometry": { "type": "MultiPolygon", "coordinates": polys }
                }));
            }
        }
    }
    if features.is_empty() {
        for c in cutoffs_min {
            features.push(json!({ "type": "Feature", "properties": { "cutoff_min": c, "area_km2": 0.0 }, "geometry": { "type": "MultiPolygon", "coordinates": [] } }));
        }
    }
    json!({ "type": "FeatureCollection", "features": features })
}

/// Twice the signed area of a closed lon/lat ring: positive when counterclockwise.
pub fn signed_area2(r: &[[f64; 2]]) -> f64 {
    r.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum()
}

fn oriented(mut r: Vec<[f64; 2]>, counterclockwise: bool) -> Vec<[f64; 2]> {
    if (signed_area2(&r) > 0.0) != counterclockwise {
        r.reverse();
    }
    r
}

fn ring_area(r: &geo_types::LineString<f64>) -> f64 {
    let p = &r.0;
    let mut a = 0.0;
    for w in p.windows(2) {
        a += w[0].x * w[1].y - w[1].x * w[0].y;
    }
    (a / 2.0).abs()
}
