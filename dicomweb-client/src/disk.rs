//! Files written off the async runtime: [`Disk`], one blocking task per stream of files, fed
//! through a small bounded queue, so the network side never waits for a file to be created,
//! written or renamed (on a retrieve of many small instances, those waits cost more than the
//! bytes).
//!
//! Each file is written under a temporary name and renamed to its final name only once it is
//! complete ([`Disk::commit`]); an aborted file, a failed write and a stream dropped midway
//! leave no temporary file behind. The first error is kept and reported by [`Disk::finish`];
//! after it, nothing more is written.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::Error;

/// Bytes gathered before they are handed to the writer.
const GATHER: usize = 256 * 1024;

/// Chunks gathered at most before they are handed to the writer: each is one `writev` entry,
/// and the kernel takes at most `IOV_MAX` (1,024 on Linux) in one call.
const GATHER_CHUNKS: usize = 1024;

/// Hand-offs queued for the writer: with [`GATHER`], at most about 2 MiB in flight.
const QUEUED: usize = 8;

/// What the writer is asked to do, in order.
enum Command {
    /// Start a file under this temporary name.
    Create(PathBuf),
    /// Append these bytes to it.
    Write(Vec<Bytes>),
    /// It is complete: rename it to this name.
    Commit(PathBuf),
    /// Drop it: remove the temporary file.
    Abort,
}

/// A writer of whole files, one after another, on the blocking pool (see [the module](self)).
pub(crate) struct Disk {
    sender: mpsc::Sender<Command>,
    task: JoinHandle<Result<(), Error>>,
    gathered: Vec<Bytes>,
    gathered_bytes: usize,
    failed: Arc<AtomicBool>,
}

impl Disk {
    /// Starts the writer.
    pub(crate) fn start() -> Disk {
        let (sender, receiver) = mpsc::channel(QUEUED);
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let task = tokio::task::spawn_blocking(move || {
            let result = write_all(receiver);
            if result.is_err() {
                flag.store(true, Ordering::Release);
            }
            result
        });
        Disk {
            sender,
            task,
            gathered: Vec::new(),
            gathered_bytes: 0,
            failed,
        }
    }

    /// Whether a write has failed (then [`finish`](Self::finish) says why).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Starts a file at the temporary path `temp`.
    pub(crate) async fn create(&mut self, temp: PathBuf) {
        self.send(Command::Create(temp)).await;
    }

    /// Appends `chunk` to the current file.
    pub(crate) async fn write(&mut self, chunk: Bytes) {
        self.gathered_bytes += chunk.len();
        self.gathered.push(chunk);
        if self.gathered_bytes >= GATHER || self.gathered.len() >= GATHER_CHUNKS {
            self.flush().await;
        }
    }

    /// The current file is complete: it is renamed to `path`.
    pub(crate) async fn commit(&mut self, path: PathBuf) {
        self.flush().await;
        self.send(Command::Commit(path)).await;
    }

    /// The current file is dropped.
    pub(crate) async fn abort(&mut self) {
        self.gathered.clear();
        self.gathered_bytes = 0;
        self.send(Command::Abort).await;
    }

    /// Waits for every file to be written; the first error, if any.
    pub(crate) async fn finish(self) -> Result<(), Error> {
        let Disk { sender, task, .. } = self;
        drop(sender);
        match task.await {
            Ok(result) => result,
            // A panic in the writer is a bug: it goes on as the panic it is.
            Err(joined) if joined.is_panic() => std::panic::resume_unwind(joined.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(joined) => Err(Error::Io {
                doing: "finish",
                path: PathBuf::from("the file writer"),
                source: std::io::Error::other(joined.to_string()),
            }),
        }
    }

    async fn flush(&mut self) {
        if !self.gathered.is_empty() {
            self.gathered_bytes = 0;
            let chunks = std::mem::take(&mut self.gathered);
            self.send(Command::Write(chunks)).await;
        }
    }

    async fn send(&mut self, command: Command) {
        // The writer stops only after an error, which `finish` reports.
        let _ = self.sender.send(command).await;
    }
}

/// The file being written: open, or failed (its later commands are ignored).
struct Current {
    temp: PathBuf,
    file: File,
}

impl Current {
    fn remove(self) {
        drop(self.file);
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Writes `chunks` in order, in as few system calls as the kernel allows: a response body
/// arrives in chunks of some 8 KiB (how servers frame a chunked body), and a `write` each was
/// 62,000 system calls on a 480 MiB retrieve (2,000 this way).
fn write_chunks(file: &mut File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks
        .iter()
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| IoSlice::new(chunk))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let at_once = rest.len().min(GATHER_CHUNKS);
        match file.write_vectored(&rest[..at_once]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut rest, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The writer's loop: commands in order until the queue closes or a write fails.
fn write_all(mut receiver: mpsc::Receiver<Command>) -> Result<(), Error> {
    let mut current: Option<Current> = None;
    let io = |doing, path: &Path, source| Error::Io {
        doing,
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        while let Some(command) = receiver.blocking_recv() {
            match command {
                Command::Create(temp) => {
                    if let Some(open) = current.take() {
                        open.remove();
                    }
                    let file = File::create(&temp).map_err(|e| io("create", &temp, e))?;
                    current = Some(Current { temp, file });
                }
                Command::Write(chunks) => {
                    if let Some(open) = &mut current {
                        write_chunks(&mut open.file, &chunks)
                            .map_err(|e| io("write", &open.temp, e))?;
                    }
                }
                Command::Commit(path) => {
                    if let Some(open) = current.take() {
                        let Current { temp, file } = open;
                        drop(file);
                        if let Err(source) = std::fs::rename(&temp, &path) {
                            let _ = std::fs::remove_file(&temp);
                            return Err(io("rename a finished file to", &path, source));
                        }
                    }
                }
                Command::Abort => {
                    if let Some(open) = current.take() {
                        open.remove();
                    }
                }
            }
        }
        Ok(())
    })();
    // A failed write, or a stream dropped midway: no temporary file stays.
    if let Some(open) = current.take() {
        open.remove();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn chunks_are_written_whole_and_in_order_past_the_kernels_limit() {
        // More chunks than one `writev` takes, of uneven sizes, some empty.
        let chunks: Vec<Bytes> = (0..3 * GATHER_CHUNKS + 7)
            .map(|n| Bytes::from(vec![(n % 251) as u8; n % 13]))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chunks");
        let mut file = File::create(&path).unwrap();
        write_chunks(&mut file, &chunks).unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), chunks.concat());
    }

    #[tokio::test]
    async fn files_appear_under_their_names_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut disk = Disk::start();
        disk.create(dir.path().join("a.part")).await;
        disk.write(Bytes::from_static(b"hello ")).await;
        disk.write(Bytes::from(vec![b'x'; GATHER + 1])).await;
        disk.write(Bytes::from_static(b"world")).await;
        disk.commit(dir.path().join("a.dcm")).await;
        disk.create(dir.path().join("b.part")).await;
        disk.write(Bytes::from_static(b"half")).await;
        disk.abort().await;
        disk.create(dir.path().join("c.part")).await;
        disk.write(Bytes::from_static(b"cut")).await;
        // Finished with a file still open (the stream ended midway): it is removed.
        disk.finish().await.unwrap();
        assert_eq!(names(dir.path()), ["a.dcm"]);
        let a = std::fs::read(dir.path().join("a.dcm")).unwrap();
        assert_eq!(a.len(), 6 + GATHER + 1 + 5);
        assert!(a.starts_with(b"hello x") && a.ends_with(b"xworld"));
    }

    #[tokio::test]
    async fn a_failed_write_is_reported_and_nothing_after_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut disk = Disk::start();
        disk.create(dir.path().join("missing/a.part")).await;
        disk.write(Bytes::from_static(b"a")).await;
        disk.commit(dir.path().join("a.dcm")).await;
        disk.create(dir.path().join("b.part")).await;
        disk.commit(dir.path().join("b.dcm")).await;
        let error = disk.finish().await.unwrap_err().to_string();
        assert!(error.contains("missing/a.part"), "{error}");
        assert!(names(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn a_dropped_writer_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut disk = Disk::start();
        disk.create(dir.path().join("a.part")).await;
        disk.write(Bytes::from_static(b"a")).await;
        disk.commit(dir.path().join("a.dcm")).await;
        disk.create(dir.path().join("b.part")).await;
        disk.write(Bytes::from(vec![0; GATHER])).await;
        let task = disk.task.abort_handle();
        drop(disk.sender);
        while !task.is_finished() {
            tokio::task::yield_now().await;
        }
        assert_eq!(names(dir.path()), ["a.dcm"]);
    }
}
