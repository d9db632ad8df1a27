//! The capabilities request: `OPTIONS` on the base URL (PS3.18 §8.9).

use http::Method;

use crate::Error;
use crate::media_type::MediaType;
use crate::request::base::Query;
use crate::request::{Accept, BaseUrl, Body, bodiless};

/// `OPTIONS {base}`, asking for the server's capabilities (a WADL document by default).
///
/// ```
/// use dicomweb_core::request::{BaseUrl, Capabilities};
///
/// let base: BaseUrl = "http://127.0.0.1:8042/dicom-web/".parse()?;
/// let request = Capabilities::new().to_request(&base)?;
/// assert_eq!(request.method(), http::Method::OPTIONS);
/// assert_eq!(request.uri().to_string(), "http://127.0.0.1:8042/dicom-web");
/// assert_eq!(request.headers()["accept"], "application/vnd.sun.wadl+xml, application/dicom+json; q=0.9");
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Capabilities {
    accept: Accept,
}

impl Default for Capabilities {
    fn default() -> Capabilities {
        Capabilities::new()
    }
}

impl Capabilities {
    /// `Accept: application/vnd.sun.wadl+xml, application/dicom+json; q=0.9`.
    pub fn new() -> Capabilities {
        Capabilities {
            accept: Accept::new(MediaType::new("application", "vnd.sun.wadl+xml"))
                .or(MediaType::new("application", "dicom+json"), 0.9),
        }
    }

    /// Another `Accept` header.
    pub fn accept(mut self, accept: Accept) -> Capabilities {
        self.accept = accept;
        self
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let uri = base.uri("", &Query::new())?;
        bodiless(Method::OPTIONS, uri, Some(&self.accept))
    }
}
