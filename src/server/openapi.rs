//! The OpenAPI 3 document of the API. A test requests every path listed here against a
//! real server, so this document cannot drift from the code unnoticed.

use serde_json::{json, Value};

fn param(name: &str, location: &str, required: bool, description: &str, example: Value) -> Value {
    json!({ "name": name, "in": location, "required": required, "description": description, "schema": { "type": "string" }, "example": example })
}

/// The analysis parameters, from the one table the query layer validates against.
fn analysis_params() -> Vec<Value> {
    crate::api::ANALYSIS_PARAMETERS
        .iter()
        .map(|(name, unit, default, min, max, what)| {
            let numeric = *max > 0.0 && !matches!(*name, "percentiles" | "cutoffs");
            let mut schema = if numeric { json!({ "type": "number", "minimum": min, "maximum": max }) } else { json!({ "type": "string" }) };
            if let Ok(v) = default.parse::<f64>() {
                schema["default"] = json!(v);
            }
            let unit = if unit.is_empty() { String::new() } else { format!(" ({unit})") };
            let example = match *name {
                "max_walk_time" | "max_bike_time" => "15",
                "max_transfer_walk_time" => "10",
                "max_trip_duration" => "60",
                "decay_value" => "0.05",
                "cutoffs" => "30,60",
                _ => default,
            };
            json!({ "name": name, "in": "query", "required": false, "description": format!("{what}{unit}; default {default}"), "schema": schema, "example": example })
        })
        .collect()
}

fn error_responses() -> Value {
    json!({
        "400": { "description": "Invalid parameter", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "404": { "description": "Unknown stop", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "422": { "description": "Valid but unanswerable: outside the area or validity, limits exceeded", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    })
}

pub fn document() -> Value {
    let mut plan_responses = error_responses();
    plan_responses["200"] = json!({ "description": "Itineraries, best first; `message` says why when there is none" });
    let mut stops_responses = error_responses();
    stops_responses["200"] = json!({ "description": "Stops" });
    let mut paths = serde_json::Map::new();
    paths.insert("/health".into(), json!({ "get": { "summary": "Liveness", "responses": { "200": { "description": "ok" } } } }));
    paths.insert("/api/info".into(), json!({ "get": { "summary": "Loaded network: feeds, validity, counts, bounding box", "responses": { "200": { "description": "Network summary" } } } }));
    paths.insert("/api/openapi.json".into(), json!({ "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3" } } } }));
    paths.insert("/api/plan".into(), json!({ "get": {
                "summary": "Plan a journey",
                "parameters": [
                    param("from", "query", true, "Origin: lat,lon, a stop id or a place name (see /api/places)", json!("50.4276,2.8255")),
                    param("to", "query", true, "Destination: lat,lon, a stop id or a place name (see /api/places)", json!("50.6365,3.0710")),
                    param("date", "query", false, "YYYY-MM-DD (default: today if valid, else the first Tuesday of the validity)", json!("2025-02-04")),
                    param("time", "query", false, "HH:MM local time (default 08:00)", json!("07:30")),
                    param("arrive_by", "query", false, "true: `time` is the latest arrival", json!("false")),
                    param("modes", "query", false, "Comma list: transit, bus, coach, tram, subway, rail, ferry, cable; walk (no transit); bike (cycle to the first stop)", json!("transit")),
                    param("max_walk", "query", false, "Longest walk to or from a stop, minutes (default 15, max 60)", json!("15")),
                    param("walk_speed", "query", false, "Walking speed, km/h (default 4.8)", json!("4.8")),
                    param("wheelchair", "query", false, "Avoid stops and trips marked inaccessible", json!("false")),
                    param("polyline", "query", false, "true: each leg also carries `polyline`, its line encoded (precision 5); `geometry` is always a GeoJSON LineString", json!("false")),
                    param("transfer_slack", "query", false, "Change time after each ride, seconds (default 60, 0 to 600)", json!("60")),
                    param("max_transfer_walk_time", "query", false, "Longest walk between two rides, minutes (default: max_walk)", json!("10")),
                    param("max_rides", "query", false, "Most vehicles boarded (1 to 9)", json!("6")),
                    param("max_transfers", "query", false, "Default 5, max 8", json!("5")),
                    param("num_itineraries", "query", false, "Default 3, max 10", json!("3")),
                    param("window", "query", false, "Minutes after (before, for arrive_by) `time` searched for options; default 120, max 720", json!("120"))
                ],
                "responses": plan_responses
            } }));
    paths.insert("/api/stops".into(), json!({ "get": {
                "summary": "Search stops by name (accent- and case-insensitive word prefixes)",
                "parameters": [ param("q", "query", true, "Words of the name", json!("lievin")), param("limit", "query", false, "Max results (default 10, max 50)", json!("10")) ],
                "responses": stops_responses.clone()
            } }));
    paths.insert("/api/places".into(), json!({ "get": {
                "summary": "Search places by name: stations and stops, communes, hospitals, job sites, streets and addresses (accent-, case- and typo-tolerant; ranked exact name, prefix, every word, fuzzy; communes first among equals). `from`/`to` accept the same names.",
                "parameters": [ param("q", "query", true, "Words of the name", json!("harnes")), param("limit", "query", false, "Max results (default 10, max 50)", json!("10")) ],
                "responses": stops_responses.clone()
            } }));
    paths.insert("/api/stops/near".into(), json!({ "get": {
                "summary": "Stops near a point",
                "parameters": [ param("lat", "query", true, "Latitude", json!("50.4276")), param("lon", "query", true, "Longitude", json!("2.8255")), param("radius", "query", false, "Metres (default 500, max 5000)", json!("500")) ],
                "responses": stops_responses.clone()
            } }));
    paths.insert("/api/isochrone".into(), json!({ "get": {
                "summary": "Isochrones: GeoJSON polygons of the area reachable within each cutoff (median over a departure window)",
                "parameters": (vec![
                    param("from", "query", true, "Origin: lat,lon, a stop id or a place name (see /api/places)", json!("50.4276,2.8255")),
                    param("date", "query", true, "YYYY-MM-DD", json!("2025-02-04")),
                    param("time", "query", false, "Start of the departure window, HH:MM (default 08:00)", json!("07:00")),
                    param("window", "query", false, "Window in minutes (departures every minute) or HH:MM-HH:MM; default 60", json!("60")),
                    param("cutoffs", "query", false, "Minutes, comma list (default 15,30,45,60)", json!("15,30,45,60")),
                    param("mode", "query", false, "walk, bike, transit (walk + transit) or bike_transit", json!("transit")),
                    param("percentile", "query", false, "Percentile of the window's travel times (default 50)", json!("50"))
                ].into_iter().chain(analysis_params().into_iter().filter(|p| !["mode", "window", "cutoffs", "percentiles", "decay", "decay_width", "decay_value"].contains(&p["name"].as_str().unwrap_or("")))).collect::<Vec<_>>()),
                "responses": { "200": { "description": "GeoJSON FeatureCollection, one MultiPolygon per cutoff (properties cutoff_min, area_km2)" }, "400": { "description": "Invalid parameter" }, "422": { "description": "Outside the area or validity, or limits exceeded" } }
            } }));
    paths.insert("/api/access".into(), json!({ "get": {
                "summary": "Accessibility of one origin to a loaded opportunity set: time to the nearest, opportunities within cutoffs",
                "parameters": (vec![
                    param("from", "query", true, "Origin: lat,lon, a stop id or a place name (see /api/places)", json!("50.4276,2.8255")),
                    param("destinations", "query", true, "Name of a loaded opportunity set (see /api/opportunities)", json!("hospitals")),
                    param("date", "query", true, "YYYY-MM-DD", json!("2025-02-04")),
                    param("window", "query", false, "HH:MM-HH:MM or minutes after `time`", json!("07:00-08:00")),
                    param("cutoffs", "query", false, "Minutes (default 15,30,45,60)", json!("30,45,60")),
                    param("percentiles", "query", false, "Comma list (default 50)", json!("50")),
                    param("mode", "query", false, "walk, bike, transit or bike_transit", json!("transit")),
                    param("decay", "query", false, "step, linear, exponential or logistic", json!("step")),
                    param("nth", "query", false, "Ranks for time to the n-th nearest (default 1)", json!("1"))
                ].into_iter().chain(analysis_params().into_iter().filter(|p| !["mode", "window", "cutoffs", "percentiles", "decay"].contains(&p["name"].as_str().unwrap_or("")))).collect::<Vec<_>>()),
                "responses": { "200": { "description": "Indicators by name" }, "404": { "description": "Unknown opportunity set" }, "422": { "description": "Outside the area or validity" } }
            } }));
    let mut matrix_params = vec![
        param("origins", "query", false, "Name of a loaded point set (default communes)", json!("communes")),
        param("destinations", "query", false, "Name of a loaded point set (default hospitals)", json!("hospitals")),
        param("date", "query", true, "YYYY-MM-DD", json!("2025-02-04")),
        param("unit", "query", false, "minutes (whole, rounded down as R5) or seconds", json!("minutes")),
        param("reachable_only", "query", false, "true: leave out unreachable pairs", json!("false")),
        param("breakdown", "query", false, "true: add how the trip behind the first percentile is made (departure_time, access/wait/ride/transfer/egress times summing to the travel time, n_rides, routes), as r5r's expanded matrix", json!("false")),
    ];
    matrix_params.extend(analysis_params().into_iter().filter(|p| p["name"] != "cutoffs"));
    let mut matrix_responses = error_responses();
    matrix_responses["200"] = json!({ "description": "Long format rows {from_id, to_id, travel_time_p50...} (null: unreachable within max_trip_duration) and the parameters used" });
    paths.insert("/api/matrix".into(), json!({
        "get": { "summary": "Travel-time matrix between two loaded point sets (as r5r's travel_time_matrix); default window 07:00-09:00, max_trip_duration 120", "parameters": matrix_params, "responses": matrix_responses.clone() },
        "post": {
            "summary": "Travel-time matrix between points given in the body (at most 10,000 each; origins x destinations x departures bounded)",
            "requestBody": { "required": true, "content": { "application/json": { "example": {
                "origins": [ { "id": "lens-gare", "lat": 50.4276, "lon": 2.8255 }, { "id": "henin", "lat": 50.4217, "lon": 2.9508 } ],
                "destinations": [ { "id": "lille-flandres", "lat": 50.6365, "lon": 3.0705 } ],
                "params": { "date": "2025-02-04", "window": "07:00-08:00", "max_walk_time": "20" } } } } },
            "responses": matrix_responses
        }
    }));
    paths.insert("/api/scenarios".into(), json!({ "get": { "summary": "Scenarios offered by the server (the files of scenarios/), with whether they apply to the loaded network", "responses": { "200": { "description": "List" } } } }));
    paths.insert("/api/compare".into(), json!({ "post": {
                "summary": "Before/after accessibility of a scenario: per origin (GeoJSON) and summarised (population gaining or losing access, median change), with a French and English text",
                "requestBody": { "required": true, "content": { "application/json": { "example": { "scenario": "lens-nouvel-hopital", "origins": "communes", "destinations": "hospitals", "params": { "date": "2025-02-04", "window": "07:00-07:30", "cutoffs": "30,60" } } } } },
                "responses": { "200": { "description": "Comparison" }, "400": { "description": "Invalid body" }, "404": { "description": "Unknown scenario or set" }, "422": { "description": "Scenario does not apply, or limits exceeded" } }
            } }));
    paths.insert("/api/opportunities".into(), json!({ "get": { "summary": "Loaded opportunity sets (name, points, weight columns)", "responses": { "200": { "description": "List" } } } }));
    paths.insert("/api/stops/{id}/departures".into(), json!({ "get": {
                "summary": "Next departures from a stop or station",
                "parameters": [ param("id", "path", true, "Stop id (namespaced, or unique without namespace)", json!("ter:StopArea:OCE87345025")), param("date", "query", false, "YYYY-MM-DD", json!("2025-02-04")), param("time", "query", false, "HH:MM", json!("07:00")), param("limit", "query", false, "Default 20, max 200", json!("20")) ],
                "responses": stops_responses
            } }));
    // Every operation may also answer 403 (foreign Host), 413, 415, 503 (busy, timeout):
    // documented once as the default response.
    for item in paths.values_mut() {
        if let Some(ops) = item.as_object_mut() {
            for op in ops.values_mut() {
                if let Some(r) = op.get_mut("responses").and_then(|r| r.as_object_mut()) {
                    r.entry("default").or_insert(json!({ "description": "Error: 403 foreign Host, 413 body too large, 415 not JSON, 503 busy or over the time limit (with Retry-After)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }));
                }
            }
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "terril",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Multimodal journeys (walk, bike, bus, tram, train) on the loaded network. Times are local (the network's time zone); errors are JSON {error, message} with a 4xx status."
        },
        "paths": paths,
        "components": { "schemas": { "Error": { "type": "object", "required": ["error", "message"], "properties": { "error": { "type": "string", "description": "Stable machine code" }, "message": { "type": "string", "description": "What went wrong, in words a person can act on" } } } } }
    })
}
