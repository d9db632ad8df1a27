//! Storage commitment in-process, driven by dicom-ul's association requester as the Storage
//! Commitment SCU, against a scripted DICOMweb server: a requester that keeps its association
//! open gets the N-EVENT-REPORT on it (committed, no such instance, class/instance conflict);
//! malformed N-ACTIONs are refused with their PS3.7 statuses and the association goes on; a
//! server that cannot be asked makes every instance fail with 0110 once the wait is over; a
//! server that refuses UID lists is asked one UID at a time.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use dicom_ul::association::AsyncClientAssociation;
use dicom_ul::pdu::{PDataValue, PDataValueType};
use dicom_ul::{ClientAssociationOptions, Pdu};
use dicomweb_core::{DataSet, Element, Uid, Vr};
use dicomweb_dimse::command::{Command, CommandField, NormalizedRequest, Response};
use dicomweb_dimse::commitment::report::{self, Outcome, read_event_information};
use dicomweb_dimse::commitment::request::{
    REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID, REFERENCED_SOP_SEQUENCE, TRANSACTION_UID,
};
use dicomweb_dimse::find::{read_identifier, write_identifier};
use dicomweb_dimse::sop_classes::{
    STORAGE_COMMITMENT_PUSH_MODEL as PUSH_MODEL,
    STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE as WELL_KNOWN,
};
use test_support::standin::{StandIn, respond};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const MR: &str = "1.2.840.10008.5.1.4.1.1.4";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

type Scu = AsyncClientAssociation<TcpStream>;

/// An adapter in front of `url` (`/dicom-web` under it), waiting `wait` for queued instances.
async fn adapter(
    url: String,
    state: &std::path::Path,
    wait: Duration,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let mut builder = common::builder(common::client(&url), state);
    builder.commitment_wait(wait);
    common::start(&builder).await
}

async fn associate(address: SocketAddr) -> Scu {
    ClientAssociationOptions::new()
        .calling_ae_title("MODALITY")
        .called_ae_title("ADAPTER")
        .with_presentation_context(PUSH_MODEL, vec![EXPLICIT_LE])
        .read_timeout(Duration::from_secs(20))
        .establish_async(address)
        .await
        .unwrap()
}

fn information(transaction: &str, references: &[(&str, &str)]) -> Vec<u8> {
    let mut data_set = DataSet::new();
    data_set.insert(TRANSACTION_UID, Element::string(Vr::UI, transaction));
    let items = references
        .iter()
        .map(|(class, instance)| {
            let mut item = DataSet::new();
            item.insert(REFERENCED_SOP_CLASS_UID, Element::string(Vr::UI, *class));
            item.insert(
                REFERENCED_SOP_INSTANCE_UID,
                Element::string(Vr::UI, *instance),
            );
            item
        })
        .collect();
    data_set.insert(REFERENCED_SOP_SEQUENCE, Element::sequence(items));
    write_identifier(&data_set, PUSH_MODEL, EXPLICIT_LE).unwrap()
}

async fn send(scu: &mut Scu, command: Vec<u8>, data: Option<Vec<u8>>) {
    let mut pdvs = vec![PDataValue {
        presentation_context_id: 1,
        value_type: PDataValueType::Command,
        is_last: true,
        data: command,
    }];
    if let Some(data) = data {
        pdvs.push(PDataValue {
            presentation_context_id: 1,
            value_type: PDataValueType::Data,
            is_last: true,
            data,
        });
    }
    scu.send(&Pdu::PData { data: pdvs }).await.unwrap();
}

/// Reads one message: its command set and, when one follows, its data set.
async fn receive(scu: &mut Scu) -> (Command, Option<Vec<u8>>) {
    let (mut command, mut data) = (Vec::new(), Vec::new());
    let mut read: Option<Command> = None;
    loop {
        let Pdu::PData { data: pdvs } = scu.receive().await.unwrap() else {
            panic!("expected P-DATA");
        };
        for pdv in pdvs {
            match pdv.value_type {
                PDataValueType::Command => {
                    command.extend_from_slice(&pdv.data);
                    if pdv.is_last {
                        let parsed = Command::read(&command).unwrap();
                        if !parsed.has_data_set {
                            return (parsed, None);
                        }
                        read = Some(parsed);
                    }
                }
                PDataValueType::Data => {
                    data.extend_from_slice(&pdv.data);
                    if pdv.is_last {
                        return (read.take().unwrap(), Some(data));
                    }
                }
            }
        }
    }
}

/// The transaction and the outcome of each instance that an N-EVENT-REPORT's data set
/// reports, each named by its SOP Instance UID.
fn event_outcomes(data: &[u8]) -> (Uid, Vec<(String, Outcome)>) {
    let information = read_identifier(data, PUSH_MODEL, EXPLICIT_LE).unwrap();
    let (transaction, outcomes) = read_event_information(&information).unwrap();
    let outcomes = outcomes
        .into_iter()
        .map(|(r, o)| (r.sop_instance_uid.into_string(), o))
        .collect();
    (transaction, outcomes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_comes_on_the_requesters_open_association() {
    // The server holds 1.2.3.1 as CT and 1.2.3.3 as MR; 1.2.3.2 not at all.
    let found = serde_json::json!([
        { "00080016": { "vr": "UI", "Value": [CT] }, "00080018": { "vr": "UI", "Value": ["1.2.3.1"] } },
        { "00080016": { "vr": "UI", "Value": [MR] }, "00080018": { "vr": "UI", "Value": ["1.2.3.3"] } }
    ])
    .to_string();
    let server = StandIn::start(move |_, _| {
        respond(
            "200 OK",
            &[("Content-Type", "application/dicom+json")],
            found.as_bytes(),
        )
    });
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(
        server.url_for("/dicom-web"),
        state.path(),
        Duration::from_secs(5),
    )
    .await;
    let mut scu = associate(address).await;

    // Refusals first, each answered at once, the association going on.
    let refused = [
        (
            NormalizedRequest::action(1, PUSH_MODEL, WELL_KNOWN, 2),
            Some(information("2.25.1", &[(CT, "1.2.3.1")])),
            0x0123,
        ),
        (
            NormalizedRequest::action(2, PUSH_MODEL, "1.2.3.4", 1),
            Some(information("2.25.1", &[(CT, "1.2.3.1")])),
            0x0112,
        ),
        (
            NormalizedRequest::action(3, PUSH_MODEL, WELL_KNOWN, 1),
            Some(information("2.25.1", &[])),
            0x0115,
        ),
        (
            NormalizedRequest::action(4, PUSH_MODEL, WELL_KNOWN, 1),
            Some(information("not.a.uid!", &[(CT, "1.2.3.1")])),
            0x0115,
        ),
        (
            NormalizedRequest::action(5, PUSH_MODEL, WELL_KNOWN, 1),
            Some(b"\x08\x00\x95\x11UI\x40\x00".to_vec()),
            0x0110,
        ),
    ];
    for (request, data, status) in refused {
        send(&mut scu, request.to_bytes(), data).await;
        let (response, data) = receive(&mut scu).await;
        assert_eq!(response.field, CommandField::NActionRsp);
        assert_eq!(response.message_id_responded_to, Some(request.message_id));
        assert_eq!(
            response.status,
            Some(status),
            "message {}",
            request.message_id
        );
        assert!(data.is_none());
    }

    let request = NormalizedRequest::action(9, PUSH_MODEL, WELL_KNOWN, 1);
    let asked = [(CT, "1.2.3.1"), (CT, "1.2.3.2"), (CT, "1.2.3.3")];
    send(
        &mut scu,
        request.to_bytes(),
        Some(information("2.25.42", &asked)),
    )
    .await;
    let (response, _) = receive(&mut scu).await;
    assert_eq!(response.field, CommandField::NActionRsp);
    assert_eq!(response.status, Some(0));
    assert_eq!(response.affected_sop_class_uid.as_deref(), Some(PUSH_MODEL));
    assert_eq!(
        response.affected_sop_instance_uid.as_deref(),
        Some(WELL_KNOWN)
    );

    let (event, data) = receive(&mut scu).await;
    assert_eq!(event.field, CommandField::NEventReportRq);
    assert_eq!(event.affected_sop_class_uid.as_deref(), Some(PUSH_MODEL));
    assert_eq!(event.affected_sop_instance_uid.as_deref(), Some(WELL_KNOWN));
    assert_eq!(event.event_type_id, Some(report::FAILURES_EXIST));
    let (transaction, outcomes) = event_outcomes(&data.unwrap());
    assert_eq!(transaction, Uid::new("2.25.42").unwrap());
    assert_eq!(
        outcomes,
        [
            ("1.2.3.1".to_owned(), Outcome::Committed),
            (
                "1.2.3.2".to_owned(),
                Outcome::Failed(report::NO_SUCH_OBJECT_INSTANCE)
            ),
            (
                "1.2.3.3".to_owned(),
                Outcome::Failed(report::CLASS_INSTANCE_CONFLICT)
            ),
        ]
    );
    let answer = Response::to(&event, 0).unwrap();
    send(&mut scu, answer.to_bytes(), None).await;
    scu.release().await.unwrap();
    // The server was asked by SOP Instance UID, the three in one request.
    let asked = server.recorded();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0]
            .target
            .contains("SOPInstanceUID=1.2.3.1,1.2.3.2,1.2.3.3"),
        "{}",
        asked[0].target
    );

    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_be_asked_fails_every_instance_with_0110() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(
        format!("http://{dead}/dicom-web"),
        state.path(),
        Duration::from_millis(600),
    )
    .await;
    let mut scu = associate(address).await;
    let request = NormalizedRequest::action(1, PUSH_MODEL, WELL_KNOWN, 1);
    send(
        &mut scu,
        request.to_bytes(),
        Some(information("2.25.43", &[(CT, "1.2.3.1")])),
    )
    .await;
    let (response, _) = receive(&mut scu).await;
    assert_eq!(response.status, Some(0));
    let (event, data) = receive(&mut scu).await;
    assert_eq!(event.event_type_id, Some(report::FAILURES_EXIST));
    let (_, outcomes) = event_outcomes(&data.unwrap());
    assert_eq!(
        outcomes,
        [(
            "1.2.3.1".to_owned(),
            Outcome::Failed(report::PROCESSING_FAILURE)
        )]
    );
    send(&mut scu, Response::to(&event, 0).unwrap().to_bytes(), None).await;
    scu.release().await.unwrap();
    stop.send(()).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_uid_lists_is_asked_one_uid_at_a_time() {
    let held = serde_json::json!([
        { "00080016": { "vr": "UI", "Value": [CT] }, "00080018": { "vr": "UI", "Value": ["1.2.3.1"] } }
    ])
    .to_string();
    let server = StandIn::start(move |_, request| {
        if request.target.contains("%2C") || request.target.contains(',') {
            respond("400 Bad Request", &[], b"no UID lists here")
        } else if request.target.contains("SOPInstanceUID=1.2.3.1") {
            respond(
                "200 OK",
                &[("Content-Type", "application/dicom+json")],
                held.as_bytes(),
            )
        } else {
            respond("204 No Content", &[], b"")
        }
    });
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(
        server.url_for("/dicom-web"),
        state.path(),
        Duration::from_secs(5),
    )
    .await;
    let mut scu = associate(address).await;
    let request = NormalizedRequest::action(1, PUSH_MODEL, WELL_KNOWN, 1);
    let asked = [(CT, "1.2.3.1"), (CT, "1.2.3.2")];
    send(
        &mut scu,
        request.to_bytes(),
        Some(information("2.25.44", &asked)),
    )
    .await;
    let (response, _) = receive(&mut scu).await;
    assert_eq!(response.status, Some(0));
    let (event, data) = receive(&mut scu).await;
    let (_, outcomes) = event_outcomes(&data.unwrap());
    assert_eq!(
        outcomes,
        [
            ("1.2.3.1".to_owned(), Outcome::Committed),
            (
                "1.2.3.2".to_owned(),
                Outcome::Failed(report::NO_SUCH_OBJECT_INSTANCE)
            ),
        ]
    );
    send(&mut scu, Response::to(&event, 0).unwrap().to_bytes(), None).await;
    scu.release().await.unwrap();
    assert_eq!(server.recorded().len(), 3, "the list, then each UID alone");
    stop.send(()).unwrap();
    task.await.unwrap();
}
