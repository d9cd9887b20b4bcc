//! Calendar, transfer and routing rules on a hand-written feed (tests/fixtures/tiny,
//! whose README tells the timetable). Golden journeys in both directions.

use std::path::Path;
use std::sync::OnceLock;
use terril::api::{plan_request, Params};
use terril::build::{build, BuildConfig};
use terril::route::plan::{PlanResponse, Router};

fn router() -> &'static Router {
    static R: OnceLock<Router> = OnceLock::new();
    R.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
        let cfg = BuildConfig { gtfs: vec![dir.display().to_string()], ..Default::default() };
        Router::new(build(&cfg).unwrap().0)
    })
}

fn plan(args: &[(&str, &str)]) -> PlanResponse {
    let r = router();
    // As a query string would give them (the server reads the same struct).
    let q: String = args.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let p: Params = serde_urlencoded::from_str(&q).unwrap();
    r.plan(&plan_request(r, &p).unwrap()).unwrap()
}

fn hm(rfc: &str) -> &str {
    &rfc[11..16]
}

fn trip_ids(p: &PlanResponse, i: usize) -> Vec<String> {
    p.itineraries[i].legs.iter().filter_map(|l| l.trip_id.clone()).collect()
}

fn runs(trip: &str, date: jiff::civil::Date) -> bool {
    let tt = &router().net.timetable;
    let t = tt.trips.ids.iter().position(|x| x == &format!("tiny:{trip}")).unwrap();
    tt.calendar().runs(tt.trips.service[t], tt.calendar().day_index(date).unwrap())
}

#[test]
fn calendar_exceptions_and_calendar_dates_only_services() {
    use jiff::civil::date;
    assert!(runs("T1", date(2025, 3, 4)), "T1 runs on a Tuesday");
    assert!(!runs("T1", date(2025, 3, 5)), "calendar_dates removes Wednesday 5 March");
    assert!(!runs("T1", date(2025, 3, 8)), "not on Saturdays");
    assert!(runs("T5", date(2025, 3, 5)), "ONLYWED exists only in calendar_dates");
    assert!(!runs("T5", date(2025, 3, 4)) && !runs("T5", date(2025, 3, 12)));
    assert!(runs("N2", date(2025, 3, 31)));
}

#[test]
fn overtaking_trips_are_split_into_two_patterns() {
    let tt = &router().net.timetable;
    let pat = |id: &str| tt.trips.pattern[tt.trips.ids.iter().position(|x| x == &format!("tiny:{id}")).unwrap()];
    assert_ne!(pat("T1"), pat("T3"), "T3 overtakes T1 at Gamma");
    assert_eq!(pat("T4"), pat("T6"), "same stops, no overtaking");
}

#[test]
fn depart_at_golden_journey_uses_the_express_and_the_tram() {
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:D"), ("date", "2025-03-03"), ("time", "07:55"), ("num_itineraries", "1")]);
    let it = &p.itineraries[0];
    assert_eq!(trip_ids(&p, 0), vec!["tiny:T3", "tiny:T4"]);
    assert_eq!((hm(&it.start_time), hm(&it.end_time)), ("08:05", "08:30"));
    assert_eq!(it.transfers, 1);
    assert_eq!(it.legs[0].route.as_ref().unwrap().color, "B61F21");
    assert_eq!(it.legs[1].mode, "tram");
    assert_eq!(it.start_time, "2025-03-03T08:05:00+01:00");
}

#[test]
fn arrive_by_golden_journey_leaves_as_late_as_possible() {
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:D"), ("date", "2025-03-03"), ("time", "08:31"), ("arrive_by", "true"), ("num_itineraries", "1")]);
    assert_eq!(trip_ids(&p, 0), vec!["tiny:T3", "tiny:T4"]);
    assert_eq!(hm(&p.itineraries[0].start_time), "08:05");
    // By 08:50, the latest departure is still T3 (T1 would reach Gamma at 08:20 and
    // take T6 at 08:40, but leaves A earlier).
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:D"), ("date", "2025-03-03"), ("time", "08:50"), ("arrive_by", "true"), ("num_itineraries", "1")]);
    assert_eq!(hm(&p.itineraries[0].start_time), "08:05");
}

#[test]
fn minimum_change_time_and_interpolated_times_are_honoured() {
    // From Bêta at 08:09:30, T3 (08:09) is gone; T1 passes at its interpolated 08:10 and
    // reaches Gamma at 08:20. The 3-minute change at Gamma misses T4 (08:22): T6 at 08:40.
    let p = plan(&[("from", "tiny:B"), ("to", "tiny:D"), ("date", "2025-03-03"), ("time", "08:09:30"), ("num_itineraries", "1")]);
    assert_eq!(trip_ids(&p, 0), vec!["tiny:T1", "tiny:T6"]);
    assert_eq!(hm(&p.itineraries[0].legs[0].start_time), "08:10");
    assert_eq!(hm(&p.itineraries[0].end_time), "08:48");
}

#[test]
fn forbidden_transfer_removes_the_footpath_one_way_only() {
    let net = &router().net;
    let tt = &net.timetable;
    let (b, d) = (tt.stop_by_id("tiny:B").unwrap(), tt.stop_by_id("tiny:D").unwrap());
    assert!(!net.footpaths.from(b).any(|f| f.to == d), "B -> D is forbidden (type 3)");
    assert!(net.footpaths.from(d).any(|f| f.to == b), "D -> B is still walkable");
}

#[test]
fn a_trip_after_midnight_is_found_from_the_next_day() {
    // N2 of Monday 3 March passes Bêta at 24:10, i.e. Tuesday 00:10.
    let p = plan(&[("from", "tiny:B"), ("to", "tiny:C"), ("date", "2025-03-04"), ("time", "00:05"), ("num_itineraries", "1")]);
    assert_eq!(trip_ids(&p, 0), vec!["tiny:N2"]);
    assert_eq!(p.itineraries[0].legs[0].start_time, "2025-03-04T00:10:00+01:00");
    assert_eq!(p.itineraries[0].end_time, "2025-03-04T00:30:00+01:00");
    // And the evening before, the same trip is found from Monday at 23:40.
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:C"), ("date", "2025-03-03"), ("time", "23:40"), ("num_itineraries", "1")]);
    assert_eq!(p.itineraries[0].end_time, "2025-03-04T00:30:00+01:00");
}

#[test]
fn daylight_saving_night_uses_wall_clock_times() {
    // Sunday 30 March 2025, clocks go 02:00 -> 03:00, and the GTFS day starts at 23:00
    // the evening before. At 00:15 wall clock the Saturday N2 (00:10) has left; the next
    // departure is the daily T3 at 08:09 summer time. (Reading 00:15 as 'seconds after
    // the GTFS origin' would wrongly catch the Saturday N2.)
    let p = plan(&[("from", "tiny:B"), ("to", "tiny:C"), ("date", "2025-03-30"), ("time", "00:15"), ("num_itineraries", "1")]);
    assert_eq!(p.itineraries[0].legs[0].start_time, "2025-03-30T08:09:00+02:00");
    let p = plan(&[("from", "tiny:B"), ("to", "tiny:C"), ("date", "2025-03-30"), ("time", "00:05"), ("num_itineraries", "1")]);
    assert_eq!(p.itineraries[0].legs[0].start_time, "2025-03-30T00:10:00+01:00");
    // A morning trip on that day keeps its printed time.
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:C"), ("date", "2025-03-30"), ("time", "08:00"), ("num_itineraries", "1")]);
    assert_eq!(p.itineraries[0].start_time, "2025-03-30T08:05:00+02:00");
}

#[test]
fn wheelchair_users_are_not_sent_through_an_inaccessible_stop() {
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:D"), ("date", "2025-03-03"), ("time", "07:55"), ("wheelchair", "true")]);
    assert!(p.itineraries.is_empty(), "Gamma is marked not accessible");
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:B"), ("date", "2025-03-03"), ("time", "07:55"), ("wheelchair", "true"), ("num_itineraries", "1")]);
    assert_eq!(trip_ids(&p, 0), vec!["tiny:T3"]);
}

#[test]
fn modes_filter_transit() {
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:D"), ("date", "2025-03-03"), ("time", "07:55"), ("modes", "bus")]);
    assert!(p.itineraries.is_empty(), "D is reached by tram only");
    assert!(p.message.is_none() || !p.direct.is_empty() || p.message.is_some());
}

#[test]
fn departures_list_the_next_trips_in_order() {
    let r = router();
    let deps = r.departures("tiny:C", jiff::civil::date(2025, 3, 5), 8 * 3600, 10).unwrap();
    let ids: Vec<&str> = deps.iter().map(|d| d.trip_id.as_str()).collect();
    assert_eq!(ids, vec!["tiny:T4", "tiny:T5", "tiny:T6"], "Wednesday has T5; C is the last stop of line 1");
    assert_eq!(deps[0].time, "2025-03-05T08:22:00+01:00");
    let err = r.departures("tiny:Z", jiff::civil::date(2025, 3, 5), 0, 10).unwrap_err();
    assert_eq!((err.kind, err.error), (terril::route::plan::ErrorKind::NotFound, "unknown_stop"));
    let err = r.departures("tiny:C", jiff::civil::date(2025, 5, 5), 0, 10).unwrap_err();
    assert_eq!((err.kind, err.error), (terril::route::plan::ErrorKind::Unprocessable, "date_outside_validity"));
}

/// Issue 12: the platform (GTFS `platform_code`) is given with the boarding stop, so the
/// sheet can say "voie 1"; a stop without one has none.
#[test]
fn the_boarding_platform_comes_from_platform_code() {
    let p = plan(&[("from", "tiny:A"), ("to", "tiny:C"), ("date", "2025-03-04"), ("time", "07:55")]);
    let ride = p.itineraries[0].legs.iter().find(|l| l.route.is_some()).expect("a ride");
    assert_eq!(ride.from.platform.as_deref(), Some("1"), "{ride:?}");
    assert_eq!(ride.to.platform, None);
    let tt = &router().net.timetable;
    let b = tt.stops.ids.iter().position(|x| x == "tiny:B").unwrap();
    assert_eq!(tt.stops.platform[b], "2B");
}
