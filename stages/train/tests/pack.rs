//! `train --pack`: every member of a pack is its single run with one worker.
//!
//! In process (`one_step_of_a_mixed_pack_equals_each_single_run`, `adam_steps_of_a_pack_equal_each_single_run`):
//! a stack of members with mixed seeds, variants and activations against the existing
//! single-run `Model` + `Optim`, step by step, with dropout on at its default 0.01 (so the
//! members' dropout streams are checked too), tolerance 1e-5. Through the real binary, on tiny
//! even_pairs data sets with `REPRO_THREADS=1`: a pack of one equals the single run row by row,
//! a whole short run of a mixed pack agrees with the single runs within the lock's tolerance,
//! a diverging member does not disturb the others, and the manifest's errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use common::{Activation, Example, Task, Variant};
use rand::{Rng, SeedableRng};
use tch::{nn, Device, Kind, Reduction, Tensor};
use train::config::{ModelConfig, OptimizerKind};
use train::model::Model;
use train::optim::Optim;
use train::pack::model::{member_losses, PackModel};
use train::pack::optim::PackOptim;

#[path = "support/single.rs"]
mod single;
use single::{run_flags, write_data};

/// libtorch's generator is global: the in-process tests take turns.
static TORCH: Mutex<()> = Mutex::new(());

const TOL: f64 = 1e-5;
const CLIP: f64 = 0.5;

/// Largest `|a - b| / max(1, |b|)`.
fn max_error(ours: &Tensor, theirs: &Tensor) -> f64 {
    let ours = ours.to_kind(Kind::Double);
    let theirs = theirs.to_kind(Kind::Double);
    let scale = theirs.abs().clamp_min(1.0);
    f64::try_from(((ours - &theirs).abs() / scale).max()).unwrap()
}

struct Spec {
    seed: i64,
    variant: &'static str,
    activation: Activation,
    lr: f64,
}

/// A single run's model, variables and local replica (as `Workers::new(&model, 1)` makes it).
fn build(spec: &Spec, max_len: usize) -> (nn::VarStore, Model, Model) {
    let variant: Variant = spec.variant.parse().unwrap();
    let mut cfg = ModelConfig::paper(Task::EvenPairs, variant, spec.activation, 3, 2, max_len);
    cfg.blocks = 2;
    tch::manual_seed(spec.seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Model::new(vs.root(), &cfg);
    let replica = model.replica();
    (vs, model, replica)
}

/// A random batch `[B, L]` for the model of `replica` (random lengths, so PAD is present).
fn batch(replica: &Model, seed: u64, size: usize) -> (Tensor, Tensor) {
    let cfg = replica.config();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let examples: Vec<Example> = (0..size)
        .map(|_| {
            let len = rng.gen_range(cfg.max_len / 2..=cfg.max_len);
            Example {
                tokens: (0..len).map(|_| rng.gen_range(0..2)).collect(),
                label: rng.gen_range(0..2),
            }
        })
        .collect();
    let split = train::dataset::pad(&examples, cfg, Device::Cpu);
    (split.tokens, split.labels)
}

/// Runs `steps` steps of the pack of `specs` and of each single run, and checks logits and
/// losses at every step, then clipped gradients and parameters.
fn compare_steps(specs: &[Spec], optimizer: OptimizerKind, max_len: usize, steps: usize) {
    let _guard = TORCH.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    let packed: Vec<_> = specs.iter().map(|s| build(s, max_len)).collect();
    let singles: Vec<_> = specs.iter().map(|s| build(s, max_len)).collect();
    let pairs: Vec<(&nn::VarStore, &Model)> = packed.iter().map(|(vs, _, r)| (vs, r)).collect();
    let model = PackModel::new(&pairs);
    let lrs: Vec<f64> = specs.iter().map(|s| s.lr).collect();
    let mut opt = PackOptim::new(optimizer, CLIP, lrs, model.params());
    let mut single_opts: Vec<Optim> = singles
        .iter()
        .zip(specs)
        .map(|((vs, _, _), s)| Optim::new(vs, optimizer, s.lr, CLIP).unwrap())
        .collect();
    let mut failures = Vec::new();
    for step in 0..steps {
        let batches: Vec<(Tensor, Tensor)> = singles
            .iter()
            .enumerate()
            .map(|(m, (_, _, r))| batch(r, (100 * step + m) as u64, 7))
            .collect();
        let tokens = Tensor::stack(&batches.iter().map(|b| &b.0).collect::<Vec<_>>(), 0);
        let labels = Tensor::stack(&batches.iter().map(|b| &b.1).collect::<Vec<_>>(), 0);
        opt.zero_grad(model.params());
        let logits = model.forward(&tokens, true);
        let losses = member_losses(&logits, &labels);
        losses.sum(Kind::Float).backward();
        opt.update(model.params());

        for (m, ((_, _, replica), single_opt)) in singles.iter().zip(&mut single_opts).enumerate() {
            let (tokens, labels) = &batches[m];
            let own_logits = replica.forward(tokens, true);
            let own_loss =
                own_logits.cross_entropy_loss(labels, None::<Tensor>, Reduction::Sum, -100, 0.0)
                    / labels.size()[0] as f64;
            single_opt.zero_grad();
            own_loss.backward();
            single_opt.update();
            let mut check = |what: String, ours: &Tensor, theirs: &Tensor| {
                let err = max_error(ours, theirs);
                if err.is_nan() || err > TOL {
                    failures.push(format!("step {step} member {m} {what}: {err:.3e}"));
                }
            };
            check(
                "logits".into(),
                &logits.detach().get(m as i64),
                &own_logits.detach(),
            );
            check("loss".into(), &losses.get(m as i64), &own_loss.detach());
        }
    }
    for (m, (vs, _, _)) in singles.iter().enumerate() {
        let vars = vs.variables();
        for (i, name) in model.names().iter().enumerate() {
            let var = &vars[name];
            let ours_g = model.params()[i].grad().get(m as i64);
            // The key bias's gradient is zero up to rounding (adding `q·b_k` to a whole row
            // of logits does not change the softmax); Adam divides that noise by its own
            // magnitude, so its update is rounding noise of the size of the learning rate.
            let param_tol = if optimizer == OptimizerKind::Adam && name.ends_with("W_k.bias") {
                3.0 * specs[m].lr * steps as f64
            } else {
                TOL
            };
            for (what, ours, theirs, tol) in [
                ("grad", ours_g, var.grad(), TOL),
                (
                    "param",
                    model.member_param(m, name),
                    var.detach(),
                    param_tol,
                ),
            ] {
                let err = max_error(&ours, &theirs);
                if err.is_nan() || err > tol {
                    failures.push(format!("member {m} {what} {name}: {err:.3e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn one_step_of_a_mixed_pack_equals_each_single_run() {
    use Activation::{Gelu, Mish, Relu};
    let specs = [
        ("full", Relu, 11),
        ("band5", Gelu, 12),
        ("bloc5", Mish, 13),
        ("topk5", Relu, 14),
        ("topk9", Gelu, 15),
        ("full", Mish, 16),
        ("band9", Relu, 17),
        ("topk5", Relu, 18),
    ]
    .map(|(variant, activation, seed)| Spec {
        seed,
        variant,
        activation,
        lr: 0.05 * (seed - 10) as f64,
    });
    compare_steps(&specs, OptimizerKind::Sgd, 45, 1);
}

#[test]
fn adam_steps_of_a_pack_equal_each_single_run() {
    let specs = [
        ("topk5", Activation::Relu, 21, 1e-3),
        ("bloc5", Activation::Gelu, 22, 1e-2),
        ("full", Activation::Relu, 23, 1e-4),
    ]
    .map(|(variant, activation, seed, lr)| Spec {
        seed,
        variant,
        activation,
        lr,
    });
    compare_steps(&specs, OptimizerKind::Adam, 40, 3);
}

#[test]
fn several_sgd_steps_keep_the_members_apart() {
    let specs = [
        ("band5", Activation::Mish, 31, 0.1),
        ("topk5", Activation::Relu, 32, 1.0),
    ]
    .map(|(variant, activation, seed, lr)| Spec {
        seed,
        variant,
        activation,
        lr,
    });
    compare_steps(&specs, OptimizerKind::Sgd, 40, 4);
}

// ---------------------------------------------------------------- through the binary

/// A single run's argv: the defaults below, with `extra` pairs replacing or adding flags.
fn argv(data: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    std::iter::once(env!("CARGO_BIN_EXE_train").to_owned())
        .chain(run_flags(data, out, "full", extra))
        .collect()
}

fn command(args: &[String]) -> Command {
    let mut c = Command::new(&args[0]);
    c.args(&args[1..])
        .env("REPRO_THREADS", "1")
        .env("REPRO_DEVICE", "cpu")
        .env_remove("OMP_NUM_THREADS");
    c
}

fn single(args: &[String]) -> Output {
    let o = command(args)
        .env("REPRO_KEY", "single-key")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

fn pack(manifest: &Path, members: &[(String, Vec<String>)]) -> Output {
    let json = serde_json::json!({
        "members": members.iter().enumerate().map(|(i, (name, cmd))| serde_json::json!({
            "instance": name,
            "key": if i == 0 { serde_json::Value::Null } else { format!("key-{i}").into() },
            "cmd": cmd,
            "outs": [],
            "done": manifest.with_extension(format!("{i}.done")),
            "extra": {"ignored": true},
        })).collect::<Vec<_>>()
    });
    std::fs::write(manifest, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    pack_raw(manifest)
}

fn pack_raw(manifest: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_train"))
        .arg("--pack")
        .arg(manifest)
        .env("REPRO_THREADS", "1")
        .env("REPRO_DEVICE", "cpu")
        .env("REPRO_KEY", "ignored")
        .env_remove("OMP_NUM_THREADS")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The rows of `history.csv` as numbers.
fn rows(dir: &Path) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

fn assert_rows_close(a: &[Vec<f64>], b: &[Vec<f64>], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (ra, rb) in a.iter().zip(b) {
        for (x, y) in ra.iter().zip(rb) {
            assert!((x - y).abs() <= tol, "{what}: {ra:?} vs {rb:?}");
        }
    }
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_data(&data, 5, 100, 50);
    (dir, data)
}

#[test]
fn a_pack_of_one_equals_the_single_run() {
    let (dir, data) = tmp();
    let extra = [
        "--variant",
        "topk5",
        "--epochs",
        "3",
        "--activation",
        "gelu",
    ];
    let (a, b) = (dir.path().join("single"), dir.path().join("packed"));
    single(&argv(&data, &a, &extra));
    let o = pack(
        &dir.path().join("m.json"),
        &[("train@one".into(), argv(&data, &b, &extra))],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_rows_close(&rows(&a), &rows(&b), 1e-5, "history");
    assert_eq!(rows(&b).len(), 3);
    let (ma, mb) = (metrics(&a), metrics(&b));
    assert_eq!(
        ma["config"], mb["config"],
        "config as a single run writes it"
    );
    assert!(
        ma.get("cache_key").is_none() && mb.get("cache_key").is_none(),
        "no key in metrics.json, single or packed: {mb}"
    );
    assert_eq!(
        std::fs::read(a.join("config.json")).unwrap(),
        std::fs::read(b.join("config.json")).unwrap()
    );
    let read = |dir: &Path| {
        let mut w = tch::Tensor::read_safetensors(dir.join("model.safetensors")).unwrap();
        w.sort_by(|x, y| x.0.cmp(&y.0));
        w
    };
    let (wa, wb) = (read(&a), read(&b));
    assert_eq!(wa.len(), wb.len());
    for ((na, ta), (nb, tb)) in wa.iter().zip(&wb) {
        assert_eq!(na, nb);
        assert!(max_error(tb, ta) < 1e-4, "{na}");
    }
}

#[test]
fn a_mixed_pack_agrees_with_its_single_runs() {
    let (dir, data) = tmp();
    let other = dir.path().join("data2");
    write_data(&other, 6, 100, 50);
    let settings: Vec<Vec<&str>> = vec![
        vec!["--seed", "1"],
        vec!["--seed", "2", "--variant", "band5", "--activation", "mish"],
        vec![
            "--seed",
            "3",
            "--variant",
            "topk5",
            "--lr",
            "0.3",
            "--gamma",
            "0.5",
        ],
        vec![
            "--seed",
            "4",
            "--variant",
            "bloc5",
            "--activation",
            "gelu",
            "--epochs",
            "2",
        ],
        vec!["--seed", "5", "--stop-after", "0", "--lr", "0.5"],
        vec!["--seed", "6", "--variant", "band5+G1"],
    ];
    let mut members = Vec::new();
    for (i, extra) in settings.iter().enumerate() {
        let mut extra = extra.clone();
        if !extra.contains(&"--epochs") {
            extra.extend(["--epochs", "3"]);
        }
        let d = if i == 2 { &other } else { &data };
        let single_out = dir.path().join(format!("single{i}"));
        single(&argv(d, &single_out, &extra));
        members.push((
            format!("train@m{i}"),
            argv(d, &dir.path().join(format!("packed{i}")), &extra),
        ));
    }
    let o = pack(&dir.path().join("m.json"), &members);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("6 members in 2 stacks"), "{err}");
    for i in 0..settings.len() {
        let a = metrics(&dir.path().join(format!("single{i}")));
        let b = metrics(&dir.path().join(format!("packed{i}")));
        for key in ["best_heldout_acc", "last_heldout_acc", "last_train_acc"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!((x - y).abs() <= 0.02, "member {i} {key}: {x} vs {y}");
        }
        assert_eq!(a["config"], b["config"], "member {i}");
        assert_eq!(
            rows(&dir.path().join(format!("single{i}"))).len(),
            rows(&dir.path().join(format!("packed{i}"))).len(),
            "member {i} stops where its single run stops"
        );
        assert!(b.get("cache_key").is_none(), "member {i}: {b}");
    }
}

#[test]
fn a_diverging_member_leaves_the_others_untouched() {
    let (dir, data) = tmp();
    let settings: [&[&str]; 3] = [
        &["--seed", "1", "--variant", "topk5"],
        &["--seed", "2", "--lr", "1e30"],
        &["--seed", "3", "--activation", "mish"],
    ];
    let member = |tag: &str, i: usize| {
        let mut extra = settings[i].to_vec();
        extra.extend(["--epochs", "3"]);
        (
            format!("train@{tag}{i}"),
            argv(&data, &dir.path().join(format!("{tag}{i}")), &extra),
        )
    };
    let with: Vec<_> = (0..3).map(|i| member("with", i)).collect();
    let without: Vec<_> = [0, 2].iter().map(|&i| member("without", i)).collect();
    let o = pack(&dir.path().join("with.json"), &with);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pack(&dir.path().join("without.json"), &without);
    assert!(o.status.success(), "{}", stderr(&o));

    let bad = dir.path().join("with1");
    let m = metrics(&bad);
    assert_eq!(m["diverged"], true, "{m}");
    let epoch = m["diverged_epoch"].as_u64().unwrap();
    assert_eq!(
        rows(&bad).len() as u64,
        epoch,
        "the diverged epoch's row is kept"
    );
    let single_out = dir.path().join("single1");
    let mut extra = settings[1].to_vec();
    extra.extend(["--epochs", "3"]);
    single(&argv(&data, &single_out, &extra));
    let s = metrics(&single_out);
    assert_eq!(
        s["diverged_epoch"], m["diverged_epoch"],
        "single-run semantics"
    );
    for i in [0, 2] {
        let a = rows(&dir.path().join(format!("with{i}")));
        let b = rows(&dir.path().join(format!("without{i}")));
        assert_eq!(a, b, "member {i}");
    }
}

#[test]
fn manifest_errors() {
    let (dir, data) = tmp();
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, "{\"members\": [\n  {\"instance\": ").unwrap();
    let o = pack_raw(&bad_json);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad.json` at 2:"), "{}", stderr(&o));

    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"members": []}"#).unwrap();
    let o = pack_raw(&empty);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("lists no members"), "{}", stderr(&o));

    let o = pack_raw(&dir.path().join("missing.json"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));

    let good = dir.path().join("good");
    let lost = dir.path().join("lost");
    let o = pack(
        &dir.path().join("m.json"),
        &[
            (
                "train@lost".into(),
                argv(&dir.path().join("nope"), &lost, &[]),
            ),
            ("train@good".into(), argv(&data, &good, &[])),
            ("train@flags".into(), argv(&data, &lost, &["--bogus", "1"])),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("train@lost: error: failed to find data directory"),
        "{err}"
    );
    assert!(err.contains("train@flags: error:"), "{err}");
    assert!(good.join("metrics.json").exists(), "{err}");
    assert!(!lost.exists());
    // Only the finished member's completion marker exists.
    let done = |i: usize| dir.path().join(format!("m.{i}.done")).exists();
    assert!(!done(0) && done(1) && !done(2), "{err}");
}
