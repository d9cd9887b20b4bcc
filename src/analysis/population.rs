//! Origins where people live, and results summed back to the areas they came from.
//!
//! A commune given as a polygon is not one point: a centroid far from the station says
//! nothing of the streets next to it (the Lourches case). Each area becomes points that
//! carry its population:
//! - the INSEE Filosofi 200 m cells of the commune when its grid file is given (the grid
//!   says where people live; its total is scaled to the area's population so the commune
//!   and EPCI tables add up to the population the planner publishes);
//! - otherwise points on a regular grid of `step_m` metres inside the polygon (holes and
//!   every part of a multipolygon honoured), the population split evenly between them;
//! - a point inside the polygon when the polygon is smaller than one cell, and the point
//!   itself for point features.
//!
//! The grid is aligned on one origin for every area, so neighbouring communes never share
//! a point. Results of the points are summed back per area, population-weighted
//! (`access::summarise_time` with the area as the group).

use super::opportunities::LoadError;
use super::targets::PointSet;
use crate::model::geo::{LatLon, LocalProjection};
use geo::{Contains, InteriorPoint};
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};
use std::path::Path;

/// How an area's points were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Filosofi 200 m cells.
    Grid,
    /// Regular points inside the polygon.
    Sampled,
    /// One point (a point feature, or a polygon smaller than one cell).
    Point,
}

impl Source {
    pub fn label_fr(self) -> &'static str {
        match self {
            Source::Grid => "carreaux Filosofi 200 m",
            Source::Sampled => "points répartis dans la commune",
            Source::Point => "un point",
        }
    }
}

/// One area (a commune): its identity, the group it is summed into, its population and
/// its outline (empty for a point feature).
#[derive(Debug, Clone)]
pub struct Area {
    pub id: String,
    pub name: String,
    pub group: String,
    pub population: f64,
    pub shape: MultiPolygon<f64>,
    pub point: LatLon,
    pub source: Source,
}

fn bad(path: &Path, message: impl Into<String>) -> LoadError {
    LoadError::Bad { path: path.display().to_string(), message: message.into() }
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn ring(coords: &serde_json::Value) -> Option<LineString<f64>> {
    let pts: Vec<Coord<f64>> = coords.as_array()?.iter().map(|c| Some(Coord { x: c.get(0)?.as_f64()?, y: c.get(1)?.as_f64()? })).collect::<Option<_>>()?;
    (pts.len() >= 3).then(|| LineString::new(pts))
}

fn polygon(rings: &serde_json::Value) -> Option<Polygon<f64>> {
    let mut rs = rings.as_array()?.iter().map(ring);
    let outer = rs.next()??;
    let holes: Vec<LineString<f64>> = rs.collect::<Option<_>>()?;
    Some(Polygon::new(outer, holes))
}

/// Reads the areas of a GeoJSON file: `population` (or `weight`) is the population column,
/// `group` the property naming the area each is summed into (tried as given, then with
/// `_nom`, e.g. `epci` -> `epci_nom`). Id from `insee`/`id`/`code`, name from `nom`/`name`.
pub fn read_areas(path: &Path, weight: &str, group: &str) -> Result<Vec<Area>, LoadError> {
    let raw = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&raw).map_err(|e| bad(path, format!("not JSON: {e}")))?;
    let feats = v["features"].as_array().ok_or_else(|| bad(path, "not a GeoJSON FeatureCollection"))?;
    let mut out = Vec::with_capacity(feats.len());
    for (i, f) in feats.iter().enumerate() {
        let props = &f["properties"];
        let g = &f["geometry"];
        let shape = match g["type"].as_str() {
            Some("Polygon") => polygon(&g["coordinates"]).map(|p| MultiPolygon::new(vec![p])),
            Some("MultiPolygon") => g["coordinates"].as_array().and_then(|ps| ps.iter().map(polygon).collect::<Option<Vec<_>>>()).map(MultiPolygon::new),
            Some("Point") => Some(MultiPolygon::new(vec![])),
            _ => None,
        }
        .ok_or_else(|| bad(path, format!("feature {i}: geometry is not a Point, Polygon or MultiPolygon")))?;
        let point = if shape.0.is_empty() {
            let c = &g["coordinates"];
            LatLon::new(c[1].as_f64().unwrap_or(f64::NAN), c[0].as_f64().unwrap_or(f64::NAN))
        } else {
            shape.interior_point().map(|p: Point<f64>| LatLon::new(p.y(), p.x())).unwrap_or(LatLon::new(f64::NAN, f64::NAN))
        };
        if !point.is_valid() {
            return Err(bad(path, format!("feature {i}: no valid position")));
        }
        let population = props[weight].as_f64().ok_or_else(|| bad(path, format!("feature {i}: no number '{weight}' (the population)")))?;
        let group_of = text(&props[group]).or_else(|| text(&props[format!("{group}_nom").as_str()])).unwrap_or_default();
        let id = ["insee", "id", "code", "code_siren"].iter().find_map(|k| text(&props[*k])).unwrap_or_else(|| (i + 1).to_string());
        let name = ["nom", "name", "label"].iter().find_map(|k| text(&props[*k])).unwrap_or_else(|| id.clone());
        out.push(Area { id, name, group: group_of, population, shape, point, source: Source::Point });
    }
    if out.is_empty() {
        return Err(bad(path, "no area"));
    }
    if out.iter().all(|a| a.group.is_empty()) {
        return Err(bad(path, format!("no property '{group}' or '{group}_nom' to group the areas by")));
    }
    Ok(out)
}

/// Groups the areas by a CSV of `area id,group` (the first two columns; e.g. INSEE's
/// commune -> employment zone table) and returns the groups' label from the second
/// header ("zone d'emploi" for `code_zone_emploi`). Areas missing from the file are
/// grouped as "hors table".
pub fn regroup(areas: &mut [Area], path: &Path) -> Result<String, LoadError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(|e| bad(path, e.to_string()))?;
    let headers = rdr.headers().map_err(|e| bad(path, e.to_string()))?.clone();
    if headers.len() < 2 {
        return Err(bad(path, "expected two columns: the commune code and its group"));
    }
    let what = headers[1].trim().to_string();
    let zone = crate::model::text::normalize(&what).contains("zone emploi");
    let mut by = std::collections::HashMap::new();
    for r in rdr.records() {
        let r = r.map_err(|e| bad(path, e.to_string()))?;
        if let (Some(a), Some(g)) = (r.get(0), r.get(1)) {
            by.insert(a.trim().to_string(), g.trim().to_string());
        }
    }
    let mut found = 0;
    for a in areas.iter_mut() {
        a.group = match by.get(&a.id) {
            Some(g) => {
                found += 1;
                if zone { format!("zone d'emploi {g}") } else { g.clone() }
            }
            None => "hors table".into(),
        };
    }
    if found == 0 {
        return Err(bad(path, format!("none of the {} areas' codes is in its first column", areas.len())));
    }
    Ok(if zone { "zone d'emploi".into() } else { what })
}

/// The points standing for the areas: `points` has a `population` column, the area's name
/// as label, ids `AREA` (one point) or `AREA-k`; `area[i]` is the index of point i's area.
#[derive(Debug, Clone)]
pub struct Origins {
    pub points: PointSet,
    pub area: Vec<u32>,
}

/// Filosofi cells of one commune, `[[lon, lat, pop], ...]` from `DIR/<insee>.json`.
fn grid_cells(dir: &Path, id: &str) -> Result<Option<Vec<(LatLon, f64)>>, LoadError> {
    let path = dir.join(format!("{id}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let set = super::opportunities::load_filosofi(&path)?;
    let pop = set.column("population").expect("a Filosofi set has a population column");
    Ok(Some(set.points.iter().copied().zip(pop.iter().copied()).filter(|(_, w)| *w > 0.0).collect()))
}

/// Makes the points of every area (see the module's text). `step_m` 0 keeps one point
/// per area (an interior point, never outside the polygon).
pub fn origins(areas: &mut [Area], grid_dir: Option<&Path>, step_m: f64) -> Result<Origins, LoadError> {
    let lat0 = areas.iter().map(|a| a.point.lat).sum::<f64>() / areas.len().max(1) as f64;
    let proj = LocalProjection::new(lat0);
    let mut set = PointSet { columns: vec!["population".into()], weights: vec![Vec::new()], ..Default::default() };
    let mut area = Vec::new();
    for (ai, a) in areas.iter_mut().enumerate() {
        let mut pts: Vec<(LatLon, f64)> = Vec::new();
        a.source = Source::Point;
        if let Some(cells) = match grid_dir {
            Some(d) => grid_cells(d, &a.id)?,
            None => None,
        } {
            let total: f64 = cells.iter().map(|c| c.1).sum();
            if total > 0.0 {
                let k = if a.population > 0.0 { a.population / total } else { 1.0 };
                pts = cells.into_iter().map(|(p, w)| (p, w * k)).collect();
                a.source = Source::Grid;
                if a.population <= 0.0 {
                    a.population = total;
                }
            }
        }
        if pts.is_empty() && step_m > 0.0 && !a.shape.0.is_empty() {
            let rect = geo::BoundingRect::bounding_rect(&a.shape).expect("a non-empty polygon has a bounding box");
            let lo = proj.project(LatLon::new(rect.min().y, rect.min().x));
            let hi = proj.project(LatLon::new(rect.max().y, rect.max().x));
            let (i0, i1) = ((lo[0] / step_m).floor() as i64, (hi[0] / step_m).ceil() as i64);
            let (j0, j1) = ((lo[1] / step_m).floor() as i64, (hi[1] / step_m).ceil() as i64);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let p = proj.unproject([(i as f64 + 0.5) * step_m, (j as f64 + 0.5) * step_m]);
                    if a.shape.contains(&Point::new(p.lon, p.lat)) {
                        pts.push((p, 0.0));
                    }
                }
            }
            let n = pts.len() as f64;
            for p in &mut pts {
                p.1 = a.population / n;
            }
            if !pts.is_empty() {
                a.source = Source::Sampled;
            }
        }
        if pts.is_empty() {
            pts.push((a.point, a.population));
        }
        let one = pts.len() == 1;
        // Positions to the micro-degree (10 cm), as they are written out: the points a
        // file gives back are the points computed.
        let round = |x: f64| (x * 1e6).round() / 1e6;
        for (k, (p, w)) in pts.into_iter().map(|(p, w)| (LatLon::new(round(p.lat), round(p.lon)), w)).enumerate() {
            set.ids.push(if one { a.id.clone() } else { format!("{}-{k}", a.id) });
            set.labels.push(a.name.clone());
            set.points.push(p);
            set.weights[0].push(w);
            area.push(ai as u32);
        }
    }
    set.columns.push("count".into());
    set.weights.push(vec![1.0; set.points.len()]);
    Ok(Origins { points: set, area })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, d: f64) -> Polygon<f64> {
        Polygon::new(LineString::from(vec![(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d), (x0, y0)]), vec![])
    }

    fn area(id: &str, shape: MultiPolygon<f64>, population: f64) -> Area {
        let point = shape.interior_point().map(|p| LatLon::new(p.y(), p.x())).unwrap();
        Area { id: id.into(), name: id.into(), group: "g".into(), population, shape, point, source: Source::Point }
    }

    #[test]
    fn polygons_are_sampled_inside_and_keep_their_population() {
        // Two adjacent 0.02° squares (about 2.2 x 1.4 km at 50°N), the second with a hole.
        let a = MultiPolygon::new(vec![square(3.0, 50.0, 0.02)]);
        let mut b = square(3.02, 50.0, 0.02);
        b.interiors_push(LineString::from(vec![(3.025, 50.005), (3.035, 50.005), (3.035, 50.015), (3.025, 50.015), (3.025, 50.005)]));
        let tiny = MultiPolygon::new(vec![square(3.1, 50.1, 0.0005)]);
        let mut areas = vec![area("a", a, 1000.0), area("b", MultiPolygon::new(vec![b]), 600.0), area("t", tiny, 7.0)];
        let o = origins(&mut areas, None, 200.0).unwrap();
        let pop = o.points.column("population").unwrap();
        for (ai, a) in areas.iter().enumerate() {
            let idx: Vec<usize> = (0..o.area.len()).filter(|&i| o.area[i] as usize == ai).collect();
            let sum: f64 = idx.iter().map(|&i| pop[i]).sum();
            assert!((sum - a.population).abs() < 1e-6, "{}: {sum}", a.id);
            for &i in &idx {
                let p = o.points.points[i];
                assert!(a.shape.contains(&Point::new(p.lon, p.lat)), "{} point {i} outside", a.id);
            }
        }
        let n = |ai: u32| o.area.iter().filter(|&&x| x == ai).count();
        // 2.2 km x 1.4 km / (200 m)^2 is about 70 cells, a quarter of b is a hole.
        assert!((55..=90).contains(&n(0)), "{}", n(0));
        assert!(n(1) < n(0) && n(1) > n(0) / 2, "{} vs {}", n(1), n(0));
        assert_eq!(n(2), 1, "smaller than a cell: one interior point");
        assert_eq!(areas[0].source, Source::Sampled);
        assert_eq!(areas[2].source, Source::Point);
        // No point shared by the two neighbours (one grid for all).
        let mut seen: Vec<(i64, i64)> = o.points.points.iter().map(|p| ((p.lat * 1e7) as i64, (p.lon * 1e7) as i64)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), o.points.len());
        // Step 0: one interior point each.
        let one = origins(&mut areas, None, 0.0).unwrap();
        assert_eq!(one.points.len(), 3);
    }
}
