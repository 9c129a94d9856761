//! A stage's sections ([`repro_sections::PageSections`]) as HTML: each block kind has one
//! rendering, every string is escaped, and the only attributes written are the engine's own
//! (classes, `data-verdict`, the colour of a swatch, already checked to be `#rrggbb`).

use std::fmt::Write as _;

use repro_sections::{Block, Section, Tone};

use super::html::{elem, esc};

/// Renders one section: its heading (with its anchor) and its blocks.
pub(crate) fn section(out: &mut String, s: &Section) {
    let _ = write!(out, "<section id=\"s-{}\">", esc(&s.id));
    elem(out, "h2", "", &s.title);
    blocks(out, &s.blocks);
    out.push_str("</section>");
}

/// Renders blocks in order.
pub(crate) fn blocks(out: &mut String, blocks: &[Block]) {
    for b in blocks {
        block(out, b);
    }
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Text { text } => elem(out, "p", "", text),
        Block::List { items } => {
            out.push_str("<ul>");
            for i in items {
                elem(out, "li", "", i);
            }
            out.push_str("</ul>");
        }
        Block::Verdicts { items } => {
            out.push_str("<ol class=\"verdicts\">");
            for v in items {
                let tone = match v.tone {
                    Tone::Good => "good",
                    Tone::Bad => "bad",
                    Tone::Neutral => "neutral",
                };
                let _ = write!(
                    out,
                    "<li class=\"verdict {tone}\" data-verdict=\"{}\"><span class=\"vid\">{}</span> <strong>{}</strong><br>{}</li>",
                    esc(&v.id),
                    esc(&v.id),
                    esc(&v.verdict),
                    esc(&v.sentence)
                );
            }
            out.push_str("</ol>");
        }
        Block::Facts { items } => {
            out.push_str("<dl class=\"facts\">");
            for f in items {
                elem(out, "dt", "", &f.label);
                elem(out, "dd", "", &f.value);
            }
            out.push_str("</dl>");
        }
        Block::Table(t) => {
            if !t.caption.is_empty() {
                elem(out, "p", "class=\"caption\"", &t.caption);
            }
            let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
            let rows: Vec<(String, Vec<String>)> =
                t.rows.iter().map(|r| (String::new(), r.clone())).collect();
            let attrs = if t.sortable {
                "class=\"data sortable\""
            } else {
                "class=\"data\""
            };
            super::html::table(out, attrs, &header, &rows);
        }
        Block::Chart(c) => super::chart::chart(out, c),
        Block::Details {
            summary,
            blocks: inner,
        } => {
            out.push_str("<details>");
            elem(out, "summary", "", summary);
            blocks(out, inner);
            out.push_str("</details>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use repro_sections::{Table, Verdict};

    #[test]
    fn a_stage_cannot_put_markup_on_the_page() {
        let s = Section {
            id: "x".into(),
            title: "<b>t</b>".into(),
            blocks: vec![
                Block::Text {
                    text: "<img src=x onerror=alert(1)>".into(),
                },
                Block::Verdicts {
                    items: vec![Verdict {
                        id: "C1\"><script>".into(),
                        verdict: "ok".into(),
                        tone: Tone::Good,
                        sentence: "s".into(),
                    }],
                },
                Block::Table(Table {
                    caption: String::new(),
                    header: vec!["<th>".into()],
                    rows: vec![vec!["<td>".into()]],
                    sortable: true,
                }),
            ],
        };
        let mut out = String::new();
        section(&mut out, &s);
        assert!(!out.contains("<img"));
        assert!(!out.contains("<script"));
        assert!(!out.contains("<b>"));
        assert_eq!(out.matches("data-verdict=").count(), 1);
        assert!(out.contains("class=\"data sortable\""));
    }
}
