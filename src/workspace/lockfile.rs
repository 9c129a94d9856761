//! `repro.lock`: the committed record of each instance's key and output digests, per profile.
//!
//! The format is line-based, sorted and merge-friendly: one block per (profile, instance),
//! blocks sorted, fields in a fixed order, so that two branches that ran different instances
//! merge without conflicts.
//!
//! ```text
//! # repro.lock v1: written by `repro run`; commit it
//! [quick] gen@seed=1,task=parity
//! key 3f2a…
//! skey 81c0…
//! out data/parity/1 dir:9ab0…
//! metric runs/x/metrics.json#best_acc 0.9731
//! ```
//!
//! Every kind of line and what the reader refuses: docs/cache.md, "The lock file".
//!
//! `metric` lines carry the numbers a stage declares under `metrics:`, so that a later run on
//! another machine can be compared within a tolerance even when its bytes differ.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use crate::cache::{is_digest, Tagged};

const HEADER: &str = "# repro.lock v1: written by `repro run`; commit it";

/// The message for a lock file with merge conflict markers (its hint names the way out).
const CONFLICT: &str = "unresolved merge conflict markers";

/// One instance's entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LockEntry {
    /// Cache key of the last successful run.
    pub key: String,
    /// Output path to tagged digest.
    pub outs: BTreeMap<String, String>,
    /// `file#field` to value, for stages that declare `metrics:`.
    pub metrics: BTreeMap<String, f64>,
    /// The structural key (dependency digests blanked), see `KeyInputs::structural_key`.
    pub skey: String,
}

/// The lock file contents: (profile, instance id) to entry, behind methods.
///
/// Read lazily: the text is kept as read, checked line by line, with an index of its blocks
/// sorted by (profile, instance id); an entry is built only when asked for. A no-op run of a
/// 50,000-instance pipeline looks each entry up once and keeps none of them, so it holds the
/// text and the index, not 50,000 parsed entries. Entries recorded since reading live beside
/// the text and replace its blocks.
#[derive(Clone, Default)]
pub struct LockFile {
    /// The text the lock was read from (empty for one made in memory).
    text: String,
    /// The blocks of `text`, sorted by (profile, id); of two blocks of one instance, the
    /// later in the text (as the reader always kept).
    blocks: Vec<Block>,
    /// Entries recorded since reading, by profile then instance id.
    added: BTreeMap<String, BTreeMap<String, LockEntry>>,
    /// `"<path> <tagged digest>"` of every entry's outputs to the profiles that record it, in
    /// profile order: built at the first [`LockFile::profiles_with_output`] (asked once per
    /// output that differs from this profile's, so that a profile switch over thousands of
    /// instances reads the entries once, not once per output); dropped by every insert.
    outputs: std::sync::OnceLock<std::collections::HashMap<String, Vec<String>>>,
    /// Where each block of `blocks` is, by (profile, id): built at the first [`LockFile::get`].
    /// A no-op run of 50,000 instances looks each up once; a binary search compared about 16
    /// pairs of strings per lookup.
    index: std::sync::OnceLock<Index>,
}

/// The positions in [`LockFile::blocks`] by a hash of (profile, id), with the hasher.
#[derive(Clone, Default)]
struct Index {
    table: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl Index {
    fn hash(&self, profile: &str, id: &str) -> u64 {
        Self::hash_with(&self.hasher, profile, id)
    }

    fn hash_with(hasher: &hashbrown::DefaultHashBuilder, profile: &str, id: &str) -> u64 {
        std::hash::BuildHasher::hash_one(hasher, (profile, id))
    }
}

/// A malformed lock file.
#[derive(Debug, thiserror::Error)]
#[error("failed to parse `{path}` at line {line}: {message}")]
pub struct LockError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl LockError {
    /// The fix, when known.
    pub fn hint(&self) -> Option<String> {
        (self.message == CONFLICT).then(|| {
            "the lock is regenerated from the cache: take either side (`git checkout --ours repro.lock` or `--theirs`), then `repro run` re-records every instance it runs or finds cached".to_owned()
        })
    }
}

/// Where one block of the text lies: `[profile] id` then its lines up to `end`.
#[derive(Clone, Copy, Debug)]
struct Block {
    /// The profile is `text[profile..id - 2]` (the `] ` between them).
    profile: usize,
    /// Start of the instance id.
    id: usize,
    /// End of the instance id (and of the header line's text).
    id_end: usize,
    /// End of the block's last line.
    end: usize,
}

impl Block {
    fn profile<'t>(&self, text: &'t str) -> &'t str {
        &text[self.profile..self.id - 2]
    }

    fn id<'t>(&self, text: &'t str) -> &'t str {
        &text[self.id..self.id_end]
    }
}

/// One line of the lock, checked.
enum Line<'t> {
    /// A comment or blank line.
    Skip,
    /// `[profile] instance`.
    Head { profile: &'t str, id: &'t str },
    /// `key DIGEST`.
    Key(&'t str),
    /// `skey DIGEST`.
    Skey(&'t str),
    /// `out PATH TAGGED`.
    Out(&'t str, &'t str),
    /// `metric FILE#FIELD VALUE`.
    Metric(&'t str, f64),
}

impl<'t> Line<'t> {
    /// Reads one line (without its line ending), or says what is wrong with it.
    fn read(line: &'t str) -> Result<Line<'t>, String> {
        if line.starts_with('#') || line.trim().is_empty() {
            return Ok(Line::Skip);
        }
        if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
            .iter()
            .any(|m| line.starts_with(m))
        {
            return Err(CONFLICT.to_owned());
        }
        if let Some(rest) = line.strip_prefix('[') {
            let (profile, id) = rest
                .split_once("] ")
                .ok_or("expected `[profile] instance`")?;
            return Ok(Line::Head { profile, id });
        }
        let (field, rest) = line.split_once(' ').unwrap_or((line, ""));
        let digest = |d: &'t str| {
            if is_digest(d) {
                Ok(d)
            } else {
                Err(format!("{field} `{}` is not a digest", d.escape_debug()))
            }
        };
        match field {
            "key" => Ok(Line::Key(digest(rest)?)),
            "skey" => Ok(Line::Skey(digest(rest)?)),
            "out" => {
                let (path, d) = rest.rsplit_once(' ').ok_or("expected `out PATH DIGEST`")?;
                Tagged::parse_checked(d)?;
                Ok(Line::Out(path, d))
            }
            "metric" => {
                let (name, value) = rest
                    .rsplit_once(' ')
                    .ok_or("expected `metric FILE#FIELD VALUE`")?;
                let value: f64 = value
                    .parse()
                    .map_err(|_| format!("metric value `{value}` is not a number"))?;
                Ok(Line::Metric(name, value))
            }
            _ => Err(format!("unexpected line `{line}`")),
        }
    }

    /// The field's name, for "outside an entry".
    fn field(&self) -> &'static str {
        match self {
            Line::Key(_) => "key",
            Line::Skey(_) => "skey",
            Line::Out(..) => "out",
            Line::Metric(..) => "metric",
            Line::Skip | Line::Head { .. } => "",
        }
    }
}

/// The lines of `text` with the offset where each ends, as `str::lines` cuts them (a `\r`
/// before the `\n` is not part of the line).
fn lines_at(text: &str, from: usize) -> impl Iterator<Item = (usize, &str)> + '_ {
    let mut at = from;
    text[from..].split_inclusive('\n').map(move |seg| {
        let start = at;
        at += seg.len();
        let line = seg.strip_suffix('\n').unwrap_or(seg);
        let line = line.strip_suffix('\r').unwrap_or(line);
        (start, line)
    })
}

impl std::fmt::Debug for LockFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries().map(|(p, id, e)| ((p, id), e)))
            .finish()
    }
}

impl PartialEq for LockFile {
    fn eq(&self, other: &Self) -> bool {
        self.entries().eq(other.entries())
    }
}

impl LockFile {
    /// The entry of `id` under `profile`.
    pub fn get(&self, profile: &str, id: &str) -> Option<Cow<'_, LockEntry>> {
        if let Some(e) = self.added.get(profile).and_then(|m| m.get(id)) {
            return Some(Cow::Borrowed(e));
        }
        let text = self.text.as_str();
        let index = self.index.get_or_init(|| {
            let hasher = hashbrown::DefaultHashBuilder::default();
            let hash = |b: &Block| Index::hash_with(&hasher, b.profile(text), b.id(text));
            let mut table = hashbrown::HashTable::with_capacity(self.blocks.len());
            for (at, b) in self.blocks.iter().enumerate() {
                // The blocks are unique by (profile, id) (`parse` keeps one of each).
                table.insert_unique(hash(b), at as u32, |&other| {
                    hash(&self.blocks[other as usize])
                });
            }
            Index { table, hasher }
        });
        let at = *index.table.find(index.hash(profile, id), |&at| {
            let b = &self.blocks[at as usize];
            b.id(text) == id && b.profile(text) == profile
        })?;
        Some(Cow::Owned(self.entry_of(&self.blocks[at as usize])))
    }

    /// Records (or replaces) the entry of `id` under `profile`.
    pub fn insert(&mut self, profile: &str, id: &str, entry: LockEntry) {
        self.added
            .entry(profile.to_owned())
            .or_default()
            .insert(id.to_owned(), entry);
        self.outputs = std::sync::OnceLock::new();
    }

    /// Every entry, of every profile, as (profile, instance id, entry), sorted.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, Cow<'_, LockEntry>)> + '_ {
        let text = self.text.as_str();
        let mut read = self
            .blocks
            .iter()
            .map(move |b| (b.profile(text), b.id(text), b))
            .peekable();
        let mut added = self
            .added
            .iter()
            .flat_map(|(p, m)| m.iter().map(move |(id, e)| (p.as_str(), id.as_str(), e)))
            .peekable();
        std::iter::from_fn(move || {
            let take_added = match (read.peek(), added.peek()) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(&(rp, rid, _)), Some(&(ap, aid, _))) => {
                    if (rp, rid) == (ap, aid) {
                        // Recorded since reading: replaces the block.
                        read.next();
                    }
                    (ap, aid) <= (rp, rid)
                }
            };
            if take_added {
                added.next().map(|(p, id, e)| (p, id, Cow::Borrowed(e)))
            } else {
                read.next()
                    .map(|(p, id, b)| (p, id, Cow::Owned(self.entry_of(b))))
            }
        })
    }

    /// The profiles other than `except` whose entries record `path` with the digest `tagged`,
    /// sorted: whose result a workspace output holds when it is not this profile's.
    pub fn profiles_with_output(&self, path: &str, tagged: &str, except: &str) -> Vec<String> {
        let index = self.outputs.get_or_init(|| {
            let mut index: std::collections::HashMap<String, Vec<String>> =
                std::collections::HashMap::new();
            for (p, _, e) in self.entries() {
                for (o, d) in &e.outs {
                    let profiles = index.entry(format!("{o} {d}")).or_default();
                    if profiles.last().map(String::as_str) != Some(p) {
                        profiles.push(p.to_owned());
                    }
                }
            }
            index
        });
        index
            .get(&format!("{path} {tagged}"))
            .map(|ps| ps.iter().filter(|p| *p != except).cloned().collect())
            .unwrap_or_default()
    }

    /// Every key that some entry, of any profile, names: what `gc` keeps.
    pub fn keys(&self) -> std::collections::BTreeSet<String> {
        self.entries().map(|(_, _, e)| e.into_owned().key).collect()
    }

    /// The entry a block of the text holds (the text was checked when read).
    fn entry_of(&self, b: &Block) -> LockEntry {
        let mut e = LockEntry {
            key: String::new(),
            outs: BTreeMap::new(),
            metrics: BTreeMap::new(),
            skey: String::new(),
        };
        for (_, line) in lines_at(&self.text[..b.end], b.id_end) {
            match Line::read(line) {
                Ok(Line::Key(k)) => e.key = k.to_owned(),
                Ok(Line::Skey(k)) => e.skey = k.to_owned(),
                Ok(Line::Out(path, d)) => {
                    e.outs.insert(path.to_owned(), d.to_owned());
                }
                Ok(Line::Metric(name, v)) => {
                    e.metrics.insert(name.to_owned(), v);
                }
                Ok(Line::Skip | Line::Head { .. }) | Err(_) => {}
            }
        }
        e
    }

    /// Reads the file; a missing file is an empty lock.
    pub fn read(path: &Path) -> Result<LockFile, LockError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LockFile::default()),
            Err(e) => {
                return Err(LockError {
                    path: path.display().to_string(),
                    line: 0,
                    message: e.to_string(),
                })
            }
        };
        Self::parse(text).map_err(|(line, message)| LockError {
            path: path.display().to_string(),
            line,
            message,
        })
    }

    /// Parses lock text read from elsewhere (`git show REV:repro.lock`); `name` stands for the
    /// file in messages (`HEAD:repro.lock`).
    pub fn parse_named(text: &str, name: &str) -> Result<LockFile, LockError> {
        Self::parse(text.to_owned()).map_err(|(line, message)| LockError {
            path: name.to_owned(),
            line,
            message,
        })
    }

    /// Checks every line of `text` and indexes its blocks; the entries are built on demand.
    fn parse(text: String) -> Result<LockFile, (usize, String)> {
        let mut blocks: Vec<Block> = Vec::new();
        let mut open = false;
        for (n, (start, line)) in lines_at(&text, 0).enumerate() {
            let n = n + 1;
            let read = Line::read(line).map_err(|m| (n, m))?;
            match read {
                Line::Skip => {}
                Line::Head { profile, id } => {
                    let profile_at = start + 1;
                    let id_at = profile_at + profile.len() + 2;
                    blocks.push(Block {
                        profile: profile_at,
                        id: id_at,
                        id_end: id_at + id.len(),
                        end: start + line.len(),
                    });
                    open = true;
                }
                other if !open => {
                    return Err((n, format!("`{}` outside an entry", other.field())));
                }
                _ => {
                    if let Some(b) = blocks.last_mut() {
                        b.end = start + line.len();
                    }
                }
            }
        }
        let t = text.as_str();
        // Stable: of two blocks of one instance the later stays after the earlier, and is kept.
        blocks.sort_by(|a, b| (a.profile(t), a.id(t)).cmp(&(b.profile(t), b.id(t))));
        let mut kept: Vec<Block> = Vec::with_capacity(blocks.len());
        for b in blocks {
            match kept.last_mut() {
                Some(last) if (last.profile(t), last.id(t)) == (b.profile(t), b.id(t)) => *last = b,
                _ => kept.push(b),
            }
        }
        Ok(LockFile {
            text,
            blocks: kept,
            added: BTreeMap::new(),
            outputs: std::sync::OnceLock::new(),
            index: std::sync::OnceLock::new(),
        })
    }

    /// The canonical text.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut text = String::with_capacity(self.text.len());
        text.push_str(HEADER);
        text.push('\n');
        for (profile, id, e) in self.entries() {
            let _ = write!(text, "\n[{profile}] {id}\nkey {}\n", e.key);
            if !e.skey.is_empty() {
                let _ = writeln!(text, "skey {}", e.skey);
            }
            for (p, d) in &e.outs {
                let _ = writeln!(text, "out {p} {d}");
            }
            for (m, v) in &e.metrics {
                let _ = writeln!(text, "metric {m} {v}");
            }
        }
        text
    }

    /// Writes the file atomically if its text changed.
    /// The text is parsed back first: the writer never writes what the reader would reject
    /// (the loader keeps such values out; this is the last guard).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let text = self.render();
        match Self::parse(text.clone()) {
            Ok(back) if back.render() == text => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "refusing to write a lock file that reads back differently",
                ))
            }
            Err((line, message)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "refusing to write a lock file that cannot be read back (line {line}: {message})"
                    ),
                ))
            }
        }
        if fs::read_to_string(path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        crate::cache::atomic::write(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hash_bytes;

    #[test]
    fn names_that_are_not_digests_are_refused_with_their_line() {
        let good = hash_bytes(b"k");
        for (text, line) in [
            (
                format!("[p] a\nkey {good}\nout o file:../../../tmp/x/victim\n"),
                3,
            ),
            (
                format!("[p] a\nkey {good}\nout o dir:../../../dev/zero\n"),
                3,
            ),
            ("[p] a\nkey ../x\n".to_owned(), 2),
        ] {
            assert_eq!(LockFile::parse(text.clone()).unwrap_err().0, line, "{text}");
        }
    }

    #[test]
    fn renders_sorted_and_round_trips() {
        let mut lock = LockFile::default();
        for id in ["train@seed=2", "gen@seed=1"] {
            lock.insert(
                "quick",
                id,
                LockEntry {
                    key: hash_bytes(format!("k-{id}").as_bytes()),
                    outs: BTreeMap::from([("a b/c".into(), format!("file:{}", hash_bytes(b"x")))]),
                    metrics: BTreeMap::from([("a b/c/m.json#acc".into(), 0.125)]),
                    skey: hash_bytes(format!("s-{id}").as_bytes()),
                },
            );
        }
        let text = lock.render();
        assert!(text.find("gen@seed=1").unwrap() < text.find("train@seed=2").unwrap());
        assert_eq!(LockFile::parse(text).unwrap(), lock);
        assert_eq!(LockFile::parse("[x] y\nbogus\n".into()).unwrap_err().0, 2);
    }

    #[test]
    fn a_read_lock_answers_from_its_text_and_recorded_entries_replace_its_blocks() {
        let (k1, k2, k3) = (hash_bytes(b"1"), hash_bytes(b"2"), hash_bytes(b"3"));
        let d = format!("file:{}", hash_bytes(b"x"));
        // Out of order, a block repeated (the later is kept, as a map of the blocks kept it),
        // CRLF line ends, a metric.
        let text = format!(
            "{HEADER}\r\n\r\n[q] b\r\nkey {k1}\r\nout o/b {d}\r\n\r\n[q] a\nkey {k1}\nmetric o/a#m 0.5\n\n[q] b\nkey {k2}\nskey {k2}\nout o/b {d}\n"
        );
        let mut lock = LockFile::parse(text).unwrap();
        assert_eq!(lock.get("q", "a").unwrap().metrics["o/a#m"], 0.5);
        let b = lock.get("q", "b").unwrap();
        assert_eq!(
            (b.key.as_str(), b.skey.as_str()),
            (k2.as_str(), k2.as_str())
        );
        assert_eq!(b.outs["o/b"], d);
        assert!(lock.get("q", "c").is_none() && lock.get("p", "a").is_none());
        let order = |l: &LockFile| -> Vec<String> {
            l.entries()
                .map(|(p, id, e)| format!("{p} {id} {}", &e.key[..4]))
                .collect()
        };
        assert_eq!(
            order(&lock),
            [format!("q a {}", &k1[..4]), format!("q b {}", &k2[..4])]
        );
        let entry = |key: &str| LockEntry {
            key: key.to_owned(),
            outs: BTreeMap::new(),
            metrics: BTreeMap::new(),
            skey: String::new(),
        };
        lock.insert("q", "b", entry(&k3));
        lock.insert("q", "aa", entry(&k3));
        lock.insert("p", "z", entry(&k3));
        assert_eq!(
            lock.get("q", "b").unwrap().key,
            k3,
            "the recorded entry wins"
        );
        assert_eq!(
            order(&lock),
            [
                format!("p z {}", &k3[..4]),
                format!("q a {}", &k1[..4]),
                format!("q aa {}", &k3[..4]),
                format!("q b {}", &k3[..4]),
            ]
        );
        assert_eq!(LockFile::parse(lock.render()).unwrap(), lock);
    }

    #[test]
    fn the_profiles_holding_an_output_come_from_the_text_and_from_what_was_recorded_since() {
        let (k, d1, d2) = (
            hash_bytes(b"k"),
            format!("file:{}", hash_bytes(b"1")),
            format!("file:{}", hash_bytes(b"2")),
        );
        let text = format!(
            "[a] x\nkey {k}\nout o p {d1}\n\n[b] x\nkey {k}\nout o p {d1}\n\n[c] x\nkey {k}\nout o p {d2}\n"
        );
        let mut lock = LockFile::parse(text).unwrap();
        assert_eq!(lock.profiles_with_output("o p", &d1, "c"), ["a", "b"]);
        assert_eq!(lock.profiles_with_output("o p", &d1, "a"), ["b"]);
        assert_eq!(lock.profiles_with_output("o p", &d2, "a"), ["c"]);
        assert!(lock.profiles_with_output("o", &d1, "z").is_empty());
        // A recorded entry replaces its block's answer (the index is rebuilt).
        lock.insert(
            "b",
            "x",
            LockEntry {
                key: k.clone(),
                outs: BTreeMap::from([("o p".to_owned(), d2.clone())]),
                metrics: BTreeMap::new(),
                skey: String::new(),
            },
        );
        assert_eq!(lock.profiles_with_output("o p", &d1, "z"), ["a"]);
        assert_eq!(lock.profiles_with_output("o p", &d2, "z"), ["b", "c"]);
    }

    #[test]
    fn the_writer_refuses_what_the_reader_would_reject() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = LockFile::default();
        lock.insert(
            "quick",
            "a\nkey x",
            LockEntry {
                key: hash_bytes(b"k"),
                outs: BTreeMap::new(),
                metrics: BTreeMap::new(),
                skey: String::new(),
            },
        );
        let path = dir.path().join("repro.lock");
        assert!(lock.write(&path).is_err());
        assert!(!path.exists(), "nothing is written");
    }

    #[test]
    fn conflict_markers_are_named_with_their_line() {
        let text = format!(
            "[x] y\nkey {}\n<<<<<<< HEAD\nout p file:00\n=======\n",
            hash_bytes(b"k")
        );
        assert_eq!(LockFile::parse(text).unwrap_err(), (3, CONFLICT.to_owned()));
    }
}
