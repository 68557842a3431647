//! What an uploaded image is, judged by its bytes alone: its type from the magic number at
//! its start and its real dimensions from its header, never from what the client says.
//!
//! Owns the image types a board accepts (PNG, JPEG, GIF and WebP: raster images every
//! browser shows; never SVG, which can carry scripts), the bounds on their dimensions, and
//! the shape of an asset id (the SHA-256 of the image's bytes).
//! Sans I/O: bytes in, a verdict out. It knows nothing of HTTP or storage, and never panics.

/// The longest side, in pixels, an image may have: the largest canvas browsers draw.
pub const MAX_SIDE: u32 = 16_384;

/// An image whose bytes were checked: its type and its dimensions, as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// Its MIME type: `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub mime: &'static str,
    /// Its width in pixels, 1 to [`MAX_SIDE`].
    pub width: u32,
    /// Its height in pixels, 1 to [`MAX_SIDE`].
    pub height: u32,
}

/// Why bytes are not an image a board accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// An SVG document: refused, since it can carry scripts.
    #[error("SVG images are not accepted (they can carry scripts); send a PNG, JPEG, GIF or WebP")]
    Svg,
    /// Neither PNG, JPEG, GIF nor WebP.
    #[error("not a PNG, JPEG, GIF or WebP image")]
    Unsupported,
    /// The right magic number, but a header that is truncated or does not parse.
    #[error("the {0} image's header is damaged or truncated")]
    Damaged(&'static str),
    /// A width or height of zero or over [`MAX_SIDE`].
    #[error("the image is {width}x{height} pixels; each side must be 1 to {MAX_SIDE}")]
    Dimensions {
        /// The width the header gives.
        width: u64,
        /// The height the header gives.
        height: u64,
    },
}

/// The id an image with these bytes is stored under: their SHA-256, in lowercase hex.
pub fn asset_id(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `id` has the shape of an asset id: 64 lowercase hex digits.
pub fn is_asset_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The 8-byte signature every PNG file starts with.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Checks that `bytes` are a PNG, JPEG, GIF or WebP image with sides of 1 to [`MAX_SIDE`]
/// pixels, and says which, with its dimensions.
pub fn sniff(bytes: &[u8]) -> Result<Sniffed, ImageError> {
    let mime = mime_of(bytes)?;
    // The header parser reads offsets the bytes give; run it so that no input can bring
    // the caller down.
    let size = std::panic::catch_unwind(|| imagesize::blob_size(bytes))
        .ok()
        .and_then(Result::ok)
        .ok_or(ImageError::Damaged(name_of(mime)))?;
    let (width, height) = (size.width as u64, size.height as u64);
    let side = |n: u64| u32::try_from(n).ok().filter(|n| (1..=MAX_SIDE).contains(n));
    match (side(width), side(height)) {
        (Some(width), Some(height)) => Ok(Sniffed {
            mime,
            width,
            height,
        }),
        _ => Err(ImageError::Dimensions { width, height }),
    }
}

/// The MIME type the magic number at the start of `bytes` names.
fn mime_of(bytes: &[u8]) -> Result<&'static str, ImageError> {
    if bytes.starts_with(PNG_SIGNATURE) {
        // The first chunk must be the header, which holds the dimensions.
        return match bytes.get(12..16) {
            Some(b"IHDR") => Ok("image/png"),
            _ => Err(ImageError::Damaged("PNG")),
        };
    }
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        return Ok("image/jpeg");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok("image/gif");
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Ok("image/webp");
    }
    if looks_like_svg(bytes) {
        return Err(ImageError::Svg);
    }
    Err(ImageError::Unsupported)
}

/// A short name of the type, for messages.
fn name_of(mime: &str) -> &'static str {
    match mime {
        "image/png" => "PNG",
        "image/jpeg" => "JPEG",
        "image/gif" => "GIF",
        _ => "WebP",
    }
}

/// Whether the start of `bytes` reads as an SVG (or other XML) document, so the refusal
/// can say why.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = head[start..].to_ascii_lowercase();
    head.starts_with(b"<?xml") || head.starts_with(b"<svg") || head.windows(4).any(|w| w == b"<svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG signature and header chunk of `w` x `h` (the CRC is not checked here).
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = PNG_SIGNATURE.to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// A GIF header of `w` x `h`.
    fn gif(w: u16, h: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&w.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&[0, 0, 0, 0x3B]);
        b
    }

    /// A JPEG start and frame header of `w` x `h`.
    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0];
        b.extend_from_slice(&[0x00, 0x11, 0x08]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[0x03; 12]);
        b
    }

    /// A lossless WebP header of `w` x `h`.
    fn webp(w: u32, h: u32) -> Vec<u8> {
        let bits = (w - 1) | ((h - 1) << 14);
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&20u32.to_le_bytes());
        b.extend_from_slice(b"WEBPVP8L");
        b.extend_from_slice(&8u32.to_le_bytes());
        b.push(0x2F);
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(&[0, 0, 0]);
        b
    }

    #[test]
    fn the_four_types_are_known_by_their_bytes_with_their_dimensions() {
        for (bytes, mime, w, h) in [
            (png(640, 480), "image/png", 640, 480),
            (gif(3, 2), "image/gif", 3, 2),
            (jpeg(1920, 1080), "image/jpeg", 1920, 1080),
            (webp(17, 5), "image/webp", 17, 5),
        ] {
            assert_eq!(
                sniff(&bytes),
                Ok(Sniffed {
                    mime,
                    width: w,
                    height: h
                })
            );
        }
    }

    #[test]
    fn svg_is_refused_by_name_and_anything_else_as_unsupported() {
        for svg in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            b"\xEF\xBB\xBF  <?xml version=\"1.0\"?><svg/>",
            b"<!-- hi --><SVG></SVG>",
        ] {
            assert_eq!(sniff(svg), Err(ImageError::Svg));
        }
        for other in [
            &b""[..],
            b"hello, world",
            b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
            b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00",
            b"<html><body>hi</body></html>",
        ] {
            assert_eq!(sniff(other), Err(ImageError::Unsupported), "{other:?}");
        }
    }

    #[test]
    fn truncated_or_damaged_headers_are_refused() {
        let mut short = png(10, 10);
        short.truncate(20);
        assert_eq!(sniff(&short), Err(ImageError::Damaged("PNG")));
        let mut no_header = png(10, 10);
        no_header[12..16].copy_from_slice(b"IDAT");
        assert_eq!(sniff(&no_header), Err(ImageError::Damaged("PNG")));
        assert_eq!(sniff(b"\xFF\xD8\xFF\x00"), Err(ImageError::Damaged("JPEG")));
        assert_eq!(sniff(b"GIF89a\x01"), Err(ImageError::Damaged("GIF")));
        assert_eq!(
            sniff(b"RIFF\x04\x00\x00\x00WEBPVP8X"),
            Err(ImageError::Damaged("WebP"))
        );
    }

    #[test]
    fn asset_ids_are_the_hex_sha256_of_the_bytes() {
        let id = asset_id(b"abc");
        assert_eq!(
            id,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_asset_id(&id));
        for bad in [
            "",
            "abc",
            &id.to_uppercase(),
            &format!("{id}0"),
            &id.replace('b', "g"),
        ] {
            assert!(!is_asset_id(bad), "{bad}");
        }
    }

    #[test]
    fn sides_must_be_one_to_the_largest_canvas() {
        assert!(sniff(&png(MAX_SIDE, MAX_SIDE)).is_ok());
        for (w, h) in [(0, 10), (10, 0), (MAX_SIDE + 1, 1), (1, u32::MAX)] {
            assert_eq!(
                sniff(&png(w, h)),
                Err(ImageError::Dimensions {
                    width: u64::from(w),
                    height: u64::from(h)
                })
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_after_a_magic_number_never_panic(
            kind in 0..4usize,
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let magic = [&b"\xFF\xD8\xFF"[..], PNG_SIGNATURE, b"GIF89a", b"RIFF\0\0\0\0WEBP"];
            let mut bytes = magic[kind].to_vec();
            bytes.extend_from_slice(&rest);
            if let Ok(image) = sniff(&bytes) {
                proptest::prop_assert!((1..=MAX_SIDE).contains(&image.width));
                proptest::prop_assert!((1..=MAX_SIDE).contains(&image.height));
            }
        }
    }
}
