//! RAPTOR checked against a deliberately simple reference on the real TER 2025 and Porto
//! Alegre networks: random stop-to-stop queries must get the same earliest arrival for
//! every number of rides, and every itinerary `plan` returns must be feasible in the raw
//! GTFS files and not dominated by another.
//!
//! The reference shares no code with `route::raptor`: it enumerates every trip running
//! on the day before, the day of and the day after the query (times shifted by the real
//! length of those days), and for each round scans every trip from the first stop where
//! it can be boarded — a Bellman-Ford over trips, O(rounds x stop times).

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use terril::model::timetable::{StopIdx, NONE, NO_DROP_OFF, NO_PICKUP};
use terril::model::search::Pace;
use terril::model::Network;
use terril::route::plan::{Place, PlanRequest, Router};
use terril::route::raptor::{DayContext, Raptor, RaptorParams, StopTime, TransitView, INF, MIRROR};

const SLACK: i64 = 60;
const ROUNDS: usize = 6;

struct Instance {
    stops: Vec<StopIdx>,
    arr: Vec<i64>,
    dep: Vec<i64>,
    pickup: Vec<bool>,
    drop: Vec<bool>,
    /// `Mode::bit` of the trip's route.
    mode: u8,
}

fn origin_ts(tz: &jiff::tz::TimeZone, d: jiff::civil::Date) -> i64 {
    d.at(12, 0, 0, 0).to_zoned(tz.clone()).unwrap().timestamp().as_second() - 12 * 3600
}

/// Every trip instance that runs around `date`, in seconds after `date`'s GTFS origin.
fn instances(net: &Network, date: jiff::civil::Date) -> Vec<Instance> {
    let tt = &net.timetable;
    let cal = tt.calendar();
    let tz = jiff::tz::TimeZone::get(&tt.timezone).unwrap();
    let o = origin_ts(&tz, date);
    let mut out = Vec::new();
    for k in [-1i64, 0, 1] {
        let d = date.checked_add(jiff::Span::new().days(k)).unwrap();
        let Some(di) = cal.day_index(d) else { continue };
        let shift = origin_ts(&tz, d) - o;
        for trip in 0..tt.trips.ids.len() {
            if !cal.runs(tt.trips.service[trip], di) {
                continue;
            }
            let p = tt.trips.pattern[trip];
            let t = trip as u32 - tt.patterns[p as usize].trip_offset;
            let n = tt.patterns[p as usize].n_stops;
            let flags = tt.pattern_flags(p);
            out.push(Instance {
                stops: tt.pattern_stops(p).to_vec(),
                arr: (0..n).map(|i| tt.arrivals[tt.st_index(p, t, i)] as i64 + shift).collect(),
                dep: (0..n).map(|i| tt.departures[tt.st_index(p, t, i)] as i64 + shift).collect(),
                pickup: flags.iter().map(|f| f & NO_PICKUP == 0).collect(),
                drop: flags.iter().map(|f| f & NO_DROP_OFF == 0).collect(),
                mode: tt.routes.modes[tt.patterns[p as usize].route as usize].bit(),
            });
        }
    }
    out
}

/// Earliest arrival at every stop for 0..=`max_rounds` rides on trips of `modes`.
fn reference(net: &Network, inst: &[Instance], access: &[(StopIdx, i64)], max_rounds: usize, modes: u8) -> Vec<Vec<i64>> {
    let n = net.timetable.stops.len();
    let big = i64::MAX / 4;
    let mut rounds = vec![vec![big; n]];
    for &(s, t) in access {
        rounds[0][s as usize] = rounds[0][s as usize].min(t);
    }
    for k in 1..=max_rounds {
        let prev = rounds[k - 1].clone();
        let mut ride = vec![big; n];
        for it in inst.iter().filter(|it| it.mode & modes != 0) {
            let mut on = false;
            for i in 0..it.stops.len() {
                let s = it.stops[i] as usize;
                if on && it.drop[i] {
                    ride[s] = ride[s].min(it.arr[i]);
                }
                if !on && it.pickup[i] && prev[s] < big {
                    let slack = if k >= 2 { SLACK.max(net.timetable.stop_min_change_s[s] as i64) } else { 0 };
                    if prev[s] + slack <= it.dep[i] {
                        on = true;
                    }
                }
            }
        }
        let mut cur = prev.clone();
        for s in 0..n {
            cur[s] = cur[s].min(ride[s]);
        }
        // A transfer walk may follow any ride, even to a stop reached earlier on foot
        // (footpaths are not transitive).
        for p in 0..n {
            if ride[p] < big {
                for f in net.footpaths.from(p as StopIdx) {
                    cur[f.to as usize] = cur[f.to as usize].min(ride[p] + f.secs(Pace::WALK) as i64);
                }
            }
        }
        rounds.push(cur);
    }
    rounds
}

fn served_stations(net: &Network) -> Vec<StopIdx> {
    let tt = &net.timetable;
    let mut v: Vec<StopIdx> = (0..tt.stops.len() as StopIdx)
        .filter(|&s| tt.stops.parent[s as usize] == NONE && tt.serving_stops(s).iter().any(|&c| !tt.patterns_at(c).is_empty()))
        .collect();
    // In id order: the same draws whatever the stops' numbering.
    v.sort_by(|&a, &b| tt.stops.ids[a as usize].cmp(&tt.stops.ids[b as usize]));
    v
}

fn seed() -> u64 {
    std::env::var("TERRIL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20250204)
}

/// Same earliest arrival per number of rides, on `n` random queries, with up to `rounds`
/// rides on trips of `modes`.
fn compare_with_reference(net: &Network, date: jiff::civil::Date, hours: (u32, u32), n: usize, rounds: usize, modes: u8) {
    let router = Router::new(net.clone());
    let inst = instances(net, date);
    let ctx = DayContext::new(net, date);
    let params = RaptorParams { max_rounds: rounds, modes, transfer_slack_s: SLACK as u32, max_footpath_s: u32::MAX, ..Default::default() };
    let mut raptor = Raptor::new(net.timetable.stops.len(), rounds);
    let stations = served_stations(net);
    let seed = seed();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut reachable = 0;
    for q in 0..n {
        let from = stations[rng.random_range(0..stations.len())];
        let to = stations[rng.random_range(0..stations.len())];
        let t = ctx.wall_to_gtfs(rng.random_range(hours.0 * 3600..hours.1 * 3600));
        let tt = &net.timetable;
        let access: Vec<(StopIdx, i64)> = tt.serving_stops(from).into_iter().map(|s| (s, t)).collect();
        let targets = tt.serving_stops(to);
        let expect = reference(net, &inst, &access, rounds, modes);
        let acc: Vec<StopTime> = access.iter().map(|&(s, t)| StopTime { stop: s, time: t as i32 }).collect();
        let egr: Vec<StopTime> = targets.iter().map(|&s| StopTime { stop: s, time: 0 }).collect();
        raptor.run(&router.forward, &ctx, &params, &acc, &egr);
        let mut last = INF as i64;
        for k in 1..=rounds {
            let want = targets.iter().map(|&s| expect[k][s as usize]).min().unwrap();
            let kk = k.min(raptor.rounds_run.max(1));
            let got = targets.iter().map(|&s| raptor.tau[kk][s as usize] as i64).min().unwrap();
            let got = if got >= INF as i64 { i64::MAX / 4 } else { got };
            assert_eq!(got, want, "seed {seed} query {q}: {} -> {} at {t}, {k} rides", tt.stops.ids[from as usize], tt.stops.ids[to as usize]);
            last = last.min(got);
        }
        if last < i64::MAX / 4 && from != to {
            reachable += 1;
        }
    }
    assert!(reachable > n / 4, "most random queries should be answerable ({reachable}/{n})");
}

#[test]
fn raptor_equals_the_reference_on_ter_2025() {
    let _d = require_data!();
    compare_with_reference(ter2025(), jiff::civil::date(2025, 2, 4), (5, 21), 250, ROUNDS, u8::MAX);
}

/// With the most rides a request may ask (9: the ride-bound search then stops at level 4)
/// and trains only (coaches left out of the search and of its bound).
#[test]
fn raptor_equals_the_reference_on_ter_2025_with_nine_rides_by_train_only() {
    let _d = require_data!();
    compare_with_reference(ter2025(), jiff::civil::date(2025, 2, 4), (5, 21), 120, 9, terril::model::timetable::Mode::Rail.bit());
}

#[test]
fn raptor_equals_the_reference_on_porto_alegre() {
    let _d = require_data!();
    compare_with_reference(poa(), jiff::civil::date(2019, 5, 13), (11, 17), 150, ROUNDS, u8::MAX);
}

/// Raw TER timetable: trip -> (service, [(stop_id, arr, dep)] by sequence).
type RawTrips = HashMap<String, (String, Vec<(String, i64, i64)>)>;

fn raw_trips(feed: &std::path::Path) -> RawTrips {
    let trips = raw_table(feed, "trips.txt").unwrap();
    let st = raw_table(feed, "stop_times.txt").unwrap();
    let mut out: RawTrips = trips.rows.iter().map(|r| (trips.get(r, "trip_id").to_string(), (trips.get(r, "service_id").to_string(), vec![]))).collect();
    let mut tmp: HashMap<String, Vec<(u32, String, i64, i64)>> = HashMap::new();
    for r in &st.rows {
        tmp.entry(st.get(r, "trip_id").to_string()).or_default().push((
            st.get(r, "stop_sequence").parse().unwrap(),
            st.get(r, "stop_id").to_string(),
            parse_hms(st.get(r, "arrival_time")).unwrap(),
            parse_hms(st.get(r, "departure_time")).unwrap(),
        ));
    }
    for (k, mut v) in tmp {
        v.sort_by_key(|x| x.0);
        out.get_mut(&k).unwrap().1 = v.into_iter().map(|x| (x.1, x.2, x.3)).collect();
    }
    out
}

fn ts(rfc: &str) -> i64 {
    rfc.parse::<jiff::Timestamp>().unwrap().as_second()
}

#[test]
fn every_ter_itinerary_is_feasible_in_the_raw_feed_and_none_is_dominated() {
    let d = require_data!();
    let feed = d.join("ter/ter-2025-01-22.gtfs.zip");
    let raw = raw_trips(&feed);
    let services = raw_service_dates(&feed);
    let net = ter2025();
    let router = Router::new(net.clone());
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let stations = served_stations(net);
    let seed = seed();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ 0x5eed);
    let date = jiff::civil::date(2025, 2, 4);
    let mut checked_legs = 0;
    for q in 0..120 {
        let from = &net.timetable.stops.ids[stations[rng.random_range(0..stations.len())] as usize];
        let to = &net.timetable.stops.ids[stations[rng.random_range(0..stations.len())] as usize];
        let mut req = PlanRequest::new(Place::Stop(from.clone()), Place::Stop(to.clone()), date, rng.random_range(5 * 3600..20 * 3600));
        req.arrive_by = q % 3 == 0;
        let plan = router.plan(&req).unwrap();
        let ctx = format!("seed {seed} query {q}: {from} -> {to} arrive_by={}", req.arrive_by);
        for it in &plan.itineraries {
            let mut prev_ride_end: Option<i64> = None;
            let mut prev_end: Option<i64> = None;
            for leg in &it.legs {
                let (s, e) = (ts(&leg.start_time), ts(&leg.end_time));
                assert!(s <= e, "{ctx}: leg ends before it starts");
                if let Some(pe) = prev_end {
                    assert!(s >= pe, "{ctx}: legs overlap");
                }
                if let Some(trip) = &leg.trip_id {
                    let (service, calls) = &raw[trip.strip_prefix("ter:").unwrap()];
                    let from_id = leg.from.stop_id.as_ref().unwrap().strip_prefix("ter:").unwrap();
                    let to_id = leg.to.stop_id.as_ref().unwrap().strip_prefix("ter:").unwrap();
                    let i = calls.iter().position(|c| c.0 == from_id).unwrap_or_else(|| panic!("{ctx}: {trip} does not call at {from_id}"));
                    let j = calls.iter().rposition(|c| c.0 == to_id).unwrap_or_else(|| panic!("{ctx}: {trip} does not call at {to_id}"));
                    assert!(i < j, "{ctx}: ride goes backwards");
                    // Some service day around the date on which the trip runs gives exactly these times.
                    let ok = [-1i64, 0, 1].iter().any(|k| {
                        let day = date.checked_add(jiff::Span::new().days(*k)).unwrap();
                        let o = origin_ts(&tz, day);
                        services.get(service).is_some_and(|set| set.contains(&day.strftime("%Y%m%d").to_string())) && o + calls[i].2 == s && o + calls[j].1 == e
                    });
                    assert!(ok, "{ctx}: {trip} {from_id} {} -> {to_id} {} not in the raw feed on a running day", leg.start_time, leg.end_time);
                    if let Some(pr) = prev_ride_end {
                        // Between two rides: the walk (if any) plus the transfer slack.
                        let walked = prev_end.unwrap() - pr;
                        assert!(s - pr >= walked + SLACK, "{ctx}: transfer shorter than walk + slack");
                    }
                    prev_ride_end = Some(e);
                    checked_legs += 1;
                }
                prev_end = Some(e);
            }
            assert_eq!(it.transfers as usize + 1, it.legs.iter().filter(|l| l.trip_id.is_some()).count());
        }
        // No option dominated by another.
        for a in &plan.itineraries {
            for b in &plan.itineraries {
                if a == b {
                    continue;
                }
                let dominated = b.start_s >= a.start_s && b.end_s <= a.end_s && b.transfers <= a.transfers && (b.start_s > a.start_s || b.end_s < a.end_s || b.transfers < a.transfers);
                assert!(!dominated, "{ctx}: {} -> {} dominated by {} -> {}", a.start_time, a.end_time, b.start_time, b.end_time);
            }
        }
    }
    assert!(checked_legs > 100, "enough rides checked ({checked_legs})");
}

#[test]
fn the_planner_finds_the_reference_earliest_arrival_from_stations() {
    let _d = require_data!();
    // End to end through `plan` (access footpaths, egress, itinerary building): the first
    // itinerary arrives exactly when the reference says, with the same footpath rules.
    let net = ter2025();
    let router = Router::new(net.clone());
    let date = jiff::civil::date(2025, 2, 4);
    let inst = instances(net, date);
    let ctx = DayContext::new(net, date);
    let stations = served_stations(net);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed() ^ 0xabc);
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let o = origin_ts(&tz, date);
    let mut compared = 0;
    let mut limited = 0;
    for q in 0..120 {
        let (f, t) = (stations[rng.random_range(0..stations.len())], stations[rng.random_range(0..stations.len())]);
        if f == t {
            continue;
        }
        let wall = rng.random_range(6 * 3600..18 * 3600);
        let tt = &net.timetable;
        let mut req = PlanRequest::new(Place::Stop(tt.stops.ids[f as usize].clone()), Place::Stop(tt.stops.ids[t as usize].clone()), date, wall);
        // One query in three with fewer rides allowed: the search prunes stops by a lower
        // bound on the rides left to the destination, and must still find what the
        // reference finds within that many rides.
        let rides = if q % 3 == 0 { rng.random_range(1..ROUNDS) } else { ROUNDS };
        req.max_transfers = (rides - 1) as u32;
        req.num_itineraries = 1;
        req.window_s = 0;
        let plan = router.plan(&req).unwrap();
        let t0 = ctx.wall_to_gtfs(wall);
        // Access: the station's stops and their footpaths (within the walk limit).
        let mut access: Vec<(StopIdx, i64)> = Vec::new();
        for s in tt.serving_stops(f) {
            access.push((s, t0));
            for f in net.footpaths.from(s) {
                let d = f.secs(Pace::WALK);
                if d <= req.max_walk_s {
                    access.push((f.to, t0 + d as i64));
                }
            }
        }
        let expect = reference(net, &inst, &access, ROUNDS, u8::MAX);
        // Egress: the destination's stops, or a footpath into them.
        let mut best = i64::MAX / 4;
        for k in 1..=rides {
            for s in tt.serving_stops(t) {
                best = best.min(expect[k][s as usize]);
                for f in router.forward_footpaths_into(s) {
                    let d = f.secs(Pace::WALK);
                    if d <= req.max_walk_s {
                        best = best.min(expect[k][f.to as usize] + d as i64);
                    }
                }
            }
        }
        match plan.itineraries.first() {
            Some(it) => {
                assert_eq!(ts(&it.end_time) - o, best, "query {q} ({rides} rides)");
                compared += 1;
                limited += (rides < ROUNDS) as usize;
            }
            None => assert!(best >= i64::MAX / 4 || best - t0 > 24 * 3600, "query {q}: reference reaches at {best}, plan found nothing"),
        }
    }
    assert!(compared > 30 && limited > 5, "{compared} compared, {limited} with fewer rides");
}

#[test]
fn raptor_equals_the_reference_on_the_demo_town() {
    // No shared data needed: the fictional town is made by terril itself.
    let today = jiff::civil::date(2026, 11, 24);
    let net = terril::demo::network(today).unwrap();
    compare_with_reference(&net, today, (5, 23), 200, ROUNDS, u8::MAX);
    // And on a Sunday (weekend headways) with trips crossing midnight.
    compare_with_reference(&net, jiff::civil::date(2026, 11, 29), (20, 24), 100, ROUNDS, u8::MAX);
}

/// The timetable's stop index (ids sorted, station children) against plain scans written
/// here, for every stop of the TER network (a station with several stops, ids with and
/// without their feed prefix), through the timetable and the router.
#[test]
fn stop_index_equals_plain_scans() {
    let _d = require_data!();
    let net = ter2025();
    let router = Router::new(net.clone());
    let tt = &net.timetable;
    let mut stations_with_children = 0;
    let mut bare_ids: std::collections::HashMap<&str, usize> = Default::default();
    let mut first_of: std::collections::HashMap<&str, StopIdx> = Default::default();
    for (i, id) in tt.stops.ids.iter().enumerate() {
        *bare_ids.entry(id.split_once(':').unwrap().1).or_default() += 1;
        first_of.entry(id.as_str()).or_insert(i as StopIdx);
    }
    for s in 0..tt.stops.len() as StopIdx {
        let scanned: Vec<StopIdx> = if tt.stops.is_station[s as usize] { (0..tt.stops.len() as StopIdx).filter(|&c| tt.stops.parent[c as usize] == s).collect() } else { vec![s] };
        assert_eq!(tt.serving_stops(s), scanned, "stop {}", tt.stops.ids[s as usize]);
        stations_with_children += (tt.stops.is_station[s as usize] && scanned.len() > 1) as usize;
        let id = &tt.stops.ids[s as usize];
        let first = first_of.get(id.as_str()).copied();
        assert_eq!(tt.stop_by_id(id), first);
        assert_eq!(router.resolve_stop(id).ok(), first);
        let bare = id.split_once(':').unwrap().1;
        let unique = bare_ids[bare] == 1;
        assert_eq!(router.resolve_stop(bare).ok(), if unique { first } else { None }, "{bare}");
    }
    assert!(stations_with_children > 100, "{stations_with_children} stations with several stops");
    assert!(router.resolve_stop("no such stop").is_err());
}

/// A plan with no journey within its walking limit retries with longer walks and skips a
/// limit that reaches the same stops in the same times; the limit it reports must be the
/// first one at which a plan asked with that limit finds a journey itself (Porto Alegre,
/// points up to 2 km from a stop, or 6 km in one query in two, at any hour, one query in
/// three without transfers: many pairs need the longer walks, some find nothing; then TER
/// stations, where every longer walk is skipped).
#[test]
fn the_walk_a_plan_extends_to_is_the_first_limit_with_a_journey_consistency() {
    let _d = require_data!();
    let net = poa();
    let router = Router::new(net.clone());
    // In one order whatever the stops' numbering.
    let mut points: Vec<terril::model::geo::LatLon> = net.stop_links.iter().flatten().map(|s| s.point).collect();
    points.sort_by(|a, b| (a.lat, a.lon).partial_cmp(&(b.lat, b.lon)).unwrap());
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed() ^ 0x3a1c);
    let date = jiff::civil::date(2019, 5, 13);
    let (mut extended, mut none) = (0, 0);
    // At least 160 queries, more until both outcomes were seen a few times (a plan that
    // finds nothing with any walk is rare: one in a hundred).
    for q in 0..2000 {
        if q >= 160 && extended >= 5 && none >= 2 {
            break;
        }
        let r = if q % 2 == 0 { 0.018 } else { 0.054 };
        let mut near = || {
            let p = points[rng.random_range(0..points.len())];
            terril::model::geo::LatLon::new(p.lat + rng.random_range(-r..r), p.lon + rng.random_range(-r..r))
        };
        let (a, b) = (near(), near());
        let mut req = PlanRequest::new(Place::Coord(a), Place::Coord(b), date, rng.random_range(0..24 * 3600));
        req.max_walk_s = 5 * 60;
        req.num_itineraries = 1;
        if q % 3 == 0 {
            req.max_transfers = 0;
        }
        let Ok(plan) = router.plan(&req) else { continue };
        if !plan.itineraries.is_empty() && plan.walk_extended_min.is_none() {
            continue;
        }
        let first = [20u32, 30, 45, 60].into_iter().find(|&m| {
            let mut longer = req.clone();
            longer.max_walk_s = m * 60;
            router.plan(&longer).is_ok_and(|p| !p.itineraries.is_empty() && p.walk_extended_min.is_none())
        });
        assert_eq!(plan.walk_extended_min, first, "query {q}: {a:?} -> {b:?} at {}", req.time_s);
        if first.is_some() { extended += 1 } else { none += 1 }
    }
    assert!(extended >= 5 && none >= 2, "{extended} plans extended, {none} with none: too few to check");
    // TER stations (no streets: a longer walk reaches no other stop, and is skipped):
    // a plan asked with any longer limit finds nothing either.
    let net = ter2025();
    let router = Router::new(net.clone());
    let stations = served_stations(net);
    let date = jiff::civil::date(2025, 2, 4);
    let mut unanswered = 0;
    for q in 0..60 {
        let id = |rng: &mut rand::rngs::SmallRng| net.timetable.stops.ids[stations[rng.random_range(0..stations.len())] as usize].clone();
        let (from, to) = (id(&mut rng), id(&mut rng));
        let req = PlanRequest::new(Place::Stop(from.clone()), Place::Stop(to.clone()), date, rng.random_range(5 * 3600..21 * 3600));
        let Ok(plan) = router.plan(&req) else { continue };
        if !plan.itineraries.is_empty() {
            continue;
        }
        unanswered += 1;
        assert_eq!(plan.reason, Some("no_transit"), "query {q}: {from} -> {to}");
        for m in [20u32, 30, 45, 60] {
            let mut longer = req.clone();
            longer.max_walk_s = m * 60;
            assert!(router.plan(&longer).unwrap().itineraries.is_empty(), "query {q}: {from} -> {to} within {m} min of walking");
        }
    }
    assert!(unanswered >= 5, "{unanswered} TER pairs without a journey: too few to check");
}

#[test]
fn running_patterns_change_no_arrival_either_direction_across_dates_consistency() {
    let _d = require_data!();
    // One-to-one searches scan only the patterns that run on the query's days, and cache
    // their ride bound per destination. Against the same searches over every pattern (a
    // context whose lists were made for another view serves none), both directions, one
    // scratch alternating a Tuesday and a Sunday: a bound kept from the other date, or a
    // pattern dropped that runs, would change an arrival.
    let net = ter2025();
    let router = Router::new(net.clone());
    let tt = &net.timetable;
    let dates = [jiff::civil::date(2025, 2, 4), jiff::civil::date(2025, 2, 9)];
    let filtered: Vec<DayContext> = dates.iter().map(|&d| DayContext::new(net, d)).collect();
    let unfiltered: Vec<DayContext> = dates.iter().map(|&d| DayContext::new(net, d)).collect();
    let (other_forward, other_backward) = (TransitView::forward(net), TransitView::backward(net));
    for c in &unfiltered {
        assert!(c.running(&other_forward).is_some() && c.running(&other_backward).is_some());
        assert!(c.running(&router.forward).is_none() && c.running(&router.backward).is_none());
    }
    for c in &filtered {
        assert!(c.running(&router.forward).is_some() && c.running(&router.backward).is_some());
    }
    let params = RaptorParams { max_rounds: ROUNDS, transfer_slack_s: SLACK as u32, ..Default::default() };
    let mut one = Raptor::new(tt.stops.len(), ROUNDS);
    let mut all = Raptor::new(tt.stops.len(), ROUNDS);
    let stations = served_stations(net);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed() ^ 0x5eed);
    let (mut reached, mut differ_by_date) = (0, 0);
    for q in 0..240 {
        let (f, t) = (stations[rng.random_range(0..stations.len())], stations[rng.random_range(0..stations.len())]);
        let wall = rng.random_range(6 * 3600..20 * 3600);
        let backward = q % 2 == 1;
        let view = if backward { &router.backward } else { &router.forward };
        let (from, to) = if backward { (t, f) } else { (f, t) };
        let mut arrivals = Vec::new();
        for d in 0..2 {
            let t0 = filtered[d].wall_to_gtfs(wall);
            let t0 = if backward { MIRROR - t0 } else { t0 };
            let access: Vec<StopTime> = tt.serving_stops(from).into_iter().map(|s| StopTime { stop: s, time: t0 as i32 }).collect();
            let egress: Vec<StopTime> = tt.serving_stops(to).into_iter().map(|s| StopTime { stop: s, time: 0 }).collect();
            one.run(view, &filtered[d], &params, &access, &egress);
            all.run(view, &unfiltered[d], &params, &access, &egress);
            let best = |r: &Raptor, k: usize| egress.iter().map(|e| r.tau_ride[k.min(r.rounds_run.max(1))][e.stop as usize]).min().unwrap();
            for k in 1..=ROUNDS {
                assert_eq!(best(&one, k), best(&all, k), "query {q} ({} -> {}, {}, backward {backward}), {k} rides", tt.stops.ids[f as usize], tt.stops.ids[t as usize], dates[d]);
            }
            arrivals.push(best(&one, ROUNDS));
        }
        reached += arrivals.iter().filter(|&&a| a < INF).count();
        differ_by_date += (arrivals[0] != arrivals[1]) as usize;
    }
    assert!(reached > 80 && differ_by_date > 20, "{reached} searches reached the destination, {differ_by_date} queries differ between the dates");
}
