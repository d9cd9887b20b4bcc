//! The OpenAPI 3.0 document of the API, generated from the types the server uses: the
//! query parameters from [`crate::api::Params`] (types, limits and descriptions from its
//! schemars attributes and doc comments), the bodies from the POST body types, every
//! answer from the type it is serialised from, errors from [`QueryError`]. What is
//! written here by hand is only which parameters each endpoint reads, which are
//! required, and limits narrower than the parameter's own (a journey walks at most 60
//! minutes where an analysis may take 240). A test requests every path listed here, and
//! one asks the server for every documented limit and just past it.

use crate::api::Params;
use crate::route::plan::{Departure, PlanResponse, QueryError};
use crate::route::places::PlaceHit;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};

/// A GeoJSON FeatureCollection (RFC 7946), as the map answers are written.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub struct FeatureCollection {
    r#type: FeatureCollectionType,
    features: Vec<Feature>,
}
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum FeatureCollectionType {
    FeatureCollection,
}
/// A GeoJSON Feature: a geometry and its properties.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct Feature {
    r#type: FeatureType,
    geometry: Map<String, Value>,
    properties: Map<String, Value>,
}
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum FeatureType {
    Feature,
}

/// The parameters common to analyses (isochrones, accessibility, matrices).
const ANALYSIS: &[&str] = &["date", "time", "window", "mode", "walk_speed", "bike_speed", "max_walk_time", "max_transfer_walk_time", "max_bike_time", "max_trip_duration", "max_rides", "transfer_slack", "transit_modes", "step"];
const ACCESS: &[&str] = &["cutoffs", "percentiles", "decay", "decay_width", "decay_value", "nth", "nearest_column", "columns", "only"];

/// One operation: where, what it reads, what it answers.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    params: Vec<&'static str>,
    required: &'static [&'static str],
    /// Limits narrower here than the parameter's own.
    maxima: Vec<(&'static str, f64)>,
    body: Option<(Value, Value)>,
    ok: Value,
    ok_type: &'static str,
}

fn op(method: &'static str, path: &'static str, summary: &'static str, params: &[&[&'static str]], required: &'static [&'static str], ok: Value) -> Op {
    let mut p: Vec<&'static str> = params.iter().flat_map(|x| x.iter().copied()).collect();
    p.dedup();
    Op { method, path, summary, params: p, required, maxima: vec![], body: None, ok, ok_type: "application/json" }
}

/// The operations the server answers (the routes of `server::routes`).
fn operations(resp: &mut SchemaGenerator, body: &mut SchemaGenerator) -> Vec<Op> {
    let plan_params: &[&str] = &["from", "to", "date", "time", "arrive_by", "modes", "max_walk", "max_walk_time", "walk_speed", "wheelchair", "polyline", "transfer_slack", "max_transfer_walk_time", "max_rides", "max_transfers", "num_itineraries", "window"];
    let walk_max = (crate::route::plan::MAX_WALK_S / 60) as f64;
    let mut ops = vec![
        op("get", "/health", "Liveness", &[], &[], resp.subschema_for::<crate::server::Health>().into()),
        op("get", "/api/info", "Loaded network: feeds, validity, counts, bounding box (file names only)", &[], &[], resp.subschema_for::<crate::info::NetworkInfo>().into()),
        op("get", "/api/openapi.json", "This document", &[], &[], json!({ "type": "object" })),
        Op { maxima: vec![("max_walk", walk_max), ("max_walk_time", walk_max)], ..op("get", "/api/plan", "Plan a journey: itineraries best first, street-only alternatives in `direct`; `reason` says why there is none within the limits, and `walk_extended_min` with how much walking one was found", &[plan_params], &["from", "to"], resp.subschema_for::<PlanResponse>().into()) },
        Op { maxima: vec![("limit", 50.0)], ..op("get", "/api/stops", "Search stops by name (accent- and case-insensitive word prefixes)", &[&["q", "limit"]], &["q"], resp.subschema_for::<Vec<crate::server::StopOut>>().into()) },
        Op { maxima: vec![("limit", 50.0)], ..op("get", "/api/places", "Search places by name: stations and stops, communes, hospitals, job sites, streets and numbered addresses (accent-, case- and typo-tolerant; exact name, then prefix, every word, fuzzy; communes first among equals). `from`/`to` accept the same names.", &[&["q", "limit"]], &["q"], resp.subschema_for::<Vec<PlaceHit>>().into()) },
        Op { maxima: vec![("limit", 50.0)], ..op("get", "/api/stops/near", "Served stops near a point, nearest first", &[&["lat", "lon", "radius", "limit"]], &["lat", "lon"], resp.subschema_for::<Vec<crate::server::StopOut>>().into()) },
        op("get", "/api/stops/{id}/departures", "Next departures from a stop or station", &[&["date", "time", "limit"]], &[], resp.subschema_for::<Vec<Departure>>().into()),
        op("get", "/api/isochrone", "Isochrones: GeoJSON polygons of the area reachable within each cutoff (a percentile over a departure window); properties cutoff_min, area_km2", &[&["from"], ANALYSIS, &["cutoffs", "percentile"]], &["from"], resp.subschema_for::<FeatureCollection>().into()),
        op("get", "/api/access", "Accessibility of one origin to a loaded opportunity set: time to the nearest, opportunities within cutoffs, by percentile", &[&["from", "destinations"], ANALYSIS, ACCESS], &["from", "destinations"], resp.subschema_for::<crate::server::AccessAnswer>().into()),
        op("get", "/api/access/map", "Accessibility of every origin of a loaded set (communes...) to a loaded destination set: a GeoJSON point per origin and population-weighted summaries", &[&["origins", "destinations"], ANALYSIS, ACCESS], &[], resp.subschema_for::<crate::server::AccessMapAnswer>().into()),
        op("get", "/api/matrix", "Travel-time matrix between two loaded point sets (as r5r's travel_time_matrix): long-format rows, null when unreachable within max_trip_duration", &[&["origins", "destinations"], ANALYSIS, &["percentiles", "unit", "reachable_only", "breakdown"]], &[], resp.subschema_for::<crate::server::MatrixAnswer>().into()),
        Op { body: Some((body.subschema_for::<crate::server::MatrixBody>().into(), json!({ "origins": [{ "id": "lens-gare", "lat": 50.4276, "lon": 2.8255 }, { "id": "henin", "lat": 50.4217, "lon": 2.9508 }], "destinations": [{ "id": "lille-flandres", "lat": 50.6365, "lon": 3.0705 }], "params": { "date": "2025-02-04", "window": "07:00-08:00", "max_walk_time": "20" } }))), ..op("post", "/api/matrix", "Travel-time matrix between points given in the body (at most 10,000 each; origins x destinations x departures bounded)", &[], &[], resp.subschema_for::<crate::server::MatrixAnswer>().into()) },
        op("get", "/api/scenarios", "Scenarios offered by the server (the JSON files of its scenarios/ folder), with whether they apply to the loaded network", &[], &[], resp.subschema_for::<Vec<crate::server::ScenarioSummary>>().into()),
        Op { body: Some((body.subschema_for::<crate::server::CompareBody>().into(), json!({ "scenario": "lens-nouvel-hopital", "origins": "communes", "destinations": "hospitals", "params": { "date": "2025-02-04", "window": "07:00-07:30", "cutoffs": "30,60" } }))), ..op("post", "/api/compare", "Before/after accessibility of a scenario: per origin (GeoJSON) and summarised (population gaining or losing access, median change), with a French and English text", &[], &[], resp.subschema_for::<crate::server::CompareAnswer>().into()) },
        op("get", "/api/opportunities", "Loaded opportunity sets (name, points, weight columns)", &[], &[], resp.subschema_for::<Vec<crate::server::OpportunitySummary>>().into()),
        op("get", "/api/map/streets", "Walkable street segments inside a bounding box (GeoJSON LineStrings; thinned below zoom 14)", &[&["bbox", "zoom"]], &["bbox"], resp.subschema_for::<FeatureCollection>().into()),
        op("get", "/api/map/lines", "Transit lines inside a bounding box (GeoJSON LineStrings with route colours)", &[&["bbox"]], &["bbox"], resp.subschema_for::<FeatureCollection>().into()),
    ];
    ops.push(Op { ok_type: "text/html", maxima: vec![("max_trip_duration", 240.0)], ..op("get", "/api/report/health", "Health-access report of the loaded communes (where their people live: Filosofi cells or points inside each commune) to the nearest facility of a loaded set: a self-contained French HTML page (key figures, map, cumulative chart, tables per EPCI and commune, sources, parameters), printable to PDF. Times computed to max_trip_duration (default 120) whatever the cutoffs (default 30,45,60).", &[&["destinations", "only", "cutoffs"], ANALYSIS], &[], json!({ "type": "string" })) });
    ops.push(Op { ok_type: "text/csv", maxima: vec![("max_trip_duration", 240.0)], ..op("get", "/api/report/health.csv", "The health report's commune table as CSV: id, name, group, population, median_min, beyond_<cutoff>_min..., none_within_<max>_min, points, origins (grid, sampled or point)", &[&["destinations", "only", "cutoffs"], ANALYSIS], &[], json!({ "type": "string" })) });
    ops.push(Op { ok_type: "application/flatgeobuf", maxima: vec![("max_trip_duration", 240.0)], ..op("get", "/api/report/health.fgb", "The health report's commune table with the communes' outlines as FlatGeobuf (opens in QGIS with its attributes)", &[&["destinations", "only", "cutoffs"], ANALYSIS], &[], json!({ "type": "string", "format": "binary" })) });
    ops.push(Op { ok_type: "application/flatgeobuf", ..op("get", "/api/access/map.fgb", "The accessibility map of /api/access/map as FlatGeobuf: a point per origin with its indicators (opens in QGIS)", &[&["origins", "destinations"], ANALYSIS, ACCESS], &[], json!({ "type": "string", "format": "binary" })) });
    ops.push(Op { ok_type: "application/flatgeobuf", body: Some((body.subschema_for::<FeatureCollection>().into(), json!({ "type": "FeatureCollection", "features": [{ "type": "Feature", "properties": { "id": "lens", "time_min": 12.5 }, "geometry": { "type": "Point", "coordinates": [2.8255, 50.4276] } }] }))), ..op("post", "/api/export/fgb", "Any GeoJSON FeatureCollection of the API (isochrones, accessibility, scenario results) as FlatGeobuf, which QGIS opens with its attributes (body up to 16 MiB)", &[], &[], json!({ "type": "string", "format": "binary" })) });
    ops.push(op("get", "/api/sheet", "Site access sheet (Action 54): stops and stations near the site with walking and cycling times and their lines, arrivals in the hour before each shift and departures in the hour after it, the communes (with population) from which one arrives in time and gets home", &[&["site", "shifts", "date"]], &["site", "shifts"], resp.subschema_for::<crate::api::sheet::SiteSheet>().into()));
    ops.push(Op { ok_type: "text/html", ..op("get", "/api/sheet.html", "The site access sheet as one French A4 page to print", &[&["site", "shifts", "date"]], &["site", "shifts"], json!({ "type": "string" })) });
    ops.push(Op { ok_type: "text/plain", ..op("get", "/metrics", "Prometheus metrics: requests, latencies and rejections by endpoint", &[], &[], json!({ "type": "string" })) });
    ops
}

/// One query parameter from the property of `Params` of that name.
fn parameter(name: &str, props: &Map<String, Value>, required: bool, max: Option<f64>) -> Value {
    let mut schema = props.get(name).cloned().unwrap_or_else(|| panic!("'{name}' is not a field of api::Params"));
    let obj = schema.as_object_mut().expect("a property schema is an object");
    let description = obj.remove("description").unwrap_or(json!(""));
    let example = obj.remove("example");
    obj.remove("nullable");
    obj.remove("default");
    // Option<Enum> is written as allOf [$ref] (+ nullable): the reference is enough.
    if let Some(all) = obj.remove("allOf").and_then(|a| a.as_array().and_then(|a| a.first().cloned())) {
        obj.extend(all.as_object().cloned().unwrap_or_default());
    }
    if let Some(m) = max {
        obj.insert("maximum".into(), json!(m));
    }
    let mut p = json!({ "name": name, "in": "query", "required": required, "description": description, "schema": schema });
    if let Some(e) = example {
        p["example"] = e;
    }
    p
}

pub fn document() -> Value {
    let mut resp = SchemaSettings::openapi3().for_serialize().into_generator();
    let mut body = SchemaSettings::openapi3().into_generator();
    let _ = body.subschema_for::<Params>();
    let ops = operations(&mut resp, &mut body);
    let error = resp.subschema_for::<QueryError>();
    let mut components = body.take_definitions(true);
    components.extend(resp.take_definitions(true));
    // French answers keep the English sentence too.
    if let Some(props) = components.get_mut("QueryError").and_then(|e| e["properties"].as_object_mut()) {
        props.insert("message_en".into(), json!({ "type": "string", "description": "The English sentence, when `message` is in French (lang=fr or Accept-Language: fr)" }));
    }
    let props = components["Params"]["properties"].as_object().cloned().expect("Params has properties");
    let error_content = json!({ "application/json": { "schema": error } });
    let mut paths = Map::new();
    for o in ops {
        let mut parameters: Vec<Value> = Vec::new();
        if o.path.contains("{id}") {
            parameters.push(json!({ "name": "id", "in": "path", "required": true, "description": "Stop id (namespaced, or unique without its namespace)", "schema": { "type": "string", "minLength": 1, "maxLength": 200 }, "example": "ter:StopArea:OCE87345025" }));
        }
        let api = o.path.starts_with("/api/") && o.path != "/api/openapi.json";
        for name in o.params.iter().copied().chain(api.then_some("lang")) {
            let max = o.maxima.iter().find(|m| m.0 == name).map(|m| m.1);
            parameters.push(parameter(name, &props, o.required.contains(&name), max));
        }
        let mut responses = json!({ "200": { "description": "OK", "content": { o.ok_type: { "schema": o.ok } } } });
        if api {
            responses["400"] = json!({ "description": "Invalid parameter or body", "content": error_content });
            responses["404"] = json!({ "description": "Unknown stop, place, set or scenario", "content": error_content });
            responses["422"] = json!({ "description": "Valid but unanswerable: outside the area or validity, limits exceeded", "content": error_content });
        }
        responses["default"] = json!({ "description": "Error: 403 foreign Host, 405, 413 body too large, 415 not JSON, 503 busy or over the time limit (with Retry-After)", "content": error_content });
        let mut operation = json!({ "summary": o.summary, "parameters": parameters, "responses": responses });
        if let Some((schema, example)) = o.body {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema, "example": example } } });
        }
        paths.entry(o.path.to_string()).or_insert_with(|| json!({}))[o.method] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "terril",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Multimodal journeys (walk, bike, bus, tram, train), isochrones, accessibility and scenarios on the loaded network. Times are local (the network's time zone); errors are JSON {error, message} with a 4xx status, in French with lang=fr or Accept-Language: fr.",
            "license": { "name": env!("CARGO_PKG_LICENSE") }
        },
        "paths": paths,
        "components": { "schemas": components }
    })
}
