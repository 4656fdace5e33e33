//! CSV: every table as an attachment (RFC 4180 quoting, CRLF line ends, and
//! cells a spreadsheet would run as a formula neutralised with a leading `'`,
//! `atpilot_domain::untrusted::csv_cell`).

use super::Table;

impl Table {
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let v: Vec<String> = cells
                .map(|c| atpilot_domain::untrusted::csv_cell(c))
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            out.push_str(&v.join(","));
            out.push_str("\r\n");
        };
        line(&mut self.header.iter().copied(), &mut out);
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str), &mut out);
        }
        out
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Tenant text (company and contract names) from the hostile corpus, in
    /// the e-mail's HTML table and the CSV attachment: escaped, never a formula.
    #[test]
    fn hostile_tenant_text_in_the_report_tables() {
        let raw = include_str!("../../../../tests/data/hostile_tickets.json");
        let items: Vec<serde_json::Value> = serde_json::from_str(raw).unwrap();
        let t = Table {
            id: "contracts",
            title: "Contracts",
            header: vec!["company", "contract"],
            rows: items.iter().map(|v| v["text"].as_str().unwrap().to_string()).map(|p| vec![p.clone(), p]).collect(),
        };
        let html = super::super::html::html_table(&t);
        assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<a "), "{html}");
        let csv_text = t.csv();
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(csv_text.as_bytes());
        let mut cells = 0;
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                cells += 1;
                assert!(
                    !(cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()),
                    "{cell:?}"
                );
            }
        }
        assert_eq!(cells, 2 * items.len(), "every cell survives, CR LF and quotes included");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table {
            id: "x",
            title: "x",
            header: vec!["a", "b"],
            rows: vec![
                vec!["1,5".into(), "say \"hi\"".into()],
                vec!["=cmd()".into(), "-3".into()],
                vec!["@SUM(1,2)".into(), "\tx".into()],
            ],
        };
        assert_eq!(t.csv(), "a,b\r\n\"1,5\",\"say \"\"hi\"\"\"\r\n'=cmd(),-3\r\n\"'@SUM(1,2)\",'\tx\r\n");
    }
}
