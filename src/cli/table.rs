//! Plain text tables for stdout: columns padded to their widest cell, two spaces apart, the
//! last column unpadded, so that the output reads without colour and pipes into `column`,
//! `grep` or `awk`.

use super::page::{outln, Page};

/// Adds `rows` (the first is the heading) to `page` as aligned columns.
pub(crate) fn table(page: &mut Page, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            }
        }
        outln!(page, "{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell() {
        let mut page = Page::default();
        let row = |a: &str, b: &str, c: &str| vec![a.to_owned(), b.to_owned(), c.to_owned()];
        table(&mut page, &[row("a", "bb", "c"), row("long", "x", "y")]);
        assert_eq!(page.text(), "a     bb  c\nlong  x   y\n");
    }
}
