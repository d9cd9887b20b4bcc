//! Issue 13: the health-access report. `terril report health` on TER 2025 with the basin's
//! 330 communes and 278 health facilities writes one French HTML file that stands alone
//! (no external resource), whose figures are those of `terril access` run with the same
//! parameters (a consistency test: the same engine, summed by the test itself), with a
//! row per commune and per EPCI and the sources' checksums.

mod common;
use common::*;
use std::process::Command;

fn number_before(html: &str, label: &str) -> f64 {
    let i = html.find(label).unwrap_or_else(|| panic!("'{label}' not in the report"));
    let b = html[..i].rfind("<b>").unwrap();
    html[b + 3..i].trim_end_matches("</b>").replace('\u{202f}', "").parse().unwrap_or_else(|e| panic!("{label}: {e}"))
}

#[test]
fn the_health_report_stands_alone_and_its_figures_are_those_of_terril_access() {
    let d = require_data!();
    let dir = std::env::temp_dir().join(format!("terril-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("ter.bin");
    ter2025().save(&net).unwrap();
    let communes = d.join("bassin-minier/communes-mbm.geojson");
    let hospitals = d.join("bassin-minier/hospitals-59-62.csv");
    let grid = d.join("bassin-minier/filosofi-200m");
    let when = ["--date", "2025-02-04", "--window", "07:00-07:30"];
    let html_path = dir.join("rapport.html");
    let points_path = dir.join("points.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["report", "health", "--network", net.to_str().unwrap(), "--origins", communes.to_str().unwrap(), "--destinations", hospitals.to_str().unwrap(), "--population-grid", grid.to_str().unwrap()])
        .args(when)
        .args(["--out", html_path.to_str().unwrap(), "--write-origins", points_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!doctype html><html lang=\"fr\">"));
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("url("), "nothing fetched from elsewhere");
    for heading in ["Chiffres clés", "Carte", "Part de la population à moins de x minutes, par EPCI", "Par EPCI", "Par commune", "Sources et paramètres"] {
        assert!(html.contains(heading), "{heading}");
    }
    assert_eq!(html.matches("<tr class=\"origin\">").count(), 330);
    assert_eq!(html.matches("<tr class=\"group\">").count(), 10, "9 EPCI and the whole");
    assert_eq!(html.matches("<path d=").count(), 330, "every commune drawn by its outline");
    assert!(html.contains("ter-2025-01-22.gtfs.zip") && html.contains("hospitals-59-62.csv") && html.contains("valables du 2025-01-22 au 2025-04-22"));

    // The communes' populations, and the Filosofi cells of the five communes that have them.
    let gj: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&communes).unwrap()).unwrap();
    let pop: std::collections::HashMap<String, f64> = gj["features"].as_array().unwrap().iter().map(|f| (f["properties"]["insee"].as_str().unwrap().to_string(), f["properties"]["population"].as_f64().unwrap())).collect();
    let cells = |code: &str| -> usize {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(grid.join(format!("{code}.json"))).unwrap()).unwrap();
        v["p"].as_array().unwrap().iter().filter(|c| c[2].as_f64().unwrap() > 0.0).count()
    };

    // The same points through `terril access`, summed here per commune with their weights.
    let csv_path = dir.join("access.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["access", "--network", net.to_str().unwrap(), "--origins", points_path.to_str().unwrap(), "--destinations", hospitals.to_str().unwrap()])
        .args(when)
        .args(["--cutoffs", "30,45,60", "--max-trip-duration", "120", "--out", csv_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let weights: std::collections::HashMap<String, (f64, String)> = csv::Reader::from_path(&points_path).unwrap().records().map(Result::unwrap).map(|r| (r[0].to_string(), (r[4].parse().unwrap(), r[5].to_string()))).collect();
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let h = rdr.headers().unwrap().clone();
    let ti = h.iter().position(|c| c == "time_nearest_min_p50").unwrap();
    // commune -> (population, beyond 30, beyond 60, none, points)
    let mut by: std::collections::HashMap<String, (f64, f64, f64, f64, usize)> = Default::default();
    for r in rdr.records().map(Result::unwrap) {
        let (w, commune) = weights[&r[0]].clone();
        let e = by.entry(commune).or_default();
        e.0 += w;
        e.4 += 1;
        match r[ti].parse::<f64>() {
            Ok(t) => {
                e.1 += if t > 30.0 { w } else { 0.0 };
                e.2 += if t > 60.0 { w } else { 0.0 };
            }
            Err(_) => {
                e.1 += w;
                e.2 += w;
                e.3 += w;
            }
        }
    }
    assert_eq!(by.len(), 330);
    // The commune table (CSV written beside the report) holds the same sums.
    let mut partial = 0;
    let mut rdr = csv::Reader::from_path(dir.join("rapport.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap_or_else(|| panic!("no column {n}"));
    for r in rdr.records().map(Result::unwrap) {
        let id = &r[col("id")];
        let e = by[id];
        let close = |x: &str, y: f64| (x.parse::<f64>().unwrap() - y).abs() < 0.06;
        assert!((e.0 - pop[id]).abs() < 0.01, "{id}: the points carry the commune's population");
        assert!(close(&r[col("population")], e.0) && close(&r[col("beyond_30_min")], e.1) && close(&r[col("beyond_60_min")], e.2) && close(&r[col("none_within_120_min")], e.3), "{id}: {:?} vs {e:?}", r);
        assert_eq!(r[col("points")].parse::<usize>().unwrap(), e.4);
        if ["62498", "62510", "62427", "62215", "62907"].contains(&id) {
            assert_eq!(&r[col("origins")], "grid", "{id}");
            assert_eq!(e.4, cells(id), "{id}: one point per inhabited Filosofi cell");
        } else {
            assert_ne!(&r[col("origins")], "grid");
        }
        if e.1 > 0.5 && e.1 < e.0 - 0.5 {
            partial += 1;
        }
    }
    // Points, not centroids: communes are partly within 30 min (a station in one quarter).
    assert!(partial >= 10, "only {partial} communes are partly within 30 min");
    let (total, b30, b60, none) = by.values().fold((0.0, 0.0, 0.0, 0.0), |a, e| (a.0 + e.0, a.1 + e.1, a.2 + e.2, a.3 + e.3));
    assert_eq!(number_before(&html, "</b>habitants<"), total.round());
    assert_eq!(number_before(&html, "</b>habitants à plus de 30 min"), b30.round());
    assert_eq!(number_before(&html, "</b>habitants à plus de 60 min"), b60.round());
    assert_eq!(number_before(&html, "</b>habitants sans établissement à moins de 120 min"), none.round());
    assert!(none > 0.0 && b60 > none, "some are beyond 60 min yet within 120: the two classes differ ({b60} vs {none})");

    // Grouped by employment zone instead of EPCI.
    let zones = d.join("bassin-minier/zones-emploi-59-62.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_terril"))
        .args(["report", "health", "--network", net.to_str().unwrap(), "--origins", communes.to_str().unwrap(), "--destinations", hospitals.to_str().unwrap(), "--sample-m", "0", "--groups", zones.to_str().unwrap()])
        .args(when)
        .args(["--out", dir.join("ze.html").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ze = std::fs::read_to_string(dir.join("ze.html")).unwrap();
    assert!(ze.contains("Par zone d'emploi") && ze.matches("<td>zone d'emploi ").count() >= 3);
    assert_eq!(number_before(&ze, "</b>habitants<"), total.round(), "the same population, one point per commune");
    std::fs::remove_dir_all(&dir).ok();
}
