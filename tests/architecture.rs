//! The stages import one way: model <- ingest <- build <- route <- analysis <- query
//! layer (api, info, fetch, demo, first_run, bench) <- server <- main. A file of one
//! stage that names a higher stage (`crate::x`, `super::x` at the top of a stage, or
//! `terril::x` in main.rs) fails this test with the file, the line and the rule.

use std::path::Path;

/// Rank of each top-level module; a module may use only ranks <= its own.
const LAYERS: &[(&str, u32)] = &[
    ("model", 0),
    ("ingest", 1),
    ("build", 2),
    ("route", 3),
    ("analysis", 4),
    ("api", 5),
    ("info", 5),
    ("fetch", 5),
    ("demo", 5),
    ("first_run", 6),
    ("bench", 6),
    ("server", 7),
    ("main", 8),
];

fn rank(m: &str) -> Option<u32> {
    LAYERS.iter().find(|(n, _)| *n == m).map(|x| x.1)
}

/// Every `crate::NAME` / `terril::NAME` a line names.
fn referenced(line: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn check_file(path: &Path, own: &str, violations: &mut Vec<String>) {
    let own_rank = rank(own).unwrap_or_else(|| panic!("{}: module '{own}' has no layer; add it to LAYERS", path.display()));
    let text = std::fs::read_to_string(path).unwrap();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut names = referenced(code, "crate::");
        names.extend(referenced(code, "terril::"));
        for n in names {
            if let Some(r) = rank(&n) {
                if r > own_rank {
                    violations.push(format!("{}:{}: `{own}` (layer {own_rank}) uses `{n}` (layer {r}): {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
}

fn walk(dir: &Path, own: &str, violations: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, own, violations);
        } else if p.extension().is_some_and(|x| x == "rs") {
            check_file(&p, own, violations);
        }
    }
}

fn violations_in(src: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if stem == "lib" {
            continue;
        }
        if p.is_dir() {
            walk(&p, &stem, &mut v);
        } else if p.extension().is_some_and(|x| x == "rs") {
            check_file(&p, &stem, &mut v);
        }
    }
    v
}

#[test]
fn lower_stages_never_import_higher_ones() {
    let v = violations_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(v.is_empty(), "{} reverse imports:\n{}", v.len(), v.join("\n"));
}

#[test]
fn every_module_of_the_crate_has_a_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines().filter(|l| l.starts_with("pub mod ")) {
        let m = line.trim_start_matches("pub mod ").trim_end_matches(';');
        assert!(rank(m).is_some(), "module {m} has no layer in tests/architecture.rs");
    }
}

/// The check itself can fail: a model file naming the server is caught.
#[test]
fn a_reverse_import_is_caught() {
    let tmp = tempfile::Builder::new().prefix("terril-arch-").tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("model")).unwrap();
    std::fs::write(dir.join("model/bad.rs"), "use crate::geo::LatLon;\nfn f() { crate::server::routes(); }\n// crate::api in a comment is fine\n").unwrap();
    std::fs::write(dir.join("route.rs"), "use crate::model::x; use crate::analysis::y;\n").unwrap();
    let v = violations_in(&dir);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].contains("uses `server`") || v[1].contains("uses `server`"));
    assert!(v.iter().any(|x| x.contains("`route` (layer 3) uses `analysis` (layer 4)")));
}
