//! Named places people type instead of coordinates: communes, stations, hospitals,
//! town halls, employment agencies, streets and addresses. The network file holds those
//! read from the OSM extract at build time; a server adds those of its loaded point sets
//! (communes, hospitals, job sites). The search over them is `route::places::Gazetteer`.

use super::geo::LatLon;
use serde::{Deserialize, Serialize};

/// What a place is; also its rank among equally good matches (communes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    Commune,
    Station,
    Hospital,
    Clinic,
    TownHall,
    Employment,
    JobSite,
    Poi,
    Stop,
    Street,
    Address,
    Suburb,
}

impl PlaceKind {
    /// French label shown beside a suggestion.
    pub fn label_fr(self) -> &'static str {
        match self {
            PlaceKind::Commune => "commune",
            PlaceKind::Station => "gare ou station",
            PlaceKind::Hospital => "hôpital",
            PlaceKind::Clinic => "clinique",
            PlaceKind::TownHall => "mairie",
            PlaceKind::Employment => "agence pour l'emploi",
            PlaceKind::JobSite => "lieu de travail",
            PlaceKind::Poi => "lieu",
            PlaceKind::Stop => "arrêt",
            PlaceKind::Street => "rue",
            PlaceKind::Address => "adresse",
            PlaceKind::Suburb => "quartier",
        }
    }
}

/// A place with a name and a position; `commune` may be empty (filled at search time
/// from the nearest commune).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedPlace {
    pub name: String,
    pub kind: PlaceKind,
    pub commune: String,
    pub coord: LatLon,
}

/// Kind of a named OSM object from its tags, if it is one people look for.
pub fn osm_kind<'a>(tag: impl Fn(&str) -> Option<&'a str>) -> Option<PlaceKind> {
    match (tag("place"), tag("amenity"), tag("office"), tag("healthcare")) {
        (Some("city" | "town" | "village"), ..) => Some(PlaceKind::Commune),
        (Some("suburb" | "quarter" | "neighbourhood" | "hamlet"), ..) => Some(PlaceKind::Suburb),
        (_, Some("hospital"), ..) | (.., Some("hospital")) => Some(PlaceKind::Hospital),
        (_, Some("clinic" | "doctors"), ..) | (.., Some("clinic" | "centre")) => Some(PlaceKind::Clinic),
        (_, Some("townhall"), ..) => Some(PlaceKind::TownHall),
        (_, _, Some("employment_agency"), _) => Some(PlaceKind::Employment),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osm_tags_name_the_kinds_people_look_for() {
        let k = |tags: &[(&str, &str)]| osm_kind(|key| tags.iter().find(|t| t.0 == key).map(|t| t.1));
        assert_eq!(k(&[("place", "town")]), Some(PlaceKind::Commune));
        assert_eq!(k(&[("amenity", "hospital")]), Some(PlaceKind::Hospital));
        assert_eq!(k(&[("healthcare", "hospital")]), Some(PlaceKind::Hospital));
        assert_eq!(k(&[("office", "employment_agency")]), Some(PlaceKind::Employment));
        assert_eq!(k(&[("amenity", "bench")]), None);
        assert!(PlaceKind::Commune < PlaceKind::Station && PlaceKind::Station < PlaceKind::Stop);
    }
}
