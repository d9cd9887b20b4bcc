//! Request parameters -> validated library queries, shared by the HTTP server and the CLI
//! so both give the same answer to the same question.

use crate::model::geo::LatLon;
use crate::route::plan::{parse_modes, parse_time, Place, PlanRequest, QueryError, Router};
use crate::model::streets::WALK_SPEED_MPS;
use std::collections::HashMap;

pub type Params = HashMap<String, String>;

fn get<'a>(p: &'a Params, k: &str) -> Option<&'a str> {
    p.get(k).map(|s| s.as_str()).filter(|s| !s.trim().is_empty())
}

fn num<T: std::str::FromStr>(p: &Params, k: &str, what: &str) -> Result<Option<T>, QueryError> {
    match get(p, k) {
        None => Ok(None),
        Some(v) => v.trim().parse::<T>().map(Some).map_err(|_| QueryError::bad("invalid_parameter", format!("'{k}' must be {what}, got '{v}'"))),
    }
}

fn boolean(p: &Params, k: &str) -> Result<bool, QueryError> {
    match get(p, k).map(|s| s.to_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" || v == "yes" => Ok(true),
        Some(v) if v == "false" || v == "0" || v == "no" => Ok(false),
        Some(v) => Err(QueryError::bad("invalid_parameter", format!("'{k}' must be true or false, got '{v}'"))),
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
    let from = Place::parse(get(p, "from").unwrap_or(""), "from")?;
    let to = Place::parse(get(p, "to").unwrap_or(""), "to")?;
    let date = match get(p, "date") {
        Some(d) => parse_date(d)?,
        None => default_date(router),
    };
    let time_s = match get(p, "time") {
        Some(t) => parse_time(t).ok_or_else(|| QueryError::bad("invalid_time", format!("time must be HH:MM, got '{t}'")))?,
        None => 8 * 3600,
    };
    let mut req = PlanRequest::new(from, to, date, time_s);
    req.arrive_by = boolean(p, "arrive_by")?;
    if let Some(m) = get(p, "modes") {
        let (bits, access) = parse_modes(m)?;
        req.modes = bits;
        req.access = access;
    }
    if let Some(w) = num::<f64>(p, "max_walk", "a number of minutes")? {
        if !(0.0..=1e6).contains(&w) {
            return Err(QueryError::bad("invalid_parameter", "max_walk must be a positive number of minutes"));
        }
        req.max_walk_s = (w * 60.0).round() as u32;
    }
    if let Some(s) = num::<f64>(p, "walk_speed", "a speed in km/h")? {
        req.walk_speed_mps = s / 3.6;
    } else {
        req.walk_speed_mps = WALK_SPEED_MPS;
    }
    req.wheelchair = boolean(p, "wheelchair")?;
    if let Some(n) = num::<u32>(p, "max_transfers", "a whole number")? {
        req.max_transfers = n;
    }
    if let Some(n) = num::<usize>(p, "num_itineraries", "a whole number")? {
        req.num_itineraries = n;
    }
    if let Some(w) = num::<u32>(p, "window", "a number of minutes")? {
        req.window_s = w.saturating_mul(60);
    }
    Ok(req)
}

/// `lat`, `lon` parameters.
pub fn lat_lon(p: &Params) -> Result<LatLon, QueryError> {
    let lat = num::<f64>(p, "lat", "a latitude")?.ok_or_else(|| QueryError::bad("missing_parameter", "'lat' is required"))?;
    let lon = num::<f64>(p, "lon", "a longitude")?.ok_or_else(|| QueryError::bad("missing_parameter", "'lon' is required"))?;
    let ll = LatLon::new(lat, lon);
    if !ll.is_valid() {
        return Err(QueryError::bad("invalid_coordinates", format!("{lat},{lon} is not a valid latitude,longitude")));
    }
    Ok(ll)
}

pub fn number<T: std::str::FromStr>(p: &Params, k: &str, what: &str) -> Result<Option<T>, QueryError> {
    num(p, k, what)
}

/// `window` as `HH:MM-HH:MM` or minutes (with `time` as start) -> (start wall s, length s).
fn window(p: &Params) -> Result<(u32, u32), QueryError> {
    let w = get(p, "window").unwrap_or("60");
    if let Some((a, b)) = w.split_once('-') {
        let (a, b) = (parse_time(a), parse_time(b));
        match (a, b) {
            (Some(a), Some(b)) if b > a => return Ok((a, b - a)),
            _ => return Err(QueryError::bad("invalid_parameter", format!("window must be HH:MM-HH:MM with the end after the start, or minutes; got '{w}'"))),
        }
    }
    let minutes: u32 = w.trim().parse().map_err(|_| QueryError::bad("invalid_parameter", format!("window must be minutes or HH:MM-HH:MM, got '{w}'")))?;
    let start = match get(p, "time") {
        Some(t) => parse_time(t).ok_or_else(|| QueryError::bad("invalid_time", format!("time must be HH:MM, got '{t}'")))?,
        None => 8 * 3600,
    };
    Ok((start, minutes.saturating_mul(60)))
}

fn list_u32(p: &Params, k: &str, default: &str) -> Result<Vec<u32>, QueryError> {
    let s = get(p, k).unwrap_or(default);
    let v: Result<Vec<u32>, _> = s.split(',').map(|x| x.trim().parse::<u32>()).collect();
    match v {
        Ok(v) if !v.is_empty() && v.len() <= 12 => Ok(v),
        _ => Err(QueryError::bad("invalid_parameter", format!("'{k}' must be a comma list of up to 12 whole numbers, got '{s}'"))),
    }
}

/// Parameters of `/api/isochrone`, `/api/access` and the matching commands -> a surface
/// request (origin from `from`).
pub fn surface_request(router: &Router, p: &Params) -> Result<crate::analysis::surface::SurfaceRequest, QueryError> {
    use crate::analysis::surface::{SurfaceMode, SurfaceRequest};
    let origin = match Place::parse(get(p, "from").unwrap_or(""), "from")? {
        Place::Coord(c) => c,
        Place::Stop(id) => {
            let s = router.resolve_stop(&id)?;
            router.net.timetable.stops.coords[s as usize]
        }
    };
    let date = match get(p, "date") {
        Some(d) => parse_date(d)?,
        None => default_date(router),
    };
    let (from_s, window_s) = window(p)?;
    let mut req = SurfaceRequest::new(origin, date, from_s, window_s);
    if let Some(m) = get(p, "mode") {
        req.mode = SurfaceMode::parse(m).ok_or_else(|| QueryError::bad("invalid_parameter", format!("mode must be walk, bike, transit or bike_transit, got '{m}'")))?;
    }
    let pcts = list_u32(p, "percentiles", get(p, "percentile").unwrap_or("50"))?;
    req.percentiles = pcts.into_iter().map(|x| x.min(255) as u8).collect();
    if let Some(w) = num::<u32>(p, "max_walk", "a number of minutes")? {
        req.max_walk_s = w.saturating_mul(60);
    }
    if let Some(s) = num::<f64>(p, "walk_speed", "a speed in km/h")? {
        if !(1.0..=11.0).contains(&s) {
            return Err(QueryError::bad("invalid_parameter", "walk_speed must be between 1 and 11 km/h"));
        }
        req.walk_speed_mps = s / 3.6;
    }
    if let Some(n) = num::<u32>(p, "max_transfers", "a whole number")? {
        if n > crate::route::plan::MAX_TRANSFERS {
            return Err(QueryError::new(422, "too_big", "max_transfers is limited to 8"));
        }
        req.max_transfers = n;
    }
    if let Some(st) = num::<u32>(p, "step", "a number of minutes")? {
        req.step_s = st.saturating_mul(60);
    }
    req.wheelchair = boolean(p, "wheelchair")?;
    if let Some(m) = get(p, "transit_modes") {
        let (bits, _) = parse_modes(m)?;
        req.modes = bits;
    }
    let cutoffs = list_u32(p, "cutoffs", "15,30,45,60")?;
    let max_cut = cutoffs.iter().copied().max().unwrap_or(60);
    if max_cut == 0 || max_cut > 240 {
        return Err(QueryError::new(422, "too_big", "cutoffs must be between 1 and 240 minutes"));
    }
    req.max_time_s = max_cut * 60;
    req.validate(router)?;
    Ok(req)
}

/// Cutoffs in minutes (default 15,30,45,60).
pub fn cutoffs(p: &Params) -> Result<Vec<u32>, QueryError> {
    let mut c = list_u32(p, "cutoffs", "15,30,45,60")?;
    c.sort_unstable();
    c.dedup();
    Ok(c)
}

/// Decay and ranks of `/api/access` and `terril access`.
pub fn access_spec(p: &Params, columns: Vec<String>) -> Result<crate::analysis::access::AccessSpec, QueryError> {
    use crate::analysis::access::{AccessSpec, Decay};
    let width = num::<u32>(p, "decay_width", "a number of minutes")?.unwrap_or(10) * 60;
    let decay = match get(p, "decay") {
        None => Decay::Step,
        Some(d) => Decay::parse(d, width).ok_or_else(|| QueryError::bad("invalid_parameter", format!("decay must be step, linear, exponential or logistic, got '{d}'")))?,
    };
    let nth = list_u32(p, "nth", "1")?.into_iter().map(|n| n.max(1) as usize).collect();
    Ok(AccessSpec { cutoffs_min: cutoffs(p)?, decay, columns, nth, nearest_column: get(p, "nearest_column").unwrap_or("count").to_string() })
}
