//! Numerical parity with the independent PyTorch reference (`tests/reference/model.py`).
//!
//! For every attention variant of the paper's grid on an NNCH-sized input (length 40, 5
//! blocks), for a few variants at ListOps length (599, 10 blocks), with 2 and 4 heads, with
//! GELU and Mish, and for the authors' eps-0 LayerNorm switch, the test builds a model, saves
//! its weights, a random batch (random lengths, so PAD is present) and the config, and runs
//! the reference, which loads the same weights. Dropout is 0. Compared, with tolerance 1e-5
//! (relative for magnitudes above 1; 5e-5 on CUDA, see `TOL_CUDA`):
//! class logits, the loss, every layer's unmasked attention logits, and after one SGD step
//! with gradient-norm clipping every clipped gradient and every updated parameter (so
//! gradients through the top-k selection are checked too).
//!
//! The reference runs with the project's virtualenv (`.venv/bin/python`, made by
//! `make setup`; `REPRO_PYTHON` names another interpreter with torch and safetensors); the
//! test fails if it is missing. `REPRO_PARITY_DEVICE=cuda` runs both sides on the first CUDA
//! device instead of the CPU, to check the GPU kernels (docs/benchmarks.md).

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Activation, Example, Task, Variant};
use rand::{Rng, SeedableRng};
use tch::{nn, Device, Kind, Tensor};
use train::config::{ModelConfig, OptimizerKind};
use train::dataset::pad;
use train::model::Model;
use train::optim::Optim;
use train::output::save_weights;

/// Tolerance on the CPU, where both sides run the same kernels in the same order.
const TOL: f64 = 1e-5;
/// Tolerance on CUDA. cuBLAS picks its matrix-product kernels by shape, stride and
/// workspace, so the two implementations' float32 sums are not accumulated in the same order
/// even for the same mathematical product; through ten blocks at length 599 that reached
/// 1.0e-5 on an H100 (docs/benchmarks.md), so CUDA gets five times the CPU tolerance.
const TOL_CUDA: f64 = 5e-5;
const LR: f64 = 0.1;
const CLIP: f64 = 0.5;

struct Case {
    name: String,
    cfg: ModelConfig,
}

fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let py = std::env::var_os("REPRO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    assert!(
        py.exists(),
        "the parity test needs `{}`; run `make setup` (scripts/setup-venv.sh) first",
        py.display()
    );
    py
}

/// The device both sides run on: CUDA when `REPRO_PARITY_DEVICE=cuda` (which must then be
/// available), else the CPU.
fn device() -> Device {
    match std::env::var("REPRO_PARITY_DEVICE").as_deref() {
        Ok("cuda") => {
            assert!(
                tch::Cuda::is_available(),
                "REPRO_PARITY_DEVICE=cuda but libtorch sees no CUDA device"
            );
            Device::Cuda(0)
        }
        Ok("cpu") | Err(_) => Device::Cpu,
        Ok(other) => panic!("REPRO_PARITY_DEVICE must be cpu or cuda, not `{other}`"),
    }
}

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/model.py")
}

fn case(
    task: Task,
    variant: Variant,
    data_vocab: usize,
    max_len: usize,
    blocks: usize,
    eps0: bool,
) -> Case {
    let mut cfg = ModelConfig::paper(
        task,
        variant,
        Activation::Relu,
        data_vocab,
        data_vocab as u32 - 1,
        max_len,
    );
    cfg.blocks = blocks;
    cfg.dropout = 0.0;
    cfg.first_ln_eps_zero = eps0;
    let name = format!(
        "{}-{}-len{}{}",
        task,
        variant,
        max_len,
        if eps0 { "-eps0" } else { "" }
    )
    .replace('+', "_");
    Case { name, cfg }
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Variant::paper_grid()
        .into_iter()
        .map(|v| case(Task::MissingDuplicate, v, 4, 40, 5, false))
        .collect();
    for v in ["full", "topk5", "band9+G3", "bloc9"] {
        cases.push(case(Task::Listops, v.parse().unwrap(), 16, 599, 10, false));
    }
    cases.push(case(Task::EvenPairs, Variant::Full, 3, 40, 5, true));
    let mut gelu = case(
        Task::CycleNavigation,
        "topk9".parse().unwrap(),
        4,
        40,
        2,
        false,
    );
    gelu.cfg.activation = Activation::Gelu;
    gelu.name.push_str("-gelu");
    cases.push(gelu);
    for (v, heads) in [("topk5", 2), ("band5+G1", 4)] {
        let mut multi = case(Task::MissingDuplicate, v.parse().unwrap(), 4, 40, 3, false);
        multi.cfg.heads = heads;
        multi.name.push_str(&format!("-h{heads}"));
        cases.push(multi);
    }
    let mut mish = case(
        Task::CycleNavigation,
        "bloc5+G1".parse().unwrap(),
        4,
        40,
        2,
        false,
    );
    mish.cfg.activation = Activation::Mish;
    mish.name.push_str("-mish");
    cases.push(mish);
    cases
}

/// What the Rust side computed for one case.
struct Outputs {
    named: Vec<(String, Tensor)>,
}

fn run_rust(case: &Case, dir: &Path, seed: u64) -> Outputs {
    tch::manual_seed(seed as i64);
    let cfg = &case.cfg;
    let vs = nn::VarStore::new(device());
    let model = Model::new(vs.root(), cfg);
    save_weights(&vs, dir, "weights.safetensors").unwrap();

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let data_vocab = cfg.vocab - cfg.variant.globals();
    let examples: Vec<Example> = (0..6)
        .map(|_| {
            let len = rng.gen_range(cfg.max_len * 3 / 4..=cfg.max_len);
            Example {
                tokens: (0..len)
                    .map(|_| rng.gen_range(0..data_vocab as u32 - 1))
                    .collect(),
                label: rng.gen_range(0..cfg.classes as u32),
            }
        })
        .collect();
    let batch = pad(&examples, cfg, device());
    Tensor::write_safetensors(
        &[
            ("tokens", &batch.tokens.to_device(Device::Cpu)),
            ("labels", &batch.labels.to_device(Device::Cpu)),
        ],
        dir.join("batch.safetensors"),
    )
    .unwrap();
    let mut json = serde_json::to_value(cfg).unwrap();
    json["lr"] = LR.into();
    json["clip"] = CLIP.into();
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();

    let mut named = Vec::new();
    let _ = tch::no_grad(|| {
        model.forward_probe(&batch.tokens, |i, l| {
            named.push((format!("layer{i}.logits"), l.logits))
        })
    });
    let logits = model.forward(&batch.tokens, true);
    let loss = logits.cross_entropy_for_logits(&batch.labels);
    named.push(("logits".into(), logits.detach()));
    named.push(("loss".into(), loss.detach().reshape([1])));
    let mut opt = Optim::new(&vs, OptimizerKind::Sgd, LR, CLIP).unwrap();
    opt.step(&loss);
    for (name, var) in vs.variables() {
        named.push((format!("grad.{name}"), var.grad().detach().copy()));
        named.push((format!("param.{name}"), var.detach().copy()));
    }
    Outputs { named }
}

/// Largest violation `|a - b| / max(1, |b|)` over the elements.
fn max_error(ours: &Tensor, theirs: &Tensor) -> f64 {
    let ours = ours.to_device(Device::Cpu).to_kind(Kind::Double);
    let theirs = theirs.to_kind(Kind::Double);
    let scale = theirs.abs().clamp_min(1.0);
    f64::try_from(((ours - &theirs).abs() / scale).max()).unwrap()
}

#[test]
fn every_variant_matches_the_pytorch_reference() {
    let py = python();
    let root = tempfile::tempdir().unwrap();
    let cases = cases();
    let mut outputs = Vec::new();
    let mut dirs = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let dir = root.path().join(&case.name);
        std::fs::create_dir_all(&dir).unwrap();
        outputs.push(run_rust(case, &dir, 1000 + i as u64));
        dirs.push(dir);
    }
    let status = Command::new(&py)
        .arg(reference_script())
        .arg("parity")
        .args(&dirs)
        .status()
        .expect("run the reference");
    assert!(status.success(), "reference failed: {status}");

    let mut failures = Vec::new();
    for ((case, dir), ours) in cases.iter().zip(&dirs).zip(&outputs) {
        let theirs: std::collections::HashMap<String, Tensor> =
            Tensor::read_safetensors(dir.join("python.safetensors"))
                .unwrap()
                .into_iter()
                .collect();
        assert_eq!(
            theirs.len(),
            ours.named.len(),
            "{}: different sets of outputs",
            case.name
        );
        let mut worst = (0.0f64, String::new());
        for (name, t) in &ours.named {
            let other = theirs
                .get(name)
                .unwrap_or_else(|| panic!("{}: reference lacks `{name}`", case.name));
            assert_eq!(t.size(), other.size(), "{}: shape of `{name}`", case.name);
            let err = max_error(t, other);
            if err > worst.0 || err.is_nan() {
                worst = (err, name.clone());
            }
        }
        eprintln!(
            "parity {:<40} worst {:.2e} ({}) on {:?}",
            case.name,
            worst.0,
            worst.1,
            device()
        );
        let tol = if device().is_cuda() { TOL_CUDA } else { TOL };
        if worst.0.is_nan() || worst.0 > tol {
            failures.push(format!(
                "{}: `{}` differs by {:.3e}",
                case.name, worst.1, worst.0
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "parity failures:\n{}",
        failures.join("\n")
    );
}
