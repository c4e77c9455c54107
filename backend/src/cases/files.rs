//! What an uploaded file really is, judged by its first bytes (never by its name
//! or declared type), and its cleaning before it is stored: JPEG and PNG lose the
//! metadata a phone camera writes into them (GPS position, device, owner, time),
//! and anything appended after the image's end is dropped.
use crate::error::{AppError, AppResult};

/// The kinds of file a case accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `FF D8 FF`.
    Jpeg,
    /// `89 50 4E 47 0D 0A 1A 0A`.
    Png,
    /// `%PDF-`.
    Pdf,
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

impl FileKind {
    /// The kind the content says, if it is one we take.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(PNG_SIGNATURE) {
            Some(FileKind::Png)
        } else if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else {
            None
        }
    }

    /// The MIME type served and stored.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// The stored MIME type back as a kind (`None` for anything we never store).
    pub fn from_content_type(ct: &str) -> Option<FileKind> {
        match ct {
            "image/jpeg" => Some(FileKind::Jpeg),
            "image/png" => Some(FileKind::Png),
            "application/pdf" => Some(FileKind::Pdf),
            _ => None,
        }
    }

    /// The file name extension of downloads.
    pub fn ext(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Pdf => "pdf",
        }
    }
}

fn broken() -> AppError {
    AppError::UnsupportedMediaType
}

/// Judges and cleans an upload: the kind and the bytes to store.
/// Not JPEG, PNG or PDF, or a JPEG/PNG whose structure does not hold → 415.
pub fn clean(bytes: &[u8]) -> AppResult<(FileKind, Vec<u8>)> {
    let kind = FileKind::sniff(bytes).ok_or_else(broken)?;
    let cleaned = match kind {
        FileKind::Jpeg => strip_jpeg(bytes).ok_or_else(broken)?,
        FileKind::Png => strip_png(bytes).ok_or_else(broken)?,
        FileKind::Pdf => bytes.to_vec(),
    };
    Ok((kind, cleaned))
}

/// Whether a JPEG marker segment is kept: APP0 (JFIF), APP2 (ICC colour profile)
/// and APP14 (Adobe colour transform) are needed to show the picture right; every
/// other APPn (APP1 EXIF/XMP, APP13 IPTC/Photoshop …) and COM are metadata.
fn keep_jpeg_segment(marker: u8) -> bool {
    match marker {
        0xE0 | 0xE2 | 0xEE => true,
        0xE1..=0xEF | 0xFE => false,
        _ => true,
    }
}

/// Copies a JPEG without its metadata segments and without anything after EOI.
/// `None` when the marker structure is broken.
pub fn strip_jpeg(src: &[u8]) -> Option<Vec<u8>> {
    if !src.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(src.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        // A marker: 0xFF, optional 0xFF fill bytes, then the code.
        if src.get(i) != Some(&0xFF) {
            return None;
        }
        while src.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *src.get(i)?;
        i += 1;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            // Stand-alone markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            0x00 | 0xD8 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*src.get(i)?, *src.get(i + 1)?]));
        if len < 2 || i + len > src.len() {
            return None;
        }
        let segment = &src[i..i + len];
        i += len;
        if keep_jpeg_segment(marker) {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
        if marker == 0xDA {
            // Entropy-coded data follows the scan header up to the next real
            // marker (0xFF followed by neither 0x00 stuffing nor a restart code).
            let start = i;
            loop {
                match src.get(i) {
                    // Truncated after image data (no EOI): keep what there is.
                    None => {
                        out.extend_from_slice(&src[start..]);
                        out.extend_from_slice(&[0xFF, 0xD9]);
                        return Some(out);
                    }
                    Some(0xFF) => match src.get(i + 1) {
                        Some(0x00 | 0xD0..=0xD7) => i += 2,
                        Some(0xFF) => i += 1,
                        None => i += 1,
                        Some(_) => break,
                    },
                    Some(_) => i += 1,
                }
            }
            out.extend_from_slice(&src[start..i]);
        }
    }
}

/// Whether a PNG chunk is metadata: text (tEXt, zTXt, iTXt), EXIF (eXIf) and
/// the modification time (tIME).
fn png_metadata(kind: &[u8]) -> bool {
    matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME")
}

/// Copies a PNG without its metadata chunks and without anything after IEND.
/// `None` when the chunk structure is broken or IEND is missing.
pub fn strip_png(src: &[u8]) -> Option<Vec<u8>> {
    if !src.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let mut out = Vec::with_capacity(src.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut i = PNG_SIGNATURE.len();
    loop {
        let header = src.get(i..i + 8)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let end = i.checked_add(12)?.checked_add(len)?;
        let chunk = src.get(i..end)?;
        if !png_metadata(kind) {
            out.extend_from_slice(chunk);
        }
        i = end;
        if kind == b"IEND" {
            return Some(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// SOI, the given segments, a scan with stuffed bytes and a restart marker, EOI.
    fn jpeg(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        for s in segments {
            v.extend_from_slice(s);
        }
        v.extend_from_slice(&seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        v.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_loses_exif_xmp_iptc_comments_and_other_app_segments() {
        let jfif = seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let icc = seg(0xE2, b"ICC_PROFILE\0colours");
        let adobe = seg(0xEE, b"Adobe\0transform");
        let dqt = seg(0xDB, &[0; 65]);
        let src = jpeg(&[
            jfif.clone(),
            seg(0xE1, b"Exif\0\0GPS 31.8N 117.2E"),
            seg(
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>owner</x:xmpmeta>",
            ),
            icc.clone(),
            seg(0xED, b"Photoshop 3.0\08BIM IPTC byline"),
            seg(0xE5, b"vendor secret"),
            seg(0xEF, b"app15"),
            adobe.clone(),
            seg(0xFE, b"taken by Zhang San"),
            dqt.clone(),
        ]);

        let out = strip_jpeg(&src).expect("valid jpeg");

        for gone in [
            &b"Exif"[..],
            b"GPS",
            b"xmpmeta",
            b"IPTC",
            b"vendor secret",
            b"app15",
            b"Zhang San",
        ] {
            assert!(!contains(&out, gone), "{}", String::from_utf8_lossy(gone));
        }
        assert_eq!(
            out,
            jpeg(&[jfif, icc, adobe, dqt]),
            "kept segments and scan data unchanged, in order"
        );
    }

    #[test]
    fn jpeg_keeps_the_scan_data_and_drops_what_follows_eoi() {
        let mut src = jpeg(&[seg(0xDB, &[0; 65])]);
        let clean = src.clone();
        src.extend_from_slice(b"<html><script>alert(1)</script></html>");

        assert_eq!(strip_jpeg(&src).expect("valid"), clean);
    }

    #[test]
    fn jpeg_metadata_between_progressive_scans_goes_too() {
        let mut src = jpeg(&[]);
        src.truncate(src.len() - 2); // drop EOI
        src.extend_from_slice(&seg(0xE1, b"Exif\0\0late"));
        src.extend_from_slice(&seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        src.extend_from_slice(&[0x77, 0xFF, 0xD9]);

        let out = strip_jpeg(&src).expect("valid");

        assert!(!contains(&out, b"late"));
        assert!(out.ends_with(&[0x77, 0xFF, 0xD9]));
    }

    #[test]
    fn jpeg_with_a_broken_structure_is_refused() {
        let good = jpeg(&[seg(0xE1, b"Exif\0\0x")]);
        // A segment length running past the end.
        let mut long = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00];
        long.extend_from_slice(b"Exif");
        // No marker after SOI.
        let text = b"\xFF\xD8\xFF<html>".to_vec();
        for bad in [
            long,
            text,
            vec![0xFF, 0xD8],
            vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01],
        ] {
            assert!(strip_jpeg(&bad).is_none(), "{bad:?}");
        }
        assert!(strip_jpeg(&good).is_some());
    }

    #[test]
    fn jpeg_cut_off_inside_the_scan_is_kept_and_closed() {
        let mut src = jpeg(&[]);
        src.truncate(src.len() - 2);

        let out = strip_jpeg(&src).expect("kept");

        assert!(out.ends_with(&[0x56, 0xFF, 0xD9]));
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(data);
        v.extend_from_slice(&[0, 0, 0, 0]); // CRC (not checked)
        v
    }

    #[test]
    fn png_loses_text_exif_and_time_chunks_and_trailing_bytes() {
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        let idat = chunk(b"IDAT", b"pixels");
        let iend = chunk(b"IEND", b"");
        let mut src = PNG_SIGNATURE.to_vec();
        for c in [
            ihdr.clone(),
            chunk(b"tEXt", b"Author\0Zhang San"),
            chunk(b"zTXt", b"Comment\0\0zz"),
            chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>"),
            chunk(b"eXIf", b"MM\0*GPS"),
            chunk(b"tIME", &[7, 234, 1, 1, 0, 0, 0]),
            idat.clone(),
            iend.clone(),
        ] {
            src.extend_from_slice(&c);
        }
        src.extend_from_slice(b"appended");

        let out = strip_png(&src).expect("valid png");

        let mut want = PNG_SIGNATURE.to_vec();
        for c in [ihdr, idat, iend] {
            want.extend_from_slice(&c);
        }
        assert_eq!(out, want);
    }

    #[test]
    fn png_without_iend_or_with_a_chunk_past_the_end_is_refused() {
        let mut no_end = PNG_SIGNATURE.to_vec();
        no_end.extend_from_slice(&chunk(b"IHDR", &[0; 13]));
        let mut past = PNG_SIGNATURE.to_vec();
        past.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xF0]);
        past.extend_from_slice(b"IDAT");
        for bad in [no_end, past, PNG_SIGNATURE.to_vec()] {
            assert!(strip_png(&bad).is_none());
        }
    }

    #[test]
    fn content_decides_the_kind_not_the_name() {
        assert_eq!(
            FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(FileKind::Jpeg)
        );
        assert_eq!(FileKind::sniff(PNG_SIGNATURE), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        for other in [
            &b"<!DOCTYPE html><html>"[..],
            b"",
            b"\xFF\xD8",
            b"GIF89a",
            b"%PDF",
            b"PK\x03\x04",
        ] {
            assert_eq!(FileKind::sniff(other), None, "{other:?}");
        }
        assert!(matches!(
            clean(b"<html></html>"),
            Err(AppError::UnsupportedMediaType)
        ));
        let pdf = b"%PDF-1.4\n%%EOF\n";
        assert_eq!(clean(pdf).expect("pdf").1, pdf.to_vec());
    }
}
