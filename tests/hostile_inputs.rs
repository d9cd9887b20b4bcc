//! Corrupt inputs and hostile output paths: the build answers with a clear error (or
//! builds and lists warnings), never a panic, an abort or a half-written file.

mod common;
use common::*;
use std::path::PathBuf;
use terril::build::{build, BuildConfig};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("terril-hostile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn truncated_and_bit_flipped_extracts_give_an_error_never_a_panic() {
    let d = require_data!();
    let pbf = std::fs::read(d.join("porto-alegre/poa_osm.pbf")).unwrap();
    let dir = tmp("pbf");
    let n_blocks = terril::ingest::osm::check_pbf_blocks(&d.join("porto-alegre/poa_osm.pbf")).unwrap();
    assert!(n_blocks >= 2, "{n_blocks} blocks");
    for cut in [10, 100, pbf.len() / 3, pbf.len() / 2, pbf.len() - 1] {
        let p = dir.join(format!("cut-{cut}.osm.pbf"));
        std::fs::write(&p, &pbf[..cut]).unwrap();
        let e = build(&BuildConfig { osm: Some(p), ..Default::default() }).err().expect("a truncated extract is refused").to_string();
        assert!(e.contains("truncated") || e.contains("not a valid"), "cut at {cut}: {e}");
    }
    // Bit flips inside compressed blocks: an error or a build, never a panic.
    for (k, at) in [pbf.len() / 4, pbf.len() / 2, pbf.len() * 3 / 4].into_iter().enumerate() {
        let mut b = pbf.clone();
        for x in &mut b[at..at + 32] {
            *x ^= 0xa5;
        }
        let p = dir.join(format!("flip-{k}.osm.pbf"));
        std::fs::write(&p, &b).unwrap();
        let r = std::panic::catch_unwind(|| build(&BuildConfig { osm: Some(p.clone()), ..Default::default() }).map(|_| ()).map_err(|e| e.to_string()));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => assert!(e.contains("poa") || e.contains("flip"), "the error names the file: {e}"),
            Err(_) => panic!("a bit flip at {at} escaped as a panic"),
        }
    }
}

#[test]
fn the_network_file_never_replaces_a_device_a_folder_or_a_link() {
    let d = require_data!();
    let (net, _) = build(&BuildConfig { gtfs: vec![d.join("porto-alegre/poa_trensurb.zip").display().to_string()], ..Default::default() }).unwrap();
    let dir = tmp("out");
    let e = net.save(std::path::Path::new("/dev/null")).unwrap_err().to_string();
    assert!(e.contains("not a regular file") && e.contains("nothing was written"), "{e}");
    let e = net.save(&dir).unwrap_err().to_string();
    assert!(e.contains("a folder"), "{e}");
    let target = dir.join("target.bin");
    std::fs::write(&target, b"keep me").unwrap();
    let link = dir.join("link.bin");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = net.save(&link).unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    // A write that fails leaves no temporary file behind.
    let e = net.save(std::path::Path::new("/proc/terril-cannot-write-here/net.bin")).unwrap_err().to_string();
    assert!(e.contains("cannot write") && e.contains("nothing was left behind"), "{e}");
    // A regular file is written and reads back equal.
    let ok = dir.join("net.bin");
    net.save(&ok).unwrap();
    assert_eq!(terril::model::Network::load(&ok).unwrap(), net);
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp-")));
}

#[test]
fn frequencies_that_would_expand_without_bound_are_refused() {
    let dir = tmp("freq");
    let feed = dir.join("feed");
    std::fs::create_dir_all(&feed).unwrap();
    let files = [
        ("agency.txt", "agency_id,agency_name,agency_url,agency_timezone\nA,A,http://a,Europe/Paris\n".to_string()),
        ("stops.txt", "stop_id,stop_name,stop_lat,stop_lon\nS1,One,50.43,2.82\nS2,Two,50.44,2.83\n".to_string()),
        ("routes.txt", "route_id,agency_id,route_short_name,route_type\nR,A,R,3\n".to_string()),
        ("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nW,1,1,1,1,1,1,1,20250101,20251231\n".to_string()),
        ("trips.txt", format!("route_id,service_id,trip_id\n{}", (0..30).map(|i| format!("R,W,T{i}\n")).collect::<String>())),
        ("stop_times.txt", format!("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n{}", (0..30).map(|i| format!("T{i},08:00:00,08:00:00,S1,1\nT{i},08:05:00,08:05:00,S2,2\n")).collect::<String>())),
        ("frequencies.txt", format!("trip_id,start_time,end_time,headway_secs\n{}T0,06:00:00,06:00:00,0\n", (0..30).map(|i| format!("T{i},00:00:00,47:59:59,1\n")).collect::<String>())),
    ];
    for (n, t) in &files {
        std::fs::write(feed.join(n), t).unwrap();
    }
    let t = std::time::Instant::now();
    let e = build(&BuildConfig { gtfs: vec![feed.display().to_string()], ..Default::default() }).err().expect("refused").to_string();
    assert!(e.contains("frequencies.txt") && e.contains("more than the 2000000"), "{e}");
    assert!(t.elapsed().as_secs() < 30);
    // With a sane headway the same feed builds, and the zero headway is listed.
    let sane = format!("trip_id,start_time,end_time,headway_secs\nT0,06:00:00,09:00:00,600\nT1,06:00:00,06:00:00,0\n");
    std::fs::write(feed.join("frequencies.txt"), sane).unwrap();
    let (net, _) = build(&BuildConfig { gtfs: vec![feed.display().to_string()], ..Default::default() }).unwrap();
    assert!(net.meta.warnings.iter().any(|w| w.contains("headway_secs 0")), "{:?}", net.meta.warnings);
    assert_eq!(net.timetable.trips.ids.len(), 18 + 29, "T0 every 10 min 06:00-09:00, T1 a plain trip with its bad row ignored, T2..T29 plain");
}
