//! dicom-rs objects → [`DataSet`].

use dicom_core::header::Header as _;
use dicom_core::value::DicomValueType as _;
use dicom_core::value::{PixelFragmentSequence, PrimitiveValue, Value as DicomValue};
use dicom_object::mem::InMemElement;
use dicom_object::{FileMetaTable, InMemDicomObject};

use super::charset::Charset;
use super::part10_error;
use crate::{
    DataSet, Element, Error, Number, PathStep, PersonName, Tag, TagPath, Text, Value, ValueKind, Vr,
};

/// The file meta group as a data set.
pub(super) fn meta(table: &FileMetaTable) -> Result<DataSet, Error> {
    let mut out = DataSet::new();
    let mut path = TagPath::root();
    for element in table.to_element_iter() {
        let tag = Tag::new(element.tag().0, element.tag().1);
        path.push(PathStep::Tag(tag));
        let vr = vr_of(element.vr(), &path)?;
        let value = match element.value() {
            DicomValue::Primitive(p) => primitive(vr, p, &path)?,
            _ => {
                return Err(part10_error(format!(
                    "{path}: a file meta element is not primitive"
                )));
            }
        };
        path.pop();
        out.insert(tag, Element::new(vr, value));
    }
    Ok(out)
}

/// What the reader knows beyond dicom-rs's object.
pub(super) struct Context {
    /// The Specific Character Set values, in the order of the markers that replaced them.
    pub(super) declared: Vec<Charset>,
}

impl Context {
    /// The character set behind a marker `#n` that dicom-rs read in place of (0008,0005).
    fn declared(&self, value: &PrimitiveValue) -> Option<&Charset> {
        let text = value.to_str();
        let index: usize = text.trim().strip_prefix('#')?.parse().ok()?;
        self.declared.get(index)
    }
}

/// A dicom-rs in-memory object (a data set or a sequence item) as a data set.
///
/// Group Length (gggg,0000) elements are left out: they describe one Part 10 encoding, not
/// the data, and DICOM JSON and XML carry none.
pub(super) fn object(
    obj: &InMemDicomObject,
    context: &Context,
    inherited: &Charset,
    path: &mut TagPath,
) -> Result<DataSet, Error> {
    let own = obj
        .get(dicom_core::Tag(0x0008, 0x0005))
        .and_then(|e| e.value().primitive())
        .and_then(|p| context.declared(p));
    let charset = own.unwrap_or(inherited);
    let mut out = DataSet::new();
    for element in obj.iter() {
        let tag = Tag::new(element.tag().0, element.tag().1);
        if tag.element() == 0x0000 {
            continue;
        }
        path.push(PathStep::Tag(tag));
        let converted = if tag == Tag(0x0008_0005) {
            let values = own.map(Charset::values).unwrap_or_default();
            let empty = values.iter().all(Option::is_none) && values.len() <= 1;
            Element::new(
                Vr::CS,
                if empty {
                    Value::Empty
                } else {
                    Value::Strings(values.into_iter().map(|v| v.map(Text::from)).collect())
                },
            )
        } else {
            self::element(element, context, charset, path)?
        };
        path.pop();
        out.insert(tag, converted);
    }
    Ok(out)
}

fn element(
    element: &InMemElement,
    context: &Context,
    charset: &Charset,
    path: &mut TagPath,
) -> Result<Element, Error> {
    let vr = vr_of(element.vr(), path)?;
    match element.value() {
        DicomValue::Primitive(p) if affected_by_charset(vr) => {
            let raw = latin1_bytes(p);
            let decoded = charset.decode(&raw, !matches!(vr, Vr::LT | Vr::ST | Vr::UT));
            let value = PrimitiveValue::Strs(decoded.into_iter().collect());
            Ok(Element::new(vr, primitive(vr, &value, path)?))
        }
        DicomValue::Primitive(p) => Ok(Element::new(vr, primitive(vr, p, path)?)),
        DicomValue::Sequence(sequence) if sequence.items().is_empty() => {
            Ok(Element::new(Vr::SQ, Value::Empty))
        }
        DicomValue::Sequence(sequence) => {
            let mut items = Vec::with_capacity(sequence.items().len());
            for (i, item) in sequence.items().iter().enumerate() {
                path.push(PathStep::Item(i));
                items.push(object(item, context, charset, path)?);
                path.pop();
            }
            Ok(Element::new(Vr::SQ, Value::Items(items)))
        }
        DicomValue::PixelSequence(pixels) => Ok(Element::new(
            if vr.kind() == ValueKind::Binary {
                vr
            } else {
                Vr::OB
            },
            Value::InlineBinary(encapsulated_stream(pixels).into()),
        )),
    }
}

/// The encapsulated pixel data stream as Part 10 holds it after the element header (PS3.5 A.4).
pub(super) fn encapsulated_stream(pixels: &PixelFragmentSequence<Vec<u8>>) -> Vec<u8> {
    fn item(out: &mut Vec<u8>, body: &[u8]) {
        out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
    }
    let table: Vec<u8> = pixels
        .offset_table()
        .iter()
        .flat_map(|o| o.to_le_bytes())
        .collect();
    let mut out = Vec::new();
    item(&mut out, &table);
    for fragment in pixels.fragments() {
        item(&mut out, fragment);
    }
    out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    out
}

fn vr_of(vr: dicom_core::VR, path: &TagPath) -> Result<Vr, Error> {
    vr.to_string()
        .parse()
        .map_err(|_| part10_error(format!("{path}: dicom-rs gave an unknown VR {vr:?}")))
}

/// The VRs whose text the Specific Character Set governs (PS3.5 6.1.2.3).
fn affected_by_charset(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::SH | Vr::LO | Vr::ST | Vr::LT | Vr::UC | Vr::UT | Vr::PN
    )
}

/// The bytes behind text that dicom-rs decoded as ISO 8859-1 (values joined by backslashes).
fn latin1_bytes(value: &PrimitiveValue) -> Vec<u8> {
    let text = match value {
        PrimitiveValue::Empty => return Vec::new(),
        PrimitiveValue::Strs(all) => all.join("\\"),
        PrimitiveValue::Str(one) => one.clone(),
        other => other.to_str().into_owned(),
    };
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// The text values of a primitive value, split at backslashes where the VR is multi-valued.
fn texts(value: &PrimitiveValue) -> Vec<String> {
    match value {
        PrimitiveValue::Strs(all) => all.iter().cloned().collect(),
        PrimitiveValue::Str(one) => vec![one.clone()],
        other => other.to_str().split('\\').map(str::to_owned).collect(),
    }
}

fn trim(vr: Vr, text: &str) -> String {
    let padding = [' ', '\0'];
    match vr {
        Vr::LT | Vr::ST | Vr::UT | Vr::UR | Vr::PN => text.trim_end_matches(padding),
        _ => text.trim_matches(padding),
    }
    .to_owned()
}

/// Text values, trimmed; an only value that is empty means no value at all.
fn trimmed_texts(vr: Vr, value: &PrimitiveValue) -> Option<Vec<Option<String>>> {
    let values: Vec<Option<String>> = texts(value)
        .iter()
        .map(|t| Some(trim(vr, t)).filter(|t| !t.is_empty()))
        .collect();
    if values.len() == 1 && values[0].is_none() {
        None
    } else {
        Some(values)
    }
}

fn primitive(vr: Vr, value: &PrimitiveValue, path: &TagPath) -> Result<Value, Error> {
    if matches!(value, PrimitiveValue::Empty) {
        return Ok(Value::Empty);
    }
    let shape_error = || {
        part10_error(format!(
            "{path}: a {vr} element holds a value of the wrong shape ({:?})",
            value.value_type()
        ))
    };
    Ok(match vr.kind() {
        ValueKind::Text => match trimmed_texts(vr, value) {
            Some(values) => Value::Strings(values.into_iter().map(|v| v.map(Text::from)).collect()),
            None => Value::Empty,
        },
        ValueKind::DecimalText => match trimmed_texts(vr, value) {
            Some(values) => Value::Numbers(
                values
                    .into_iter()
                    .map(|v| v.map(|t| Number::Text(t.into())))
                    .collect(),
            ),
            None => Value::Empty,
        },
        ValueKind::PersonName => match trimmed_texts(vr, value) {
            Some(values) => Value::PersonNames(
                values
                    .into_iter()
                    .map(|v| {
                        v.map(|t| PersonName::from_dicom_string(&t))
                            .filter(|n| !n.is_empty())
                    })
                    .collect(),
            ),
            None => Value::Empty,
        },
        ValueKind::Integer | ValueKind::Float => {
            Value::Numbers(numbers(value).ok_or_else(shape_error)?.into())
        }
        ValueKind::Tag => match value {
            PrimitiveValue::Tags(tags) => {
                Value::Tags(tags.iter().map(|t| Some(Tag::new(t.0, t.1))).collect())
            }
            _ => return Err(shape_error()),
        },
        ValueKind::Binary => {
            Value::InlineBinary(little_endian_bytes(value).ok_or_else(shape_error)?.into())
        }
        ValueKind::Sequence => return Err(shape_error()),
    })
}

fn numbers(value: &PrimitiveValue) -> Option<Vec<Option<Number>>> {
    fn all<T: Copy>(values: &[T], f: impl Fn(T) -> Number) -> Vec<Option<Number>> {
        values.iter().map(|&v| Some(f(v))).collect()
    }
    Some(match value {
        PrimitiveValue::U8(v) => all(v, |x| Number::Int(x.into())),
        PrimitiveValue::I16(v) => all(v, |x| Number::Int(x.into())),
        PrimitiveValue::U16(v) => all(v, |x| Number::Int(x.into())),
        PrimitiveValue::I32(v) => all(v, |x| Number::Int(x.into())),
        PrimitiveValue::U32(v) => all(v, |x| Number::Int(x.into())),
        PrimitiveValue::I64(v) => all(v, Number::Int),
        PrimitiveValue::U64(v) => all(v, |x| i64::try_from(x).map_or(Number::UInt(x), Number::Int)),
        PrimitiveValue::F32(v) => all(v, |x| Number::Float(x.into())),
        PrimitiveValue::F64(v) => all(v, Number::Float),
        _ => return None,
    })
}

fn little_endian_bytes(value: &PrimitiveValue) -> Option<Vec<u8>> {
    Some(match value {
        PrimitiveValue::U8(v) => v.to_vec(),
        PrimitiveValue::I16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::U16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::U32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::U64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        PrimitiveValue::Str(_) | PrimitiveValue::Strs(_) => value.to_str().as_bytes().to_vec(),
        _ => return None,
    })
}
