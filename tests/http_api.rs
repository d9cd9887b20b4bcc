//! Every endpoint through a real server on a loopback port, with good and bad input.

mod common;
use common::*;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use terril::route::plan::Router;

fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let hosp = terril::analysis::opportunities::load(&data_dir().unwrap().join("bassin-minier/hospitals-59-62.csv"), &Default::default()).unwrap();
        let mut hosp = hosp;
        hosp.name = "hospitals".into();
        let mut communes = terril::analysis::opportunities::load(&data_dir().unwrap().join("bassin-minier/communes-mbm.geojson"), &Default::default()).unwrap();
        communes.name = "communes".into();
        let d = data_dir().unwrap().join("bassin-minier");
        let state = terril::server::AppState::new(Router::new(ter2025().clone()), vec![hosp, communes]).with_scenarios(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"));
        let router = Arc::new(state.with_report_areas(&d.join("communes-mbm.geojson"), Some(&d.join("filosofi-200m"))).unwrap());
        spawn_server(router)
    })
}

/// Serves `state` on a loopback port from a thread of its own; returns the base URL.
fn spawn_server(state: Arc<terril::server::AppState>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            terril::server::serve_on(state, l).await;
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

fn get(path: &str) -> (u16, Value) {
    let r = reqwest::blocking::get(format!("{}{}", server(), path)).unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn assert_error(path: &str, status: u16, code: &str) {
    let (s, v) = get(path);
    assert_eq!(s, status, "{path}: {v}");
    assert_eq!(v["error"], code, "{path}: {v}");
    assert!(v["message"].as_str().is_some_and(|m| m.len() > 10), "{path}: a sentence for a person: {v}");
}

/// Tests that load both cores (reports, sheets) or time how fast work stops run one at a
/// time: on a 2-core machine one would otherwise slow the other past its limits.
fn cpu_heavy() -> std::sync::MutexGuard<'static, ()> {
    static M: std::sync::Mutex<()> = std::sync::Mutex::new(());
    M.lock().unwrap_or_else(|e| e.into_inner())
}

const LENS: &str = "ter:StopArea:OCE87345025";
const LILLE: &str = "ter:StopArea:OCE87286005";

#[test]
fn health_info_and_openapi() {
    let _d = require_data!();
    let (s, v) = get("/health");
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    let (s, v) = get("/api/info");
    assert_eq!(s, 200);
    assert_eq!(v["validity_start"], "2025-01-22");
    assert_eq!(v["stops"], 9196);
    assert!(v["bbox"]["min_lat"].as_f64().unwrap() < 50.0);
    let (s, v) = get("/api/openapi.json");
    assert_eq!(s, 200);
    assert_eq!(v["openapi"], "3.0.3");
}

#[test]
fn every_path_of_the_openapi_document_answers() {
    let _cpu = cpu_heavy();
    let _d = require_data!();
    let (_, doc) = get("/api/openapi.json");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 7);
    for (path, item) in paths {
        if let Some(post) = item.get("post") {
            let body = &post["requestBody"]["content"]["application/json"]["example"];
            let r = reqwest::blocking::Client::new().post(format!("{}{}", server(), path)).json(body).send().unwrap();
            assert_eq!(r.status().as_u16(), 200, "POST {path}: {}", r.text().unwrap());
            continue;
        }
        let op = &item["get"];
        let mut url = path.clone();
        let mut query = Vec::new();
        for p in op["parameters"].as_array().cloned().unwrap_or_default() {
            let name = p["name"].as_str().unwrap();
            let ex = example(&p);
            if p["in"] == "path" {
                url = url.replace(&format!("{{{name}}}"), &ex.replace(' ', "%20"));
            } else if p["required"] == true || name == "date" {
                query.push(format!("{name}={ex}"));
            }
        }
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let (s, v) = get(&url);
        assert_eq!(s, 200, "{url} answered {s}: {v}");
    }
}

/// A parameter's example as a query value.
fn example(p: &Value) -> String {
    match &p["example"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Issue 14: the document is generated from the server's types and says every route.
/// Every `warp::path!` of the server's source is a path of the document, each answer's
/// schema is named, and every numeric limit it gives is the server's: a request at the
/// documented maximum is not refused for that parameter, one past it is refused (4xx).
#[test]
fn the_openapi_document_covers_every_route_and_its_limits_are_the_servers() {
    let _d = require_data!();
    let (_, doc) = get("/api/openapi.json");
    let paths = doc["paths"].as_object().unwrap();
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/server/mod.rs")).unwrap();
    let mut routes = 0;
    for line in src.lines().filter(|l| l.contains("warp::path!(")) {
        let inner = &line[line.find("warp::path!(").unwrap() + 12..];
        let inner = &inner[..inner.find(')').unwrap()];
        let path: String = inner.split('/').map(|seg| { let seg = seg.trim(); if seg == "String" { "{id}".to_string() } else { seg.trim_matches('"').to_string() } }).fold(String::new(), |a, b| a + "/" + b.as_str());
        assert!(paths.contains_key(&path), "the server answers {path} but the document does not list it");
        routes += 1;
    }
    assert!(routes >= 15, "{routes} routes read from the source");
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let ok = &op["responses"]["200"]["content"];
            assert!(ok.as_object().is_some_and(|c| c.values().all(|v| v["schema"].is_object())), "{method} {path}: the answer's schema");
        }
    }
    // Limits: the light endpoints and the isochrone (a one-minute window keeps it cheap;
    // the other analyses share its validation).
    let mut checked = 0;
    for (path, item) in paths {
        let Some(op) = item.get("get") else { continue };
        if ["/api/access/map", "/api/matrix", "/api/access", "/api/report/health", "/api/report/health.csv", "/api/report/health.fgb", "/api/access/map.fgb"].contains(&path.as_str()) {
            continue;
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut base_path = path.clone();
        let mut base = vec![];
        for p in &params {
            let name = p["name"].as_str().unwrap();
            if p["in"] == "path" {
                base_path = base_path.replace(&format!("{{{name}}}"), &example(p));
            } else if p["required"] == true || name == "date" {
                base.push((name.to_string(), example(p)));
            }
        }
        if path == "/api/isochrone" {
            base.push(("window".into(), "1".into()));
        }
        for p in &params {
            let name = p["name"].as_str().unwrap();
            let Some(max) = p["schema"]["maximum"].as_f64() else { continue };
            let ask = |v: f64| {
                let mut q: Vec<(String, String)> = base.iter().filter(|(k, _)| k != name).cloned().collect();
                q.push((name.to_string(), if p["schema"]["type"] == "integer" { format!("{}", v as i64) } else { format!("{v}") }));
                get(&format!("{base_path}?{}", serde_urlencoded::to_string(&q).unwrap()))
            };
            let (s, v) = ask(max);
            let msg = v["message"].as_str().unwrap_or("");
            // The one limit that depends on the data, documented as such: walks to
            // destinations end where their walking tables from stops end.
            let data_bound = name == "max_walk_time" && msg.contains("walking tables") && p["description"].as_str().unwrap().contains("walking tables");
            assert!(s == 200 || !msg.contains(name) || data_bound, "{path}: {name}={max} (the documented maximum) is refused: {s} {v}");
            let (s, v) = ask(max * 2.0 + 1.0);
            assert!((400..500).contains(&s), "{path}: {name}={} (past the documented {max}) is accepted: {s} {}", max * 2.0 + 1.0, &v.to_string()[..v.to_string().len().min(300)]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} limits checked");
}

#[test]
fn plan_lens_to_lille_flandres_on_a_weekday() {
    let _d = require_data!();
    let (s, v) = get(&format!("/api/plan?from={LENS}&to={LILLE}&date=2025-02-04&time=07:00"));
    assert_eq!(s, 200, "{v}");
    let its = v["itineraries"].as_array().unwrap();
    assert!(!its.is_empty());
    let leg = its[0]["legs"].as_array().unwrap().iter().find(|l| l["route"].is_object()).unwrap();
    assert_eq!(leg["mode"], "rail");
    assert_eq!(leg["to"]["name"], "Lille Flandres");
    assert!(leg["start_time"].as_str().unwrap().starts_with("2025-02-04T07:"));
    assert_eq!(leg["geometry"]["type"], "LineString");
    assert!(leg["geometry"]["coordinates"].as_array().unwrap().len() >= 2);
    // Coordinates work too: Valenciennes station to Béthune station.
    let (s, v) = get("/api/plan?from=50.3635,3.5165&to=50.5213,2.6417&date=2025-02-04&time=07:00");
    assert_eq!(s, 200, "{v}");
    let its = v["itineraries"].as_array().unwrap();
    assert!(!its.is_empty(), "Valenciennes -> Béthune: {v}");
    assert_eq!(its[0]["legs"][0]["mode"], "walk");
}

#[test]
fn plan_is_deterministic_and_equals_the_library_answer() {
    let _d = require_data!();
    let url = format!("/api/plan?from={LENS}&to={LILLE}&date=2025-02-04&time=17:30&arrive_by=true");
    let (_, a) = get(&url);
    let (_, b) = get(&url);
    assert_eq!(a, b);
    // The CLI gives the same JSON.
    let dir = std::env::temp_dir().join(format!("terril-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    ter2025().save(&dir.join("ter.bin")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["plan", "--network"])
        .arg(dir.join("ter.bin"))
        .args(["--from", LENS, "--to", LILLE, "--date", "2025-02-04", "--time", "17:30", "--arrive-by"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, a);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stop_search_is_accent_and_case_insensitive() {
    let _d = require_data!();
    let (s, v) = get("/api/stops?q=lievin");
    assert_eq!(s, 200);
    let names: Vec<&str> = v.as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with("Liévin")), "{names:?}");
    let (_, v) = get("/api/stops?q=HENIN%20beau");
    assert!(v[0]["name"].as_str().unwrap().starts_with("Hénin-Beaumont"), "{v}");
    assert!(v[0]["modes"].as_array().unwrap().iter().any(|m| m == "rail"));
    let (s, v) = get("/api/stops/near?lat=50.4276&lon=2.8255&radius=600");
    assert_eq!(s, 200);
    assert!(v.as_array().unwrap().iter().any(|x| x["name"] == "Lens"), "{v}");
}

#[test]
fn departures_from_lens() {
    let _d = require_data!();
    let (s, v) = get(&format!("/api/stops/{LENS}/departures?date=2025-02-04&time=07:00&limit=5"));
    assert_eq!(s, 200, "{v}");
    let deps = v.as_array().unwrap();
    assert_eq!(deps.len(), 5);
    let times: Vec<&str> = deps.iter().map(|d| d["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "sorted: {times:?}");
    assert!(times[0] >= "2025-02-04T07:00");
    // A stop point id with a space, percent-encoded.
    let (s, _) = get("/api/stops/ter:StopPoint:OCETrain%20TER-87345025/departures?date=2025-02-04&time=07:00");
    assert_eq!(s, 200);
}

#[test]
fn bad_input_gets_a_json_4xx_and_the_server_keeps_serving() {
    let _d = require_data!();
    assert_error("/api/plan?to=50.6,3.0", 400, "missing_parameter");
    assert_error("/api/plan?from=50.4,def&to=50.6,3.0", 400, "invalid_coordinates");
    // Text is a place name (names may hold commas): an unknown one is a 404 with a way out.
    assert_error("/api/plan?from=abc,def&to=50.6,3.0", 404, "unknown_place");
    assert_error("/api/plan?from=95,3&to=50.6,3.0", 400, "invalid_coordinates");
    assert_error("/api/plan?from=48.85,-60.0&to=50.6,3.0&date=2025-02-04", 422, "outside_area");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&date=2030-01-01"), 422, "date_outside_validity");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&date=2025-13-45"), 400, "invalid_date");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&time=25h"), 400, "invalid_time");
    assert_error(&format!("/api/plan?from=ter:nope&to={LILLE}&date=2025-02-04"), 404, "unknown_place");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&date=2025-02-04&window=100000"), 422, "too_big");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&date=2025-02-04&num_itineraries=1000"), 422, "too_big");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&date=2025-02-04&max_walk=-3"), 400, "invalid_parameter");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&modes=teleport"), 400, "invalid_parameter");
    assert_error(&format!("/api/plan?from={LENS}&to={LILLE}&arrive_by=maybe"), 400, "invalid_parameter");
    assert_error("/api/stops", 400, "missing_parameter");
    assert_error("/api/stops?q=lens&limit=100000", 422, "too_big");
    assert_error("/api/stops/near?lat=50.4", 400, "missing_parameter");
    assert_error("/api/stops/near?lat=50.4&lon=2.8&radius=1e9", 422, "too_big");
    assert_error("/api/stops/ter:nope/departures", 404, "unknown_stop");
    assert_error("/api/nothing", 404, "not_found");
    let r = reqwest::blocking::Client::new().post(format!("{}/api/plan", server())).send().unwrap();
    assert!(r.status().is_client_error());
    // Still serving.
    assert_eq!(get("/health").0, 200);
}

#[test]
fn an_impossible_journey_says_so_in_words() {
    let _d = require_data!();
    // Lens -> Lille by bus only: TER coaches exist but not between these at 23:50 on a Sunday.
    let (s, v) = get(&format!("/api/plan?from={LENS}&to={LILLE}&date=2025-02-09&time=23:50&modes=tram&window=10"));
    assert_eq!(s, 200);
    assert!(v["itineraries"].as_array().unwrap().is_empty());
    assert!(v["message"].as_str().unwrap().contains("No journey"), "{v}");
}

#[test]
fn isochrone_and_access_endpoints() {
    let _d = require_data!();
    let (s, v) = get("/api/isochrone?from=50.4276,2.8255&date=2025-02-04&time=07:00&window=30&cutoffs=30,60");
    assert_eq!(s, 200, "{v}");
    let f = v["features"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert!(f[1]["properties"]["area_km2"].as_f64().unwrap() > f[0]["properties"]["area_km2"].as_f64().unwrap());
    assert_eq!(f[0]["geometry"]["type"], "MultiPolygon");
    let (s, v) = get("/api/access?from=50.4276,2.8255&destinations=hospitals&date=2025-02-04&window=07:00-07:30&cutoffs=30");
    assert_eq!(s, 200, "{v}");
    let t = v["indicators"]["time_nearest_min_p50"].as_f64().unwrap();
    assert!(t < 30.0, "a hospital near Lens station: {t}");
    assert!(v["indicators"]["count_within_30min_p50"].as_f64().unwrap() >= 1.0);
    let (_, v) = get("/api/opportunities");
    assert_eq!(v[0]["name"], "hospitals");
    assert_error("/api/access?from=50.4276,2.8255&destinations=nope&date=2025-02-04", 404, "unknown_destinations");
    assert_error("/api/access?from=50.4276,2.8255&date=2025-02-04", 400, "missing_parameter");
    assert_error("/api/isochrone?from=50.4276,2.8255&date=2025-02-04&mode=rocket", 400, "invalid_parameter");
    assert_error("/api/isochrone?from=50.4276,2.8255&date=2025-02-04&cutoffs=500", 422, "too_big");
    assert_error("/api/isochrone?from=50.4276,2.8255&date=2025-02-04&window=10:00-09:00", 400, "invalid_parameter");
}

#[test]
fn compare_endpoint_runs_a_shipped_scenario_and_refuses_bad_ones() {
    let _d = require_data!();
    let (s, v) = get("/api/scenarios");
    assert_eq!(s, 200);
    let list = v.as_array().unwrap();
    assert!(list.iter().any(|x| x["id"] == "ter-lien-rapide-lille-henin" && x["valid"] == true), "{v}");
    assert!(list.iter().any(|x| x["id"] == "poa-nova-linha" && x["valid"] == false), "the Porto Alegre scenario does not apply to TER");
    let post = |body: serde_json::Value| {
        let r = reqwest::blocking::Client::new().post(format!("{}/api/compare", server())).json(&body).send().unwrap();
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap())
    };
    let (s, v) = post(serde_json::json!({"scenario": "lens-nouvel-hopital", "params": {"date": "2025-02-04", "window": "07:00-07:30", "cutoffs": "30,60"}}));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["origins"]["features"].as_array().unwrap().len(), 330);
    assert!(v["text"].as_str().unwrap().contains("Nouvel hôpital"));
    assert!(v["summary"]["per_cutoff"][0]["losing"].as_f64().unwrap() == 0.0);
    let (s, v) = post(serde_json::json!({"scenario": "nope"}));
    assert_eq!((s, v["error"].as_str()), (404, Some("unknown_scenario")));
    let (s, v) = post(serde_json::json!({"scenario": {"name": "x", "modifications": [{"type": "remove_route", "route_id": "nope"}]}, "params": {"date": "2025-02-04"}}));
    assert_eq!((s, v["error"].as_str()), (422, Some("invalid_scenario")), "{v}");
    let r = reqwest::blocking::Client::new().post(format!("{}/api/compare", server())).header("content-type", "application/json").body("not json").send().unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// A raw HTTP/1.1 exchange, so that Host, chunked bodies and methods are exactly as sent.
fn raw(request: &str) -> String {
    use std::io::{Read, Write};
    let addr = server().trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn a_web_page_elsewhere_cannot_drive_the_local_server() {
    let _d = require_data!();
    // No wildcard CORS on answers.
    let r = reqwest::blocking::Client::new().get(format!("{}/api/info", server())).header("origin", "https://evil.example").send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // A foreign Host (DNS rebinding) is refused; localhost and 127.0.0.1 are served.
    let a = raw("GET /api/info HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 403") && a.contains("foreign_host"), "{a}");
    for host in ["localhost:8080", "127.0.0.1", "[::1]:8080"] {
        let a = raw(&format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
        assert!(a.starts_with("HTTP/1.1 200"), "{host}: {a}");
    }
    // A text/plain POST (a "simple" cross-site request, no preflight) is refused: 415.
    let body = r#"{"scenario": "nope"}"#;
    let a = raw(&format!("POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
    assert!(a.starts_with("HTTP/1.1 415"), "{a}");
    // A chunked JSON body is read (404: the scenario is unknown, so the body was parsed).
    let a = raw(&format!("POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n", body.len()));
    assert!(a.starts_with("HTTP/1.1 404") && a.contains("unknown_scenario"), "{a}");
    // Over 1 MiB, chunked or sized: 413.
    let big = format!("{{\"scenario\": \"{}\"}}", "x".repeat(1_100_000));
    let a = raw(&format!("POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n", big.len()));
    assert!(a.starts_with("HTTP/1.1 413"), "{}", &a[..a.len().min(300)]);
    let a = raw(&format!("POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{big}", big.len()));
    assert!(a.starts_with("HTTP/1.1 413"), "{}", &a[..a.len().min(300)]);
    // OPTIONS is answered (no CORS grant for an origin not allowed).
    let a = raw("OPTIONS /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 204") && !a.to_ascii_lowercase().contains("access-control-allow-origin"), "{a}");
    // The server still serves.
    assert_eq!(get("/health").0, 200);
}

#[test]
fn allowed_origins_and_public_hosts_are_honoured() {
    let p = terril::server::AccessPolicy { allow_origins: vec!["https://carto.example.org".into()], hosts: vec!["terril.example.org".into()] };
    assert!(p.host_allowed("terril.example.org:443") && p.host_allowed("localhost") && p.host_allowed("[::1]:80"));
    assert!(!p.host_allowed("evil.example") && !p.host_allowed("terril.example.org.evil.example"));
    assert!(p.origin_allowed("https://carto.example.org") && !p.origin_allowed("https://evil.example"));
}

#[test]
fn matrix_endpoints_answer_points_and_sets_within_their_budget() {
    let _d = require_data!();
    let body = serde_json::json!({
        "origins": [{"id": "lens", "lat": 50.4276, "lon": 2.8255}, {"id": "bethune", "lat": 50.5213, "lon": 2.6406}],
        "destinations": [{"id": "lille", "lat": 50.6365, "lon": 3.0705}],
        "params": {"date": "2025-02-04", "window": "07:00-08:00", "transfer_slack": "0"}
    });
    let r = reqwest::blocking::Client::new().post(format!("{}/api/matrix", server())).json(&body).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert_eq!(v["parameters"]["transfer_slack_s"], 0);
    let lens = v["rows"][0]["travel_time_p50"].as_u64().expect("Lens reaches Lille Flandres by train");
    assert!((20..=90).contains(&lens), "{lens} min");
    // The same with the trip's breakdown: a train ride, parts summing to the time.
    let mut body = body;
    body["params"]["breakdown"] = "true".into();
    body["params"]["unit"] = "seconds".into();
    let v: Value = reqwest::blocking::Client::new().post(format!("{}/api/matrix", server())).json(&body).send().unwrap().json().unwrap();
    let row = &v["rows"][0];
    let parts: f64 = ["access_time_s", "wait_time_s", "ride_time_s", "transfer_time_s", "egress_time_s"].iter().map(|k| row[k].as_f64().unwrap()).sum();
    assert_eq!(parts, row["travel_time_p50_s"].as_f64().unwrap(), "{row}");
    assert!(row["n_rides"].as_f64().unwrap() >= 1.0 && row["ride_time_s"].as_f64().unwrap() >= 15.0 * 60.0, "{row}");
    // Over the work budget: refused before any search.
    let many: Vec<Value> = (0..10_000).map(|i| serde_json::json!({"id": i.to_string(), "lat": 50.4 + (i % 100) as f64 * 0.001, "lon": 2.8 + (i / 100) as f64 * 0.001})).collect();
    let body = serde_json::json!({"origins": many, "params": {"date": "2025-02-04", "window": "07:00-09:00"}});
    let t = std::time::Instant::now();
    let r = reqwest::blocking::Client::new().post(format!("{}/api/matrix", server())).json(&body).send().unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(t.elapsed().as_secs() < 10);
    let (s, v) = get("/api/matrix?origins=communes&destinations=hospitals&date=2025-02-04&window=07:00-07:10&max_rides=0");
    assert_eq!((s, v["error"].as_str()), (422, Some("too_big")), "{v}");
}

/// A second server, on Porto Alegre (where an analysis of every hexagon takes seconds),
/// with one analysis at a time, a 2-second limit and half a second of queueing.
fn limited_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let mut hex = terril::analysis::opportunities::load(&data_dir().unwrap().join("porto-alegre/poa_hexgrid.csv"), &Default::default()).unwrap();
        hex.name = "hex".into();
        let st = Arc::new(terril::server::AppState::new(Router::new(poa().clone()), vec![hex]).with_limits(1, std::time::Duration::from_secs(2), std::time::Duration::from_millis(500)));
        spawn_server(st)
    })
}

#[test]
fn expensive_requests_are_bounded_in_number_and_time_and_stop_when_the_client_leaves() {
    let _cpu = cpu_heavy();
    let _d = require_data!();
    let base = limited_server().to_string();
    // A long analysis: every hexagon to every hexagon, 2 hours of departures.
    let slow = format!("{base}/api/access/map?origins=hex&destinations=hex&date=2019-05-13&window=14:00-16:00&percentiles=5,25,50,75,95");
    let b2 = slow.clone();
    let t = std::time::Instant::now();
    let first = std::thread::spawn(move || {
        let r = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap().get(&b2).send().unwrap();
        (r.status().as_u16(), r.headers().get("retry-after").is_some(), r.text().unwrap())
    });
    std::thread::sleep(std::time::Duration::from_millis(400));
    // While it runs, another analysis is refused at once: 503 with Retry-After.
    let r = reqwest::blocking::get(format!("{base}/api/access?from=-30.0346,-51.2177&destinations=hex&date=2019-05-13&window=14:00-14:10")).unwrap();
    if r.status().as_u16() != 503 {
        let (s, _, b) = first.join().unwrap();
        panic!("second request {} while the first gave {s} {}", r.status(), &b[..b.len().min(300)]);
    }
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().unwrap().contains("busy"));
    // Journeys are not analyses: they are answered meanwhile.
    let r = reqwest::blocking::get(format!("{base}/api/plan?from=-30.0346,-51.2177&to=-30.0277,-51.2278&date=2019-05-13&time=14:00")).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // The long one stops at its 2-second limit.
    let (status, retry, body) = first.join().unwrap();
    assert_eq!((status, retry), (503, true), "{}", &body[..body.len().min(300)]);
    assert!(body.contains("timeout") && body.contains("2 s"), "{}", &body[..body.len().min(300)]);
    assert!(t.elapsed().as_secs() < 15, "stopped near its limit ({:?})", t.elapsed());
    // A client that leaves: its analysis stops, and the slot is free again soon.
    let _ = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_millis(300)).build().unwrap().get(&slow).send();
    let t = std::time::Instant::now();
    loop {
        let r = reqwest::blocking::get(format!("{base}/api/access?from=-30.0346,-51.2177&destinations=hex&date=2019-05-13&window=14:00-14:10")).unwrap();
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(t.elapsed().as_secs() < 5, "the abandoned analysis still holds the slot after {:?}", t.elapsed());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn half_sent_requests_are_dropped_and_the_server_keeps_answering() {
    let _d = require_data!();
    use std::io::{Read, Write};
    let addr = server().trim_start_matches("http://").to_string();
    let mut slow: Vec<std::net::TcpStream> = (0..300)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    assert_eq!(get("/health").0, 200, "answered while 300 connections hang");
    // The server drops a connection whose headers never end.
    let s = &mut slow[0];
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let t = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(t.elapsed().as_secs() <= 15, "closed after the header timeout, not left open ({:?})", t.elapsed());
    drop(slow);
    assert_eq!(get("/health").0, 200);
}

#[test]
fn metrics_and_info_are_fit_to_publish() {
    let _d = require_data!();
    assert_eq!(get("/api/plan?from=ter:StopArea:OCE87345025&to=ter:StopArea:OCE87286005&date=2025-02-04&time=07:00").0, 200);
    let m = reqwest::blocking::get(format!("{}/metrics", server())).unwrap().text().unwrap();
    assert!(m.contains("# TYPE terril_http_requests_total counter"), "{m}");
    assert!(m.contains("terril_http_requests_total{endpoint=\"/api/plan\",status=\"200\"}"), "{m}");
    assert!(m.contains("terril_http_request_duration_seconds_bucket{endpoint=\"/api/plan\",le=\"+Inf\"}"), "{m}");
    let (_, info) = get("/api/info");
    let text = info.to_string();
    assert!(!text.contains("/work/") && !text.contains("../"), "no folders of the machine in a public answer: {text}");
    assert_eq!(info["feeds"][0]["source"], "ter-2025-01-22.gtfs.zip");
}

/// The requests that once killed or overloaded the server, over HTTP: each is answered
/// at once as specified, and the server keeps serving.
#[test]
fn hostile_scenarios_are_refused_at_once_over_http() {
    let _d = require_data!();
    let post = |body: &str| {
        let t = std::time::Instant::now();
        let r = reqwest::blocking::Client::new().post(format!("{}/api/compare", server())).header("content-type", "application/json").body(body.to_string()).send().unwrap();
        (r.status().as_u16(), r.text().unwrap(), t.elapsed())
    };
    // The 339-byte request: a 0.001-minute headway over 48 hours.
    let (s, b, t) = post(r#"{"scenario": {"name": "x", "modifications": [{"type": "adjust_frequency", "route_id": "ter:FR:Line::D2D5B3D7-6A1A-4C29-8DF0-3B3D7F6C2F80:", "headway_min": 0.001, "span": {"start": "00:00", "end": "47:59"}}]}, "params": {"date": "2025-02-04"}}"#);
    assert_eq!(s, 422, "{b}");
    assert!(b.contains("headway_min must be 1 to 1440") && t.as_secs() < 5, "{b}");
    let (s, b, _) = post(r#"{"scenario": {"name": "x", "modifications": [{"type": "add_route", "route_id": "Z", "short_name": "Z", "mode": "bus", "stops": [{"stop_id": "ter:StopArea:OCE87345025"}, {"stop_id": "ter:StopArea:OCE87286005"}], "running_times_s": [4294967296], "headway_min": 10, "span": {"start": "06:00", "end": "09:00"}}]}}"#);
    assert_eq!(s, 422, "{b}");
    assert!(b.contains("running_times_s must be 1 to 86400"), "{b}");
    // 100,000 unknown ids: a short answer.
    let ids: Vec<String> = (0..100_000).map(|i| format!("\"x{i}\"")).collect();
    let (s, b, _) = post(&format!(r#"{{"scenario": {{"name": "x", "modifications": [{{"type": "remove_stops", "stop_ids": [{}]}}]}}}}"#, ids.join(",")));
    assert!(s == 422 || s == 413, "{s}");
    assert!(b.len() < 2_000, "{} bytes", b.len());
    // Windows and cutoffs out of range.
    for q in ["window=00:00-23:59", "cutoffs=60,0", "percentiles=1,2,3,4,5,6", "max_walk_time=-1", "walk_speed=NaN", "decay=logistic&decay_width=71582789"] {
        let (s, v) = get(&format!("/api/access?from=50.4276,2.8255&destinations=hospitals&date=2025-02-04&{q}"));
        assert!((400..500).contains(&s), "{q}: {s} {v}");
    }
    assert_eq!(get("/health").0, 200);
}

#[test]
fn answers_are_compressed_with_brotli_or_gzip_for_clients_that_accept_it() {
    let _d = require_data!();
    let url = format!("{}/api/openapi.json", server());
    let plain = reqwest::blocking::get(&url).unwrap();
    assert!(plain.headers().get("content-encoding").is_none(), "no gzip unasked");
    let plain = plain.bytes().unwrap();
    let r = reqwest::blocking::Client::new().get(&url).header("accept-encoding", "gzip").send().unwrap();
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
    let packed = r.bytes().unwrap();
    assert!(packed.len() * 3 < plain.len(), "{} -> {} bytes", plain.len(), packed.len());
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
    // Brotli when the client takes it, smaller than gzip here.
    let r = reqwest::blocking::Client::new().get(&url).header("accept-encoding", "gzip, deflate, br").send().unwrap();
    assert_eq!(r.headers().get("content-encoding").unwrap(), "br");
    let br = r.bytes().unwrap();
    assert!(br.len() < packed.len(), "brotli {} bytes, gzip {}", br.len(), packed.len());
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(&br[..], 4096), &mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
    // The page's JavaScript too; small answers are left as they are.
    let r = reqwest::blocking::Client::new().get(format!("{}/health", server())).header("accept-encoding", "gzip").send().unwrap();
    assert!(r.headers().get("content-encoding").is_none());
}

#[test]
fn a_walk_only_request_gets_a_walk_however_long_and_never_a_bike() {
    let _d = require_data!();
    let (s, v) = get("/api/plan?from=50.4276,2.8255&to=50.4217,2.9508&date=2025-02-04&time=07:00&modes=walk");
    assert_eq!(s, 200, "{v}");
    let direct = v["direct"].as_array().unwrap();
    assert_eq!(direct.len(), 1, "{v}");
    assert_eq!(direct[0]["legs"][0]["mode"], "walk");
    assert!(direct[0]["duration_s"].as_u64().unwrap() > 3600, "a walk over an hour is still given");
    assert!(v["itineraries"].as_array().unwrap().is_empty());
    let (_, v) = get("/api/plan?from=50.4276,2.8255&to=50.4217,2.9508&date=2025-02-04&time=07:00&modes=bike");
    let modes: Vec<&str> = v["direct"].as_array().unwrap().iter().map(|d| d["legs"][0]["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, vec!["bike"]);
}

/// Issue 12: places by name. "harnes" finds the commune; Hénin-Beaumont -> "Centre
/// hospitalier de Lens" by name, arriving by 08:30, gives a train journey with its walks;
/// with too short a walking limit the answer says so and offers the nearest feasible
/// walk; Lens -> Lens is a clear message.
#[test]
fn journeys_by_place_name_with_their_walking_and_their_reasons() {
    let _d = require_data!();
    let (s, v) = get("/api/places?q=harnes");
    assert_eq!(s, 200);
    assert_eq!((v[0]["name"].as_str(), v[0]["kind"].as_str()), (Some("Harnes"), Some("commune")), "{v}");
    let (_, v) = get("/api/places?q=centre%20hopsitalier%20de%20lens");
    assert_eq!((v[0]["name"].as_str(), v[0]["commune"].as_str()), (Some("CENTRE HOSPITALIER DE LENS"), Some("Lens")), "a typo is forgiven: {v}");
    let plan = |walk: u32| get(&format!("/api/plan?from=H%C3%A9nin-Beaumont&to=Centre%20hospitalier%20de%20Lens&date=2025-02-04&time=08:30&arrive_by=true&max_walk={walk}"));
    let (s, v) = plan(30);
    assert_eq!(s, 200, "{v}");
    let it = &v["itineraries"][0];
    let modes: Vec<&str> = it["legs"].as_array().unwrap().iter().map(|l| l["mode"].as_str().unwrap()).collect();
    assert!(modes.contains(&"rail") && modes.first() == Some(&"walk") && modes.last() == Some(&"walk"), "{modes:?}");
    assert!(it["end_time"].as_str().unwrap() <= "2025-02-04T08:30:00+01:00", "{it}");
    assert!(v["to"]["name"].as_str().unwrap().contains("CENTRE HOSPITALIER DE LENS") && v["walk_extended_min"].is_null(), "{v}");
    // 15 minutes of walking is not enough from the commune's centre: the reason, and the
    // journey found with a longer walk.
    let (s, v) = plan(15);
    assert_eq!(s, 200);
    assert_eq!(v["reason"], "no_transit_within_walk", "{v}");
    assert!(v["walk_extended_min"].as_u64().is_some_and(|m| m > 15) && !v["itineraries"].as_array().unwrap().is_empty(), "{v}");
    assert_error("/api/plan?from=Lens&to=lens&date=2025-02-04&time=08:30", 422, "same_place");
    assert_error("/api/plan?from=Zzyzx%20Qwerty&to=Lens&date=2025-02-04", 404, "unknown_place");
}

/// Issue 12: every error the API can give exists in French (`lang=fr` or
/// `Accept-Language: fr`), the English kept in `message_en`. The codes are read from the
/// sources, so a new code without a French sentence fails here.
#[test]
fn every_error_code_has_a_french_sentence_and_the_api_speaks_it() {
    let _d = require_data!();
    let mut codes = std::collections::BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for start in ["QueryError::new(", "QueryError::bad("] {
                    for (i, _) in text.match_indices(start) {
                        let rest = &text[i + start.len()..];
                        let Some(q) = rest.find('"') else { continue };
                        if rest[..q].contains(')') {
                            continue; // a variable, not a literal code
                        }
                        let code: String = rest[q + 1..].chars().take_while(|c| *c != '"').collect();
                        if code.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !code.is_empty() {
                            codes.insert(code);
                        }
                    }
                }
            }
        }
    }
    assert!(codes.len() > 15 && codes.contains("same_place") && codes.contains("unknown_place"), "{codes:?}");
    let missing: Vec<&String> = codes.iter().filter(|c| terril::api::message_fr(c).is_none()).collect();
    assert!(missing.is_empty(), "error codes without a French sentence: {missing:?}");
    // Over HTTP: lang=fr, then Accept-Language.
    let (s, v) = get("/api/plan?from=Lens&to=lens&date=2025-02-04&lang=fr");
    assert_eq!((s, v["error"].as_str()), (422, Some("same_place")));
    assert!(v["message"].as_str().unwrap().contains("même lieu") && v["message_en"].as_str().unwrap().contains("same place"), "{v}");
    let r = reqwest::blocking::Client::new().get(format!("{}/api/plan?from=Zzyzx&to=Lens&date=2025-02-04", server())).header("accept-language", "fr-FR,fr;q=0.9").send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: Value = r.json().unwrap();
    assert!(v["message"].as_str().unwrap().starts_with("Ce lieu est inconnu"), "{v}");
    let (_, v) = get("/api/plan?from=Zzyzx&to=Lens&date=2025-02-04");
    assert!(v["message"].as_str().unwrap().contains("no stop, commune"), "English by default: {v}");
}

/// Issue 12: walking directions name the streets. On Porto Alegre (the shared data's OSM
/// extract), walks between hexagons list the OSM ways they follow: every name is the
/// `name` (or `ref`) of a highway in the extract (read here with osmpbfreader), two
/// consecutive steps never carry the same name, and the steps add up to the walk on
/// streets (the leg less its off-street ends).
#[test]
fn walking_steps_name_the_streets_of_the_extract() {
    let d = require_data!();
    let mut names = std::collections::HashSet::new();
    let mut pbf = osmpbfreader::OsmPbfReader::new(std::fs::File::open(d.join("porto-alegre/poa_osm.pbf")).unwrap());
    for w in pbf.iter_ways().map(Result::unwrap) {
        if w.tags.contains_key("highway") {
            names.extend(["name", "ref"].iter().filter_map(|k| w.tags.get(*k)).map(|v| v.to_string()));
        }
    }
    let hex = terril::analysis::opportunities::load(&d.join("porto-alegre/poa_hexgrid.csv"), &Default::default()).unwrap();
    let router = Router::new(poa().clone());
    let (mut legs, mut multi) = (0, 0);
    for i in (0..hex.points.len()).step_by(97).take(12) {
        let (a, b) = (hex.points[i], hex.points[(i * 7 + 301) % hex.points.len()]);
        let place = |p: terril::model::geo::LatLon| terril::route::plan::Place::parse(&format!("{},{}", p.lat, p.lon), "from").unwrap();
        let mut req = terril::route::plan::PlanRequest::new(place(a), place(b), jiff::civil::date(2019, 5, 13), 8 * 3600);
        req.modes = 0;
        let Ok(plan) = router.plan(&req) else { continue };
        let Some(leg) = plan.direct.first().map(|it| &it.legs[0]) else { continue };
        let steps = &leg.steps;
        assert!(!steps.is_empty(), "a walk of {} m on streets lists its streets", leg.distance_m);
        for s in steps {
            if let Some(n) = &s.street {
                assert!(names.contains(n), "{n:?} is not a highway name of the extract");
            }
        }
        assert!(steps.windows(2).all(|w| w[0].street != w[1].street), "{steps:?}");
        let on_streets: f64 = steps.iter().map(|s| s.distance_m).sum();
        assert!(on_streets <= leg.distance_m + 1.0 && on_streets >= leg.distance_m - 2.0 * terril::route::plan::MAX_SNAP_M.min(300.0), "{on_streets} vs {}", leg.distance_m);
        legs += 1;
        multi += (steps.iter().filter(|s| s.street.is_some()).count() >= 2) as usize;
    }
    assert!(legs >= 8 && multi >= legs / 2, "{legs} walks, {multi} with two named streets or more");
}

/// Issue 13: the report from the server (the page's "Exporter le rapport"): the HTML of
/// `terril report health` for the loaded communes, and its commune table as CSV with the
/// same numbers; `only` keeps a type of facility and says so when none is left.
#[test]
fn the_health_report_over_http_and_its_commune_table() {
    let _cpu = cpu_heavy();
    let _d = require_data!();
    let q = "date=2025-02-04&window=07:00-07:20&only=facility_type%3Dcentre%20hospitalier";
    let r = reqwest::blocking::get(format!("{}/api/report/health?{q}", server())).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().unwrap();
    assert_eq!(html.matches("<tr class=\"origin\">").count(), 330);
    assert!(html.contains("Centre Hospitalier") || html.contains("centre hospitalier"), "the filter is said");
    let r = reqwest::blocking::get(format!("{}/api/report/health.csv?{q}", server())).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = r.text().unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 330);
    let sum = |c: &str| rows.iter().map(|r| r[col(c)].parse::<f64>().unwrap()).sum::<f64>();
    // The key figures of the HTML are the table's sums.
    let figure = |label: &str| -> f64 {
        let i = html.find(label).unwrap_or_else(|| panic!("{label}"));
        let b = html[..i].rfind("<b>").unwrap();
        html[b + 3..i].trim_end_matches("</b>").replace('\u{202f}', "").parse().unwrap()
    };
    assert!((figure("</b>habitants<") - sum("population")).abs() <= 1.0);
    assert!((figure("</b>habitants à plus de 30 min") - sum("beyond_30_min")).abs() <= 1.0);
    assert!((figure("</b>habitants sans établissement à moins de 120 min") - sum("none_within_120_min")).abs() <= 1.0);
    assert_eq!(rows.iter().filter(|r| &r[col("origins")] == "grid").count(), 5, "the five Filosofi communes");
    // The same table with the communes' outlines, as FlatGeobuf for QGIS.
    let r = reqwest::blocking::get(format!("{}/api/report/health.fgb?{q}", server())).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let bytes = r.bytes().unwrap();
    let mut cur = std::io::Cursor::new(bytes.to_vec());
    let reader = flatgeobuf::FgbReader::open(&mut cur).unwrap();
    assert_eq!(reader.header().geometry_type(), flatgeobuf::GeometryType::MultiPolygon);
    let mut it = reader.select_all().unwrap();
    let mut n = 0;
    let mut pop = 0.0;
    while let Some(f) = flatgeobuf::FallibleStreamingIterator::next(&mut it).unwrap() {
        n += 1;
        let props = geozero::FeatureProperties::properties(f).unwrap();
        pop += props["population"].parse::<f64>().unwrap_or_else(|e| panic!("{props:?}: {e}"));
    }
    assert_eq!(n, 330);
    assert!((pop - sum("population")).abs() < 1.0);
    assert_error("/api/report/health?only=facility_type%3Dzzz", 422, "no_destination");
    assert_error("/api/report/health?only=nocolumn%3Dx", 422, "no_destination");
    assert_error("/api/report/health?cutoffs=30,150&max_trip_duration=120", 400, "invalid_parameter");
}

/// Issue 13: the site sheet over HTTP: JSON and the page, its errors named.
#[test]
fn the_site_sheet_over_http() {
    let _cpu = cpu_heavy();
    let _d = require_data!();
    let (s, v) = get("/api/sheet?site=50.4355,2.8110&shifts=06:00-14:00&date=2025-02-04");
    assert_eq!(s, 200, "{v}");
    assert!(v["stops"].as_array().unwrap().iter().any(|x| x["name"] == "Lens"));
    assert!(v["shifts"][0]["communes"].as_array().unwrap().iter().any(|c| c["name"] == "Lens"), "the server's communes are used");
    let r = reqwest::blocking::get(format!("{}/api/sheet.html?site=50.4355,2.8110&shifts=06:00&date=2025-02-04", server())).unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.text().unwrap().contains("Poste de 06:00 à 14:00"));
    assert_error("/api/sheet?site=50.4355,2.8110", 400, "missing_parameter");
    assert_error("/api/sheet?shifts=06:00", 400, "missing_parameter");
    assert_error("/api/sheet?site=50.4355,2.8110&shifts=01:00,02:00,03:00,04:00,05:00,06:00,07:00", 422, "too_big");
    assert_error("/api/sheet?site=50.4355,2.8110&shifts=25:00", 400, "invalid_parameter");
    assert_error("/api/sheet?site=nulle-part-xyz&shifts=06:00", 404, "unknown_place");
}
