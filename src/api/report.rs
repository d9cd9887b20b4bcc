//! The health-access report as one query, for `terril report health` and
//! `/api/report/health`: origins where people live (`analysis::population`), the time to
//! the nearest facility from each, summed per commune and per group, written as the
//! self-contained French HTML report and as the commune table in CSV (the same numbers).

use super::{access_spec, parameters_used, surface_request, Params};
use crate::analysis::population::{Area, Origins};
use crate::analysis::targets::{LinkedTargets, PointSet};
use crate::analysis::{access, report, Cancel, Stopped};
use crate::route::plan::{ErrorKind, QueryError, Router};

/// Most minutes a report computes to (the default and the bound of `max_trip_duration`).
pub const REPORT_MAX_MINUTES: u32 = 120;

/// What a report is made of, besides the request's parameters.
pub struct HealthInputs<'a> {
    /// The areas (communes), their points made by `population::origins`.
    pub areas: &'a [Area],
    pub origins: &'a Origins,
    /// Every facility loaded; the request's `only` keeps some of them.
    pub facilities: &'a PointSet,
    /// "EPCI", "zone d'emploi"...
    pub group_label: String,
    /// (what, file name, SHA-256) of the inputs, for the report's sources.
    pub sources: Vec<(String, String, String)>,
}

/// The report and its numbers.
pub struct HealthReport {
    pub html: String,
    /// The commune table (`report::area_csv`).
    pub csv: String,
    /// The same with the communes' outlines, as GeoJSON.
    pub geojson: serde_json::Value,
    pub summary: report::HealthSummary,
    pub areas: Vec<report::AreaRow>,
    pub facilities: usize,
    pub parameters: serde_json::Value,
}

/// Why a report was not made.
#[derive(Debug)]
pub enum ReportFailed {
    Query(QueryError),
    Stopped(Stopped),
}

impl From<QueryError> for ReportFailed {
    fn from(e: QueryError) -> Self {
        ReportFailed::Query(e)
    }
}

/// Runs the report. `p` gives the day, window, thresholds (`cutoffs`, default 30,45,60),
/// `only` and the trip rules; `max_trip_duration` is the maximum computed (default 120),
/// whatever the thresholds, so "beyond 60 min" and "none within 120" stay apart.
pub fn health(router: &Router, inp: &HealthInputs, p: &Params, cancel: &Cancel, progress: &indicatif::ProgressBar) -> Result<HealthReport, ReportFailed> {
    let facilities = match p.only.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(f) => inp.facilities.only(f).map_err(|m| QueryError::new(ErrorKind::Unprocessable, "no_destination", m))?,
        None => inp.facilities.clone(),
    };
    let first = inp.origins.points.points.first().ok_or_else(|| QueryError::bad("no_origin", "no origin to report on"))?;
    let mut q = p.clone();
    q.r#from = Some(format!("{},{}", first.lat, first.lon));
    q.percentiles = Some("50".into());
    q.mode = Some(q.mode.take().unwrap_or_else(|| "transit".into()));
    q.cutoffs = Some(q.cutoffs.take().unwrap_or_else(|| "30,45,60".into()));
    let max_minutes = match super::number::<u32>(&q.max_trip_duration, "max_trip_duration", "minutes")? {
        Some(m) if (1..=240).contains(&m) => m,
        Some(_) => return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "max_trip_duration (the most minutes computed) is 1 to 240").into()),
        None => REPORT_MAX_MINUTES,
    };
    q.max_trip_duration = Some(max_minutes.to_string());
    let req = surface_request(router, &q)?;
    let spec = access_spec(&q, vec![])?;
    if spec.cutoffs_min.iter().any(|c| *c > max_minutes) {
        return Err(QueryError::bad("invalid_parameter", format!("the thresholds (cutoffs) must be at most the maximum computed ({max_minutes} min)")).into());
    }
    let targets = LinkedTargets::from_points(&router.net, &facilities.points, req.max_walk_s);
    let rows = access::batch_until(router, &inp.origins.points, &targets, &facilities, &req, &spec, progress, cancel).map_err(ReportFailed::Stopped)?;
    let names = access::column_names(&req.percentiles, &spec);
    let ti = names.iter().position(|n| n.starts_with("time_nearest_min")).expect("the time to the nearest is always computed");
    let pop = inp.origins.points.column("population").ok_or_else(|| QueryError::bad("no_population", "the origins have no population column"))?;
    let results: Vec<report::OriginResult> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let a = &inp.areas[inp.origins.area[i] as usize];
            report::OriginResult { id: r.id.clone(), name: a.name.clone(), area: inp.origins.area[i] as usize, group: a.group.clone(), population: pop[i], lat: r.lat, lon: r.lon, minutes: r.values[ti] }
        })
        .collect();
    let summary = report::summarise(&results, &spec.cutoffs_min, max_minutes);
    let area_rows = report::area_rows(&results, inp.areas, &spec.cutoffs_min, max_minutes);
    let mut used = parameters_used(&req);
    used["thresholds_min"] = serde_json::json!(spec.cutoffs_min);
    used["group"] = inp.group_label.clone().into();
    used["only"] = serde_json::json!(p.only);
    used["origins"] = serde_json::json!({ "areas": inp.areas.len(), "points": inp.origins.points.len() });
    let info = crate::info::NetworkInfo::of(&router.net, 0);
    let (w0, w1) = (req.from_s / 60, (req.from_s + req.window_s) / 60);
    let meta = report::ReportMeta {
        title: "Accès aux établissements de santé en transports en commun".into(),
        when: format!("{}, départs de {:02}:{:02} à {:02}:{:02} (médiane des départs minute par minute)", crate::model::text::date_fr(req.date), w0 / 60, w0 % 60, w1 / 60, w1 % 60),
        network: router.net.meta.title.clone(),
        validity: (info.validity_start.clone(), info.validity_end.clone()),
        sources: inp.sources.clone(),
        parameters: used.clone(),
        group_label: inp.group_label.clone(),
        destinations_label: format!("{} établissements{}", facilities.len(), p.only.as_ref().map(|f| format!(", {f}")).unwrap_or_default()),
        generated: jiff::Zoned::now().strftime("%Y-%m-%d %H:%M").to_string(),
    };
    let html = report::health_html(&results, inp.areas, &area_rows, &facilities, &summary, &meta);
    let csv = report::area_csv(&area_rows, &spec.cutoffs_min, max_minutes);
    let geojson = report::area_geojson(&area_rows, inp.areas);
    Ok(HealthReport { html, csv, geojson, summary, areas: area_rows, facilities: facilities.len(), parameters: used })
}
