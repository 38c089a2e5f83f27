//! A printable document as PDF: A4 pages laid out here, text shaped by rustybuzz (Arabic letters
//! join) and ordered by the Unicode bidirectional algorithm, fonts embedded by krilla as subsets.
//!
//! Two fonts cover the four languages: Noto Sans (Latin, Cyrillic, digits, punctuation) and Noto
//! Sans Arabic; each character is drawn in the first that has it, so a Cyrillic name inside an
//! Arabic page keeps its letters. The fonts ship in the repository (`crates/web/fonts`, OFL).

use super::{Block, Doc};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use std::ops::Range;
use std::sync::OnceLock;
use unicode_bidi::{BidiInfo, Level};

static SANS: &[u8] = include_bytes!("../../../fonts/NotoSans-Regular.ttf");
static ARABIC: &[u8] = include_bytes!("../../../fonts/NotoSansArabic-Regular.ttf");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const BODY: f32 = 10.0;
const GAP: f32 = 4.0;

/// Why a PDF could not be made (the fonts are built in, so only krilla's own refusals).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PdfError {
    #[error("the built-in fonts could not be read")]
    Font,
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// One of the two fonts: krilla's handle for drawing, rustybuzz's face for measuring.
struct Face {
    font: Font,
    shaper: rustybuzz::Face<'static>,
    upem: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Self, PdfError> {
        let shaper = rustybuzz::Face::from_slice(data, 0).ok_or(PdfError::Font)?;
        let font = Font::new(data.to_vec().into(), 0).ok_or(PdfError::Font)?;
        let upem = f32::from(shaper.units_per_em().clamp(1, i32::from(u16::MAX)) as u16);
        Ok(Self { font, shaper, upem })
    }

    fn has(&self, c: char) -> bool {
        self.shaper.glyph_index(c).is_some()
    }

    /// The width of `text` set in one direction at `size` points.
    fn width(&self, text: &str, rtl: bool, size: f32) -> f32 {
        let mut b = rustybuzz::UnicodeBuffer::new();
        b.push_str(text);
        b.set_direction(if rtl {
            rustybuzz::Direction::RightToLeft
        } else {
            rustybuzz::Direction::LeftToRight
        });
        let out = rustybuzz::shape(&self.shaper, &[], b);
        let units: i32 = out.glyph_positions().iter().map(|p| p.x_advance).sum();
        units as f32 / self.upem * size
    }
}

struct Fonts {
    sans: Face,
    arabic: Face,
}

impl Fonts {
    fn get() -> Result<&'static Fonts, PdfError> {
        static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
        FONTS
            .get_or_init(|| {
                Some(Fonts {
                    sans: Face::load(SANS).ok()?,
                    arabic: Face::load(ARABIC).ok()?,
                })
            })
            .as_ref()
            .ok_or(PdfError::Font)
    }

    /// Arabic letters in the Arabic font; everything else (spaces and digits too) in Noto Sans
    /// when it has the character.
    fn for_char(&self, c: char) -> &Face {
        if self.sans.has(c) && !is_arabic(c) {
            &self.sans
        } else {
            &self.arabic
        }
    }
}

fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// A piece of a line in one font and one direction, in visual order.
struct Piece<'a> {
    text: &'a str,
    face: &'a Face,
    rtl: bool,
    width: f32,
}

/// The pieces of one line in the order they are drawn from left to right. Each line takes its
/// direction from its first strong letter, as `dir="auto"` does in the HTML (an Arabic label
/// reads right to left, a Latin name beside it left to right); a line without one reads the
/// page's way.
fn pieces<'a>(fonts: &'a Fonts, line: &'a str, rtl_page: bool, size: f32) -> Vec<Piece<'a>> {
    let base = if rtl_page { Level::rtl() } else { Level::ltr() };
    let strong = unicode_bidi::get_base_direction(line) != unicode_bidi::Direction::Mixed;
    let info = BidiInfo::new(line, if strong { None } else { Some(base) });
    let mut out = Vec::new();
    for para in &info.paragraphs {
        let (levels, runs) = info.visual_runs(para, para.range.clone());
        for run in runs {
            let rtl = levels[run.start].is_rtl();
            let mut parts = font_runs(fonts, line, run);
            if rtl {
                parts.reverse();
            }
            out.extend(parts.into_iter().map(|(r, face)| Piece {
                text: &line[r.clone()],
                face,
                rtl,
                width: face.width(&line[r], rtl, size),
            }));
        }
    }
    out
}

/// The invisible marks that steer the bidirectional algorithm (isolates, embeddings, marks):
/// they order the text but have no glyph to draw.
fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Splits a range of one direction where the font changes (logical order).
fn font_runs<'a>(fonts: &'a Fonts, text: &str, run: Range<usize>) -> Vec<(Range<usize>, &'a Face)> {
    let mut out: Vec<(Range<usize>, &Face)> = Vec::new();
    for (i, c) in text[run.clone()].char_indices() {
        let at = run.start + i;
        if is_bidi_control(c) {
            continue;
        }
        let face = fonts.for_char(c);
        match out.last_mut() {
            Some((r, f)) if std::ptr::eq(*f, face) => r.end = at + c.len_utf8(),
            _ => out.push((at..at + c.len_utf8(), face)),
        }
    }
    out
}

fn line_width(fonts: &Fonts, line: &str, rtl: bool, size: f32) -> f32 {
    pieces(fonts, line, rtl, size).iter().map(|p| p.width).sum()
}

/// Breaks `text` into lines no wider than `width` at spaces; a word wider than the line (a
/// version's fingerprint) is cut between letters.
fn wrap(fonts: &Fonts, text: &str, rtl: bool, size: f32, width: f32) -> Vec<String> {
    let fits = |s: &str| line_width(fonts, s, rtl, size) <= width;
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let tried = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if fits(&tried) {
                line = tried;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if !fits(&line) && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// Where the pen is: the page being drawn and the baseline of the next line.
struct Pen<'d> {
    doc: &'d mut Document,
    pages: Vec<Vec<Op>>,
    y: f32,
}

/// What is drawn on a page, collected first so that a page is written in one go.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        line: String,
    },
    Rule {
        x0: f32,
        x1: f32,
        y: f32,
    },
}

impl Pen<'_> {
    fn need(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn op(&mut self, op: Op) {
        if let Some(p) = self.pages.last_mut() {
            p.push(op);
        }
    }
}

/// The layout: text in a box `[left, left + width]`, aligned to the page's reading side.
struct Layout<'f> {
    fonts: &'f Fonts,
    rtl: bool,
}

impl Layout<'_> {
    /// Writes `text` wrapped in the box, returning the height used.
    fn text(&self, pen: &mut Pen, text: &str, size: f32, left: f32, width: f32, top: f32) -> f32 {
        let lead = size * 1.35;
        let mut y = top;
        for line in wrap(self.fonts, text, self.rtl, size, width) {
            y += lead;
            let w = line_width(self.fonts, &line, self.rtl, size);
            let x = if self.rtl { left + width - w } else { left };
            pen.op(Op::Text { x, y, size, line });
        }
        y - top
    }

    fn lines_height(&self, text: &str, size: f32, width: f32) -> f32 {
        wrap(self.fonts, text, self.rtl, size, width).len() as f32 * size * 1.35
    }

    fn paragraph(&self, pen: &mut Pen, text: &str, size: f32) {
        let w = PAGE_W - 2.0 * MARGIN;
        pen.need(self.lines_height(text, size, w));
        let top = pen.y;
        pen.y += self.text(pen, text, size, MARGIN, w, top) + GAP;
    }

    /// A row of cells across the page: columns from the reading side.
    fn row(&self, pen: &mut Pen, cells: &[String], widths: &[f32], size: f32) {
        let height = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| self.lines_height(c, size, w - 6.0))
            .fold(size * 1.35, f32::max);
        pen.need(height + GAP);
        let top = pen.y;
        let mut at = 0.0;
        for (cell, w) in cells.iter().zip(widths) {
            let left = if self.rtl {
                PAGE_W - MARGIN - at - w
            } else {
                MARGIN + at
            };
            self.text(pen, cell, size, left + 3.0, w - 6.0, top);
            at += w;
        }
        pen.y = top + height + GAP;
        let y = pen.y - GAP / 2.0;
        pen.op(Op::Rule {
            x0: MARGIN,
            x1: PAGE_W - MARGIN,
            y,
        });
    }

    fn block(&self, pen: &mut Pen, b: &Block) {
        let full = PAGE_W - 2.0 * MARGIN;
        match b {
            Block::Heading(h) => {
                pen.need(40.0);
                pen.y += 8.0;
                self.paragraph(pen, h, 13.0);
            }
            Block::Para(p) => self.paragraph(pen, p, BODY),
            Block::Fields(fields) => {
                for (k, v) in fields {
                    self.row(
                        pen,
                        &[k.clone(), v.clone()],
                        &[full * 0.3, full * 0.7],
                        BODY,
                    );
                }
            }
            Block::Table { head, rows } => {
                let widths = column_widths(head, full);
                self.row(pen, head, &widths, BODY - 1.0);
                for r in rows {
                    self.row(pen, r, &widths, BODY - 1.0);
                }
            }
            Block::Signatures(who) => {
                for w in who {
                    pen.need(60.0);
                    pen.y += 40.0;
                    let y = pen.y;
                    // The line to sign starts where the page's text starts.
                    let (x0, x1) = if self.rtl {
                        (PAGE_W - MARGIN - full * 0.6, PAGE_W - MARGIN)
                    } else {
                        (MARGIN, MARGIN + full * 0.6)
                    };
                    pen.op(Op::Rule { x0, x1, y });
                    pen.y += 2.0;
                    self.paragraph(pen, w, BODY - 1.0);
                }
            }
        }
    }
}

/// Equal columns, except a leading `#` column, which needs only a few digits.
fn column_widths(head: &[String], full: f32) -> Vec<f32> {
    let n = head.len().max(1) as f32;
    if head.first().is_some_and(|h| h == "#") && head.len() > 1 {
        let first = 24.0;
        let rest = (full - first) / (n - 1.0);
        std::iter::once(first)
            .chain(std::iter::repeat_n(rest, head.len() - 1))
            .collect()
    } else {
        vec![full / n; head.len()]
    }
}

fn draw_line(s: &mut Surface, fonts: &Fonts, rtl: bool, x: f32, y: f32, size: f32, line: &str) {
    let mut x = x;
    for p in pieces(fonts, line, rtl, size) {
        let dir = if p.rtl {
            TextDirection::RightToLeft
        } else {
            TextDirection::LeftToRight
        };
        s.draw_text(
            Point::from_xy(x, y),
            p.face.font.clone(),
            size,
            p.text,
            false,
            dir,
        );
        x += p.width;
    }
}

fn draw_rule(s: &mut Surface, x0: f32, x1: f32, y: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(x0, y);
    pb.line_to(x1, y);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            paint: rgb::Color::new(140, 140, 140).into(),
            width: 0.5,
            ..Stroke::default()
        }));
        s.draw_path(&path);
        s.set_stroke(None);
        s.set_fill(Some(krilla::paint::Fill::default()));
    }
}

/// The document as PDF bytes.
pub(crate) fn render(d: &Doc) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::get()?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(d.title.clone())
            .language(d.lang.to_owned())
            .creator("Homeward".to_owned()),
    );
    let lay = Layout { fonts, rtl: d.rtl };
    let mut pen = Pen {
        doc: &mut document,
        pages: vec![Vec::new()],
        y: MARGIN,
    };
    lay.paragraph(&mut pen, &d.title, 16.0);
    lay.paragraph(&mut pen, &d.subtitle, BODY - 1.0);
    for b in &d.blocks {
        lay.block(&mut pen, b);
    }
    let pages = std::mem::take(&mut pen.pages);
    let doc = pen.doc;
    let total = pages.len();
    for (i, ops) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Font)?;
        let mut page = doc.start_page_with(settings);
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, line } => draw_line(&mut s, fonts, d.rtl, x, y, size, &line),
                Op::Rule { x0, x1, y } => draw_rule(&mut s, x0, x1, y),
            }
        }
        let folio = format!("{} · {}/{}", d.footer, i + 1, total);
        let w = line_width(fonts, &folio, d.rtl, 8.0);
        let x = if d.rtl { PAGE_W - MARGIN - w } else { MARGIN };
        draw_line(&mut s, fonts, d.rtl, x, PAGE_H - MARGIN / 2.0, 8.0, &folio);
        s.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str, rtl: bool) -> Vec<(String, bool)> {
        let fonts = Fonts::get().unwrap();
        pieces(fonts, line, rtl, 10.0)
            .iter()
            .map(|p| (p.text.trim().to_owned(), p.rtl))
            .filter(|(t, _)| !t.is_empty())
            .collect()
    }

    #[test]
    fn an_arabic_label_before_a_latin_name_is_drawn_name_first_from_the_left() {
        // Read right to left: the label, then the name; drawn from the left: the name first.
        let drawn = texts("من Oksana Lysenko", true);
        assert_eq!(
            drawn,
            vec![
                ("Oksana Lysenko".to_owned(), false),
                ("من".to_owned(), true)
            ]
        );
    }

    #[test]
    fn a_cyrillic_name_is_one_left_to_right_piece_in_noto_sans() {
        let fonts = Fonts::get().unwrap();
        let p = pieces(fonts, "Олександр Лисенко", false, 10.0);
        assert_eq!(p.len(), 1);
        assert!(std::ptr::eq(p[0].face, &fonts.sans) && !p[0].rtl && p[0].width > 0.0);
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_between_letters() {
        let fonts = Fonts::get().unwrap();
        let hash = "0b5f46f614a2353014c7977490bea79dc44ec814d78e8a80ca1780a9f2262858";
        let lines = wrap(fonts, hash, false, 10.0, 120.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.concat(), hash);
        assert!(
            lines
                .iter()
                .all(|l| line_width(fonts, l, false, 10.0) <= 120.0)
        );
    }

    #[test]
    fn isolate_marks_are_not_drawn() {
        let drawn = texts("طُبع في \u{2066}2026-12-08\u{2069}", true);
        assert!(
            drawn.iter().all(|(t, _)| !t.contains('\u{2066}')),
            "{drawn:?}"
        );
        assert!(drawn.iter().any(|(t, _)| t == "2026-12-08"), "{drawn:?}");
    }
}
