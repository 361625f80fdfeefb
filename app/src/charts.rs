//! Drawing from plain data: line charts with plotters-canvas, image grids with ImageData.
//! Canvases are sized in device pixels, so they are crisp on HiDPI screens.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use protocol::data::{IMAGE_PIXELS, IMAGE_SIDE, LabeledImages};

use crate::raster::Dots;
use crate::settings::Palette;

/// One line on a chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    /// Test points are drawn as markers joined by a line; running training values as a plain line.
    pub markers: bool,
    /// Finished runs of other experiments, drawn lighter.
    pub faded: bool,
}

/// Matches the canvas' drawing buffer to its CSS size times the device pixel ratio.
fn fit_to_screen(canvas: &HtmlCanvasElement) -> f64 {
    let ratio = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
    let css_width = canvas.client_width().max(200) as f64;
    let css_height = canvas.client_height().max(150) as f64;
    let (width, height) = ((css_width * ratio) as u32, (css_height * ratio) as u32);
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
    }
    ratio
}

/// Axis titles of a line chart, in the page's language.
pub struct Axes<'a> {
    pub x: &'a str,
    pub y: &'a str,
}

/// A line chart with x in whole epochs from 0 to `x_max`. The legend sits in its own band above
/// the plot, so it never hides a curve.
pub fn line_chart(canvas: &HtmlCanvasElement, axes: Axes, x_max: f64, series: &[Series]) -> Result<(), String> {
    let ratio = fit_to_screen(canvas);
    let px = |v: f64| (v * ratio) as u32;
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2-D context")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let font = ("sans-serif", 12.0 * ratio);
    let shown: Vec<&Series> = series.iter().filter(|s| !s.points.is_empty()).collect();
    let places = legend_places(&root, &shown, font, ratio);
    let legend_height = places.last().map_or(0.0, |&(_, y)| f64::from(y)) + 20.0 * ratio;
    let (legend, plot) = root.split_vertically(legend_height as u32);
    draw_legend(&legend, &shown, &places, font, ratio)?;

    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|y| y.is_finite());
    let (low, high) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), y| (l.min(y), h.max(y)));
    let (low, high) = if low.is_finite() { (low, high) } else { (0.0, 1.0) };
    let pad = ((high - low) * 0.08).max(0.002);
    let x_max = x_max.max(1.0).ceil();

    let mut chart = ChartBuilder::on(&plot)
        .margin(px(8.0))
        .x_label_area_size(px(34.0))
        .y_label_area_size(px(52.0))
        .build_cartesian_2d(0.0..x_max, (low - pad)..(high + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(axes.x)
        .y_desc(axes.y)
        .label_style(font)
        .axis_desc_style(font)
        // Light lines cost a canvas stroke each; bold ones are enough to read values.
        .max_light_lines(0)
        .bold_line_style(RGBColor(236, 236, 236))
        .x_labels(x_max.min(10.0) as usize + 1)
        // Epochs are counted, not measured: ticks between whole epochs go unlabelled.
        .x_label_formatter(&|x| if (x - x.round()).abs() < 1e-6 { format!("{}", x.round() as i64) } else { String::new() })
        .y_label_formatter(&|y| format!("{y:.3}"))
        .draw()
        .map_err(|e| e.to_string())?;

    for s in &shown {
        let style = line_style(s, ratio);
        chart.draw_series(LineSeries::new(s.points.iter().copied(), style)).map_err(|e| e.to_string())?;
        if s.markers {
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, px(3.0), style.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())
}

fn line_style(series: &Series, ratio: f64) -> ShapeStyle {
    let color = if series.faded { series.color.mix(0.35) } else { series.color.mix(1.0) };
    ShapeStyle { color, filled: true, stroke_width: (ratio * if series.faded { 1.5 } else { 2.0 }) as u32 }
}

type Area = DrawingArea<CanvasBackend, plotters::coord::Shift>;

/// Legend entries laid out left to right, wrapping: (x, y) of each, in canvas pixels.
fn legend_places(area: &Area, series: &[&Series], font: (&str, f64), ratio: f64) -> Vec<(i32, i32)> {
    let width = area.dim_in_pixel().0 as f64;
    let (line, gap, row) = (22.0 * ratio, 14.0 * ratio, 18.0 * ratio);
    let (mut x, mut y) = (8.0 * ratio, 4.0 * ratio);
    series
        .iter()
        .map(|s| {
            let text = area.estimate_text_size(&s.label, &TextStyle::from(font.into_font())).map(|(w, _)| w as f64).unwrap_or(80.0 * ratio);
            let entry = line + text + gap;
            if x > 8.0 * ratio && x + entry > width {
                (x, y) = (8.0 * ratio, y + row);
            }
            let place = (x as i32, y as i32);
            x += entry;
            place
        })
        .collect()
}

fn draw_legend(area: &Area, series: &[&Series], places: &[(i32, i32)], font: (&str, f64), ratio: f64) -> Result<(), String> {
    for (s, &(x, y)) in series.iter().zip(places) {
        let style = line_style(s, ratio);
        let middle = y + (7.0 * ratio) as i32;
        area.draw(&PathElement::new(vec![(x, middle), (x + (18.0 * ratio) as i32, middle)], style)).map_err(|e| e.to_string())?;
        if s.markers {
            area.draw(&Circle::new((x + (9.0 * ratio) as i32, middle), (3.0 * ratio) as u32, style.filled())).map_err(|e| e.to_string())?;
        }
        area.draw(&Text::new(s.label.clone(), (x + (22.0 * ratio) as i32, y), font.into_font())).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Rows of 28x28 images in the chapter's `binary` colour map (0 white, 1 black).
/// Each row holds `columns` images; the canvas is sized in image pixels and scaled by CSS.
pub fn image_grid(canvas: &HtmlCanvasElement, rows: &[&[f32]], columns: usize) -> Result<(), String> {
    let gap = 2;
    let width = columns * IMAGE_SIDE + (columns - 1) * gap;
    let height = rows.len() * IMAGE_SIDE + rows.len().saturating_sub(1) * gap;
    canvas.set_width(width as u32);
    canvas.set_height(height as u32);
    let context = context_2d(canvas)?;
    context.set_fill_style_str("#fff");
    context.fill_rect(0.0, 0.0, width as f64, height as f64);
    for (row, pixels) in rows.iter().enumerate() {
        for (column, image) in pixels.chunks(IMAGE_PIXELS).take(columns).enumerate() {
            let bytes: Vec<u8> = image.iter().map(|&v| (255.0 * v.clamp(0.0, 1.0)).round() as u8).collect();
            let (x, y) = (column * (IMAGE_SIDE + gap), row * (IMAGE_SIDE + gap));
            put_image(&context, &bytes, x as f64, y as f64, 1)?;
        }
    }
    Ok(())
}

/// The canvas' 2-D drawing context.
pub fn context_2d(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, String> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| "no 2-D context".to_string())
}

/// The colours of the ten classes: the chapter's tab10, or Tableau's colour-blind-safe ten
/// (told apart with protanopia, deuteranopia and tritanopia, by lightness as well as hue).
pub fn class_colors(palette: Palette) -> [&'static str; 10] {
    match palette {
        Palette::Chapter => [
            "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        ],
        Palette::ColorBlindSafe => [
            "#1170aa", "#fc7d0b", "#a3acb9", "#57606c", "#5fa2ce", "#c85200", "#7b848f", "#a3cce9", "#ffbc79", "#c8d0d9",
        ],
    }
}

/// A `#rrggbb` colour for plotters.
pub fn rgb(hex: &str) -> RGBColor {
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    RGBColor(channel(1), channel(3), channel(5))
}

/// What is marked on the map besides the dots.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Marks {
    /// The test image picked in the explorer: ringed.
    pub picked: Option<usize>,
    /// Where the visitor's drawing lands (map coordinates): a cross.
    pub drawn: Option<(f32, f32)>,
}

/// Maps 2-D points into a square canvas of side `size`, keeping the aspect ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    min: (f32, f32),
    scale: f32,
    offset: (f32, f32),
}

impl Frame {
    pub fn fit(points: &[f32], size: f32, margin: f32) -> Self {
        let (mut min, mut max) = ((f32::INFINITY, f32::INFINITY), (f32::NEG_INFINITY, f32::NEG_INFINITY));
        for p in points.chunks_exact(2) {
            min = (min.0.min(p[0]), min.1.min(p[1]));
            max = (max.0.max(p[0]), max.1.max(p[1]));
        }
        let span = (max.0 - min.0).max(max.1 - min.1).max(f32::EPSILON);
        let scale = (size - 2.0 * margin) / span;
        let offset = (margin + ((size - 2.0 * margin) - (max.0 - min.0) * scale) / 2.0, margin + ((size - 2.0 * margin) - (max.1 - min.1) * scale) / 2.0);
        Self { min, scale, offset }
    }

    pub fn place(&self, x: f32, y: f32) -> (f32, f32) {
        (self.offset.0 + (x - self.min.0) * self.scale, self.offset.1 + (y - self.min.1) * self.scale)
    }
}

/// The t-SNE map: one dot per test image coloured by its label, and with `thumbnails` (once
/// the test images are in), images drawn at points spread over the map (the chapter's "pretty"
/// view). Returns the frame, for hovering.
pub fn scatter(
    canvas: &HtmlCanvasElement,
    points: &[f32],
    labels: &[u8],
    thumbnails: Option<&LabeledImages>,
    palette: Palette,
    marks: Marks,
) -> Result<Frame, String> {
    let colors = class_colors(palette);
    let ratio = fit_to_screen(canvas);
    let size = canvas.width().min(canvas.height()) as f32;
    let context = context_2d(canvas)?;
    let frame = Frame::fit(points, size, 12.0 * ratio as f32);
    let dots = Dots { width: canvas.width() as usize, height: canvas.height() as usize, side: (2.0 * ratio).round().max(1.0) as usize };
    let rgba = dots.paint(points.chunks_exact(2).map(|p| frame.place(p[0], p[1])), labels, &colors.map(|c| rgb(c).rgb()));
    put_rgba(&context, &rgba, dots.width, 0.0, 0.0).map_err(|_| "could not draw the map")?;
    if let Some(images) = thumbnails {
        let scale = ratio.round().max(1.0) as usize;
        let side = (IMAGE_SIDE * scale) as f64;
        context.set_stroke_style_str("#999");
        for index in spread_out(points, &frame, side as f32 * 1.1).into_iter().filter(|&i| i < images.len()) {
            let (x, y) = frame.place(points[2 * index], points[2 * index + 1]);
            let (left, top) = (x as f64 - side / 2.0, y as f64 - side / 2.0);
            put_image(&context, images.image(index), left, top, scale)?;
            context.stroke_rect(left.round() - 0.5, top.round() - 0.5, side + 1.0, side + 1.0);
        }
    }
    draw_marks(&context, points, &frame, marks, ratio);
    Ok(frame)
}

/// A ring around the picked point, a cross with a ring where a drawing lands.
fn draw_marks(context: &CanvasRenderingContext2d, points: &[f32], frame: &Frame, marks: Marks, ratio: f64) {
    let ring = |x: f32, y: f32, radius: f64, color: &str| {
        context.set_stroke_style_str(color);
        context.set_line_width(2.5 * ratio);
        context.begin_path();
        let _ = context.arc(x as f64, y as f64, radius * ratio, 0.0, std::f64::consts::TAU);
        context.stroke();
    };
    if let Some(p) = marks.picked.and_then(|i| points.get(2 * i..2 * i + 2)) {
        let (x, y) = frame.place(p[0], p[1]);
        ring(x, y, 9.0, "#fff");
        ring(x, y, 7.0, "#111");
    }
    if let Some((x, y)) = marks.drawn.map(|(x, y)| frame.place(x, y)) {
        let arm = 9.0 * ratio;
        context.set_stroke_style_str("#111");
        context.set_line_width(3.0 * ratio);
        context.begin_path();
        context.move_to(x as f64 - arm, y as f64 - arm);
        context.line_to(x as f64 + arm, y as f64 + arm);
        context.move_to(x as f64 + arm, y as f64 - arm);
        context.line_to(x as f64 - arm, y as f64 + arm);
        context.stroke();
        ring(x, y, 12.0, "#d00");
    }
}

/// A code as a strip of grey cells, darker for larger values (scaled by the largest).
pub fn code_strip(canvas: &HtmlCanvasElement, code: &[f32]) -> Result<(), String> {
    canvas.set_width(code.len().max(1) as u32);
    canvas.set_height(1);
    let largest = code.iter().fold(f32::EPSILON, |m, &v| m.max(v));
    let rgba: Vec<u8> = code
        .iter()
        .flat_map(|&v| {
            let shade = 255 - (255.0 * (v / largest).clamp(0.0, 1.0)).round() as u8;
            [shade, shade, shade, 255]
        })
        .collect();
    put_rgba(&context_2d(canvas)?, &rgba, code.len().max(1), 0.0, 0.0).map_err(|_| "could not draw the code".into())
}

/// Indices of points at least `distance` apart on the canvas, greedily in index order.
fn spread_out(points: &[f32], frame: &Frame, distance: f32) -> Vec<usize> {
    let mut chosen: Vec<(usize, (f32, f32))> = Vec::new();
    for (index, p) in points.chunks_exact(2).enumerate() {
        let at = frame.place(p[0], p[1]);
        if chosen.iter().all(|(_, c)| (c.0 - at.0).powi(2) + (c.1 - at.1).powi(2) > distance * distance) {
            chosen.push((index, at));
        }
    }
    chosen.into_iter().map(|(index, _)| index).collect()
}

/// One Fashion-MNIST image (raw bytes) in the `binary` colour map at (x, y), each pixel drawn as
/// a `scale` x `scale` block. Written straight into the canvas: no scratch canvas to create, so
/// hundreds of thumbnails take milliseconds.
pub fn put_image(context: &CanvasRenderingContext2d, pixels: &[u8], x: f64, y: f64, scale: usize) -> Result<(), String> {
    let side = IMAGE_SIDE * scale;
    let mut rgba = vec![0u8; side * side * 4];
    for (row, out) in rgba.chunks_exact_mut(side * 4).enumerate() {
        for (column, px) in out.chunks_exact_mut(4).enumerate() {
            let shade = 255 - pixels[(row / scale) * IMAGE_SIDE + column / scale];
            px.copy_from_slice(&[shade, shade, shade, 255]);
        }
    }
    put_rgba(context, &rgba, side, x.round(), y.round()).map_err(|_| "could not draw an image".into())
}

/// Puts RGBA pixels, rows of `width`, on the canvas with their top left at (x, y) in device
/// pixels (a buffer that is not whole rows is refused).
fn put_rgba(context: &CanvasRenderingContext2d, rgba: &[u8], width: usize, x: f64, y: f64) -> Result<(), JsValue> {
    let data = ImageData::new_with_u8_clamped_array(Clamped(rgba), width as u32)?;
    context.put_image_data(&data, x, y)
}
