//! Ticket tables from CSV, with any column names; errors name the file and the line.

use crate::ModelError;
use std::path::{Path, PathBuf};

/// Which columns to read.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Joined (in this order) into the text the model reads.
    pub text: Vec<String>,
    /// The label column, for training and evaluation.
    pub label: Option<String>,
    /// The id column; when absent from the file, ids are the line numbers.
    pub id: String,
}

impl Columns {
    /// `"title,description"` → the text columns.
    pub fn parse_list(s: &str) -> Vec<String> {
        s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub path: PathBuf,
    pub ids: Vec<String>,
    pub texts: Vec<String>,
    pub labels: Option<Vec<String>>,
    /// Line of each row in the file (1-based, the header is line 1).
    pub lines: Vec<u64>,
}

impl Table {
    pub fn len(&self) -> usize {
        self.texts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

fn header_pos(path: &Path, headers: &[String], name: &str) -> Result<usize, ModelError> {
    headers.iter().position(|h| h == name).ok_or_else(|| ModelError::MissingColumn {
        path: path.into(),
        line: 1,
        column: name.to_string(),
        available: headers.join(","),
    })
}

/// Read a CSV file (UTF-8, header on the first line).
pub fn load_csv(path: &Path, cols: &Columns) -> Result<Table, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    load_csv_bytes(path, &bytes, cols)
}

/// Same as [`load_csv`], over bytes already read; `path` names the source in errors.
pub fn load_csv_bytes(path: &Path, bytes: &[u8], cols: &Columns) -> Result<Table, ModelError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ModelError::EmptyFile { path: path.into() });
    }
    if cols.text.is_empty() {
        return Err(ModelError::Invalid("no text columns given (e.g. --text-columns title,description)".into()));
    }
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} fields where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 (save the file as UTF-8)".into(),
            _ => e.to_string(),
        };
        ModelError::Csv { path: path.into(), line, message }
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let raw_headers = rdr.byte_headers().map_err(csv_err)?.clone();
    let mut headers = Vec::with_capacity(raw_headers.len());
    for h in raw_headers.iter() {
        let s = std::str::from_utf8(h).map_err(|_| ModelError::NotUtf8 { path: path.into(), line: 1 })?;
        headers.push(s.trim().trim_start_matches('\u{feff}').to_string());
    }
    let text_pos: Vec<usize> = cols.text.iter().map(|c| header_pos(path, &headers, c)).collect::<Result<_, _>>()?;
    let label_pos = cols.label.as_deref().map(|c| header_pos(path, &headers, c)).transpose()?;
    let id_pos = headers.iter().position(|h| *h == cols.id);

    let mut t = Table { path: path.into(), labels: label_pos.map(|_| Vec::new()), ..Table::default() };
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(e)),
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let field = |i: usize| -> Result<&str, ModelError> {
            std::str::from_utf8(rec.get(i).unwrap_or(b"")).map_err(|_| ModelError::NotUtf8 { path: path.into(), line })
        };
        for i in 0..rec.len() {
            field(i)?;
        }
        if rec.len() == 1 && rec.get(0) == Some(b"") {
            continue; // blank line
        }
        let mut text = String::new();
        for &p in &text_pos {
            let f = field(p)?.trim();
            if !f.is_empty() {
                if !text.is_empty() {
                    text.push_str(" \n ");
                }
                text.push_str(f);
            }
        }
        if let (Some(p), Some(labels)) = (label_pos, t.labels.as_mut()) {
            let l = field(p)?.trim();
            if l.is_empty() {
                return Err(ModelError::EmptyLabel {
                    path: path.into(),
                    line,
                    column: cols.label.clone().unwrap_or_default(),
                });
            }
            labels.push(l.to_string());
        }
        t.ids.push(match id_pos {
            Some(p) => field(p)?.to_string(),
            None => line.to_string(),
        });
        t.texts.push(text);
        t.lines.push(line);
    }
    if t.texts.is_empty() {
        return Err(ModelError::NoRows { path: path.into() });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(label: Option<&str>) -> Columns {
        Columns { text: vec!["title".into(), "description".into()], label: label.map(Into::into), id: "id".into() }
    }

    #[test]
    fn reads_any_column_order_and_joins_text() {
        let csv = b"label,description,id,title\nA,\"body, with comma\",t1,Subject\nB,,t2,Only title\n";
        let t = load_csv_bytes(Path::new("x.csv"), csv, &cols(Some("label"))).unwrap();
        assert_eq!(t.ids, ["t1", "t2"]);
        assert_eq!(t.texts, ["Subject \n body, with comma", "Only title"]);
        assert_eq!(t.labels.unwrap(), ["A", "B"]);
        assert_eq!(t.lines, [2, 3]);
    }

    #[test]
    fn errors_name_file_and_line() {
        let p = Path::new("tickets.csv");
        let e = load_csv_bytes(p, b"", &cols(None)).unwrap_err().to_string();
        assert!(e.contains("tickets.csv") && e.contains("empty"), "{e}");
        let e = load_csv_bytes(p, b"id,title\n1,a\n", &cols(None)).unwrap_err().to_string();
        assert!(e.contains("tickets.csv, line 1") && e.contains("\"description\""), "{e}");
        let e = load_csv_bytes(p, b"id,title,description\n1,a,b\n", &cols(Some("queue"))).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("\"queue\""), "{e}");
        let e = load_csv_bytes(p, b"id,title,description\n1,a,b\n2,\xff\xfe,c\n", &cols(None)).unwrap_err().to_string();
        assert!(e.contains("tickets.csv, line 3") && e.contains("UTF-8"), "{e}");
        let e = load_csv_bytes(p, b"id,title,description\n", &cols(None)).unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
        let e = load_csv_bytes(p, b"id,title,description\n1,a,b\n2,a\n", &cols(None)).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
        let e =
            load_csv_bytes(p, b"id,title,description,label\n1,a,b,\n", &cols(Some("label"))).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("empty"), "{e}");
    }

    #[test]
    fn ids_default_to_line_numbers() {
        let t = load_csv_bytes(Path::new("x.csv"), b"title,description\na,b\nc,d\n", &cols(None)).unwrap();
        assert_eq!(t.ids, ["2", "3"]);
    }
}
