//! Preparing instances to send: files found in folders, each instance's SOP Instance UID read
//! from its file meta group (a few hundred bytes, never the whole file), and instances grouped
//! into batches by count and size.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use dicomweb_core::Uid;
use dicomweb_core::file_meta::FileMeta;
use tokio::io::AsyncReadExt;

use super::{InstanceSource, StoreOptions};
use crate::Error;

/// How much of a file is read to find its meta group.
const META_PREFIX: usize = 64 * 1024;

/// An instance ready to send: where it is, its UID and size.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub(crate) payload: Payload,
    pub(crate) uid: Uid,
    pub(crate) length: u64,
}

/// Where an instance's bytes are: a file read when sent, or bytes held in memory (with the
/// instance's position in the caller's list).
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    File(PathBuf),
    Memory { index: usize, bytes: Bytes },
}

impl Payload {
    /// How the results name the instance.
    pub(crate) fn into_source(self) -> InstanceSource {
        match self {
            Payload::File(path) => InstanceSource::File(path),
            Payload::Memory { index, .. } => InstanceSource::Memory(index),
        }
    }
}

/// The regular files in `paths`, folders walked recursively (symbolic links followed), in a
/// stable order: each folder's entries sorted by name.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for path in paths {
        walk(path, &mut out)?;
    }
    Ok(out)
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io_error = |source| Error::Io {
        doing: "read",
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if metadata.is_dir() {
        let mut entries = std::fs::read_dir(path)
            .map_err(io_error)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_error)?;
        entries.sort();
        for entry in entries {
            walk(&entry, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Reads a file's size and its SOP Instance UID from its meta group.
pub(crate) async fn prepare(path: &Path) -> Result<Prepared, String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("cannot open the file: {e}"))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| format!("cannot read the file's size: {e}"))?
        .len();
    let mut prefix = Vec::with_capacity(4096);
    loop {
        let read = (&mut file)
            .take((META_PREFIX - prefix.len()) as u64)
            .read_buf(&mut prefix)
            .await
            .map_err(|e| format!("cannot read the file: {e}"))?;
        match FileMeta::read(&prefix) {
            Err(e) => return Err(e.to_string()),
            Ok(Some(meta)) => {
                let text = meta.sop_instance_uid.unwrap_or_default();
                let uid = Uid::new(text)
                    .map_err(|e| format!("its Media Storage SOP Instance UID: {e}"))?;
                return Ok(Prepared {
                    payload: Payload::File(path.to_path_buf()),
                    uid,
                    length,
                });
            }
            Ok(None) if read == 0 || prefix.len() >= META_PREFIX => {
                return Err("not a DICOM Part 10 file: no complete file meta group".to_owned());
            }
            Ok(None) => {}
        }
    }
}

/// Groups files by the batch limits, keeping their order.
pub(super) fn batches(files: Vec<Prepared>, options: &StoreOptions) -> Vec<Vec<Prepared>> {
    let mut out: Vec<Vec<Prepared>> = Vec::new();
    let mut bytes = 0u64;
    for file in files {
        let fits = out.last().is_some_and(|batch| {
            batch.len() < options.batch_instances.max(1)
                && bytes + file.length <= options.batch_bytes
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += file.length;
        if let Some(batch) = out.last_mut() {
            batch.push(file);
        }
    }
    out
}

/// An instance held in memory, its UID read from its meta group.
pub(crate) fn prepare_bytes(index: usize, bytes: Bytes) -> Result<Prepared, String> {
    let uid = match FileMeta::read(&bytes) {
        Ok(Some(meta)) => Uid::new(meta.sop_instance_uid.unwrap_or_default())
            .map_err(|e| format!("its Media Storage SOP Instance UID: {e}"))?,
        Ok(None) => {
            return Err("not a DICOM Part 10 file: no complete file meta group".to_owned());
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(Prepared {
        length: bytes.len() as u64,
        payload: Payload::Memory { index, bytes },
        uid,
    })
}
