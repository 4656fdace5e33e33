//! The trained classifier: inference and the compact, reproducible artifact.
//!
//! Artifact layout (little-endian):
//! `MAGIC`, u32 header length, header JSON, then for R used feature rows: R×u32 bucket,
//! R×f32 idf, R×f32 row scale, R×K i8 weights; K×f32 bias; u64 FNV-1a checksum of all
//! the bytes before it. Same model → same bytes (the header is a struct, floats print
//! deterministically).

use crate::ModelError;
use crate::calibrate::{Isotonic, Logistic, softmax_t};
use crate::features::{FeatureConfig, SparseVec, idf_value};
use crate::rank::{RankScore, evidence, rank_score};
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8; 16] = b"ATPILOT-MODEL\0v1";

thread_local! {
    /// Rows and values of the ticket being scored.
    static ROWS: std::cell::RefCell<(Vec<u32>, Vec<f32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// How many features ahead the fit and scoring ask the CPU for a weight row: both
/// wait on memory far more than they compute.
pub(crate) const PREFETCH_AHEAD: usize = 8;

/// A hint to load the cache line holding `x`; reads and changes nothing.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch hint for an address inside a live slice; it reads nothing
    unsafe {
        std::arch::x86_64::_mm_prefetch(x as *const T as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    format: u32,
    labels: Vec<String>,
    features: FeatureConfig,
    n_docs: usize,
    rows: usize,
    temperature: f32,
    /// The runner-up's weight in the ranking score (see [`crate::rank`]); absent
    /// (artifacts trained before it existed, or 0) ranks by the top probability.
    #[serde(default, skip_serializing_if = "is_zero")]
    margin_weight: f32,
    /// Formats 1 and 2: the map of the ranking score to confidence (format 3: empty).
    isotonic: Isotonic,
    /// Format 3: the logistic model of being right (see [`crate::calibrate::Logistic`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logistic: Option<Logistic>,
    seed: u64,
}

fn is_zero(w: &f32) -> bool {
    *w == 0.0
}

/// One prediction: the label, its calibrated confidence, and the per-label
/// probabilities (temperature-scaled softmax, in `Model::labels()` order).
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub index: usize,
    pub label: String,
    /// Calibrated, in [0, 1]; strictly increasing in `rank.logit` (f64: f32 would
    /// tie the most confident tickets).
    pub confidence: f64,
    /// The score the confidence is a strictly increasing function of: the fitted
    /// log-odds of being right (`value` = the confidence) or, for artifacts of
    /// formats 1 and 2, p1 − w·p2 (see [`crate::rank`]).
    pub rank: RankScore,
    pub probabilities: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) labels: Vec<String>,
    pub(crate) features: FeatureConfig,
    pub(crate) n_docs: usize,
    pub(crate) seed: u64,
    /// bucket of each row, increasing
    pub(crate) buckets: Vec<u32>,
    pub(crate) row_idf: Vec<f32>,
    pub(crate) scales: Vec<f32>,
    pub(crate) weights: Vec<i8>,
    pub(crate) bias: Vec<f32>,
    pub(crate) temperature: f32,
    pub(crate) margin_weight: f32,
    pub(crate) isotonic: Isotonic,
    pub(crate) logistic: Option<Logistic>,
    // derived, dense over the hash space
    idf: Vec<f32>,
    row_of: Vec<u32>,
}

impl Model {
    /// Build from float weights (`rows × k`, row-major), quantising each row to int8.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_float(
        labels: Vec<String>,
        features: FeatureConfig,
        n_docs: usize,
        seed: u64,
        buckets: Vec<u32>,
        row_idf: Vec<f32>,
        w: &[f32],
        bias: Vec<f32>,
    ) -> Self {
        let k = labels.len();
        let r = buckets.len();
        let mut scales = Vec::with_capacity(r);
        let mut weights = Vec::with_capacity(r * k);
        for row in w.chunks_exact(k) {
            let m = row.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
            let s = if m > 0.0 { m / 127.0 } else { 0.0 };
            scales.push(s);
            for &v in row {
                weights.push(if s > 0.0 { (v / s).round().clamp(-127.0, 127.0) as i8 } else { 0 });
            }
        }
        let mut m = Self {
            labels,
            features,
            n_docs,
            seed,
            buckets,
            row_idf,
            scales,
            weights,
            bias,
            temperature: 1.0,
            margin_weight: 0.0,
            isotonic: Isotonic::identity(),
            logistic: None,
            idf: Vec::new(),
            row_of: Vec::new(),
        };
        m.derive();
        m
    }

    fn derive(&mut self) {
        let d = self.features.dim();
        self.idf = vec![idf_value(self.n_docs, 0); d];
        self.row_of = vec![u32::MAX; d];
        for (r, (&b, &f)) in self.buckets.iter().zip(&self.row_idf).enumerate() {
            self.idf[b as usize] = f;
            self.row_of[b as usize] = r as u32;
        }
    }

    /// The same model with its rows in increasing bucket order (the artifact's order;
    /// training numbers rows by frequency). Predictions do not change.
    pub(crate) fn in_bucket_order(self) -> Self {
        let k = self.labels.len();
        let mut order: Vec<usize> = (0..self.buckets.len()).collect();
        order.sort_unstable_by_key(|&r| self.buckets[r]);
        let mut weights = Vec::with_capacity(self.weights.len());
        for &r in &order {
            weights.extend_from_slice(&self.weights[r * k..(r + 1) * k]);
        }
        let mut m = Self {
            buckets: order.iter().map(|&r| self.buckets[r]).collect(),
            row_idf: order.iter().map(|&r| self.row_idf[r]).collect(),
            scales: order.iter().map(|&r| self.scales[r]).collect(),
            weights,
            ..self
        };
        m.derive();
        m
    }

    pub(crate) fn set_calibration(&mut self, temperature: f32, logistic: Option<Logistic>) {
        self.temperature = temperature;
        self.margin_weight = 0.0;
        self.isotonic = Isotonic::identity();
        self.logistic = logistic;
    }

    /// What the confidence is computed from, for people: "the top probability, …".
    pub fn confidence_basis(&self) -> String {
        let Some(l) = &self.logistic else {
            let uncalibrated = if self.isotonic.knots.is_empty() { " (uncalibrated)" } else { "" };
            return format!("{}{uncalibrated}", crate::rank::describe(self.margin_weight));
        };
        if l.weights == [crate::calibrate::TOKEN_WEIGHT, 0.0, 0.0] {
            return "the label's held-out record, ordered by the top probability".into();
        }
        let mut parts = Vec::new();
        if l.weights[0] != 0.0 {
            parts.push("the top probability");
        }
        if l.weights[1] != 0.0 || l.weights[2] != 0.0 {
            parts.push("how far the runner-up trails");
        }
        if l.label_offsets.iter().any(|o| *o != 0.0) {
            parts.push("the label's held-out record");
        }
        match parts.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "the label alone".into(),
        }
    }

    /// Whether the confidence was calibrated on held-out tickets (false for a
    /// model trained on too few to fit a map: its confidence is the top
    /// probability, fit to suggest, never to act alone).
    pub fn is_calibrated(&self) -> bool {
        self.logistic.is_some() || !self.isotonic.knots.is_empty()
    }

    /// The fitted confidence map (format 3), if any.
    pub fn logistic(&self) -> Option<&Logistic> {
        self.logistic.as_ref()
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    pub fn temperature(&self) -> f32 {
        self.temperature
    }
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.features
    }
    /// Number of feature rows kept in the artifact.
    pub fn rows(&self) -> usize {
        self.buckets.len()
    }

    pub fn vectorize(&self, text: &str) -> SparseVec {
        self.features.vectorize(text, &self.idf)
    }

    /// Raw linear scores, one per label.
    pub fn scores(&self, text: &str) -> Vec<f32> {
        let x = self.vectorize(text);
        let mut s = Vec::new();
        self.scores_of(&x, &mut s);
        s
    }

    pub(crate) fn scores_of(&self, x: &SparseVec, out: &mut Vec<f32>) {
        // Rows first (independent lookups the CPU overlaps), then the weight rows.
        ROWS.with(|cell| {
            let (rows, vals) = &mut *cell.borrow_mut();
            rows.clear();
            vals.clear();
            for (&i, &v) in x.idx.iter().zip(&x.val) {
                let r = self.row_of[i as usize];
                if r != u32::MAX {
                    rows.push(r);
                    vals.push(v);
                }
            }
            self.scores_of_rows(rows, vals, out);
        });
    }

    /// Scores of features given as rows of this model, with a prefetch a few rows
    /// ahead: scoring waits on memory far more than it adds.
    pub(crate) fn scores_of_rows(&self, rows: &[u32], vals: &[f32], out: &mut Vec<f32>) {
        let k = self.labels.len();
        out.clear();
        out.extend_from_slice(&self.bias);
        for (j, (&r, &v)) in rows.iter().zip(vals).enumerate() {
            if let Some(&ahead) = rows.get(j + PREFETCH_AHEAD) {
                // a row of k bytes may straddle two cache lines
                prefetch(&self.weights[ahead as usize * k]);
                prefetch(&self.weights[ahead as usize * k + k - 1]);
            }
            let r = r as usize;
            let a = v * self.scales[r];
            let row = &self.weights[r * k..(r + 1) * k];
            for (o, &w) in out.iter_mut().zip(row) {
                *o += a * w as f32;
            }
        }
    }

    /// Calibrated prediction for one ticket text (title and description joined).
    pub fn predict(&self, text: &str) -> Prediction {
        let s = self.scores(text);
        self.predict_from_scores(&s)
    }

    pub(crate) fn predict_from_scores(&self, s: &[f32]) -> Prediction {
        let mut p = Vec::new();
        softmax_t(s, self.temperature, &mut p);
        let mut best = 0;
        for i in 1..p.len() {
            if p[i] > p[best] {
                best = i;
            }
        }
        let (rank, confidence) = match &self.logistic {
            Some(l) => {
                let z = l.log_odds(&evidence(s, self.temperature, best));
                let c = Logistic::confidence(z);
                (RankScore { value: c, logit: z }, c)
            }
            None => {
                let rank = rank_score(s, self.temperature, best, self.margin_weight);
                (rank, self.isotonic.apply_ranked(rank.value, rank.logit).clamp(0.0, 1.0))
            }
        };
        Prediction { index: best, label: self.labels[best].clone(), confidence, rank, probabilities: p }
    }

    pub fn predict_batch(&self, texts: &[String]) -> Vec<Prediction> {
        texts.iter().map(|t| self.predict(t)).collect()
    }

    /// The artifact bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            // Format 2 adds the ranking weight, format 3 the logistic confidence; a
            // model without either stays format 1, so an older reader never misreads
            // a new one.
            format: if self.logistic.is_some() {
                3
            } else if self.margin_weight == 0.0 {
                1
            } else {
                2
            },
            labels: self.labels.clone(),
            features: self.features.clone(),
            n_docs: self.n_docs,
            rows: self.buckets.len(),
            temperature: self.temperature,
            margin_weight: self.margin_weight,
            isotonic: self.isotonic.clone(),
            logistic: self.logistic.clone(),
            seed: self.seed,
        };
        let h = serde_json::to_vec(&header).expect("header serialises");
        let r = self.buckets.len();
        let k = self.labels.len();
        let mut out = Vec::with_capacity(32 + h.len() + r * (12 + k) + 4 * k + 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
        out.extend_from_slice(&h);
        for &b in &self.buckets {
            out.extend_from_slice(&b.to_le_bytes());
        }
        for &f in &self.row_idf {
            out.extend_from_slice(&f.to_le_bytes());
        }
        for &f in &self.scales {
            out.extend_from_slice(&f.to_le_bytes());
        }
        out.extend(self.weights.iter().map(|&w| w as u8));
        for &f in &self.bias {
            out.extend_from_slice(&f.to_le_bytes());
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < MAGIC.len() + 4 + 8 || &bytes[..MAGIC.len()] != MAGIC {
            return Err("wrong magic bytes".into());
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        if checksum(body).to_le_bytes() != tail {
            return Err("checksum mismatch: the file is truncated or corrupted".into());
        }
        let mut cur = Cursor { b: body, at: MAGIC.len() };
        let hl = u32::from_le_bytes(cur.take(4)?.try_into().unwrap()) as usize;
        let header: Header = serde_json::from_slice(cur.take(hl)?).map_err(|e| format!("bad header: {e}"))?;
        if !(1..=3).contains(&header.format) {
            return Err(format!("unsupported format {}", header.format));
        }
        if (header.format == 3) != header.logistic.is_some() {
            return Err(format!(
                "format {} with{} a confidence map",
                header.format,
                if header.format == 3 { "out" } else { "" }
            ));
        }
        if header.format == 3 && (header.margin_weight != 0.0 || !header.isotonic.knots.is_empty()) {
            return Err("format 3 with an isotonic map as well as its confidence map".into());
        }
        header.features.validate()?;
        let (r, k) = (header.rows, header.labels.len());
        if k < 2 {
            return Err("fewer than two labels".into());
        }
        let u32s = |c: &mut Cursor, n: usize| -> Result<Vec<u32>, String> {
            Ok(c.take(n * 4)?.chunks_exact(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect())
        };
        let f32s = |c: &mut Cursor, n: usize| -> Result<Vec<f32>, String> {
            Ok(c.take(n * 4)?.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect())
        };
        let buckets = u32s(&mut cur, r)?;
        let row_idf = f32s(&mut cur, r)?;
        let scales = f32s(&mut cur, r)?;
        let weights: Vec<i8> = cur.take(r.checked_mul(k).ok_or("size overflow")?)?.iter().map(|&b| b as i8).collect();
        let bias = f32s(&mut cur, k)?;
        if cur.at != body.len() {
            return Err("trailing bytes".into());
        }
        let dim = header.features.dim() as u32;
        if buckets.windows(2).any(|w| w[0] >= w[1]) || buckets.last().is_some_and(|&b| b >= dim) {
            return Err("feature rows out of order or out of range".into());
        }
        let mut m = Self {
            labels: header.labels,
            features: header.features,
            n_docs: header.n_docs,
            seed: header.seed,
            buckets,
            row_idf,
            scales,
            weights,
            bias,
            temperature: header.temperature,
            margin_weight: header.margin_weight,
            isotonic: header.isotonic,
            logistic: header.logistic,
            idf: Vec::new(),
            row_of: Vec::new(),
        };
        if !(m.temperature.is_finite() && m.temperature > 0.0) {
            return Err("invalid temperature".into());
        }
        if !(0.0..=1.0).contains(&m.margin_weight) {
            return Err("invalid margin weight".into());
        }
        if m.logistic.as_ref().is_some_and(|l| !l.is_valid(k)) {
            return Err("invalid confidence map".into());
        }
        m.derive();
        Ok(m)
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|e| ModelError::io(path, e))
    }

    /// Load an artifact (once per cold start).
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_bytes(&bytes).map_err(|reason| ModelError::BadArtifact { path: path.into(), reason })
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("size overflow")?;
        if end > self.b.len() {
            return Err("truncated".into());
        }
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
}

fn checksum(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    fn trained() -> Model {
        let words = [["printer", "toner", "paper", "tray"], ["password", "locked", "reset", "login"]];
        let (mut texts, mut labels) = (Vec::new(), Vec::new());
        for i in 0..240usize {
            let l = i % 2;
            // one word in five from the other label, so that not every prediction is sure
            let other = if i % 5 == 0 { words[1 - l][i % 4] } else { words[l][(i / 2) % 4] };
            texts.push(format!("{} {} {other}", words[l][i % 4], words[l][(i / 3) % 4]));
            labels.push(["hardware", "access"][l].to_string());
        }
        let cfg = crate::TrainConfig { threads: 1, ..crate::TrainConfig::default() };
        crate::train(&texts, &labels, &cfg, &|_| {}).expect("trains").0
    }

    #[test]
    fn a_new_artifact_is_format_3_and_reads_back_the_same() {
        let m = trained();
        assert!(m.logistic().is_some());
        let bytes = m.to_bytes();
        let back = Model::from_bytes(&bytes).expect("reads");
        assert_eq!(back, m);
        assert!(back.is_calibrated());
        let p = back.predict("toner tray jam");
        assert_eq!(p.label, "hardware");
        // the confidence is the map's, from the evidence of the scores
        let l = back.logistic().expect("a map");
        let want = l.log_odds(&evidence(&back.scores("toner tray jam"), back.temperature, p.index));
        assert_eq!((p.rank.logit, p.confidence), (want, Logistic::confidence(want)));
        // a map of the wrong sign, size or shape is refused on load
        let refused = |edit: &dyn Fn(&mut Logistic)| {
            let mut bad = m.clone();
            edit(bad.logistic.as_mut().expect("a map"));
            Model::from_bytes(&bad.to_bytes()).unwrap_err()
        };
        assert_eq!(refused(&|l| l.weights[0] = -1.0), "invalid confidence map");
        assert_eq!(refused(&|l| l.intercept = f32::MAX), "invalid confidence map");
        assert_eq!(refused(&|l| l.label_offsets.truncate(1)), "invalid confidence map");
        // and so is a format 3 header that carries an isotonic map as well
        let mut both = m.clone();
        both.isotonic = Isotonic { knots: vec![(0.2, 0.3)] };
        assert!(Model::from_bytes(&both.to_bytes()).unwrap_err().contains("isotonic map as well"));
        assert!(find(&bytes, b"\"format\":3").is_some());
    }

    #[test]
    fn artifacts_of_formats_1_and_2_keep_their_isotonic_confidence() {
        let mut old = trained();
        old.logistic = None;
        old.margin_weight = 0.5;
        old.isotonic = Isotonic { knots: vec![(0.1, 0.2), (0.6, 0.7), (0.9, 0.95)] };
        let bytes = old.to_bytes();
        let at = find(&bytes, b"\"format\":2").expect("format 2");
        let back = Model::from_bytes(&bytes).expect("reads a format 2 artifact");
        let p = back.predict("toner tray jam");
        let rank = rank_score(&back.scores("toner tray jam"), back.temperature, p.index, 0.5);
        assert_eq!(p.rank, rank);
        assert_eq!(p.confidence, old.isotonic.apply_ranked(rank.value, rank.logit));
        assert_eq!(back.confidence_basis(), "p1 − 0.50·p2");
        assert!(back.is_calibrated());
        let mut raw = old.clone();
        raw.isotonic = Isotonic::identity();
        assert!(!raw.is_calibrated());
        assert_eq!(raw.confidence_basis(), "p1 − 0.50·p2 (uncalibrated)");
        // a format 3 header without its confidence map is refused, not read as format 2
        let mut forged = bytes.clone();
        forged[at + 9] = b'3';
        let body = forged.len() - 8;
        let sum = checksum(&forged[..body]);
        forged[body..].copy_from_slice(&sum.to_le_bytes());
        let err = Model::from_bytes(&forged).unwrap_err();
        assert!(err.contains("format 3 without a confidence map"), "{err}");
    }
}
