//! The built-in demonstration network: Fosseville, a FICTIONAL mining town, made by this
//! code so that terril works on a machine with no data and no internet. It goes through
//! the same pipeline as real data: a GTFS feed is written to a temporary folder and read
//! by the normal ingest (frequencies, calendars...), the streets are built by the normal
//! OSM graph builder from generated ways.
//!
//! The town: a 4 km x 4 km street grid (200 m blocks, a main avenue, a one-way street, a
//! footpath across the park), bus lines 1, 2 and 3, tram T, and a TER train to two
//! fictional neighbouring towns; a hospital and four job sites.

use crate::analysis::targets::PointSet;
use crate::build::{build_with, BuildConfig};
use crate::ingest::osm::{build_graph, way_access, OsmWay};
use crate::model::geo::{LatLon, LocalProjection};
use crate::model::Network;
use std::fmt::Write;

pub const TITLE: &str = "Fosseville — réseau FICTIF de démonstration (fictional demonstration network)";
const CENTRE: LatLon = LatLon { lat: 50.30, lon: 2.60 };

fn ll(x: f64, y: f64) -> LatLon {
    LocalProjection::new(CENTRE.lat).unproject([LocalProjection::new(CENTRE.lat).project(CENTRE)[0] + x, LocalProjection::new(CENTRE.lat).project(CENTRE)[1] + y])
}

struct Line {
    id: &'static str,
    short: &'static str,
    long: &'static str,
    route_type: u8,
    color: &'static str,
    speed_kmh: f64,
    /// Weekday headway, minutes; first and last departure (hours).
    headway_min: u32,
    span: (u32, u32),
    stops: Vec<(&'static str, &'static str, f64, f64)>,
}

fn lines() -> Vec<Line> {
    vec![
        Line {
            id: "B1",
            short: "1",
            long: "Cité des Mineurs - Centre commercial",
            route_type: 3,
            color: "B61F21",
            speed_kmh: 18.0,
            headway_min: 15,
            span: (5, 22),
            stops: vec![
                ("cite", "Cité des Mineurs", -2000.0, 0.0),
                ("chevalement", "Chevalement", -1600.0, 0.0),
                ("ecole", "École Jules Ferry", -1200.0, 0.0),
                ("corons", "Les Corons", -800.0, 0.0),
                ("marche", "Place du Marché", -400.0, 0.0),
                ("mairie", "Mairie", 0.0, 0.0),
                ("poste", "La Poste", 400.0, 0.0),
                ("lycee", "Lycée Louise Michel", 800.0, 0.0),
                ("stade", "Stade Municipal", 1200.0, 0.0),
                ("piscine", "Piscine", 1600.0, 0.0),
                ("ccial", "Centre commercial", 2000.0, 0.0),
            ],
        },
        Line {
            id: "B2",
            short: "2",
            long: "Gare de Fosseville - Terril",
            route_type: 3,
            color: "EBBD00",
            speed_kmh: 18.0,
            headway_min: 20,
            span: (5, 22),
            stops: vec![
                ("gare_bus", "Gare de Fosseville", 0.0, -1200.0),
                ("eglise", "Église Sainte-Barbe", 0.0, -800.0),
                ("rue_mine", "Rue de la Mine", 0.0, -400.0),
                ("mairie", "Mairie", 0.0, 0.0),
                ("parc", "Parc des Berlines", 0.0, 400.0),
                ("tram_nord", "Square Nord", 0.0, 800.0),
                ("college", "Collège Germinal", 0.0, 1200.0),
                ("terril", "Terril", 0.0, 1800.0),
            ],
        },
        Line {
            id: "B3",
            short: "3",
            long: "Plateforme Delta - Hôpital - Zone d'activités Nord",
            route_type: 3,
            color: "2E7D32",
            speed_kmh: 20.0,
            headway_min: 30,
            span: (4, 23),
            stops: vec![
                ("delta", "Plateforme logistique Delta", -1800.0, -1600.0),
                ("fosse9", "Fosse 9", -1200.0, -1200.0),
                ("corons_sud", "Corons Sud", -600.0, -800.0),
                ("gare_bus", "Gare de Fosseville", 0.0, -1200.0),
                ("mediatheque", "Médiathèque", 600.0, -400.0),
                ("lycee", "Lycée Louise Michel", 800.0, 0.0),
                ("hopital", "Hôpital de Fosseville", 1200.0, 1200.0),
                ("zan", "Zone d'activités Nord", 1600.0, 1800.0),
            ],
        },
        Line {
            id: "T",
            short: "T",
            long: "Tram Ouest - Est",
            route_type: 0,
            color: "0055A4",
            speed_kmh: 22.0,
            headway_min: 8,
            span: (5, 24),
            stops: vec![
                ("t_ouest", "Fosseville Ouest", -2000.0, 800.0),
                ("t_bruyeres", "Les Bruyères", -1500.0, 800.0),
                ("t_chapelle", "Chapelle", -1000.0, 800.0),
                ("t_halle", "Halle aux Grains", -500.0, 800.0),
                ("tram_nord", "Square Nord", 0.0, 800.0),
                ("t_musee", "Musée de la Mine", 500.0, 800.0),
                ("t_universite", "Université", 1000.0, 800.0),
                ("t_hopital", "Hôpital (tram)", 1400.0, 1000.0),
                ("t_est", "Fosseville Est", 2000.0, 800.0),
            ],
        },
        Line {
            id: "TER",
            short: "K99",
            long: "Fosseville - Ville-Voisine - Métropole",
            route_type: 2,
            color: "6E6E6E",
            speed_kmh: 70.0,
            headway_min: 60,
            span: (5, 23),
            stops: vec![("gare", "Gare de Fosseville", 0.0, -1300.0), ("voisine", "Ville-Voisine", 9000.0, -1300.0), ("metropole", "Métropole Centre", 24000.0, 3000.0)],
        },
    ]
}

fn hms(s: u32) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Writes the GTFS files of the demonstration town into `dir`.
pub fn write_gtfs(dir: &std::path::Path, first_day: jiff::civil::Date, days: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let last = first_day.checked_add(jiff::Span::new().days(days as i64 - 1)).unwrap_or(first_day);
    let ymd = |d: jiff::civil::Date| d.strftime("%Y%m%d").to_string();
    std::fs::write(dir.join("agency.txt"), "agency_id,agency_name,agency_url,agency_timezone,agency_lang\nFOSSE,Transports de Fosseville (fictif),https://example.org/fosseville,Europe/Paris,fr\n")?;
    let mut stops = String::from("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding\n");
    let mut seen = std::collections::BTreeSet::new();
    for l in lines() {
        for (id, name, x, y) in &l.stops {
            if seen.insert(*id) {
                let p = ll(*x, *y);
                let _ = writeln!(stops, "{id},{name},{:.6},{:.6},0,,{}", p.lat, p.lon, if *id == "terril" { 2 } else { 1 });
            }
        }
    }
    std::fs::write(dir.join("stops.txt"), stops)?;
    let mut routes = String::from("route_id,agency_id,route_short_name,route_long_name,route_type,route_color,route_text_color\n");
    let mut trips = String::from("route_id,service_id,trip_id,trip_headsign,direction_id,wheelchair_accessible\n");
    let mut st = String::from("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n");
    let mut freq = String::from("trip_id,start_time,end_time,headway_secs,exact_times\n");
    for l in lines() {
        let _ = writeln!(routes, "{},FOSSE,{},{},{},{},FFFFFF", l.id, l.short, l.long, l.route_type, l.color);
        for dir_id in 0..2u8 {
            let seq: Vec<_> = if dir_id == 0 { l.stops.clone() } else { l.stops.iter().rev().cloned().collect() };
            let headsign = seq.last().unwrap().1;
            for (service, factor) in [("SEMAINE", 1), ("WEEKEND", 2)] {
                let trip = format!("{}-{}-{}", l.id, dir_id, service);
                let _ = writeln!(trips, "{},{service},{trip},{headsign},{dir_id},1", l.id);
                let mut t = 0u32;
                for (i, (id, _, x, y)) in seq.iter().enumerate() {
                    if i > 0 {
                        let (_, _, px, py) = seq[i - 1];
                        let d = ((x - px).powi(2) + (y - py).powi(2)).sqrt() * 1.25;
                        t += (d / (l.speed_kmh / 3.6)).round() as u32 + 20;
                    }
                    let dep = if i + 1 < seq.len() { t + 20 } else { t };
                    let _ = writeln!(st, "{trip},{},{},{id},{}", hms(t), hms(dep), i + 1);
                    t = dep;
                }
                // Directions are offset so that both do not leave the ends together.
                let offset = if dir_id == 0 { 0 } else { l.headway_min * 60 / 2 };
                let _ = writeln!(freq, "{trip},{},{},{},1", hms(l.span.0 * 3600 + offset), hms(l.span.1 * 3600), l.headway_min * 60 * factor);
            }
        }
    }
    std::fs::write(dir.join("routes.txt"), routes)?;
    std::fs::write(dir.join("trips.txt"), trips)?;
    std::fs::write(dir.join("stop_times.txt"), st)?;
    std::fs::write(dir.join("frequencies.txt"), freq)?;
    std::fs::write(
        dir.join("calendar.txt"),
        format!("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nSEMAINE,1,1,1,1,1,0,0,{0},{1}\nWEEKEND,0,0,0,0,0,1,1,{0},{1}\n", ymd(first_day), ymd(last)),
    )?;
    Ok(())
}

/// The streets of the town as ways, through the normal graph builder.
pub fn streets() -> crate::model::streets::Streets {
    let step = 200.0;
    let n = 21i64; // -2000 .. 2000
    let id = |i: i64, j: i64| i * 100 + j;
    let mut node_ids = Vec::new();
    let mut coords = Vec::new();
    for i in 0..n {
        for j in 0..n {
            node_ids.push(id(i, j));
            coords.push(ll(-2000.0 + i as f64 * step, -2000.0 + j as f64 * step));
        }
    }
    // Station forecourt and the footpath across the park (diagonal).
    let tag = |pairs: &[(&str, &str)]| way_access(|k| pairs.iter().find(|(a, _)| *a == k).map(|(_, v)| *v)).unwrap();
    let residential = tag(&[("highway", "residential")]);
    let primary = tag(&[("highway", "primary")]);
    let oneway = tag(&[("highway", "residential"), ("oneway", "yes"), ("oneway:bicycle", "no")]);
    let footway = tag(&[("highway", "footway")]);
    let mut ways = Vec::new();
    let mut wid = 0;
    for i in 0..n {
        let col: Vec<i64> = (0..n).map(|j| id(i, j)).collect();
        let acc = if i == 12 { oneway } else if i == 10 { primary } else { residential };
        wid += 1;
        ways.push(OsmWay { id: wid, access: acc, nodes: col, name: Some(if i == 10 { "Avenue de la Gare".to_string() } else { format!("Rue {}", i + 1) }) });
        let row: Vec<i64> = (0..n).map(|j| id(j, i)).collect();
        wid += 1;
        ways.push(OsmWay { id: wid, access: if i == 10 { primary } else { residential }, nodes: row, name: Some(if i == 10 { "Boulevard Central".to_string() } else { format!("Allée {}", i + 1) }) });
    }
    // Park footpath: diagonal from (12,12) to (16,16), unnamed.
    wid += 1;
    ways.push(OsmWay { id: wid, access: footway, nodes: (12..=16).map(|k| id(k, k)).collect(), name: None });
    let mut order: Vec<usize> = (0..node_ids.len()).collect();
    order.sort_by_key(|&i| node_ids[i]);
    let sorted_ids: Vec<i64> = order.iter().map(|&i| node_ids[i]).collect();
    let sorted_coords: Vec<LatLon> = order.iter().map(|&i| coords[i]).collect();
    build_graph(&sorted_ids, sorted_coords, &ways, None).0
}

/// Opportunities of the town: the hospital and the job sites.
pub fn opportunities() -> Vec<PointSet> {
    let hosp = PointSet {
        name: "hospitals".into(),
        ids: vec!["hopital".into()],
        points: vec![ll(1250.0, 1150.0)],
        columns: vec!["count".into()],
        weights: vec![vec![1.0]],
        labels: vec!["Hôpital de Fosseville (fictif)".into()],
        text: vec![("facility_type".into(), vec!["Centre hospitalier".into()])],
    };
    let sites = [("zan", "Zone d'activités Nord", 1600.0, 1750.0, 1200.0), ("delta", "Plateforme logistique Delta", -1850.0, -1650.0, 800.0), ("centre", "Centre-ville", 0.0, 100.0, 500.0), ("ccial", "Centre commercial", 1950.0, -100.0, 400.0)];
    let jobs = PointSet {
        name: "jobs".into(),
        ids: sites.iter().map(|s| s.0.to_string()).collect(),
        points: sites.iter().map(|s| ll(s.2, s.3)).collect(),
        columns: vec!["jobs".into(), "count".into()],
        weights: vec![sites.iter().map(|s| s.4).collect(), vec![1.0; sites.len()]],
        labels: sites.iter().map(|s| s.1.to_string()).collect(),
        text: vec![],
    };
    // Neighbourhoods: a grid of origins with residents, for the accessibility map.
    let mut hoods = PointSet { name: "neighbourhoods".into(), columns: vec!["population".into(), "count".into()], weights: vec![vec![], vec![]], ..Default::default() };
    for i in 0..8 {
        for j in 0..8 {
            let (x, y) = (-1750.0 + i as f64 * 500.0, -1750.0 + j as f64 * 500.0);
            hoods.ids.push(format!("q{i}{j}"));
            hoods.points.push(ll(x, y));
            hoods.labels.push(format!("Quartier {}{}", (b'A' + i as u8) as char, j + 1));
            hoods.weights[0].push(300.0 + ((i * 7 + j * 3) % 5) as f64 * 150.0);
            hoods.weights[1].push(1.0);
        }
    }
    vec![hosp, jobs, hoods]
}

/// Builds the demonstration network, valid from a week before `today` for a year.
pub fn network(today: jiff::civil::Date) -> anyhow::Result<Network> {
    let dir = std::env::temp_dir().join(format!("terril-demo-{}-{}", std::process::id(), jiff::Timestamp::now().as_nanosecond()));
    let first = today.checked_sub(jiff::Span::new().days(7)).unwrap_or(today);
    write_gtfs(&dir.join("fosseville"), first, 372)?;
    let cfg = BuildConfig { gtfs: vec![dir.join("fosseville").display().to_string()], ..Default::default() };
    let built = build_with(&cfg, Some(streets()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut net, _) = built?;
    net.meta.demo = true;
    net.meta.title = TITLE.into();
    net.meta.inputs.clear();
    Ok(net)
}
