//! Target selection: which instances a command line names.
//!
//! A target is `all`, an exact instance id, or a pattern `STAGE[@dim=value,...]` where the
//! stage and every value may be globs and the listed dimensions need only be a subset of the
//! instance's (`train@task=listops` selects every listops training run). A plain string that
//! matches nothing else is tried as a prefix of instance ids. A target that selects nothing
//! is explained by `nomatch`.

use super::dag::Graph;
use super::nomatch::{explain, NoMatch};

/// Indices of the instances named by `targets`, in topological order, without their upstream.
/// `skipped` (the stages the applied `profile` skips) only serve to explain a target that
/// selects nothing.
pub fn select(
    graph: &Graph,
    targets: &[String],
    skipped: &[String],
    profile: Option<&str>,
) -> Result<Vec<usize>, Box<NoMatch>> {
    let mut chosen = vec![false; graph.instances.len()];
    for t in targets {
        let mut any = false;
        for (i, inst) in graph.instances.iter().enumerate() {
            if matches(t, &inst.id, &inst.stage_name, &inst.matrix) {
                chosen[i] = true;
                any = true;
            }
        }
        if !any {
            return Err(Box::new(explain(graph, t, skipped, profile)));
        }
    }
    Ok(graph.order.iter().copied().filter(|&i| chosen[i]).collect())
}

pub(super) fn glob_eq(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern).map_or(pattern == text, |p| p.matches(text))
}

/// Whether target `t` selects the instance `id` of `stage` with dimension values `matrix`.
pub fn matches(t: &str, id: &str, stage: &str, matrix: &crate::spec::Dims) -> bool {
    if t == "all" || t == id {
        return true;
    }
    let (st, dims) = match t.split_once('@') {
        Some((s, d)) => (s, Some(d)),
        None => (t, None),
    };
    if glob_eq(st, stage) {
        let Some(dims) = dims else { return true };
        let ok = dims
            .split(',')
            .filter(|d| !d.is_empty())
            .all(|d| match d.split_once('=') {
                Some((k, v)) => matrix.get(k).is_some_and(|have| glob_eq(v, have)),
                None => false,
            });
        if ok {
            return true;
        }
    }
    id.starts_with(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn patterns_select_by_stage_subset_glob_and_prefix() {
        let m = crate::spec::Dims::from(BTreeMap::from([
            ("task".to_owned(), "listops".to_owned()),
            ("seed".to_owned(), "1".to_owned()),
        ]));
        let id = "train@seed=1,task=listops";
        assert!(matches("all", id, "train", &m));
        assert!(matches("train", id, "train", &m));
        assert!(matches("train@task=listops", id, "train", &m));
        assert!(matches("tr*@task=list*", id, "train", &m));
        assert!(matches("train@seed=1,task=listops", id, "train", &m));
        assert!(matches("train@seed=", id, "train", &m));
        assert!(!matches("train@task=parity", id, "train", &m));
        assert!(!matches("gen", id, "train", &m));
    }
}
