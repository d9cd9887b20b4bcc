//! Runs split over machines: a deterministic partition of the origins into N shards, the
//! manifest each partial output carries, and the merge that rebuilds, byte for byte, the
//! output one run would have written.
//!
//! Partition: the origins are ordered along a Hilbert curve over their bounding box, then
//! dealt round-robin, so every shard holds origins from every part of the area (dense
//! centres and empty fields alike) and the shards' work is balanced without a cost model.
//! Each shard keeps its origins in their original order. Rows of per-origin outputs are
//! independent of the other origins, so a shard's rows are the single run's rows for its
//! origins; the merge puts them back in the original order.

use crate::model::geo::LatLon;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `K/N`, shard K of N (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard is K/N with 1 <= K <= N <= 100000 (e.g. 3/8), got '{s}'");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if k == 0 || k > n || n > 100_000 {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// The original indices of the origins of `shard`, ascending.
pub fn origins_of(points: &[LatLon], shard: Shard) -> Vec<usize> {
    let order = crate::model::geo::hilbert_order(points);
    let mut mine: Vec<usize> = order.iter().enumerate().filter(|(j, _)| (*j as u32 % shard.n) + 1 == shard.k).map(|(_, &o)| o).collect();
    mine.sort_unstable();
    mine
}

/// What a partial output says of itself (`OUT.shard.json`): what was computed, on what,
/// with what, and where its rows go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub terril_version: String,
    /// `access` or `matrix`.
    pub command: String,
    pub shard: Shard,
    /// SHA-256 of the network file, the origins and the destinations.
    pub network_sha256: String,
    pub origins_sha256: String,
    pub destinations_sha256: String,
    /// The parameters used, as the single run records them (`OUT.params.json`).
    pub parameters: serde_json::Value,
    pub origins_total: usize,
    /// Original index of each origin of the shard, ascending.
    pub origin_indices: Vec<usize>,
    /// Rows written for each of them (access: 1 each; matrix: one per destination, less
    /// the unreachable ones with `reachable_only`).
    pub rows_per_origin: Vec<u32>,
    /// SHA-256 of the part itself: a part cut or changed after its run is refused.
    pub part_sha256: String,
}

impl Manifest {
    pub fn path_for(out: &Path) -> PathBuf {
        out.with_file_name(format!("{}.shard.json", out.file_name().and_then(|s| s.to_str()).unwrap_or("out")))
    }
    pub fn read(out: &Path) -> Result<Manifest, String> {
        let p = Self::path_for(out);
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e} (every part needs the manifest its run wrote beside it)", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not a shard manifest: {e}", p.display()))
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Checks that `parts` are the N shards of one run (same command, network, inputs and
/// parameters, each shard once, every origin once) and returns the merged output: the
/// header once, then every origin's rows in the original order.
pub fn merge(parts: &[PathBuf]) -> Result<(Vec<u8>, serde_json::Value), String> {
    let mut loaded: Vec<(Manifest, Vec<u8>, PathBuf)> = Vec::new();
    for p in parts {
        let m = Manifest::read(p)?;
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if sha256_hex(&bytes) != m.part_sha256 {
            return Err(format!("{}: not the bytes its run wrote (its checksum differs from the manifest's): the file was cut or changed; compute this shard again", p.display()));
        }
        loaded.push((m, bytes, p.clone()));
    }
    let Some(first) = loaded.first().map(|l| l.0.clone()) else {
        return Err("no part to merge".into());
    };
    for (m, _, p) in &loaded {
        let differs = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{} was computed with another {what} than {} ({a:?} vs {b:?}): refusing to merge", p.display(), parts[0].display());
        if m.command != first.command {
            return Err(differs("command", &m.command, &first.command));
        }
        if m.network_sha256 != first.network_sha256 {
            return Err(differs("network file", &m.network_sha256, &first.network_sha256));
        }
        if m.origins_sha256 != first.origins_sha256 || m.destinations_sha256 != first.destinations_sha256 {
            return Err(differs("origins or destinations file", &m.origins_sha256, &first.origins_sha256));
        }
        if m.parameters != first.parameters {
            return Err(differs("set of parameters", &m.parameters.to_string(), &first.parameters.to_string()));
        }
        if m.shard.n != first.shard.n || m.origins_total != first.origins_total {
            return Err(differs("number of shards", &m.shard.n, &first.shard.n));
        }
        if m.rows_per_origin.len() != m.origin_indices.len() {
            return Err(format!("{}: its manifest lists {} origins and {} row counts", p.display(), m.origin_indices.len(), m.rows_per_origin.len()));
        }
    }
    let n = first.shard.n;
    let mut seen = vec![false; n as usize];
    for (m, _, p) in &loaded {
        if std::mem::replace(&mut seen[m.shard.k as usize - 1], true) {
            return Err(format!("shard {}/{n} is given twice ({})", m.shard.k, p.display()));
        }
    }
    if let Some(k) = seen.iter().position(|s| !s) {
        return Err(format!("shard {}/{n} is missing: give the {n} parts of the run", k + 1));
    }
    // Each part: its header, and the byte range of each origin's rows.
    let mut header: Option<Vec<u8>> = None;
    let mut at: Vec<Option<(usize, usize, usize)>> = vec![None; first.origins_total];
    for (pi, (m, bytes, p)) in loaded.iter().enumerate() {
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&bytes[..]);
        let mut starts: Vec<usize> = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).map_err(|e| format!("{}: {e}", p.display()))? {
            starts.push(rec.position().map(|x| x.byte() as usize).unwrap_or(0));
        }
        starts.push(bytes.len());
        let h = &bytes[..starts.first().copied().filter(|_| starts.len() > 1).map(|_| starts[1]).unwrap_or(bytes.len())];
        match &header {
            None => header = Some(h.to_vec()),
            Some(x) if x != h => return Err(format!("{}: its columns differ from {}", p.display(), parts[0].display())),
            _ => {}
        }
        let total: u32 = m.rows_per_origin.iter().sum();
        if total as usize != starts.len() - 2 {
            return Err(format!("{}: {} rows, its manifest says {total}: the file was cut or changed", p.display(), starts.len() - 2));
        }
        let mut row = 1;
        for (&o, &r) in m.origin_indices.iter().zip(&m.rows_per_origin) {
            if o >= first.origins_total || at[o].is_some() {
                return Err(format!("{}: origin {o} is out of range or in two parts", p.display()));
            }
            at[o] = Some((pi, starts[row], starts[row + r as usize]));
            row += r as usize;
        }
    }
    let mut out = header.unwrap_or_default();
    for (o, a) in at.iter().enumerate() {
        let (pi, s, e) = a.ok_or_else(|| format!("origin {o} is in no part"))?;
        out.extend_from_slice(&loaded[pi].1[s..e]);
    }
    Ok((out, first.parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_origins_evenly_and_deterministically() {
        let pts: Vec<LatLon> = (0..1000).map(|i| LatLon::new(50.0 + (i % 37) as f64 * 0.01, 2.5 + (i / 37) as f64 * 0.01)).collect();
        let n = 7;
        let parts: Vec<Vec<usize>> = (1..=n).map(|k| origins_of(&pts, Shard { k, n })).collect();
        let mut all: Vec<usize> = parts.concat();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>(), "every origin once");
        assert!(parts.iter().all(|p| (142..=143).contains(&p.len())), "{:?}", parts.iter().map(Vec::len).collect::<Vec<_>>());
        assert_eq!(parts[2], origins_of(&pts, Shard { k: 3, n }));
        // Each shard spans the area: its points reach both ends of the box.
        for p in &parts {
            let lats: Vec<f64> = p.iter().map(|&i| pts[i].lat).collect();
            assert!(lats.iter().cloned().fold(f64::MAX, f64::min) < 50.05 && lats.iter().cloned().fold(f64::MIN, f64::max) > 50.30);
        }
        assert_eq!("3/8".parse::<Shard>(), Ok(Shard { k: 3, n: 8 }));
        assert!("0/8".parse::<Shard>().is_err() && "9/8".parse::<Shard>().is_err() && "x".parse::<Shard>().is_err());
    }
}
