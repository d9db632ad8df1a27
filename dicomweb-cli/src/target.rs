//! `--study UID [--series UID [--instance UID]]`: the study, series or instance a command is
//! about.

use dicomweb_core::Uid;
use dicomweb_core::request::Target;

/// A study, or a series of it, or an instance of that.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The Study Instance UID.
    #[arg(long, value_name = "UID")]
    pub study: Uid,
    /// A Series Instance UID of the study.
    #[arg(long, value_name = "UID")]
    pub series: Option<Uid>,
    /// A SOP Instance UID of the series.
    #[arg(long, value_name = "UID", requires = "series")]
    pub instance: Option<Uid>,
}

impl TargetArgs {
    /// The target.
    pub fn target(&self) -> Target {
        match (&self.series, &self.instance) {
            (Some(series), Some(instance)) => {
                Target::instance(self.study.clone(), series.clone(), instance.clone())
            }
            (Some(series), None) => Target::series(self.study.clone(), series.clone()),
            // `--instance` requires `--series` (clap checks it): a study.
            _ => Target::study(self.study.clone()),
        }
    }

    /// `study 1.2`, `series 1.3 of study 1.2`, …, for messages.
    pub fn describe(&self) -> String {
        match (&self.series, &self.instance) {
            (Some(series), Some(instance)) => {
                format!(
                    "instance {instance} of series {series} of study {}",
                    self.study
                )
            }
            (Some(series), None) => format!("series {series} of study {}", self.study),
            _ => format!("study {}", self.study),
        }
    }
}
