//! Which run a result file belongs to: every file the table stages write names the profile it
//! was computed for and the cache key of the instance that wrote it.
//!
//! The profile comes from `--profile` (the pipeline passes `${params.profile}`, so it is part
//! of the instance's key like any argument); the key from `REPRO_KEY`, which the engine sets
//! for every process it runs to the key it computed from the inputs before the run. Both are
//! therefore functions of the key: a re-run under the same key writes the same bytes, and the
//! files stay cacheable and byte-identical across re-runs. The commit is deliberately not
//! written: the same key is reached from many commits (a commit that changes nothing the key
//! reads), so a commit inside a cached output would be a false statement after the first one.
//! The engine records the producing commit in the key's action record instead
//! (`cache/actions/KEY.json`, shown by `repro show INSTANCE` and the report page), so the key
//! written here leads to it.
//!
//! How each kind of file names them: Markdown in an italic line under its title, LaTeX in `%`
//! comment lines at its top, CSV in two trailing columns `profile` and `table_key` on every
//! row (so that it stays one rectangular table any CSV reader parses, and a row copied out of
//! it still says where it came from), the figures in a footer line (the key's first
//! [`SHORT_KEY`] characters: a full key does not fit a one-panel figure), `report.json` in a
//! facts block the page shows.
//!
//! Known limit: the cost of naming the key is that an output changes whenever the instance's
//! key does, even when its numbers do not (a comment in the table code): the engine's early
//! cutoff then counts it as changed. No stage reads these files, so nothing downstream re-runs
//! (docs/cache.md, "Early cutoff").

use std::fmt::Write as _;

use crate::TableError;

/// The variable through which the engine gives a process its instance's cache key.
pub const KEY_VAR: &str = "REPRO_KEY";

/// Characters of the key shown in a figure's footer.
pub const SHORT_KEY: usize = 16;

/// The profile and key of the run that writes the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The profile's name.
    pub profile: String,
    /// The instance's cache key, when run by the engine.
    pub key: Option<String>,
}

impl Origin {
    /// The origin of this process: `profile`, and the key in [`KEY_VAR`] when set. A profile
    /// that is empty or holds a line break is refused (it would break the header lines).
    pub fn from_env(profile: &str) -> Result<Origin, TableError> {
        let key = std::env::var(KEY_VAR).ok().filter(|k| !k.trim().is_empty());
        Origin::new(profile, key)
    }

    /// An origin from its parts, checked as [`Origin::from_env`] does.
    pub fn new(profile: &str, key: Option<String>) -> Result<Origin, TableError> {
        let bad = |s: &str| s.trim().is_empty() || s.chars().any(char::is_control);
        if bad(profile) {
            return Err(TableError::Origin(format!(
                "`--profile` `{profile}` must be a non-empty name without control characters"
            )));
        }
        if let Some(k) = &key {
            if k.chars().any(char::is_control) {
                return Err(TableError::Origin(format!(
                    "`{KEY_VAR}` `{}` holds a control character",
                    k.escape_debug()
                )));
            }
        }
        Ok(Origin {
            profile: profile.to_owned(),
            key,
        })
    }

    /// The key, or what stands in its place when the program ran outside the engine.
    pub fn key_text(&self) -> &str {
        self.key.as_deref().unwrap_or("none (not run by repro)")
    }

    /// One sentence naming the profile and key, and where the commit is recorded.
    pub fn sentence(&self, program: &str) -> String {
        match &self.key {
            Some(k) => format!(
                "Profile `{}`. Written by `{program}` as the instance whose cache key is `{k}`; its action record (`cache/actions/{k}.json`, `repro show INSTANCE`) names the commit it ran at.",
                self.profile
            ),
            None => format!(
                "Profile `{}`. Written by `{program}` run outside repro: no cache key, so no record of the commit.",
                self.profile
            ),
        }
    }

    /// `markdown` with [`Origin::sentence`] as an italic paragraph under its first `# ` title
    /// (at its top when it has none).
    pub fn stamp_markdown(&self, program: &str, markdown: &str) -> String {
        let line = format!("_{}_\n\n", self.sentence(program));
        match markdown.split_once('\n') {
            Some((title, rest)) if title.starts_with("# ") => {
                let rest = rest.strip_prefix('\n').unwrap_or(rest);
                format!("{title}\n\n{line}{rest}")
            }
            _ => format!("{line}{markdown}"),
        }
    }

    /// `latex` with `%` comment lines naming the profile and key at its top.
    pub fn stamp_latex(&self, program: &str, latex: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "% profile: {}", self.profile);
        let _ = writeln!(out, "% {program} cache key: {}", self.key_text());
        if self.key.is_some() {
            out.push_str(
                "% the key's action record names the commit it ran at (repro show INSTANCE)\n",
            );
        }
        out.push_str(latex);
        out
    }

    /// `csv` with two trailing columns, `profile` and `table_key`, on every record (the header
    /// included); `name` is the file's name, for the error when `csv` does not parse.
    pub fn stamp_csv(&self, name: &str, csv: &str) -> Result<String, TableError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv.as_bytes());
        let mut writer = csv::Writer::from_writer(Vec::new());
        for (i, record) in reader.records().enumerate() {
            let mut record = record.map_err(|e| TableError::Origin(format!("`{name}`: {e}")))?;
            if i == 0 {
                record.push_field("profile");
                record.push_field("table_key");
            } else {
                record.push_field(&self.profile);
                record.push_field(self.key.as_deref().unwrap_or(""));
            }
            writer
                .write_record(&record)
                .map_err(|e| TableError::Origin(format!("`{name}`: {e}")))?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| TableError::Origin(format!("`{name}`: {e}")))?;
        String::from_utf8(bytes).map_err(|e| TableError::Origin(format!("`{name}`: {e}")))
    }

    /// The footer line of a figure: the profile and the key's first [`SHORT_KEY`] characters.
    pub fn footer(&self) -> String {
        match &self.key {
            Some(k) => {
                let short: String = k.chars().take(SHORT_KEY).collect();
                let more = if k.chars().count() > SHORT_KEY {
                    "…"
                } else {
                    ""
                };
                format!("profile {} · table key {short}{more}", self.profile)
            }
            None => format!("profile {} · not run by repro (no key)", self.profile),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(key: Option<&str>) -> Origin {
        Origin::new("smoke", key.map(str::to_owned)).unwrap()
    }

    #[test]
    fn markdown_names_profile_and_key_under_its_title() {
        let o = origin(Some("k123"));
        let md = o.stamp_markdown("table", "# Title\n\nBody\n");
        assert_eq!(
            md,
            "# Title\n\n_Profile `smoke`. Written by `table` as the instance whose cache key is `k123`; its action record (`cache/actions/k123.json`, `repro show INSTANCE`) names the commit it ran at._\n\nBody\n"
        );
        let untitled = o.stamp_markdown("table", "Body\n");
        assert!(untitled.starts_with("_Profile `smoke`."), "{untitled}");
        assert!(untitled.ends_with("\n\nBody\n"));
    }

    #[test]
    fn csv_gets_two_trailing_columns_on_every_row_and_stays_parseable() {
        let o = origin(Some("k123"));
        let csv = o.stamp_csv("t.csv", "a,b\n1,\"x, y\"\n2,\n").unwrap();
        assert_eq!(
            csv,
            "a,b,profile,table_key\n1,\"x, y\",smoke,k123\n2,,smoke,k123\n"
        );
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(r.headers().unwrap().len(), 4);
        assert!(r.records().all(|rec| rec.unwrap().len() == 4));
        let bad = o.stamp_csv("t.csv", "a,b\n1\n").unwrap_err().to_string();
        assert!(bad.contains("`t.csv`"), "{bad}");
    }

    #[test]
    fn latex_and_figures_name_the_profile_and_key() {
        let o = origin(Some("0123456789abcdef0123"));
        let tex = o.stamp_latex("table", "\\begin{table}\n");
        assert!(tex.starts_with("% profile: smoke\n% table cache key: 0123456789abcdef0123\n"));
        assert!(tex.ends_with("\\begin{table}\n"));
        assert_eq!(o.footer(), "profile smoke · table key 0123456789abcdef…");
    }

    #[test]
    fn without_the_engine_the_files_say_there_is_no_key() {
        let o = origin(None);
        assert!(o.sentence("table").contains("run outside repro"));
        assert!(o
            .stamp_latex("table", "")
            .contains("none (not run by repro)"));
        assert_eq!(
            o.stamp_csv("t.csv", "a\n1\n").unwrap(),
            "a,profile,table_key\n1,smoke,\n"
        );
        assert_eq!(o.footer(), "profile smoke · not run by repro (no key)");
    }

    #[test]
    fn an_empty_profile_or_a_key_with_a_line_break_is_refused() {
        assert!(Origin::new("", None).is_err());
        assert!(Origin::new("a\nb", None).is_err());
        let e = Origin::new("smoke", Some("k\n".into())).unwrap_err();
        assert!(e.to_string().contains("REPRO_KEY"), "{e}");
    }
}
