//! The HTTP API (warp). Every handler validates its parameters into a library query
//! (see [`crate::api`]), runs it on a blocking thread, and answers JSON; user errors are
//! 4xx with `{ "error": code, "message": sentence }`, never a panic or a 500.

pub mod map;
pub mod openapi;
pub mod web;

use crate::api::{self, Params};
use crate::info::NetworkInfo;
use crate::analysis::targets::{LinkedTargets, PointSet};
use crate::route::plan::{QueryError, Router, ErrorKind};
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

pub const MAX_STOP_RESULTS: usize = 50;

fn json_reply<T: Serialize>(status: StatusCode, v: &T) -> warp::reply::Response {
    let body = serde_json::to_string(v).unwrap_or_else(|_| "{\"error\":\"internal\",\"message\":\"serialisation failed\"}".into());
    warp::http::Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.into())
        .unwrap()
}

/// The HTTP status of each kind of failure: the one place where they meet.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_reply(e: &QueryError) -> warp::reply::Response {
    let mut r = json_reply(status_of(e.kind), e);
    if e.kind == ErrorKind::Unavailable {
        r.headers_mut().insert("retry-after", warp::http::HeaderValue::from_static("10"));
    }
    r
}

/// Sets the run's cancel flag when dropped: the request's future is dropped when the
/// client goes away, and the analysis running for it stops at its next origin.
struct CancelOnDrop(crate::analysis::Cancel);
impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn stopped(e: crate::analysis::Stopped, limit: std::time::Duration) -> QueryError {
    match e {
        crate::analysis::Stopped::TimedOut => QueryError::new(ErrorKind::Unavailable, "timeout", format!("the request took longer than the {} s one request may take; ask for fewer origins, a shorter window or fewer percentiles", limit.as_secs())),
        crate::analysis::Stopped::Cancelled => QueryError::new(ErrorKind::Unavailable, "cancelled", "the request was cancelled"),
    }
}

/// An expensive request: at most `AppState::heavy` at once (503 with Retry-After beyond),
/// within the request time limit, cancelled when the client leaves.
async fn heavy<T: Serialize + Send + 'static>(st: Arc<AppState>, f: impl FnOnce(&AppState, &crate::analysis::Cancel) -> Result<T, QueryError> + Send + 'static) -> Result<warp::reply::Response, Infallible> {
    heavy_with(st, f, |v| json_reply(StatusCode::OK, &v)).await
}

/// A file answer (an HTML report, a CSV table): its type, its name when saved, its bytes.
pub(crate) struct FileAnswer {
    content_type: &'static str,
    filename: Option<String>,
    body: Vec<u8>,
}

fn file_reply(f: FileAnswer) -> warp::reply::Response {
    let mut b = warp::http::Response::builder().header("content-type", f.content_type);
    if let Some(n) = &f.filename {
        b = b.header("content-disposition", format!("attachment; filename=\"{n}\""));
    }
    b.body(f.body.into()).expect("a valid response")
}

/// As [`heavy`], the answer made by `reply`.
async fn heavy_with<T: Send + 'static>(st: Arc<AppState>, f: impl FnOnce(&AppState, &crate::analysis::Cancel) -> Result<T, QueryError> + Send + 'static, reply: fn(T) -> warp::reply::Response) -> Result<warp::reply::Response, Infallible> {
    // Wait in line a little (short analyses queue behind one another), then give up.
    let permit = match tokio::time::timeout(st.queue_wait, st.heavy.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => return Ok(error_reply(&QueryError::new(ErrorKind::Unavailable, "busy", "the server is busy with other analyses; try again in a few seconds"))),
    };
    let cancel = crate::analysis::Cancel::with_deadline(st.request_timeout);
    let guard = CancelOnDrop(cancel.clone());
    let r = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(&st, &cancel)
    })
    .await;
    drop(guard);
    match r {
        Ok(Ok(v)) => Ok(reply(v)),
        Ok(Err(e)) => Ok(error_reply(&e)),
        Err(_) => Ok(json_reply(StatusCode::INTERNAL_SERVER_ERROR, &QueryError::new(ErrorKind::Internal, "internal", "the request failed inside terril; this is a bug, please report it"))),
    }
}

fn answer<T: Serialize>(r: Result<T, QueryError>) -> warp::reply::Response {
    match r {
        Ok(v) => json_reply(StatusCode::OK, &v),
        Err(e) => error_reply(&e),
    }
}

/// Runs `f` on the blocking pool; a panic inside becomes a 500 JSON error, and the server
/// keeps serving.
async fn blocking<T: Serialize + Send + 'static>(f: impl FnOnce() -> Result<T, QueryError> + Send + 'static) -> Result<warp::reply::Response, Infallible> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => Ok(answer(r)),
        Err(_) => Ok(json_reply(StatusCode::INTERNAL_SERVER_ERROR, &QueryError::new(ErrorKind::Internal, "internal", "the request failed inside terril; this is a bug, please report it"))),
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct StopOut {
    id: String,
    name: String,
    lat: f64,
    lon: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
    modes: Vec<&'static str>,
}

fn stop_out(router: &Router, s: u32, distance_m: Option<f64>) -> StopOut {
    let tt = &router.net.timetable;
    let mut modes: Vec<&'static str> = tt
        .serving_stops(s)
        .iter()
        .flat_map(|&c| tt.patterns_at(c).iter().map(|(p, _)| tt.routes.modes[tt.patterns[*p as usize].route as usize].name()))
        .collect();
    modes.sort();
    modes.dedup();
    StopOut { id: tt.stops.ids[s as usize].clone(), name: tt.stops.names[s as usize].clone(), lat: tt.stops.coords[s as usize].lat, lon: tt.stops.coords[s as usize].lon, distance_m, modes }
}

/// The `q` and `limit` of a name search, checked.
fn name_query<'a>(p: &'a Params, example: &str) -> Result<(&'a str, usize), QueryError> {
    let q = p.q.as_ref().map(|s| s.trim()).filter(|s| !s.is_empty()).ok_or_else(|| QueryError::bad("missing_parameter", format!("'q' is required: part of a name, e.g. ?q={example}")))?;
    if q.chars().count() > 100 {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "q is limited to 100 characters"));
    }
    let limit = api::number::<usize>(&p.limit, "limit", "a whole number")?.unwrap_or(10);
    if limit == 0 || limit > MAX_STOP_RESULTS {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("limit must be between 1 and {MAX_STOP_RESULTS}")));
    }
    Ok((q, limit))
}

fn search_stops(router: &Router, p: &Params) -> Result<Vec<StopOut>, QueryError> {
    let (q, limit) = name_query(p, "lievin")?;
    Ok(router.stop_index.search(&router.net.timetable, q, limit).into_iter().map(|m| stop_out(router, m.stop, None)).collect())
}

/// `/api/places?q=`: stops, communes, hospitals, streets, addresses by name.
fn search_places(router: &Router, p: &Params) -> Result<Vec<crate::route::places::PlaceHit>, QueryError> {
    let (q, limit) = name_query(p, "harnes")?;
    Ok(router.places.search(&router.net.timetable, &router.net.addresses, q, limit))
}

fn near_stops(router: &Router, p: &Params) -> Result<Vec<StopOut>, QueryError> {
    let ll = api::lat_lon(p)?;
    let radius = api::number::<f64>(&p.radius, "radius", "a distance in metres")?.unwrap_or(500.0);
    if !(0.0..=5000.0).contains(&radius) {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "radius must be between 0 and 5000 metres"));
    }
    let limit = api::number::<usize>(&p.limit, "limit", "a whole number")?.unwrap_or(20);
    if limit == 0 || limit > MAX_STOP_RESULTS {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("limit must be between 1 and {MAX_STOP_RESULTS}")));
    }
    Ok(crate::route::places::stops_near(&router.net.timetable, ll, radius, limit).into_iter().map(|(s, d)| stop_out(router, s, Some((d * 10.0).round() / 10.0))).collect())
}

fn departures(router: &Router, id: &str, p: &Params) -> Result<Vec<crate::route::plan::Departure>, QueryError> {
    let date = match p.date.as_ref().filter(|s| !s.is_empty()) {
        Some(d) => api::parse_date(d)?,
        None => api::default_date(router),
    };
    let time = match p.time.as_ref().filter(|s| !s.is_empty()) {
        Some(t) => crate::route::plan::parse_time(t).ok_or_else(|| QueryError::bad("invalid_time", format!("time must be HH:MM, got '{t}'")))?,
        None => 0,
    };
    let limit = api::number::<usize>(&p.limit, "limit", "a whole number")?.unwrap_or(20);
    router.departures(id, date, time, limit)
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Health {
    status: &'static str,
    network: String,
}

/// What the server holds: the router, the analysis grid (built on first use) and the
/// named opportunity sets (hospitals, jobs...) with their links to the network.
pub struct AppState {
    pub router: Router,
    pub grid_cell_m: f64,
    grid: std::sync::OnceLock<LinkedTargets>,
    pub opportunities: Vec<Opportunities>,
    /// Scenarios offered by name (the files of `scenarios/`).
    pub scenarios: Vec<(String, crate::analysis::scenario::Scenario)>,
    pub access: AccessPolicy,
    /// Expensive analyses running at once (isochrones, accessibility, matrices, comparisons).
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// Longest time one request may compute.
    pub request_timeout: std::time::Duration,
    /// Longest wait for a free analysis slot before 503.
    pub queue_wait: std::time::Duration,
    /// The areas the health report is made for (communes and where their people live).
    pub report_areas: Option<ReportAreas>,
}

/// A destination set with its links: the loaded one, or the part `only` keeps (linked for
/// the request).
pub enum Dests<'a> {
    Loaded(&'a PointSet, &'a LinkedTargets),
    Kept(PointSet, LinkedTargets),
}

impl Dests<'_> {
    pub fn set(&self) -> &PointSet {
        match self {
            Dests::Loaded(s, _) => s,
            Dests::Kept(s, _) => s,
        }
    }
    pub fn linked(&self) -> &LinkedTargets {
        match self {
            Dests::Loaded(_, l) => l,
            Dests::Kept(_, l) => l,
        }
    }
}

/// Communes with their population points, for `/api/report/health`.
pub struct ReportAreas {
    pub areas: Vec<crate::analysis::population::Area>,
    pub origins: crate::analysis::population::Origins,
    pub group_label: String,
    /// (what, file, SHA-256) of the files they come from.
    pub sources: Vec<(String, String, String)>,
}

/// Who may talk to the server. On a workstation, only pages it serves itself: no
/// cross-origin answers unless `--allow-origin` names an origin, and a `Host` header
/// must name the machine (loopback, the bound address, or `--public-host`), which
/// defeats DNS rebinding.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    /// Origins allowed cross-origin (`https://example.org`); empty: none.
    pub allow_origins: Vec<String>,
    /// Host names accepted besides localhost, 127.0.0.1, [::1] and the bound address.
    pub hosts: Vec<String>,
}

impl AccessPolicy {
    /// True when a `Host` header (with or without port) names this server.
    pub fn host_allowed(&self, host: &str) -> bool {
        let h = host.trim().to_ascii_lowercase();
        let name = if h.starts_with('[') { h.split(']').next().map(|x| format!("{x}]")).unwrap_or(h.clone()) } else { h.rsplit_once(':').map(|(a, _)| a.to_string()).unwrap_or(h.clone()) };
        ["localhost", "127.0.0.1", "[::1]"].contains(&name.as_str()) || self.hosts.iter().any(|x| x.eq_ignore_ascii_case(&name))
    }
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allow_origins.iter().any(|o| o == origin || o == "*")
    }
}

/// Analyses running at once by default (one per core of a small server).
pub const DEFAULT_HEAVY: usize = 2;
/// Default limit on one request's computation, seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 60;
/// Default wait for a free analysis slot, seconds (then 503 with Retry-After).
pub const DEFAULT_QUEUE_WAIT_S: u64 = 10;

/// Walk to a destination the links of a loaded set cover (the longest walk an analysis asks).
const LINK_WALK_S: u32 = 15 * 60;

/// Largest GeoJSON the export endpoint converts (an isochrone's polygons), bytes.
pub const MAX_EXPORT_BODY_BYTES: usize = 16 << 20;

/// Largest request body (JSON) accepted, bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub struct Opportunities {
    pub name: String,
    pub set: PointSet,
    linked: std::sync::OnceLock<LinkedTargets>,
}

impl AppState {
    pub fn new(mut router: Router, opportunities: Vec<PointSet>) -> Self {
        // The loaded sets' named points are places people type: communes, hospitals...
        for set in &opportunities {
            router.add_places(crate::analysis::opportunities::named_places(set));
        }
        AppState {
            router,
            grid_cell_m: 150.0,
            grid: Default::default(),
            opportunities: opportunities.into_iter().map(|set| Opportunities { name: set.name.clone(), set, linked: Default::default() }).collect(),
            scenarios: Vec::new(),
            access: AccessPolicy::default(),
            heavy: Arc::new(tokio::sync::Semaphore::new(DEFAULT_HEAVY)),
            request_timeout: std::time::Duration::from_secs(DEFAULT_TIMEOUT_S),
            queue_wait: std::time::Duration::from_secs(DEFAULT_QUEUE_WAIT_S),
            report_areas: None,
        }
    }

    pub fn with_access(mut self, access: AccessPolicy) -> Self {
        self.access = access;
        self
    }

    /// How many analyses may run at once, and for how long each.
    pub fn with_limits(mut self, heavy: usize, timeout: std::time::Duration, queue_wait: std::time::Duration) -> Self {
        self.heavy = Arc::new(tokio::sync::Semaphore::new(heavy.max(1)));
        self.request_timeout = timeout;
        self.queue_wait = queue_wait;
        self
    }

    /// The communes of the health report: `areas` (GeoJSON polygons with `population` and
    /// `epci_nom`), represented by the Filosofi cells of `grid` where present, else by
    /// points every 200 m inside them.
    pub fn with_report_areas(mut self, areas: &std::path::Path, grid: Option<&std::path::Path>) -> Result<Self, crate::analysis::opportunities::LoadError> {
        use crate::analysis::population;
        let mut a = population::read_areas(areas, "population", "epci")?;
        let origins = population::origins(&mut a, grid, 200.0)?;
        let file = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let mut sources = vec![("communes (population)".to_string(), file(areas), crate::build::sha256_file(areas).map(|x| x.1).unwrap_or_default())];
        if let Some(g) = grid {
            sources.push(("carroyage Filosofi 200 m".into(), file(g), String::new()));
        }
        tracing::info!("health report: {} communes as {} points", a.len(), origins.points.len());
        self.report_areas = Some(ReportAreas { areas: a, origins, group_label: "EPCI".into(), sources });
        Ok(self)
    }

    /// The loaded set `o`, or the points of it that `only` (`COLUMN=VALUE`) keeps.
    fn destinations<'a>(&self, name: &str, o: &'a Opportunities, linked: &'a LinkedTargets, only: Option<&str>) -> Result<Dests<'a>, QueryError> {
        match only.map(str::trim).filter(|f| !f.is_empty()) {
            None => Ok(Dests::Loaded(&o.set, linked)),
            Some(f) => {
                let set = o.set.only(f).map_err(|m| QueryError::new(ErrorKind::Unprocessable, "no_destination", format!("{name}: {m}")))?;
                let l = LinkedTargets::from_points(&self.router.net, &set.points, LINK_WALK_S);
                Ok(Dests::Kept(set, l))
            }
        }
    }

    /// Loads every `*.json` scenario of a folder (invalid files are skipped with a warning).
    pub fn with_scenarios(mut self, dir: &std::path::Path) -> Self {
        if !dir.is_dir() {
            tracing::warn!("no scenario folder {} (serve --scenarios DIR): the page offers no scenario", dir.display());
        }
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir).map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()).unwrap_or_default();
        files.sort();
        for f in files {
            match crate::analysis::scenario::load(&f) {
                Ok(sc) => self.scenarios.push((f.file_stem().unwrap().to_string_lossy().to_string(), sc)),
                Err(e) => tracing::warn!("{e}"),
            }
        }
        self
    }
    pub fn grid(&self) -> &LinkedTargets {
        self.grid.get_or_init(|| LinkedTargets::grid(&self.router.net, self.grid_cell_m, 15 * 60))
    }
    pub fn opportunities(&self, name: &str) -> Result<(&Opportunities, &LinkedTargets), QueryError> {
        let o = self.opportunities.iter().find(|o| o.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.opportunities.iter().map(|o| o.name.as_str()).collect();
            QueryError::new(ErrorKind::NotFound, "unknown_destinations", format!("no opportunity set '{name}'; loaded sets: {}", if names.is_empty() { "none (start the server with --opportunities NAME=FILE)".to_string() } else { names.join(", ") }))
        })?;
        Ok((o, o.linked.get_or_init(|| LinkedTargets::from_points(&self.router.net, &o.set.points, LINK_WALK_S))))
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct OpportunitySummary {
    name: String,
    points: usize,
    columns: Vec<String>,
    /// Text columns to filter on with `only=COLUMN=VALUE` (2 to 30 distinct values).
    filters: Vec<FilterColumn>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FilterColumn {
    column: String,
    values: Vec<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct AccessAnswer {
    destinations: String,
    date: String,
    percentiles: Vec<u8>,
    cutoffs_min: Vec<u32>,
    departures: u32,
    indicators: serde_json::Map<String, serde_json::Value>,
}

fn access_one(st: &AppState, p: &Params) -> Result<AccessAnswer, QueryError> {
    let name = p.destinations.as_ref().map(|s| s.as_str()).filter(|s| !s.is_empty()).ok_or_else(|| QueryError::bad("missing_parameter", "'destinations' is required: the name of a loaded opportunity set (see /api/opportunities)"))?;
    let (o, linked) = st.opportunities(name)?;
    let d = st.destinations(name, o, linked, p.only.as_deref())?;
    let (dset, linked) = (d.set(), d.linked());
    let req = api::surface_request(&st.router, p)?;
    crate::analysis::surface::check_targets(&req, linked)?;
    let cols: Vec<String> = match p.columns.as_ref().filter(|c| !c.is_empty()) {
        Some(c) => c.split(',').map(|x| x.trim().to_string()).collect(),
        None => dset.columns.clone(),
    };
    if let Some(c) = cols.iter().find(|c| dset.column(c).is_none()) {
        return Err(QueryError::bad("invalid_parameter", format!("'{c}' is not a column of '{name}'; columns: {}", dset.columns.join(", "))));
    }
    let spec = api::access_spec(p, cols)?;
    let mut sc = crate::analysis::surface::SurfaceScratch::default();
    let s = crate::analysis::surface::compute(&st.router, linked, &req, &mut sc)?;
    let values = crate::analysis::access::indicators(&s, dset, &spec);
    let names = crate::analysis::access::column_names(&req.percentiles, &spec);
    let indicators = names.into_iter().zip(values).map(|(n, v)| (n, if v.is_nan() { serde_json::Value::Null } else { v.into() })).collect();
    Ok(AccessAnswer { destinations: name.to_string(), date: req.date.to_string(), percentiles: req.percentiles.clone(), cutoffs_min: spec.cutoffs_min, departures: s.departures, indicators })
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct ScenarioSummary {
    id: String,
    name: String,
    description: String,
    modifications: usize,
    /// Whether it applies to the loaded network.
    valid: bool,
    problems: Vec<String>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct CompareBody {
    scenario: serde_json::Value,
    #[serde(default = "default_origins")]
    origins: String,
    #[serde(default = "default_destinations")]
    destinations: String,
    #[serde(default, deserialize_with = "lenient_params")]
    params: Params,
}

fn default_origins() -> String {
    "communes".into()
}
fn default_destinations() -> String {
    "hospitals".into()
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct CompareAnswer {
    scenario: String,
    summary: crate::analysis::compare::CompareSummary,
    text: String,
    columns: Vec<String>,
    #[schemars(with = "openapi::FeatureCollection")]
    origins: serde_json::Value,
    /// The routes the scenario adds, as GeoJSON LineStrings through their stops
    /// (properties route_id, short_name, color), to draw them.
    #[schemars(with = "openapi::FeatureCollection")]
    lines: serde_json::Value,
}

fn compare_one(st: &AppState, body: CompareBody, cancel: &crate::analysis::Cancel) -> Result<CompareAnswer, QueryError> {
    use crate::analysis::{compare, scenario};
    let sc: scenario::Scenario = match &body.scenario {
        serde_json::Value::String(id) => st.scenarios.iter().find(|(k, _)| k == id).map(|(_, s)| s.clone()).ok_or_else(|| QueryError::new(ErrorKind::NotFound, "unknown_scenario", format!("no scenario '{id}'; see /api/scenarios")))?,
        v => serde_json::from_value(v.clone()).map_err(|e| QueryError::bad("invalid_scenario", format!("the scenario is not valid JSON for terril: {e}")))?,
    };
    let (orig, _) = st.opportunities(&body.origins)?;
    if orig.set.len() > 5000 {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "at most 5000 origins per comparison over HTTP; use `terril compare`"));
    }
    let (dest, dest_linked) = st.opportunities(&body.destinations)?;
    let mut dest_named = dest.set.clone();
    dest_named.name = body.destinations.clone();
    let (after_net, opps) = scenario::apply(&st.router.net, &sc, &[dest_named]).map_err(|e| QueryError::new(ErrorKind::Unprocessable, "invalid_scenario", e.to_string()))?;
    let dest_after = opps.into_iter().next().unwrap();
    let after = Router::new(after_net);
    let mut p = body.params.clone();
    p.r#from = Some(format!("{},{}", orig.set.points[0].lat, orig.set.points[0].lon));
    let req = api::surface_request(&after, &p)?;
    crate::analysis::surface::check_targets(&req, dest_linked)?;
    let cols: Vec<String> = dest.set.columns.clone();
    let spec = api::access_spec(&p, cols)?;
    let t_after = if dest_after.points == dest.set.points { dest_linked.extended_for(&after.net) } else { LinkedTargets::from_points(&after.net, &dest_after.points, req.max_walk_s) };
    let rows = compare::compare_until(
        &compare::Side { router: &st.router, destinations: &dest.set, targets: dest_linked },
        &compare::Side { router: &after, destinations: &dest_after, targets: &t_after },
        &orig.set,
        &req,
        &spec,
        &indicatif::ProgressBar::hidden(),
        cancel,
    )
    .map_err(|e| stopped(e, st.request_timeout))?;
    let names = compare::names(&req, &spec);
    let weight = if orig.set.column("population").is_some() { "population" } else { "count" };
    let summary = compare::summarise(&rows, &names, &orig.set, weight, &spec);
    let lines = scenario::added_lines(&after.net, &sc);
    Ok(CompareAnswer { scenario: sc.name.clone(), text: compare::describe(&summary, &sc.name, weight), summary, origins: compare::to_geojson(&rows, &names), columns: names, lines })
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct AccessMapAnswer {
    origins: String,
    destinations: String,
    indicator: String,
    cutoffs_min: Vec<u32>,
    summary: Vec<crate::analysis::access::TimeSummary>,
    #[schemars(with = "openapi::FeatureCollection")]
    features: serde_json::Value,
}

/// Accessibility of every point of a loaded origin set (a choropleth for the page).
fn access_map(st: &AppState, p: &Params, cancel: &crate::analysis::Cancel) -> Result<AccessMapAnswer, QueryError> {
    use crate::analysis::access;
    let oname = p.origins.as_ref().cloned().unwrap_or_else(|| "communes".into());
    let dname = p.destinations.as_ref().cloned().unwrap_or_else(|| "hospitals".into());
    let (orig, _) = st.opportunities(&oname)?;
    if orig.set.len() > 5000 {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", "at most 5000 origins per map over HTTP; use `terril access`"));
    }
    let (dest, linked) = st.opportunities(&dname)?;
    let mut q = p.clone();
    q.r#from = Some(format!("{},{}", orig.set.points[0].lat, orig.set.points[0].lon));
    let req = api::surface_request(&st.router, &q)?;
    let d = st.destinations(&dname, dest, linked, p.only.as_deref())?;
    let (dset, linked) = (d.set(), d.linked());
    crate::analysis::surface::check_targets(&req, linked)?;
    let cols = dset.columns.clone();
    let spec = api::access_spec(&q, cols)?;
    let rows = access::batch_until(&st.router, &orig.set, linked, dset, &req, &spec, &indicatif::ProgressBar::hidden(), cancel).map_err(|e| stopped(e, st.request_timeout))?;
    let names = access::column_names(&req.percentiles, &spec);
    let weight = if orig.set.column("population").is_some() { "population" } else { "count" };
    let indicator = names.first().cloned().unwrap_or_default();
    let summary = access::summarise_time(&rows, &names, &indicator, &orig.set, weight, &spec.cutoffs_min);
    Ok(AccessMapAnswer { origins: oname, destinations: dname, indicator, cutoffs_min: spec.cutoffs_min.clone(), summary, features: access::to_geojson(&rows, &names) })
}

/// The health-access report of the loaded communes to a loaded destination set (default
/// hospitals, `only` to keep some), as the self-contained French HTML of `terril report
/// health`, or its commune table as CSV.
fn health_report(st: &AppState, p: &Params, cancel: &crate::analysis::Cancel, format: &'static str) -> Result<FileAnswer, QueryError> {
    use crate::api::report::{health, HealthInputs, ReportFailed};
    let ra = st.report_areas.as_ref().ok_or_else(|| QueryError::new(ErrorKind::NotFound, "no_report_areas", "no communes with a population are loaded for the report (start the server with --report-areas communes.geojson)"))?;
    let dname = p.destinations.as_ref().cloned().unwrap_or_else(|| "hospitals".into());
    let (dest, _) = st.opportunities(&dname)?;
    let mut sources: Vec<(String, String, String)> = st.router.net.meta.inputs.iter().map(|i| (format!("réseau ({})", i.kind), std::path::Path::new(&i.path).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(), i.sha256.clone())).collect();
    sources.extend(ra.sources.iter().cloned());
    sources.push(("établissements".into(), format!("ensemble « {dname} » du serveur"), String::new()));
    let inputs = HealthInputs { areas: &ra.areas, origins: &ra.origins, facilities: &dest.set, group_label: ra.group_label.clone(), sources };
    let r = health(&st.router, &inputs, p, cancel, &indicatif::ProgressBar::hidden()).map_err(|e| match e {
        ReportFailed::Query(q) => q,
        ReportFailed::Stopped(s) => stopped(s, st.request_timeout),
    })?;
    Ok(match format {
        "csv" => FileAnswer { content_type: "text/csv; charset=utf-8", filename: Some("rapport-sante-communes.csv".into()), body: r.csv.into_bytes() },
        "fgb" => FileAnswer { content_type: "application/flatgeobuf", filename: Some("rapport-sante-communes.fgb".into()), body: crate::analysis::export::flatgeobuf(&r.geojson, "communes").map_err(|e| QueryError::new(ErrorKind::Internal, "internal", e))? },
        _ => FileAnswer { content_type: "text/html; charset=utf-8", filename: None, body: r.html.into_bytes() },
    })
}

/// A site access sheet (JSON, or the French page to print), the communes part from the
/// report's communes.
fn site_sheet(st: &AppState, p: &Params, html: bool) -> Result<FileAnswer, QueryError> {
    let sheet = crate::api::sheet::site_sheet(&st.router, p, st.report_areas.as_ref().map(|r| r.areas.as_slice()))?;
    Ok(if html {
        FileAnswer { content_type: "text/html; charset=utf-8", filename: None, body: crate::api::sheet::sheet_html(&sheet).into_bytes() }
    } else {
        FileAnswer { content_type: "application/json", filename: None, body: serde_json::to_vec(&sheet).map_err(|e| QueryError::new(ErrorKind::Internal, "internal", e.to_string()))? }
    })
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct MatrixAnswer {
    parameters: serde_json::Value,
    origins: usize,
    destinations: usize,
    reachable_pairs: usize,
    rows: Vec<serde_json::Value>,
}

/// The `params` of a JSON body: as the query string's, numbers and booleans written as
/// JSON numbers and booleans too (`"max_walk_time": 20` as well as `"20"`), as the
/// OpenAPI document types them.
fn lenient_params<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Params, D::Error> {
    use serde::Deserialize;
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    let map: serde_json::Map<String, serde_json::Value> = map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Number(n) => serde_json::Value::String(n.to_string()),
                serde_json::Value::Bool(b) => serde_json::Value::String(b.to_string()),
                other => other,
            };
            (k, v)
        })
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)
}

/// A point of a POST /api/matrix body.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct MatrixPoint {
    id: String,
    lat: f64,
    lon: f64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct MatrixBody {
    origins: Vec<MatrixPoint>,
    /// Default: the origins.
    #[serde(default)]
    destinations: Option<Vec<MatrixPoint>>,
    #[serde(default, deserialize_with = "lenient_params")]
    params: Params,
}

fn point_set(name: &str, pts: &[MatrixPoint]) -> Result<PointSet, QueryError> {
    if pts.is_empty() || pts.len() > 10_000 {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("{name}: 1 to 10000 points")));
    }
    let mut set = PointSet { name: name.into(), labels: vec![String::new(); pts.len()], ..Default::default() };
    for (i, p) in pts.iter().enumerate() {
        let ll = crate::model::geo::LatLon::new(p.lat, p.lon);
        if !ll.is_valid() {
            return Err(QueryError::bad("invalid_coordinates", format!("{name}[{i}]: {},{} is not a valid latitude,longitude", p.lat, p.lon)));
        }
        set.ids.push(p.id.chars().take(100).collect());
        set.points.push(ll);
    }
    Ok(set)
}

/// Travel-time matrix between two point sets, bounded in work before it starts.
fn matrix_answer(st: &AppState, orig: &PointSet, dest: &PointSet, linked: Option<&LinkedTargets>, p: &Params, cancel: &crate::analysis::Cancel) -> Result<MatrixAnswer, QueryError> {
    use crate::analysis::matrix;
    let mut q = p.clone();
    q.r#from = Some(format!("{},{}", orig.points[0].lat, orig.points[0].lon));
    q.window.get_or_insert_with(|| "07:00-09:00".into());
    q.cutoffs.get_or_insert_with(|| "120".into());
    let req = api::surface_request(&st.router, &q)?;
    let work = orig.len() as u64 * dest.len() as u64 * req.departures() as u64;
    if work > api::MAX_MATRIX_WORK_HTTP {
        return Err(QueryError::new(ErrorKind::Unprocessable, "too_big", format!("{} origins x {} destinations x {} departures is over the {} one request may ask; use `terril matrix`", orig.len(), dest.len(), req.departures(), api::MAX_MATRIX_WORK_HTTP)));
    }
    let own;
    let targets = match linked {
        Some(l) => l,
        None => {
            own = LinkedTargets::from_points(&st.router.net, &dest.points, if req.mode.uses_transit() { req.max_walk_s } else { 0 });
            &own
        }
    };
    crate::analysis::surface::check_targets(&req, targets)?;
    let unit = if q.unit.as_ref().map(String::as_str) == Some("seconds") { matrix::Unit::Seconds } else { matrix::Unit::Minutes };
    let breakdown = q.breakdown.as_ref().is_some_and(|v| v == "true");
    let m = matrix::compute_with(&st.router, orig, targets, &req, breakdown, &indicatif::ProgressBar::hidden(), cancel).map_err(|e| stopped(e, st.request_timeout))?;
    let reachable_only = q.reachable_only.as_ref().is_some_and(|v| v == "true");
    Ok(MatrixAnswer { parameters: api::parameters_used(&req), origins: orig.len(), destinations: dest.len(), reachable_pairs: m.reachable(), rows: matrix::to_json(&m, orig, dest, unit, reachable_only) })
}

/// The API's filters.
pub fn routes(state: Arc<AppState>) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let app = warp::any().map({
        let state = state.clone();
        move || state.clone()
    });
    let r = warp::any().map(move || state.clone()).map(|s: Arc<AppState>| s);
    let q = warp::query::<Params>().or(warp::any().map(Params::default)).unify();

    let health = warp::path("health").and(warp::path::end()).and(warp::get()).and(r.clone()).map(|r: Arc<AppState>| json_reply(StatusCode::OK, &Health { status: "ok", network: r.router.net.meta.title.clone() }))
        .boxed();
    let info = warp::path!("api" / "info").and(warp::get()).and(r.clone()).map(|r: Arc<AppState>| json_reply(StatusCode::OK, &NetworkInfo::of(&r.router.net, 0).without_paths()))
        .boxed();
    let metrics_route = warp::path("metrics").and(warp::path::end()).and(warp::get()).map(|| {
        warp::http::Response::builder().header("content-type", "text/plain; version=0.0.4").body(metrics::render().into()).unwrap()
    })
        .boxed();
    let openapi = warp::path!("api" / "openapi.json").and(warp::get()).map(|| json_reply(StatusCode::OK, &openapi::document()))
        .boxed();
    let plan = warp::path!("api" / "plan").and(warp::get()).and(r.clone()).and(q.clone()).and_then(|r: Arc<AppState>, p: Params| blocking(move || {
        let req = api::plan_request(&r.router, &p)?;
        r.router.plan(&req)
    }))
        .boxed();
    let stops_near = warp::path!("api" / "stops" / "near").and(warp::get()).and(r.clone()).and(q.clone()).and_then(|r: Arc<AppState>, p: Params| blocking(move || near_stops(&r.router, &p)))
        .boxed();
    let places = warp::path!("api" / "places").and(warp::get()).and(r.clone()).and(q.clone()).and_then(|r: Arc<AppState>, p: Params| blocking(move || search_places(&r.router, &p)))
        .boxed();
    let stops = warp::path!("api" / "stops").and(warp::get()).and(r.clone()).and(q.clone()).and_then(|r: Arc<AppState>, p: Params| blocking(move || search_stops(&r.router, &p)))
        .boxed();
    let deps = warp::path!("api" / "stops" / String / "departures").and(warp::get()).and(r.clone()).and(q.clone()).and_then(|id: String, r: Arc<AppState>, p: Params| blocking(move || {
        let id = percent_decode(&id);
        departures(&r.router, &id, &p)
    }))
        .boxed();
    let isochrone = warp::path!("api" / "isochrone").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy(st, move |st, _| crate::api::run_isochrone(&st.router, st.grid(), &p)))
        .boxed();
    let access = warp::path!("api" / "access").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy(st, move |st, _| access_one(st, &p)))
        .boxed();
    let scenarios = warp::path!("api" / "scenarios").and(warp::get()).and(app.clone()).map(|st: Arc<AppState>| {
        let v: Vec<ScenarioSummary> = st
            .scenarios
            .iter()
            .map(|(id, sc)| {
                let problems = crate::analysis::scenario::validate(&st.router.net, sc).err().map(|e| e.0).unwrap_or_default();
                ScenarioSummary { id: id.clone(), name: sc.name.clone(), description: sc.description.clone(), modifications: sc.modifications.len(), valid: problems.is_empty(), problems }
            })
            .collect();
        json_reply(StatusCode::OK, &v)
    })
        .boxed();
    let compare = warp::path!("api" / "compare")
        .and(warp::post())
        .and(app.clone())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::body::stream())
        .and_then(|st: Arc<AppState>, ct: Option<String>, body| heavy_json(st, ct, body, "{\"scenario\": id or object, \"origins\", \"destinations\", \"params\"}", |st, b: CompareBody, cancel| compare_one(st, b, cancel)))
        .boxed();
    let map_streets = warp::path!("api" / "map" / "streets").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| blocking(move || map::streets(&st.router, &p)))
        .boxed();
    let map_lines = warp::path!("api" / "map" / "lines").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| blocking(move || map::lines(&st.router, &p)))
        .boxed();
    let access_map = warp::path!("api" / "access" / "map").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy(st, move |st, c| access_map(st, &p, c)))
        .boxed();
    let matrix_get = warp::path!("api" / "matrix").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy(st, move |st, cancel| {
        let oname = p.origins.as_ref().cloned().unwrap_or_else(|| "communes".into());
        let dname = p.destinations.as_ref().cloned().unwrap_or_else(|| "hospitals".into());
        let (orig, _) = st.opportunities(&oname)?;
        let (dest, linked) = st.opportunities(&dname)?;
        matrix_answer(st, &orig.set, &dest.set, Some(linked), &p, cancel)
    }))
        .boxed();
    let matrix_post = warp::path!("api" / "matrix")
        .and(warp::post())
        .and(app.clone())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::body::stream())
        .and_then(|st: Arc<AppState>, ct: Option<String>, body| {
            heavy_json(st, ct, body, "{\"origins\": [{\"id\", \"lat\", \"lon\"}], \"destinations\": [...], \"params\": {...}}", |st, b: MatrixBody, cancel| {
                let o = point_set("origins", &b.origins)?;
                let d = match &b.destinations {
                    Some(d) => point_set("destinations", d)?,
                    None => o.clone(),
                };
                matrix_answer(st, &o, &d, None, &b.params, cancel)
            })
        })
        .boxed();
    let static_files = warp::path::tail().and(warp::get()).and_then(|tail: warp::path::Tail| async move {
        match web::asset(tail.as_str()) {
            Some((bytes, mime)) => Ok::<_, Infallible>(warp::http::Response::builder().header("content-type", mime).header("cache-control", "no-cache").body(bytes.to_vec().into()).unwrap()),
            None => Ok(json_reply(StatusCode::NOT_FOUND, &QueryError::new(ErrorKind::NotFound, "not_found", "no such endpoint or file; see /api/openapi.json"))),
        }
    })
        .boxed();
    let opportunities = warp::path!("api" / "opportunities").and(warp::get()).and(app.clone()).map(|st: Arc<AppState>| {
        let v: Vec<OpportunitySummary> = st.opportunities.iter().map(|o| OpportunitySummary { name: o.name.clone(), points: o.set.len(), columns: o.set.columns.clone(), filters: o.set.filter_columns(30).into_iter().map(|(column, values)| FilterColumn { column, values }).collect() }).collect();
        json_reply(StatusCode::OK, &v)
    })
        .boxed();
    let index = warp::path::end().and(warp::get()).map(|| {
        let (bytes, mime) = web::asset("index.html").unwrap();
        warp::http::Response::builder().header("content-type", mime).header("cache-control", "no-cache").body(bytes.to_vec().into()).unwrap()
    })
        .boxed();
    // Boxed filters keep warp's combinator types (and compile times) small.
    let api = health.or(metrics_route).unify().or(info).unify().or(openapi).unify().or(plan).unify().boxed();
    let api = api.or(stops_near).unify().or(stops).unify().or(places).unify().or(deps).unify().boxed();
    let api = api.or(isochrone).unify().or(access).unify().or(opportunities).unify().boxed();
    let api = api.or(scenarios).unify().or(compare).unify().or(map_streets).unify().boxed();
    let api = api.or(map_lines).unify().or(access_map).unify().or(index).unify().boxed();
    let api = api.or(matrix_get).unify().or(matrix_post).unify().boxed();
    let report_html = warp::path!("api" / "report" / "health").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy_with(st, move |st, c| health_report(st, &p, c, "html"), file_reply)).boxed();
    let report_csv = warp::path!("api" / "report" / "health.csv").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy_with(st, move |st, c| health_report(st, &p, c, "csv"), file_reply)).boxed();
    let report_fgb = warp::path!("api" / "report" / "health.fgb").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy_with(st, move |st, c| health_report(st, &p, c, "fgb"), file_reply)).boxed();
    let access_map_fgb = warp::path!("api" / "access" / "map.fgb").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy_with(st, move |st, c| {
        let a = self::access_map(st, &p, c)?;
        let body = crate::analysis::export::flatgeobuf(&a.features, "access").map_err(|e| QueryError::new(ErrorKind::Internal, "internal", e))?;
        Ok(FileAnswer { content_type: "application/flatgeobuf", filename: Some(format!("acces-{}-{}.fgb", a.origins, a.destinations)), body })
    }, file_reply)).boxed();
    let api = api.or(report_html).unify().or(report_csv).unify().or(report_fgb).unify().or(access_map_fgb).unify().boxed();
    let sheet_json = warp::path!("api" / "sheet").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy_with(st, move |st, _| site_sheet(st, &p, false), file_reply)).boxed();
    let sheet_html = warp::path!("api" / "sheet.html").and(warp::get()).and(app.clone()).and(q.clone()).and_then(|st: Arc<AppState>, p: Params| heavy_with(st, move |st, _| site_sheet(st, &p, true), file_reply)).boxed();
    let api = api.or(sheet_json).unify().or(sheet_html).unify().boxed();
    // Any view's GeoJSON as FlatGeobuf (isochrones, scenario results...).
    let export_fgb = warp::path!("api" / "export" / "fgb")
        .and(warp::post())
        .and(app.clone())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::body::stream())
        .and_then(|st: Arc<AppState>, ct: Option<String>, body| async move {
            let bytes = match json_body_upto(ct, body, MAX_EXPORT_BODY_BYTES).await {
                Ok(b) => b,
                Err(e) => return Ok::<_, Infallible>(error_reply(&e)),
            };
            heavy_with(st, move |_, _| {
                let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| QueryError::bad("invalid_body", format!("the request body must be a GeoJSON FeatureCollection: {e}")))?;
                let body = crate::analysis::export::flatgeobuf(&v, "terril").map_err(|e| QueryError::bad("invalid_body", e))?;
                Ok(FileAnswer { content_type: "application/flatgeobuf", filename: Some("terril.fgb".into()), body })
            }, file_reply)
            .await
        })
        .boxed();
    let api = api.or(export_fgb).unify().boxed();
    let options = warp::options().and(app.clone()).and(warp::header::optional::<String>("origin")).map(|st: Arc<AppState>, origin: Option<String>| {
        let mut b = warp::http::Response::builder().status(StatusCode::NO_CONTENT).header("allow", "GET, POST, OPTIONS");
        if let Some(o) = origin.filter(|o| st.access.origin_allowed(o)) {
            b = b.header("access-control-allow-origin", o).header("access-control-allow-methods", "GET, POST, OPTIONS").header("access-control-allow-headers", "content-type").header("access-control-max-age", "600").header("vary", "origin");
        }
        b.body(Vec::<u8>::new().into()).unwrap()
    });
    let routes = options.or(api.or(static_files).unify()).unify().recover(handle_rejection).unify().boxed();
    // Every answer: the Host must name this server; CORS only for allowed origins.
    warp::any()
        .and(app)
        .and(warp::header::optional::<String>("host"))
        .and(warp::header::optional::<String>("origin"))
        .and_then(|st: Arc<AppState>, host: Option<String>, origin: Option<String>| async move {
            match host {
                Some(h) if !st.access.host_allowed(&h) => Err(warp::reject::custom(ForeignHost)),
                _ => Ok((st, origin)),
            }
        })
        .untuple_one()
        .and(warp::header::optional::<String>("accept-encoding"))
        .and(warp::header::optional::<String>("accept-language"))
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(routes)
        .and_then(|st: Arc<AppState>, origin: Option<String>, accept_encoding: Option<String>, accept_language: Option<String>, raw_query: String, resp: warp::reply::Response| async move {
            let mut resp = if resp.status().as_u16() >= 400 && api::wants_french(&raw_query, accept_language.as_deref()) { in_french(resp).await } else { resp };
            if let Some(o) = origin.filter(|o| st.access.origin_allowed(o)) {
                if let Ok(v) = warp::http::HeaderValue::from_str(&o) {
                    resp.headers_mut().insert("access-control-allow-origin", v);
                    resp.headers_mut().append("vary", warp::http::HeaderValue::from_static("origin"));
                }
            }
            Ok::<_, Infallible>(match content_coding(accept_encoding.as_deref()) {
                Some(coding) => compress(resp, coding).await,
                None => resp,
            })
        })
        .recover(handle_rejection)
        .unify()
        .boxed()
}

/// An error answer with its message in French (the English one kept in `message_en`).
async fn in_french(resp: warp::reply::Response) -> warp::reply::Response {
    use http_body_util::BodyExt;
    let (parts, body) = resp.into_parts();
    let Ok(collected) = body.collect().await else {
        return json_reply(StatusCode::INTERNAL_SERVER_ERROR, &QueryError::new(ErrorKind::Internal, "internal", "the answer could not be read; this is a bug, please report it"));
    };
    let bytes = collected.to_bytes();
    let out = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) => match v["error"].as_str().and_then(api::message_fr) {
            Some(fr) => {
                v["message_en"] = v["message"].take();
                v["message"] = fr.into();
                serde_json::to_vec(&v).map(Into::into).unwrap_or(bytes)
            }
            None => bytes,
        },
        Err(_) => bytes,
    };
    let mut parts = parts;
    parts.headers.remove("content-length");
    warp::http::Response::from_parts(parts, out.into())
}

/// The content coding to answer with, from an `Accept-Encoding` header: brotli when
/// accepted (`br`), else gzip (`gzip` or `*`); a coding with `q=0` is refused. Between two
/// accepted codings the higher q wins, brotli on a tie (smaller for the same time).
pub fn content_coding(header: Option<&str>) -> Option<&'static str> {
    let h = header?;
    let (mut br, mut gz, mut star) = (None::<f64>, None::<f64>, None::<f64>);
    for part in h.split(',') {
        let mut it = part.split(';');
        let coding = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it.filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f64>().ok())).next().unwrap_or(1.0);
        match coding.as_str() {
            "br" => br = Some(q),
            "gzip" => gz = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gz = gz.or(star).unwrap_or(0.0);
    if br > 0.0 && br >= gz {
        Some("br")
    } else if gz > 0.0 {
        Some("gzip")
    } else {
        None
    }
}

/// Compresses a text answer (JSON, GeoJSON, HTML, JavaScript, CSS, CSV) of more than
/// 1 KiB with `coding` (brotli at quality 4, or gzip); anything else is passed through.
async fn compress(resp: warp::reply::Response, coding: &'static str) -> warp::reply::Response {
    use http_body_util::BodyExt;
    let textual = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|ct| ["json", "text/", "javascript", "css", "csv", "svg"].iter().any(|k| ct.contains(k)));
    if !textual || resp.headers().contains_key("content-encoding") {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(collected) = body.collect().await else {
        return json_reply(StatusCode::INTERNAL_SERVER_ERROR, &QueryError::new(ErrorKind::Internal, "internal", "the answer could not be read; this is a bug, please report it"));
    };
    let bytes = collected.to_bytes();
    if bytes.len() < 1024 {
        return warp::http::Response::from_parts(parts, bytes.into());
    }
    let out = match coding {
        "br" => {
            let mut out = Vec::with_capacity(bytes.len() / 5);
            // Quality 4 and a 4 MiB window: near gzip's speed, a smaller answer.
            let params = brotli::enc::BrotliEncoderParams { quality: 4, lgwin: 22, ..Default::default() };
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok().map(|_| out)
        }
        _ => {
            let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
            std::io::Write::write_all(&mut enc, &bytes).ok().and_then(|_| enc.finish().ok())
        }
    };
    let Some(out) = out else {
        return warp::http::Response::from_parts(parts, bytes.into());
    };
    parts.headers.insert("content-encoding", warp::http::HeaderValue::from_static(coding));
    parts.headers.append("vary", warp::http::HeaderValue::from_static("accept-encoding"));
    parts.headers.remove("content-length");
    warp::http::Response::from_parts(parts, out.into())
}

#[derive(Debug)]
struct ForeignHost;
impl warp::reject::Reject for ForeignHost {}

/// A POST analysis: the JSON body read and parsed (`shape` says what is expected), then
/// run as a [`heavy`] request.
async fn heavy_json<B: serde::de::DeserializeOwned + Send + 'static, T: Serialize + Send + 'static>(
    st: Arc<AppState>,
    content_type: Option<String>,
    body: impl futures_util::Stream<Item = Result<impl warp::Buf, warp::Error>> + Unpin,
    shape: &'static str,
    f: impl FnOnce(&AppState, B, &crate::analysis::Cancel) -> Result<T, QueryError> + Send + 'static,
) -> Result<warp::reply::Response, Infallible> {
    let bytes = match json_body(content_type, body).await {
        Ok(b) => b,
        Err(e) => return Ok(error_reply(&e)),
    };
    heavy(st, move |st, cancel| {
        let b: B = serde_json::from_slice(&bytes).map_err(|e| QueryError::bad("invalid_body", format!("the request body must be JSON {shape}: {e}")))?;
        f(st, b, cancel)
    })
    .await
}

/// A POST body: JSON only (415 otherwise), sized or chunked, up to [`MAX_BODY_BYTES`].
async fn json_body(content_type: Option<String>, body: impl futures_util::Stream<Item = Result<impl warp::Buf, warp::Error>> + Unpin) -> Result<Vec<u8>, QueryError> {
    json_body_upto(content_type, body, MAX_BODY_BYTES).await
}

/// As [`json_body`], up to `limit` bytes.
async fn json_body_upto(content_type: Option<String>, body: impl futures_util::Stream<Item = Result<impl warp::Buf, warp::Error>> + Unpin, limit: usize) -> Result<Vec<u8>, QueryError> {
    if !content_type.as_deref().is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("application/json")) {
        return Err(QueryError::new(ErrorKind::UnsupportedMediaType, "unsupported_media_type", "POST bodies must be JSON: send Content-Type: application/json"));
    }
    read_body(body, limit).await
}

/// Reads a request body (sized or chunked) up to `limit` bytes; 413 beyond.
async fn read_body(body: impl futures_util::Stream<Item = Result<impl warp::Buf, warp::Error>> + Unpin, limit: usize) -> Result<Vec<u8>, QueryError> {
    use futures_util::StreamExt;
    let mut body = body;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| QueryError::bad("invalid_body", format!("the request body could not be read: {e}")))?;
        while warp::Buf::has_remaining(&chunk) {
            let c = warp::Buf::chunk(&chunk);
            if out.len() + c.len() > limit {
                return Err(QueryError::new(ErrorKind::PayloadTooLarge, "too_big", format!("the request body is limited to {} KiB", limit / 1024)));
            }
            out.extend_from_slice(c);
            let n = c.len();
            warp::Buf::advance(&mut chunk, n);
        }
    }
    Ok(out)
}


fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle_rejection(err: Rejection) -> Result<warp::reply::Response, Infallible> {
    let e = if err.is_not_found() {
        QueryError::new(ErrorKind::NotFound, "not_found", "no such endpoint; see /api/openapi.json")
    } else if err.find::<ForeignHost>().is_some() {
        QueryError::new(ErrorKind::Forbidden, "foreign_host", "the Host header does not name this server; start it with --public-host NAME to serve under that name")
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        QueryError::new(ErrorKind::MethodNotAllowed, "method_not_allowed", "wrong HTTP method: /api/compare takes POST, every other endpoint GET")
    } else if err.find::<warp::reject::PayloadTooLarge>().is_some() {
        QueryError::new(ErrorKind::PayloadTooLarge, "too_big", "the request body is limited to 1 MiB")
    } else if err.find::<warp::reject::InvalidQuery>().is_some() {
        QueryError::bad("invalid_query", "the query string could not be read")
    } else {
        QueryError::bad("bad_request", format!("{err:?}"))
    };
    Ok(error_reply(&e))
}

/// Connections served at once; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 1024;
/// A client has this long to send a request's headers (slow or half-sent requests are
/// dropped, so they cannot pile up).
pub const HEADER_READ_TIMEOUT_S: u64 = 10;
/// On SIGTERM/SIGINT, requests under way get this long to finish.
pub const SHUTDOWN_GRACE_S: u64 = 30;

/// Serves on an already bound listener until SIGTERM or SIGINT, then finishes the
/// requests under way (graceful shutdown).
pub async fn serve_on(state: Arc<AppState>, listener: tokio::net::TcpListener) {
    serve_until(state, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received: finishing the requests under way");
}

/// The accept loop: a cap on connections, a header-read timeout, request logs and
/// metrics, and a graceful stop when `shutdown` completes.
pub async fn serve_until(state: Arc<AppState>, listener: tokio::net::TcpListener, shutdown: impl std::future::Future<Output = ()>) {
    let filter = routes(state).with(warp::log::custom(metrics::record)).boxed();
    let conns = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // After a burst, give the memory of finished requests back to the system once the
    // server is idle (glibc keeps freed pages otherwise, and the process stays at its peak).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let idle = conns.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            let mut trimmed = true;
            loop {
                tick.tick().await;
                let busy = idle.available_permits() < MAX_CONNECTIONS;
                if busy {
                    trimmed = false;
                } else if !trimmed {
                    // SAFETY: malloc_trim only returns free heap pages to the system.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                    trimmed = true;
                }
            }
        });
    }
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = conns.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut shutdown => break,
        };
        let io = tokio::select! {
            r = listener.accept() => match r {
                Ok((io, _)) => io,
                Err(e) => {
                    // Out of file descriptors and the like: wait, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let svc = hyper_util::service::TowerToHyperService::new(warp::service(filter.clone()));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let mut b = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            b.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(std::time::Duration::from_secs(HEADER_READ_TIMEOUT_S));
            let conn = b.serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(io), svc);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all requests finished; stopped"),
        _ = tokio::time::sleep(std::time::Duration::from_secs(SHUTDOWN_GRACE_S)) => tracing::warn!("stopped with requests still under way after {SHUTDOWN_GRACE_S} s"),
    }
}

/// Request counters and latencies in the Prometheus text format (`GET /metrics`), and
/// one structured log line per request.
pub mod metrics {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Upper bounds of the latency buckets, seconds.
    const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

    #[derive(Default)]
    struct Series {
        count: u64,
        sum_s: f64,
        buckets: [u64; 12],
    }

    static REQUESTS: Mutex<BTreeMap<(String, u16), u64>> = Mutex::new(BTreeMap::new());
    static LATENCY: Mutex<BTreeMap<String, Series>> = Mutex::new(BTreeMap::new());

    /// The endpoint of a path, with ids folded (`/api/stops/{id}/departures`), so that
    /// the series stay few.
    pub fn endpoint(path: &str) -> String {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["api", "stops", _, "departures"] => "/api/stops/{id}/departures".into(),
            ["api", rest @ ..] if !rest.is_empty() => format!("/api/{}", rest.iter().take(2).copied().collect::<Vec<_>>().join("/")),
            ["health"] | ["metrics"] => format!("/{}", parts[0]),
            _ => "/ (page)".into(),
        }
    }

    pub fn record(info: warp::log::Info) {
        let ep = endpoint(info.path());
        let status = info.status().as_u16();
        let secs = info.elapsed().as_secs_f64();
        tracing::info!(target: "terril::http", method = %info.method(), path = info.path(), status, ms = format!("{:.1}", secs * 1000.0), "request");
        *REQUESTS.lock().unwrap().entry((ep.clone(), status)).or_default() += 1;
        let mut l = LATENCY.lock().unwrap();
        let s = l.entry(ep).or_default();
        s.count += 1;
        s.sum_s += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render() -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "# HELP terril_http_requests_total Requests answered, by endpoint and status.\n# TYPE terril_http_requests_total counter");
        for ((ep, status), n) in REQUESTS.lock().unwrap().iter() {
            let _ = writeln!(out, "terril_http_requests_total{{endpoint=\"{ep}\",status=\"{status}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP terril_http_request_duration_seconds Time to answer, by endpoint.\n# TYPE terril_http_request_duration_seconds histogram");
        for (ep, s) in LATENCY.lock().unwrap().iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "terril_http_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"{b}\"}} {}", s.buckets[i]);
            }
            let _ = writeln!(out, "terril_http_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "terril_http_request_duration_seconds_sum{{endpoint=\"{ep}\"}} {:.6}", s.sum_s);
            let _ = writeln!(out, "terril_http_request_duration_seconds_count{{endpoint=\"{ep}\"}} {}", s.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        for (h, want) in [("gzip", Some("gzip")), ("gzip, deflate, br", Some("br")), ("br;q=1.0, gzip;q=0.5", Some("br")), ("br;q=0.2, gzip", Some("gzip")), ("*", Some("br")), ("br;q=0, *", Some("gzip")), ("gzip;q=0", None), ("deflate", None), ("identity", None)] {
            assert_eq!(super::content_coding(Some(h)), want, "{h}");
        }
        assert_eq!(super::content_coding(None), None);
    }
}

#[allow(dead_code)]
fn _assert_reply_is_send(r: warp::reply::Response) -> impl Reply {
    r
}
