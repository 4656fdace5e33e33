//! CSV: every table as an attachment (RFC 4180 quoting, CRLF line ends, and
//! cells a spreadsheet would run as a formula quoted).

use super::Table;

impl Table {
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let v: Vec<String> = cells
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r'])
                        || c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err()
                    {
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
            rows: vec![vec!["1,5".into(), "say \"hi\"".into()], vec!["=cmd()".into(), "-3".into()]],
        };
        assert_eq!(t.csv(), "a,b\r\n\"1,5\",\"say \"\"hi\"\"\"\r\n\"=cmd()\",-3\r\n");
    }
}
