//! A stage's `audit:` field: how `repro audit` checks its instances' results.
//!
//! - `always`: every instance is re-run from the pulled upstream (cheap stages: data
//!   generation, aggregation, tables);
//! - `sample`: instances enter the random sample that `repro audit --sample K` re-executes
//!   (expensive stages: training);
//! - `never`: only the digest and key checks apply (a stage that cannot run where audits run).
//!
//! The default is `sample`: a stage that says nothing stays checkable by chance, at no cost
//! unless `--sample` asks for re-executions, whereas `always` could make an audit re-run an
//! expensive stage by surprise and `never` would exempt it silently. The field says how results
//! are checked, not what is computed, so it enters no cache key.

/// How `repro audit` checks a stage's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditPolicy {
    /// Re-run every instance.
    Always,
    /// Eligible for the random sample.
    #[default]
    Sample,
    /// Digest and key checks only.
    Never,
}

impl AuditPolicy {
    /// The field's spelling in `pipeline.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditPolicy::Always => "always",
            AuditPolicy::Sample => "sample",
            AuditPolicy::Never => "never",
        }
    }
}

/// Parses a stage's `audit:` value (absent: [`AuditPolicy::default`]); the error names the
/// accepted values.
pub(crate) fn check(v: Option<&serde_json::Value>) -> Result<AuditPolicy, String> {
    match v {
        None => Ok(AuditPolicy::default()),
        Some(serde_json::Value::String(s)) if s == "always" => Ok(AuditPolicy::Always),
        Some(serde_json::Value::String(s)) if s == "sample" => Ok(AuditPolicy::Sample),
        Some(serde_json::Value::String(s)) if s == "never" => Ok(AuditPolicy::Never),
        Some(other) => Err(format!(
            "`audit` must be one of `always`, `sample`, `never`, found {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_values_parse_and_anything_else_is_named_in_the_error() {
        assert_eq!(check(None), Ok(AuditPolicy::Sample));
        let s = |t: &str| serde_json::Value::String(t.to_owned());
        assert_eq!(check(Some(&s("always"))), Ok(AuditPolicy::Always));
        assert_eq!(check(Some(&s("never"))), Ok(AuditPolicy::Never));
        let e = check(Some(&s("sometimes"))).unwrap_err();
        assert!(e.contains("\"sometimes\"") && e.contains("`always`"), "{e}");
        assert!(check(Some(&serde_json::json!(1))).is_err());
    }
}
