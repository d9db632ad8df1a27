//! Transfers to a DICOM device: [`DimseTransferJob`] copies a study (or a [`Scope`] of it)
//! from a DICOMweb server to a device by C-STORE, as a persistent job on orthanc-jobs — the
//! cloud → modality direction of an export adapter, resumable like the DICOMweb transfers.
//!
//! Its first step lists the instances at the source (QIDO-RS, with their SOP classes). Each
//! later step moves one batch: it associates with the device proposing the batch's SOP classes
//! (each with the transfer syntaxes of [`PROPOSED_TRANSFER_SYNTAXES`](crate::scu::PROPOSED_TRANSFER_SYNTAXES),
//! one context per pair),
//! retrieves the batch with WADO-RS (a few instance requests at once) and sends each instance
//! as its bytes arrive, never transcoded, then releases the association. The list and the
//! batch cursor are the saved state.
//!
//! A device cannot be asked which instances it already holds, so a batch cut short by a crash
//! or a broken association is sent again whole: a store SCP replaces an instance it receives
//! twice (or warns), it does not duplicate it. An instance the device refuses fails the job
//! with the device's reason; a broken association or an unreachable device is retried with
//! backoff.
//!
//! The destination is saved as written — a `DicomModalities` name, `dimse://AET@host:port` or
//! `dimses://AET@host:port` (over TLS), never a secret — and resolved at each step by the
//! [`Resolve`] function given at restore into a [`Device`], with the TLS settings to reach it;
//! the source is a DICOMweb endpoint that the client's [`Connect`] resolves.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use dicomweb_client::jobs::{Connect, Scope};
use dicomweb_client::{Client, PartStream};
use dicomweb_core::Uid;
use dicomweb_core::request::{RetrieveInstances, Search, Target};
use dicomweb_core::tags::{SERIES_INSTANCE_UID, SOP_CLASS_UID, SOP_INSTANCE_UID};
use futures_util::{StreamExt, stream};
use orthanc_jobs::{Job, JobRegistry, StepContext, StepFuture, StepOutcome};
use serde::{Deserialize, Serialize};

use crate::scu::{StoreScu, SubOutcome};
use crate::tls::DicomTls;
use crate::{Error, Modality};

/// The type name of [`DimseTransferJob`] (Orthanc's `Type`).
pub const DIMSE_TRANSFER_JOB: &str = "DicomModalityTransfer";

/// Finds the device an endpoint names: a `DicomModalities` entry, or `dimse://AET@host:port`
/// (see [`parse_dimse_url`]).
pub type Resolve = Arc<dyn Fn(&str) -> Result<Device, Error> + Send + Sync>;

/// A device to send to: where it is, and the TLS settings that reach it when it is marked
/// for TLS ([`Modality::tls`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Device {
    /// The device.
    pub modality: Modality,
    /// TLS settings, used when the device is marked for TLS.
    pub tls: Option<DicomTls>,
}

impl Device {
    /// A device reached without TLS settings (a device marked for TLS then fails).
    pub fn new(modality: Modality) -> Device {
        Device {
            modality,
            tls: None,
        }
    }

    /// With these TLS settings.
    pub fn with_tls(mut self, tls: DicomTls) -> Device {
        self.tls = Some(tls);
        self
    }
}

/// The AE title a transfer calls itself by default.
pub const DEFAULT_CALLING_AET: &str = "DICOMWEB";

/// Default instances per batch (one association each).
const DEFAULT_BATCH: usize = 16;

/// WADO-RS requests of one batch in flight at once.
const REQUESTS_IN_FLIGHT: usize = 4;

/// The most instances one study may list.
const MAX_INSTANCES: usize = 1_000_000;

/// Transient failures in a row before the job fails.
const MAX_RETRIES: u32 = 8;

/// The largest PDU proposed, and how long to wait for the device.
const MAX_PDU_LENGTH: u32 = 16_384;
const DEVICE_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `text` is written as a DICOM device URL (`dimse://` or `dimses://`).
pub fn is_dimse_url(text: &str) -> bool {
    text.starts_with("dimse://") || text.starts_with("dimses://")
}

/// A device written as `dimse://AET@host:port`, or as `dimses://AET@host:port` for one
/// reached over TLS ([`Modality::tls`] set); `None` when `text` is not such a URL.
pub fn parse_dimse_url(text: &str) -> Option<Result<Modality, Error>> {
    let (rest, tls) = match text.strip_prefix("dimses://") {
        Some(rest) => (rest, true),
        None => (text.strip_prefix("dimse://")?, false),
    };
    let bad = |why: &str| {
        Some(Err(Error::Config(format!(
            "{text:?} is not a DICOM device URL (dimse://AET@host:port, or dimses:// for TLS): \
             {why}"
        ))))
    };
    let Some((aet, address)) = rest.split_once('@') else {
        return bad("no AE title before '@'");
    };
    if aet.is_empty() || aet.len() > 16 {
        return bad("the AE title must have 1 to 16 characters");
    }
    let Some((host, port)) = address.rsplit_once(':') else {
        return bad("no ':port' after the host");
    };
    let Ok(port) = port.trim_end_matches('/').parse::<u16>() else {
        return bad("the port is not a number from 1 to 65535");
    };
    if host.is_empty() || port == 0 {
        return bad("no host, or port 0");
    }
    let mut modality = Modality::new(aet, host, port);
    modality.tls = tls;
    Some(Ok(modality))
}

/// Registers [`DimseTransferJob`] so an engine can restore it, with `connect` for the source
/// and `resolve` for the device.
pub fn register(registry: &mut JobRegistry, connect: Connect, resolve: Resolve) {
    registry.register(DIMSE_TRANSFER_JOB, move |state| {
        DimseTransferJob::restore(connect.clone(), resolve.clone(), state)
            .map(|job| Box::new(job) as _)
    });
}

/// One instance to move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Listed {
    series: String,
    sop: String,
    class: String,
}

/// The saved state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    source: String,
    destination: String,
    calling_aet: String,
    study: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<Scope>,
    instances: Option<Vec<Listed>>,
    batch: usize,
    cursor: usize,
    sent: u64,
    warnings: u64,
    retries: u32,
}

/// Copies a study from a DICOMweb server to a DICOM device (see [the module](self)).
pub struct DimseTransferJob {
    state: State,
    connect: Connect,
    resolve: Resolve,
    /// The source's client, built once (not saved).
    source: Option<Client>,
}

impl DimseTransferJob {
    /// A transfer of `study` from `source` (a DICOMweb endpoint for `connect`) to
    /// `destination` (a device for `resolve`), checked now: both must resolve.
    pub fn new(
        connect: Connect,
        resolve: Resolve,
        source: impl Into<String>,
        destination: impl Into<String>,
        study: Uid,
    ) -> Result<DimseTransferJob, Error> {
        let (source, destination) = (source.into(), destination.into());
        let client = connect(&source)?;
        resolve(&destination)?;
        Ok(DimseTransferJob {
            state: State {
                source,
                destination,
                calling_aet: DEFAULT_CALLING_AET.to_owned(),
                study: study.into_string(),
                scope: None,
                instances: None,
                batch: DEFAULT_BATCH,
                cursor: 0,
                sent: 0,
                warnings: 0,
                retries: 0,
            },
            connect,
            resolve,
            source: Some(client),
        })
    }

    /// Moves `instances` instances per step (at least one).
    pub fn batch(mut self, instances: usize) -> DimseTransferJob {
        self.state.batch = instances.max(1);
        self
    }

    /// Copies only `scope` of the study.
    pub fn scope(mut self, scope: Scope) -> DimseTransferJob {
        self.state.scope = Some(scope);
        self
    }

    /// Calls itself `aet` on the associations (default [`DEFAULT_CALLING_AET`]).
    pub fn calling_aet(mut self, aet: impl Into<String>) -> DimseTransferJob {
        self.state.calling_aet = aet.into();
        self
    }

    /// A job from its saved state.
    pub fn restore(
        connect: Connect,
        resolve: Resolve,
        saved: serde_json::Value,
    ) -> Result<DimseTransferJob, serde_json::Error> {
        Ok(DimseTransferJob {
            state: serde_json::from_value(saved)?,
            connect,
            resolve,
            source: None,
        })
    }

    async fn list(&self, source: &Client, study: &Uid) -> Result<Vec<Listed>, Error> {
        let searches = match &self.state.scope {
            None => vec![Search::instances_of_study(study.clone())],
            // One instance: searched for too, for its SOP class.
            Some(Scope::Instance { series, sop }) => {
                let (series, sop) = (Uid::new(series.clone()), Uid::new(sop.clone()));
                let search = series.and_then(|series| {
                    Search::instances_of_series(study.clone(), series)
                        .matching_uids("SOPInstanceUID", &[sop?])
                });
                vec![search.map_err(dicomweb_client::Error::Protocol)?]
            }
            Some(scope) => scope.searches(study)?,
        };
        let mut list = Vec::new();
        for search in searches {
            let search = search
                .include("SeriesInstanceUID")
                .and_then(|s| s.include("SOPInstanceUID"))
                .and_then(|s| s.include("SOPClassUID"))
                .map_err(dicomweb_client::Error::Protocol)?
                .limit(1000);
            let found = source.search_all(search, MAX_INSTANCES).await?;
            for data_set in &found.data_sets {
                let get = |tag| data_set.string(tag).map(str::to_owned);
                let (Some(series), Some(sop), Some(class)) = (
                    get(SERIES_INSTANCE_UID),
                    get(SOP_INSTANCE_UID),
                    get(SOP_CLASS_UID),
                ) else {
                    return Err(unexpected(
                        "the series, SOP instance and SOP class UIDs of every instance listed",
                        format!("an instance of study {study} without them"),
                    ));
                };
                list.push(Listed { series, sop, class });
            }
        }
        Ok(list)
    }

    async fn run_step(&mut self, ctx: &StepContext) -> Result<StepOutcome, Error> {
        let source = match &self.source {
            Some(client) => client.clone(),
            None => {
                let client = (self.connect)(&self.state.source)?;
                self.source = Some(client.clone());
                client
            }
        };
        let study = Uid::new(self.state.study.clone()).map_err(dicomweb_client::Error::from)?;
        let Some(instances) = &self.state.instances else {
            let list = self.list(&source, &study).await?;
            if list.is_empty() {
                return Ok(StepOutcome::Failure {
                    code: 13, // Orthanc's UnknownResource
                    description: format!(
                        "study {} has no instances at {}",
                        self.state.study, self.state.source
                    ),
                });
            }
            self.state.instances = Some(list);
            return Ok(StepOutcome::Continue);
        };
        let end = (self.state.cursor + self.state.batch).min(instances.len());
        let batch = &instances[self.state.cursor.min(end)..end];
        let device = (self.resolve)(&self.state.destination)?;
        let classes: BTreeSet<&str> = batch.iter().map(|i| i.class.as_str()).collect();
        let classes: Vec<&str> = classes.into_iter().collect();
        let mut scu = StoreScu::connect_with(
            &self.state.calling_aet,
            &device.modality,
            device.tls.as_ref(),
            &classes,
            MAX_PDU_LENGTH,
            DEVICE_TIMEOUT,
        )
        .await?;
        let targets = batch
            .iter()
            .map(|i| {
                Ok(RetrieveInstances::new(Target::instance(
                    study.clone(),
                    Uid::new(i.series.clone())?,
                    Uid::new(i.sop.clone())?,
                )))
            })
            .collect::<Result<Vec<_>, dicomweb_core::Error>>()
            .map_err(dicomweb_client::Error::from)?;
        let source = &source;
        let mut replies = stream::iter(targets)
            .map(|request| async move { source.retrieve_instances(&request).await })
            .buffered(REQUESTS_IN_FLIGHT);
        let (mut sent, mut warnings, mut refused) = (0u64, 0u64, Vec::new());
        let mut delivered = 0usize;
        while let Some(reply) = replies.next().await {
            if ctx.is_cancelled() {
                return Ok(StepOutcome::Continue);
            }
            let mut parts: PartStream = reply?;
            while parts.next_part().await?.is_some() {
                delivered += 1;
                match scu.store(&mut parts).await? {
                    SubOutcome::Completed => sent += 1,
                    SubOutcome::Warning => {
                        sent += 1;
                        warnings += 1;
                    }
                    SubOutcome::Failed(why) => refused.push(why),
                }
            }
        }
        if let Err(error) = scu.release().await {
            tracing::debug!(%error, "releasing the association failed; the batch was sent");
        }
        if delivered != batch.len() {
            return Err(unexpected(
                "every instance of the batch from the source",
                format!(
                    "{delivered} of {} (study {})",
                    batch.len(),
                    self.state.study
                ),
            ));
        }
        if !refused.is_empty() {
            return Ok(StepOutcome::Failure {
                code: 9, // Orthanc's NetworkProtocol
                description: format!(
                    "{} refused {} of {} instances: {}",
                    self.state.destination,
                    refused.len(),
                    batch.len(),
                    refused.join("; ")
                ),
            });
        }
        self.state.cursor = end;
        self.state.sent += sent;
        self.state.warnings += warnings;
        Ok(if end >= instances.len() {
            StepOutcome::Success
        } else {
            StepOutcome::Continue
        })
    }
}

/// The source's answer was not what a transfer needs.
fn unexpected(expected: &'static str, found: String) -> Error {
    Error::Client(dicomweb_client::Error::Protocol(
        dicomweb_core::Error::UnexpectedResponse { expected, found },
    ))
}

/// Whether a step's error may go away by itself: the device or the source unreachable or
/// busy, an association that broke; not a TLS certificate refused, which waits for someone
/// to fix the settings.
fn is_transient(error: &Error) -> bool {
    match error {
        Error::Client(error) => error.is_transient(),
        Error::Association(_) if error.is_certificate_refusal() => false,
        Error::Association(_) | Error::Io { .. } | Error::Peer(_) => true,
        _ => false,
    }
}

impl Job for DimseTransferJob {
    fn type_name(&self) -> &str {
        DIMSE_TRANSFER_JOB
    }

    fn step<'a>(&'a mut self, ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            match self.run_step(ctx).await {
                Ok(outcome) => {
                    self.state.retries = 0;
                    outcome
                }
                Err(error) if is_transient(&error) && self.state.retries < MAX_RETRIES => {
                    self.state.retries += 1;
                    let delay = Duration::from_secs(1 << self.state.retries.min(6));
                    tracing::warn!(%error, ?delay, "transfer to a device: retrying");
                    StepOutcome::RetryAfter(delay)
                }
                Err(error) => StepOutcome::Failure {
                    code: 9,
                    description: error.to_string(),
                },
            }
        })
    }

    fn progress(&self) -> u8 {
        match &self.state.instances {
            None => 0,
            Some(list) if list.is_empty() => 100,
            Some(list) => (self.state.cursor * 100 / list.len()).min(100) as u8,
        }
    }

    fn content(&self) -> serde_json::Value {
        let listed = self.state.instances.as_ref().map(Vec::len);
        let mut content = serde_json::json!({
            "Source": self.state.source,
            "Destination": self.state.destination,
            "StudyInstanceUID": self.state.study,
            "Instances": listed,
            "Moved": self.state.cursor,
            "Sent": self.state.sent,
            "Warnings": self.state.warnings,
            "BatchSize": self.state.batch,
        });
        if let (Some(scope), Some(map)) = (&self.state.scope, content.as_object_mut()) {
            map.insert(
                "Scope".into(),
                serde_json::to_value(scope).unwrap_or_default(),
            );
        }
        content
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.state)
    }

    fn reset(&mut self) {
        self.state.instances = None;
        self.state.cursor = 0;
        self.state.sent = 0;
        self.state.warnings = 0;
        self.state.retries = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimse_urls_name_an_ae_title_a_host_and_a_port() {
        let device = parse_dimse_url("dimse://STORESCP@127.0.0.1:11112").unwrap();
        assert_eq!(
            device.unwrap(),
            Modality::new("STORESCP", "127.0.0.1", 11112)
        );
        assert!(parse_dimse_url("http://x/dicom-web").is_none());
        let tls = parse_dimse_url("dimses://STORESCP@pacs.example:2762")
            .unwrap()
            .unwrap();
        assert!(tls.tls);
        assert_eq!((tls.aet.as_str(), tls.port), ("STORESCP", 2762));
        assert!(is_dimse_url("dimses://A@h:1") && is_dimse_url("dimse://A@h:1"));
        assert!(!is_dimse_url("https://h/dicom-web"));
        for bad in [
            "dimse://127.0.0.1:104",
            "dimse://@h:104",
            "dimse://A@h",
            "dimse://A@h:0",
            "dimse://A@:104",
            "dimse://A@h:port",
            "dimse://SEVENTEEN_LETTERS@h:104",
            "dimses://A@h",
        ] {
            let error = parse_dimse_url(bad).unwrap().unwrap_err().to_string();
            assert!(
                error.contains(bad) && error.contains("dimse://AET@host:port"),
                "{error}"
            );
        }
    }
}
