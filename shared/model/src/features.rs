//! Text → sparse feature vector: hashed word n-grams and character n-grams inside
//! whitespace tokens (punctuation kept, see `keep_punct`), sublinear TF (1 + ln tf) times IDF, each block L2-normalised, blocks mixed
//! by `char_weight`. Hashing needs no vocabulary, so the artifact stays small and
//! unseen words still land somewhere sensible through their character n-grams.

use serde::{Deserialize, Serialize};

/// How text becomes features. Stored in the artifact: inference uses exactly this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Hash space of 2^bits buckets.
    pub bits: u32,
    /// Word n-grams from 1 up to this (0 disables words).
    pub word_ngrams: u32,
    /// Character n-grams from `char_min` to `char_max` (0 disables them).
    pub char_min: u32,
    pub char_max: u32,
    /// Share of the character block in the squared norm (0..=1).
    pub char_weight: f32,
    /// Map every digit to '0' (ticket numbers, host numbers and dates generalise).
    pub fold_digits: bool,
    /// Only the first this many characters of a text are read.
    pub max_chars: usize,
    /// Character n-grams read whitespace-separated tokens with their punctuation
    /// (`job_1424`, `host.company.com` stay whole); words still split at punctuation.
    /// Off in artifacts written before it existed.
    #[serde(default)]
    pub keep_punct: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            bits: 18,
            word_ngrams: 2,
            char_min: 3,
            char_max: 5,
            char_weight: 0.3,
            fold_digits: false,
            max_chars: 6000,
            keep_punct: true,
        }
    }
}

/// Sparse vector: parallel lists of buckets and values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

/// Hashed feature counts of one text, per block (each bucket once per block).
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub words: Vec<(u32, u32)>,
    pub chars: Vec<(u32, u32)>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET ^ seed;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Lower-case, keep letters and digits, everything else separates words.
pub fn normalize(text: &str, fold_digits: bool, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars) + 1);
    let mut last_space = true;
    for c in text.chars().take(max_chars) {
        if c.is_ascii() {
            let b = c as u8;
            if b.is_ascii_alphabetic() {
                out.push(b.to_ascii_lowercase() as char);
                last_space = false;
            } else if b.is_ascii_digit() {
                out.push(if fold_digits { '0' } else { c });
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(l);
            }
            last_space = false;
        } else if !last_space {
            out.push(' ');
            last_space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Lower-case and collapse whitespace, keeping punctuation (the tokens of `keep_punct`).
pub fn normalize_ws(text: &str, fold_digits: bool, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars) + 1);
    let mut last_space = true;
    for c in text.chars().take(max_chars) {
        if c.is_whitespace() || c.is_control() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        last_space = false;
        if c.is_ascii() {
            let b = c as u8;
            out.push(if fold_digits && b.is_ascii_digit() { '0' } else { b.to_ascii_lowercase() as char });
        } else {
            for l in c.to_lowercase() {
                out.push(l);
            }
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Count occurrences with a dense scratch array (faster than sorting); the output keeps
/// first-occurrence order, which is deterministic.
fn tally(scratch: &mut Vec<u32>, dim: usize, raw: &[u32], out: &mut Vec<(u32, u32)>) {
    if scratch.len() != dim {
        scratch.clear();
        scratch.resize(dim, 0);
    }
    out.clear();
    for &i in raw {
        let c = &mut scratch[i as usize];
        if *c == 0 {
            out.push((i, 0));
        }
        *c += 1;
    }
    for e in out.iter_mut() {
        e.1 = scratch[e.0 as usize];
        scratch[e.0 as usize] = 0;
    }
}

impl FeatureConfig {
    pub fn dim(&self) -> usize {
        1usize << self.bits
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(8..=24).contains(&self.bits) {
            return Err(format!("bits must be in 8..=24, got {}", self.bits));
        }
        if self.word_ngrams > 3 {
            return Err("word_ngrams must be at most 3".into());
        }
        if self.char_max != 0 && (self.char_min == 0 || self.char_min > self.char_max || self.char_max > 8) {
            return Err("character n-grams need 1 <= char_min <= char_max <= 8".into());
        }
        if self.word_ngrams == 0 && self.char_max == 0 {
            return Err("no features: enable words or character n-grams".into());
        }
        if !(0.0..=1.0).contains(&self.char_weight) {
            return Err("char_weight must be within 0..=1".into());
        }
        Ok(())
    }

    /// Hashed feature counts of a text.
    pub fn counts(&self, text: &str) -> Counts {
        let norm = if self.keep_punct {
            normalize_ws(text, self.fold_digits, self.max_chars)
        } else {
            normalize(text, self.fold_digits, self.max_chars)
        };
        let mask = (self.dim() - 1) as u64;
        let mut words_raw: Vec<u32> = Vec::with_capacity(norm.len() / 2 + 4);
        let mut chars_raw: Vec<u32> = Vec::with_capacity(if self.char_max > 0 { norm.len() * 3 + 8 } else { 0 });
        let mut prev: [u64; 2] = [0; 2];
        let mut n_seen = 0usize;
        let mut padded: Vec<u8> = Vec::with_capacity(64);
        for w in norm.split(' ') {
            if w.is_empty() {
                continue;
            }
            let wb = w.as_bytes();
            if self.word_ngrams > 0 {
                let mut word = |ws: &[u8]| {
                    let h = fnv(1, ws);
                    words_raw.push((fmix(h) & mask) as u32);
                    if self.word_ngrams >= 2 && n_seen >= 1 {
                        let h2 = prev[0].wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ h ^ 2;
                        words_raw.push((fmix(h2) & mask) as u32);
                        if self.word_ngrams >= 3 && n_seen >= 2 {
                            let h3 = prev[1].wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ h2 ^ 3;
                            words_raw.push((fmix(h3) & mask) as u32);
                        }
                    }
                    prev[1] = prev[0];
                    prev[0] = h;
                    n_seen += 1;
                };
                if self.keep_punct {
                    for part in w.split(|c: char| !c.is_alphanumeric()) {
                        if !part.is_empty() {
                            word(part.as_bytes());
                        }
                    }
                } else {
                    word(wb);
                }
            }
            if self.char_max > 0 && (self.keep_punct || wb.len() <= 40) {
                padded.clear();
                padded.push(b' ');
                padded.extend_from_slice(wb);
                padded.push(b' ');
                let (lo, hi) = (self.char_min as usize, self.char_max as usize);
                if padded.len() < lo {
                    continue;
                }
                for i in 0..padded.len() {
                    let mut h = FNV_OFFSET ^ 7;
                    let end = (i + hi).min(padded.len());
                    for (k, &byte) in padded[i..end].iter().enumerate() {
                        h ^= byte as u64;
                        h = h.wrapping_mul(FNV_PRIME);
                        let n = k + 1;
                        if n >= lo {
                            chars_raw.push((fmix(h ^ ((n as u64) << 56)) & mask) as u32);
                        }
                    }
                }
            }
        }
        let mut c = Counts::default();
        SCRATCH.with(|cell| {
            let mut sc = cell.borrow_mut();
            tally(&mut sc, self.dim(), &words_raw, &mut c.words);
            tally(&mut sc, self.dim(), &chars_raw, &mut c.chars);
        });
        c
    }

    /// Weight counts by sublinear TF × IDF, normalise each block and mix them. The
    /// result may name a bucket twice (once per block): scoring is linear, so that is
    /// the same as summing them.
    pub fn weigh(&self, c: &Counts, idf: &[f32], out: &mut SparseVec) {
        out.idx.clear();
        out.val.clear();
        let ww = if c.chars.is_empty() { 1.0 } else { (1.0 - self.char_weight).sqrt() };
        let cw = if c.words.is_empty() { 1.0 } else { self.char_weight.sqrt() };
        for (counts, scale) in [(&c.words, ww), (&c.chars, cw)] {
            if counts.is_empty() || scale == 0.0 {
                continue;
            }
            let start = out.idx.len();
            let mut ss = 0.0f32;
            for &(i, n) in counts.iter() {
                let v = sublinear_tf(n) * idf[i as usize];
                ss += v * v;
                out.idx.push(i);
                out.val.push(v);
            }
            if ss > 0.0 {
                let k = scale / ss.sqrt();
                for v in &mut out.val[start..] {
                    *v *= k;
                }
            }
        }
    }

    pub fn vectorize(&self, text: &str, idf: &[f32]) -> SparseVec {
        let mut v = SparseVec::default();
        self.weigh(&self.counts(text), idf, &mut v);
        v
    }
}

/// 1 + ln(n), from a table for the common small counts.
#[inline]
fn sublinear_tf(n: u32) -> f32 {
    const T: [f32; 8] = [0.0, 1.0, 1.693_147_2, 2.098_612_3, 2.386_294_4, 2.609_438, 2.791_759_5, 2.945_910_2];
    if (n as usize) < T.len() { T[n as usize] } else { 1.0 + (n as f32).ln() }
}

/// Smoothed IDF as in the usual TF–IDF: ln((1 + n) / (1 + df)) + 1.
pub fn idf_value(n_docs: usize, df: u32) -> f32 {
    (((1 + n_docs) as f64 / (1 + df as u64) as f64).ln() + 1.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_lowercases_folds_digits_and_splits() {
        assert_eq!(normalize("  Reset PW for j.doe@ACME.com #1234!", true, 1000), "reset pw for j doe acme com 0000");
        assert_eq!(normalize("Ünïcode—Straße", false, 1000), "ünïcode straße");
        assert_eq!(normalize("abcdef", false, 3), "abc");
    }

    #[test]
    fn vectors_are_sorted_unique_and_unit_length() {
        let cfg = FeatureConfig::default();
        let idf = vec![1.0f32; cfg.dim()];
        let v = cfg.vectorize("cannot log in to vpn, vpn says password expired", &idf);
        let mut sorted = v.idx.clone();
        sorted.sort();
        sorted.dedup();
        assert!(sorted.len() + 5 >= v.idx.len());
        let norm: f32 = v.val.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
        assert!(cfg.vectorize("  \t\n ", &idf).idx.is_empty());
        // punctuation is a character n-gram token of its own, never a word
        assert!(cfg.counts("  ... ").words.is_empty());
        let legacy = FeatureConfig { keep_punct: false, ..cfg.clone() };
        assert!(legacy.vectorize("  ... ", &idf).idx.is_empty());
    }

    #[test]
    fn char_ngrams_keep_punctuation_words_split_at_it() {
        let cfg = FeatureConfig { word_ngrams: 1, ..FeatureConfig::default() };
        assert_eq!(normalize_ws("Job_1424  failed\n on HOST.corp", false, 1000), "job_1424 failed on host.corp");
        let c = cfg.counts("job_1424");
        assert_eq!(c.words.len(), 2, "job and 1424");
        let joined = cfg.counts("job 1424");
        assert_ne!(c.chars, joined.chars, "the underscore is part of the character n-grams");
    }

    #[test]
    fn hashing_is_stable() {
        // Artifacts depend on these exact buckets: changing the hash breaks old models.
        let cfg = FeatureConfig { bits: 18, word_ngrams: 1, char_max: 0, ..FeatureConfig::default() };
        let c = cfg.counts("vpn");
        assert_eq!(c.words.len(), 1);
        assert_eq!(c.words[0].0, (fmix(fnv(1, b"vpn")) & ((1 << 18) - 1)) as u32);
    }
}
