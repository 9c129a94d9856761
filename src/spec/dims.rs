//! [`Dims`]: the dimension values of one instance (`task=listops`, `seed=1`), sorted by
//! dimension name.
//!
//! A map in meaning, a sorted vector of shared strings in memory: an instance has a handful of
//! dimensions, and a wide pipeline holds tens of thousands of instances. A `BTreeMap` of
//! `String`s spent a 544-byte node and an allocation per name and value on each of them; here
//! the names and values are shared with the stage's (the expansion clones `Arc`s), so an
//! instance's dimensions cost one 32-byte pair per dimension.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Dimension name to value, sorted by name, each name once.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dims(Vec<(Arc<str>, Arc<str>)>);

impl Dims {
    /// No dimensions (a stage without a matrix).
    pub fn new() -> Dims {
        Dims(Vec::new())
    }

    fn find(&self, dim: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(d, _)| (**d).cmp(dim))
    }

    /// The value of `dim`.
    pub fn get(&self, dim: &str) -> Option<&str> {
        self.find(dim).ok().map(|i| &*self.0[i].1)
    }

    /// Whether `dim` is a dimension.
    pub fn contains_key(&self, dim: &str) -> bool {
        self.find(dim).is_ok()
    }

    /// Sets `dim` to `value`, returning whether it replaced a value.
    pub fn insert(&mut self, dim: String, value: String) -> bool {
        self.insert_shared(dim.into(), value.into())
    }

    /// [`Self::insert`] of strings already shared (no copy).
    pub fn insert_shared(&mut self, dim: Arc<str>, value: Arc<str>) -> bool {
        match self.find(&dim) {
            Ok(i) => {
                self.0[i].1 = value;
                true
            }
            Err(i) => {
                self.0.insert(i, (dim, value));
                false
            }
        }
    }

    /// (dimension, value) pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(d, v)| (&**d, &**v))
    }

    /// Dimension names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(d, _)| &**d)
    }

    /// Whether there are no dimensions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These dimensions and one more (or `dim` set to `value`), sized exactly: the expansion
    /// builds every instance's dimensions this way.
    pub fn with(&self, dim: Arc<str>, value: Arc<str>) -> Dims {
        let mut v = Vec::with_capacity(self.0.len() + 1);
        v.extend(self.0.iter().cloned());
        let mut d = Dims(v);
        d.insert_shared(dim, value);
        d
    }

    /// The dimensions `keep` accepts, sharing their strings.
    pub fn only(&self, keep: impl Fn(&str) -> bool) -> Dims {
        Dims(self.0.iter().filter(|(d, _)| keep(d)).cloned().collect())
    }

    /// The same pairs as a map (for serialising and for callers that keep maps).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(d, v)| (d.to_owned(), v.to_owned()))
            .collect()
    }
}

impl FromIterator<(String, String)> for Dims {
    /// Later pairs replace earlier ones of the same dimension, as in a map.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Dims {
        let mut d = Dims::new();
        for (k, v) in pairs {
            d.insert(k, v);
        }
        d
    }
}

impl From<BTreeMap<String, String>> for Dims {
    fn from(map: BTreeMap<String, String>) -> Dims {
        // Already sorted and unique.
        Dims(map.into_iter().map(|(d, v)| (d.into(), v.into())).collect())
    }
}

impl<'a> IntoIterator for &'a Dims {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, Arc<str>)>,
        fn(&'a (Arc<str>, Arc<str>)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(d, v)| (&**d, &**v))
    }
}

impl serde::Serialize for Dims {
    /// As a map, the shape `BTreeMap` had.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_behave_as_the_sorted_map_they_replace() {
        let pairs = [("task", "b"), ("seed", "1"), ("act", "relu"), ("seed", "2")];
        let dims: Dims = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            dims.iter().collect::<Vec<_>>(),
            map.iter()
                .map(|(d, v)| (d.as_str(), v.as_str()))
                .collect::<Vec<_>>()
        );
        assert_eq!(dims.to_map(), map);
        assert_eq!(Dims::from(map.clone()), dims);
        assert_eq!(dims.get("seed"), Some("2"));
        assert!(dims.contains_key("act") && !dims.contains_key("lr"));
        assert_eq!(dims.keys().count(), 3);
        assert_eq!(
            serde_json::to_string(&dims).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let mut d = dims.clone();
        assert!(!d.insert("lr".into(), "0.1".into()), "a new dimension");
        assert!(d.insert("lr".into(), "0.2".into()), "a replaced value");
        assert_eq!(d.get("lr"), Some("0.2"));
        assert_eq!(d.keys().collect::<Vec<_>>(), ["act", "lr", "seed", "task"]);
        // `with` adds or replaces exactly as `insert` does, sharing the strings.
        let w = dims.with("lr".into(), "0.2".into());
        assert_eq!(w, d);
        assert_eq!(w.only(|k| k != "lr"), dims);
        // Ordered as the maps were: by the sorted pairs.
        let other: Dims = [("act".to_owned(), "tanh".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(dims < other, map < other.to_map());
    }
}
