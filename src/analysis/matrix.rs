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
use crate::model::search::Pace;
use crate::model::timetable::StopIdx;
use crate::route::plan::Router;
use crate::route::raptor::{RawLeg, StopTime, Time, INF};

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
    /// With `--breakdown`: `breakdown[origin][destination]`, the trip that realises the
    /// first percentile.
    pub breakdown: Option<Vec<Vec<Option<Breakdown>>>>,
}

/// How one trip is made, as r5r's expanded matrix: seconds, summing to the travel time
/// (`access + wait + ride + transfer + egress`). A walk-only trip is all access.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Breakdown {
    /// The departure minute (wall-clock seconds) whose trip realises the percentile.
    pub departure_s: u32,
    pub access_s: u32,
    /// At the first stop (leaving the origin at the departure minute) and between rides.
    pub wait_s: u32,
    pub ride_s: u32,
    pub transfer_s: u32,
    pub egress_s: u32,
    pub n_rides: u32,
    /// Route short names (or ids), `|`-separated.
    pub routes: String,
}

impl Breakdown {
    pub fn total_s(&self) -> u32 {
        self.access_s + self.wait_s + self.ride_s + self.transfer_s + self.egress_s
    }
}

pub const BREAKDOWN_COLUMNS: [&str; 8] = ["departure_time", "access_time", "wait_time", "ride_time", "transfer_time", "egress_time", "n_rides", "routes"];

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
    compute_with(router, origins, targets, template, false, progress, cancel)
}

/// [`compute`] with the breakdown of each pair's trip (`breakdown`), stopped early by
/// `cancel`. The breakdown re-runs one RAPTOR search per departure minute that realises
/// a destination's first percentile: expect a few times the plain matrix's time.
pub fn compute_with(router: &Router, origins: &PointSet, targets: &LinkedTargets, template: &SurfaceRequest, breakdown: bool, progress: &indicatif::ProgressBar, cancel: &super::Cancel) -> Result<Matrix, super::Stopped> {
    let by_target = breakdown.then(|| egress_by_target(router, targets));
    let rows = super::per_origin(origins.len(), cancel, progress, |sc: &mut SurfaceScratch, i| {
        let mut req = template.clone();
        req.origin = origins.points[i];
        sc.record_minutes = breakdown;
        let s = surface::compute_unchecked(router, targets, &req, sc);
        let b = by_target.as_ref().map(|bt| breakdowns(router, targets, bt, &req, &s, sc));
        (s.times_s, b)
    })?;
    let (times_s, b): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
    Ok(Matrix { percentiles: template.percentiles.clone(), times_s, breakdown: breakdown.then(|| b.into_iter().map(|x| x.unwrap_or_default()).collect()) })
}

/// For each target, the stops whose walking table reaches it: (stop, entry index).
fn egress_by_target(router: &Router, targets: &LinkedTargets) -> Vec<Vec<(StopIdx, u32)>> {
    let mut out = vec![Vec::new(); targets.len()];
    for s in 0..router.net.timetable.stops.len() as StopIdx {
        for (i, &(t, _)) in targets.egress_range(s).zip(targets.egress(s)) {
            out[t as usize].push((s, i as u32));
        }
    }
    out
}

/// The trip behind each target's first percentile, from the surface's record of which
/// departure realises it: the walk-only trip when that is the time, else the journey
/// found by a RAPTOR search at that departure, reconstructed from its labels.
fn breakdowns(router: &Router, targets: &LinkedTargets, by_target: &[Vec<(StopIdx, u32)>], req: &SurfaceRequest, s: &surface::Surface, sc: &mut SurfaceScratch) -> Vec<Option<Breakdown>> {
    let n = targets.len();
    let mut out = vec![None; n];
    let Some(minutes) = &s.first_percentile_departure else { return out };
    let (direct, access) = surface::street_phase(router, targets, req, &mut sc.search, &mut sc.sweep);
    let mut groups: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for t in 0..n {
        let total = s.times_s[0][t];
        if total == UNREACHABLE || minutes[t] == u32::MAX {
            continue;
        }
        let dep = req.from_s + minutes[t] * req.step_s;
        if direct[t] == total {
            out[t] = Some(Breakdown { departure_s: dep, access_s: total, ..Default::default() });
        } else {
            groups.entry(minutes[t]).or_default().push(t);
        }
    }
    if groups.is_empty() {
        return out;
    }
    let net = &*router.net;
    let tt = &net.timetable;
    let ctx = router.day_context(req.date);
    let params = surface::raptor_params(req);
    let egress_s = targets.egress_secs(Pace::mps(req.walk_speed_mps));
    let access_of: std::collections::HashMap<StopIdx, u32> = access.iter().copied().collect();
    for (minute, ts) in groups {
        let wall = req.from_s + minute * req.step_s;
        let m = ctx.wall_to_gtfs(wall) as Time;
        let acc: Vec<StopTime> = access.iter().map(|&(stop, d)| StopTime { stop, time: m + d as Time }).collect();
        sc.raptor.run(&router.forward, &ctx, &params, &acc, &[]);
        let rounds = sc.raptor.rounds_run;
        for t in ts {
            // Earliest (arrival + walk), then fewest rides.
            let mut best: Option<(Time, usize, StopIdx, u32)> = None;
            for &(stop, e) in &by_target[t] {
                let w = egress_s[e as usize];
                if w > req.max_walk_s {
                    continue;
                }
                for k in 1..=rounds {
                    let a = sc.raptor.tau_ride[k][stop as usize];
                    if a < INF && best.is_none_or(|b| (a + w as Time, k) < (b.0, b.1)) {
                        best = Some((a + w as Time, k, stop, w));
                    }
                }
            }
            let Some((_, k, stop, w)) = best else { continue };
            let Some((first, legs)) = sc.raptor.journey_by_ride(&router.forward, &ctx, k, stop) else { continue };
            let mut b = Breakdown { departure_s: wall, access_s: access_of.get(&first).copied().unwrap_or(0), egress_s: w, ..Default::default() };
            let mut routes = Vec::new();
            let mut end = m;
            for l in &legs {
                match *l {
                    RawLeg::Ride { label, dep, arr, .. } => {
                        b.ride_s += (arr - dep) as u32;
                        b.n_rides += 1;
                        let r = tt.patterns[label.pattern as usize].route as usize;
                        routes.push(if tt.routes.short_names[r].is_empty() { tt.routes.ids[r].clone() } else { tt.routes.short_names[r].clone() });
                        end = arr;
                    }
                    RawLeg::Walk { dep, arr, .. } => {
                        b.transfer_s += (arr - dep) as u32;
                        end = arr;
                    }
                }
            }
            let total = (end - m) as u32 + w;
            b.wait_s = total.saturating_sub(b.access_s + b.ride_s + b.transfer_s + b.egress_s);
            b.routes = routes.join("|");
            out[t] = Some(b);
        }
    }
    out
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

/// Breakdown column names: minutes (one decimal), or seconds with `_s`.
pub fn breakdown_names(unit: Unit) -> Vec<String> {
    BREAKDOWN_COLUMNS.iter().map(|c| if unit == Unit::Seconds && c.ends_with("_time") && *c != "departure_time" { format!("{c}_s") } else { c.to_string() }).collect()
}

fn breakdown_cells(b: Option<&Breakdown>, unit: Unit) -> Vec<String> {
    let Some(b) = b else { return vec![String::new(); BREAKDOWN_COLUMNS.len()] };
    let t = |s: u32| match unit {
        Unit::Seconds => s.to_string(),
        Unit::Minutes => format!("{:.1}", s as f64 / 60.0),
    };
    vec![
        format!("{:02}:{:02}", b.departure_s / 3600, b.departure_s / 60 % 60),
        t(b.access_s),
        t(b.wait_s),
        t(b.ride_s),
        t(b.transfer_s),
        t(b.egress_s),
        b.n_rides.to_string(),
        b.routes.clone(),
    ]
}

/// Long-format CSV through the `csv` crate; `reachable_only` leaves out pairs with no
/// time at any percentile.
/// Whether the pair (origin, `d`) is a row of the output.
fn written(per_pct: &[Vec<u32>], d: usize, reachable_only: bool) -> bool {
    !reachable_only || per_pct.iter().any(|v| v[d] != UNREACHABLE)
}

/// The rows each origin has in the output (for a shard's manifest).
pub fn rows_per_origin(m: &Matrix, n_dest: usize, reachable_only: bool) -> Vec<u32> {
    m.times_s.iter().map(|per_pct| (0..n_dest).filter(|&d| written(per_pct, d, reachable_only)).count() as u32).collect()
}

pub fn write_csv<W: std::io::Write>(out: W, m: &Matrix, origins: &PointSet, dest: &PointSet, unit: Unit, reachable_only: bool) -> csv::Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["from_id".to_string(), "to_id".to_string()];
    header.extend(column_names(&m.percentiles, unit));
    if m.breakdown.is_some() {
        header.extend(breakdown_names(unit));
    }
    w.write_record(&header)?;
    let mut rows = 0u64;
    let mut rec: Vec<String> = Vec::with_capacity(header.len());
    for (o, per_pct) in m.times_s.iter().enumerate() {
        for d in 0..dest.len() {
            if !written(per_pct, d, reachable_only) {
                continue;
            }
            rec.clear();
            rec.push(origins.ids[o].clone());
            rec.push(dest.ids[d].clone());
            rec.extend(per_pct.iter().map(|v| value(v[d], unit)));
            if let Some(b) = &m.breakdown {
                rec.extend(breakdown_cells(b[o][d].as_ref(), unit));
            }
            w.write_record(&rec)?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok(rows)
}

/// The same rows in Apache Parquet (one row group per 1,000,000 rows, Snappy): UTF-8
/// ids, times as optional INT32 (null when unreachable), breakdown times as optional
/// DOUBLE minutes (INT32 seconds with `Unit::Seconds`). Read by R (arrow), pandas,
/// DuckDB and QGIS alike.
pub fn write_parquet<W: std::io::Write + Send>(out: W, m: &Matrix, origins: &PointSet, dest: &PointSet, unit: Unit, reachable_only: bool) -> parquet::errors::Result<u64> {
    use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;
    use std::sync::Arc;
    let text = |name: &str| Type::primitive_type_builder(name, Physical::BYTE_ARRAY).with_repetition(Repetition::REQUIRED).with_logical_type(Some(LogicalType::String)).build();
    let opt = |name: &str, t: Physical| Type::primitive_type_builder(name, t).with_repetition(Repetition::OPTIONAL).build();
    let mut fields = vec![Arc::new(text("from_id")?), Arc::new(text("to_id")?)];
    for c in column_names(&m.percentiles, unit) {
        fields.push(Arc::new(opt(&c, Physical::INT32)?));
    }
    let names = if m.breakdown.is_some() { breakdown_names(unit) } else { Vec::new() };
    for c in &names {
        let t = match c.as_str() {
            "departure_time" | "routes" => Type::primitive_type_builder(c, Physical::BYTE_ARRAY).with_repetition(Repetition::OPTIONAL).with_logical_type(Some(LogicalType::String)).build()?,
            "n_rides" => opt(c, Physical::INT32)?,
            _ if unit == Unit::Seconds => opt(c, Physical::INT32)?,
            _ => opt(c, Physical::DOUBLE)?,
        };
        fields.push(Arc::new(t));
    }
    let schema = Arc::new(Type::group_type_builder("matrix").with_fields(fields).build()?);
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).set_created_by(format!("terril {}", env!("CARGO_PKG_VERSION"))).build());
    let mut w = SerializedFileWriter::new(out, schema, props)?;
    // The pairs written, in the CSV's order.
    let pairs: Vec<(usize, usize)> = (0..m.times_s.len())
        .flat_map(|o| (0..dest.len()).map(move |d| (o, d)))
        .filter(|&(o, d)| written(&m.times_s[o], d, reachable_only))
        .collect();
    for chunk in pairs.chunks(1_000_000) {
        let mut rg = w.next_row_group()?;
        let mut col = 0usize;
        while let Some(mut c) = rg.next_column()? {
            let n_pct = m.percentiles.len();
            if col < 2 {
                let v: Vec<ByteArray> = chunk.iter().map(|&(o, d)| ByteArray::from(if col == 0 { origins.ids[o].as_str() } else { dest.ids[d].as_str() })).collect();
                c.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            } else if col < 2 + n_pct {
                let p = col - 2;
                let cells: Vec<Option<i32>> = chunk.iter().map(|&(o, d)| Some(m.times_s[o][p][d]).filter(|t| *t != UNREACHABLE).map(|t| if unit == Unit::Seconds { t as i32 } else { (t / 60) as i32 })).collect();
                write_optional::<Int32Type>(&mut c, &cells)?;
            } else {
                let k = col - 2 - n_pct;
                let b = m.breakdown.as_ref().expect("breakdown columns only with a breakdown");
                let cells: Vec<String> = chunk.iter().map(|&(o, d)| breakdown_cells(b[o][d].as_ref(), unit).swap_remove(k)).collect();
                match names[k].as_str() {
                    "departure_time" | "routes" => {
                        let v: Vec<Option<ByteArray>> = cells.iter().zip(chunk).map(|(s, &(o, d))| b[o][d].as_ref().map(|_| ByteArray::from(s.as_str()))).collect();
                        write_optional::<ByteArrayType>(&mut c, &v)?;
                    }
                    "n_rides" => write_optional::<Int32Type>(&mut c, &cells.iter().map(|s| s.parse().ok()).collect::<Vec<_>>())?,
                    _ if unit == Unit::Seconds => write_optional::<Int32Type>(&mut c, &cells.iter().map(|s| s.parse().ok()).collect::<Vec<_>>())?,
                    _ => write_optional::<DoubleType>(&mut c, &cells.iter().map(|s| s.parse().ok()).collect::<Vec<_>>())?,
                }
            }
            c.close()?;
            col += 1;
        }
        rg.close()?;
    }
    w.close()?;
    Ok(pairs.len() as u64)
}

fn write_optional<T: parquet::data_type::DataType>(c: &mut parquet::file::writer::SerializedColumnWriter<'_>, cells: &[Option<T::T>]) -> parquet::errors::Result<()>
where
    T::T: Clone,
{
    let def: Vec<i16> = cells.iter().map(|x| x.is_some() as i16).collect();
    let values: Vec<T::T> = cells.iter().flatten().cloned().collect();
    c.typed::<T>().write_batch(&values, Some(&def), None)?;
    Ok(())
}

/// The matrix as JSON rows `{from_id, to_id, travel_time_p50: minutes | null}`.
pub fn to_json(m: &Matrix, origins: &PointSet, dest: &PointSet, unit: Unit, reachable_only: bool) -> Vec<serde_json::Value> {
    let names = column_names(&m.percentiles, unit);
    let mut out = Vec::new();
    for (o, per_pct) in m.times_s.iter().enumerate() {
        for d in 0..dest.len() {
            if !written(per_pct, d, reachable_only) {
                continue;
            }
            let mut row = serde_json::Map::new();
            row.insert("from_id".into(), origins.ids[o].clone().into());
            row.insert("to_id".into(), dest.ids[d].clone().into());
            if let Some(b) = &m.breakdown {
                for (name, cell) in breakdown_names(unit).into_iter().zip(breakdown_cells(b[o][d].as_ref(), unit)) {
                    let v = if cell.is_empty() {
                        serde_json::Value::Null
                    } else if name == "departure_time" || name == "routes" {
                        cell.into()
                    } else {
                        cell.parse::<f64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::Null)
                    };
                    row.insert(name, v);
                }
            }
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
        let mut m = Matrix { percentiles: vec![50, 95], times_s: vec![vec![vec![59, UNREACHABLE], vec![61, UNREACHABLE]], vec![vec![0, 3600], vec![0, 3660]]], breakdown: None };
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
        // The breakdown: minutes with one decimal, empty when unreachable.
        let b = Breakdown { departure_s: 14 * 3600 + 60, access_s: 300, wait_s: 90, ride_s: 1200, transfer_s: 0, egress_s: 120, n_rides: 1, routes: "T11".into() };
        m.breakdown = Some(vec![vec![None, None], vec![None, Some(b)]]);
        let mut buf = Vec::new();
        write_csv(&mut buf, &m, &o, &d, Unit::Minutes, false).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("from_id,to_id,travel_time_p50,travel_time_p95,departure_time,access_time,wait_time,ride_time,transfer_time,egress_time,n_rides,routes\na,x,0,1,,,,,,,,\n"), "{text}");
        assert!(text.ends_with("\"b,1\",y,60,61,14:01,5.0,1.5,20.0,0.0,2.0,1,T11\n"), "{text}");
        let j = to_json(&m, &o, &d, Unit::Seconds, false);
        assert_eq!((j[3]["ride_time_s"].as_f64(), j[3]["routes"].as_str()), (Some(1200.0), Some("T11")));
    }
}
