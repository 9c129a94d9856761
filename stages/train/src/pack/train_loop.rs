//! The epoch loop of one stack: the single run's `train_loop::train`, for every member at
//! once.
//!
//! Each epoch: every member reshuffles with its own [`Shuffler`]; one step per batch position
//! trains all members on their own batches (`[M, B, L]`), backward of the sum of the members'
//! batch-mean losses (the members' gradients are independent), per-member clipping and update;
//! then each member is evaluated on its own training and held-out splits without dropout; rows
//! go to the caller. A member stops exactly where its single run would: both ask
//! `stopping::stop_reason` (non-finite loss, the stopping rule, the epoch cap). The caller
//! finishes a stopped member and it is removed from the stack
//! ([`PackModel::retain`], [`PackOptim::retain`]), so it costs nothing further. Learning rates
//! are multiplied by each member's gamma after each epoch.

use common::run_output::HistoryRow;
use tch::{Device, Kind, Tensor};

use crate::error::TrainError;
use crate::eval::EvalResult;
use crate::pack::member::Member;
use crate::pack::model::{member_loss_sums, member_losses, PackModel};
use crate::pack::optim::PackOptim;
use crate::stopping::{stop_reason, Stop};

/// One split of every member, stacked: tokens `[M, N, L]`, labels `[M, N]`.
#[derive(Debug)]
pub struct PackSplit {
    /// `[M, N, L]` token ids.
    pub tokens: Tensor,
    /// `[M, N]` labels.
    pub labels: Tensor,
}

impl PackSplit {
    /// Stacks the members' splits (all of the same size).
    pub fn stack(splits: &[&crate::dataset::Split]) -> PackSplit {
        let tokens: Vec<&Tensor> = splits.iter().map(|s| &s.tokens).collect();
        let labels: Vec<&Tensor> = splits.iter().map(|s| &s.labels).collect();
        PackSplit {
            tokens: Tensor::stack(&tokens, 0),
            labels: Tensor::stack(&labels, 0),
        }
    }

    fn members(&self) -> i64 {
        self.labels.size()[0]
    }

    fn len(&self) -> i64 {
        self.labels.size()[1]
    }

    /// Keeps the members at `keep` (ascending).
    pub fn retain(&mut self, keep: &Tensor) {
        self.tokens = self.tokens.index_select(0, keep);
        self.labels = self.labels.index_select(0, keep);
    }

    /// Member `m` reads its own examples `index[m]` (`[M, b]`): `([M, b, L], [M, b])`.
    fn select(&self, index: &Tensor) -> (Tensor, Tensor) {
        let (m, n) = (self.members(), self.len());
        let (_, b) = index.size2().expect("[members, batch] index");
        let offsets = (Tensor::arange(m, (Kind::Int64, index.device())) * n).view([m, 1]);
        // [M*b] rows of the flattened [M*N, L]
        let flat = (index + offsets).view([-1]);
        let len = self.tokens.size()[2];
        (
            self.tokens
                .view([m * n, len])
                .index_select(0, &flat)
                .view([m, b, len]),
            self.labels
                .view([m * n])
                .index_select(0, &flat)
                .view([m, b]),
        )
    }
}

/// One training step of every member on its batch: returns the members' batch-mean losses
/// (`[M]`, detached).
pub fn train_step(
    model: &PackModel,
    opt: &mut PackOptim,
    tokens: &Tensor,
    labels: &Tensor,
) -> Tensor {
    opt.zero_grad(model.params());
    let losses = member_losses(&model.forward(tokens, true), labels);
    losses.sum(Kind::Float).backward();
    opt.update(model.params());
    losses.detach()
}

/// One epoch in which member `m` visits its examples in the order `orders[m]`: returns the
/// sum of each member's batch-mean losses (`[M]`, no synchronisation).
pub fn train_epoch(
    model: &PackModel,
    opt: &mut PackOptim,
    data: &PackSplit,
    orders: &[Vec<i64>],
    batch: usize,
) -> Tensor {
    let device = data.labels.device();
    let (m, n) = (data.members(), data.len());
    let flat: Vec<i64> = orders.iter().flatten().copied().collect();
    let order = Tensor::from_slice(&flat).view([m, n]).to_device(device);
    let mut loss_sum = Tensor::zeros([m], (Kind::Float, device));
    let mut start = 0;
    while start < n {
        let len = (batch as i64).min(n - start);
        let (tokens, labels) = data.select(&order.narrow(1, start, len));
        loss_sum += train_step(model, opt, &tokens, &labels);
        start += len;
    }
    loss_sum
}

/// Every member's loss and accuracy on its split, in evaluation mode (as `eval::evaluate`).
pub fn evaluate(model: &PackModel, data: &PackSplit, eval_batch: usize) -> Vec<EvalResult> {
    tch::no_grad(|| {
        let (m, n) = (data.members(), data.len());
        let device = data.labels.device();
        let mut loss_sum = Tensor::zeros([m], (Kind::Double, device));
        let mut correct = Tensor::zeros([m], (Kind::Int64, device));
        let mut start = 0;
        while start < n {
            let len = (eval_batch as i64).min(n - start);
            let tokens = data.tokens.narrow(1, start, len);
            let labels = data.labels.narrow(1, start, len);
            let logits = model.forward(&tokens, false);
            loss_sum += member_loss_sums(&logits, &labels).to_kind(Kind::Double);
            correct +=
                logits
                    .argmax(-1, false)
                    .eq_tensor(&labels)
                    .sum_dim_intlist(1, false, Kind::Int64);
            start += len;
        }
        let losses = Vec::<f64>::try_from(loss_sum.to_device(Device::Cpu)).expect("[M] losses");
        let correct = Vec::<i64>::try_from(correct.to_device(Device::Cpu)).expect("[M] counts");
        losses
            .into_iter()
            .zip(correct)
            .map(|(loss, right)| EvalResult {
                loss: loss / n as f64,
                acc: right as f64 / n as f64,
            })
            .collect()
    })
}

/// What the caller does with members as the loop runs.
pub trait Reporter {
    /// `member` has a new row (its whole history is `member.history`); `seconds` is the wall
    /// time of the stack's epoch. An error fails the member: it leaves the stack unfinished.
    fn on_epoch(&mut self, member: &Member, seconds: f64) -> Result<(), TrainError>;
    /// `member` stopped; its final parameters have been copied into `member.vs`.
    fn on_stop(&mut self, member: Member, stop: Stop);
    /// `member` failed (its `on_epoch` returned `error`).
    fn on_fail(&mut self, member: Member, error: TrainError);
}

/// Trains one stack of members (all with the same `GroupKey`) until every member has stopped.
pub fn train_group(mut members: Vec<Member>, reporter: &mut impl Reporter) {
    if members.is_empty() {
        return;
    }
    let pairs: Vec<(&tch::nn::VarStore, &crate::model::Model)> =
        members.iter().map(|m| (&m.vs, &m.replica)).collect();
    let mut model = PackModel::new(&pairs);
    let shared = members[0].cfg.train.clone();
    let mut opt = PackOptim::new(
        shared.optimizer,
        shared.clip,
        members.iter().map(|m| m.lr).collect(),
        model.params(),
    );
    let mut train = PackSplit::stack(&members.iter().map(|m| &m.train).collect::<Vec<_>>());
    let mut heldout = PackSplit::stack(&members.iter().map(|m| &m.heldout).collect::<Vec<_>>());
    let device = train.labels.device();
    let mut epoch = 0;
    while !members.is_empty() {
        epoch += 1;
        let started = std::time::Instant::now();
        opt.set_lr(members.iter().map(|m| m.lr).collect());
        let orders: Vec<Vec<i64>> = members
            .iter_mut()
            .map(|m| m.shuffler.next_epoch().to_vec())
            .collect();
        let loss_sum = train_epoch(&model, &mut opt, &train, &orders, shared.batch);
        let loss_sum = loss_sum.to_kind(Kind::Double).to_device(Device::Cpu);
        let loss_sum = Vec::<f64>::try_from(loss_sum).expect("[M] loss sums");
        let on_train = evaluate(&model, &train, shared.eval_batch);
        let on_heldout = evaluate(&model, &heldout, shared.eval_batch);
        let seconds = started.elapsed().as_secs_f64();

        let mut keep = Vec::new();
        let mut ended: Vec<(usize, Result<Stop, TrainError>)> = Vec::new();
        for (i, m) in members.iter_mut().enumerate() {
            m.history.push(HistoryRow {
                epoch,
                lr: m.lr,
                train_loss: on_train[i].loss,
                train_acc: on_train[i].acc,
                heldout_loss: on_heldout[i].loss,
                heldout_acc: on_heldout[i].acc,
            });
            let stop = stop_reason(&m.history, loss_sum[i], &m.cfg.train);
            match (reporter.on_epoch(m, seconds), stop) {
                (Err(e), _) => ended.push((i, Err(e))),
                (Ok(()), Some(stop)) => ended.push((i, Ok(stop))),
                (Ok(()), None) => {
                    m.lr *= m.cfg.train.gamma;
                    keep.push(i);
                }
            }
        }
        if ended.is_empty() {
            continue;
        }
        for &(i, ref how) in &ended {
            if how.is_ok() {
                model.copy_member_into(i, &members[i].vs);
            }
        }
        let mut slots: Vec<Option<Member>> = members.into_iter().map(Some).collect();
        for (i, how) in ended {
            let member = slots[i].take().expect("ends once");
            match how {
                Ok(stop) => reporter.on_stop(member, stop),
                Err(e) => reporter.on_fail(member, e),
            }
        }
        members = slots.into_iter().flatten().collect();
        if members.is_empty() {
            break;
        }
        let index = Tensor::from_slice(&keep.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(device);
        model.retain(&keep);
        opt.retain(&keep);
        train.retain(&index);
        heldout.retain(&index);
    }
}
