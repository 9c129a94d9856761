//! A stage's `priority`: which of its instances start first when several wait for slots.
//! A whole number, or a template over the parameters and the stage's dimensions
//! (`"${params.priority.${variant}}"`), resolved per instance by [`value`]. Scheduling only: it
//! is never part of a key.

use serde_json::Value;

/// The priority of a stage that declares none.
pub(crate) const DEFAULT: i64 = 0;

/// The largest magnitude accepted.
pub(crate) const LIMIT: i64 = 1_000_000;

/// The `priority` template of a stage, checked at once when it holds no `${...}`.
pub(crate) fn check(v: Option<&Value>) -> Result<String, String> {
    let text = match v {
        None => return Ok(DEFAULT.to_string()),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => {
            return Err(format!(
                "`priority` must be a whole number or a `${{params.…}}` template, found `{other}`"
            ))
        }
    };
    if !text.contains("${") {
        value(&text)?;
    }
    Ok(text)
}

/// A resolved `priority`: a whole number in `-LIMIT..=LIMIT`.
pub(crate) fn value(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(p) if (-LIMIT..=LIMIT).contains(&p) => Ok(p),
        _ => Err(format!(
            "`priority` must be a whole number between -{LIMIT} and {LIMIT}, found `{}`",
            super::rules::shown(text)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_templates_pass_and_the_rest_is_refused() {
        assert_eq!(check(None).unwrap(), "0");
        assert_eq!(check(Some(&Value::from(-3))).unwrap(), "-3");
        assert_eq!(
            check(Some(&Value::from("${params.p.${variant}}"))).unwrap(),
            "${params.p.${variant}}"
        );
        assert!(check(Some(&Value::from(1.5))).is_err());
        assert!(check(Some(&Value::from("high"))).is_err());
        assert!(check(Some(&Value::Bool(true))).is_err());
        assert_eq!(value(" 7 "), Ok(7));
        assert!(value("2000000")
            .unwrap_err()
            .contains("between -1000000 and 1000000"));
        // A parameter with a newline is shown escaped, on one line.
        assert!(value("1\n2").unwrap_err().contains("found `1\\n2`"));
    }
}
