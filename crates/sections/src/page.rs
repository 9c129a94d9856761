//! A report page's sections: a file a stage writes (the paper's `table` stage writes
//! `results/report.json`) and `repro report` reads and renders into `results/report.html`.
//!
//! The file describes content, never markup: text, verdicts, tables, charts as numbers and
//! disclosures. The engine renders each block itself, escaping every string, so a stage cannot
//! put script, links or styles on the page, and the engine needs to know nothing of what the
//! numbers mean. Blocks are internally tagged (`{"kind": "table", ...}`), so a wrong shape is
//! an error that names the kind, the line and the column.
//!
//! JSON: `{"format": 1, "sections": [{"id": ..., "title": ..., "blocks": [...]}]}`. Checks that
//! serde cannot make (finite numbers, colours, ids) are [`PageSections::check`]'s, which the
//! reader runs; its error names the section and block.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{SectionsError, WHAT};

/// Version of the sections format; bump when a field changes meaning.
pub const PAGE_SECTIONS_FORMAT: u32 = 1;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSections {
    /// [`PAGE_SECTIONS_FORMAT`].
    pub format: u32,
    /// The sections, in page order.
    pub sections: Vec<Section>,
}

/// One section of the page: a heading and its blocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The section's anchor: letters, digits, `-` and `_` only.
    pub id: String,
    /// Its heading.
    pub title: String,
    /// Its content.
    pub blocks: Vec<Block>,
}

/// How a verdict reads: good news, bad news, or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Held (shown green).
    Good,
    /// Did not hold (shown red).
    Bad,
    /// Undecided (shown grey).
    Neutral,
}

/// One verdict of a strip of verdicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// A short label (`C1`).
    pub id: String,
    /// The verdict in words (`reproduced`).
    pub verdict: String,
    /// Its colour.
    pub tone: Tone,
    /// One sentence.
    pub sentence: String,
}

/// A labelled value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    /// The label.
    pub label: String,
    /// The value.
    pub value: String,
}

/// A table. Cells are text; a column whose cells all read as numbers sorts numerically.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// A caption, shown above the table.
    #[serde(default)]
    pub caption: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Rows; each has as many cells as the header.
    pub rows: Vec<Vec<String>>,
    /// Whether the reader may sort it by clicking a header (needs script; without it the
    /// table stays in the order given).
    #[serde(default)]
    pub sortable: bool,
}

/// One point of a line; `lo` and `hi`, when given, bound a band drawn behind the line.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Horizontal value.
    pub x: f64,
    /// Vertical value.
    pub y: f64,
    /// Lower edge of the band at `x`.
    #[serde(default)]
    pub lo: Option<f64>,
    /// Upper edge of the band at `x`.
    #[serde(default)]
    pub hi: Option<f64>,
}

/// One line of a chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Its name in the legend and tooltips.
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Points in drawing order.
    pub points: Vec<Point>,
    /// Thin and translucent (per-seed curves behind a median, say).
    #[serde(default)]
    pub faint: bool,
}

/// A line chart, drawn by the engine as inline SVG with a tooltip on every point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Fixed vertical range, when the quantity has one (accuracy: 0 to 1).
    #[serde(default)]
    pub y_range: Option<(f64, f64)>,
    /// The lines.
    pub lines: Vec<Line>,
}

/// A piece of content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// A paragraph.
    Text {
        /// Its text.
        text: String,
    },
    /// A bulleted list.
    List {
        /// One entry per item.
        items: Vec<String>,
    },
    /// A strip of verdicts.
    Verdicts {
        /// The verdicts, in order.
        items: Vec<Verdict>,
    },
    /// Labelled values.
    Facts {
        /// The values.
        items: Vec<Fact>,
    },
    /// A table.
    Table(Table),
    /// A chart.
    Chart(Chart),
    /// Blocks hidden behind a disclosure that the reader opens.
    Details {
        /// The disclosure's label.
        summary: String,
        /// What it hides.
        blocks: Vec<Block>,
    },
}

impl PageSections {
    /// Reads `path` and checks it.
    pub fn read(path: &Path) -> Result<PageSections, SectionsError> {
        let s: PageSections = repro_jsonfile::read(WHAT, path)?;
        s.check().map_err(|message| SectionsError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(s)
    }

    /// What serde cannot check: the format, ids, cell counts, finite numbers, colours.
    pub fn check(&self) -> Result<(), String> {
        if self.format != PAGE_SECTIONS_FORMAT {
            return Err(format!(
                "field `format`: unsupported format {} (expected {PAGE_SECTIONS_FORMAT})",
                self.format
            ));
        }
        for (i, s) in self.sections.iter().enumerate() {
            let at = format!("sections[{i}]");
            if s.id.is_empty()
                || !s
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "field `{at}.id`: `{}` is not letters, digits, `-` and `_`",
                    s.id.escape_debug()
                ));
            }
            check_blocks(&s.blocks, &format!("{at}.blocks"))?;
        }
        Ok(())
    }

    /// Writes the file to `w`, pretty-printed.
    pub fn to_writer(&self, mut w: impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut w, self)?;
        Ok(())
    }
}

fn check_blocks(blocks: &[Block], at: &str) -> Result<(), String> {
    for (j, b) in blocks.iter().enumerate() {
        let at = format!("{at}[{j}]");
        match b {
            Block::Table(t) => {
                for (r, row) in t.rows.iter().enumerate() {
                    if row.len() != t.header.len() {
                        return Err(format!(
                            "field `{at}.rows[{r}]`: {} cells for {} columns",
                            row.len(),
                            t.header.len()
                        ));
                    }
                }
            }
            Block::Chart(c) => {
                if let Some((lo, hi)) = c.y_range {
                    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                        return Err(format!(
                            "field `{at}.y_range`: expected two finite numbers, the first smaller"
                        ));
                    }
                }
                for (l, line) in c.lines.iter().enumerate() {
                    if !is_colour(&line.colour) {
                        return Err(format!(
                            "field `{at}.lines[{l}].colour`: `{}` is not `#rrggbb`",
                            line.colour.escape_debug()
                        ));
                    }
                    for (p, pt) in line.points.iter().enumerate() {
                        let finite = [Some(pt.x), Some(pt.y), pt.lo, pt.hi]
                            .into_iter()
                            .flatten()
                            .all(f64::is_finite);
                        if !finite {
                            return Err(format!(
                                "field `{at}.lines[{l}].points[{p}]`: not a finite number"
                            ));
                        }
                    }
                }
            }
            Block::Details { blocks, .. } => check_blocks(blocks, &format!("{at}.blocks"))?,
            Block::Text { .. }
            | Block::List { .. }
            | Block::Verdicts { .. }
            | Block::Facts { .. } => {}
        }
    }
    Ok(())
}

/// Whether `s` is `#rrggbb`.
fn is_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PageSections {
        PageSections {
            format: PAGE_SECTIONS_FORMAT,
            sections: vec![Section {
                id: "claims".into(),
                title: "Claims".into(),
                blocks: vec![
                    Block::Verdicts {
                        items: vec![Verdict {
                            id: "C1".into(),
                            verdict: "reproduced".into(),
                            tone: Tone::Good,
                            sentence: "faster".into(),
                        }],
                    },
                    Block::Details {
                        summary: "curves".into(),
                        blocks: vec![Block::Chart(Chart {
                            title: "t".into(),
                            x_label: "epoch".into(),
                            y_label: "acc".into(),
                            y_range: Some((0.0, 1.0)),
                            lines: vec![Line {
                                name: "full".into(),
                                colour: "#000000".into(),
                                points: vec![Point {
                                    x: 1.0,
                                    y: 0.5,
                                    lo: Some(0.4),
                                    hi: None,
                                }],
                                faint: false,
                            }],
                        })],
                    },
                ],
            }],
        }
    }

    #[test]
    fn what_the_writer_writes_the_reader_reads_back() {
        let dir = std::env::temp_dir().join(format!("page-sections-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.json");
        let mut bytes = Vec::new();
        sample().to_writer(&mut bytes).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(PageSections::read(&path).unwrap(), sample());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_row_with_the_wrong_number_of_cells_is_refused_with_its_path() {
        let mut s = sample();
        s.sections[0].blocks.push(Block::Table(Table {
            caption: String::new(),
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["1".into()]],
            sortable: true,
        }));
        let e = s.check().unwrap_err();
        assert!(e.contains("sections[0].blocks[2].rows[0]"), "{e}");
    }

    #[test]
    fn colours_ids_and_numbers_are_checked_inside_disclosures_too() {
        let mut s = sample();
        if let Block::Details { blocks, .. } = &mut s.sections[0].blocks[1] {
            if let Block::Chart(c) = &mut blocks[0] {
                c.lines[0].colour = "red".into();
            }
        }
        let e = s.check().unwrap_err();
        assert!(e.contains("blocks[1].blocks[0].lines[0].colour"), "{e}");
        let mut s = sample();
        s.sections[0].id = "a b".into();
        assert!(s.check().unwrap_err().contains("sections[0].id"));
        let mut s = sample();
        s.format = 9;
        assert!(s.check().unwrap_err().contains("format"));
    }

    #[test]
    fn a_sections_file_that_cannot_be_read_parsed_or_used_says_which_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let error = |text: Option<&str>| {
            if let Some(text) = text {
                std::fs::write(&path, text).unwrap();
            }
            PageSections::read(&path).unwrap_err().to_string()
        };
        let shown = path.display();
        let missing = error(None);
        assert!(
            missing.starts_with(&format!("failed to read the sections file `{shown}`: ")),
            "{missing}"
        );
        let malformed = error(Some("{\"format\": 1,\n \"sections\": 3}"));
        assert!(
            malformed.starts_with(&format!(
                "failed to parse the sections file `{shown}` at 2:14: invalid type: integer `3`"
            )),
            "{malformed}"
        );
        let mut unusable = sample();
        unusable.format = 9;
        let invalid = error(Some(&serde_json::to_string(&unusable).unwrap()));
        assert!(
            invalid.starts_with(&format!("failed to use `{shown}`: field `format`")),
            "{invalid}"
        );
    }

    #[test]
    fn a_block_of_an_unknown_kind_is_a_located_error() {
        let text = r#"{"format": 1, "sections": [{"id": "a", "title": "A",
            "blocks": [{"kind": "html", "text": "<script>"}]}]}"#;
        let e = repro_jsonfile::parse::<PageSections>(WHAT, text, Path::new("s.json")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("s.json") && msg.contains("html"), "{msg}");
    }
}
