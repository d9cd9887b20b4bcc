//! Corrupt inputs and hostile output paths: the build answers with a clear error (or
//! builds and lists warnings), never a panic, an abort or a half-written file.

mod common;
use common::*;
use terril::build::{build, BuildConfig};

fn tmp(name: &str) -> TestDir {
    TestDir::new(&format!("hostile-{name}"))
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

/// A corpus of corrupted feeds generated from the real Trensurb feed (23 stations): every
/// build either stops with a message naming the file and the problem, or builds and lists
/// its warnings; none panics.
#[test]
fn corrupted_feeds_give_named_errors_or_listed_warnings_never_a_panic() {
    let d = require_data!();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(d.join("porto-alegre/poa_trensurb.zip")).unwrap()).unwrap();
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).unwrap();
        files.push((f.name().to_string(), s));
    }
    let get = |name: &str| files.iter().find(|f| f.0 == name).unwrap().1.clone();
    let first_data_line = |text: &str| text.lines().nth(1).unwrap().to_string();
    // (case, file, new content, expected in the error, or "" when it must build)
    let stops = get("stops.txt");
    let st = get("stop_times.txt");
    let cal = get("calendar.txt");
    let agency = get("agency.txt");
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("bad time zone", "agency.txt", agency.replace("America/Sao_Paulo", "America/Porto_Alegre_Nowhere"), "invalid_timezone agency.txt:2"),
        ("NaN coordinates", "stops.txt", stops.replacen(&first_data_line(&stops), "MR,ESTACAO MERCADO,NaN,-51.2282682008", 1), "number_out_of_range stops.txt:2"),
        ("999 coordinates", "stops.txt", stops.replacen(&first_data_line(&stops), "MR,ESTACAO MERCADO,999,-51.2282682008", 1), "number_out_of_range"),
        ("inf coordinates", "stops.txt", stops.replacen(&first_data_line(&stops), "MR,ESTACAO MERCADO,inf,-51.2282682008", 1), "number_out_of_range"),
        ("duplicate stop", "stops.txt", format!("{}\n{}\n", stops.trim_end(), first_data_line(&stops)), "duplicate_key stops.txt"),
        ("header-only stop_times", "stop_times.txt", format!("{}\n", st.lines().next().unwrap()), "empty_file stop_times.txt"),
        ("calendar ends before it starts", "calendar.txt", cal.replace("20190301,20191231", "20191231,20190301"), "start_and_end_range_out_of_order calendar.txt"),
        ("missing column", "stop_times.txt", st.replace("stop_id", "station"), "stop_times.txt"),
        ("bad time", "stop_times.txt", st.replacen("05:08:35", "5h08", 1), "stop_times.txt"),
        ("BOM and CRLF", "stops.txt", format!("\u{feff}{}", stops.replace('\n', "\r\n")), ""),
        ("accents", "stops.txt", stops.replace("ESTACAO MERCADO", "ESTAÇÃO MERCADO — centre"), ""),
    ];
    let dir = tmp("corpus");
    for (name, file, content, want) in cases {
        let feed = dir.join(name.replace(' ', "_"));
        std::fs::create_dir_all(&feed).unwrap();
        for (n, c) in &files {
            std::fs::write(feed.join(n), if n == file { &content } else { c }).unwrap();
        }
        let r = std::panic::catch_unwind(|| build(&BuildConfig { gtfs: vec![format!("tr={}", feed.display())], ..Default::default() }).map(|(n, _)| n.timetable.trips.ids.len()).map_err(|e| e.to_string()));
        match r {
            Err(_) => panic!("{name}: panicked"),
            Ok(Ok(trips)) => assert!(want.is_empty() && trips > 0, "{name}: built ({trips} trips) where '{want}' was expected"),
            Ok(Err(e)) => {
                assert!(!want.is_empty(), "{name}: refused: {e}");
                assert!(e.contains(want) && e.contains("'tr'"), "{name}: {e}");
            }
        }
    }
    // Latin-1 bytes (not UTF-8) in a name: an error naming the file, or a build.
    let feed = dir.join("latin1");
    std::fs::create_dir_all(&feed).unwrap();
    for (n, c) in &files {
        let mut bytes = c.clone().into_bytes();
        if n == "stops.txt" {
            bytes = stops.replace("ESTACAO MERCADO", "ESTACAO MERCADO X").into_bytes();
            let at = bytes.windows(1).position(|w| w == b"X").unwrap();
            bytes[at] = 0xC7; // 'Ç' in Latin-1
        }
        std::fs::write(feed.join(n), bytes).unwrap();
    }
    let r = std::panic::catch_unwind(|| build(&BuildConfig { gtfs: vec![format!("tr={}", feed.display())], ..Default::default() }).map(|_| ()).map_err(|e| e.to_string()));
    match r {
        Err(_) => panic!("latin-1: panicked"),
        Ok(Err(e)) => assert!(e.contains("stops.txt"), "{e}"),
        Ok(Ok(())) => {}
    }
    // --strict turns warnings into errors.
    let feed = dir.join("strict");
    std::fs::create_dir_all(&feed).unwrap();
    for (n, c) in &files {
        std::fs::write(feed.join(n), c).unwrap();
    }
    let trip = st.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
    std::fs::write(feed.join("frequencies.txt"), format!("trip_id,start_time,end_time,headway_secs\n{trip},06:00:00,07:00:00,0\n")).unwrap();
    let ok = build(&BuildConfig { gtfs: vec![format!("tr={}", feed.display())], ..Default::default() }).unwrap().0;
    assert!(ok.meta.warnings.iter().any(|w| w.contains("WARNING number_out_of_range frequencies.txt:2")), "{:?}", ok.meta.warnings);
    let e = build(&BuildConfig { gtfs: vec![format!("tr={}", feed.display())], strict: true, ..Default::default() }).err().unwrap().to_string();
    assert!(e.contains("number_out_of_range frequencies.txt:2"), "{e}");
}

/// Issue 14: memory after a burst comes back. `terril serve` (the binary, with its own
/// runtime settings) on TER takes 64 connections asking for journeys for 8 s; once they
/// are gone the process holds at most 64 MiB more than before (with tokio's default
/// 512-thread blocking pool it kept ~150 MiB more, one heap arena per thread).
#[test]
fn memory_after_a_burst_of_64_connections_comes_back() {
    let d = require_data!();
    let dir = tmp("burst");
    let net = dir.join("ter.bin");
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_terril")).args(["build", "--gtfs"]).arg(d.join("ter/ter-2025-01-22.gtfs.zip")).arg("--out").arg(&net).output().unwrap();
    assert!(ok.status.success());
    let port = 18000 + (std::process::id() % 1000) as u16;
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_terril")).args(["serve", "--network"]).arg(&net).args(["--port", &port.to_string()]).stderr(std::process::Stdio::null()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let rss = |pid: u32| -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        s.lines().find(|l| l.starts_with("VmRSS")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0) / 1024
    };
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        reqwest::blocking::get(format!("{base}/health")).is_ok_and(|r| r.status().is_success())
    });
    assert!(up, "the server did not start");
    let url = format!("{base}/api/plan?from=ter:StopArea:OCE87345025&to=ter:StopArea:OCE87286005&date=2025-02-04&time=07:00");
    reqwest::blocking::get(&url).unwrap();
    let idle = rss(server.id());
    let stop = std::time::Instant::now() + std::time::Duration::from_secs(8);
    let answered: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..64)
            .map(|_| {
                s.spawn(|| {
                    let c = reqwest::blocking::Client::new();
                    let mut n = 0;
                    while std::time::Instant::now() < stop {
                        n += c.get(&url).send().is_ok_and(|r| r.status().is_success()) as usize;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let peak = rss(server.id());
    std::thread::sleep(std::time::Duration::from_secs(7));
    let after = rss(server.id());
    let alive = reqwest::blocking::get(format!("{base}/health")).is_ok_and(|r| r.status().is_success());
    server.kill().ok();
    server.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    assert!(answered > 1000 && alive, "{answered} journeys answered in the burst; alive after: {alive}");
    assert!(after <= idle + 64, "memory idle {idle} MiB, {peak} at the end of the burst, {after} 7 s later");
}
