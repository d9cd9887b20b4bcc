//! `terril matrix` end to end on Porto Alegre with the field's parameters, checked for
//! consistency with the library's surfaces and accessibility (same engine: these are
//! consistency tests, not an independent reference), and refused inputs.

mod common;
use common::*;
use std::path::PathBuf;
use terril::analysis::access::{self, AccessSpec, Decay};
use terril::analysis::opportunities::{load, LoadOptions};
use terril::analysis::surface::{compute, SurfaceScratch, UNREACHABLE};
use terril::analysis::targets::{LinkedTargets, PointSet};
use terril::route::plan::Router;

fn tmp(name: &str) -> TestDir {
    TestDir::new(&format!("matrix-{name}"))
}

fn terril(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_terril")).args(args).output().unwrap()
}

/// A work folder with the Porto Alegre network and every `step`-th hexagon as origins
/// (`origins.csv`); returns (folder, network file).
fn poa_with_origins(d: &std::path::Path, name: &str, step: usize) -> (TestDir, PathBuf) {
    let dir = tmp(name);
    let net_path = dir.join("poa.bin");
    poa().save(&net_path).unwrap();
    let hex = load(&d.join("porto-alegre/poa_hexgrid.csv"), &LoadOptions::default()).unwrap();
    let mut csv = String::from("id,lat,lon\n");
    for i in (0..hex.len()).step_by(step) {
        csv.push_str(&format!("{},{},{}\n", hex.ids[i], hex.points[i].lat, hex.points[i].lon));
    }
    std::fs::write(dir.join("origins.csv"), csv).unwrap();
    (dir, net_path)
}

/// The rules: slack 0, 4.68 km/h, 20-minute walks, 10-minute transfer walks.
const RULES: [&str; 8] = ["--transfer-slack", "0", "--walk-speed", "4.68", "--max-walk-time", "20", "--max-transfer-walk-time", "10"];

#[test]
fn the_matrix_equals_the_surfaces_and_the_accessibility_it_stands_for() {
    let d = require_data!();
    let dir = tmp("poa");
    let net_path = dir.join("poa.bin");
    poa().save(&net_path).unwrap();
    // 25 origins (every 50th hexagon), all 1,227 destinations.
    let hex = load(&d.join("porto-alegre/poa_hexgrid.csv"), &LoadOptions::default()).unwrap();
    let pick: Vec<usize> = (0..hex.len()).step_by(50).collect();
    let mut csv = String::from("id,lat,lon\n");
    for &i in &pick {
        csv.push_str(&format!("{},{},{}\n", hex.ids[i], hex.points[i].lat, hex.points[i].lon));
    }
    std::fs::write(dir.join("origins.csv"), csv).unwrap();
    let out = dir.join("m.csv");
    let origins_file = dir.join("origins.csv");
    let mut args = vec!["matrix", "--network", net_path.to_str().unwrap(), "--origins", origins_file.to_str().unwrap()];
    let hexfile = d.join("porto-alegre/poa_hexgrid.csv");
    args.extend(["--destinations", hexfile.to_str().unwrap(), "--date", "2019-05-13", "--window", "14:00-14:30", "--percentiles", "25,50,75", "--cutoff", "60", "--seconds", "--out", out.to_str().unwrap()]);
    args.extend(RULES);
    let o = terril(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Long format, one row per pair, empty cells for unreachable pairs.
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), vec!["from_id", "to_id", "travel_time_p25_s", "travel_time_p50_s", "travel_time_p75_s"]);
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), pick.len() * hex.len());
    let empty = rows.iter().filter(|r| r[3].is_empty()).count();
    assert!(empty > 0 && empty < rows.len(), "some pairs are over 60 min, most are not ({empty})");
    assert!(!rows.iter().any(|r| r[3] == *"0" && r[0] != r[1]), "an unreachable pair is never 0");
    // The parameters are recorded beside the output.
    let params: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("m.csv.params.json")).unwrap()).unwrap();
    assert_eq!((params["walk_speed_kmh"].as_f64(), params["transfer_slack_s"].as_u64(), params["max_walk_time_min"].as_f64(), params["max_transfer_walk_time_min"].as_f64()), (Some(4.68), Some(0), Some(20.0), Some(10.0)));
    // Consistency with the library's surfaces, origin by origin, to the second.
    let router = Router::new(poa().clone());
    let targets = LinkedTargets::from_points(&router.net, &hex.points, 20 * 60);
    let mut req = terril::analysis::surface::SurfaceRequest::new(hex.points[pick[0]], jiff::civil::date(2019, 5, 13), 14 * 3600, 30 * 60);
    req.percentiles = vec![25, 50, 75];
    req.max_time_s = 3600;
    req.transfer_slack_s = 0;
    req.walk_speed_mps = 4.68 / 3.6;
    req.max_walk_s = 20 * 60;
    req.max_transfer_walk_s = Some(10 * 60);
    let mut sc = SurfaceScratch::default();
    for (k, &i) in pick.iter().enumerate() {
        req.origin = hex.points[i];
        let s = compute(&router, &targets, &req, &mut sc).unwrap();
        for dd in 0..hex.len() {
            let r = &rows[k * hex.len() + dd];
            for p in 0..3 {
                let want = if s.times_s[p][dd] == UNREACHABLE { String::new() } else { s.times_s[p][dd].to_string() };
                assert_eq!(&r[2 + p], want.as_str(), "origin {} destination {} p{}", hex.ids[i], hex.ids[dd], req.percentiles[p]);
            }
        }
    }
    // Jobs within 30 min at p50 from the matrix equal the accessibility batch.
    let jobs = hex.column("jobs").unwrap();
    let sub = PointSet { ids: pick.iter().map(|&i| hex.ids[i].clone()).collect(), points: pick.iter().map(|&i| hex.points[i]).collect(), labels: vec![String::new(); pick.len()], ..Default::default() };
    let mut areq = req.clone();
    areq.percentiles = vec![50];
    let spec = AccessSpec { cutoffs_min: vec![30], decay: Decay::Step, columns: vec!["jobs".into()], nth: vec![1], nearest_column: "count".into() };
    let batch = access::batch(&router, &sub, &targets, &hex, &areq, &spec, &indicatif::ProgressBar::hidden());
    let names = access::column_names(&areq.percentiles, &spec);
    let col = names.iter().position(|n| n.starts_with("jobs")).unwrap();
    for (k, b) in batch.iter().enumerate() {
        let from_matrix: f64 = (0..hex.len()).filter(|&dd| rows[k * hex.len() + dd][3].parse::<u32>().is_ok_and(|t| t <= 1800)).map(|dd| jobs[dd]).sum();
        assert_eq!(b.values[col], from_matrix, "origin {}", b.id);
    }
}

#[test]
fn walking_legs_and_the_walk_only_trip_respect_max_walk_time() {
    let d = require_data!();
    let dir = tmp("walk");
    let net_path = dir.join("poa.bin");
    poa().save(&net_path).unwrap();
    let hexfile = d.join("porto-alegre/poa_hexgrid.csv");
    let out = dir.join("walk.csv");
    let o = terril(&["matrix", "--network", net_path.to_str().unwrap(), "--origins", hexfile.to_str().unwrap(), "--mode", "walk", "--max-walk-time", "10", "--window", "14:00-14:01", "--date", "2019-05-13", "--seconds", "--reachable-only", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    let times: Vec<u32> = rdr.records().map(|r| r.unwrap()[2].parse().unwrap()).collect();
    assert!(times.len() > 1227, "every hexagon reaches itself and some neighbours ({})", times.len());
    assert!(times.iter().all(|t| *t <= 600), "max {}", times.iter().max().unwrap());
}

#[test]
fn bad_outputs_are_refused_before_any_computation() {
    let d = require_data!();
    let dir = tmp("bad");
    let net_path = dir.join("poa.bin");
    poa().save(&net_path).unwrap();
    let hexfile = d.join("porto-alegre/poa_hexgrid.csv");
    let o = terril(&["matrix", "--network", net_path.to_str().unwrap(), "--origins", hexfile.to_str().unwrap(), "--out", "/no/such/folder/m.csv"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains("/no/such/folder") && e.contains("nothing was computed"), "{e}");
    std::fs::copy(&hexfile, dir.join("o.csv")).unwrap();
    let o = terril(&["matrix", "--network", net_path.to_str().unwrap(), "--origins", dir.join("o.csv").to_str().unwrap(), "--out", dir.join("o.csv").to_str().unwrap()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains("one of the inputs"), "{e}");
    assert_eq!(std::fs::read(dir.join("o.csv")).unwrap(), std::fs::read(&hexfile).unwrap(), "the input is untouched");
    let o = terril(&["matrix", "--network", net_path.to_str().unwrap(), "--origins", hexfile.to_str().unwrap(), "--percentiles", "5,25,50,75,90,95", "--out", dir.join("x.csv").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("at most 5 percentiles"));
    let o = terril(&["matrix", "--network", net_path.to_str().unwrap(), "--origins", hexfile.to_str().unwrap(), "--transfer-slack", "-5", "--out", dir.join("x.csv").to_str().unwrap()]);
    assert!(!o.status.success());
}

#[test]
fn postcode_and_phone_columns_are_not_counted_as_opportunities() {
    let d = require_data!();
    let h = load(&d.join("bassin-minier/hospitals-59-62.csv"), &LoadOptions::default()).unwrap();
    for c in ["postcode", "tel", "id", "house_number", "geo_qual"] {
        assert!(h.column(c).is_none(), "{c} is not a weight: {:?}", h.columns);
    }
    assert!(h.column("count").is_some());
    // Asked for explicitly, a column is used as it is.
    let h = load(&d.join("bassin-minier/hospitals-59-62.csv"), &LoadOptions { weights: vec!["cap_beds".into()], ..Default::default() }).unwrap();
    assert!(h.column("cap_beds").is_some());
}

/// `--breakdown`: every reachable pair's trip is told, its parts sum to the travel time to
/// the second, rides are within the limit and name their routes; a walk-only trip is all
/// access. (Consistency of the engine with itself.)
#[test]
fn the_breakdown_sums_to_the_travel_time() {
    let d = require_data!();
    let (dir, net_path) = poa_with_origins(&d, "breakdown", 200);
    let out = dir.join("b.csv");
    let hexfile = d.join("porto-alegre/poa_hexgrid.csv");
    let o = terril(&[
        "matrix", "--network", net_path.to_str().unwrap(), "--origins", dir.join("origins.csv").to_str().unwrap(), "--destinations", hexfile.to_str().unwrap(),
        "--date", "2019-05-13", "--window", "14:00-15:00", "--seconds", "--breakdown", "--max-rides", "3", "--out", out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["from_id", "to_id", "travel_time_p50_s", "departure_time", "access_time_s", "wait_time_s", "ride_time_s", "transfer_time_s", "egress_time_s", "n_rides", "routes"]
    );
    let (mut reachable, mut by_transit) = (0, 0);
    for r in rdr.records() {
        let r = r.unwrap();
        if r[2].is_empty() {
            assert!((3..11).all(|i| r[i].is_empty()), "an unreachable pair has no trip: {r:?}");
            continue;
        }
        reachable += 1;
        let n: Vec<u32> = (2..10).filter(|&i| i != 3).map(|i| r[i].parse().unwrap()).collect();
        let (total, access, wait, ride, transfer, egress, rides) = (n[0], n[1], n[2], n[3], n[4], n[5], n[6]);
        assert_eq!(access + wait + ride + transfer + egress, total, "{r:?}");
        assert!(r[3] >= *"14:00" && r[3] < *"15:00", "{r:?}");
        if rides == 0 {
            assert_eq!((access, ride, egress, &r[10]), (total, 0, 0, ""), "a walk-only trip is all access: {r:?}");
        } else {
            by_transit += 1;
            assert!(rides <= 3 && ride > 0 && access <= 15 * 60 && egress <= 15 * 60, "{r:?}");
            assert_eq!(r[10].split('|').count() as u32, rides, "{r:?}");
        }
    }
    assert!(reachable > 3000 && by_transit > 2000, "{reachable} reachable, {by_transit} by transit");
}

/// `--out x.parquet` writes the same rows as the CSV (read back with the parquet crate's
/// reader; checked with pyarrow by hand, see BENCHMARKS.md): typed columns, null where the
/// CSV cell is empty.
#[test]
fn the_parquet_matrix_holds_the_csv_rows() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let d = require_data!();
    let (dir, net_path) = poa_with_origins(&d, "parquet", 300);
    let hexfile = d.join("porto-alegre/poa_hexgrid.csv");
    let run = |out: &str| {
        let out = dir.join(out);
        let o = terril(&[
            "matrix", "--network", net_path.to_str().unwrap(), "--origins", dir.join("origins.csv").to_str().unwrap(), "--destinations", hexfile.to_str().unwrap(),
            "--date", "2019-05-13", "--window", "14:00-14:30", "--percentiles", "25,75", "--breakdown", "--out", out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (c, p) = (run("m.csv"), run("m.parquet"));
    let mut rdr = csv::Reader::from_path(&c).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let reader = SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
    let fields: Vec<String> = reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.name().to_string()).collect();
    assert_eq!(fields, header);
    let mut n = 0;
    for (row, want) in reader.get_row_iter(None).unwrap().zip(&rows) {
        let row = row.unwrap();
        for (i, (_, v)) in row.get_column_iter().enumerate() {
            let cell = match v {
                parquet::record::Field::Null => String::new(),
                parquet::record::Field::Str(s) => s.clone(),
                parquet::record::Field::Int(x) => x.to_string(),
                parquet::record::Field::Double(x) => format!("{x:.1}"),
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(cell, want[i], "row {n} column {}", header[i]);
        }
        n += 1;
    }
    assert_eq!(n, rows.len());
    assert!(rows.iter().any(|r| r[2].is_empty()) && rows.iter().any(|r| !r[11].is_empty()), "nulls and routes are both exercised");
}
