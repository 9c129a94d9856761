//! One probe from arguments to the output file.
//!
//! Loads `config.json` (the trainer's `RunConfig`) and `model.safetensors` into a fresh model,
//! checks the data directory against the config, draws `batches x batch_size` distinct
//! training examples with a ChaCha8 stream seeded from the run's seed
//! (`common::seed::derive(seed, "probe")`), runs them through the model in evaluation mode
//! and pools every layer's statistics (`stats`). Batches are processed in sub-batches of the
//! trainer's evaluation size (about 2048 tokens), which bounds memory at ListOps length and
//! does not change any value.

use std::path::Path;

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Tensor};
use train::config::{default_eval_batch, RunConfig};
use train::dataset::{load_split, read_meta};
use train::model::Model;

use crate::cli::Args;
use crate::error::ProbeError;
use crate::percentile::percentiles;
use crate::report::{named, Report, LOWER, PROBE_FORMAT_VERSION, UPPER};
use crate::stats::Pool;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ProbeError> {
    let bad = |message: String| ProbeError::BadRunFile {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
}

/// Runs the probe described by `args`.
pub fn run(args: &Args) -> Result<(), ProbeError> {
    if args.batches == 0 || args.batch_size == 0 {
        return Err(ProbeError::BadArg {
            flag: "batches",
            message: "`--batches` and `--batch-size` must be at least 1".into(),
        });
    }
    let cfg: RunConfig = read_json(&args.run.join("config.json"))?;
    let metrics: serde_json::Value = read_json(&args.run.join("metrics.json"))?;
    let weights = args.run.join("model.safetensors");
    if !weights.is_file() {
        return Err(ProbeError::BadRunFile {
            path: weights,
            message: "missing".into(),
        });
    }
    let (model_cfg, task, seed) = (&cfg.model, cfg.train.task, cfg.train.seed);
    let meta = read_meta(&args.data, task)?;
    if meta.vocab.len() + model_cfg.variant.globals() != model_cfg.vocab
        || meta.pad_id != model_cfg.pad_id
        || meta.max_len != model_cfg.max_len
    {
        return Err(ProbeError::BadRunFile {
            path: args.data.join("meta.json"),
            message: format!(
                "vocabulary, `pad_id` or `max_len` differ from the run's `{}`",
                args.run.join("config.json").display()
            ),
        });
    }

    let device =
        common_torch::choose().map_err(|e| ProbeError::Train(train::TrainError::Device(e)))?;
    common_torch::init(seed);
    let train_set = load_split(&args.data, "train", &meta, model_cfg, None, device)?;
    let mut vs = nn::VarStore::new(device);
    let model = Model::new(vs.root(), model_cfg);
    train::output::load_weights(&mut vs, &weights)?;

    let wanted = (args.batches * args.batch_size).min(train_set.len());
    let mut rng = ChaCha8Rng::seed_from_u64(common::seed::derive(seed, "probe"));
    let chosen: Vec<i64> = sample(&mut rng, train_set.len(), wanted)
        .into_iter()
        .map(|i| i as i64)
        .collect();
    let chunk = args.batch_size.min(default_eval_batch(model_cfg.seq_len()));
    eprintln!(
        "probe: {} {} seed {}: {} examples, {} layers, chunks of {}",
        task, model_cfg.variant, seed, wanted, model_cfg.blocks, chunk
    );

    let mut pool = Pool::default();
    tch::no_grad(|| {
        for part in chosen.chunks(chunk) {
            let (tokens, _) = train_set.select(&Tensor::from_slice(part).to_device(device));
            let _ = model.forward_probe(&tokens, |_, layer| pool.add(&layer));
        }
    });

    let upper = |v: &mut Vec<f32>| percentiles(v, &UPPER).map(|p| named(&UPPER, &p));
    let report = Report {
        format: PROBE_FORMAT_VERSION,
        task: task.to_string(),
        variant: model_cfg.variant.to_string(),
        activation: model_cfg.activation.to_string(),
        seed,
        examples: wanted,
        layers: model_cfg.blocks,
        queries: pool.queries,
        dispersion_delta: upper(&mut pool.delta).unwrap_or_default(),
        separation_delta: percentiles(&mut pool.separation, &LOWER).map(|p| named(&LOWER, &p)),
        selection_beta: upper(&mut pool.beta),
        cache_key: std::env::var("REPRO_KEY").ok().filter(|k| !k.is_empty()),
        run_cache_key: metrics
            .get("cache_key")
            .and_then(|k| k.as_str())
            .map(str::to_owned),
    };
    write(&args.out, &report)
}

fn write(path: &Path, report: &Report) -> Result<(), ProbeError> {
    let err = |source| ProbeError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mut text = serde_json::to_string_pretty(report).expect("report serialises");
    text.push('\n');
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
