//! GPU discovery: `--gpus` wins, then `CUDA_VISIBLE_DEVICES`, then `nvidia-smi -L`. An empty
//! list means GPU stages run on the CPU.

use std::process::Command;

/// The GPU ids to schedule onto.
pub fn detect(flag: Option<&str>) -> Vec<String> {
    if let Some(list) = flag {
        return parse_list(list);
    }
    if let Ok(list) = std::env::var("CUDA_VISIBLE_DEVICES") {
        return parse_list(&list);
    }
    match Command::new("nvidia-smi").arg("-L").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("GPU "))
            .enumerate()
            .map(|(i, _)| i.to_string())
            .collect(),
        _ => Vec::new(),
    }
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
}
