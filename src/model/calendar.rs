//! Service calendars as day bitsets over the network's validity period.
//!
//! Like MOTIS/nigiri, a trip does not store dates: it points to one of a table of
//! unique bitsets, bit `d` set when the trip runs on service day `base_date + d`.
//! One network therefore answers for any date of its feeds' validity, with one bit
//! test per trip and day.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Unique service-day bitsets, all of the same width.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Calendar {
    /// First day covered, as `YYYY-MM-DD`.
    pub base_date: String,
    /// Number of days covered.
    pub n_days: u32,
    words_per_set: u32,
    words: Vec<u64>,
}

impl Calendar {
    pub fn new(base: Date, n_days: u32) -> Self {
        Self { base_date: base.to_string(), n_days, words_per_set: n_days.div_ceil(64).max(1), words: Vec::new() }
    }

    pub fn base(&self) -> Date {
        self.base_date.parse().expect("calendar base date written by terril")
    }

    pub fn last_day(&self) -> Date {
        self.base().checked_add(jiff::Span::new().days(self.n_days.saturating_sub(1) as i64)).unwrap_or(self.base())
    }

    pub fn len(&self) -> usize {
        self.words.len() / self.words_per_set as usize
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Day index of `date`, or None when outside the period.
    pub fn day_index(&self, date: Date) -> Option<u32> {
        let days = self.base().until(date).ok()?.get_days() as i64;
        (days >= 0 && days < self.n_days as i64).then_some(days as u32)
    }

    /// Adds a bitset (given as a list of day indices) and returns its id; identical
    /// sets share one id.
    pub fn intern(&mut self, days: &DaySet, cache: &mut std::collections::HashMap<Vec<u64>, u32>) -> u32 {
        if let Some(&id) = cache.get(&days.words) {
            return id;
        }
        let id = self.len() as u32;
        self.words.extend_from_slice(&days.words);
        cache.insert(days.words.clone(), id);
        id
    }

    /// Adds a day set, reusing an identical existing one (linear scan; for scenarios).
    pub fn intern_scan(&mut self, days: &DaySet) -> u32 {
        let w = self.words_per_set as usize;
        for s in 0..self.len() {
            if self.words[s * w..(s + 1) * w] == days.words[..] {
                return s as u32;
            }
        }
        self.words.extend_from_slice(&days.words);
        (self.len() - 1) as u32
    }

    pub fn runs(&self, service: u32, day: u32) -> bool {
        if day >= self.n_days {
            return false;
        }
        let w = self.words[(service * self.words_per_set + day / 64) as usize];
        (w >> (day % 64)) & 1 == 1
    }

    /// Number of days each service runs on (for statistics).
    pub fn count_days(&self, service: u32) -> u32 {
        let s = (service * self.words_per_set) as usize;
        self.words[s..s + self.words_per_set as usize].iter().map(|w| w.count_ones()).sum()
    }

    pub fn new_set(&self) -> DaySet {
        DaySet { words: vec![0; self.words_per_set as usize] }
    }

    /// Bit masks, one byte per service: bit k set when the service runs on day `day + k - 1`
    /// (k = 0: the day before, 1: the day itself, 2: the day after).
    pub fn masks_around(&self, day: i64) -> Vec<u8> {
        (0..self.len() as u32)
            .map(|s| {
                let mut m = 0u8;
                for k in 0..3i64 {
                    let d = day + k - 1;
                    if d >= 0 && self.runs(s, d as u32) {
                        m |= 1 << k;
                    }
                }
                m
            })
            .collect()
    }
}

/// A mutable day set under construction.
#[derive(Debug, Clone)]
pub struct DaySet {
    pub words: Vec<u64>,
}

impl DaySet {
    pub fn set(&mut self, day: u32, on: bool) {
        let (w, b) = ((day / 64) as usize, day % 64);
        if w >= self.words.len() {
            return;
        }
        if on {
            self.words[w] |= 1 << b;
        } else {
            self.words[w] &= !(1 << b);
        }
    }
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

/// Offset in seconds between the GTFS time origin ("noon minus 12 h") of `day` and that
/// of `day + 1` in time zone `tz`: 86,400 except on daylight-saving days (82,800 or 90,000).
pub fn service_day_length_s(tz: &jiff::tz::TimeZone, day: Date) -> i64 {
    let origin = |d: Date| -> Option<i64> {
        let noon = d.at(12, 0, 0, 0).to_zoned(tz.clone()).ok()?;
        Some(noon.timestamp().as_second() - 12 * 3600)
    };
    match (origin(day), day.tomorrow().ok().and_then(origin)) {
        (Some(a), Some(b)) => b - a,
        _ => 86_400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn identical_sets_are_interned_once() {
        let mut cal = Calendar::new(date(2025, 1, 22), 91);
        let mut cache = Default::default();
        let mut a = cal.new_set();
        a.set(0, true);
        a.set(90, true);
        let b = a.clone();
        let ia = cal.intern(&a, &mut cache);
        let ib = cal.intern(&b, &mut cache);
        assert_eq!(ia, ib);
        assert!(cal.runs(ia, 0) && cal.runs(ia, 90) && !cal.runs(ia, 1));
        assert!(!cal.runs(ia, 91), "past the period never runs");
        assert_eq!(cal.count_days(ia), 2);
    }

    #[test]
    fn day_index_covers_exactly_the_period() {
        let cal = Calendar::new(date(2025, 1, 22), 91);
        assert_eq!(cal.day_index(date(2025, 1, 22)), Some(0));
        assert_eq!(cal.day_index(date(2025, 2, 1)), Some(10));
        assert_eq!(cal.day_index(date(2025, 4, 22)), Some(90));
        assert_eq!(cal.day_index(date(2025, 4, 23)), None);
        assert_eq!(cal.day_index(date(2025, 1, 21)), None);
        assert_eq!(cal.last_day(), date(2025, 4, 22));
    }

    #[test]
    fn masks_see_the_day_before_and_after() {
        let mut cal = Calendar::new(date(2025, 1, 1), 10);
        let mut cache = Default::default();
        let mut s = cal.new_set();
        s.set(4, true);
        let id = cal.intern(&s, &mut cache);
        assert_eq!(cal.masks_around(5)[id as usize], 0b001, "runs the day before day 5");
        assert_eq!(cal.masks_around(4)[id as usize], 0b010);
        assert_eq!(cal.masks_around(3)[id as usize], 0b100);
        assert_eq!(cal.masks_around(0)[id as usize], 0);
    }

    #[test]
    fn daylight_saving_days_are_23_and_25_hours_in_paris() {
        let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        assert_eq!(service_day_length_s(&tz, date(2025, 3, 29)), 86_400 - 3600);
        assert_eq!(service_day_length_s(&tz, date(2025, 10, 25)), 86_400 + 3600);
        assert_eq!(service_day_length_s(&tz, date(2025, 2, 4)), 86_400);
    }
}
