//! The exact solver: dual coordinate descent for one-vs-rest L2-loss SVMs,
//! with shrinking, a block of classes per thread.

use super::sgd::Weights;
use crate::features::SparseVec;
use crate::rng::Rng;

/// Exact solver: dual coordinate descent for one-vs-rest L2-regularised L2-loss SVMs
/// (squared hinge), as liblinear's `-s 1` with its shrinking. A block of classes is
/// solved side by side, so that one pass reads each example once for all of them. The
/// bias is an extra constant feature (regularised like the others). Every class is its
/// own problem with its own stopping rule and sees the examples in the same seeded
/// order, so the result does not depend on how classes are grouped into threads.
pub(super) struct DualCd<'a> {
    pub(super) k: usize,
    pub(super) rows: usize,
    /// Cost of a margin violation (per example: times its weight).
    pub(super) c: f32,
    /// Value of the constant bias feature.
    pub(super) bias: f32,
    pub(super) max_passes: u32,
    /// A class stops once the spread of its projected gradients is below this.
    pub(super) tol: f32,
    pub(super) seed: u64,
    pub(super) weights: Option<&'a [f32]>,
    pub(super) threads: usize,
}

/// The dual variables and the primal weights they imply (`w = Σ α y x`) of the
/// classes `lo..lo + k` (row-major `rows × k`).
#[derive(Clone)]
pub(super) struct DualState {
    lo: usize,
    k: usize,
    alpha: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
}

impl DualCd<'_> {
    /// Fresh states, one per block of classes (one block per thread).
    pub(super) fn new_states(&self, n: usize) -> Vec<DualState> {
        let blocks = if self.threads >= 2 && self.k >= 2 { 2 } else { 1 };
        let mut out = Vec::new();
        let mut lo = 0;
        for t in 0..blocks {
            let kk = (self.k - lo) / (blocks - t);
            out.push(DualState { lo, k: kk, alpha: vec![0.0; n * kk], w: vec![0.0; self.rows * kk], b: vec![0.0; kk] });
            lo += kk;
        }
        out
    }

    /// Solve over the examples `idx`, starting from the states (dual variables of
    /// examples outside `idx` are left as they are).
    pub(super) fn run(
        &self,
        xs: &[SparseVec],
        xsq: &[f32],
        y: &[u16],
        idx: &[usize],
        states: &mut [DualState],
        on_pass: &(dyn Fn(u32) + Sync),
    ) {
        let order: Vec<usize> = idx.iter().copied().filter(|&i| self.weights.is_none_or(|w| w[i] > 0.0)).collect();
        if states.len() == 1 {
            self.run_block(xs, xsq, y, &order, &mut states[0], on_pass);
        } else {
            std::thread::scope(|sc| {
                let (first, rest) = states.split_first_mut().expect("a block");
                let order = &order;
                let hs: Vec<_> = rest
                    .iter_mut()
                    .map(|st| sc.spawn(move || self.run_block(xs, xsq, y, order, st, &|_| {})))
                    .collect();
                self.run_block(xs, xsq, y, order, first, on_pass);
                for h in hs {
                    h.join().expect("training thread");
                }
            });
        }
    }

    fn run_block(
        &self,
        xs: &[SparseVec],
        xsq: &[f32],
        y: &[u16],
        order: &[usize],
        st: &mut DualState,
        on_pass: &dyn Fn(u32),
    ) {
        let k = st.k;
        if k == 0 {
            return;
        }
        let mut order = order.to_vec();
        let mut rng = Rng::new(self.seed ^ 0xD0A1_CD00);
        let mut work = BlockWork::new(xs.len(), k);
        for pass in 0..self.max_passes {
            rng.shuffle(&mut order);
            work.readd_classes();
            work.start_pass();
            for &i in &order {
                self.visit(&mut work, i, &xs[i], xsq[i], y[i], st);
            }
            on_pass(pass + 1);
            if work.end_pass(self.tol) {
                break;
            }
        }
    }

    /// One example of a pass: its scores on its active classes, the dual
    /// updates of those pairs, and the change they make to the primal weights.
    fn visit(&self, work: &mut BlockWork, i: usize, x: &SparseVec, xsq_i: f32, y_i: u16, st: &mut DualState) {
        let (k, lo) = (st.k, st.lo);
        let yi = (y_i as usize).wrapping_sub(lo);
        let ci = self.c * self.weights.map_or(1.0, |w| w[i]);
        let dii = 0.5 / ci;
        let qd = xsq_i + dii;
        if work.n_act[i] == 0 {
            return;
        }
        work.scores(i, x, st, self.bias);
        work.pair_updates(i, yi, dii, qd, &mut st.alpha[i * k..i * k + k]);
        if work.upd.is_empty() {
            return;
        }
        for (&f, &v) in x.idx.iter().zip(&x.val) {
            let row = &mut st.w[f as usize * k..f as usize * k + k];
            for &(j, d) in &work.upd {
                row[j] += d * v;
            }
        }
        for &(j, d) in &work.upd {
            st.b[j] += d * self.bias;
        }
    }

    /// The primal weights of all classes, row-major `rows × k`.
    pub(super) fn weights(&self, states: &[DualState]) -> Weights {
        let k = self.k;
        let mut w = vec![0.0f32; self.rows * k];
        let mut b = vec![0.0f32; k];
        for st in states {
            for r in 0..self.rows {
                w[r * k + st.lo..r * k + st.lo + st.k].copy_from_slice(&st.w[r * st.k..(r + 1) * st.k]);
            }
            for j in 0..st.k {
                b[st.lo + j] = st.b[j] * self.bias;
            }
        }
        Weights { w, b }
    }
}

/// The working state of one block's solve: the active classes of each example
/// (`act[i*k .. i*k + n_act[i]]`; a pair leaves when its margin is comfortably
/// met (shrinking) and comes back for a final check), each class's projected
/// gradient bounds and stopping state, and scratch.
struct BlockWork {
    k: usize,
    n: usize,
    act: Vec<u16>,
    n_act: Vec<u16>,
    pg_max_old: Vec<f32>,
    pg_min_old: Vec<f32>,
    pg_max: Vec<f32>,
    pg_min: Vec<f32>,
    shrunk: Vec<bool>,
    done: Vec<bool>,
    /// Classes coming back from shrinking: re-added to every example's list.
    readd: Vec<usize>,
    s: Vec<f32>,
    upd: Vec<(usize, f32)>,
}

impl BlockWork {
    fn new(n: usize, k: usize) -> Self {
        let mut act: Vec<u16> = Vec::with_capacity(n * k);
        for _ in 0..n {
            act.extend(0..k as u16);
        }
        BlockWork {
            k,
            n,
            act,
            n_act: vec![k as u16; n],
            pg_max_old: vec![f32::INFINITY; k],
            pg_min_old: vec![f32::NEG_INFINITY; k],
            pg_max: vec![0.0f32; k],
            pg_min: vec![0.0f32; k],
            shrunk: vec![false; k],
            done: vec![false; k],
            readd: Vec::new(),
            s: vec![0.0f32; k],
            upd: Vec::with_capacity(k),
        }
    }

    /// Puts the classes back from shrinking in every example's active list.
    fn readd_classes(&mut self) {
        if self.readd.is_empty() {
            return;
        }
        let k = self.k;
        for i in 0..self.n {
            let list = &mut self.act[i * k..i * k + k];
            let m = self.n_act[i] as usize;
            let present: Vec<bool> = {
                let mut p = vec![false; k];
                for &j in &list[..m] {
                    p[j as usize] = true;
                }
                p
            };
            let mut m2 = m;
            for &j in &self.readd {
                if !present[j] {
                    list[m2] = j as u16;
                    m2 += 1;
                }
            }
            self.n_act[i] = m2 as u16;
        }
        self.readd.clear();
    }

    fn start_pass(&mut self) {
        self.pg_max.iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
        self.pg_min.iter_mut().for_each(|v| *v = f32::INFINITY);
    }

    /// The scores of example `i` on its active classes, into `s`.
    fn scores(&mut self, i: usize, x: &SparseVec, st: &DualState, bias: f32) {
        let k = self.k;
        let list = &self.act[i * k..i * k + k];
        let m = self.n_act[i] as usize;
        let s = &mut self.s;
        if m == k {
            for (sj, &bj) in s.iter_mut().zip(&st.b) {
                *sj = bj * bias;
            }
            for (&f, &v) in x.idx.iter().zip(&x.val) {
                let row = &st.w[f as usize * k..f as usize * k + k];
                for (a, &ww) in s.iter_mut().zip(row) {
                    *a += v * ww;
                }
            }
        } else {
            for &j in &list[..m] {
                s[j as usize] = st.b[j as usize] * bias;
            }
            for (&f, &v) in x.idx.iter().zip(&x.val) {
                let row = &st.w[f as usize * k..f as usize * k + k];
                for &j in &list[..m] {
                    s[j as usize] += v * row[j as usize];
                }
            }
        }
    }

    /// The dual step of each active pair of example `i` (its `alpha`), shrinking
    /// the pairs of finished classes and those whose margin is comfortably met;
    /// the changes (class, step × label) go to `upd`.
    fn pair_updates(&mut self, i: usize, yi: usize, dii: f32, qd: f32, alpha: &mut [f32]) {
        let k = self.k;
        let list = &mut self.act[i * k..i * k + k];
        let mut m = self.n_act[i] as usize;
        let s = &self.s;
        self.upd.clear();
        let mut t = 0;
        while t < m {
            let j = list[t] as usize;
            if self.done[j] {
                m -= 1;
                list.swap(t, m);
                continue;
            }
            let yij = if j == yi { 1.0f32 } else { -1.0 };
            let a = alpha[j];
            let g = yij * s[j] - 1.0 + dii * a;
            let mut pg = 0.0;
            if a == 0.0 {
                if g > self.pg_max_old[j] {
                    m -= 1;
                    list.swap(t, m);
                    self.shrunk[j] = true;
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            self.pg_max[j] = self.pg_max[j].max(pg);
            self.pg_min[j] = self.pg_min[j].min(pg);
            if pg != 0.0 {
                let na = (a - g / qd).max(0.0);
                if na != a {
                    self.upd.push((j, (na - a) * yij));
                    alpha[j] = na;
                }
            }
            t += 1;
        }
        self.n_act[i] = m as u16;
    }

    /// The stopping rule of each class after a pass; true once every class is done.
    fn end_pass(&mut self, tol: f32) -> bool {
        for j in 0..self.k {
            if self.done[j] {
                continue;
            }
            if self.pg_max[j] - self.pg_min[j] <= tol || self.pg_max[j] < self.pg_min[j] {
                if !self.shrunk[j] {
                    self.done[j] = true;
                    continue;
                }
                // converged on the active pairs: check every pair once more
                self.shrunk[j] = false;
                self.readd.push(j);
                self.pg_max_old[j] = f32::INFINITY;
                self.pg_min_old[j] = f32::NEG_INFINITY;
                continue;
            }
            self.pg_max_old[j] = if self.pg_max[j] <= 0.0 { f32::INFINITY } else { self.pg_max[j] };
            self.pg_min_old[j] = if self.pg_min[j] >= 0.0 { f32::NEG_INFINITY } else { self.pg_min[j] };
        }
        self.done.iter().all(|&d| d)
    }
}
