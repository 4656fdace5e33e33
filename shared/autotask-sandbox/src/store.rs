//! Tables: an optional lazy generator over a fixed id range (so a 250,000-ticket
//! tenant costs almost no memory) plus an overlay of created, changed and
//! deleted rows. Ids are always visited in ascending order.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

pub type Row = Map<String, Value>;
pub type Generator = Arc<dyn Fn(i64) -> Option<Row> + Send + Sync>;
/// Maps a parent id to the generated id range holding its children.
pub type ParentIndex = Arc<dyn Fn(i64) -> Option<(i64, i64)> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Table {
    generator: Option<Generator>,
    gen_lo: i64,
    gen_hi: i64,
    overlay: BTreeMap<i64, Option<Row>>,
    next_id: i64,
    pub parent_field: Option<String>,
    pub parent_index: Option<ParentIndex>,
}

impl Table {
    pub fn new(first_id: i64) -> Self {
        Self { next_id: first_id, gen_lo: 1, gen_hi: 0, ..Default::default() }
    }

    pub fn with_generator(mut self, lo: i64, hi: i64, g: Generator) -> Self {
        self.generator = Some(g);
        self.gen_lo = lo;
        self.gen_hi = hi;
        self.next_id = self.next_id.max(hi + 1);
        self
    }

    /// New rows get ids from `floor` on (never lower than they would anyway).
    pub fn continue_ids_from(&mut self, floor: i64) {
        self.next_id = self.next_id.max(floor);
    }

    pub fn next_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn insert(&mut self, id: i64, mut row: Row) {
        row.insert("id".into(), Value::from(id));
        self.next_id = self.next_id.max(id + 1);
        self.overlay.insert(id, Some(row));
    }

    pub fn delete(&mut self, id: i64) -> bool {
        if self.get(id).is_some() {
            self.overlay.insert(id, None);
            true
        } else {
            false
        }
    }

    pub fn get(&self, id: i64) -> Option<Row> {
        match self.overlay.get(&id) {
            Some(r) => r.clone(),
            None => self.generate(id),
        }
    }

    fn generate(&self, id: i64) -> Option<Row> {
        if id < self.gen_lo || id > self.gen_hi {
            return None;
        }
        let g = self.generator.as_ref()?;
        let mut r = g(id)?;
        r.insert("id".into(), Value::from(id));
        Some(r)
    }

    /// Visits rows with `lo <= id <= hi` in ascending id order until `f` returns false.
    pub fn scan(&self, lo: i64, hi: i64, mut f: impl FnMut(i64, &Row) -> bool) {
        if lo > hi {
            return;
        }
        let mut over = self.overlay.range((Bound::Included(lo), Bound::Included(hi))).peekable();
        let mut g = if self.generator.is_some() { lo.max(self.gen_lo) } else { i64::MAX };
        let g_end = hi.min(self.gen_hi);
        loop {
            let next_over = over.peek().map(|(k, _)| **k);
            let gen_live = g <= g_end;
            match (gen_live, next_over) {
                (false, None) => return,
                (true, Some(o)) if o <= g => {
                    let (_, row) = over.next().unwrap();
                    if o == g {
                        g += 1;
                    }
                    if let Some(row) = row {
                        if !f(o, row) {
                            return;
                        }
                    }
                }
                (false, Some(o)) => {
                    let (_, row) = over.next().unwrap();
                    if let Some(row) = row {
                        if !f(o, row) {
                            return;
                        }
                    }
                }
                (true, _) => {
                    let id = g;
                    g += 1;
                    if let Some(row) = self.generate(id) {
                        if !f(id, &row) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The lazily generated id range (empty when `lo > hi`).
    pub fn gen_range(&self) -> (i64, i64) {
        (self.gen_lo, self.gen_hi)
    }

    pub fn max_id(&self) -> i64 {
        self.next_id - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_merges_generated_and_overlay_in_order() {
        let g: Generator = Arc::new(|id| if id % 2 == 0 { Some(Row::new()) } else { None });
        let mut t = Table::new(1).with_generator(1, 10, g);
        let mut r = Row::new();
        r.insert("x".into(), Value::from(1));
        t.insert(3, r.clone());
        t.insert(4, r.clone());
        t.insert(12, r);
        t.delete(6);
        let mut seen = vec![];
        t.scan(0, 100, |id, _| {
            seen.push(id);
            true
        });
        assert_eq!(seen, vec![2, 3, 4, 8, 10, 12]);
        assert_eq!(t.get(4).unwrap().get("x"), Some(&Value::from(1)));
        assert_eq!(t.next_id(), 13);
    }
}
