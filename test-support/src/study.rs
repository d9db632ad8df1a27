//! Deterministic DICOM studies for tests, benchmarks and the main job: Part 10 files (explicit VR
//! little endian) with a full meta group and a 16-bit grayscale image, single- or multi-frame,
//! that a real Orthanc accepts, indexes, renders and serves frames of.
//!
//! Everything follows from the seed: UIDs (`2.25.<decimal>` form, PS3.5 B.2), pixel values,
//! sizes. [`StudySpec::instances`] is lazy, so a study of any size never sits in memory.
//!
//! ```
//! use test_support::study::StudySpec;
//!
//! let spec = StudySpec { frames: 2, ..StudySpec::new(1) };
//! let first = spec.instances().next().expect("one instance at least");
//! assert_eq!(first.bytes.len() as u64, spec.instance_bytes());
//! assert_eq!(&first.bytes[128..132], b"DICM");
//! assert_eq!(spec.instances().count(), 6);
//! ```

use std::io;
use std::path::{Path, PathBuf};

const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";
const MULTI_FRAME_GRAYSCALE_WORD_SC: &str = "1.2.840.10008.5.1.4.1.1.7.3";
const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";
const IMPLEMENTATION_CLASS_UID: &str = "1.2.826.0.1.3680043.10.1406.1";
const IMPLEMENTATION_VERSION: &str = "DICOMWEB_RS";

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudySpec {
    /// Everything derives from it.
    pub seed: u64,
    /// Patient ID (0010,0020).
    pub patient_id: String,
    /// Patient's Name (0010,0010).
    pub patient_name: String,
    /// Number of series.
    pub series: u32,
    /// Instances in each series.
    pub instances_per_series: u32,
    /// Image rows.
    pub rows: u16,
    /// Image columns.
    pub columns: u16,
    /// Frames per instance (more than one makes a Multi-frame Grayscale Word SC instance).
    pub frames: u32,
    /// Study Date (0008,0020), `YYYYMMDD`.
    pub study_date: String,
    /// Modality (0008,0060).
    pub modality: String,
}

/// One generated instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedInstance {
    /// Series number, from 1.
    pub series: u32,
    /// Instance number within its series, from 1.
    pub instance: u32,
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// The Part 10 file.
    pub bytes: Vec<u8>,
}

impl StudySpec {
    /// Small defaults: 2 series of 3 instances, 64 × 64, one frame, modality `OT`.
    pub fn new(seed: u64) -> StudySpec {
        StudySpec {
            seed,
            patient_id: format!("PAT-{seed}"),
            patient_name: format!("GENERATED^PATIENT^{seed}"),
            series: 2,
            instances_per_series: 3,
            rows: 64,
            columns: 64,
            frames: 1,
            study_date: "20260102".to_owned(),
            modality: "OT".to_owned(),
        }
    }

    /// The same study with enough instances per series that it holds at least `bytes`.
    pub fn with_total_bytes(mut self, bytes: u64) -> StudySpec {
        let per_series = bytes.div_ceil(self.instance_bytes() * u64::from(self.series.max(1)));
        self.instances_per_series = u32::try_from(per_series.max(1)).unwrap_or(u32::MAX);
        self
    }

    /// Study Instance UID.
    pub fn study_uid(&self) -> String {
        uid(&[self.seed, 0, 0])
    }

    /// Series Instance UID of series `series` (from 1).
    pub fn series_uid(&self, series: u32) -> String {
        uid(&[self.seed, u64::from(series), 0])
    }

    /// SOP Instance UID of instance `instance` (from 1) of series `series` (from 1).
    pub fn sop_instance_uid(&self, series: u32, instance: u32) -> String {
        uid(&[self.seed, u64::from(series), u64::from(instance)])
    }

    /// How many instances the study holds.
    pub fn instance_count(&self) -> u64 {
        u64::from(self.series) * u64::from(self.instances_per_series)
    }

    /// The size of the first file; the others differ by a few bytes at most (numbers in
    /// their text attributes grow).
    pub fn instance_bytes(&self) -> u64 {
        self.file_bytes(1, 1)
    }

    /// The size of one file.
    pub fn file_bytes(&self, series: u32, instance: u32) -> u64 {
        self.instance(series, instance, false).bytes.len() as u64 + self.pixel_bytes() as u64
    }

    /// The whole study's size, exactly (computed without generating any pixels).
    pub fn total_bytes(&self) -> u64 {
        (1..=self.series)
            .flat_map(|s| (1..=self.instances_per_series).map(move |i| (s, i)))
            .map(|(s, i)| self.file_bytes(s, i))
            .sum()
    }

    /// The instances, generated one at a time, series by series.
    pub fn instances(&self) -> impl Iterator<Item = GeneratedInstance> + '_ {
        (1..=self.series).flat_map(move |series| {
            (1..=self.instances_per_series)
                .map(move |instance| self.instance(series, instance, true))
        })
    }

    /// Writes every instance to `dir` (created if needed) as `<SOPInstanceUID>.dcm`.
    pub fn write_to(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut paths = Vec::new();
        for instance in self.instances() {
            let path = dir.join(format!("{}.dcm", instance.sop_instance_uid));
            std::fs::write(&path, &instance.bytes)?;
            paths.push(path);
        }
        Ok(paths)
    }

    fn pixel_bytes(&self) -> usize {
        usize::from(self.rows) * usize::from(self.columns) * 2 * self.frames.max(1) as usize
    }

    fn sop_class(&self) -> &'static str {
        if self.frames > 1 {
            MULTI_FRAME_GRAYSCALE_WORD_SC
        } else {
            SECONDARY_CAPTURE
        }
    }

    /// One instance; without pixels when `pixels` is false (to measure the rest).
    fn instance(&self, series: u32, instance: u32, pixels: bool) -> GeneratedInstance {
        let study_uid = self.study_uid();
        let series_uid = self.series_uid(series);
        let sop = self.sop_instance_uid(series, instance);
        let sop_class = self.sop_class();

        let mut meta = Vec::with_capacity(256);
        element(&mut meta, 0x0002, 0x0001, b"OB", &[0, 1]);
        element(&mut meta, 0x0002, 0x0002, b"UI", sop_class.as_bytes());
        element(&mut meta, 0x0002, 0x0003, b"UI", sop.as_bytes());
        element(
            &mut meta,
            0x0002,
            0x0010,
            b"UI",
            EXPLICIT_VR_LITTLE_ENDIAN.as_bytes(),
        );
        element(
            &mut meta,
            0x0002,
            0x0012,
            b"UI",
            IMPLEMENTATION_CLASS_UID.as_bytes(),
        );
        element(
            &mut meta,
            0x0002,
            0x0013,
            b"SH",
            IMPLEMENTATION_VERSION.as_bytes(),
        );

        let pixel_len = self.pixel_bytes();
        let mut out = file_head(&meta, 1024 + if pixels { pixel_len } else { 0 });

        let text = |s: &str| s.as_bytes().to_vec();
        let us = |v: u16| v.to_le_bytes().to_vec();
        let mut elements: Vec<(u16, u16, &[u8; 2], Vec<u8>)> = vec![
            (0x0008, 0x0005, b"CS", text("ISO_IR 192")),
            (0x0008, 0x0008, b"CS", text("DERIVED\\SECONDARY")),
            (0x0008, 0x0016, b"UI", text(sop_class)),
            (0x0008, 0x0018, b"UI", text(&sop)),
            (0x0008, 0x0020, b"DA", text(&self.study_date)),
            (0x0008, 0x0030, b"TM", text("101500")),
            (
                0x0008,
                0x0050,
                b"SH",
                text(&format!("ACC{}", self.seed % 1_000_000)),
            ),
            (0x0008, 0x0060, b"CS", text(&self.modality)),
            (0x0008, 0x0064, b"CS", text("WSD")),
            (0x0008, 0x0090, b"PN", text("")),
            (
                0x0008,
                0x1030,
                b"LO",
                text(&format!("Generated study {}", self.seed)),
            ),
            (
                0x0008,
                0x103E,
                b"LO",
                text(&format!("Generated series {series}")),
            ),
            (0x0010, 0x0010, b"PN", text(&self.patient_name)),
            (0x0010, 0x0020, b"LO", text(&self.patient_id)),
            (0x0010, 0x0030, b"DA", text("19700101")),
            (0x0010, 0x0040, b"CS", text("O")),
            (0x0020, 0x000D, b"UI", text(&study_uid)),
            (0x0020, 0x000E, b"UI", text(&series_uid)),
            (
                0x0020,
                0x0010,
                b"SH",
                text(&format!("S{}", self.seed % 100_000)),
            ),
            (0x0020, 0x0011, b"IS", text(&series.to_string())),
            (0x0020, 0x0013, b"IS", text(&instance.to_string())),
            (0x0020, 0x0020, b"CS", text("")),
            (0x0028, 0x0002, b"US", us(1)),
            (0x0028, 0x0004, b"CS", text("MONOCHROME2")),
        ];
        if self.frames > 1 {
            elements.push((0x0028, 0x0008, b"IS", text(&self.frames.to_string())));
            // Frame Increment Pointer → Frame Time (0018,1063).
            elements.push((0x0028, 0x0009, b"AT", vec![0x18, 0x00, 0x63, 0x10]));
            elements.insert(0, (0x0018, 0x1063, b"DS", text("40")));
            elements.sort_by_key(|(g, e, _, _)| (*g, *e));
        }
        elements.extend([
            (0x0028, 0x0010, b"US", us(self.rows)),
            (0x0028, 0x0011, b"US", us(self.columns)),
            (0x0028, 0x0100, b"US", us(16)),
            (0x0028, 0x0101, b"US", us(12)),
            (0x0028, 0x0102, b"US", us(11)),
            (0x0028, 0x0103, b"US", us(0)),
        ]);
        for (group, elem, vr, value) in &elements {
            element(&mut out, *group, *elem, vr, value);
        }
        // Pixel Data (7FE0,0010) OW, last: its value ends the file.
        out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0]);
        out.extend_from_slice(&(pixel_len as u32).to_le_bytes());
        if pixels {
            let start = out.len();
            out.resize(start + pixel_len, 0);
            fill_pixels(
                &mut out[start..],
                mix(&[self.seed, u64::from(series), u64::from(instance), 7]),
                usize::from(self.columns),
            );
        }
        GeneratedInstance {
            series,
            instance,
            study_uid,
            series_uid,
            sop_instance_uid: sop,
            bytes: out,
        }
    }
}

/// A Part 10 file's start: the 128-byte preamble, `DICM`, the group length (0002,0000) and
/// the rest of the meta group `meta`, in a buffer with room for `more` bytes.
pub(crate) fn file_head(meta: &[u8], more: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + 4 + 12 + meta.len() + more);
    out.resize(128, 0);
    out.extend_from_slice(b"DICM");
    element(
        &mut out,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    out.extend_from_slice(meta);
    out
}

/// Writes one element, explicit VR little endian, padding odd values (UI with NUL, text with
/// a space, binary with 0).
pub(crate) fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let odd = value.len() % 2 == 1;
    let len = value.len() + usize::from(odd);
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT" | b"UC" | b"UR") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(len as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
    if odd {
        out.push(if matches!(vr, b"UI" | b"OB") { 0 } else { b' ' });
    }
}

/// 12-bit pixel values: a gradient with deterministic noise, 8 bytes of randomness per 4 pixels
/// (xorshift), so 400 MB take well under a second per 100 MB.
fn fill_pixels(pixels: &mut [u8], seed: u64, columns: usize) {
    let mut state = seed | 1;
    let row_bytes = columns.max(1) * 2;
    for (i, chunk) in pixels.chunks_mut(8).enumerate() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let column = (i * 8 % row_bytes) / 2;
        for (k, pair) in chunk.chunks_mut(2).enumerate() {
            let noise = ((state >> (k * 16)) & 0x1FF) as usize;
            let value = ((column + k) * 4095 / columns.max(1) + noise).min(4095) as u16;
            pair.copy_from_slice(&value.to_le_bytes()[..pair.len()]);
        }
    }
}

/// A `2.25.<decimal>` UID from these numbers (a 128-bit value, as PS3.5 B.2 allows).
fn uid(parts: &[u64]) -> String {
    let high = mix(parts);
    let low = mix(&[high, parts.len() as u64, 0x5EED]);
    // Always 38 digits, so every UID (and file) of a study has the same length.
    const FLOOR: u128 = 10u128.pow(37);
    let value = FLOOR + (u128::from(high) << 64 | u128::from(low)) % (9 * FLOOR);
    format!("2.25.{value}")
}

/// SplitMix64 over the parts.
fn mix(parts: &[u64]) -> u64 {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for &part in parts {
        state = state.wrapping_add(part).wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        state = z ^ (z >> 31);
    }
    state
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_uids() {
        let a: Vec<_> = StudySpec::new(5).instances().collect();
        let b: Vec<_> = StudySpec::new(5).instances().collect();
        assert_eq!(a, b);
        let c = StudySpec::new(6);
        assert_ne!(c.study_uid(), StudySpec::new(5).study_uid());
        let mut uids: Vec<_> = a.iter().map(|i| i.sop_instance_uid.clone()).collect();
        uids.sort();
        uids.dedup();
        assert_eq!(uids.len(), 6);
        for uid in &uids {
            assert!(uid.len() == 43 && uid.starts_with("2.25."), "{uid}");
            assert!(!uid[5..].starts_with('0'), "{uid}");
        }
    }

    #[test]
    fn sizes_are_as_announced() {
        let spec = StudySpec {
            rows: 30,
            columns: 17,
            frames: 3,
            ..StudySpec::new(1)
        };
        let mut total = 0;
        for instance in spec.instances() {
            let size = instance.bytes.len() as u64;
            assert_eq!(size, spec.file_bytes(instance.series, instance.instance));
            assert_eq!(size % 2, 0);
            total += size;
        }
        assert_eq!(total, spec.total_bytes());
        let big = StudySpec {
            series: 3,
            ..StudySpec::new(2)
        }
        .with_total_bytes(1_000_000);
        assert_eq!(
            big.instances_per_series,
            1_000_000u64.div_ceil(3 * big.instance_bytes()) as u32
        );
        assert!(big.total_bytes() >= 1_000_000);
        assert!(
            big.instances().count() >= 12,
            "instances of about 8 KiB each"
        );
    }

    #[test]
    fn write_to_names_files_by_uid() {
        let dir = tempfile::tempdir().unwrap();
        let spec = StudySpec::new(3);
        let paths = spec.write_to(dir.path()).unwrap();
        assert_eq!(paths.len(), 6);
        let first = spec.instances().next().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join(format!("{}.dcm", first.sop_instance_uid))).unwrap(),
            first.bytes
        );
    }
}
