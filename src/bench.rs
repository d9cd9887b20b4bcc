//! `terril bench`: measured numbers for BENCHMARKS.md (build, load, query latency). Each
//! run prints the machine, the data and a result checksum, so a faster-but-wrong change
//! shows up as a different checksum.

use crate::model::geo::LatLon;
use crate::model::Network;
use crate::route::plan::{Place, PlanRequest, Router};
use rand::{Rng, SeedableRng};
use std::time::Instant;

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1048576.0))
        .unwrap_or_default();
    format!("{cpu}, {} cores, {mem}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencyReport {
    pub name: String,
    pub queries: usize,
    pub answered: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    /// Sum of arrival times of first itineraries, to catch wrong answers.
    pub checksum: i64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut times: Vec<f64>, answered: usize, checksum: i64) -> LatencyReport {
    times.sort_by(|a, b| a.total_cmp(b));
    LatencyReport {
        name: name.into(),
        queries: times.len(),
        answered,
        p50_ms: percentile(&times, 0.5),
        p90_ms: percentile(&times, 0.9),
        p95_ms: percentile(&times, 0.95),
        p99_ms: percentile(&times, 0.99),
        mean_ms: times.iter().sum::<f64>() / times.len().max(1) as f64,
        checksum,
    }
}

/// Random station-to-station earliest-arrival queries (one itinerary, no window).
pub fn station_queries(router: &Router, date: jiff::civil::Date, hours: (u32, u32), n: usize, seed: u64) -> LatencyReport {
    let tt = &router.net.timetable;
    let mut stations: Vec<u32> = (0..tt.stops.len() as u32)
        .filter(|&s| tt.stops.parent[s as usize] == crate::model::timetable::NONE && tt.serving_stops(s).iter().any(|&c| !tt.patterns_at(c).is_empty()))
        .collect();
    // Drawn in id order: the same queries whatever the stops' numbering.
    stations.sort_by(|&a, &b| tt.stops.ids[a as usize].cmp(&tt.stops.ids[b as usize]));
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut times = Vec::with_capacity(n);
    let (mut answered, mut checksum) = (0, 0i64);
    for _ in 0..n {
        let a = &tt.stops.ids[stations[rng.random_range(0..stations.len())] as usize];
        let b = &tt.stops.ids[stations[rng.random_range(0..stations.len())] as usize];
        let mut req = PlanRequest::new(Place::Stop(a.clone()), Place::Stop(b.clone()), date, rng.random_range(hours.0 * 3600..hours.1 * 3600));
        req.num_itineraries = 1;
        req.window_s = 0;
        let t = Instant::now();
        let plan = router.plan(&req);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Some(it) = plan.ok().and_then(|p| p.itineraries.into_iter().next()) {
            answered += 1;
            checksum += it.end_s;
        }
    }
    report("station-to-station earliest arrival", times, answered, checksum)
}

/// Random coordinate-to-coordinate plans (street access and egress included), points
/// drawn near random stops, default options (3 itineraries over a 2-hour window).
pub fn coordinate_queries(router: &Router, date: jiff::civil::Date, hours: (u32, u32), n: usize, seed: u64, one: bool) -> LatencyReport {
    let net = &*router.net;
    // In coordinate order: the same points whatever the stops' numbering.
    let mut linked: Vec<LatLon> = net.stop_links.iter().flatten().map(|s| s.point).collect();
    linked.sort_by(|a, b| (a.lat, a.lon).partial_cmp(&(b.lat, b.lon)).unwrap_or(std::cmp::Ordering::Equal));
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut times = Vec::with_capacity(n);
    let (mut answered, mut checksum) = (0, 0i64);
    for _ in 0..n {
        let mut pick = || {
            let p = linked[rng.random_range(0..linked.len())];
            LatLon::new(p.lat + rng.random_range(-0.002..0.002), p.lon + rng.random_range(-0.002..0.002))
        };
        let (a, b) = (pick(), pick());
        let mut req = PlanRequest::new(Place::Coord(a), Place::Coord(b), date, rng.random_range(hours.0 * 3600..hours.1 * 3600));
        if one {
            req.num_itineraries = 1;
            req.window_s = 0;
        }
        let t = Instant::now();
        let plan = router.plan(&req);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Some(it) = plan.ok().and_then(|p| p.itineraries.into_iter().next()) {
            answered += 1;
            checksum += it.end_s;
        }
    }
    report(if one { "coordinate-to-coordinate, 1 itinerary" } else { "coordinate-to-coordinate, 3 itineraries in 2 h" }, times, answered, checksum)
}

/// Walking routes point to point (`modes=walk`, the build's hierarchy) between `n` pairs
/// of `points` drawn with a fixed seed, each pair asked `rounds` times. Returns the
/// latency report (checksum: the sum of the walks' seconds) and the pairs with terril's
/// seconds, for the peers to run the same ones.
pub fn walk_queries(router: &Router, points: &[LatLon], date: jiff::civil::Date, n: usize, rounds: usize, seed: u64) -> (LatencyReport, Vec<(LatLon, LatLon, Option<u32>)>) {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut pairs = Vec::with_capacity(n);
    while pairs.len() < n && points.len() > 1 {
        let (a, b) = (rng.random_range(0..points.len()), rng.random_range(0..points.len()));
        if a != b {
            pairs.push((points[a], points[b], None));
        }
    }
    let mut times = Vec::with_capacity(n * rounds);
    for _ in 0..rounds {
        for (a, b, secs) in pairs.iter_mut() {
            let mut req = PlanRequest::new(Place::Coord(*a), Place::Coord(*b), date, 12 * 3600);
            req.modes = 0;
            let t = Instant::now();
            let plan = router.plan(&req);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            *secs = plan.ok().and_then(|p| p.direct.first().map(|i| i.duration_s));
        }
    }
    let answered = pairs.iter().filter(|p| p.2.is_some()).count();
    let checksum = pairs.iter().filter_map(|p| p.2).map(i64::from).sum();
    (report("walking route point to point (modes=walk)", times, answered, checksum), pairs)
}

/// Load time of a network file (best of `runs`).
pub fn load_time(path: &std::path::Path, runs: usize) -> anyhow::Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        let net = Network::load(path)?;
        best = best.min(t.elapsed().as_secs_f64());
        drop(net);
    }
    Ok(best)
}
