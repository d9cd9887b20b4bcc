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
