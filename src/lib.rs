//! terril: a multimodal trip planner and accessibility calculator.
//!
//! The pipeline, one stage per module: [`ingest`] reads GTFS and OSM, [`model`] holds the
//! compact network, [`route`] runs the searches, [`build`] ties the build stages together,
//! and [`server`] answers HTTP. The CLI in `main.rs` and the server are thin faces on
//! the same library calls.

pub mod analysis;
pub mod api;
pub mod bench;
pub mod build;
pub mod demo;
pub mod fetch;
pub mod first_run;
pub mod info;
pub mod ingest;
pub mod model;
pub mod route;
pub mod server;
