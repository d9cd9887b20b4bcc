//! The compact world: geometry helpers, calendars, the timetable in RAPTOR layout, the
//! street graph and the network file that holds them all. Knows nothing of HTTP or
//! of the algorithms run on it.

pub mod calendar;
pub mod geo;
pub mod network;
pub mod places;
pub mod search;
pub mod streets;
pub mod text;
pub mod timetable;

pub use network::Network;
