//! The adapter in-process, driven by dicom-ul's own association requester: a whole C-STORE is
//! spooled as a Part 10 file and answered 0000; an association aborted mid-instance leaves no
//! spool file; a C-STORE of a SOP class that is no storage class is answered 0122; a command
//! set that is not one ends the association without a panic. The DICOMweb server is down
//! throughout (nothing listens at its address), so nothing is uploaded and the spool can be
//! inspected.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicom_ul::pdu::{PDataValue, PDataValueType};
use dicom_ul::{ClientAssociationOptions, Pdu};
use dicomweb_dimse::command::{Command, CommandField};
use tokio::sync::oneshot;

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// Starts an adapter on a free port with its state in `state`; returns its address and the
/// sender that stops it.
async fn adapter(state: &Path) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    adapter_with_idle_timeout(state, Duration::from_secs(5)).await
}

async fn adapter_with_idle_timeout(
    state: &Path,
    idle: Duration,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let mut builder = common::builder(common::client_of_nobody(), state);
    builder.idle_timeout(idle);
    common::start(&builder).await
}

fn store_request(sop_class: &str, sop_instance: &str) -> Vec<u8> {
    let elements = [
        DataElement::new(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from(sop_class),
        ),
        DataElement::new(tags::COMMAND_FIELD, VR::US, PrimitiveValue::from(0x0001u16)),
        DataElement::new(tags::MESSAGE_ID, VR::US, PrimitiveValue::from(1u16)),
        DataElement::new(tags::PRIORITY, VR::US, PrimitiveValue::from(0u16)),
        DataElement::new(
            tags::COMMAND_DATA_SET_TYPE,
            VR::US,
            PrimitiveValue::from(0u16),
        ),
        DataElement::new(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(sop_instance),
        ),
    ];
    let mut bytes = Vec::new();
    InMemDicomObject::command_from_element_iter(elements)
        .write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .unwrap();
    bytes
}

fn pdv(value_type: PDataValueType, is_last: bool, data: Vec<u8>) -> Pdu {
    Pdu::PData {
        data: vec![PDataValue {
            presentation_context_id: 1,
            value_type,
            is_last,
            data,
        }],
    }
}

/// A data set in Explicit VR Little Endian: SOP Class and Instance UIDs and a long OB value.
fn data_set(sop_instance: &str, payload: usize) -> Vec<u8> {
    let mut object = InMemDicomObject::new_empty();
    object.put(DataElement::new(
        tags::SOP_CLASS_UID,
        VR::UI,
        PrimitiveValue::from(CT),
    ));
    object.put(DataElement::new(
        tags::SOP_INSTANCE_UID,
        VR::UI,
        PrimitiveValue::from(sop_instance),
    ));
    object.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(vec![7u8; payload]),
    ));
    let ts = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    let mut bytes = Vec::new();
    object.write_dataset_with_ts(&mut bytes, &ts).unwrap();
    bytes
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn associate(
    address: SocketAddr,
    sop_class: &str,
) -> dicom_ul::association::AsyncClientAssociation<tokio::net::TcpStream> {
    ClientAssociationOptions::new()
        .calling_ae_title("TESTER")
        .called_ae_title("ADAPTER")
        .with_presentation_context(sop_class, vec![EXPLICIT_LE])
        .max_pdu_length(16 * 1024)
        .establish_async(address)
        .await
        .unwrap()
}

async fn response(
    association: &mut dicom_ul::association::AsyncClientAssociation<tokio::net::TcpStream>,
) -> Command {
    match association.receive().await.unwrap() {
        Pdu::PData { data } => Command::read(&data[0].data).unwrap(),
        other => panic!("expected a response, found {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_instance_is_spooled_and_acknowledged() {
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(state.path()).await;
    let mut association = associate(address, CT).await;
    let uid = "1.2.826.0.1.3680043.10.1406.99.1";
    let data = data_set(uid, 200_000);
    association
        .send(&pdv(PDataValueType::Command, true, store_request(CT, uid)))
        .await
        .unwrap();
    // In fragments of 8 KiB, as a modality sends them.
    let chunks: Vec<&[u8]> = data.chunks(8 * 1024).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        association
            .send(&pdv(PDataValueType::Data, last, chunk.to_vec()))
            .await
            .unwrap();
    }
    let answer = response(&mut association).await;
    assert_eq!(answer.field, CommandField::CStoreRsp);
    assert_eq!(answer.status, Some(0));
    assert_eq!(answer.affected_sop_instance_uid.as_deref(), Some(uid));
    association.release().await.unwrap();

    let spool = state.path().join("spool");
    let names = files(&spool);
    assert_eq!(names.len(), 1, "{names:?}");
    let file = std::fs::read(spool.join(&names[0])).unwrap();
    let meta = dicomweb_core::file_meta::FileMeta::read(&file)
        .unwrap()
        .unwrap();
    assert_eq!(meta.sop_instance_uid.as_deref(), Some(uid));
    assert_eq!(meta.sop_class_uid.as_deref(), Some(CT));
    assert_eq!(meta.transfer_syntax_uid.as_deref(), Some(EXPLICIT_LE));
    assert_eq!(&file[meta.data_set_offset..], &data[..]);
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_association_aborted_mid_instance_leaves_nothing() {
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(state.path()).await;
    let mut association = associate(address, CT).await;
    let uid = "1.2.826.0.1.3680043.10.1406.99.2";
    let data = data_set(uid, 100_000);
    association
        .send(&pdv(PDataValueType::Command, true, store_request(CT, uid)))
        .await
        .unwrap();
    association
        .send(&pdv(PDataValueType::Data, false, data[..50_000].to_vec()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    association.abort().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(files(&state.path().join("spool")), Vec::<String>::new());
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_no_storage_class_is_refused_and_nonsense_ends_the_association() {
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(state.path()).await;
    let worklist = "1.2.840.10008.5.1.4.31";
    let mut association = associate(address, worklist).await;
    let uid = "1.2.826.0.1.3680043.10.1406.99.3";
    association
        .send(&pdv(
            PDataValueType::Command,
            true,
            store_request(worklist, uid),
        ))
        .await
        .unwrap();
    association
        .send(&pdv(PDataValueType::Data, true, data_set(uid, 10)))
        .await
        .unwrap();
    let answer = response(&mut association).await;
    assert_eq!(answer.status, Some(0x0122));
    // Not a command set: the adapter aborts.
    association
        .send(&pdv(PDataValueType::Command, true, vec![0xFF; 9]))
        .await
        .unwrap();
    match association.receive().await {
        Ok(Pdu::AbortRQ { .. }) | Err(_) => {}
        other => panic!("expected an abort, found {other:?}"),
    }
    assert_eq!(files(&state.path().join("spool")), Vec::<String>::new());
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_association_is_ended() {
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) =
        adapter_with_idle_timeout(state.path(), Duration::from_millis(500)).await;
    let mut association = associate(address, CT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    match association.receive().await {
        Ok(Pdu::AbortRQ { .. }) | Err(_) => {}
        other => panic!("expected the idle association to be aborted, found {other:?}"),
    }
    stop.send(()).unwrap();
    task.await.unwrap();
}
