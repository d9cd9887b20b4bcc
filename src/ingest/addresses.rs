//! Addresses from the French national address base (Base Adresse Nationale, BAN): the
//! per-département CSV that adresse.data.gouv.fr publishes (`adresses-62.csv.gz`,
//! semicolon-separated, one row per numbered address: `numero`, `rep`, `nom_voie`,
//! `nom_commune`, `lon`, `lat`...), plain or gzipped. Rows are grouped by street and
//! commune ([`AddressStreet`]); `terril fetch` downloads the files (`[[addresses]]` in
//! `feeds/sources.toml`), `terril build --addresses FILE` reads them.

use crate::model::geo::{BBox, LatLon};
use crate::model::places::AddressStreet;
use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("{path}: cannot read the address file: {message}")]
    Read { path: String, message: String },
    #[error("{path}: not a BAN address file: the header has no column '{column}' (expected the semicolon-separated adresses-DD.csv of adresse.data.gouv.fr)")]
    Column { path: String, column: &'static str },
}

/// Reads a BAN CSV (or .csv.gz). Rows outside `crop`, without a number or with bad
/// coordinates are skipped and counted; returns the streets and the number of rows kept.
pub fn read_ban(path: &Path, crop: Option<BBox>) -> Result<(Vec<AddressStreet>, usize, usize), AddressError> {
    let p = path.display().to_string();
    let err = |m: String| AddressError::Read { path: p.clone(), message: m };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut head = [0u8; 2];
    let gz = std::io::BufReader::new(&file).read(&mut head).map_err(|e| err(e.to_string()))? == 2 && head == [0x1f, 0x8b];
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let input: Box<dyn Read> = if gz { Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))) } else { Box::new(std::io::BufReader::new(file)) };
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_reader(input);
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let col = |name: &'static str| headers.iter().position(|h| h.trim_start_matches('\u{feff}') == name).ok_or(AddressError::Column { path: p.clone(), column: name });
    let (num, rep, voie, commune, lon, lat) = (col("numero")?, col("rep").ok(), col("nom_voie")?, col("nom_commune")?, col("lon")?, col("lat")?);
    let (mut rows, mut skipped) = (Vec::new(), 0usize);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(e.to_string()))?;
        let f = |i: usize| rec.get(i).unwrap_or("").trim();
        let p = match (f(lat).parse::<f64>(), f(lon).parse::<f64>()) {
            (Ok(a), Ok(b)) => LatLon::new(a, b),
            _ => {
                skipped += 1;
                continue;
            }
        };
        let n = f(num);
        if !p.is_valid() || n.is_empty() || n == "99999" || crop.is_some_and(|b| !b.contains_with_margin(p, 0.0)) {
            skipped += 1;
            continue;
        }
        let number = match rep.map(f).filter(|r| !r.is_empty()) {
            Some(r) => format!("{n} {r}"),
            None => n.to_string(),
        };
        rows.push((number, f(voie).to_string(), f(commune).to_string(), p));
    }
    let kept = rows.len();
    Ok((AddressStreet::group(rows), kept, skipped))
}

/// Adds `more` to `base`: a street of the same name and commune keeps the numbers it has
/// and gains those it lacks (the first source given wins on a number both hold).
pub fn merge(base: &mut Vec<AddressStreet>, more: Vec<AddressStreet>) {
    use crate::model::text::normalize;
    let mut at: std::collections::HashMap<(String, String), usize> = base.iter().enumerate().map(|(i, s)| ((normalize(&s.street), normalize(&s.commune)), i)).collect();
    for s in more {
        match at.get(&(normalize(&s.street), normalize(&s.commune))) {
            Some(&i) => {
                let rows = base[i].numbers.iter().chain(&s.numbers).map(|(n, p)| (n.clone(), base[i].street.clone(), base[i].commune.clone(), *p)).collect::<Vec<_>>();
                base[i] = AddressStreet::group(rows).pop().expect("one street");
            }
            None => {
                at.insert((normalize(&s.street), normalize(&s.commune)), base.len());
                base.push(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAN: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles
62498_0420_00012;62498_0420;12;;Rue de la Gare;62300;62498;Lens;;;685000;7039000;2.8247;50.4280;entrée;;;LENS;RUE DE LA GARE;commune;commune;1;
62498_0420_00012_bis;62498_0420;12;bis;Rue de la Gare;62300;62498;Lens;;;685000;7039000;2.8248;50.4281;entrée;;;LENS;RUE DE LA GARE;commune;commune;1;
62498_0420_00001;62498_0420;1;;Rue de la Gare;62300;62498;Lens;;;685000;7039000;2.8239;50.4276;entrée;;;LENS;RUE DE LA GARE;commune;commune;1;
62510_0100_00005;62510_0100;5;;Rue Jean Jaurès;62800;62510;Liévin;;;685000;7039000;2.7790;50.4210;entrée;;;LIEVIN;RUE JEAN JAURES;commune;commune;1;
62510_0100_99999;62510_0100;99999;;Rue Jean Jaurès;62800;62510;Liévin;;;685000;7039000;2.7790;50.4210;segment;;;LIEVIN;RUE JEAN JAURES;commune;commune;1;
62510_0100_00007;62510_0100;7;;Rue Jean Jaurès;62800;62510;Liévin;;;685000;7039000;;;entrée;;;LIEVIN;RUE JEAN JAURES;commune;commune;1;
";

    #[test]
    fn a_ban_file_plain_or_gzipped_gives_streets_with_their_numbers() {
        let dir = std::env::temp_dir().join(format!("terril-ban-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("adresses-62.csv");
        std::fs::write(&plain, BAN).unwrap();
        let gz = dir.join("adresses-62.csv.gz");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, BAN.as_bytes()).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        for f in [&plain, &gz] {
            let (streets, kept, skipped) = read_ban(f, None).unwrap();
            assert_eq!((kept, skipped), (4, 2), "the 99999 placeholder and the row without coordinates are skipped");
            let gare = streets.iter().find(|s| s.street == "Rue de la Gare").unwrap();
            assert_eq!(gare.commune, "Lens");
            assert_eq!(gare.numbers.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["1", "12", "12 bis"]);
        }
        let crop = BBox { min_lat: 50.42, min_lon: 2.80, max_lat: 50.44, max_lon: 2.90 };
        assert_eq!(read_ban(&plain, Some(crop)).unwrap().1, 3, "Liévin is outside the crop");
        std::fs::write(&plain, "a,b,c\n1,2,3\n").unwrap();
        let e = read_ban(&plain, None).unwrap_err().to_string();
        assert!(e.contains("not a BAN address file") && e.contains("numero"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn merging_keeps_the_first_sources_numbers_and_adds_the_rest() {
        let p = LatLon::new(50.0, 2.8);
        let mut a = AddressStreet::group(vec![("1".into(), "Rue A".into(), "Lens".into(), p)]);
        let b = AddressStreet::group(vec![("1".into(), "rue a".into(), "LENS".into(), LatLon::new(51.0, 2.8)), ("3".into(), "rue a".into(), "LENS".into(), p), ("2".into(), "Rue B".into(), "Lens".into(), p)]);
        merge(&mut a, b);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].numbers.len(), 2);
        assert_eq!(a[0].numbers[0].1, p, "the first source's point is kept for number 1");
    }
}
