//! One probe from arguments to the output file.
//!
//! Loads `config.json` (the trainer's `RunConfig`) and `model.safetensors` into a fresh model,
//! checks the data directory against the config, draws `batches x batch_size` distinct
//! training examples with a ChaCha8 stream seeded from the run's seed
//! (`common::seed::derive(seed, "probe")`), runs them through the model in evaluation mode
//! and pools every layer's statistics (`stats`). Batches are processed in sub-batches of the
//! trainer's evaluation size (about 2048 tokens), which bounds memory at ListOps length and
//! does not change any value.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;
use train::config::default_eval_batch;

use crate::cli::Args;
use crate::error::ProbeError;
use crate::loaded::{load, write_json};
use crate::percentile::percentiles;
use crate::report::{named, Report, LOWER, PROBE_FORMAT_VERSION, UPPER};
use crate::stats::Pool;

/// Runs the probe described by `args`.
pub fn run(args: &Args) -> Result<(), ProbeError> {
    if args.batches == 0 || args.batch_size == 0 {
        return Err(ProbeError::BadArg {
            flag: "batches",
            message: "`--batches` and `--batch-size` must be at least 1".into(),
        });
    }
    let loaded = load(&args.run, &args.data)?;
    let (model_cfg, task, seed) = (
        &loaded.cfg.model,
        loaded.cfg.train.task,
        loaded.cfg.train.seed,
    );
    let (model, train_set, device) = (&loaded.model, &loaded.train_set, loaded.device);

    let wanted = (args.batches * args.batch_size).min(train_set.len());
    let mut rng = ChaCha8Rng::seed_from_u64(common::seed::derive(seed, "probe"));
    let chosen: Vec<i64> = sample(&mut rng, train_set.len(), wanted)
        .into_iter()
        .map(|i| i as i64)
        .collect();
    let chunk = args
        .batch_size
        .min(default_eval_batch(model_cfg.seq_len(), device));
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
    };
    write_json(&args.out, &report)
}
