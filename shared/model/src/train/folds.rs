//! Calibration folds. Cross-fitted (fewer trusted examples than
//! `cross_fit_below`): every trusted example (weight >= 1: confidence is
//! calibrated against trusted labels) falls in one of `calibration_folds`
//! folds, scored by a model trained without that fold. Otherwise one fold:
//! the first `calibration_fraction` of trusted examples in a seeded order.

use super::TrainConfig;
use crate::rng::Rng;

/// The seeded order of the examples and the calibration folds drawn from it.
pub(super) fn calibration_folds(n: usize, weights: Option<&[f32]>, cfg: &TrainConfig) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(cfg.seed ^ 0xCA11_B4A7).shuffle(&mut order);
    let trusted = |i: usize| weights.is_none_or(|w| w[i] >= 1.0);
    let mut folds: Vec<Vec<usize>> = Vec::new();
    if n >= 100 && cfg.calibration_fraction > 0.0 {
        let n_trusted = (0..n).filter(|&i| trusted(i)).count();
        if cfg.calibration_folds >= 2 && n_trusted < cfg.cross_fit_below {
            let kf = cfg.calibration_folds as usize;
            folds = vec![Vec::new(); kf];
            for (j, i) in order.iter().copied().filter(|&i| trusted(i)).enumerate() {
                folds[j % kf].push(i);
            }
        } else {
            let n_cal = (n as f32 * cfg.calibration_fraction) as usize;
            folds.push(order.iter().copied().filter(|&i| trusted(i)).take(n_cal).collect());
        }
        folds.retain(|f| !f.is_empty());
    }
    (order, folds)
}

/// The examples of each fit: job 0 fits every example (the model kept); job
/// 1 + f fits all but fold f, in the seeded order.
pub(super) fn fold_jobs(n: usize, order: &[usize], folds: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut fold_of = vec![usize::MAX; n];
    for (f, members) in folds.iter().enumerate() {
        for &i in members {
            fold_of[i] = f;
        }
    }
    let mut jobs: Vec<Vec<usize>> = vec![(0..n).collect()];
    for f in 0..folds.len() {
        jobs.push(order.iter().copied().filter(|&i| fold_of[i] != f).collect());
    }
    jobs
}
