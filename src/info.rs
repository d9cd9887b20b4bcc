//! A summary of a network, shared by `terril info` and `GET /api/info`.

use crate::model::geo::BBox;
use crate::model::streets::Profile;
use crate::model::Network;
use serde::Serialize;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FeedSummary {
    pub namespace: String,
    pub source: String,
    pub timezone: String,
    pub start_date: String,
    pub end_date: String,
    pub trips: u32,
    /// Trips per commercial service where the feed's names tell them apart
    /// (`TER`, `Intercités`, `TGV INOUI`...), most first.
    pub brands: Vec<(String, u32)>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProfileSummary {
    pub profile: &'static str,
    pub nodes: u32,
    pub edges: usize,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct NetworkInfo {
    pub title: String,
    pub demo: bool,
    pub terril_version: String,
    pub built_at: String,
    pub feeds: Vec<FeedSummary>,
    pub validity_start: String,
    pub validity_end: String,
    pub timezone: String,
    pub stops: usize,
    pub routes: usize,
    pub patterns: usize,
    pub trips: usize,
    pub stop_times: usize,
    pub services: usize,
    pub footpaths: usize,
    pub footpath_method: String,
    pub has_streets: bool,
    pub street_nodes: usize,
    pub street_profiles: Vec<ProfileSummary>,
    pub far_stops: usize,
    pub warnings: usize,
    /// The first build warnings (feed notices, skipped rows), as `terril info` lists them.
    pub warning_list: Vec<String>,
    pub bbox: Option<BBox>,
    pub file_bytes: u64,
    pub memory_bytes: u64,
    pub inputs: Vec<crate::model::network::InputFile>,
}

impl NetworkInfo {
    /// The same with file names only: what a public answer may show (no folders of the
    /// machine it runs on).
    pub fn without_paths(mut self) -> Self {
        let name = |p: &str| std::path::Path::new(p).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        for f in &mut self.feeds {
            f.source = name(&f.source);
        }
        for i in &mut self.inputs {
            i.path = name(&i.path);
        }
        self
    }

    pub fn of(net: &Network, file_bytes: u64) -> Self {
        let tt = &net.timetable;
        let cal = tt.calendar();
        let bbox = net.bbox();
        NetworkInfo {
            title: net.meta.title.clone(),
            demo: net.meta.demo,
            terril_version: net.meta.terril_version.clone(),
            built_at: net.meta.built_at.clone(),
            feeds: tt
                .feeds
                .iter()
                .enumerate()
                .map(|(fi, f)| FeedSummary {
                    namespace: f.namespace.clone(),
                    source: f.source.clone(),
                    timezone: f.timezone.clone(),
                    start_date: f.start_date.clone(),
                    end_date: f.end_date.clone(),
                    trips: f.n_trips,
                    brands: brands_of_feed(tt, fi),
                })
                .collect(),
            validity_start: cal.base_date.clone(),
            validity_end: cal.last_day().to_string(),
            timezone: tt.timezone.clone(),
            stops: tt.stops.len(),
            routes: tt.routes.ids.len(),
            patterns: tt.patterns.len(),
            trips: tt.trips.ids.len(),
            stop_times: tt.n_stop_times(),
            services: cal.len(),
            footpaths: net.footpaths.len(),
            footpath_method: net.meta.footpath_method.clone(),
            has_streets: net.has_streets(),
            street_nodes: net.streets.as_ref().map(|s| s.n_nodes()).unwrap_or(0),
            street_profiles: net
                .streets
                .as_ref()
                .map(|s| Profile::ALL.iter().map(|p| ProfileSummary { profile: p.name(), nodes: s.graph(*p).n_nodes, edges: s.graph(*p).forward.n_edges() }).collect())
                .unwrap_or_default(),
            far_stops: net.meta.far_stops.len(),
            warnings: net.meta.warnings.len(),
            warning_list: net.meta.warnings.iter().take(50).cloned().collect(),
            bbox: (!bbox.is_empty()).then_some(bbox),
            file_bytes,
            memory_bytes: estimate_memory(net),
            inputs: net.meta.inputs.clone(),
        }
    }

    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "network    {}{}", self.title, if self.demo { " (FICTIONAL demonstration network)" } else { "" });
        let _ = writeln!(s, "built      {} by terril {}", self.built_at, self.terril_version);
        let _ = writeln!(s, "validity   {} .. {} ({})", self.validity_start, self.validity_end, self.timezone);
        for f in &self.feeds {
            let _ = writeln!(s, "feed       {:<14} {} .. {}  {:>7} trips  {}", f.namespace, f.start_date, f.end_date, f.trips, f.source);
            if !f.brands.is_empty() {
                let b: Vec<String> = f.brands.iter().map(|(n, c)| format!("{n} {c}")).collect();
                let _ = writeln!(s, "           {:<14} trips by service: {}", "", b.join(", "));
            }
        }
        let _ = writeln!(s, "transit    {} stops, {} routes, {} patterns, {} trips, {} stop times, {} service calendars", self.stops, self.routes, self.patterns, self.trips, self.stop_times, self.services);
        let _ = writeln!(s, "footpaths  {} ({})", self.footpaths, self.footpath_method);
        if self.has_streets {
            let _ = writeln!(s, "streets    {} nodes", self.street_nodes);
            for p in &self.street_profiles {
                let _ = writeln!(s, "  {:<5}    {} nodes in largest component, {} directed edges", p.profile, p.nodes, p.edges);
            }
        } else {
            let _ = writeln!(s, "streets    MISSING: no OpenStreetMap extract was given; walking uses straight lines x 1.3 at 4.8 km/h");
        }
        if self.far_stops > 0 {
            let _ = writeln!(s, "warning    {} stops farther than the snap limit from any street", self.far_stops);
        }
        if self.warnings > 0 {
            let _ = writeln!(s, "warnings   {} build warnings{}", self.warnings, if self.warnings > 10 { " (the first 10; all in --json)" } else { "" });
            for w in self.warning_list.iter().take(10) {
                let _ = writeln!(s, "           {w}");
            }
        }
        if let Some(b) = &self.bbox {
            let _ = writeln!(s, "bbox       {:.5},{:.5} .. {:.5},{:.5}", b.min_lat, b.min_lon, b.max_lat, b.max_lon);
        }
        let _ = writeln!(s, "size       {:.1} MiB on disk, ~{:.1} MiB in memory", self.file_bytes as f64 / 1048576.0, self.memory_bytes as f64 / 1048576.0);
        s
    }
}

/// Rough heap size of the network's arrays.
pub fn estimate_memory(net: &Network) -> u64 {
    let tt = &net.timetable;
    let strings = |v: &Vec<String>| v.iter().map(|s| s.len() + 24).sum::<usize>();
    let mut b = strings(&tt.stops.ids) + strings(&tt.stops.names) + tt.stops.len() * 24;
    b += strings(&tt.trips.ids) + strings(&tt.trips.headsigns) + tt.trips.ids.len() * 13;
    b += (tt.arrivals.len() + tt.departures.len() + tt.pattern_stops.len()) * 4 + tt.stop_patterns.len() * 8;
    b += tt.shape_points.len() * 16 + net.footpaths.len() * 8;
    if let Some(s) = &net.streets {
        b += s.coords.len() * 16;
        for p in &s.profiles {
            b += (p.forward.targets.len() + p.reverse.targets.len()) * 12 + (p.forward.offsets.len() + p.reverse.offsets.len()) * 4;
        }
    }
    b as u64
}

/// Trips of feed `fi` by route brand (those with a brand), most first.
fn brands_of_feed(tt: &crate::model::timetable::Timetable, fi: usize) -> Vec<(String, u32)> {
    let mut counts: std::collections::BTreeMap<&str, u32> = Default::default();
    for p in &tt.patterns {
        let r = p.route as usize;
        let brand = tt.routes.brands.get(r).map(String::as_str).unwrap_or("");
        let feed = tt.agencies.get(tt.routes.agency[r] as usize).map(|a| a.feed as usize);
        if !brand.is_empty() && feed == Some(fi) {
            *counts.entry(brand).or_default() += p.n_trips;
        }
    }
    let mut v: Vec<(String, u32)> = counts.into_iter().map(|(b, n)| (b.to_string(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}
