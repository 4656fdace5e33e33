//! The query builder: every operator, nested and/or groups, UDF filters,
//! IncludeFields, MaxRecords 1..=500, and automatic splitting of `in` lists so
//! no query carries more than 500 OR conditions.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Autotask's limit of OR conditions per query (an `in` list counts one per value).
pub const MAX_OR_CONDITIONS: usize = 500;
/// Autotask's page size limit.
pub const MAX_RECORDS: u32 = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub op: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub udf: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub items: Vec<Filter>,
}

fn leaf(op: &str, field: &str, value: Option<Value>) -> Filter {
    Filter { op: op.into(), field: Some(field.into()), udf: None, value, items: vec![] }
}

impl Filter {
    pub fn eq(field: &str, v: impl Into<Value>) -> Self {
        leaf("eq", field, Some(v.into()))
    }
    pub fn noteq(field: &str, v: impl Into<Value>) -> Self {
        leaf("noteq", field, Some(v.into()))
    }
    pub fn gt(field: &str, v: impl Into<Value>) -> Self {
        leaf("gt", field, Some(v.into()))
    }
    pub fn gte(field: &str, v: impl Into<Value>) -> Self {
        leaf("gte", field, Some(v.into()))
    }
    pub fn lt(field: &str, v: impl Into<Value>) -> Self {
        leaf("lt", field, Some(v.into()))
    }
    pub fn lte(field: &str, v: impl Into<Value>) -> Self {
        leaf("lte", field, Some(v.into()))
    }
    pub fn begins_with(field: &str, v: impl Into<String>) -> Self {
        leaf("beginsWith", field, Some(Value::String(v.into())))
    }
    pub fn ends_with(field: &str, v: impl Into<String>) -> Self {
        leaf("endsWith", field, Some(Value::String(v.into())))
    }
    pub fn contains(field: &str, v: impl Into<String>) -> Self {
        leaf("contains", field, Some(Value::String(v.into())))
    }
    pub fn exist(field: &str) -> Self {
        leaf("exist", field, None)
    }
    pub fn not_exist(field: &str) -> Self {
        leaf("notExist", field, None)
    }
    pub fn is_in<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Self {
        leaf("in", field, Some(Value::Array(values.into_iter().map(Into::into).collect())))
    }
    pub fn not_in<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Self {
        leaf("notIn", field, Some(Value::Array(values.into_iter().map(Into::into).collect())))
    }
    pub fn and(items: impl IntoIterator<Item = Filter>) -> Self {
        Filter { op: "and".into(), field: None, udf: None, value: None, items: items.into_iter().collect() }
    }
    pub fn or(items: impl IntoIterator<Item = Filter>) -> Self {
        Filter { op: "or".into(), field: None, udf: None, value: None, items: items.into_iter().collect() }
    }
    /// Marks this filter as a user-defined-field filter (only one UDF per query).
    pub fn udf(mut self) -> Self {
        self.udf = Some(true);
        self
    }

    /// OR conditions this filter contributes.
    pub fn or_conditions(&self) -> usize {
        let own = match self.op.to_ascii_lowercase().as_str() {
            "or" => self.items.len(),
            "in" => self.value.as_ref().and_then(Value::as_array).map_or(0, Vec::len),
            _ => 0,
        };
        own + self.items.iter().map(Filter::or_conditions).sum::<usize>()
    }

    fn is_op(&self, op: &str) -> bool {
        self.op.eq_ignore_ascii_case(op)
    }

    /// Field names used (for checks against the entity's field list).
    pub fn fields(&self, out: &mut Vec<String>) {
        if let Some(f) = &self.field {
            if self.udf != Some(true) {
                out.push(f.clone());
            }
        }
        for i in &self.items {
            i.fields(out);
        }
    }
}

/// A QueryModel: `{"filter": [...], "IncludeFields": [...], "MaxRecords": n}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Query {
    pub filter: Vec<Filter>,
    #[serde(rename = "IncludeFields", skip_serializing_if = "Vec::is_empty", default)]
    pub include_fields: Vec<String>,
    #[serde(rename = "MaxRecords", skip_serializing_if = "Option::is_none", default)]
    pub max_records: Option<u32>,
}

impl Query {
    pub fn new() -> Self {
        Self::default()
    }
    /// Every record (Autotask needs at least one filter): `id gte 0`.
    pub fn all() -> Self {
        Self::new().filter(Filter::gte("id", 0))
    }
    pub fn filter(mut self, f: Filter) -> Self {
        self.filter.push(f);
        self
    }
    /// Only these fields come back. `id` is always added: paging needs it.
    pub fn include<S: AsRef<str>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        for f in fields {
            let f = f.as_ref().to_string();
            if !self.include_fields.iter().any(|x| x.eq_ignore_ascii_case(&f)) {
                self.include_fields.push(f);
            }
        }
        if !self.include_fields.iter().any(|x| x.eq_ignore_ascii_case("id")) {
            self.include_fields.insert(0, "id".into());
        }
        self
    }
    /// Page size, 1..=500; anything else is a typed error (Autotask answers 500).
    pub fn max_records(mut self, n: u32) -> Result<Self> {
        if !(1..=MAX_RECORDS).contains(&n) {
            return Err(Error::MaxRecords(n));
        }
        self.max_records = Some(n);
        Ok(self)
    }

    pub fn or_conditions(&self) -> usize {
        self.filter.iter().map(Filter::or_conditions).sum()
    }

    /// Splits the query so each part has at most 500 OR conditions:
    /// a top-level `in` list becomes several queries (their results are
    /// disjoint); a `notIn` list anywhere becomes an `and` of smaller lists.
    pub fn split(&self) -> Result<Vec<Query>> {
        let mut base = self.clone();
        for f in &mut base.filter {
            split_not_in(f);
        }
        if base.or_conditions() <= MAX_OR_CONDITIONS {
            return Ok(vec![base]);
        }
        // Find the largest top-level `in` list and split it.
        let Some((idx, len)) = base
            .filter
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_op("in"))
            .map(|(i, f)| (i, f.or_conditions()))
            .max_by_key(|(_, n)| *n)
        else {
            return Err(Error::InvalidQuery(format!(
                "{} OR conditions (limit {MAX_OR_CONDITIONS}) and no top-level 'in' list to split",
                base.or_conditions()
            )));
        };
        let others = base.or_conditions() - len;
        if others >= MAX_OR_CONDITIONS {
            return Err(Error::InvalidQuery(format!(
                "{others} OR conditions outside any 'in' list (limit {MAX_OR_CONDITIONS})"
            )));
        }
        let chunk = MAX_OR_CONDITIONS - others;
        let values = base.filter[idx].value.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = vec![];
        for part in values.chunks(chunk) {
            let mut q = base.clone();
            q.filter[idx].value = Some(Value::Array(part.to_vec()));
            out.extend(q.split()?);
        }
        Ok(out)
    }
}

fn split_not_in(f: &mut Filter) {
    for i in &mut f.items {
        split_not_in(i);
    }
    if f.is_op("notIn") {
        let values = f.value.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
        if values.len() > MAX_OR_CONDITIONS {
            let field = f.field.clone().unwrap_or_default();
            let udf = f.udf;
            let items: Vec<Filter> = values
                .chunks(MAX_OR_CONDITIONS)
                .map(|c| Filter {
                    op: "notIn".into(),
                    field: Some(field.clone()),
                    udf,
                    value: Some(Value::Array(c.to_vec())),
                    items: vec![],
                })
                .collect();
            *f = Filter::and(items);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_like_the_query_model() {
        let q = Query::new()
            .filter(Filter::eq("status", 1))
            .filter(Filter::or([Filter::contains("title", "vpn"), Filter::exist("contractID")]))
            .filter(Filter::eq("Customer Impact", "Whole company").udf())
            .include(["title"])
            .max_records(50)
            .unwrap();
        assert_eq!(
            serde_json::to_value(&q).unwrap(),
            json!({"filter": [
                {"op": "eq", "field": "status", "value": 1},
                {"op": "or", "items": [{"op": "contains", "field": "title", "value": "vpn"}, {"op": "exist", "field": "contractID"}]},
                {"op": "eq", "field": "Customer Impact", "udf": true, "value": "Whole company"}],
              "IncludeFields": ["id", "title"], "MaxRecords": 50})
        );
    }

    #[test]
    fn max_records_is_checked() {
        assert_eq!(Query::all().max_records(0).unwrap_err(), Error::MaxRecords(0));
        assert_eq!(Query::all().max_records(501).unwrap_err(), Error::MaxRecords(501));
        assert!(Query::all().max_records(500).is_ok());
    }

    #[test]
    fn splits_in_lists_at_500_ors() {
        let q = Query::new()
            .filter(Filter::is_in("id", 0..1234))
            .filter(Filter::or([Filter::eq("a", 1), Filter::eq("b", 2)]));
        let parts = q.split().unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.or_conditions() <= MAX_OR_CONDITIONS));
        let total: usize = parts.iter().map(|p| p.filter[0].value.as_ref().unwrap().as_array().unwrap().len()).sum();
        assert_eq!(total, 1234);
        let n = Query::new().filter(Filter::not_in("id", 0..1200)).split().unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].filter[0].op, "and");
        assert_eq!(n[0].or_conditions(), 0);
        let bad = Query::new().filter(Filter::or((0..600).map(|i| Filter::eq("id", i))));
        assert!(matches!(bad.split(), Err(Error::InvalidQuery(_))));
    }
}
