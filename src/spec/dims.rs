//! [`Dims`]: the dimension values of one instance (`task=listops`, `seed=1`), sorted by
//! dimension name.
//!
//! A map in meaning, a sorted vector in memory: an instance has a handful of dimensions, and a
//! wide pipeline holds tens of thousands of instances; a `BTreeMap` spends a 544-byte node on
//! each of them however few its entries, the vector 48 bytes per dimension.

use std::collections::BTreeMap;

/// Dimension name to value, sorted by name, each name once.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dims(Vec<(String, String)>);

impl Dims {
    /// No dimensions (a stage without a matrix).
    pub fn new() -> Dims {
        Dims(Vec::new())
    }

    fn find(&self, dim: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(d, _)| d.as_str().cmp(dim))
    }

    /// The value of `dim`.
    pub fn get(&self, dim: &str) -> Option<&String> {
        self.find(dim).ok().map(|i| &self.0[i].1)
    }

    /// Whether `dim` is a dimension.
    pub fn contains_key(&self, dim: &str) -> bool {
        self.find(dim).is_ok()
    }

    /// Sets `dim` to `value`, returning the value it replaces.
    pub fn insert(&mut self, dim: String, value: String) -> Option<String> {
        match self.find(&dim) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (dim, value));
                None
            }
        }
    }

    /// (dimension, value) pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> + '_ {
        self.0.iter().map(|(d, v)| (d, v))
    }

    /// Dimension names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(d, _)| d)
    }

    /// Whether there are no dimensions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of dimensions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The same pairs as a map (for serialising and for callers that keep maps).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

impl std::ops::Index<&str> for Dims {
    type Output = String;

    /// The value of a dimension that must exist (as `BTreeMap`'s index, it panics otherwise;
    /// used only in tests and where the dimension was just checked).
    fn index(&self, dim: &str) -> &String {
        match self.get(dim) {
            Some(v) => v,
            None => panic!("no dimension `{dim}`"),
        }
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
        Dims(map.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Dims {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(d, v)| (d, v))
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
            map.iter().collect::<Vec<_>>()
        );
        assert_eq!(dims.to_map(), map);
        assert_eq!(Dims::from(map.clone()), dims);
        assert_eq!(dims.get("seed").map(String::as_str), Some("2"));
        assert!(dims.contains_key("act") && !dims.contains_key("lr"));
        assert_eq!(dims.len(), 3);
        assert_eq!(
            serde_json::to_string(&dims).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let mut d = dims.clone();
        assert_eq!(d.insert("lr".into(), "0.1".into()), None);
        assert_eq!(d.insert("lr".into(), "0.2".into()), Some("0.1".into()));
        assert_eq!(
            d.keys().map(String::as_str).collect::<Vec<_>>(),
            ["act", "lr", "seed", "task"]
        );
        // Ordered as the maps were: by the sorted pairs.
        let other: Dims = [("act".to_owned(), "tanh".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(dims < other, map < other.to_map());
    }
}
