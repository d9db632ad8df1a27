//! Specific Character Set (0008,0005) decoding, ISO 2022 code extensions included (PS3.5 6.1).
//!
//! dicom-rs 0.10 decodes text with the first value of Specific Character Set only and keeps
//! ISO 2022 escape sequences in the text, which garbles Japanese, Korean and Chinese names.
//! So the Part 10 reader hides every Specific Character Set from dicom-rs (which then decodes
//! all text as ISO 8859-1, a reversible mapping of bytes to characters), takes the bytes back,
//! and decodes them here with the declared character set, item by item.

use encoding_rs::Encoding;

/// The character set that governs a data set (or a sequence item, which may declare its own).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Charset {
    /// The defined terms, in order; the first is the initial one.
    terms: Vec<String>,
}

/// How one code element decodes bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Element {
    /// ASCII (ISO-IR 6) or JIS X 0201 Romaji (ISO-IR 14) in G0.
    Ascii,
    /// A single-byte upper half in G1 (ISO 8859 parts, JIS X 0201 Katakana, TIS 620).
    Upper(Single),
    /// JIS X 0208 (ISO-IR 87) in G0: two 7-bit bytes.
    Jis0208,
    /// JIS X 0212 (ISO-IR 159) in G0: two 7-bit bytes.
    Jis0212,
    /// KS X 1001 (ISO-IR 149) in G1: two 8-bit bytes.
    Ksx1001,
    /// GB 2312 (ISO-IR 58) in G1: two 8-bit bytes.
    Gb2312,
}

/// A single-byte upper half.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Single {
    Latin1,
    Katakana,
    Table(&'static Encoding),
}

/// A whole-value encoding, for character sets without code extensions.
enum Whole {
    Utf8,
    Latin1,
    Other(&'static Encoding),
    Iso2022,
}

impl Charset {
    /// The character set of these (0008,0005) values.
    #[cfg(test)]
    fn new(values: &[Option<String>]) -> Charset {
        Charset {
            terms: values
                .iter()
                .map(|v| v.as_deref().unwrap_or("").trim().to_owned())
                .collect(),
        }
    }

    /// The character set declared by the raw bytes of a (0008,0005) value.
    pub(super) fn from_bytes(bytes: &[u8]) -> Charset {
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        Charset {
            terms: text
                .split('\\')
                .map(|t| t.trim_matches([' ', '\0']).to_owned())
                .collect(),
        }
    }

    /// The defined terms, as (0008,0005) values: empty terms are `None`.
    pub(super) fn values(&self) -> Vec<Option<String>> {
        self.terms
            .iter()
            .map(|t| (!t.is_empty()).then(|| t.clone()))
            .collect()
    }

    /// Decodes the bytes of a text value; multi-valued VRs are split at backslashes that are
    /// delimiters (not bytes of a multi-byte character).
    pub(super) fn decode(&self, bytes: &[u8], multi_valued: bool) -> Vec<String> {
        match self.whole() {
            Whole::Iso2022 => Iso2022::new(self).decode(bytes, multi_valued),
            whole => {
                let text = match whole {
                    Whole::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
                    Whole::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
                    Whole::Other(encoding) => {
                        encoding.decode_without_bom_handling(bytes).0.into_owned()
                    }
                    Whole::Iso2022 => String::new(),
                };
                if multi_valued {
                    text.split('\\').map(str::to_owned).collect()
                } else {
                    vec![text]
                }
            }
        }
    }

    fn whole(&self) -> Whole {
        let first = self.terms.first().map_or("", String::as_str);
        if self.terms.len() > 1 || first.starts_with("ISO 2022") {
            return Whole::Iso2022;
        }
        match first {
            "ISO_IR 192" => Whole::Utf8,
            "GB18030" => Whole::Other(encoding_rs::GB18030),
            "GBK" => Whole::Other(encoding_rs::GBK),
            "ISO_IR 13" => Whole::Other(encoding_rs::SHIFT_JIS),
            "" | "ISO_IR 6" | "ISO_IR 100" => Whole::Latin1,
            term => match single_byte(term.trim_start_matches("ISO_IR ")) {
                Some(Single::Table(encoding)) => Whole::Other(encoding),
                _ => Whole::Latin1,
            },
        }
    }
}

/// The ISO 8859 part (or other single-byte set) of an ISO-IR number.
fn single_byte(number: &str) -> Option<Single> {
    Some(match number {
        "100" => Single::Latin1,
        "101" => Single::Table(encoding_rs::ISO_8859_2),
        "109" => Single::Table(encoding_rs::ISO_8859_3),
        "110" => Single::Table(encoding_rs::ISO_8859_4),
        "144" => Single::Table(encoding_rs::ISO_8859_5),
        "127" => Single::Table(encoding_rs::ISO_8859_6),
        "126" => Single::Table(encoding_rs::ISO_8859_7),
        "138" => Single::Table(encoding_rs::ISO_8859_8),
        "148" => Single::Table(encoding_rs::WINDOWS_1254),
        "203" => Single::Table(encoding_rs::ISO_8859_15),
        "166" => Single::Table(encoding_rs::WINDOWS_874),
        "13" => Single::Katakana,
        _ => return None,
    })
}

/// An ISO 2022 decoder: G0 and G1 switched by escape sequences, reset to the initial code
/// elements at value, component-group and line delimiters (PS3.5 6.1.2.5.3).
struct Iso2022 {
    initial: (Element, Element),
    g0: Element,
    g1: Element,
}

impl Iso2022 {
    fn new(charset: &Charset) -> Iso2022 {
        let first = charset.terms.first().map_or("", String::as_str);
        let number = first.rsplit(' ').next().unwrap_or("");
        let g1 = match number {
            "149" => Element::Ksx1001,
            "58" => Element::Gb2312,
            n => single_byte(n).map_or(Element::Upper(Single::Latin1), Element::Upper),
        };
        Iso2022 {
            initial: (Element::Ascii, g1),
            g0: Element::Ascii,
            g1,
        }
    }

    fn reset(&mut self) {
        (self.g0, self.g1) = self.initial;
    }

    fn decode(mut self, bytes: &[u8], multi_valued: bool) -> Vec<String> {
        let mut values = vec![String::new()];
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == 0x1B {
                i += self.escape(&bytes[i + 1..]) + 1;
                continue;
            }
            let out = match values.last_mut() {
                Some(out) => out,
                None => break,
            };
            if b < 0x80 {
                match self.g0 {
                    Element::Jis0208 | Element::Jis0212 if b > 0x20 => {
                        let pair = [b | 0x80, bytes.get(i + 1).copied().unwrap_or(0x21) | 0x80];
                        let decoded = if self.g0 == Element::Jis0212 {
                            decode(encoding_rs::EUC_JP, &[0x8F, pair[0], pair[1]])
                        } else {
                            decode(encoding_rs::EUC_JP, &pair)
                        };
                        out.push_str(&decoded);
                        i += 2;
                        continue;
                    }
                    _ => {
                        if matches!(b, b'\r' | b'\n' | b'\t' | 0x0C | b'^' | b'=') {
                            self.reset();
                        }
                        if b == b'\\' && multi_valued {
                            self.reset();
                            values.push(String::new());
                        } else {
                            out.push(char::from(b));
                        }
                    }
                }
                i += 1;
                continue;
            }
            match self.g1 {
                Element::Ksx1001 | Element::Gb2312 => {
                    let pair = [b, bytes.get(i + 1).copied().unwrap_or(0xA1)];
                    let encoding = if self.g1 == Element::Ksx1001 {
                        encoding_rs::EUC_KR
                    } else {
                        encoding_rs::GBK
                    };
                    out.push_str(&decode(encoding, &pair));
                    i += 2;
                }
                Element::Upper(Single::Latin1)
                | Element::Ascii
                | Element::Jis0208
                | Element::Jis0212 => {
                    out.push(char::from(b));
                    i += 1;
                }
                Element::Upper(Single::Katakana) => {
                    out.push_str(&decode(encoding_rs::SHIFT_JIS, &[b]));
                    i += 1;
                }
                Element::Upper(Single::Table(encoding)) => {
                    out.push_str(&decode(encoding, &[b]));
                    i += 1;
                }
            }
        }
        values
    }

    /// Applies the escape sequence at the start of `rest` (after ESC); returns its length.
    fn escape(&mut self, rest: &[u8]) -> usize {
        let upper = |final_byte: u8| {
            let number = match final_byte {
                b'A' => "100",
                b'B' => "101",
                b'C' => "109",
                b'D' => "110",
                b'L' => "144",
                b'G' => "127",
                b'F' => "126",
                b'H' => "138",
                b'M' => "148",
                b'b' => "203",
                b'T' => "166",
                _ => return None,
            };
            single_byte(number)
        };
        match rest {
            [b'(', b'B' | b'J', ..] => {
                self.g0 = Element::Ascii;
                2
            }
            [b')', b'I', ..] => {
                self.g1 = Element::Upper(Single::Katakana);
                2
            }
            [b'-', f, ..] => {
                if let Some(single) = upper(*f) {
                    self.g1 = Element::Upper(single);
                }
                2
            }
            [b'$', b'B' | b'@', ..] => {
                self.g0 = Element::Jis0208;
                2
            }
            [b'$', b'(', b'D', ..] => {
                self.g0 = Element::Jis0212;
                3
            }
            [b'$', b')', b'C', ..] => {
                self.g1 = Element::Ksx1001;
                3
            }
            [b'$', b')', b'A', ..] => {
                self.g1 = Element::Gb2312;
                3
            }
            // An unknown escape sequence: skip just the ESC, keeping what follows as text.
            _ => 0,
        }
    }
}

fn decode(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charset(terms: &[&str]) -> Charset {
        Charset::new(
            &terms
                .iter()
                .map(|t| Some((*t).to_owned()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn decodes_single_byte_and_unicode_sets() {
        assert_eq!(
            charset(&["ISO_IR 100"]).decode(b"Buc^J\xe9r\xf4me", false),
            ["Buc^Jérôme"]
        );
        let russian = b"\xbb\xee\xda\xe1\xd5\xdc\xd1\xe3\xe0\xd3";
        assert_eq!(
            charset(&["ISO_IR 144"]).decode(russian, false),
            ["Люксембург"]
        );
        assert_eq!(
            charset(&["ISO_IR 192"]).decode("Wang^XiaoDong=王^小東".as_bytes(), true),
            ["Wang^XiaoDong=王^小東"]
        );
        assert_eq!(charset(&[]).decode(b"A\\B", true), ["A", "B"]);
    }

    #[test]
    fn decodes_iso_2022_code_extensions() {
        // Korean (PS3.5 Annex I): KS X 1001 in G1.
        let korean = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf";
        assert_eq!(
            charset(&["", "ISO 2022 IR 149"]).decode(korean, false),
            ["Hong^Gildong=洪^吉洞=홍^길동"]
        );
        // Japanese (PS3.5 Annex H): JIS X 0208 in G0, back to ASCII before delimiters.
        let japanese =
            b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B";
        assert_eq!(
            charset(&["", "ISO 2022 IR 87"]).decode(japanese, false),
            ["Yamada^Tarou=山田^太郎=やまだ^たろう"]
        );
        // A backslash inside a two-byte G0 character is not a value delimiter.
        let two = b"\x1b$B%\\\x1b(B\\x";
        assert_eq!(charset(&["", "ISO 2022 IR 87"]).decode(two, true).len(), 2);
    }
}
