//! The `terril` command line: a thin face on the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use terril::build::{self, BuildConfig};
use terril::model::Network;

#[derive(Parser)]
#[command(name = "terril", version, about = "Multimodal trip planner and accessibility calculator for the Bassin minier.",
    long_about = "terril builds one multimodal network from GTFS feeds and an OpenStreetMap extract, \
then plans journeys (walk, bike, bus, tram, train) and serves them over HTTP.\n\n\
Typical use:\n  terril build --gtfs feeds/ --osm osm/region.osm.pbf --out network.bin\n  terril info network.bin\n  terril serve --network network.bin")]
struct Cli {
    /// More logging (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a network file from GTFS feeds and an OpenStreetMap extract.
    Build {
        /// A GTFS zip, a GTFS folder, or a folder of feeds. Repeat for several; NAME=PATH sets the id namespace.
        #[arg(long, value_name = "PATH")]
        gtfs: Vec<String>,
        /// OpenStreetMap extract (.osm.pbf). Without it, footpaths are straight lines x 1.3.
        #[arg(long, value_name = "FILE")]
        osm: Option<PathBuf>,
        /// Output network file.
        #[arg(long, short, default_value = "network.bin")]
        out: PathBuf,
        /// Go on without feeds that cannot be routed (and say which) instead of failing.
        #[arg(long)]
        skip_broken_feeds: bool,
        /// Longest stop-to-stop footpath, minutes.
        #[arg(long, default_value_t = 15)]
        footpath_minutes: u32,
        /// Stops farther than this from any street are reported, metres.
        #[arg(long, default_value_t = 300.0)]
        snap_limit: f64,
        /// Feed warnings (the MobilityData validator's WARNING notices) stop the build too.
        #[arg(long)]
        strict: bool,
        /// Keep only the area MIN_LAT,MIN_LON,MAX_LAT,MAX_LON: streets, and stops (a trip
        /// keeps the stops it serves inside, at least two). The basin and Lille:
        /// 50.18,2.30,50.70,3.72.
        #[arg(long, value_name = "BBOX")]
        crop: Option<String>,
        /// National address base file (BAN adresses-DD.csv or .csv.gz, as `terril fetch`
        /// downloads it into osm/): "12 rue de la Gare Lens" is then found. Repeat for
        /// several départements. Without it, the OSM extract's addresses are used.
        #[arg(long, value_name = "FILE")]
        addresses: Vec<PathBuf>,
        /// Named points people type, kept in the network's gazetteer: communes, hospitals,
        /// job sites (GeoJSON or CSV with a name column; the kind is told by the file name:
        /// communes..., hospitals..., zones-emploi...). Repeat for several.
        #[arg(long, value_name = "FILE")]
        places: Vec<PathBuf>,
    },
    /// Serve the journey API (and the web page) over HTTP.
    ///
    /// Without --network, uses (in order): ./network.bin; the feeds in ./feeds and the
    /// extract in ./osm (built once, rebuilt when they change); the TER national feed in
    /// ../shared/data.
    Serve {
        /// Network file built by `terril build`.
        #[arg(long)]
        network: Option<PathBuf>,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on; 0.0.0.0 to accept other machines.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Opportunity sets for /api/access, NAME=FILE (CSV, GeoJSON or Filosofi JSON).
        /// Repeatable. By default the hospitals and communes of ../shared/data when present.
        #[arg(long, value_name = "NAME=FILE")]
        opportunities: Vec<String>,
        /// Serve the built-in fictional demonstration town.
        #[arg(long)]
        demo: bool,
        /// Allow pages of this origin (e.g. https://carto.example.org) to call the API
        /// from a browser (CORS). Repeatable. By default only the page served here can.
        #[arg(long, value_name = "ORIGIN")]
        allow_origin: Vec<String>,
        /// Also answer requests whose Host header is this name (a deployment behind a
        /// proxy, e.g. terril.example.org). Repeatable. By default: localhost, 127.0.0.1,
        /// [::1] and the --bind address; other names are refused (DNS rebinding).
        #[arg(long, value_name = "NAME")]
        public_host: Vec<String>,
        /// Analyses (isochrones, accessibility, matrices, comparisons) computed at once;
        /// more get 503 with Retry-After.
        #[arg(long, default_value_t = terril::server::DEFAULT_HEAVY)]
        max_analyses: usize,
        /// Folder of the scenario files the page offers (JSON, see scenarios/README.md);
        /// the repository's scenarios/ when serving from its folder.
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Communes (GeoJSON polygons with `population` and `epci_nom`) for the health
        /// report of the page and /api/report/health; default: the basin's communes of
        /// ../shared/data when present.
        #[arg(long, value_name = "GEOJSON")]
        report_areas: Option<PathBuf>,
        /// Folder of INSEE Filosofi 200 m files (<insee>.json) placing the report
        /// communes' inhabitants; default: ../shared/data/bassin-minier/filosofi-200m
        /// when present. Other communes get points every 200 m inside their outline.
        #[arg(long, value_name = "DIR")]
        population_grid: Option<PathBuf>,
        /// Longest computation of one request, seconds (stopped with 503 beyond).
        #[arg(long, default_value_t = terril::server::DEFAULT_TIMEOUT_S)]
        request_timeout: u64,
        /// Longest wait for a free analysis slot, seconds (503 with Retry-After beyond).
        #[arg(long, default_value_t = terril::server::DEFAULT_QUEUE_WAIT_S)]
        queue_wait: u64,
    },
    /// Download the open data of a region into feeds/ and osm/ (resumable, checked).
    ///
    /// The datasets are listed in feeds/sources.toml (edit it to add a network).
    Fetch {
        /// Region: bassin-minier.
        #[arg(default_value = "bassin-minier")]
        region: String,
        /// Sources file.
        #[arg(long, default_value = "feeds/sources.toml")]
        sources: PathBuf,
        #[arg(long, default_value = "feeds")]
        feeds: PathBuf,
        #[arg(long, default_value = "osm")]
        osm: PathBuf,
        /// Print what would be downloaded (dataset, resource, size, licence), download nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Plan a journey on the command line (same answer as GET /api/plan), printed as JSON.
    Plan {
        #[arg(long)]
        network: PathBuf,
        /// Origin: lat,lon, a stop id, or a place name (commune, station, hospital,
        /// street, "12 rue de la Gare Lens"), as the page's search finds it.
        #[arg(long)]
        from: String,
        /// Destination: as --from.
        #[arg(long)]
        to: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// HH:MM.
        #[arg(long)]
        time: Option<String>,
        /// `time` is the latest arrival.
        #[arg(long)]
        arrive_by: bool,
        /// transit, bus, tram, rail, coach...; walk; bike.
        #[arg(long)]
        modes: Option<String>,
        /// Longest walk to or from a stop, minutes.
        #[arg(long)]
        max_walk: Option<String>,
        #[arg(long)]
        wheelchair: bool,
        #[arg(long)]
        num_itineraries: Option<String>,
        /// Print a short text summary instead of JSON.
        #[arg(long)]
        text: bool,
    },
    /// Travel-time isochrones from one point, as GeoJSON (one polygon per cutoff).
    Isochrone {
        #[arg(long)]
        network: PathBuf,
        /// Origin: lat,lon or a stop id.
        #[arg(long)]
        from: String,
        #[arg(long)]
        date: Option<String>,
        /// Start of the departure window, HH:MM.
        #[arg(long, default_value = "08:00")]
        time: String,
        /// Window length in minutes (departures every minute), or HH:MM-HH:MM.
        #[arg(long, default_value = "60")]
        window: String,
        /// Cutoffs in minutes.
        #[arg(long, default_value = "15,30,45,60")]
        cutoffs: String,
        /// walk, bike, transit (walk + transit) or bike_transit.
        #[arg(long, default_value = "transit")]
        mode: String,
        /// Percentile of the window's travel times.
        #[arg(long, default_value = "50")]
        percentile: String,
        #[command(flatten)]
        trip: TripFlags,
        /// Grid cell size, metres (20 to 1000).
        #[arg(long, default_value_t = 100.0)]
        cell: f64,
        /// Output file (.geojson); stdout when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Accessibility of many origins to opportunities (jobs, hospitals...): CSV or GeoJSON out.
    ///
    /// Point files: CSV with lat/lon columns (numeric columns are weights), GeoJSON points
    /// or polygons (centroids; numeric properties are weights), INSEE Filosofi .json.
    Access {
        #[command(flatten)]
        inputs: PointInputs,
        #[arg(long)]
        date: Option<String>,
        /// Departure window HH:MM-HH:MM (departures every minute).
        #[arg(long, default_value = "07:00-08:00")]
        window: String,
        #[arg(long, default_value = "30,45,60")]
        cutoffs: String,
        #[arg(long, default_value = "50")]
        percentiles: String,
        /// walk, bike, transit or bike_transit.
        #[arg(long, default_value = "transit")]
        mode: String,
        /// Destination columns to count (default: every weight column).
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
        /// step, linear, exponential (half weight at the cutoff), logistic or
        /// fixed_exponential (exp(-k t), k = --decay-value per minute).
        #[arg(long)]
        decay: Option<String>,
        /// Width of linear and logistic decay, minutes (default 10).
        #[arg(long)]
        decay_width: Option<String>,
        /// Rate k of fixed_exponential, per minute.
        #[arg(long)]
        decay_value: Option<String>,
        /// Ranks for time to the n-th nearest opportunity, e.g. 1,3.
        #[arg(long, default_value = "1")]
        nth: String,
        #[command(flatten)]
        trip: TripFlags,
        /// Origins' column used to weight the summary (e.g. population).
        #[arg(long)]
        summary_weight: Option<String>,
        /// Compute only shard K of N (e.g. 3/8): a deterministic share of the origins
        /// (ordered along a Hilbert curve, dealt round-robin), written as CSV with a
        /// manifest OUT.shard.json; `terril merge` rebuilds the single run's output.
        #[arg(long, value_name = "K/N")]
        shard: Option<terril::analysis::shard::Shard>,
        /// Output: .csv, .geojson or .fgb (FlatGeobuf, opens in QGIS with its attributes).
        #[arg(long, default_value = "access.csv")]
        out: PathBuf,
    },
    /// Origin-destination travel-time matrix (as r5r's travel_time_matrix), long format:
    /// from_id,to_id,travel_time_p50,... in whole minutes (rounded down, as R5), empty
    /// when unreachable. The parameters used are written to OUT.params.json.
    Matrix {
        #[arg(long)]
        network: PathBuf,
        /// Origins file (CSV lat/lon, GeoJSON, Filosofi JSON).
        #[arg(long)]
        origins: PathBuf,
        /// Destinations file (default: the origins).
        #[arg(long)]
        destinations: Option<PathBuf>,
        #[arg(long)]
        date: Option<String>,
        /// Departure window HH:MM-HH:MM (departures every minute).
        #[arg(long, default_value = "07:00-09:00")]
        window: String,
        /// Up to 5 percentiles of the window's travel times.
        #[arg(long, default_value = "50")]
        percentiles: String,
        /// walk, bike, transit or bike_transit.
        #[arg(long, default_value = "transit")]
        mode: String,
        #[command(flatten)]
        trip: TripFlags,
        /// Longest trip, minutes (unreachable beyond).
        #[arg(long, default_value = "120")]
        cutoff: String,
        /// Times in seconds (travel_time_p50_s) instead of whole minutes.
        #[arg(long)]
        seconds: bool,
        /// Leave out pairs unreachable at every percentile.
        #[arg(long)]
        reachable_only: bool,
        /// Add how the trip behind the first percentile is made (as r5r's expanded
        /// matrix): departure_time, access, wait, ride, transfer and egress times (they
        /// sum to the travel time), n_rides and the routes ridden. Slower (one more search
        /// per departure minute used).
        #[arg(long)]
        breakdown: bool,
        /// Compute only shard K of N (e.g. 3/8): a deterministic share of the origins
        /// (ordered along a Hilbert curve, dealt round-robin), written as CSV with a
        /// manifest OUT.shard.json; `terril merge` rebuilds the single run's output.
        #[arg(long, value_name = "K/N")]
        shard: Option<terril::analysis::shard::Shard>,
        /// Output file: CSV, or Apache Parquet when it ends in .parquet (for R/arrow,
        /// pandas, DuckDB; times as integers, null when unreachable).
        #[arg(long, default_value = "matrix.csv")]
        out: PathBuf,
    },
    /// Merge the partial outputs of `access --shard` or `matrix --shard` runs into the
    /// output one run would have written, byte for byte. Refuses parts computed on another
    /// network, other inputs or other parameters, a missing or doubled shard, a cut file.
    Merge {
        /// The N partial CSV files (each with its OUT.shard.json beside it).
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare accessibility before and after a network change (a scenario file, or two
    /// network versions), per origin and summarised, in French and English.
    Compare {
        /// The network (the scenario applies to it; with --baseline-network, the "after").
        #[arg(long)]
        network: PathBuf,
        /// Scenario file (JSON, see scenarios/README.md).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Compare two networks instead: this one is "before".
        #[arg(long)]
        baseline_network: Option<PathBuf>,
        #[arg(long)]
        origins: PathBuf,
        #[arg(long)]
        destinations: PathBuf,
        #[arg(long)]
        date: Option<String>,
        /// Date used on the baseline network when it covers another period.
        #[arg(long)]
        baseline_date: Option<String>,
        #[arg(long, default_value = "07:00-08:00")]
        window: String,
        #[arg(long, default_value = "30,45,60")]
        cutoffs: String,
        #[arg(long, default_value = "50")]
        percentiles: String,
        #[arg(long, default_value = "transit")]
        mode: String,
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
        #[command(flatten)]
        trip: TripFlags,
        /// Origins' column weighting the summary (e.g. population).
        #[arg(long)]
        summary_weight: Option<String>,
        /// Compute only shard K of N of the origins (see `access --shard`): the per-origin
        /// CSV part and its manifest; `terril merge` rebuilds the single run's CSV (the
        /// printed summary is the shard's own).
        #[arg(long, value_name = "K/N")]
        shard: Option<terril::analysis::shard::Shard>,
        /// Output: .csv, .geojson or .fgb (FlatGeobuf, opens in QGIS with its attributes).
        #[arg(long, default_value = "compare.csv")]
        out: PathBuf,
    },
    /// Site access sheet (one French A4 page, or JSON): the stops and stations near a site
    /// with walking and cycling times and their lines, the arrivals before each shift and
    /// the departures after it, the communes from which one arrives in time.
    Sheet {
        #[arg(long)]
        network: PathBuf,
        /// The site: a place name (activity zone, hospital, commune, address), a stop id
        /// or lat,lon.
        #[arg(long)]
        site: String,
        /// The site's name on the sheet (default: the name found, or --site as given).
        #[arg(long)]
        name: Option<String>,
        /// Shift starts (each lasts 8 hours) or start-end pairs: 05:00,13:00,21:00 or
        /// 06:00-14:00.
        #[arg(long, default_value = "05:00,13:00,21:00")]
        shifts: String,
        /// Day (YYYY-MM-DD; default: today if within the timetable, else its first Tuesday).
        #[arg(long)]
        date: Option<String>,
        /// Communes with a population (GeoJSON) for "from which communes in time";
        /// default: the basin's communes of ../shared/data when present.
        #[arg(long)]
        communes: Option<PathBuf>,
        /// Places to find the site by name besides the network's own (CSV or GeoJSON
        /// with names, e.g. the hospitals).
        #[arg(long)]
        places: Vec<PathBuf>,
        /// Output: .html (the page to print) or .json.
        #[arg(long, default_value = "fiche-site.html")]
        out: PathBuf,
    },
    /// Reports a planner hands on (self-contained French HTML, printable to PDF).
    Report {
        #[command(subcommand)]
        kind: ReportKind,
    },
    /// Measure build, load and query times on the real data; prints Markdown for BENCHMARKS.md.
    Bench {
        /// What to measure: build, plan (ter: its TER part only), walk, access (isochrone: its isochrone part only) or all (walk writes WORK/walk-pairs.csv for benches/peers).
        #[arg(default_value = "all")]
        what: String,
        /// The shared data folder.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// Queries per latency measurement.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Where the benchmark networks are written.
        #[arg(long, default_value = "target/bench")]
        work: PathBuf,
        /// The accessibility bench on this many origins spread evenly over the grid
        /// instead of all 1,227 (to profile it, e.g. under valgrind); its checksum then
        /// differs.
        #[arg(long)]
        origins: Option<usize>,
    },
    /// Describe a network file: feeds, validity, counts, size.
    Info {
        /// Network file.
        network: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Trip rules shared by isochrone, access, matrix and compare (named as in r5r; see the
/// README's parameter table). Absent flags take the documented defaults.
#[derive(clap::Args, Debug, Clone, Default)]
struct TripFlags {
    /// Walking speed, km/h (default 4.8).
    #[arg(long)]
    walk_speed: Option<String>,
    /// Cycling speed, km/h (default 15).
    #[arg(long)]
    bike_speed: Option<String>,
    /// Each walking leg (access, egress, the walk-only trip), minutes (default 15; walk
    /// mode: max-trip-duration). Alias: --max-walk.
    #[arg(long, alias = "max-walk")]
    max_walk_time: Option<String>,
    /// Each walk between two rides, minutes (default: max-walk-time).
    #[arg(long)]
    max_transfer_walk_time: Option<String>,
    /// Each cycling leg, minutes (default 15; bike mode: max-trip-duration).
    #[arg(long)]
    max_bike_time: Option<String>,
    /// Longest trip counted, minutes (default: the largest cutoff).
    #[arg(long)]
    max_trip_duration: Option<String>,
    /// Most vehicles boarded in one trip (default 6).
    #[arg(long)]
    max_rides: Option<String>,
    /// Change time after each ride, seconds (default 60; 0 allowed).
    #[arg(long)]
    transfer_slack: Option<String>,
    /// Transit modes allowed: bus,tram,rail,coach... (default all).
    #[arg(long)]
    transit_modes: Option<String>,
    /// Step-free trips only (stops and trips marked not accessible are left out).
    #[arg(long)]
    wheelchair: bool,
}

impl TripFlags {
    /// The parameters of a batch analysis (access, matrix, compare): the surface's origin
    /// is the first point (each origin replaces it), then the window, cutoffs,
    /// percentiles, mode and these trip rules.
    #[allow(clippy::too_many_arguments)]
    fn analysis(&self, first: terril::model::geo::LatLon, date: Option<String>, window: String, cutoffs: String, percentiles: String, mode: String) -> terril::api::Params {
        let mut p = terril::api::Params { r#from: Some(format!("{},{}", first.lat, first.lon)), date, window: Some(window), cutoffs: Some(cutoffs), percentiles: Some(percentiles), mode: Some(mode), ..Default::default() };
        self.insert_into(&mut p);
        p
    }

    /// The trip rules into the query layer's parameters (validated there).
    fn insert_into(&self, p: &mut terril::api::Params) {
        p.walk_speed = self.walk_speed.clone();
        p.bike_speed = self.bike_speed.clone();
        p.max_walk_time = self.max_walk_time.clone();
        p.max_transfer_walk_time = self.max_transfer_walk_time.clone();
        p.max_bike_time = self.max_bike_time.clone();
        p.max_trip_duration = self.max_trip_duration.clone();
        p.max_rides = self.max_rides.clone();
        p.transfer_slack = self.transfer_slack.clone();
        p.transit_modes = self.transit_modes.clone();
        if self.wheelchair {
            p.wheelchair = Some("true".into());
        }
    }
}

/// The network and the two point files of an analysis.
#[derive(clap::Args)]
struct PointInputs {
    #[arg(long)]
    network: PathBuf,
    /// Origins file.
    #[arg(long)]
    origins: PathBuf,
    /// Destinations (opportunities) file.
    #[arg(long)]
    destinations: PathBuf,
}

#[derive(Subcommand)]
enum ReportKind {
    /// Access to the nearest health facility by public transport: key figures, a map, the
    /// share of the population within x minutes by area, tables per area and per commune,
    /// sources and parameters. Times are computed up to --max-minutes whatever the
    /// thresholds, so "beyond 60 min" and "none within 120 min" are told apart.
    Health {
        /// Origins: areas with a population (a communes GeoJSON with polygons, or points);
        /// destinations are the health facilities.
        #[command(flatten)]
        inputs: PointInputs,
        /// Origins' property naming the area each is summed into: epci (EPCI name),
        /// or any property (e.g. epci_siren).
        #[arg(long, default_value = "epci")]
        by: String,
        /// Group the communes by a CSV of `commune code,group` instead of --by (e.g. the
        /// employment zones, zones-emploi-59-62.csv).
        #[arg(long, value_name = "CSV")]
        groups: Option<PathBuf>,
        /// Folder of INSEE Filosofi 200 m grid files named <insee>.json: the communes
        /// found there are represented by their inhabited cells (their total scaled to the
        /// commune's population).
        #[arg(long, value_name = "DIR")]
        population_grid: Option<PathBuf>,
        /// Other communes are represented by points every this many metres inside their
        /// outline, the population split evenly (0: one point inside each commune).
        #[arg(long, default_value_t = 200.0)]
        sample_m: f64,
        /// The commune table as CSV (the report's numbers); default: OUT with .csv.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// The commune table with the communes' outlines as FlatGeobuf (for QGIS).
        #[arg(long, value_name = "FGB")]
        fgb: Option<PathBuf>,
        /// Also write the origin points (id, commune, position, population, group) as CSV,
        /// e.g. to run `terril access` on the same points or to map them in QGIS.
        #[arg(long, value_name = "CSV")]
        write_origins: Option<PathBuf>,
        /// Origins' population column.
        #[arg(long, default_value = "population")]
        weight: String,
        /// Keep only facilities whose COLUMN contains VALUE (case-insensitive), e.g.
        /// facility_type=Centre Hospitalier.
        #[arg(long, value_name = "COLUMN=VALUE")]
        only: Option<String>,
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = "07:00-09:00")]
        window: String,
        /// Thresholds in minutes.
        #[arg(long, default_value = "30,45,60")]
        thresholds: String,
        /// Travel times are computed up to this many minutes.
        #[arg(long, default_value_t = 120)]
        max_minutes: u32,
        #[command(flatten)]
        trip: TripFlags,
        #[arg(long, default_value = "rapport-sante.html")]
        out: PathBuf,
    },
}

/// An output file checked before a long computation: its folder exists, it is not one of
/// the inputs; written through a temporary file renamed into place.
struct Output {
    path: PathBuf,
}

impl Output {
    fn prepare(path: &std::path::Path, inputs: &[&std::path::Path]) -> anyhow::Result<Output> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            anyhow::bail!("--out {}: the folder {} does not exist (nothing was computed)", path.display(), dir.display());
        }
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if !m.file_type().is_file() {
                anyhow::bail!("--out {}: not a regular file (nothing was computed)", path.display());
            }
        }
        let canon = |p: &std::path::Path| std::fs::canonicalize(p).ok();
        if let Some(o) = canon(path) {
            if inputs.iter().any(|i| canon(i).as_ref() == Some(&o)) {
                anyhow::bail!("--out {} is one of the inputs; choose another file (nothing was computed)", path.display());
            }
        }
        let probe = dir.join(format!(".terril-probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(|e| anyhow::anyhow!("--out {}: cannot write in {}: {e} (nothing was computed)", path.display(), dir.display()))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Output { path: path.to_path_buf() })
    }

    /// Writes through `write`, then renames into place; a failure leaves nothing behind.
    fn write(&self, write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let tmp = self.path.with_file_name(format!(".{}.tmp-{}", self.path.file_name().and_then(|s| s.to_str()).unwrap_or("out"), std::process::id()));
        let r = (|| -> anyhow::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            write(&mut f)?;
            std::io::Write::flush(&mut f)?;
            std::fs::rename(&tmp, &self.path)?;
            Ok(())
        })();
        if let Err(e) = r {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("{}: {e}", self.path.display());
        }
        Ok(())
    }

    /// `OUT.params.json` beside the output: what it was computed with.
    fn record(&self, params: &serde_json::Value) -> anyhow::Result<()> {
        let p = self.path.with_file_name(format!("{}.params.json", self.path.file_name().and_then(|s| s.to_str()).unwrap_or("out")));
        std::fs::write(&p, serde_json::to_string_pretty(params)? + "\n")?;
        Ok(())
    }
}

/// A per-origin result in the format its file name asks: .geojson, .fgb (FlatGeobuf, for
/// QGIS) or CSV.
fn by_extension(out: &std::path::Path, geojson: impl FnOnce() -> serde_json::Value, csv: impl FnOnce() -> String) -> anyhow::Result<Vec<u8>> {
    let ext = out.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    Ok(match ext.as_str() {
        "geojson" => serde_json::to_vec(&geojson())?,
        "fgb" => {
            let name = out.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            terril::analysis::export::flatgeobuf(&geojson(), &name).map_err(|e| anyhow::anyhow!("writing FlatGeobuf: {e}"))?
        }
        _ => csv().into_bytes(),
    })
}

/// The origins file, and with `--shard` the indices and points of the shard's origins
/// (a shard writes CSV parts).
fn sharded_origins(shard: Option<terril::analysis::shard::Shard>, out: &std::path::Path, origins: &std::path::Path) -> anyhow::Result<(terril::analysis::targets::PointSet, Option<Vec<usize>>, terril::analysis::targets::PointSet)> {
    let all = terril::analysis::opportunities::load(origins, &Default::default())?;
    let Some(s) = shard else {
        return Ok((all.clone(), None, all));
    };
    if !out.extension().is_some_and(|e| e == "csv") {
        anyhow::bail!("--shard writes CSV parts: give --out a .csv file (the merged CSV converts to other formats)");
    }
    let idx = terril::analysis::shard::origins_of(&all.points, s);
    if idx.is_empty() {
        anyhow::bail!("shard {} has no origin: {} origins for {} shards", s.k, all.len(), s.n);
    }
    let o = all.subset(&idx);
    Ok((all, Some(idx), o))
}

/// The manifest of a shard's partial output (see `terril merge`).
#[allow(clippy::too_many_arguments)]
fn write_manifest(out: &std::path::Path, command: &str, shard: terril::analysis::shard::Shard, network: &std::path::Path, origins: &std::path::Path, destinations: &std::path::Path, used: &serde_json::Value, total: usize, idx: Vec<usize>, rows: Vec<u32>) -> anyhow::Result<()> {
    use terril::analysis::shard::Manifest;
    let sha = |p: &std::path::Path| build::sha256_file(p).map(|x| x.1).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()));
    let m = Manifest {
        terril_version: env!("CARGO_PKG_VERSION").into(),
        command: command.into(),
        shard,
        network_sha256: sha(network)?,
        origins_sha256: sha(origins)?,
        destinations_sha256: sha(destinations)?,
        parameters: used.clone(),
        origins_total: total,
        origin_indices: idx,
        rows_per_origin: rows,
        part_sha256: terril::analysis::shard::sha256_hex(&std::fs::read(out)?),
    };
    std::fs::write(Manifest::path_for(out), serde_json::to_string(&m)? + "\n")?;
    Ok(())
}

/// Adds the given parameters (absent ones left to their defaults) to a request map.
fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // Request logs and the server's own messages are kept at the default level.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},terril::http=info,terril::server=info")));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

fn parse_bbox(s: &str) -> anyhow::Result<terril::model::geo::BBox> {
    terril::model::geo::BBox::parse(s).map_err(|e| anyhow::anyhow!("--crop: {e}"))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Build { gtfs, osm, out, skip_broken_feeds, footpath_minutes, snap_limit, crop, strict, addresses, places } => {
            if let Ok(m) = std::fs::symlink_metadata(&out) {
                if !m.file_type().is_file() {
                    anyhow::bail!("--out {}: not a regular file; give the path of a file for the network (nothing was built)", out.display());
                }
            }
            if !footpath_minutes.clamp(1, 60).eq(&footpath_minutes) || !(1.0..=5000.0).contains(&snap_limit) {
                anyhow::bail!("--footpath-minutes is 1 to 60 and --snap-limit 1 to 5000 m");
            }
            let cfg = BuildConfig {
                strict,
                gtfs,
                osm,
                skip_broken_feeds,
                footpath_max_s: footpath_minutes * 60,
                snap_max_m: snap_limit,
                crop: crop.as_deref().map(parse_bbox).transpose()?,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                addresses,
                places: places.iter().map(|p| terril::analysis::opportunities::load(p, &Default::default()).map(|s| terril::analysis::opportunities::named_places(&s))).collect::<Result<Vec<_>, _>>()?.concat(),
            };
            let (net, report) = build::build(&cfg)?;
            let size = net.save(&out)?;
            for s in &report.skipped_feeds {
                eprintln!("skipped: {s}");
            }
            let tt = &net.timetable;
            eprintln!(
                "built {} in {:.1} s, peak memory {} MiB: {} stops, {} patterns, {} trips, {} stop times, {} footpaths, {} street nodes; file {:.1} MiB",
                out.display(),
                report.seconds,
                build::peak_memory_bytes() / (1 << 20),
                tt.stops.len(),
                tt.patterns.len(),
                tt.trips.ids.len(),
                tt.n_stop_times(),
                net.footpaths.len(),
                net.streets.as_ref().map(|s| s.n_nodes()).unwrap_or(0),
                size as f64 / (1 << 20) as f64
            );
            Ok(())
        }
        Command::Serve { network, port, bind, opportunities, demo, allow_origin, public_host, max_analyses, scenarios, report_areas, population_grid, request_timeout, queue_wait } => {
            let (net, demo_sets) = match (network, demo) {
                (_, true) => (terril::demo::network(jiff::Zoned::now().date())?, Some(terril::demo::opportunities())),
                (Some(p), false) => (Network::load(&p)?, None),
                (None, false) => terril::first_run::default_network(std::path::Path::new("."))?,
            };
            let addr: std::net::SocketAddr = format!("{bind}:{port}").parse().map_err(|_| anyhow::anyhow!("--bind {bind:?} is not an IP address"))?;
            let title = net.meta.title.clone();
            let sets = match demo_sets {
                Some(s) if opportunities.is_empty() => s,
                _ => terril::first_run::opportunity_sets(&opportunities)?,
            };
            let mut state = terril::server::AppState::new(terril::route::plan::Router::new(net), sets).with_scenarios(&scenarios).with_access(terril::server::AccessPolicy {
                allow_origins: allow_origin,
                hosts: public_host.into_iter().chain([bind.clone(), format!("[{bind}]")]).collect(),
            }).with_limits(max_analyses, std::time::Duration::from_secs(request_timeout.clamp(1, 3600)), std::time::Duration::from_secs(queue_wait.min(600)));
            if let Some((areas, grid)) = terril::first_run::report_areas(report_areas, population_grid, demo) {
                state = state.with_report_areas(&areas, grid.as_deref())?;
            }
            let state = std::sync::Arc::new(state);
            // Journeys run on the blocking pool: as many threads as can work at once (x2 for
            // the waits), not tokio's 512, so that a burst does not leave one heap arena
            // per thread behind (64 connections on TER: 185 MiB after the burst with the
            // default pool).
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let rt = tokio::runtime::Builder::new_multi_thread().max_blocking_threads(cores * 2).enable_all().build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e} (is another server using port {port}? try --port)"))?;
                let addr = listener.local_addr().unwrap_or(addr);
                eprintln!("terril serving {title} on http://{addr}/ (API: http://{addr}/api/openapi.json)");
                terril::server::serve_on(state, listener).await;
                Ok::<(), anyhow::Error>(())
            })?;
            Ok(())
        }
        Command::Fetch { region, sources, feeds, osm, dry_run } => {
            if region != "bassin-minier" {
                anyhow::bail!("unknown region '{region}': terril knows bassin-minier (edit feeds/sources.toml for others)");
            }
            let s = terril::fetch::load_sources(&sources)?;
            if dry_run {
                let (planned, failed) = terril::fetch::plan(&s, &feeds, &osm)?;
                print!("{}", terril::fetch::describe_plan(&planned, &failed));
                println!("{} files would be downloaded (nothing was written).", planned.len());
                if !failed.is_empty() {
                    anyhow::bail!("{} sources could not be resolved", failed.len());
                }
                return Ok(());
            }
            let report = terril::fetch::fetch_all(&s, &feeds, &osm, std::io::IsTerminal::is_terminal(&std::io::stderr()))?;
            for e in &report.entries {
                let what = if report.downloaded.contains(&e.name) { "downloaded" } else { "unchanged " };
                eprintln!("{what} {:<32} {:>11} bytes  sha256 {}  {}", e.file, e.size, &e.sha256[..16], e.licence);
            }
            for c in &report.converted {
                println!("converted  {c}");
            }
            for r in &report.removed {
                eprintln!("removed    {r} (no longer in {})", sources.display());
            }
            eprintln!("recorded in {}; build with: terril build --gtfs {} --osm {}/... --out network.bin", feeds.join("sources.lock").display(), feeds.display(), osm.display());
            if !report.failures.is_empty() {
                anyhow::bail!("{} downloads failed (the others are in place):\n  {}", report.failures.len(), report.failures.join("\n  "));
            }
            Ok(())
        }
        Command::Plan { network, from, to, date, time, arrive_by, modes, max_walk, wheelchair, num_itineraries, text } => {
            let router = terril::route::plan::Router::new(Network::load(&network)?);
            let mut p = terril::api::Params::default();
            p.r#from = Some(from);
            p.to = Some(to);
            p.date = date;
            p.time = time;
            p.modes = modes;
            p.max_walk = max_walk;
            p.num_itineraries = num_itineraries;
            p.arrive_by = Some(arrive_by.to_string());
            p.wheelchair = Some(wheelchair.to_string());
            let req = terril::api::plan_request(&router, &p)?;
            let plan = router.plan(&req)?;
            if text {
                print!("{}", terril::route::text::describe(&plan));
            } else {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            }
            Ok(())
        }
        Command::Isochrone { network, from, date, time, window, cutoffs, mode, percentile, trip, cell, out } => {
            if !(20.0..=1000.0).contains(&cell) {
                anyhow::bail!("--cell must be 20 to 1000 metres, got {cell}");
            }
            let router = terril::route::plan::Router::new(Network::load(&network)?);
            let mut p = terril::api::Params::default();
            p.r#from = Some(from);
            p.date = date;
            p.time = Some(time);
            p.window = Some(window);
            p.cutoffs = Some(cutoffs);
            p.mode = Some(mode);
            p.percentile = Some(percentile);
            trip.insert_into(&mut p);
            let t = std::time::Instant::now();
            let grid = terril::analysis::targets::LinkedTargets::grid(&router.net, cell, 15 * 60);
            let t_grid = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let gj = terril::api::run_isochrone(&router, &grid, &p)?;
            eprintln!("grid of {} cells linked in {:.2} s; isochrone in {:.3} s", grid.len(), t_grid, t.elapsed().as_secs_f64());
            let text = serde_json::to_string(&gj)?;
            match out {
                Some(o) => std::fs::write(&o, text)?,
                None => println!("{text}"),
            }
            Ok(())
        }
        Command::Access { inputs: PointInputs { network, origins, destinations }, date, window, cutoffs, percentiles, mode, columns, decay, decay_width, decay_value, nth, trip, summary_weight, shard, out } => {
            let output = Output::prepare(&out, &[&network, &origins, &destinations])?;
            use terril::analysis::{access, opportunities, targets::LinkedTargets};
            let router = terril::route::plan::Router::new(Network::load(&network)?);
            let (all, picked, o) = sharded_origins(shard, &out, &origins)?;
            let d = opportunities::load(&destinations, &Default::default())?;
            let mut p = trip.analysis(o.points[0], date, window, cutoffs, percentiles, mode);
            p.decay = decay;
            p.decay_width = decay_width;
            p.decay_value = decay_value;
            p.nth = Some(nth);
            let req = terril::api::surface_request(&router, &p)?;
            let cols = if columns.is_empty() { d.columns.clone() } else { columns };
            for c in &cols {
                if d.column(c).is_none() {
                    anyhow::bail!("{}: no column '{c}'; columns are {:?}", destinations.display(), d.columns);
                }
            }
            let spec = terril::api::access_spec(&p, cols)?;
            let t = std::time::Instant::now();
            let targets = LinkedTargets::from_points(&router.net, &d.points, req.max_walk_s);
            let t_link = t.elapsed().as_secs_f64();
            let pb = if std::io::IsTerminal::is_terminal(&std::io::stderr()) { indicatif::ProgressBar::new(o.len() as u64) } else { indicatif::ProgressBar::hidden() };
            let t = std::time::Instant::now();
            let rows = access::batch(&router, &o, &targets, &d, &req, &spec, &pb);
            pb.finish_and_clear();
            let secs = t.elapsed().as_secs_f64();
            let names = access::column_names(&req.percentiles, &spec);
            let bytes = by_extension(&out, || access::to_geojson(&rows, &names), || access::to_csv(&rows, &names))?;
            output.write(|f| Ok(std::io::Write::write_all(f, &bytes)?))?;
            let mut used = terril::api::parameters_used(&req);
            used["cutoffs_min"] = serde_json::json!(spec.cutoffs_min);
            used["decay"] = serde_json::to_value(spec.decay)?;
            used["columns"] = serde_json::json!(spec.columns);
            if let (Some(s), Some(idx)) = (shard, picked) {
                let n = idx.len();
                write_manifest(&out, "access", s, &network, &origins, &destinations, &used, all.len(), idx, vec![1; n])?;
            }
            output.record(&used)?;
            eprintln!(
                "{} origins x {} destinations, {} departures: {:.2} s ({:.1} ms per origin, linking {:.2} s), peak memory {} MiB -> {}",
                o.len(), d.len(), req.departures(), secs, secs * 1000.0 / o.len() as f64, t_link, build::peak_memory_bytes() >> 20, out.display()
            );
            if let Some(w) = summary_weight {
                let col = names.iter().find(|n| n.starts_with("time_nearest_min")).cloned().unwrap_or_default();
                for s in access::summarise_time(&rows, &names, &col, &o, &w, &spec.cutoffs_min).iter().filter(|s| s.group == "all") {
                    let over = 1.0 - s.share_within.last().map(|x| x.1).unwrap_or(0.0);
                    eprintln!("{w} {}: median {} min to the nearest; {:.1} % beyond {} min / {:.1} % au-delà de {} min", s.group, s.median_min.map(|m| format!("{m:.0}")).unwrap_or("-".into()), over * 100.0, spec.cutoffs_min.last().unwrap(), over * 100.0, spec.cutoffs_min.last().unwrap());
                }
            }
            Ok(())
        }
        Command::Matrix { network, origins, destinations, date, window, percentiles, mode, trip, cutoff, seconds, reachable_only, breakdown, shard, out } => {
            use terril::analysis::{matrix, opportunities, targets::LinkedTargets};
            let dest_path = destinations.clone().unwrap_or_else(|| origins.clone());
            let output = Output::prepare(&out, &[&network, &origins, &dest_path])?;
            let router = terril::route::plan::Router::new(Network::load(&network)?);
            let (all, picked, o) = sharded_origins(shard, &out, &origins)?;
            let d = if destinations.is_some() { opportunities::load(&dest_path, &Default::default())? } else { all.clone() };
            if o.is_empty() || d.is_empty() {
                anyhow::bail!("no points in {}", if o.is_empty() { origins.display() } else { dest_path.display() });
            }
            let budget = terril::api::MAX_MATRIX_CELLS_CLI;
            if (o.len() as u64) * (d.len() as u64) > budget {
                anyhow::bail!("{} x {} pairs is over the {budget} one run computes; split the origins", o.len(), d.len());
            }
            let p = trip.analysis(o.points[0], date, window, cutoff, percentiles, mode);
            let req = terril::api::surface_request(&router, &p)?;
            let targets = LinkedTargets::from_points(&router.net, &d.points, if req.mode.uses_transit() { req.max_walk_s } else { 0 });
            let pb = if std::io::IsTerminal::is_terminal(&std::io::stderr()) { indicatif::ProgressBar::new(o.len() as u64) } else { indicatif::ProgressBar::hidden() };
            let t = std::time::Instant::now();
            let m = matrix::compute_with(&router, &o, &targets, &req, breakdown, &pb, &terril::analysis::Cancel::never()).expect("never cancelled");
            pb.finish_and_clear();
            let secs = t.elapsed().as_secs_f64();
            let unit = if seconds { matrix::Unit::Seconds } else { matrix::Unit::Minutes };
            let mut rows = 0;
            let parquet = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
            output.write(|f| {
                rows = if parquet { matrix::write_parquet(f, &m, &o, &d, unit, reachable_only)? } else { matrix::write_csv(f, &m, &o, &d, unit, reachable_only)? };
                Ok(())
            })?;
            let mut used = terril::api::parameters_used(&req);
            used["network"] = network.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default().into();
            used["origins"] = origins.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default().into();
            used["destinations"] = dest_path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default().into();
            used["unit"] = serde_json::to_value(unit)?;
            used["breakdown"] = breakdown.into();
            if let (Some(s), Some(idx)) = (shard, picked) {
                write_manifest(&out, "matrix", s, &network, &origins, &dest_path, &used, all.len(), idx, matrix::rows_per_origin(&m, d.len(), reachable_only))?;
            }
            output.record(&used)?;
            eprintln!(
                "{} x {} pairs ({} reachable), {} departures: {:.2} s ({:.1} ms per origin), peak memory {} MiB -> {} ({rows} rows)",
                o.len(), d.len(), m.reachable(), req.departures(), secs, secs * 1000.0 / o.len() as f64, build::peak_memory_bytes() >> 20, out.display()
            );
            Ok(())
        }
        Command::Report { kind: ReportKind::Health { inputs: PointInputs { network, origins, destinations }, by, groups, population_grid, sample_m, csv, fgb, write_origins, weight, only, date, window, thresholds, max_minutes, trip, out } } => {
            use terril::analysis::{opportunities, population};
            let output = Output::prepare(&out, &[&network, &origins, &destinations])?;
            let csv_path = csv.unwrap_or_else(|| out.with_extension("csv"));
            let csv_output = Output::prepare(&csv_path, &[&network, &origins, &destinations, &out])?;
            let fgb_output = fgb.as_ref().map(|p| Output::prepare(p, &[&network, &origins, &destinations, &out, &csv_path])).transpose()?;
            if !(0.0..=5000.0).contains(&sample_m) {
                anyhow::bail!("--sample-m is 0 (one point per commune) to 5000 metres");
            }
            let router = terril::route::plan::Router::new(Network::load(&network)?);
            let mut areas = population::read_areas(&origins, &weight, &by)?;
            let group_label = match &groups {
                Some(g) => population::regroup(&mut areas, g)?,
                None if by == "epci" => "EPCI".to_string(),
                None => by.clone(),
            };
            let o = population::origins(&mut areas, population_grid.as_deref(), sample_m)?;
            if let Some(path) = &write_origins {
                let pop = o.points.column("population").expect("origins carry their population");
                let rows = (0..o.points.len()).map(|i| {
                    let a = &areas[o.area[i] as usize];
                    (o.points.ids[i].as_str(), a.name.as_str(), o.points.points[i].lat, o.points.points[i].lon, vec![format!("{:.6}", pop[i]), a.id.clone(), a.group.clone()])
                });
                let text = terril::analysis::origin_csv(&["population".into(), "area".into(), "group".into()], rows);
                Output::prepare(path, &[&network, &origins, &destinations, &out])?.write(|f| Ok(std::io::Write::write_all(f, text.as_bytes())?))?;
            }
            let d = opportunities::load(&destinations, &Default::default())?;
            let mut p = terril::api::Params { date, window: Some(window), cutoffs: Some(thresholds), max_trip_duration: Some(max_minutes.to_string()), only, ..Default::default() };
            trip.insert_into(&mut p);
            p.max_trip_duration = Some(max_minutes.to_string());
            let sha = |p: &std::path::Path| build::sha256_file(p).map(|x| x.1).unwrap_or_default();
            let file = |p: &std::path::Path| p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let mut sources: Vec<(String, String, String)> = router.net.meta.inputs.iter().map(|i| (format!("réseau ({})", i.kind), file(std::path::Path::new(&i.path)), i.sha256.clone())).collect();
            sources.push(("fichier réseau".into(), file(&network), sha(&network)));
            sources.push(("communes (population)".into(), file(&origins), sha(&origins)));
            if let Some(dir) = &population_grid {
                sources.push(("carroyage Filosofi 200 m".into(), dir.display().to_string(), String::new()));
            }
            if let Some(g) = &groups {
                sources.push(("regroupement".into(), file(g), sha(g)));
            }
            sources.push(("établissements".into(), file(&destinations), sha(&destinations)));
            let t = std::time::Instant::now();
            let pb = if std::io::IsTerminal::is_terminal(&std::io::stderr()) { indicatif::ProgressBar::new(o.points.len() as u64) } else { indicatif::ProgressBar::hidden() };
            let inputs = terril::api::report::HealthInputs { areas: &areas, origins: &o, facilities: &d, group_label, sources };
            let r = match terril::api::report::health(&router, &inputs, &p, &terril::analysis::Cancel::never(), &pb) {
                Ok(r) => r,
                Err(terril::api::report::ReportFailed::Query(e)) => return Err(e.into()),
                Err(terril::api::report::ReportFailed::Stopped(_)) => anyhow::bail!("stopped"),
            };
            pb.finish_and_clear();
            output.write(|f| Ok(std::io::Write::write_all(f, r.html.as_bytes())?))?;
            output.record(&r.parameters)?;
            csv_output.write(|f| Ok(std::io::Write::write_all(f, r.csv.as_bytes())?))?;
            if let Some(o) = &fgb_output {
                let bytes = terril::analysis::export::flatgeobuf(&r.geojson, "communes").map_err(|e| anyhow::anyhow!("writing FlatGeobuf: {e}"))?;
                o.write(|f| Ok(std::io::Write::write_all(f, &bytes)?))?;
            }
            let s = &r.summary;
            let first = *s.thresholds.first().unwrap_or(&30);
            let beyond = s.all.population * (1.0 - s.all.share_within.iter().find(|x| x.0 == first).map(|x| x.1).unwrap_or(0.0));
            eprintln!(
                "{} communes as {} points ({:.0} inhabitants) x {} facilities in {:.1} s: {:.0} beyond {first} min, {:.0} with none within {} min -> {}, {}",
                areas.len(), o.points.len(), s.all.population, r.facilities, t.elapsed().as_secs_f64(), beyond, s.all.unreachable, s.max_min, out.display(), csv_path.display()
            );
            Ok(())
        }
        Command::Sheet { network, site, name, shifts, date, communes, places, out } => {
            let output = Output::prepare(&out, &[&network])?;
            let mut router = terril::route::plan::Router::new(Network::load(&network)?);
            for f in &places {
                let set = terril::analysis::opportunities::load(f, &Default::default())?;
                router.add_places(terril::analysis::opportunities::named_places(&set));
            }
            let areas = match terril::first_run::report_areas(communes, None, false) {
                Some((path, _)) => {
                    let mut a = terril::analysis::population::read_areas(&path, "population", "epci")?;
                    // One point inside each commune (its centre of population is not known).
                    terril::analysis::population::origins(&mut a, None, 0.0)?;
                    router.add_places(a.iter().map(|x| terril::model::places::NamedPlace { name: x.name.clone(), kind: terril::model::places::PlaceKind::Commune, commune: String::new(), coord: x.point }));
                    Some(a)
                }
                None => None,
            };
            let p = terril::api::Params { site: Some(site), shifts: Some(shifts), date, ..Default::default() };
            let t = std::time::Instant::now();
            let mut sheet = terril::api::sheet::site_sheet(&router, &p, areas.as_deref())?;
            if let Some(n) = name {
                sheet.site.name = n;
            }
            let json = out.extension().is_some_and(|e| e == "json");
            let text = if json { serde_json::to_string_pretty(&sheet)? } else { terril::api::sheet::sheet_html(&sheet) };
            output.write(|f| Ok(std::io::Write::write_all(f, text.as_bytes())?))?;
            eprintln!("{}: {} stops nearby, {} shifts, in {:.1} s -> {}", sheet.site.name, sheet.stops.len(), sheet.shifts.len(), t.elapsed().as_secs_f64(), out.display());
            Ok(())
        }
        Command::Merge { parts, out } => {
            let inputs: Vec<&std::path::Path> = parts.iter().map(|p| p.as_path()).collect();
            let output = Output::prepare(&out, &inputs)?;
            let t = std::time::Instant::now();
            let (bytes, params) = terril::analysis::shard::merge(&parts).map_err(|e| anyhow::anyhow!(e))?;
            output.write(|f| Ok(std::io::Write::write_all(f, &bytes)?))?;
            output.record(&params)?;
            eprintln!("merged {} parts in {:.2} s -> {} ({} bytes)", parts.len(), t.elapsed().as_secs_f64(), out.display(), bytes.len());
            Ok(())
        }
        Command::Compare { network, scenario, baseline_network, origins, destinations, date, baseline_date, window, cutoffs, percentiles, mode, columns, trip, summary_weight, shard, out } => {
            use terril::analysis::{compare, opportunities, scenario as scen, targets::LinkedTargets};
            use terril::route::plan::Router;
            let output = Output::prepare(&out, &[&network, &origins, &destinations])?;
            let (all, picked, o) = sharded_origins(shard, &out, &origins)?;
            let mut d = opportunities::load(&destinations, &Default::default())?;
            d.name = destinations.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let net = Network::load(&network)?;
            let (base_net, scen_net, d_after, label) = match (&scenario, &baseline_network) {
                (Some(sp), None) => {
                    let sc = scen::load(sp)?;
                    // An opportunity modification names its set: match it to the destinations file.
                    let mut dd = d.clone();
                    if let Some(name) = sc.modifications.iter().find_map(|m| match m {
                        scen::Modification::AddOpportunities { set, .. } | scen::Modification::RemoveOpportunities { set, .. } => Some(set.clone()),
                        _ => None,
                    }) {
                        dd.name = name;
                    }
                    let (after, opps) = scen::apply(&net, &sc, &[dd])?;
                    (net, after, opps.into_iter().next().unwrap(), sc.name)
                }
                (None, Some(bp)) => (Network::load(bp)?, net, d.clone(), format!("{} -> {}", bp.display(), network.display())),
                _ => anyhow::bail!("give either --scenario FILE or --baseline-network FILE"),
            };
            let t = std::time::Instant::now();
            let base = Router::new(base_net);
            let after = Router::new(scen_net);
            let p = trip.analysis(o.points[0], date, window, cutoffs, percentiles, mode);
            let req_after = terril::api::surface_request(&after, &p)?;
            let mut req_base = req_after.clone();
            if let Some(bd) = baseline_date {
                req_base.date = terril::api::parse_date(&bd)?;
            }
            base.check_date(req_base.date)?;
            let cols = if columns.is_empty() { d.columns.clone() } else { columns };
            let spec = terril::api::access_spec(&p, cols)?;
            let t_base = LinkedTargets::from_points(&base.net, &d.points, req_after.max_walk_s);
            let same_dest = d_after.points == d.points;
            let t_after = if baseline_network.is_none() && same_dest { t_base.extended_for(&after.net) } else { LinkedTargets::from_points(&after.net, &d_after.points, req_after.max_walk_s) };
            let setup = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let rows = if req_base.date == req_after.date {
                compare::compare(&compare::Side { router: &base, destinations: &d, targets: &t_base }, &compare::Side { router: &after, destinations: &d_after, targets: &t_after }, &o, &req_after, &spec, &indicatif::ProgressBar::hidden())
            } else {
                let pb = indicatif::ProgressBar::hidden();
                let b = terril::analysis::access::batch(&base, &o, &t_base, &d, &req_base, &spec, &pb);
                let a = terril::analysis::access::batch(&after, &o, &t_after, &d_after, &req_after, &spec, &pb);
                b.into_iter().zip(a).map(|(b, a)| compare::CompareRow { id: b.id, label: b.label, lat: b.lat, lon: b.lon, before: b.values, after: a.values }).collect()
            };
            let secs = t.elapsed().as_secs_f64();
            let names = compare::names(&req_after, &spec);
            let bytes = by_extension(&out, || compare::to_geojson(&rows, &names), || compare::to_csv(&rows, &names))?;
            output.write(|f| Ok(std::io::Write::write_all(f, &bytes)?))?;
            let mut used = terril::api::parameters_used(&req_after);
            used["scenario"] = serde_json::json!(label);
            used["baseline_date"] = serde_json::json!(req_base.date.to_string());
            used["columns"] = serde_json::json!(spec.columns);
            let before = scenario.as_ref().or(baseline_network.as_ref()).map(|p| build::sha256_file(p).map(|x| x.1)).transpose()?;
            used["scenario_or_baseline_sha256"] = serde_json::json!(before);
            if let (Some(s), Some(idx)) = (shard, picked) {
                let n = idx.len();
                write_manifest(&out, "compare", s, &network, &origins, &destinations, &used, all.len(), idx, vec![1; n])?;
            }
            output.record(&used)?;
            let w = summary_weight.unwrap_or_else(|| "count".into());
            let summary = compare::summarise(&rows, &names, &o, &w, &spec);
            print!("{}", compare::describe(&summary, &label, &w));
            eprintln!("{} origins, {} departures, baseline + scenario: {secs:.2} s (+{setup:.2} s setup), peak memory {} MiB -> {}", o.len(), req_after.departures(), build::peak_memory_bytes() >> 20, out.display());
            Ok(())
        }
        Command::Bench { what, data, queries, work, origins } => run_bench(&what, &data, queries, &work, origins),
        Command::Info { network, json } => {
            let t = std::time::Instant::now();
            let net = Network::load(&network)?;
            let load_s = t.elapsed().as_secs_f64();
            let info = terril::info::NetworkInfo::of(&net, std::fs::metadata(&network).map(|m| m.len()).unwrap_or(0));
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                print!("{}", info.to_text());
                println!("loaded in {:.3} s", load_s);
            }
            Ok(())
        }
    }
}

fn run_bench(what: &str, data: &std::path::Path, queries: usize, work: &std::path::Path, origins: Option<usize>) -> anyhow::Result<()> {
    use terril::bench;
    if !data.join("ter").exists() {
        anyhow::bail!("{} does not hold the shared data (ter/, porto-alegre/, sao-paulo/)", data.display());
    }
    std::fs::create_dir_all(work)?;
    let d = |p: &str| data.join(p).display().to_string();
    let sets: Vec<(&str, Vec<String>)> = vec![
        ("TER national 2025 (no OSM)", vec!["--gtfs".into(), d("ter/ter-2025-01-22.gtfs.zip")]),
        ("Porto Alegre: 2 feeds + OSM", vec!["--gtfs".into(), d("porto-alegre/poa_eptc.zip"), "--gtfs".into(), d("porto-alegre/poa_trensurb.zip"), "--osm".into(), d("porto-alegre/poa_osm.pbf")]),
        ("São Paulo: frequencies + OSM", vec!["--gtfs".into(), d("sao-paulo/spo_gtfs.zip"), "--osm".into(), d("sao-paulo/spo_osm.pbf")]),
    ];
    let files = ["ter.bin", "poa.bin", "spo.bin"];
    println!("machine: {}\ndate: {}\n", bench::machine(), jiff::Zoned::now().strftime("%Y-%m-%d"));
    if what == "build" || what == "all" {
        println!("| data | build (s, wall) | peak memory (MiB) | file (MiB) | load (s, best of 5) |");
        println!("|---|---|---|---|---|");
        for ((name, args), file) in sets.iter().zip(files) {
            let out = work.join(file);
            let t = std::time::Instant::now();
            let o = std::process::Command::new(std::env::current_exe()?).arg("build").args(args).arg("--out").arg(&out).output()?;
            let wall = t.elapsed().as_secs_f64();
            let stderr = String::from_utf8_lossy(&o.stderr);
            if !o.status.success() {
                anyhow::bail!("build of {name} failed: {stderr}");
            }
            let peak = stderr.split("peak memory ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or("?").to_string();
            let size = std::fs::metadata(&out)?.len() as f64 / 1048576.0;
            let load = bench::load_time(&out, 5)?;
            println!("| {name} | {wall:.2} | {peak} | {size:.1} | {load:.3} |");
        }
        println!();
    }
    if what == "plan" || what == "ter" || what == "all" {
        for f in &files[..2] {
            if !work.join(f).exists() {
                anyhow::bail!("run `terril bench build` first ({} missing)", work.join(f).display());
            }
        }
        let ter = terril::route::plan::Router::new(Network::load(&work.join("ter.bin"))?);
        let poa = terril::route::plan::Router::new(Network::load(&work.join("poa.bin"))?);
        println!("| network | query | n | answered | p50 (ms) | p90 | p95 | p99 | mean | checksum |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        let row = |net: &str, r: bench::LatencyReport| println!("| {net} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |", r.name, r.queries, r.answered, r.p50_ms, r.p90_ms, r.p95_ms, r.p99_ms, r.mean_ms, r.checksum);
        row("TER 2025, Tue 2025-02-04 05:00-21:00", bench::station_queries(&ter, jiff::civil::date(2025, 2, 4), (5, 21), queries, 1));
        if what == "ter" {
            return Ok(());
        }
        row("Porto Alegre, Mon 2019-05-13 11:00-17:00", bench::coordinate_queries(&poa, jiff::civil::date(2019, 5, 13), (11, 17), queries, 2, true));
        row("Porto Alegre, Mon 2019-05-13 11:00-17:00", bench::coordinate_queries(&poa, jiff::civil::date(2019, 5, 13), (11, 17), queries / 4, 3, false));
    }
    if what == "walk" || what == "all" {
        // The walking routes the peers script (benches/peers) asks OSRM and Valhalla too.
        let poa = terril::route::plan::Router::new(Network::load(&work.join("poa.bin"))?);
        let hex = terril::analysis::opportunities::load(&data.join("porto-alegre/poa_hexgrid.csv"), &Default::default())?;
        let (r, pairs) = bench::walk_queries(&poa, &hex.points, jiff::civil::date(2019, 5, 13), 100, 10, 16);
        println!("| network | query | n | answered | p50 (ms) | p90 | p95 | p99 | mean | checksum |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        println!("| Porto Alegre streets, 100 hexagon pairs x 10 | {} | {} | {} of 100 | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |", r.name, r.queries, r.answered, r.p50_ms, r.p90_ms, r.p95_ms, r.p99_ms, r.mean_ms, r.checksum);
        let mut w = csv::Writer::from_path(work.join("walk-pairs.csv"))?;
        w.write_record(["from_lat", "from_lon", "to_lat", "to_lon", "terril_s"])?;
        for (a, b, secs) in &pairs {
            w.write_record([a.lat.to_string(), a.lon.to_string(), b.lat.to_string(), b.lon.to_string(), secs.map(|s| s.to_string()).unwrap_or_default()])?;
        }
        w.flush()?;
        println!();
    }
    if what == "access" || what == "isochrone" || what == "all" {
        use terril::analysis::{access, opportunities, surface, targets::LinkedTargets};
        let poa = terril::route::plan::Router::new(Network::load(&work.join("poa.bin"))?);
        let hex = opportunities::load(&data.join("porto-alegre/poa_hexgrid.csv"), &Default::default())?;
        let date = jiff::civil::date(2019, 5, 13);
        if what != "isochrone" {
            let mut req = surface::SurfaceRequest::new(hex.points[0], date, 14 * 3600, 120 * 60);
            req.percentiles = vec![5, 50, 95];
            req.max_time_s = 60 * 60;
            let spec = access::AccessSpec { cutoffs_min: vec![30, 45, 60], decay: access::Decay::Step, columns: vec!["jobs".into()], nth: vec![1], nearest_column: "healthcare".into() };
            let t = std::time::Instant::now();
            let targets = LinkedTargets::from_points(&poa.net, &hex.points, 15 * 60);
            let link_s = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let from = match origins.filter(|&n| n > 0 && n < hex.len()) {
                Some(n) => hex.subset(&(0..n).map(|i| i * hex.len() / n).collect::<Vec<_>>()),
                None => hex.clone(),
            };
            let rows = access::batch(&poa, &from, &targets, &hex, &req, &spec, &indicatif::ProgressBar::hidden());
            let secs = t.elapsed().as_secs_f64();
            let names = access::column_names(&req.percentiles, &spec);
            let jobs45: f64 = rows.iter().map(|r| r.values[names.iter().position(|n| n == "jobs_within_45min_p50").unwrap()]).sum();
            println!("| task | n | time (s) | per origin (ms) | peak memory (MiB) | checksum |");
            println!("|---|---|---|---|---|---|");
            println!("| POA accessibility: {} x {} hexagons, walk + transit, Mon 2019-05-13 14:00-16:00 every minute (120 departures), p5/p50/p95, jobs within 30/45/60 min | {} | {secs:.2} (+{link_s:.2} linking) | {:.1} | {} | sum jobs45 p50 = {jobs45} |", rows.len(), hex.len(), rows.len(), secs * 1000.0 / rows.len() as f64, build::peak_memory_bytes() >> 20);
        }
        // Isochrone latency: 20 origins, 60-minute window.
        let grid = LinkedTargets::grid(&poa.net, 150.0, 15 * 60);
        let (mut times, mut parts) = (Vec::new(), Vec::new());
        let mut sc = surface::SurfaceScratch::default();
        // Checksum: the sum of every reached cell's travel time (s), over the 20 origins.
        let mut sum_s = 0u64;
        for i in 0..20 {
            let o = hex.points[(i * 61) % hex.len()];
            let mut r = surface::SurfaceRequest::new(o, date, 14 * 3600, 60 * 60);
            r.max_time_s = 60 * 60;
            let t = std::time::Instant::now();
            let s = surface::compute(&poa, &grid, &r, &mut sc)?;
            let t_surface = t.elapsed().as_secs_f64() * 1000.0;
            let _ = terril::analysis::isochrone::isochrones(&grid, &s, 0, &[15, 30, 45, 60]);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            parts.push((t_surface, times[times.len() - 1] - t_surface));
            sum_s += s.times_s[0].iter().filter(|&&v| v != surface::UNREACHABLE).map(|&v| v as u64).sum::<u64>();
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let median = |mut v: Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        eprintln!("isochrone p50: surface {:.2} ms, polygons {:.2} ms", median(parts.iter().map(|p| p.0).collect()), median(parts.iter().map(|p| p.1).collect()));
        println!("| POA isochrone, 60-min window, 15/30/45/60 min, 150 m grid ({} cells) | 20 | p50 {:.1} ms, max {:.1} ms | | | sum p50 s = {sum_s} |", grid.len(), times[10], times[19]);
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.verbose);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
