//! Fetches the page's one front-end library (Leaflet, pinned in web/package-lock.json)
//! with `npm ci` into OUT_DIR, so that `cargo build` embeds a working map page and no
//! library code lives in the repository. Without npm (or offline), the page is built
//! without the map library and says so; everything else works.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-env-changed=TERRIL_SKIP_NPM");
    println!("cargo::rustc-check-cfg=cfg(leaflet)");
    let out = std::env::var("OUT_DIR").unwrap();
    let dir = Path::new(&out).join("web");
    let leaflet = dir.join("node_modules/leaflet/dist/leaflet.js");
    if !leaflet.exists() && std::env::var_os("TERRIL_SKIP_NPM").is_none() {
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(Path::new("web").join(f), dir.join(f)).unwrap();
        }
        let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
        match Command::new(npm).args(["ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir).status() {
            Ok(s) if s.success() => {}
            Ok(s) => println!("cargo:warning=npm ci failed ({s}); the web page is built without its map library"),
            Err(e) => println!("cargo:warning=npm not found ({e}); the web page is built without its map library"),
        }
    }
    if leaflet.exists() {
        println!("cargo:rustc-cfg=leaflet");
    }
}
