//! `Accept` headers: media types with `transfer-syntax`, `charset` and q-values.
//!
//! Any transfer syntax UID may be asked for, or `*` (the one the instance is stored in); there is
//! no fixed list. The `type` parameter of `multipart/related` is quoted by default, as the
//! grammar of PS3.18 requires; [`Accept::with_unquoted_type`] writes it bare for servers that
//! only understand that form.
//!
//! ```
//! use dicomweb_core::request::{Accept, TransferSyntax};
//! use dicomweb_core::media_type::MediaType;
//!
//! let accept = Accept::dicom(TransferSyntax::Uid("1.2.840.10008.1.2.4.50".parse()?))
//!     .or(Accept::dicom_media_type(TransferSyntax::Any), 0.5);
//! assert_eq!(
//!     accept.to_string(),
//!     r#"multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50, multipart/related; type="application/dicom"; transfer-syntax=*; q=0.5"#
//! );
//! let json = Accept::new(MediaType::new("application", "dicom+json").with_param("charset", "utf-8"));
//! assert_eq!(json.to_string(), "application/dicom+json; charset=utf-8");
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use std::fmt;

use http::HeaderValue;

use crate::media_type::{MediaType, ParamQuoting, parse_accept};
use crate::{Error, Uid};

/// The `transfer-syntax` parameter: a UID, or `*` for the transfer syntax the server stores.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TransferSyntax {
    /// `*`: as stored, no transcoding.
    Any,
    /// A transfer syntax UID (any, not only those this crate knows).
    Uid(Uid),
}

impl fmt::Display for TransferSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferSyntax::Any => f.write_str("*"),
            TransferSyntax::Uid(uid) => f.write_str(uid.as_str()),
        }
    }
}

impl From<Uid> for TransferSyntax {
    fn from(uid: Uid) -> TransferSyntax {
        TransferSyntax::Uid(uid)
    }
}

impl std::str::FromStr for TransferSyntax {
    type Err = Error;

    /// `*` or a UID.
    fn from_str(text: &str) -> Result<TransferSyntax, Error> {
        if text == "*" {
            Ok(TransferSyntax::Any)
        } else {
            Ok(TransferSyntax::Uid(text.parse()?))
        }
    }
}

/// An `Accept` header value: media types in order of preference, each with a weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Accept {
    entries: Vec<(MediaType, f32)>,
    quoting: ParamQuoting,
}

impl Accept {
    /// Accepts one media type (weight 1).
    pub fn new(media_type: MediaType) -> Accept {
        Accept {
            entries: vec![(media_type, 1.0)],
            quoting: ParamQuoting::WhenRequired,
        }
    }

    /// Parses an `Accept` value, e.g. one given on a command line.
    pub fn parse(text: &str) -> Result<Accept, Error> {
        let entries = parse_accept(text)?;
        if entries.is_empty() {
            return Err(Error::MediaType {
                text: text.to_owned(),
                message: "expected at least one media type, found none".to_owned(),
            });
        }
        Ok(Accept {
            entries,
            quoting: ParamQuoting::WhenRequired,
        })
    }

    /// This list with one more media type of weight `q` (clamped to 0..=1; NaN counts as 0).
    pub fn or(mut self, media_type: MediaType, q: f32) -> Accept {
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        self.entries.push((media_type, q));
        self
    }

    /// Writes parameter values bare where the grammar allows it only loosely
    /// (`type=application/dicom` instead of `type="application/dicom"`), for servers that do
    /// not read quoted values.
    pub fn with_unquoted_type(mut self) -> Accept {
        self.quoting = ParamQuoting::Minimal;
        self
    }

    /// The media types and weights, in order.
    pub fn entries(&self) -> &[(MediaType, f32)] {
        &self.entries
    }

    /// The header value. Fails only if a caller-made parameter holds a character a header
    /// cannot carry (a control character).
    pub fn to_header_value(&self) -> Result<HeaderValue, Error> {
        let text = self.to_string();
        HeaderValue::from_str(&text).map_err(|_| Error::MediaType {
            text,
            message: "expected visible ASCII characters in an Accept header".to_owned(),
        })
    }

    /// `multipart/related; type="application/dicom"; transfer-syntax=…`: Part 10 instances.
    pub fn dicom(transfer_syntax: TransferSyntax) -> Accept {
        Accept::new(Accept::dicom_media_type(transfer_syntax))
    }

    /// The media type of [`Accept::dicom`], to combine with others.
    pub fn dicom_media_type(transfer_syntax: TransferSyntax) -> MediaType {
        multipart_related("application/dicom", Some(&transfer_syntax))
    }

    /// `application/dicom+json`: DICOM JSON (search results, metadata, STOW responses).
    pub fn dicom_json() -> Accept {
        Accept::new(MediaType::new("application", "dicom+json"))
    }

    /// `multipart/related; type="application/dicom+xml"`: Native DICOM Model documents.
    pub fn dicom_xml() -> Accept {
        Accept::new(multipart_related("application/dicom+xml", None))
    }

    /// `multipart/related; type="application/octet-stream"; transfer-syntax=…`: frames or bulk
    /// data as uncompressed bytes (or as stored, with `*`).
    pub fn octet_stream(transfer_syntax: TransferSyntax) -> Accept {
        Accept::new(multipart_related(
            "application/octet-stream",
            Some(&transfer_syntax),
        ))
    }

    /// A single image type for rendered resources and thumbnails, e.g. `image/jpeg`, `image/png`.
    pub fn image(subtype: &str) -> Accept {
        Accept::new(MediaType::new("image", subtype))
    }
}

/// `multipart/related; type="<type_>"` with an optional `transfer-syntax` parameter.
pub fn multipart_related(type_: &str, transfer_syntax: Option<&TransferSyntax>) -> MediaType {
    let media_type = MediaType::new("multipart", "related").with_param("type", type_);
    match transfer_syntax {
        Some(ts) => media_type.with_param("transfer-syntax", ts.to_string()),
        None => media_type,
    }
}

impl fmt::Display for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (media_type, q)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", media_type.display_with(self.quoting))?;
            if *q < 1.0 {
                let text = format!("{q:.3}");
                let text = text.trim_end_matches('0').trim_end_matches('.');
                write!(f, "; q={}", if text.is_empty() { "0" } else { text })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_by_default_unquoted_by_option() {
        let accept = Accept::dicom(TransferSyntax::Any);
        assert_eq!(
            accept.to_string(),
            r#"multipart/related; type="application/dicom"; transfer-syntax=*"#
        );
        assert_eq!(
            accept.with_unquoted_type().to_string(),
            "multipart/related; type=application/dicom; transfer-syntax=*"
        );
    }

    #[test]
    fn q_values_are_written_short() {
        let accept = Accept::dicom_json()
            .or(MediaType::new("application", "json"), 0.5)
            .or(MediaType::new("*", "*"), 0.0)
            .or(MediaType::new("text", "plain"), 7.0)
            .or(MediaType::new("text", "html"), f32::NAN);
        assert_eq!(
            accept.to_string(),
            "application/dicom+json, application/json; q=0.5, */*; q=0, text/plain, text/html; q=0"
        );
        let back = Accept::parse(&accept.to_string()).unwrap();
        assert_eq!(back.entries().len(), 5);
    }

    #[test]
    fn parse_refuses_empty_and_header_value_refuses_controls() {
        assert!(Accept::parse("").is_err());
        let bad = Accept::new(MediaType::new("a", "b").with_param("x", "1\r\nX-Evil: 1"));
        assert!(bad.to_header_value().is_err());
    }

    #[test]
    fn transfer_syntax_parses_star_or_uid() {
        assert_eq!("*".parse::<TransferSyntax>().unwrap(), TransferSyntax::Any);
        assert!("1.2.840.10008.1.2.1".parse::<TransferSyntax>().is_ok());
        assert!("1.2;x".parse::<TransferSyntax>().is_err());
    }
}
