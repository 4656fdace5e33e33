//! Text atpilot did not write (ticket titles and descriptions, contact and
//! company names, model output), made safe to place in atpilot's own
//! messages. Every surface escapes for its own format (HTML, Markdown, CSV,
//! Adaptive Cards); these rules come first, for every surface:
//!
//! * [`one_line`]: line breaks, tabs and every other control character
//!   (C0, DEL, C1, U+2028/U+2029) become one space, so a title cannot add a
//!   line (`Approve: https://…`) to atpilot's own structure;
//! * bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F,
//!   U+061C) are made visible as `[U+202E]`, so `gnp.exe` with a right-to-left
//!   override does not show as `exe.png`; zero-width characters (U+200B–U+200D,
//!   U+2060, U+FEFF, U+180E) and NUL are removed;
//! * [`lines`] does the same but keeps line breaks (normalised to `\n`), for
//!   multi-line text placed as a quoted block;
//! * [`markdown`] escapes every character Markdown or an Adaptive Card's
//!   text functions (`{{DATE(…)}}`) give meaning to; [`card_text`] breaks
//!   the text functions for an Adaptive Card `TextRun` (no Markdown there);
//! * [`csv_cell`] neutralises spreadsheet formulas (OWASP's CSV injection rule).

/// Is `c` a bidirectional formatting control (made visible, never obeyed)?
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Is `c` a zero-width or invisible joiner (removed)?
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' | '\0')
}

fn push_visible(out: &mut String, c: char, line_break: &str) {
    if is_bidi_control(c) {
        out.push_str(&format!("[U+{:04X}]", c as u32));
    } else if is_invisible(c) {
    } else if c == '\n' || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}' {
        out.push_str(line_break);
    } else if c.is_control() {
        out.push(' ');
    } else {
        out.push(c);
    }
}

/// `s` with its bidi controls made visible and invisible characters removed
/// (zero-width joiners kept: Persian words and emoji sequences need them),
/// everything else (line breaks included) as it is: for a page that shows
/// text whole, after which the page escapes it for HTML.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| is_bidi_control(c) || (is_invisible(c) && !matches!(c, '\u{200C}' | '\u{200D}'))) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_bidi_control(c) {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else if !is_invisible(c) || matches!(c, '\u{200C}' | '\u{200D}') {
            // Joiners stay: they shape Persian words and emoji sequences.
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` on one line: every line break and control character is one space,
/// runs of spaces are one, bidi controls are shown, invisible ones removed;
/// trimmed.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_visible(&mut out, c, " ");
    }
    let mut folded = String::with_capacity(out.len());
    for word in out.split(' ').filter(|w| !w.is_empty()) {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.push_str(word);
    }
    folded
}

/// `s` with its line breaks kept (CR LF, CR, U+2028… become `\n`) and every
/// other control character made safe as [`one_line`] does; trailing space trimmed.
pub fn lines(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_visible(&mut out, c, "\n");
    }
    out.trim_end().to_string()
}

/// `s` as [`one_line`] with every Markdown character backslash-escaped
/// (CommonMark allows it before any ASCII punctuation), so it shows exactly as
/// written where Markdown is rendered; escaped braces also keep Adaptive Card
/// text functions (`{{DATE(…)}}`) from matching.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in one_line(s).chars() {
        if "\\`*_{}[]()<>#+-.!|~=".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `s` as [`one_line`] for an Adaptive Card `TextRun` (which renders no
/// Markdown but does expand `{{DATE(…)}}` and `{{TIME(…)}}`): `{{` and `}}`
/// are broken with a space.
pub fn card_text(s: &str) -> String {
    one_line(s).replace("{{", "{ {").replace("}}", "} }")
}

/// A CSV cell that no spreadsheet evaluates: a cell starting with `=`, `+`,
/// `-`, `@`, tab or CR gets a leading `'` (OWASP, "CSV Injection"). Numbers
/// atpilot writes itself (`-1.5`) are left as they are.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && s.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_folds_breaks_and_controls() {
        assert_eq!(
            one_line("Reset\r\nApprove: https://evil.example\t x\u{2028}y\0z"),
            "Reset Approve: https://evil.example x yz"
        );
        assert_eq!(one_line("  a \u{85} b  "), "a b");
    }

    #[test]
    fn bidi_is_shown_and_invisible_characters_removed() {
        assert_eq!(one_line("invoice\u{202E}gnp.exe"), "invoice[U+202E]gnp.exe");
        assert_eq!(one_line("pay\u{200B}pal\u{FEFF}"), "paypal");
        assert_eq!(lines("a\u{2067}b\r\nc\rd"), "a[U+2067]b\nc\nd");
    }

    #[test]
    fn markdown_shows_what_was_written() {
        let t = "[Approve](https://evil.example/approve) **URGENT** {{DATE(2017-02-14T06:08:39Z, SHORT)}}\n- item";
        assert_eq!(
            markdown(t),
            r"\[Approve\]\(https://evil\.example/approve\) \*\*URGENT\*\* \{\{DATE\(2017\-02\-14T06:08:39Z, SHORT\)\}\} \- item"
        );
        assert_eq!(card_text("{{DATE(2017-02-14T06:08:39Z)}}\n**x**"), "{ {DATE(2017-02-14T06:08:39Z)} } **x**");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        for bad in ["=HYPERLINK(\"https://evil.example\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(csv_cell("-1.5"), "-1.5");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
