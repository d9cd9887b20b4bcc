//! Shared test helpers: locating ../shared/data, building real networks once per test
//! binary, and reading raw GTFS files independently of terril's ingest.
#![allow(dead_code)]

pub mod http_server;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use terril::build::{build, BuildConfig};
use terril::model::Network;

/// `../shared/data`, or None (with a message) on a machine without it. With CI=true a
/// missing data folder fails the test instead.
pub fn data_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.join("SHA256SUMS").exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("../shared/data is missing but CI=true: the real-data tests must run in CI");
    }
    eprintln!("SKIPPED: ../shared/data not found; real-data test not run");
    None
}

macro_rules! require_data {
    () => {
        match common::data_dir() {
            Some(d) => d,
            None => return,
        }
    };
}
pub(crate) use require_data;

pub fn build_net(gtfs: &[PathBuf], osm: Option<PathBuf>) -> Network {
    let cfg = BuildConfig { gtfs: gtfs.iter().map(|p| p.display().to_string()).collect(), osm, ..Default::default() };
    build(&cfg).expect("build").0
}

pub fn ter2025() -> &'static Network {
    static N: OnceLock<Network> = OnceLock::new();
    N.get_or_init(|| build_net(&[data_dir().unwrap().join("ter/ter-2025-01-22.gtfs.zip")], None))
}

pub fn poa() -> &'static Network {
    static N: OnceLock<Network> = OnceLock::new();
    N.get_or_init(|| {
        let d = data_dir().unwrap().join("porto-alegre");
        build_net(&[d.join("poa_eptc.zip"), d.join("poa_trensurb.zip")], Some(d.join("poa_osm.pbf")))
    })
}

/// A raw GTFS file read with plain CSV: header -> column, rows as strings.
pub struct RawTable {
    pub cols: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl RawTable {
    pub fn get<'a>(&self, row: &'a [String], col: &str) -> &'a str {
        self.cols.get(col).and_then(|&i| row.get(i)).map(|s| s.trim()).unwrap_or("")
    }
}

/// Reads `name` from a zip (any folder inside, ignoring `__MACOSX`) or a folder.
pub fn raw_table(feed: &Path, name: &str) -> Option<RawTable> {
    let bytes = if feed.is_dir() {
        std::fs::read(feed.join(name)).ok()?
    } else {
        let mut z = zip::ZipArchive::new(std::fs::File::open(feed).ok()?).ok()?;
        let idx = (0..z.len()).find(|&i| {
            let f = z.by_index(i).unwrap();
            let n = f.name().to_string();
            !n.contains("__MACOSX") && (n == name || n.ends_with(&format!("/{name}")))
        })?;
        let mut v = Vec::new();
        z.by_index(idx).unwrap().read_to_end(&mut v).unwrap();
        v
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes).to_vec();
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
    let cols = r.headers().unwrap().iter().enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(|s| s.to_string()).collect()).collect();
    Some(RawTable { cols, rows })
}

pub fn parse_hms(s: &str) -> Option<i64> {
    let p: Vec<&str> = s.trim().split(':').collect();
    if p.len() != 3 {
        return None;
    }
    Some(p[0].parse::<i64>().ok()? * 3600 + p[1].parse::<i64>().ok()? * 60 + p[2].parse::<i64>().ok()?)
}

/// Dates (YYYYMMDD) on which each service runs, from raw calendar.txt + calendar_dates.txt.
pub fn raw_service_dates(feed: &Path) -> HashMap<String, std::collections::HashSet<String>> {
    let mut out: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    if let Some(cal) = raw_table(feed, "calendar.txt") {
        let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
        for row in &cal.rows {
            let sid = cal.get(row, "service_id").to_string();
            let start: jiff::civil::Date = jiff::fmt::strtime::parse("%Y%m%d", cal.get(row, "start_date")).unwrap().to_date().unwrap();
            let end: jiff::civil::Date = jiff::fmt::strtime::parse("%Y%m%d", cal.get(row, "end_date")).unwrap().to_date().unwrap();
            let mut d = start;
            let set = out.entry(sid).or_default();
            while d <= end {
                let wd = d.weekday().to_monday_zero_offset() as usize;
                if cal.get(row, days[wd]) == "1" {
                    set.insert(d.strftime("%Y%m%d").to_string());
                }
                d = d.tomorrow().unwrap();
            }
        }
    }
    if let Some(cd) = raw_table(feed, "calendar_dates.txt") {
        for row in &cd.rows {
            let set = out.entry(cd.get(row, "service_id").to_string()).or_default();
            let date = cd.get(row, "date").to_string();
            if cd.get(row, "exception_type") == "1" {
                set.insert(date);
            } else {
                set.remove(&date);
            }
        }
    }
    out
}

/// A scratch folder under the system's temporary one, removed when the test ends (passed
/// or failed): runs leave nothing behind.
pub struct TestDir(tempfile::TempDir);

impl TestDir {
    pub fn new(name: &str) -> Self {
        TestDir(tempfile::Builder::new().prefix(&format!("terril-{name}-")).tempdir().expect("a temporary folder"))
    }
}

impl std::ops::Deref for TestDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl AsRef<std::path::Path> for TestDir {
    fn as_ref(&self) -> &std::path::Path {
        self.0.path()
    }
}
