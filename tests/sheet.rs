//! Issue 13: site access sheets (Action 54). `terril sheet` on TER 2025 for the new Lens
//! hospital (three 8-hour shifts, one overnight) and the Delta 3 logistics platform at
//! Dourges, with the basin's 330 communes. The stops listed are checked against the raw
//! stops.txt (straight-line distance computed here), the vehicles against the shift
//! windows, and the communes' times against their own departure times.

mod common;
use common::*;
use std::process::Command;

fn minutes(hhmm: &str) -> i64 {
    let (h, m) = hhmm.split_once(':').unwrap();
    h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap()
}

/// Stations of the raw feed (name -> positions), read with the zip and csv crates.
fn raw_stops(d: &std::path::Path) -> Vec<(String, f64, f64)> {
    let f = std::fs::File::open(d.join("ter/ter-2025-01-22.gtfs.zip")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut rdr = csv::Reader::from_reader(z.by_name("stops.txt").unwrap());
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c.trim_start_matches('\u{feff}') == n).unwrap();
    let (name, lat, lon) = (col("stop_name"), col("stop_lat"), col("stop_lon"));
    rdr.records().map(Result::unwrap).map(|r| (r[name].to_string(), r[lat].parse().unwrap(), r[lon].parse().unwrap())).collect()
}

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

#[test]
fn site_sheets_for_the_new_lens_hospital_and_an_activity_zone() {
    let d = require_data!();
    let dir = std::env::temp_dir().join(format!("terril-sheet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("ter.bin");
    ter2025().save(&net).unwrap();
    let communes = d.join("bassin-minier/communes-mbm.geojson");
    let site = (50.4355, 2.8110);
    let json_path = dir.join("lens.json");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_terril")).args(["sheet", "--network", net.to_str().unwrap(), "--communes", communes.to_str().unwrap(), "--date", "2025-02-04"]).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["--site", "50.4355,2.8110", "--name", "Nouvel hôpital de Lens", "--shifts", "06:00-14:00,14:00-22:00,22:00-06:00", "--out", json_path.to_str().unwrap()]);
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(s["site"]["name"], "Nouvel hôpital de Lens");

    // Stops: each listed one is a station of the feed within a 15-minute ride (straight
    // line x 1.3 at 15 km/h, as the sheet says), its minutes those of the distance; the
    // stations of the raw feed that close are all there.
    let raw = raw_stops(&d);
    let bike_min = |name: &str| raw.iter().filter(|r| r.0 == name).map(|r| (metres(site, (r.1, r.2)) * 1.3 / (15.0 / 3.6) / 60.0).ceil() as i64).min();
    let stops = s["stops"].as_array().unwrap();
    let names: Vec<&str> = stops.iter().map(|x| x["name"].as_str().unwrap()).collect();
    for st in stops {
        let m = bike_min(st["name"].as_str().unwrap()).expect("a station of the feed");
        let got = st["bike_min"].as_i64().unwrap();
        assert!((got - m).abs() <= 1 && got <= 15, "{}: {got} min by bike, {m} from the raw positions", st["name"]);
        assert!(!st["lines"].as_array().unwrap().is_empty());
    }
    for must in ["Lens", "Loos-en-Gohelle", "Liévin"] {
        assert!(names.contains(&must), "{must} is within a 15-min ride: {names:?}");
        assert!(bike_min(must).unwrap() <= 15);
    }
    let lens = stops.iter().find(|x| x["name"] == "Lens").unwrap();
    assert!(lens["lines"].as_array().unwrap().len() >= 5, "Lens station's lines: {}", lens["lines"]);

    let shifts = s["shifts"].as_array().unwrap();
    assert_eq!(shifts.len(), 3);
    let mut lens_in_time = false;
    for sh in shifts {
        let (start, end) = (minutes(sh["start"].as_str().unwrap()), minutes(sh["end"].as_str().unwrap()));
        assert_eq!(end - start, 8 * 60);
        // Vehicles: arrivals in the hour before the start, early enough to reach the site;
        // departures in the hour after the end, late enough to get to the stop; in order.
        let mut last = i64::MIN;
        for a in sh["arrivals"].as_array().unwrap() {
            let t = minutes(a["time"].as_str().unwrap());
            assert!(t >= start - 60 && t + a["access_min"].as_i64().unwrap() <= start + 1, "{a} for a shift at {start}");
            assert!(t >= last);
            last = t;
        }
        for dep in sh["departures"].as_array().unwrap() {
            let t = minutes(dep["time"].as_str().unwrap());
            assert!(t <= end + 60 && t >= end + dep["access_min"].as_i64().unwrap() - 1, "{dep} after a shift ending at {end}");
            assert!(!dep["towards"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()), "a destination, not a train number: {dep}");
        }
        // Communes: the time is from leaving to the start; thresholds add up.
        for c in sh["communes"].as_array().unwrap() {
            if let (Some(m), Some(leave)) = (c["minutes_to"].as_i64(), c["leave_at"].as_str()) {
                let left = minutes(leave);
                assert!((start - left - m).abs() <= 1, "{c}");
                assert!(m <= 120);
                if c["name"] == "Lens" && m <= 30 {
                    lens_in_time = true;
                }
            }
        }
        let pops: Vec<f64> = sh["population_within"].as_array().unwrap().iter().map(|p| p[1].as_f64().unwrap()).collect();
        assert!(pops.windows(2).all(|w| w[0] <= w[1]) && pops[2] > pops[0], "{pops:?}");
    }
    assert!(lens_in_time, "the commune of Lens reaches its hospital within 30 min");
    assert!(!shifts[2]["departures"].as_array().unwrap().is_empty(), "trains leave Lens after 06:00 the next morning");
    assert!(minutes(shifts[2]["departures"][0]["time"].as_str().unwrap()) >= 30 * 60, "the night shift ends the next day");

    // The page to print: French, the night shift's end on the next day; and an activity zone.
    let html_path = dir.join("lens.html");
    run(&["--site", "50.4355,2.8110", "--name", "Nouvel hôpital de Lens", "--shifts", "22:00-06:00", "--out", html_path.to_str().unwrap()]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!doctype html><html lang=\"fr\">") && html.contains("Accès au site : Nouvel hôpital de Lens") && html.contains("(le lendemain)"));
    assert!(!html.contains("src=") && !html.contains("href="), "stands alone");
    let zone = dir.join("delta3.html");
    run(&["--site", "50.4400,2.9850", "--name", "Plateforme multimodale Delta 3 (Dourges)", "--out", zone.to_str().unwrap()]);
    let html = std::fs::read_to_string(&zone).unwrap();
    for h in ["Poste de 05:00 à 13:00", "Poste de 13:00 à 21:00", "Poste de 21:00 à 05:00 (le lendemain)", "Arrêts et gares à proximité", "Communes d'où l'on arrive à l'heure"] {
        assert!(html.contains(h), "{h}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
