//! Algorithms on the model: street Dijkstra, RAPTOR and range-RAPTOR, itineraries.

pub mod places;
pub mod plan;
pub mod raptor;
pub mod street;
pub mod text;
