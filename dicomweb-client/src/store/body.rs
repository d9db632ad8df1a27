//! The streamed STOW-RS body of a batch: the framing from the core ([`FramedBody`]: each
//! part's head with its `Content-Length`, the close delimiter, the total length) around the
//! instances, files read from disk in chunks while the request is sent.
//!
//! The body is a [`BodySource`] that reopens the files, so a retried request re-sends the
//! whole body from disk; memory holds one read buffer per request in flight.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use dicomweb_core::multipart::FramedBody;
use futures_util::{Stream, stream};
use tokio::io::AsyncReadExt;

use super::prepare::{Payload, Prepared};
use crate::BodySource;

/// How much of a file is read per chunk of a request body.
const READ_CHUNK: usize = 256 * 1024;

/// The body of a batch framed by `framed` (made for these instances' lengths, in order): each
/// part's head, then the instance, then the close delimiter.
pub(super) fn batch_body(batch: &[Prepared], framed: &FramedBody) -> BodySource {
    let mut segments = Vec::with_capacity(batch.len() * 2 + 1);
    for (file, part_head) in batch.iter().zip(framed.part_heads()) {
        segments.push(Segment::Bytes(part_head.clone()));
        segments.push(match &file.payload {
            Payload::Memory { bytes, .. } => Segment::Bytes(bytes.clone()),
            Payload::File(path) => Segment::File {
                path: path.clone(),
                length: file.length,
            },
        });
    }
    segments.push(Segment::Bytes(framed.close_delimiter().clone()));
    let segments: Arc<[Segment]> = segments.into();
    BodySource::new(move || body_stream(segments.clone()))
}

/// A piece of a STOW-RS body: framing in memory, or a whole file read from disk.
#[derive(Debug)]
enum Segment {
    Bytes(Bytes),
    File { path: PathBuf, length: u64 },
}

/// The body: segments in order, files read in chunks. A file whose size changed since it was
/// measured is an error, never a body of the wrong length.
fn body_stream(segments: Arc<[Segment]>) -> impl Stream<Item = Result<Bytes, io::Error>> {
    struct State {
        segments: Arc<[Segment]>,
        next: usize,
        open: Option<(tokio::fs::File, PathBuf, u64)>,
    }
    let state = State {
        segments,
        next: 0,
        open: None,
    };
    stream::try_unfold(state, |mut state| async move {
        loop {
            if let Some((mut file, path, remaining)) = state.open.take() {
                if remaining == 0 {
                    let mut probe = [0u8; 1];
                    if file.read(&mut probe).await? != 0 {
                        return Err(changed(&path, "grew"));
                    }
                    continue;
                }
                let want = READ_CHUNK.min(usize::try_from(remaining).unwrap_or(READ_CHUNK));
                let mut buffer = BytesMut::with_capacity(want);
                while buffer.len() < want {
                    if (&mut file)
                        .take((want - buffer.len()) as u64)
                        .read_buf(&mut buffer)
                        .await?
                        == 0
                    {
                        return Err(changed(&path, "shrank"));
                    }
                }
                let left = remaining - buffer.len() as u64;
                state.open = Some((file, path, left));
                return Ok(Some((buffer.freeze(), state)));
            }
            let Some(segment) = state.segments.get(state.next) else {
                return Ok(None);
            };
            state.next += 1;
            match segment {
                Segment::Bytes(bytes) => return Ok(Some((bytes.clone(), state))),
                Segment::File { path, length } => {
                    let file = tokio::fs::File::open(path).await.map_err(|e| {
                        io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                    })?;
                    state.open = Some((file, path.clone(), *length));
                }
            }
        }
    })
}

fn changed(path: &Path, how: &str) -> io::Error {
    io::Error::other(format!("{} {how} while it was being sent", path.display()))
}
