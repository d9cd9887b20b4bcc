//! Issue 13: Filosofi cells from INSEE's national carreaux file. The five communes of the
//! shared data are written back into INSEE's format (cell ids in ETRS89-LAEA from a
//! forward projection written here, independent of the engine's inverse), converted by
//! `ingest::population`, and must give the shared cells back: same centres to the
//! micro-degree, same inhabitants.

mod common;
use common::*;

/// EPSG:3035 forward (IOGP 7-2, method 9820), for the test only.
fn laea(lat: f64, lon: f64) -> (f64, f64) {
    let (a, f): (f64, f64) = (6_378_137.0, 1.0 / 298.257_222_101);
    let e2 = 2.0 * f - f * f;
    let e = e2.sqrt();
    let q = |phi: f64| {
        let s = phi.sin();
        (1.0 - e2) * (s / (1.0 - e2 * s * s) - 1.0 / (2.0 * e) * ((1.0 - e * s) / (1.0 + e * s)).ln())
    };
    let (phi0, lam0) = (52.0_f64.to_radians(), 10.0_f64.to_radians());
    let qp = q(std::f64::consts::FRAC_PI_2);
    let rq = a * (qp / 2.0).sqrt();
    let beta0 = (q(phi0) / qp).asin();
    let d = a * (phi0.cos() / (1.0 - e2 * phi0.sin().powi(2)).sqrt()) / (rq * beta0.cos());
    let (phi, lam) = (lat.to_radians(), lon.to_radians());
    let beta = (q(phi) / qp).asin();
    let b = rq * (2.0 / (1.0 + beta0.sin() * beta.sin() + beta0.cos() * beta.cos() * (lam - lam0).cos())).sqrt();
    let east = 4_321_000.0 + b * d * beta.cos() * (lam - lam0).sin();
    let north = 3_210_000.0 + (b / d) * (beta0.cos() * beta.sin() - beta0.sin() * beta.cos() * (lam - lam0).cos());
    (north, east)
}

#[test]
fn insee_carreaux_become_the_shared_commune_cells() {
    let d = require_data!();
    let grid = d.join("bassin-minier/filosofi-200m");
    let mut csv = String::from("Idcar_200m,I_est_200,Idcar_1km,I_est_1km,Idcar_nat,Groupe,Ind,Men,lcog_geo\n");
    let mut expected: Vec<(String, f64, f64, f64)> = Vec::new();
    for code in ["62498", "62510", "62427", "62215", "62907"] {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(grid.join(format!("{code}.json"))).unwrap()).unwrap();
        for c in v["p"].as_array().unwrap() {
            let (lon, lat, pop) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap(), c[2].as_f64().unwrap());
            let (n, e) = laea(lat, lon);
            // The shared centres lie on the 200 m grid's centres (to a few centimetres).
            let (cn, ce) = ((n / 200.0).floor() * 200.0, (e / 200.0).floor() * 200.0);
            assert!(((n - cn) - 100.0).abs() < 0.5 && ((e - ce) - 100.0).abs() < 0.5, "{code}: {lat},{lon} -> {n},{e}");
            csv.push_str(&format!("CRS3035RES200mN{cn:.0}E{ce:.0},1,x,1,x,1,{pop},1,{code}\n"));
            expected.push((code.to_string(), lon, lat, pop));
        }
    }
    let out = std::env::temp_dir().join(format!("terril-carreaux-{}", std::process::id()));
    let got = terril::ingest::population::convert_filosofi(csv.as_bytes(), &["62".into()], 2021, &out).unwrap();
    assert_eq!(got.communes, 5);
    assert_eq!(got.cells, expected.len());
    for code in ["62498", "62510", "62427", "62215", "62907"] {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join(format!("{code}.json"))).unwrap()).unwrap();
        let cells = v["p"].as_array().unwrap();
        let want: Vec<&(String, f64, f64, f64)> = expected.iter().filter(|x| x.0 == code).collect();
        assert_eq!(cells.len(), want.len(), "{code}");
        for (c, w) in cells.iter().zip(want) {
            assert!((c[0].as_f64().unwrap() - w.1).abs() <= 1.5e-6 && (c[1].as_f64().unwrap() - w.2).abs() <= 1.5e-6, "{code}: {c} vs {w:?}");
            assert_eq!(c[2].as_f64().unwrap(), w.3);
        }
    }
    // The converted folder is what the report reads.
    let set = terril::analysis::opportunities::load(&out.join("62498.json"), &Default::default()).unwrap();
    assert_eq!(set.len(), expected.iter().filter(|x| x.0 == "62498").count());
    std::fs::remove_dir_all(&out).ok();
}
