//! Scenarios: modifications do what they say, on the demo town, the hand-written feed
//! and the real TER / Porto Alegre networks.

mod common;
use common::*;
use std::path::Path;
use terril::analysis::access::{AccessSpec, Decay};
use terril::analysis::compare::{self, Side};
use terril::analysis::scenario::{apply, validate, Scenario};
use terril::analysis::surface::SurfaceRequest;
use terril::analysis::targets::{LinkedTargets, PointSet};
use terril::model::geo::LatLon;
use terril::model::Network;
use terril::route::plan::{Place, PlanRequest, Router};

fn scenario(json: &str) -> Scenario {
    serde_json::from_str(json).unwrap()
}

fn demo() -> Network {
    terril::demo::network(jiff::civil::date(2026, 11, 24)).unwrap()
}

const TUE: (i16, i8, i8) = (2026, 11, 24);

fn plan(net: &Network, from: &str, to: &str, date: jiff::civil::Date, time: u32) -> terril::route::plan::PlanResponse {
    let r = Router::new(net.clone());
    let mut req = PlanRequest::new(Place::Stop(from.into()), Place::Stop(to.into()), date, time);
    req.num_itineraries = 1;
    req.window_s = 0;
    r.plan(&req).unwrap()
}

#[test]
fn an_added_line_makes_a_new_direct_journey_at_the_stated_times() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
    let base = build_net(&[dir], None);
    let date = jiff::civil::date(2025, 3, 3);
    let before = plan(&base, "tiny:A", "tiny:D", date, 8 * 3600 + 50 * 60);
    let sc = scenario(r#"{"name": "A-D direct", "modifications": [{"type": "add_route", "route_id": "X", "short_name": "X", "mode": "bus",
        "stops": [{"stop_id": "tiny:A"}, {"stop_id": "tiny:D"}], "running_times_s": [600], "departures": ["09:00", "10:00"], "days": ["mon"]}]}"#);
    let (after_net, _) = apply(&base, &sc, &[]).unwrap();
    let after = plan(&after_net, "tiny:A", "tiny:D", date, 8 * 3600 + 50 * 60);
    let it = &after.itineraries[0];
    assert_eq!(it.legs.len(), 1);
    assert!(it.legs[0].trip_id.as_deref().unwrap().starts_with("scenario:X"));
    assert_eq!(&it.start_time[11..16], "09:00");
    assert_eq!(&it.end_time[11..16], "09:10");
    assert!(before.itineraries.first().is_none_or(|b| b.end_s > it.end_s), "slower or impossible before");
    // Not on Tuesday: the stated days hold.
    let tue = plan(&after_net, "tiny:A", "tiny:D", jiff::civil::date(2025, 3, 4), 8 * 3600 + 50 * 60);
    assert!(tue.itineraries.iter().all(|i| i.legs.iter().all(|l| !l.trip_id.as_deref().unwrap_or("").starts_with("scenario:"))));
}

#[test]
fn a_frequency_change_applies_to_both_directions() {
    let base = demo();
    let sc = scenario(r#"{"name": "B1 every 5 min", "modifications": [{"type": "adjust_frequency", "route_id": "fosseville:B1", "headway_min": 5, "span": {"start": "07:00", "end": "09:00"}}]}"#);
    let (after, _) = apply(&base, &sc, &[]).unwrap();
    let tt = &after.timetable;
    let r = tt.routes.ids.iter().position(|x| x == "fosseville:B1").unwrap() as u32;
    let cal = tt.calendar();
    let day = cal.day_index(jiff::civil::date(TUE.0, TUE.1, TUE.2)).unwrap();
    let mut per_first_stop: std::collections::BTreeMap<u32, usize> = Default::default();
    for (p, pat) in tt.patterns.iter().enumerate() {
        if pat.route != r {
            continue;
        }
        for t in 0..pat.n_trips {
            let trip = (pat.trip_offset + t) as usize;
            let dep = tt.departures[tt.st_index(p as u32, t, 0)];
            if cal.runs(tt.trips.service[trip], day) && (7 * 3600..9 * 3600).contains(&dep) {
                *per_first_stop.entry(tt.pattern_stops(p as u32)[0]).or_default() += 1;
            }
        }
    }
    assert_eq!(per_first_stop.len(), 2, "two directions");
    assert!(per_first_stop.values().all(|&n| n == 24), "24 departures in 2 h each way: {per_first_stop:?}");
}

#[test]
fn removing_the_only_route_makes_a_stop_unreachable_by_transit() {
    let base = demo();
    let date = jiff::civil::date(TUE.0, TUE.1, TUE.2);
    assert!(!plan(&base, "fosseville:mairie", "fosseville:delta", date, 8 * 3600).itineraries.is_empty());
    let sc = scenario(r#"{"name": "no line 3", "modifications": [{"type": "remove_route", "route_id": "B3"}]}"#);
    let (after, _) = apply(&base, &sc, &[]).unwrap();
    let p = plan(&after, "fosseville:mairie", "fosseville:delta", date, 8 * 3600);
    assert!(p.itineraries.is_empty(), "Plateforme Delta is served by line 3 only");
    let delta = after.timetable.stop_by_id("fosseville:delta").unwrap();
    assert!(after.timetable.patterns_at(delta).is_empty());
}

fn grid_origins(n: usize) -> PointSet {
    let mut o = PointSet::default();
    for i in 0..n {
        for j in 0..n {
            let p = LatLon::new(50.30 + (i as f64 - n as f64 / 2.0) * 0.004, 2.60 + (j as f64 - n as f64 / 2.0) * 0.006);
            o.ids.push(format!("{i}-{j}"));
            o.points.push(p);
            o.labels.push(if i < n / 2 { "sud".into() } else { "nord".into() });
        }
    }
    o.columns = vec!["population".into()];
    o.weights = vec![vec![100.0; o.points.len()]];
    o
}

fn compare_demo(sc: &Scenario) -> (Vec<compare::CompareRow>, Vec<String>, PointSet) {
    let base = demo();
    let opps = terril::demo::opportunities();
    let (after, opps_after) = apply(&base, sc, &opps).unwrap();
    let (rb, ra) = (Router::new(base), Router::new(after));
    let hosp_b = opps[0].clone();
    let hosp_a = opps_after[0].clone();
    let tb = LinkedTargets::from_points(&rb.net, &hosp_b.points, 900);
    let ta = if hosp_a.points == hosp_b.points { tb.extended_for(&ra.net) } else { LinkedTargets::from_points(&ra.net, &hosp_a.points, 900) };
    let o = grid_origins(8);
    let mut req = SurfaceRequest::new(o.points[0], jiff::civil::date(TUE.0, TUE.1, TUE.2), 7 * 3600, 30 * 60);
    req.max_time_s = 90 * 60;
    let spec = AccessSpec { cutoffs_min: vec![15, 30, 45], decay: Decay::Step, columns: vec!["count".into()], nth: vec![1], nearest_column: "count".into() };
    let rows = compare::compare(&Side { router: &rb, destinations: &hosp_b, targets: &tb }, &Side { router: &ra, destinations: &hosp_a, targets: &ta }, &o, &req, &spec, &indicatif::ProgressBar::hidden());
    (rows, compare::names(&req, &spec), o)
}

#[test]
fn an_empty_scenario_changes_nothing_byte_for_byte() {
    let sc = scenario(r#"{"name": "nothing", "modifications": []}"#);
    let (rows, names, _) = compare_demo(&sc);
    assert!(rows.iter().all(|r| r.before.iter().zip(&r.after).all(|(b, a)| b.to_bits() == a.to_bits())));
    let csv = compare::to_csv(&rows, &names);
    assert!(csv.lines().skip(1).all(|l| l.split(',').skip(4).collect::<Vec<_>>().chunks(3).all(|c| c[2].is_empty() || c[2] == "0")), "{csv}");
    // A no-op trip rewrite (frequency change over an empty span) also changes nothing.
    let sc = scenario(r#"{"name": "speed x1", "modifications": [{"type": "adjust_speed", "route_id": "fosseville:T", "scale": 1.0}]}"#);
    let (rows, _, _) = compare_demo(&sc);
    assert!(rows.iter().all(|r| r.before.iter().zip(&r.after).all(|(b, a)| b.to_bits() == a.to_bits())));
}

/// Issue 13: `adjust_speed.scale` means what it means in Conveyal: a speed multiplier.
/// At scale 2 each trip of the route takes half the time from its first stop; at 0.5,
/// twice as long.
#[test]
fn adjust_speed_scale_multiplies_the_speed_as_in_conveyal() {
    let base = demo();
    let tt = &base.timetable;
    let r = tt.routes.ids.iter().position(|x| x == "fosseville:T").unwrap();
    // Per trip of the route: last arrival - first departure.
    let span = |net: &terril::model::Network| -> Vec<i64> {
        let tt = &net.timetable;
        let mut v = Vec::new();
        for (p, pat) in tt.patterns.iter().enumerate().filter(|(_, pat)| pat.route as usize == r) {
            for t in 0..pat.n_trips {
                let (a, b) = (tt.st_index(p as u32, t, 0), tt.st_index(p as u32, t, pat.n_stops - 1));
                v.push(tt.arrivals[b] as i64 - tt.departures[a] as i64);
            }
        }
        v
    };
    let before = span(&base);
    assert!(!before.is_empty() && before.iter().all(|d| *d > 0));
    for (scale, expect) in [(2.0, 0.5), (0.5, 2.0)] {
        let sc = scenario(&format!(r#"{{"name": "speed", "modifications": [{{"type": "adjust_speed", "route_id": "fosseville:T", "scale": {scale}}}]}}"#));
        let (after, _) = apply(&base, &sc, &[]).unwrap();
        let got = span(&after);
        assert_eq!(got.len(), before.len());
        for (b, a) in before.iter().zip(&got) {
            assert!((*a as f64 - *b as f64 * expect).abs() <= 1.0, "scale {scale}: {b} s -> {a} s");
        }
    }
}

#[test]
fn a_new_hospital_lowers_no_time_and_lowers_some() {
    let sc = scenario(r#"{"name": "new hospital", "modifications": [{"type": "add_opportunities", "set": "hospitals", "points": [{"lat": 50.30, "lon": 2.572, "label": "Hôpital Ouest"}]}]}"#);
    let (rows, names, o) = compare_demo(&sc);
    let k = names.iter().position(|n| n == "time_nearest_min_p50").unwrap();
    let mut lower = 0;
    for r in &rows {
        let (b, a) = (r.before[k], r.after[k]);
        if !b.is_nan() {
            assert!(a <= b, "{}: {b} -> {a}", r.id);
            if a < b {
                lower += 1;
            }
        } else if !a.is_nan() {
            lower += 1;
        }
    }
    assert!(lower > 5, "{lower} origins closer to a hospital");
    let spec = AccessSpec { cutoffs_min: vec![15, 30, 45], decay: Decay::Step, columns: vec!["count".into()], nth: vec![1], nearest_column: "count".into() };
    let s = compare::summarise(&rows, &names, &o, "population", &spec);
    assert!(s.per_cutoff.iter().all(|c| c.losing == 0.0));
    assert!(s.per_cutoff.iter().any(|c| c.gaining > 0.0));
    assert!(s.median_time_change_min.unwrap() <= 0.0);
    let text = compare::describe(&s, "new hospital", "population");
    assert!(text.contains("gagnent") && text.contains("gain"));
}

#[test]
fn invalid_scenarios_report_every_problem_at_once() {
    let base = demo();
    let sc = scenario(r#"{"name": "bad", "modifications": [
        {"type": "add_route", "feed": "nowhere", "route_id": "Z", "short_name": "Z", "mode": "bus", "stops": [{"stop_id": "fosseville:nope"}], "running_times_s": [-5], "headway_min": 10, "span": {"start": "10:00", "end": "09:00"}},
        {"type": "remove_route", "route_id": "B99"},
        {"type": "adjust_speed", "route_id": "B1", "scale": -1}
    ]}"#);
    let e = validate(&base, &sc).unwrap_err().to_string();
    for want in ["feed 'nowhere'", "unknown stop_id 'fosseville:nope'", "2 to 500 stops", "running_times_s must be 1 to 86400 seconds", "span ends before", "unknown route_id 'B99'", "scale must be 0.1 to 10"] {
        assert!(e.contains(want), "missing '{want}' in:\n{e}");
    }
    assert!(apply(&base, &sc, &[]).is_err());
}

/// Requests that once exhausted memory or overflowed are refused before any work, with
/// a short answer that quotes at most an excerpt of the input.
#[test]
fn scenario_values_beyond_the_documented_limits_are_refused_before_any_work() {
    let base = demo();
    let cases = [
        (r#"{"type": "adjust_frequency", "route_id": "fosseville:B1", "headway_min": 0.001, "span": {"start": "00:00", "end": "47:59"}}"#, "headway_min must be 1 to 1440 minutes"),
        (r#"{"type": "adjust_frequency", "route_id": "fosseville:B1", "headway_min": 1, "span": {"start": "00:00", "end": "47:59"}}"#, ""),
        (r#"{"type": "add_route", "route_id": "Z", "short_name": "Z", "mode": "bus", "stops": [{"stop_id": "fosseville:mairie"}, {"stop_id": "fosseville:delta"}], "speed_kmh": 1e-9, "headway_min": 10, "span": {"start": "06:00", "end": "09:00"}}"#, "speed_kmh must be 1 to 400"),
        (r#"{"type": "add_route", "route_id": "Z", "short_name": "Z", "mode": "bus", "stops": [{"stop_id": "fosseville:mairie"}, {"stop_id": "fosseville:delta"}], "running_times_s": [4294967296], "headway_min": 10, "span": {"start": "06:00", "end": "09:00"}}"#, "running_times_s must be 1 to 86400"),
        (r#"{"type": "adjust_speed", "route_id": "fosseville:T", "scale": 1e-12}"#, "scale must be 0.1 to 10"),
    ];
    for (m, want) in cases {
        let sc = scenario(&format!(r#"{{"name": "limits", "modifications": [{m}]}}"#));
        let t = std::time::Instant::now();
        let r = validate(&base, &sc);
        assert!(t.elapsed().as_secs_f64() < 1.0);
        if want.is_empty() {
            // 2,879 trips per direction: within the budget, and it applies.
            assert!(r.is_ok(), "{r:?}");
            assert!(apply(&base, &sc, &[]).is_ok());
        } else {
            let e = r.unwrap_err().to_string();
            assert!(e.contains(want), "missing '{want}' in:\n{e}");
        }
    }
    // 100,000 unknown ids: refused at once, the answer short.
    let ids: Vec<String> = (0..100_000).map(|i| format!("\"no-such-stop-{i}\"")).collect();
    let sc = scenario(&format!(r#"{{"name": "flood", "modifications": [{{"type": "remove_stops", "stop_ids": [{}]}}]}}"#, ids.join(",")));
    let e = validate(&base, &sc).unwrap_err().to_string();
    assert!(e.contains("at most 10000 stop_ids") && e.len() < 500, "{e}");
    let ids: Vec<String> = (0..5_000).map(|i| format!("\"{}{i}\"", "x".repeat(200))).collect();
    let sc = scenario(&format!(r#"{{"name": "flood", "modifications": [{{"type": "remove_stops", "stop_ids": [{}]}}]}}"#, ids.join(",")));
    let e = validate(&base, &sc).unwrap_err().to_string();
    assert!(e.contains("and 4990 more unknown stop_ids") && e.len() < 4_000, "{} bytes", e.len());
}

#[test]
fn the_shipped_scenarios_apply_to_the_real_networks() {
    let d = require_data!();
    let scen_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let ter = ter2025();
    for f in ["ter-lien-rapide-lille-henin.json", "ter-fermeture-valenciennes-lourches.json", "ter-lens-lille-frequence.json", "lens-nouvel-hopital.json"] {
        let sc = terril::analysis::scenario::load(&scen_dir.join(f)).unwrap();
        let mut hosp = terril::analysis::opportunities::load(&d.join("bassin-minier/hospitals-59-62.csv"), &Default::default()).unwrap();
        hosp.name = "hospitals".into();
        let (after, opps) = apply(ter, &sc, &[hosp.clone()]).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(after.timetable.trips.ids.len() != ter.timetable.trips.ids.len() || opps[0].len() == hosp.len() + 1, "{f} changes something");
    }
    // The rapid link: Hénin-Beaumont -> Lille Flandres becomes a direct ride.
    let sc = terril::analysis::scenario::load(&scen_dir.join("ter-lien-rapide-lille-henin.json")).unwrap();
    let (after, _) = apply(ter, &sc, &[]).unwrap();
    let date = jiff::civil::date(2025, 2, 4);
    let b = plan(ter, "ter:StopArea:OCE87345157", "ter:StopArea:OCE87286005", date, 9 * 3600);
    let a = plan(&after, "ter:StopArea:OCE87345157", "ter:StopArea:OCE87286005", date, 9 * 3600);
    assert!(a.itineraries[0].end_s < b.itineraries[0].end_s, "faster with the rapid link");
    assert!(a.itineraries[0].legs.iter().any(|l| l.trip_id.as_deref().unwrap_or("").starts_with("ter:RER-HENIN")));
    // Lourches loses its only line.
    let sc = terril::analysis::scenario::load(&scen_dir.join("ter-fermeture-valenciennes-lourches.json")).unwrap();
    let (after, _) = apply(ter, &sc, &[]).unwrap();
    let p = plan(&after, "ter:StopArea:OCE87343004", "ter:StopArea:OCE87343475", date, 9 * 3600);
    assert!(p.itineraries.iter().all(|i| i.legs.iter().all(|l| l.mode != "rail" || !l.to.name.contains("Lourches"))));
    // Porto Alegre: the new bus line validates on the two-feed network.
    let sc = terril::analysis::scenario::load(&scen_dir.join("poa-nova-linha.json")).unwrap();
    assert!(validate(poa(), &sc).is_ok());
}
