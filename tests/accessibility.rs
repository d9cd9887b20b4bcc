//! Travel-time surfaces, isochrones and accessibility on real data, checked against
//! independent one-to-one journey plans and geometric properties.

mod common;
use common::*;
use rayon::prelude::*;
use terril::analysis::access::{self, AccessSpec, Decay};
use terril::analysis::opportunities::{load, LoadOptions};
use terril::analysis::surface::{compute, SurfaceMode, SurfaceRequest, SurfaceScratch, UNREACHABLE};
use terril::analysis::targets::{LinkedTargets, PointSet};
use terril::model::geo::LatLon;
use terril::model::timetable::StopIdx;
use terril::route::plan::{Place, PlanRequest, Router};

fn poa_router() -> &'static Router {
    static R: std::sync::OnceLock<Router> = std::sync::OnceLock::new();
    R.get_or_init(|| Router::new(poa().clone()))
}

fn hexgrid() -> PointSet {
    load(&data_dir().unwrap().join("porto-alegre/poa_hexgrid.csv"), &LoadOptions::default()).unwrap()
}

fn poa_request(origin: LatLon, window_s: u32, cutoff_min: u32) -> SurfaceRequest {
    let mut r = SurfaceRequest::new(origin, jiff::civil::date(2019, 5, 13), 14 * 3600, window_s);
    r.max_time_s = cutoff_min * 60;
    r.max_transfers = 3;
    r
}

#[test]
fn hexgrid_loads_with_its_weight_columns() {
    let _d = require_data!();
    let h = hexgrid();
    assert_eq!(h.len(), 1227);
    for c in ["population", "schools", "jobs", "healthcare", "count"] {
        assert!(h.column(c).is_some(), "{c}");
    }
    let raw = raw_table(&data_dir().unwrap().join("porto-alegre/poa_hexgrid.csv"), "").is_none();
    assert!(raw, "raw_table reads zip members only");
    let jobs: f64 = h.column("jobs").unwrap().iter().sum();
    assert!(jobs > 100_000.0, "{jobs}");
}

/// Jobs within 45 minutes (median over three departures) from the batch equal the count
/// built from one-to-one journey plans, destination by destination.
#[test]
fn batch_accessibility_equals_one_to_one_plans() {
    let _d = require_data!();
    let router = poa_router();
    let hex = hexgrid();
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 15 * 60);
    let jobs = hex.column("jobs").unwrap();
    let spec = AccessSpec { cutoffs_min: vec![45], decay: Decay::Step, columns: vec!["jobs".into()], nth: vec![1], nearest_column: "count".into() };
    let template = poa_request(hex.points[0], 3 * 60, 45);
    // Two origins: the hexagon nearest the centre (Mercado) and one in the north.
    let pick = |p: LatLon| (0..hex.len()).min_by(|&a, &b| terril::model::geo::distance_m(hex.points[a], p).total_cmp(&terril::model::geo::distance_m(hex.points[b], p))).unwrap();
    let origins = [pick(LatLon::new(-30.0277, -51.2278)), pick(LatLon::new(-30.0, -51.18))];
    let sub = PointSet {
        ids: origins.iter().map(|&i| hex.ids[i].clone()).collect(),
        points: origins.iter().map(|&i| hex.points[i]).collect(),
        labels: vec![String::new(); 2],
        ..Default::default()
    };
    let rows = access::batch(router, &sub, &targets, &hex, &template, &spec, &indicatif::ProgressBar::hidden());
    let date = jiff::civil::date(2019, 5, 13);
    for (oi, row) in rows.iter().enumerate() {
        let o = sub.points[oi];
        // Per destination, per departure: min(direct walk, transit arrival - departure).
        let times: Vec<u32> = (0..hex.len())
            .into_par_iter()
            .map(|d| {
                let mut samples: Vec<u32> = (0..3u32)
                    .map(|i| {
                        let dep = 14 * 3600 + i * 60;
                        let mut req = PlanRequest::new(Place::Coord(o), Place::Coord(hex.points[d]), date, dep);
                        req.num_itineraries = 1;
                        req.window_s = 0;
                        req.max_transfers = 3;
                        let plan = match router.plan(&req) {
                            Ok(p) => p,
                            // Far from every street and stop: unreachable for both.
                            Err(e) if e.error == "outside_area" => return UNREACHABLE,
                            Err(e) => panic!("{e}"),
                        };
                        // Itineraries found only with a longer walk than asked are not within the rules.
                        let transit = plan.itineraries.first().filter(|_| plan.walk_extended_min.is_none()).map(|it| (it.end_s - dep as i64) as u32).unwrap_or(UNREACHABLE);
                        // The walk-only alternative counts within max_walk_time, like every walking leg.
                        let walk = plan.direct.iter().find(|x| x.legs[0].mode == "walk").map(|x| x.duration_s).filter(|d| *d <= template.max_walk_s).unwrap_or(UNREACHABLE);
                        let t = transit.min(walk);
                        if t <= 45 * 60 {
                            t
                        } else {
                            UNREACHABLE
                        }
                    })
                    .collect();
                samples.sort_unstable();
                samples[1]
            })
            .collect();
        let expected: f64 = times.iter().zip(jobs).filter(|(t, _)| **t <= 45 * 60).map(|(_, j)| j).sum();
        let got = row.values[1];
        assert_eq!(got, expected, "origin {}: batch {got} vs one-to-one {expected}", sub.ids[oi]);
        assert!(expected > 1000.0, "a central hexagon reaches jobs ({expected})");
    }
}

fn inside(ring: &[serde_json::Value], p: [f64; 2]) -> bool {
    let pts: Vec<[f64; 2]> = ring.iter().map(|c| [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()]).collect();
    let mut c = false;
    let mut j = pts.len() - 1;
    for i in 0..pts.len() {
        let (a, b) = (pts[i], pts[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] {
            c = !c;
        }
        j = i;
    }
    c
}

fn in_multipolygon(geom: &serde_json::Value, p: [f64; 2]) -> bool {
    geom["coordinates"].as_array().unwrap().iter().any(|poly| {
        let rings = poly.as_array().unwrap();
        inside(rings[0].as_array().unwrap(), p) && !rings[1..].iter().any(|h| inside(h.as_array().unwrap(), p))
    })
}

#[test]
fn isochrones_contain_the_cells_under_the_cutoff_and_exclude_those_over() {
    let _d = require_data!();
    let router = poa_router();
    let grid = LinkedTargets::grid(&router.net, 150.0, 15 * 60);
    let origin = LatLon::new(-30.0346, -51.2177);
    let mut req = poa_request(origin, 60 * 60, 60);
    req.max_transfers = 5;
    let s = compute(router, &grid, &req, &mut SurfaceScratch::default()).unwrap();
    let cutoffs = [15u32, 30, 45, 60];
    let gj = terril::analysis::isochrone::isochrones(&grid, &s, 0, &cutoffs);
    let feats = gj["features"].as_array().unwrap();
    assert_eq!(feats.len(), 4);
    let (mut checked_in, mut checked_out) = (0, 0);
    for (f, c) in feats.iter().zip(cutoffs) {
        assert_eq!(f["properties"]["cutoff_min"], c);
        for (i, p) in grid.points.iter().enumerate() {
            let t = s.times_s[0][i];
            let ll = [p.lon, p.lat];
            if t != UNREACHABLE && t + 60 <= c * 60 {
                assert!(in_multipolygon(&f["geometry"], ll), "cell {i} at {t} s should be inside the {c} min isochrone");
                checked_in += 1;
            } else if (t == UNREACHABLE || t >= c * 60 + 10 * 60) && grid.snaps[i].is_some() {
                assert!(!in_multipolygon(&f["geometry"], ll), "cell {i} at {t} s should be outside the {c} min isochrone");
                checked_out += 1;
            }
        }
    }
    assert!(checked_in > 1000 && checked_out > 1000, "{checked_in} inside, {checked_out} outside checked");
    // Nested: areas grow with the cutoff.
    let areas: Vec<f64> = feats.iter().map(|f| f["properties"]["area_km2"].as_f64().unwrap()).collect();
    assert!(areas.windows(2).all(|w| w[0] < w[1]), "{areas:?}");
    // RFC 7946: exterior rings counterclockwise, holes clockwise, every ring closed.
    let (mut outer, mut holes) = (0, 0);
    for f in feats {
        for poly in f["geometry"]["coordinates"].as_array().unwrap() {
            for (k, ring) in poly.as_array().unwrap().iter().enumerate() {
                let r: Vec<[f64; 2]> = ring.as_array().unwrap().iter().map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()]).collect();
                assert_eq!(r.first(), r.last(), "closed ring");
                let a = terril::analysis::isochrone::signed_area2(&r);
                if k == 0 {
                    assert!(a > 0.0, "exterior ring clockwise");
                    outer += 1;
                } else {
                    assert!(a < 0.0, "hole counterclockwise");
                    holes += 1;
                }
            }
        }
    }
    assert!(outer > 0, "{outer} exterior rings, {holes} holes checked");
}

#[test]
fn walking_isochrone_areas_grow_with_the_cutoff() {
    let _d = require_data!();
    let router = poa_router();
    let grid = LinkedTargets::grid(&router.net, 100.0, 15 * 60);
    let mut req = poa_request(LatLon::new(-30.0346, -51.2177), 0, 60);
    req.mode = SurfaceMode::Walk;
    // A walk-only trip is one walking leg: bounded by max_walk_time (as in r5r), which
    // the query layer sets to the trip duration in walk mode.
    req.max_walk_s = req.max_time_s;
    let s = compute(router, &grid, &req, &mut SurfaceScratch::default()).unwrap();
    let cutoffs: Vec<u32> = (1..=12).map(|i| i * 5).collect();
    let gj = terril::analysis::isochrone::isochrones(&grid, &s, 0, &cutoffs);
    let areas: Vec<f64> = gj["features"].as_array().unwrap().iter().map(|f| f["properties"]["area_km2"].as_f64().unwrap()).collect();
    assert!(areas.windows(2).all(|w| w[0] <= w[1]), "{areas:?}");
    assert!(areas[0] > 0.0 && areas[11] > 10.0 * areas[0], "{areas:?}");
    // At 4.8 km/h, 60 minutes of walking covers less than a 4.8 km disc.
    assert!(areas[11] < std::f64::consts::PI * 4.8 * 4.8, "{areas:?}");
}

#[test]
fn transit_never_takes_longer_than_walking_and_percentiles_are_ordered() {
    let _d = require_data!();
    let router = poa_router();
    let hex = hexgrid();
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 15 * 60);
    let o = hex.points[100];
    let mut walk = poa_request(o, 30 * 60, 90);
    walk.mode = SurfaceMode::Walk;
    let mut transit = poa_request(o, 30 * 60, 90);
    transit.percentiles = vec![5, 50, 95];
    let w = compute(router, &targets, &walk, &mut SurfaceScratch::default()).unwrap();
    let t = compute(router, &targets, &transit, &mut SurfaceScratch::default()).unwrap();
    let mut faster = 0;
    for d in 0..hex.len() {
        assert!(t.times_s[1][d] <= w.times_s[0][d], "transit includes walking");
        assert!(t.times_s[0][d] <= t.times_s[1][d] && t.times_s[1][d] <= t.times_s[2][d]);
        if t.times_s[1][d] < w.times_s[0][d] {
            faster += 1;
        }
    }
    assert!(faster > 100, "transit helps somewhere ({faster})");
}

/// Asserts that `router` and `other` (the same network, searched by other rules) give
/// equal surfaces over a two-hour window at three percentiles with up to 5 transfers,
/// from every `step`-th hexagon after `first`, for each request variant in `variants`
/// (named, applied to the afternoon request).
fn assert_same_surfaces(router: &Router, other: &Router, first: usize, step: usize, variants: &[(&str, fn(&mut SurfaceRequest))]) {
    let hex = hexgrid();
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 15 * 60);
    let origins: Vec<usize> = (first..hex.len()).step_by(step).collect();
    origins.par_iter().for_each(|&o| {
        for (name, vary) in variants {
            let mut req = poa_request(hex.points[o], 120 * 60, 60);
            req.percentiles = vec![5, 50, 95];
            req.max_transfers = 5;
            vary(&mut req);
            let got = compute(router, &targets, &req, &mut SurfaceScratch::default()).unwrap();
            let want = compute(other, &targets, &req, &mut SurfaceScratch::default()).unwrap();
            assert_eq!(got, want, "origin {}, {name}", hex.ids[o]);
        }
    });
}

/// The request variants the range-search rules are checked under: the afternoon as
/// asked, no change time and a long one, a window across midnight (three service days
/// in play), a slow walker, a short transfer-walk limit, a wheelchair.
const VARIANTS: &[(&str, fn(&mut SurfaceRequest))] = &[
    ("afternoon", |_| {}),
    ("no change time", |r| r.transfer_slack_s = 0),
    ("2-minute change time", |r| r.transfer_slack_s = 120),
    ("23:00-01:00", |r| r.from_s = 23 * 3600),
    ("0.8 m/s walker", |r| r.walk_speed_mps = 0.8),
    ("transfer walks up to 4 min", |r| r.max_transfer_walk_s = Some(240)),
    ("wheelchair", |r| r.wheelchair = true),
];

/// Consistency test (the engine against itself): range searches walk only the transfers
/// that can serve a boarding no shorter walk serves as well (`TransitView::fp_board`).
/// Surfaces with that subset equal those with every transfer, for origins across the
/// city over a two-hour window, at three percentiles; and the subset is a real one.
#[test]
fn surfaces_with_the_boarding_transfers_equal_those_with_every_transfer_consistency() {
    let _d = require_data!();
    let router = poa_router();
    let mut all = Router::new(poa().clone());
    assert!(all.forward.fp_board.len() * 10 < all.forward.fp_walk.len() * 8, "at least a fifth of the transfers go ({} of {})", all.forward.fp_board.len(), all.forward.fp_walk.len());
    all.forward.fp_board = all.forward.fp_walk.clone();
    all.forward.fp_board_offsets = all.forward.fp_offsets.clone();
    // Nor the lists of walks a rider who stayed on board still needs.
    all.forward.fp_after_need.clear();
    assert_same_surfaces(router, &all, 0, 61, &VARIANTS[..1]);
}

/// Consistency test (the engine against itself): a range search walks, from a stop a
/// trip reached after letting riders off at an earlier stop, only the transfers the
/// earlier stop does not reach as early (`TransitView::fp_after`). Surfaces with those
/// lists equal those with each stop's whole boarding list, for origins across the city
/// under every request variant of [`VARIANTS`]; and the lists drop a third of the walks
/// at least, counted per pattern position.
#[test]
fn surfaces_with_the_ride_transfer_lists_equal_those_without_consistency() {
    let _d = require_data!();
    let router = poa_router();
    let v = &router.forward;
    let board_len = |s: StopIdx| (v.fp_board_offsets[s as usize + 1] - v.fp_board_offsets[s as usize]) as usize;
    let (mut whole, mut kept) = (0, 0);
    for (g, &(a, b)) in v.fp_after_range.iter().enumerate() {
        if v.fp_after_need[g].0 > 0 {
            whole += board_len(v.pattern_stops[g]);
            kept += (b - a) as usize;
        }
    }
    assert!(kept * 3 < whole * 2, "a third of the walks go ({kept} of {whole})");
    let mut without = Router::new(poa().clone());
    without.forward.fp_after_need.clear();
    assert_same_surfaces(router, &without, 30, 53, VARIANTS);
}

/// Consistency test (the engine against itself): a range search marks a stop whose
/// label changed in a round (or an access label) only when a vehicle leaves it between
/// the new time and the old (`TransitView::stop_deps`), and scans next only the
/// patterns that do. Surfaces equal those of searches that mark every changed stop with
/// all of its patterns, for origins across the city under every request variant of
/// [`VARIANTS`].
#[test]
fn surfaces_marking_only_stops_with_a_departure_in_between_equal_those_marking_all_consistency() {
    let _d = require_data!();
    let router = poa_router();
    let mut all = Router::new(poa().clone());
    all.forward.stop_deps_offsets.clear();
    assert_same_surfaces(router, &all, 17, 59, VARIANTS);
}

/// Consistency test (the engine against itself): a range search carries each
/// departure's labels into the next (earlier) one, walks only the transfer lists made
/// for it, and marks, at each changed stop, only the patterns that leave it in between.
/// Its surface equals the percentiles, taken here, of the same window's departures each
/// searched alone from nothing by a router without those lists and that marking check
/// (every transfer walked, every changed stop marked with all of its patterns), for
/// origins across the city under every request variant of [`VARIANTS`] (the window
/// across midnight: 23:50-00:10 here).
#[test]
fn range_surfaces_equal_departures_searched_one_by_one_consistency() {
    let _d = require_data!();
    let router = poa_router();
    let mut plain = Router::new(poa().clone());
    plain.forward.stop_deps_offsets.clear();
    plain.forward.fp_board_offsets.clear();
    plain.forward.fp_after_need.clear();
    let hex = hexgrid();
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 15 * 60);
    let origins: Vec<usize> = (40..hex.len()).step_by(173).collect();
    let reached = std::sync::atomic::AtomicUsize::new(0);
    origins.par_iter().for_each(|&o| {
        for (name, vary) in VARIANTS {
            let mut req = poa_request(hex.points[o], 20 * 60, 60);
            req.percentiles = vec![5, 50, 95];
            req.max_transfers = 5;
            vary(&mut req);
            if req.from_s == 23 * 3600 {
                req.from_s += 50 * 60;
            }
            let range = compute(router, &targets, &req, &mut SurfaceScratch::default()).unwrap();
            // Each departure alone: a window of one departure.
            let mut samples = vec![Vec::new(); hex.len()];
            for i in 0..req.departures() {
                let mut one = req.clone();
                one.from_s = req.from_s + i * req.step_s;
                one.window_s = 0;
                one.percentiles = vec![100];
                let s = compute(&plain, &targets, &one, &mut SurfaceScratch::default()).unwrap();
                for (t, &v) in s.times_s[0].iter().enumerate() {
                    samples[t].push(v);
                }
            }
            for (pi, &p) in req.percentiles.iter().enumerate() {
                let want: Vec<u32> = samples
                    .iter_mut()
                    .map(|v| {
                        v.sort_unstable();
                        terril::analysis::surface::nearest_rank(v, p)
                    })
                    .collect();
                assert_eq!(range.times_s[pi], want, "origin {}, {name}, percentile {p}", hex.ids[o]);
            }
            reached.fetch_add(range.times_s[1].iter().filter(|&&t| t != UNREACHABLE && t > 20 * 60).count(), std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(reached.into_inner() > 1000, "surfaces with transit");
}

/// A surface asked alone splits its window over two threads (two exact range searches);
/// one asked from a batch runs one range search. Same surfaces, to the second and to the
/// departure that realises the first percentile, across the city.
#[test]
fn a_surface_split_over_two_threads_equals_one_range_search_consistency() {
    let _d = require_data!();
    let router = poa_router();
    let hex = hexgrid();
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 15 * 60);
    let mut far = 0;
    for o in (0..hex.len()).step_by(97) {
        let mut req = poa_request(hex.points[o], 120 * 60, 60);
        req.percentiles = vec![5, 50, 95];
        req.max_transfers = 5;
        let (mut a, mut b) = (SurfaceScratch::default(), SurfaceScratch::default());
        (a.record_minutes, a.split_window) = (true, Some(true));
        (b.record_minutes, b.split_window) = (true, Some(false));
        let split = compute(router, &targets, &req, &mut a).unwrap();
        let one = compute(router, &targets, &req, &mut b).unwrap();
        far += split.times_s[1].iter().filter(|&&t| t != UNREACHABLE && t > 20 * 60).count();
        assert_eq!(split, one, "origin {}", hex.ids[o]);
    }
    assert!(far > 1000, "{far} targets beyond 20 minutes: surfaces with transit");
}

#[test]
fn a_hospital_is_about_zero_minutes_from_itself() {
    let d = require_data!();
    let hosp = load(&d.join("bassin-minier/hospitals-59-62.csv"), &LoadOptions::default()).unwrap();
    assert_eq!(hosp.len(), 278);
    let router = Router::new(ter2025().clone());
    let targets = LinkedTargets::from_points(&router.net, &hosp.points, 15 * 60);
    let lens = (0..hosp.len()).find(|&i| hosp.labels[i].contains("LENS") && hosp.labels[i].starts_with("CENTRE HOSPITALIER")).expect("CH Lens in the file");
    let mut req = SurfaceRequest::new(hosp.points[lens], jiff::civil::date(2025, 2, 4), 8 * 3600, 30 * 60);
    req.max_time_s = 60 * 60;
    let s = compute(&router, &targets, &req, &mut SurfaceScratch::default()).unwrap();
    assert_eq!(s.times_s[0][lens], 0, "the hospital's own point");
    let spec = AccessSpec { cutoffs_min: vec![30], decay: Decay::Step, columns: vec!["count".into()], nth: vec![1, 2], nearest_column: "count".into() };
    let v = access::indicators(&s, &hosp, &spec);
    assert_eq!(v[0], 0.0, "nearest hospital at 0 min");
    assert!(v[1] > 0.0 && v[1] <= 30.0, "second nearest: {}", v[1]);
}

#[test]
fn batch_output_is_deterministic_byte_for_byte() {
    let _d = require_data!();
    let router = poa_router();
    let hex = hexgrid();
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 15 * 60);
    let sub = PointSet { ids: hex.ids[..40].to_vec(), points: hex.points[..40].to_vec(), labels: vec![String::new(); 40], ..Default::default() };
    let mut req = poa_request(hex.points[0], 20 * 60, 60);
    req.percentiles = vec![5, 50, 95];
    let spec = AccessSpec { cutoffs_min: vec![30, 45, 60], decay: Decay::Logistic { width_s: 600 }, columns: vec!["jobs".into(), "schools".into()], nth: vec![1, 3], nearest_column: "healthcare".into() };
    let names = access::column_names(&req.percentiles, &spec);
    let run = || access::to_csv(&access::batch(router, &sub, &targets, &hex, &req, &spec, &indicatif::ProgressBar::hidden()), &names);
    let a = run();
    let b = run();
    assert_eq!(a, b);
    assert!(a.lines().count() == 41 && a.starts_with("id,label,lat,lon,time_nearest_min_p5"));
}

#[test]
fn bad_analysis_requests_are_refused_with_reasons() {
    let _d = require_data!();
    let router = poa_router();
    let grid = LinkedTargets::from_points(&router.net, &[LatLon::new(-30.03, -51.22)], 900);
    let mut sc = SurfaceScratch::default();
    let mut r = poa_request(LatLon::new(48.85, 2.35), 3600, 60);
    assert_eq!(compute(router, &grid, &r, &mut sc).unwrap_err().error, "outside_area");
    r = poa_request(LatLon::new(-30.03, -51.22), 13 * 3600, 60);
    assert_eq!(compute(router, &grid, &r, &mut sc).unwrap_err().error, "too_big");
    r = poa_request(LatLon::new(-30.03, -51.22), 3600, 60);
    r.date = jiff::civil::date(2030, 1, 1);
    assert_eq!(compute(router, &grid, &r, &mut sc).unwrap_err().error, "date_outside_validity");
}
