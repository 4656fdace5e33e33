//! Featurising in parallel chunks and running jobs on one or two threads, in
//! order (each job is deterministic, so the result does not depend on the threads).

use super::Progress;
use crate::features::{Counts, FeatureConfig};

pub(super) fn featurize_all(
    cfg: &FeatureConfig,
    texts: &[String],
    threads: usize,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<Counts> {
    let total = texts.len();
    let chunk = 2000;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let work = |part: &[String]| -> Vec<Counts> {
        let mut v = Vec::with_capacity(part.len());
        for (i, t) in part.iter().enumerate() {
            v.push(cfg.counts(t));
            if (i + 1) % chunk == 0 {
                let d = done.fetch_add(chunk, std::sync::atomic::Ordering::Relaxed) + chunk;
                progress(Progress::Featurize { done: d.min(total), total });
            }
        }
        v
    };
    let out = map_halves(texts, threads, work);
    progress(Progress::Featurize { done: total, total });
    out
}

/// `f(0)`, …, `f(n - 1)`, in order; with `threads >= 2` two workers take the jobs in
/// turn (each job is deterministic, so the result does not depend on which ran it).
pub(super) fn map_jobs<U: Send>(n: usize, threads: usize, f: impl Fn(usize) -> U + Sync) -> Vec<U> {
    if threads < 2 || n < 2 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<U>>> = (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let worker = || loop {
        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if j >= n {
            break;
        }
        let u = f(j);
        *slots[j].lock().expect("job slot") = Some(u);
    };
    std::thread::scope(|s| {
        s.spawn(worker);
        worker();
    });
    slots.into_iter().map(|m| m.into_inner().expect("job slot").expect("every job ran")).collect()
}

/// `f` over `items`, in order; on two threads (one half each) when `threads >= 2`
/// and there are enough items to be worth a thread.
pub(super) fn map_halves<T: Sync, U: Send>(items: &[T], threads: usize, f: impl Fn(&[T]) -> Vec<U> + Sync) -> Vec<U> {
    if threads < 2 || items.len() < 4000 {
        return f(items);
    }
    let mid = items.len() / 2;
    let (mut a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| f(&items[mid..]));
        (f(&items[..mid]), h.join().expect("worker thread"))
    });
    a.extend(b);
    a
}
