//! Analyses on top of routing: target sets linked to the network, travel-time surfaces
//! (range-RAPTOR over a departure window), isochrones, accessibility indicators.

pub mod access;
pub mod compare;
pub mod export;
pub mod isochrone;
pub mod matrix;
pub mod opportunities;
pub mod population;
pub mod report;
pub mod scenario;
pub mod shard;
pub mod surface;
pub mod targets;

/// One row per origin, `id,label,lat,lon,<columns>`, written through the `csv` crate (the
/// one CSV writer of per-origin results: quoting is the crate's).
pub fn origin_csv<'a>(columns: &[String], rows: impl Iterator<Item = (&'a str, &'a str, f64, f64, Vec<String>)>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["id".to_string(), "label".into(), "lat".into(), "lon".into()];
    header.extend(columns.iter().cloned());
    w.write_record(&header).expect("writing to memory");
    for (id, label, lat, lon, values) in rows {
        let mut rec = vec![id.to_string(), label.to_string(), format!("{lat:.6}"), format!("{lon:.6}")];
        rec.extend(values);
        w.write_record(&rec).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
}

/// Cooperative cancellation of a long analysis: a flag set by whoever started it (the
/// server, when the client leaves) and an optional deadline. Batch loops check it between
/// origins, so work stops within one origin's time.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    deadline: Option<std::time::Instant>,
}

/// Why an analysis stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    Cancelled,
    TimedOut,
}

impl Cancel {
    /// Never cancelled (command-line runs).
    pub fn never() -> Self {
        Self::default()
    }
    pub fn with_deadline(limit: std::time::Duration) -> Self {
        Cancel { flag: Default::default(), deadline: Some(std::time::Instant::now() + limit) }
    }
    pub fn cancel(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    /// Why to stop now, if at all.
    pub fn check(&self) -> Result<(), Stopped> {
        if self.flag.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Stopped::Cancelled);
        }
        if self.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(Stopped::TimedOut);
        }
        Ok(())
    }
    /// Whether the run is cancelled or past its deadline.
    pub fn stopped(&self) -> bool {
        self.check().is_err()
    }
}

/// Runs `f` on every origin in parallel (one scratch per thread) unless `cancel` stops
/// the run; then the reason is returned instead of partial results.
pub fn per_origin<T: Send>(n: usize, cancel: &Cancel, progress: &indicatif::ProgressBar, f: impl Fn(&mut surface::SurfaceScratch, usize) -> T + Sync + Send) -> Result<Vec<T>, Stopped> {
    use rayon::prelude::*;
    progress.set_length(n as u64);
    let out: Vec<Option<T>> = (0..n)
        .into_par_iter()
        .map_init(surface::SurfaceScratch::default, |sc, i| {
            if cancel.stopped() {
                return None;
            }
            let v = f(sc, i);
            progress.inc(1);
            Some(v)
        })
        .collect();
    cancel.check()?;
    Ok(out.into_iter().map(|v| v.expect("every origin computed when not stopped")).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_tables_are_quoted_by_the_csv_crate() {
        let csv = super::origin_csv(&["a".into()], [("1", "Hénin-Beaumont, \"gare\"", 50.42, 2.95, vec!["3.5".to_string()]), ("2", "", 0.0, 0.0, vec![String::new()])].into_iter());
        assert_eq!(csv, "id,label,lat,lon,a\n1,\"Hénin-Beaumont, \"\"gare\"\"\",50.420000,2.950000,3.5\n2,,0.000000,0.000000,\n");
    }
}
