//! The real feeds of ../shared/data load with no hand edits, and what the network holds
//! matches counts computed here from the raw CSV files.

mod common;
use common::*;
use std::collections::{HashMap, HashSet};
use terril::build::{build, BuildConfig};
use terril::model::timetable::Timetable;

/// Trips running on `date` according to the network's calendar.
fn network_trips_on(tt: &Timetable, date: jiff::civil::Date) -> usize {
    let cal = tt.calendar();
    let day = cal.day_index(date).expect("date within validity");
    (0..tt.trips.ids.len()).filter(|&t| cal.runs(tt.trips.service[t], day)).count()
}

/// Trips running on `date` according to the raw files (trips with >= 2 stop times).
fn raw_trips_on(feed: &std::path::Path, date: &str) -> usize {
    let services = raw_service_dates(feed);
    let trips = raw_table(feed, "trips.txt").unwrap();
    let st = raw_table(feed, "stop_times.txt").unwrap();
    let mut n_st: HashMap<&str, usize> = HashMap::new();
    for r in &st.rows {
        *n_st.entry(st.get(r, "trip_id")).or_default() += 1;
    }
    trips
        .rows
        .iter()
        .filter(|r| n_st.get(trips.get(r, "trip_id")).copied().unwrap_or(0) >= 2)
        .filter(|r| services.get(trips.get(r, "service_id")).is_some_and(|s| s.contains(date)))
        .count()
}

#[test]
fn ter_2025_counts_match_the_raw_files() {
    let d = require_data!();
    let feed = d.join("ter/ter-2025-01-22.gtfs.zip");
    let net = ter2025();
    let tt = &net.timetable;
    let stops = raw_table(&feed, "stops.txt").unwrap();
    let trips = raw_table(&feed, "trips.txt").unwrap();
    let st = raw_table(&feed, "stop_times.txt").unwrap();
    assert_eq!(tt.stops.len(), stops.rows.len(), "every stop and station kept");
    assert_eq!(tt.trips.ids.len(), trips.rows.len());
    assert_eq!(tt.n_stop_times(), st.rows.len());
    // Ids are namespaced and keep their spaces.
    assert!(tt.stops.ids.iter().all(|i| i.starts_with("ter:")));
    assert!(tt.stop_by_id("ter:StopPoint:OCETrain TER-87345025").is_some(), "Lens train stop point");
    // calendar_dates.txt only: trips active on a Tuesday and a Sunday.
    for (date, raw) in [(jiff::civil::date(2025, 2, 4), "20250204"), (jiff::civil::date(2025, 3, 9), "20250309")] {
        let expected = raw_trips_on(&feed, raw);
        assert!(expected > 1000, "a real day has many trains ({expected})");
        assert_eq!(network_trips_on(tt, date), expected, "trips on {date}");
    }
    let cal = tt.calendar();
    assert_eq!(cal.base_date, "2025-01-22");
    assert_eq!(cal.last_day().to_string(), "2025-04-22");
    // Stop points hang under their StopArea.
    let lens_area = tt.stop_by_id("ter:StopArea:OCE87345025").unwrap();
    assert!(tt.stops.is_station[lens_area as usize]);
    let lens_train = tt.stop_by_id("ter:StopPoint:OCETrain TER-87345025").unwrap();
    assert_eq!(tt.stops.parent[lens_train as usize], lens_area);
}

#[test]
fn ter_2025_trip_times_equal_the_raw_stop_times() {
    let d = require_data!();
    let feed = d.join("ter/ter-2025-01-22.gtfs.zip");
    let tt = &ter2025().timetable;
    let st = raw_table(&feed, "stop_times.txt").unwrap();
    let mut raw: HashMap<&str, Vec<(u32, &str, i64, i64)>> = HashMap::new();
    for r in &st.rows {
        raw.entry(st.get(r, "trip_id")).or_default().push((
            st.get(r, "stop_sequence").parse().unwrap(),
            st.get(r, "stop_id"),
            parse_hms(st.get(r, "arrival_time")).unwrap(),
            parse_hms(st.get(r, "departure_time")).unwrap(),
        ));
    }
    let mut checked = 0;
    for trip in (0..tt.trips.ids.len() as u32).step_by(7) {
        let p = tt.trips.pattern[trip as usize];
        let t = trip - tt.patterns[p as usize].trip_offset;
        let id = tt.trips.ids[trip as usize].strip_prefix("ter:").unwrap();
        let mut rows = raw[id].clone();
        rows.sort_by_key(|r| r.0);
        let stops = tt.pattern_stops(p);
        assert_eq!(rows.len(), stops.len(), "trip {id}");
        for (pos, r) in rows.iter().enumerate() {
            let i = tt.st_index(p, t, pos as u32);
            assert_eq!(tt.stops.ids[stops[pos] as usize], format!("ter:{}", r.1));
            assert_eq!((tt.arrivals[i] as i64, tt.departures[i] as i64), (r.2, r.3), "trip {id} pos {pos}");
        }
        checked += 1;
    }
    assert!(checked > 4000);
    // Times past midnight are kept as such (> 24:00:00).
    assert!(tt.arrivals.iter().any(|&a| a > 24 * 3600), "the TER feed has trips after midnight");
}

#[test]
fn patterns_are_fifo_and_stop_times_contiguous() {
    let _d = require_data!();
    for net in [ter2025(), poa()] {
        let tt = &net.timetable;
        let mut covered = 0usize;
        for (pi, p) in tt.patterns.iter().enumerate() {
            assert_eq!(p.st_offset as usize, covered, "pattern {pi} stop times follow the previous pattern's");
            covered += (p.n_stops * p.n_trips) as usize;
            for t in 0..p.n_trips {
                for pos in 0..p.n_stops {
                    let i = tt.st_index(pi as u32, t, pos);
                    assert!(tt.arrivals[i] <= tt.departures[i]);
                    if pos > 0 {
                        assert!(tt.departures[i - 1] <= tt.arrivals[i]);
                    }
                    if t > 0 {
                        let j = tt.st_index(pi as u32, t - 1, pos);
                        assert!(tt.departures[j] <= tt.departures[i] && tt.arrivals[j] <= tt.arrivals[i], "no overtaking in pattern {pi}");
                    }
                }
            }
        }
        assert_eq!(covered, tt.n_stop_times());
    }
}

#[test]
fn ter_2019_with_calendar_txt_and_macosx_junk() {
    let d = require_data!();
    let feed = d.join("ter/ter-2019-09-01.gtfs.zip");
    let net = build_net(&[feed.clone()], None);
    let tt = &net.timetable;
    let trips = raw_table(&feed, "trips.txt").unwrap();
    assert_eq!(tt.trips.ids.len(), trips.rows.len());
    let expected = raw_trips_on(&feed, "20190910");
    assert!(expected > 1000);
    assert_eq!(network_trips_on(tt, jiff::civil::date(2019, 9, 10)), expected);
    assert_eq!(tt.feeds[0].namespace, "ter");
}

#[test]
fn porto_alegre_two_feeds_and_streets_make_one_network() {
    let d = require_data!();
    let dir = d.join("porto-alegre");
    let net = poa();
    let tt = &net.timetable;
    let eptc_stops = raw_table(&dir.join("poa_eptc.zip"), "stops.txt").unwrap().rows.len();
    let trensurb_stops = raw_table(&dir.join("poa_trensurb.zip"), "stops.txt").unwrap().rows.len();
    assert_eq!(tt.stops.len(), eptc_stops + trensurb_stops);
    assert_eq!(tt.feeds.iter().map(|f| f.namespace.as_str()).collect::<Vec<_>>(), vec!["poa_eptc", "poa_trensurb"]);
    let eptc_trips = tt.trips.ids.iter().filter(|i| i.starts_with("poa_eptc:")).count();
    assert_eq!(eptc_trips, raw_table(&dir.join("poa_eptc.zip"), "trips.txt").unwrap().rows.len());
    // EPTC gives times only at first and last stops: every time is now present and
    // intermediate ones lie strictly between the ends for long trips.
    let st = raw_table(&dir.join("poa_eptc.zip"), "stop_times.txt").unwrap();
    let empty = st.rows.iter().filter(|r| st.get(r, "arrival_time").is_empty()).count();
    assert!(empty > 100_000, "the raw feed really lacks intermediate times ({empty})");
    assert_eq!(tt.n_stop_times(), tt.arrivals.len());
    // Invalid route colours were dropped, routes kept.
    assert_eq!(tt.routes.ids.iter().filter(|r| r.starts_with("poa_eptc:")).count(), raw_table(&dir.join("poa_eptc.zip"), "routes.txt").unwrap().rows.len());
    // Streets: three profiles, most stops within the extract are linked.
    assert!(net.has_streets());
    let linked = net.stop_links.iter().filter(|l| l.is_some()).count();
    assert!(linked > 2000, "{linked} stops linked");
    assert!(net.stop_links.iter().flatten().all(|s| s.distance_m <= 300.0));
    assert!(!net.footpaths.is_empty());
    assert_eq!(net.meta.footpath_method, "streets");
}

#[test]
fn sao_paulo_frequencies_are_expanded_into_trips() {
    let d = require_data!();
    let feed = d.join("sao-paulo/spo_gtfs.zip");
    let net = build_net(&[feed.clone()], Some(d.join("sao-paulo/spo_osm.pbf")));
    let tt = &net.timetable;
    let freq = raw_table(&feed, "frequencies.txt").unwrap();
    let trips = raw_table(&feed, "trips.txt").unwrap();
    let mut expected = 0usize;
    let mut with_freq = HashSet::new();
    let mut exact = HashSet::new();
    for r in &freq.rows {
        let (s, e, h) = (parse_hms(freq.get(r, "start_time")).unwrap(), parse_hms(freq.get(r, "end_time")).unwrap(), freq.get(r, "headway_secs").parse::<i64>().unwrap());
        expected += ((e - s) + h - 1).div_euclid(h) as usize;
        with_freq.insert(freq.get(r, "trip_id").to_string());
        exact.insert(freq.get(r, "exact_times").to_string());
    }
    expected += trips.rows.iter().filter(|r| !with_freq.contains(trips.get(r, "trip_id"))).count();
    assert_eq!(tt.trips.ids.len(), expected);
    assert!(tt.trips.ids.len() > 10 * trips.rows.len(), "expansion multiplies trips");
    assert!(!exact.is_empty());
}

#[test]
fn tadao_partial_feed_gives_a_clear_error_naming_the_missing_files() {
    let d = require_data!();
    let cfg = BuildConfig { gtfs: vec![d.join("tadao-partial").display().to_string()], ..Default::default() };
    let err = build(&cfg).err().expect("the partial feed cannot be built").to_string();
    assert!(err.contains("tadao-partial"), "{err}");
    assert!(err.contains("stop_times.txt"), "{err}");
    assert!(err.contains("calendar"), "{err}");
    assert!(err.contains("--skip-broken-feeds"), "{err}");
}

#[test]
fn skip_broken_feeds_builds_the_others_and_says_what_it_skipped() {
    let d = require_data!();
    let cfg = BuildConfig {
        gtfs: vec![d.join("tadao-partial").display().to_string(), d.join("porto-alegre/poa_trensurb.zip").display().to_string()],
        skip_broken_feeds: true,
        ..Default::default()
    };
    let (net, report) = build(&cfg).unwrap();
    assert_eq!(report.skipped_feeds.len(), 1);
    assert!(report.skipped_feeds[0].contains("tadao-partial"));
    assert_eq!(net.timetable.feeds.len(), 1);
    assert!(net.meta.warnings.iter().any(|w| w.contains("tadao-partial")));
}

#[test]
fn cli_build_fails_with_exit_code_on_the_partial_feed() {
    let d = require_data!();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["build", "--gtfs", &d.join("tadao-partial").display().to_string(), "--out"])
        .arg(std::env::temp_dir().join("terril-never-written.bin"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stop_times.txt") && !stderr.contains("panicked"), "{stderr}");
    assert!(!std::env::temp_dir().join("terril-never-written.bin").exists());
}

#[test]
fn network_file_round_trips_and_refuses_damage() {
    let _d = require_data!();
    let net = ter2025();
    let dir = std::env::temp_dir().join(format!("terril-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ter.bin");
    let size = net.save(&path).unwrap();
    let back = terril::model::Network::load(&path).unwrap();
    assert!(back == *net, "load(save(n)) == n");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, size);
    let check = |b: &[u8], want: &str| {
        let e = terril::model::Network::from_bytes(b, "x.bin").unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    };
    check(&bytes[..bytes.len() / 2], "truncated");
    let mut flipped = bytes.clone();
    let n = flipped.len();
    flipped[n - 100] ^= 0xFF;
    check(&flipped, "corrupt");
    let mut version = bytes.clone();
    version[8] = 99;
    check(&version, "version 99");
    check(b"PK\x03\x04 not a network", "not a terril network");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn footpaths_connect_stops_of_one_station_and_stay_under_the_limit() {
    let _d = require_data!();
    let net = ter2025();
    let tt = &net.timetable;
    let lens_train = tt.stop_by_id("ter:StopPoint:OCETrain TER-87345025").unwrap();
    let lens_car = tt.stop_by_id("ter:StopPoint:OCECar TER-87345025").unwrap();
    assert!(net.footpaths.from(lens_train).any(|f| f.to == lens_car));
    assert!((0..tt.stops.len() as u32).flat_map(|s| net.footpaths.from(s)).all(|f| f.secs(terril::model::search::Pace::WALK) <= 900));
    assert_eq!(net.meta.footpath_method, "straight-line");
    let info = terril::info::NetworkInfo::of(net, 0).to_text();
    assert!(info.contains("streets    MISSING"), "{info}");
}

/// Issue 12: places given at build. `terril build --addresses` (a BAN file, here a
/// hand-written sample) and `--places` (the basin's communes and hospitals) put them in
/// the network file; `terril plan` then goes from a typed address to a hospital by name.
#[test]
fn cli_build_with_addresses_and_places_plans_from_an_address_to_a_hospital() {
    let d = require_data!();
    let dir = std::env::temp_dir().join(format!("terril-ban-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("ter-places.bin");
    let ban = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ban/adresses-62-sample.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["build", "--gtfs", &d.join("ter/ter-2025-01-22.gtfs.zip").display().to_string(), "--addresses", &ban.display().to_string()])
        .args(["--places", &d.join("bassin-minier/communes-mbm.geojson").display().to_string(), "--places", &d.join("bassin-minier/hospitals-59-62.csv").display().to_string(), "--out"])
        .arg(&net)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let loaded = terril::model::network::Network::load(&net).unwrap();
    assert_eq!(loaded.addresses.len(), 5, "five streets in the sample: {:?}", loaded.addresses.iter().map(|a| &a.street).collect::<Vec<_>>());
    assert!(loaded.places.iter().any(|p| p.name == "Harnes" && p.kind == terril::model::places::PlaceKind::Commune));
    let router = terril::route::plan::Router::new(loaded);
    let at = |q: &str| match router.resolve_text(q, "from").unwrap() {
        terril::route::plan::Resolved::Point(p, name) => (p, name),
        other => panic!("{q}: {other:?}"),
    };
    let (p, name) = at("12 bis rue de la gare lens");
    assert_eq!((p.lat, name.as_str()), (50.42990, "12 bis Rue de la Gare (Lens)"));
    assert_eq!(at("12 rue de la Gare, Harnes").0.lat, 50.44830, "the commune's word picks the street");
    let plan = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["plan", "--network"])
        .arg(&net)
        .args(["--from", "25 rue Jean Jaurès Hénin-Beaumont", "--to", "Centre hospitalier de Lens", "--date", "2025-02-04", "--time", "08:30", "--arrive-by", "--max-walk", "30"])
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(v["from"]["name"], "25 Rue Jean Jaurès (Hénin-Beaumont)", "{}", v["from"]);
    let legs = v["itineraries"][0]["legs"].as_array().unwrap();
    assert!(legs.iter().any(|l| l["mode"] == "rail"), "{v}");
    std::fs::remove_dir_all(&dir).ok();
}
