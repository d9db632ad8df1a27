//! The spool: each received instance as a Part 10 file in `<state>/spool/`, written as its
//! fragments arrive, and made durable (file and folder synced) before it counts as received.
//!
//! An instance being received is `<name>.part`; [`Incoming::commit`] syncs it, renames it to
//! `<name>.dcm` and syncs the folder. An [`Incoming`] dropped before its commit (an association
//! aborted mid-instance) removes its file, and [`Spool::open`] removes any `.part` file a crash
//! left, so only whole instances that got a success response are ever uploaded. Instances the
//! server refused for good go to `<state>/failed/`, each beside a JSON record of why.

use std::path::{Path, PathBuf};

use dicom_object::meta::FileMetaTableBuilder;
use tokio::io::AsyncWriteExt;

use crate::Error;

/// A spooled instance's file name extension.
const SPOOLED: &str = "dcm";
/// An instance being received.
const RECEIVING: &str = "part";

/// The spool and failed folders under a state folder.
#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
    failed: PathBuf,
}

/// What the meta group of a received instance says.
#[derive(Clone, Debug)]
pub struct InstanceMeta {
    /// Affected SOP Class UID of the C-STORE.
    pub sop_class_uid: String,
    /// Affected SOP Instance UID of the C-STORE.
    pub sop_instance_uid: String,
    /// The presentation context's transfer syntax.
    pub transfer_syntax_uid: String,
    /// The sender's AE title.
    pub source_aet: String,
}

/// A spooled instance: its file and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spooled {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

impl Spool {
    /// Opens (creating) `<state>/spool` and `<state>/failed`, removing what a crash left of
    /// instances being received.
    pub fn open(state: &Path) -> Result<Spool, Error> {
        let dir = state.join("spool");
        let failed = state.join("failed");
        for folder in [&dir, &failed] {
            std::fs::create_dir_all(folder)
                .map_err(|e| Error::io("cannot create the folder", folder, e))?;
        }
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("cannot list", &dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == RECEIVING) {
                tracing::info!(path = %path.display(), "removing an instance whose reception did not finish");
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(Spool { dir, failed })
    }

    /// The spool folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of refused instances.
    pub fn failed_dir(&self) -> &Path {
        &self.failed
    }

    /// The spooled instances, oldest name first.
    pub fn pending(&self) -> Result<Vec<Spooled>, Error> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| Error::io("cannot list", &self.dir, e))?;
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == SPOOLED) {
                let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
                found.push(Spooled { path, bytes });
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// Starts a new instance: a `.part` file holding the preamble and the meta group.
    pub async fn create(&self, meta: &InstanceMeta) -> Result<Incoming, Error> {
        let head = part10_head(meta)?;
        // Names sort by arrival (nanoseconds since the epoch), then a random part.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("{now:024}-{:016x}", rand::random::<u64>());
        let part = self.dir.join(format!("{name}.{RECEIVING}"));
        let done = self.dir.join(format!("{name}.{SPOOLED}"));
        let mut file = tokio::fs::File::create(&part)
            .await
            .map_err(|e| Error::io("cannot create the spool file", &part, e))?;
        let mut incoming = Incoming {
            file: None,
            part,
            done,
            bytes: 0,
        };
        file.write_all(&head)
            .await
            .map_err(|e| Error::io("cannot write the spool file", &incoming.part, e))?;
        incoming.bytes = head.len() as u64;
        incoming.file = Some(file);
        Ok(incoming)
    }

    /// Moves a refused instance to the failed folder, beside `<name>.json` holding `record`.
    pub async fn fail(&self, path: &Path, record: &serde_json::Value) -> Result<PathBuf, Error> {
        let name = path.file_name().unwrap_or_default();
        let target = self.failed.join(name);
        let json = target.with_extension("json");
        let text = serde_json::to_vec_pretty(record).unwrap_or_default();
        tokio::fs::write(&json, text)
            .await
            .map_err(|e| Error::io("cannot write the failure record", &json, e))?;
        tokio::fs::rename(path, &target)
            .await
            .map_err(|e| Error::io("cannot move the refused instance", path, e))?;
        sync_dir(&self.failed).await?;
        Ok(target)
    }
}

/// An instance being received. Dropped without [`commit`](Incoming::commit), its file is
/// removed.
#[derive(Debug)]
pub struct Incoming {
    file: Option<tokio::fs::File>,
    part: PathBuf,
    done: PathBuf,
    bytes: u64,
}

impl Incoming {
    /// Appends a fragment of the data set.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        let Some(file) = self.file.as_mut() else {
            return Err(Error::Config("the spool file is already closed".into()));
        };
        file.write_all(data)
            .await
            .map_err(|e| Error::io("cannot write the spool file", &self.part, e))?;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Bytes written so far, meta group included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Syncs the file, gives it its final name and syncs the folder: after this, the instance
    /// survives a crash or power loss.
    pub async fn commit(mut self) -> Result<Spooled, Error> {
        let Some(mut file) = self.file.take() else {
            return Err(Error::Config("the spool file is already closed".into()));
        };
        file.flush()
            .await
            .map_err(|e| Error::io("cannot write the spool file", &self.part, e))?;
        file.sync_all()
            .await
            .map_err(|e| Error::io("cannot sync the spool file", &self.part, e))?;
        drop(file);
        tokio::fs::rename(&self.part, &self.done)
            .await
            .map_err(|e| Error::io("cannot rename the spool file", &self.part, e))?;
        let dir = self.done.parent().map(Path::to_owned).unwrap_or_default();
        sync_dir(&dir).await?;
        let spooled = Spooled {
            path: self.done.clone(),
            bytes: self.bytes,
        };
        // Nothing left to remove on drop.
        self.part = PathBuf::new();
        Ok(spooled)
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.part.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

/// Syncs a folder, so a rename or a new file in it survives a crash.
pub(crate) async fn sync_dir(dir: &Path) -> Result<(), Error> {
    let owned = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(&owned)?.sync_all())
        .await
        .map_err(|e| Error::io("cannot sync the folder", dir, std::io::Error::other(e)))?
        .map_err(|e| Error::io("cannot sync the folder", dir, e))
}

/// The 128-byte preamble, `DICM` and the meta group (written by dicom-rs's meta table, which
/// leaves the magic code to its caller).
pub(crate) fn part10_head(meta: &InstanceMeta) -> Result<Vec<u8>, Error> {
    let table = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(meta.sop_class_uid.as_str())
        .media_storage_sop_instance_uid(meta.sop_instance_uid.as_str())
        .transfer_syntax(meta.transfer_syntax_uid.as_str())
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION_NAME)
        .source_application_entity_title(meta.source_aet.trim())
        .build()
        .map_err(|e| Error::command("a C-STORE whose UIDs make a meta group", e.to_string()))?;
    let mut head = vec![0u8; 128];
    head.extend_from_slice(b"DICM");
    table
        .write(&mut head)
        .map_err(|e| Error::command("a C-STORE whose UIDs make a meta group", e.to_string()))?;
    Ok(head)
}

/// The adapter's Implementation Class UID (a UUID-derived `2.25` UID, fixed for this crate).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.178106470735591219736330214618423786301";
/// The adapter's Implementation Version Name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &str = "DICOMWEB-DIMSE";

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> InstanceMeta {
        InstanceMeta {
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.7".into(),
            sop_instance_uid: "1.2.3.4.5".into(),
            transfer_syntax_uid: "1.2.840.10008.1.2.4.50".into(),
            source_aet: "MODALITY".into(),
        }
    }

    #[tokio::test]
    async fn a_committed_instance_has_a_correct_meta_group() {
        let state = tempfile::tempdir().unwrap();
        let spool = Spool::open(state.path()).unwrap();
        let mut incoming = spool.create(&meta()).await.unwrap();
        incoming.write(b"\x08\x00\x16\x00").await.unwrap();
        let spooled = incoming.commit().await.unwrap();
        let bytes = std::fs::read(&spooled.path).unwrap();
        assert_eq!(spooled.bytes, bytes.len() as u64);
        assert_eq!(&bytes[128..132], b"DICM");
        assert!(bytes.ends_with(b"\x08\x00\x16\x00"));
        let read = dicomweb_core::file_meta::FileMeta::read(&bytes)
            .unwrap()
            .unwrap();
        assert_eq!(read.sop_instance_uid.as_deref(), Some("1.2.3.4.5"));
        assert_eq!(
            read.sop_class_uid.as_deref(),
            Some("1.2.840.10008.5.1.4.1.1.7")
        );
        assert_eq!(
            read.transfer_syntax_uid.as_deref(),
            Some("1.2.840.10008.1.2.4.50")
        );
        assert_eq!(read.data_set_offset, bytes.len() - 4);
        assert_eq!(spool.pending().unwrap(), vec![spooled]);
    }

    #[tokio::test]
    async fn an_abandoned_instance_leaves_nothing() {
        let state = tempfile::tempdir().unwrap();
        let spool = Spool::open(state.path()).unwrap();
        let mut incoming = spool.create(&meta()).await.unwrap();
        incoming.write(&[0; 1000]).await.unwrap();
        drop(incoming);
        assert_eq!(std::fs::read_dir(spool.dir()).unwrap().count(), 0);
        // A crash's leftover is removed on open.
        std::fs::write(spool.dir().join("x.part"), b"half").unwrap();
        let spool = Spool::open(state.path()).unwrap();
        assert_eq!(std::fs::read_dir(spool.dir()).unwrap().count(), 0);
    }
}
