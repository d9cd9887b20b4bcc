//! INSEE Filosofi 200 m population cells, from the national CSV as INSEE publishes it
//! (`Idcar_200m` = `CRS3035RES200mN<north>E<east>`, the cell's lower-left corner in
//! ETRS89-LAEA, EPSG:3035; `Ind` = inhabitants; `lcog_geo` = the commune code(s)), to one
//! file per commune in the form the analyses read (`{"m": year, "c": code, "p": [[lon,
//! lat, pop], ...]}`, the cell centres in WGS 84). Only the communes of the départements
//! asked for are kept.
//!
//! The inverse Lambert azimuthal equal-area projection is IOGP's (Guidance Note 7-2,
//! EPSG method 9820, GRS 1980 ellipsoid); checked against the shared data, whose cell
//! centres project onto the 200 m grid to the centimetre.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

const A: f64 = 6_378_137.0;
const F: f64 = 1.0 / 298.257_222_101;
const LAT0: f64 = 52.0;
const LON0: f64 = 10.0;
const FALSE_E: f64 = 4_321_000.0;
const FALSE_N: f64 = 3_210_000.0;

fn e2() -> f64 {
    2.0 * F - F * F
}

fn q(phi: f64) -> f64 {
    let e2 = e2();
    let e = e2.sqrt();
    let s = phi.sin();
    (1.0 - e2) * (s / (1.0 - e2 * s * s) - 1.0 / (2.0 * e) * ((1.0 - e * s) / (1.0 + e * s)).ln())
}

/// EPSG:3035 (northing, easting) metres -> WGS 84 (lat, lon) degrees.
pub fn laea_to_wgs84(north: f64, east: f64) -> (f64, f64) {
    let e2 = e2();
    let (phi0, lam0) = (LAT0.to_radians(), LON0.to_radians());
    let qp = q(std::f64::consts::FRAC_PI_2);
    let rq = A * (qp / 2.0).sqrt();
    let beta0 = (q(phi0) / qp).asin();
    let d = A * (phi0.cos() / (1.0 - e2 * phi0.sin().powi(2)).sqrt()) / (rq * beta0.cos());
    let (x, y) = (east - FALSE_E, north - FALSE_N);
    let rho = ((x / d).powi(2) + (d * y).powi(2)).sqrt();
    if rho < 1e-9 {
        return (LAT0, LON0);
    }
    let c = 2.0 * (rho / (2.0 * rq)).asin();
    let beta = (c.cos() * beta0.sin() + d * y * c.sin() * beta0.cos() / rho).asin();
    let lam = lam0 + (x * c.sin()).atan2(d * rho * beta0.cos() * c.cos() - d * d * y * beta0.sin() * c.sin());
    let (e4, e6) = (e2 * e2, e2 * e2 * e2);
    let phi = beta
        + (e2 / 3.0 + 31.0 * e4 / 180.0 + 517.0 * e6 / 5040.0) * (2.0 * beta).sin()
        + (23.0 * e4 / 360.0 + 251.0 * e6 / 3780.0) * (4.0 * beta).sin()
        + (761.0 * e6 / 45360.0) * (6.0 * beta).sin();
    (phi.to_degrees(), lam.to_degrees())
}

/// `CRS3035RES200mN3059200E3811600` -> the cell's centre (north, east), metres.
pub fn cell_centre(id: &str) -> Option<(f64, f64)> {
    let rest = id.trim().strip_prefix("CRS3035RES")?;
    let (res, rest) = rest.split_once("mN")?;
    let res: f64 = res.parse().ok()?;
    let (n, e) = rest.split_once('E')?;
    Some((n.parse::<f64>().ok()? + res / 2.0, e.parse::<f64>().ok()? + res / 2.0))
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub communes: usize,
    pub cells: usize,
    pub inhabitants: f64,
}

/// Reads INSEE's carreaux CSV (`,` or `;` separated) and writes `DIR/<commune>.json` for
/// the communes whose code starts with one of `departements` (all when empty). A cell
/// over several communes (`lcog_geo` holding several codes) goes to the first.
pub fn convert_filosofi(reader: impl Read, departements: &[String], year: u32, out_dir: &Path) -> Result<Converted, String> {
    let mut buf = std::io::BufReader::new(reader);
    let mut first = String::new();
    std::io::BufRead::read_line(&mut buf, &mut first).map_err(|e| e.to_string())?;
    let delim = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let chained = std::io::Read::chain(std::io::Cursor::new(first.into_bytes()), buf);
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(chained);
    let headers: Vec<String> = rdr.headers().map_err(|e| e.to_string())?.iter().map(|h| h.trim().trim_start_matches('\u{feff}').trim_matches('"').to_ascii_lowercase()).collect();
    let col = |n: &str| headers.iter().position(|h| h == n).ok_or_else(|| format!("not INSEE's carreaux file: no column '{n}' (columns: {})", headers.join(", ")));
    let (id, ind, cog) = (col("idcar_200m")?, col("ind")?, col("lcog_geo")?);
    let mut by: BTreeMap<String, Vec<[f64; 3]>> = BTreeMap::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| format!("line {}: {e}", i + 2))?;
        let code: String = r.get(cog).unwrap_or("").trim().chars().take(5).collect();
        if code.len() != 5 || !(departements.is_empty() || departements.iter().any(|d| code.starts_with(d.as_str()))) {
            continue;
        }
        let (n, e) = cell_centre(r.get(id).unwrap_or("")).ok_or_else(|| format!("line {}: '{}' is not a 200 m cell id", i + 2, r.get(id).unwrap_or("")))?;
        let pop: f64 = r.get(ind).unwrap_or("").trim().replace(',', ".").parse().map_err(|_| format!("line {}: Ind is not a number", i + 2))?;
        let (lat, lon) = laea_to_wgs84(n, e);
        by.entry(code).or_default().push([(lon * 1e6).round() / 1e6, (lat * 1e6).round() / 1e6, pop]);
    }
    if by.is_empty() {
        return Err(format!("no cell of the départements {departements:?} in the file"));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut done = Converted { communes: 0, cells: 0, inhabitants: 0.0 };
    for (code, cells) in &by {
        let v = serde_json::json!({ "m": year, "c": code, "p": cells });
        let tmp = out_dir.join(format!("{code}.json.part"));
        std::fs::write(&tmp, serde_json::to_vec(&v).map_err(|e| e.to_string())?).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, out_dir.join(format!("{code}.json"))).map_err(|e| e.to_string())?;
        done.communes += 1;
        done.cells += cells.len();
        done.inhabitants += cells.iter().map(|c| c[2]).sum::<f64>();
    }
    Ok(done)
}

/// As [`convert_filosofi`], from the zip INSEE distributes (its first `.csv`) or a CSV.
pub fn convert_filosofi_file(path: &Path, departements: &[String], year: u32, out_dir: &Path) -> Result<Converted, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        let mut z = zip::ZipArchive::new(f).map_err(|e| format!("{}: not a zip: {e}", path.display()))?;
        let name = (0..z.len()).filter_map(|i| z.by_index(i).ok().map(|f| f.name().to_string())).find(|n| n.to_ascii_lowercase().ends_with(".csv") && n.to_ascii_lowercase().contains("200m")).or_else(|| (0..z.len()).filter_map(|i| z.by_index(i).ok().map(|f| f.name().to_string())).find(|n| n.to_ascii_lowercase().ends_with(".csv"))).ok_or_else(|| format!("{}: no CSV inside", path.display()))?;
        let entry = z.by_name(&name).map_err(|e| e.to_string())?;
        convert_filosofi(entry, departements, year, out_dir)
    } else {
        convert_filosofi(f, departements, year, out_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projection_origin_and_a_cell_id() {
        let (lat, lon) = laea_to_wgs84(FALSE_N, FALSE_E);
        assert!((lat - 52.0).abs() < 1e-9 && (lon - 10.0).abs() < 1e-9);
        assert_eq!(cell_centre("CRS3035RES200mN3059200E3811600"), Some((3059300.0, 3811700.0)));
        assert_eq!(cell_centre("bad"), None);
        // IOGP Guidance Note 7-2, method 9820 example: (N 2 999 718.85, E 3 962 799.45)
        // is 50°N 5°E.
        let (lat, lon) = laea_to_wgs84(2_999_718.85, 3_962_799.45);
        assert!((lat - 50.0).abs() < 1e-7 && (lon - 5.0).abs() < 1e-7, "{lat} {lon}");
    }

    #[test]
    fn a_carreaux_file_becomes_commune_files() {
        let dir = std::env::temp_dir().join(format!("terril-filo-{}", std::process::id()));
        let csv = "Idcar_200m;I_est_200;Idcar_1km;Ind;Men;lcog_geo\nCRS3035RES200mN3059200E3811600;1;x;12.5;5;62498\nCRS3035RES200mN3059400E3811600;1;x;3;1;6249862510\nCRS3035RES200mN3059400E3811800;1;x;7;2;59350\nCRS3035RES200mN3059600E3811600;1;x;2;1;75056\n";
        let got = convert_filosofi(csv.as_bytes(), &["62".into(), "59".into()], 2019, &dir).unwrap();
        assert_eq!(got, Converted { communes: 2, cells: 3, inhabitants: 22.5 });
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("62498.json")).unwrap()).unwrap();
        assert_eq!(v["c"], "62498");
        assert_eq!(v["p"].as_array().unwrap().len(), 2, "the cell over two communes goes to the first");
        assert!(!dir.join("75056.json").exists(), "Paris is not asked for");
        assert!(convert_filosofi("a,b\n1,2\n".as_bytes(), &[], 2019, &dir).unwrap_err().contains("idcar_200m"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
