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
