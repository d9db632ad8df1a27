//! [`TransferJob`]: a study (or a [`Scope`] of it) copied from one DICOMweb server to another,
//! a batch per step.

use dicomweb_core::Uid;
use dicomweb_core::request::{RetrieveInstances, Search, Target};
use dicomweb_core::tags::SERIES_INSTANCE_UID;
use orthanc_jobs::{Job, StepContext, StepFuture, StepOutcome};
use serde::{Deserialize, Serialize};

use super::Scope;
use super::batches::Batches;
use super::relay::InFlight;
use super::{
    Connect, SOP_INSTANCE_UID, TRANSFER_JOB, check_no_credentials, not_stored, present_at,
    store_failure,
};
use crate::{Client, Error, StoreOptions};

/// The most instances one study may list (a guard against a runaway server).
const MAX_INSTANCES: usize = 1_000_000;

/// One instance to move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct InstanceRef {
    series: String,
    sop: String,
}

/// The saved state of a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    source: String,
    destination: String,
    study: String,
    /// Only this part of the study (absent: the whole study; absent too in jobs saved
    /// before scopes existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<Scope>,
    /// The instances to move at the source, once listed.
    instances: Option<Vec<InstanceRef>>,
    #[serde(flatten)]
    batches: Batches,
}

/// Copies a study from one DICOMweb server to another (see [the module](super)).
pub struct TransferJob {
    state: State,
    connect: Connect,
    clients: Option<(Client, Client)>,
    /// The request storing the batch that starts at this index, started once the batch
    /// before it was sent (not saved).
    ahead: Option<(usize, InFlight)>,
}

impl TransferJob {
    /// A transfer of `study` from `source` to `destination` (DICOMweb roots), in batches of
    /// [`DEFAULT_BATCH`](super::DEFAULT_BATCH) instances.
    pub fn new(
        connect: Connect,
        source: impl Into<String>,
        destination: impl Into<String>,
        study: Uid,
    ) -> Result<TransferJob, Error> {
        let source = source.into();
        let destination = destination.into();
        check_no_credentials(&source)?;
        check_no_credentials(&destination)?;
        let clients = Some((connect(&source)?, connect(&destination)?));
        Ok(TransferJob {
            state: State {
                source,
                destination,
                study: study.into_string(),
                scope: None,
                instances: None,
                batches: Batches::new(),
            },
            connect,
            clients,
            ahead: None,
        })
    }

    /// Moves `instances` instances per step (at least one).
    pub fn batch(mut self, instances: usize) -> TransferJob {
        self.state.batches.set_batch(instances);
        self
    }

    /// Copies only `scope` of the study (some series, or one instance).
    pub fn scope(mut self, scope: Scope) -> TransferJob {
        self.state.scope = Some(scope);
        self
    }

    /// A job from its saved state (see [`register`](super::register)).
    pub fn restore(
        connect: Connect,
        saved: serde_json::Value,
    ) -> Result<TransferJob, serde_json::Error> {
        let mut state: State = serde_json::from_value(saved)?;
        state.batches = state.batches.restored();
        Ok(TransferJob {
            state,
            connect,
            clients: None,
            ahead: None,
        })
    }

    /// The study being moved.
    pub fn study(&self) -> &str {
        &self.state.study
    }

    fn clients(&mut self) -> Result<(Client, Client), Error> {
        if let Some(clients) = &self.clients {
            return Ok(clients.clone());
        }
        let clients = (
            (self.connect)(&self.state.source)?,
            (self.connect)(&self.state.destination)?,
        );
        self.clients = Some(clients.clone());
        Ok(clients)
    }

    /// What the job copies, in words (for messages).
    fn describe(&self) -> String {
        match &self.state.scope {
            None => format!("study {}", self.state.study),
            Some(Scope::Series(series)) => {
                format!("series {} of study {}", series.join(", "), self.state.study)
            }
            Some(Scope::Instance { sop, .. }) => {
                format!("instance {sop} of study {}", self.state.study)
            }
        }
    }

    /// The instances to move: the study's, or its scope's (QIDO-RS, every page).
    async fn list_instances(
        &self,
        source: &Client,
        study: &Uid,
    ) -> Result<Vec<InstanceRef>, Error> {
        let searches = match &self.state.scope {
            None => vec![Search::instances_of_study(study.clone())],
            Some(Scope::Instance { series, sop }) => {
                return Ok(vec![InstanceRef {
                    series: series.clone(),
                    sop: sop.clone(),
                }]);
            }
            Some(scope) => scope.searches(study)?,
        };
        let mut list = Vec::new();
        for search in searches {
            let search = search
                .include("SeriesInstanceUID")?
                .include("SOPInstanceUID")?
                .limit(1000);
            let found = source.search_all(search, MAX_INSTANCES).await?;
            for data_set in &found.data_sets {
                let (Some(series), Some(sop)) = (
                    data_set.string(SERIES_INSTANCE_UID),
                    data_set.string(SOP_INSTANCE_UID),
                ) else {
                    return Err(Error::Protocol(dicomweb_core::Error::UnexpectedResponse {
                        expected: "SeriesInstanceUID and SOPInstanceUID in every instance found",
                        found: format!("an instance without them in {}", self.describe()),
                    }));
                };
                list.push(InstanceRef {
                    series: series.to_owned(),
                    sop: sop.to_owned(),
                });
            }
        }
        Ok(list)
    }

    async fn run_step(&mut self, ctx: &StepContext) -> Result<StepOutcome, Error> {
        let (source, destination) = self.clients()?;
        let study = Uid::new(self.state.study.clone())?;
        let Some(instances) = &self.state.instances else {
            let list = self.list_instances(&source, &study).await?;
            if list.is_empty() {
                return Ok(StepOutcome::Failure {
                    code: 13, // Orthanc's UnknownResource
                    description: format!(
                        "{} has no instances at {}",
                        self.describe(),
                        self.state.source
                    ),
                });
            }
            self.state.instances = Some(list);
            return Ok(StepOutcome::Continue);
        };
        let next = self.state.batches.next(instances.len());
        let (start, end) = (next.start, next.end);
        let batch: Vec<InstanceRef> = instances[next].to_vec();
        let total = instances.len();
        let uids = batch
            .iter()
            .map(|i| Uid::new(i.sop.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let present = if self.state.batches.must_verify() {
            present_at(&destination, &uids).await?
        } else {
            Default::default()
        };
        let skipped = uids
            .iter()
            .filter(|uid| present.contains(uid.as_str()))
            .count();
        let to_send: Vec<(&InstanceRef, &Uid)> = batch
            .iter()
            .zip(&uids)
            .filter(|(_, uid)| !present.contains(uid.as_str()))
            .collect();
        if ctx.is_cancelled() {
            return Ok(StepOutcome::Continue);
        }
        // Counted into the state only when the step succeeds: a step that fails is run again.
        let (mut sent, mut bytes) = (0, 0);
        if !to_send.is_empty() && destination.chunked_transfers() {
            let listed = match &self.state.scope {
                None => Listed::Study,
                Some(Scope::Series(_)) => Listed::Series,
                Some(Scope::Instance { .. }) => Listed::Instances,
            };
            let sending: Vec<Uid> = to_send.iter().map(|(_, uid)| (*uid).clone()).collect();
            let count = sending.len();
            let current = match self.ahead.take() {
                Some((at, ahead)) if at == start && ahead.batch() == sending.as_slice() => ahead,
                _ => {
                    let targets = requests(&study, listed, instances, &to_send)?;
                    InFlight::start(&source, &destination, targets, sending)?
                }
            };
            // The batch after this one starts once this one's body is out (it is never one
            // that the destination must be asked about first).
            let following = self.state.batches.following(total);
            let next = following.clone().map(|range| {
                let (source, destination, study) = (&source, &destination, &study);
                move || {
                    let uids = instances[range.clone()]
                        .iter()
                        .map(|i| Uid::new(i.sop.clone()))
                        .collect::<Result<Vec<_>, _>>()?;
                    let all: Vec<(&InstanceRef, &Uid)> =
                        instances[range].iter().zip(&uids).collect();
                    let targets = requests(study, listed, instances, &all)?;
                    InFlight::start(source, destination, targets, uids)
                }
            });
            let relayed = current.finish(next).await?;
            self.ahead = following
                .zip(relayed.next)
                .map(|(range, ahead)| (range.start, ahead));
            let reasons: Vec<String> = relayed
                .outcomes
                .iter()
                .filter(|(_, outcome)| !outcome.is_stored())
                .map(|(uid, outcome)| format!("{uid}: {outcome}"))
                .collect();
            if !reasons.is_empty() {
                return Ok(not_stored(&reasons, count, &self.state.destination));
            }
            sent = count as u64;
            bytes = relayed.bytes;
        } else if !to_send.is_empty() {
            // A destination that takes no chunked request needs each body's length before
            // it is sent: the instances go through a temporary folder.
            let temp = tempfile::tempdir().map_err(|source| Error::Io {
                doing: "create a temporary folder in",
                path: std::env::temp_dir(),
                source,
            })?;
            let mut files = Vec::new();
            for (instance, uid) in &to_send {
                if ctx.is_cancelled() {
                    return Ok(StepOutcome::Continue);
                }
                let target = Target::instance(
                    study.clone(),
                    Uid::new(instance.series.clone())?,
                    (*uid).clone(),
                );
                let got = source
                    .retrieve_instances_to_dir(&RetrieveInstances::new(target), temp.path())
                    .await?;
                files.extend(got.files.into_iter().map(|f| f.path));
            }
            let options = StoreOptions::default()
                .batch_instances(files.len())
                .batch_bytes(u64::MAX)
                .concurrency(1);
            let summary = destination.store_files(&files, &options).await?;
            if !summary.is_success() {
                return Ok(store_failure(
                    &summary,
                    files.len(),
                    &self.state.destination,
                ));
            }
            sent = summary.stored.len() as u64;
            bytes = summary.bytes;
        }
        self.state.batches.done(end, sent, skipped as u64, bytes);
        Ok(if end >= total {
            StepOutcome::Success
        } else {
            StepOutcome::Continue
        })
    }
}

/// What the job's list of instances holds in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listed {
    /// Every instance of the study.
    Study,
    /// Every instance of each series it names.
    Series,
    /// Only some instances.
    Instances,
}

/// The WADO-RS requests that return exactly the instances `to_send` (in the batch's order):
/// the whole study when they are all the instances of a list that holds the whole study,
/// each series of which they are all the listed instances when the list holds whole series,
/// and one request per instance for the rest.
fn requests(
    study: &Uid,
    listed: Listed,
    list: &[InstanceRef],
    to_send: &[(&InstanceRef, &Uid)],
) -> Result<Vec<Target>, Error> {
    if listed == Listed::Study && to_send.len() == list.len() {
        return Ok(vec![Target::study(study.clone())]);
    }
    let count_in = |series: &str, list: &mut dyn Iterator<Item = &InstanceRef>| {
        list.filter(|i| i.series == series).count()
    };
    let mut targets = Vec::new();
    let mut whole_series: Vec<&str> = Vec::new();
    for (instance, uid) in to_send {
        let series = instance.series.as_str();
        if whole_series.contains(&series) {
            continue;
        }
        let sending = count_in(series, &mut to_send.iter().map(|(i, _)| *i));
        if listed != Listed::Instances && sending == count_in(series, &mut list.iter()) {
            whole_series.push(series);
            targets.push(Target::series(study.clone(), Uid::new(series)?));
        } else {
            targets.push(Target::instance(
                study.clone(),
                Uid::new(series)?,
                (*uid).clone(),
            ));
        }
    }
    Ok(targets)
}

impl Job for TransferJob {
    fn type_name(&self) -> &str {
        TRANSFER_JOB
    }

    fn step<'a>(&'a mut self, ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            let result = self.run_step(ctx).await;
            self.state.batches.outcome(result)
        })
    }

    fn progress(&self) -> u8 {
        match &self.state.instances {
            None => 0,
            Some(list) => self.state.batches.percent(list.len()),
        }
    }

    fn content(&self) -> serde_json::Value {
        let mut content = serde_json::Map::new();
        content.insert("Source".into(), self.state.source.clone().into());
        content.insert("Destination".into(), self.state.destination.clone().into());
        content.insert("StudyInstanceUID".into(), self.state.study.clone().into());
        if let Some(scope) = &self.state.scope {
            content.insert("Scope".into(), scope.content());
        }
        let listed = self.state.instances.as_ref().map(Vec::len);
        content.insert("Instances".into(), listed.into());
        content.insert("Moved".into(), self.state.batches.cursor.into());
        self.state.batches.content(&mut content);
        serde_json::Value::Object(content)
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.state)
    }

    fn reset(&mut self) {
        self.ahead = None;
        self.state.instances = None;
        self.state.batches.restart();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_saved_before_scopes_loads_as_a_whole_study() {
        let saved = serde_json::json!({
            "source": "http://a/dicom-web",
            "destination": "b",
            "study": "1.2.3",
            "instances": null,
            "batch": 16, "cursor": 0, "sent": 0, "skipped": 0, "bytes": 0, "retries": 0
        });
        let state: State = serde_json::from_value(saved).unwrap();
        assert_eq!(state.scope, None);
        let written = serde_json::to_value(&state).unwrap();
        assert!(written.get("scope").is_none(), "{written}");

        let mut scoped = state.clone();
        scoped.scope = Some(Scope::series(vec!["1.2.3.4".parse().unwrap()]).unwrap());
        let again: State = serde_json::from_value(serde_json::to_value(&scoped).unwrap()).unwrap();
        assert_eq!(again, scoped);
    }

    fn refs(list: &[(&str, &str)]) -> Vec<InstanceRef> {
        list.iter()
            .map(|(series, sop)| InstanceRef {
                series: (*series).to_owned(),
                sop: (*sop).to_owned(),
            })
            .collect()
    }

    /// The requests for the instances of `list` at `sending` (positions).
    fn planned(listed: Listed, list: &[InstanceRef], sending: &[usize]) -> Vec<Target> {
        let uids: Vec<Uid> = list.iter().map(|i| uid(&i.sop)).collect();
        let to_send: Vec<(&InstanceRef, &Uid)> =
            sending.iter().map(|&i| (&list[i], &uids[i])).collect();
        requests(&uid("1.2"), listed, list, &to_send).unwrap()
    }

    fn uid(text: &str) -> Uid {
        Uid::new(text).unwrap()
    }

    #[test]
    fn a_batch_is_asked_for_by_study_whole_series_or_instance() {
        let list = refs(&[
            ("1.2.1", "1.2.1.1"),
            ("1.2.1", "1.2.1.2"),
            ("1.2.2", "1.2.2.1"),
        ]);
        let (study, one, two) = (uid("1.2"), uid("1.2.1"), uid("1.2.2"));
        assert_eq!(
            planned(Listed::Study, &list, &[0, 1, 2]),
            [Target::study(study.clone())]
        );
        assert_eq!(
            planned(Listed::Series, &list, &[0, 1, 2]),
            [
                Target::series(study.clone(), one.clone()),
                Target::series(study.clone(), two.clone())
            ]
        );
        // Half of series 1.2.1: an instance request; all of 1.2.2: a series request.
        assert_eq!(
            planned(Listed::Study, &list, &[1, 2]),
            [
                Target::instance(study.clone(), one, uid("1.2.1.2")),
                Target::series(study.clone(), two.clone())
            ]
        );
        // A list of single instances never stands for a whole series.
        assert_eq!(
            planned(Listed::Instances, &list[2..], &[0]),
            [Target::instance(study, two, uid("1.2.2.1"))]
        );
    }
}
