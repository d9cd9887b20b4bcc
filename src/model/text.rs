//! Text folding shared by every name search (stops, places, datasets, brands).

/// Lower-case, accents removed, punctuation to spaces.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' | 'À' | 'Â' | 'Ä' | 'Á' | 'Ã' => 'a',
            'ç' | 'Ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'í' | 'ì' | 'Î' | 'Ï' | 'Í' => 'i',
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'Ô' | 'Ö' | 'Ó' | 'Õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' | 'Ú' => 'u',
            'ÿ' | 'Ÿ' => 'y',
            'ñ' | 'Ñ' => 'n',
            'œ' | 'Œ' => {
                out.push_str("oe");
                continue;
            }
            'æ' | 'Æ' => {
                out.push_str("ae");
                continue;
            }
            c if c.is_alphanumeric() => c.to_lowercase().next().unwrap_or(c),
            _ => ' ',
        };
        out.push(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(normalize("Hénin-Beaumont  (Gare)"), "henin beaumont gare");
        assert_eq!(normalize("ŒUVRE Æ"), "oeuvre ae");
    }
}

/// French date: "mardi 4 février 2025".
pub fn date_fr(d: jiff::civil::Date) -> String {
    const DAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
    const MONTHS: [&str; 12] = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"];
    format!("{} {} {} {}", DAYS[d.weekday().to_monday_zero_offset() as usize], d.day(), MONTHS[d.month() as usize - 1], d.year())
}
