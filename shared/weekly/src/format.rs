//! How figures read in words: percentages, signed changes and optional
//! values, the same in the explanations, the tables, the charts and the cards.

/// `0.873` → `87.3%`.
pub(crate) fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

/// `0.5` → `+50%`.
pub(crate) fn signed_pct(r: f64) -> String {
    format!("{:+.0}%", r * 100.0)
}

/// An optional id, or `none`.
pub(crate) fn opt(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "none".into())
}

pub(crate) fn f2(v: f64) -> String {
    format!("{v:.2}")
}
pub(crate) fn opt_pct(v: Option<f64>) -> String {
    v.map(pct).unwrap_or_else(|| "n/a".into())
}
pub(crate) fn opt_change(v: Option<f64>) -> String {
    v.map(signed_pct).unwrap_or_else(|| "n/a".into())
}
pub(crate) fn opt_f(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "n/a".into())
}
