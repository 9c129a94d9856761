//! Attention masks of a stack whose members may use different variants.
//!
//! Each member keeps the single run's semantics (`crate::mask`): a fixed variant blocks its
//! `[L, L]` pattern ([`blocked_tensor`]), full blocks nothing, top-k keeps each query's `k`
//! largest logits with the selection of [`topk_index`] (ties to the lower key), computed from
//! that member's own logits. The fixed parts of all members form one `[M, 1, L, L]` boolean
//! tensor built once; when some member uses top-k, the `[M, B*H, L, L]` blocked tensor is
//! materialised and the top-k members' slices are overwritten from their logits. Either way
//! one `masked_fill` with [`MASKED_LOGIT`] masks the whole stack, which gives the single run's
//! masked logits (kept entries unchanged, blocked ones `MASKED_LOGIT`) and its gradients (only
//! through kept entries).

use common::Variant;
use tch::{Device, Kind, Tensor};

use crate::mask::{blocked_tensor, kept_from_index, topk_index, MASKED_LOGIT};

/// The masks of a stack's members for one sequence length.
#[derive(Debug)]
pub struct PackMask {
    /// `[M, 1, L, L]`, `true` where blocked; `None` when no member has a fixed pattern.
    fixed: Option<Tensor>,
    /// `(member, k)` of the top-k members.
    topk: Vec<(i64, i64)>,
}

impl PackMask {
    /// The masks of members with `variants` for sequences of total length `len` (global tokens
    /// included; all members share it).
    pub fn new(variants: &[Variant], len: usize, device: Device) -> PackMask {
        let fixed_parts: Vec<Option<Tensor>> = variants
            .iter()
            .map(|&v| blocked_tensor(v, len - v.globals(), device))
            .collect();
        let fixed = fixed_parts.iter().any(Option::is_some).then(|| {
            let parts: Vec<Tensor> = fixed_parts
                .into_iter()
                .map(|b| {
                    b.unwrap_or_else(|| {
                        Tensor::zeros([len as i64, len as i64], (Kind::Bool, device))
                    })
                })
                .collect();
            // [M, L, L] -> [M, 1, L, L]
            Tensor::stack(&parts, 0).unsqueeze(1)
        });
        let topk = variants
            .iter()
            .enumerate()
            .filter_map(|(m, v)| match v {
                Variant::Topk { k } => Some((m as i64, *k as i64)),
                _ => None,
            })
            .collect();
        PackMask { fixed, topk }
    }

    /// Masks `logits` (`[M*B*H, L, L]`, member-major) member by member.
    pub fn apply(&self, logits: Tensor, members: i64) -> Tensor {
        if self.fixed.is_none() && self.topk.is_empty() {
            return logits;
        }
        let size = logits.size();
        let (rows, len) = (size[0] / members, size[1]);
        // [M, B*H, L, L]
        let per_member = logits.view([members, rows, len, len]);
        let blocked = if self.topk.is_empty() {
            self.fixed.as_ref().expect("a fixed part").shallow_clone()
        } else {
            let shape = [members, rows, len, len];
            let blocked = match &self.fixed {
                Some(f) => f.expand(shape, false).copy(),
                None => Tensor::zeros(shape, (Kind::Bool, logits.device())),
            };
            for &(m, k) in &self.topk {
                let own = per_member.get(m);
                let kept = kept_from_index(&own, &topk_index(&own, k));
                let mut slot = blocked.get(m);
                slot.copy_(&kept.logical_not());
            }
            blocked
        };
        per_member
            .masked_fill(&blocked, MASKED_LOGIT)
            .view(size.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::topk_masked;

    #[test]
    fn every_member_gets_its_single_run_mask() {
        let variants: Vec<Variant> = ["full", "band5", "topk5", "bloc5", "topk9"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        let (len, rows) = (20, 3);
        let logits = Tensor::randn([5 * rows, len, len], (Kind::Float, Device::Cpu));
        let masked = PackMask::new(&variants, len as usize, Device::Cpu).apply(logits.copy(), 5);
        for (m, v) in variants.iter().enumerate() {
            let own = logits.narrow(0, m as i64 * rows, rows);
            let single = match v {
                Variant::Full => own,
                Variant::Topk { k } => topk_masked(&own, *k as i64).0,
                _ => own.masked_fill(
                    &blocked_tensor(*v, len as usize, Device::Cpu).unwrap(),
                    MASKED_LOGIT,
                ),
            };
            assert!(
                masked.narrow(0, m as i64 * rows, rows).equal(&single),
                "{v}"
            );
        }
    }
}
