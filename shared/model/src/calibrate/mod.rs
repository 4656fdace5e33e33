//! Calibration: temperature scaling of the linear scores (the probabilities a
//! prediction reports), then the confidence: a logistic model of "this prediction
//! is right" fitted on held-out predictions ([`Logistic`]), so that "0.9" means right
//! nine times in ten. Artifacts trained before it carry an isotonic map instead
//! ([`Isotonic`]), still read and applied.

mod isotonic;
mod logistic;

pub use isotonic::{Isotonic, TIE_SLOPE};
pub use logistic::{Logistic, Penalties, TOKEN_WEIGHT};

/// Softmax of `scores / t` into `out`.
pub fn softmax_t(scores: &[f32], t: f32, out: &mut Vec<f32>) {
    out.clear();
    let m = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut z = 0.0f32;
    for &s in scores {
        let e = ((s - m) / t).exp();
        out.push(e);
        z += e;
    }
    for p in out.iter_mut() {
        *p /= z;
    }
}

/// Mean negative log-likelihood of the true labels at temperature `t`.
fn nll(scores: &[f32], k: usize, y: &[u16], t: f32) -> f64 {
    let mut total = 0.0f64;
    for (i, &yi) in y.iter().enumerate() {
        let s = &scores[i * k..(i + 1) * k];
        let m = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse: f64 = s.iter().map(|&v| (((v - m) / t) as f64).exp()).sum::<f64>().ln();
        total += lse - ((s[yi as usize] - m) / t) as f64;
    }
    total / y.len().max(1) as f64
}

/// The temperature minimising held-out NLL (golden-section search on ln t).
/// `scores` is row-major, `k` scores per example.
pub fn fit_temperature(scores: &[f32], k: usize, y: &[u16]) -> f32 {
    if y.is_empty() {
        return 1.0;
    }
    let (mut a, mut b) = ((0.01f64).ln(), (100.0f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let f = |lt: f64| nll(scores, k, y, lt.exp() as f32);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_recovers_scale() {
        // scores that are 3x too confident: the best temperature is about 3
        let mut scores = Vec::new();
        let mut y = Vec::new();
        let mut s: u64 = 1;
        for i in 0..3000 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = ((s >> 33) as f64 / (1u64 << 31) as f64) as f32; // 0..1
            let margin = 2.0 * u; // true logit gap
            let p_right = 1.0 / (1.0 + (-margin).exp());
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = ((s >> 33) as f64 / (1u64 << 31) as f64) as f32;
            scores.extend_from_slice(&[3.0 * margin, 0.0]);
            y.push(if v < p_right { 0 } else { 1 });
            let _ = i;
        }
        let t = fit_temperature(&scores, 2, &y);
        assert!((2.4..3.6).contains(&t), "t = {t}");
    }
}
