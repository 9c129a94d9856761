//! Source positions of every node in a YAML document, keyed by field path.
//!
//! serde_yaml gives positions only for its own errors; validation errors found later (an
//! undefined variable in `stages.train.cmd[3]`, an output declared twice) need the line and
//! column of the offending value. This module runs yaml-rust2's event parser once over the
//! same text and records, for every scalar, mapping and sequence, the path that leads to it
//! (`stages.train.cmd[3]`) and its 1-based line and column. Mapping keys are recorded under
//! the path of their value with the suffix `#key`.
//!
//! Limits: anchors and aliases are indexed where they are written, not where they are used.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

/// Field path to source position, for one document.
#[derive(Debug, Default)]
pub struct PositionIndex {
    map: HashMap<String, Pos>,
}

impl PositionIndex {
    /// Indexes `text`. A document that fails to scan yields an empty index (serde_yaml reports
    /// the syntax error itself, with its position).
    pub fn build(text: &str) -> PositionIndex {
        let mut recv = Receiver::default();
        let mut parser = Parser::new_from_str(text);
        let _ = parser.load(&mut recv, false);
        PositionIndex { map: recv.map }
    }

    /// The position of the value at `path`, or of the closest ancestor that has one.
    pub fn get(&self, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return self.map.get("").copied().unwrap_or(Pos { line: 1, col: 1 }),
            }
        }
    }

    /// The position of the key that introduces `path` (falls back to the value's position).
    pub fn key(&self, path: &str) -> Pos {
        self.map
            .get(&format!("{path}#key"))
            .copied()
            .unwrap_or_else(|| self.get(path))
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Receiver {
    stack: Vec<Frame>,
    map: HashMap<String, Pos>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Receiver {
    /// Path of the node starting now, or `None` when the node is a mapping key.
    fn next_path(&mut self, scalar: Option<&str>, mark: Marker) -> Option<String> {
        let pos = Pos {
            line: mark.line(),
            col: mark.col() + 1,
        };
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    let k = scalar.unwrap_or("?").to_owned();
                    self.map.insert(format!("{}#key", join(path, &k)), pos);
                    *key = Some(k);
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos {
            line: mark.line(),
            col: mark.col() + 1,
        };
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(p) = self.next_path(Some(&value), mark) {
                    self.map.insert(p, pos);
                }
            }
            Event::Alias(_) => {
                if let Some(p) = self.next_path(Some("*alias"), mark) {
                    self.map.insert(p, pos);
                }
            }
            Event::MappingStart(..) => {
                let path = self.next_path(None, mark).unwrap_or_default();
                self.map.insert(path.clone(), pos);
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.next_path(None, mark).unwrap_or_default();
                self.map.insert(path.clone(), pos);
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_values_keys_and_sequence_items() {
        let text = "version: 1\nstages:\n  train:\n    cmd: [a, \"b\", c]\n    outs:\n      - x\n";
        let idx = PositionIndex::build(text);
        assert_eq!(idx.get("version"), Pos { line: 1, col: 10 });
        assert_eq!(idx.key("stages.train"), Pos { line: 3, col: 3 });
        assert_eq!(idx.get("stages.train.cmd[2]"), Pos { line: 4, col: 19 });
        assert_eq!(idx.get("stages.train.outs[0]"), Pos { line: 6, col: 9 });
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(
            idx.get("stages.train.outs[7]"),
            idx.get("stages.train.outs")
        );
    }
}
