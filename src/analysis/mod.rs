//! Analyses on top of routing: target sets linked to the network, travel-time surfaces
//! (range-RAPTOR over a departure window), isochrones, accessibility indicators.

pub mod access;
pub mod compare;
pub mod isochrone;
pub mod opportunities;
pub mod scenario;
pub mod surface;
pub mod targets;

use crate::api::{self, Params};
use crate::route::plan::{QueryError, Router};

/// Isochrone from request parameters (shared by `terril isochrone` and `/api/isochrone`).
pub fn run_isochrone(router: &Router, grid: &targets::LinkedTargets, p: &Params) -> Result<serde_json::Value, QueryError> {
    let req = api::surface_request(router, p)?;
    if req.percentiles.len() != 1 {
        return Err(QueryError::bad("invalid_parameter", "an isochrone takes one percentile"));
    }
    let cutoffs = api::cutoffs(p)?;
    let mut sc = surface::SurfaceScratch::default();
    let s = surface::compute(router, grid, &req, &mut sc)?;
    let mut gj = isochrone::isochrones(grid, &s, 0, &cutoffs);
    gj["properties"] = serde_json::json!({
        "origin": [req.origin.lon, req.origin.lat],
        "date": req.date.to_string(),
        "mode": req.mode,
        "percentile": req.percentiles[0],
        "departures": s.departures,
    });
    Ok(gj)
}
