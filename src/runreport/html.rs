//! Plain escaped string building for the page: every piece of text that reaches the page goes
//! through [`esc`], and attribute values are always double-quoted, so no text from a pipeline,
//! a stage's sections file or a log can open a tag, an attribute or a script.
//!
//! Numbers printed into SVG coordinates go through [`num`], which prints finite values with at
//! most two decimals and never `NaN` or `inf`.

use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities; control characters other than
/// tab and newline are dropped (they are not allowed in HTML text).
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate: at most two decimals, no trailing zeros, `0` for anything not finite.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let mut s = format!("{:.2}", v);
    while s.contains('.') && (s.ends_with('0') || s.ends_with('.')) {
        s.pop();
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s
}

/// A value for a person: up to four significant digits, trailing zeros dropped.
pub(crate) fn human(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let digits = (4 - 1 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let mut s = format!("{v:.digits$}");
    while s.contains('.') && (s.ends_with('0') || s.ends_with('.')) {
        s.pop();
    }
    s
}

/// Seconds as `12.3 s`, `4 min 05 s` or `2 h 03 min`.
pub(crate) fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "?".to_owned();
    }
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        return format!("{} min {:02} s", whole / 60, whole % 60);
    }
    format!("{} h {:02} min", whole / 3600, (whole % 3600) / 60)
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Appends `<tag attrs>escaped text</tag>`; `attrs` is trusted markup built by the caller.
pub(crate) fn elem(out: &mut String, tag: &str, attrs: &str, text: &str) {
    let sep = if attrs.is_empty() { "" } else { " " };
    let _ = write!(out, "<{tag}{sep}{attrs}>{}</{tag}>", esc(text));
}

/// A table: escaped header and cells; `attrs` of the `<table>` and of each row are trusted.
pub(crate) fn table(
    out: &mut String,
    attrs: &str,
    header: &[&str],
    rows: &[(String, Vec<String>)],
) {
    let _ = write!(out, "<div class=\"scroll\"><table {attrs}><thead><tr>");
    for h in header {
        elem(out, "th", "scope=\"col\"", h);
    }
    out.push_str("</tr></thead><tbody>");
    for (row_attrs, cells) in rows {
        let sep = if row_attrs.is_empty() { "" } else { " " };
        let _ = write!(out, "<tr{sep}{row_attrs}>");
        for c in cells {
            elem(out, "td", "", c);
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_open_a_tag_or_leave_an_attribute() {
        assert_eq!(
            esc("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(esc("a\u{1b}[31mb\u{0}"), "a[31mb");
    }

    #[test]
    fn coordinates_are_short_and_always_numbers() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.234_56), "1.23");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(human(0.493_75), "0.4938");
        assert_eq!(human(1234.6), "1235");
    }

    #[test]
    fn dates_and_durations_read_as_people_write_them() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_300_000), "2026-12-03 12:13:20 UTC");
        assert_eq!(duration(5.25), "5.2 s");
        assert_eq!(duration(65.0), "1 min 05 s");
        assert_eq!(duration(7380.0), "2 h 03 min");
    }
}
