//! Slots: explicit tokens for CPU capacity (`-j`) and GPU devices. An instance runs only while
//! it holds its grant. Fractional GPU requests pack onto one device (first fit, in device
//! order); whole-number requests take that many free devices. CPU slots are numbered tokens
//! (`0..jobs`): a grant names the ones it holds (the lowest free), so the report's timeline can
//! draw one lane per slot ([`Slots::slot_label`]).

use crate::spec::Resources;

/// What an instance holds while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// CPU slots.
    pub cpus: u32,
    /// Which CPU slots (indices in `0..jobs`, `cpus` of them).
    pub cpu_slots: Vec<u32>,
    /// (device index, share) pairs.
    pub gpus: Vec<(usize, f64)>,
}

/// The pool of free capacity.
#[derive(Debug, Clone)]
pub struct Slots {
    cpu_total: u32,
    cpu_free: u32,
    /// Whether each numbered CPU slot is held.
    cpu_held: Vec<bool>,
    gpu_ids: Vec<String>,
    gpu_free: Vec<f64>,
}

const EPS: f64 = 1e-9;

impl Slots {
    /// `jobs` CPU slots and the given GPU devices.
    pub fn new(jobs: u32, gpu_ids: Vec<String>) -> Slots {
        let n = gpu_ids.len();
        Slots {
            cpu_total: jobs.max(1),
            cpu_free: jobs.max(1),
            cpu_held: vec![false; jobs.max(1) as usize],
            gpu_ids,
            gpu_free: vec![1.0; n],
        }
    }

    /// Whether there are GPUs at all.
    pub fn has_gpus(&self) -> bool {
        !self.gpu_ids.is_empty()
    }

    /// CPU slots not held.
    pub fn cpus_free(&self) -> u32 {
        self.cpu_free
    }

    /// Total CPU slots.
    pub fn cpu_total(&self) -> u32 {
        self.cpu_total
    }

    /// Whether nothing is held.
    pub fn idle(&self) -> bool {
        self.cpu_free == self.cpu_total && self.gpu_free.iter().all(|f| (*f - 1.0).abs() < EPS)
    }

    /// Takes the slots for `r` if available now. Requests larger than the pool are clamped so
    /// that they can still run alone.
    pub fn try_take(&mut self, r: &Resources) -> Option<Grant> {
        let cpus = r.cpus.min(self.cpu_total);
        if cpus > self.cpu_free {
            return None;
        }
        let mut gpus = Vec::new();
        if r.gpus > 0.0 && self.has_gpus() {
            if r.gpus < 1.0 - EPS {
                let d = self.gpu_free.iter().position(|f| *f + EPS >= r.gpus)?;
                gpus.push((d, r.gpus));
            } else {
                let want = (r.gpus.round() as usize).min(self.gpu_free.len());
                let free: Vec<usize> = (0..self.gpu_free.len())
                    .filter(|&d| (self.gpu_free[d] - 1.0).abs() < EPS)
                    .take(want)
                    .collect();
                if free.len() < want {
                    return None;
                }
                gpus.extend(free.into_iter().map(|d| (d, 1.0)));
            }
        }
        self.cpu_free -= cpus;
        let cpu_slots: Vec<u32> = (0..self.cpu_total)
            .filter(|&c| !self.cpu_held[c as usize])
            .take(cpus as usize)
            .collect();
        for &c in &cpu_slots {
            self.cpu_held[c as usize] = true;
        }
        for (d, s) in &gpus {
            self.gpu_free[*d] -= s;
        }
        Some(Grant {
            cpus,
            cpu_slots,
            gpus,
        })
    }

    /// Whether `r` could be granted now (nothing is taken).
    pub fn fits(&self, r: &Resources) -> bool {
        // The same rules as `try_take`, without taking (or allocating: the dispatcher asks
        // this of every waiting instance while the slots are full).
        if r.cpus.min(self.cpu_total) > self.cpu_free {
            return false;
        }
        if r.gpus <= 0.0 || !self.has_gpus() {
            return true;
        }
        if r.gpus < 1.0 - EPS {
            self.gpu_free.iter().any(|f| *f + EPS >= r.gpus)
        } else {
            let want = (r.gpus.round() as usize).min(self.gpu_free.len());
            self.gpu_free
                .iter()
                .filter(|f| (**f - 1.0).abs() < EPS)
                .count()
                >= want
        }
    }

    /// Returns a grant.
    pub fn release(&mut self, g: &Grant) {
        self.cpu_free += g.cpus;
        for &c in &g.cpu_slots {
            if let Some(h) = self.cpu_held.get_mut(c as usize) {
                *h = false;
            }
        }
        for (d, s) in &g.gpus {
            self.gpu_free[*d] = (self.gpu_free[*d] + s).min(1.0);
        }
    }

    /// The slots a grant holds, in words, for the action record and the report's timeline:
    /// `gpu 0 · cpu 2` (GPU ids as given, CPU slot indices), `cpu 0`, `cpu 0,1`; `cpu -` when
    /// it holds no CPU slot.
    pub fn slot_label(&self, g: &Grant) -> String {
        let cpus = if g.cpu_slots.is_empty() {
            "-".to_owned()
        } else {
            g.cpu_slots
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        if g.gpus.is_empty() {
            format!("cpu {cpus}")
        } else {
            format!("gpu {} · cpu {cpus}", self.visible_devices(g))
        }
    }

    /// `CUDA_VISIBLE_DEVICES` for a grant.
    pub fn visible_devices(&self, g: &Grant) -> String {
        g.gpus
            .iter()
            .map(|(d, _)| self.gpu_ids[*d].clone())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(gpus: f64, cpus: u32) -> Resources {
        Resources {
            gpus,
            cpus,
            ..Resources::default()
        }
    }

    #[test]
    fn fits_answers_as_taking_would() {
        // Every request against pools filled and emptied step by step: `fits` (which takes
        // nothing) agrees with a copy that takes. Fractions that binary floating point cannot
        // hold exactly (0.1, 0.2, 1/3) fill a device to within rounding, so the margin must
        // be applied alike.
        let requests: Vec<Resources> = [0.0, 0.1, 0.2, 0.25, 1.0 / 3.0, 0.5, 0.75, 1.0, 2.0, 3.0]
            .iter()
            .flat_map(|&g| [0, 1, 2, 5].map(|c| res(g, c)))
            .collect();
        for gpus in [
            vec![],
            vec!["0".to_owned()],
            vec!["0".to_owned(), "1".to_owned()],
        ] {
            let mut s = Slots::new(4, gpus);
            let mut held = Vec::new();
            for (n, step) in requests.iter().chain(&requests).enumerate() {
                for r in &requests {
                    assert_eq!(
                        s.fits(r),
                        s.clone().try_take(r).is_some(),
                        "{r:?} against {s:?}"
                    );
                }
                held.extend(s.try_take(step));
                if n % 3 == 2 && !held.is_empty() {
                    s.release(&held.remove(0));
                }
            }
        }
    }

    #[test]
    fn a_device_filled_by_twentieths_still_fits_its_last_one() {
        // Nineteen takes of 0.05 leave 0.04999…68, short of 0.05 by rounding only: `fits`
        // and `try_take` both allow for it.
        let mut s = Slots::new(1, vec!["0".into()]);
        for _ in 0..19 {
            s.try_take(&res(0.05, 0)).unwrap();
        }
        assert!(s.fits(&res(0.05, 0)));
        assert!(s.try_take(&res(0.05, 0)).is_some());
        assert!(!s.fits(&res(0.05, 0)), "the device is full");
    }

    #[test]
    fn fractions_pack_onto_one_device_and_wholes_take_free_devices() {
        let mut s = Slots::new(8, vec!["0".into(), "1".into()]);
        let a: Vec<Grant> = (0..4).map(|_| s.try_take(&res(0.25, 1)).unwrap()).collect();
        assert!(a.iter().all(|g| g.gpus == vec![(0, 0.25)]));
        let whole = s.try_take(&res(1.0, 1)).unwrap();
        assert_eq!(whole.gpus, vec![(1, 1.0)]);
        assert!(s.try_take(&res(0.25, 1)).is_none(), "both devices are full");
        s.release(&a[0]);
        assert_eq!(s.try_take(&res(0.25, 1)).unwrap().gpus, vec![(0, 0.25)]);
        assert_eq!(s.visible_devices(&whole), "1");
    }

    #[test]
    fn cpu_slots_bound_concurrency_and_big_requests_are_clamped() {
        let mut s = Slots::new(2, vec![]);
        let g1 = s.try_take(&res(0.0, 1)).unwrap();
        let _g2 = s.try_take(&res(0.0, 1)).unwrap();
        assert!(s.try_take(&res(0.0, 1)).is_none());
        s.release(&g1);
        assert!(s.try_take(&res(0.0, 4)).is_none(), "needs the whole pool");
        let mut s = Slots::new(2, vec![]);
        assert_eq!(
            s.try_take(&res(1.0, 4)).unwrap(),
            Grant {
                cpus: 2,
                cpu_slots: vec![0, 1],
                gpus: vec![]
            }
        );
    }

    #[test]
    fn each_grant_holds_the_lowest_free_numbered_cpu_slots_and_gives_them_back() {
        let mut s = Slots::new(3, vec!["0".into()]);
        let a = s.try_take(&res(0.0, 1)).unwrap();
        let b = s.try_take(&res(0.5, 1)).unwrap();
        assert_eq!(
            (a.cpu_slots.clone(), b.cpu_slots.clone()),
            (vec![0], vec![1])
        );
        assert_eq!(s.slot_label(&a), "cpu 0");
        assert_eq!(s.slot_label(&b), "gpu 0 · cpu 1");
        s.release(&a);
        let c = s.try_take(&res(0.0, 2)).unwrap();
        assert_eq!(
            c.cpu_slots,
            vec![0, 2],
            "slot 0 is free again, slot 1 still held"
        );
        assert_eq!(s.slot_label(&c), "cpu 0,2");
        s.release(&b);
        s.release(&c);
        assert!(s.idle());
    }
}
