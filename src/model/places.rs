//! Named places people type instead of coordinates: communes, stations, hospitals,
//! town halls, employment agencies, streets and addresses. The network file holds those
//! read from the OSM extract at build time; a server adds those of its loaded point sets
//! (communes, hospitals, job sites). The search over them is `route::places::Gazetteer`.

use super::geo::LatLon;
use serde::{Deserialize, Serialize};

/// What a place is; also its rank among equally good matches (communes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
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

/// The numbered addresses of one street of one commune (from the national address base,
/// BAN, or from OSM `addr:*`): a person types "12 rue de la Gare Lens", the street is
/// found by name, then the number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressStreet {
    pub street: String,
    pub commune: String,
    /// House numbers as written ("12", "12 bis", "3A") and where they are.
    pub numbers: Vec<(String, LatLon)>,
}

impl AddressStreet {
    /// Groups (number, street, commune, point) rows into streets, numbers in order.
    pub fn group(rows: impl IntoIterator<Item = (String, String, String, LatLon)>) -> Vec<AddressStreet> {
        let mut by: std::collections::BTreeMap<(String, String), Vec<(String, LatLon)>> = Default::default();
        for (num, street, commune, p) in rows {
            if street.trim().is_empty() || num.trim().is_empty() || !p.is_valid() {
                continue;
            }
            by.entry((street.trim().to_string(), commune.trim().to_string())).or_default().push((num.trim().to_string(), p));
        }
        by.into_iter()
            .map(|((street, commune), mut numbers)| {
                numbers.sort_by(|a, b| house_number_key(&a.0).cmp(&house_number_key(&b.0)));
                numbers.dedup_by(|a, b| a.0 == b.0);
                AddressStreet { street, commune, numbers }
            })
            .collect()
    }

    /// The place of `number`, or of the nearest number on the same side of the street
    /// (same parity) when it is not listed.
    pub fn find(&self, number: &str) -> Option<&(String, LatLon)> {
        let want = house_number_key(number);
        if let Some(x) = self.numbers.iter().find(|x| house_number_key(&x.0) == want) {
            return Some(x);
        }
        let n = want.0;
        self.numbers.iter().filter(|x| house_number_key(&x.0).0 % 2 == n % 2).min_by_key(|x| house_number_key(&x.0).0.abs_diff(n))
    }

    /// Where the street is: its middle number.
    pub fn middle(&self) -> Option<LatLon> {
        self.numbers.get(self.numbers.len() / 2).map(|x| x.1)
    }
}

/// Sort key of a house number: (number, suffix) with "12" < "12 bis" < "12 ter" < "13".
pub fn house_number_key(s: &str) -> (u32, String) {
    let t = super::text::normalize(s);
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    (digits.parse().unwrap_or(u32::MAX), t[digits.len()..].trim().replace(' ', ""))
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

    #[test]
    fn addresses_group_by_street_and_find_a_number_or_its_neighbour() {
        let p = |lat: f64| LatLon::new(lat, 2.83);
        let rows = vec![
            ("12".to_string(), "Rue de la Gare".to_string(), "Lens".to_string(), p(50.001)),
            ("10".into(), "Rue de la Gare".into(), "Lens".into(), p(50.000)),
            ("12 bis".into(), "Rue de la Gare".into(), "Lens".into(), p(50.0012)),
            ("3".into(), "Rue de la Gare".into(), "Lens".into(), p(50.0005)),
            ("1".into(), "Rue de la Gare".into(), "Liévin".into(), p(50.1)),
            ("".into(), "Rue sans numéro".into(), "Lens".into(), p(50.2)),
        ];
        let g = AddressStreet::group(rows);
        assert_eq!(g.len(), 2, "one street per commune, rows without a number dropped");
        let lens = g.iter().find(|s| s.commune == "Lens").unwrap();
        assert_eq!(lens.numbers.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["3", "10", "12", "12 bis"]);
        assert_eq!(lens.find("12 BIS").unwrap().0, "12 bis");
        assert_eq!(lens.find("14").unwrap().0, "12", "an unlisted number: the nearest on its side");
        assert_eq!(lens.find("5").unwrap().0, "3");
    }
}
