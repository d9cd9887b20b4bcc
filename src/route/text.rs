//! Plain-text journey descriptions for the terminal (English; the web page speaks French).

use super::plan::PlanResponse;
use std::fmt::Write;

fn clock(rfc3339: &str) -> &str {
    rfc3339.get(11..16).unwrap_or(rfc3339)
}

pub fn describe(plan: &PlanResponse) -> String {
    let mut s = String::new();
    if let Some(m) = &plan.message {
        let _ = writeln!(s, "{m}");
    }
    for (i, it) in plan.itineraries.iter().enumerate() {
        let _ = writeln!(s, "Option {}: {} -> {} ({} min, {} transfer(s), {} min walking)", i + 1, clock(&it.start_time), clock(&it.end_time), it.duration_s / 60, it.transfers, it.walk_duration_s.div_ceil(60));
        for l in &it.legs {
            match &l.route {
                Some(r) => {
                    let _ = writeln!(s, "  {} {} {} {} -> {} {} (towards {})", clock(&l.start_time), l.mode, if r.short_name.is_empty() { &r.long_name } else { &r.short_name }, l.from.name, clock(&l.end_time), l.to.name, l.direction.as_deref().unwrap_or(""));
                }
                None => {
                    let _ = writeln!(s, "  {} {} {} min to {}", clock(&l.start_time), l.mode, l.duration_s.div_ceil(60), if l.to.name.is_empty() { "destination" } else { &l.to.name });
                }
            }
        }
    }
    for d in &plan.direct {
        let _ = writeln!(s, "Direct: {} {} min ({:.1} km)", d.legs[0].mode, d.duration_s.div_ceil(60), d.legs[0].distance_m / 1000.0);
    }
    s
}
