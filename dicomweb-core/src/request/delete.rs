//! DELETE of a study, series or instance (not in PS3.18, but Google's Healthcare API,
//! dcm4chee and Orthanc support it).

use http::Method;

use crate::Error;
use crate::request::base::Query;
use crate::request::{BaseUrl, Body, Target, bodiless};

/// `DELETE /studies/{s}[/series/{r}[/instances/{i}]]`.
///
/// ```
/// use dicomweb_core::request::{BaseUrl, Delete, Target};
///
/// let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
/// let request = Delete::new(Target::series("1.2".parse()?, "3.4".parse()?)).to_request(&base)?;
/// assert_eq!(request.method(), http::Method::DELETE);
/// assert_eq!(request.uri().path(), "/dicom-web/studies/1.2/series/3.4");
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    target: Target,
}

impl Delete {
    /// Deletes `target`.
    pub fn new(target: Target) -> Delete {
        Delete { target }
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let uri = base.uri(self.target.path().as_str(), &Query::new())?;
        bodiless(Method::DELETE, uri, None)
    }
}
