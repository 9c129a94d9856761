//! A trained run loaded for analysis: its configuration, the model with its final weights, and
//! the training split it was trained on. Shared by `probe` and `landscape`.

use std::path::Path;

use tch::{nn, Device};
use train::config::RunConfig;
use train::dataset::{load_split, read_meta, Split};
use train::model::Model;

use crate::error::ProbeError;

/// A run directory written by `train`, loaded onto the chosen device.
#[derive(Debug)]
pub struct LoadedRun {
    /// `config.json`.
    pub cfg: RunConfig,
    /// The variables, holding the final weights.
    pub vs: nn::VarStore,
    /// The model on those variables.
    pub model: Model,
    /// The run's training split.
    pub train_set: Split,
    /// Where everything lives.
    pub device: Device,
}

/// Reads and parses a JSON file of the run directory.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ProbeError> {
    let bad = |message: String| ProbeError::BadRunFile {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
}

/// Loads the run in `run` (config.json, metrics.json, model.safetensors) and its training split
/// from `data`, which must match the run's vocabulary, PAD id and length. Seeds libtorch with
/// the run's seed.
pub fn load(run: &Path, data: &Path) -> Result<LoadedRun, ProbeError> {
    let cfg: RunConfig = read_json(&run.join("config.json"))?;
    // The trainer writes `metrics.json` last: a run without it is not complete.
    read_json::<serde_json::Value>(&run.join("metrics.json"))?;
    let weights = run.join("model.safetensors");
    if !weights.is_file() {
        return Err(ProbeError::BadRunFile {
            path: weights,
            message: "missing".into(),
        });
    }
    let model_cfg = &cfg.model;
    let meta = read_meta(data, cfg.train.task)?;
    if meta.vocab.len() + model_cfg.variant.globals() != model_cfg.vocab
        || meta.pad_id != model_cfg.pad_id
        || meta.max_len != model_cfg.max_len
    {
        return Err(ProbeError::BadRunFile {
            path: data.join("meta.json"),
            message: format!(
                "vocabulary, `pad_id` or `max_len` differ from the run's `{}`",
                run.join("config.json").display()
            ),
        });
    }

    let device =
        common_torch::choose().map_err(|e| ProbeError::Train(train::TrainError::Device(e)))?;
    common_torch::init(cfg.train.seed);
    let train_set = load_split(data, "train", &meta, model_cfg, None, device)?;
    let mut vs = nn::VarStore::new(device);
    let model = Model::new(vs.root(), model_cfg);
    train::output::load_weights(&mut vs, &weights)?;
    Ok(LoadedRun {
        cfg,
        vs,
        model,
        train_set,
        device,
    })
}

/// Writes `value` as pretty JSON to `path` atomically (a temporary file beside it, then a
/// rename), creating the parent directory.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), ProbeError> {
    let err = |source| ProbeError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mut text = serde_json::to_string_pretty(value).expect("report serialises");
    text.push('\n');
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
