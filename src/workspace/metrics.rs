//! Reading the metrics a stage declares under `metrics:` from its JSON output files, for the
//! action record and the lock file (so that a run elsewhere can be compared within a
//! tolerance).

use std::collections::BTreeMap;
use std::path::Path;

use crate::graph::Metrics;

/// Reads the declared metric fields as `file#field` to number (booleans as 1/0). A missing or
/// non-JSON file, and a declared field that is absent or not a number (`null`, `"nan"`, a typo
/// in `fields:`), is a stage failure described by the returned text: a metric that cannot be
/// read must never let `verify --reference` pass with nothing compared.
pub(super) fn read_metrics(root: &Path, m: &Metrics) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for f in &m.files {
        let text = std::fs::read_to_string(root.join(f))
            .map_err(|e| format!("cannot read metrics file `{f}`: {e}"))?;
        let doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("metrics file `{f}` is not JSON: {e}"))?;
        for field in &m.fields {
            let mut cur = Some(&doc);
            for part in field.split('.') {
                cur = cur.and_then(|v| v.get(part));
            }
            match cur {
                Some(serde_json::Value::Number(n)) => {
                    out.insert(format!("{f}#{field}"), n.as_f64().unwrap_or(f64::NAN));
                }
                Some(serde_json::Value::Bool(b)) => {
                    out.insert(format!("{f}#{field}"), if *b { 1.0 } else { 0.0 });
                }
                None => return Err(format!("declared metric `{field}` is missing from `{f}`")),
                Some(other) => {
                    return Err(format!(
                        "declared metric `{field}` in `{f}` is not a number (found {other})"
                    ))
                }
            }
        }
    }
    Ok(out)
}
