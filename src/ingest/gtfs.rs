//! GTFS ingest: several feeds -> one [`Timetable`] in RAPTOR layout.
//!
//! Reading is gtfs-structures' `RawGtfs` (raw rows, no cross-referencing), one feed per
//! rayon task; the rows are converted at once into the compact model and dropped.
//! Conversion steps, in order:
//! 1. ids are namespaced (`ter:StopArea:OCE87345025`) so feeds never collide;
//! 2. services become day bitsets over the union of the feeds' validity periods;
//! 3. stop times are grouped per trip, ordered by `stop_sequence`, and missing
//!    intermediate times are interpolated by distance along the trip;
//! 4. `frequencies.txt` trips are expanded into one trip per departure;
//! 5. trips with the same route, stop sequence and pickup/drop-off rules form a
//!    pattern, split further wherever a trip would overtake another (FIFO invariant).

use crate::model::calendar::{Calendar, DaySet};
use crate::model::geo::{distance_m, LatLon};
use crate::model::timetable::*;
use gtfs_structures::{Availability, Exception, LocationType, PickupDropOffType, RouteType, TransferType};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One feed to load: a zip file or a folder, with the namespace of its ids.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedSource {
    pub namespace: String,
    pub path: PathBuf,
    /// Warnings stop this feed too (`--strict`).
    pub strict: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GtfsError {
    #[error("feed '{feed}' ({path}): required file {files} is missing, so this feed cannot be routed. Add the missing file(s), or pass --skip-broken-feeds to build without this feed.")]
    MissingFiles { feed: String, path: String, files: String },
    #[error("feed '{feed}' ({path}): {file}{line}: {message}")]
    Invalid { feed: String, path: String, file: String, line: String, message: String },
    #[error("{path}: not a GTFS feed (a .zip file or a folder holding stops.txt is expected)")]
    NotAFeed { path: String },
    #[error("feed '{feed}' ({path}): no trip runs on any day (empty or missing calendar)")]
    NoService { feed: String, path: String },
    #[error("feed '{feed}' ({path}) has {} errors (codes as the MobilityData GTFS validator names them):\n  {}", .notices.len(), notice_lines(.notices))]
    Notices { feed: String, path: String, notices: Vec<Notice> },
}

/// A problem of a feed, named as the MobilityData GTFS validator names it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Notice {
    /// `invalid_timezone`, `number_out_of_range`, `duplicate_key`...
    pub code: &'static str,
    pub severity: Severity,
    pub file: &'static str,
    /// Line in the file (the header is line 1), when one line is at fault.
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Error,
    Warning,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = self.line.map(|l| format!(":{l}")).unwrap_or_default();
        write!(f, "{} {} {}{line}: {}", if self.severity == Severity::Error { "ERROR" } else { "WARNING" }, self.code, self.file, self.message)
    }
}

fn notice_lines(n: &[Notice]) -> String {
    let mut v: Vec<String> = n.iter().take(20).map(|x| x.to_string()).collect();
    if n.len() > 20 {
        v.push(format!("... and {} more", n.len() - 20));
    }
    v.join("\n  ")
}

/// Checks what the reader accepts but routing cannot use: time zones, coordinates,
/// duplicate ids, empty stop times, calendars ending before they start, headways of 0.
/// Several rows with one problem are counted in one notice after the first few.
pub fn validate(raw: &gtfs_structures::RawGtfs) -> Vec<Notice> {
    let mut out = Vec::new();
    let mut push = |code, severity, file, line, message: String| out.push(Notice { code, severity, file, line, message });
    if let Ok(agencies) = &raw.agencies {
        for (i, a) in agencies.iter().enumerate() {
            if jiff::tz::TimeZone::get(&a.timezone).is_err() {
                push("invalid_timezone", Severity::Error, "agency.txt", Some(i + 2), format!("agency_timezone '{}' is not a time zone (e.g. Europe/Paris)", a.timezone.chars().take(40).collect::<String>()));
            }
        }
    }
    if let Ok(stops) = &raw.stops {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(stops.len());
        let (mut bad, mut dup) = (0usize, 0usize);
        for (i, st) in stops.iter().enumerate() {
            if let Some(first) = seen.insert(st.id.as_str(), i + 2) {
                dup += 1;
                if dup <= 5 {
                    push("duplicate_key", Severity::Error, "stops.txt", Some(i + 2), format!("stop_id '{}' already on line {first}", st.id.chars().take(40).collect::<String>()));
                }
            }
            if let (Some(lat), Some(lon)) = (st.latitude, st.longitude) {
                let ok = lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
                if !ok {
                    bad += 1;
                    if bad <= 5 {
                        push("number_out_of_range", Severity::Error, "stops.txt", Some(i + 2), format!("stop '{}' has coordinates {lat},{lon}", st.id.chars().take(40).collect::<String>()));
                    }
                } else if lat.abs() < 1e-6 && lon.abs() < 1e-6 {
                    push("point_near_origin", Severity::Error, "stops.txt", Some(i + 2), format!("stop '{}' is at 0,0", st.id.chars().take(40).collect::<String>()));
                }
            }
        }
        if dup > 5 {
            push("duplicate_key", Severity::Error, "stops.txt", None, format!("{} more duplicate stop_id", dup - 5));
        }
        if bad > 5 {
            push("number_out_of_range", Severity::Error, "stops.txt", None, format!("{} more stops with invalid coordinates", bad - 5));
        }
    }
    if let (Ok(st), Ok(trips)) = (&raw.stop_times, &raw.trips) {
        if st.is_empty() && !trips.is_empty() {
            push("empty_file", Severity::Error, "stop_times.txt", None, format!("no rows: none of the {} trips can run", trips.len()));
        }
    }
    if let Some(Ok(cal)) = &raw.calendar {
        for (i, c) in cal.iter().enumerate() {
            if c.end_date < c.start_date {
                push("start_and_end_range_out_of_order", Severity::Error, "calendar.txt", Some(i + 2), format!("service '{}' ends on {} before it starts on {}", c.id.chars().take(40).collect::<String>(), c.end_date, c.start_date));
            }
        }
    }
    if let Some(Ok(fr)) = &raw.frequencies {
        for (i, f) in fr.iter().enumerate() {
            if f.headway_secs == 0 {
                push("number_out_of_range", Severity::Warning, "frequencies.txt", Some(i + 2), format!("trip '{}' has headway_secs 0 (row ignored)", f.trip_id.chars().take(40).collect::<String>()));
            }
        }
    }
    out
}

/// Namespace of a feed from its file name: `ter-2025-01-22.gtfs.zip` -> `ter`,
/// `poa_eptc.zip` -> `poa_eptc`, `tadao-partial/` -> `tadao-partial`.
pub fn namespace_for(path: &Path) -> String {
    let name = path.file_name().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let mut stem = name.trim_end_matches(".zip").trim_end_matches(".gtfs").to_string();
    // Drop a trailing date such as -2025-01-22 or _20250122.
    let bytes: Vec<char> = stem.chars().collect();
    if let Some(pos) = stem.find(|c: char| c == '-' || c == '_') {
        let rest = &stem[pos + 1..];
        if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '_') {
            stem.truncate(pos);
        }
    }
    let _ = bytes;
    let clean: String = stem.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if clean.is_empty() { "feed".into() } else { clean }
}

/// Expands the `--gtfs` arguments: a zip file, a feed folder (holding `stops.txt`), or a
/// folder of feeds; `name=path` sets the namespace. Namespaces are made unique.
pub fn discover_feeds(args: &[String]) -> Result<Vec<FeedSource>, GtfsError> {
    let mut out: Vec<FeedSource> = Vec::new();
    for arg in args {
        let (ns, path) = match arg.split_once('=') {
            Some((n, p)) if !n.contains('/') => (Some(n.to_string()), PathBuf::from(p)),
            _ => (None, PathBuf::from(arg)),
        };
        let is_feed_dir = |p: &Path| p.is_dir() && p.join("stops.txt").exists();
        if path.is_file() || is_feed_dir(&path) {
            out.push(FeedSource { namespace: ns.unwrap_or_else(|| namespace_for(&path)), path, strict: false });
        } else if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|_| GtfsError::NotAFeed { path: path.display().to_string() })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "zip") || is_feed_dir(p))
                .collect();
            entries.sort();
            if entries.is_empty() {
                return Err(GtfsError::NotAFeed { path: path.display().to_string() });
            }
            for p in entries {
                out.push(FeedSource { namespace: namespace_for(&p), path: p, strict: false });
            }
        } else {
            return Err(GtfsError::NotAFeed { path: path.display().to_string() });
        }
    }
    // Unique namespaces.
    let mut seen: HashMap<String, u32> = HashMap::new();
    for f in &mut out {
        let n = seen.entry(f.namespace.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            f.namespace = format!("{}{}", f.namespace, n);
        }
    }
    Ok(out)
}

fn convert_err(src: &FeedSource, e: gtfs_structures::Error) -> GtfsError {
    use gtfs_structures::Error as E;
    let (feed, path) = (src.namespace.clone(), src.path.display().to_string());
    match e {
        E::MissingFile(f) => GtfsError::MissingFiles { feed, path, files: f },
        E::CSVError { file_name, source, line_in_error } => {
            let line = source.position().map(|p| format!(" line {}", p.line())).unwrap_or_default();
            let mut message = source.to_string();
            if let Some(le) = line_in_error {
                let pairs: Vec<String> = le.headers.iter().zip(le.values.iter()).map(|(h, v)| format!("{h}={v:?}")).collect();
                message = format!("{message} (row: {})", pairs.join(", "));
            }
            GtfsError::Invalid { feed, path, file: file_name, line, message }
        }
        other => {
            let mut message = other.to_string();
            let mut src_err: Option<&dyn std::error::Error> = std::error::Error::source(&other);
            while let Some(s) = src_err {
                message.push_str(": ");
                message.push_str(&s.to_string());
                src_err = s.source();
            }
            GtfsError::Invalid { feed, path, file: String::new(), line: String::new(), message }
        }
    }
}

/// A feed read from disk, not yet converted.
pub struct RawFeed {
    pub source: FeedSource,
    raw: gtfs_structures::RawGtfs,
    pub warnings: Vec<String>,
}

/// Reads one feed and checks that it holds what routing needs.
pub fn read_feed(src: &FeedSource) -> Result<RawFeed, GtfsError> {
    let raw = gtfs_structures::GtfsReader::default().raw()
        .read_from_path(&src.path)
        .map_err(|e| match e {
            gtfs_structures::Error::IO(_) | gtfs_structures::Error::Zip(_) | gtfs_structures::Error::NotFileNorDirectory(_) => {
                let mut g = convert_err(src, e);
                if let GtfsError::Invalid { message, .. } = &mut g {
                    *message = format!("cannot open the feed: {message}");
                }
                g
            }
            e => convert_err(src, e),
        })?;
    let mut missing = Vec::new();
    let is_missing = |r: Result<(), &gtfs_structures::Error>| matches!(r, Err(gtfs_structures::Error::MissingFile(_)));
    for (name, r) in [
        ("stops.txt", raw.stops.as_ref().map(|_| ())),
        ("routes.txt", raw.routes.as_ref().map(|_| ())),
        ("trips.txt", raw.trips.as_ref().map(|_| ())),
        ("stop_times.txt", raw.stop_times.as_ref().map(|_| ())),
    ] {
        if is_missing(r) {
            missing.push(name.to_string());
        }
    }
    if raw.calendar.is_none() && raw.calendar_dates.is_none() {
        missing.push("calendar.txt or calendar_dates.txt".into());
    }
    if !missing.is_empty() {
        return Err(GtfsError::MissingFiles {
            feed: src.namespace.clone(),
            path: src.path.display().to_string(),
            files: missing.join(", "),
        });
    }
    let mut raw = raw;
    let mut warnings = Vec::new();
    // routes.txt with a malformed colour (e.g. `route_text_color=0`, seen in the Porto
    // Alegre feed) is read again leniently: the colour is dropped, the route kept.
    if let Err(gtfs_structures::Error::CSVError { .. }) = &raw.routes {
        if let Some((routes, bad)) = read_routes_leniently(&src.path) {
            warnings.push(format!("{}: routes.txt: {} invalid colours ignored (first: {})", src.namespace, bad.len(), bad.first().cloned().unwrap_or_default()));
            raw.routes = Ok(routes);
        }
    }
    // Any other parse error stops this feed, naming its file and line.
    macro_rules! take_err {
        ($field:expr) => {
            if let Err(e) = std::mem::replace(&mut $field, Ok(Vec::new())) {
                return Err(convert_err(src, e));
            }
        };
    }
    macro_rules! take_opt_err {
        ($field:expr) => {
            if matches!($field, Some(Err(_))) {
                if let Some(Err(e)) = $field.take() {
                    return Err(convert_err(src, e));
                }
            }
        };
    }
    if raw.stops.is_err() {
        take_err!(raw.stops);
    }
    if raw.routes.is_err() {
        take_err!(raw.routes);
    }
    if raw.trips.is_err() {
        take_err!(raw.trips);
    }
    if raw.stop_times.is_err() {
        take_err!(raw.stop_times);
    }
    take_opt_err!(raw.calendar);
    take_opt_err!(raw.calendar_dates);
    take_opt_err!(raw.frequencies);
    take_opt_err!(raw.transfers);
    if let Some(Err(e)) = &raw.shapes {
        warnings.push(format!("{}: shapes.txt ignored: {e}", src.namespace));
        raw.shapes = None;
    }
    if let Err(e) = &raw.agencies {
        warnings.push(format!("{}: agency.txt unreadable ({e}); time zone taken from the other feeds", src.namespace));
    }
    let notices = validate(&raw);
    let errors: Vec<Notice> = notices.iter().filter(|n| n.severity == Severity::Error || src.strict).cloned().collect();
    if !errors.is_empty() {
        return Err(GtfsError::Notices { feed: src.namespace.clone(), path: src.path.display().to_string(), notices: errors });
    }
    warnings.extend(notices.iter().map(|n| format!("{}: {n}", src.namespace)));
    Ok(RawFeed { source: src.clone(), raw, warnings })
}

/// Bytes of one file of a feed (zip or folder), found by file name as gtfs-structures does.
pub fn read_feed_file(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    if path.is_dir() {
        return std::fs::read(path.join(name)).ok();
    }
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).ok()?).ok()?;
    let idx = (0..zip.len()).find(|&i| zip.by_index(i).ok().is_some_and(|f| Path::new(f.name()).file_name() == Some(std::ffi::OsStr::new(name))))?;
    let mut out = Vec::new();
    zip.by_index(idx).ok()?.read_to_end(&mut out).ok()?;
    Some(out)
}

fn parse_color(s: &str) -> Option<rgb::RGB8> {
    let s = s.trim().trim_start_matches('#');
    if s.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(s, 16).ok()?;
    Some(rgb::RGB8 { r: (v >> 16) as u8, g: (v >> 8) as u8, b: v as u8 })
}

/// routes.txt read with plain CSV, tolerating malformed colours. Returns the routes and
/// the list of `line N: value` colours that were dropped.
fn read_routes_leniently(path: &Path) -> Option<(Vec<gtfs_structures::Route>, Vec<String>)> {
    let bytes = read_feed_file(path, "routes.txt")?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = rdr.headers().ok()?.clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    let (id, short, long, rtype, color, text, agency) =
        (col("route_id")?, col("route_short_name"), col("route_long_name"), col("route_type")?, col("route_color"), col("route_text_color"), col("agency_id"));
    let mut routes = Vec::new();
    let mut bad = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.ok()?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let mut colour = |c: Option<usize>| {
            let v = get(c)?;
            let parsed = parse_color(&v);
            if parsed.is_none() {
                bad.push(format!("line {}: {:?}", i + 2, v));
            }
            parsed
        };
        let (route_color, route_text_color) = (colour(color), colour(text));
        let code: i16 = get(Some(rtype)).and_then(|v| v.parse().ok()).unwrap_or(3);
        let route_type: gtfs_structures::RouteType = serde_json::from_value(serde_json::json!(code)).unwrap_or(gtfs_structures::RouteType::Other(code));
        routes.push(gtfs_structures::Route {
            id: get(Some(id))?,
            short_name: get(short),
            long_name: get(long),
            route_type,
            agency_id: get(agency),
            color: route_color,
            text_color: route_text_color,
            ..Default::default()
        });
    }
    Some((routes, bad))
}

/// Reads every feed in parallel. With `skip_broken`, broken feeds are reported in the
/// returned list instead of failing the whole build.
pub fn read_feeds(srcs: &[FeedSource], skip_broken: bool) -> Result<(Vec<RawFeed>, Vec<GtfsError>), GtfsError> {
    let results: Vec<Result<RawFeed, GtfsError>> = srcs.par_iter().map(read_feed).collect();
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for r in results {
        match r {
            Ok(f) => ok.push(f),
            Err(e) if skip_broken => skipped.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok((ok, skipped))
}

fn mode_of(rt: RouteType) -> Mode {
    match rt {
        RouteType::Tramway => Mode::Tram,
        RouteType::Subway => Mode::Subway,
        RouteType::Rail => Mode::Rail,
        RouteType::Bus => Mode::Bus,
        RouteType::Ferry => Mode::Ferry,
        RouteType::CableCar | RouteType::Gondola | RouteType::Funicular => Mode::Cable,
        RouteType::Extended(e) => {
            let code = e as i16;
            match code / 100 {
                1 | 3 => Mode::Rail,
                2 => Mode::Coach,
                4 | 5 | 6 => Mode::Subway,
                7 | 8 => Mode::Bus,
                9 => Mode::Tram,
                10 | 12 => Mode::Ferry,
                13 | 14 => Mode::Cable,
                _ => Mode::Other,
            }
        }
        RouteType::Other(code) => match code {
            11 => Mode::Bus,
            12 => Mode::Rail,
            c if (100..200).contains(&c) => Mode::Rail,
            c if (200..300).contains(&c) => Mode::Coach,
            c if (700..900).contains(&c) => Mode::Bus,
            c if (900..1000).contains(&c) => Mode::Tram,
            _ => Mode::Other,
        },
    }
}

fn availability(a: Availability) -> u8 {
    match a {
        Availability::Available => 1,
        Availability::NotAvailable => 2,
        _ => 0,
    }
}

/// The period covered by a feed's services: (first day, last day).
fn feed_period(raw: &gtfs_structures::RawGtfs) -> Option<(jiff::civil::Date, jiff::civil::Date)> {
    let mut lo: Option<jiff::civil::Date> = None;
    let mut hi: Option<jiff::civil::Date> = None;
    let mut see = |d: jiff::civil::Date| {
        lo = Some(lo.map_or(d, |l| l.min(d)));
        hi = Some(hi.map_or(d, |h| h.max(d)));
    };
    if let Some(Ok(cal)) = &raw.calendar {
        for c in cal {
            see(c.start_date);
            see(c.end_date);
        }
    }
    if let Some(Ok(cd)) = &raw.calendar_dates {
        for c in cd {
            if c.exception_type == Exception::Added {
                see(c.date);
            }
        }
    }
    Some((lo?, hi?))
}

/// Stop time of one trip during conversion.
#[derive(Clone, Copy)]
struct St {
    stop: StopIdx,
    arr: Option<u32>,
    dep: Option<u32>,
    flags: u8,
    dist: Option<f32>,
}

/// A trip before pattern grouping (also how scenarios rewrite a timetable).
#[derive(Debug, Clone)]
pub struct TripDraft {
    pub id: String,
    pub route: RouteIdx,
    pub service: u32,
    pub headsign: String,
    pub wheelchair: u8,
    pub shape: u32,
    pub stops: Vec<StopIdx>,
    pub flags: Vec<u8>,
    pub arr: Vec<u32>,
    pub dep: Vec<u32>,
}

/// The trips of a timetable as drafts, in timetable order.
pub fn trip_drafts(tt: &Timetable) -> Vec<TripDraft> {
    let mut out = Vec::with_capacity(tt.trips.ids.len());
    for (p, pat) in tt.patterns.iter().enumerate() {
        let stops = tt.pattern_stops(p as u32).to_vec();
        let flags = tt.pattern_flags(p as u32).to_vec();
        for t in 0..pat.n_trips {
            let trip = (pat.trip_offset + t) as usize;
            let a = tt.st_index(p as u32, t, 0);
            let n = pat.n_stops as usize;
            out.push(TripDraft {
                id: tt.trips.ids[trip].clone(),
                route: pat.route,
                service: tt.trips.service[trip],
                headsign: tt.trips.headsigns[trip].clone(),
                wheelchair: tt.trips.wheelchair[trip],
                shape: tt.trips.shape[trip],
                stops: stops.clone(),
                flags: flags.clone(),
                arr: tt.arrivals[a..a + n].to_vec(),
                dep: tt.departures[a..a + n].to_vec(),
            });
        }
    }
    out
}

/// Replaces the trips of `tt` by `drafts`, regrouped into FIFO patterns.
pub fn relayout(tt: &mut Timetable, drafts: Vec<TripDraft>) {
    tt.patterns.clear();
    tt.pattern_stops.clear();
    tt.pattern_flags.clear();
    tt.arrivals.clear();
    tt.departures.clear();
    tt.stop_patterns.clear();
    tt.stop_patterns_offsets.clear();
    build_patterns(tt, drafts);
}

/// Explicit transfer from `transfers.txt`, between namespaced stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedTransfer {
    pub from: StopIdx,
    pub to: StopIdx,
    pub forbidden: bool,
    pub min_time_s: Option<u32>,
}

/// Result of converting all feeds.
pub struct TimetableBuild {
    pub timetable: Timetable,
    pub transfers: Vec<FeedTransfer>,
    pub warnings: Vec<String>,
}

/// Trips a feed's `frequencies.txt` may expand into (a 1-second headway over 48 h on a
/// few trips would otherwise exhaust memory).
pub const MAX_FREQUENCY_TRIPS: u64 = 2_000_000;

/// Converts read feeds into one timetable. With `crop`, stops outside the box are left
/// out, and so are their stop times: a trip keeps the stops it serves inside (at least
/// two), the way a train crossing the area is seen from it.
pub fn build_timetable(feeds: Vec<RawFeed>, crop: Option<crate::model::geo::BBox>) -> Result<TimetableBuild, GtfsError> {
    let mut warnings: Vec<String> = feeds.iter().flat_map(|f| f.warnings.clone()).collect();
    // 1. Period covering every feed.
    let mut lo: Option<jiff::civil::Date> = None;
    let mut hi: Option<jiff::civil::Date> = None;
    for f in &feeds {
        match feed_period(&f.raw) {
            Some((a, b)) => {
                lo = Some(lo.map_or(a, |l| l.min(a)));
                hi = Some(hi.map_or(b, |h| h.max(b)));
            }
            None => {
                return Err(GtfsError::NoService { feed: f.source.namespace.clone(), path: f.source.path.display().to_string() })
            }
        }
    }
    let mut tt = Timetable::default();
    let (Some(lo), Some(hi)) = (lo, hi) else {
        // No feed at all: an empty timetable with an empty calendar.
        let today = jiff::Zoned::now().date();
        tt.calendar = Some(Calendar::new(today, 1));
        tt.timezone = "Europe/Paris".into();
        tt.stop_patterns_offsets = vec![0];
        tt.shape_offsets = vec![0];
        return Ok(TimetableBuild { timetable: tt, transfers: vec![], warnings });
    };
    let n_days = lo.until(hi).map(|s| s.get_days()).unwrap_or(0) as u32 + 1;
    let mut calendar = Calendar::new(lo, n_days);
    let mut cal_cache = HashMap::new();
    tt.timezone = feeds
        .iter()
        .find_map(|f| f.raw.agencies.as_ref().ok().and_then(|a| a.first()).map(|a| a.timezone.clone()))
        .unwrap_or_else(|| "Europe/Paris".into());
    let mut drafts: Vec<TripDraft> = Vec::new();
    let mut transfers = Vec::new();
    tt.shape_offsets.push(0);

    for (fi, feed) in feeds.into_iter().enumerate() {
        let ns = feed.source.namespace.clone();
        let raw = feed.raw;
        let feed_tz = raw.agencies.as_ref().ok().and_then(|a| a.first()).map(|a| a.timezone.clone()).unwrap_or_else(|| tt.timezone.clone());
        let tz_shift_s: i64 = tz_shift(&feed_tz, &tt.timezone, lo);
        if tz_shift_s != 0 {
            warnings.push(format!("{ns}: time zone {feed_tz} differs from the network's {}; times shifted by {} s", tt.timezone, tz_shift_s));
        }
        // Agencies.
        let agency_base = tt.agencies.len() as u32;
        let mut agency_idx: HashMap<String, u32> = HashMap::new();
        if let Ok(ags) = &raw.agencies {
            for a in ags {
                agency_idx.insert(a.id.clone().unwrap_or_default(), tt.agencies.len() as u32);
                tt.agencies.push(Agency { name: a.name.clone(), feed: fi as u16 });
            }
        }
        if tt.agencies.len() as u32 == agency_base {
            tt.agencies.push(Agency { name: ns.clone(), feed: fi as u16 });
        }
        // Stops.
        let stops = raw.stops.unwrap_or_default();
        let stop_base = tt.stops.len() as u32;
        let mut stop_idx: HashMap<&str, StopIdx> = HashMap::with_capacity(stops.len());
        let by_id: HashMap<&str, &gtfs_structures::Stop> = stops.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut outside: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for s in &stops {
            let is_station = matches!(s.location_type, LocationType::StopArea);
            if !matches!(s.location_type, LocationType::StopPoint | LocationType::StopArea) {
                continue;
            }
            let parent = s.parent_station.as_deref().filter(|p| !p.is_empty()).and_then(|p| by_id.get(p));
            let (lat, lon) = match (s.latitude, s.longitude) {
                (Some(a), Some(b)) => (a, b),
                _ => match parent.and_then(|p| Some((p.latitude?, p.longitude?))) {
                    Some(c) => c,
                    None => {
                        warnings.push(format!("{ns}: stops.txt: stop {} has no coordinates; skipped", s.id));
                        continue;
                    }
                },
            };
            if crop.is_some_and(|b| !b.contains_with_margin(LatLon::new(lat, lon), 0.0)) {
                outside.insert(s.id.as_str());
                continue;
            }
            let mut wc = availability(s.wheelchair_boarding);
            if wc == 0 {
                wc = parent.map(|p| availability(p.wheelchair_boarding)).unwrap_or(0);
            }
            stop_idx.insert(s.id.as_str(), tt.stops.len() as u32);
            tt.stops.ids.push(format!("{ns}:{}", s.id));
            tt.stops.names.push(s.name.clone().or_else(|| parent.and_then(|p| p.name.clone())).unwrap_or_else(|| s.id.clone()));
            tt.stops.coords.push(LatLon::new(lat, lon));
            tt.stops.parent.push(NONE);
            tt.stops.is_station.push(is_station);
            tt.stops.wheelchair.push(wc);
            tt.stops.feed.push(fi as u16);
            tt.stops.platform.push(s.platform_code.clone().unwrap_or_default());
        }
        for s in &stops {
            if let (Some(&i), Some(p)) = (stop_idx.get(s.id.as_str()), s.parent_station.as_deref()) {
                if let Some(&pi) = stop_idx.get(p) {
                    if pi != i {
                        tt.stops.parent[i as usize] = pi;
                    }
                }
            }
        }
        let _ = stop_base;
        // Routes.
        let mut route_idx: HashMap<&str, RouteIdx> = HashMap::new();
        let routes = raw.routes.unwrap_or_default();
        for r in &routes {
            route_idx.insert(r.id.as_str(), tt.routes.ids.len() as u32);
            tt.routes.ids.push(format!("{ns}:{}", r.id));
            tt.routes.short_names.push(r.short_name.clone().unwrap_or_default());
            tt.routes.long_names.push(r.long_name.clone().unwrap_or_default());
            tt.routes.modes.push(mode_of(r.route_type));
            tt.routes.colors.push(r.color.map(|c| format!("{:02X}{:02X}{:02X}", c.r, c.g, c.b)).unwrap_or_default());
            tt.routes.text_colors.push(r.text_color.map(|c| format!("{:02X}{:02X}{:02X}", c.r, c.g, c.b)).unwrap_or_default());
            let ag = r.agency_id.as_deref().and_then(|a| agency_idx.get(a)).copied().unwrap_or(agency_base);
            tt.routes.agency.push(ag);
            let agency_name = tt.agencies.get(ag as usize).map(|a| a.name.as_str()).unwrap_or("");
            tt.routes.brands.push(brand_of(mode_of(r.route_type), agency_name, r.short_name.as_deref().unwrap_or(""), r.long_name.as_deref().unwrap_or("")));
        }
        // Services.
        let mut services: HashMap<String, DaySet> = HashMap::new();
        if let Some(Ok(cal)) = &raw.calendar {
            for c in cal {
                let mut set = calendar.new_set();
                let mut d = c.start_date;
                while d <= c.end_date {
                    if c.valid_weekday(d) {
                        if let Some(i) = calendar.day_index(d) {
                            set.set(i, true);
                        }
                    }
                    match d.tomorrow() {
                        Ok(n) => d = n,
                        Err(_) => break,
                    }
                }
                services.insert(c.id.clone(), set);
            }
        }
        if let Some(Ok(cd)) = &raw.calendar_dates {
            for c in cd {
                let set = services.entry(c.service_id.clone()).or_insert_with(|| calendar.new_set());
                if let Some(i) = calendar.day_index(c.date) {
                    set.set(i, c.exception_type == Exception::Added);
                }
            }
        }
        let mut service_id: HashMap<&str, u32> = HashMap::new();
        let mut service_names: Vec<&String> = services.keys().collect();
        service_names.sort();
        for name in service_names {
            let id = calendar.intern(&services[name], &mut cal_cache);
            service_id.insert(name.as_str(), id);
        }
        // Shapes.
        let mut shape_idx: HashMap<String, u32> = HashMap::new();
        if let Some(Ok(mut shapes)) = raw.shapes {
            shapes.sort_by(|a, b| a.id.cmp(&b.id).then(a.sequence.cmp(&b.sequence)));
            let mut i = 0;
            while i < shapes.len() {
                let id = shapes[i].id.clone();
                while i < shapes.len() && shapes[i].id == id {
                    tt.shape_points.push(LatLon::new(shapes[i].latitude, shapes[i].longitude));
                    i += 1;
                }
                shape_idx.insert(id, tt.shape_offsets.len() as u32 - 1);
                tt.shape_offsets.push(tt.shape_points.len() as u32);
            }
        }
        // Trips.
        let trips = raw.trips.unwrap_or_default();
        let mut trip_idx: HashMap<&str, usize> = HashMap::with_capacity(trips.len());
        for (i, t) in trips.iter().enumerate() {
            trip_idx.insert(t.id.as_str(), i);
        }
        // Stop times grouped per trip.
        let mut stop_times = raw.stop_times.unwrap_or_default();
        let mut per_trip: Vec<Vec<(u32, St)>> = vec![Vec::new(); trips.len()];
        let mut unknown_trip = 0usize;
        let mut unknown_stop = 0usize;
        let mut cropped_st = 0usize;
        for st in stop_times.drain(..) {
            let Some(&ti) = trip_idx.get(st.trip_id.as_str()) else {
                unknown_trip += 1;
                continue;
            };
            let Some(&si) = stop_idx.get(st.stop_id.as_str()) else {
                if outside.contains(st.stop_id.as_str()) {
                    cropped_st += 1;
                } else {
                    unknown_stop += 1;
                }
                continue;
            };
            let mut flags = 0;
            if st.pickup_type == PickupDropOffType::NotAvailable {
                flags |= NO_PICKUP;
            }
            if st.drop_off_type == PickupDropOffType::NotAvailable {
                flags |= NO_DROP_OFF;
            }
            per_trip[ti].push((
                st.stop_sequence,
                St { stop: si, arr: st.arrival_time.or(st.departure_time), dep: st.departure_time.or(st.arrival_time), flags, dist: st.shape_dist_traveled },
            ));
        }
        if unknown_trip > 0 {
            warnings.push(format!("{ns}: stop_times.txt: {unknown_trip} rows name an unknown trip_id; ignored"));
        }
        if !outside.is_empty() {
            warnings.push(format!("{ns}: crop: {} stops and {cropped_st} stop times outside the area left out", outside.len()));
        }
        if unknown_stop > 0 {
            warnings.push(format!("{ns}: stop_times.txt: {unknown_stop} rows name an unknown stop_id; ignored"));
        }
        // Frequencies per trip.
        let mut freqs: HashMap<usize, Vec<(u32, u32, u32)>> = HashMap::new();
        if let Some(Ok(fr)) = &raw.frequencies {
            let (mut bad, mut expanded) = (0usize, 0u64);
            for f in fr {
                if let Some(&ti) = trip_idx.get(f.trip_id.as_str()) {
                    if f.headway_secs > 0 && f.end_time > f.start_time {
                        expanded += ((f.end_time - f.start_time) as u64).div_ceil(f.headway_secs as u64);
                        freqs.entry(ti).or_default().push((f.start_time, f.end_time, f.headway_secs));
                    } else {
                        bad += 1;
                    }
                }
            }
            if bad > 0 {
                warnings.push(format!("{ns}: frequencies.txt: {bad} rows with headway_secs 0 or end_time not after start_time; ignored"));
            }
            if expanded > MAX_FREQUENCY_TRIPS {
                return Err(GtfsError::Invalid {
                    feed: ns.clone(),
                    path: feed.source.path.display().to_string(),
                    file: "frequencies.txt".into(),
                    line: String::new(),
                    message: format!("the headways would expand into {expanded} trips, more than the {MAX_FREQUENCY_TRIPS} a feed may have; check headway_secs"),
                });
            }
        }
        let drafts_start = drafts.len();
        let mut dropped_no_service = 0usize;
        let mut dropped_bad_times = 0usize;
        let mut feed_trips = 0u32;
        for (ti, t) in trips.iter().enumerate() {
            let mut sts = std::mem::take(&mut per_trip[ti]);
            if sts.len() < 2 {
                continue;
            }
            let Some(&route) = route_idx.get(t.route_id.as_str()) else {
                warnings.push(format!("{ns}: trips.txt: trip {} names unknown route {}; skipped", t.id, t.route_id));
                continue;
            };
            let Some(&service) = service_id.get(t.service_id.as_str()) else {
                dropped_no_service += 1;
                continue;
            };
            sts.sort_by_key(|(seq, _)| *seq);
            let mut sts: Vec<St> = sts.into_iter().map(|(_, s)| s).collect();
            if !interpolate(&mut sts, &tt.stops.coords) {
                dropped_bad_times += 1;
                continue;
            }
            let shift = |v: u32| -> u32 { (v as i64 + tz_shift_s).max(0) as u32 };
            let base = TripDraft {
                id: format!("{ns}:{}", t.id),
                route,
                service,
                headsign: t.trip_headsign.clone().unwrap_or_default(),
                wheelchair: availability(t.wheelchair_accessible),
                shape: t.shape_id.as_deref().and_then(|s| shape_idx.get(s)).copied().unwrap_or(NONE),
                stops: sts.iter().map(|s| s.stop).collect(),
                flags: sts.iter().map(|s| s.flags).collect(),
                arr: sts.iter().map(|s| shift(s.arr.unwrap())).collect(),
                dep: sts.iter().map(|s| shift(s.dep.unwrap())).collect(),
            };
            match freqs.get(&ti) {
                None => {
                    drafts.push(base);
                    feed_trips += 1;
                }
                Some(fs) => {
                    // Frequency-based trip: its times are a template relative to its first
                    // departure; one trip per headway from start_time (end_time excluded).
                    let t0 = base.dep[0];
                    for &(start, end, headway) in fs {
                        let mut d = start;
                        while d < end {
                            let off = shift(d) as i64 - t0 as i64;
                            let mv = |v: &u32| (*v as i64 + off).max(0) as u32;
                            drafts.push(TripDraft {
                                id: format!("{}@{:02}:{:02}:{:02}", base.id, d / 3600, d / 60 % 60, d % 60),
                                arr: base.arr.iter().map(mv).collect(),
                                dep: base.dep.iter().map(mv).collect(),
                                stops: base.stops.clone(),
                                flags: base.flags.clone(),
                                headsign: base.headsign.clone(),
                                ..base
                            });
                            feed_trips += 1;
                            d += headway;
                        }
                    }
                }
            }
        }
        if dropped_no_service > 0 {
            warnings.push(format!("{ns}: {dropped_no_service} trips have a service_id with no calendar; skipped"));
        }
        if dropped_bad_times > 0 {
            warnings.push(format!("{ns}: {dropped_bad_times} trips lack a time at their first or last stop; skipped"));
        }
        // SNCF feeds name the commercial service in stop point ids
        // (`StopPoint:OCETGV INOUI-87286005`): routes the names did not tell apart get it.
        for d in &drafts[drafts_start..] {
            let r = d.route as usize;
            if tt.routes.brands[r].is_empty() {
                if let Some(b) = brand_from_stop_id(&tt.stops.ids[d.stops[0] as usize], tt.routes.modes[r]) {
                    tt.routes.brands[r] = b;
                }
            }
        }
        // Transfers.
        if let Some(Ok(trs)) = &raw.transfers {
            for tr in trs {
                if let (Some(&a), Some(&b)) = (stop_idx.get(tr.from_stop_id.as_str()), stop_idx.get(tr.to_stop_id.as_str())) {
                    transfers.push(FeedTransfer { from: a, to: b, forbidden: tr.transfer_type == TransferType::Impossible, min_time_s: tr.min_transfer_time });
                }
            }
        }
        let (start, end) = feed_period_dates(&calendar, &drafts, fi, &tt);
        tt.feeds.push(FeedMeta {
            namespace: ns.clone(),
            source: feed.source.path.display().to_string(),
            timezone: feed_tz,
            start_date: start.unwrap_or_else(|| lo.to_string()),
            end_date: end.unwrap_or_else(|| hi.to_string()),
            n_trips: feed_trips,
        });
    }
    tt.calendar = Some(calendar);
    // Stops numbered along a Hilbert curve: the stops a walk, a ride or an egress reaches
    // from one stop are near it, so their labels share cache lines in every search
    // (Porto Alegre: a stop's boarding walks touch 28,425 distinct 64-byte lines of a
    // label array over all stops, against 75,501 in feed order).
    let new_of = tt.reorder_stops(&crate::model::geo::hilbert_order(&tt.stops.coords));
    for s in drafts.iter_mut().flat_map(|d| d.stops.iter_mut()).chain(transfers.iter_mut().flat_map(|t| [&mut t.from, &mut t.to])) {
        *s = new_of[*s as usize];
    }
    build_patterns(&mut tt, drafts);
    tt.stop_min_change_s = vec![0; tt.stops.len()];
    for t in &transfers {
        if t.from == t.to && !t.forbidden {
            if let Some(m) = t.min_time_s {
                let v = &mut tt.stop_min_change_s[t.from as usize];
                *v = (*v).max(m);
            }
        }
    }
    Ok(TimetableBuild { timetable: tt, transfers, warnings })
}

/// First and last day on which some trip of feed `fi` runs.
fn feed_period_dates(cal: &Calendar, drafts: &[TripDraft], fi: usize, tt: &Timetable) -> (Option<String>, Option<String>) {
    let mut used = std::collections::HashSet::new();
    for d in drafts.iter().rev() {
        if tt.stops.feed[d.stops[0] as usize] as usize != fi {
            break;
        }
        used.insert(d.service);
    }
    let mut first = None;
    let mut last = None;
    for day in 0..cal.n_days {
        if used.iter().any(|&s| cal.runs(s, day)) {
            first.get_or_insert(day);
            last = Some(day);
        }
    }
    let fmt = |d: u32| cal.base().checked_add(jiff::Span::new().days(d as i64)).map(|x| x.to_string()).ok();
    (first.and_then(fmt), last.and_then(fmt))
}

fn tz_shift(feed_tz: &str, net_tz: &str, day: jiff::civil::Date) -> i64 {
    if feed_tz == net_tz {
        return 0;
    }
    let off = |tz: &str| -> Option<i64> {
        let z = jiff::tz::TimeZone::get(tz).ok()?;
        Some(day.at(12, 0, 0, 0).to_zoned(z).ok()?.offset().seconds() as i64)
    };
    match (off(feed_tz), off(net_tz)) {
        (Some(f), Some(n)) => n - f,
        _ => 0,
    }
}

/// Fills missing arrival/departure times by distance along the trip (shape distance when
/// given, else straight-line distance between stops). Returns false when the first or last
/// time is missing, or times decrease.
fn interpolate(sts: &mut [St], coords: &[LatLon]) -> bool {
    let n = sts.len();
    if sts[0].dep.is_none() || sts[n - 1].arr.is_none() {
        return false;
    }
    let mut cum = vec![0f64; n];
    let use_shape = sts.iter().all(|s| s.dist.is_some());
    for i in 1..n {
        cum[i] = if use_shape {
            sts[i].dist.unwrap() as f64
        } else {
            cum[i - 1] + distance_m(coords[sts[i - 1].stop as usize], coords[sts[i].stop as usize])
        };
    }
    let mut last = 0usize;
    for i in 1..n {
        if sts[i].arr.is_some() {
            if i > last + 1 {
                let (t0, t1) = (sts[last].dep.unwrap() as f64, sts[i].arr.unwrap() as f64);
                let (d0, d1) = (cum[last], cum[i]);
                for (j, st) in sts.iter_mut().enumerate().take(i).skip(last + 1) {
                    let f = if d1 > d0 { (cum[j] - d0) / (d1 - d0) } else { (j - last) as f64 / (i - last) as f64 };
                    let t = (t0 + f * (t1 - t0)).round() as u32;
                    st.arr = Some(t);
                    st.dep = Some(t);
                }
            }
            last = i;
        }
    }
    for i in 0..n {
        let (a, d) = (sts[i].arr.unwrap(), sts[i].dep.unwrap());
        if d < a || (i > 0 && a < sts[i - 1].dep.unwrap()) {
            return false;
        }
    }
    true
}

/// Groups trips into FIFO patterns and lays out stop times pattern-major.
fn build_patterns(tt: &mut Timetable, mut drafts: Vec<TripDraft>) {
    // Group by (route, stops, flags); deterministic order by first key occurrence.
    let mut groups: HashMap<(RouteIdx, &[StopIdx], &[u8]), Vec<usize>> = HashMap::new();
    let mut order: Vec<(RouteIdx, &[StopIdx], &[u8])> = Vec::new();
    // Sort drafts for determinism: route, then first departure, then id.
    drafts.sort_by(|a, b| a.route.cmp(&b.route).then(a.dep[0].cmp(&b.dep[0])).then(a.id.cmp(&b.id)));
    for (i, d) in drafts.iter().enumerate() {
        let key = (d.route, d.stops.as_slice(), d.flags.as_slice());
        groups
            .entry(key)
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(i);
    }
    let mut sub_patterns: Vec<Vec<usize>> = Vec::new();
    for key in &order {
        let trips = &groups[key];
        // Split overtaking trips: each trip joins the first sub-pattern whose last trip it
        // does not overtake (trips come sorted by first departure).
        let mut subs: Vec<Vec<usize>> = Vec::new();
        for &t in trips {
            let d = &drafts[t];
            let fits = |s: &Vec<usize>| {
                let last = &drafts[*s.last().unwrap()];
                (0..d.stops.len()).all(|i| d.arr[i] >= last.arr[i] && d.dep[i] >= last.dep[i])
            };
            match subs.iter_mut().find(|s| fits(s)) {
                Some(s) => s.push(t),
                None => subs.push(vec![t]),
            }
        }
        sub_patterns.extend(subs);
    }
    let n_trips = drafts.len();
    let mut slots: Vec<Option<TripDraft>> = drafts.into_iter().map(Some).collect();
    tt.trips = Trips::default();
    for sp in sub_patterns {
        let pidx = tt.patterns.len() as u32;
        let first = slots[sp[0]].as_ref().unwrap();
        let pat = Pattern {
            route: first.route,
            stop_offset: tt.pattern_stops.len() as u32,
            n_stops: first.stops.len() as u32,
            trip_offset: tt.trips.ids.len() as u32,
            n_trips: sp.len() as u32,
            st_offset: tt.arrivals.len() as u32,
        };
        tt.pattern_stops.extend_from_slice(&first.stops);
        tt.pattern_flags.extend_from_slice(&first.flags);
        for t in sp {
            let d = slots[t].take().unwrap();
            tt.arrivals.extend_from_slice(&d.arr);
            tt.departures.extend_from_slice(&d.dep);
            tt.trips.ids.push(d.id);
            tt.trips.service.push(d.service);
            tt.trips.headsigns.push(d.headsign);
            tt.trips.wheelchair.push(d.wheelchair);
            tt.trips.shape.push(d.shape);
            tt.trips.pattern.push(pidx);
        }
        tt.patterns.push(pat);
    }
    debug_assert_eq!(tt.trips.ids.len(), n_trips);
    // stop -> patterns CSR.
    let mut lists: Vec<Vec<(PatternIdx, u32)>> = vec![Vec::new(); tt.stops.len()];
    for (p, pat) in tt.patterns.iter().enumerate() {
        for pos in 0..pat.n_stops {
            let s = tt.pattern_stops[(pat.stop_offset + pos) as usize];
            lists[s as usize].push((p as u32, pos));
        }
    }
    tt.stop_patterns_offsets = Vec::with_capacity(tt.stops.len() + 1);
    tt.stop_patterns_offsets.push(0);
    for l in lists {
        tt.stop_patterns.extend(l);
        tt.stop_patterns_offsets.push(tt.stop_patterns.len() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_come_from_file_names() {
        assert_eq!(namespace_for(Path::new("x/ter-2025-01-22.gtfs.zip")), "ter");
        assert_eq!(namespace_for(Path::new("x/poa_eptc.zip")), "poa_eptc");
        assert_eq!(namespace_for(Path::new("x/tadao-partial")), "tadao-partial");
        assert_eq!(namespace_for(Path::new("x/spo_gtfs.zip")), "spo_gtfs");
    }

    fn st(stop: u32, t: Option<u32>) -> St {
        St { stop, arr: t, dep: t, flags: 0, dist: None }
    }

    #[test]
    fn intermediate_times_are_interpolated_by_distance() {
        // Three stops on a line of longitude; the middle one is 1/4 of the way.
        let coords = vec![LatLon::new(50.0, 2.0), LatLon::new(50.0025, 2.0), LatLon::new(50.01, 2.0)];
        let mut sts = vec![st(0, Some(1000)), st(1, None), st(2, Some(1400))];
        assert!(interpolate(&mut sts, &coords));
        assert_eq!(sts[1].arr, Some(1100));
    }

    #[test]
    fn a_trip_without_a_last_time_is_rejected() {
        let coords = vec![LatLon::new(50.0, 2.0), LatLon::new(50.01, 2.0)];
        let mut sts = vec![st(0, Some(1000)), st(1, None)];
        assert!(!interpolate(&mut sts, &coords));
    }
}
