//! `${...}` interpolation in commands, deps, outs and env values.
//!
//! A template may name a matrix dimension (`${task}`) or a parameter (`${params.lr}`,
//! `${params.lr.listops}` for nested mappings). References nest and resolve inside out, so
//! `${params.lr.${task}}` first becomes `${params.lr.listops}`. `$$` writes a literal `$`.
//! Every parameter path that a template reads is reported back, so that exactly those values
//! enter the instance's cache key.

use std::collections::BTreeMap;

use serde_json::Value;

/// What a template may refer to.
pub struct Scope<'a> {
    /// Matrix dimension values of the instance.
    pub matrix: &'a BTreeMap<String, String>,
    /// All parameters, after the profile is applied.
    pub params: &'a BTreeMap<String, Value>,
}

/// Why a template could not be resolved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterpError {
    /// `${name}` names neither a dimension nor `params.*`.
    #[error("undefined variable `{name}` (defined here: {available})")]
    Undefined {
        /// The name as written after inner references resolved.
        name: String,
        /// Names that are defined, comma-separated.
        available: String,
    },
    /// `${params.x}` is a list or a mapping, not a scalar.
    #[error("parameter `{0}` is not a scalar and cannot be interpolated")]
    NotScalar(String),
    /// An unterminated `${`.
    #[error("unterminated `${{` in `{0}`")]
    Unterminated(String),
}

/// Looks up `params.a.b` in a parameter tree.
pub fn lookup<'v>(params: &'v BTreeMap<String, Value>, path: &str) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut cur = params.get(parts.next()?)?;
    for part in parts {
        cur = cur.as_object()?.get(part)?;
    }
    Some(cur)
}

/// The string form of a scalar value (`1.0`, `true`, `abc`), or `None` for lists and maps.
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Resolves `template`; returns the text and the parameter paths read (without `params.`).
pub fn interpolate(
    template: &str,
    scope: &Scope<'_>,
) -> Result<(String, Vec<String>), InterpError> {
    let mut used = Vec::new();
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    let out = expand(&chars, &mut i, false, scope, &mut used, template)?;
    Ok((out, used))
}

fn expand(
    chars: &[char],
    i: &mut usize,
    inside: bool,
    scope: &Scope<'_>,
    used: &mut Vec<String>,
    whole: &str,
) -> Result<String, InterpError> {
    let mut out = String::new();
    while *i < chars.len() {
        let c = chars[*i];
        if c == '$' && chars.get(*i + 1) == Some(&'$') {
            out.push('$');
            *i += 2;
        } else if c == '$' && chars.get(*i + 1) == Some(&'{') {
            *i += 2;
            let name = expand(chars, i, true, scope, used, whole)?;
            out.push_str(&resolve(name.trim(), scope, used)?);
        } else if c == '}' && inside {
            *i += 1;
            return Ok(out);
        } else {
            out.push(c);
            *i += 1;
        }
    }
    if inside {
        return Err(InterpError::Unterminated(whole.to_owned()));
    }
    Ok(out)
}

fn resolve(name: &str, scope: &Scope<'_>, used: &mut Vec<String>) -> Result<String, InterpError> {
    if let Some(path) = name.strip_prefix("params.") {
        let value = lookup(scope.params, path).ok_or_else(|| undefined(name, scope))?;
        let text = scalar_string(value).ok_or_else(|| InterpError::NotScalar(path.to_owned()))?;
        if !used.iter().any(|u| u == path) {
            used.push(path.to_owned());
        }
        return Ok(text);
    }
    scope
        .matrix
        .get(name)
        .cloned()
        .ok_or_else(|| undefined(name, scope))
}

fn undefined(name: &str, scope: &Scope<'_>) -> InterpError {
    let mut available: Vec<String> = scope.matrix.keys().cloned().collect();
    available.extend(scope.params.keys().map(|k| format!("params.{k}")));
    InterpError::Undefined {
        name: name.to_owned(),
        available: if available.is_empty() {
            "nothing".to_owned()
        } else {
            available.join(", ")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope_fixture() -> (BTreeMap<String, String>, BTreeMap<String, Value>) {
        let matrix = BTreeMap::from([("task".to_owned(), "listops".to_owned())]);
        let params = serde_json::from_value(
            json!({"lr": {"listops": 1.0, "parity": 0.1}, "n": 5, "seeds": [1, 2]}),
        )
        .unwrap();
        (matrix, params)
    }

    #[test]
    fn nested_references_resolve_inside_out_and_record_params() {
        let (m, p) = scope_fixture();
        let scope = Scope {
            matrix: &m,
            params: &p,
        };
        let (text, used) =
            interpolate("--lr=${params.lr.${task}} n=${params.n} $${x}", &scope).unwrap();
        assert_eq!(text, "--lr=1.0 n=5 ${x}");
        assert_eq!(used, vec!["lr.listops".to_owned(), "n".to_owned()]);
    }

    #[test]
    fn undefined_names_and_lists_are_errors() {
        let (m, p) = scope_fixture();
        let scope = Scope {
            matrix: &m,
            params: &p,
        };
        let err = interpolate("${seed}", &scope).unwrap_err();
        assert!(
            matches!(err, InterpError::Undefined { ref name, .. } if name == "seed"),
            "{err}"
        );
        assert!(err.to_string().contains("task"));
        assert_eq!(
            interpolate("${params.seeds}", &scope).unwrap_err(),
            InterpError::NotScalar("seeds".into())
        );
        assert!(matches!(
            interpolate("${task", &scope),
            Err(InterpError::Unterminated(_))
        ));
    }
}
