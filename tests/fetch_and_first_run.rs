//! `terril fetch` against a local server shaped like transport.data.gouv.fr and
//! Geofabrik, serving the real files of ../shared/data; and the first-run decision
//! (data present / fetch works / offline -> demo), each checked by what is served.

mod common;
use common::http_server::{route, start, TestServer};
use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use terril::fetch::{fetch_all, load_sources, Sources};
use terril::first_run::{decide, Choice};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("terril-{name}-{}-{}", std::process::id(), jiff::Timestamp::now().as_nanosecond()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

type Hits = std::sync::Arc<std::sync::Mutex<Vec<(String, Option<u64>)>>>;

/// API answers shaped like the access point's: a dataset by slug, and the dataset list.
fn portal(data: &Path, zip_cuts: u32, pbf_cuts: u32) -> TestServer {
    portal_with_hits(data, zip_cuts, pbf_cuts).0
}

fn portal_with_hits(data: &Path, zip_cuts: u32, pbf_cuts: u32) -> (TestServer, Hits) {
    let ter = std::fs::read(data.join("ter/ter-2025-01-22.gtfs.zip")).unwrap();
    let pbf = std::fs::read(data.join("sao-paulo/spo_osm.pbf")).unwrap();
    let mut routes = HashMap::new();
    routes.insert("/files/ter.zip".to_string(), route(ter, "application/zip", zip_cuts));
    routes.insert("/files/region.osm.pbf".to_string(), route(pbf, "application/octet-stream", pbf_cuts));
    routes.insert("/files/not-a-zip.zip".to_string(), route(b"<html>maintenance</html>".to_vec(), "text/html", 0));
    let files = start(routes);
    let base_files = files.base.clone();

    let dataset = |slug: &str, title: &str, url: &str| {
        serde_json::json!({
            "id": format!("id-{slug}"), "slug": slug, "title": title, "licence": "odc-odbl",
            "resources": [
                { "format": "NeTEx", "url": format!("{base_files}/files/none.zip"), "updated": "2025-01-22T00:00:00Z" },
                { "format": "GTFS", "url": format!("{base_files}{url}"), "updated": "2025-01-22T00:00:00Z", "is_available": true },
                { "format": "GTFS", "url": format!("{base_files}/files/old.zip"), "updated": "2019-01-01T00:00:00Z", "is_available": true }
            ]
        })
    };
    let ter_ds = dataset("horaires-des-lignes-ter-sncf", "Horaires des lignes TER SNCF", "/files/ter.zip");
    let broken_ds = dataset("reseau-en-travaux", "Réseau en travaux", "/files/not-a-zip.zip");
    let list = serde_json::json!([ter_ds, broken_ds, { "slug": "velos", "title": "Vélos en libre service", "resources": [{ "format": "gbfs", "url": "x" }] }]);
    let mut api = HashMap::new();
    api.insert("/api/datasets/horaires-des-lignes-ter-sncf".to_string(), route(ter_ds.to_string().into_bytes(), "application/json", 0));
    api.insert("/api/datasets/reseau-en-travaux".to_string(), route(broken_ds.to_string().into_bytes(), "application/json", 0));
    api.insert("/api/datasets".to_string(), route(list.to_string().into_bytes(), "application/json", 0));
    let mut s = start(api);
    s.base = format!("{}|{}", s.base, base_files);
    (s, files.hits)
}

fn sources(srv: &TestServer, gtfs: &str, osm: bool) -> Sources {
    let (api, files) = srv.base.split_once('|').unwrap();
    let mut text = format!("api = \"{api}/api\"\n{gtfs}\n");
    if osm {
        text.push_str(&format!("[osm]\nname = \"region\"\nurl = \"{files}/files/region.osm.pbf\"\n"));
    }
    let dir = tmp("sources");
    std::fs::write(dir.join("sources.toml"), text).unwrap();
    load_sources(&dir.join("sources.toml")).unwrap()
}

#[test]
fn the_shipped_sources_file_parses() {
    let s = load_sources(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/feeds/sources.toml"))).unwrap();
    assert!(s.api.starts_with("https://transport.data.gouv.fr/api"));
    let names: Vec<&str> = s.gtfs.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, vec!["ter", "tadao", "transvilles", "eveole", "arc-en-ciel"]);
    assert!(s.osm.unwrap().url.contains("nord-pas-de-calais"));
}

#[test]
fn fetch_downloads_checks_and_records_real_files() {
    let d = require_data!();
    let srv = portal(&d, 0, 0);
    let s = sources(&srv, "[[gtfs]]\nname = \"ter\"\ndataset = \"horaires-des-lignes-ter-sncf\"\n[[gtfs]]\nname = \"ter-by-search\"\nsearch = \"Lignes TER\"\n", true);
    let root = tmp("fetch");
    let entries = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!(entries.len(), 3);
    let (size, sha) = terril::build::sha256_file(&d.join("ter/ter-2025-01-22.gtfs.zip")).unwrap();
    assert_eq!((entries[0].size, entries[0].sha256.as_str()), (size, sha.as_str()), "the newest GTFS resource, byte for byte");
    assert_eq!(entries[1].dataset, "horaires-des-lignes-ter-sncf", "found by search over titles");
    assert_eq!(entries[0].licence, "odc-odbl");
    assert_eq!(entries[2].kind, "osm");
    let lock = std::fs::read_to_string(root.join("feeds/sources.lock")).unwrap();
    assert!(lock.contains(&sha) && lock.contains("odc-odbl") && lock.contains("region.osm.pbf"));
    assert!(!std::fs::read_dir(root.join("feeds")).unwrap().any(|e| e.unwrap().path().to_string_lossy().ends_with(".part")));
    // The fetched folders build as they are.
    let net = build_net(&[root.join("feeds")], Some(root.join("osm/region.osm.pbf")));
    assert_eq!(net.timetable.feeds.len(), 2);
}

#[test]
fn a_cut_connection_resumes_with_a_range_request() {
    let d = require_data!();
    let (srv, file_hits) = portal_with_hits(&d, 1, 0);
    let s = sources(&srv, "[[gtfs]]\nname = \"ter\"\ndataset = \"horaires-des-lignes-ter-sncf\"\n", false);
    let root = tmp("resume");
    let err = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(err.contains("connection") || err.contains("bytes"), "{err}");
    let part = root.join("feeds/ter.zip.part");
    let partial = std::fs::metadata(&part).unwrap().len();
    assert!(partial > 0, "the first half is kept");
    assert!(!root.join("feeds/ter.zip").exists(), "nothing half-written in place");
    let entries = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    let (size, sha) = terril::build::sha256_file(&d.join("ter/ter-2025-01-22.gtfs.zip")).unwrap();
    assert_eq!((entries[0].size, entries[0].sha256.clone()), (size, sha));
    let ranges: Vec<Option<u64>> = file_hits.lock().unwrap().iter().filter(|h| h.0 == "/files/ter.zip").map(|h| h.1).collect();
    assert_eq!(ranges, vec![None, Some(partial)], "second request resumes at byte {partial}");
    assert!(!part.exists());
}

#[test]
fn checksum_mismatch_invalid_file_404_and_server_down_are_clear_errors() {
    let d = require_data!();
    let srv = portal(&d, 0, 0);
    let root = tmp("errors");
    let s = sources(&srv, "[[gtfs]]\nname = \"ter\"\ndataset = \"horaires-des-lignes-ter-sncf\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n", false);
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("sha256") && e.contains("removed"), "{e}");
    assert!(!root.join("feeds/ter.zip").exists());
    let s = sources(&srv, "[[gtfs]]\nname = \"x\"\ndataset = \"reseau-en-travaux\"\n", false);
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("not a zip") && e.contains("removed"), "{e}");
    let s = sources(&srv, "[[gtfs]]\nname = \"x\"\ndataset = \"no-such-dataset\"\n", false);
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("404"), "{e}");
    let s = sources(&srv, "[[gtfs]]\nname = \"x\"\nsearch = \"nothing-like-this\"\n", false);
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("no dataset"), "{e}");
    // Server down: a port nobody listens on.
    let dir = tmp("down");
    std::fs::write(dir.join("s.toml"), "api = \"http://127.0.0.1:9/api\"\n[[gtfs]]\nname = \"ter\"\ndataset = \"x\"\n").unwrap();
    let s = load_sources(&dir.join("s.toml")).unwrap();
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("cannot reach") && e.contains("internet"), "{e}");
    assert!(!root.join("feeds/sources.lock").exists(), "no lock for a failed fetch");
}

#[test]
fn first_run_decision_order() {
    let root = tmp("decide");
    let mut never = || -> Result<(), String> { panic!("must not fetch when data is present") };
    std::fs::create_dir_all(root.join("feeds/tiny")).unwrap();
    for f in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, root.join("feeds/tiny").join(f.file_name().unwrap())).unwrap();
    }
    assert_eq!(decide(&root, None, &mut never), Choice::LocalData);
    std::fs::write(root.join("network.bin"), b"x").unwrap();
    assert_eq!(decide(&root, None, &mut never), Choice::NetworkFile(root.join("network.bin")));
    let empty = tmp("decide-empty");
    let mut offline = || -> Result<(), String> { Err("cannot reach the access point".into()) };
    assert_eq!(decide(&empty, None, &mut offline), Choice::Demo("cannot reach the access point".into()));
    let shared = root.join("feeds/tiny/stops.txt");
    assert_eq!(decide(&empty, Some(&shared), &mut offline), Choice::SharedTer(shared.clone()));
    let e2 = empty.clone();
    let mut works = move || -> Result<(), String> {
        std::fs::create_dir_all(e2.join("feeds")).unwrap();
        std::fs::write(e2.join("feeds/x.zip"), b"zip").unwrap();
        Ok(())
    };
    assert_eq!(decide(&empty, None, &mut works), Choice::Fetched);
}

/// Starts `terril serve --port 0` in `dir`; returns the base URL and the child.
fn serve_in(dir: &Path, sources: &Path) -> (String, std::process::Child) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .current_dir(dir)
        .env("TERRIL_SOURCES", sources)
        .args(["serve", "--port", "0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let Some(Ok(l)) = lines.next() else { break };
        if let Some(rest) = l.split("on http://").nth(1) {
            let url = format!("http://{}", rest.split('/').next().unwrap());
            std::thread::spawn(move || for _ in lines {});
            return (url, child);
        }
    }
    let _ = child.kill();
    panic!("terril serve did not start");
}

fn info(url: &str) -> serde_json::Value {
    reqwest::blocking::get(format!("{url}/api/info")).unwrap().json().unwrap()
}

#[test]
fn offline_first_run_serves_the_fictional_demo_town() {
    let dir = tmp("offline");
    std::fs::write(dir.join("sources.toml"), "api = \"http://127.0.0.1:9/api\"\n[[gtfs]]\nname = \"tadao\"\nsearch = \"tadao\"\n").unwrap();
    let (url, mut child) = serve_in(&dir, &dir.join("sources.toml"));
    let v = info(&url);
    let _ = child.kill();
    assert_eq!(v["demo"], true);
    assert!(v["title"].as_str().unwrap().contains("FICTIF"));
    assert!(!dir.join("feeds/tadao.zip").exists());
}

#[test]
fn first_run_fetches_then_builds_and_serves_real_data() {
    let d = require_data!();
    let srv = portal(&d, 0, 0);
    let dir = tmp("online");
    let (api, _) = srv.base.split_once('|').unwrap();
    std::fs::write(dir.join("sources.toml"), format!("api = \"{api}/api\"\n[[gtfs]]\nname = \"ter\"\ndataset = \"horaires-des-lignes-ter-sncf\"\n")).unwrap();
    let (url, mut child) = serve_in(&dir, &dir.join("sources.toml"));
    let v = info(&url);
    let plan: serde_json::Value = reqwest::blocking::get(format!("{url}/api/plan?from=ter:StopArea:OCE87345025&to=ter:StopArea:OCE87286005&date=2025-02-04&time=07:00")).unwrap().json().unwrap();
    let _ = child.kill();
    assert_eq!(v["demo"], false);
    assert_eq!(v["feeds"][0]["namespace"], "ter");
    assert!(!plan["itineraries"].as_array().unwrap().is_empty());
    assert!(dir.join("feeds/ter.zip").exists() && dir.join("feeds/sources.lock").exists());
    assert!(dir.join(terril::first_run::CACHE).exists(), "built once, cached");
}

#[test]
fn first_run_uses_local_data_when_present() {
    let dir = tmp("local");
    std::fs::create_dir_all(dir.join("feeds/tiny")).unwrap();
    for f in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join("feeds/tiny").join(f.file_name().unwrap())).unwrap();
    }
    let (url, mut child) = serve_in(&dir, &dir.join("no-sources.toml"));
    let v = info(&url);
    let _ = child.kill();
    assert_eq!(v["feeds"][0]["namespace"], "tiny");
    assert_eq!(v["demo"], false);
}
