//! Algorithms on the model: street Dijkstra, RAPTOR and range-RAPTOR, itineraries.

pub mod street;
