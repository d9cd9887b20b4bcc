//! The map page, embedded in the binary: our own files from `web/`, and Leaflet's from
//! the npm package that build.rs installed (pinned by web/package-lock.json).

macro_rules! vendor {
    ($f:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/web/node_modules/leaflet/dist/", $f)).as_slice()
    };
}

#[cfg(leaflet)]
fn leaflet(path: &str) -> Option<&'static [u8]> {
    Some(match path {
        "leaflet.js" => vendor!("leaflet.js"),
        "leaflet.css" => vendor!("leaflet.css"),
        "images/marker-icon.png" => vendor!("images/marker-icon.png"),
        "images/marker-icon-2x.png" => vendor!("images/marker-icon-2x.png"),
        "images/marker-shadow.png" => vendor!("images/marker-shadow.png"),
        "images/layers.png" => vendor!("images/layers.png"),
        "images/layers-2x.png" => vendor!("images/layers-2x.png"),
        _ => return None,
    })
}

#[cfg(not(leaflet))]
fn leaflet(path: &str) -> Option<&'static [u8]> {
    match path {
        "leaflet.js" => Some(b"window.L = undefined; console.warn('terril was built without npm: no map library');".as_slice()),
        "leaflet.css" => Some(b"".as_slice()),
        _ => None,
    }
}

/// Whether the map library was embedded at build time.
pub const HAS_MAP_LIBRARY: bool = cfg!(leaflet);

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// A file of the page by its URL path (without the leading slash).
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    let bytes: &'static [u8] = match path {
        "" | "index.html" => include_bytes!("../../web/index.html"),
        "app.js" => include_bytes!("../../web/app.js"),
        "style.css" => include_bytes!("../../web/style.css"),
        p => leaflet(p.strip_prefix("vendor/")?)?,
    };
    Some((bytes, mime(if path.is_empty() { "index.html" } else { path })))
}
