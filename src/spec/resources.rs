//! `resources:` of a stage (and of its `pack:`): what one job needs, checked at load.
//!
//! Locally `gpus` and `cpus` are slots of the run's budget; a batch executor turns all four
//! fields into its scheduler's request.

use super::error::{SpecError, SpecErrorKind};
use super::schema::ResourcesFile;

/// What one instance needs: slots locally, a request to a batch system.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Resources {
    /// GPUs (fractions pack onto one device).
    pub gpus: f64,
    /// CPU slots.
    pub cpus: u32,
    /// Memory in bytes, if declared (batch executors ask for it; the local one ignores it).
    pub mem: Option<u64>,
    /// Wall time, if declared (batch executors ask for it; the local one ignores it, while
    /// `timeout` is enforced everywhere).
    pub time: Option<std::time::Duration>,
}

/// Parses a `mem` request: a number with an optional binary unit `K`, `M`, `G` or `T` (an
/// optional trailing `B` or `iB` is accepted); a bare number is megabytes, as in Slurm.
pub fn parse_mem(v: &serde_json::Value) -> Result<u64, String> {
    let bad = || {
        format!(
            "`mem` must be a positive size such as `512M`, `4G` or `1.5T` (a bare number is megabytes), found {v}"
        )
    };
    let (num, scale) = match v {
        serde_json::Value::Number(n) => (n.as_f64().ok_or_else(bad)?, 1u64 << 20),
        serde_json::Value::String(text) => {
            let text = text.trim();
            let split = text
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(text.len());
            let (num, unit) = text.split_at(split);
            let unit = unit.trim().to_ascii_uppercase();
            let unit = unit
                .strip_suffix("IB")
                .or_else(|| unit.strip_suffix('B').filter(|u| !u.is_empty()))
                .unwrap_or(&unit);
            let scale = match unit {
                "" | "M" => 1u64 << 20,
                "K" => 1 << 10,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return Err(bad()),
            };
            (num.trim().parse::<f64>().map_err(|_| bad())?, scale)
        }
        _ => return Err(bad()),
    };
    let bytes = num * scale as f64;
    if !(bytes >= 1024.0 * 1024.0 && bytes.is_finite() && bytes < 1e18) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// Checks a `gpus` request: 0 (none), a fraction in (0, 1] that packs onto one device, or a
/// whole number of devices.
pub fn check_gpus(gpus: f64) -> Result<(), String> {
    if !(gpus >= 0.0 && gpus.is_finite()) || (gpus > 1.0 && gpus.fract() != 0.0) {
        return Err(format!(
            "`gpus` must be a fraction in (0, 1] or a whole number, found {gpus}"
        ));
    }
    Ok(())
}

/// What a duration may look like, for error messages.
pub const DURATION_FORMS: &str =
    "a positive duration such as `90s`, `30m`, `2h` or `1.5d` (or a number of seconds)";

/// Parses a duration written as text: a positive number of seconds, or a number with a unit
/// (`s`, `m`, `h`, `d`), e.g. `90s`, `30m`, `1.5h`; `None` when it is not one (see
/// [`DURATION_FORMS`]).
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let (num, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let scale = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    seconds(num.trim().parse::<f64>().ok()? * scale)
}

/// A positive, finite number of seconds below 1e9 as a duration.
fn seconds(seconds: f64) -> Option<std::time::Duration> {
    (seconds > 0.0 && seconds.is_finite() && seconds < 1e9)
        .then(|| std::time::Duration::from_secs_f64(seconds))
}

/// Parses a stage's `timeout`: a positive number of seconds, or text that
/// [`parse_duration`] reads.
pub fn parse_timeout(v: &serde_json::Value) -> Result<std::time::Duration, String> {
    let parsed = match v {
        serde_json::Value::Number(n) => n.as_f64().and_then(seconds),
        serde_json::Value::String(text) => parse_duration(text),
        _ => None,
    };
    parsed.ok_or_else(|| format!("`timeout` must be {DURATION_FORMS}, found {v}"))
}

/// Checks a `resources:` mapping at `field` (`stages.NAME.resources`); errors name the
/// offending key below it.
pub(crate) fn check(
    r: &ResourcesFile,
    field: &str,
    at: &dyn Fn(&str, SpecErrorKind) -> SpecError,
) -> Result<Resources, SpecError> {
    if let Err(message) = check_gpus(r.gpus) {
        return Err(at(
            &format!("{field}.gpus"),
            SpecErrorKind::Resources(message),
        ));
    }
    if r.cpus == Some(0) {
        return Err(at(
            &format!("{field}.cpus"),
            SpecErrorKind::Resources("`cpus` must be at least 1".into()),
        ));
    }
    let mem =
        match &r.mem {
            None => None,
            Some(v) => Some(parse_mem(v).map_err(|message| {
                at(&format!("{field}.mem"), SpecErrorKind::Resources(message))
            })?),
        };
    let time = match &r.time {
        None => None,
        Some(v) => Some(parse_timeout(v).map_err(|message| {
            at(
                &format!("{field}.time"),
                SpecErrorKind::Resources(message.replacen("`timeout`", "`time`", 1)),
            )
        })?),
    };
    Ok(Resources {
        gpus: r.gpus,
        cpus: r.cpus.unwrap_or(1),
        mem,
        time,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_mem;

    #[test]
    fn mem_sizes_parse_in_binary_units() {
        let m = |t: &str| parse_mem(&serde_json::Value::String(t.into()));
        assert_eq!(m("512M"), Ok(512 << 20));
        assert_eq!(m("4G"), Ok(4 << 30));
        assert_eq!(m("4gb"), Ok(4 << 30));
        assert_eq!(m("1.5T"), Ok(3 << 39));
        assert_eq!(m("2048"), Ok(2048 << 20));
        assert_eq!(parse_mem(&serde_json::json!(100)), Ok(100 << 20));
        // Below a megabyte, malformed, negative, or an unknown unit.
        for bad in ["lots", "", "-1G", "4Q", "10K"] {
            assert!(m(bad).is_err(), "{bad}");
        }
    }
}
