//! Pictures of a QR matrix with its label under it, as the official KSeF images show: the
//! code with a white quiet zone around it, the label text centred below.
//!
//! - [`Raster`]: 1-bit rows into caller buffers (1 = black, MSB first — the usual format of
//!   receipt printers); allocation-free. The label is drawn with a built-in 5×7 font (digits,
//!   A-Z with lower case drawn as upper case, space, `- . / :`).
//! - [`svg`]: SVG text (the label as a `<text>` element, any characters).
//! - [`png()`] / [`write_png`] (feature `std`): a 1-bit grayscale PNG of the raster.
//!
//! ```
//! use ksef::qr::render::{svg, Raster, RenderOptions};
//! use ksef::qr::{QrMatrix, QrModules, EccLevel};
//!
//! let m = QrMatrix::encode("https://qr.ksef.mf.gov.pl/", EccLevel::Medium)?;
//! let opts = RenderOptions::default(); // 5 px per module, quiet zone of 4 modules
//! let r = Raster::new(&m, "OFFLINE", &opts)?;
//! assert_eq!(r.width(), (25 + 8) * 5);
//! let mut row = [0u8; 32];
//! r.row_into(0, &mut row)?; // the top quiet zone: white
//! assert!(row[..r.row_bytes()].iter().all(|&b| b == 0));
//! let text = svg(&m, Some("OFFLINE"), &opts)?;
//! assert!(text.contains(">OFFLINE</text>"));
//! # Ok::<(), ksef::Error>(())
//! ```

use alloc::string::String;
use core::fmt::Write as _;

use super::font;
use super::matrix::QrModules;
use crate::error::{Error, ErrorCode};

/// Size options of the pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RenderOptions {
    /// Pixels per module, 1-100 (default 5, as in the official client examples).
    pub module_px: u32,
    /// Width of the white border around the code, in modules, 0-40 (default 4, the minimum
    /// of ISO/IEC 18004; scanners may fail with less).
    pub quiet_zone: u32,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            module_px: 5,
            quiet_zone: 4,
        }
    }
}

impl RenderOptions {
    /// The same options with `module_px` pixels per module.
    pub fn with_module_px(mut self, module_px: u32) -> Self {
        self.module_px = module_px;
        self
    }

    /// The same options with a quiet zone of `modules` modules.
    pub fn with_quiet_zone(mut self, modules: u32) -> Self {
        self.quiet_zone = modules;
        self
    }
}

/// The largest picture side accepted, in pixels.
const MAX_SIDE: usize = 1 << 15;

fn image_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::QrImage, "", msg)
}

/// Where things go in the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    width: usize,
    height: usize,
    module: usize,
    quiet: usize,
    size: usize,
    code_x: usize,
    code_side: usize,
    chars: usize,
    scale: usize,
    text_x: usize,
    text_y: usize,
    text_w: usize,
}

impl Layout {
    fn new(size: usize, label: &str, opts: &RenderOptions) -> Result<Layout, Error> {
        if !(1..=100).contains(&opts.module_px) {
            return Err(image_error(alloc::format!(
                "module size {} px is outside 1-100",
                opts.module_px
            )));
        }
        if opts.quiet_zone > 40 {
            return Err(image_error(alloc::format!(
                "quiet zone of {} modules is outside 0-40",
                opts.quiet_zone
            )));
        }
        let module = opts.module_px as usize;
        let quiet = opts.quiet_zone as usize;
        let code_side = (size + 2 * quiet) * module;
        let chars = label.chars().count();
        // Cap height about 3.3 % of the code's side, as in the official images, but no wider
        // than the code; at least one font pixel per pixel.
        let unscaled = font::text_width(chars);
        let scale = ((code_side + 106) / 212)
            .min(code_side / (unscaled + 4).max(1))
            .max(1);
        let text_w = unscaled * scale;
        let width = if chars == 0 {
            code_side
        } else {
            code_side.max(text_w + 4 * scale)
        };
        let (text_y, height) = if chars == 0 {
            (code_side, code_side)
        } else {
            let gap = if quiet >= 2 { 0 } else { module };
            let top = code_side + gap;
            (top, top + font::HEIGHT * scale + module.max(2 * scale))
        };
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(image_error(alloc::format!(
                "the picture would be {width}x{height} px (at most {MAX_SIDE} per side)"
            )));
        }
        Ok(Layout {
            width,
            height,
            module,
            quiet,
            size,
            code_x: (width - code_side) / 2,
            code_side,
            chars,
            scale,
            text_x: (width - text_w) / 2,
            text_y,
            text_w,
        })
    }

    /// The module under pixel (x, y), if the pixel is in the symbol (not the quiet zone).
    fn module_at(&self, x: usize, y: usize) -> Option<(usize, usize)> {
        if y >= self.code_side || x < self.code_x || x >= self.code_x + self.code_side {
            return None;
        }
        let mx = ((x - self.code_x) / self.module).checked_sub(self.quiet)?;
        let my = (y / self.module).checked_sub(self.quiet)?;
        (mx < self.size && my < self.size).then_some((mx, my))
    }
}

/// A 1-bit picture of a matrix and its label, produced row by row without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Raster<'a, M: QrModules> {
    matrix: &'a M,
    label: &'a str,
    layout: Layout,
}

impl<'a, M: QrModules> Raster<'a, M> {
    /// Lay out `matrix` with `label` under it (`""` for none). Refuses a label character
    /// outside the built-in font and sizes outside the options' ranges (`QrImage`).
    pub fn new(matrix: &'a M, label: &'a str, opts: &RenderOptions) -> Result<Self, Error> {
        if let Some(c) = font::unsupported(label) {
            return Err(image_error(alloc::format!(
                "the label character {c:?} is not in the built-in font (digits, A-Z, space, \
                 - . / :); use SVG for other text"
            )));
        }
        Ok(Raster {
            matrix,
            label,
            layout: Layout::new(matrix.size(), label, opts)?,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.layout.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.layout.height
    }

    /// Bytes per packed row: `ceil(width / 8)`.
    pub fn row_bytes(&self) -> usize {
        self.layout.width.div_ceil(8)
    }

    /// Whether pixel (`x`, `y`) is black.
    pub fn is_black(&self, x: usize, y: usize) -> bool {
        let l = &self.layout;
        if y < l.code_side {
            return l
                .module_at(x, y)
                .is_some_and(|(mx, my)| self.matrix.is_dark(mx, my));
        }
        if l.chars == 0 || y < l.text_y || x < l.text_x || x >= l.text_x + l.text_w {
            return false;
        }
        let gy = (y - l.text_y) / l.scale;
        if gy >= font::HEIGHT {
            return false;
        }
        let gx = (x - l.text_x) / l.scale;
        let cell = font::WIDTH + font::SPACING;
        self.label
            .chars()
            .nth(gx / cell)
            .and_then(font::glyph)
            .is_some_and(|g| font::pixel(&g, gx % cell, gy))
    }

    /// Write row `y` packed into `out` (at least [`Self::row_bytes`] bytes): 1 bits are
    /// black, the first pixel is the most significant bit, pad bits are 0.
    pub fn row_into(&self, y: usize, out: &mut [u8]) -> Result<(), Error> {
        let n = self.row_bytes();
        if out.len() < n {
            return Err(Error::buffer_too_small(n));
        }
        if y >= self.layout.height {
            return Err(image_error(alloc::format!(
                "row {y} is outside the picture (height {})",
                self.layout.height
            )));
        }
        for (i, byte) in out.iter_mut().take(n).enumerate() {
            let mut b = 0u8;
            for bit in 0..8 {
                if self.is_black(i * 8 + bit, y) {
                    b |= 0x80 >> bit;
                }
            }
            *byte = b;
        }
        Ok(())
    }
}

/// Escape text for XML content.
fn xml_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// An SVG picture: white background, the dark modules as one path (runs of modules per
/// row), the label (if any) as centred `<text>`. Sizes in pixels as [`Raster`] lays them out.
pub fn svg(
    matrix: &impl QrModules,
    label: Option<&str>,
    opts: &RenderOptions,
) -> Result<String, Error> {
    let label = label.unwrap_or("");
    let l = Layout::new(matrix.size(), label, opts)?;
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" shape-rendering=\"crispEdges\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
        w = l.width,
        h = l.height
    );
    let m = l.module;
    let origin = l.code_x + l.quiet * m;
    for y in 0..l.size {
        let mut x = 0;
        while x < l.size {
            if !matrix.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < l.size && matrix.is_dark(x, y) {
                x += 1;
            }
            let _ = write!(
                s,
                "M{} {}h{}v{}h-{}z",
                origin + start * m,
                (l.quiet + y) * m,
                (x - start) * m,
                m,
                (x - start) * m
            );
        }
    }
    s.push_str("\"/>\n");
    if !label.is_empty() {
        // Sans-serif capitals are about 0.72 em tall: match the raster's cap height.
        let cap = font::HEIGHT * l.scale;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" \
             font-size=\"{:.1}\" text-anchor=\"middle\" fill=\"#000\">",
            l.width as f32 / 2.0,
            l.text_y + cap,
            cap as f32 / 0.72
        );
        xml_escape(&mut s, label);
        s.push_str("</text>\n");
    }
    s.push_str("</svg>\n");
    Ok(s)
}

/// A 1-bit grayscale PNG of the [`Raster`] of `matrix` and `label`.
#[cfg(feature = "std")]
pub fn png(
    matrix: &impl QrModules,
    label: Option<&str>,
    opts: &RenderOptions,
) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut out = alloc::vec::Vec::new();
    write_png(&mut out, matrix, label, opts)?;
    Ok(out)
}

/// Write a 1-bit grayscale PNG of the [`Raster`] of `matrix` and `label` to `w`.
#[cfg(feature = "std")]
pub fn write_png<W: std::io::Write>(
    w: W,
    matrix: &impl QrModules,
    label: Option<&str>,
    opts: &RenderOptions,
) -> Result<(), Error> {
    let r = Raster::new(matrix, label.unwrap_or(""), opts)?;
    let png_err = |e: png::EncodingError| image_error(alloc::format!("PNG encoding: {e}"));
    let (Ok(width), Ok(height)) = (u32::try_from(r.width()), u32::try_from(r.height())) else {
        return Err(image_error("the picture is too large"));
    };
    let mut enc = png::Encoder::new(w, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    let mut writer = enc.write_header().map_err(png_err)?;
    let rb = r.row_bytes();
    let mut data = alloc::vec![0u8; rb * r.height()];
    for (y, row) in data.chunks_exact_mut(rb).enumerate() {
        r.row_into(y, row)?;
        // PNG grayscale: 0 is black
        for b in row.iter_mut() {
            *b = !*b;
        }
    }
    writer.write_image_data(&data).map_err(png_err)?;
    writer.finish().map_err(png_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::matrix::{EccLevel, QrMatrix};

    #[test]
    fn layout_and_rows() {
        let m = QrMatrix::encode("KSeF", EccLevel::Medium).unwrap();
        assert_eq!(m.size(), 21);
        let opts = RenderOptions::default();
        let r = Raster::new(&m, "", &opts).unwrap();
        assert_eq!((r.width(), r.height()), (145, 145));
        // top-left finder pattern starts after the quiet zone
        assert!(!r.is_black(19, 20));
        assert!(r.is_black(20, 20));
        assert!(r.is_black(54, 20));
        assert!(!r.is_black(55, 25));
        let mut row = [0u8; 19];
        r.row_into(20, &mut row).unwrap();
        assert_eq!(row[2], 0b0000_1111); // x = 20..=23
        assert_eq!(
            r.row_into(0, &mut [0u8; 3]).unwrap_err().code(),
            ErrorCode::BufferTooSmall
        );
        assert_eq!(
            r.row_into(145, &mut row).unwrap_err().code(),
            ErrorCode::QrImage
        );

        let r = Raster::new(&m, "5265877635-20250826-0100001AF629-AF", &opts).unwrap();
        // 35 characters at scale 1 = 209 px, wider than the 145 px code
        assert_eq!(r.width(), 213);
        assert_eq!(r.height(), 145 + 7 + 5);
        let black_below: usize = (145..r.height())
            .map(|y| (0..r.width()).filter(|&x| r.is_black(x, y)).count())
            .sum();
        assert!(black_below > 100);

        assert_eq!(
            Raster::new(&m, "Łódź", &opts).unwrap_err().code(),
            ErrorCode::QrImage
        );
        for bad in [
            opts.with_module_px(0),
            opts.with_module_px(101),
            opts.with_quiet_zone(41),
        ] {
            assert_eq!(
                Raster::new(&m, "", &bad).unwrap_err().code(),
                ErrorCode::QrImage
            );
        }
    }

    #[test]
    fn svg_text() {
        let m = QrMatrix::encode("KSeF", EccLevel::Medium).unwrap();
        let s = svg(&m, Some("a<b&\"c\""), &RenderOptions::default()).unwrap();
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.contains(">a&lt;b&amp;&quot;c&quot;</text>"));
        // the top-left finder pattern's first row is one run of 7 modules
        assert!(s.contains("M20 20h35v5h-35z"));
        let plain = svg(&m, None, &RenderOptions::default()).unwrap();
        assert!(!plain.contains("<text"));
    }
}
