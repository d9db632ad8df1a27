//! Deterministic inputs shaped like real DICOMweb responses: a QIDO-RS study search and the
//! metadata of a CT series, as DICOM JSON and as Native DICOM Model XML.

use crate::Rng;
use dicomweb_core::{DataSet, Element, Number, PersonName, Tag, Text, Value, Vr, json, xml};

fn put(ds: &mut DataSet, tag: u32, element: Element) {
    ds.insert(Tag(tag), element);
}

fn text(ds: &mut DataSet, tag: u32, vr: Vr, value: impl Into<Text>) {
    put(ds, tag, Element::string(vr, value));
}

fn decimals(ds: &mut DataSet, tag: u32, vr: Vr, values: &[String]) {
    put(
        ds,
        tag,
        Element::numbers(vr, values.iter().map(|v| Number::Text(v.into()))),
    );
}

fn ints(ds: &mut DataSet, tag: u32, vr: Vr, values: &[i64]) {
    put(
        ds,
        tag,
        Element::numbers(vr, values.iter().map(|&v| Number::Int(v))),
    );
}

fn uid(rng: &mut Rng) -> String {
    format!("2.25.{}{}", rng.next_u64(), rng.below(1_000_000))
}

/// One study of a QIDO-RS `/studies` answer, in the attributes Orthanc returns.
fn study(rng: &mut Rng, n: usize) -> DataSet {
    let mut ds = DataSet::new();
    text(&mut ds, 0x0008_0005, Vr::CS, "ISO_IR 192");
    text(
        &mut ds,
        0x0008_0020,
        Vr::DA,
        format!(
            "20{:02}{:02}{:02}",
            rng.below(25),
            1 + rng.below(12),
            1 + rng.below(28)
        ),
    );
    text(
        &mut ds,
        0x0008_0030,
        Vr::TM,
        format!(
            "{:02}{:02}{:02}.{:06}",
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1_000_000)
        ),
    );
    text(&mut ds, 0x0008_0050, Vr::SH, format!("ACC{n:08}"));
    put(&mut ds, 0x0008_0061, Element::strings(Vr::CS, ["CT", "SR"]));
    put(&mut ds, 0x0008_0090, Element::empty(Vr::PN));
    text(&mut ds, 0x0008_1030, Vr::LO, "CT CHEST WITH CONTRAST");
    text(
        &mut ds,
        0x0008_1190,
        Vr::UR,
        format!("http://127.0.0.1:8042/dicom-web/studies/{}", uid(rng)),
    );
    put(
        &mut ds,
        0x0010_0010,
        Element::person_name(PersonName::alphabetic(format!(
            "Patient{}^Given{}",
            rng.below(100_000),
            n
        ))),
    );
    text(
        &mut ds,
        0x0010_0020,
        Vr::LO,
        format!("PID{:07}", rng.below(10_000_000)),
    );
    text(
        &mut ds,
        0x0010_0030,
        Vr::DA,
        format!(
            "19{:02}{:02}{:02}",
            rng.below(100),
            1 + rng.below(12),
            1 + rng.below(28)
        ),
    );
    text(
        &mut ds,
        0x0010_0040,
        Vr::CS,
        if rng.below(2) == 0 { "F" } else { "M" },
    );
    text(&mut ds, 0x0020_000D, Vr::UI, uid(rng));
    text(
        &mut ds,
        0x0020_0010,
        Vr::SH,
        format!("{}", rng.below(100_000)),
    );
    decimals(
        &mut ds,
        0x0020_1206,
        Vr::IS,
        &[format!("{}", 1 + rng.below(8))],
    );
    decimals(
        &mut ds,
        0x0020_1208,
        Vr::IS,
        &[format!("{}", 1 + rng.below(2000))],
    );
    ds
}

/// One CT image's metadata, as a WADO-RS metadata answer carries it.
fn ct_instance(rng: &mut Rng, study: &str, series: &str, n: usize) -> DataSet {
    let mut ds = DataSet::new();
    text(&mut ds, 0x0008_0005, Vr::CS, "ISO_IR 100");
    put(
        &mut ds,
        0x0008_0008,
        Element::strings(Vr::CS, ["ORIGINAL", "PRIMARY", "AXIAL"]),
    );
    text(&mut ds, 0x0008_0016, Vr::UI, "1.2.840.10008.5.1.4.1.1.2");
    text(&mut ds, 0x0008_0018, Vr::UI, uid(rng));
    for (tag, value) in [
        (0x0008_0020, "20240131"),
        (0x0008_0021, "20240131"),
        (0x0008_0022, "20240131"),
        (0x0008_0023, "20240131"),
    ] {
        text(&mut ds, tag, Vr::DA, value);
    }
    text(&mut ds, 0x0008_0030, Vr::TM, "101512.000000");
    text(&mut ds, 0x0008_0060, Vr::CS, "CT");
    text(&mut ds, 0x0008_0070, Vr::LO, "ACME Medical Systems");
    text(&mut ds, 0x0008_0080, Vr::LO, "General Hospital");
    text(&mut ds, 0x0008_1030, Vr::LO, "CT CHEST WITH CONTRAST");
    text(&mut ds, 0x0008_103E, Vr::LO, "AXIAL 1.25mm");
    text(&mut ds, 0x0008_1090, Vr::LO, "Scanner 9000");
    let mut referenced = DataSet::new();
    text(
        &mut referenced,
        0x0008_1150,
        Vr::UI,
        "1.2.840.10008.5.1.4.1.1.2",
    );
    text(&mut referenced, 0x0008_1155, Vr::UI, uid(rng));
    put(&mut ds, 0x0008_1140, Element::sequence(vec![referenced]));
    put(
        &mut ds,
        0x0010_0010,
        Element::person_name(PersonName::alphabetic("Doe^Jane")),
    );
    text(&mut ds, 0x0010_0020, Vr::LO, "PID0012345");
    text(&mut ds, 0x0010_0030, Vr::DA, "19700101");
    text(&mut ds, 0x0010_0040, Vr::CS, "F");
    text(&mut ds, 0x0010_1010, Vr::AS, "054Y");
    text(&mut ds, 0x0018_0015, Vr::CS, "CHEST");
    decimals(&mut ds, 0x0018_0050, Vr::DS, &["1.25".into()]);
    decimals(&mut ds, 0x0018_0060, Vr::DS, &["120".into()]);
    decimals(&mut ds, 0x0018_0088, Vr::DS, &["1.25".into()]);
    decimals(&mut ds, 0x0018_0090, Vr::DS, &["500.000000".into()]);
    decimals(&mut ds, 0x0018_1100, Vr::DS, &["338.671600".into()]);
    decimals(&mut ds, 0x0018_1120, Vr::DS, &["0.0".into()]);
    decimals(
        &mut ds,
        0x0018_1150,
        Vr::IS,
        &[format!("{}", 500 + rng.below(500))],
    );
    decimals(
        &mut ds,
        0x0018_1151,
        Vr::IS,
        &[format!("{}", 100 + rng.below(400))],
    );
    decimals(
        &mut ds,
        0x0018_1152,
        Vr::IS,
        &[format!("{}", rng.below(100))],
    );
    text(&mut ds, 0x0018_1210, Vr::SH, "STANDARD");
    text(&mut ds, 0x0018_5100, Vr::CS, "FFS");
    text(&mut ds, 0x0020_000D, Vr::UI, study);
    text(&mut ds, 0x0020_000E, Vr::UI, series);
    text(&mut ds, 0x0020_0010, Vr::SH, "1");
    decimals(&mut ds, 0x0020_0011, Vr::IS, &["2".into()]);
    decimals(&mut ds, 0x0020_0013, Vr::IS, &[format!("{}", n + 1)]);
    let z = -(n as f64) * 1.25;
    decimals(
        &mut ds,
        0x0020_0032,
        Vr::DS,
        &[
            "-249.51171875".into(),
            "-417.01171875".into(),
            format!("{z:.2}"),
        ],
    );
    decimals(
        &mut ds,
        0x0020_0037,
        Vr::DS,
        &[
            "1".into(),
            "0".into(),
            "0".into(),
            "0".into(),
            "1".into(),
            "0".into(),
        ],
    );
    text(&mut ds, 0x0020_0052, Vr::UI, "2.25.1234567890");
    decimals(&mut ds, 0x0020_1041, Vr::DS, &[format!("{z:.2}")]);
    ints(&mut ds, 0x0028_0002, Vr::US, &[1]);
    text(&mut ds, 0x0028_0004, Vr::CS, "MONOCHROME2");
    ints(&mut ds, 0x0028_0010, Vr::US, &[512]);
    ints(&mut ds, 0x0028_0011, Vr::US, &[512]);
    decimals(
        &mut ds,
        0x0028_0030,
        Vr::DS,
        &["0.9765625".into(), "0.9765625".into()],
    );
    ints(&mut ds, 0x0028_0100, Vr::US, &[16]);
    ints(&mut ds, 0x0028_0101, Vr::US, &[12]);
    ints(&mut ds, 0x0028_0102, Vr::US, &[11]);
    ints(&mut ds, 0x0028_0103, Vr::US, &[0]);
    decimals(&mut ds, 0x0028_1050, Vr::DS, &["40".into(), "400".into()]);
    decimals(&mut ds, 0x0028_1051, Vr::DS, &["400".into(), "1500".into()]);
    decimals(&mut ds, 0x0028_1052, Vr::DS, &["-1024".into()]);
    decimals(&mut ds, 0x0028_1053, Vr::DS, &["1".into()]);
    put(
        &mut ds,
        0x7FE0_0010,
        Element::new(
            Vr::OW,
            Value::BulkDataUri(Text::from(format!(
                "http://127.0.0.1:8042/dicom-web/studies/{study}/series/{series}/instances/{n}/bulk/7fe00010"
            ))),
        ),
    );
    ds
}

/// A QIDO-RS answer listing `studies` studies, as one DICOM JSON array.
pub fn qido_json(studies: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let all: Vec<DataSet> = (0..studies).map(|n| study(&mut rng, n)).collect();
    let mut out = Vec::new();
    json::write_data_sets(&all, &mut out);
    out
}

/// The metadata of a CT series of `instances` images, one data set per instance.
pub fn ct_series(instances: usize, seed: u64) -> Vec<DataSet> {
    let mut rng = Rng(seed);
    let study = uid(&mut rng);
    let series = uid(&mut rng);
    (0..instances)
        .map(|n| ct_instance(&mut rng, &study, &series, n))
        .collect()
}

/// Each instance as its own DICOM JSON object; IS and DS as JSON numbers (`as_strings` false,
/// Orthanc's way) or as JSON strings (dcm4chee's way).
pub fn ct_json(series: &[DataSet], as_strings: bool) -> Vec<Vec<u8>> {
    series
        .iter()
        .map(|ds| {
            let mut out = Vec::new();
            json::write_data_set(ds, &mut out);
            if as_strings {
                quote_decimals(&out)
            } else {
                out
            }
        })
        .collect()
}

/// Each instance as its own Native DICOM Model document.
pub fn ct_xml(series: &[DataSet]) -> Vec<Vec<u8>> {
    series.iter().map(xml::write).collect()
}

/// Rewrites the numbers of IS and DS values as JSON strings.
fn quote_decimals(json: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(json);
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest: &str = &text;
    loop {
        let next = ["\"vr\":\"DS\",\"Value\":[", "\"vr\":\"IS\",\"Value\":["]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at + len]);
        rest = &rest[at + len..];
        let end = rest.find(']').unwrap_or(rest.len());
        let quoted: Vec<String> = rest[..end]
            .split(',')
            .map(|v| {
                if v.starts_with('"') || v == "null" {
                    v.to_owned()
                } else {
                    format!("\"{v}\"")
                }
            })
            .collect();
        out.push_str(&quoted.join(","));
        rest = &rest[end..];
    }
    out.into_bytes()
}
