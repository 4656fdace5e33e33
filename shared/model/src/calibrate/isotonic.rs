//! The isotonic map of artifacts of formats 1 and 2 (trained before the
//! logistic confidence, [`super::Logistic`]): applied when such an artifact is
//! loaded, never fitted any more.

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
    fn applied_map_is_monotone_and_bounded() {
        let iso = Isotonic { knots: vec![(0.2, 0.1), (0.5, 0.6), (0.9, 0.97)] };
        let mut last = -1.0f64;
        for i in 0..=100 {
            let v = iso.apply(i as f64 / 100.0);
            assert!((0.0..=1.0).contains(&v));
            assert!(v > last, "{v} after {last}");
            last = v;
        }
        assert_eq!(Isotonic::identity().apply(0.3), 0.3);
    }
}
