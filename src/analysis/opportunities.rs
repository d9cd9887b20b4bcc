//! Loading origins and opportunities: CSV (lat/lon columns, numeric weight columns),
//! GeoJSON (points, or polygons by their centroid, numeric properties as weights) and
//! INSEE Filosofi grid JSON (`{"c": code, "p": [[lon, lat, pop], ...]}`).
//! Every point also gets a `count` column of 1, so "nearest hospital" needs no weight.

use super::targets::PointSet;
use crate::model::geo::LatLon;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
}

fn bad(path: &Path, message: impl Into<String>) -> LoadError {
    LoadError::Bad { path: path.display().to_string(), message: message.into() }
}

/// Options for reading a point file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Latitude / longitude column names (auto-detected when None).
    pub lat: Option<String>,
    pub lon: Option<String>,
    /// Weight columns to keep (all numeric ones when empty).
    pub weights: Vec<String>,
    /// Column used as label (e.g. a commune name).
    pub label: Option<String>,
    /// Column used as id.
    pub id: Option<String>,
}

/// Reads a point set, choosing the reader by extension; the set is named after the file stem.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<PointSet, LoadError> {
    let name = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let mut set = match ext.as_str() {
        "csv" => load_csv(path, opts)?,
        "geojson" => load_geojson(path, opts)?,
        "json" => load_filosofi(path)?,
        _ => return Err(bad(path, "unknown file type: use .csv, .geojson or Filosofi .json")),
    };
    set.name = name;
    if set.is_empty() {
        return Err(bad(path, "no point with valid coordinates"));
    }
    add_count(&mut set);
    Ok(set)
}

/// The named points of a set as places people type, their kind told by the set's name
/// (communes, hospitals / hôpitaux / santé, jobs / emploi / zones, else a place).
pub fn named_places(set: &PointSet) -> Vec<crate::model::places::NamedPlace> {
    use crate::model::places::{NamedPlace, PlaceKind};
    let n = crate::model::text::normalize(&set.name);
    let kind = if n.contains("commune") {
        PlaceKind::Commune
    } else if n.contains("hospital") || n.contains("hopita") || n.contains("sante") {
        PlaceKind::Hospital
    } else if n.contains("job") || n.contains("emploi") || n.contains("zone") {
        PlaceKind::JobSite
    } else {
        PlaceKind::Poi
    };
    set.labels.iter().zip(&set.points).filter(|(l, _)| !l.trim().is_empty()).map(|(l, p)| NamedPlace { name: l.trim().to_string(), kind, commune: String::new(), coord: *p }).collect()
}

/// Whether a column can be summed as opportunities. Identifiers and codes are numbers but
/// not counts: a column is left out when its name says it is one (postcode, phone, code,
/// id, year, coordinates... as a word of the name), or when a value is written like a
/// code (a leading zero: `06200`, `0321...`) or is negative. `--columns` chooses
/// explicitly.
pub fn is_count_column(name: &str, raw_values: &[&str]) -> Result<(), &'static str> {
    let lower = crate::model::text::normalize(name).replace(' ', "_");
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    const NAMES: &[&str] = &[
        "id", "code", "cp", "postcode", "postal", "zip", "zipcode", "tel", "telephone", "phone", "fax", "finess", "siret", "siren", "insee", "uai", "iris",
        "lat", "lon", "lng", "latitude", "longitude", "x", "y", "year", "annee", "date", "num", "numero", "geo_qual", "qual", "epci", "ze", "ze2020", "fid", "objectid", "gid",
    ];
    if words.iter().any(|w| NAMES.contains(w)) || ["house_number", "code_postal", "geo_qual", "ref_date", "pub_date"].contains(&lower.as_str()) {
        return Err("its name says it is an identifier or code");
    }
    if raw_values.iter().any(|v| v.len() > 1 && v.starts_with('0') && v.as_bytes()[1].is_ascii_digit()) {
        return Err("values written with a leading zero are codes");
    }
    if raw_values.iter().any(|v| v.starts_with('-')) {
        return Err("negative values are not counts");
    }
    Ok(())
}

fn add_count(set: &mut PointSet) {
    if !set.columns.iter().any(|c| c == "count") {
        set.columns.push("count".into());
        set.weights.push(vec![1.0; set.points.len()]);
    }
}

fn find_col(headers: &[String], wanted: &Option<String>, guesses: &[&str]) -> Option<usize> {
    match wanted {
        Some(w) => headers.iter().position(|h| h == w),
        None => guesses.iter().find_map(|g| headers.iter().position(|h| h.eq_ignore_ascii_case(g))),
    }
}

pub fn load_csv(path: &Path, opts: &LoadOptions) -> Result<PointSet, LoadError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(|e| bad(path, e.to_string()))?;
    let headers: Vec<String> = rdr.headers().map_err(|e| bad(path, e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
    let lat = find_col(&headers, &opts.lat, &["lat", "latitude", "y", "stop_lat"]).ok_or_else(|| bad(path, format!("no latitude column (looked for lat, latitude, y); columns are {headers:?}")))?;
    let lon = find_col(&headers, &opts.lon, &["lon", "lng", "longitude", "x", "stop_lon"]).ok_or_else(|| bad(path, format!("no longitude column (looked for lon, lng, longitude, x); columns are {headers:?}")))?;
    let id = find_col(&headers, &opts.id, &["id", "code", "insee"]);
    let label = find_col(&headers, &opts.label, &["name", "nom", "hospital_name", "label"]);
    let rows: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>().map_err(|e| bad(path, e.to_string()))?;
    // Weight columns: those asked for, else every column whose non-empty values are all numbers.
    let candidates: Vec<usize> = if opts.weights.is_empty() {
        (0..headers.len())
            .filter(|&c| c != lat && c != lon && Some(c) != id)
            .filter(|&c| {
                let vals: Vec<&str> = rows.iter().filter_map(|r| r.get(c)).map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
                !vals.is_empty() && vals.iter().all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)) && match is_count_column(&headers[c], &vals) {
                    Ok(()) => true,
                    Err(why) => {
                        tracing::info!("{}: column '{}' is not summed ({why}); name it in --columns to use it", path.display(), headers[c]);
                        false
                    }
                }
            })
            .collect()
    } else {
        opts.weights
            .iter()
            .map(|w| headers.iter().position(|h| h == w).ok_or_else(|| bad(path, format!("no column '{w}'; columns are {headers:?}"))))
            .collect::<Result<_, _>>()?
    };
    let text_cols: Vec<usize> = (0..headers.len()).filter(|&c| c != lat && c != lon).collect();
    let mut set = PointSet { columns: candidates.iter().map(|&c| headers[c].clone()).collect(), weights: vec![Vec::new(); candidates.len()], text: text_cols.iter().map(|&c| (headers[c].trim_start_matches('\u{feff}').to_string(), Vec::new())).collect(), ..Default::default() };
    for (i, r) in rows.iter().enumerate() {
        let parse = |c: usize| r.get(c).and_then(|v| v.trim().parse::<f64>().ok());
        let (Some(la), Some(lo)) = (parse(lat), parse(lon)) else {
            return Err(bad(path, format!("line {}: latitude/longitude are not numbers", i + 2)));
        };
        let p = LatLon::new(la, lo);
        if !p.is_valid() {
            return Err(bad(path, format!("line {}: {la},{lo} is not a valid position", i + 2)));
        }
        set.points.push(p);
        for (k, t) in text_cols.iter().enumerate() {
            set.text[k].1.push(r.get(*t).unwrap_or("").to_string());
        }
        set.ids.push(id.and_then(|c| r.get(c)).map(|s| s.to_string()).unwrap_or_else(|| (i + 1).to_string()));
        set.labels.push(label.and_then(|c| r.get(c)).map(|s| s.to_string()).unwrap_or_default());
        for (k, &c) in candidates.iter().enumerate() {
            set.weights[k].push(parse(c).unwrap_or(0.0));
        }
    }
    Ok(set)
}

/// Area-weighted centroid of a ring list (first ring outer), in degrees.
fn polygon_centroid(rings: &[Vec<Vec<f64>>]) -> Option<LatLon> {
    let ring = rings.first()?;
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for w in ring.windows(2) {
        let (x0, y0, x1, y1) = (w[0][0], w[0][1], w[1][0], w[1][1]);
        let c = x0 * y1 - x1 * y0;
        a += c;
        cx += (x0 + x1) * c;
        cy += (y0 + y1) * c;
    }
    if a.abs() < 1e-15 {
        let n = ring.len() as f64;
        return Some(LatLon::new(ring.iter().map(|p| p[1]).sum::<f64>() / n, ring.iter().map(|p| p[0]).sum::<f64>() / n));
    }
    Some(LatLon::new(cy / (3.0 * a), cx / (3.0 * a)))
}

pub fn load_geojson(path: &Path, opts: &LoadOptions) -> Result<PointSet, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
    let feats = v["features"].as_array().ok_or_else(|| bad(path, "not a GeoJSON FeatureCollection"))?;
    let mut set = PointSet::default();
    let mut cols: Vec<String> = opts.weights.clone();
    if cols.is_empty() {
        for f in feats {
            if let Some(props) = f["properties"].as_object() {
                for (k, val) in props {
                    if val.is_number() && !cols.contains(k) && is_count_column(k, &[val.to_string().as_str()]).is_ok() {
                        cols.push(k.clone());
                    }
                }
            }
        }
        cols.sort();
    }
    set.columns = cols.clone();
    set.weights = vec![Vec::new(); cols.len()];
    for (i, f) in feats.iter().enumerate() {
        let g = &f["geometry"];
        let p = match g["type"].as_str() {
            Some("Point") => g["coordinates"].as_array().and_then(|c| Some(LatLon::new(c.get(1)?.as_f64()?, c.first()?.as_f64()?))),
            Some("Polygon") => serde_json::from_value::<Vec<Vec<Vec<f64>>>>(g["coordinates"].clone()).ok().and_then(|r| polygon_centroid(&r)),
            Some("MultiPolygon") => serde_json::from_value::<Vec<Vec<Vec<Vec<f64>>>>>(g["coordinates"].clone()).ok().and_then(|mp| {
                // Centroid of the largest part.
                mp.into_iter().max_by_key(|r| r.first().map(|x| x.len()).unwrap_or(0)).and_then(|r| polygon_centroid(&r))
            }),
            _ => None,
        };
        let Some(p) = p.filter(|p| p.is_valid()) else {
            return Err(bad(path, format!("feature {i}: geometry is not a Point, Polygon or MultiPolygon with valid coordinates")));
        };
        let props = &f["properties"];
        set.points.push(p);
        if let Some(obj) = props.as_object() {
            for k in obj.keys() {
                if !set.text.iter().any(|t| &t.0 == k) {
                    set.text.push((k.clone(), vec![String::new(); set.points.len() - 1]));
                }
            }
        }
        for (k, col) in set.text.iter_mut() {
            col.push(match &props[k.as_str()] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            });
        }
        let id = opts.id.as_deref().map(|k| props[k].clone()).or_else(|| ["insee", "id", "code", "code_siren"].iter().map(|k| props[*k].clone()).find(|x| !x.is_null()));
        set.ids.push(id.map(|x| x.as_str().map(|s| s.to_string()).unwrap_or_else(|| x.to_string())).unwrap_or_else(|| (i + 1).to_string()));
        let label = opts.label.as_deref().map(|k| props[k].clone()).or_else(|| ["nom", "name", "label"].iter().map(|k| props[*k].clone()).find(|x| !x.is_null()));
        set.labels.push(label.and_then(|x| x.as_str().map(|s| s.to_string())).unwrap_or_default());
        for (k, c) in cols.iter().enumerate() {
            set.weights[k].push(props[c].as_f64().unwrap_or(0.0));
        }
    }
    Ok(set)
}

pub fn load_filosofi(path: &Path) -> Result<PointSet, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
    let pts = v["p"].as_array().ok_or_else(|| bad(path, "not a Filosofi grid file (expected {\"p\": [[lon, lat, pop], ...]})"))?;
    let code = v["c"].as_str().map(|s| s.to_string()).or_else(|| v["c"].as_i64().map(|x| x.to_string())).unwrap_or_default();
    let mut set = PointSet { columns: vec!["population".into()], weights: vec![Vec::new()], ..Default::default() };
    for (i, p) in pts.iter().enumerate() {
        let a = p.as_array().filter(|a| a.len() >= 3).ok_or_else(|| bad(path, format!("point {i}: expected [lon, lat, pop]")))?;
        let (Some(lon), Some(lat), Some(pop)) = (a[0].as_f64(), a[1].as_f64(), a[2].as_f64()) else {
            return Err(bad(path, format!("point {i}: expected numbers")));
        };
        set.points.push(LatLon::new(lat, lon));
        set.ids.push(format!("{code}-{i}"));
        set.labels.push(code.clone());
        set.weights[0].push(pop);
    }
    Ok(set)
}

#[cfg(test)]
mod count_column_tests {
    use super::is_count_column;

    /// name | values -> summed?
    #[test]
    fn identifiers_and_codes_are_never_summed() {
        for (name, vals, ok) in [
            ("population", &["120", "0", "35.5"][..], true),
            ("jobs", &["10"][..], true),
            ("cap_beds", &["300"][..], true),
            ("postcode", &["59490"][..], false),
            ("code_postal", &["62300"][..], false),
            ("tel", &["327930909"][..], false),
            ("Téléphone", &["0321000000"][..], false),
            ("id", &["590000014"][..], false),
            ("finess_et", &["590000014"][..], false),
            ("house_number", &["61"][..], false),
            ("zone", &["06200", "59000"][..], false),
            ("delta", &["-3", "4"][..], false),
        ] {
            assert_eq!(is_count_column(name, vals).is_ok(), ok, "{name}");
        }
    }
}
