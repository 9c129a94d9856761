//! What the loader accepts beyond the schema: the size limits, the characters a value may hold
//! where it becomes an instance id, a path or part of a shell command, and the workspace
//! entries that belong to git and the engine.
//!
//! The limits keep a hostile or mistaken file from exhausting the loader: every one is checked
//! before the work it bounds is done (the instance count from the product of dimension sizes,
//! never by expanding), and each failure is a located error, not an abort.
//!
//! | limit | value | why |
//! |---|---|---|
//! | pipeline file size | 4 MiB | read whole; every later cost grows with it |
//! | YAML nesting depth | 64 | libyaml's time grows with the square of the depth |
//! | `${` nesting depth | 32 | resolution recurses once per level |
//! | instances per pipeline | 100,000 | expansion allocates every instance |
//! | combinations × `exclude` entries, per stage | 10,000,000 | each combination is tested against each entry |
//! | one resolved value | 128 KiB | Linux's limit on one argument (`MAX_ARG_STRLEN`) |
//! | all resolved values together | 256 MiB | templates can repeat a long parameter |
//! | one path component | 255 bytes | the usual filesystem name limit (`NAME_MAX`) |
//! | one path | 4,096 bytes | `PATH_MAX` |
//!
//! Known limit: the reserved entries are compared ASCII case-insensitively (`Cache` is refused
//! too, for case-insensitive filesystems); symbolic links inside the workspace that lead into
//! them are not followed at load.

/// Largest pipeline file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Deepest nesting of YAML mappings and sequences.
pub const MAX_YAML_DEPTH: usize = 64;
/// Deepest nesting of `${` inside `${`.
pub const MAX_NESTING: usize = 32;
/// Most instances a pipeline may expand to (all stages together).
pub const MAX_INSTANCES: u64 = 100_000;
/// Most (combination, `exclude` entry) pairs tested for one stage.
pub const MAX_EXCLUDE_WORK: u64 = 10_000_000;
/// Longest resolved value (one argument, path or environment value), in bytes.
pub const MAX_VALUE_BYTES: usize = 128 * 1024;
/// Most bytes of resolved values over all instances (each value counts 32 bytes more).
pub const MAX_RESOLVED_BYTES: usize = 256 * 1024 * 1024;
/// Longest path component, in bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// Longest path, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// Top-level workspace entries that outputs may not be, contain or lie inside, and that code
/// globs may not point into, with what they are.
pub const ENGINE_ENTRIES: [(&str, &str); 4] = [
    (".git", "the git repository"),
    ("cache", "the engine's content store"),
    (".repro", "the engine's private directory"),
    ("repro.lock", "the lock file"),
];

/// Characters allowed in a value substituted into a `shell: true` command, besides ASCII
/// letters and digits: none of them starts an expansion, a quote, a redirection or another
/// command.
pub const SHELL_SAFE_PUNCTUATION: &str = "_.,:=@+/-";

/// `value` with control characters escaped (`\n`, `\u{7}`), so that a message stays on one
/// line and shows what is there.
pub fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// The first control character in `s`, if any.
pub(crate) fn control_char(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control())
}

/// `U+000A` for a character.
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// Checks a matrix value (listed, from a list parameter, or in an `include` entry): it becomes
/// part of an instance id (`stage@dim=value,...`), of paths and of the lock file.
pub(crate) fn check_matrix_value(dim: &str, v: &str) -> Result<(), String> {
    if v.is_empty()
        || v.contains([',', '=', '@', '/'])
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "matrix value `{}` of `{dim}` may not be empty or contain `,` `=` `@` `/`, spaces or control characters",
            shown(v)
        ));
    }
    Ok(())
}

/// Whether `c` may appear in a value substituted into a `shell: true` command.
pub fn is_shell_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || SHELL_SAFE_PUNCTUATION.contains(c)
}

/// Checks the text of a normalised workspace-relative path: no control characters, no
/// component longer than the filesystem allows, not longer than `PATH_MAX`.
pub(crate) fn check_path_text(path: &str) -> Result<(), String> {
    if let Some(c) = control_char(path) {
        return Err(format!(
            "path `{}` contains the control character {}",
            shown(path),
            code_point(c)
        ));
    }
    if let Some(long) = path.split('/').find(|c| c.len() > MAX_NAME_BYTES) {
        return Err(format!(
            "path component `{}…` is {} bytes long, over the filesystem's limit of {MAX_NAME_BYTES} bytes",
            prefix(long, 40),
            long.len()
        ));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!(
            "path `{}…` is {} bytes long, over the limit of {MAX_PATH_BYTES} bytes",
            prefix(path, 40),
            path.len()
        ));
    }
    Ok(())
}

/// Normalises a relative path: drops `.` segments, repeated and trailing slashes. Returns
/// `None` for absolute paths, `..` segments and empty paths.
pub fn normalise(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// The reserved entry that a normalised workspace-relative `path` is or lies inside, with
/// what it is; `pipeline_file` is the pipeline file's name (it lives in the root; empty: not
/// checked).
pub fn engine_entry<'a>(path: &str, pipeline_file: &'a str) -> Option<(&'a str, &'static str)> {
    let first = path.split('/').next().unwrap_or_default();
    if first.is_empty() {
        return None;
    }
    if !pipeline_file.is_empty() && first.eq_ignore_ascii_case(pipeline_file) {
        return Some((pipeline_file, "the pipeline file"));
    }
    ENGINE_ENTRIES
        .iter()
        .find(|(name, _)| first.eq_ignore_ascii_case(name))
        .map(|&(name, what)| (name, what))
}

/// Whether a `code:` entry could name a Cargo package (letters, digits, `_`, `-`): only the
/// code digest knows, so such entries are never judged as globs at load.
pub(crate) fn could_be_package(entry: &str) -> bool {
    !entry.is_empty()
        && entry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The leading components of a normalised glob before the first one with a glob character
/// (`src/a/*.rs` → `src/a`; `**` → empty).
pub(crate) fn literal_prefix(glob: &str) -> String {
    glob.split('/')
        .take_while(|c| !c.contains(['*', '?', '[']))
        .collect::<Vec<_>>()
        .join("/")
}

/// At most `n` characters of `s`.
pub(crate) fn prefix(s: &str, n: usize) -> String {
    shown(&s.chars().take(n).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_entries_match_the_first_component_only() {
        assert_eq!(engine_entry(".git", "p.yaml").map(|e| e.0), Some(".git"));
        assert_eq!(
            engine_entry("cache/objects", "p.yaml").map(|e| e.0),
            Some("cache")
        );
        assert_eq!(engine_entry("Cache", "p.yaml").map(|e| e.0), Some("cache"));
        assert_eq!(
            engine_entry("p.yaml", "p.yaml").map(|e| e.0),
            Some("p.yaml")
        );
        assert_eq!(engine_entry("caches/x", "p.yaml"), None);
        assert_eq!(engine_entry("runs/cache", "p.yaml"), None);
        assert_eq!(engine_entry("repro.lock.bak", "p.yaml"), None);
    }

    #[test]
    fn shell_safe_set_and_literal_prefixes() {
        assert!("band5+G1,a.b:c=d@e/f-g_0".chars().all(is_shell_safe));
        for c in "'\"$`;&|<>(){}[]*?!~#% \t\n\\".chars() {
            assert!(!is_shell_safe(c), "{c:?}");
        }
        assert_eq!(literal_prefix("src/a/*.rs"), "src/a");
        assert_eq!(literal_prefix("**"), "");
        assert!(could_be_package("my-crate_2") && !could_be_package("src/*"));
    }

    #[test]
    fn path_text_limits() {
        assert!(check_path_text(&"x".repeat(255)).is_ok());
        assert!(check_path_text(&"x".repeat(256))
            .unwrap_err()
            .contains("255 bytes"));
        assert!(check_path_text("a\nb").unwrap_err().contains("U+000A"));
        assert!(check_path_text("a\nb").unwrap_err().contains("`a\\nb`"));
        let deep = vec!["x"; 2100].join("/");
        assert!(check_path_text(&deep).unwrap_err().contains("4096"));
    }
}
