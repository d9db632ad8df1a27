//! The C-STORE SCU of C-MOVE, C-GET and transfers to DICOM devices: one Part 10 instance,
//! from a WADO-RS reply ([`PartStream`]) or a file ([`FileChunks`]), sent as a C-STORE, its
//! data set streamed chunk by chunk into P-DATA PDVs (memory holds a chunk or two, whatever
//! the instance's size), then its response awaited. [`StoreScu`] is the SCU on an association
//! of its own to a [`Modality`], over TLS when the device is marked for it (`UseDicomTls`)
//! with the [`DicomTls`] settings given: the device's certificate verified against the trusted
//! CAs and named for its host, ours offered for mutual TLS.
//!
//! The instance's SOP class, SOP instance and transfer syntax come from its meta group (the
//! core's `FileMeta`); it goes out on the accepted presentation context of that SOP class and
//! transfer syntax, never transcoded. Without one, it fails alone.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use dicom_ul::association::client::AsyncTlsStream;
use dicom_ul::association::{AsyncAssociation, AsyncClientAssociation};
use dicom_ul::pdu::{PDataValueType, PresentationContextResultReason};
use dicom_ul::{ClientAssociationOptions, Pdu};
use dicomweb_client::retrieve::PartStream;
use dicomweb_core::file_meta::FileMeta;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::association::{Stream, send_pdvs};
use crate::command::{Command, CommandField, StoreRequest};
use crate::tls::DicomTls;
use crate::{Error, Modality};

/// The transfer syntaxes proposed for each SOP class, one presentation context each, so that
/// every instance goes out as it is stored: Explicit and Implicit VR Little Endian, Deflated,
/// Explicit VR Big Endian, JPEG Baseline, Extended, Lossless (2) and JPEG-LS (2), JPEG 2000
/// (2), RLE.
pub const PROPOSED_TRANSFER_SYNTAXES: [&str; 12] = [
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
];

/// The most presentation contexts an association request may hold.
const MAX_CONTEXTS: usize = 128;

/// Where an instance's bytes come from, chunk by chunk, whole Part 10 file first to last.
pub trait ChunkSource {
    /// The next chunk, `None` at the end; an error says what broke.
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, String>> + Send;
}

impl ChunkSource for PartStream {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        PartStream::next_chunk(self)
            .await
            .map_err(|e| format!("the WADO-RS reply broke: {e}"))
    }
}

/// A Part 10 file read in chunks of 256 KiB.
#[derive(Debug)]
pub struct FileChunks {
    file: tokio::fs::File,
}

impl FileChunks {
    /// Opens a file.
    pub async fn open(path: &Path) -> Result<FileChunks, Error> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::io("cannot open", path, e))?;
        Ok(FileChunks { file })
    }
}

impl ChunkSource for FileChunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        let mut buffer = BytesMut::with_capacity(256 * 1024);
        let read = self
            .file
            .read_buf(&mut buffer)
            .await
            .map_err(|e| format!("cannot read the file: {e}"))?;
        Ok((read > 0).then(|| buffer.freeze()))
    }
}

/// A C-STORE SCU on an association of its own to a DICOM device.
#[derive(Debug)]
pub struct StoreScu {
    link: Link,
    next_message_id: u16,
    move_originator: Option<(String, u16)>,
}

/// The association of a [`StoreScu`]: over TCP, or TLS over TCP (boxed: a few hundred
/// bytes, and a StoreScu is moved around).
#[derive(Debug)]
enum Link {
    Tcp(Box<AsyncClientAssociation<TcpStream>>),
    Tls(Box<AsyncClientAssociation<AsyncTlsStream>>),
}

impl StoreScu {
    /// Associates as `our_aet` with `modality`, proposing for each of `sop_classes` a
    /// presentation context per transfer syntax of [`PROPOSED_TRANSFER_SYNTAXES`] (at most
    /// 128 contexts in all), without TLS settings: a device marked for TLS is an error (see
    /// [`StoreScu::connect_with`]).
    pub async fn connect(
        our_aet: &str,
        modality: &Modality,
        sop_classes: &[&str],
        max_pdu_length: u32,
        timeout: Duration,
    ) -> Result<StoreScu, Error> {
        StoreScu::connect_with(
            our_aet,
            modality,
            None,
            sop_classes,
            max_pdu_length,
            timeout,
        )
        .await
    }

    /// [`StoreScu::connect`] with TLS settings: a device marked for TLS is reached with
    /// `tls`'s sending side (an error when there is none: without trusted CAs its certificate
    /// cannot be verified); `timeout` bounds the TLS handshake and association, and each wait
    /// for the device.
    pub async fn connect_with(
        our_aet: &str,
        modality: &Modality,
        tls: Option<&DicomTls>,
        sop_classes: &[&str],
        max_pdu_length: u32,
        timeout: Duration,
    ) -> Result<StoreScu, Error> {
        let client_tls = match (modality.tls, tls.and_then(DicomTls::client_config)) {
            (false, _) => None,
            (true, Some(config)) => Some(config),
            (true, None) => {
                return Err(Error::Config(format!(
                    "{} at {}:{} wants DICOM over TLS (UseDicomTls): expected TLS settings with \
                     a certificate, its key and trusted CA certificates to verify the device's, \
                     found {}",
                    modality.aet,
                    modality.host,
                    modality.port,
                    if tls.is_some() {
                        "no trusted CA certificates"
                    } else {
                        "no TLS settings"
                    }
                )));
            }
        };
        let mut options = ClientAssociationOptions::new()
            .calling_ae_title(our_aet.trim().to_owned())
            .called_ae_title(modality.aet.trim().to_owned())
            .max_pdu_length(max_pdu_length)
            .read_timeout(timeout);
        let pairs = sop_classes
            .iter()
            .flat_map(|class| {
                PROPOSED_TRANSFER_SYNTAXES
                    .iter()
                    .map(move |ts| (*class, *ts))
            })
            .take(MAX_CONTEXTS);
        for (class, syntax) in pairs {
            options = options.with_presentation_context(class.to_owned(), vec![syntax.to_owned()]);
        }
        let address = format!("{}:{}", modality.host, modality.port);
        let link = match client_tls {
            None => Link::Tcp(Box::new(options.establish_async(address.as_str()).await?)),
            Some(config) => {
                let options = options.tls_config(config).server_name(&modality.host);
                let establish = options.establish_tls_async(address.as_str());
                let association =
                    tokio::time::timeout(timeout, establish)
                        .await
                        .map_err(|_| {
                            Error::Peer(format!(
                                "{address}: no TLS handshake and association within {timeout:?}"
                            ))
                        })??;
                Link::Tls(Box::new(association))
            }
        };
        Ok(StoreScu {
            link,
            next_message_id: 1,
            move_originator: None,
        })
    }

    /// Marks the C-STOREs as sub-operations of the C-MOVE `message_id` from `aet`.
    pub fn move_originator(&mut self, aet: &str, message_id: u16) -> &mut Self {
        self.move_originator = Some((aet.to_owned(), message_id));
        self
    }

    /// Sends one Part 10 instance; `Ok` holds the destination's verdict, `Err` means the
    /// association can no longer be used.
    pub async fn store<S: ChunkSource + Send>(
        &mut self,
        source: &mut S,
    ) -> Result<SubOutcome, Error> {
        let message_id = self.next_message_id;
        self.next_message_id = self.next_message_id.wrapping_add(1).max(1);
        let originator = self.move_originator.clone();
        let sent = match &mut self.link {
            Link::Tcp(association) => {
                send_instance(association.as_mut(), source, message_id, originator).await
            }
            Link::Tls(association) => {
                send_instance(association.as_mut(), source, message_id, originator).await
            }
        }
        .map_err(Error::Peer)?;
        Ok(sent.outcome)
    }

    /// Releases the association.
    pub async fn release(self) -> Result<(), Error> {
        match self.link {
            Link::Tcp(association) => association.release().await?,
            Link::Tls(association) => association.release().await?,
        }
        Ok(())
    }
}

/// The largest meta group read before giving up on a part.
const MAX_META_BYTES: usize = 1024 * 1024;

/// What one C-STORE sub-operation achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubOutcome {
    /// Stored (0000).
    Completed,
    /// Stored with a warning (B000, B006, B007).
    Warning,
    /// Not stored, and why.
    Failed(String),
}

/// The outcome of one sub-operation, and whether a C-CANCEL for the retrieve arrived while it
/// ran (on a C-GET's own association).
pub(crate) struct Sent {
    pub(crate) outcome: SubOutcome,
    pub(crate) canceled: bool,
}

/// Sends the instance of `parts` (a WADO-RS part whose headers were read, or a file) as a
/// C-STORE on `association`. An error means the association can no longer be used (a message
/// half sent, or the peer gone).
pub(crate) async fn send_instance<A, T, S>(
    association: &mut A,
    parts: &mut S,
    message_id: u16,
    originator: Option<(String, u16)>,
) -> Result<Sent, String>
where
    A: AsyncAssociation<T> + Send,
    T: Stream,
    S: ChunkSource + Send,
{
    let mut prefix = BytesMut::new();
    let meta = loop {
        match FileMeta::read(&prefix) {
            Ok(Some(meta)) => break meta,
            Ok(None) => {}
            Err(error) => {
                return drained(
                    parts,
                    format!("the server sent no Part 10 instance: {error}"),
                )
                .await;
            }
        }
        if prefix.len() > MAX_META_BYTES {
            return drained(parts, "the server sent a meta group over 1 MiB".into()).await;
        }
        match parts.next_chunk().await {
            Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
            Ok(None) => {
                return Ok(failed(
                    "the server's part ended inside the meta group".into(),
                ));
            }
            Err(error) => return Err(error),
        }
    };
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches(['\0', ' '])
            .to_owned()
    };
    let (sop_class, sop_instance, syntax) = (
        text(&meta.sop_class_uid),
        text(&meta.sop_instance_uid),
        text(&meta.transfer_syntax_uid),
    );
    let Some(context) = association
        .presentation_contexts()
        .iter()
        .find(|pc| {
            pc.reason == PresentationContextResultReason::Acceptance
                && pc.abstract_syntax.trim_end_matches(['\0', ' ']) == sop_class
                && pc.transfer_syntax.trim_end_matches(['\0', ' ']) == syntax
        })
        .map(|pc| pc.id)
    else {
        return drained(
            parts,
            format!("no accepted presentation context for {sop_class} in {syntax}"),
        )
        .await;
    };
    let mut request = StoreRequest::new(message_id, &sop_class, &sop_instance);
    request.move_originator = originator;
    send_pdvs(
        association,
        context,
        PDataValueType::Command,
        &request.to_bytes(),
        true,
    )
    .await?;
    // The data set goes out in fragments of even length (dcmtk aborts on an odd one, as
    // data elements are even), each up to the peer's PDU size: bytes gather until a whole
    // fragment is there, and the last fragment goes once the part has ended.
    let room = fragment_room(association.peer_max_pdu_length());
    let mut pending = BytesMut::from(&prefix[meta.data_set_offset..]);
    loop {
        let next = parts
            .next_chunk()
            .await
            .map_err(|e| format!("mid-instance: {e}"))?;
        match next {
            Some(chunk) => {
                pending.extend_from_slice(&chunk);
                while pending.len() > room {
                    let fragment = pending.split_to(room);
                    send_pdvs(association, context, PDataValueType::Data, &fragment, false).await?;
                }
            }
            None => {
                send_pdvs(association, context, PDataValueType::Data, &pending, true).await?;
                break;
            }
        }
    }
    let (status, canceled) = response(association, message_id).await?;
    let outcome = match status {
        0x0000 => SubOutcome::Completed,
        0xB000 | 0xB006 | 0xB007 => SubOutcome::Warning,
        other => SubOutcome::Failed(format!(
            "{sop_instance}: the destination answered {other:04X}H"
        )),
    };
    tracing::debug!(
        uid = sop_instance,
        status = format_args!("{status:04X}"),
        "C-STORE sub-operation"
    );
    Ok(Sent { outcome, canceled })
}

/// The data bytes one PDV may carry with a peer whose largest PDU is `max_pdu_length`: the
/// PDU less its item header (6 bytes), even, within 4 KiB to 1 MiB.
pub(crate) fn fragment_room(max_pdu_length: u32) -> usize {
    ((max_pdu_length.clamp(4096, 1 << 20) - 6) & !1) as usize
}

fn failed(reason: String) -> Sent {
    Sent {
        outcome: SubOutcome::Failed(reason),
        canceled: false,
    }
}

/// Reads the rest of the part away and reports the sub-operation failed.
async fn drained<S: ChunkSource + Send>(parts: &mut S, reason: String) -> Result<Sent, String> {
    while parts.next_chunk().await?.is_some() {}
    Ok(failed(reason))
}

/// Waits for the C-STORE-RSP to `message_id`; a C-CANCEL-RQ arriving meanwhile is noted.
async fn response<A, T>(association: &mut A, message_id: u16) -> Result<(u16, bool), String>
where
    A: AsyncAssociation<T> + Send,
    T: Stream,
{
    let mut canceled = false;
    let mut command = Vec::new();
    loop {
        let pdu = AsyncAssociation::receive(association)
            .await
            .map_err(|e| format!("no C-STORE response: {e}"))?;
        let Pdu::PData { data } = pdu else {
            return Err(format!(
                "expected a C-STORE response, found {}",
                pdu.short_description()
            ));
        };
        for pdv in data {
            if pdv.value_type != PDataValueType::Command {
                return Err("expected a C-STORE response, found a data set".into());
            }
            command.extend_from_slice(&pdv.data);
            if command.len() > crate::command::MAX_COMMAND_BYTES {
                return Err("expected a C-STORE response, found an oversized command set".into());
            }
            if !pdv.is_last {
                continue;
            }
            let read = Command::read(&command).map_err(|e| e.to_string())?;
            command.clear();
            match read.field {
                CommandField::CStoreRsp if read.message_id_responded_to == Some(message_id) => {
                    return Ok((read.status.unwrap_or(0xC000), canceled));
                }
                CommandField::CCancelRq => canceled = true,
                other => {
                    return Err(format!(
                        "expected the C-STORE response to message {message_id}, found {other:?}"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fragment_room;

    #[test]
    fn data_fragments_are_even_and_fit_the_peers_pdu() {
        // storescp aborted ("Odd Fragment Length") when network chunks went out as they came.
        for max in [
            4096,
            16_384,
            16_385,
            16_391,
            65_535,
            1 << 20,
            u32::MAX,
            0,
            7,
        ] {
            let room = fragment_room(max);
            assert_eq!(room % 2, 0, "{max}");
            assert!(room + 6 <= max.clamp(4096, 1 << 20) as usize, "{max}");
            assert!(room >= 4090, "{max}");
        }
    }
}
