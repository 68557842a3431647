//! Small real images for the tests, made by the encoders browsers' files come from, so the
//! server is shown the bytes it will meet: PNG, JPEG, GIF and WebP of any size, and
//! SVG, which it must refuse.

/// `w` x `h` RGBA pixels of a pattern that varies with `seed`, so images of one size can
/// differ. With `noisy`, the pattern does not compress (the file grows with its area).
fn pixels(w: u32, h: u32, seed: u8, noisy: bool) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32 ^ u32::from(seed);
    let mut out = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = if noisy {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let [r, g, b, _] = state.to_le_bytes();
                (r, g, b)
            } else {
                ((x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, seed)
            };
            out.extend_from_slice(&[r, g, b, 255]);
        }
    }
    out
}

/// A `w` x `h` PNG.
pub fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    encode_png(w, h, &pixels(w, h, seed, false))
}

/// A `w` x `h` PNG that does not compress: about `4 * w * h` bytes.
pub fn noisy_png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    encode_png(w, h, &pixels(w, h, seed, true))
}

fn encode_png(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(rgba).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}

/// A `w` x `h` baseline JPEG.
pub fn jpeg(w: u16, h: u16, seed: u8) -> Vec<u8> {
    let rgb: Vec<u8> = pixels(u32::from(w), u32::from(h), seed, false)
        .chunks(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("JPEG");
    out
}

/// A `w` x `h` GIF.
pub fn gif(w: u16, h: u16, seed: u8) -> Vec<u8> {
    let mut rgba = pixels(u32::from(w), u32::from(h), seed, false);
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, w, h, &[]).expect("GIF header");
        let frame = gif::Frame::from_rgba(w, h, &mut rgba);
        encoder.write_frame(&frame).expect("GIF frame");
    }
    out
}

/// A `w` x `h` lossless WebP.
pub fn webp(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(
            &pixels(w, h, seed, false),
            w,
            h,
            image_webp::ColorType::Rgba8,
        )
        .expect("WebP");
    out
}

/// An SVG image carrying a script: what an image upload must never accept.
pub const SVG_WITH_SCRIPT: &[u8] = br#"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>"#;
