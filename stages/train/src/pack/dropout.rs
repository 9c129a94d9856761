//! Dropout over a stack of members: each member's slice is dropped with that member's own
//! stream.
//!
//! Activations are member-major and contiguous (`[M, ...]`), so member `m`'s slice is the
//! element range `m*n .. (m+1)*n` of the flattened tensor, in exactly the element order of the
//! single run's tensor at the same site. On the CPU each member draws its dropped positions
//! from its own [`Dropout`] stream (the single run's stream, see `crate::dropout`) with
//! `n` elements, in the same call order as the single run; the positions are shifted by
//! `m*n` and applied with one `index_fill_`. With equal seeds the same elements are dropped
//! as in the single run. On CUDA the native kernel drops over the whole stack, as a single run
//! does there (no parity of the dropped elements on CUDA).

use tch::{Device, Tensor};

use crate::dropout::Dropout;

/// The dropout streams of a stack's members, in member order.
#[derive(Clone, Debug)]
pub struct PackDropout {
    p: f64,
    streams: Vec<Dropout>,
}

impl PackDropout {
    /// A dropout site over the members whose streams are `streams` (all with probability `p`).
    pub fn new(p: f64, streams: Vec<Dropout>) -> PackDropout {
        PackDropout { p, streams }
    }

    /// Keeps the members at `keep` (indices into the current members, ascending).
    pub fn retain(&mut self, keep: &[usize]) {
        self.streams = keep.iter().map(|&i| self.streams[i].clone()).collect();
    }

    /// Applies dropout to `xs` (`[M, ...]`, contiguous) when `active`.
    pub fn forward(&self, xs: Tensor, active: bool) -> Tensor {
        if !active || self.p <= 0.0 {
            return xs;
        }
        if xs.device() != Device::Cpu {
            return xs.dropout(self.p, true);
        }
        let per_member = xs.numel() / self.streams.len().max(1);
        let mut positions = Vec::new();
        for (m, stream) in self.streams.iter().enumerate() {
            let offset = (m * per_member) as i64;
            positions.extend(stream.positions(per_member).into_iter().map(|i| i + offset));
        }
        crate::dropout::drop_at(xs, self.p, &positions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn each_slice_is_dropped_like_its_own_single_site() {
        let streams: Vec<Dropout> = (0..3).map(|s| Dropout::seeded(0.2, s)).collect();
        let pack = PackDropout::new(0.2, streams);
        let singles: Vec<Dropout> = (0..3).map(|s| Dropout::seeded(0.2, s)).collect();
        let xs = Tensor::rand([3, 4, 50], (Kind::Float, Device::Cpu));
        for _ in 0..2 {
            let packed = pack.forward(xs.copy(), true);
            for (m, single) in singles.iter().enumerate() {
                let one = single.forward(xs.get(m as i64).copy(), true);
                assert!(packed.get(m as i64).equal(&one), "member {m}");
            }
        }
    }
}
