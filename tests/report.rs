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
    let common = ["--network", net.to_str().unwrap(), "--origins", communes.to_str().unwrap(), "--destinations", hospitals.to_str().unwrap(), "--date", "2025-02-04", "--window", "07:00-07:30"];
    let html_path = dir.join("rapport.html");
    let o = Command::new(env!("CARGO_BIN_EXE_terril")).args(["report", "health"]).args(common).args(["--out", html_path.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!doctype html><html lang=\"fr\">"));
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("url("), "nothing fetched from elsewhere");
    for heading in ["Chiffres clés", "Carte", "Part de la population à moins de x minutes, par EPCI", "Par EPCI", "Par commune", "Sources et paramètres"] {
        assert!(html.contains(heading), "{heading}");
    }
    assert_eq!(html.matches("<tr class=\"origin\">").count(), 330);
    assert_eq!(html.matches("<tr class=\"group\">").count(), 10, "9 EPCI and the whole");
    assert!(html.contains("ter-2025-01-22.gtfs.zip") && html.contains("hospitals-59-62.csv") && html.contains("valables du 2025-01-22 au 2025-04-22"));
    // The same times from `terril access`, summed here with the communes' populations.
    let csv_path = dir.join("access.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_terril")).arg("access").args(common).args(["--cutoffs", "30,45,60", "--max-trip-duration", "120", "--out", csv_path.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let gj: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&communes).unwrap()).unwrap();
    let pop: std::collections::HashMap<String, f64> = gj["features"].as_array().unwrap().iter().map(|f| (f["properties"]["insee"].as_str().unwrap().to_string(), f["properties"]["population"].as_f64().unwrap())).collect();
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let h = rdr.headers().unwrap().clone();
    let ti = h.iter().position(|c| c == "time_nearest_min_p50").unwrap();
    let (mut total, mut beyond30, mut beyond60, mut none) = (0.0, 0.0, 0.0, 0.0);
    for r in rdr.records().map(Result::unwrap) {
        let p = pop[&r[0]];
        total += p;
        match r[ti].parse::<f64>() {
            Ok(t) => {
                beyond30 += if t > 30.0 { p } else { 0.0 };
                beyond60 += if t > 60.0 { p } else { 0.0 };
            }
            Err(_) => {
                beyond30 += p;
                beyond60 += p;
                none += p;
            }
        }
    }
    assert_eq!(number_before(&html, "</b>habitants<"), total);
    assert_eq!(number_before(&html, "</b>habitants à plus de 30 min"), beyond30.round());
    assert_eq!(number_before(&html, "</b>habitants à plus de 60 min"), beyond60.round());
    assert_eq!(number_before(&html, "</b>habitants sans établissement à moins de 120 min"), none.round());
    assert!(none > 0.0 && beyond60 > none, "some communes are beyond 60 min yet within 120: the two classes differ ({beyond60} vs {none})");
    std::fs::remove_dir_all(&dir).ok();
}
