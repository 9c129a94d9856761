//! A stage's `progress:`: a regular expression over the lines a running instance writes to its
//! log, so that the live view can show how far it is (an epoch counter, a loss) instead of only
//! how long it has run. Display only: never part of a key.
//!
//! Named groups `done` and `total` (numbers) give a fraction; every other named group is shown
//! with its name (`loss 0.70`); without named groups the matched text itself is shown.

use regex::{Regex, RegexBuilder};

/// The most bytes a compiled pattern may take: a pipeline cannot make the engine build a
/// huge automaton.
const SIZE_LIMIT: usize = 1 << 20;

/// The longest text shown for one instance.
const MAX_SHOWN: usize = 80;

/// A compiled `progress:` pattern.
#[derive(Debug, Clone)]
pub struct ProgressPattern {
    regex: Regex,
}

/// What one matching log line says.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressLine {
    /// The `done` group, when present and a number.
    pub done: Option<f64>,
    /// The `total` group, when present and a number.
    pub total: Option<f64>,
    /// What the live view shows: `done/total` and the other named groups, or the match.
    pub text: String,
}

impl ProgressLine {
    /// `done / total` in `0..=1`, when both are known and `total` is positive.
    pub fn fraction(&self) -> Option<f64> {
        match (self.done, self.total) {
            (Some(d), Some(t)) if t > 0.0 && d >= 0.0 => Some((d / t).min(1.0)),
            _ => None,
        }
    }
}

impl ProgressPattern {
    /// Compiles `text`; the error says why in words.
    pub fn parse(text: &str) -> Result<ProgressPattern, String> {
        let regex = RegexBuilder::new(text)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| format!("`progress` is not a valid regular expression: {e}"))?;
        Ok(ProgressPattern { regex })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// What `line` says, if the pattern matches it.
    pub fn read(&self, line: &str) -> Option<ProgressLine> {
        let caps = self.regex.captures(line)?;
        let number = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<f64>().ok());
        let (done, total) = (number("done"), number("total"));
        let mut parts = Vec::new();
        match (caps.name("done"), caps.name("total")) {
            (Some(d), Some(t)) => parts.push(format!("{}/{}", d.as_str(), t.as_str())),
            (Some(d), None) => parts.push(d.as_str().to_owned()),
            _ => {}
        }
        for name in self.regex.capture_names().flatten() {
            if name == "done" || name == "total" {
                continue;
            }
            if let Some(m) = caps.name(name) {
                parts.push(format!("{name} {}", m.as_str()));
            }
        }
        let text = if parts.is_empty() {
            caps.get(0).map_or("", |m| m.as_str()).trim().to_owned()
        } else {
            parts.join(" ")
        };
        Some(ProgressLine {
            done,
            total,
            text: shorten(&text),
        })
    }
}

/// `text` cut to [`MAX_SHOWN`] characters, with an ellipsis when cut.
fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(MAX_SHOWN - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAIN: &str =
        r"epoch (?P<done>\d+)/(?P<total>\d+): .*?train loss (?P<loss>\S+) acc (?P<acc>\S+)";

    #[test]
    fn named_groups_give_the_fraction_and_the_shown_text() {
        let p = ProgressPattern::parse(TRAIN).unwrap();
        let l = p
            .read("epoch 3/100: lr 9.99e-2 train loss 0.7009 acc 0.4952 held-out loss 0.6 acc 0.5")
            .unwrap();
        assert_eq!(l.done, Some(3.0));
        assert_eq!(l.total, Some(100.0));
        assert_eq!(l.text, "3/100 loss 0.7009 acc 0.4952");
        assert_eq!(l.fraction(), Some(0.03));
        assert!(p
            .read("train: even_pairs full relu seed 1 on cpu")
            .is_none());
    }

    #[test]
    fn without_named_groups_the_match_is_shown_and_long_text_is_cut() {
        let p = ProgressPattern::parse(r"step \d+").unwrap();
        let l = p.read("  at step 17 of the solver").unwrap();
        assert_eq!((l.text.as_str(), l.fraction()), ("step 17", None));
        let long = ProgressPattern::parse(r"x+").unwrap();
        let l = long.read(&"x".repeat(500)).unwrap();
        assert_eq!(l.text.chars().count(), MAX_SHOWN);
        assert!(l.text.ends_with('…'));
    }

    #[test]
    fn a_total_of_zero_or_a_non_number_gives_no_fraction() {
        let p = ProgressPattern::parse(r"(?P<done>\w+)/(?P<total>\w+)").unwrap();
        assert_eq!(p.read("3/0").unwrap().fraction(), None);
        assert_eq!(p.read("a/b").unwrap().fraction(), None);
        assert_eq!(p.read("a/b").unwrap().text, "a/b");
    }

    #[test]
    fn an_invalid_or_huge_pattern_is_refused_in_words() {
        let e = ProgressPattern::parse("epoch (").unwrap_err();
        assert!(e.contains("not a valid regular expression"), "{e}");
        assert!(ProgressPattern::parse(r"\w{1000}\w{1000}\w{1000}").is_err());
    }
}
