//! The DICOMweb base URL, and how request URIs are put together under it.
//!
//! A [`BaseUrl`] is parsed once. It keeps its path prefix (`/dicom-web`, Google's
//! `/v1/projects/…/dicomStores/S/dicomWeb`, dcm4chee's `/dcm4chee-arc/aets/DCM4CHEE/rs`), so every
//! request path is `prefix + resource path`. Resource paths are made only of fixed words and
//! validated [`Uid`]s, and every query name and value is percent-encoded, so nothing a caller or a
//! server supplies can change which resource a request names.

use std::fmt;
use std::str::FromStr;

use http::Uri;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{Error, Uid};

/// The root of a DICOMweb service: `http` or `https`, a host, an optional port and an optional
/// path prefix. A trailing slash is ignored.
///
/// ```
/// use dicomweb_core::request::BaseUrl;
///
/// let base: BaseUrl = "http://127.0.0.1:8042/dicom-web/".parse()?;
/// assert_eq!(base.prefix(), "/dicom-web");
/// assert_eq!(base.to_string(), "http://127.0.0.1:8042/dicom-web");
/// assert!("ftp://example.com/dicom-web".parse::<BaseUrl>().is_err());
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    scheme: Scheme,
    /// `host` or `host:port`, as given (lower-cased host).
    authority: String,
    /// Empty, or `/…` without a trailing slash.
    prefix: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scheme {
    Http,
    Https,
}

impl BaseUrl {
    /// Parses and checks a base URL: `http` or `https`, no user name or password (give those to
    /// the client's authentication settings), no query and no fragment.
    pub fn parse(text: &str) -> Result<BaseUrl, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            text: redact_userinfo(text),
            reason: reason.to_owned(),
        };
        if text.contains(['?', '#']) {
            return Err(invalid(
                "a base URL has no query or fragment ('?' or '#' found)",
            ));
        }
        let uri: Uri = text
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&format!("not a URI ({e})")))?;
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(other) => {
                return Err(invalid(&format!(
                    "expected the scheme http or https, found {other:?}"
                )));
            }
            None => {
                return Err(invalid(
                    "expected an absolute URL starting with http:// or https://",
                ));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("expected a host after the scheme"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "a user name or password in the URL is refused; use the client's authentication settings",
            ));
        }
        if authority.host().is_empty() {
            return Err(invalid("expected a host after the scheme"));
        }
        let prefix = uri.path().trim_end_matches('/').to_owned();
        Ok(BaseUrl {
            scheme,
            authority: authority.as_str().to_ascii_lowercase(),
            prefix,
        })
    }

    /// The path prefix: empty, or starting with `/` and without a trailing slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// `host` or `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The URI of `path` (which starts with `/`, or is empty for the base itself) under the
    /// prefix, with `query` appended.
    pub(crate) fn uri(&self, path: &str, query: &Query) -> Result<Uri, Error> {
        let mut text = format!(
            "{}://{}{}{}",
            self.scheme(),
            self.authority,
            self.prefix,
            path
        );
        if self.prefix.is_empty() && path.is_empty() {
            text.push('/');
        }
        query.append_to(&mut text);
        text.parse()
            .map_err(|e: http::uri::InvalidUri| Error::InvalidUrl {
                text,
                reason: format!("the request URI does not parse ({e})"),
            })
    }

    /// The same origin (scheme, host, port) as `uri`, with the scheme's default port filled in.
    pub(crate) fn same_origin(&self, uri: &Uri) -> bool {
        let Some(scheme) = uri.scheme_str() else {
            return false;
        };
        let Some(authority) = uri.authority() else {
            return false;
        };
        if authority.as_str().contains('@') || !scheme.eq_ignore_ascii_case(self.scheme()) {
            return false;
        }
        let default_port = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let Ok(own) = self.authority.parse::<http::uri::Authority>() else {
            return false;
        };
        own.host().eq_ignore_ascii_case(authority.host())
            && own.port_u16().unwrap_or(default_port)
                == authority.port_u16().unwrap_or(default_port)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme(), self.authority, self.prefix)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({self})")
    }
}

impl FromStr for BaseUrl {
    type Err = Error;

    fn from_str(text: &str) -> Result<BaseUrl, Error> {
        BaseUrl::parse(text)
    }
}

impl TryFrom<&str> for BaseUrl {
    type Error = Error;

    fn try_from(text: &str) -> Result<BaseUrl, Error> {
        BaseUrl::parse(text)
    }
}

/// `text` with any user name and password replaced by `[redacted]`, for error messages.
pub(crate) fn redact_userinfo(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    match text[start..authority_end].rfind('@') {
        Some(at) => format!("{}[redacted]{}", &text[..start], &text[start + at..]),
        None => text.to_owned(),
    }
}

/// What is percent-encoded in query names and values: everything except RFC 3986 unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) and the query characters `! $ ' ( ) * , ; : @ / ?`.
///
/// So `&`, `=`, `#`, `+`, `%`, space, controls, non-ASCII and the characters a URI may not
/// hold (`^`, `\`, `|`, …) arrive as data and can neither add a parameter nor end the query;
/// a query cannot change the path (it starts after the first `?`). The characters kept
/// literal are DICOMweb syntax: `*` and `?` are wildcards, `,` separates list items (UID
/// lists, `viewport`, `window`). Orthanc (1.10, DICOMweb plugin 1.7) matches query values
/// without percent-decoding them, so encoding these would break its wildcard and list
/// matching.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';')
    .remove(b':')
    .remove(b'@')
    .remove(b'/')
    .remove(b'?');

/// Percent-encodes `text` for a query name or value.
pub(crate) fn encode_query(text: &str) -> impl fmt::Display + '_ {
    utf8_percent_encode(text, QUERY_VALUE)
}

/// A query string under construction: names and values, encoded only when written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn new() -> Query {
        Query::default()
    }

    pub(crate) fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    fn append_to(&self, text: &mut String) {
        use fmt::Write;
        for (i, (name, value)) in self.0.iter().enumerate() {
            text.push(if i == 0 { '?' } else { '&' });
            // Writing to a String cannot fail.
            let _ = write!(text, "{}={}", encode_query(name), encode_query(value));
        }
    }
}

/// A resource path under the base: fixed words and UIDs only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    pub(crate) fn new() -> Path {
        Path::default()
    }

    /// Appends a fixed word of the standard (never caller text).
    pub(crate) fn word(mut self, word: &'static str) -> Path {
        self.0.push('/');
        self.0.push_str(word);
        self
    }

    /// Appends a UID (digits and dots, validated when the `Uid` was made).
    pub(crate) fn uid(mut self, uid: &Uid) -> Path {
        self.0.push('/');
        self.0.push_str(uid.as_str());
        self
    }

    /// Appends a segment made by this crate from numbers (`1,2,3`).
    pub(crate) fn numbers(mut self, numbers: &[u32]) -> Path {
        self.0.push('/');
        for (i, n) in numbers.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.0.push_str(&n.to_string());
        }
        self
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_prefix_and_drops_trailing_slashes() {
        let base = BaseUrl::parse("HTTPS://Healthcare.googleapis.com/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb//").unwrap();
        assert_eq!(base.scheme(), "https");
        assert_eq!(base.authority(), "healthcare.googleapis.com");
        assert_eq!(
            base.prefix(),
            "/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb"
        );
        let uri = base.uri("/studies", &Query::new()).unwrap();
        assert_eq!(
            uri.to_string(),
            "https://healthcare.googleapis.com/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb/studies"
        );
        let root = BaseUrl::parse("http://127.0.0.1:8042").unwrap();
        assert_eq!(root.prefix(), "");
        assert_eq!(
            root.uri("", &Query::new()).unwrap().to_string(),
            "http://127.0.0.1:8042/"
        );
    }

    #[test]
    fn refuses_what_is_not_a_base() {
        for (text, says) in [
            ("ftp://h/x", "http or https"),
            ("/dicom-web", "absolute URL"),
            ("http://u:p@h/x", "password"),
            ("http://h/x?a=1", "no query"),
            ("http://h/x#f", "no query or fragment"),
            ("http://h/a b", "not a URI"),
            ("", "not a URI"),
        ] {
            let err = BaseUrl::parse(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn query_encodes_everything_but_unreserved() {
        let mut query = Query::new();
        query.push("PatientName", "DOE^J*&x=1#/?,+ é%");
        let base = BaseUrl::parse("http://h").unwrap();
        let uri = base.uri("/studies", &query).unwrap();
        assert_eq!(
            uri.to_string(),
            "http://h/studies?PatientName=DOE%5EJ*%26x%3D1%23/?,%2B%20%C3%A9%25"
        );
    }

    #[test]
    fn passwords_never_reach_error_messages() {
        let err = BaseUrl::parse("https://user:hunter2@h/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("https://[redacted]@h/x"), "{err}");
        assert_eq!(redact_userinfo("http://h/a@b"), "http://h/a@b");
        assert_eq!(redact_userinfo("u:p@h"), "[redacted]@h");
    }

    #[test]
    fn same_origin_fills_default_ports() {
        let base = BaseUrl::parse("https://h.example/dicom-web").unwrap();
        let yes: Uri = "https://H.example:443/other".parse().unwrap();
        let no_port: Uri = "https://h.example:8443/dicom-web".parse().unwrap();
        let no_scheme: Uri = "http://h.example/dicom-web".parse().unwrap();
        let userinfo: Uri = "https://x@h.example/dicom-web".parse().unwrap();
        assert!(base.same_origin(&yes));
        assert!(!base.same_origin(&no_port));
        assert!(!base.same_origin(&no_scheme));
        assert!(!base.same_origin(&userinfo));
    }
}
