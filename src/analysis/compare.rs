//! Before / after: the same origins, departure window and indicators on a baseline and a
//! scenario network (or two versions of a feed), per origin and summarised: population
//! gaining or losing access within each cutoff, median change, areas most changed.
//!
//! The street search of each origin is shared (same streets on both sides), and so is the
//! stop -> destination walking table (extended only for stops a scenario adds).

use super::access::{column_names, indicators, AccessSpec};
use super::surface::{compute_transit, compute_unchecked, street_phase, SurfaceRequest, SurfaceScratch};
use super::targets::{LinkedTargets, PointSet};
use crate::route::plan::Router;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CompareRow {
    pub id: String,
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub before: Vec<f64>,
    pub after: Vec<f64>,
}

/// One side of a comparison.
pub struct Side<'a> {
    pub router: &'a Router,
    pub destinations: &'a PointSet,
    pub targets: &'a LinkedTargets,
}

pub fn compare(base: &Side, scen: &Side, origins: &PointSet, template: &SurfaceRequest, spec: &AccessSpec, progress: &indicatif::ProgressBar) -> Vec<CompareRow> {
    compare_until(base, scen, origins, template, spec, progress, &super::Cancel::never()).expect("never cancelled")
}

/// [`compare`], stopped early by `cancel`.
pub fn compare_until(base: &Side, scen: &Side, origins: &PointSet, template: &SurfaceRequest, spec: &AccessSpec, progress: &indicatif::ProgressBar, cancel: &super::Cancel) -> Result<Vec<CompareRow>, super::Stopped> {
    super::per_origin(origins.len(), cancel, progress, |sc: &mut SurfaceScratch, i| {
            let mut req = template.clone();
            req.origin = origins.points[i];
            // One street search serves both sides when the targets are the same points
            // and the scenario only adds stops (indices of the baseline are kept).
            let shared = base.targets.points == scen.targets.points && scen.router.net.timetable.stops.len() >= base.router.net.timetable.stops.len();
            let (b, a) = if shared {
                let (direct, access) = street_phase(scen.router, scen.targets, &req, &mut sc.search, &mut sc.sweep);
                let n_base = base.router.net.timetable.stops.len() as u32;
                let base_access: Vec<(u32, u32)> = access.iter().copied().filter(|(s, _)| *s < n_base).collect();
                (compute_transit(base.router, base.targets, &req, sc, &direct, &base_access), compute_transit(scen.router, scen.targets, &req, sc, &direct, &access))
            } else {
                (compute_unchecked(base.router, base.targets, &req, sc), compute_unchecked(scen.router, scen.targets, &req, sc))
            };
            CompareRow {
                id: origins.ids[i].clone(),
                label: origins.labels[i].clone(),
                lat: origins.points[i].lat,
                lon: origins.points[i].lon,
                before: indicators(&b, base.destinations, spec),
                after: indicators(&a, scen.destinations, spec),
            }
        })
}

pub fn to_csv(rows: &[CompareRow], names: &[String]) -> String {
    let columns: Vec<String> = names.iter().flat_map(|n| [format!("{n}_before"), format!("{n}_after"), format!("{n}_diff")]).collect();
    let f = |v: f64| if v.is_nan() { String::new() } else { format!("{}", (v * 1000.0).round() / 1000.0) };
    super::origin_csv(
        &columns,
        rows.iter().map(|r| {
            let values = (0..names.len()).flat_map(|k| [f(r.before[k]), f(r.after[k]), f(r.after[k] - r.before[k])]).collect();
            (r.id.as_str(), r.label.as_str(), r.lat, r.lon, values)
        }),
    )
}

pub fn to_geojson(rows: &[CompareRow], names: &[String]) -> serde_json::Value {
    let feats: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut p = serde_json::Map::new();
            p.insert("id".into(), r.id.clone().into());
            p.insert("label".into(), r.label.clone().into());
            let num = |v: f64| if v.is_nan() { serde_json::Value::Null } else { ((v * 1000.0).round() / 1000.0).into() };
            for (k, n) in names.iter().enumerate() {
                p.insert(format!("{n}_before"), num(r.before[k]));
                p.insert(format!("{n}_after"), num(r.after[k]));
                p.insert(format!("{n}_diff"), num(r.after[k] - r.before[k]));
            }
            serde_json::json!({ "type": "Feature", "properties": p, "geometry": { "type": "Point", "coordinates": [r.lon, r.lat] } })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": feats })
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct CutoffChange {
    pub cutoff_min: u32,
    /// Weight (population) of origins newly within the cutoff of the nearest opportunity.
    pub gaining: f64,
    pub losing: f64,
    /// Weight of origins reaching more (fewer) opportunities within the cutoff (first
    /// counted column).
    pub reaching_more: f64,
    pub reaching_fewer: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct GroupChange {
    pub group: String,
    pub weight: f64,
    /// Weighted mean change of the time to the nearest opportunity, minutes (negative: faster).
    pub mean_time_change_min: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct CompareSummary {
    pub origins: usize,
    pub total_weight: f64,
    pub changed_origins: usize,
    pub per_cutoff: Vec<CutoffChange>,
    pub median_time_change_min: Option<f64>,
    /// Weighted mean change of each cumulative indicator (same order as `cumulative`).
    pub cumulative: Vec<(String, f64)>,
    pub top_groups: Vec<GroupChange>,
}

/// Summary of the comparison, weighted by the origins' `weight` column (1 each if absent).
pub fn summarise(rows: &[CompareRow], names: &[String], origins: &PointSet, weight: &str, spec: &AccessSpec) -> CompareSummary {
    let w: Vec<f64> = origins.column(weight).map(|c| c.to_vec()).unwrap_or_else(|| vec![1.0; origins.len()]);
    let time_col = names.iter().position(|n| n.starts_with("time_nearest_min"));
    let big = f64::INFINITY;
    let t = |v: f64| if v.is_nan() { big } else { v };
    let mut per_cutoff = Vec::new();
    for &c in &spec.cutoffs_min {
        let (mut g, mut l) = (0.0, 0.0);
        if let Some(k) = time_col {
            for (i, r) in rows.iter().enumerate() {
                let (b, a) = (t(r.before[k]), t(r.after[k]));
                if b > c as f64 && a <= c as f64 {
                    g += w[i];
                }
                if b <= c as f64 && a > c as f64 {
                    l += w[i];
                }
            }
        }
        let (mut more, mut fewer) = (0.0, 0.0);
        if let Some(k) = names.iter().position(|n| n.contains(&format!("_within_{c}min_"))) {
            for (i, r) in rows.iter().enumerate() {
                let d = r.after[k] - r.before[k];
                if d > 1e-9 {
                    more += w[i];
                } else if d < -1e-9 {
                    fewer += w[i];
                }
            }
        }
        per_cutoff.push(CutoffChange { cutoff_min: c, gaining: g, losing: l, reaching_more: more, reaching_fewer: fewer });
    }
    let changed_origins = rows.iter().filter(|r| r.before.iter().zip(&r.after).any(|(b, a)| !(b == a || (b.is_nan() && a.is_nan())))).count();
    let mut deltas: Vec<(f64, f64)> = Vec::new();
    if let Some(k) = time_col {
        for (i, r) in rows.iter().enumerate() {
            if !r.before[k].is_nan() && !r.after[k].is_nan() {
                deltas.push((r.after[k] - r.before[k], w[i]));
            }
        }
    }
    deltas.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = deltas.iter().map(|d| d.1).sum();
    let mut acc = 0.0;
    let mut median = None;
    for (d, wt) in &deltas {
        acc += wt;
        if acc >= total / 2.0 && total > 0.0 {
            median = Some((*d * 10.0).round() / 10.0);
            break;
        }
    }
    let cumulative = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.contains("_within_"))
        .map(|(k, n)| {
            let tw: f64 = w.iter().sum();
            let m: f64 = rows.iter().enumerate().map(|(i, r)| (r.after[k] - r.before[k]) * w[i]).sum::<f64>() / tw.max(1e-9);
            (n.clone(), (m * 100.0).round() / 100.0)
        })
        .collect();
    let mut groups: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    if let Some(k) = time_col {
        for (i, r) in rows.iter().enumerate() {
            if r.label.is_empty() || r.before[k].is_nan() || r.after[k].is_nan() {
                continue;
            }
            let e = groups.entry(r.label.clone()).or_default();
            e.0 += w[i];
            e.1 += (r.after[k] - r.before[k]) * w[i];
        }
    }
    let mut top_groups: Vec<GroupChange> = groups
        .into_iter()
        .filter(|(_, (wt, d))| *wt > 0.0 && d.abs() > 1e-9)
        .map(|(g, (wt, d))| GroupChange { group: g, weight: wt, mean_time_change_min: (d / wt * 10.0).round() / 10.0 })
        .collect();
    top_groups.sort_by(|a, b| a.mean_time_change_min.total_cmp(&b.mean_time_change_min).then(a.group.cmp(&b.group)));
    top_groups.truncate(10);
    CompareSummary { origins: rows.len(), total_weight: w.iter().sum(), changed_origins, per_cutoff, median_time_change_min: median, cumulative, top_groups }
}

/// The summary in plain words, French then English.
pub fn describe(s: &CompareSummary, scenario: &str, weight: &str) -> String {
    let mut out = String::new();
    let fmt = |x: f64| format!("{:.0}", x);
    out.push_str(&format!("Scénario « {scenario} » : {} origines, {} modifiées.\n", s.origins, s.changed_origins));
    for c in &s.per_cutoff {
        out.push_str(&format!("  à moins de {} min de la destination la plus proche : +{} gagnent, -{} perdent ; plus de destinations en {} min : {}, moins : {} ({weight})\n", c.cutoff_min, fmt(c.gaining), fmt(c.losing), c.cutoff_min, fmt(c.reaching_more), fmt(c.reaching_fewer)));
    }
    if let Some(m) = s.median_time_change_min {
        out.push_str(&format!("  variation médiane du temps d'accès : {m:+.1} min\n"));
    }
    for g in s.top_groups.iter().take(5) {
        out.push_str(&format!("  {} : {:+.1} min en moyenne\n", g.group, g.mean_time_change_min));
    }
    out.push_str(&format!("Scenario '{scenario}': {} origins, {} changed.\n", s.origins, s.changed_origins));
    for c in &s.per_cutoff {
        out.push_str(&format!("  within {} min of the nearest destination: +{} gain, -{} lose; reaching more destinations in {} min: {}, fewer: {} ({weight})\n", c.cutoff_min, fmt(c.gaining), fmt(c.losing), c.cutoff_min, fmt(c.reaching_more), fmt(c.reaching_fewer)));
    }
    if let Some(m) = s.median_time_change_min {
        out.push_str(&format!("  median change of access time: {m:+.1} min\n"));
    }
    for (n, v) in &s.cumulative {
        out.push_str(&format!("  mean change of {n}: {v:+.2}\n"));
    }
    out
}

/// Column names of a comparison (same as accessibility).
pub fn names(template: &SurfaceRequest, spec: &AccessSpec) -> Vec<String> {
    column_names(&template.percentiles, spec)
}
