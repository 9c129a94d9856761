//! `${...}` interpolation in commands, deps, outs and env values.
//!
//! A template may name a matrix dimension (`${task}`) or a parameter (`${params.lr}`,
//! `${params.lr.listops}` for nested mappings). References nest and resolve inside out, so
//! `${params.lr.${task}}` first becomes `${params.lr.listops}`. `$$` writes a literal `$`.
//! Every parameter path that a template reads is reported back, so that exactly those values
//! enter the instance's cache key.
//!
//! Limits: references nest at most [`MAX_NESTING`] deep (resolution recurses once per level)
//! and a resolved value may be at most [`MAX_VALUE_BYTES`] long; templates quoted in errors
//! are cut short.

use std::collections::BTreeMap;

use serde_json::Value;

use super::rules::{is_shell_safe, prefix, shown, MAX_NESTING, MAX_VALUE_BYTES};

/// What a template may refer to.
pub struct Scope<'a> {
    /// Matrix dimension values of the instance.
    pub matrix: &'a super::Dims,
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
        /// The closest defined name, if one is close.
        suggestion: Option<String>,
    },
    /// `${params.a.b}` names no parameter: `a` is undefined, or has no key `b`.
    #[error("{0}")]
    MissingParam(MissingParam),
    /// `${params.x}` is a list or a mapping, not a scalar.
    #[error("parameter `{0}` is not a scalar and cannot be interpolated")]
    NotScalar(String),
    /// An unterminated `${`.
    #[error("unterminated `${{` in `{0}`")]
    Unterminated(String),
    /// `${` nested deeper than [`MAX_NESTING`].
    #[error("`${{` nested deeper than {MAX_NESTING} levels in `{0}`")]
    TooDeep(String),
    /// The resolved text is longer than [`MAX_VALUE_BYTES`].
    #[error("the resolved value is longer than {kib} KiB (the limit of one argument) in `{0}`", kib = MAX_VALUE_BYTES / 1024)]
    TooLong(String),
    /// A value substituted into a `shell: true` command holds a character outside the safe
    /// set ([`is_shell_safe`]).
    #[error("value `{value}` of `${{{name}}}` contains `{ch}`, which the shell would interpret; a `shell: true` command refuses it")]
    ShellUnsafe {
        /// The reference, as resolved (`params.msg`, `task`).
        name: String,
        /// The value, control characters escaped.
        value: String,
        /// The first refused character, escaped when it is a control character.
        ch: String,
    },
}

/// Why a dotted parameter path names nothing, in words that point at the wrong part.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingParam {
    /// `undefined parameter `x` (defined: ...)` or `parameter `lr` has no key `c` (its keys:
    /// ...)`.
    pub message: String,
    /// The closest path that does exist at the level that failed (`lr.listops`), if close.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for MissingParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Looks up `params.a.b` like [`lookup`], explaining a failure: the first part that names
/// nothing, with the names that exist at that level.
pub fn lookup_explained<'v>(
    params: &'v BTreeMap<String, Value>,
    path: &str,
) -> Result<&'v Value, MissingParam> {
    use super::suggest::{closest, listed};
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or_default();
    let Some(mut cur) = params.get(first) else {
        let names = params.keys().map(String::as_str);
        return Err(MissingParam {
            message: format!(
                "undefined parameter `{path}` (defined: {})",
                listed(names.clone())
            ),
            suggestion: closest(first, names).map(str::to_owned),
        });
    };
    let mut done = first.to_owned();
    for part in parts {
        let next = match cur {
            Value::Object(map) => match map.get(part) {
                Some(v) => v,
                None => {
                    let keys = map.keys().map(String::as_str);
                    return Err(MissingParam {
                        message: format!(
                            "parameter `{done}` has no key `{part}` (its keys: {})",
                            listed(keys.clone())
                        ),
                        suggestion: closest(part, keys).map(|k| format!("{done}.{k}")),
                    });
                }
            },
            other => {
                return Err(MissingParam {
                    message: format!(
                        "parameter `{done}` is {}, not a mapping with key `{part}`",
                        kind_of(other)
                    ),
                    suggestion: None,
                })
            }
        };
        cur = next;
        done.push('.');
        done.push_str(part);
    }
    Ok(cur)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
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
    run(template, scope, false)
}

/// Like [`interpolate`], for the command line of a `shell: true` stage: every value that
/// lands in the text (not the inner names of nested references) must consist of characters
/// that [`is_shell_safe`] accepts, so that no value can quote, expand or run anything.
pub fn interpolate_shell(
    template: &str,
    scope: &Scope<'_>,
) -> Result<(String, Vec<String>), InterpError> {
    run(template, scope, true)
}

fn run(
    template: &str,
    scope: &Scope<'_>,
    shell: bool,
) -> Result<(String, Vec<String>), InterpError> {
    let mut ex = Expander {
        chars: template.chars().collect(),
        i: 0,
        scope,
        used: Vec::new(),
        whole: template,
        shell,
    };
    let out = ex.expand(0)?;
    Ok((out, ex.used))
}

struct Expander<'a, 's> {
    chars: Vec<char>,
    i: usize,
    scope: &'a Scope<'s>,
    used: Vec<String>,
    whole: &'a str,
    shell: bool,
}

impl Expander<'_, '_> {
    /// Expands from the cursor; `depth` is the number of enclosing `${` (0: the top level).
    /// Recursion is bounded by [`MAX_NESTING`].
    fn expand(&mut self, depth: usize) -> Result<String, InterpError> {
        let mut out = String::new();
        while self.i < self.chars.len() {
            let c = self.chars[self.i];
            if c == '$' && self.chars.get(self.i + 1) == Some(&'$') {
                out.push('$');
                self.i += 2;
            } else if c == '$' && self.chars.get(self.i + 1) == Some(&'{') {
                if depth == MAX_NESTING {
                    return Err(InterpError::TooDeep(prefix(self.whole, 60)));
                }
                self.i += 2;
                let name = self.expand(depth + 1)?;
                let name = name.trim();
                let value = resolve(name, self.scope, &mut self.used)?;
                if self.shell && depth == 0 {
                    if let Some(bad) = value.chars().find(|&c| !is_shell_safe(c)) {
                        return Err(InterpError::ShellUnsafe {
                            name: shown(name),
                            value: shown(&value),
                            ch: shown(&bad.to_string()),
                        });
                    }
                }
                out.push_str(&value);
            } else if c == '}' && depth > 0 {
                self.i += 1;
                return Ok(out);
            } else {
                out.push(c);
                self.i += 1;
            }
            if out.len() > MAX_VALUE_BYTES {
                return Err(InterpError::TooLong(prefix(self.whole, 60)));
            }
        }
        if depth > 0 {
            return Err(InterpError::Unterminated(prefix(self.whole, 200)));
        }
        Ok(out)
    }
}

fn resolve(name: &str, scope: &Scope<'_>, used: &mut Vec<String>) -> Result<String, InterpError> {
    if let Some(path) = name.strip_prefix("params.") {
        let value = lookup_explained(scope.params, path).map_err(InterpError::MissingParam)?;
        let text = scalar_string(value).ok_or_else(|| InterpError::NotScalar(path.to_owned()))?;
        if !used.iter().any(|u| u == path) {
            used.push(path.to_owned());
        }
        return Ok(text);
    }
    scope
        .matrix
        .get(name)
        .map(str::to_owned)
        .ok_or_else(|| undefined(name, scope))
}

fn undefined(name: &str, scope: &Scope<'_>) -> InterpError {
    let mut available: Vec<String> = scope.matrix.keys().map(str::to_owned).collect();
    available.extend(scope.params.keys().map(|k| format!("params.{k}")));
    // `${seeds}` for `${params.seeds}`, or a typo of a dimension or a parameter.
    let bare = scope
        .matrix
        .keys()
        .chain(scope.params.keys().map(String::as_str));
    let suggestion = if scope.params.contains_key(name) {
        Some(format!("params.{name}"))
    } else {
        super::suggest::closest(name, bare).map(|c| {
            if scope.matrix.contains_key(c) {
                c.to_owned()
            } else {
                format!("params.{c}")
            }
        })
    };
    InterpError::Undefined {
        suggestion,
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

    fn scope_fixture() -> (crate::spec::Dims, BTreeMap<String, Value>) {
        let matrix =
            crate::spec::Dims::from(BTreeMap::from([("task".to_owned(), "listops".to_owned())]));
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

    #[test]
    fn nesting_is_limited_to_32_levels_without_recursing_further() {
        let (mut m, p) = scope_fixture();
        m.insert("t".to_owned(), "t".to_owned());
        let scope = Scope {
            matrix: &m,
            params: &p,
        };
        let nested = |n: usize| format!("{}t{}", "${".repeat(n), "}".repeat(n));
        assert_eq!(interpolate(&nested(32), &scope).unwrap().0, "t");
        assert!(matches!(
            interpolate(&nested(33), &scope),
            Err(InterpError::TooDeep(_))
        ));
        // Far past any stack: refused at level 33, unterminated or not.
        assert!(matches!(
            interpolate(&"${".repeat(1_000_000), &scope),
            Err(InterpError::TooDeep(_))
        ));
    }

    #[test]
    fn resolved_values_longer_than_128_kib_are_refused() {
        let (m, _) = scope_fixture();
        let p = BTreeMap::from([("x".to_owned(), Value::String("x".repeat(1024)))]);
        let scope = Scope {
            matrix: &m,
            params: &p,
        };
        assert!(interpolate(&"${params.x}".repeat(128), &scope).is_ok());
        assert!(matches!(
            interpolate(&"${params.x}".repeat(129), &scope),
            Err(InterpError::TooLong(_))
        ));
    }

    #[test]
    fn shell_templates_refuse_unsafe_values_but_not_inner_names() {
        let (mut m, p) = scope_fixture();
        m.insert("v".into(), "a'$(touch PWN)'b".into());
        let scope = Scope {
            matrix: &m,
            params: &p,
        };
        let err = interpolate_shell("echo '${v}'", &scope).unwrap_err();
        assert_eq!(
            err,
            InterpError::ShellUnsafe {
                name: "v".into(),
                value: "a'$(touch PWN)'b".into(),
                ch: "'".into()
            }
        );
        // The author's own text and safe values pass; the inner `${task}` is a name.
        let (text, _) =
            interpolate_shell("echo '$$HOME' ${params.lr.${task}} > x", &scope).unwrap();
        assert_eq!(text, "echo '$HOME' 1.0 > x");
        assert!(interpolate("echo '${v}'", &scope).is_ok());
    }
}
