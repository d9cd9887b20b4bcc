//! Accessibility indicators, per origin and in batch (rayon across origins):
//! time to the nearest (and n-th nearest) opportunity, cumulative opportunities within
//! cutoffs with optional decay, and population-weighted summaries by area.

use super::surface::{self, Surface, SurfaceRequest, SurfaceScratch, UNREACHABLE};
use super::targets::{LinkedTargets, PointSet};
use crate::route::plan::Router;
use serde::Serialize;

/// How an opportunity at travel time t counts against a cutoff T.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Decay {
    /// 1 when t <= T.
    Step,
    /// 1 until T - w/2, 0 from T + w/2, linear between.
    Linear { width_s: u32 },
    /// exp(-ln 2 * t / T): half the weight at the cutoff.
    Exponential,
    /// 1 / (1 + exp((t - T) / s)), s = w * sqrt(3) / pi (w: standard deviation).
    Logistic { width_s: u32 },
    /// exp(-k * t), t in minutes, whatever the cutoff (r5r's `fixed_exponential`).
    FixedExponential { per_min: f64 },
}

impl Decay {
    pub fn parse(s: &str, width_s: u32) -> Option<Decay> {
        match s {
            "step" => Some(Decay::Step),
            "linear" => Some(Decay::Linear { width_s }),
            "exponential" => Some(Decay::Exponential),
            "logistic" => Some(Decay::Logistic { width_s }),
            _ => None,
        }
    }

    pub fn factor(self, t_s: u32, cutoff_s: u32) -> f64 {
        if t_s == UNREACHABLE {
            return 0.0;
        }
        let (t, c) = (t_s as f64, cutoff_s as f64);
        match self {
            Decay::Step => (t <= c) as u8 as f64,
            Decay::Linear { width_s } => {
                let w = width_s.max(1) as f64;
                ((c + w / 2.0 - t) / w).clamp(0.0, 1.0)
            }
            Decay::Exponential => (-(std::f64::consts::LN_2) * t / c.max(1.0)).exp(),
            Decay::Logistic { width_s } => {
                let s = width_s.max(1) as f64 * 3f64.sqrt() / std::f64::consts::PI;
                1.0 / (1.0 + ((t - c) / s).exp())
            }
            Decay::FixedExponential { per_min } => (-per_min * t / 60.0).exp(),
        }
    }
}

/// What to compute for each origin.
#[derive(Debug, Clone)]
pub struct AccessSpec {
    pub cutoffs_min: Vec<u32>,
    pub decay: Decay,
    /// Weight columns of the destinations to accumulate (e.g. jobs, population).
    pub columns: Vec<String>,
    /// Ranks for "time to the n-th nearest" (1 = nearest), counted over destinations
    /// with a positive `nearest_column` weight.
    pub nth: Vec<usize>,
    pub nearest_column: String,
}

/// Indicator values of one origin, in the order of `column_names`.
pub fn indicators(surface: &Surface, dest: &PointSet, spec: &AccessSpec) -> Vec<f64> {
    let mut out = Vec::new();
    let near_w = dest.column(&spec.nearest_column).map(|c| c.to_vec()).unwrap_or_else(|| vec![1.0; dest.len()]);
    for times in &surface.times_s {
        let mut ts: Vec<u32> = times.iter().zip(near_w.iter()).filter(|(_, w)| **w > 0.0).map(|(t, _)| *t).collect();
        ts.sort_unstable();
        for &n in &spec.nth {
            let v = ts.get(n.saturating_sub(1)).copied().unwrap_or(UNREACHABLE);
            out.push(if v == UNREACHABLE { f64::NAN } else { (v as f64 / 60.0 * 10.0).round() / 10.0 });
        }
        for col in &spec.columns {
            let w = dest.column(col).unwrap_or(&[]);
            for &c in &spec.cutoffs_min {
                let sum: f64 = times.iter().zip(w.iter()).map(|(t, w)| w * spec.decay.factor(*t, c * 60)).sum();
                out.push((sum * 1000.0).round() / 1000.0);
            }
        }
    }
    out
}

pub fn column_names(percentiles: &[u8], spec: &AccessSpec) -> Vec<String> {
    let mut names = Vec::new();
    for p in percentiles {
        for n in &spec.nth {
            names.push(if *n == 1 { format!("time_nearest_min_p{p}") } else { format!("time_nearest{n}_min_p{p}") });
        }
        for col in &spec.columns {
            for c in &spec.cutoffs_min {
                names.push(format!("{col}_within_{c}min_p{p}"));
            }
        }
    }
    names
}

/// One origin's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessRow {
    pub id: String,
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub values: Vec<f64>,
}

/// Runs every origin (in parallel) against linked destinations.
pub fn batch(router: &Router, origins: &PointSet, targets: &LinkedTargets, dest: &PointSet, template: &SurfaceRequest, spec: &AccessSpec, progress: &indicatif::ProgressBar) -> Vec<AccessRow> {
    batch_until(router, origins, targets, dest, template, spec, progress, &super::Cancel::never()).expect("never cancelled")
}

/// [`batch`], stopped early by `cancel`.
#[allow(clippy::too_many_arguments)]
pub fn batch_until(router: &Router, origins: &PointSet, targets: &LinkedTargets, dest: &PointSet, template: &SurfaceRequest, spec: &AccessSpec, progress: &indicatif::ProgressBar, cancel: &super::Cancel) -> Result<Vec<AccessRow>, super::Stopped> {
    super::per_origin(origins.len(), cancel, progress, |sc: &mut SurfaceScratch, i| {
        let mut req = template.clone();
        req.origin = origins.points[i];
        let s = surface::compute_unchecked(router, targets, &req, sc);
        AccessRow { id: origins.ids[i].clone(), label: origins.labels[i].clone(), lat: origins.points[i].lat, lon: origins.points[i].lon, values: indicators(&s, dest, spec) }
    })
}

/// CSV of batch results (deterministic: origin order, fixed number formatting; an
/// unreachable value is an empty cell).
pub fn to_csv(rows: &[AccessRow], names: &[String]) -> String {
    super::origin_csv(names, rows.iter().map(|r| (r.id.as_str(), r.label.as_str(), r.lat, r.lon, r.values.iter().map(|v| if v.is_nan() { String::new() } else { v.to_string() }).collect())))
}

pub fn to_geojson(rows: &[AccessRow], names: &[String]) -> serde_json::Value {
    let feats: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut props = serde_json::Map::new();
            props.insert("id".into(), r.id.clone().into());
            props.insert("label".into(), r.label.clone().into());
            for (n, v) in names.iter().zip(&r.values) {
                props.insert(n.clone(), if v.is_nan() { serde_json::Value::Null } else { (*v).into() });
            }
            serde_json::json!({ "type": "Feature", "properties": props, "geometry": { "type": "Point", "coordinates": [r.lon, r.lat] } })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": feats })
}

/// Population-weighted summary of one time indicator.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct TimeSummary {
    pub group: String,
    pub population: f64,
    /// Share of the population (0..1) within each cutoff.
    pub share_within: Vec<(u32, f64)>,
    /// Population with no reachable opportunity at all.
    pub unreachable: f64,
    pub median_min: Option<f64>,
}

/// Summaries of indicator `col` (minutes) weighted by origins' `weight` column, overall
/// (group "all") and per origin label.
pub fn summarise_time(rows: &[AccessRow], names: &[String], col: &str, origins: &PointSet, weight: &str, cutoffs_min: &[u32]) -> Vec<TimeSummary> {
    let Some(ci) = names.iter().position(|n| n == col) else { return vec![] };
    let w = origins.column(weight).map(|c| c.to_vec()).unwrap_or_else(|| vec![1.0; origins.len()]);
    let mut groups: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    for (i, r) in rows.iter().enumerate() {
        let v = r.values[ci];
        groups.entry("all".into()).or_default().push((v, w[i]));
        if !r.label.is_empty() {
            groups.entry(r.label.clone()).or_default().push((v, w[i]));
        }
    }
    groups
        .into_iter()
        .map(|(g, mut vals)| {
            let pop: f64 = vals.iter().map(|x| x.1).sum();
            let unreachable: f64 = vals.iter().filter(|x| x.0.is_nan()).map(|x| x.1).sum();
            let share_within = cutoffs_min.iter().map(|c| (*c, if pop > 0.0 { vals.iter().filter(|x| !x.0.is_nan() && x.0 <= *c as f64).map(|x| x.1).sum::<f64>() / pop } else { 0.0 })).collect();
            vals.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut acc = 0.0;
            let mut median = None;
            for (v, wt) in &vals {
                acc += wt;
                if acc >= pop / 2.0 && pop > 0.0 {
                    median = (!v.is_nan()).then_some(*v);
                    break;
                }
            }
            TimeSummary { group: g, population: pop, share_within, unreachable, median_min: median }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_functions() {
        assert_eq!(Decay::Step.factor(1800, 1800), 1.0);
        assert_eq!(Decay::Step.factor(1801, 1800), 0.0);
        assert_eq!(Decay::Step.factor(UNREACHABLE, 1800), 0.0);
        let l = Decay::Linear { width_s: 600 };
        assert_eq!(l.factor(1500, 1800), 1.0);
        assert_eq!(l.factor(1800, 1800), 0.5);
        assert_eq!(l.factor(2100, 1800), 0.0);
        assert!((Decay::Exponential.factor(1800, 1800) - 0.5).abs() < 1e-12);
        let g = Decay::Logistic { width_s: 600 };
        assert!((g.factor(1800, 1800) - 0.5).abs() < 1e-12);
        // Two standard deviations (1200 s) either side of the cutoff.
        assert!(g.factor(600, 1800) > 0.97 && g.factor(3000, 1800) < 0.03);
    }
}
