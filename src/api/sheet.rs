//! Site access sheets (the SMT's Action 54): for an activity zone, a hospital or any
//! place, and the shifts worked there, what a transport authority publishes and a
//! mobility adviser hands on: the stops and stations nearby with walking and cycling
//! times, the lines serving them, the arrivals before each shift starts and the departures
//! after it ends, and the communes from which the site is reached in time (with their
//! population). `terril sheet` and `/api/sheet` answer the same [`SiteSheet`]; the HTML
//! is one French A4 page.

use super::{default_date, parse_date, val, Params};
use crate::analysis::population::Area;
use crate::analysis::report::{esc, fr_int};
use crate::model::search::Pace;
use crate::model::streets::{Profile, WALK_SPEED_MPS};
use crate::route::plan::{parse_time, ErrorKind, Place, PlanRequest, QueryError, Router};
use crate::route::raptor::DayContext;
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write;

/// Most shifts one sheet covers.
pub const MAX_SHIFTS: usize = 6;
/// Stops listed: within this walk (minutes) or this ride by bike.
const STOP_WALK_MIN: u32 = 20;
const STOP_BIKE_MIN: u32 = 15;
const STOPS_LISTED: usize = 8;
/// Arrivals listed in the hour before a shift, departures in the hour after.
const EVENTS_WINDOW_S: u32 = 3600;
/// Thresholds of the communes' table, minutes.
pub const SHEET_THRESHOLDS: [u32; 3] = [30, 45, 60];

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SiteSheet {
    pub site: SitePlace,
    /// YYYY-MM-DD, and in French words.
    pub date: String,
    pub date_fr: String,
    pub network: String,
    pub validity: [String; 2],
    pub stops: Vec<SiteStop>,
    pub shifts: Vec<ShiftAccess>,
    /// Set when no communes with a population are loaded (the commune part is empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communes_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SitePlace {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

/// A stop or station near the site.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SiteStop {
    pub id: String,
    pub name: String,
    /// Minutes on foot (None: beyond the walk listed), metres.
    pub walk_min: Option<u32>,
    pub walk_m: Option<f64>,
    /// Minutes by bike.
    pub bike_min: Option<u32>,
    /// The lines stopping there (short names), and their modes.
    pub lines: Vec<String>,
    pub modes: Vec<String>,
}

/// One shift: how one gets there before it starts and home after it ends.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ShiftAccess {
    pub start: String,
    pub end: String,
    /// Vehicles arriving at the stops nearby in the hour before the start, early enough
    /// to walk to the site.
    pub arrivals: Vec<SheetEvent>,
    /// Vehicles leaving the stops nearby in the hour after the end, late enough to walk
    /// there.
    pub departures: Vec<SheetEvent>,
    /// Communes reached within the last threshold, one way or the other, nearest first.
    pub communes: Vec<CommuneReach>,
    /// Population of the communes from which one arrives in time leaving home at most
    /// 30, 45, 60 minutes before the start.
    pub population_within: Vec<(u32, f64)>,
    /// Population home within 30, 45, 60 minutes of the end.
    pub population_back_within: Vec<(u32, f64)>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SheetEvent {
    /// HH:MM (past 24:00 on the next day).
    pub time: String,
    pub stop: String,
    pub line: String,
    pub mode: String,
    /// Arrivals: where the vehicle comes from; departures: where it goes.
    pub towards: String,
    /// Between the stop and the site, minutes, on foot (`on_foot`) or by bike.
    pub access_min: u32,
    pub on_foot: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CommuneReach {
    pub id: String,
    pub name: String,
    pub population: f64,
    /// Leaving the commune's centre at `leave_at`, at the site before the start:
    /// `minutes_to` from leaving to the start of the shift (waiting included).
    pub leave_at: Option<String>,
    pub minutes_to: Option<u32>,
    /// Leaving at the end of the shift, home at `home_at`, `minutes_back` after the end.
    pub home_at: Option<String>,
    pub minutes_back: Option<u32>,
}

/// `05:00,13:00` or `05:00-13:00,21:00-05:00`: (start, end) seconds of the day, an end
/// before its start on the next day, a start alone lasting 8 hours.
pub fn parse_shifts(s: &str) -> Result<Vec<(u32, u32)>, QueryError> {
    let bad = |m: String| QueryError::bad("invalid_parameter", m);
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (part, None),
        };
        let start = parse_time(a).filter(|t| *t < 24 * 3600).ok_or_else(|| bad(format!("shift '{part}': the start must be HH:MM before 24:00")))?;
        let mut end = match b {
            Some(b) => parse_time(b).filter(|t| *t < 24 * 3600).ok_or_else(|| bad(format!("shift '{part}': the end must be HH:MM before 24:00")))?,
            None => start + 8 * 3600,
        };
        if end <= start {
            end += 24 * 3600;
        }
        out.push((start, end));
    }
    if out.is_empty() {
        return Err(QueryError::bad("missing_parameter", "'shifts' is required: the start times of the shifts, e.g. 05:00,13:00,21:00"));
    }
    if out.len() > MAX_SHIFTS {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("at most {MAX_SHIFTS} shifts per sheet")));
    }
    Ok(out)
}

fn hm(s: i64) -> String {
    format!("{:02}:{:02}", s.div_euclid(3600), s.rem_euclid(3600) / 60)
}

/// The sheet of `p.site` for `p.shifts` on `p.date`; `communes` (with their population)
/// give the commune part.
pub fn site_sheet(router: &Router, p: &Params, communes: Option<&[Area]>) -> Result<SiteSheet, QueryError> {
    let site_text = val(&p.site).ok_or_else(|| QueryError::bad("missing_parameter", "'site' is required: a place name (activity zone, hospital, commune, address), a stop or lat,lon"))?;
    let shifts = parse_shifts(val(&p.shifts).unwrap_or(""))?;
    let date = match val(&p.date) {
        Some(d) => parse_date(d)?,
        None => default_date(router),
    };
    router.check_date(date)?;
    let net = &*router.net;
    let tt = &net.timetable;
    let place = Place::parse(site_text, "site")?;
    let (pos, name, walks) = router.stops_around(&place, "site", Profile::Walk, Pace::WALK, STOP_WALK_MIN * 60)?;
    let (_, _, bikes) = router.stops_around(&place, "site", Profile::Bike, Pace::BIKE, STOP_BIKE_MIN * 60)?;
    let name = if name.is_empty() { site_text.to_string() } else { name };
    // Stops by walk, then those only a bike reaches; a station's platforms once.
    let mut ids: Vec<u32> = walks.iter().map(|w| w.0).collect();
    let mut by_bike: Vec<&(u32, u32, f64)> = bikes.iter().filter(|b| !ids.contains(&b.0)).collect();
    by_bike.sort_by_key(|b| b.1);
    let mut walks_sorted = walks.clone();
    walks_sorted.sort_by_key(|w| w.1);
    ids = walks_sorted.iter().map(|w| w.0).chain(by_bike.iter().map(|b| b.0)).collect();
    // One row per station name: the lines of all its platforms (a station's train and
    // coach stop points), the shortest walk and ride.
    let mut stops: Vec<SiteStop> = Vec::new();
    // (stop, seconds to the site, on foot) of every platform listed: the events' stops.
    let mut listed: Vec<(u32, u32, bool)> = Vec::new();
    for s in ids {
        let stop_name = tt.stops.names[s as usize].clone();
        let lines: Vec<(String, String)> = tt.patterns_at(s).iter().map(|(pt, _)| {
            let r = tt.patterns[*pt as usize].route as usize;
            (tt.routes.short_names[r].clone(), tt.routes.modes[r].name().to_string())
        }).collect();
        if lines.is_empty() {
            continue;
        }
        let w = walks.iter().find(|w| w.0 == s);
        let b = bikes.iter().find(|b| b.0 == s);
        let i = match stops.iter().position(|x| x.name == stop_name) {
            Some(i) => i,
            None if stops.len() == STOPS_LISTED => continue,
            None => {
                stops.push(SiteStop { id: tt.stops.ids[s as usize].clone(), name: stop_name, walk_min: None, walk_m: None, bike_min: None, lines: vec![], modes: vec![] });
                stops.len() - 1
            }
        };
        let row = &mut stops[i];
        if let Some(w) = w {
            if row.walk_min.is_none_or(|m| w.1.div_ceil(60) < m) {
                row.walk_min = Some(w.1.div_ceil(60));
                row.walk_m = Some(w.2.round());
            }
        }
        if let Some(b) = b {
            row.bike_min = Some(row.bike_min.map_or(b.1.div_ceil(60), |m| m.min(b.1.div_ceil(60))));
        }
        row.lines.extend(lines.iter().map(|l| l.0.clone()).filter(|l| !l.is_empty()));
        row.lines.sort();
        row.lines.dedup();
        row.modes.extend(lines.into_iter().map(|l| l.1));
        row.modes.sort();
        row.modes.dedup();
        listed.push(match (w, b) {
            (Some(w), _) => (s, w.1, true),
            (None, Some(b)) => (s, b.1, false),
            (None, None) => continue,
        });
    }
    let ctx = DayContext::new(net, date);
    let day0 = ctx.wall_to_gtfs(0);
    let events = |from_s: u32, to_s: u32, arrivals: bool, walk_ok: &dyn Fn(i64, u32) -> bool| -> Vec<SheetEvent> {
        let mut v: Vec<(i64, SheetEvent)> = Vec::new();
        for &(s, walk_s, on_foot) in &listed {
            for e in router.stop_events(s, date, from_s, to_s, arrivals) {
                if !walk_ok(e.t, walk_s) {
                    continue;
                }
                let stop = tt.stops.names[s as usize].clone();
                if v.iter().any(|(t, x)| *t == e.t && x.line == e.route.short_name && x.stop == stop) {
                    continue;
                }
                v.push((e.t, SheetEvent { time: hm(e.t - day0), stop, line: e.route.short_name.clone(), mode: e.mode.clone(), towards: e.headsign.clone(), access_min: walk_s.div_ceil(60), on_foot }));
            }
        }
        v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.stop.cmp(&b.1.stop)));
        v.into_iter().map(|x| x.1).collect()
    };
    let mut out_shifts = Vec::new();
    for &(start, end) in &shifts {
        let start_t = ctx.wall_to_gtfs(start);
        let end_t = ctx.wall_to_gtfs(end);
        let arrivals = events(start.saturating_sub(EVENTS_WINDOW_S), start, true, &|t, w| t + w as i64 <= start_t);
        let departures = events(end, end + EVENTS_WINDOW_S, false, &|t, w| t >= end_t + w as i64);
        let reach: Vec<CommuneReach> = match communes {
            Some(areas) => areas
                .par_iter()
                .map(|a| {
                    let trip = |from: LatLonPlace, to: LatLonPlace, time_s: u32, arrive_by: bool| -> Option<(i64, i64)> {
                        let mut req = PlanRequest::new(from.0, to.0, date, time_s);
                        req.arrive_by = arrive_by;
                        req.max_walk_s = STOP_WALK_MIN * 60;
                        req.walk_speed_mps = WALK_SPEED_MPS;
                        req.num_itineraries = 1;
                        req.window_s = 2 * 3600;
                        let r = router.plan(&req).ok()?;
                        let walk_only = r.direct.iter().filter(|i| i.legs.iter().all(|l| l.mode == "walk"));
                        let all = r.itineraries.iter().chain(walk_only);
                        // Within the two hours searched: an answer of the day before (or
                        // after) is no way to get to work.
                        if arrive_by {
                            all.filter(|i| i.end_s <= start_t && i.start_s >= start_t - 2 * 3600).max_by_key(|i| i.start_s).map(|i| (i.start_s, i.end_s))
                        } else {
                            all.filter(|i| i.start_s >= end_t && i.end_s <= end_t + 2 * 3600).min_by_key(|i| i.end_s).map(|i| (i.start_s, i.end_s))
                        }
                    };
                    let home = LatLonPlace(Place::Coord(a.point));
                    let site = LatLonPlace(Place::Coord(pos));
                    let to = trip(home.clone(), site.clone(), start, true);
                    let back = trip(site, home, end, false);
                    CommuneReach {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        population: a.population,
                        leave_at: to.map(|x| hm(x.0 - day0)),
                        minutes_to: to.map(|x| ((start_t - x.0) as u32).div_ceil(60)),
                        home_at: back.map(|x| hm(x.1 - day0)),
                        minutes_back: back.map(|x| ((x.1 - end_t) as u32).div_ceil(60)),
                    }
                })
                .collect(),
            None => vec![],
        };
        let within = |f: &dyn Fn(&CommuneReach) -> Option<u32>| SHEET_THRESHOLDS.iter().map(|t| (*t, reach.iter().filter(|c| f(c).is_some_and(|m| m <= *t)).map(|c| c.population).sum())).collect::<Vec<(u32, f64)>>();
        let population_within = within(&|c| c.minutes_to);
        let population_back_within = within(&|c| c.minutes_back);
        let last = *SHEET_THRESHOLDS.last().unwrap();
        let mut listed_communes: Vec<CommuneReach> = reach.into_iter().filter(|c| c.minutes_to.is_some_and(|m| m <= last) || c.minutes_back.is_some_and(|m| m <= last)).collect();
        listed_communes.sort_by_key(|c| (c.minutes_to.unwrap_or(u32::MAX), c.minutes_back.unwrap_or(u32::MAX)));
        out_shifts.push(ShiftAccess { start: hm(start as i64), end: hm(end as i64), arrivals, departures, communes: listed_communes, population_within, population_back_within });
    }
    let info = crate::info::NetworkInfo::of(net, 0);
    Ok(SiteSheet {
        site: SitePlace { name, lat: pos.lat, lon: pos.lon },
        date: date.to_string(),
        date_fr: crate::model::text::date_fr(date),
        network: net.meta.title.clone(),
        validity: [info.validity_start.clone(), info.validity_end.clone()],
        stops,
        shifts: out_shifts,
        communes_note: communes.is_none().then(|| "no communes with a population are loaded: start the server with --report-areas, or give terril sheet --communes".to_string()),
    })
}

/// A place passed to two requests.
#[derive(Clone)]
struct LatLonPlace(Place);

/// "24:10" -> "00:10 (le lendemain)".
fn clock(t: &str) -> String {
    match t.split_once(':').and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m))) {
        Some((h, m)) if h >= 24 => format!("{:02}:{m} (le lendemain)", h - 24),
        _ => t.to_string(),
    }
}

fn mode_fr(m: &str) -> &'static str {
    match m {
        "rail" => "train",
        "bus" => "bus",
        "tram" => "tram",
        "coach" => "car",
        "subway" => "métro",
        _ => "ligne",
    }
}

/// One French A4 page (two when many communes): the sheet a transport authority
/// publishes for a site.
pub fn sheet_html(s: &SiteSheet) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Accès au site : {name}</title><style>
body{{font-family:system-ui,'DejaVu Sans',sans-serif;margin:1.5em auto;max-width:52em;color:#111;line-height:1.35;font-size:14px}}
h1{{font-size:1.5em;margin:0 0 .2em}} h2{{font-size:1.15em;margin:1.1em 0 .3em;border-bottom:2px solid #0b5cad}} h3{{font-size:1em;margin:.8em 0 .2em}}
table{{border-collapse:collapse;width:100%}} th,td{{border:1px solid #ccc;padding:.15em .4em;text-align:left;vertical-align:top}} thead{{background:#eef2f6}}
.n{{text-align:right}} .shift{{border:1px solid #bbb;border-radius:6px;padding:.3em .8em;margin:.6em 0;break-inside:avoid}} .cols{{display:flex;gap:1em}} .cols>div{{flex:1}}
.badge{{display:inline-block;background:#0b5cad;color:#fff;border-radius:3px;padding:0 .3em;font-weight:bold;font-size:.9em}} small{{color:#444}} ul{{margin:.2em 0;padding-left:1.2em}}
@media print{{body{{margin:0;max-width:none;font-size:11px;line-height:1.25}} .shift{{margin:.35em 0;padding:.15em .6em}} h2{{margin:.6em 0 .2em}} *{{-webkit-print-color-adjust:exact;print-color-adjust:exact}}}} @page{{size:A4;margin:10mm}}
</style></head><body>"#,
        name = esc(&s.site.name)
    );
    let _ = write!(h, "<h1>Accès au site : {}</h1><p>{} — réseau {} (horaires valables du {} au {}). Position : {:.5}, {:.5}.</p>", esc(&s.site.name), esc(&s.date_fr), esc(&s.network), esc(&s.validity[0]), esc(&s.validity[1]), s.site.lat, s.site.lon);
    h.push_str("<h2>Arrêts et gares à proximité</h2>");
    if s.stops.is_empty() {
        let _ = write!(h, "<p><b>Aucun arrêt à moins de {STOP_WALK_MIN} min à pied ni de {STOP_BIKE_MIN} min à vélo.</b></p>");
    } else {
        h.push_str("<table><thead><tr><th>Arrêt</th><th>À pied</th><th>À vélo</th><th>Lignes</th></tr></thead><tbody>");
        for st in &s.stops {
            let walk = match (st.walk_min, st.walk_m) {
                (Some(m), Some(d)) => format!("{m} min ({} m)", fr_int(d)),
                _ => format!("plus de {STOP_WALK_MIN} min"),
            };
            let bike = st.bike_min.map(|m| format!("{m} min")).unwrap_or_else(|| "—".into());
            let modes: Vec<&str> = st.modes.iter().map(|m| mode_fr(m)).collect();
            let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{walk}</td><td class=\"n\">{bike}</td><td>{} <small>({})</small></td></tr>", esc(&st.name), st.lines.iter().map(|l| format!("<span class=\"badge\">{}</span>", esc(l))).collect::<Vec<_>>().join(" "), modes.join(", "));
        }
        h.push_str("</tbody></table>");
    }
    for sh in &s.shifts {
        let _ = write!(h, "<div class=\"shift\"><h2>Poste de {} à {}</h2><div class=\"cols\"><div><h3>Arriver avant {}</h3>", esc(&sh.start), clock(&sh.end), esc(&sh.start));
        let list = |h: &mut String, ev: &[SheetEvent], arrive: bool| {
            if ev.is_empty() {
                let _ = write!(h, "<p><b>Aucun {} dans l'heure {} à un arrêt proche.</b></p>", if arrive { "véhicule n'arrive" } else { "départ" }, if arrive { "qui précède" } else { "qui suit" });
                return;
            }
            h.push_str("<ul>");
            for e in ev.iter().rev().take(6).collect::<Vec<_>>().into_iter().rev().filter(|_| arrive).chain(ev.iter().take(6).filter(|_| !arrive)) {
                let _ = write!(h, "<li>{} — {} <span class=\"badge\">{}</span> {} {}, à {} ({} min {})</li>", clock(&e.time), mode_fr(&e.mode), esc(&e.line), if arrive { "en provenance de" } else { "vers" }, esc(&e.towards), esc(&e.stop), e.access_min, if e.on_foot { "à pied" } else { "à vélo" });
            }
            h.push_str("</ul>");
        };
        list(&mut h, &sh.arrivals, true);
        let _ = write!(h, "</div><div><h3>Repartir après {}</h3>", clock(&sh.end));
        list(&mut h, &sh.departures, false);
        h.push_str("</div></div>");
        if s.communes_note.is_none() {
            let pops: Vec<String> = sh.population_within.iter().map(|(t, p)| format!("{} habitants en {t} min", fr_int(*p))).collect();
            let back: Vec<String> = sh.population_back_within.iter().map(|(t, p)| format!("{} en {t} min", fr_int(*p))).collect();
            let _ = write!(h, "<h3>Communes d'où l'on arrive à l'heure</h3><p>{} <small>(temps entre le départ du centre de la commune et le début du poste, attente comprise, {} min de marche au plus à chaque bout)</small>. Retour après le poste : {}.</p>", pops.join(" · "), STOP_WALK_MIN, back.join(" · "));
            if sh.communes.is_empty() {
                let _ = write!(h, "<p><b>Aucune commune à moins de {} min.</b></p>", SHEET_THRESHOLDS.last().unwrap());
            } else {
                let items: Vec<String> = sh.communes.iter().take(24).map(|c| {
                    let to = c.minutes_to.map(|m| format!("{m} min, départ {}", clock(c.leave_at.as_deref().unwrap_or("")))).unwrap_or_else(|| "pas à l'heure".into());
                    let back = c.minutes_back.map(|m| format!("retour {m} min")).unwrap_or_else(|| "pas de retour en 2 h".into());
                    format!("<b>{}</b> <small>({} hab.)</small> : {to} ; {back}", esc(&c.name), fr_int(c.population))
                }).collect();
                let _ = write!(h, "<p>{}{}</p>", items.join(" · "), if sh.communes.len() > 24 { format!(" · et {} autres communes", sh.communes.len() - 24) } else { String::new() });
            }
        }
        h.push_str("</div>");
    }
    let _ = write!(h, "<p><small>Fiche calculée par terril {} sur les horaires GTFS du réseau ; marche sur les rues quand elles sont chargées, sinon en ligne droite × 1,3 ; vélo à 15 km/h. Les horaires peuvent changer : vérifiez-les avant le premier jour.</small></p></body></html>", env!("CARGO_PKG_VERSION"));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_are_read_with_night_ends_and_default_lengths() {
        assert_eq!(parse_shifts("05:00,13:00").unwrap(), vec![(5 * 3600, 13 * 3600), (13 * 3600, 21 * 3600)]);
        assert_eq!(parse_shifts("21:00-05:00").unwrap(), vec![(21 * 3600, 29 * 3600)]);
        assert_eq!(parse_shifts("21:00").unwrap(), vec![(21 * 3600, 29 * 3600)]);
        assert!(parse_shifts("").is_err());
        assert!(parse_shifts("25:00").is_err());
        assert_eq!(parse_shifts("01:00,02:00,03:00,04:00,05:00,06:00,07:00").unwrap_err().error, "too_big");
        assert_eq!(clock("29:05"), "05:05 (le lendemain)");
        assert_eq!(clock("07:39"), "07:39");
    }
}
