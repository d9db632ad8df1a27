//! File name extensions for the media types DICOMweb services return, so that every program
//! names a saved part the same way.

use super::MediaType;
use crate::multipart::PartHeaders;

impl MediaType {
    /// The file name extension (without the dot) for a body of this media type: `dcm` for
    /// `application/dicom`, `json` and `xml` for DICOM JSON and XML, `jpg`, `jp2`, `jpf`,
    /// `jph`, `jls`, `jxl`, `png`, `gif` and `rle` for images, `mpg` and `mp4` for video, `pdf`,
    /// `txt`, and `bin` for `application/octet-stream` and any type not listed. Parameters
    /// (a `transfer-syntax`) do not change it.
    ///
    /// ```
    /// use dicomweb_core::media_type::MediaType;
    ///
    /// let jpeg: MediaType = "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50".parse()?;
    /// assert_eq!(jpeg.file_extension(), "jpg");
    /// assert_eq!(MediaType::new("application", "dicom").file_extension(), "dcm");
    /// assert_eq!(MediaType::new("application", "x-unknown").file_extension(), "bin");
    /// # Ok::<(), dicomweb_core::Error>(())
    /// ```
    pub fn file_extension(&self) -> &'static str {
        match (self.type_(), self.subtype()) {
            ("application", "dicom") => "dcm",
            ("application", "dicom+json" | "json") => "json",
            ("application", "dicom+xml" | "xml") | ("text", "xml") => "xml",
            ("application", "pdf") => "pdf",
            ("application", "octet-stream") => "bin",
            ("image", "jpeg") => "jpg",
            ("image", "jp2") => "jp2",
            ("image", "jpx") => "jpf",
            ("image", "jphc") => "jph",
            ("image", "jls") => "jls",
            ("image", "jxl") => "jxl",
            ("image", "png") => "png",
            ("image", "gif") => "gif",
            ("image", "dicom-rle") => "rle",
            ("video", "mpeg" | "mpeg2") => "mpg",
            ("video", "mp4") => "mp4",
            ("text", "plain") => "txt",
            _ => "bin",
        }
    }
}

impl PartHeaders {
    /// The file name extension for this part's body, from its `Content-Type`
    /// ([`MediaType::file_extension`]); `bin` when it has none or it cannot be read.
    pub fn file_extension(&self) -> &'static str {
        match self.content_type() {
            Ok(Some(media_type)) => media_type.file_extension(),
            _ => "bin",
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;
    use http::header::CONTENT_TYPE;

    use super::*;

    #[test]
    fn every_dicomweb_media_type_has_its_extension() {
        for (text, extension) in [
            ("application/dicom", "dcm"),
            ("application/dicom+json", "json"),
            ("application/dicom+xml", "xml"),
            ("image/jpeg", "jpg"),
            ("image/jp2", "jp2"),
            ("image/jpx", "jpf"),
            ("image/jphc", "jph"),
            ("image/jls", "jls"),
            ("image/jxl", "jxl"),
            ("image/png", "png"),
            ("image/gif", "gif"),
            ("image/dicom-rle", "rle"),
            ("video/mpeg", "mpg"),
            ("video/mpeg2", "mpg"),
            ("video/mp4", "mp4"),
            ("application/pdf", "pdf"),
            ("text/plain; charset=utf-8", "txt"),
            ("text/xml", "xml"),
            ("application/octet-stream; transfer-syntax=*", "bin"),
            ("Image/JPEG", "jpg"),
            ("video/H265", "bin"),
            ("application/zip", "bin"),
        ] {
            let media_type: MediaType = text.parse().unwrap();
            assert_eq!(media_type.file_extension(), extension, "{text}");
        }
    }

    #[test]
    fn a_part_without_a_readable_type_is_bin() {
        let mut headers = HeaderMap::new();
        let part = PartHeaders::new(0, headers.clone()).unwrap();
        assert_eq!(part.file_extension(), "bin");
        headers.insert(CONTENT_TYPE, "not a type".parse().unwrap());
        assert_eq!(
            PartHeaders::new(0, headers.clone())
                .unwrap()
                .file_extension(),
            "bin"
        );
        headers.insert(CONTENT_TYPE, "image/png".parse().unwrap());
        assert_eq!(
            PartHeaders::new(0, headers).unwrap().file_extension(),
            "png"
        );
    }
}
