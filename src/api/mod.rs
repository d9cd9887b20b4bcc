//! Request parameters -> validated library queries, shared by the HTTP server and the CLI
//! so both give the same answer to the same question.

pub mod report;
pub mod sheet;

use crate::model::geo::LatLon;
use crate::route::plan::{parse_modes, parse_time, Place, PlanRequest, QueryError, Router, ErrorKind};
use crate::model::streets::WALK_SPEED_MPS;

/// Every parameter a request may carry, by name: what the command line fills from its flags
/// and the HTTP server from the query string or a JSON body (`serde`), the one input of
/// the query layer. Values are kept as given and validated here, once, so that a wrong
/// value gets the same named error from both faces.
///
/// The schema of each field (type, limits, description) is the one `/api/openapi.json`
/// gives: the document is generated from this type (schemars), and a test asks the
/// server for each documented limit and just past it.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Params {
    /// Origin: `lat,lon`, a stop id, or a place name as `/api/places` finds it
    /// (commune, station, hospital, street, "12 rue de la Gare Lens").
    #[schemars(with = "Option<String>", length(min = 1, max = 200), extend("example" = "50.4276,2.8255"))]
    pub r#from: Option<String>,
    /// Destination: as `from`.
    #[schemars(with = "Option<String>", length(min = 1, max = 200), extend("example" = "50.6365,3.0710"))]
    pub to: Option<String>,
    /// Day of travel, YYYY-MM-DD, within the network's validity (default: today if valid,
    /// else the first Tuesday of the validity).
    #[schemars(with = "Option<String>", extend("format" = "date", "example" = "2025-02-04"))]
    pub date: Option<String>,
    /// Local clock time HH:MM (up to 47:59 for the service day's late trips); default 08:00.
    #[schemars(with = "Option<String>", pattern(r"^[0-4]?[0-9]:[0-5][0-9]$"), extend("example" = "07:30"))]
    pub time: Option<String>,
    /// `true`: `time` is the latest arrival.
    #[schemars(with = "Option<bool>")]
    pub arrive_by: Option<String>,
    /// Comma list: transit, bus, coach, tram, subway, rail, ferry, cable; `walk` (walking
    /// only, however long); `bike` (cycling only), or `transit,bike` (cycle to the first stop).
    #[schemars(with = "Option<String>", length(max = 100), extend("example" = "transit"))]
    pub modes: Option<String>,
    /// Unused; kept for clients of earlier versions.
    #[schemars(with = "Option<String>", length(max = 20))]
    pub access: Option<String>,
    /// Longest walk to or from a stop, minutes (journeys: at most 60; analyses: 240).
    #[schemars(with = "Option<f64>", range(min = 0, max = 240), extend("example" = 15))]
    pub max_walk: Option<String>,
    /// As `max_walk` (r5r's name): each walking leg, access, egress and the walk-only trip.
    /// In analyses, walks to destinations also end where the destinations' walking tables
    /// from stops end (the build's limit, 15 min at 4.8 km/h by default): more is refused
    /// with a message saying so.
    #[schemars(with = "Option<f64>", range(min = 0, max = 240), extend("example" = 15))]
    pub max_walk_time: Option<String>,
    /// Walking speed, km/h (default 4.8).
    #[schemars(with = "Option<f64>", range(min = 1, max = 11), extend("example" = 4.8))]
    pub walk_speed: Option<String>,
    /// Cycling speed, km/h (default 15).
    #[schemars(with = "Option<f64>", range(min = 5, max = 40), extend("example" = 15))]
    pub bike_speed: Option<String>,
    /// `true`: avoid stops and trips marked inaccessible in a wheelchair.
    #[schemars(with = "Option<bool>")]
    pub wheelchair: Option<String>,
    /// `true`: each leg also carries `polyline`, its line encoded (precision 5);
    /// `geometry` is always a GeoJSON LineString.
    #[schemars(with = "Option<bool>")]
    pub polyline: Option<String>,
    /// Change time after each ride, seconds (default 60).
    #[schemars(with = "Option<u32>", range(min = 0, max = 600), extend("example" = 60))]
    pub transfer_slack: Option<String>,
    /// Longest walk between two rides, minutes (default: the access walk's limit).
    #[schemars(with = "Option<f64>", range(min = 0, max = 60), extend("example" = 10))]
    pub max_transfer_walk_time: Option<String>,
    /// Most vehicles boarded in one trip (default 6).
    #[schemars(with = "Option<u32>", range(min = 1, max = crate::route::plan::MAX_TRANSFERS + 1), extend("example" = 6))]
    pub max_rides: Option<String>,
    /// Most changes (default 5).
    #[schemars(with = "Option<u32>", range(min = 0, max = crate::route::plan::MAX_TRANSFERS), extend("example" = 5))]
    pub max_transfers: Option<String>,
    /// Number of journeys given (default 3).
    #[schemars(with = "Option<u32>", range(min = 1, max = crate::route::plan::MAX_ITINERARIES), extend("example" = 3))]
    pub num_itineraries: Option<String>,
    /// Journeys: minutes after (before, with arrive_by) `time` searched for options,
    /// default 120, at most 720. Analyses: the departure window, minutes after `time` or
    /// HH:MM-HH:MM (default 60).
    #[schemars(with = "Option<String>", pattern(r"^([0-9]{1,4}|[0-4]?[0-9]:[0-5][0-9]-[0-4]?[0-9]:[0-5][0-9])$"), extend("example" = "60"))]
    pub window: Option<String>,
    /// Minutes between sampled departures in the window (default 1).
    #[schemars(with = "Option<u32>", range(min = 1, max = 60), extend("example" = 1))]
    pub step: Option<String>,
    /// Isochrones: the percentile of the window's travel times drawn (default 50).
    #[schemars(with = "Option<u32>", range(min = 1, max = 100), extend("example" = 50))]
    pub percentile: Option<String>,
    /// Up to 5 percentiles of the window's travel times, comma list (nearest rank; default 50).
    #[schemars(with = "Option<String>", pattern(r"^[0-9]{1,3}(,[0-9]{1,3}){0,4}$"), extend("example" = "25,50,75"))]
    pub percentiles: Option<String>,
    /// Up to 12 travel-time cutoffs, minutes, comma list (default 15,30,45,60).
    #[schemars(with = "Option<String>", pattern(r"^[0-9]{1,3}(,[0-9]{1,3}){0,11}$"), extend("example" = "30,60"))]
    pub cutoffs: Option<String>,
    /// walk, bike, transit (walk + transit) or bike_transit (default transit).
    #[schemars(with = "Option<AnalysisMode>")]
    pub mode: Option<String>,
    /// Each cycling leg, minutes: to the first stop, and the bike-only trip.
    #[schemars(with = "Option<f64>", range(min = 0, max = 240), extend("example" = 15))]
    pub max_bike_time: Option<String>,
    /// Longest trip counted, minutes (default: the largest cutoff, else 120).
    #[schemars(with = "Option<f64>", range(min = 1, max = 240), extend("example" = 60))]
    pub max_trip_duration: Option<String>,
    /// Comma list of the transit modes used: bus, coach, tram, subway, rail, ferry, cable.
    #[schemars(with = "Option<String>", length(max = 100), extend("example" = "rail,bus"))]
    pub transit_modes: Option<String>,
    /// Cumulative opportunities' decay: step, linear, logistic, exponential (half weight at
    /// the cutoff), fixed_exponential (default step).
    #[schemars(with = "Option<Decay>")]
    pub decay: Option<String>,
    /// Width of linear and logistic decay, minutes (default 10).
    #[schemars(with = "Option<f64>", range(min = 1, max = 120), extend("example" = 10))]
    pub decay_width: Option<String>,
    /// Rate k of fixed_exponential, per minute: weight exp(-k t).
    #[schemars(with = "Option<f64>", range(min = 0.0001, max = 10), extend("example" = 0.05))]
    pub decay_value: Option<String>,
    /// Ranks of the nearest destinations timed, comma list (default 1: the nearest).
    #[schemars(with = "Option<String>", pattern(r"^[0-9]{1,3}(,[0-9]{1,3}){0,11}$"), extend("example" = "1,3"))]
    pub nth: Option<String>,
    /// Weight column ranking the nearest destinations (default count: every point).
    #[schemars(with = "Option<String>", length(max = 100))]
    pub nearest_column: Option<String>,
    /// Latitude, WGS84.
    #[schemars(with = "Option<f64>", range(min = -90, max = 90), extend("example" = 50.4276))]
    pub lat: Option<String>,
    /// Longitude, WGS84.
    #[schemars(with = "Option<f64>", range(min = -180, max = 180), extend("example" = 2.8255))]
    pub lon: Option<String>,
    /// Search radius, metres (default 500).
    #[schemars(with = "Option<f64>", range(min = 0, max = 5000), extend("example" = 500))]
    pub radius: Option<String>,
    /// Most results (searches: default 10, at most 50; departures: default 20, at most 200).
    #[schemars(with = "Option<u32>", range(min = 1, max = 200), extend("example" = 10))]
    pub limit: Option<String>,
    /// Words of a name (accents, case and small typos do not matter).
    #[schemars(with = "Option<String>", length(min = 1, max = 100), extend("example" = "harnes"))]
    pub q: Option<String>,
    /// min_lon,min_lat,max_lon,max_lat (WGS84).
    #[schemars(with = "Option<String>", length(max = 100), extend("example" = "2.80,50.40,2.86,50.45"))]
    pub bbox: Option<String>,
    /// Map zoom level (below 14 streets are thinned).
    #[schemars(with = "Option<u32>", range(min = 0, max = 22), extend("example" = 14))]
    pub zoom: Option<String>,
    /// Name of a loaded point set of origins (see /api/opportunities; default communes).
    #[schemars(with = "Option<String>", length(max = 100), extend("example" = "communes"))]
    pub origins: Option<String>,
    /// Name of a loaded point set of destinations (see /api/opportunities; default hospitals).
    #[schemars(with = "Option<String>", length(max = 100), extend("example" = "hospitals"))]
    pub destinations: Option<String>,
    /// A site sheet's place: a name as `/api/places` finds it (an activity zone, a
    /// hospital, a commune, an address), a stop, or `lat,lon`.
    #[schemars(with = "Option<String>", length(min = 1, max = 200), extend("example" = "Centre hospitalier de Lens"))]
    pub site: Option<String>,
    /// Shifts of a site sheet, comma list of `HH:MM` starts or `HH:MM-HH:MM` (a start
    /// alone lasts 8 hours); at most 6.
    #[schemars(with = "Option<String>", length(max = 100), extend("example" = "05:00,13:00,21:00"))]
    pub shifts: Option<String>,
    /// Only the destinations whose column holds a value, `COLUMN=VALUE` (case, accents and
    /// part of the text are enough): `facility_type=centre hospitalier`.
    #[schemars(with = "Option<String>", length(max = 200), extend("example" = "facility_type=Centre hospitalier"))]
    pub only: Option<String>,
    /// Weight columns counted as opportunities, comma list (default: every count column).
    #[schemars(with = "Option<String>", length(max = 500))]
    pub columns: Option<String>,
    /// Matrix times in `minutes` (whole, rounded down as R5) or `seconds`.
    #[schemars(with = "Option<Unit>")]
    pub unit: Option<String>,
    /// `true`: leave unreachable pairs out of the matrix.
    #[schemars(with = "Option<bool>")]
    pub reachable_only: Option<String>,
    /// `true`: each matrix pair also says how its trip is made (departure time,
    /// access/wait/ride/transfer/egress times summing to the travel time, rides, routes),
    /// as r5r's expanded matrix.
    #[schemars(with = "Option<bool>")]
    pub breakdown: Option<String>,
    /// Language of error messages: fr or en (default: from Accept-Language, else English).
    #[schemars(with = "Option<Lang>")]
    pub lang: Option<String>,
}

/// Schema-only types: the values a text parameter takes.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum AnalysisMode {
    Walk,
    Bike,
    Transit,
    BikeTransit,
}
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Decay {
    Step,
    Linear,
    Logistic,
    Exponential,
    FixedExponential,
}
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Unit {
    Minutes,
    Seconds,
}
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Lang {
    Fr,
    En,
}

/// A given, non-blank value.
fn val(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

fn num<T: std::str::FromStr>(v: &Option<String>, k: &str, what: &str) -> Result<Option<T>, QueryError> {
    match val(v) {
        None => Ok(None),
        Some(x) => x.trim().parse::<T>().map(Some).map_err(|_| QueryError::bad("invalid_parameter", format!("'{k}' must be {what}, got '{x}'"))),
    }
}

fn boolean(v: &Option<String>, k: &str) -> Result<bool, QueryError> {
    match val(v).map(|s| s.to_lowercase()) {
        None => Ok(false),
        Some(x) if x == "true" || x == "1" || x == "yes" => Ok(true),
        Some(x) if x == "false" || x == "0" || x == "no" => Ok(false),
        Some(x) => Err(QueryError::bad("invalid_parameter", format!("'{k}' must be true or false, got '{x}'"))),
    }
}

pub fn parse_date(s: &str) -> Result<jiff::civil::Date, QueryError> {
    s.trim().parse::<jiff::civil::Date>().map_err(|_| QueryError::bad("invalid_date", format!("date must be YYYY-MM-DD, got '{s}'")))
}

/// Default query date: today if within the validity, else the first weekday (Tuesday) of it.
pub fn default_date(router: &Router) -> jiff::civil::Date {
    let cal = router.net.timetable.calendar();
    let today = jiff::Zoned::now().date();
    if cal.day_index(today).is_some() {
        return today;
    }
    let mut d = cal.base();
    for _ in 0..7 {
        if d.weekday() == jiff::civil::Weekday::Tuesday {
            return d;
        }
        d = d.tomorrow().unwrap_or(d);
    }
    cal.base()
}

/// `GET /api/plan` parameters -> a plan request.
pub fn plan_request(router: &Router, p: &Params) -> Result<PlanRequest, QueryError> {
    let from = Place::parse(val(&p.r#from).unwrap_or(""), "from")?;
    let to = Place::parse(val(&p.to).unwrap_or(""), "to")?;
    let date = match val(&p.date) {
        Some(d) => parse_date(d)?,
        None => default_date(router),
    };
    let time_s = match val(&p.time) {
        Some(t) => parse_time(t).ok_or_else(|| QueryError::bad("invalid_time", format!("time must be HH:MM, got '{t}'")))?,
        None => 8 * 3600,
    };
    let mut req = PlanRequest::new(from, to, date, time_s);
    req.arrive_by = boolean(&p.arrive_by, "arrive_by")?;
    if let Some(m) = val(&p.modes) {
        let (bits, access) = parse_modes(m)?;
        req.modes = bits;
        req.access = access;
    }
    if let Some(w) = minutes(&p.max_walk_time, "max_walk_time", 240)?.or(minutes(&p.max_walk, "max_walk", 240)?) {
        req.max_walk_s = w;
    }
    req.max_transfer_walk_s = minutes(&p.max_transfer_walk_time, "max_transfer_walk_time", 60)?;
    if let Some(sl) = num::<u32>(&p.transfer_slack, "transfer_slack", "a number of seconds")? {
        if sl > 600 {
            return Err(QueryError::bad("invalid_parameter", "transfer_slack is 0 to 600 seconds"));
        }
        req.transfer_slack_s = sl;
    }
    if let Some(r) = num::<u32>(&p.max_rides, "max_rides", "a whole number")? {
        if r == 0 || r > crate::route::plan::MAX_TRANSFERS + 1 {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("max_rides is 1 to {}", crate::route::plan::MAX_TRANSFERS + 1)));
        }
        req.max_transfers = r - 1;
    }
    if let Some(s) = num::<f64>(&p.walk_speed, "walk_speed", "a speed in km/h")? {
        req.walk_speed_mps = s / 3.6;
    } else {
        req.walk_speed_mps = WALK_SPEED_MPS;
    }
    req.wheelchair = boolean(&p.wheelchair, "wheelchair")?;
    req.polyline = boolean(&p.polyline, "polyline")?;
    if let Some(n) = num::<u32>(&p.max_transfers, "max_transfers", "a whole number")? {
        req.max_transfers = n;
    }
    if let Some(n) = num::<usize>(&p.num_itineraries, "num_itineraries", "a whole number")? {
        req.num_itineraries = n;
    }
    if let Some(w) = num::<u32>(&p.window, "window", "a number of minutes")? {
        req.window_s = w.saturating_mul(60);
    }
    Ok(req)
}

/// `lat`, `lon` parameters.
pub fn lat_lon(p: &Params) -> Result<LatLon, QueryError> {
    let lat = num::<f64>(&p.lat, "lat", "a latitude")?.ok_or_else(|| QueryError::bad("missing_parameter", "'lat' is required"))?;
    let lon = num::<f64>(&p.lon, "lon", "a longitude")?.ok_or_else(|| QueryError::bad("missing_parameter", "'lon' is required"))?;
    let ll = LatLon::new(lat, lon);
    if !ll.is_valid() {
        return Err(QueryError::bad("invalid_coordinates", format!("{lat},{lon} is not a valid latitude,longitude")));
    }
    Ok(ll)
}

pub fn number<T: std::str::FromStr>(v: &Option<String>, k: &str, what: &str) -> Result<Option<T>, QueryError> {
    num(v, k, what)
}

/// `window` as `HH:MM-HH:MM` or minutes (with `time` as start) -> (start wall s, length s).
fn window(p: &Params) -> Result<(u32, u32), QueryError> {
    let w = val(&p.window).unwrap_or("60");
    if let Some((a, b)) = w.split_once('-') {
        let (a, b) = (parse_time(a), parse_time(b));
        match (a, b) {
            (Some(a), Some(b)) if b > a => return Ok((a, b - a)),
            _ => return Err(QueryError::bad("invalid_parameter", format!("window must be HH:MM-HH:MM with the end after the start, or minutes; got '{w}'"))),
        }
    }
    let minutes: u32 = w.trim().parse().map_err(|_| QueryError::bad("invalid_parameter", format!("window must be minutes or HH:MM-HH:MM, got '{w}'")))?;
    let start = match val(&p.time) {
        Some(t) => parse_time(t).ok_or_else(|| QueryError::bad("invalid_time", format!("time must be HH:MM, got '{t}'")))?,
        None => 8 * 3600,
    };
    Ok((start, minutes.saturating_mul(60)))
}

fn list_u32(v: &Option<String>, k: &str, default: &str) -> Result<Vec<u32>, QueryError> {
    let s = val(v).unwrap_or(default);
    let v: Result<Vec<u32>, _> = s.split(',').map(|x| x.trim().parse::<u32>()).collect();
    match v {
        Ok(v) if !v.is_empty() && v.len() <= 12 => Ok(v),
        _ => Err(QueryError::bad("invalid_parameter", format!("'{k}' must be a comma list of up to 12 whole numbers, got '{s}'"))),
    }
}

/// Origin x destination pairs one `terril matrix` run computes.
pub const MAX_MATRIX_CELLS_CLI: u64 = 100_000_000;
/// Origin x destination x departure samples one HTTP matrix request may ask for.
pub const MAX_MATRIX_WORK_HTTP: u64 = 200_000_000;

fn minutes(v: &Option<String>, k: &str, max: u32) -> Result<Option<u32>, QueryError> {
    match num::<f64>(v, k, "a number of minutes")? {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..=max as f64).contains(&v) => Ok(Some((v * 60.0).round() as u32)),
        Some(v) if !v.is_finite() || v < 0.0 => Err(QueryError::bad("invalid_parameter", format!("'{k}' must be a number of minutes from 0 to {max}, got {v}"))),
        Some(v) => Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("'{k}' must be 0 to {max} minutes, got {v}"))),
    }
}

/// Parameters of `/api/isochrone`, `/api/access`, `/api/matrix` and the matching commands
/// -> a surface request (origin from `from`). Every limit is checked here, once.
pub fn surface_request(router: &Router, p: &Params) -> Result<crate::analysis::surface::SurfaceRequest, QueryError> {
    use crate::analysis::surface::{SurfaceMode, SurfaceRequest};
    let origin = match Place::parse(val(&p.r#from).unwrap_or(""), "from")? {
        Place::Coord(c) => c,
        Place::Stop(text) => match router.resolve_text(&text, "from")? {
            crate::route::plan::Resolved::Stop(s) => router.net.timetable.stops.coords[s as usize],
            crate::route::plan::Resolved::Point(p, _) => p,
        },
    };
    let date = match val(&p.date) {
        Some(d) => parse_date(d)?,
        None => default_date(router),
    };
    let (from_s, window_s) = window(p)?;
    let mut req = SurfaceRequest::new(origin, date, from_s, window_s);
    if let Some(m) = val(&p.mode) {
        req.mode = SurfaceMode::parse(m).ok_or_else(|| QueryError::bad("invalid_parameter", format!("mode must be walk, bike, transit or bike_transit, got '{m}'")))?;
    }
    let pcts = list_u32(&p.percentiles, "percentiles", val(&p.percentile).unwrap_or("50"))?;
    if pcts.len() > 5 {
        return Err(QueryError::bad("invalid_parameter", "at most 5 percentiles"));
    }
    req.percentiles = pcts.into_iter().map(|x| x.min(255) as u8).collect();
    let cutoffs = list_u32(&p.cutoffs, "cutoffs", "15,30,45,60")?;
    let max_cut = cutoffs.iter().copied().max().unwrap_or(60);
    if cutoffs.contains(&0) || max_cut > 240 {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "cutoffs must be between 1 and 240 minutes"));
    }
    req.max_time_s = match minutes(&p.max_trip_duration, "max_trip_duration", 240)? {
        Some(0) => return Err(QueryError::bad("invalid_parameter", "max_trip_duration must be at least 1 minute")),
        Some(v) => v,
        None => max_cut * 60,
    };
    // Walk-only and bike-only trips are bounded by the trip duration unless a leg limit
    // is given; with transit, legs default to 15 minutes.
    let leg_default = if req.mode.uses_transit() { 15 * 60 } else { req.max_time_s };
    req.max_walk_s = match (minutes(&p.max_walk_time, "max_walk_time", 240)?, minutes(&p.max_walk, "max_walk", 240)?) {
        (Some(v), _) | (None, Some(v)) => v,
        (None, None) => leg_default,
    };
    req.max_bike_s = minutes(&p.max_bike_time, "max_bike_time", 240)?.unwrap_or(leg_default);
    req.max_transfer_walk_s = minutes(&p.max_transfer_walk_time, "max_transfer_walk_time", 60)?;
    if let Some(s) = num::<f64>(&p.walk_speed, "walk_speed", "a speed in km/h")? {
        if !(1.0..=11.0).contains(&s) {
            return Err(QueryError::bad("invalid_parameter", "walk_speed must be between 1 and 11 km/h"));
        }
        req.walk_speed_mps = s / 3.6;
    }
    if let Some(s) = num::<f64>(&p.bike_speed, "bike_speed", "a speed in km/h")? {
        if !(5.0..=40.0).contains(&s) {
            return Err(QueryError::bad("invalid_parameter", "bike_speed must be between 5 and 40 km/h"));
        }
        req.bike_speed_mps = s / 3.6;
    }
    let rides = match (num::<u32>(&p.max_rides, "max_rides", "a whole number")?, num::<u32>(&p.max_transfers, "max_transfers", "a whole number")?) {
        (Some(r), _) => Some(r),
        (None, Some(t)) => Some(t + 1),
        (None, None) => None,
    };
    if let Some(r) = rides {
        if r == 0 || r > crate::route::plan::MAX_TRANSFERS + 1 {
            return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("max_rides is 1 to {}", crate::route::plan::MAX_TRANSFERS + 1)));
        }
        req.max_transfers = r - 1;
    }
    if let Some(sl) = num::<u32>(&p.transfer_slack, "transfer_slack", "a number of seconds")? {
        req.transfer_slack_s = sl;
    }
    if let Some(st) = num::<u32>(&p.step, "step", "a number of minutes")? {
        if !(1..=60).contains(&st) {
            return Err(QueryError::bad("invalid_parameter", format!("'step' is 1 to 60 minutes between sampled departures, got {st}")));
        }
        req.step_s = st * 60;
    }
    req.wheelchair = boolean(&p.wheelchair, "wheelchair")?;
    if let Some(m) = val(&p.transit_modes) {
        let (bits, _) = parse_modes(m)?;
        req.modes = bits;
    }
    req.validate(router)?;
    Ok(req)
}

/// The parameters a surface request was computed with, recorded beside every output
/// (names, units and values as the user gives them).
pub fn parameters_used(req: &crate::analysis::surface::SurfaceRequest) -> serde_json::Value {
    let min = |s: u32| (s as f64 / 60.0 * 100.0).round() / 100.0;
    serde_json::json!({
        "date": req.date.to_string(),
        "window": format!("{}-{}", crate::route::plan::hhmm(req.from_s as i64), crate::route::plan::hhmm((req.from_s + req.window_s) as i64)),
        "step_min": min(req.step_s),
        "departures": req.departures(),
        "mode": req.mode,
        "percentiles": req.percentiles,
        "walk_speed_kmh": (req.walk_speed_mps * 3.6 * 1000.0).round() / 1000.0,
        "bike_speed_kmh": (req.bike_speed_mps * 3.6 * 1000.0).round() / 1000.0,
        "max_walk_time_min": min(req.max_walk_s),
        "max_transfer_walk_time_min": min(req.max_transfer_walk_s.unwrap_or(req.max_walk_s)),
        "max_bike_time_min": min(req.max_bike_s),
        "max_trip_duration_min": min(req.max_time_s),
        "max_rides": req.max_transfers + 1,
        "transfer_slack_s": req.transfer_slack_s,
        "wheelchair": req.wheelchair,
    })
}

/// Cutoffs in minutes (default 15,30,45,60).
pub fn cutoffs(p: &Params) -> Result<Vec<u32>, QueryError> {
    let mut c = list_u32(&p.cutoffs, "cutoffs", "15,30,45,60")?;
    if c.iter().any(|x| *x == 0 || *x > 240) {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "cutoffs must be between 1 and 240 minutes"));
    }
    c.sort_unstable();
    c.dedup();
    Ok(c)
}

/// Decay and ranks of `/api/access` and `terril access`.
pub fn access_spec(p: &Params, columns: Vec<String>) -> Result<crate::analysis::access::AccessSpec, QueryError> {
    use crate::analysis::access::{AccessSpec, Decay};
    let width_min = num::<u32>(&p.decay_width, "decay_width", "a number of minutes")?.unwrap_or(10);
    if !(1..=120).contains(&width_min) {
        return Err(QueryError::bad("invalid_parameter", "decay_width must be 1 to 120 minutes"));
    }
    let width = width_min * 60;
    let decay = match val(&p.decay) {
        None => Decay::Step,
        Some("fixed_exponential") => match num::<f64>(&p.decay_value, "decay_value", "a rate per minute")? {
            Some(k) if (0.0001..=10.0).contains(&k) => Decay::FixedExponential { per_min: k },
            _ => return Err(QueryError::bad("invalid_parameter", "fixed_exponential needs decay_value, a rate per minute between 0.0001 and 10 (weight exp(-k t))")),
        },
        Some(d) => Decay::parse(d, width).ok_or_else(|| QueryError::bad("invalid_parameter", format!("decay must be step, linear, exponential, logistic or fixed_exponential, got '{d}'")))?,
    };
    let nth = list_u32(&p.nth, "nth", "1")?.into_iter().map(|n| n.max(1) as usize).collect();
    Ok(AccessSpec { cutoffs_min: cutoffs(p)?, decay, columns, nth, nearest_column: val(&p.nearest_column).unwrap_or("count").to_string() })
}

/// Isochrone from request parameters (shared by `terril isochrone` and `/api/isochrone`).
pub fn run_isochrone(router: &Router, grid: &crate::analysis::targets::LinkedTargets, p: &Params) -> Result<serde_json::Value, QueryError> {
    use crate::analysis::{isochrone, surface};
    let req = surface_request(router, p)?;
    if req.percentiles.len() != 1 {
        return Err(QueryError::bad("invalid_parameter", "an isochrone takes one percentile"));
    }
    let cutoffs = cutoffs(p)?;
    let mut sc = surface::SurfaceScratch::default();
    let s = surface::compute(router, grid, &req, &mut sc)?;
    let mut gj = isochrone::isochrones(grid, &s, 0, &cutoffs);
    gj["properties"] = serde_json::json!({
        "origin": [req.origin.lon, req.origin.lat],
        "date": req.date.to_string(),
        "mode": req.mode,
        "percentile": req.percentiles[0],
        "departures": s.departures,
    });
    Ok(gj)
}

/// The French sentence for an error code, said to a person using the page (`lang=fr` or
/// `Accept-Language: fr`); the English message stays in `message_en`.
pub fn message_fr(code: &str) -> Option<&'static str> {
    Some(match code {
        "unknown_place" => "Ce lieu est inconnu : tapez une commune, une gare, un hôpital ou une adresse et choisissez dans la liste, ou cliquez sur la carte.",
        "unknown_stop" => "Cet arrêt est inconnu : tapez son nom et choisissez dans la liste.",
        "same_place" => "Le départ et l'arrivée sont le même lieu : choisissez une autre arrivée.",
        "date_outside_validity" => "Cette date est hors de la période des horaires : choisissez une date dans la période indiquée en haut de la page.",
        "outside_area" => "Ce point est hors de la zone couverte par le réseau : choisissez un lieu dans la zone du réseau.",
        "invalid_coordinates" => "Ces coordonnées ne sont pas valables : cliquez sur la carte ou tapez un nom de lieu.",
        "missing_parameter" => "Il manque une information : remplissez le départ, l'arrivée, la date et l'heure.",
        "invalid_parameter" | "invalid_query" | "bad_request" => "Une valeur n'est pas valable : vérifiez la date, l'heure et les nombres du formulaire.",
        "invalid_time" => "L'heure n'est pas valable : écrivez-la comme 07:30.",
        "invalid_date" => "La date n'est pas valable : choisissez-la dans le calendrier.",
        "too_big" => "La demande est trop grande : réduisez la fenêtre de départ, le nombre de seuils, de points ou la marche.",
        "busy" => "Le serveur est occupé par d'autres calculs : réessayez dans une minute.",
        "timeout" => "Le calcul a pris trop de temps : réduisez la fenêtre de départ ou le nombre de seuils.",
        "cancelled" => "Le calcul a été interrompu : relancez-le.",
        "unknown_scenario" => "Ce scénario est inconnu : choisissez-en un dans la liste.",
        "invalid_scenario" => "Ce scénario n'est pas valable : vérifiez le fichier (lignes, arrêts, horaires).",
        "unknown_destinations" => "Ces destinations ne sont pas chargées sur ce serveur : choisissez-en dans la liste.",
        "no_destination" => "Aucune destination ne correspond à ce filtre : choisissez un autre type d'établissement.",
        "no_report_areas" => "Aucune commune avec sa population n'est chargée sur ce serveur pour le rapport (option --report-areas).",
        "no_origin" | "no_population" => "Les lieux d'origine n'ont pas de population : le rapport ne peut pas être calculé.",
        "invalid_body" | "unsupported_media_type" => "La demande envoyée n'est pas du JSON valable.",
        "not_found" => "Cette adresse n'existe pas sur ce serveur.",
        "method_not_allowed" => "Cette action n'est pas permise à cette adresse.",
        "foreign_host" => "Ce serveur ne répond pas sous ce nom.",
        "internal" => "Erreur interne du serveur : réessayez ; si elle persiste, signalez-la.",
        _ => return None,
    })
}

/// Whether an answer should be in French: `lang=fr|en` in the query wins, else the first
/// language of `Accept-Language`.
pub fn wants_french(raw_query: &str, accept_language: Option<&str>) -> bool {
    for pair in raw_query.split('&') {
        if let Some(v) = pair.strip_prefix("lang=") {
            return v.eq_ignore_ascii_case("fr");
        }
    }
    accept_language.and_then(|h| h.split(',').next()).is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("fr"))
}

#[cfg(test)]
mod language_tests {
    #[test]
    fn french_is_chosen_by_lang_then_accept_language() {
        use super::wants_french;
        assert!(wants_french("from=a&lang=fr", None));
        assert!(!wants_french("lang=en", Some("fr-FR,fr;q=0.9")));
        assert!(wants_french("", Some("fr-FR,fr;q=0.9,en;q=0.8")));
        assert!(!wants_french("", Some("en-GB,fr;q=0.5")));
        assert!(!wants_french("", None));
        assert!(super::message_fr("same_place").unwrap().contains("même lieu"));
        assert!(super::message_fr("no_such_code").is_none());
    }
}
