//! Averaged SGD: a decaying step over seeded shuffles, per-example step
//! scales, and the average of the weights at the end of each epoch.

use super::Loss;
use crate::Model;
use crate::features::SparseVec;
use crate::model::{PREFETCH_AHEAD, prefetch};
use crate::rng::Rng;

pub(super) struct Weights {
    pub(super) w: Vec<f32>,
    pub(super) b: Vec<f32>,
}

pub(super) struct Sgd<'a> {
    pub(super) k: usize,
    pub(super) rows: usize,
    pub(super) loss: Loss,
    pub(super) epochs: u32,
    pub(super) lr: f32,
    pub(super) seed: u64,
    /// Per-example step scale (see [`train_weighted`](super::train_weighted)).
    pub(super) weights: Option<&'a [f32]>,
}

impl Sgd<'_> {
    /// SGD over the examples `idx` with a decaying step; returns the average of the
    /// weights at the end of each epoch (cheap Polyak averaging).
    pub(super) fn run(&self, xs: &[SparseVec], y: &[u16], idx: &[usize], on_epoch: &dyn Fn(u32)) -> Weights {
        let k = self.k;
        let mut w = vec![0.0f32; self.rows * k];
        let mut avg = vec![0.0f32; self.rows * k];
        let mut b = vec![0.0f32; k];
        let mut avg_b = vec![0.0f32; k];
        let mut order = idx.to_vec();
        let mut rng = Rng::new(self.seed);
        let mut step: f32 = 0.0;
        let mut s = vec![0.0f32; k];
        let mut g = vec![0.0f32; k];
        let total_steps = (self.epochs as usize * order.len()).max(1) as f32;
        let bias_lr = 0.1f32;
        let mut snapshots = 0u32;
        for e in 0..self.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let x = &xs[i];
                let yi = y[i] as usize;
                let wi = self.weights.map_or(1.0, |w| w[i]);
                s.copy_from_slice(&b);
                for (j, (&f, &v)) in x.idx.iter().zip(&x.val).enumerate() {
                    if let Some(&ahead) = x.idx.get(j + PREFETCH_AHEAD) {
                        prefetch(&w[ahead as usize * k]);
                    }
                    let row = &w[f as usize * k..f as usize * k + k];
                    for (a, &ww) in s.iter_mut().zip(row) {
                        *a += v * ww;
                    }
                }
                // linearly decaying step size
                let lr = self.lr * (1.0 - 0.9 * step / total_steps);
                step += 1.0;
                if wi == 0.0 {
                    continue;
                }
                // the weighted loss: this example's gradient scaled by its weight
                let lr = lr * wi;
                match self.loss {
                    Loss::Softmax => {
                        let m = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let mut z = 0.0;
                        for (gi, &si) in g.iter_mut().zip(&s) {
                            *gi = (si - m).exp();
                            z += *gi;
                        }
                        let mut any = false;
                        for (j, gi) in g.iter_mut().enumerate() {
                            *gi /= z;
                            if j == yi {
                                *gi -= 1.0;
                            }
                            if gi.abs() < 1e-3 {
                                *gi = 0.0;
                            } else {
                                any = true;
                            }
                        }
                        if !any {
                            continue;
                        }
                        for (&f, &v) in x.idx.iter().zip(&x.val) {
                            let row = &mut w[f as usize * k..f as usize * k + k];
                            for (wj, &gj) in row.iter_mut().zip(&g) {
                                *wj -= lr * gj * v;
                            }
                        }
                        for (bj, &gj) in b.iter_mut().zip(&g) {
                            *bj -= bias_lr * lr * gj;
                        }
                    }
                    Loss::Hinge => {
                        let mut other = usize::MAX;
                        let mut best = f32::NEG_INFINITY;
                        for (j, &sj) in s.iter().enumerate() {
                            if j != yi && sj > best {
                                best = sj;
                                other = j;
                            }
                        }
                        if s[yi] - best >= 1.0 {
                            continue;
                        }
                        for (&f, &v) in x.idx.iter().zip(&x.val) {
                            let base = f as usize * k;
                            w[base + yi] += lr * v;
                            w[base + other] -= lr * v;
                        }
                        b[yi] += bias_lr * lr;
                        b[other] -= bias_lr * lr;
                    }
                }
            }
            // average the end-of-epoch weights of the later epochs
            if 2 * (e + 1) > self.epochs {
                for (a, &wi) in avg.iter_mut().zip(&w) {
                    *a += wi;
                }
                for (a, &bi) in avg_b.iter_mut().zip(&b) {
                    *a += bi;
                }
                snapshots += 1;
            }
            on_epoch(e + 1);
        }
        let inv = 1.0 / snapshots.max(1) as f32;
        avg.iter_mut().for_each(|a| *a *= inv);
        avg_b.iter_mut().for_each(|a| *a *= inv);
        drop(g);
        Weights { w: avg, b: avg_b }
    }
}

impl Model {
    /// Scores of a vector already expressed in row ids (training-time vectors).
    pub(crate) fn scores_rows(&self, x: &SparseVec, out: &mut Vec<f32>) {
        self.scores_of_rows(&x.idx, &x.val, out);
    }
}
