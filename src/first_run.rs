//! What `terril serve` loads when no network is named: a ready network file, else the
//! data in `feeds/` and `osm/` (built once and reused while unchanged), else a download
//! of the basin's open data (`terril fetch`), else the real TER feed in `../shared/data`
//! when present (development machines), else the built-in fictional demonstration town.

use crate::build::{self, describe_input, BuildConfig};
use crate::model::Network;
use std::path::{Path, PathBuf};

/// Where the network built from `feeds/` and `osm/` is cached.
pub const CACHE: &str = "target/terril/network.bin";

fn pbf_in(dir: &Path) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(".pbf")).collect();
    v.sort();
    v.into_iter().next()
}

/// BAN address files `terril fetch` saved beside the extract (`osm/ban-62.csv.gz`).
fn addresses_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(".csv.gz")).collect()).unwrap_or_default();
    v.sort();
    v
}

fn feeds_in(dir: &Path) -> bool {
    std::fs::read_dir(dir).ok().is_some_and(|rd| rd.filter_map(|e| e.ok()).any(|e| e.path().extension().is_some_and(|x| x == "zip") || e.path().join("stops.txt").exists()))
}

/// True when `net` was built from exactly these input files (same sizes and hashes).
pub fn is_fresh(net: &Network, inputs: &[(PathBuf, &str)]) -> bool {
    if net.meta.inputs.len() != inputs.len() {
        return false;
    }
    inputs.iter().all(|(p, kind)| {
        describe_input(p, kind).ok().is_some_and(|d| net.meta.inputs.iter().any(|i| i.sha256 == d.sha256 && i.size == d.size))
    })
}

/// Builds (or reuses) a network from feed sources and an optional extract, cached at `cache`.
pub fn build_cached(gtfs: Vec<PathBuf>, osm: Option<PathBuf>, addresses: Vec<PathBuf>, cache: &Path, crop: Option<&str>) -> anyhow::Result<Network> {
    let mut inputs: Vec<(PathBuf, &str)> = Vec::new();
    let sources = crate::ingest::gtfs::discover_feeds(&gtfs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>())?;
    for s in &sources {
        inputs.push((s.path.clone(), "gtfs"));
    }
    if let Some(o) = &osm {
        inputs.push((o.clone(), "osm"));
    }
    inputs.extend(addresses.iter().map(|a| (a.clone(), "addresses")));
    if let Ok(net) = Network::load(cache) {
        if is_fresh(&net, &inputs) {
            eprintln!("using {} (inputs unchanged)", cache.display());
            return Ok(net);
        }
    }
    eprintln!("building the network from {} ...", inputs.iter().map(|i| i.0.display().to_string()).collect::<Vec<_>>().join(", "));
    let crop = crop.and_then(|c| crate::fetch::parse_crop(c).ok());
    let cfg = BuildConfig { gtfs: gtfs.iter().map(|p| p.display().to_string()).collect(), osm, skip_broken_feeds: true, progress: true, crop, addresses, ..Default::default() };
    let (net, report) = build::build(&cfg)?;
    for s in &report.skipped_feeds {
        eprintln!("skipped: {s}");
    }
    net.save(cache)?;
    eprintln!("built {} in {:.1} s", cache.display(), report.seconds);
    Ok(net)
}

/// Where the network served without `--network` comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// `./network.bin`.
    NetworkFile(PathBuf),
    /// Feeds (and an extract) already in `feeds/` and `osm/`.
    LocalData,
    /// Just downloaded by `fetch`.
    Fetched,
    /// The real TER feed of `../shared/data` (development machines).
    SharedTer(PathBuf),
    /// Nothing else worked: the fictional demonstration town; the reason is kept.
    Demo(String),
}

/// Decides, in order: network file; local feeds; fetch; shared TER; demo.
pub fn decide(root: &Path, shared_ter: Option<&Path>, fetch: &mut dyn FnMut() -> Result<(), String>) -> Choice {
    if root.join("network.bin").exists() {
        return Choice::NetworkFile(root.join("network.bin"));
    }
    if feeds_in(&root.join("feeds")) {
        return Choice::LocalData;
    }
    let why = match fetch() {
        Ok(()) if feeds_in(&root.join("feeds")) => return Choice::Fetched,
        Ok(()) => "the download gave no feed".to_string(),
        Err(e) => e,
    };
    if let Some(t) = shared_ter.filter(|t| t.exists()) {
        return Choice::SharedTer(t.to_path_buf());
    }
    Choice::Demo(why)
}

/// The sources file: `$TERRIL_SOURCES`, else `feeds/sources.toml`.
pub fn sources_path(root: &Path) -> PathBuf {
    std::env::var_os("TERRIL_SOURCES").map(PathBuf::from).unwrap_or_else(|| root.join("feeds/sources.toml"))
}

/// Loads the network `terril serve` uses with no `--network`, with the opportunity sets
/// that go with it (the demo town has its own hospital and job sites).
pub fn default_network(root: &Path) -> anyhow::Result<(Network, Option<Vec<crate::analysis::targets::PointSet>>)> {
    let sources = sources_path(root);
    let mut fetcher = || -> Result<(), String> {
        let s = crate::fetch::load_sources(&sources).map_err(|e| e.to_string())?;
        eprintln!("no data in feeds/: downloading the Bassin minier's open data (sources: {})", sources.display());
        let report = crate::fetch::fetch_all(&s, &root.join("feeds"), &root.join("osm"), true).map_err(|e| e.to_string())?;
        for f in &report.failures {
            eprintln!("warning: {f}");
        }
        Ok(())
    };
    let shared = root.join("../shared/data/ter/ter-2025-01-22.gtfs.zip");
    let choice = decide(root, Some(&shared), &mut fetcher);
    let crop = crate::fetch::load_sources(&sources).ok().and_then(|s| s.osm).and_then(|o| o.crop);
    match choice {
        Choice::NetworkFile(p) => {
            eprintln!("using {}", p.display());
            Ok((Network::load(&p)?, None))
        }
        Choice::LocalData | Choice::Fetched => Ok((build_cached(vec![root.join("feeds")], pbf_in(&root.join("osm")), addresses_in(&root.join("osm")), &root.join(CACHE), crop.as_deref())?, None)),
        Choice::SharedTer(p) => {
            eprintln!("no data in feeds/ and no download possible: using the TER feed of ../shared/data");
            Ok((build_cached(vec![p], None, vec![], &root.join("target/terril/ter-2025.bin"), None)?, None))
        }
        Choice::Demo(why) => {
            eprintln!("could not get real data ({why}).\nServing the built-in FICTIONAL demonstration town (Fosseville) so that every feature can be tried.");
            Ok((crate::demo::network(jiff::Zoned::now().date())?, Some(crate::demo::opportunities())))
        }
    }
}

/// Opportunity sets named on the command line (`NAME=FILE`), or by default the hospitals
/// and communes of `../shared/data/bassin-minier` when present.
pub fn opportunity_sets(args: &[String]) -> anyhow::Result<Vec<crate::analysis::targets::PointSet>> {
    use crate::analysis::opportunities::load;
    let mut out = Vec::new();
    if args.is_empty() {
        let dir = Path::new("../shared/data/bassin-minier");
        for (name, file) in [("hospitals", "hospitals-59-62.csv"), ("communes", "communes-mbm.geojson")] {
            if dir.join(file).exists() {
                let mut s = load(&dir.join(file), &Default::default())?;
                s.name = name.into();
                out.push(s);
            }
        }
        return Ok(out);
    }
    for a in args {
        let (name, file) = a.split_once('=').ok_or_else(|| anyhow::anyhow!("--opportunities expects NAME=FILE, got {a:?}"))?;
        let mut s = load(Path::new(file), &Default::default())?;
        s.name = name.to_string();
        out.push(s);
    }
    Ok(out)
}

/// The communes (and population grid) of the health report: as given, or the basin's of
/// `../shared/data` when present (none for the demo town).
pub fn report_areas(areas: Option<PathBuf>, grid: Option<PathBuf>, demo: bool) -> Option<(PathBuf, Option<PathBuf>)> {
    let dir = Path::new("../shared/data/bassin-minier");
    let areas = areas.or_else(|| (!demo).then(|| dir.join("communes-mbm.geojson")).filter(|p| p.exists()))?;
    // The fetched grid first (osm/filosofi-200m), else the shared five communes.
    let grid = grid.or_else(|| [Path::new("osm").join(crate::fetch::POPULATION_DIR), dir.join("filosofi-200m")].into_iter().find(|p| p.is_dir()));
    Some((areas, grid))
}
