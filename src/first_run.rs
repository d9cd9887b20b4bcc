//! What `terril serve` loads when no network is named: a ready network file, else the
//! data in `feeds/` and `osm/` (built once and reused while unchanged), else the real TER
//! feed in `../shared/data` when present.

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
pub fn build_cached(gtfs: Vec<PathBuf>, osm: Option<PathBuf>, cache: &Path) -> anyhow::Result<Network> {
    let mut inputs: Vec<(PathBuf, &str)> = Vec::new();
    let sources = crate::ingest::gtfs::discover_feeds(&gtfs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>())?;
    for s in &sources {
        inputs.push((s.path.clone(), "gtfs"));
    }
    if let Some(o) = &osm {
        inputs.push((o.clone(), "osm"));
    }
    if let Ok(net) = Network::load(cache) {
        if is_fresh(&net, &inputs) {
            eprintln!("using {} (inputs unchanged)", cache.display());
            return Ok(net);
        }
    }
    eprintln!("building the network from {} ...", inputs.iter().map(|i| i.0.display().to_string()).collect::<Vec<_>>().join(", "));
    let cfg = BuildConfig { gtfs: gtfs.iter().map(|p| p.display().to_string()).collect(), osm, skip_broken_feeds: true, progress: true, ..Default::default() };
    let (net, report) = build::build(&cfg)?;
    for s in &report.skipped_feeds {
        eprintln!("skipped: {s}");
    }
    net.save(cache)?;
    eprintln!("built {} in {:.1} s", cache.display(), report.seconds);
    Ok(net)
}

pub fn default_network() -> anyhow::Result<Network> {
    if Path::new("network.bin").exists() {
        eprintln!("using ./network.bin");
        return Ok(Network::load(Path::new("network.bin"))?);
    }
    if feeds_in(Path::new("feeds")) {
        return build_cached(vec![PathBuf::from("feeds")], pbf_in(Path::new("osm")), Path::new(CACHE));
    }
    let ter = Path::new("../shared/data/ter/ter-2025-01-22.gtfs.zip");
    if ter.exists() {
        return build_cached(vec![ter.to_path_buf()], None, Path::new("target/terril/ter-2025.bin"));
    }
    anyhow::bail!("no network to serve: put GTFS feeds in ./feeds (and an .osm.pbf in ./osm), or pass --network FILE built with `terril build`")
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
