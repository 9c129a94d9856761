//! Reads a `gen` data directory into padded id tensors.
//!
//! Every example is right-padded with PAD to the model's padded length (a multiple of the
//! variant's k) and the variant's global-token ids are appended after the padding (SPEC §1, §3).
//! There is no padding mask. The whole split lives on the training device as one int64 tensor,
//! so a batch is one `index_select`.

use std::path::Path;

use common::{data, DataMeta, Example, Task};
use tch::{Device, Tensor};

use crate::config::ModelConfig;
use crate::error::TrainError;

/// One split on the device.
#[derive(Debug)]
pub struct Split {
    /// `[n, seq]` int64 token ids, padded, global tokens appended.
    pub tokens: Tensor,
    /// `[n]` int64 labels.
    pub labels: Tensor,
}

impl Split {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The examples with the given indices (`[m]` int64 on the split's device).
    pub fn select(&self, index: &Tensor) -> (Tensor, Tensor) {
        (
            self.tokens.index_select(0, index),
            self.labels.index_select(0, index),
        )
    }
}

/// Reads and checks `dir/meta.json` against the task given on the command line.
pub fn read_meta(dir: &Path, task: Task) -> Result<DataMeta, TrainError> {
    if !dir.is_dir() {
        return Err(TrainError::MissingData(dir.to_owned()));
    }
    let meta = DataMeta::read(dir)?;
    let path = dir.join("meta.json");
    let mismatch = |field, found: String, expected: String| TrainError::MetaMismatch {
        path: path.clone(),
        field,
        found,
        expected,
    };
    if meta.task != task {
        return Err(mismatch(
            "task",
            format!("`{}`", meta.task),
            format!("`--task` is `{task}`"),
        ));
    }
    if meta.vocab.is_empty() || meta.pad_id as usize != meta.vocab.len() - 1 {
        return Err(mismatch(
            "pad_id",
            meta.pad_id.to_string(),
            "PAD must be the last vocabulary entry".into(),
        ));
    }
    if meta.classes != task.classes() {
        return Err(mismatch(
            "classes",
            meta.classes.to_string(),
            format!("task `{task}` has {}", task.classes()),
        ));
    }
    if meta.max_len == 0 {
        return Err(mismatch(
            "max_len",
            "0".into(),
            "sequences must not be empty".into(),
        ));
    }
    Ok(meta)
}

/// The training split (its first `cfg.train.train_limit` examples) and the held-out split of
/// the data directory `dir`, padded for `cfg`'s model, on `device`.
pub fn load_run_splits(
    dir: &Path,
    meta: &DataMeta,
    cfg: &crate::config::RunConfig,
    device: Device,
) -> Result<(Split, Split), TrainError> {
    let train = load_split(
        dir,
        "train",
        meta,
        &cfg.model,
        cfg.train.train_limit,
        device,
    )?;
    let heldout = load_split(dir, "heldout", meta, &cfg.model, None, device)?;
    Ok((train, heldout))
}

/// Reads `dir/{name}.csv` and pads it for the model described by `cfg`; keeps the first
/// `limit` examples when given.
pub fn load_split(
    dir: &Path,
    name: &str,
    meta: &DataMeta,
    cfg: &ModelConfig,
    limit: Option<usize>,
    device: Device,
) -> Result<Split, TrainError> {
    let path = dir.join(format!("{name}.csv"));
    let mut examples = data::read_split(&path, meta.vocab.len(), meta.classes)?;
    if let Some(limit) = limit {
        examples.truncate(limit);
    }
    if examples.is_empty() {
        return Err(TrainError::from(common::CommonError::BadData {
            path,
            line: 0,
            message: "no examples".into(),
        }));
    }
    if let Some((i, ex)) = examples
        .iter()
        .enumerate()
        .find(|(_, ex)| ex.tokens.len() > cfg.max_len)
    {
        let message = format!(
            "sequence of {} tokens is longer than `max_len` {} of meta.json",
            ex.tokens.len(),
            cfg.max_len
        );
        return Err(TrainError::from(common::CommonError::BadData {
            path,
            line: i as u64 + 2,
            message,
        }));
    }
    Ok(pad(&examples, cfg, device))
}

/// Pads examples into a [`Split`] (see the module doc).
pub fn pad(examples: &[Example], cfg: &ModelConfig, device: Device) -> Split {
    let (n, len, padded) = (examples.len(), cfg.seq_len(), cfg.padded_len());
    let mut ids = vec![cfg.pad_id as i64; n * len];
    for (row, ex) in ids.chunks_mut(len).zip(examples) {
        for (slot, &t) in row.iter_mut().zip(&ex.tokens) {
            *slot = t as i64;
        }
        for (g, slot) in row[padded..].iter_mut().enumerate() {
            *slot = cfg.global_id(g) as i64;
        }
    }
    let labels: Vec<i64> = examples.iter().map(|e| e.label as i64).collect();
    Split {
        // [n, seq]
        tokens: Tensor::from_slice(&ids)
            .view([n as i64, len as i64])
            .to_device(device),
        labels: Tensor::from_slice(&labels).to_device(device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::{Activation, Variant};

    #[test]
    fn pads_then_appends_global_ids() {
        let v = Variant::Band { k: 5, globals: 3 };
        let cfg = ModelConfig::paper(Task::Parity, v, Activation::Relu, 3, 2, 7);
        let split = pad(
            &[Example {
                tokens: vec![0, 1, 1],
                label: 1,
            }],
            &cfg,
            Device::Cpu,
        );
        let row: Vec<i64> = Vec::try_from(split.tokens.view([-1])).unwrap();
        assert_eq!(row, vec![0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 4, 5]);
    }
}
