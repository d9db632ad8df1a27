//! Reading the Native DICOM Model: every construct of PS3.19 Annex A, and the variants that
//! real producers (dcmtk's dcm2xml, dcm4che, Orthanc) write.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::{Error, Number, PersonName, ReadOptions, Tag, Value, Vr, xml};

fn doc(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <NativeDicomModel xmlns=\"http://dicom.nema.org/PS3.19/models/NativeDICOM\" xml:space=\"preserve\">\n\
         {body}\n</NativeDicomModel>\n"
    )
}

fn read(body: &str) -> dicomweb_core::DataSet {
    xml::read(doc(body).as_bytes(), &ReadOptions::default()).unwrap()
}

fn read_err(body: &str, options: &ReadOptions) -> Error {
    xml::read(doc(body).as_bytes(), options).unwrap_err()
}

#[test]
fn attribute_header_and_string_values() {
    let ds = read(
        r#"<DicomAttribute tag="00080008" vr="CS" keyword="ImageType">
             <Value number="1">ORIGINAL</Value><Value number="2">PRIMARY</Value>
           </DicomAttribute>
           <DicomAttribute tag="0020000d" vr="UI"><Value number="1">1.2.3</Value></DicomAttribute>
           <DicomAttribute tag="00080050" vr="SH" keyword="AccessionNumber"/>"#,
    );
    let image_type = ds.get(Tag(0x0008_0008)).unwrap();
    assert_eq!(image_type.vr, Vr::CS);
    assert_eq!(
        image_type.value,
        Value::Strings(vec![Some("ORIGINAL".into()), Some("PRIMARY".into())].into())
    );
    assert_eq!(ds.string(Tag(0x0020_000D)), Some("1.2.3"));
    assert_eq!(ds.get(Tag(0x0008_0050)).unwrap().value, Value::Empty);
}

#[test]
fn values_out_of_order_with_gaps_and_empty_values() {
    let ds = read(
        r#"<DicomAttribute tag="00080008" vr="CS">
             <Value number="4">D</Value>
             <Value number="1">A</Value>
             <Value number="2"></Value>
             <Value number="6"/>
           </DicomAttribute>"#,
    );
    assert_eq!(
        ds.get(Tag(0x0008_0008)).unwrap().value,
        Value::Strings(vec![Some("A".into()), None, None, Some("D".into()), None, None].into())
    );
}

#[test]
fn text_keeps_spaces_references_and_cdata() {
    let ds = read(
        "<DicomAttribute tag=\"00081030\" vr=\"LO\"><Value number=\"1\"> a &amp; b &lt;c&gt; &#x41;&#66; </Value></DicomAttribute>\
         <DicomAttribute tag=\"00204000\" vr=\"LT\"><Value number=\"1\">line1\r\nline2&#xD;\n<![CDATA[<raw> & ]]></Value></DicomAttribute>",
    );
    assert_eq!(ds.string(Tag(0x0008_1030)), Some(" a & b <c> AB "));
    assert_eq!(
        ds.string(Tag(0x0020_4000)),
        Some("line1\nline2\r\n<raw> & ")
    );
}

#[test]
fn person_name_components_and_groups() {
    let ds = read(
        r#"<DicomAttribute tag="00100010" vr="PN" keyword="PatientName">
             <PersonName number="1">
               <Alphabetic><FamilyName>Adams</FamilyName><GivenName>John Robert Quincy</GivenName>
                 <NamePrefix>Rev.</NamePrefix><NameSuffix>B.A. M.Div.</NameSuffix></Alphabetic>
             </PersonName>
             <PersonName number="2">
               <Alphabetic><FamilyName>Yamada</FamilyName><GivenName>Tarou</GivenName></Alphabetic>
               <Ideographic><FamilyName>山田</FamilyName><GivenName>太郎</GivenName></Ideographic>
               <Phonetic><FamilyName>やまだ</FamilyName><GivenName>たろう</GivenName></Phonetic>
             </PersonName>
             <PersonName number="4"><Ideographic><GivenName>太郎</GivenName></Ideographic></PersonName>
             <PersonName number="5"/>
             <PersonName number="6">
               <Alphabetic><FamilyName></FamilyName><GivenName/><MiddleName></MiddleName><NamePrefix></NamePrefix><NameSuffix></NameSuffix></Alphabetic>
               <Phonetic><FamilyName></FamilyName></Phonetic>
             </PersonName>
             <PersonName number="7"><Alphabetic><FamilyName>Doe</FamilyName><GivenName>John</GivenName><MiddleName/></Alphabetic></PersonName>
           </DicomAttribute>"#,
    );
    let Value::PersonNames(names) = &ds.get(Tag(0x0010_0010)).unwrap().value else {
        panic!("not person names");
    };
    assert_eq!(
        names[0],
        Some(PersonName::alphabetic(
            "Adams^John Robert Quincy^^Rev.^B.A. M.Div."
        ))
    );
    let japanese = names[1].as_ref().unwrap();
    assert_eq!(
        japanese.to_dicom_string(),
        "Yamada^Tarou=山田^太郎=やまだ^たろう"
    );
    assert_eq!(names[2], None);
    assert_eq!(names[3].as_ref().unwrap().to_dicom_string(), "=^太郎");
    assert_eq!(names[4], None);
    // Components written empty count (Orthanc writes "^^^^" this way); left out, they do not.
    let orthanc = names[5].as_ref().unwrap();
    assert_eq!(orthanc.alphabetic.as_deref(), Some("^^^^"));
    assert_eq!(orthanc.phonetic.as_deref(), Some(""));
    assert_eq!(names[6], Some(PersonName::alphabetic("Doe^John^")));
    assert_eq!(names.len(), 7);
}

#[test]
fn sequences_nest_items() {
    let ds = read(
        r#"<DicomAttribute tag="00081115" vr="SQ" keyword="ReferencedSeriesSequence">
             <Item number="2"><DicomAttribute tag="0020000E" vr="UI"><Value number="1">2.2</Value></DicomAttribute></Item>
             <Item number="1">
               <DicomAttribute tag="00081199" vr="SQ">
                 <Item number="1"><DicomAttribute tag="00081155" vr="UI"><Value number="1">1.1.1</Value></DicomAttribute></Item>
               </DicomAttribute>
               <DicomAttribute tag="0020000E" vr="UI"><Value number="1">1.1</Value></DicomAttribute>
             </Item>
             <Item number="3"/>
           </DicomAttribute>
           <DicomAttribute tag="00100020" vr="LO"><Value number="1">after</Value></DicomAttribute>"#,
    );
    let Value::Items(items) = &ds.get(Tag(0x0008_1115)).unwrap().value else {
        panic!("not a sequence");
    };
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].string(Tag(0x0020_000E)), Some("1.1"));
    assert_eq!(items[1].string(Tag(0x0020_000E)), Some("2.2"));
    assert!(items[2].is_empty());
    let Value::Items(inner) = &items[0].get(Tag(0x0008_1199)).unwrap().value else {
        panic!("not a nested sequence");
    };
    assert_eq!(inner[0].string(Tag(0x0008_1155)), Some("1.1.1"));
    assert_eq!(ds.string(Tag(0x0010_0020)), Some("after"));
}

#[test]
fn inline_binary_and_bulk_data_in_every_spelling() {
    let ds = read(
        r#"<DicomAttribute tag="00431028" vr="OB"><InlineBinary>AAECAw==</InlineBinary></DicomAttribute>
           <DicomAttribute tag="00431029" vr="OB"><InlineBinary>AAEC
             Aw</InlineBinary></DicomAttribute>
           <DicomAttribute tag="7FE00010" vr="OW"><BulkData uri="http://host/bulk/1?a=1&amp;b=2"/></DicomAttribute>
           <DicomAttribute tag="00420011" vr="OB"><BulkData URI="/instances/abc/bulk/00420011"></BulkData></DicomAttribute>
           <DicomAttribute tag="00281201" vr="OW"><BulkData uuid="87eef640-e650-01f1-8f3c-3e22a5792f70"/></DicomAttribute>
           <DicomAttribute tag="00081030" vr="LO"><BulkData uri="http://host/bulk/2"/></DicomAttribute>"#,
    );
    let bytes = Value::InlineBinary(Bytes::from_static(&[0, 1, 2, 3]));
    assert_eq!(ds.get(Tag(0x0043_1028)).unwrap().value, bytes);
    assert_eq!(ds.get(Tag(0x0043_1029)).unwrap().value, bytes);
    let uri = |t: u32| ds.get(Tag(t)).unwrap().value.clone();
    assert_eq!(
        uri(0x7FE0_0010),
        Value::BulkDataUri("http://host/bulk/1?a=1&b=2".into())
    );
    assert_eq!(
        uri(0x0042_0011),
        Value::BulkDataUri("/instances/abc/bulk/00420011".into())
    );
    assert_eq!(
        uri(0x0028_1201),
        Value::BulkDataUri("urn:uuid:87eef640-e650-01f1-8f3c-3e22a5792f70".into())
    );
    assert_eq!(
        uri(0x0008_1030),
        Value::BulkDataUri("http://host/bulk/2".into())
    );
}

#[test]
fn numbers_keep_their_form() {
    let ds = read(
        r#"<DicomAttribute tag="00280030" vr="DS"><Value number="1">338.671600</Value><Value number="2"> +1e3 </Value></DicomAttribute>
           <DicomAttribute tag="00200013" vr="IS"><Value number="1">007</Value></DicomAttribute>
           <DicomAttribute tag="00280010" vr="US"><Value number="1">512</Value></DicomAttribute>
           <DicomAttribute tag="00189219" vr="SS"><Value number="1">-3</Value></DicomAttribute>
           <DicomAttribute tag="00720082" vr="UV"><Value number="1">18446744073709551615</Value></DicomAttribute>
           <DicomAttribute tag="00186028" vr="FD"><Value number="1">0.5</Value><Value number="2">NaN</Value><Value number="3">INF</Value><Value number="4">-INF</Value><Value number="5">-Infinity</Value></DicomAttribute>
           <DicomAttribute tag="00189305" vr="FL"><Value number="1">1.5E-3</Value></DicomAttribute>"#,
    );
    let numbers = |t: u32| match &ds.get(Tag(t)).unwrap().value {
        Value::Numbers(n) => n.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        numbers(0x0028_0030),
        [
            Some(Number::Text("338.671600".into())),
            Some(Number::Text("+1e3".into()))
        ]
    );
    assert_eq!(numbers(0x0020_0013), [Some(Number::Text("007".into()))]);
    assert_eq!(numbers(0x0028_0010), [Some(Number::Int(512))]);
    assert_eq!(numbers(0x0018_9219), [Some(Number::Int(-3))]);
    assert_eq!(numbers(0x0072_0082), [Some(Number::UInt(u64::MAX))]);
    let fd = numbers(0x0018_6028);
    assert_eq!(fd[0], Some(Number::Float(0.5)));
    assert!(matches!(fd[1], Some(Number::Float(v)) if v.is_nan()));
    assert_eq!(fd[2], Some(Number::Float(f64::INFINITY)));
    assert_eq!(fd[3], Some(Number::Float(f64::NEG_INFINITY)));
    assert_eq!(fd[4], Some(Number::Float(f64::NEG_INFINITY)));
    assert_eq!(numbers(0x0018_9305), [Some(Number::Float(1.5e-3))]);
}

#[test]
fn unparsable_binary_numbers_are_text_when_lenient_and_errors_when_strict() {
    let body =
        r#"<DicomAttribute tag="00280010" vr="US"><Value number="1">12.5</Value></DicomAttribute>"#;
    assert_eq!(
        read(body).get(Tag(0x0028_0010)).unwrap().value,
        Value::Numbers(vec![Some(Number::Text("12.5".into()))].into())
    );
    let err = read_err(body, &ReadOptions::strict()).to_string();
    assert!(
        err.contains("integer") && err.contains("12.5") && err.contains("(0028,0010)"),
        "{err}"
    );
}

#[test]
fn at_values_are_eight_hex_digits() {
    let ds = read(
        r#"<DicomAttribute tag="00209165" vr="AT"><Value number="1">0020000D</Value><Value number="2">7fe00010</Value></DicomAttribute>"#,
    );
    assert_eq!(
        ds.get(Tag(0x0020_9165)).unwrap().value,
        Value::Tags(vec![Some(Tag(0x0020_000D)), Some(Tag(0x7FE0_0010))].into())
    );
    let err = read_err(
        r#"<DicomAttribute tag="00209165" vr="AT"><Value number="1">PatientName</Value></DicomAttribute>"#,
        &ReadOptions::default(),
    );
    assert!(err.to_string().contains("PatientName"), "{err}");
}

#[test]
fn missing_vr_is_looked_up_when_lenient_and_refused_when_strict() {
    let body = r#"<DicomAttribute tag="00100010"><PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName></Alphabetic></PersonName></DicomAttribute>
                  <DicomAttribute tag="00280010"><Value number="1">64</Value></DicomAttribute>
                  <DicomAttribute tag="00990010"><Value number="1">ACME</Value></DicomAttribute>
                  <DicomAttribute tag="00991001"><InlineBinary>AA==</InlineBinary></DicomAttribute>"#;
    let ds = read(body);
    assert_eq!(ds.get(Tag(0x0010_0010)).unwrap().vr, Vr::PN);
    assert_eq!(ds.get(Tag(0x0028_0010)).unwrap().vr, Vr::US);
    assert_eq!(
        ds.get(Tag(0x0028_0010)).unwrap().value,
        Value::Numbers(vec![Some(Number::Int(64))].into())
    );
    assert_eq!(ds.get(Tag(0x0099_0010)).unwrap().vr, Vr::LO);
    assert_eq!(ds.get(Tag(0x0099_1001)).unwrap().vr, Vr::UN);
    let err = read_err(body, &ReadOptions::strict());
    assert!(matches!(&err, Error::Xml { .. }), "{err:?}");
    assert!(err.to_string().contains("no vr"), "{err}");
}

#[test]
fn keyword_stands_in_for_a_missing_tag_when_lenient() {
    let body = r#"<DicomAttribute keyword="PatientID" vr="LO"><Value number="1">7</Value></DicomAttribute>"#;
    assert_eq!(read(body).string(Tag(0x0010_0020)), Some("7"));
    assert!(
        read_err(body, &ReadOptions::strict())
            .to_string()
            .contains("no tag")
    );
}

#[test]
fn dcmtk_private_elements_find_their_block() {
    // dcm2xml writes (0043,1010) as tag="00430010" with privateCreator, next to the creator
    // element (0043,0010) itself, and (0009,1001) before its creator (0009,0010).
    let ds = read(
        r#"<DicomAttribute tag="00090001" vr="LO" privateCreator="GEMS_IDEN_01"><Value number="1">GE_GENESIS_FF</Value></DicomAttribute>
           <DicomAttribute tag="00090010" vr="LO"><Value number="1">GEMS_IDEN_01</Value></DicomAttribute>
           <DicomAttribute tag="00430010" vr="LO"><Value number="1">GEMS_PARM_01</Value></DicomAttribute>
           <DicomAttribute tag="00430011" vr="LO"><Value number="1">OTHER</Value></DicomAttribute>
           <DicomAttribute tag="00430010" vr="US" privateCreator="GEMS_PARM_01"><Value number="1">400</Value></DicomAttribute>
           <DicomAttribute tag="00430010" vr="US" privateCreator="OTHER"><Value number="1">401</Value></DicomAttribute>"#,
    );
    assert_eq!(ds.string(Tag(0x0009_1001)), Some("GE_GENESIS_FF"));
    assert_eq!(ds.string(Tag(0x0009_0010)), Some("GEMS_IDEN_01"));
    assert_eq!(ds.string(Tag(0x0043_0010)), Some("GEMS_PARM_01"));
    assert_eq!(
        ds.get(Tag(0x0043_1010)).unwrap().value,
        Value::Numbers(vec![Some(Number::Int(400))].into())
    );
    assert_eq!(
        ds.get(Tag(0x0043_1110)).unwrap().value,
        Value::Numbers(vec![Some(Number::Int(401))].into())
    );
    assert_eq!(ds.len(), 6);
}

#[test]
fn dcm4che_private_elements_without_creator_elements_gain_them() {
    // dcm4che leaves the creator elements out; the data set must still say who reserved what.
    let ds = read(
        r#"<DicomAttribute tag="00190010" vr="LO" privateCreator="ACME 1.0"><Value number="1">a</Value></DicomAttribute>
           <DicomAttribute tag="00190011" vr="LO" privateCreator="ACME 1.0"><Value number="1">b</Value></DicomAttribute>
           <DicomAttribute tag="00190001" vr="LO" privateCreator="SIEMENS CSA HEADER"><Value number="1">c</Value></DicomAttribute>
           <DicomAttribute tag="00191201" vr="LO" privateCreator="FULL TAG"><Value number="1">d</Value></DicomAttribute>"#,
    );
    assert_eq!(ds.string(Tag(0x0019_0010)), Some("ACME 1.0"));
    assert_eq!(ds.string(Tag(0x0019_1010)), Some("a"));
    assert_eq!(ds.string(Tag(0x0019_1011)), Some("b"));
    assert_eq!(ds.string(Tag(0x0019_0011)), Some("SIEMENS CSA HEADER"));
    assert_eq!(ds.string(Tag(0x0019_1101)), Some("c"));
    // A full tag keeps its block, and its creator element is added.
    assert_eq!(ds.string(Tag(0x0019_0012)), Some("FULL TAG"));
    assert_eq!(ds.string(Tag(0x0019_1201)), Some("d"));
    assert_eq!(ds.private_creator(Tag(0x0019_1201)), Some("FULL TAG"));
}

#[test]
fn private_creator_contradicting_the_creator_element_is_an_error_when_strict() {
    let body = r#"<DicomAttribute tag="00190010" vr="LO"><Value number="1">ACME</Value></DicomAttribute>
                  <DicomAttribute tag="00191001" vr="LO" privateCreator="NOT ACME"><Value number="1">x</Value></DicomAttribute>"#;
    assert_eq!(read(body).string(Tag(0x0019_1001)), Some("x"));
    let err = read_err(body, &ReadOptions::strict()).to_string();
    assert!(err.contains("NOT ACME"), "{err}");
}

/// dcm2xml's own style: ISO-8859-1 declared, Latin-1 bytes, no indentation, `xml:space`.
#[test]
fn dcm2xml_latin1_document() {
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n\
<NativeDicomModel xml:space=\"preserve\" xmlns=\"http://dicom.nema.org/PS3.19/models/NativeDICOM\">\n\
<DicomAttribute tag=\"00080005\" vr=\"CS\" keyword=\"SpecificCharacterSet\">\n\
<Value number=\"1\">ISO_IR 100</Value>\n\
</DicomAttribute>\n\
<DicomAttribute tag=\"00080050\" vr=\"SH\" keyword=\"AccessionNumber\">\n\
</DicomAttribute>\n\
<DicomAttribute tag=\"00100010\" vr=\"PN\" keyword=\"PatientName\">\n\
<PersonName number=\"1\">\n\
<Alphabetic>\n\
<FamilyName>Riesmeier</FamilyName>\n\
<GivenName>J"
        .to_vec();
    bytes.push(0xF6); // ö in ISO-8859-1
    bytes.extend_from_slice(
        b"rg</GivenName>\n\
</Alphabetic>\n\
</PersonName>\n\
</DicomAttribute>\n\
<DicomAttribute tag=\"00280030\" vr=\"DS\" keyword=\"PixelSpacing\">\n\
<Value number=\"1\">0.661468</Value>\n\
<Value number=\"2\">0.661468</Value>\n\
</DicomAttribute>\n\
<DicomAttribute tag=\"7FE00010\" vr=\"OW\" keyword=\"PixelData\">\n\
<BulkData uuid=\"87fe05a4-e650-01f1-872d-4c94e82423dc\"/>\n\
</DicomAttribute>\n\
</NativeDicomModel>\n",
    );
    let ds = xml::read(&bytes, &ReadOptions::strict()).unwrap();
    assert_eq!(
        ds.get(Tag(0x0010_0010)).unwrap().value,
        Value::PersonNames(vec![Some(PersonName::alphabetic("Riesmeier^Jörg"))])
    );
    assert_eq!(ds.get(Tag(0x0008_0050)).unwrap().value, Value::Empty);
    assert_eq!(ds.string(Tag(0x0028_0030)), Some("0.661468"));
    assert_eq!(ds.len(), 5);
}

#[test]
fn utf16_document_with_byte_order_mark() {
    let text = doc(r#"<DicomAttribute tag="00100020" vr="LO"><Value number="1">Ünïcødé</Value></DicomAttribute>"#)
        .replace("UTF-8", "UTF-16");
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    let ds = xml::read(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(ds.string(Tag(0x0010_0020)), Some("Ünïcødé"));
}

#[test]
fn namespace_prefixes_comments_and_empty_root() {
    let prefixed = r#"<?xml version="1.0"?><!-- made by hand -->
        <n:NativeDicomModel xmlns:n="http://dicom.nema.org/PS3.19/models/NativeDICOM">
          <n:DicomAttribute tag="00100020" vr="LO"><n:Value number="1">P<!-- split -->1</n:Value></n:DicomAttribute>
          <?pi ignored?>
        </n:NativeDicomModel>"#;
    let ds = xml::read(prefixed.as_bytes(), &ReadOptions::strict()).unwrap();
    assert_eq!(ds.string(Tag(0x0010_0020)), Some("P1"));
    let empty = xml::read(b"<NativeDicomModel/>", &ReadOptions::strict()).unwrap();
    assert!(empty.is_empty());
}

#[test]
fn unknown_elements_are_skipped_when_lenient_and_refused_when_strict() {
    let body = r#"<Extension><Deep><DicomAttribute tag="00100020" vr="LO"/></Deep></Extension>
                  <DicomAttribute tag="00100010" vr="PN"><PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName><Nickname>J</Nickname></Alphabetic></PersonName></DicomAttribute>"#;
    let ds = read(body);
    assert_eq!(ds.len(), 1);
    assert_eq!(
        ds.get(Tag(0x0010_0010)).unwrap().value,
        Value::PersonNames(vec![Some(PersonName::alphabetic("Doe"))])
    );
    let err = read_err(body, &ReadOptions::strict()).to_string();
    assert!(err.contains("<Extension>"), "{err}");
}

/// Orthanc's style: indented, `xsi:schemaLocation`, `BulkData URI=`, and an empty
/// `<Value number="1" />` between the items of a sequence.
#[test]
fn orthanc_document() {
    let doc = r#"<?xml version="1.0" encoding="utf-8"?>
<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM" xsi:schemaLocation="http://dicom.nema.org/PS3.19/models/NativeDICOM" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <DicomAttribute tag="00101002" vr="SQ" keyword="OtherPatientIDsSequence">
    <Item number="1">
      <DicomAttribute tag="00100020" vr="LO" keyword="PatientID">
        <Value number="1">ABCD1234</Value>
      </DicomAttribute>
    </Item>
    <Value number="1" />
    <Item number="2">
      <DicomAttribute tag="00100020" vr="LO" keyword="PatientID">
        <Value number="1">1234ABCD</Value>
      </DicomAttribute>
    </Item>
  </DicomAttribute>
  <DicomAttribute tag="00431028" vr="OB">
    <BulkData URI="http://127.0.0.1:8042/dicom-web/studies/1.2/series/1.3/instances/1.4/bulk/00431028" />
  </DicomAttribute>
</NativeDicomModel>
"#;
    let ds = xml::read(doc.as_bytes(), &ReadOptions::default()).unwrap();
    let Value::Items(items) = &ds.get(Tag(0x0010_1002)).unwrap().value else {
        panic!("not a sequence");
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].string(Tag(0x0010_0020)), Some("1234ABCD"));
    assert_eq!(
        ds.get(Tag(0x0043_1028)).unwrap().value,
        Value::BulkDataUri(
            "http://127.0.0.1:8042/dicom-web/studies/1.2/series/1.3/instances/1.4/bulk/00431028"
                .into()
        )
    );
    // The stray empty value is not standard: strict mode says so.
    let err = xml::read(doc.as_bytes(), &ReadOptions::strict())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("(0010,1002)") && err.contains("Orthanc"),
        "{err}"
    );
}
