//! Source positions of every node in a YAML document, keyed by field path.
//!
//! serde_yaml gives positions only for its own errors; validation errors found later (an
//! undefined variable in `stages.train.cmd[3]`, an output declared twice) need the line and
//! column of the offending value. This module runs yaml-rust2's event parser once over the
//! same text and records, for every scalar, mapping and sequence, the path that leads to it
//! (`stages.train.cmd[3]`) and its 1-based line and column. Mapping keys are recorded under
//! the path of their value with the suffix `#key`.
//!
//! The same pass finds duplicate mapping keys, which serde would accept silently (the last
//! one winning): [`PositionIndex::duplicate`] gives the first duplicate with both positions.
//! Keys are compared by their scalar text, so `1` and `"1"` count as the same key, as they
//! do for the string-keyed maps of the schema.
//!
//! The events are read one by one (yaml-rust2's own `load` recurses once per nesting level and
//! overflows the stack on `- - - - ...`), and indexing stops at the first node nested deeper
//! than [`MAX_YAML_DEPTH`], which [`PositionIndex::too_deep`] reports: paths that long would
//! make the index quadratic in the file size, and libyaml (behind serde_yaml) takes time
//! quadratic in the depth, so the loader refuses such a file before serde sees it.
//!
//! Limits: anchors and aliases are indexed where they are written, not where they are used;
//! only the first document is indexed; complex (non-scalar) and alias keys are not checked
//! for duplicates.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

use super::rules::MAX_YAML_DEPTH;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

/// A mapping key written twice in the same mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// Field path of the key's value (`stages.train`).
    pub path: String,
    /// The key.
    pub key: String,
    /// Where it is first written.
    pub first: Pos,
    /// Where it is written again.
    pub second: Pos,
}

/// Field path to source position, for one document.
#[derive(Debug, Default)]
pub struct PositionIndex {
    map: HashMap<String, Pos>,
    duplicate: Option<DuplicateKey>,
    too_deep: Option<Pos>,
}

impl PositionIndex {
    /// Indexes `text`. A document that fails to scan yields the index up to the error
    /// (serde_yaml reports the syntax error itself, with its position).
    pub fn build(text: &str) -> PositionIndex {
        let mut recv = Receiver::default();
        let mut parser = Parser::new_from_str(text);
        loop {
            match parser.next_token() {
                Ok((ev, mark)) => {
                    let end = matches!(ev, Event::StreamEnd | Event::DocumentEnd);
                    recv.on_event(ev, mark);
                    if end || recv.too_deep.is_some() {
                        break;
                    }
                }
                Err(e) => {
                    // The scanner looks ahead through `[[[[...` and stops at 255 levels of
                    // flow nesting, before any event reaches the receiver.
                    if e.info().contains("recursion limit") {
                        let m = e.marker();
                        recv.too_deep = Some(Pos {
                            line: m.line(),
                            col: m.col() + 1,
                        });
                    }
                    break;
                }
            }
        }
        PositionIndex {
            map: recv.map,
            duplicate: recv.duplicate,
            too_deep: recv.too_deep,
        }
    }

    /// Where the first node nested deeper than [`MAX_YAML_DEPTH`] starts (nothing after it
    /// is indexed).
    pub fn too_deep(&self) -> Option<Pos> {
        self.too_deep
    }

    /// The first mapping key (in document order of the second occurrence) written twice in
    /// one mapping.
    pub fn duplicate(&self) -> Option<&DuplicateKey> {
        self.duplicate.as_ref()
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
    Map {
        path: String,
        key: Option<String>,
        seen: HashMap<String, Pos>,
    },
    Seq {
        path: String,
        index: usize,
    },
}

#[derive(Default)]
struct Receiver {
    stack: Vec<Frame>,
    map: HashMap<String, Pos>,
    duplicate: Option<DuplicateKey>,
    too_deep: Option<Pos>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Receiver {
    /// Path of the node starting now, or `None` when the node is a mapping key or is not
    /// indexed. `key` is the node's text when it is a plain scalar (a possible mapping key).
    fn next_path(&mut self, key: Option<&str>, mark: Marker) -> Option<String> {
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
            Some(Frame::Map {
                path,
                key: pending,
                seen,
            }) => match pending.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    let k = key.unwrap_or("?").to_owned();
                    let full = join(path, &k);
                    if let Some(text) = key {
                        match seen.get(text) {
                            Some(&first) if self.duplicate.is_none() => {
                                self.duplicate = Some(DuplicateKey {
                                    path: full.clone(),
                                    key: text.to_owned(),
                                    first,
                                    second: pos,
                                });
                            }
                            Some(_) => {}
                            None => {
                                seen.insert(text.to_owned(), pos);
                            }
                        }
                    }
                    self.map.entry(format!("{full}#key")).or_insert(pos);
                    *pending = Some(k);
                    None
                }
            },
        }
    }

    /// Enters a mapping or a sequence.
    fn open(&mut self, map: bool, mark: Marker, pos: Pos) {
        if self.stack.len() >= MAX_YAML_DEPTH {
            self.too_deep = Some(pos);
            return;
        }
        let path = self.next_path(None, mark).unwrap_or_default();
        self.map.insert(path.clone(), pos);
        self.stack.push(if map {
            Frame::Map {
                path,
                key: None,
                seen: HashMap::new(),
            }
        } else {
            Frame::Seq { path, index: 0 }
        });
    }

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
                // An alias used as a key is not compared with other keys.
                if let Some(p) = self.next_path(None, mark) {
                    self.map.insert(p, pos);
                }
            }
            Event::MappingStart(..) => self.open(true, mark, pos),
            Event::SequenceStart(..) => self.open(false, mark, pos),
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
        assert_eq!(idx.duplicate(), None);
    }

    #[test]
    fn duplicate_keys_are_found_with_both_positions() {
        let text = "a: 1\nb:\n  c: 1\n  d: [1, {e: 1, e: 2}]\n  c: 2\n";
        let dup = PositionIndex::build(text).duplicate().cloned().unwrap();
        // The first in document order of the second occurrence: `e` (line 4) before `c`.
        assert_eq!(dup.path, "b.d[1].e");
        assert_eq!(dup.first, Pos { line: 4, col: 11 });
        assert_eq!(dup.second, Pos { line: 4, col: 17 });
        let same_text = PositionIndex::build("x: {1: a, \"1\": b}\n");
        assert_eq!(same_text.duplicate().map(|d| d.key.as_str()), Some("1"));
        // Equal keys in different mappings are fine.
        assert_eq!(
            PositionIndex::build("a: {k: 1}\nb: {k: 1}\n").duplicate(),
            None
        );
    }

    #[test]
    fn deep_nesting_neither_recurses_nor_grows_quadratically() {
        let text = format!("a:\n{}x\n", "- ".repeat(200_000));
        let idx = PositionIndex::build(&text);
        assert_eq!(idx.get("a").line, 2);
        assert!(idx.map.len() <= MAX_YAML_DEPTH + 2, "{}", idx.map.len());
        assert_eq!(idx.too_deep().map(|p| p.line), Some(2));
        let flow = format!("a: {}x{}\n", "[".repeat(65), "]".repeat(65));
        assert!(PositionIndex::build(&flow).too_deep().is_some());
        let flow = format!("a: {}x{}\n", "[".repeat(63), "]".repeat(63));
        assert_eq!(PositionIndex::build(&flow).too_deep(), None);
        let flow = format!("a: {}x{}\n", "[".repeat(50_000), "]".repeat(50_000));
        assert!(PositionIndex::build(&flow).too_deep().is_some());
    }
}
