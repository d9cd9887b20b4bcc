//! FlatGeobuf export: one file QGIS (and GDAL, ArcGIS, the web) opens directly, with the
//! attributes typed and a spatial index. Chosen over GeoPackage because it needs no
//! SQLite (a C library) in the binary, streams, and is written by the `flatgeobuf` crate
//! from the same GeoJSON the server answers, so the two exports cannot disagree.

use flatgeobuf::{FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geozero::geojson::GeoJsonReader;
use geozero::GeozeroDatasource;

/// Checks a FeatureCollection before writing it: every feature has a geometry of a known
/// type whose coordinates nest as the type says, with finite numbers; properties are an
/// object. What the page sends is what the server answered, but a request may be anything.
pub fn check_feature_collection(fc: &serde_json::Value) -> Result<usize, String> {
    if fc["type"] != "FeatureCollection" {
        return Err("not a GeoJSON FeatureCollection (\"type\": \"FeatureCollection\")".into());
    }
    let feats = fc["features"].as_array().ok_or("\"features\" must be a list")?;
    if feats.is_empty() {
        return Err("no feature to write".into());
    }
    fn depth_ok(v: &serde_json::Value, depth: usize) -> bool {
        match v.as_array() {
            Some(a) if depth == 0 => a.len() >= 2 && a.len() <= 3 && a.iter().all(|x| x.as_f64().is_some_and(f64::is_finite)),
            // An empty list is an empty geometry (an isochrone with no area).
            Some(a) => a.iter().all(|x| depth_ok(x, depth - 1)),
            None => false,
        }
    }
    for (i, f) in feats.iter().enumerate() {
        let g = &f["geometry"];
        let depth = match g["type"].as_str() {
            Some("Point") => 0,
            Some("LineString" | "MultiPoint") => 1,
            Some("Polygon" | "MultiLineString") => 2,
            Some("MultiPolygon") => 3,
            _ => return Err(format!("feature {i}: the geometry must be a Point, LineString, Polygon or their Multi forms")),
        };
        if !depth_ok(&g["coordinates"], depth) {
            return Err(format!("feature {i}: coordinates do not match a {}", g["type"].as_str().unwrap_or("")));
        }
        if !(f["properties"].is_object() || f["properties"].is_null()) {
            return Err(format!("feature {i}: properties must be an object"));
        }
    }
    Ok(feats.len())
}

/// A GeoJSON FeatureCollection as FlatGeobuf (WGS 84). Properties keep their JSON types
/// (the columns are typed by the first feature written, so the fullest one goes first);
/// a null (an unreachable origin) is written as no value.
pub fn flatgeobuf(fc: &serde_json::Value, name: &str) -> Result<Vec<u8>, String> {
    check_feature_collection(fc)?;
    let feats = fc["features"].as_array().ok_or("not a FeatureCollection")?;
    let types: std::collections::BTreeSet<&str> = feats.iter().filter_map(|f| f["geometry"]["type"].as_str()).collect();
    let gt = match types.iter().copied().collect::<Vec<_>>().as_slice() {
        ["Point"] => GeometryType::Point,
        ["LineString"] => GeometryType::LineString,
        ["Polygon"] => GeometryType::Polygon,
        ["MultiPolygon"] | ["MultiPolygon", "Polygon"] => GeometryType::MultiPolygon,
        _ => GeometryType::Unknown,
    };
    // The first feature fixes the columns' types: give it every property, a number where
    // any feature has one.
    let mut fc = fc.clone();
    if let Some(arr) = fc["features"].as_array_mut() {
        let mut template = serde_json::Map::new();
        for f in arr.iter() {
            if let Some(p) = f["properties"].as_object() {
                for (k, v) in p {
                    if !v.is_null() && template.get(k).is_none_or(|t: &serde_json::Value| t.is_null()) {
                        template.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        // The spatial index orders the file anyway: the fullest feature goes first.
        if let Some(best) = (0..arr.len()).max_by_key(|&i| (arr[i]["properties"].as_object().map_or(0, |p| p.values().filter(|v| !v.is_null()).count()), std::cmp::Reverse(i))) {
            arr.swap(0, best);
        }
        if let Some(first) = arr.first_mut() {
            let p = first["properties"].as_object_mut();
            if let Some(p) = p {
                for (k, v) in &template {
                    if p.get(k).is_none_or(|x| x.is_null()) {
                        // Absent on the first feature: a value of the column's type that says
                        // "none" (NaN for numbers, empty text).
                        p.insert(k.clone(), if v.is_number() { serde_json::json!(f64::NAN) } else { serde_json::json!("") });
                    }
                }
            }
        }
    }
    let opts = FgbWriterOptions { crs: FgbCrs { code: 4326, ..Default::default() }, write_index: true, ..Default::default() };
    let mut fgb = FgbWriter::create_with_options(name, gt, opts).map_err(|e| e.to_string())?;
    let text = serde_json::to_string(&fc).map_err(|e| e.to_string())?;
    GeoJsonReader(text.as_bytes()).process(&mut fgb).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    fgb.write(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flatgeobuf::{FallibleStreamingIterator, FgbReader};
    use geozero::{FeatureProperties, ToJson};

    #[test]
    fn a_feature_collection_comes_back_with_its_attributes() {
        let fc = serde_json::json!({ "type": "FeatureCollection", "features": [
            { "type": "Feature", "properties": { "id": "a", "t": null, "pop": 10.5 }, "geometry": { "type": "Point", "coordinates": [2.8, 50.4] } },
            { "type": "Feature", "properties": { "id": "b", "t": 12.0, "pop": 3.0 }, "geometry": { "type": "Point", "coordinates": [2.9, 50.5] } },
        ]});
        let bytes = flatgeobuf(&fc, "test").unwrap();
        assert_eq!(&bytes[..3], b"fgb");
        let mut r = std::io::Cursor::new(bytes);
        let mut it = FgbReader::open(&mut r).unwrap().select_all().unwrap();
        let mut got = Vec::new();
        while let Some(f) = it.next().unwrap() {
            let geom: serde_json::Value = serde_json::from_str(&f.to_json().unwrap()).unwrap();
            got.push((f.property::<String>("id").unwrap(), f.property::<f64>("t").ok(), f.property::<f64>("pop").unwrap(), geom["coordinates"].clone()));
        }
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], ("b".to_string(), Some(12.0), 3.0, serde_json::json!([2.9, 50.5])));
        assert!(got[0].1.is_none_or(f64::is_nan), "a null stays without a value: {:?}", got[0].1);
        assert_eq!(got[0].2, 10.5);
        // Outlines: a multipolygon with a hole comes back whole.
        let fc = serde_json::json!({ "type": "FeatureCollection", "features": [
            { "type": "Feature", "properties": { "id": "c" }, "geometry": { "type": "MultiPolygon", "coordinates": [[[[0.5, 0.5], [4.5, 0.5], [4.5, 4.5], [0.5, 4.5], [0.5, 0.5]], [[1.5, 1.5], [2.5, 1.5], [2.5, 2.5], [1.5, 1.5]]], [[[5.5, 5.5], [6.5, 5.5], [6.5, 6.5], [5.5, 5.5]]]] } },
        ]});
        let bytes = flatgeobuf(&fc, "test").unwrap();
        let mut r = std::io::Cursor::new(bytes);
        let mut it = FgbReader::open(&mut r).unwrap().select_all().unwrap();
        let f = it.next().unwrap().unwrap();
        let g: serde_json::Value = serde_json::from_str(&f.to_json().unwrap()).unwrap();
        assert_eq!(g["type"], "MultiPolygon");
        assert_eq!(g["coordinates"], fc["features"][0]["geometry"]["coordinates"]);
        // An empty multipolygon (an isochrone of no area) is written too.
        let empty = serde_json::json!({ "type": "FeatureCollection", "features": [{ "type": "Feature", "properties": { "cutoff_min": 15 }, "geometry": { "type": "MultiPolygon", "coordinates": [] } }] });
        let bytes = flatgeobuf(&empty, "empty").unwrap();
        let mut r = std::io::Cursor::new(bytes);
        let mut it = FgbReader::open(&mut r).unwrap().select_all().unwrap();
        assert_eq!(it.next().unwrap().unwrap().property::<i64>("cutoff_min").unwrap(), 15);
        // What cannot be written is said.
        for bad in [serde_json::json!({ "type": "Feature" }), serde_json::json!({ "type": "FeatureCollection", "features": [] }), serde_json::json!({ "type": "FeatureCollection", "features": [{ "type": "Feature", "geometry": { "type": "Polygon", "coordinates": [1, 2] } }] })] {
            assert!(flatgeobuf(&bad, "x").is_err(), "{bad}");
        }
    }
}
