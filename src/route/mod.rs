//! Algorithms on the model: RAPTOR and range-RAPTOR, itineraries (the street search
//! they share with the build is `model::search`).

pub mod places;
pub mod plan;
pub mod raptor;
pub mod text;
