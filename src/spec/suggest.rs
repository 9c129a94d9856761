//! "Did you mean": the known name closest to a mistyped one, for error messages.
//!
//! Closeness is the Damerau-Levenshtein edit distance (strsim), so a swapped pair of letters
//! (`trian` for `train`) counts as one edit. A candidate is offered only when it is at most a
//! third of the typed name's length away, so names under three characters get no suggestion
//! (any one letter is one edit from any other) and `x` never suggests `seeds`;
//! of equally close candidates the first one given wins, which keeps messages deterministic
//! when the candidates come in name order. Case differences count as edits.

/// The candidate closest to `typed`, if one is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = typed.chars().count() / 3;
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == typed {
            continue;
        }
        let d = strsim::damerau_levenshtein(typed, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Names joined with `, `, each in backticks; `none` for an empty list.
pub(crate) fn listed<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let all: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_name_and_far_names_find_nothing() {
        let stages = ["gen", "stats", "table", "train"];
        assert_eq!(closest("trian", stages), Some("train"));
        assert_eq!(closest("seedz", ["lr", "seeds"]), Some("seeds"));
        assert_eq!(
            closest("varient", ["seed", "task", "variant"]),
            Some("variant")
        );
        assert_eq!(closest("outz", ["cmd", "deps", "outs"]), Some("outs"));
        assert_eq!(closest("x", ["seeds", "lr"]), None);
        assert_eq!(closest("zzz", stages), None);
        // The exact name is not a suggestion for itself.
        assert_eq!(closest("gen", ["gen"]), None);
        // Ties go to the first candidate.
        assert_eq!(closest("abcd", ["abce", "abcf"]), Some("abce"));
        assert_eq!(closest("b", ["a"]), None);
        assert_eq!(listed(["a", "b"]), "`a`, `b`");
        assert_eq!(listed([]), "none");
    }
}
