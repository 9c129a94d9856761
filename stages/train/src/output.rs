//! Writing the run's files: each is written to a hidden temporary name in the output
//! directory and renamed into place, so a reader never sees half a file.

use std::path::Path;

use tch::{nn, Device, Tensor};

use crate::error::TrainError;

/// Writes `contents` to `dir/name` atomically (temporary file + rename).
pub fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> Result<(), TrainError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let err = |source| TrainError::Write {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, contents).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}

/// Writes a serde value as pretty JSON with a trailing newline.
pub fn write_json<T: serde::Serialize>(
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<(), TrainError> {
    let mut text = serde_json::to_string_pretty(value).expect("output types serialise");
    text.push('\n');
    write_atomic(dir, name, text.as_bytes())
}

/// Saves every variable of `vs` (moved to the CPU) as `dir/name` in safetensors format, under
/// its VarStore name.
pub fn save_weights(vs: &nn::VarStore, dir: &Path, name: &str) -> Result<(), TrainError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.detach().to_device(Device::Cpu).contiguous()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, &tmp).map_err(|source| TrainError::Torch {
        context: format!("write `{}`", path.display()),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| TrainError::Write { path, source })
}

/// Loads `path` (safetensors) into the variables of `vs`; every variable must be present with
/// the same shape.
pub fn load_weights(vs: &mut nn::VarStore, path: &Path) -> Result<(), TrainError> {
    vs.load(path).map_err(|source| TrainError::Torch {
        context: format!("load weights from `{}`", path.display()),
        source,
    })
}
