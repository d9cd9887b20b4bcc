//! `terril fetch` against local servers on 127.0.0.1 that answer exactly as the national
//! access point (transport-site's `GET /api/datasets`, `GET /api/datasets/{datagouv_id}`)
//! and Geofabrik do, serving real files of ../shared/data; and the first-run decision
//! (data present / fetch works / offline -> demo), each checked by what is served.
//!
//! The shipped `feeds/sources.toml` is fetched as it is, with only the API address and
//! the extract's URL pointed at the local servers. Real GTFS zips of ../shared/data
//! stand in for the datasets' files (TADAO, Transvilles... cannot be had offline).

mod common;
use common::http_server::{etag, route, start_answers, Answer, Route, TestServer};
use common::*;
use std::collections::HashMap;
use std::path::Path;
use terril::fetch::{fetch_all, load_sources, Sources};
use terril::first_run::{decide, Choice};

fn tmp(name: &str) -> TestDir {
    TestDir::new(name)
}

const SNCF_ID: &str = "6853c089b3ed5781f6adfdf7";
const TADAO_ID: &str = "600ee0e9d319b4c4b84bd748";
const TRANSVILLES_ID: &str = "63eb6d550f2b31a8efe618fe";
const EVEOLE_ID: &str = "5fff2eb33452677715ff8fe6";
const NORD_ID: &str = "667005c713503ed936c4be46";
const PDC_ID: &str = "66d25e146c064cce49709399";

/// The access point and Geofabrik, on two local servers.
struct Portal {
    api: TestServer,
    files: TestServer,
    /// Publisher's file per path under /files/.
    routes: HashMap<String, Route>,
}

fn read(d: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(d.join(rel)).unwrap()
}

impl Portal {
    fn start(d: &Path) -> Portal {
        let files_list: Vec<(&str, &str, &'static str)> = vec![
            ("/files/sncf.zip", "ter/ter-2025-01-22.gtfs.zip", "application/zip"),
            ("/files/community-sncf.zip", "ter/ter-2019-09-01.gtfs.zip", "application/zip"),
            ("/files/tadao.zip", "porto-alegre/poa_eptc.zip", "application/zip"),
            ("/files/transvilles.zip", "porto-alegre/poa_trensurb.zip", "application/zip"),
            ("/files/eveole.zip", "sao-paulo/spo_gtfs.zip", "application/zip"),
            ("/files/nord-1.zip", "ter/ter-2019-09-01.gtfs.zip", "application/zip"),
            ("/files/nord-2.zip", "porto-alegre/poa_trensurb.zip", "application/zip"),
            ("/files/nord-3a.zip", "sao-paulo/spo_gtfs.zip", "application/zip"),
            ("/files/nord-4.zip", "porto-alegre/poa_eptc.zip", "application/zip"),
            ("/files/pdc.zip", "porto-alegre/poa_trensurb.zip", "application/zip"),
            ("/files/maintenance.zip", "bassin-minier/hospitals-59-62.csv", "text/html"),
            ("/europe/france/nord-pas-de-calais-latest.osm.pbf", "sao-paulo/spo_osm.pbf", "application/octet-stream"),
        ];
        let mut routes = HashMap::new();
        let mut answers = HashMap::new();
        for (path, rel, ct) in files_list {
            let r = route(read(d, rel), ct, 0);
            routes.insert(path.to_string(), r.clone());
            answers.insert(path.to_string(), Answer::File(r));
        }
        // Geofabrik's .md5 beside the extract: "HASH  FILE".
        let pbf = read(d, "sao-paulo/spo_osm.pbf");
        let md5 = {
            use md5::Digest;
            format!("{:x}  nord-pas-de-calais-latest.osm.pbf\n", md5::Md5::digest(&pbf))
        };
        answers.insert("/europe/france/nord-pas-de-calais-latest.osm.pbf.md5".into(), Answer::File(route(md5.into_bytes(), "text/plain", 0)));
        // The national address base, per département, gzipped (a hand-written sample).
        for dept in ["59", "62"] {
            let r = route(ban_sample_gz(), "application/gzip", 0);
            routes.insert(format!("/data/ban/adresses/latest/csv/adresses-{dept}.csv.gz"), r.clone());
            answers.insert(format!("/data/ban/adresses/latest/csv/adresses-{dept}.csv.gz"), Answer::File(r));
        }
        // INSEE's Filosofi carreaux (a hand-written zip of four cells in INSEE's format).
        let r = route(carreaux_sample_zip(), "application/zip", 0);
        routes.insert("/fr/statistiques/fichier/7655475/Filosofi2019_carreaux_200m_csv.zip".into(), r.clone());
        answers.insert("/fr/statistiques/fichier/7655475/Filosofi2019_carreaux_200m_csv.zip".into(), Answer::File(r));
        // The API's stable resource URLs answer a 302 to the file.
        for (id, file) in [("81001", "sncf"), ("81002", "community-sncf"), ("81003", "tadao"), ("81004", "transvilles"), ("81005", "eveole"), ("81006", "nord-1"), ("81007", "nord-2"), ("81008", "nord-3a"), ("81009", "nord-4"), ("81010", "pdc"), ("81011", "maintenance")] {
            answers.insert(format!("/resources/{id}/download"), Answer::Redirect(format!("/files/{file}.zip")));
        }
        let files = start_answers(answers);
        let f = files.base.clone();
        let size = |rel: &str| std::fs::metadata(d.join(rel)).unwrap().len();
        let res = |id: &str, title: &str, rel: &str, updated: &str| {
            serde_json::json!({
                "datagouv_id": format!("r-{id}"), "id": id.parse::<u64>().unwrap(), "title": title, "format": "GTFS",
                "url": format!("{f}/resources/{id}/download"), "original_url": format!("{f}/original/{id}.zip"),
                "is_available": true, "updated": updated, "filesize": size(rel),
                "metadata": { "start_date": "2025-01-22", "end_date": "2025-04-22" },
                "modes": ["rail"], "features": []
            })
        };
        let dataset = |id: &str, slug: &str, title: &str, licence: &str, resources: Vec<serde_json::Value>| {
            serde_json::json!({
                "datagouv_id": id, "id": id, "slug": slug, "title": title, "licence": licence, "type": "public-transit",
                "page_url": format!("https://transport.data.gouv.fr/datasets/{slug}"), "created_at": "2024-06-01",
                "publisher": { "name": "Publisher", "type": "organization" }, "covered_area": {}, "resources": resources
            })
        };
        let mut community = res("81002", "GTFS enrichi", "ter/ter-2019-09-01.gtfs.zip", "2026-11-01T10:00:00+01:00");
        community["community_resource_publisher"] = "Un réutilisateur".into();
        let sncf = dataset(SNCF_ID, "horaires-sncf", "Horaires SNCF", "odc-odbl", vec![
            serde_json::json!({ "datagouv_id": "r-rt", "title": "Temps réel", "format": "gtfs-rt", "url": format!("{f}/rt/trip-updates"), "is_available": true, "updated": "2026-11-22T06:00:00+01:00" }),
            serde_json::json!({ "datagouv_id": "r-netex", "title": "NeTEx", "format": "NeTEx", "url": format!("{f}/files/netex.zip"), "is_available": true, "updated": "2026-11-20T06:00:00+01:00" }),
            community,
            res("81001", "Horaires SNCF (GTFS)", "ter/ter-2025-01-22.gtfs.zip", "2025-01-22T08:00:00+01:00"),
        ]);
        let list = serde_json::json!([
            sncf.clone(),
            dataset(TADAO_ID, "gtfs-tadao", "Réseau TADAO", "lov2", vec![res("81003", "GTFS TADAO", "porto-alegre/poa_eptc.zip", "2025-01-10T00:00:00+01:00")]),
            dataset(TRANSVILLES_ID, "horaires-du-reseau-transvilles-au-format-gtfs", "Horaires du réseau Transvilles", "lov2", vec![res("81004", "GTFS Transvilles", "porto-alegre/poa_trensurb.zip", "2025-01-10T00:00:00+01:00")]),
            // A GBFS dataset whose slug also has the word "transvilles".
            dataset("gbfs00000000000000000001", "transvilles-velos-gbfs", "Vélos Transvilles", "odc-odbl", vec![serde_json::json!({ "format": "gbfs", "url": format!("{f}/gbfs.json"), "title": "GBFS" })]),
            dataset(EVEOLE_ID, "eveole-douai-reseau-bus-du-syndicat-mixte-des-transports-du-douaisis-smtd", "Évéole Douai", "odc-odbl", vec![res("81005", "GTFS Évéole", "sao-paulo/spo_gtfs.zip", "2025-01-10T00:00:00+01:00")]),
            dataset(NORD_ID, "arrets-horaires-et-circuits-des-lignes-de-transports-en-commun-en-hauts-de-france-59", "Réseau régional Hauts-de-France - Nord", "lov2", vec![
                res("81006", "Périmètre 1", "ter/ter-2019-09-01.gtfs.zip", "2025-01-05T00:00:00+01:00"),
                res("81007", "Périmètre 2", "porto-alegre/poa_trensurb.zip", "2025-01-05T00:00:00+01:00"),
                res("81008", "Périmètre 3A", "sao-paulo/spo_gtfs.zip", "2025-01-05T00:00:00+01:00"),
                res("81009", "Périmètre 4", "porto-alegre/poa_eptc.zip", "2025-01-05T00:00:00+01:00"),
            ]),
            dataset(PDC_ID, "reseau-regional-hauts-de-france-62", "Réseau régional Hauts-de-France - Pas-de-Calais", "lov2", vec![res("81010", "GTFS 62", "porto-alegre/poa_trensurb.zip", "2025-01-05T00:00:00+01:00")]),
            dataset("caudresis0000000000000001", "arc-en-ciel-caudresis-catesis", "Arc-en-Ciel Caudrésis–Catésis", "lov2", vec![res("81011", "GTFS", "bassin-minier/hospitals-59-62.csv", "2025-01-05T00:00:00+01:00")]),
        ]);
        let mut api = HashMap::new();
        api.insert("/api/datasets".to_string(), Answer::Json(200, list.to_string()));
        // By data.gouv.fr id only, as `Repo.get_by(datagouv_id: id)`; a slug is a 404.
        api.insert(format!("/api/datasets/{SNCF_ID}"), Answer::Json(200, sncf.to_string()));
        api.insert("/api/datasets/horaires-sncf".to_string(), Answer::Json(404, r#"{"errors":"dataset not found"}"#.into()));
        api.insert("/api/datasets/horaires-des-lignes-ter-sncf".to_string(), Answer::Json(404, r#"{"errors":"dataset not found"}"#.into()));
        let api = start_answers(api);
        Portal { api, files, routes }
    }

    /// The shipped feeds/sources.toml, pointed at these servers.
    fn shipped_sources(&self) -> Sources {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds/sources.toml")).unwrap();
        let text = text.replace("https://transport.data.gouv.fr/api", &format!("{}/api", self.api.base)).replace("https://download.geofabrik.de", &self.files.base).replace("https://adresse.data.gouv.fr", &self.files.base).replace("https://www.insee.fr", &self.files.base);
        assert!(text.contains(&self.api.base) && text.contains(&self.files.base));
        self.sources_from(&text)
    }

    fn sources_from(&self, text: &str) -> Sources {
        let dir = tmp("sources");
        std::fs::write(dir.join("sources.toml"), text).unwrap();
        load_sources(&dir.join("sources.toml")).unwrap()
    }

    fn gtfs_only(&self, gtfs: &str) -> Sources {
        self.sources_from(&format!("api = \"{}/api\"\n{gtfs}\n", self.api.base))
    }

    fn file_requests(&self) -> usize {
        self.files.hits.lock().unwrap().iter().filter(|h| h.path.starts_with("/files/") || h.path.ends_with(".osm.pbf")).count()
    }
}

/// Four population cells in INSEE's carreaux format (two in Lens, one in Douai, one in
/// Paris), zipped as insee.fr serves them.
fn carreaux_sample_zip() -> Vec<u8> {
    let csv = "Idcar_200m,I_est_200,Idcar_1km,I_est_1km,Idcar_nat,Groupe,Ind,Men,lcog_geo\nCRS3035RES200mN3059200E3811600,1,x,1,x,1,12.5,5,62498\nCRS3035RES200mN3059400E3811600,1,x,1,x,1,3,1,62498\nCRS3035RES200mN3040000E3830000,1,x,1,x,1,7,2,59178\nCRS3035RES200mN2890000E3760000,1,x,1,x,1,2,1,75056\n";
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("carreaux_200m_met.csv", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut z, csv.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

/// The hand-written BAN sample (tests/fixtures/ban), gzipped as adresse.data.gouv.fr serves it.
fn ban_sample_gz() -> Vec<u8> {
    let csv = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ban/adresses-62-sample.csv")).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, &csv).unwrap();
    e.finish().unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    v.sort();
    v
}

#[test]
fn the_shipped_sources_name_the_basin_datasets_by_data_gouv_id() {
    let s = load_sources(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/feeds/sources.toml"))).unwrap();
    assert!(s.api.starts_with("https://transport.data.gouv.fr/api"));
    let ids: Vec<(&str, &str)> = s.gtfs.iter().map(|g| (g.name.as_str(), g.dataset.as_deref().unwrap())).collect();
    assert_eq!(ids, vec![("sncf", SNCF_ID), ("tadao", TADAO_ID), ("transvilles", TRANSVILLES_ID), ("eveole", EVEOLE_ID), ("hdf-nord", NORD_ID), ("hdf-pas-de-calais", PDC_ID)]);
    let osm = s.osm.unwrap();
    assert!(osm.url.ends_with("/europe/france/nord-pas-de-calais-latest.osm.pbf") && osm.md5);
    let crop = terril::fetch::parse_crop(osm.crop.as_deref().unwrap()).unwrap();
    for (name, lat, lon) in [("Lille Flandres", 50.6365, 3.0705), ("Lens", 50.4276, 2.8255), ("Valenciennes", 50.3634, 3.5177), ("Béthune", 50.5213, 2.6406), ("Douai", 50.3714, 3.0899)] {
        assert!(crop.contains_with_margin(terril::model::geo::LatLon::new(lat, lon), 0.0), "{name} inside the crop");
    }
}

#[test]
fn fetch_takes_exactly_the_publishers_current_files_with_one_list_request() {
    let d = require_data!();
    let p = Portal::start(&d);
    let s = p.shipped_sources();
    let root = tmp("fetch");
    let report = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    // Exactly the publisher's files, byte for byte.
    let expected = [
        ("sncf.zip", "/files/sncf.zip"),
        ("tadao.zip", "/files/tadao.zip"),
        ("transvilles.zip", "/files/transvilles.zip"),
        ("eveole.zip", "/files/eveole.zip"),
        ("hdf-nord_perimetre-1.zip", "/files/nord-1.zip"),
        ("hdf-nord_perimetre-2.zip", "/files/nord-2.zip"),
        ("hdf-nord_perimetre-3a.zip", "/files/nord-3a.zip"),
        ("hdf-nord_perimetre-4.zip", "/files/nord-4.zip"),
        ("hdf-pas-de-calais.zip", "/files/pdc.zip"),
    ];
    let mut want: Vec<String> = expected.iter().map(|e| e.0.to_string()).collect();
    want.push("sources.lock".into());
    want.sort();
    assert_eq!(names_in(&root.join("feeds")), want);
    for (file, path) in expected {
        assert_eq!(std::fs::read(root.join("feeds").join(file)).unwrap(), **p.routes[path].body.lock().unwrap(), "{file}");
    }
    assert_eq!(names_in(&root.join("osm")), vec!["ban-59.csv.gz", "ban-62.csv.gz", "filosofi-200m", "filosofi-2019-200m.zip", "nord-pas-de-calais.osm.pbf"]);
    // The Filosofi cells of the Nord and Pas-de-Calais, one file per commune (not Paris).
    assert_eq!(names_in(&root.join("osm/filosofi-200m")), vec!["59178.json", "62498.json"]);
    let lens = terril::analysis::opportunities::load(&root.join("osm/filosofi-200m/62498.json"), &Default::default()).unwrap();
    assert_eq!(lens.column("population").unwrap(), &[12.5, 3.0]);
    assert!(lens.points.iter().all(|p| (p.lat - 50.43).abs() < 0.05 && (p.lon - 2.83).abs() < 0.05), "in Lens: {:?}", lens.points);
    assert_eq!(std::fs::read(root.join("osm/nord-pas-de-calais.osm.pbf")).unwrap(), read(&d, "sao-paulo/spo_osm.pbf"));
    assert_eq!(std::fs::read(root.join("osm/ban-62.csv.gz")).unwrap(), ban_sample_gz());
    // One list request, no slug request, no community, real-time or NeTEx resource.
    let api_paths: Vec<String> = p.api.hits.lock().unwrap().iter().map(|h| h.path.clone()).collect();
    assert_eq!(api_paths, vec!["/api/datasets"]);
    assert!(p.files.requests("/files/community-sncf.zip").is_empty(), "a community resource is never taken, even when newer");
    assert!(p.files.requests("/rt/trip-updates").is_empty() && p.files.requests("/files/netex.zip").is_empty());
    assert_eq!(p.files.requests("/europe/france/nord-pas-de-calais-latest.osm.pbf.md5").len(), 1);
    // Every feed file's name is its own namespace.
    let feeds = terril::ingest::gtfs::discover_feeds(&[root.join("feeds").display().to_string()]).unwrap();
    for f in &feeds {
        assert_eq!(format!("{}.zip", f.namespace), f.path.file_name().unwrap().to_string_lossy());
    }
    // The record: SPDX licences, dataset and resource ids, sizes and hashes.
    let lock = terril::fetch::read_lock(&root.join("feeds"));
    assert_eq!(lock.file.len(), 13);
    let ban = lock.file.iter().find(|e| e.file == "ban-62.csv.gz").unwrap();
    assert_eq!((ban.kind.as_str(), ban.licence.as_str()), ("addresses", "etalab-2.0"));
    assert!(ban.updated.starts_with('"'), "the server's ETag is kept to ask again: {ban:?}");
    let sncf = lock.file.iter().find(|e| e.file == "sncf.zip").unwrap();
    let (size, sha) = terril::build::sha256_file(&d.join("ter/ter-2025-01-22.gtfs.zip")).unwrap();
    assert_eq!((sncf.size, sncf.sha256.as_str(), sncf.licence.as_str(), sncf.dataset.as_str(), sncf.resource.as_str()), (size, sha.as_str(), "ODbL-1.0", SNCF_ID, "r-81001"));
    assert!(sncf.url.ends_with("/resources/81001/download"));
    let p3 = lock.file.iter().find(|e| e.file == "hdf-nord_perimetre-3a.zip").unwrap();
    assert_eq!((p3.licence.as_str(), p3.resource_title.as_str(), p3.dataset.as_str()), ("etalab-2.0", "Périmètre 3A", NORD_ID));
    assert_eq!(lock.file.iter().find(|e| e.kind == "osm").unwrap().licence, "ODbL-1.0");
    // A second run downloads nothing: every file is provably the same.
    let before = p.file_requests();
    let again = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert!(again.downloaded.is_empty(), "{:?}", again.downloaded);
    assert_eq!(p.file_requests(), before);
    let ban_hits = p.files.requests("/data/ban/adresses/latest/csv/adresses-62.csv.gz");
    assert_eq!(ban_hits.iter().map(|h| h.status).collect::<Vec<_>>(), vec![200, 304], "the address file is asked with its ETag and not sent again");
    assert_eq!(terril::fetch::read_lock(&root.join("feeds")).file.iter().map(|e| &e.sha256).collect::<Vec<_>>(), lock.file.iter().map(|e| &e.sha256).collect::<Vec<_>>());
}

#[test]
fn a_slug_or_a_replaced_dataset_gets_an_actionable_error() {
    let d = require_data!();
    let p = Portal::start(&d);
    let root = tmp("slug");
    // The old TER dataset, replaced by horaires-sncf: not in the list, not an id.
    let s = p.gtfs_only("[[gtfs]]\nname = \"ter\"\ndataset = \"horaires-des-lignes-ter-sncf\"\n");
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("horaires-des-lignes-ter-sncf") && e.contains("data.gouv.fr id"), "{e}");
    // A well-formed id the access point does not know: asked once, 404, explained.
    let s = p.gtfs_only("[[gtfs]]\nname = \"ter\"\ndataset = \"0123456789abcdef01234567\"\n");
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("404") && e.contains("replaced"), "{e}");
    assert!(p.api.hits.lock().unwrap().iter().all(|h| h.path != "/api/datasets/horaires-des-lignes-ter-sncf" && h.path != "/api/datasets/horaires-sncf"), "a slug is never sent to /api/datasets/{{id}}");
    // A slug found in the list works.
    let s = p.gtfs_only("[[gtfs]]\nname = \"ter\"\ndataset = \"horaires-sncf\"\n");
    let r = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!(r.entries[0].dataset, SNCF_ID);
    // Search: "transvilles" matches a GBFS dataset too; only the GTFS one is taken.
    let s = p.gtfs_only("[[gtfs]]\nname = \"tv\"\nsearch = \"transvilles\"\n");
    let r = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!(r.entries[0].dataset, TRANSVILLES_ID);
}

#[test]
fn a_cut_download_resumes_only_when_if_range_confirms_the_same_file() {
    let d = require_data!();
    let p = Portal::start(&d);
    let s = p.gtfs_only(&format!("[[gtfs]]\nname = \"sncf\"\ndataset = \"{SNCF_ID}\"\n"));
    let root = tmp("resume");
    let file = &p.routes["/files/sncf.zip"];
    file.cut_next(1);
    let err = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(err.contains("connection") || err.contains("bytes"), "{err}");
    let part = root.join("feeds/sncf.zip.part");
    let partial = std::fs::metadata(&part).unwrap().len();
    assert!(partial > 0, "the first half is kept");
    assert!(!root.join("feeds/sncf.zip").exists(), "nothing half-written in place");
    fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!(std::fs::read(root.join("feeds/sncf.zip")).unwrap(), read(&d, "ter/ter-2025-01-22.gtfs.zip"));
    let tag = etag(&read(&d, "ter/ter-2025-01-22.gtfs.zip"));
    let hits = p.files.requests("/files/sncf.zip");
    assert_eq!(hits.iter().map(|h| (h.range_start, h.if_range.clone(), h.status)).collect::<Vec<_>>(), vec![(None, None, 200), (Some(partial), Some(tag), 206)]);
    assert!(!part.exists() && !root.join("feeds/sncf.zip.part.meta").exists());
}

#[test]
fn a_file_replaced_between_attempts_is_downloaded_whole_never_spliced() {
    let d = require_data!();
    let p = Portal::start(&d);
    let s = p.gtfs_only(&format!("[[gtfs]]\nname = \"sncf\"\ndataset = \"{SNCF_ID}\"\n"));
    let root = tmp("splice");
    let file = &p.routes["/files/sncf.zip"];
    file.cut_next(1);
    assert!(fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).is_err());
    let old_tag = etag(&read(&d, "ter/ter-2025-01-22.gtfs.zip"));
    // The publisher puts a new version before the retry.
    let newer = read(&d, "ter/ter-2019-09-01.gtfs.zip");
    file.replace(newer.clone());
    fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!(std::fs::read(root.join("feeds/sncf.zip")).unwrap(), newer, "the new version, whole");
    let hits = p.files.requests("/files/sncf.zip");
    assert_eq!(hits[1].if_range.as_deref(), Some(old_tag.as_str()));
    assert_eq!(hits[1].status, 200, "If-Range did not match: the server sent the whole new file");
}

#[test]
fn a_corrupted_extract_is_caught_by_its_md5_and_fetched_again() {
    let d = require_data!();
    let p = Portal::start(&d);
    let s = p.shipped_sources();
    let s = Sources { gtfs: vec![], addresses: vec![], population: vec![], ..s };
    let root = tmp("md5");
    let pbf_path = "/europe/france/nord-pas-de-calais-latest.osm.pbf";
    p.routes[pbf_path].corrupt_next(1);
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("md5") && e.contains("removed"), "{e}");
    assert!(names_in(&root.join("osm")).is_empty(), "nothing kept of a corrupted download: {:?}", names_in(&root.join("osm")));
    fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!(std::fs::read(root.join("osm/nord-pas-de-calais.osm.pbf")).unwrap(), read(&d, "sao-paulo/spo_osm.pbf"));
    assert_eq!(p.files.requests(pbf_path).iter().map(|h| h.status).collect::<Vec<_>>(), vec![200, 200]);
}

#[test]
fn a_416_completes_only_a_part_of_the_right_size() {
    let d = require_data!();
    let p = Portal::start(&d);
    let url = format!("{}/files/transvilles.zip", p.files.base);
    let body = read(&d, "porto-alegre/poa_trensurb.zip");
    let root = tmp("416");
    let dest = root.join("transvilles.zip");
    let meta = |v: &str| format!("{{\"url\":\"{url}\",\"validator\":{}}}", serde_json::to_string(v).unwrap());
    // Whole file already in the part (the rename was interrupted): 416 */N with N = size.
    std::fs::write(root.join("transvilles.zip.part"), &body).unwrap();
    std::fs::write(root.join("transvilles.zip.part.meta"), meta(&etag(&body))).unwrap();
    let part = terril::fetch::download(&url, &dest, &indicatif::ProgressBar::hidden()).unwrap();
    assert_eq!(std::fs::read(&part).unwrap(), body);
    assert_eq!(p.files.requests("/files/transvilles.zip").last().unwrap().status, 416);
    // A part longer than the file: 416 with another size, so it starts again.
    let mut longer = body.clone();
    longer.extend_from_slice(b"garbage after the end");
    std::fs::write(root.join("transvilles.zip.part"), &longer).unwrap();
    let part = terril::fetch::download(&url, &dest, &indicatif::ProgressBar::hidden()).unwrap();
    assert_eq!(std::fs::read(&part).unwrap(), body);
    let statuses: Vec<u16> = p.files.requests("/files/transvilles.zip").iter().map(|h| h.status).collect();
    assert_eq!(statuses, vec![416, 416, 200]);
    // A part without a validator is never resumed.
    std::fs::write(root.join("transvilles.zip.part"), &body[..1000]).unwrap();
    std::fs::remove_file(root.join("transvilles.zip.part.meta")).ok();
    terril::fetch::download(&url, &dest, &indicatif::ProgressBar::hidden()).unwrap();
    assert_eq!(p.files.requests("/files/transvilles.zip").last().unwrap().range_start, None);
}

#[test]
fn checksum_mismatch_invalid_file_404_and_server_down_are_clear_errors() {
    let d = require_data!();
    let p = Portal::start(&d);
    let root = tmp("errors");
    let s = p.gtfs_only(&format!("[[gtfs]]\nname = \"sncf\"\ndataset = \"{SNCF_ID}\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n"));
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("sha256") && e.contains("removed"), "{e}");
    assert!(!root.join("feeds/sncf.zip").exists() && !root.join("feeds/sncf.zip.part").exists());
    let s = p.gtfs_only("[[gtfs]]\nname = \"x\"\nsearch = \"caudresis\"\n");
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("not a zip") && e.contains("removed"), "{e}");
    let s = p.gtfs_only("[[gtfs]]\nname = \"x\"\nsearch = \"nothing-like-this\"\n");
    let e = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("no dataset"), "{e}");
    // One source failing does not lose the others: they are fetched and recorded.
    let s = p.gtfs_only(&format!("[[gtfs]]\nname = \"sncf\"\ndataset = \"{SNCF_ID}\"\n[[gtfs]]\nname = \"x\"\nsearch = \"caudresis\"\n"));
    let r = fetch_all(&s, &root.join("feeds"), &root.join("osm"), false).unwrap();
    assert_eq!((r.entries.len(), r.failures.len()), (1, 1));
    assert!(root.join("feeds/sncf.zip").exists() && !root.join("feeds/x.zip").exists());
    // Server down: a port nobody listens on.
    let dir = tmp("down");
    std::fs::write(dir.join("s.toml"), "api = \"http://127.0.0.1:9/api\"\n[[gtfs]]\nname = \"ter\"\ndataset = \"x\"\n").unwrap();
    let s = load_sources(&dir.join("s.toml")).unwrap();
    let e = fetch_all(&s, &dir.join("feeds"), &dir.join("osm"), false).unwrap_err().to_string();
    assert!(e.contains("cannot reach") && e.contains("internet"), "{e}");
    assert!(!dir.join("feeds/sources.lock").exists(), "no lock for a failed fetch");
}

#[test]
fn bad_source_names_are_refused_before_any_request() {
    let dir = tmp("names");
    for (name, why) in [("hdf-59", "all-digit"), ("Ter", "lower-case"), ("a b", "lower-case")] {
        std::fs::write(dir.join("s.toml"), format!("[[gtfs]]\nname = \"{name}\"\ndataset = \"x\"\n")).unwrap();
        let e = load_sources(&dir.join("s.toml")).unwrap_err().to_string();
        assert!(e.contains(why), "{name}: {e}");
    }
    std::fs::write(dir.join("s.toml"), "[[gtfs]]\nname = \"a\"\ndataset = \"x\"\n[[gtfs]]\nname = \"a\"\nsearch = \"y\"\n").unwrap();
    assert!(load_sources(&dir.join("s.toml")).unwrap_err().to_string().contains("twice"));
}

#[test]
fn dry_run_lists_every_file_and_downloads_nothing() {
    let d = require_data!();
    let p = Portal::start(&d);
    let dir = tmp("dry");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds/sources.toml")).unwrap();
    std::fs::write(dir.join("sources.toml"), text.replace("https://transport.data.gouv.fr/api", &format!("{}/api", p.api.base)).replace("https://download.geofabrik.de", &p.files.base).replace("https://adresse.data.gouv.fr", &p.files.base).replace("https://www.insee.fr", &p.files.base)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["fetch", "--dry-run", "--sources"])
        .arg(dir.join("sources.toml"))
        .arg("--feeds")
        .arg(dir.join("feeds"))
        .arg("--osm")
        .arg(dir.join("osm"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let mb = |rel: &str| format!("{:.1} MB", std::fs::metadata(d.join(rel)).unwrap().len() as f64 / 1e6);
    for needle in ["sncf.zip", SNCF_ID, "Horaires SNCF (GTFS)", "ODbL-1.0", "hdf-nord_perimetre-3a.zip", "Périmètre 3A", "etalab-2.0", "nord-pas-de-calais.osm.pbf", "ban-62.csv.gz", "Base Adresse Nationale", "Filosofi", "13 files would be downloaded"] {
        assert!(stdout.contains(needle), "{needle} missing in:\n{stdout}");
    }
    assert!(stdout.contains(&mb("ter/ter-2025-01-22.gtfs.zip")), "{stdout}");
    assert!(!dir.join("feeds").exists() && !dir.join("osm").exists(), "nothing written");
    assert_eq!(p.file_requests(), 0);
}

#[test]
fn the_sncf_feed_is_cropped_to_the_area_and_its_trains_told_apart() {
    let d = require_data!();
    let cfg = terril::build::BuildConfig {
        gtfs: vec![format!("sncf={}", d.join("ter/ter-2025-01-22.gtfs.zip").display())],
        crop: Some(terril::model::geo::BBox::parse("50.18,2.30,50.70,3.72").unwrap()),
        ..Default::default()
    };
    let (net, _) = terril::build::build(&cfg).unwrap();
    let full = ter2025();
    let tt = &net.timetable;
    assert!(tt.stops.len() * 10 < full.timetable.stops.len(), "{} of {} stops kept", tt.stops.len(), full.timetable.stops.len());
    assert!(tt.stops.coords.iter().all(|c| (50.18..=50.70).contains(&c.lat) && (2.30..=3.72).contains(&c.lon)));
    assert!(net.meta.warnings.iter().any(|w| w.contains("crop")));
    // Lens -> Lille Flandres still answered, with the same first arrival as the full network.
    let plan = |n: &terril::model::Network| {
        let r = terril::route::plan::Router::new(n.clone());
        let q = terril::api::Params { r#from: Some("sncf:StopArea:OCE87345025".into()), to: Some("sncf:StopArea:OCE87286005".into()), date: Some("2025-02-04".into()), time: Some("07:00".into()), ..Default::default() };
        let req = terril::api::plan_request(&r, &q).unwrap();
        let v = serde_json::to_value(r.plan(&req).unwrap()).unwrap();
        v["itineraries"][0]["end_time"].as_str().unwrap().to_string()
    };
    let full_ns = {
        let cfg = terril::build::BuildConfig { gtfs: vec![format!("sncf={}", d.join("ter/ter-2025-01-22.gtfs.zip").display())], ..Default::default() };
        terril::build::build(&cfg).unwrap().0
    };
    assert_eq!(plan(&net), plan(&full_ns));
    // Trains told apart by name where route_type does not: every rail route has a brand.
    let info = terril::info::NetworkInfo::of(&net, 0);
    let brands: Vec<&str> = info.feeds[0].brands.iter().map(|b| b.0.as_str()).collect();
    assert!(brands.contains(&"TER"), "{brands:?}");
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
    let e2 = empty.to_path_buf();
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
    let p = Portal::start(&d);
    let dir = tmp("online");
    std::fs::write(dir.join("sources.toml"), format!("api = \"{}/api\"\n[[gtfs]]\nname = \"ter\"\ndataset = \"{SNCF_ID}\"\n", p.api.base)).unwrap();
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

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tmp("sigterm");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_terril"))
        .current_dir(&dir)
        .args(["serve", "--demo", "--port", "0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut url = None;
    for l in lines.by_ref() {
        let l = l.unwrap();
        if let Some(rest) = l.split("on http://").nth(1) {
            url = Some(format!("http://{}", rest.split('/').next().unwrap()));
            break;
        }
    }
    let url = url.expect("started");
    assert_eq!(reqwest::blocking::get(format!("{url}/health")).unwrap().status().as_u16(), 200);
    let st = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status:?}: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("shutdown signal received")), "{rest:?}");
}
