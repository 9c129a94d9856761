//! The on-disk data format written by the `gen` stage and read by `train` and `probe`.
//!
//! A data set is a directory with one CSV file per split (`train.csv`, `heldout.csv`, and for
//! ListOps `test.csv`) and a `meta.json`. Each CSV has the header `label,tokens`; `tokens` is the
//! unpadded sequence of integer token ids separated by single spaces. Padding and global tokens
//! are the trainer's business: `meta.json` names the PAD id and the vocabulary so that the
//! trainer can append them.

use std::io::Write;
use std::path::Path;

use crate::{CommonError, Task};

/// Version of the data directory layout; bump when the meaning of a file changes.
pub const DATA_FORMAT_VERSION: u32 = 1;

/// One example: unpadded token ids and the class label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// Token ids, without padding.
    pub tokens: Vec<u32>,
    /// Class label in `0..classes`.
    pub label: u32,
}

/// `meta.json`: what a consumer needs to interpret the CSV files.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataMeta {
    /// [`DATA_FORMAT_VERSION`] at the time of writing.
    pub format: u32,
    /// The task.
    pub task: Task,
    /// The seed the generator was run with.
    pub seed: u64,
    /// Token strings; a token's id is its index. The last entry is `PAD`.
    pub vocab: Vec<String>,
    /// Id of the padding token (equal to `vocab.len() - 1`).
    pub pad_id: u32,
    /// Number of classes.
    pub classes: usize,
    /// Longest sequence in any split.
    pub max_len: usize,
    /// Split name to number of examples, e.g. `{"train": 5000, "heldout": 2000}`.
    pub splits: std::collections::BTreeMap<String, usize>,
    /// Free-form generator parameters (lengths, probabilities), for the record.
    pub generator: serde_json::Value,
}

impl DataMeta {
    /// Reads and parses `dir/meta.json`.
    pub fn read(dir: &Path) -> Result<DataMeta, CommonError> {
        let path = dir.join("meta.json");
        let text = std::fs::read_to_string(&path).map_err(|source| CommonError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| CommonError::BadData {
            path,
            line: e.line() as u64,
            message: e.to_string(),
        })
    }

    /// Writes `dir/meta.json` (pretty-printed, trailing newline).
    pub fn write(&self, dir: &Path) -> Result<(), CommonError> {
        let path = dir.join("meta.json");
        let mut text = serde_json::to_string_pretty(self).expect("meta serialises");
        text.push('\n');
        std::fs::write(&path, text).map_err(|source| CommonError::Io { path, source })
    }
}

/// Writes examples as `label,tokens` CSV.
pub fn write_split(path: &Path, examples: &[Example]) -> Result<(), CommonError> {
    let io = |source| CommonError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "label,tokens").map_err(io)?;
    let mut line = String::new();
    for ex in examples {
        line.clear();
        use std::fmt::Write as _;
        write!(line, "{},", ex.label).expect("string write");
        for (i, t) in ex.tokens.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            write!(line, "{t}").expect("string write");
        }
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Reads a `label,tokens` CSV written by [`write_split`], checking every token id against
/// `vocab_len` and every label against `classes`.
pub fn read_split(
    path: &Path,
    vocab_len: usize,
    classes: usize,
) -> Result<Vec<Example>, CommonError> {
    let bad = |line: u64, message: String| CommonError::BadData {
        path: path.to_owned(),
        line,
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(source) => CommonError::Io {
            path: path.to_owned(),
            source,
        },
        other => bad(0, format!("{other:?}")),
    })?;
    let headers = reader.headers().map_err(|e| bad(1, e.to_string()))?;
    if headers != vec!["label", "tokens"] {
        return Err(bad(
            1,
            format!(
                "expected header `label,tokens`, found `{}`",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let mut examples = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let label: u32 = record[0]
            .parse()
            .map_err(|_| bad(line, format!("label `{}` is not an integer", &record[0])))?;
        if label as usize >= classes {
            return Err(bad(
                line,
                format!("label {label} out of range 0..{classes}"),
            ));
        }
        let tokens = record[1]
            .split(' ')
            .map(|t| {
                let id: u32 = t
                    .parse()
                    .map_err(|_| bad(line, format!("token `{t}` is not an integer")))?;
                if id as usize >= vocab_len {
                    return Err(bad(
                        line,
                        format!("token id {id} out of range 0..{vocab_len}"),
                    ));
                }
                Ok(id)
            })
            .collect::<Result<Vec<_>, _>>()?;
        examples.push(Example { tokens, label });
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.csv");
        let examples = vec![
            Example {
                tokens: vec![0, 1, 1, 0],
                label: 1,
            },
            Example {
                tokens: vec![2],
                label: 0,
            },
        ];
        write_split(&path, &examples).unwrap();
        assert_eq!(read_split(&path, 3, 2).unwrap(), examples);
    }

    #[test]
    fn out_of_range_token_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.csv");
        std::fs::write(&path, "label,tokens\n1,0 1\n0,0 7\n").unwrap();
        let err = read_split(&path, 3, 2).unwrap_err().to_string();
        assert!(
            err.contains("train.csv") && err.contains("line 3") && err.contains("token id 7"),
            "{err}"
        );
    }
}
