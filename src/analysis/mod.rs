//! Analyses on top of routing: target sets linked to the network, travel-time surfaces
//! (range-RAPTOR over a departure window), isochrones, accessibility indicators.

pub mod access;
pub mod compare;
pub mod isochrone;
pub mod matrix;
pub mod opportunities;
pub mod scenario;
pub mod surface;
pub mod targets;
