//! Calibration: temperature scaling of the linear scores, then an isotonic (monotone)
//! map of the top probability fitted on a held-out fold, so that "0.9" means right nine
//! times in ten.

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

/// A monotone non-decreasing map from raw confidence to observed accuracy (pool adjacent
/// violators), linearly interpolated between block centres so that ranking is kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Isotonic {
    /// (raw confidence, calibrated confidence), increasing in both.
    pub knots: Vec<(f32, f32)>,
}

impl Isotonic {
    pub fn identity() -> Self {
        Self { knots: Vec::new() }
    }

    /// Fit on (confidence, was the prediction right). Each block must hold at least
    /// `min_block` examples so that a handful of tickets cannot pin a confidence.
    pub fn fit(conf: &[f32], correct: &[bool], min_block: usize) -> Self {
        if conf.len() < 2 * min_block.max(1) {
            return Self::identity();
        }
        let mut order: Vec<usize> = (0..conf.len()).collect();
        order.sort_by(|&a, &b| conf[a].total_cmp(&conf[b]).then(a.cmp(&b)));
        // blocks: (sum conf, sum correct, count)
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        let mut pending = (0.0, 0.0, 0.0);
        for &i in &order {
            pending.0 += conf[i] as f64;
            pending.1 += correct[i] as u8 as f64;
            pending.2 += 1.0;
            if pending.2 >= min_block as f64 {
                blocks.push(pending);
                pending = (0.0, 0.0, 0.0);
            }
        }
        if pending.2 > 0.0 {
            if let Some(last) = blocks.last_mut() {
                last.0 += pending.0;
                last.1 += pending.1;
                last.2 += pending.2;
            } else {
                blocks.push(pending);
            }
        }
        // pool adjacent violators
        let mut stack: Vec<(f64, f64, f64)> = Vec::new();
        for b in blocks {
            stack.push(b);
            while stack.len() >= 2 {
                let n = stack.len();
                let (x, y) = (stack[n - 2], stack[n - 1]);
                if x.1 / x.2 >= y.1 / y.2 {
                    stack.pop();
                    let last = stack.last_mut().unwrap();
                    *last = (x.0 + y.0, x.1 + y.1, x.2 + y.2);
                } else {
                    break;
                }
            }
        }
        let knots = stack
            .iter()
            // accuracy with Laplace's rule: a block of right answers says 0.99…, never 1
            .map(|&(sc, sy, n)| ((sc / n) as f32, ((sy + 0.5) / (n + 1.0)) as f32))
            .collect();
        Self { knots }
    }

    pub fn apply(&self, c: f64) -> f64 {
        self.apply_ranked(c, f64::NAN)
    }

    /// [`Isotonic::apply`], strictly increasing everywhere so that different raw
    /// confidences never tie: the pooled blocks' map is flat below the first
    /// knot and may be flat between knots of equal accuracy, so the map is
    /// squeezed as `value × (1 − ε) + ε × raw` with ε = [`TIE_SLOPE`]: a shift
    /// of at most 0.001 that keeps [0, 1]; above the last knot `top_logit` (the
    /// unsaturated log-odds of `c`, see [`crate::rank`]) lifts the value by
    /// less than `TIE_BREAK` of the room left below 1, so the most confident
    /// tickets keep their order. Computed and returned in f64: in f32 the room
    /// above a last knot of 0.9995 holds a few dozen values, and 1,300 of
    /// 7,654 service-topics test tickets shared a dozen confidences.
    pub fn apply_ranked(&self, c: f64, top_logit: f64) -> f64 {
        const TIE_BREAK: f64 = 1e-3;
        let k = &self.knots;
        if k.is_empty() {
            return c;
        }
        let knot = |i: usize| (k[i].0 as f64, k[i].1 as f64);
        let (x_last, y_last) = knot(k.len() - 1);

        let base = if c <= knot(0).0 {
            knot(0).1
        } else if c >= x_last {
            let x = x_last.clamp(1e-6, 1.0 - 1e-6);
            let above = top_logit - (x / (1.0 - x)).ln();
            // Not above the knot (or NaN): the knot's value.
            match above.partial_cmp(&0.0) {
                Some(std::cmp::Ordering::Greater) => y_last + TIE_BREAK * (1.0 - y_last) * (1.0 - 1.0 / (1.0 + above)),
                _ => y_last,
            }
        } else {
            let j = k.partition_point(|p| (p.0 as f64) <= c);
            let (a, b) = (knot(j - 1), knot(j));
            let w = if b.0 > a.0 { (c - a.0) / (b.0 - a.0) } else { 0.0 };
            a.1 + w * (b.1 - a.1)
        };
        // An affine squeeze keeps the value in [0, 1] and adds a slope of TIE_SLOPE everywhere.
        base * (1.0 - TIE_SLOPE) + TIE_SLOPE * c
    }
}

/// The slope (per unit of raw confidence) that keeps the calibrated
/// confidence strictly increasing where the isotonic map is flat.
pub const TIE_SLOPE: f64 = 1e-3;

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

    #[test]
    fn different_raw_confidences_never_share_a_calibrated_one() {
        // Accuracy 0.5 then 0.75 then 0.75 again: flat below the first knot and between equal blocks.
        let iso = Isotonic { knots: vec![(0.4, 0.5), (0.6, 0.75), (0.8, 0.75)] };
        let raw = [0.1f64, 0.2, 0.3, 0.4, 0.65, 0.7, 0.75, 0.8];
        let cal: Vec<f64> = raw.iter().map(|c| iso.apply(*c)).collect();
        assert!(cal.windows(2).all(|w| w[0] < w[1]), "{cal:?}");
        // The calibration itself is kept to within 0.001.
        assert!((iso.apply(0.6) - 0.75).abs() < 1e-3 && (iso.apply(0.1) - 0.5).abs() < 1e-3, "{cal:?}");
        assert!(raw.iter().all(|c| iso.apply(*c) < 1.0));
    }

    #[test]
    fn isotonic_is_monotone_and_bounded() {
        let conf: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let correct: Vec<bool> = (0..1000).map(|i| (i * 7919) % 1000 < i).collect();
        let iso = Isotonic::fit(&conf, &correct, 20);
        let mut last = -1.0f64;
        for i in 0..=100 {
            let v = iso.apply(i as f64 / 100.0);
            assert!((0.0..=1.0).contains(&v));
            assert!(v >= last - 1e-6);
            last = v;
        }
        assert_eq!(Isotonic::identity().apply(0.3), 0.3);
    }
}
