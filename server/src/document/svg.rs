//! A board rendered as one standalone SVG image.
//!
//! Owns [`render_svg`]: reads the board through [`export_json`] and draws its elements in
//! z-order. Tolerates any document content (elements that are not drawable, such as a
//! missing `geom` or an unknown `type`, are left out) and escapes every string, so the
//! output is always well-formed XML and user text can never become markup. Image bytes are
//! not available here: each image is a dashed placeholder titled with its asset id and,
//! when the caller says where the board's images are served, an `<image>` loading it from
//! there on top (only for asset ids of the stored shape, so the URL is never user text).
//! Pens are drawn as one path smoothed through the midpoints of their points (quadratic
//! curves); pressure is not drawn (no well-kept Rust crate turns it into an outline).

use serde_json::{Map as JsonMap, Value};
use yrs::Doc;

use super::{ELEMENT_TYPES, export_json, is_colour};
use crate::image::is_asset_id;

const SVG_NS: &str = "http://www.w3.org/2000/svg";
/// Space around the drawing, in board units.
const MARGIN: f64 = 20.0;
/// Elements reaching further than this from the origin are left out of the image.
const MAX_COORD: f64 = 1.0e12;
const EMPTY_SIZE: f64 = 100.0;
const DEFAULT_STROKE: &str = "#1e1e1e";
const DEFAULT_WIDTH: f64 = 2.0;
const DEFAULT_FONT_SIZE: f64 = 16.0;
const MAX_FONT_SIZE: f64 = 10_000.0;
const LINE_HEIGHT: f64 = 1.25;
const STICKY_FILL: &str = "#fff59d";
const STICKY_PADDING: f64 = 8.0;
const PLACEHOLDER_STROKE: &str = "#9e9e9e";

/// The board as a standalone SVG document, fitted to its elements with a margin. An empty
/// board gives a small empty image. With `images_at`, an image element loads its picture
/// from `images_at` followed by its asset id (such as `/api/boards/{id}/assets/`).
pub fn render_svg(doc: &Doc, images_at: Option<&str>) -> String {
    let board = export_json(doc);
    let mut shapes: Vec<Shape> = board["elements"]
        .as_object()
        .map(|elements| {
            elements
                .iter()
                .filter_map(|(id, v)| Shape::parse(id, v))
                .collect()
        })
        .unwrap_or_default();
    shapes.sort_by(|a, b| (a.index, a.id).cmp(&(b.index, b.id)));
    let Some(bounds) = shapes.iter().map(Shape::bounds).reduce(Bounds::union) else {
        return format!(
            r#"<svg xmlns="{SVG_NS}" width="{0}" height="{0}" viewBox="0 0 {0} {0}"/>"#,
            num(EMPTY_SIZE)
        );
    };
    let (x, y) = (bounds.min_x - MARGIN, bounds.min_y - MARGIN);
    let (w, h) = (
        bounds.max_x - bounds.min_x + 2.0 * MARGIN,
        bounds.max_y - bounds.min_y + 2.0 * MARGIN,
    );
    let mut out = format!(
        r#"<svg xmlns="{SVG_NS}" width="{w}" height="{h}" viewBox="{x} {y} {w} {h}">"#,
        x = num(x),
        y = num(y),
        w = num(w),
        h = num(h)
    );
    if let Some(background) = board["meta"]["background"]
        .as_str()
        .filter(|c| is_colour(c))
    {
        out.push_str(&format!(
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
            num(x),
            num(y),
            num(w),
            num(h),
            escape(background)
        ));
    }
    for (n, shape) in shapes.iter().enumerate() {
        shape.render(&mut out, n, images_at);
    }
    out.push_str("</svg>");
    out
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
}

impl Bounds {
    fn of_points(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Bounds> {
        points.into_iter().fold(None, |acc, (x, y)| {
            let b = acc.unwrap_or(Bounds {
                min_x: x,
                min_y: y,
                max_x: x,
                max_y: y,
            });
            Some(Bounds {
                min_x: b.min_x.min(x),
                min_y: b.min_y.min(y),
                max_x: b.max_x.max(x),
                max_y: b.max_y.max(y),
            })
        })
    }

    fn union(self, other: Bounds) -> Bounds {
        Bounds {
            min_x: self.min_x.min(other.min_x),
            min_y: self.min_y.min(other.min_y),
            max_x: self.max_x.max(other.max_x),
            max_y: self.max_y.max(other.max_y),
        }
    }

    fn grown(self, by: f64) -> Bounds {
        Bounds {
            min_x: self.min_x - by,
            min_y: self.min_y - by,
            max_x: self.max_x + by,
            max_y: self.max_y + by,
        }
    }

    /// The box around this one turned by `degrees` around `(cx, cy)`.
    fn rotated(self, degrees: f64, cx: f64, cy: f64) -> Bounds {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let corners = [
            (self.min_x, self.min_y),
            (self.max_x, self.min_y),
            (self.min_x, self.max_y),
            (self.max_x, self.max_y),
        ];
        Bounds::of_points(corners.map(|(x, y)| {
            let (dx, dy) = (x - cx, y - cy);
            (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
        }))
        .unwrap_or(self)
    }
}

/// One drawable element, read leniently from its JSON.
struct Shape<'a> {
    id: &'a str,
    index: &'a str,
    kind: &'a str,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    rot: f64,
    stroke: Option<&'a str>,
    fill: Option<&'a str>,
    width: f64,
    dash: Option<&'a str>,
    opacity: Option<f64>,
    /// Pen points in board coordinates.
    points: Vec<(f64, f64)>,
    text: &'a str,
    font_size: f64,
    asset_id: Option<&'a str>,
}

fn coord(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
        .filter(|n| n.is_finite() && n.abs() <= MAX_COORD)
}

impl<'a> Shape<'a> {
    fn parse(id: &'a str, value: &'a Value) -> Option<Shape<'a>> {
        let el: &JsonMap<String, Value> = value.as_object()?;
        let kind = el
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| ELEMENT_TYPES.contains(t))?;
        let geom = el.get("geom")?;
        let (x, y) = (coord(geom.get("x"))?, coord(geom.get("y"))?);
        let (w, h) = (coord(geom.get("w"))?, coord(geom.get("h"))?);
        let rot = coord(geom.get("rot")).unwrap_or(0.0) % 360.0;
        let colour = |key: &str| el.get(key).and_then(Value::as_str).filter(|c| is_colour(c));
        let points = if kind == "pen" {
            let flat = el.get("points").and_then(Value::as_array)?;
            let points: Option<Vec<(f64, f64)>> = flat
                .chunks_exact(2)
                .map(|pair| {
                    let (px, py) = (coord(pair.first())?, coord(pair.get(1))?);
                    Some((x + px, y + py))
                })
                .collect();
            points.filter(|p| !p.is_empty())?
        } else {
            Vec::new()
        };
        Some(Shape {
            id,
            index: el.get("index").and_then(Value::as_str).unwrap_or(""),
            kind,
            x: x.min(x + w),
            y: y.min(y + h),
            w,
            h,
            rot,
            stroke: colour("stroke"),
            fill: colour("fill"),
            width: coord(el.get("width"))
                .filter(|w| *w >= 0.0)
                .unwrap_or(DEFAULT_WIDTH),
            dash: el
                .get("dash")
                .and_then(Value::as_str)
                .filter(|d| matches!(*d, "dashed" | "dotted")),
            opacity: el
                .get("opacity")
                .and_then(Value::as_f64)
                .filter(|o| (0.0..=1.0).contains(o)),
            points,
            text: el.get("text").and_then(Value::as_str).unwrap_or(""),
            font_size: coord(el.get("fontSize"))
                .filter(|s| *s > 0.0 && *s <= MAX_FONT_SIZE)
                .unwrap_or(DEFAULT_FONT_SIZE),
            asset_id: el.get("assetId").and_then(Value::as_str),
        })
    }

    /// The centre of the geom box, which rotation turns around.
    fn centre(&self) -> (f64, f64) {
        (self.x + self.w.abs() / 2.0, self.y + self.h.abs() / 2.0)
    }

    fn bounds(&self) -> Bounds {
        let geom = Bounds {
            min_x: self.x,
            min_y: self.y,
            max_x: self.x + self.w.abs(),
            max_y: self.y + self.h.abs(),
        };
        let drawn = match self.kind {
            "pen" => Bounds::of_points(self.points.iter().copied())
                .unwrap_or(geom)
                .grown(self.width / 2.0),
            "arrow" => geom.grown(self.width * 3.0),
            "text" | "sticky" => {
                let lines = self.text.split('\n').count() as f64;
                let longest = self.text.split('\n').map(|l| l.chars().count()).max();
                let padding = if self.kind == "sticky" {
                    STICKY_PADDING
                } else {
                    0.0
                };
                let text_box = Bounds {
                    min_x: self.x,
                    min_y: self.y,
                    max_x: self.x + padding + longest.unwrap_or(0) as f64 * self.font_size * 0.6,
                    max_y: self.y + padding + lines * self.font_size * LINE_HEIGHT,
                };
                geom.union(text_box)
            }
            _ => geom.grown(self.width / 2.0),
        };
        let (cx, cy) = self.centre();
        if self.rot == 0.0 {
            drawn
        } else {
            drawn.rotated(self.rot, cx, cy)
        }
    }

    fn stroke_attrs(&self) -> String {
        let width = self.width;
        let dash_unit = width.max(1.0);
        let dash = match self.dash {
            Some("dashed") => format!(
                r#" stroke-dasharray="{} {}""#,
                num(dash_unit * 4.0),
                num(dash_unit * 4.0)
            ),
            Some("dotted") => format!(
                r#" stroke-dasharray="{} {}""#,
                num(dash_unit),
                num(dash_unit * 2.0)
            ),
            _ => String::new(),
        };
        let round = self.dash == Some("dotted") || matches!(self.kind, "line" | "arrow" | "pen");
        let caps = if round {
            r#" stroke-linecap="round" stroke-linejoin="round""#
        } else {
            ""
        };
        format!(
            r#" stroke="{}" stroke-width="{}"{dash}{caps}"#,
            escape(self.stroke.unwrap_or(DEFAULT_STROKE)),
            num(width)
        )
    }

    fn render(&self, out: &mut String, n: usize, images_at: Option<&str>) {
        let (cx, cy) = self.centre();
        let mut group = format!(r#"<g data-id="{}""#, escape(self.id));
        if self.rot != 0.0 {
            group.push_str(&format!(
                r#" transform="rotate({} {} {})""#,
                num(self.rot),
                num(cx),
                num(cy)
            ));
        }
        if let Some(opacity) = self.opacity {
            group.push_str(&format!(r#" opacity="{}""#, num(opacity)));
        }
        out.push_str(&group);
        out.push('>');
        let (x, y, w, h) = (
            num(self.x),
            num(self.y),
            num(self.w.abs()),
            num(self.h.abs()),
        );
        let fill = escape(self.fill.unwrap_or("none"));
        match self.kind {
            "rect" => out.push_str(&format!(
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"{}/>"#,
                self.stroke_attrs()
            )),
            "ellipse" => out.push_str(&format!(
                r#"<ellipse cx="{}" cy="{}" rx="{}" ry="{}" fill="{fill}"{}/>"#,
                num(cx),
                num(cy),
                num(self.w.abs() / 2.0),
                num(self.h.abs() / 2.0),
                self.stroke_attrs()
            )),
            "line" | "arrow" => {
                let (x1, y1) = (self.x - self.w.min(0.0), self.y - self.h.min(0.0));
                let (x2, y2) = (x1 + self.w, y1 + self.h);
                let mut marker = String::new();
                if self.kind == "arrow" {
                    out.push_str(&format!(
                        r#"<defs><marker id="easel-arrow-{n}" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="4" markerHeight="4" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker></defs>"#,
                        escape(self.stroke.unwrap_or(DEFAULT_STROKE))
                    ));
                    marker = format!(r#" marker-end="url(#easel-arrow-{n})""#);
                }
                out.push_str(&format!(
                    r#"<line x1="{}" y1="{}" x2="{}" y2="{}"{}{marker}/>"#,
                    num(x1),
                    num(y1),
                    num(x2),
                    num(y2),
                    self.stroke_attrs()
                ));
            }
            "pen" => out.push_str(&format!(
                r#"<path d="{}" fill="none"{}/>"#,
                pen_path(&self.points),
                self.stroke_attrs()
            )),
            "text" => self.render_text(out, self.x, self.y),
            "sticky" => {
                out.push_str(&format!(
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="{}"/>"#,
                    escape(self.fill.unwrap_or(STICKY_FILL))
                ));
                self.render_text(out, self.x + STICKY_PADDING, self.y + STICKY_PADDING);
            }
            _ => {
                out.push_str(&format!(
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="{PLACEHOLDER_STROKE}" stroke-width="1" stroke-dasharray="6 4"><title>image {}</title></rect>"#,
                    escape(self.asset_id.unwrap_or(""))
                ));
                if let (Some(base), Some(id)) =
                    (images_at, self.asset_id.filter(|id| is_asset_id(id)))
                {
                    out.push_str(&format!(
                        r#"<image href="{}{id}" x="{x}" y="{y}" width="{w}" height="{h}" preserveAspectRatio="none"/>"#,
                        escape(base)
                    ));
                }
            }
        }
        out.push_str("</g>");
    }

    /// The text, one `<tspan>` per line, its first baseline one font size below `top`.
    fn render_text(&self, out: &mut String, left: f64, top: f64) {
        out.push_str(&format!(
            r#"<text x="{}" y="{}" font-family="sans-serif" font-size="{}" fill="{}" xml:space="preserve">"#,
            num(left),
            num(top + self.font_size),
            num(self.font_size),
            escape(self.stroke.unwrap_or(DEFAULT_STROKE))
        ));
        for (i, line) in self.text.split('\n').enumerate() {
            let baseline = top + self.font_size * (1.0 + LINE_HEIGHT * i as f64);
            out.push_str(&format!(
                r#"<tspan x="{}" y="{}">{}</tspan>"#,
                num(left),
                num(baseline),
                escape(line.strip_suffix('\r').unwrap_or(line))
            ));
        }
        out.push_str("</text>");
    }
}

/// A path through `points`, smoothed with quadratic curves through their midpoints.
fn pen_path(points: &[(f64, f64)]) -> String {
    let Some(&(x0, y0)) = points.first() else {
        return String::new();
    };
    let mut d = format!("M{} {}", num(x0), num(y0));
    match points {
        [_] => d.push_str(&format!(" L{} {}", num(x0), num(y0))),
        [_, (x1, y1)] => d.push_str(&format!(" L{} {}", num(*x1), num(*y1))),
        _ => {
            for pair in points[1..].windows(2) {
                let ((px, py), (qx, qy)) = (pair[0], pair[1]);
                d.push_str(&format!(
                    " Q{} {} {} {}",
                    num(px),
                    num(py),
                    num((px + qx) / 2.0),
                    num((py + qy) / 2.0)
                ));
            }
            if let Some(&(lx, ly)) = points.last() {
                d.push_str(&format!(" L{} {}", num(lx), num(ly)));
            }
        }
    }
    d
}

/// A coordinate with at most two decimals and no trailing zeros.
fn num(v: f64) -> String {
    let fixed = format!("{v:.2}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Escapes `s` for XML text and attribute values, dropping the characters XML 1.0 cannot
/// hold at all (most control characters, U+FFFE, U+FFFF).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if matches!(u32::from(c), 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..) => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::test_support::{import_doc, sample_board};
    use serde_json::json;
    use yrs::{Map, MapPrelim, Transact};

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"))
    }

    fn view_box(svg: &roxmltree::Document) -> Vec<f64> {
        svg.root_element()
            .attribute("viewBox")
            .unwrap()
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect()
    }

    fn groups<'a>(svg: &'a roxmltree::Document) -> Vec<&'a str> {
        svg.descendants()
            .filter(|n| n.has_tag_name("g"))
            .filter_map(|n| n.attribute("data-id"))
            .collect()
    }

    #[test]
    fn images_load_from_where_the_caller_serves_them() {
        let id = crate::image::asset_id(b"picture");
        let mut board = sample_board();
        board["elements"]["photo"]["assetId"] = json!(id);
        board["assets"] =
            json!({ id.clone(): {"mime": "image/png", "w": 640, "h": 480, "hash": id} });
        let doc = import_doc(&board);

        let svg = render_svg(&doc, Some("/api/boards/b1/assets/"));
        let parsed = parse(&svg);
        let image = parsed
            .descendants()
            .find(|n| n.has_tag_name("image"))
            .expect("an <image>");
        assert_eq!(
            image.attribute("href"),
            Some(format!("/api/boards/b1/assets/{id}").as_str())
        );
        let box_of = |n: roxmltree::Node| {
            ["x", "y", "width", "height"].map(|a| n.attribute(a).unwrap().to_owned())
        };
        assert_eq!(box_of(image), ["-100", "-50", "64", "48"].map(String::from));
        let placeholder = image
            .prev_sibling_element()
            .expect("the placeholder beneath");
        assert_eq!(box_of(placeholder), box_of(image));

        let unlinked = render_svg(&doc, None);
        let unlinked = parse(&unlinked);
        assert!(!unlinked.descendants().any(|n| n.has_tag_name("image")));
        assert!(unlinked.descendants().any(|n| n.has_tag_name("title")));
    }

    #[test]
    fn an_empty_board_is_a_small_empty_svg() {
        let svg = render_svg(&Doc::new(), None);
        let parsed = parse(&svg);
        let root = parsed.root_element();
        assert_eq!(root.tag_name().namespace(), Some(SVG_NS));
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(view_box(&parsed), [0.0, 0.0, 100.0, 100.0]);
        assert_eq!(root.children().count(), 0);
    }

    #[test]
    fn every_element_type_is_drawn_in_z_order() {
        let svg = render_svg(&import_doc(&sample_board()), None);
        let parsed = parse(&svg);
        assert_eq!(
            groups(&parsed),
            [
                "box", "circle", "link", "pointer", "scribble", "label", "note", "photo"
            ]
        );
        let tags: Vec<&str> = parsed
            .descendants()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        for tag in [
            "rect", "ellipse", "line", "marker", "path", "text", "tspan", "title",
        ] {
            assert!(tags.contains(&tag), "{tag} missing from {svg}");
        }
        let arrow = parsed
            .descendants()
            .find(|n| n.attribute("marker-end").is_some())
            .unwrap();
        assert_eq!(arrow.attribute("stroke"), Some("#ff0000"));
        let title = parsed
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .unwrap();
        assert_eq!(title.text(), Some("image img-1"));
        let lines: Vec<&str> = parsed
            .descendants()
            .filter(|n| n.has_tag_name("tspan"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            lines,
            ["first line", "second <line> & 'more'", "remember the milk"]
        );
    }

    #[test]
    fn ties_in_index_are_broken_by_id() {
        let mut board = sample_board();
        for el in board["elements"].as_object_mut().unwrap().values_mut() {
            el["index"] = json!("same");
        }
        let svg = render_svg(&import_doc(&board), None);
        assert_eq!(
            groups(&parse(&svg)),
            [
                "box", "circle", "label", "link", "note", "photo", "pointer", "scribble"
            ]
        );
    }

    #[test]
    fn the_view_box_fits_every_element_with_a_margin() {
        let parsed_svg = render_svg(&import_doc(&sample_board()), None);
        let vb = view_box(&parse(&parsed_svg));
        let (min_x, min_y, max_x, max_y) = (vb[0], vb[1], vb[0] + vb[2], vb[1] + vb[3]);
        assert!(
            min_x <= -100.0 - MARGIN && min_y <= -50.0 - MARGIN,
            "{vb:?}"
        );
        assert!(max_x >= 420.0 + MARGIN && max_y >= 420.0 + MARGIN, "{vb:?}");
        assert!(max_x < 500.0 && max_y < 500.0, "{vb:?}");
    }

    #[test]
    fn style_and_rotation_are_applied() {
        let svg = render_svg(&import_doc(&sample_board()), None);
        let parsed = parse(&svg);
        let group = |id: &str| {
            parsed
                .descendants()
                .find(|n| n.attribute("data-id") == Some(id))
                .unwrap()
        };
        assert_eq!(
            group("circle").attribute("transform"),
            Some("rotate(30 230 40)")
        );
        assert_eq!(group("box").attribute("opacity"), Some("0.75"));
        let rect = group("box").first_element_child().unwrap();
        assert_eq!(rect.attribute("fill"), Some("rgba(255, 0, 0, 0.5)"));
        assert_eq!(rect.attribute("stroke-dasharray"), Some("8 8"));
        assert_eq!(rect.attribute("stroke-width"), Some("2"));
    }

    #[test]
    fn user_strings_can_never_become_markup() {
        let hostile =
            "</tspan></text><script>alert(\"x\" & 'y')</script>\u{0}\u{1b}\u{fffe}\t<![CDATA[";
        let mut board = sample_board();
        board["elements"]["label"]["text"] = json!(hostile);
        let doc = import_doc(&board);
        {
            let elements = doc.get_or_insert_map("elements");
            let mut txn = doc.transact_mut();
            elements.insert(
                &mut txn,
                "\"><script>alert(1)</script>",
                MapPrelim::from([
                    ("type", yrs::In::from("image")),
                    ("index", "z".into()),
                    (
                        "geom",
                        yrs::Any::from_json(r#"{"x":0,"y":0,"w":1,"h":1,"rot":0}"#)
                            .unwrap()
                            .into(),
                    ),
                    ("assetId", "\" onload=\"alert(1)".into()),
                    ("stroke", "red\" onload=\"alert(1)".into()),
                ]),
            );
        }
        let svg = render_svg(&doc, Some("/assets/\"><script>alert(1)</script>/"));
        let parsed = parse(&svg);
        assert!(!parsed.descendants().any(|n| n.has_tag_name("script")));
        assert!(
            !parsed.descendants().any(|n| n.has_tag_name("image")),
            "no <image> for an id that is not an asset id"
        );
        assert!(
            parsed
                .descendants()
                .all(|n| n.attributes().all(|a| a.name() != "onload"))
        );
        let label = parsed
            .descendants()
            .find(|n| n.attribute("data-id") == Some("label"))
            .unwrap();
        let tspan = label
            .descendants()
            .find(|n| n.has_tag_name("tspan"))
            .unwrap();
        assert_eq!(
            tspan.text(),
            Some("</tspan></text><script>alert(\"x\" & 'y')</script>\t<![CDATA[")
        );
        assert!(groups(&parsed).contains(&"\"><script>alert(1)</script>"));
    }

    #[test]
    fn undrawable_elements_are_left_out() {
        let doc = Doc::new();
        {
            let elements = doc.get_or_insert_map("elements");
            let mut txn = doc.transact_mut();
            elements.insert(&mut txn, "plain", "a test client's string");
            elements.insert(&mut txn, "no-geom", MapPrelim::from([("type", "rect")]));
            let far = yrs::Any::from_json(r#"{"x":1e300,"y":0,"w":1,"h":1,"rot":0}"#).unwrap();
            elements.insert(
                &mut txn,
                "far",
                MapPrelim::from([("type", yrs::In::from("rect")), ("geom", far.into())]),
            );
            let geom = yrs::Any::from_json(r#"{"x":0,"y":0,"w":1,"h":1,"rot":0}"#).unwrap();
            elements.insert(
                &mut txn,
                "pen-without-points",
                MapPrelim::from([
                    ("type", yrs::In::from("pen")),
                    ("geom", geom.clone().into()),
                ]),
            );
            elements.insert(
                &mut txn,
                "blob",
                MapPrelim::from([("type", yrs::In::from("blob")), ("geom", geom.into())]),
            );
        }
        let svg = render_svg(&doc, None);
        assert_eq!(svg, render_svg(&Doc::new(), None));
    }

    #[test]
    fn pens_are_smoothed_paths() {
        assert_eq!(pen_path(&[(1.0, 2.0)]), "M1 2 L1 2");
        assert_eq!(pen_path(&[(0.0, 0.0), (10.0, 0.0)]), "M0 0 L10 0");
        assert_eq!(
            pen_path(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)]),
            "M0 0 Q10 0 10 5 L10 10"
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(100.0), "100");
    }
}
