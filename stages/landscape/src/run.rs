//! One landscape estimate from arguments to the output file.
//!
//! Loads the run with the probe's loader, draws the examples (all of the training split, or
//! `--examples` of them with a ChaCha8 stream seeded by `common::seed::derive(seed,
//! "landscape")`), draws the two directions from a second stream (`"landscape-directions"`),
//! then for every grid point writes θ + a·d1 + b·d2 into the variables in place and evaluates
//! the mean cross-entropy in evaluation mode, in batches of the trainer's evaluation size.
//! Progress and the grid's wall time go to stderr (the engine's log), not into the report.

use std::time::Instant;

use probe::loaded::{load, write_json};
use probe::percentile::percentiles;
use probe::report::named;
use probe::ProbeError;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Reduction, Tensor};
use train::config::default_eval_batch;
use train::model::Model;

use crate::cli::Args;
use crate::directions::scaled_direction;
use crate::report::{Report, LANDSCAPE_FORMAT_VERSION, LEVELS};
use crate::slopes::{axis, neighbour_slopes};

/// Mean cross-entropy of `model` over the batches.
fn mean_loss(model: &Model, batches: &[(Tensor, Tensor)], n: usize) -> f64 {
    let mut total = 0.0;
    for (tokens, labels) in batches {
        let loss = model.forward(tokens, false).cross_entropy_loss(
            labels,
            None::<Tensor>,
            Reduction::Sum,
            -100,
            0.0,
        );
        total += loss.to_kind(Kind::Double).double_value(&[]);
    }
    total / n as f64
}

/// Runs the estimate described by `args`.
pub fn run(args: &Args) -> Result<(), ProbeError> {
    if args.grid < 2 {
        return Err(ProbeError::BadArg {
            flag: "grid",
            message: format!("need at least 2 points per axis, got {}", args.grid),
        });
    }
    if args.examples == Some(0) {
        return Err(ProbeError::BadArg {
            flag: "examples",
            message: "must be at least 1".into(),
        });
    }
    let loaded = load(&args.run, &args.data)?;
    let (model_cfg, task, seed) = (
        &loaded.cfg.model,
        loaded.cfg.train.task,
        loaded.cfg.train.seed,
    );
    let n_train = loaded.train_set.len();
    let n = args.examples.unwrap_or(n_train).min(n_train);
    let chosen: Vec<i64> = if n == n_train {
        (0..n_train as i64).collect()
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(common::seed::derive(seed, "landscape"));
        sample(&mut rng, n_train, n)
            .into_iter()
            .map(|i| i as i64)
            .collect()
    };
    let chunk = default_eval_batch(model_cfg.seq_len(), loaded.device);
    let batches: Vec<(Tensor, Tensor)> = chosen
        .chunks(chunk)
        .map(|part| {
            loaded
                .train_set
                .select(&Tensor::from_slice(part).to_device(loaded.device))
        })
        .collect();

    // Parameters in name order, so the directions do not depend on hash-map order.
    let mut named_vars: Vec<(String, Tensor)> = loaded
        .vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    named_vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut dir_rng = ChaCha8Rng::seed_from_u64(common::seed::derive(seed, "landscape-directions"));
    let mut params = Vec::with_capacity(named_vars.len());
    for (_, var) in named_vars {
        let theta = var.detach().copy();
        let d1 = scaled_direction(&mut dir_rng, &theta);
        let d2 = scaled_direction(&mut dir_rng, &theta);
        params.push((var, theta, d1, d2));
    }

    let g = args.grid;
    let (coords, h) = axis(g);
    eprintln!(
        "landscape: {} {} seed {}: {} examples, {} x {} grid, {} tensors",
        task,
        model_cfg.variant,
        seed,
        n,
        g,
        g,
        params.len()
    );
    let started = Instant::now();
    let model = &loaded.model;
    let mut losses = vec![0.0f64; g * g];
    let loss_at_weights = tch::no_grad(|| {
        let centre = mean_loss(model, &batches, n);
        for (i, a) in coords.iter().enumerate() {
            for (j, b) in coords.iter().enumerate() {
                for (var, theta, d1, d2) in &mut params {
                    var.copy_(&(&*theta + &*d1 * *a + &*d2 * *b));
                }
                losses[i * g + j] = mean_loss(model, &batches, n);
            }
            if (i + 1) % (g / 10).max(1) == 0 {
                eprintln!(
                    "landscape: {}/{} rows, {:.1} s",
                    i + 1,
                    g,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        // Leave the variables as they were loaded.
        for (var, theta, _, _) in &mut params {
            var.copy_(theta);
        }
        centre
    });

    let (mut slopes, skipped) = neighbour_slopes(&losses, g, h);
    let finite = losses.iter().copied().filter(|l| l.is_finite());
    let loss_min = finite.clone().fold(f64::INFINITY, f64::min);
    let loss_max = finite.fold(f64::NEG_INFINITY, f64::max);
    let pairs = slopes.len();
    let lipschitz = percentiles(&mut slopes, &LEVELS)
        .map(|p| named(&LEVELS, &p))
        .unwrap_or_default();
    let report = Report {
        format: LANDSCAPE_FORMAT_VERSION,
        task: task.to_string(),
        variant: model_cfg.variant.to_string(),
        activation: model_cfg.activation.to_string(),
        seed,
        grid: g,
        spacing: h,
        examples: n,
        loss_at_weights,
        loss_min,
        loss_max,
        pairs,
        nonfinite_pairs: skipped,
        lipschitz,
    };
    write_json(&args.out, &report)?;
    eprintln!(
        "landscape: {g} x {g} grid in {:.3}s wall time",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
