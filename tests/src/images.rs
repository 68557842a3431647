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

/// A `w` x `h` baseline JPEG, mid-grey, written by hand: every 8x8 block is coded as "no
/// change from the last block's average, no detail", with Huffman tables of one 1-bit code
/// each, so each block takes two bits. (The JPEG encoder crates carry the IJG licence,
/// which `deny.toml` does not allow.)
pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
    fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(body);
    }
    let mut out = vec![0xFF, 0xD8];
    let mut quant = vec![0x00];
    quant.extend_from_slice(&[1; 64]);
    segment(&mut out, 0xDB, &quant);
    let [hh, hl] = h.to_be_bytes();
    let [wh, wl] = w.to_be_bytes();
    segment(&mut out, 0xC0, &[8, hh, hl, wh, wl, 1, 1, 0x11, 0]);
    for class in [0x00, 0x10] {
        let mut table = vec![class, 1];
        table.extend_from_slice(&[0; 15]);
        table.push(0x00);
        segment(&mut out, 0xC4, &table);
    }
    segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    let blocks = usize::from(w).div_ceil(8) * usize::from(h).div_ceil(8);
    let bits = 2 * blocks;
    out.extend(std::iter::repeat_n(0u8, bits / 8));
    if bits % 8 != 0 {
        out.push(0xFF >> (bits % 8));
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
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
