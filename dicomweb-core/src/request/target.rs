//! Which study, series or instance a request is about.

use crate::Uid;
use crate::request::base::Path;

/// A study, a series or an instance, named by validated UIDs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `/studies/{study}`.
    Study(Uid),
    /// `/studies/{study}/series/{series}`.
    Series(Uid, Uid),
    /// `/studies/{study}/series/{series}/instances/{instance}`.
    Instance(Uid, Uid, Uid),
}

impl Target {
    /// A study.
    pub fn study(study: Uid) -> Target {
        Target::Study(study)
    }

    /// A series of a study.
    pub fn series(study: Uid, series: Uid) -> Target {
        Target::Series(study, series)
    }

    /// An instance of a series.
    pub fn instance(study: Uid, series: Uid, instance: Uid) -> Target {
        Target::Instance(study, series, instance)
    }

    /// The Study Instance UID.
    pub fn study_uid(&self) -> &Uid {
        match self {
            Target::Study(s) | Target::Series(s, _) | Target::Instance(s, _, _) => s,
        }
    }

    /// The resource path under the base URL.
    pub(crate) fn path(&self) -> Path {
        let path = Path::new().word("studies");
        match self {
            Target::Study(s) => path.uid(s),
            Target::Series(s, r) => path.uid(s).word("series").uid(r),
            Target::Instance(s, r, i) => path.uid(s).word("series").uid(r).word("instances").uid(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(text: &str) -> Uid {
        text.parse().unwrap()
    }

    #[test]
    fn paths_at_each_level() {
        assert_eq!(Target::study(uid("1.2")).path().as_str(), "/studies/1.2");
        assert_eq!(
            Target::series(uid("1.2"), uid("3")).path().as_str(),
            "/studies/1.2/series/3"
        );
        let instance = Target::instance(uid("1.2"), uid("3"), uid("4.5"));
        assert_eq!(
            instance.path().as_str(),
            "/studies/1.2/series/3/instances/4.5"
        );
        assert_eq!(instance.study_uid().as_str(), "1.2");
    }
}
