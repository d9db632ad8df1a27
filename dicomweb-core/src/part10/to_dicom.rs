//! [`DataSet`] → dicom-rs objects → Part 10 bytes.

use dicom_core::value::{
    C, DataSetSequence, PixelFragmentSequence, PrimitiveValue, Value as DicomValue,
};
use dicom_core::{DataElement, Length, VR};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::{EXPLICIT_VR_LITTLE_ENDIAN, error_chain, part10_error};
use crate::{DataSet, Element, Error, Number, PathStep, Tag, TagPath, Value, ValueKind, Vr};

type DicomElementValue = DicomValue<InMemDicomObject, Vec<u8>>;

const NATIVE_TRANSFER_SYNTAXES: [&str; 4] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
];

pub(super) fn write(meta: &DataSet, data_set: &DataSet) -> Result<Vec<u8>, Error> {
    let text = |tag: u32| {
        meta.string(Tag(tag))
            .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
    };
    let transfer_syntax = text(0x0002_0010).unwrap_or_else(|| EXPLICIT_VR_LITTLE_ENDIAN.to_owned());
    let encapsulated = !NATIVE_TRANSFER_SYNTAXES.contains(&transfer_syntax.as_str());
    let from_data_set = |tag: u32| {
        data_set
            .string(Tag(tag))
            .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
    };

    let mut builder = FileMetaTableBuilder::new().transfer_syntax(transfer_syntax.as_str());
    if let Some(uid) = text(0x0002_0002).or_else(|| from_data_set(0x0008_0016)) {
        builder = builder.media_storage_sop_class_uid(uid);
    }
    if let Some(uid) = text(0x0002_0003).or_else(|| from_data_set(0x0008_0018)) {
        builder = builder.media_storage_sop_instance_uid(uid);
    }
    if let Some(uid) = text(0x0002_0012) {
        builder = builder.implementation_class_uid(uid);
        if let Some(name) = text(0x0002_0013) {
            builder = builder.implementation_version_name(name);
        }
    }
    if let Some(title) = text(0x0002_0016) {
        builder = builder.source_application_entity_title(title);
    }
    if let Some(title) = text(0x0002_0017) {
        builder = builder.sending_application_entity_title(title);
    }
    if let Some(title) = text(0x0002_0018) {
        builder = builder.receiving_application_entity_title(title);
    }
    if let Some(uid) = text(0x0002_0100) {
        builder = builder.private_information_creator_uid(uid);
    }
    let table = builder
        .build()
        .map_err(|e| part10_error(format!("invalid file meta group: {}", error_chain(&e))))?;

    let object = to_object(data_set, encapsulated, &mut TagPath::root())?;
    let mut out = Vec::new();
    object
        .with_exact_meta(table)
        .write_all(&mut out)
        .map_err(|e| {
            part10_error(format!(
                "dicom-rs could not write the file: {}",
                error_chain(&e)
            ))
        })?;
    Ok(out)
}

fn to_object(
    data_set: &DataSet,
    encapsulated: bool,
    path: &mut TagPath,
) -> Result<InMemDicomObject, Error> {
    let mut elements = Vec::with_capacity(data_set.len());
    for (&tag, element) in data_set {
        path.push(PathStep::Tag(tag));
        let utf8;
        let element = if tag == Tag(0x0008_0005) && uses_code_extensions(&element.value) {
            // dicom-rs cannot encode ISO 2022 code extensions: write this data set's text as
            // UTF-8 instead, and say so.
            utf8 = Element::string(Vr::CS, "ISO_IR 192");
            &utf8
        } else {
            element
        };
        let value = to_value(tag, element, encapsulated, path)?;
        path.pop();
        let vr = element.vr.as_str().parse::<VR>().unwrap_or(VR::UN);
        elements.push(DataElement::new(
            dicom_core::Tag(tag.group(), tag.element()),
            vr,
            value,
        ));
    }
    Ok(InMemDicomObject::from_element_iter(elements))
}

fn to_value(
    tag: Tag,
    element: &Element,
    encapsulated: bool,
    path: &mut TagPath,
) -> Result<DicomElementValue, Error> {
    let vr = element.vr;
    let wrong = |what: &str| {
        part10_error(format!(
            "{path}: a {vr} element cannot hold {what} in Part 10"
        ))
    };
    let primitive = |p: PrimitiveValue| Ok(DicomValue::Primitive(p));
    match &element.value {
        Value::Empty if vr == Vr::SQ => Ok(DicomValue::Sequence(DataSetSequence::new(
            C::new(),
            Length::UNDEFINED,
        ))),
        Value::Empty => primitive(PrimitiveValue::Empty),
        Value::BulkDataUri(uri) => Err(part10_error(format!(
            "{path}: the value is a BulkDataURI ({uri}); fetch the bulk data and put it inline before writing Part 10"
        ))),
        Value::Items(items) => {
            let mut out = C::new();
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Item(i));
                out.push(to_object(item, encapsulated, path)?);
                path.pop();
            }
            Ok(DicomValue::Sequence(DataSetSequence::new(
                out,
                Length::UNDEFINED,
            )))
        }
        Value::Strings(values) => primitive(strings(
            vr,
            values
                .iter()
                .map(|v| v.as_deref().unwrap_or_default().to_owned()),
        )),
        Value::PersonNames(values) => primitive(strings(
            vr,
            values
                .iter()
                .map(|v| v.as_ref().map(|n| n.to_dicom_string()).unwrap_or_default()),
        )),
        Value::Tags(values) => {
            let tags: Option<C<dicom_core::Tag>> = values
                .iter()
                .map(|t| t.map(|t| dicom_core::Tag(t.group(), t.element())))
                .collect();
            primitive(PrimitiveValue::Tags(
                tags.ok_or_else(|| wrong("an empty AT value inside several"))?,
            ))
        }
        Value::Numbers(values)
            if vr.kind() == ValueKind::DecimalText || vr.kind() == ValueKind::Text =>
        {
            primitive(strings(
                vr,
                values
                    .iter()
                    .map(|v| v.as_ref().map(number_text).unwrap_or_default()),
            ))
        }
        Value::Numbers(values) => {
            let mut numbers = Vec::with_capacity(values.len());
            for v in values {
                numbers.push(
                    v.as_ref()
                        .ok_or_else(|| wrong("an empty value inside several numbers"))?,
                );
            }
            primitive(binary_numbers(vr, &numbers).ok_or_else(|| wrong("these numbers"))?)
        }
        Value::InlineBinary(bytes) => {
            if tag == Tag(0x7FE0_0010)
                && encapsulated
                && bytes.starts_with(&[0xFE, 0xFF, 0x00, 0xE0])
            {
                let pixels = parse_encapsulated(bytes).ok_or_else(|| {
                    part10_error(format!(
                        "{path}: the encapsulated pixel data stream is malformed"
                    ))
                })?;
                return Ok(DicomValue::PixelSequence(pixels));
            }
            primitive(binary(vr, bytes).ok_or_else(|| {
                wrong(&format!(
                    "{} bytes of InlineBinary (not a whole number of values)",
                    bytes.len()
                ))
            })?)
        }
    }
}

/// Whether a Specific Character Set uses ISO 2022 code extensions (several values, or an
/// `ISO 2022 …` defined term).
fn uses_code_extensions(value: &Value) -> bool {
    match value {
        Value::Strings(terms) => {
            terms.len() > 1
                || terms
                    .iter()
                    .flatten()
                    .any(|t| t.trim().starts_with("ISO 2022"))
        }
        _ => false,
    }
}

fn strings(vr: Vr, values: impl Iterator<Item = String>) -> PrimitiveValue {
    match vr {
        Vr::LT | Vr::ST | Vr::UT | Vr::UR => {
            PrimitiveValue::Str(values.collect::<Vec<_>>().join("\\"))
        }
        _ => PrimitiveValue::Strs(values.collect()),
    }
}

fn number_text(n: &Number) -> String {
    match n {
        Number::Text(t) => t.to_string(),
        Number::Int(v) => v.to_string(),
        Number::UInt(v) => v.to_string(),
        Number::Float(v) => v.to_string(),
    }
}

fn binary_numbers(vr: Vr, values: &[&Number]) -> Option<PrimitiveValue> {
    fn each<T>(values: &[&Number], f: impl Fn(&Number) -> Option<T>) -> Option<C<T>> {
        values.iter().map(|v| f(v)).collect()
    }
    let int = |n: &Number| n.to_i64();
    Some(match vr {
        Vr::US => PrimitiveValue::U16(each(values, |n| int(n)?.try_into().ok())?),
        Vr::SS => PrimitiveValue::I16(each(values, |n| int(n)?.try_into().ok())?),
        Vr::UL => PrimitiveValue::U32(each(values, |n| int(n)?.try_into().ok())?),
        Vr::SL => PrimitiveValue::I32(each(values, |n| int(n)?.try_into().ok())?),
        Vr::SV => PrimitiveValue::I64(each(values, int)?),
        Vr::UV => PrimitiveValue::U64(each(values, |n| match n {
            Number::UInt(v) => Some(*v),
            other => other.to_i64()?.try_into().ok(),
        })?),
        Vr::FL => PrimitiveValue::F32(each(values, |n| n.to_f64().map(|v| v as f32))?),
        Vr::FD => PrimitiveValue::F64(each(values, Number::to_f64)?),
        _ => return None,
    })
}

fn binary(vr: Vr, bytes: &[u8]) -> Option<PrimitiveValue> {
    fn chunks<const N: usize, T>(bytes: &[u8], f: fn([u8; N]) -> T) -> Option<C<T>> {
        if !bytes.len().is_multiple_of(N) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N])))
                .collect(),
        )
    }
    Some(match vr {
        Vr::OB | Vr::UN => PrimitiveValue::U8(bytes.iter().copied().collect()),
        Vr::OW => PrimitiveValue::U16(chunks(bytes, u16::from_le_bytes)?),
        Vr::OL => PrimitiveValue::U32(chunks(bytes, u32::from_le_bytes)?),
        Vr::OF => PrimitiveValue::F32(chunks(bytes, f32::from_le_bytes)?),
        Vr::OD => PrimitiveValue::F64(chunks(bytes, f64::from_le_bytes)?),
        Vr::OV => PrimitiveValue::U64(chunks(bytes, u64::from_le_bytes)?),
        _ => return None,
    })
}

/// Splits an encapsulated pixel data stream (items, then the sequence delimiter) into the
/// Basic Offset Table and the fragments.
pub(super) fn parse_encapsulated(bytes: &[u8]) -> Option<PixelFragmentSequence<Vec<u8>>> {
    let mut rest = bytes;
    let mut items: Vec<Vec<u8>> = Vec::new();
    loop {
        let header = rest.get(..8)?;
        let tag = [header[0], header[1], header[2], header[3]];
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        rest = &rest[8..];
        match tag {
            [0xFE, 0xFF, 0xDD, 0xE0] => break,
            [0xFE, 0xFF, 0x00, 0xE0] => {
                items.push(rest.get(..length)?.to_vec());
                rest = &rest[length..];
            }
            _ => return None,
        }
    }
    if !rest.is_empty() || items.is_empty() {
        return None;
    }
    let table = items.remove(0);
    if !table.len().is_multiple_of(4) {
        return None;
    }
    let offsets: C<u32> = table
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Some(PixelFragmentSequence::new(offsets, items))
}
