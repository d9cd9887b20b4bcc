//! divan benchmarks on the real data (skipped, with a message, without ../shared/data).
//! `cargo bench --bench routing`

use std::path::Path;
use std::sync::OnceLock;
use terril::build::{build, BuildConfig};
use terril::route::plan::{Place, PlanRequest, Router};

fn data() -> Option<&'static Path> {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"));
    p.join("ter").exists().then_some(p)
}

fn ter() -> &'static Router {
    static R: OnceLock<Router> = OnceLock::new();
    R.get_or_init(|| {
        let cfg = BuildConfig { gtfs: vec![data().unwrap().join("ter/ter-2025-01-22.gtfs.zip").display().to_string()], ..Default::default() };
        Router::new(build(&cfg).unwrap().0)
    })
}

fn main() {
    if data().is_none() {
        eprintln!("../shared/data not found: benchmarks skipped");
        return;
    }
    divan::main();
}

/// Lens -> Lille Flandres, earliest arrival, one itinerary.
#[divan::bench]
fn ter_lens_lille_earliest_arrival(b: divan::Bencher) {
    let r = ter();
    let mut req = PlanRequest::new(Place::Stop("ter:StopArea:OCE87345025".into()), Place::Stop("ter:StopArea:OCE87286005".into()), jiff::civil::date(2025, 2, 4), 7 * 3600);
    req.num_itineraries = 1;
    req.window_s = 0;
    b.bench(|| r.plan(divan::black_box(&req)).unwrap());
}

/// Valenciennes -> Béthune, 3 options over two hours (range of departures).
#[divan::bench]
fn ter_valenciennes_bethune_three_options(b: divan::Bencher) {
    let r = ter();
    let req = PlanRequest::new(Place::Stop("ter:StopArea:OCE87343004".into()), Place::Stop("ter:StopArea:OCE87342006".into()), jiff::civil::date(2025, 2, 4), 7 * 3600);
    b.bench(|| r.plan(divan::black_box(&req)).unwrap());
}

/// Building the TER national network from the zip.
#[divan::bench(sample_count = 5)]
fn ter_build(b: divan::Bencher) {
    let cfg = BuildConfig { gtfs: vec![data().unwrap().join("ter/ter-2025-01-22.gtfs.zip").display().to_string()], ..Default::default() };
    b.bench(|| build(&cfg).unwrap());
}
