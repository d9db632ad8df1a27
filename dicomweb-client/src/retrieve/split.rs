//! How a retrieve into a folder is split over several requests at once: a study a series a
//! request, one big series in ranges of its instances. The lists come from QIDO-RS; a server
//! that cannot give them gets the one request asked for.

use std::path::Path;
use std::time::{Duration, Instant};

use dicomweb_core::request::{RetrieveInstances, Search, Target};
use dicomweb_core::tags::{SERIES_INSTANCE_UID, SOP_INSTANCE_UID};
use dicomweb_core::{Tag, Uid, dictionary};

use super::RetrieveSummary;
use crate::{Client, Error};

/// Series listed at most, when a study is split by series.
const MAX_SERIES: usize = 100_000;

/// Instances listed at most, when a series is split in ranges.
const MAX_INSTANCES: usize = 100_000;

/// Below this size, a series' first instance says its instances are not worth a request each,
/// whatever the timings.
pub(super) const RANGE_MIN_INSTANCE_BYTES: u64 = 256 * 1024;

/// Whether the rest of a series is worth a request an instance, judged by its first instance:
/// `bytes` read in `took` in all, of which `waited` went by before the reply's head came. A
/// request's own cost (the round trip, the server finding one instance: Orthanc's DICOMweb
/// plugin takes some 7 ms, about what one stream moves of 7 MiB on loopback) must be small
/// against moving the instance, or one request for the whole series is faster; so the
/// transfer must have taken at least twice the wait.
pub(super) fn worth_ranges(bytes: u64, waited: Duration, took: Duration) -> bool {
    bytes >= RANGE_MIN_INSTANCE_BYTES && took.saturating_sub(waited) >= waited * 2
}

impl Client {
    /// Retrieves `request` into `dir` with up to `concurrency` requests at once.
    pub(super) async fn split_to_dir(
        &self,
        request: &RetrieveInstances,
        dir: &Path,
        concurrency: usize,
    ) -> Result<RetrieveSummary, Error> {
        let whole = || self.requests_to_dir(std::slice::from_ref(request), dir, None);
        match request.target() {
            Target::Study(study) => {
                let search = Search::series_of_study(study.clone());
                let Some(series) = self
                    .list_uids(search, SERIES_INSTANCE_UID, MAX_SERIES)
                    .await
                else {
                    return whole().await;
                };
                match series.as_slice() {
                    [] => whole().await,
                    [one] => {
                        self.series_to_dir(request, study, one, dir, concurrency)
                            .await
                    }
                    _ => {
                        let streams = series
                            .into_iter()
                            .map(|uid| {
                                vec![request.with_target(Target::series(study.clone(), uid))]
                            })
                            .collect();
                        self.streams_to_dir(streams, dir, concurrency).await
                    }
                }
            }
            Target::Series(study, series) => {
                self.series_to_dir(request, study, series, dir, concurrency)
                    .await
            }
            Target::Instance(..) => whole().await,
        }
    }

    /// One series (`whole` asks for it, or for its study of this one series): its first
    /// instance alone, then the others in ranges an instance a request when that one says
    /// they are worth it ([`worth_ranges`]), or `whole` when it does not.
    async fn series_to_dir(
        &self,
        whole: &RetrieveInstances,
        study: &Uid,
        series: &Uid,
        dir: &Path,
        concurrency: usize,
    ) -> Result<RetrieveSummary, Error> {
        let search = Search::instances_of_series(study.clone(), series.clone());
        let listed = self
            .list_uids(search, SOP_INSTANCE_UID, MAX_INSTANCES)
            .await;
        let Some([first, rest @ ..]) = listed.as_deref() else {
            return self
                .requests_to_dir(std::slice::from_ref(whole), dir, None)
                .await;
        };
        if rest.is_empty() {
            return self
                .requests_to_dir(std::slice::from_ref(whole), dir, None)
                .await;
        }
        let instance = |uid: &Uid| {
            whole.with_target(Target::instance(study.clone(), series.clone(), uid.clone()))
        };
        let started = Instant::now();
        let (mut summary, waited) = self
            .requests_to_dir_timed(&[instance(first)], dir, None)
            .await?;
        let took = started.elapsed();
        if !worth_ranges(summary.bytes, waited, took) {
            tracing::debug!(
                bytes = summary.bytes,
                ?waited,
                ?took,
                "the first instance came quickly: one request for the series"
            );
            let others = self
                .requests_to_dir(std::slice::from_ref(whole), dir, Some(first))
                .await?;
            summary.absorb(others);
            return Ok(summary);
        }
        let streams = ranges(rest, concurrency)
            .into_iter()
            .map(|range| range.iter().map(instance).collect())
            .collect();
        summary.absorb(self.streams_to_dir(streams, dir, concurrency).await?);
        Ok(summary)
    }

    /// The UIDs under `tag` of every match of `search`, or `None` (logged) when the server
    /// cannot list them or a match lacks a valid one.
    async fn list_uids(&self, search: Search, tag: Tag, max: usize) -> Option<Vec<Uid>> {
        // The keyword where the dictionary has it (what servers are sure to know), else the tag.
        let field = dictionary::keyword(tag).map_or_else(|| tag.to_string(), str::to_owned);
        let listed = match search.include(&field) {
            Ok(search) => self.search_all(search.limit(1000), max).await,
            Err(error) => Err(Error::Protocol(error)),
        };
        match listed {
            Ok(found) => found
                .data_sets
                .iter()
                .map(|data_set| data_set.string(tag).and_then(|uid| Uid::new(uid).ok()))
                .collect(),
            Err(error) => {
                tracing::debug!(%error, "listing failed; one request");
                None
            }
        }
    }
}

/// `items` in at most `parts` contiguous ranges of sizes that differ by one at most, in order.
pub(super) fn ranges<T: Clone>(items: &[T], parts: usize) -> Vec<Vec<T>> {
    let parts = parts.clamp(1, items.len().max(1));
    let (size, longer) = (items.len() / parts, items.len() % parts);
    let mut rest = items;
    (0..parts)
        .map(|part| {
            let (range, after) = rest.split_at(size + usize::from(part < longer));
            rest = after;
            range.to_vec()
        })
        .filter(|range| !range.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_worth_it_for_large_instances_whose_transfer_outlasts_the_wait() {
        let ms = Duration::from_millis;
        // Orthanc on loopback: 1 MiB in 8 ms, 7 of them waiting; 24 MiB in 40 ms.
        assert!(!worth_ranges(1 << 20, ms(7), ms(8)));
        assert!(worth_ranges(24 << 20, ms(7), ms(40)));
        // Far away: 10 MiB in 300 ms after 50 ms; small instances never.
        assert!(worth_ranges(10 << 20, ms(50), ms(300)));
        assert!(!worth_ranges(100 << 10, ms(1), ms(100)));
        assert!(!worth_ranges(1 << 20, ms(50), ms(140)));
    }

    #[test]
    fn ranges_cover_every_item_once_in_order_and_differ_by_one_at_most() {
        for len in 0..20 {
            let items: Vec<usize> = (0..len).collect();
            for parts in 0..6 {
                let split = ranges(&items, parts);
                assert_eq!(split.concat(), items, "{len} in {parts}");
                assert!(split.len() <= parts.max(1), "{len} in {parts}: {split:?}");
                assert!(split.iter().all(|r| !r.is_empty()));
                let sizes: Vec<usize> = split.iter().map(Vec::len).collect();
                let (min, max) = (sizes.iter().min(), sizes.iter().max());
                if let (Some(min), Some(max)) = (min, max) {
                    assert!(max - min <= 1, "{len} in {parts}: {sizes:?}");
                }
                if len >= parts && parts > 0 {
                    assert_eq!(split.len(), parts);
                }
            }
        }
    }
}
