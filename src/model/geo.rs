//! Small geodesy helpers: great-circle distance and a local metric projection.
//!
//! Distances inside the basin are a few tens of kilometres at most, so an
//! equirectangular projection around a reference latitude is accurate to well under
//! 0.1 % — good enough for snapping and for footpath fallbacks.

use serde::{Deserialize, Serialize};

pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && !(self.lat == 0.0 && self.lon == 0.0)
    }
}

/// Haversine distance in metres.
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// Position along a Hilbert curve of order 16 of a point in [0, 1]^2.
pub fn hilbert(x: f64, y: f64) -> u64 {
    const N: u32 = 1 << 16;
    let (mut x, mut y) = (((x.clamp(0.0, 1.0) * (N - 1) as f64) as u32), ((y.clamp(0.0, 1.0) * (N - 1) as f64) as u32));
    let mut d = 0u64;
    let mut s = N / 2;
    while s > 0 {
        let rx = (x & s > 0) as u32;
        let ry = (y & s > 0) as u32;
        d += s as u64 * s as u64 * ((3 * rx) ^ ry) as u64;
        if ry == 0 {
            if rx == 1 {
                x = N - 1 - x;
                y = N - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// The indices of `points` in their order along a Hilbert curve over their bounding box
/// (equal positions in input order): points near each other on the map are mostly near
/// each other in the order.
pub fn hilbert_order(points: &[LatLon]) -> Vec<usize> {
    let mut b = BBox::empty();
    points.iter().for_each(|&p| b.extend(p));
    let (w, h) = ((b.max_lon - b.min_lon).max(1e-9), (b.max_lat - b.min_lat).max(1e-9));
    let mut order: Vec<(u64, usize)> = points.iter().enumerate().map(|(i, p)| (hilbert((p.lon - b.min_lon) / w, (p.lat - b.min_lat) / h), i)).collect();
    order.sort_unstable();
    order.into_iter().map(|(_, i)| i).collect()
}

/// Equirectangular projection to metres around a reference latitude.
#[derive(Debug, Clone, Copy)]
pub struct LocalProjection {
    cos_lat: f64,
}

impl LocalProjection {
    pub fn new(ref_lat: f64) -> Self {
        Self { cos_lat: ref_lat.to_radians().cos() }
    }
    pub fn project(&self, p: LatLon) -> [f64; 2] {
        [
            p.lon.to_radians() * EARTH_RADIUS_M * self.cos_lat,
            p.lat.to_radians() * EARTH_RADIUS_M,
        ]
    }
    pub fn unproject(&self, xy: [f64; 2]) -> LatLon {
        LatLon {
            lat: (xy[1] / EARTH_RADIUS_M).to_degrees(),
            lon: (xy[0] / (EARTH_RADIUS_M * self.cos_lat)).to_degrees(),
        }
    }
}

/// Projection of point `p` on segment `a`-`b` (all in metres): (closest point, t in [0,1], distance).
pub fn project_on_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> ([f64; 2], f64, f64) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let c = [a[0] + t * dx, a[1] + t * dy];
    let d = ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt();
    (c, t, d)
}

/// Bounding box in degrees.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct BBox {
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
}

impl BBox {
    /// `MIN_LAT,MIN_LON,MAX_LAT,MAX_LON` in degrees, min < max, finite, in range.
    pub fn parse(s: &str) -> Result<BBox, String> {
        let v: Vec<f64> = s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| format!("expected MIN_LAT,MIN_LON,MAX_LAT,MAX_LON in degrees, got {s:?}"))?;
        if v.len() != 4 || v.iter().any(|x| !x.is_finite()) || v[0] >= v[2] || v[1] >= v[3] || v[0] < -90.0 || v[2] > 90.0 || v[1] < -180.0 || v[3] > 180.0 {
            return Err(format!("expected MIN_LAT,MIN_LON,MAX_LAT,MAX_LON in degrees with min < max, got {s:?}"));
        }
        Ok(BBox { min_lat: v[0], min_lon: v[1], max_lat: v[2], max_lon: v[3] })
    }
    pub fn empty() -> Self {
        Self { min_lat: f64::INFINITY, min_lon: f64::INFINITY, max_lat: f64::NEG_INFINITY, max_lon: f64::NEG_INFINITY }
    }
    pub fn extend(&mut self, p: LatLon) {
        self.min_lat = self.min_lat.min(p.lat);
        self.min_lon = self.min_lon.min(p.lon);
        self.max_lat = self.max_lat.max(p.lat);
        self.max_lon = self.max_lon.max(p.lon);
    }
    pub fn is_empty(&self) -> bool {
        self.min_lat > self.max_lat
    }
    /// A box holding every point within `radius_m` of `p` (great circle), a little wider.
    pub fn around(p: LatLon, radius_m: f64) -> Self {
        let dlat = (radius_m / EARTH_RADIUS_M).to_degrees() * 1.001 + 1e-9;
        let dlon = dlat / (p.lat.abs() + dlat).min(89.0).to_radians().cos();
        BBox { min_lat: p.lat - dlat, min_lon: p.lon - dlon, max_lat: p.lat + dlat, max_lon: p.lon + dlon }
    }
    pub fn contains(&self, p: LatLon) -> bool {
        p.lat >= self.min_lat && p.lat <= self.max_lat && p.lon >= self.min_lon && p.lon <= self.max_lon
    }
    /// Area in square metres (spherical, at the box's middle latitude).
    pub fn area_m2(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let mid = ((self.min_lat + self.max_lat) / 2.0).to_radians().cos();
        (self.max_lat - self.min_lat).to_radians() * EARTH_RADIUS_M * (self.max_lon - self.min_lon).to_radians() * EARTH_RADIUS_M * mid
    }
    /// True when `p` lies inside the box grown by `margin_m` metres.
    pub fn contains_with_margin(&self, p: LatLon, margin_m: f64) -> bool {
        if self.is_empty() {
            return false;
        }
        let dlat = margin_m / 111_320.0;
        let dlon = margin_m / (111_320.0 * p.lat.to_radians().cos().max(0.01));
        p.lat >= self.min_lat - dlat
            && p.lat <= self.max_lat + dlat
            && p.lon >= self.min_lon - dlon
            && p.lon <= self.max_lon + dlon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_on_the_curve_are_neighbours_on_the_map() {
        // Consecutive Hilbert positions are adjacent cells: the curve has no jumps.
        let side = 64u32;
        let mut cells: Vec<(u64, u32, u32)> = (0..side * side).map(|i| (i % side, i / side)).map(|(x, y)| (hilbert((x as f64 + 0.5) / side as f64, (y as f64 + 0.5) / side as f64), x, y)).collect();
        cells.sort_unstable();
        assert!(cells.windows(2).all(|w| w[0].1.abs_diff(w[1].1) + w[0].2.abs_diff(w[1].2) == 1));
    }

    #[test]
    fn lens_to_lille_is_about_29_km() {
        let lens = LatLon::new(50.4276, 2.8255);
        let lille = LatLon::new(50.6365, 3.0710);
        let d = distance_m(lens, lille);
        assert!((28_500.0..29_500.0).contains(&d), "{d}");
    }

    #[test]
    fn projection_round_trips() {
        let pr = LocalProjection::new(50.4);
        let p = LatLon::new(50.43, 2.83);
        let q = pr.unproject(pr.project(p));
        assert!((p.lat - q.lat).abs() < 1e-9 && (p.lon - q.lon).abs() < 1e-9);
    }

    #[test]
    fn segment_projection_clamps_to_ends() {
        let (c, t, d) = project_on_segment([5.0, 5.0], [0.0, 0.0], [10.0, 0.0]);
        assert_eq!((c, t, d), ([5.0, 0.0], 0.5, 5.0));
        let (_, t, d) = project_on_segment([-3.0, 4.0], [0.0, 0.0], [10.0, 0.0]);
        assert_eq!((t, d), (0.0, 5.0));
    }
}
