//! `terril fetch`: official open data for the basin, downloaded safely.
//!
//! GTFS datasets are resolved through the national access point's API
//! (transport.data.gouv.fr), as its server really answers:
//!
//! - `GET /api/datasets` is fetched **once per run**: a plain JSON array of datasets
//!   (`id` = `datagouv_id`, `slug`, `title`, `licence`, `resources`). A source names its
//!   dataset by data.gouv.fr id (what `GET /api/datasets/{id}` takes; a slug there answers
//!   404), by id or slug within the list, or by a search over slugs and titles.
//! - A dataset's `resources` include **community resources** (they carry
//!   `community_resource_publisher`): only the publisher's resources are taken, of format
//!   `GTFS`, not marked unavailable; when their metadata gives validity dates, those that
//!   cover today are preferred. Every such resource of a multi-file dataset is downloaded
//!   (one feed each, with its own namespace).
//!
//! Downloads go to `NAME.part`, with the server's validator (ETag, else Last-Modified)
//! kept beside it in `NAME.part.meta`. A retry sends `Range` with `If-Range`: a `206`
//! whose range starts where the part ends is appended; a `200` (the file changed) restarts
//! it; a `416` counts as complete only when `Content-Range: bytes */N` equals the part's
//! size. A part without a validator is never resumed (two versions could be spliced).
//! A complete part is checked (a zip that holds stops.txt; a PBF that starts with an
//! OSMHeader block and matches Geofabrik's `.md5`; a pinned sha256 when given) and only
//! then renamed into place: nothing half-written or unchecked ever replaces a file.
//! `feeds/sources.lock` records dataset and resource ids, URL, size, sha256, date and the
//! SPDX licence of each file.

use crate::build::sha256_file;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Sources {
    #[serde(default = "default_api")]
    pub api: String,
    #[serde(default)]
    pub gtfs: Vec<GtfsSource>,
    pub osm: Option<OsmSource>,
    /// National address base files (BAN), one per département.
    #[serde(default)]
    pub addresses: Vec<AddressSource>,
    /// INSEE Filosofi 200 m population cells.
    #[serde(default)]
    pub population: Vec<PopulationSource>,
}

/// INSEE's Filosofi 200 m carreaux (the national zip of CSV), saved as `osm/NAME.zip` and
/// converted into `osm/filosofi-200m/<commune>.json` for the départements listed: where
/// the health report places the communes' inhabitants.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PopulationSource {
    pub name: String,
    pub url: String,
    pub sha256: Option<String>,
    /// Département codes kept ("59", "62").
    pub departements: Vec<String>,
    /// The survey's year, written in each commune's file.
    pub year: u32,
}

/// The folder of per-commune Filosofi files `terril fetch` writes beside the extract.
pub const POPULATION_DIR: &str = "filosofi-200m";

/// A BAN per-département address file (`adresses-62.csv.gz` of adresse.data.gouv.fr),
/// saved as `osm/NAME.csv.gz` and read by the build for "12 rue de la Gare" searches.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AddressSource {
    pub name: String,
    pub url: String,
    pub sha256: Option<String>,
}

fn default_api() -> String {
    "https://transport.data.gouv.fr/api".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct GtfsSource {
    /// File stem and feed namespace (`tadao` -> `feeds/tadao.zip`, ids `tadao:...`).
    pub name: String,
    /// data.gouv.fr dataset id (preferred), or the access point's id or slug.
    pub dataset: Option<String>,
    /// Words matched against slugs and titles when no id is known.
    pub search: Option<String>,
    /// Pins the exact file (single-resource datasets only).
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OsmSource {
    pub name: String,
    pub url: String,
    /// MIN_LAT,MIN_LON,MAX_LAT,MAX_LON kept by the build (streets and stops).
    pub crop: Option<String>,
    pub sha256: Option<String>,
    /// Check the extract against `URL.md5` (Geofabrik publishes one beside each file).
    #[serde(default = "yes")]
    pub md5: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockEntry {
    /// File stem = feed namespace.
    pub name: String,
    pub kind: String,
    /// data.gouv.fr dataset id (or `geofabrik`).
    pub dataset: String,
    #[serde(default)]
    pub dataset_title: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub resource_title: String,
    pub url: String,
    /// File name inside feeds/ or osm/.
    pub file: String,
    pub date: String,
    pub size: u64,
    pub sha256: String,
    /// SPDX licence id (`ODbL-1.0`, `etalab-2.0`...).
    pub licence: String,
    /// `updated` of the resource as the API gave it.
    #[serde(default)]
    pub updated: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Lock {
    #[serde(default)]
    pub file: Vec<LockEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{path}: {message}")]
    Config { path: String, message: String },
    #[error("cannot reach {url}: {message}. Check the internet connection (or proxy), then run `terril fetch bassin-minier` again; downloads resume where they stopped. Or put GTFS zips in feeds/ and an .osm.pbf in osm/ by hand.")]
    Network { url: String, message: String },
    #[error("{url} answered HTTP {status}. The dataset may have moved: check feeds/sources.toml.")]
    Http { url: String, status: u16 },
    #[error("{what}: {message}")]
    Api { what: String, message: String },
    #[error("{file}: downloaded file is not valid ({message}); it was removed, run the fetch again.")]
    Invalid { file: String, message: String },
    #[error("{file}: {algo} {got} differs from the expected {expected}; the file was removed, run the fetch again.")]
    Checksum { file: String, algo: &'static str, expected: String, got: String },
    #[error("{0}")]
    Io(String),
    #[error("{} of {} downloads failed:\n  {}", .0.len(), .1, .0.join("\n  "))]
    Several(Vec<String>, usize),
}

pub fn load_sources(path: &Path) -> Result<Sources, FetchError> {
    let cfg = |message: String| FetchError::Config { path: path.display().to_string(), message };
    let text = std::fs::read_to_string(path).map_err(|e| cfg(e.to_string()))?;
    let s: Sources = toml::from_str(&text).map_err(|e| cfg(e.to_string()))?;
    let mut names = std::collections::HashSet::new();
    for g in &s.gtfs {
        if g.dataset.is_none() && g.search.is_none() {
            return Err(cfg(format!("[[gtfs]] '{}' needs `dataset` (a data.gouv.fr id) or `search`", g.name)));
        }
        if !valid_name(&g.name) {
            return Err(cfg(format!("[[gtfs]] name '{}': use lower-case letters, digits, '-' and '_' only, starting with a letter, and no all-digit part after a '-' (it would read as a date)", g.name)));
        }
        if !names.insert(g.name.clone()) {
            return Err(cfg(format!("[[gtfs]] name '{}' is used twice", g.name)));
        }
    }
    if let Some(c) = s.osm.as_ref().and_then(|o| o.crop.as_deref()) {
        parse_crop(c).map_err(cfg)?;
    }
    Ok(s)
}

/// A name that is its own feed namespace (see `ingest::gtfs::namespace_for`).
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && crate::ingest::gtfs::namespace_for(Path::new(&format!("{name}.zip"))) == name
}

/// The `crop` of an `[osm]` source.
pub fn parse_crop(s: &str) -> Result<crate::model::geo::BBox, String> {
    crate::model::geo::BBox::parse(s).map_err(|e| format!("crop: {e}"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_recv_body(Some(Duration::from_secs(3600)))
        .http_status_as_error(false)
        .user_agent(concat!("terril/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<Value, FetchError> {
    let resp = agent.get(url).header("Accept", "application/json").call().map_err(|e| FetchError::Network { url: url.into(), message: e.to_string() })?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(FetchError::Http { url: url.into(), status });
    }
    let text = resp.into_body().into_with_config().limit(512 << 20).read_to_string().map_err(|e| FetchError::Network { url: url.into(), message: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| FetchError::Api { what: url.into(), message: format!("not JSON: {e}") })
}

fn fold(s: &str) -> String {
    crate::model::text::normalize(s).replace(' ', "-")
}

/// SPDX id of a data.gouv.fr licence code.
pub fn spdx_licence(code: &str) -> String {
    match code.trim().to_ascii_lowercase().as_str() {
        "odc-odbl" | "odbl" => "ODbL-1.0".into(),
        "lov2" | "etalab-2.0" | "licence-ouverte-v2" => "etalab-2.0".into(),
        "fr-lo" => "LicenseRef-Licence-Ouverte-1.0".into(),
        "cc-by" => "CC-BY-4.0".into(),
        "cc-by-sa" => "CC-BY-SA-4.0".into(),
        "cc-zero" => "CC0-1.0".into(),
        "odc-by" => "ODC-By-1.0".into(),
        "odc-pddl" => "PDDL-1.0".into(),
        "mobility-licence" => "LicenseRef-mobility-licence".into(),
        "" | "notspecified" | "unknown" => "NOASSERTION".into(),
        other => format!("LicenseRef-{}", other.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-', "-")),
    }
}

/// One file a fetch downloads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedFile {
    pub name: String,
    pub kind: &'static str,
    pub dataset: String,
    pub dataset_title: String,
    pub resource: String,
    pub resource_title: String,
    pub url: String,
    /// Bytes, when the API states them (`filesize`).
    pub filesize: Option<u64>,
    pub licence: String,
    pub updated: String,
    pub valid_from: String,
    pub valid_to: String,
    pub sha256: Option<String>,
    /// Check against `url.md5`.
    pub md5: bool,
    pub dest: PathBuf,
}

/// The access point's dataset list, fetched once per run.
pub struct Catalogue {
    api: String,
    agent: ureq::Agent,
    datasets: Vec<Value>,
}

impl Catalogue {
    pub fn fetch(api: &str) -> Result<Catalogue, FetchError> {
        let agent = agent();
        let all = get_json(&agent, &format!("{api}/datasets"))?;
        // The API answers a plain array; older versions wrapped it in {"data": [...]}.
        let datasets = match all {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("data") {
                Some(Value::Array(a)) => a,
                _ => return Err(FetchError::Api { what: format!("{api}/datasets"), message: "expected a JSON array of datasets".into() }),
            },
            _ => return Err(FetchError::Api { what: format!("{api}/datasets"), message: "expected a JSON array of datasets".into() }),
        };
        Ok(Catalogue { api: api.to_string(), agent, datasets })
    }

    /// The dataset a source names.
    fn find(&self, src: &GtfsSource) -> Result<Value, FetchError> {
        let what = format!("[[gtfs]] '{}'", src.name);
        if let Some(key) = &src.dataset {
            let hit = self.datasets.iter().find(|d| [&d["datagouv_id"], &d["id"], &d["slug"]].iter().any(|v| v.as_str() == Some(key.as_str())));
            if let Some(d) = hit {
                return Ok(d.clone());
            }
            // Not in the list (the list may be filtered by type): ask by data.gouv.fr id,
            // which is all `GET /api/datasets/{id}` accepts.
            if key.len() == 24 && key.chars().all(|c| c.is_ascii_hexdigit()) {
                return get_json(&self.agent, &format!("{}/datasets/{key}", self.api)).map_err(|e| match e {
                    FetchError::Http { status: 404, .. } => FetchError::Api { what, message: format!("dataset {key} is not known to the access point (404). Datasets are replaced from time to time: find the network on transport.data.gouv.fr and put its data.gouv.fr id in feeds/sources.toml") },
                    e => e,
                });
            }
            return Err(FetchError::Api { what, message: format!("no dataset has the id or slug '{key}' in {}/datasets; put the dataset's data.gouv.fr id in feeds/sources.toml", self.api) });
        }
        let q = fold(src.search.as_deref().unwrap_or_default());
        let mut hits: Vec<&Value> = self
            .datasets
            .iter()
            .filter(|d| [d["slug"].as_str(), d["title"].as_str()].iter().flatten().any(|s| fold(s).contains(&q)))
            .filter(|d| !publisher_gtfs(d).is_empty())
            .collect();
        hits.sort_by(|a, b| a["slug"].as_str().cmp(&b["slug"].as_str()));
        match hits.as_slice() {
            [] => Err(FetchError::Api { what, message: format!("no dataset with a GTFS resource of its publisher matches '{q}'; set `dataset` (a data.gouv.fr id) in feeds/sources.toml") }),
            [one] => Ok((*one).clone()),
            many => {
                let names: Vec<String> = many.iter().map(|d| format!("{} ({})", d["slug"].as_str().unwrap_or("?"), d["id"].as_str().unwrap_or("?"))).collect();
                tracing::warn!("{what}: '{q}' matches {} datasets ({}); taking the first, set `dataset` to choose", many.len(), names.join(", "));
                Ok(many[0].clone())
            }
        }
    }
}

/// The publisher's GTFS resources of a dataset that are not marked unavailable.
fn publisher_gtfs(d: &Value) -> Vec<&Value> {
    d["resources"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|x| x["format"].as_str().is_some_and(|f| f.eq_ignore_ascii_case("gtfs")))
                .filter(|x| x["community_resource_publisher"].is_null())
                .filter(|x| x["is_available"].as_bool() != Some(false))
                .filter(|x| x["url"].as_str().or(x["original_url"].as_str()).is_some())
                .collect()
        })
        .unwrap_or_default()
}

/// Validity dates of a resource, from `metadata` or the `*_calendar_validity` fields.
fn validity(r: &Value) -> (String, String) {
    let pick = |a: &str, b: &str| r["metadata"][a].as_str().or(r[b].as_str()).map(|s| s.chars().take(10).collect()).unwrap_or_default();
    (pick("start_date", "start_calendar_validity"), pick("end_date", "end_calendar_validity"))
}

fn slug(s: &str) -> String {
    let f = crate::model::text::normalize(s);
    let mut out = String::new();
    for c in f.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(40).collect::<String>().trim_end_matches('-').to_string()
}

/// Chooses the resources to download from a dataset (publisher's, GTFS, available;
/// those valid today when the metadata says so) and names one feed per resource.
pub fn select_resources(src: &GtfsSource, d: &Value, today: &str, feeds_dir: &Path) -> Result<Vec<PlannedFile>, FetchError> {
    let id = d["datagouv_id"].as_str().or(d["id"].as_str()).unwrap_or("?").to_string();
    let mut res = publisher_gtfs(d);
    if res.is_empty() {
        let community = d["resources"].as_array().map(|r| r.iter().filter(|x| !x["community_resource_publisher"].is_null()).count()).unwrap_or(0);
        return Err(FetchError::Api {
            what: format!("dataset {id} ({})", d["title"].as_str().unwrap_or("")),
            message: format!("no available GTFS resource of its publisher{}", if community > 0 { format!(" ({community} community resources ignored)") } else { String::new() }),
        });
    }
    // Prefer what covers today when the metadata says so.
    let covers = |r: &&Value| {
        let (a, b) = validity(r);
        !a.is_empty() && !b.is_empty() && a.as_str() <= today && today <= b.as_str()
    };
    let known = |r: &&Value| !validity(r).0.is_empty() && !validity(r).1.is_empty();
    if res.iter().any(covers) {
        res.retain(|r| covers(r) || !known(r));
    }
    let licence = spdx_licence(d["licence"].as_str().unwrap_or(""));
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (k, r) in res.iter().enumerate() {
        let name = if res.len() == 1 {
            src.name.clone()
        } else {
            let s = slug(r["title"].as_str().unwrap_or(""));
            let mut n = format!("{}_{}", src.name, s);
            if s.is_empty() || !valid_name(&n) || names.contains(&n) {
                n = format!("{}_r{}", src.name, k + 1);
            }
            n
        };
        names.push(name.clone());
        let (valid_from, valid_to) = validity(r);
        out.push(PlannedFile {
            dest: feeds_dir.join(format!("{name}.zip")),
            name,
            kind: "gtfs",
            dataset: id.clone(),
            dataset_title: d["title"].as_str().unwrap_or("").to_string(),
            resource: r["datagouv_id"].as_str().or(r["id"].as_str()).map(String::from).or_else(|| r["id"].as_u64().map(|v| v.to_string())).unwrap_or_default(),
            resource_title: r["title"].as_str().unwrap_or("").to_string(),
            url: r["url"].as_str().or(r["original_url"].as_str()).unwrap_or_default().to_string(),
            filesize: r["filesize"].as_u64(),
            licence: licence.clone(),
            updated: r["updated"].as_str().unwrap_or("").to_string(),
            valid_from,
            valid_to,
            sha256: if res.len() == 1 { src.sha256.clone() } else { None },
            md5: false,
        });
    }
    Ok(out)
}

/// What a fetch downloads: every GTFS resource of every source, then the extract.
/// One `GET /api/datasets` for the whole run.
pub fn plan(sources: &Sources, feeds_dir: &Path, osm_dir: &Path) -> Result<(Vec<PlannedFile>, Vec<FetchError>), FetchError> {
    let mut out = Vec::new();
    let mut failed = Vec::new();
    if !sources.gtfs.is_empty() {
        let cat = Catalogue::fetch(&sources.api)?;
        let today = jiff::Zoned::now().date().to_string();
        for g in &sources.gtfs {
            match cat.find(g).and_then(|d| select_resources(g, &d, &today, feeds_dir)) {
                Ok(v) => out.extend(v),
                Err(e) => failed.push(e),
            }
        }
    }
    if let Some(o) = &sources.osm {
        out.push(PlannedFile {
            name: o.name.clone(),
            kind: "osm",
            dataset: "geofabrik".into(),
            dataset_title: "OpenStreetMap extract (Geofabrik)".into(),
            resource: String::new(),
            resource_title: o.url.rsplit('/').next().unwrap_or("").to_string(),
            url: o.url.clone(),
            filesize: None,
            licence: "ODbL-1.0".into(),
            updated: String::new(),
            valid_from: String::new(),
            valid_to: String::new(),
            sha256: o.sha256.clone(),
            md5: o.md5,
            dest: osm_dir.join(format!("{}.osm.pbf", o.name)),
        });
    }
    for pop in &sources.population {
        out.push(PlannedFile {
            name: pop.name.clone(),
            kind: "population",
            dataset: "insee-filosofi".into(),
            dataset_title: format!("INSEE Filosofi {} carroyé à 200 m (insee.fr)", pop.year),
            resource: String::new(),
            resource_title: pop.url.rsplit('/').next().unwrap_or("").to_string(),
            url: pop.url.clone(),
            filesize: None,
            licence: "etalab-2.0".into(),
            updated: String::new(),
            valid_from: String::new(),
            valid_to: String::new(),
            sha256: pop.sha256.clone(),
            md5: false,
            dest: osm_dir.join(format!("{}.zip", pop.name)),
        });
    }
    for a in &sources.addresses {
        out.push(PlannedFile {
            name: a.name.clone(),
            kind: "addresses",
            dataset: "ban".into(),
            dataset_title: "Base Adresse Nationale (adresse.data.gouv.fr)".into(),
            resource: String::new(),
            resource_title: a.url.rsplit('/').next().unwrap_or("").to_string(),
            url: a.url.clone(),
            filesize: None,
            licence: "etalab-2.0".into(),
            updated: String::new(),
            valid_from: String::new(),
            valid_to: String::new(),
            sha256: a.sha256.clone(),
            md5: false,
            dest: osm_dir.join(format!("{}.csv.gz", a.name)),
        });
    }
    Ok((out, failed))
}

fn part_paths(dest: &Path) -> (PathBuf, PathBuf) {
    let name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    (dest.with_file_name(format!("{name}.part")), dest.with_file_name(format!("{name}.part.meta")))
}

/// What is kept beside a `.part` file: the URL and the validator of the bytes it holds.
#[derive(Debug, Serialize, Deserialize)]
struct PartMeta {
    url: String,
    validator: String,
}

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from)
}

/// `bytes A-B/T` or `bytes */T` -> (Some(A), T).
fn content_range(v: &str) -> Option<(Option<u64>, Option<u64>)> {
    let v = v.trim().strip_prefix("bytes")?.trim();
    let (range, total) = v.split_once('/')?;
    let start = if range.trim() == "*" { None } else { Some(range.split('-').next()?.trim().parse().ok()?) };
    Some((start, total.trim().parse().ok()))
}

fn remove_part(dest: &Path) {
    let (part, meta) = part_paths(dest);
    let _ = std::fs::remove_file(part);
    let _ = std::fs::remove_file(meta);
}

fn io_err(p: &Path, e: std::io::Error) -> FetchError {
    FetchError::Io(format!("{}: {e}", p.display()))
}

/// Downloads `url` into `dest.part`, resuming a previous partial download only when the
/// server confirms (If-Range) that the file has not changed. Returns the complete part's
/// path; the caller checks it and renames it into place.
pub fn download(url: &str, dest: &Path, progress: &indicatif::ProgressBar) -> Result<PathBuf, FetchError> {
    Ok(download_if_changed(url, dest, progress, None)?.expect("no validator given, so never 'not modified'").0)
}

/// [`download`], asking the server to answer 304 Not Modified when the file still has the
/// validator `known` (an ETag, or a Last-Modified date). Returns None when unchanged, else
/// the part and the new file's validator.
pub fn download_if_changed(url: &str, dest: &Path, progress: &indicatif::ProgressBar, known: Option<&str>) -> Result<Option<(PathBuf, Option<String>)>, FetchError> {
    let agent = agent();
    let (part, meta_path) = part_paths(dest);
    // Resume only a part of the same URL with a validator.
    let meta: Option<PartMeta> = std::fs::read(&meta_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let validator = match meta {
        Some(m) if m.url == url && have > 0 => Some(m.validator),
        _ => {
            remove_part(dest);
            have = 0;
            None
        }
    };
    for attempt in 0..2 {
        let mut req = agent.get(url);
        if let (Some(v), true) = (&validator, have > 0 && attempt == 0) {
            req = req.header("Range", &format!("bytes={have}-")).header("If-Range", v);
        } else if let Some(k) = known {
            req = if k.starts_with('"') { req.header("If-None-Match", k) } else { req.header("If-Modified-Since", k) };
        }
        let resp = req.call().map_err(|e| FetchError::Network { url: url.into(), message: e.to_string() })?;
        let status = resp.status().as_u16();
        if status == 304 && known.is_some() {
            return Ok(None);
        }
        let cr = header(&resp, "content-range").and_then(|v| content_range(&v));
        let (append, total) = match status {
            206 if attempt == 0 && have > 0 && cr.is_some_and(|(s, _)| s == Some(have)) => (true, cr.and_then(|c| c.1)),
            206 => {
                // A range we did not ask for, or not where the part ends: start again.
                remove_part(dest);
                have = 0;
                continue;
            }
            200 => (false, header(&resp, "content-length").and_then(|v| v.parse::<u64>().ok())),
            416 if have > 0 && cr.and_then(|c| c.1) == Some(have) => {
                // The part already holds the whole (unchanged) file.
                return Ok(Some((part, validator)));
            }
            416 => {
                remove_part(dest);
                have = 0;
                continue;
            }
            s => return Err(FetchError::Http { url: url.into(), status: s }),
        };
        if !append {
            // A new file (or a changed one): record its validator before any byte lands.
            let v = header(&resp, "etag").filter(|e| !e.starts_with("W/")).or_else(|| header(&resp, "last-modified"));
            let _ = std::fs::remove_file(&meta_path);
            if let Some(v) = v {
                let m = serde_json::to_vec(&PartMeta { url: url.into(), validator: v }).map_err(|e| FetchError::Io(e.to_string()))?;
                std::fs::write(&meta_path, m).map_err(|e| io_err(&meta_path, e))?;
            }
        }
        if let Some(t) = total {
            progress.set_length(t);
        }
        let mut f = std::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(&part).map_err(|e| io_err(&part, e))?;
        let mut written = if append { have } else { 0 };
        progress.set_position(written);
        let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = f.flush();
                    return Err(FetchError::Network { url: url.into(), message: format!("connection lost after {written} bytes ({e})") });
                }
            };
            f.write_all(&buf[..n]).map_err(|e| io_err(&part, e))?;
            written += n as u64;
            progress.set_position(written);
        }
        f.sync_all().map_err(|e| io_err(&part, e))?;
        if let Some(t) = total {
            if written < t {
                return Err(FetchError::Network { url: url.into(), message: format!("connection closed after {written} of {t} bytes") });
            }
        }
        let v = std::fs::read(&meta_path).ok().and_then(|b| serde_json::from_slice::<PartMeta>(&b).ok()).map(|m| m.validator);
        return Ok(Some((part, v)));
    }
    Err(FetchError::Network { url: url.into(), message: "the server did not answer a consistent range twice".into() })
}

/// A zip that opens and holds stops.txt (in any folder).
pub fn check_gtfs_zip(path: &Path) -> Result<(), String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let z = zip::ZipArchive::new(f).map_err(|e| format!("not a zip: {e}"))?;
    if !z.file_names().any(|n| n.rsplit('/').next() == Some("stops.txt") && !n.contains("__MACOSX")) {
        return Err("no stops.txt in the zip".into());
    }
    Ok(())
}

/// A PBF whose first blob header is an OSMHeader.
pub fn check_pbf(path: &Path) -> Result<(), String> {
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let n = f.read(&mut head).map_err(|e| e.to_string())?;
    if n < 4 {
        return Err("not an OpenStreetMap PBF (file too short)".into());
    }
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if n < 4 + len.min(60) || len > 64 * 1024 || !head[4..n].windows(9).any(|w| w == b"OSMHeader") {
        return Err("not an OpenStreetMap PBF (no OSMHeader block at the start)".into());
    }
    Ok(())
}

fn md5_file(path: &Path) -> std::io::Result<String> {
    use md5::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = md5::Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// A zip holding a CSV whose header names INSEE's carreaux columns.
pub fn check_carreaux(path: &Path) -> Result<(), String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| format!("not a zip: {e}"))?;
    let name = (0..z.len()).filter_map(|i| z.by_index(i).ok().map(|f| f.name().to_string())).find(|n| n.to_ascii_lowercase().ends_with(".csv")).ok_or("no CSV in the zip")?;
    let mut head = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(z.by_name(&name).map_err(|e| e.to_string())?), &mut head).map_err(|e| e.to_string())?;
    let h = head.to_ascii_lowercase();
    match ["idcar_200m", "ind", "lcog_geo"].iter().find(|c| !h.contains(*c)) {
        None => Ok(()),
        Some(c) => Err(format!("not INSEE's carreaux file (no column '{c}' in {name})")),
    }
}

/// A gzipped (or plain) semicolon-separated file whose header names the BAN columns.
pub fn check_ban(path: &Path) -> Result<(), String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut head = String::new();
    let mut gz = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
    let first = std::io::BufRead::read_line(&mut gz, &mut head);
    if first.is_err() {
        head.clear();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(std::fs::File::open(path).map_err(|e| e.to_string())?), &mut head).map_err(|e| e.to_string())?;
    }
    let cols: Vec<&str> = head.trim_end().split(';').collect();
    match ["numero", "nom_voie", "nom_commune", "lon", "lat"].iter().find(|c| !cols.contains(c)) {
        None => Ok(()),
        Some(c) => Err(format!("not a BAN address file (no column '{c}' in the first line)")),
    }
}

/// The md5 published at `url.md5` (`HASH  FILENAME`), or None when there is none.
fn published_md5(url: &str) -> Result<Option<String>, FetchError> {
    let md5_url = format!("{url}.md5");
    let resp = agent().get(&md5_url).call().map_err(|e| FetchError::Network { url: md5_url.clone(), message: e.to_string() })?;
    match resp.status().as_u16() {
        200 => {
            let text = resp.into_body().into_with_config().limit(4096).read_to_string().map_err(|e| FetchError::Network { url: md5_url.clone(), message: e.to_string() })?;
            let h = text.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
            if h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()) {
                Ok(Some(h))
            } else {
                Err(FetchError::Api { what: md5_url, message: "not an md5 file".into() })
            }
        }
        404 => Ok(None),
        s => Err(FetchError::Http { url: md5_url, status: s }),
    }
}

/// Checks a complete part; on failure the part is removed (the next run starts afresh).
fn verify(part: &Path, dest: &Path, pf: &PlannedFile, md5: Option<&str>) -> Result<(u64, String), FetchError> {
    let fail = |message: String| {
        remove_part(dest);
        FetchError::Invalid { file: dest.display().to_string(), message }
    };
    let check = match pf.kind {
        "osm" => check_pbf,
        "addresses" => check_ban,
        "population" => check_carreaux,
        _ => check_gtfs_zip,
    };
    check(part).map_err(fail)?;
    if let Some(expected) = md5 {
        let got = md5_file(part).map_err(|e| io_err(part, e))?;
        if got != expected {
            remove_part(dest);
            return Err(FetchError::Checksum { file: dest.display().to_string(), algo: "md5", expected: expected.into(), got });
        }
    }
    let (size, sha) = sha256_file(part).map_err(|e| io_err(part, e))?;
    if let Some(p) = &pf.sha256 {
        if !p.eq_ignore_ascii_case(&sha) {
            remove_part(dest);
            return Err(FetchError::Checksum { file: dest.display().to_string(), algo: "sha256", expected: p.clone(), got: sha });
        }
    }
    Ok((size, sha))
}

fn bar(enabled: bool, msg: &str) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(indicatif::ProgressStyle::with_template("{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}").unwrap().progress_chars("=> "));
    b.set_message(msg.to_string());
    b
}

pub fn read_lock(feeds_dir: &Path) -> Lock {
    std::fs::read_to_string(feeds_dir.join("sources.lock")).ok().and_then(|t| toml::from_str(&t).ok()).unwrap_or_default()
}

/// Fetches one planned file (or keeps the file in place when it is provably the same).
fn fetch_one(pf: &PlannedFile, previous: &Lock, now: &str, progress: bool) -> Result<(LockEntry, bool), FetchError> {
    let file = pf.dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let md5 = if pf.md5 { published_md5(&pf.url)? } else { None };
    let entry = |size: u64, sha256: String| LockEntry {
        name: pf.name.clone(),
        kind: pf.kind.into(),
        dataset: pf.dataset.clone(),
        dataset_title: pf.dataset_title.clone(),
        resource: pf.resource.clone(),
        resource_title: pf.resource_title.clone(),
        url: pf.url.clone(),
        file: file.clone(),
        date: now.into(),
        size,
        sha256,
        licence: pf.licence.clone(),
        updated: pf.updated.clone(),
        valid_from: pf.valid_from.clone(),
        valid_to: pf.valid_to.clone(),
    };
    // Unchanged: the extract matches the published md5, or the feed is the one the lock
    // recorded for the same resource and `updated`.
    if pf.dest.is_file() {
        let same = match (&md5, previous.file.iter().find(|e| e.file == file && e.kind == pf.kind)) {
            (Some(m), _) => md5_file(&pf.dest).ok().as_deref() == Some(m.as_str()),
            (None, Some(e)) => pf.kind == "gtfs" && e.url == pf.url && e.updated == pf.updated && !pf.updated.is_empty(),
            _ => false,
        };
        if same {
            let (size, sha) = sha256_file(&pf.dest).map_err(|e| io_err(&pf.dest, e))?;
            let recorded = previous.file.iter().find(|e| e.file == file);
            if pf.sha256.as_ref().is_none_or(|p| p.eq_ignore_ascii_case(&sha)) && (md5.is_some() || recorded.is_some_and(|e| e.sha256 == sha)) {
                let mut e = entry(size, sha);
                e.date = recorded.filter(|r| r.sha256 == e.sha256).map(|r| r.date.clone()).unwrap_or(e.date);
                return Ok((e, false));
            }
        }
    }
    // Address files have no published checksum: the server's validator (ETag or
    // Last-Modified), recorded in the lock, asks it whether the file changed (304).
    let recorded = previous.file.iter().find(|e| e.file == file && e.kind == pf.kind && e.url == pf.url && !e.updated.is_empty());
    let known = match recorded {
        Some(e) if revalidated(pf.kind) && pf.dest.is_file() && sha256_file(&pf.dest).is_ok_and(|(_, sha)| sha == e.sha256) => Some(e.updated.as_str()),
        _ => None,
    };
    let b = bar(progress, &pf.name);
    let got = download_if_changed(&pf.url, &pf.dest, &b, known);
    b.finish_and_clear();
    let Some((part, validator)) = got? else {
        let e = recorded.expect("a validator was sent").clone();
        return Ok((e, false));
    };
    let (size, sha) = verify(&part, &pf.dest, pf, md5.as_deref())?;
    std::fs::rename(&part, &pf.dest).map_err(|e| io_err(&pf.dest, e))?;
    let (_, meta) = part_paths(&pf.dest);
    let _ = std::fs::remove_file(meta);
    let mut e = entry(size, sha);
    if revalidated(pf.kind) {
        e.updated = validator.unwrap_or_default();
    }
    Ok((e, true))
}

/// Files with no published checksum (addresses, population cells): asked again with the
/// server's validator (ETag or Last-Modified), 304 when unchanged.
fn revalidated(kind: &str) -> bool {
    kind == "addresses" || kind == "population"
}

/// What a fetch did.
#[derive(Debug, Default)]
pub struct FetchReport {
    /// Every file now recorded in the lock.
    pub entries: Vec<LockEntry>,
    /// Names of the files downloaded this run (the others were unchanged).
    pub downloaded: Vec<String>,
    /// Files of an earlier fetch no longer listed by the sources, removed.
    pub removed: Vec<String>,
    /// What failed (the rest was fetched).
    pub failures: Vec<String>,
    /// Files made from the downloads (the Filosofi per-commune files).
    pub converted: Vec<String>,
}

/// Fetches every source into `feeds_dir` / `osm_dir` and writes `feeds_dir/sources.lock`.
/// A failed file never replaces a good one; when every file fails, the first error is
/// returned; otherwise the failures are listed in the report.
pub fn fetch_all(sources: &Sources, feeds_dir: &Path, osm_dir: &Path, progress: bool) -> Result<FetchReport, FetchError> {
    std::fs::create_dir_all(feeds_dir).map_err(|e| io_err(feeds_dir, e))?;
    std::fs::create_dir_all(osm_dir).map_err(|e| io_err(osm_dir, e))?;
    let (planned, mut errors) = plan(sources, feeds_dir, osm_dir)?;
    let previous = read_lock(feeds_dir);
    let now = jiff::Timestamp::now().to_string();
    let mut report = FetchReport::default();
    for pf in &planned {
        match fetch_one(pf, &previous, &now, progress) {
            Ok((e, downloaded)) => {
                if downloaded {
                    report.downloaded.push(e.name.clone());
                }
                report.entries.push(e);
            }
            Err(e) => {
                // Keep what an earlier fetch left for this file, if any.
                let file = pf.dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                if let Some(old) = previous.file.iter().find(|o| o.file == file && pf.dest.is_file()) {
                    report.entries.push(old.clone());
                }
                errors.push(e);
            }
        }
    }
    if report.entries.is_empty() && !errors.is_empty() {
        return Err(errors.swap_remove(0));
    }
    // Filosofi: the per-commune files are made again when the zip is new or they are missing.
    for pop in &sources.population {
        let zip_path = osm_dir.join(format!("{}.zip", pop.name));
        let out = osm_dir.join(POPULATION_DIR);
        if zip_path.is_file() && (report.downloaded.contains(&pop.name) || !out.is_dir()) {
            match crate::ingest::population::convert_filosofi_file(&zip_path, &pop.departements, pop.year, &out) {
                Ok(c) => report.converted.push(format!("{}: {} communes, {} cells, {:.0} inhabitants -> {}", pop.name, c.communes, c.cells, c.inhabitants, out.display())),
                Err(e) => errors.push(FetchError::Invalid { file: zip_path.display().to_string(), message: e }),
            }
        }
    }
    // Files an earlier fetch wrote that the sources no longer name: removed, so that the
    // folders hold exactly the current files (files never fetched are left alone).
    // Only after a run where everything succeeded (a failed source keeps its old files).
    if errors.is_empty() {
        for old in &previous.file {
            if report.entries.iter().any(|e| e.file == old.file) || old.file.contains('/') || old.file.contains('\\') || old.file.contains("..") {
                continue;
            }
            let dir = if ["osm", "addresses", "population"].contains(&old.kind.as_str()) { osm_dir } else { feeds_dir };
            let p = dir.join(&old.file);
            if p.is_file() && std::fs::remove_file(&p).is_ok() {
                report.removed.push(old.file.clone());
            }
        }
    }
    let lock = Lock { file: report.entries.clone() };
    let text = toml::to_string_pretty(&lock).map_err(|e| FetchError::Io(e.to_string()))?;
    let lock_path = feeds_dir.join("sources.lock");
    let tmp = feeds_dir.join("sources.lock.tmp");
    std::fs::write(&tmp, format!("# Written by `terril fetch`: what was downloaded, from where, when, under which licence.\n{text}")).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, &lock_path).map_err(|e| io_err(&lock_path, e))?;
    report.failures = errors.iter().map(|e| e.to_string()).collect();
    Ok(report)
}

/// `terril fetch --dry-run`: what would be downloaded, as a table.
pub fn describe_plan(planned: &[PlannedFile], failed: &[FetchError]) -> String {
    let mut s = String::new();
    for p in planned {
        let size = p.filesize.map(|b| format!("{:.1} MB", b as f64 / 1e6)).unwrap_or_else(|| "size unknown".into());
        let validity = if p.valid_from.is_empty() { String::new() } else { format!(", valid {} .. {}", p.valid_from, p.valid_to) };
        s.push_str(&format!(
            "{:<28} <- {} {}\n{:<28}    resource {} \"{}\" ({size}, {}{validity})\n{:<28}    {}\n",
            p.dest.display(),
            p.dataset,
            if p.dataset_title.is_empty() { String::new() } else { format!("\"{}\"", p.dataset_title) },
            "",
            if p.resource.is_empty() { "-" } else { &p.resource },
            p.resource_title,
            p.licence,
            "",
            p.url
        ));
    }
    for e in failed {
        s.push_str(&format!("cannot plan: {e}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(title: &str, from: &str, to: &str, community: bool) -> Value {
        let mut r = serde_json::json!({ "title": title, "format": "GTFS", "url": format!("http://x/{title}"), "is_available": true });
        if !from.is_empty() {
            r["metadata"] = serde_json::json!({ "start_date": from, "end_date": to });
        }
        if community {
            r["community_resource_publisher"] = "someone".into();
        }
        r
    }

    #[test]
    fn resources_valid_today_are_preferred_and_community_ones_ignored() {
        let src = GtfsSource { name: "net".into(), dataset: Some("id".into()), search: None, sha256: None };
        let d = serde_json::json!({ "id": "abc", "licence": "lov2", "resources": [
            res("Hiver 2020", "2020-01-01", "2020-06-30", false),
            res("Année 2026", "2026-01-01", "2026-12-31", false),
            res("Sans dates", "", "", false),
            res("Réutilisation", "2026-01-01", "2026-12-31", true),
            { "title": "RT", "format": "gtfs-rt", "url": "http://x/rt" },
            { "title": "Indisponible", "format": "GTFS", "url": "http://x/off", "is_available": false },
        ]});
        let v = select_resources(&src, &d, "2026-11-22", Path::new("feeds")).unwrap();
        let names: Vec<&str> = v.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["net_annee-2026", "net_sans-dates"]);
        assert_eq!(v[0].licence, "etalab-2.0");
        assert_eq!((v[0].valid_from.as_str(), v[0].valid_to.as_str()), ("2026-01-01", "2026-12-31"));
        // When nothing covers today, every file is kept (the build says which dates run).
        let v = select_resources(&src, &d, "2030-01-01", Path::new("feeds")).unwrap();
        assert_eq!(v.len(), 3);
        // Only community resources: a clear error naming them.
        let d = serde_json::json!({ "id": "abc", "title": "T", "resources": [res("R", "", "", true)] });
        let e = select_resources(&src, &d, "2026-11-22", Path::new("feeds")).unwrap_err().to_string();
        assert!(e.contains("1 community resources ignored"), "{e}");
    }

    #[test]
    fn licences_map_to_spdx_ids() {
        for (code, spdx) in [("odc-odbl", "ODbL-1.0"), ("lov2", "etalab-2.0"), ("fr-lo", "LicenseRef-Licence-Ouverte-1.0"), ("cc-by", "CC-BY-4.0"), ("notspecified", "NOASSERTION"), ("mobility-licence", "LicenseRef-mobility-licence")] {
            assert_eq!(spdx_licence(code), spdx);
        }
    }

    #[test]
    fn content_range_is_read_in_both_forms() {
        assert_eq!(content_range("bytes 100-199/200"), Some((Some(100), Some(200))));
        assert_eq!(content_range("bytes */200"), Some((None, Some(200))));
        assert_eq!(content_range("bytes 0-9/*"), Some((Some(0), None)));
        assert_eq!(content_range("items 0-9/10"), None);
    }
}
