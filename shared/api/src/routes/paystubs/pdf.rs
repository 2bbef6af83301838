//! A small PDF 1.4 writer, enough for a pay stub: US Letter pages of text (the standard
//! Helvetica and Helvetica-Bold fonts, WinAnsiEncoding, nothing embedded), rules and shaded
//! bars; uncompressed content streams; a cross-reference table with exact byte offsets.
//!
//! Text is measured with the fonts' standard metrics (Adobe AFM widths), so right-aligned
//! amounts line up and long explanations wrap inside the margins.

use std::fmt::Write as _;

/// US Letter, in points.
pub const PAGE_WIDTH: f32 = 612.0;
pub const PAGE_HEIGHT: f32 = 792.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// Helvetica widths (1/1000 em) of the printable ASCII characters 32..=126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/// Helvetica-Bold widths of 32..=126.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, //
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, //
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, //
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, //
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, //
];

/// The WinAnsiEncoding byte of a character; characters outside it become close ASCII or `?`.
pub fn win_ansi(c: char) -> Vec<u8> {
    let b = |x: u8| vec![x];
    match c {
        ' '..='~' => b(c as u8),
        '\u{a0}'..='\u{ff}' => b(c as u32 as u8),
        '€' => b(0x80),
        '…' => b(0x85),
        '‘' => b(0x91),
        '’' => b(0x92),
        '“' => b(0x93),
        '”' => b(0x94),
        '•' => b(0x95),
        '–' => b(0x96),
        '—' => b(0x97),
        '−' => b(b'-'),
        '→' => b"->".to_vec(),
        '≥' => b">=".to_vec(),
        '≤' => b"<=".to_vec(),
        '\t' | '\n' | '\r' => b(b' '),
        _ => b(b'?'),
    }
}

/// The encoded bytes of `s`.
pub fn encode(s: &str) -> Vec<u8> {
    s.chars().flat_map(win_ansi).collect()
}

/// Width of `s` in points at `size`.
pub fn text_width(s: &str, font: Font, size: f32) -> f32 {
    let table = match font {
        Font::Regular => &HELVETICA,
        Font::Bold => &HELVETICA_BOLD,
    };
    let units: u32 = encode(s)
        .into_iter()
        .map(|b| match b {
            32..=126 => u32::from(table[usize::from(b - 32)]),
            0xd7 => 584,
            _ => 556,
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Split `s` into lines no wider than `width` (a word longer than the line is cut). Linear:
/// each word is measured once.
pub fn wrap(s: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let space = text_width(" ", font, size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0.0f32;
    for word in s.split_whitespace() {
        let w = text_width(word, font, size);
        if line.is_empty() && w <= width {
            line.push_str(word);
            used = w;
            continue;
        }
        if !line.is_empty() && used + space + w <= width {
            line.push(' ');
            line.push_str(word);
            used += space + w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
        }
        if w <= width {
            line.push_str(word);
            used = w;
            continue;
        }
        // The word alone is too wide: cut it.
        for ch in word.chars() {
            let cw = text_width(ch.encode_utf8(&mut [0u8; 4]), font, size);
            if used + cw > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            line.push(ch);
            used += cw;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A PDF string literal: `(` `)` `\` escaped, bytes outside printable ASCII as octal escapes.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for b in encode(s) {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            32..=126 => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// One page's content stream.
#[derive(Debug, Default, Clone)]
pub struct Page {
    ops: String,
}

impl Page {
    /// Text with its baseline starting at (x, y) (origin bottom left).
    pub fn text(&mut self, x: f32, y: f32, font: Font, size: f32, s: &str) {
        let _ = writeln!(
            self.ops,
            "BT /{} {size:.1} Tf {x:.2} {y:.2} Td {} Tj ET",
            font.resource(),
            literal(s)
        );
    }

    /// Text ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, font: Font, size: f32, s: &str) {
        self.text(right - text_width(s, font, size), y, font, size, s);
    }

    /// A horizontal rule.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        let _ = writeln!(self.ops, "{width:.2} w {x1:.2} {y:.2} m {x2:.2} {y:.2} l S");
    }

    /// A filled rectangle in gray (0 black .. 1 white); the fill colour is restored after.
    pub fn shade(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        let _ = writeln!(self.ops, "q {gray:.2} g {x:.2} {y:.2} {w:.2} {h:.2} re f Q");
    }
}

/// A document: pages and an information dictionary.
#[derive(Debug, Default, Clone)]
pub struct Document {
    pub title: String,
    pub pages: Vec<Page>,
}

impl Document {
    /// The PDF file. Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, 5 info,
    /// then a page and its content stream for each page.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
        let n_pages = self.pages.len().max(1);
        let first_page = 6;
        let kids: Vec<String> = (0..n_pages)
            .map(|i| format!("{} 0 R", first_page + 2 * i))
            .collect();
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            format!(
                "<< /Type /Pages /Kids [{}] /Count {n_pages} >>",
                kids.join(" ")
            )
            .into_bytes(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_vec(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
                .to_vec(),
            format!(
                "<< /Title {} /Producer (payroll) >>",
                literal(&self.title)
            )
            .into_bytes(),
        ];
        let empty = Page::default();
        for i in 0..n_pages {
            let page = self.pages.get(i).unwrap_or(&empty);
            let content = first_page + 2 * i + 1;
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                     /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content} 0 R >>"
                )
                .into_bytes(),
            );
            let mut stream = format!("<< /Length {} >>\nstream\n", page.ops.len()).into_bytes();
            stream.extend_from_slice(page.ops.as_bytes());
            stream.extend_from_slice(b"\nendstream");
            objects.push(stream);
        }
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for o in &offsets {
            let _ = writeln!(table, "{o:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(table.as_bytes());
        out
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    /// Check the file's structure the way a reader finds objects: `startxref` → the `xref`
    /// table → each offset starts `N 0 obj`. Returns the number of objects.
    pub fn check(pdf: &[u8]) -> usize {
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        let sx = pdf.windows(9).rposition(|w| w == b"startxref").unwrap();
        // Everything from the cross-reference table on is ASCII.
        let tail = std::str::from_utf8(&pdf[sx..]).unwrap();
        let xref: usize = tail.lines().nth(1).unwrap().trim().parse().unwrap();
        assert!(tail.trim_end().ends_with("%%EOF"));
        assert_eq!(&pdf[xref..xref + 5], b"xref\n");
        let table = std::str::from_utf8(&pdf[xref..]).unwrap();
        let mut lines = table.lines().skip(1);
        let header = lines.next().unwrap();
        let count: usize = header.split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(lines.next().unwrap(), "0000000000 65535 f ");
        for n in 1..count {
            let entry = lines.next().unwrap();
            assert_eq!(entry.len(), 19, "{entry:?}"); // + "\n" = 20 bytes
            let off: usize = entry[..10].parse().unwrap();
            let want = format!("{n} 0 obj\n");
            assert_eq!(&pdf[off..off + want.len()], want.as_bytes(), "object {n}");
        }
        assert!(lines.next().unwrap().starts_with("trailer"));
        count - 1
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::tests_support::check;
    use super::*;

    #[test]
    fn a_document_has_exact_offsets_and_escaped_text() {
        let mut p = Page::default();
        p.text(
            40.0,
            700.0,
            Font::Bold,
            14.0,
            "Net pay (USD) \\ 1,234.56 – José",
        );
        p.text_right(572.0, 680.0, Font::Regular, 9.0, "99.00");
        p.rule(40.0, 572.0, 670.0, 0.5);
        p.shade(40.0, 650.0, 532.0, 12.0, 0.9);
        let doc = Document {
            title: "Stub (test)".into(),
            pages: vec![p.clone(), p],
        };
        let pdf = doc.to_bytes();
        assert_eq!(check(&pdf), 5 + 2 * 2);
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains(r"(Net pay \(USD\) \\ 1,234.56 \226 Jos\351) Tj"),
            "{text}"
        );
        assert!(text.contains("/Count 2"));
        // The stream length is the exact byte count between `stream\n` and `\nendstream`.
        let s = text.find("stream\n").unwrap() + 7;
        let e = text[s..].find("\nendstream").unwrap();
        let len: usize = text[..s]
            .rsplit("/Length ")
            .next()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, e);
    }

    #[test]
    fn widths_and_wrapping() {
        // Digits are all 556/1000 em: "100.00" = 5 × 556 + 278.
        assert!((text_width("100.00", Font::Regular, 10.0) - 30.58).abs() < 0.001);
        let long = "Federal income tax by IRS Pub 15-T percentage method, worksheet 1A, lines 1a to 4b with every intermediate value";
        let lines = wrap(long, Font::Regular, 8.0, 150.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(text_width(l, Font::Regular, 8.0) <= 150.0, "{l}");
        }
        assert_eq!(lines.join(" "), long);
        let cut = wrap(&"x".repeat(200), Font::Regular, 8.0, 100.0);
        assert!(
            cut.len() > 1
                && cut
                    .iter()
                    .all(|l| text_width(l, Font::Regular, 8.0) <= 100.0)
        );
        assert_eq!(encode("a→b≥"), b"a->b>=".to_vec());
    }
}
