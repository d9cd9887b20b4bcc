//! Origin-destination travel-time matrix (r5r's `travel_time_matrix`): for each origin,
//! the travel-time surface over the destinations (the same definition as accessibility:
//! street-only alternative, range-RAPTOR over the window, percentiles by nearest rank),
//! written in long format, one row per pair: `from_id,to_id,travel_time_p50,...`.
//!
//! Times are whole minutes rounded down from the engine's seconds (as R5 reports them),
//! or seconds with `Unit::Seconds`. A pair over `max_trip_duration` is unreachable: its
//! cells are empty, never 0.

use super::surface::{self, SurfaceRequest, SurfaceScratch, UNREACHABLE};
use super::targets::{LinkedTargets, PointSet};
use crate::route::plan::Router;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Minutes,
    Seconds,
}

/// Travel times of every origin: `times_s[origin][percentile][destination]`, seconds or
/// `UNREACHABLE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub percentiles: Vec<u8>,
    pub times_s: Vec<Vec<Vec<u32>>>,
}

impl Matrix {
    /// Reachable pairs (at the first percentile).
    pub fn reachable(&self) -> usize {
        self.times_s.iter().map(|o| o[0].iter().filter(|t| **t != UNREACHABLE).count()).sum()
    }
}

/// Computes the matrix, origins in parallel (one scratch per thread).
pub fn compute(router: &Router, origins: &PointSet, targets: &LinkedTargets, template: &SurfaceRequest, progress: &indicatif::ProgressBar) -> Matrix {
    compute_until(router, origins, targets, template, progress, &super::Cancel::never()).expect("never cancelled")
}

/// [`compute`], stopped early by `cancel`.
pub fn compute_until(router: &Router, origins: &PointSet, targets: &LinkedTargets, template: &SurfaceRequest, progress: &indicatif::ProgressBar, cancel: &super::Cancel) -> Result<Matrix, super::Stopped> {
    let times_s = super::per_origin(origins.len(), cancel, progress, |sc: &mut SurfaceScratch, i| {
        let mut req = template.clone();
        req.origin = origins.points[i];
        surface::compute_unchecked(router, targets, &req, sc).times_s
    })?;
    Ok(Matrix { percentiles: template.percentiles.clone(), times_s })
}

fn value(t: u32, unit: Unit) -> String {
    match (t, unit) {
        (UNREACHABLE, _) => String::new(),
        (t, Unit::Minutes) => (t / 60).to_string(),
        (t, Unit::Seconds) => t.to_string(),
    }
}

/// Column names: `travel_time_p50`... (`_s` suffix in seconds).
pub fn column_names(percentiles: &[u8], unit: Unit) -> Vec<String> {
    percentiles.iter().map(|p| format!("travel_time_p{p}{}", if unit == Unit::Seconds { "_s" } else { "" })).collect()
}

/// Long-format CSV through the `csv` crate; `reachable_only` leaves out pairs with no
/// time at any percentile.
pub fn write_csv<W: std::io::Write>(out: W, m: &Matrix, origins: &PointSet, dest: &PointSet, unit: Unit, reachable_only: bool) -> csv::Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["from_id".to_string(), "to_id".to_string()];
    header.extend(column_names(&m.percentiles, unit));
    w.write_record(&header)?;
    let mut rows = 0u64;
    let mut rec: Vec<String> = Vec::with_capacity(header.len());
    for (o, per_pct) in m.times_s.iter().enumerate() {
        for d in 0..dest.len() {
            if reachable_only && per_pct.iter().all(|v| v[d] == UNREACHABLE) {
                continue;
            }
            rec.clear();
            rec.push(origins.ids[o].clone());
            rec.push(dest.ids[d].clone());
            rec.extend(per_pct.iter().map(|v| value(v[d], unit)));
            w.write_record(&rec)?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok(rows)
}

/// The matrix as JSON rows `{from_id, to_id, travel_time_p50: minutes | null}`.
pub fn to_json(m: &Matrix, origins: &PointSet, dest: &PointSet, unit: Unit, reachable_only: bool) -> Vec<serde_json::Value> {
    let names = column_names(&m.percentiles, unit);
    let mut out = Vec::new();
    for (o, per_pct) in m.times_s.iter().enumerate() {
        for d in 0..dest.len() {
            if reachable_only && per_pct.iter().all(|v| v[d] == UNREACHABLE) {
                continue;
            }
            let mut row = serde_json::Map::new();
            row.insert("from_id".into(), origins.ids[o].clone().into());
            row.insert("to_id".into(), dest.ids[d].clone().into());
            for (k, v) in per_pct.iter().enumerate() {
                let t = v[d];
                row.insert(
                    names[k].clone(),
                    if t == UNREACHABLE {
                        serde_json::Value::Null
                    } else {
                        match unit {
                            Unit::Minutes => (t / 60).into(),
                            Unit::Seconds => t.into(),
                        }
                    },
                );
            }
            out.push(row.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_format_with_empty_cells_for_unreachable_pairs() {
        let set = |ids: &[&str]| PointSet { ids: ids.iter().map(|s| s.to_string()).collect(), points: vec![crate::model::geo::LatLon::new(0.0, 0.0); ids.len()], labels: vec![String::new(); ids.len()], ..Default::default() };
        let (o, d) = (set(&["a", "b,1"]), set(&["x", "y"]));
        let m = Matrix { percentiles: vec![50, 95], times_s: vec![vec![vec![59, UNREACHABLE], vec![61, UNREACHABLE]], vec![vec![0, 3600], vec![0, 3660]]] };
        let mut buf = Vec::new();
        assert_eq!(write_csv(&mut buf, &m, &o, &d, Unit::Minutes, false).unwrap(), 4);
        assert_eq!(String::from_utf8(buf).unwrap(), "from_id,to_id,travel_time_p50,travel_time_p95\na,x,0,1\na,y,,\n\"b,1\",x,0,0\n\"b,1\",y,60,61\n");
        let mut buf = Vec::new();
        assert_eq!(write_csv(&mut buf, &m, &o, &d, Unit::Seconds, true).unwrap(), 3);
        assert!(String::from_utf8(buf).unwrap().starts_with("from_id,to_id,travel_time_p50_s,travel_time_p95_s\na,x,59,61\n\"b,1\""));
        assert_eq!(m.reachable(), 3);
        let j = to_json(&m, &o, &d, Unit::Minutes, false);
        assert_eq!(j[1]["travel_time_p50"], serde_json::Value::Null);
        assert_eq!(j[3]["travel_time_p95"], 61);
    }
}
