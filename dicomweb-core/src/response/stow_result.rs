//! The STOW-RS response (PS3.18 §10.5.3): which instances were stored, with warnings, and
//! which failed, with reasons.

use std::fmt;

use http::{HeaderMap, StatusCode};

use crate::response::{Format, StatusError, Warning, check_status, format, warnings};
use crate::tags::{
    FAILED_SOP_SEQUENCE, FAILURE_REASON, OTHER_FAILURES_SEQUENCE, REFERENCED_SOP_CLASS_UID,
    REFERENCED_SOP_INSTANCE_UID, REFERENCED_SOP_SEQUENCE, RETRIEVE_URL, WARNING_REASON,
};
use crate::{DataSet, Error, Number, ReadOptions, Tag, Uid, Value, json, xml};

/// What a STOW-RS request achieved.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoreResult {
    /// 200 (all stored), 202 (some stored, or stored with warnings), 409 or 400 (none stored).
    pub status: StatusCode,
    /// The study's RetrieveURL, when the server gives one.
    pub retrieve_url: Option<String>,
    /// ReferencedSOPSequence: the instances stored.
    pub stored: Vec<StoredInstance>,
    /// FailedSOPSequence: the instances not stored, with reasons.
    pub failed: Vec<FailedInstance>,
    /// OtherFailuresSequence: failures not tied to one instance.
    pub other_failures: Vec<FailedInstance>,
    /// `Warning` headers.
    pub warnings: Vec<Warning>,
}

/// What a STOW-RS response says about one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceOutcome<'a> {
    /// Listed in the ReferencedSOPSequence (check its `warning_reason`).
    Stored(&'a StoredInstance),
    /// Listed in the FailedSOPSequence.
    Failed(&'a FailedInstance),
    /// Not listed at all.
    Unreported,
}

/// An item of the ReferencedSOPSequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredInstance {
    /// ReferencedSOPClassUID.
    pub sop_class_uid: Option<String>,
    /// ReferencedSOPInstanceUID.
    pub sop_instance_uid: Option<String>,
    /// RetrieveURL of the instance.
    pub retrieve_url: Option<String>,
    /// WarningReason: stored, but not exactly as sent.
    pub warning_reason: Option<WarningReason>,
}

/// An item of the FailedSOPSequence or OtherFailuresSequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedInstance {
    /// ReferencedSOPClassUID.
    pub sop_class_uid: Option<String>,
    /// ReferencedSOPInstanceUID.
    pub sop_instance_uid: Option<String>,
    /// FailureReason.
    pub failure_reason: Option<FailureReason>,
}

/// A FailureReason code (PS3.18 Table I.2-1, PS3.4 Annex B).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailureReason(pub u16);

/// A WarningReason code (PS3.18 Table I.2-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WarningReason(pub u16);

impl FailureReason {
    /// What the code means, when the standard defines it.
    pub fn description(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0110 => "processing failure",
            0x0112 => "no such object instance",
            0x0122 => "SOP class not supported",
            0x0124 => "not authorized",
            0x0211 => "unrecognized operation",
            0x0212 => "mistyped argument",
            0xC122 => "referenced transfer syntax not supported",
            0xA700..=0xA7FF => "out of resources",
            0xA900..=0xA9FF => "data set does not match SOP class",
            0xC000..=0xCFFF => "cannot understand",
            _ => return None,
        })
    }
}

impl WarningReason {
    /// What the code means, when the standard defines it.
    pub fn description(self) -> Option<&'static str> {
        match self.0 {
            0xB000 => Some("coercion of data elements"),
            0xB006 => Some("elements discarded"),
            0xB007 => Some("data set does not match SOP class"),
            _ => None,
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}H", self.0)?;
        if let Some(text) = self.description() {
            write!(f, " ({text})")?;
        }
        Ok(())
    }
}

impl fmt::Display for WarningReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}H", self.0)?;
        if let Some(text) = self.description() {
            write!(f, " ({text})")?;
        }
        Ok(())
    }
}

impl StoreResult {
    /// The result a STOW-RS response data set describes.
    pub fn from_data_set(status: StatusCode, data_set: &DataSet) -> StoreResult {
        let items = |tag: Tag| match data_set.get(tag).map(|e| &e.value) {
            Some(Value::Items(items)) => items.as_slice(),
            _ => &[],
        };
        StoreResult {
            status,
            retrieve_url: string(data_set, RETRIEVE_URL),
            stored: items(REFERENCED_SOP_SEQUENCE)
                .iter()
                .map(|item| StoredInstance {
                    sop_class_uid: string(item, REFERENCED_SOP_CLASS_UID),
                    sop_instance_uid: string(item, REFERENCED_SOP_INSTANCE_UID),
                    retrieve_url: string(item, RETRIEVE_URL),
                    warning_reason: code(item, WARNING_REASON).map(WarningReason),
                })
                .collect(),
            failed: items(FAILED_SOP_SEQUENCE).iter().map(failed).collect(),
            other_failures: items(OTHER_FAILURES_SEQUENCE).iter().map(failed).collect(),
            warnings: Vec::new(),
        }
    }

    /// What the server said about the instance `sop_instance_uid`.
    pub fn outcome(&self, sop_instance_uid: &Uid) -> InstanceOutcome<'_> {
        let named = |uid: &Option<String>| uid.as_deref() == Some(sop_instance_uid.as_str());
        if let Some(failed) = self.failed.iter().find(|f| named(&f.sop_instance_uid)) {
            return InstanceOutcome::Failed(failed);
        }
        match self.stored.iter().find(|s| named(&s.sop_instance_uid)) {
            Some(stored) => InstanceOutcome::Stored(stored),
            None => InstanceOutcome::Unreported,
        }
    }

    /// The instances of `sent` that the response lists neither as stored nor as failed: the
    /// server's answer does not match the request, and they should be treated as not stored.
    pub fn unreported<'a>(&self, sent: impl IntoIterator<Item = &'a Uid>) -> Vec<&'a Uid> {
        sent.into_iter()
            .filter(|uid| matches!(self.outcome(uid), InstanceOutcome::Unreported))
            .collect()
    }

    /// Whether everything sent was stored without warnings or failures.
    pub fn is_complete_success(&self) -> bool {
        self.failed.is_empty()
            && self.other_failures.is_empty()
            && self.stored.iter().all(|s| s.warning_reason.is_none())
            && self.status == StatusCode::OK
    }
}

fn failed(item: &DataSet) -> FailedInstance {
    FailedInstance {
        sop_class_uid: string(item, REFERENCED_SOP_CLASS_UID),
        sop_instance_uid: string(item, REFERENCED_SOP_INSTANCE_UID),
        failure_reason: code(item, FAILURE_REASON).map(FailureReason),
    }
}

fn string(data_set: &DataSet, tag: Tag) -> Option<String> {
    data_set
        .string(tag)
        .map(|s| s.trim_matches([' ', '\0']).to_owned())
        .filter(|s| !s.is_empty())
}

/// A US code, whether it came as a number or as text (decimal, or hex with an `H` suffix).
fn code(data_set: &DataSet, tag: Tag) -> Option<u16> {
    match &data_set.get(tag)?.value {
        Value::Numbers(numbers) => match numbers.first()?.as_ref()? {
            Number::Text(text) => code_text(text),
            number => number.to_i64().and_then(|n| u16::try_from(n).ok()),
        },
        Value::Strings(strings) => code_text(strings.first()?.as_deref()?),
        _ => None,
    }
}

fn code_text(text: &str) -> Option<u16> {
    let text = text.trim();
    match text.strip_suffix(['H', 'h']) {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Parses a STOW-RS response.
///
/// 200 and 202 carry a result (an empty body is a result with nothing listed). 400 and 409
/// carry one when their body lists instances (stored, failed or other failures); without such
/// a body they are an [`Error::Status`], as are all other error statuses.
pub fn parse_store(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    options: &ReadOptions,
) -> Result<StoreResult, Error> {
    let may_carry_result = matches!(status.as_u16(), 400 | 409);
    if !may_carry_result {
        check_status(status, headers, body)?;
    }
    let as_status = || Error::Status(Box::new(StatusError::new(status, headers, body)));
    let data_set = match read_body(headers, body, options) {
        Ok(Some(data_set)) => data_set,
        Ok(None) | Err(_) if may_carry_result => return Err(as_status()),
        Ok(None) => DataSet::new(),
        Err(err) => return Err(err),
    };
    let mut result = StoreResult::from_data_set(status, &data_set);
    let lists_nothing =
        result.stored.is_empty() && result.failed.is_empty() && result.other_failures.is_empty();
    if may_carry_result && lists_nothing {
        return Err(as_status());
    }
    result.warnings = warnings(headers);
    Ok(result)
}

fn read_body(
    headers: &HeaderMap,
    body: &[u8],
    options: &ReadOptions,
) -> Result<Option<DataSet>, Error> {
    match format(headers, body)? {
        Format::Empty => Ok(None),
        Format::Json => Ok(json::read(body, options)?
            .into_data_sets()
            .into_iter()
            .next()),
        Format::Xml => Ok(Some(xml::read(body, options)?)),
        Format::Multipart(m) | Format::Other(m) => Err(Error::UnexpectedResponse {
            expected: "a STOW-RS response in DICOM JSON or XML",
            found: format!("a body of type {m}"),
        }),
    }
}
