//! GPU discovery: `--gpus` wins, then `CUDA_VISIBLE_DEVICES`, then `nvidia-smi -L`. An empty
//! list means GPU stages run on the CPU.
//!
//! `--gpus` chooses among the devices there are, it does not invent them: every id it lists
//! must be one that `CUDA_VISIBLE_DEVICES` names when that is set, else one that `nvidia-smi
//! -L` lists (`0` to `n-1`). With neither (no GPU detected) every id is refused; a device that
//! cannot be detected (another driver, a test) is made known by listing it in
//! `CUDA_VISIBLE_DEVICES`, which the engine then trusts as it would without the flag. An id is
//! a whole number or a `GPU-`/`MIG-` UUID, as `CUDA_VISIBLE_DEVICES` takes them; `none` (or
//! `-1`, or nothing) means no GPU.

use std::process::Command;

/// Why `--gpus` cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuFlagError {
    /// Not a device id.
    #[error("--gpus: `{0}` is not a GPU id (ids are whole numbers such as `0,1`, or `GPU-`/`MIG-` UUIDs; `none` for no GPU)")]
    NotAnId(String),
    /// Listed twice.
    #[error("--gpus: GPU `{0}` is listed twice")]
    Twice(String),
    /// Not among the detected devices.
    #[error("--gpus: GPU `{id}` is not on this machine ({found})")]
    Absent {
        /// The id.
        id: String,
        /// What detection found, in words.
        found: String,
    },
}

impl GpuFlagError {
    /// The fix.
    pub fn hint(&self) -> String {
        match self {
            GpuFlagError::Absent { .. } => "list detected GPUs only, or `--gpus none`; a device that cannot be detected can be named in `CUDA_VISIBLE_DEVICES`".into(),
            _ => "write `--gpus 0,1` (detected ids, comma-separated) or `--gpus none`".into(),
        }
    }
}

/// The GPU ids to schedule onto.
pub fn detect(flag: Option<&str>) -> Vec<String> {
    if let Some(list) = flag {
        return parse_list(list);
    }
    detected().0
}

/// `--gpus LIST` checked against the devices there are (see the module doc).
pub fn choose(flag: &str) -> Result<Vec<String>, GpuFlagError> {
    let (available, source) = detected();
    check_choice(&parse_list(flag), &available, source)
}

/// Checks chosen ids against `available` ones, which `source` found.
fn check_choice(
    chosen: &[String],
    available: &[String],
    source: Source,
) -> Result<Vec<String>, GpuFlagError> {
    for (i, id) in chosen.iter().enumerate() {
        let uuid = id.starts_with("GPU-") || id.starts_with("MIG-");
        if !(uuid || (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))) {
            return Err(GpuFlagError::NotAnId(id.clone()));
        }
        if chosen[..i].contains(id) {
            return Err(GpuFlagError::Twice(id.clone()));
        }
        if !available.contains(id) {
            let list = available.join(", ");
            let found = match (source, available.is_empty()) {
                (Source::Env, true) => "`CUDA_VISIBLE_DEVICES` is set and empty".to_owned(),
                (Source::Env, false) => format!("`CUDA_VISIBLE_DEVICES` names {list}"),
                (Source::Smi, true) => "no GPU detected: `CUDA_VISIBLE_DEVICES` is unset and `nvidia-smi -L` lists none".to_owned(),
                (Source::Smi, false) => format!("`nvidia-smi -L` lists {list}"),
            };
            return Err(GpuFlagError::Absent {
                id: id.clone(),
                found,
            });
        }
    }
    Ok(chosen.to_vec())
}

/// Where the detected devices came from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    Env,
    Smi,
}

/// The devices there are: `CUDA_VISIBLE_DEVICES` when set, else `nvidia-smi -L`'s indices.
fn detected() -> (Vec<String>, Source) {
    if let Ok(list) = std::env::var("CUDA_VISIBLE_DEVICES") {
        return (parse_list(&list), Source::Env);
    }
    let found = match Command::new("nvidia-smi").arg("-L").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("GPU "))
            .enumerate()
            .map(|(i, _)| i.to_string())
            .collect(),
        _ => Vec::new(),
    };
    (found, Source::Smi)
}

/// Splits a comma-separated device list; `-1`, `none` and blanks mean no devices.
pub fn parse_list(list: &str) -> Vec<String> {
    let list = list.trim();
    if list.is_empty() || list == "none" || list == "-1" {
        return Vec::new();
    }
    list.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_lists_parse() {
        assert_eq!(detect(Some("0,1, 3")), vec!["0", "1", "3"]);
        assert!(detect(Some("none")).is_empty());
        assert!(detect(Some("")).is_empty());
    }

    #[test]
    fn chosen_ids_must_be_ids_listed_once_among_the_detected() {
        let two = ["0".to_owned(), "1".to_owned()];
        let ok = |s: &str| check_choice(&parse_list(s), &two, Source::Smi);
        assert_eq!(ok("1").unwrap(), vec!["1"]);
        assert!(ok("none").unwrap().is_empty());
        assert_eq!(ok("foo"), Err(GpuFlagError::NotAnId("foo".into())));
        assert_eq!(ok("0,0"), Err(GpuFlagError::Twice("0".into())));
        assert_eq!(
            ok("7").unwrap_err().to_string(),
            "--gpus: GPU `7` is not on this machine (`nvidia-smi -L` lists 0, 1)"
        );
        let none = check_choice(&parse_list("0"), &[], Source::Smi).unwrap_err();
        assert_eq!(
            none.to_string(),
            "--gpus: GPU `0` is not on this machine (no GPU detected: `CUDA_VISIBLE_DEVICES` is unset and `nvidia-smi -L` lists none)"
        );
        let uuid = "GPU-8f2a".to_owned();
        assert_eq!(
            check_choice(
                std::slice::from_ref(&uuid),
                std::slice::from_ref(&uuid),
                Source::Env
            )
            .unwrap(),
            vec![uuid]
        );
    }
}
