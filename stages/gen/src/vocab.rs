//! Token-string lookups shared by the task modules.
//!
//! Each task declares its vocabulary as a constant list of strings whose last entry is `PAD`; a
//! token's id is its index. The samplers mostly write ids directly (named constants); the
//! expression tasks build ASCII characters and translate them here, once per example.

/// The padding token's string, the last entry of every vocabulary.
pub(crate) const PAD: &str = "PAD";

/// The id of `token` in `vocab`. Panics if absent: vocabularies are constants, so a miss is a
/// bug in this crate. Only the tests look tokens up by name; samplers use named id constants.
#[cfg(test)]
pub(crate) fn id_of(vocab: &[&str], token: &str) -> u32 {
    let index = vocab.iter().position(|t| *t == token);
    index.unwrap_or_else(|| panic!("token `{token}` missing from vocabulary {vocab:?}")) as u32
}

/// The ids of single-character tokens, e.g. an expression's characters.
pub(crate) fn ids_of_chars(vocab: &[&str], chars: &[u8]) -> Vec<u32> {
    let mut table = [u32::MAX; 256];
    for (id, token) in vocab.iter().enumerate() {
        if let [byte] = token.as_bytes() {
            table[usize::from(*byte)] = id as u32;
        }
    }
    chars
        .iter()
        .map(|&c| {
            let id = table[usize::from(c)];
            assert!(
                id != u32::MAX,
                "character `{}` missing from vocabulary {vocab:?}",
                c as char
            );
            id
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_return_indices() {
        let vocab = ["0", "1", "+", "MISSING", PAD];
        assert_eq!(id_of(&vocab, "MISSING"), 3);
        assert_eq!(ids_of_chars(&vocab, b"1+0"), vec![1, 2, 0]);
    }

    #[test]
    #[should_panic(expected = "missing from vocabulary")]
    fn unknown_character_is_a_bug() {
        ids_of_chars(&["0", PAD], b"x");
    }
}
