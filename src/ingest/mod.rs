//! Reading the world: GTFS feeds and OpenStreetMap extracts, converted at once into the
//! compact model.

pub mod gtfs;
pub mod osm;
pub mod addresses;
pub mod population;
