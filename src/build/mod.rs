//! The build pipeline, as named stages (OSRM style):
//! read feeds -> timetable -> read streets -> snap stops -> footpaths -> network file.

pub mod links;

use crate::ingest::gtfs::{self, FeedSource, GtfsError};
use crate::ingest::osm::{self, OsmError};
use crate::model::geo::BBox;
use crate::model::network::{InputFile, Network, NetworkMeta};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// Feed zips, feed folders or folders of feeds; `name=path` sets a namespace.
    pub gtfs: Vec<String>,
    pub osm: Option<PathBuf>,
    pub skip_broken_feeds: bool,
    /// Footpath limit, seconds (default 15 min).
    pub footpath_max_s: u32,
    /// Stops farther than this from a street are reported and linked by straight line.
    pub snap_max_m: f64,
    pub crop: Option<BBox>,
    pub progress: bool,
    /// Feed warnings stop the build as errors do.
    pub strict: bool,
    /// BAN address files (adresses-DD.csv[.gz]) for the gazetteer.
    pub addresses: Vec<PathBuf>,
    /// Named places given at build (communes of a communes file...), for the gazetteer.
    pub places: Vec<crate::model::places::NamedPlace>,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig { gtfs: vec![], osm: None, skip_broken_feeds: false, footpath_max_s: 900, snap_max_m: 300.0, crop: None, progress: false, strict: false, addresses: vec![], places: vec![] }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Gtfs(#[from] GtfsError),
    #[error(transparent)]
    Osm(#[from] OsmError),
    #[error("nothing to build: give at least one GTFS feed (--gtfs) or an OpenStreetMap extract (--osm)")]
    NoInput,
    #[error("every feed was skipped as broken and no streets were given: nothing left to build")]
    AllSkipped,
    #[error("{0}")]
    Io(String),
}

/// What happened during a build, for the console summary.
#[derive(Debug, Default)]
pub struct BuildReport {
    pub skipped_feeds: Vec<String>,
    pub seconds: f64,
    pub stage_seconds: Vec<(String, f64)>,
}

pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, format!("{:x}", h.finalize())))
}

/// Hash of every file of a feed folder (sorted by name), or of the file itself.
pub fn describe_input(path: &Path, kind: &str) -> std::io::Result<InputFile> {
    let (size, sha) = if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
        entries.sort();
        let mut h = Sha256::new();
        let mut size = 0;
        for e in entries {
            let (s, d) = sha256_file(&e)?;
            size += s;
            h.update(e.file_name().unwrap_or_default().to_string_lossy().as_bytes());
            h.update(d.as_bytes());
        }
        (size, format!("{:x}", h.finalize()))
    } else {
        sha256_file(path)?
    };
    Ok(InputFile { path: path.display().to_string(), size, sha256: sha, kind: kind.into() })
}

fn bar(enabled: bool, len: u64, msg: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let b = if len == 0 { ProgressBar::new_spinner() } else { ProgressBar::new(len) };
    b.set_style(
        ProgressStyle::with_template(if len == 0 { "{spinner} {msg} {pos} objects [{elapsed}]" } else { "{msg:20} [{bar:40}] {pos}/{len} [{elapsed}]" })
            .unwrap()
            .progress_chars("=> "),
    );
    b.set_message(msg.to_string());
    b
}

/// Peak resident memory of this process, bytes (Linux; 0 elsewhere).
pub fn peak_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Runs the whole build in memory.
pub fn build(cfg: &BuildConfig) -> Result<(Network, BuildReport), BuildError> {
    build_with(cfg, None)
}

/// Like [`build`], with a street graph made elsewhere (the demonstration network) used
/// when `cfg.osm` is None.
pub fn build_with(cfg: &BuildConfig, given_streets: Option<crate::model::streets::Streets>) -> Result<(Network, BuildReport), BuildError> {
    let t0 = Instant::now();
    let mut report = BuildReport::default();
    if cfg.gtfs.is_empty() && cfg.osm.is_none() && given_streets.is_none() {
        return Err(BuildError::NoInput);
    }
    let stage = |name: &str, t: Instant, report: &mut BuildReport| {
        report.stage_seconds.push((name.to_string(), t.elapsed().as_secs_f64()));
        tracing::info!(stage = name, seconds = format!("{:.2}", t.elapsed().as_secs_f64()), "stage done");
    };
    // Feeds.
    let t = Instant::now();
    let mut sources: Vec<FeedSource> = gtfs::discover_feeds(&cfg.gtfs)?;
    for s in &mut sources {
        s.strict = cfg.strict;
    }
    let (raw, skipped) = gtfs::read_feeds(&sources, cfg.skip_broken_feeds)?;
    for s in &skipped {
        tracing::warn!("skipped broken feed: {s}");
        report.skipped_feeds.push(s.to_string());
    }
    if raw.is_empty() && !sources.is_empty() && cfg.osm.is_none() {
        return Err(BuildError::AllSkipped);
    }
    let used: Vec<FeedSource> = raw.iter().map(|f| f.source.clone()).collect();
    stage("read feeds", t, &mut report);
    let t = Instant::now();
    let built = gtfs::build_timetable(raw, cfg.crop)?;
    let tt = built.timetable;
    stage("timetable", t, &mut report);
    for w in &built.warnings {
        tracing::warn!("{w}");
    }
    // Streets.
    let t = Instant::now();
    let mut places = cfg.places.clone();
    let mut addresses = Vec::new();
    // BAN files first: their numbers win over OSM's where both have one.
    for f in &cfg.addresses {
        let (streets, kept, skipped) = crate::ingest::addresses::read_ban(f, cfg.crop).map_err(|e| BuildError::Io(e.to_string()))?;
        tracing::info!(file = %f.display(), streets = streets.len(), addresses = kept, skipped, "addresses read");
        crate::ingest::addresses::merge(&mut addresses, streets);
    }
    let streets = match &cfg.osm {
        Some(p) => {
            let b = bar(cfg.progress, 0, "reading OSM");
            let (s, stats, named, osm_addresses) = osm::read_streets(p, cfg.crop, &b)?;
            b.finish_and_clear();
            tracing::info!(ways = stats.ways, nodes = s.n_nodes(), places = named.len(), addressed_streets = osm_addresses.len(), "streets read");
            places.extend(named);
            crate::ingest::addresses::merge(&mut addresses, osm_addresses);
            Some(s)
        }
        None => given_streets,
    };
    stage("streets and places", t, &mut report);
    // Contraction hierarchies of the walk and bike graphs, for point-to-point routes.
    let t = Instant::now();
    let mut streets = streets;
    if let Some(s) = streets.as_mut() {
        s.prepare_hierarchies();
    }
    stage("street hierarchies", t, &mut report);
    // Links and footpaths.
    let t = Instant::now();
    let (stop_links, far) = match &streets {
        Some(s) => links::snap_stops(&tt, s, cfg.snap_max_m),
        None => (vec![None; tt.stops.len()], vec![]),
    };
    if !far.is_empty() {
        tracing::warn!("{} stops are farther than {} m from any walkable street (linked by straight line); first: {:?}", far.len(), cfg.snap_max_m, &far[..far.len().min(5)]);
    }
    stage("snap stops", t, &mut report);
    let t = Instant::now();
    let b = bar(cfg.progress, tt.stops.len() as u64, "footpaths");
    let footpaths = links::footpaths(&tt, streets.as_ref(), &stop_links, &built.transfers, cfg.footpath_max_s, &b);
    b.finish_and_clear();
    stage("footpaths", t, &mut report);
    // Provenance.
    let mut inputs = Vec::new();
    for s in &used {
        inputs.push(describe_input(&s.path, "gtfs").map_err(|e| BuildError::Io(format!("{}: {e}", s.path.display())))?);
    }
    if let Some(p) = &cfg.osm {
        inputs.push(describe_input(p, "osm").map_err(|e| BuildError::Io(format!("{}: {e}", p.display())))?);
    }
    for p in &cfg.addresses {
        inputs.push(describe_input(p, "addresses").map_err(|e| BuildError::Io(format!("{}: {e}", p.display())))?);
    }
    let has_streets = streets.is_some();
    let mut warnings = built.warnings;
    warnings.extend(report.skipped_feeds.iter().map(|s| format!("skipped: {s}")));
    let title = used.iter().map(|s| s.namespace.clone()).collect::<Vec<_>>().join(" + ");
    let net = Network {
        meta: NetworkMeta {
            terril_version: env!("CARGO_PKG_VERSION").into(),
            built_at: jiff::Timestamp::now().to_string(),
            inputs,
            demo: false,
            title: if title.is_empty() { "streets only".into() } else { title },
            warnings,
            far_stops: far,
            footpath_method: if has_streets { "streets".into() } else { "straight-line".into() },
            footpath_max_s: cfg.footpath_max_s,
        },
        timetable: tt,
        streets,
        stop_links,
        footpaths,
        places,
        addresses,
    };
    report.seconds = t0.elapsed().as_secs_f64();
    Ok((net, report))
}
