//! Issue 15: runs split into shards. `terril access`, `terril matrix` and `terril compare`
//! with `--shard K/N` on Porto Alegre, merged with `terril merge`, give the single run's output
//! byte for byte; parts of another network, other parameters, a missing or doubled shard,
//! a cut file are refused with a message.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn terril(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_terril")).args(args).output().unwrap()
}

fn ok(args: &[&str]) {
    let o = terril(args);
    assert!(o.status.success(), "terril {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The POA network saved, 150 hexagons as origins (every 8th), the 1,227 as destinations.
fn inputs() -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let d = data_dir().unwrap().join("porto-alegre");
    let dir = std::env::temp_dir().join(format!("terril-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("poa.bin");
    poa().save(&net).unwrap();
    let text = std::fs::read_to_string(d.join("poa_hexgrid.csv")).unwrap();
    let mut lines = text.lines();
    let mut sample = vec![lines.next().unwrap().to_string()];
    sample.extend(lines.step_by(8).take(150).map(String::from));
    let origins = dir.join("origins.csv");
    std::fs::write(&origins, sample.join("\n") + "\n").unwrap();
    (dir, net, origins, d.join("poa_hexgrid.csv"))
}

#[test]
fn sharded_access_matrix_and_compare_merge_to_the_single_runs_bytes_and_bad_parts_are_refused() {
    let _d = require_data!();
    let (dir, net, origins, dest) = inputs();
    let base = |cmd: &str| vec![cmd.to_string(), "--network".into(), s(&net).into(), "--origins".into(), s(&origins).into(), "--destinations".into(), s(&dest).into(), "--date".into(), "2019-05-13".into(), "--window".into(), "14:00-14:20".into()];
    let run = |cmd: &str, extra: &[&str], out: &Path| {
        let mut a = base(cmd);
        a.extend(extra.iter().map(|x| x.to_string()));
        a.extend(["--out".to_string(), s(out).to_string()]);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    };
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/poa-nova-linha.json");
    for (cmd, extra, n) in [("access", &["--percentiles", "25,50"][..], 3u32), ("matrix", &["--reachable-only"][..], 2), ("compare", &["--scenario", scenario][..], 2)] {
        let single = dir.join(format!("{cmd}.csv"));
        run(cmd, extra, &single);
        let mut parts = Vec::new();
        for k in 1..=n {
            let p = dir.join(format!("{cmd}-{k}.csv"));
            run(cmd, &[extra, &["--shard", &format!("{k}/{n}")]].concat(), &p);
            parts.push(p);
        }
        // Given in any order.
        parts.reverse();
        let merged = dir.join(format!("{cmd}-merged.csv"));
        let mut a = vec!["merge".to_string()];
        a.extend(parts.iter().map(|p| s(p).to_string()));
        a.extend(["--out".into(), s(&merged).into()]);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
        let (x, y) = (std::fs::read(&single).unwrap(), std::fs::read(&merged).unwrap());
        assert!(x.len() > 1000 && x == y, "{cmd}: the merged output ({} bytes) is not the single run's ({} bytes)", y.len(), x.len());
        assert_eq!(std::fs::read(dir.join(format!("{cmd}.csv.params.json"))).unwrap(), std::fs::read(dir.join(format!("{cmd}-merged.csv.params.json"))).unwrap());
    }
    let merge = |parts: &[PathBuf]| {
        let mut a = vec!["merge".to_string()];
        a.extend(parts.iter().map(|p| s(p).to_string()));
        a.extend(["--out".into(), s(&dir.join("bad.csv")).into()]);
        let o = terril(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(!o.status.success() && !dir.join("bad.csv").exists());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let p = |k: u32| dir.join(format!("access-{k}.csv"));
    // A missing shard, a doubled one.
    assert!(merge(&[p(1), p(2)]).contains("shard 3/3 is missing"));
    assert!(merge(&[p(1), p(2), p(2)]).contains("twice"));
    // A shard computed with other parameters.
    run("access", &["--percentiles", "25,50", "--shard", "3/3", "--max-walk-time", "10"], &dir.join("other-3.csv"));
    assert!(merge(&[p(1), p(2), dir.join("other-3.csv")]).contains("another set of parameters"));
    // A shard computed on another network file (the same streets and timetable, another
    // file: its checksum differs).
    let mut other = poa().clone();
    other.meta.title = "another build".into();
    let other_net = dir.join("other.bin");
    other.save(&other_net).unwrap();
    let mut a = base("access");
    a[2] = s(&other_net).into();
    a.extend(["--percentiles", "25,50", "--shard", "3/3", "--out", s(&dir.join("net-3.csv"))].map(String::from));
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(merge(&[p(1), p(2), dir.join("net-3.csv")]).contains("another network file"));
    // A part cut short.
    let bytes = std::fs::read(p(3)).unwrap();
    std::fs::write(p(3), &bytes[..bytes.len() / 2]).unwrap();
    assert!(merge(&[p(1), p(2), p(3)]).contains("was cut or changed"));
    std::fs::remove_dir_all(&dir).ok();
}
