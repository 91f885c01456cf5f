//! The language of the extracted text, by `whatlang` (trigrams, 69
//! languages), as an ISO 639-1 code.

/// Text with fewer words than this is too short to tell.
const MIN_WORDS: usize = 10;

/// Past this many words, a detection this confident is taken.
const LONG_WORDS: usize = 30;
const CONFIDENT: f64 = 0.5;

/// How much of the text is looked at: enough to tell, not the whole of a
/// long page (trigram counting costs about 50 µs a kilobyte).
const SAMPLE: usize = 1024;

/// whatlang's ISO 639-3 codes and their ISO 639-1 codes.
const ISO_639_1: [(&str, &str); 70] = [
    ("epo", "eo"),
    ("eng", "en"),
    ("rus", "ru"),
    ("cmn", "zh"),
    ("spa", "es"),
    ("por", "pt"),
    ("ita", "it"),
    ("ben", "bn"),
    ("fra", "fr"),
    ("deu", "de"),
    ("ukr", "uk"),
    ("kat", "ka"),
    ("ara", "ar"),
    ("hin", "hi"),
    ("jpn", "ja"),
    ("heb", "he"),
    ("yid", "yi"),
    ("pol", "pl"),
    ("amh", "am"),
    ("jav", "jv"),
    ("kor", "ko"),
    ("nob", "nb"),
    ("dan", "da"),
    ("swe", "sv"),
    ("fin", "fi"),
    ("tur", "tr"),
    ("nld", "nl"),
    ("hun", "hu"),
    ("ces", "cs"),
    ("ell", "el"),
    ("bul", "bg"),
    ("bel", "be"),
    ("mar", "mr"),
    ("kan", "kn"),
    ("ron", "ro"),
    ("slv", "sl"),
    ("hrv", "hr"),
    ("srp", "sr"),
    ("mkd", "mk"),
    ("lit", "lt"),
    ("lav", "lv"),
    ("est", "et"),
    ("tam", "ta"),
    ("vie", "vi"),
    ("urd", "ur"),
    ("tha", "th"),
    ("guj", "gu"),
    ("uzb", "uz"),
    ("pan", "pa"),
    ("aze", "az"),
    ("ind", "id"),
    ("tel", "te"),
    ("pes", "fa"),
    ("mal", "ml"),
    ("ori", "or"),
    ("mya", "my"),
    ("nep", "ne"),
    ("sin", "si"),
    ("khm", "km"),
    ("tuk", "tk"),
    ("aka", "ak"),
    ("zul", "zu"),
    ("sna", "sn"),
    ("afr", "af"),
    ("lat", "la"),
    ("slk", "sk"),
    ("cat", "ca"),
    ("tgl", "tl"),
    ("hye", "hy"),
    ("cym", "cy"),
];

/// The language of `text` (ISO 639-1); `None` when it is too short to
/// tell or the detector is not sure.
pub fn language(text: &str) -> Option<&'static str> {
    let mut end = text.len().min(SAMPLE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &text[..end];
    // Scripts written without spaces (Chinese, Japanese, Thai) have few
    // "words": count characters too.
    let long_enough =
        sample.split_whitespace().count() >= MIN_WORDS || sample.chars().count() >= 4 * MIN_WORDS;
    if !long_enough {
        return None;
    }
    // whatlang's own "reliable" is strict on short texts; past
    // [`LONG_WORDS`] words a fair confidence is enough.
    let words = sample.split_whitespace().count();
    let info = whatlang::detect(sample)
        .filter(|i| i.is_reliable() || (words >= LONG_WORDS && i.confidence() >= CONFIDENT))?;
    let code = info.lang().code();
    ISO_639_1
        .iter()
        .find(|(three, _)| *three == code)
        .map(|(_, two)| *two)
}

#[cfg(test)]
mod tests {
    use super::language;

    #[test]
    fn the_language_of_the_text_or_none() {
        assert_eq!(
            language(
                "The quick brown fox jumps over the lazy dog, and then it runs far away into \
                 the forest. Nobody saw where it went, and nobody has seen it since that day, \
                 though many people have looked for it."
            ),
            Some("en")
        );
        assert_eq!(
            language(
                "Der schnelle braune Fuchs springt über den faulen Hund und läuft dann weit weg in den Wald."
            ),
            Some("de")
        );
        assert_eq!(language("Hello world"), None);
        assert_eq!(language(""), None);
    }
}
