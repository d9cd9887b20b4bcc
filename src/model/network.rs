//! The network: timetable + streets + stop links + footpaths, and its file format.
//!
//! File layout (little endian):
//! `b"TERRILNW"` | format version u32 | payload length u64 | CRC-32 of payload u32 | payload
//! where the payload is the postcard encoding of [`Network`]. The file is written to a
//! temporary name and renamed, so a reader never sees half a file; a file of another
//! version, a truncated or corrupt file is refused with a named error.

use super::geo::{BBox, LatLon};
use super::search::Pace;
use super::streets::{Profile, Snap, Streets};
use super::timetable::{StopIdx, Timetable};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

pub const MAGIC: &[u8; 8] = b"TERRILNW";
/// 8: stops numbered along a Hilbert curve (same layout; a file in feed order loads as
/// stale and is built again).
pub const FORMAT_VERSION: u32 = 8;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// An input file of the build, recorded for provenance and for "is the network stale?".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct InputFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct NetworkMeta {
    pub terril_version: String,
    pub built_at: String,
    pub inputs: Vec<InputFile>,
    /// True for the built-in fictional demonstration network.
    pub demo: bool,
    pub title: String,
    pub warnings: Vec<String>,
    /// Stops farther than the snap limit from any street (id, distance m).
    pub far_stops: Vec<(String, f64)>,
    /// How footpaths were computed: "streets" or "straight-line".
    pub footpath_method: String,
    pub footpath_max_s: u32,
}

/// One stop-to-stop walk: its effort (decimetres, see [`crate::model::search`]) and the
/// minimum time `transfers.txt` sets for it (0 when none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Footpath {
    pub to: StopIdx,
    pub effort_dm: u32,
    pub min_s: u32,
}

impl Footpath {
    /// Seconds at `pace`, never under the feed's minimum.
    pub fn secs(&self, pace: Pace) -> u32 {
        footpath_secs(self.effort_dm, self.min_s, pace)
    }
}

/// Seconds of a footpath of `effort_dm` at `pace`, never under the feed's `min_s`.
#[inline]
pub fn footpath_secs(effort_dm: u32, min_s: u32, pace: Pace) -> u32 {
    pace.secs(effort_dm).max(min_s)
}

/// Stop-to-stop walking transfers as CSR.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Footpaths {
    pub offsets: Vec<u32>,
    pub targets: Vec<StopIdx>,
    pub effort_dm: Vec<u32>,
    pub min_s: Vec<u32>,
}

impl Footpaths {
    pub fn from_lists(lists: Vec<Vec<Footpath>>) -> Self {
        let mut f = Footpaths { offsets: vec![0], ..Default::default() };
        for mut l in lists {
            l.sort_unstable();
            l.dedup_by_key(|x| x.to);
            for x in l {
                f.targets.push(x.to);
                f.effort_dm.push(x.effort_dm);
                f.min_s.push(x.min_s);
            }
            f.offsets.push(f.targets.len() as u32);
        }
        f
    }
    /// Walks from `s`.
    pub fn from(&self, s: StopIdx) -> impl Iterator<Item = Footpath> + '_ {
        let r = self.offsets[s as usize] as usize..self.offsets[s as usize + 1] as usize;
        r.map(move |i| Footpath { to: self.targets[i], effort_dm: self.effort_dm[i], min_s: self.min_s[i] })
    }
    pub fn len(&self) -> usize {
        self.targets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Network {
    pub meta: NetworkMeta,
    pub timetable: Timetable,
    pub streets: Option<Streets>,
    /// Per stop: where it meets the walk graph (None without streets or when too far).
    pub stop_links: Vec<Option<Snap>>,
    pub footpaths: Footpaths,
    /// Named places from the OSM extract (communes, hospitals, streets, addresses...).
    pub places: Vec<super::places::NamedPlace>,
    /// Numbered addresses (BAN files given at build, and OSM `addr:*`), by street.
    pub addresses: Vec<super::places::AddressStreet>,
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkFileError {
    #[error("{path}: cannot read the network file: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a terril network file (wrong magic bytes). Build one with `terril build`.")]
    NotANetwork { path: String },
    #[error("{path}: network file format version {found}, this terril reads version {expected}. Rebuild it with `terril build`.")]
    Version { path: String, found: u32, expected: u32 },
    #[error("{path}: the network file is truncated ({found} bytes of payload, {expected} expected). Rebuild it with `terril build`.")]
    Truncated { path: String, found: u64, expected: u64 },
    #[error("{path}: the network file is corrupt (checksum mismatch). Rebuild it with `terril build`.")]
    Corrupt { path: String },
    #[error("{path}: cannot write the network file: {source} (nothing was left behind)")]
    Write { path: String, source: std::io::Error },
    #[error("{path} is {what}: give the path of a regular file for the network (nothing was written)")]
    NotRegular { path: String, what: &'static str },
    #[error("{path}: the network file could not be decoded: {message}")]
    Decode { path: String, message: String },
}

impl Network {
    pub fn bbox(&self) -> BBox {
        let mut b = BBox::empty();
        for c in &self.timetable.stops.coords {
            b.extend(*c);
        }
        if let Some(s) = &self.streets {
            for c in &s.coords {
                b.extend(*c);
            }
        }
        b
    }

    pub fn stop_coord(&self, s: StopIdx) -> LatLon {
        self.timetable.stops.coords[s as usize]
    }

    pub fn has_streets(&self) -> bool {
        self.streets.as_ref().is_some_and(|s| s.graph(Profile::Walk).n_nodes > 0)
    }

    /// Encodes the network to bytes, header included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = postcard::to_stdvec(self).expect("network serialises");
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Writes atomically: temporary file in the same folder, then rename. Refuses to
    /// replace anything but a regular file (a device, a folder, a symbolic link), and
    /// removes the temporary file when a write fails.
    pub fn save(&self, path: &Path) -> Result<u64, NetworkFileError> {
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if !m.file_type().is_file() {
                let what = if m.file_type().is_symlink() { "a symbolic link" } else if m.is_dir() { "a folder" } else { "not a regular file" };
                return Err(NetworkFileError::NotRegular { path: path.display().to_string(), what });
            }
        }
        let bytes = self.to_bytes();
        let io = |e| NetworkFileError::Write { path: path.display().to_string(), source: e };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().and_then(|s| s.to_str()).unwrap_or("network"), std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(bytes.len() as u64)
    }

    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Network, NetworkFileError> {
        let path = path.to_string();
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(NetworkFileError::NotANetwork { path });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        if version != FORMAT_VERSION {
            return Err(NetworkFileError::Version { path, found: version, expected: FORMAT_VERSION });
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap());
        let crc = u32::from_le_bytes(bytes[20..24].try_into().unwrap());
        let payload = &bytes[HEADER_LEN..];
        if (payload.len() as u64) < len {
            return Err(NetworkFileError::Truncated { path, found: payload.len() as u64, expected: len });
        }
        let payload = &payload[..len as usize];
        if crc32fast::hash(payload) != crc {
            return Err(NetworkFileError::Corrupt { path });
        }
        postcard::from_bytes(payload).map_err(|e| NetworkFileError::Decode { path, message: e.to_string() })
    }

    pub fn load(path: &Path) -> Result<Network, NetworkFileError> {
        let bytes = std::fs::read(path).map_err(|e| NetworkFileError::Io { path: path.display().to_string(), source: e })?;
        Network::from_bytes(&bytes, &path.display().to_string())
    }
}
