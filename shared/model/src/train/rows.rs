//! Feature rows: document frequencies, pruning of rare buckets, idf, the row
//! numbering used while training (most frequent first), and each example's
//! weighted vector over rows.

use super::TrainConfig;
use super::parallel::map_halves;
use crate::features::{Counts, SparseVec, idf_value};

/// The kept feature buckets: the bucket of each row (most frequent first),
/// the row of each bucket (`u32::MAX`: none), and the idf of each.
pub(super) struct FeatureRows {
    pub(super) idf: Vec<f32>,
    pub(super) row_of: Vec<u32>,
    pub(super) row_idf: Vec<f32>,
    pub(super) buckets: Vec<u32>,
}

/// Document frequencies, pruning (`min_df`) and idf over the hashed counts.
pub(super) fn prune_features(counts: &[Counts], n: usize, cfg: &TrainConfig) -> FeatureRows {
    let dim = cfg.features.dim();
    let mut df = vec![0u32; dim];
    for c in counts {
        for &(i, _) in c.words.iter().chain(&c.chars) {
            df[i as usize] += 1;
        }
    }
    let default_idf = idf_value(n, 0);
    let mut idf = vec![default_idf; dim];
    let mut kept: Vec<u32> = Vec::new();
    for (b, &d) in df.iter().enumerate() {
        if d >= cfg.min_df.max(1) {
            idf[b] = idf_value(n, d);
            kept.push(b as u32);
        }
    }
    // Rows are numbered most frequent first while training, so that the weights
    // most examples touch sit together in cache (the fit mostly waits on memory:
    // this and the prefetch below cut its time by about a fifth); the artifact
    // stores them in bucket order (`in_bucket_order`).
    kept.sort_by_key(|&b| (std::cmp::Reverse(df[b as usize]), b));
    drop(df);
    let mut row_of = vec![u32::MAX; dim];
    for (row, &b) in kept.iter().enumerate() {
        row_of[b as usize] = row as u32;
    }
    let row_idf: Vec<f32> = kept.iter().map(|&b| idf[b as usize]).collect();
    FeatureRows { idf, row_of, row_idf, buckets: kept }
}

/// Weighted vectors over rows (features without a row are dropped after normalising).
pub(super) fn row_vectors(counts: &[Counts], rows: &FeatureRows, cfg: &TrainConfig) -> Vec<SparseVec> {
    let (idf, row_of) = (&rows.idf, &rows.row_of);
    map_halves(counts, cfg.threads, |part| {
        let mut scratch = SparseVec::default();
        part.iter()
            .map(|c| {
                cfg.features.weigh(c, idf, &mut scratch);
                let keep = scratch.idx.iter().filter(|&&i| row_of[i as usize] != u32::MAX).count();
                let mut out = SparseVec { idx: Vec::with_capacity(keep), val: Vec::with_capacity(keep) };
                for (&i, &x) in scratch.idx.iter().zip(&scratch.val) {
                    let row = row_of[i as usize];
                    if row != u32::MAX {
                        out.idx.push(row);
                        out.val.push(x);
                    }
                }
                out
            })
            .collect()
    })
}
