//! The health-access report a planner hands on: a self-contained French HTML page
//! (printable to PDF) with the key figures, a map, the cumulative share of the population
//! within x minutes of the nearest facility by area, a table per area and per commune, the
//! sources and the parameters. Nothing is fetched from elsewhere: the map and the chart
//! are inline SVG.

use super::access::{summarise_time, AccessRow, TimeSummary};
use super::population::{Area, Source};
use super::targets::PointSet;
use std::fmt::Write;

/// What one origin (a commune, a grid cell) gives the report.
#[derive(Debug, Clone)]
pub struct OriginResult {
    pub id: String,
    pub name: String,
    /// Index of the area (commune) it stands for, in the report's areas.
    pub area: usize,
    /// The area it is summed into (an EPCI, an employment zone).
    pub group: String,
    pub population: f64,
    pub lat: f64,
    pub lon: f64,
    /// Minutes to the nearest facility, NaN when none within the report's maximum.
    pub minutes: f64,
}

/// Where the numbers come from, for the report's last section.
#[derive(Debug, Clone, Default)]
pub struct ReportMeta {
    pub title: String,
    /// "mardi 4 février 2025, départs de 07:00 à 09:00".
    pub when: String,
    pub network: String,
    pub validity: (String, String),
    /// (what, file name, sha256).
    pub sources: Vec<(String, String, String)>,
    pub parameters: serde_json::Value,
    pub group_label: String,
    pub destinations_label: String,
    pub generated: String,
}

/// The report's numbers: thresholds (minutes), the maximum computed, overall and per area.
#[derive(Debug, Clone)]
pub struct HealthSummary {
    pub thresholds: Vec<u32>,
    pub max_min: u32,
    pub all: TimeSummary,
    pub groups: Vec<TimeSummary>,
}

/// Population-weighted summaries, overall and per area (the one weighted median and
/// shares of `access::summarise_time`).
pub fn summarise(results: &[OriginResult], thresholds: &[u32], max_min: u32) -> HealthSummary {
    let rows: Vec<AccessRow> = results.iter().map(|r| AccessRow { id: r.id.clone(), label: r.group.clone(), lat: r.lat, lon: r.lon, values: vec![r.minutes] }).collect();
    let weights = PointSet { columns: vec!["population".into()], weights: vec![results.iter().map(|r| r.population).collect()], ..Default::default() };
    let mut cuts: Vec<u32> = thresholds.to_vec();
    cuts.push(max_min);
    let mut s = summarise_time(&rows, &["t".to_string()], "t", &weights, "population", &cuts);
    let all = s.iter().position(|g| g.group == "all").map(|i| s.remove(i)).unwrap_or(TimeSummary { group: "all".into(), population: 0.0, share_within: vec![], unreachable: 0.0, median_min: None });
    HealthSummary { thresholds: thresholds.to_vec(), max_min, all, groups: s }
}

/// One area (commune) of the report, summed from its points, population-weighted.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    pub id: String,
    pub name: String,
    pub group: String,
    pub population: f64,
    /// Median minutes to the nearest facility over the area's population; None when
    /// more than half of it has none within the maximum.
    pub median_min: Option<f64>,
    /// Population beyond each threshold (no facility within the maximum included).
    pub beyond: Vec<(u32, f64)>,
    /// Population with no facility within the maximum.
    pub unreachable: f64,
    pub points: usize,
    pub source: Source,
}

/// The areas' rows, in the areas' order.
pub fn area_rows(results: &[OriginResult], areas: &[Area], thresholds: &[u32], max_min: u32) -> Vec<AreaRow> {
    let rows: Vec<AccessRow> = results.iter().map(|r| AccessRow { id: r.id.clone(), label: r.area.to_string(), lat: r.lat, lon: r.lon, values: vec![r.minutes] }).collect();
    let weights = PointSet { columns: vec!["population".into()], weights: vec![results.iter().map(|r| r.population).collect()], ..Default::default() };
    let mut cuts: Vec<u32> = thresholds.to_vec();
    cuts.push(max_min);
    let mut by: std::collections::HashMap<usize, TimeSummary> = summarise_time(&rows, &["t".to_string()], "t", &weights, "population", &cuts).into_iter().filter_map(|s| Some((s.group.parse().ok()?, s))).collect();
    let mut counts = vec![0usize; areas.len()];
    for r in results {
        counts[r.area] += 1;
    }
    areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let s = by.remove(&i);
            let within = |t: u32| s.as_ref().and_then(|s| s.share_within.iter().find(|x| x.0 == t)).map(|x| x.1).unwrap_or(0.0);
            let pop = s.as_ref().map(|s| s.population).unwrap_or(0.0);
            AreaRow {
                id: a.id.clone(),
                name: a.name.clone(),
                group: a.group.clone(),
                population: pop,
                median_min: s.as_ref().and_then(|s| s.median_min),
                beyond: thresholds.iter().map(|t| (*t, pop * (1.0 - within(*t)))).collect(),
                unreachable: s.as_ref().map(|s| s.unreachable).unwrap_or(0.0),
                points: counts[i],
                source: a.source,
            }
        })
        .collect()
}

/// The areas' rows as CSV (the report's table, for a spreadsheet or QGIS join):
/// `id,name,group,population,median_min,beyond_<t>_min...,none_within_<max>_min,points,origins`.
pub fn area_csv(rows: &[AreaRow], thresholds: &[u32], max_min: u32) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["id", "name", "group", "population", "median_min"].iter().map(|s| s.to_string()).collect();
    header.extend(thresholds.iter().map(|t| format!("beyond_{t}_min")));
    header.extend([format!("none_within_{max_min}_min"), "points".into(), "origins".into()]);
    w.write_record(&header).expect("writing to memory");
    for r in rows {
        let mut rec = vec![r.id.clone(), r.name.clone(), r.group.clone(), format!("{:.1}", r.population), r.median_min.map(|m| format!("{m:.1}")).unwrap_or_default()];
        rec.extend(r.beyond.iter().map(|b| format!("{:.1}", b.1)));
        rec.extend([format!("{:.1}", r.unreachable), r.points.to_string(), serde_json::to_value(r.source).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()]);
        w.write_record(&rec).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
}

/// The areas' rows with their outlines (a point for areas given as points) as a GeoJSON
/// FeatureCollection: the commune table on a map, for QGIS (via FlatGeobuf).
pub fn area_geojson(rows: &[AreaRow], areas: &[Area]) -> serde_json::Value {
    let feats: Vec<serde_json::Value> = rows
        .iter()
        .zip(areas)
        .map(|(r, a)| {
            let ring = |l: &geo_types::LineString<f64>| l.0.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>();
            let geometry = if a.shape.0.is_empty() {
                serde_json::json!({ "type": "Point", "coordinates": [a.point.lon, a.point.lat] })
            } else {
                let polys: Vec<Vec<Vec<[f64; 2]>>> = a.shape.0.iter().map(|p| std::iter::once(ring(p.exterior())).chain(p.interiors().iter().map(ring)).collect()).collect();
                serde_json::json!({ "type": "MultiPolygon", "coordinates": polys })
            };
            let mut props = serde_json::Map::new();
            props.insert("id".into(), r.id.clone().into());
            props.insert("name".into(), r.name.clone().into());
            props.insert("group".into(), r.group.clone().into());
            props.insert("population".into(), r.population.into());
            props.insert("median_min".into(), r.median_min.map(Into::into).unwrap_or(serde_json::Value::Null));
            for (t, b) in &r.beyond {
                props.insert(format!("beyond_{t}_min"), (*b).into());
            }
            props.insert("none_within_max".into(), r.unreachable.into());
            props.insert("points".into(), r.points.into());
            props.insert("origins".into(), serde_json::to_value(r.source).unwrap_or_default());
            serde_json::json!({ "type": "Feature", "properties": props, "geometry": geometry })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": feats })
}

/// Class of an area: by its median, "none within the maximum" when the median is.
fn area_class(r: &AreaRow, thresholds: &[u32]) -> usize {
    class(r.median_min.unwrap_or(f64::NAN), thresholds)
}

/// Class of a time: 0..=thresholds.len() (within each threshold, then beyond the last up
/// to the maximum), thresholds.len() + 1 when no facility within the maximum.
fn class(minutes: f64, thresholds: &[u32]) -> usize {
    if minutes.is_nan() {
        return thresholds.len() + 1;
    }
    thresholds.iter().position(|t| minutes <= *t as f64).unwrap_or(thresholds.len())
}

const CLASS_COLOURS: [&str; 6] = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#5e3c99"];

fn class_colour(c: usize, n: usize) -> &'static str {
    if c > n {
        "#777777"
    } else {
        CLASS_COLOURS[(c * (CLASS_COLOURS.len() - 1)) / n.max(1)]
    }
}

fn class_labels(thresholds: &[u32], max_min: u32) -> Vec<String> {
    let mut v = Vec::new();
    let mut lo = 0;
    for t in thresholds {
        v.push(if lo == 0 { format!("{t} min ou moins") } else { format!("de {lo} à {t} min") });
        lo = *t;
    }
    v.push(format!("au-delà de {lo} min (jusqu'à {max_min})"));
    v.push(format!("aucun établissement en {max_min} min"));
    v
}

/// HTML text escaping of the reports and sheets.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A whole number the French way: 1\u{202f}352\u{202f}111.
pub fn fr_int(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.1}\u{202f}%", x * 100.0).replace('.', ",")
}

/// The map: areas filled by the class of their median time (polygons), or discs (area ∝
/// population) for areas given as points; facilities as black squares; fitted to the areas.
fn map_svg(areas: &[Area], rows: &[AreaRow], facilities: &PointSet, thresholds: &[u32], max_min: u32) -> String {
    use geo::Simplify;
    let (w, h, pad) = (700.0, 520.0, 20.0);
    let lat0 = areas.iter().map(|a| a.point.lat).sum::<f64>() / areas.len().max(1) as f64;
    let k = lat0.to_radians().cos();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    let mut extend = |lon: f64, lat: f64| {
        x0 = x0.min(lon * k);
        x1 = x1.max(lon * k);
        y0 = y0.min(-lat);
        y1 = y1.max(-lat);
    };
    for a in areas {
        match geo::BoundingRect::bounding_rect(&a.shape) {
            Some(r) => {
                extend(r.min().x, r.min().y);
                extend(r.max().x, r.max().y);
            }
            None => extend(a.point.lon, a.point.lat),
        }
    }
    let s = ((w - 2.0 * pad) / (x1 - x0).max(1e-6)).min((h - 2.0 * pad - 60.0) / (y1 - y0).max(1e-6));
    let p = |lat: f64, lon: f64| (pad + (lon * k - x0) * s, pad + (-lat - y0) * s);
    let mut g = String::new();
    let title = |r: &AreaRow| match r.median_min {
        Some(m) => format!("{} : {m:.0} min (médiane)", r.name),
        None => format!("{} : pas d'établissement en {max_min} min pour la moitié des habitants", r.name),
    };
    // Polygons first (simplified to a tenth of a pixel's worth of degrees), then discs,
    // largest first so small ones stay visible.
    let eps = 0.3 / s;
    for (a, r) in areas.iter().zip(rows) {
        if a.shape.0.is_empty() {
            continue;
        }
        let mut d = String::new();
        for poly in a.shape.simplify(eps).0.iter() {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    let (x, y) = p(c.y, c.x);
                    let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
        }
        let c = class_colour(area_class(r, thresholds), thresholds.len());
        let _ = write!(g, r##"<path d="{d}" fill="{c}" fill-rule="evenodd" stroke="#fff" stroke-width="0.4"><title>{}</title></path>"##, esc(&title(r)));
    }
    let maxpop = rows.iter().map(|r| r.population).fold(1.0, f64::max);
    let mut order: Vec<(&Area, &AreaRow)> = areas.iter().zip(rows).filter(|(a, _)| a.shape.0.is_empty()).collect();
    order.sort_by(|a, b| b.1.population.total_cmp(&a.1.population));
    for (a, r) in order {
        let (x, y) = p(a.point.lat, a.point.lon);
        let rad = 2.0 + 12.0 * (r.population / maxpop).sqrt();
        let c = class_colour(area_class(r, thresholds), thresholds.len());
        let _ = write!(g, r##"<circle cx="{x:.1}" cy="{y:.1}" r="{rad:.1}" fill="{c}" stroke="#333" stroke-width="0.5"><title>{}</title></circle>"##, esc(&title(r)));
    }
    for (i, f) in facilities.points.iter().enumerate() {
        let (x, y) = p(f.lat, f.lon);
        if (pad..=w - pad).contains(&x) && (pad..=h - 60.0).contains(&y) {
            let _ = write!(g, r##"<rect x="{:.1}" y="{:.1}" width="6" height="6" fill="#000" stroke="#fff" stroke-width="0.8"><title>{}</title></rect>"##, x - 3.0, y - 3.0, esc(facilities.labels.get(i).map(String::as_str).unwrap_or("")));
        }
    }
    // Key, and a scale bar.
    let labels = class_labels(thresholds, max_min);
    let mut ky = h - 50.0;
    let mut kx = pad;
    for (c, l) in labels.iter().enumerate() {
        let _ = write!(g, r##"<circle cx="{:.1}" cy="{ky:.1}" r="6" fill="{}" stroke="#333" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"##, kx + 6.0, class_colour(c, thresholds.len()), kx + 16.0, ky + 4.0, esc(l));
        kx += 16.0 + 7.0 * l.chars().count() as f64 + 14.0;
        if kx > w - 200.0 {
            kx = pad;
            ky += 20.0;
        }
    }
    let _ = write!(g, r##"<rect x="{:.1}" y="{:.1}" width="6" height="6" fill="#000"/><text x="{:.1}" y="{:.1}" font-size="12">établissement de santé</text>"##, kx + 3.0, ky - 3.0, kx + 16.0, ky + 4.0);
    let km_px = s / 111.32;
    let km = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0].into_iter().find(|x| x * km_px >= 60.0).unwrap_or(50.0);
    let _ = write!(g, r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#000" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{km} km</text>"##, w - pad - km * km_px, h - 12.0, w - pad, h - 12.0, w - pad - km * km_px / 2.0, h - 16.0);
    format!(r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="Carte du temps d'accès à l'établissement le plus proche" class="map">{g}</svg>"#)
}

/// The cumulative chart: share of the population within x minutes, overall and per area.
fn chart_svg(results: &[OriginResult], groups: &[String], thresholds: &[u32], max_min: u32) -> String {
    let (w, h, l, b) = (700.0, 340.0, 50.0, 40.0);
    let (pw, ph) = (w - l - 230.0, h - b - 20.0);
    let x = |m: f64| l + m / max_min as f64 * pw;
    let y = |share: f64| 20.0 + (1.0 - share) * ph;
    let mut g = String::new();
    for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(g, r##"<line x1="{l}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{:.0}&#8239;%</text>"##, y(q), l + pw, y(q), l - 4.0, y(q) + 4.0, q * 100.0);
    }
    for t in thresholds.iter().chain(std::iter::once(&max_min)) {
        let _ = write!(g, r##"<line x1="{:.1}" y1="20" x2="{:.1}" y2="{:.1}" stroke="#bbb" stroke-dasharray="3 3"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{t}</text>"##, x(*t as f64), x(*t as f64), 20.0 + ph, x(*t as f64), 20.0 + ph + 14.0);
    }
    let _ = write!(g, r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">minutes jusqu'à l'établissement le plus proche</text>"#, l + pw / 2.0, h - 6.0);
    let palette = ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    let series: Vec<(String, Vec<&OriginResult>)> = std::iter::once(("Ensemble".to_string(), results.iter().collect())).chain(groups.iter().map(|gname| (gname.clone(), results.iter().filter(|r| &r.group == gname).collect()))).collect();
    for (i, (name, rs)) in series.iter().enumerate() {
        let pop: f64 = rs.iter().map(|r| r.population).sum();
        if pop <= 0.0 {
            continue;
        }
        let pts: Vec<String> = (0..=max_min).map(|m| format!("{:.1},{:.1}", x(m as f64), y(rs.iter().filter(|r| !r.minutes.is_nan() && r.minutes <= m as f64).map(|r| r.population).sum::<f64>() / pop))).collect();
        let c = palette[i % palette.len()];
        let _ = write!(g, r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="{}"/>"#, pts.join(" "), if i == 0 { 3.0 } else { 1.5 });
        let _ = write!(g, r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{c}" stroke-width="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#, l + pw + 10.0, 26.0 + 16.0 * i as f64, l + pw + 30.0, 26.0 + 16.0 * i as f64, if i == 0 { 3 } else { 2 }, l + pw + 34.0, 30.0 + 16.0 * i as f64, esc(&name.chars().take(34).collect::<String>()));
    }
    format!(r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="Part de la population à moins de x minutes" class="chart">{g}</svg>"#)
}

/// How the population was placed: "330 communes ; 5 en carreaux Filosofi 200 m (…
/// habitants), 325 en points répartis dans la commune tous les 200 m…".
fn origins_text(areas: &[Area], rows: &[AreaRow]) -> String {
    let mut parts = Vec::new();
    for src in [Source::Grid, Source::Sampled, Source::Point] {
        let of: Vec<&AreaRow> = rows.iter().filter(|r| r.source == src).collect();
        if of.is_empty() {
            continue;
        }
        let pts: usize = of.iter().map(|r| r.points).sum();
        parts.push(format!("{} en {} ({} points, {} habitants)", of.len(), src.label_fr(), fr_int(pts as f64), fr_int(of.iter().map(|r| r.population).sum())));
    }
    format!("{} zones d'origine ; {} ; résultats des points additionnés par commune et par groupe, pondérés par la population", areas.len(), parts.join(", "))
}

/// The whole report, one HTML file.
pub fn health_html(results: &[OriginResult], areas: &[Area], rows: &[AreaRow], facilities: &PointSet, summary: &HealthSummary, meta: &ReportMeta) -> String {
    let th = &summary.thresholds;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title><style>
body{{font-family:system-ui,'DejaVu Sans',sans-serif;margin:2em auto;max-width:60em;color:#111;line-height:1.4}}
h1{{font-size:1.6em;margin-bottom:.2em}} h2{{font-size:1.25em;margin-top:1.6em;border-bottom:2px solid #0b5cad}}
.lead{{color:#333}} .figures{{display:flex;flex-wrap:wrap;gap:1em}} .figure{{border:1px solid #bbb;border-radius:6px;padding:.6em 1em;min-width:10em}}
.figure b{{display:block;font-size:1.5em}} table{{border-collapse:collapse;width:100%;font-size:.9em}} th,td{{border:1px solid #ccc;padding:.25em .5em;text-align:right}}
th:first-child,td:first-child,td.t{{text-align:left}} table.communes{{font-size:.75em}} table.communes td{{padding:.05em .4em}} thead{{background:#eef2f6}} svg{{width:100%;height:auto}} .sw{{display:inline-block;width:.9em;height:.9em;border-radius:50%;vertical-align:middle}}
pre{{background:#f4f4f4;padding:.6em;font-size:.8em;white-space:pre-wrap}} small{{color:#555}}
@media print{{body{{margin:0;max-width:none}} h2{{break-after:avoid}} .pb{{break-before:page}} *{{-webkit-print-color-adjust:exact;print-color-adjust:exact}}}}
@page{{size:A4;margin:14mm}}
</style></head><body>"#,
        title = esc(&meta.title)
    );
    let _ = write!(h, "<h1>{}</h1><p class=\"lead\">{} — réseau {} (horaires valables du {} au {}).</p>", esc(&meta.title), esc(&meta.when), esc(&meta.network), esc(&meta.validity.0), esc(&meta.validity.1));
    // Key figures.
    let a = &summary.all;
    let within = |s: &TimeSummary, t: u32| s.share_within.iter().find(|x| x.0 == t).map(|x| x.1).unwrap_or(0.0);
    let _ = write!(h, "<h2>Chiffres clés</h2><div class=\"figures\"><div class=\"figure\"><b>{}</b>habitants</div>", fr_int(a.population));
    for t in th {
        let beyond = a.population * (1.0 - within(a, *t));
        let _ = write!(h, "<div class=\"figure\"><b>{}</b>habitants à plus de {t} min ({})</div>", fr_int(beyond), pct(1.0 - within(a, *t)));
    }
    let _ = write!(h, "<div class=\"figure\"><b>{}</b>habitants sans établissement à moins de {} min ({})</div>", fr_int(a.unreachable), summary.max_min, pct(if a.population > 0.0 { a.unreachable / a.population } else { 0.0 }));
    let median = |g: &TimeSummary| match g.median_min {
        Some(m) => format!("{m:.0}"),
        None if g.population > 0.0 => format!("> {}", summary.max_min),
        None => "—".into(),
    };
    let _ = write!(h, "<div class=\"figure\"><b>{}</b>temps médian (min)</div></div>", median(a));
    let _ = write!(h, "<p><small>Temps en transports en commun et à pied jusqu'à l'établissement le plus proche ({}), médiane des départs de la plage horaire, calculé jusqu'à {} minutes : « au-delà de {} min » et « aucun établissement en {} min » sont deux classes distinctes. Population : {}.</small></p>", esc(&meta.destinations_label), summary.max_min, th.last().copied().unwrap_or(0), summary.max_min, esc(&origins_text(areas, rows)));
    // Map and chart.
    let _ = write!(h, "<h2>Carte</h2>{}", map_svg(areas, rows, facilities, th, summary.max_min));
    let groups: Vec<String> = summary.groups.iter().map(|g| g.group.clone()).collect();
    let _ = write!(h, "<h2 class=\"pb\">Part de la population à moins de x minutes, par {}</h2>{}", esc(&meta.group_label), chart_svg(results, &groups, th, summary.max_min));
    // Per area.
    let _ = write!(h, "<h2>Par {}</h2><table><thead><tr><th>{}</th><th>Population</th><th>Temps médian (min)</th>", esc(&meta.group_label), esc(&meta.group_label));
    for t in th {
        let _ = write!(h, "<th>À plus de {t} min</th>");
    }
    let _ = write!(h, "<th>Sans établissement en {} min</th></tr></thead><tbody>", summary.max_min);
    for g in summary.groups.iter().chain(std::iter::once(a)) {
        let name = if g.group == "all" { "Ensemble".to_string() } else { g.group.clone() };
        let _ = write!(h, "<tr class=\"group\"><td>{}</td><td>{}</td><td>{}</td>", esc(&name), fr_int(g.population), median(g));
        for t in th {
            let _ = write!(h, "<td>{} ({})</td>", fr_int(g.population * (1.0 - within(g, *t))), pct(1.0 - within(g, *t)));
        }
        let _ = write!(h, "<td>{}</td></tr>", fr_int(g.unreachable));
    }
    h.push_str("</tbody></table>");
    // Per commune.
    let labels = class_labels(th, summary.max_min);
    let _ = write!(h, "<h2 class=\"pb\">Par commune</h2><table class=\"communes\"><thead><tr><th>Commune</th><th>{}</th><th>Population</th><th>Temps médian (min)</th>", esc(&meta.group_label));
    for t in th {
        let _ = write!(h, "<th>À plus de {t} min</th>");
    }
    h.push_str("<th>Classe (médiane)</th></tr></thead><tbody>");
    let mut sorted: Vec<&AreaRow> = rows.iter().collect();
    sorted.sort_by(|a, b| (a.group.as_str(), a.name.as_str()).cmp(&(b.group.as_str(), b.name.as_str())));
    for r in sorted {
        let c = area_class(r, th);
        let _ = write!(h, "<tr class=\"origin\"><td>{}</td><td class=\"t\">{}</td><td>{}</td><td>{}</td>", esc(&r.name), esc(&r.group), fr_int(r.population), r.median_min.map(|m| format!("{m:.0}")).unwrap_or_else(|| "—".into()));
        for b in &r.beyond {
            let _ = write!(h, "<td>{}</td>", fr_int(b.1));
        }
        let _ = write!(h, "<td class=\"t\"><span class=\"sw\" style=\"background:{}\"></span> {}</td></tr>", class_colour(c, th.len()), esc(&labels[c]));
    }
    h.push_str("</tbody></table>");
    // Sources and parameters.
    h.push_str("<h2 class=\"pb\">Sources et paramètres</h2><table><thead><tr><th>Donnée</th><th>Fichier</th><th>SHA-256</th></tr></thead><tbody>");
    for (what, file, sha) in &meta.sources {
        let _ = write!(h, "<tr><td>{}</td><td class=\"t\">{}</td><td class=\"t\"><code>{}</code></td></tr>", esc(what), esc(file), esc(&sha.chars().take(16).collect::<String>()));
    }
    let _ = write!(h, "</tbody></table><p>Paramètres du calcul :</p><pre>{}</pre><p><small>Rapport produit par terril {} le {}. Temps calculés par RAPTOR sur les horaires GTFS, marche sur le réseau des rues quand il est chargé (sinon en ligne droite × 1,3).</small></p></body></html>", esc(&serde_json::to_string_pretty(&meta.parameters).unwrap_or_default()), env!("CARGO_PKG_VERSION"), esc(&meta.generated));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_keep_beyond_and_unreachable_apart() {
        let th = [30, 45, 60];
        assert_eq!(class(12.0, &th), 0);
        assert_eq!(class(30.0, &th), 0);
        assert_eq!(class(50.0, &th), 2);
        assert_eq!(class(87.5, &th), 3, "beyond the last threshold, within the maximum");
        assert_eq!(class(f64::NAN, &th), 4, "no facility within the maximum");
        assert_ne!(class_colour(3, 3), class_colour(4, 3));
        assert_eq!(class_labels(&th, 120).len(), 5);
        assert_eq!(fr_int(1201615.0), "1\u{202f}201\u{202f}615");
    }
}
