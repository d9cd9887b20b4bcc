//! `terril fetch`: official open data for the basin, downloaded safely.
//!
//! GTFS datasets are resolved through the transport.data.gouv.fr API (by id/slug, or by
//! a search over slugs and titles), never through hard-coded file links. Every download
//! goes to `NAME.part`, resumes with an HTTP Range request when a previous attempt was
//! cut, is checked (a zip that opens and holds stops.txt; a PBF that starts with an
//! OSMHeader block; a pinned sha256 when given) and only then renamed into place.
//! `feeds/sources.lock` records URL, date, size, sha256 and licence of each file.

use crate::build::sha256_file;
use serde::{Deserialize, Serialize};
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
}

fn default_api() -> String {
    "https://transport.data.gouv.fr/api".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct GtfsSource {
    pub name: String,
    pub dataset: Option<String>,
    pub search: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OsmSource {
    pub name: String,
    pub url: String,
    pub crop: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockEntry {
    pub name: String,
    pub kind: String,
    pub dataset: String,
    pub url: String,
    pub file: String,
    pub date: String,
    pub size: u64,
    pub sha256: String,
    pub licence: String,
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
    #[error("{file}: sha256 {got} differs from the pinned {expected}; the file was removed.")]
    Checksum { file: String, expected: String, got: String },
    #[error("{0}")]
    Io(String),
}

pub fn load_sources(path: &Path) -> Result<Sources, FetchError> {
    let text = std::fs::read_to_string(path).map_err(|e| FetchError::Config { path: path.display().to_string(), message: e.to_string() })?;
    let s: Sources = toml::from_str(&text).map_err(|e| FetchError::Config { path: path.display().to_string(), message: e.to_string() })?;
    for g in &s.gtfs {
        if g.dataset.is_none() && g.search.is_none() {
            return Err(FetchError::Config { path: path.display().to_string(), message: format!("[[gtfs]] '{}' needs `dataset` or `search`", g.name) });
        }
    }
    Ok(s)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .user_agent(concat!("terril/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<serde_json::Value, FetchError> {
    let resp = agent.get(url).call().map_err(|e| FetchError::Network { url: url.into(), message: e.to_string() })?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(FetchError::Http { url: url.into(), status });
    }
    let text = resp.into_body().into_with_config().limit(256 << 20).read_to_string().map_err(|e| FetchError::Network { url: url.into(), message: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| FetchError::Api { what: url.into(), message: format!("not JSON: {e}") })
}

fn fold(s: &str) -> String {
    crate::route::places::normalize(s).replace(' ', "-")
}

/// The GTFS resource to download for a source: (dataset id, url, licence, updated).
pub fn resolve(agent_api: &str, src: &GtfsSource) -> Result<(String, String, String, String), FetchError> {
    let agent = agent();
    let dataset = match (&src.dataset, &src.search) {
        (Some(id), _) => get_json(&agent, &format!("{agent_api}/datasets/{id}"))?,
        (None, Some(q)) => {
            let all = get_json(&agent, &format!("{agent_api}/datasets"))?;
            let list = all.as_array().cloned().or_else(|| all["data"].as_array().cloned()).unwrap_or_default();
            let q = fold(q);
            let mut hits: Vec<serde_json::Value> = list
                .into_iter()
                .filter(|d| [d["slug"].as_str(), d["title"].as_str()].iter().flatten().any(|s| fold(s).contains(&q)))
                .filter(|d| d["resources"].as_array().is_some_and(|r| r.iter().any(|x| x["format"].as_str() == Some("GTFS"))))
                .collect();
            hits.sort_by(|a, b| a["slug"].as_str().cmp(&b["slug"].as_str()));
            hits.into_iter().next().ok_or_else(|| FetchError::Api { what: format!("gtfs '{}'", src.name), message: format!("no dataset with a GTFS resource matches '{q}'; set `dataset` in feeds/sources.toml") })?
        }
        (None, None) => unreachable!("checked in load_sources"),
    };
    let id = dataset["slug"].as_str().or(dataset["id"].as_str()).unwrap_or("?").to_string();
    let licence = dataset["licence"].as_str().unwrap_or("unknown").to_string();
    let mut res: Vec<&serde_json::Value> = dataset["resources"]
        .as_array()
        .map(|r| r.iter().filter(|x| x["format"].as_str() == Some("GTFS") && x["is_available"].as_bool() != Some(false)).collect())
        .unwrap_or_default();
    res.sort_by(|a, b| b["updated"].as_str().cmp(&a["updated"].as_str()));
    let r = res.first().ok_or_else(|| FetchError::Api { what: format!("dataset {id}"), message: "no available GTFS resource".into() })?;
    let url = r["url"].as_str().or(r["original_url"].as_str()).ok_or_else(|| FetchError::Api { what: format!("dataset {id}"), message: "GTFS resource without url".into() })?;
    Ok((id, url.to_string(), licence, r["updated"].as_str().unwrap_or("").to_string()))
}

/// Downloads `url` to `dest` through `dest.part`, resuming a previous partial download.
pub fn download(url: &str, dest: &Path, progress: &indicatif::ProgressBar) -> Result<u64, FetchError> {
    let agent = agent();
    let part = dest.with_extension(format!("{}.part", dest.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut req = agent.get(url);
    if have > 0 {
        req = req.header("Range", &format!("bytes={have}-"));
    }
    let resp = req.call().map_err(|e| FetchError::Network { url: url.into(), message: e.to_string() })?;
    let status = resp.status().as_u16();
    let (append, total) = match status {
        206 => (true, resp.headers().get("content-range").and_then(|v| v.to_str().ok()).and_then(|v| v.rsplit('/').next()?.parse::<u64>().ok())),
        200 => (false, resp.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())),
        416 if have > 0 => {
            // Already complete.
            std::fs::rename(&part, dest).map_err(|e| FetchError::Io(format!("{}: {e}", dest.display())))?;
            return Ok(have);
        }
        s => return Err(FetchError::Http { url: url.into(), status: s }),
    };
    if let Some(t) = total {
        progress.set_length(t);
    }
    let mut f = std::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(&part).map_err(|e| FetchError::Io(format!("{}: {e}", part.display())))?;
    let mut written = if append { have } else { 0 };
    progress.set_position(written);
    let mut reader = resp.into_body().into_reader();
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
        f.write_all(&buf[..n]).map_err(|e| FetchError::Io(format!("{}: {e}", part.display())))?;
        written += n as u64;
        progress.set_position(written);
    }
    if let Some(t) = total {
        if written < t {
            return Err(FetchError::Network { url: url.into(), message: format!("connection closed after {written} of {t} bytes") });
        }
    }
    f.sync_all().map_err(|e| FetchError::Io(e.to_string()))?;
    drop(f);
    std::fs::rename(&part, dest).map_err(|e| FetchError::Io(format!("{}: {e}", dest.display())))?;
    Ok(written)
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
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if n < 4 + len.min(60) || len > 64 * 1024 || !head[4..n].windows(9).any(|w| w == b"OSMHeader") {
        return Err("not an OpenStreetMap PBF (no OSMHeader block at the start)".into());
    }
    Ok(())
}

fn verify(file: &Path, pinned: Option<&str>, check: fn(&Path) -> Result<(), String>) -> Result<(u64, String), FetchError> {
    let fail = |message: String| {
        let _ = std::fs::remove_file(file);
        FetchError::Invalid { file: file.display().to_string(), message }
    };
    check(file).map_err(fail)?;
    let (size, sha) = sha256_file(file).map_err(|e| FetchError::Io(e.to_string()))?;
    if let Some(p) = pinned {
        if !p.eq_ignore_ascii_case(&sha) {
            let _ = std::fs::remove_file(file);
            return Err(FetchError::Checksum { file: file.display().to_string(), expected: p.into(), got: sha });
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

/// Fetches every source into `feeds_dir` / `osm_dir` and writes `feeds_dir/sources.lock`.
/// Returns the lock entries; on error nothing half-written is left in place.
pub fn fetch_all(sources: &Sources, feeds_dir: &Path, osm_dir: &Path, progress: bool) -> Result<Vec<LockEntry>, FetchError> {
    std::fs::create_dir_all(feeds_dir).map_err(|e| FetchError::Io(e.to_string()))?;
    std::fs::create_dir_all(osm_dir).map_err(|e| FetchError::Io(e.to_string()))?;
    let mut entries = Vec::new();
    let now = jiff::Timestamp::now().to_string();
    for g in &sources.gtfs {
        let (dataset, url, licence, _updated) = resolve(&sources.api, g)?;
        let dest = feeds_dir.join(format!("{}.zip", g.name));
        let b = bar(progress, &g.name);
        download(&url, &dest, &b)?;
        b.finish_and_clear();
        let (size, sha) = verify(&dest, g.sha256.as_deref(), check_gtfs_zip)?;
        entries.push(LockEntry { name: g.name.clone(), kind: "gtfs".into(), dataset, url, file: dest.display().to_string(), date: now.clone(), size, sha256: sha, licence });
    }
    if let Some(o) = &sources.osm {
        let dest = osm_dir.join(format!("{}.osm.pbf", o.name));
        let b = bar(progress, &o.name);
        download(&o.url, &dest, &b)?;
        b.finish_and_clear();
        let (size, sha) = verify(&dest, o.sha256.as_deref(), check_pbf)?;
        entries.push(LockEntry { name: o.name.clone(), kind: "osm".into(), dataset: "geofabrik".into(), url: o.url.clone(), file: dest.display().to_string(), date: now.clone(), size, sha256: sha, licence: "ODbL-1.0".into() });
    }
    let lock = Lock { file: entries.clone() };
    let text = toml::to_string_pretty(&lock).map_err(|e| FetchError::Io(e.to_string()))?;
    let lock_path = feeds_dir.join("sources.lock");
    let tmp = feeds_dir.join("sources.lock.tmp");
    std::fs::write(&tmp, format!("# Written by `terril fetch`: what was downloaded, from where, when.\n{text}")).map_err(|e| FetchError::Io(e.to_string()))?;
    std::fs::rename(&tmp, &lock_path).map_err(|e| FetchError::Io(e.to_string()))?;
    Ok(entries)
}

/// Files a fetch would leave: feeds and the extract.
pub fn fetched_paths(sources: &Sources, feeds_dir: &Path, osm_dir: &Path) -> (Vec<PathBuf>, Option<PathBuf>) {
    (sources.gtfs.iter().map(|g| feeds_dir.join(format!("{}.zip", g.name))).collect(), sources.osm.as_ref().map(|o| osm_dir.join(format!("{}.osm.pbf", o.name))))
}
