use std::path::PathBuf;

/// Everything that can go wrong, phrased so that the reader knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty (expected a CSV header line)")]
    EmptyFile { path: PathBuf },
    #[error("{path}: no data rows after the header on line 1")]
    NoRows { path: PathBuf },
    #[error("{path}, line {line}: column {column:?} is not in the header (columns: {available})")]
    MissingColumn { path: PathBuf, line: u64, column: String, available: String },
    #[error("{path}, line {line}: not valid UTF-8 (save the file as UTF-8)")]
    NotUtf8 { path: PathBuf, line: u64 },
    #[error("{path}, line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{path}, line {line}: the label column {column:?} is empty")]
    EmptyLabel { path: PathBuf, line: u64, column: String },
    #[error("training needs at least two distinct labels, found {found}")]
    TooFewLabels { found: usize },
    #[error("invalid option: {0}")]
    Invalid(String),
    #[error("{path}: not an atpilot model artifact ({reason})")]
    BadArtifact { path: PathBuf, reason: String },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
